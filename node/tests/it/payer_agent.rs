//! The payer's agent end to end (docs/PRIVACY.md §5.5): a `salus dev` node mining every 50 ms;
//! a provider posts a sealed preauthorization's skeleton with `submit_sealed` and delivers the
//! submission sealed to the payer's registered key into the agent's inbox; `salus agent payer
//! --once` opens it, decides every line with the published rules against the payer's records
//! and posts `post_decision`; `salus verify-decision` reruns the rules from the plaintext and
//! the salts. The chain never holds a procedure or diagnosis code of the request.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use coverage::{ActionCode, Claim, PostedLine, Priority, RequestStatus, SealedRequest};
use parity_scale_codec::{Decode, Encode};
use salus_client::DryRun;
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::seal::CommitmentSalt;
use salus_node::agent::submission::documentation_file;
use salus_node::agent::{
    ClaimLineRecord, SealedClaim, SealedDocumentation, SealedSubmission, seal_documentation,
};
use salus_node::gateway::ledger::{call_input, registered_key};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::Hash;
use serde_json::json;

use crate::support::dev_key;
use crate::support::payer::{
    CLINICIAN, CT, DAY_MS, DEADLINE, DIAGNOSIS, HOSPITAL, MEMBER, MRI, PAYER, PayerWorld, STRANGER,
    address, must, receipt, rules, salus, submission, submit_claim, submit_sealed, transact,
};

fn coverage_call(message: &str, arguments: impl Encode) -> Vec<u8> {
    call_input(message, arguments)
}

/// The node; the payer, the hospital, the patient and the clinician registered; the payer's
/// reply key registered; the member's coverage, the rule set and the reviewer on chain; the
/// payer's records file.
async fn world() -> PayerWorld {
    PayerWorld::builder().reviewer().build().await
}

impl PayerWorld {
    /// The day after the world was built: the requests' date of service.
    fn service_ms(&self) -> u64 {
        self.now + DAY_MS
    }

    /// An MRI and a CT for the member, under `handle`.
    fn submission(&self, handle: Hash) -> SealedSubmission {
        submission(handle, self.service_ms())
    }

    /// The hospital posts the skeleton committing to `committed` and delivers `delivered`
    /// sealed to the payer's registered key; the `submit_sealed` receipt.
    async fn submit_sealed(
        &self,
        committed: &SealedSubmission,
        delivered: &SealedSubmission,
        salt: &CommitmentSalt,
    ) -> ReceiptView {
        submit_sealed(&self.http, &self.inbox, committed, delivered, salt).await
    }

    /// `salus agent payer --once`: its output lines.
    fn agent_once(&self) -> String {
        crate::support::payer::agent_once(&self.node, &self.inbox, &self.records)
    }

    /// The stored request as the payer reads it: decoded, and its raw SCALE bytes.
    async fn sealed_request(&self, handle: Hash) -> (SealedRequest, Vec<u8>) {
        let request = DryRun::new(DEV_COVERAGE_ADDRESS, call_input("sealed_request", handle))
            .signed_for(DEV_CHAIN_ID, &dev_key(PAYER));
        let outcome = self.http.state_call(request).await.unwrap();
        assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
        let bytes = hex::decode(outcome.return_data.trim_start_matches("0x")).unwrap();
        let request = Option::<SealedRequest>::decode(&mut &bytes[..])
            .unwrap()
            .expect("stored");
        (request, bytes)
    }
}

/// Whether any clinical code of the submission is in `bytes`.
fn holds_a_code(bytes: &[u8]) -> Option<&'static str> {
    [MRI, CT, DIAGNOSIS].into_iter().find(|code| {
        bytes
            .windows(code.len())
            .any(|window| window == code.as_bytes())
    })
}

