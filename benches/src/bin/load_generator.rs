//! Load generator (also `salus bench`): measures this machine's bound B for a workload
//! in-process, then starts a `salus dev` node (release build), brings it to the workload's
//! set-up state, submits pre-signed transactions from many accounts over JSON-RPC
//! (`tx_submitBatch`, up to 32 a call) at a fixed offered rate (or as fast as the node accepts
//! them, each sender kept within its nonce window) for a fixed time, and reports sustained
//! included transactions per second over the run and in its steady second half, achieved / B,
//! submit-to-inclusion latency percentiles,
//! fuel per second, refusals and the node's resident memory. The node verifies every
//! transaction as in production: signatures, execution, the WAL and the state root (there is no
//! switch to skip any). `--curve` repeats the run at 10–125 % of the measured maximum, each on
//! a fresh node.
//!
//! ```sh
//! cargo build --release --bin salus --bin load-generator
//! $CARGO_TARGET_DIR/release/load-generator --workload consent --rate max --seconds 20
//! ```

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use parity_scale_codec::Encode;
use salus_benches::bound::{LocalChain, StageCosts};
use salus_benches::dev_node::{DevNode, cpu_time, percentile, salus_binary};
use salus_benches::workload::{Workload, WorkloadKind, waves};
use salus_client::rpc::{BlockId, SalusApiClient, SubmitOutcome};
use salus_primitives::SignedTransaction;
use salus_runtime::fuel_schedule::intrinsic_fuel;
use tokio::sync::Mutex;

/// Concurrent submitters.
const SUBMITTERS: usize = 8;
/// Transactions per `tx_submitBatch` call at most (the node takes up to
/// `salus_client::rpc::MAX_SUBMIT_BATCH`).
const MAX_BATCH: usize = 32;
/// Batches per second the submitters aim for at a fixed rate: small batches keep the offered
/// load smooth, fewer requests keep the generator's own CPU use low.
const BATCHES_PER_SECOND: u32 = 200;
/// At "max", submitters pause while the node holds this many pending transactions (three
/// quarters of its pool, a few blocks' worth).
const POOL_HIGH_WATER: u64 = (salus_node::mempool::MAX_POOL_TRANSACTIONS as u64) * 3 / 4;
/// At "max", submitters keep at most this many transactions per sender submitted but not yet
/// included (seven eighths of the node's nonce window): load transactions go round-robin over
/// the senders, and a wallet does not sign past the window the node accepts. Without it, a
/// workload of few senders (200 manufacturers) had ~80,000 submissions a run refused for a
/// nonce too far ahead, each after the node had recovered its signature.
const IN_FLIGHT_PER_SENDER: usize = salus_node::mempool::MAX_NONCE_GAP as usize * 7 / 8;
/// Longest wait for the node to include the last transactions after the run.
const DRAIN: Duration = Duration::from_secs(30);
/// Most load transactions in the in-process stage measurement.
const SAMPLE: u64 = 2_000;
/// How often a run records the node's RSS.
const RSS_SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The columns of `--csv`.
const CSV_HEADER: &str = "workload,fraction,offered_tps,included_tps,bound_tps,p50_ms,p95_ms,p99_ms,\
refused,never_included,fuel_per_s,rss_start_mib,rss_end_mib,node_cores,generator_cores,steady_tps";
/// Blocks of load transactions the stage measurement times.
const MEASURED_BLOCKS: usize = 3;
/// Offered load of the curve, as fractions of the measured maximum.
const CURVE: [f64; 6] = [0.10, 0.25, 0.50, 0.75, 1.00, 1.25];

const HELP: &str = "\
load-generator (salus bench): end-to-end throughput and latency of a dev chain

  --workload transfer|consent|supply   what the load does (default transfer)
  --rate N|max        offered transactions per second, or as fast as accepted (default max)
  --seconds S         length of the run (default 20)
  --accounts A        load senders for transfer and consent (default 2000)
  --block-time-ms T   the dev node's block interval (default 1000)
  --curve             run at max, then at 10, 25, 50, 75, 100 and 125 % of it, each on a fresh
                      node, and print the throughput-latency table
  --csv FILE          append each run's figures to FILE (CSV)
  --console-viewers V simulate V open console tabs (default 0): each fetches the live home
                      page's fragment (/ui/?fragment=main) at every new head, as the console's
                      script does, and the run reports the pages' answer times

