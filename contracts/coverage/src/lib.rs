//! Coverage, eligibility, preauthorization and claim checks (DOMAIN.md §2).
//!
//! A payer attested in the registry keeps its members' coverage (keyed by a salted hash of the
//! member id; no direct identifiers), benefits per X12 service type, its provider networks and
//! versioned rule sets (procedure ranges, diagnoses, age and sex, place of service, network,
//! quantities, prior authorisation, documentation, auto-approval) with the policy document's hash
//! and the reason codes and texts its denials cite. Eligibility answers as 271 benefit lines or an
//! AAA rejection. A provider submits a preauthorization and the rules decide it in the same
//! transaction — `A1` certified, `A2` partly, `A3` not certified (never without a reason), `A4`
//! pended, or not required — each decision citing its rule ids and rule-set version. Pended
//! requests wait for the payer's reviewers under the CMS-0057-F deadlines (72 hours expedited,
//! 7 days standard); anyone may mark a late one overdue, which never approves it. Revisions,
//! extensions, cancellations and appeals keep every earlier decision. Claim lines are checked
//! against coverage and the authorisation with CARC codes. Payers read clinical attachments
//! only through the consent contract, which records every such access. The metrics CMS-0057-F
//! makes payers publish are computed from contract state.
#![no_std]

#[salus_sdk::contract]
mod coverage {
    use salus_sdk::prelude::*;

    const REGISTRY: Value<Address> = Value::new(b"registry");
    const CONSENT: Value<Address> = Value::new(b"consent");
    const NEXT_LINE: Value<u64> = Value::new(b"next_line");
    /// (payer, member hash) → coverage.
    const COVERAGES: Map<(Address, Hash), Coverage> = Map::new(b"cv/");
    /// (payer, member hash, X12 service type) → benefit.
    const BENEFITS: Map<(Address, Hash, String), Benefit> = Map::new(b"bn/");
    /// (payer, plan, NPI) → (): the plan's network.
    const NETWORK: Map<(Address, String, String), ()> = Map::new(b"nw/");
    /// (payer, version) → rule set.
    const RULE_SETS: Map<(Address, u32), RuleSet> = Map::new(b"rs/");
    /// payer → newest rule-set version.
    const LATEST_RULES: Map<Address, u32> = Map::new(b"rl/");
    /// (payer, reviewer) → (): the payer's utilisation-management keys.
    const REVIEWERS: Map<(Address, Address), ()> = Map::new(b"rv/");
    /// trace number → preauthorization request.
    const REQUESTS: Map<String, Request> = Map::new(b"rq/");
    /// (payer, due big-endian, trace) → (): undecided requests by due time.
    const OPEN: Map<(Address, [u8; 8], String), ()> = Map::new(b"op/");
    /// (trace, line) → quantity already claimed against the authorisation.
    const CLAIMED: Map<(String, u16), u32> = Map::new(b"cl/");
    /// (payer, member, rule id, service start big-endian, trace, line) → units certified: the
    /// rolling-window quantity limits read it.
    const CERTIFIED: Map<WindowKey, u32> = Map::new(b"cu/");
    /// Key of `CERTIFIED`.
    type WindowKey = (Address, Hash, u32, [u8; 8], String, u16);
    /// claim hash → the check's result.
    const CLAIMS: Map<Hash, ClaimCheck> = Map::new(b"cc/");
    /// (payer, priority, service code; "" for plan-wide) → counters.
    const METRICS: Map<(Address, Priority, String), Metrics> = Map::new(b"mt/");
    /// (payer, priority, service code, turnaround ms big-endian, line sequence) → (): every
    /// decision's turnaround in order, from which the median is read.
    const TURNAROUNDS: Map<(Address, Priority, String, [u8; 8], u64), ()> = Map::new(b"ta/");

    /// Registry role indexes (the registry's `Role` enum, encoded as its variant index).
    const ROLE_PROVIDER_ORGANISATION: u8 = 2;
    const ROLE_PAYER: u8 = 3;
    const HOUR_MS: u64 = 60 * 60 * 1000;
    const DAY_MS: u64 = 24 * HOUR_MS;
    /// CMS-0057-F: expedited requests are decided within 72 hours…
    const EXPEDITED_DUE_MS: u64 = 72 * HOUR_MS;
    /// …and standard requests within 7 calendar days.
    const STANDARD_DUE_MS: u64 = 7 * DAY_MS;
    /// CMS-0057-F lets a payer extend a standard review once, by up to 14 days.
    const REVIEW_EXTENSION_MS: u64 = 14 * DAY_MS;
    /// Most lines in one request or claim (X12 278 and 837 loops are bounded likewise).
    const MAX_LINES: usize = 50;
    /// Most rules in one rule set: bounds the fuel of evaluating a line.
    const MAX_RULES: usize = 128;
    /// Most entries in one code list (ranges, diagnoses, modifiers, attachments, …).
    const MAX_CODES: usize = 32;
    /// Longest code or short text (X12 element sizes; reason texts are short labels).
    const MAX_CODE_BYTES: usize = 80;
    /// Most NPIs added to a network in one message.
    const MAX_NETWORK_BATCH: usize = 256;
    /// Most certifications of one member under one rule a window limit looks at.
    const MAX_WINDOW_ENTRIES: usize = 64;
    /// Most entries a listing returns.
    const MAX_PAGE: u32 = 100;
    /// Purposes of use under which a payer may read a clinical attachment (v3 ActReason).
    const PAYER_PURPOSES: [&str; 2] = ["HPAYMT", "COVAUTH"];
    /// The v3 RoleClass code the payer acts in when it asks the consent contract.
    const PAYER_ROLE: &str = "PAYOR";

    /// A period in ms since the epoch, end exclusive.
    #[data]
    pub struct Period {
        /// Start.
        pub start_ms: u64,
        /// End (exclusive).
        pub end_ms: u64,
    }

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
        /// Birth year only (no dates of birth on chain), for age edits: the age a rule checks
        /// is the age attained in the calendar year of service.
        pub birth_year: u16,
        /// Administrative sex code (`F`, `M`, `U`), for sex edits.
        pub sex: String,
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

    /// An inclusive range of procedure codes (CPT or HCPCS Level II, compared as strings of
    /// equal length: `72148`–`72158`).
    #[data]
    pub struct CodeRange {
        /// First code.
        pub from: String,
        /// Last code (inclusive).
        pub to: String,
    }

    /// What a rule checks; each check that fails is answered with the rule set's reason for it.
    #[data]
    pub enum Edit {
        /// No active coverage on the date of service.
        NotEligible,
        /// The servicing provider is outside the plan's network where the plan or rule needs it.
        Network,
        /// The member's age is outside the rule's limits.
        Age,
        /// The member's sex is not one the rule allows.
        Sex,
        /// The place of service is not one the rule allows.
        PlaceOfService,
        /// No diagnosis supports the procedure.
        Diagnosis,
        /// More units than the rule or the remaining benefit allow.
        Quantity,
        /// The documentation the rule requires is missing (pends).
        Documentation,
        /// The rule sends the request to a clinical reviewer (pends).
        ClinicalReview,
        /// An extension longer than the rule allows.
        Extension,
    }

    /// A decision reason (X12 278 HCR03 Health Care Services Decision Reason Code): the list is
    /// licensed, so the payer's rule set carries the code and its text and the contract stores
    /// what the rule set says.
    #[data]
    pub struct Reason {
        /// Code.
        pub code: String,
        /// Text.
        pub text: String,
    }

    /// The reason a rule set gives for one kind of edit.
    #[data]
    pub struct EditReason {
        /// The edit.
        pub edit: Edit,
        /// Its reason.
        pub reason: Reason,
    }

    /// One payer rule.
    #[data]
    pub struct Rule {
        /// Identifier, cited by decisions.
        pub id: u32,
        /// The X12 service type whose benefit the rule draws on.
        pub service_type: String,
        /// Procedure codes the rule covers.
        pub procedures: Vec<CodeRange>,
        /// ICD-10-CM prefixes of which the request must carry one (empty: any).
        pub diagnoses: Vec<String>,
        /// Youngest age allowed.
        pub min_age: Option<u8>,
        /// Oldest age allowed.
        pub max_age: Option<u8>,
        /// Sexes allowed (empty: any).
        pub sexes: Vec<String>,
        /// CMS place-of-service codes allowed (empty: any).
        pub places_of_service: Vec<String>,
        /// Whether the servicing provider must be in network whatever the plan type.
        pub network_required: bool,
        /// Most units certified for one member under this rule in any rolling window.
        pub quantity_per_period: Option<QuantityPerPeriod>,
        /// Whether prior authorisation is required (otherwise the answer is "not required").
        pub prior_authorisation: bool,
        /// Hash of the documentation template a request must attach (e.g. the conservative
        /// therapy attestation).
        pub documentation: Option<Hash>,
        /// When a request passing every edit is certified automatically; otherwise (or with
        /// `None`) it is pended for a clinical reviewer.
        pub auto_approve: Option<AutoApprove>,
        /// Days an authorisation is valid from the service start.
        pub authorised_days: u32,
    }

