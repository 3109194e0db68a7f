//! Separate `salus dev` processes joined over libp2p on loopback: gossip of blocks and
//! transactions, headers-first sync of a long chain from two peers, and recovery from a SIGKILL
//! in the middle of a sync.

use std::time::{Duration, Instant};

use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_client::rpc::{HeaderView, SalusApiClient};
use salus_primitives::Address;

use crate::support::{DevProcess, dev_key, transfer};

/// Generous: CI machines are slow and shared; the tests poll and finish as soon as they can.
const DEADLINE: Duration = Duration::from_secs(90);

/// A client with the node's cookie token: these tests ban, unban and add peers.
fn client(node: &DevProcess) -> HttpClient {
    node.operator_client()
}

/// Polls `check` until it returns `Some` or the deadline passes.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An account's balance at a node's head (decimal string).
async fn balance(node: &HttpClient, address: Address) -> String {
    node.state_get_account(address.to_string(), None)
        .await
        .unwrap()
        .balance
}

async fn head(node: &HttpClient) -> HeaderView {
    node.chain_head().await.unwrap()
}

/// Waits until every node has the same head at `number` or above, and returns it.
async fn converged(nodes: &[&HttpClient], number: u64) -> HeaderView {
    eventually("the nodes to converge", || async {
        let mut heads = Vec::new();
        for node in nodes {
            heads.push(head(node).await);
        }
        let first = heads[0].clone();
        (first.number >= number && heads.iter().all(|other| *other == first)).then_some(first)
    })
    .await
}

async fn peer_count(node: &HttpClient) -> usize {
    node.net_peers().await.unwrap().len()
}

