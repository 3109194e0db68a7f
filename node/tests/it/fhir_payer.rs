//! The payer's FHIR exports end to end: eligibility as a CoverageEligibilityResponse and a claim check as a ClaimResponse, against `salus dev` and the payer's agent.
//!
//! One node: the payer, the hospital and the patient registered, the member's coverage and the
//! rule set on chain, the payer's records file. The payer exports the member's eligibility
//! (`salus fhir export eligibility`) before and after its agent certifies a preauthorized MRI
//! (the benefit's used units go up, in the records only); the hospital's claim for the MRI and
//! an uncertified CT is checked by the agent and exported (`salus fhir export claim-check`) with
//! the CT's `197` and its group code. Every export validates with `fhir.resources` 6.4.0. A
//! member the chain does not know answers `outcome` `error`; one the chain covers but the
//! records do not is refused; a stranger may not export the claim check.

use std::path::Path;
use std::time::{Duration, Instant};

use coverage::{CoverageStatus, Period, PlanType, Priority};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_client::seal::CommitmentSalt;
use salus_client::{ContractAbi, TransactionBuilder};
use salus_node::agent::submission::{inbox_file, seal_delivery};
use salus_node::agent::{
    ClaimLineRecord, SealedClaim, SealedSubmission, SubmissionLine, seal_claim,
};
use salus_node::gateway::ledger::{call_input, registered_key};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use crate::fhir::validate;
use crate::support::{DevProcess, dev_key, payer_rules};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const AUTHORITY: u32 = 0;
const PAYER: u32 = 1;
const HOSPITAL: u32 = 2;
const STRANGER: u32 = 3;
const PATIENT: u32 = 4;
const NPI: &str = "1234567893";
/// Lumbar spine MRI: auto-approved (rule 10, service type 62).
const MRI: &str = "72148";
/// Abdominal CT: rule 20 pends it for clinical review.
const CT: &str = "74177";
const DIAGNOSIS: &str = "M54.16";
const MEMBER: Hash = Hash([0x4d; 32]);
/// On chain, missing from the payer's records.
const UNRECORDED: Hash = Hash([0x4e; 32]);
/// Nowhere.
const UNKNOWN: Hash = Hash([0x4f; 32]);

fn address(index: u32) -> Address {
    dev_key(index).address()
}

async fn must(http: &HttpClient, from: u32, contract: Address, input: Vec<u8>) {
    let nonce = http
        .state_get_account(address(from).to_string(), None)
        .await
        .unwrap()
        .nonce;
    let transaction = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(from), nonce)
        .fuel(20_000_000, 1)
        .call(contract, input);
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let receipt = loop {
        if let Some(receipt) = http.tx_receipt(hash.clone()).await.unwrap() {
            break receipt;
        }
        assert!(Instant::now() < deadline, "{hash} was not included");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
}