    /// A quantity limit over a rolling window: at most `units` certified for services starting
    /// within `days` of each other.
    #[data]
    pub struct QuantityPerPeriod {
        /// Units.
        pub units: u32,
        /// Window length in days.
        pub days: u32,
    }

    /// The conditions under which the rules certify without a reviewer (all must hold).
    #[data]
    pub struct AutoApprove {
        /// ICD-10-CM prefixes of which the request must carry one (empty: any the rule allows).
        pub diagnoses: Vec<String>,
        /// Most units certified automatically.
        pub max_quantity: Option<u32>,
        /// Only for in-network servicing providers.
        pub in_network_only: bool,
    }

    /// A versioned rule set.
    #[data]
    pub struct RuleSet {
        /// Version (1, 2, …).
        pub version: u32,
        /// Hash of the policy document the rules encode.
        pub policy: Hash,
        /// When the rules apply (by date of service).
        pub effective: Period,
        /// The rules, first match wins.
        pub rules: Vec<Rule>,
        /// The reason for each kind of edit.
        pub reasons: Vec<EditReason>,
        /// When it was published (ms).
        pub published_ms: u64,
    }

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

    /// One requested service.
    #[data]
    pub struct ServiceLine {
        /// CPT or HCPCS code.
        pub procedure: String,
        /// Modifiers.
        pub modifiers: Vec<String>,
        /// Units.
        pub quantity: u32,
        /// First date of service (ms).
        pub from_ms: u64,
        /// Last date of service (ms).
        pub to_ms: u64,
        /// CMS place-of-service code.
        pub place_of_service: String,
    }

    /// A document attached by hash: the template it fills and the record (indexed in the
    /// consent contract, held off chain by the provider).
    #[data]
    pub struct Attachment {
        /// The documentation template.
        pub template: Hash,
        /// The record.
        pub record: Hash,
    }

    /// X12 HCR01 action code.
    #[data]
    pub enum ActionCode {
        /// `A1` certified in total.
        A1,
        /// `A2` certified, partial.
        A2,
        /// `A3` not certified.
        A3,
        /// `A4` pended.
        A4,
        /// `A6` modified.
        A6,
        /// `C` cancelled.
        C,
        /// `NA` no action required: no authorisation needed.
        Na,
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

    /// The outcome of an appeal.
    #[data]
    pub enum AppealOutcome {
        /// The denial stands.
        Upheld,
        /// The denial was reversed.
        Overturned,
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
        /// The requesting provider organisation.
        pub requester: Address,
        /// Servicing provider's NPI.
        pub servicing_npi: String,
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
        /// Servicing provider's NPI.
        pub servicing_npi: String,
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
    }

    /// A line decided by a reviewer.
    #[data]
    pub struct ReviewerDecision {
        /// `A1`, `A2` or `A3`.
        pub action: ActionCode,
        /// Units certified (A2: fewer than requested).
        pub quantity: u32,
        /// Reason (mandatory for A2 and A3).
        pub reason: Option<Reason>,
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

    /// The check of one claim line: accepted, or the CARCs (Claim Adjustment Reason Codes) why
    /// not: `197` authorisation absent (or service outside its window), `198` authorisation
    /// exceeded, `11` diagnosis inconsistent with the procedure, `119` benefit maximum reached,
    /// `26`/`27` service before coverage / after it ended.
    #[data]
    pub struct ClaimLineResult {
        /// Accepted.
        pub accepted: bool,
        /// Reasons.
        pub carcs: Vec<String>,
    }

    /// A claim check, stored so a payer's adjudication can cite it.
    #[data]
    pub struct ClaimCheck {
        /// The payer.
        pub payer: Address,
        /// The member.
        pub member: Hash,
        /// The billing provider.
        pub provider: Address,
        /// The authorisation's trace number, if cited.
        pub authorisation: Option<String>,
        /// Per line.
        pub lines: Vec<ClaimLineResult>,
        /// When (ms).
        pub checked_ms: u64,
    }

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

    /// The consent contract's decision (mirrors its type).
    #[data]
    pub enum ConsentDecision {
        /// Allowed.
        Permit,
        /// Refused.
        Deny,
    }

    /// The consent contract's action (mirrors its type).
    #[data]
    pub enum ConsentAction {
        /// Gather.
        Collect,
        /// Read.
        Access,
        /// Use.
        Use,
        /// Disclose.
        Disclose,
        /// Amend.
        Correct,
    }

    /// The consent contract's access decision (mirrors its type).
    #[data]
    pub struct AccessDecision {
        /// Permit or deny.
        pub decision: ConsentDecision,
        /// The deciding consent and version.
        pub consent: Option<(u64, u32)>,
        /// Path of the deciding provision.
        pub provision_path: Vec<u8>,
        /// Why.
        pub reason: String,
        /// The break-glass session, if any.
        pub break_glass: Option<u64>,
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
        pub decision: ConsentDecision,
    }

    /// Why a message was refused (malformed input or a caller without authority only:
    /// denials are decisions, recorded, not errors).
    #[error]
    pub enum CoverageError {
        /// The caller is not an active payer in the registry.
        NotAPayer,
        /// The caller is not an active provider organisation in the registry.
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
    }

    /// The contract.
    pub struct CoverageContract;

    impl CoverageContract {
        /// Deploys with the participant registry and the consent contract.
        #[constructor]
        pub fn new(registry: Address, consent: Address) {
            REGISTRY.set(&registry);
            CONSENT.set(&consent);
        }

        // ---- payer: coverage, benefits, networks, rules, reviewers ----

        /// Creates or replaces a member's coverage (caller: an active payer).
        #[message]
        pub fn set_coverage(member: Hash, coverage: Coverage) -> Result<(), CoverageError> {
            let payer = active_payer()?;
            check_member(&member)?;
            check_period(&coverage.period)?;
            check_code(&coverage.plan)?;
            check_code(&coverage.group)?;
            check_code(&coverage.sex)?;
            if let Some(npi) = &coverage.primary_care {
                check_code(npi)?;
            }
            COVERAGES.insert(&(payer, member), &coverage);
            CoverageChanged {
                payer,
                member,
                status: coverage.status,
            }
            .emit();
            Ok(())
        }

        /// Sets a member's benefit for one X12 service type (caller: the payer).
        #[message]
        pub fn set_benefit(
            member: Hash,
            service_type: String,
            benefit: Benefit,
        ) -> Result<(), CoverageError> {
            let payer = active_payer()?;
            check_code(&service_type)?;
            if !COVERAGES.contains(&(payer, member)) {
                return Err(CoverageError::Unknown);
            }
            if benefit.coinsurance_bps > 10_000
                || benefit.deductible_remaining_cents > benefit.deductible_cents
                || benefit.out_of_pocket_remaining_cents > benefit.out_of_pocket_max_cents
            {
                return Err(CoverageError::Malformed);
            }
            BENEFITS.insert(&(payer, member, service_type), &benefit);
            Ok(())
        }

        /// Adds providers (NPIs) to, or removes them from, a plan's network (caller: the payer).
        #[message]
        pub fn set_network(
            plan: String,
            npis: Vec<String>,
            in_network: bool,
        ) -> Result<(), CoverageError> {
            let payer = active_payer()?;
            check_code(&plan)?;
            if npis.len() > MAX_NETWORK_BATCH {
                return Err(CoverageError::TooComplex);
            }
            for npi in npis {
                check_code(&npi)?;
                let key = (payer, plan.clone(), npi);
                if in_network {
                    NETWORK.insert(&key, &());
                } else {
                    NETWORK.remove(&key);
                }
            }
            Ok(())
        }

        /// Publishes a new rule-set version (caller: an active payer). Every edit must have a
        /// reason, so no decision can deny without one. Returns the version.
        #[message]
        pub fn publish_rules(
            policy: Hash,
            effective: Period,
            rules: Vec<Rule>,
            reasons: Vec<EditReason>,
        ) -> Result<u32, CoverageError> {
            let payer = active_payer()?;
            check_period(&effective)?;
            check_rules(&rules, &reasons)?;
            let version = LATEST_RULES.get(&payer).unwrap_or(0) + 1;
            let published = RuleSet {
                version,
                policy,
                effective,
                rules,
                reasons,
                published_ms: block_timestamp_ms(),
            };
            RULE_SETS.insert(&(payer, version), &published);
            LATEST_RULES.insert(&payer, &version);
            RulesPublished {
                payer,
                version,
                policy,
            }
            .emit();
            Ok(version)
        }

        /// Authorises or withdraws a utilisation-management key that decides for the payer.
        #[message]
        pub fn set_reviewer(reviewer: Address, active: bool) -> Result<(), CoverageError> {
            let payer = active_payer()?;
            if active {
                REVIEWERS.insert(&(payer, reviewer), &());
            } else {
                REVIEWERS.remove(&(payer, reviewer));
            }
            Ok(())
        }

        // ---- provider: preauthorization ----

