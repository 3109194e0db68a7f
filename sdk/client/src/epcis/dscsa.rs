//! The DSCSA view of a shipment (issue 23, deliverable 5): transaction information, history and statement.
//!
//! [`view`] reads one shipment of the supply contract (`shipment`, the cases' `contents`, each
//! unit's `unit` and `history`, a repackaged unit's `lineage`) and builds what the GS1 US DSCSA
//! implementation guideline sends with it:
//!
//! - **Transaction information (TI)**, DSCSA §581(26): the product lines the contract computed
//!   when the goods were shipped (GTIN, NDC, name, strength, dosage form and container size as
//!   the product was registered; lot; number of containers), each lot's expiry from its units,
//!   the transaction and shipment dates, the documents (PO, invoice) by hash, and seller and
//!   buyer by name, party GLN and chain address from the identity directory.
//! - **Transaction history (TH)**, §581(25): the TI of each prior transaction of these units
//!   back to the manufacturer, read from the units' recorded shipping and receiving events (and,
//!   for a repackaged unit, its inputs' histories).
//! - **Transaction statement (TS)**, §581(27): the seller's statement, clauses (A)–(G), each
//!   with what attests it: the contract's own check when the goods were shipped, the chain's
//!   record, or the seller's declaration alone (knowledge and systems are not on chain).
//!
//! [`DscsaView`] serialises as the JSON form; [`DscsaView::to_xml`] writes the same as an
//! EPCIS 1.2 document with the guideline's SBDH and master data header (module [`xml`](super::xml)).
//! docs/interop.md ("The DSCSA view") has the mapping.

use std::collections::{BTreeMap, BTreeSet};

use salus_primitives::Address;
use serde::Serialize;
use serde_json::{Value, json};

use super::export::{ExportError, export_events};
use super::import::{Epc, as_u64, epcs_from_json};
use super::time::{format_date, format_date_time};
use super::xml::{self, Header, Partner, Vocabulary, VocabularyElement};
use super::{DOCUMENT_URN, EVENT_URN, EpcisError, SupplyReader};
use crate::directory::{Directory, DirectoryError};
use crate::gs1::Identifier;

/// The GS1 US healthcare EPCIS extension namespace, which carries the transaction statement's
/// affirmation on the shipping event.
pub const GS1US_HC_NS: &str = "http://epcis.gs1us.org/hc/ns";

/// The GS1 US guideline's one-line transaction statement.
pub const STATEMENT_SUMMARY: &str =
    "Seller has complied with each applicable subsection of FDCA Sec. 581(27)(A)-(G).";

/// The transaction statement's clauses, DSCSA §581(27)(A)–(G): the transferor …
pub const STATEMENT_CLAUSES: [(&str, &str); 7] = [
    (
        "581(27)(A)",
        "is authorized as required under the Drug Supply Chain Security Act",
    ),
    (
        "581(27)(B)",
        "received the product from a person that is authorized as required under the Drug Supply Chain Security Act",
    ),
    (
        "581(27)(C)",
        "received transaction information and a transaction statement from the prior owner of the product, as required under section 582",
    ),
    (
        "581(27)(D)",
        "did not knowingly ship a suspect or illegitimate product",
    ),
    (
        "581(27)(E)",
        "had systems and processes in place to comply with verification requirements under section 582",
    ),
    (
        "581(27)(F)",
        "did not knowingly provide false transaction information",
    ),
    (
        "581(27)(G)",
        "did not knowingly alter the transaction history",
    ),
];

/// Why a shipment has no DSCSA view.
#[derive(Debug, thiserror::Error)]
pub enum DscsaError {
    /// No such shipment.
    #[error("shipment {0} is not on chain")]
    UnknownShipment(u64),
    /// A custody move to or from a 3PL: no transaction, so no transaction information.
    #[error(
        "shipment {0} is a custody move (to or from a third-party logistics provider), no \
         transaction: it has no transaction information (DSCSA §581(22), §581(24))"
    )]
    NoTransaction(u64),
    /// A party of the view is not in the directory (or has no party GLN there).
    #[error("shipment {shipment}: the {role}: {source}")]
    Party {
        /// The shipment.
        shipment: u64,
        /// Which party: `seller`, `buyer`, `seller of the transaction of event 3`, …
        role: String,
        /// The directory's answer, naming the address.
        source: DirectoryError,
    },
    /// A case of the shipment was unpacked since: its units can no longer be listed.
    #[error("shipment {shipment}: case {sscc} is no longer on chain (unpacked since?)")]
    Contents {
        /// The shipment.
        shipment: u64,
        /// The case.
        sscc: String,
    },
    /// The chain could not be read, or does not hold what the shipment implies.
    #[error("reading the chain: {0}")]
    Chain(String),
    /// The events could not be exported.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The events could not be written as EPCIS 1.2.
    #[error(transparent)]
    Xml(#[from] EpcisError),
}

/// A party as the view names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Its name in the directory.
    pub name: String,
    /// Its party GLN (GLN-13).
    pub gln: String,
    /// Its chain address.
    pub chain_address: String,
    /// Its postal address: the identity directory holds none, so always None (see
    /// [`DscsaView::not_held`]).
    pub postal_address: Option<String>,
}

/// A business document of a transaction, as recorded: its CBV type and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Document {
    /// CBV bizTransaction type (`po`, `inv`, `desadv`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The document's hash (`0x…`).
    pub hash: String,
    /// As the EPCIS documents name it (`urn:salus:document:0x…`).
    pub reference: String,
}

