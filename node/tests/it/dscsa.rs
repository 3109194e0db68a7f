//! The DSCSA view end to end: a shipment's transaction information, history and statement, in JSON and EPCIS 1.2 XML, against `salus dev`.
//!
//! The manufacturer commissions three units, packs them and sells the case to the wholesaler
//! (shipment 0, PO-1) by EPCIS import; the wholesaler receives it and sells it on to a
//! pharmacy (shipment 1, PO-2). `salus epcis dscsa --shipment 1` then gives the wholesaler's
//! transaction information, the manufacturer's sale as history and the statement; its XML form
//! and a unit's history exported as XML validate against GS1's EPCIS 1.2 XSD. An unknown
//! shipment, and a directory without the buyer, are refused with typed errors naming them.

use std::io::Write;
use std::process::{Command, Stdio};

use salus_client::epcis::import::document_hash;
use serde_json::{Value, json};

use crate::epcis::{
    CASE, GTIN, MAKER_GLN, MAKER_SITE, Party, WHOLESALER_GLN, at, commission_and_pack,
    directory_file, document, maker_entry, register_supply_chain, units, wholesaler_entry, write,
};
use crate::support::{DevProcess, dev_key, ok, printed_json};

const XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/schemas/epcis-1.2/EPCglobal-epcis-1_2.xsd"
);
const PHARMACY_GLN: &str = "0614141000050";
const PO_1: &str = "urn:epcglobal:cbv:bt:0614141000029:PO-1";
const PO_2: &str = "urn:epcglobal:cbv:bt:0614141000050:PO-2";

/// Imports `file` signed by `from`; returns the shipment id of its `ship` call, if any.
fn import(node: &DevProcess, from: &str, directory: &str, file: &str) -> Option<String> {
    let out = printed_json(&node.salus(&[
        "epcis",
        "import",
        file,
        "--from",
        from,
        "--directory",
        directory,
        "--json",
    ]));
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["message"] == "ship")
        .map(|result| match &result["result"] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        })
}

