//! Preauthorization requests (X12 278), sealed: the provider posts a skeleton (trace handle,
//! payer, member, priority, line count, commitment to the sealed submission), the clock starts
//! and the request is listed in `OPEN`; the payer's agent or a reviewer, who opened the
//! submission off chain and ran the published rules on it, posts the decision per line with two
//! commitments. What follows — documentation, review extension, overdue, revision, extension of
//! the window, cancellation, appeal — works on the same skeleton, by handle (docs/PRIVACY.md
//! §5.5). No procedure, diagnosis, date of service or rule id reaches storage or an event.

use salus_sdk::prelude::*;

use crate::checks::{
    MAX_ENTRIES, acting_requester, active_provider, authorised_reviewer, check_line_count,
    check_nonzero, clinical_reviewer,
};
use crate::metrics::{record_turnaround, update_metrics};
use crate::rules::{check_reason, rule_set};
use crate::storage::{COVERAGES, OPEN, SEALED};
use crate::types::*;

/// CMS-0057-F: expedited requests are decided within 72 hours…
pub(crate) const EXPEDITED_DUE_MS: u64 = 72 * HOUR_MS;
/// …and standard requests within 7 calendar days.
pub(crate) const STANDARD_DUE_MS: u64 = 7 * DAY_MS;
/// CMS-0057-F lets a payer extend a standard review once, by up to 14 days.
pub(crate) const REVIEW_EXTENSION_MS: u64 = 14 * DAY_MS;
/// Most entries a listing returns.
pub(crate) const MAX_PAGE: u32 = 100;

pub(crate) fn due_after(priority: &Priority) -> u64 {
    match priority {
        Priority::Expedited => EXPEDITED_DUE_MS,
        Priority::Standard => STANDARD_DUE_MS,
    }
}

/// Whether a decision certifies units.
pub(crate) fn certifies(action: &ActionCode) -> bool {
    matches!(action, ActionCode::A1 | ActionCode::A2 | ActionCode::A6)
}

fn list(request: &SealedRequest) {
    OPEN.insert(
        &(
            request.payer,
            request.due_ms.to_be_bytes(),
            request.trace_handle,
        ),
        &(),
    );
}

fn unlist(request: &SealedRequest) {
    OPEN.remove(&(
        request.payer,
        request.due_ms.to_be_bytes(),
        request.trace_handle,
    ));
}

fn step(request: &SealedRequest, step: &str) {
    RequestStep {
        payer: request.payer,
        trace_handle: request.trace_handle,
        step: String::from(step),
    }
    .emit();
}

fn load(trace_handle: &Hash) -> Result<SealedRequest, CoverageError> {
    SEALED.get(trace_handle).ok_or(CoverageError::Unknown)
}

/// Pended (lines waiting for the agent or a reviewer), with or without documentation since.
fn undecided(request: &SealedRequest) -> bool {
    matches!(
        request.status,
        RequestStatus::Pended | RequestStatus::InformationReceived
    )
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
    check_nonzero(&trace_handle)?;
    check_nonzero(&submission_commitment)?;
    check_line_count(line_count)?;
    if SEALED.contains(&trace_handle) {
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
        revisions: Vec::new(),
        documentation: Vec::new(),
        received_ms: now,
        status: RequestStatus::Pended,
        review_extended: false,
        overdue: false,
        decisions: Vec::new(),
        history: Vec::new(),
        posts: Vec::new(),
        extension: None,
        appeal: None,
    };
    list(&request);
    SEALED.insert(&trace_handle, &request);
    submitted(&request);
    Ok(())
}

fn submitted(request: &SealedRequest) {
    SealedSubmitted {
        payer: request.payer,
        trace_handle: request.trace_handle,
        priority: request.priority.clone(),
        due_ms: request.due_ms,
    }
    .emit();
}

/// Checks one posted line against the rule set's reason table and the action's shape.
fn check_line(line: &PostedLine, rule_set: &RuleSet) -> Result<(), CoverageError> {
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
    if certifies(&line.action) != (line.quantity > 0) {
        return Err(CoverageError::Malformed);
    }
    match &line.reason {
        None if needs_reason => Err(CoverageError::ReasonRequired),
        None => Ok(()),
        Some(code) => check_reason(rule_set, code),
    }
}

