//! GS1 EPCIS 2.0 (JSON-LD) in and out of the supply contract (issue 23, deliverable 5; the
//! mapping is in docs/interop.md).
//!
//! [`import::plan`] reads an EPCISDocument and maps every event, checked whole before anything
//! is sent, to supply-contract calls (message name and JSON arguments, encoded with the
//! contract's ABI by whoever submits them); whatever the contract cannot record is refused with
//! an [`EpcisError`] naming the event and the field — never dropped. [`export`] reads a unit's
//! or a lot's recorded events back from the chain and writes them as an EPCISDocument with the
//! GS1 context. Both read the chain through [`SupplyReader`] (views of the supply contract as
//! JSON) and resolve GS1 identifiers through the party's [`Directory`](crate::directory).
//! [`xml`] writes such a document as EPCIS 1.2 XML; [`dscsa`] builds a shipment's DSCSA
//! transaction information, history and statement, as JSON and as the GS1 US guideline's
//! EPCIS 1.2 document.

pub mod dscsa;
pub mod export;
pub mod import;
pub mod time;
pub mod xml;

use std::fmt;

use serde_json::Value;

use crate::directory::DirectoryError;

pub use export::{ExportError, export_lot, export_unit};
pub use import::{Plan, PlannedCall, plan};

/// The GS1 JSON-LD context every EPCIS 2.0 document names.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Business transactions recorded as a document hash are written back as this URN followed by
/// the `0x` hash, and read as that hash (any other bizTransaction is hashed with keccak256).
pub const DOCUMENT_URN: &str = "urn:salus:document:";

/// Event ids the chain assigned, as `eventID`s: this URN followed by the id.
pub const EVENT_URN: &str = "urn:salus:supply:event:";

/// Business transaction type of a dispensing's prescription handle (no CBV type exists).
pub const RX_TRANSACTION_TYPE: &str = "urn:salus:btt:rx";

/// Read access to the supply contract: a view by message name with JSON arguments, answered
/// as JSON (the ABI's JSON forms: `u64` as decimal strings, `Address` and `Hash` as `0x` hex,
/// `Option` as `null` or the value, enums as `{"Variant": value}`).
pub trait SupplyReader {
    /// Calls view `message` with `arguments` (a JSON array) and returns its result.
    ///
    /// # Errors
    /// A message for whatever failed (the node, the encoding, the view).
    fn view(&self, message: &str, arguments: Value) -> Result<Value, String>;
}

/// Which event of a document: its position in `eventList` (from 0) and its `eventID`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EventRef {
    /// Position in `eventList`, from 0.
    pub index: usize,
    /// Its `eventID`, if it has one.
    pub id: Option<String>,
}

impl fmt::Display for EventRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "event {} ({id})", self.index),
            None => write!(f, "event {}", self.index),
        }
    }
}

/// Why a document is not imported. Nothing is submitted when any event fails.
#[derive(Debug, thiserror::Error)]
pub enum EpcisError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// Not an EPCIS 2.0 document this adapter reads (the document's own fields).
    #[error("not an EPCIS 2.0 document: `{field}` {reason}")]
    Document {
        /// The document-level field.
        field: String,
        /// Why.
        reason: String,
    },
    /// Something the supply contract does not model: refused, not dropped.
    #[error("{event}: `{field}` is refused: {reason}")]
    Unsupported {
        /// The event.
        event: EventRef,
        /// The field (a JSON path inside the event).
        field: String,
        /// Why the contract cannot record it.
        reason: String,
    },
    /// A malformed value: a bad identifier, date or shape.
    #[error("{event}: `{field}` is invalid: {reason}")]
    Invalid {
        /// The event.
        event: EventRef,
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// An identifier the party's directory does not hold.
    #[error("{event}: `{field}`: {source}")]
    Unresolved {
        /// The event.
        event: EventRef,
        /// The field naming it.
        field: String,
        /// The directory's answer.
        source: DirectoryError,
    },
    /// The event does not fit what the chain holds (no shipment to receive, a case's contents
    /// differ) or the chain could not be read.
    #[error("{event}: {reason}")]
    Chain {
        /// The event.
        event: EventRef,
        /// Why.
        reason: String,
    },
    /// The importing key is not a party of the directory.
    #[error("the importing party: {0}")]
    Sender(DirectoryError),
}

/// A CBV vocabulary value in its bare form: `shipping` for `shipping`,
/// `urn:epcglobal:cbv:bizstep:shipping` or `https://ref.gs1.org/cbv/BizStep-shipping`.
/// `kind` is the URN's vocabulary (`bizstep`, `disp`, `btt`, `sdt`, `er`) and `web` the Web
/// vocabulary's prefix (`BizStep`, `Disp`, `BTT`, `SDT`, `ER`).
pub(crate) fn bare_vocabulary<'a>(value: &'a str, kind: &str, web: &str) -> &'a str {
    if let Some(rest) = value
        .strip_prefix("urn:epcglobal:cbv:")
        .and_then(|rest| rest.strip_prefix(kind))
        .and_then(|rest| rest.strip_prefix(':'))
    {
        return rest;
    }
    for base in [
        "https://ref.gs1.org/cbv/",
        "https://gs1.org/voc/",
        "http://gs1.org/voc/",
    ] {
        if let Some(rest) = value
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix(web))
            .and_then(|rest| rest.strip_prefix('-'))
        {
            return rest;
        }
    }
    value
}
