//! The consent contract (contracts/consent) through the six scenarios of DOMAIN.md §1, in the
//! real VM, with the registry answering its cross-contract calls.

use std::collections::HashMap;

use consent::{
    AccessDecision, Action, AuditAction, AuditEntry, BreakGlassSession, Consent, ConsentStatus,
    Decision, Delegation, Period, PeriodAnswer, Permission, Provision, as_signed_ms, blinded_tag,
    label_tags, subject_handle,
};
use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::{Address, Hash};
use salus_testkit::{CallResult, TestChain};

/// A period from `start_ms` to `end_ms` (block times, ms since the epoch).
fn period(start_ms: u64, end_ms: u64) -> Period {
    Period {
        start_ms: as_signed_ms(start_ms),
        end_ms: as_signed_ms(end_ms),
    }
}

fn provision(kind: Decision) -> Provision {
    Provision {
        kind,
        period: None,
        actors: vec![],
        roles: vec![],
        actions: vec![],
        purposes: vec![],
        label_tags: vec![],
        class_tags: vec![],
        records: vec![],
        data_period_commitment: None,
        children: vec![],
        custodians: vec![],
        authors: vec![],
    }
}

/// The blinding key of the test patient's relationship with its custodians (a wallet derives
/// one per relationship: PRIVACY.md §5.1; the tests use one fixed key).
const BLINDING: [u8; 32] = [0xb1; 32];

/// The blinded tags of clear codes in the test relationship, as a provision names them.
fn tags(codes: &[&str]) -> Vec<Hash> {
    codes
        .iter()
        .map(|code| blinded_tag(&BLINDING, code))
        .collect()
}

/// The test relationship's subject handle, the topic of the patient's events.
fn subject() -> Hash {
    subject_handle(&BLINDING)
}

/// A salted commitment of `kind` (as `salus_client::seal::commit`: `keccak256("salus/commit/v1"
/// ‖ kind ‖ salt ‖ SCALE(value))`) with a salt derived from `seed` (a wallet draws it at
/// random).
fn commitment(kind: u8, seed: u8, value: &impl Encode) -> Hash {
    salus_primitives::hash::keccak256_concat(&[
        b"salus/commit/v1",
        &[kind],
        &[seed ^ 0x5a; 32],
        &value.encode(),
    ])
}

/// The arguments of `register_record` for a record of the test patient with clear `labels`,
/// `class` and date, as a custodian computes them: tags (padded with deterministic filler
/// here), a date commitment and the subject handle.
fn registration(
    record: Hash,
    patient: Address,
    labels: &[&str],
    class: &str,
    date_ms: i64,
    author: Address,
) -> (Hash, Address, Vec<Hash>, Hash, Hash, Address, Hash) {
    let mut filler = 0u8;
    let label_tags = label_tags(&BLINDING, labels, || {
        filler += 1;
        salus_primitives::hash::keccak256_concat(&[&record.0, &[filler]]).0
    });
    (
        record,
        patient,
        label_tags,
        blinded_tag(&BLINDING, class),
        commitment(1, record.0[0], &date_ms),
        author,
        subject(),
    )
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const HOUR_MS: u64 = 60 * 60 * 1000;

struct World {
    chain: TestChain,
    authority: Address,
    registry: Address,
    consent: Address,
    hospital: Address,
    patient: Address,
    /// The date of each record the tests indexed (the custodian keeps it off chain).
    dates: HashMap<Hash, i64>,
    /// The data periods the patient's consents commit to, with their commitments, as sealed to
    /// the custodian (off chain): the custodian attests a record's date against each.
    data_periods: Vec<(Hash, Period)>,
}

fn world() -> World {
    let mut chain = TestChain::new();
    let authority = chain.account(0);
    let registry = chain
        .deploy(authority, salus_contracts::REGISTRY, "new", &authority)
        .unwrap();
    let consent = chain
        .deploy(
            authority,
            salus_contracts::CONSENT,
            "new",
            &(registry, Decision::Deny),
        )
        .unwrap();
    let hospital = chain.new_account(10u128.pow(20));
    let now = chain.timestamp_ms();
    let registered = chain.call(
        authority,
        registry,
        "register",
        &(
            hospital,
            vec![Role::ProviderOrganisation],
            None::<String>,
            Some("0614141000012".to_string()),
            None::<String>,
            0u64,
            now + 3650 * DAY_MS,
            Hash([1; 32]),
        ),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
    let patient = chain.new_account(10u128.pow(20));
    World {
        chain,
        authority,
        registry,
        consent,
        hospital,
        patient,
        dates: HashMap::new(),
        data_periods: Vec::new(),
    }
}

impl World {
    /// The registry's authority attests `who` in `role` for ten years.
    fn register(&mut self, who: Address, role: Role) {
        let now = self.chain.timestamp_ms();
        let registered = self.chain.call(
            self.authority,
            self.registry,
            "register",
            &(
                who,
                vec![role],
                None::<String>,
                None::<String>,
                None::<String>,
                0u64,
                now + 3650 * DAY_MS,
                Hash([2; 32]),
            ),
        );
        assert!(registered.is_success(), "{:?}", registered.receipt.status);
    }

    /// A new account the registry attests as a practitioner (roles are never taken on the
    /// requester's word).
    fn clinician(&mut self) -> Address {
        let clinician = self.chain.new_account(10u128.pow(18));
        self.register(clinician, Role::Practitioner);
        clinician
    }

    /// A new account the registry attests as a payer.
    fn payer(&mut self) -> Address {
        let payer = self.chain.new_account(10u128.pow(18));
        self.register(payer, Role::Payer);
        payer
    }

    /// The hospital indexes a record of the patient dated 0 with clear `labels` and `class`
    /// (sent as tags: [`registration`]).
    fn record(&mut self, seed: u8, labels: &[&str], class: &str) -> Hash {
        self.record_with(self.hospital, seed, labels, class, 0, self.hospital)
    }

    /// `custodian` indexes a record of the patient (see [`registration`]).
    fn record_with(
        &mut self,
        custodian: Address,
        seed: u8,
        labels: &[&str],
        class: &str,
        date_ms: i64,
        author: Address,
    ) -> Hash {
        let record = Hash([seed; 32]);
        let arguments = registration(record, self.patient, labels, class, date_ms, author);
        let result = self
            .chain
            .call(custodian, self.consent, "register_record", &arguments);
        assert!(result.is_success(), "{:?}", result.receipt.status);
        self.dates.insert(record, date_ms);
        record
    }

    /// The custodian's attestations for `record`: for each data period a consent commits to,
    /// whether the record's date is inside (`None` where no period is on file: nothing to
    /// attest).
    fn period_answers(&self, record: Hash) -> Option<Vec<PeriodAnswer>> {
        if self.data_periods.is_empty() {
            return None;
        }
        let date = *self.dates.get(&record)?;
        Some(
            self.data_periods
                .iter()
                .map(|(commitment, period)| PeriodAnswer {
                    commitment: *commitment,
                    inside: period.start_ms <= date && date < period.end_ms,
                })
                .collect(),
        )
    }

    /// Commits the patient's consent to `period` of record dates: the custodian learns the
    /// period (sealed to it off chain); the provision carries only the commitment (each under
    /// its own salt).
    fn data_period_commitment(&mut self, period: Period) -> Hash {
        let committed = commitment(2, 0x77 ^ self.data_periods.len() as u8, &period);
        self.data_periods.push((committed, period));
        committed
    }

    fn grant(
        &mut self,
        from: Address,
        scope: &str,
        days: u64,
        base: Decision,
        provisions: Vec<Provision>,
    ) -> CallResult {
        let now = self.chain.timestamp_ms();
        let period = period(now, now + days * DAY_MS);
        let arguments = (
            self.patient,
            scope.to_string(),
            "59284-0".to_string(),
            period,
            base,
            provisions,
            Hash([9; 32]),
            None::<u64>,
        );
        self.chain.call(from, self.consent, "grant", &arguments)
    }

    /// The hospital (the records' custodian) records an access by `agent` acting as a
    /// clinician (`PRCP`).
    fn access(&mut self, agent: Address, record: Hash, purpose: &str) -> AccessDecision {
        self.access_as(agent, "PRCP", record, purpose)
    }

    fn access_as(
        &mut self,
        agent: Address,
        role: &str,
        record: Hash,
        purpose: &str,
    ) -> AccessDecision {
        let arguments = (
            agent,
            role.to_string(),
            record,
            Action::Access,
            purpose.to_string(),
            None::<Address>,
            self.period_answers(record),
        );
        let result = self
            .chain
            .call(self.hospital, self.consent, "record_access", &arguments);
        result.decode()
    }

    fn accounting(&self) -> Vec<AuditEntry> {
        self.chain.view(
            self.patient,
            self.consent,
            "accounting",
            &(self.patient, 0u64, u64::MAX, None::<u64>, 100u32),
        )
    }
}

#[test]
fn scenario_1_a_thirty_day_grant_permits_on_day_5_and_expires_by_day_31() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let doctor = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![doctor];
    permit.actions = vec![Action::Access];
    permit.purposes = vec!["TREAT".into()];
    permit.class_tags = tags(&["Observation"]);
    assert!(
        w.grant(
            w.patient,
            "patient-privacy",
            30,
            Decision::Deny,
            vec![permit]
        )
        .is_success()
    );

    w.chain.advance_time(5 * DAY_MS);
    let day5 = w.access(doctor, lab, "TREAT");
    assert_eq!(day5.decision, Decision::Permit);
    assert_eq!(day5.provision_path, vec![0]);
    w.chain.advance_time(26 * DAY_MS);
    let day31 = w.access(doctor, lab, "TREAT");
    assert_eq!(day31.decision, Decision::Deny);
    assert_eq!(day31.reason, "consent expired");

    let trail: Vec<(u8, String)> = w
        .accounting()
        .into_iter()
        .filter(|e| e.record == lab)
        .map(|e| (e.outcome, e.reason))
        .collect();
    assert_eq!(
        trail,
        vec![(0, "permitted".into()), (4, "consent expired".into())]
    );
}

#[test]
fn scenario_2_revocation_denies_later_access_and_keeps_earlier_disclosures() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let doctor = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![doctor];
    permit.purposes = vec!["TREAT".into()];
    let id: u64 = w
        .grant(
            w.patient,
            "patient-privacy",
            365,
            Decision::Deny,
            vec![permit],
        )
        .decode();
    assert_eq!(w.access(doctor, lab, "TREAT").decision, Decision::Permit);
    let stranger = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        w.chain
            .call(stranger, w.consent, "revoke", &id)
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(w.patient, w.consent, "revoke", &id)
            .is_success()
    );
    assert_eq!(w.access(doctor, lab, "TREAT").decision, Decision::Deny);
    let outcomes: Vec<u8> = w
        .accounting()
        .iter()
        .filter(|e| e.record == lab)
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![0, 4],
        "the disclosure before revocation stays in the accounting"
    );
}

