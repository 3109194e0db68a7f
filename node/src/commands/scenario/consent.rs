//! The consent part of `salus scenario`: a hospital indexes two records of a patient, the
//! patient files its subject handle and grants a consent with a permit and a deny provision, an
//! authority attests a guardian, the hospital records a permitted and a refused access, a
//! clinician breaks the glass and the hospital reviews it, and a second consent is granted and
//! revoked.
//!
//! Accounts: 0 the registry's authority (registers the hospital and the clinician, attests the
//! delegation), 1 the hospital (provider organisation, custodian of the records, break-glass
//! policy and its reviewer), 2 the patient (its dev address stands for its pseudonym at the
//! hospital), 3 the clinician (practitioner, in the break-glass group). The guardian is dev key
//! 10, which signs nothing here.

use anyhow::{Context, anyhow};
use salus_client::pseudonym::{blinded_tag, subject_handle};
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::{DEV_MNEMONIC, derive_key};
use salus_primitives::Address;
use salus_primitives::hash::keccak256_concat;
use serde_json::{Value, json};

use super::{Contracts, DAY_MS, Registration, Scenario};

/// The blinding key of the patient's relationship with the hospital (a wallet derives it; fixed
/// here so that the story is the same at every run).
const BLINDING: [u8; 32] = [0x5a; 32];

/// The NPI the hospital is registered with (a valid check digit).
const HOSPITAL_NPI: &str = "1234567893";

/// Tells the consent story; returns what it made (ids, addresses and console paths by name).
///
/// # Errors
/// When a step fails.
pub async fn load(scenario: &mut Scenario) -> anyhow::Result<Value> {
    let authority = Scenario::key(0);
    let hospital = Scenario::key(1);
    let patient = Scenario::key(2);
    let clinician = Scenario::key(3);
    let guardian = derive_key(DEV_MNEMONIC, 10)
        .map_err(|error| anyhow!("the dev mnemonic derives: {error:?}"))?
        .address();
    let (hospital_address, patient_address, clinician_address) =
        (hospital.address(), patient.address(), clinician.address());
    // The chain's time, or the wall clock when the chain is behind it (a fresh dev chain's
    // genesis is dated in the past): consents start now, not at genesis.
    let wall_clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        });
    let now = scenario
        .client()
        .chain_head()
        .await?
        .timestamp_ms
        .max(wall_clock);

    scenario
        .register(
            hospital_address,
            Registration {
                roles: &["ProviderOrganisation"],
                npi: Some(HOSPITAL_NPI),
                ..Registration::default()
            },
            now,
        )
        .await?;
    scenario
        .register(
            clinician_address,
            Registration {
                roles: &["Practitioner"],
                ..Registration::default()
            },
            now,
        )
        .await?;

    let subject = subject_handle(&BLINDING).to_string();
    scenario
        .call(
            &patient,
            Contracts::CONSENT,
            "set_subject",
            json!([patient_address.to_string(), subject]),
        )
        .await?;

    // Two records at the hospital: a lab result (labelled N) and a psychotherapy note (PSY).
    let lab = record_handle(b"lab result");
    let note = record_handle(b"psychotherapy note");
    for (record, label, class) in [
        (&lab, "N", "Observation"),
        (&note, "PSY", "DocumentReference"),
    ] {
        if !record_indexed(scenario, record).await? {
            scenario
                .call(
                    &hospital,
                    Contracts::CONSENT,
                    "register_record",
                    registration(record, label, class, patient_address, clinician_address),
                )
                .await
                .with_context(|| format!("indexing record {record}"))?;
        }
    }

    // The consent: deny by default; permit the clinician to access for treatment; deny any
    // record labelled PSY (a deny beats a permit at the same depth).
    let period = json!({ "start_ms": now.to_string(), "end_ms": (now + 365 * DAY_MS).to_string() });
    let receipt = scenario
        .call(
            &patient,
            Contracts::CONSENT,
            "grant",
            json!([
                patient_address.to_string(),
                "patient-privacy",
                "59284-0",
                period,
                "Deny",
                [
                    provision(
                        "Permit",
                        &[clinician_address],
                        &["Access", "Use"],
                        &["TREAT"],
                        &[],
                        &["Observation"]
                    ),
                    provision("Deny", &[], &[], &[], &["PSY"], &[]),
                ],
                format!("0x{}", "c0".repeat(32)),
                null
            ]),
        )
        .await?;
    let consent = result_of(scenario, "grant", &receipt).await?;

    // The guardian: a healthcare power of attorney, attested by the authority.
    scenario
        .call(
            &authority,
            Contracts::CONSENT,
            "attest_delegation",
            json!([
                patient_address.to_string(),
                guardian.to_string(),
                "HPOWATT",
                ["Access", "Disclose"],
                ["TREAT"],
                period,
                format!("0x{}", "d0".repeat(32))
            ]),
        )
        .await?;

    // The hospital records the clinician's reads: the lab result is permitted, the note refused.
    let access = |record: &str| {
        json!([
            clinician_address.to_string(),
            "PRCP",
            record,
            "Access",
            "TREAT",
            null,
            null
        ])
    };
    let permitted = scenario
        .call(&hospital, Contracts::CONSENT, "record_access", access(&lab))
        .await?;
    let permitted_decision = result_of(scenario, "record_access", &permitted).await?;
    let refused = scenario
        .call(
            &hospital,
            Contracts::CONSENT,
            "record_access",
            access(&note),
        )
        .await?;
    let refused_decision = result_of(scenario, "record_access", &refused).await?;
    if refused_decision["decision"] != "Deny" || permitted_decision["decision"] != "Permit" {
        anyhow::bail!(
            "the decisions are not the story's: {permitted_decision} then {refused_decision}"
        );
    }

    // Break-glass: the clinician declares an emergency; the hospital reviews it as justified.
    scenario
        .call(
            &hospital,
            Contracts::CONSENT,
            "set_break_glass_policy",
            json!([
                [clinician_address.to_string()],
                (4 * 3600 * 1000u64).to_string(),
                hospital_address.to_string(),
                false
            ]),
        )
        .await?;
    let declared = scenario
        .call(
            &clinician,
            Contracts::CONSENT,
            "declare_break_glass",
            json!([
                hospital_address.to_string(),
                patient_address.to_string(),
                "ETREAT",
                format!("0x{}", "e0".repeat(32)),
                (3600 * 1000u64).to_string()
            ]),
        )
        .await?;
    let session = result_of(scenario, "declare_break_glass", &declared).await?;
    let session = session
        .as_str()
        .ok_or_else(|| anyhow!("the break-glass was refused: {session}"))?
        .to_string();
    scenario
        .call(
            &hospital,
            Contracts::CONSENT,
            "review_break_glass",
            json!([session, true]),
        )
        .await?;

    // A research consent, granted then revoked.
    let receipt = scenario
        .call(
            &patient,
            Contracts::CONSENT,
            "grant",
            json!([
                patient_address.to_string(),
                "research",
                "research",
                period,
                "Deny",
                [provision(
                    "Permit",
                    &[hospital_address],
                    &["Use"],
                    &["HRESCH"],
                    &[],
                    &[]
                )],
                format!("0x{}", "c1".repeat(32)),
                null
            ]),
        )
        .await?;
    let revoked = result_of(scenario, "grant", &receipt).await?;
    scenario
        .call(
            &patient,
            Contracts::CONSENT,
            "revoke",
            json!([revoked.clone()]),
        )
        .await?;

    // Console paths name addresses in lower case, as the console's links do.
    let patient_path = format!(
        "/ui/consent/patient/{}",
        patient_address.to_string().to_ascii_lowercase()
    );
    Ok(json!({
        "hospital": hospital_address.to_string(),
        "patient": patient_address.to_string(),
        // The dev account that plays the patient: its key is public (the dev mnemonic), so the
        // console's patient page can be tried with it (the accounting signed in the browser).
        "patient_dev_key": format!("0x{}", hex::encode(patient.to_bytes())),
        "clinician": clinician_address.to_string(),
        "guardian": guardian.to_string(),
        "subject": subject,
        "records": { "lab": lab, "note": note },
        "consent": consent,
        "revoked_consent": revoked,
        "session": session,
        "permitted_access": permitted.transaction_hash,
        "refused_access": refused.transaction_hash,
        "refused_reason": refused_decision["reason"],
        "paths": {
            "landing": "/ui/consent",
            "patient": patient_path.clone(),
            "accounting": format!("{patient_path}#accounting"),
            "refused_access": format!("/ui/tx/{}", refused.transaction_hash),
        },
    }))
}

