//! Patient consent (DOMAIN.md §1), modelled on HL7 FHIR Consent R4.
//!
//! Records stay off chain with their custodians; the contract indexes them by hash (patient,
//! custodian, security labels, FHIR resource type). A patient — or a delegate attested by the
//! registry's authority, within the delegation's scope — grants consents: a period, a base
//! decision, and a tree of provisions (permit/deny by actor, action, purpose of use, security
//! label, data class and record, each with exceptions as children). `can_access` evaluates them:
//! the network default first (deny), then the most specific matching provision across active
//! consents, deny beating permit at equal depth, and an open break-glass session overriding a
//! deny where the organisation's policy allows. `record_access` evaluates and records the
//! decision in the patient's audit trail — denials included — so the accounting of disclosures is
//! a query. Nothing is ever deleted: revocation, expiry and errors are statuses and events.
//!
//! Custodians and organisations are checked in the registry through its typed reference; other
//! contracts use this crate as a library for [`ConsentRegistryRef`] and the types its answers
//! carry ([`AccessDecision`], [`Decision`], [`Action`]).
#![no_std]

pub use consent::*;

#[salus_sdk::contract]
mod consent {
    use registry::{RegistryRef, Role};
    use salus_sdk::prelude::*;

    const REGISTRY: Value<Address> = Value::new(b"registry");
    const DEFAULT_DECISION: Value<Decision> = Value::new(b"default");
    const NEXT_CONSENT: Value<u64> = Value::new(b"next_consent");
    const NEXT_AUDIT: Value<u64> = Value::new(b"next_audit");
    const NEXT_SESSION: Value<u64> = Value::new(b"next_session");
    const RECORDS: Map<Hash, RecordEntry> = Map::new(b"r/");
    const CONSENTS: Map<u64, Consent> = Map::new(b"c/");
    /// (patient, consent id big-endian) → (): the consents of each patient, in creation order.
    const BY_PATIENT: Map<(Address, [u8; 8]), ()> = Map::new(b"pc/");
    /// (principal, delegate) → delegation.
    const DELEGATIONS: Map<(Address, Address), Delegation> = Map::new(b"d/");
    const POLICIES: Map<Address, BreakGlassPolicy> = Map::new(b"bp/");
    const SESSIONS: Map<u64, BreakGlassSession> = Map::new(b"bs/");
    /// (patient, sequence big-endian) → audit entry: the patient's trail in order.
    const AUDIT: Map<(Address, [u8; 8]), AuditEntry> = Map::new(b"a/");

    /// Deepest provision tree accepted: bounds evaluation fuel and storage.
    const MAX_PROVISION_DEPTH: usize = 4;
    /// Most provisions in one consent.
    const MAX_PROVISIONS: usize = 64;
    /// Most entries in one criterion list (actors, purposes, labels, …).
    const MAX_CRITERIA: usize = 16;
    /// Most consents evaluated for one patient per decision (older ones beyond are superseded
    /// or inactive in practice; the bound keeps `can_access` fuel predictable).
    const MAX_CONSENTS_EVALUATED: usize = 32;
    /// Longest code string (v3 codes, FHIR resource types).
    const MAX_CODE_BYTES: usize = 32;
    /// Most recent sessions `pending_sessions` looks at.
    const MAX_SESSIONS_LISTED: u64 = 256;

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

    /// A validity period in ms since the epoch, end exclusive.
    #[data]
    pub struct Period {
        /// Start.
        pub start_ms: u64,
        /// End (exclusive).
        pub end_ms: u64,
    }

    /// A provision: a decision under criteria; empty criteria match anything; children are
    /// exceptions evaluated only where the parent matches.
    #[data]
    pub struct Provision {
        /// Permit or deny.
        pub kind: Decision,
        /// When it applies.
        pub period: Option<Period>,
        /// Who it applies to.
        pub actors: Vec<Address>,
        /// Roles it applies to (SecurityRoleType / v3 RoleCode codes the requester acts in, e.g.
        /// `PRCP` primary care provider).
        pub roles: Vec<String>,
        /// What it applies to.
        pub actions: Vec<Action>,
        /// Purposes of use (v3 ActReason: TREAT, ETREAT, HPAYMT, HRESCH, …).
        pub purposes: Vec<String>,
        /// Security labels (N, R, V; ETH, HIV, PSY, SDV).
        pub labels: Vec<String>,
        /// Data classes (FHIR resource types: Observation, DocumentReference, …).
        pub classes: Vec<String>,
        /// Specific records (hashes).
        pub records: Vec<Hash>,
        /// Only records dated within this period.
        pub data_period: Option<Period>,
        /// Exceptions.
        pub children: Vec<Provision>,
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
        /// When it was signed (ms).
        pub date_ms: u64,
        /// When it is in force.
        pub period: Period,
        /// Hash of the signed source document.
        pub source: Hash,
        /// Decision where no provision matches.
        pub base: Decision,
        /// Provisions (the root's children).
        pub provisions: Vec<Provision>,
    }

