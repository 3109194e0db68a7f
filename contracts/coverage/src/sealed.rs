//! Sealed requests: the provider posts a skeleton (trace handle, payer, member, priority, line
//! count, commitment to the sealed submission), the clock starts and the request is listed in
//! `OPEN`; the payer's agent or a reviewer, who opened the submission off chain and ran the
//! published rules on it, posts the decision per line with two commitments
//! (docs/PRIVACY.md §5.5). No procedure, diagnosis or rule id reaches storage or an event.

use salus_sdk::prelude::*;

use crate::checks::{MAX_LINES, active_provider, authorised_reviewer, clinical_reviewer};
use crate::metrics::update_metrics;
use crate::requests::due_after;
use crate::storage::{
    COVERAGES, NEXT_LINE, OPEN, REQUESTS, RULE_SETS, SEALED, TURNAROUNDS, handle_trace,
};
use crate::types::*;

fn list(request: &SealedRequest) {
    OPEN.insert(
        &(
            request.payer,
            request.due_ms.to_be_bytes(),
            handle_trace(&request.trace_handle),
        ),
        &(),
    );
}

fn unlist(request: &SealedRequest) {
    OPEN.remove(&(
        request.payer,
        request.due_ms.to_be_bytes(),
        handle_trace(&request.trace_handle),
    ));
}

/// The body of [`CoverageContract::submit_sealed`](crate::CoverageContract::submit_sealed).
pub(crate) fn submit_sealed(
    trace_handle: Hash,
    payer: Address,
    member: Hash,
    priority: Priority,
    line_count: u32,
    submission_commitment: Hash,
) -> Result<(), CoverageError> {
    let (requester, _) = active_provider()?;
    if trace_handle == Hash([0; 32]) || submission_commitment == Hash([0; 32]) || line_count == 0 {
        return Err(CoverageError::Malformed);
    }
    if line_count as usize > MAX_LINES {
        return Err(CoverageError::TooComplex);
    }
    if SEALED.contains(&trace_handle) || REQUESTS.contains(&handle_trace(&trace_handle)) {
        return Err(CoverageError::Duplicate);
    }
    let coverage = COVERAGES
        .get(&(payer, member))
        .ok_or(CoverageError::Unknown)?;
    let now = block_timestamp_ms();
    let request = SealedRequest {
        trace_handle,
        payer,
        member,
        beneficiary: coverage.beneficiary,
        requester,
        due_ms: now.saturating_add(due_after(&priority)),
        priority,
        line_count,
        submission_commitment,
        received_ms: now,
        status: RequestStatus::Pended,
        overdue: false,
        decisions: Vec::new(),
        posts: Vec::new(),
    };
    list(&request);
    SEALED.insert(&trace_handle, &request);
    SealedSubmitted {
        payer,
        trace_handle,
        priority: request.priority.clone(),
        due_ms: request.due_ms,
    }
    .emit();
    Ok(())
}

/// Checks one posted line against the rule set's reason table and the action's shape.
fn check_line(line: &PostedLine, rule_set: &RuleSet) -> Result<(), CoverageError> {
    let certifies = matches!(
        line.action,
        ActionCode::A1 | ActionCode::A2 | ActionCode::A6
    );
    let needs_reason = matches!(
        line.action,
        ActionCode::A2 | ActionCode::A3 | ActionCode::A4 | ActionCode::A6
    );
    match line.action {
        ActionCode::A1
        | ActionCode::A2
        | ActionCode::A3
        | ActionCode::A4
        | ActionCode::A6
        | ActionCode::Na => {}
        _ => return Err(CoverageError::Malformed),
    }
    if certifies != (line.quantity > 0) {
        return Err(CoverageError::Malformed);
    }
    match &line.reason {
        None if needs_reason => Err(CoverageError::ReasonRequired),
        None => Ok(()),
        Some(code) => {
            if rule_set
                .reasons
                .iter()
                .any(|entry| entry.reason.code == *code)
            {
                Ok(())
            } else {
                Err(CoverageError::UnknownReason)
            }
        }
    }
}

