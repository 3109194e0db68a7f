//! The supply contract's recorded events back out as an EPCIS 2.0 JSON-LD EPCISDocument (GS1
//! context): a unit's history (`history`) or every event of a lot's units (`lot_units`, then
//! each unit's history), in the chain's order. Keys are written as EPC URNs where the directory
//! knows their company prefix, else as GS1 Digital Link URIs; parties as their party GLNs from
//! the directory; document hashes as [`DOCUMENT_URN`]s. Importing the export records the same
//! calls again (docs/interop.md: the round trip).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use salus_primitives::Address;
use serde_json::{Map, Value, json};

use super::import::{Epc, SALUS_NAMESPACE, SUSPECT_REASON, as_u64, epcs_from_json};
use super::time::{format_date, format_date_time};
use super::{DOCUMENT_URN, EPCIS_CONTEXT, EVENT_URN, RX_TRANSACTION_TYPE, SupplyReader};
use crate::directory::{Directory, DirectoryError};
use crate::gs1::{Identifier, split_location_code};

/// A sale of goods a 3PL holds has no event id on chain (the contract records its dispatch):
/// it is written with this URN followed by the sale id as its `eventID`.
pub const SALE_URN: &str = "urn:salus:supply:sale:";

/// Units read per `lot_units` page.
const LOT_PAGE: u32 = 100;

/// Why a history cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The chain could not be read.
    #[error("reading the chain: {0}")]
    Chain(String),
    /// The unit or lot is not on chain.
    #[error("{0} is not on chain")]
    Unknown(String),
    /// A party the events name is not in the directory (or has no GLN there).
    #[error("{0}")]
    Unresolved(#[from] DirectoryError),
    /// A recorded value EPCIS cannot carry (a location that is neither a GLN nor a URI).
    #[error("event {event}: {reason}")]
    Unrepresentable {
        /// The chain's event id.
        event: u64,
        /// Why.
        reason: String,
    },
}

struct Writer<'a> {
    reader: &'a dyn SupplyReader,
    directory: &'a Directory,
    /// The investigations on chain, read once when a quarantine is written.
    investigations: RefCell<Option<Vec<(u64, Value)>>>,
    /// The investigations already attributed to a written event.
    attributed: RefCell<BTreeSet<u64>>,
}

impl<'a> Writer<'a> {
    fn new(reader: &'a dyn SupplyReader, directory: &'a Directory) -> Self {
        Writer {
            reader,
            directory,
            investigations: RefCell::new(None),
            attributed: RefCell::new(BTreeSet::new()),
        }
    }

    fn view(&self, message: &str, arguments: Value) -> Result<Value, ExportError> {
        self.reader
            .view(message, arguments)
            .map_err(|reason| ExportError::Chain(format!("`{message}`: {reason}")))
    }

    fn render(&self, identifier: &Identifier) -> String {
        identifier.render(self.directory.company_prefixes())
    }

    fn epc(&self, epc: &Epc) -> String {
        match epc {
            Epc::Unit(gtin, serial) => self.render(&Identifier::Sgtin {
                gtin: gtin.clone(),
                serial: serial.clone(),
            }),
            Epc::Case(sscc) => self.render(&Identifier::Sscc(sscc.clone())),
        }
    }

    fn epc_list(&self, value: &Value) -> Value {
        Value::Array(
            epcs_from_json(value)
                .iter()
                .map(|epc| Value::String(self.epc(epc)))
                .collect(),
        )
    }

    fn location(&self, event: u64, code: &str) -> Result<String, ExportError> {
        if let Some((gln, extension)) = split_location_code(code) {
            return Ok(self.render(&Identifier::Sgln {
                gln: gln.to_string(),
                extension: extension.map(str::to_string),
            }));
        }
        if code.contains(':') {
            // A location another tool recorded as a URI: written as it is.
            return Ok(code.to_string());
        }
        Err(ExportError::Unrepresentable {
            event,
            reason: format!("location `{code}` is neither a GLN nor a URI"),
        })
    }