#[test]
fn scenario_3_a_nested_deny_refuses_psychotherapy_notes_and_names_the_provision() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let note = w.record(2, &["R", "PSY"], "DocumentReference");
    let clinician = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    let mut deny = provision(Decision::Deny);
    deny.label_tags = tags(&["PSY", "ETH"]);
    permit.children = vec![deny];
    assert!(
        w.grant(
            w.patient,
            "patient-privacy",
            365,
            Decision::Deny,
            vec![permit]
        )
        .is_success()
    );
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Permit);
    let refused = w.access(clinician, note, "TREAT");
    assert_eq!(refused.decision, Decision::Deny);
    assert_eq!(refused.provision_path, vec![0, 0]);
    let entry = w
        .accounting()
        .into_iter()
        .find(|e| e.record == note)
        .unwrap();
    assert_eq!(
        (entry.outcome, entry.provision_path, entry.reason.as_str()),
        (4, vec![0, 0], "denied by provision")
    );
}

#[test]
fn scenario_4_a_guardian_grants_within_scope_is_refused_outside_it_and_can_be_revoked() {
    let mut w = world();
    let guardian = w.chain.new_account(10u128.pow(18));
    let specialist = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let delegation = (
        w.patient,
        guardian,
        "HPOWATT".to_string(),
        vec![Action::Access],
        vec!["TREAT".to_string()],
        period(now, now + 365 * DAY_MS),
        Hash([5; 32]),
    );
    let patient = w.patient;
    assert_eq!(
        w.chain
            .call(patient, w.consent, "attest_delegation", &delegation)
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(w.authority, w.consent, "attest_delegation", &delegation)
            .is_success()
    );

    let mut permit = provision(Decision::Permit);
    permit.actors = vec![specialist];
    permit.actions = vec![Action::Access];
    permit.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(
            guardian,
            "treatment",
            90,
            Decision::Deny,
            vec![permit.clone()]
        )
        .is_success()
    );
    let created = w
        .accounting()
        .into_iter()
        .find(|e| e.reason == "consent granted")
        .unwrap();
    assert_eq!(
        (created.agent, created.on_behalf_of),
        (guardian, Some(w.patient)),
        "the audit says on behalf of"
    );

    let mut research = provision(Decision::Permit);
    research.actions = vec![Action::Use];
    research.purposes = vec!["HRESCH".into()];
    assert_eq!(
        w.grant(guardian, "research", 90, Decision::Deny, vec![research])
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );

    assert!(
        w.chain
            .call(patient, w.consent, "revoke_delegation", &guardian)
            .is_success()
    );
    assert_eq!(
        w.grant(guardian, "treatment", 90, Decision::Deny, vec![permit])
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
}

#[test]
fn scenario_5_break_glass_allows_an_emergency_records_it_and_refuses_outsiders() {
    let mut w = world();
    let chart = w.record(1, &["N"], "Observation");
    let er_doctor = w.clinician();
    let nurse = w.clinician();
    let reviewer = w.chain.new_account(10u128.pow(18));
    let hospital = w.hospital;
    let policy = (vec![er_doctor], 4 * HOUR_MS, reviewer, false);
    assert!(
        w.chain
            .call(hospital, w.consent, "set_break_glass_policy", &policy)
            .is_success()
    );

    assert_eq!(
        w.access(er_doctor, chart, "ETREAT").decision,
        Decision::Deny,
        "no consent on file: default deny"
    );
    let declared = w.chain.call(
        er_doctor,
        w.consent,
        "declare_break_glass",
        &(
            hospital,
            w.patient,
            "ETREAT".to_string(),
            Hash([3; 32]),
            8 * HOUR_MS,
        ),
    );
    let session: Option<u64> = declared.decode();
    let session = session.expect("a member of the group may declare");
    assert_eq!(declared.events().len(), 1, "the patient is notified");
    assert_eq!(
        declared.events()[0].topics[1],
        subject(),
        "under the relationship's subject handle, never the patient's address"
    );

    let emergency = w.access(er_doctor, chart, "ETREAT");
    assert_eq!(
        (emergency.decision.clone(), emergency.break_glass),
        (Decision::Permit, Some(session))
    );
    let override_entry = w
        .accounting()
        .into_iter()
        .rev()
        .find(|e| e.record == chart)
        .unwrap();
    assert_eq!(
        (override_entry.action, override_entry.outcome),
        (AuditAction::E, 0)
    );
    assert!(override_entry.reason.contains("110127"));

    let refused: Option<u64> = w
        .chain
        .call(
            nurse,
            w.consent,
            "declare_break_glass",
            &(
                hospital,
                w.patient,
                "ETREAT".to_string(),
                Hash([4; 32]),
                HOUR_MS,
            ),
        )
        .decode();
    assert_eq!(refused, None);
    assert!(
        w.accounting()
            .iter()
            .any(|e| e.agent == nurse && e.outcome == 8 && e.reason.contains("110113"))
    );
    assert_eq!(w.access(nurse, chart, "ETREAT").decision, Decision::Deny);

    // The window is capped by the policy (4 h, not the 8 h asked).
    w.chain.advance_time(5 * HOUR_MS);
    assert_eq!(
        w.access(er_doctor, chart, "ETREAT").decision,
        Decision::Deny,
        "after the window"
    );
    assert!(
        w.chain
            .call(reviewer, w.consent, "review_break_glass", &(session, true))
            .is_success()
    );
    assert_eq!(
        w.chain
            .call(reviewer, w.consent, "review_break_glass", &(session, false))
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
}

#[test]
fn scenario_6_a_self_pay_restriction_blocks_the_payer() {
    let mut w = world();
    let claim_attachment = w.record(1, &["N"], "DocumentReference");
    let payer = w.payer();
    let clinician = w.clinician();
    let mut deny_payer = provision(Decision::Deny);
    deny_payer.actors = vec![payer];
    deny_payer.purposes = vec!["HPAYMT".into(), "COVAUTH".into()];
    assert!(
        w.grant(
            w.patient,
            "patient-privacy",
            365,
            Decision::Permit,
            vec![deny_payer]
        )
        .is_success()
    );
    assert_eq!(
        w.access_as(payer, "PAYOR", claim_attachment, "HPAYMT")
            .decision,
        Decision::Deny
    );
    assert_eq!(
        w.access(clinician, claim_attachment, "TREAT").decision,
        Decision::Permit
    );
}

#[test]
fn only_the_patient_or_a_delegate_reads_the_accounting_and_bad_input_reverts() {
    let mut w = world();
    let snoop = w.chain.new_account(10u128.pow(18));
    let snooped = w.chain.call(
        snoop,
        w.consent,
        "accounting",
        &(w.patient, 0u64, u64::MAX, None::<u64>, 10u32),
    );
    assert_eq!(snooped.revert_message(), "ConsentError::NotAuthorised");
    // A record indexed by an organisation the registry does not know.
    let rogue = w.chain.new_account(10u128.pow(18));
    let refused = w.chain.call(
        rogue,
        w.consent,
        "register_record",
        &registration(
            Hash([8; 32]),
            w.patient,
            &["N"],
            "Observation",
            0,
            w.hospital,
        ),
    );
    assert_eq!(refused.revert_message(), "ConsentError::NotACustodian");
    // A provision tree deeper than allowed.
    let mut deep = provision(Decision::Permit);
    for _ in 0..5 {
        let mut parent = provision(Decision::Permit);
        parent.children = vec![deep];
        deep = parent;
    }
    assert_eq!(
        w.grant(w.patient, "patient-privacy", 1, Decision::Deny, vec![deep])
            .revert_message(),
        "ConsentError::TooComplex"
    );
}

#[test]
fn roles_and_data_periods_narrow_a_provision() {
    let mut w = world();
    let old = w.record(1, &["N"], "Observation");
    let mut permit = provision(Decision::Permit);
    permit.roles = vec!["PRCP".into()];
    permit.purposes = vec!["TREAT".into()];
    // Only records dated in the first year of the epoch (record 1 is dated 0): the provision
    // carries a commitment; the hospital attests each record's date against the period.
    let first_year = w.data_period_commitment(period(0, 365 * DAY_MS));
    permit.data_period_commitment = Some(first_year);
    assert!(
        w.grant(w.patient, "treatment", 30, Decision::Deny, vec![permit])
            .is_success()
    );
    let clinician = w.clinician();
    assert_eq!(
        w.access_as(clinician, "PRCP", old, "TREAT").decision,
        Decision::Permit
    );
    assert_eq!(
        w.access_as(clinician, "ATND", old, "TREAT").decision,
        Decision::Deny,
        "another role, held but not the one permitted"
    );
    let hospital = w.hospital;
    let recent = w.record_with(
        hospital,
        2,
        &["N"],
        "Observation",
        as_signed_ms(400 * DAY_MS),
        hospital,
    );
    assert_eq!(
        w.access_as(clinician, "PRCP", recent, "TREAT").decision,
        Decision::Deny,
        "outside the data period"
    );
    // can_access answers the same without recording anything.
    let decision: AccessDecision = w.chain.view(
        clinician,
        w.consent,
        "can_access",
        &(
            clinician,
            "PRCP".to_string(),
            Action::Access,
            old,
            "TREAT".to_string(),
            None::<u64>,
            Some(vec![PeriodAnswer {
                commitment: first_year,
                inside: true,
            }]),
        ),
    );
    assert_eq!(decision.decision, Decision::Permit);
    // Unattested (the clinician recording its own access), a permit conditioned on the date
    // does not match: an unknown date only ever narrows access.
    let unattested: AccessDecision = w
        .chain
        .call(
            clinician,
            w.consent,
            "record_access",
            &(
                clinician,
                "PRCP".to_string(),
                old,
                Action::Access,
                "TREAT".to_string(),
                None::<Address>,
                Some(vec![PeriodAnswer {
                    commitment: first_year,
                    inside: true,
                }]),
            ),
        )
        .decode();
    assert_eq!(
        unattested.decision,
        Decision::Deny,
        "only the custodian's attestation counts"
    );
}

#[test]
fn supersession_and_entered_in_error_keep_history() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    let first: u64 = w
        .grant(
            w.patient,
            "treatment",
            30,
            Decision::Deny,
            vec![permit.clone()],
        )
        .decode();
    // A new version that narrows the grant supersedes the first.
    let now = w.chain.timestamp_ms();
    let mut narrower = permit.clone();
    narrower.actors = vec![w.chain.account(9)];
    let arguments = (
        w.patient,
        "treatment".to_string(),
        "59284-0".to_string(),
        period(now, now + 30 * DAY_MS),
        Decision::Deny,
        vec![narrower],
        Hash([9; 32]),
        Some(first),
    );
    let second: u64 = w
        .chain
        .call(w.patient, w.consent, "grant", &arguments)
        .decode();
    assert_eq!(
        w.access(clinician, lab, "TREAT").decision,
        Decision::Deny,
        "only the new version applies"
    );
    let old = w
        .chain
        .view::<Option<(u64, u32)>>(w.patient, w.consent, "consent_version", &first);
    assert_eq!(
        old,
        Some((first, 2)),
        "the superseded consent is kept, one version on"
    );
    // Entered in error: only its grantor may say so.
    let stranger = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        w.chain
            .call(
                stranger,
                w.consent,
                "mark_entered_in_error",
                &(second, Hash([1; 32]))
            )
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(
                w.patient,
                w.consent,
                "mark_entered_in_error",
                &(second, Hash([1; 32]))
            )
            .is_success()
    );
    assert!(
        w.accounting()
            .iter()
            .any(|entry| entry.reason == "entered in error")
    );
}