/// Runs `salus`; its stdout, or its stdout and stderr.
fn salus(node: &DevProcess, arguments: &[&str]) -> Result<String, String> {
    let output = node.salus(arguments);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_payer_exports_eligibility_and_a_claim_check_that_validate() {
    let node = DevProcess::start(50);
    let dir = node.dir.path().to_path_buf();
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let registry: ContractAbi = serde_json::from_value(
        http.contract_abi(DEV_REGISTRY_ADDRESS.to_string())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let now = http.chain_head().await.unwrap().timestamp_ms;
    for (who, role, npi) in [
        (PAYER, "Payer", Some(NPI)),
        (HOSPITAL, "ProviderOrganisation", Some(NPI)),
        (PATIENT, "Patient", None),
    ] {
        let arguments = json!([
            address(who).to_string(),
            [role],
            npi,
            null,
            null,
            "0",
            (now + 3650 * DAY_MS).to_string(),
            Hash([0x11; 32]).to_string()
        ]);
        let input = registry.encode_call("register", &arguments).unwrap();
        must(&http, AUTHORITY, DEV_REGISTRY_ADDRESS, input).await;
    }
    let payer_key = format!("dev:{PAYER}");
    salus(
        &node,
        &["record", "reply-key", "--key", &payer_key, "--register"],
    )
    .unwrap();
    let period = Period {
        start_ms: now - DAY_MS,
        end_ms: now + 365 * DAY_MS,
    };
    for member in [MEMBER, UNRECORDED] {
        let coverage = coverage::Coverage {
            beneficiary: address(PATIENT),
            plan_type: PlanType::Hmo,
            period: period.clone(),
            status: CoverageStatus::Active,
        };
        let input = call_input("set_coverage", (member, coverage));
        must(&http, PAYER, DEV_COVERAGE_ADDRESS, input).await;
    }
    let (rules, reasons) = payer_rules();
    let input = call_input(
        "publish_rules",
        (Hash([0x90; 32]), period.clone(), rules, reasons),
    );
    must(&http, PAYER, DEV_COVERAGE_ADDRESS, input).await;
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let records = dir.join("payer-records.json");
    let file = json!({
        "network": [NPI],
        "members": [{
            "member": MEMBER.to_string(),
            "active": true,
            "period": { "start_ms": period.start_ms, "end_ms": period.end_ms },
            "birth_year": 1980,
            "sex": "F",
            "network_plan": true,
            "benefits": [{ "service_type": "62", "authorisation_required": true,
                           "quantity_limit": 12, "quantity_used": 0 }],
            "certified": [],
        }],
    });
    std::fs::write(&records, file.to_string()).unwrap();
    let directory = dir.join("directory.toml");
    std::fs::write(
        &directory,
        format!(
            "[[party]]\nname = \"Payer\"\naddress = \"{}\"\nfhir = [\"Organization/payer\"]\n\n\
             [[party]]\nname = \"Hospital\"\naddress = \"{}\"\nnpi = \"{NPI}\"\n\
             fhir = [\"Organization/hospital\"]\n\n\
             [[patient]]\nreference = \"Patient/p1\"\npseudonym = \"{}\"\n",
            address(PAYER),
            address(HOSPITAL),
            address(PATIENT)
        ),
    )
    .unwrap();
    let directory = directory.to_str().unwrap().to_string();
    let records_path = records.to_str().unwrap().to_string();
    let eligibility = |member: Hash, out: &Path| {
        salus(
            &node,
            &[
                "fhir",
                "export",
                "eligibility",
                "--member",
                &member.to_string(),
                "--from",
                &payer_key,
                "--records",
                &records_path,
                "--directory",
                &directory,
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let used = |path: &Path| read(path)["insurance"][0]["item"][0]["benefit"][0].clone();

    // Before any certification: the benefit is unused.
    let before = dir.join("eligibility-before.json");
    eligibility(MEMBER, &before).unwrap();
    let response = read(&before);
    assert_eq!(response["resourceType"], "CoverageEligibilityResponse");
    assert_eq!(response["outcome"], "complete");
    assert_eq!(response["patient"], json!({ "reference": "Patient/p1" }));
    assert_eq!(
        response["insurer"],
        json!({ "reference": "Organization/payer" })
    );
    let insurance = &response["insurance"][0];
    assert_eq!(insurance["inforce"], true);
    assert_eq!(
        insurance["coverage"]["identifier"]["value"],
        MEMBER.to_string()
    );
    let item = &insurance["item"][0];
    assert_eq!(item["category"]["coding"][0]["code"], "62");
    assert_eq!(item["network"]["coding"][0]["code"], "in");
    assert_eq!(item["authorizationRequired"], true);
    assert_eq!(insurance["item"][1]["excluded"], true, "{insurance:#}");
    assert_eq!(
        used(&before),
        json!({
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/benefit-type", "code": "benefit" }] },
            "allowedUnsignedInt": 12,
            "usedUnsignedInt": 0,
        })
    );

    // The hospital's sealed preauthorization: the agent certifies the MRI (A1), pends the CT.
    let service_ms = now + DAY_MS;
    let line = |procedure: &str| SubmissionLine {
        procedure: procedure.into(),
        modifiers: vec![],
        quantity: 1,
        from_ms: service_ms,
        to_ms: service_ms,
        place_of_service: "11".into(),
    };
    let trace = Hash([0xa3; 32]);
    let submission = SealedSubmission {
        trace_handle: trace,
        payer: address(PAYER),
        member: MEMBER,
        servicing_npi: NPI.into(),
        servicing_provider: None,
        priority: "Standard".into(),
        lines: vec![line(MRI), line(CT)],
        diagnoses: vec![DIAGNOSIS.into()],
        attachment_templates: vec![],
    };
    let payer_reply = registered_key(&http, DEV_REGISTRY_ADDRESS, address(PAYER))
        .await
        .unwrap()
        .expect("the payer registered its key");
    let salt = CommitmentSalt::from_bytes([0x5c; 32]);
    let sealed = seal_delivery(&submission, &salt, &payer_reply).unwrap();
    std::fs::write(inbox_file(&inbox, &trace), sealed).unwrap();
    let arguments = (
        trace,
        address(PAYER),
        MEMBER,
        Priority::Standard,
        2u32,
        submission.commitment(&salt),
    );
    let input = call_input("submit_sealed", arguments);
    must(&http, HOSPITAL, DEV_COVERAGE_ADDRESS, input).await;
    let inbox_path = inbox.to_str().unwrap().to_string();
    let agent_once = || {
        salus(
            &node,
            &[
                "agent",
                "payer",
                "--key",
                &payer_key,
                "--inbox",
                &inbox_path,
                "--records",
                &records_path,
                "--once",
            ],
        )
        .unwrap()
    };
    let output = agent_once();
    assert!(output.contains(&format!("decided {trace}")), "{output}");

    // After: the certified unit is used, in the payer's records (the chain holds no count).
    let after = dir.join("eligibility-after.json");
    eligibility(MEMBER, &after).unwrap();
    assert_eq!(used(&after)["usedUnsignedInt"], 1);
    assert_eq!(used(&after)["allowedUnsignedInt"], 12);

    // The claim: the MRI draws on the authorisation, the CT has none (`197`, CO, RARC M62).
    let claim = SealedClaim {
        claim_handle: Hash([0xc1; 32]),
        payer: address(PAYER),
        member: MEMBER,
        trace_handle: Some(trace),
        lines: [MRI, CT]
            .map(|procedure| ClaimLineRecord {
                procedure: procedure.into(),
                quantity: 1,
                service_ms: service_ms + DAY_MS,
                diagnoses: vec![DIAGNOSIS.into()],
            })
            .to_vec(),
    };
    let claim_salt = CommitmentSalt::from_bytes([0x5d; 32]);
    let sealed = seal_claim(&claim, &claim_salt, &payer_reply).unwrap();
    std::fs::write(inbox_file(&inbox, &claim.claim_handle), sealed).unwrap();
    let arguments = (
        claim.claim_handle,
        claim.payer,
        claim.member,
        claim.trace_handle,
        2u32,
        claim.commitment(&claim_salt),
    );
    let input = call_input("submit_claim", arguments);
    must(&http, HOSPITAL, DEV_COVERAGE_ADDRESS, input).await;
    let output = agent_once();
    assert!(
        output.contains(&format!(
            "checked {} 1 accepted 1 refused",
            claim.claim_handle
        )),
        "{output}"
    );
    let claim_check = |from: u32, out: &Path| {
        salus(
            &node,
            &[
                "fhir",
                "export",
                "claim-check",
                "--claim",
                &claim.claim_handle.to_string(),
                "--from",
                &format!("dev:{from}"),
                "--claim-type",
                "professional",
                "--directory",
                &directory,
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let checked = dir.join("claim-check.json");
    claim_check(HOSPITAL, &checked).unwrap();
    let response = read(&checked);
    assert_eq!(response["resourceType"], "ClaimResponse");
    assert_eq!(response["use"], "claim");
    assert_eq!(response["status"], "active");
    assert_eq!(response["outcome"], "complete");
    assert_eq!(response["patient"], json!({ "reference": "Patient/p1" }));
    assert_eq!(
        response["requestor"],
        json!({ "reference": "Organization/hospital" })
    );
    assert_eq!(response["preAuthRef"], trace.to_string());
    let accepted = &response["item"][0]["adjudication"];
    assert_eq!(accepted.as_array().unwrap().len(), 1, "{response:#}");
    assert!(accepted[0].get("reason").is_none());
    let denied = &response["item"][1]["adjudication"][0];
    assert_eq!(
        denied["reason"]["coding"][0],
        json!({ "system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "197" })
    );
    assert_eq!(denied["extension"][0]["valueCoding"]["code"], "CO");
    assert_eq!(denied["extension"][1]["valueCoding"]["code"], "M62");
    // The payer reads the same check.
    let by_payer = dir.join("claim-check-payer.json");
    claim_check(PAYER, &by_payer).unwrap();
    assert_eq!(read(&by_payer)["item"], response["item"]);

    // A member the chain does not know: an answer, `outcome` `error` with AAA03 `75`.
    let unknown = dir.join("eligibility-unknown.json");
    eligibility(UNKNOWN, &unknown).unwrap();
    let response = read(&unknown);
    assert_eq!(response["outcome"], "error");
    assert_eq!(response["error"][0]["code"]["coding"][0]["code"], "75");

    validate(&[&before, &after, &checked, &unknown]);

    // Adversarial: covered on chain but not in the payer's records — refused, nothing written;
    // a stranger may not read the claim, so may not export its check.
    let unrecorded = dir.join("eligibility-unrecorded.json");
    let refused = eligibility(UNRECORDED, &unrecorded).unwrap_err();
    assert!(refused.contains("records hold no member"), "{refused}");
    assert!(!unrecorded.exists());
    let stolen = dir.join("claim-check-stranger.json");
    let refused = claim_check(STRANGER, &stolen).unwrap_err();
    assert!(refused.contains("NotAuthorised"), "{refused}");
    assert!(!stolen.exists());
}
