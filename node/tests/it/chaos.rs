//! The chaos suite (issue 24, deliverable 7): four `salus dev` nodes on loopback (two mining on
//! timers, one of them on a small tmpfs) under a steady load of signed transfers, through seeded
//! random fault rounds — `kill -9` (during import, and again during the sync that follows),
//! partitions made and healed with `net_banPeer`/`net_unbanPeer`, a full disk, and a restart
//! after the newest RocksDB file was corrupted. After every round every live node converges on
//! one head, `salus verify-chain` passes on a crash-consistent copy of every data directory, and
//! every transaction the load got an answer for is in the canonical chain exactly once or
//! pending on some node.
//!
//! CI runs a few rounds (`SALUS_CHAOS_ROUNDS`, default 4: one of each fault kind, in a seeded
//! order); `scripts/chaos.sh` runs the same test with more rounds and writes a report
//! (`SALUS_CHAOS_REPORT`). `SALUS_CHAOS_SEED` replays a run; the seed is printed first.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, SalusApiClient};
use salus_primitives::Address;

use crate::support::{dev_key, transfer};

/// Rounds when `SALUS_CHAOS_ROUNDS` is not set: one of each fault kind.
const DEFAULT_ROUNDS: usize = 4;
/// How long a node may take to converge, come up, or show a fault's effect (generous: CI
/// machines are slow and shared; every wait polls and ends as soon as it can).
const DEADLINE: Duration = Duration::from_secs(120);
/// Nodes in the network; node 0 and [`DISK_NODE`] mine on timers, the others only follow.
const NODES: usize = 4;
/// Milliseconds between blocks of each node (0: it never mines).
const BLOCK_TIME_MS: [u64; NODES] = [1_000, 0, 0, 1_300];
/// The node whose data directory is on a small tmpfs (a miner: a full disk must pause mining).
const DISK_NODE: usize = 3;
/// The tmpfs's size: room for the chain of a long run, small enough to fill in a moment.
const TMPFS_SIZE: &str = "192m";
/// Dev accounts 1..=SENDERS send the load (dev account 0 is the miners' reward address).
const SENDERS: u32 = 8;
/// Transactions a sender may have submitted beyond its account's nonce (the pool accepts 64).
const MAX_IN_FLIGHT: u64 = 24;
/// Pace of the load: one transfer per interval, senders in turn (about 12 a second).
const SUBMIT_EVERY: Duration = Duration::from_millis(80);

/// A small deterministic generator, so that a run can be replayed from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from + 1))
    }
}

/// The `salus` binary the nodes run: this build's, or `SALUS_CHAOS_BIN` (scripts/chaos.sh runs
/// a copy, so that a rebuild during a long run does not change the nodes under it).
fn salus_binary() -> PathBuf {
    std::env::var_os("SALUS_CHAOS_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_salus")), PathBuf::from)
}

fn client(url: &str) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The last `lines` lines of a log since the node's last start, without backtrace frames.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let since_start = text.rsplit("=== chaos: start").next().unwrap_or_default();
    let all: Vec<&str> = since_start
        .lines()
        .filter(|line| {
            // Backtrace frames: "  12: function" and "      at file:line".
            let line = line.trim_start();
            let frame = line.split_once(": ").is_some_and(|(number, _)| {
                !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
            });
            !(frame || line.starts_with("at "))
        })
        .collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// `salus verify-chain` on a data directory; the error output when it fails.
