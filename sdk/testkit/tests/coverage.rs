//! The coverage contract (contracts/coverage) through the six scenarios of DOMAIN.md §2 in the
//! real VM, with the registry authorising payers and providers and the consent contract gating
//! payers' access to clinical attachments.

use consent::{AccessDecision, AuditEntry, Decision, Provision};
use coverage::{
    ADVERSE_REVIEWER_ROLE, ActionCode, Adjustment, AppealOutcome, Attachment, AttachmentAccess,
    AuthorisationRequirement, AutoApprove, Benefit, BenefitLine, Category, CertificationType,
    ClaimCheck, ClaimLine, ClaimLineResult, ClaimStatus, CodeRange, Coverage, CoverageLevel,
    CoverageStatus, CoverageTerms, Decided, DecidedBy, DecisionPosted, Edit, EditReason,
    Eligibility, GroupCode, LineDecision, MetricsReport, NetworkIndicator, Overdue, Period,
    PlanType, PostedLine, Priority, QuantityPerPeriod, Reason, Request, RequestStatus,
    ReviewerDecision, Rule, RuleSet, SealedRequest, SealedSubmitted, ServiceLine, Submission,
    Suggestion,
};
use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::{Address, Hash};
use salus_testkit::{CallResult, TestChain};

const HOUR_MS: u64 = 60 * 60 * 1000;
const DAY_MS: u64 = 24 * HOUR_MS;
/// The test chain's clock starts on 2026-01-01.
const YEAR_NOW: u16 = 2026;
const IN_NETWORK_NPI: &str = "1234567893";
const OUT_OF_NETWORK_NPI: &str = "1987654325";
/// A referring practitioner.
const REFERRING_NPI: &str = "1003000126";
/// An imaging centre a referral names as the servicing provider.
const IMAGING_NPI: &str = "1104000137";
/// Lumbar spine MRI without contrast.
const LUMBAR_MRI: &str = "72148";
/// Therapeutic exercise, per 15 minutes (physical therapy visits).
const THERAPY: &str = "97110";
/// Screening mammography (sex and age edits).
const MAMMOGRAPHY: &str = "77067";
/// Office visit (no prior authorisation).
const OFFICE_VISIT: &str = "99213";
/// Lumbar radiculopathy: a diagnosis that supports the MRI.
const RADICULOPATHY: &str = "M54.16";
/// Conservative-therapy attestation template.
const ATTESTATION_TEMPLATE: Hash = Hash([0xa7; 32]);

const RULE_MRI: u32 = 10;
const RULE_THERAPY: u32 = 20;
const RULE_MAMMOGRAPHY: u32 = 30;
const RULE_MRI_REVIEW: u32 = 40;
const RULE_CT: u32 = 50;
/// Abdominal CT (auto-approval conditions).
const ABDOMINAL_CT: &str = "74177";

struct World {
    chain: TestChain,
    authority: Address,
    registry: Address,
    consent: Address,
    coverage: Address,
    payer: Address,
    hospital: Address,
    patient: Address,
    member: Hash,
    plan_end: u64,
    /// The member's birth year, which coverage does not store: every clear submission
    /// carries it.
    birth_year: u16,
    /// The member's sex, carried the same way.
    sex: String,
}

fn register(w: &mut TestChain, authority: Address, registry: Address, who: Address, role: Role) {
    register_npi(w, authority, registry, who, role, IN_NETWORK_NPI);
}

