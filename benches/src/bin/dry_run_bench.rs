//! Dry-run benchmark over JSON-RPC against a real `salus dev` process: `state_call` throughput
//! and latency at increasing concurrency with the node's limits in place (dry-run slots, the
//! RPC's concurrency limit, default fuel), for a light view and for a call that spins until its
//! fuel runs out — and, beside each flood, what the chain keeps doing: `chain_head` latency and
//! blocks mined. Prints a report for BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release --bin salus --bin dry-run-bench
//! $CARGO_TARGET_DIR/release/dry-run-bench            # or: dry-run-bench SECONDS_PER_LEVEL
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_benches::dev_node::{DevNode, percentile, salus_binary};
use salus_client::rpc::{CallRequest, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_SUPPLY_ADDRESS};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Address, Hash};

/// Concurrent callers at each level.
const CONCURRENCY: [usize; 6] = [1, 2, 4, 8, 32, 128];

/// How often the chain's head is asked for during a flood.
const HEAD_POLL: Duration = Duration::from_millis(20);

/// A contract whose call spins until its fuel runs out: the most expensive dry run a caller
/// can ask for at a given fuel.
const SPIN: &str =
    r#"(module (memory (export "memory") 1) (func (export "call") (loop $spin (br $spin))))"#;

/// One kind of dry run.
struct DryRun {
    name: &'static str,
    contract: Address,
    input: Vec<u8>,
    /// `None`: the node's default.
    fuel: Option<u64>,
}

/// What one level of concurrency measured.
struct LevelReport {
    completed: usize,
    busy: usize,
    failed: usize,
    latencies: Vec<Duration>,
    head_latencies: Vec<Duration>,
    blocks: u64,
    elapsed: Duration,
}

/// An unsigned request (run as the zero address): the benchmarked messages check no caller,
/// and a signature would add a public-key recovery to every call measured.
fn request(dry_run: &DryRun) -> CallRequest {
    CallRequest {
        contract: dry_run.contract.to_string(),
        input: format!("0x{}", hex::encode(&dry_run.input)),
        fuel: dry_run.fuel,
        ..CallRequest::default()
    }
}

async fn flood(
    rpc: &HttpClient,
    dry_run: &DryRun,
    callers: usize,
    duration: Duration,
) -> anyhow::Result<LevelReport> {
    let start_head = rpc.chain_head().await?.number;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (rpc, stop, request) = (rpc.clone(), stop.clone(), request(dry_run));
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut busy, mut failed) = (Vec::new(), 0usize, 0usize);
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                match rpc.state_call(request.clone()).await {
                    Ok(_) => latencies.push(sent.elapsed()),
                    Err(error) if error.to_string().contains("busy") => busy += 1,
                    Err(_) => failed += 1,
                }
            }
            (latencies, busy, failed)
        }));
    }
    let mut head_latencies = Vec::new();
    while started.elapsed() < duration {
        let sent = Instant::now();
        rpc.chain_head().await?;
        head_latencies.push(sent.elapsed());
        tokio::time::sleep(HEAD_POLL).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut report = LevelReport {
        completed: 0,
        busy: 0,
        failed: 0,
        latencies: Vec::new(),
        head_latencies,
        blocks: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, busy, failed) = task.await?;
        report.completed += latencies.len();
        report.latencies.extend(latencies);
        report.busy += busy;
        report.failed += failed;
    }
    report.elapsed = started.elapsed();
    report.blocks = rpc.chain_head().await?.number - start_head;
    report.latencies.sort();
    report.head_latencies.sort();
    Ok(report)
}

fn print_header() {
    println!(
        "| dry run | callers | calls/s | busy | failed | p50 ms | p99 ms | chain_head p50 / p99 ms | blocks/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
}

fn print_level(name: &str, callers: usize, report: &LevelReport) {
    let seconds = report.elapsed.as_secs_f64();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "| {name} | {callers} | {:.0} | {} | {} | {:.1} | {:.1} | {:.1} / {:.1} | {:.2} |",
        report.completed as f64 / seconds,
        report.busy,
        report.failed,
        ms(percentile(&report.latencies, 0.50)),
        ms(percentile(&report.latencies, 0.99)),
        ms(percentile(&report.head_latencies, 0.50)),
        ms(percentile(&report.head_latencies, 0.99)),
        report.blocks as f64 / seconds,
    );
}

/// Deploys the spinning contract and returns its address.
async fn deploy_spin(rpc: &HttpClient) -> anyhow::Result<Address> {
    let key = derive_key(DEV_MNEMONIC, 1)?;
    let nonce = rpc
        .state_get_account(key.address().to_string(), None)
        .await?
        .nonce;
    let mut builder = TransactionBuilder::new(DEV_CHAIN_ID, key, nonce).fuel(50_000_000, 1);
    let deploy = builder.deploy(wat::parse_str(SPIN)?, Vec::new(), Hash([1; 32]));
    let hash = rpc
        .tx_submit(format!("0x{}", hex::encode(deploy.encode())))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(receipt) = rpc.tx_receipt(hash.clone()).await? {
            if receipt.status != "success" {
                bail!(
                    "the spinning contract was not deployed: {:?}",
                    receipt.failure
                );
            }
            return receipt.return_data.parse().context("deployed address");
        }
        if Instant::now() > deadline {
            bail!("the deploy was not mined within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = match std::env::args().nth(1) {
        Some(text) => text.parse().context("SECONDS_PER_LEVEL must be a number")?,
        None => 5,
    };
    let duration = Duration::from_secs(seconds);
    let salus = salus_binary()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let node = DevNode::start(&salus, &["--block-time-ms", "1000"])?;
        let supply_abi: ContractAbi = serde_json::from_value(
            node.rpc
                .contract_abi(DEV_SUPPLY_ADDRESS.to_string())
                .await?
                .context("the supply contract's ABI")?,
        )?;
        let verify = supply_abi.encode_call(
            "verify",
            &serde_json::json!(["00312345678906", "S1", "L1", 1_900_000_000_000u64]),
        )?;
        let spin = deploy_spin(&node.rpc).await?;
        let dry_runs = [
            DryRun {
                name: "supply verify (a view)",
                contract: DEV_SUPPLY_ADDRESS,
                input: verify,
                fuel: None,
            },
            DryRun {
                name: "spin to the default fuel",
                contract: spin,
                input: Vec::new(),
                fuel: None,
            },
        ];
        println!(
            "dry-run benchmark: {seconds} s per level, a block every second, {} cores",
            std::thread::available_parallelism().map_or(1, usize::from)
        );
        print_header();
        for dry_run in &dry_runs {
            for callers in CONCURRENCY {
                let report = flood(&node.rpc, dry_run, callers, duration).await?;
                print_level(dry_run.name, callers, &report);
            }
        }
        Ok(())
    })
}
