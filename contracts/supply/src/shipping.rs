//! Shipments between authorised trading partners with the DSCSA transaction information and
//! statement, and their receipt by the named buyer (compared as sets; a mismatch is a stored
//! discrepancy and nothing stays in transit).

use salus_sdk::Encode;
use salus_sdk::prelude::*;

use crate::checks::{check_code, check_sscc, movable, trading_partner};
use crate::epcis::{next_event_id, record_event, touch};
use crate::packaging::{case_tree, expand};
use crate::storage::{CONTAINERS, DISCREPANCIES, NEXT_SHIPMENT, PRODUCTS, SHIPMENTS, UNITS};
use crate::types::*;

/// The body of [`Supply::ship`](crate::Supply::ship).
pub(crate) fn ship(
    epcs: Vec<Epc>,
    buyer: Address,
    documents: Vec<(String, Hash)>,
    location: String,
) -> Result<u64, SupplyError> {
    check_code(&location)?;
    let seller = caller();
    // The seller too must be licensed and in good standing now, not only the buyer.
    if !trading_partner(&seller)? {
        return Err(SupplyError::NotAuthorised);
    }
    if !trading_partner(&buyer)? {
        return Err(SupplyError::PartnerNotAuthorised);
    }
    // Packed goods travel with their outermost container.
    for epc in &epcs {
        let (owner, parent) = match epc {
            Epc::Unit(gtin, serial) => UNITS
                .get(&(gtin.clone(), serial.clone()))
                .map(|unit| (unit.owner, unit.parent)),
            Epc::Case(sscc) => {
                check_sscc(sscc)?;
                CONTAINERS.get(sscc).map(|case| (case.owner, case.parent))
            }
        }
        .ok_or(SupplyError::Unknown)?;
        if owner != seller {
            return Err(SupplyError::NotAuthorised);
        }
        if parent.is_some() {
            return Err(SupplyError::NotMovable);
        }
    }
    let units = expand(&epcs)?;
    let shipment_id = NEXT_SHIPMENT.get().unwrap_or(0);
    NEXT_SHIPMENT.set(&(shipment_id + 1));
    let id = next_event_id();
    let now = block_timestamp_ms();
    let mut lines: Vec<ProductLine> = Vec::new();
    for key in &units {
        let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
        if unit.owner != seller {
            return Err(SupplyError::NotAuthorised);
        }
        if !movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        unit.disposition = Disposition::InTransit;
        unit.shipment = Some(shipment_id);
        touch(key, &mut unit, id);
        match lines
            .iter_mut()
            .find(|line| line.gtin == unit.gtin && line.lot == unit.lot)
        {
            Some(line) => line.units += 1,
            None => {
                let product = PRODUCTS.get(&unit.gtin).ok_or(SupplyError::Unknown)?;
                lines.push(ProductLine {
                    gtin: product.gtin,
                    ndc: product.ndc,
                    name: product.name,
                    strength: product.strength,
                    dosage_form: product.dosage_form,
                    container_size: product.container_size,
                    lot: unit.lot.clone(),
                    units: 1,
                });
            }
        }
    }
    let information = TransactionInformation {
        seller,
        buyer,
        transaction_ms: now,
        shipment_ms: now,
        documents: documents.clone(),
        lines,
        statement: true,
    };
    SHIPMENTS.insert(
        &shipment_id,
        &Shipment {
            epcs: epcs.clone(),
            information,
            received: false,
        },
    );
    record_event(
        id,
        "TransactionEvent",
        "ADD",
        epcs,
        None,
        "shipping",
        "in_transit",
        location,
        documents,
        Some(seller),
        Some(buyer),
    );
    Ok(shipment_id)
}

/// The EPCs sorted by their encoding, each once: a set to look EPCs up in.
fn epc_set(epcs: &[Epc]) -> Vec<Vec<u8>> {
    let mut set: Vec<Vec<u8>> = epcs.iter().map(Encode::encode).collect();
    set.sort();
    set.dedup();
    set
}

