//! Per-code prior-authorisation metrics for a finished period (docs/PRIVACY.md §5.5): the
//! plan-wide counters per priority stay on chain, updated by each post; per procedure code the
//! payer posts `post_metrics(period, aggregates, decisions_commitment)` once the period has
//! ended, so that no procedure-keyed write happens in the block of one request. `salus agent
//! payer --metrics-period P` does it after each pass for the last period that has ended and has
//! no post yet.
//!
//! What is counted, per (procedure code, priority), from every request addressed to the payer
//! (its `SealedSubmitted` events) whose submission the agent holds (the procedure codes are
//! only in the sealed submissions): for each line, its current decision
//!
//! - `requested` (and `pended` if it was ever pended) when the request was received in the
//!   period (a revision's lines count once: the line, not each submission);
//! - `decided` when its decision (neither `A4` nor `NA`) was made in the period, with its
//!   turnaround (decision time − receipt time), `approved` for `A1`, `A2`, `A6`, `denied` for
//!   `A3`, `approved_with_extension` when approved after the review was extended, and
//!   `approved_after_appeal` when an appeal overturned it;
//! - `overdue` when the request was marked overdue and was due in the period.
//!
//! The median turnaround is the lower median of the turnarounds decided in the period, as the
//! contract's plan-wide median is.
//!
//! `decisions_commitment` commits to the list of line decisions counted
//! ([`CountedDecision`], in trace handle and line order): `commit_value(METRICS_DECISIONS,
//! salt, &list)`, commitment kind `0x26` (SCALE of the list, as every commitment of
//! `salus_client::seal`). The list and its salt are written to the inbox as
//! `metrics-<period start ms>.json`, for an auditor the payer shows them to: recounting the
//! list gives the aggregates posted, and the list opens the commitment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coverage::{
    ActionCode, AppealOutcome, CodeMetrics, Metrics, MetricsPost, Period, Priority, SealedRequest,
};
use parity_scale_codec::Encode;
use salus_client::seal::{CommitmentKind, CommitmentSalt, commit_value};
use salus_primitives::Hash;
use serde::{Deserialize, Serialize};

use super::AgentError;
use super::chain::{CoverageChain, every_page};
use super::pass::AgentOptions;
use super::run::check_submission;
use super::submission::{inbox_file, open_delivery};
use crate::gateway::reply_secret;

/// Commitment kind of the decisions a `post_metrics` counted.
pub const METRICS_DECISIONS: CommitmentKind = CommitmentKind(0x26);

fn zero() -> Metrics {
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

/// How the agent cuts time into metrics periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsPeriod {
    /// Calendar months (UTC), as CMS-0057-F reports them.
    Month,
    /// Fixed periods of this many milliseconds from the Unix epoch (days, or short periods on a
    /// dev chain).
    Millis(u64),
}

impl std::str::FromStr for MetricsPeriod {
    type Err = String;

    /// `month`, `day`, or a length in milliseconds (`60000ms` or `60000`).
    fn from_str(text: &str) -> Result<MetricsPeriod, String> {
        match text {
            "month" => Ok(MetricsPeriod::Month),
            "day" => Ok(MetricsPeriod::Millis(24 * 60 * 60 * 1000)),
            other => other
                .trim_end_matches("ms")
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(MetricsPeriod::Millis)
                .ok_or_else(|| format!("{other}: `month`, `day` or a length in ms")),
        }
    }
}

/// Days from 1970-01-01 to the first day of `month` (1–12) of `year` (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The (year, month) that day `days` since 1970-01-01 falls in.
fn civil_month(days: i64) -> (i64, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

impl MetricsPeriod {
    /// The period holding `ms`.
    pub fn containing(self, ms: u64) -> Period {
        match self {
            MetricsPeriod::Millis(length) => {
                let start_ms = ms / length * length;
                Period {
                    start_ms,
                    end_ms: start_ms + length,
                }
            }
            MetricsPeriod::Month => {
                let (year, month) = civil_month((ms / DAY_MS) as i64);
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                Period {
                    start_ms: days_from_civil(year, month) as u64 * DAY_MS,
                    end_ms: days_from_civil(next_year, next_month) as u64 * DAY_MS,
                }
            }
        }
    }

    /// The last period that has ended by `now_ms`.
    pub fn last_ended(self, now_ms: u64) -> Period {
        let current = self.containing(now_ms);
        self.containing(current.start_ms.saturating_sub(1))
    }
}

/// Serde of a hash as its text (`0x…`).
mod text {
    use salus_primitives::Hash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|error| serde::de::Error::custom(format!("{error:?}")))
    }
}