fn receipt_bytes(receipt: &ReceiptView) -> Vec<u8> {
    let mut bytes = Vec::new();
    for event in &receipt.events {
        bytes.extend(hex::decode(event.data.trim_start_matches("0x")).unwrap());
        for topic in &event.topics {
            bytes.extend(hex::decode(topic.trim_start_matches("0x")).unwrap());
        }
    }
    bytes.extend(hex::decode(receipt.return_data.trim_start_matches("0x")).unwrap());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payers_agent_decides_a_sealed_request_and_the_decision_verifies() {
    let w = world().await;
    let handle = Hash([0xa1; 32]);
    let submission = w.submission(handle);
    let salt = CommitmentSalt::from_bytes([0x5a; 32]);
    let submitted = w.submit_sealed(&submission, &submission, &salt).await;

    let output = w.agent_once();
    let decided = output
        .lines()
        .find(|line| line.starts_with(&format!("decided {handle}")))
        .unwrap_or_else(|| panic!("the agent decided it: {output}"));
    assert!(decided.contains("Pended"), "{decided}");
    let transaction = decided.rsplit(' ').next().unwrap();
    let posted = receipt(&w.http, transaction).await;
    assert_eq!(posted.status, "success");

    // A1 for the auto-approved MRI; A4 with the clinical-review reason for the CT.
    let (request, stored) = w.sealed_request(handle).await;
    let lines: Vec<PostedLine> = request
        .decisions
        .iter()
        .map(|decision| decision.line.clone())
        .collect();
    assert_eq!(
        lines,
        vec![
            PostedLine {
                action: ActionCode::A1,
                reason: None,
                quantity: 1,
            },
            PostedLine {
                action: ActionCode::A4,
                reason: Some("R8".into()),
                quantity: 0,
            },
        ]
    );
    assert_eq!(request.status, RequestStatus::Pended);
    assert_eq!(request.posts[0].decided_by, address(PAYER));
    assert_eq!(request.posts[0].rule_set, 1);

    // No procedure or diagnosis code on chain: not in the stored request, not in either
    // transaction's events or result, not in the transactions themselves.
    for (what, bytes) in [
        ("the stored request", stored),
        ("submit_sealed's receipt", receipt_bytes(&submitted)),
        ("post_decision's receipt", receipt_bytes(&posted)),
    ] {
        assert_eq!(holds_a_code(&bytes), None, "{what}");
    }
    for hash in [&submitted.transaction_hash, &posted.transaction_hash] {
        let transaction = w.http.tx_get(hash.clone()).await.unwrap().unwrap();
        let text = serde_json::to_string(&transaction).unwrap();
        assert_eq!(holds_a_code(text.as_bytes()), None, "transaction {hash}");
    }

    // A second pass has nothing to do.
    assert_eq!(w.agent_once().trim(), "");

    // The provider, holding the plaintext and the salts, verifies the decision.
    let plaintext = w.node.dir.path().join("submission.json");
    std::fs::write(&plaintext, serde_json::to_string(&submission).unwrap()).unwrap();
    let salts = w
        .inbox
        .join(format!("{}.salts.json", hex::encode(handle.0)));
    let verify = |submission: &PathBuf, records: &PathBuf| {
        salus(
            &w.node,
            &[
                "verify-decision",
                "--trace",
                &handle.to_string(),
                "--submission",
                submission.to_str().unwrap(),
                "--records",
                records.to_str().unwrap(),
                "--salts",
                salts.to_str().unwrap(),
                "--key",
                &format!("dev:{HOSPITAL}"),
            ],
        )
    };
    // The records the decision read, as the agent kept them (the records file itself now
    // holds the MRI's certification).
    let read = w
        .inbox
        .join(format!("{}.records.json", hex::encode(handle.0)));
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    assert_eq!(records["members"][0]["certified"][0]["rule_id"], 10);
    assert_eq!(records["members"][0]["certified"][0]["units"], 1);
    let verdict = verify(&plaintext, &read).unwrap();
    assert!(verdict.starts_with("match: rule set 1"), "{verdict}");
    // Other records than the decision read: the inputs commitment does not open.
    let other_records = w.node.dir.path().join("other-records.json");
    let changed = std::fs::read_to_string(&read)
        .unwrap()
        .replace("1980", "1950");
    std::fs::write(&other_records, changed).unwrap();
    let refused = verify(&plaintext, &other_records).unwrap_err();
    assert!(refused.contains("differs: inputs_commitment"), "{refused}");
    // Another submission than the one committed to.
    let mut other = submission.clone();
    other.lines[1].quantity = 2;
    let other_plaintext = w.node.dir.path().join("other-submission.json");
    std::fs::write(&other_plaintext, serde_json::to_string(&other).unwrap()).unwrap();
    let refused = verify(&other_plaintext, &read).unwrap_err();
    assert!(
        refused.contains("differs: the submission does not open"),
        "{refused}"
    );

    // The provider cancels: the agent returns the MRI's certified unit in the payer's
    // records (the rolling window and the benefit), as the contract's `CERTIFIED` did.
    must(
        &w.http,
        HOSPITAL,
        DEV_COVERAGE_ADDRESS,
        coverage_call("cancel", handle),
    )
    .await;
    let output = w.agent_once();
    assert!(output.contains(&format!("released {handle}")), "{output}");
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    assert_eq!(records["members"][0]["certified"], json!([]));
    assert_eq!(records["members"][0]["benefits"][0]["quantity_used"], 0);
    assert_eq!(w.agent_once().trim(), "", "released once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_submission_is_refused_and_only_the_payers_side_posts() {
    let w = world().await;
    let handle = Hash([0xa2; 32]);
    let committed = w.submission(handle);
    let mut delivered = committed.clone();
    delivered.lines[1].procedure = MRI.into();
    let salt = CommitmentSalt::from_bytes([0x5b; 32]);
    w.submit_sealed(&committed, &delivered, &salt).await;

    let output = w.agent_once();
    assert!(
        output.contains(&format!(
            "refused {handle}: the submission does not match its commitment on chain"
        )),
        "{output}"
    );
    let (request, _) = w.sealed_request(handle).await;
    assert!(request.decisions.is_empty(), "nothing posted");
    assert_eq!(request.status, RequestStatus::Pended);
    // A servicing NPI the registry does not attest for the requester (nor a referral's
    // servicing provider) is refused: the network edit would read a borrowed NPI.
    let borrowed = Hash([0xa4; 32]);
    let mut other_npi = w.submission(borrowed);
    other_npi.servicing_npi = "1987654325".into();
    w.submit_sealed(&other_npi, &other_npi, &salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("refused {borrowed}: the submission does not match the request on chain: a servicing NPI")),
        "{output}"
    );
    let (request, _) = w.sealed_request(borrowed).await;
    assert!(request.decisions.is_empty(), "nothing posted");

    // Neither a stranger nor the requesting provider may post a decision.
    let lines = vec![
        PostedLine {
            action: ActionCode::A1,
            reason: None,
            quantity: 1,
        };
        2
    ];
    for who in [STRANGER, HOSPITAL] {
        let arguments = (handle, lines.clone(), 1u32, Hash([1; 32]), Hash([2; 32]));
        let refused = transact(
            &w.http,
            who,
            DEV_COVERAGE_ADDRESS,
            coverage_call("post_decision", arguments),
        )
        .await;
        assert_eq!(refused.status, "reverted");
        let failure = refused.failure.unwrap_or_default();
        assert!(
            failure.contains("CoverageError::NotAuthorised"),
            "{failure}"
        );
    }
    let (request, _) = w.sealed_request(handle).await;
    assert!(request.decisions.is_empty());
}

impl PayerWorld {
    /// The hospital posts a claim citing `trace` and delivers it sealed to the payer's key;
    /// the `submit_claim` receipt.
    async fn submit_claim(&self, claim: &SealedClaim, salt: &CommitmentSalt) -> ReceiptView {
        submit_claim(&self.http, &self.inbox, claim, salt).await
    }

    /// The claim as the payer reads it: decoded, and its raw SCALE bytes.
    async fn claim(&self, handle: Hash) -> (Claim, Vec<u8>) {
        let request = DryRun::new(DEV_COVERAGE_ADDRESS, call_input("claim", handle))
            .signed_for(DEV_CHAIN_ID, &dev_key(PAYER));
        let outcome = self.http.state_call(request).await.unwrap();
        assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
        let bytes = hex::decode(outcome.return_data.trim_start_matches("0x")).unwrap();
        let claim = Option::<Claim>::decode(&mut &bytes[..])
            .unwrap()
            .expect("stored");
        (claim, bytes)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payers_agent_checks_a_sealed_claim_against_the_authorisation() {
    let w = world().await;
    let trace = Hash([0xa3; 32]);
    let submission = w.submission(trace);
    let salt = CommitmentSalt::from_bytes([0x5c; 32]);
    w.submit_sealed(&submission, &submission, &salt).await;
    let output = w.agent_once();
    assert!(output.contains(&format!("decided {trace}")), "{output}");

    // The MRI was certified (one unit), the CT pended: the MRI line is accepted and draws on
    // the authorisation, the CT line has none (`197`).
    let line = |procedure: &str| ClaimLineRecord {
        procedure: procedure.into(),
        quantity: 1,
        service_ms: w.service_ms() + DAY_MS,
        diagnoses: vec![DIAGNOSIS.into()],
    };
    let claim = SealedClaim {
        claim_handle: Hash([0xc1; 32]),
        payer: address(PAYER),
        member: MEMBER,
        trace_handle: Some(trace),
        lines: vec![line(MRI), line(CT)],
    };
    let claim_salt = CommitmentSalt::from_bytes([0x5d; 32]);
    let submitted = w.submit_claim(&claim, &claim_salt).await;
    // Only the payer's side posts a claim check: not the billing provider, not a stranger.
    for who in [HOSPITAL, STRANGER] {
        let arguments = (
            claim.claim_handle,
            vec![Vec::<String>::new(); 2],
            Hash([1; 32]),
            Hash([2; 32]),
        );
        let refused = transact(
            &w.http,
            who,
            DEV_COVERAGE_ADDRESS,
            coverage_call("post_claim_check", arguments),
        )
        .await;
        assert_eq!(refused.status, "reverted");
        assert!(
            refused
                .failure
                .unwrap_or_default()
                .contains("CoverageError::NotAuthorised")
        );
    }
    let output = w.agent_once();
    let checked = output
        .lines()
        .find(|line| line.starts_with(&format!("checked {}", claim.claim_handle)))
        .unwrap_or_else(|| panic!("the agent checked it: {output}"));
    assert!(checked.contains("1 accepted 1 refused"), "{checked}");
    let transaction = checked.rsplit(' ').next().unwrap();
    let posted = receipt(&w.http, transaction).await;
    let (stored, bytes) = w.claim(claim.claim_handle).await;
    let check = stored.check.expect("checked");
    assert!(check.lines[0].accepted);
    let carcs: Vec<&str> = check.lines[1]
        .adjustments
        .iter()
        .map(|adjustment| adjustment.carc.as_str())
        .collect();
    assert_eq!(carcs, ["197"]);
    assert_eq!(check.checked_by, address(PAYER));
    // The draw is in the payer's records, not on chain.
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    assert_eq!(records["members"][0]["claimed"][0]["units"], 1);
    // No procedure, diagnosis or date of service on chain.
    let service_date = (w.service_ms() + DAY_MS).to_le_bytes();
    for (what, bytes) in [
        ("the stored claim", bytes),
        ("submit_claim's receipt", receipt_bytes(&submitted)),
        ("post_claim_check's receipt", receipt_bytes(&posted)),
    ] {
        assert_eq!(holds_a_code(&bytes), None, "{what}");
        assert!(
            !bytes.windows(8).any(|window| window == service_date),
            "{what} holds the date of service"
        );
    }
    for hash in [&submitted.transaction_hash, &posted.transaction_hash] {
        let transaction = w.http.tx_get(hash.clone()).await.unwrap().unwrap();
        let text = serde_json::to_string(&transaction).unwrap();
        assert_eq!(holds_a_code(text.as_bytes()), None, "transaction {hash}");
    }

    // The billing provider, holding the plaintext claim, verifies the check from the inputs
    // and salts the agent kept.
    let plaintext = w.node.dir.path().join("claim.json");
    std::fs::write(&plaintext, serde_json::to_string(&claim).unwrap()).unwrap();
    let kept = |suffix: &str| {
        w.inbox
            .join(format!("{}.{suffix}", hex::encode(claim.claim_handle.0)))
    };
    let verify = |plaintext: &PathBuf| {
        salus(
            &w.node,
            &[
                "verify-decision",
                "--trace",
                &claim.claim_handle.to_string(),
                "--claim",
                "--submission",
                plaintext.to_str().unwrap(),
                "--records",
                kept("inputs.json").to_str().unwrap(),
                "--salts",
                kept("salts.json").to_str().unwrap(),
                "--key",
                &format!("dev:{HOSPITAL}"),
            ],
        )
    };
    let verdict = verify(&plaintext).unwrap();
    assert!(
        verdict.starts_with("match: claim check, 2 line(s)"),
        "{verdict}"
    );
    let mut other = claim.clone();
    other.lines[0].quantity = 2;
    let other_plaintext = w.node.dir.path().join("other-claim.json");
    std::fs::write(&other_plaintext, serde_json::to_string(&other).unwrap()).unwrap();
    let refused = verify(&other_plaintext).unwrap_err();
    assert!(
        refused.contains("differs: the claim does not open"),
        "{refused}"
    );

    // A second claim for the MRI exceeds the authorisation's one unit (`198`).
    let again = SealedClaim {
        claim_handle: Hash([0xc2; 32]),
        lines: vec![line(MRI)],
        ..claim.clone()
    };
    w.submit_claim(&again, &claim_salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!(
            "checked {} 0 accepted 1 refused",
            again.claim_handle
        )),
        "{output}"
    );
    let (stored, _) = w.claim(again.claim_handle).await;
    assert_eq!(stored.check.unwrap().lines[0].adjustments[0].carc, "198");
    // Voiding the first claim (X12 837 CLM05-3 `8`) returns its unit in the payer's records;
    // the MRI may then be claimed again.
    must(
        &w.http,
        HOSPITAL,
        DEV_COVERAGE_ADDRESS,
        coverage_call("void_claim", claim.claim_handle),
    )
    .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("restored {}", claim.claim_handle)),
        "{output}"
    );
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    assert_eq!(records["members"][0]["claimed"], json!([]));
    let third = SealedClaim {
        claim_handle: Hash([0xc3; 32]),
        lines: vec![line(MRI)],
        ..claim.clone()
    };
    w.submit_claim(&third, &claim_salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!(
            "checked {} 1 accepted 0 refused",
            third.claim_handle
        )),
        "{output}"
    );
    // A second pass has nothing to do.
    assert_eq!(w.agent_once().trim(), "");
}