fn adverse(action: &ActionCode) -> bool {
    matches!(action, ActionCode::A2 | ActionCode::A3 | ActionCode::A6)
}

fn new_post(
    request: &mut SealedRequest,
    rule_set: u32,
    (inputs_commitment, outcome_commitment): (Hash, Hash),
    who: Address,
    now: u64,
) -> u16 {
    let post = request.posts.len() as u16;
    request.posts.push(DecisionPost {
        rule_set,
        inputs_commitment,
        outcome_commitment,
        decided_by: who,
        decided_ms: now,
    });
    post
}

/// The body of [`CoverageContract::post_decision`](crate::CoverageContract::post_decision).
pub(crate) fn post_decision(
    trace_handle: Hash,
    lines: Vec<PostedLine>,
    rule_set_version: u32,
    inputs_commitment: Hash,
    outcome_commitment: Hash,
) -> Result<RequestStatus, CoverageError> {
    let mut request = load(&trace_handle)?;
    let who = authorised_reviewer(&request.payer)?;
    // Overdue requests stay decidable; nothing here or elsewhere approves one by default.
    if !undecided(&request) {
        return Err(CoverageError::WrongStatus);
    }
    if lines.len() != request.line_count as usize {
        return Err(CoverageError::Malformed);
    }
    let rule_set = rule_set(&request.payer, rule_set_version)?;
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
    let mut any_adverse = false;
    let mut decides_any = false;
    for (line, open) in lines.iter().zip(&open) {
        if !open {
            continue;
        }
        check_line(line, &rule_set)?;
        any_adverse |= adverse(&line.action);
        decides_any |= first || line.action != ActionCode::A4;
    }
    if !decides_any {
        return Err(CoverageError::Malformed);
    }
    // An adverse decision is a clinician's only (42 CFR 438.210(b)(3), 42 CFR 422.566(d)); the
    // payer's own key (its automated agent) may only certify, pend or find none required.
    if any_adverse {
        clinical_reviewer(&request.payer)?;
    }
    let now = block_timestamp_ms();
    let post = new_post(
        &mut request,
        rule_set_version,
        (inputs_commitment, outcome_commitment),
        who,
        now,
    );
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
            post: Some(post),
        };
        // A later post decides lines still pended (never counted); a first post after a
        // revision counts only the lines the revision found undecided.
        let counted_before = first && previously_decided(&request, index);
        if first {
            request.decisions.push(decided);
        } else {
            // The pended decision it replaces stays in the trail (the agent's per-code
            // metrics count a line pended at its first decision from it).
            let pended = core::mem::replace(&mut request.decisions[index], decided);
            request.history.push((index as u16, pended));
        }
        count(&request, first, counted_before, &action, turnaround);
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

/// Whether line `index` had a decision other than pended before the latest revision (its
/// metrics are not counted again).
fn previously_decided(request: &SealedRequest, index: usize) -> bool {
    request
        .history
        .iter()
        .rev()
        .find(|(line, _)| usize::from(*line) == index)
        .is_some_and(|(_, earlier)| !matches!(earlier.line.action, ActionCode::A4 | ActionCode::Na))
}

/// The plan-wide CMS-0057-F counters a newly decided line changes (no procedure code: the
/// chain does not know it; per-code metrics are the payer's periodic aggregates).
fn count(
    request: &SealedRequest,
    first: bool,
    counted_before: bool,
    action: &ActionCode,
    turnaround: u64,
) {
    let first_submission = first && request.revisions.is_empty();
    let counted = !counted_before && !matches!(action, ActionCode::Na | ActionCode::A4);
    let pended = *action == ActionCode::A4;
    let approved = certifies(action);
    let with_extension = approved && request.review_extended;
    update_metrics(&request.payer, &request.priority, |counts| {
        if first_submission && *action != ActionCode::Na {
            counts.requested += 1;
        }
        if first_submission && pended {
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
            if with_extension {
                counts.approved_with_extension += 1;
            }
        }
    });
    if counted {
        record_turnaround(&request.payer, &request.priority, turnaround);
    }
}