/// One product and lot of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProductLine {
    /// GTIN-14.
    pub gtin: String,
    /// NDC, as registered; None where the chain's records at hand do not give it.
    pub ndc: Option<String>,
    /// Proprietary or established name.
    pub name: Option<String>,
    /// Strength.
    pub strength: Option<String>,
    /// Dosage form.
    pub dosage_form: Option<String>,
    /// Container size.
    pub container_size: Option<String>,
    /// Lot.
    pub lot: String,
    /// Expiry dates (`YYYY-MM-DD`) printed on its units (one, normally).
    pub expiry: Vec<String>,
    /// Number of containers.
    pub containers: u32,
    /// The serials of this shipment's units in the line.
    pub serials: Vec<String>,
}

/// Transaction information, DSCSA §581(26).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransactionInformation {
    /// Seller (transferor).
    pub seller: Party,
    /// Buyer (transferee).
    pub buyer: Party,
    /// Date of the transaction (`YYYY-MM-DD`, UTC).
    pub transaction_date: String,
    /// Date of the shipment (`YYYY-MM-DD`, UTC).
    pub shipment_date: String,
    /// The shipping event's id on chain.
    pub event: u64,
    /// When it was recorded (the block time).
    pub recorded_at: String,
    /// Purchase order, invoice.
    pub documents: Vec<Document>,
    /// One line per product and lot.
    pub products: Vec<ProductLine>,
}

/// What attests a clause of the statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attestation {
    /// The supply contract checked it when the goods were shipped; it refuses otherwise.
    CheckedByContract,
    /// The chain's record shows it.
    RecordedOnChain,
    /// The seller's word alone: the chain cannot see it.
    DeclaredBySeller,
    /// Does not apply to this seller.
    NotApplicable,
}

/// One clause of the statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementItem {
    /// `581(27)(A)` …
    pub clause: String,
    /// The statutory text.
    pub text: String,
    /// What attests it.
    pub attestation: Attestation,
    /// How.
    pub basis: String,
}

/// Transaction statement, DSCSA §581(27).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransactionStatement {
    /// The seller making it.
    pub seller: Party,
    /// The guideline's one-line statement.
    pub summary: String,
    /// The contract recorded the statement with the transaction (`ship` and `sell` always do).
    pub made: bool,
    /// The shipping event that records it.
    pub event: u64,
    /// Who signed that event's transaction (the seller, or the 3PL dispatching its sale).
    pub recorded_by: String,
    /// When.
    pub recorded_at: String,
    /// Clauses (A)–(G).
    pub items: Vec<StatementItem>,
}

/// The DSCSA view of one shipment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DscsaView {
    /// The shipment id.
    pub shipment: u64,
    /// Whether the buyer received it.
    pub received: bool,
    /// TI.
    pub transaction_information: TransactionInformation,
    /// TH: the prior transactions, earliest (the manufacturer's sale) first.
    pub transaction_history: Vec<TransactionInformation>,
    /// TS.
    pub transaction_statement: TransactionStatement,
    /// The manufacturers (commissioning parties) of the shipment's units.
    pub manufacturers: Vec<Party>,
    /// What the view cannot give, and why.
    pub not_held: Vec<String>,
    /// The recorded events behind the shipment, by id, through its shipping event (the XML's
    /// event list).
    #[serde(skip)]
    pub events: BTreeMap<u64, Value>,
}

/// A unit of the shipment, with its record.
struct UnitRecord {
    gtin: String,
    serial: String,
    lot: String,
    expiry_ms: u64,
    history: Vec<Value>,
}