    /// An off-chain record, indexed by hash.
    #[data]
    pub struct RecordEntry {
        /// Whose record.
        pub patient: Address,
        /// Who holds it.
        pub custodian: Address,
        /// Security labels.
        pub labels: Vec<String>,
        /// FHIR resource type.
        pub class: String,
        /// When it was made (ms).
        pub date_ms: u64,
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
        /// The patient (so a patient can follow every access to their data).
        #[topic]
        pub patient: Address,
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
        /// The patient.
        #[topic]
        pub patient: Address,
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
        /// The patient.
        #[topic]
        pub patient: Address,
        /// The session.
        pub session: u64,
        /// `declared`, `refused`, `closed`, `justified`, `unjustified`.
        pub step: String,
    }

    /// A record was indexed.
    #[event]
    pub struct RecordIndexed {
        /// Whose record.
        #[topic]
        pub patient: Address,
        /// The record.
        pub record: Hash,
        /// Its custodian.
        pub custodian: Address,
    }

    /// A delegation was attested or revoked.
    #[event]
    pub struct DelegationChanged {
        /// The principal (the patient).
        #[topic]
        pub patient: Address,
        /// The delegate.
        #[topic]
        pub delegate: Address,
        /// Relationship code.
        pub relationship: String,
        /// Whether it is now active.
        pub active: bool,
    }

    /// Who may see a patient's data: one permitting provision of an active consent.
    #[data]
    pub struct Permission {
        /// The consent and version.
        pub consent: (u64, u32),
        /// Path of the permitting provision (empty: the consent's base decision).
        pub provision_path: Vec<u8>,
        /// Actors (empty: anyone matching the rest).
        pub actors: Vec<Address>,
        /// Roles (empty: any).
        pub roles: Vec<String>,
        /// Purposes (empty: any).
        pub purposes: Vec<String>,
        /// The consent's end (ms).
        pub until_ms: u64,
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
    }

    /// The contract.
    pub struct ConsentRegistry;

    impl ConsentRegistry {
        /// Deploys with the participant registry and the network default (deny).
        #[constructor]
        pub fn new(registry: Address, default: Decision) {
            REGISTRY.set(&registry);
            DEFAULT_DECISION.set(&default);
        }

        /// Indexes an off-chain record (caller: an active provider organisation, its custodian).
        #[message]
        pub fn register_record(
            record: Hash,
            patient: Address,
            labels: Vec<String>,
            class: String,
            date_ms: u64,
        ) -> Result<(), ConsentError> {
            check_codes(&labels)?;
            check_code(&class)?;
            let custodian = caller();
            if !registry_active(&custodian, Role::ProviderOrganisation)? {
                return Err(ConsentError::NotACustodian);
            }
            if RECORDS.contains(&record) {
                return Err(ConsentError::AlreadyIndexed);
            }
            RecordIndexed {
                patient,
                record,
                custodian,
            }
            .emit();
            RECORDS.insert(
                &record,
                &RecordEntry {
                    patient,
                    custodian,
                    labels,
                    class,
                    date_ms,
                },
            );
            Ok(())
        }

