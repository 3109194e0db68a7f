//! The EPCIS record: every transition is one stored event (what, when, where, why), indexed
//! per unit so that a unit's history back to commissioning is a query, and emitted with its
//! bizStep as topic. Errors are corrected by appended error declarations, never by editing.

use salus_sdk::prelude::*;

use crate::SupplyError;
use crate::storage::*;
use crate::units::*;

/// What a shipment carries: units and cases.
#[data]
pub enum Epc {
    /// An SGTIN.
    Unit(String, String),
    /// An SSCC.
    Case(String),
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

pub(crate) fn next_event_id() -> u64 {
    let id = NEXT_EVENT.get().unwrap_or(0);
    NEXT_EVENT.set(&(id + 1));
    id
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn record_event(
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

pub(crate) fn touch(key: &(String, String), unit: &mut Unit, event: u64) {
    unit.last_event = event;
    UNITS.insert(key, unit);
    HISTORY.insert(&(key.0.clone(), key.1.clone(), event.to_be_bytes()), &());
}

/// The body of [`Supply::declare_error`](crate::Supply::declare_error).
pub(crate) fn declare_error(event: u64, reason: String) -> Result<u64, SupplyError> {
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

/// The body of [`Supply::history`](crate::Supply::history).
pub(crate) fn history(gtin: String, serial: String) -> Vec<EpcisEvent> {
    let (entries, _) = HISTORY.page_under(&(gtin, serial), None, 100);
    entries
        .into_iter()
        .filter_map(|((_, _, id), ())| EVENTS.get(&u64::from_be_bytes(id)))
        .collect()
}
