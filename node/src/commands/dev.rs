//! `salus dev`: a single-node development chain with funded dev accounts and the healthcare
//! contracts deployed at genesis, mining on a timer or on demand, optionally joining local peers.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

use super::node_process::{node_runtime, print_stopped, shutdown_signals, wait_for_listen_addrs};
use crate::GenesisConfig;
use crate::config::{P2pSection, RpcSection};
use crate::network::NetworkConfig;
use crate::service;

/// `salus dev`'s JSON-RPC address: not 8545, which Ethereum tools hold.
pub const DEFAULT_DEV_RPC_ADDR: &str = "127.0.0.1:8650";

/// `salus dev`'s flags.
#[derive(clap::Args, Debug)]
pub struct DevOptions {
    /// Data directory.
    #[arg(long, env = "SALUS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 1_000)]
    pub block_time_ms: u64,
    /// Threads searching nonces.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Stop after mining this many blocks (default: run until interrupted).
    #[arg(long)]
    pub blocks: Option<u64>,
    /// Address of the JSON-RPC server (HTTP and WebSocket on one port).
    #[arg(long, default_value = DEFAULT_DEV_RPC_ADDR)]
    pub rpc_addr: std::net::SocketAddr,
    /// Address of a Prometheus metrics endpoint (none by default).
    #[arg(long)]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Join a local network: listen for peers on this multiaddr (e.g.
    /// /ip4/127.0.0.1/tcp/0). Without it or --bootnode the dev chain has no network.
    #[arg(long = "p2p-listen")]
    p2p_listen: Vec<String>,
    /// Dev peer to dial at start (multiaddr ending in /p2p/<peer id>); repeatable.
    #[arg(long = "bootnode")]
    pub bootnodes: Vec<String>,
    /// Host name the RPC server answers to besides localhost and IP addresses (`name`,
    /// `name:port`, or `*` for any); repeatable. Other `Host` headers get 403.
    #[arg(long = "rpc-allowed-host")]
    pub rpc_allowed_hosts: Vec<String>,
    /// Browser origin allowed to call the RPC server (e.g. http://localhost:3000, or `*`);
    /// repeatable. None by default: a request with an `Origin` header gets 403.
    #[arg(long = "rpc-cors")]
    pub rpc_cors: Vec<String>,
    /// Ban a misbehaving peer's IP address (IPv6 /64) as well as its peer id. Off by default
    /// for dev networks, whose nodes usually share one address (loopback): an IP ban there
    /// would shut out every local node.
    #[arg(long = "p2p-ban-ip")]
    pub p2p_ban_ip: bool,
    /// Most inbound peer connections (full: an inbound peer may be evicted for a newcomer).
    #[arg(long = "p2p-max-inbound")]
    pub p2p_max_inbound: Option<u32>,
    /// Most inbound peer connections from one IP address, pending and established.
    #[arg(long = "p2p-max-per-ip")]
    pub p2p_max_per_ip: Option<u32>,
    /// Most inbound peer connections still in their handshake.
    #[arg(long = "p2p-max-pending-inbound")]
    pub p2p_max_pending_inbound: Option<u32>,
    /// Once the node is up, load the healthcare story of `salus scenario` (consents, a drug
    /// unit's journey and a recall, preauthorizations) for the console to show.
    #[arg(long)]
    pub scenario: bool,
}

/// Runs the dev chain until interrupted, or until it has mined `options.blocks`.
///
/// # Errors
/// Bad flags (hosts, origins, multiaddrs), or a node that cannot start or stops on a failure.
pub fn run(options: DevOptions) -> anyhow::Result<()> {
    let DevOptions {
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
        p2p_ban_ip,
        p2p_max_inbound,
        p2p_max_per_ip,
        p2p_max_pending_inbound,
        scenario,
    } = options;
    let rpc_access = RpcSection::default().access(&rpc_allowed_hosts, &rpc_cors)?;
    let network = if p2p_listen.is_empty() && bootnodes.is_empty() {
        None
    } else {
        let listen = if p2p_listen.is_empty() {
            vec!["/ip4/127.0.0.1/tcp/0".to_string()]
        } else {
            p2p_listen
        };
        P2pSection {
            ban_ip: Some(p2p_ban_ip),
            max_inbound: p2p_max_inbound,
            max_per_ip: p2p_max_per_ip,
            max_pending_inbound: p2p_max_pending_inbound,
            ..P2pSection::default()
        }
        .network_config(&listen, &bootnodes)?
    };
    let data_dir = match data_dir {
        Some(dir) => dir,
        None => default_dev_dir()?,
    };
    node_runtime()?.block_on(run_dev(
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
        scenario,
    ))
}

fn default_dev_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set; pass --data-dir")?;
    Ok(PathBuf::from(home).join(".salus").join("dev"))
}

/// Where a dev node serves: JSON-RPC (and who may call it) and metrics.
struct DevEndpoints {
    rpc_addr: SocketAddr,
    rpc_access: service::RpcAccess,
    metrics_addr: Option<SocketAddr>,
}

async fn run_dev(
    data_dir: PathBuf,
    block_time_ms: u64,
    threads: usize,
    blocks: Option<u64>,
    endpoints: DevEndpoints,
    network: Option<NetworkConfig>,
    scenario: bool,
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
        console_contracts: None,
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
    writeln!(banner, "Console: http://{}/ui/", node.rpc_addr)?;
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
    for index in 0..crate::genesis::DEV_ACCOUNT_COUNT {
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
    if scenario {
        // A thread of its own: the scenario is an RPC client with its own runtime, talking to
        // this node like any other.
        let rpc = format!("http://{}", node.rpc_addr);
        std::thread::spawn(move || match crate::commands::scenario::run(&rpc) {
            Ok(()) => println!(
                "Scenario loaded: open http://{}/ui/",
                rpc.trim_start_matches("http://")
            ),
            Err(error) => eprintln!("the scenario failed: {error:#}"),
        });
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
        print_stopped(&state);
        return Ok(());
    }
    let state = node.state.clone();
    node.run_until(shutdown).await?;
    print_stopped(&state);
    Ok(())
}