        /// Submits a preauthorization (caller: an active provider organisation). The rules decide
        /// it now; pended lines wait for a reviewer. Returns the decision per line.
        #[message]
        pub fn submit(submission: Submission) -> Result<Vec<LineDecision>, CoverageError> {
            let Submission {
                trace,
                payer,
                member,
                servicing_npi,
                category,
                lines,
                diagnoses,
                priority,
                attachments,
            } = submission;
            let requester = active_provider()?;
            check_code(&trace)?;
            check_code(&servicing_npi)?;
            check_lines(&lines)?;
            check_codes(&diagnoses)?;
            if attachments.len() > MAX_CODES || trace.is_empty() {
                return Err(CoverageError::TooComplex);
            }
            if REQUESTS.contains(&trace) {
                return Err(CoverageError::Duplicate);
            }
            let coverage = COVERAGES
                .get(&(payer, member))
                .ok_or(CoverageError::Unknown)?;
            let now = block_timestamp_ms();
            let rule_set = rules_for(&payer, lines[0].from_ms)?;
            let mut request = Request {
                trace,
                payer,
                member,
                beneficiary: coverage.beneficiary,
                requester,
                servicing_npi,
                category,
                certification_type: CertificationType::Initial,
                lines,
                diagnoses,
                due_ms: now.saturating_add(due_after(&priority)),
                priority,
                attachments,
                received_ms: now,
                status: RequestStatus::Pended,
                decisions: Vec::new(),
                history: Vec::new(),
                review_extended: false,
                overdue: false,
                appeal_grounds: None,
                appeal: None,
                extended: false,
                line_sequences: Vec::new(),
            };
            for index in 0..request.lines.len() {
                let decision = evaluate(&request, index, &coverage, &rule_set);
                let sequence = NEXT_LINE.get().unwrap_or(0);
                NEXT_LINE.set(&(sequence + 1));
                request.line_sequences.push(sequence);
                if decision.action != ActionCode::Na {
                    let pended = decision.action == ActionCode::A4;
                    for code in metric_codes(&request.lines[index].procedure) {
                        update_metrics(&payer, &request.priority, &code, |counts| {
                            counts.requested += 1;
                            if pended {
                                counts.pended += 1;
                            }
                        });
                    }
                }
                request.decisions.push(decision);
            }
            for index in 0..request.lines.len() {
                settle(&mut request, index, None);
            }
            step(&request, "submitted");
            finish(&request);
            Ok(request.decisions)
        }

        /// Attaches a document by hash (caller: the requester); the request stays with the
        /// reviewer.
        #[message]
        pub fn add_documentation(
            trace: String,
            attachment: Attachment,
        ) -> Result<(), CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            if caller() != request.requester {
                return Err(CoverageError::NotAuthorised);
            }
            if !matches!(
                request.status,
                RequestStatus::Pended
                    | RequestStatus::InformationReceived
                    | RequestStatus::Appealed
            ) {
                return Err(CoverageError::WrongStatus);
            }
            if request.attachments.len() >= MAX_CODES {
                return Err(CoverageError::TooComplex);
            }
            request.attachments.push(attachment);
            if request.status == RequestStatus::Pended {
                request.status = RequestStatus::InformationReceived;
            }
            REQUESTS.insert(&trace, &request);
            step(&request, "documentation");
            Ok(())
        }

        /// Decides the pended lines of a request (caller: the payer or one of its reviewers),
        /// one decision per line in order (decided lines are skipped).
        #[message]
        pub fn decide(
            trace: String,
            decisions: Vec<ReviewerDecision>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            let reviewer = authorised_reviewer(&request.payer)?;
            if !undecided_and_pended(&request) {
                return Err(CoverageError::WrongStatus);
            }
            if decisions.len() != request.lines.len() {
                return Err(CoverageError::Malformed);
            }
            let rule_set = RULE_SETS
                .get(&(request.payer, request.decisions[0].rule_set))
                .ok_or(CoverageError::NoRules)?;
            let now = block_timestamp_ms();
            for (index, review) in decisions.into_iter().enumerate() {
                if request.decisions[index].action != ActionCode::A4 {
                    continue;
                }
                let decided = reviewer_decision(&request, index, review, &rule_set, reviewer, now)?;
                request.decisions[index] = decided;
                settle(&mut request, index, None);
            }
            finish(&request);
            Ok(request.decisions)
        }

        /// Extends the payer's review timeframe once by 14 days (caller: the payer or a
        /// reviewer; standard requests only, before the due time).
        #[message]
        pub fn extend_review(trace: String) -> Result<u64, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            authorised_reviewer(&request.payer)?;
            if !undecided_and_pended(&request)
                || request.review_extended
                || request.priority != Priority::Standard
                || block_timestamp_ms() >= request.due_ms
            {
                return Err(CoverageError::WrongStatus);
            }
            unlist(&request);
            request.due_ms = request.due_ms.saturating_add(REVIEW_EXTENSION_MS);
            request.review_extended = true;
            list(&request);
            REQUESTS.insert(&trace, &request);
            step(&request, "review-extended");
            Ok(request.due_ms)
        }

        /// Marks an undecided request past its due time as overdue (anyone may call). Emits
        /// `Overdue` once; the request stays undecided — overdue is never approval.
        #[message]
        pub fn mark_overdue(trace: String) -> Result<(), CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            let undecided =
                undecided_and_pended(&request) || request.status == RequestStatus::Appealed;
            if !undecided || request.overdue || block_timestamp_ms() <= request.due_ms {
                return Err(CoverageError::NotOverdue);
            }
            request.overdue = true;
            REQUESTS.insert(&trace, &request);
            for code in metric_codes(&request.lines[0].procedure) {
                update_metrics(&request.payer, &request.priority, &code, |counts| {
                    counts.overdue += 1
                });
            }
            Overdue {
                payer: request.payer,
                trace,
                due_ms: request.due_ms,
            }
            .emit();
            Ok(())
        }

        /// Revises a request (caller: the requester): new lines and diagnoses, evaluated again
        /// by the rules in force; earlier decisions move to the history, and a line certified
        /// again after a certification is `A6` modified.
        #[message]
        pub fn revise(
            trace: String,
            lines: Vec<ServiceLine>,
            diagnoses: Vec<String>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            if caller() != request.requester {
                return Err(CoverageError::NotAuthorised);
            }
            if !undecided_and_pended(&request) && request.status != RequestStatus::Decided {
                return Err(CoverageError::WrongStatus);
            }
            check_lines(&lines)?;
            check_codes(&diagnoses)?;
            let coverage = COVERAGES
                .get(&(request.payer, request.member))
                .ok_or(CoverageError::Unknown)?;
            let rule_set = rules_for(&request.payer, lines[0].from_ms)?;
            unlist(&request);
            release_all(&request);
            let previous = core::mem::take(&mut request.decisions);
            for (index, decision) in previous.iter().enumerate() {
                request.history.push((index as u16, decision.clone()));
            }
            request.lines = lines;
            request.diagnoses = diagnoses;
            request.certification_type = CertificationType::Revised;
            request.status = RequestStatus::Pended;
            while request.line_sequences.len() < request.lines.len() {
                let sequence = NEXT_LINE.get().unwrap_or(0);
                NEXT_LINE.set(&(sequence + 1));
                request.line_sequences.push(sequence);
            }
            for index in 0..request.lines.len() {
                let mut decision = evaluate(&request, index, &coverage, &rule_set);
                let was_certified = previous
                    .get(index)
                    .is_some_and(|earlier| certifies(&earlier.action));
                if was_certified && certifies(&decision.action) {
                    decision.action = ActionCode::A6;
                }
                request.decisions.push(decision);
            }
            for index in 0..request.lines.len() {
                settle(&mut request, index, Some(&previous));
            }
            step(&request, "revised");
            finish(&request);
            Ok(request.decisions)
        }

        /// Asks to extend the authorised window of the certified lines by `days` (caller: the
        /// requester; once). Granted automatically up to the rule's window length, refused with
        /// the rule set's reason beyond it.
        #[message]
        pub fn request_extension(
            trace: String,
            days: u32,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            if caller() != request.requester {
                return Err(CoverageError::NotAuthorised);
            }
            if request.status != RequestStatus::Decided || request.extended || days == 0 {
                return Err(CoverageError::WrongStatus);
            }
            let version = request.decisions[0].rule_set;
            let rule_set = RULE_SETS
                .get(&(request.payer, version))
                .ok_or(CoverageError::NoRules)?;
            let now = block_timestamp_ms();
            let mut extended_any = false;
            for index in 0..request.lines.len() {
                let current = request.decisions[index].clone();
                if !certifies(&current.action) {
                    continue;
                }
                let Some(rule) = current
                    .rule_ids
                    .first()
                    .and_then(|id| rule_set.rules.iter().find(|rule| rule.id == *id))
                else {
                    continue;
                };
                extended_any = true;
                let mut next = current.clone();
                next.decided_by = DecidedBy::Auto;
                next.decided_ms = now;
                if days <= rule.authorised_days {
                    next.action = ActionCode::A1;
                    next.reason = None;
                    if let Some(period) = next.period.as_mut() {
                        period.end_ms = period.end_ms.saturating_add(u64::from(days) * DAY_MS);
                    }
                } else {
                    next.action = ActionCode::A3;
                    next.reason = Some(reason_for(&rule_set, Edit::Extension));
                }
                emit_decided(&request, index, &next);
                if next.action == ActionCode::A3 {
                    // The certification stays in force; the refusal joins the history.
                    request.history.push((index as u16, next));
                } else {
                    request.history.push((index as u16, current));
                    request.decisions[index] = next;
                }
            }
            if !extended_any {
                return Err(CoverageError::WrongStatus);
            }
            request.extended = true;
            request.certification_type = CertificationType::Extension;
            REQUESTS.insert(&trace, &request);
            step(&request, "extension");
            Ok(request.decisions)
        }