It first measures the bound B of this machine in-process (decode, hash, signature, execution,
state commitment and RocksDB write, single core each; B = cores / sum), then drives a fresh
`salus dev` node (the salus binary beside this one, or $SALUS_BIN) and prints included tx/s
(over the run, and in its second half once the pool is full), achieved / B, latency percentiles, fuel/s, refusals and the node's RSS.";

struct Options {
    workload: WorkloadKind,
    rate: Option<u32>,
    seconds: u64,
    accounts: usize,
    block_time_ms: u64,
    curve: bool,
    csv: Option<PathBuf>,
    console_viewers: usize,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options {
        workload: WorkloadKind::Transfer,
        rate: None,
        seconds: 20,
        accounts: 2_000,
        block_time_ms: 1_000,
        curve: false,
        csv: None,
        console_viewers: 0,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--workload" => options.workload = value()?.parse()?,
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
            "--curve" => options.curve = true,
            "--csv" => options.csv = Some(PathBuf::from(value()?)),
            "--console-viewers" => options.console_viewers = value()?.parse()?,
            "--help" | "-h" => {
                println!("{HELP}");
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

fn hex_of(transaction: &SignedTransaction) -> String {
    format!("0x{}", hex::encode(transaction.encode()))
}

/// Submits the set-up waves one after the other, each once the previous one is in blocks, and
/// checks that every set-up transaction succeeded.
async fn set_up(node: &DevNode, workload: &Workload) -> anyhow::Result<()> {
    for phase in &workload.setup {
        for wave in waves(phase) {
            for transaction in &wave {
                node.rpc
                    .tx_submit(hex_of(transaction))
                    .await
                    .context("a set-up transaction was refused")?;
            }
            let started = Instant::now();
            while node.rpc.node_info().await?.pending_transactions > 0 {
                if started.elapsed() > Duration::from_secs(120) {
                    bail!("set-up transactions were not mined");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            for transaction in &wave {
                let receipt = node
                    .rpc
                    .tx_receipt(transaction.hash().to_string())
                    .await?
                    .context("a set-up transaction left the pool without a receipt")?;
                if receipt.status != "success" {
                    bail!("set-up transaction failed: {:?}", receipt.failure);
                }
            }
        }
    }
    Ok(())
}

/// What one run measured.
struct RunReport {
    offered: Option<u32>,
    seconds: u64,
    accepted: u64,
    refused: u64,
    first_refusal: Option<String>,
    never_included: u64,
    included_in_window: u64,
    /// Included load transactions per second in the run's second half (see [`steady_rate`]).
    steady_per_second: Option<f64>,
    latencies: Vec<Duration>,
    fuel_per_second: f64,
    rss_start_kib: Option<u64>,
    rss_end_kib: Option<u64>,
    /// The node's RSS (KiB) every [`RSS_SAMPLE_EVERY`] while load was offered.
    rss_samples: Vec<(Duration, u64)>,
    /// Cores the node kept busy on average (CPU time / wall time) while load was offered.
    node_cores: f64,
    /// Cores this generator kept busy meanwhile (submitting and watching blocks).
    generator_cores: f64,
    /// Answer times of the simulated console tabs' page fetches, sorted, and how many failed.
    console_pages: (Vec<Duration>, u64),
}

impl RunReport {
    fn included_per_second(&self) -> f64 {
        self.included_in_window as f64 / self.seconds as f64
    }

    fn print(&self, block_time_ms: u64, bound: f64) {
        let offered = self
            .offered
            .map_or_else(|| "max".to_string(), |rate| rate.to_string());
        println!(
            "offered {offered} tx/s for {} s: accepted {}, refused {}{}, never included {}",
            self.seconds,
            self.accepted,
            self.refused,
            self.first_refusal
                .as_ref()
                .map_or_else(String::new, |why| format!(" (first: {why})")),
            self.never_included
        );
        println!(
            "included during the run: {} = {:.0} tx/s sustained = {:.0} % of B; fuel {:.0}/s",
            self.included_in_window,
            self.included_per_second(),
            100.0 * self.included_per_second() / bound,
            self.fuel_per_second
        );
        if let Some(steady) = self.steady_per_second {
            println!(
                "steady state (blocks of the run's second half, by their timestamps): {steady:.0} tx/s = {:.0} % of B",
                100.0 * steady / bound
            );
        }
        println!(
            "submit-to-inclusion latency: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms (block time {block_time_ms} ms)",
            self.p(0.50),
            self.p(0.95),
            self.p(0.99),
        );
        println!(
            "CPU: node {:.2} cores, load generator {:.2} cores (of {})",
            self.node_cores,
            self.generator_cores,
            std::thread::available_parallelism().map_or(1, usize::from)
        );
        let (pages, failed) = &self.console_pages;
        if !pages.is_empty() || *failed > 0 {
            println!(
                "console pages: {} fetched, {failed} failed; answer p50 {:.0} ms, p99 {:.0} ms",
                pages.len(),
                percentile(pages, 0.50).as_secs_f64() * 1e3,
                percentile(pages, 0.99).as_secs_f64() * 1e3,
            );
        }
        if let (Some(start), Some(end)) = (self.rss_start_kib, self.rss_end_kib) {
            println!(
                "node RSS: {:.1} MiB at start, {:.1} MiB at end",
                start as f64 / 1024.0,
                end as f64 / 1024.0
            );
        }
        // For runs of several minutes: the series, and the change after the first minute (the
        // caches' warm-up) to the end.
        if self.seconds >= 120 {
            let series: Vec<String> = self
                .rss_samples
                .iter()
                .map(|(at, kib)| format!("{}s {:.0}", at.as_secs(), *kib as f64 / 1024.0))
                .collect();
            println!("node RSS over the run (MiB): {}", series.join(", "));
            let after_warm_up = self
                .rss_samples
                .iter()
                .find(|(at, _)| *at >= Duration::from_secs(60));
            if let (Some((_, warm)), Some((_, last))) = (after_warm_up, self.rss_samples.last()) {
                println!(
                    "node RSS from 60 s to the end: {:.1} -> {:.1} MiB ({:+.1} %)",
                    *warm as f64 / 1024.0,
                    *last as f64 / 1024.0,
                    100.0 * (*last as f64 - *warm as f64) / *warm as f64
                );
            }
        }
    }

    /// Latency percentile in ms.
    fn p(&self, fraction: f64) -> f64 {
        percentile(&self.latencies, fraction).as_secs_f64() * 1e3
    }
}

/// Starts a fresh node, sets it up and offers `transactions` at `rate` for `seconds`.
async fn run_once(
    salus: &Path,
    options: &Options,
    workload: &Workload,
    transactions: &[SignedTransaction],
    rate: Option<u32>,
) -> anyhow::Result<RunReport> {
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
    let started = Instant::now();
    set_up(&node, workload).await?;
    println!(
        "node set up ({} set-up transactions) in {:.1} s",
        workload.setup.iter().map(Vec::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let planned = match rate {
        Some(rate) => (u64::from(rate) * options.seconds) as usize,
        None => transactions.len(),
    }
    .min(transactions.len());
    let batch = match rate {
        Some(rate) => ((rate / BATCHES_PER_SECOND) as usize).clamp(1, MAX_BATCH),
        None => MAX_BATCH,
    };
    let prepared: Vec<(String, String)> = transactions[..planned]
        .iter()
        .map(|transaction| (transaction.hash().to_string(), hex_of(transaction)))
        .collect();

    let rss_start_kib = node.rss_kib();
    let node_cpu_start = cpu_time(node.pid()).unwrap_or_default();
    let own_cpu_start = cpu_time(std::process::id()).unwrap_or_default();
    let fuel_start = counter(&node, "salus_fuel_used_total").await?;
    let first_block = node.rpc.chain_head().await?.number + 1;
    let submitted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let refused = Arc::new(AtomicU64::new(0));
    let first_refusal: Arc<Mutex<Option<String>>> = Arc::default();
    // Refused transactions go back to the front of the queue: a sender's later nonces wait for
    // them, as a wallet retries a transaction the node refused for a full pool.
    let queue = Arc::new(Mutex::new(
        prepared
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let pending = Arc::new(AtomicU64::new(0));
    let in_flight_limit = workload.senders.len() * IN_FLIGHT_PER_SENDER;
    let mut submitters = Vec::new();
    for worker in 0..SUBMITTERS {
        let (rpc, submitted, refused, first_refusal, queue) = (
            node.rpc.clone(),
            submitted.clone(),
            refused.clone(),
            first_refusal.clone(),
            queue.clone(),
        );
        // Each worker sends one batch every `interval`: SUBMITTERS workers, staggered.
        let interval = rate.map(|rate| {
            Duration::from_secs_f64(SUBMITTERS as f64 * batch as f64 / f64::from(rate.max(1)))
        });
        let pending = pending.clone();
        submitters.push(tokio::spawn(async move {
            let mut next = Instant::now()
                + interval.map_or(Duration::ZERO, |interval| {
                    interval.mul_f64(worker as f64 / SUBMITTERS as f64)
                });
            while Instant::now() < deadline {
                if let Some(interval) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += interval;
                } else if pending.load(Ordering::Relaxed) >= POOL_HIGH_WATER {
                    // As fast as accepted: keep the pool below its bound instead of filling it
                    // and having transactions refused.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                // Taken from the queue and recorded as submitted in one step, so that the
                // submitters together stay within the in-flight limit; recorded before
                // sending, since a block may include them before the reply arrives.
                let at = Instant::now();
                let (chunk, queue_empty) = {
                    let mut submitted = submitted.lock().await;
                    let room = match interval {
                        Some(_) => batch,
                        None => in_flight_limit.saturating_sub(submitted.len()),
                    };
                    let mut queue = queue.lock().await;
                    let take = batch.min(room).min(queue.len());
                    let chunk: Vec<(String, String)> = queue.drain(..take).collect();
                    for (hash, _) in &chunk {
                        submitted.insert(hash.clone(), at);
                    }
                    (chunk, queue.is_empty())
                };
                if chunk.is_empty() {
                    if queue_empty {
                        return Ok(());
                    }
                    // As fast as accepted, and every sender's nonce window is in use: wait
                    // for blocks to include some.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                let raws: Vec<&String> = chunk.iter().map(|(_, raw)| raw).collect();
                let outcomes: Vec<SubmitOutcome> =
                    rpc.request("tx_submitBatch", rpc_params![raws]).await?;
                let mut retry = Vec::new();
                for ((hash, raw), outcome) in chunk.into_iter().zip(outcomes) {
                    if let Some(error) = outcome.error {
                        submitted.lock().await.remove(&hash);
                        refused.fetch_add(1, Ordering::Relaxed);
                        first_refusal.lock().await.get_or_insert(error);
                        retry.push((hash, raw));
                    }
                }
                if !retry.is_empty() {
                    // First in line again: the sender's later nonces cannot be included before.
                    let mut queue = queue.lock().await;
                    for transaction in retry.into_iter().rev() {
                        queue.push_front(transaction);
                    }
                    drop(queue);
                    if interval.is_none() {
                        // As fast as accepted: back off briefly while the pool is full.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }

    let (head_sender, head_receiver) = tokio::sync::watch::channel(first_block.saturating_sub(1));
    let viewers: Vec<_> = (0..options.console_viewers)
        .map(|_| {
            tokio::spawn(console_viewer(
                node.rpc_address.clone(),
                head_receiver.clone(),
                deadline,
            ))
        })
        .collect();

    // Watch blocks: inclusion time of each submitted transaction.
    let mut latencies = Vec::new();
    let mut included_in_window = 0u64;
    // Each block seen: its timestamp, the load transactions in it, when it was seen.
    let mut blocks_seen: Vec<(u64, u64, Instant)> = Vec::new();
    let mut next_block = first_block;
    let drain_deadline = deadline + DRAIN;
    let mut cpu_at_deadline = None;
    let mut fuel_at_deadline = None;
    let mut polls = 0u64;
    let mut rss_samples: Vec<(Duration, u64)> = Vec::new();
    loop {
        polls += 1;
        let since_start = started.elapsed();
        if Instant::now() < deadline
            && rss_samples
                .last()
                .is_none_or(|(at, _)| since_start >= *at + RSS_SAMPLE_EVERY)
            && let Some(rss) = node.rss_kib()
        {
            rss_samples.push((since_start, rss));
        }
        if polls.is_multiple_of(2) {
            let info = node.rpc.node_info().await?;
            pending.store(info.pending_transactions as u64, Ordering::Relaxed);
        }
        let head = node.rpc.chain_head().await?.number;
        while next_block <= head {
            let block = node
                .rpc
                .chain_get_block(BlockId::Number(next_block))
                .await?
                .context("a canonical block")?;
            let seen = Instant::now();
            let mut submitted = submitted.lock().await;
            let mut load_transactions = 0;
            for hash in &block.transactions {
                if let Some(at) = submitted.remove(hash) {
                    latencies.push(seen.duration_since(at));
                    load_transactions += 1;
                    if seen <= deadline {
                        included_in_window += 1;
                    }
                }
            }
            blocks_seen.push((block.header.timestamp_ms, load_transactions, seen));
            next_block += 1;
            head_sender.send_replace(block.header.number);
        }
        let now = Instant::now();
        if now >= deadline && cpu_at_deadline.is_none() {
            cpu_at_deadline = Some((
                cpu_time(node.pid()).unwrap_or_default(),
                cpu_time(std::process::id()).unwrap_or_default(),
            ));
            fuel_at_deadline = Some(counter(&node, "salus_fuel_used_total").await?);
        }
        let all_done = now >= deadline && submitted.lock().await.is_empty();
        if all_done || now >= drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (node_cpu, own_cpu) = cpu_at_deadline.unwrap_or_default();
    let (node_cpu, own_cpu) = (node_cpu - node_cpu_start, own_cpu - own_cpu_start);
    let busy_for = Duration::from_secs(options.seconds);
    for submitter in submitters {
        submitter.await??;
    }
    let mut console_pages = (Vec::new(), 0);
    for viewer in viewers {
        let (times, failed) = viewer.await?;
        console_pages.0.extend(times);
        console_pages.1 += failed;
    }
    console_pages.0.sort();
    // Fuel of the blocks mined while load was offered (not of the drain after it).
    let fuel_end = match fuel_at_deadline {
        Some(fuel) => fuel,
        None => counter(&node, "salus_fuel_used_total").await?,
    };
    let rss_end_kib = node.rss_kib();
    latencies.sort();
    let never_included = submitted.lock().await.len() as u64;
    let first_refusal = first_refusal.lock().await.clone();
    Ok(RunReport {
        offered: rate,
        seconds: options.seconds,
        accepted: latencies.len() as u64 + never_included,
        refused: refused.load(Ordering::Relaxed),
        first_refusal,
        never_included,
        included_in_window,
        steady_per_second: steady_rate(&blocks_seen, started + (deadline - started) / 2, deadline),
        latencies,
        fuel_per_second: (fuel_end - fuel_start) as f64 / options.seconds as f64,
        rss_start_kib,
        rss_end_kib,
        rss_samples,
        node_cores: node_cpu.as_secs_f64() / busy_for.as_secs_f64(),
        generator_cores: own_cpu.as_secs_f64() / busy_for.as_secs_f64(),
        console_pages,
    })
}

/// One open console tab until `deadline`: at each new head, fetches the home page's `<main>`
/// as the console's script does (`GET /ui/?fragment=main`); the answer times and failures.
async fn console_viewer(
    address: String,
    mut heads: tokio::sync::watch::Receiver<u64>,
    deadline: Instant,
) -> (Vec<Duration>, u64) {
    let (mut times, mut failed) = (Vec::new(), 0);
    while Instant::now() < deadline {
        if tokio::time::timeout_at(deadline.into(), heads.changed())
            .await
            .is_err()
        {
            break;
        }
        let asked = Instant::now();
        match fetch_page(&address, "/ui/?fragment=main").await {
            Ok(200) => times.push(asked.elapsed()),
            _ => failed += 1,
        }
    }
    (times, failed)
}

/// GETs `path` from the node over HTTP/1.0 and reads the whole answer; its status code.
async fn fetch_page(address: &str, path: &str) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.0\r\nHost: {address}\r\nAccept: text/html\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let status = std::str::from_utf8(answer.get(9..12).unwrap_or_default())?.parse()?;
    Ok(status)
}

/// Load transactions per second included by the blocks seen in `(from, to]`, over the span of
/// their timestamps from the last block seen by `from`. At max, the first seconds of a run fill
/// the pool to its high-water mark — the node verifies more than it includes — and a whole-run
/// average counts that ramp; once the pool is full the node verifies only what it includes,
/// and this is the rate it sustains. Timed by the blocks' own timestamps, so that where the
/// half falls between two blocks does not matter.
fn steady_rate(blocks: &[(u64, u64, Instant)], from: Instant, to: Instant) -> Option<f64> {
    let boundary = blocks.iter().rposition(|(_, _, seen)| *seen <= from)?;
    let last = blocks.iter().rposition(|(_, _, seen)| *seen <= to)?;
    if last <= boundary {
        return None;
    }
    // Timestamps only rise between blocks a second apart; a span that does not is no measure.
    let span_ms = blocks[last].0.checked_sub(blocks[boundary].0)?;
    if span_ms == 0 {
        return None;
    }
    let included: u64 = blocks[boundary + 1..=last]
        .iter()
        .map(|(_, load, _)| load)
        .sum();
    Some(included as f64 * 1000.0 / span_ms as f64)
}

/// Measures B in-process and returns the stage costs and the fuel limit of each kind of load
/// call.
fn measure_bound(workload: &Workload) -> anyhow::Result<(StageCosts, Vec<u64>)> {
    let mut local = LocalChain::new();
    for phase in &workload.setup {
        for wave in waves(phase) {
            local.mine(&wave)?;
        }
    }
    // Like a wallet estimating fuel: each kind of call is probed at the head and given a
    // margin (the whole limit must fit in what the block has left, so the margin costs some
    // capacity at the end of each block).
    let mut fuel_limits = Vec::new();
    for index in 0..workload.call_kinds() {
        let probe = workload.load(index, &[50_000_000])?;
        let used = local.fuel_used(&probe)?;
        fuel_limits.push((used + used / 10).max(intrinsic_fuel(probe.encoded_size())));
        if let Some(outcome) = local.call_fuel(&probe)? {
            print_fuel_breakdown(index, &outcome);
        }
    }
    // Three blocks' worth, measured one block at a time; each stage's median of the three
    // (a RocksDB flush or compaction can land in any one of them).
    let per_block = SAMPLE.min((dev_block_fuel() * 9 / 10) / mean(&fuel_limits)) as usize;
    let sample = workload.presign(per_block as u64 * MEASURED_BLOCKS as u64, &fuel_limits)?;
    let rounds = sample
        .chunks(per_block)
        .map(|block| local.measure(block))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((StageCosts::median(&rounds), fuel_limits))
}

fn mean(values: &[u64]) -> u64 {
    values.iter().sum::<u64>() / values.len().max(1) as u64
}

/// Prints where a probe call's fuel goes: each host function, then the rest (the code-load
/// charge and Wasm instructions).
fn print_fuel_breakdown(index: u64, outcome: &salus_runtime::ContractOutcome) {
    let host: u64 = outcome
        .fuel_breakdown
        .values()
        .map(|entry| entry.fuel)
        .sum();
    println!(
        "probe call {index}: {} fuel beyond intrinsic; host functions {host}; code load and Wasm instructions {}",
        outcome.fuel_used,
        outcome.fuel_used.saturating_sub(host)
    );
    for (function, entry) in &outcome.fuel_breakdown {
        println!(
            "  {function:<24} {:>4} calls {:>9} fuel",
            entry.calls, entry.fuel
        );
    }
}

fn dev_block_fuel() -> u64 {
    salus_benches::dev_genesis().params.block_fuel_limit
}

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let salus = salus_binary()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    // Plan with enough transactions for the fastest run this machine could sustain: above B for
    // every workload, so that a run at max never runs out (supply commissions a unit for each
    // shipment in its set-up, which costs set-up time).
    let per_second = match options.workload {
        WorkloadKind::Transfer => 24_000,
        WorkloadKind::Consent => 18_000,
        WorkloadKind::Supply => 7_000,
    };
    let capacity_guess = per_second * options.seconds;
    let needed = options
        .rate
        .map_or(capacity_guess, |rate| u64::from(rate) * options.seconds);
    let workload = Workload::plan(options.workload, options.accounts, needed)?;
    let started = Instant::now();
    // In-process execution on a thread with the execution stack (registered: calls run inline).
    let (costs, fuel_limits) =
        salus_runtime::native_stack::run_with_execution_stack(|| measure_bound(&workload))??;
    let bound = costs.bound(cores);
    println!(
        "workload {}: bound measured in {:.1} s on {cores} cores",
        options.workload,
        started.elapsed().as_secs_f64()
    );
    println!("{}", costs.table());
    println!(
        "B = {cores} / Σ = {bound:.0} tx/s; with serial execution and signatures on the other cores: {:.0} tx/s; fuel limit per transaction {fuel_limits:?} (by kind of call)",
        costs.serial_bound(cores)
    );

    // At max, 30 % more than B allows for (the node's state-tree update runs on every core, so
    // the serial bound does not cap it).
    let count = (costs.bound(cores) * 1.3 * options.seconds as f64) as u64;
    let count = match options.rate {
        Some(rate) => u64::from(rate) * options.seconds,
        None => count,
    }
    .min(needed);
    let signing = Instant::now();
    let transactions = workload.presign(count, &fuel_limits)?;
    println!(
        "pre-signed {} load transactions in {:.1} s",
        transactions.len(),
        signing.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut csv = match &options.csv {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            if file.metadata()?.len() == 0 {
                writeln!(file, "{CSV_HEADER}")?;
            }
            Some(file)
        }
        None => None,
    };
    let mut record = |report: &RunReport, fraction: Option<f64>| -> anyhow::Result<()> {
        report.print(options.block_time_ms, bound);
        if let Some(file) = csv.as_mut() {
            writeln!(
                file,
                "{},{},{},{:.0},{:.0},{:.1},{:.1},{:.1},{},{},{:.0},{:.1},{:.1},{:.2},{:.2},{}",
                options.workload,
                fraction.map_or_else(|| "max".to_string(), |f| format!("{:.2}", f)),
                report.offered.map_or(0, u64::from),
                report.included_per_second(),
                bound,
                report.p(0.50),
                report.p(0.95),
                report.p(0.99),
                report.refused,
                report.never_included,
                report.fuel_per_second,
                report.rss_start_kib.unwrap_or(0) as f64 / 1024.0,
                report.rss_end_kib.unwrap_or(0) as f64 / 1024.0,
                report.node_cores,
                report.generator_cores,
                // Empty when the run was too short to have a second half of blocks.
                report
                    .steady_per_second
                    .map_or_else(String::new, |steady| format!("{steady:.0}")),
            )?;
        }
        Ok(())
    };
    let first = runtime.block_on(run_once(
        &salus,
        &options,
        &workload,
        &transactions,
        options.rate,
    ))?;
    record(&first, None)?;
    if options.curve {
        let maximum = first.included_per_second();
        let mut table = Vec::new();
        for fraction in CURVE {
            let rate = (maximum * fraction).round().max(1.0) as u32;
            println!("--- {:.0} % of the maximum: {rate} tx/s", fraction * 100.0);
            let report = runtime.block_on(run_once(
                &salus,
                &options,
                &workload,
                &transactions,
                Some(rate),
            ))?;
            record(&report, Some(fraction))?;
            table.push((fraction, rate, report));
        }
        println!(
            "\n| offered | tx/s offered | included tx/s | p50 ms | p95 ms | p99 ms | refused |"
        );
        println!("|---|---|---|---|---|---|---|");
        for (fraction, rate, report) in &table {
            println!(
                "| {:.0} % | {rate} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
                fraction * 100.0,
                report.included_per_second(),
                report.p(0.50),
                report.p(0.95),
                report.p(0.99),
                report.refused
            );
        }
    }
    Ok(())
}