struct Reader<'a> {
    reader: &'a dyn SupplyReader,
    directory: &'a Directory,
    shipment: u64,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn non_empty(value: &Value) -> Option<String> {
    value
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

impl Reader<'_> {
    fn view(&self, message: &str, arguments: Value) -> Result<Value, DscsaError> {
        self.reader
            .view(message, arguments)
            .map_err(|reason| DscsaError::Chain(format!("`{message}`: {reason}")))
    }

    fn party(&self, value: &Value, role: &str) -> Result<Party, DscsaError> {
        let error = |source| DscsaError::Party {
            shipment: self.shipment,
            role: role.to_string(),
            source,
        };
        let address: Address = value
            .as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| DscsaError::Chain(format!("the {role} is not an address: {value}")))?;
        let party = self.directory.party_by_address(&address).map_err(error)?;
        let gln = party.gln.clone().ok_or_else(|| {
            error(DirectoryError::Unresolved {
                kind: crate::directory::ReferenceKind::Party,
                reference: format!("{address} (no party GLN in the directory)"),
            })
        })?;
        Ok(Party {
            name: party.name.clone(),
            gln,
            chain_address: address.to_string(),
            postal_address: None,
        })
    }

    /// The units behind `epcs`, cases opened through `contents`.
    fn units(&self, epcs: &[Epc], into: &mut Vec<(String, String)>) -> Result<(), DscsaError> {
        for epc in epcs {
            match epc {
                Epc::Unit(gtin, serial) => into.push((gtin.clone(), serial.clone())),
                Epc::Case(sscc) => {
                    let container = self.view("contents", json!([sscc]))?;
                    if container.is_null() {
                        return Err(DscsaError::Contents {
                            shipment: self.shipment,
                            sscc: sscc.clone(),
                        });
                    }
                    for child in container["children"].as_array().into_iter().flatten() {
                        into.push((text(&child[0]), text(&child[1])));
                    }
                    let cases: Vec<Epc> = container["cases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|case| Epc::Case(text(case)))
                        .collect();
                    self.units(&cases, into)?;
                }
            }
        }
        Ok(())
    }

    fn unit(&self, gtin: &str, serial: &str) -> Result<UnitRecord, DscsaError> {
        let unit = self.view("unit", json!([gtin, serial]))?;
        if unit.is_null() {
            return Err(DscsaError::Chain(format!(
                "unit {gtin} {serial} is not on chain"
            )));
        }
        let history = self.view("history", json!([gtin, serial]))?;
        Ok(UnitRecord {
            gtin: gtin.to_string(),
            serial: serial.to_string(),
            lot: text(&unit["lot"]),
            expiry_ms: as_u64(&unit["expiry_ms"]).unwrap_or_default(),
            history: history.as_array().cloned().unwrap_or_default(),
        })
    }

    /// A unit's events through `until` (inclusive), with its inputs' events before its
    /// repackaging, back to their manufacturers (`depth` repackagings at most).
    fn lineage_events(
        &self,
        unit: &UnitRecord,
        until: u64,
        depth: u32,
        into: &mut Vec<(UnitRecord, u64)>,
    ) -> Result<(), DscsaError> {
        let made_by = unit.history.first().filter(|event| {
            event["event_type"] == "TransformationEvent"
                && epcs_from_json(&event["transformation"]["outputs"])
                    .iter()
                    .any(|epc| matches!(epc, Epc::Unit(g, s) if *g == unit.gtin && *s == unit.serial))
        });
        if let Some(event) = made_by
            && depth > 0
        {
            let id = as_u64(&event["id"]).unwrap_or_default();
            for input in epcs_from_json(&event["transformation"]["inputs"]) {
                if let Epc::Unit(gtin, serial) = input {
                    let record = self.unit(&gtin, &serial)?;
                    self.lineage_events(&record, id, depth - 1, into)?;
                }
            }
        }
        into.push((
            UnitRecord {
                gtin: unit.gtin.clone(),
                serial: unit.serial.clone(),
                lot: unit.lot.clone(),
                expiry_ms: unit.expiry_ms,
                history: unit.history.clone(),
            },
            until,
        ));
        Ok(())
    }

    fn documents(value: &Value) -> Vec<Document> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .map(|pair| {
                let hash = text(&pair[1]);
                Document {
                    kind: text(&pair[0]),
                    reference: format!("{DOCUMENT_URN}{hash}"),
                    hash,
                }
            })
            .collect()
    }
}

/// The description of a GTIN as a product line of `lines` (the registry's, copied into the
/// shipment when it was shipped) gives it.
fn describe(gtin: &str, lot: &str, lines: &[Value]) -> ProductLine {
    let line = lines.iter().find(|line| line["gtin"] == gtin);
    let field = |name: &str| line.and_then(|line| non_empty(&line[name]));
    ProductLine {
        gtin: gtin.to_string(),
        ndc: field("ndc"),
        name: field("name"),
        strength: field("strength"),
        dosage_form: field("dosage_form"),
        container_size: field("container_size"),
        lot: lot.to_string(),
        expiry: Vec::new(),
        containers: 0,
        serials: Vec::new(),
    }
}

/// Adds a unit to the lines of a transaction.
fn count(lines: &mut Vec<ProductLine>, unit: &UnitRecord, described: &[Value]) {
    let index = match lines
        .iter()
        .position(|line| line.gtin == unit.gtin && line.lot == unit.lot)
    {
        Some(index) => index,
        None => {
            lines.push(describe(&unit.gtin, &unit.lot, described));
            lines.len() - 1
        }
    };
    let line = &mut lines[index];
    line.containers += 1;
    if !line.serials.contains(&unit.serial) {
        line.serials.push(unit.serial.clone());
    }
    let expiry = format_date(unit.expiry_ms);
    if !line.expiry.contains(&expiry) {
        line.expiry.push(expiry);
    }
}

/// Whether `event` is the shipping event of a transaction (a sale: owning parties named).
fn is_sale(event: &Value) -> bool {
    event["biz_step"] == "shipping"
        && event["source"].is_string()
        && event["destination"].is_string()
        && event["corrects"].is_null()
}

