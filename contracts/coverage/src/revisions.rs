//! What the requester does after submitting: revise the lines, ask for a longer window, cancel,
//! appeal. Every earlier decision moves to the request's history.

use salus_sdk::prelude::*;

use crate::checks::{
    acting_requester, authorised_reviewer, check_codes, check_lines, clinical_reviewer,
};
use crate::evaluation::evaluate;
use crate::requests::{
    due_after, emit_decided, finish, list, settle, step, undecided_and_pended, unlist,
};
use crate::rules::{reason_for, rules_for, specific};
use crate::storage::{COVERAGES, NEXT_LINE, REQUESTS, RULE_SETS};
use crate::types::*;
use crate::units::{certifies, release_all};

/// The body of [`CoverageContract::revise`](crate::CoverageContract::revise).
pub(crate) fn revise(
    trace: String,
    lines: Vec<ServiceLine>,
    diagnoses: Vec<String>,
) -> Result<Vec<LineDecision>, CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    acting_requester(&request)?;
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
    request.pending_extension = None;
    while request.line_sequences.len() < request.lines.len() {
        let sequence = NEXT_LINE.get().unwrap_or(0);
        NEXT_LINE.set(&(sequence + 1));
        request.line_sequences.push(sequence);
    }
    for index in 0..request.lines.len() {
        // A revised line is decided afresh: certified in total is `A1` (HCR01 `A6` means
        // modified by the payer, not "re-certified after a revision").
        let decision = evaluate(&request, index, &coverage, &rule_set);
        request.decisions.push(decision);
    }
    for index in 0..request.lines.len() {
        settle(&mut request, index, Some(&previous));
    }
    step(&request, "revised");
    finish(&request);
    Ok(request.decisions)
}

/// The body of [`CoverageContract::request_extension`](crate::CoverageContract::request_extension).
pub(crate) fn request_extension(
    trace: String,
    days: u32,
) -> Result<Vec<LineDecision>, CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    acting_requester(&request)?;
    if request.status != RequestStatus::Decided || request.extended || days == 0 {
        return Err(CoverageError::WrongStatus);
    }
    let version = request.decisions[0].rule_set;
    let rule_set = RULE_SETS
        .get(&(request.payer, version))
        .ok_or(CoverageError::NoRules)?;
    let now = block_timestamp_ms();
    let mut extended_any = false;
    let mut pended = Vec::new();
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
        if days > rule.authorised_days {
            // Beyond the rule's window the rules would refuse: an adverse decision, so it is
            // pended to a clinician, never automated (42 CFR 438.210(b)(3)).
            pended.push(index as u16);
            continue;
        }
        let mut next = current.clone();
        next.decided_by = DecidedBy::Auto;
        next.decided_ms = now;
        next.action = ActionCode::A1;
        next.reason = None;
        if let Some(period) = next.period.as_mut() {
            period.end_ms = period.end_ms.saturating_add(u64::from(days) * DAY_MS);
        }
        emit_decided(&request, index, &next);
        request.history.push((index as u16, current));
        request.decisions[index] = next;
    }
    if !extended_any {
        return Err(CoverageError::WrongStatus);
    }
    request.extended = true;
    request.certification_type = CertificationType::Extension;
    let pends = !pended.is_empty();
    if pends {
        request.pending_extension = Some(PendedExtension {
            days,
            lines: pended,
            reason: reason_for(&rule_set, Edit::Extension),
            suggested: Suggestion {
                action: ActionCode::A3,
                quantity: 0,
                reviewer_role: ADVERSE_REVIEWER_ROLE,
            },
            requested_ms: now,
        });
    }
    REQUESTS.insert(&trace, &request);
    step(
        &request,
        if pends {
            "extension-pended"
        } else {
            "extension"
        },
    );
    Ok(request.decisions)
}

/// The body of [`CoverageContract::decide_extension`](crate::CoverageContract::decide_extension).
pub(crate) fn decide_extension(
    trace: String,
    grant: bool,
    reason: Option<Reason>,
) -> Result<Vec<LineDecision>, CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    let reviewer = authorised_reviewer(&request.payer)?;
    let pending = request
        .pending_extension
        .take()
        .ok_or(CoverageError::WrongStatus)?;
    if request.status != RequestStatus::Decided {
        return Err(CoverageError::WrongStatus);
    }
    // A refusal is adverse: a clinician's only, with a specific reason.
    if !grant {
        clinical_reviewer(&request.payer)?;
        if !specific(&reason) {
            return Err(CoverageError::ReasonRequired);
        }
    }
    let now = block_timestamp_ms();
    for index in pending.lines {
        let index = usize::from(index);
        let current = request.decisions[index].clone();
        if !certifies(&current.action) {
            continue;
        }
        let mut next = current.clone();
        next.decided_by = DecidedBy::Reviewer(reviewer);
        next.decided_ms = now;
        if grant {
            next.action = ActionCode::A1;
            next.reason = None;
            if let Some(period) = next.period.as_mut() {
                period.end_ms = period
                    .end_ms
                    .saturating_add(u64::from(pending.days) * DAY_MS);
            }
        } else {
            next.action = ActionCode::A3;
            next.reason = reason.clone();
        }
        emit_decided(&request, index, &next);
        if grant {
            request.history.push((index as u16, current));
            request.decisions[index] = next;
        } else {
            // The certification stays in force; the refusal joins the history.
            request.history.push((index as u16, next));
        }
    }
    REQUESTS.insert(&trace, &request);
    step(
        &request,
        if grant {
            "extension-granted"
        } else {
            "extension-refused"
        },
    );
    Ok(request.decisions)
}

/// The body of [`CoverageContract::cancel`](crate::CoverageContract::cancel).
pub(crate) fn cancel(trace: String) -> Result<(), CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    acting_requester(&request)?;
    if request.status == RequestStatus::Cancelled {
        return Err(CoverageError::WrongStatus);
    }
    request.pending_extension = None;
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

/// The body of [`CoverageContract::appeal`](crate::CoverageContract::appeal).
pub(crate) fn appeal(trace: String, grounds: Hash) -> Result<u64, CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    // The patient, or the requester while it is still an active provider.
    if caller() != request.beneficiary {
        acting_requester(&request)?;
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