        /// Grants a consent for `patient` (caller: the patient or a delegate within scope);
        /// superseding `supersedes` if given. Returns the consent id.
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn grant(
            patient: Address,
            scope: String,
            category: String,
            period: Period,
            base: Decision,
            provisions: Vec<Provision>,
            source: Hash,
            supersedes: Option<u64>,
        ) -> Result<u64, ConsentError> {
            check_code(&scope)?;
            check_code(&category)?;
            check_period(&period)?;
            let mut count = 0;
            for provision in &provisions {
                check_provision(provision, 1, &mut count)?;
            }
            let grantor = caller();
            let on_behalf_of = authorise(&patient, &grantor, Some((&base, &provisions, &scope)))?;
            if let Some(old) = supersedes {
                let mut previous = CONSENTS.get(&old).ok_or(ConsentError::Unknown)?;
                if previous.patient != patient || !matches!(previous.status, ConsentStatus::Active)
                {
                    return Err(ConsentError::WrongStatus);
                }
                set_status(&mut previous, ConsentStatus::Inactive);
            }
            let id = NEXT_CONSENT.get().unwrap_or(0);
            NEXT_CONSENT.set(&(id + 1));
            let consent = Consent {
                id,
                version: 1,
                supersedes,
                patient,
                grantor,
                status: ConsentStatus::Active,
                scope,
                category,
                date_ms: block_timestamp_ms(),
                period,
                source,
                base,
                provisions,
            };
            CONSENTS.insert(&id, &consent);
            BY_PATIENT.insert(&(patient, id.to_be_bytes()), &());
            ConsentChanged {
                patient,
                id,
                version: 1,
                status: ConsentStatus::Active,
            }
            .emit();
            audit(
                &patient,
                caller(),
                AuditAction::C,
                0,
                on_behalf_of,
                Hash::default(),
                String::new(),
                Some((id, 1)),
                Vec::new(),
                "consent granted",
            );
            Ok(id)
        }

        /// Revokes a consent (caller: the patient or an active delegate). Not retroactive:
        /// decisions already recorded stay in the trail.
        #[message]
        pub fn revoke(id: u64) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            let on_behalf_of = authorise(&consent.patient, &caller(), None)?;
            if !matches!(
                consent.status,
                ConsentStatus::Active | ConsentStatus::Proposed | ConsentStatus::Draft
            ) {
                return Err(ConsentError::WrongStatus);
            }
            set_status(&mut consent, ConsentStatus::Inactive);
            audit(
                &consent.patient,
                caller(),
                AuditAction::U,
                0,
                on_behalf_of,
                Hash::default(),
                String::new(),
                Some((id, consent.version)),
                Vec::new(),
                "consent revoked",
            );
            Ok(())
        }

