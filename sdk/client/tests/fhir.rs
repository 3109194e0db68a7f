//! The FHIR R4 Consent and AuditEvent mapping (`salus_client::fhir`, docs/interop.md): every
//! supported element mapped to the consent contract's arguments, every refused one with its
//! typed error and path, import → export → import a fixed point, and every exported resource
//! validated by `fhir.resources` 6.4.0 (R4 4.0.1 models; tools/fhir-validate/validate.py, in
//! the venv scripts/setup.sh installs). The documents are written here in FHIR's shape, after
//! HL7's examples (consent-example-notThis, -Out, -pkb), in this project's own words.

use std::path::PathBuf;
use std::process::Command;

use salus_client::directory::{Directory, Party, Patient, Record};
use salus_client::fhir::consent::{self, Keys, PeriodOpening};
use salus_client::fhir::{FhirError, audit};
use salus_client::pseudonym::blinded_tag;
use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

const PATIENT: Address = Address([0x07; 20]);
const HOSPITAL: Address = Address([0x05; 20]);
const DOCTOR: Address = Address([0x06; 20]);
const PAYER: Address = Address([0x09; 20]);
const NURSE: Address = Address([0x0a; 20]);
const RECORD: Hash = Hash([0x44; 32]);
const BLINDING: [u8; 32] = [0xb1; 32];

fn party(name: &str, address: Address, npi: Option<&str>, fhir: &str) -> Party {
    Party {
        name: name.into(),
        address,
        gln: None,
        locations: vec![],
        company_prefixes: vec![],
        npi: npi.map(str::to_string),
        fhir: vec![fhir.into()],
    }
}

fn directory() -> Directory {
    Directory::new(
        vec![
            party(
                "hospital",
                HOSPITAL,
                Some("1234567893"),
                "Organization/f001",
            ),
            party("doctor", DOCTOR, None, "Practitioner/f204"),
            party("payer", PAYER, None, "Organization/payer"),
            party("nurse", NURSE, None, "Practitioner/nurse"),
        ],
        vec![Patient {
            reference: "Patient/f001".into(),
            pseudonym: PATIENT,
            identifiers: vec![],
        }],
    )
    .unwrap()
    .with_records(vec![Record {
        reference: "Observation/lab-1".into(),
        handle: RECORD,
    }])
    .unwrap()
}

fn coding(system: &str, code: &str) -> Value {
    json!({ "system": system, "code": code })
}

fn concept(system: &str, code: &str) -> Value {
    json!({ "coding": [coding(system, code)] })
}

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
const REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// A consent in the manner of HL7's consent-example-pkb: opt-out as the base, a permit for the
/// doctor to have records disclosed for treatment, with a nested deny of psychiatric notes, a
/// custodian, classes, a data period and a named record.
fn rich() -> Value {
    json!({
        "resourceType": "Consent",
        "id": "pkb-like",
        "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Share my lab results with Dr Careful, never my psychiatric notes.</div>" },
        "status": "active",
        "scope": concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
        "category": [concept("http://loinc.org", "59284-0")],
        "patient": { "reference": "Patient/f001" },
        "dateTime": "2026-03-01T09:30:00Z",
        "performer": [{ "reference": "Patient/f001" }],
        "organization": [{ "reference": "Organization/f001" }],
        "sourceAttachment": { "url": "https://hospital.example/consents/scan-17.pdf" },
        "policyRule": concept(ACT_CODE, "OPTOUT"),
        "provision": {
            "period": { "start": "2026-03-01", "end": "2027-02-28" },
            "provision": [{
                "type": "permit",
                "actor": [
                    { "role": concept(PARTICIPATION, "PRCP"), "reference": { "reference": "Practitioner/f204" } },
                    { "role": concept(PARTICIPATION, "CST"), "reference": { "identifier": { "system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893" } } }
                ],
                "action": [concept(ACTION, "disclose"), concept(ACTION, "access")],
                "purpose": [coding(REASON, "TREAT")],
                "class": [coding("http://hl7.org/fhir/resource-types", "Observation")],
                "dataPeriod": { "start": "2020-01-01", "end": "2025-12-31" },
                "provision": [{
                    "type": "deny",
                    "securityLabel": [coding(ACT_CODE, "PSY"), coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")]
                }]
            }, {
                "type": "permit",
                "period": { "start": "2026-06-01T00:00:00Z", "end": "2026-06-30T23:59:59Z" },
                "actor": [{ "role": concept("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PAYOR"), "reference": { "reference": "Organization/payer" } }],
                "action": [concept(ACTION, "access")],
                "purpose": [coding(REASON, "HPAYMT")],
                "data": [{ "meaning": "instance", "reference": { "reference": "Observation/lab-1" } }]
            }]
        }
    })
}

