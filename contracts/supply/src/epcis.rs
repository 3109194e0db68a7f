//! The EPCIS record: every transition is one stored event (what, when, where, why), indexed
//! per unit so that a unit's history back to commissioning is a query, and emitted with its
//! bizStep as topic. Errors are corrected by appended error declarations, never by editing.

use salus_sdk::prelude::*;

use crate::storage::{DECLARED, EVENTS, HISTORY, NEXT_EVENT, UNITS};
use crate::types::*;

pub(crate) fn next_event_id() -> u64 {
    let id = NEXT_EVENT.get().unwrap_or(0);
    NEXT_EVENT.set(&(id + 1));
    id
}

/// An EPCIS event recorded now by the caller, without possessing parties (see [`record`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn event(
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
) -> EpcisEvent {
    EpcisEvent {
        id,
        event_type: event_type.into(),
        action: action.into(),
        epcs,
        transformation: None,
        parent,
        biz_step: biz_step.into(),
        disposition: disposition.into(),
        location,
        biz_transactions,
        source,
        destination,
        custody: None,
        event_time_ms: block_timestamp_ms(),
        recorded_by: caller(),
        corrects: None,
        error_reason: None,
    }
}

/// Every EPC `event` names: its EPC list, or a TransformationEvent's inputs then outputs.
pub(crate) fn named_epcs(event: &EpcisEvent) -> Vec<Epc> {
    let mut epcs = event.epcs.clone();
    if let Some(transformation) = &event.transformation {
        epcs.extend(transformation.inputs.iter().cloned());
        epcs.extend(transformation.outputs.iter().cloned());
    }
    epcs
}

/// Stores `event` under its id and emits it with its bizStep as topic and every EPC it names.
pub(crate) fn record(event: EpcisEvent) {
    EVENTS.insert(&event.id, &event);
    let epcs = if event.transformation.is_some() {
        named_epcs(&event)
    } else {
        event.epcs
    };
    Epcis {
        biz_step: event.biz_step,
        id: event.id,
        epcs,
    }
    .emit();
}

/// Records the event [`event`] builds.
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
    record(event(
        id,
        event_type,
        action,
        epcs,
        parent,
        biz_step,
        disposition,
        location,
        biz_transactions,
        source,
        destination,
    ));
}

pub(crate) fn touch(key: &(String, String), unit: &mut Unit, event: u64) {
    unit.last_event = event;
    UNITS.insert(key, unit);
    HISTORY.insert(&(key.0.clone(), key.1.clone(), event.to_be_bytes()), &());
}

/// Stores `unit` (at `key`) as observed by a new ObjectEvent OBSERVE at `location`, with
/// `(biz_step, disposition)`, and records the event.
pub(crate) fn observe_unit(
    key: (String, String),
    unit: &mut Unit,
    (biz_step, disposition): (&str, &str),
    location: String,
    biz_transactions: Vec<(String, Hash)>,
    destination: Option<Address>,
) {
    let id = next_event_id();
    touch(&key, unit, id);
    let (gtin, serial) = key;
    record_event(
        id,
        "ObjectEvent",
        "OBSERVE",
        Vec::from([Epc::Unit(gtin, serial)]),
        None,
        biz_step,
        disposition,
        location,
        biz_transactions,
        None,
        destination,
    );
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
    let named = named_epcs(&original);
    for epc in &named {
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
        epcs: named,
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
