//! Recalls by lot (FDA class, effective date): every unit of the lot is marked and stopped.

use salus_sdk::prelude::*;

use crate::checks::{MAX_UNITS_PER_EVENT, check_code};
use crate::storage::{LOTS, PRODUCTS, RECALLS, UNITS};
use crate::types::*;

/// The body of [`Supply::recall`](crate::Supply::recall).
pub(crate) fn recall(
    gtin: String,
    lots: Vec<String>,
    class: RecallClass,
) -> Result<u32, SupplyError> {
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    if product.owner != caller() {
        return Err(SupplyError::NotAuthorised);
    }
    if lots.len() > MAX_UNITS_PER_EVENT {
        return Err(SupplyError::TooLarge);
    }
    let mut flagged = 0u32;
    for lot in &lots {
        check_code(lot)?;
        let before = flagged;
        let mut after: Option<(String, String, String)> = None;
        loop {
            let (page, more) = LOTS.page_under(&(gtin.clone(), lot.clone()), after.as_ref(), 100);
            for ((g, _, serial), ()) in &page {
                let key = (g.clone(), serial.clone());
                if let Some(mut unit) = UNITS.get(&key) {
                    unit.recalled = true;
                    UNITS.insert(&key, &unit);
                    flagged += 1;
                }
            }
            match page.last() {
                Some((last, ())) if more => after = Some(last.clone()),
                _ => break,
            }
        }
        RECALLS.insert(
            &(gtin.clone(), lot.clone()),
            &Recall {
                class: class.clone(),
                effective_ms: block_timestamp_ms(),
                units: flagged - before,
            },
        );
    }
    Alert {
        kind: "recall".into(),
        reference: u64::from(flagged),
        detail: gtin,
    }
    .emit();
    Ok(flagged)
}

/// The body of [`Supply::recalls`](crate::Supply::recalls).
pub(crate) fn recalls(gtin: String) -> Vec<(String, Recall)> {
    let (entries, _) = RECALLS.page_under(&gtin, None, 100);
    entries
        .into_iter()
        .map(|((_, lot), recall)| (lot, recall))
        .collect()
}
