//! A hospital's FHIR walkthrough through the `salus` command line against `salus dev`: the
//! hospital stores a lab result (`salus record put`), the patient imports a FHIR R4 Consent
//! permitting the doctor (`salus fhir import consent`, first as a dry run showing the chain's
//! decision before, then for real, showing it after), the hospital records the doctor's read,
//! and the consent and the patient's accounting export as a Consent and a Bundle of AuditEvents
//! that `fhir.resources` 6.4.0 (R4 4.0.1) validates; the exported consent imports to the same
//! call (the round trip through the chain is a fixed point).

use std::path::Path;
use std::process::Command;

use salus_node::genesis::{DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key, ok, printed_json};

const HOSPITAL: u32 = 5;
const DOCTOR: u32 = 6;
const PATIENT: u32 = 7;
const BLINDING: &str = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";

fn tx(node: &DevProcess, from: u32, contract: &str, message: &str, args: Value) -> Value {
    let output = node.salus(&[
        "tx",
        "call",
        "--from",
        &format!("dev:{from}"),
        "--contract",
        contract,
        "--message",
        message,
        "--args",
        &args.to_string(),
    ]);
    let receipt = printed_json(&output);
    assert_eq!(receipt["status"], "success", "{message}: {receipt}");
    receipt
}

/// Validates the files with tools/fhir-validate/validate.py in the venv scripts/setup.sh
/// installs; fails with the validator's message.
pub(crate) fn validate(files: &[&Path]) {
    let python = std::env::var("SALUS_FHIR_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/salus/venv/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/fhir-validate/validate.py"
    );
    let output = Command::new(&python)
        .arg(script)
        .args(files)
        .output()
        .unwrap_or_else(|error| panic!("running {python} (scripts/test.sh installs it: scripts/lib/fhir_validator.sh): {error}"));
    assert!(
        output.status.success(),
        "fhir.resources refused an export:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn decision_of(entry: &Value) -> &Value {
    &entry["decision"]["decision"]
}

#[test]
fn fhir_consent_imports_decides_exports_and_the_audit_validates() {
    let node = DevProcess::start(50);
    let dir = node.dir.path();
    let (hospital, doctor, patient) = (
        dev_key(HOSPITAL).address(),
        dev_key(DOCTOR).address(),
        dev_key(PATIENT).address(),
    );
    for (who, role) in [(hospital, "ProviderOrganisation"), (doctor, "Practitioner")] {
        tx(
            &node,
            0,
            &DEV_REGISTRY_ADDRESS.to_string(),
            "register",
            json!([
                who.to_string(),
                [role],
                null,
                null,
                null,
                "0",
                "4102444800000",
                format!("0x{}", "11".repeat(32))
            ]),
        );
    }
    let lab = dir.join("lab.json");
    std::fs::write(
        &lab,
        r#"{"resourceType":"Observation","status":"final","code":{"text":"HbA1c"}}"#,
    )
    .unwrap();
    let store = dir.join("records");
    let record = ok(&node.salus(&[
        "record",
        "put",
        "--store",
        store.to_str().unwrap(),
        "--key",
        &format!("dev:{HOSPITAL}"),
        "--patient",
        &patient.to_string(),
        "--blinding",
        BLINDING,
        "--labels",
        "N",
        lab.to_str().unwrap(),
    ]))
    .trim()
    .to_string();
    let directory = dir.join("directory.toml");
    std::fs::write(
        &directory,
        format!(
            "[[party]]\nname = \"Hospital\"\naddress = \"{hospital}\"\nnpi = \"1234567893\"\n\
             fhir = [\"Organization/hospital\"]\n\n\
             [[party]]\nname = \"Doctor\"\naddress = \"{doctor}\"\nfhir = [\"Practitioner/doc\"]\n\n\
             [[patient]]\nreference = \"Patient/p1\"\npseudonym = \"{patient}\"\n\n\
             [[record]]\nreference = \"Observation/lab-1\"\nhandle = \"{record}\"\n"
        ),
    )
    .unwrap();
    let directory = directory.to_str().unwrap();
    let concept =
        |system: &str, code: &str| json!({ "coding": [{ "system": system, "code": code }] });
    let resource = json!({
        "resourceType": "Consent",
        "status": "active",
        "scope": concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
        "category": [concept("http://loinc.org", "59284-0")],
        "patient": { "reference": "Patient/p1" },
        "dateTime": "2026-01-05T10:00:00Z",
        "policyRule": concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTOUT"),
        "provision": {
            "period": { "start": "2026-01-01" },
            "provision": [{
                "type": "permit",
                "actor": [{ "role": concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PRCP"),
                            "reference": { "reference": "Practitioner/doc" } }],
                "action": [concept("http://terminology.hl7.org/CodeSystem/consentaction", "access")],
                "purpose": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT" }],
                "class": [{ "system": "http://hl7.org/fhir/resource-types", "code": "Observation" }],
                "provision": [{ "type": "deny",
                    "securityLabel": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY" }] }]
            }]
        }
    });
    let file = dir.join("consent.json");
    std::fs::write(&file, resource.to_string()).unwrap();
    let import = |file: &Path, dry_run: bool| {
        let mut args = vec![
            "fhir",
            "import",
            "consent",
            file.to_str().unwrap(),
            "--from",
            "dev:7",
            "--directory",
            directory,
            "--blinding",
            BLINDING,
            "--record",
            &record,
            "--json",
        ];
        if dry_run {
            args.push("--dry-run");
        }
        printed_json(&node.salus(&args))
    };
    // The dry run: the call, and the doctor denied as things stand.
    let planned = import(&file, true);
    assert_eq!(planned["message"], "import_signed");
    assert_eq!(planned["decisions"][0]["reference"], "Practitioner/doc");
    assert_eq!(decision_of(&planned["decisions"][0]), "Deny", "{planned:#}");
    // Imported: the doctor is permitted.
    let imported = import(&file, false);
    let id = imported["consent"].as_str().unwrap().to_string();
    assert_eq!(
        decision_of(&imported["decisionsAfter"][0]),
        "Permit",
        "{imported:#}"
    );
    // The hospital records the doctor's read in the patient's trail.
    tx(
        &node,
        HOSPITAL,
        &DEV_CONSENT_ADDRESS.to_string(),
        "record_access",
        json!([
            doctor.to_string(),
            "PRCP",
            record,
            "Access",
            "TREAT",
            null,
            null
        ]),
    );
    // Export: the consent and the audit bundle validate.
    let exported = dir.join("exported-consent.json");
    ok(&node.salus(&[
        "fhir",
        "export",
        "consent",
        &id,
        "--directory",
        directory,
        "--blinding",
        BLINDING,
        "--out",
        exported.to_str().unwrap(),
    ]));
    let audit = dir.join("audit.json");
    ok(&node.salus(&[
        "fhir",
        "export",
        "audit",
        "--patient",
        "Patient/p1",
        "--from",
        "dev:7",
        "--directory",
        directory,
        "--since",
        "2026-01-01",
        "--out",
        audit.to_str().unwrap(),
    ]));
    validate(&[&exported, &audit]);
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&audit).unwrap()).unwrap();
    let reads: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .filter(|event| event["action"] == "R")
        .collect();
    assert_eq!(reads.len(), 1, "{bundle:#}");
    assert_eq!(reads[0]["agent"][0]["who"]["reference"], "Practitioner/doc");
    assert_eq!(reads[0]["agent"][0]["requestor"], true);
    assert_eq!(reads[0]["outcome"], "0");
    assert_eq!(
        reads[0]["entity"][1]["what"]["reference"],
        "Observation/lab-1"
    );
    assert_eq!(
        reads[0]["entity"][2]["what"]["reference"],
        format!("Consent/{id}/_history/1")
    );
    // The exported consent imports to the same call.
    let again = import(&exported, true);
    assert_eq!(again["arguments"], planned["arguments"]);
}
