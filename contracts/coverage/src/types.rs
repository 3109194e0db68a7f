//! The coverage contract's vocabulary: what it stores, what its messages take and return, what
//! it emits and why it refuses — plain data, shared by every module (and re-exported at the
//! crate root, the contract's public types). The rule set's and the request's line types come
//! from `coverage-rules`, re-exported here.

use consent::Decision;
use registry::Role;
use salus_sdk::prelude::*;

// The rule set's types, the requested line's and the action codes live with the rules
// (`coverage-rules`, shared with the payer's agent); they are this contract's ABI types too.
pub use coverage_rules::{
    ActionCode, Attachment, AutoApprove, CodeRange, Edit, EditReason, Period, QuantityPerPeriod,
    Reason, Rule, RuleSet, ServiceLine,
};
pub(crate) use coverage_rules::{DAY_MS, HOUR_MS};

/// Why a message was refused (malformed input or a caller without authority only:
/// denials are decisions, recorded, not errors).
#[error]
pub enum CoverageError {
    /// The caller is not an active payer in the registry.
    NotAPayer,
    /// The caller is not an active provider (practitioner or provider organisation) the
    /// registry attests with an NPI.
    NotAProvider,
    /// The caller may not act on this request or member.
    NotAuthorised,
    /// Unknown member, request, rule set or claim.
    Unknown,
    /// A trace number or claim already used.
    Duplicate,
    /// A period ends before it starts, or a line's dates are reversed.
    InvalidPeriod,
    /// Too many lines, rules or codes, or a code too long.
    TooComplex,
    /// An empty or malformed field (no lines, zero quantity, bad code range, …).
    Malformed,
    /// A rule set lacks a reason for some edit, or a rule is inconsistent.
    IncompleteRules,
    /// No rule set in effect for the date of service.
    NoRules,
    /// A denial or partial certification without a specific reason.
    ReasonRequired,
    /// The request is not in a state that allows this.
    WrongStatus,
    /// The request is not overdue.
    NotOverdue,
    /// A payer reads attachments only for HPAYMT or COVAUTH.
    WrongPurpose,
    /// The record is not attached to the request.
    NotAttached,
    /// The registry or consent contract could not be asked.
    Unavailable,
    /// A referral names a servicing provider the registry does not attest as an active
    /// provider (practitioner or provider organisation) with the servicing NPI.
    UnknownServicingProvider,
    /// A posted reason code is not in the named rule set's reason table.
    UnknownReason,
}

// ---- coverage, benefits and eligibility answers ----

/// X12 EB01 coverage status.
#[data]
pub enum CoverageStatus {
    /// `1` active coverage.
    Active,
    /// `6` inactive.
    Inactive,
    /// Recorded by mistake: answers as an invalid member id.
    EnteredInError,
}

/// Plan type (X12 EB04 insurance type, simplified): HMO and EPO plans cover only in-network
/// servicing providers.
#[data]
pub enum PlanType {
    /// Health maintenance organisation.
    Hmo,
    /// Preferred provider organisation.
    Ppo,
    /// Exclusive provider organisation.
    Epo,
    /// Point of service.
    Pos,
    /// Indemnity.
    Indemnity,
}

/// A member's coverage (FHIR Coverage), maintained by the payer.
#[data]
pub struct Coverage {
    /// Dependent sequence (0: the subscriber).
    pub dependent: u8,
    /// The member's key, so the patient can follow their requests and consent can apply.
    pub beneficiary: Address,
    /// Plan identifier.
    pub plan: String,
    /// Group number.
    pub group: String,
    /// Plan type.
    pub plan_type: PlanType,
    /// Plan period.
    pub period: Period,
    /// Status.
    pub status: CoverageStatus,
    /// Primary care provider's NPI.
    pub primary_care: Option<String>,
}

/// X12 EB12 in-plan-network indicator of a benefit.
#[data]
pub enum NetworkIndicator {
    /// `Y` in network.
    InNetwork,
    /// `N` out of network.
    OutOfNetwork,
    /// `W` not applicable.
    NotApplicable,
}

