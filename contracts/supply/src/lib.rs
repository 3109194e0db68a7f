//! Drug supply-chain tracing (DOMAIN.md §3): DSCSA package-level tracing with GS1 EPCIS 2.0 /
//! CBV-shaped events.
//!
//! Marketing-authorisation holders register products (GTIN with the NDC) and commission serialised
//! units (SGTIN: GTIN + serial, with lot and expiry); units are packed into cases (SSCC), shipped
//! between trading partners that the registry authorises at the time of the transfer, received
//! by the named buyer only (contents compared with the shipment as sets; a mismatch is a stored
//! discrepancy, and what did not arrive goes back to the seller, held),
//! unpacked, and dispensed against a practitioner's prescription, which the chain knows only by
//! its handle (`prescription_handle`: a commitment to the product's NDC and to the patient's
//! details; no patient in storage, messages or events, docs/PRIVACY.md §5.5). A unit has an
//! owner and a
//! custodian: a third-party logistics provider holds goods for their owner (consigned to it,
//! never sold to it) and ships them only as the owner's sale; ownership moves only with a sale's
//! receipt. Repackagers turn units they own into new units under their own GTIN (an EPCIS
//! TransformationEvent, with the outputs' lineage kept). Every transition is one
//! EPCIS-shaped event carrying its EPC list, and a per-unit history index makes "history back to
//! the manufacturer" a query. `verify` answers in GS1 Lightweight Verification Messaging terms;
//! `verify_recorded` answers the same and records the request with its requester. What holds
//! for a whole lot (a recall, an extended expiry, the lots it was repackaged from) is stored once
//! per lot and read with its units, so a recall costs the same for any lot size.
//! Counterfeits (unknown serials, lot/expiry mismatches) and clones (a unit turning up, or
//! verified, where it cannot be) are recorded, not reverted: the unit is quarantined, a suspect
//! case opened, and an illegitimate determination starts a 24-hour clock for notifying the FDA
//! and partners. Every refused dispense is likewise a stored decision with its reason, not a
//! revert.
//!
//! The contract module below holds the messages (the contract's interface, documented there);
//! what they do lives in modules in layers, each using only modules listed before it: `types`
//! (stored records, message and event types, the error; re-exported here), `gs1` (check digits
//! and AI 17 dates), `prescriptions` (a prescription's handle, also for the host; re-exported
//! here), `storage` (the key layout), `checks` (trading partners in the registry,
//! input bounds, identifiers, expiry, the lot-level state), `epcis` (the event record every
//! transition appends to), then by concern `products`, `packaging` (cases and pallets, and the
//! units a case holds), `units` (commissioning and an owner's transitions), `repackaging`
//! (TransformationEvents and lineage), `shipping` (sales, consignments to and from 3PLs, and
//! receipts), `investigations` (suspect product), `dispensing` (with verification, read-only
//! and recorded) and `recalls` (with expiry extensions). Trading partners are checked through
//! the registry's typed reference and its `Role`.
#![no_std]

mod checks;
mod dispensing;
mod epcis;
mod gs1;
mod investigations;
mod packaging;
mod prescriptions;
mod products;
mod recalls;
mod repackaging;
mod shipping;
mod storage;
mod types;
mod units;

pub use prescriptions::{PRESCRIPTION_HANDLE_DOMAIN, prescription_handle};
pub use supply::*;
pub use types::*;

#[salus_sdk::contract(events(Epcis, Alert, Refused, ExpiryExtended))]
mod supply {
    use salus_sdk::prelude::*;

    use crate::checks::Lots;
    use crate::dispensing::verify_unit;
    use crate::gs1::day_of_ms;
    use crate::storage::{
        CASES, CONTAINERS, DISCREPANCIES, PRESCRIPTIONS, REFUSALS, REGISTRY, SALES, SHIPMENTS,
        UNITS,
    };
    use crate::types::*;

    /// The contract.
    pub struct Supply;

    impl Supply {
        /// Deploys with the participant registry.
        #[constructor]
        pub fn new(registry: Address) {
            REGISTRY.set(&registry);
        }

        /// Registers a product (caller: an active manufacturer, or an active repackager for the
        /// products it repackages into, holding the GTIN's GS1 company prefix in the registry,
        /// who becomes its owner).
        #[message]
        pub fn register_product(
            gtin: String,
            ndc: String,
            name: String,
            strength: String,
            dosage_form: String,
            container_size: String,
        ) -> Result<(), SupplyError> {
            crate::products::register_product(
                gtin,
                ndc,
                name,
                strength,
                dosage_form,
                container_size,
            )
        }

