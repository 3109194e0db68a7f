//! The consent contract's vocabulary: what it stores, what its messages take and return, what
//! it emits and why it refuses, and its limits — plain data, shared by every module (and
//! re-exported at the crate root, the contract's public types).

use salus_sdk::prelude::*;

/// Deepest provision tree accepted: bounds evaluation fuel and storage.
pub(crate) const MAX_PROVISION_DEPTH: usize = 4;
/// Most provisions in one consent.
pub(crate) const MAX_PROVISIONS: usize = 64;
/// Most entries in one criterion list (actors, purposes, labels, …).
pub(crate) const MAX_CRITERIA: usize = 16;
/// Index entries read per storage page when walking an index to its end (a page size, not a
/// cap: every entry is read).
pub(crate) const INDEX_PAGE: usize = 32;
/// Break-glass window of a policy that sets none (0): 4 hours.
pub(crate) const DEFAULT_BREAK_GLASS_WINDOW_MS: u64 = 4 * 60 * 60 * 1000;
/// Longest code string (v3 codes, FHIR resource types).
pub(crate) const MAX_CODE_BYTES: usize = 32;

/// Permit or deny (FHIR `consent-provision-type`).
#[data]
pub enum Decision {
    /// Allowed.
    Permit,
    /// Refused.
    Deny,
}

/// FHIR `consent-state-codes`.
#[data]
pub enum ConsentStatus {
    /// Being written.
    Draft,
    /// Awaiting the patient.
    Proposed,
    /// In force (within its period).
    Active,
    /// Declined.
    Rejected,
    /// Revoked or superseded.
    Inactive,
    /// Recorded by mistake.
    EnteredInError,
}

/// FHIR `consent-action`.
#[data]
pub enum Action {
    /// Gather.
    Collect,
    /// Read.
    Access,
    /// Use for a purpose.
    Use,
    /// Pass to another party.
    Disclose,
    /// Amend.
    Correct,
}

/// A period in signed ms since the Unix epoch (negative before 1970: a record dated 1965, a
/// consent in force since 1968), end exclusive.
#[data]
pub struct Period {
    /// Start.
    pub start_ms: i64,
    /// End (exclusive).
    pub end_ms: i64,
}

impl Period {
    /// Whether the instant `at_ms` (a block time or a time asked about, ms since the epoch) is
    /// within the period.
    pub fn contains(&self, at_ms: u64) -> bool {
        self.contains_signed(as_signed_ms(at_ms))
    }

    /// Whether the signed instant `at` (ms since the epoch; a record's date may precede 1970)
    /// is within the period: the rule a custodian applies, off chain, to a record's date for
    /// the `period_answers` of a data-period commitment (PRIVACY.md §5.4).
    pub fn contains_signed(&self, at: i64) -> bool {
        self.start_ms <= at && at < self.end_ms
    }

    /// Whether the period has ended by `at_ms`.
    pub fn ended_by(&self, at_ms: u64) -> bool {
        as_signed_ms(at_ms) >= self.end_ms
    }
}