/// Validates `xml` against GS1's EPCIS 1.2 XSD with Python's `xmlschema` in the venv
/// scripts/lib/fhir_validator.sh installs.
fn validate_xml(xml: &str) {
    let python = std::env::var("SALUS_FHIR_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/salus/venv/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    let mut child = Command::new(&python)
        .args([
            "-c",
            "import sys, xmlschema\nxmlschema.XMLSchema(sys.argv[1]).validate(sys.stdin.buffer)",
            XSD,
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
        "GS1's EPCIS 1.2 XSD refused:\n{}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn dscsa_view_of_a_resold_shipment_gives_ti_th_and_ts_in_json_and_valid_epcis_1_2() {
    let node = DevProcess::start(50);
    let dir = node.dir.path();
    let (maker, wholesaler, pharmacy) = (
        dev_key(1).address(),
        dev_key(2).address(),
        dev_key(3).address(),
    );
    register_supply_chain(
        &node,
        &[
            (maker, "Manufacturer", MAKER_GLN, Some("0312345")),
            (wholesaler, "WholesaleDistributor", WHOLESALER_GLN, None),
            (pharmacy, "Dispenser", PHARMACY_GLN, None),
        ],
    );
    let (maker_entry, wholesaler_entry) = (maker_entry(maker), wholesaler_entry(wholesaler));
    let pharmacy_entry: Party = (
        "Corner Pharmacy",
        pharmacy.to_string(),
        PHARMACY_GLN,
        "locations = [\"0614141000067\"]\n",
    );
    let directory = directory_file(
        dir,
        "directory.toml",
        &[
            maker_entry.clone(),
            wholesaler_entry.clone(),
            pharmacy_entry,
        ],
    );
    let (maker_site, case) = (MAKER_SITE, CASE);
    let wholesaler_site = "urn:epc:id:sgln:0614141.00004.0";
    let units = units();
    let po = |id: &str| json!([{ "type": "po", "bizTransaction": id }]);
    let sale = |site: &str, from: &str, to: &str, po_id: &str| {
        at(
            site,
            json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                    "disposition": "in_transit", "epcList": [case],
                    "bizTransactionList": po(po_id),
                    "sourceList": [{ "type": "owning_party", "source": from }],
                    "destinationList": [{ "type": "owning_party", "destination": to }] }),
        )
    };
    let receipt = |site: &str, po_id: &str| {
        at(
            site,
            json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving",
                    "disposition": "in_progress", "epcList": [case],
                    "bizTransactionList": po(po_id) }),
        )
    };
    // Shipment 0: the manufacturer's sale to the wholesaler.
    let mut events = commission_and_pack(&units);
    events.push(sale(
        maker_site,
        "urn:epc:id:pgln:0614141.00001",
        "urn:epc:id:pgln:0614141.00002",
        PO_1,
    ));
    let first = write(dir, "first.jsonld", &document(events));
    let first_id = import(&node, "dev:1", &directory, &first).expect("a sale");
    let received = write(
        dir,
        "received.jsonld",
        &document(vec![receipt(wholesaler_site, PO_1)]),
    );
    assert_eq!(import(&node, "dev:2", &directory, &received), None);
    // Shipment 1: the wholesaler's sale to the pharmacy, not yet received.
    let second = write(
        dir,
        "second.jsonld",
        &document(vec![sale(
            wholesaler_site,
            "urn:epc:id:pgln:0614141.00002",
            "urn:epc:id:pgln:0614141.00005",
            PO_2,
        )]),
    );
    let second_id = import(&node, "dev:2", &directory, &second).expect("a sale");

    // `salus epcis dscsa` of `shipment` with the identity directory at `directory`.
    let dscsa = |shipment: &str, directory: &str, more: &[&str]| {
        let mut arguments = vec![
            "epcis",
            "dscsa",
            "--shipment",
            shipment,
            "--directory",
            directory,
        ];
        arguments.extend(more);
        node.salus(&arguments)
    };
    let view = printed_json(&dscsa(&second_id, &directory, &[]));
    assert_eq!(view["shipment"].to_string(), second_id);
    assert_eq!(view["received"], false);
    let ti = &view["transaction_information"];
    assert_eq!(ti["seller"]["name"], "Wholesaler");
    assert_eq!(ti["seller"]["gln"], WHOLESALER_GLN);
    assert_eq!(ti["seller"]["chain_address"], wholesaler.to_string());
    assert_eq!(ti["buyer"]["name"], "Corner Pharmacy");
    assert_eq!(ti["buyer"]["gln"], PHARMACY_GLN);
    assert_eq!(ti["buyer"]["postal_address"], Value::Null);
    assert_eq!(
        ti["documents"],
        json!([{ "type": "po", "hash": document_hash(PO_2).to_string(),
                 "reference": format!("urn:salus:document:{}", document_hash(PO_2)) }])
    );
    let line = &ti["products"][0];
    assert_eq!(ti["products"].as_array().unwrap().len(), 1);
    assert_eq!(line["gtin"], GTIN);
    assert_eq!(line["ndc"], "12345-678-90");
    assert_eq!(line["name"], "Amoxicillin");
    assert_eq!(line["strength"], "500 mg");
    assert_eq!(line["dosage_form"], "capsule");
    assert_eq!(line["container_size"], "30");
    assert_eq!(line["lot"], "L1");
    assert_eq!(line["expiry"], json!(["2030-06-30"]));
    assert_eq!(line["containers"], 3);
    assert_eq!(line["serials"], json!(["S1", "S2", "S3"]));
    assert_eq!(ti["transaction_date"], ti["shipment_date"]);
    let date = ti["transaction_date"].as_str().unwrap();
    assert!(ti["recorded_at"].as_str().unwrap().starts_with(date));
    // TH: the manufacturer's sale, with its own PO.
    let history = view["transaction_history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{view:#}");
    assert_eq!(history[0]["seller"]["name"], "Maker");
    assert_eq!(history[0]["buyer"]["name"], "Wholesaler");
    assert_eq!(
        history[0]["documents"][0]["hash"],
        document_hash(PO_1).to_string()
    );
    assert_eq!(history[0]["products"][0]["containers"], 3);
    assert_eq!(history[0]["products"][0]["lot"], "L1");
    assert!(history[0]["event"].as_u64().unwrap() < ti["event"].as_u64().unwrap());
    assert_eq!(view["manufacturers"][0]["name"], "Maker");
    // TS: made with the sale, signed by the seller; what the chain checks and what it cannot.
    let ts = &view["transaction_statement"];
    assert_eq!(ts["made"], true);
    assert_eq!(ts["recorded_by"], wholesaler.to_string());
    assert_eq!(ts["event"], ti["event"]);
    let attestations: Vec<&str> = ts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["attestation"].as_str().unwrap())
        .collect();
    assert_eq!(
        attestations,
        [
            "checked_by_contract",
            "checked_by_contract",
            "recorded_on_chain",
            "declared_by_seller",
            "declared_by_seller",
            "checked_by_contract",
            "recorded_on_chain"
        ]
    );
    assert!(
        view["not_held"][0]
            .as_str()
            .unwrap()
            .contains("postal addresses")
    );

    // The XML: the GS1 US guideline's header, the events through the sale, valid EPCIS 1.2.
    let xml_path = dir.join("shipment-1.xml");
    ok(&dscsa(
        &second_id,
        &directory,
        &["--format", "xml", "--out", xml_path.to_str().unwrap()],
    ));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    validate_xml(&xml);
    for piece in [
        "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:1\"",
        "schemaVersion=\"1.2\"",
        "<VocabularyElement id=\"urn:epc:idpat:sgtin:0312345.067890.*\">",
        "<attribute id=\"urn:epcglobal:cbv:mda#regulatedProductName\">Amoxicillin</attribute>",
        "<attribute id=\"urn:epcglobal:cbv:mda#name\">Corner Pharmacy</attribute>",
        "<bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>",
        "<cbvmda:lotNumber>L1</cbvmda:lotNumber>",
        "<gs1ushc:affirmTransactionStatement>true</gs1ushc:affirmTransactionStatement>",
    ] {
        assert!(xml.contains(piece), "{piece}:\n{xml}");
    }
    // The SBDH: from the seller to the buyer, by SGLN.
    let sender = xml.find("<sbdh:Sender>").unwrap();
    let receiver = xml.find("<sbdh:Receiver>").unwrap();
    let wholesaler_sgln =
        xml.find("Authority=\"SGLN\">urn:epc:id:sgln:0614141.00002.0</sbdh:Identifier>");
    let pharmacy_sgln =
        xml.find("Authority=\"SGLN\">urn:epc:id:sgln:0614141.00005.0</sbdh:Identifier>");
    assert!(sender < wholesaler_sgln.unwrap() && wholesaler_sgln.unwrap() < receiver);
    assert!(receiver < pharmacy_sgln.unwrap(), "{xml}");
    let po_2 = format!(
        "<bizTransaction type=\"urn:epcglobal:cbv:btt:po\">urn:salus:document:{}</bizTransaction>",
        document_hash(PO_2)
    );
    assert!(xml.contains(&po_2), "{xml}");
    // Commissioning, packing, the first sale, its receipt, the second sale.
    assert_eq!(xml.matches("<bizStep>").count(), 5, "{xml}");
    assert_eq!(xml.matches("<TransactionEvent>").count(), 3, "{xml}");

    // A unit's history as EPCIS 1.2 XML validates too.
    let history_xml = ok(&node.salus(&[
        "epcis",
        "export",
        "--epc",
        "urn:epc:id:sgtin:0312345.067890.S2",
        "--directory",
        &directory,
        "--format",
        "xml",
    ]));
    validate_xml(&history_xml);
    assert_eq!(history_xml.matches("<bizStep>").count(), 5, "{history_xml}");

    // An unknown shipment: a typed error naming it.
    let unknown = dscsa("99", &directory, &[]);
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("shipment 99 is not on chain"), "{stderr}");

    // A directory without the buyer: refused, naming the role and the address.
    let partial = directory_file(dir, "partial.toml", &[maker_entry, wholesaler_entry]);
    let missing = dscsa(&second_id, &partial, &["--format", "xml"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains(&format!("shipment {second_id}: the buyer"))
            && stderr.contains(&pharmacy.to_string())
            && stderr.contains("not in the identity directory"),
        "{stderr}"
    );
    // The first sale's view needs no pharmacy.
    let first_view = printed_json(&dscsa(&first_id, &partial, &[]));
    assert_eq!(first_view["received"], true);
    assert_eq!(first_view["transaction_history"], json!([]));
    assert_eq!(
        first_view["transaction_statement"]["items"][1]["attestation"],
        "not_applicable"
    );
}