/// The DSCSA view of shipment `shipment`.
///
/// # Errors
/// [`DscsaError`]: the shipment unknown or no transaction, a party not in the directory, a case
/// since unpacked, the chain unreadable.
pub fn view(
    reader: &dyn SupplyReader,
    directory: &Directory,
    shipment: u64,
) -> Result<DscsaView, DscsaError> {
    let chain = Reader {
        reader,
        directory,
        shipment,
    };
    let record = chain.view("shipment", json!([shipment]))?;
    if record.is_null() {
        return Err(DscsaError::UnknownShipment(shipment));
    }
    let information = &record["information"];
    if information.is_null() {
        return Err(DscsaError::NoTransaction(shipment));
    }
    let seller_value = &information["seller"];
    let buyer_value = &information["buyer"];
    let seller = chain.party(seller_value, "seller")?;
    let buyer = chain.party(buyer_value, "buyer")?;
    let shipment_ms = as_u64(&information["shipment_ms"]).unwrap_or_default();
    let transaction_ms = as_u64(&information["transaction_ms"]).unwrap_or_default();
    let lines: Vec<Value> = information["lines"].as_array().cloned().unwrap_or_default();

    let mut keys = Vec::new();
    chain.units(&epcs_from_json(&record["epcs"]), &mut keys)?;
    let units = keys
        .iter()
        .map(|(gtin, serial)| chain.unit(gtin, serial))
        .collect::<Result<Vec<_>, _>>()?;

    // This shipment's shipping event: the sale between these parties at the shipment's time.
    let this_event = |unit: &UnitRecord| -> Option<Value> {
        unit.history
            .iter()
            .rev()
            .find(|event| {
                is_sale(event)
                    && event["source"] == *seller_value
                    && event["destination"] == *buyer_value
                    && as_u64(&event["event_time_ms"]) == Some(shipment_ms)
            })
            .cloned()
    };
    let mut shipping: Option<Value> = None;
    let mut traced = Vec::new();
    for unit in &units {
        let event = this_event(unit).ok_or_else(|| {
            DscsaError::Chain(format!(
                "unit {} {} has no shipping event of shipment {shipment}",
                unit.gtin, unit.serial
            ))
        })?;
        let id = as_u64(&event["id"]).unwrap_or_default();
        shipping.get_or_insert_with(|| event.clone());
        chain.lineage_events(unit, id, 2, &mut traced)?;
    }
    let shipping =
        shipping.ok_or_else(|| DscsaError::Chain(format!("shipment {shipment} holds no units")))?;
    let shipping_id = as_u64(&shipping["id"]).unwrap_or_default();

    // TI: the contract's lines, with each lot's expiry and serials from its units.
    let mut products: Vec<ProductLine> = lines
        .iter()
        .map(|line| {
            let mut product = describe(&text(&line["gtin"]), &text(&line["lot"]), &lines);
            product.containers = as_u64(&line["units"]).unwrap_or_default() as u32;
            product
        })
        .collect();
    for unit in &units {
        let mut scratch = Vec::new();
        count(&mut scratch, unit, &lines);
        match products
            .iter_mut()
            .find(|line| line.gtin == unit.gtin && line.lot == unit.lot)
        {
            Some(line) => {
                line.serials.push(unit.serial.clone());
                for expiry in &scratch[0].expiry {
                    if !line.expiry.contains(expiry) {
                        line.expiry.push(expiry.clone());
                    }
                }
            }
            None => {
                return Err(DscsaError::Chain(format!(
                    "unit {} {} is in no product line of shipment {shipment}",
                    unit.gtin, unit.serial
                )));
            }
        }
    }
    let transaction_information = TransactionInformation {
        seller: seller.clone(),
        buyer: buyer.clone(),
        transaction_date: format_date(transaction_ms),
        shipment_date: format_date(shipment_ms),
        event: shipping_id,
        recorded_at: format_date_time(shipment_ms),
        documents: Reader::documents(&information["documents"]),
        products,
    };

    // TH: every earlier sale each unit (or an input it was made from) went through and its buyer
    // received; the events behind the shipment for the XML.
    let mut prior: BTreeMap<u64, (Value, Vec<ProductLine>)> = BTreeMap::new();
    let mut events = BTreeMap::new();
    let mut manufacturers: BTreeSet<String> = BTreeSet::new();
    for (unit, until) in &traced {
        for event in &unit.history {
            let id = as_u64(&event["id"]).unwrap_or_default();
            if id > *until {
                continue;
            }
            events.insert(id, event.clone());
            if event["biz_step"] == "commissioning" {
                manufacturers.insert(text(&event["recorded_by"]));
            }
            if id >= *until || !is_sale(event) {
                continue;
            }
            let received = unit.history.iter().any(|later| {
                as_u64(&later["id"]).is_some_and(|later_id| later_id > id && later_id <= *until)
                    && later["biz_step"] == "receiving"
                    && later["recorded_by"] == event["destination"]
            });
            if received {
                let entry = prior
                    .entry(id)
                    .or_insert_with(|| (event.clone(), Vec::new()));
                count(&mut entry.1, unit, &lines);
            }
        }
    }
    let mut transaction_history = Vec::new();
    for (id, (event, products)) in prior {
        let time = as_u64(&event["event_time_ms"]).unwrap_or_default();
        transaction_history.push(TransactionInformation {
            seller: chain.party(
                &event["source"],
                &format!("seller of the transaction of event {id}"),
            )?,
            buyer: chain.party(
                &event["destination"],
                &format!("buyer of the transaction of event {id}"),
            )?,
            transaction_date: format_date(time),
            shipment_date: format_date(time),
            event: id,
            recorded_at: format_date_time(time),
            documents: Reader::documents(&event["biz_transactions"]),
            products,
        });
    }
    let manufacturers = manufacturers
        .iter()
        .map(|address| chain.party(&json!(address), "manufacturer"))
        .collect::<Result<Vec<_>, _>>()?;

    let seller_is_manufacturer = manufacturers
        .iter()
        .all(|maker| maker.chain_address == seller.chain_address)
        && transaction_history.is_empty();
    let recorded_by = text(&shipping["recorded_by"]);
    let transaction_statement = statement(
        &seller,
        information["statement"] == true,
        shipping_id,
        &recorded_by,
        shipment_ms,
        seller_is_manufacturer,
        transaction_history.len(),
    );

    let mut not_held = vec![
        "postal addresses of seller and buyer: the identity directory holds names, party GLNs \
         and chain addresses only"
            .to_string(),
    ];
    let undescribed: BTreeSet<&str> = transaction_history
        .iter()
        .flat_map(|ti| ti.products.iter())
        .filter(|line| line.name.is_none())
        .map(|line| line.gtin.as_str())
        .collect();
    for gtin in undescribed {
        not_held.push(format!(
            "the description of GTIN {gtin} (an input of a repackaging): the supply contract \
             has no product view; its name, strength, dosage form and container size are on \
             chain only in the shipments that carried it"
        ));
    }
    if transaction_history.iter().any(|ti| ti.documents.is_empty()) {
        not_held.push(
            "documents of a prior transaction recorded without any (a shipment by EPCIS \
             without bizTransactionList)"
                .to_string(),
        );
    }

    Ok(DscsaView {
        shipment,
        received: record["received"] == true,
        transaction_information,
        transaction_history,
        transaction_statement,
        manufacturers,
        not_held,
        events,
    })
}