fn register_npi(
    w: &mut TestChain,
    authority: Address,
    registry: Address,
    who: Address,
    role: Role,
    npi: &str,
) {
    let now = w.timestamp_ms();
    let registered = w.call(
        authority,
        registry,
        "register",
        &(
            who,
            vec![role],
            Some(npi.to_string()),
            None::<String>,
            None::<String>,
            0u64,
            now + 3650 * DAY_MS,
            Hash([1; 32]),
        ),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
}

fn reason(code: &str, text: &str) -> Reason {
    Reason {
        code: code.into(),
        text: text.into(),
    }
}

/// The payer's reasons, one per edit (codes from its licensed decision-reason list).
fn reasons() -> Vec<EditReason> {
    [
        (Edit::NotEligible, "0U", "Not eligible on date of service"),
        (Edit::Network, "0N", "Out of network provider"),
        (Edit::Age, "0A", "Age outside policy limits"),
        (Edit::Sex, "0S", "Sex inconsistent with service"),
        (Edit::PlaceOfService, "0P", "Place of service not covered"),
        (Edit::Diagnosis, "0D", "Diagnosis does not support service"),
        (Edit::Quantity, "0Q", "Units exceed benefit remaining"),
        (Edit::Documentation, "0M", "Medical documentation requested"),
        (Edit::ClinicalReview, "0R", "Clinical review required"),
        (Edit::Extension, "0E", "Extension exceeds policy"),
    ]
    .into_iter()
    .map(|(edit, code, text)| EditReason {
        edit,
        reason: reason(code, text),
    })
    .collect()
}

fn range(from: &str, to: &str) -> CodeRange {
    CodeRange {
        from: from.into(),
        to: to.into(),
    }
}

fn rule(id: u32, service_type: &str, procedures: Vec<CodeRange>) -> Rule {
    Rule {
        id,
        service_type: service_type.into(),
        procedures,
        diagnoses: vec![],
        min_age: None,
        max_age: None,
        sexes: vec![],
        places_of_service: vec![],
        network_required: false,
        quantity_per_period: None,
        prior_authorisation: true,
        documentation: None,
        auto_approve: Some(AutoApprove {
            diagnoses: vec![],
            max_quantity: None,
            in_network_only: false,
        }),
        authorised_days: 60,
    }
}

/// The payer's policy: MRI auto-approved with a qualifying diagnosis and the attestation;
/// therapy visits counted against the benefit; mammography limited by sex and age.
fn policy_rules() -> Vec<Rule> {
    let mut mri = rule(RULE_MRI, "62", vec![range("72141", "72158")]);
    mri.diagnoses = vec!["M54.1".into(), "M51.1".into()];
    mri.places_of_service = vec!["11".into(), "22".into()];
    mri.documentation = Some(ATTESTATION_TEMPLATE);
    mri.quantity_per_period = Some(QuantityPerPeriod {
        units: 1,
        days: 180,
    });
    let mut therapy = rule(RULE_THERAPY, "PT", vec![range("97110", "97140")]);
    therapy.authorised_days = 90;
    let mut mammography = rule(RULE_MAMMOGRAPHY, "30", vec![range("77065", "77067")]);
    mammography.sexes = vec!["F".into()];
    mammography.min_age = Some(40);
    mammography.max_age = Some(74);
    let mut reviewed = rule(RULE_MRI_REVIEW, "62", vec![range("70551", "70553")]);
    reviewed.auto_approve = None;
    let mut ct = rule(RULE_CT, "62", vec![range("74176", "74178")]);
    ct.diagnoses = vec!["R10".into(), "K35".into()];
    ct.auto_approve = Some(AutoApprove {
        diagnoses: vec!["R10".into()],
        max_quantity: Some(1),
        in_network_only: true,
    });
    vec![mri, therapy, mammography, reviewed, ct]
}

fn benefit(quantity_limit: Option<u32>, quantity_used: u32) -> Benefit {
    Benefit {
        copay_cents: 2_500,
        coinsurance_bps: 2_000,
        deductible_cents: 150_000,
        deductible_remaining_cents: 90_000,
        out_of_pocket_max_cents: 600_000,
        out_of_pocket_remaining_cents: 420_000,
        quantity_limit,
        quantity_used,
        authorisation_required: false,
        network: NetworkIndicator::InNetwork,
    }
}

fn world_with(plan_type: PlanType, birth_year: u16, sex: &str) -> World {
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
    let coverage = chain
        .deploy(
            authority,
            salus_contracts::COVERAGE,
            "new",
            &(registry, consent),
        )
        .unwrap();
    let payer = chain.new_account(10u128.pow(20));
    let hospital = chain.new_account(10u128.pow(20));
    let patient = chain.new_account(10u128.pow(20));
    register(&mut chain, authority, registry, payer, Role::Payer);
    register(
        &mut chain,
        authority,
        registry,
        hospital,
        Role::ProviderOrganisation,
    );
    register(&mut chain, authority, registry, patient, Role::Patient);
    let now = chain.timestamp_ms();
    let plan_end = now + 365 * DAY_MS;
    let member = Hash([0x4d; 32]);
    let mut w = World {
        chain,
        authority,
        registry,
        consent,
        coverage,
        payer,
        hospital,
        patient,
        member,
        plan_end,
        birth_year,
        sex: sex.into(),
    };
    let covered = w.as_payer(
        "set_coverage",
        &(
            member,
            Coverage {
                dependent: 0,
                beneficiary: patient,
                plan: "GOLD-HMO".into(),
                group: "G-100".into(),
                plan_type,
                period: Period {
                    start_ms: now - DAY_MS,
                    end_ms: plan_end,
                },
                status: CoverageStatus::Active,
                primary_care: Some(IN_NETWORK_NPI.into()),
            },
        ),
    );
    assert!(covered.is_success(), "{:?}", covered.receipt.status);
    for (service_type, benefit) in [
        ("30", benefit(None, 0)),
        ("62", benefit(None, 0)),
        ("PT", benefit(Some(20), 12)),
    ] {
        let set = w.as_payer("set_benefit", &(member, service_type.to_string(), benefit));
        assert!(set.is_success(), "{:?}", set.receipt.status);
    }
    assert!(
        w.as_payer(
            "set_network",
            &(
                "GOLD-HMO".to_string(),
                vec![IN_NETWORK_NPI.to_string()],
                true
            ),
        )
        .is_success()
    );
    let published = w.as_payer(
        "publish_rules",
        &(
            Hash([0x90; 32]),
            // The policy outlives the plan year.
            Period {
                start_ms: now - DAY_MS,
                end_ms: plan_end + 365 * DAY_MS,
            },
            policy_rules(),
            reasons(),
        ),
    );
    assert_eq!(published.decode::<u32>(), 1);
    w
}

fn world() -> World {
    world_with(PlanType::Hmo, YEAR_NOW - 45, "F")
}

impl World {
    fn as_payer(&mut self, message: &str, arguments: &impl Encode) -> CallResult {
        let payer = self.payer;
        self.chain.call(payer, self.coverage, message, arguments)
    }

    fn as_hospital(&mut self, message: &str, arguments: &impl Encode) -> CallResult {
        let hospital = self.hospital;
        self.chain.call(hospital, self.coverage, message, arguments)
    }

    fn line(&self, procedure: &str, quantity: u32) -> ServiceLine {
        let start = self.chain.timestamp_ms() + DAY_MS;
        ServiceLine {
            procedure: procedure.into(),
            modifiers: vec![],
            quantity,
            from_ms: start,
            to_ms: start + DAY_MS,
            place_of_service: "11".into(),
        }
    }

    fn submission(&self, trace: &str, line: ServiceLine, diagnoses: &[&str]) -> Submission {
        Submission {
            trace: trace.into(),
            payer: self.payer,
            member: self.member,
            servicing_npi: IN_NETWORK_NPI.into(),
            servicing_provider: None,
            category: Category::Hs,
            lines: vec![line],
            diagnoses: diagnoses.iter().map(|code| code.to_string()).collect(),
            priority: Priority::Standard,
            attachments: vec![],
            birth_year: self.birth_year,
            sex: self.sex.clone(),
        }
    }

    /// Submits as the provider the servicing NPI names: the hospital, or a provider
    /// organisation registered now with that NPI.
    fn submit(&mut self, submission: &Submission) -> CallResult {
        let provider = if submission.servicing_npi == IN_NETWORK_NPI {
            self.hospital
        } else {
            self.provider_with_npi(&submission.servicing_npi)
        };
        self.chain
            .call(provider, self.coverage, "submit", submission)
    }

    /// A provider organisation the registry attests with `npi`.
    fn provider_with_npi(&mut self, npi: &str) -> Address {
        self.participant_with_npi(Role::ProviderOrganisation, npi)
    }

    /// A participant of `role` the registry attests with `npi`.
    fn participant_with_npi(&mut self, role: Role, npi: &str) -> Address {
        let participant = self.chain.new_account(10u128.pow(18));
        let (authority, registry) = (self.authority, self.registry);
        register_npi(&mut self.chain, authority, registry, participant, role, npi);
        participant
    }

    /// The registry's authority suspends `participant`.
    fn suspend(&mut self, participant: Address) {
        let (authority, registry) = (self.authority, self.registry);
        let suspended = self.chain.call(
            authority,
            registry,
            "suspend",
            &(participant, Hash([2; 32])),
        );
        assert!(suspended.is_success(), "{:?}", suspended.receipt.status);
    }

    fn request(&self, trace: &str) -> Request {
        self.chain
            .view::<Option<Request>>(self.patient, self.coverage, "request", &trace.to_string())
            .expect("request stored")
    }

    fn metrics(&self, priority: Priority, code: Option<&str>) -> MetricsReport {
        self.chain.view(
            self.patient,
            self.coverage,
            "metrics",
            &(self.payer, priority, code.map(str::to_string)),
        )
    }

    fn claim(
        &mut self,
        seed: u8,
        authorisation: Option<&str>,
        lines: Vec<ClaimLine>,
    ) -> Vec<ClaimLineResult> {
        let arguments = (
            Hash([seed; 32]),
            self.payer,
            self.member,
            authorisation.map(str::to_string),
            lines,
        );
        self.as_hospital("check_claim", &arguments).decode()
    }

    /// A utilisation-management key of the payer that the registry attests as a clinician:
    /// the only kind of reviewer that may make an adverse decision.
    fn clinician(&mut self) -> Address {
        let clinician = self.chain.new_account(10u128.pow(18));
        let (authority, registry) = (self.authority, self.registry);
        register(
            &mut self.chain,
            authority,
            registry,
            clinician,
            ADVERSE_REVIEWER_ROLE,
        );
        assert!(
            self.as_payer("set_reviewer", &(clinician, true))
                .is_success()
        );
        clinician
    }

    /// `reviewer` decides every pended line of `trace` as the rules suggested (a line pended
    /// without a suggestion is certified in total).
    fn decide_as_suggested(&mut self, reviewer: Address, trace: &str) -> CallResult {
        let request = self.request(trace);
        let decisions: Vec<ReviewerDecision> = request
            .decisions
            .iter()
            .zip(&request.lines)
            .map(|(decision, line)| match &decision.suggested {
                Some(suggestion) => ReviewerDecision {
                    action: suggestion.action.clone(),
                    quantity: suggestion.quantity,
                    reason: decision.reason.clone(),
                },
                None => ReviewerDecision {
                    action: ActionCode::A1,
                    quantity: line.quantity,
                    reason: None,
                },
            })
            .collect();
        self.chain.call(
            reviewer,
            self.coverage,
            "decide",
            &(trace.to_string(), decisions),
        )
    }

    /// An MRI request with the qualifying diagnosis and the attestation attached.
    fn qualifying_mri(&self, trace: &str) -> Submission {
        let mut submission = self.submission(trace, self.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
        submission.attachments = vec![Attachment {
            template: ATTESTATION_TEMPLATE,
            record: Hash([0xd0; 32]),
        }];
        submission
    }
}

fn claim_line(procedure: &str, quantity: u32, service_ms: u64, diagnoses: &[&str]) -> ClaimLine {
    ClaimLine {
        procedure: procedure.into(),
        quantity,
        service_ms,
        diagnoses: diagnoses.iter().map(|code| code.to_string()).collect(),
    }
}

/// The action the rules suggest for a line they may not decide alone: the line is pended
/// (`A4`) to a clinician.
fn suggested(decision: &LineDecision) -> ActionCode {
    assert_eq!(decision.action, ActionCode::A4, "adverse lines pend");
    let suggestion = decision.suggested.as_ref().expect("a suggestion");
    assert_eq!(suggestion.reviewer_role, ADVERSE_REVIEWER_ROLE);
    suggestion.action.clone()
}

/// A claim line's CARCs.
fn carcs(result: &ClaimLineResult) -> Vec<&str> {
    result
        .adjustments
        .iter()
        .map(|adjustment| adjustment.carc.as_str())
        .collect()
}

fn the_decision(result: &CallResult) -> LineDecision {
    let mut decisions: Vec<LineDecision> = result.decode();
    assert_eq!(decisions.len(), 1);
    decisions.remove(0)
}

#[test]
fn scenario_1_eligibility_answers_active_inactive_and_rejections() {
    let w = world();
    let today = w.chain.timestamp_ms();
    // Eligibility inquiries come from providers.
    let ask = |member: Hash, date_ms: u64| -> Eligibility {
        w.chain.view(
            w.hospital,
            w.coverage,
            "eligibility",
            &(w.payer, member, "30".to_string(), date_ms),
        )
    };
    let Eligibility::Found(plan, period, lines) = ask(w.member, today) else {
        panic!("the member is known");
    };
    assert_eq!(plan, "GOLD-HMO");
    assert_eq!(period.end_ms, w.plan_end);
    assert_eq!(lines[0].information, "1", "active coverage");
    let copay = lines
        .iter()
        .find(|line| line.information == "B")
        .expect("a copay line");
    assert_eq!(copay.amount_cents, Some(2_500));
    assert_eq!(copay.service_type, "30");
    let deductible_left = lines
        .iter()
        .find(|line| line.information == "C" && line.time_qualifier == "29")
        .expect("deductible remaining");
    assert_eq!(deductible_left.amount_cents, Some(90_000));

    let Eligibility::Found(_, _, after_end) = ask(w.member, w.plan_end + DAY_MS) else {
        panic!("the member is known");
    };
    assert_eq!(
        after_end[0].information, "6",
        "inactive after the plan ends"
    );
    assert_eq!(
        after_end.len(),
        1,
        "no benefits quoted for an inactive date"
    );

    assert_eq!(
        ask(Hash([0x55; 32]), today),
        Eligibility::Rejected("75".into(), "Subscriber/Insured Not Found".into())
    );
    assert_eq!(
        ask(Hash([0; 32]), today),
        Eligibility::Rejected("72".into(), "Invalid/Missing Member ID".into())
    );
}

#[test]
fn scenario_2_a_qualifying_mri_is_certified_automatically_for_sixty_days() {
    let mut w = world();
    let submission = w.qualifying_mri("TRN-MRI-1");
    let result = w.submit(&submission);
    let decision = the_decision(&result);
    assert_eq!(decision.action, ActionCode::A1);
    assert_eq!(decision.certification.as_deref(), Some("TRN-MRI-1-1"));
    assert_eq!(decision.quantity, 1);
    assert_eq!(decision.decided_by, DecidedBy::Auto);
    assert_eq!(decision.rule_ids, vec![RULE_MRI]);
    assert_eq!(decision.rule_set, 1);
    let period = decision.period.expect("an authorised window");
    assert_eq!(period.start_ms, submission.lines[0].from_ms);
    assert_eq!(period.end_ms - period.start_ms, 60 * DAY_MS);
    let events = result.events_named::<Decided>("Decided");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ActionCode::A1);
    assert_eq!(events[0].beneficiary, w.patient);
    assert_eq!(events[0].rule_ids, vec![RULE_MRI]);

    let rules: Option<RuleSet> =
        w.chain
            .view(w.patient, w.coverage, "rules", &(w.payer, None::<u32>));
    let rules = rules.expect("the payer published rules");
    assert_eq!((rules.version, rules.policy), (1, Hash([0x90; 32])));
    assert_eq!(rules.rules.len(), policy_rules().len());
    let stored = w.request("TRN-MRI-1");
    assert_eq!(stored.status, RequestStatus::Decided);
    assert_eq!(stored.due_ms - stored.received_ms, 7 * DAY_MS);
    // Decided in the submitting transaction: zero turnaround, counted as approved.
    let metrics = w.metrics(Priority::Standard, Some(LUMBAR_MRI));
    assert_eq!(metrics.counts.approved, 1);
    assert_eq!(metrics.approved_bps, 10_000);
    assert_eq!(metrics.median_turnaround_ms, 0);
    // A duplicate trace number is refused.
    assert_eq!(
        w.submit(&submission).revert_message(),
        "CoverageError::Duplicate"
    );
    // The office visit needs no authorisation.
    let visit = w.submission("TRN-VISIT", w.line(OFFICE_VISIT, 1), &["Z00.00"]);
    assert_eq!(the_decision(&w.submit(&visit)).action, ActionCode::Na);
}

#[test]
fn scenario_3_without_documentation_the_request_pends_until_a_reviewer_certifies() {
    let mut w = world();
    let submission = w.submission("TRN-MRI-2", w.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
    let pended = the_decision(&w.submit(&submission));
    assert_eq!(pended.action, ActionCode::A4);
    assert_eq!(
        pended.reason,
        Some(reason("0M", "Medical documentation requested"))
    );
    assert_eq!(pended.rule_ids, vec![RULE_MRI]);
    let due: Vec<(String, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0, "TRN-MRI-2");

    w.chain.advance_time(5 * HOUR_MS);
    let documented = w.as_hospital(
        "add_documentation",
        &(
            "TRN-MRI-2".to_string(),
            Attachment {
                template: ATTESTATION_TEMPLATE,
                record: Hash([0xd1; 32]),
            },
        ),
    );
    assert!(documented.is_success(), "{:?}", documented.receipt.status);
    assert_eq!(
        w.request("TRN-MRI-2").status,
        RequestStatus::InformationReceived
    );

    // Another payer's key cannot decide; the payer's reviewer can.
    let reviewer = w.chain.new_account(10u128.pow(18));
    let approve = vec![ReviewerDecision {
        action: ActionCode::A1,
        quantity: 1,
        reason: None,
    }];
    let early = w.chain.call(
        reviewer,
        w.coverage,
        "decide",
        &("TRN-MRI-2".to_string(), approve.clone()),
    );
    assert_eq!(early.revert_message(), "CoverageError::NotAuthorised");
    assert!(w.as_payer("set_reviewer", &(reviewer, true)).is_success());
    w.chain.advance_time(HOUR_MS);
    let decided = w.chain.call(
        reviewer,
        w.coverage,
        "decide",
        &("TRN-MRI-2".to_string(), approve),
    );
    let decision = the_decision(&decided);
    assert_eq!(decision.action, ActionCode::A1);
    assert_eq!(decision.decided_by, DecidedBy::Reviewer(reviewer));
    assert_eq!(decision.certification.as_deref(), Some("TRN-MRI-2-1"));
    let request = w.request("TRN-MRI-2");
    assert_eq!(request.status, RequestStatus::Decided);
    let due: Vec<(String, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert!(due.is_empty(), "a decided request leaves the queue");
    let metrics = w.metrics(Priority::Standard, None);
    assert_eq!(metrics.counts.pended, 1);
    assert_eq!(metrics.counts.approved, 1);
    assert!(metrics.median_turnaround_ms >= 6 * HOUR_MS);
}

#[test]
fn scenario_4_denials_name_their_reason_and_rule_and_a_partial_certifies_what_is_left() {
    // Out-of-network servicing provider on an HMO plan.
    let mut w = world();
    let mut out_of_network = w.qualifying_mri("TRN-NET");
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    // The rules only suggest a denial; a clinician denies, with the same reason.
    let clinician = w.clinician();
    let pended = the_decision(&w.submit(&out_of_network));
    assert_eq!(suggested(&pended), ActionCode::A3);
    assert_eq!(pended.reason, Some(reason("0N", "Out of network provider")));
    assert_eq!(pended.rule_ids, vec![RULE_MRI]);
    let denied = the_decision(&w.decide_as_suggested(clinician, "TRN-NET"));
    assert_eq!(denied.action, ActionCode::A3);
    assert_eq!(denied.reason, Some(reason("0N", "Out of network provider")));
    assert_eq!(denied.rule_ids, vec![RULE_MRI]);
    assert_eq!(denied.certification, None);
    assert_eq!(denied.decided_by, DecidedBy::Reviewer(clinician));

    // Diagnosis–procedure mismatch.
    let mut mismatch = w.qualifying_mri("TRN-DX");
    mismatch.diagnoses = vec!["J45.909".into()];
    assert_eq!(
        suggested(&the_decision(&w.submit(&mismatch))),
        ActionCode::A3
    );
    let denied = the_decision(&w.decide_as_suggested(clinician, "TRN-DX"));
    assert_eq!(denied.action, ActionCode::A3);
    assert_eq!(denied.reason.unwrap().code, "0D");

    // Sex edit: mammography for a male member; age edit: a 30-year-old.
    let mut male = world_with(PlanType::Ppo, YEAR_NOW - 50, "M");
    let screening = male.submission("TRN-SEX", male.line(MAMMOGRAPHY, 1), &["Z12.31"]);
    let denied = the_decision(&male.submit(&screening));
    assert_eq!(
        (suggested(&denied), denied.reason.unwrap().code),
        (ActionCode::A3, "0S".into())
    );
    assert_eq!(denied.rule_ids, vec![RULE_MAMMOGRAPHY]);
    let mut young = world_with(PlanType::Ppo, YEAR_NOW - 30, "F");
    let screening = young.submission("TRN-AGE", young.line(MAMMOGRAPHY, 1), &["Z12.31"]);
    let denied = the_decision(&young.submit(&screening));
    assert_eq!(
        (suggested(&denied), denied.reason.unwrap().code),
        (ActionCode::A3, "0A".into())
    );
    // The same service out of network on a PPO plan is not a network denial.
    let mut ppo = young.qualifying_mri("TRN-PPO");
    ppo.servicing_npi = OUT_OF_NETWORK_NPI.into();
    assert_eq!(the_decision(&young.submit(&ppo)).action, ActionCode::A1);

    // 12 therapy visits requested with 8 left on the benefit: 8 suggested, certified by the
    // clinician.
    let therapy = w.submission("TRN-PT", w.line(THERAPY, 12), &["M54.16"]);
    let pended = the_decision(&w.submit(&therapy));
    assert_eq!(suggested(&pended), ActionCode::A2);
    assert_eq!(pended.suggested.unwrap().quantity, 8);
    let partial = the_decision(&w.decide_as_suggested(clinician, "TRN-PT"));
    assert_eq!(partial.action, ActionCode::A2);
    assert_eq!(partial.quantity, 8);
    assert_eq!(
        partial.reason,
        Some(reason("0Q", "Units exceed benefit remaining"))
    );
    assert_eq!(partial.rule_ids, vec![RULE_THERAPY]);
    let left: Option<Benefit> = w.chain.view(
        w.patient,
        w.coverage,
        "benefit",
        &(w.payer, w.member, "PT".to_string()),
    );
    assert_eq!(left.unwrap().quantity_used, 20, "the 8 units are reserved");
    // Nothing left: the next request is denied for quantity.
    let more = w.submission("TRN-PT-2", w.line(THERAPY, 1), &["M54.16"]);
    let exhausted = the_decision(&w.submit(&more));
    assert_eq!(
        (suggested(&exhausted), exhausted.reason.unwrap().code),
        (ActionCode::A3, "0Q".into())
    );
    let exhausted = the_decision(&w.decide_as_suggested(clinician, "TRN-PT-2"));
    assert_eq!(
        (exhausted.action, exhausted.reason.unwrap().code),
        (ActionCode::A3, "0Q".into())
    );

    let metrics = w.metrics(Priority::Standard, None);
    assert_eq!(metrics.counts.decided, 4);
    assert_eq!(metrics.counts.denied, 3);
    assert_eq!(metrics.counts.approved, 1);
    assert_eq!(metrics.denied_bps, 7_500);
}

#[test]
fn scenario_5_undecided_requests_become_overdue_and_are_never_approved() {
    let mut w = world();
    let mut expedited = w.submission("TRN-EXP", w.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
    expedited.priority = Priority::Expedited;
    assert_eq!(the_decision(&w.submit(&expedited)).action, ActionCode::A4);
    let standard = w.submission("TRN-STD", w.line("70551", 1), &[RADICULOPATHY]);
    let pended = the_decision(&w.submit(&standard));
    assert_eq!(pended.action, ActionCode::A4);
    assert_eq!(pended.reason.unwrap().code, "0R", "sent to clinical review");

    let mark = |w: &mut World, trace: &str| {
        let anyone = w.chain.account(5);
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &trace.to_string())
    };
    w.chain.advance_time(71 * HOUR_MS);
    assert_eq!(
        mark(&mut w, "TRN-EXP").revert_message(),
        "CoverageError::NotOverdue"
    );
    w.chain.advance_time(2 * HOUR_MS);
    let marked = mark(&mut w, "TRN-EXP");
    let overdue = marked.events_named::<Overdue>("Overdue");
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].trace, "TRN-EXP");
    assert_eq!(
        mark(&mut w, "TRN-EXP").revert_message(),
        "CoverageError::NotOverdue",
        "the overdue event fires once"
    );
    let request = w.request("TRN-EXP");
    assert!(request.overdue);
    assert_eq!(
        request.status,
        RequestStatus::Pended,
        "overdue is not approval"
    );
    assert_eq!(request.decisions[0].action, ActionCode::A4);
    assert_eq!(request.decisions[0].certification, None);
    // The standard request is not due until day 7.
    assert_eq!(
        mark(&mut w, "TRN-STD").revert_message(),
        "CoverageError::NotOverdue"
    );
    w.chain.advance_time(4 * DAY_MS);
    assert!(mark(&mut w, "TRN-STD").is_success());

    assert_eq!(w.metrics(Priority::Expedited, None).counts.overdue, 1);
    assert_eq!(w.metrics(Priority::Standard, None).counts.overdue, 1);
    assert_eq!(
        w.metrics(Priority::Expedited, Some(LUMBAR_MRI))
            .counts
            .overdue,
        1
    );
    // A late decision still counts, with its real turnaround.
    let clinician = w.clinician();
    let decided = w.chain.call(
        clinician,
        w.coverage,
        "decide",
        &(
            "TRN-EXP".to_string(),
            vec![ReviewerDecision {
                action: ActionCode::A3,
                quantity: 0,
                reason: Some(reason("0M", "Medical documentation requested")),
            }],
        ),
    );
    assert_eq!(the_decision(&decided).action, ActionCode::A3);
    let metrics = w.metrics(Priority::Expedited, None);
    assert_eq!(metrics.counts.denied, 1);
    assert!(metrics.median_turnaround_ms > 72 * HOUR_MS);
}

#[test]
fn scenario_6_claims_are_checked_against_the_authorisation_and_the_benefit() {
    let mut w = world();
    let submission = w.qualifying_mri("TRN-CLAIM");
    let certified = the_decision(&w.submit(&submission));
    let window = certified.period.unwrap();
    let inside = window.start_ms + DAY_MS;

    // Prior authorisation required and none cited.
    let results = w.claim(
        1,
        None,
        vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
    );
    assert_eq!(carcs(&results[0]), vec!["197"]);
    // Outside the authorised window.
    let results = w.claim(
        2,
        Some("TRN-CLAIM"),
        vec![claim_line(
            LUMBAR_MRI,
            1,
            window.end_ms + DAY_MS,
            &[RADICULOPATHY],
        )],
    );
    assert_eq!(carcs(&results[0]), vec!["197"]);
    // More units than authorised.
    let results = w.claim(
        3,
        Some("TRN-CLAIM"),
        vec![claim_line(LUMBAR_MRI, 2, inside, &[RADICULOPATHY])],
    );
    assert_eq!(carcs(&results[0]), vec!["198"]);
    // Diagnosis inconsistent with the procedure.
    let results = w.claim(
        4,
        Some("TRN-CLAIM"),
        vec![claim_line(LUMBAR_MRI, 1, inside, &["J45.909"])],
    );
    assert_eq!(carcs(&results[0]), vec!["11"]);
    // A clean line is accepted and draws on the authorisation; a second one exceeds it.
    let results = w.claim(
        5,
        Some("TRN-CLAIM"),
        vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
    );
    assert_eq!(
        results[0],
        ClaimLineResult {
            accepted: true,
            adjustments: vec![]
        }
    );
    let results = w.claim(
        6,
        Some("TRN-CLAIM"),
        vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
    );
    assert_eq!(carcs(&results[0]), vec!["198"]);

    // Benefit maximum: a payer whose therapy rule needs no prior authorisation.
    let mut open = rule(RULE_THERAPY, "PT", vec![range("97110", "97140")]);
    open.prior_authorisation = false;
    let now = w.chain.timestamp_ms();
    let republished = w.as_payer(
        "publish_rules",
        &(
            Hash([0x91; 32]),
            Period {
                start_ms: now - DAY_MS,
                end_ms: w.plan_end,
            },
            vec![open],
            reasons(),
        ),
    );
    assert_eq!(republished.decode::<u32>(), 2);
    let results = w.claim(
        7,
        None,
        vec![
            claim_line(THERAPY, 8, inside, &[]),
            claim_line(THERAPY, 1, inside, &[]),
        ],
    );
    assert_eq!(
        results[0],
        ClaimLineResult {
            accepted: true,
            adjustments: vec![]
        }
    );
    assert_eq!(carcs(&results[1]), vec!["119"], "20 of 20 visits used");
    // A service after the coverage ended.
    let results = w.claim(8, None, vec![claim_line(OFFICE_VISIT, 1, w.plan_end, &[])]);
    assert_eq!(carcs(&results[0]), vec!["27"]);
    // Every check is stored; a claim is checked once.
    let stored: Option<ClaimCheck> = w
        .chain
        .view(w.hospital, w.coverage, "claim", &Hash([7; 32]));
    let stored = stored.expect("the check is stored");
    assert_eq!(stored.provider, w.hospital);
    assert_eq!(carcs(&stored.lines[1]), vec!["119"]);
    let again = w.as_hospital(
        "check_claim",
        &(
            Hash([7; 32]),
            w.payer,
            w.member,
            None::<String>,
            vec![claim_line(OFFICE_VISIT, 1, inside, &[])],
        ),
    );
    assert_eq!(again.revert_message(), "CoverageError::Duplicate");
}

#[test]
fn revision_extension_cancellation_and_appeal_keep_every_decision() {
    let mut w = world();
    // Revision: a certified 8-visit request revised to 6 visits is certified in total (A1).
    let therapy = w.submission("TRN-REV", w.line(THERAPY, 8), &["M54.16"]);
    assert_eq!(the_decision(&w.submit(&therapy)).action, ActionCode::A1);
    let revised = w.as_hospital(
        "revise",
        &(
            "TRN-REV".to_string(),
            vec![w.line(THERAPY, 6)],
            vec!["M54.16".to_string()],
        ),
    );
    let decision = the_decision(&revised);
    assert_eq!((decision.action, decision.quantity), (ActionCode::A1, 6));
    let request = w.request("TRN-REV");
    assert_eq!(request.certification_type, CertificationType::Revised);
    assert_eq!(request.history.len(), 1);
    assert_eq!(request.history[0].1.quantity, 8);
    let used = |w: &World| -> u32 {
        let benefit: Option<Benefit> = w.chain.view(
            w.patient,
            w.coverage,
            "benefit",
            &(w.payer, w.member, "PT".to_string()),
        );
        benefit.unwrap().quantity_used
    };
    assert_eq!(used(&w), 18, "12 used before, 6 reserved now");

    // Extension: within the rule's 90 days it is granted; a second one is refused.
    let before = w.request("TRN-REV").decisions[0].period.clone().unwrap();
    let extended = w.as_hospital("request_extension", &("TRN-REV".to_string(), 30u32));
    let decision = the_decision(&extended);
    assert_eq!(decision.action, ActionCode::A1);
    assert_eq!(decision.period.unwrap().end_ms, before.end_ms + 30 * DAY_MS);
    assert_eq!(
        w.as_hospital("request_extension", &("TRN-REV".to_string(), 30u32))
            .revert_message(),
        "CoverageError::WrongStatus"
    );

    // Cancellation returns the reserved units.
    assert!(w.as_hospital("cancel", &"TRN-REV".to_string()).is_success());
    let request = w.request("TRN-REV");
    assert_eq!(request.status, RequestStatus::Cancelled);
    assert_eq!(request.decisions[0].action, ActionCode::C);
    assert_eq!(used(&w), 12);

    // Appeal: a diagnosis denial overturned by the payer's reviewer; the patient may appeal.
    let mut mismatch = w.qualifying_mri("TRN-APL");
    mismatch.diagnoses = vec!["J45.909".into()];
    assert_eq!(
        suggested(&the_decision(&w.submit(&mismatch))),
        ActionCode::A3
    );
    let clinician = w.clinician();
    let denied = w.decide_as_suggested(clinician, "TRN-APL");
    assert_eq!(the_decision(&denied).action, ActionCode::A3);
    let patient = w.patient;
    let appealed = w.chain.call(
        patient,
        w.coverage,
        "appeal",
        &("TRN-APL".to_string(), Hash([0xa1; 32])),
    );
    assert!(appealed.is_success(), "{:?}", appealed.receipt.status);
    assert_eq!(w.request("TRN-APL").status, RequestStatus::Appealed);
    assert_eq!(
        w.as_payer(
            "decide_appeal",
            &("TRN-APL".to_string(), AppealOutcome::Upheld, None::<Reason>)
        )
        .revert_message(),
        "CoverageError::ReasonRequired",
        "an upheld denial needs a reason"
    );
    let overturned = w.as_payer(
        "decide_appeal",
        &(
            "TRN-APL".to_string(),
            AppealOutcome::Overturned,
            None::<Reason>,
        ),
    );
    let decision = the_decision(&overturned);
    assert_eq!(decision.action, ActionCode::A1);
    assert_eq!(decision.decided_by, DecidedBy::Reviewer(w.payer));
    let request = w.request("TRN-APL");
    assert_eq!(request.appeal, Some(AppealOutcome::Overturned));
    assert_eq!(
        request.history[0].1.action,
        ActionCode::A3,
        "the denial is kept"
    );
    let metrics = w.metrics(Priority::Standard, None);
    assert_eq!(metrics.counts.approved_after_appeal, 1);
    assert_eq!(metrics.approved_after_appeal_bps, 10_000);
}

#[test]
fn a_denial_without_a_specific_reason_is_refused() {
    let mut w = world();
    let now = w.chain.timestamp_ms();
    let mut without_network = reasons();
    without_network.retain(|entry| entry.edit != Edit::Network);
    let mut blank = reasons();
    blank[0].reason.text = String::new();
    for incomplete in [without_network, blank] {
        let published = w.as_payer(
            "publish_rules",
            &(
                Hash([0x92; 32]),
                Period {
                    start_ms: now,
                    end_ms: now + DAY_MS,
                },
                policy_rules(),
                incomplete,
            ),
        );
        assert_eq!(published.revert_message(), "CoverageError::IncompleteRules");
    }

    let submission = w.submission("TRN-R", w.line("70551", 1), &[RADICULOPATHY]);
    assert_eq!(the_decision(&w.submit(&submission)).action, ActionCode::A4);
    let clinician = w.clinician();
    for reason in [None, Some(reason("", "text")), Some(reason("X", ""))] {
        let refused = w.chain.call(
            clinician,
            w.coverage,
            "decide",
            &(
                "TRN-R".to_string(),
                vec![ReviewerDecision {
                    action: ActionCode::A3,
                    quantity: 0,
                    reason,
                }],
            ),
        );
        assert_eq!(refused.revert_message(), "CoverageError::ReasonRequired");
    }
    let partial_without_reason = w.chain.call(
        clinician,
        w.coverage,
        "decide",
        &(
            "TRN-R".to_string(),
            vec![ReviewerDecision {
                action: ActionCode::A2,
                quantity: 1,
                reason: None,
            }],
        ),
    );
    assert_eq!(
        partial_without_reason.revert_message(),
        "CoverageError::ReasonRequired"
    );
    assert_eq!(
        w.request("TRN-R").status,
        RequestStatus::Pended,
        "nothing changed"
    );
}

#[test]
fn authorisation_requirements_are_answered_per_code() {
    let w = world();
    let date = w.chain.timestamp_ms() + DAY_MS;
    let ask = |procedure: &str, date_ms: u64| -> AuthorisationRequirement {
        w.chain.view(
            w.patient,
            w.coverage,
            "authorisation_requirement",
            &(w.payer, w.member, procedure.to_string(), date_ms),
        )
    };
    assert_eq!(
        ask(LUMBAR_MRI, date),
        AuthorisationRequirement::Conditional(true, RULE_MRI)
    );
    assert_eq!(ask(THERAPY, date), AuthorisationRequirement::Covered(true));
    assert_eq!(
        ask(OFFICE_VISIT, date),
        AuthorisationRequirement::Covered(false)
    );
    assert_eq!(
        ask(LUMBAR_MRI, w.plan_end + DAY_MS),
        AuthorisationRequirement::NotCovered
    );
}

/// Indexes a record in the consent contract, held by the hospital: its label and class as
/// blinded tags of the patient's relationship with the hospital (a fixed test blinding key),
/// its date as a commitment (PRIVACY.md §5.4).
fn index_record(w: &mut World, seed: u8) -> Hash {
    const BLINDING: [u8; 32] = [0xb1; 32];
    let record = Hash([seed; 32]);
    let hospital = w.hospital;
    let mut filler = 0u8;
    let label_tags = consent::label_tags(&BLINDING, &["N"], || {
        filler += 1;
        salus_primitives::hash::keccak256_concat(&[&record.0, &[filler]]).0
    });
    let indexed = w.chain.call(
        hospital,
        w.consent,
        "register_record",
        &(
            record,
            w.patient,
            label_tags,
            consent::blinded_tag(&BLINDING, "DocumentReference"),
            salus_primitives::hash::keccak256_concat(&[b"date", &record.0]),
            hospital,
            consent::subject_handle(&BLINDING),
        ),
    );
    assert!(indexed.is_success(), "{:?}", indexed.receipt.status);
    record
}

fn payer_provision(w: &World, kind: Decision, records: Vec<Hash>) -> Provision {
    Provision {
        kind,
        period: None,
        actors: vec![w.payer],
        roles: vec![],
        actions: vec![],
        purposes: vec!["HPAYMT".into(), "COVAUTH".into()],
        label_tags: vec![],
        class_tags: vec![],
        records,
        data_period_commitment: None,
        children: vec![],
        custodians: vec![],
        authors: vec![],
    }
}

fn grant(w: &mut World, base: Decision, provisions: Vec<Provision>) {
    let now = w.chain.timestamp_ms();
    let patient = w.patient;
    let granted = w.chain.call(
        patient,
        w.consent,
        "grant",
        &(
            patient,
            "patient-privacy".to_string(),
            "59284-0".to_string(),
            consent::Period {
                start_ms: consent::as_signed_ms(now),
                end_ms: consent::as_signed_ms(now + 365 * DAY_MS),
            },
            base,
            provisions,
            Hash([9; 32]),
            None::<u64>,
        ),
    );
    assert!(granted.is_success(), "{:?}", granted.receipt.status);
}

#[test]
fn payer_access_to_attachments_goes_through_consent_and_a_self_pay_restriction_blocks_it() {
    let mut w = world();
    let attestation = index_record(&mut w, 0xd0);
    let self_paid = index_record(&mut w, 0xd2);
    let mut submission = w.qualifying_mri("TRN-ATT");
    submission.attachments.push(Attachment {
        template: Hash([0xee; 32]),
        record: self_paid,
    });
    assert_eq!(the_decision(&w.submit(&submission)).action, ActionCode::A1);
    let read = |w: &mut World, record: Hash, purpose: &str| -> CallResult {
        w.as_payer(
            "access_attachment",
            &("TRN-ATT".to_string(), record, purpose.to_string()),
        )
    };

    // No consent on file: the network default denies, and the denial is recorded.
    let denied: AccessDecision = read(&mut w, attestation, "HPAYMT").decode();
    assert_eq!(denied.decision, Decision::Deny);

    // The patient permits the payer for payment and coverage authorisation, but restricts the
    // self-paid record (HIPAA's right to restrict disclosures to a health plan).
    let permit = payer_provision(&w, Decision::Permit, vec![]);
    let restrict = payer_provision(&w, Decision::Deny, vec![self_paid]);
    grant(&mut w, Decision::Deny, vec![permit]);
    grant(&mut w, Decision::Deny, vec![restrict]);
    let permitted = read(&mut w, attestation, "COVAUTH");
    let decision: AccessDecision = permitted.decode();
    assert_eq!(decision.decision, Decision::Permit);
    assert_eq!(
        permitted
            .events_named::<AttachmentAccess>("AttachmentAccess")
            .len(),
        1
    );
    let blocked: AccessDecision = read(&mut w, self_paid, "HPAYMT").decode();
    assert_eq!(blocked.decision, Decision::Deny, "self-pay restriction");

    // Only payment purposes, only attached records, only the request's payer.
    assert_eq!(
        read(&mut w, attestation, "TREAT").revert_message(),
        "CoverageError::WrongPurpose"
    );
    assert_eq!(
        read(&mut w, Hash([0x77; 32]), "HPAYMT").revert_message(),
        "CoverageError::NotAttached"
    );
    let hospital = w.hospital;
    let outsider = w.chain.call(
        hospital,
        w.coverage,
        "access_attachment",
        &("TRN-ATT".to_string(), attestation, "HPAYMT".to_string()),
    );
    assert_eq!(outsider.revert_message(), "CoverageError::NotAuthorised");

    // Every payer access is in the patient's accounting of disclosures, denials included.
    let trail: Vec<AuditEntry> = w.chain.view(
        w.patient,
        w.consent,
        "accounting",
        &(w.patient, 0u64, u64::MAX, None::<u64>, 100u32),
    );
    let payer_reads: Vec<(Hash, u8)> = trail
        .iter()
        .filter(|entry| entry.agent == w.payer)
        .map(|entry| (entry.record, entry.outcome))
        .collect();
    assert_eq!(
        payer_reads,
        vec![(attestation, 4), (attestation, 0), (self_paid, 4)]
    );
}

#[test]
fn every_message_refuses_callers_without_authority_and_malformed_input() {
    let mut w = world();
    let submission = w.submission("TRN-AUTH", w.line("70551", 1), &[RADICULOPATHY]);
    assert_eq!(the_decision(&w.submit(&submission)).action, ActionCode::A4);
    let outsider = w.chain.new_account(10u128.pow(18));
    let now = w.chain.timestamp_ms();
    let trace = "TRN-AUTH".to_string();
    let some_coverage = Coverage {
        dependent: 0,
        beneficiary: outsider,
        plan: "X".into(),
        group: "X".into(),
        plan_type: PlanType::Ppo,
        period: Period {
            start_ms: now,
            end_ms: now + DAY_MS,
        },
        status: CoverageStatus::Active,
        primary_care: None,
    };
    let refusals: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "set_coverage",
            (Hash([3; 32]), some_coverage.clone()).encode(),
            "CoverageError::NotAPayer",
        ),
        (
            "set_benefit",
            (w.member, "30".to_string(), benefit(None, 0)).encode(),
            "CoverageError::NotAPayer",
        ),
        (
            "set_network",
            (
                "GOLD-HMO".to_string(),
                vec![OUT_OF_NETWORK_NPI.to_string()],
                true,
            )
                .encode(),
            "CoverageError::NotAPayer",
        ),
        (
            "publish_rules",
            (
                Hash([1; 32]),
                some_coverage.period.clone(),
                policy_rules(),
                reasons(),
            )
                .encode(),
            "CoverageError::NotAPayer",
        ),
        (
            "set_reviewer",
            (outsider, true).encode(),
            "CoverageError::NotAPayer",
        ),
        (
            "submit",
            w.submission("TRN-OUT", w.line(LUMBAR_MRI, 1), &[]).encode(),
            "CoverageError::NotAProvider",
        ),
        (
            "add_documentation",
            (
                trace.clone(),
                Attachment {
                    template: ATTESTATION_TEMPLATE,
                    record: Hash([1; 32]),
                },
            )
                .encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "decide",
            (
                trace.clone(),
                vec![ReviewerDecision {
                    action: ActionCode::A1,
                    quantity: 1,
                    reason: None,
                }],
            )
                .encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "extend_review",
            trace.encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "revise",
            (
                trace.clone(),
                vec![w.line(LUMBAR_MRI, 1)],
                Vec::<String>::new(),
            )
                .encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "request_extension",
            (trace.clone(), 10u32).encode(),
            "CoverageError::NotAuthorised",
        ),
        ("cancel", trace.encode(), "CoverageError::NotAuthorised"),
        (
            "decide_extension",
            (trace.clone(), true, None::<Reason>).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "appeal",
            (trace.clone(), Hash([1; 32])).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "decide_appeal",
            (trace.clone(), AppealOutcome::Overturned, None::<Reason>).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "check_claim",
            (
                Hash([1; 32]),
                w.payer,
                w.member,
                None::<String>,
                vec![claim_line(OFFICE_VISIT, 1, now, &[])],
            )
                .encode(),
            "CoverageError::NotAProvider",
        ),
        (
            "access_attachment",
            (trace.clone(), Hash([1; 32]), "HPAYMT".to_string()).encode(),
            "CoverageError::NotAuthorised",
        ),
        ("mark_overdue", trace.encode(), "CoverageError::NotOverdue"),
        // Reads that reveal a member's care are for the parties to it.
        ("request", trace.encode(), "CoverageError::NotAuthorised"),
        (
            "eligibility",
            (w.payer, w.member, "30".to_string(), now).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "coverage",
            (w.payer, w.member).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "benefit",
            (w.payer, w.member, "30".to_string()).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "authorisation_requirement",
            (w.payer, w.member, LUMBAR_MRI.to_string(), now).encode(),
            "CoverageError::NotAuthorised",
        ),
        (
            "due_within",
            (w.payer, 24u64, 10u32).encode(),
            "CoverageError::NotAuthorised",
        ),
    ];
    for (message, arguments, expected) in refusals {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        let result = w.chain.call_raw(outsider, w.coverage, input);
        assert_eq!(result.revert_message(), expected, "{message}");
    }

    // Malformed input from the right callers.
    let mut empty = w.submission("TRN-EMPTY", w.line(LUMBAR_MRI, 1), &[]);
    empty.lines.clear();
    assert_eq!(
        w.submit(&empty).revert_message(),
        "CoverageError::Malformed"
    );
    let mut zero = w.submission("TRN-ZERO", w.line(LUMBAR_MRI, 0), &[]);
    assert_eq!(w.submit(&zero).revert_message(), "CoverageError::Malformed");
    zero.lines[0].quantity = 1;
    zero.lines[0].to_ms = zero.lines[0].from_ms - 1;
    assert_eq!(
        w.submit(&zero).revert_message(),
        "CoverageError::InvalidPeriod"
    );
    let mut unknown = w.submission("TRN-UNK", w.line(LUMBAR_MRI, 1), &[]);
    unknown.member = Hash([0x66; 32]);
    assert_eq!(
        w.submit(&unknown).revert_message(),
        "CoverageError::Unknown"
    );
    let mut bad_rules = policy_rules();
    bad_rules[0].procedures = vec![range("72158", "72141")];
    let published = w.as_payer(
        "publish_rules",
        &(
            Hash([1; 32]),
            some_coverage.period.clone(),
            bad_rules,
            reasons(),
        ),
    );
    assert_eq!(published.revert_message(), "CoverageError::Malformed");
    let mut bad_coverage = some_coverage.clone();
    bad_coverage.period.end_ms = bad_coverage.period.start_ms;
    assert_eq!(
        w.as_payer("set_coverage", &(Hash([3; 32]), bad_coverage))
            .revert_message(),
        "CoverageError::InvalidPeriod"
    );
    // A payer whose registration was revoked can no longer maintain coverage.
    let authority = w.authority;
    let payer = w.payer;
    assert!(
        w.chain
            .call(authority, w.registry, "revoke", &(payer, Hash([2; 32])))
            .is_success()
    );
    assert_eq!(
        w.as_payer("set_coverage", &(Hash([3; 32]), some_coverage))
            .revert_message(),
        "CoverageError::NotAPayer"
    );
}

