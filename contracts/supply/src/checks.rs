//! Who may trade, asked of the registry at the time of each transfer, whether a unit may move,
//! and the bounds of every input.

use registry::{RegistryRef, Role};
use salus_sdk::prelude::*;

use crate::gs1::{day_of_ms, is_sscc};
use crate::storage::{LOT_STATE, REGISTRY};
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

/// The roles `participant` holds in good standing with a current licence now (none
/// otherwise): one registry call, however many roles a check accepts.
pub(crate) fn active_roles(participant: &Address) -> Result<Vec<Role>, SupplyError> {
    let registry = REGISTRY.get().ok_or(SupplyError::Unknown)?;
    RegistryRef(registry)
        .active_roles(*participant, None)
        .map_err(|_| SupplyError::Unknown)
}

/// Whether `participant` holds any of `roles` in good standing with a current licence now.
pub(crate) fn active_in_any(participant: &Address, roles: &[Role]) -> Result<bool, SupplyError> {
    Ok(active_roles(participant)?
        .iter()
        .any(|role| roles.contains(role)))
}

/// An authorised trading partner now: manufacturer, repackager, wholesaler, dispenser or
/// third-party logistics provider in good standing with a current licence.
pub(crate) fn trading_partner(participant: &Address) -> Result<bool, SupplyError> {
    active_in_any(
        participant,
        &[
            Role::WholesaleDistributor,
            Role::Dispenser,
            Role::Manufacturer,
            Role::Repackager,
            Role::ThirdPartyLogistics,
        ],
    )
}

/// A party that may take ownership of product now: manufacturer, repackager, wholesaler or
/// dispenser in good standing with a current licence. A third-party logistics provider never
/// does (DSCSA §581(22)): goods shipped to it stay their owner's.
pub(crate) fn may_own(participant: &Address) -> Result<bool, SupplyError> {
    active_in_any(
        participant,
        &[
            Role::WholesaleDistributor,
            Role::Dispenser,
            Role::Manufacturer,
            Role::Repackager,
        ],
    )
}

/// How many repackagings deep a recall is followed back: a repackaged product repackaged again
/// (e.g. unit doses from a repackaged bottle); deeper lineages are refused at repackaging, so
/// that a lot check reads at most `MAX_LOT_SOURCES` + `MAX_LOT_SOURCES`² lots.
pub(crate) const MAX_LINEAGE_DEPTH: usize = 2;
/// Most lots one repackaged lot may be made from.
pub(crate) const MAX_LOT_SOURCES: usize = 8;

/// The stored state of lot `key`, or that of a lot nothing was recorded for (no units, recall,
/// extension or sources).
pub(crate) fn lot_state(key: &(String, String)) -> Lot {
    LOT_STATE.get(key).unwrap_or(Lot {
        units: 0,
        recalled: false,
        extended_expiry_ms: None,
        sources: Vec::new(),
    })
}

/// Whether lot `key` is recalled, directly or through a lot it was repackaged from (followed
/// `depth` levels back), and how deep its lineage goes.
pub(crate) fn lot_recalled(key: &(String, String), depth: usize) -> (Lot, usize) {
    let mut state = lot_state(key);
    let mut deepest = 0;
    if depth > 0 {
        for source in &state.sources {
            let (source_state, source_depth) = lot_recalled(source, depth - 1);
            state.recalled |= source_state.recalled;
            deepest = deepest.max(source_depth + 1);
        }
    }
    (state, deepest)
}

/// The lot-level state of the lots a message touches, each read once per message; a lot's
/// `recalled` includes a recall of a lot it was repackaged from.
#[derive(Default)]
pub(crate) struct Lots(Vec<((String, String), Lot)>);

impl Lots {
    /// The state of `unit`'s lot.
    pub(crate) fn of(&mut self, unit: &Unit) -> &Lot {
        let position = match self
            .0
            .iter()
            .position(|((gtin, lot), _)| *gtin == unit.gtin && *lot == unit.lot)
        {
            Some(position) => position,
            None => {
                let key = (unit.gtin.clone(), unit.lot.clone());
                let (state, _) = lot_recalled(&key, MAX_LINEAGE_DEPTH);
                self.0.push((key, state));
                self.0.len() - 1
            }
        };
        &self.0[position].1
    }

    /// Whether `unit`'s lot is recalled.
    pub(crate) fn recalled(&mut self, unit: &Unit) -> bool {
        self.of(unit).recalled
    }

    /// `unit`'s expiry in force: the lot's extended expiry, else the printed one.
    pub(crate) fn expiry_ms(&mut self, unit: &Unit) -> u64 {
        self.of(unit).extended_expiry_ms.unwrap_or(unit.expiry_ms)
    }

    /// Whether `unit` may ship or be dispensed: not quarantined, recalled, expired, dispensed,
    /// destroyed, inactive or travelling.
    pub(crate) fn movable(&mut self, unit: &Unit) -> bool {
        !unit.quarantined
            && !unit.illegitimate
            && unit.shipment.is_none()
            && matches!(
                unit.disposition,
                Disposition::Active | Disposition::SellableAccessible
            )
            && !self.recalled(unit)
            && !expired(self.expiry_ms(unit))
    }
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
