//! EPCIS 1.2 XML, for trading partners that still require it (issue 23, deliverable 5).
//!
//! [`to_xml`] writes an EPCIS 2.0 JSON-LD `EPCISDocument` (as [`export`](super::export) builds
//! it) as the EPCIS 1.2 XML document GS1's `EPCglobal-epcis-1_2.xsd` defines: root
//! `epcis:EPCISDocument` in `urn:epcglobal:epcis:xsd:1`, `schemaVersion="1.2"`, unqualified
//! children (`EPCISBody/EventList`), each event's fields in the schema's order, with the places
//! 1.2 gives to what 2.0 made first-class: `eventID` and `errorDeclaration` inside
//! `baseExtension`; an ObjectEvent's `sourceList`, `destinationList` and `ilmd` inside its
//! `extension` (an AggregationEvent's and TransactionEvent's source and destination lists too);
//! a TransformationEvent inside an `EventList/extension`. Bare CBV values become CBV 1.2 URNs
//! (`shipping` → `urn:epcglobal:cbv:bizstep:shipping`, `po` → `urn:epcglobal:cbv:btt:po`,
//! `owning_party` → `urn:epcglobal:cbv:sdt:owning_party`); ILMD and user extensions keep their
//! namespaces (`cbvmda` is `urn:epcglobal:cbv:mda`; other prefixes must be declared in the
//! document's `@context`). An optional [`Header`] adds the `EPCISHeader` the GS1 US DSCSA
//! guideline uses: the SBDH (`sbdh:StandardBusinessDocumentHeader`, sender and receiver) and
//! `extension/EPCISMasterData` (vocabularies of products and locations).
//!
//! What 1.2 cannot carry (an AssociationEvent, sensor data, a persistent disposition, …) is
//! refused with an [`EpcisError`] naming the event and the field, never dropped. Text and
//! attributes are escaped; a character XML 1.0 cannot carry is refused.

use serde_json::{Map, Value};

use super::{EpcisError, EventRef, RX_TRANSACTION_TYPE, bare_vocabulary};

/// The EPCIS 1.2 namespace.
pub const EPCIS_NS: &str = "urn:epcglobal:epcis:xsd:1";
/// The SBDH namespace.
pub const SBDH_NS: &str = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";
/// The CBV master data namespace (ILMD and master data attributes).
pub const CBVMDA_NS: &str = "urn:epcglobal:cbv:mda";
/// The vocabulary type of products (EPC classes).
pub const VTYPE_EPC_CLASS: &str = "urn:epcglobal:epcis:vtype:EPCClass";
/// The vocabulary type of business locations.
pub const VTYPE_LOCATION: &str = "urn:epcglobal:epcis:vtype:BusinessLocation";

/// The `EPCISHeader` of a document: its SBDH and its master data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `sbdh:Sender`.
    pub sender: Partner,
    /// `sbdh:Receiver`.
    pub receiver: Partner,
    /// `sbdh:DocumentIdentification/InstanceIdentifier`.
    pub instance_identifier: String,
    /// `sbdh:DocumentIdentification/CreationDateAndTime` (an `xsd:dateTime`).
    pub creation: String,
    /// `extension/EPCISMasterData/VocabularyList`; none written when empty.
    pub master_data: Vec<Vocabulary>,
}

/// An SBDH partner: `sbdh:Identifier` with its `Authority`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    /// `Authority` (`SGLN`, or `GLN` for a bare GLN-13).
    pub authority: String,
    /// The identifier.
    pub identifier: String,
}

/// One `Vocabulary` of master data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Its `type` (`urn:epcglobal:epcis:vtype:EPCClass`, `…:BusinessLocation`).
    pub vocabulary_type: String,
    /// Its elements.
    pub elements: Vec<VocabularyElement>,
}

/// One `VocabularyElement`: an id and its attributes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VocabularyElement {
    /// Its `id` (a URI).
    pub id: String,
    /// `attribute` elements: (id, text).
    pub attributes: Vec<(String, String)>,
}

