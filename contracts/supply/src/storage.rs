//! Where the supply contract keeps its state: every storage handle, with its key layout.
//! Prefixes are unique across the contract; changing one moves the data it names.

use salus_sdk::prelude::*;

use crate::types::*;

pub(crate) const REGISTRY: Value<Address> = Value::new(b"registry");
pub(crate) const NEXT_EVENT: Value<u64> = Value::new(b"next_event");
pub(crate) const NEXT_SHIPMENT: Value<u64> = Value::new(b"next_shipment");
pub(crate) const NEXT_CASE: Value<u64> = Value::new(b"next_case");
pub(crate) const PRODUCTS: Map<String, Product> = Map::new(b"p/");
pub(crate) const UNITS: Map<(String, String), Unit> = Map::new(b"u/");
/// (gtin, lot, serial) → (): every unit of a lot.
pub(crate) const LOTS: Map<(String, String, String), ()> = Map::new(b"l/");
/// (gtin, lot) → what holds for the whole lot.
pub(crate) const LOT_STATE: Map<(String, String), Lot> = Map::new(b"lt/");
pub(crate) const CONTAINERS: Map<String, Container> = Map::new(b"c/");
pub(crate) const SHIPMENTS: Map<u64, Shipment> = Map::new(b"s/");
pub(crate) const EVENTS: Map<u64, EpcisEvent> = Map::new(b"e/");
/// (gtin, serial, event id big-endian) → (): each unit's history.
pub(crate) const HISTORY: Map<(String, String, [u8; 8]), ()> = Map::new(b"h/");
pub(crate) const PRESCRIPTIONS: Map<Hash, Prescription> = Map::new(b"rx/");
pub(crate) const CASES: Map<u64, Investigation> = Map::new(b"i/");
/// (gtin, lot) → the recall of that lot.
pub(crate) const RECALLS: Map<(String, String), Recall> = Map::new(b"r/");
/// Erroneous event id → the id of the error declaration that corrects it.
pub(crate) const DECLARED: Map<u64, u64> = Map::new(b"d/");
/// Shipment id → the discrepancy its receipt recorded.
pub(crate) const DISCREPANCIES: Map<u64, Discrepancy> = Map::new(b"x/");
pub(crate) const NEXT_REFUSAL: Value<u64> = Value::new(b"next_refusal");
/// Refusal id → a refused dispense.
pub(crate) const REFUSALS: Map<u64, DispenseRefusal> = Map::new(b"rf/");
pub(crate) const NEXT_VERIFICATION: Value<u64> = Value::new(b"next_verification");
/// (gtin, serial, verification id big-endian) → a recorded verification of that serial.
pub(crate) const VERIFICATIONS: Map<(String, String, [u8; 8]), VerificationRecord> =
    Map::new(b"v/");
/// (gtin, serial) of a repackaged output → the TransformationEvent that made it.
pub(crate) const LINEAGE: Map<(String, String), u64> = Map::new(b"tf/");
pub(crate) const NEXT_SALE: Value<u64> = Value::new(b"next_sale");
/// Sale id → a sale of goods a third-party logistics provider holds for their owner.
pub(crate) const SALES: Map<u64, Sale> = Map::new(b"sa/");
/// (gtin, serial) → the sale not yet dispatched that the unit is part of.
pub(crate) const PENDING_SALES: Map<(String, String), u64> = Map::new(b"ps/");
