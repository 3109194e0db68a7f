//! Cases and pallets (SSCC): units packed into cases, cases into pallets, and unpacked again,
//! each an AggregationEvent; what a case holds, nested cases included, for every step that
//! acts on cases.

use salus_sdk::prelude::*;

use crate::checks::{Lots, MAX_UNITS_PER_EVENT, check_code, check_sscc, trading_partner};
use crate::epcis::{next_event_id, record_event, touch};
use crate::storage::{CONTAINERS, UNITS};
use crate::types::*;

/// Stores a new container (units or cases inside, held by its owner where it was packed) and
/// records its packing as one AggregationEvent ADD with the `epcs` put in.
pub(crate) fn seal_container(
    id: u64,
    sscc: String,
    owner: Address,
    children: Vec<(String, String)>,
    cases: Vec<String>,
    epcs: Vec<Epc>,
    location: String,
) {
    CONTAINERS.insert(
        &sscc,
        &Container {
            children,
            owner,
            custodian: owner,
            location: location.clone(),
            cases,
            parent: None,
        },
    );
    record_event(
        id,
        "AggregationEvent",
        "ADD",
        epcs,
        Some(sscc),
        "packing",
        "in_progress",
        location,
        Vec::new(),
        None,
        None,
    );
}

/// A case and every case nested in it, outermost first. Nesting cannot cycle: only a new
/// SSCC can receive cases, and a case already in a pallet cannot be packed again.
pub(crate) fn case_tree(sscc: &str) -> Result<Vec<String>, SupplyError> {
    let mut tree = Vec::from([String::from(sscc)]);
    let mut next = 0;
    while next < tree.len() {
        let container = CONTAINERS.get(&tree[next]).ok_or(SupplyError::Unknown)?;
        tree.extend(container.cases);
        if tree.len() > MAX_UNITS_PER_EVENT {
            return Err(SupplyError::TooLarge);
        }
        next += 1;
    }
    Ok(tree)
}

/// The units behind a list of EPCs (cases expanded to their contents).
pub(crate) fn expand(epcs: &[Epc]) -> Result<Vec<(String, String)>, SupplyError> {
    let mut units = Vec::new();
    for epc in epcs {
        match epc {
            Epc::Unit(gtin, serial) => units.push((gtin.clone(), serial.clone())),
            Epc::Case(sscc) => {
                check_sscc(sscc)?;
                for nested in case_tree(sscc)? {
                    let container = CONTAINERS.get(&nested).ok_or(SupplyError::Unknown)?;
                    units.extend(container.children);
                }
            }
        }
        if units.len() > MAX_UNITS_PER_EVENT {
            return Err(SupplyError::TooLarge);
        }
    }
    Ok(units)
}

/// The body of [`Supply::pack`](crate::Supply::pack).
pub(crate) fn pack(
    sscc: String,
    units: Vec<(String, String)>,
    location: String,
) -> Result<u64, SupplyError> {
    check_sscc(&sscc)?;
    if units.len() > MAX_UNITS_PER_EVENT {
        return Err(SupplyError::TooLarge);
    }
    if CONTAINERS.contains(&sscc) {
        return Err(SupplyError::AlreadyCommissioned);
    }
    let owner = caller();
    // Packing prepares goods for commerce: only an authorised trading partner now.
    if !trading_partner(&owner)? {
        return Err(SupplyError::NotAuthorised);
    }
    let id = next_event_id();
    let mut lots = Lots::default();
    for key in &units {
        let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
        // Packed where the owner holds them (not while a 3PL holds them).
        if unit.owner != owner || unit.custodian != owner {
            return Err(SupplyError::NotAuthorised);
        }
        if unit.parent.is_some() || !lots.movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        unit.parent = Some(sscc.clone());
        touch(key, &mut unit, id);
    }
    let epcs = units
        .iter()
        .cloned()
        .map(|(g, s)| Epc::Unit(g, s))
        .collect();
    seal_container(id, sscc, owner, units, Vec::new(), epcs, location);
    Ok(id)
}

/// The body of [`Supply::pack_cases`](crate::Supply::pack_cases).
pub(crate) fn pack_cases(
    pallet: String,
    cases: Vec<String>,
    location: String,
) -> Result<u64, SupplyError> {
    check_sscc(&pallet)?;
    check_code(&location)?;
    if cases.len() > MAX_UNITS_PER_EVENT {
        return Err(SupplyError::TooLarge);
    }
    if CONTAINERS.contains(&pallet) {
        return Err(SupplyError::AlreadyCommissioned);
    }
    let owner = caller();
    // Packing prepares goods for commerce: only an authorised trading partner now.
    if !trading_partner(&owner)? {
        return Err(SupplyError::NotAuthorised);
    }
    for sscc in &cases {
        check_sscc(sscc)?;
        let mut case = CONTAINERS.get(sscc).ok_or(SupplyError::Unknown)?;
        if case.owner != owner || case.custodian != owner {
            return Err(SupplyError::NotAuthorised);
        }
        if case.parent.is_some() {
            return Err(SupplyError::NotMovable);
        }
        case.parent = Some(pallet.clone());
        CONTAINERS.insert(sscc, &case);
    }
    let epcs: Vec<Epc> = cases.iter().cloned().map(Epc::Case).collect();
    let id = next_event_id();
    let mut lots = Lots::default();
    for key in expand(&epcs)? {
        let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
        if !lots.movable(&unit) {
            return Err(SupplyError::NotMovable);
        }
        touch(&key, &mut unit, id);
    }
    seal_container(id, pallet, owner, Vec::new(), cases, epcs, location);
    Ok(id)
}

/// The body of [`Supply::unpack`](crate::Supply::unpack).
pub(crate) fn unpack(sscc: String, location: String) -> Result<u64, SupplyError> {
    check_sscc(&sscc)?;
    let container = CONTAINERS.get(&sscc).ok_or(SupplyError::Unknown)?;
    if container.owner != caller() || !trading_partner(&caller())? {
        return Err(SupplyError::NotAuthorised);
    }
    let travelling = expand(&[Epc::Case(sscc.clone())])?
        .iter()
        .any(|key| UNITS.get(key).is_some_and(|unit| unit.shipment.is_some()));
    if travelling || container.parent.is_some() {
        return Err(SupplyError::WrongState);
    }
    // The aggregation ends: the case no longer exists as a container, and the cases
    // it held stand alone.
    CONTAINERS.remove(&sscc);
    for child in &container.cases {
        if let Some(mut case) = CONTAINERS.get(child) {
            case.parent = None;
            CONTAINERS.insert(child, &case);
        }
    }
    let id = next_event_id();
    for key in &container.children {
        let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
        unit.parent = None;
        if matches!(unit.disposition, Disposition::Active) {
            unit.disposition = Disposition::SellableAccessible;
        }
        touch(key, &mut unit, id);
    }
    let epcs = container
        .children
        .iter()
        .map(|(g, s)| Epc::Unit(g.clone(), s.clone()))
        .chain(container.cases.iter().cloned().map(Epc::Case))
        .collect();
    record_event(
        id,
        "AggregationEvent",
        "DELETE",
        epcs,
        Some(sscc),
        "unpacking",
        "sellable_accessible",
        location,
        Vec::new(),
        None,
        None,
    );
    Ok(id)
}