/// One line decision a metrics post counted (what `decisions_commitment` commits to).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct CountedDecision {
    /// The request, `0x…`.
    #[serde(with = "text")]
    pub trace_handle: Hash,
    /// Its line (from 0).
    pub line: u16,
    /// The procedure code.
    pub service_code: String,
    /// `Standard` or `Expedited`.
    pub priority: String,
    /// The current action (X12 HCR01, `A1` … `A6`, `NA`).
    pub action: String,
    /// When the request was received (ms).
    pub received_ms: u64,
    /// When the line was decided (ms).
    pub decided_ms: u64,
    /// Whether it was ever pended.
    pub pended: bool,
    /// Whether the review was extended.
    pub review_extended: bool,
    /// Whether an appeal overturned it.
    pub overturned: bool,
    /// Whether the request was marked overdue.
    pub overdue: bool,
    /// When the request was due (ms).
    pub due_ms: u64,
}

fn priority_name(priority: &Priority) -> &'static str {
    match priority {
        Priority::Standard => "Standard",
        Priority::Expedited => "Expedited",
    }
}

fn action_name(action: &ActionCode) -> String {
    format!("{action:?}").to_uppercase()
}

/// The line decisions of `request` (its submission's procedure codes) that count in `period`.
pub fn counted_lines(
    request: &SealedRequest,
    procedures: &[String],
    period: &Period,
) -> Vec<CountedDecision> {
    let inside = |ms: u64| period.start_ms <= ms && ms < period.end_ms;
    let overturned = request
        .appeal
        .as_ref()
        .is_some_and(|appeal| appeal.outcome == Some(AppealOutcome::Overturned));
    let mut counted = Vec::new();
    for (index, decision) in request.decisions.iter().enumerate() {
        let Some(code) = procedures.get(index) else {
            continue;
        };
        let line = index as u16;
        let pended = decision.line.action == ActionCode::A4
            || request
                .history
                .iter()
                .any(|(at, earlier)| *at == line && earlier.line.action == ActionCode::A4);
        let entry = CountedDecision {
            trace_handle: request.trace_handle,
            line,
            service_code: code.clone(),
            priority: priority_name(&request.priority).into(),
            action: action_name(&decision.line.action),
            received_ms: request.received_ms,
            decided_ms: decision.decided_ms,
            pended,
            review_extended: request.review_extended,
            overturned: overturned
                && request
                    .appeal
                    .as_ref()
                    .is_some_and(|appeal| appeal.lines.contains(&line)),
            overdue: request.overdue,
            due_ms: request.due_ms,
        };
        let decided = !matches!(decision.line.action, ActionCode::A4 | ActionCode::Na);
        if inside(entry.received_ms)
            || (decided && inside(entry.decided_ms))
            || (entry.overdue && inside(entry.due_ms))
        {
            counted.push(entry);
        }
    }
    counted
}