/// A record's handle (what the custodian indexes it by), from a name.
fn record_handle(name: &[u8]) -> String {
    keccak256_concat(&[b"salus scenario record", name]).to_string()
}

/// Whether `record` is already indexed: its `register_record` would refuse it again. Asked
/// through `can_access`, which names an unindexed record's denial "unknown record".
async fn record_indexed(scenario: &mut Scenario, record: &str) -> anyhow::Result<bool> {
    let decision = scenario
        .view(
            Contracts::CONSENT,
            "can_access",
            json!([
                Address::default().to_string(),
                "PRCP",
                "Access",
                record,
                "TREAT",
                null,
                null
            ]),
        )
        .await?;
    let decision = decision.get("Ok").unwrap_or(&decision);
    Ok(decision["reason"] != "unknown record")
}

/// The blinded tag of `code` in the patient's relationship with the hospital.
fn tag(code: &str) -> String {
    blinded_tag(&BLINDING, code).to_string()
}

/// `register_record`'s arguments: one label and one class as blinded tags (the label padded to
/// four with filler tags), a date commitment and the relationship's subject handle.
fn registration(
    record: &str,
    label: &str,
    class: &str,
    patient: Address,
    author: Address,
) -> Value {
    let filler = |n: u8| keccak256_concat(&[record.as_bytes(), &[n]]).to_string();
    let mut label_tags = vec![tag(label), filler(1), filler(2), filler(3)];
    label_tags.sort();
    json!([
        record,
        patient.to_string(),
        label_tags,
        tag(class),
        keccak256_concat(&[b"date", record.as_bytes()]).to_string(),
        author.to_string(),
        subject_handle(&BLINDING).to_string()
    ])
}

/// A provision without children, period or record criteria.
fn provision(
    kind: &str,
    actors: &[Address],
    actions: &[&str],
    purposes: &[&str],
    labels: &[&str],
    classes: &[&str],
) -> Value {
    json!({
        "kind": kind,
        "period": null,
        "actors": actors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "custodians": [],
        "authors": [],
        "roles": [],
        "actions": actions,
        "purposes": purposes,
        "label_tags": labels.iter().map(|label| tag(label)).collect::<Vec<_>>(),
        "class_tags": classes.iter().map(|class| tag(class)).collect::<Vec<_>>(),
        "records": [],
        "data_period_commitment": null,
        "children": [],
    })
}

/// The decoded result of `message` in `receipt` (the `Ok` of a `Result`).
async fn result_of(
    scenario: &mut Scenario,
    message: &str,
    receipt: &ReceiptView,
) -> anyhow::Result<Value> {
    let result = scenario
        .result(Contracts::CONSENT, message, receipt)
        .await?;
    Ok(match result {
        Value::Object(mut fields) if fields.len() == 1 && fields.contains_key("Ok") => {
            fields.remove("Ok").unwrap_or_default()
        }
        other => other,
    })
}
