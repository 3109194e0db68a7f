//! EPCIS 2.0 JSON-LD documents to supply-contract calls: every event of the document is read,
//! its identifiers parsed and resolved through the party's directory and its step mapped to one
//! call, before anything is sent (docs/interop.md has the table). A field the mapped call does
//! not record is refused with the event and the field named; the chain assigns an event's id
//! and time, so `eventID`, `eventTime`, `eventTimeZoneOffset` and `recordTime` are reported in
//! the plan as replaced, not carried.

use std::collections::{BTreeMap, BTreeSet};

use salus_primitives::hash::keccak256;
use salus_primitives::{Address, Hash};
use serde_json::{Map, Value, json};

use super::time::{is_date_time, is_offset, parse_date};
use super::{
    DOCUMENT_URN, EPCIS_CONTEXT, EVENT_URN, EpcisError, EventRef, SupplyReader, bare_vocabulary,
};
use crate::directory::Directory;
use crate::gs1::{self, Identifier, location_code};

/// The extension field that carries the reason of a suspect-product quarantine (`suspect`):
/// the contract records it as the `holding` / `non_sellable_other` a hold is, and keeps the
/// reason with the investigation it opens. Its prefix is [`SALUS_NAMESPACE`].
pub const SUSPECT_REASON: &str = "salus:suspectReason";

/// The JSON-LD namespace of the `salus:` extension fields, declared in a document's
/// `@context` as `{ "salus": SALUS_NAMESPACE }`.
pub const SALUS_NAMESPACE: &str = "urn:salus:epcis:";

/// One supply-contract call an event maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedCall {
    /// The event it records.
    pub event: EventRef,
    /// The event's type (`ObjectEvent`, …).
    pub event_type: String,
    /// Its CBV bizStep, bare.
    pub biz_step: String,
    /// The supply message.
    pub message: String,
    /// Its arguments, as JSON for the contract's ABI.
    pub arguments: Value,
}

/// An event field whose value the chain replaces with its own when the call is recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The event.
    pub event: EventRef,
    /// The field.
    pub field: String,
    /// The value the document gave.
    pub value: Value,
}

/// What a document imports as: the calls in document order, all to be signed by `sender`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The importing party.
    pub sender: Address,
    /// The calls, one per event, in the document's order.
    pub calls: Vec<PlannedCall>,
    /// The fields the chain assigns itself.
    pub replaced: Vec<Replaced>,
}

impl Plan {
    /// The plan as JSON (what `salus epcis import --dry-run --json` prints).
    pub fn to_json(&self) -> Value {
        json!({
            "sender": self.sender.to_string(),
            "calls": self.calls.iter().map(|call| json!({
                "event": call.event,
                "type": call.event_type,
                "bizStep": call.biz_step,
                "message": call.message,
                "arguments": call.arguments,
            })).collect::<Vec<_>>(),
            "replacedByTheChain": self.replaced.iter().map(|replaced| json!({
                "event": replaced.event,
                "field": replaced.field,
                "value": replaced.value,
            })).collect::<Vec<_>>(),
        })
    }
}

/// An EPC the contract tracks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Epc {
    /// An SGTIN: GTIN-14 and serial.
    Unit(String, String),
    /// An SSCC.
    Case(String),
}

impl Epc {
    fn to_json(&self) -> Value {
        match self {
            Epc::Unit(gtin, serial) => json!({ "Unit": [gtin, serial] }),
            Epc::Case(sscc) => json!({ "Case": sscc }),
        }
    }

    fn from_json(value: &Value) -> Option<Epc> {
        if let Some(unit) = value.get("Unit") {
            return Some(Epc::Unit(
                unit.get(0)?.as_str()?.to_string(),
                unit.get(1)?.as_str()?.to_string(),
            ));
        }
        Some(Epc::Case(value.get("Case")?.as_str()?.to_string()))
    }
}

fn epcs_json(epcs: &[Epc]) -> Value {
    Value::Array(epcs.iter().map(Epc::to_json).collect())
}

/// A JSON `u64` (the ABI writes them as decimal strings).
pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.parse().ok(),
        other => other.as_u64(),
    }
}

/// The hash a business transaction is recorded under: the hash a [`DOCUMENT_URN`] names, else
/// keccak256 of the identifier's bytes.
pub fn document_hash(identifier: &str) -> Hash {
    if let Some(hex_hash) = identifier.strip_prefix(DOCUMENT_URN)
        && let Ok(hash) = hex_hash.parse::<Hash>()
    {
        return hash;
    }
    keccak256(identifier.as_bytes())
}

/// The despatch advice the contract names a shipment recorded without documents by: its id in
/// the last 8 bytes.
pub fn shipment_reference(shipment: u64) -> Hash {
    let mut reference = [0u8; 32];
    reference[24..].copy_from_slice(&shipment.to_be_bytes());
    Hash(reference)
}

/// Why a field the mapped call does not take is refused.
fn unsupported_reason(field: &str, message: &str) -> String {
    match field {
        "sensorElementList" => "sensor data: the supply contract stores no sensor readings".into(),
        "quantityList" | "childQuantityList" | "inputQuantityList" | "outputQuantityList" => {
            "class-level quantities: the contract traces serialised units (SGTIN) and cases \
             (SSCC) only"
                .into()
        }
        "persistentDisposition" => {
            "the contract keeps one disposition per unit, the one its step sets".into()
        }
        "certificationInfo" => "the contract stores no certification information".into(),
        "transformationID" => {
            "the contract records a whole transformation as one event, without an id".into()
        }
        "@context" => "an event-level context declares extensions; the contract stores none".into(),
        _ => format!("the contract's `{message}` does not record it"),
    }
}

/// One event being read: the fields taken so far, so that whatever is left is refused.
struct EventReader<'a> {
    at: EventRef,
    fields: &'a Map<String, Value>,
    taken: BTreeSet<String>,
}

