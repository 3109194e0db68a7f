//! The coverage contract's vocabulary: what it stores, what its messages take and return, what
//! it emits and why it refuses — plain data, shared by every module (and re-exported at the
//! crate root, the contract's public types). The rule set's types and the action codes come
//! from `coverage-rules`, re-exported here. Nothing here holds clinical content: requests and
//! claims are handles, counts, commitments, action and reason codes (docs/PRIVACY.md §5.5).

use registry::Role;
use salus_sdk::prelude::*;

// The rule set's types, the requested line's and the action codes live with the rules
// (`coverage-rules`, shared with the payer's agent); they are this contract's ABI types too.
pub use coverage_rules::{
    ActionCode, AutoApprove, CodeRange, Edit, EditReason, Period, QuantityPerPeriod, Reason, Rule,
    RuleSet,
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
    /// The registry could not be asked.
    Unavailable,
    /// A posted reason code is not in the named rule set's reason table, or a CARC not in
    /// the contract's CARC table.
    UnknownReason,
}

// ---- coverage and eligibility answers ----

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

/// A member's coverage (FHIR Coverage, reduced): what the chain needs to start a request's
/// clock and answer whether the member is covered. Group, primary care provider, birth year,
/// sex and benefits stay in the payer's own records (docs/PRIVACY.md §5.5).
#[data]
pub struct Coverage {
    /// The member's pseudonym with this payer, so the patient can follow their requests.
    pub beneficiary: Address,
    /// Plan type.
    pub plan_type: PlanType,
    /// Plan period.
    pub period: Period,
    /// Status.
    pub status: CoverageStatus,
}

/// One 271 EB segment: on chain only the coverage status (`1` active, `6` inactive); copay,
/// deductible, out of pocket and limitations are the payer's answer off chain.
#[data]
pub struct BenefitLine {
    /// EB01: `1` active, `6` inactive.
    pub information: String,
    /// EB03 service type.
    pub service_type: String,
    /// EB04 plan type.
    pub plan_type: PlanType,
}

/// The answer to an eligibility inquiry (270 → 271).
#[data]
pub enum Eligibility {
    /// The member was found: plan period and benefit lines (the first says `1` active or `6`
    /// inactive on the date asked).
    Found(Period, Vec<BenefitLine>),
    /// AAA rejection: AAA03 reject reason (`72` invalid/missing member id, `75`
    /// subscriber/insured not found) and its text.
    Rejected(String, String),
}

/// Does a procedure need prior authorisation for a member, as the published rule set says.
#[data]
pub enum AuthorisationRequirement {
    /// No active coverage for the date.
    NotCovered,
    /// Covered; whether the rule set requires authorisation (a benefit may also require it:
    /// the payer's answer).
    Covered(bool),
    /// Covered under the conditions of a rule (diagnoses, age, …); whether authorisation is
    /// needed, and the rule.
    Conditional(bool, u32),
}

/// Coverage was created or changed. The member hash is salted per payer relationship
/// (`salus_client::pseudonym`'s member salt), so the topic names nothing outside it.
#[event]
pub struct CoverageChanged {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The member (salted hash, per relationship).
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
    /// Waiting for the payer's agent or a reviewer (some line undecided or `A4`).
    Pended,
    /// Pended, and documentation has arrived: waiting for the agent or the reviewer.
    InformationReceived,
    /// Every line decided.
    Decided,
    /// Cancelled by the requester.
    Cancelled,
    /// Under appeal.
    Appealed,
}

/// The outcome of an appeal.
#[data]
pub enum AppealOutcome {
    /// The denial stands.
    Upheld,
    /// The denial was reversed.
    Overturned,
}

/// The registry role of the reviewer an adverse decision is pended to: a clinician
/// (42 CFR 438.210(b)(3): "an individual who has appropriate expertise in addressing the
/// enrollee's medical, behavioral health, or long-term services and supports needs";
/// 42 CFR 422.566(d): a physician or other appropriate health care professional).
pub const ADVERSE_REVIEWER_ROLE: Role = Role::Practitioner;