/// Benefits for one X12 service type (EB03), amounts in cents.
#[data]
pub struct Benefit {
    /// Copay per service (EB01 `B`).
    pub copay_cents: u64,
    /// Coinsurance in basis points (EB01 `A`).
    pub coinsurance_bps: u16,
    /// Deductible (EB01 `C`).
    pub deductible_cents: u64,
    /// Deductible remaining.
    pub deductible_remaining_cents: u64,
    /// Out-of-pocket maximum (EB01 `G`).
    pub out_of_pocket_max_cents: u64,
    /// Out-of-pocket remaining.
    pub out_of_pocket_remaining_cents: u64,
    /// Units covered per plan period (EB01 `F` limitations), if limited.
    pub quantity_limit: Option<u32>,
    /// Units certified or claimed so far this plan period.
    pub quantity_used: u32,
    /// EB11: authorisation or certification required.
    pub authorisation_required: bool,
    /// EB12.
    pub network: NetworkIndicator,
}

/// One 271 EB segment.
#[data]
pub struct BenefitLine {
    /// EB01: `1` active, `6` inactive, `A` coinsurance, `B` copay, `C` deductible, `G` out
    /// of pocket, `F` limitations.
    pub information: String,
    /// EB03 service type.
    pub service_type: String,
    /// EB06 time qualifier: `23` calendar year / plan period, `29` remaining, empty if none.
    pub time_qualifier: String,
    /// EB07 amount in cents.
    pub amount_cents: Option<u64>,
    /// EB08 percent in basis points.
    pub percent_bps: Option<u16>,
    /// EB10 quantity.
    pub quantity: Option<u32>,
    /// EB11.
    pub authorisation_required: Option<bool>,
    /// EB12.
    pub network: Option<NetworkIndicator>,
    /// EB02 coverage level code (`IND`, `FAM`, …), where the payer stated it.
    pub coverage_level: Option<String>,
    /// ISO 4217 currency of `amount_cents` (on every line with an amount).
    pub currency: Option<String>,
}

/// X12 271 EB02 coverage level.
#[data]
pub enum CoverageLevel {
    /// `IND` individual.
    Individual,
    /// `FAM` family.
    Family,
    /// `EMP` employee only.
    EmployeeOnly,
    /// `ESP` employee and spouse.
    EmployeeAndSpouse,
    /// `ECH` employee and children.
    EmployeeAndChildren,
    /// `E1D` employee and one dependent.
    EmployeeAndOneDependent,
    /// `SPC` spouse and children.
    SpouseAndChildren,
    /// `SPO` spouse only.
    SpouseOnly,
    /// `CHD` children only.
    ChildrenOnly,
    /// `DEP` dependents only.
    DependentsOnly,
    /// `TWO` two party.
    TwoParty,
}

impl CoverageLevel {
    /// The EB02 code as X12 spells it.
    pub fn code(&self) -> &'static str {
        match self {
            CoverageLevel::Individual => "IND",
            CoverageLevel::Family => "FAM",
            CoverageLevel::EmployeeOnly => "EMP",
            CoverageLevel::EmployeeAndSpouse => "ESP",
            CoverageLevel::EmployeeAndChildren => "ECH",
            CoverageLevel::EmployeeAndOneDependent => "E1D",
            CoverageLevel::SpouseAndChildren => "SPC",
            CoverageLevel::SpouseOnly => "SPO",
            CoverageLevel::ChildrenOnly => "CHD",
            CoverageLevel::DependentsOnly => "DEP",
            CoverageLevel::TwoParty => "TWO",
        }
    }
}

/// A member's coverage terms as the 271 states them: the coverage level (EB02) and the
/// currency of every amount (ISO 4217).
#[data]
pub struct CoverageTerms {
    /// EB02.
    pub level: CoverageLevel,
    /// ISO 4217 alphabetic code (three capital letters), e.g. `USD`.
    pub currency: String,
}

