//! Drug supply-chain tracing (DOMAIN.md §3): DSCSA package-level tracing with GS1 EPCIS 2.0 /
//! CBV-shaped events.
//!
//! Marketing-authorisation holders register products (GTIN with the NDC) and commission serialised
//! units (SGTIN: GTIN + serial, with lot and expiry); units are packed into cases (SSCC), shipped
//! between trading partners that the registry authorises at the time of the transfer, received
//! by the named buyer only (contents must match the shipment, or a discrepancy is raised),
//! unpacked, and dispensed against a practitioner's prescription. Every transition is one
//! EPCIS-shaped event carrying its EPC list, and a per-unit history index makes "history back to
//! the manufacturer" a query. `verify` answers in GS1 Lightweight Verification Messaging terms.
//! Counterfeits (unknown serials, lot/expiry mismatches) and clones (a unit turning up where it
//! cannot be) are recorded, not reverted: the unit is quarantined, a suspect case opened, and an
//! illegitimate determination starts a 24-hour clock for notifying the FDA and partners.
#![no_std]

#[salus_sdk::contract]
mod supply {
    use salus_sdk::prelude::*;

    const REGISTRY: Value<Address> = Value::new(b"registry");
    const NEXT_EVENT: Value<u64> = Value::new(b"next_event");
    const NEXT_SHIPMENT: Value<u64> = Value::new(b"next_shipment");
    const NEXT_CASE: Value<u64> = Value::new(b"next_case");
    const PRODUCTS: Map<String, Product> = Map::new(b"p/");
    const UNITS: Map<(String, String), Unit> = Map::new(b"u/");
    /// (gtin, lot, serial) → (): every unit of a lot.
    const LOTS: Map<(String, String, String), ()> = Map::new(b"l/");
    const CONTAINERS: Map<String, Container> = Map::new(b"c/");
    const SHIPMENTS: Map<u64, Shipment> = Map::new(b"s/");
    const EVENTS: Map<u64, EpcisEvent> = Map::new(b"e/");
    /// (gtin, serial, event id big-endian) → (): each unit's history.
    const HISTORY: Map<(String, String, [u8; 8]), ()> = Map::new(b"h/");
    const PRESCRIPTIONS: Map<Hash, Prescription> = Map::new(b"rx/");
    const CASES: Map<u64, Investigation> = Map::new(b"i/");
    /// (gtin, lot) → the recall of that lot.
    const RECALLS: Map<(String, String), Recall> = Map::new(b"r/");
    /// Erroneous event id → the id of the error declaration that corrects it.
    const DECLARED: Map<u64, u64> = Map::new(b"d/");

