//! The peer-to-peer network: rust-libp2p over TCP with Noise and Yamux, identify and ping,
//! gossipsub for new blocks and transactions (validated by the chain before they are relayed),
//! and a request-response sync protocol — headers first by block locator, then bodies in bounded
//! parallel batches from every peer that has them, imported in order. Misbehaving peers are
//! scored down and banned for a while.
//!
//! One task owns the swarm; the rest of the node talks to it through [`NetworkHandle`]. Blocks
//! are imported on the block thread (`importer`), never on that task.

mod doors;
mod error;
mod eviction;
mod importer;
mod peers;
pub mod protocol;
mod sync;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, identity, noise, ping, tcp, yamux};
use parity_scale_codec::{Decode, Encode};
use salus_primitives::{Block, BlockHeader, Hash, SignedTransaction};
use tokio::sync::{mpsc, oneshot};

use crate::chain::{ImportOutcome, ReceivedBlock};
pub use error::{BlockImportError, NetworkError};
pub use peers::Misbehaviour;
use peers::PeerBook;
use protocol::{
    ChainStatus, MAX_GOSSIP_BYTES, SYNC_PROTOCOL, SyncCodec, SyncRequest, SyncResponse,
    WireRequest, blocks_topic, transactions_topic,
};
use sync::Sync;
pub use sync::SyncChain;

/// Most gossiped transactions being admitted at once (each holds a task and a place in the
/// admission queue until its verdict): beyond it, gossiped transactions are dropped without
/// blame until verdicts come back — a flood costs a bounded amount of memory, and peers and
/// the pool bring honest transactions again.
pub const MAX_GOSSIP_ADMISSIONS: usize = 1_024;

/// How often peers are asked for their chain status (to find better chains), bans expire and
/// sync progress is logged.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(2);
/// How often sync requests are checked against their deadlines (`sync::HEADERS_DEADLINE`,
/// `sync::BODIES_DEADLINE`).
pub const SYNC_DEADLINE_CHECK: Duration = Duration::from_millis(250);
/// How long a sync request may take before the peer is considered gone for it.
pub const SYNC_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Most concurrent sync streams per connection (a peer cannot make the node build more
/// responses than this at once).
pub const MAX_SYNC_STREAMS: usize = 8;
/// Bytes of bodies in one response: a batch stops before this (one maximal block always fits).
pub const MAX_BODIES_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Default ban length.
pub const DEFAULT_BAN: Duration = Duration::from_secs(10 * 60);
/// Connections idle this long are closed (gossip keeps live ones busy).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(120);
/// The file in the data directory holding the node's ed25519 key (its peer id).
pub const NODE_KEY_FILE: &str = "node_key";
/// The file in the data directory holding persisted bans: one `PEER_ID UNTIL_UNIX_MS [ADDRESS]`
/// per line, `ADDRESS` the banned IPv4 address or IPv6 /64 (its first address) when the ban
/// covers one (files without it, from before IP bans, still load).
pub const BANS_FILE: &str = "banned_peers";
/// Default cap on inbound connections not yet through the handshake, from all addresses.
pub const DEFAULT_MAX_PENDING_INBOUND: u32 = 32;

/// How the network is set up.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Addresses to listen on (`/ip4/0.0.0.0/tcp/30333`; port 0 picks a free one).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start (each with its `/p2p/<peer id>`).
    pub bootnodes: Vec<Multiaddr>,
    /// Most inbound connections. When they are all taken, a newcomer may evict an inbound
    /// peer (never the longest-connected, best-scored or most diverse: `eviction.rs`), else it
    /// is refused.
    pub max_inbound: u32,
    /// Most outbound connections.
    pub max_outbound: u32,
    /// Most inbound connections from one IP address, pending and established together: a
    /// connection over it is dropped before the Noise handshake.
    pub max_per_ip: u32,
    /// Most inbound connections still in their handshake, from all addresses (a flood of
    /// half-open connections holds no more than this).
    pub max_pending_inbound: u32,
    /// Whether a ban for misbehaviour covers the address the peer connected from (an IPv4
    /// address, an IPv6 /64) as well as its PeerId, which is free to replace: a banned peer
    /// coming back with a fresh identity from the same address is refused before the handshake
    /// until the ban ends. On by default. Off where honest nodes share an address with a
    /// misbehaving one — several nodes on one machine (`salus dev` networks on loopback, the
    /// tests), behind one NAT — since an IP ban then shuts out all of them. An operator's ban
    /// (`net_banPeer`) names a peer id and covers only it. Connections already open from a
    /// newly banned address stay (their peers did nothing wrong).
    pub ban_ip: bool,
    /// How long a misbehaving peer stays banned.
    pub ban_duration: Duration,
    /// Keep bans across restarts (in `DATA_DIR/banned_peers`); by default a restart clears them.
    pub persist_bans: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            listen: vec!["/ip4/0.0.0.0/tcp/30333".parse().expect("a valid multiaddr")],
            bootnodes: Vec::new(),
            max_inbound: 50,
            max_outbound: 25,
            max_per_ip: 8,
            max_pending_inbound: DEFAULT_MAX_PENDING_INBOUND,
            ban_ip: true,
            ban_duration: DEFAULT_BAN,
            persist_bans: false,
        }
    }
}

