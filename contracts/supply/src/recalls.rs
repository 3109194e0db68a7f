//! Decisions about a whole lot, recorded once per lot and read wherever one of its units is
//! checked: recalls (FDA class, effective date), which stop every unit of the lot — commissioned
//! before or after —, and expiry extensions.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{MAX_UNITS_PER_EVENT, active, check_code, lot_state};
use crate::gs1::day_of_ms;
use crate::storage::{LOT_STATE, LOTS, PRODUCTS, RECALLS, UNITS};
use crate::types::*;

/// The body of [`Supply::recall`](crate::Supply::recall).
///
/// A recall is recorded once per lot, never per unit: every check of a unit (verify, ship,
/// pack, dispense, release) reads its lot's state, so the recall's cost does not depend on the
/// lot's size, and units commissioned into the lot later are recalled too.
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
    let mut recalled = 0u32;
    for lot in lots {
        check_code(&lot)?;
        let key = (gtin.clone(), lot);
        let mut state = lot_state(&key);
        state.recalled = true;
        LOT_STATE.insert(&key, &state);
        RECALLS.insert(
            &key,
            &Recall {
                class: class.clone(),
                effective_ms: block_timestamp_ms(),
                units: state.units,
            },
        );
        recalled = recalled.saturating_add(state.units);
    }
    Alert {
        kind: "recall".into(),
        reference: u64::from(recalled),
        detail: gtin,
    }
    .emit();
    Ok(recalled)
}

/// The body of [`Supply::extend_expiry`](crate::Supply::extend_expiry).
///
/// The product's owner, a manufacturer in good standing now, extends a commissioned lot's
/// expiry to a later day (e.g. after stability data, as FDA-approved); the packages keep the
/// printed date, which verifies true with `ExpirationExtended` (GS1 LVM `additionalInfo`), as
/// does the new date; the unit is expired only after the new one.
pub(crate) fn extend_expiry(gtin: String, lot: String, expiry_ms: u64) -> Result<(), SupplyError> {
    check_code(&lot)?;
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    let owner = caller();
    if product.owner != owner || !active(&owner, Role::Manufacturer)? {
        return Err(SupplyError::NotAuthorised);
    }
    let key = (gtin.clone(), lot.clone());
    let mut state = LOT_STATE.get(&key).ok_or(SupplyError::Unknown)?;
    let in_force_ms = match state.extended_expiry_ms {
        Some(extended) => extended,
        None => {
            let (first, _) = LOTS.page_under(&key, None, 1);
            let ((_, _, serial), ()) = first.into_iter().next().ok_or(SupplyError::Unknown)?;
            UNITS
                .get(&(gtin.clone(), serial))
                .ok_or(SupplyError::Unknown)?
                .expiry_ms
        }
    };
    if day_of_ms(expiry_ms) <= day_of_ms(in_force_ms) {
        return Err(SupplyError::NotLater);
    }
    state.extended_expiry_ms = Some(expiry_ms);
    LOT_STATE.insert(&key, &state);
    ExpiryExtended {
        gtin,
        lot,
        expiry_ms,
    }
    .emit();
    Ok(())
}

/// The body of [`Supply::recalls`](crate::Supply::recalls).
pub(crate) fn recalls(gtin: String) -> Vec<(String, Recall)> {
    let (entries, _) = RECALLS.page_under(&gtin, None, 100);
    entries
        .into_iter()
        .map(|((_, lot), recall)| (lot, recall))
        .collect()
}
