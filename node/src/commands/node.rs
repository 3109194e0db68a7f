//! `salus node`: a full node from a TOML configuration file, with environment variables and
//! flags overriding it.

use std::path::PathBuf;

use anyhow::Context;

use super::node_process::{node_runtime, print_stopped, shutdown_signals, wait_for_listen_addrs};
use crate::GenesisConfig;
use crate::service;

/// `salus node`'s flags, before merging with the configuration file.
#[derive(clap::Args, Debug)]
pub struct NodeSettings {
    /// TOML configuration file.
    #[arg(long, env = "SALUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory.
    #[arg(long, env = "SALUS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Genesis file (JSON), or `dev`.
    #[arg(long, env = "SALUS_GENESIS")]
    pub genesis: Option<String>,
    /// JSON-RPC listen address.
    #[arg(long, env = "SALUS_RPC_ADDR")]
    pub rpc_addr: Option<String>,
    /// Mine blocks.
    #[arg(long, env = "SALUS_MINE")]
    pub mine: Option<bool>,
    /// Address receiving block rewards.
    #[arg(long, env = "SALUS_MINER")]
    pub miner: Option<String>,
    /// Nonce-search threads.
    #[arg(long, env = "SALUS_THREADS")]
    pub threads: Option<usize>,
    /// Prometheus metrics address.
    #[arg(long, env = "SALUS_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Peer to dial at start (multiaddr ending in /p2p/<peer id>); repeat for several.
    #[arg(long = "bootnode", env = "SALUS_BOOTNODES", value_delimiter = ',')]
    pub bootnodes: Vec<String>,
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
    pub rpc_allowed_hosts: Vec<String>,
    /// Browser origin allowed to call the RPC server (or `*`); repeatable; replaces
    /// `[rpc] cors`. None by default.
    #[arg(long = "rpc-cors", env = "SALUS_RPC_CORS", value_delimiter = ',')]
    pub rpc_cors: Vec<String>,
}

/// Runs the node until SIGINT or SIGTERM.
///
/// # Errors
/// A configuration that is missing a value or holds a bad one, or a node that cannot start or
/// stops on a failure.
pub fn run(settings: NodeSettings) -> anyhow::Result<()> {
    node_runtime()?.block_on(run_node(settings))
}

async fn run_node(settings: NodeSettings) -> anyhow::Result<()> {
    use crate::config::{ConfigError, ConfigFile, parse_miner, parse_rpc_addr};
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
    let console_contracts = file
        .console
        .contracts(crate::service::ConsoleContracts::from_genesis(&genesis))?;
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
        console_contracts: Some(console_contracts),
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
    print_stopped(&state);
    Ok(())
}