/// The statement's clauses with what attests each.
fn statement(
    seller: &Party,
    made: bool,
    event: u64,
    recorded_by: &str,
    at_ms: u64,
    seller_is_manufacturer: bool,
    prior: usize,
) -> TransactionStatement {
    let signer = if recorded_by == seller.chain_address {
        "signed by the seller".to_string()
    } else {
        format!(
            "dispatched by {recorded_by}, the third-party logistics provider holding the goods; \
             the seller made the sale and its statement with `sell`"
        )
    };
    let items = STATEMENT_CLAUSES
        .iter()
        .map(|(clause, text)| {
            let (attestation, basis) = match *clause {
                "581(27)(A)" => (
                    Attestation::CheckedByContract,
                    format!(
                        "shipping event {event} ({signer}): `ship` and `sell` refuse a seller the \
                         registry does not attest licensed and in good standing at that block, and \
                         a buyer that may not own product (§582(b)(3), (c)(3))"
                    ),
                ),
                "581(27)(B)" if seller_is_manufacturer => (
                    Attestation::NotApplicable,
                    "the seller commissioned the product (its manufacturer)".to_string(),
                ),
                "581(27)(B)" => (
                    Attestation::CheckedByContract,
                    format!(
                        "each of the {prior} prior transaction(s) in the history was a `ship` or \
                         `sell`, refused unless the registry attested its seller authorised"
                    ),
                ),
                "581(27)(C)" if seller_is_manufacturer => (
                    Attestation::NotApplicable,
                    "the seller commissioned the product (its manufacturer)".to_string(),
                ),
                "581(27)(C)" => (
                    Attestation::RecordedOnChain,
                    "the prior transactions' information and statements are the contract's \
                     records of those sales (the history above); the seller received them as \
                     any reader of the chain does"
                        .to_string(),
                ),
                "581(27)(D)" => (
                    Attestation::DeclaredBySeller,
                    "knowledge is not on chain; the contract did refuse to ship units then \
                     quarantined, suspect, recalled or expired (`NotMovable`)"
                        .to_string(),
                ),
                "581(27)(E)" => (
                    Attestation::DeclaredBySeller,
                    "a party's systems and processes are not on chain (its recorded GS1 LVM \
                     verifications are: `verifications`)"
                        .to_string(),
                ),
                "581(27)(F)" => (
                    Attestation::CheckedByContract,
                    "the product lines and dates are the contract's own, computed from the units \
                     shipped and the block time; the documents (PO, invoice) are hashes the seller \
                     gave, not checked against the documents themselves"
                        .to_string(),
                ),
                _ => (
                    Attestation::RecordedOnChain,
                    "the history is read from the contract's append-only event record: no party \
                     can alter it (an error is declared as a new event)"
                        .to_string(),
                ),
            };
            StatementItem {
                clause: clause.to_string(),
                text: text.to_string(),
                attestation,
                basis,
            }
        })
        .collect();
    TransactionStatement {
        seller: seller.clone(),
        summary: STATEMENT_SUMMARY.to_string(),
        made,
        event,
        recorded_by: recorded_by.to_string(),
        recorded_at: format_date_time(at_ms),
        items,
    }
}

impl DscsaView {
    /// The view as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The SBDH partner of a party: its SGLN (the party GLN, extension 0) as the GS1 US
    /// guideline's `Authority="SGLN"` when a company prefix splits it, else the GLN-13.
    fn partner(&self, directory: &Directory, party: &Party) -> Partner {
        match (Identifier::Sgln {
            gln: party.gln.clone(),
            extension: None,
        })
        .urn(directory.company_prefixes())
        {
            Some(urn) => Partner {
                authority: "SGLN".into(),
                identifier: urn,
            },
            None => Partner {
                authority: "GLN".into(),
                identifier: party.gln.clone(),
            },
        }
    }

