//! The `salus` command: a dev chain in one command, and chain verification.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use salus_node::{Chain, GenesisConfig, Store, cli, service, verify, wall_clock_ms};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

/// jemalloc instead of glibc's allocator, for Rust and (unprefixed `malloc`) RocksDB's C++ alike:
/// RocksDB's flushes and compactions allocate large buffers on their own threads, and glibc's
/// per-thread arenas kept that memory, so a busy node's resident memory rose for as long as it
/// ran.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Salus: a WebAssembly smart-contract platform for healthcare on a proof-of-work ledger.
#[derive(Parser)]
#[command(name = "salus", version)]
struct Cli {
    /// Cookie file of the node the client commands talk to; its token is sent as
    /// `Authorization: Bearer` (needed by operator methods). Default: `.cookie` in `salus dev`'s
    /// data directory ($SALUS_DATA_DIR or ~/.salus/dev), when it exists and the RPC endpoint is
    /// on this machine.
    #[arg(long, global = true, env = "SALUS_RPC_COOKIE")]
    rpc_cookie: Option<PathBuf>,
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
        /// Address of a Prometheus metrics endpoint (none by default).
        #[arg(long)]
        metrics_addr: Option<std::net::SocketAddr>,
        /// Join a local network: listen for peers on this multiaddr (e.g.
        /// /ip4/127.0.0.1/tcp/0). Without it or --bootnode the dev chain has no network.
        #[arg(long = "p2p-listen")]
        p2p_listen: Vec<String>,
        /// Dev peer to dial at start (multiaddr ending in /p2p/<peer id>); repeatable.
        #[arg(long = "bootnode")]
        bootnodes: Vec<String>,
        /// Host name the RPC server answers to besides localhost and IP addresses (`name`,
        /// `name:port`, or `*` for any); repeatable. Other `Host` headers get 403.
        #[arg(long = "rpc-allowed-host")]
        rpc_allowed_hosts: Vec<String>,
        /// Browser origin allowed to call the RPC server (e.g. http://localhost:3000, or `*`);
        /// repeatable. None by default: a request with an `Origin` header gets 403.
        #[arg(long = "rpc-cors")]
        rpc_cors: Vec<String>,
    },
    /// Run a full node from a TOML config file, with environment variables and flags
    /// overriding it.
    ///
    /// Example: salus node --config /etc/salus/node.toml --mine --miner 0x…
    Node {
        /// TOML configuration file.
        #[arg(long, env = "SALUS_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Genesis file (JSON), or `dev`.
        #[arg(long, env = "SALUS_GENESIS")]
        genesis: Option<String>,
        /// JSON-RPC listen address.
        #[arg(long, env = "SALUS_RPC_ADDR")]
        rpc_addr: Option<String>,
        /// Mine blocks.
        #[arg(long, env = "SALUS_MINE")]
        mine: Option<bool>,
        /// Address receiving block rewards.
        #[arg(long, env = "SALUS_MINER")]
        miner: Option<String>,
        /// Nonce-search threads.
        #[arg(long, env = "SALUS_THREADS")]
        threads: Option<usize>,
        /// Prometheus metrics address.
        #[arg(long, env = "SALUS_METRICS_ADDR")]
        metrics_addr: Option<String>,
        /// Peer to dial at start (multiaddr ending in /p2p/<peer id>); repeat for several.
        #[arg(long = "bootnode", env = "SALUS_BOOTNODES", value_delimiter = ',')]
        bootnodes: Vec<String>,
        /// Multiaddr to listen on for peers (default /ip4/0.0.0.0/tcp/30333); repeatable.
        #[arg(long = "p2p-listen", env = "SALUS_P2P_LISTEN", value_delimiter = ',')]
        p2p_listen: Vec<String>,
        /// Do not join the peer-to-peer network.
        #[arg(long)]
        no_p2p: bool,
        /// Host name the RPC server answers to besides localhost and IP addresses (`name`,
        /// `name:port`, or `*`); repeatable; replaces `[rpc] allowed_hosts`.
        #[arg(
            long = "rpc-allowed-host",
            env = "SALUS_RPC_ALLOWED_HOSTS",
            value_delimiter = ','
        )]
        rpc_allowed_hosts: Vec<String>,
        /// Browser origin allowed to call the RPC server (or `*`); repeatable; replaces
        /// `[rpc] cors`. None by default.
        #[arg(long = "rpc-cors", env = "SALUS_RPC_CORS", value_delimiter = ',')]
        rpc_cors: Vec<String>,
    },
    /// Measure end-to-end throughput and latency: the load generator (see `salus bench --help`).
    ///
    /// Runs the `load-generator` binary built beside `salus` (cargo build --release --bin
    /// load-generator), passing every argument on.
    ///
    /// Example: salus bench --workload consent --rate max --seconds 20
    #[command(disable_help_flag = true)]
    Bench {
        /// Arguments of the load generator.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
    /// Manage signing keys (files in ~/.salus/keys, or $SALUS_KEYS, readable only by you),
    /// encrypted under a password unless --insecure-plaintext; Ethereum keystore v3 import and
    /// export.
    ///
    /// Example: salus key new --name clinic
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign and submit a transaction, wait for inclusion, print the decoded receipt and events.
    ///
    /// `--from` takes a key name (see `salus key`) or `dev:N` (dev mnemonic key N); an
    /// encrypted key's password comes from SALUS_KEY_PASSWORD_FILE, SALUS_KEY_PASSWORD or a
    /// prompt.
    ///
    /// Example: salus tx call --from dev:1 --contract 0x… --message increment --args '[5]'
    #[command(subcommand)]
    Tx(TxCommand),
    /// Dry-run a contract message at the head: result and fuel per host function, nothing
    /// committed.
    ///
    /// Example: salus call --from dev:1 --contract 0x… --message get
    Call {
        /// The caller: an address, a key name or dev:N.
        #[arg(long)]
        from: String,
        /// The contract.
        #[arg(long)]
        contract: String,
        /// The message.
        #[arg(long)]
        message: String,
        /// JSON arguments: an array in order or an object by name.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
    /// Read chain data: `account ADDRESS`, `block NUMBER|HASH`, `receipt HASH`,
    /// `storage CONTRACT KEYHEX`.
    ///
    /// Example: salus query account 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
    Query {
        /// account, block, receipt or storage.
        what: String,
        /// The address, block or hash.
        target: String,
        /// For storage: the key, hex.
        key: Option<String>,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
    /// List a contract's events as a table, decoded through its on-chain ABI.
    ///
    /// Example: salus events --contract 0x… --topic '*' --topic 0x…patient-topic --from 100
    Events {
        /// The contract.
        #[arg(long)]
        contract: String,
        /// Required topics by position (`*` for any).
        #[arg(long)]
        topic: Vec<String>,
        /// First block.
        #[arg(long)]
        from: Option<u64>,
        /// Last block.
        #[arg(long)]
        to: Option<u64>,
        /// Most events to list.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
    /// Print a contract's ABI, from a deployed address or a .wasm file.
    ///
    /// Example: salus abi contracts/target/…/counter.wasm
    Abi {
        /// Contract address or .wasm file.
        target: String,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
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

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a random key, encrypted under a password: typed twice at a prompt when stdin is a
    /// terminal, else from --password-stdin, SALUS_KEY_PASSWORD_FILE or SALUS_KEY_PASSWORD.
    New {
        /// Name of the key file.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        protection: KeyProtectionArgs,
    },
    /// Import a key: a private key or a BIP-39 mnemonic (m/44'/60'/0'/0/INDEX) read from a file
    /// or stdin (never from the command line), or an Ethereum keystore v3 file (geth, Foundry,
    /// MetaMask), whose password then also encrypts the key file.
    ///
    /// Example: salus key import --name clinic --keystore wallet.json
    Import {
        /// Name of the key file.
        #[arg(long)]
        name: String,
        /// A file holding the hex private key; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE", group = "source")]
        private_key_file: Option<PathBuf>,
        /// A file holding the mnemonic phrase; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE", group = "source")]
        mnemonic_file: Option<PathBuf>,
        /// An Ethereum keystore v3 JSON file (scrypt or PBKDF2, AES-128-CTR).
        #[arg(long, value_name = "FILE", group = "source")]
        keystore: Option<PathBuf>,
        /// Account index on the mnemonic's path.
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// Refused: a private key on the command line is visible to every local user.
        #[arg(long, hide = true)]
        private_key: Option<String>,
        /// Refused: a mnemonic on the command line is visible to every local user.
        #[arg(long, hide = true)]
        mnemonic: Option<String>,
        #[command(flatten)]
        protection: KeyProtectionArgs,
    },
    /// Write a key as an Ethereum keystore v3 file (scrypt, AES-128-CTR) for geth, Foundry or
    /// MetaMask, encrypted under the key's password (a plaintext key's file gets a new one).
    ///
    /// Example: salus key export clinic --keystore clinic.json
    Export {
        /// Name of the key file.
        name: String,
        /// The keystore file to write (must not exist; created readable only by you).
        #[arg(long, value_name = "OUT")]
        keystore: PathBuf,
        /// Read the password from the first line of stdin instead of SALUS_KEY_PASSWORD_FILE,
        /// SALUS_KEY_PASSWORD or a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List key files and their addresses.
    List,
    /// Print the address at an index of a mnemonic read from a file or stdin (nothing is
    /// stored).
    Derive {
        /// A file holding the mnemonic phrase; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE")]
        mnemonic_file: Option<PathBuf>,
        /// Account index.
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// Refused: a mnemonic on the command line is visible to every local user.
        #[arg(long, hide = true)]
        mnemonic: Option<String>,
    },
}

/// How `salus key new` and `import` protect the key file.
#[derive(clap::Args)]
struct KeyProtectionArgs {
    /// Read the password from the first line of stdin instead of SALUS_KEY_PASSWORD_FILE,
    /// SALUS_KEY_PASSWORD or a prompt.
    #[arg(long)]
    password_stdin: bool,
    /// Store the key unencrypted, for scripts and tests: whoever reads the file can sign.
    #[arg(long)]
    insecure_plaintext: bool,
}

impl KeyProtectionArgs {
    fn protection(&self) -> cli::keys::Protection {
        if self.insecure_plaintext {
            cli::keys::Protection::InsecurePlaintext
        } else {
            cli::keys::Protection::Encrypted
        }
    }

    fn password_input(&self) -> cli::keys::PasswordInput {
        password_input(self.password_stdin)
    }
}

fn password_input(password_stdin: bool) -> cli::keys::PasswordInput {
    if password_stdin {
        cli::keys::PasswordInput::Stdin
    } else {
        cli::keys::PasswordInput::EnvironmentOrPrompt
    }
}

#[derive(Subcommand)]
enum TxCommand {
    /// Transfer native balance.
    Transfer {
        /// Signing key: a key name or dev:N.
        #[arg(long)]
        from: String,
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// Amount, in the smallest unit.
        #[arg(long)]
        amount: u128,
        /// Return after submitting instead of waiting for inclusion.
        #[arg(long)]
        no_wait: bool,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
    /// Deploy a contract module, with constructor arguments as JSON.
    Deploy {
        /// Signing key.
        #[arg(long)]
        from: String,
        /// The .wasm file.
        file: PathBuf,
        /// Constructor arguments, JSON.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Salt of the contract address (default: derived from the sender's nonce).
        #[arg(long)]
        salt: Option<salus_primitives::Hash>,
        /// Fuel limit.
        #[arg(long, default_value_t = cli::DEFAULT_FUEL)]
        fuel: u64,
        /// Return after submitting.
        #[arg(long)]
        no_wait: bool,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
    /// Call a contract message, arguments as JSON.
    Call {
        /// Signing key.
        #[arg(long)]
        from: String,
        /// The contract.
        #[arg(long)]
        contract: String,
        /// The message.
        #[arg(long)]
        message: String,
        /// Arguments, JSON.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Fuel limit.
        #[arg(long, default_value_t = cli::DEFAULT_FUEL)]
        fuel: u64,
        /// Return after submitting.
        #[arg(long)]
        no_wait: bool,
        /// Node RPC URL.
        #[arg(long, env = "SALUS_RPC", default_value = cli::DEFAULT_RPC)]
        rpc: String,
    },
}

fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn run_key(command: KeyCommand) -> anyhow::Result<()> {
    use cli::keys::{self, ImportSource};
    match command {
        KeyCommand::New { name, protection } => {
            let (address, path) =
                keys::new_key(&name, protection.protection(), protection.password_input())?;
            println!("{name}: {address} ({})", path.display());
        }
        KeyCommand::Import {
            name,
            private_key_file,
            mnemonic_file,
            keystore,
            index,
            private_key,
            mnemonic,
            protection,
        } => {
            if private_key.is_some() || mnemonic.is_some() {
                bail!(keys::SECRET_ON_COMMAND_LINE);
            }
            let source = match (private_key_file, mnemonic_file, keystore) {
                (Some(file), None, None) => ImportSource::PrivateKeyFile(file),
                (None, Some(path), None) => ImportSource::MnemonicFile { path, index },
                (None, None, Some(file)) => ImportSource::Keystore(file),
                _ => bail!("give one of --private-key-file, --mnemonic-file or --keystore"),
            };
            let (address, path) = keys::import_key(
                &name,
                &source,
                protection.protection(),
                protection.password_input(),
            )?;
            println!("{name}: {address} ({})", path.display());
        }
        KeyCommand::Export {
            name,
            keystore,
            password_stdin,
        } => {
            let address = keys::export_key(&name, &keystore, password_input(password_stdin))?;
            println!(
                "{name}: {address} (Ethereum keystore v3: {})",
                keystore.display()
            );
        }
        KeyCommand::List => {
            for (name, address) in cli::list_keys()? {
                println!("{name:<20} {address}");
            }
        }
        KeyCommand::Derive {
            mnemonic_file,
            index,
            mnemonic,
        } => {
            let file = match (mnemonic_file, mnemonic) {
                (_, Some(_)) => bail!(keys::SECRET_ON_COMMAND_LINE),
                (Some(file), None) => file,
                (None, None) => bail!("give --mnemonic-file FILE (`-` reads stdin)"),
            };
            println!("{}", keys::derive_address(&file, index)?);
        }
    }
    Ok(())
}

/// Runs the load generator beside this binary with `arguments` and exits with its status.
fn run_load_generator(arguments: &[String]) -> anyhow::Result<()> {
    let generator = std::env::current_exe()?.with_file_name("load-generator");
    if !generator.exists() {
        bail!(
            "{} not found: build it with `cargo build --release --bin load-generator`",
            generator.display()
        );
    }
    let status = std::process::Command::new(&generator)
        .args(arguments)
        .env("SALUS_BIN", std::env::current_exe()?)
        .status()
        .with_context(|| format!("running {}", generator.display()))?;
    std::process::exit(status.code().unwrap_or(1));
}

/// The node's tokio runtime: a worker per core, and a bounded pool of blocking threads (block
/// building and import, signature checks of submitted transactions).
fn node_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    /// Blocking threads at most: enough to keep every core verifying signatures while RPC
    /// clients wait, few enough that their stacks and allocator state stay small.
    const MAX_BLOCKING_THREADS: usize = 64;
    // Every worker and blocking thread may execute contracts (block import on the network
    // task, dry runs), so each has the native stack the execution limits allow for; only the
    // pages a deep call touches become resident.
    use salus_runtime::native_stack::{EXECUTION_STACK_BYTES, register};
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_stack_size(EXECUTION_STACK_BYTES)
        .on_thread_start(|| register(EXECUTION_STACK_BYTES))
        .build()?)
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
    let arguments = Cli::parse();
    if let Some(path) = arguments.rpc_cookie {
        cli::use_rpc_cookie(path);
    }
    match arguments.command {
        Command::Bench { arguments } => run_load_generator(&arguments),
        Command::Dev {
            data_dir,
            block_time_ms,
            threads,
            blocks,
            rpc_addr,
            metrics_addr,
            p2p_listen,
            bootnodes,
            rpc_allowed_hosts,
            rpc_cors,
        } => {
            let rpc_access =
                salus_node::config::RpcSection::default().access(&rpc_allowed_hosts, &rpc_cors)?;
            let network = if p2p_listen.is_empty() && bootnodes.is_empty() {
                None
            } else {
                let listen = if p2p_listen.is_empty() {
                    vec!["/ip4/127.0.0.1/tcp/0".to_string()]
                } else {
                    p2p_listen
                };
                salus_node::config::P2pSection::default().network_config(&listen, &bootnodes)?
            };
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => default_dev_dir()?,
            };
            let runtime = node_runtime()?;
            runtime.block_on(run_dev(
                data_dir,
                block_time_ms,
                threads,
                blocks,
                DevEndpoints {
                    rpc_addr,
                    rpc_access,
                    metrics_addr,
                },
                network,
            ))
        }
        Command::Node {
            config,
            data_dir,
            genesis,
            rpc_addr,
            mine,
            miner,
            threads,
            metrics_addr,
            bootnodes,
            p2p_listen,
            no_p2p,
            rpc_allowed_hosts,
            rpc_cors,
        } => {
            let settings = NodeSettings {
                config,
                data_dir,
                genesis,
                rpc_addr,
                mine,
                miner,
                threads,
                metrics_addr,
                bootnodes,
                p2p_listen,
                no_p2p,
                rpc_allowed_hosts,
                rpc_cors,
            };
            let runtime = node_runtime()?;
            runtime.block_on(run_node(settings))
        }
        Command::Key(command) => run_key(command),
        Command::Tx(command) => client_runtime()?.block_on(async {
            match command {
                TxCommand::Transfer {
                    from,
                    to,
                    amount,
                    no_wait,
                    rpc,
                } => cli::transfer(&rpc, &from, &to, amount, !no_wait).await,
                TxCommand::Deploy {
                    from,
                    file,
                    args,
                    salt,
                    fuel,
                    no_wait,
                    rpc,
                } => cli::deploy(&rpc, &from, &file, &args, salt, fuel, !no_wait).await,
                TxCommand::Call {
                    from,
                    contract,
                    message,
                    args,
                    fuel,
                    no_wait,
                    rpc,
                } => cli::call(&rpc, &from, &contract, &message, &args, fuel, !no_wait).await,
            }
        }),
        Command::Call {
            from,
            contract,
            message,
            args,
            rpc,
        } => client_runtime()?.block_on(cli::dry_run(&rpc, &from, &contract, &message, &args)),
        Command::Query {
            what,
            target,
            key,
            rpc,
        } => client_runtime()?.block_on(cli::query(&rpc, &what, &target, key.as_deref())),
        Command::Events {
            contract,
            topic,
            from,
            to,
            limit,
            rpc,
        } => client_runtime()?.block_on(cli::events(&rpc, &contract, &topic, from, to, limit)),
        Command::Abi { target, rpc } => client_runtime()?.block_on(async {
            let client = cli::connect(&rpc)?;
            let abi = cli::abi(&client, &target).await?;
            println!("{}", serde_json::to_string_pretty(&abi)?);
            Ok(())
        }),
        Command::ImportBlocks {
            data_dir,
            genesis,
            file,
        } => import_blocks(&data_dir, genesis.as_deref(), &file),
        Command::VerifyChain { data_dir } => {
            let store = Store::open_read_only(&data_dir)
                .with_context(|| format!("opening {}", data_dir.display()))?;
            // Re-execution runs contracts: on a thread with the stack they may need.
            let verified = salus_runtime::native_stack::spawn("verify-chain", move || {
                verify::verify_chain(&store)
            })?
            .join()
            .map_err(|_| anyhow::anyhow!("verify-chain panicked"))?;
            match verified {
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

/// `salus node`'s flags, before merging with the configuration file.
struct NodeSettings {
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    genesis: Option<String>,
    rpc_addr: Option<String>,
    mine: Option<bool>,
    miner: Option<String>,
    threads: Option<usize>,
    metrics_addr: Option<String>,
    bootnodes: Vec<String>,
    p2p_listen: Vec<String>,
    no_p2p: bool,
    rpc_allowed_hosts: Vec<String>,
    rpc_cors: Vec<String>,
}

async fn run_node(settings: NodeSettings) -> anyhow::Result<()> {
    use salus_node::config::{ConfigError, ConfigFile, parse_miner, parse_rpc_addr};
    let file = match &settings.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let rpc_access = file
        .rpc
        .access(&settings.rpc_allowed_hosts, &settings.rpc_cors)?;
    let data_dir = settings
        .data_dir
        .or(file.data_dir)
        .ok_or(ConfigError::Missing("data_dir"))?;
    let genesis_setting = settings
        .genesis
        .or(file.genesis)
        .ok_or(ConfigError::Missing("genesis"))?;
    let (genesis, dev) = if genesis_setting == "dev" {
        (GenesisConfig::dev(), true)
    } else {
        (
            GenesisConfig::load(std::path::Path::new(&genesis_setting))?,
            false,
        )
    };
    let rpc_addr = parse_rpc_addr(
        settings
            .rpc_addr
            .or(file.rpc.addr)
            .as_deref()
            .unwrap_or("127.0.0.1:8650"),
    )?;
    let mine = settings.mine.or(file.mining.enabled).unwrap_or(false);
    let miner = match settings.miner.or(file.mining.miner) {
        Some(text) => parse_miner(&text)?,
        None if mine => return Err(ConfigError::Missing("mining.miner").into()),
        None => salus_primitives::Address::ZERO,
    };
    let config = service::NodeConfig {
        data_dir: data_dir.clone(),
        rpc_addr,
        rpc_access,
        genesis,
        dev,
        mining: if mine {
            service::Mining::Continuous
        } else {
            service::Mining::Off
        },
        miner,
        mining_threads: settings.threads.or(file.mining.threads).unwrap_or(1),
        metrics_addr: match settings.metrics_addr.or(file.metrics.addr) {
            Some(text) => Some(text.parse().map_err(|error: std::net::AddrParseError| {
                ConfigError::BadValue {
                    key: "metrics.addr",
                    value: text.clone(),
                    reason: error.to_string(),
                }
            })?),
            None => None,
        },
        network: if settings.no_p2p {
            None
        } else {
            file.p2p
                .network_config(&settings.p2p_listen, &settings.bootnodes)?
        },
    };
    let shutdown = shutdown_signals()?;
    let node = service::start(config)
        .await
        .with_context(|| format!("starting the node in {}", data_dir.display()))?;
    let p2p = match node.state.network() {
        Some(network) => wait_for_listen_addrs(network).await.join(" "),
        None => "off".to_string(),
    };
    println!(
        "Salus node: data {}  RPC http://{1}  ws://{1}  RPC cookie {2}  mining {mine}  P2P {p2p}",
        data_dir.display(),
        node.rpc_addr,
        node.cookie.path().display()
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let state = node.state.clone();
    node.run_until(shutdown).await?;
    let chain = state.chain();
    println!(
        "Stopped at block {} {}",
        chain.head().header.number,
        chain.head().hash
    );
    Ok(())
}

/// The network's listen addresses once it has bound them (a port-0 listener learns its port
/// asynchronously); gives up after a few seconds and returns what it has.
async fn wait_for_listen_addrs(network: &salus_node::network::NetworkHandle) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let addrs = network.listen_addrs();
        if !addrs.is_empty() || std::time::Instant::now() >= deadline {
            return addrs.iter().map(ToString::to_string).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Registers SIGINT and SIGTERM handlers now (before the node announces itself, so that a signal
/// sent right after start-up is never lost) and returns a future that resolves on either.
fn shutdown_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Where a dev node serves: JSON-RPC (and who may call it) and metrics.
struct DevEndpoints {
    rpc_addr: std::net::SocketAddr,
    rpc_access: service::RpcAccess,
    metrics_addr: Option<std::net::SocketAddr>,
}

async fn run_dev(
    data_dir: PathBuf,
    block_time_ms: u64,
    threads: usize,
    blocks: Option<u64>,
    endpoints: DevEndpoints,
    network: Option<salus_node::network::NetworkConfig>,
) -> anyhow::Result<()> {
    let DevEndpoints {
        rpc_addr,
        rpc_access,
        metrics_addr,
    } = endpoints;
    let miner = derive_key(DEV_MNEMONIC, 0)?.address();
    let config = service::NodeConfig {
        data_dir: data_dir.clone(),
        rpc_addr,
        rpc_access,
        genesis: GenesisConfig::dev(),
        dev: true,
        mining: match (blocks, block_time_ms) {
            (Some(_), _) | (None, 0) => service::Mining::OnDemand,
            (None, ms) => service::Mining::Every(ms),
        },
        miner,
        mining_threads: threads,
        metrics_addr,
        network,
    };
    let shutdown = shutdown_signals()?;
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
    // One write, so that the miner's first log lines cannot interleave with the banner.
    use std::fmt::Write as _;
    let mut banner = String::new();
    writeln!(banner, "Salus dev chain (chain id {chain_id})")?;
    writeln!(banner, "Data directory: {}", data_dir.display())?;
    writeln!(banner, "RPC: http://{0}  ws://{0}", node.rpc_addr)?;
    writeln!(
        banner,
        "RPC cookie: {} (operator token for net_addPeer, net_banPeer, net_unbanPeer)",
        node.cookie.path().display()
    )?;
    if let Some(addr) = node.metrics_addr {
        writeln!(banner, "Metrics: http://{addr}/metrics")?;
    }
    if let Some(network) = node.state.network() {
        for addr in wait_for_listen_addrs(network).await {
            writeln!(banner, "P2P: {addr}")?;
        }
    }
    writeln!(banner, "Mnemonic: {DEV_MNEMONIC}")?;
    writeln!(
        banner,
        "Accounts (public test keys, funded at genesis; never use them on a real network):"
    )?;
    for index in 0..salus_node::genesis::DEV_ACCOUNT_COUNT {
        let key = derive_key(DEV_MNEMONIC, index).context("deriving dev keys")?;
        writeln!(
            banner,
            "  ({index}) {}  key 0x{}",
            key.address(),
            hex::encode(key.to_bytes())
        )?;
    }
    writeln!(banner, "Contracts deployed at genesis:")?;
    for contract in &GenesisConfig::dev().contracts {
        writeln!(banner, "  {:<10} {}", contract.name, contract.address)?;
    }
    let cadence = if block_time_ms == 0 {
        "blocks on dev_mine".to_string()
    } else {
        format!("blocks every {block_time_ms} ms")
    };
    writeln!(
        banner,
        "Head: block {head_number} {head_hash}  ({cadence}; Ctrl-C to stop)"
    )?;
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(banner.as_bytes())?;
        stdout.flush()?;
    }

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
    node.run_until(shutdown).await?;
    let chain = state.chain();
    println!(
        "Stopped at block {} {}",
        chain.head().header.number,
        chain.head().hash
    );
    Ok(())
}