    fn party(&self, value: &Value) -> Result<String, ExportError> {
        let address: Address = value
            .as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| ExportError::Chain(format!("not an address: {value}")))?;
        let party = self.directory.party_by_address(&address)?;
        let gln = party.gln.clone().ok_or(DirectoryError::Unresolved {
            kind: crate::directory::ReferenceKind::Party,
            reference: format!("{address} (no party GLN in the directory)"),
        })?;
        Ok(self.render(&Identifier::Pgln(gln)))
    }

    /// The lot and expiry of a unit, for an event that creates it.
    fn ilmd(&self, gtin: &str, serial: &str) -> Result<Value, ExportError> {
        let unit = self.view("unit", json!([gtin, serial]))?;
        let lot = unit["lot"].as_str().unwrap_or_default();
        let expiry = as_u64(&unit["expiry_ms"])
            .ok_or_else(|| ExportError::Unknown(format!("unit {gtin} {serial}")))?;
        Ok(json!({
            "cbvmda:lotNumber": lot,
            "cbvmda:itemExpirationDate": format_date(expiry),
        }))
    }

    /// One recorded event as an EPCIS 2.0 event.
    fn event(&self, recorded: &Value) -> Result<Value, ExportError> {
        let id = as_u64(&recorded["id"]).unwrap_or_default();
        let text = |field: &str| recorded[field].as_str().unwrap_or_default().to_string();
        let documents: Vec<(String, String)> = recorded["biz_transactions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pair| {
                Some((
                    pair.get(0)?.as_str()?.to_string(),
                    pair.get(1)?.as_str()?.to_string(),
                ))
            })
            .collect();
        let mut event_type = text("event_type");
        let mut action = text("action");
        // EPCIS requires a TransactionEvent to name a business transaction: a shipment recorded
        // without documents is the ObjectEvent OBSERVE it is in the DSCSA guideline.
        if event_type == "TransactionEvent" && documents.is_empty() {
            event_type = "ObjectEvent".into();
            action = "OBSERVE".into();
        }
        let time = as_u64(&recorded["event_time_ms"]).unwrap_or_default();
        let biz_step = text("biz_step");
        let mut out = Map::new();
        let named_id = as_u64(&recorded["corrects"]).unwrap_or(id);
        out.insert("type".into(), json!(event_type));
        out.insert("eventID".into(), json!(format!("{EVENT_URN}{named_id}")));
        out.insert("eventTime".into(), json!(format_date_time(time)));
        out.insert("eventTimeZoneOffset".into(), json!("+00:00"));
        match event_type.as_str() {
            "AggregationEvent" => {
                if let Some(parent) = recorded["parent"].as_str() {
                    out.insert(
                        "parentID".into(),
                        json!(self.render(&Identifier::Sscc(parent.to_string()))),
                    );
                }
                out.insert("childEPCs".into(), self.epc_list(&recorded["epcs"]));
            }
            "TransformationEvent" => {
                let transformation = &recorded["transformation"];
                out.insert(
                    "inputEPCList".into(),
                    self.epc_list(&transformation["inputs"]),
                );
                out.insert(
                    "outputEPCList".into(),
                    self.epc_list(&transformation["outputs"]),
                );
                if let Some(transformation_id) = transformation["id"].as_str() {
                    out.insert("transformationID".into(), json!(transformation_id));
                }
            }
            _ => {
                out.insert("epcList".into(), self.epc_list(&recorded["epcs"]));
            }
        }
        if event_type != "TransformationEvent" {
            out.insert("action".into(), json!(action));
        }
        out.insert("bizStep".into(), json!(biz_step));
        let disposition = text("disposition");
        if !disposition.is_empty() {
            out.insert("disposition".into(), json!(disposition));
        }
        // A step the contract records without a place (an investigation cleared) has none.
        let recorded_location = text("location");
        if !recorded_location.is_empty() {
            let location = self.location(id, &recorded_location)?;
            out.insert("readPoint".into(), json!({ "id": location }));
            // Goods leaving are at no business location until received.
            if biz_step != "shipping" {
                out.insert("bizLocation".into(), json!({ "id": location }));
            }
        }
        if !documents.is_empty() {
            let list: Vec<Value> = documents
                .iter()
                .map(|(kind, hash)| {
                    let kind = if kind == "rx" {
                        RX_TRANSACTION_TYPE
                    } else {
                        kind.as_str()
                    };
                    json!({ "type": kind, "bizTransaction": format!("{DOCUMENT_URN}{hash}") })
                })
                .collect();
            out.insert("bizTransactionList".into(), Value::Array(list));
        }
        let custody = recorded["custody"].as_array();
        for (field, key, owning, possessing) in [
            (
                "sourceList",
                "source",
                &recorded["source"],
                custody.and_then(|pair| pair.first()),
            ),
            (
                "destinationList",
                "destination",
                &recorded["destination"],
                custody.and_then(|pair| pair.get(1)),
            ),
        ] {
            let mut list = Vec::new();
            if !owning.is_null() {
                list.push(json!({ "type": "owning_party", key: self.party(owning)? }));
            }
            if let Some(possessing) = possessing {
                list.push(json!({ "type": "possessing_party", key: self.party(possessing)? }));
            }
            if !list.is_empty() {
                out.insert(field.into(), Value::Array(list));
            }
        }
        let created = match (event_type.as_str(), action.as_str(), biz_step.as_str()) {
            ("ObjectEvent", "ADD", "commissioning") => recorded["epcs"].get(0),
            ("TransformationEvent", _, _) => recorded["transformation"]["outputs"].get(0),
            _ => None,
        };
        if let Some((gtin, serial)) = created
            .and_then(|epc| epc.get("Unit"))
            .and_then(|unit| Some((unit.get(0)?.as_str()?, unit.get(1)?.as_str()?)))
        {
            out.insert("ilmd".into(), self.ilmd(gtin, serial)?);
        }
        if recorded["corrects"].is_string() || recorded["corrects"].is_number() {
            let mut declaration = json!({ "declarationTime": format_date_time(time) });
            if let Some(reason) = recorded["error_reason"].as_str() {
                declaration["reason"] = json!(reason);
            }
            out.insert("errorDeclaration".into(), declaration);
        } else if let Some(reason) = self.suspect_reason(recorded)? {
            out.insert(SUSPECT_REASON.into(), json!(reason));
        }
        Ok(Value::Object(out))
    }

    /// The recorded event and, before a dispatch (a shipping event by a 3PL for its client's
    /// sale), the sale it carried out, as EPCIS events.
    fn events(&self, recorded: &Value) -> Result<Vec<Value>, ExportError> {
        let mut events = Vec::with_capacity(2);
        let dispatch = recorded["biz_step"] == "shipping"
            && !recorded["custody"].is_null()
            && !recorded["source"].is_null()
            && recorded["corrects"].is_null();
        if dispatch {
            events.push(self.sale(recorded)?);
        }
        events.push(self.event(recorded)?);
        Ok(events)
    }

    /// The sale a dispatch event carried out, as the seller's TransactionEvent ADD: the sale's
    /// documents and owning parties, at the time of the sale, at no location (the contract
    /// records none); its `eventID` is [`SALE_URN`] and the sale id.
    fn sale(&self, dispatch: &Value) -> Result<Value, ExportError> {
        let id = as_u64(&dispatch["id"]).unwrap_or_default();
        let time = as_u64(&dispatch["event_time_ms"]);
        let custodian = &dispatch["custody"][0];
        let mut found = None;
        for sale_id in 0u64.. {
            let sale = self.view("sale", json!([sale_id.to_string()]))?;
            if sale.is_null() {
                break;
            }
            let information = &sale["information"];
            if sale["custodian"] != *custodian
                || information["seller"] != dispatch["source"]
                || information["buyer"] != dispatch["destination"]
                || sale["epcs"] != dispatch["epcs"]
            {
                continue;
            }
            let Some(shipment) = as_u64(&sale["shipment"]) else {
                continue;
            };
            let shipment = self.view("shipment", json!([shipment.to_string()]))?;
            if as_u64(&shipment["information"]["shipment_ms"]) == time {
                found = Some((sale_id, sale));
                break;
            }
        }
        let (sale_id, sale) = found.ok_or_else(|| ExportError::Unrepresentable {
            event: id,
            reason: "a dispatch whose sale is not on chain".into(),
        })?;
        let information = &sale["information"];
        let documents: Vec<Value> = information["documents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pair| {
                Some(json!({
                    "type": pair.get(0)?.as_str()?,
                    "bizTransaction": format!("{DOCUMENT_URN}{}", pair.get(1)?.as_str()?),
                }))
            })
            .collect();
        let time = as_u64(&information["transaction_ms"]).unwrap_or_default();
        Ok(json!({
            "type": "TransactionEvent",
            "eventID": format!("{SALE_URN}{sale_id}"),
            "eventTime": format_date_time(time),
            "eventTimeZoneOffset": "+00:00",
            "epcList": self.epc_list(&sale["epcs"]),
            "action": "ADD",
            "bizTransactionList": documents,
            "sourceList": [{ "type": "owning_party", "source": self.party(&information["seller"])? }],
            "destinationList": [
                { "type": "owning_party", "destination": self.party(&information["buyer"])? }
            ],
        }))
    }

    /// The units behind recorded EPCs (a case's while it is on chain), as a set.
    fn units_behind(&self, epcs: &Value) -> Result<BTreeSet<(String, String)>, ExportError> {
        let mut units = BTreeSet::new();
        let mut pending = epcs_from_json(epcs);
        while let Some(epc) = pending.pop() {
            match epc {
                Epc::Unit(gtin, serial) => {
                    units.insert((gtin, serial));
                }
                Epc::Case(sscc) => {
                    let contents = self.view("contents", json!([sscc]))?;
                    for child in contents["children"].as_array().into_iter().flatten() {
                        if let (Some(gtin), Some(serial)) = (child[0].as_str(), child[1].as_str()) {
                            pending.push(Epc::Unit(gtin.into(), serial.into()));
                        }
                    }
                    for case in contents["cases"].as_array().into_iter().flatten() {
                        if let Some(case) = case.as_str() {
                            pending.push(Epc::Case(case.into()));
                        }
                    }
                }
            }
        }
        Ok(units)
    }

    /// The reason of a suspect-product quarantine (`suspect`), which the contract records as
    /// the `holding` / `non_sellable_other` of a hold and keeps with the investigation it
    /// opens: the first investigation not yet attributed that the event's recorder opened over
    /// exactly the event's units. None for a hold (or a quarantine without a place, which a
    /// failed dispensing records).
    fn suspect_reason(&self, recorded: &Value) -> Result<Option<String>, ExportError> {
        let quarantine = recorded["event_type"] == "ObjectEvent"
            && recorded["action"] == "OBSERVE"
            && recorded["biz_step"] == "holding"
            && recorded["disposition"] == "non_sellable_other"
            && recorded["source"].is_null()
            && recorded["destination"].is_null()
            && recorded["custody"].is_null()
            && recorded["location"]
                .as_str()
                .is_some_and(|text| !text.is_empty());
        if !quarantine {
            return Ok(None);
        }
        if self.investigations.borrow().is_none() {
            let mut all = Vec::new();
            for case in 0u64.. {
                let investigation = self.view("investigation", json!([case.to_string()]))?;
                if investigation.is_null() {
                    break;
                }
                all.push((case, investigation));
            }
            *self.investigations.borrow_mut() = Some(all);
        }
        let units = self.units_behind(&recorded["epcs"])?;
        let investigations = self.investigations.borrow();
        let mut attributed = self.attributed.borrow_mut();
        for (case, investigation) in investigations.iter().flatten() {
            if attributed.contains(case) || investigation["opened_by"] != recorded["recorded_by"] {
                continue;
            }
            let opened_over: BTreeSet<(String, String)> = investigation["units"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|unit| {
                    Some((unit[0].as_str()?.to_string(), unit[1].as_str()?.to_string()))
                })
                .collect();
            if opened_over == units {
                attributed.insert(*case);
                return Ok(investigation["reason"].as_str().map(str::to_string));
            }
        }
        Ok(None)
    }

    fn document(
        &self,
        events: BTreeMap<u64, Value>,
        creation_ms: u64,
    ) -> Result<Value, ExportError> {
        let mut list = Vec::with_capacity(events.len());
        for event in events.values() {
            list.extend(self.events(event)?);
        }
        let mut context = vec![json!(EPCIS_CONTEXT)];
        if list.iter().any(|event| event.get(SUSPECT_REASON).is_some()) {
            context.push(json!({ "salus": SALUS_NAMESPACE }));
        }
        Ok(json!({
            "@context": context,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": format_date_time(creation_ms),
            "epcisBody": { "eventList": list },
        }))
    }

    fn history(
        &self,
        gtin: &str,
        serial: &str,
        into: &mut BTreeMap<u64, Value>,
    ) -> Result<(), ExportError> {
        let history = self.view("history", json!([gtin, serial]))?;
        for event in history.as_array().into_iter().flatten() {
            let id = as_u64(&event["id"])
                .ok_or_else(|| ExportError::Chain(format!("an event without id: {event}")))?;
            into.insert(id, event.clone());
        }
        Ok(())
    }
}