/// The answer to an eligibility inquiry (270 → 271).
#[data]
pub enum Eligibility {
    /// The member was found: plan, period and benefit lines (the first says `1` active or
    /// `6` inactive on the date asked).
    Found(String, Period, Vec<BenefitLine>),
    /// AAA rejection: AAA03 reject reason (`72` invalid/missing member id, `75`
    /// subscriber/insured not found) and its text.
    Rejected(String, String),
}

/// Does a procedure need prior authorisation for a member.
#[data]
pub enum AuthorisationRequirement {
    /// No active coverage for the date, or no benefit for the service type.
    NotCovered,
    /// Covered; whether authorisation is needed.
    Covered(bool),
    /// Covered under the conditions of a rule (diagnoses, age, …); whether authorisation is
    /// needed, and the rule.
    Conditional(bool, u32),
}

/// Coverage was created or changed.
#[event]
pub struct CoverageChanged {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The member.
    #[topic]
    pub member: Hash,
    /// Its status.
    pub status: CoverageStatus,
}

// ---- rule sets ----

/// A rule set was published.
#[event]
pub struct RulesPublished {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// Version.
    pub version: u32,
    /// Policy document hash.
    pub policy: Hash,
}

// ---- preauthorization requests ----

/// X12 UM01 request category.
#[data]
pub enum Category {
    /// `HS` health services review.
    Hs,
    /// `AR` admission review.
    Ar,
    /// `SC` specialty care (referral) review.
    Sc,
}

/// X12 UM02 certification type.
#[data]
pub enum CertificationType {
    /// `I` initial.
    Initial,
    /// `R` renewal.
    Renewal,
    /// `S` revised.
    Revised,
    /// `3` cancel.
    Cancel,
    /// `4` extension.
    Extension,
    /// Appeal.
    Appeal,
}

/// Review priority (CMS-0057-F timeframes).
#[data]
pub enum Priority {
    /// 72 hours.
    Expedited,
    /// 7 calendar days.
    Standard,
}

/// Where a request stands.
#[data]
pub enum RequestStatus {
    /// Waiting for information or review (`A4`).
    Pended,
    /// Pended, and the requested information has arrived: waiting for the reviewer.
    InformationReceived,
    /// Every line decided.
    Decided,
    /// Cancelled by the requester.
    Cancelled,
    /// Under appeal.
    Appealed,
}

/// A preauthorization request (X12 278 / FHIR Claim with use `preauthorization`).
#[data]
pub struct Request {
    /// Trace number (TRN02).
    pub trace: String,
    /// The payer.
    pub payer: Address,
    /// Member (salted hash of the member id).
    pub member: Hash,
    /// The member's key.
    pub beneficiary: Address,
    /// The requesting provider (practitioner or provider organisation).
    pub requester: Address,
    /// Servicing provider's NPI, as the registry attests it for `servicing_provider`: claims
    /// drawing on the authorisation are accepted only from a provider attested with it.
    pub servicing_npi: String,
    /// The servicing provider: the requester itself, or the provider a referral names.
    pub servicing_provider: Address,
    /// UM01.
    pub category: Category,
    /// UM02 of the latest step.
    pub certification_type: CertificationType,
    /// Services.
    pub lines: Vec<ServiceLine>,
    /// ICD-10-CM diagnoses.
    pub diagnoses: Vec<String>,
    /// Priority.
    pub priority: Priority,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// The member's birth year as submitted, which a revision's age edits read again.
    pub birth_year: u16,
    /// The member's administrative sex code as submitted, for a revision's sex edits.
    pub sex: String,
    /// Received (ms).
    pub received_ms: u64,
    /// Decision due (ms).
    pub due_ms: u64,
    /// Status.
    pub status: RequestStatus,
    /// Current decision per line.
    pub decisions: Vec<LineDecision>,
    /// Every earlier decision per line, oldest first (revisions, extensions, appeals).
    pub history: Vec<(u16, LineDecision)>,
    /// Whether the payer extended the review timeframe.
    pub review_extended: bool,
    /// Whether the request was marked overdue.
    pub overdue: bool,
    /// Hash of the appeal's grounds (a record indexed in the consent contract), if appealed.
    pub appeal_grounds: Option<Hash>,
    /// Appeal outcome, once decided.
    pub appeal: Option<AppealOutcome>,
    /// Whether an extension was already granted or refused.
    pub extended: bool,
    /// Metrics sequence of each line (for the turnaround index).
    pub line_sequences: Vec<u64>,
    /// An extension the rules would refuse, pended to a clinical reviewer (never refused
    /// automatically); the certification stays in force meanwhile.
    pub pending_extension: Option<PendedExtension>,
}