#[test]
fn who_can_see_lists_every_condition_of_a_permit_and_its_exceptions() {
    let mut w = world();
    let doctor = w.clinician();
    // Records held by the hospital, for the doctor only; inside it, a permit for research reads
    // of lab results (no actor of its own: still only the doctor, at the hospital), and a deny
    // of psychiatric notes.
    let mut at_hospital = provision(Decision::Permit);
    at_hospital.actors = vec![doctor];
    at_hospital.custodians = vec![w.hospital];
    let mut research = provision(Decision::Permit);
    research.purposes = vec!["HRESCH".into()];
    research.class_tags = tags(&["Observation"]);
    let mut no_notes = provision(Decision::Deny);
    no_notes.label_tags = tags(&["PSY"]);
    at_hospital.children = vec![research, no_notes];
    assert!(
        w.grant(
            w.patient,
            "patient-privacy",
            10,
            Decision::Deny,
            vec![at_hospital]
        )
        .is_success()
    );
    let seen: Vec<Permission> = w.chain.view(
        w.patient,
        w.consent,
        "who_can_see",
        &(w.patient, None::<u64>),
    );
    assert_eq!(seen.len(), 2, "{seen:?}");
    let outer = &seen[0];
    assert_eq!(outer.provision_path, vec![0]);
    assert_eq!(outer.criteria.len(), 1);
    assert_eq!(outer.criteria[0].custodians, vec![w.hospital]);
    assert_eq!(
        outer.exceptions,
        vec![vec![0, 1]],
        "the PSY deny is an exception"
    );
    // The nested permit is not a permit for anyone: its parent's actor and custodian hold too.
    let nested = &seen[1];
    assert_eq!(nested.provision_path, vec![0, 0]);
    assert_eq!(nested.criteria.len(), 2);
    assert_eq!(nested.criteria[0].actors, vec![doctor]);
    assert_eq!(nested.criteria[0].custodians, vec![w.hospital]);
    assert!(nested.criteria[1].actors.is_empty());
    assert_eq!(nested.criteria[1].purposes, vec!["HRESCH".to_string()]);
    assert!(nested.exceptions.is_empty());
}

#[test]
fn queries_show_who_can_see_expiring_consents_delegates_and_pending_sessions() {
    let mut w = world();
    let doctor = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![doctor];
    permit.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(w.patient, "treatment", 10, Decision::Deny, vec![permit])
            .is_success()
    );
    let seen: Vec<Permission> = w.chain.view(
        w.patient,
        w.consent,
        "who_can_see",
        &(w.patient, None::<u64>),
    );
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].criteria.len(), 1);
    assert_eq!(seen[0].criteria[0].actors, vec![doctor]);
    assert_eq!(seen[0].criteria[0].purposes, vec!["TREAT".to_string()]);
    assert!(seen[0].exceptions.is_empty());
    let expiring: Vec<Consent> =
        w.chain
            .view(w.patient, w.consent, "expiring", &(w.patient, 30 * DAY_MS));
    assert_eq!(expiring.len(), 1);
    assert_eq!(expiring[0].patient, w.patient);
    let none_soon: Vec<Consent> =
        w.chain
            .view(w.patient, w.consent, "expiring", &(w.patient, DAY_MS));
    assert!(none_soon.is_empty(), "no consent ends within a day");
    // Relationship queries check their caller.
    let snoop = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        w.chain
            .call(snoop, w.consent, "who_can_see", &(w.patient, None::<u64>))
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert_eq!(
        w.chain
            .call(snoop, w.consent, "delegates", &w.patient)
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    let guardian = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let delegation = (
        w.patient,
        guardian,
        "GUARD".to_string(),
        vec![Action::Access],
        vec!["TREAT".to_string()],
        period(now, now + DAY_MS),
        Hash([5; 32]),
    );
    assert!(
        w.chain
            .call(w.authority, w.consent, "attest_delegation", &delegation)
            .is_success()
    );
    let delegates: Vec<(Address, Delegation)> =
        w.chain.view(w.patient, w.consent, "delegates", &w.patient);
    assert_eq!(delegates.len(), 1);
    assert_eq!(
        (
            delegates[0].0,
            delegates[0].1.relationship.as_str(),
            delegates[0].1.active
        ),
        (guardian, "GUARD", true)
    );
    // Sessions awaiting review, for the organisation and its reviewer only.
    let reviewer = w.chain.new_account(10u128.pow(18));
    let hospital = w.hospital;
    assert!(
        w.chain
            .call(
                hospital,
                w.consent,
                "set_break_glass_policy",
                &(vec![doctor], HOUR_MS, reviewer, false)
            )
            .is_success()
    );
    let declared: Option<u64> = w
        .chain
        .call(
            doctor,
            w.consent,
            "declare_break_glass",
            &(
                hospital,
                w.patient,
                "BTG".to_string(),
                Hash([3; 32]),
                HOUR_MS,
            ),
        )
        .decode();
    assert!(declared.is_some());
    let pending: Vec<(u64, BreakGlassSession)> =
        w.chain
            .view(reviewer, w.consent, "pending_sessions", &hospital);
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].1.actor, pending[0].1.justified), (doctor, None));
    assert_eq!(
        w.chain
            .call(doctor, w.consent, "pending_sessions", &hospital)
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
}

#[test]
fn every_message_refuses_callers_without_authority() {
    let mut w = world();
    let outsider = w.chain.new_account(10u128.pow(18));
    let lab = w.record(1, &["N"], "Observation");
    let consent: u64 = w
        .grant(w.patient, "treatment", 30, Decision::Permit, vec![])
        .decode();
    let now = w.chain.timestamp_ms();
    let period = period(now, now + DAY_MS);
    let refusals = [
        (
            "register_record",
            registration(Hash([7; 32]), w.patient, &[], "Observation", 0, w.hospital).encode(),
            "ConsentError::NotACustodian",
        ),
        (
            "grant",
            (
                w.patient,
                "treatment".to_string(),
                "c".to_string(),
                period.clone(),
                Decision::Permit,
                Vec::<Provision>::new(),
                Hash::ZERO,
                None::<u64>,
            )
                .encode(),
            "ConsentError::NotAuthorised",
        ),
        ("revoke", consent.encode(), "ConsentError::NotAuthorised"),
        (
            "mark_entered_in_error",
            (consent, Hash::ZERO).encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "attest_delegation",
            (
                w.patient,
                outsider,
                "GUARD".to_string(),
                vec![Action::Access],
                vec!["TREAT".to_string()],
                period,
                Hash::ZERO,
            )
                .encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "revoke_delegation",
            outsider.encode(),
            "ConsentError::Unknown",
        ),
        (
            "end_delegation",
            (w.patient, outsider).encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "set_break_glass_policy",
            (vec![outsider], HOUR_MS, outsider, true).encode(),
            "ConsentError::NotACustodian",
        ),
        (
            // Recording an access in someone else's name (only the custodian may).
            "record_access",
            (
                w.hospital,
                "PRCP".to_string(),
                lab,
                Action::Access,
                "TREAT".to_string(),
                None::<Address>,
                None::<Vec<PeriodAnswer>>,
            )
                .encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "accounting",
            (w.patient, 0u64, u64::MAX, None::<u64>, 10u32).encode(),
            "ConsentError::NotAuthorised",
        ),
        ("close_break_glass", 0u64.encode(), "ConsentError::Unknown"),
        (
            "review_break_glass",
            (0u64, true).encode(),
            "ConsentError::Unknown",
        ),
        (
            "expiring",
            (w.patient, DAY_MS).encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "who_can_see",
            (w.patient, None::<u64>).encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "delegates",
            w.patient.encode(),
            "ConsentError::NotAuthorised",
        ),
        (
            "pending_sessions",
            w.hospital.encode(),
            "ConsentError::Unknown",
        ),
    ];
    for (message, arguments, expected) in refusals {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        let result = w.chain.call_raw(outsider, w.consent, input);
        assert_eq!(result.revert_message(), expected, "{message}");
    }
}

#[test]
fn a_forged_delegate_and_a_lapsed_custodian_are_refused() {
    let mut w = world();
    // A "delegate" nobody attested cannot grant for the patient.
    let forger = w.chain.new_account(10u128.pow(18));
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![forger];
    permit.actions = vec![Action::Access];
    permit.purposes = vec!["TREAT".into()];
    assert_eq!(
        w.grant(forger, "treatment", 30, Decision::Deny, vec![permit])
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    // The hospital's registry licence lapses: it can no longer index records.
    w.chain.advance_time(3651 * DAY_MS);
    let hospital = w.hospital;
    let refused = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &registration(Hash([6; 32]), w.patient, &["N"], "Observation", 0, hospital),
    );
    assert_eq!(refused.revert_message(), "ConsentError::NotACustodian");
}

impl World {
    /// `can_access` for `actor` in `role`, read only.
    fn can_access(
        &self,
        actor: Address,
        role: &str,
        record: Hash,
        purpose: &str,
    ) -> AccessDecision {
        self.chain.view(
            actor,
            self.consent,
            "can_access",
            &(
                actor,
                role.to_string(),
                Action::Access,
                record,
                purpose.to_string(),
                None::<u64>,
                self.period_answers(record),
            ),
        )
    }

    /// `record_access` sent by `from` for `agent` in `role`, as a transaction.
    fn record_by(
        &mut self,
        from: Address,
        agent: Address,
        role: &str,
        record: Hash,
        on_behalf_of: Option<Address>,
    ) -> CallResult {
        let arguments = (
            agent,
            role.to_string(),
            record,
            Action::Access,
            "TREAT".to_string(),
            on_behalf_of,
            self.period_answers(record),
        );
        self.chain
            .call(from, self.consent, "record_access", &arguments)
    }

