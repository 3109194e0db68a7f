//! Units certified against a member's benefit limit and a rule's rolling window: reserved when
//! certified, returned when a certification is revised, cancelled or overturned unclaimed.

use salus_sdk::prelude::*;

use crate::storage::{BENEFITS, CERTIFIED, CLAIMED, RULE_SETS, WindowKey};
use crate::types::*;

/// Most certifications of one member under one rule a window limit looks at.
pub(crate) const MAX_WINDOW_ENTRIES: usize = 64;

/// Whether a decision certifies units (they count against the benefit and the window).
pub(crate) fn certifies(action: &ActionCode) -> bool {
    matches!(action, ActionCode::A1 | ActionCode::A2 | ActionCode::A6)
}

/// The benefit of line `index`'s rule, if the line's decision names one.
pub(crate) fn benefit_key(
    request: &Request,
    decision: &LineDecision,
) -> Option<(Address, Hash, String)> {
    let rule_id = decision.rule_ids.first()?;
    let rule_set = RULE_SETS.get(&(request.payer, decision.rule_set))?;
    let rule = rule_set.rules.iter().find(|rule| rule.id == *rule_id)?;
    Some((request.payer, request.member, rule.service_type.clone()))
}

/// Reserves a certification's units against the benefit's limit.
pub(crate) fn reserve(request: &Request, index: usize, decision: &LineDecision) {
    if !certifies(&decision.action) {
        return;
    }
    if let Some(key) = window_key(request, index, decision) {
        CERTIFIED.insert(&key, &decision.quantity);
    }
    if let Some(key) = benefit_key(request, decision)
        && let Some(mut benefit) = BENEFITS.get(&key)
    {
        benefit.quantity_used = benefit.quantity_used.saturating_add(decision.quantity);
        BENEFITS.insert(&key, &benefit);
    }
}

/// Returns a certification's unclaimed units to the benefit.
pub(crate) fn release(request: &Request, index: usize, decision: &LineDecision) {
    if !certifies(&decision.action) {
        return;
    }
    let claimed = CLAIMED
        .get(&(request.trace.clone(), index as u16))
        .unwrap_or(0);
    if let Some(key) = window_key(request, index, decision) {
        // Claimed units were used: they stay in the window.
        if claimed == 0 {
            CERTIFIED.remove(&key);
        } else {
            CERTIFIED.insert(&key, &claimed);
        }
    }
    if let Some(key) = benefit_key(request, decision)
        && let Some(mut benefit) = BENEFITS.get(&key)
    {
        let unclaimed = decision.quantity.saturating_sub(claimed);
        benefit.quantity_used = benefit.quantity_used.saturating_sub(unclaimed);
        BENEFITS.insert(&key, &benefit);
    }
}

/// The rolling-window index entry of line `index`'s certification.
pub(crate) fn window_key(
    request: &Request,
    index: usize,
    decision: &LineDecision,
) -> Option<WindowKey> {
    Some((
        request.payer,
        request.member,
        *decision.rule_ids.first()?,
        decision.period.as_ref()?.start_ms.to_be_bytes(),
        request.trace.clone(),
        index as u16,
    ))
}

pub(crate) fn release_all(request: &Request) {
    for (index, decision) in request.decisions.iter().enumerate() {
        release(request, index, decision);
    }
}

/// Units that may be certified for line `index`: the request, capped by what the rule's
/// rolling window and the benefit have left.
pub(crate) fn allowed_quantity(
    request: &Request,
    index: usize,
    rule: &Rule,
    benefit: Option<&Benefit>,
    requested: u32,
) -> u32 {
    let mut allowed = requested;
    if let Some(limit) = &rule.quantity_per_period {
        let used = units_in_window(request, rule.id, request.lines[index].from_ms, limit.days);
        allowed = allowed.min(limit.units.saturating_sub(used));
    }
    if let Some(limit) = benefit.and_then(|benefit| {
        benefit
            .quantity_limit
            .map(|limit| limit.saturating_sub(benefit.quantity_used))
    }) {
        allowed = allowed.min(limit);
    }
    allowed
}

/// Units certified to the member under rule `rule_id` for services starting within `days`
/// of `start_ms` (at most `MAX_WINDOW_ENTRIES` certifications are looked at).
pub(crate) fn units_in_window(request: &Request, rule_id: u32, start_ms: u64, days: u32) -> u32 {
    let window = u64::from(days) * DAY_MS;
    let prefix = (request.payer, request.member, rule_id);
    let (entries, _) = CERTIFIED.page_under(&prefix, None, MAX_WINDOW_ENTRIES);
    entries
        .into_iter()
        .filter(|(key, _)| u64::from_be_bytes(key.3).abs_diff(start_ms) < window)
        .map(|(_, units)| units)
        .fold(0u32, u32::saturating_add)
}
