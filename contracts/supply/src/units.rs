//! Serialised units (SGTIN with lot and expiry): commissioning, their owner's transitions in
//! place (hold, release, decommission, destroy) and where every unit of a lot is.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{
    Lots, MAX_LOT_BYTES, MAX_LOT_SOURCES, MAX_SERIAL_BYTES, MAX_UNITS_PER_EVENT, active,
    check_code, expired, in_stock, lot_state, trading_partner,
};
use crate::epcis::{next_event_id, record_event, touch};
use crate::packaging::{case_tree, expand};
use crate::storage::{CONTAINERS, HISTORY, LOT_STATE, LOTS, PRODUCTS, UNITS};
use crate::types::*;

/// An owner's transition of units in place: every unit named (cases expanded and
/// dissolved) must belong to the caller, not be travelling, and pass `allowed`; each gets
/// `apply` and one shared ObjectEvent with the CBV (bizStep, disposition).
pub(crate) fn transition(
    epcs: &[Epc],
    location: String,
    (biz_step, disposition): (&str, &str),
    allowed: fn(&Unit, &mut Lots) -> bool,
    apply: fn(&mut Unit),
) -> Result<u32, SupplyError> {
    check_code(&location)?;
    let owner = caller();
    let keys = expand(epcs)?;
    let id = next_event_id();
    let mut lots = Lots::default();
    for key in &keys {
        let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
        if unit.owner != owner {
            return Err(SupplyError::NotAuthorised);
        }
        if unit.shipment.is_some() || !allowed(&unit, &mut lots) {
            return Err(SupplyError::WrongState);
        }
        apply(&mut unit);
        unit.location = location.clone();
        touch(key, &mut unit, id);
    }
    // Decommissioning or destroying a case ends it: its units stand alone.
    let dissolves_cases = matches!(disposition, "inactive" | "destroyed");
    for epc in epcs {
        let Epc::Case(sscc) = epc else { continue };
        if !dissolves_cases {
            continue;
        }
        let tree = case_tree(sscc)?;
        for nested in &tree {
            CONTAINERS.remove(nested);
        }
        for key in &keys {
            let Some(mut unit) = UNITS.get(key) else {
                continue;
            };
            if unit
                .parent
                .as_ref()
                .is_some_and(|parent| tree.contains(parent))
            {
                unit.parent = None;
                UNITS.insert(key, &unit);
            }
        }
    }
    // EPCIS 2.0 ObjectEvent actions with CBV 2.0 bizSteps: decommissioning and destroying end the EPCs' life, an
    // ObjectEvent with action DELETE; holding and releasing observe them.
    let action = if dissolves_cases { "DELETE" } else { "OBSERVE" };
    record_event(
        id,
        "ObjectEvent",
        action,
        epcs.to_vec(),
        None,
        biz_step,
        disposition,
        location,
        Vec::new(),
        None,
        None,
    );
    Ok(keys.len() as u32)
}

/// The body of [`Supply::commission`](crate::Supply::commission).
pub(crate) fn commission(
    gtin: String,
    lot: String,
    expiry_ms: u64,
    serials: Vec<String>,
    location: String,
) -> Result<u64, SupplyError> {
    check_code(&location)?;
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    let owner = caller();
    // The product's owner, and still a manufacturer in good standing with a current licence.
    if product.owner != owner || !active(&owner, Role::Manufacturer)? {
        return Err(SupplyError::NotAuthorised);
    }
    let id = next_event_id();
    let epcs = new_units(&gtin, &lot, expiry_ms, serials, owner, &location, id, &[])?;
    record_event(
        id,
        "ObjectEvent",
        "ADD",
        epcs,
        None,
        "commissioning",
        "active",
        location,
        Vec::new(),
        None,
        None,
    );
    Ok(id)
}