impl<'a> EventReader<'a> {
    fn take(&mut self, field: &str) -> Option<&'a Value> {
        let value = self.fields.get(field)?;
        self.taken.insert(field.to_string());
        Some(value)
    }

    fn invalid(&self, field: &str, reason: impl Into<String>) -> EpcisError {
        EpcisError::Invalid {
            event: self.at.clone(),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, field: &str, reason: impl Into<String>) -> EpcisError {
        EpcisError::Unsupported {
            event: self.at.clone(),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn string(&mut self, field: &str) -> Result<Option<&'a str>, EpcisError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.invalid(field, "not a string")),
        }
    }

    fn required_string(&mut self, field: &str) -> Result<&'a str, EpcisError> {
        self.string(field)?
            .ok_or_else(|| self.invalid(field, "missing"))
    }

    /// The EPCs of list `field` (units and cases), at least one unless `optional`.
    fn epcs(&mut self, field: &str, optional: bool) -> Result<Vec<Epc>, EpcisError> {
        let Some(value) = self.take(field) else {
            return if optional {
                Ok(Vec::new())
            } else {
                Err(self.invalid(field, "missing"))
            };
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.invalid(field, "not an array"))?;
        if items.is_empty() && !optional {
            return Err(self.invalid(field, "empty: the step needs at least one EPC"));
        }
        let mut epcs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let path = format!("{field}[{index}]");
            let text = item
                .as_str()
                .ok_or_else(|| self.invalid(&path, "not a string"))?;
            match gs1::parse(text).map_err(|error| self.invalid(&path, error.to_string()))? {
                Identifier::Sgtin { gtin, serial } => epcs.push(Epc::Unit(gtin, serial)),
                Identifier::Sscc(sscc) => epcs.push(Epc::Case(sscc)),
                Identifier::Lgtin { .. } => {
                    return Err(self.unsupported(
                        &path,
                        "a class (lot) in an EPC list: class-level quantities belong in \
                         quantityList, which the contract does not model",
                    ));
                }
                other => {
                    return Err(self.invalid(&path, format!("{other} is not a unit or a case")));
                }
            }
        }
        Ok(epcs)
    }

    /// The SSCC of `parentID`.
    fn parent(&mut self) -> Result<String, EpcisError> {
        let text = self.required_string("parentID")?;
        match gs1::parse(text).map_err(|error| self.invalid("parentID", error.to_string()))? {
            Identifier::Sscc(sscc) => Ok(sscc),
            other => Err(self.unsupported(
                "parentID",
                format!("{other}: the contract aggregates into cases (SSCC) only"),
            )),
        }
    }

    /// The lot and expiry (ms) of `ilmd`, which must carry exactly those two.
    fn lot_and_expiry(&mut self) -> Result<(String, u64), EpcisError> {
        let ilmd = self
            .take("ilmd")
            .ok_or_else(|| {
                self.invalid(
                    "ilmd",
                    "missing: the contract commissions units with their lot \
                     (cbvmda:lotNumber) and expiry (cbvmda:itemExpirationDate)",
                )
            })?
            .as_object()
            .ok_or_else(|| self.invalid("ilmd", "not an object"))?;
        let (mut lot, mut expiry) = (None, None);
        for (key, value) in ilmd {
            let path = format!("ilmd.{key}");
            let name = key
                .strip_prefix("cbvmda:")
                .or_else(|| key.strip_prefix("urn:epcglobal:cbv:mda:"));
            match name {
                Some("lotNumber") => {
                    lot = Some(
                        value
                            .as_str()
                            .ok_or_else(|| self.invalid(&path, "not a string"))?
                            .to_string(),
                    );
                }
                Some("itemExpirationDate") => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| self.invalid(&path, "not a string"))?;
                    expiry = Some(
                        parse_date(text)
                            .ok_or_else(|| self.invalid(&path, "not a date YYYY-MM-DD"))?,
                    );
                }
                _ => {
                    return Err(self.unsupported(
                        &path,
                        "the contract stores a unit's lot and expiry only; other master data \
                         is not recorded",
                    ));
                }
            }
        }
        let lot = lot.ok_or_else(|| self.invalid("ilmd.cbvmda:lotNumber", "missing"))?;
        let expiry =
            expiry.ok_or_else(|| self.invalid("ilmd.cbvmda:itemExpirationDate", "missing"))?;
        Ok((lot, expiry))
    }

    /// The business transactions of `bizTransactionList` as (type, hash); an absent list is
    /// empty.
    fn biz_transactions(&mut self) -> Result<Vec<(String, Hash)>, EpcisError> {
        let Some(value) = self.take("bizTransactionList") else {
            return Ok(Vec::new());
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.invalid("bizTransactionList", "not an array"))?;
        let mut documents = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let path = format!("bizTransactionList[{index}]");
            let object = item
                .as_object()
                .ok_or_else(|| self.invalid(&path, "not an object"))?;
            if let Some(key) = object
                .keys()
                .find(|key| *key != "type" && *key != "bizTransaction")
            {
                return Err(self.unsupported(&format!("{path}.{key}"), "not recorded"));
            }
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .map(|kind| bare_vocabulary(kind, "btt", "BTT"))
                .ok_or_else(|| {
                    self.unsupported(
                        &format!("{path}.type"),
                        "an untyped business transaction: the contract records po, inv and \
                         desadv documents by type",
                    )
                })?;
            if !["po", "inv", "desadv"].contains(&kind) {
                return Err(self.unsupported(
                    &format!("{path}.type"),
                    format!(
                        "`{kind}`: the contract records the DSCSA transaction documents po, \
                         inv and desadv"
                    ),
                ));
            }
            let identifier = object
                .get("bizTransaction")
                .and_then(Value::as_str)
                .ok_or_else(|| self.invalid(&format!("{path}.bizTransaction"), "missing"))?;
            documents.push((kind.to_string(), document_hash(identifier)));
        }
        Ok(documents)
    }

    /// The parties of `sourceList` or `destinationList` by CBV type (`owning_party`,
    /// `possessing_party`), resolved to addresses.
    fn parties(
        &mut self,
        field: &str,
        directory: &Directory,
    ) -> Result<BTreeMap<&'static str, Address>, EpcisError> {
        let mut parties = BTreeMap::new();
        let Some(value) = self.take(field) else {
            return Ok(parties);
        };
        let key = if field == "sourceList" {
            "source"
        } else {
            "destination"
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.invalid(field, "not an array"))?;
        for (index, item) in items.iter().enumerate() {
            let path = format!("{field}[{index}]");
            let object = item
                .as_object()
                .ok_or_else(|| self.invalid(&path, "not an object"))?;
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .map(|kind| bare_vocabulary(kind, "sdt", "SDT"))
                .ok_or_else(|| self.invalid(&format!("{path}.type"), "missing"))?;
            let kind = match kind {
                "owning_party" => "owning_party",
                "possessing_party" => "possessing_party",
                other => {
                    return Err(self.unsupported(
                        &format!("{path}.type"),
                        format!(
                            "`{other}`: the contract records owning and possessing parties \
                             only"
                        ),
                    ));
                }
            };
            let text = object
                .get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| self.invalid(&format!("{path}.{key}"), "missing"))?;
            let gln = match gs1::parse(text)
                .map_err(|error| self.invalid(&format!("{path}.{key}"), error.to_string()))?
            {
                Identifier::Pgln(gln)
                | Identifier::Sgln {
                    gln,
                    extension: None,
                } => gln,
                other => {
                    return Err(self.invalid(
                        &format!("{path}.{key}"),
                        format!("{other} is not a party GLN"),
                    ));
                }
            };
            let party = directory
                .party_by_gln(&gln)
                .map_err(|source| EpcisError::Unresolved {
                    event: self.at.clone(),
                    field: format!("{path}.{key}"),
                    source,
                })?;
            if parties.insert(kind, party.address).is_some() {
                return Err(self.unsupported(
                    &format!("{path}.type"),
                    format!("a second {kind}: the contract records one of each"),
                ));
            }
        }
        Ok(parties)
    }

    /// Checks `disposition`, if given, is the one the contract records for the step.
    fn disposition_is(&mut self, expected: &str, message: &str) -> Result<(), EpcisError> {
        if let Some(disposition) = self.string("disposition")? {
            let bare = bare_vocabulary(disposition, "disp", "Disp");
            if bare != expected {
                return Err(self.unsupported(
                    "disposition",
                    format!("`{bare}`: the contract's `{message}` records `{expected}`"),
                ));
            }
        }
        Ok(())
    }

    /// Refuses any field not taken.
    fn finish(self, message: &str) -> Result<(), EpcisError> {
        match self.fields.keys().find(|key| !self.taken.contains(*key)) {
            Some(field) => Err(EpcisError::Unsupported {
                event: self.at.clone(),
                field: field.clone(),
                reason: unsupported_reason(field, message),
            }),
            None => Ok(()),
        }
    }
}