/// A connected peer, as `net_peers` shows it.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// Peer id.
    pub peer_id: PeerId,
    /// Remote address of the first connection.
    pub address: Multiaddr,
    /// Whether we dialled it.
    pub outbound: bool,
    /// Its reputation.
    pub score: i32,
    /// Its head, once it told us.
    pub head_number: Option<u64>,
    /// Its client (identify agent version), once known.
    pub agent: Option<String>,
}

/// Where sync stands, as logs and `node_info` show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncProgress {
    /// Whether the node is catching up.
    pub syncing: bool,
    /// Local head number.
    pub current: u64,
    /// Best head number a peer reported.
    pub target: u64,
    /// Blocks imported per second over the sync so far.
    pub blocks_per_second: f64,
}

/// Requests from the rest of the node.
pub enum NetworkCommand {
    /// Gossip a block this node produced.
    PublishBlock(Block),
    /// Gossip a transaction this node admitted from a client.
    PublishTransaction(SignedTransaction),
    /// Dial a peer.
    AddPeer(Multiaddr, oneshot::Sender<Result<(), String>>),
    /// Ban a peer (and disconnect it) for a while.
    BanPeer(PeerId, Duration, oneshot::Sender<Result<(), String>>),
    /// Lift a ban; returns whether the peer was banned.
    UnbanPeer(PeerId, oneshot::Sender<bool>),
    /// The connected peers.
    Peers(oneshot::Sender<Vec<PeerInfo>>),
}

/// The node's way to the network task.
#[derive(Clone)]
pub struct NetworkHandle {
    commands: mpsc::UnboundedSender<NetworkCommand>,
    /// This node's peer id.
    pub peer_id: PeerId,
    listen_addrs: Arc<Mutex<Vec<Multiaddr>>>,
    progress: Arc<Mutex<SyncProgress>>,
}

impl NetworkHandle {
    /// Sends a command (dropped silently if the network task has stopped: the node is then
    /// shutting down).
    pub fn send(&self, command: NetworkCommand) {
        let _ = self.commands.send(command);
    }

    /// The addresses the node listens on, with its peer id.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.listen_addrs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|addr| addr.clone().with(Protocol::P2p(self.peer_id)))
            .collect()
    }

    /// Sync progress.
    pub fn progress(&self) -> SyncProgress {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks the network task and waits for its answer.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> NetworkCommand,
    ) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).ok()?;
        answer.await.ok()
    }
}

/// The libp2p behaviours of a Salus node.
#[derive(NetworkBehaviour)]
struct Behaviour {
    blocked: libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::BlockedPeers>,
    limits: libp2p::connection_limits::Behaviour,
    doors: doors::Doors,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossip: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
}

/// What the network needs of the node — the chain's answers to a syncing peer, block import,
/// transaction admission — and all it knows of it: the network is generic over this trait and
/// names no node service.
pub trait NetworkState: SyncChain + Send + std::marker::Sync + 'static {
    /// The genesis hash: peers of another genesis are banned.
    fn genesis_hash(&self) -> Hash;
    /// The local chain's status as peers see it.
    fn chain_status(&self) -> ChainStatus;
    /// Canonical headers after the first locator hash on our canonical chain (after genesis
    /// when none is), at most `max`.
    fn headers_after(&self, locator: &[Hash], max: u32) -> Vec<BlockHeader>;
    /// Bodies of the given blocks, in order, stopping at the first unknown one or before
    /// `byte_limit` encoded bytes.
    fn bodies(&self, hashes: &[Hash], byte_limit: usize) -> Vec<Vec<SignedTransaction>>;
    /// Imports a gossiped block.
    ///
    /// # Errors
    /// [`BlockImportError`], saying whether the block is invalid.
    fn import_block(&self, block: ReceivedBlock) -> Result<ImportOutcome, BlockImportError>;
    /// Admits a gossiped transaction off the network task (signature checks and the pool's
    /// rules run elsewhere); the future gives the verdict gossip reports.
    fn admit_gossiped(
        self: Arc<Self>,
        transaction: SignedTransaction,
    ) -> impl Future<Output = TransactionVerdict> + Send;
    /// Told how many peers are connected whenever the number changes (the node's metrics).
    fn peers_connected(&self, count: usize);
}

