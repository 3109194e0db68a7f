//! The CMS-0057-F prior-authorisation metrics: plan-wide counters per payer and priority,
//! updated by each posted decision, with the median turnaround read from an ordered index; and
//! the per-code aggregates a payer posts for a period (`post_metrics`), so that no
//! procedure-keyed write happens in the block of one request (docs/PRIVACY.md §5.5).

use salus_sdk::prelude::*;

use crate::checks::{MAX_LINES, active_payer, check_code, check_period};
use crate::storage::{METRICS, NEXT_LINE, PERIOD_METRICS, TURNAROUNDS};
use crate::types::*;

pub(crate) fn empty_metrics() -> Metrics {
    Metrics {
        requested: 0,
        pended: 0,
        decided: 0,
        approved: 0,
        denied: 0,
        approved_after_appeal: 0,
        approved_with_extension: 0,
        overdue: 0,
        turnaround_total_ms: 0,
    }
}

pub(crate) fn update_metrics(
    payer: &Address,
    priority: &Priority,
    change: impl FnOnce(&mut Metrics),
) {
    let key = (*payer, priority.clone());
    let mut counts = METRICS.get(&key).unwrap_or_else(empty_metrics);
    change(&mut counts);
    METRICS.insert(&key, &counts);
}

/// Records a decided line's turnaround in the median's index.
pub(crate) fn record_turnaround(payer: &Address, priority: &Priority, turnaround: u64) {
    let sequence = NEXT_LINE.get().unwrap_or(0);
    NEXT_LINE.set(&(sequence + 1));
    TURNAROUNDS.insert(
        &(*payer, priority.clone(), turnaround.to_be_bytes(), sequence),
        &(),
    );
}

/// The lower median of the `count` recorded turnarounds, read in order from the index.
pub(crate) fn median_turnaround(payer: &Address, priority: &Priority, count: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    let target = (count - 1) / 2;
    let prefix = (*payer, priority.clone());
    let mut seen = 0u64;
    let mut cursor = None;
    loop {
        let (page, more) = TURNAROUNDS.page_under(&prefix, cursor.as_ref(), 64);
        for (key, ()) in &page {
            if seen == target {
                return u64::from_be_bytes(key.2);
            }
            seen += 1;
        }
        match page.last() {
            Some((key, ())) if more => cursor = Some(key.clone()),
            _ => return 0,
        }
    }
}

pub(crate) fn basis_points(part: u64, whole: u64) -> u32 {
    part.saturating_mul(10_000).checked_div(whole).unwrap_or(0) as u32
}

/// The body of [`CoverageContract::metrics`](crate::CoverageContract::metrics).
pub(crate) fn metrics(payer: Address, priority: Priority) -> MetricsReport {
    let counts = METRICS
        .get(&(payer, priority.clone()))
        .unwrap_or_else(empty_metrics);
    let median = median_turnaround(&payer, &priority, counts.decided);
    MetricsReport {
        approved_bps: basis_points(counts.approved, counts.decided),
        denied_bps: basis_points(counts.denied, counts.decided),
        approved_after_appeal_bps: basis_points(counts.approved_after_appeal, counts.denied),
        approved_with_extension_bps: basis_points(counts.approved_with_extension, counts.decided),
        average_turnaround_ms: counts
            .turnaround_total_ms
            .checked_div(counts.decided)
            .unwrap_or(0),
        median_turnaround_ms: median,
        counts,
    }
}

/// Most per-code entries in one `post_metrics`.
pub(crate) const MAX_AGGREGATES: usize = 4 * MAX_LINES;

/// The body of [`CoverageContract::post_metrics`](crate::CoverageContract::post_metrics).
pub(crate) fn post_metrics(
    period: Period,
    aggregates: Vec<CodeMetrics>,
    decisions_commitment: Hash,
) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    check_period(&period)?;
    if period.end_ms > block_timestamp_ms() {
        // Aggregates of a period still running would be rewritten request by request.
        return Err(CoverageError::InvalidPeriod);
    }
    if aggregates.len() > MAX_AGGREGATES {
        return Err(CoverageError::TooComplex);
    }
    for (position, entry) in aggregates.iter().enumerate() {
        check_code(&entry.service_code)?;
        if entry.service_code.is_empty() {
            return Err(CoverageError::Malformed);
        }
        if aggregates[..position].iter().any(|earlier| {
            earlier.service_code == entry.service_code && earlier.priority == entry.priority
        }) {
            return Err(CoverageError::Duplicate);
        }
    }
    let key = (payer, period.start_ms.to_be_bytes());
    if PERIOD_METRICS.contains(&key) {
        return Err(CoverageError::Duplicate);
    }
    let count = aggregates.len() as u32;
    PERIOD_METRICS.insert(
        &key,
        &MetricsPost {
            period: period.clone(),
            aggregates,
            decisions_commitment,
            posted_by: payer,
            posted_ms: block_timestamp_ms(),
        },
    );
    MetricsPosted {
        payer,
        period_start_ms: period.start_ms,
        aggregates: count,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::period_metrics`](crate::CoverageContract::period_metrics).
pub(crate) fn period_metrics(payer: Address, period_start_ms: u64) -> Option<MetricsPost> {
    PERIOD_METRICS.get(&(payer, period_start_ms.to_be_bytes()))
}