/// The per-code aggregates of the `counted` decisions in `period`, by code and priority.
pub fn aggregate(counted: &[CountedDecision], period: &Period) -> Vec<CodeMetrics> {
    let inside = |ms: u64| period.start_ms <= ms && ms < period.end_ms;
    let mut groups: BTreeMap<(String, String), (Metrics, Vec<u64>)> = BTreeMap::new();
    for entry in counted {
        let (counts, turnarounds) = groups
            .entry((entry.service_code.clone(), entry.priority.clone()))
            .or_insert_with(|| (zero(), Vec::new()));
        if inside(entry.received_ms) {
            counts.requested += 1;
            if entry.pended {
                counts.pended += 1;
            }
        }
        let decided = !matches!(entry.action.as_str(), "A4" | "NA");
        if decided && inside(entry.decided_ms) {
            let turnaround = entry.decided_ms.saturating_sub(entry.received_ms);
            counts.decided += 1;
            counts.turnaround_total_ms = counts.turnaround_total_ms.saturating_add(turnaround);
            turnarounds.push(turnaround);
            let approved = matches!(entry.action.as_str(), "A1" | "A2" | "A6");
            if approved {
                counts.approved += 1;
            }
            if entry.action == "A3" {
                counts.denied += 1;
            }
            if approved && entry.review_extended {
                counts.approved_with_extension += 1;
            }
            if approved && entry.overturned {
                counts.approved_after_appeal += 1;
            }
        }
        if entry.overdue && inside(entry.due_ms) {
            counts.overdue += 1;
        }
    }
    groups
        .into_iter()
        .map(|((service_code, priority), (counts, mut turnarounds))| {
            turnarounds.sort_unstable();
            let median_turnaround_ms = match turnarounds.len() {
                0 => 0,
                n => turnarounds[(n - 1) / 2],
            };
            CodeMetrics {
                service_code,
                priority: if priority == "Expedited" {
                    Priority::Expedited
                } else {
                    Priority::Standard
                },
                counts,
                median_turnaround_ms,
            }
        })
        .collect()
}

/// The commitment to the decisions counted.
pub fn decisions_commitment(counted: &[CountedDecision], salt: &CommitmentSalt) -> Hash {
    commit_value(METRICS_DECISIONS, salt, &counted.to_vec())
}

/// What the payer keeps of a metrics post: the decisions counted and the salt.
#[derive(Debug, Serialize, Deserialize)]
pub struct MetricsFile {
    /// The period.
    pub start_ms: u64,
    /// Its end.
    pub end_ms: u64,
    /// The decisions counted, in trace handle and line order.
    pub decisions: Vec<CountedDecision>,
    /// The commitment's salt, `0x…`.
    pub salt: String,
}

/// Where the decisions of the post for the period starting at `start_ms` are kept.
pub fn metrics_file(inbox: &Path, start_ms: u64) -> PathBuf {
    inbox.join(format!("metrics-{start_ms}.json"))
}

