//! A claim check's CARCs as a FHIR R4 ClaimResponse with `use` `claim` (issue 23, deliverable 4).
//!
//! Input: coverage's `claim` view (ABI JSON, `Ok` unwrapped), read by the billing provider, the
//! payer or a reviewer. What the chain holds of a claim after `post_claim_check` is its parties,
//! status (in force, voided, replaced), line count and, per line, whether it was accepted and
//! its adjustments — each the X12 835 CAS group code, the CARC and the RARC X12 expects with it
//! (`coverage::claims::CARC_TABLE`); the procedures, units, dates and diagnoses are sealed to
//! the payer, and no amounts exist. So each line has one adjudication of category `eligible`: an
//! accepted line's without a value (its units are sealed), a refused line's — refused whole:
//! the contract accepts a line only with no adjustment — one per CARC with `value` 0 and the
//! CARC in `reason` (`https://x12.org/codes/claim-adjustment-reason-codes`). R4 has no element
//! for the CAS group code or the RARC: they go in two extensions of the adjudication
//! ([`GROUP_EXTENSION`], [`REMARK_EXTENSION`]). `submitted` and `benefit` adjudications are not
//! written: the chain holds neither. The mapping is in docs/interop.md, "Claim check as
//! ClaimResponse (export)".

use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use super::answer::{address, bad, claim_type as check_claim_type, number, parsed, who};
use super::{FhirError, NPI_SYSTEM, time};
use crate::directory::Directory;

/// X12 Claim Adjustment Reason Codes (835 CAS02).
pub const CARC_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
/// X12 Remittance Advice Remark Codes (835 LQ02).
pub const RARC_SYSTEM: &str = "https://x12.org/codes/remittance-advice-remark-codes";
/// X12 Claim Adjustment Group Codes (835 CAS01: `CO`, `PR`, `OA`, `PI`).
pub const GROUP_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-group-codes";
/// The extension carrying an adjudication's CAS01 group code (`valueCoding` of
/// [`GROUP_SYSTEM`]): R4's ClaimResponse has no element for it.
pub const GROUP_EXTENSION: &str = "urn:salus:fhir:extension:claim-adjustment-group";
/// The extension carrying an adjudication's RARC (`valueCoding` of [`RARC_SYSTEM`]).
pub const REMARK_EXTENSION: &str = "urn:salus:fhir:extension:remittance-advice-remark";
/// The claim handle as an identifier system.
pub const CLAIM_SYSTEM: &str = "urn:salus:claim";
/// The member (the payer's salted hash) as an identifier system.
pub const MEMBER_SYSTEM: &str = super::eligibility::MEMBER_SYSTEM;
/// `adjudication` categories.
const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";

fn coding(system: &str, code: &str) -> Value {
    json!({ "system": system, "code": code })
}

/// The CAS01 code of the contract's `GroupCode` variant (`Co` → `CO`).
fn group_code(variant: &str, path: &str) -> Result<&'static str, FhirError> {
    match variant {
        "Co" => Ok("CO"),
        "Pr" => Ok("PR"),
        "Oa" => Ok("OA"),
        "Pi" => Ok("PI"),
        _ => Err(bad(path)),
    }
}