    /// Attests a delegation from the patient to `delegate` as `relationship`, for treatment.
    fn delegate(&mut self, delegate: Address, relationship: &str) {
        let now = self.chain.timestamp_ms();
        let delegation = (
            self.patient,
            delegate,
            relationship.to_string(),
            vec![Action::Access],
            vec!["TREAT".to_string()],
            period(now, now + 365 * DAY_MS),
            Hash([5; 32]),
        );
        let attested = self.chain.call(
            self.authority,
            self.consent,
            "attest_delegation",
            &delegation,
        );
        assert!(attested.is_success(), "{:?}", attested.receipt.status);
    }
}

const NO_PRACTITIONER: &str =
    "role not attested: the registry lists no active practitioner or provider";

#[test]
fn a_role_the_registry_does_not_attest_is_denied_with_the_reason() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    // The patient permits everyone for treatment: only the role check can deny.
    assert!(
        w.grant(w.patient, "patient-privacy", 365, Decision::Permit, vec![])
            .is_success()
    );
    let impostor = w.chain.new_account(10u128.pow(18));
    let payer = w.payer();
    let clinician = w.clinician();
    let guardian = w.chain.new_account(10u128.pow(18));
    w.delegate(guardian, "HPOWATT");

    // Claimed but not attested: denied, with the reason, by can_access and record_access alike
    // (the guardian is attested as HPOWATT, not GUARD).
    let patient = w.patient;
    for (actor, role, on_behalf_of, reason) in [
        (impostor, "PRCP", None, NO_PRACTITIONER),
        (payer, "ATND", None, NO_PRACTITIONER),
        (
            clinician,
            "PAYOR",
            None,
            "role not attested: the registry lists no active payer",
        ),
        (
            clinician,
            "PAT",
            None,
            "role not attested: not the record's patient",
        ),
        (
            guardian,
            "GUARD",
            Some(patient),
            "role not attested: no delegation in force from the patient in this role",
        ),
    ] {
        let viewed = w.can_access(actor, role, lab, "TREAT");
        assert_eq!(
            (viewed.decision, viewed.reason.as_str(), viewed.consent),
            (Decision::Deny, reason, None),
            "can_access as {role}"
        );
        let hospital = w.hospital;
        let recorded: AccessDecision = w
            .record_by(hospital, actor, role, lab, on_behalf_of)
            .decode();
        assert_eq!(
            (recorded.decision, recorded.reason.as_str()),
            (Decision::Deny, reason),
            "record_access as {role}"
        );
    }
    let refusals: Vec<(Address, u8, String)> = w
        .accounting()
        .into_iter()
        .filter(|entry| entry.record == lab)
        .map(|entry| (entry.agent, entry.outcome, entry.reason))
        .collect();
    assert_eq!(refusals.len(), 5, "every refusal is in the accounting");
    assert_eq!(
        refusals[0],
        (impostor, 4, NO_PRACTITIONER.to_string()),
        "recorded with its reason"
    );

    // The same actors in the roles they hold are permitted.
    for (actor, role) in [(payer, "PAYOR"), (clinician, "ATND"), (patient, "PAT")] {
        assert_eq!(
            w.can_access(actor, role, lab, "TREAT").decision,
            Decision::Permit,
            "{role}"
        );
    }
    let represented = w.record_by(w.hospital, guardian, "HPOWATT", lab, Some(patient));
    assert_eq!(
        represented.decode::<AccessDecision>().decision,
        Decision::Permit
    );

    // A code the contract does not know is refused, not matched.
    let unknown = w.chain.call(
        clinician,
        w.consent,
        "can_access",
        &(
            clinician,
            "PAYER".to_string(),
            Action::Access,
            lab,
            "TREAT".to_string(),
            None::<u64>,
            None::<Vec<PeriodAnswer>>,
        ),
    );
    assert_eq!(unknown.revert_message(), "ConsentError::UnknownRole");
    let hospital = w.hospital;
    assert_eq!(
        w.record_by(hospital, clinician, "PAYER", lab, None)
            .revert_message(),
        "ConsentError::UnknownRole"
    );
}

#[test]
fn a_suspended_practitioner_is_denied_until_reinstated() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![clinician];
    permit.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(w.patient, "treatment", 365, Decision::Deny, vec![permit])
            .is_success()
    );
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Permit);
    let (authority, registry) = (w.authority, w.registry);
    let suspended = w
        .chain
        .call(authority, registry, "suspend", &(clinician, Hash([4; 32])));
    assert!(suspended.is_success(), "{:?}", suspended.receipt.status);
    let refused = w.access(clinician, lab, "TREAT");
    assert_eq!(
        (refused.decision, refused.reason.as_str()),
        (Decision::Deny, NO_PRACTITIONER),
        "the consent names the clinician, but the registry no longer attests them"
    );
    assert_eq!(
        w.can_access(clinician, "PRCP", lab, "TREAT").decision,
        Decision::Deny
    );
    assert!(
        w.chain
            .call(authority, registry, "reinstate", &clinician)
            .is_success()
    );
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Permit);
}

#[test]
fn a_forged_on_behalf_of_is_refused_and_an_attested_one_is_recorded() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let guardian = w.chain.new_account(10u128.pow(18));
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(w.patient, "treatment", 365, Decision::Deny, vec![permit])
            .is_success()
    );
    let (hospital, patient) = (w.hospital, w.patient);
    // No delegation from the patient to the clinician: "on behalf of" is refused.
    assert_eq!(
        w.record_by(hospital, clinician, "PRCP", lab, Some(patient))
            .revert_message(),
        "ConsentError::NotADelegate"
    );
    // Nor can a guardian's own read claim it before the delegation is attested.
    assert_eq!(
        w.record_by(guardian, guardian, "GUARD", lab, Some(patient))
            .revert_message(),
        "ConsentError::NotADelegate"
    );
    w.delegate(guardian, "GUARD");
    // A representative's access names the patient it represents.
    assert_eq!(
        w.record_by(guardian, guardian, "GUARD", lab, None)
            .revert_message(),
        "ConsentError::NotADelegate"
    );
    let attested = w.record_by(guardian, guardian, "GUARD", lab, Some(patient));
    assert_eq!(
        attested.decode::<AccessDecision>().decision,
        Decision::Permit
    );
    let entry = w
        .accounting()
        .into_iter()
        .rev()
        .find(|entry| entry.record == lab)
        .unwrap();
    assert_eq!(
        (entry.agent, entry.on_behalf_of, entry.outcome),
        (guardian, Some(patient), 0)
    );
    // Once the patient revokes the delegation, the claim is forged again.
    assert!(
        w.chain
            .call(patient, w.consent, "revoke_delegation", &guardian)
            .is_success()
    );
    assert_eq!(
        w.record_by(guardian, guardian, "GUARD", lab, Some(patient))
            .revert_message(),
        "ConsentError::NotADelegate"
    );
}

#[test]
fn only_the_custodian_or_the_agent_writes_into_the_patients_trail() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let stranger = w.chain.new_account(10u128.pow(18));
    // Another provider organisation, active in the registry, but not this record's custodian.
    let clinic = w.chain.new_account(10u128.pow(18));
    w.register(clinic, Role::ProviderOrganisation);
    let before = w.accounting().len();
    for writer in [stranger, clinic] {
        assert_eq!(
            w.record_by(writer, clinician, "PRCP", lab, None)
                .revert_message(),
            "ConsentError::NotAuthorised",
            "a third party records nothing in the clinician's name"
        );
    }
    assert_eq!(w.accounting().len(), before, "nothing was written");
    // The custodian and the agent itself may. (A contract acting for the agent that signed the
    // transaction may too: coverage's `access_attachment`, tested in coverage.rs.)
    let hospital = w.hospital;
    assert!(
        w.record_by(hospital, clinician, "PRCP", lab, None)
            .is_success()
    );
    assert!(
        w.record_by(clinician, clinician, "PRCP", lab, None)
            .is_success()
    );
    let writers: Vec<Address> = w
        .accounting()
        .into_iter()
        .filter(|entry| entry.record == lab)
        .map(|entry| entry.agent)
        .collect();
    assert_eq!(writers, vec![clinician, clinician]);
}

#[test]
fn a_gateway_release_is_decided_again_recorded_as_a_disclosure_and_names_the_request() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let doctor = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.actors = vec![doctor];
    permit.actions = vec![Action::Disclose];
    permit.purposes = vec!["TREAT".into()];
    let granted = w.grant(
        w.patient,
        "patient-privacy",
        30,
        Decision::Deny,
        vec![permit],
    );
    let consent_id: u64 = granted.decode();
    let disclose = |w: &mut World, from: Address, request: Hash| {
        let arguments = (
            lab,
            doctor,
            "PRCP".to_string(),
            "TREAT".to_string(),
            request,
            None::<Vec<PeriodAnswer>>,
        );
        w.chain
            .call(from, w.consent, "record_disclosure", &arguments)
    };
    // Only the record's custodian releases it; the doctor cannot record its own release.
    let before = w.accounting().len();
    assert_eq!(
        disclose(&mut w, doctor, Hash([0x51; 32])).revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert_eq!(w.accounting().len(), before, "nothing was written");
    let hospital = w.hospital;
    let released = disclose(&mut w, hospital, Hash([0x51; 32]));
    let decision: AccessDecision = released.decode();
    assert_eq!(decision.decision, Decision::Permit);
    // Consent revoked before the next release: the contract decides again and records the
    // denial with the request it refused.
    assert!(
        w.chain
            .call(w.patient, w.consent, "revoke", &consent_id)
            .is_success()
    );
    let refused: AccessDecision = disclose(&mut w, hospital, Hash([0x52; 32])).decode();
    assert_eq!(refused.decision, Decision::Deny);
    // A plain access by the custodian carries no request.
    w.access(doctor, lab, "TREAT");
    let trail: Vec<(AuditAction, u8, Option<Hash>)> = w
        .accounting()
        .into_iter()
        .filter(|entry| entry.record == lab)
        .map(|entry| (entry.action, entry.outcome, entry.request))
        .collect();
    assert_eq!(
        trail,
        vec![
            (AuditAction::R, 0, Some(Hash([0x51; 32]))),
            (AuditAction::R, 4, Some(Hash([0x52; 32]))),
            (AuditAction::R, 4, None),
        ]
    );
    // An unindexed record is refused before anything is decided.
    let arguments = (
        Hash([0x77; 32]),
        doctor,
        "PRCP".to_string(),
        "TREAT".to_string(),
        Hash([0x53; 32]),
        None::<Vec<PeriodAnswer>>,
    );
    assert_eq!(
        w.chain
            .call(hospital, w.consent, "record_disclosure", &arguments)
            .revert_message(),
        "ConsentError::Unknown"
    );
}

