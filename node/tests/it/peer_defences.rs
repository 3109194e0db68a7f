//! The network's doors for peers, against `salus dev` processes on loopback and in-process
//! libp2p peers: a peer banned for an invalid block that comes back with a fresh identity from
//! the same address is refused before the handshake when IP bans are on (and let in when they
//! are off); connections over the cap on pending handshakes and over the per-address limit are
//! refused before the handshake, so the node never holds more; with every inbound slot taken, a
//! newcomer evicts the youngest peer while the longest-connected stay.

use std::time::Duration;

use futures::StreamExt;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_node::chain::validation::check_proof_of_work;
use salus_node::network::protocol::blocks_topic;
use salus_primitives::{Address, Hash};
use tokio::sync::mpsc;

use crate::support::{DevProcess, TestChain};

const DEADLINE: Duration = Duration::from_secs(30);

#[derive(NetworkBehaviour)]
struct Harness {
    gossip: gossipsub::Behaviour,
}

fn harness_swarm() -> Swarm<Harness> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| Harness {
            gossip: gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub::ConfigBuilder::default().build().unwrap(),
            )
            .unwrap(),
        })
        .unwrap()
        .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(120)))
        .build()
}

/// What a peer saw of its connection to the node.
#[derive(Debug, PartialEq)]
enum Seen {
    /// The handshake completed.
    Established,
    /// The node closed an established connection.
    Closed,
    /// The dial failed: the connection never got through the handshake.
    Failed,
}

/// An in-process peer dialling the node from a fresh identity, on its own task.
struct Peer {
    id: PeerId,
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    /// Dials `target`; publishes `attack` on its topic once the node subscribes to it.
    fn dial(target: &Multiaddr, attack: Option<(IdentTopic, Vec<u8>)>) -> Peer {
        let mut swarm = harness_swarm();
        let id = *swarm.local_peer_id();
        let target_id = peer_id_of(target);
        let (report, seen) = mpsc::unbounded_channel();
        swarm.dial(target.clone()).unwrap();
        let task = tokio::spawn(async move {
            let mut attack = attack;
            loop {
                let seen = match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == target_id => {
                        Seen::Established
                    }
                    SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == target_id => {
                        Seen::Closed
                    }
                    SwarmEvent::OutgoingConnectionError { .. } => Seen::Failed,
                    SwarmEvent::Behaviour(HarnessEvent::Gossip(gossipsub::Event::Subscribed {
                        peer_id,
                        topic,
                    })) if peer_id == target_id => {
                        if let Some((attack_topic, bytes)) =
                            attack.take_if(|(attack_topic, _)| attack_topic.hash() == topic)
                        {
                            swarm
                                .behaviour_mut()
                                .gossip
                                .publish(attack_topic, bytes)
                                .unwrap();
                        }
                        continue;
                    }
                    _ => continue,
                };
                let _ = report.send(seen);
            }
        });
        Peer { id, seen, task }
    }

    /// The next thing the peer saw, before the deadline.
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(DEADLINE, self.seen.recv())
            .await
            .expect("the node reacted before the deadline")
            .expect("the peer's task runs")
    }
}

fn peer_id_of(address: &Multiaddr) -> PeerId {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => peer,
        _ => panic!("a /p2p address"),
    }
}

