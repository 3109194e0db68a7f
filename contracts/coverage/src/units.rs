//! Units certified against a member's benefit limit and a rule's rolling window: reserved when
//! certified, returned when a certification is revised, cancelled or overturned unclaimed; and
//! the payer's records (benefits, network, certified units) as the rules read them.

use coverage_rules::{BenefitUse, Records, units_within};
use salus_sdk::prelude::*;

use crate::storage::{BENEFITS, CERTIFIED, CLAIMED, NETWORK, RULE_SETS, WindowKey};
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

/// Units that may be certified for line `index` (see [`coverage_rules::allowed_quantity`]): the
/// request, capped by what the rule's rolling window and the benefit have left.
pub(crate) fn allowed_quantity(
    request: &Request,
    index: usize,
    rule: &Rule,
    benefit: Option<&Benefit>,
    requested: u32,
) -> u32 {
    let benefit = benefit.map(benefit_use);
    coverage_rules::allowed_quantity(rule, benefit.as_ref(), requested, |limit| {
        units_in_window(request, rule.id, request.lines[index].from_ms, limit.days)
    })
}

/// What the rules read of a benefit.
pub(crate) fn benefit_use(benefit: &Benefit) -> BenefitUse {
    BenefitUse {
        authorisation_required: benefit.authorisation_required,
        quantity_limit: benefit.quantity_limit,
        quantity_used: benefit.quantity_used,
    }
}

/// Units certified to the member under rule `rule_id` for services starting within `days`
/// of `start_ms` (at most `MAX_WINDOW_ENTRIES` certifications are looked at).
pub(crate) fn units_in_window(request: &Request, rule_id: u32, start_ms: u64, days: u32) -> u32 {
    let prefix = (request.payer, request.member, rule_id);
    let (entries, _) = CERTIFIED.page_under(&prefix, None, MAX_WINDOW_ENTRIES);
    units_within(
        entries
            .into_iter()
            .map(|(key, units)| (u64::from_be_bytes(key.3), units)),
        start_ms,
        days,
    )
}

/// The payer's records of a request's member, as the rules ask for them: each a storage read,
/// made only when an edit reaches it.
pub(crate) struct PayerRecords<'a> {
    /// The request (payer, member, servicing NPI).
    pub(crate) request: &'a Request,
    /// The member's plan, whose network is asked.
    pub(crate) plan: &'a str,
}

impl Records for PayerRecords<'_> {
    fn benefit(&self, service_type: &str) -> Option<BenefitUse> {
        let key = (
            self.request.payer,
            self.request.member,
            String::from(service_type),
        );
        BENEFITS.get(&key).as_ref().map(benefit_use)
    }

    fn in_network(&self) -> bool {
        NETWORK.contains(&(
            self.request.payer,
            String::from(self.plan),
            self.request.servicing_npi.clone(),
        ))
    }

    fn units_in_window(&self, rule_id: u32, start_ms: u64, days: u32) -> u32 {
        units_in_window(self.request, rule_id, start_ms, days)
    }
}