/// A unit's history as an EPCISDocument created at `creation_ms`.
///
/// # Errors
/// [`ExportError`]: the chain unreadable, the unit unknown, a party not in the directory.
pub fn export_unit(
    reader: &dyn SupplyReader,
    directory: &Directory,
    gtin: &str,
    serial: &str,
    creation_ms: u64,
) -> Result<Value, ExportError> {
    let writer = Writer::new(reader, directory);
    let mut events = BTreeMap::new();
    writer.history(gtin, serial, &mut events)?;
    if events.is_empty() {
        return Err(ExportError::Unknown(format!("unit {gtin} {serial}")));
    }
    writer.document(events, creation_ms)
}

/// Every event of a lot's units as one EPCISDocument created at `creation_ms`, each event once.
///
/// # Errors
/// As [`export_unit`].
pub fn export_lot(
    reader: &dyn SupplyReader,
    directory: &Directory,
    gtin: &str,
    lot: &str,
    creation_ms: u64,
) -> Result<Value, ExportError> {
    let writer = Writer::new(reader, directory);
    let mut events = BTreeMap::new();
    let mut after = Value::Null;
    loop {
        let page = writer.view("lot_units", json!([gtin, lot, after, LOT_PAGE]))?;
        let rows = page.as_array().cloned().unwrap_or_default();
        for row in &rows {
            let serial = row[0].as_str().unwrap_or_default();
            writer.history(gtin, serial, &mut events)?;
        }
        match rows.last() {
            Some(last) if rows.len() == LOT_PAGE as usize => after = last[0].clone(),
            _ => break,
        }
    }
    if events.is_empty() {
        return Err(ExportError::Unknown(format!("lot {gtin} {lot}")));
    }
    writer.document(events, creation_ms)
}

