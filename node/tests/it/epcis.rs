//! A distributor's EPCIS walkthrough through the `salus` command line against `salus dev`: the
//! manufacturer imports the EPCIS 2.0 document that commissions three units, packs them into a
//! case and ships it; the wholesaler imports its receiving event; a unit verifies; its history
//! (and the lot's, and the case's) exports as an EPCIS document that validates against GS1's
//! JSON schema; a document with a feature the contract does not model is refused and changes
//! nothing on chain.

use std::path::Path;

use salus_node::genesis::{DEV_REGISTRY_ADDRESS, DEV_SUPPLY_ADDRESS};
use salus_primitives::Address;
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key, ok, printed_json};

pub(crate) const GTIN: &str = "00312345678906";
const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/schemas/epcis-2.0/EPCIS-JSON-Schema.json"
);
pub(crate) const MAKER_GLN: &str = "0614141000012";
pub(crate) const WHOLESALER_GLN: &str = "0614141000029";
/// The manufacturer's site.
pub(crate) const MAKER_SITE: &str = "urn:epc:id:sgln:0614141.00003.0";
/// The case the three units travel in.
pub(crate) const CASE: &str = "urn:epc:id:sscc:0614141.0000000001";

/// `salus tx call` from `from`, which must succeed.
pub(crate) fn tx(node: &DevProcess, from: &str, contract: &str, message: &str, args: Value) {
    let output = node.salus(&[
        "tx",
        "call",
        "--from",
        from,
        "--contract",
        contract,
        "--message",
        message,
        "--args",
        &args.to_string(),
    ]);
    assert_eq!(printed_json(&output)["status"], "success", "{message}");
}

/// Writes `value` to `name` in `dir`; its path.
pub(crate) fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

/// An EPCIS 2.0 document of `events`.
pub(crate) fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T08:00:00Z",
        "epcisBody": { "eventList": events },
    })
}

/// `event` at `site`, at 08:00 UTC on 1 January 2026.
pub(crate) fn at(site: &str, mut event: Value) -> Value {
    event["eventTime"] = json!("2026-01-01T08:00:00Z");
    event["eventTimeZoneOffset"] = json!("+00:00");
    event["readPoint"] = json!({ "id": site });
    event
}

fn nonce(node: &DevProcess, address: &str) -> Value {
    printed_json(&node.salus(&["query", "account", address]))["nonce"].clone()
}

/// Registers each `(party, role, GLN, company prefix)` with the registry (as `dev:0`) and the
/// manufacturer (`dev:1`) registers the product [`GTIN`].
pub(crate) fn register_supply_chain(
    node: &DevProcess,
    parties: &[(Address, &str, &str, Option<&str>)],
) {
    let registry = DEV_REGISTRY_ADDRESS.to_string();
    for &(who, role, gln, prefix) in parties {
        tx(
            node,
            "dev:0",
            &registry,
            "register",
            json!([
                who.to_string(),
                [role],
                null,
                gln,
                prefix,
                "0",
                "4102444800000",
                format!("0x{}", "11".repeat(32))
            ]),
        );
    }
    tx(
        node,
        "dev:1",
        &DEV_SUPPLY_ADDRESS.to_string(),
        "register_product",
        json!([
            GTIN,
            "12345-678-90",
            "Amoxicillin",
            "500 mg",
            "capsule",
            "30"
        ]),
    );
}

