//! Prescriptions, dispensing against them, saleable returns, and verification in GS1
//! Lightweight Verification Messaging terms.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{
    Lots, MAX_SERIAL_BYTES, active, check_code, expired, in_stock, trading_partner,
};
use crate::epcis::observe_unit;
use crate::gs1::{day_of_ms, parse_date};
use crate::investigations::{flag_clone, open_case};
use crate::prescriptions::prescription_handle;
use crate::storage::{
    NEXT_REFUSAL, NEXT_VERIFICATION, PRESCRIPTIONS, PRODUCTS, REFUSALS, SHIPMENTS, UNITS,
    VERIFICATIONS,
};
use crate::types::*;

/// The Lightweight Verification Messaging answer for a unit's identifiers (`verify`, and the
/// checks of dispensing and returns); `expiry_day` is the presented expiry as a day (GS1 expiry
/// dates are days: AI 17), `None` if it was no date at all; `lots` the lot-level state read so
/// far in this message.
///
/// Codes are those of the GS1 Lightweight Messaging Standard for Verification of Product
/// Identifiers (LVM, release 1.3): `verificationFailureReason` `No_match_GTIN_Serial` (no such
/// SGTIN; lot and expiry are then not compared), `No_match_GTIN_Serial_Lot`,
/// `No_match_GTIN_Serial_Expiry`, `No_match_GTIN_Serial_Lot_Expiry`, and
/// `Not_for_re-distribution` for a serial that has left commerce (dispensed, decommissioned or
/// destroyed: a package presenting it again is not one to sell); `additionalInfo` `Recalled`
/// (the lot, or a lot it was repackaged from), `Expired` (after the expiry in force),
/// `ExpirationExtended` (the lot's expiry was extended; the printed and the new date both
/// match), `Suspect`, `Illegitimate`, which may accompany a true answer too.
pub(crate) fn verify_unit(
    gtin: &str,
    serial: &str,
    lot: &str,
    expiry_day: Option<i64>,
    lots: &mut Lots,
) -> Verification {
    let Some(unit) = UNITS.get(&(gtin.into(), serial.into())) else {
        return Verification {
            verified: false,
            failure_reason: Some("No_match_GTIN_Serial".into()),
            additional: Vec::new(),
        };
    };
    let in_force_ms = lots.expiry_ms(&unit);
    let extended = in_force_ms != unit.expiry_ms;
    // The printed expiry matches, and after an extension so does the extended one (a package
    // relabelled with it).
    let expiry_matches = expiry_day == Some(day_of_ms(unit.expiry_ms))
        || (extended && expiry_day == Some(day_of_ms(in_force_ms)));
    let failure = match (unit.lot == lot, expiry_matches) {
        (true, true) => None,
        (false, true) => Some("No_match_GTIN_Serial_Lot"),
        (true, false) => Some("No_match_GTIN_Serial_Expiry"),
        (false, false) => Some("No_match_GTIN_Serial_Lot_Expiry"),
    };
    let out_of_commerce = matches!(
        unit.disposition,
        Disposition::Dispensed | Disposition::Inactive | Disposition::Destroyed
    );
    let failure = failure.or(out_of_commerce.then_some("Not_for_re-distribution"));
    let mut additional = Vec::new();
    if lots.recalled(&unit) {
        additional.push(String::from("Recalled"));
    }
    if expired(in_force_ms) {
        additional.push(String::from("Expired"));
    }
    if extended {
        additional.push(String::from("ExpirationExtended"));
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

/// The body of [`Supply::verify_gs1`](crate::Supply::verify_gs1): the expiry as printed and
/// scanned, AI (17) `YYMMDD`; day `00` is the last day of the month.
pub(crate) fn verify_gs1(gtin: &str, serial: &str, lot: &str, expiry: &str) -> Verification {
    let today = day_of_ms(block_timestamp_ms());
    verify_unit(
        gtin,
        serial,
        lot,
        parse_date(expiry, today),
        &mut Lots::default(),
    )
}

/// Whether `requester` may hold a package with `unit`'s identifiers: the unit is in commerce or
/// held back (not dispensed or destroyed) and the requester is its owner, its custodian (a 3PL
/// holding it), the seller it may come back to as a saleable return, or the receiver of the
/// shipment it travels in (checking it on arrival).
fn may_hold(requester: &Address, unit: &Unit) -> bool {
    if matches!(
        unit.disposition,
        Disposition::Dispensed | Disposition::Destroyed
    ) {
        return false;
    }
    unit.owner == *requester
        || unit.custodian == *requester
        || unit.seller == Some(*requester)
        || unit.shipment.is_some_and(|shipment| {
            SHIPMENTS
                .get(&shipment)
                .is_some_and(|shipment| shipment.receiver == *requester)
        })
}

/// The body of [`Supply::verify_recorded`](crate::Supply::verify_recorded).
///
/// A GS1 LVM verification request by a trading partner, answered as `verify` answers and
/// recorded with the requester, place and time. When the identifiers match a unit (verified,
/// or `Not_for_re-distribution`) that the requester cannot hold — it is in another party's
/// hands, or dispensed or destroyed — the package is a clone: the unit is flagged suspect and
/// quarantined, a case opened and a `clone` alert emitted (as for a reported sighting), and the
/// response carries `Suspect`.
pub(crate) fn verify_recorded(
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    location: String,
) -> Result<Verification, SupplyError> {
    check_code(&gtin)?;
    check_code(&lot)?;
    check_code(&location)?;
    if serial.len() > MAX_SERIAL_BYTES {
        return Err(SupplyError::TooLarge);
    }
    let requester = caller();
    if !trading_partner(&requester)? {
        return Err(SupplyError::NotAuthorised);
    }
    let mut response = verify_unit(
        &gtin,
        &serial,
        &lot,
        Some(day_of_ms(expiry_ms)),
        &mut Lots::default(),
    );
    let identifiers_match =
        response.verified || response.failure_reason.as_deref() == Some("Not_for_re-distribution");
    let key = (gtin.clone(), serial.clone());
    let mut clone_case = None;
    if identifiers_match
        && let Some(mut unit) = UNITS.get(&key)
        && !may_hold(&requester, &unit)
    {
        clone_case = Some(flag_clone(
            &requester,
            key,
            &mut unit,
            location.clone(),
            "unit verified by a party that cannot hold it",
        ));
        if !response.additional.iter().any(|info| info == "Suspect") {
            response.additional.push(String::from("Suspect"));
        }
    }
    let id = NEXT_VERIFICATION.get().unwrap_or(0);
    NEXT_VERIFICATION.set(&(id + 1));
    VERIFICATIONS.insert(
        &(gtin.clone(), serial.clone(), id.to_be_bytes()),
        &VerificationRecord {
            requester,
            gtin,
            serial,
            lot,
            expiry_ms,
            location,
            at_ms: block_timestamp_ms(),
            response: response.clone(),
            clone_case,
        },
    );
    Ok(response)
}

/// The body of [`Supply::verifications`](crate::Supply::verifications): a serial's recorded
/// verifications, oldest first, a page at a time.
pub(crate) fn verifications(
    gtin: String,
    serial: String,
    after: Option<u64>,
    limit: u32,
) -> Vec<(u64, VerificationRecord)> {
    let cursor = after.map(|id| (gtin.clone(), serial.clone(), id.to_be_bytes()));
    let (entries, _) =
        VERIFICATIONS.page_under(&(gtin, serial), cursor.as_ref(), limit.min(100) as usize);
    entries
        .into_iter()
        .map(|((_, _, id), record)| (u64::from_be_bytes(id), record))
        .collect()
}

/// The body of [`Supply::prescribe`](crate::Supply::prescribe): the handle, the prescriber,
/// fills and expiry; no patient and no product (docs/PRIVACY.md §5.5).
pub(crate) fn prescribe(handle: Hash, fills: u32, expires_ms: u64) -> Result<(), SupplyError> {
    let practitioner = caller();
    if !active(&practitioner, Role::Practitioner)? {
        return Err(SupplyError::NotAuthorised);
    }
    if PRESCRIPTIONS.contains(&handle) {
        return Err(SupplyError::AlreadyCommissioned);
    }
    PRESCRIPTIONS.insert(
        &handle,
        &Prescription {
            practitioner,
            fills_left: fills,
            expires_ms,
        },
    );
    Ok(())
}

/// What a dispenser presents for a prescription: its handle and the opening, `salt` and
/// `inner`, from which the contract recomputes the handle with the unit's NDC
/// ([`prescription_handle`]).
pub(crate) struct Opening {
    /// The prescription's handle, its key in storage.
    pub(crate) handle: Hash,
    /// The prescriber's 32-byte salt.
    pub(crate) salt: Hash,
    /// The commitment to the patient's details.
    pub(crate) inner: Hash,
}

impl Opening {
    /// Whether the opening, with `ndc`, recomputes the handle.
    fn opens(&self, ndc: &str) -> bool {
        prescription_handle(&self.salt, ndc, &self.inner) == self.handle
    }
}

/// Records a refused dispense as data: the stored [`DispenseRefusal`] and a `Refused` event.
/// Returns the answer the dispenser gets.
fn refuse(
    dispenser: Address,
    key: (String, String),
    prescription: Hash,
    verification: Verification,
    reason: &str,
    case: Option<u64>,
) -> Dispensing {
    let id = NEXT_REFUSAL.get().unwrap_or(0);
    NEXT_REFUSAL.set(&(id + 1));
    let (gtin, serial) = key;
    REFUSALS.insert(
        &id,
        &DispenseRefusal {
            dispenser,
            gtin,
            serial,
            prescription,
            reason: reason.into(),
            case,
            at_ms: block_timestamp_ms(),
        },
    );
    Refused {
        message: "dispense".into(),
        id,
        reason: reason.into(),
    }
    .emit();
    Dispensing {
        verified: verification.verified,
        failure_reason: verification.failure_reason,
        additional: verification.additional,
        dispensed: false,
        refusal: Some(reason.into()),
        decision: Some(id),
    }
}

/// The body of [`Supply::dispense`](crate::Supply::dispense).
///
/// Only an active dispenser may ask (else `NotAuthorised`, reverted). Every refusal after that
/// is a decision, recorded and answered rather than reverted: a failed verification (GS1 LVM;
/// the unit quarantined and a suspect case opened, DSCSA §582(d)(4)(A)), a unit the dispenser
/// does not own, one not movable (recalled, quarantined, expired, out of commerce, still in a
/// case), or a prescription unknown, not opened by the presented opening with this unit's NDC
/// (another product, or a wrong salt or patient commitment: the contract cannot tell which),
/// filled or expired.
pub(crate) fn dispense(
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    opening: Opening,
) -> Result<Dispensing, SupplyError> {
    let prescription = opening.handle;
    let dispenser = caller();
    if !active(&dispenser, Role::Dispenser)? {
        return Err(SupplyError::NotAuthorised);
    }
    let mut lots = Lots::default();
    let verification = verify_unit(&gtin, &serial, &lot, Some(day_of_ms(expiry_ms)), &mut lots);
    let key = (gtin.clone(), serial.clone());
    if !verification.verified {
        let reason = verification.failure_reason.clone().unwrap_or_default();
        let case = open_case(&dispenser, core::slice::from_ref(&key), reason.clone());
        if let Some(mut unit) = UNITS.get(&key) {
            unit.suspect = true;
            if in_stock(&unit) {
                unit.quarantined = true;
                unit.disposition = Disposition::NonSellableOther;
                observe_unit(
                    key.clone(),
                    &mut unit,
                    ("holding", "non_sellable_other"),
                    String::new(),
                    Vec::new(),
                    None,
                );
            } else {
                // A serial that left commerce (dispensed, destroyed) stays so, flagged.
                UNITS.insert(&key, &unit);
            }
        }
        Alert {
            kind: "counterfeit".into(),
            reference: case,
            detail: reason.clone(),
        }
        .emit();
        return Ok(refuse(
            dispenser,
            key,
            prescription,
            verification,
            &reason,
            Some(case),
        ));
    }
    let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
    let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
    let now = block_timestamp_ms();
    let rx = PRESCRIPTIONS.get(&prescription);
    let refusal = if unit.owner != dispenser {
        Some("NotAuthorised")
    } else if !lots.movable(&unit) || unit.parent.is_some() {
        Some("NotMovable")
    } else {
        match &rx {
            None => Some("UnknownPrescription"),
            Some(_) if !opening.opens(&product.ndc) => Some("PrescriptionMismatch"),
            Some(rx) if rx.fills_left == 0 => Some("PrescriptionFilled"),
            Some(rx) if rx.expires_ms <= now => Some("PrescriptionExpired"),
            Some(_) => None,
        }
    };
    let (Some(mut rx), None) = (rx, refusal) else {
        let reason = refusal.unwrap_or("UnknownPrescription");
        return Ok(refuse(
            dispenser,
            key,
            prescription,
            verification,
            reason,
            None,
        ));
    };
    rx.fills_left -= 1;
    PRESCRIPTIONS.insert(&prescription, &rx);
    unit.disposition = Disposition::Dispensed;
    let location = unit.location.clone();
    observe_unit(
        key,
        &mut unit,
        ("dispensing", "dispensed"),
        location,
        Vec::from([(String::from("rx"), prescription)]),
        None,
    );
    Ok(Dispensing {
        verified: verification.verified,
        failure_reason: verification.failure_reason,
        additional: verification.additional,
        dispensed: true,
        refusal: None,
        decision: None,
    })
}

/// The body of [`Supply::accept_return`](crate::Supply::accept_return).
///
/// A saleable return (DSCSA §582(c)(4)(D), and §581(24)(B)(ii) for what it excludes from a
/// transaction): the caller takes back a unit it sold, from the party that received it — the
/// unit's seller is the caller and its owner the returning party. A unit travelling, still in a
/// case, or out of commerce (dispensed, decommissioned, destroyed) cannot be returned.
pub(crate) fn accept_return(
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    location: String,
) -> Result<Verification, SupplyError> {
    check_code(&location)?;
    let receiver = caller();
    if !trading_partner(&receiver)? {
        return Err(SupplyError::NotAuthorised);
    }
    let verification = verify_unit(
        &gtin,
        &serial,
        &lot,
        Some(day_of_ms(expiry_ms)),
        &mut Lots::default(),
    );
    let key = (gtin.clone(), serial.clone());
    let Some(mut unit) = UNITS.get(&key) else {
        open_case(
            &receiver,
            &[key],
            verification.failure_reason.clone().unwrap_or_default(),
        );
        return Ok(verification);
    };
    if unit.seller != Some(receiver) || unit.owner == receiver {
        return Err(SupplyError::NotAuthorised);
    }
    if unit.shipment.is_some() || unit.parent.is_some() || !in_stock(&unit) {
        return Err(SupplyError::WrongState);
    }
    let step = if verification.verified && verification.additional.is_empty() {
        unit.owner = receiver;
        unit.custodian = receiver;
        unit.seller = None;
        unit.location = location.clone();
        unit.quarantined = false;
        unit.disposition = Disposition::SellableAccessible;
        ("receiving", "returned")
    } else {
        unit.quarantined = true;
        unit.disposition = Disposition::NonSellableOther;
        ("holding", "non_sellable_other")
    };
    observe_unit(key, &mut unit, step, location, Vec::new(), Some(receiver));
    Ok(verification)
}
