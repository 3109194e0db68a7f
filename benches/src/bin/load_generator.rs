//! Load generator: starts a `salus dev` node (release build), funds many fresh accounts, pre-signs
//! transfers from them with real keys, submits them over JSON-RPC at a fixed offered rate (or as
//! fast as the node accepts them) for a fixed time, and reports sustained included
//! transactions per second, submit-to-inclusion latency percentiles, fuel per second and the
//! node's resident memory at start and end. The node verifies every transaction as in
//! production: signatures, execution, the WAL and the state root (there is no switch to skip any).
//!
//! ```sh
//! cargo build --release --bin salus --bin load-generator
//! $CARGO_TARGET_DIR/release/load-generator --rate 2000 --seconds 20
//! ```
//!
//! This first slice drives plain transfers; consent and supply workloads are to come (issue 12).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use parity_scale_codec::Encode;
use salus_benches::dev_node::{DevNode, percentile, salus_binary};
use salus_client::rpc::{BlockId, SalusApiClient};
use salus_node::genesis::DEV_CHAIN_ID;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Action, Address, SecretKey, SignedTransaction, Transaction, keccak256};
use tokio::sync::Mutex;

/// Fuel limit of a load transfer: the intrinsic cost of a ~200-byte transaction plus the
/// transfer, with a little room (a block reserves each transaction's limit).
const TRANSFER_FUEL_LIMIT: u64 = 30_000;
/// Concurrent submitters.
const SUBMITTERS: usize = 8;
/// Longest wait for the node to include the last transactions after the run.
const DRAIN: Duration = Duration::from_secs(30);