/// An identity directory's party: name, chain address, GLN and the rest of its entry.
pub(crate) type Party = (&'static str, String, &'static str, &'static str);

/// The manufacturer's directory entry: its locations and company prefixes.
pub(crate) fn maker_entry(maker: Address) -> Party {
    (
        "Maker",
        maker.to_string(),
        MAKER_GLN,
        "locations = [\"0614141000036\"]\ncompany_prefixes = [\"0312345\", \"0614141\"]\n",
    )
}

/// The wholesaler's directory entry: its location.
pub(crate) fn wholesaler_entry(wholesaler: Address) -> Party {
    (
        "Wholesaler",
        wholesaler.to_string(),
        WHOLESALER_GLN,
        "locations = [\"0614141000043\"]\n",
    )
}

/// Writes the identity directory of `parties` to `name` in `dir`; its path.
pub(crate) fn directory_file(dir: &Path, name: &str, parties: &[Party]) -> String {
    let mut text = String::new();
    for (party, address, gln, extra) in parties {
        text.push_str(&format!(
            "[[party]]\nname = \"{party}\"\naddress = \"{address}\"\ngln = \"{gln}\"\n{extra}\n"
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The three units' SGTINs (serials S1, S2, S3).
pub(crate) fn units() -> Vec<String> {
    ["S1", "S2", "S3"]
        .iter()
        .map(|serial| format!("urn:epc:id:sgtin:0312345.067890.{serial}"))
        .collect()
}

/// The manufacturer commissions `units` (lot L1, expiring 2030-06-30) and packs them into
/// [`CASE`].
pub(crate) fn commission_and_pack(units: &[String]) -> Vec<Value> {
    vec![
        at(
            MAKER_SITE,
            json!({ "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                    "disposition": "active", "epcList": units,
                    "ilmd": { "cbvmda:lotNumber": "L1",
                              "cbvmda:itemExpirationDate": "2030-06-30" } }),
        ),
        at(
            MAKER_SITE,
            json!({ "type": "AggregationEvent", "action": "ADD", "bizStep": "packing",
                    "parentID": CASE, "childEPCs": units }),
        ),
    ]
}

/// GS1's EPCIS 2.0 JSON schema (draft-07, formats checked), from tests/schemas/epcis-2.0.
pub(crate) fn epcis_schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Fails with every schema error of `document`.
pub(crate) fn assert_schema_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_shipment_in_epcis_is_imported_received_verified_and_exported() {
    let node = DevProcess::start(50);
    let dir = node.dir.path();
    let (maker, wholesaler) = (dev_key(1).address(), dev_key(2).address());
    let supply = DEV_SUPPLY_ADDRESS.to_string();
    register_supply_chain(
        &node,
        &[
            (maker, "Manufacturer", MAKER_GLN, Some("0312345")),
            (wholesaler, "WholesaleDistributor", WHOLESALER_GLN, None),
        ],
    );
    let directory = directory_file(
        dir,
        "directory.toml",
        &[maker_entry(maker), wholesaler_entry(wholesaler)],
    );
    let directory = directory.as_str();
    let (maker_site, case) = (MAKER_SITE, CASE);
    let wholesaler_site = "https://id.gs1.org/414/0614141000043";
    let units = units();
    let po = json!([{ "type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000029:PO-1" }]);
    let mut events = commission_and_pack(&units);
    events.push(at(
        maker_site,
        json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                        "disposition": "in_transit", "epcList": [case],
                        "bizTransactionList": po,
                        "sourceList": [{ "type": "owning_party",
                                         "source": "urn:epc:id:pgln:0614141.00001" }],
                        "destinationList": [{ "type": "owning_party",
                                              "destination": "urn:epc:id:pgln:0614141.00002" }] }),
    ));
    let shipment = write(dir, "shipment.jsonld", &document(events));
    // The dry run prints the calls and submits nothing.
    let planned = printed_json(&node.salus(&[
        "epcis",
        "import",
        &shipment,
        "--from",
        "dev:1",
        "--directory",
        directory,
        "--dry-run",
        "--json",
    ]));
    let messages: Vec<&str> = planned["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["commission", "pack", "ship"]);
    let maker_nonce = nonce(&node, &maker.to_string());
    ok(&node.salus(&[
        "epcis",
        "import",
        &shipment,
        "--from",
        "dev:1",
        "--directory",
        directory,
    ]));
    assert_ne!(nonce(&node, &maker.to_string()), maker_nonce);

    // The wholesaler receives the case, matched by the purchase order.
    let receipt = write(
        dir,
        "receipt.jsonld",
        &document(vec![at(
            wholesaler_site,
            json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
                    "disposition": "in_progress", "epcList": [case], "bizTransactionList": po }),
        )]),
    );
    ok(&node.salus(&[
        "epcis",
        "import",
        &receipt,
        "--from",
        "dev:2",
        "--directory",
        directory,
    ]));

    // The unit verifies.
    let expiry = "1909008000000"; // 2030-06-30T00:00:00Z
    let verified = printed_json(&node.salus(&[
        "call",
        "--contract",
        &supply,
        "--message",
        "verify",
        "--args",
        &json!([GTIN, "S2", "L1", expiry]).to_string(),
    ]));
    assert_eq!(verified["result"]["verified"], true, "{verified}");

    // Its history exports as an EPCIS document GS1's schema accepts.
    let history = dir.join("history.jsonld");
    ok(&node.salus(&[
        "epcis",
        "export",
        "--epc",
        "https://id.gs1.org/01/00312345678906/21/S2",
        "--directory",
        directory,
        "--out",
        history.to_str().unwrap(),
    ]));
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(&history).unwrap()).unwrap();
    let steps: Vec<&str> = exported["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["commissioning", "packing", "shipping", "receiving"]);
    let validator = epcis_schema();
    assert_schema_valid(&validator, &exported);
    // The lot's history (stdout): the same four events, each once, for all three units.
    let lot = printed_json(&node.salus(&[
        "epcis",
        "export",
        "--lot",
        &format!("{GTIN}/L1"),
        "--directory",
        directory,
    ]));
    assert_eq!(lot["epcisBody"]["eventList"].as_array().unwrap().len(), 4);
    assert!(validator.is_valid(&lot));
    // The case's history: the events naming its SSCC, read through the units inside it.
    let case_history =
        printed_json(&node.salus(&["epcis", "export", "--sscc", case, "--directory", directory]));
    let case_steps: Vec<&str> = case_history["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(case_steps, ["packing", "shipping", "receiving"]);
    assert!(validator.is_valid(&case_history));

    // Sensor data is refused: the whole document, naming event and field, and nothing is sent.
    let before = nonce(&node, &maker.to_string());
    let sensed = write(
        dir,
        "sensed.jsonld",
        &document(vec![at(
            maker_site,
            json!({ "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                    "epcList": ["urn:epc:id:sgtin:0312345.067890.S4"],
                    "ilmd": { "cbvmda:lotNumber": "L1",
                              "cbvmda:itemExpirationDate": "2030-06-30" },
                    "sensorElementList": [{ "sensorReport": [{ "type": "Temperature",
                                                               "value": 9.5 }] }] }),
        )]),
    );
    let refused = node.salus(&[
        "epcis",
        "import",
        &sensed,
        "--from",
        "dev:1",
        "--directory",
        directory,
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("event 0") && stderr.contains("sensorElementList"),
        "{stderr}"
    );
    assert_eq!(nonce(&node, &maker.to_string()), before);
    let unit = printed_json(&node.salus(&[
        "call",
        "--contract",
        &supply,
        "--message",
        "unit",
        "--args",
        &json!([GTIN, "S4"]).to_string(),
    ]));
    assert_eq!(unit["result"], Value::Null);
}