    /// The master data of the header: each product (EPC class) as registered, and the seller's
    /// and buyer's locations (their party GLNs) with their names.
    fn master_data(&self, directory: &Directory) -> Vec<Vocabulary> {
        let prefixes = directory.company_prefixes();
        let mut products = Vec::new();
        let maker = self
            .manufacturers
            .first()
            .map(|party| party.name.clone())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        for line in &self.transaction_information.products {
            if !seen.insert(line.gtin.clone()) {
                continue;
            }
            let unit = Identifier::Sgtin {
                gtin: line.gtin.clone(),
                serial: "0".into(),
            };
            let id = match unit.urn(prefixes.clone()) {
                Some(urn) => {
                    let class = urn
                        .rsplit_once('.')
                        .map_or(urn.as_str(), |(class, _)| class);
                    format!("{}.*", class.replace(":id:sgtin:", ":idpat:sgtin:"))
                }
                None => format!("{}/01/{}", crate::gs1::DIGITAL_LINK_BASE, line.gtin),
            };
            let mut attributes = Vec::new();
            let mda = |name: &str| format!("urn:epcglobal:cbv:mda#{name}");
            if let Some(ndc) = &line.ndc {
                attributes.push((mda("additionalTradeItemIdentification"), ndc.clone()));
                if ndc.chars().filter(char::is_ascii_digit).count() == 11 {
                    attributes.push((
                        mda("additionalTradeItemIdentificationTypeCode"),
                        "FDA_NDC_11".into(),
                    ));
                }
            }
            for (name, value) in [
                ("regulatedProductName", &line.name),
                ("dosageFormType", &line.dosage_form),
                ("strengthDescription", &line.strength),
                ("netContentDescription", &line.container_size),
            ] {
                if let Some(value) = value {
                    attributes.push((mda(name), value.clone()));
                }
            }
            if !maker.is_empty() {
                attributes.push((mda("manufacturerOfTradeItemPartyName"), maker.clone()));
            }
            products.push(VocabularyElement { id, attributes });
        }
        let mut locations = Vec::new();
        let mut seen = BTreeSet::new();
        for party in [
            &self.transaction_information.seller,
            &self.transaction_information.buyer,
        ] {
            if !seen.insert(party.gln.clone()) {
                continue;
            }
            locations.push(VocabularyElement {
                id: Identifier::Sgln {
                    gln: party.gln.clone(),
                    extension: None,
                }
                .render(prefixes.clone()),
                attributes: vec![("urn:epcglobal:cbv:mda#name".into(), party.name.clone())],
            });
        }
        vec![
            Vocabulary {
                vocabulary_type: xml::VTYPE_EPC_CLASS.into(),
                elements: products,
            },
            Vocabulary {
                vocabulary_type: xml::VTYPE_LOCATION.into(),
                elements: locations,
            },
        ]
    }

    /// The view as the GS1 US guideline's EPCIS 1.2 document: the SBDH from seller to buyer,
    /// the products and parties as master data, the events behind the shipment through its
    /// shipping event, which carries the statement's affirmation (`gs1ushc`), created at
    /// `creation_ms`.
    ///
    /// # Errors
    /// [`DscsaError::Export`] or [`DscsaError::Xml`]: an event the directory or EPCIS 1.2
    /// cannot render.
    pub fn to_xml(
        &self,
        reader: &dyn SupplyReader,
        directory: &Directory,
        creation_ms: u64,
    ) -> Result<String, DscsaError> {
        let mut document = export_events(reader, directory, self.events.clone(), creation_ms)?;
        document["@context"]
            .as_array_mut()
            .ok_or_else(|| DscsaError::Chain("an export without @context".into()))?
            .push(json!({ "gs1ushc": GS1US_HC_NS }));
        let shipping_id = format!("{EVENT_URN}{}", self.transaction_information.event);
        for event in document["epcisBody"]["eventList"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            // EPCIS 1.2 and the GS1 US guideline name owning parties by SGLN (extension 0).
            for (list, key) in [("sourceList", "source"), ("destinationList", "destination")] {
                for entry in event[list].as_array_mut().into_iter().flatten() {
                    if let Some(sgln) = entry[key].as_str().and_then(pgln_as_sgln) {
                        entry[key] = json!(sgln);
                    }
                }
            }
            if event["eventID"] == shipping_id.as_str() && self.transaction_statement.made {
                event["gs1ushc:dscsaTransactionStatement"] =
                    json!({ "gs1ushc:affirmTransactionStatement": "true" });
            }
        }
        let header = Header {
            sender: self.partner(directory, &self.transaction_information.seller),
            receiver: self.partner(directory, &self.transaction_information.buyer),
            instance_identifier: format!("urn:salus:dscsa:shipment:{}", self.shipment),
            creation: format_date_time(creation_ms),
            master_data: self.master_data(directory),
        };
        Ok(xml::to_xml(&document, Some(&header))?)
    }
}