#[test]
fn coverage_fuel_and_events_match_the_snapshot() {
    use std::fmt::Write;
    let mut w = world();
    let mut report = String::new();
    writeln!(
        report,
        "coverage code hash {}",
        salus_primitives::keccak256(salus_contracts::COVERAGE)
    )
    .unwrap();
    let mut record = |name: &str, result: &CallResult| {
        assert!(result.is_success(), "{name}: {:?}", result.receipt.status);
        writeln!(
            report,
            "{name}: fuel={} events={}",
            result.fuel_used(),
            result.events().len()
        )
        .unwrap();
    };
    let approved = w.qualifying_mri("TRN-S1");
    record("submit auto-approved", &w.submit(&approved));
    let mut out_of_network = w.qualifying_mri("TRN-S2");
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    record("submit denied", &w.submit(&out_of_network));
    let therapy = w.submission("TRN-S3", w.line(THERAPY, 12), &["M54.16"]);
    record("submit partial", &w.submit(&therapy));
    let pended = w.submission("TRN-S4", w.line("70551", 1), &[RADICULOPATHY]);
    record("submit pended", &w.submit(&pended));
    let decided = w.as_payer(
        "decide",
        &(
            "TRN-S4".to_string(),
            vec![ReviewerDecision {
                action: ActionCode::A1,
                quantity: 1,
                reason: None,
            }],
        ),
    );
    record("decide", &decided);
    let window = approved.lines[0].from_ms + DAY_MS;
    let claim = w.as_hospital(
        "check_claim",
        &(
            Hash([1; 32]),
            w.payer,
            w.member,
            Some("TRN-S1".to_string()),
            vec![claim_line(LUMBAR_MRI, 1, window, &[RADICULOPATHY])],
        ),
    );
    record("check_claim", &claim);
    let handle = Hash([0x51; 32]);
    record(
        "submit_sealed",
        &w.submit_sealed(handle, Priority::Standard, 2),
    );
    let posted = w.post(
        w.payer,
        handle,
        vec![
            posted(ActionCode::A1, None, 1),
            posted(ActionCode::A4, Some("0R"), 0),
        ],
        1,
    );
    record("post_decision", &posted);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/coverage_fuel.snap");
    salus_testkit::assert_snapshot(&path, &report);
}