/// The claim `handle` (coverage's `claim` answer, not `null`) as a ClaimResponse of
/// `claim_type` (`claim-type`: from the claim, which the chain does not hold). `beneficiary` is
/// the member's pseudonym if the caller could read the coverage (else `patient` is the member's
/// identifier); `now_ms` stamps a claim not checked yet.
///
/// # Errors
/// [`FhirError::UnknownCode`] for another claim type; [`FhirError::NotExportable`] for a
/// malformed answer.
pub fn claim_response(
    claim: &Value,
    handle: Hash,
    claim_type: &str,
    beneficiary: Option<Address>,
    directory: &Directory,
    now_ms: i64,
) -> Result<Value, FhirError> {
    check_claim_type(claim_type)?;
    let payer = address(claim, "payer")?;
    let provider = address(claim, "provider")?;
    let member: Hash = parsed(claim, "member")?;
    let line_count = number(claim.get("line_count"), "line_count")?;
    let submitted_ms = number(claim.get("submitted_ms"), "submitted_ms")?;
    let status = claim
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("status"))?;
    let hash = |key: &str| -> Result<Option<Hash>, FhirError> {
        match claim.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => text.parse().map(Some).map_err(|_| bad(key)),
            Some(_) => Err(bad(key)),
        }
    };
    let trace = hash("trace_handle")?;
    let replaces = hash("replaces")?;
    let patient = match beneficiary {
        Some(beneficiary) => who(directory, &beneficiary),
        None => {
            json!({ "identifier": { "system": MEMBER_SYSTEM, "value": member.to_string() } })
        }
    };
    let requestor = match directory.fhir_reference_of(&provider) {
        Ok(reference) => json!({ "reference": reference }),
        Err(_) => match claim.get("billing_npi").and_then(Value::as_str) {
            Some(npi) if !npi.is_empty() => {
                json!({ "identifier": { "system": NPI_SYSTEM, "value": npi } })
            }
            _ => who(directory, &provider),
        },
    };
    let check = match claim.get("check") {
        None | Some(Value::Null) => None,
        Some(check) => Some(check),
    };
    let mut items = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    let mut created = now_ms;
    if let Some(check) = check {
        created = number(check.get("checked_ms"), "check.checked_ms")? as i64;
        let lines = check
            .get("lines")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("check.lines"))?;
        if lines.len() as u64 != line_count {
            return Err(bad("check.lines"));
        }
        for (index, line) in lines.iter().enumerate() {
            let path = format!("check.lines[{index}]");
            let adjustments = line
                .get("adjustments")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(&path))?;
            let mut adjudication = Vec::new();
            if adjustments.is_empty() {
                accepted += 1;
                adjudication.push(json!({
                    "category": { "coding": [coding(ADJUDICATION, "eligible")] },
                }));
            } else {
                refused += 1;
            }
            for (at, adjustment) in adjustments.iter().enumerate() {
                let path = format!("{path}.adjustments[{at}]");
                let carc = adjustment
                    .get("carc")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&path))?;
                let group = group_code(
                    adjustment
                        .get("group")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    &path,
                )?;
                let mut extension = vec![json!({
                    "url": GROUP_EXTENSION,
                    "valueCoding": coding(GROUP_SYSTEM, group),
                })];
                if let Some(rarc) = adjustment.get("rarc").and_then(Value::as_str) {
                    extension.push(json!({
                        "url": REMARK_EXTENSION,
                        "valueCoding": coding(RARC_SYSTEM, rarc),
                    }));
                }
                adjudication.push(json!({
                    "extension": extension,
                    "category": { "coding": [coding(ADJUDICATION, "eligible")] },
                    "reason": { "coding": [coding(CARC_SYSTEM, carc)] },
                    "value": 0,
                }));
            }
            items.push(json!({ "itemSequence": index + 1, "adjudication": adjudication }));
        }
    } else if status == "InForce" {
        created = created.max(submitted_ms as i64);
    }
    let (resource_status, mut disposition) = match status {
        "InForce" => ("active", String::new()),
        "Voided" => (
            "cancelled",
            String::from("Voided by the provider (X12 837 CLM05-3 8). "),
        ),
        "Replaced" => (
            "cancelled",
            String::from("Replaced by a later claim (X12 837 CLM05-3 7). "),
        ),
        _ => return Err(bad("status")),
    };
    let outcome = match (check.is_some(), status) {
        (true, _) => {
            disposition.push_str(&format!(
                "{line_count} line(s): {accepted} accepted, {refused} refused"
            ));
            "complete"
        }
        (false, "InForce") => {
            disposition.push_str("Not checked yet");
            "queued"
        }
        (false, _) => {
            disposition.push_str("Withdrawn before the payer's check");
            "complete"
        }
    };
    let mut out = json!({
        "resourceType": "ClaimResponse",
        "id": format!("salus-claim-{}", hex::encode(&handle.0[..8])),
        "identifier": [{ "system": CLAIM_SYSTEM, "value": handle.to_string() }],
        "status": resource_status,
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": claim_type }] },
        "use": "claim",
        "patient": patient,
        "created": time::format_instant(created),
        "insurer": who(directory, &payer),
        "requestor": requestor,
        "request": { "identifier": { "system": CLAIM_SYSTEM, "value": handle.to_string() } },
        "outcome": outcome,
        "disposition": disposition,
    });
    if let Some(trace) = trace {
        out["preAuthRef"] = json!(trace.to_string());
    }
    if !items.is_empty() {
        out["item"] = Value::Array(items);
    }
    if let Some(original) = replaces {
        out["processNote"] = json!([{
            "number": 1,
            "type": "display",
            "text": format!("Replaces claim {original} (X12 837 CLM05-3 7)"),
        }]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{Party, Patient};

    const PAYER: Address = Address([0x01; 20]);
    const HOSPITAL: Address = Address([0x02; 20]);
    const PATIENT: Address = Address([0x04; 20]);
    const MEMBER: Hash = Hash([0x4d; 32]);
    const HANDLE: Hash = Hash([0xc1; 32]);
    const TRACE: Hash = Hash([0xa3; 32]);
    const CHECKED: u64 = 1_780_000_000_000;

    fn party(name: &str, address: Address, fhir: &str) -> Party {
        Party {
            name: name.into(),
            address,
            gln: None,
            locations: vec![],
            company_prefixes: vec![],
            npi: None,
            fhir: vec![fhir.into()],
        }
    }

    fn directory() -> Directory {
        Directory::new(
            vec![party("payer", PAYER, "Organization/payer")],
            vec![Patient {
                reference: "Patient/p1".into(),
                pseudonym: PATIENT,
                identifiers: vec![],
            }],
        )
        .unwrap()
    }

    /// The stored claim as the `claim` view answers it in ABI JSON: one line accepted, one
    /// refused with `197` (CO, RARC M62) and `11` (CO).
    fn claim(status: &str, checked: bool) -> Value {
        let check = checked.then(|| {
            json!({
                "lines": [
                    { "accepted": true, "adjustments": [] },
                    { "accepted": false, "adjustments": [
                        { "group": "Co", "carc": "197", "rarc": "M62" },
                        { "group": "Co", "carc": "11", "rarc": null },
                    ] },
                ],
                "inputs_commitment": Hash([1; 32]).to_string(),
                "outcome_commitment": Hash([2; 32]).to_string(),
                "checked_by": PAYER.to_string(),
                "checked_ms": CHECKED.to_string(),
            })
        });
        json!({
            "payer": PAYER.to_string(),
            "member": MEMBER.to_string(),
            "provider": HOSPITAL.to_string(),
            "billing_npi": "1234567893",
            "trace_handle": TRACE.to_string(),
            "line_count": 2,
            "claim_commitment": Hash([3; 32]).to_string(),
            "submitted_ms": (CHECKED - 1000).to_string(),
            "status": status,
            "replaces": null,
            "check": check,
        })
    }

    #[test]
    fn a_checked_claim_writes_each_carc_with_its_group_code() {
        let out = claim_response(
            &claim("InForce", true),
            HANDLE,
            "professional",
            Some(PATIENT),
            &directory(),
            0,
        )
        .unwrap();
        assert_eq!(out["resourceType"], "ClaimResponse");
        assert_eq!(out["use"], "claim");
        assert_eq!(out["status"], "active");
        assert_eq!(out["outcome"], "complete");
        assert_eq!(out["disposition"], "2 line(s): 1 accepted, 1 refused");
        assert_eq!(out["patient"], json!({ "reference": "Patient/p1" }));
        assert_eq!(out["insurer"], json!({ "reference": "Organization/payer" }));
        // The hospital is not in the directory: named by the NPI the registry attests.
        assert_eq!(out["requestor"]["identifier"]["system"], NPI_SYSTEM);
        assert_eq!(out["requestor"]["identifier"]["value"], "1234567893");
        assert_eq!(out["preAuthRef"], TRACE.to_string());
        assert_eq!(out["identifier"][0]["value"], HANDLE.to_string());
        assert_eq!(out["created"], time::format_instant(CHECKED as i64));
        let accepted = &out["item"][0];
        assert_eq!(accepted["itemSequence"], 1);
        assert_eq!(accepted["adjudication"].as_array().unwrap().len(), 1);
        assert_eq!(
            accepted["adjudication"][0]["category"]["coding"][0]["code"],
            "eligible"
        );
        assert!(accepted["adjudication"][0].get("reason").is_none());
        assert!(accepted["adjudication"][0].get("value").is_none());
        let refused = out["item"][1]["adjudication"].as_array().unwrap();
        assert_eq!(refused.len(), 2);
        assert_eq!(
            refused[0]["reason"]["coding"][0],
            json!({ "system": CARC_SYSTEM, "code": "197" })
        );
        assert_eq!(refused[0]["value"], 0);
        assert_eq!(
            refused[0]["extension"],
            json!([
                { "url": GROUP_EXTENSION, "valueCoding": { "system": GROUP_SYSTEM, "code": "CO" } },
                { "url": REMARK_EXTENSION, "valueCoding": { "system": RARC_SYSTEM, "code": "M62" } },
            ])
        );
        assert_eq!(refused[1]["reason"]["coding"][0]["code"], "11");
        assert_eq!(refused[1]["extension"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_patient_responsibility_carc_keeps_its_group_code() {
        let mut stored = claim("InForce", true);
        stored["check"]["lines"][1]["adjustments"] =
            json!([{ "group": "Pr", "carc": "119", "rarc": null }]);
        let out = claim_response(&stored, HANDLE, "professional", None, &directory(), 0).unwrap();
        let adjudication = &out["item"][1]["adjudication"][0];
        assert_eq!(adjudication["reason"]["coding"][0]["code"], "119");
        assert_eq!(adjudication["extension"][0]["valueCoding"]["code"], "PR");
        // Without the coverage, the member's identifier stands for the patient.
        assert_eq!(out["patient"]["identifier"]["system"], MEMBER_SYSTEM);
        assert_eq!(out["patient"]["identifier"]["value"], MEMBER.to_string());
    }

    #[test]
    fn voided_replaced_and_unchecked_claims_say_so() {
        let voided = claim_response(
            &claim("Voided", true),
            HANDLE,
            "professional",
            None,
            &directory(),
            0,
        )
        .unwrap();
        assert_eq!(voided["status"], "cancelled");
        assert_eq!(voided["outcome"], "complete");
        assert!(
            voided["disposition"]
                .as_str()
                .unwrap()
                .starts_with("Voided")
        );
        assert_eq!(voided["item"].as_array().unwrap().len(), 2);
        let withdrawn = claim_response(
            &claim("Replaced", false),
            HANDLE,
            "institutional",
            None,
            &directory(),
            0,
        )
        .unwrap();
        assert_eq!(withdrawn["status"], "cancelled");
        assert_eq!(withdrawn["outcome"], "complete");
        assert!(withdrawn.get("item").is_none());
        let mut replacement = claim("InForce", false);
        replacement["replaces"] = json!(Hash([0xc0; 32]).to_string());
        replacement["trace_handle"] = Value::Null;
        let now = (CHECKED + 5000) as i64;
        let queued = claim_response(
            &replacement,
            HANDLE,
            "professional",
            None,
            &directory(),
            now,
        )
        .unwrap();
        assert_eq!(queued["status"], "active");
        assert_eq!(queued["outcome"], "queued");
        assert_eq!(queued["created"], time::format_instant(now));
        assert!(queued.get("preAuthRef").is_none());
        assert!(
            queued["processNote"][0]["text"]
                .as_str()
                .unwrap()
                .contains(&Hash([0xc0; 32]).to_string())
        );
    }

    #[test]
    fn an_unknown_claim_type_or_malformed_answer_is_refused() {
        let stored = claim("InForce", true);
        assert!(matches!(
            claim_response(&stored, HANDLE, "dental", None, &directory(), 0),
            Err(FhirError::UnknownCode { .. })
        ));
        let mut short = stored.clone();
        short["line_count"] = json!(3);
        assert!(matches!(
            claim_response(&short, HANDLE, "professional", None, &directory(), 0),
            Err(FhirError::NotExportable { .. })
        ));
        let mut group = stored;
        group["check"]["lines"][1]["adjustments"][0]["group"] = json!("Xx");
        assert!(matches!(
            claim_response(&group, HANDLE, "professional", None, &directory(), 0),
            Err(FhirError::NotExportable { .. })
        ));
    }
}