/// A party GLN as EPCIS 1.2 names it: `urn:epc:id:pgln:CP.LR` as `urn:epc:id:sgln:CP.LR.0`,
/// a Digital Link `/417/GLN` as `/414/GLN`.
fn pgln_as_sgln(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix("urn:epc:id:pgln:") {
        return Some(format!("urn:epc:id:sgln:{rest}.0"));
    }
    let (base, gln) = value.rsplit_once("/417/")?;
    Some(format!("{base}/414/{gln}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Party as DirectoryParty;

    const GTIN: &str = "00312345678906";
    const SELLER: &str = "0x1111111111111111111111111111111111111111";
    const BUYER: &str = "0x2222222222222222222222222222222222222222";
    const PHARMACY: &str = "0x3333333333333333333333333333333333333333";
    const DAY: u64 = 86_400_000;
    const REPACKAGED: &str = "00312345678913";

    /// A chain of three units packed in a case, sold by the maker to the wholesaler (shipment
    /// 0, received), then by the wholesaler to a pharmacy (shipment 1).
    struct Chain;

    fn event(id: u64, step: &str, kind: &str, by: &str, extra: Value) -> Value {
        let mut event = json!({
            "id": id.to_string(), "event_type": kind, "action": "ADD",
            "epcs": [{ "Case": "106141410000000019" }], "transformation": null, "parent": null,
            "biz_step": step, "disposition": "in_progress", "location": "0614141000036",
            "biz_transactions": [], "source": null, "destination": null, "custody": null,
            "event_time_ms": ((id + 1) * DAY).to_string(), "recorded_by": by,
            "corrects": null, "error_reason": null,
        });
        for (key, value) in extra.as_object().unwrap() {
            event[key] = value.clone();
        }
        event
    }

    fn history(serial: &str) -> Value {
        json!([
            event(
                0,
                "commissioning",
                "ObjectEvent",
                SELLER,
                json!({ "epcs": [{ "Unit": [GTIN, serial] }], "disposition": "active" })
            ),
            event(
                1,
                "packing",
                "AggregationEvent",
                SELLER,
                json!({ "parent": "106141410000000019",
                          "epcs": [{ "Unit": [GTIN, serial] }] })
            ),
            event(
                2,
                "shipping",
                "TransactionEvent",
                SELLER,
                json!({ "source": SELLER, "destination": BUYER, "disposition": "in_transit",
                          "biz_transactions": [["po", format!("0x{}", "ab".repeat(32))]] })
            ),
            event(
                3,
                "receiving",
                "TransactionEvent",
                BUYER,
                json!({ "source": SELLER, "destination": BUYER })
            ),
            event(
                4,
                "shipping",
                "TransactionEvent",
                BUYER,
                json!({ "source": BUYER, "destination": PHARMACY, "disposition": "in_transit",
                          "biz_transactions": [["po", format!("0x{}", "cd".repeat(32))]] })
            ),
        ])
    }

    fn information(seller: &str, buyer: &str, at: u64, po: &str) -> Value {
        json!({
            "seller": seller, "buyer": buyer,
            "transaction_ms": at.to_string(), "shipment_ms": at.to_string(),
            "documents": [["po", format!("0x{}", po.repeat(32))]],
            "lines": [{ "gtin": GTIN, "ndc": "12345-678-90", "name": "Amoxicillin & co",
                        "strength": "500 mg", "dosage_form": "capsule",
                        "container_size": "30", "lot": "L1", "units": 3 }],
            "statement": true,
        })
    }

    impl SupplyReader for Chain {
        fn view(&self, message: &str, arguments: Value) -> Result<Value, String> {
            Ok(match (message, arguments[0].as_u64()) {
                ("shipment", Some(0)) => json!({
                    "epcs": [{ "Case": "106141410000000019" }], "shipper": SELLER,
                    "receiver": BUYER, "received": true,
                    "information": information(SELLER, BUYER, 3 * DAY, "ab"),
                }),
                ("shipment", Some(1)) => json!({
                    "epcs": [{ "Case": "106141410000000019" }], "shipper": BUYER,
                    "receiver": PHARMACY, "received": false,
                    "information": information(BUYER, PHARMACY, 5 * DAY, "cd"),
                }),
                // A repackaged unit R1 (made from S1 by the wholesaler), sold to the pharmacy.
                ("shipment", Some(3)) => {
                    let mut information = information(BUYER, PHARMACY, 8 * DAY, "ef");
                    information["lines"][0]["gtin"] = json!(REPACKAGED);
                    information["lines"][0]["units"] = json!(1);
                    json!({
                        "epcs": [{ "Unit": [REPACKAGED, "R1"] }], "shipper": BUYER,
                        "receiver": PHARMACY, "received": false, "information": information,
                    })
                }
                ("history", _) if arguments[1] == "R1" => json!([
                    event(
                        6,
                        "repackaging",
                        "TransformationEvent",
                        BUYER,
                        json!({
                        "epcs": [], "action": "",
                        "transformation": { "inputs": [{ "Unit": [GTIN, "S1"] }],
                                            "outputs": [{ "Unit": [REPACKAGED, "R1"] }],
                                            "id": null } })
                    ),
                    event(
                        7,
                        "shipping",
                        "TransactionEvent",
                        BUYER,
                        json!({
                        "epcs": [{ "Unit": [REPACKAGED, "R1"] }],
                        "source": BUYER, "destination": PHARMACY,
                        "biz_transactions": [["po", format!("0x{}", "ef".repeat(32))]] })
                    ),
                ]),
                ("shipment", Some(2)) => json!({
                    "epcs": [{ "Case": "106141410000000019" }], "shipper": BUYER,
                    "receiver": PHARMACY, "received": false, "information": null,
                }),
                ("shipment", _) => Value::Null,
                ("contents", _) => json!({
                    "children": [[GTIN, "S1"], [GTIN, "S2"], [GTIN, "S3"]], "cases": [],
                    "owner": BUYER, "custodian": BUYER, "location": "0614141000036",
                    "parent": null,
                }),
                ("unit", _) => json!({ "lot": "L1", "expiry_ms": "1909008000000" }),
                ("history", _) => history(arguments[1].as_str().unwrap()),
                (other, _) => return Err(format!("no view {other}")),
            })
        }
    }

    fn directory(with_pharmacy: bool) -> Directory {
        let party = |name: &str, address: &str, gln: &str| DirectoryParty {
            name: name.into(),
            address: address.parse().unwrap(),
            gln: Some(gln.into()),
            locations: vec![],
            company_prefixes: vec![],
            npi: None,
            fhir: vec![],
        };
        let mut parties = vec![
            DirectoryParty {
                company_prefixes: vec!["0312345".into(), "0614141".into()],
                ..party("Maker", SELLER, "0614141000012")
            },
            party("Wholesaler", BUYER, "0614141000029"),
        ];
        if with_pharmacy {
            parties.push(party("Pharmacy", PHARMACY, "0614141000050"));
        }
        Directory::new(parties, vec![]).unwrap()
    }

    fn chain() -> Chain {
        Chain
    }

    #[test]
    fn the_manufacturers_sale_has_information_no_history_and_a_statement() {
        let view = view(&chain(), &directory(true), 0).unwrap();
        let ti = &view.transaction_information;
        assert_eq!(ti.seller.name, "Maker");
        assert_eq!(ti.buyer.gln, "0614141000029");
        assert_eq!(ti.event, 2);
        assert_eq!(ti.transaction_date, "1970-01-04");
        assert_eq!(ti.documents[0].kind, "po");
        let line = &ti.products[0];
        assert_eq!(line.containers, 3);
        assert_eq!(line.serials, ["S1", "S2", "S3"]);
        assert_eq!(line.expiry, ["2030-06-30"]);
        assert_eq!(line.strength.as_deref(), Some("500 mg"));
        assert!(view.transaction_history.is_empty());
        let items = &view.transaction_statement.items;
        assert_eq!(items.len(), 7);
        assert_eq!(items[0].attestation, Attestation::CheckedByContract);
        assert_eq!(items[1].attestation, Attestation::NotApplicable);
        assert_eq!(items[3].attestation, Attestation::DeclaredBySeller);
        // Events after the shipping event (the receipt) are not the shipment's.
        assert_eq!(view.events.keys().copied().collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn the_wholesalers_sale_carries_the_makers_sale_as_history() {
        let view = view(&chain(), &directory(true), 1).unwrap();
        assert_eq!(view.transaction_information.event, 4);
        assert_eq!(view.transaction_history.len(), 1);
        let prior = &view.transaction_history[0];
        assert_eq!(prior.seller.name, "Maker");
        assert_eq!(prior.buyer.name, "Wholesaler");
        assert_eq!(prior.event, 2);
        assert_eq!(prior.products[0].containers, 3);
        assert_eq!(prior.products[0].name.as_deref(), Some("Amoxicillin & co"));
        assert_eq!(view.manufacturers[0].name, "Maker");
        assert_eq!(
            view.transaction_statement.items[1].attestation,
            Attestation::CheckedByContract
        );
        let json = view.to_json();
        assert_eq!(
            json["transaction_statement"]["items"][6]["attestation"],
            "recorded_on_chain"
        );
        assert_eq!(
            json["transaction_information"]["seller"]["postal_address"],
            Value::Null
        );
    }

    #[test]
    fn a_repackaged_units_history_goes_back_through_its_inputs_to_the_manufacturer() {
        let view = view(&chain(), &directory(true), 3).unwrap();
        let ti = &view.transaction_information;
        assert_eq!(ti.event, 7);
        assert_eq!(ti.products[0].gtin, REPACKAGED);
        assert_eq!(ti.products[0].serials, ["R1"]);
        // The input's sale to the repackager, received; not its later sale, never received.
        assert_eq!(view.transaction_history.len(), 1);
        let prior = &view.transaction_history[0];
        assert_eq!(prior.event, 2);
        assert_eq!(prior.seller.name, "Maker");
        assert_eq!(prior.products[0].gtin, GTIN);
        assert_eq!(prior.products[0].serials, ["S1"]);
        // The input's description is not in this sale's lines: said, not guessed.
        assert_eq!(prior.products[0].name, None);
        assert!(view.not_held.iter().any(|note| note.contains(GTIN)));
        assert_eq!(view.manufacturers[0].name, "Maker");
        assert_eq!(
            view.events.keys().copied().collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 6, 7]
        );
    }

    #[test]
    fn an_unknown_shipment_a_custody_move_and_a_missing_party_are_typed_errors() {
        assert!(matches!(
            view(&chain(), &directory(true), 9),
            Err(DscsaError::UnknownShipment(9))
        ));
        assert!(matches!(
            view(&chain(), &directory(true), 2),
            Err(DscsaError::NoTransaction(2))
        ));
        let error = view(&chain(), &directory(false), 1).unwrap_err();
        assert!(
            matches!(&error, DscsaError::Party { role, .. } if role == "buyer"),
            "{error}"
        );
        assert!(error.to_string().contains(PHARMACY), "{error}");
    }

    #[test]
    fn the_xml_has_the_sbdh_master_data_and_the_affirmed_statement() {
        let chain = chain();
        let directory = directory(true);
        let view = view(&chain, &directory, 1).unwrap();
        let xml = view.to_xml(&chain, &directory, 6 * DAY).unwrap();
        for piece in [
            "<sbdh:Identifier Authority=\"SGLN\">urn:epc:id:sgln:0614141.00002.0</sbdh:Identifier>",
            "<sbdh:Identifier Authority=\"SGLN\">urn:epc:id:sgln:0614141.00005.0</sbdh:Identifier>",
            "<VocabularyElement id=\"urn:epc:idpat:sgtin:0312345.067890.*\">",
            "Amoxicillin &amp; co",
            "<source type=\"urn:epcglobal:cbv:sdt:owning_party\">urn:epc:id:sgln:0614141.00002.0</source>",
            "<gs1ushc:affirmTransactionStatement>true</gs1ushc:affirmTransactionStatement>",
            "<cbvmda:lotNumber>L1</cbvmda:lotNumber>",
        ] {
            assert!(xml.contains(piece), "{piece}:\n{xml}");
        }
        // The receipt named no document: an ObjectEvent OBSERVE, as in the 2.0 export.
        assert_eq!(xml.matches("<TransactionEvent>").count(), 2, "{xml}");
        assert_eq!(xml.matches("gs1ushc:dscsaTransactionStatement>").count(), 2);
        crate::epcis::xml::tests::validate(&xml);
    }
}