#[test]
fn a_rolling_window_limits_units_across_requests_and_a_cancellation_frees_them() {
    let mut w = world();
    assert_eq!(
        the_decision(&w.submit(&w.qualifying_mri("TRN-W1"))).action,
        ActionCode::A1
    );
    // One lumbar MRI per 180 days: a second request within the window is denied for quantity.
    let second = the_decision(&w.submit(&w.qualifying_mri("TRN-W2")));
    assert_eq!(suggested(&second), ActionCode::A3);
    assert_eq!(second.reason.unwrap().code, "0Q");
    // Cancelling the first frees the unit.
    assert!(w.as_hospital("cancel", &"TRN-W1".to_string()).is_success());
    assert_eq!(
        the_decision(&w.submit(&w.qualifying_mri("TRN-W3"))).action,
        ActionCode::A1
    );
    // Outside the window (200 days later) another is certified.
    let mut later = w.qualifying_mri("TRN-W4");
    later.lines[0].from_ms += 200 * DAY_MS;
    later.lines[0].to_ms += 200 * DAY_MS;
    assert_eq!(the_decision(&w.submit(&later)).action, ActionCode::A1);
}

#[test]
fn auto_approval_conditions_send_other_requests_to_a_reviewer() {
    let mut w = world_with(PlanType::Ppo, YEAR_NOW - 45, "F");
    let ct = |w: &World, trace: &str, diagnosis: &str, npi: &str, quantity: u32| {
        let mut submission = w.submission(trace, w.line(ABDOMINAL_CT, quantity), &[diagnosis]);
        submission.servicing_npi = npi.into();
        submission
    };
    let automatic = the_decision(&w.submit(&ct(&w, "TRN-CT1", "R10.9", IN_NETWORK_NPI, 1)));
    assert_eq!(automatic.action, ActionCode::A1);
    assert_eq!(automatic.rule_ids, vec![RULE_CT]);
    // Allowed by the rule, but outside the auto-approval conditions: pended for review.
    for (trace, diagnosis, npi, quantity) in [
        ("TRN-CT2", "K35.80", IN_NETWORK_NPI, 1),
        ("TRN-CT3", "R10.9", OUT_OF_NETWORK_NPI, 1),
        ("TRN-CT4", "R10.9", IN_NETWORK_NPI, 2),
    ] {
        let pended = the_decision(&w.submit(&ct(&w, trace, diagnosis, npi, quantity)));
        assert_eq!(pended.action, ActionCode::A4, "{trace}");
        assert_eq!(pended.reason.unwrap().code, "0R", "{trace}");
    }
    // Not allowed by the rule at all: a denial suggested to a clinician.
    let denied = the_decision(&w.submit(&ct(&w, "TRN-CT5", "J45.909", IN_NETWORK_NPI, 1)));
    assert_eq!(suggested(&denied), ActionCode::A3);
}

