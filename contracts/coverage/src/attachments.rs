//! A payer's reads of clinical attachments, decided and recorded by the consent contract (so
//! every read is in the patient's accounting of disclosures).

use consent::{AccessDecision, Action, ConsentRegistryRef};
use salus_sdk::prelude::*;

use crate::checks::authorised_reviewer;
use crate::storage::{CONSENT, REQUESTS};
use crate::types::*;

/// Purposes of use under which a payer may read a clinical attachment (v3 ActReason).
pub(crate) const PAYER_PURPOSES: [&str; 2] = ["HPAYMT", "COVAUTH"];
/// The v3 RoleClass code the payer acts in when it asks the consent contract.
pub(crate) const PAYER_ROLE: &str = "PAYOR";

/// The body of [`CoverageContract::access_attachment`](crate::CoverageContract::access_attachment).
pub(crate) fn access_attachment(
    trace: String,
    record: Hash,
    purpose: String,
) -> Result<AccessDecision, CoverageError> {
    let request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    let agent = caller();
    authorised_reviewer(&request.payer)?;
    if !PAYER_PURPOSES.contains(&purpose.as_str()) {
        return Err(CoverageError::WrongPurpose);
    }
    let attached = request
        .attachments
        .iter()
        .any(|attachment| attachment.record == record)
        || request.appeal_grounds == Some(record);
    if !attached {
        return Err(CoverageError::NotAttached);
    }
    let consent = CONSENT.get().ok_or(CoverageError::Unavailable)?;
    let decision = ConsentRegistryRef(consent)
        .record_access(
            agent,
            String::from(PAYER_ROLE),
            record,
            Action::Access,
            purpose,
            None,
            None,
        )
        .map_err(|_| CoverageError::Unavailable)?;
    AttachmentAccess {
        payer: request.payer,
        record,
        trace,
        decision: decision.decision.clone(),
    }
    .emit();
    Ok(decision)
}