fn keys<'a>(directory: &'a Directory, periods: &'a [PeriodOpening]) -> Keys<'a> {
    Keys {
        directory,
        blinding: Some(&BLINDING),
        periods,
    }
}

fn plan(resource: &Value) -> Result<consent::ConsentPlan, FhirError> {
    let directory = directory();
    consent::plan_value(resource, keys(&directory, &[]), PATIENT)
}

#[test]
fn every_supported_element_maps_to_the_contracts_arguments() {
    let plan = plan(&rich()).unwrap();
    assert_eq!(plan.message, "import_signed");
    let args = plan.arguments.as_array().unwrap();
    assert_eq!(args[0], json!(PATIENT.to_string()));
    assert_eq!(args[1], json!("patient-privacy"));
    assert_eq!(args[2], json!("59284-0"));
    // 2026-03-01 to the end of 2027-02-28: exclusive end 2027-03-01.
    assert_eq!(
        args[3],
        json!({ "start_ms": "1772323200000", "end_ms": "1803859200000" })
    );
    assert_eq!(args[4], json!("Deny"));
    assert_eq!(
        args[6],
        json!(
            salus_primitives::hash::keccak256(b"https://hospital.example/consents/scan-17.pdf")
                .to_string()
        )
    );
    assert_eq!(args[7], Value::Null, "supersedes");
    assert_eq!(args[8], json!("1772357400000"), "signed at dateTime");
    assert_eq!(plan.not_recorded, ["id", "text", "organization"]);

    let doctor = &plan.provisions[0];
    assert!(doctor.permit);
    assert_eq!(doctor.actors, [DOCTOR]);
    assert_eq!(doctor.roles, ["PRCP"]);
    assert_eq!(doctor.custodians, [HOSPITAL]);
    assert_eq!(doctor.actions, ["Disclose", "Access"]);
    assert_eq!(doctor.purposes, ["TREAT"]);
    assert_eq!(doctor.class_tags, [blinded_tag(&BLINDING, "Observation")]);
    let opening = &plan.periods[0];
    assert_eq!(
        (opening.start_ms, opening.end_ms),
        (1577836800000, 1767225600000)
    );
    assert_eq!(doctor.data_period_commitment, opening.commitment());
    let exception = &doctor.children[0];
    assert!(!exception.permit);
    assert_eq!(
        exception.label_tags,
        [blinded_tag(&BLINDING, "PSY"), blinded_tag(&BLINDING, "R")]
    );
    let payer = &plan.provisions[1];
    assert_eq!(payer.roles, ["PAYOR"]);
    assert_eq!(payer.records, [RECORD]);
    assert_eq!(
        payer.period,
        Some((1780272000000, 1782863999000 + 1000)),
        "an end with seconds ends after that second"
    );
    // Every requester with what the dry run asks.
    let asked: Vec<_> = plan
        .actors
        .iter()
        .map(|a| {
            (
                a.address,
                a.role.as_str(),
                a.action.as_str(),
                a.purpose.as_str(),
                a.record,
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            (DOCTOR, "PRCP", "Disclose", "TREAT", None),
            (PAYER, "PAYOR", "Access", "HPAYMT", Some(RECORD)),
        ]
    );
    // The arguments are what the contract's ABI takes: the provision JSON has every field.
    assert_eq!(args[5][0]["children"][0]["kind"], json!("Deny"));
}

#[test]
fn status_decides_the_message_and_a_typed_root_is_one_provision() {
    let mut draft = rich();
    draft["status"] = json!("draft");
    let plan_draft = plan(&draft).unwrap();
    assert_eq!(plan_draft.message, "propose");
    assert_eq!(plan_draft.arguments[7], json!(true));
    let mut proposed = rich();
    proposed["status"] = json!("proposed");
    assert_eq!(plan(&proposed).unwrap().arguments[7], json!(false));
    let mut unsigned = rich();
    unsigned.as_object_mut().unwrap().remove("dateTime");
    assert_eq!(plan(&unsigned).unwrap().message, "grant");

    // consent-example-Out in spirit: opt-in, but never to this practitioner.
    let out = json!({
        "resourceType": "Consent", "status": "active",
        "scope": concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"),
        "category": [concept("http://loinc.org", "59284-0")],
        "patient": { "reference": "Patient/f001" },
        "policyRule": concept(ACT_CODE, "OPTIN"),
        "provision": {
            "type": "deny",
            "actor": [{ "role": concept(PARTICIPATION, "PRCP"), "reference": { "reference": "Practitioner/nurse" } }]
        }
    });
    let plan = plan(&out).unwrap();
    assert_eq!(plan.arguments[4], json!("Permit"));
    assert_eq!(plan.period, (i64::MIN, i64::MAX));
    assert_eq!(plan.provisions.len(), 1);
    assert!(!plan.provisions[0].permit);
    assert_eq!(plan.provisions[0].actors, [NURSE]);
}

/// A change to a resource.
type Edit = Box<dyn FnOnce(&mut Value)>;

/// `rich()` with `edit` applied, planned: the error.
fn refused(edit: impl FnOnce(&mut Value)) -> FhirError {
    let mut resource = rich();
    edit(&mut resource);
    plan(&resource).expect_err("refused")
}

fn path_of(error: &FhirError) -> String {
    match error {
        FhirError::Unsupported { path, .. }
        | FhirError::Undecided { path, .. }
        | FhirError::UnknownCode { path, .. }
        | FhirError::Invalid { path, .. }
        | FhirError::TooComplex { path, .. }
        | FhirError::Unresolved { path, .. }
        | FhirError::NoBlindingKey { path }
        | FhirError::NotExportable { path, .. } => path.clone(),
        other => panic!("no path: {other}"),
    }
}

#[test]
fn what_the_contract_cannot_express_or_the_resource_leaves_open_is_refused_by_path() {
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["provision"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            }),
            "Undecided",
            "provision.provision[0].provision[0].type",
        ),
        (
            Box::new(
                |r| r["provision"]["actor"] = json!([{ "role": concept(PARTICIPATION, "PRCP"), "reference": { "reference": "Practitioner/f204" } }]),
            ),
            "Undecided",
            "provision.type",
        ),
        (
            Box::new(|r| {
                r.as_object_mut().unwrap().remove("policyRule");
            }),
            "Undecided",
            "policyRule",
        ),
        (
            Box::new(|r| r["policyRule"] = concept(ACT_CODE, "OPTINX")),
            "UnknownCode",
            "policyRule",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["code"] =
                    json!([concept("http://loinc.org", "11502-2")])
            }),
            "Unsupported",
            "provision.provision[0].code",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["modifierExtension"] =
                    json!([{ "url": "http://example.org/x", "valueBoolean": true }])
            }),
            "Unsupported",
            "provision.provision[0].modifierExtension",
        ),
        (
            Box::new(|r| {
                r["extension"] = json!([{ "url": "http://example.org/y", "valueString": "z" }])
            }),
            "Unsupported",
            "extension",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["provision"][0]["securityLabel"][0] =
                    coding("http://example.org/labels", "PSY")
            }),
            "UnknownCode",
            "provision.provision[0].provision[0].securityLabel[0]",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["class"][0] = coding("http://loinc.org", "11502-2")
            }),
            "UnknownCode",
            "provision.provision[0].class[0]",
        ),
        (
            Box::new(|r| r["provision"]["provision"][1]["data"][0]["meaning"] = json!("related")),
            "Unsupported",
            "provision.provision[1].data[0].meaning",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["actor"][0]["role"] = concept(
                    "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                    "humanuser",
                )
            }),
            "UnknownCode",
            "provision.provision[0].actor[0].role",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["actor"][0]["reference"]["reference"] =
                    json!("Practitioner/unknown")
            }),
            "Unresolved",
            "provision.provision[0].actor[0].reference.reference",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][1]["actor"] = json!([
                    { "role": concept(PARTICIPATION, "PRCP"), "reference": { "reference": "Practitioner/f204" } },
                    { "role": concept("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PAYOR"), "reference": { "reference": "Organization/payer" } }
                ]);
            }),
            "Unsupported",
            "provision.provision[1].actor",
        ),
        (
            Box::new(|r| r["status"] = json!("rejected")),
            "Unsupported",
            "status",
        ),
        (
            Box::new(|r| r["policy"] = json!([{ "uri": "https://law.example/hipaa" }])),
            "Unsupported",
            "policy",
        ),
        (
            Box::new(|r| {
                r["category"] = json!([
                    concept("http://loinc.org", "59284-0"),
                    concept("http://loinc.org", "57016-8")
                ])
            }),
            "Unsupported",
            "category[1]",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["purpose"][0] =
                    coding("http://example.org/purposes", "TREAT")
            }),
            "UnknownCode",
            "provision.provision[0].purpose[0]",
        ),
        (
            Box::new(
                |r| r["provision"]["provision"][0]["provision"][0]["provision"] = json!([{ "type": "permit", "provision": [{ "type": "deny", "provision": [{ "type": "permit" }] }] }]),
            ),
            "TooComplex",
            "provision.provision[0].provision[0].provision[0].provision[0].provision[0]",
        ),
        (
            Box::new(|r| {
                r["provision"]["provision"][0]["period"] =
                    json!({ "start": "2026-05-01", "end": "2026-04-01" })
            }),
            "Invalid",
            "provision.provision[0].period",
        ),
        (
            Box::new(|r| r["performer"] = json!([{ "reference": "Organization/payer" }])),
            "Unsupported",
            "performer[0]",
        ),
    ];
    for (edit, kind, path) in cases {
        let error = refused(edit);
        let name = format!("{error:?}");
        assert!(
            name.starts_with(kind),
            "{path}: expected {kind}, got {error}"
        );
        assert_eq!(path_of(&error), path, "{error}");
        assert!(
            error.to_string().contains(path),
            "the message names the path: {error}"
        );
    }
    // Labels and classes need the relationship's blinding key.
    let directory = directory();
    let error = consent::plan_value(
        &rich(),
        Keys {
            directory: &directory,
            blinding: None,
            periods: &[],
        },
        PATIENT,
    )
    .unwrap_err();
    assert!(
        matches!(error, FhirError::NoBlindingKey { ref path } if path == "provision.provision[0].class[0]"),
        "{error}"
    );
    // Not a Consent.
    assert!(matches!(
        plan(&json!({ "resourceType": "Patient" })),
        Err(FhirError::NotA { .. })
    ));
    // The narrative is not read: a text contradicting the code changes nothing.
    let mut contradicting = rich();
    contradicting["text"]["div"] =
        json!("<div xmlns=\"http://www.w3.org/1999/xhtml\">Share everything with everyone.</div>");
    let plain = plan(&rich()).unwrap();
    let read =
        consent::plan_value(&contradicting, keys(&directory, &plain.periods), PATIENT).unwrap();
    assert_eq!(read.arguments, plain.arguments);
}

