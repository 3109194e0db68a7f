//! The check of one claim line (X12 837 → 835 CARCs), as the payer's agent runs it: coverage on
//! the date of service, the diagnosis against the procedure's rule, and the authorisation (its
//! window and units left) or the benefit's limit. Plain data in, CARCs and what the line draws
//! out; the agent keeps the units drawn in its records.

use alloc::string::String;
use alloc::vec::Vec;

use crate::matching::{covered_on, diagnosis_supports, matching_rule};
use crate::types::{Period, Records, RuleSet};

/// A claim line as the check reads it (837 SV1/SV2, simplified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedLine<'a> {
    /// CPT or HCPCS code.
    pub procedure: &'a str,
    /// Units.
    pub quantity: u32,
    /// Date of service (ms).
    pub service_ms: u64,
    /// ICD-10-CM diagnoses the line points to.
    pub diagnoses: &'a [String],
}

/// The certified line of the cited authorisation for the claimed procedure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorised {
    /// The authorised window.
    pub window: Period,
    /// Units certified.
    pub quantity: u32,
    /// Units already claimed against it.
    pub claimed: u32,
}

/// What an accepted line draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimDraw {
    /// Nothing (refused, or no benefit to count against).
    None,
    /// From the authorisation's certified units.
    Authorisation,
    /// From the benefit of this X12 service type.
    Benefit(String),
}

/// The check of one line: the CARCs (none: accepted) and what it draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimLineCheck {
    /// `27`/`26` not covered on the date, `11` diagnosis inconsistent with the procedure,
    /// `197` authorisation absent or the service outside its window, `198` authorisation
    /// exceeded, `119` benefit maximum reached.
    pub carcs: Vec<&'static str>,
    /// What the accepted line draws.
    pub draw: ClaimDraw,
}

/// Checks `line` for a member with coverage `active` over `period`, under `rule_set` (the
/// rule set in effect on the date of service, if any), with the member's benefits in
/// `records` and the cited authorisation's certified line for the procedure, if any.
pub fn check_claim_line(
    rule_set: Option<&RuleSet>,
    active: bool,
    period: &Period,
    line: &ClaimedLine<'_>,
    records: &impl Records,
    authorised: Option<&Authorised>,
) -> ClaimLineCheck {
    let mut carcs = Vec::new();
    if !active || line.service_ms >= period.end_ms {
        carcs.push("27");
    } else if !covered_on(active, period, line.service_ms) {
        carcs.push("26");
    }
    let rule = rule_set.and_then(|rule_set| matching_rule(rule_set, line.procedure));
    if let Some(rule) = rule
        && !diagnosis_supports(rule, line.diagnoses)
    {
        carcs.push("11");
    }
    let benefit = rule.and_then(|rule| {
        records
            .benefit(&rule.service_type)
            .map(|benefit| (rule.service_type.clone(), benefit))
    });
    let needs_authorisation = rule.is_some_and(|rule| rule.prior_authorisation)
        || benefit
            .as_ref()
            .is_some_and(|(_, benefit)| benefit.authorisation_required);
    let mut from_authorisation = false;
    if needs_authorisation {
        match authorised {
            None => carcs.push("197"),
            Some(authorised) => {
                let inside = authorised.window.start_ms <= line.service_ms
                    && line.service_ms < authorised.window.end_ms;
                if !inside {
                    carcs.push("197");
                } else if authorised.claimed.saturating_add(line.quantity) > authorised.quantity {
                    carcs.push("198");
                } else {
                    from_authorisation = true;
                }
            }
        }
    } else if let Some((_, benefit)) = &benefit
        && benefit
            .quantity_limit
            .is_some_and(|limit| benefit.quantity_used.saturating_add(line.quantity) > limit)
    {
        carcs.push("119");
    }
    let draw = if !carcs.is_empty() {
        ClaimDraw::None
    } else if from_authorisation {
        ClaimDraw::Authorisation
    } else if let Some((service_type, _)) = benefit {
        ClaimDraw::Benefit(service_type)
    } else {
        ClaimDraw::None
    };
    ClaimLineCheck { carcs, draw }
}