/// An extension request the rules would refuse (beyond the rule's window), waiting for a
/// clinical reviewer — 42 CFR 438.210(b)(3), 42 CFR 422.566(d).
#[data]
pub struct PendedExtension {
    /// Days asked for.
    pub days: u32,
    /// The certified lines it would extend.
    pub lines: Vec<u16>,
    /// The rule set's suggested reason for a refusal.
    pub reason: Reason,
    /// What the rules suggest (`A3`) and the role of the reviewer who may decide it.
    pub suggested: Suggestion,
    /// When asked (ms).
    pub requested_ms: u64,
}

/// What a provider submits (the 278 request).
#[data]
pub struct Submission {
    /// Trace number (TRN02), unique.
    pub trace: String,
    /// The payer.
    pub payer: Address,
    /// Member (salted hash of the member id).
    pub member: Hash,
    /// Servicing provider's NPI (X12 278 loop 2010F NM1*SJ, Da Vinci PAS
    /// `Claim.item.extension:servicingProvider`): the requester's own, or on a referral the
    /// NPI the registry attests for `servicing_provider`.
    pub servicing_npi: String,
    /// On a referral, the servicing provider (the registry is asked by address whether it is
    /// an active provider attested with `servicing_npi`); `None`: the requester itself.
    pub servicing_provider: Option<Address>,
    /// UM01.
    pub category: Category,
    /// Services.
    pub lines: Vec<ServiceLine>,
    /// ICD-10-CM diagnoses.
    pub diagnoses: Vec<String>,
    /// Priority.
    pub priority: Priority,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// The member's birth year, for age edits (the age a rule checks is the age attained in
    /// the calendar year of service). Coverage stores no demographics (docs/PRIVACY.md §5.5):
    /// this clear path sends them, like its diagnoses, to every node; `submit_sealed` is the
    /// private path, where the payer's agent reads them from its own records.
    pub birth_year: u16,
    /// The member's administrative sex code (`F`, `M`, `U`), for sex edits; in clear, as
    /// `birth_year`.
    pub sex: String,
}

/// A preauthorization line was decided (or pended, cancelled, modified).
#[event]
pub struct Decided {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The patient, so they can follow their requests.
    #[topic]
    pub beneficiary: Address,
    /// Trace number.
    pub trace: String,
    /// Line.
    pub line: u16,
    /// Action.
    pub action: ActionCode,
    /// Reason code, if any.
    pub reason: Option<String>,
    /// Rules that fired.
    pub rule_ids: Vec<u32>,
    /// Rule-set version.
    pub rule_set: u32,
}

/// A request passed its due time undecided. It stays undecided.
#[event]
pub struct Overdue {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// Trace number.
    pub trace: String,
    /// When it was due (ms).
    pub due_ms: u64,
}

/// A request changed step: `submitted`, `documentation`, `review-extended`, `revised`,
/// `extension`, `cancelled`, `appealed`, `appeal-upheld`, `appeal-overturned`.
#[event]
pub struct RequestStep {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// Trace number.
    pub trace: String,
    /// The step.
    pub step: String,
}

// ---- line decisions ----