/// The body of [`CoverageContract::post_decision`](crate::CoverageContract::post_decision).
pub(crate) fn post_decision(
    trace_handle: Hash,
    lines: Vec<PostedLine>,
    rule_set_version: u32,
    inputs_commitment: Hash,
    outcome_commitment: Hash,
) -> Result<RequestStatus, CoverageError> {
    let mut request = SEALED.get(&trace_handle).ok_or(CoverageError::Unknown)?;
    let who = authorised_reviewer(&request.payer)?;
    // Overdue requests stay decidable; nothing here or elsewhere approves one by default.
    if request.status != RequestStatus::Pended {
        return Err(CoverageError::WrongStatus);
    }
    if lines.len() != request.line_count as usize {
        return Err(CoverageError::Malformed);
    }
    let rule_set = RULE_SETS
        .get(&(request.payer, rule_set_version))
        .ok_or(CoverageError::NoRules)?;
    let first = request.decisions.is_empty();
    // Only lines without a decision, or pended (`A4`), are decided by this post.
    let open: Vec<bool> = (0..lines.len())
        .map(|index| {
            first
                || request
                    .decisions
                    .get(index)
                    .is_some_and(|decision| decision.line.action == ActionCode::A4)
        })
        .collect();
    let mut adverse = false;
    let mut decides_any = false;
    for (line, open) in lines.iter().zip(&open) {
        if !open {
            continue;
        }
        check_line(line, &rule_set)?;
        adverse |= matches!(
            line.action,
            ActionCode::A2 | ActionCode::A3 | ActionCode::A6
        );
        decides_any |= first || line.action != ActionCode::A4;
    }
    if !decides_any {
        return Err(CoverageError::Malformed);
    }
    // An adverse decision is a clinician's only (42 CFR 438.210(b)(3), 42 CFR 422.566(d)); the
    // payer's own key (its automated agent) may only certify, pend or find none required.
    if adverse {
        clinical_reviewer(&request.payer)?;
    }
    let now = block_timestamp_ms();
    let post = request.posts.len() as u16;
    request.posts.push(DecisionPost {
        rule_set: rule_set_version,
        inputs_commitment,
        outcome_commitment,
        decided_by: who,
        decided_ms: now,
    });
    let turnaround = now.saturating_sub(request.received_ms);
    for (index, (line, open)) in lines.into_iter().zip(open).enumerate() {
        if !open {
            continue;
        }
        let action = line.action.clone();
        let decided = SealedLineDecision {
            line,
            decided_by: who,
            decided_ms: now,
            post,
        };
        if first {
            request.decisions.push(decided);
        } else {
            request.decisions[index] = decided;
        }
        count(&request, first, &action, turnaround);
    }
    unlist(&request);
    let pending = request
        .decisions
        .iter()
        .any(|decision| decision.line.action == ActionCode::A4);
    if pending {
        list(&request);
    } else {
        request.status = RequestStatus::Decided;
    }
    SEALED.insert(&trace_handle, &request);
    DecisionPosted {
        payer: request.payer,
        trace_handle,
        status: request.status.clone(),
        rule_set: rule_set_version,
    }
    .emit();
    Ok(request.status)
}

/// The plan-wide CMS-0057-F counters a newly decided line changes (no procedure code: the
/// chain does not know it; per-code metrics are the agent's periodic aggregates).
fn count(request: &SealedRequest, first: bool, action: &ActionCode, turnaround: u64) {
    let counted = !matches!(action, ActionCode::Na | ActionCode::A4);
    let pended = *action == ActionCode::A4;
    let approved = matches!(action, ActionCode::A1 | ActionCode::A2 | ActionCode::A6);
    update_metrics(&request.payer, &request.priority, "", |counts| {
        if first && *action != ActionCode::Na {
            counts.requested += 1;
        }
        if first && pended {
            counts.pended += 1;
        }
        if counted {
            counts.decided += 1;
            counts.turnaround_total_ms = counts.turnaround_total_ms.saturating_add(turnaround);
            if approved {
                counts.approved += 1;
            }
            if *action == ActionCode::A3 {
                counts.denied += 1;
            }
        }
    });
    if counted {
        let sequence = NEXT_LINE.get().unwrap_or(0);
        NEXT_LINE.set(&(sequence + 1));
        TURNAROUNDS.insert(
            &(
                request.payer,
                request.priority.clone(),
                String::new(),
                turnaround.to_be_bytes(),
                sequence,
            ),
            &(),
        );
    }
}

/// `mark_overdue` for a sealed request named by the hex of its handle: `Overdue` once, the
/// request stays undecided.
pub(crate) fn mark_overdue(handle: Hash) -> Result<(), CoverageError> {
    let mut request = SEALED.get(&handle).ok_or(CoverageError::Unknown)?;
    if request.status != RequestStatus::Pended
        || request.overdue
        || block_timestamp_ms() <= request.due_ms
    {
        return Err(CoverageError::NotOverdue);
    }
    request.overdue = true;
    SEALED.insert(&handle, &request);
    update_metrics(&request.payer, &request.priority, "", |counts| {
        counts.overdue += 1
    });
    Overdue {
        payer: request.payer,
        trace: handle_trace(&handle),
        due_ms: request.due_ms,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::sealed_request`](crate::CoverageContract::sealed_request).
pub(crate) fn sealed_request(trace_handle: Hash) -> Result<Option<SealedRequest>, CoverageError> {
    let Some(request) = SEALED.get(&trace_handle) else {
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