        /// Commissions serials of a lot (caller: the product's owner); one ObjectEvent ADD.
        #[message]
        pub fn commission(
            gtin: String,
            lot: String,
            expiry_ms: u64,
            serials: Vec<String>,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::units::commission(gtin, lot, expiry_ms, serials, location)
        }

        /// Repackages (caller: an active repackager owning product `gtin`): consumes `inputs`,
        /// loose units it owns and holds, movable, decommissioned as inputs, and commissions
        /// `serials` of `gtin`, lot `lot`, with an expiry no later than any input's, owned by
        /// the caller. One EPCIS TransformationEvent (inputEPCList, outputEPCList; CBV
        /// `repackaging`); each output's lineage to the inputs is kept (`lineage`), and a
        /// recall of an input's lot recalls the outputs. Returns the event id.
        #[message]
        pub fn repackage(
            inputs: Vec<Epc>,
            gtin: String,
            lot: String,
            expiry_ms: u64,
            serials: Vec<String>,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::repackaging::repackage(inputs, gtin, lot, expiry_ms, serials, location)
        }

        /// Packs units into a case (caller: their owner, holding them); one AggregationEvent ADD.
        #[message]
        pub fn pack(
            sscc: String,
            units: Vec<(String, String)>,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::packaging::pack(sscc, units, location)
        }

        /// Packs cases into a pallet, a new SSCC (caller: their owner, holding them; cases not
        /// already in a pallet, their units movable); one AggregationEvent ADD. Shipping,
        /// receiving and unpacking the pallet then act on every case and unit inside it.
        #[message]
        pub fn pack_cases(
            pallet: String,
            cases: Vec<String>,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::packaging::pack_cases(pallet, cases, location)
        }

        /// Sells and ships units and cases to `buyer` (caller: their owner, holding them itself
        /// and licensed now; buyer: a partner that may own product now — manufacturer,
        /// repackager, wholesaler or dispenser, never a 3PL) with the DSCSA transaction
        /// information; one TransactionEvent. Ownership moves on receipt. Goods a 3PL holds
        /// are sold with `sell` and shipped by the 3PL with `dispatch`. Returns the shipment id.
        #[message]
        pub fn ship(
            epcs: Vec<Epc>,
            buyer: Address,
            documents: Vec<(String, Hash)>,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::shipping::ship(epcs, buyer, documents, location)
        }

        /// Receives a shipment (caller: its receiver — the buyer of a sale, the party taking
        /// custody of a consignment), once. The contents presented are compared with what was
        /// shipped as sets, order ignored: custody moves for what was shipped and presented,
        /// cases included, and ownership with it only for a sale; what was shipped and not
        /// presented goes back out of transit to the shipper, held; a mismatch is stored as the
        /// shipment's discrepancy (see `discrepancy`) and alerted. Returns whether the receipt
        /// matched.
        #[message]
        pub fn receive(
            shipment_id: u64,
            presented: Vec<Epc>,
            location: String,
        ) -> Result<bool, SupplyError> {
            crate::shipping::receive(shipment_id, presented, location)
        }

        /// Takes back a shipment that was not received because its receiver is no longer an
        /// authorised trading partner (suspended, revoked or unlicensed since it was shipped;
        /// caller: the shipper): everything returns to the shipper's custody, held, and the
        /// shipment's discrepancy lists it as missing. Refused (`WrongState`) while the
        /// receiver can still receive.
        #[message]
        pub fn withdraw_shipment(shipment_id: u64, location: String) -> Result<(), SupplyError> {
            crate::shipping::withdraw_shipment(shipment_id, location)
        }

        /// Moves custody only, no ownership (no transaction, so no transaction information):
        /// an owner holding its goods places them with a third-party logistics provider
        /// (`to`: registry `Role::ThirdPartyLogistics`, active now), or the 3PL holding them
        /// sends them back to their owner (`to`: the owner). Caller: the custodian of every
        /// unit and case, an authorised trading partner now. One ObjectEvent `shipping` with the
        /// possessing parties; `to` receives with `receive`. Returns the shipment id.
        #[message]
        pub fn consign(epcs: Vec<Epc>, to: Address, location: String) -> Result<u64, SupplyError> {
            crate::shipping::consign(epcs, to, location)
        }

