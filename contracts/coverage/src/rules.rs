//! Payers' versioned rule sets: procedure ranges, diagnoses, age, sex, place of service,
//! network, quantities, documentation and auto-approval, with the reason each edit gives.

use salus_sdk::prelude::*;

use crate::CoverageError;
use crate::checks::*;
use crate::eligibility::*;
use crate::storage::*;

/// Most rules in one rule set: bounds the fuel of evaluating a line.
pub(crate) const MAX_RULES: usize = 128;

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

/// Every edit has a specific reason; rules are bounded, their ranges well formed and their
/// ids unique.
pub(crate) fn check_rules(rules: &[Rule], reasons: &[EditReason]) -> Result<(), CoverageError> {
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

/// The newest rule set of `payer` in effect on `date_ms`.
pub(crate) fn rules_for(payer: &Address, date_ms: u64) -> Result<RuleSet, CoverageError> {
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

pub(crate) fn reason_for(rule_set: &RuleSet, edit: Edit) -> Reason {
    rule_set
        .reasons
        .iter()
        .find(|entry| entry.edit == edit)
        .map(|entry| entry.reason.clone())
        // `publish_rules` refuses a rule set without a reason for every edit.
        .unwrap_or_else(|| revert("rule set without a reason for an edit"))
}

pub(crate) fn matching_rule<'a>(rule_set: &'a RuleSet, procedure: &str) -> Option<&'a Rule> {
    rule_set.rules.iter().find(|rule| {
        rule.procedures.iter().any(|range| {
            range.from.len() == procedure.len()
                && range.from.as_str() <= procedure
                && procedure <= range.to.as_str()
        })
    })
}

pub(crate) fn diagnosis_supports(rule: &Rule, diagnoses: &[String]) -> bool {
    rule.diagnoses.is_empty() || matches_prefix(&rule.diagnoses, diagnoses)
}

/// Whether any of `codes` starts with any of `prefixes` (ICD-10-CM is hierarchical).
pub(crate) fn matches_prefix(prefixes: &[String], codes: &[String]) -> bool {
    codes.iter().any(|code| {
        prefixes
            .iter()
            .any(|prefix| code.starts_with(prefix.as_str()))
    })
}

pub(crate) fn specific(reason: &Option<Reason>) -> bool {
    reason
        .as_ref()
        .is_some_and(|reason| !reason.code.is_empty() && !reason.text.is_empty())
}

/// The body of [`CoverageContract::publish_rules`](crate::CoverageContract::publish_rules).
pub(crate) fn publish_rules(
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