/// The registry role of the reviewer an adverse decision is pended to: a clinician
/// (42 CFR 438.210(b)(3): "an individual who has appropriate expertise in addressing the
/// enrollee's medical, behavioral health, or long-term services and supports needs";
/// 42 CFR 422.566(d): a physician or other appropriate health care professional).
pub const ADVERSE_REVIEWER_ROLE: Role = Role::Practitioner;

/// What the rules would have decided on a line they may not decide alone: an adverse
/// decision, pended (`A4`) to a reviewer of the named role, who decides.
#[data]
pub struct Suggestion {
    /// `A3` not certified or `A2` certified in part.
    pub action: ActionCode,
    /// Units the rules would certify (`A2`), 0 for `A3`.
    pub quantity: u32,
    /// The registry role the deciding reviewer must hold.
    pub reviewer_role: Role,
}

/// Who decided.
#[data]
pub enum DecidedBy {
    /// The rules, in the submitting transaction.
    Auto,
    /// A payer's reviewer.
    Reviewer(Address),
    /// The requesting provider (cancellation).
    Requester(Address),
}

/// The decision on one line.
#[data]
pub struct LineDecision {
    /// Action.
    pub action: ActionCode,
    /// Certification number (HCR02) when certified.
    pub certification: Option<String>,
    /// Units authorised.
    pub quantity: u32,
    /// Authorised window.
    pub period: Option<Period>,
    /// Why (mandatory for A2, A3 and A4).
    pub reason: Option<Reason>,
    /// Who decided.
    pub decided_by: DecidedBy,
    /// The rules that fired.
    pub rule_ids: Vec<u32>,
    /// The rule-set version applied.
    pub rule_set: u32,
    /// When (ms).
    pub decided_ms: u64,
    /// For a line pended because the rules would deny or certify it in part: what they
    /// suggest (the reason above is the suggested reason).
    pub suggested: Option<Suggestion>,
}

/// A line decided by a reviewer.
#[data]
pub struct ReviewerDecision {
    /// `A1`, `A2`, `A3` or `A6` (the last three adverse: a clinical reviewer only).
    pub action: ActionCode,
    /// Units certified (A2: fewer than requested).
    pub quantity: u32,
    /// Reason (mandatory for A2, A3 and A6).
    pub reason: Option<Reason>,
}

/// The outcome of an appeal.
#[data]
pub enum AppealOutcome {
    /// The denial stands.
    Upheld,
    /// The denial was reversed.
    Overturned,
}

// ---- claim checks ----

/// One claim line (837 SV1/SV2, simplified).
#[data]
pub struct ClaimLine {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Units.
    pub quantity: u32,
    /// Date of service (ms).
    pub service_ms: u64,
    /// ICD-10-CM diagnoses pointed to by the line.
    pub diagnoses: Vec<String>,
}

/// X12 835 CAS01 claim adjustment group code.
#[data]
pub enum GroupCode {
    /// `CO` contractual obligation (the provider's liability).
    Co,
    /// `PR` patient responsibility.
    Pr,
    /// `OA` other adjustment.
    Oa,
    /// `PI` payer-initiated reduction.
    Pi,
}

impl GroupCode {
    /// The CAS01 code as X12 spells it.
    pub fn code(&self) -> &'static str {
        match self {
            GroupCode::Co => "CO",
            GroupCode::Pr => "PR",
            GroupCode::Oa => "OA",
            GroupCode::Pi => "PI",
        }
    }
}

/// One adjustment of a claim line (835 CAS with its LQ remark): group code, CARC, and the
/// RARC X12 expects with it, if any.
#[data]
pub struct Adjustment {
    /// CAS01 group code.
    pub group: GroupCode,
    /// CAS02 Claim Adjustment Reason Code.
    pub carc: String,
    /// LQ02 Remittance Advice Remark Code (LQ01 `HE`), where one is expected.
    pub rarc: Option<String>,
}

