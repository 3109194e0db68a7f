//! Patient consent (DOMAIN.md §1), modelled on HL7 FHIR Consent R4.
//!
//! Records stay off chain with their custodians; the contract indexes them by handle (the
//! patient's pseudonym at the custodian, custodian, author) with no clinical content: security
//! labels and the FHIR resource type only as blinded tags of the relationship, the record's date
//! only as a salted commitment (docs/PRIVACY.md §5.2, §5.4; [`blinded_tag`] computes tags on the
//! host). Events name the relationship's subject handle ([`subject_handle`]), never the
//! patient's address (§5.7). A patient — or a delegate attested by the registry's authority, within the delegation's scope —
//! grants consents: a period, a base decision, and a tree of provisions (permit/deny by actor, the
//! record's custodian and author, action, purpose of use, security label, data class and record,
//! each with exceptions as children; labels and classes as tags, matched by equality, and a data
//! period as a commitment whose one criterion — is the record's date inside it — the custodian
//! attests, the only one not evaluated on chain). `can_access` evaluates them, for a requester whose claimed
//! role is attested: the network default first (deny), then the most specific matching provision
//! across active consents, deny beating permit at equal depth, and an open break-glass session
//! overriding a deny where the organisation's policy allows. `record_access` evaluates and records
//! the decision in the patient's audit trail — denials included — so the accounting of disclosures
//! is a query. Nothing is ever deleted: revocation, expiry and errors are statuses and events.
//!
//! Custodians, organisations and the role every requester claims (a table of HL7 codes, each with
//! what the registry or a delegation must attest) are checked through the registry's typed
//! reference; other contracts use this crate as a library for [`ConsentRegistryRef`] and the types
//! its answers carry ([`AccessDecision`], [`Decision`], [`Action`]).
//!
//! The contract module below holds the messages (the interface); what they share lives in modules
//! in layers, each using only modules listed before it: `tags` (blinded tags and subject
//! handles, computed on the host; re-exported here), `types` (stored records, message and
//! event types, the error and limits; re-exported here), `purpose_of_use` (the v3 PurposeOfUse
//! hierarchy as data), `roles` (the requester role codes and what each must be attested as, as
//! data), `storage` (the key layout), `checks` (authority in the registry, input
//! bounds), `trail` (status changes and audit entries), `delegation` (who may act for a patient)
//! and `decision` (access decisions and break-glass sessions).
#![no_std]

mod checks;
mod decision;
mod delegation;
mod purpose_of_use;
mod roles;
mod storage;
mod tags;
mod trail;
mod types;

pub use consent::*;
pub use purpose_of_use::{PURPOSE_OF_USE_PARENTS, purpose_covers};
pub use roles::{REQUESTER_ROLES, RoleAttestation, role_attestation};
pub use tags::{
    LABEL_TAG_BLOCK, TAG_DOMAIN, TOPIC_DOMAIN, blinded_tag, label_tags, pad_label_tags,
    subject_handle,
};
pub use types::*;

#[salus_sdk::contract(events(
    AccessRecorded,
    ConsentChanged,
    BreakGlass,
    RecordIndexed,
    DelegationChanged
))]
mod consent {
    use registry::Role;
    use salus_sdk::prelude::*;

    use crate::checks::{
        check_code, check_codes, check_period, check_provision, registry_active, registry_authority,
    };
    use crate::decision::{active_consents, collect_denies, collect_permits, decide};
    use crate::delegation::{authorise, delegate_may_end, delegation_in_force, end_delegation_by};
    use crate::purpose_of_use::is_emergency;
    use crate::roles::{RoleAttestation, role_attestation};
    use crate::storage::{
        ACTIVE_BY_PATIENT, AUDIT, CONSENTS, DEFAULT_DECISION, DELEGATIONS, NEXT_CONSENT,
        NEXT_SESSION, OWN_SUBJECTS, POLICIES, RECORDS, REGISTRY, SESSIONS, SESSIONS_BY_PAIR,
        SUBJECTS, UNREVIEWED, active_key, own_subject, subject_at,
    };
    use crate::trail::{audit, audit_request, change_status, set_status};
    use crate::types::*;

