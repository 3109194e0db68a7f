//! A patient's accounting of disclosures (consent's `accounting`, ABI JSON) as a FHIR R4 Bundle
//! of AuditEvents in the style of IHE Basic Audit Log Patterns (docs/interop.md, "AuditEvent"):
//!
//! - a record access (action `R`): `type` `rest` (audit-event-type), `subtype` `read`
//!   (restful-interaction), or — for a release through a record gateway (an entry naming the
//!   requester's signed request) — `type` DICOM `110106` Export, `subtype` `read`;
//! - a consent's life cycle (no record): `type` `rest`, `subtype` `create` / `update` /
//!   `delete` by action;
//! - a break-glass access (action `E`): `type` DICOM `110113` Security Alert, `subtype` DICOM
//!   `110127` Emergency Override Started;
//!
//! with `action`, `recorded`, `outcome` (0 / 4 / 8 / 12) and `outcomeDesc` (the contract's
//! reason), `purposeOfEvent` (v3 ActReason), the agent who acted (`requestor` true) and the
//! principal it acted for (`requestor` false), `source` the consent contract, and entities: the
//! patient (role 1), the record (role 4, domain resource) and the consent that decided, with its
//! version (role 4, `Consent/ID/_history/VERSION`).

use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use super::answer::{bad, who};
use super::{FhirError, RECORD_URN, time};
use crate::directory::Directory;

const AUDIT_EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
const SOURCE_TYPE: &str = "http://terminology.hl7.org/CodeSystem/security-source-type";

/// One audit entry as an AuditEvent.
///
/// # Errors
/// [`FhirError::NotExportable`] for a malformed entry.
pub fn audit_event(
    entry: &Value,
    patient: &Address,
    consent_contract: &Address,
    directory: &Directory,
) -> Result<Value, FhirError> {
    let number = |key: &str| -> Result<u64, FhirError> {
        match entry.get(key) {
            Some(Value::String(text)) => text.parse().map_err(|_| bad(key)),
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(key)),
            _ => Err(bad(key)),
        }
    };
    let sequence = number("sequence")?;
    let time_ms = number("time_ms")?;
    let outcome = number("outcome")?;
    let action = entry
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("action"))?;
    let agent: Address = entry
        .get("agent")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("agent"))?;
    let record: Hash = entry
        .get("record")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("record"))?;
    let purpose = entry
        .get("purpose")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reason = entry
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let request = entry.get("request").filter(|v| !v.is_null());
    let coding = |system: &str, code: &str, display: &str| json!({ "system": system, "code": code, "display": display });
    let record_access = record != Hash::default();
    let (kind, subtype) = match action {
        "E" => (
            coding(DICOM, "110113", "Security Alert"),
            coding(DICOM, "110127", "Emergency Override Started"),
        ),
        "R" if request.is_some() => (
            coding(DICOM, "110106", "Export"),
            coding(RESTFUL_INTERACTION, "read", "read"),
        ),
        "C" => (
            coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation"),
            coding(RESTFUL_INTERACTION, "create", "create"),
        ),
        "U" => (
            coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation"),
            coding(RESTFUL_INTERACTION, "update", "update"),
        ),
        "D" => (
            coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation"),
            coding(RESTFUL_INTERACTION, "delete", "delete"),
        ),
        _ => (
            coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation"),
            coding(RESTFUL_INTERACTION, "read", "read"),
        ),
    };
    let mut agents = vec![json!({ "who": who(directory, &agent), "requestor": true })];
    if let Some(principal) = entry
        .get("on_behalf_of")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Address>().ok())
    {
        agents.push(json!({
            "who": who(directory, &principal),
            "requestor": false,
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PAT" }] },
        }));
    }
    let mut entities = vec![json!({
        "what": who(directory, patient),
        "type": coding(ENTITY_TYPE, "1", "Person"),
        "role": coding(OBJECT_ROLE, "1", "Patient"),
    })];
    if record_access {
        let reference = directory
            .record_reference(&record)
            .map_or_else(|| format!("{RECORD_URN}{record}"), str::to_string);
        entities.push(json!({
            "what": { "reference": reference },
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "4", "Domain Resource"),
        }));
    }
    if let Some(Value::Array(pair)) = entry.get("consent")
        && let [id, version] = pair.as_slice()
    {
        let id = id
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| id.to_string());
        entities.push(json!({
            "what": { "reference": format!("Consent/{id}/_history/{version}") },
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "4", "Domain Resource"),
            "description": "the consent that decided",
        }));
    }
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": format!("salus-audit-{sequence}"),
        "type": kind,
        "subtype": [subtype],
        "action": action,
        "recorded": time::format_instant(time_ms as i64),
        "outcome": outcome.to_string(),
        "agent": agents,
        "source": {
            "observer": { "display": format!("Salus consent contract {consent_contract}") },
            "type": [coding(SOURCE_TYPE, "4", "Application Server")],
        },
        "entity": entities,
    });
    if !reason.is_empty() {
        event["outcomeDesc"] = json!(reason);
    }
    if !purpose.is_empty() {
        event["purposeOfEvent"] = json!([{ "coding": [{
            "system": super::vocabulary::ACT_REASON, "code": purpose }] }]);
    }
    Ok(event)
}

/// The entries as a Bundle of type `collection`, stamped `now_ms`.
///
/// # Errors
/// As [`audit_event`].
pub fn bundle(
    entries: &[Value],
    patient: &Address,
    consent_contract: &Address,
    directory: &Directory,
    now_ms: i64,
) -> Result<Value, FhirError> {
    let events = entries
        .iter()
        .map(|entry| {
            audit_event(entry, patient, consent_contract, directory)
                .map(|resource| json!({ "resource": resource }))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": time::format_instant(now_ms),
        "entry": events,
    }))
}