impl World {
    /// `custodian` indexes a record of the patient written by `author`.
    fn record_by_author(&mut self, custodian: Address, seed: u8, author: Address) -> Hash {
        self.record_with(custodian, seed, &["N"], "Observation", 0, author)
    }
}

#[test]
fn provisions_match_a_records_custodian_and_author() {
    let mut w = world();
    let hospital = w.hospital;
    let clinic = w.chain.new_account(10u128.pow(18));
    w.register(clinic, Role::ProviderOrganisation);
    let (dr_y, dr_z) = (w.clinician(), w.clinician());
    let by_y = w.record_by_author(hospital, 1, dr_y);
    let by_z = w.record_by_author(hospital, 2, dr_z);
    let at_clinic = w.record_by_author(clinic, 3, dr_z);
    // "All records held by the hospital" (actor role CST), "but not those authored by Dr Y"
    // (actor role AUT), for treatment.
    let mut held = provision(Decision::Permit);
    held.custodians = vec![hospital];
    held.purposes = vec!["TREAT".into()];
    let mut not_by_y = provision(Decision::Deny);
    not_by_y.authors = vec![dr_y];
    held.children = vec![not_by_y];
    assert!(
        w.grant(w.patient, "patient-privacy", 30, Decision::Deny, vec![held])
            .is_success()
    );
    let clinician = w.clinician();
    for (record, decision, path, reason) in [
        (by_z, Decision::Permit, vec![0], "permitted"),
        (by_y, Decision::Deny, vec![0, 0], "denied by provision"),
        (
            at_clinic,
            Decision::Deny,
            vec![],
            "denied by the consent's base decision",
        ),
    ] {
        let viewed = w.can_access(clinician, "PRCP", record, "TREAT");
        // Recorded by the clinician itself (the hospital is not the clinic's record's custodian).
        let recorded: AccessDecision = w
            .record_by(clinician, clinician, "PRCP", record, None)
            .decode();
        for answer in [viewed, recorded] {
            assert_eq!(
                (
                    answer.decision,
                    answer.provision_path,
                    answer.reason.as_str()
                ),
                (decision.clone(), path.clone(), reason)
            );
        }
    }
    // Both criteria are bounded like every list.
    let mut wide = provision(Decision::Permit);
    wide.authors = vec![dr_y; 17];
    assert_eq!(
        w.grant(w.patient, "treatment", 30, Decision::Deny, vec![wide])
            .revert_message(),
        "ConsentError::TooComplex"
    );
}

/// 1965-03-01T00:00:00Z, 1968-06-15T00:00:00Z and 1960-01-01T00:00:00Z in signed ms since the
/// Unix epoch.
const MARCH_1965_MS: i64 = -152_668_800_000;
const JUNE_1968_MS: i64 = -48_816_000_000;
const JANUARY_1960_MS: i64 = -315_619_200_000;

#[test]
fn a_consent_signed_in_1968_covers_a_record_dated_1965() {
    let mut w = world();
    let hospital = w.hospital;
    let old = w.record_dated(1, MARCH_1965_MS, hospital);
    let recent = w.record_dated(2, as_signed_ms(400 * DAY_MS), hospital);
    // Signed on paper in 1968, in force from then; it permits treatment on records of the 1960s.
    let mut sixties = provision(Decision::Permit);
    sixties.purposes = vec!["TREAT".into()];
    sixties.data_period_commitment = Some(w.data_period_commitment(Period {
        start_ms: JANUARY_1960_MS,
        end_ms: 0,
    }));
    let now = w.chain.timestamp_ms();
    let arguments = (
        w.patient,
        "treatment".to_string(),
        "59284-0".to_string(),
        Period {
            start_ms: JUNE_1968_MS,
            end_ms: as_signed_ms(now + 30 * DAY_MS),
        },
        Decision::Deny,
        vec![sixties],
        Hash([9; 32]),
        None::<u64>,
        JUNE_1968_MS,
    );
    let patient = w.patient;
    let id: u64 = w
        .chain
        .call(patient, w.consent, "import_signed", &arguments)
        .decode();
    let stored = w
        .chain
        .view::<Option<Consent>>(patient, w.consent, "consent", &id)
        .unwrap();
    assert_eq!(
        (stored.date_ms, stored.period.start_ms),
        (JUNE_1968_MS, JUNE_1968_MS)
    );
    let clinician = w.clinician();
    let permitted = w.access(clinician, old, "TREAT");
    assert_eq!(
        (permitted.decision, permitted.provision_path),
        (Decision::Permit, vec![0]),
        "the 1965 record is within the data period"
    );
    assert_eq!(
        w.access(clinician, recent, "TREAT").decision,
        Decision::Deny,
        "a 1971 record is not"
    );
}

impl World {
    /// The hospital indexes a record of the patient dated `date_ms`, written by `author`.
    fn record_dated(&mut self, seed: u8, date_ms: i64, author: Address) -> Hash {
        self.record_with(self.hospital, seed, &["N"], "Observation", date_ms, author)
    }
}

/// Fuel and events of a consent scenario, compared with a committed snapshot: a change in the
/// contract, the SDK, the compiler or the fuel schedule shows up here. Regenerate with
/// `UPDATE_SNAPSHOTS=1` after an intended change and review the diff.
/// Every code of the v3 PurposeOfUse table that specialises `ancestor` (children, grandchildren…).
fn descendants(ancestor: &str) -> Vec<&'static str> {
    consent::PURPOSE_OF_USE_PARENTS
        .iter()
        .map(|(code, _)| *code)
        .filter(|code| *code != ancestor && consent::purpose_covers(ancestor, code))
        .collect()
}

#[test]
fn purpose_of_use_follows_the_v3_hierarchy_through_every_payer_purpose() {
    let mut w = world();
    let attachment = w.record(1, &["N"], "DocumentReference");
    let payer = w.payer();
    let clinician = w.clinician();
    let payer_purposes = descendants("HPAYMT");
    for code in ["CLMATTCH", "COVAUTH", "COVERAGE", "ELIGVER", "REMITADV"] {
        assert!(payer_purposes.contains(&code), "{code} specialises HPAYMT");
    }
    // HIPAA §164.522(a)(1)(vi): the patient paid out of pocket and restricts disclosure to the
    // health plan for payment — one deny of HPAYMT, which covers every payer purpose.
    let mut self_pay = provision(Decision::Deny);
    self_pay.actors = vec![payer];
    self_pay.purposes = vec!["HPAYMT".into()];
    let mut treat = provision(Decision::Permit);
    treat.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(
            w.patient,
            "patient-privacy",
            365,
            Decision::Permit,
            vec![self_pay, treat]
        )
        .is_success()
    );
    for purpose in std::iter::once("HPAYMT").chain(payer_purposes.iter().copied()) {
        let decision = w.access_as(payer, "PAYOR", attachment, purpose);
        assert_eq!(
            (decision.decision, decision.provision_path),
            (Decision::Deny, vec![0]),
            "{purpose} is a payer purpose"
        );
    }
    // A permit for TREAT covers its specialisations (ETREAT, BTG under it, COC, …).
    let treatment = descendants("TREAT");
    for code in ["ETREAT", "BTG", "COC"] {
        assert!(treatment.contains(&code), "{code} specialises TREAT");
    }
    for purpose in std::iter::once("TREAT").chain(treatment.iter().copied()) {
        let decision = w.access(clinician, attachment, purpose);
        assert_eq!(
            (decision.decision, decision.provision_path),
            (Decision::Permit, vec![1]),
            "{purpose} is a treatment purpose"
        );
    }
}

#[test]
fn a_permit_covers_specialisations_only_never_the_general_purpose() {
    let mut w = world();
    let chart = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let mut emergency_only = provision(Decision::Permit);
    emergency_only.purposes = vec!["ETREAT".into()];
    assert!(
        w.grant(
            w.patient,
            "treatment",
            30,
            Decision::Deny,
            vec![emergency_only]
        )
        .is_success()
    );
    assert_eq!(
        w.access(clinician, chart, "ETREAT").decision,
        Decision::Permit
    );
    assert_eq!(w.access(clinician, chart, "BTG").decision, Decision::Permit);
    assert_eq!(w.access(clinician, chart, "TREAT").decision, Decision::Deny);
    assert_eq!(w.access(clinician, chart, "COC").decision, Decision::Deny);
    assert_eq!(
        w.access(clinician, chart, "HPAYMT").decision,
        Decision::Deny
    );
}

#[test]
fn every_active_consent_is_evaluated_and_the_newest_restriction_is_never_dropped() {
    let mut w = world();
    let chart = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    // More consents than the old cap of 32, each permitting treatment.
    for _ in 0..40 {
        let mut permit = provision(Decision::Permit);
        permit.purposes = vec!["TREAT".into()];
        assert!(
            w.grant(w.patient, "treatment", 30, Decision::Deny, vec![permit])
                .is_success()
        );
    }
    // A revoked one leaves the index and decides nothing.
    let mut revoked_deny = provision(Decision::Deny);
    revoked_deny.actors = vec![clinician];
    let revoked: u64 = w
        .grant(
            w.patient,
            "patient-privacy",
            30,
            Decision::Permit,
            vec![revoked_deny],
        )
        .decode::<u64>();
    let patient = w.patient;
    assert!(
        w.chain
            .call(patient, w.consent, "revoke", &revoked)
            .is_success()
    );
    assert_eq!(
        w.access(clinician, chart, "TREAT").decision,
        Decision::Permit
    );

    // The newest consent restricts this clinician.
    let mut restriction = provision(Decision::Deny);
    restriction.actors = vec![clinician];
    let newest: u64 = w
        .grant(
            w.patient,
            "patient-privacy",
            30,
            Decision::Permit,
            vec![restriction],
        )
        .decode::<u64>();
    let decision = w.access(clinician, chart, "TREAT");
    assert_eq!(
        (decision.decision, decision.consent.map(|(id, _)| id)),
        (Decision::Deny, Some(newest))
    );
    // The first consents are still evaluated too (permitted for another clinician).
    let other = w.clinician();
    let decision = w.access(other, chart, "TREAT");
    assert_eq!(decision.decision, Decision::Permit);
    let permissions: Vec<Permission> =
        w.chain
            .view::<Vec<Permission>>(patient, w.consent, "who_can_see", &(patient, None::<u64>));
    assert_eq!(
        permissions.len(),
        40 + 1,
        "40 TREAT permits and the newest base permit"
    );
    assert_eq!(permissions[0].consent.0, newest, "newest first");
}

