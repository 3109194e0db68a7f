//! Suspect and illegitimate product: sightings that open investigations, their classification,
//! the FDA 3911 notification within 24 hours, and the permissionless overdue alert.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{active, check_code, in_stock, trading_partner};
use crate::epcis::{next_event_id, observe_unit, record_event, touch};
use crate::packaging::expand;
use crate::storage::{CASES, NEXT_CASE, PRODUCTS, UNITS};
use crate::types::*;

/// The notification window after an illegitimate determination (DSCSA: 24 hours).
pub(crate) const NOTIFICATION_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

pub(crate) fn open_case(opened_by: &Address, units: &[(String, String)], reason: String) -> u64 {
    let case = NEXT_CASE.get().unwrap_or(0);
    NEXT_CASE.set(&(case + 1));
    CASES.insert(
        &case,
        &Investigation {
            units: units.to_vec(),
            reason,
            opened_by: *opened_by,
            classification: Classification::Suspect,
            determined_ms: None,
            fda_incident: None,
            notified_ms: None,
            overdue: false,
        },
    );
    case
}

/// The body of [`Supply::report_sighting`](crate::Supply::report_sighting).
pub(crate) fn report_sighting(
    gtin: String,
    serial: String,
    location: String,
) -> Result<bool, SupplyError> {
    let reporter = caller();
    if !trading_partner(&reporter)? {
        return Err(SupplyError::NotAuthorised);
    }
    let key = (gtin.clone(), serial.clone());
    let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
    // The owner, or the 3PL holding the unit for it, sees it legitimately.
    let legitimate = (unit.owner == reporter || unit.custodian == reporter)
        && !matches!(
            unit.disposition,
            Disposition::Dispensed | Disposition::Destroyed
        );
    if legitimate {
        return Ok(false);
    }
    flag_clone(
        &reporter,
        key,
        &mut unit,
        location,
        "unit observed away from its owner or after dispensing",
    );
    Ok(true)
}

/// A package presenting `unit`'s identifiers turned up where the unit cannot be (away from its
/// owner and custodian, or after it left commerce): a clone. The unit is flagged suspect and
/// quarantined, observed (`inspecting`), a suspect case opened by `reporter` and a `clone`
/// alert emitted (DSCSA §582(d)(4)(A)). Returns the case.
pub(crate) fn flag_clone(
    reporter: &Address,
    key: (String, String),
    unit: &mut Unit,
    location: String,
    detail: &str,
) -> u64 {
    let case = open_case(
        reporter,
        core::slice::from_ref(&key),
        "clone: the same SGTIN held by two parties".into(),
    );
    unit.suspect = true;
    unit.quarantined = true;
    observe_unit(
        key,
        unit,
        ("inspecting", "non_sellable_other"),
        location,
        Vec::new(),
        None,
    );
    Alert {
        kind: "clone".into(),
        reference: case,
        detail: detail.into(),
    }
    .emit();
    case
}

/// The body of [`Supply::suspect`](crate::Supply::suspect).
///
/// DSCSA §582(b)(4)(A), (c)(4)(A), (d)(4)(A), (e)(4)(A): a trading partner that determines it
/// has suspect product in its possession or control quarantines it and investigates. The
/// caller is therefore the owner or the custodian of every unit, or an active regulator
/// (registry `Role::Authority`); the units must be in stock (not travelling, dispensed,
/// decommissioned or destroyed).
pub(crate) fn suspect(
    epcs: Vec<Epc>,
    reason: String,
    location: String,
) -> Result<u64, SupplyError> {
    check_code(&reason)?;
    check_code(&location)?;
    let asker = caller();
    let keys = expand(&epcs)?;
    if keys.is_empty() {
        return Err(SupplyError::Unknown);
    }
    let regulator = active(&asker, Role::Authority)?;
    let id = next_event_id();
    for key in &keys {
        let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
        if !regulator && unit.owner != asker && unit.custodian != asker {
            return Err(SupplyError::NotAuthorised);
        }
        if unit.shipment.is_some() || !in_stock(&unit) {
            return Err(SupplyError::WrongState);
        }
        unit.suspect = true;
        unit.quarantined = true;
        unit.disposition = Disposition::NonSellableOther;
        unit.location = location.clone();
        touch(key, &mut unit, id);
    }
    let case = open_case(&asker, &keys, reason);
    record_event(
        id,
        "ObjectEvent",
        "OBSERVE",
        epcs,
        None,
        "holding",
        "non_sellable_other",
        location,
        Vec::new(),
        None,
        None,
    );
    Ok(case)
}

