//! Where the consent contract keeps its state: every storage handle, with its key layout.
//! Prefixes are unique across the contract; changing one moves the data it names.

use salus_sdk::prelude::*;

use crate::types::*;

pub(crate) const REGISTRY: Value<Address> = Value::new(b"registry");
pub(crate) const DEFAULT_DECISION: Value<Decision> = Value::new(b"default");
pub(crate) const NEXT_CONSENT: Value<u64> = Value::new(b"next_consent");
pub(crate) const NEXT_AUDIT: Value<u64> = Value::new(b"next_audit");
pub(crate) const NEXT_SESSION: Value<u64> = Value::new(b"next_session");
pub(crate) const RECORDS: Map<Hash, RecordEntry> = Map::new(b"r/");
/// (custodian, patient pseudonym) → the relationship's subject handle (`keccak256(
/// "salus/topic/v1" ‖ blind_r)`), the topic of the events of that custodian's records of the
/// pseudonym: written once, by the custodian's own first record of it (`register_record`), so
/// nobody else — another custodian, a stranger who saw the pending registration — can set or
/// change it (PRIVACY.md §5.7).
pub(crate) const SUBJECTS: Map<(Address, Address), Hash> = Map::new(b"sh/");
/// patient pseudonym → the subject handle the pseudonym itself (or a delegate in force) filed
/// with `set_subject`: the topic of its consents' and delegations' events, which name no
/// custodian.
pub(crate) const OWN_SUBJECTS: Map<Address, Hash> = Map::new(b"so/");
pub(crate) const CONSENTS: Map<u64, Consent> = Map::new(b"c/");
/// (patient, inverted consent id big-endian) → (): each patient's consents whose status is
/// `active`, newest first (expired ones included: expiry follows from the period). A consent
/// leaves the index when it becomes inactive (revoked, superseded) or entered in error, so a
/// decision reads only what can decide it, however many consents the patient has.
pub(crate) const ACTIVE_BY_PATIENT: Map<(Address, [u8; 8]), ()> = Map::new(b"pa/");
/// (principal, delegate) → delegation.
pub(crate) const DELEGATIONS: Map<(Address, Address), Delegation> = Map::new(b"d/");
pub(crate) const POLICIES: Map<Address, BreakGlassPolicy> = Map::new(b"bp/");
pub(crate) const SESSIONS: Map<u64, BreakGlassSession> = Map::new(b"bs/");
/// (patient, sequence big-endian) → audit entry: the patient's trail in order.
pub(crate) const AUDIT: Map<(Address, [u8; 8]), AuditEntry> = Map::new(b"a/");
/// (actor, patient, inverted session id big-endian) → (): every break-glass session of an
/// actor for a patient, newest first.
pub(crate) const SESSIONS_BY_PAIR: Map<(Address, Address, [u8; 8]), ()> = Map::new(b"bsp/");
/// (organisation, session id big-endian) → (): the organisation's sessions not yet
/// reviewed (a review closes a session that is still open, so this is also every open one).
pub(crate) const UNREVIEWED: Map<(Address, [u8; 8]), ()> = Map::new(b"bsu/");

/// Key of a consent in [`ACTIVE_BY_PATIENT`]: the id inverted, so that the newest sorts
/// first.
pub(crate) fn active_key(patient: &Address, id: u64) -> (Address, [u8; 8]) {
    (*patient, (u64::MAX - id).to_be_bytes())
}

/// The subject handle `patient` filed itself ([`OWN_SUBJECTS`]), the topic of its consents'
/// and delegations' events; the zero handle (naming nobody) until it files one.
pub(crate) fn own_subject(patient: &Address) -> Hash {
    OWN_SUBJECTS.get(patient).unwrap_or_default()
}

/// The subject handle of `patient`'s relationship with `custodian`: the one the custodian's
/// records filed ([`SUBJECTS`]), else the one the patient filed itself, else the zero handle.
pub(crate) fn subject_at(custodian: &Address, patient: &Address) -> Hash {
    SUBJECTS
        .get(&(*custodian, *patient))
        .unwrap_or_else(|| own_subject(patient))
}
