//! A hostile peer — a libp2p harness in this test speaking Salus's protocols — sends a block
//! with bad proof of work, a block with a bad state root, gossip that does not decode, an
//! oversized sync request and garbage bytes. Each time the node rejects the message, bans the
//! peer (a fresh identity is used for each case) and carries on with its honest peer. A flood
//! of cheap blocks off genesis is not stored and gets its sender banned. The same harness, as a
//! prober, finds the node's network task answering while a thousand-block import runs.

use std::time::{Duration, Instant};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_node::chain::validation::check_proof_of_work;
use salus_node::network::protocol::{
    ChainStatus, SYNC_PROTOCOL, SyncRequest, SyncResponse, blocks_topic, transactions_topic,
};
use salus_primitives::{Address, Block, Hash};

use crate::support::{DevProcess, TestChain, seal};

/// Blocks of a branch off `genesis`, `count` long, each with the dev chain's fixed (easiest)
/// target: headers only, as orphans are never executed.
fn cheap_branch(genesis: &salus_primitives::BlockHeader, count: u64) -> Vec<Block> {
    let mut parent = genesis.clone();
    (1..=count)
        .map(|number| {
            let mut header = genesis.clone();
            header.parent_hash = parent.hash();
            header.number = number;
            header.timestamp_ms = genesis.timestamp_ms + number;
            let block = seal(Block {
                header,
                transactions: Vec::new(),
            });
            parent = block.header.clone();
            block
        })
        .collect()
}

const DEADLINE: Duration = Duration::from_secs(60);

/// Writes requests verbatim (no framing): whatever bytes the case needs.
#[derive(Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = libp2p::StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_all(io).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_all(io).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> std::io::Result<()> {
        write_all_and_close(io, &request).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> std::io::Result<()> {
        write_all_and_close(io, &response).await
    }
}

async fn read_all<T: AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io.read_to_end(&mut bytes).await?;
    Ok(bytes)
}

async fn write_all_and_close<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.close().await
}

#[derive(NetworkBehaviour)]
struct Hostile {
    gossip: gossipsub::Behaviour,
    sync: request_response::Behaviour<RawCodec>,
}

/// What the hostile peer does.
enum Attack {
    Gossip(Vec<u8>),
    /// Many gossip messages, published back to back.
    Flood(Vec<Vec<u8>>),
    Request(Vec<u8>),
}

fn hostile_swarm() -> Swarm<Hostile> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| Hostile {
            gossip: gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub::ConfigBuilder::default()
                    .max_transmit_size(4 * 1024 * 1024)
                    .build()
                    .unwrap(),
            )
            .unwrap(),
            sync: request_response::Behaviour::new(
                [(SYNC_PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default(),
            ),
        })
        .unwrap()
        .build()
}

/// Connects a fresh identity to `target`, carries out `attack`, and returns once the target
/// has closed the connection and refuses a new one.
async fn attack_and_expect_ban(target: &Multiaddr, topic: &IdentTopic, attack: Attack) -> PeerId {
    let mut swarm = hostile_swarm();
    let target_id = match target.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(peer)) => peer,
        _ => panic!("a /p2p address"),
    };
    swarm.dial(target.clone()).unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut attack = Some(attack);
    let mut closed = false;
    loop {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .expect("the node reacted before the deadline");
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == target_id => {
                if let Some(Attack::Request(bytes)) = &attack {
                    swarm
                        .behaviour_mut()
                        .sync
                        .send_request(&target_id, bytes.clone());
                    attack = None;
                }
            }
            SwarmEvent::Behaviour(HostileEvent::Gossip(gossipsub::Event::Subscribed {
                peer_id,
                topic: subscribed,
            })) if peer_id == target_id && subscribed == topic.hash() => {
                match attack.take() {
                    Some(Attack::Gossip(bytes)) => {
                        swarm
                            .behaviour_mut()
                            .gossip
                            .publish(topic.clone(), bytes)
                            .unwrap();
                    }
                    Some(Attack::Flood(messages)) => {
                        for bytes in messages {
                            // Once the node has banned us, publishing fails: that is the point.
                            let _ = swarm.behaviour_mut().gossip.publish(topic.clone(), bytes);
                        }
                    }
                    other => attack = other,
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == target_id && !closed => {
                assert!(attack.is_none(), "closed before the attack");
                closed = true;
                // Banned: a new connection is refused.
                swarm.dial(target.clone()).unwrap();
            }
            SwarmEvent::OutgoingConnectionError { .. } if closed => break,
            SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == target_id && closed => break,
            _ => {}
        }
    }
    *swarm.local_peer_id()
}