/// What the chain says about the EPCs named, read while planning.
struct Chain<'a> {
    reader: &'a dyn SupplyReader,
}

impl Chain<'_> {
    fn view(&self, at: &EventRef, message: &str, arguments: Value) -> Result<Value, EpcisError> {
        self.reader
            .view(message, arguments)
            .map_err(|reason| EpcisError::Chain {
                event: at.clone(),
                reason: format!("reading `{message}` from the chain: {reason}"),
            })
    }

    /// The shipment an EPC travels in, if any.
    fn shipment_of(&self, at: &EventRef, epc: &Epc) -> Result<Option<u64>, EpcisError> {
        match epc {
            Epc::Unit(gtin, serial) => {
                let unit = self.view(at, "unit", json!([gtin, serial]))?;
                Ok(unit.get("shipment").and_then(as_u64))
            }
            Epc::Case(sscc) => {
                let container = self.view(at, "contents", json!([sscc]))?;
                if let Some(first) = container
                    .get("children")
                    .and_then(Value::as_array)
                    .and_then(|children| children.first())
                {
                    let unit = Epc::Unit(
                        first[0].as_str().unwrap_or_default().to_string(),
                        first[1].as_str().unwrap_or_default().to_string(),
                    );
                    return self.shipment_of(at, &unit);
                }
                match container
                    .get("cases")
                    .and_then(Value::as_array)
                    .and_then(|cases| cases.first())
                    .and_then(Value::as_str)
                {
                    Some(case) => self.shipment_of(at, &Epc::Case(case.to_string())),
                    None => Ok(None),
                }
            }
        }
    }

    /// A case's contents on chain (units, then cases).
    fn contents(&self, at: &EventRef, sscc: &str) -> Result<Option<Vec<Epc>>, EpcisError> {
        let container = self.view(at, "contents", json!([sscc]))?;
        if container.is_null() {
            return Ok(None);
        }
        let mut epcs = Vec::new();
        for child in container["children"].as_array().into_iter().flatten() {
            epcs.push(Epc::Unit(
                child[0].as_str().unwrap_or_default().to_string(),
                child[1].as_str().unwrap_or_default().to_string(),
            ));
        }
        for case in container["cases"].as_array().into_iter().flatten() {
            epcs.push(Epc::Case(case.as_str().unwrap_or_default().to_string()));
        }
        Ok(Some(epcs))
    }
}

/// Reads `text`, an EPCIS 2.0 JSON-LD EPCISDocument, and maps every event to the supply call
/// that records it, signed by `sender` (see the module documentation and docs/interop.md).
/// Nothing is submitted here; the whole document is checked.
///
/// # Errors
/// [`EpcisError`] for the first event that cannot be imported, naming the event and field.
pub fn plan(
    text: &str,
    directory: &Directory,
    sender: Address,
    reader: &dyn SupplyReader,
) -> Result<Plan, EpcisError> {
    let document: Value =
        serde_json::from_str(text).map_err(|error| EpcisError::Json(error.to_string()))?;
    let events = document_events(&document)?;
    directory
        .party_by_address(&sender)
        .map_err(EpcisError::Sender)?;
    let chain = Chain { reader };
    let mut plan = Plan {
        sender,
        calls: Vec::with_capacity(events.len()),
        replaced: Vec::new(),
    };
    // Cases packed earlier in this document, for an unpacking that lists their contents.
    let mut packed: BTreeMap<String, Vec<Epc>> = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        let at = EventRef {
            index,
            id: event
                .get("eventID")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let fields = event.as_object().ok_or_else(|| EpcisError::Invalid {
            event: at.clone(),
            field: String::new(),
            reason: "an event is a JSON object".into(),
        })?;
        let mut reader = EventReader {
            at,
            fields,
            taken: BTreeSet::new(),
        };
        let call = map_event(
            &mut reader,
            directory,
            sender,
            &chain,
            &mut packed,
            &mut plan,
        )?;
        reader.finish(&call.message)?;
        plan.calls.push(call);
    }
    Ok(plan)
}

/// The document's events, after checking its own fields.
fn document_events(document: &Value) -> Result<&Vec<Value>, EpcisError> {
    let field_error = |field: &str, reason: &str| EpcisError::Document {
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let object = document
        .as_object()
        .ok_or_else(|| field_error("", "is not a JSON object"))?;
    if object.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        return Err(field_error("type", "is not `EPCISDocument`"));
    }
    let context_named = match object.get("@context") {
        Some(Value::String(context)) => context == EPCIS_CONTEXT,
        Some(Value::Array(items)) => items.iter().any(|item| item == EPCIS_CONTEXT),
        _ => false,
    };
    if !context_named {
        return Err(field_error(
            "@context",
            "does not name the GS1 EPCIS 2.0 context",
        ));
    }
    match object.get("schemaVersion").and_then(Value::as_str) {
        Some("2.0") => {}
        _ => return Err(field_error("schemaVersion", "is not `2.0`")),
    }
    if !object
        .get("creationDate")
        .and_then(Value::as_str)
        .is_some_and(is_date_time)
    {
        return Err(field_error("creationDate", "is not a date-time"));
    }
    for key in object.keys() {
        match key.as_str() {
            "@context" | "type" | "schemaVersion" | "creationDate" | "epcisBody" | "id"
            | "instanceIdentifier" | "sender" | "receiver" => {}
            "epcisHeader" => {
                return Err(field_error(
                    "epcisHeader",
                    "is refused: master data and the header's routing are not recorded by \
                     the supply contract (products are registered with `register_product`)",
                ));
            }
            other => {
                return Err(EpcisError::Document {
                    field: other.to_string(),
                    reason: "is refused: a document extension the contract does not record".into(),
                });
            }
        }
    }
    let body = object
        .get("epcisBody")
        .and_then(Value::as_object)
        .ok_or_else(|| field_error("epcisBody", "is missing"))?;
    if let Some(key) = body.keys().find(|key| *key != "eventList") {
        return Err(field_error(
            &format!("epcisBody.{key}"),
            "is refused: only an eventList is imported",
        ));
    }
    let events = body
        .get("eventList")
        .and_then(Value::as_array)
        .ok_or_else(|| field_error("epcisBody.eventList", "is missing"))?;
    if events.is_empty() {
        return Err(field_error("epcisBody.eventList", "is empty"));
    }
    Ok(events)
}

