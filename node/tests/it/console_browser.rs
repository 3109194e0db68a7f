//! The console in a real browser (issue 25): headless Chromium driven by Playwright against a dev node loaded with `salus scenario`.
//!
//! The checks themselves are JavaScript (`tests/browser/console.mjs` runs every module in
//! `tests/browser/checks/`); this test starts the node, tells the story, runs them, and answers
//! their requests with real signed transactions and real blocks: `READY-FOR-TRANSFER` (a
//! transfer submitted, not mined), `READY-FOR-MINING` (one block, by `dev_mine`) and
//! `READY-FOR-SEALED-BOX` (a FHIR resource sealed to a dev key's reply key on this chain, as a
//! record gateway releases it, written to a file for the browser to open).
//! `SALUS_CONSOLE_CHECKS=supply,coverage` runs only those modules. The screenshots of the last
//! run are in `$CARGO_TARGET_DIR/console-screenshots` (tests/README.md says how they become
//! docs/console/). Chromium and the npm packages come from scripts/test.sh
//! (scripts/lib/browser.sh); without them this test fails, saying so.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_primitives::Address;
use serde_json::json;

use crate::support::{DevProcess, dev_key, ok, transfer};

/// Longest the browser checks may run, answers included.
const RUNNER_DEADLINE: Duration = Duration::from_secs(150);

/// The dev account whose transfer the live checks watch.
const SENDER: u32 = 0;
/// The transfer's recipient: a fresh address, so its balance is the amount.
const RECIPIENT: Address = Address([0x5a; 20]);
/// The amount, in the smallest unit: 42 whole units (10^18 each), as the console writes it.
const AMOUNT: u128 = 42 * 10u128.pow(18);

#[test]
fn the_console_pages_pass_their_checks_in_a_real_browser() {
    let browser_tests = repository().join("tests").join("browser");
    let chromium = chromium();
    check_tools(&browser_tests, &chromium);

    let node = DevProcess::start(0);
    let scenario = ok(&node.salus(&["scenario"]));
    let work = tempfile::tempdir().unwrap();
    let scenario_file = work.path().join("scenario.json");
    std::fs::write(&scenario_file, &scenario).unwrap();
    let screenshots = Screenshots::new();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let only = std::env::var("SALUS_CONSOLE_CHECKS").ok();
    let mut runner = Command::new("node");
    runner
        .arg(browser_tests.join("console.mjs"))
        .arg("--base")
        .arg(node.http_url())
        .arg("--scenario")
        .arg(&scenario_file)
        .arg("--screenshots")
        .arg(&screenshots.run)
        .env("SALUS_CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(only) = &only {
        runner.arg("--only").arg(only);
    }
    let mut runner = runner
        .spawn()
        .expect("node runs (Node.js is installed by scripts/test.sh)");
    let lines = read_lines(runner.stdout.take().unwrap());
    let errors = read_all(runner.stderr.take().unwrap());
    let mut answers = runner.stdin.take().unwrap();

    let deadline = Instant::now() + RUNNER_DEADLINE;
    let mut output = String::new();
    loop {
        let line = match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let _ = runner.kill();
                let screenshots = screenshots.keep();
                panic!(
                    "the browser checks did not finish within {RUNNER_DEADLINE:?} (screenshots in {}):\n{output}{}",
                    screenshots.display(),
                    errors
                        .recv_timeout(Duration::from_secs(5))
                        .unwrap_or_default()
                );
            }
        };
        output.push_str(&line);
        output.push('\n');
        let answer = match line.as_str() {
            "READY-FOR-TRANSFER" => runtime.block_on(submit_transfer(&http)),
            "READY-FOR-MINING" => runtime.block_on(mine_block(&http)),
            "READY-FOR-SEALED-BOX" => runtime.block_on(sealed_box(&http, work.path())),
            _ => continue,
        };
        match answer_request(&mut answers, &answer) {
            Ok(()) => output.push_str(&format!("  (answered {answer})\n")),
            Err(error) => output.push_str(&format!("  (could not answer {answer}: {error})\n")),
        }
    }
    let status = wait(&mut runner, deadline);
    let errors = errors.recv().unwrap_or_default();
    let home_screenshot = screenshots.run.join("home.png").is_file();
    let screenshots = screenshots.keep();
    println!("{output}{errors}screenshots: {}", screenshots.display());
    assert!(
        status.success(),
        "the browser checks failed ({status}):\n{output}{errors}\nscenario: {scenario}"
    );
    if only.is_none() {
        assert!(
            output.contains("PASS chain"),
            "the chain checks did not run:\n{output}"
        );
        assert!(
            home_screenshot,
            "no screenshot of the home page in {}",
            screenshots.display()
        );
    }
}

/// The repository's root (the node crate's parent).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The Chromium the checks drive: `SALUS_CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    std::env::var_os("SALUS_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails, saying how to get them, unless Chromium, Node.js and the npm packages are there.
fn check_tools(browser_tests: &Path, chromium: &Path) {
    const HOW: &str = "run scripts/test.sh, which installs it (scripts/lib/browser.sh)";
    assert!(
        chromium.is_file(),
        "no Chromium at {}: {HOW}",
        chromium.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|output| output.status.success()),
        "no Node.js (`node`): {HOW}"
    );
    for package in ["playwright-core", "axe-core"] {
        let path = browser_tests.join("node_modules").join(package);
        assert!(
            path.join("package.json").is_file(),
            "no {} (npm ci in tests/browser): {HOW}",
            path.display()
        );
    }
}