#[test]
fn break_glass_is_emergency_only_bounded_reviewed_by_another_and_fully_indexed() {
    let mut w = world();
    let chart = w.record(1, &["N"], "Observation");
    let hospital = w.hospital;
    let er_doctor = w.clinician();
    let colleague = w.chain.new_account(10u128.pow(18));
    // No maximum window given: the default, 4 hours. The doctor is also the reviewer.
    let policy = (vec![er_doctor, colleague], 0u64, er_doctor, false);
    assert!(
        w.chain
            .call(hospital, w.consent, "set_break_glass_policy", &policy)
            .is_success()
    );
    let declare = |w: &mut World, actor: Address, purpose: &str| -> Option<u64> {
        let patient = w.patient;
        w.chain
            .call(
                actor,
                w.consent,
                "declare_break_glass",
                &(
                    hospital,
                    patient,
                    purpose.to_string(),
                    Hash([3; 32]),
                    8 * HOUR_MS,
                ),
            )
            .decode::<Option<u64>>()
    };
    // Only emergency purposes open a session.
    for purpose in ["TREAT", "HPAYMT", "HOPERAT"] {
        assert_eq!(declare(&mut w, er_doctor, purpose), None, "{purpose}");
    }
    assert!(declare(&mut w, colleague, "BTG").is_some());
    let session = declare(&mut w, er_doctor, "ETREAT").expect("an emergency purpose");
    // More sessions than the old look-back (64 for access, 256 for the review queue).
    for _ in 0..260 {
        assert!(declare(&mut w, colleague, "ETREAT").is_some());
    }
    let emergency = w.access(er_doctor, chart, "ETREAT");
    assert_eq!(
        (emergency.decision, emergency.break_glass),
        (Decision::Permit, Some(session)),
        "the doctor's session is found however many were declared after it"
    );
    assert_eq!(
        w.access(er_doctor, chart, "HPAYMT").decision,
        Decision::Deny,
        "a session overrides only for an emergency purpose"
    );
    let pending: Vec<(u64, BreakGlassSession)> = w.chain.view::<Vec<(u64, BreakGlassSession)>>(
        hospital,
        w.consent,
        "pending_sessions",
        &hospital,
    );
    assert_eq!(pending.len(), 262, "every unreviewed session is listed");
    assert!(pending.iter().any(|(id, _)| *id == session));

    // The window is capped at the default 4 hours, not the 8 asked.
    let opened: Option<BreakGlassSession> = w.chain.view(hospital, w.consent, "session", &session);
    let opened = opened.unwrap();
    assert_eq!(opened.closes_ms - opened.opened_ms, 4 * HOUR_MS);
    let now = w.chain.timestamp_ms();
    w.chain.advance_time(opened.closes_ms - now);
    assert_eq!(
        w.access(er_doctor, chart, "ETREAT").decision,
        Decision::Deny
    );

    // The reviewer may not review their own session; the organisation may.
    assert_eq!(
        w.chain
            .call(er_doctor, w.consent, "review_break_glass", &(session, true))
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(hospital, w.consent, "review_break_glass", &(session, true))
            .is_success()
    );
    let pending: Vec<(u64, BreakGlassSession)> = w.chain.view::<Vec<(u64, BreakGlassSession)>>(
        hospital,
        w.consent,
        "pending_sessions",
        &hospital,
    );
    assert_eq!(pending.len(), 261);
    assert!(pending.iter().all(|(id, _)| *id != session));
}

