//! Preauthorization requests (X12 278): submission, documentation, the CMS-0057-F due times
//! and their index, overdue marking, and the request's record and events — with what each new
//! line decision settles (units reserved, metrics, the `Decided` event), whoever decided it.

use salus_sdk::prelude::*;

use crate::checks::{
    MAX_CODES, acting_requester, active_provider, authorised_reviewer, check_code, check_codes,
    check_lines, provider_npi,
};
use crate::evaluation::evaluate;
use crate::metrics::{metric_codes, update_metrics};
use crate::rules::rules_for;
use crate::storage::{COVERAGES, NEXT_LINE, OPEN, REQUESTS, SEALED, TURNAROUNDS, parse_handle};
use crate::types::*;
use crate::units::{certifies, reserve};

/// CMS-0057-F: expedited requests are decided within 72 hours…
pub(crate) const EXPEDITED_DUE_MS: u64 = 72 * HOUR_MS;
/// …and standard requests within 7 calendar days.
pub(crate) const STANDARD_DUE_MS: u64 = 7 * DAY_MS;
/// CMS-0057-F lets a payer extend a standard review once, by up to 14 days.
pub(crate) const REVIEW_EXTENSION_MS: u64 = 14 * DAY_MS;
/// Most entries a listing returns.
pub(crate) const MAX_PAGE: u32 = 100;

/// Stores the request, with its status from its decisions, and keeps the due-time index.
pub(crate) fn finish(request: &Request) {
    let mut request = request.clone();
    unlist(&request);
    let pending = request
        .decisions
        .iter()
        .any(|decision| decision.action == ActionCode::A4);
    request.status = match (pending, &request.status) {
        (true, RequestStatus::InformationReceived) => RequestStatus::InformationReceived,
        (true, _) => RequestStatus::Pended,
        (false, _) => RequestStatus::Decided,
    };
    if pending {
        list(&request);
    }
    REQUESTS.insert(&request.trace, &request);
}

pub(crate) fn list(request: &Request) {
    OPEN.insert(
        &(
            request.payer,
            request.due_ms.to_be_bytes(),
            request.trace.clone(),
        ),
        &(),
    );
}

pub(crate) fn unlist(request: &Request) {
    OPEN.remove(&(
        request.payer,
        request.due_ms.to_be_bytes(),
        request.trace.clone(),
    ));
}

pub(crate) fn emit_decided(request: &Request, index: usize, decision: &LineDecision) {
    Decided {
        payer: request.payer,
        beneficiary: request.beneficiary,
        trace: request.trace.clone(),
        line: index as u16,
        action: decision.action.clone(),
        reason: decision.reason.as_ref().map(|reason| reason.code.clone()),
        rule_ids: decision.rule_ids.clone(),
        rule_set: decision.rule_set,
    }
    .emit();
}