/// Investigation `case`, if the caller may settle it: the party that opened it, or the owner of
/// the product of its first unit.
fn case_for_settling(case: u64) -> Result<Investigation, SupplyError> {
    let investigation = CASES.get(&case).ok_or(SupplyError::Unknown)?;
    let asker = caller();
    let owner = investigation
        .units
        .first()
        .and_then(|(gtin, _)| PRODUCTS.get(gtin))
        .map(|product| product.owner);
    if asker != investigation.opened_by && Some(asker) != owner {
        return Err(SupplyError::NotAuthorised);
    }
    Ok(investigation)
}

/// The body of [`Supply::classify`](crate::Supply::classify).
pub(crate) fn classify(case: u64, classification: Classification) -> Result<(), SupplyError> {
    let mut investigation = case_for_settling(case)?;
    let illegitimate = !matches!(
        classification,
        Classification::Suspect | Classification::Cleared
    );
    if illegitimate && investigation.determined_ms.is_none() {
        investigation.determined_ms = Some(block_timestamp_ms());
    }
    // The outcome settles every flag the investigation raised (DSCSA §582(c)(4)(A)(ii),
    // (d)(4)(A)(ii)): cleared units return to commerce, illegitimate ones stay out of it.
    let cleared = matches!(classification, Classification::Cleared);
    let event = cleared.then(next_event_id);
    let mut released = Vec::new();
    for key in &investigation.units {
        let Some(mut unit) = UNITS.get(key) else {
            continue;
        };
        unit.illegitimate = illegitimate;
        if illegitimate {
            unit.quarantined = true;
        }
        match event {
            Some(id) => {
                unit.suspect = false;
                unit.quarantined = false;
                if matches!(unit.disposition, Disposition::NonSellableOther) {
                    unit.disposition = Disposition::SellableAccessible;
                }
                touch(key, &mut unit, id);
                released.push(Epc::Unit(key.0.clone(), key.1.clone()));
            }
            None => UNITS.insert(key, &unit),
        }
    }
    if let Some(id) = event {
        record_event(
            id,
            "ObjectEvent",
            "OBSERVE",
            released,
            None,
            "holding",
            "sellable_accessible",
            String::new(),
            Vec::new(),
            None,
            None,
        );
    }
    investigation.classification = classification;
    CASES.insert(&case, &investigation);
    Ok(())
}

/// The body of [`Supply::record_notification`](crate::Supply::record_notification).
pub(crate) fn record_notification(case: u64, fda_incident: String) -> Result<(), SupplyError> {
    check_code(&fda_incident)?;
    let mut investigation = case_for_settling(case)?;
    investigation.fda_incident = Some(fda_incident);
    investigation.notified_ms = Some(block_timestamp_ms());
    CASES.insert(&case, &investigation);
    Ok(())
}

/// The body of [`Supply::mark_overdue`](crate::Supply::mark_overdue).
pub(crate) fn mark_overdue(case: u64) -> Result<bool, SupplyError> {
    let mut investigation = CASES.get(&case).ok_or(SupplyError::Unknown)?;
    let due = investigation
        .determined_ms
        .is_some_and(|at| block_timestamp_ms() >= at + NOTIFICATION_WINDOW_MS);
    if !due || investigation.notified_ms.is_some() || investigation.overdue {
        return Ok(false);
    }
    investigation.overdue = true;
    CASES.insert(&case, &investigation);
    Alert {
        kind: "notification_overdue".into(),
        reference: case,
        detail: "no FDA 3911 within 24 h of determination".into(),
    }
    .emit();
    Ok(true)
}

/// The body of [`Supply::open_investigations`](crate::Supply::open_investigations).
pub(crate) fn open_investigations(after: Option<u64>, limit: u32) -> Vec<(u64, Investigation)> {
    let mut open = Vec::new();
    let mut cursor = after;
    let limit = limit.min(100) as usize;
    loop {
        let (page, more) = CASES.page(cursor.as_ref(), 100);
        for (case, investigation) in page.iter().cloned() {
            let closed = matches!(investigation.classification, Classification::Cleared)
                || investigation.notified_ms.is_some();
            if !closed && open.len() < limit {
                open.push((case, investigation));
            }
        }
        match page.last() {
            Some((last, _)) if more && open.len() < limit => cursor = Some(*last),
            _ => return open,
        }
    }
}
