//! The `salus` command: a dev chain in one command, and chain verification.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use salus_node::mining::{SearchOutcome, search_nonce};
use salus_node::{Chain, GenesisConfig, Store, verify, wall_clock_ms};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

/// Salus: a WebAssembly smart-contract platform for healthcare on a proof-of-work ledger.
#[derive(Parser)]
#[command(name = "salus", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a single-node development chain with funded dev accounts.
    ///
    /// The chain lives in a data directory (default ~/.salus/dev) and continues where it stopped
    /// when started again. Dev accounts come from the public test mnemonic
    /// "test test … junk": never use them on a real network.
    ///
    /// Example: salus dev --block-time-ms 500
    Dev {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Milliseconds between blocks.
        #[arg(long, default_value_t = 1_000)]
        block_time_ms: u64,
        /// Threads searching nonces.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Stop after mining this many blocks (default: run until interrupted).
        #[arg(long)]
        blocks: Option<u64>,
    },
    /// Import blocks from a file (SCALE-encoded `Vec<Block>`), printing one line per block.
    ///
    /// Blocks already stored are skipped, so an interrupted import can simply be run again.
    ///
    /// Example: salus import-blocks --data-dir ./chain blocks.scale
    ImportBlocks {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: PathBuf,
        /// Genesis file (JSON); default: the dev chain's genesis.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// The file of blocks.
        file: PathBuf,
    },
    /// Re-check every stored block (hashes, links, proof of work, roots, re-execution) and the
    /// head state; names the first block that fails.
    ///
    /// Example: salus verify-chain --data-dir ~/.salus/dev
    VerifyChain {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: PathBuf,
    },
}

fn default_dev_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set; pass --data-dir")?;
    Ok(PathBuf::from(home).join(".salus").join("dev"))
}

fn main() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    match Cli::parse().command {
        Command::Dev {
            data_dir,
            block_time_ms,
            threads,
            blocks,
        } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => default_dev_dir()?,
            };
            run_dev(data_dir, block_time_ms, threads, blocks)
        }
        Command::ImportBlocks {
            data_dir,
            genesis,
            file,
        } => import_blocks(&data_dir, genesis.as_deref(), &file),
        Command::VerifyChain { data_dir } => {
            let store = Store::open_read_only(&data_dir)
                .with_context(|| format!("opening {}", data_dir.display()))?;
            match verify::verify_chain(&store) {
                Ok(report) => {
                    println!(
                        "chain ok: {} blocks, {} transactions re-executed, {} state entries match the state root; head {}",
                        report.blocks, report.transactions, report.state_entries, report.head
                    );
                    Ok(())
                }
                Err(error) => bail!("verify-chain: {error}"),
            }
        }
    }
}

fn import_blocks(
    data_dir: &std::path::Path,
    genesis: Option<&std::path::Path>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use parity_scale_codec::Decode;
    use std::io::Write;
    let config = match genesis {
        Some(path) => GenesisConfig::load(path)?,
        None => GenesisConfig::dev(),
    };
    let genesis = config.build()?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let blocks = Vec::<salus_primitives::Block>::decode(&mut &bytes[..])
        .with_context(|| format!("{} is not a SCALE-encoded list of blocks", file.display()))?;
    std::fs::create_dir_all(data_dir)?;
    let store = Store::open(data_dir).with_context(|| format!("opening {}", data_dir.display()))?;
    let mut chain = Chain::open(store, &genesis)?;
    let mut stdout = std::io::stdout().lock();
    for block in blocks {
        let number = block.header.number;
        let outcome = chain
            .import_block(block, wall_clock_ms())
            .with_context(|| format!("importing block {number}"))?;
        writeln!(
            stdout,
            "block {number}: {outcome:?}; head {}",
            chain.head().header.number
        )?;
        stdout.flush()?;
    }
    Ok(())
}

fn run_dev(
    data_dir: PathBuf,
    block_time_ms: u64,
    threads: usize,
    blocks: Option<u64>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let genesis = GenesisConfig::dev()
        .build()
        .context("building the dev genesis")?;
    let store =
        Store::open(&data_dir).with_context(|| format!("opening {}", data_dir.display()))?;
    let mut chain = Chain::open(store, &genesis).context("opening the chain")?;

    println!("Salus dev chain (chain id {})", genesis.params.chain_id);
    println!("Data directory: {}", data_dir.display());
    println!("Mnemonic: {DEV_MNEMONIC}");
    println!("Accounts (public test keys, funded at genesis; never use them on a real network):");
    for index in 0..salus_node::genesis::DEV_ACCOUNT_COUNT {
        let key = derive_key(DEV_MNEMONIC, index).context("deriving dev keys")?;
        println!(
            "  ({index}) {}  key 0x{}",
            key.address(),
            hex::encode(key.to_bytes())
        );
    }
    println!(
        "Head: block {} {}  (blocks every {block_time_ms} ms; Ctrl-C to stop)",
        chain.head().header.number,
        chain.head().hash
    );

    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
    let miner = derive_key(DEV_MNEMONIC, 0)?.address();
    let mut mined = 0u64;
    while !stop.load(Ordering::Relaxed) && blocks.is_none_or(|limit| mined < limit) {
        let started = Instant::now();
        let template = chain.build_block(miner, wall_clock_ms(), &[])?;
        match search_nonce(&template.block.header, threads, &stop)? {
            SearchOutcome::Found(header) => {
                let block = salus_primitives::Block {
                    header,
                    transactions: template.block.transactions,
                };
                let hash = block.hash();
                let number = block.header.number;
                chain
                    .import_block(block, wall_clock_ms())
                    .context("importing a mined block")?;
                tracing::info!(number, %hash, "mined block");
                mined += 1;
            }
            SearchOutcome::Stopped => break,
            SearchOutcome::Exhausted => continue,
        }
        let elapsed = started.elapsed();
        let interval = Duration::from_millis(block_time_ms);
        if elapsed < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(interval - elapsed);
        }
    }
    println!(
        "Stopped at block {} {}",
        chain.head().header.number,
        chain.head().hash
    );
    Ok(())
}