/// The check of one claim line: accepted, or the adjustments (CARCs, Claim Adjustment Reason
/// Codes, with their group and remark codes) why not: `197` authorisation absent (or service
/// outside its window), `198` authorisation exceeded, `11` diagnosis inconsistent with the
/// procedure, `119` benefit maximum reached, `26`/`27` service before coverage / after it
/// ended.
#[data]
pub struct ClaimLineResult {
    /// Accepted.
    pub accepted: bool,
    /// Reasons.
    pub adjustments: Vec<Adjustment>,
}

/// A claim check, stored so a payer's adjudication can cite it.
#[data]
pub struct ClaimCheck {
    /// The payer.
    pub payer: Address,
    /// The member.
    pub member: Hash,
    /// The billing provider (the caller that submitted the claim).
    pub provider: Address,
    /// The NPI it bills under, as the registry attests it (837 loop 2010AA NM109).
    pub billing_npi: String,
    /// The authorisation's trace number, if cited.
    pub authorisation: Option<String>,
    /// Per line.
    pub lines: Vec<ClaimLineResult>,
    /// When (ms).
    pub checked_ms: u64,
    /// The units its accepted lines drew, restored when it is voided or replaced.
    pub draws: Vec<Draw>,
    /// In force, voided (X12 837 CLM05-3 `8`) or replaced (`7`).
    pub status: ClaimStatus,
    /// The claim this one replaces (CLM05-3 `7`), if any.
    pub replaces: Option<Hash>,
}

/// Units an accepted claim line drew: from an authorisation's line, or from a benefit.
#[data]
pub struct Draw {
    /// The authorisation's trace number and line, when drawn from an authorisation.
    pub authorisation: Option<(String, u16)>,
    /// The benefit's X12 service type, when drawn from a benefit.
    pub service_type: Option<String>,
    /// Units.
    pub units: u32,
}

/// Whether a claim is in force (X12 837 CLM05-3 claim frequency codes).
#[data]
pub enum ClaimStatus {
    /// `1` original (or a `7` replacement) in force.
    InForce,
    /// Replaced by a later claim (`7`): its units were restored.
    Replaced,
    /// Voided (`8`): its units were restored.
    Voided,
}

/// A claim was checked.
#[event]
pub struct ClaimChecked {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The claim.
    pub claim: Hash,
    /// Lines accepted.
    pub accepted: u16,
    /// Lines refused.
    pub refused: u16,
}

// ---- CMS-0057-F metrics ----

/// Counters behind the CMS-0057-F metrics, per line decided by preauthorization.
#[data]
pub struct Metrics {
    /// Lines submitted that needed authorisation.
    pub requested: u64,
    /// Lines pended at submission.
    pub pended: u64,
    /// Lines decided (first decision other than pended).
    pub decided: u64,
    /// Lines certified (A1, A2) at their first decision.
    pub approved: u64,
    /// Lines denied (A3) at their first decision.
    pub denied: u64,
    /// Lines approved after an appeal.
    pub approved_after_appeal: u64,
    /// Lines approved after the payer extended the review timeframe.
    pub approved_with_extension: u64,
    /// Requests marked overdue.
    pub overdue: u64,
    /// Sum of turnaround times (ms) of decided lines.
    pub turnaround_total_ms: u64,
}

/// The published figures.
#[data]
pub struct MetricsReport {
    /// The counters.
    pub counts: Metrics,
    /// Percent approved, in basis points of decided lines.
    pub approved_bps: u32,
    /// Percent denied, in basis points of decided lines.
    pub denied_bps: u32,
    /// Percent approved after appeal, in basis points of denied lines.
    pub approved_after_appeal_bps: u32,
    /// Percent approved with an extended review timeframe, in basis points of decided
    /// lines.
    pub approved_with_extension_bps: u32,
    /// Average time from request to decision (ms).
    pub average_turnaround_ms: u64,
    /// Median time from request to decision (ms; the lower middle for an even count).
    pub median_turnaround_ms: u64,
}

// ---- attachments read through consent ----

