//! What the rules read and answer: the rule set's types (the coverage contract's ABI types,
//! re-exported there), the requested line, the member's facts, the payer's records the rules
//! consult, and the outcome of a line.

use alloc::string::String;
use alloc::vec::Vec;

use salus_sdk::{Hash, data};

/// An hour in ms.
pub const HOUR_MS: u64 = 60 * 60 * 1000;
/// A day in ms.
pub const DAY_MS: u64 = 24 * HOUR_MS;

// ---- the rule set (the contract's ABI types) ----

/// A period in ms since the epoch, end exclusive.
#[data]
pub struct Period {
    /// Start.
    pub start_ms: u64,
    /// End (exclusive).
    pub end_ms: u64,
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

/// Every edit, each of which a rule set must give a reason for.
pub const EVERY_EDIT: [Edit; 10] = [
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

impl Rule {
    /// The simplest rule: prior authorisation required for procedures `from`..=`to` under
    /// service type `service_type`, with no other edit, valid 60 days; certified without a
    /// reviewer when `automatic` (any diagnosis, any quantity, any network), else pended for
    /// one. What a payer starts from, and what scenarios and tests need.
    pub fn prior_authorisation(
        id: u32,
        service_type: &str,
        (from, to): (&str, &str),
        automatic: bool,
    ) -> Rule {
        Rule {
            id,
            service_type: service_type.into(),
            procedures: alloc::vec![CodeRange {
                from: from.into(),
                to: to.into(),
            }],
            diagnoses: Vec::new(),
            min_age: None,
            max_age: None,
            sexes: Vec::new(),
            places_of_service: Vec::new(),
            network_required: false,
            quantity_per_period: None,
            prior_authorisation: true,
            documentation: None,
            auto_approve: automatic.then(|| AutoApprove {
                diagnoses: Vec::new(),
                max_quantity: None,
                in_network_only: false,
            }),
            authorised_days: 60,
        }
    }
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

// ---- the request (the contract's ABI types) ----

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

/// X12 HCR01 action code (278 response, loop 2000F/2000E HCR01).
#[data]
pub enum ActionCode {
    /// `A1` certified in total (a revision certified in total is `A1` too).
    A1,
    /// `A2` certified, partial.
    A2,
    /// `A3` not certified.
    A3,
    /// `A4` pended.
    A4,
    /// `A6` modified: certified, but not as requested (a reviewer's decision; adverse).
    A6,
    /// `C` cancelled.
    C,
    /// `NA` no action required: no authorisation needed.
    Na,
    /// `CT` contact payer.
    Ct,
}

impl ActionCode {
    /// The HCR01 code as X12 spells it.
    pub fn code(&self) -> &'static str {
        match self {
            ActionCode::A1 => "A1",
            ActionCode::A2 => "A2",
            ActionCode::A3 => "A3",
            ActionCode::A4 => "A4",
            ActionCode::A6 => "A6",
            ActionCode::C => "C",
            ActionCode::Na => "NA",
            ActionCode::Ct => "CT",
        }
    }

    /// Whether the decision is adverse (a denial, a partial certification or a
    /// modification): never final without a clinician (42 CFR 438.210(b)(3),
    /// 42 CFR 422.566(d)).
    pub fn is_adverse(&self) -> bool {
        matches!(self, ActionCode::A2 | ActionCode::A3 | ActionCode::A6)
    }
}

// ---- what the rules are given (plain data, not ABI) ----

/// The requested line the rules decide, with what the request says about all its lines.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// The service.
    pub service: &'a ServiceLine,
    /// The request's ICD-10-CM diagnoses.
    pub diagnoses: &'a [String],
    /// The request's attachments (their templates answer documentation edits).
    pub attachments: &'a [Attachment],
}

/// What the rules read of the member's coverage.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    /// Whether the coverage's status is active (X12 EB01 `1`).
    pub active: bool,
    /// The plan period.
    pub period: &'a Period,
    /// Birth year: the age a rule checks is the age attained in the calendar year of service.
    pub birth_year: u16,
    /// Administrative sex code (`F`, `M`, `U`).
    pub sex: &'a str,
    /// Whether the plan covers only in-network servicing providers (HMO and EPO plans).
    pub network_plan: bool,
}

/// What the rules read of a member's benefit for a service type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenefitUse {
    /// X12 EB11: authorisation or certification required.
    pub authorisation_required: bool,
    /// Units covered per plan period, if limited.
    pub quantity_limit: Option<u32>,
    /// Units certified or claimed so far this plan period.
    pub quantity_used: u32,
}

/// The payer's records the rules consult for one request, each asked only when an edit needs
/// it: the member's benefits, the plan's network, the units already certified. The payer's
/// agent answers from its own records; [`KnownRecords`] answers from plain data.
pub trait Records {
    /// The member's benefit for the X12 service type, if the plan has one.
    fn benefit(&self, service_type: &str) -> Option<BenefitUse>;
    /// Whether the request's servicing provider is in the member's plan network.
    fn in_network(&self) -> bool;
    /// Units certified to the member under rule `rule_id` for services starting within `days`
    /// of `start_ms` (see [`units_within`](crate::units_within)).
    fn units_in_window(&self, rule_id: u32, start_ms: u64, days: u32) -> u32;
}

/// A certification earlier than the request, as the rolling-window limits count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certified {
    /// The rule it was certified under.
    pub rule_id: u32,
    /// Its service start (ms).
    pub start_ms: u64,
    /// Units certified (or, once released, claimed).
    pub units: u32,
}

/// [`Records`] as plain data: what a verifier or a test holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownRecords {
    /// The member's benefits by X12 service type.
    pub benefits: Vec<(String, BenefitUse)>,
    /// Whether the servicing provider is in the plan's network.
    pub in_network: bool,
    /// The member's certifications.
    pub certified: Vec<Certified>,
}

// ---- what the rules answer ----

/// What the rules would have decided on a line they may not decide alone (an adverse
/// decision), for a clinical reviewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggested {
    /// `A3` not certified or `A2` certified in part.
    pub action: ActionCode,
    /// Units the rules would certify (`A2`), 0 for `A3`.
    pub quantity: u32,
}

/// The rules' decision on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `A1` certified, `A4` pended (for documentation, for a clinical review, or with a
    /// suggested adverse decision) or `NA` no authorisation required.
    pub action: ActionCode,
    /// The rule set's reason, for a pended line.
    pub reason: Option<Reason>,
    /// For a line the rules would deny or certify in part: what they suggest.
    pub suggested: Option<Suggested>,
    /// The rules that fired.
    pub rule_ids: Vec<u32>,
    /// Units certified.
    pub quantity: u32,
    /// The authorised window, when certified.
    pub period: Option<Period>,
}

/// A rule set without a reason for an edit the rules gave (the coverage contract refuses to
/// publish one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingReason(pub Edit);