/// The location of the event (its readPoint and bizLocation, one place), which must be one of
/// the sender's.
fn location(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    sender: Address,
) -> Result<String, EpcisError> {
    let mut found: Option<String> = None;
    for field in ["readPoint", "bizLocation"] {
        let Some(value) = reader.take(field) else {
            continue;
        };
        let object = value
            .as_object()
            .ok_or_else(|| reader.invalid(field, "not an object"))?;
        if let Some(key) = object.keys().find(|key| *key != "id") {
            return Err(reader.unsupported(
                &format!("{field}.{key}"),
                "the contract records a location by its identifier only",
            ));
        }
        let path = format!("{field}.id");
        let text = object
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| reader.invalid(&path, "missing"))?;
        let code =
            match gs1::parse(text).map_err(|error| reader.invalid(&path, error.to_string()))? {
                Identifier::Sgln { gln, extension } => location_code(&gln, extension.as_deref()),
                other => return Err(reader.invalid(&path, format!("{other} is not a location"))),
            };
        if code.len() > 40 {
            return Err(reader.unsupported(&path, "longer than the contract's 40-byte location"));
        }
        let party = directory
            .party_at(&code)
            .map_err(|source| EpcisError::Unresolved {
                event: reader.at.clone(),
                field: path.clone(),
                source,
            })?;
        if party.address != sender {
            return Err(reader.invalid(
                &path,
                format!(
                    "{code} is a location of {} ({}), not of the importing party",
                    party.name, party.address
                ),
            ));
        }
        match &found {
            Some(earlier) if *earlier != code => {
                return Err(reader.unsupported(
                    "bizLocation",
                    "differs from readPoint: the contract records one location per event",
                ));
            }
            _ => found = Some(code),
        }
    }
    found.ok_or_else(|| {
        reader.invalid(
            "readPoint",
            "missing: the contract records every step at a location (readPoint or bizLocation)",
        )
    })
}