/// Loads the node key from the data directory, creating it (mode 0600) on first start.
///
/// # Errors
/// [`NetworkError::NodeKey`] if the file cannot be read or written or holds no valid key.
pub fn load_or_create_node_key(data_dir: &Path) -> Result<identity::Keypair, NetworkError> {
    let path = data_dir.join(NODE_KEY_FILE);
    let network_error = |reason: String| NetworkError::NodeKey {
        path: path.clone(),
        reason,
    };
    match std::fs::read(&path) {
        Ok(mut bytes) => {
            if bytes.len() != 32 {
                return Err(network_error(format!(
                    "a node key is 32 bytes, found {}",
                    bytes.len()
                )));
            }
            identity::Keypair::ed25519_from_bytes(&mut bytes)
                .map_err(|error| network_error(error.to_string()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let keypair = identity::Keypair::generate_ed25519();
            let secret = keypair
                .clone()
                .try_into_ed25519()
                .expect("generated as ed25519")
                .secret();
            write_private(&path, secret.as_ref())
                .map_err(|error| network_error(error.to_string()))?;
            Ok(keypair)
        }
        Err(error) => Err(network_error(error.to_string())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Builds the swarm, starts listening and dialling, and returns the handle and the task's
/// future.
///
/// # Errors
/// [`NetworkError`] if the key or the bans cannot be loaded, libp2p refuses the configuration
/// or an address cannot be listened on.
pub fn start<S: NetworkState>(
    state: Arc<S>,
    config: NetworkConfig,
    data_dir: &Path,
) -> Result<
    (
        NetworkHandle,
        impl Future<Output = Result<(), String>> + use<S>,
    ),
    NetworkError,
> {
    let keypair = load_or_create_node_key(data_dir)?;
    let peer_id = keypair.public().to_peer_id();
    let network_error = |error: &dyn std::fmt::Display| NetworkError::Setup(error.to_string());
    let transactions_id = transactions_topic(&state.genesis_hash()).hash();
    let gossip_config = gossipsub::ConfigBuilder::default()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .max_transmit_size_for_topic(
            protocol::MAX_GOSSIP_TRANSACTION_BYTES,
            transactions_topic(&state.genesis_hash()).hash(),
        )
        .validate_messages()
        .validation_mode(gossipsub::ValidationMode::Strict)
        // A block's message id is the hash of its content, so the same block is delivered and
        // relayed once however many peers publish it. A transaction's is the hash of its
        // content, publisher and sequence number: every announcement is new to gossip — a
        // transaction a reorganisation returned to the pool, or one announced again because
        // it is still pending (`service::REANNOUNCE_INTERVAL`), must not be dropped as a
        // duplicate of its first announcement — while one announcement reaching a peer by
        // several paths is still delivered once, and the pool answers a transaction it holds
        // without relaying it.
        .message_id_fn(move |message| {
            let id = if message.topic == transactions_id {
                let mut preimage = message.data.clone();
                if let Some(source) = &message.source {
                    preimage.extend_from_slice(&source.to_bytes());
                }
                preimage.extend_from_slice(&message.sequence_number.unwrap_or(0).to_be_bytes());
                salus_primitives::keccak256(&preimage)
            } else {
                salus_primitives::keccak256(&message.data)
            };
            gossipsub::MessageId::from(id.0.to_vec())
        })
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .map_err(|error| network_error(&error))?;
    // Inbound connections are limited by the doors (per address before the handshake, inbound
    // slots with eviction after it); pending ones here.
    let limits = libp2p::connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(config.max_pending_inbound))
        .with_max_established_outgoing(Some(config.max_outbound))
        .with_max_established_per_peer(Some(2));
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|error| network_error(&error))?
        .with_behaviour(|key| {
            Ok(Behaviour {
                blocked: Default::default(),
                limits: libp2p::connection_limits::Behaviour::new(limits),
                doors: doors::Doors::new(config.max_per_ip, config.max_inbound),
                identify: identify::Behaviour::new(
                    identify::Config::new("/salus/1".into(), key.public())
                        .with_agent_version(format!("salus/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::default(),
                gossip: gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    gossip_config,
                )?,
                sync: request_response::Behaviour::new(
                    [(SYNC_PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(SYNC_REQUEST_TIMEOUT)
                        .with_max_concurrent_streams(MAX_SYNC_STREAMS),
                ),
            })
        })
        .map_err(|error| network_error(&error))?
        .with_swarm_config(|swarm| swarm.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    let genesis = state.genesis_hash();
    let blocks = blocks_topic(&genesis);
    let transactions = transactions_topic(&genesis);
    for topic in [&blocks, &transactions] {
        swarm
            .behaviour_mut()
            .gossip
            .subscribe(topic)
            .map_err(|error| network_error(&error))?;
    }
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|error| NetworkError::Listen {
                addr: addr.clone(),
                reason: error.to_string(),
            })?;
    }
    for bootnode in &config.bootnodes {
        if let Err(error) = swarm.dial(bootnode.clone()) {
            tracing::warn!(%bootnode, %error, "cannot dial bootnode");
        }
    }
    let (commands, receiver) = mpsc::unbounded_channel();
    let handle = NetworkHandle {
        commands,
        peer_id,
        listen_addrs: Arc::default(),
        progress: Arc::default(),
    };
    let mut peers = PeerBook::new(config.ban_duration);
    let bans_file = config.persist_bans.then(|| data_dir.join(BANS_FILE));
    if let Some(path) = &bans_file {
        let now_ms = crate::wall_clock_ms();
        for (peer, until_ms, address) in load_bans(path)? {
            if until_ms > now_ms {
                peers.ban(
                    peer,
                    address.filter(|_| config.ban_ip),
                    Duration::from_millis(until_ms - now_ms),
                    Instant::now(),
                );
                swarm.behaviour_mut().blocked.block_peer(peer);
                swarm.behaviour_mut().gossip.blacklist_peer(&peer);
            }
        }
        let banned = peers.banned_addresses(Instant::now());
        swarm.behaviour_mut().doors.set_banned(banned);
    }
    let (checked_sender, checked_receiver) = mpsc::unbounded_channel();
    let (imports, imported) = importer::spawn(state.clone());
    let task = Network {
        swarm,
        state,
        peers,
        bans_file,
        connected: HashMap::new(),
        statuses: HashMap::new(),
        agents: HashMap::new(),
        requests: HashMap::new(),
        refused: std::collections::HashSet::new(),
        departed: std::collections::VecDeque::new(),
        sync: Sync::default(),
        blocks_topic: blocks.hash(),
        transactions_topic: transactions.hash(),
        config,
        handle: handle.clone(),
        checked: checked_sender,
        imports,
        gossip_admissions: Arc::new(tokio::sync::Semaphore::new(MAX_GOSSIP_ADMISSIONS)),
        fatal: None,
    };
    Ok((handle, task.run(receiver, checked_receiver, imported)))
}

struct Connected {
    address: Multiaddr,
    outbound: bool,
    connections: u32,
}

struct Network<S> {
    swarm: Swarm<Behaviour>,
    state: Arc<S>,
    peers: PeerBook,
    bans_file: Option<std::path::PathBuf>,
    connected: HashMap<PeerId, Connected>,
    statuses: HashMap<PeerId, ChainStatus>,
    agents: HashMap<PeerId, String>,
    /// Sync requests in flight, by kind.
    requests: HashMap<request_response::OutboundRequestId, std::mem::Discriminant<SyncRequest>>,
    /// Connections closed on establishment (banned peer, over the per-IP limit): their close
    /// is not a peer leaving.
    refused: std::collections::HashSet<libp2p::swarm::ConnectionId>,
    /// The addresses of the last peers to leave ([`RECENTLY_DEPARTED`]): a verdict that bans a
    /// peer can arrive after it left, and its ban still covers its address.
    departed: std::collections::VecDeque<(PeerId, IpAddr)>,
    sync: Sync,
    blocks_topic: gossipsub::TopicHash,
    transactions_topic: gossipsub::TopicHash,
    config: NetworkConfig,
    handle: NetworkHandle,
    /// Verdicts on gossiped transactions, sent back by the admission jobs.
    checked: mpsc::UnboundedSender<CheckedTransaction>,
    /// The block thread's queue.
    imports: mpsc::Sender<importer::ImportJob>,
    /// Places for gossiped transactions being admitted ([`MAX_GOSSIP_ADMISSIONS`]).
    gossip_admissions: Arc<tokio::sync::Semaphore>,
    /// A damaged database met while importing: the task ends with it, which stops the node.
    fatal: Option<String>,
}

/// How many departed peers' addresses are remembered for bans decided after they left (the
/// block thread's and admission's verdicts take a moment).
const RECENTLY_DEPARTED: usize = 64;

/// What admission made of a gossiped transaction.
pub enum TransactionVerdict {
    /// In the pool: relay it.
    Admitted,
    /// Invalid in a way only a broken or hostile sender produces.
    Malicious,
    /// Its payer cannot cover it: it can never execute as it stands. Not relayed; its relayer
    /// is scored down lightly while this node is caught up.
    Useless,
    /// An honest race (stale, duplicate, full pool or queue): drop it without blame.
    Ignored,
}

/// A gossiped transaction's verdict, for the swarm task.
struct CheckedTransaction {
    message_id: gossipsub::MessageId,
    source: PeerId,
    verdict: TransactionVerdict,
}

impl<S: NetworkState> Network<S> {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<NetworkCommand>,
        mut checked: mpsc::UnboundedReceiver<CheckedTransaction>,
        mut imported: mpsc::UnboundedReceiver<importer::Imported>,
    ) -> Result<(), String> {
        let mut ticker = tokio::time::interval(STATUS_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut deadlines = tokio::time::interval(SYNC_DEADLINE_CHECK);
        deadlines.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => return Ok(()),
                },
                Some(verdict) = checked.recv() => self.on_transaction_checked(verdict),
                Some(verdict) = imported.recv() => self.on_imported(verdict),
                _ = ticker.tick() => self.on_tick(),
                _ = deadlines.tick() => self.on_sync_deadlines(),
            }
            if let Some(error) = self.fatal.take() {
                return Err(error);
            }
        }
    }

    /// Sync requests past their deadline: their peers are charged and sync moves on to
    /// others.
    fn on_sync_deadlines(&mut self) {
        let culprits = self.sync.overdue(Instant::now());
        if culprits.is_empty() {
            return;
        }
        for (peer, misbehaviour) in culprits {
            self.penalise(peer, misbehaviour);
        }
        self.drive_sync();
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let expired = self.peers.expire(now);
        for peer in &expired {
            self.swarm.behaviour_mut().blocked.unblock_peer(*peer);
            self.swarm
                .behaviour_mut()
                .gossip
                .remove_blacklisted_peer(peer);
            tracing::info!(%peer, "ban expired");
        }
        if !expired.is_empty() {
            self.save_bans();
            self.refresh_banned_addresses();
        }
        let peers: Vec<PeerId> = self.connected.keys().copied().collect();
        for peer in peers {
            // Scores recover with time: eviction sees today's.
            let score = self.peers.current_score(&peer, now);
            self.swarm.behaviour_mut().doors.set_score(peer, score);
            self.send_sync(peer, SyncRequest::Status);
        }
        self.drive_sync();
        self.publish_progress(true);
    }

    fn on_command(&mut self, command: NetworkCommand) {
        match command {
            NetworkCommand::PublishBlock(block) => {
                self.publish(self.blocks_topic.clone(), block.encode());
            }
            NetworkCommand::PublishTransaction(transaction) => {
                self.publish(self.transactions_topic.clone(), transaction.encode());
            }
            NetworkCommand::AddPeer(addr, reply) => {
                let result = self.swarm.dial(addr).map_err(|error| error.to_string());
                let _ = reply.send(result);
            }
            NetworkCommand::BanPeer(peer, duration, reply) => {
                self.ban(peer, duration, "banned by the operator");
                let _ = reply.send(Ok(()));
            }
            NetworkCommand::UnbanPeer(peer, reply) => {
                let was_banned = self.peers.unban(&peer);
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
                self.swarm
                    .behaviour_mut()
                    .gossip
                    .remove_blacklisted_peer(&peer);
                self.save_bans();
                self.refresh_banned_addresses();
                let _ = reply.send(was_banned);
            }
            NetworkCommand::Peers(reply) => {
                let peers = self
                    .connected
                    .iter()
                    .map(|(peer_id, connected)| PeerInfo {
                        peer_id: *peer_id,
                        address: connected.address.clone(),
                        outbound: connected.outbound,
                        score: self.peers.score(peer_id),
                        head_number: self.statuses.get(peer_id).map(|status| status.number),
                        agent: self.agents.get(peer_id).cloned(),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
        }
    }

    fn publish(&mut self, topic: gossipsub::TopicHash, data: Vec<u8>) {
        match self.swarm.behaviour_mut().gossip.publish(topic, data) {
            Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
            // No peers yet: the block or transaction reaches them through sync or the pool.
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
            Err(error) => tracing::warn!(%error, "gossip publish failed"),
        }
    }

    /// An operator's ban: the peer id only (see [`NetworkConfig::ban_ip`]).
    fn ban(&mut self, peer: PeerId, duration: Duration, reason: &str) {
        self.peers.ban(peer, None, duration, Instant::now());
        self.apply_ban(peer, reason);
    }

    fn apply_ban(&mut self, peer: PeerId, reason: &str) {
        tracing::warn!(%peer, reason, "peer banned");
        self.save_bans();
        self.refresh_banned_addresses();
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        self.swarm.behaviour_mut().gossip.blacklist_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.sync.forget_peer(&peer);
        self.statuses.remove(&peer);
    }

    /// Hands the banned addresses to the doors, which refuse them before the handshake.
    fn refresh_banned_addresses(&mut self) {
        let banned = self.peers.banned_addresses(Instant::now());
        self.swarm.behaviour_mut().doors.set_banned(banned);
    }

    /// The IP address a peer is (or was lately) connected from.
    fn address_of(&self, peer: &PeerId) -> Option<IpAddr> {
        self.connected
            .get(peer)
            .and_then(|connected| ip_of(&connected.address))
            .or_else(|| {
                self.departed
                    .iter()
                    .rev()
                    .find(|(departed, _)| departed == peer)
                    .map(|(_, ip)| *ip)
            })
    }

    /// Writes the bans to the bans file, when bans persist.
    fn save_bans(&self) {
        let Some(path) = &self.bans_file else {
            return;
        };
        let now = Instant::now();
        let now_ms = crate::wall_clock_ms();
        let bans: Vec<PersistedBan> = self
            .peers
            .bans()
            .map(|(peer, ban)| {
                let left = ban.until.saturating_duration_since(now).as_millis() as u64;
                (peer, now_ms.saturating_add(left), ban.address)
            })
            .collect();
        if let Err(error) = write_bans(path, &bans) {
            tracing::warn!(path = %path.display(), %error, "cannot save bans");
        }
    }

    fn penalise(&mut self, peer: PeerId, misbehaviour: Misbehaviour) {
        tracing::debug!(%peer, ?misbehaviour, "peer misbehaved");
        let address = self.address_of(&peer).filter(|_| self.config.ban_ip);
        let now = Instant::now();
        if self.peers.penalise(peer, misbehaviour, address, now) {
            self.apply_ban(peer, &format!("{misbehaviour:?}"));
        } else {
            let score = self.peers.current_score(&peer, now);
            self.swarm.behaviour_mut().doors.set_score(peer, score);
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, peer_id = %self.handle.peer_id, "listening for peers");
                self.handle
                    .listen_addrs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                connection_id,
                ..
            } => {
                let address = endpoint.get_remote_address().clone();
                // Addresses (banned, over their share) are refused before the handshake by
                // the doors; a banned peer id by `blocked`, and here if banned since.
                if self.peers.is_banned(&peer_id, Instant::now()) {
                    self.refused.insert(connection_id);
                    let _ = self.swarm.close_connection(connection_id);
                    return;
                }
                let entry = self.connected.entry(peer_id).or_insert(Connected {
                    address,
                    outbound: endpoint.is_dialer(),
                    connections: 0,
                });
                entry.connections += 1;
                if entry.connections == 1 {
                    tracing::info!(peer = %peer_id, address = %entry.address, "peer connected");
                    self.state.peers_connected(self.connected.len());
                    self.send_sync(peer_id, SyncRequest::Status);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                ..
            } => {
                if self.refused.remove(&connection_id) {
                    return;
                }
                if let Some(entry) = self.connected.get_mut(&peer_id) {
                    entry.connections = entry.connections.saturating_sub(1);
                    if entry.connections == 0 {
                        if let Some(ip) = ip_of(&entry.address) {
                            if self.departed.len() == RECENTLY_DEPARTED {
                                self.departed.pop_front();
                            }
                            self.departed.push_back((peer_id, ip));
                        }
                        self.connected.remove(&peer_id);
                        self.statuses.remove(&peer_id);
                        self.agents.remove(&peer_id);
                        self.sync.forget_peer(&peer_id);
                        tracing::info!(peer = %peer_id, "peer disconnected");
                        self.state.peers_connected(self.connected.len());
                        self.drive_sync();
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                self.agents.insert(peer_id, info.agent_version);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                let acceptance = if message.topic == self.blocks_topic {
                    // Imported on the block thread; the verdict comes back as `Imported`.
                    if let Some(acceptance) =
                        self.on_gossip_block(message_id.clone(), propagation_source, &message.data)
                    {
                        acceptance
                    } else {
                        return;
                    }
                } else if message.topic == self.transactions_topic {
                    // Checked off this task; the verdict comes back as a `CheckedTransaction`.
                    if let Some(acceptance) = self.on_gossip_transaction(
                        message_id.clone(),
                        propagation_source,
                        &message.data,
                    ) {
                        acceptance
                    } else {
                        return;
                    }
                } else {
                    MessageAcceptance::Ignore
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Doors(doors::Event::Evicted {
                peer,
                newcomer,
            })) => {
                tracing::info!(%peer, %newcomer, "inbound slots full: peer evicted");
            }
            _ => {}
        }
    }

    /// Decodes a gossiped block and hands it to the block thread. `Some` is an immediate
    /// verdict (malformed; no room in the import queue, which costs the sender nothing: sync
    /// fetches the block later); otherwise it arrives through [`Network::on_imported`].
    fn on_gossip_block(
        &mut self,
        message_id: gossipsub::MessageId,
        source: PeerId,
        data: &[u8],
    ) -> Option<MessageAcceptance> {
        let Ok(block) = decode_exact::<Block>(data) else {
            self.penalise(source, Misbehaviour::MalformedMessage);
            return Some(MessageAcceptance::Reject);
        };
        let job = importer::ImportJob::Gossiped {
            block,
            message_id,
            source,
        };
        match self.imports.try_send(job) {
            Ok(()) => None,
            Err(_) => {
                tracing::debug!(peer = %source, "import queue full: gossiped block left to sync");
                Some(MessageAcceptance::Ignore)
            }
        }
    }

    /// A verdict of the block thread: a gossiped block's is reported to gossipsub (relayed only
    /// when stored) and charged to its relayer when the block is invalid or unwanted; a synced
    /// block's steers sync, which then hands over the next ready blocks.
    fn on_imported(&mut self, verdict: importer::Imported) {
        let damage = match &verdict {
            importer::Imported::Gossiped {
                outcome: Err(error),
                ..
            }
            | importer::Imported::Synced {
                result: Err(error), ..
            } if error.is_fatal() => Some(error.to_string()),
            _ => None,
        };
        if let Some(error) = damage {
            tracing::error!(%error, "the database is damaged: stopping");
            self.fatal = Some(format!(
                "the database is damaged ({error}): run `salus verify-chain`, then restore the \
                 data directory from a backup or empty it (keeping node_key) to sync afresh"
            ));
            return;
        }
        match verdict {
            importer::Imported::Gossiped {
                message_id,
                source,
                number,
                outcome,
            } => {
                let acceptance = self.gossip_block_verdict(source, number, outcome);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .report_message_validation_result(&message_id, &source, acceptance);
            }
            importer::Imported::Synced {
                header_from,
                epoch,
                result,
            } => {
                for (culprit, misbehaviour) in self.sync.on_imported(epoch, header_from, result) {
                    self.penalise(culprit, misbehaviour);
                }
                self.drive_sync();
            }
        }
    }

    fn gossip_block_verdict(
        &mut self,
        source: PeerId,
        number: u64,
        outcome: Result<ImportOutcome, BlockImportError>,
    ) -> MessageAcceptance {
        match outcome {
            Ok(ImportOutcome::NewHead { .. } | ImportOutcome::StoredOnSideBranch) => {
                MessageAcceptance::Accept
            }
            Ok(ImportOutcome::AlreadyKnown) => MessageAcceptance::Ignore,
            Ok(ImportOutcome::HeldAsOrphan) => {
                // We are missing its ancestors: ask the peer where it stands, and sync.
                tracing::debug!(number, peer = %source, "block with an unknown parent");
                if self.connected.contains_key(&source) {
                    self.send_sync(source, SyncRequest::Status);
                }
                MessageAcceptance::Ignore
            }
            Err(error) if error.is_invalid_block() => {
                tracing::warn!(peer = %source, %error, "invalid block from peer");
                self.penalise(source, Misbehaviour::InvalidBlock);
                MessageAcceptance::Reject
            }
            Err(error) if error.is_unwanted_block() => {
                tracing::debug!(peer = %source, %error, "block not kept");
                self.penalise(source, Misbehaviour::UnwantedBlock);
                MessageAcceptance::Reject
            }
            Err(error) => {
                tracing::warn!(%error, "cannot import a gossiped block");
                MessageAcceptance::Ignore
            }
        }
    }

    /// Hands sync's ready blocks to the block thread, in order, while the queue has room beyond
    /// what gossip is kept.
    fn feed_importer(&mut self) {
        while self.imports.capacity() > importer::GOSSIP_RESERVE {
            let Some(ready) = self.sync.take_ready() else {
                return;
            };
            let job = importer::ImportJob::Synced {
                block: ready.block,
                header_from: ready.header_from,
                epoch: ready.epoch,
            };
            if self.imports.try_send(job).is_err() {
                // Only this task sends; with capacity above the reserve this cannot happen,
                // unless the block thread is gone (the node is stopping).
                tracing::warn!("the block thread is gone; sync stops");
                return;
            }
        }
    }

    /// Decodes a gossiped transaction and hands it to the admission queue (signature recovery
    /// and the pool's checks run on blocking threads, not on this task). `Some` is an
    /// immediate verdict (malformed); otherwise the verdict arrives later through
    /// [`Network::on_transaction_checked`].
    fn on_gossip_transaction(
        &mut self,
        message_id: gossipsub::MessageId,
        source: PeerId,
        data: &[u8],
    ) -> Option<MessageAcceptance> {
        let Ok(transaction) = decode_exact::<SignedTransaction>(data) else {
            self.penalise(source, Misbehaviour::MalformedMessage);
            return Some(MessageAcceptance::Reject);
        };
        let Ok(place) = self.gossip_admissions.clone().try_acquire_owned() else {
            tracing::debug!(peer = %source, "gossiped transactions backed up: dropped");
            return Some(MessageAcceptance::Ignore);
        };
        let verdict = self.state.clone().admit_gossiped(transaction);
        let checked = self.checked.clone();
        tokio::spawn(async move {
            let verdict = verdict.await;
            drop(place);
            let _ = checked.send(CheckedTransaction {
                message_id,
                source,
                verdict,
            });
        });
        None
    }

    /// Reports a gossiped transaction's verdict to gossipsub (relayed only when admitted) and
    /// penalises its sender for an invalid one.
    fn on_transaction_checked(&mut self, checked: CheckedTransaction) {
        let acceptance = match checked.verdict {
            TransactionVerdict::Admitted => MessageAcceptance::Accept,
            TransactionVerdict::Malicious => {
                self.penalise(checked.source, Misbehaviour::InvalidTransaction);
                MessageAcceptance::Reject
            }
            TransactionVerdict::Useless => {
                // A syncing node's balances are behind: the payer may be funded further on.
                if !self.sync.is_syncing() {
                    self.penalise(checked.source, Misbehaviour::UselessTransaction);
                }
                MessageAcceptance::Ignore
            }
            TransactionVerdict::Ignored => MessageAcceptance::Ignore,
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(&checked.message_id, &checked.source, acceptance);
    }

    fn on_sync_event(&mut self, event: request_response::Event<WireRequest, SyncResponse>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => match request {
                WireRequest::Valid(request) => {
                    let response = self.answer(request);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, response);
                }
                WireRequest::Malformed(reason) => {
                    tracing::debug!(%peer, reason, "malformed sync request");
                    self.penalise(peer, Misbehaviour::MalformedMessage);
                }
            },
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => self.on_sync_response(peer, request_id, response),
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %error, "sync request failed");
                self.requests.remove(&request_id);
                self.sync.request_failed(request_id);
                // A response that arrived and broke the protocol is misbehaviour; a timeout or a
                // cut connection is not.
                if let request_response::OutboundFailure::Io(io_error) = &error
                    && io_error.kind() == std::io::ErrorKind::InvalidData
                {
                    self.penalise(peer, Misbehaviour::MalformedMessage);
                }
                self.drive_sync();
            }
            request_response::Event::InboundFailure { .. } => {}
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Serves a sync request from the local chain.
    fn answer(&self, request: SyncRequest) -> SyncResponse {
        match request {
            SyncRequest::Status => SyncResponse::Status(self.state.chain_status()),
            SyncRequest::Headers { locator, max } => SyncResponse::Headers(
                self.state
                    .headers_after(&locator, max.min(protocol::MAX_HEADERS_PER_RESPONSE)),
            ),
            SyncRequest::Bodies { hashes } => {
                SyncResponse::Bodies(self.state.bodies(&hashes, MAX_BODIES_RESPONSE_BYTES))
            }
        }
    }

    fn on_sync_response(
        &mut self,
        peer: PeerId,
        request_id: request_response::OutboundRequestId,
        response: SyncResponse,
    ) {
        let Some(kind) = self.requests.remove(&request_id) else {
            return;
        };
        let expected = match &response {
            SyncResponse::Status(_) => std::mem::discriminant(&SyncRequest::Status),
            SyncResponse::Headers(_) => std::mem::discriminant(&SyncRequest::Headers {
                locator: Vec::new(),
                max: 0,
            }),
            SyncResponse::Bodies(_) => {
                std::mem::discriminant(&SyncRequest::Bodies { hashes: Vec::new() })
            }
        };
        if kind != expected {
            self.penalise(peer, Misbehaviour::BadSyncResponse);
            self.sync.request_failed(request_id);
            self.drive_sync();
            return;
        }
        match response {
            SyncResponse::Status(status) => {
                if status.genesis != self.state.genesis_hash() {
                    self.penalise(peer, Misbehaviour::WrongNetwork);
                    return;
                }
                self.statuses.insert(peer, status);
                self.drive_sync();
            }
            SyncResponse::Headers(headers) => {
                match self
                    .sync
                    .on_headers(request_id, peer, headers, &*self.state)
                {
                    Ok(()) => {}
                    Err(misbehaviour) => self.penalise(peer, misbehaviour),
                }
                self.drive_sync();
            }
            SyncResponse::Bodies(bodies) => {
                let outcome = self.sync.on_bodies(request_id, peer, bodies);
                for (culprit, misbehaviour) in outcome {
                    self.penalise(culprit, misbehaviour);
                }
                self.drive_sync();
            }
        }
    }

    /// Starts or continues sync towards the peer with the most work, handing the blocks whose
    /// bodies arrived to the block thread.
    fn drive_sync(&mut self) {
        self.feed_importer();
        let local = self.state.chain_status();
        let requests = self
            .sync
            .next_requests(&local, &self.statuses, &*self.state);
        for (peer, request) in requests {
            let request_id = self.send_sync(peer, request.clone());
            self.sync.sent(request_id, peer, request);
        }
        self.publish_progress(false);
    }

    /// Sends a sync request and remembers what kind it was, so an answer of another kind is
    /// caught (request-response would otherwise consider the request answered).
    fn send_sync(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
    ) -> request_response::OutboundRequestId {
        let kind = std::mem::discriminant(&request);
        let request_id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, WireRequest::Valid(request));
        self.requests.insert(request_id, kind);
        request_id
    }

    fn publish_progress(&mut self, log: bool) {
        let current = self.state.chain_status().number;
        let progress = self.sync.progress(current, &self.statuses);
        if log && progress.syncing {
            tracing::info!(
                height = progress.current,
                target = progress.target,
                blocks_per_second = format!("{:.1}", progress.blocks_per_second),
                "catching up"
            );
        }
        *self
            .handle
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = progress;
    }
}

/// Writes bans (`(peer, until unix ms, banned address)`) atomically: a new file renamed over
/// the old one.
///
/// # Errors
/// The I/O error.
pub fn write_bans(path: &Path, bans: &[PersistedBan]) -> std::io::Result<()> {
    let text: String = bans
        .iter()
        .map(|(peer, until, address)| match address {
            Some(address) => format!("{peer} {until} {address}\n"),
            None => format!("{peer} {until}\n"),
        })
        .collect();
    let staged = path.with_extension("new");
    std::fs::write(&staged, text)?;
    std::fs::rename(&staged, path)
}

/// A persisted ban: the peer, when the ban ends (unix ms), and the address it covers.
pub type PersistedBan = (PeerId, u64, Option<IpAddr>);

/// Reads persisted bans; a missing file is no bans, a line without an address (the format
/// before IP bans) a ban of the peer id only.
///
/// # Errors
/// [`NetworkError::BansFile`] if the file cannot be read, [`NetworkError::BadBan`] naming the
/// line of an unreadable entry.
pub fn load_bans(path: &Path) -> Result<Vec<PersistedBan>, NetworkError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(NetworkError::BansFile {
                path: path.to_path_buf(),
                reason: error.to_string(),
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let bad = || NetworkError::BadBan {
                path: path.to_path_buf(),
                line: index + 1,
                entry: line.to_owned(),
            };
            let mut fields = line.split_whitespace();
            let peer = fields
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or_else(bad)?;
            let until = fields
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or_else(bad)?;
            let address = match fields.next() {
                Some(field) => Some(field.parse::<IpAddr>().map_err(|_| bad())?),
                None => None,
            };
            if fields.next().is_some() {
                return Err(bad());
            }
            Ok((peer, until, address))
        })
        .collect()
}

fn ip_of(address: &Multiaddr) -> Option<IpAddr> {
    address.iter().find_map(|component| match component {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

/// Decodes all of `bytes` as `M` (trailing bytes are an error).
fn decode_exact<M: Decode>(bytes: &[u8]) -> Result<M, parity_scale_codec::Error> {
    let mut input = bytes;
    let message = M::decode(&mut input)?;
    if input.is_empty() {
        Ok(message)
    } else {
        Err("trailing bytes".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_round_trip_through_their_file_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BANS_FILE);
        assert!(load_bans(&path).unwrap().is_empty(), "no file, no bans");
        let bans = vec![
            (PeerId::random(), 1_900_000_000_000, None),
            (PeerId::random(), 5, Some("203.0.113.9".parse().unwrap())),
            (PeerId::random(), 6, Some("2001:db8:1:2::".parse().unwrap())),
        ];
        write_bans(&path, &bans).unwrap();
        assert_eq!(load_bans(&path).unwrap(), bans);

        // The format before IP bans still loads.
        std::fs::write(&path, format!("{} 12\n", bans[0].0)).unwrap();
        assert_eq!(load_bans(&path).unwrap(), vec![(bans[0].0, 12, None)]);

        std::fs::write(&path, format!("{} 12\nnot-a-peer 7\n", bans[0].0)).unwrap();
        let error = load_bans(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("not-a-peer"), "{error}");
        std::fs::write(&path, format!("{} 12 not-an-address\n", bans[0].0)).unwrap();
        let error = load_bans(&path).unwrap_err().to_string();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn a_node_key_is_created_once_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_node_key(dir.path()).unwrap();
        let again = load_or_create_node_key(dir.path()).unwrap();
        assert_eq!(first.public().to_peer_id(), again.public().to_peer_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(NODE_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(NODE_KEY_FILE), [1u8; 5]).unwrap();
        let error = load_or_create_node_key(dir.path()).unwrap_err().to_string();
        assert!(error.contains("32 bytes"), "{error}");
    }
}
