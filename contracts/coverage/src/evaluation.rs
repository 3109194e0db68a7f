//! The rules' decision on a requested line, in the submitting transaction: coverage on the date
//! of service, network, age, sex, place of service, diagnosis, quantity, documentation and
//! auto-approval, in that order; a certification's number and window.

use salus_sdk::prelude::*;

use crate::eligibility::{covered_on, year_of};
use crate::rules::{diagnosis_supports, matches_prefix, matching_rule, reason_for};
use crate::storage::{BENEFITS, NETWORK};
use crate::types::*;
use crate::units::allowed_quantity;

/// The automatic decision on line `index`.
pub(crate) fn evaluate(
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
        suggested: None,
    };
    // Automated decisions may certify; an adverse one is never final without a clinician
    // (42 CFR 438.210(b)(3), 42 CFR 422.566(d)): the line pends (`A4`) to a reviewer of
    // `ADVERSE_REVIEWER_ROLE` with the suggested action and reason, and the rule ids. The
    // CMS-0057-F due time keeps running.
    let deny = |decision: LineDecision, edit: Edit| {
        pend_adverse(decision, rule_set, edit, ActionCode::A3, 0)
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
    if allowed < line.quantity {
        return pend_adverse(decision, rule_set, Edit::Quantity, ActionCode::A2, allowed);
    }
    certify(&mut decision, request, index, rule, allowed);
    decision
}

/// Pends a line the rules would decide adversely (`suggested`: `A3`, or `A2` for
/// `quantity` units) to a clinical reviewer, with the rule set's reason for `edit`.
fn pend_adverse(
    mut decision: LineDecision,
    rule_set: &RuleSet,
    edit: Edit,
    suggested: ActionCode,
    quantity: u32,
) -> LineDecision {
    decision.action = ActionCode::A4;
    decision.reason = Some(reason_for(rule_set, edit));
    decision.suggested = Some(Suggestion {
        action: suggested,
        quantity,
        reviewer_role: ADVERSE_REVIEWER_ROLE,
    });
    decision
}

/// Fills in a certification of `quantity` units of line `index` under `rule`.
pub(crate) fn certify(
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
    decision.suggested = None;
}

/// `<trace>-<line>`: unique because trace numbers are.
pub(crate) fn certification_number(trace: &str, index: usize) -> String {
    let mut number = String::from(trace);
    number.push('-');
    push_decimal(&mut number, index as u64 + 1);
    number
}

pub(crate) fn push_decimal(out: &mut String, mut value: u64) {
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
