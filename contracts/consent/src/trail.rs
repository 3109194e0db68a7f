//! The patient's trail: consent status changes and audit entries (FHIR AuditEvent-shaped).

use salus_sdk::prelude::*;

use crate::storage::{ACTIVE_BY_PATIENT, AUDIT, CONSENTS, NEXT_AUDIT, active_key, own_subject};
use crate::types::*;

pub(crate) fn set_status(consent: &mut Consent, status: ConsentStatus) {
    if matches!(status, ConsentStatus::Active) {
        ACTIVE_BY_PATIENT.insert(&active_key(&consent.patient, consent.id), &());
    } else {
        ACTIVE_BY_PATIENT.remove(&active_key(&consent.patient, consent.id));
    }
    consent.status = status.clone();
    consent.version += 1;
    CONSENTS.insert(&consent.id, consent);
    ConsentChanged {
        subject: own_subject(&consent.patient),
        id: consent.id,
        version: consent.version,
        status,
    }
    .emit();
}

/// Moves `consent` to `status` ([`set_status`]) and records the change on its patient's audit
/// trail as an update by the caller (acting for `on_behalf_of`), with the hash of the reason's
/// document (or zero) and a short note.
pub(crate) fn change_status(
    consent: &mut Consent,
    status: ConsentStatus,
    on_behalf_of: Option<Address>,
    reason: Hash,
    note: &str,
) {
    set_status(consent, status);
    audit(
        &consent.patient,
        caller(),
        AuditAction::U,
        0,
        on_behalf_of,
        reason,
        String::new(),
        Some((consent.id, consent.version)),
        Vec::new(),
        note,
    );
}

/// Appends an entry to the patient's trail (no gateway request: see [`audit_request`]).
/// Returns its sequence number.
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit(
    patient: &Address,
    agent: Address,
    action: AuditAction,
    outcome: u8,
    on_behalf_of: Option<Address>,
    record: Hash,
    purpose: String,
    consent: Option<(u64, u32)>,
    provision_path: Vec<u8>,
    reason: &str,
) -> u64 {
    audit_request(
        patient,
        agent,
        action,
        outcome,
        on_behalf_of,
        record,
        purpose,
        consent,
        provision_path,
        reason,
        None,
    )
}

/// As [`audit`], naming the signed gateway request an entry answers (`record_disclosure`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_request(
    patient: &Address,
    agent: Address,
    action: AuditAction,
    outcome: u8,
    on_behalf_of: Option<Address>,
    record: Hash,
    purpose: String,
    consent: Option<(u64, u32)>,
    provision_path: Vec<u8>,
    reason: &str,
    request: Option<Hash>,
) -> u64 {
    let sequence = NEXT_AUDIT.get().unwrap_or(0);
    NEXT_AUDIT.set(&(sequence + 1));
    let entry = AuditEntry {
        sequence,
        time_ms: block_timestamp_ms(),
        action,
        outcome,
        agent,
        on_behalf_of,
        record,
        purpose,
        consent,
        provision_path,
        reason: reason.into(),
        request,
    };
    AUDIT.insert(&(*patient, sequence.to_be_bytes()), &entry);
    sequence
}