/// A line certified by a clinician reviewer's post, not by the agent: the agent records it in
/// the payer's records (rolling window, benefit) as it records its own, once, and a claim
/// against it is accepted and draws on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_a_reviewer_approves_is_recorded_by_the_agent_and_a_claim_against_it_accepted() {
    let w = world().await;
    let trace = Hash([0xa7; 32]);
    let submission = w.submission(trace);
    let salt = CommitmentSalt::from_bytes([0x61; 32]);
    w.submit_sealed(&submission, &submission, &salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("decided {trace} Pended")),
        "{output}"
    );
    let read_records = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap()
    };
    let member = &read_records()["members"][0];
    assert_eq!(member["certified"].as_array().unwrap().len(), 1, "the MRI");
    assert_eq!(member["benefits"][0]["quantity_used"], 1);

    // The clinician approves the pended CT: two units.
    let posted = salus(
        &w.node,
        &[
            "agent",
            "review",
            "--key",
            &format!("dev:{CLINICIAN}"),
            "--trace",
            &trace.to_string(),
            "--line",
            "2",
            "--action",
            "A1",
            "--quantity",
            "2",
        ],
    )
    .unwrap();
    assert!(
        posted.starts_with(&format!("posted {trace} line 2 A1 in ")),
        "{posted}"
    );
    let output = w.agent_once();
    assert!(
        output.contains(&format!("recorded {trace} 1 certified line(s)")),
        "{output}"
    );
    let member = &read_records()["members"][0];
    let certified = member["certified"].as_array().unwrap();
    assert_eq!(certified.len(), 2, "{certified:?}");
    assert_eq!(certified[1]["line"], 1);
    assert_eq!(certified[1]["units"], 2);
    assert_eq!(certified[1]["trace_handle"], trace.to_string());
    assert_eq!(member["benefits"][0]["quantity_used"], 3);
    assert_eq!(w.agent_once().trim(), "", "recorded once");

    // A claim for the CT against the authorisation: accepted, drawing on its line.
    let claim = SealedClaim {
        claim_handle: Hash([0xc7; 32]),
        payer: address(PAYER),
        member: MEMBER,
        trace_handle: Some(trace),
        lines: vec![ClaimLineRecord {
            procedure: CT.into(),
            quantity: 2,
            service_ms: w.service_ms() + DAY_MS,
            diagnoses: vec![DIAGNOSIS.into()],
        }],
    };
    w.submit_claim(&claim, &CommitmentSalt::from_bytes([0x62; 32]))
        .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!(
            "checked {} 1 accepted 0 refused",
            claim.claim_handle
        )),
        "{output}"
    );
    let member = &read_records()["members"][0];
    assert_eq!(member["claimed"][0]["line"], 1);
    assert_eq!(member["claimed"][0]["units"], 2);
    let (stored, _) = w.claim(claim.claim_handle).await;
    assert!(stored.check.expect("checked").lines[0].accepted);
}

