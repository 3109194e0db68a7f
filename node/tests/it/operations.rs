//! Operating a node: SIGTERM while mining leaves a consistent database and a restart continues
//! the chain; a taken port, a broken config and another chain's data directory are refused with
//! errors that name the problem; `salus node` runs from a config file.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jsonrpsee::http_client::HttpClientBuilder;
use salus_client::rpc::SalusApiClient;

use crate::support::DevProcess;

const DEADLINE: Duration = Duration::from_secs(60);

/// Starts `salus` with `args`; returns the child and the RPC address it printed.
fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(index) = line.find("http://") {
                let address = line[index + 7..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = sender.send(address);
            }
        }
    });
    let address = receiver
        .recv_timeout(DEADLINE)
        .expect("the node printed its RPC address");
    (child, address)
}

async fn wait_for_height(rpc: &str, height: u64) -> u64 {
    let client = HttpClientBuilder::default()
        .build(format!("http://{rpc}"))
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let head = client.chain_head().await.unwrap().number;
        if head >= height {
            return head;
        }
        assert!(Instant::now() < deadline, "head stuck at {head}");
        tokio::task::yield_now().await;
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not stop after SIGTERM"
        );
        std::thread::yield_now();
    }
}

fn verify(data_dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["verify-chain", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_mining_leaves_a_consistent_database_and_restart_continues() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let args = [
        "dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--block-time-ms",
        "5",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    let (mut child, rpc) = spawn(&args);
    let reached = wait_for_height(&rpc, 5).await;
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");
    verify(&data_dir);

    let (mut child, rpc) = spawn(&args);
    let client = HttpClientBuilder::default()
        .build(format!("http://{rpc}"))
        .unwrap();
    let resumed = client.chain_head().await.unwrap().number;
    assert!(
        resumed >= reached,
        "restart went back from {reached} to {resumed}"
    );
    wait_for_height(&rpc, resumed + 2).await;
    assert!(terminate(&mut child).success());
    verify(&data_dir);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["dev", "--rpc-addr", &address, "--data-dir"])
        .arg(dir.path().join("dev"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot serve JSON-RPC on {address}")),
        "{stderr}"
    );
}

#[test]
fn broken_configs_and_foreign_data_directories_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        "data_dir = \"/tmp/x\"\ngenesis = \"dev\"\n[mining]\nenable = true\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["node", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("enable"),
        "the unknown key is named: {stderr}"
    );

    std::fs::write(
        &config,
        "genesis = \"dev\"\n[mining]\nenabled = true\nminer = \"0xnothex\"\n",
    )
    .unwrap();
    let data_dir = dir.path().join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["node", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mining.miner") && stderr.contains("0xnothex"),
        "{stderr}"
    );

    // A data directory of the dev chain, opened with another chain's genesis.
    let dev_dir = dir.path().join("dev");
    let status = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args([
            "dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--blocks",
            "1",
            "--block-time-ms",
            "0",
            "--data-dir",
        ])
        .arg(&dev_dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut other = salus_node::GenesisConfig::dev();
    other.chain_id = 99;
    let genesis = dir.path().join("other.json");
    std::fs::write(&genesis, serde_json::to_string(&other).unwrap()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["node", "--rpc-addr", "127.0.0.1:0", "--genesis"])
        .arg(&genesis)
        .arg("--data-dir")
        .arg(&dev_dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds the chain with genesis"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salus_node_runs_from_a_config_file_and_mines_continuously() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("node");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ngenesis = \"dev\"\n[rpc]\naddr = \"127.0.0.1:0\"\n[mining]\nenabled = true\nminer = \"0x0000000000000000000000000000000000000042\"\n",
            data_dir.to_str().unwrap()
        ),
    )
    .unwrap();
    let (mut child, rpc) = spawn(&["node", "--config", config.to_str().unwrap()]);
    wait_for_height(&rpc, 3).await;
    let client = HttpClientBuilder::default()
        .build(format!("http://{rpc}"))
        .unwrap();
    let miner = client
        .state_get_account("0x0000000000000000000000000000000000000042".into(), None)
        .await
        .unwrap();
    assert_ne!(
        miner.balance, "0",
        "block rewards went to the configured miner"
    );
    assert!(terminate(&mut child).success());
    verify(&data_dir);
}

