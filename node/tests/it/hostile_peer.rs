//! A hostile peer — a libp2p harness in this test speaking Salus's protocols — sends a block
//! with bad proof of work, a block with a bad state root, gossip that does not decode, an
//! oversized sync request and garbage bytes. Each time the node rejects the message, bans the
//! peer (a fresh identity is used for each case) and carries on with its honest peer.

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
use salus_node::network::protocol::{SYNC_PROTOCOL, blocks_topic};
use salus_primitives::{Address, Block, Hash};

use crate::support::{DevProcess, TestChain, seal};

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
                if let Some(Attack::Gossip(bytes)) = attack.take() {
                    swarm
                        .behaviour_mut()
                        .gossip
                        .publish(topic.clone(), bytes)
                        .unwrap();
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