/// The body of [`CoverageContract::add_documentation`](crate::CoverageContract::add_documentation).
pub(crate) fn add_documentation(
    trace_handle: Hash,
    documentation_commitment: Hash,
) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    acting_requester(&request.requester)?;
    check_nonzero(&documentation_commitment)?;
    if !undecided(&request) && request.status != RequestStatus::Appealed {
        return Err(CoverageError::WrongStatus);
    }
    if request.documentation.len() >= MAX_ENTRIES {
        return Err(CoverageError::TooComplex);
    }
    request.documentation.push(documentation_commitment);
    if request.status == RequestStatus::Pended {
        request.status = RequestStatus::InformationReceived;
    }
    SEALED.insert(&trace_handle, &request);
    // The payer's agent re-evaluates the pended lines with the documentation delivered.
    step(&request, "documentation");
    Ok(())
}

/// The body of [`CoverageContract::extend_review`](crate::CoverageContract::extend_review).
pub(crate) fn extend_review(trace_handle: Hash) -> Result<u64, CoverageError> {
    let mut request = load(&trace_handle)?;
    authorised_reviewer(&request.payer)?;
    if !undecided(&request)
        || request.review_extended
        || request.priority != Priority::Standard
        || block_timestamp_ms() >= request.due_ms
    {
        return Err(CoverageError::WrongStatus);
    }
    unlist(&request);
    request.due_ms = request.due_ms.saturating_add(REVIEW_EXTENSION_MS);
    request.review_extended = true;
    list(&request);
    SEALED.insert(&trace_handle, &request);
    step(&request, "review-extended");
    Ok(request.due_ms)
}

