//! A sealed preauthorization's posted decision (coverage's `sealed_request`, ABI JSON) as a FHIR
//! R4 ClaimResponse with `use` `preauthorization`, in the manner of Da Vinci PAS (docs/interop.md,
//! "ClaimResponse"): one `item` per service line, each with one adjudication carrying the PAS
//! `reviewAction` extension — the X12 278 HCR01 action (`A1`, `A2`, `A3`, `A4`, `A6`, `C`, `NA`,
//! `CT`; code system `https://codesystem.x12.org/005010/306`) and, when posted, the HCR03 reason
//! (`https://codesystem.x12.org/external/886`) — and the units certified as its `value`;
//! `preAuthRef` the request's trace handle. Without an opening only what the chain holds is
//! written: the lines' procedures, dates and the authorised window are sealed (the window is
//! inside the outcome commitment). With a [`PreauthOpening`] — what the payer's agent keeps,
//! verified by the caller against the chain's commitments — each item also carries its
//! requested service dates (PAS `itemRequestedServiceDate`), a certified line its service as
//! authorised (`itemAuthorizedDetail`: CPT/HCPCS code, modifiers, units), its window
//! (`itemPreAuthPeriod`) and certification number (`authorizationNumber`), and the response its
//! `preAuthPeriod` (the span of the windows). The claim's type, which the chain does not hold,
//! is given by the caller from the submission.

use salus_primitives::Hash;
use serde_json::{Value, json};

use super::answer::{address, bad, claim_type as check_claim_type, number, parsed, who};
use super::{FhirError, time};
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
/// PAS: the service dates requested for an item.
pub const ITEM_REQUESTED_SERVICE_DATE: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemRequestedServiceDate";
/// PAS: the window an item's authorisation is valid in.
pub const ITEM_PRE_AUTH_PERIOD: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemPreAuthPeriod";
/// PAS: what was authorised for an item.
pub const ITEM_AUTHORIZED_DETAIL: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemAuthorizedDetail";
/// PAS: an item's authorisation (certification) number.
pub const AUTHORIZATION_NUMBER: &str =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-authorizationNumber";

/// One line of a sealed request as its opening shows it: the service requested (from the
/// submission) and, when the payer's agent certified it, the window and certification number
/// (from the decision's outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedLine {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Modifiers.
    pub modifiers: Vec<String>,
    /// Units requested.
    pub quantity: u32,
    /// First day of service (ms).
    pub from_ms: u64,
    /// Last day of service (ms).
    pub to_ms: u64,
    /// The authorised window (start, exclusive end, ms), when the opened outcome certifies it.
    pub window: Option<(u64, u64)>,
    /// The certification number (X12 HCR02), when certified.
    pub certification: Option<String>,
}

/// What the holder of a request's opening (the payer's agent's inbox) adds to the chain's
/// decision, one entry per line, verified by the caller against the request's commitments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreauthOpening {
    /// The lines, in order.
    pub lines: Vec<OpenedLine>,
}

/// The code system of a procedure code: HCPCS Level II for a leading letter, else CPT.
fn procedure_system(code: &str) -> &'static str {
    if code.starts_with(|c: char| c.is_ascii_alphabetic()) {
        super::claim::HCPCS
    } else {
        super::claim::CPT
    }
}

fn service_date(line: &OpenedLine) -> Value {
    if line.from_ms == line.to_ms {
        json!({ "url": ITEM_REQUESTED_SERVICE_DATE,
                "valueDateTime": time::format_start(line.from_ms as i64) })
    } else {
        json!({ "url": ITEM_REQUESTED_SERVICE_DATE, "valuePeriod": {
            "start": time::format_start(line.from_ms as i64),
            "end": time::format_start(line.to_ms as i64) } })
    }
}

fn window_json((start, end): (u64, u64)) -> Value {
    json!({ "start": time::format_start(start as i64), "end": time::format_end(end as i64) })
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
    preauthorization_opened(request, claim_type, directory, now_ms, None)
}