/// A payer asked to read a clinical attachment; the consent contract decided and recorded
/// it in the patient's audit trail.
#[event]
pub struct AttachmentAccess {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The record.
    pub record: Hash,
    /// Trace number.
    pub trace: String,
    /// Decision.
    pub decision: Decision,
}

// ---- sealed requests: decisions where the data is (docs/PRIVACY.md §5.5) ----

/// A preauthorization request whose content is sealed to the payer and delivered off chain:
/// the chain holds only its skeleton — no service line, procedure, diagnosis or attachment —
/// and, once the payer's agent or reviewer has posted it, the decision per line with the
/// commitments a verifier checks against the plaintext.
#[data]
pub struct SealedRequest {
    /// The trace handle (random, chosen by the provider; names nothing).
    pub trace_handle: Hash,
    /// The payer.
    pub payer: Address,
    /// Member (salted hash of the member id).
    pub member: Hash,
    /// The member's key (from the payer's coverage), so the patient can follow the request.
    pub beneficiary: Address,
    /// The requesting provider.
    pub requester: Address,
    /// Priority (CMS-0057-F timeframe).
    pub priority: Priority,
    /// Number of service lines in the sealed submission.
    pub line_count: u32,
    /// Commitment to the sealed submission (`salus_client::seal::commit`).
    pub submission_commitment: Hash,
    /// Received (ms).
    pub received_ms: u64,
    /// Decision due (ms).
    pub due_ms: u64,
    /// `Pended` until every line is decided, then `Decided`.
    pub status: RequestStatus,
    /// Whether the request was marked overdue (it stays undecided: overdue is never approval).
    pub overdue: bool,
    /// Current decision per line (empty until the first post).
    pub decisions: Vec<SealedLineDecision>,
    /// Every post, oldest first: rule set and commitments.
    pub posts: Vec<DecisionPost>,
}

/// One line of a posted decision: an action and a reason code from the rule set's table,
/// never the line's procedure or diagnosis.
#[data]
pub struct PostedLine {
    /// `A1` certified, `A4` pended or `NA` not required (any authorised key); `A2`, `A3`, `A6`
    /// (adverse: a clinical reviewer only).
    pub action: ActionCode,
    /// The reason code, from the named rule set's reason table (mandatory for `A2`, `A3`,
    /// `A4`, `A6`).
    pub reason: Option<String>,
    /// Units certified (`A1`, `A2`, `A6`: at least one; otherwise zero).
    pub quantity: u32,
}

/// The decision on one line of a sealed request, as stored.
#[data]
pub struct SealedLineDecision {
    /// The posted line.
    pub line: PostedLine,
    /// Who posted it (the payer's key for automated decisions, or a reviewer).
    pub decided_by: Address,
    /// When (ms).
    pub decided_ms: u64,
    /// Index into the request's `posts`: the rule set and commitments it was posted with.
    pub post: u16,
}

/// The rule set and commitments of one `post_decision`.
#[data]
pub struct DecisionPost {
    /// The rule-set version the lines were evaluated against.
    pub rule_set: u32,
    /// Commitment to the submission, coverage and benefit state used.
    pub inputs_commitment: Hash,
    /// Commitment to the outcome: rule ids that fired, certification, quantity and window.
    pub outcome_commitment: Hash,
    /// Who posted.
    pub decided_by: Address,
    /// When (ms).
    pub decided_ms: u64,
}

/// A sealed request was submitted: the payer's agent watches for its own address.
#[event]
pub struct SealedSubmitted {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The trace handle.
    #[topic]
    pub trace_handle: Hash,
    /// Priority.
    pub priority: Priority,
    /// Decision due (ms).
    pub due_ms: u64,
}

/// A decision was posted for a sealed request (no line, procedure, diagnosis or reason code).
#[event]
pub struct DecisionPosted {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The trace handle.
    #[topic]
    pub trace_handle: Hash,
    /// The request's status after the post (`Pended` while a line waits for a reviewer).
    pub status: RequestStatus,
    /// Rule-set version.
    pub rule_set: u32,
}
