//! The CMS-0057-F prior-authorisation metrics: counters per payer, priority and procedure code,
//! and the median turnaround read from an ordered index.

use salus_sdk::prelude::*;

use crate::storage::{METRICS, TURNAROUNDS};
use crate::types::*;

/// The metric keys a line counts under: its procedure code and plan-wide ("").
pub(crate) fn metric_codes(procedure: &str) -> [String; 2] {
    [String::from(procedure), String::new()]
}

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
    code: &str,
    change: impl FnOnce(&mut Metrics),
) {
    let key = (*payer, priority.clone(), String::from(code));
    let mut counts = METRICS.get(&key).unwrap_or_else(empty_metrics);
    change(&mut counts);
    METRICS.insert(&key, &counts);
}

/// The lower median of the `count` recorded turnarounds, read in order from the index.
pub(crate) fn median_turnaround(
    payer: &Address,
    priority: &Priority,
    code: &str,
    count: u64,
) -> u64 {
    if count == 0 {
        return 0;
    }
    let target = (count - 1) / 2;
    let prefix = (*payer, priority.clone(), String::from(code));
    let mut seen = 0u64;
    let mut cursor = None;
    loop {
        let (page, more) = TURNAROUNDS.page_under(&prefix, cursor.as_ref(), 64);
        for (key, ()) in &page {
            if seen == target {
                return u64::from_be_bytes(key.3);
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
pub(crate) fn metrics(
    payer: Address,
    priority: Priority,
    service_code: Option<String>,
) -> MetricsReport {
    let code = service_code.unwrap_or_default();
    let counts = METRICS
        .get(&(payer, priority.clone(), code.clone()))
        .unwrap_or_else(empty_metrics);
    let median = median_turnaround(&payer, &priority, &code, counts.decided);
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
