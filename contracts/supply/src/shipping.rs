//! Shipments between authorised trading partners with the DSCSA transaction information and
//! statement, and their receipt by the named buyer (compared as sets; a mismatch is a stored
//! discrepancy and nothing stays in transit).

use salus_sdk::Encode;
use salus_sdk::prelude::*;

use registry::Role;

use crate::checks::{Lots, active, check_code, check_sscc, may_own, trading_partner};
use crate::epcis::{event, next_event_id, record, record_event, touch};
use crate::packaging::{case_tree, expand};
use crate::storage::{
    CONTAINERS, DISCREPANCIES, NEXT_SALE, NEXT_SHIPMENT, PENDING_SALES, PRODUCTS, SALES, SHIPMENTS,
    UNITS,
};
use crate::types::*;

/// The goods behind `epcs` as they stand before a move by `shipper`: every EPC named must be
/// held by it (its custodian) and not packed inside another container, and every unit behind
/// them owned by one party, `owner` if given. Returns that owner.
fn owner_of_held(
    epcs: &[Epc],
    shipper: Address,
    owner: Option<Address>,
) -> Result<Address, SupplyError> {
    let mut owner = owner;
    for epc in epcs {
        let (held_by, owned_by, parent) = match epc {
            Epc::Unit(gtin, serial) => UNITS
                .get(&(gtin.clone(), serial.clone()))
                .map(|unit| (unit.custodian, unit.owner, unit.parent)),
            Epc::Case(sscc) => {
                check_sscc(sscc)?;
                CONTAINERS
                    .get(sscc)
                    .map(|case| (case.custodian, case.owner, case.parent))
            }
        }
        .ok_or(SupplyError::Unknown)?;
        if held_by != shipper || *owner.get_or_insert(owned_by) != owned_by {
            return Err(SupplyError::NotAuthorised);
        }
        if parent.is_some() {
            return Err(SupplyError::NotMovable);
        }
    }
    owner.ok_or(SupplyError::Unknown)
}

/// Puts every unit behind `epcs` in transit in shipment `shipment_id` (event `id`): each must
/// be held by `shipper`, owned by `owner`, movable and in no sale awaiting dispatch other than
/// `sale`. Returns the DSCSA product lines (one per product and lot).
fn set_off(
    epcs: &[Epc],
    shipper: Address,
    owner: Address,
    sale: Option<u64>,
    shipment_id: u64,
    id: u64,
) -> Result<Vec<ProductLine>, SupplyError> {
    let mut lines: Vec<ProductLine> = Vec::new();
    let mut lots = Lots::default();
    for key in expand(epcs)? {
        let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
        if unit.owner != owner || unit.custodian != shipper {
            return Err(SupplyError::NotAuthorised);
        }
        if !lots.movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        // Only goods a 3PL holds can be in a sale awaiting dispatch.
        if shipper != owner {
            if PENDING_SALES.get(&key) != sale {
                return Err(SupplyError::WrongState);
            }
            if sale.is_some() {
                PENDING_SALES.remove(&key);
            }
        }
        unit.disposition = Disposition::InTransit;
        unit.shipment = Some(shipment_id);
        touch(&key, &mut unit, id);
        add_line(&mut lines, &unit)?;
    }
    Ok(lines)
}

/// Counts `unit` in the product lines of a transaction.
fn add_line(lines: &mut Vec<ProductLine>, unit: &Unit) -> Result<(), SupplyError> {
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
    Ok(())
}

fn next_shipment_id() -> u64 {
    let shipment_id = NEXT_SHIPMENT.get().unwrap_or(0);
    NEXT_SHIPMENT.set(&(shipment_id + 1));
    shipment_id
}