        /// Sells goods a 3PL holds for the caller (caller: their owner, licensed now; every
        /// unit held by one 3PL, movable and in no other sale awaiting dispatch; buyer: a
        /// partner that may own product now) with the DSCSA transaction information and
        /// statement. The 3PL ships it with `dispatch`; ownership moves on the buyer's receipt.
        /// Returns the sale id.
        #[message]
        pub fn sell(
            epcs: Vec<Epc>,
            buyer: Address,
            documents: Vec<(String, Hash)>,
        ) -> Result<u64, SupplyError> {
            crate::shipping::sell(epcs, buyer, documents)
        }

        /// Cancels a sale not yet dispatched (caller: its seller): its units may be sold again;
        /// the sale stays recorded with when it was cancelled, and is never dispatched.
        #[message]
        pub fn cancel_sale(sale: u64) -> Result<(), SupplyError> {
            crate::shipping::cancel_sale(sale)
        }

        /// Ships a sale to its buyer (caller: the 3PL holding the goods, licensed now; the sale
        /// not cancelled), once, as custodian for the seller: one TransactionEvent with the
        /// seller's transaction documents, the seller and buyer as owning parties and the 3PL
        /// and buyer as possessing parties. Returns the shipment id.
        #[message]
        pub fn dispatch(sale: u64, location: String) -> Result<u64, SupplyError> {
            crate::shipping::dispatch(sale, location)
        }

        /// Unpacks a case (caller: its owner, once it is not travelling): its units become
        /// sellable and loose, and the case is gone.
        #[message]
        pub fn unpack(sscc: String, location: String) -> Result<u64, SupplyError> {
            crate::packaging::unpack(sscc, location)
        }

        /// Records a prescription by its handle alone (caller: an active practitioner): `handle`
        /// is [`prescription_handle`]`(salt, ndc, inner)`, computed off chain, with `ndc` the
        /// product's NDC as registered and `inner` a commitment to the patient's details; the
        /// contract stores the prescriber, `fills` and `expires_ms` under it, never a patient or
        /// a product. A handle is recorded once (`AlreadyCommissioned`).
        #[message]
        pub fn prescribe(handle: Hash, fills: u32, expires_ms: u64) -> Result<(), SupplyError> {
            crate::dispensing::prescribe(handle, fills, expires_ms)
        }

        /// Dispenses the presented package against the prescription `handle`, opened by `salt`
        /// and `inner` (caller: an active dispenser, else `NotAuthorised`). The package is
        /// verified first; a failed verification blocks dispensing, quarantines the unit if it
        /// exists and opens a suspect case. The contract recomputes the handle from `salt`, the
        /// NDC of the unit's product and `inner`, so a prescription for another product (or a
        /// wrong opening) never matches. Every refusal (failed verification, a unit not the
        /// dispenser's or not movable, a prescription unknown, not opened by this unit's product
        /// and opening, filled or expired) is a decision: stored with its reason (`refusal`) and
        /// emitted as `Refused`, not reverted. The dispensing EPCIS event names the handle only.
        /// Returns the verification and the decision.
        #[message]
        pub fn dispense(
            gtin: String,
            serial: String,
            lot: String,
            expiry_ms: u64,
            handle: Hash,
            salt: Hash,
            inner: Hash,
        ) -> Result<Dispensing, SupplyError> {
            crate::dispensing::dispense(
                gtin,
                serial,
                lot,
                expiry_ms,
                crate::dispensing::Opening {
                    handle,
                    salt,
                    inner,
                },
            )
        }

        /// A saleable return (DSCSA §582(c)(4)(D)): the returning party's package, verified
        /// before it is accepted back (caller: the seller of the unit's last received shipment;
        /// the unit owned by that shipment's buyer, not travelling, not in a case, in stock).
        /// Pass: sellable again, owned by the caller; fail: quarantined.
        #[message]
        pub fn accept_return(
            gtin: String,
            serial: String,
            lot: String,
            expiry_ms: u64,
            location: String,
        ) -> Result<Verification, SupplyError> {
            crate::dispensing::accept_return(gtin, serial, lot, expiry_ms, location)
        }

        /// Reports a unit seen by a party that should not have it (a clone): the unit and the
        /// report are flagged, a suspect case opened (caller: any authorised trading partner).
        #[message]
        pub fn report_sighting(
            gtin: String,
            serial: String,
            location: String,
        ) -> Result<bool, SupplyError> {
            crate::investigations::report_sighting(gtin, serial, location)
        }