/// Recorded events (the supply contract's JSON, keyed by event id) as an EPCISDocument created
/// at `creation_ms`, in id order: the DSCSA view writes the events behind a shipment with it.
///
/// # Errors
/// As [`export_unit`].
pub(crate) fn export_events(
    reader: &dyn SupplyReader,
    directory: &Directory,
    events: BTreeMap<u64, Value>,
    creation_ms: u64,
) -> Result<Value, ExportError> {
    Writer::new(reader, directory).document(events, creation_ms)
}

/// Whether a recorded event names case `sscc`: as the parent of an aggregation, in its EPC list,
/// or as a transformation's input.
fn names_case(event: &Value, sscc: &str) -> bool {
    let case = Epc::Case(sscc.to_string());
    event["parent"].as_str() == Some(sscc)
        || epcs_from_json(&event["epcs"]).contains(&case)
        || epcs_from_json(&event["transformation"]["inputs"]).contains(&case)
}

/// A case's (or pallet's) history as an EPCISDocument created at `creation_ms`: every event
/// naming its SSCC (packing, shipping, receiving, unpacking, …), in the chain's order. The
/// contract indexes history per unit only, so the events are read from the histories of the
/// units inside it (nested cases included) while it is on chain; once it is unpacked or
/// dissolved, from `inside`, a unit that was in it. Events naming only an enclosing pallet
/// are the pallet's history, not the case's.
///
/// # Errors
/// As [`export_unit`]; [`ExportError::Unknown`] when the case is not on chain and no unit
/// inside it is given, or no event names it.
pub fn export_case(
    reader: &dyn SupplyReader,
    directory: &Directory,
    sscc: &str,
    inside: Option<(&str, &str)>,
    creation_ms: u64,
) -> Result<Value, ExportError> {
    let writer = Writer::new(reader, directory);
    let mut units = writer.units_behind(&json!([{ "Case": sscc }]))?;
    if let Some((gtin, serial)) = inside {
        units.insert((gtin.to_string(), serial.to_string()));
    }
    if units.is_empty() {
        return Err(ExportError::Unknown(format!(
            "case {sscc} (unpacked, dissolved or never packed: give a unit that was in it)"
        )));
    }
    let mut events = BTreeMap::new();
    for (gtin, serial) in &units {
        writer.history(gtin, serial, &mut events)?;
    }
    events.retain(|_, event| names_case(event, sscc));
    if events.is_empty() {
        return Err(ExportError::Unknown(format!("case {sscc}")));
    }
    writer.document(events, creation_ms)
}
