//! The supply contract's vocabulary: what it stores, what its messages take and return, what it
//! emits and why it refuses — plain data, shared by every module (and re-exported at the crate
//! root, the contract's public types).

use salus_sdk::prelude::*;

/// Why a message was refused.
#[error]
pub enum SupplyError {
    /// The caller lacks the role or ownership this needs.
    NotAuthorised,
    /// The destination is not an authorised trading partner now.
    PartnerNotAuthorised,
    /// Unknown product, unit, case, shipment, prescription or investigation.
    Unknown,
    /// The serial, SSCC, GTIN or prescription exists already.
    AlreadyCommissioned,
    /// The unit is quarantined, recalled, expired, dispensed or otherwise not movable.
    NotMovable,
    /// Too many units, or a code too long.
    TooLarge,
    /// The shipment was already received.
    AlreadyReceived,
    /// The step does not fit the unit's state.
    WrongState,
    /// The event was already declared erroneous.
    AlreadyDeclared,
    /// Not a CBV error reason (`did_not_occur`, `incorrect_data`).
    UnknownReason,
    /// A GTIN without a valid GS1 check digit, or one that does not embed the product's NDC;
    /// an SSCC that is not 18 digits with a valid check digit.
    InvalidIdentifier,
    /// The GTIN does not carry the GS1 company prefix the registry attests for the caller, or
    /// the registry attests none (GS1 General Specifications §3.3.2).
    NotPrefixHolder,
    /// An expiry extension not later than the expiry in force.
    NotLater,
    /// A repackaged product's expiry later than that of an input it was made from.
    ExpiryBeyondInputs,
}

// ---- the EPCIS record ----

/// What a shipment carries: units and cases.
#[data]
pub enum Epc {
    /// An SGTIN.
    Unit(String, String),
    /// An SSCC.
    Case(String),
}

/// What a TransformationEvent consumed and made (EPCIS 2.0: `inputEPCList`, `outputEPCList`,
/// `transformationID`).
#[data]
pub struct Transformation {
    /// `inputEPCList`: the units consumed (at least one).
    pub inputs: Vec<Epc>,
    /// `outputEPCList`: the units made (at least one).
    pub outputs: Vec<Epc>,
    /// `transformationID`, optional in EPCIS 2.0: it links several events of one
    /// transformation; None where one event records it whole.
    pub id: Option<String>,
}

/// An EPCIS 2.0-shaped event.
#[data]
pub struct EpcisEvent {
    /// Event id.
    pub id: u64,
    /// `ObjectEvent`, `AggregationEvent`, `TransactionEvent`, `TransformationEvent`.
    pub event_type: String,
    /// `ADD`, `OBSERVE`, `DELETE`; empty for a TransformationEvent, which has no action.
    pub action: String,
    /// EPCs (`epcList`, `childEPCs`); empty for a TransformationEvent, whose EPCs are in
    /// `transformation`.
    pub epcs: Vec<Epc>,
    /// A TransformationEvent's inputs and outputs.
    pub transformation: Option<Transformation>,
    /// Parent (SSCC) for aggregation events.
    pub parent: Option<String>,
    /// CBV bizStep.
    pub biz_step: String,
    /// CBV disposition.
    pub disposition: String,
    /// Read point / business location (GLN).
    pub location: String,
    /// Business transactions (`po`, `inv`, `desadv`) by document hash.
    pub biz_transactions: Vec<(String, Hash)>,
    /// Source owning party.
    pub source: Option<Address>,
    /// Destination owning party.
    pub destination: Option<Address>,
    /// Source and destination possessing parties (CBV source/destination type
    /// `possessing_party`) where custody moves apart from ownership: a shipment to, from or by a
    /// third-party logistics provider. None where the owning parties hold the goods themselves.
    pub custody: Option<(Address, Address)>,
    /// Event time (ms).
    pub event_time_ms: u64,
    /// Who recorded it.
    pub recorded_by: Address,
    /// The event this one declares erroneous (an EPCIS error declaration), if any.
    pub corrects: Option<u64>,
    /// CBV error reason of a declaration: `did_not_occur` or `incorrect_data`.
    pub error_reason: Option<String>,
}