fn framed(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_is_banned_for_each_kind_of_bad_message_and_honest_peers_carry_on() {
    let node = DevProcess::start_networked(&[]);
    let honest = DevProcess::start_networked(&[node.p2p()]);
    let rpc: HttpClient = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let honest_rpc: HttpClient = HttpClientBuilder::default()
        .build(honest.http_url())
        .unwrap();
    wait_for("the honest peer", || async {
        rpc.net_peers().await.unwrap().len() == 1
    })
    .await;
    let genesis: Hash = rpc.node_info().await.unwrap().genesis.parse().unwrap();
    let topic = blocks_topic(&genesis);
    let target: Multiaddr = node.p2p().parse().unwrap();

    // Blocks on the node's genesis (it is still at genesis), built by a local chain.
    let local = TestChain::new();
    let good = local.next_block(Address([0xee; 20]), &[]);
    let mut bad_work = good.clone();
    while check_proof_of_work(&bad_work.header, &bad_work.header.hash()).is_ok() {
        bad_work.header.nonce = bad_work.header.nonce.wrapping_add(1);
    }
    let mut bad_state: Block = good.clone();
    bad_state.header.state_root = Hash([0x66; 32]);
    let bad_state = seal(bad_state);

    let attacks = [
        ("bad proof of work", Attack::Gossip(bad_work.encode())),
        ("bad state root", Attack::Gossip(bad_state.encode())),
        (
            "undecodable gossip",
            Attack::Gossip(vec![0xde, 0xad, 0xbe, 0xef]),
        ),
        (
            "oversized request",
            Attack::Request((20_000_000u32).to_be_bytes().to_vec()),
        ),
        (
            "garbage request",
            Attack::Request(framed(&[0xff, 0x13, 0x37])),
        ),
    ];
    for (case, attack) in attacks {
        let hostile = attack_and_expect_ban(&target, &topic, attack)
            .await
            .to_string();
        // The node may record the first connection's end a moment after the harness saw it.
        wait_for(case, || async {
            let peers = rpc.net_peers().await.unwrap();
            peers.iter().all(|peer| peer.peer_id != hostile)
        })
        .await;
        assert_eq!(
            rpc.net_peers().await.unwrap().len(),
            1,
            "{case}: the honest peer stays"
        );
        assert_eq!(
            rpc.chain_head().await.unwrap().number,
            0,
            "{case}: nothing imported"
        );
    }

    // The honest pair still works: a block mined by the node reaches its peer.
    rpc.dev_mine(1).await.unwrap();
    wait_for("the honest peer to follow", || async {
        honest_rpc.chain_head().await.unwrap() == rpc.chain_head().await.unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_cheap_blocks_off_genesis_is_not_stored_and_its_sender_is_banned() {
    let node = DevProcess::start_networked(&[]);
    let rpc: HttpClient = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let depth = salus_node::chain::MAX_REORG_DEPTH as u32 + 12;
    rpc.dev_mine(depth).await.unwrap();
    let head = rpc.chain_head().await.unwrap();
    let genesis: Hash = rpc.node_info().await.unwrap().genesis.parse().unwrap();
    let local = TestChain::new();
    assert_eq!(local.chain.genesis().hash(), genesis);
    let branch = cheap_branch(local.chain.genesis(), 10_000);
    let hashes: Vec<Hash> = branch.iter().map(|block| block.header.hash()).collect();
    let target: Multiaddr = node.p2p().parse().unwrap();
    attack_and_expect_ban(
        &target,
        &blocks_topic(&genesis),
        Attack::Flood(branch.iter().map(Encode::encode).collect()),
    )
    .await;
    assert_eq!(
        rpc.chain_head().await.unwrap(),
        head,
        "the head did not move"
    );
    for hash in [hashes[0], hashes[11], hashes[5_000], hashes[9_999]] {
        assert!(
            rpc.chain_get_header(salus_client::rpc::BlockId::Hash(hash.to_string()))
                .await
                .unwrap()
                .is_none(),
            "block {hash} of the flood is not stored"
        );
    }
}

/// A status request's round trip over the sync protocol, which the node's network task
/// answers itself (unlike libp2p's ping, which a connection's own task answers): while two
/// thousand blocks are imported by sync, every answer comes within an eighth of the import's
/// time. Blocks are imported on the block thread and the status is read from the published
/// head, not under the chain's lock; on the network task, answers waited for every batch of up
/// to 128 blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_task_answers_while_a_two_thousand_block_import_runs() {
    let source = DevProcess::start_networked(&[]);
    let source_rpc: HttpClient = HttpClientBuilder::default()
        .build(source.http_url())
        .unwrap();
    // Two thousand blocks (one call mines at most a thousand).
    for _ in 0..2 {
        source_rpc.dev_mine(1_000).await.unwrap();
    }
    let node = DevProcess::start_networked(&[]);
    let rpc = node.operator_client();
    let target: Multiaddr = node.p2p().parse().unwrap();
    let Some(libp2p::multiaddr::Protocol::P2p(target_id)) = target.iter().last() else {
        panic!("a /p2p address");
    };
    let mut prober = hostile_swarm();
    prober.dial(target.clone()).unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let event = tokio::time::timeout_at(deadline, prober.select_next_some())
            .await
            .expect("connected before the deadline");
        if matches!(event, SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == target_id)
        {
            break;
        }
    }

    // The node's head, sampled as the import runs.
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(Instant, u64)>::new()));
    let sampler = {
        let heads = heads.clone();
        let rpc: HttpClient = HttpClientBuilder::default().build(node.http_url()).unwrap();
        tokio::spawn(async move {
            loop {
                let number = rpc.chain_head().await.unwrap().number;
                heads.lock().unwrap().push((Instant::now(), number));
                if number == 2_000 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    assert!(rpc.net_add_peer(source.p2p().to_string()).await.unwrap());

    // Status requests back to back until the import is done: (sent, answered).
    let status = framed(&SyncRequest::Status.encode());
    let mut round_trips = Vec::new();
    let mut sent = Instant::now();
    prober
        .behaviour_mut()
        .sync
        .send_request(&target_id, status.clone());
    while !sampler.is_finished() {
        let Ok(event) = tokio::time::timeout_at(deadline, prober.select_next_some()).await else {
            panic!("the import did not finish before the deadline");
        };
        if let SwarmEvent::Behaviour(HostileEvent::Sync(request_response::Event::Message {
            message: request_response::Message::Response { .. },
            ..
        })) = event
        {
            round_trips.push((sent, Instant::now()));
            sent = Instant::now();
            prober
                .behaviour_mut()
                .sync
                .send_request(&target_id, status.clone());
        }
    }
    let heads = heads.lock().unwrap().clone();
    let started = heads
        .iter()
        .find(|(_, number)| *number > 0)
        .expect("the import started")
        .0;
    let finished = heads.last().unwrap().0;
    let import = finished - started;
    let during: Vec<Duration> = round_trips
        .iter()
        .filter(|(sent, answered)| *answered > started && *sent < finished)
        .map(|(sent, answered)| *answered - *sent)
        .collect();
    let slowest = during.iter().max().copied().unwrap_or_default();
    eprintln!(
        "import of 2,000 blocks: {import:?}; {} status answers during it, the slowest {slowest:?}",
        during.len()
    );
    assert!(
        during.len() >= 5,
        "{} answers during an import of {import:?}",
        during.len()
    );
    assert!(
        slowest * 8 < import,
        "an answer took {slowest:?} during an import of {import:?}"
    );
}

/// Transactions whose payers hold nothing can never execute: a caught-up node relays none of
/// them and bans the peer that keeps sending them (fifty make a ban), admitting nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_relaying_transactions_nobody_can_pay_for_is_banned() {
    let node = DevProcess::start_networked(&[]);
    let rpc: HttpClient = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let genesis: Hash = rpc.node_info().await.unwrap().genesis.parse().unwrap();
    let unfunded: Vec<Vec<u8>> = (100..160)
        .map(|index| {
            let key =
                salus_primitives::keys::derive_key(salus_primitives::keys::DEV_MNEMONIC, index)
                    .unwrap();
            crate::support::transfer(&key, 0, Address([0x09; 20]), 1).encode()
        })
        .collect();
    let target: Multiaddr = node.p2p().parse().unwrap();
    attack_and_expect_ban(
        &target,
        &transactions_topic(&genesis),
        Attack::Flood(unfunded),
    )
    .await;
    let pending = rpc.node_info().await.unwrap().pending_transactions;
    assert_eq!(pending, 0, "none of them was admitted");
}

/// The time from starting a node with `bootnodes` until its head is `number`.
async fn time_to_sync(bootnodes: &[&str], number: u64) -> (DevProcess, Duration) {
    let started = Instant::now();
    let node = DevProcess::start_networked(bootnodes);
    let rpc: HttpClient = HttpClientBuilder::default().build(node.http_url()).unwrap();
    loop {
        if rpc
            .chain_head()
            .await
            .is_ok_and(|head| head.number == number)
        {
            return (node, started.elapsed());
        }
        assert!(
            started.elapsed() < DEADLINE * 2,
            "synced before the deadline"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A staller: answers status requests claiming the honest head with twice its work, and
/// never answers headers or bodies (holding each request open). Returns its address.
async fn start_staller(honest: &Multiaddr) -> Multiaddr {
    let mut swarm = hostile_swarm();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let Some(libp2p::multiaddr::Protocol::P2p(honest_id)) = honest.iter().last() else {
        panic!("a /p2p address");
    };
    swarm.dial(honest.clone()).unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut listening = None;
    let mut status = None;
    let mut asked = false;
    while listening.is_none() || status.is_none() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .expect("the staller is set up before the deadline");
        match event {
            SwarmEvent::NewListenAddr { address, .. } => listening = Some(address),
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == honest_id && !asked => {
                asked = true;
                swarm
                    .behaviour_mut()
                    .sync
                    .send_request(&honest_id, framed(&SyncRequest::Status.encode()));
            }
            SwarmEvent::Behaviour(HostileEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Response { response, .. },
                ..
            })) => {
                let Ok(SyncResponse::Status(honest_status)) =
                    parity_scale_codec::Decode::decode(&mut &response[4..])
                else {
                    panic!("the honest node's status");
                };
                status = Some(honest_status);
            }
            _ => {}
        }
    }
    let honest_status: ChainStatus = status.unwrap();
    let work = salus_primitives::Work::from_be_bytes(honest_status.total_work);
    let claim = framed(
        &SyncResponse::Status(ChainStatus {
            total_work: work.saturating_add(work).to_be_bytes(),
            ..honest_status
        })
        .encode(),
    );
    let address = listening
        .unwrap()
        .with(libp2p::multiaddr::Protocol::P2p(*swarm.local_peer_id()));
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            if let SwarmEvent::Behaviour(HostileEvent::Sync(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) = swarm.select_next_some().await
            {
                if request.get(4..) == Some(&SyncRequest::Status.encode()[..]) {
                    let _ = swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, claim.clone());
                } else {
                    // Never answered, never closed: the asker waits for its own deadline.
                    held.push(channel);
                }
            }
        }
    });
    address
}