    /// The contract.
    pub struct ConsentRegistry;

    impl ConsentRegistry {
        /// Deploys with the participant registry and the network default (deny).
        #[constructor]
        pub fn new(registry: Address, default: Decision) {
            REGISTRY.set(&registry);
            DEFAULT_DECISION.set(&default);
        }

        /// Indexes an off-chain record under its handle `record` (caller: an active provider
        /// organisation, its custodian) for `patient` (the patient's pseudonym at the
        /// custodian), written by `author` (FHIR `author`; provisions can match it and the
        /// custodian). No clinical content: the security labels as blinded tags (padded by the
        /// client to a multiple of 4; any count up to 16 is accepted), the FHIR resource type as
        /// a blinded tag, the date as a salted commitment (PRIVACY.md §5.2). `subject` is the
        /// relationship's subject handle, the topic of the events of this custodian's records of
        /// the patient: filed under (custodian, patient) with the custodian's first record of the
        /// patient, and every later one of that custodian must name the same. Only the custodian's
        /// own records file it, so nobody else — another custodian, a stranger front-running the
        /// registration — can set the handle this relationship's events carry (PRIVACY.md §5.7).
        ///
        /// # Errors
        /// `TooComplex` for more than 16 label tags; `NotACustodian`; `AlreadyIndexed`;
        /// `SubjectMismatch` for a subject other than the one this custodian filed for the
        /// patient; `RegistryUnavailable`.
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn register_record(
            record: Hash,
            patient: Address,
            label_tags: Vec<Hash>,
            class_tag: Hash,
            date_commitment: Hash,
            author: Address,
            subject: Hash,
        ) -> Result<(), ConsentError> {
            if label_tags.len() > MAX_CRITERIA {
                return Err(ConsentError::TooComplex);
            }
            let custodian = caller();
            if !registry_active(&custodian, Role::ProviderOrganisation)? {
                return Err(ConsentError::NotACustodian);
            }
            if RECORDS.contains(&record) {
                return Err(ConsentError::AlreadyIndexed);
            }
            file_subject(&custodian, &patient, subject)?;
            RecordIndexed {
                subject,
                record,
                custodian,
            }
            .emit();
            RECORDS.insert(
                &record,
                &RecordEntry {
                    patient,
                    custodian,
                    author,
                    label_tags,
                    class_tag,
                    date_commitment,
                },
            );
            Ok(())
        }

        /// Files `subject` as the subject handle of `patient` (caller: the patient — the
        /// pseudonym's own key — or a delegate in force): the topic of the events of its
        /// consents and delegations, which name no custodian, from now on (a consent written
        /// before any record of the relationship carries it too). The wallet files it before the
        /// relationship's first consent; filing again replaces it. Records' and accesses' events
        /// carry the handle their custodian filed ([`ConsentRegistry::register_record`]), and a
        /// break-glass at an organisation with no record of the patient carries this one.
        ///
        /// # Errors
        /// `NotAuthorised` for any other caller.
        #[message]
        pub fn set_subject(patient: Address, subject: Hash) -> Result<(), ConsentError> {
            authorise(&patient, &caller(), None)?;
            OWN_SUBJECTS.insert(&patient, &subject);
            Ok(())
        }

        /// Grants a consent for `patient` (caller: the patient or a delegate within scope);
        /// superseding `supersedes` if given. Signed now. Returns the consent id.
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
            grant_signed(
                patient,
                scope,
                category,
                period,
                base,
                provisions,
                source,
                supersedes,
                as_signed_ms(block_timestamp_ms()),
            )
        }

