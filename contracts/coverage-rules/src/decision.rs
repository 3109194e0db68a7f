//! The rules' decision on a requested line: coverage on the date of service, network, age,
//! sex, place of service, diagnosis, quantity, documentation and auto-approval, in that order;
//! the certified units and window.

use alloc::vec::Vec;

use crate::limits::{allowed_quantity, authorised_window};
use crate::matching::{
    age_on, covered_on, diagnosis_supports, matches_prefix, matching_rule, reason_for,
};
use crate::types::{
    ActionCode, Edit, Line, Member, MissingReason, Outcome, Records, RuleSet, Suggested,
};

/// The rules' decision on `line` for `member`, under `rule_set`, asking `records` only what
/// the edits reached need.
///
/// The rules may certify (`A1`), pend (`A4`) or find no authorisation needed (`NA`); an
/// adverse decision is never theirs (42 CFR 438.210(b)(3), 42 CFR 422.566(d)): where they would
/// deny (`A3`) or certify in part (`A2`) the line pends with the suggested action, units and
/// the rule set's reason, for a clinical reviewer. The rule that matched the procedure is
/// cited whatever the decision.
///
/// # Errors
///
/// [`MissingReason`] if `rule_set` has no reason for the edit that decided the line.
pub fn evaluate(
    rule_set: &RuleSet,
    member: &Member<'_>,
    line: &Line<'_>,
    records: &impl Records,
) -> Result<Outcome, MissingReason> {
    let service = line.service;
    let mut outcome = Outcome {
        action: ActionCode::Na,
        reason: None,
        suggested: None,
        rule_ids: Vec::new(),
        quantity: 0,
        period: None,
    };
    let deny =
        |outcome: Outcome, edit: Edit| pend_adverse(outcome, rule_set, edit, ActionCode::A3, 0);
    let rule = matching_rule(rule_set, &service.procedure);
    if let Some(rule) = rule {
        outcome.rule_ids.push(rule.id);
    }
    // No coverage on the date of service: not certified, whatever the service.
    if !covered_on(member.active, member.period, service.from_ms) {
        return deny(outcome, Edit::NotEligible);
    }
    let Some(rule) = rule else {
        return Ok(outcome);
    };
    let benefit = records.benefit(&rule.service_type);
    let needs_authorisation = rule.prior_authorisation
        || benefit
            .as_ref()
            .is_some_and(|benefit| benefit.authorisation_required);
    if !needs_authorisation {
        return Ok(outcome);
    }
    if benefit.is_none() {
        return deny(outcome, Edit::NotEligible);
    }
    let in_network = records.in_network();
    let network_applies = rule.network_required || member.network_plan;
    if network_applies && !in_network {
        return deny(outcome, Edit::Network);
    }
    let age = age_on(member.birth_year, service.from_ms);
    if rule.min_age.is_some_and(|min| age < u32::from(min))
        || rule.max_age.is_some_and(|max| age > u32::from(max))
    {
        return deny(outcome, Edit::Age);
    }
    if !rule.sexes.is_empty() && !rule.sexes.iter().any(|sex| sex == member.sex) {
        return deny(outcome, Edit::Sex);
    }
    if !rule.places_of_service.is_empty()
        && !rule.places_of_service.contains(&service.place_of_service)
    {
        return deny(outcome, Edit::PlaceOfService);
    }
    if !diagnosis_supports(rule, line.diagnoses) {
        return deny(outcome, Edit::Diagnosis);
    }
    let allowed = allowed_quantity(rule, benefit.as_ref(), service.quantity, |limit| {
        records.units_in_window(rule.id, service.from_ms, limit.days)
    });
    if allowed == 0 {
        return deny(outcome, Edit::Quantity);
    }
    if let Some(template) = &rule.documentation
        && !line
            .attachments
            .iter()
            .any(|attachment| attachment.template == *template)
    {
        outcome.action = ActionCode::A4;
        outcome.reason = Some(reason_for(rule_set, Edit::Documentation)?);
        return Ok(outcome);
    }
    let automatic = rule.auto_approve.as_ref().is_some_and(|conditions| {
        (conditions.diagnoses.is_empty() || matches_prefix(&conditions.diagnoses, line.diagnoses))
            && conditions.max_quantity.is_none_or(|max| allowed <= max)
            && (!conditions.in_network_only || in_network)
    });
    if !automatic {
        outcome.action = ActionCode::A4;
        outcome.reason = Some(reason_for(rule_set, Edit::ClinicalReview)?);
        return Ok(outcome);
    }
    if allowed < service.quantity {
        return pend_adverse(outcome, rule_set, Edit::Quantity, ActionCode::A2, allowed);
    }
    outcome.action = ActionCode::A1;
    outcome.quantity = allowed;
    outcome.period = Some(authorised_window(rule, service.from_ms));
    Ok(outcome)
}

/// Pends a line the rules would decide adversely (`suggested`: `A3`, or `A2` for `quantity`
/// units) to a clinical reviewer, with the rule set's reason for `edit`.
fn pend_adverse(
    mut outcome: Outcome,
    rule_set: &RuleSet,
    edit: Edit,
    suggested: ActionCode,
    quantity: u32,
) -> Result<Outcome, MissingReason> {
    outcome.action = ActionCode::A4;
    outcome.reason = Some(reason_for(rule_set, edit)?);
    outcome.suggested = Some(Suggested {
        action: suggested,
        quantity,
    });
    Ok(outcome)
}