#[test]
fn a_delegate_never_grants_beyond_its_scope_and_the_authority_can_end_the_delegation() {
    let mut w = world();
    let guardian = w.chain.new_account(10u128.pow(18));
    let specialist = w.chain.new_account(10u128.pow(18));
    let stranger = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let delegation = (
        w.patient,
        guardian,
        "GUARD".to_string(),
        vec![Action::Access],
        vec!["TREAT".to_string()],
        period(now, now + 365 * DAY_MS),
        Hash([5; 32]),
    );
    assert!(
        w.chain
            .call(w.authority, w.consent, "attest_delegation", &delegation)
            .is_success()
    );
    // A base permit grants everything: never within a scope.
    assert_eq!(
        w.grant(guardian, "treatment", 30, Decision::Permit, vec![])
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    let mut payment = provision(Decision::Permit);
    payment.actions = vec![Action::Access];
    payment.purposes = vec!["HPAYMT".into()];
    assert_eq!(
        w.grant(guardian, "treatment", 30, Decision::Deny, vec![payment])
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    let mut disclose = provision(Decision::Permit);
    disclose.actions = vec![Action::Disclose];
    disclose.purposes = vec!["TREAT".into()];
    assert_eq!(
        w.grant(guardian, "treatment", 30, Decision::Deny, vec![disclose])
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    // A specialisation of a purpose in scope is in scope (ETREAT under TREAT).
    let mut emergency = provision(Decision::Permit);
    emergency.actors = vec![specialist];
    emergency.actions = vec![Action::Access];
    emergency.purposes = vec!["ETREAT".into()];
    let own: u64 = w
        .grant(guardian, "treatment", 30, Decision::Deny, vec![emergency])
        .decode();

    // The patient's own restriction cannot be lifted by the delegate, by revocation or
    // supersession.
    let mut restriction = provision(Decision::Deny);
    restriction.actors = vec![specialist];
    let patients: u64 = w
        .grant(
            w.patient,
            "patient-privacy",
            30,
            Decision::Permit,
            vec![restriction],
        )
        .decode();
    assert_eq!(
        w.chain
            .call(guardian, w.consent, "revoke", &patients)
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    let mut treat = provision(Decision::Permit);
    treat.actions = vec![Action::Access];
    treat.purposes = vec!["TREAT".into()];
    let patient = w.patient;
    let period = period(now, now + DAY_MS);
    let superseding = (
        patient,
        "treatment".to_string(),
        "59284-0".to_string(),
        period,
        Decision::Deny,
        vec![treat],
        Hash([9; 32]),
        Some(patients),
    );
    assert_eq!(
        w.chain
            .call(guardian, w.consent, "grant", &superseding)
            .revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    assert!(
        w.chain
            .call(guardian, w.consent, "revoke", &own)
            .is_success()
    );

    // The registry's authority can end the delegation; a stranger cannot.
    assert_eq!(
        w.chain
            .call(stranger, w.consent, "end_delegation", &(patient, guardian))
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(
                w.authority,
                w.consent,
                "end_delegation",
                &(patient, guardian)
            )
            .is_success()
    );
    let mut again = provision(Decision::Permit);
    again.actions = vec![Action::Access];
    again.purposes = vec!["TREAT".into()];
    assert_eq!(
        w.grant(guardian, "treatment", 30, Decision::Deny, vec![again])
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(
        w.accounting()
            .iter()
            .any(|e| e.agent == w.authority && e.reason == "delegation ended by the authority")
    );
}

impl World {
    /// `author` records a consent for the patient to decide on: a draft or a proposal.
    fn propose(&mut self, author: Address, provisions: Vec<Provision>, draft: bool) -> CallResult {
        let now = self.chain.timestamp_ms();
        let arguments = (
            self.patient,
            "treatment".to_string(),
            "59284-0".to_string(),
            period(now, now + 30 * DAY_MS),
            Decision::Deny,
            provisions,
            Hash([9; 32]),
            draft,
        );
        self.chain.call(author, self.consent, "propose", &arguments)
    }

    fn status(&self, id: u64) -> ConsentStatus {
        self.chain
            .view::<Option<Consent>>(self.patient, self.consent, "consent", &id)
            .unwrap()
            .status
    }
}

#[test]
fn consent_status_follows_the_fhir_life_cycle_by_the_right_party() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let stranger = w.chain.new_account(10u128.pow(18));
    let guardian = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let attested = w.chain.call(
        w.authority,
        w.consent,
        "attest_delegation",
        &(
            w.patient,
            guardian,
            "GUARD".to_string(),
            vec![Action::Access],
            vec!["TREAT".to_string()],
            period(now, now + 365 * DAY_MS),
            Hash([7; 32]),
        ),
    );
    assert!(attested.is_success(), "{:?}", attested.receipt.status);
    let mut permit = provision(Decision::Permit);
    permit.actions = vec![Action::Access];
    permit.purposes = vec!["TREAT".into()];
    let hospital = w.hospital;
    let patient = w.patient;
    let call = |w: &mut World, from: Address, message: &str, id: u64| -> CallResult {
        let consent = w.consent;
        w.chain.call(from, consent, message, &id)
    };

    // Only the patient, a delegate or a provider organisation authors a consent.
    assert_eq!(
        w.propose(stranger, vec![permit.clone()], true)
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    // draft (by the custodian) → proposed (by its author only).
    let id: u64 = w.propose(hospital, vec![permit.clone()], true).decode();
    assert_eq!(w.status(id), ConsentStatus::Draft);
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Deny);
    assert_eq!(
        call(&mut w, patient, "submit", id).revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert_eq!(
        call(&mut w, patient, "activate", id).revert_message(),
        "ConsentError::WrongStatus",
        "a draft is not yet proposed"
    );
    assert!(call(&mut w, hospital, "submit", id).is_success());
    assert_eq!(w.status(id), ConsentStatus::Proposed);
    assert_eq!(
        call(&mut w, hospital, "submit", id).revert_message(),
        "ConsentError::WrongStatus"
    );
    assert_eq!(
        w.access(clinician, lab, "TREAT").decision,
        Decision::Deny,
        "a proposal decides nothing"
    );
    // proposed → active: by the patient or its delegate, never the proposer.
    assert_eq!(
        call(&mut w, hospital, "activate", id).revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert_eq!(
        call(&mut w, patient, "revoke", id).revert_message(),
        "ConsentError::WrongStatus",
        "only an active consent is revoked"
    );
    assert!(call(&mut w, guardian, "activate", id).is_success());
    assert_eq!(w.status(id), ConsentStatus::Active);
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Permit);
    assert_eq!(
        call(&mut w, patient, "reject", id).revert_message(),
        "ConsentError::WrongStatus"
    );
    // active → inactive by the patient; nothing leads back.
    assert!(call(&mut w, patient, "revoke", id).is_success());
    assert_eq!(w.status(id), ConsentStatus::Inactive);
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Deny);
    for message in ["revoke", "activate", "reject"] {
        assert_eq!(
            call(&mut w, patient, message, id).revert_message(),
            "ConsentError::WrongStatus",
            "{message} of an inactive consent"
        );
    }
    // proposed → rejected by the patient; a rejected consent is never activated.
    let proposal: u64 = w.propose(hospital, vec![permit.clone()], false).decode();
    assert_eq!(w.status(proposal), ConsentStatus::Proposed);
    assert_eq!(
        call(&mut w, stranger, "reject", proposal).revert_message(),
        "ConsentError::NotAuthorised"
    );
    assert!(call(&mut w, patient, "reject", proposal).is_success());
    assert_eq!(w.status(proposal), ConsentStatus::Rejected);
    assert_eq!(
        call(&mut w, patient, "activate", proposal).revert_message(),
        "ConsentError::WrongStatus"
    );
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Deny);
    // A delegate activates only what its scope covers.
    let mut research = provision(Decision::Permit);
    research.actions = vec![Action::Disclose];
    research.purposes = vec!["HRESCH".into()];
    let wide: u64 = w.propose(hospital, vec![research], false).decode();
    assert_eq!(
        call(&mut w, guardian, "activate", wide).revert_message(),
        "ConsentError::OutsideDelegatedScope"
    );
    // entered-in-error: by whoever recorded it, from any status, once.
    let reason = Hash([3; 32]);
    assert_eq!(
        w.chain
            .call(patient, w.consent, "mark_entered_in_error", &(wide, reason))
            .revert_message(),
        "ConsentError::NotAuthorised"
    );
    for entered in [wide, proposal] {
        assert!(
            w.chain
                .call(
                    hospital,
                    w.consent,
                    "mark_entered_in_error",
                    &(entered, reason)
                )
                .is_success()
        );
        assert_eq!(w.status(entered), ConsentStatus::EnteredInError);
    }
    assert_eq!(
        w.chain
            .call(
                hospital,
                w.consent,
                "mark_entered_in_error",
                &(wide, reason)
            )
            .revert_message(),
        "ConsentError::WrongStatus"
    );
    let reasons: Vec<String> = w.accounting().into_iter().map(|e| e.reason).collect();
    for reason in ["consent proposed", "consent activated", "consent rejected"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason} in {reasons:?}"
        );
    }
}

#[test]
fn an_imported_consent_keeps_its_patient_signing_date_never_in_the_future() {
    let mut w = world();
    let lab = w.record(1, &["N"], "Observation");
    let clinician = w.clinician();
    let now = w.chain.timestamp_ms();
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    let import = |signed_ms: i64| {
        (
            w.patient,
            "treatment".to_string(),
            "59284-0".to_string(),
            period(now, now + 30 * DAY_MS),
            Decision::Deny,
            vec![permit.clone()],
            Hash([9; 32]),
            None::<u64>,
            signed_ms,
        )
    };
    let signed = as_signed_ms(now - 10 * DAY_MS);
    let (past, future) = (import(signed), import(as_signed_ms(now + DAY_MS)));
    let (patient, hospital, consent) = (w.patient, w.hospital, w.consent);
    assert_eq!(
        w.chain
            .call(hospital, consent, "import_signed", &past)
            .revert_message(),
        "ConsentError::NotAuthorised",
        "only the patient (or a delegate) signs"
    );
    assert_eq!(
        w.chain
            .call(patient, consent, "import_signed", &future)
            .revert_message(),
        "ConsentError::SignedInTheFuture"
    );
    let id: u64 = w
        .chain
        .call(patient, consent, "import_signed", &past)
        .decode();
    let stored = w
        .chain
        .view::<Option<Consent>>(patient, consent, "consent", &id)
        .unwrap();
    assert_eq!(stored.date_ms, signed);
    assert_eq!(stored.status, ConsentStatus::Active);
    assert_eq!(w.access(clinician, lab, "TREAT").decision, Decision::Permit);
    // A plain grant is signed at the block time.
    let granted: u64 = w
        .grant(patient, "treatment", 30, Decision::Deny, vec![])
        .decode();
    let granted = w
        .chain
        .view::<Option<Consent>>(patient, consent, "consent", &granted)
        .unwrap();
    assert_eq!(granted.date_ms, as_signed_ms(w.chain.timestamp_ms()));
}

#[test]
fn consent_fuel_and_events_match_the_snapshot() {
    use std::fmt::Write;
    let mut w = world();
    let mut report = String::new();
    writeln!(
        report,
        "consent code hash {}",
        salus_primitives::keccak256(salus_contracts::CONSENT)
    )
    .unwrap();
    let (patient, hospital) = (w.patient, w.hospital);
    // The custodian's first record of the patient files the subject handle; the pseudonym
    // files its own for its consents (`set_subject`).
    let lab = Hash([1; 32]);
    let registered = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &registration(lab, patient, &["N"], "Observation", 0, hospital),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
    w.dates.insert(lab, 0);
    let filed = w
        .chain
        .call(patient, w.consent, "set_subject", &(patient, subject()));
    assert!(filed.is_success(), "{:?}", filed.receipt.status);
    writeln!(
        report,
        "register_record (first of the relationship): fuel={}\nset_subject: fuel={}",
        registered.fuel_used(),
        filed.fuel_used()
    )
    .unwrap();
    let note = w.record(2, &["PSY"], "DocumentReference");
    let clinician = w.clinician();
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    let mut deny = provision(Decision::Deny);
    deny.label_tags = tags(&["PSY"]);
    permit.children = vec![deny];
    let grant = w.grant(
        w.patient,
        "patient-privacy",
        30,
        Decision::Deny,
        vec![permit],
    );
    writeln!(
        report,
        "grant: fuel={} events={}",
        grant.fuel_used(),
        grant.events().len()
    )
    .unwrap();
    for (name, record) in [("lab", lab), ("note", note)] {
        let arguments = (
            clinician,
            "PRCP".to_string(),
            record,
            Action::Access,
            "TREAT".to_string(),
            None::<Address>,
            None::<Vec<PeriodAnswer>>,
        );
        let hospital = w.hospital;
        let result = w
            .chain
            .call(hospital, w.consent, "record_access", &arguments);
        let decision: AccessDecision = result.decode();
        writeln!(
            report,
            "access {name}: {:?} path={:?} fuel={} events={}",
            decision.decision,
            decision.provision_path,
            result.fuel_used(),
            result.events().len()
        )
        .unwrap();
    }
    // The same decisions asked as a view (`can_access`, a dry run: no intrinsic fuel, nothing
    // written).
    for (name, record) in [("lab", lab), ("note", note)] {
        let arguments = (
            clinician,
            "PRCP".to_string(),
            Action::Access,
            record,
            "TREAT".to_string(),
            None::<u64>,
            None::<Vec<PeriodAnswer>>,
        );
        let (decision, fuel): (AccessDecision, u64) =
            w.chain
                .view_with_fuel(clinician, w.consent, "can_access", &arguments);
        writeln!(
            report,
            "can_access {name}: {:?} fuel={fuel}",
            decision.decision
        )
        .unwrap();
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/consent_fuel.snap");
    salus_testkit::assert_snapshot(&path, &report);
}

/// Where `needle` occurs in `haystack`, if anywhere.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[test]
fn no_clear_label_class_or_date_of_a_record_is_in_consents_state_events_or_arguments() {
    // A date no block time or counter is near: 2005-03-18.
    const DATE_MS: i64 = 1_111_111_111_111;
    let mut w = world();
    let hospital = w.hospital;
    let doctor = w.clinician();
    let mut results = Vec::new();
    let psych = w.record_with(
        hospital,
        1,
        &["PSY", "HIV"],
        "Observation",
        DATE_MS,
        hospital,
    );
    let lab = w.record_with(hospital, 2, &["N"], "Observation", DATE_MS, hospital);
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    permit.class_tags = tags(&["Observation"]);
    permit.data_period_commitment = Some(w.data_period_commitment(Period {
        start_ms: DATE_MS - 1,
        end_ms: DATE_MS + 1,
    }));
    let mut deny = provision(Decision::Deny);
    deny.label_tags = tags(&["PSY", "HIV"]);
    permit.children = vec![deny];
    let granted = w.grant(
        w.patient,
        "patient-privacy",
        30,
        Decision::Deny,
        vec![permit],
    );
    assert!(granted.is_success(), "{:?}", granted.receipt.status);
    results.push(granted);
    // The decisions are those of clear codes: the lab result permitted (its date attested
    // inside the period), the psychiatric note denied by the nested provision.
    assert_eq!(w.access(doctor, lab, "TREAT").decision, Decision::Permit);
    let refused = w.access(doctor, psych, "TREAT");
    assert_eq!(
        (refused.decision, refused.provision_path),
        (Decision::Deny, vec![0, 0])
    );
    results.push(w.record_by(hospital, doctor, "PRCP", lab, None));

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for code in ["PSY", "HIV", "Observation"] {
        needles.push((format!("{code} UTF-8"), code.as_bytes().to_vec()));
        needles.push((format!("{code} SCALE"), code.to_string().encode()));
    }
    needles.push(("the date as i64 LE".into(), DATE_MS.to_le_bytes().to_vec()));
    needles.push((
        "the date as u64 LE".into(),
        (DATE_MS as u64).to_le_bytes().to_vec(),
    ));
    let check = |what: &str, bytes: &[u8]| {
        for (name, needle) in &needles {
            assert_eq!(find(bytes, needle), None, "{name} in {what}");
        }
    };
    // State: the records, the consent, the audit trail and the subject on file.
    let patient_key = w.patient.encode();
    for record in [psych, lab] {
        let key = [b"r/".as_slice(), &record.0].concat();
        let stored = w.chain.storage(&w.consent, &key).expect("indexed");
        check("a record entry", &stored);
    }
    let consent = w
        .chain
        .storage(&w.consent, &[b"c/".as_slice(), &0u64.encode()].concat())
        .expect("the consent is stored");
    check("the consent", &consent);
    let mut audited = 0;
    for sequence in 0u64..32 {
        let key = [b"a/".as_slice(), &patient_key, &sequence.to_be_bytes()].concat();
        if let Some(entry) = w.chain.storage(&w.consent, &key) {
            check("an audit entry", &entry);
            audited += 1;
        }
    }
    assert_eq!(audited, 4, "the grant and three accesses");
    let subject_key = [b"sh/".as_slice(), &(hospital, w.patient).encode()].concat();
    assert_eq!(
        w.chain.storage(&w.consent, &subject_key),
        Some(subject().encode()),
        "the subject handle is on file with the relationship"
    );
    // Events: no clear code or date, and never the patient's address as a topic.
    let mut padded = [0u8; 32];
    padded[..20].copy_from_slice(&w.patient.0);
    let events: Vec<_> = results.iter().flat_map(|result| result.events()).collect();
    assert!(!events.is_empty());
    for event in events {
        check("an event", &event.data);
        for topic in &event.topics {
            check("an event topic", &topic.0);
            assert_ne!(*topic, Hash(padded), "the patient's address as a topic");
        }
    }
    let indexed = w
        .chain
        .call(
            hospital,
            w.consent,
            "register_record",
            &registration(
                Hash([3; 32]),
                w.patient,
                &["HIV"],
                "Observation",
                DATE_MS,
                hospital,
            ),
        )
        .events()
        .to_vec();
    assert_eq!(indexed[0].topics[1], subject(), "RecordIndexed's topic");
    // Arguments: every transaction sent to the contract.
    let mut sent = 0;
    for (_, transaction) in w.chain.history() {
        if let salus_primitives::Action::Call {
            contract, input, ..
        } = &transaction.transaction.action
            && *contract == w.consent
        {
            check("a transaction's arguments", input);
            sent += 1;
        }
    }
    assert!(sent >= 6, "{sent} transactions to the contract");
}

#[test]
fn tags_under_another_blinding_key_match_nothing_of_this_relationship() {
    let mut w = world();
    let doctor = w.clinician();
    let note = w.record(1, &["HIV"], "Observation");
    // A deny naming HIV under another relationship's key: unrelated tags, so it matches
    // nothing here, and the same code under this relationship's key does.
    let other_key = [0xc2; 32];
    assert_ne!(blinded_tag(&other_key, "HIV"), tags(&["HIV"])[0]);
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    let mut deny = provision(Decision::Deny);
    deny.label_tags = vec![blinded_tag(&other_key, "HIV")];
    permit.children = vec![deny.clone()];
    let first: u64 = w
        .grant(
            w.patient,
            "patient-privacy",
            30,
            Decision::Deny,
            vec![permit.clone()],
        )
        .decode();
    assert_eq!(w.access(doctor, note, "TREAT").decision, Decision::Permit);
    deny.label_tags = tags(&["HIV"]);
    permit.children = vec![deny];
    let now = w.chain.timestamp_ms();
    let arguments = (
        w.patient,
        "patient-privacy".to_string(),
        "59284-0".to_string(),
        period(now, now + 30 * DAY_MS),
        Decision::Deny,
        vec![permit],
        Hash([9; 32]),
        Some(first),
    );
    let patient = w.patient;
    assert!(
        w.chain
            .call(patient, w.consent, "grant", &arguments)
            .is_success()
    );
    let denied = w.access(doctor, note, "TREAT");
    assert_eq!(
        (denied.decision, denied.provision_path),
        (Decision::Deny, vec![0, 0])
    );
}

/// The topic after the event name (the subject handle) of every event of `result`.
fn subjects(result: &CallResult) -> Vec<Hash> {
    result
        .events()
        .iter()
        .map(|event| event.topics[1])
        .collect()
}

#[test]
fn a_custodian_keeps_the_subject_handle_of_its_first_record_of_a_patient() {
    let mut w = world();
    let patient = w.patient;
    let hospital = w.hospital;
    let first = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &registration(Hash([5; 32]), patient, &["N"], "Observation", 0, hospital),
    );
    assert_eq!(subjects(&first), vec![subject()]);
    // A later record of the same custodian naming another subject for the patient is refused.
    let mut arguments = registration(Hash([4; 32]), patient, &["N"], "Observation", 0, hospital);
    arguments.6 = subject_handle(&[0xc2; 32]);
    assert_eq!(
        w.chain
            .call(hospital, w.consent, "register_record", &arguments)
            .revert_message(),
        "ConsentError::SubjectMismatch"
    );
}

#[test]
fn a_stranger_front_running_a_record_cannot_change_the_relationships_subject_handle() {
    let mut w = world();
    let (patient, hospital) = (w.patient, w.hospital);
    let doctor = w.clinician();
    // Another custodian (any active provider organisation may index records) sees the
    // hospital's pending registration for the patient's pseudonym and gets in first with a
    // bogus handle; a stranger outside the registry tries to file one for the pseudonym.
    let rival = w.chain.new_account(10u128.pow(18));
    w.register(rival, Role::ProviderOrganisation);
    let bogus = subject_handle(&[0xba; 32]);
    let mut front_run = registration(Hash([0x40; 32]), patient, &["N"], "Observation", 0, rival);
    front_run.6 = bogus;
    let rival_record = w
        .chain
        .call(rival, w.consent, "register_record", &front_run);
    assert_eq!(
        subjects(&rival_record),
        vec![bogus],
        "the rival's own record"
    );
    let stranger = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        w.chain
            .call(stranger, w.consent, "set_subject", &(patient, bogus))
            .revert_message(),
        "ConsentError::NotAuthorised",
        "only the pseudonym's own key (or its delegate) files its own handle"
    );
    // The hospital's registration goes through unchanged, under the relationship's handle,
    // and so do the events of every access to its records.
    let registered = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &registration(Hash([5; 32]), patient, &["N"], "Observation", 0, hospital),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
    assert_eq!(subjects(&registered), vec![subject()]);
    w.dates.insert(Hash([5; 32]), 0);
    let mut permit = provision(Decision::Permit);
    permit.purposes = vec!["TREAT".into()];
    assert!(
        w.grant(patient, "treatment", 30, Decision::Deny, vec![permit])
            .is_success()
    );
    let access = w.record_by(hospital, doctor, "PRCP", Hash([5; 32]), None);
    assert_eq!(subjects(&access), vec![subject()]);
    // Whatever the rival files stays its own relationship's.
    let mut again = registration(Hash([0x41; 32]), patient, &["N"], "Observation", 0, rival);
    again.6 = subject_handle(&[0xbb; 32]);
    assert_eq!(
        w.chain
            .call(rival, w.consent, "register_record", &again)
            .revert_message(),
        "ConsentError::SubjectMismatch"
    );
    let later = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &registration(Hash([6; 32]), patient, &["N"], "Observation", 0, hospital),
    );
    assert_eq!(subjects(&later), vec![subject()]);
}