/// `ms` (ms since the epoch, as block times are) as a signed date; saturates at `i64::MAX`,
/// some 292 million years on.
pub fn as_signed_ms(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// A provision: a decision under criteria; empty criteria match anything; children are
/// exceptions evaluated only where the parent matches.
#[data]
pub struct Provision {
    /// Permit or deny.
    pub kind: Decision,
    /// When it applies.
    pub period: Option<Period>,
    /// Who it applies to: the requester (FHIR `provision.actor`, requester roles).
    pub actors: Vec<Address>,
    /// Only records held by one of these custodians (FHIR `provision.actor` with role `CST`
    /// custodian): "all records held by organisation X".
    pub custodians: Vec<Address>,
    /// Only records authored by one of these (FHIR `provision.actor` with role `AUT` author,
    /// `provision.data.meaning` `authoredby`): "not records authored by Y" is a deny naming Y.
    pub authors: Vec<Address>,
    /// Roles it applies to (SecurityRoleType codes the requester acts in, e.g. `PRCP` the
    /// primary information recipient, `PAYOR`; each attested before it matches, see
    /// `REQUESTER_ROLES`).
    pub roles: Vec<String>,
    /// What it applies to.
    pub actions: Vec<Action>,
    /// Purposes of use (v3 ActReason: TREAT, ETREAT, HPAYMT, HRESCH, …).
    pub purposes: Vec<String>,
    /// Security labels (N, R, V; ETH, HIV, PSY, SDV) as blinded tags of the relationship
    /// ([`crate::blinded_tag`]): matches a record carrying any of them.
    pub label_tags: Vec<Hash>,
    /// Data classes (FHIR resource types: Observation, DocumentReference, …) as blinded tags.
    pub class_tags: Vec<Hash>,
    /// Specific records (hashes): FHIR `provision.data` with `meaning` `instance`.
    pub records: Vec<Hash>,
    /// Only records dated within a period, committed to (PRIVACY.md §5.2; the period itself is
    /// sealed to the custodian off chain). Not evaluated on chain: the record's custodian
    /// attests whether the record's date is inside, one [`PeriodAnswer`] per commitment it can
    /// open (`period_answers`); unattested, such a provision matches if it denies and never if
    /// it permits.
    pub data_period_commitment: Option<Hash>,
    /// Exceptions.
    pub children: Vec<Provision>,
}

/// The record's custodian's answer for one data-period commitment
/// ([`Provision::data_period_commitment`]): whether the record's date is inside the period it
/// commits to. The custodian holds the record's date and, sealed to it by the patient, each
/// period with its salt; it answers every commitment it can open, so provisions of one consent
/// with different periods each get their own answer (PRIVACY.md §5.4).
#[data]
pub struct PeriodAnswer {
    /// The provision's `data_period_commitment`.
    pub commitment: Hash,
    /// Whether the record's date is inside that period.
    pub inside: bool,
}

/// A consent (FHIR Consent, versioned).
#[data]
pub struct Consent {
    /// Identifier.
    pub id: u64,
    /// Version (1 at creation, +1 per status change).
    pub version: u32,
    /// The consent this one replaces.
    pub supersedes: Option<u64>,
    /// Whose data.
    pub patient: Address,
    /// Who granted it: the patient or a delegate.
    pub grantor: Address,
    /// Status.
    pub status: ConsentStatus,
    /// `patient-privacy`, `research`, `treatment` or `adr`.
    pub scope: String,
    /// Category code (LOINC 59284-0 patient consent, …).
    pub category: String,
    /// When it was signed (signed ms since the epoch: before 1970 is negative).
    pub date_ms: i64,
    /// When it is in force.
    pub period: Period,
    /// Hash of the signed source document.
    pub source: Hash,
    /// Decision where no provision matches.
    pub base: Decision,
    /// Provisions (the root's children).
    pub provisions: Vec<Provision>,
}

/// An off-chain record, indexed by its handle: no clinical content, only blinded tags and a
/// commitment (PRIVACY.md §5.4).
#[data]
pub struct RecordEntry {
    /// Whose record: the patient's pseudonym at the custodian.
    pub patient: Address,
    /// Who holds it.
    pub custodian: Address,
    /// Who wrote it (a practitioner or organisation), as its custodian declared.
    pub author: Address,
    /// Security labels as blinded tags ([`crate::blinded_tag`]), padded with random tags to a
    /// multiple of 4 by the client.
    pub label_tags: Vec<Hash>,
    /// FHIR resource type as a blinded tag.
    pub class_tag: Hash,
    /// Salted commitment to the record's date (signed ms since the epoch), opened only off
    /// chain.
    pub date_commitment: Hash,
}

/// A delegation (v3 RoleCode GUARD guardian, HPOWATT healthcare power of attorney).
#[data]
pub struct Delegation {
    /// Relationship code.
    pub relationship: String,
    /// Actions the delegate may grant.
    pub actions: Vec<Action>,
    /// Purposes the delegate may grant.
    pub purposes: Vec<String>,
    /// When it is valid.
    pub period: Period,
    /// Hash of the legal document.
    pub evidence: Hash,
    /// The authority that attested it.
    pub attested_by: Address,
    /// False once the principal revokes it.
    pub active: bool,
}

/// An organisation's break-glass policy.
#[data]
pub struct BreakGlassPolicy {
    /// Who may declare an emergency.
    pub group: Vec<Address>,
    /// Longest session (ms).
    pub max_window_ms: u64,
    /// Who reviews sessions.
    pub reviewer: Address,
    /// Whether a session overrides a patient's explicit deny.
    pub overrides_deny: bool,
}

/// A break-glass session.
#[data]
pub struct BreakGlassSession {
    /// The organisation.
    pub organisation: Address,
    /// The clinician.
    pub actor: Address,
    /// The patient.
    pub patient: Address,
    /// ETREAT or BTG.
    pub purpose: String,
    /// Hash of the written justification.
    pub justification: Hash,
    /// Opened at (ms).
    pub opened_ms: u64,
    /// Closes at (ms), or earlier if closed.
    pub closes_ms: u64,
    /// Review outcome: justified or not; `None` while queued.
    pub justified: Option<bool>,
}

/// FHIR AuditEvent action.
#[data]
pub enum AuditAction {
    /// Create.
    C,
    /// Read.
    R,
    /// Update.
    U,
    /// Delete.
    D,
    /// Execute (break-glass).
    E,
}

/// One entry of a patient's audit trail (FHIR AuditEvent).
#[data]
pub struct AuditEntry {
    /// Sequence number (contract-wide).
    pub sequence: u64,
    /// When (ms).
    pub time_ms: u64,
    /// What.
    pub action: AuditAction,
    /// 0 success, 4 minor failure (refused), 8 serious failure, 12 major failure.
    pub outcome: u8,
    /// Who acted.
    pub agent: Address,
    /// For whom, when acting as a delegate.
    pub on_behalf_of: Option<Address>,
    /// The record (zero for consent changes).
    pub record: Hash,
    /// Purpose of use.
    pub purpose: String,
    /// The deciding consent and version.
    pub consent: Option<(u64, u32)>,
    /// Path of the deciding provision (child indexes from the root).
    pub provision_path: Vec<u8>,
    /// Why (`permitted`, `expired`, `denied by provision`, DICOM 110127 for an override, …).
    pub reason: String,
    /// For a release by a record gateway (`record_disclosure`): the hash of the requester's
    /// signed request the custodian answered and keeps (PRIVACY.md §5.6); `None` otherwise.
    pub request: Option<Hash>,
}

/// The outcome of an access decision.
#[data]
pub struct AccessDecision {
    /// Permit or deny.
    pub decision: Decision,
    /// The deciding consent and version, if any.
    pub consent: Option<(u64, u32)>,
    /// Path of the deciding provision.
    pub provision_path: Vec<u8>,
    /// Why.
    pub reason: String,
    /// The break-glass session that permitted it, if any.
    pub break_glass: Option<u64>,
}

/// An access was decided and recorded.
#[event]
pub struct AccessRecorded {
    /// The relationship's subject handle (so a patient can follow every access to their data
    /// without the pseudonym appearing in event filters: PRIVACY.md §5.7).
    #[topic]
    pub subject: Hash,
    /// Who asked.
    #[topic]
    pub agent: Address,
    /// The record.
    pub record: Hash,
    /// The decision.
    pub decision: Decision,
    /// Audit sequence number.
    pub sequence: u64,
}

/// A consent was created or changed status.
#[event]
pub struct ConsentChanged {
    /// The relationship's subject handle.
    #[topic]
    pub subject: Hash,
    /// The consent.
    pub id: u64,
    /// Its version.
    pub version: u32,
    /// Its status.
    pub status: ConsentStatus,
}

/// A break-glass session was opened, closed or reviewed (the patient is notified).
#[event]
pub struct BreakGlass {
    /// The relationship's subject handle.
    #[topic]
    pub subject: Hash,
    /// The session.
    pub session: u64,
    /// `declared`, `refused`, `closed`, `justified`, `unjustified`.
    pub step: String,
}

/// A record was indexed.
#[event]
pub struct RecordIndexed {
    /// The relationship's subject handle.
    #[topic]
    pub subject: Hash,
    /// The record.
    pub record: Hash,
    /// Its custodian.
    pub custodian: Address,
}

/// A delegation was attested or revoked.
#[event]
pub struct DelegationChanged {
    /// The principal's subject handle.
    #[topic]
    pub subject: Hash,
    /// The delegate.
    #[topic]
    pub delegate: Address,
    /// Relationship code.
    pub relationship: String,
    /// Whether it is now active.
    pub active: bool,
}

/// The criteria of one provision, as `who_can_see` lists them (an empty list: any).
#[data]
pub struct Criteria {
    /// When it applies.
    pub period: Option<Period>,
    /// Requesters.
    pub actors: Vec<Address>,
    /// Custodians of the record (FHIR actor `CST`).
    pub custodians: Vec<Address>,
    /// Authors of the record (FHIR actor `AUT`).
    pub authors: Vec<Address>,
    /// Roles the requester acts in.
    pub roles: Vec<String>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Purposes of use (and their specialisations).
    pub purposes: Vec<String>,
    /// Security labels (blinded tags).
    pub label_tags: Vec<Hash>,
    /// Data classes (blinded tags).
    pub class_tags: Vec<Hash>,
    /// Specific records.
    pub records: Vec<Hash>,
    /// Records dated within the committed period (attested by the custodian).
    pub data_period_commitment: Option<Hash>,
}

impl Criteria {
    /// The criteria `provision` itself states (not its children's).
    pub fn of(provision: &Provision) -> Criteria {
        Criteria {
            period: provision.period.clone(),
            actors: provision.actors.clone(),
            custodians: provision.custodians.clone(),
            authors: provision.authors.clone(),
            roles: provision.roles.clone(),
            actions: provision.actions.clone(),
            purposes: provision.purposes.clone(),
            label_tags: provision.label_tags.clone(),
            class_tags: provision.class_tags.clone(),
            records: provision.records.clone(),
            data_period_commitment: provision.data_period_commitment,
        }
    }
}

/// Who may see a patient's data: one permitting provision of an active consent, with everything
/// that must hold for it to decide — its own criteria and those of every provision it is nested
/// in (a nested provision is only reached when its parents match) — and the deny provisions
/// nested inside it, the exceptions to it.
#[data]
pub struct Permission {
    /// The consent and version.
    pub consent: (u64, u32),
    /// Path of the permitting provision (empty: the consent's base decision).
    pub provision_path: Vec<u8>,
    /// The criteria of each provision on the path, outermost first (empty for a base permit):
    /// all must hold.
    pub criteria: Vec<Criteria>,
    /// Paths of the deny provisions nested inside the permitting one: where they match, access
    /// is denied after all.
    pub exceptions: Vec<Vec<u8>>,
    /// The consent's end (signed ms since the epoch).
    pub until_ms: i64,
}

/// Why a message was refused (malformed input or a caller without authority only: denials
/// of access are decisions, recorded, not errors).
#[error]
pub enum ConsentError {
    /// The caller is neither the patient nor an active delegate within scope.
    NotAuthorised,
    /// The delegate's scope does not cover what the consent grants.
    OutsideDelegatedScope,
    /// The custodian is not an active provider organisation in the registry.
    NotACustodian,
    /// Unknown record, consent, delegation or session.
    Unknown,
    /// The record is already indexed.
    AlreadyIndexed,
    /// Too deep, too many provisions, or a list or code too long.
    TooComplex,
    /// A period ends before it starts.
    InvalidPeriod,
    /// The consent or session is not in a state that allows this.
    WrongStatus,
    /// The registry could not be asked.
    RegistryUnavailable,
    /// An imported consent's signing date is after the block time.
    SignedInTheFuture,
    /// A requester's role code is not one the contract knows (`REQUESTER_ROLES`): it cannot be
    /// attested, so it is refused rather than matched.
    UnknownRole,
    /// An access is said to be on behalf of someone who has no active delegation to the agent
    /// (or a personal representative's access does not name the record's patient).
    NotADelegate,
    /// A record names a subject handle other than the one its custodian filed for its patient.
    SubjectMismatch,
}
