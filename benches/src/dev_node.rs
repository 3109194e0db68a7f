//! A `salus dev` process for the benchmark binaries: started in a temporary directory, its
//! banner read for the RPC, P2P and metrics addresses, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

/// Longest wait for a node to print its banner.
const START_DEADLINE: Duration = Duration::from_secs(120);

/// A running `salus dev` node.
pub struct DevNode {
    child: Child,
    /// Its JSON-RPC client.
    pub rpc: HttpClient,
    /// Its RPC address, `host:port` (also the console's, under `/ui`).
    pub rpc_address: String,
    /// Its peer-to-peer address, when started with `--p2p-listen`.
    pub p2p: Option<String>,
    /// Its metrics URL, when started with `--metrics-addr`.
    pub metrics: Option<String>,
    _dir: tempfile::TempDir,
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DevNode {
    /// Starts `salus dev --rpc-addr 127.0.0.1:0 ARGUMENTS…` on a fresh data directory and returns
    /// once it printed its banner.
    ///
    /// # Errors
    /// If the process cannot start or prints no addresses in time.
    pub fn start(salus: &Path, arguments: &[&str]) -> anyhow::Result<DevNode> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(salus)
            .args(["dev", "--rpc-addr", "127.0.0.1:0"])
            .args(arguments)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting salus dev")?;
        let stdout = child.stdout.take().context("stdout")?;
        let (sender, receiver) = std::sync::mpsc::channel();
        // Keeps reading after the banner so the node never writes into a closed pipe.
        std::thread::spawn(move || {
            let (mut rpc, mut p2p, mut metrics) = (None, None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("RPC: http://") {
                    rpc = rest.split_whitespace().next().map(str::to_string);
                }
                if let Some(rest) = line.strip_prefix("P2P: ") {
                    p2p = Some(rest.trim().to_string());
                }
                if let Some(rest) = line.strip_prefix("Metrics: ") {
                    metrics = Some(rest.trim().to_string());
                }
                if line.starts_with("Head: ") {
                    let _ = sender.send((rpc.take(), p2p.take(), metrics.take()));
                }
            }
        });
        let (rpc, p2p, metrics) = receiver
            .recv_timeout(START_DEADLINE)
            .context("salus dev did not print its banner")?;
        let Some(rpc) = rpc else {
            bail!("salus dev did not print its RPC address");
        };
        Ok(DevNode {
            child,
            rpc: HttpClientBuilder::default()
                .max_concurrent_requests(1024)
                .build(format!("http://{rpc}"))?,
            rpc_address: rpc,
            p2p,
            metrics,
            _dir: dir,
        })
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size in KiB, from /proc.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    }
}

/// CPU time (user + system) a process has used so far, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) closed by ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// The `salus` binary: `$SALUS_BIN`, or the one beside the running benchmark binary.
///
/// # Errors
/// If neither exists.
pub fn salus_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("SALUS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let beside = std::env::current_exe()?.with_file_name("salus");
    if beside.exists() {
        Ok(beside)
    } else {
        bail!("build the salus binary first (cargo build --release --bin salus) or set SALUS_BIN")
    }
}

/// The value at `fraction` (0–1) of sorted samples (zero when there are none).
pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * fraction).round() as usize]
}
