//! Units and windows: what a rule's rolling window and the benefit leave to certify, the
//! window a certification authorises and its number.

use alloc::string::String;

use crate::types::{
    BenefitUse, Certified, DAY_MS, KnownRecords, Period, QuantityPerPeriod, Records, Rule,
};

/// Units that may be certified of `requested`: capped by what the rule's rolling window has
/// left (`used_in_window` is asked only when the rule has one) and by what the benefit has
/// left.
pub fn allowed_quantity(
    rule: &Rule,
    benefit: Option<&BenefitUse>,
    requested: u32,
    used_in_window: impl FnOnce(&QuantityPerPeriod) -> u32,
) -> u32 {
    let mut allowed = requested;
    if let Some(limit) = &rule.quantity_per_period {
        let used = used_in_window(limit);
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

/// The units of `certified` (service start ms, units) for services starting within `days`
/// of `start_ms`.
pub fn units_within(
    certified: impl IntoIterator<Item = (u64, u32)>,
    start_ms: u64,
    days: u32,
) -> u32 {
    let window = u64::from(days) * DAY_MS;
    certified
        .into_iter()
        .filter(|(certified_ms, _)| certified_ms.abs_diff(start_ms) < window)
        .map(|(_, units)| units)
        .fold(0u32, u32::saturating_add)
}

/// The window a certification under `rule` authorises for a service starting at `start_ms`:
/// the rule's `authorised_days` from the start.
pub fn authorised_window(rule: &Rule, start_ms: u64) -> Period {
    Period {
        start_ms,
        end_ms: start_ms.saturating_add(u64::from(rule.authorised_days) * DAY_MS),
    }
}

/// The certification number (X12 HCR02) of line `index` of request `trace`: `<trace>-<line>`,
/// lines counted from 1; unique because trace numbers are.
pub fn certification_number(trace: &str, index: usize) -> String {
    let mut number = String::from(trace);
    number.push('-');
    push_decimal(&mut number, index as u64 + 1);
    number
}

fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut length = 0;
    loop {
        digits[length] = b'0' + (value % 10) as u8;
        length += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for digit in digits[..length].iter().rev() {
        out.push(*digit as char);
    }
}

impl Records for KnownRecords {
    fn benefit(&self, service_type: &str) -> Option<BenefitUse> {
        self.benefits
            .iter()
            .find(|(kind, _)| kind == service_type)
            .map(|(_, benefit)| *benefit)
    }

    fn in_network(&self) -> bool {
        self.in_network
    }

    fn units_in_window(&self, rule_id: u32, start_ms: u64, days: u32) -> u32 {
        units_within(
            self.certified
                .iter()
                .filter(|Certified { rule_id: id, .. }| *id == rule_id)
                .map(|certified| (certified.start_ms, certified.units)),
            start_ms,
            days,
        )
    }
}