/// An EPCIS event was recorded (the full event is stored under its id).
#[event]
pub struct Epcis {
    /// bizStep, as a topic for filtering.
    #[topic]
    pub biz_step: String,
    /// Event id.
    pub id: u64,
    /// EPCs (a TransformationEvent's inputs, then its outputs).
    pub epcs: Vec<Epc>,
}

/// A problem was found: discrepancy, counterfeit, clone, overdue notification.
#[event]
pub struct Alert {
    /// The kind.
    #[topic]
    pub kind: String,
    /// The investigation or shipment concerned.
    pub reference: u64,
    /// Details.
    pub detail: String,
}

// ---- products ----

/// A product (GTIN) and its DSCSA product description.
#[data]
pub struct Product {
    /// GTIN-14 (embeds the NDC).
    pub gtin: String,
    /// National Drug Code.
    pub ndc: String,
    /// Marketing-authorisation holder.
    pub owner: Address,
    /// Proprietary or established name.
    pub name: String,
    /// Strength.
    pub strength: String,
    /// Dosage form.
    pub dosage_form: String,
    /// Container size.
    pub container_size: String,
}

// ---- units ----

/// CBV 2.0 dispositions a unit can have.
#[data]
pub enum Disposition {
    /// Commissioned.
    Active,
    /// Shipped, not yet received.
    InTransit,
    /// Available for sale or dispensing.
    SellableAccessible,
    /// Dispensed to a patient (terminal).
    Dispensed,
    /// Held back (quarantine); the flags say why.
    NonSellableOther,
    /// Decommissioned.
    Inactive,
    /// Destroyed (terminal).
    Destroyed,
}

/// A serialised unit (SGTIN).
#[data]
pub struct Unit {
    /// GTIN.
    pub gtin: String,
    /// Serial.
    pub serial: String,
    /// Lot. What holds for the whole lot — a recall, an extended expiry — is kept once per lot
    /// (see [`Lot`]) and read with the unit, never written to each unit.
    pub lot: String,
    /// Expiry (ms), as printed on the package.
    pub expiry_ms: u64,
    /// Owner.
    pub owner: Address,
    /// Who holds it: the owner, or a third-party logistics provider holding it for the owner.
    pub custodian: Address,
    /// Where (GLN of the business location).
    pub location: String,
    /// Case it is packed in.
    pub parent: Option<String>,
    /// CBV disposition.
    pub disposition: Disposition,
    /// Suspected counterfeit, diverted or cloned.
    pub suspect: bool,
    /// Held back.
    pub quarantined: bool,
    /// Determined illegitimate.
    pub illegitimate: bool,
    /// The seller of the last shipment its owner received: the party a saleable return goes
    /// back to (DSCSA §582(c)(4)(D)). None for the manufacturer's own stock and after a return.
    pub seller: Option<Address>,
    /// Shipment it is travelling in.
    pub shipment: Option<u64>,
    /// Last EPCIS event id.
    pub last_event: u64,
}

// ---- cases and pallets ----

/// A case (SSCC) and its contents.
#[data]
pub struct Container {
    /// Units inside, as (gtin, serial).
    pub children: Vec<(String, String)>,
    /// Owner.
    pub owner: Address,
    /// Who holds it (the seller until the buyer receives it).
    pub custodian: Address,
    /// Where (GLN) it was last packed or received.
    pub location: String,
    /// Cases packed inside it (a pallet's cases).
    pub cases: Vec<String>,
    /// The pallet it is packed in.
    pub parent: Option<String>,
}

// ---- shipments ----

/// One product and lot of a transfer, described as DSCSA transaction information requires.
#[data]
pub struct ProductLine {
    /// GTIN.
    pub gtin: String,
    /// NDC.
    pub ndc: String,
    /// Product name.
    pub name: String,
    /// Strength.
    pub strength: String,
    /// Dosage form.
    pub dosage_form: String,
    /// Container size.
    pub container_size: String,
    /// Lot.
    pub lot: String,
    /// Number of containers.
    pub units: u32,
}

/// DSCSA transaction information and statement for one transfer.
#[data]
pub struct TransactionInformation {
    /// Seller.
    pub seller: Address,
    /// Buyer.
    pub buyer: Address,
    /// Transaction date (ms).
    pub transaction_ms: u64,
    /// Shipment date (ms).
    pub shipment_ms: u64,
    /// Purchase order and invoice document hashes.
    pub documents: Vec<(String, Hash)>,
    /// One line per product and lot.
    pub lines: Vec<ProductLine>,
    /// The seller's DSCSA transaction statement was made.
    pub statement: bool,
}

