//! The README's walkthroughs, run as written: each shell block between `<!-- walkthrough: NAME`
//! and `<!-- /walkthrough -->` in README.md runs with bash against a `salus dev` node, so the
//! commands a new user copies stay true. `consent` (the hospital's): a lab result released
//! through the gateway (on a free port instead of the README's) to the doctor the patient's FHIR
//! consent names, a purpose it does not permit refused, and the disclosure in the patient's
//! AuditEvent bundle. `distributor`: a manufacturer's EPCIS document imported, the wholesaler's
//! receipt matched by its purchase order, a unit verified, its history exported as an EPCIS
//! document GS1's schema accepts, and a document with sensor data refused.

use std::path::Path;
use std::process::{Command, ExitStatus};

use serde_json::Value;

use crate::support::DevProcess;

/// The shell block of the walkthrough `name`, taken from README.md.
fn walkthrough(name: &str) -> String {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find(&format!("<!-- walkthrough: {name} "))
        .unwrap_or_else(|| panic!("README.md has the {name} walkthrough"));
    let block = &readme[start..];
    let body = &block[block.find("```sh\n").expect("a sh block") + "```sh\n".len()..];
    body[..body.find("```").expect("the block ends")].to_string()
}

/// What a walkthrough's run printed.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `script` with bash (`-euo pipefail`) in `work` against `node`, with the `salus` under
/// test first on the PATH and the keystore in `work`; background jobs end with it.
fn run(node: &DevProcess, work: &Path, script: &str) -> Run {
    let salus = Path::new(env!("CARGO_BIN_EXE_salus"));
    let path = format!(
        "{}:{}",
        salus.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Whatever happens, a process the script starts in the background ends with it.
    let script = format!("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}");
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(work)
        .env("PATH", path)
        .env("SALUS_RPC", node.http_url())
        .env("SALUS_DATA_DIR", node.dir.path().join("dev"))
        .env("SALUS_KEYS", work.join("keys"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let run = Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        run.status.success(),
        "the walkthrough failed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
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
    let script = walkthrough("consent").replace("127.0.0.1:8701", &format!("127.0.0.1:{port}"));
    let Run { stdout, .. } = run(&node, work.path(), &script);

    let sent = read_json(&work.path().join("lab.json"));
    let received = read_json(&work.path().join("received.json"));
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

#[test]
fn the_readme_distributor_walkthrough_imports_a_shipment_verifies_a_unit_and_exports_its_history() {
    let node = DevProcess::start(50);
    let work = tempfile::tempdir().unwrap();
    let Run { stdout, .. } = run(&node, work.path(), &walkthrough("distributor"));

    // The dry run printed the three calls before anything was sent.
    let plan_start = stdout.find("{").expect("the dry run's plan");
    let plan: Value = serde_json::Deserializer::from_str(&stdout[plan_start..])
        .into_iter::<Value>()
        .next()
        .unwrap()
        .unwrap();
    let messages: Vec<&str> = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["commission", "pack", "ship"]);

    let verified = read_json(&work.path().join("verified.json"));
    assert_eq!(verified["result"]["verified"], true, "{verified}");

    let history = read_json(&work.path().join("history.jsonld"));
    let steps: Vec<&str> = history["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["commissioning", "packing", "shipping", "receiving"]);
    crate::epcis::assert_schema_valid(&crate::epcis::epcis_schema(), &history);

    let refused = std::fs::read_to_string(work.path().join("refused.txt")).unwrap();
    assert!(
        refused.contains("event 0") && refused.contains("sensorElementList"),
        "{refused}"
    );
    let unit = node.salus(&[
        "call",
        "--contract",
        "0x0000000000000000000000000000000000000102",
        "--message",
        "unit",
        "--args",
        r#"["00312345678906", "S4"]"#,
    ]);
    assert!(unit.status.success());
    let unit = String::from_utf8_lossy(&unit.stdout);
    let unit: Value = serde_json::from_str(&unit[unit.find('{').expect("JSON printed")..]).unwrap();
    assert_eq!(unit["result"], Value::Null, "S4 was not commissioned");
}
