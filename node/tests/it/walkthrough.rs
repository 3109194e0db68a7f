//! The README's walkthrough, run as written: the shell block between `<!-- walkthrough: consent`
//! and `<!-- /walkthrough -->` in README.md runs with bash against a `salus dev` node (the
//! gateway on a free port instead of the README's), so the commands a new user copies stay
//! true: a lab result released to the doctor the patient's FHIR consent names, a purpose it
//! does not permit refused, and the disclosure in the patient's AuditEvent bundle.

use std::process::Command;

use serde_json::Value;

use crate::support::DevProcess;

/// The walkthrough's shell block, taken from README.md.
fn walkthrough() -> String {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("<!-- walkthrough: consent")
        .expect("README.md has the consent walkthrough");
    let block = &readme[start..];
    let body = &block[block.find("```sh\n").expect("a sh block") + "```sh\n".len()..];
    body[..body.find("```").expect("the block ends")].to_string()
}

#[test]
fn the_readme_walkthrough_releases_a_record_under_a_fhir_consent_and_lists_it_in_the_audit() {
    let node = DevProcess::start(50);
    let work = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = walkthrough().replace("127.0.0.1:8701", &format!("127.0.0.1:{port}"));
    let salus = std::path::Path::new(env!("CARGO_BIN_EXE_salus"));
    let path = format!(
        "{}:{}",
        salus.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Whatever happens, the gateway the script starts in the background ends with it.
    let script = format!("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}");
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env("SALUS_RPC", node.http_url())
        .env("SALUS_DATA_DIR", node.dir.path().join("dev"))
        .env("SALUS_KEYS", work.path().join("keys"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let (status, stdout, stderr) = (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(
        status.success(),
        "the walkthrough failed:\n{stdout}\n{stderr}"
    );

    let sent: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("lab.json")).unwrap())
            .unwrap();
    let received: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("received.json")).unwrap())
            .unwrap();
    assert_eq!(received, sent, "the doctor receives the hospital's record");
    assert!(stdout.contains("refused"), "{stdout}");
    assert!(
        !work.path().join("marketing.json").exists(),
        "nothing is written for the refused purpose"
    );
    // The last thing printed: the bundle, pretty-printed from a line of its own.
    let bundle = &stdout[stdout.rfind("\n{\n").expect("the audit bundle") + 1..];
    let bundle: Value = serde_json::from_str(bundle).unwrap();
    let events: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .collect();
    assert!(
        events
            .iter()
            .any(|event| event["resourceType"] == "AuditEvent"
                && event["outcome"] == "0"
                && event["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"),
        "the release is in the patient's accounting: {bundle:#}"
    );
}