fn verify_chain(data_dir: &Path) -> Result<(), String> {
    let output = Command::new(salus_binary())
        .arg("verify-chain")
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// One `salus dev` process and what survives its restarts: ports, data directory, log, identity.
struct Node {
    index: usize,
    rpc_port: u16,
    p2p_port: u16,
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    peer_id: String,
    rpc: HttpClient,
    /// The running process's id, for the watchdog ([`start_watchdog`]).
    pid_file: PathBuf,
}

impl Node {
    fn new(index: usize, data_dir: PathBuf, log: PathBuf, pid_file: PathBuf) -> Node {
        let rpc_port = free_port();
        Node {
            pid_file,
            index,
            rpc_port,
            p2p_port: free_port(),
            data_dir,
            log,
            child: None,
            peer_id: String::new(),
            rpc: client(&format!("http://127.0.0.1:{rpc_port}")),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    fn p2p_address(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, self.peer_id)
    }

    /// Starts `salus dev` on the node's ports and data directory, dialling `bootnodes`, and waits
    /// for its banner. `Err` with the end of its log when it exits first (e.g. it refuses its
    /// database).
    fn start(&mut self, bootnodes: &[String]) -> Result<(), String> {
        assert!(self.child.is_none(), "node {} is running", self.index);
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        writeln!(log, "=== chaos: start node {} ===", self.index).unwrap();
        let mut command = Command::new(salus_binary());
        command
            .arg("dev")
            .arg("--rpc-addr")
            .arg(format!("127.0.0.1:{}", self.rpc_port))
            .arg("--p2p-listen")
            .arg(format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port))
            .arg("--block-time-ms")
            .arg(BLOCK_TIME_MS[self.index].to_string())
            .arg("--data-dir")
            .arg(&self.data_dir);
        for bootnode in bootnodes {
            command.arg("--bootnode").arg(bootnode);
        }
        let mut child = command
            // Warnings, and what the pool does with transactions of disconnected blocks.
            .env("RUST_LOG", "warn,salus_node::service::admission=info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut p2p = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("P2P: ") {
                    p2p = Some(rest.trim().to_string());
                }
                if line.starts_with("Head: ") {
                    let _ = sender.send(p2p.take());
                }
            }
        });
        match receiver.recv_timeout(DEADLINE) {
            Ok(Some(p2p)) => {
                let peer_id = p2p.rsplit("/p2p/").next().unwrap().to_string();
                assert!(
                    self.peer_id.is_empty() || self.peer_id == peer_id,
                    "node {} changed its identity",
                    self.index
                );
                self.peer_id = peer_id;
                std::fs::write(&self.pid_file, child.id().to_string()).unwrap();
                self.child = Some(child);
                Ok(())
            }
            outcome => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                Err(format!(
                    "node {} did not start ({outcome:?}, {status}); its log ends:\n{}",
                    self.index,
                    tail(&self.log, 15)
                ))
            }
        }
    }

    /// SIGKILL: no shutdown at all.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process is still running (a node that exited is reaped and forgotten).
    fn alive(&mut self) -> bool {
        match self.child.as_mut().map(|child| child.try_wait()) {
            Some(Ok(None)) => true,
            Some(_) => {
                self.child = None;
                false
            }
            None => false,
        }
    }

    /// An HTTP client sending the node's current cookie token (it changes at every start).
    fn operator(&self) -> HttpClient {
        let token = std::fs::read_to_string(self.data_dir.join(".cookie")).unwrap();
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {}", token.trim()).parse().unwrap(),
        );
        HttpClientBuilder::default()
            .set_headers(headers)
            .request_timeout(Duration::from_secs(10))
            .build(self.url())
            .unwrap()
    }

    /// A crash-consistent copy of the running node's data directory (the process is stopped
    /// with SIGSTOP while it is copied, so the copy is what a `kill -9` at that instant would
    /// leave), checked with `salus verify-chain`.
    fn verify_copy(&self, scratch: &Path) -> Result<(), String> {
        let copy = scratch.join(format!("verify-{}", self.index));
        let _ = std::fs::remove_dir_all(&copy);
        let child = self.child.as_ref().expect("a running node");
        signal(child, "STOP");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&self.data_dir)
            .arg(&copy)
            .status()
            .unwrap();
        signal(child, "CONT");
        assert!(copied.success(), "copying node {}'s data", self.index);
        let verified = verify_chain(&copy);
        let _ = std::fs::remove_dir_all(&copy);
        verified
    }

    /// Empties the data directory but for the node's key (its identity), as an operator would
    /// after the node refused a damaged database, so that it syncs afresh.
    fn wipe_keeping_identity(&self) {
        let key = std::fs::read(self.data_dir.join("node_key")).ok();
        std::fs::remove_dir_all(&self.data_dir).unwrap();
        std::fs::create_dir_all(&self.data_dir).unwrap();
        if let Some(key) = key {
            std::fs::write(self.data_dir.join("node_key"), key).unwrap();
        }
    }
}

/// A transaction the load got an answer for.
#[derive(Clone, Debug)]
struct Sent {
    hash: String,
    node: usize,
    sender: u32,
    nonce: u64,
}

/// The load: signed transfers from dev accounts 1..=[`SENDERS`] to the nodes that accept load,
/// each remembered once a node answered with its hash. A transfer is a function of its sender
/// and nonce, so a retry after a lost answer is the same transaction, never a second one.
struct Load {
    stop: AtomicBool,
    accepting: Vec<AtomicBool>,
    /// Held by the load while a submission is in flight.
    submitting: tokio::sync::Mutex<()>,
    sent: std::sync::Mutex<Vec<Sent>>,
    /// Accepted answers (the hash returned).
    accepted: AtomicU64,
    /// "already pending" or "stale nonce" answers to a retry of a transfer whose first answer
    /// was lost: checked like accepted ones.
    acknowledged_on_retry: AtomicU64,
    /// Refusals and transport errors (retried with the same transfer).
    refused: AtomicU64,
}

fn load_transfer(sender: u32, nonce: u64) -> salus_primitives::SignedTransaction {
    let mut recipient = [0xc0; 20];
    recipient[..4].copy_from_slice(&sender.to_be_bytes());
    recipient[4..12].copy_from_slice(&nonce.to_be_bytes());
    transfer(
        &dev_key(sender),
        nonce,
        Address(recipient),
        1 + u128::from(nonce % 5),
    )
}