/// Whether XML 1.0 can carry `c`.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// `text` escaped for element content.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped for a double-quoted attribute value (whitespace kept as character
/// references, which attribute normalisation would otherwise turn into spaces).
pub fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// A small indenting XML writer with escaping. A character XML 1.0 cannot carry is kept as the
/// first error and reported by [`XmlWriter::finish`].
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
    open: Vec<String>,
    invalid: Option<String>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        XmlWriter::new()
    }
}

impl XmlWriter {
    /// A document with its XML declaration.
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".into(),
            open: Vec::new(),
            invalid: None,
        }
    }

    fn check(&mut self, name: &str, text: &str) {
        if self.invalid.is_none() && !text.chars().all(xml_char) {
            self.invalid = Some(format!("`{name}` holds a character XML 1.0 cannot carry"));
        }
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.out.push_str(&"  ".repeat(self.open.len()));
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.check(name, value);
            self.out
                .push_str(&format!(" {key}=\"{}\"", escape_attribute(value)));
        }
    }

    /// Opens element `name`.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start(name, attributes);
        self.out.push_str(">\n");
        self.open.push(name.to_string());
    }

    /// Writes `<name …>text</name>`.
    pub fn leaf(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.check(name, text);
        self.start(name, attributes);
        self.out
            .push_str(&format!(">{}</{name}>\n", escape_text(text)));
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.out.push_str(&"  ".repeat(self.open.len()));
            self.out.push_str(&format!("</{name}>\n"));
        }
    }

    /// The document, every element closed.
    ///
    /// # Errors
    /// [`EpcisError::Document`] for a character XML 1.0 cannot carry.
    pub fn finish(mut self) -> Result<String, EpcisError> {
        while !self.open.is_empty() {
            self.close();
        }
        match self.invalid {
            Some(reason) => Err(EpcisError::Document {
                field: "text".into(),
                reason,
            }),
            None => Ok(self.out),
        }
    }
}

/// A CBV value as its 1.2 URN: a bare value (or a 2.0 Web URI) gets
/// `urn:epcglobal:cbv:KIND:`; a URI outside the CBV is kept.
fn cbv_urn(value: &str, kind: &str, web: &str) -> String {
    let bare = bare_vocabulary(value, kind, web);
    if bare.contains(':') {
        bare.to_string()
    } else {
        format!("urn:epcglobal:cbv:{kind}:{bare}")
    }
}

/// The fields of a 2.0 event [`to_xml`] reads; any other field without a namespace prefix is
/// refused.
const KNOWN: [&str; 21] = [
    "type",
    "eventID",
    "eventTime",
    "eventTimeZoneOffset",
    "recordTime",
    "epcList",
    "childEPCs",
    "parentID",
    "inputEPCList",
    "outputEPCList",
    "transformationID",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "ilmd",
    "errorDeclaration",
];

struct Event<'a> {
    at: EventRef,
    fields: &'a Map<String, Value>,
    prefixes: &'a [(String, String)],
}

