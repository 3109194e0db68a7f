//! Line decisions (X12 HCR action codes) and who made them: reviewers deciding pended lines and
//! appeals, and what each new decision settles — units reserved, metrics, the `Decided` event.

use salus_sdk::prelude::*;

use crate::CoverageError;
use crate::checks::*;
use crate::eligibility::*;
use crate::evaluation::*;
use crate::metrics::*;
use crate::requests::*;
use crate::rules::*;
use crate::storage::*;
use crate::units::*;

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

/// The outcome of an appeal.
#[data]
pub enum AppealOutcome {
    /// The denial stands.
    Upheld,
    /// The denial was reversed.
    Overturned,
}

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
            let benefit = BENEFITS.get(&(request.payer, request.member, rule.service_type.clone()));
            let allowed = allowed_quantity(request, index, rule, benefit.as_ref(), review.quantity);
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

/// Records the consequences of line `index`'s new decision: benefit units reserved for a
/// certification, the metrics of a first decision, the `Decided` event. `previous` holds the
/// decisions a revision replaced (their metrics are not counted again).
pub(crate) fn settle(request: &mut Request, index: usize, previous: Option<&Vec<LineDecision>>) {
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

pub(crate) fn certifies(action: &ActionCode) -> bool {
    matches!(action, ActionCode::A1 | ActionCode::A2 | ActionCode::A6)
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
