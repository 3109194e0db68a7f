//! Repackaging as an EPCIS 2.0 TransformationEvent: a repackager consumes units it owns and
//! holds (decommissioned as inputs) and commissions outputs under its own GTIN, recording the
//! lineage from each output to its inputs, which a recall follows (per lot) and `lineage`
//! answers.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{
    Lots, MAX_LINEAGE_DEPTH, MAX_UNITS_PER_EVENT, active, check_code, lot_recalled,
};
use crate::epcis::{event, next_event_id, record, touch};
use crate::gs1::day_of_ms;
use crate::storage::{EVENTS, LINEAGE, PRODUCTS, UNITS};
use crate::types::*;
use crate::units::new_units;

/// The body of [`Supply::repackage`](crate::Supply::repackage).
///
/// DSCSA §581(14), §582(e): a repackager gives the product it repackages its own product
/// identifier and keeps the association with the identifiers it received. The inputs must be
/// loose units the caller owns and holds, movable (not recalled, quarantined, expired or out
/// of commerce); the outputs' expiry may not be later than any input's (FDA guidance on
/// repackaging: the repackaged expiry does not exceed the original manufacturer's).
pub(crate) fn repackage(
    inputs: Vec<Epc>,
    gtin: String,
    lot: String,
    expiry_ms: u64,
    serials: Vec<String>,
    location: String,
) -> Result<u64, SupplyError> {
    check_code(&location)?;
    let repackager = caller();
    if !active(&repackager, Role::Repackager)? {
        return Err(SupplyError::NotAuthorised);
    }
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    if product.owner != repackager {
        return Err(SupplyError::NotAuthorised);
    }
    // EPCIS 2.0: a TransformationEvent's inputEPCList and outputEPCList have at least one EPC.
    if inputs.is_empty() || serials.is_empty() {
        return Err(SupplyError::Unknown);
    }
    if inputs.len() > MAX_UNITS_PER_EVENT {
        return Err(SupplyError::TooLarge);
    }
    let id = next_event_id();
    let mut lots = Lots::default();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut earliest_expiry_ms = u64::MAX;
    for epc in &inputs {
        let Epc::Unit(input_gtin, serial) = epc else {
            // A case is unpacked first: its units are the inputs.
            return Err(SupplyError::NotMovable);
        };
        let key = (input_gtin.clone(), serial.clone());
        let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
        if unit.owner != repackager || unit.custodian != repackager {
            return Err(SupplyError::NotAuthorised);
        }
        // An input named twice is inactive the second time.
        if unit.parent.is_some() || !lots.movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        earliest_expiry_ms = earliest_expiry_ms.min(lots.expiry_ms(&unit));
        let source = (unit.gtin.clone(), unit.lot.clone());
        if !sources.contains(&source) {
            sources.push(source);
        }
        unit.disposition = Disposition::Inactive;
        unit.location = location.clone();
        touch(&key, &mut unit, id);
    }
    if day_of_ms(expiry_ms) > day_of_ms(earliest_expiry_ms) {
        return Err(SupplyError::ExpiryBeyondInputs);
    }
    // A recall is followed back MAX_LINEAGE_DEPTH repackagings; deeper lineages are refused.
    for source in &sources {
        let (_, depth) = lot_recalled(source, MAX_LINEAGE_DEPTH);
        if depth >= MAX_LINEAGE_DEPTH {
            return Err(SupplyError::TooLarge);
        }
    }
    let outputs = new_units(
        &gtin, &lot, expiry_ms, serials, repackager, &location, id, &sources,
    )?;
    for output in &outputs {
        if let Epc::Unit(output_gtin, serial) = output {
            LINEAGE.insert(&(output_gtin.clone(), serial.clone()), &id);
        }
    }
    // EPCIS 2.0 TransformationEvent: no action and no epcList; inputEPCList, outputEPCList,
    // and no transformationID (this one event records the whole transformation). CBV 2.0
    // bizStep `repackaging`; the outputs are `active`.
    let mut transformation = event(
        id,
        "TransformationEvent",
        "",
        Vec::new(),
        None,
        "repackaging",
        "active",
        location,
        Vec::new(),
        None,
        None,
    );
    transformation.transformation = Some(Transformation {
        inputs,
        outputs,
        id: None,
    });
    record(transformation);
    Ok(id)
}

/// The body of [`Supply::lineage`](crate::Supply::lineage).
pub(crate) fn lineage(gtin: String, serial: String) -> Vec<Epc> {
    LINEAGE
        .get(&(gtin, serial))
        .and_then(|id| EVENTS.get(&id))
        .and_then(|event| event.transformation)
        .map(|transformation| transformation.inputs)
        .unwrap_or_default()
}