/// A preauthorization request. Its content is sealed to the payer and delivered off chain:
/// the chain holds only this skeleton — no service line, procedure, diagnosis, date of service
/// or attachment — and, once the payer's agent or a reviewer has posted it, the decision per
/// line with the commitments a verifier checks against the plaintext.
#[data]
pub struct SealedRequest {
    /// The trace handle (random, chosen by the provider; names nothing).
    pub trace_handle: Hash,
    /// The payer.
    pub payer: Address,
    /// Member (salted hash of the member id).
    pub member: Hash,
    /// The member's pseudonym with the payer (from the coverage), so the patient can follow
    /// the request.
    pub beneficiary: Address,
    /// The requesting provider.
    pub requester: Address,
    /// Priority (CMS-0057-F timeframe).
    pub priority: Priority,
    /// Number of service lines in the sealed submission.
    pub line_count: u32,
    /// Commitment to the sealed submission (`salus_client::seal::commit`); a revision
    /// replaces it.
    pub submission_commitment: Hash,
    /// Commitments of earlier submissions, oldest first (one per revision).
    pub revisions: Vec<Hash>,
    /// Commitments to documentation delivered since (`add_documentation`), oldest first.
    pub documentation: Vec<Hash>,
    /// Received (ms).
    pub received_ms: u64,
    /// Decision due (ms).
    pub due_ms: u64,
    /// Status.
    pub status: RequestStatus,
    /// Whether the payer extended the review timeframe (once, standard requests).
    pub review_extended: bool,
    /// Whether the request was marked overdue (it stays undecided: overdue is never approval).
    pub overdue: bool,
    /// Current decision per line (empty until the first post, and again after a revision).
    pub decisions: Vec<SealedLineDecision>,
    /// Every earlier decision per line, oldest first (a pended decision a later post replaced,
    /// revisions, cancellation, appeals).
    pub history: Vec<(u16, SealedLineDecision)>,
    /// Every post, oldest first: rule set and commitments.
    pub posts: Vec<DecisionPost>,
    /// An extension of the authorised window asked for, and its decision.
    pub extension: Option<Extension>,
    /// The appeal, if appealed.
    pub appeal: Option<Appeal>,
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

/// The decision on one line of a request, as stored.
#[data]
pub struct SealedLineDecision {
    /// The posted line (`C` with no reason once cancelled).
    pub line: PostedLine,
    /// Who decided it (the payer's key for automated decisions, a reviewer, or the requester
    /// for a cancellation).
    pub decided_by: Address,
    /// When (ms).
    pub decided_ms: u64,
    /// Index into the request's `posts`: the rule set and commitments it was posted with
    /// (`None` for a cancellation).
    pub post: Option<u16>,
}

/// The rule set and commitments of one post (`post_decision`, `decide_appeal`,
/// `decide_extension`).
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

/// An extension of the certified lines' window (UM02 `4`), asked by the requester once. The
/// payer's agent grants it within the rule's window; beyond it the rules would refuse, and a
/// refusal is a clinician's only.
#[data]
pub struct Extension {
    /// Days asked for.
    pub days: u32,
    /// When asked (ms).
    pub requested_ms: u64,
    /// `None` while pending; granted or not.
    pub granted: Option<bool>,
    /// The refusal's reason code, from the rule set's table.
    pub reason: Option<String>,
    /// Index into `posts` of the decision, once decided.
    pub post: Option<u16>,
}

/// An appeal of the denied or partly certified lines.
#[data]
pub struct Appeal {
    /// Commitment to the grounds (sealed to the payer off chain).
    pub grounds_commitment: Hash,
    /// The lines appealed (`A2`, `A3` when appealed).
    pub lines: Vec<u16>,
    /// Who made the decisions appealed: none of them decides the appeal
    /// (42 CFR 422.590(h)(2)).
    pub deciders: Vec<Address>,
    /// The outcome, once decided.
    pub outcome: Option<AppealOutcome>,
}

/// A request was submitted (or revised): the payer's agent watches for its own address.
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

/// A decision was posted for a request (no line, procedure, diagnosis or reason code).
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

/// A request passed its due time undecided. It stays undecided.
#[event]
pub struct Overdue {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The trace handle.
    #[topic]
    pub trace_handle: Hash,
    /// When it was due (ms).
    pub due_ms: u64,
}

/// A request changed step: `documentation`, `review-extended`, `revised`, `extension`,
/// `extension-granted`, `extension-refused`, `cancelled`, `appealed`, `appeal-upheld`,
/// `appeal-overturned`. The payer's agent acts on `documentation`, `revised` and `extension`.
#[event]
pub struct RequestStep {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The trace handle.
    #[topic]
    pub trace_handle: Hash,
    /// The step.
    pub step: String,
}

// ---- claim checks ----

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

/// Whether a claim is in force (X12 837 CLM05-3 claim frequency codes).
#[data]
pub enum ClaimStatus {
    /// `1` original (or a `7` replacement) in force.
    InForce,
    /// Replaced by a later claim (`7`).
    Replaced,
    /// Voided (`8`).
    Voided,
}

/// The payer's check of a claim, posted by its agent with commitments.
#[data]
pub struct PostedClaimCheck {
    /// Per line.
    pub lines: Vec<ClaimLineResult>,
    /// Commitment to what the check read (the claim, the member's records, the authorisation).
    pub inputs_commitment: Hash,
    /// Commitment to what it gave (CARCs per line, units drawn and from where).
    pub outcome_commitment: Hash,
    /// Who posted (the payer or a reviewer).
    pub checked_by: Address,
    /// When (ms).
    pub checked_ms: u64,
}

/// A claim: its content (procedures, units, dates of service, diagnoses) is sealed to the
/// payer and delivered off chain; the chain keeps its handle, parties, line count and
/// commitment, and the payer's check once posted.
#[data]
pub struct Claim {
    /// The payer.
    pub payer: Address,
    /// The member.
    pub member: Hash,
    /// The billing provider (the caller that submitted the claim).
    pub provider: Address,
    /// The NPI it bills under, as the registry attests it (837 loop 2010AA NM109).
    pub billing_npi: String,
    /// The authorisation's trace handle, if cited.
    pub trace_handle: Option<Hash>,
    /// Number of lines of the sealed claim.
    pub line_count: u32,
    /// Commitment to the sealed claim.
    pub claim_commitment: Hash,
    /// When submitted (ms).
    pub submitted_ms: u64,
    /// In force, voided (X12 837 CLM05-3 `8`) or replaced (`7`).
    pub status: ClaimStatus,
    /// The claim this one replaces (CLM05-3 `7`), if any.
    pub replaces: Option<Hash>,
    /// The payer's check, once posted.
    pub check: Option<PostedClaimCheck>,
}

/// A claim was submitted: the payer's agent watches for its own address.
#[event]
pub struct ClaimSubmitted {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The claim handle.
    #[topic]
    pub claim_handle: Hash,
    /// The claim it replaces, if any.
    pub replaces: Option<Hash>,
}

/// A claim was checked.
#[event]
pub struct ClaimChecked {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The claim handle.
    #[topic]
    pub claim_handle: Hash,
    /// Lines accepted.
    pub accepted: u16,
    /// Lines refused.
    pub refused: u16,
}

/// A claim was voided or replaced: the payer restores the units it drew.
#[event]
pub struct ClaimWithdrawn {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The claim handle.
    #[topic]
    pub claim_handle: Hash,
    /// `Voided` or `Replaced`.
    pub status: ClaimStatus,
}

// ---- CMS-0057-F metrics ----

/// Counters behind the CMS-0057-F metrics, per line decided by preauthorization.
#[data]
pub struct Metrics {
    /// Lines submitted that needed authorisation.
    pub requested: u64,
    /// Lines pended at their first decision.
    pub pended: u64,
    /// Lines decided (first decision other than pended).
    pub decided: u64,
    /// Lines certified (A1, A2, A6) at their first decision.
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

/// The CMS-0057-F figures of one service code and priority over a period, as the payer
/// computed them from its decisions.
#[data]
pub struct CodeMetrics {
    /// The service (procedure) code.
    pub service_code: String,
    /// The priority.
    pub priority: Priority,
    /// The counters.
    pub counts: Metrics,
    /// Median time from request to decision (ms).
    pub median_turnaround_ms: u64,
}

/// Per-code aggregates a payer posted for a period (`post_metrics`).
#[data]
pub struct MetricsPost {
    /// The period (monthly, typically).
    pub period: Period,
    /// One entry per service code and priority.
    pub aggregates: Vec<CodeMetrics>,
    /// Commitment to the decisions counted.
    pub decisions_commitment: Hash,
    /// Who posted.
    pub posted_by: Address,
    /// When (ms).
    pub posted_ms: u64,
}

/// A payer posted per-code metrics for a period.
#[event]
pub struct MetricsPosted {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// Start of the period (ms).
    pub period_start_ms: u64,
    /// Entries.
    pub aggregates: u32,
}
