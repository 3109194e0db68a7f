//! Network benchmark over loopback with real `salus dev` processes: how fast a new node syncs a
//! chain full of transfers from a peer, and how long a new block takes to reach nodes one and
//! two gossip hops away. Prints a report for BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release --bin salus --bin network-bench
//! $CARGO_TARGET_DIR/release/network-bench            # or: network-bench BLOCKS TX_PER_BLOCK ROUNDS
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use parity_scale_codec::Encode;
use salus_benches::dev_node::{DevNode, percentile, salus_binary};
use salus_client::rpc::SalusApiClient;
use salus_node::genesis::DEV_CHAIN_ID;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Action, Address, SecretKey, Transaction};

/// Longest wait for any one thing before the benchmark gives up.
const DEADLINE: Duration = Duration::from_secs(600);
/// How often heads are polled while timing propagation.
const POLL: Duration = Duration::from_micros(500);

/// A networked dev node mining only on demand, dialling `bootnodes`.
fn start_node(salus: &Path, bootnodes: &[&str]) -> anyhow::Result<DevNode> {
    let mut arguments = vec![
        "--block-time-ms",
        "0",
        "--p2p-listen",
        "/ip4/127.0.0.1/tcp/0",
    ];
    for bootnode in bootnodes {
        arguments.extend(["--bootnode", bootnode]);
    }
    let node = DevNode::start(salus, &arguments)?;
    if node.p2p.is_none() {
        bail!("salus dev did not print its P2P address");
    }
    Ok(node)
}

fn p2p(node: &DevNode) -> &str {
    node.p2p.as_deref().expect("checked at start")
}

async fn head_hash(node: &DevNode) -> anyhow::Result<String> {
    Ok(node.rpc.chain_head().await?.hash)
}

async fn wait_for_head(node: &DevNode, hash: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    while head_hash(node).await? != hash {
        if started.elapsed() > DEADLINE {
            bail!("the block did not arrive");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(started.elapsed())
}

/// Fills `node` with `blocks` blocks of `per_block` signed transfers each.
async fn fill(node: &DevNode, blocks: u32, per_block: u32) -> anyhow::Result<()> {
    let keys: Vec<SecretKey> = (0..10)
        .map(|index| derive_key(DEV_MNEMONIC, index))
        .collect::<Result<_, _>>()?;
    let mut nonces = [0u64; 10];
    for block in 0..blocks {
        for index in 0..per_block {
            let sender = (index as usize + block as usize) % keys.len();
            let transaction = Transaction {
                chain_id: DEV_CHAIN_ID,
                nonce: nonces[sender],
                fuel_limit: 50_000,
                fuel_price: 1,
                action: Action::Transfer {
                    to: Address([0x77; 20]),
                    amount: 1,
                },
                sponsor: None,
            }
            .sign(&keys[sender], None);
            nonces[sender] += 1;
            node.rpc
                .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
                .await?;
        }
        node.rpc.dev_mine(1).await?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let arguments: Vec<u32> = std::env::args()
        .skip(1)
        .map(|argument| argument.parse())
        .collect::<Result<_, _>>()
        .context("arguments: BLOCKS TX_PER_BLOCK ROUNDS")?;
    let blocks = arguments.first().copied().unwrap_or(500);
    let per_block = arguments.get(1).copied().unwrap_or(20);
    let rounds = arguments.get(2).copied().unwrap_or(30);
    let salus = salus_binary()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(&salus, blocks, per_block, rounds))
}

async fn run(salus: &Path, blocks: u32, per_block: u32, rounds: u32) -> anyhow::Result<()> {
    println!("salus: {}", salus.display());
    let a = start_node(salus, &[])?;
    let filling = Instant::now();
    fill(&a, blocks, per_block).await?;
    println!(
        "filled A with {blocks} blocks x {per_block} transfers in {:.1} s",
        filling.elapsed().as_secs_f64()
    );
    let target = head_hash(&a).await?;

    // Sync: B starts empty and catches up from A.
    let started = Instant::now();
    let b = start_node(salus, &[p2p(&a)])?;
    let process_start = started.elapsed();
    let synced = wait_for_head(&b, &target).await?;
    let seconds = synced.as_secs_f64();
    println!(
        "sync: {blocks} blocks, {} transactions in {seconds:.2} s after B started ({:.2} s to start the process): {:.0} blocks/s, {:.0} transactions/s",
        blocks * per_block,
        process_start.as_secs_f64(),
        f64::from(blocks) / seconds,
        f64::from(blocks * per_block) / seconds
    );

    // Propagation along A — B — C (C knows only B).
    let c = start_node(salus, &[p2p(&b)])?;
    wait_for_head(&c, &target).await?;
    let (mut one_hop, mut two_hops) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mined = a.rpc.dev_mine(1).await?;
        let hash = mined.first().context("a block was mined")?.clone();
        // Timed from the moment A has imported and announced the block.
        let (at_b, at_c) = tokio::join!(wait_for_head(&b, &hash), wait_for_head(&c, &hash));
        one_hop.push(at_b?);
        two_hops.push(at_c?);
    }
    one_hop.sort();
    two_hops.sort();
    for (name, samples) in [("1 hop (A→B)", &one_hop), ("2 hops (A→B→C)", &two_hops)] {
        println!(
            "propagation {name}: median {:.1} ms, p90 {:.1} ms, max {:.1} ms over {} blocks",
            percentile(samples, 0.5).as_secs_f64() * 1e3,
            percentile(samples, 0.9).as_secs_f64() * 1e3,
            samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            samples.len()
        );
    }
    Ok(())
}
