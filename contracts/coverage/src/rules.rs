//! Payers' versioned rule sets: procedure ranges, diagnoses, age, sex, place of service,
//! network, quantities, documentation and auto-approval, with the reason each edit gives —
//! checked when published, stored by version. What the rules decide is `coverage-rules`, run
//! by the payer's agent; the contract checks that posted reason codes are in the table.

use coverage_rules::EVERY_EDIT;
use salus_sdk::prelude::*;

use crate::checks::{MAX_CODES, active_payer, check_code, check_codes, check_period};
use crate::storage::{LATEST_RULES, RULE_SETS};
use crate::types::*;

/// Most rules in one rule set: bounds the fuel of evaluating a line.
pub(crate) const MAX_RULES: usize = 128;

/// Every edit has a specific reason; rules are bounded, their ranges well formed and their
/// ids unique.
pub(crate) fn check_rules(rules: &[Rule], reasons: &[EditReason]) -> Result<(), CoverageError> {
    if rules.len() > MAX_RULES || reasons.len() > MAX_CODES {
        return Err(CoverageError::TooComplex);
    }
    for edit in EVERY_EDIT {
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

/// Whether `code` is in the reason table of `rule_set`.
pub(crate) fn check_reason(rule_set: &RuleSet, code: &str) -> Result<(), CoverageError> {
    if rule_set
        .reasons
        .iter()
        .any(|entry| entry.reason.code == code)
    {
        Ok(())
    } else {
        Err(CoverageError::UnknownReason)
    }
}

/// The payer's rule set `version`.
pub(crate) fn rule_set(payer: &Address, version: u32) -> Result<RuleSet, CoverageError> {
    RULE_SETS
        .get(&(*payer, version))
        .ok_or(CoverageError::NoRules)
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