/// The body of [`CoverageContract::mark_overdue`](crate::CoverageContract::mark_overdue).
pub(crate) fn mark_overdue(trace_handle: Hash) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    let waiting = undecided(&request) || request.status == RequestStatus::Appealed;
    if !waiting || request.overdue || block_timestamp_ms() <= request.due_ms {
        return Err(CoverageError::NotOverdue);
    }
    request.overdue = true;
    SEALED.insert(&trace_handle, &request);
    update_metrics(&request.payer, &request.priority, |counts| {
        counts.overdue += 1
    });
    Overdue {
        payer: request.payer,
        trace_handle,
        due_ms: request.due_ms,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::revise`](crate::CoverageContract::revise).
pub(crate) fn revise(
    trace_handle: Hash,
    new_submission_commitment: Hash,
    line_count: u32,
) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    acting_requester(&request.requester)?;
    if !undecided(&request) && request.status != RequestStatus::Decided {
        return Err(CoverageError::WrongStatus);
    }
    check_nonzero(&new_submission_commitment)?;
    check_line_count(line_count)?;
    if new_submission_commitment == request.submission_commitment
        || request.revisions.contains(&new_submission_commitment)
    {
        return Err(CoverageError::Duplicate);
    }
    if request.revisions.len() >= MAX_ENTRIES {
        return Err(CoverageError::TooComplex);
    }
    unlist(&request);
    let previous = core::mem::take(&mut request.decisions);
    for (index, decision) in previous.into_iter().enumerate() {
        request.history.push((index as u16, decision));
    }
    let earlier = core::mem::replace(
        &mut request.submission_commitment,
        new_submission_commitment,
    );
    request.revisions.push(earlier);
    request.line_count = line_count;
    request.status = RequestStatus::Pended;
    request.extension = None;
    list(&request);
    SEALED.insert(&trace_handle, &request);
    // Announced as a submission again: the payer's agent decides the revised lines afresh.
    submitted(&request);
    step(&request, "revised");
    Ok(())
}

/// The body of [`CoverageContract::request_extension`](crate::CoverageContract::request_extension).
pub(crate) fn request_extension(trace_handle: Hash, days: u32) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    acting_requester(&request.requester)?;
    let certified = request
        .decisions
        .iter()
        .any(|decision| certifies(&decision.line.action));
    if request.status != RequestStatus::Decided
        || request.extension.is_some()
        || days == 0
        || !certified
    {
        return Err(CoverageError::WrongStatus);
    }
    request.extension = Some(Extension {
        days,
        requested_ms: block_timestamp_ms(),
        granted: None,
        reason: None,
        post: None,
    });
    SEALED.insert(&trace_handle, &request);
    step(&request, "extension");
    Ok(())
}

/// The body of [`CoverageContract::decide_extension`](crate::CoverageContract::decide_extension).
pub(crate) fn decide_extension(
    trace_handle: Hash,
    grant: bool,
    reason: Option<String>,
    rule_set_version: u32,
    outcome_commitment: Hash,
) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    let who = authorised_reviewer(&request.payer)?;
    let pending = request
        .extension
        .as_ref()
        .is_some_and(|extension| extension.granted.is_none());
    if !pending || request.status != RequestStatus::Decided {
        return Err(CoverageError::WrongStatus);
    }
    let rule_set = rule_set(&request.payer, rule_set_version)?;
    // A refusal is adverse: a clinician's only, with a reason from the rule set.
    if !grant {
        clinical_reviewer(&request.payer)?;
        match &reason {
            Some(code) => check_reason(&rule_set, code)?,
            None => return Err(CoverageError::ReasonRequired),
        }
    } else if let Some(code) = &reason {
        check_reason(&rule_set, code)?;
    }
    let now = block_timestamp_ms();
    let inputs = request.submission_commitment;
    let post = new_post(
        &mut request,
        rule_set_version,
        (inputs, outcome_commitment),
        who,
        now,
    );
    if let Some(extension) = request.extension.as_mut() {
        extension.granted = Some(grant);
        extension.reason = reason;
        extension.post = Some(post);
    }
    SEALED.insert(&trace_handle, &request);
    step(
        &request,
        if grant {
            "extension-granted"
        } else {
            "extension-refused"
        },
    );
    Ok(())
}

/// The body of [`CoverageContract::cancel`](crate::CoverageContract::cancel).
pub(crate) fn cancel(trace_handle: Hash) -> Result<(), CoverageError> {
    let mut request = load(&trace_handle)?;
    let requester = acting_requester(&request.requester)?;
    if request.status == RequestStatus::Cancelled {
        return Err(CoverageError::WrongStatus);
    }
    unlist(&request);
    let now = block_timestamp_ms();
    let cancelled = SealedLineDecision {
        line: PostedLine {
            action: ActionCode::C,
            reason: None,
            quantity: 0,
        },
        decided_by: requester,
        decided_ms: now,
        post: None,
    };
    let previous = core::mem::take(&mut request.decisions);
    for (index, decision) in previous.into_iter().enumerate() {
        request.history.push((index as u16, decision));
    }
    request.decisions = (0..request.line_count).map(|_| cancelled.clone()).collect();
    request.status = RequestStatus::Cancelled;
    if let Some(extension) = request.extension.as_mut()
        && extension.granted.is_none()
    {
        request.extension = None;
    }
    SEALED.insert(&trace_handle, &request);
    // The payer returns the certified, unclaimed units to the benefit in its records.
    step(&request, "cancelled");
    Ok(())
}

/// The body of [`CoverageContract::appeal`](crate::CoverageContract::appeal).
pub(crate) fn appeal(trace_handle: Hash, grounds_commitment: Hash) -> Result<u64, CoverageError> {
    let mut request = load(&trace_handle)?;
    // The patient, or the requester while it is still an active provider.
    if caller() != request.beneficiary {
        acting_requester(&request.requester)?;
    }
    check_nonzero(&grounds_commitment)?;
    let appealed: Vec<u16> = request
        .decisions
        .iter()
        .enumerate()
        .filter(|(_, decision)| matches!(decision.line.action, ActionCode::A2 | ActionCode::A3))
        .map(|(index, _)| index as u16)
        .collect();
    if request.status != RequestStatus::Decided || appealed.is_empty() || request.appeal.is_some() {
        return Err(CoverageError::WrongStatus);
    }
    let mut deciders: Vec<Address> = Vec::new();
    for index in &appealed {
        let who = request.decisions[usize::from(*index)].decided_by;
        if !deciders.contains(&who) {
            deciders.push(who);
        }
    }
    request.appeal = Some(Appeal {
        grounds_commitment,
        lines: appealed,
        deciders,
        outcome: None,
    });
    request.status = RequestStatus::Appealed;
    request.due_ms = block_timestamp_ms().saturating_add(due_after(&request.priority));
    request.overdue = false;
    list(&request);
    SEALED.insert(&trace_handle, &request);
    step(&request, "appealed");
    Ok(request.due_ms)
}

/// The body of [`CoverageContract::decide_appeal`](crate::CoverageContract::decide_appeal).
pub(crate) fn decide_appeal(
    trace_handle: Hash,
    outcome: AppealOutcome,
    reason: Option<String>,
    lines: Vec<PostedLine>,
    rule_set_version: u32,
    commitments: (Hash, Hash),
) -> Result<RequestStatus, CoverageError> {
    let mut request = load(&trace_handle)?;
    let who = authorised_reviewer(&request.payer)?;
    if request.status != RequestStatus::Appealed {
        return Err(CoverageError::WrongStatus);
    }
    let Some(appeal) = request.appeal.clone() else {
        return Err(CoverageError::WrongStatus);
    };
    // Nobody who made a decision appealed decides the appeal (42 CFR 422.590(h)(2)).
    if appeal.deciders.contains(&who) {
        return Err(CoverageError::NotAuthorised);
    }
    let rule_set = rule_set(&request.payer, rule_set_version)?;
    let overturned = outcome == AppealOutcome::Overturned;
    if overturned {
        if lines.len() != request.line_count as usize {
            return Err(CoverageError::Malformed);
        }
        let mut any_adverse = false;
        for index in &appeal.lines {
            let line = &lines[usize::from(*index)];
            if !certifies(&line.action) {
                return Err(CoverageError::Malformed);
            }
            check_line(line, &rule_set)?;
            any_adverse |= adverse(&line.action);
        }
        // Overturning in part (`A2`, `A6`) is still adverse.
        if any_adverse {
            clinical_reviewer(&request.payer)?;
        }
    } else {
        // Upholding a denial is an adverse decision: a clinician's only, with a reason.
        clinical_reviewer(&request.payer)?;
        if !lines.is_empty() {
            return Err(CoverageError::Malformed);
        }
        match &reason {
            Some(code) => check_reason(&rule_set, code)?,
            None => return Err(CoverageError::ReasonRequired),
        }
    }
    unlist(&request);
    let now = block_timestamp_ms();
    let post = new_post(&mut request, rule_set_version, commitments, who, now);
    for index in &appeal.lines {
        let index = usize::from(*index);
        let current = request.decisions[index].clone();
        let line = if overturned {
            lines[index].clone()
        } else {
            PostedLine {
                reason: reason.clone(),
                ..current.line.clone()
            }
        };
        if overturned {
            update_metrics(&request.payer, &request.priority, |counts| {
                counts.approved_after_appeal += 1
            });
        }
        request.history.push((index as u16, current));
        request.decisions[index] = SealedLineDecision {
            line,
            decided_by: who,
            decided_ms: now,
            post: Some(post),
        };
    }
    request.status = RequestStatus::Decided;
    if let Some(appeal) = request.appeal.as_mut() {
        appeal.outcome = Some(outcome);
    }
    SEALED.insert(&trace_handle, &request);
    step(
        &request,
        if overturned {
            "appeal-overturned"
        } else {
            "appeal-upheld"
        },
    );
    Ok(request.status)
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

/// The body of [`CoverageContract::due_within`](crate::CoverageContract::due_within).
pub(crate) fn due_within(
    payer: Address,
    hours: u64,
    limit: u32,
) -> Result<Vec<(Hash, u64)>, CoverageError> {
    authorised_reviewer(&payer)?;
    let horizon = block_timestamp_ms().saturating_add(hours.saturating_mul(HOUR_MS));
    let (page, _) = OPEN.page_under(&payer, None, limit.min(MAX_PAGE) as usize);
    Ok(page
        .into_iter()
        .map(|((_, due, handle), ())| (handle, u64::from_be_bytes(due)))
        .take_while(|(_, due)| *due <= horizon)
        .collect())
}
