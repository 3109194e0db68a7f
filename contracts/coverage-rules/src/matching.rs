//! Which rule covers a procedure, which diagnoses support it, the reason a rule set gives for
//! an edit, and the member's coverage and age on the date of service.

use alloc::string::String;

use crate::types::{DAY_MS, Edit, MissingReason, Period, Reason, Rule, RuleSet};

/// The first rule of `rule_set` whose procedure ranges contain `procedure` (codes compared as
/// strings of equal length).
pub fn matching_rule<'a>(rule_set: &'a RuleSet, procedure: &str) -> Option<&'a Rule> {
    rule_set.rules.iter().find(|rule| {
        rule.procedures.iter().any(|range| {
            range.from.len() == procedure.len()
                && range.from.as_str() <= procedure
                && procedure <= range.to.as_str()
        })
    })
}

/// Whether `diagnoses` support `rule`: the rule names no diagnosis, or one of them starts
/// with one of its prefixes.
pub fn diagnosis_supports(rule: &Rule, diagnoses: &[String]) -> bool {
    rule.diagnoses.is_empty() || matches_prefix(&rule.diagnoses, diagnoses)
}

/// Whether any of `codes` starts with any of `prefixes` (ICD-10-CM is hierarchical).
pub fn matches_prefix(prefixes: &[String], codes: &[String]) -> bool {
    codes.iter().any(|code| {
        prefixes
            .iter()
            .any(|prefix| code.starts_with(prefix.as_str()))
    })
}

/// The reason `rule_set` gives for `edit`.
///
/// # Errors
///
/// [`MissingReason`] if it gives none (a rule set the coverage contract would not publish).
pub fn reason_for(rule_set: &RuleSet, edit: Edit) -> Result<Reason, MissingReason> {
    rule_set
        .reasons
        .iter()
        .find(|entry| entry.edit == edit)
        .map(|entry| entry.reason.clone())
        .ok_or(MissingReason(edit))
}

/// Whether a coverage with status `active` and plan `period` covers `date_ms`.
pub fn covered_on(active: bool, period: &Period, date_ms: u64) -> bool {
    active && period.start_ms <= date_ms && date_ms < period.end_ms
}

/// The calendar year (UTC) of a time in ms since the epoch.
pub fn year_of(ms: u64) -> u16 {
    // Howard Hinnant's days-to-civil algorithm, in integers.
    let days = (ms / DAY_MS) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    year.clamp(0, i64::from(u16::MAX)) as u16
}

/// The age attained in the calendar year of `date_ms` by a member born in `birth_year`.
pub fn age_on(birth_year: u16, date_ms: u64) -> u32 {
    u32::from(year_of(date_ms)).saturating_sub(u32::from(birth_year))
}
