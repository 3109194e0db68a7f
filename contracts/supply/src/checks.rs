//! Who may trade, asked of the registry at the time of each transfer, whether a unit may move,
//! and the bounds of every input.

use registry::{RegistryRef, Role};
use salus_sdk::prelude::*;

use crate::gs1::{day_of_ms, is_sscc};
use crate::storage::REGISTRY;
use crate::types::*;

/// Most units one transaction commissions, ships or receives: bounds fuel and event size.
pub(crate) const MAX_UNITS_PER_EVENT: usize = 500;
/// Longest serial (GS1: up to 20 alphanumerics).
pub(crate) const MAX_SERIAL_BYTES: usize = 20;
/// Longest lot (GS1 AI 10: up to 20).
pub(crate) const MAX_LOT_BYTES: usize = 20;
/// Longest free-standing code (GLN, GTIN, SSCC, bizStep …).
pub(crate) const MAX_CODE_BYTES: usize = 40;

pub(crate) fn active(participant: &Address, role: Role) -> Result<bool, SupplyError> {
    let registry = REGISTRY.get().ok_or(SupplyError::Unknown)?;
    RegistryRef(registry)
        .is_active(*participant, role, None)
        .map_err(|_| SupplyError::Unknown)
}

/// The GS1 company prefix the registry attests for `participant`, if any.
pub(crate) fn attested_company_prefix(
    participant: &Address,
) -> Result<Option<String>, SupplyError> {
    let registry = REGISTRY.get().ok_or(SupplyError::Unknown)?;
    RegistryRef(registry)
        .participant(*participant)
        .map(|record| record.and_then(|record| record.company_prefix))
        .map_err(|_| SupplyError::Unknown)
}

/// An authorised trading partner now: manufacturer, repackager, wholesaler, dispenser or
/// third-party logistics provider in good standing with a current licence.
pub(crate) fn trading_partner(participant: &Address) -> Result<bool, SupplyError> {
    for role in [
        Role::WholesaleDistributor,
        Role::Dispenser,
        Role::Manufacturer,
        Role::Repackager,
        Role::ThirdPartyLogistics,
    ] {
        if active(participant, role)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a unit may ship or be dispensed: not quarantined, recalled, expired, dispensed,
/// destroyed, inactive or travelling.
pub(crate) fn movable(unit: &Unit) -> bool {
    !unit.quarantined
        && !unit.recalled
        && !unit.illegitimate
        && unit.shipment.is_none()
        && !expired(unit.expiry_ms)
        && matches!(
            unit.disposition,
            Disposition::Active | Disposition::SellableAccessible
        )
}

/// Whether a unit is in its owner's stock: active, sellable or held (not in transit, dispensed,
/// inactive or destroyed).
pub(crate) fn in_stock(unit: &Unit) -> bool {
    matches!(
        unit.disposition,
        Disposition::Active | Disposition::SellableAccessible | Disposition::NonSellableOther
    )
}

pub(crate) fn check_code(code: &str) -> Result<(), SupplyError> {
    if code.len() > MAX_CODE_BYTES {
        Err(SupplyError::TooLarge)
    } else {
        Ok(())
    }
}

/// Whether an expiry has passed. GS1 expiry dates are days (AI 17), and a product may be used
/// through its expiry date: it is expired from the next UTC day on.
pub(crate) fn expired(expiry_ms: u64) -> bool {
    day_of_ms(block_timestamp_ms()) > day_of_ms(expiry_ms)
}

/// Refuses an SSCC without 18 digits and a valid GS1 check digit (General Specifications:
/// AI 00, §7.9.1), wherever one is created or named.
pub(crate) fn check_sscc(sscc: &str) -> Result<(), SupplyError> {
    if is_sscc(sscc) {
        Ok(())
    } else {
        Err(SupplyError::InvalidIdentifier)
    }
}