/// The value of the metric `name` in a Prometheus text response.
fn metric_value(response: &str, name: &str) -> u64 {
    response
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {response}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_prometheus_format() {
    use std::io::{Read, Write};
    let mut node =
        DevProcess::start_with(&["--metrics-addr", "127.0.0.1:0", "--block-time-ms", "5"]);
    let address = node
        .metrics
        .clone()
        .expect("salus dev printed its metrics address");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(
            response.contains("# TYPE salus_head_height gauge"),
            "{response}"
        );
        let connected = metric_value(&response, "salus_blocks_connected_total");
        if connected >= 2 {
            assert!(response.contains("salus_mempool_transactions 0"));
            // Each block's state-tree update read the nodes the previous one wrote, from memory.
            let cache_hits = metric_value(&response, "salus_state_node_cache_hits_total");
            assert!(cache_hits > 0, "{response}");
            // The blocks' writes are in RocksDB's memtables, and reported.
            let memtable_bytes = metric_value(&response, "salus_rocksdb_memtable_bytes");
            assert!(memtable_bytes > 0, "{response}");
            // Each block the dev node mined was one write (genesis another), and its import
            // read nothing back.
            let writes = metric_value(&response, "salus_store_batches_written_total");
            assert!(writes > connected, "{response}");
            assert_eq!(
                metric_value(&response, "salus_store_bodies_read_total"),
                0,
                "{response}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no blocks counted");
        tokio::task::yield_now().await;
    }
    assert!(terminate(&mut node.child).success());
}

/// `GET path` from the node at `rpc` (`127.0.0.1:port`): the status and the body.
fn http_get(rpc: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(rpc).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {rpc}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// On a chain other than the dev chain the console's healthcare pages read the genesis
/// contracts by name, or those `[console]` names; a page whose contract neither names says how
/// to name it, and the status page lists what the console reads.
#[test]
fn the_console_reads_the_contracts_the_genesis_or_the_configuration_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut genesis = salus_node::GenesisConfig::dev();
    genesis.chain_id = 99;
    // The consent contract deployed under another name, and no supply contract at all.
    genesis
        .contracts
        .retain(|contract| contract.name != "supply");
    let consent = genesis
        .contracts
        .iter_mut()
        .find(|contract| contract.name == "consent")
        .unwrap();
    consent.name = "patient-consent".into();
    let consent_address = consent.address.clone();
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_string(&genesis).unwrap()).unwrap();
    let config = dir.path().join("node.toml");
    let write_config = |console: &str| {
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ngenesis = {:?}\n[rpc]\naddr = \"127.0.0.1:0\"\n[p2p]\nenabled = false\n{console}",
                dir.path().join("node").to_str().unwrap(),
                genesis_file.to_str().unwrap()
            ),
        )
        .unwrap();
    };

    // Without `[console]`: coverage is the genesis's; consent is under another name.
    write_config("");
    let (mut child, rpc) = spawn(&["node", "--config", config.to_str().unwrap()]);
    let (status, _) = http_get(&rpc, "/ui/coverage");
    assert_eq!(status, 200);
    let (status, page) = http_get(&rpc, "/ui/consent");
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("knows no consent contract"), "{page}");
    assert!(page.contains("[console] consent"), "{page}");
    assert!(terminate(&mut child).success());

    // `[console] consent` names it; supply stays unknown, and the status page says so.
    write_config(&format!("[console]\nconsent = {consent_address:?}\n"));
    let (mut child, rpc) = spawn(&["node", "--config", config.to_str().unwrap()]);
    let (status, page) = http_get(&rpc, "/ui/consent");
    assert_eq!(status, 200, "{page}");
    let (status, page) = http_get(&rpc, "/ui/supply");
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("knows no supply contract"), "{page}");
    let (status, page) = http_get(&rpc, "/ui/status");
    assert_eq!(status, 200);
    assert!(page.contains("set [console] supply"), "{page}");
    // Pages name the contracts the console reads, not the dev chain's reserved addresses.
    let (_, page) = http_get(&rpc, &format!("/ui/account/{consent_address}"));
    assert!(page.contains("<h1>Consent contract</h1>"), "{page}");
    let supply_reserved = salus_node::genesis::DEV_SUPPLY_ADDRESS.to_string();
    let (_, page) = http_get(&rpc, &format!("/ui/account/{supply_reserved}"));
    assert!(!page.contains("Supply contract"), "{page}");
    assert!(terminate(&mut child).success());

    // A value that is not an address is refused at start, by key.
    write_config("[console]\nsupply = \"0xnothex\"\n");
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["node", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("console.supply"), "{stderr}");
}
