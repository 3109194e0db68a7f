//! The `salus` command: a dev chain in one command, and chain verification.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use salus_node::{Chain, GenesisConfig, Store, service, verify, wall_clock_ms};
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
        /// Address of the JSON-RPC server (HTTP and WebSocket on one port).
        #[arg(long, default_value = DEFAULT_DEV_RPC_ADDR)]
        rpc_addr: std::net::SocketAddr,
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

/// `salus dev`'s JSON-RPC address: not 8545, which Ethereum tools hold.
const DEFAULT_DEV_RPC_ADDR: &str = "127.0.0.1:8650";

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
            rpc_addr,
        } => {
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => default_dev_dir()?,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run_dev(data_dir, block_time_ms, threads, blocks, rpc_addr))
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

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn run_dev(
    data_dir: PathBuf,
    block_time_ms: u64,
    threads: usize,
    blocks: Option<u64>,
    rpc_addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let miner = derive_key(DEV_MNEMONIC, 0)?.address();
    let config = service::NodeConfig {
        data_dir: data_dir.clone(),
        rpc_addr,
        genesis: GenesisConfig::dev(),
        dev: true,
        block_time_ms: if blocks.is_some() {
            None
        } else {
            Some(block_time_ms)
        },
        miner,
        mining_threads: threads,
    };
    let node = service::start(config)
        .await
        .context("starting the dev node")?;
    let (chain_id, head_number, head_hash) = {
        let chain = node.state.chain();
        (
            chain.params().chain_id,
            chain.head().header.number,
            chain.head().hash,
        )
    };
    println!("Salus dev chain (chain id {chain_id})");
    println!("Data directory: {}", data_dir.display());
    println!("RPC: http://{0}  ws://{0}", node.rpc_addr);
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
    let cadence = if block_time_ms == 0 {
        "blocks on dev_mine".to_string()
    } else {
        format!("blocks every {block_time_ms} ms")
    };
    println!("Head: block {head_number} {head_hash}  ({cadence}; Ctrl-C to stop)");
    use std::io::Write;
    std::io::stdout().flush()?;

    if let Some(count) = blocks {
        for _ in 0..count {
            node.state.mine_block().await?;
            if block_time_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(block_time_ms)).await;
            }
        }
        let state = node.state.clone();
        node.run_until(async {}).await?;
        let chain = state.chain();
        println!(
            "Stopped at block {} {}",
            chain.head().header.number,
            chain.head().hash
        );
        return Ok(());
    }
    let state = node.state.clone();
    node.run_until(shutdown_signal()).await?;
    let chain = state.chain();
    println!(
        "Stopped at block {} {}",
        chain.head().header.number,
        chain.head().hash
    );
    Ok(())
}