        /// Recalls lots of a product (caller: its owner): every unit of each lot is flagged,
        /// and the recall (class, effective date, units) is recorded per lot. Returns the
        /// number of units flagged.
        #[message]
        pub fn recall(
            gtin: String,
            lots: Vec<String>,
            class: RecallClass,
        ) -> Result<u32, SupplyError> {
            crate::recalls::recall(gtin, lots, class)
        }

        /// Extends a lot's expiry to a later day (caller: the product's owner, an active
        /// manufacturer; the lot commissioned). Recorded once for the lot: the printed expiry
        /// then verifies true with `ExpirationExtended`, as does the new one, and the units are
        /// expired only after the new date. Emits `ExpiryExtended`.
        #[message]
        pub fn extend_expiry(gtin: String, lot: String, expiry_ms: u64) -> Result<(), SupplyError> {
            crate::recalls::extend_expiry(gtin, lot, expiry_ms)
        }

        /// Quarantines units as suspect product and opens an investigation (caller: the owner
        /// or custodian of every unit, or an active regulator). Returns the investigation.
        #[message]
        pub fn suspect(
            epcs: Vec<Epc>,
            reason: String,
            location: String,
        ) -> Result<u64, SupplyError> {
            crate::investigations::suspect(epcs, reason, location)
        }

        /// Classifies an investigation (caller: the product owner or whoever opened it);
        /// an illegitimate classification starts the 24 h notification clock and keeps the
        /// units out of commerce; `Cleared` lifts the suspect flags and releases the units.
        #[message]
        pub fn classify(case: u64, classification: Classification) -> Result<(), SupplyError> {
            crate::investigations::classify(case, classification)
        }

        /// Records the FDA 3911 incident number and partner notification (same callers as
        /// `classify`).
        #[message]
        pub fn record_notification(case: u64, fda_incident: String) -> Result<(), SupplyError> {
            crate::investigations::record_notification(case, fda_incident)
        }

        /// Anyone may mark a case overdue once an illegitimate determination has gone 24 hours
        /// without an FDA notification; emits the overdue alert once. Returns whether it fired.
        #[message]
        pub fn mark_overdue(case: u64) -> Result<bool, SupplyError> {
            crate::investigations::mark_overdue(case)
        }

        /// Holds units back (caller: their owner), e.g. damaged stock or an internal check:
        /// quarantined, CBV `holding` / `non_sellable_other`. Returns how many units.
        #[message]
        pub fn hold(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            crate::units::hold(epcs, location)
        }

        /// Releases held units back to sellable (caller: their owner); refused while a unit
        /// is suspect, illegitimate, recalled or expired.
        #[message]
        pub fn release(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            crate::units::release(epcs, location)
        }

        /// Takes units out of circulation without destroying them (caller: their owner):
        /// CBV `decommissioning` / `inactive`; an inactive unit never ships or is dispensed.
        #[message]
        pub fn decommission(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            crate::units::decommission(epcs, location)
        }

        /// Destroys units (caller: their owner), the end of quarantined, recalled, expired or
        /// illegitimate stock: CBV `destroying` / `destroyed`, terminal.
        #[message]
        pub fn destroy(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            crate::units::destroy(epcs, location)
        }

        /// Declares a recorded event erroneous (caller: whoever recorded it), EPCIS 2.0 style:
        /// the original stays as it was; a new event copying it with `corrects` and the CBV
        /// reason is appended to the history of every unit it named. Corrective events follow
        /// as ordinary transitions. Returns the declaration's event id.
        #[message]
        pub fn declare_error(event: u64, reason: String) -> Result<u64, SupplyError> {
            crate::epcis::declare_error(event, reason)
        }

        /// Verification in GS1 Lightweight Verification Messaging terms; the expiry compares
        /// as a date (the UTC day of `expiry_ms`), as GS1 expiry dates are days.
        #[message(view)]
        pub fn verify(gtin: String, serial: String, lot: String, expiry_ms: u64) -> Verification {
            verify_unit(
                &gtin,
                &serial,
                &lot,
                Some(day_of_ms(expiry_ms)),
                &mut Lots::default(),
            )
        }