/// A shipment between two partners.
#[data]
pub struct Shipment {
    /// What was shipped.
    pub epcs: Vec<Epc>,
    /// The DSCSA transaction information and statement of the sale the shipment carries out;
    /// None for a custody move to or from a third-party logistics provider, which changes no
    /// ownership and so is no transaction (DSCSA §581(22), §581(24)).
    pub information: Option<TransactionInformation>,
    /// Who shipped it: the goods' custodian (the seller, or the 3PL holding them for it).
    pub shipper: Address,
    /// Who receives it: the buyer, or the party taking custody.
    pub receiver: Address,
    /// Received.
    pub received: bool,
}

/// A sale of goods a third-party logistics provider holds for their owner (DSCSA §581(22): the
/// 3PL never owns them): the owner's transaction, with its transaction information and
/// statement, carried out when the 3PL dispatches the goods to the buyer.
#[data]
pub struct Sale {
    /// What is sold.
    pub epcs: Vec<Epc>,
    /// The owner's transaction information (the shipment date is set on dispatch).
    pub information: TransactionInformation,
    /// The 3PL holding the goods, which ships them.
    pub custodian: Address,
    /// The shipment that carried it out, once dispatched.
    pub shipment: Option<u64>,
    /// When the seller cancelled it before dispatch (ms); a cancelled sale is never
    /// dispatched.
    pub cancelled_ms: Option<u64>,
}

// ---- prescriptions and verification ----

/// A practitioner's prescription, stored under its handle ([`crate::prescription_handle`]):
/// neither the patient nor the product is here; the handle commits to both (docs/PRIVACY.md
/// §5.5).
#[data]
pub struct Prescription {
    /// Prescriber.
    pub practitioner: Address,
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
    /// When not verified (GS1 LVM verificationFailureReason): `No_match_GTIN_Serial`,
    /// `No_match_GTIN_Serial_Lot`, `No_match_GTIN_Serial_Expiry`,
    /// `No_match_GTIN_Serial_Lot_Expiry`, `Not_for_re-distribution`.
    pub failure_reason: Option<String>,
    /// Additional information, also on a true answer: `Recalled`, `Expired`,
    /// `ExpirationExtended`, `Suspect`, `Illegitimate`.
    pub additional: Vec<String>,
}

/// A recorded verification request and its response (GS1 LVM), with who asked.
#[data]
pub struct VerificationRecord {
    /// The trading partner that asked.
    pub requester: Address,
    /// GTIN presented.
    pub gtin: String,
    /// Serial presented.
    pub serial: String,
    /// Lot presented.
    pub lot: String,
    /// Expiry presented (ms; compared as a day).
    pub expiry_ms: u64,
    /// Where the package was (GLN).
    pub location: String,
    /// When (ms).
    pub at_ms: u64,
    /// The response.
    pub response: Verification,
    /// The clone investigation the request opened, if the package could not be where it was
    /// verified.
    pub clone_case: Option<u64>,
}

/// A manufacturer extended a lot's expiry (the packages keep the printed date, which then
/// verifies with `ExpirationExtended`).
#[event]
pub struct ExpiryExtended {
    /// GTIN, as a topic.
    #[topic]
    pub gtin: String,
    /// Lot.
    pub lot: String,
    /// The new expiry (ms).
    pub expiry_ms: u64,
}

// ---- suspect-product investigations ----

/// Classification of a suspect product investigation (DSCSA).
#[data]
pub enum Classification {
    /// Still being investigated.
    Suspect,
    /// Counterfeit.
    Counterfeit,
    /// Diverted.
    Diverted,
    /// Stolen.
    Stolen,
    /// Intentionally adulterated.
    Adulterated,
    /// Unfit for distribution.
    Unfit,
    /// Fraudulent transaction.
    Fraudulent,
    /// Cleared: not illegitimate.
    Cleared,
}

