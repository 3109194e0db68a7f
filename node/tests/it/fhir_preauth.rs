//! A Da Vinci PAS Claim imported as a sealed preauthorization, decided by the payer's agent, and exported as a ClaimResponse, against `salus dev`.
//!
//! The hospital runs `salus fhir import claim` (a refused Claim reaches neither the chain nor
//! the inbox); the payer's agent (`salus agent payer --once`) decides the MRI (`A1`) and pends
//! the CT (`A4`); the payer exports the decision with `salus fhir export preauth --inbox`, its
//! kept opening verified against the chain's commitments (services, windows, `preAuthPeriod`),
//! validated by `fhir.resources`; a tampered opening is refused.

use salus_client::fhir::time;
use salus_primitives::Hash;
use serde_json::{Value, json};

use crate::support::payer::{
    DAY_MS, HOSPITAL, MEMBER, NPI, PATIENT, PAYER, PayerWorld, address, agent_once, salus,
};

fn concept(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

fn extension<'v>(item: &'v Value, url: &str) -> Option<&'v Value> {
    item["extension"]
        .as_array()?
        .iter()
        .find(|extension| extension["url"].as_str().is_some_and(|u| u.ends_with(url)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_preauth_a_pas_claim_is_sealed_decided_by_the_agent_and_exported_with_its_opening() {
    let PayerWorld {
        node,
        now,
        inbox,
        records,
        ..
    } = PayerWorld::builder().build().await;
    let dir = node.dir.path().to_path_buf();
    let directory = dir.join("directory.json");
    let entries = json!({
        "party": [
            { "name": "payer", "address": address(PAYER).to_string(), "fhir": ["Organization/payer"] },
            { "name": "hospital", "address": address(HOSPITAL).to_string(), "npi": NPI,
              "fhir": ["Organization/hospital"] }],
        "patient": [{ "reference": "Patient/p1", "pseudonym": address(PATIENT).to_string() }],
        "coverage": [{ "reference": "Coverage/c1", "member": MEMBER.to_string(),
                       "payer": address(PAYER).to_string(), "patient": "Patient/p1" }],
    });
    std::fs::write(&directory, entries.to_string()).unwrap();

    // Tomorrow (UTC): the MRI (rule 10, auto-approved) and the CT (rule 20, clinical review).
    let service_ms = (now / DAY_MS + 1) * DAY_MS;
    let date = time::format_start(service_ms as i64);
    let line = |sequence: u32, code: &str| {
        json!({ "sequence": sequence, "diagnosisSequence": [1],
                "productOrService": concept("http://www.ama-assn.org/go/cpt", code),
                "quantity": { "value": 1 }, "servicedDate": date,
                "locationCodeableConcept": concept(
                    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "11") })
    };
    let claim = json!({
        "resourceType": "Claim",
        "meta": { "profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim"] },
        "identifier": [{ "system": "http://hospital.example/trace", "value": "PAS-1" }],
        "status": "active",
        "type": concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "preauthorization",
        "patient": { "reference": "Patient/p1" },
        "created": time::format_instant(now as i64),
        "insurer": { "reference": "Organization/payer" },
        "provider": { "reference": "Organization/hospital" },
        "priority": concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [{ "sequence": 1, "focal": true, "coverage": { "reference": "Coverage/c1" } }],
        "diagnosis": [{ "sequence": 1,
            "diagnosisCodeableConcept": concept("http://hl7.org/fhir/sid/icd-10-cm", "M54.16") }],
        "item": [line(1, "72148"), line(2, "74177")],
    });
    let hospital = format!("dev:{HOSPITAL}");
    let payer = format!("dev:{PAYER}");
    let import = |resource: &Value, name: &str, extra: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, resource.to_string()).unwrap();
        let mut arguments = vec![
            "fhir",
            "import",
            "claim",
            path.to_str().unwrap(),
            "--from",
            &hospital,
            "--directory",
            directory.to_str().unwrap(),
            "--inbox",
            inbox.to_str().unwrap(),
            "--json",
        ];
        arguments.extend(extra);
        salus(&node, &arguments)
    };

    // Refused whole, naming the element: nothing delivered, nothing on chain for the agent.
    let mut as_claim = claim.clone();
    as_claim["use"] = json!("claim");
    let refused = import(&as_claim, "use-claim.json", &[]).unwrap_err();
    assert!(refused.contains("use: not supported"), "{refused}");
    let mut unknown = claim.clone();
    unknown["item"][0]["unitPrice"] = json!({ "value": 120, "currency": "USD" });
    let refused = import(&unknown, "unknown.json", &[]).unwrap_err();
    assert!(
        refused.contains("item[0].unitPrice: not supported"),
        "{refused}"
    );
    // A dry run: mapped and checked by the chain, nothing delivered or posted.
    let dry_run = import(&claim, "dry-run.json", &["--dry-run"]).unwrap();
    let dry_run: Value = serde_json::from_str(&dry_run).unwrap();
    assert_eq!(dry_run["plan"]["lines"][0]["procedure"], "72148");
    assert!(dry_run.get("transaction").is_none(), "{dry_run}");
    assert_eq!(
        std::fs::read_dir(&inbox).unwrap().count(),
        0,
        "nothing delivered"
    );
    assert_eq!(
        agent_once(&node, &inbox, &records).trim(),
        "",
        "nothing on chain"
    );

    // The import: delivered sealed, the skeleton posted.
    let printed: Value = serde_json::from_str(&import(&claim, "claim.json", &[]).unwrap()).unwrap();
    let trace = printed["trace"].as_str().unwrap().to_string();
    assert_eq!(printed["plan"]["member"], MEMBER.to_string());
    assert_eq!(printed["plan"]["priority"], "Standard");
    assert_eq!(printed["submission"]["lines"][1]["procedure"], "74177");
    let handle: Hash = trace.parse().unwrap();
    assert!(
        inbox
            .join(format!("{}.sealed", hex::encode(handle.0)))
            .exists()
    );

    let output = agent_once(&node, &inbox, &records);
    assert!(
        output.contains(&format!("decided {trace} Pended")),
        "{output}"
    );

    let export = |from: &str, with_inbox: bool, name: &str| {
        let out = dir.join(name);
        let mut arguments = vec![
            "fhir",
            "export",
            "preauth",
            "--trace",
            &trace,
            "--from",
            from,
            "--claim-type",
            "professional",
            "--directory",
            directory.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        if with_inbox {
            arguments.extend(["--inbox", inbox.to_str().unwrap()]);
        }
        salus(&node, &arguments).map(|_| out)
    };
    let opened = export(&payer, true, "opened.json").unwrap();
    let response: Value = serde_json::from_str(&std::fs::read_to_string(&opened).unwrap()).unwrap();
    assert_eq!(response["preAuthRef"], trace);
    assert_eq!(response["outcome"], "partial");
    let action = |index: usize| {
        response["item"][index]["adjudication"][0]["extension"][0]["extension"][0]
            ["valueCodeableConcept"]["coding"][0]["code"]
            .clone()
    };
    assert_eq!(action(0), "A1");
    assert_eq!(action(1), "A4");
    assert_eq!(
        response["item"][1]["adjudication"][0]["extension"][0]["extension"][1]["valueCodeableConcept"]
            ["coding"][0]["code"],
        "R8"
    );
    // The MRI's window: 60 days from the service date (the last day inclusive).
    let end = time::format_start((service_ms + 59 * DAY_MS) as i64);
    assert_eq!(
        response["preAuthPeriod"],
        json!({ "start": date, "end": end })
    );
    let mri = &response["item"][0];
    assert_eq!(
        extension(mri, "itemPreAuthPeriod").unwrap()["valuePeriod"],
        json!({ "start": date, "end": end })
    );
    assert_eq!(
        extension(mri, "itemAuthorizedDetail").unwrap()["extension"][0]["valueCodeableConcept"]["coding"]
            [0]["code"],
        "72148"
    );
    assert_eq!(
        extension(mri, "itemRequestedServiceDate").unwrap()["valueDateTime"],
        date
    );
    let ct = &response["item"][1];
    assert!(extension(ct, "itemPreAuthPeriod").is_none(), "{ct}");
    assert!(extension(ct, "itemAuthorizedDetail").is_none(), "{ct}");
    assert!(extension(ct, "itemRequestedServiceDate").is_some(), "{ct}");

    // The provider, without the opening: only what the chain holds.
    let bare = export(&hospital, false, "bare.json").unwrap();
    let without: Value = serde_json::from_str(&std::fs::read_to_string(&bare).unwrap()).unwrap();
    assert!(without.get("preAuthPeriod").is_none());
    assert!(without["item"][0].get("extension").is_none());
    crate::fhir::validate(&[opened.as_path(), bare.as_path()]);

    // A tampered opening: the outcome's salt changed.
    let salts = inbox.join(format!("{}.salts.json", hex::encode(handle.0)));
    let mut kept: Value = serde_json::from_str(&std::fs::read_to_string(&salts).unwrap()).unwrap();
    kept["outcome"] = json!(format!("0x{}", "77".repeat(32)));
    std::fs::write(&salts, kept.to_string()).unwrap();
    let refused = export(&payer, true, "tampered.json").unwrap_err();
    assert!(refused.contains("outcome_commitment"), "{refused}");
}
