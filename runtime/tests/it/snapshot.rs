//! Fuel and events of a fixed set of scenarios, compared with a committed snapshot: any change
//! in fuel costs, host behaviour or event layout — all consensus — fails here first. After an
//! intended change, regenerate with `UPDATE_SNAPSHOTS=1` and review the diff.

use std::fmt::Write;

use salus_runtime::ContractOutcome;

use crate::harness::{Harness, wasm};
use crate::modules::{call_back, counter, module, relay, reverter, writer};

fn describe(report: &mut String, name: &str, outcome: &ContractOutcome) {
    writeln!(
        report,
        "{name}: {:?} fuel={}",
        outcome.status, outcome.fuel_used
    )
    .unwrap();
    if !outcome.return_data.is_empty() {
        writeln!(report, "  return {}", hex(&outcome.return_data)).unwrap();
    }
    for event in &outcome.events {
        let topics: Vec<String> = event.topics.iter().map(|topic| topic.to_string()).collect();
        writeln!(
            report,
            "  event {} topics=[{}] data={}",
            event.contract,
            topics.join(","),
            hex(&event.data)
        )
        .unwrap();
    }
    for (function, fuel) in &outcome.fuel_breakdown {
        writeln!(
            report,
            "  host {function}: calls={} fuel={}",
            fuel.calls, fuel.fuel
        )
        .unwrap();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn scenarios() -> String {
    let mut report = String::new();
    let mut harness = Harness::new();
    let outcome = harness.try_deploy(&wasm(&counter()), 1);
    describe(&mut report, "deploy counter", &outcome);
    let counter_address =
        salus_primitives::Address(outcome.return_data.clone().try_into().unwrap());
    for round in 1..=2 {
        let outcome = harness.call(counter_address, Vec::new());
        describe(&mut report, &format!("counter call {round}"), &outcome);
    }
    let writer_address = harness.deploy(&writer(), 2);
    describe(
        &mut report,
        "writer",
        &harness.call(writer_address, b"consent:v1".to_vec()),
    );
    let reverting = harness.deploy(&reverter(), 3);
    describe(
        &mut report,
        "reverter",
        &harness.call(reverting, Vec::new()),
    );
    let looping = harness.deploy(&module(r#"(func (export "call") (loop (br 0)))"#), 4);
    describe(
        &mut report,
        "infinite loop",
        &harness.call_with(looping, Vec::new(), 250_000),
    );
    let relay_address = harness.deploy(&relay(false), 5);
    let back = harness.deploy(&call_back(), 6);
    describe(
        &mut report,
        "reentrancy refused",
        &harness.call(relay_address, back.0.to_vec()),
    );
    report
}

#[test]
fn fuel_and_events_match_the_snapshot() {
    let report = scenarios();
    // Determinism within one process, before comparing across processes through the file.
    assert_eq!(report, scenarios(), "two runs in one process differ");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/runtime_fuel.snap");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &report).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_SNAPSHOTS=1", path.display()));
    assert!(
        report == expected,
        "fuel or events changed (a consensus change). If intended, rerun with UPDATE_SNAPSHOTS=1 and \
         commit the snapshot.\n--- expected\n{expected}\n--- actual\n{report}"
    );
}