/// A new node syncing from an honest peer and a staller (which claims the honest head with
/// twice its work, then answers neither headers nor bodies) finishes within twice the time a
/// node syncing from the honest peer alone takes; the staller is charged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_beside_a_stalling_peer_takes_at_most_twice_an_honest_one() {
    const LENGTH: u64 = 8_000;
    let honest = DevProcess::start_networked(&[]);
    let honest_rpc: HttpClient = HttpClientBuilder::default()
        .build(honest.http_url())
        .unwrap();
    for _ in 0..LENGTH / 1_000 {
        honest_rpc.dev_mine(1_000).await.unwrap();
    }
    let (_alone, honest_only) = time_to_sync(&[honest.p2p()], LENGTH).await;
    let honest_address: Multiaddr = honest.p2p().parse().unwrap();
    let staller = start_staller(&honest_address).await;
    let staller_id = match staller.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(peer)) => peer.to_string(),
        _ => unreachable!(),
    };
    let staller_text = staller.to_string();
    let (beside, with_staller) = time_to_sync(&[&staller_text, honest.p2p()], LENGTH).await;
    eprintln!(
        "sync of {LENGTH} blocks: {honest_only:?} from the honest peer alone, {with_staller:?} beside a staller"
    );
    assert!(
        with_staller <= honest_only * 2,
        "{with_staller:?} beside a staller, {honest_only:?} alone"
    );
    let peers = beside.operator_client().net_peers().await.unwrap();
    let charged = peers
        .iter()
        .find(|peer| peer.peer_id == staller_id)
        .is_none_or(|peer| peer.score < 0);
    assert!(charged, "the staller was charged: {peers:?}");
}