fn tcp_port_of(address: &Multiaddr) -> u16 {
    address
        .iter()
        .find_map(|part| match part {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .expect("a TCP address")
}

fn rpc(node: &DevProcess) -> HttpClient {
    HttpClientBuilder::default().build(node.http_url()).unwrap()
}

async fn peers_of(rpc: &HttpClient) -> Vec<String> {
    rpc.net_peers()
        .await
        .unwrap()
        .into_iter()
        .map(|peer| peer.peer_id)
        .collect()
}

/// Polls the node's peers until `check` holds, before the deadline.
async fn until_peers(rpc: &HttpClient, what: &str, check: impl Fn(&[String]) -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if check(&peers_of(rpc).await) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: peers {:?}",
            peers_of(rpc).await
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn networked(extra: &[&str]) -> DevProcess {
    let mut arguments = vec![
        "--block-time-ms",
        "0",
        "--p2p-listen",
        "/ip4/127.0.0.1/tcp/0",
    ];
    arguments.extend_from_slice(extra);
    DevProcess::start_with(&arguments)
}

/// A block of the dev chain's genesis whose proof of work fails.
fn bad_work_block() -> Vec<u8> {
    let mut block = TestChain::new().next_block(Address([0xee; 20]), &[]);
    while check_proof_of_work(&block.header, &block.header.hash()).is_ok() {
        block.header.nonce = block.header.nonce.wrapping_add(1);
    }
    block.encode()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_banned_for_an_invalid_block_is_refused_with_a_fresh_identity_from_its_address() {
    for ban_ip in [true, false] {
        let node = if ban_ip {
            networked(&["--p2p-ban-ip"])
        } else {
            networked(&[])
        };
        let rpc = rpc(&node);
        let target: Multiaddr = node.p2p().parse().unwrap();
        let genesis: Hash = rpc.node_info().await.unwrap().genesis.parse().unwrap();
        let attack = (blocks_topic(&genesis), bad_work_block());

        let mut forger = Peer::dial(&target, Some(attack));
        assert_eq!(forger.next().await, Seen::Established);
        assert_eq!(forger.next().await, Seen::Closed, "banned for the block");
        until_peers(&rpc, "the forger to go", |peers| peers.is_empty()).await;

        // The same address, a fresh identity.
        let mut again = Peer::dial(&target, None);
        if ban_ip {
            assert_eq!(
                again.next().await,
                Seen::Failed,
                "refused before the handshake"
            );
            assert!(peers_of(&rpc).await.is_empty());
        } else {
            assert_eq!(again.next().await, Seen::Established, "IP bans off: let in");
            let id = again.id.to_string();
            until_peers(&rpc, "the fresh identity", |peers| peers == [id.clone()]).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_pending_cap_or_the_per_address_limit_fail_at_the_handshake() {
    let node = networked(&["--p2p-max-pending-inbound", "2", "--p2p-max-per-ip", "3"]);
    let rpc = rpc(&node);
    let target: Multiaddr = node.p2p().parse().unwrap();

    // Two connections that never start their handshake fill the pending slots: a real peer
    // behind them is dropped before its handshake completes.
    let port = tcp_port_of(&target);
    let half_open = [
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap(),
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap(),
    ];
    let mut refused = Peer::dial(&target, None);
    assert_eq!(refused.next().await, Seen::Failed, "over the pending cap");
    drop(half_open);

    // Three peers from the address get in (the first may still find the half-open
    // connections being dropped: it retries until its deadline).
    let mut admitted = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while admitted.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "peers admitted");
        let mut peer = Peer::dial(&target, None);
        if peer.next().await == Seen::Established {
            admitted.push(peer);
            let count = admitted.len();
            until_peers(&rpc, "the new peer", |peers| peers.len() == count).await;
        }
    }
    // A fourth from the same address fails at the handshake; the node holds three.
    for _ in 0..3 {
        let mut fourth = Peer::dial(&target, None);
        assert_eq!(
            fourth.next().await,
            Seen::Failed,
            "over the per-address limit"
        );
        assert_eq!(peers_of(&rpc).await.len(), 3);
    }
    for peer in &mut admitted {
        assert!(
            peer.seen.try_recv().is_err(),
            "admitted peers stay connected"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_to_full_inbound_slots_evicts_the_youngest_peer_and_the_oldest_stay() {
    let node = networked(&["--p2p-max-inbound", "6", "--p2p-max-per-ip", "16"]);
    let rpc = rpc(&node);
    let target: Multiaddr = node.p2p().parse().unwrap();
    let mut peers = Vec::new();
    for count in 1..=6 {
        let mut peer = Peer::dial(&target, None);
        assert_eq!(peer.next().await, Seen::Established);
        peers.push(peer);
        until_peers(&rpc, "the peer to join", |ids| ids.len() == count).await;
    }

    // Full. On one address every peer is in one network group: the oldest is protected for
    // the group, the next four for their (neutral) scores and age; the youngest goes.
    let mut newcomer = Peer::dial(&target, None);
    assert_eq!(newcomer.next().await, Seen::Established);
    assert_eq!(peers[5].next().await, Seen::Closed, "the youngest evicted");
    let (oldest, youngest, new) = (
        peers[0].id.to_string(),
        peers[5].id.to_string(),
        newcomer.id.to_string(),
    );
    until_peers(&rpc, "the newcomer in the youngest's place", |ids| {
        ids.len() == 6 && ids.contains(&new) && ids.contains(&oldest) && !ids.contains(&youngest)
    })
    .await;
    for peer in &mut peers[..5] {
        assert!(peer.seen.try_recv().is_err(), "the older peers stay");
    }
}