        /// Imports a consent the patient signed on paper or elsewhere at `signed_ms` (signed ms
        /// since the epoch, so before 1970 too; caller: the patient or a delegate within scope),
        /// never in the future; otherwise as [`ConsentRegistry::grant`]. FHIR R4 Consent
        /// `dateTime`.
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn import_signed(
            patient: Address,
            scope: String,
            category: String,
            period: Period,
            base: Decision,
            provisions: Vec<Provision>,
            source: Hash,
            supersedes: Option<u64>,
            signed_ms: i64,
        ) -> Result<u64, ConsentError> {
            if signed_ms > as_signed_ms(block_timestamp_ms()) {
                return Err(ConsentError::SignedInTheFuture);
            }
            grant_signed(
                patient, scope, category, period, base, provisions, source, supersedes, signed_ms,
            )
        }

        /// Records a consent for the patient to decide on (caller: its author — the patient, an
        /// active delegate, or an active provider organisation): `draft` (still being written,
        /// [`ConsentRegistry::submit`] proposes it) or `proposed`. Neither decides access.
        /// Returns the consent id.
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn propose(
            patient: Address,
            scope: String,
            category: String,
            period: Period,
            base: Decision,
            provisions: Vec<Provision>,
            source: Hash,
            draft: bool,
        ) -> Result<u64, ConsentError> {
            check_code(&scope)?;
            check_code(&category)?;
            check_period(&period)?;
            let mut count = 0;
            for provision in &provisions {
                check_provision(provision, 1, &mut count)?;
            }
            let author = caller();
            let on_behalf_of = match authorise(&patient, &author, None) {
                Ok(on_behalf_of) => on_behalf_of,
                Err(_) if registry_active(&author, Role::ProviderOrganisation)? => None,
                Err(error) => return Err(error),
            };
            let status = if draft {
                ConsentStatus::Draft
            } else {
                ConsentStatus::Proposed
            };
            Ok(store_consent(
                Consent {
                    id: 0,
                    version: 1,
                    supersedes: None,
                    patient,
                    grantor: author,
                    status,
                    scope,
                    category,
                    date_ms: as_signed_ms(block_timestamp_ms()),
                    period,
                    source,
                    base,
                    provisions,
                },
                on_behalf_of,
                "consent proposed",
            ))
        }