#[test]
fn a_consent_written_before_any_record_carries_the_handle_the_patient_filed() {
    let mut w = world();
    let patient = w.patient;
    // Nothing filed: the consent's event names nobody (the zero handle), never the patient's
    // address.
    let unfiled = w.grant(patient, "treatment", 30, Decision::Deny, vec![]);
    assert_eq!(subjects(&unfiled), vec![Hash::ZERO]);
    // The patient's wallet files the relationship's handle with the pseudonym's own key before
    // its first consent: every consent and delegation event carries it, with no record yet.
    let filed = w
        .chain
        .call(patient, w.consent, "set_subject", &(patient, subject()));
    assert!(filed.is_success(), "{:?}", filed.receipt.status);
    let granted = w.grant(patient, "treatment", 30, Decision::Deny, vec![]);
    assert_eq!(subjects(&granted), vec![subject()]);
    let id: u64 = granted.decode();
    let revoked = w.chain.call(patient, w.consent, "revoke", &id);
    assert_eq!(subjects(&revoked), vec![subject()]);
    let guardian = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let attested = w.chain.call(
        w.authority,
        w.consent,
        "attest_delegation",
        &(
            patient,
            guardian,
            "GUARD".to_string(),
            vec![Action::Access],
            vec!["TREAT".to_string()],
            period(now, now + 365 * DAY_MS),
            Hash([5; 32]),
        ),
    );
    assert_eq!(subjects(&attested), vec![subject()]);
    // A delegate in force may file it too (a guardian for a minor whose wallet it holds).
    let refiled = w
        .chain
        .call(guardian, w.consent, "set_subject", &(patient, subject()));
    assert!(refiled.is_success(), "{:?}", refiled.receipt.status);
    // A record indexed later names the same handle (its custodian's filing).
    let record = w.chain.call(
        w.hospital,
        w.consent,
        "register_record",
        &registration(Hash([5; 32]), patient, &["N"], "Observation", 0, w.hospital),
    );
    assert_eq!(subjects(&record), vec![subject()]);
}

/// 2019-01-01, 2020-01-01, 2021-01-01 and 2022-01-01 (UTC) in ms since the epoch.
const YEAR_2019_MS: i64 = 1_546_300_800_000;
const YEAR_2020_MS: i64 = 1_577_836_800_000;
const YEAR_2021_MS: i64 = 1_609_459_200_000;
const YEAR_2022_MS: i64 = 1_640_995_200_000;

#[test]
fn each_data_period_commitment_gets_its_own_answer() {
    let mut w = world();
    let hospital = w.hospital;
    let doctor = w.clinician();
    let in_2019 = w.record_dated(1, 1_560_000_000_000, hospital);
    let in_2021 = w.record_dated(2, 1_620_000_000_000, hospital);
    let in_2023 = w.record_dated(3, 1_680_000_000_000, hospital);
    // Records of 2019 are permitted for treatment, records of 2021 denied: two provisions,
    // two periods, two commitments — one date answer per decision could not say "inside the
    // first, outside the second".
    let mut permit_2019 = provision(Decision::Permit);
    permit_2019.purposes = vec!["TREAT".into()];
    permit_2019.data_period_commitment = Some(w.data_period_commitment(Period {
        start_ms: YEAR_2019_MS,
        end_ms: YEAR_2020_MS,
    }));
    let mut deny_2021 = provision(Decision::Deny);
    deny_2021.data_period_commitment = Some(w.data_period_commitment(Period {
        start_ms: YEAR_2021_MS,
        end_ms: YEAR_2022_MS,
    }));
    let patient = w.patient;
    assert!(
        w.grant(
            patient,
            "treatment",
            30,
            Decision::Deny,
            vec![permit_2019, deny_2021]
        )
        .is_success()
    );
    let decided = |decision: AccessDecision| (decision.decision, decision.provision_path);
    assert_eq!(
        w.period_answers(in_2019)
            .unwrap()
            .iter()
            .map(|answer| answer.inside)
            .collect::<Vec<_>>(),
        vec![true, false]
    );
    assert_eq!(
        decided(w.access(doctor, in_2019, "TREAT")),
        (Decision::Permit, vec![0])
    );
    assert_eq!(
        decided(w.access(doctor, in_2021, "TREAT")),
        (Decision::Deny, vec![1])
    );
    assert_eq!(
        decided(w.access(doctor, in_2023, "TREAT")),
        (Decision::Deny, vec![]),
        "in neither period: the base decision"
    );
    // Without answers the permit cannot match and the deny does.
    let unattested: AccessDecision = w.record_by(doctor, doctor, "PRCP", in_2019, None).decode();
    assert_eq!(decided(unattested), (Decision::Deny, vec![1]));
    // An answer for one commitment says nothing of another: answering only the permit's
    // leaves the deny unattested, and it matches.
    let only_first = w.period_answers(in_2019).unwrap()[..1].to_vec();
    let partial: AccessDecision = w.chain.view(
        doctor,
        w.consent,
        "can_access",
        &(
            doctor,
            "PRCP".to_string(),
            Action::Access,
            in_2019,
            "TREAT".to_string(),
            None::<u64>,
            Some(only_first),
        ),
    );
    assert_eq!(decided(partial), (Decision::Deny, vec![1]));
    // At most 64 answers.
    let too_many = vec![
        PeriodAnswer {
            commitment: Hash::ZERO,
            inside: true,
        };
        65
    ];
    let refused = w.chain.call(
        hospital,
        w.consent,
        "record_access",
        &(
            doctor,
            "PRCP".to_string(),
            in_2019,
            Action::Access,
            "TREAT".to_string(),
            None::<Address>,
            Some(too_many),
        ),
    );
    assert_eq!(refused.revert_message(), "ConsentError::TooComplex");
}