impl Load {
    fn new() -> Arc<Load> {
        Arc::new(Load {
            stop: AtomicBool::new(false),
            accepting: (0..NODES).map(|_| AtomicBool::new(true)).collect(),
            submitting: tokio::sync::Mutex::new(()),
            sent: std::sync::Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            acknowledged_on_retry: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    async fn run(self: Arc<Load>, urls: Vec<String>, seed: u64) {
        let clients: Vec<HttpClient> = urls.iter().map(|url| client(url)).collect();
        let mut random = XorShift(seed ^ 0x5eed_10ad);
        let mut nonces = [0u64; SENDERS as usize];
        let mut settled = [0u64; SENDERS as usize];
        let mut turn = 0usize;
        while !self.stop.load(Ordering::Relaxed) {
            tokio::time::sleep(SUBMIT_EVERY).await;
            turn = (turn + 1) % SENDERS as usize;
            let sender = turn as u32 + 1;
            let _in_flight = self.submitting.lock().await;
            let targets: Vec<usize> = (0..NODES)
                .filter(|node| self.accepting[*node].load(Ordering::Relaxed))
                .collect();
            if targets.is_empty() {
                continue;
            }
            let target = targets[random.below(targets.len() as u64) as usize];
            let rpc = &clients[target];
            if nonces[turn] >= settled[turn] + MAX_IN_FLIGHT {
                let address = dev_key(sender).address().to_string();
                if let Ok(account) = rpc.state_get_account(address, None).await {
                    settled[turn] = settled[turn].max(account.nonce);
                }
                continue;
            }
            let nonce = nonces[turn];
            let transaction = load_transfer(sender, nonce);
            let hash = transaction.hash().to_string();
            let raw = format!("0x{}", hex::encode(transaction.encode()));
            let answer = tokio::time::timeout(Duration::from_secs(5), rpc.tx_submit(raw)).await;
            let sent = Sent {
                hash: hash.clone(),
                node: target,
                sender,
                nonce,
            };
            match answer {
                Ok(Ok(answered)) => {
                    assert_eq!(answered, hash, "the node's hash of a transfer");
                    self.accepted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(error))
                    if error.to_string().contains("already pending")
                        || error.to_string().contains("stale nonce") =>
                {
                    self.acknowledged_on_retry.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            self.sent.lock().unwrap().push(sent);
            nonces[turn] += 1;
        }
    }

    /// Stops sending to `node` and returns once no submission to it is in flight.
    async fn avoid(&self, node: usize) {
        self.accepting[node].store(false, Ordering::Relaxed);
        drop(self.submitting.lock().await);
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }
}

/// The fault kinds, in the order of their report lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    Kill,
    Partition,
    DiskFull,
    CorruptRestart,
}

const FAULTS: [Fault; 4] = [
    Fault::Kill,
    Fault::Partition,
    Fault::DiskFull,
    Fault::CorruptRestart,
];

/// What one round did and found.
struct RoundReport {
    round: usize,
    fault: Fault,
    detail: String,
    converge: Duration,
    verify: Duration,
    checked: usize,
    included: usize,
    pending: usize,
}

/// The network, its load, and the clean-up of both (processes killed, tmpfs unmounted) even
/// when the test fails.
struct Cluster {
    nodes: Vec<Node>,
    mount: PathBuf,
    mounted: bool,
    scratch: PathBuf,
    random: XorShift,
    /// Canonical blocks seen: hash → (parent hash, number, transaction hashes).
    blocks: HashMap<String, (String, u64, Vec<String>)>,
    /// When the last fault ended (restart issued, partition healed, space freed): convergence
    /// is timed from here.
    fault_ended: Instant,
    /// A transaction the last check found pending (for the diagnosis when some stay pending).
    last_pending: String,
    base: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        if self.mounted {
            let unmounted = Command::new("umount")
                .arg(&self.mount)
                .status()
                .is_ok_and(|status| status.success());
            if !unmounted {
                let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
            }
        }
        if std::env::var_os("SALUS_CHAOS_KEEP").is_some() {
            eprintln!("chaos: keeping {}", self.base.path().display());
            let _ = std::mem::replace(&mut self.base, tempfile::tempdir().unwrap()).keep();
        }
    }
}

/// A process that outlives this one: when the test process is gone without its clean-up (killed
/// by a timeout), it kills the nodes still running (each checked to be one of this run's by its
/// command line), unmounts the tmpfs and removes the run's directory (unless
/// `SALUS_CHAOS_KEEP`).
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog outlives this process by design; init reaps it"
)]
fn start_watchdog(base: &Path, mount: &Path) {
    const SCRIPT: &str = r#"
        base="$1"; mount="$2"; parent="$3"; keep="$4"
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        for file in "$base"/node-*.pid; do
            pid=$(cat "$file" 2>/dev/null) || continue
            if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$base"; then
                kill -9 "$pid"
            fi
        done
        if grep -qF " $mount " /proc/mounts; then
            umount "$mount" 2>/dev/null || umount -l "$mount"
        fi
        if [ -z "$keep" ] && ! grep -qF " $mount " /proc/mounts; then
            rm -rf "$base"
        fi
    "#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("chaos-watchdog")
        .arg(base)
        .arg(mount)
        .arg(std::process::id().to_string())
        .arg(if std::env::var_os("SALUS_CHAOS_KEEP").is_some() {
            "keep"
        } else {
            ""
        })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the chaos watchdog starts");
}

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
        assert!(
            Instant::now() < deadline,
            "chaos: timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Cluster {
    /// Mounts the tmpfs and starts the nodes, each dialling the ones before it.
    fn start(seed: u64) -> Cluster {
        let base = tempfile::Builder::new()
            .prefix("salus-chaos-")
            .tempdir()
            .unwrap();
        let mount = base.path().join("tmpfs");
        std::fs::create_dir_all(&mount).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_SIZE}")])
            // Named by this process, so that scripts/chaos.sh can unmount what a killed run left.
            .arg(format!("salus-chaos-{}", std::process::id()))
            .arg(&mount)
            .output()
            .unwrap();
        assert!(
            mounted.status.success(),
            "chaos: the full-disk fault needs a small tmpfs for one node's data directory, and \
             `mount -t tmpfs` failed ({}): run the suite as root or with CAP_SYS_ADMIN",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        start_watchdog(base.path(), &mount);
        let scratch = base.path().join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        let nodes = (0..NODES)
            .map(|index| {
                let data_dir = if index == DISK_NODE {
                    mount.join("data")
                } else {
                    base.path().join(format!("node-{index}"))
                };
                Node::new(
                    index,
                    data_dir,
                    base.path().join(format!("node-{index}.log")),
                    base.path().join(format!("node-{index}.pid")),
                )
            })
            .collect();
        let mut cluster = Cluster {
            nodes,
            mount,
            mounted: true,
            scratch,
            random: XorShift(seed),
            blocks: HashMap::new(),
            fault_ended: Instant::now(),
            last_pending: String::new(),
            base,
        };
        eprintln!("chaos: nodes in {}", cluster.base.path().display());
        for index in 0..NODES {
            let bootnodes: Vec<String> = cluster.nodes[..index]
                .iter()
                .map(Node::p2p_address)
                .collect();
            cluster.nodes[index].start(&bootnodes).unwrap();
        }
        cluster
    }

    fn others(&self, index: usize) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|node| node.index != index && !node.peer_id.is_empty())
            .map(Node::p2p_address)
            .collect()
    }

    fn restart(&mut self, index: usize) -> Result<(), String> {
        let bootnodes = self.others(index);
        self.nodes[index].start(&bootnodes)
    }

    /// Every node is running (a node that died is a failure, with its log).
    fn assert_all_alive(&mut self) {
        for node in &mut self.nodes {
            assert!(
                node.alive(),
                "chaos: node {} exited; its log ends:\n{}",
                node.index,
                tail(&node.log, 30)
            );
        }
    }

    /// Waits until every node reports the same head; returns it and the time it took.
    async fn converge(&mut self) -> (String, u64, Duration) {
        let started = Instant::now();
        let deadline = started + DEADLINE;
        loop {
            self.assert_all_alive();
            let mut heads = Vec::new();
            for node in &self.nodes {
                heads.push(node.rpc.chain_head().await.ok());
            }
            if let Some(Some(first)) = heads.first()
                && heads
                    .iter()
                    .all(|head| head.as_ref().is_some_and(|head| head.hash == first.hash))
            {
                return (first.hash.clone(), first.number, started.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "chaos: the nodes did not converge: {:?}",
                heads
                    .iter()
                    .map(|head| head.as_ref().map(|head| (head.number, head.hash.clone())))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Heads of every node (number), for the failure messages.
    async fn head_number(&self, index: usize) -> Option<u64> {
        self.nodes[index]
            .rpc
            .chain_head()
            .await
            .ok()
            .map(|head| head.number)
    }

    /// The canonical chain's transaction hashes from `head` down to genesis, read from `node`
    /// (blocks already seen are not fetched again).
    async fn canonical_transactions(&mut self, node: usize, head: &str) -> Vec<String> {
        let mut hash = head.to_string();
        let mut transactions = Vec::new();
        loop {
            if !self.blocks.contains_key(&hash) {
                let block = self.nodes[node]
                    .rpc
                    .chain_get_block(BlockId::Hash(hash.clone()))
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("node {node} has no block {hash}"));
                self.blocks.insert(
                    hash.clone(),
                    (
                        block.header.parent_hash.clone(),
                        block.header.number,
                        block.transactions,
                    ),
                );
            }
            let (parent, number, body) = &self.blocks[&hash];
            transactions.extend(body.iter().cloned());
            if *number == 0 {
                return transactions;
            }
            hash = parent.clone();
        }
    }

    /// Every transaction the load got an answer for is in the canonical chain at `head` exactly
    /// once, or known to some live node (pending, or included after `head`); no transaction is
    /// in the chain twice. Returns (checked, included, pending).
    async fn check_transactions(&mut self, load: &Load, head: &str) -> (usize, usize, usize) {
        let sent = load.sent();
        let chain = self.canonical_transactions(0, head).await;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for hash in &chain {
            *counts.entry(hash).or_default() += 1;
        }
        let twice: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
        assert!(
            twice.is_empty(),
            "chaos: transactions included twice: {twice:?}"
        );
        let (mut included, mut pending) = (0, 0);
        for transaction in &sent {
            if counts.contains_key(transaction.hash.as_str()) {
                included += 1;
                continue;
            }
            let mut known = None;
            for node in &self.nodes {
                if let Ok(Some(view)) = node.rpc.tx_get(transaction.hash.clone()).await {
                    known = Some(view.state);
                    break;
                }
            }
            match known {
                Some(state) if state == "pending" => {
                    pending += 1;
                    self.last_pending = transaction.hash.clone();
                }
                Some(_) => included += 1,
                None => panic!(
                    "chaos: transaction lost: {} (dev:{} nonce {}, accepted by node {}) is neither \
                     in the chain at {head} nor known to any node",
                    transaction.hash, transaction.sender, transaction.nonce, transaction.node
                ),
            }
        }
        (sent.len(), included, pending)
    }

    /// Before `node` is killed: the load stops sending to it, and every transaction it
    /// accepted reaches another node (by gossip) or a block, so that its pool (memory only)
    /// holds nothing the network lacks.
    async fn drain(&self, load: &Load, node: usize) {
        load.avoid(node).await;
        let mut unseen: Vec<String> = load
            .sent()
            .into_iter()
            .filter(|sent| sent.node == node)
            .map(|sent| sent.hash)
            .collect();
        let deadline = Instant::now() + DEADLINE;
        while !unseen.is_empty() {
            let mut still = Vec::new();
            for hash in unseen {
                let mut seen = false;
                for other in self.nodes.iter().filter(|other| other.index != node) {
                    if let Ok(Some(_)) = other.rpc.tx_get(hash.clone()).await {
                        seen = true;
                        break;
                    }
                }
                if !seen {
                    still.push(hash);
                }
            }
            unseen = still;
            if Instant::now() >= deadline {
                let mut report = String::new();
                for hash in &unseen {
                    report.push_str(&self.explain(load, hash).await);
                }
                panic!(
                    "chaos: {} transactions node {node} accepted never reached another node:\n\
                     {report}peers:\n{}",
                    unseen.len(),
                    self.peers().await
                );
            }
            if !unseen.is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Every node's peers (by node index), for the diagnosis of transactions that do not spread.
    async fn peers(&self) -> String {
        let mut text = String::new();
        for node in &self.nodes {
            let peers = node.rpc.net_peers().await.unwrap_or_default();
            let named: Vec<String> = peers
                .iter()
                .map(|peer| {
                    let index = self.nodes.iter().position(|n| n.peer_id == peer.peer_id);
                    format!(
                        "{} ({}, score {})",
                        index.map_or_else(|| peer.peer_id.clone(), |i| i.to_string()),
                        peer.direction,
                        peer.score
                    )
                })
                .collect();
            writeln!(text, "  node {}: {}", node.index, named.join(", ")).unwrap();
        }
        text
    }

    /// What every node knows of a stuck transaction's sender: its account nonce, and where the
    /// transaction and the two before it are (pending, included, unknown).
    async fn explain(&self, load: &Load, hash: &str) -> String {
        let sent = load.sent();
        let Some(stuck) = sent.iter().find(|sent| sent.hash == hash) else {
            return format!("{hash}: not sent by the load\n");
        };
        let mut text = format!(
            "{hash}: dev:{} nonce {}, accepted by node {}\n",
            stuck.sender, stuck.nonce, stuck.node
        );
        let address = dev_key(stuck.sender).address().to_string();
        for node in &self.nodes {
            let account = node
                .rpc
                .state_get_account(address.clone(), None)
                .await
                .map(|account| account.nonce);
            let info = node.rpc.node_info().await.ok();
            write!(
                text,
                "  node {}: account nonce {account:?}, {} pending;",
                node.index,
                info.map_or(0, |info| info.pending_transactions)
            )
            .unwrap();
            for nonce in stuck.nonce.saturating_sub(2)..=stuck.nonce {
                let other = load_transfer(stuck.sender, nonce).hash().to_string();
                let answered = sent.iter().find(|sent| sent.hash == other);
                let state = node
                    .rpc
                    .tx_get(other)
                    .await
                    .ok()
                    .flatten()
                    .map_or_else(|| "unknown".to_string(), |view| view.state);
                write!(
                    text,
                    " nonce {nonce} {state} (accepted by {:?})",
                    answered.map(|sent| sent.node)
                )
                .unwrap();
            }
            text.push('\n');
        }
        text
    }

    /// A random node killed with SIGKILL while it imports the others' blocks, kept down a few
    /// seconds and restarted; one time in two a burst of blocks is mined while it is down and it
    /// is killed again mid-sync, then restarted once more. Its stopped data directory is
    /// verified after each kill.
    async fn kill_round(&mut self, load: &Load) -> String {
        let victim = self.random.below(NODES as u64) as usize;
        self.drain(load, victim).await;
        self.nodes[victim].kill();
        verify_chain(&self.nodes[victim].data_dir).unwrap_or_else(|error| {
            panic!("chaos: verify-chain after kill -9 of node {victim}: {error}")
        });
        let again = self.random.below(2) == 0;
        // Down long enough, when it is to be killed again, that it has a stretch to sync.
        let down = if again {
            self.random.millis(6_000, 12_000)
        } else {
            self.random.millis(1_000, 5_000)
        };
        tokio::time::sleep(down).await;
        let mut detail = format!("node {victim} killed, down {} ms", down.as_millis());
        if again {
            // A stretch to sync: a live miner mines a burst of blocks (with the load's pending
            // transfers) while the victim is down.
            let miner = if victim == 0 { DISK_NODE } else { 0 };
            let burst = 100 + self.random.below(201) as u32;
            self.nodes[miner].rpc.dev_mine(burst).await.unwrap();
            write!(detail, ", {burst} blocks mined meanwhile").unwrap();
        }
        self.fault_ended = Instant::now();
        self.restart(victim).unwrap();
        if again {
            // Killed again the moment it is seen mid-sync: past the head it restarted with,
            // short of the others'.
            let target = self.head_number((victim + 1) % NODES).await.unwrap_or(0);
            let restarted_at = self.head_number(victim).await.unwrap_or(0);
            let started = Instant::now();
            let mut seen = None;
            while started.elapsed() < Duration::from_secs(3) {
                if let Some(number) = self.head_number(victim).await {
                    if number >= target {
                        break;
                    }
                    if number > restarted_at {
                        seen = Some(number);
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            self.nodes[victim].kill();
            verify_chain(&self.nodes[victim].data_dir).unwrap_or_else(|error| {
                panic!("chaos: verify-chain after kill -9 of syncing node {victim}: {error}")
            });
            self.fault_ended = Instant::now();
            self.restart(victim).unwrap();
            match seen {
                Some(at) => write!(
                    detail,
                    ", killed again while syncing (restarted at {restarted_at}, killed at {at} \
                     of {target})"
                ),
                None => write!(
                    detail,
                    ", killed again after it caught up (at {target}) before a sync was seen"
                ),
            }
            .unwrap();
        }
        load.accepting[victim].store(true, Ordering::Relaxed);
        detail
    }

    /// Two groups — node 0 with a random part of the followers, the disk node with the rest,
    /// a miner on each side — ban each other for a few seconds while both take load and mine;
    /// then the bans are lifted and the groups dial each other again.
    async fn partition_round(&mut self) -> String {
        let mut side_a = vec![0];
        let mut side_b = vec![DISK_NODE];
        for index in 1..NODES {
            if index == DISK_NODE {
                continue;
            }
            if self.random.below(2) == 0 {
                side_a.push(index);
            } else {
                side_b.push(index);
            }
        }
        let pairs: Vec<(usize, usize)> = side_a
            .iter()
            .flat_map(|a| side_b.iter().map(move |b| (*a, *b)))
            .collect();
        for (a, b) in &pairs {
            for (from, to) in [(*a, *b), (*b, *a)] {
                let banned = self.nodes[from]
                    .operator()
                    .net_ban_peer(self.nodes[to].peer_id.clone(), 3_600)
                    .await
                    .unwrap();
                assert!(banned, "node {from} bans node {to}");
            }
        }
        eventually("the partition", || async {
            for (a, b) in &pairs {
                let peers = self.nodes[*a].rpc.net_peers().await.ok()?;
                if peers
                    .iter()
                    .any(|peer| peer.peer_id == self.nodes[*b].peer_id)
                {
                    return None;
                }
            }
            Some(())
        })
        .await;
        let split = self.random.millis(2_000, 6_000);
        tokio::time::sleep(split).await;
        let heads = (
            self.head_number(side_a[0]).await,
            self.head_number(side_b[0]).await,
        );
        self.fault_ended = Instant::now();
        for (a, b) in &pairs {
            for (from, to) in [(*a, *b), (*b, *a)] {
                self.nodes[from]
                    .operator()
                    .net_unban_peer(self.nodes[to].peer_id.clone())
                    .await
                    .unwrap();
            }
            self.nodes[*a]
                .operator()
                .net_add_peer(self.nodes[*b].p2p_address())
                .await
                .unwrap();
        }
        format!(
            "{side_a:?} | {side_b:?} for {} ms (heads {} | {} at the heal)",
            split.as_millis(),
            show(heads.0),
            show(heads.1)
        )
    }

    /// The disk node's tmpfs filled to the last byte: the node must stay up, answer reads, stop
    /// advancing (no block written, its own mining paused) with the error in its log, and catch
    /// up once the space is freed.
    async fn disk_full_round(&mut self) -> String {
        let ballast = self.mount.join("ballast");
        let log_before = std::fs::read_to_string(&self.nodes[DISK_NODE].log)
            .unwrap_or_default()
            .len();
        fill(&ballast);
        // RocksDB preallocates its WAL (a memtable's worth, 35 MiB here) and its MANIFEST, so a
        // disk filled now would be noticed only once those are used up — hours at this load.
        // The preallocation past each file's end is released (a hole punched beyond the data:
        // the files' contents do not change) and the disk filled again, so that the node's next
        // write meets the full disk.
        for entry in std::fs::read_dir(&self.nodes[DISK_NODE].data_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !(name.ends_with(".log") || name.starts_with("MANIFEST-")) {
                continue;
            }
            let length = std::fs::metadata(&path).map_or(0, |m| m.len());
            let punched = Command::new("fallocate")
                .args(["--punch-hole", "--keep-size", "--offset"])
                .arg(((length / 4096 + 4) * 4096).to_string())
                .args(["--length", "1073741824"])
                .arg(&path)
                .output()
                .expect("fallocate (util-linux) for the full-disk fault");
            assert!(
                punched.status.success(),
                "fallocate --punch-hole on {name}: {}",
                String::from_utf8_lossy(&punched.stderr)
            );
        }
        fill(&ballast);
        let filled_at = Instant::now();
        let node = &self.nodes[DISK_NODE];
        let stalled_at = eventually("the full disk to stop the disk node", || async {
            let own = node.rpc.chain_head().await.ok()?.number;
            let other = self.nodes[0].rpc.chain_head().await.ok()?.number;
            let log = std::fs::read_to_string(&node.log).unwrap_or_default();
            // The write refused, and the miner paused rather than stopping the node.
            let noticed = log.get(log_before..).is_some_and(|new| {
                new.contains("No space left on device") && new.contains("mining paused")
            });
            (noticed && other >= own + 2).then_some(own)
        })
        .await;
        let noticed = filled_at.elapsed();
        assert!(self.nodes[DISK_NODE].alive(), "the disk node died");
        // Reads keep being answered, and nothing is written while the disk is full.
        let full_for = self.random.millis(2_000, 4_000);
        tokio::time::sleep(full_for).await;
        assert!(
            self.nodes[DISK_NODE].alive(),
            "chaos: the disk node exited on a full disk; its log ends:\n{}",
            tail(&self.nodes[DISK_NODE].log, 30)
        );
        let node = &self.nodes[DISK_NODE];
        let head = node
            .rpc
            .chain_head()
            .await
            .expect("reads while the disk is full");
        let info = node.rpc.node_info().await.expect("node_info while full");
        node.rpc
            .state_get_account(dev_key(1).address().to_string(), None)
            .await
            .expect("account reads while the disk is full");
        assert_eq!(
            head.number, stalled_at,
            "the disk node's head moved while its disk was full"
        );
        let log = std::fs::read_to_string(&node.log).unwrap_or_default();
        let error_line = log[log_before..]
            .lines()
            .find(|line| line.contains("mining paused"))
            .unwrap_or_default()
            .to_string();
        self.fault_ended = Instant::now();
        std::fs::remove_file(&ballast).unwrap();
        eventually("the disk node to resume mining", || async {
            let log = std::fs::read_to_string(&self.nodes[DISK_NODE].log).unwrap_or_default();
            log.get(log_before..)
                .is_some_and(|new| new.contains("mining resumed"))
                .then_some(())
        })
        .await;
        let error_line: String = error_line
            .split_once("Z ")
            .map_or(error_line.as_str(), |(_, message)| message.trim_start())
            .split(" error=")
            .next()
            .unwrap_or_default()
            .to_string();
        format!(
            "disk node stalled at {} ({} pending) {} ms after the fill, full {} ms; log: {error_line}",
            head.number,
            info.pending_transactions,
            noticed.as_millis(),
            full_for.as_millis()
        )
    }

    /// A random node killed, its newest RocksDB file (WAL or table) truncated or with bytes
    /// flipped, and restarted: it must recover, or refuse with an error naming the corruption
    /// (the operator then wipes it and it syncs afresh). Either way it ends on the network's
    /// chain, verified.
    async fn corrupt_round(&mut self, load: &Load) -> String {
        let victim = self.random.below(NODES as u64) as usize;
        self.drain(load, victim).await;
        let before = self.head_number(victim).await;
        self.nodes[victim].kill();
        let want_table = self.random.below(2) == 0;
        let newest = |extension: &str| {
            std::fs::read_dir(&self.nodes[victim].data_dir)
                .unwrap()
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|e| e == extension))
                .filter(|entry| entry.metadata().is_ok_and(|m| m.len() > 0))
                .max_by_key(|entry| entry.metadata().and_then(|m| m.modified()).ok())
                .map(|entry| entry.path())
        };
        let file = if want_table {
            newest("sst").or_else(|| newest("log"))
        } else {
            newest("log").or_else(|| newest("sst"))
        }
        .expect("a RocksDB file to corrupt");
        let mut bytes = std::fs::read(&file).unwrap();
        let length = bytes.len() as u64;
        let truncate = self.random.below(2) == 0;
        let damage = if truncate {
            let keep = self.random.below(length);
            bytes.truncate(keep as usize);
            format!("truncated to {keep} of {length} bytes")
        } else {
            let at = self.random.below(length.saturating_sub(16).max(1));
            for byte in bytes.iter_mut().skip(at as usize).take(16) {
                *byte ^= 0xff;
            }
            format!("16 bytes flipped at {at} of {length}")
        };
        std::fs::write(&file, &bytes).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        self.fault_ended = Instant::now();
        let outcome = match self.restart(victim) {
            // Started: a damaged table may only show when its blocks are read, so the node's
            // data is verified at once (verify-chain reads every block and state node).
            Ok(()) => match self.nodes[victim].verify_copy(&self.scratch) {
                Ok(()) => format!(
                    "recovered at head {} (was {} at the kill)",
                    show(self.head_number(victim).await),
                    show(before)
                ),
                Err(damage) => {
                    let reason = corruption_named(&damage, victim, &name);
                    self.nodes[victim].kill();
                    self.nodes[victim].wipe_keeping_identity();
                    self.restart(victim).unwrap();
                    format!(
                        "started, but verify-chain found the damage ({reason}); wiped and \
                         resynced"
                    )
                }
            },
            Err(refusal) => {
                let reason = corruption_named(&refusal, victim, &name);
                self.nodes[victim].wipe_keeping_identity();
                self.restart(victim).unwrap();
                format!("refused ({reason}), wiped and resynced")
            }
        };
        load.accepting[victim].store(true, Ordering::Relaxed);
        format!("node {victim}: {name} {damage}: {outcome}")
    }

    /// After a round: convergence, verify-chain on every data directory, the load's
    /// transactions.
    async fn check(
        &mut self,
        load: &Load,
        round: usize,
        fault: Fault,
        detail: String,
    ) -> RoundReport {
        let (head, number, _) = self.converge().await;
        let converge = self.fault_ended.elapsed();
        let verify_started = Instant::now();
        for node in &self.nodes {
            node.verify_copy(&self.scratch).unwrap_or_else(|error| {
                panic!(
                    "chaos: round {round}: verify-chain failed on node {}'s data: {error}",
                    node.index
                )
            });
        }
        let verify = verify_started.elapsed();
        let (checked, included, pending) = self.check_transactions(load, &head).await;
        let report = RoundReport {
            round,
            fault,
            detail,
            converge,
            verify,
            checked,
            included,
            pending,
        };
        eprintln!(
            "chaos: round {round} {fault:?}: {}; converged at {number} in {} ms; verify-chain \
             {} ms; {checked} transactions: {included} included once, {pending} pending",
            report.detail,
            converge.as_millis(),
            verify.as_millis()
        );
        report
    }
}

/// The line of `error` naming the corruption of `file` (fails when none does).
fn corruption_named(error: &str, node: usize, file: &str) -> String {
    let line = error.lines().find(|line| {
        let line = line.to_lowercase();
        line.contains("corrupt") || line.contains("checksum")
    });
    let Some(line) = line else {
        panic!(
            "chaos: node {node}'s corrupted {file} failed without naming the corruption:\n{error}"
        );
    };
    line.trim().chars().take(160).collect()
}

/// A head number, or `?` when the node did not answer.
fn show(number: Option<u64>) -> String {
    number.map_or_else(|| "?".to_string(), |number| number.to_string())
}

/// Appends to `path` until the disk is full.
fn fill(path: &Path) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for chunk in [1 << 20, 4096, 512, 1] {
        let bytes = vec![0xa5u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    let _ = file.sync_all();
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

/// The report's Markdown: the command, the totals, convergence per fault kind, every round.
fn markdown(
    seed: u64,
    rounds: &[RoundReport],
    load: &Load,
    elapsed: Duration,
    included_at_end: usize,
) -> String {
    let mut text = String::new();
    let last = rounds.last();
    writeln!(
        text,
        "Seed {seed:#x}, {} rounds, {NODES} nodes, {:.1} minutes. Load: {} transfers accepted, \
         {} acknowledged on a retry, {} refusals or lost answers retried. Last check: {} \
         transactions, {} included exactly once, {} pending, none lost, none twice. After the \
         load stopped: all {included_at_end} included exactly once, none pending.\n",
        rounds.len(),
        elapsed.as_secs_f64() / 60.0,
        load.accepted.load(Ordering::Relaxed),
        load.acknowledged_on_retry.load(Ordering::Relaxed),
        load.refused.load(Ordering::Relaxed),
        last.map_or(0, |round| round.checked),
        last.map_or(0, |round| round.included),
        last.map_or(0, |round| round.pending),
    )
    .unwrap();
    writeln!(
        text,
        "| fault | rounds | converge min | median | max | verify-chain (all nodes) median |"
    )
    .unwrap();
    writeln!(text, "|---|---|---|---|---|---|").unwrap();
    for fault in FAULTS {
        let of_kind: Vec<&RoundReport> = rounds.iter().filter(|r| r.fault == fault).collect();
        if of_kind.is_empty() {
            continue;
        }
        let mut converge: Vec<Duration> = of_kind.iter().map(|r| r.converge).collect();
        converge.sort();
        let mut verify: Vec<Duration> = of_kind.iter().map(|r| r.verify).collect();
        verify.sort();
        writeln!(
            text,
            "| {fault:?} | {} | {} ms | {} ms | {} ms | {} ms |",
            of_kind.len(),
            converge[0].as_millis(),
            percentile(&converge, 0.5).as_millis(),
            converge[converge.len() - 1].as_millis(),
            percentile(&verify, 0.5).as_millis()
        )
        .unwrap();
    }
    writeln!(
        text,
        "\n| round | fault | what happened | converged in | transactions checked (included / pending) |"
    )
    .unwrap();
    writeln!(text, "|---|---|---|---|---|").unwrap();
    for round in rounds {
        writeln!(
            text,
            "| {} | {:?} | {} | {} ms | {} ({} / {}) |",
            round.round,
            round.fault,
            round.detail.replace('|', "/"),
            round.converge.as_millis(),
            round.checked,
            round.included,
            round.pending
        )
        .unwrap();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_rounds_lose_no_transaction_and_leave_every_node_on_one_verified_chain() {
    let rounds: usize = std::env::var("SALUS_CHAOS_ROUNDS")
        .ok()
        .map_or(DEFAULT_ROUNDS, |rounds| {
            rounds.parse().expect("SALUS_CHAOS_ROUNDS is a number")
        });
    let seed: u64 = std::env::var("SALUS_CHAOS_SEED").ok().map_or_else(
        || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        },
        |seed| {
            let seed = seed.trim_start_matches("0x");
            u64::from_str_radix(seed, 16).expect("SALUS_CHAOS_SEED is hexadecimal")
        },
    );
    eprintln!("chaos: seed {seed:#x} (replay with SALUS_CHAOS_SEED={seed:#x}), {rounds} rounds");
    let started = Instant::now();
    let mut cluster = Cluster::start(seed);
    cluster.converge().await;

    let load = Load::new();
    let urls = cluster.nodes.iter().map(Node::url).collect();
    let load_task = tokio::spawn(load.clone().run(urls, seed));

    // Fault kinds come in shuffled cycles: every kind once per cycle, in a seeded order.
    let mut schedule: Vec<Fault> = Vec::new();
    let mut reports = Vec::new();
    for round in 1..=rounds {
        if schedule.is_empty() {
            schedule = FAULTS.to_vec();
            for i in (1..schedule.len()).rev() {
                let j = cluster.random.below(i as u64 + 1) as usize;
                schedule.swap(i, j);
            }
        }
        let fault = schedule.remove(0);
        // Load runs for a moment between faults.
        tokio::time::sleep(cluster.random.millis(500, 2_000)).await;
        let detail = match fault {
            Fault::Kill => cluster.kill_round(&load).await,
            Fault::Partition => cluster.partition_round().await,
            Fault::DiskFull => cluster.disk_full_round().await,
            Fault::CorruptRestart => cluster.corrupt_round(&load).await,
        };
        reports.push(cluster.check(&load, round, fault, detail).await);
    }

    load.stop.store(true, Ordering::Relaxed);
    load_task.await.unwrap();
    // The load has stopped: every transaction it was answered for ends in the chain, exactly
    // once, as the miners empty the pools.
    let (head, _, _) = cluster.converge().await;
    let mut final_check = cluster.check_transactions(&load, &head).await;
    let drained = Instant::now();
    while final_check.2 > 0 {
        if drained.elapsed() >= DEADLINE {
            let pending = cluster.last_pending.clone();
            panic!(
                "chaos: {} transactions still pending after the load stopped; one of them:\n{}\
                 peers:\n{}",
                final_check.2,
                cluster.explain(&load, &pending).await,
                cluster.peers().await
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (head, _, _) = cluster.converge().await;
        final_check = cluster.check_transactions(&load, &head).await;
    }
    let distinct: HashSet<String> = load.sent().into_iter().map(|sent| sent.hash).collect();
    assert_eq!(distinct.len(), final_check.0, "each transfer answered once");
    eprintln!(
        "chaos: after the load stopped, all {} transactions are included exactly once",
        final_check.0
    );
    let text = markdown(seed, &reports, &load, started.elapsed(), final_check.1);
    eprintln!("{text}");
    if let Ok(path) = std::env::var("SALUS_CHAOS_REPORT") {
        std::fs::write(&path, &text).unwrap();
    }
}