/// The event's common fields, then its step's call.
fn map_event(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    sender: Address,
    chain: &Chain<'_>,
    packed: &mut BTreeMap<String, Vec<Epc>>,
    plan: &mut Plan,
) -> Result<PlannedCall, EpcisError> {
    let event_type = reader.required_string("type")?.to_string();
    match event_type.as_str() {
        "ObjectEvent" | "AggregationEvent" | "TransactionEvent" | "TransformationEvent" => {}
        "AssociationEvent" => {
            return Err(reader.unsupported(
                "type",
                "AssociationEvent: the contract records no associations of sensors or assets",
            ));
        }
        other => return Err(reader.unsupported("type", format!("`{other}` is no EPCIS 2.0 event"))),
    }
    // What the chain assigns itself: reported, checked for shape.
    for field in ["eventID", "eventTime", "eventTimeZoneOffset", "recordTime"] {
        let Some(value) = reader.take(field) else {
            if field == "eventTime" || field == "eventTimeZoneOffset" {
                return Err(reader.invalid(field, "missing (EPCIS 2.0 requires it)"));
            }
            continue;
        };
        let text = value
            .as_str()
            .ok_or_else(|| reader.invalid(field, "not a string"))?;
        let well_formed = match field {
            "eventTime" | "recordTime" => is_date_time(text),
            "eventTimeZoneOffset" => is_offset(text),
            _ => text.contains(':'),
        };
        if !well_formed {
            return Err(reader.invalid(field, "malformed"));
        }
        plan.replaced.push(Replaced {
            event: reader.at.clone(),
            field: field.to_string(),
            value: value.clone(),
        });
    }
    let action = reader.string("action")?.unwrap_or_default().to_string();
    match (event_type.as_str(), action.as_str()) {
        ("TransformationEvent", "") => {}
        ("TransformationEvent", _) => {
            return Err(reader.invalid("action", "a TransformationEvent has no action"));
        }
        (_, "ADD" | "OBSERVE" | "DELETE") => {}
        (_, "") => return Err(reader.invalid("action", "missing")),
        (_, other) => return Err(reader.invalid("action", format!("`{other}` is no action"))),
    }
    let biz_step = reader
        .string("bizStep")?
        .map(|step| bare_vocabulary(step, "bizstep", "BizStep").to_string());
    let at = reader.at.clone();
    if reader.fields.contains_key("errorDeclaration") {
        let arguments = declaration(
            reader,
            directory,
            sender,
            chain,
            plan,
            (&event_type, &action, biz_step.as_deref()),
        )?;
        return Ok(PlannedCall {
            event: at,
            event_type,
            biz_step: biz_step.unwrap_or_default(),
            message: "declare_error".into(),
            arguments,
        });
    }
    let Some(biz_step) = biz_step else {
        if (event_type.as_str(), action.as_str()) == ("TransactionEvent", "ADD") {
            let arguments = sale(reader, directory, sender, chain)?;
            return Ok(PlannedCall {
                event: at,
                event_type,
                biz_step: String::new(),
                message: "sell".into(),
                arguments,
            });
        }
        return Err(reader.unsupported(
            "bizStep",
            "missing: without a bizStep the event names no step the contract takes (only a \
             sale, a TransactionEvent ADD, has none)",
        ));
    };
    let location = location(reader, directory, sender)?;
    let call = |message: &str, arguments: Value| PlannedCall {
        event: at.clone(),
        event_type: event_type.clone(),
        biz_step: biz_step.clone(),
        message: message.to_string(),
        arguments,
    };
    let shape = (event_type.as_str(), action.as_str(), biz_step.as_str());
    Ok(match shape {
        ("ObjectEvent", "ADD", "commissioning") => {
            reader.disposition_is("active", "commission")?;
            let epcs = reader.epcs("epcList", false)?;
            let (gtin, serials) = one_product(reader, &epcs, "epcList")?;
            let (lot, expiry) = reader.lot_and_expiry()?;
            call(
                "commission",
                json!([gtin, lot, expiry.to_string(), serials, location]),
            )
        }
        ("AggregationEvent", "ADD", "packing") => {
            reader.disposition_is("in_progress", "pack")?;
            let parent = reader.parent()?;
            let children = reader.epcs("childEPCs", false)?;
            packed.insert(parent.clone(), children.clone());
            if children.iter().all(|epc| matches!(epc, Epc::Unit(..))) {
                let units: Vec<Value> = children
                    .iter()
                    .map(|epc| match epc {
                        Epc::Unit(gtin, serial) => json!([gtin, serial]),
                        Epc::Case(_) => Value::Null,
                    })
                    .collect();
                call("pack", json!([parent, units, location]))
            } else if children.iter().all(|epc| matches!(epc, Epc::Case(_))) {
                let cases: Vec<Value> = children
                    .iter()
                    .map(|epc| match epc {
                        Epc::Case(sscc) => json!(sscc),
                        Epc::Unit(..) => Value::Null,
                    })
                    .collect();
                call("pack_cases", json!([parent, cases, location]))
            } else {
                return Err(reader.unsupported(
                    "childEPCs",
                    "units and cases mixed: the contract packs units into a case, or cases \
                     into a pallet",
                ));
            }
        }
        ("AggregationEvent", "DELETE", "unpacking") => {
            reader.disposition_is("sellable_accessible", "unpack")?;
            let parent = reader.parent()?;
            let children = reader.epcs("childEPCs", true)?;
            if !children.is_empty() {
                let contents = match packed.get(&parent) {
                    Some(contents) => Some(contents.clone()),
                    None => chain.contents(&reader.at, &parent)?,
                };
                let contents = contents.ok_or_else(|| EpcisError::Chain {
                    event: reader.at.clone(),
                    reason: format!("case {parent} is not on chain"),
                })?;
                let listed: BTreeSet<&Epc> = children.iter().collect();
                if listed != contents.iter().collect() {
                    return Err(reader.unsupported(
                        "childEPCs",
                        format!(
                            "a partial unpacking: the contract unpacks case {parent} whole \
                             ({} EPCs)",
                            contents.len()
                        ),
                    ));
                }
            }
            packed.remove(&parent);
            call("unpack", json!([parent, location]))
        }
        ("ObjectEvent", "OBSERVE", "shipping") | ("TransactionEvent", "ADD", "shipping") => {
            reader.disposition_is("in_transit", "ship")?;
            let epcs = reader.epcs("epcList", false)?;
            let sources = reader.parties("sourceList", directory)?;
            let destinations = reader.parties("destinationList", directory)?;
            if let Some(seller) = sources
                .get("owning_party")
                .copied()
                .filter(|seller| *seller != sender)
            {
                // Goods a 3PL holds, shipped by it as custodian for the seller: `dispatch`.
                let sale_id = dispatched_sale(
                    reader,
                    chain,
                    sender,
                    seller,
                    (&sources, &destinations),
                    &epcs,
                )?;
                return Ok(call("dispatch", json!([sale_id.to_string(), location])));
            }
            for (kind, party) in &sources {
                if *party != sender {
                    return Err(reader.invalid(
                        "sourceList",
                        format!("the {kind} {party} is not the importing party"),
                    ));
                }
            }
            // The shipper holds what it ships. What is not on chain yet (commissioned or packed
            // earlier in the document) or still travelling (received earlier in the document)
            // the contract checks.
            for (index, epc) in epcs.iter().enumerate() {
                if let Some((owner, custodian)) = chain.holding(&reader.at, epc)?
                    && custodian != sender
                    && chain.shipment_of(&reader.at, epc)?.is_none()
                {
                    return Err(reader.invalid(
                        &format!("epcList[{index}]"),
                        format!(
                            "held by {custodian}, not the importing party: goods a 3PL holds \
                             for {owner} are sold by their owner (a TransactionEvent without \
                             bizStep) and shipped by the 3PL"
                        ),
                    ));
                }
            }
            if let Some(buyer) = destinations.get("owning_party") {
                if destinations
                    .get("possessing_party")
                    .is_some_and(|holder| holder != buyer)
                {
                    return Err(reader.unsupported(
                        "destinationList",
                        "a possessing party other than the buyer: the contract delivers a \
                         sale to its buyer",
                    ));
                }
                let documents: Vec<Value> = reader
                    .biz_transactions()?
                    .into_iter()
                    .map(|(kind, hash)| json!([kind, hash.to_string()]))
                    .collect();
                call(
                    "ship",
                    json!([epcs_json(&epcs), buyer.to_string(), documents, location]),
                )
            } else if let Some(holder) = destinations.get("possessing_party") {
                if event_type == "TransactionEvent" || sources.contains_key("owning_party") {
                    return Err(reader.unsupported(
                        if event_type == "TransactionEvent" {
                            "type"
                        } else {
                            "sourceList"
                        },
                        "a custody move (`consign`) changes no ownership: an ObjectEvent with \
                         possessing parties only",
                    ));
                }
                call(
                    "consign",
                    json!([epcs_json(&epcs), holder.to_string(), location]),
                )
            } else {
                return Err(reader.invalid(
                    "destinationList",
                    "shipping needs the destination: an owning_party (a sale, `ship`) or a \
                     possessing_party (a custody move, `consign`)",
                ));
            }
        }
        ("ObjectEvent", "OBSERVE", "receiving") | ("TransactionEvent", "ADD", "receiving")
            if reader
                .fields
                .get("disposition")
                .and_then(Value::as_str)
                .is_some_and(|disposition| {
                    bare_vocabulary(disposition, "disp", "Disp") == "returned"
                }) =>
        {
            reader.disposition_is("returned", "accept_return")?;
            if event_type != "ObjectEvent" {
                return Err(reader.unsupported(
                    "type",
                    "a saleable return is no transaction: the contract records it as an \
                     ObjectEvent OBSERVE",
                ));
            }
            let epcs = reader.epcs("epcList", false)?;
            let arguments =
                saleable_return(reader, directory, (sender, chain), &epcs, true, &location)?;
            call("accept_return", arguments)
        }
        ("ObjectEvent", "OBSERVE", "receiving") | ("TransactionEvent", "ADD", "receiving") => {
            reader.disposition_is("in_progress", "receive")?;
            let epcs = reader.epcs("epcList", false)?;
            let mut shipments = BTreeSet::new();
            for epc in &epcs {
                if let Some(shipment) = chain.shipment_of(&reader.at, epc)? {
                    shipments.insert(shipment);
                }
            }
            let shipment_id = match shipments.len() {
                1 => *shipments.first().expect("one"),
                0 => {
                    return Err(EpcisError::Chain {
                        event: reader.at.clone(),
                        reason: "no shipment in transit carries these EPCs".into(),
                    });
                }
                _ => {
                    return Err(reader.unsupported(
                        "epcList",
                        format!(
                            "EPCs of {} shipments: the contract receives one shipment at a time",
                            shipments.len()
                        ),
                    ));
                }
            };
            let shipment = chain.view(&reader.at, "shipment", json!([shipment_id.to_string()]))?;
            receipt_matches(
                reader,
                directory,
                sender,
                shipment_id,
                &shipment,
                &event_type,
            )?;
            call(
                "receive",
                json!([shipment_id.to_string(), epcs_json(&epcs), location]),
            )
        }
        ("ObjectEvent", "OBSERVE", "holding") => {
            let disposition = reader
                .string("disposition")?
                .map(|disposition| bare_vocabulary(disposition, "disp", "Disp"));
            let epcs = reader.epcs("epcList", false)?;
            match disposition {
                Some("non_sellable_other") => {
                    if let Some(reason) = reader.string(SUSPECT_REASON)? {
                        if reason.is_empty() || reason.len() > 40 {
                            return Err(reader.invalid(
                                SUSPECT_REASON,
                                "the contract records a reason of 1 to 40 bytes",
                            ));
                        }
                        call("suspect", json!([epcs_json(&epcs), reason, location]))
                    } else if reader.fields.contains_key("destinationList") {
                        // A saleable return that failed verification: held by the seller.
                        let arguments = saleable_return(
                            reader,
                            directory,
                            (sender, chain),
                            &epcs,
                            false,
                            &location,
                        )?;
                        call("accept_return", arguments)
                    } else {
                        call("hold", json!([epcs_json(&epcs), location]))
                    }
                }
                Some("sellable_accessible") => call("release", json!([epcs_json(&epcs), location])),
                _ => {
                    return Err(reader.unsupported(
                        "disposition",
                        "holding is recorded as `non_sellable_other` (hold) or \
                         `sellable_accessible` (release)",
                    ));
                }
            }
        }
        ("ObjectEvent", "DELETE", "decommissioning") => {
            reader.disposition_is("inactive", "decommission")?;
            let epcs = reader.epcs("epcList", false)?;
            call("decommission", json!([epcs_json(&epcs), location]))
        }
        ("ObjectEvent", "DELETE", "destroying") => {
            reader.disposition_is("destroyed", "destroy")?;
            let epcs = reader.epcs("epcList", false)?;
            call("destroy", json!([epcs_json(&epcs), location]))
        }
        ("TransformationEvent", "", "repackaging") => {
            reader.disposition_is("active", "repackage")?;
            let inputs = reader.epcs("inputEPCList", false)?;
            let outputs = reader.epcs("outputEPCList", false)?;
            let (gtin, serials) = one_product(reader, &outputs, "outputEPCList")?;
            let (lot, expiry) = reader.lot_and_expiry()?;
            call(
                "repackage",
                json!([
                    epcs_json(&inputs),
                    gtin,
                    lot,
                    expiry.to_string(),
                    serials,
                    location
                ]),
            )
        }
        (_, _, "dispensing") => {
            return Err(reader.unsupported(
                "bizStep",
                "dispensing needs the prescription's opening (salt and patient commitment), \
                 which an EPCIS event does not carry: dispense through the prescription flow",
            ));
        }
        (event_type, action, step) => {
            return Err(reader.unsupported(
                "bizStep",
                format!("`{step}` in a {event_type} {action}: no supply-contract step records it"),
            ));
        }
    })
}

