//! Prescriptions, dispensing against them, saleable returns, and verification in GS1
//! Lightweight Verification Messaging terms.

use registry::Role;
use salus_sdk::prelude::*;

use crate::SupplyError;
use crate::checks::*;
use crate::epcis::*;
use crate::investigations::*;
use crate::storage::*;
use crate::units::*;

/// A practitioner's prescription (hash, patient address, product, fills).
#[data]
pub struct Prescription {
    /// Prescriber.
    pub practitioner: Address,
    /// Patient (an address, never a name).
    pub patient: Address,
    /// NDC prescribed.
    pub ndc: String,
    /// Fills left.
    pub fills_left: u32,
    /// Valid until (ms).
    pub expires_ms: u64,
}

/// GS1 Lightweight Verification Messaging response.
#[data]
pub struct Verification {
    /// Whether the identifiers match a commissioned unit.
    pub verified: bool,
    /// When not verified: `No_match_GTIN_Serial`, `No_match_GTIN_Serial_Lot`,
    /// `No_match_GTIN_Serial_Expiry`, `No_match_GTIN_Serial_Lot_Expiry`.
    pub failure_reason: Option<String>,
    /// Additional information, also on a true answer: `Recalled`, `Expired`, `Suspect`,
    /// `Illegitimate`.
    pub additional: Vec<String>,
}

/// The Lightweight Verification Messaging answer for a unit's identifiers (`verify`, and the
/// checks of dispensing and returns).
pub(crate) fn verify_unit(gtin: &str, serial: &str, lot: &str, expiry_ms: u64) -> Verification {
    let Some(unit) = UNITS.get(&(gtin.into(), serial.into())) else {
        return Verification {
            verified: false,
            failure_reason: Some("No_match_GTIN_Serial".into()),
            additional: Vec::new(),
        };
    };
    let failure = match (unit.lot == lot, unit.expiry_ms == expiry_ms) {
        (true, true) => None,
        (false, true) => Some("No_match_GTIN_Serial_Lot"),
        (true, false) => Some("No_match_GTIN_Serial_Expiry"),
        (false, false) => Some("No_match_GTIN_Serial_Lot_Expiry"),
    };
    let mut additional = Vec::new();
    if unit.recalled {
        additional.push(String::from("Recalled"));
    }
    if unit.expiry_ms <= block_timestamp_ms() {
        additional.push(String::from("Expired"));
    }
    if unit.suspect {
        additional.push(String::from("Suspect"));
    }
    if unit.illegitimate {
        additional.push(String::from("Illegitimate"));
    }
    Verification {
        verified: failure.is_none(),
        failure_reason: failure.map(String::from),
        additional,
    }
}

/// The body of [`Supply::prescribe`](crate::Supply::prescribe).
pub(crate) fn prescribe(
    prescription: Hash,
    patient: Address,
    ndc: String,
    fills: u32,
    expires_ms: u64,
) -> Result<(), SupplyError> {
    check_code(&ndc)?;
    let practitioner = caller();
    if !active(&practitioner, Role::Practitioner)? {
        return Err(SupplyError::NotAuthorised);
    }
    if PRESCRIPTIONS.contains(&prescription) {
        return Err(SupplyError::AlreadyCommissioned);
    }
    PRESCRIPTIONS.insert(
        &prescription,
        &Prescription {
            practitioner,
            patient,
            ndc,
            fills_left: fills,
            expires_ms,
        },
    );
    Ok(())
}

/// The body of [`Supply::dispense`](crate::Supply::dispense).
pub(crate) fn dispense(
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    prescription: Hash,
) -> Result<Verification, SupplyError> {
    let dispenser = caller();
    if !active(&dispenser, Role::Dispenser)? {
        return Err(SupplyError::NotAuthorised);
    }
    let verification = verify_unit(&gtin, &serial, &lot, expiry_ms);
    let key = (gtin.clone(), serial.clone());
    if !verification.verified {
        let case = open_case(
            &dispenser,
            core::slice::from_ref(&key),
            verification.failure_reason.clone().unwrap_or_default(),
        );
        if let Some(mut unit) = UNITS.get(&key) {
            unit.suspect = true;
            unit.quarantined = true;
            unit.disposition = Disposition::NonSellableOther;
            let id = next_event_id();
            touch(&key, &mut unit, id);
            record_event(
                id,
                "ObjectEvent",
                "OBSERVE",
                Vec::from([Epc::Unit(gtin, serial)]),
                None,
                "holding",
                "non_sellable_other",
                String::new(),
                Vec::new(),
                None,
                None,
            );
        }
        Alert {
            kind: "counterfeit".into(),
            reference: case,
            detail: verification.failure_reason.clone().unwrap_or_default(),
        }
        .emit();
        return Ok(verification);
    }
    let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
    if unit.owner != dispenser {
        return Err(SupplyError::NotAuthorised);
    }
    if !movable(&unit) || unit.parent.is_some() {
        return Err(SupplyError::NotMovable);
    }
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    let mut rx = PRESCRIPTIONS
        .get(&prescription)
        .ok_or(SupplyError::Unknown)?;
    if rx.fills_left == 0 || rx.expires_ms <= block_timestamp_ms() || rx.ndc != product.ndc {
        return Err(SupplyError::WrongState);
    }
    rx.fills_left -= 1;
    PRESCRIPTIONS.insert(&prescription, &rx);
    let id = next_event_id();
    unit.disposition = Disposition::Dispensed;
    touch(&key, &mut unit, id);
    record_event(
        id,
        "ObjectEvent",
        "OBSERVE",
        Vec::from([Epc::Unit(gtin, serial)]),
        None,
        "dispensing",
        "dispensed",
        unit.location.clone(),
        Vec::from([(String::from("rx"), prescription)]),
        None,
        None,
    );
    Ok(verification)
}

/// The body of [`Supply::accept_return`](crate::Supply::accept_return).
pub(crate) fn accept_return(
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    location: String,
) -> Result<Verification, SupplyError> {
    let receiver = caller();
    if !trading_partner(&receiver)? {
        return Err(SupplyError::NotAuthorised);
    }
    let verification = verify_unit(&gtin, &serial, &lot, expiry_ms);
    let key = (gtin.clone(), serial.clone());
    let Some(mut unit) = UNITS.get(&key) else {
        open_case(
            &receiver,
            &[key],
            verification.failure_reason.clone().unwrap_or_default(),
        );
        return Ok(verification);
    };
    let id = next_event_id();
    if verification.verified
        && verification.additional.is_empty()
        && !matches!(
            unit.disposition,
            Disposition::Dispensed | Disposition::Destroyed
        )
    {
        unit.owner = receiver;
        unit.custodian = receiver;
        unit.location = location.clone();
        unit.disposition = Disposition::SellableAccessible;
        touch(&key, &mut unit, id);
        record_event(
            id,
            "ObjectEvent",
            "OBSERVE",
            Vec::from([Epc::Unit(gtin, serial)]),
            None,
            "receiving",
            "returned",
            location,
            Vec::new(),
            None,
            Some(receiver),
        );
    } else {
        unit.quarantined = true;
        unit.disposition = Disposition::NonSellableOther;
        touch(&key, &mut unit, id);
        record_event(
            id,
            "ObjectEvent",
            "OBSERVE",
            Vec::from([Epc::Unit(gtin, serial)]),
            None,
            "holding",
            "non_sellable_other",
            location,
            Vec::new(),
            None,
            Some(receiver),
        );
    }
    Ok(verification)
}