/// A, B (dialling A) and C (dialling both), once all three are connected to each other.
async fn three_connected_nodes() -> [DevProcess; 3] {
    let a = DevProcess::start_networked(&[]);
    let b = DevProcess::start_networked(&[a.p2p()]);
    let c = DevProcess::start_networked(&[a.p2p(), b.p2p()]);
    let (rpc_a, rpc_c) = (client(&a), client(&c));
    eventually("the peers to connect", || async {
        (peer_count(&rpc_a).await == 2 && peer_count(&rpc_c).await == 2).then_some(())
    })
    .await;
    [a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_converge_and_a_transaction_sent_to_one_is_mined_by_another() {
    let [a, b, c] = three_connected_nodes().await;
    let (rpc_a, rpc_b, rpc_c) = (client(&a), client(&b), client(&c));
    let info = rpc_b.node_info().await.unwrap();
    assert!(info.peer_id.is_some());
    assert!(
        info.listen_addresses[0].ends_with(info.peer_id.as_deref().unwrap()),
        "{info:?}"
    );

    rpc_a.dev_mine(5).await.unwrap();
    let agreed = converged(&[&rpc_a, &rpc_b, &rpc_c], 5).await;
    assert_eq!(agreed.number, 5);

    // A transfer submitted to B reaches A's pool by gossip, A mines it, C sees the receipt.
    let recipient = Address([0x42; 20]);
    let transaction = transfer(&dev_key(3), 0, recipient, 1_000);
    let hash = rpc_b
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    eventually("the transaction to reach A", || async {
        (rpc_a.node_info().await.unwrap().pending_transactions == 1).then_some(())
    })
    .await;
    rpc_a.dev_mine(1).await.unwrap();
    let receipt = eventually("C to see the receipt", || async {
        rpc_c.tx_receipt(hash.clone()).await.unwrap()
    })
    .await;
    assert_eq!(receipt.status, "success");
    let agreed = converged(&[&rpc_a, &rpc_b, &rpc_c], 6).await;
    assert_eq!(balance(&rpc_c, recipient).await, "1000");
    assert_eq!(head(&rpc_b).await.state_root, agreed.state_root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_syncs_a_long_chain_from_two_peers_and_survives_a_kill_during_sync() {
    const LENGTH: u64 = 500;
    let a = DevProcess::start_networked(&[]);
    let rpc_a = client(&a);
    // Mine in chunks (one RPC call may mine at most 1000).
    let recipient = Address([0x24; 20]);
    for round in 0..5u64 {
        let transaction = transfer(&dev_key(2), round, recipient, 10);
        rpc_a
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .unwrap();
        rpc_a.dev_mine((LENGTH / 5) as u32).await.unwrap();
    }
    assert_eq!(head(&rpc_a).await.number, LENGTH);
    let b = DevProcess::start_networked(&[a.p2p()]);
    let rpc_b = client(&b);
    converged(&[&rpc_a, &rpc_b], LENGTH).await;

    // C syncs from A and B; it is killed with SIGKILL mid-way and restarted.
    let c = DevProcess::start_networked(&[a.p2p(), b.p2p()]);
    let rpc_c = client(&c);
    eventually("C to start syncing", || async {
        let info = rpc_c.node_info().await.ok()?;
        (info.head.number > 0).then_some(())
    })
    .await;
    let c = c.kill_and_restart();
    let rpc_c = client(&c);
    let agreed = converged(&[&rpc_a, &rpc_b, &rpc_c], LENGTH).await;
    assert_eq!(agreed.number, LENGTH);
    assert_eq!(balance(&rpc_c, recipient).await, "50");
    eventually("C connected to both peers at the same head", || async {
        let peers = rpc_c.net_peers().await.unwrap();
        (peers.len() == 2 && peers.iter().all(|peer| peer.head_number == Some(LENGTH)))
            .then_some(())
    })
    .await;
    eventually("C to report that it caught up", || async {
        (!rpc_c.node_info().await.unwrap().sync.syncing).then_some(())
    })
    .await;

    // The database C built through sync and a crash re-verifies from genesis.
    let mut c = c;
    c.kill();
    let data_dir = c.dir.path().join("dev");
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_salus"))
        .arg("verify-chain")
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

async fn peer_id(node: &HttpClient) -> String {
    node.node_info().await.unwrap().peer_id.unwrap()
}

async fn submit(node: &HttpClient, transaction: &salus_primitives::SignedTransaction) -> String {
    node.tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_partition_heals_every_node_follows_the_heavier_branch_and_loses_no_transaction() {
    let [a, b, c] = three_connected_nodes().await;
    let (rpc_a, rpc_b, rpc_c) = (client(&a), client(&b), client(&c));
    rpc_a.dev_mine(3).await.unwrap();
    converged(&[&rpc_a, &rpc_b, &rpc_c], 3).await;

    // Split {A} from {B, C}: each side bans the other.
    let (id_a, id_b, id_c) = (
        peer_id(&rpc_a).await,
        peer_id(&rpc_b).await,
        peer_id(&rpc_c).await,
    );
    for (node, other) in [
        (&rpc_a, &id_b),
        (&rpc_a, &id_c),
        (&rpc_b, &id_a),
        (&rpc_c, &id_a),
    ] {
        assert!(node.net_ban_peer(other.clone(), 3_600).await.unwrap());
    }
    eventually("the partition", || async {
        (peer_count(&rpc_a).await == 0 && peer_count(&rpc_b).await == 1).then_some(())
    })
    .await;

    // Both sides take transactions and mine; {B, C} mines more.
    let on_a = transfer(&dev_key(4), 0, Address([0xa1; 20]), 7);
    let on_b = transfer(&dev_key(5), 0, Address([0xb1; 20]), 9);
    let hash_a = submit(&rpc_a, &on_a).await;
    let hash_b = submit(&rpc_b, &on_b).await;
    rpc_a.dev_mine(2).await.unwrap();
    rpc_b.dev_mine(4).await.unwrap();
    let heavier = converged(&[&rpc_b, &rpc_c], 7).await;
    assert_eq!(head(&rpc_a).await.number, 5);
    assert!(rpc_a.tx_receipt(hash_a.clone()).await.unwrap().is_some());

    // Heal: lift the bans and reconnect.
    for (node, other) in [
        (&rpc_a, &id_b),
        (&rpc_a, &id_c),
        (&rpc_b, &id_a),
        (&rpc_c, &id_a),
    ] {
        assert!(node.net_unban_peer(other.clone()).await.unwrap());
    }
    assert!(rpc_a.net_add_peer(b.p2p().to_string()).await.unwrap());
    let agreed = converged(&[&rpc_a, &rpc_b, &rpc_c], 7).await;
    assert_eq!(agreed, heavier, "A reorganised onto the heavier branch");

    // A's transaction was on the losing branch: it is pending again, and is mined.
    assert!(rpc_a.tx_receipt(hash_a.clone()).await.unwrap().is_none());
    eventually("A's transaction back in its pool", || async {
        (rpc_a.node_info().await.unwrap().pending_transactions == 1).then_some(())
    })
    .await;
    // ...and announced again: B, which never saw it, now has it pending too.
    eventually("A's transaction gossiped to B", || async {
        (rpc_b.node_info().await.unwrap().pending_transactions == 1).then_some(())
    })
    .await;
    rpc_a.dev_mine(1).await.unwrap();
    converged(&[&rpc_a, &rpc_b, &rpc_c], 8).await;
    for node in [&rpc_a, &rpc_b, &rpc_c] {
        for hash in [&hash_a, &hash_b] {
            let receipt = node.tx_receipt(hash.clone()).await.unwrap();
            assert_eq!(receipt.expect("mined").status, "success");
        }
    }
}