/// The one GTIN of `epcs` (all units) and their serials.
fn one_product(
    reader: &EventReader<'_>,
    epcs: &[Epc],
    field: &str,
) -> Result<(String, Vec<String>), EpcisError> {
    let mut gtin: Option<&str> = None;
    let mut serials = Vec::with_capacity(epcs.len());
    for epc in epcs {
        let Epc::Unit(unit_gtin, serial) = epc else {
            return Err(reader.unsupported(
                field,
                "a case: the contract commissions serialised units (SGTIN) only",
            ));
        };
        if *gtin.get_or_insert(unit_gtin) != unit_gtin {
            return Err(reader.unsupported(
                field,
                "several GTINs: the contract commissions one product and lot per event",
            ));
        }
        serials.push(serial.clone());
    }
    Ok((gtin.unwrap_or_default().to_string(), serials))
}

/// Checks a receiving event against the shipment it receives: the importing party is its
/// receiver; the parties named are the shipment's; a sale's receipt names at least one of the
/// shipment's business transactions (its documents, or its despatch advice), and only those.
fn receipt_matches(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    sender: Address,
    shipment_id: u64,
    shipment: &Value,
    event_type: &str,
) -> Result<(), EpcisError> {
    let address = |value: &Value| value.as_str().and_then(|text| text.parse::<Address>().ok());
    let receiver = address(&shipment["receiver"]);
    let shipper = address(&shipment["shipper"]);
    if receiver != Some(sender) {
        return Err(EpcisError::Chain {
            event: reader.at.clone(),
            reason: format!("shipment {shipment_id} is not addressed to the importing party"),
        });
    }
    let sources = reader.parties("sourceList", directory)?;
    let destinations = reader.parties("destinationList", directory)?;
    let information = &shipment["information"];
    let sale = (!information.is_null()).then(|| {
        (
            address(&information["seller"]),
            address(&information["buyer"]),
        )
    });
    let expected = |kind: &str, source: bool| -> Option<Address> {
        match (kind, sale) {
            ("owning_party", Some((seller, buyer))) => {
                if source {
                    seller
                } else {
                    buyer
                }
            }
            ("possessing_party", _) => {
                if source {
                    shipper
                } else {
                    receiver
                }
            }
            _ => None,
        }
    };
    for (field, parties, source) in [
        ("sourceList", &sources, true),
        ("destinationList", &destinations, false),
    ] {
        for (kind, party) in parties {
            if expected(kind, source) != Some(*party) {
                return Err(reader.invalid(
                    field,
                    format!("the {kind} {party} is not shipment {shipment_id}'s"),
                ));
            }
        }
    }
    if sale.is_none() {
        if event_type == "TransactionEvent" {
            return Err(reader.unsupported(
                "type",
                format!("shipment {shipment_id} is a custody move, received as an ObjectEvent"),
            ));
        }
        return Ok(());
    }
    let documents = documents_of(&information["documents"]);
    let named = reader.biz_transactions()?;
    if named.is_empty() {
        return Err(reader.invalid(
            "bizTransactionList",
            format!(
                "missing: a receipt names the shipment's documents (po, inv) or despatch \
                 advice (desadv) to be matched with shipment {shipment_id}"
            ),
        ));
    }
    let despatch_advice = ("desadv".to_string(), shipment_reference(shipment_id));
    for (index, document) in named.iter().enumerate() {
        if !documents.contains(document) && *document != despatch_advice {
            return Err(reader.invalid(
                &format!("bizTransactionList[{index}]"),
                format!("not a business transaction of shipment {shipment_id}"),
            ));
        }
    }
    Ok(())
}

/// The EPCs of a JSON list the contract's views return, for [`super::export`].
pub(crate) fn epcs_from_json(value: &Value) -> Vec<Epc> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Epc::from_json)
        .collect()
}

/// An address in a view's answer.
fn address_of(value: &Value) -> Option<Address> {
    value.as_str().and_then(|text| text.parse().ok())
}

/// The documents of a transaction information's `documents` as (type, hash).
fn documents_of(value: &Value) -> BTreeSet<(String, Hash)> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            Some((
                pair.get(0)?.as_str()?.to_string(),
                pair.get(1)?.as_str()?.parse().ok()?,
            ))
        })
        .collect()
}

fn documents_json(documents: &[(String, Hash)]) -> Value {
    Value::Array(
        documents
            .iter()
            .map(|(kind, hash)| json!([kind, hash.to_string()]))
            .collect(),
    )
}

impl Chain<'_> {
    /// The owner and custodian of a unit or case, if it is on chain.
    fn holding(&self, at: &EventRef, epc: &Epc) -> Result<Option<(Address, Address)>, EpcisError> {
        let record = match epc {
            Epc::Unit(gtin, serial) => self.view(at, "unit", json!([gtin, serial]))?,
            Epc::Case(sscc) => self.view(at, "contents", json!([sscc]))?,
        };
        Ok(address_of(&record["owner"]).zip(address_of(&record["custodian"])))
    }

    /// The units behind an EPC: itself, or a case's units (nested cases included) while the
    /// case is on chain.
    fn units_of(&self, at: &EventRef, epc: &Epc) -> Result<Vec<(String, String)>, EpcisError> {
        match epc {
            Epc::Unit(gtin, serial) => Ok(vec![(gtin.clone(), serial.clone())]),
            Epc::Case(sscc) => {
                let mut units = Vec::new();
                for inner in self.contents(at, sscc)?.unwrap_or_default() {
                    units.extend(self.units_of(at, &inner)?);
                }
                Ok(units)
            }
        }
    }

    /// The recorded event `id`, looked up in the history of the units behind `epcs` (the
    /// contract indexes events per unit only).
    fn recorded_event(
        &self,
        at: &EventRef,
        id: u64,
        epcs: &[Epc],
    ) -> Result<Option<Value>, EpcisError> {
        for epc in epcs {
            for (gtin, serial) in self.units_of(at, epc)? {
                let history = self.view(at, "history", json!([gtin, serial]))?;
                if let Some(event) = history
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|event| as_u64(&event["id"]) == Some(id))
                {
                    return Ok(Some(event.clone()));
                }
            }
        }
        Ok(None)
    }

    /// Every sale on chain as (id, sale), oldest first (the contract numbers sales from 0 and
    /// has no index by unit).
    fn sales(&self, at: &EventRef) -> Result<Vec<(u64, Value)>, EpcisError> {
        let mut sales = Vec::new();
        for id in 0u64.. {
            let sale = self.view(at, "sale", json!([id.to_string()]))?;
            if sale.is_null() {
                break;
            }
            sales.push((id, sale));
        }
        Ok(sales)
    }
}