/// The consent as the contract would return it after `plan` was granted: id 3, version 1.
fn on_chain(plan: &consent::ConsentPlan) -> Value {
    let args = plan.arguments.as_array().unwrap();
    json!({
        "id": "3", "version": 1, "supersedes": null,
        "patient": args[0], "grantor": PATIENT.to_string(), "status": "Active",
        "scope": args[1], "category": args[2],
        "date_ms": plan.signed_ms.unwrap().to_string(),
        "period": args[3], "source": args[6], "base": args[4], "provisions": args[5],
    })
}

/// Writes `resources` to a temporary directory and validates them with the checked-in script
/// and the venv's `fhir.resources` (R4 4.0.1); panics with the validator's message.
pub fn validate(resources: &[(&str, &Value)]) {
    let dir = std::env::temp_dir().join(format!("salus-fhir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = resources
        .iter()
        .map(|(name, resource)| {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(resource).unwrap()).unwrap();
            path
        })
        .collect();
    let python = std::env::var("SALUS_FHIR_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/salus/venv/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tools/fhir-validate/validate.py"
    );
    let output = Command::new(&python)
        .arg(script)
        .args(&files)
        .output()
        .unwrap_or_else(|error| panic!("running {python} (scripts/test.sh installs it: scripts/lib/fhir_validator.sh): {error}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "fhir.resources refused an exported resource:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn import_export_import_is_a_fixed_point_and_the_export_validates() {
    let directory = directory();
    let first = consent::plan_value(&rich(), keys(&directory, &[]), PATIENT).unwrap();
    let periods = first.periods.clone();
    let exported = consent::export(&on_chain(&first), keys(&directory, &periods)).unwrap();
    let second = consent::plan_value(&exported, keys(&directory, &periods), PATIENT).unwrap();
    assert_eq!(second.message, first.message);
    assert_eq!(second.arguments, first.arguments, "{exported:#}");
    let again = consent::export(&on_chain(&second), keys(&directory, &periods)).unwrap();
    assert_eq!(again, exported);
    // What was written back.
    assert_eq!(
        exported["provision"]["period"],
        json!({ "start": "2026-03-01", "end": "2027-02-28" })
    );
    assert_eq!(
        exported["provision"]["provision"][0]["provision"][0]["securityLabel"],
        json!([
            coding(ACT_CODE, "PSY"),
            coding(
                "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                "R"
            )
        ])
    );
    assert_eq!(
        exported["provision"]["provision"][0]["dataPeriod"],
        json!({ "start": "2020-01-01", "end": "2025-12-31" })
    );
    assert_eq!(
        exported["provision"]["provision"][1]["data"][0]["reference"]["reference"],
        json!("Observation/lab-1")
    );
    // A single typed provision comes back as the root, and is a fixed point too.
    let single = json!({
        "resourceType": "Consent", "status": "active", "dateTime": "1968-05-02",
        "scope": concept("http://terminology.hl7.org/CodeSystem/consentscope", "research"),
        "category": [concept("http://terminology.hl7.org/CodeSystem/consentcategorycodes", "research")],
        "patient": { "reference": "Patient/f001" },
        "policyRule": concept(ACT_CODE, "OPTOUT"),
        "provision": { "type": "permit", "period": { "start": "1968-05-02" },
            "actor": [{ "role": concept(PARTICIPATION, "PRCP"), "reference": { "reference": "Practitioner/f204" } }],
            "purpose": [coding(REASON, "HRESCH")] }
    });
    let one = consent::plan_value(&single, keys(&directory, &[]), PATIENT).unwrap();
    assert_eq!(one.signed_ms, Some(-52_617_600_000), "signed in 1968");
    let back = consent::export(&on_chain(&one), keys(&directory, &[])).unwrap();
    assert_eq!(back["provision"]["type"], json!("permit"));
    let two = consent::plan_value(&back, keys(&directory, &[]), PATIENT).unwrap();
    assert_eq!(two.arguments, one.arguments);

    // Without the blinding key, or the period's opening, export refuses, naming the field.
    let no_key = consent::export(
        &on_chain(&first),
        Keys {
            directory: &directory,
            blinding: None,
            periods: &periods,
        },
    )
    .unwrap_err();
    assert!(
        matches!(no_key, FhirError::NotExportable { ref path, .. } if path == "provisions[0].class_tags[0]"),
        "{no_key}"
    );
    let no_period = consent::export(&on_chain(&first), keys(&directory, &[])).unwrap_err();
    assert!(
        matches!(no_period, FhirError::NotExportable { ref path, .. } if path == "provisions[0].data_period_commitment"),
        "{no_period}"
    );

    let entries = json!([
        { "sequence": "0", "time_ms": "1772357400000", "action": "C", "outcome": 0,
          "agent": PATIENT.to_string(), "on_behalf_of": null, "record": Hash::default().to_string(),
          "purpose": "", "consent": ["3", 1], "provision_path": "0x", "reason": "consent granted", "request": null },
        { "sequence": "1", "time_ms": "1772357500000", "action": "R", "outcome": 0,
          "agent": DOCTOR.to_string(), "on_behalf_of": null, "record": RECORD.to_string(),
          "purpose": "TREAT", "consent": ["3", 1], "provision_path": "0x00", "reason": "permitted",
          "request": Hash([9; 32]).to_string() },
        { "sequence": "2", "time_ms": "1772357600000", "action": "R", "outcome": 4,
          "agent": Address([0x33; 20]).to_string(), "on_behalf_of": PATIENT.to_string(), "record": Hash([0x55; 32]).to_string(),
          "purpose": "HPAYMT", "consent": null, "provision_path": "0x", "reason": "denied by provision", "request": null },
        { "sequence": "3", "time_ms": "1772357700000", "action": "E", "outcome": 0,
          "agent": NURSE.to_string(), "on_behalf_of": null, "record": RECORD.to_string(),
          "purpose": "ETREAT", "consent": null, "provision_path": "0x", "reason": "110127", "request": null }
    ]);
    let bundle = audit::bundle(
        entries.as_array().unwrap(),
        &PATIENT,
        &Address([1; 20]),
        &directory,
        1772357800000,
    )
    .unwrap();
    let events = bundle["entry"].as_array().unwrap();
    assert_eq!(
        events[1]["resource"]["type"]["code"],
        json!("110106"),
        "a gateway release is an export"
    );
    assert_eq!(
        events[1]["resource"]["agent"][0]["who"]["reference"],
        json!("Practitioner/f204")
    );
    assert_eq!(
        events[1]["resource"]["entity"][1]["what"]["reference"],
        json!("Observation/lab-1")
    );
    assert_eq!(
        events[1]["resource"]["entity"][2]["what"]["reference"],
        json!("Consent/3/_history/1")
    );
    assert_eq!(events[2]["resource"]["outcome"], json!("4"));
    assert_eq!(
        events[2]["resource"]["agent"][0]["who"]["identifier"]["value"],
        json!(Address([0x33; 20]).to_string())
    );
    assert_eq!(events[3]["resource"]["subtype"][0]["code"], json!("110127"));
    validate(&[
        ("consent", &exported),
        ("single", &back),
        ("audit", &bundle),
    ]);
}

#[test]
fn the_directory_names_records_and_refuses_one_given_twice() {
    let dir = std::env::temp_dir().join(format!("salus-fhir-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("directory.toml");
    std::fs::write(
        &file,
        format!(
            "[[patient]]\nreference = \"Patient/f001\"\npseudonym = \"{PATIENT}\"\n\n\
             [[record]]\nreference = \"Observation/lab-1\"\nhandle = \"{RECORD}\"\n"
        ),
    )
    .unwrap();
    let loaded = Directory::load(&file).unwrap();
    assert_eq!(loaded.record("Observation/lab-1").unwrap(), RECORD);
    assert_eq!(loaded.record_reference(&RECORD), Some("Observation/lab-1"));
    assert_eq!(loaded.fhir_reference_of(&PATIENT).unwrap(), "Patient/f001");
    assert!(loaded.record("Observation/other").is_err());
    std::fs::write(
        &file,
        format!(
            "[[record]]\nreference = \"Observation/lab-1\"\nhandle = \"{RECORD}\"\n\n\
             [[record]]\nreference = \"Observation/lab-2\"\nhandle = \"{RECORD}\"\n"
        ),
    )
    .unwrap();
    let error = Directory::load(&file).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        error.to_string().contains("own reference and handle"),
        "{error}"
    );
}

#[test]
fn a_posted_preauthorization_decision_exports_as_a_claim_response_that_validates() {
    let directory = directory();
    let trace = Hash([0x7a; 32]);
    let request = json!({
        "trace_handle": trace.to_string(), "payer": PAYER.to_string(), "member": Hash([1; 32]).to_string(),
        "beneficiary": PATIENT.to_string(), "requester": HOSPITAL.to_string(), "priority": "Standard",
        "line_count": 3, "submission_commitment": Hash([2; 32]).to_string(), "revisions": [], "documentation": [],
        "received_ms": "1772357400000", "due_ms": "1772962200000", "status": "Pended",
        "review_extended": false, "overdue": false,
        "decisions": [
            { "line": { "action": "A1", "reason": null, "quantity": 10 }, "decided_by": PAYER.to_string(), "decided_ms": "1772357500000", "post": 0 },
            { "line": { "action": "A4", "reason": "0U", "quantity": 0 }, "decided_by": PAYER.to_string(), "decided_ms": "1772357500000", "post": 0 },
            { "line": { "action": "Na", "reason": null, "quantity": 0 }, "decided_by": PAYER.to_string(), "decided_ms": "1772357600000", "post": 0 }
        ],
        "history": [], "posts": [], "extension": null, "appeal": null
    });
    let response = salus_client::fhir::claim_response::preauthorization(
        &request,
        "professional",
        &directory,
        0,
    )
    .unwrap();
    assert_eq!(response["use"], "preauthorization");
    assert_eq!(response["preAuthRef"], json!(trace.to_string()));
    assert_eq!(response["outcome"], "partial", "a line is pended");
    assert_eq!(response["insurer"]["reference"], "Organization/payer");
    assert_eq!(
        response["created"], "2026-03-01T09:33:20.000Z",
        "the latest decision"
    );
    let review = &response["item"][1]["adjudication"][0]["extension"][0]["extension"];
    assert_eq!(review[0]["valueCodeableConcept"]["coding"][0]["code"], "A4");
    assert_eq!(review[1]["valueCodeableConcept"]["coding"][0]["code"], "0U");
    assert_eq!(
        response["item"][2]["adjudication"][0]["extension"][0]["extension"][0]["valueCodeableConcept"]
            ["coding"][0]["code"],
        "NA"
    );
    assert_eq!(response["item"][0]["adjudication"][0]["value"], 10);
    assert!(matches!(
        salus_client::fhir::claim_response::preauthorization(&request, "dental", &directory, 0),
        Err(FhirError::UnknownCode { .. })
    ));
    validate(&[("claim-response", &response)]);
}