pub(crate) fn step(request: &Request, step: &str) {
    RequestStep {
        payer: request.payer,
        trace: request.trace.clone(),
        step: String::from(step),
    }
    .emit();
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

/// Pended (`A4` lines waiting), with or without the information asked for.
pub(crate) fn undecided_and_pended(request: &Request) -> bool {
    matches!(
        request.status,
        RequestStatus::Pended | RequestStatus::InformationReceived
    )
}

pub(crate) fn due_after(priority: &Priority) -> u64 {
    match priority {
        Priority::Expedited => EXPEDITED_DUE_MS,
        Priority::Standard => STANDARD_DUE_MS,
    }
}

/// The body of [`CoverageContract::submit`](crate::CoverageContract::submit).
pub(crate) fn submit(submission: Submission) -> Result<Vec<LineDecision>, CoverageError> {
    let Submission {
        trace,
        payer,
        member,
        servicing_npi,
        servicing_provider,
        category,
        lines,
        diagnoses,
        priority,
        attachments,
        birth_year,
        sex,
    } = submission;
    let (requester, requester_npi) = active_provider()?;
    check_code(&trace)?;
    check_code(&servicing_npi)?;
    // The servicing NPI is the one the registry attests, never taken on trust: the
    // requester's own, or on a referral (X12 278 requester and servicing provider, Da Vinci
    // PAS) that of the servicing provider it names, an active provider.
    let servicing_provider = servicing_provider.unwrap_or(requester);
    if servicing_provider == requester {
        if requester_npi != servicing_npi {
            return Err(CoverageError::NotAuthorised);
        }
    } else if provider_npi(&servicing_provider)?.as_deref() != Some(servicing_npi.as_str()) {
        return Err(CoverageError::UnknownServicingProvider);
    }
    check_lines(&lines)?;
    check_codes(&diagnoses)?;
    check_code(&sex)?;
    if attachments.len() > MAX_CODES || trace.is_empty() {
        return Err(CoverageError::TooComplex);
    }
    // A 64-hex trace may name a sealed request's listing (`OPEN`, `mark_overdue`).
    if REQUESTS.contains(&trace) || parse_handle(&trace).is_some_and(|h| SEALED.contains(&h)) {
        return Err(CoverageError::Duplicate);
    }
    let coverage = COVERAGES
        .get(&(payer, member))
        .ok_or(CoverageError::Unknown)?;
    let now = block_timestamp_ms();
    let rule_set = rules_for(&payer, lines[0].from_ms)?;
    let mut request = Request {
        trace,
        payer,
        member,
        beneficiary: coverage.beneficiary,
        requester,
        servicing_npi,
        servicing_provider,
        category,
        certification_type: CertificationType::Initial,
        lines,
        diagnoses,
        due_ms: now.saturating_add(due_after(&priority)),
        priority,
        attachments,
        birth_year,
        sex,
        received_ms: now,
        status: RequestStatus::Pended,
        decisions: Vec::new(),
        history: Vec::new(),
        review_extended: false,
        overdue: false,
        appeal_grounds: None,
        appeal: None,
        extended: false,
        line_sequences: Vec::new(),
        pending_extension: None,
    };
    for index in 0..request.lines.len() {
        let decision = evaluate(&request, index, &coverage, &rule_set);
        let sequence = NEXT_LINE.get().unwrap_or(0);
        NEXT_LINE.set(&(sequence + 1));
        request.line_sequences.push(sequence);
        if decision.action != ActionCode::Na {
            let pended = decision.action == ActionCode::A4;
            for code in metric_codes(&request.lines[index].procedure) {
                update_metrics(&payer, &request.priority, &code, |counts| {
                    counts.requested += 1;
                    if pended {
                        counts.pended += 1;
                    }
                });
            }
        }
        request.decisions.push(decision);
    }
    for index in 0..request.lines.len() {
        settle(&mut request, index, None);
    }
    step(&request, "submitted");
    finish(&request);
    Ok(request.decisions)
}

/// The body of [`CoverageContract::add_documentation`](crate::CoverageContract::add_documentation).
pub(crate) fn add_documentation(
    trace: String,
    attachment: Attachment,
) -> Result<(), CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    acting_requester(&request)?;
    if !matches!(
        request.status,
        RequestStatus::Pended | RequestStatus::InformationReceived | RequestStatus::Appealed
    ) {
        return Err(CoverageError::WrongStatus);
    }
    if request.attachments.len() >= MAX_CODES {
        return Err(CoverageError::TooComplex);
    }
    request.attachments.push(attachment);
    if request.status == RequestStatus::Pended {
        request.status = RequestStatus::InformationReceived;
    }
    REQUESTS.insert(&trace, &request);
    step(&request, "documentation");
    Ok(())
}

/// The body of [`CoverageContract::extend_review`](crate::CoverageContract::extend_review).
pub(crate) fn extend_review(trace: String) -> Result<u64, CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    authorised_reviewer(&request.payer)?;
    if !undecided_and_pended(&request)
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
    REQUESTS.insert(&trace, &request);
    step(&request, "review-extended");
    Ok(request.due_ms)
}

/// The body of [`CoverageContract::mark_overdue`](crate::CoverageContract::mark_overdue).
pub(crate) fn mark_overdue(trace: String) -> Result<(), CoverageError> {
    let mut request = REQUESTS.get(&trace).ok_or(CoverageError::Unknown)?;
    let undecided = undecided_and_pended(&request) || request.status == RequestStatus::Appealed;
    if !undecided || request.overdue || block_timestamp_ms() <= request.due_ms {
        return Err(CoverageError::NotOverdue);
    }
    request.overdue = true;
    REQUESTS.insert(&trace, &request);
    for code in metric_codes(&request.lines[0].procedure) {
        update_metrics(&request.payer, &request.priority, &code, |counts| {
            counts.overdue += 1
        });
    }
    Overdue {
        payer: request.payer,
        trace,
        due_ms: request.due_ms,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::request`](crate::CoverageContract::request).
pub(crate) fn request(trace: String) -> Result<Option<Request>, CoverageError> {
    let Some(request) = REQUESTS.get(&trace) else {
        return Ok(None);
    };
    let who = caller();
    if who != request.requester
        && who != request.servicing_provider
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
) -> Result<Vec<(String, u64)>, CoverageError> {
    authorised_reviewer(&payer)?;
    let horizon = block_timestamp_ms().saturating_add(hours.saturating_mul(HOUR_MS));
    let (page, _) = OPEN.page_under(&payer, None, limit.min(MAX_PAGE) as usize);
    Ok(page
        .into_iter()
        .map(|((_, due, trace), ())| (trace, u64::from_be_bytes(due)))
        .take_while(|(_, due)| *due <= horizon)
        .collect())
}
