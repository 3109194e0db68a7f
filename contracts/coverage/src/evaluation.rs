//! The rules' decision on a requested line, in the submitting transaction: `coverage-rules`
//! decides from the rule set, the member's coverage (the birth year and sex the request
//! carries: coverage stores none), the payer's records (read here, only as
//! far as the edits reach) and the request; this module turns its outcome into the line's
//! decision, with a certification's number.

use coverage_rules::{Line, Member, authorised_window, certification_number};
use salus_sdk::prelude::*;

use crate::types::*;
use crate::units::PayerRecords;

/// The automatic decision on line `index`.
pub(crate) fn evaluate(
    request: &Request,
    index: usize,
    coverage: &Coverage,
    rule_set: &RuleSet,
) -> LineDecision {
    let now = block_timestamp_ms();
    let member = Member {
        active: coverage.status == CoverageStatus::Active,
        period: &coverage.period,
        birth_year: request.birth_year,
        sex: &request.sex,
        network_plan: matches!(coverage.plan_type, PlanType::Hmo | PlanType::Epo),
    };
    let line = Line {
        service: &request.lines[index],
        diagnoses: &request.diagnoses,
        attachments: &request.attachments,
    };
    let records = PayerRecords {
        request,
        plan: &coverage.plan,
    };
    let outcome = coverage_rules::evaluate(rule_set, &member, &line, &records)
        // `publish_rules` refuses a rule set without a reason for every edit.
        .unwrap_or_else(|_| revert("rule set without a reason for an edit"));
    // Automated decisions may certify; an adverse one is never final without a clinician
    // (42 CFR 438.210(b)(3), 42 CFR 422.566(d)): the line pends (`A4`) to a reviewer of
    // `ADVERSE_REVIEWER_ROLE` with the suggested action and reason, and the rule ids. The
    // CMS-0057-F due time keeps running.
    LineDecision {
        certification: (outcome.action == ActionCode::A1)
            .then(|| certification_number(&request.trace, index)),
        action: outcome.action,
        quantity: outcome.quantity,
        period: outcome.period,
        reason: outcome.reason,
        decided_by: DecidedBy::Auto,
        rule_ids: outcome.rule_ids,
        rule_set: rule_set.version,
        decided_ms: now,
        suggested: outcome.suggested.map(|suggested| Suggestion {
            action: suggested.action,
            quantity: suggested.quantity,
            reviewer_role: ADVERSE_REVIEWER_ROLE,
        }),
    }
}

/// Fills in a certification of `quantity` units of line `index` under `rule`.
pub(crate) fn certify(
    decision: &mut LineDecision,
    request: &Request,
    index: usize,
    rule: &Rule,
    quantity: u32,
) {
    decision.action = ActionCode::A1;
    decision.quantity = quantity;
    decision.certification = Some(certification_number(&request.trace, index));
    decision.period = Some(authorised_window(rule, request.lines[index].from_ms));
    decision.reason = None;
    decision.suggested = None;
}
