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

use coverage::PlanType;
use salus_client::seal::CommitmentSalt;
use salus_node::agent::{ClaimLineRecord, SealedClaim};
use salus_primitives::Hash;
use serde_json::{Value, json};

use crate::fhir::validate;
use crate::support::payer::{
    CT, DAY_MS, DIAGNOSIS, HOSPITAL, MEMBER, MRI, NPI, PATIENT, PAYER, PayerWorld, STRANGER,
    address, agent_once, salus, submission, submit_claim, submit_sealed,
};

/// On chain, missing from the payer's records.
const UNRECORDED: Hash = Hash([0x4e; 32]);
/// Nowhere.
const UNKNOWN: Hash = Hash([0x4f; 32]);

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_payer_exports_eligibility_and_a_claim_check_that_validate() {
    // An HMO covering the member and one the records do not hold; the records' benefit: 12.
    let PayerWorld {
        node,
        http,
        now,
        inbox,
        records,
    } = PayerWorld::builder()
        .plan_type(PlanType::Hmo)
        .members(&[MEMBER, UNRECORDED])
        .network_plan(12)
        .build()
        .await;
    let dir = node.dir.path().to_path_buf();
    let payer_key = format!("dev:{PAYER}");
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
    let trace = Hash([0xa3; 32]);
    let submission = submission(trace, service_ms);
    let salt = CommitmentSalt::from_bytes([0x5c; 32]);
    submit_sealed(&http, &inbox, &submission, &submission, &salt).await;
    let output = agent_once(&node, &inbox, &records);
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
    submit_claim(&http, &inbox, &claim, &claim_salt).await;
    let output = agent_once(&node, &inbox, &records);
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