        /// Marks a consent entered in error (caller: its grantor), with the reason's hash.
        #[message]
        pub fn mark_entered_in_error(id: u64, reason: Hash) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            if consent.grantor != caller() {
                return Err(ConsentError::NotAuthorised);
            }
            set_status(&mut consent, ConsentStatus::EnteredInError);
            audit(
                &consent.patient,
                caller(),
                AuditAction::U,
                0,
                None,
                reason,
                String::new(),
                Some((id, consent.version)),
                Vec::new(),
                "entered in error",
            );
            Ok(())
        }

        /// Attests a delegation (caller: the registry's authority).
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn attest_delegation(
            principal: Address,
            delegate: Address,
            relationship: String,
            actions: Vec<Action>,
            purposes: Vec<String>,
            period: Period,
            evidence: Hash,
        ) -> Result<(), ConsentError> {
            check_code(&relationship)?;
            check_codes(&purposes)?;
            check_period(&period)?;
            let authority = registry_authority()?;
            if caller() != authority {
                return Err(ConsentError::NotAuthorised);
            }
            let delegation = Delegation {
                relationship,
                actions,
                purposes,
                period,
                evidence,
                attested_by: authority,
                active: true,
            };
            DelegationChanged {
                patient: principal,
                delegate,
                relationship: delegation.relationship.clone(),
                active: true,
            }
            .emit();
            DELEGATIONS.insert(&(principal, delegate), &delegation);
            Ok(())
        }

        /// Revokes a delegation (caller: its principal).
        #[message]
        pub fn revoke_delegation(delegate: Address) -> Result<(), ConsentError> {
            let principal = caller();
            let mut delegation = DELEGATIONS
                .get(&(principal, delegate))
                .ok_or(ConsentError::Unknown)?;
            delegation.active = false;
            DELEGATIONS.insert(&(principal, delegate), &delegation);
            DelegationChanged {
                patient: principal,
                delegate,
                relationship: delegation.relationship.clone(),
                active: false,
            }
            .emit();
            audit(
                &principal,
                caller(),
                AuditAction::U,
                0,
                None,
                Hash::default(),
                String::new(),
                None,
                Vec::new(),
                "delegation revoked",
            );
            Ok(())
        }

        /// Sets the caller organisation's break-glass policy.
        #[message]
        pub fn set_break_glass_policy(
            group: Vec<Address>,
            max_window_ms: u64,
            reviewer: Address,
            overrides_deny: bool,
        ) -> Result<(), ConsentError> {
            if group.len() > MAX_CRITERIA * 4 {
                return Err(ConsentError::TooComplex);
            }
            let organisation = caller();
            if !registry_active(&organisation, Role::ProviderOrganisation)? {
                return Err(ConsentError::NotACustodian);
            }
            POLICIES.insert(
                &organisation,
                &BreakGlassPolicy {
                    group,
                    max_window_ms,
                    reviewer,
                    overrides_deny,
                },
            );
            Ok(())
        }

        /// Declares an emergency for `patient` at `organisation`. A caller outside the
        /// organisation's break-glass group is refused — and the refusal is recorded as a
        /// security alert (DICOM 110113) in the patient's trail. Returns the session id.
        #[message]
        pub fn declare_break_glass(
            organisation: Address,
            patient: Address,
            purpose: String,
            justification: Hash,
            window_ms: u64,
        ) -> Result<Option<u64>, ConsentError> {
            check_code(&purpose)?;
            let actor = caller();
            let policy = POLICIES.get(&organisation).ok_or(ConsentError::Unknown)?;
            let allowed_purpose = purpose == "ETREAT" || purpose == "BTG";
            if !policy.group.contains(&actor) || !allowed_purpose {
                audit(
                    &patient,
                    caller(),
                    AuditAction::E,
                    8,
                    None,
                    Hash::default(),
                    purpose,
                    None,
                    Vec::new(),
                    "110113 security alert: break-glass refused",
                );
                BreakGlass {
                    patient,
                    session: u64::MAX,
                    step: "refused".into(),
                }
                .emit();
                return Ok(None);
            }
            let id = NEXT_SESSION.get().unwrap_or(0);
            NEXT_SESSION.set(&(id + 1));
            let now = block_timestamp_ms();
            let session = BreakGlassSession {
                organisation,
                actor,
                patient,
                purpose: purpose.clone(),
                justification,
                opened_ms: now,
                closes_ms: now.saturating_add(window_ms.min(policy.max_window_ms)),
                justified: None,
            };
            SESSIONS.insert(&id, &session);
            audit(
                &patient,
                caller(),
                AuditAction::E,
                0,
                None,
                Hash::default(),
                purpose,
                None,
                Vec::new(),
                "110127 emergency override started",
            );
            BreakGlass {
                patient,
                session: id,
                step: "declared".into(),
            }
            .emit();
            Ok(Some(id))
        }

        /// Closes a session early (caller: its actor).
        #[message]
        pub fn close_break_glass(session: u64) -> Result<(), ConsentError> {
            let mut record = SESSIONS.get(&session).ok_or(ConsentError::Unknown)?;
            if record.actor != caller() {
                return Err(ConsentError::NotAuthorised);
            }
            record.closes_ms = record.closes_ms.min(block_timestamp_ms());
            SESSIONS.insert(&session, &record);
            BreakGlass {
                patient: record.patient,
                session,
                step: "closed".into(),
            }
            .emit();
            Ok(())
        }

        /// Records the review of a session (caller: the policy's reviewer).
        #[message]
        pub fn review_break_glass(session: u64, justified: bool) -> Result<(), ConsentError> {
            let mut record = SESSIONS.get(&session).ok_or(ConsentError::Unknown)?;
            let policy = POLICIES
                .get(&record.organisation)
                .ok_or(ConsentError::Unknown)?;
            if policy.reviewer != caller() || record.justified.is_some() {
                return Err(ConsentError::NotAuthorised);
            }
            record.justified = Some(justified);
            SESSIONS.insert(&session, &record);
            let step = if justified {
                "justified"
            } else {
                "unjustified"
            };
            BreakGlass {
                patient: record.patient,
                session,
                step: step.into(),
            }
            .emit();
            Ok(())
        }

        /// The decision for `actor`, acting in `role`, doing `action` on `record` for `purpose`
        /// at `at_ms` (default now), with the deciding consent and provision.
        #[message(view)]
        pub fn can_access(
            actor: Address,
            role: String,
            action: Action,
            record: Hash,
            purpose: String,
            at_ms: Option<u64>,
        ) -> AccessDecision {
            decide(
                &actor,
                &role,
                &action,
                &record,
                &purpose,
                at_ms.unwrap_or_else(block_timestamp_ms),
            )
        }

        /// Decides an access by `agent` and records it (permitted or not) in the patient's audit
        /// trail. Returns the decision. Callers: the record's custodian, or the agent itself
        /// recording its own request — directly or through a contract it called (the signer of
        /// the transaction is the agent), as the coverage contract does for payers reading
        /// attachments. Recording never grants more than the consents permit.
        #[message]
        pub fn record_access(
            agent: Address,
            role: String,
            record: Hash,
            action: Action,
            purpose: String,
            on_behalf_of: Option<Address>,
        ) -> Result<AccessDecision, ConsentError> {
            check_code(&purpose)?;
            check_code(&role)?;
            let entry = RECORDS.get(&record).ok_or(ConsentError::Unknown)?;
            if caller() != entry.custodian && origin() != agent {
                return Err(ConsentError::NotAuthorised);
            }
            let decision = decide(
                &agent,
                &role,
                &action,
                &record,
                &purpose,
                block_timestamp_ms(),
            );
            let permitted = matches!(decision.decision, Decision::Permit);
            let audit_action = if decision.break_glass.is_some() {
                AuditAction::E
            } else {
                AuditAction::R
            };
            let sequence = audit(
                &entry.patient,
                agent,
                audit_action,
                if permitted { 0 } else { 4 },
                on_behalf_of,
                record,
                purpose,
                decision.consent,
                decision.provision_path.clone(),
                &decision.reason,
            );
            AccessRecorded {
                patient: entry.patient,
                agent,
                record,
                decision: decision.decision.clone(),
                sequence,
            }
            .emit();
            Ok(decision)
        }

        /// A patient's audit trail — the accounting of disclosures — between `from_ms` and
        /// `to_ms` (inclusive), a page at a time after sequence `after`, for the patient or an
        /// active delegate only. Salus accounts for every disclosure, treatment and payment
        /// included (stricter than HIPAA §164.528).
        #[message(view)]
        pub fn accounting(
            patient: Address,
            from_ms: u64,
            to_ms: u64,
            after: Option<u64>,
            limit: u32,
        ) -> Result<Vec<AuditEntry>, ConsentError> {
            authorise(&patient, &caller(), None)?;
            let limit = limit.min(100) as usize;
            let mut cursor = after.map(|sequence| (patient, sequence.to_be_bytes()));
            let mut found = Vec::new();
            loop {
                let (page, more) = AUDIT.page_under(&patient, cursor.as_ref(), limit);
                let last = page.last().map(|(key, _)| *key);
                for (_, entry) in page {
                    if entry.time_ms >= from_ms && entry.time_ms <= to_ms && found.len() < limit {
                        found.push(entry);
                    }
                }
                match last {
                    Some(key) if more && found.len() < limit => cursor = Some(key),
                    _ => return Ok(found),
                }
            }
        }

        /// Who may see the patient's data at `at_ms` (default now): every permitting provision of
        /// the active consents (for the patient or an active delegate).
        #[message(view)]
        pub fn who_can_see(
            patient: Address,
            at_ms: Option<u64>,
        ) -> Result<Vec<Permission>, ConsentError> {
            authorise(&patient, &caller(), None)?;
            let at = at_ms.unwrap_or_else(block_timestamp_ms);
            let mut permissions = Vec::new();
            for consent in active_consents(&patient, at) {
                if matches!(consent.base, Decision::Permit) {
                    permissions.push(Permission {
                        consent: (consent.id, consent.version),
                        provision_path: Vec::new(),
                        actors: Vec::new(),
                        roles: Vec::new(),
                        purposes: Vec::new(),
                        until_ms: consent.period.end_ms,
                    });
                }
                let mut path = Vec::new();
                for (index, provision) in consent.provisions.iter().enumerate() {
                    path.push(index as u8);
                    collect_permits(provision, &consent, at, &mut path, &mut permissions);
                    path.pop();
                }
            }
            Ok(permissions)
        }

        /// Active consents of the patient ending within `within_ms` from now.
        #[message(view)]
        pub fn expiring(patient: Address, within_ms: u64) -> Result<Vec<Consent>, ConsentError> {
            authorise(&patient, &caller(), None)?;
            let now = block_timestamp_ms();
            Ok(active_consents(&patient, now)
                .into_iter()
                .filter(|consent| consent.period.end_ms <= now.saturating_add(within_ms))
                .collect())
        }

        /// The patient's delegations, active or revoked (for the patient or an active delegate).
        #[message(view)]
        pub fn delegates(patient: Address) -> Result<Vec<(Address, Delegation)>, ConsentError> {
            authorise(&patient, &caller(), None)?;
            let (entries, _) = DELEGATIONS.page_under(&patient, None, MAX_CRITERIA * 4);
            Ok(entries
                .into_iter()
                .map(|((_, delegate), delegation)| (delegate, delegation))
                .collect())
        }

        /// An organisation's recent break-glass sessions that are still open or not yet
        /// reviewed (for the organisation or its reviewer).
        #[message(view)]
        pub fn pending_sessions(
            organisation: Address,
        ) -> Result<Vec<(u64, BreakGlassSession)>, ConsentError> {
            let policy = POLICIES.get(&organisation).ok_or(ConsentError::Unknown)?;
            let asker = caller();
            if asker != organisation && asker != policy.reviewer {
                return Err(ConsentError::NotAuthorised);
            }
            let now = block_timestamp_ms();
            let count = NEXT_SESSION.get().unwrap_or(0);
            Ok((count.saturating_sub(MAX_SESSIONS_LISTED)..count)
                .filter_map(|id| SESSIONS.get(&id).map(|session| (id, session)))
                .filter(|(_, session)| {
                    session.organisation == organisation
                        && (session.justified.is_none() || session.closes_ms > now)
                })
                .collect())
        }

        /// A consent's id and current version, if it exists.
        #[message(view)]
        pub fn consent_version(id: u64) -> Option<(u64, u32)> {
            CONSENTS
                .get(&id)
                .map(|consent| (consent.id, consent.version))
        }

        /// A consent.
        #[message(view)]
        pub fn consent(id: u64) -> Option<Consent> {
            CONSENTS.get(&id)
        }

        /// A break-glass session.
        #[message(view)]
        pub fn session(id: u64) -> Option<BreakGlassSession> {
            SESSIONS.get(&id)
        }
    }

    /// The patient's active consents in force at `at`.
    fn active_consents(patient: &Address, at: u64) -> Vec<Consent> {
        let (ids, _) = BY_PATIENT.page_under(patient, None, MAX_CONSENTS_EVALUATED);
        ids.into_iter()
            .filter_map(|((_, id), ())| CONSENTS.get(&u64::from_be_bytes(id)))
            .filter(|consent| {
                matches!(consent.status, ConsentStatus::Active)
                    && consent.period.start_ms <= at
                    && at < consent.period.end_ms
            })
            .collect()
    }

    fn collect_permits(
        provision: &Provision,
        consent: &Consent,
        at: u64,
        path: &mut Vec<u8>,
        out: &mut Vec<Permission>,
    ) {
        if provision
            .period
            .as_ref()
            .is_some_and(|period| at < period.start_ms || at >= period.end_ms)
        {
            return;
        }
        if matches!(provision.kind, Decision::Permit) {
            out.push(Permission {
                consent: (consent.id, consent.version),
                provision_path: path.clone(),
                actors: provision.actors.clone(),
                roles: provision.roles.clone(),
                purposes: provision.purposes.clone(),
                until_ms: consent.period.end_ms,
            });
        }
        for (index, child) in provision.children.iter().enumerate() {
            path.push(index as u8);
            collect_permits(child, consent, at, path, out);
            path.pop();
        }
    }

    fn set_status(consent: &mut Consent, status: ConsentStatus) {
        consent.status = status.clone();
        consent.version += 1;
        CONSENTS.insert(&consent.id, consent);
        ConsentChanged {
            patient: consent.patient,
            id: consent.id,
            version: consent.version,
            status,
        }
        .emit();
    }

    #[allow(clippy::too_many_arguments)]
    fn audit(
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
        };
        AUDIT.insert(&(*patient, sequence.to_be_bytes()), &entry);
        sequence
    }

    /// Checks that `actor` may act for `patient`: the patient, or a delegate with an active
    /// delegation in its period. With a grant, also that the delegate's scope covers it.
    /// Returns the principal when acting as a delegate.
    fn authorise(
        patient: &Address,
        actor: &Address,
        grant: Option<(&Decision, &Vec<Provision>, &String)>,
    ) -> Result<Option<Address>, ConsentError> {
        if actor == patient {
            return Ok(None);
        }
        let delegation = DELEGATIONS
            .get(&(*patient, *actor))
            .ok_or(ConsentError::NotAuthorised)?;
        let now = block_timestamp_ms();
        if !delegation.active || now < delegation.period.start_ms || now >= delegation.period.end_ms
        {
            return Err(ConsentError::NotAuthorised);
        }
        if let Some((base, provisions, scope)) = grant {
            let research_scope = scope == "research";
            if research_scope
                && !delegation
                    .purposes
                    .iter()
                    .any(|purpose| purpose == "HRESCH")
            {
                return Err(ConsentError::OutsideDelegatedScope);
            }
            if matches!(base, Decision::Permit)
                && (delegation.actions.is_empty() || delegation.purposes.is_empty())
            {
                return Err(ConsentError::OutsideDelegatedScope);
            }
            for provision in provisions {
                within_scope(provision, &delegation)?;
            }
        }
        Ok(Some(*patient))
    }

    /// A delegate may grant only permits whose actions and purposes its delegation covers (and
    /// which name them: an empty list would mean "any").
    fn within_scope(provision: &Provision, delegation: &Delegation) -> Result<(), ConsentError> {
        if matches!(provision.kind, Decision::Permit) {
            let actions_ok = !provision.actions.is_empty()
                && provision
                    .actions
                    .iter()
                    .all(|a| delegation.actions.contains(a));
            let purposes_ok = !provision.purposes.is_empty()
                && provision
                    .purposes
                    .iter()
                    .all(|p| delegation.purposes.contains(p));
            if !actions_ok || !purposes_ok {
                return Err(ConsentError::OutsideDelegatedScope);
            }
        }
        for child in &provision.children {
            within_scope(child, delegation)?;
        }
        Ok(())
    }

    fn decide(
        actor: &Address,
        role: &str,
        action: &Action,
        record: &Hash,
        purpose: &str,
        at: u64,
    ) -> AccessDecision {
        let default = DEFAULT_DECISION.get().unwrap_or(Decision::Deny);
        let Some(entry) = RECORDS.get(record) else {
            return AccessDecision {
                decision: Decision::Deny,
                consent: None,
                provision_path: Vec::new(),
                reason: "unknown record".into(),
                break_glass: None,
            };
        };
        let request = Request {
            actor,
            role,
            action,
            record,
            purpose,
            at,
            entry: &entry,
        };
        // The most specific match across the patient's consents, with its consent.
        let mut best: Option<(Match, (u64, u32))> = None;
        let mut expired = false;
        let (ids, _) = BY_PATIENT.page_under(&entry.patient, None, MAX_CONSENTS_EVALUATED);
        for ((_, id_bytes), ()) in ids {
            let Some(consent) = CONSENTS.get(&u64::from_be_bytes(id_bytes)) else {
                continue;
            };
            if !matches!(consent.status, ConsentStatus::Active) {
                continue;
            }
            if at < consent.period.start_ms || at >= consent.period.end_ms {
                expired |= at >= consent.period.end_ms;
                continue;
            }
            let mut candidate = Match {
                depth: 0,
                deny: matches!(consent.base, Decision::Deny),
                path: Vec::new(),
            };
            let mut path = Vec::new();
            for (index, provision) in consent.provisions.iter().enumerate() {
                path.push(index as u8);
                deepest_match(provision, &request, 1, &mut path, &mut candidate);
                path.pop();
            }
            let better = match &best {
                None => true,
                Some((current, _)) => candidate.beats(current),
            };
            if better {
                best = Some((candidate, (consent.id, consent.version)));
            }
        }
        let mut decision = match best {
            Some((Match { depth, deny, path }, consent)) => AccessDecision {
                decision: if deny {
                    Decision::Deny
                } else {
                    Decision::Permit
                },
                consent: Some(consent),
                reason: match (deny, depth) {
                    (false, _) => "permitted".into(),
                    (true, 0) => "denied by the consent's base decision".into(),
                    (true, _) => "denied by provision".into(),
                },
                provision_path: path,
                break_glass: None,
            },
            None => AccessDecision {
                decision: default.clone(),
                consent: None,
                provision_path: Vec::new(),
                reason: if expired {
                    "consent expired".into()
                } else {
                    "no consent on file: network default".into()
                },
                break_glass: None,
            },
        };
        if matches!(decision.decision, Decision::Deny)
            && let Some((session, overrides)) = open_session(actor, &entry.patient, at)
            && (decision.consent.is_none() || overrides)
        {
            decision.decision = Decision::Permit;
            decision.reason = "110127 emergency override".into();
            decision.break_glass = Some(session);
        }
        decision
    }

    /// A matching provision: its depth (0: the consent's base decision), whether it denies, and
    /// its path.
    struct Match {
        depth: usize,
        deny: bool,
        path: Vec<u8>,
    }

    impl Match {
        /// More specific wins; at equal depth, deny beats permit.
        fn beats(&self, other: &Match) -> bool {
            self.depth > other.depth || (self.depth == other.depth && self.deny && !other.deny)
        }
    }

    struct Request<'a> {
        actor: &'a Address,
        role: &'a str,
        action: &'a Action,
        record: &'a Hash,
        purpose: &'a str,
        at: u64,
        entry: &'a RecordEntry,
    }

    fn matches(provision: &Provision, request: &Request<'_>) -> bool {
        provision
            .period
            .as_ref()
            .is_none_or(|period| period.start_ms <= request.at && request.at < period.end_ms)
            && (provision.actors.is_empty() || provision.actors.contains(request.actor))
            && (provision.roles.is_empty()
                || provision.roles.iter().any(|role| role == request.role))
            && provision.data_period.as_ref().is_none_or(|period| {
                period.start_ms <= request.entry.date_ms && request.entry.date_ms < period.end_ms
            })
            && (provision.actions.is_empty() || provision.actions.contains(request.action))
            && (provision.purposes.is_empty()
                || provision.purposes.iter().any(|p| p == request.purpose))
            && (provision.labels.is_empty()
                || provision
                    .labels
                    .iter()
                    .any(|l| request.entry.labels.contains(l)))
            && (provision.classes.is_empty() || provision.classes.contains(&request.entry.class))
            && (provision.records.is_empty() || provision.records.contains(request.record))
    }

    /// Updates `best` with the deepest matching provision under `provision` (deny wins ties).
    fn deepest_match(
        provision: &Provision,
        request: &Request<'_>,
        depth: usize,
        path: &mut Vec<u8>,
        best: &mut Match,
    ) {
        if !matches(provision, request) {
            return;
        }
        let candidate = Match {
            depth,
            deny: matches!(provision.kind, Decision::Deny),
            path: path.clone(),
        };
        if candidate.beats(best) {
            *best = candidate;
        }
        for (index, child) in provision.children.iter().enumerate() {
            path.push(index as u8);
            deepest_match(child, request, depth + 1, path, best);
            path.pop();
        }
    }

    /// An open session for `actor` and `patient` at `at`, and whether its policy overrides a
    /// patient's deny.
    fn open_session(actor: &Address, patient: &Address, at: u64) -> Option<(u64, bool)> {
        let count = NEXT_SESSION.get().unwrap_or(0);
        // Recent sessions only: a session lasts at most its policy's window.
        let first = count.saturating_sub(64);
        (first..count).rev().find_map(|id| {
            let session = SESSIONS.get(&id)?;
            let open = session.actor == *actor
                && session.patient == *patient
                && session.opened_ms <= at
                && at < session.closes_ms;
            open.then(|| {
                (
                    id,
                    POLICIES
                        .get(&session.organisation)
                        .is_some_and(|policy| policy.overrides_deny),
                )
            })
        })
    }

    fn registry() -> Result<RegistryRef, ConsentError> {
        REGISTRY
            .get()
            .map(RegistryRef)
            .ok_or(ConsentError::RegistryUnavailable)
    }

    fn registry_active(participant: &Address, role: Role) -> Result<bool, ConsentError> {
        registry()?
            .is_active(*participant, role, None)
            .map_err(|_| ConsentError::RegistryUnavailable)
    }

    fn registry_authority() -> Result<Address, ConsentError> {
        registry()?
            .authority()
            .map_err(|_| ConsentError::RegistryUnavailable)
    }

    fn check_code(code: &str) -> Result<(), ConsentError> {
        if code.len() > MAX_CODE_BYTES {
            Err(ConsentError::TooComplex)
        } else {
            Ok(())
        }
    }

    fn check_codes(codes: &[String]) -> Result<(), ConsentError> {
        if codes.len() > MAX_CRITERIA {
            return Err(ConsentError::TooComplex);
        }
        codes.iter().try_for_each(|code| check_code(code))
    }

    fn check_period(period: &Period) -> Result<(), ConsentError> {
        if period.end_ms <= period.start_ms {
            Err(ConsentError::InvalidPeriod)
        } else {
            Ok(())
        }
    }

    fn check_provision(
        provision: &Provision,
        depth: usize,
        count: &mut usize,
    ) -> Result<(), ConsentError> {
        *count += 1;
        if depth > MAX_PROVISION_DEPTH || *count > MAX_PROVISIONS {
            return Err(ConsentError::TooComplex);
        }
        if provision.actors.len() > MAX_CRITERIA
            || provision.actions.len() > MAX_CRITERIA
            || provision.records.len() > MAX_CRITERIA
        {
            return Err(ConsentError::TooComplex);
        }
        check_codes(&provision.purposes)?;
        check_codes(&provision.labels)?;
        check_codes(&provision.classes)?;
        if let Some(period) = &provision.period {
            check_period(period)?;
        }
        for child in &provision.children {
            check_provision(child, depth + 1, count)?;
        }
        Ok(())
    }
}