/// The screenshots: each run writes its own directory, which then replaces
/// `console-screenshots` in the target directory (runs at the same time do not mix their
/// pictures; the last to finish stays).
struct Screenshots {
    /// This run's directory.
    run: PathBuf,
    /// Where the last run's pictures are kept.
    kept: PathBuf,
}

impl Screenshots {
    fn new() -> Screenshots {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repository().join("target"));
        let run = target.join(format!("console-screenshots.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir_all(&run).unwrap();
        Screenshots {
            run,
            kept: target.join("console-screenshots"),
        }
    }

    /// Moves this run's pictures to `console-screenshots`; where they are now.
    fn keep(self) -> PathBuf {
        let _ = std::fs::remove_dir_all(&self.kept);
        match std::fs::rename(&self.run, &self.kept) {
            Ok(()) => self.kept,
            // Another run kept its pictures in between: these stay where they are.
            Err(_) => self.run,
        }
    }
}

/// The runner's stdout, line by line (the channel closes when it does).
fn read_lines(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Everything the runner writes to stderr, once it closes it.
fn read_all(mut stderr: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = sender.send(text);
    });
    receiver
}

/// Writes `answer` as one line to the runner's stdin (an error when the runner is gone: its
/// exit status and output then say why).
fn answer_request(answers: &mut ChildStdin, answer: &serde_json::Value) -> std::io::Result<()> {
    writeln!(answers, "{answer}")?;
    answers.flush()
}

/// Waits for the runner to exit (it closed its stdout), polling until the deadline.
fn wait(runner: &mut Child, deadline: Instant) -> std::process::ExitStatus {
    loop {
        if let Some(status) = runner.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = runner.kill();
            panic!("the browser checks closed their output but did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `READY-FOR-TRANSFER`: a signed transfer submitted and left pending (the node mines only on
/// `dev_mine`).
async fn submit_transfer(http: &HttpClient) -> serde_json::Value {
    let sender = dev_key(SENDER);
    let nonce = http
        .state_get_account(sender.address().to_string(), None)
        .await
        .unwrap()
        .nonce;
    let signed = transfer(&sender, nonce, RECIPIENT, AMOUNT);
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(signed.encode())))
        .await
        .unwrap();
    assert!(
        http.tx_receipt(hash.clone()).await.unwrap().is_none(),
        "the transfer was mined before the checks asked for a block"
    );
    json!({
        "hash": hash,
        "from": sender.address().to_string(),
        "to": RECIPIENT.to_string(),
        "amount": AMOUNT.to_string(),
    })
}

/// `READY-FOR-MINING`: one block mined with `dev_mine`; its number and hash.
async fn mine_block(http: &HttpClient) -> serde_json::Value {
    let hashes = http.dev_mine(1).await.unwrap();
    let hash = hashes.last().expect("dev_mine mined a block").clone();
    let header = http
        .chain_get_header(salus_client::rpc::BlockId::Hash(hash.clone()))
        .await
        .unwrap()
        .expect("the mined block is known");
    json!({ "number": header.number, "hash": hash })
}

/// The dev account a sealed box is released to (the scenario's patient).
const BOX_RECIPIENT: u32 = 2;

/// `READY-FOR-SEALED-BOX`: a FHIR Observation sealed, as a record gateway seals a release, to the
/// reply key of dev account [`BOX_RECIPIENT`] on this chain, bound to a request hash; the box's
/// file, the hash, the recipient's key (in hex, as a Salus key file and as an Ethereum keystore,
/// with their password) and another account's (which must not open it), and a text only the
/// plaintext holds.
async fn sealed_box(http: &HttpClient, work: &Path) -> serde_json::Value {
    let genesis: salus_primitives::Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let recipient = dev_key(BOX_RECIPIENT);
    let secret_text = "potassium 4.1 mmol/L, sealed for the browser only";
    let resource = json!({
        "resourceType": "Observation",
        "id": "browser-box",
        "status": "final",
        "code": { "text": "Potassium" },
        "note": [{ "text": secret_text }],
    });
    let request = salus_primitives::keccak256(b"console browser check: a release's request");
    let public_key = salus_client::seal::reply_key::reply_public_key(&recipient, &genesis);
    let sealed = salus_client::seal(
        &salus_client::x25519_dalek::PublicKey::from(public_key),
        0,
        resource.to_string().as_bytes(),
        &request.0,
    )
    .unwrap();
    let file = work.join("released-record.sealed");
    std::fs::write(&file, &sealed).unwrap();
    // The same key as a Salus key file and as an Ethereum keystore v3 file, as a user holds it.
    let password = "browser check password";
    let key_file = work.join("recipient.key");
    std::fs::write(
        &key_file,
        salus_node::keystore::encrypt(&recipient, password.as_bytes(), [0x31; 32], [0x32; 24]),
    )
    .unwrap();
    let keystore = work.join("recipient.keystore.json");
    std::fs::write(
        &keystore,
        salus_node::keystore::ethereum::encrypt(
            &recipient,
            password.as_bytes(),
            &salus_node::keystore::ethereum::ExportRandomness {
                salt: [0x33; 32],
                iv: [0x34; 16],
                id: [0x35; 16],
            },
        ),
    )
    .unwrap();
    json!({
        "key_file": key_file,
        "keystore": keystore,
        "password": password,
        "file": file,
        "aad": request.to_string(),
        "key": format!("0x{}", hex::encode(recipient.to_bytes())),
        "other_key": format!("0x{}", hex::encode(dev_key(BOX_RECIPIENT + 1).to_bytes())),
        "secret_text": secret_text,
    })
}