#[test]
fn a_member_without_coverage_on_the_service_date_is_not_certified() {
    let mut w = world();
    let mut late = w.qualifying_mri("TRN-LATE");
    late.lines[0].from_ms = w.plan_end + DAY_MS;
    late.lines[0].to_ms = w.plan_end + DAY_MS;
    let decision = the_decision(&w.submit(&late));
    assert_eq!(suggested(&decision), ActionCode::A3);
    assert_eq!(decision.reason.unwrap().code, "0U");
    // Even for a service that needs no authorisation while covered.
    let mut visit = w.submission("TRN-LATE-2", w.line(OFFICE_VISIT, 1), &[]);
    visit.lines[0].from_ms = w.plan_end + DAY_MS;
    visit.lines[0].to_ms = w.plan_end + DAY_MS;
    assert_eq!(suggested(&the_decision(&w.submit(&visit))), ActionCode::A3);
    // A clinician makes the denial final.
    let clinician = w.clinician();
    let denied = the_decision(&w.decide_as_suggested(clinician, "TRN-LATE-2"));
    assert_eq!(denied.action, ActionCode::A3);
    assert_eq!(denied.reason.unwrap().code, "0U");
}

#[test]
fn an_adverse_decision_is_pended_to_a_clinician_and_never_automated() {
    // 42 CFR 438.210(b)(3), 42 CFR 422.566(d): the rules may certify, never deny.
    let mut w = world();
    let mut out_of_network = w.qualifying_mri("TRN-ADV");
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    let pended = the_decision(&w.submit(&out_of_network));
    assert_eq!(pended.action, ActionCode::A4);
    assert_eq!(
        pended.suggested,
        Some(Suggestion {
            action: ActionCode::A3,
            quantity: 0,
            reviewer_role: Role::Practitioner,
        })
    );
    assert_eq!(pended.reason, Some(reason("0N", "Out of network provider")));
    assert_eq!(pended.rule_ids, vec![RULE_MRI]);
    assert_eq!(pended.decided_by, DecidedBy::Auto);
    let request = w.request("TRN-ADV");
    assert_eq!(request.status, RequestStatus::Pended);
    let due: Vec<(String, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert_eq!(due, vec![("TRN-ADV".to_string(), request.due_ms)]);

    let deny = vec![ReviewerDecision {
        action: ActionCode::A3,
        quantity: 0,
        reason: Some(reason("0N", "Out of network provider")),
    }];
    // Neither the payer's own key nor a reviewer the registry does not attest as a clinician
    // may deny.
    assert_eq!(
        w.as_payer("decide", &("TRN-ADV".to_string(), deny.clone()))
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clerk = w.chain.new_account(10u128.pow(18));
    assert!(w.as_payer("set_reviewer", &(clerk, true)).is_success());
    assert_eq!(
        w.chain
            .call(
                clerk,
                w.coverage,
                "decide",
                &("TRN-ADV".to_string(), deny.clone())
            )
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    // The 7-day clock keeps running; an overdue request is not approved (nor denied) by
    // default.
    w.chain.advance_time(7 * DAY_MS + HOUR_MS);
    let anyone = w.chain.account(5);
    assert!(
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &"TRN-ADV".to_string())
            .is_success()
    );
    let request = w.request("TRN-ADV");
    assert!(request.overdue);
    assert_eq!(request.status, RequestStatus::Pended);
    assert_eq!(request.decisions[0].action, ActionCode::A4);
    assert_eq!(request.decisions[0].certification, None);
    // The clinician decides.
    let clinician = w.clinician();
    let decided = w.chain.call(
        clinician,
        w.coverage,
        "decide",
        &("TRN-ADV".to_string(), deny),
    );
    let denied = the_decision(&decided);
    assert_eq!(denied.action, ActionCode::A3);
    assert_eq!(denied.decided_by, DecidedBy::Reviewer(clinician));
    assert_eq!(denied.suggested, None);
    let metrics = w.metrics(Priority::Standard, None);
    assert_eq!((metrics.counts.pended, metrics.counts.denied), (1, 1));
    // Upholding a denial on appeal is adverse too: the payer's own key may not.
    let patient = w.patient;
    assert!(
        w.chain
            .call(
                patient,
                w.coverage,
                "appeal",
                &("TRN-ADV".to_string(), Hash([0xa2; 32]))
            )
            .is_success()
    );
    let uphold = (
        "TRN-ADV".to_string(),
        AppealOutcome::Upheld,
        Some(reason("0N", "Out of network provider")),
    );
    assert_eq!(
        w.as_payer("decide_appeal", &uphold).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let upheld = w
        .chain
        .call(clinician, w.coverage, "decide_appeal", &uphold);
    assert_eq!(the_decision(&upheld).action, ActionCode::A3);
}

#[test]
fn hcr01_action_codes_are_complete_and_a6_means_modified() {
    let codes: Vec<&str> = [
        ActionCode::A1,
        ActionCode::A2,
        ActionCode::A3,
        ActionCode::A4,
        ActionCode::A6,
        ActionCode::C,
        ActionCode::Ct,
        ActionCode::Na,
    ]
    .iter()
    .map(ActionCode::code)
    .collect();
    assert_eq!(codes, ["A1", "A2", "A3", "A4", "A6", "C", "CT", "NA"]);
    let mut w = world();
    // A revision certified in total is A1, not A6.
    let therapy = w.submission("TRN-A1", w.line(THERAPY, 4), &["M54.16"]);
    assert_eq!(the_decision(&w.submit(&therapy)).action, ActionCode::A1);
    let revised = w.as_hospital(
        "revise",
        &(
            "TRN-A1".to_string(),
            vec![w.line(THERAPY, 3)],
            vec!["M54.16".to_string()],
        ),
    );
    assert_eq!(the_decision(&revised).action, ActionCode::A1);
    // A6: a clinician certifies the service modified, with a reason.
    let submission = w.submission("TRN-A6", w.line("70551", 1), &[RADICULOPATHY]);
    assert_eq!(the_decision(&w.submit(&submission)).action, ActionCode::A4);
    let clinician = w.clinician();
    let modify = |reason: Option<Reason>| {
        (
            "TRN-A6".to_string(),
            vec![ReviewerDecision {
                action: ActionCode::A6,
                quantity: 1,
                reason,
            }],
        )
    };
    assert_eq!(
        w.chain
            .call(clinician, w.coverage, "decide", &modify(None))
            .revert_message(),
        "CoverageError::ReasonRequired"
    );
    assert_eq!(
        w.as_payer("decide", &modify(Some(reason("0M", "Modified"))))
            .revert_message(),
        "CoverageError::NotAuthorised",
        "a modification is adverse"
    );
    let modified = w.chain.call(
        clinician,
        w.coverage,
        "decide",
        &modify(Some(reason("0M", "Modified"))),
    );
    let decision = the_decision(&modified);
    assert_eq!(decision.action, ActionCode::A6);
    assert_eq!(decision.certification.as_deref(), Some("TRN-A6-1"));
}

#[test]
fn claim_adjustments_carry_their_group_code_and_remark() {
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-CAS")));
    let inside = certified.period.unwrap().start_ms + DAY_MS;
    let absent = w.claim(
        1,
        None,
        vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
    );
    assert_eq!(
        absent[0].adjustments,
        vec![Adjustment {
            group: GroupCode::Co,
            carc: "197".into(),
            rarc: Some("M62".into()),
        }]
    );
    let exceeded = w.claim(
        2,
        Some("TRN-CAS"),
        vec![claim_line(LUMBAR_MRI, 2, inside, &["J45.909"])],
    );
    assert_eq!(
        exceeded[0].adjustments,
        vec![
            Adjustment {
                group: GroupCode::Co,
                carc: "11".into(),
                rarc: None,
            },
            Adjustment {
                group: GroupCode::Co,
                carc: "198".into(),
                rarc: Some("N362".into()),
            },
        ]
    );
    let after = w.claim(3, None, vec![claim_line(OFFICE_VISIT, 1, w.plan_end, &[])]);
    assert_eq!(
        after[0].adjustments,
        vec![Adjustment {
            group: GroupCode::Pr,
            carc: "27".into(),
            rarc: None,
        }]
    );
    let codes: Vec<&str> = [GroupCode::Co, GroupCode::Pr, GroupCode::Oa, GroupCode::Pi]
        .iter()
        .map(GroupCode::code)
        .collect();
    assert_eq!(codes, ["CO", "PR", "OA", "PI"]);
}

#[test]
fn only_the_authorisations_provider_draws_on_it() {
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-BIND")));
    let inside = certified.period.unwrap().start_ms + DAY_MS;
    // Another provider organisation (its own NPI in the registry) cannot draw on it; the
    // servicing provider the authorisation names, attested by the registry, can.
    let claim = |seed: u8| {
        (
            Hash([seed; 32]),
            w.payer,
            w.member,
            Some("TRN-BIND".to_string()),
            vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
        )
    };
    let (first, second) = (claim(1), claim(2));
    let stranger = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    assert_eq!(
        w.chain
            .call(stranger, w.coverage, "check_claim", &first)
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    let servicing = w.provider_with_npi(IN_NETWORK_NPI);
    let drawn: Vec<ClaimLineResult> = w
        .chain
        .call(servicing, w.coverage, "check_claim", &second)
        .decode();
    assert!(drawn[0].accepted, "{:?}", drawn[0]);
}

#[test]
fn the_servicing_npi_is_the_one_the_registry_attests_for_the_caller() {
    let mut w = world();
    // The hospital is attested with the in-network NPI: it cannot submit as another provider.
    let mut borrowed = w.qualifying_mri("TRN-NPI");
    borrowed.servicing_npi = OUT_OF_NETWORK_NPI.into();
    assert_eq!(
        w.as_hospital("submit", &borrowed).revert_message(),
        "CoverageError::NotAuthorised"
    );
    // Nor can an out-of-network provider claim the in-network NPI.
    let outside = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    let mut claimed = w.qualifying_mri("TRN-NPI");
    claimed.servicing_npi = IN_NETWORK_NPI.into();
    assert_eq!(
        w.chain
            .call(outside, w.coverage, "submit", &claimed)
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    // Each as itself.
    assert!(
        w.chain
            .call(outside, w.coverage, "submit", &borrowed)
            .is_success()
    );
}

#[test]
fn a_claim_is_voided_or_replaced_by_its_provider_and_the_units_it_used_are_restored() {
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-VOID")));
    let inside = certified.period.unwrap().start_ms + DAY_MS;
    let mri = || vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])];
    assert!(w.claim(1, Some("TRN-VOID"), mri())[0].accepted);
    assert_eq!(carcs(&w.claim(2, Some("TRN-VOID"), mri())[0]), vec!["198"]);
    // Only the provider that submitted a claim voids it; an unknown claim is refused.
    let stranger = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    assert_eq!(
        w.chain
            .call(stranger, w.coverage, "void_claim", &Hash([1; 32]))
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert_eq!(
        w.as_payer("void_claim", &Hash([1; 32])).revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert_eq!(
        w.as_hospital("void_claim", &Hash([0x99; 32]))
            .revert_message(),
        "CoverageError::Unknown"
    );
    // A void (CLM05-3 `8`) returns the authorisation's unit; a claim is voided once.
    assert!(w.as_hospital("void_claim", &Hash([1; 32])).is_success());
    assert_eq!(
        w.as_hospital("void_claim", &Hash([1; 32])).revert_message(),
        "CoverageError::WrongStatus"
    );
    let voided: ClaimCheck = w
        .chain
        .view::<Option<ClaimCheck>>(w.hospital, w.coverage, "claim", &Hash([1; 32]))
        .unwrap();
    assert_eq!(voided.status, ClaimStatus::Voided);
    assert!(w.claim(3, Some("TRN-VOID"), mri())[0].accepted);
    // A replacement (`7`) restores the original's unit and draws the new claim's.
    let replaced: Vec<ClaimLineResult> = w
        .as_hospital(
            "replace_claim",
            &(
                Hash([3; 32]),
                Hash([4; 32]),
                Some("TRN-VOID".to_string()),
                mri(),
            ),
        )
        .decode();
    assert!(replaced[0].accepted, "{:?}", replaced[0]);
    assert_eq!(carcs(&w.claim(5, Some("TRN-VOID"), mri())[0]), vec!["198"]);
    let original: Option<ClaimCheck> =
        w.chain
            .view(w.hospital, w.coverage, "claim", &Hash([3; 32]));
    assert_eq!(original.unwrap().status, ClaimStatus::Replaced);
    let replacement: Option<ClaimCheck> =
        w.chain
            .view(w.hospital, w.coverage, "claim", &Hash([4; 32]));
    let replacement = replacement.unwrap();
    assert_eq!(replacement.status, ClaimStatus::InForce);
    assert_eq!(replacement.replaces, Some(Hash([3; 32])));
    assert_eq!(
        w.chain
            .call(
                stranger,
                w.coverage,
                "replace_claim",
                &(Hash([4; 32]), Hash([6; 32]), None::<String>, mri()),
            )
            .revert_message(),
        "CoverageError::NotAuthorised"
    );

    // Benefits: therapy without prior authorisation draws on the 20-visit benefit (12 used).
    let mut open = rule(RULE_THERAPY, "PT", vec![range("97110", "97140")]);
    open.prior_authorisation = false;
    let now = w.chain.timestamp_ms();
    let republished = w.as_payer(
        "publish_rules",
        &(
            Hash([0x91; 32]),
            Period {
                start_ms: now - DAY_MS,
                end_ms: w.plan_end,
            },
            vec![open],
            reasons(),
        ),
    );
    assert!(republished.is_success());
    let used = |w: &World| {
        w.chain
            .view::<Option<Benefit>>(
                w.hospital,
                w.coverage,
                "benefit",
                &(w.payer, w.member, "PT".to_string()),
            )
            .unwrap()
            .quantity_used
    };
    let therapy = |units| vec![claim_line(THERAPY, units, inside, &[])];
    assert!(w.claim(7, None, therapy(8))[0].accepted);
    assert_eq!(used(&w), 20);
    assert!(w.as_hospital("void_claim", &Hash([7; 32])).is_success());
    assert_eq!(used(&w), 12, "a void restores every unit");
    assert!(w.claim(8, None, therapy(6))[0].accepted);
    assert_eq!(used(&w), 18);
    let replaced: Vec<ClaimLineResult> = w
        .as_hospital(
            "replace_claim",
            &(Hash([8; 32]), Hash([9; 32]), None::<String>, therapy(2)),
        )
        .decode();
    assert!(replaced[0].accepted);
    assert_eq!(used(&w), 14, "the old six restored, the new two drawn");
}

#[test]
fn a_refused_extension_is_pended_to_a_clinician_who_decides() {
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-EXT")));
    let window = certified.period.clone().unwrap();
    // Beyond the rule's 60 days the rules would refuse: not an automatic A3, but a pended
    // extension, and the certification stands meanwhile.
    let asked = w.as_hospital("request_extension", &("TRN-EXT".to_string(), 365u32));
    let decision = the_decision(&asked);
    assert_eq!(decision.action, ActionCode::A1);
    assert_eq!(decision.period.unwrap(), window);
    let request = w.request("TRN-EXT");
    assert!(
        request
            .history
            .iter()
            .all(|(_, earlier)| earlier.action != ActionCode::A3)
    );
    let pending = request.pending_extension.expect("pended to a reviewer");
    assert_eq!(pending.days, 365);
    assert_eq!(pending.lines, vec![0]);
    assert_eq!(pending.suggested.action, ActionCode::A3);
    assert_eq!(pending.suggested.reviewer_role, ADVERSE_REVIEWER_ROLE);
    // A refusal is adverse: not the payer's own key, and not without a specific reason.
    let refuse = ("TRN-EXT".to_string(), false, Some(pending.reason.clone()));
    assert_eq!(
        w.as_payer("decide_extension", &refuse).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clinician = w.clinician();
    assert_eq!(
        w.chain
            .call(
                clinician,
                w.coverage,
                "decide_extension",
                &("TRN-EXT".to_string(), false, None::<Reason>),
            )
            .revert_message(),
        "CoverageError::ReasonRequired"
    );
    let refused = w
        .chain
        .call(clinician, w.coverage, "decide_extension", &refuse);
    assert_eq!(
        the_decision(&refused).action,
        ActionCode::A1,
        "still certified"
    );
    let request = w.request("TRN-EXT");
    assert!(request.pending_extension.is_none());
    let (line, refusal) = request.history.last().unwrap();
    assert_eq!(*line, 0);
    assert_eq!(refusal.action, ActionCode::A3);
    assert_eq!(refusal.decided_by, DecidedBy::Reviewer(clinician));
    assert_eq!(refusal.reason, Some(pending.reason));
    assert_eq!(
        w.chain
            .call(clinician, w.coverage, "decide_extension", &refuse)
            .revert_message(),
        "CoverageError::WrongStatus"
    );
    // Granting is not adverse: the payer's own key may extend the window (another member's
    // world, as the MRI rule allows one a year).
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-EXT-2")));
    let window = certified.period.unwrap();
    assert!(
        w.as_hospital("request_extension", &("TRN-EXT-2".to_string(), 120u32))
            .is_success()
    );
    let granted = w.as_payer(
        "decide_extension",
        &("TRN-EXT-2".to_string(), true, None::<Reason>),
    );
    let granted = the_decision(&granted);
    assert_eq!(granted.action, ActionCode::A1);
    assert_eq!(granted.period.unwrap().end_ms, window.end_ms + 120 * DAY_MS);
    assert_eq!(granted.decided_by, DecidedBy::Reviewer(w.payer));
}

#[test]
fn eligibility_states_the_coverage_level_both_networks_and_the_currency() {
    let mut w = world();
    let today = w.chain.timestamp_ms();
    let ask = |w: &World| -> Vec<BenefitLine> {
        let answer: Eligibility = w.chain.view(
            w.hospital,
            w.coverage,
            "eligibility",
            &(w.payer, w.member, "30".to_string(), today),
        );
        let Eligibility::Found(_, _, lines) = answer else {
            panic!("the member is known");
        };
        lines
    };
    // Without stated terms, amounts are in US dollars (X12 271 EB07) and no level is given.
    let lines = ask(&w);
    for line in &lines {
        assert_eq!(
            line.currency.is_some(),
            line.amount_cents.is_some(),
            "{line:?}"
        );
        if line.amount_cents.is_some() {
            assert_eq!(line.currency.as_deref(), Some("USD"), "{line:?}");
        }
    }
    assert_eq!(lines[1].currency.as_deref(), Some("USD"));
    assert_eq!(lines[1].coverage_level, None);
    // The payer states the level (EB02) and the currency; a malformed currency is refused.
    let member = w.member;
    let mut terms = CoverageTerms {
        level: CoverageLevel::Family,
        currency: "eur".into(),
    };
    assert_eq!(
        w.as_payer("set_coverage_terms", &(member, terms.clone()))
            .revert_message(),
        "CoverageError::Malformed"
    );
    terms.currency = "EUR".into();
    assert!(
        w.as_payer("set_coverage_terms", &(member, terms.clone()))
            .is_success()
    );
    assert_eq!(
        w.as_hospital("set_coverage_terms", &(member, terms))
            .revert_message(),
        "CoverageError::NotAPayer"
    );
    // An out-of-network benefit for the same service type is answered beside the in-network one.
    let mut outside = benefit(None, 0);
    outside.copay_cents = 7_500;
    outside.coinsurance_bps = 4_000;
    outside.network = NetworkIndicator::OutOfNetwork;
    assert!(
        w.as_payer("set_benefit", &(member, "30".to_string(), outside))
            .is_success()
    );
    let lines = ask(&w);
    let copays: Vec<(Option<NetworkIndicator>, Option<u64>)> = lines
        .iter()
        .filter(|line| line.information == "B")
        .map(|line| (line.network.clone(), line.amount_cents))
        .collect();
    assert_eq!(
        copays,
        vec![
            (Some(NetworkIndicator::InNetwork), Some(2_500)),
            (Some(NetworkIndicator::OutOfNetwork), Some(7_500)),
        ]
    );
    for line in &lines[1..] {
        assert_eq!(line.coverage_level.as_deref(), Some("FAM"));
        assert_eq!(line.service_type, "30");
        if line.amount_cents.is_some() {
            assert_eq!(line.currency.as_deref(), Some("EUR"));
        }
    }
    assert_eq!(CoverageLevel::Individual.code(), "IND");
    // Claims still draw on the in-network benefit.
    let in_network: Option<Benefit> = w.chain.view(
        w.hospital,
        w.coverage,
        "benefit",
        &(w.payer, member, "30".to_string()),
    );
    assert_eq!(in_network.unwrap().copay_cents, 2_500);
    // Terms are per member: another member of the same payer, with none stated, is answered
    // in US dollars and without a level.
    let other = Hash([0x4e; 32]);
    let coverage: Option<Coverage> =
        w.chain
            .view(w.payer, w.coverage, "coverage", &(w.payer, member));
    assert!(
        w.as_payer("set_coverage", &(other, coverage.unwrap()))
            .is_success()
    );
    assert!(
        w.as_payer("set_benefit", &(other, "30".to_string(), benefit(None, 0)))
            .is_success()
    );
    let answer: Eligibility = w.chain.view(
        w.hospital,
        w.coverage,
        "eligibility",
        &(w.payer, other, "30".to_string(), today),
    );
    let Eligibility::Found(_, _, lines) = answer else {
        panic!("the other member is known");
    };
    let amounts: Vec<&BenefitLine> = lines
        .iter()
        .filter(|line| line.amount_cents.is_some())
        .collect();
    assert_eq!(amounts.len(), 5, "{lines:?}");
    for line in amounts {
        assert_eq!(line.currency.as_deref(), Some("USD"), "{line:?}");
        assert_eq!(line.coverage_level, None);
    }
}

#[test]
fn a_referral_is_decided_and_only_the_servicing_provider_it_names_draws_on_it() {
    let mut w = world();
    let physician = w.participant_with_npi(Role::Practitioner, REFERRING_NPI);
    let imaging = w.provider_with_npi(IMAGING_NPI);
    assert!(
        w.as_payer(
            "set_network",
            &("GOLD-HMO".to_string(), vec![IMAGING_NPI.to_string()], true),
        )
        .is_success()
    );
    // A practitioner refers the member to an imaging centre (X12 278 UM01 `SC`, requester and
    // servicing provider apart): the rules decide it on the servicing provider's NPI.
    let mut referral = w.qualifying_mri("TRN-REF");
    referral.category = Category::Sc;
    referral.servicing_npi = IMAGING_NPI.into();
    referral.servicing_provider = Some(imaging);
    let certified = the_decision(&w.chain.call(physician, w.coverage, "submit", &referral));
    assert_eq!(certified.action, ActionCode::A1, "{certified:?}");
    let request = w.request("TRN-REF");
    assert_eq!(
        (
            request.requester,
            request.servicing_provider,
            request.servicing_npi.as_str(),
            request.category,
        ),
        (physician, imaging, IMAGING_NPI, Category::Sc)
    );
    // The servicing provider reads the request it is to deliver.
    let seen: Option<Request> =
        w.chain
            .view(imaging, w.coverage, "request", &"TRN-REF".to_string());
    assert_eq!(seen.map(|request| request.trace), Some("TRN-REF".into()));
    // The network edit is the servicing provider's: the in-network hospital referring to an
    // out-of-network provider pends with the network reason.
    let outside = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    let mut out_of_network = w.qualifying_mri("TRN-REF-OUT");
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    out_of_network.servicing_provider = Some(outside);
    let pended = the_decision(&w.as_hospital("submit", &out_of_network));
    assert_eq!(suggested(&pended), ActionCode::A3);
    assert_eq!(pended.reason.unwrap().code, "0N");

    // Claims are bound to the servicing provider: neither the referring practitioner nor a
    // third provider (the hospital) draws on the authorisation; the imaging centre does.
    let inside = certified.period.unwrap().start_ms + DAY_MS;
    let (payer, member) = (w.payer, w.member);
    let claim = |seed: u8| {
        (
            Hash([seed; 32]),
            payer,
            member,
            Some("TRN-REF".to_string()),
            vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
        )
    };
    for who in [physician, w.hospital, outside] {
        assert_eq!(
            w.chain
                .call(who, w.coverage, "check_claim", &claim(1))
                .revert_message(),
            "CoverageError::NotAuthorised"
        );
    }
    let drawn: Vec<ClaimLineResult> = w
        .chain
        .call(imaging, w.coverage, "check_claim", &claim(2))
        .decode();
    assert!(drawn[0].accepted, "{:?}", drawn[0]);
    let check: Option<ClaimCheck> = w.chain.view(imaging, w.coverage, "claim", &Hash([2; 32]));
    let check = check.expect("claim stored");
    assert_eq!(
        (check.provider, check.billing_npi.as_str()),
        (imaging, IMAGING_NPI)
    );
}

#[test]
fn a_referral_to_a_servicing_provider_the_registry_does_not_attest_is_refused() {
    let mut w = world();
    let unregistered = w.chain.new_account(10u128.pow(18));
    let other_npi = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    let not_a_provider = w.participant_with_npi(Role::Patient, IMAGING_NPI);
    let suspended = w.provider_with_npi(IMAGING_NPI);
    w.suspend(suspended);
    for (seed, servicing) in [
        (1, unregistered),
        (2, other_npi),
        (3, not_a_provider),
        (4, suspended),
    ] {
        let mut referral = w.qualifying_mri(&format!("TRN-UNATTESTED-{seed}"));
        referral.servicing_npi = IMAGING_NPI.into();
        referral.servicing_provider = Some(servicing);
        assert_eq!(
            w.as_hospital("submit", &referral).revert_message(),
            "CoverageError::UnknownServicingProvider",
            "case {seed}"
        );
    }
    assert_eq!(
        w.chain.view::<Option<Request>>(
            w.patient,
            w.coverage,
            "request",
            &"TRN-UNATTESTED-1".to_string()
        ),
        None
    );
    // Naming itself is no referral: the servicing NPI must be its own.
    let mut itself = w.qualifying_mri("TRN-ITSELF");
    itself.servicing_provider = Some(w.hospital);
    assert_eq!(
        the_decision(&w.as_hospital("submit", &itself)).action,
        ActionCode::A1
    );
    itself.trace = "TRN-ITSELF-2".into();
    itself.servicing_npi = IMAGING_NPI.into();
    assert_eq!(
        w.as_hospital("submit", &itself).revert_message(),
        "CoverageError::NotAuthorised"
    );
}

#[test]
fn a_benefit_only_claim_is_bound_to_the_attested_provider_that_submits_it() {
    let mut w = world();
    let today = w.chain.timestamp_ms();
    let (payer, member) = (w.payer, w.member);
    let visit = |seed: u8| {
        (
            Hash([seed; 32]),
            payer,
            member,
            None::<String>,
            vec![claim_line(OFFICE_VISIT, 1, today, &[])],
        )
    };
    // A practitioner bills under the NPI the registry attests for it.
    let practitioner = w.participant_with_npi(Role::Practitioner, REFERRING_NPI);
    let checked: Vec<ClaimLineResult> = w
        .chain
        .call(practitioner, w.coverage, "check_claim", &visit(1))
        .decode();
    assert!(checked[0].accepted, "{:?}", checked[0]);
    let check: Option<ClaimCheck> = w
        .chain
        .view(practitioner, w.coverage, "claim", &Hash([1; 32]));
    let check = check.expect("claim stored");
    assert_eq!(
        (check.provider, check.billing_npi.as_str()),
        (practitioner, REFERRING_NPI)
    );
    // It is the practitioner's claim: another provider can neither void nor replace it.
    assert_eq!(
        w.as_hospital("void_claim", &Hash([1; 32])).revert_message(),
        "CoverageError::NotAuthorised"
    );
    // A provider without an NPI, a participant that is not a provider, and a suspended
    // provider do not claim.
    let without_npi = w.chain.new_account(10u128.pow(18));
    let (authority, registry) = (w.authority, w.registry);
    let registered = w.chain.call(
        authority,
        registry,
        "register",
        &(
            without_npi,
            vec![Role::ProviderOrganisation],
            None::<String>,
            None::<String>,
            None::<String>,
            0u64,
            today + 365 * DAY_MS,
            Hash([1; 32]),
        ),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
    let patient = w.patient;
    w.suspend(practitioner);
    for (seed, who) in [(2, without_npi), (3, patient), (4, practitioner)] {
        assert_eq!(
            w.chain
                .call(who, w.coverage, "check_claim", &visit(seed))
                .revert_message(),
            "CoverageError::NotAProvider",
            "case {seed}"
        );
    } // Suspended, it no longer voids its own claim either.
    assert_eq!(
        w.chain
            .call(practitioner, w.coverage, "void_claim", &Hash([1; 32]))
            .revert_message(),
        "CoverageError::NotAProvider"
    );
}

#[test]
fn a_suspended_requester_no_longer_acts_on_its_requests() {
    let mut w = world();
    let certified = the_decision(&w.submit(&w.qualifying_mri("TRN-SUSPENDED")));
    assert_eq!(certified.action, ActionCode::A1);
    let hospital = w.hospital;
    w.suspend(hospital);
    let trace = "TRN-SUSPENDED".to_string();
    let steps: Vec<(&str, Vec<u8>)> = vec![
        (
            "add_documentation",
            (
                trace.clone(),
                Attachment {
                    template: ATTESTATION_TEMPLATE,
                    record: Hash([1; 32]),
                },
            )
                .encode(),
        ),
        (
            "revise",
            (
                trace.clone(),
                vec![w.line(LUMBAR_MRI, 1)],
                vec![RADICULOPATHY.to_string()],
            )
                .encode(),
        ),
        ("request_extension", (trace.clone(), 10u32).encode()),
        ("cancel", trace.encode()),
        ("appeal", (trace.clone(), Hash([1; 32])).encode()),
    ];
    for (message, arguments) in steps {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        assert_eq!(
            w.chain
                .call_raw(hospital, w.coverage, input)
                .revert_message(),
            "CoverageError::NotAProvider",
            "{message}"
        );
    }
    let request = w.request("TRN-SUSPENDED");
    assert_eq!(request.decisions[0], certified);
    assert!(request.history.is_empty());
}

// ---- sealed requests (docs/PRIVACY.md §5.5) ----

fn posted(action: ActionCode, reason: Option<&str>, quantity: u32) -> PostedLine {
    PostedLine {
        action,
        reason: reason.map(str::to_string),
        quantity,
    }
}

/// The lowercase hex under which a sealed request is listed and marked overdue.
fn handle_trace(handle: Hash) -> String {
    handle.0.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl World {
    /// The hospital submits a sealed request of `line_count` lines for the member.
    fn submit_sealed(&mut self, handle: Hash, priority: Priority, line_count: u32) -> CallResult {
        let arguments = (
            handle,
            self.payer,
            self.member,
            priority,
            line_count,
            Hash([0xc0; 32]),
        );
        self.as_hospital("submit_sealed", &arguments)
    }

    /// `who` posts `lines` for `handle` under rule set `version`.
    fn post(
        &mut self,
        who: Address,
        handle: Hash,
        lines: Vec<PostedLine>,
        version: u32,
    ) -> CallResult {
        let arguments = (handle, lines, version, Hash([0x11; 32]), Hash([0x22; 32]));
        self.chain
            .call(who, self.coverage, "post_decision", &arguments)
    }

    fn sealed(&self, handle: Hash) -> SealedRequest {
        self.chain
            .view::<Option<SealedRequest>>(self.patient, self.coverage, "sealed_request", &handle)
            .expect("sealed request stored")
    }

    fn due(&self) -> Vec<(String, u64)> {
        self.chain.view(
            self.payer,
            self.coverage,
            "due_within",
            &(self.payer, 30 * 24u64, 10u32),
        )
    }
}

#[test]
fn a_sealed_request_keeps_only_its_skeleton_and_its_clock() {
    let mut w = world();
    let handle = Hash([0x5e; 32]);
    let submitted = w.submit_sealed(handle, Priority::Standard, 2);
    assert!(submitted.is_success(), "{:?}", submitted.receipt.status);
    // The clock starts at the including block.
    let now = w.sealed(handle).received_ms;
    let events: Vec<SealedSubmitted> = submitted.events_named("SealedSubmitted");
    assert_eq!(
        events,
        vec![SealedSubmitted {
            payer: w.payer,
            trace_handle: handle,
            priority: Priority::Standard,
            due_ms: now + 7 * DAY_MS,
        }]
    );
    assert_eq!(submitted.events().len(), 1, "no other event");
    let request = w.sealed(handle);
    assert_eq!(
        (request.requester, request.beneficiary, request.line_count),
        (w.hospital, w.patient, 2)
    );
    assert_eq!(request.status, RequestStatus::Pended);
    assert!(request.decisions.is_empty() && request.posts.is_empty());
    assert_eq!(w.due(), vec![(handle_trace(handle), now + 7 * DAY_MS)]);
    // Not a provider, a handle used twice, no lines, too many lines, a member without
    // coverage.
    let patient = w.patient;
    let arguments = (
        handle,
        w.payer,
        w.member,
        Priority::Standard,
        1u32,
        Hash([1; 32]),
    );
    assert_eq!(
        w.chain
            .call(patient, w.coverage, "submit_sealed", &arguments)
            .revert_message(),
        "CoverageError::NotAProvider"
    );
    for (handle, count, member, error) in [
        (handle, 1, w.member, "CoverageError::Duplicate"),
        (Hash([0x5f; 32]), 0, w.member, "CoverageError::Malformed"),
        (Hash([0x5f; 32]), 51, w.member, "CoverageError::TooComplex"),
        (
            Hash([0x5f; 32]),
            1,
            Hash([0x77; 32]),
            "CoverageError::Unknown",
        ),
    ] {
        let arguments = (
            handle,
            w.payer,
            member,
            Priority::Standard,
            count,
            Hash([1; 32]),
        );
        assert_eq!(
            w.as_hospital("submit_sealed", &arguments).revert_message(),
            error
        );
    }
    // A clear trace may not take the name a sealed request is listed under.
    let clash = w.qualifying_mri(&handle_trace(handle));
    assert_eq!(
        w.submit(&clash).revert_message(),
        "CoverageError::Duplicate"
    );
    // Only the requester, the member and the payer's side read it.
    let stranger = w.chain.account(6);
    assert_eq!(
        w.chain
            .call(stranger, w.coverage, "sealed_request", &handle)
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
}

#[test]
fn the_payers_agent_certifies_and_pends_and_only_a_clinician_posts_an_adverse_action() {
    let mut w = world();
    let handle = Hash([0x61; 32]);
    assert!(w.submit_sealed(handle, Priority::Standard, 2).is_success());
    let payer = w.payer;
    let lines = vec![
        posted(ActionCode::A1, None, 1),
        posted(ActionCode::A4, Some("0R"), 0),
    ];
    // Not the payer's side: neither the requester nor the patient.
    for who in [w.hospital, w.patient] {
        assert_eq!(
            w.post(who, handle, lines.clone(), 1).revert_message(),
            "CoverageError::NotAuthorised"
        );
    }
    // Reason codes come from the named rule set's table; pends and adverse actions need one;
    // a line per submitted line; the rule set must exist; an action's units must fit it.
    for (lines, version, error) in [
        (
            vec![
                posted(ActionCode::A1, None, 1),
                posted(ActionCode::A4, Some("ZZ"), 0),
            ],
            1,
            "CoverageError::UnknownReason",
        ),
        (
            vec![
                posted(ActionCode::A1, None, 1),
                posted(ActionCode::A4, None, 0),
            ],
            1,
            "CoverageError::ReasonRequired",
        ),
        (
            vec![posted(ActionCode::A1, None, 1)],
            1,
            "CoverageError::Malformed",
        ),
        (lines.clone(), 9, "CoverageError::NoRules"),
        (
            vec![
                posted(ActionCode::A1, None, 0),
                posted(ActionCode::A4, Some("0R"), 0),
            ],
            1,
            "CoverageError::Malformed",
        ),
        (
            vec![
                posted(ActionCode::C, None, 0),
                posted(ActionCode::A4, Some("0R"), 0),
            ],
            1,
            "CoverageError::Malformed",
        ),
    ] {
        assert_eq!(
            w.post(payer, handle, lines, version).revert_message(),
            error
        );
    }
    // The payer's own key (its automated agent) may not deny, nor may a reviewer the registry
    // does not attest as a clinician.
    let deny = vec![
        posted(ActionCode::A1, None, 1),
        posted(ActionCode::A3, Some("0D"), 0),
    ];
    assert_eq!(
        w.post(payer, handle, deny.clone(), 1).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clerk = w.chain.new_account(10u128.pow(18));
    assert!(w.as_payer("set_reviewer", &(clerk, true)).is_success());
    assert_eq!(
        w.post(clerk, handle, deny.clone(), 1).revert_message(),
        "CoverageError::NotAuthorised"
    );
    // The agent's decision: one line certified, one pended; the request stays open.
    let first = w.post(payer, handle, lines, 1);
    assert_eq!(first.decode::<RequestStatus>(), RequestStatus::Pended);
    let events: Vec<DecisionPosted> = first.events_named("DecisionPosted");
    assert_eq!(
        events,
        vec![DecisionPosted {
            payer,
            trace_handle: handle,
            status: RequestStatus::Pended,
            rule_set: 1,
        }]
    );
    assert_eq!(first.events().len(), 1, "no per-line event");
    let request = w.sealed(handle);
    assert_eq!(request.decisions.len(), 2);
    assert_eq!(request.decisions[0].line.action, ActionCode::A1);
    assert_eq!(request.decisions[1].line.reason.as_deref(), Some("0R"));
    assert_eq!(request.posts[0].decided_by, payer);
    assert_eq!(request.posts[0].outcome_commitment, Hash([0x22; 32]));
    assert_eq!(w.due().len(), 1, "a pended line keeps it open");
    // A clinician decides the pended line; the certified line is skipped whatever is sent.
    let clinician = w.clinician();
    let second = w.post(clinician, handle, deny, 1);
    assert_eq!(second.decode::<RequestStatus>(), RequestStatus::Decided);
    let request = w.sealed(handle);
    assert_eq!(request.decisions[0].line.action, ActionCode::A1);
    assert_eq!(request.decisions[0].decided_by, payer);
    assert_eq!(request.decisions[1].line.action, ActionCode::A3);
    assert_eq!(
        (request.decisions[1].decided_by, request.decisions[1].post),
        (clinician, 1)
    );
    assert!(w.due().is_empty());
    assert_eq!(
        w.post(payer, handle, vec![posted(ActionCode::A1, None, 1); 2], 1)
            .revert_message(),
        "CoverageError::WrongStatus"
    );
    let metrics = w.metrics(Priority::Standard, None);
    assert_eq!(
        (
            metrics.counts.requested,
            metrics.counts.pended,
            metrics.counts.decided,
            metrics.counts.approved,
            metrics.counts.denied
        ),
        (2, 1, 2, 1, 1)
    );
    // No procedure or diagnosis code is on chain for it: not in the request's storage.
    let stored = request.encode();
    for code in [LUMBAR_MRI, RADICULOPATHY] {
        assert!(
            !stored
                .windows(code.len())
                .any(|window| window == code.as_bytes()),
            "{code} stored"
        );
    }
}

#[test]
fn an_overdue_sealed_request_stays_undecided_and_is_still_decidable() {
    let mut w = world();
    let handle = Hash([0x62; 32]);
    assert!(w.submit_sealed(handle, Priority::Expedited, 1).is_success());
    let now = w.sealed(handle).received_ms;
    assert_eq!(w.due(), vec![(handle_trace(handle), now + 72 * HOUR_MS)]);
    let anyone = w.chain.account(5);
    let trace = handle_trace(handle);
    assert_eq!(
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &trace)
            .revert_message(),
        "CoverageError::NotOverdue"
    );
    w.chain.advance_time(72 * HOUR_MS + 1);
    let marked = w.chain.call(anyone, w.coverage, "mark_overdue", &trace);
    assert!(marked.is_success(), "{:?}", marked.receipt.status);
    let overdue: Vec<Overdue> = marked.events_named("Overdue");
    assert_eq!(overdue[0].trace, trace);
    let request = w.sealed(handle);
    assert!(request.overdue);
    assert_eq!(request.status, RequestStatus::Pended);
    assert!(request.decisions.is_empty(), "overdue is never approval");
    assert_eq!(
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &trace)
            .revert_message(),
        "CoverageError::NotOverdue"
    );
    let payer = w.payer;
    let decided = w.post(payer, handle, vec![posted(ActionCode::A1, None, 1)], 1);
    assert_eq!(decided.decode::<RequestStatus>(), RequestStatus::Decided);
    assert_eq!(w.metrics(Priority::Expedited, None).counts.overdue, 1);
}