struct Options {
    rate: Option<u32>,
    seconds: u64,
    accounts: u32,
    block_time_ms: u64,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options {
        rate: Some(1_000),
        seconds: 20,
        accounts: 2_000,
        block_time_ms: 1_000,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--rate" => {
                let text = value()?;
                options.rate = if text == "max" {
                    None
                } else {
                    Some(text.parse()?)
                };
            }
            "--seconds" => options.seconds = value()?.parse()?,
            "--accounts" => options.accounts = value()?.parse()?,
            "--block-time-ms" => options.block_time_ms = value()?.parse()?,
            "--help" | "-h" => {
                println!(
                    "load-generator [--rate N|max] [--seconds S] [--accounts A] [--block-time-ms T]\n\
                     Offers N signed transfers per second (default 1000) for S seconds (20) from A\n\
                     fresh accounts (2000) to a new `salus dev` node mining every T ms (1000), and\n\
                     reports included tx/s, latency percentiles, fuel/s and the node's RSS."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if options.accounts == 0 || options.seconds == 0 {
        bail!("--accounts and --seconds must be at least 1");
    }
    Ok(options)
}

/// A counter from the node's Prometheus endpoint.
async fn counter(node: &DevNode, name: &str) -> anyhow::Result<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let metrics = node.metrics.as_deref().context("the node serves metrics")?;
    let address = metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: load\r\n\r\n")
        .await?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await?;
    text.lines()
        .find_map(|line| line.strip_prefix(name).map(str::trim))
        .and_then(|value| value.parse().ok())
        .with_context(|| format!("metric {name} not found"))
}

fn transfer(
    key: &SecretKey,
    nonce: u64,
    to: Address,
    amount: u128,
    fuel: u64,
) -> SignedTransaction {
    Transaction {
        chain_id: DEV_CHAIN_ID,
        nonce,
        fuel_limit: fuel,
        fuel_price: 1,
        action: Action::Transfer { to, amount },
        sponsor: None,
    }
    .sign(key, None)
}

fn hex_of(transaction: &SignedTransaction) -> String {
    format!("0x{}", hex::encode(transaction.encode()))
}

/// Funds `keys` from the ten dev accounts and waits until every funding transfer is in a block.
async fn fund(node: &DevNode, keys: &[SecretKey]) -> anyhow::Result<()> {
    let dev: Vec<SecretKey> = (0..10)
        .map(|index| derive_key(DEV_MNEMONIC, index))
        .collect::<Result<_, _>>()?;
    let mut nonces = [0u64; 10];
    for chunk in keys.chunks(10 * 60) {
        for (index, key) in chunk.iter().enumerate() {
            let from = index % 10;
            let funding = transfer(
                &dev[from],
                nonces[from],
                key.address(),
                10u128.pow(21),
                50_000,
            );
            nonces[from] += 1;
            node.rpc.tx_submit(hex_of(&funding)).await?;
        }
        // Wait for the pool to empty before the next chunk (the nonce window is 64).
        let started = Instant::now();
        while node.rpc.node_info().await?.pending_transactions > 0 {
            if started.elapsed() > Duration::from_secs(120) {
                bail!("funding transactions were not mined");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let salus = salus_binary()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(&salus, options))
}

async fn run(salus: &Path, options: Options) -> anyhow::Result<()> {
    let block_time = options.block_time_ms.to_string();
    let node = DevNode::start(
        salus,
        &[
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-time-ms",
            &block_time,
        ],
    )?;
    let keys: Vec<SecretKey> = (0..options.accounts)
        .map(|index| {
            SecretKey::from_bytes(&keccak256(&index.to_le_bytes()).0).context("a load key")
        })
        .collect::<Result<_, _>>()?;
    let funding = Instant::now();
    fund(&node, &keys).await?;
    println!(
        "funded {} accounts in {:.1} s",
        keys.len(),
        funding.elapsed().as_secs_f64()
    );

    // Pre-sign everything the run may send: round-robin over the accounts.
    let planned = match options.rate {
        Some(rate) => u64::from(rate) * options.seconds,
        // As fast as possible: enough for ~20,000 tx/s.
        None => 20_000 * options.seconds,
    };
    let signing = Instant::now();
    let mut nonces = vec![0u64; keys.len()];
    let transactions: Vec<(String, String)> = (0..planned)
        .map(|index| {
            let sender = (index % keys.len() as u64) as usize;
            let transaction = transfer(
                &keys[sender],
                nonces[sender],
                Address([0x77; 20]),
                1,
                TRANSFER_FUEL_LIMIT,
            );
            nonces[sender] += 1;
            (transaction.hash().to_string(), hex_of(&transaction))
        })
        .collect();
    println!(
        "pre-signed {} transfers in {:.1} s",
        transactions.len(),
        signing.elapsed().as_secs_f64()
    );

    let rss_start = node.rss_kib();
    let fuel_start = counter(&node, "salus_fuel_used_total").await?;
    let first_block = node.rpc.chain_head().await?.number + 1;
    let submitted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let rejected = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let queue = Arc::new(Mutex::new(transactions.into_iter()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut submitters = Vec::new();
    for worker in 0..SUBMITTERS {
        let (rpc, submitted, rejected, queue) = (
            node.rpc.clone(),
            submitted.clone(),
            rejected.clone(),
            queue.clone(),
        );
        let per_worker_interval = options
            .rate
            .map(|rate| Duration::from_secs_f64(SUBMITTERS as f64 / f64::from(rate.max(1))));
        submitters.push(tokio::spawn(async move {
            let mut next = Instant::now()
                + per_worker_interval.map_or(Duration::ZERO, |interval| {
                    interval.mul_f64(worker as f64 / SUBMITTERS as f64)
                });
            while Instant::now() < deadline {
                if let Some(interval) = per_worker_interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += interval;
                }
                let Some((hash, raw)) = queue.lock().await.next() else {
                    return;
                };
                let at = Instant::now();
                match rpc.tx_submit(raw).await {
                    Ok(_) => {
                        submitted.lock().await.insert(hash, at);
                    }
                    Err(_) => {
                        rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    // Watch blocks: inclusion time of each submitted transaction.
    let mut latencies = Vec::new();
    let mut included_in_window = 0u64;
    let mut next_block = first_block;
    let drain_deadline = deadline + DRAIN;
    loop {
        let head = node.rpc.chain_head().await?.number;
        while next_block <= head {
            let block = node
                .rpc
                .chain_get_block(BlockId::Number(next_block))
                .await?
                .context("a canonical block")?;
            let seen = Instant::now();
            let mut submitted = submitted.lock().await;
            for hash in &block.transactions {
                if let Some(at) = submitted.remove(hash) {
                    latencies.push(seen.duration_since(at));
                    if seen <= deadline {
                        included_in_window += 1;
                    }
                }
            }
            next_block += 1;
        }
        let now = Instant::now();
        let all_done = now >= deadline && submitted.lock().await.is_empty();
        if all_done || now >= drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for submitter in submitters {
        submitter.await?;
    }
    let fuel_end = counter(&node, "salus_fuel_used_total").await?;
    let rss_end = node.rss_kib();
    latencies.sort();
    let seconds = options.seconds as f64;
    let offered = options
        .rate
        .map_or_else(|| "max".to_string(), |rate| rate.to_string());
    // (One lock, taken before formatting: two guards in one statement would deadlock.)
    let never_included = submitted.lock().await.len();
    println!(
        "offered {offered} tx/s for {} s; accepted {}, refused by the node {}, never included {never_included}",
        options.seconds,
        latencies.len() + never_included,
        rejected.load(std::sync::atomic::Ordering::Relaxed),
    );
    println!(
        "included during the run: {included_in_window} ({:.0} tx/s sustained); fuel {:.0} /s",
        included_in_window as f64 / seconds,
        (fuel_end - fuel_start) as f64 / seconds
    );
    println!(
        "submit-to-inclusion latency: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms (block time {} ms)",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        options.block_time_ms
    );
    if let (Some(start), Some(end)) = (rss_start, rss_end) {
        println!(
            "node RSS: {:.1} MiB at start, {:.1} MiB at end",
            start as f64 / 1024.0,
            end as f64 / 1024.0
        );
    }
    Ok(())
}