/// A sale of goods a 3PL holds (`sell`): a TransactionEvent ADD without bizStep or location,
/// naming the transaction documents and the owning parties only. The seller is the importing
/// party, owner of every EPC; the goods are in another party's hands (its own goods it sells
/// and ships at once with a shipping event, `ship`).
fn sale(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    sender: Address,
    chain: &Chain<'_>,
) -> Result<Value, EpcisError> {
    let epcs = reader.epcs("epcList", false)?;
    let documents = reader.biz_transactions()?;
    if documents.is_empty() {
        return Err(reader.invalid(
            "bizTransactionList",
            "missing: a sale names its transaction documents (po, inv)",
        ));
    }
    let sources = reader.parties("sourceList", directory)?;
    let destinations = reader.parties("destinationList", directory)?;
    for (field, parties) in [("sourceList", &sources), ("destinationList", &destinations)] {
        if parties.contains_key("possessing_party") {
            return Err(reader.unsupported(
                field,
                "a possessing party in a sale: custody moves with the 3PL's dispatch (its \
                 shipping event), not with the sale",
            ));
        }
    }
    match sources.get("owning_party") {
        Some(seller) if *seller == sender => {}
        Some(seller) => {
            return Err(reader.invalid(
                "sourceList",
                format!(
                    "the owning_party {seller} is not the importing party: a sale is recorded \
                     by its seller"
                ),
            ));
        }
        None => {
            return Err(reader.invalid(
                "sourceList",
                "missing: a sale names its seller (owning_party)",
            ));
        }
    }
    let buyer = *destinations.get("owning_party").ok_or_else(|| {
        reader.invalid(
            "destinationList",
            "missing: a sale names its buyer (owning_party)",
        )
    })?;
    for (index, epc) in epcs.iter().enumerate() {
        let path = format!("epcList[{index}]");
        let (owner, custodian) =
            chain
                .holding(&reader.at, epc)?
                .ok_or_else(|| EpcisError::Chain {
                    event: reader.at.clone(),
                    reason: format!("`{path}` is not on chain"),
                })?;
        if owner != sender {
            return Err(reader.invalid(
                &path,
                format!("owned by {owner}, not the importing party: only the owner sells"),
            ));
        }
        if custodian == sender {
            return Err(reader.unsupported(
                &path,
                "in the importing party's own hands: goods it holds are sold and shipped at \
                 once (a shipping event, `ship`); a sale without shipping is of goods a 3PL \
                 holds",
            ));
        }
    }
    Ok(json!([
        epcs_json(&epcs),
        buyer.to_string(),
        documents_json(&documents)
    ]))
}

/// The sale a 3PL's shipping event dispatches: the importing party names itself the source
/// possessing party and the owner (`seller`) the source owning party; the sale on chain is the
/// one by that seller to the destination's owning party, of these EPCs, held by the importing
/// party, neither dispatched nor cancelled, with the documents the event names (if any).
fn dispatched_sale(
    reader: &mut EventReader<'_>,
    chain: &Chain<'_>,
    sender: Address,
    seller: Address,
    (sources, destinations): (&BTreeMap<&str, Address>, &BTreeMap<&str, Address>),
    epcs: &[Epc],
) -> Result<u64, EpcisError> {
    if sources.get("possessing_party") != Some(&sender) {
        return Err(reader.invalid(
            "sourceList",
            format!(
                "the owning_party {seller} is not the importing party, which is not named the \
                 possessing_party: a 3PL dispatching its client's sale names itself as \
                 possessing_party"
            ),
        ));
    }
    let buyer = *destinations.get("owning_party").ok_or_else(|| {
        reader.invalid(
            "destinationList",
            "missing: a dispatched sale names its buyer (owning_party)",
        )
    })?;
    if destinations
        .get("possessing_party")
        .is_some_and(|holder| *holder != buyer)
    {
        return Err(reader.unsupported(
            "destinationList",
            "a possessing party other than the buyer: the contract delivers a sale to its buyer",
        ));
    }
    let named: BTreeSet<(String, Hash)> = reader.biz_transactions()?.into_iter().collect();
    let wanted: BTreeSet<&Epc> = epcs.iter().collect();
    for (id, sale) in chain.sales(&reader.at)? {
        let information = &sale["information"];
        if address_of(&sale["custodian"]) == Some(sender)
            && sale["shipment"].is_null()
            && sale["cancelled_ms"].is_null()
            && address_of(&information["seller"]) == Some(seller)
            && address_of(&information["buyer"]) == Some(buyer)
            && epcs_from_json(&sale["epcs"])
                .iter()
                .collect::<BTreeSet<_>>()
                == wanted
            && (named.is_empty() || documents_of(&information["documents"]) == named)
        {
            return Ok(id);
        }
    }
    Err(EpcisError::Chain {
        event: reader.at.clone(),
        reason: format!(
            "no sale by {seller} to {buyer} of these EPCs, with these business transactions, \
             awaits dispatch by the importing party"
        ),
    })
}