impl Event<'_> {
    fn unsupported(&self, field: &str, reason: &str) -> EpcisError {
        EpcisError::Unsupported {
            event: self.at.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn invalid(&self, field: &str, reason: &str) -> EpcisError {
        EpcisError::Invalid {
            event: self.at.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn text(&self, field: &str) -> Result<Option<&str>, EpcisError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.invalid(field, "not a string")),
        }
    }

    fn required(&self, field: &str) -> Result<&str, EpcisError> {
        self.text(field)?
            .ok_or_else(|| self.invalid(field, "required by EPCIS 1.2"))
    }

    fn list(&self, field: &str) -> Result<Option<&Vec<Value>>, EpcisError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(_) => Err(self.invalid(field, "not a list")),
        }
    }

    fn check_fields(&self) -> Result<(), EpcisError> {
        for key in self.fields.keys() {
            if KNOWN.contains(&key.as_str()) {
                continue;
            }
            match key.split_once(':') {
                Some((prefix, _)) if self.prefixes.iter().any(|(known, _)| known == prefix) => {}
                Some(_) => {
                    return Err(
                        self.invalid(key, "an extension whose prefix `@context` does not declare")
                    );
                }
                None => {
                    return Err(self.unsupported(
                        key,
                        "EPCIS 1.2 has no such field (it is EPCIS 2.0 only or unknown)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn epc_list(&self, xml: &mut XmlWriter, field: &str, required: bool) -> Result<(), EpcisError> {
        let Some(list) = self.list(field)? else {
            if required {
                xml.open(field, &[]);
                xml.close();
            }
            return Ok(());
        };
        xml.open(field, &[]);
        for epc in list {
            let epc = epc
                .as_str()
                .ok_or_else(|| self.invalid(field, "an EPC that is not a string"))?;
            xml.leaf("epc", &[], epc);
        }
        xml.close();
        Ok(())
    }

    fn base(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        xml.leaf("eventTime", &[], self.required("eventTime")?);
        if let Some(record_time) = self.text("recordTime")? {
            xml.leaf("recordTime", &[], record_time);
        }
        xml.leaf(
            "eventTimeZoneOffset",
            &[],
            self.required("eventTimeZoneOffset")?,
        );
        let id = self.text("eventID")?;
        let declaration = self.fields.get("errorDeclaration").filter(|v| !v.is_null());
        if id.is_none() && declaration.is_none() {
            return Ok(());
        }
        xml.open("baseExtension", &[]);
        if let Some(id) = id {
            xml.leaf("eventID", &[], id);
        }
        if let Some(declaration) = declaration {
            let time = declaration["declarationTime"]
                .as_str()
                .ok_or_else(|| self.invalid("errorDeclaration.declarationTime", "required"))?;
            xml.open("errorDeclaration", &[]);
            xml.leaf("declarationTime", &[], time);
            if let Some(reason) = declaration["reason"].as_str() {
                xml.leaf("reason", &[], &cbv_urn(reason, "er", "ER"));
            }
            if let Some(ids) = declaration["correctiveEventIDs"].as_array() {
                xml.open("correctiveEventIDs", &[]);
                for id in ids.iter().filter_map(Value::as_str) {
                    xml.leaf("correctiveEventID", &[], id);
                }
                xml.close();
            }
            xml.close();
        }
        xml.close();
        Ok(())
    }

    fn what_where(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        if let Some(step) = self.text("bizStep")? {
            xml.leaf("bizStep", &[], &cbv_urn(step, "bizstep", "BizStep"));
        }
        if let Some(disposition) = self.text("disposition")? {
            xml.leaf("disposition", &[], &cbv_urn(disposition, "disp", "Disp"));
        }
        for field in ["readPoint", "bizLocation"] {
            if let Some(place) = self.fields.get(field).filter(|v| !v.is_null()) {
                let id = place["id"]
                    .as_str()
                    .ok_or_else(|| self.invalid(field, "without `id`"))?;
                if place.as_object().is_some_and(|object| object.len() > 1) {
                    return Err(self.unsupported(field, "only `id` is written to EPCIS 1.2"));
                }
                xml.open(field, &[]);
                xml.leaf("id", &[], id);
                xml.close();
            }
        }
        Ok(())
    }

    fn transactions(&self, xml: &mut XmlWriter, required: bool) -> Result<(), EpcisError> {
        let list = self.list("bizTransactionList")?;
        let Some(list) = list.filter(|list| !list.is_empty()) else {
            if required {
                return Err(self.invalid("bizTransactionList", "a TransactionEvent names one"));
            }
            return Ok(());
        };
        xml.open("bizTransactionList", &[]);
        for entry in list {
            let value = entry["bizTransaction"].as_str().ok_or_else(|| {
                self.invalid("bizTransactionList", "an entry without `bizTransaction`")
            })?;
            match entry["type"].as_str() {
                Some(kind) => {
                    let kind = if kind == "rx" {
                        RX_TRANSACTION_TYPE.to_string()
                    } else {
                        cbv_urn(kind, "btt", "BTT")
                    };
                    xml.leaf("bizTransaction", &[("type", &kind)], value);
                }
                None => xml.leaf("bizTransaction", &[], value),
            }
        }
        xml.close();
        Ok(())
    }

    fn has(&self, field: &str) -> bool {
        self.fields
            .get(field)
            .is_some_and(|value| value.as_array().is_some_and(|list| !list.is_empty()))
    }

    fn sources_destinations(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        for (field, key) in [("sourceList", "source"), ("destinationList", "destination")] {
            let Some(list) = self.list(field)?.filter(|list| !list.is_empty()) else {
                continue;
            };
            xml.open(field, &[]);
            for entry in list {
                let kind = entry["type"]
                    .as_str()
                    .ok_or_else(|| self.invalid(field, "an entry without `type`"))?;
                let value = entry[key]
                    .as_str()
                    .ok_or_else(|| self.invalid(field, &format!("an entry without `{key}`")))?;
                xml.leaf(key, &[("type", &cbv_urn(kind, "sdt", "SDT"))], value);
            }
            xml.close();
        }
        Ok(())
    }

    fn ilmd(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        let Some(ilmd) = self.fields.get("ilmd").filter(|v| !v.is_null()) else {
            return Ok(());
        };
        let ilmd = ilmd
            .as_object()
            .ok_or_else(|| self.invalid("ilmd", "not an object"))?;
        xml.open("ilmd", &[]);
        for (key, value) in ilmd {
            if !key
                .split_once(':')
                .is_some_and(|(prefix, _)| self.prefixes.iter().any(|(p, _)| p == prefix))
            {
                return Err(self.invalid(
                    &format!("ilmd.{key}"),
                    "an ILMD field must be in a declared namespace (`cbvmda:…`)",
                ));
            }
            self.extension_element(xml, key, value)?;
        }
        xml.close();
        Ok(())
    }

    /// A user extension (a namespaced field) as its element(s).
    fn extension_element(
        &self,
        xml: &mut XmlWriter,
        name: &str,
        value: &Value,
    ) -> Result<(), EpcisError> {
        match value {
            Value::Null => {}
            Value::String(text) => xml.leaf(name, &[], text),
            Value::Bool(_) | Value::Number(_) => xml.leaf(name, &[], &value.to_string()),
            Value::Array(items) => {
                for item in items {
                    self.extension_element(xml, name, item)?;
                }
            }
            Value::Object(fields) => {
                xml.open(name, &[]);
                for (key, value) in fields {
                    if !key.contains(':') {
                        return Err(self.invalid(name, &format!("`{key}` has no namespace prefix")));
                    }
                    self.extension_element(xml, key, value)?;
                }
                xml.close();
            }
        }
        Ok(())
    }

    fn user_extensions(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        for (key, value) in self.fields {
            if key.contains(':') {
                self.extension_element(xml, key, value)?;
            }
        }
        Ok(())
    }

    fn write(&self, xml: &mut XmlWriter) -> Result<(), EpcisError> {
        self.check_fields()?;
        let kind = self.required("type")?;
        let action = || -> Result<&str, EpcisError> {
            let action = self.required("action")?;
            if matches!(action, "ADD" | "OBSERVE" | "DELETE") {
                Ok(action)
            } else {
                Err(self.invalid("action", "not ADD, OBSERVE or DELETE"))
            }
        };
        match kind {
            "ObjectEvent" => {
                xml.open("ObjectEvent", &[]);
                self.base(xml)?;
                self.epc_list(xml, "epcList", true)?;
                xml.leaf("action", &[], action()?);
                self.what_where(xml)?;
                self.transactions(xml, false)?;
                let ilmd = self.fields.get("ilmd").is_some_and(|v| !v.is_null());
                if self.has("sourceList") || self.has("destinationList") || ilmd {
                    xml.open("extension", &[]);
                    self.sources_destinations(xml)?;
                    self.ilmd(xml)?;
                    xml.close();
                }
                self.user_extensions(xml)?;
                xml.close();
            }
            "AggregationEvent" | "TransactionEvent" => {
                if self.fields.contains_key("ilmd") {
                    return Err(self.unsupported(
                        "ilmd",
                        "EPCIS 1.2 gives ILMD to Object and Transformation events only",
                    ));
                }
                xml.open(kind, &[]);
                self.base(xml)?;
                if kind == "TransactionEvent" {
                    self.transactions(xml, true)?;
                }
                if let Some(parent) = self.text("parentID")? {
                    xml.leaf("parentID", &[], parent);
                }
                let list = if kind == "AggregationEvent" {
                    "childEPCs"
                } else {
                    "epcList"
                };
                self.epc_list(xml, list, true)?;
                xml.leaf("action", &[], action()?);
                self.what_where(xml)?;
                if kind == "AggregationEvent" {
                    self.transactions(xml, false)?;
                }
                if self.has("sourceList") || self.has("destinationList") {
                    xml.open("extension", &[]);
                    self.sources_destinations(xml)?;
                    xml.close();
                }
                self.user_extensions(xml)?;
                xml.close();
            }
            "TransformationEvent" => {
                xml.open("extension", &[]);
                xml.open("TransformationEvent", &[]);
                self.base(xml)?;
                self.epc_list(xml, "inputEPCList", false)?;
                self.epc_list(xml, "outputEPCList", false)?;
                if let Some(id) = self.text("transformationID")? {
                    xml.leaf("transformationID", &[], id);
                }
                self.what_where(xml)?;
                self.transactions(xml, false)?;
                self.sources_destinations(xml)?;
                self.ilmd(xml)?;
                self.user_extensions(xml)?;
                xml.close();
                xml.close();
            }
            other => {
                return Err(self.unsupported(
                    "type",
                    &format!("EPCIS 1.2 has no {other} (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent)"),
                ));
            }
        }
        Ok(())
    }
}

fn write_header(xml: &mut XmlWriter, header: &Header) {
    xml.open("EPCISHeader", &[]);
    xml.open("sbdh:StandardBusinessDocumentHeader", &[]);
    xml.leaf("sbdh:HeaderVersion", &[], "1.0");
    for (element, partner) in [
        ("sbdh:Sender", &header.sender),
        ("sbdh:Receiver", &header.receiver),
    ] {
        xml.open(element, &[]);
        xml.leaf(
            "sbdh:Identifier",
            &[("Authority", &partner.authority)],
            &partner.identifier,
        );
        xml.close();
    }
    xml.open("sbdh:DocumentIdentification", &[]);
    xml.leaf("sbdh:Standard", &[], "EPCglobal");
    xml.leaf("sbdh:TypeVersion", &[], "1.0");
    xml.leaf("sbdh:InstanceIdentifier", &[], &header.instance_identifier);
    xml.leaf("sbdh:Type", &[], "Events");
    xml.leaf("sbdh:CreationDateAndTime", &[], &header.creation);
    xml.close();
    xml.close();
    if !header.master_data.is_empty() {
        xml.open("extension", &[]);
        xml.open("EPCISMasterData", &[]);
        xml.open("VocabularyList", &[]);
        for vocabulary in &header.master_data {
            xml.open("Vocabulary", &[("type", &vocabulary.vocabulary_type)]);
            if !vocabulary.elements.is_empty() {
                xml.open("VocabularyElementList", &[]);
                for element in &vocabulary.elements {
                    xml.open("VocabularyElement", &[("id", &element.id)]);
                    for (id, value) in &element.attributes {
                        xml.leaf("attribute", &[("id", id)], value);
                    }
                    xml.close();
                }
                xml.close();
            }
            xml.close();
        }
        xml.close();
        xml.close();
        xml.close();
    }
    xml.close();
}

/// The namespace prefixes a 2.0 document declares in its `@context` objects, with `cbvmda`.
fn prefixes(document: &Value) -> Result<Vec<(String, String)>, EpcisError> {
    let mut prefixes = vec![("cbvmda".to_string(), CBVMDA_NS.to_string())];
    let contexts = match &document["@context"] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    };
    for context in contexts {
        let Value::Object(fields) = context else {
            continue;
        };
        for (prefix, uri) in fields {
            let uri = uri.as_str().ok_or_else(|| EpcisError::Document {
                field: format!("@context.{prefix}"),
                reason: "a namespace that is not a string".into(),
            })?;
            let reserved = ["xml", "xmlns", "epcis", "sbdh", "xsi"];
            if reserved.contains(&prefix.as_str())
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(EpcisError::Document {
                    field: format!("@context.{prefix}"),
                    reason: "not a usable XML namespace prefix".into(),
                });
            }
            match prefixes.iter().find(|(known, _)| *known == *prefix) {
                Some((_, known)) if known != uri => {
                    return Err(EpcisError::Document {
                        field: format!("@context.{prefix}"),
                        reason: format!("already means {known}"),
                    });
                }
                Some(_) => {}
                None => prefixes.push((prefix.clone(), uri.to_string())),
            }
        }
    }
    Ok(prefixes)
}

/// An EPCIS 2.0 JSON-LD `EPCISDocument` as an EPCIS 1.2 XML document, with `header` as its
/// `EPCISHeader` if given.
///
/// # Errors
/// [`EpcisError::Document`] for a document that is not an EPCISDocument (or an undeclared or
/// clashing namespace prefix, or a character XML cannot carry); [`EpcisError::Unsupported`] for
/// an event or field EPCIS 1.2 cannot carry; [`EpcisError::Invalid`] for a malformed field.
pub fn to_xml(document: &Value, header: Option<&Header>) -> Result<String, EpcisError> {
    if document["type"] != "EPCISDocument" {
        return Err(EpcisError::Document {
            field: "type".into(),
            reason: "is not `EPCISDocument`".into(),
        });
    }
    let creation = document["creationDate"]
        .as_str()
        .ok_or_else(|| EpcisError::Document {
            field: "creationDate".into(),
            reason: "is required".into(),
        })?;
    let events = document["epcisBody"]["eventList"]
        .as_array()
        .ok_or_else(|| EpcisError::Document {
            field: "epcisBody.eventList".into(),
            reason: "is not a list".into(),
        })?;
    let prefixes = prefixes(document)?;
    let mut root: Vec<(String, String)> = vec![("xmlns:epcis".into(), EPCIS_NS.into())];
    if header.is_some() {
        root.push(("xmlns:sbdh".into(), SBDH_NS.into()));
    }
    for (prefix, uri) in &prefixes {
        root.push((format!("xmlns:{prefix}"), uri.clone()));
    }
    root.push(("schemaVersion".into(), "1.2".into()));
    root.push(("creationDate".into(), creation.into()));
    let attributes: Vec<(&str, &str)> = root
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let mut xml = XmlWriter::new();
    xml.open("epcis:EPCISDocument", &attributes);
    if let Some(header) = header {
        write_header(&mut xml, header);
    }
    xml.open("EPCISBody", &[]);
    xml.open("EventList", &[]);
    for (index, event) in events.iter().enumerate() {
        let at = EventRef {
            index,
            id: event["eventID"].as_str().map(str::to_string),
        };
        let fields = event.as_object().ok_or_else(|| EpcisError::Invalid {
            event: at.clone(),
            field: String::new(),
            reason: "not an object".into(),
        })?;
        Event {
            at,
            fields,
            prefixes: &prefixes,
        }
        .write(&mut xml)?;
    }
    xml.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use serde_json::json;

    use super::*;

    /// Validates `xml` against GS1's EPCIS 1.2 XSD (tests/schemas/epcis-1.2) with Python's
    /// `xmlschema` in the venv scripts/lib/fhir_validator.sh installs; fails with its message.
    pub(crate) fn validate(xml: &str) {
        let python = std::env::var("SALUS_FHIR_PYTHON").unwrap_or_else(|_| {
            format!(
                "{}/.cache/salus/venv/bin/python",
                std::env::var("HOME").unwrap()
            )
        });
        let schema = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/schemas/epcis-1.2/EPCglobal-epcis-1_2.xsd"
        );
        let mut child = Command::new(&python)
            .args([
                "-c",
                "import sys, xmlschema\n\
                 xmlschema.XMLSchema(sys.argv[1]).validate(sys.stdin.buffer)",
                schema,
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("running {python} (scripts/lib/fhir_validator.sh installs it): {error}")
            });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "GS1's EPCIS 1.2 XSD refused the document:\n{}\n{xml}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn document(events: Vec<Value>) -> Value {
        json!({
            "@context": [super::super::EPCIS_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-01-01T08:00:00.000Z",
            "epcisBody": { "eventList": events },
        })
    }

    fn shipping() -> Value {
        json!({
            "type": "TransactionEvent", "eventID": "urn:salus:supply:event:2",
            "eventTime": "2026-01-01T08:00:00.000Z", "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sscc:0614141.0000000001"], "action": "ADD",
            "bizStep": "shipping", "disposition": "in_transit",
            "readPoint": { "id": "urn:epc:id:sgln:0614141.00003.0" },
            "bizTransactionList": [{ "type": "po", "bizTransaction": "urn:salus:document:0xab" }],
            "sourceList": [{ "type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001" }],
            "destinationList": [{ "type": "owning_party",
                                  "destination": "urn:epc:id:pgln:0614141.00002" }],
        })
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(escape_text("a<b>&c\"'"), "a&lt;b&gt;&amp;c\"'");
        assert_eq!(escape_attribute("a<\"'&\n"), "a&lt;&quot;&apos;&amp;&#10;");
        let mut xml = XmlWriter::new();
        xml.leaf("x", &[], "bell \u{7}");
        assert!(matches!(xml.finish(), Err(EpcisError::Document { .. })));
    }

    #[test]
    fn a_transaction_event_is_written_in_the_1_2_order_with_cbv_urns() {
        let xml = to_xml(&document(vec![shipping()]), None).unwrap();
        validate(&xml);
        assert!(xml.contains("<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:1\""));
        assert!(xml.contains("schemaVersion=\"1.2\""));
        let order = [
            "<TransactionEvent>",
            "<eventTime>",
            "<eventTimeZoneOffset>",
            "<baseExtension>",
            "<eventID>urn:salus:supply:event:2</eventID>",
            "<bizTransactionList>",
            "<bizTransaction type=\"urn:epcglobal:cbv:btt:po\">urn:salus:document:0xab</bizTransaction>",
            "<epcList>",
            "<action>ADD</action>",
            "<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>",
            "<disposition>urn:epcglobal:cbv:disp:in_transit</disposition>",
            "<readPoint>",
            "<extension>",
            "<source type=\"urn:epcglobal:cbv:sdt:owning_party\">urn:epc:id:pgln:0614141.00001</source>",
            "<destination type=\"urn:epcglobal:cbv:sdt:owning_party\">",
        ];
        let mut from = 0;
        for piece in order {
            let at = xml[from..]
                .find(piece)
                .unwrap_or_else(|| panic!("{piece} after {from}:\n{xml}"));
            from += at + piece.len();
        }
    }

    #[test]
    fn ilmd_and_lists_of_an_object_event_go_inside_its_extension() {
        let event = json!({
            "type": "ObjectEvent", "eventTime": "2026-01-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00", "action": "ADD", "bizStep": "commissioning",
            "epcList": ["urn:epc:id:sgtin:0312345.067890.S&1"],
            "ilmd": { "cbvmda:lotNumber": "L<1>", "cbvmda:itemExpirationDate": "2030-06-30" },
        });
        let xml = to_xml(&document(vec![event]), None).unwrap();
        validate(&xml);
        assert!(xml.contains("xmlns:cbvmda=\"urn:epcglobal:cbv:mda\""));
        assert!(xml.contains("<epc>urn:epc:id:sgtin:0312345.067890.S&amp;1</epc>"));
        let extension = xml.find("<extension>").unwrap();
        let ilmd = xml.find("<ilmd>").unwrap();
        assert!(extension < ilmd, "{xml}");
        assert!(xml.contains("<cbvmda:lotNumber>L&lt;1&gt;</cbvmda:lotNumber>"));
        assert!(
            !xml.contains("baseExtension"),
            "no id, no declaration: {xml}"
        );
    }

    #[test]
    fn a_transformation_event_sits_in_the_event_list_extension() {
        let event = json!({
            "type": "TransformationEvent", "eventTime": "2026-01-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00", "bizStep": "repackaging", "disposition": "active",
            "inputEPCList": ["urn:epc:id:sgtin:0312345.067890.S1"],
            "outputEPCList": ["urn:epc:id:sgtin:0312345.067891.R1"],
            "ilmd": { "cbvmda:lotNumber": "R" },
        });
        let xml = to_xml(&document(vec![event]), None).unwrap();
        validate(&xml);
        let pieces = [
            "<EventList>",
            "<extension>",
            "<TransformationEvent>",
            "<inputEPCList>",
            "<outputEPCList>",
            "<bizStep>urn:epcglobal:cbv:bizstep:repackaging</bizStep>",
            "<ilmd>",
        ];
        let mut from = 0;
        for piece in pieces {
            from += xml[from..]
                .find(piece)
                .unwrap_or_else(|| panic!("{piece}:\n{xml}"))
                + piece.len();
        }
        assert!(!xml.contains("<action>"));
    }

    #[test]
    fn what_1_2_cannot_carry_is_refused_naming_event_and_field() {
        let mut sensed = shipping();
        sensed["sensorElementList"] = json!([]);
        let error = to_xml(&document(vec![shipping(), sensed]), None).unwrap_err();
        assert!(
            matches!(&error, EpcisError::Unsupported { event, field, .. }
                if event.index == 1 && field == "sensorElementList"),
            "{error}"
        );
        let association = json!({ "type": "AssociationEvent", "eventTime": "2026-01-01T08:00:00Z",
                                  "eventTimeZoneOffset": "+00:00", "action": "ADD" });
        assert!(matches!(
            to_xml(&document(vec![association]), None),
            Err(EpcisError::Unsupported { field, .. }) if field == "type"
        ));
        let mut undeclared = shipping();
        undeclared["x:y"] = json!("z");
        assert!(matches!(
            to_xml(&document(vec![undeclared]), None),
            Err(EpcisError::Invalid { field, .. }) if field == "x:y"
        ));
        let mut bare = shipping();
        bare["bizTransactionList"] = json!([]);
        assert!(matches!(
            to_xml(&document(vec![bare]), None),
            Err(EpcisError::Invalid { field, .. }) if field == "bizTransactionList"
        ));
    }

    #[test]
    fn the_header_carries_the_sbdh_and_master_data() {
        let header = Header {
            sender: Partner {
                authority: "SGLN".into(),
                identifier: "urn:epc:id:sgln:0614141.00001.0".into(),
            },
            receiver: Partner {
                authority: "SGLN".into(),
                identifier: "urn:epc:id:sgln:0614141.00002.0".into(),
            },
            instance_identifier: "shipment-0".into(),
            creation: "2026-01-01T08:00:00Z".into(),
            master_data: vec![Vocabulary {
                vocabulary_type: VTYPE_EPC_CLASS.into(),
                elements: vec![VocabularyElement {
                    id: "urn:epc:idpat:sgtin:0312345.067890.*".into(),
                    attributes: vec![(
                        "urn:epcglobal:cbv:mda#regulatedProductName".into(),
                        "A & B".into(),
                    )],
                }],
            }],
        };
        let mut with_extension = document(vec![shipping()]);
        with_extension["@context"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "gs1ushc": "http://epcis.gs1us.org/hc/ns" }));
        with_extension["epcisBody"]["eventList"][0]["gs1ushc:dscsaTransactionStatement"] =
            json!({ "gs1ushc:affirmTransactionStatement": "true" });
        let xml = to_xml(&with_extension, Some(&header)).unwrap();
        validate(&xml);
        for piece in [
            "xmlns:sbdh=\"http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader\"",
            "xmlns:gs1ushc=\"http://epcis.gs1us.org/hc/ns\"",
            "<sbdh:Identifier Authority=\"SGLN\">urn:epc:id:sgln:0614141.00001.0</sbdh:Identifier>",
            "<Vocabulary type=\"urn:epcglobal:epcis:vtype:EPCClass\">",
            "<attribute id=\"urn:epcglobal:cbv:mda#regulatedProductName\">A &amp; B</attribute>",
            "<gs1ushc:affirmTransactionStatement>true</gs1ushc:affirmTransactionStatement>",
        ] {
            assert!(xml.contains(piece), "{piece}:\n{xml}");
        }
        let header_at = xml.find("<EPCISHeader>").unwrap();
        assert!(header_at < xml.find("<EPCISBody>").unwrap());
    }
}