        /// Cancels a request (caller: the requester): every line becomes `C` and certified units
        /// return to the benefit.
        #[message]
        pub fn cancel(trace: String) -> Result<(), CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            if caller() != request.requester {
                return Err(CoverageError::NotAuthorised);
            }
            if request.status == RequestStatus::Cancelled {
                return Err(CoverageError::WrongStatus);
            }
            unlist(&request);
            release_all(&request);
            let now = block_timestamp_ms();
            for index in 0..request.lines.len() {
                let current = request.decisions[index].clone();
                let mut cancelled = current.clone();
                cancelled.action = ActionCode::C;
                cancelled.certification = None;
                cancelled.quantity = 0;
                cancelled.decided_by = DecidedBy::Requester(request.requester);
                cancelled.decided_ms = now;
                request.history.push((index as u16, current));
                emit_decided(&request, index, &cancelled);
                request.decisions[index] = cancelled;
            }
            request.status = RequestStatus::Cancelled;
            request.certification_type = CertificationType::Cancel;
            REQUESTS.insert(&trace, &request);
            step(&request, "cancelled");
            Ok(())
        }

        /// Appeals the denied or partly certified lines (caller: the requester or the patient).
        /// The appeal gets a new due time from the request's priority.
        #[message]
        pub fn appeal(trace: String, grounds: Hash) -> Result<u64, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            let who = caller();
            if who != request.requester && who != request.beneficiary {
                return Err(CoverageError::NotAuthorised);
            }
            let appealable = request
                .decisions
                .iter()
                .any(|decision| matches!(decision.action, ActionCode::A2 | ActionCode::A3));
            if request.status != RequestStatus::Decided || !appealable || request.appeal.is_some() {
                return Err(CoverageError::WrongStatus);
            }
            request.status = RequestStatus::Appealed;
            request.certification_type = CertificationType::Appeal;
            request.due_ms = block_timestamp_ms().saturating_add(due_after(&request.priority));
            request.overdue = false;
            request.appeal_grounds = Some(grounds);
            list(&request);
            REQUESTS.insert(&trace, &request);
            step(&request, "appealed");
            Ok(request.due_ms)
        }

        /// Decides an appeal (caller: the payer or a reviewer). Overturned: the appealed lines
        /// are certified for the units requested (within the remaining benefit). Upheld: the
        /// decisions stand, and the reason is mandatory.
        #[message]
        pub fn decide_appeal(
            trace: String,
            outcome: AppealOutcome,
            reason: Option<Reason>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
            let reviewer = authorised_reviewer(&request.payer)?;
            if request.status != RequestStatus::Appealed {
                return Err(CoverageError::WrongStatus);
            }
            let rule_set = RULE_SETS
                .get(&(request.payer, request.decisions[0].rule_set))
                .ok_or(CoverageError::NoRules)?;
            unlist(&request);
            let now = block_timestamp_ms();
            let overturned = outcome == AppealOutcome::Overturned;
            if !overturned && !specific(&reason) {
                return Err(CoverageError::ReasonRequired);
            }
            for index in 0..request.lines.len() {
                let current = request.decisions[index].clone();
                if !matches!(current.action, ActionCode::A2 | ActionCode::A3) {
                    continue;
                }
                if !overturned {
                    let mut upheld = current.clone();
                    upheld.reason = reason.clone();
                    upheld.decided_by = DecidedBy::Reviewer(reviewer);
                    upheld.decided_ms = now;
                    request.history.push((index as u16, current));
                    emit_decided(&request, index, &upheld);
                    request.decisions[index] = upheld;
                    continue;
                }
                // The A2 line's certified units return first; the overturned decision certifies
                // what was asked, as far as the benefit has units left.
                release(&request, index, &current);
                let requested = request.lines[index].quantity;
                let rule = rule_of(&request, index, &rule_set)?;
                let benefit =
                    BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
                let allowed = allowed_quantity(&request, index, rule, benefit.as_ref(), requested);
                if allowed == 0 {
                    return Err(CoverageError::WrongStatus);
                }
                let review = ReviewerDecision {
                    action: if allowed < requested {
                        ActionCode::A2
                    } else {
                        ActionCode::A1
                    },
                    quantity: allowed,
                    reason: (allowed < requested).then(|| reason_for(&rule_set, Edit::Quantity)),
                };
                let decided = reviewer_decision(&request, index, review, &rule_set, reviewer, now)?;
                if certifies(&decided.action) {
                    for code in metric_codes(&request.lines[index].procedure) {
                        update_metrics(&request.payer, &request.priority, &code, |counts| {
                            counts.approved_after_appeal += 1
                        });
                    }
                }
                request.history.push((index as u16, current));
                reserve(&request, index, &decided);
                emit_decided(&request, index, &decided);
                request.decisions[index] = decided;
            }
            request.status = RequestStatus::Decided;
            request.appeal = Some(outcome.clone());
            REQUESTS.insert(&trace, &request);
            step(
                &request,
                if overturned {
                    "appeal-overturned"
                } else {
                    "appeal-upheld"
                },
            );
            Ok(request.decisions)
        }

        // ---- claims ----

        /// Checks a claim's lines against coverage, the rules and the cited authorisation
        /// (caller: an active provider organisation), records the result with CARCs and draws
        /// the accepted units from the authorisation or the benefit.
        #[message]
        pub fn check_claim(
            claim: Hash,
            payer: Address,
            member: Hash,
            authorisation: Option<String>,
            lines: Vec<ClaimLine>,
        ) -> Result<Vec<ClaimLineResult>, CoverageError> {
            let provider = active_provider()?;
            if lines.is_empty() || lines.len() > MAX_LINES {
                return Err(CoverageError::TooComplex);
            }
            for line in &lines {
                check_code(&line.procedure)?;
                check_codes(&line.diagnoses)?;
                if line.quantity == 0 {
                    return Err(CoverageError::Malformed);
                }
            }
            if CLAIMS.contains(&claim) {
                return Err(CoverageError::Duplicate);
            }
            let coverage = COVERAGES
                .get(&(payer, member))
                .ok_or(CoverageError::Unknown)?;
            let request = match &authorisation {
                Some(trace) => {
                    let request = REQUESTS.get(trace).ok_or(CoverageError::Unknown)?;
                    if request.payer != payer || request.member != member {
                        return Err(CoverageError::Malformed);
                    }
                    Some(request)
                }
                None => None,
            };
            let mut results = Vec::new();
            for line in &lines {
                results.push(check_claim_line(
                    &payer,
                    &member,
                    &coverage,
                    request.as_ref(),
                    line,
                ));
            }
            let accepted = results.iter().filter(|result| result.accepted).count() as u16;
            CLAIMS.insert(
                &claim,
                &ClaimCheck {
                    payer,
                    member,
                    provider,
                    authorisation,
                    lines: results.clone(),
                    checked_ms: block_timestamp_ms(),
                },
            );
            ClaimChecked {
                payer,
                claim,
                accepted,
                refused: results.len() as u16 - accepted,
            }
            .emit();
            Ok(results)
        }

        // ---- attachments through consent ----

        /// Reads a clinical attachment of a request for the payer (caller: the payer or one of
        /// its reviewers, signing the transaction themselves). The consent contract decides —
        /// purpose `HPAYMT` or `COVAUTH`, and a patient's self-pay restriction blocks it — and
        /// records the access in the patient's audit trail either way.
        #[message]
        pub fn access_attachment(
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
            let decision: AccessDecision = call(
                &consent,
                selector!("record_access"),
                &(
                    agent,
                    String::from(PAYER_ROLE),
                    record,
                    ConsentAction::Access,
                    purpose,
                    None::<Address>,
                ),
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

        // ---- queries ----

        /// Eligibility of a member for a service type on a date: 271 benefit lines, or an AAA
        /// rejection (`72` invalid or missing member id, `75` subscriber not found). Callers: the
        /// payer or its reviewers, the member, or an active provider organisation.
        #[message(view)]
        pub fn eligibility(
            payer: Address,
            member: Hash,
            service_type: String,
            date_ms: u64,
        ) -> Result<Eligibility, CoverageError> {
            let coverage = COVERAGES.get(&(payer, member));
            may_read_member(&payer, coverage.as_ref())?;
            if member == Hash([0; 32]) {
                return Ok(Eligibility::Rejected(
                    "72".into(),
                    "Invalid/Missing Member ID".into(),
                ));
            }
            let Some(coverage) = coverage else {
                return Ok(Eligibility::Rejected(
                    "75".into(),
                    "Subscriber/Insured Not Found".into(),
                ));
            };
            if coverage.status == CoverageStatus::EnteredInError {
                return Ok(Eligibility::Rejected(
                    "72".into(),
                    "Invalid/Missing Member ID".into(),
                ));
            }
            let active = covered_on(&coverage, date_ms);
            let mut lines = Vec::new();
            lines.push(BenefitLine {
                information: String::from(if active { "1" } else { "6" }),
                service_type: service_type.clone(),
                time_qualifier: String::new(),
                amount_cents: None,
                percent_bps: None,
                quantity: None,
                authorisation_required: None,
                network: None,
            });
            if active && let Some(benefit) = BENEFITS.get(&(payer, member, service_type.clone())) {
                benefit_lines(&service_type, &benefit, &mut lines);
            }
            Ok(Eligibility::Found(coverage.plan, coverage.period, lines))
        }

        /// Whether a procedure needs prior authorisation for a member on a date (callers as for
        /// `eligibility`).
        #[message(view)]
        pub fn authorisation_requirement(
            payer: Address,
            member: Hash,
            procedure: String,
            date_ms: u64,
        ) -> Result<AuthorisationRequirement, CoverageError> {
            let coverage = COVERAGES.get(&(payer, member));
            may_read_member(&payer, coverage.as_ref())?;
            Ok(requirement(&payer, &member, coverage, &procedure, date_ms))
        }

        /// A request by trace number (callers: the requester, the payer or its reviewers, the
        /// member).
        #[message(view)]
        pub fn request(trace: String) -> Result<Option<Request>, CoverageError> {
            let Some(request) = REQUESTS.get(&trace) else {
                return Ok(None);
            };
            let who = caller();
            if who != request.requester
                && who != request.beneficiary
                && authorised_reviewer(&request.payer).is_err()
            {
                return Err(CoverageError::NotAuthorised);
            }
            Ok(Some(request))
        }

        /// A member's coverage (callers as for `eligibility`).
        #[message(view)]
        pub fn coverage(payer: Address, member: Hash) -> Result<Option<Coverage>, CoverageError> {
            let coverage = COVERAGES.get(&(payer, member));
            may_read_member(&payer, coverage.as_ref())?;
            Ok(coverage)
        }

        /// A member's benefit for a service type (callers as for `eligibility`).
        #[message(view)]
        pub fn benefit(
            payer: Address,
            member: Hash,
            service_type: String,
        ) -> Result<Option<Benefit>, CoverageError> {
            may_read_member(&payer, COVERAGES.get(&(payer, member)).as_ref())?;
            Ok(BENEFITS.get(&(payer, member, service_type)))
        }

        /// A rule set (the newest when `version` is `None`): public, as payers must publish
        /// their prior-authorisation criteria.
        #[message(view)]
        pub fn rules(payer: Address, version: Option<u32>) -> Option<RuleSet> {
            let version = version.or_else(|| LATEST_RULES.get(&payer))?;
            RULE_SETS.get(&(payer, version))
        }

        /// A payer's undecided requests (pended or under appeal) due within `hours` from now,
        /// soonest first, as (trace, due ms) (callers: the payer or its reviewers).
        #[message(view)]
        pub fn due_within(
            payer: Address,
            hours: u64,
            limit: u32,
        ) -> Result<Vec<(String, u64)>, CoverageError> {
            authorised_reviewer(&payer)?;
            let horizon = block_timestamp_ms().saturating_add(hours.saturating_mul(HOUR_MS));
            let (page, _) = OPEN.page_under(&payer, None, limit.min(MAX_PAGE) as usize);
            Ok(page
                .into_iter()
                .map(|((_, due, trace), ())| (trace, u64::from_be_bytes(due)))
                .take_while(|(_, due)| *due <= horizon)
                .collect())
        }

        /// A claim check (callers: the provider that submitted it, the payer or its reviewers).
        #[message(view)]
        pub fn claim(claim: Hash) -> Result<Option<ClaimCheck>, CoverageError> {
            let Some(check) = CLAIMS.get(&claim) else {
                return Ok(None);
            };
            if caller() != check.provider && authorised_reviewer(&check.payer).is_err() {
                return Err(CoverageError::NotAuthorised);
            }
            Ok(Some(check))
        }
        /// The CMS-0057-F metrics of a payer for a priority, plan-wide (`service_code` `None`)
        /// or for one procedure code.
        #[message(view)]
        pub fn metrics(
            payer: Address,
            priority: Priority,
            service_code: Option<String>,
        ) -> MetricsReport {
            let code = service_code.unwrap_or_default();
            let counts = METRICS
                .get(&(payer, priority.clone(), code.clone()))
                .unwrap_or_else(empty_metrics);
            let median = median_turnaround(&payer, &priority, &code, counts.decided);
            MetricsReport {
                approved_bps: basis_points(counts.approved, counts.decided),
                denied_bps: basis_points(counts.denied, counts.decided),
                approved_after_appeal_bps: basis_points(
                    counts.approved_after_appeal,
                    counts.denied,
                ),
                approved_with_extension_bps: basis_points(
                    counts.approved_with_extension,
                    counts.decided,
                ),
                average_turnaround_ms: counts
                    .turnaround_total_ms
                    .checked_div(counts.decided)
                    .unwrap_or(0),
                median_turnaround_ms: median,
                counts,
            }
        }
    }

    /// The answer of `authorisation_requirement`.
    fn requirement(
        payer: &Address,
        member: &Hash,
        coverage: Option<Coverage>,
        procedure: &str,
        date_ms: u64,
    ) -> AuthorisationRequirement {
        let Some(coverage) = coverage else {
            return AuthorisationRequirement::NotCovered;
        };
        if !covered_on(&coverage, date_ms) {
            return AuthorisationRequirement::NotCovered;
        }
        let Ok(rule_set) = rules_for(payer, date_ms) else {
            return AuthorisationRequirement::Covered(false);
        };
        let Some(rule) = matching_rule(&rule_set, procedure) else {
            return AuthorisationRequirement::Covered(false);
        };
        let Some(benefit) = BENEFITS.get(&(*payer, *member, rule.service_type.clone())) else {
            return AuthorisationRequirement::NotCovered;
        };
        let needed = rule.prior_authorisation || benefit.authorisation_required;
        let conditional = !rule.diagnoses.is_empty()
            || rule.min_age.is_some()
            || rule.max_age.is_some()
            || !rule.sexes.is_empty()
            || !rule.places_of_service.is_empty();
        if conditional {
            AuthorisationRequirement::Conditional(needed, rule.id)
        } else {
            AuthorisationRequirement::Covered(needed)
        }
    }

    // ---- evaluation ----

    /// The automatic decision on line `index`.
    fn evaluate(
        request: &Request,
        index: usize,
        coverage: &Coverage,
        rule_set: &RuleSet,
    ) -> LineDecision {
        let line = &request.lines[index];
        let now = block_timestamp_ms();
        let mut decision = LineDecision {
            action: ActionCode::Na,
            certification: None,
            quantity: 0,
            period: None,
            reason: None,
            decided_by: DecidedBy::Auto,
            rule_ids: Vec::new(),
            rule_set: rule_set.version,
            decided_ms: now,
        };
        let deny = |mut decision: LineDecision, edit: Edit| {
            decision.action = ActionCode::A3;
            decision.reason = Some(reason_for(rule_set, edit));
            decision
        };
        let rule = matching_rule(rule_set, &line.procedure);
        if let Some(rule) = rule {
            decision.rule_ids.push(rule.id);
        }
        // No coverage on the date of service: not certified, whatever the service.
        if !covered_on(coverage, line.from_ms) {
            return deny(decision, Edit::NotEligible);
        }
        let Some(rule) = rule else {
            return decision;
        };
        let benefit = BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
        let needs_authorisation = rule.prior_authorisation
            || benefit
                .as_ref()
                .is_some_and(|benefit| benefit.authorisation_required);
        if !needs_authorisation {
            return decision;
        }
        if benefit.is_none() {
            return deny(decision, Edit::NotEligible);
        }
        let in_network = NETWORK.contains(&(
            request.payer,
            coverage.plan.clone(),
            request.servicing_npi.clone(),
        ));
        let network_applies =
            rule.network_required || matches!(coverage.plan_type, PlanType::Hmo | PlanType::Epo);
        if network_applies && !in_network {
            return deny(decision, Edit::Network);
        }
        let age = u32::from(year_of(line.from_ms)).saturating_sub(u32::from(coverage.birth_year));
        if rule.min_age.is_some_and(|min| age < u32::from(min))
            || rule.max_age.is_some_and(|max| age > u32::from(max))
        {
            return deny(decision, Edit::Age);
        }
        if !rule.sexes.is_empty() && !rule.sexes.contains(&coverage.sex) {
            return deny(decision, Edit::Sex);
        }
        if !rule.places_of_service.is_empty()
            && !rule.places_of_service.contains(&line.place_of_service)
        {
            return deny(decision, Edit::PlaceOfService);
        }
        if !diagnosis_supports(rule, &request.diagnoses) {
            return deny(decision, Edit::Diagnosis);
        }
        let allowed = allowed_quantity(request, index, rule, benefit.as_ref(), line.quantity);
        if allowed == 0 {
            return deny(decision, Edit::Quantity);
        }
        if let Some(template) = &rule.documentation
            && !request
                .attachments
                .iter()
                .any(|attachment| attachment.template == *template)
        {
            decision.action = ActionCode::A4;
            decision.reason = Some(reason_for(rule_set, Edit::Documentation));
            return decision;
        }
        let automatic = rule.auto_approve.as_ref().is_some_and(|conditions| {
            (conditions.diagnoses.is_empty()
                || matches_prefix(&conditions.diagnoses, &request.diagnoses))
                && conditions.max_quantity.is_none_or(|max| allowed <= max)
                && (!conditions.in_network_only || in_network)
        });
        if !automatic {
            decision.action = ActionCode::A4;
            decision.reason = Some(reason_for(rule_set, Edit::ClinicalReview));
            return decision;
        }
        certify(&mut decision, request, index, rule, allowed);
        if allowed < line.quantity {
            decision.action = ActionCode::A2;
            decision.reason = Some(reason_for(rule_set, Edit::Quantity));
        }
        decision
    }

    /// Fills in a certification of `quantity` units of line `index` under `rule`.
    fn certify(
        decision: &mut LineDecision,
        request: &Request,
        index: usize,
        rule: &Rule,
        quantity: u32,
    ) {
        let line = &request.lines[index];
        decision.action = ActionCode::A1;
        decision.quantity = quantity;
        decision.certification = Some(certification_number(&request.trace, index));
        decision.period = Some(Period {
            start_ms: line.from_ms,
            end_ms: line
                .from_ms
                .saturating_add(u64::from(rule.authorised_days) * DAY_MS),
        });
        decision.reason = None;
    }

    /// A reviewer's decision on line `index`, checked: A1, A2 or A3 only; A2 and A3 need a
    /// specific reason; no more units than requested or than the benefit has left.
    fn reviewer_decision(
        request: &Request,
        index: usize,
        review: ReviewerDecision,
        rule_set: &RuleSet,
        reviewer: Address,
        now: u64,
    ) -> Result<LineDecision, CoverageError> {
        let requested = request.lines[index].quantity;
        let rule = rule_of(request, index, rule_set)?;
        let mut decision = request.decisions[index].clone();
        decision.decided_by = DecidedBy::Reviewer(reviewer);
        decision.decided_ms = now;
        match review.action {
            ActionCode::A1 | ActionCode::A2 => {
                if review.quantity == 0 || review.quantity > requested {
                    return Err(CoverageError::Malformed);
                }
                let partial = review.action == ActionCode::A2 || review.quantity < requested;
                if partial && !specific(&review.reason) {
                    return Err(CoverageError::ReasonRequired);
                }
                let benefit =
                    BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
                let allowed =
                    allowed_quantity(request, index, rule, benefit.as_ref(), review.quantity);
                if allowed < review.quantity {
                    return Err(CoverageError::Malformed);
                }
                certify(&mut decision, request, index, rule, review.quantity);
                if partial {
                    decision.action = ActionCode::A2;
                    decision.reason = review.reason;
                }
            }
            ActionCode::A3 => {
                if !specific(&review.reason) {
                    return Err(CoverageError::ReasonRequired);
                }
                decision.action = ActionCode::A3;
                decision.quantity = 0;
                decision.certification = None;
                decision.period = None;
                decision.reason = review.reason;
            }
            _ => return Err(CoverageError::Malformed),
        }
        Ok(decision)
    }

    /// The rule behind line `index`'s current decision.
    fn rule_of<'a>(
        request: &Request,
        index: usize,
        rule_set: &'a RuleSet,
    ) -> Result<&'a Rule, CoverageError> {
        request.decisions[index]
            .rule_ids
            .first()
            .and_then(|id| rule_set.rules.iter().find(|rule| rule.id == *id))
            .ok_or(CoverageError::NoRules)
    }

    /// Records the consequences of line `index`'s new decision: benefit units reserved for a
    /// certification, the metrics of a first decision, the `Decided` event. `previous` holds the
    /// decisions a revision replaced (their metrics are not counted again).
    fn settle(request: &mut Request, index: usize, previous: Option<&Vec<LineDecision>>) {
        let decision = request.decisions[index].clone();
        reserve(request, index, &decision);
        emit_decided(request, index, &decision);
        let first_decision = previous.is_none_or(|previous| {
            previous
                .get(index)
                .is_none_or(|earlier| earlier.action == ActionCode::A4)
        });
        let counted = !matches!(decision.action, ActionCode::Na | ActionCode::A4);
        if !(first_decision && counted) {
            return;
        }
        let turnaround = decision.decided_ms.saturating_sub(request.received_ms);
        let approved = certifies(&decision.action);
        let with_extension = approved && request.review_extended;
        let sequence = request.line_sequences[index];
        for code in metric_codes(&request.lines[index].procedure) {
            update_metrics(&request.payer, &request.priority, &code, |counts| {
                counts.decided += 1;
                counts.turnaround_total_ms = counts.turnaround_total_ms.saturating_add(turnaround);
                if approved {
                    counts.approved += 1;
                }
                if decision.action == ActionCode::A3 {
                    counts.denied += 1;
                }
                if with_extension {
                    counts.approved_with_extension += 1;
                }
            });
            TURNAROUNDS.insert(
                &(
                    request.payer,
                    request.priority.clone(),
                    code,
                    turnaround.to_be_bytes(),
                    sequence,
                ),
                &(),
            );
        }
    }

    /// Stores the request, with its status from its decisions, and keeps the due-time index.
    fn finish(request: &Request) {
        let mut request = request.clone();
        unlist(&request);
        let pending = request
            .decisions
            .iter()
            .any(|decision| decision.action == ActionCode::A4);
        request.status = match (pending, &request.status) {
            (true, RequestStatus::InformationReceived) => RequestStatus::InformationReceived,
            (true, _) => RequestStatus::Pended,
            (false, _) => RequestStatus::Decided,
        };
        if pending {
            list(&request);
        }
        REQUESTS.insert(&request.trace, &request);
    }

    fn list(request: &Request) {
        OPEN.insert(
            &(
                request.payer,
                request.due_ms.to_be_bytes(),
                request.trace.clone(),
            ),
            &(),
        );
    }

    fn unlist(request: &Request) {
        OPEN.remove(&(
            request.payer,
            request.due_ms.to_be_bytes(),
            request.trace.clone(),
        ));
    }

    fn emit_decided(request: &Request, index: usize, decision: &LineDecision) {
        Decided {
            payer: request.payer,
            beneficiary: request.beneficiary,
            trace: request.trace.clone(),
            line: index as u16,
            action: decision.action.clone(),
            reason: decision.reason.as_ref().map(|reason| reason.code.clone()),
            rule_ids: decision.rule_ids.clone(),
            rule_set: decision.rule_set,
        }
        .emit();
    }

    fn step(request: &Request, step: &str) {
        RequestStep {
            payer: request.payer,
            trace: request.trace.clone(),
            step: String::from(step),
        }
        .emit();
    }

    /// Pended (`A4` lines waiting), with or without the information asked for.
    fn undecided_and_pended(request: &Request) -> bool {
        matches!(
            request.status,
            RequestStatus::Pended | RequestStatus::InformationReceived
        )
    }

    fn certifies(action: &ActionCode) -> bool {
        matches!(action, ActionCode::A1 | ActionCode::A2 | ActionCode::A6)
    }

    fn specific(reason: &Option<Reason>) -> bool {
        reason
            .as_ref()
            .is_some_and(|reason| !reason.code.is_empty() && !reason.text.is_empty())
    }

    /// The benefit of line `index`'s rule, if the line's decision names one.
    fn benefit_key(request: &Request, decision: &LineDecision) -> Option<(Address, Hash, String)> {
        let rule_id = decision.rule_ids.first()?;
        let rule_set = RULE_SETS.get(&(request.payer, decision.rule_set))?;
        let rule = rule_set.rules.iter().find(|rule| rule.id == *rule_id)?;
        Some((request.payer, request.member, rule.service_type.clone()))
    }

    /// Reserves a certification's units against the benefit's limit.
    fn reserve(request: &Request, index: usize, decision: &LineDecision) {
        if !certifies(&decision.action) {
            return;
        }
        if let Some(key) = window_key(request, index, decision) {
            CERTIFIED.insert(&key, &decision.quantity);
        }
        if let Some(key) = benefit_key(request, decision)
            && let Some(mut benefit) = BENEFITS.get(&key)
        {
            benefit.quantity_used = benefit.quantity_used.saturating_add(decision.quantity);
            BENEFITS.insert(&key, &benefit);
        }
    }

    /// Returns a certification's unclaimed units to the benefit.
    fn release(request: &Request, index: usize, decision: &LineDecision) {
        if !certifies(&decision.action) {
            return;
        }
        let claimed = CLAIMED
            .get(&(request.trace.clone(), index as u16))
            .unwrap_or(0);
        if let Some(key) = window_key(request, index, decision) {
            // Claimed units were used: they stay in the window.
            if claimed == 0 {
                CERTIFIED.remove(&key);
            } else {
                CERTIFIED.insert(&key, &claimed);
            }
        }
        if let Some(key) = benefit_key(request, decision)
            && let Some(mut benefit) = BENEFITS.get(&key)
        {
            let unclaimed = decision.quantity.saturating_sub(claimed);
            benefit.quantity_used = benefit.quantity_used.saturating_sub(unclaimed);
            BENEFITS.insert(&key, &benefit);
        }
    }

    /// The rolling-window index entry of line `index`'s certification.
    fn window_key(request: &Request, index: usize, decision: &LineDecision) -> Option<WindowKey> {
        Some((
            request.payer,
            request.member,
            *decision.rule_ids.first()?,
            decision.period.as_ref()?.start_ms.to_be_bytes(),
            request.trace.clone(),
            index as u16,
        ))
    }

    fn release_all(request: &Request) {
        for (index, decision) in request.decisions.iter().enumerate() {
            release(request, index, decision);
        }
    }

    /// Units that may be certified for line `index`: the request, capped by what the rule's
    /// rolling window and the benefit have left.
    fn allowed_quantity(
        request: &Request,
        index: usize,
        rule: &Rule,
        benefit: Option<&Benefit>,
        requested: u32,
    ) -> u32 {
        let mut allowed = requested;
        if let Some(limit) = &rule.quantity_per_period {
            let used = units_in_window(request, rule.id, request.lines[index].from_ms, limit.days);
            allowed = allowed.min(limit.units.saturating_sub(used));
        }
        if let Some(limit) = benefit.and_then(|benefit| {
            benefit
                .quantity_limit
                .map(|limit| limit.saturating_sub(benefit.quantity_used))
        }) {
            allowed = allowed.min(limit);
        }
        allowed
    }

    /// Units certified to the member under rule `rule_id` for services starting within `days`
    /// of `start_ms` (at most `MAX_WINDOW_ENTRIES` certifications are looked at).
    fn units_in_window(request: &Request, rule_id: u32, start_ms: u64, days: u32) -> u32 {
        let window = u64::from(days) * DAY_MS;
        let prefix = (request.payer, request.member, rule_id);
        let (entries, _) = CERTIFIED.page_under(&prefix, None, MAX_WINDOW_ENTRIES);
        entries
            .into_iter()
            .filter(|(key, _)| u64::from_be_bytes(key.3).abs_diff(start_ms) < window)
            .map(|(_, units)| units)
            .fold(0u32, u32::saturating_add)
    }

    fn diagnosis_supports(rule: &Rule, diagnoses: &[String]) -> bool {
        rule.diagnoses.is_empty() || matches_prefix(&rule.diagnoses, diagnoses)
    }

    /// Whether any of `codes` starts with any of `prefixes` (ICD-10-CM is hierarchical).
    fn matches_prefix(prefixes: &[String], codes: &[String]) -> bool {
        codes.iter().any(|code| {
            prefixes
                .iter()
                .any(|prefix| code.starts_with(prefix.as_str()))
        })
    }

    fn matching_rule<'a>(rule_set: &'a RuleSet, procedure: &str) -> Option<&'a Rule> {
        rule_set.rules.iter().find(|rule| {
            rule.procedures.iter().any(|range| {
                range.from.len() == procedure.len()
                    && range.from.as_str() <= procedure
                    && procedure <= range.to.as_str()
            })
        })
    }

    /// The newest rule set of `payer` in effect on `date_ms`.
    fn rules_for(payer: &Address, date_ms: u64) -> Result<RuleSet, CoverageError> {
        let mut version = LATEST_RULES.get(payer).ok_or(CoverageError::NoRules)?;
        while version > 0 {
            if let Some(rule_set) = RULE_SETS.get(&(*payer, version))
                && rule_set.effective.start_ms <= date_ms
                && date_ms < rule_set.effective.end_ms
            {
                return Ok(rule_set);
            }
            version -= 1;
        }
        Err(CoverageError::NoRules)
    }

    fn reason_for(rule_set: &RuleSet, edit: Edit) -> Reason {
        rule_set
            .reasons
            .iter()
            .find(|entry| entry.edit == edit)
            .map(|entry| entry.reason.clone())
            // `publish_rules` refuses a rule set without a reason for every edit.
            .unwrap_or_else(|| revert("rule set without a reason for an edit"))
    }

    fn covered_on(coverage: &Coverage, date_ms: u64) -> bool {
        coverage.status == CoverageStatus::Active
            && coverage.period.start_ms <= date_ms
            && date_ms < coverage.period.end_ms
    }

    fn due_after(priority: &Priority) -> u64 {
        match priority {
            Priority::Expedited => EXPEDITED_DUE_MS,
            Priority::Standard => STANDARD_DUE_MS,
        }
    }

    /// `<trace>-<line>`: unique because trace numbers are.
    fn certification_number(trace: &str, index: usize) -> String {
        let mut number = String::from(trace);
        number.push('-');
        push_decimal(&mut number, index as u64 + 1);
        number
    }

    fn push_decimal(out: &mut String, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut length = 0;
        loop {
            digits[length] = b'0' + (value % 10) as u8;
            length += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        for digit in digits[..length].iter().rev() {
            out.push(*digit as char);
        }
    }

    /// The calendar year (UTC) of a time in ms since the epoch.
    fn year_of(ms: u64) -> u16 {
        // Howard Hinnant's days-to-civil algorithm, in integers.
        let days = (ms / DAY_MS) as i64 + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        year.clamp(0, i64::from(u16::MAX)) as u16
    }

    fn benefit_lines(service_type: &str, benefit: &Benefit, lines: &mut Vec<BenefitLine>) {
        let line = |information: &str, time_qualifier: &str| BenefitLine {
            information: String::from(information),
            service_type: String::from(service_type),
            time_qualifier: String::from(time_qualifier),
            amount_cents: None,
            percent_bps: None,
            quantity: None,
            authorisation_required: Some(benefit.authorisation_required),
            network: Some(benefit.network.clone()),
        };
        let mut copay = line("B", "");
        copay.amount_cents = Some(benefit.copay_cents);
        lines.push(copay);
        let mut coinsurance = line("A", "");
        coinsurance.percent_bps = Some(benefit.coinsurance_bps);
        lines.push(coinsurance);
        let mut deductible = line("C", "23");
        deductible.amount_cents = Some(benefit.deductible_cents);
        lines.push(deductible);
        let mut deductible_left = line("C", "29");
        deductible_left.amount_cents = Some(benefit.deductible_remaining_cents);
        lines.push(deductible_left);
        let mut out_of_pocket = line("G", "23");
        out_of_pocket.amount_cents = Some(benefit.out_of_pocket_max_cents);
        lines.push(out_of_pocket);
        let mut out_of_pocket_left = line("G", "29");
        out_of_pocket_left.amount_cents = Some(benefit.out_of_pocket_remaining_cents);
        lines.push(out_of_pocket_left);
        if let Some(limit) = benefit.quantity_limit {
            let mut remaining = line("F", "29");
            remaining.quantity = Some(limit.saturating_sub(benefit.quantity_used));
            lines.push(remaining);
        }
    }

    // ---- claims ----

    fn check_claim_line(
        payer: &Address,
        member: &Hash,
        coverage: &Coverage,
        request: Option<&Request>,
        line: &ClaimLine,
    ) -> ClaimLineResult {
        let mut carcs = Vec::new();
        if coverage.status != CoverageStatus::Active || line.service_ms >= coverage.period.end_ms {
            carcs.push(String::from("27"));
        } else if line.service_ms < coverage.period.start_ms {
            carcs.push(String::from("26"));
        }
        let rule_set = rules_for(payer, line.service_ms).ok();
        let rule = rule_set
            .as_ref()
            .and_then(|rule_set| matching_rule(rule_set, &line.procedure));
        if let Some(rule) = rule
            && !diagnosis_supports(rule, &line.diagnoses)
        {
            carcs.push(String::from("11"));
        }
        let benefit_slot = rule.map(|rule| (*payer, *member, rule.service_type.clone()));
        let benefit = benefit_slot.as_ref().and_then(|key| BENEFITS.get(key));
        let needs_authorisation = rule.is_some_and(|rule| rule.prior_authorisation)
            || benefit
                .as_ref()
                .is_some_and(|benefit| benefit.authorisation_required);
        let mut draw_from_authorisation = None;
        if needs_authorisation {
            let authorised = request.and_then(|request| {
                request
                    .lines
                    .iter()
                    .enumerate()
                    .find_map(|(index, requested)| {
                        let decision = &request.decisions[index];
                        (requested.procedure == line.procedure && certifies(&decision.action))
                            .then(|| (request.trace.clone(), index as u16, decision.clone()))
                    })
            });
            match authorised {
                None => carcs.push(String::from("197")),
                Some((trace, index, decision)) => {
                    let inside = decision.period.as_ref().is_some_and(|period| {
                        period.start_ms <= line.service_ms && line.service_ms < period.end_ms
                    });
                    let claimed = CLAIMED.get(&(trace.clone(), index)).unwrap_or(0);
                    if !inside {
                        carcs.push(String::from("197"));
                    } else if claimed.saturating_add(line.quantity) > decision.quantity {
                        carcs.push(String::from("198"));
                    } else {
                        draw_from_authorisation = Some((trace, index, claimed));
                    }
                }
            }
        } else if let Some(benefit) = &benefit
            && benefit
                .quantity_limit
                .is_some_and(|limit| benefit.quantity_used.saturating_add(line.quantity) > limit)
        {
            carcs.push(String::from("119"));
        }
        let accepted = carcs.is_empty();
        if accepted {
            if let Some((trace, index, claimed)) = draw_from_authorisation {
                // Certified units were reserved against the benefit when certified.
                CLAIMED.insert(&(trace, index), &(claimed + line.quantity));
            } else if let (Some(key), Some(mut benefit)) = (benefit_slot, benefit) {
                benefit.quantity_used = benefit.quantity_used.saturating_add(line.quantity);
                BENEFITS.insert(&key, &benefit);
            }
        }
        ClaimLineResult { accepted, carcs }
    }

    // ---- metrics ----

    /// The metric keys a line counts under: its procedure code and plan-wide ("").
    fn metric_codes(procedure: &str) -> [String; 2] {
        [String::from(procedure), String::new()]
    }

    fn empty_metrics() -> Metrics {
        Metrics {
            requested: 0,
            pended: 0,
            decided: 0,
            approved: 0,
            denied: 0,
            approved_after_appeal: 0,
            approved_with_extension: 0,
            overdue: 0,
            turnaround_total_ms: 0,
        }
    }

    fn update_metrics(
        payer: &Address,
        priority: &Priority,
        code: &str,
        change: impl FnOnce(&mut Metrics),
    ) {
        let key = (*payer, priority.clone(), String::from(code));
        let mut counts = METRICS.get(&key).unwrap_or_else(empty_metrics);
        change(&mut counts);
        METRICS.insert(&key, &counts);
    }

    /// The lower median of the `count` recorded turnarounds, read in order from the index.
    fn median_turnaround(payer: &Address, priority: &Priority, code: &str, count: u64) -> u64 {
        if count == 0 {
            return 0;
        }
        let target = (count - 1) / 2;
        let prefix = (*payer, priority.clone(), String::from(code));
        let mut seen = 0u64;
        let mut cursor = None;
        loop {
            let (page, more) = TURNAROUNDS.page_under(&prefix, cursor.as_ref(), 64);
            for (key, ()) in &page {
                if seen == target {
                    return u64::from_be_bytes(key.3);
                }
                seen += 1;
            }
            match page.last() {
                Some((key, ())) if more => cursor = Some(key.clone()),
                _ => return 0,
            }
        }
    }

    fn basis_points(part: u64, whole: u64) -> u32 {
        part.saturating_mul(10_000).checked_div(whole).unwrap_or(0) as u32
    }

    // ---- authority and input checks ----

    fn registry() -> Result<Address, CoverageError> {
        REGISTRY.get().ok_or(CoverageError::Unavailable)
    }

    fn registry_active(participant: &Address, role: u8) -> Result<bool, CoverageError> {
        call::<bool>(
            &registry()?,
            selector!("is_active"),
            &(participant, role, None::<u64>),
        )
        .map_err(|_| CoverageError::Unavailable)
    }

    fn active_payer() -> Result<Address, CoverageError> {
        let payer = caller();
        if registry_active(&payer, ROLE_PAYER)? {
            Ok(payer)
        } else {
            Err(CoverageError::NotAPayer)
        }
    }

    fn active_provider() -> Result<Address, CoverageError> {
        let provider = caller();
        if registry_active(&provider, ROLE_PROVIDER_ORGANISATION)? {
            Ok(provider)
        } else {
            Err(CoverageError::NotAProvider)
        }
    }

    /// The caller if it is `payer` (still active in the registry) or one of its reviewers.
    fn authorised_reviewer(payer: &Address) -> Result<Address, CoverageError> {
        let who = caller();
        if who != *payer && !REVIEWERS.contains(&(*payer, who)) {
            return Err(CoverageError::NotAuthorised);
        }
        if !registry_active(payer, ROLE_PAYER)? {
            return Err(CoverageError::NotAPayer);
        }
        Ok(who)
    }

    /// Whether the caller may read a member's coverage: the payer or its reviewers, the member,
    /// or an active provider organisation (eligibility inquiries come from providers).
    fn may_read_member(payer: &Address, coverage: Option<&Coverage>) -> Result<(), CoverageError> {
        let who = caller();
        if coverage.is_some_and(|coverage| coverage.beneficiary == who)
            || who == *payer
            || REVIEWERS.contains(&(*payer, who))
            || registry_active(&who, ROLE_PROVIDER_ORGANISATION)?
        {
            Ok(())
        } else {
            Err(CoverageError::NotAuthorised)
        }
    }

    fn check_member(member: &Hash) -> Result<(), CoverageError> {
        if *member == Hash([0; 32]) {
            Err(CoverageError::Malformed)
        } else {
            Ok(())
        }
    }

    fn check_period(period: &Period) -> Result<(), CoverageError> {
        if period.end_ms <= period.start_ms {
            Err(CoverageError::InvalidPeriod)
        } else {
            Ok(())
        }
    }

    fn check_code(code: &str) -> Result<(), CoverageError> {
        if code.len() > MAX_CODE_BYTES {
            Err(CoverageError::TooComplex)
        } else {
            Ok(())
        }
    }

    fn check_codes(codes: &[String]) -> Result<(), CoverageError> {
        if codes.len() > MAX_CODES {
            return Err(CoverageError::TooComplex);
        }
        codes.iter().try_for_each(|code| check_code(code))
    }

    fn check_lines(lines: &[ServiceLine]) -> Result<(), CoverageError> {
        if lines.is_empty() {
            return Err(CoverageError::Malformed);
        }
        if lines.len() > MAX_LINES {
            return Err(CoverageError::TooComplex);
        }
        for line in lines {
            check_code(&line.procedure)?;
            check_code(&line.place_of_service)?;
            check_codes(&line.modifiers)?;
            if line.quantity == 0 || line.procedure.is_empty() {
                return Err(CoverageError::Malformed);
            }
            if line.to_ms < line.from_ms {
                return Err(CoverageError::InvalidPeriod);
            }
        }
        Ok(())
    }

    /// Every edit has a specific reason; rules are bounded, their ranges well formed and their
    /// ids unique.
    fn check_rules(rules: &[Rule], reasons: &[EditReason]) -> Result<(), CoverageError> {
        if rules.len() > MAX_RULES || reasons.len() > MAX_CODES {
            return Err(CoverageError::TooComplex);
        }
        let every_edit = [
            Edit::NotEligible,
            Edit::Network,
            Edit::Age,
            Edit::Sex,
            Edit::PlaceOfService,
            Edit::Diagnosis,
            Edit::Quantity,
            Edit::Documentation,
            Edit::ClinicalReview,
            Edit::Extension,
        ];
        for edit in every_edit {
            let reason = reasons.iter().find(|entry| entry.edit == edit);
            if !reason.is_some_and(|entry| specific(&Some(entry.reason.clone()))) {
                return Err(CoverageError::IncompleteRules);
            }
        }
        for entry in reasons {
            check_code(&entry.reason.code)?;
            check_code(&entry.reason.text)?;
        }
        for (position, rule) in rules.iter().enumerate() {
            if rules[..position]
                .iter()
                .any(|earlier| earlier.id == rule.id)
            {
                return Err(CoverageError::IncompleteRules);
            }
            check_code(&rule.service_type)?;
            check_codes(&rule.diagnoses)?;
            check_codes(&rule.sexes)?;
            check_codes(&rule.places_of_service)?;
            if rule.procedures.is_empty() || rule.procedures.len() > MAX_CODES {
                return Err(CoverageError::Malformed);
            }
            for range in &rule.procedures {
                check_code(&range.from)?;
                if range.from.len() != range.to.len() || range.from > range.to {
                    return Err(CoverageError::Malformed);
                }
            }
            if rule.authorised_days == 0 {
                return Err(CoverageError::Malformed);
            }
            if let (Some(min), Some(max)) = (rule.min_age, rule.max_age)
                && min > max
            {
                return Err(CoverageError::Malformed);
            }
        }
        Ok(())
    }
}