/// Creates units `serials` of `gtin`, lot `lot`, owned and held by `owner` at `location`, in
/// event `id`: each serial up to 20 alphanumerics and commissioned once. The lot's count grows,
/// and `sources` (the lots they were repackaged from) join its sources. A recall or expiry
/// extension already recorded for the lot covers these units too, as it is read per lot.
/// Returns their EPCs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_units(
    gtin: &str,
    lot: &str,
    expiry_ms: u64,
    serials: Vec<String>,
    owner: Address,
    location: &str,
    id: u64,
    sources: &[(String, String)],
) -> Result<Vec<Epc>, SupplyError> {
    if lot.len() > MAX_LOT_BYTES || serials.len() > MAX_UNITS_PER_EVENT {
        return Err(SupplyError::TooLarge);
    }
    let mut epcs = Vec::with_capacity(serials.len());
    for serial in serials {
        if serial.is_empty()
            || serial.len() > MAX_SERIAL_BYTES
            || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(SupplyError::TooLarge);
        }
        let key = (String::from(gtin), serial.clone());
        if UNITS.contains(&key) {
            return Err(SupplyError::AlreadyCommissioned);
        }
        let unit = Unit {
            gtin: gtin.into(),
            serial: serial.clone(),
            lot: lot.into(),
            expiry_ms,
            owner,
            custodian: owner,
            location: location.into(),
            parent: None,
            disposition: Disposition::Active,
            suspect: false,
            quarantined: false,
            illegitimate: false,
            seller: None,
            shipment: None,
            last_event: id,
        };
        UNITS.insert(&key, &unit);
        LOTS.insert(&(gtin.into(), lot.into(), serial.clone()), &());
        HISTORY.insert(&(gtin.into(), serial.clone(), id.to_be_bytes()), &());
        epcs.push(Epc::Unit(gtin.into(), serial));
    }
    let lot_key = (String::from(gtin), String::from(lot));
    let mut state = lot_state(&lot_key);
    state.units += epcs.len() as u32;
    for source in sources {
        if !state.sources.contains(source) {
            state.sources.push(source.clone());
        }
    }
    if state.sources.len() > MAX_LOT_SOURCES {
        return Err(SupplyError::TooLarge);
    }
    LOT_STATE.insert(&lot_key, &state);
    Ok(epcs)
}

/// The body of [`Supply::hold`](crate::Supply::hold).
pub(crate) fn hold(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
    transition(
        &epcs,
        location,
        ("holding", "non_sellable_other"),
        |unit, _| in_stock(unit),
        |unit| {
            unit.quarantined = true;
            unit.disposition = Disposition::NonSellableOther;
        },
    )
}

/// The body of [`Supply::release`](crate::Supply::release).
pub(crate) fn release(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
    // Back into commerce: only an authorised trading partner now. (Holding, decommissioning
    // and destroying take product out of commerce and stay open to a suspended owner.)
    if !trading_partner(&caller())? {
        return Err(SupplyError::NotAuthorised);
    }
    transition(
        &epcs,
        location,
        ("holding", "sellable_accessible"),
        |unit, lots| {
            unit.quarantined
                && !unit.suspect
                && !unit.illegitimate
                && matches!(unit.disposition, Disposition::NonSellableOther)
                && !lots.recalled(unit)
                && !expired(lots.expiry_ms(unit))
        },
        |unit| {
            unit.quarantined = false;
            unit.disposition = Disposition::SellableAccessible;
        },
    )
}

/// The body of [`Supply::decommission`](crate::Supply::decommission).
pub(crate) fn decommission(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
    transition(
        &epcs,
        location,
        ("decommissioning", "inactive"),
        |unit, _| in_stock(unit),
        |unit| unit.disposition = Disposition::Inactive,
    )
}

/// The body of [`Supply::destroy`](crate::Supply::destroy).
pub(crate) fn destroy(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
    transition(
        &epcs,
        location,
        ("destroying", "destroyed"),
        |unit, _| {
            !matches!(
                unit.disposition,
                Disposition::Dispensed | Disposition::Destroyed | Disposition::InTransit
            )
        },
        |unit| unit.disposition = Disposition::Destroyed,
    )
}

/// The body of [`Supply::lot_units`](crate::Supply::lot_units).
pub(crate) fn lot_units(
    gtin: String,
    lot: String,
    after: Option<String>,
    limit: u32,
) -> Vec<(String, Address, String, Disposition)> {
    let cursor = after.map(|serial| (gtin.clone(), lot.clone(), serial));
    let (entries, _) = LOTS.page_under(&(gtin, lot), cursor.as_ref(), limit.min(100) as usize);
    entries
        .into_iter()
        .filter_map(|((g, _, serial), ())| {
            UNITS
                .get(&(g, serial.clone()))
                .map(|unit| (serial, unit.owner, unit.location, unit.disposition))
        })
        .collect()
}
