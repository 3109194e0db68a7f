//! A sealed preauthorization's posted decision (coverage's `sealed_request`, ABI JSON) as a FHIR
//! R4 ClaimResponse with `use` `preauthorization`, in the manner of Da Vinci PAS (docs/interop.md,
//! "ClaimResponse"): one `item` per service line, each with one adjudication carrying the PAS
//! `reviewAction` extension — the X12 278 HCR01 action (`A1`, `A2`, `A3`, `A4`, `A6`, `C`, `NA`,
//! `CT`; code system `https://codesystem.x12.org/005010/306`) and, when posted, the HCR03 reason
//! (`https://codesystem.x12.org/external/886`) — and the units certified as its `value`;
//! `preAuthRef` the request's trace handle. Only what the chain holds is written: the lines'
//! procedures, dates and the authorised window are sealed (the window is inside the outcome
//! commitment), so `preAuthPeriod` and the items' services are not; the claim's type, which the
//! chain does not hold either, is given by the caller from the submission.

use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use super::{ADDRESS_SYSTEM, FhirError, time};
use crate::directory::Directory;

/// The PAS review action extension and its parts.
pub const REVIEW_ACTION: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction";
/// The PAS review action code extension (HCR01).
pub const REVIEW_ACTION_CODE: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode";
/// X12 306 action codes (HCR01).
pub const X12_ACTION: &str = "https://codesystem.x12.org/005010/306";
/// X12 886 reason codes (HCR03).
pub const X12_REASON: &str = "https://codesystem.x12.org/external/886";
/// The trace handle as an identifier system.
pub const TRACE_SYSTEM: &str = "urn:salus:trace";

/// `claim-type` codes.
const CLAIM_TYPES: &[&str] = &[
    "institutional",
    "oral",
    "pharmacy",
    "professional",
    "vision",
];

fn bad(path: &str) -> FhirError {
    FhirError::NotExportable {
        path: path.to_string(),
        reason: "malformed in the contract's answer".into(),
    }
}

fn who(directory: &Directory, address: &Address) -> Value {
    match directory.fhir_reference_of(address) {
        Ok(reference) => json!({ "reference": reference }),
        Err(_) => {
            json!({ "identifier": { "system": ADDRESS_SYSTEM, "value": address.to_string() } })
        }
    }
}

fn address(request: &Value, key: &str) -> Result<Address, FhirError> {
    request
        .get(key)
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| bad(key))
}

fn number(value: Option<&Value>, path: &str) -> Result<u64, FhirError> {
    match value {
        Some(Value::String(text)) => text.parse().map_err(|_| bad(path)),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(path)),
        _ => Err(bad(path)),
    }
}

/// The request `sealed_request` returned as a ClaimResponse of `claim_type` (`claim-type`:
/// `professional`, `institutional`, …), stamped `now_ms` when nothing was decided yet.
///
/// # Errors
/// [`FhirError::UnknownCode`] for another claim type; [`FhirError::NotExportable`] for a
/// malformed answer.
pub fn preauthorization(
    request: &Value,
    claim_type: &str,
    directory: &Directory,
    now_ms: i64,
) -> Result<Value, FhirError> {
    if !CLAIM_TYPES.contains(&claim_type) {
        return Err(FhirError::UnknownCode {
            path: "type".into(),
            system: "http://terminology.hl7.org/CodeSystem/claim-type".into(),
            code: claim_type.into(),
        });
    }
    let trace: Hash = request
        .get("trace_handle")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| bad("trace_handle"))?;
    let payer = address(request, "payer")?;
    let beneficiary = address(request, "beneficiary")?;
    let requester = address(request, "requester")?;
    let status = request
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let decisions = request
        .get("decisions")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("decisions"))?;
    let mut latest = number(request.get("received_ms"), "received_ms")?;
    let mut items = Vec::with_capacity(decisions.len());
    for (index, decision) in decisions.iter().enumerate() {
        let path = format!("decisions[{index}]");
        let line = decision.get("line").ok_or_else(|| bad(&path))?;
        let action = line
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&path))?;
        let code = match action {
            "Na" => "NA",
            "Ct" => "CT",
            other => other,
        };
        let quantity = number(line.get("quantity"), &path)?;
        latest = latest.max(number(decision.get("decided_ms"), &path)?);
        let mut review = vec![json!({
            "url": REVIEW_ACTION_CODE,
            "valueCodeableConcept": { "coding": [{ "system": X12_ACTION, "code": code }] },
        })];
        if let Some(reason) = line.get("reason").and_then(Value::as_str) {
            review.push(json!({
                "url": "reasonCode",
                "valueCodeableConcept": { "coding": [{ "system": X12_REASON, "code": reason }] },
            }));
        }
        items.push(json!({
            "itemSequence": index + 1,
            "adjudication": [{
                "extension": [{ "url": REVIEW_ACTION, "extension": review }],
                "category": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/adjudication",
                    "code": "eligible" }] },
                "value": quantity,
            }],
        }));
    }
    let outcome = match status {
        "Decided" | "Cancelled" => "complete",
        _ if decisions.is_empty() => "queued",
        _ => "partial",
    };
    let created = if decisions.is_empty() {
        now_ms
    } else {
        latest as i64
    };
    let mut out = json!({
        "resourceType": "ClaimResponse",
        "id": format!("salus-preauth-{}", hex::encode(&trace.0[..8])),
        "identifier": [{ "system": TRACE_SYSTEM, "value": trace.to_string() }],
        "status": "active",
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": claim_type }] },
        "use": "preauthorization",
        "patient": who(directory, &beneficiary),
        "created": time::format_instant(created),
        "insurer": who(directory, &payer),
        "requestor": who(directory, &requester),
        "outcome": outcome,
        "preAuthRef": trace.to_string(),
    });
    if !items.is_empty() {
        out["item"] = Value::Array(items);
    }
    Ok(out)
}