/// A denial overturned on appeal certifies the line: the agent records it in the payer's
/// records, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_certified_by_an_overturned_appeal_is_recorded_by_the_agent() {
    let w = world().await;
    let trace = Hash([0xa9; 32]);
    let submission = w.submission(trace);
    w.submit_sealed(
        &submission,
        &submission,
        &CommitmentSalt::from_bytes([0x64; 32]),
    )
    .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("decided {trace} Pended")),
        "{output}"
    );
    // The clinician denies the CT; the hospital appeals; the payer, who made none of the
    // decisions appealed, overturns it.
    let denied = PostedLine {
        action: ActionCode::A3,
        reason: Some("R8".into()),
        quantity: 0,
    };
    let (request, _) = w.sealed_request(trace).await;
    let mut lines: Vec<PostedLine> = request
        .decisions
        .iter()
        .map(|decision| decision.line.clone())
        .collect();
    lines[1] = denied;
    let version = request.posts[0].rule_set;
    let arguments = (trace, lines.clone(), version, Hash([1; 32]), Hash([2; 32]));
    must(
        &w.http,
        CLINICIAN,
        DEV_COVERAGE_ADDRESS,
        coverage_call("post_decision", arguments),
    )
    .await;
    must(
        &w.http,
        HOSPITAL,
        DEV_COVERAGE_ADDRESS,
        coverage_call("appeal", (trace, Hash([3; 32]))),
    )
    .await;
    assert_eq!(w.agent_once().trim(), "", "a denial certifies nothing");
    lines[1] = PostedLine {
        action: ActionCode::A1,
        reason: None,
        quantity: 1,
    };
    let arguments = (
        trace,
        coverage::AppealOutcome::Overturned,
        Option::<String>::None,
        lines,
        version,
        Hash([4; 32]),
        Hash([5; 32]),
    );
    must(
        &w.http,
        PAYER,
        DEV_COVERAGE_ADDRESS,
        coverage_call("decide_appeal", arguments),
    )
    .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("recorded {trace} 1 certified line(s)")),
        "{output}"
    );
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    let certified = records["members"][0]["certified"].as_array().unwrap();
    assert_eq!(certified.len(), 2, "{certified:?}");
    assert_eq!(
        (certified[1]["line"].clone(), certified[1]["units"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(w.agent_once().trim(), "", "recorded once");
}

/// `salus agent payer --metrics-period`: once the period of the agent's decisions has ended
/// by the chain's clock, the agent posts the per-code aggregates with a commitment to the
/// decisions counted, which the list it kept opens; once per period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_posts_per_code_metrics_once_a_period_has_ended() {
    use salus_node::agent::metrics::{MetricsFile, MetricsPeriod, decisions_commitment};
    /// Periods of 6 s: long enough for a pass to start inside the next one.
    const PERIOD_MS: u64 = 6_000;
    let w = world().await;
    let trace = Hash([0xa8; 32]);
    let submission = w.submission(trace);
    w.submit_sealed(
        &submission,
        &submission,
        &CommitmentSalt::from_bytes([0x63; 32]),
    )
    .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("decided {trace} Pended")),
        "{output}"
    );
    let (request, _) = w.sealed_request(trace).await;
    let period = MetricsPeriod::Millis(PERIOD_MS).containing(request.decisions[0].decided_ms);
    // The chain's clock passes the period's end (blocks every 50 ms).
    let deadline = Instant::now() + DEADLINE;
    while w.http.chain_head().await.unwrap().timestamp_ms < period.end_ms {
        assert!(Instant::now() < deadline, "the chain's clock stands still");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics_once = || {
        salus(
            &w.node,
            &[
                "agent",
                "payer",
                "--key",
                &format!("dev:{PAYER}"),
                "--inbox",
                w.inbox.to_str().unwrap(),
                "--records",
                w.records.to_str().unwrap(),
                "--once",
                "--metrics-period",
                &format!("{PERIOD_MS}ms"),
            ],
        )
        .unwrap()
    };
    let output = metrics_once();
    let expected = format!("metrics {}..{} posted in ", period.start_ms, period.end_ms);
    assert!(output.contains(&expected), "{output}");
    let read = DryRun::new(
        DEV_COVERAGE_ADDRESS,
        call_input("period_metrics", (address(PAYER), period.start_ms)),
    );
    let outcome = w.http.state_call(read.unsigned()).await.unwrap();
    let bytes = hex::decode(outcome.return_data.trim_start_matches("0x")).unwrap();
    let posted = Option::<coverage::MetricsPost>::decode(&mut &bytes[..])
        .unwrap()
        .expect("posted");
    assert_eq!(posted.posted_by, address(PAYER));
    let received = u64::from(period.start_ms <= request.received_ms);
    let by_code = |code: &str| {
        posted
            .aggregates
            .iter()
            .find(|entry| entry.service_code == code)
            .unwrap_or_else(|| panic!("{code} in {:?}", posted.aggregates))
    };
    let mri = by_code(MRI);
    assert_eq!(mri.priority, Priority::Standard);
    assert_eq!(
        (
            mri.counts.requested,
            mri.counts.decided,
            mri.counts.approved,
            mri.counts.denied
        ),
        (received, 1, 1, 0)
    );
    assert_eq!(
        mri.median_turnaround_ms,
        request.decisions[0].decided_ms - request.received_ms
    );
    if received == 1 {
        let ct = by_code(CT);
        assert_eq!(
            (ct.counts.requested, ct.counts.pended, ct.counts.decided),
            (1, 1, 0),
            "pended, not decided"
        );
    }
    // The list the agent kept opens the commitment; a list without one decision does not.
    let kept: MetricsFile = serde_json::from_str(
        &std::fs::read_to_string(w.inbox.join(format!("metrics-{}.json", period.start_ms)))
            .unwrap(),
    )
    .unwrap();
    let salt = CommitmentSalt::from_bytes(
        hex::decode(kept.salt.trim_start_matches("0x"))
            .unwrap()
            .try_into()
            .unwrap(),
    );
    assert_eq!(
        decisions_commitment(&kept.decisions, &salt),
        posted.decisions_commitment
    );
    assert_ne!(
        decisions_commitment(&kept.decisions[1..], &salt),
        posted.decisions_commitment
    );
    // Once per period: the next pass posts nothing for it.
    let again = metrics_once();
    assert!(!again.contains(&expected), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_reviewer_decides_a_pended_line_with_salus_agent_review() {
    let w = world().await;
    let handle = Hash([0xa5; 32]);
    let submission = w.submission(handle);
    let salt = CommitmentSalt::from_bytes([0x5e; 32]);
    w.submit_sealed(&submission, &submission, &salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("decided {handle} Pended")),
        "{output}"
    );
    let review = |key: u32, line: &str| {
        salus(
            &w.node,
            &[
                "agent",
                "review",
                "--key",
                &format!("dev:{key}"),
                "--trace",
                &handle.to_string(),
                "--line",
                line,
                "--action",
                "A3",
                "--reason",
                "R8",
            ],
        )
    };
    // The payer's own key may not deny; a certified line is not pended.
    let refused = review(PAYER, "2").unwrap_err();
    assert!(
        refused.contains("CoverageError::NotAuthorised"),
        "{refused}"
    );
    let refused = review(CLINICIAN, "1").unwrap_err();
    assert!(refused.contains("line 1 is not pended"), "{refused}");
    let posted = review(CLINICIAN, "2").unwrap();
    assert!(
        posted.starts_with(&format!("posted {handle} line 2 A3 in ")),
        "{posted}"
    );
    let (request, _) = w.sealed_request(handle).await;
    assert_eq!(request.status, RequestStatus::Decided);
    assert_eq!(
        request.decisions[1].line,
        PostedLine {
            action: ActionCode::A3,
            reason: Some("R8".into()),
            quantity: 0,
        }
    );
    assert_eq!(request.decisions[1].decided_by, address(CLINICIAN));
    assert_eq!(
        request.decisions[0].line.action,
        ActionCode::A1,
        "untouched"
    );

    // An extension within the MRI rule's 60 days: the agent grants it.
    must(
        &w.http,
        HOSPITAL,
        DEV_COVERAGE_ADDRESS,
        coverage_call("request_extension", (handle, 30u32)),
    )
    .await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("extended {handle} in ")),
        "{output}"
    );
    let (request, _) = w.sealed_request(handle).await;
    let extension = request.extension.expect("asked");
    assert_eq!((extension.days, extension.granted), (30, Some(true)));
    assert_eq!(w.agent_once().trim(), "", "granted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documentation_delivered_later_is_read_by_the_agent_which_decides_the_pended_line() {
    let w = world().await;
    // Rule set 2: the MRI needs the conservative-therapy attestation.
    let attestation = Hash([0xa7; 32]);
    let now = w.http.chain_head().await.unwrap().timestamp_ms;
    let (mut rules, reasons, period) = rules(now);
    rules[0].documentation = Some(attestation);
    must(
        &w.http,
        PAYER,
        DEV_COVERAGE_ADDRESS,
        coverage_call("publish_rules", (Hash([0x91; 32]), period, rules, reasons)),
    )
    .await;
    let handle = Hash([0xa6; 32]);
    let submission = w.submission(handle);
    let salt = CommitmentSalt::from_bytes([0x5f; 32]);
    w.submit_sealed(&submission, &submission, &salt).await;
    let output = w.agent_once();
    assert!(
        output.contains(&format!("decided {handle} Pended")),
        "{output}"
    );
    let (request, _) = w.sealed_request(handle).await;
    assert_eq!(
        request.decisions[0].line,
        PostedLine {
            action: ActionCode::A4,
            reason: Some("R7".into()),
            quantity: 0,
        },
        "documentation requested"
    );

    // The hospital delivers the attestation sealed to the payer and records its commitment.
    let documentation = SealedDocumentation {
        trace_handle: handle,
        attachment_templates: vec![attestation.to_string()],
    };
    let documentation_salt = CommitmentSalt::from_bytes([0x60; 32]);
    let key = registered_key(&w.http, DEV_REGISTRY_ADDRESS, address(PAYER))
        .await
        .unwrap()
        .expect("the payer registered its key");
    std::fs::write(
        documentation_file(&w.inbox, &handle, 0),
        seal_documentation(&documentation, 0, &documentation_salt, &key).unwrap(),
    )
    .unwrap();
    must(
        &w.http,
        HOSPITAL,
        DEV_COVERAGE_ADDRESS,
        coverage_call(
            "add_documentation",
            (handle, documentation.commitment(&documentation_salt)),
        ),
    )
    .await;
    let output = w.agent_once();
    assert!(output.contains(&format!("decided {handle} ")), "{output}");
    let (request, _) = w.sealed_request(handle).await;
    assert_eq!(
        request.decisions[0].line,
        PostedLine {
            action: ActionCode::A1,
            reason: None,
            quantity: 1,
        }
    );
    assert_eq!(
        request.decisions[1].line.action,
        ActionCode::A4,
        "the CT still waits for a clinician"
    );
    assert_eq!(request.decisions[0].decided_by, address(PAYER));
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.records).unwrap()).unwrap();
    assert_eq!(records["members"][0]["certified"][0]["rule_id"], 10);
    // Nothing more to decide until a clinician acts.
    assert_eq!(w.agent_once().trim(), "");
}