/// [`preauthorization`], with the services, windows and `preAuthPeriod` of `opening` when
/// given (see the module documentation): the caller has checked it against the request's
/// commitments on chain.
///
/// # Errors
/// As [`preauthorization`]; [`FhirError::NotExportable`] for an opening with another number
/// of lines than the decision.
pub fn preauthorization_opened(
    request: &Value,
    claim_type: &str,
    directory: &Directory,
    now_ms: i64,
    opening: Option<&PreauthOpening>,
) -> Result<Value, FhirError> {
    check_claim_type(claim_type)?;
    let trace: Hash = parsed(request, "trace_handle")?;
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
    if let Some(opening) = opening
        && !decisions.is_empty()
        && opening.lines.len() != decisions.len()
    {
        return Err(FhirError::NotExportable {
            path: "decisions".into(),
            reason: format!(
                "the opening has {} lines, the decision {}",
                opening.lines.len(),
                decisions.len()
            ),
        });
    }
    let mut latest = number(request.get("received_ms"), "received_ms")?;
    let mut span: Option<(u64, u64)> = None;
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
        let mut extensions = Vec::new();
        if let Some(line) = opening.and_then(|opening| opening.lines.get(index)) {
            extensions.push(service_date(line));
            if matches!(code, "A1" | "A2" | "A6") {
                let mut detail = vec![json!({
                    "url": "productOrServiceCode",
                    "valueCodeableConcept": { "coding": [{
                        "system": procedure_system(&line.procedure), "code": line.procedure }] },
                })];
                for modifier in &line.modifiers {
                    detail.push(json!({
                        "url": "modifier",
                        "valueCodeableConcept": { "coding": [{
                            "system": procedure_system(&line.procedure), "code": modifier }] },
                    }));
                }
                detail.push(json!({ "url": "quantity", "valueQuantity": { "value": quantity } }));
                extensions.push(json!({ "url": ITEM_AUTHORIZED_DETAIL, "extension": detail }));
                if let Some(window) = line.window {
                    extensions.push(json!({ "url": ITEM_PRE_AUTH_PERIOD,
                                            "valuePeriod": window_json(window) }));
                    span = Some(span.map_or(window, |(start, end)| {
                        (start.min(window.0), end.max(window.1))
                    }));
                }
                if let Some(number) = &line.certification {
                    extensions.push(json!({ "url": AUTHORIZATION_NUMBER, "valueString": number }));
                }
            }
        }
        let mut entry = json!({
            "itemSequence": index + 1,
            "adjudication": [{
                "extension": [{ "url": REVIEW_ACTION, "extension": review }],
                "category": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/adjudication",
                    "code": "eligible" }] },
                "value": quantity,
            }],
        });
        if !extensions.is_empty() {
            entry["extension"] = Value::Array(extensions);
        }
        items.push(entry);
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
    if let Some(window) = span {
        out["preAuthPeriod"] = window_json(window);
    }
    if !items.is_empty() {
        out["item"] = Value::Array(items);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use salus_primitives::Address;

    use super::*;

    const DAY: u64 = 86_400_000;
    /// 2026-03-01T00:00Z.
    const MARCH_1: u64 = 1_772_323_200_000;

    fn request() -> Value {
        let address = |byte: u8| Address([byte; 20]).to_string();
        json!({
            "trace_handle": Hash([0x7a; 32]).to_string(), "payer": address(1),
            "beneficiary": address(2), "requester": address(3),
            "received_ms": "1772357400000", "status": "Pended",
            "decisions": [
                { "line": { "action": "A1", "reason": null, "quantity": 2 }, "decided_ms": "1772357500000" },
                { "line": { "action": "A4", "reason": "0U", "quantity": 0 }, "decided_ms": "1772357500000" }
            ]
        })
    }

    fn opening() -> PreauthOpening {
        PreauthOpening {
            lines: vec![
                OpenedLine {
                    procedure: "72148".into(),
                    modifiers: vec!["26".into()],
                    quantity: 2,
                    from_ms: MARCH_1,
                    to_ms: MARCH_1,
                    window: Some((MARCH_1, MARCH_1 + 60 * DAY)),
                    certification: Some("7a7a-1".into()),
                },
                OpenedLine {
                    procedure: "G0378".into(),
                    modifiers: vec![],
                    quantity: 1,
                    from_ms: MARCH_1,
                    to_ms: MARCH_1 + 2 * DAY,
                    window: None,
                    certification: None,
                },
            ],
        }
    }

    fn url<'v>(item: &'v Value, url: &str) -> Option<&'v Value> {
        item["extension"]
            .as_array()?
            .iter()
            .find(|extension| extension["url"] == url)
    }

    #[test]
    fn an_opening_adds_the_services_windows_and_pre_auth_period() {
        let directory = Directory::default();
        let bare = preauthorization(&request(), "professional", &directory, 0).unwrap();
        assert!(bare.get("preAuthPeriod").is_none());
        assert!(bare["item"][0].get("extension").is_none());
        let opened =
            preauthorization_opened(&request(), "professional", &directory, 0, Some(&opening()))
                .unwrap();
        assert_eq!(
            opened["preAuthPeriod"],
            json!({ "start": "2026-03-01", "end": "2026-04-29" })
        );
        let mri = &opened["item"][0];
        assert_eq!(
            url(mri, ITEM_REQUESTED_SERVICE_DATE).unwrap()["valueDateTime"],
            "2026-03-01"
        );
        let detail = &url(mri, ITEM_AUTHORIZED_DETAIL).unwrap()["extension"];
        assert_eq!(
            detail[0]["valueCodeableConcept"]["coding"][0],
            json!({ "system": super::super::claim::CPT, "code": "72148" })
        );
        assert_eq!(detail[1]["url"], "modifier");
        assert_eq!(detail[2]["valueQuantity"]["value"], 2);
        assert_eq!(
            url(mri, ITEM_PRE_AUTH_PERIOD).unwrap()["valuePeriod"],
            json!({ "start": "2026-03-01", "end": "2026-04-29" })
        );
        assert_eq!(
            url(mri, AUTHORIZATION_NUMBER).unwrap()["valueString"],
            "7a7a-1"
        );
        let pended = &opened["item"][1];
        assert_eq!(
            url(pended, ITEM_REQUESTED_SERVICE_DATE).unwrap()["valuePeriod"],
            json!({ "start": "2026-03-01", "end": "2026-03-03" })
        );
        assert!(url(pended, ITEM_AUTHORIZED_DETAIL).is_none());
        assert!(url(pended, ITEM_PRE_AUTH_PERIOD).is_none());
        let mut short = opening();
        short.lines.pop();
        assert!(matches!(
            preauthorization_opened(&request(), "professional", &directory, 0, Some(&short)),
            Err(FhirError::NotExportable { .. })
        ));
    }
}