    /// Most units one transaction commissions, ships or receives: bounds fuel and event size.
    const MAX_UNITS_PER_EVENT: usize = 500;
    /// Longest serial (GS1: up to 20 alphanumerics).
    const MAX_SERIAL_BYTES: usize = 20;
    /// Longest lot (GS1 AI 10: up to 20).
    const MAX_LOT_BYTES: usize = 20;
    /// Longest free-standing code (GLN, GTIN, SSCC, bizStep …).
    const MAX_CODE_BYTES: usize = 40;
    /// The notification window after an illegitimate determination (DSCSA: 24 hours).
    const NOTIFICATION_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;
    /// Registry role indexes (the registry's `Role`, encoded as its variant index).
    const ROLE_PRACTITIONER: u8 = 1;
    const ROLE_MANUFACTURER: u8 = 4;
    const ROLE_REPACKAGER: u8 = 5;
    const ROLE_WHOLESALER: u8 = 6;
    const ROLE_DISPENSER: u8 = 7;
    const ROLE_LOGISTICS: u8 = 8;

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
        /// Lot.
        pub lot: String,
        /// Expiry (ms).
        pub expiry_ms: u64,
        /// Owner.
        pub owner: Address,
        /// Who holds it.
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
        /// Its lot is recalled.
        pub recalled: bool,
        /// Shipment it is travelling in.
        pub shipment: Option<u64>,
        /// Last EPCIS event id.
        pub last_event: u64,
    }

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

    /// What a shipment carries: units and cases.
    #[data]
    pub enum Epc {
        /// An SGTIN.
        Unit(String, String),
        /// An SSCC.
        Case(String),
    }

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
        /// Transaction information.
        pub information: TransactionInformation,
        /// Received by the buyer.
        pub received: bool,
    }

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
        /// Units of the lot flagged.
        pub units: u32,
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

    /// An EPCIS 2.0-shaped event.
    #[data]
    pub struct EpcisEvent {
        /// Event id.
        pub id: u64,
        /// `ObjectEvent`, `AggregationEvent`, `TransactionEvent`.
        pub event_type: String,
        /// `ADD`, `OBSERVE`, `DELETE`.
        pub action: String,
        /// EPCs.
        pub epcs: Vec<Epc>,
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
        /// EPCs.
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
        /// A GTIN without a valid GS1 check digit, or one that does not embed the product's NDC.
        InvalidIdentifier,
    }

    /// The contract.
    pub struct Supply;

    impl Supply {
        /// Deploys with the participant registry.
        #[constructor]
        pub fn new(registry: Address) {
            REGISTRY.set(&registry);
        }

        /// Registers a product (caller: an active manufacturer, who becomes its owner).
        #[message]
        pub fn register_product(
            gtin: String,
            ndc: String,
            name: String,
            strength: String,
            dosage_form: String,
            container_size: String,
        ) -> Result<(), SupplyError> {
            for code in [&gtin, &ndc, &name, &strength, &dosage_form, &container_size] {
                check_code(code)?;
            }
            if !gtin_embeds_ndc(&gtin, &ndc) {
                return Err(SupplyError::InvalidIdentifier);
            }
            let owner = caller();
            if !active(&owner, ROLE_MANUFACTURER)? {
                return Err(SupplyError::NotAuthorised);
            }
            if PRODUCTS.contains(&gtin) {
                return Err(SupplyError::AlreadyCommissioned);
            }
            PRODUCTS.insert(
                &gtin.clone(),
                &Product {
                    gtin,
                    ndc,
                    owner,
                    name,
                    strength,
                    dosage_form,
                    container_size,
                },
            );
            Ok(())
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
            check_code(&location)?;
            if lot.len() > MAX_LOT_BYTES || serials.len() > MAX_UNITS_PER_EVENT {
                return Err(SupplyError::TooLarge);
            }
            let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
            let owner = caller();
            if product.owner != owner {
                return Err(SupplyError::NotAuthorised);
            }
            let id = next_event_id();
            let mut epcs = Vec::with_capacity(serials.len());
            for serial in serials {
                if serial.is_empty()
                    || serial.len() > MAX_SERIAL_BYTES
                    || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(SupplyError::TooLarge);
                }
                let key = (gtin.clone(), serial.clone());
                if UNITS.contains(&key) {
                    return Err(SupplyError::AlreadyCommissioned);
                }
                let unit = Unit {
                    gtin: gtin.clone(),
                    serial: serial.clone(),
                    lot: lot.clone(),
                    expiry_ms,
                    owner,
                    custodian: owner,
                    location: location.clone(),
                    parent: None,
                    disposition: Disposition::Active,
                    suspect: false,
                    quarantined: false,
                    illegitimate: false,
                    recalled: false,
                    shipment: None,
                    last_event: id,
                };
                UNITS.insert(&key, &unit);
                LOTS.insert(&(gtin.clone(), lot.clone(), serial.clone()), &());
                HISTORY.insert(&(gtin.clone(), serial.clone(), id.to_be_bytes()), &());
                epcs.push(Epc::Unit(gtin.clone(), serial));
            }
            record_event(
                id,
                "ObjectEvent",
                "ADD",
                epcs,
                None,
                "commissioning",
                "active",
                location,
                Vec::new(),
                None,
                None,
            );
            Ok(id)
        }

        /// Packs units into a case (caller: their owner); one AggregationEvent ADD.
        #[message]
        pub fn pack(
            sscc: String,
            units: Vec<(String, String)>,
            location: String,
        ) -> Result<u64, SupplyError> {
            check_code(&sscc)?;
            if units.len() > MAX_UNITS_PER_EVENT {
                return Err(SupplyError::TooLarge);
            }
            if CONTAINERS.contains(&sscc) {
                return Err(SupplyError::AlreadyCommissioned);
            }
            let owner = caller();
            let id = next_event_id();
            for key in &units {
                let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
                if unit.owner != owner {
                    return Err(SupplyError::NotAuthorised);
                }
                if unit.parent.is_some() || !movable(&unit) {
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

        /// Packs cases into a pallet, a new SSCC (caller: their owner; cases not already in a
        /// pallet, their units movable); one AggregationEvent ADD. Shipping, receiving and
        /// unpacking the pallet then act on every case and unit inside it.
        #[message]
        pub fn pack_cases(
            pallet: String,
            cases: Vec<String>,
            location: String,
        ) -> Result<u64, SupplyError> {
            check_code(&pallet)?;
            check_code(&location)?;
            if cases.len() > MAX_UNITS_PER_EVENT {
                return Err(SupplyError::TooLarge);
            }
            if CONTAINERS.contains(&pallet) {
                return Err(SupplyError::AlreadyCommissioned);
            }
            let owner = caller();
            for sscc in &cases {
                let mut case = CONTAINERS.get(sscc).ok_or(SupplyError::Unknown)?;
                if case.owner != owner {
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
            for key in expand(&epcs)? {
                let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
                if !movable(&unit) {
                    return Err(SupplyError::NotMovable);
                }
                touch(&key, &mut unit, id);
            }
            seal_container(id, pallet, owner, Vec::new(), cases, epcs, location);
            Ok(id)
        }

        /// Ships units and cases to `buyer` (caller: their owner; buyer: an authorised trading
        /// partner now) with the DSCSA transaction information; one TransactionEvent.
        /// Returns the shipment id.
        #[message]
        pub fn ship(
            epcs: Vec<Epc>,
            buyer: Address,
            documents: Vec<(String, Hash)>,
            location: String,
        ) -> Result<u64, SupplyError> {
            check_code(&location)?;
            let seller = caller();
            if !trading_partner(&buyer)? {
                return Err(SupplyError::PartnerNotAuthorised);
            }
            // Packed goods travel with their outermost container.
            for epc in &epcs {
                let (owner, parent) = match epc {
                    Epc::Unit(gtin, serial) => UNITS
                        .get(&(gtin.clone(), serial.clone()))
                        .map(|unit| (unit.owner, unit.parent)),
                    Epc::Case(sscc) => CONTAINERS.get(sscc).map(|case| (case.owner, case.parent)),
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

        /// Receives a shipment (caller: its buyer). The contents presented must match what was
        /// shipped; otherwise a discrepancy is raised and nothing changes hands. Ownership and
        /// custody move for every unit, cases included.
        #[message]
        pub fn receive(
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
            if presented != shipment.epcs {
                Alert {
                    kind: "discrepancy".into(),
                    reference: shipment_id,
                    detail: "received contents differ from the shipment".into(),
                }
                .emit();
                return Ok(false);
            }
            let id = next_event_id();
            for key in expand(&shipment.epcs)? {
                let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
                unit.owner = buyer;
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
            for epc in &shipment.epcs {
                let Epc::Case(sscc) = epc else { continue };
                for nested in case_tree(sscc)? {
                    let mut container = CONTAINERS.get(&nested).ok_or(SupplyError::Unknown)?;
                    container.owner = buyer;
                    container.custodian = buyer;
                    container.location = location.clone();
                    CONTAINERS.insert(&nested, &container);
                }
            }
            shipment.received = true;
            let seller = shipment.information.seller;
            let epcs = shipment.epcs.clone();
            SHIPMENTS.insert(&shipment_id, &shipment);
            record_event(
                id,
                "TransactionEvent",
                "ADD",
                epcs,
                None,
                "receiving",
                "in_progress",
                location,
                Vec::new(),
                Some(seller),
                Some(buyer),
            );
            Ok(true)
        }

        /// Unpacks a case (caller: its owner, once it is not travelling): its units become
        /// sellable and loose, and the case is gone.
        #[message]
        pub fn unpack(sscc: String, location: String) -> Result<u64, SupplyError> {
            let container = CONTAINERS.get(&sscc).ok_or(SupplyError::Unknown)?;
            if container.owner != caller() {
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

        /// Records a prescription (caller: an active practitioner).
        #[message]
        pub fn prescribe(
            prescription: Hash,
            patient: Address,
            ndc: String,
            fills: u32,
            expires_ms: u64,
        ) -> Result<(), SupplyError> {
            check_code(&ndc)?;
            let practitioner = caller();
            if !active(&practitioner, ROLE_PRACTITIONER)? {
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

        /// Dispenses the presented package against a prescription (caller: an active
        /// dispenser owning it). The package is verified first; a failed verification blocks
        /// dispensing, quarantines the unit if it exists and opens a suspect case — recorded,
        /// not reverted. Returns the verification.
        #[message]
        pub fn dispense(
            gtin: String,
            serial: String,
            lot: String,
            expiry_ms: u64,
            prescription: Hash,
        ) -> Result<Verification, SupplyError> {
            let dispenser = caller();
            if !active(&dispenser, ROLE_DISPENSER)? {
                return Err(SupplyError::NotAuthorised);
            }
            let verification = check(&gtin, &serial, &lot, expiry_ms);
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
            if rx.fills_left == 0 || rx.expires_ms <= block_timestamp_ms() || rx.ndc != product.ndc
            {
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

        /// A saleable return: the returning party's package, verified before it is accepted
        /// back (caller: the unit's previous seller, now receiving it back). Pass: sellable
        /// again, owned by the caller; fail: quarantined.
        #[message]
        pub fn accept_return(
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
            let verification = check(&gtin, &serial, &lot, expiry_ms);
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

        /// Reports a unit seen by a party that should not have it (a clone): the unit and the
        /// report are flagged, a suspect case opened (caller: any authorised trading partner).
        #[message]
        pub fn report_sighting(
            gtin: String,
            serial: String,
            location: String,
        ) -> Result<bool, SupplyError> {
            let reporter = caller();
            if !trading_partner(&reporter)? {
                return Err(SupplyError::NotAuthorised);
            }
            let key = (gtin.clone(), serial.clone());
            let mut unit = UNITS.get(&key).ok_or(SupplyError::Unknown)?;
            let legitimate = unit.owner == reporter
                && !matches!(
                    unit.disposition,
                    Disposition::Dispensed | Disposition::Destroyed
                );
            if legitimate {
                return Ok(false);
            }
            let case = open_case(
                &reporter,
                core::slice::from_ref(&key),
                "clone: the same SGTIN held by two parties".into(),
            );
            unit.suspect = true;
            unit.quarantined = true;
            let id = next_event_id();
            touch(&key, &mut unit, id);
            record_event(
                id,
                "ObjectEvent",
                "OBSERVE",
                Vec::from([Epc::Unit(gtin, serial)]),
                None,
                "inspecting",
                "non_sellable_other",
                location,
                Vec::new(),
                None,
                None,
            );
            Alert {
                kind: "clone".into(),
                reference: case,
                detail: "unit observed away from its owner or after dispensing".into(),
            }
            .emit();
            Ok(true)
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
            let product = PRODUCTS.get(&gtin).ok_or(SupplyError::Unknown)?;
            if product.owner != caller() {
                return Err(SupplyError::NotAuthorised);
            }
            if lots.len() > MAX_UNITS_PER_EVENT {
                return Err(SupplyError::TooLarge);
            }
            let mut flagged = 0u32;
            for lot in &lots {
                check_code(lot)?;
                let before = flagged;
                let mut after: Option<(String, String, String)> = None;
                loop {
                    let (page, more) =
                        LOTS.page_under(&(gtin.clone(), lot.clone()), after.as_ref(), 100);
                    for ((g, _, serial), ()) in &page {
                        let key = (g.clone(), serial.clone());
                        if let Some(mut unit) = UNITS.get(&key) {
                            unit.recalled = true;
                            UNITS.insert(&key, &unit);
                            flagged += 1;
                        }
                    }
                    match page.last() {
                        Some((last, ())) if more => after = Some(last.clone()),
                        _ => break,
                    }
                }
                RECALLS.insert(
                    &(gtin.clone(), lot.clone()),
                    &Recall {
                        class: class.clone(),
                        effective_ms: block_timestamp_ms(),
                        units: flagged - before,
                    },
                );
            }
            Alert {
                kind: "recall".into(),
                reference: u64::from(flagged),
                detail: gtin,
            }
            .emit();
            Ok(flagged)
        }

        /// Classifies an investigation (caller: the product owner or whoever opened it);
        /// an illegitimate classification starts the 24 h notification clock.
        #[message]
        pub fn classify(case: u64, classification: Classification) -> Result<(), SupplyError> {
            let mut investigation = CASES.get(&case).ok_or(SupplyError::Unknown)?;
            let asker = caller();
            let owner = investigation
                .units
                .first()
                .and_then(|(gtin, _)| PRODUCTS.get(gtin))
                .map(|product| product.owner);
            if asker != investigation.opened_by && Some(asker) != owner {
                return Err(SupplyError::NotAuthorised);
            }
            let illegitimate = !matches!(
                classification,
                Classification::Suspect | Classification::Cleared
            );
            if illegitimate && investigation.determined_ms.is_none() {
                investigation.determined_ms = Some(block_timestamp_ms());
            }
            for key in &investigation.units {
                if let Some(mut unit) = UNITS.get(key) {
                    unit.illegitimate = illegitimate;
                    unit.quarantined = illegitimate || unit.quarantined;
                    UNITS.insert(key, &unit);
                }
            }
            investigation.classification = classification;
            CASES.insert(&case, &investigation);
            Ok(())
        }

        /// Records the FDA 3911 incident number and partner notification (same callers as
        /// `classify`).
        #[message]
        pub fn record_notification(case: u64, fda_incident: String) -> Result<(), SupplyError> {
            check_code(&fda_incident)?;
            let mut investigation = CASES.get(&case).ok_or(SupplyError::Unknown)?;
            let asker = caller();
            let owner = investigation
                .units
                .first()
                .and_then(|(gtin, _)| PRODUCTS.get(gtin))
                .map(|product| product.owner);
            if asker != investigation.opened_by && Some(asker) != owner {
                return Err(SupplyError::NotAuthorised);
            }
            investigation.fda_incident = Some(fda_incident);
            investigation.notified_ms = Some(block_timestamp_ms());
            CASES.insert(&case, &investigation);
            Ok(())
        }

        /// Anyone may mark a case overdue once an illegitimate determination has gone 24 hours
        /// without an FDA notification; emits the overdue alert once. Returns whether it fired.
        #[message]
        pub fn mark_overdue(case: u64) -> Result<bool, SupplyError> {
            let mut investigation = CASES.get(&case).ok_or(SupplyError::Unknown)?;
            let due = investigation
                .determined_ms
                .is_some_and(|at| block_timestamp_ms() >= at + NOTIFICATION_WINDOW_MS);
            if !due || investigation.notified_ms.is_some() || investigation.overdue {
                return Ok(false);
            }
            investigation.overdue = true;
            CASES.insert(&case, &investigation);
            Alert {
                kind: "notification_overdue".into(),
                reference: case,
                detail: "no FDA 3911 within 24 h of determination".into(),
            }
            .emit();
            Ok(true)
        }

        /// Holds units back (caller: their owner), e.g. damaged stock or an internal check:
        /// quarantined, CBV `holding` / `non_sellable_other`. Returns how many units.
        #[message]
        pub fn hold(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            transition(
                &epcs,
                location,
                ("holding", "non_sellable_other"),
                |unit| {
                    matches!(
                        unit.disposition,
                        Disposition::Active
                            | Disposition::SellableAccessible
                            | Disposition::NonSellableOther
                    )
                },
                |unit| {
                    unit.quarantined = true;
                    unit.disposition = Disposition::NonSellableOther;
                },
            )
        }

        /// Releases held units back to sellable (caller: their owner); refused while a unit
        /// is suspect, illegitimate, recalled or expired.
        #[message]
        pub fn release(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            transition(
                &epcs,
                location,
                ("holding", "sellable_accessible"),
                |unit| {
                    unit.quarantined
                        && !unit.suspect
                        && !unit.illegitimate
                        && !unit.recalled
                        && unit.expiry_ms > block_timestamp_ms()
                        && matches!(unit.disposition, Disposition::NonSellableOther)
                },
                |unit| {
                    unit.quarantined = false;
                    unit.disposition = Disposition::SellableAccessible;
                },
            )
        }

        /// Takes units out of circulation without destroying them (caller: their owner):
        /// CBV `decommissioning` / `inactive`; an inactive unit never ships or is dispensed.
        #[message]
        pub fn decommission(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            transition(
                &epcs,
                location,
                ("decommissioning", "inactive"),
                |unit| {
                    matches!(
                        unit.disposition,
                        Disposition::Active
                            | Disposition::SellableAccessible
                            | Disposition::NonSellableOther
                    )
                },
                |unit| unit.disposition = Disposition::Inactive,
            )
        }

        /// Destroys units (caller: their owner), the end of quarantined, recalled, expired or
        /// illegitimate stock: CBV `destroying` / `destroyed`, terminal.
        #[message]
        pub fn destroy(epcs: Vec<Epc>, location: String) -> Result<u32, SupplyError> {
            transition(
                &epcs,
                location,
                ("destroying", "destroyed"),
                |unit| {
                    !matches!(
                        unit.disposition,
                        Disposition::Dispensed | Disposition::Destroyed | Disposition::InTransit
                    )
                },
                |unit| unit.disposition = Disposition::Destroyed,
            )
        }

        /// Declares a recorded event erroneous (caller: whoever recorded it), EPCIS 2.0 style:
        /// the original stays as it was; a new event copying it with `corrects` and the CBV
        /// reason is appended to the history of every unit it named. Corrective events follow
        /// as ordinary transitions. Returns the declaration's event id.
        #[message]
        pub fn declare_error(event: u64, reason: String) -> Result<u64, SupplyError> {
            if reason != "did_not_occur" && reason != "incorrect_data" {
                return Err(SupplyError::UnknownReason);
            }
            let original = EVENTS.get(&event).ok_or(SupplyError::Unknown)?;
            if original.recorded_by != caller() {
                return Err(SupplyError::NotAuthorised);
            }
            if original.corrects.is_some() || DECLARED.contains(&event) {
                return Err(SupplyError::AlreadyDeclared);
            }
            let id = next_event_id();
            for epc in &original.epcs {
                if let Epc::Unit(gtin, serial) = epc {
                    let key = (gtin.clone(), serial.clone());
                    if let Some(mut unit) = UNITS.get(&key) {
                        touch(&key, &mut unit, id);
                    }
                }
            }
            let declaration = EpcisEvent {
                id,
                event_time_ms: block_timestamp_ms(),
                recorded_by: caller(),
                corrects: Some(event),
                error_reason: Some(reason),
                ..original
            };
            EVENTS.insert(&id, &declaration);
            DECLARED.insert(&event, &id);
            Epcis {
                biz_step: "error_declaration".into(),
                id,
                epcs: declaration.epcs,
            }
            .emit();
            Ok(id)
        }

        /// Verification in GS1 Lightweight Verification Messaging terms.
        #[message(view)]
        pub fn verify(gtin: String, serial: String, lot: String, expiry_ms: u64) -> Verification {
            check(&gtin, &serial, &lot, expiry_ms)
        }

        /// A unit's state.
        #[message(view)]
        pub fn unit(gtin: String, serial: String) -> Option<Unit> {
            UNITS.get(&(gtin, serial))
        }

        /// A unit's history back to commissioning: its EPCIS events in order.
        #[message(view)]
        pub fn history(gtin: String, serial: String) -> Vec<EpcisEvent> {
            let (entries, _) = HISTORY.page_under(&(gtin, serial), None, 100);
            entries
                .into_iter()
                .filter_map(|((_, _, id), ())| EVENTS.get(&u64::from_be_bytes(id)))
                .collect()
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
            let cursor = after.map(|serial| (gtin.clone(), lot.clone(), serial));
            let (entries, _) =
                LOTS.page_under(&(gtin, lot), cursor.as_ref(), limit.min(100) as usize);
            entries
                .into_iter()
                .filter_map(|((g, _, serial), ())| {
                    UNITS
                        .get(&(g, serial.clone()))
                        .map(|unit| (serial, unit.owner, unit.location, unit.disposition))
                })
                .collect()
        }

        /// The recalls of a product's lots, as (lot, recall).
        #[message(view)]
        pub fn recalls(gtin: String) -> Vec<(String, Recall)> {
            let (entries, _) = RECALLS.page_under(&gtin, None, 100);
            entries
                .into_iter()
                .map(|((_, lot), recall)| (lot, recall))
                .collect()
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
            let mut open = Vec::new();
            let mut cursor = after;
            let limit = limit.min(100) as usize;
            loop {
                let (page, more) = CASES.page(cursor.as_ref(), 100);
                for (case, investigation) in page.iter().cloned() {
                    let closed = matches!(investigation.classification, Classification::Cleared)
                        || investigation.notified_ms.is_some();
                    if !closed && open.len() < limit {
                        open.push((case, investigation));
                    }
                }
                match page.last() {
                    Some((last, _)) if more && open.len() < limit => cursor = Some(*last),
                    _ => return open,
                }
            }
        }

        /// A shipment with its transaction information.
        #[message(view)]
        pub fn shipment(id: u64) -> Option<Shipment> {
            SHIPMENTS.get(&id)
        }
    }

    fn check(gtin: &str, serial: &str, lot: &str, expiry_ms: u64) -> Verification {
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

    /// Whether a unit may ship or be dispensed: not quarantined, recalled, expired, dispensed,
    /// destroyed, inactive or travelling.
    fn movable(unit: &Unit) -> bool {
        !unit.quarantined
            && !unit.recalled
            && !unit.illegitimate
            && unit.shipment.is_none()
            && unit.expiry_ms > block_timestamp_ms()
            && matches!(
                unit.disposition,
                Disposition::Active | Disposition::SellableAccessible
            )
    }

    /// An owner's transition of units in place: every unit named (cases expanded and
    /// dissolved) must belong to the caller, not be travelling, and pass `allowed`; each gets
    /// `apply` and one shared ObjectEvent with the CBV (bizStep, disposition).
    fn transition(
        epcs: &[Epc],
        location: String,
        (biz_step, disposition): (&str, &str),
        allowed: fn(&Unit) -> bool,
        apply: fn(&mut Unit),
    ) -> Result<u32, SupplyError> {
        check_code(&location)?;
        let owner = caller();
        let keys = expand(epcs)?;
        let id = next_event_id();
        for key in &keys {
            let mut unit = UNITS.get(key).ok_or(SupplyError::Unknown)?;
            if unit.owner != owner {
                return Err(SupplyError::NotAuthorised);
            }
            if unit.shipment.is_some() || !allowed(&unit) {
                return Err(SupplyError::WrongState);
            }
            apply(&mut unit);
            unit.location = location.clone();
            touch(key, &mut unit, id);
        }
        // Decommissioning or destroying a case ends it: its units stand alone.
        let dissolves_cases = matches!(disposition, "inactive" | "destroyed");
        for epc in epcs {
            let Epc::Case(sscc) = epc else { continue };
            if !dissolves_cases {
                continue;
            }
            let tree = case_tree(sscc)?;
            for nested in &tree {
                CONTAINERS.remove(nested);
            }
            for key in &keys {
                let Some(mut unit) = UNITS.get(key) else {
                    continue;
                };
                if unit
                    .parent
                    .as_ref()
                    .is_some_and(|parent| tree.contains(parent))
                {
                    unit.parent = None;
                    UNITS.insert(key, &unit);
                }
            }
        }
        record_event(
            id,
            "ObjectEvent",
            "OBSERVE",
            epcs.to_vec(),
            None,
            biz_step,
            disposition,
            location,
            Vec::new(),
            None,
            None,
        );
        Ok(keys.len() as u32)
    }

    /// The units behind a list of EPCs (cases expanded to their contents).
    fn expand(epcs: &[Epc]) -> Result<Vec<(String, String)>, SupplyError> {
        let mut units = Vec::new();
        for epc in epcs {
            match epc {
                Epc::Unit(gtin, serial) => units.push((gtin.clone(), serial.clone())),
                Epc::Case(sscc) => {
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

    /// Stores a new container (units or cases inside, held by its owner where it was packed) and
    /// records its packing as one AggregationEvent ADD with the `epcs` put in.
    fn seal_container(
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
    fn case_tree(sscc: &str) -> Result<Vec<String>, SupplyError> {
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

    fn touch(key: &(String, String), unit: &mut Unit, event: u64) {
        unit.last_event = event;
        UNITS.insert(key, unit);
        HISTORY.insert(&(key.0.clone(), key.1.clone(), event.to_be_bytes()), &());
    }

    fn next_event_id() -> u64 {
        let id = NEXT_EVENT.get().unwrap_or(0);
        NEXT_EVENT.set(&(id + 1));
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn record_event(
        id: u64,
        event_type: &str,
        action: &str,
        epcs: Vec<Epc>,
        parent: Option<String>,
        biz_step: &str,
        disposition: &str,
        location: String,
        biz_transactions: Vec<(String, Hash)>,
        source: Option<Address>,
        destination: Option<Address>,
    ) {
        let event = EpcisEvent {
            id,
            event_type: event_type.into(),
            action: action.into(),
            epcs: epcs.clone(),
            parent,
            biz_step: biz_step.into(),
            disposition: disposition.into(),
            location,
            biz_transactions,
            source,
            destination,
            event_time_ms: block_timestamp_ms(),
            recorded_by: caller(),
            corrects: None,
            error_reason: None,
        };
        EVENTS.insert(&id, &event);
        Epcis {
            biz_step: biz_step.into(),
            id,
            epcs,
        }
        .emit();
    }

    fn open_case(opened_by: &Address, units: &[(String, String)], reason: String) -> u64 {
        let case = NEXT_CASE.get().unwrap_or(0);
        NEXT_CASE.set(&(case + 1));
        CASES.insert(
            &case,
            &Investigation {
                units: units.to_vec(),
                reason,
                opened_by: *opened_by,
                classification: Classification::Suspect,
                determined_ms: None,
                fda_incident: None,
                notified_ms: None,
                overdue: false,
            },
        );
        case
    }

    fn active(participant: &Address, role: u8) -> Result<bool, SupplyError> {
        let registry = REGISTRY.get().ok_or(SupplyError::Unknown)?;
        call::<bool>(
            &registry,
            selector!("is_active"),
            &(participant, role, None::<u64>),
        )
        .map_err(|_| SupplyError::Unknown)
    }

    /// An authorised trading partner now: manufacturer, repackager, wholesaler, dispenser or
    /// third-party logistics provider in good standing with a current licence.
    fn trading_partner(participant: &Address) -> Result<bool, SupplyError> {
        for role in [
            ROLE_WHOLESALER,
            ROLE_DISPENSER,
            ROLE_MANUFACTURER,
            ROLE_REPACKAGER,
            ROLE_LOGISTICS,
        ] {
            if active(participant, role)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether `gtin` is a GTIN-14 for a US drug that carries `ndc`: a packaging indicator digit,
    /// the `03` NDC prefix, the ten NDC digits (any of the 4-4-2, 5-3-2 and 5-4-1 hyphenations)
    /// and a valid GS1 mod-10 check digit.
    fn gtin_embeds_ndc(gtin: &str, ndc: &str) -> bool {
        let gtin = gtin.as_bytes();
        if gtin.len() != 14 || !gtin.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let ndc_digits: Vec<u8> = ndc.bytes().filter(|byte| *byte != b'-').collect();
        let hyphens = ndc.bytes().filter(|byte| *byte == b'-').count();
        if hyphens != 2 || ndc_digits.len() != 10 || !ndc_digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        // GS1 check digit: weights 3, 1, 3, … from the rightmost data digit.
        let sum: u32 = gtin[..13]
            .iter()
            .rev()
            .enumerate()
            .map(|(position, digit)| {
                let weight = if position % 2 == 0 { 3 } else { 1 };
                u32::from(digit - b'0') * weight
            })
            .sum();
        let check = (10 - sum % 10) % 10;
        &gtin[1..3] == b"03" && gtin[3..13] == ndc_digits[..] && u32::from(gtin[13] - b'0') == check
    }

    fn check_code(code: &str) -> Result<(), SupplyError> {
        if code.len() > MAX_CODE_BYTES {
            Err(SupplyError::TooLarge)
        } else {
            Ok(())
        }
    }
}