/// The body of [`Supply::ship`](crate::Supply::ship): a sale from the seller's own hands.
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
    // The buyer takes ownership: a 3PL never does.
    if !may_own(&buyer)? {
        return Err(SupplyError::PartnerNotAuthorised);
    }
    // Packed goods travel with their outermost container; the seller ships what it holds
    // (goods a 3PL holds for it are sold with `sell` and shipped by the 3PL).
    owner_of_held(&epcs, seller, Some(seller))?;
    let shipment_id = next_shipment_id();
    let id = next_event_id();
    let lines = set_off(&epcs, seller, seller, None, shipment_id, id)?;
    let now = block_timestamp_ms();
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
            information: Some(information),
            shipper: seller,
            receiver: buyer,
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

/// The body of [`Supply::consign`](crate::Supply::consign): a custody move, no transaction.
pub(crate) fn consign(epcs: Vec<Epc>, to: Address, location: String) -> Result<u64, SupplyError> {
    check_code(&location)?;
    let holder = caller();
    if !trading_partner(&holder)? {
        return Err(SupplyError::NotAuthorised);
    }
    let owner = owner_of_held(&epcs, holder, None)?;
    if owner == holder {
        // An owner places its goods with a 3PL licensed and in good standing now.
        if !active(&to, Role::ThirdPartyLogistics)? {
            return Err(SupplyError::PartnerNotAuthorised);
        }
    } else if to != owner {
        // A 3PL moves the goods it holds only back to their owner (or, by `dispatch`, to the
        // buyer the owner sold them to).
        return Err(SupplyError::NotAuthorised);
    }
    let shipment_id = next_shipment_id();
    let id = next_event_id();
    set_off(&epcs, holder, owner, None, shipment_id, id)?;
    SHIPMENTS.insert(
        &shipment_id,
        &Shipment {
            epcs: epcs.clone(),
            information: None,
            shipper: holder,
            receiver: to,
            received: false,
        },
    );
    // No change of ownership, so no TransactionEvent: an ObjectEvent with the possessing
    // parties as source and destination.
    let mut shipping = event(
        id,
        "ObjectEvent",
        "OBSERVE",
        epcs,
        None,
        "shipping",
        "in_transit",
        location,
        Vec::new(),
        None,
        None,
    );
    shipping.custody = Some((holder, to));
    record(shipping);
    Ok(shipment_id)
}

/// The body of [`Supply::sell`](crate::Supply::sell): the owner's transaction for goods a 3PL
/// holds, which the 3PL then dispatches.
pub(crate) fn sell(
    epcs: Vec<Epc>,
    buyer: Address,
    documents: Vec<(String, Hash)>,
) -> Result<u64, SupplyError> {
    let seller = caller();
    if !trading_partner(&seller)? {
        return Err(SupplyError::NotAuthorised);
    }
    if !may_own(&buyer)? {
        return Err(SupplyError::PartnerNotAuthorised);
    }
    let custodian = match epcs.first() {
        Some(Epc::Unit(gtin, serial)) => UNITS
            .get(&(gtin.clone(), serial.clone()))
            .map(|unit| unit.custodian),
        Some(Epc::Case(sscc)) => CONTAINERS.get(sscc).map(|case| case.custodian),
        None => None,
    }
    .ok_or(SupplyError::Unknown)?;
    owner_of_held(&epcs, custodian, Some(seller))?;
    // Goods in the seller's own hands are sold and shipped at once with `ship`.
    if custodian == seller {
        return Err(SupplyError::WrongState);
    }
    let sale = NEXT_SALE.get().unwrap_or(0);
    NEXT_SALE.set(&(sale + 1));
    let mut lines = Vec::new();
    let mut lots = Lots::default();
    for key in expand(&epcs)? {
        let unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
        if unit.owner != seller || unit.custodian != custodian {
            return Err(SupplyError::NotAuthorised);
        }
        if !lots.movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        // Sold once: a unit in a sale not yet dispatched is not sold again.
        if PENDING_SALES.contains(&key) {
            return Err(SupplyError::WrongState);
        }
        PENDING_SALES.insert(&key, &sale);
        add_line(&mut lines, &unit)?;
    }
    SALES.insert(
        &sale,
        &Sale {
            epcs,
            information: TransactionInformation {
                seller,
                buyer,
                transaction_ms: block_timestamp_ms(),
                shipment_ms: 0,
                documents,
                lines,
                statement: true,
            },
            custodian,
            shipment: None,
            cancelled_ms: None,
        },
    );
    Ok(sale)
}