/// A suspect-product investigation.
#[data]
pub struct Investigation {
    /// Units concerned.
    pub units: Vec<(String, String)>,
    /// Why it was opened.
    pub reason: String,
    /// Who opened it (the party that found the problem).
    pub opened_by: Address,
    /// Classification.
    pub classification: Classification,
    /// When it was determined illegitimate (ms), starting the 24 h clock.
    pub determined_ms: Option<u64>,
    /// FDA Form 3911 incident number, once filed.
    pub fda_incident: Option<String>,
    /// When the FDA and partners were notified (ms).
    pub notified_ms: Option<u64>,
    /// Whether the overdue event was emitted.
    pub overdue: bool,
}

// ---- recalls ----

/// FDA recall classification.
#[data]
pub enum RecallClass {
    /// A reasonable probability of serious harm or death.
    ClassI,
    /// Temporary or medically reversible harm.
    ClassII,
    /// Not likely to cause harm.
    ClassIII,
}

/// The recall of one lot.
#[data]
pub struct Recall {
    /// Classification.
    pub class: RecallClass,
    /// When it took effect (ms): the block that recorded it.
    pub effective_ms: u64,
    /// Units commissioned into the lot when it took effect (any commissioned later are
    /// recalled too).
    pub units: u32,
}

/// What holds for a whole lot, stored once per lot and read wherever one of its units is
/// checked (verify, ship, pack, dispense, release), so that a recall or an expiry extension
/// costs the same whatever the lot's size and covers units commissioned into it later.
#[data]
pub struct Lot {
    /// Units commissioned into it.
    pub units: u32,
    /// Recalled (the class and date are in [`Recall`]).
    pub recalled: bool,
    /// The expiry the manufacturer extended the lot to, if it did; the packages keep the
    /// printed one.
    pub extended_expiry_ms: Option<u64>,
    /// The lots (gtin, lot) its units were repackaged from: a recall of any of them recalls
    /// this lot too.
    pub sources: Vec<(String, String)>,
}

// ---- receiving discrepancies ----

/// A receipt that did not match its shipment (DSCSA §582(c)(1)(A): the buyer takes ownership
/// only of product it received with its transaction information), compared as sets, order
/// ignored. What was received moved to the receiver; what was shipped and not received went back
/// out of transit to the shipper's custody, its owner unchanged (the seller, or the owner of a
/// consignment), held (`holding` / `non_sellable_other`) until the owner resolves it: `release` if found, `suspect` if it may be stolen or diverted,
/// `decommission` or `destroy` if lost. What was received and not shipped changed nothing.
#[data]
pub struct Discrepancy {
    /// Shipped and not received.
    pub missing: Vec<Epc>,
    /// Received and not shipped.
    pub unexpected: Vec<Epc>,
    /// When the receipt was recorded (ms).
    pub recorded_ms: u64,
}

// ---- dispensing decisions ----

/// The outcome of a dispense: the GS1 LVM verification of the package and the decision taken.
#[data]
pub struct Dispensing {
    /// Whether the identifiers match a commissioned unit in commerce (GS1 LVM).
    pub verified: bool,
    /// GS1 LVM verificationFailureReason, when not verified.
    pub failure_reason: Option<String>,
    /// GS1 LVM additionalInfo.
    pub additional: Vec<String>,
    /// Whether the unit was dispensed.
    pub dispensed: bool,
    /// Why not, when refused: the failure reason of a failed verification, or
    /// `NotAuthorised`, `NotMovable`, `UnknownPrescription`, `PrescriptionMismatch` (the
    /// opening does not recompute the handle with this unit's NDC: a prescription for another
    /// product, or a wrong salt or patient commitment), `PrescriptionFilled`,
    /// `PrescriptionExpired`.
    pub refusal: Option<String>,
    /// The stored refusal's id, when refused.
    pub decision: Option<u64>,
}

/// A refused dispense, kept as data.
#[data]
pub struct DispenseRefusal {
    /// The dispenser who asked.
    pub dispenser: Address,
    /// GTIN presented.
    pub gtin: String,
    /// Serial presented.
    pub serial: String,
    /// The prescription's handle named.
    pub prescription: Hash,
    /// Why (see [`Dispensing::refusal`]).
    pub reason: String,
    /// The suspect-product investigation opened, for a failed verification.
    pub case: Option<u64>,
    /// When (ms).
    pub at_ms: u64,
}

/// A message's request was refused and the refusal recorded.
#[event]
pub struct Refused {
    /// The message, as a topic (`dispense`).
    #[topic]
    pub message: String,
    /// The stored refusal's id.
    pub id: u64,
    /// Why.
    pub reason: String,
}