        /// Proposes a draft (caller: its author): `draft` → `proposed`.
        #[message]
        pub fn submit(id: u64) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            if consent.grantor != caller() {
                return Err(ConsentError::NotAuthorised);
            }
            if !matches!(consent.status, ConsentStatus::Draft) {
                return Err(ConsentError::WrongStatus);
            }
            set_status(&mut consent, ConsentStatus::Proposed);
            Ok(())
        }

        /// Accepts a proposed consent (caller: the patient, or a delegate whose scope covers
        /// what it grants): `proposed` → `active`, signed now.
        #[message]
        pub fn activate(id: u64) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            let on_behalf_of = authorise(
                &consent.patient,
                &caller(),
                Some((&consent.base, &consent.provisions, &consent.scope)),
            )?;
            if !matches!(consent.status, ConsentStatus::Proposed) {
                return Err(ConsentError::WrongStatus);
            }
            consent.date_ms = as_signed_ms(block_timestamp_ms());
            change_status(
                &mut consent,
                ConsentStatus::Active,
                on_behalf_of,
                Hash::default(),
                "consent activated",
            );
            Ok(())
        }

        /// Declines a proposed consent (caller: the patient or an active delegate):
        /// `proposed` → `rejected`.
        #[message]
        pub fn reject(id: u64) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            let on_behalf_of = authorise(&consent.patient, &caller(), None)?;
            if !matches!(consent.status, ConsentStatus::Proposed) {
                return Err(ConsentError::WrongStatus);
            }
            change_status(
                &mut consent,
                ConsentStatus::Rejected,
                on_behalf_of,
                Hash::default(),
                "consent rejected",
            );
            Ok(())
        }

        /// Revokes an active consent (caller: the patient or an active delegate): `active` →
        /// `inactive`. Not retroactive: decisions already recorded stay in the trail.
        #[message]
        pub fn revoke(id: u64) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            let on_behalf_of = authorise(&consent.patient, &caller(), None)?;
            delegate_may_end(&consent, &caller(), on_behalf_of)?;
            if !matches!(consent.status, ConsentStatus::Active) {
                return Err(ConsentError::WrongStatus);
            }
            change_status(
                &mut consent,
                ConsentStatus::Inactive,
                on_behalf_of,
                Hash::default(),
                "consent revoked",
            );
            Ok(())
        }

        /// Marks a consent entered in error (caller: whoever recorded it, its grantor or
        /// author), with the reason's hash: any status but `entered-in-error` itself.
        #[message]
        pub fn mark_entered_in_error(id: u64, reason: Hash) -> Result<(), ConsentError> {
            let mut consent = CONSENTS.get(&id).ok_or(ConsentError::Unknown)?;
            if consent.grantor != caller() {
                return Err(ConsentError::NotAuthorised);
            }
            if matches!(consent.status, ConsentStatus::EnteredInError) {
                return Err(ConsentError::WrongStatus);
            }
            change_status(
                &mut consent,
                ConsentStatus::EnteredInError,
                None,
                reason,
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
                subject: own_subject(&principal),
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
            end_delegation_by(caller(), delegate, caller(), "delegation revoked")
        }

        /// Ends a delegation (caller: the registry's authority, or an active participant with the
        /// registry's `Authority` role — a regulator or a court acting on an order). The
        /// principal ends its own with [`ConsentRegistry::revoke_delegation`].
        #[message]
        pub fn end_delegation(principal: Address, delegate: Address) -> Result<(), ConsentError> {
            let ender = caller();
            if ender != registry_authority()? && !registry_active(&ender, Role::Authority)? {
                return Err(ConsentError::NotAuthorised);
            }
            end_delegation_by(
                principal,
                delegate,
                ender,
                "delegation ended by the authority",
            )
        }

        /// Sets the caller organisation's break-glass policy. A `max_window_ms` of 0 means the
        /// default window, 4 hours.
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
                    max_window_ms: if max_window_ms == 0 {
                        DEFAULT_BREAK_GLASS_WINDOW_MS
                    } else {
                        max_window_ms
                    },
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
            // Emergency purposes only: ETREAT and its specialisations (BTG, ERTREAT).
            let allowed_purpose = is_emergency(&purpose);
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
                    subject: subject_at(&organisation, &patient),
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
            SESSIONS_BY_PAIR.insert(&(actor, patient, (u64::MAX - id).to_be_bytes()), &());
            UNREVIEWED.insert(&(organisation, id.to_be_bytes()), &());
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
                subject: subject_at(&organisation, &patient),
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
                subject: subject_at(&record.organisation, &record.patient),
                session,
                step: "closed".into(),
            }
            .emit();
            Ok(())
        }

        /// Records the review of a session (caller: the policy's reviewer or the organisation,
        /// never the clinician who declared it). A review closes a session still open.
        #[message]
        pub fn review_break_glass(session: u64, justified: bool) -> Result<(), ConsentError> {
            let mut record = SESSIONS.get(&session).ok_or(ConsentError::Unknown)?;
            let policy = POLICIES
                .get(&record.organisation)
                .ok_or(ConsentError::Unknown)?;
            let reviewer = caller();
            if (policy.reviewer != reviewer && record.organisation != reviewer)
                || record.actor == reviewer
                || record.justified.is_some()
            {
                return Err(ConsentError::NotAuthorised);
            }
            record.justified = Some(justified);
            record.closes_ms = record.closes_ms.min(block_timestamp_ms());
            UNREVIEWED.remove(&(record.organisation, session.to_be_bytes()));
            SESSIONS.insert(&session, &record);
            let step = if justified {
                "justified"
            } else {
                "unjustified"
            };
            BreakGlass {
                subject: subject_at(&record.organisation, &record.patient),
                session,
                step: step.into(),
            }
            .emit();
            Ok(())
        }

        /// The decision for `actor`, acting in `role`, doing `action` on `record` for `purpose`
        /// at `at_ms` (default now), with the deciding consent and provision. The role is
        /// attested, never taken on the actor's word: a clinical code needs an active
        /// practitioner or provider organisation in the registry, a payer code an active payer,
        /// `PAT` the record's patient, a personal-representative code (`GUARD`, `HPOWATT`, …) a
        /// delegation in force from the patient in that relationship (`REQUESTER_ROLES`); an
        /// actor without it is denied, with the reason, before any consent is read.
        ///
        /// `period_answers` answer the one criterion not evaluated on chain — whether the
        /// record's date is inside the data period a provision commits to
        /// (`data_period_commitment`) — as the record's custodian, who holds both, computes it:
        /// one [`PeriodAnswer`] per commitment it can open, so that provisions with different
        /// periods each get their own. A provision whose commitment has no answer (or `None`:
        /// no answers at all) matches if it denies and never if it permits.
        ///
        /// # Errors
        /// `UnknownRole` for a code not in `REQUESTER_ROLES`; `TooComplex` for more than 64
        /// answers; `RegistryUnavailable`.
        #[message(view)]
        pub fn can_access(
            actor: Address,
            role: String,
            action: Action,
            record: Hash,
            purpose: String,
            at_ms: Option<u64>,
            period_answers: Option<Vec<PeriodAnswer>>,
        ) -> Result<AccessDecision, ConsentError> {
            decide(
                &actor,
                &role,
                &action,
                &record,
                &purpose,
                at_ms.unwrap_or_else(block_timestamp_ms),
                period_answers.as_deref().unwrap_or_default(),
            )
        }

        /// Decides an access by `agent` in `role` (attested as in
        /// [`ConsentRegistry::can_access`]) and records it, permitted or not, in the patient's
        /// audit trail. Returns the decision; recording never grants more than the consents
        /// permit.
        ///
        /// Who may write into the patient's trail — nobody else:
        /// - the record's custodian (`caller()` is the custodian), recording its users' reads;
        /// - the agent itself (`caller() == agent`);
        /// - a contract acting for the agent who signed the transaction (`caller() != origin()`
        ///   and `origin() == agent`), as the coverage contract does for a payer reading a claim's
        ///   attachments.
        ///
        /// `on_behalf_of` is recorded only when attested: `Some(p)` needs a delegation in force
        /// from `p` to `agent`, and a personal representative's access must name the record's
        /// patient.
        ///
        /// `period_answers` are the custodian's attestations of the record's date against the
        /// provisions' committed data periods (see [`ConsentRegistry::can_access`]): honoured
        /// only when the caller is the record's custodian, taken as none (unknown) otherwise.
        ///
        /// # Errors
        /// `NotAuthorised` for any other caller; `NotADelegate` for an unattested
        /// `on_behalf_of`; `Unknown` for an unindexed record; `UnknownRole`; `TooComplex` for an
        /// over-long code; `RegistryUnavailable`.
        #[message]
        pub fn record_access(
            agent: Address,
            role: String,
            record: Hash,
            action: Action,
            purpose: String,
            on_behalf_of: Option<Address>,
            period_answers: Option<Vec<PeriodAnswer>>,
        ) -> Result<AccessDecision, ConsentError> {
            check_code(&purpose)?;
            check_code(&role)?;
            let entry = RECORDS.get(&record).ok_or(ConsentError::Unknown)?;
            let writer = caller();
            let for_signer = writer != origin() && origin() == agent;
            if writer != entry.custodian && writer != agent && !for_signer {
                return Err(ConsentError::NotAuthorised);
            }
            let period_answers = period_answers
                .filter(|_| writer == entry.custodian)
                .unwrap_or_default();
            decide_and_record(
                &entry,
                agent,
                role,
                record,
                action,
                purpose,
                on_behalf_of,
                None,
                &period_answers,
            )
        }

        /// Records a release by the record's custodian through its gateway (PRIVACY.md §5.6):
        /// exactly [`ConsentRegistry::record_access`] by the custodian with `action = Disclose`
        /// for `requester` in `role`, the audit entry naming `request`, the hash of the
        /// requester's signed request the custodian answers and keeps. The contract decides
        /// again at this block: a consent revoked since the gateway's dry run yields Deny,
        /// recorded like any denial, and the gateway releases nothing. A personal
        /// representative's role (`GUARD`, `HPOWATT`, …) is recorded on behalf of the record's
        /// patient, and needs the delegation in force. `period_answers` are the custodian's
        /// attestations of the record's date (see [`ConsentRegistry::can_access`]).
        ///
        /// # Errors
        /// `NotAuthorised` unless the caller is the record's custodian; `NotADelegate` for a
        /// representative without a delegation in force; `Unknown` for an unindexed record;
        /// `UnknownRole`; `TooComplex` for an over-long code; `RegistryUnavailable`.
        #[message]
        pub fn record_disclosure(
            record: Hash,
            requester: Address,
            role: String,
            purpose: String,
            request: Hash,
            period_answers: Option<Vec<PeriodAnswer>>,
        ) -> Result<AccessDecision, ConsentError> {
            check_code(&purpose)?;
            check_code(&role)?;
            let entry = RECORDS.get(&record).ok_or(ConsentError::Unknown)?;
            if caller() != entry.custodian {
                return Err(ConsentError::NotAuthorised);
            }
            let on_behalf_of = matches!(
                role_attestation(&role),
                Some(RoleAttestation::Representative)
            )
            .then_some(entry.patient);
            decide_and_record(
                &entry,
                requester,
                role,
                record,
                Action::Disclose,
                purpose,
                on_behalf_of,
                Some(request),
                period_answers.as_deref().unwrap_or_default(),
            )
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
        /// the active consents with all that must hold for it (its criteria and its parents') and
        /// the deny provisions nested in it (for the patient or an active delegate).
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
                    // The base permit's exceptions: every deny provision of the consent.
                    let mut exceptions = Vec::new();
                    for (index, provision) in consent.provisions.iter().enumerate() {
                        if matches!(provision.kind, Decision::Deny) {
                            exceptions.push(Vec::from([index as u8]));
                        }
                        collect_denies(provision, &[index as u8], &mut exceptions);
                    }
                    permissions.push(Permission {
                        consent: (consent.id, consent.version),
                        provision_path: Vec::new(),
                        criteria: Vec::new(),
                        exceptions,
                        until_ms: consent.period.end_ms,
                    });
                }
                let (mut path, mut ancestors) = (Vec::new(), Vec::new());
                for (index, provision) in consent.provisions.iter().enumerate() {
                    path.push(index as u8);
                    collect_permits(
                        provision,
                        &consent,
                        at,
                        &mut path,
                        &mut ancestors,
                        &mut permissions,
                    );
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
                .filter(|consent| consent.period.ended_by(now.saturating_add(within_ms)))
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

        /// Every break-glass session of an organisation not yet reviewed — open ones included,
        /// however many (for the organisation or its reviewer).
        #[message(view)]
        pub fn pending_sessions(
            organisation: Address,
        ) -> Result<Vec<(u64, BreakGlassSession)>, ConsentError> {
            let policy = POLICIES.get(&organisation).ok_or(ConsentError::Unknown)?;
            let asker = caller();
            if asker != organisation && asker != policy.reviewer {
                return Err(ConsentError::NotAuthorised);
            }
            let mut sessions = Vec::new();
            let mut cursor: Option<(Address, [u8; 8])> = None;
            loop {
                let (page, more) =
                    UNREVIEWED.page_under(&organisation, cursor.as_ref(), INDEX_PAGE);
                cursor = page.last().map(|(key, ())| *key);
                sessions.extend(page.into_iter().filter_map(|((_, id), ())| {
                    let id = u64::from_be_bytes(id);
                    SESSIONS.get(&id).map(|session| (id, session))
                }));
                if !more || cursor.is_none() {
                    return Ok(sessions);
                }
            }
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

    /// Grants an active consent signed at `signed_ms` (see [`ConsentRegistry::grant`]).
    #[allow(clippy::too_many_arguments)]
    fn grant_signed(
        patient: Address,
        scope: String,
        category: String,
        period: Period,
        base: Decision,
        provisions: Vec<Provision>,
        source: Hash,
        supersedes: Option<u64>,
        signed_ms: i64,
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
            if previous.patient != patient || !matches!(previous.status, ConsentStatus::Active) {
                return Err(ConsentError::WrongStatus);
            }
            delegate_may_end(&previous, &grantor, on_behalf_of)?;
            set_status(&mut previous, ConsentStatus::Inactive);
        }
        Ok(store_consent(
            Consent {
                id: 0,
                version: 1,
                supersedes,
                patient,
                grantor,
                status: ConsentStatus::Active,
                scope,
                category,
                date_ms: signed_ms,
                period,
                source,
                base,
                provisions,
            },
            on_behalf_of,
            "consent granted",
        ))
    }

    /// Stores a new consent under the next id (indexed if active), emits its status and
    /// records its creation in the patient's trail. Returns the id.
    fn store_consent(mut consent: Consent, on_behalf_of: Option<Address>, reason: &str) -> u64 {
        let id = NEXT_CONSENT.get().unwrap_or(0);
        NEXT_CONSENT.set(&(id + 1));
        consent.id = id;
        CONSENTS.insert(&id, &consent);
        if matches!(consent.status, ConsentStatus::Active) {
            ACTIVE_BY_PATIENT.insert(&active_key(&consent.patient, id), &());
        }
        ConsentChanged {
            subject: own_subject(&consent.patient),
            id,
            version: 1,
            status: consent.status.clone(),
        }
        .emit();
        audit(
            &consent.patient,
            caller(),
            AuditAction::C,
            0,
            on_behalf_of,
            Hash::default(),
            String::new(),
            Some((id, 1)),
            Vec::new(),
            reason,
        );
        id
    }

    /// Files `subject` as the subject handle of `patient`'s relationship with `custodian`, or
    /// checks it against the one that custodian filed.
    fn file_subject(
        custodian: &Address,
        patient: &Address,
        subject: Hash,
    ) -> Result<(), ConsentError> {
        let key = (*custodian, *patient);
        match SUBJECTS.get(&key) {
            Some(filed) if filed != subject => Err(ConsentError::SubjectMismatch),
            Some(_) => Ok(()),
            None => {
                SUBJECTS.insert(&key, &subject);
                Ok(())
            }
        }
    }

    /// Decides an access by `agent` to the indexed `record` (`entry`) and records it, permitted
    /// or not, in the patient's trail, naming the gateway `request` if any, with the
    /// custodian's `period_answers` (the shared body of `record_access` and
    /// `record_disclosure`, once the writer is authorised).
    #[allow(clippy::too_many_arguments)]
    fn decide_and_record(
        entry: &RecordEntry,
        agent: Address,
        role: String,
        record: Hash,
        action: Action,
        purpose: String,
        on_behalf_of: Option<Address>,
        request: Option<Hash>,
        period_answers: &[PeriodAnswer],
    ) -> Result<AccessDecision, ConsentError> {
        let now = block_timestamp_ms();
        if let Some(principal) = on_behalf_of
            && delegation_in_force(&principal, &agent, now).is_none()
        {
            return Err(ConsentError::NotADelegate);
        }
        if matches!(
            role_attestation(&role),
            Some(RoleAttestation::Representative)
        ) && on_behalf_of != Some(entry.patient)
        {
            return Err(ConsentError::NotADelegate);
        }
        let decision = decide(
            &agent,
            &role,
            &action,
            &record,
            &purpose,
            now,
            period_answers,
        )?;
        let permitted = matches!(decision.decision, Decision::Permit);
        let audit_action = if decision.break_glass.is_some() {
            AuditAction::E
        } else {
            AuditAction::R
        };
        let sequence = audit_request(
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
            request,
        );
        AccessRecorded {
            subject: subject_at(&entry.custodian, &entry.patient),
            agent,
            record,
            decision: decision.decision.clone(),
            sequence,
        }
        .emit();
        Ok(decision)
    }
}