/// The body of [`Supply::cancel_sale`](crate::Supply::cancel_sale): the seller withdraws a sale
/// not yet dispatched; its units are free to be sold again, and the record stays.
pub(crate) fn cancel_sale(sale_id: u64) -> Result<(), SupplyError> {
    let mut sale = SALES.get(&sale_id).ok_or(SupplyError::Unknown)?;
    if sale.information.seller != caller() {
        return Err(SupplyError::NotAuthorised);
    }
    if sale.shipment.is_some() || sale.cancelled_ms.is_some() {
        return Err(SupplyError::WrongState);
    }
    for key in expand(&sale.epcs)? {
        if PENDING_SALES.get(&key) == Some(sale_id) {
            PENDING_SALES.remove(&key);
        }
    }
    sale.cancelled_ms = Some(block_timestamp_ms());
    SALES.insert(&sale_id, &sale);
    Ok(())
}

/// The body of [`Supply::dispatch`](crate::Supply::dispatch): the 3PL ships a sale of the
/// goods it holds to the buyer, as custodian for the seller.
pub(crate) fn dispatch(sale_id: u64, location: String) -> Result<u64, SupplyError> {
    check_code(&location)?;
    let mut sale = SALES.get(&sale_id).ok_or(SupplyError::Unknown)?;
    let shipper = caller();
    if sale.custodian != shipper || !trading_partner(&shipper)? {
        return Err(SupplyError::NotAuthorised);
    }
    if sale.shipment.is_some() || sale.cancelled_ms.is_some() {
        return Err(SupplyError::WrongState);
    }
    let seller = sale.information.seller;
    let buyer = sale.information.buyer;
    if !trading_partner(&seller)? {
        return Err(SupplyError::NotAuthorised);
    }
    if !may_own(&buyer)? {
        return Err(SupplyError::PartnerNotAuthorised);
    }
    owner_of_held(&sale.epcs, shipper, Some(seller))?;
    let shipment_id = next_shipment_id();
    let id = next_event_id();
    set_off(&sale.epcs, shipper, seller, Some(sale_id), shipment_id, id)?;
    let mut information = sale.information.clone();
    information.shipment_ms = block_timestamp_ms();
    let documents = information.documents.clone();
    SHIPMENTS.insert(
        &shipment_id,
        &Shipment {
            epcs: sale.epcs.clone(),
            information: Some(information),
            shipper,
            receiver: buyer,
            received: false,
        },
    );
    let mut shipping = event(
        id,
        "TransactionEvent",
        "ADD",
        sale.epcs.clone(),
        None,
        "shipping",
        "in_transit",
        location,
        documents,
        Some(seller),
        Some(buyer),
    );
    shipping.custody = Some((shipper, buyer));
    record(shipping);
    sale.shipment = Some(shipment_id);
    SALES.insert(&sale_id, &sale);
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
/// What was shipped and presented is received: custody moves to the receiver, and ownership
/// with it only for a sale (a shipment with transaction information); what was shipped and not
/// presented goes out of transit back to the shipper's custody, its owner unchanged, held
/// (`holding` / `non_sellable_other`, quarantined); what was presented and not shipped changes
/// nothing. A mismatch is stored as the shipment's [`Discrepancy`] and raises a `discrepancy`
/// alert; the answer is whether the receipt matched.
pub(crate) fn receive(
    shipment_id: u64,
    presented: Vec<Epc>,
    location: String,
) -> Result<bool, SupplyError> {
    check_code(&location)?;
    let shipment = SHIPMENTS.get(&shipment_id).ok_or(SupplyError::Unknown)?;
    let receiver = caller();
    // The receiver takes ownership or custody now: it must be an authorised trading partner now
    // (DSCSA §582), not only when the goods were shipped.
    if shipment.receiver != receiver || !trading_partner(&receiver)? {
        return Err(SupplyError::NotAuthorised);
    }
    if shipment.received {
        return Err(SupplyError::AlreadyReceived);
    }
    settle(
        shipment_id,
        shipment,
        presented,
        location,
        "received contents differ from the shipment",
    )
}

/// The body of [`Supply::withdraw_shipment`](crate::Supply::withdraw_shipment): the shipper
/// takes back a shipment its receiver can no longer receive (suspended, revoked or unlicensed
/// since it was shipped), as a receipt of nothing — everything returns to the shipper's custody,
/// held, recorded as the shipment's discrepancy. Goods never stay in transit for want of a
/// receiver.
pub(crate) fn withdraw_shipment(shipment_id: u64, location: String) -> Result<(), SupplyError> {
    check_code(&location)?;
    let shipment = SHIPMENTS.get(&shipment_id).ok_or(SupplyError::Unknown)?;
    if shipment.shipper != caller() {
        return Err(SupplyError::NotAuthorised);
    }
    if shipment.received {
        return Err(SupplyError::AlreadyReceived);
    }
    if trading_partner(&shipment.receiver)? {
        return Err(SupplyError::WrongState);
    }
    settle(
        shipment_id,
        shipment,
        Vec::new(),
        location,
        "withdrawn: the receiver is no longer an authorised trading partner",
    )?;
    Ok(())
}

/// Settles a shipment with what was `presented` at `location` (see `receive`); `detail` names
/// a mismatch in its alert.
fn settle(
    shipment_id: u64,
    mut shipment: Shipment,
    presented: Vec<Epc>,
    location: String,
    detail: &str,
) -> Result<bool, SupplyError> {
    let receiver = shipment.receiver;
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
    // A sale moves ownership to the buyer (DSCSA §582(c)(1)(A)); a custody move only custody.
    let sale = shipment
        .information
        .as_ref()
        .map(|information| (information.seller, information.buyer));
    let shipper = shipment.shipper;
    if !received.is_empty() {
        let id = next_event_id();
        for key in expand(&received)? {
            let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
            if let Some((seller, buyer)) = sale {
                unit.owner = buyer;
                unit.seller = Some(seller);
            }
            unit.custodian = receiver;
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
                if let Some((_, buyer)) = sale {
                    container.owner = buyer;
                }
                container.custodian = receiver;
                container.location = location.clone();
                CONTAINERS.insert(&nested, &container);
            }
        }
        let receiving = match (&shipment.information, sale) {
            (Some(information), Some((seller, buyer))) => {
                // EPCIS 2.0 requires a TransactionEvent to name at least one business
                // transaction: the shipment's DSCSA transaction documents (PO, invoice), else
                // its despatch advice.
                let mut documents = information.documents.clone();
                if documents.is_empty() {
                    let mut reference = [0u8; 32];
                    reference[24..].copy_from_slice(&shipment_id.to_be_bytes());
                    documents.push((String::from("desadv"), Hash(reference)));
                }
                let mut receiving = event(
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
                if shipper != seller {
                    receiving.custody = Some((shipper, receiver));
                }
                receiving
            }
            _ => {
                let mut receiving = event(
                    id,
                    "ObjectEvent",
                    "OBSERVE",
                    received,
                    None,
                    "receiving",
                    "in_progress",
                    location.clone(),
                    Vec::new(),
                    None,
                    None,
                );
                receiving.custody = Some((shipper, receiver));
                receiving
            }
        };
        record(receiving);
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
            sale.map(|(seller, _)| seller),
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
            detail: detail.into(),
        }
        .emit();
    }
    Ok(matched)
}
