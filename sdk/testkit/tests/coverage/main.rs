//! The coverage contract (contracts/coverage) through the six scenarios of DOMAIN.md §2 in the
//! real VM, on the private path only (docs/PRIVACY.md §5.5): providers post sealed requests and
//! claims (handles, counts, commitments), an in-test payer's agent (`agent.rs`) evaluates them
//! with `coverage-rules` as `salus agent payer` does and posts action codes, reason codes and
//! CARCs; clinicians post the adverse decisions. Each scenario yields the decisions the clear
//! path gave — the same action and reason codes, units, windows and deadlines.

mod agent;

use agent::{
    ClaimLine, MemberFacts, PayerAgent, Submission, claim_commitment, commit,
    documentation_commitment,
};
use coverage::{
    ADVERSE_REVIEWER_ROLE, ActionCode, Adjustment, AppealOutcome, AuthorisationRequirement,
    AutoApprove, Claim, ClaimChecked, ClaimLineResult, ClaimStatus, CodeMetrics, CodeRange,
    Coverage, CoverageStatus, DecisionPosted, Edit, EditReason, Eligibility, GroupCode, Metrics,
    MetricsPost, MetricsReport, Overdue, Period, PlanType, PostedLine, Priority, QuantityPerPeriod,
    Reason, RequestStatus, Rule, RuleSet, SealedLineDecision, SealedRequest, SealedSubmitted,
};
use coverage_rules::{BenefitUse, Outcome, ServiceLine};
use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::{Address, Hash};
use salus_testkit::{BLOCK_TIME_MS, CallResult, TestChain};

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
const RULE_CT: u32 = 50;
/// Abdominal CT (auto-approval conditions).
const ABDOMINAL_CT: &str = "74177";