/// The body of [`Supply::receive`](crate::Supply::receive).
///
/// The presented EPCs are compared with the shipped ones as sets (order and repeats ignored).
/// What was shipped and presented is received; what was shipped and not presented goes out of
/// transit back to the seller, its owner, held (`holding` / `non_sellable_other`, quarantined);
/// what was presented and not shipped changes nothing. A mismatch is stored as the shipment's
/// [`Discrepancy`] and raises a `discrepancy` alert; the answer is whether the receipt matched.
pub(crate) fn receive(
    shipment_id: u64,
    presented: Vec<Epc>,
    location: String,
) -> Result<bool, SupplyError> {
    check_code(&location)?;
    let mut shipment = SHIPMENTS.get(&shipment_id).ok_or(SupplyError::Unknown)?;
    let buyer = caller();
    if shipment.information.buyer != buyer {
        return Err(SupplyError::NotAuthorised);
    }
    if shipment.received {
        return Err(SupplyError::AlreadyReceived);
    }
    let shipped_set = epc_set(&shipment.epcs);
    let presented_set = epc_set(&presented);
    let (received, missing): (Vec<Epc>, Vec<Epc>) = shipment
        .epcs
        .iter()
        .cloned()
        .partition(|epc| presented_set.binary_search(&epc.encode()).is_ok());
    let mut unexpected: Vec<Epc> = Vec::new();
    for epc in presented {
        if shipped_set.binary_search(&epc.encode()).is_err() && !unexpected.contains(&epc) {
            unexpected.push(epc);
        }
    }
    let seller = shipment.information.seller;
    if !received.is_empty() {
        let id = next_event_id();
        for key in expand(&received)? {
            let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
            unit.owner = buyer;
            unit.seller = Some(seller);
            unit.custodian = buyer;
            unit.location = location.clone();
            unit.shipment = None;
            unit.disposition = if unit.parent.is_some() {
                Disposition::Active
            } else {
                Disposition::SellableAccessible
            };
            touch(&key, &mut unit, id);
        }
        for epc in &received {
            let Epc::Case(sscc) = epc else { continue };
            for nested in case_tree(sscc)? {
                let mut container = CONTAINERS.get(&nested).ok_or(SupplyError::Unknown)?;
                container.owner = buyer;
                container.custodian = buyer;
                container.location = location.clone();
                CONTAINERS.insert(&nested, &container);
            }
        }
        // EPCIS 2.0 requires a TransactionEvent to name at least one business transaction:
        // the shipment's DSCSA transaction documents (PO, invoice), else its despatch advice.
        let mut documents = shipment.information.documents.clone();
        if documents.is_empty() {
            let mut reference = [0u8; 32];
            reference[24..].copy_from_slice(&shipment_id.to_be_bytes());
            documents.push((String::from("desadv"), Hash(reference)));
        }
        record_event(
            id,
            "TransactionEvent",
            "ADD",
            received,
            None,
            "receiving",
            "in_progress",
            location.clone(),
            documents,
            Some(seller),
            Some(buyer),
        );
    }
    if !missing.is_empty() {
        let id = next_event_id();
        for key in expand(&missing)? {
            let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
            unit.shipment = None;
            unit.quarantined = true;
            unit.disposition = Disposition::NonSellableOther;
            touch(&key, &mut unit, id);
        }
        record_event(
            id,
            "ObjectEvent",
            "OBSERVE",
            missing.clone(),
            None,
            "holding",
            "non_sellable_other",
            location,
            Vec::new(),
            Some(seller),
            None,
        );
    }
    shipment.received = true;
    SHIPMENTS.insert(&shipment_id, &shipment);
    let matched = missing.is_empty() && unexpected.is_empty();
    if !matched {
        DISCREPANCIES.insert(
            &shipment_id,
            &Discrepancy {
                missing,
                unexpected,
                recorded_ms: block_timestamp_ms(),
            },
        );
        Alert {
            kind: "discrepancy".into(),
            reference: shipment_id,
            detail: "received contents differ from the shipment".into(),
        }
        .emit();
    }
    Ok(matched)
}
