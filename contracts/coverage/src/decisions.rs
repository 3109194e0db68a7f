//! Reviewers' decisions (X12 HCR action codes) on pended lines and on appeals, checked against
//! the request, the rule and the benefit.

use salus_sdk::prelude::*;

use crate::checks::{authorised_reviewer, clinical_reviewer};
use crate::evaluation::certify;
use crate::metrics::{metric_codes, update_metrics};
use crate::requests::{emit_decided, finish, settle, step, undecided_and_pended, unlist};
use crate::rules::{reason_for, specific};
use crate::storage::{BENEFITS, REQUESTS, RULE_SETS};
use crate::types::*;
use crate::units::{allowed_quantity, certifies, release, reserve};

/// A reviewer's decision on line `index`, checked: A1, A2 or A3 only; A2 and A3 need a
/// specific reason; no more units than requested or than the benefit has left.
pub(crate) fn reviewer_decision(
    request: &Request,
    index: usize,
    review: ReviewerDecision,
    rule_set: &RuleSet,
    reviewer: Address,
    now: u64,
) -> Result<LineDecision, CoverageError> {
    let requested = request.lines[index].quantity;
    let mut decision = request.decisions[index].clone();
    decision.decided_by = DecidedBy::Reviewer(reviewer);
    decision.decided_ms = now;
    match review.action {
        ActionCode::A1 | ActionCode::A2 | ActionCode::A6 => {
            if review.quantity == 0 || review.quantity > requested {
                return Err(CoverageError::Malformed);
            }
            // A line no rule covers (e.g. no coverage on the date) can only be denied.
            let rule = rule_of(request, index, rule_set)?;
            let modified = review.action == ActionCode::A6;
            let partial =
                modified || review.action == ActionCode::A2 || review.quantity < requested;
            if partial && !specific(&review.reason) {
                return Err(CoverageError::ReasonRequired);
            }
            let benefit = BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
            let allowed = allowed_quantity(request, index, rule, benefit.as_ref(), review.quantity);
            if allowed < review.quantity {
                return Err(CoverageError::Malformed);
            }
            certify(&mut decision, request, index, rule, review.quantity);
            if partial {
                decision.action = if modified {
                    ActionCode::A6
                } else {
                    ActionCode::A2
                };
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
            decision.suggested = None;
        }
        _ => return Err(CoverageError::Malformed),
    }
    Ok(decision)
}

/// The rule behind line `index`'s current decision.
pub(crate) fn rule_of<'a>(
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

/// The body of [`CoverageContract::decide`](crate::CoverageContract::decide).
pub(crate) fn decide(
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
        // An adverse decision (deny, partial, modified) is a clinician's only
        // (42 CFR 438.210(b)(3), 42 CFR 422.566(d)); the payer's own key may only certify.
        let adverse = review.action.is_adverse() || review.quantity < request.lines[index].quantity;
        if adverse {
            clinical_reviewer(&request.payer)?;
        }
        let decided = reviewer_decision(&request, index, review, &rule_set, reviewer, now)?;
        request.decisions[index] = decided;
        settle(&mut request, index, None);
    }
    finish(&request);
    Ok(request.decisions)
}

/// The body of [`CoverageContract::decide_appeal`](crate::CoverageContract::decide_appeal).
pub(crate) fn decide_appeal(
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
    // Upholding a denial is an adverse decision: a clinician's only.
    if !overturned {
        clinical_reviewer(&request.payer)?;
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
        let benefit = BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
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