/// Posts the per-code metrics of the last period of `kind` that has ended by the chain's
/// clock, unless posted already; the period and the `post_metrics` transaction, or `None`.
///
/// # Errors
/// [`AgentError::Ledger`] when the node cannot be asked or refuses the post; a submission in
/// the inbox that does not open or match.
pub async fn post_due(
    chain: &CoverageChain,
    options: &AgentOptions,
    kind: MetricsPeriod,
) -> Result<Option<(Period, String)>, AgentError> {
    use salus_client::rpc::SalusApiClient;
    let payer = options.key.address();
    let now_ms = chain
        .client
        .chain_head()
        .await
        .map_err(|error| crate::gateway::LedgerError::Unavailable(error.to_string()))?
        .timestamp_ms;
    let period = kind.last_ended(now_ms);
    let posted: Option<MetricsPost> = chain.period_metrics(payer, period.start_ms).await?;
    if posted.is_some() {
        return Ok(None);
    }
    let mut handles = every_page(&mut None, |after| chain.sealed_submitted(payer, after)).await?;
    handles.sort();
    handles.dedup();
    let secret = reply_secret(&options.key, &options.genesis);
    let mut counted = Vec::new();
    for handle in handles {
        let Some(request) = chain.sealed_request(&options.key, handle).await? else {
            continue;
        };
        let Ok(sealed) = std::fs::read(inbox_file(&options.inbox, &handle)) else {
            continue;
        };
        let (submission, salt) = open_delivery(&secret, &sealed, &handle)?;
        check_submission(&request, &submission, &salt)?;
        let procedures: Vec<String> = submission
            .lines
            .iter()
            .map(|line| line.procedure.clone())
            .collect();
        counted.extend(counted_lines(&request, &procedures, &period));
    }
    // More codes than one post carries (the contract's `MAX_AGGREGATES`) are refused by the
    // contract (`TooComplex`), and reported.
    let aggregates = aggregate(&counted, &period);
    let salt = CommitmentSalt::random().map_err(|error| AgentError::File(error.to_string()))?;
    let commitment = decisions_commitment(&counted, &salt);
    let file = MetricsFile {
        start_ms: period.start_ms,
        end_ms: period.end_ms,
        decisions: counted,
        salt: format!("0x{}", hex::encode(salt.as_bytes())),
    };
    let path = metrics_file(&options.inbox, period.start_ms);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&file).expect("metrics serialise"),
    )
    .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
    let receipt = chain
        .post_metrics(&options.key, period.clone(), aggregates, commitment)
        .await?;
    Ok(Some((period, receipt.transaction_hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_and_fixed_periods_end_where_they_should() {
        // 2026-03-15 12:00 UTC.
        let march = 1_773_576_000_000;
        let period = MetricsPeriod::Month.containing(march);
        assert_eq!(period.start_ms, 1_772_323_200_000, "2026-03-01");
        assert_eq!(period.end_ms, 1_775_001_600_000, "2026-04-01");
        let february = MetricsPeriod::Month.last_ended(march);
        assert_eq!(
            (february.start_ms, february.end_ms),
            (1_769_904_000_000, 1_772_323_200_000),
            "2026-02-01 to 2026-03-01"
        );
        // December rolls into January; a leap February has 29 days.
        let december = MetricsPeriod::Month.containing(1_767_139_200_000 - 1);
        assert_eq!(december.end_ms, 1_767_225_600_000, "2026-01-01");
        let leap = MetricsPeriod::Month.containing(1_709_251_200_000 - 1);
        assert_eq!(leap.end_ms - leap.start_ms, 29 * DAY_MS, "February 2024");
        let fixed = MetricsPeriod::Millis(1_000).last_ended(12_345);
        assert_eq!((fixed.start_ms, fixed.end_ms), (11_000, 12_000));
        assert_eq!("month".parse(), Ok(MetricsPeriod::Month));
        assert_eq!("1500ms".parse(), Ok(MetricsPeriod::Millis(1_500)));
        assert!("0".parse::<MetricsPeriod>().is_err());
    }

    #[test]
    fn aggregates_count_per_code_and_priority_and_the_commitment_binds_the_list() {
        let period = Period {
            start_ms: 1_000,
            end_ms: 2_000,
        };
        let decision =
            |line: u16, code: &str, action: &str, received: u64, decided: u64| CountedDecision {
                trace_handle: Hash([7; 32]),
                line,
                service_code: code.into(),
                priority: "Standard".into(),
                action: action.into(),
                received_ms: received,
                decided_ms: decided,
                pended: action != "A1",
                review_extended: false,
                overturned: false,
                overdue: false,
                due_ms: received + 500,
            };
        let counted = vec![
            decision(0, "72148", "A1", 1_100, 1_150),
            decision(1, "74177", "A3", 1_100, 1_400),
            decision(2, "74177", "A1", 1_200, 1_300),
            // Received before the period, decided in it: decided, not requested.
            decision(3, "74177", "A1", 900, 1_100),
            // Still pended.
            decision(4, "74177", "A4", 1_500, 1_500),
        ];
        let aggregates = aggregate(&counted, &period);
        assert_eq!(aggregates.len(), 2);
        let mri = &aggregates[0];
        assert_eq!(mri.service_code, "72148");
        assert_eq!(
            (
                mri.counts.requested,
                mri.counts.decided,
                mri.counts.approved
            ),
            (1, 1, 1)
        );
        assert_eq!(mri.median_turnaround_ms, 50);
        let ct = &aggregates[1];
        assert_eq!(ct.service_code, "74177");
        assert_eq!(
            (
                ct.counts.requested,
                ct.counts.pended,
                ct.counts.decided,
                ct.counts.approved,
                ct.counts.denied
            ),
            (3, 2, 3, 2, 1)
        );
        assert_eq!(ct.counts.turnaround_total_ms, 300 + 100 + 200);
        assert_eq!(
            ct.median_turnaround_ms, 200,
            "lower median of 100, 200, 300"
        );
        let salt = CommitmentSalt::from_bytes([3; 32]);
        let commitment = decisions_commitment(&counted, &salt);
        assert_eq!(
            commitment,
            commit_value(METRICS_DECISIONS, &salt, &counted.clone())
        );
        assert_ne!(commitment, decisions_commitment(&counted[..4], &salt));
    }
}