struct World {
    chain: TestChain,
    authority: Address,
    registry: Address,
    coverage: Address,
    payer: Address,
    hospital: Address,
    patient: Address,
    member: Hash,
    plan_end: u64,
    agent: PayerAgent,
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
    let mut reviewed = rule(40, "62", vec![range("70551", "70553")]);
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

fn benefit(quantity_limit: Option<u32>, quantity_used: u32) -> BenefitUse {
    BenefitUse {
        authorisation_required: false,
        quantity_limit,
        quantity_used,
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
            &(registry, consent::Decision::Deny),
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
    let period = Period {
        start_ms: now - DAY_MS,
        end_ms: plan_end,
    };
    let mut agent = PayerAgent::new(payer, coverage);
    // What left the chain: demographics, benefits and the network are the payer's records.
    agent.members.insert(
        member,
        MemberFacts {
            active: true,
            period: period.clone(),
            birth_year,
            sex: sex.into(),
            network_plan: matches!(plan_type, PlanType::Hmo | PlanType::Epo),
            benefits: vec![
                ("30".into(), benefit(None, 0)),
                ("62".into(), benefit(None, 0)),
                ("PT".into(), benefit(Some(20), 12)),
            ],
        },
    );
    agent.network = vec![IN_NETWORK_NPI.into()];
    let mut w = World {
        chain,
        authority,
        registry,
        coverage,
        payer,
        hospital,
        patient,
        member,
        plan_end,
        agent,
    };
    let covered = w.as_payer(
        "set_coverage",
        &(
            member,
            Coverage {
                beneficiary: patient,
                plan_type,
                period,
                status: CoverageStatus::Active,
            },
        ),
    );
    assert!(covered.is_success(), "{:?}", covered.receipt.status);
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

/// A trace or claim handle from a label (random in practice; names nothing).
fn handle(label: &str) -> Hash {
    salus_primitives::keccak256(label.as_bytes())
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

    fn submission(&self, line: ServiceLine, diagnoses: &[&str]) -> Submission {
        Submission {
            servicing_npi: IN_NETWORK_NPI.into(),
            servicing_provider: None,
            lines: vec![line],
            diagnoses: diagnoses.iter().map(|code| code.to_string()).collect(),
            attachments: vec![],
        }
    }

    /// An MRI request with the qualifying diagnosis and the attestation attached.
    fn qualifying_mri(&self) -> Submission {
        let mut submission = self.submission(self.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
        submission.attachments = vec![ATTESTATION_TEMPLATE];
        submission
    }

    /// `provider` delivers `submission` to the payer's agent and posts its skeleton.
    fn post_request(
        &mut self,
        provider: Address,
        trace: &str,
        submission: &Submission,
        priority: Priority,
    ) -> CallResult {
        let trace_handle = handle(trace);
        self.agent.inbox.insert(trace_handle, submission.clone());
        let arguments = (
            trace_handle,
            self.payer,
            self.member,
            priority,
            submission.lines.len() as u32,
            submission.commitment(),
        );
        self.chain
            .call(provider, self.coverage, "submit_sealed", &arguments)
    }

    /// The hospital submits (standard priority) and the payer's agent decides: the first
    /// line's decision as stored.
    fn submit(&mut self, trace: &str, submission: &Submission) -> SealedLineDecision {
        self.submit_with(trace, submission, Priority::Standard)
    }

    fn submit_with(
        &mut self,
        trace: &str,
        submission: &Submission,
        priority: Priority,
    ) -> SealedLineDecision {
        let hospital = self.hospital;
        let submitted = self.post_request(hospital, trace, submission, priority);
        assert!(submitted.is_success(), "{:?}", submitted.receipt.status);
        let decided = self.agent.decide(&mut self.chain, handle(trace));
        assert!(decided.is_success(), "{:?}", decided.receipt.status);
        self.request(trace).decisions[0].clone()
    }

    /// The rules' outcome behind line 0 of `trace` (the agent's, committed to on chain).
    fn outcome(&self, trace: &str) -> Outcome {
        self.agent.outcomes[&handle(trace)][0].clone()
    }

    fn request(&self, trace: &str) -> SealedRequest {
        self.chain
            .view::<Option<SealedRequest>>(
                self.patient,
                self.coverage,
                "sealed_request",
                &handle(trace),
            )
            .expect("request stored")
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

    fn metrics(&self, priority: Priority) -> MetricsReport {
        self.chain.view(
            self.patient,
            self.coverage,
            "metrics",
            &(self.payer, priority),
        )
    }

    /// `provider` delivers a claim to the payer and posts it; the agent checks it.
    fn claim_by(
        &mut self,
        provider: Address,
        label: &str,
        authorisation: Option<&str>,
        lines: Vec<ClaimLine>,
    ) -> Vec<ClaimLineResult> {
        let claim_handle = handle(label);
        let arguments = (
            claim_handle,
            self.payer,
            self.member,
            authorisation.map(handle),
            lines.len() as u32,
            claim_commitment(&lines),
        );
        self.agent.claims.insert(claim_handle, lines);
        let submitted = self
            .chain
            .call(provider, self.coverage, "submit_claim", &arguments);
        assert!(submitted.is_success(), "{:?}", submitted.receipt.status);
        let checked = self.agent.check_claim(&mut self.chain, claim_handle);
        assert!(checked.is_success(), "{:?}", checked.receipt.status);
        checked.decode()
    }

    fn claim(
        &mut self,
        label: &str,
        authorisation: Option<&str>,
        lines: Vec<ClaimLine>,
    ) -> Vec<ClaimLineResult> {
        let hospital = self.hospital;
        self.claim_by(hospital, label, authorisation, lines)
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

    /// `reviewer` decides every pended line of `trace` as the rules suggested.
    fn decide_as_suggested(&mut self, reviewer: Address, trace: &str) -> CallResult {
        let lines = self.agent.as_suggested(&self.chain, handle(trace));
        self.agent
            .review(&mut self.chain, reviewer, handle(trace), lines)
    }

    /// `reviewer` posts `lines` on `trace`'s pended lines.
    fn review(&mut self, reviewer: Address, trace: &str, lines: Vec<PostedLine>) -> CallResult {
        self.agent
            .review(&mut self.chain, reviewer, handle(trace), lines)
    }

    fn used(&self, service_type: &str) -> u32 {
        self.agent
            .benefit(&self.member, service_type)
            .unwrap()
            .quantity_used
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

fn posted(action: ActionCode, reason: Option<&str>, quantity: u32) -> PostedLine {
    PostedLine {
        action,
        reason: reason.map(str::to_string),
        quantity,
    }
}

/// The action the rules suggest for a line they may not decide alone: the line is pended
/// (`A4`) on chain, and the agent's outcome holds the suggestion.
fn suggested(decision: &SealedLineDecision, outcome: &Outcome) -> ActionCode {
    assert_eq!(decision.line.action, ActionCode::A4, "adverse lines pend");
    assert_eq!(outcome.action, ActionCode::A4);
    outcome
        .suggested
        .as_ref()
        .expect("a suggestion")
        .action
        .clone()
}

fn code(decision: &SealedLineDecision) -> &str {
    decision.line.reason.as_deref().unwrap_or("")
}

/// A claim line's CARCs.
fn carcs(result: &ClaimLineResult) -> Vec<&str> {
    result
        .adjustments
        .iter()
        .map(|adjustment| adjustment.carc.as_str())
        .collect()
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
    let Eligibility::Found(period, lines) = ask(w.member, today) else {
        panic!("the member is known");
    };
    assert_eq!(period.end_ms, w.plan_end);
    assert_eq!(lines[0].information, "1", "active coverage");
    assert_eq!(lines[0].plan_type, PlanType::Hmo);
    // The copay, deductible and limits are the payer's records, answered off chain.
    assert_eq!(lines.len(), 1);
    let Eligibility::Found(_, after_end) = ask(w.member, w.plan_end + DAY_MS) else {
        panic!("the member is known");
    };
    assert_eq!(
        after_end[0].information, "6",
        "inactive after the plan ends"
    );
    assert_eq!(
        ask(Hash([0x55; 32]), today),
        Eligibility::Rejected("75".into(), "Subscriber/Insured Not Found".into())
    );
    assert_eq!(
        ask(Hash([0; 32]), today),
        Eligibility::Rejected("72".into(), "Invalid/Missing Member ID".into())
    );
    // A stranger (neither the member, the payer's side nor a provider) does not ask.
    let mut w = w;
    let stranger = w.chain.account(6);
    let refused = w.chain.call(
        stranger,
        w.coverage,
        "eligibility",
        &(w.payer, w.member, "30".to_string(), today),
    );
    assert_eq!(refused.revert_message(), "CoverageError::NotAuthorised");
}

#[test]
fn scenario_2_a_qualifying_mri_is_certified_automatically_for_sixty_days() {
    let mut w = world();
    let submission = w.qualifying_mri();
    let decision = w.submit("TRN-MRI-1", &submission);
    assert_eq!(decision.line, posted(ActionCode::A1, None, 1));
    assert_eq!(decision.decided_by, w.payer, "the payer's agent");
    let outcome = w.outcome("TRN-MRI-1");
    assert_eq!(outcome.rule_ids, vec![RULE_MRI]);
    let period = outcome.period.expect("an authorised window");
    assert_eq!(period.start_ms, submission.lines[0].from_ms);
    assert_eq!(period.end_ms - period.start_ms, 60 * DAY_MS);
    let stored = w.request("TRN-MRI-1");
    assert_eq!(stored.status, RequestStatus::Decided);
    assert_eq!(stored.posts[0].rule_set, 1);
    assert_eq!(stored.due_ms - stored.received_ms, 7 * DAY_MS);
    let rules: Option<RuleSet> =
        w.chain
            .view(w.patient, w.coverage, "rules", &(w.payer, None::<u32>));
    let rules = rules.expect("the payer published rules");
    assert_eq!((rules.version, rules.policy), (1, Hash([0x90; 32])));
    // Decided by the agent one block after the request: counted as approved.
    let metrics = w.metrics(Priority::Standard);
    assert_eq!(metrics.counts.approved, 1);
    assert_eq!(metrics.approved_bps, 10_000);
    assert_eq!(metrics.median_turnaround_ms, BLOCK_TIME_MS);
    // A handle used twice is refused.
    let hospital = w.hospital;
    assert_eq!(
        w.post_request(hospital, "TRN-MRI-1", &submission, Priority::Standard)
            .revert_message(),
        "CoverageError::Duplicate"
    );
    // The office visit needs no authorisation.
    let visit = w.submission(w.line(OFFICE_VISIT, 1), &["Z00.00"]);
    assert_eq!(w.submit("TRN-VISIT", &visit).line.action, ActionCode::Na);
}

#[test]
fn scenario_3_without_documentation_the_request_pends_until_the_documentation_arrives() {
    let mut w = world();
    let submission = w.submission(w.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
    let pended = w.submit("TRN-MRI-2", &submission);
    assert_eq!(pended.line, posted(ActionCode::A4, Some("0M"), 0));
    assert_eq!(w.outcome("TRN-MRI-2").rule_ids, vec![RULE_MRI]);
    let due: Vec<(Hash, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0, handle("TRN-MRI-2"));

    // The provider delivers the attestation and records its commitment; the agent
    // re-evaluates the pended line with it.
    w.chain.advance_time(5 * HOUR_MS);
    let trace = handle("TRN-MRI-2");
    w.agent
        .documentation
        .entry(trace)
        .or_default()
        .push(ATTESTATION_TEMPLATE);
    let documented = w.as_hospital(
        "add_documentation",
        &(trace, documentation_commitment(&ATTESTATION_TEMPLATE)),
    );
    assert!(documented.is_success(), "{:?}", documented.receipt.status);
    let steps: Vec<coverage::RequestStep> = documented.events_named("RequestStep");
    assert_eq!(steps[0].step, "documentation");
    assert_eq!(steps[0].trace_handle, trace);
    assert_eq!(
        w.request("TRN-MRI-2").status,
        RequestStatus::InformationReceived
    );
    // Another key cannot decide it.
    let stranger = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        w.review(stranger, "TRN-MRI-2", vec![posted(ActionCode::A1, None, 1)])
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    w.chain.advance_time(HOUR_MS);
    let decided = w
        .agent
        .documented(&mut w.chain, trace)
        .expect("the line is decided now");
    assert!(decided.is_success(), "{:?}", decided.receipt.status);
    let request = w.request("TRN-MRI-2");
    assert_eq!(request.decisions[0].line, posted(ActionCode::A1, None, 1));
    assert_eq!(request.status, RequestStatus::Decided);
    let due: Vec<(Hash, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert!(due.is_empty(), "a decided request leaves the queue");
    let metrics = w.metrics(Priority::Standard);
    assert_eq!(metrics.counts.pended, 1);
    assert_eq!(metrics.counts.approved, 1);
    assert!(metrics.median_turnaround_ms >= 6 * HOUR_MS);
}

#[test]
fn scenario_4_denials_name_their_reason_and_rule_and_a_partial_certifies_what_is_left() {
    // Out-of-network servicing provider on an HMO plan.
    let mut w = world();
    let mut out_of_network = w.qualifying_mri();
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    // The rules only suggest a denial; a clinician denies, with the same reason.
    let clinician = w.clinician();
    let pended = w.submit("TRN-NET", &out_of_network);
    assert_eq!(suggested(&pended, &w.outcome("TRN-NET")), ActionCode::A3);
    assert_eq!(code(&pended), "0N");
    assert_eq!(w.outcome("TRN-NET").rule_ids, vec![RULE_MRI]);
    assert!(w.decide_as_suggested(clinician, "TRN-NET").is_success());
    let denied = w.request("TRN-NET").decisions[0].clone();
    assert_eq!(denied.line, posted(ActionCode::A3, Some("0N"), 0));
    assert_eq!(denied.decided_by, clinician);

    // Diagnosis–procedure mismatch.
    let mut mismatch = w.qualifying_mri();
    mismatch.diagnoses = vec!["J45.909".into()];
    let pended = w.submit("TRN-DX", &mismatch);
    assert_eq!(suggested(&pended, &w.outcome("TRN-DX")), ActionCode::A3);
    assert!(w.decide_as_suggested(clinician, "TRN-DX").is_success());
    assert_eq!(
        w.request("TRN-DX").decisions[0].line,
        posted(ActionCode::A3, Some("0D"), 0)
    );

    // Sex edit: mammography for a male member; age edit: a 30-year-old.
    let mut male = world_with(PlanType::Ppo, YEAR_NOW - 50, "M");
    let screening = male.submission(male.line(MAMMOGRAPHY, 1), &["Z12.31"]);
    let denied = male.submit("TRN-SEX", &screening);
    let outcome = male.outcome("TRN-SEX");
    assert_eq!(
        (suggested(&denied, &outcome), code(&denied)),
        (ActionCode::A3, "0S")
    );
    assert_eq!(outcome.rule_ids, vec![RULE_MAMMOGRAPHY]);
    let mut young = world_with(PlanType::Ppo, YEAR_NOW - 30, "F");
    let screening = young.submission(young.line(MAMMOGRAPHY, 1), &["Z12.31"]);
    let denied = young.submit("TRN-AGE", &screening);
    assert_eq!(
        (suggested(&denied, &young.outcome("TRN-AGE")), code(&denied)),
        (ActionCode::A3, "0A")
    );
    // The same service out of network on a PPO plan is not a network denial.
    let mut ppo = young.qualifying_mri();
    ppo.servicing_npi = OUT_OF_NETWORK_NPI.into();
    assert_eq!(young.submit("TRN-PPO", &ppo).line.action, ActionCode::A1);

    // 12 therapy visits requested with 8 left on the benefit: 8 suggested, certified by the
    // clinician.
    let therapy = w.submission(w.line(THERAPY, 12), &["M54.16"]);
    let pended = w.submit("TRN-PT", &therapy);
    let outcome = w.outcome("TRN-PT");
    assert_eq!(suggested(&pended, &outcome), ActionCode::A2);
    assert_eq!(outcome.suggested.unwrap().quantity, 8);
    assert!(w.decide_as_suggested(clinician, "TRN-PT").is_success());
    assert_eq!(
        w.request("TRN-PT").decisions[0].line,
        posted(ActionCode::A2, Some("0Q"), 8)
    );
    assert_eq!(w.used("PT"), 20, "the 8 units are reserved");
    // Nothing left: the next request is denied for quantity.
    let more = w.submission(w.line(THERAPY, 1), &["M54.16"]);
    let exhausted = w.submit("TRN-PT-2", &more);
    assert_eq!(
        (
            suggested(&exhausted, &w.outcome("TRN-PT-2")),
            code(&exhausted)
        ),
        (ActionCode::A3, "0Q")
    );
    assert!(w.decide_as_suggested(clinician, "TRN-PT-2").is_success());
    assert_eq!(
        w.request("TRN-PT-2").decisions[0].line,
        posted(ActionCode::A3, Some("0Q"), 0)
    );

    let metrics = w.metrics(Priority::Standard);
    assert_eq!(metrics.counts.decided, 4);
    assert_eq!(metrics.counts.denied, 3);
    assert_eq!(metrics.counts.approved, 1);
    assert_eq!(metrics.denied_bps, 7_500);
}

#[test]
fn scenario_5_undecided_requests_become_overdue_and_are_never_approved() {
    let mut w = world();
    let expedited = w.submission(w.line(LUMBAR_MRI, 1), &[RADICULOPATHY]);
    let pended = w.submit_with("TRN-EXP", &expedited, Priority::Expedited);
    assert_eq!(pended.line.action, ActionCode::A4);
    let standard = w.submission(w.line("70551", 1), &[RADICULOPATHY]);
    let pended = w.submit("TRN-STD", &standard);
    assert_eq!(
        pended.line,
        posted(ActionCode::A4, Some("0R"), 0),
        "clinical review"
    );
    let expedited_due = w.request("TRN-EXP");
    assert_eq!(
        expedited_due.due_ms - expedited_due.received_ms,
        72 * HOUR_MS
    );

    let mark = |w: &mut World, trace: &str| {
        let anyone = w.chain.account(5);
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &handle(trace))
    };
    w.chain.advance_time(71 * HOUR_MS);
    assert_eq!(
        mark(&mut w, "TRN-EXP").revert_message(),
        "CoverageError::NotOverdue"
    );
    w.chain.advance_time(2 * HOUR_MS);
    let marked = mark(&mut w, "TRN-EXP");
    let overdue = marked.events_named::<Overdue>("Overdue");
    assert_eq!(
        overdue,
        vec![Overdue {
            payer: w.payer,
            trace_handle: handle("TRN-EXP"),
            due_ms: expedited_due.due_ms,
        }]
    );
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
    assert_eq!(request.decisions[0].line.action, ActionCode::A4);
    // The standard request is not due until day 7.
    assert_eq!(
        mark(&mut w, "TRN-STD").revert_message(),
        "CoverageError::NotOverdue"
    );
    w.chain.advance_time(4 * DAY_MS);
    assert!(mark(&mut w, "TRN-STD").is_success());
    assert_eq!(w.metrics(Priority::Expedited).counts.overdue, 1);
    assert_eq!(w.metrics(Priority::Standard).counts.overdue, 1);
    // A late decision still counts, with its real turnaround.
    let clinician = w.clinician();
    assert!(
        w.review(
            clinician,
            "TRN-EXP",
            vec![posted(ActionCode::A3, Some("0M"), 0)]
        )
        .is_success()
    );
    let metrics = w.metrics(Priority::Expedited);
    assert_eq!(metrics.counts.denied, 1);
    assert!(metrics.median_turnaround_ms > 72 * HOUR_MS);
}

#[test]
fn scenario_6_claims_are_checked_against_the_authorisation_and_the_benefit() {
    let mut w = world();
    let submission = w.qualifying_mri();
    assert_eq!(
        w.submit("TRN-CLAIM", &submission).line.action,
        ActionCode::A1
    );
    let window = w.outcome("TRN-CLAIM").period.unwrap();
    let inside = window.start_ms + DAY_MS;
    let mri = |service_ms: u64, quantity: u32, diagnosis: &str| {
        vec![claim_line(LUMBAR_MRI, quantity, service_ms, &[diagnosis])]
    };

    // Prior authorisation required and none cited.
    let results = w.claim("CLM-1", None, mri(inside, 1, RADICULOPATHY));
    assert_eq!(carcs(&results[0]), vec!["197"]);
    // Outside the authorised window.
    let results = w.claim(
        "CLM-2",
        Some("TRN-CLAIM"),
        mri(window.end_ms + DAY_MS, 1, RADICULOPATHY),
    );
    assert_eq!(carcs(&results[0]), vec!["197"]);
    // More units than authorised.
    let results = w.claim("CLM-3", Some("TRN-CLAIM"), mri(inside, 2, RADICULOPATHY));
    assert_eq!(carcs(&results[0]), vec!["198"]);
    // Diagnosis inconsistent with the procedure.
    let results = w.claim("CLM-4", Some("TRN-CLAIM"), mri(inside, 1, "J45.909"));
    assert_eq!(carcs(&results[0]), vec!["11"]);
    // A clean line is accepted and draws on the authorisation; a second one exceeds it.
    let results = w.claim("CLM-5", Some("TRN-CLAIM"), mri(inside, 1, RADICULOPATHY));
    assert_eq!(
        results[0],
        ClaimLineResult {
            accepted: true,
            adjustments: vec![]
        }
    );
    let results = w.claim("CLM-6", Some("TRN-CLAIM"), mri(inside, 1, RADICULOPATHY));
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
        "CLM-7",
        None,
        vec![
            claim_line(THERAPY, 8, inside, &[]),
            claim_line(THERAPY, 1, inside, &[]),
        ],
    );
    assert!(results[0].accepted, "{:?}", results[0]);
    assert_eq!(carcs(&results[1]), vec!["119"], "20 of 20 visits used");
    // A service after the coverage ended.
    let results = w.claim(
        "CLM-8",
        None,
        vec![claim_line(OFFICE_VISIT, 1, w.plan_end, &[])],
    );
    assert_eq!(carcs(&results[0]), vec!["27"]);
    // Every check is stored with the claim; a claim is checked once, a handle used once.
    let stored: Option<Claim> = w
        .chain
        .view(w.hospital, w.coverage, "claim", &handle("CLM-7"));
    let stored = stored.expect("the claim is stored");
    assert_eq!((stored.provider, stored.line_count), (w.hospital, 2));
    let check = stored.check.expect("checked");
    assert_eq!(carcs(&check.lines[1]), vec!["119"]);
    assert_eq!(check.checked_by, w.payer);
    let again = w.as_payer(
        "post_claim_check",
        &(
            handle("CLM-7"),
            vec![Vec::<String>::new(), vec![]],
            Hash([1; 32]),
            Hash([2; 32]),
        ),
    );
    assert_eq!(again.revert_message(), "CoverageError::WrongStatus");
    let duplicate = w.as_hospital(
        "submit_claim",
        &(
            handle("CLM-7"),
            w.payer,
            w.member,
            None::<Hash>,
            1u32,
            Hash([3; 32]),
        ),
    );
    assert_eq!(duplicate.revert_message(), "CoverageError::Duplicate");
}

#[test]
fn revision_extension_cancellation_and_appeal_keep_every_decision() {
    let mut w = world();
    // Revision: a certified 8-visit request revised to 6 visits is certified in total (A1).
    let therapy = w.submission(w.line(THERAPY, 8), &["M54.16"]);
    assert_eq!(w.submit("TRN-REV", &therapy).line.action, ActionCode::A1);
    assert_eq!(w.used("PT"), 20);
    let trace = handle("TRN-REV");
    let revision = w.submission(w.line(THERAPY, 6), &["M54.16"]);
    w.agent.inbox.insert(trace, revision.clone());
    let before = w.request("TRN-REV");
    let revised = w.as_hospital("revise", &(trace, revision.commitment(), 1u32));
    assert!(revised.is_success(), "{:?}", revised.receipt.status);
    let announced: Vec<SealedSubmitted> = revised.events_named("SealedSubmitted");
    assert_eq!(announced.len(), 1, "the agent sees the revision");
    assert!(w.request("TRN-REV").decisions.is_empty());
    assert!(w.agent.revised(&mut w.chain, trace, &before).is_success());
    let request = w.request("TRN-REV");
    assert_eq!(request.decisions[0].line, posted(ActionCode::A1, None, 6));
    assert_eq!(request.revisions, vec![before.submission_commitment]);
    assert_eq!(request.history.len(), 1);
    assert_eq!(request.history[0].1.line.quantity, 8);
    assert_eq!(w.used("PT"), 18, "12 used before, 6 reserved now");

    // Extension: within the rule's 90 days the agent grants it; a second one is refused.
    let extended = w.as_hospital("request_extension", &(trace, 30u32));
    assert!(extended.is_success(), "{:?}", extended.receipt.status);
    let granted = w
        .agent
        .extension(&mut w.chain, trace)
        .expect("within the window");
    assert!(granted.is_success(), "{:?}", granted.receipt.status);
    let extension = w.request("TRN-REV").extension.unwrap();
    assert_eq!((extension.days, extension.granted), (30, Some(true)));
    assert_eq!(
        w.as_hospital("request_extension", &(trace, 30u32))
            .revert_message(),
        "CoverageError::WrongStatus"
    );

    // Cancellation: every line `C`, and the payer returns the reserved units.
    let before = w.request("TRN-REV");
    assert!(w.as_hospital("cancel", &trace).is_success());
    w.agent.cancelled(&w.chain, trace, &before);
    let request = w.request("TRN-REV");
    assert_eq!(request.status, RequestStatus::Cancelled);
    assert_eq!(request.decisions[0].line.action, ActionCode::C);
    assert_eq!(request.decisions[0].post, None);
    assert_eq!(w.used("PT"), 12);

    // Appeal: a diagnosis denial overturned by the payer; the patient may appeal.
    let mut mismatch = w.qualifying_mri();
    mismatch.diagnoses = vec!["J45.909".into()];
    let pended = w.submit("TRN-APL", &mismatch);
    assert_eq!(suggested(&pended, &w.outcome("TRN-APL")), ActionCode::A3);
    let clinician = w.clinician();
    assert!(w.decide_as_suggested(clinician, "TRN-APL").is_success());
    let patient = w.patient;
    let appealed = w.chain.call(
        patient,
        w.coverage,
        "appeal",
        &(handle("TRN-APL"), Hash([0xa1; 32])),
    );
    assert!(appealed.is_success(), "{:?}", appealed.receipt.status);
    let request = w.request("TRN-APL");
    assert_eq!(request.status, RequestStatus::Appealed);
    assert_eq!(request.appeal.as_ref().unwrap().deciders, vec![clinician]);
    let upheld_without_reason = w.as_payer(
        "decide_appeal",
        &(
            handle("TRN-APL"),
            AppealOutcome::Upheld,
            None::<String>,
            Vec::<PostedLine>::new(),
            1u32,
            Hash([1; 32]),
            Hash([2; 32]),
        ),
    );
    assert_eq!(
        upheld_without_reason.revert_message(),
        "CoverageError::NotAuthorised",
        "upholding is a clinician's"
    );
    let payer = w.payer;
    assert!(
        w.agent
            .overturn(&mut w.chain, payer, handle("TRN-APL"))
            .is_success()
    );
    let request = w.request("TRN-APL");
    assert_eq!(request.decisions[0].line, posted(ActionCode::A1, None, 1));
    assert_eq!(request.decisions[0].decided_by, w.payer);
    assert_eq!(
        request.appeal.unwrap().outcome,
        Some(AppealOutcome::Overturned)
    );
    let kept: Vec<ActionCode> = request
        .history
        .iter()
        .map(|(_, earlier)| earlier.line.action.clone())
        .collect();
    assert_eq!(
        kept,
        vec![ActionCode::A4, ActionCode::A3],
        "the pend the reviewer's post replaced and the denial are kept"
    );
    let metrics = w.metrics(Priority::Standard);
    assert_eq!(metrics.counts.approved_after_appeal, 1);
    assert_eq!(metrics.approved_after_appeal_bps, 10_000);
}

#[test]
fn a_denial_without_a_reason_from_the_rule_set_is_refused() {
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
    let submission = w.submission(w.line("70551", 1), &[RADICULOPATHY]);
    assert_eq!(w.submit("TRN-R", &submission).line.action, ActionCode::A4);
    let clinician = w.clinician();
    for (line, error) in [
        (
            posted(ActionCode::A3, None, 0),
            "CoverageError::ReasonRequired",
        ),
        (
            posted(ActionCode::A2, None, 1),
            "CoverageError::ReasonRequired",
        ),
        (
            posted(ActionCode::A3, Some("XX"), 0),
            "CoverageError::UnknownReason",
        ),
        (
            posted(ActionCode::A3, Some("0N"), 1),
            "CoverageError::Malformed",
        ),
        (posted(ActionCode::A1, None, 0), "CoverageError::Malformed"),
        (posted(ActionCode::C, None, 0), "CoverageError::Malformed"),
    ] {
        assert_eq!(
            w.review(clinician, "TRN-R", vec![line.clone()])
                .revert_message(),
            error,
            "{line:?}"
        );
    }
    assert_eq!(
        w.request("TRN-R").status,
        RequestStatus::Pended,
        "nothing changed"
    );
}

#[test]
fn authorisation_requirements_are_answered_per_code_from_the_published_rules() {
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

#[test]
fn a_rolling_window_limits_units_across_requests_and_a_cancellation_frees_them() {
    let mut w = world();
    let mri = w.qualifying_mri();
    assert_eq!(w.submit("TRN-W1", &mri).line.action, ActionCode::A1);
    // One lumbar MRI per 180 days: a second request within the window is denied for quantity.
    let second = w.submit("TRN-W2", &w.qualifying_mri());
    assert_eq!(suggested(&second, &w.outcome("TRN-W2")), ActionCode::A3);
    assert_eq!(code(&second), "0Q");
    // Cancelling the first frees the unit.
    let before = w.request("TRN-W1");
    assert!(w.as_hospital("cancel", &handle("TRN-W1")).is_success());
    w.agent.cancelled(&w.chain, handle("TRN-W1"), &before);
    assert_eq!(
        w.submit("TRN-W3", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    // Outside the window (200 days later) another is certified.
    let mut later = w.qualifying_mri();
    later.lines[0].from_ms += 200 * DAY_MS;
    later.lines[0].to_ms += 200 * DAY_MS;
    assert_eq!(w.submit("TRN-W4", &later).line.action, ActionCode::A1);
}

#[test]
fn auto_approval_conditions_send_other_requests_to_a_reviewer() {
    let mut w = world_with(PlanType::Ppo, YEAR_NOW - 45, "F");
    let ct = |w: &World, diagnosis: &str, npi: &str, quantity: u32| {
        let mut submission = w.submission(w.line(ABDOMINAL_CT, quantity), &[diagnosis]);
        submission.servicing_npi = npi.into();
        submission
    };
    let automatic = w.submit("TRN-CT1", &ct(&w, "R10.9", IN_NETWORK_NPI, 1));
    assert_eq!(automatic.line.action, ActionCode::A1);
    assert_eq!(w.outcome("TRN-CT1").rule_ids, vec![RULE_CT]);
    // Allowed by the rule, but outside the auto-approval conditions: pended for review.
    for (trace, diagnosis, npi, quantity) in [
        ("TRN-CT2", "K35.80", IN_NETWORK_NPI, 1),
        ("TRN-CT3", "R10.9", OUT_OF_NETWORK_NPI, 1),
        ("TRN-CT4", "R10.9", IN_NETWORK_NPI, 2),
    ] {
        let pended = w.submit(trace, &ct(&w, diagnosis, npi, quantity));
        assert_eq!(
            pended.line,
            posted(ActionCode::A4, Some("0R"), 0),
            "{trace}"
        );
    }
    // Not allowed by the rule at all: a denial suggested to a clinician.
    let denied = w.submit("TRN-CT5", &ct(&w, "J45.909", IN_NETWORK_NPI, 1));
    assert_eq!(suggested(&denied, &w.outcome("TRN-CT5")), ActionCode::A3);
}

#[test]
fn a_member_without_coverage_on_the_service_date_is_not_certified() {
    let mut w = world();
    let mut late = w.qualifying_mri();
    late.lines[0].from_ms = w.plan_end + DAY_MS;
    late.lines[0].to_ms = w.plan_end + DAY_MS;
    let decision = w.submit("TRN-LATE", &late);
    assert_eq!(suggested(&decision, &w.outcome("TRN-LATE")), ActionCode::A3);
    assert_eq!(code(&decision), "0U");
    // Even for a service that needs no authorisation while covered.
    let mut visit = w.submission(w.line(OFFICE_VISIT, 1), &[]);
    visit.lines[0].from_ms = w.plan_end + DAY_MS;
    visit.lines[0].to_ms = w.plan_end + DAY_MS;
    let decision = w.submit("TRN-LATE-2", &visit);
    assert_eq!(
        suggested(&decision, &w.outcome("TRN-LATE-2")),
        ActionCode::A3
    );
    // A clinician makes the denial final.
    let clinician = w.clinician();
    assert!(w.decide_as_suggested(clinician, "TRN-LATE-2").is_success());
    assert_eq!(
        w.request("TRN-LATE-2").decisions[0].line,
        posted(ActionCode::A3, Some("0U"), 0)
    );
}

#[test]
fn an_adverse_decision_is_pended_to_a_clinician_and_never_automated() {
    // 42 CFR 438.210(b)(3), 42 CFR 422.566(d): the rules may certify, never deny.
    let mut w = world();
    let mut out_of_network = w.qualifying_mri();
    out_of_network.servicing_npi = OUT_OF_NETWORK_NPI.into();
    let pended = w.submit("TRN-ADV", &out_of_network);
    assert_eq!(pended.line, posted(ActionCode::A4, Some("0N"), 0));
    let outcome = w.outcome("TRN-ADV");
    assert_eq!(outcome.suggested.unwrap().action, ActionCode::A3);
    assert_eq!(outcome.rule_ids, vec![RULE_MRI]);
    assert_eq!(pended.decided_by, w.payer);
    let request = w.request("TRN-ADV");
    assert_eq!(request.status, RequestStatus::Pended);
    let due: Vec<(Hash, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 7 * 24u64, 10u32),
    );
    assert_eq!(due, vec![(handle("TRN-ADV"), request.due_ms)]);

    let deny = vec![posted(ActionCode::A3, Some("0N"), 0)];
    // Neither the payer's own key (its agent) nor a reviewer the registry does not attest as
    // a clinician may deny.
    let payer = w.payer;
    assert_eq!(
        w.review(payer, "TRN-ADV", deny.clone()).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clerk = w.chain.new_account(10u128.pow(18));
    assert!(w.as_payer("set_reviewer", &(clerk, true)).is_success());
    assert_eq!(
        w.review(clerk, "TRN-ADV", deny.clone()).revert_message(),
        "CoverageError::NotAuthorised"
    );
    // The 7-day clock keeps running; an overdue request is not approved (nor denied) by
    // default, and stays decidable.
    w.chain.advance_time(7 * DAY_MS + HOUR_MS);
    let anyone = w.chain.account(5);
    assert!(
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &handle("TRN-ADV"))
            .is_success()
    );
    let request = w.request("TRN-ADV");
    assert!(request.overdue);
    assert_eq!(request.status, RequestStatus::Pended);
    assert_eq!(request.decisions[0].line.action, ActionCode::A4);
    // The clinician decides.
    let clinician = w.clinician();
    assert!(w.review(clinician, "TRN-ADV", deny.clone()).is_success());
    let denied = w.request("TRN-ADV").decisions[0].clone();
    assert_eq!(denied.line, deny[0]);
    assert_eq!(denied.decided_by, clinician);
    assert_eq!(denied.post, Some(1));
    // Posting again on a decided request is refused.
    assert_eq!(
        w.review(clinician, "TRN-ADV", deny.clone())
            .revert_message(),
        "CoverageError::WrongStatus"
    );
    let metrics = w.metrics(Priority::Standard);
    assert_eq!((metrics.counts.pended, metrics.counts.denied), (1, 1));
    // Upholding a denial on appeal is adverse too: not the payer's own key, and not the
    // clinician who denied (42 CFR 422.590(h)(2)); another clinician.
    let patient = w.patient;
    assert!(
        w.chain
            .call(
                patient,
                w.coverage,
                "appeal",
                &(handle("TRN-ADV"), Hash([0xa2; 32]))
            )
            .is_success()
    );
    let uphold = (
        handle("TRN-ADV"),
        AppealOutcome::Upheld,
        Some("0N".to_string()),
        Vec::<PostedLine>::new(),
        1u32,
        Hash([1; 32]),
        Hash([2; 32]),
    );
    assert_eq!(
        w.as_payer("decide_appeal", &uphold).revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert_eq!(
        w.chain
            .call(clinician, w.coverage, "decide_appeal", &uphold)
            .revert_message(),
        "CoverageError::NotAuthorised",
        "the clinician who denied does not decide the appeal"
    );
    let second = w.clinician();
    let upheld = w.chain.call(second, w.coverage, "decide_appeal", &uphold);
    assert_eq!(upheld.decode::<RequestStatus>(), RequestStatus::Decided);
    let request = w.request("TRN-ADV");
    assert_eq!(request.decisions[0].line, deny[0]);
    assert_eq!(request.decisions[0].decided_by, second);
    assert_eq!(request.appeal.unwrap().outcome, Some(AppealOutcome::Upheld));
}

#[test]
fn hcr01_action_codes_are_complete() {
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
    // A6 (modified) is a clinician's: it certifies with a reason.
    let mut w = world();
    let pended = w.submit(
        "TRN-A6",
        &w.submission(w.line("70551", 2), &[RADICULOPATHY]),
    );
    assert_eq!(pended.line.action, ActionCode::A4);
    let payer = w.payer;
    let modified = vec![posted(ActionCode::A6, Some("0R"), 1)];
    assert_eq!(
        w.review(payer, "TRN-A6", modified.clone()).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clinician = w.clinician();
    assert!(w.review(clinician, "TRN-A6", modified.clone()).is_success());
    assert_eq!(w.request("TRN-A6").decisions[0].line, modified[0]);
}

#[test]
fn claim_adjustments_carry_their_group_code_and_remark() {
    let mut w = world();
    assert_eq!(
        w.submit("TRN-CAS", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let inside = w.outcome("TRN-CAS").period.unwrap().start_ms + DAY_MS;
    let absent = w.claim(
        "CAS-1",
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
        "CAS-2",
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
    let after = w.claim(
        "CAS-3",
        None,
        vec![claim_line(OFFICE_VISIT, 1, w.plan_end, &[])],
    );
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
fn a_referral_is_decided_on_the_servicing_npi_and_only_that_provider_draws_on_it() {
    let mut w = world();
    let physician = w.participant_with_npi(Role::Practitioner, REFERRING_NPI);
    let imaging = w.provider_with_npi(IMAGING_NPI);
    w.agent.network.push(IMAGING_NPI.into());
    // A practitioner refers the member to an imaging centre: the rules decide it on the
    // servicing provider's NPI, which the agent asks the registry to attest.
    let mut referral = w.qualifying_mri();
    referral.servicing_npi = IMAGING_NPI.into();
    referral.servicing_provider = Some(imaging);
    assert!(
        w.post_request(physician, "TRN-REF", &referral, Priority::Standard)
            .is_success()
    );
    let registry = w.registry;
    assert!(
        w.agent
            .servicing_attested(&w.chain, registry, handle("TRN-REF"))
    );
    assert!(w.agent.decide(&mut w.chain, handle("TRN-REF")).is_success());
    assert_eq!(
        w.request("TRN-REF").decisions[0].line.action,
        ActionCode::A1
    );
    assert_eq!(w.request("TRN-REF").requester, physician);
    // A referral to a provider the registry does not attest with the NPI is refused by the
    // agent: nothing is posted.
    let suspended = w.provider_with_npi(IMAGING_NPI);
    w.suspend(suspended);
    let unregistered = w.chain.new_account(10u128.pow(18));
    let other_npi = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    for (seed, servicing) in [(1, unregistered), (2, other_npi), (3, suspended)] {
        let mut referral = w.qualifying_mri();
        referral.servicing_npi = IMAGING_NPI.into();
        referral.servicing_provider = Some(servicing);
        let trace = format!("TRN-UNATTESTED-{seed}");
        assert!(
            w.post_request(physician, &trace, &referral, Priority::Standard)
                .is_success()
        );
        assert!(
            !w.agent
                .servicing_attested(&w.chain, registry, handle(&trace)),
            "case {seed}"
        );
    }
    // Nor does a provider borrow another's NPI for itself.
    let mut borrowed = w.qualifying_mri();
    borrowed.servicing_npi = OUT_OF_NETWORK_NPI.into();
    let hospital = w.hospital;
    assert!(
        w.post_request(hospital, "TRN-BORROWED", &borrowed, Priority::Standard)
            .is_success()
    );
    assert!(
        !w.agent
            .servicing_attested(&w.chain, registry, handle("TRN-BORROWED"))
    );

    // Claims are bound to the servicing provider: neither the referring practitioner nor the
    // hospital draws on the authorisation (no authorisation for them: `197`); the imaging
    // centre does.
    let inside = w.outcome("TRN-REF").period.unwrap().start_ms + DAY_MS;
    let mri = || vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])];
    for (label, who) in [("REF-1", physician), ("REF-2", w.hospital)] {
        let refused = w.claim_by(who, label, Some("TRN-REF"), mri());
        assert_eq!(carcs(&refused[0]), vec!["197"], "{label}");
    }
    let drawn = w.claim_by(imaging, "REF-3", Some("TRN-REF"), mri());
    assert!(drawn[0].accepted, "{:?}", drawn[0]);
    let claim: Option<Claim> = w.chain.view(imaging, w.coverage, "claim", &handle("REF-3"));
    let claim = claim.expect("claim stored");
    assert_eq!(
        (claim.provider, claim.billing_npi.as_str()),
        (imaging, IMAGING_NPI)
    );
}

#[test]
fn a_claim_is_voided_or_replaced_by_its_provider_and_the_payer_restores_its_units() {
    let mut w = world();
    assert_eq!(
        w.submit("TRN-VOID", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let inside = w.outcome("TRN-VOID").period.unwrap().start_ms + DAY_MS;
    let mri = || vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])];
    assert!(w.claim("V-1", Some("TRN-VOID"), mri())[0].accepted);
    assert_eq!(
        carcs(&w.claim("V-2", Some("TRN-VOID"), mri())[0]),
        vec!["198"]
    );
    // Only the provider that submitted a claim voids it; an unknown claim is refused.
    let stranger = w.provider_with_npi(OUT_OF_NETWORK_NPI);
    assert_eq!(
        w.chain
            .call(stranger, w.coverage, "void_claim", &handle("V-1"))
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert_eq!(
        w.as_payer("void_claim", &handle("V-1")).revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert_eq!(
        w.as_hospital("void_claim", &handle("V-unknown"))
            .revert_message(),
        "CoverageError::Unknown"
    );
    // A void (CLM05-3 `8`) tells the payer to return the authorisation's unit; once.
    let voided = w.as_hospital("void_claim", &handle("V-1"));
    let withdrawn: Vec<coverage::ClaimWithdrawn> = voided.events_named("ClaimWithdrawn");
    assert_eq!(withdrawn[0].status, ClaimStatus::Voided);
    w.agent.withdrawn(handle("V-1"));
    assert_eq!(
        w.as_hospital("void_claim", &handle("V-1")).revert_message(),
        "CoverageError::WrongStatus"
    );
    assert!(w.claim("V-3", Some("TRN-VOID"), mri())[0].accepted);
    // A replacement (`7`): the original's unit returns and the new claim draws.
    let lines = mri();
    w.agent.claims.insert(handle("V-4"), lines.clone());
    let replaced = w.as_hospital(
        "replace_claim",
        &(
            handle("V-3"),
            handle("V-4"),
            Some(handle("TRN-VOID")),
            1u32,
            claim_commitment(&lines),
        ),
    );
    assert!(replaced.is_success(), "{:?}", replaced.receipt.status);
    w.agent.withdrawn(handle("V-3"));
    let checked: Vec<ClaimLineResult> = w.agent.check_claim(&mut w.chain, handle("V-4")).decode();
    assert!(checked[0].accepted, "{:?}", checked[0]);
    assert_eq!(
        carcs(&w.claim("V-5", Some("TRN-VOID"), mri())[0]),
        vec!["198"]
    );
    let original: Option<Claim> = w
        .chain
        .view(w.hospital, w.coverage, "claim", &handle("V-3"));
    assert_eq!(original.unwrap().status, ClaimStatus::Replaced);
    let replacement: Option<Claim> = w
        .chain
        .view(w.hospital, w.coverage, "claim", &handle("V-4"));
    let replacement = replacement.unwrap();
    assert_eq!(replacement.status, ClaimStatus::InForce);
    assert_eq!(replacement.replaces, Some(handle("V-3")));
    assert_eq!(
        w.chain
            .call(
                stranger,
                w.coverage,
                "replace_claim",
                &(
                    handle("V-4"),
                    handle("V-6"),
                    None::<Hash>,
                    1u32,
                    Hash([6; 32])
                ),
            )
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    // A voided claim is not checked.
    assert_eq!(
        w.as_payer(
            "post_claim_check",
            &(
                handle("V-1"),
                vec![Vec::<String>::new()],
                Hash([1; 32]),
                Hash([2; 32])
            )
        )
        .revert_message(),
        "CoverageError::WrongStatus"
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
    let therapy = |units| vec![claim_line(THERAPY, units, inside, &[])];
    assert!(w.claim("V-7", None, therapy(8))[0].accepted);
    assert_eq!(w.used("PT"), 20);
    assert!(w.as_hospital("void_claim", &handle("V-7")).is_success());
    w.agent.withdrawn(handle("V-7"));
    assert_eq!(w.used("PT"), 12, "a void restores every unit");
}

#[test]
fn a_refused_extension_waits_for_a_clinician_who_decides() {
    let mut w = world();
    assert_eq!(
        w.submit("TRN-EXT", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let trace = handle("TRN-EXT");
    // Beyond the rule's 60 days the rules would refuse: not an automatic refusal, but an
    // extension waiting for a clinician, and the certification stands meanwhile.
    assert!(
        w.as_hospital("request_extension", &(trace, 365u32))
            .is_success()
    );
    assert!(
        w.agent.extension(&mut w.chain, trace).is_none(),
        "left to a clinician"
    );
    let request = w.request("TRN-EXT");
    assert_eq!(request.decisions[0].line, posted(ActionCode::A1, None, 1));
    let extension = request.extension.expect("asked");
    assert_eq!((extension.days, extension.granted), (365, None));
    // A refusal is adverse: not the payer's own key, and not without a reason from the set.
    let refuse = (trace, false, Some("0E".to_string()), 1u32, Hash([0xe0; 32]));
    assert_eq!(
        w.as_payer("decide_extension", &refuse).revert_message(),
        "CoverageError::NotAuthorised"
    );
    let clinician = w.clinician();
    for (reason, error) in [
        (None, "CoverageError::ReasonRequired"),
        (Some("XX".to_string()), "CoverageError::UnknownReason"),
    ] {
        assert_eq!(
            w.chain
                .call(
                    clinician,
                    w.coverage,
                    "decide_extension",
                    &(trace, false, reason, 1u32, Hash([0xe0; 32])),
                )
                .revert_message(),
            error
        );
    }
    assert!(
        w.chain
            .call(clinician, w.coverage, "decide_extension", &refuse)
            .is_success()
    );
    let request = w.request("TRN-EXT");
    assert_eq!(
        request.decisions[0].line.action,
        ActionCode::A1,
        "still certified"
    );
    let extension = request.extension.unwrap();
    assert_eq!(
        (extension.granted, extension.reason.as_deref()),
        (Some(false), Some("0E"))
    );
    assert_eq!(
        request.posts[extension.post.unwrap() as usize].decided_by,
        clinician
    );
    assert_eq!(
        w.chain
            .call(clinician, w.coverage, "decide_extension", &refuse)
            .revert_message(),
        "CoverageError::WrongStatus"
    );
}

#[test]
fn a_suspended_requester_no_longer_acts_on_its_requests() {
    let mut w = world();
    assert_eq!(
        w.submit("TRN-SUSPENDED", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let hospital = w.hospital;
    w.suspend(hospital);
    let trace = handle("TRN-SUSPENDED");
    let steps: Vec<(&str, Vec<u8>)> = vec![
        ("add_documentation", (trace, Hash([1; 32])).encode()),
        ("revise", (trace, Hash([2; 32]), 1u32).encode()),
        ("request_extension", (trace, 10u32).encode()),
        ("cancel", trace.encode()),
        ("appeal", (trace, Hash([1; 32])).encode()),
        (
            "submit_claim",
            (
                handle("C"),
                w.payer,
                w.member,
                Some(trace),
                1u32,
                Hash([3; 32]),
            )
                .encode(),
        ),
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
    assert_eq!(request.decisions[0].line, posted(ActionCode::A1, None, 1));
    assert!(request.history.is_empty());
}

#[test]
fn a_request_keeps_only_its_skeleton_and_its_clock() {
    let mut w = world();
    let trace = handle("TRN-SKELETON");
    let submission = w.qualifying_mri();
    let hospital = w.hospital;
    let submitted = w.post_request(hospital, "TRN-SKELETON", &submission, Priority::Standard);
    assert!(submitted.is_success(), "{:?}", submitted.receipt.status);
    let now = w.request("TRN-SKELETON").received_ms;
    let events: Vec<SealedSubmitted> = submitted.events_named("SealedSubmitted");
    assert_eq!(
        events,
        vec![SealedSubmitted {
            payer: w.payer,
            trace_handle: trace,
            priority: Priority::Standard,
            due_ms: now + 7 * DAY_MS,
        }]
    );
    assert_eq!(submitted.events().len(), 1, "no other event");
    let request = w.request("TRN-SKELETON");
    assert_eq!(
        (request.requester, request.beneficiary, request.line_count),
        (w.hospital, w.patient, 1)
    );
    assert_eq!(request.status, RequestStatus::Pended);
    assert!(request.decisions.is_empty() && request.posts.is_empty());
    // Not a provider, a handle used twice, no lines, too many lines, a zero commitment, a
    // member without coverage.
    let patient = w.patient;
    let arguments = (
        trace,
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
    let other = handle("TRN-OTHER");
    for (trace, count, member, commitment, error) in [
        (
            trace,
            1,
            w.member,
            Hash([1; 32]),
            "CoverageError::Duplicate",
        ),
        (
            other,
            0,
            w.member,
            Hash([1; 32]),
            "CoverageError::Malformed",
        ),
        (
            other,
            51,
            w.member,
            Hash([1; 32]),
            "CoverageError::TooComplex",
        ),
        (
            other,
            1,
            w.member,
            Hash([0; 32]),
            "CoverageError::Malformed",
        ),
        (
            Hash([0; 32]),
            1,
            w.member,
            Hash([1; 32]),
            "CoverageError::Malformed",
        ),
        (
            other,
            1,
            Hash([0x77; 32]),
            Hash([1; 32]),
            "CoverageError::Unknown",
        ),
    ] {
        let arguments = (
            trace,
            w.payer,
            member,
            Priority::Standard,
            count,
            commitment,
        );
        assert_eq!(
            w.as_hospital("submit_sealed", &arguments).revert_message(),
            error
        );
    }
    // Only the requester, the member and the payer's side read it.
    let stranger = w.chain.account(6);
    assert_eq!(
        w.chain
            .call(stranger, w.coverage, "sealed_request", &trace)
            .revert_message(),
        "CoverageError::NotAuthorised"
    );
    // The agent posts one line per submitted line; a post of another length is refused, as
    // is a post naming an unpublished rule set.
    let payer = w.payer;
    let two = vec![
        posted(ActionCode::A1, None, 1),
        posted(ActionCode::A1, None, 1),
    ];
    assert_eq!(
        w.review(payer, "TRN-SKELETON", two).revert_message(),
        "CoverageError::Malformed"
    );
    let unpublished = w.chain.call(
        payer,
        w.coverage,
        "post_decision",
        &(
            trace,
            vec![posted(ActionCode::A1, None, 1)],
            9u32,
            Hash([1; 32]),
            Hash([2; 32]),
        ),
    );
    assert_eq!(unpublished.revert_message(), "CoverageError::NoRules");
    let decided = w.agent.decide(&mut w.chain, trace);
    let posted_events: Vec<DecisionPosted> = decided.events_named("DecisionPosted");
    assert_eq!(
        posted_events,
        vec![DecisionPosted {
            payer: w.payer,
            trace_handle: trace,
            status: RequestStatus::Decided,
            rule_set: 1,
        }]
    );
}

#[test]
fn a_cancelled_request_is_decided_by_nobody() {
    let mut w = world();
    let pended = w.submit(
        "TRN-CANCEL",
        &w.submission(w.line("70551", 1), &[RADICULOPATHY]),
    );
    assert_eq!(pended.line.action, ActionCode::A4);
    let trace = handle("TRN-CANCEL");
    // Only the requester cancels.
    assert_eq!(
        w.as_payer("cancel", &trace).revert_message(),
        "CoverageError::NotAuthorised"
    );
    assert!(w.as_hospital("cancel", &trace).is_success());
    assert_eq!(
        w.as_hospital("cancel", &trace).revert_message(),
        "CoverageError::WrongStatus"
    );
    let clinician = w.clinician();
    assert_eq!(
        w.review(
            clinician,
            "TRN-CANCEL",
            vec![posted(ActionCode::A1, None, 1)]
        )
        .revert_message(),
        "CoverageError::WrongStatus"
    );
    let anyone = w.chain.account(5);
    w.chain.advance_time(8 * DAY_MS);
    assert_eq!(
        w.chain
            .call(anyone, w.coverage, "mark_overdue", &trace)
            .revert_message(),
        "CoverageError::NotOverdue",
        "a cancelled request is not waiting"
    );
    let due: Vec<(Hash, u64)> = w.chain.view(
        w.payer,
        w.coverage,
        "due_within",
        &(w.payer, 30 * 24u64, 10u32),
    );
    assert!(due.is_empty());
}

#[test]
fn only_the_payer_checks_a_claim_with_codes_from_the_carc_table() {
    let mut w = world();
    let lines = vec![claim_line(OFFICE_VISIT, 1, w.chain.timestamp_ms(), &[])];
    let claim_handle = handle("CLM-P");
    let submitted = w.as_hospital(
        "submit_claim",
        &(
            claim_handle,
            w.payer,
            w.member,
            None::<Hash>,
            1u32,
            claim_commitment(&lines),
        ),
    );
    assert!(submitted.is_success(), "{:?}", submitted.receipt.status);
    let events: Vec<coverage::ClaimSubmitted> = submitted.events_named("ClaimSubmitted");
    assert_eq!(events[0].claim_handle, claim_handle);
    let check = |carcs: Vec<Vec<String>>| (claim_handle, carcs, Hash([1; 32]), Hash([2; 32]));
    // Not the provider, not another payer, not a stranger.
    let other_payer = w.chain.new_account(10u128.pow(18));
    let (authority, registry) = (w.authority, w.registry);
    register(&mut w.chain, authority, registry, other_payer, Role::Payer);
    for who in [w.hospital, other_payer, w.chain.account(6)] {
        assert_eq!(
            w.chain
                .call(who, w.coverage, "post_claim_check", &check(vec![vec![]]))
                .revert_message(),
            "CoverageError::NotAuthorised"
        );
    }
    for (carcs, error) in [
        (
            vec![vec!["999".to_string()]],
            "CoverageError::UnknownReason",
        ),
        (vec![vec![], vec![]], "CoverageError::Malformed"),
    ] {
        assert_eq!(
            w.as_payer("post_claim_check", &check(carcs))
                .revert_message(),
            error
        );
    }
    // A reviewer of the payer may post it.
    let clinician = w.clinician();
    let posted = w.chain.call(
        clinician,
        w.coverage,
        "post_claim_check",
        &check(vec![vec!["27".into()]]),
    );
    let checked: Vec<ClaimChecked> = posted.events_named("ClaimChecked");
    assert_eq!((checked[0].accepted, checked[0].refused), (0, 1));
    // A claim citing an unknown request, or for a member without coverage, is refused.
    let submit = |w: &mut World, trace: Option<Hash>, member: Hash| {
        let arguments = (handle("CLM-Q"), w.payer, member, trace, 1u32, Hash([3; 32]));
        w.as_hospital("submit_claim", &arguments)
            .revert_message()
            .to_string()
    };
    let member = w.member;
    assert_eq!(
        submit(&mut w, Some(handle("TRN-NONE")), member),
        "CoverageError::Unknown"
    );
    assert_eq!(
        submit(&mut w, None, Hash([0x77; 32])),
        "CoverageError::Unknown"
    );
}

#[test]
fn the_payer_posts_per_code_metrics_for_a_finished_period() {
    let mut w = world();
    let start = w.chain.timestamp_ms();
    assert_eq!(
        w.submit("TRN-M1", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let period = Period {
        start_ms: start,
        end_ms: start + 30 * DAY_MS,
    };
    let aggregates = vec![CodeMetrics {
        service_code: LUMBAR_MRI.into(),
        priority: Priority::Standard,
        counts: Metrics {
            requested: 1,
            pended: 0,
            decided: 1,
            approved: 1,
            denied: 0,
            approved_after_appeal: 0,
            approved_with_extension: 0,
            overdue: 0,
            turnaround_total_ms: BLOCK_TIME_MS,
        },
        median_turnaround_ms: BLOCK_TIME_MS,
    }];
    let decisions = commit(0x22, &vec![handle("TRN-M1")]);
    let arguments = (period.clone(), aggregates.clone(), decisions);
    // A period still running is refused: its figures would be rewritten request by request.
    assert_eq!(
        w.as_payer("post_metrics", &arguments).revert_message(),
        "CoverageError::InvalidPeriod"
    );
    w.chain.advance_time(31 * DAY_MS);
    // Only the payer posts; a provider cannot.
    assert_eq!(
        w.as_hospital("post_metrics", &arguments).revert_message(),
        "CoverageError::NotAPayer"
    );
    let posted = w.as_payer("post_metrics", &arguments);
    assert!(posted.is_success(), "{:?}", posted.receipt.status);
    assert_eq!(
        w.as_payer("post_metrics", &arguments).revert_message(),
        "CoverageError::Duplicate",
        "once per period"
    );
    let stored: Option<MetricsPost> = w.chain.view(
        w.patient,
        w.coverage,
        "period_metrics",
        &(w.payer, period.start_ms),
    );
    let stored = stored.expect("posted");
    assert_eq!(stored.aggregates, aggregates);
    assert_eq!(stored.decisions_commitment, decisions);
    // The plan-wide counters were kept by the decision itself, with no procedure code.
    assert_eq!(w.metrics(Priority::Standard).counts.approved, 1);
    // Two entries for one code and priority are refused.
    let doubled = (
        Period {
            start_ms: period.end_ms,
            end_ms: period.end_ms + DAY_MS,
        },
        vec![aggregates[0].clone(), aggregates[0].clone()],
        decisions,
    );
    assert_eq!(
        w.as_payer("post_metrics", &doubled).revert_message(),
        "CoverageError::Duplicate"
    );
}

#[test]
fn no_clinical_value_is_stored_sent_or_emitted() {
    // Every scenario's clinical values: none is in any transaction's input, receipt or event
    // (the rule set, published before, names procedure ranges: public policy).
    let mut w = world();
    let published = w.chain.history().len();
    assert_eq!(
        w.submit("TRN-C1", &w.qualifying_mri()).line.action,
        ActionCode::A1
    );
    let therapy = w.submission(w.line(THERAPY, 12), &["M54.16"]);
    assert_eq!(w.submit("TRN-C2", &therapy).line.action, ActionCode::A4);
    let clinician = w.clinician();
    assert!(w.decide_as_suggested(clinician, "TRN-C2").is_success());
    let inside = w.outcome("TRN-C1").period.unwrap().start_ms + DAY_MS;
    w.claim(
        "C-1",
        Some("TRN-C1"),
        vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])],
    );
    let needles: Vec<Vec<u8>> = [LUMBAR_MRI, THERAPY, RADICULOPATHY, "M54.16", "GOLD-HMO"]
        .iter()
        .map(|code| code.as_bytes().to_vec())
        // A bare `u16` year is two bytes, found by chance; the date of service is eight.
        .chain([inside.to_le_bytes().to_vec()])
        .collect();
    let contains = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    };
    for (_, transaction) in &w.chain.history()[published..] {
        let bytes = transaction.encode();
        for needle in &needles {
            assert!(
                !contains(&bytes, needle),
                "a transaction carries {needle:?}"
            );
        }
    }
    for trace in ["TRN-C1", "TRN-C2"] {
        let stored = w.request(trace).encode();
        for needle in &needles {
            assert!(!contains(&stored, needle), "{trace} stores {needle:?}");
        }
    }
    let claim: Option<Claim> = w
        .chain
        .view(w.hospital, w.coverage, "claim", &handle("C-1"));
    let claim = claim.unwrap().encode();
    for needle in &needles {
        assert!(!contains(&claim, needle), "the claim stores {needle:?}");
    }
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
    let hospital = w.hospital;
    let approved = w.qualifying_mri();
    record(
        "submit_sealed",
        &w.post_request(hospital, "TRN-S1", &approved, Priority::Standard),
    );
    record(
        "post_decision certified",
        &w.agent.decide(&mut w.chain, handle("TRN-S1")),
    );
    let pended = w.submission(w.line("70551", 1), &[RADICULOPATHY]);
    record(
        "submit_sealed pended",
        &w.post_request(hospital, "TRN-S2", &pended, Priority::Standard),
    );
    record(
        "post_decision pended",
        &w.agent.decide(&mut w.chain, handle("TRN-S2")),
    );
    let clinician = w.clinician();
    record(
        "post_decision by a clinician",
        &w.review(
            clinician,
            "TRN-S2",
            vec![posted(ActionCode::A3, Some("0R"), 0)],
        ),
    );
    let inside = w.outcome("TRN-S1").period.unwrap().start_ms + DAY_MS;
    let lines = vec![claim_line(LUMBAR_MRI, 1, inside, &[RADICULOPATHY])];
    w.agent.claims.insert(handle("CLM-S"), lines.clone());
    record(
        "submit_claim",
        &w.as_hospital(
            "submit_claim",
            &(
                handle("CLM-S"),
                w.payer,
                w.member,
                Some(handle("TRN-S1")),
                1u32,
                claim_commitment(&lines),
            ),
        ),
    );
    record(
        "post_claim_check",
        &w.agent.check_claim(&mut w.chain, handle("CLM-S")),
    );
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/coverage_fuel.snap");
    salus_testkit::assert_snapshot(&path, &report);
}