/// A saleable return (`accept_return`): one package (SGTIN), taken back by the importing
/// party, the seller of its last received shipment. The event carries no lot or expiry (ilmd
/// is for events that create units): the package presents the identifiers the chain holds, and
/// the contract's verification then turns on the unit's status. `accepted` is the shape read:
/// `receiving` / `returned` (the package verifies and is sellable again) or `holding` /
/// `non_sellable_other` (it fails and is quarantined); the other outcome is refused, as the
/// contract would record it differently.
fn saleable_return(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    (sender, chain): (Address, &Chain<'_>),
    epcs: &[Epc],
    accepted: bool,
    location: &str,
) -> Result<Value, EpcisError> {
    let [Epc::Unit(gtin, serial)] = epcs else {
        return Err(reader.unsupported(
            "epcList",
            "a saleable return is one package (SGTIN): the contract verifies each before taking \
             it back",
        ));
    };
    let unit = chain.view(&reader.at, "unit", json!([gtin, serial]))?;
    if unit.is_null() {
        return Err(EpcisError::Chain {
            event: reader.at.clone(),
            reason: format!("unit {gtin} {serial} is not on chain"),
        });
    }
    let sources = reader.parties("sourceList", directory)?;
    let destinations = reader.parties("destinationList", directory)?;
    for (kind, party) in &destinations {
        if *party != sender {
            return Err(reader.invalid(
                "destinationList",
                format!("the {kind} {party} is not the importing party, which takes it back"),
            ));
        }
    }
    let owner = address_of(&unit["owner"]);
    for (kind, party) in &sources {
        if Some(*party) != owner {
            return Err(reader.invalid(
                "sourceList",
                format!("the {kind} {party} is not the unit's owner, which returns it"),
            ));
        }
    }
    if address_of(&unit["seller"]) != Some(sender) {
        return Err(reader.invalid(
            "epcList[0]",
            format!(
                "unit {gtin} {serial} was not sold to its owner by the importing party: only \
                 that seller takes a saleable return"
            ),
        ));
    }
    let lot = unit["lot"].as_str().unwrap_or_default();
    let expiry = as_u64(&unit["expiry_ms"]).unwrap_or_default();
    let verification = chain.view(
        &reader.at,
        "verify",
        json!([gtin, serial, lot, expiry.to_string()]),
    )?;
    let passes = verification["verified"] == json!(true)
        && verification["additional"]
            .as_array()
            .is_none_or(|additional| additional.is_empty());
    if passes != accepted {
        let (field, reason) = if accepted {
            (
                "disposition",
                format!(
                    "`returned`, but unit {gtin} {serial} fails verification ({verification}): \
                     the contract would quarantine it (holding / non_sellable_other)"
                ),
            )
        } else {
            (
                "bizStep",
                format!(
                    "`holding`, but unit {gtin} {serial} verifies: the contract would take it \
                     back sellable (receiving / returned)"
                ),
            )
        };
        return Err(EpcisError::Chain {
            event: reader.at.clone(),
            reason: format!("`{field}` {reason}"),
        });
    }
    Ok(json!([gtin, serial, lot, expiry.to_string(), location]))
}

/// An error declaration (`declare_error`): the event as it was recorded, with `errorDeclaration`
/// and the recorded event's `eventID` (`urn:salus:supply:event:N`). The original must be on
/// this chain (found in the history of the EPCs the declaration names), recorded by the
/// importing party and not itself a declaration; the declaration's type, action, bizStep,
/// disposition, EPCs and location must be the original's. Its other fields describe the
/// original (already recorded) and are read, not recorded again.
fn declaration(
    reader: &mut EventReader<'_>,
    directory: &Directory,
    sender: Address,
    chain: &Chain<'_>,
    plan: &mut Plan,
    (event_type, action, biz_step): (&str, &str, Option<&str>),
) -> Result<Value, EpcisError> {
    let declared = reader
        .take("errorDeclaration")
        .and_then(Value::as_object)
        .ok_or_else(|| reader.invalid("errorDeclaration", "not an object"))?;
    let mut reason = None;
    let mut time = None;
    for (key, value) in declared {
        let path = format!("errorDeclaration.{key}");
        match key.as_str() {
            "declarationTime" => time = Some(value),
            "reason" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| reader.invalid(&path, "not a string"))?;
                reason = Some(bare_vocabulary(text, "er", "ER"));
            }
            "correctiveEventIDs" => {
                return Err(reader.unsupported(
                    &path,
                    "the contract does not link corrective events to a declaration: import \
                     them as the ordinary events they are",
                ));
            }
            _ => return Err(reader.unsupported(&path, "not recorded")),
        }
    }
    let time = time.ok_or_else(|| reader.invalid("errorDeclaration.declarationTime", "missing"))?;
    if !time.as_str().is_some_and(is_date_time) {
        return Err(reader.invalid("errorDeclaration.declarationTime", "malformed"));
    }
    plan.replaced.push(Replaced {
        event: reader.at.clone(),
        field: "errorDeclaration.declarationTime".into(),
        value: time.clone(),
    });
    let reason = match reason {
        Some(reason @ ("did_not_occur" | "incorrect_data")) => reason,
        Some(other) => {
            return Err(reader.unsupported(
                "errorDeclaration.reason",
                format!("`{other}`: the contract records did_not_occur or incorrect_data"),
            ));
        }
        None => {
            return Err(reader.invalid(
                "errorDeclaration.reason",
                "missing: the contract records the CBV reason (did_not_occur, incorrect_data)",
            ));
        }
    };
    let event_id = reader.at.id.clone().ok_or_else(|| {
        reader.invalid(
            "eventID",
            "missing: a declaration names the recorded event it corrects",
        )
    })?;
    let id = event_id
        .strip_prefix(EVENT_URN)
        .and_then(|id| id.parse::<u64>().ok())
        .ok_or_else(|| {
            reader.unsupported(
                "eventID",
                format!(
                    "`{event_id}` is no event of this chain: `declare_error` names the chain's \
                     event id ({EVENT_URN}N)"
                ),
            )
        })?;
    let mut named = Vec::new();
    for field in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        named.extend(reader.epcs(field, true)?);
    }
    if reader.fields.contains_key("parentID") {
        named.push(Epc::Case(reader.parent()?));
    }
    let original = chain
        .recorded_event(&reader.at, id, &named)?
        .ok_or_else(|| EpcisError::Chain {
            event: reader.at.clone(),
            reason: format!(
                "`eventID` {event_id} is not recorded on this chain (in the history of the EPCs \
                 the declaration names): nothing to declare erroneous"
            ),
        })?;
    if address_of(&original["recorded_by"]) != Some(sender) {
        return Err(reader.invalid(
            "eventID",
            format!(
                "{event_id} was recorded by {}, not the importing party: only its recorder \
                 declares it erroneous",
                original["recorded_by"].as_str().unwrap_or_default()
            ),
        ));
    }
    if !original["corrects"].is_null() {
        return Err(reader.unsupported(
            "eventID",
            format!("{event_id} is itself an error declaration"),
        ));
    }
    // The original as the export writes it (a TransactionEvent without documents is the
    // ObjectEvent OBSERVE it is in the DSCSA guideline).
    let text = |field: &str| original[field].as_str().unwrap_or_default().to_string();
    let (mut recorded_type, mut recorded_action) = (text("event_type"), text("action"));
    if recorded_type == "TransactionEvent"
        && original["biz_transactions"]
            .as_array()
            .is_none_or(Vec::is_empty)
    {
        recorded_type = "ObjectEvent".into();
        recorded_action = "OBSERVE".into();
    }
    let mut recorded: BTreeSet<Epc> = epcs_from_json(&original["epcs"]).into_iter().collect();
    recorded.extend(epcs_from_json(&original["transformation"]["inputs"]));
    recorded.extend(epcs_from_json(&original["transformation"]["outputs"]));
    if let Some(parent) = original["parent"].as_str() {
        recorded.insert(Epc::Case(parent.to_string()));
    }
    let mismatch = |reader: &EventReader<'_>, field: &str, what: &str| {
        reader.invalid(
            field,
            format!("not the {what} of {event_id}, the event it declares erroneous"),
        )
    };
    if event_type != recorded_type {
        return Err(mismatch(reader, "type", "type"));
    }
    if action != recorded_action {
        return Err(mismatch(reader, "action", "action"));
    }
    if biz_step.is_some_and(|step| step != text("biz_step")) {
        return Err(mismatch(reader, "bizStep", "bizStep"));
    }
    if named.into_iter().collect::<BTreeSet<_>>() != recorded {
        return Err(mismatch(reader, "epcList", "EPCs"));
    }
    if let Some(disposition) = reader.string("disposition")?
        && bare_vocabulary(disposition, "disp", "Disp") != text("disposition")
    {
        return Err(mismatch(reader, "disposition", "disposition"));
    }
    if ["readPoint", "bizLocation"]
        .iter()
        .any(|field| reader.fields.contains_key(*field))
        && location(reader, directory, sender)? != text("location")
    {
        return Err(mismatch(reader, "readPoint", "location"));
    }
    // What else the original carried, already recorded with it.
    for field in [
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "ilmd",
        SUSPECT_REASON,
    ] {
        reader.take(field);
    }
    Ok(json!([id.to_string(), reason]))
}