        /// A verification request recorded with its requester (caller: an authorised trading
        /// partner now): answered as `verify` answers, stored with the requester, place and time
        /// (see `verifications`). Identifiers matching a unit the requester cannot hold — in
        /// another party's hands (not its owner, custodian, returning seller or incoming
        /// receiver), or dispensed or destroyed — reveal a clone: the unit is flagged suspect and
        /// quarantined, a case opened and a `clone` alert emitted, and the answer carries
        /// `Suspect`. `verify` stays a view for a read-only answer.
        #[message]
        pub fn verify_recorded(
            gtin: String,
            serial: String,
            lot: String,
            expiry_ms: u64,
            location: String,
        ) -> Result<Verification, SupplyError> {
            crate::dispensing::verify_recorded(gtin, serial, lot, expiry_ms, location)
        }

        /// A serial's recorded verifications as (id, record), oldest first, a page at a time:
        /// pass the last id returned as `after`.
        #[message(view)]
        pub fn verifications(
            gtin: String,
            serial: String,
            after: Option<u64>,
            limit: u32,
        ) -> Vec<(u64, VerificationRecord)> {
            crate::dispensing::verifications(gtin, serial, after, limit)
        }

        /// Verification with the expiry as printed on the package, GS1 AI (17) `YYMMDD` (day
        /// `00` is the last day of the month); an expiry that is no such date matches nothing.
        #[message(view)]
        pub fn verify_gs1(
            gtin: String,
            serial: String,
            lot: String,
            expiry: String,
        ) -> Verification {
            crate::dispensing::verify_gs1(&gtin, &serial, &lot, &expiry)
        }

        /// A unit's state.
        #[message(view)]
        pub fn unit(gtin: String, serial: String) -> Option<Unit> {
            UNITS.get(&(gtin, serial))
        }

        /// A unit's history back to commissioning: its EPCIS events in order.
        #[message(view)]
        pub fn history(gtin: String, serial: String) -> Vec<EpcisEvent> {
            crate::epcis::history(gtin, serial)
        }

        /// The units a repackaged unit was made from (the inputs of its TransformationEvent);
        /// empty for a unit not made by repackaging. Their histories go back to their
        /// manufacturer.
        #[message(view)]
        pub fn lineage(gtin: String, serial: String) -> Vec<Epc> {
            crate::repackaging::lineage(gtin, serial)
        }

        /// A case's contents.
        #[message(view)]
        pub fn contents(sscc: String) -> Option<Container> {
            CONTAINERS.get(&sscc)
        }

        /// Where every unit of a lot is: (serial, owner, location, disposition), a page at a time.
        #[message(view)]
        pub fn lot_units(
            gtin: String,
            lot: String,
            after: Option<String>,
            limit: u32,
        ) -> Vec<(String, Address, String, Disposition)> {
            crate::units::lot_units(gtin, lot, after, limit)
        }

        /// The recalls of a product's lots, as (lot, recall).
        #[message(view)]
        pub fn recalls(gtin: String) -> Vec<(String, Recall)> {
            crate::recalls::recalls(gtin)
        }

        /// An investigation.
        #[message(view)]
        pub fn investigation(case: u64) -> Option<Investigation> {
            CASES.get(&case)
        }

        /// Investigations still open (not cleared, FDA and partners not yet notified), a page
        /// at a time: pass the last case id returned as `after` (pages follow storage order).
        #[message(view)]
        pub fn open_investigations(after: Option<u64>, limit: u32) -> Vec<(u64, Investigation)> {
            crate::investigations::open_investigations(after, limit)
        }

        /// The discrepancy a shipment's receipt recorded, if it did not match.
        #[message(view)]
        pub fn discrepancy(shipment: u64) -> Option<Discrepancy> {
            DISCREPANCIES.get(&shipment)
        }

        /// A prescription by its handle: prescriber, fills left and expiry (no patient, no
        /// product: see `prescribe`).
        #[message(view)]
        pub fn prescription(handle: Hash) -> Option<Prescription> {
            PRESCRIPTIONS.get(&handle)
        }

        /// A refused dispense, by the id its answer and `Refused` event carry.
        #[message(view)]
        pub fn refusal(id: u64) -> Option<DispenseRefusal> {
            REFUSALS.get(&id)
        }

        /// A sale of goods a 3PL holds, and the shipment that carried it out once dispatched.
        #[message(view)]
        pub fn sale(id: u64) -> Option<Sale> {
            SALES.get(&id)
        }

        /// A shipment with its transaction information.
        #[message(view)]
        pub fn shipment(id: u64) -> Option<Shipment> {
            SHIPMENTS.get(&id)
        }
    }
}
