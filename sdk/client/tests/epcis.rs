//! EPCIS 2.0 import and export against the real supply and registry contracts in the test kit:
//! documents written here in the standard's shapes (EPC URNs and GS1 Digital Link URIs), every
//! supported event type, every refused feature with its typed error, the identity directory,
//! the export validated against GS1's JSON schema, and the import → export → import round trip.

use parity_scale_codec::{Decode, Encode, Input, Output};
use salus_client::ContractAbi;
use salus_client::directory::{Directory, DirectoryError, Party, ReferenceKind};
use salus_client::epcis::{self, EpcisError, Plan, SupplyReader};
use salus_client::gs1::{self, Identifier, check_digit};
use salus_primitives::Address;
use salus_testkit::TestChain;
use serde_json::{Value, json};

const GTIN: &str = "00312345678906";
const NDC: &str = "12345-678-90";
const MAKER_PREFIX: &str = "0312345";
const GLN_PREFIX: &str = "0614141";
const MAKER_GLN: &str = "0614141000012";
const WHOLESALER_GLN: &str = "0614141000029";
const MAKER_SITE: &str = "0614141000036";
const WHOLESALER_SITE: &str = "0614141000043";
const LOGISTICS_GLN: &str = "0614141000050";
const LOGISTICS_SITE: &str = "0614141000067";
const REPACKAGER_PREFIX: &str = "0398765";
const REPACKAGED_GTIN: &str = "00398765432106";
const REPACKAGER_GLN: &str = "0614141000074";
const REPACKAGER_SITE: &str = "0614141000081";
const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/schemas/epcis-2.0");

/// Return data taken whole.
struct Raw(Vec<u8>);

impl Decode for Raw {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let length = input
            .remaining_len()?
            .ok_or("the input's length is unknown")?;
        let mut bytes = vec![0; length];
        input.read(&mut bytes)?;
        Ok(Raw(bytes))
    }
}

/// Arguments already encoded.
struct Encoded(Vec<u8>);

impl Encode for Encoded {
    fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.0);
    }
}

struct World {
    chain: TestChain,
    supply_abi: ContractAbi,
    supply: Address,
    maker: Address,
    wholesaler: Address,
    logistics: Address,
    repackager: Address,
    directory: Directory,
}

/// The supply contract's views over the test chain, as JSON through its ABI.
struct Reader<'a>(&'a World);

impl SupplyReader for Reader<'_> {
    fn view(&self, message: &str, arguments: Value) -> Result<Value, String> {
        let world = self.0;
        let input = world
            .supply_abi
            .encode_call(message, &arguments)
            .map_err(|error| error.to_string())?;
        let Raw(data) = world.chain.view(
            Address::default(),
            world.supply,
            message,
            &Encoded(input[4..].to_vec()),
        );
        world
            .supply_abi
            .decode_result(message, &data)
            .map_err(|error| error.to_string())
    }
}

fn register(chain: &mut TestChain, abi: &ContractAbi, registry: Address, row: Value) {
    let authority = chain.account(0);
    let input = abi.encode_call("register", &row).unwrap();
    assert!(chain.call_raw(authority, registry, input).is_success());
}

fn world() -> World {
    let mut chain = TestChain::new();
    let authority = chain.account(0);
    let registry_abi = ContractAbi::from_wasm(salus_contracts::REGISTRY).unwrap();
    let supply_abi = ContractAbi::from_wasm(salus_contracts::SUPPLY).unwrap();
    let registry = chain
        .deploy(authority, salus_contracts::REGISTRY, "new", &authority)
        .unwrap();
    let supply = chain
        .deploy(authority, salus_contracts::SUPPLY, "new", &registry)
        .unwrap();
    let maker = chain.new_account(10u128.pow(20));
    let wholesaler = chain.new_account(10u128.pow(20));
    let logistics = chain.new_account(10u128.pow(20));
    let repackager = chain.new_account(10u128.pow(20));
    let until = (chain.timestamp_ms() + 3650 * 86_400_000).to_string();
    let evidence = format!("0x{}", "01".repeat(32));
    register(
        &mut chain,
        &registry_abi,
        registry,
        json!([
            maker.to_string(),
            ["Manufacturer"],
            null,
            MAKER_GLN,
            MAKER_PREFIX,
            "0",
            until,
            evidence
        ]),
    );
    register(
        &mut chain,
        &registry_abi,
        registry,
        json!([
            wholesaler.to_string(),
            ["WholesaleDistributor"],
            null,
            WHOLESALER_GLN,
            null,
            "0",
            until,
            evidence
        ]),
    );
    register(
        &mut chain,
        &registry_abi,
        registry,
        json!([
            logistics.to_string(),
            ["ThirdPartyLogistics"],
            null,
            LOGISTICS_GLN,
            null,
            "0",
            until,
            evidence
        ]),
    );
    register(
        &mut chain,
        &registry_abi,
        registry,
        json!([
            repackager.to_string(),
            ["Repackager"],
            null,
            REPACKAGER_GLN,
            REPACKAGER_PREFIX,
            "0",
            until,
            evidence
        ]),
    );
    let repackaged = supply_abi
        .encode_call(
            "register_product",
            &json!([
                REPACKAGED_GTIN,
                "98765-432-10",
                "Amoxicillin",
                "500 mg",
                "capsule",
                "10"
            ]),
        )
        .unwrap();
    assert!(chain.call_raw(repackager, supply, repackaged).is_success());
    let product = supply_abi
        .encode_call(
            "register_product",
            &json!([GTIN, NDC, "Amoxicillin", "500 mg", "capsule", "30"]),
        )
        .unwrap();
    assert!(chain.call_raw(maker, supply, product).is_success());
    let directory = Directory::new(
        vec![
            party(
                "Maker",
                maker,
                MAKER_GLN,
                MAKER_SITE,
                &[MAKER_PREFIX, GLN_PREFIX],
            ),
            party(
                "Wholesaler",
                wholesaler,
                WHOLESALER_GLN,
                WHOLESALER_SITE,
                &[],
            ),
            party("Logistics", logistics, LOGISTICS_GLN, LOGISTICS_SITE, &[]),
            party(
                "Repackager",
                repackager,
                REPACKAGER_GLN,
                REPACKAGER_SITE,
                &[REPACKAGER_PREFIX],
            ),
        ],
        Vec::new(),
    )
    .unwrap();
    World {
        chain,
        supply_abi,
        supply,
        maker,
        wholesaler,
        logistics,
        repackager,
        directory,
    }
}

fn party(name: &str, address: Address, gln: &str, site: &str, prefixes: &[&str]) -> Party {
    Party {
        name: name.into(),
        address,
        gln: Some(gln.into()),
        locations: vec![site.into()],
        company_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        npi: None,
        fhir: Vec::new(),
    }
}

impl World {
    fn plan(&self, document: &Value, sender: Address) -> Result<Plan, EpcisError> {
        epcis::plan(
            &document.to_string(),
            &self.directory,
            sender,
            &Reader(self),
        )
    }

    /// Submits every call of `plan`, each one a transaction that must succeed.
    fn apply(&mut self, plan: &Plan) {
        for call in &plan.calls {
            let input = self
                .supply_abi
                .encode_call(&call.message, &call.arguments)
                .unwrap();
            let result = self.chain.call_raw(plan.sender, self.supply, input);
            assert!(
                result.is_success(),
                "{} ({}) failed: {:?}",
                call.event,
                call.message,
                result.receipt.status
            );
        }
    }

    fn import(&mut self, document: &Value, sender: Address) -> Plan {
        let plan = self.plan(document, sender).unwrap();
        self.apply(&plan);
        plan
    }

    fn export_unit(&self, serial: &str) -> Value {
        epcis::export_unit(
            &Reader(self),
            &self.directory,
            GTIN,
            serial,
            1_767_225_600_000,
        )
        .unwrap()
    }

    fn view(&self, message: &str, arguments: Value) -> Value {
        Reader(self).view(message, arguments).unwrap()
    }
}

// ---- documents in the standard's shapes ----

fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T08:00:00.000Z",
        "epcisBody": { "eventList": events },
    })
}

fn sgtin(serial: &str) -> String {
    format!("urn:epc:id:sgtin:{MAKER_PREFIX}.067890.{serial}")
}

fn sgtin_link(serial: &str) -> String {
    format!("https://id.gs1.org/01/{GTIN}/21/{serial}")
}

fn sscc(reference: &str) -> String {
    format!("urn:epc:id:sscc:{GLN_PREFIX}.{reference}")
}

fn sgln(gln: &str) -> String {
    format!("urn:epc:id:sgln:{}.{}.0", &gln[..7], &gln[7..12])
}

fn pgln(gln: &str) -> String {
    format!("urn:epc:id:pgln:{}.{}", &gln[..7], &gln[7..12])
}

fn event(kind: &str, action: Option<&str>, step: &str, site: &str, extra: Value) -> Value {
    let mut event = json!({
        "type": kind,
        "eventTime": "2026-01-01T08:00:00.000Z",
        "eventTimeZoneOffset": "-05:00",
        "bizStep": step,
        "readPoint": { "id": sgln(site) },
    });
    if let Some(action) = action {
        event["action"] = json!(action);
    }
    for (key, value) in extra.as_object().unwrap() {
        event[key] = value.clone();
    }
    event
}

fn commissioning(serials: &[&str]) -> Value {
    event(
        "ObjectEvent",
        Some("ADD"),
        "commissioning",
        MAKER_SITE,
        json!({
            "epcList": serials.iter().map(|s| sgtin(s)).collect::<Vec<_>>(),
            "disposition": "active",
            "bizLocation": { "id": sgln(MAKER_SITE) },
            "ilmd": { "cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2028-06-30" },
        }),
    )
}

fn packing(case: &str, serials: &[&str]) -> Value {
    event(
        "AggregationEvent",
        Some("ADD"),
        "packing",
        MAKER_SITE,
        json!({
            "parentID": sscc(case),
            "childEPCs": serials.iter().map(|s| sgtin_link(s)).collect::<Vec<_>>(),
            "disposition": "in_progress",
        }),
    )
}

const PO: &str = "urn:epcglobal:cbv:bt:0614141000029:PO-4711";
const INVOICE: &str = "urn:epcglobal:cbv:bt:0614141000012:INV-0815";

fn shipping(case: &str) -> Value {
    event(
        "ObjectEvent",
        Some("OBSERVE"),
        "urn:epcglobal:cbv:bizstep:shipping",
        MAKER_SITE,
        json!({
            "epcList": [sscc(case)],
            "disposition": "urn:epcglobal:cbv:disp:in_transit",
            "bizTransactionList": [
                { "type": "po", "bizTransaction": PO },
                { "type": "urn:epcglobal:cbv:btt:inv", "bizTransaction": INVOICE },
            ],
            "sourceList": [{ "type": "owning_party", "source": pgln(MAKER_GLN) }],
            "destinationList": [
                { "type": "owning_party", "destination": pgln(WHOLESALER_GLN) },
                { "type": "possessing_party", "destination": pgln(WHOLESALER_GLN) },
            ],
        }),
    )
}

fn receiving(case: &str) -> Value {
    event(
        "ObjectEvent",
        Some("OBSERVE"),
        "https://ref.gs1.org/cbv/BizStep-receiving",
        WHOLESALER_SITE,
        json!({
            "epcList": [sscc(case)],
            "disposition": "in_progress",
            "bizTransactionList": [{ "type": "po", "bizTransaction": PO }],
            "sourceList": [{ "type": "owning_party", "source": pgln(MAKER_GLN) }],
            "destinationList": [{ "type": "owning_party", "destination": pgln(WHOLESALER_GLN) }],
        }),
    )
}

/// The manufacturer's shipment: three units commissioned, packed into a case, shipped.
fn shipment_document() -> Value {
    document(vec![
        commissioning(&["S1", "S2", "S3"]),
        packing("0000000001", &["S1", "S2", "S3"]),
        shipping("0000000001"),
    ])
}

// ---- identifiers ----

#[test]
fn epc_urns_and_digital_links_name_the_same_keys() {
    let unit = Identifier::Sgtin {
        gtin: GTIN.into(),
        serial: "A/1".into(),
    };
    assert_eq!(
        gs1::parse("urn:epc:id:sgtin:0312345.067890.A%2F1").unwrap(),
        unit
    );
    assert_eq!(
        gs1::parse("https://id.gs1.org/01/00312345678906/21/A%2F1").unwrap(),
        unit
    );
    // A GTIN-13 in a Digital Link on any resolver is the GTIN-14 with a leading zero.
    assert_eq!(
        gs1::parse("https://example.com/01/0312345678906/21/A%2F1").unwrap(),
        unit
    );
    assert_eq!(
        unit.render([MAKER_PREFIX]),
        "urn:epc:id:sgtin:0312345.067890.A%2F1"
    );
    assert_eq!(
        unit.render(["9999999"]),
        "https://id.gs1.org/01/00312345678906/21/A%2F1"
    );
    let case = format!("0{GLN_PREFIX}000000001");
    let case = format!("{case}{}", check_digit(&case));
    assert_eq!(
        gs1::parse(&sscc("0000000001")).unwrap(),
        Identifier::Sscc(case.clone())
    );
    assert_eq!(
        gs1::parse(&format!("https://id.gs1.org/00/{case}")).unwrap(),
        Identifier::Sscc(case)
    );
    assert_eq!(
        gs1::parse("urn:epc:id:sgln:0614141.00003.0").unwrap(),
        Identifier::Sgln {
            gln: MAKER_SITE.into(),
            extension: None
        }
    );
    assert_eq!(
        gs1::parse("https://id.gs1.org/414/0614141000036/254/dock-2").unwrap(),
        Identifier::Sgln {
            gln: MAKER_SITE.into(),
            extension: Some("dock-2".into())
        }
    );
    assert_eq!(
        gs1::parse("urn:epc:id:pgln:0614141.00001").unwrap(),
        Identifier::Pgln(MAKER_GLN.into())
    );
    assert_eq!(
        gs1::parse("urn:epc:class:lgtin:0312345.067890.L1").unwrap(),
        Identifier::Lgtin {
            gtin: GTIN.into(),
            lot: "L1".into()
        }
    );
    for bad in [
        "https://id.gs1.org/01/00312345678907/21/S1",
        "https://id.gs1.org/01/00312345678906/21/S1?17=280630",
        "urn:epc:id:sgtin:0312345.06789.S1",
        "urn:epc:id:grai:0614141.12345.1",
        "S1",
    ] {
        assert!(gs1::parse(bad).is_err(), "{bad}");
    }
}

// ---- the identity directory ----

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("salus-epcis-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_directory_loads_from_toml_or_json_and_names_what_it_cannot_resolve() {
    let address = "0x00000000000000000000000000000000000000aa";
    let toml = temp_file(
        "directory.toml",
        &format!(
            "[[party]]\nname = \"Maker\"\naddress = \"{address}\"\ngln = \"urn:epc:id:pgln:0614141.00001\"\n\
             locations = [\"https://id.gs1.org/414/0614141000036/254/dock-2\"]\n\
             company_prefixes = [\"0312345\"]\nnpi = \"1234567893\"\nfhir = [\"Organization/maker\"]\n\n\
             [[patient]]\nreference = \"Patient/7\"\npseudonym = \"{address}\"\n"
        ),
    );
    let directory = Directory::load(&toml).unwrap();
    let maker: Address = address.parse().unwrap();
    assert_eq!(directory.party_by_gln(MAKER_GLN).unwrap().address, maker);
    assert_eq!(
        directory.party_at("0614141000036.dock-2").unwrap().address,
        maker
    );
    assert_eq!(directory.party_by_npi("1234567893").unwrap().address, maker);
    assert_eq!(directory.resolve_fhir("Organization/maker").unwrap(), maker);
    assert_eq!(directory.resolve_fhir("Patient/7").unwrap(), maker);
    match directory.resolve_fhir("Practitioner/unknown") {
        Err(DirectoryError::Unresolved { kind, reference }) => {
            assert_eq!(kind, ReferenceKind::Fhir);
            assert_eq!(reference, "Practitioner/unknown");
        }
        other => panic!("{other:?}"),
    }
    let error = directory.party_at(WHOLESALER_SITE).unwrap_err();
    assert!(error.to_string().contains(WHOLESALER_SITE), "{error}");
    let json_file = temp_file(
        "directory.json",
        &format!(r#"{{"party": [{{"address": "{address}", "gln": "{MAKER_GLN}"}}]}}"#),
    );
    assert!(Directory::load(&json_file).is_ok());
    let broken = temp_file("broken.toml", "[[party]]\naddress = 7\n");
    assert!(matches!(
        Directory::load(&broken),
        Err(DirectoryError::Syntax { format: "TOML", .. })
    ));
    let bad_gln = temp_file(
        "bad.json",
        &format!(r#"{{"party": [{{"address": "{address}", "gln": "0614141000013"}}]}}"#),
    );
    assert!(matches!(
        Directory::load(&bad_gln),
        Err(DirectoryError::Invalid { .. })
    ));
    assert!(matches!(
        Directory::load(std::path::Path::new("/nonexistent/directory.toml")),
        Err(DirectoryError::Io { .. })
    ));
    for path in [toml, json_file, broken, bad_gln] {
        let _ = std::fs::remove_file(path);
    }
}

// ---- import: the supported events ----

#[test]
fn a_shipment_imports_as_commission_pack_and_ship_and_the_receiver_receives_it() {
    let mut world = world();
    let maker = world.maker;
    let plan = world.import(&shipment_document(), maker);
    let messages: Vec<&str> = plan
        .calls
        .iter()
        .map(|call| call.message.as_str())
        .collect();
    assert_eq!(messages, ["commission", "pack", "ship"]);
    // The chain assigns times: the document's are reported, not carried.
    assert_eq!(
        plan.replaced
            .iter()
            .filter(|replaced| replaced.field == "eventTime")
            .count(),
        3
    );
    assert_eq!(
        plan.calls[2].arguments[1],
        json!(world.wholesaler.to_string())
    );
    let wholesaler = world.wholesaler;
    let received = world.import(&document(vec![receiving("0000000001")]), wholesaler);
    assert_eq!(received.calls[0].message, "receive");
    let unit = world.view("unit", json!([GTIN, "S2"]));
    assert_eq!(unit["owner"], json!(wholesaler.to_string()));
    assert_eq!(unit["location"], json!(WHOLESALER_SITE));
    let expiry = epcis::time::parse_date("2028-06-30").unwrap().to_string();
    let verification = world.view("verify", json!([GTIN, "S2", "L1", expiry]));
    assert_eq!(verification["verified"], json!(true));
}

#[test]
fn unpacking_holding_releasing_decommissioning_and_destroying_map_to_their_calls() {
    let mut world = world();
    let maker = world.maker;
    let site = MAKER_SITE;
    let units = |serials: &[&str]| serials.iter().map(|s| sgtin(s)).collect::<Vec<_>>();
    let plan = world.import(
        &document(vec![
            commissioning(&["S1", "S2", "S3"]),
            packing("0000000002", &["S1", "S2"]),
            event(
                "AggregationEvent",
                Some("DELETE"),
                "unpacking",
                site,
                json!({ "parentID": sscc("0000000002"), "childEPCs": units(&["S2", "S1"]),
                        "disposition": "sellable_accessible" }),
            ),
            event(
                "ObjectEvent",
                Some("OBSERVE"),
                "holding",
                site,
                json!({ "epcList": units(&["S1"]), "disposition": "non_sellable_other" }),
            ),
            event(
                "ObjectEvent",
                Some("OBSERVE"),
                "holding",
                site,
                json!({ "epcList": units(&["S1"]), "disposition": "sellable_accessible" }),
            ),
            event(
                "ObjectEvent",
                Some("DELETE"),
                "decommissioning",
                site,
                json!({ "epcList": units(&["S2"]), "disposition": "inactive" }),
            ),
            event(
                "ObjectEvent",
                Some("DELETE"),
                "destroying",
                site,
                json!({ "epcList": units(&["S3"]), "disposition": "destroyed" }),
            ),
        ]),
        maker,
    );
    let messages: Vec<&str> = plan
        .calls
        .iter()
        .map(|call| call.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "commission",
            "pack",
            "unpack",
            "hold",
            "release",
            "decommission",
            "destroy"
        ]
    );
    assert_eq!(
        world.view("unit", json!([GTIN, "S1"]))["disposition"],
        "SellableAccessible"
    );
    assert_eq!(
        world.view("unit", json!([GTIN, "S2"]))["disposition"],
        "Inactive"
    );
    assert_eq!(
        world.view("unit", json!([GTIN, "S3"]))["disposition"],
        "Destroyed"
    );
    // Each unit's history exports and validates.
    for serial in ["S1", "S2", "S3"] {
        assert_valid(&world.export_unit(serial));
    }
}

#[test]
fn repackaging_is_a_transformation_event_with_inputs_outputs_and_the_new_lot() {
    let mut world = world();
    let (maker, repackager) = (world.maker, world.repackager);
    let po = json!([{ "type": "po", "bizTransaction": PO }]);
    let mut sale = event(
        "TransactionEvent",
        Some("ADD"),
        "shipping",
        MAKER_SITE,
        json!({ "epcList": [sgtin("S1"), sgtin("S2")], "bizTransactionList": po,
                "destinationList": [{ "type": "owning_party", "destination": pgln(REPACKAGER_GLN) }] }),
    );
    sale["disposition"] = json!("in_transit");
    world.import(&document(vec![commissioning(&["S1", "S2"]), sale]), maker);
    let receipt = event(
        "TransactionEvent",
        Some("ADD"),
        "receiving",
        REPACKAGER_SITE,
        json!({ "epcList": [sgtin_link("S2"), sgtin_link("S1")], "bizTransactionList": po }),
    );
    world.import(&document(vec![receipt]), repackager);
    let output = format!("urn:epc:id:sgtin:{REPACKAGER_PREFIX}.043210.R1");
    let transformation = event(
        "TransformationEvent",
        None,
        "repackaging",
        REPACKAGER_SITE,
        json!({
            "inputEPCList": [sgtin("S1"), sgtin("S2")],
            "outputEPCList": [output],
            "disposition": "active",
            "ilmd": { "cbvmda:lotNumber": "R-L1", "cbvmda:itemExpirationDate": "2028-01-31" },
        }),
    );
    let plan = world.import(&document(vec![transformation]), repackager);
    assert_eq!(
        plan.calls[0].arguments,
        json!([
            [{ "Unit": [GTIN, "S1"] }, { "Unit": [GTIN, "S2"] }],
            REPACKAGED_GTIN,
            "R-L1",
            epcis::time::parse_date("2028-01-31").unwrap().to_string(),
            ["R1"],
            REPACKAGER_SITE
        ])
    );
    assert_eq!(
        world.view("lineage", json!([REPACKAGED_GTIN, "R1"])),
        json!([{ "Unit": [GTIN, "S1"] }, { "Unit": [GTIN, "S2"] }])
    );
    // The output's history starts with the TransformationEvent, exported with the new lot.
    let exported =
        epcis::export_unit(&Reader(&world), &world.directory, REPACKAGED_GTIN, "R1", 0).unwrap();
    assert_valid(&exported);
    let first = &exported["epcisBody"]["eventList"][0];
    assert_eq!(first["type"], "TransformationEvent");
    assert_eq!(first["outputEPCList"], json!([output]));
    assert_eq!(first["ilmd"]["cbvmda:lotNumber"], "R-L1");
    assert!(first.get("action").is_none());
}

// ---- import: what is refused ----

fn refused(world: &World, events: Vec<Value>) -> (usize, String, String) {
    match world.plan(&document(events), world.maker) {
        Err(EpcisError::Unsupported {
            event,
            field,
            reason,
        }) => (event.index, field, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn what_the_contract_does_not_model_is_refused_naming_the_event_and_field() {
    let world = world();
    let with = |mut event: Value, key: &str, value: Value| {
        event[key] = value;
        event
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with(
                commissioning(&["S1"]),
                "sensorElementList",
                json!([{ "sensorReport": [{ "type": "Temperature", "value": 4.0 }] }]),
            ),
            "sensorElementList",
        ),
        (
            with(
                commissioning(&["S1"]),
                "quantityList",
                json!([{ "epcClass": "urn:epc:class:lgtin:0312345.067890.L1", "quantity": 5 }]),
            ),
            "quantityList",
        ),
        (
            event(
                "AssociationEvent",
                Some("ADD"),
                "assembling",
                MAKER_SITE,
                json!({ "parentID": sscc("0000000001"), "childEPCs": [sgtin("S1")] }),
            ),
            "type",
        ),
        (
            event(
                "ObjectEvent",
                Some("OBSERVE"),
                "inspecting",
                MAKER_SITE,
                json!({ "epcList": [sgtin("S1")] }),
            ),
            "bizStep",
        ),
        (
            with(
                commissioning(&["S1"]),
                "ilmd",
                json!({ "cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2028-06-30",
                        "cbvmda:countryOfOrigin": "US" }),
            ),
            "ilmd.cbvmda:countryOfOrigin",
        ),
        (
            with(
                commissioning(&["S1"]),
                "persistentDisposition",
                json!({ "set": ["completeness_verified"] }),
            ),
            "persistentDisposition",
        ),
        (
            with(
                commissioning(&["S1"]),
                "errorDeclaration",
                json!({ "declarationTime": "2026-01-02T00:00:00Z", "reason": "did_not_occur" }),
            ),
            "errorDeclaration",
        ),
        (
            with(
                commissioning(&["S1"]),
                "bizTransactionList",
                json!([{ "type": "po", "bizTransaction": PO }]),
            ),
            "bizTransactionList",
        ),
        (
            with(commissioning(&["S1"]), "example:temperature", json!("4 C")),
            "example:temperature",
        ),
        (
            with(
                commissioning(&["S1"]),
                "epcList",
                json!(["urn:epc:class:lgtin:0312345.067890.L1"]),
            ),
            "epcList[0]",
        ),
        (
            with(
                commissioning(&["S1"]),
                "bizLocation",
                json!({ "id": sgln(MAKER_GLN) }),
            ),
            "bizLocation",
        ),
        (
            event(
                "ObjectEvent",
                Some("OBSERVE"),
                "dispensing",
                MAKER_SITE,
                json!({ "epcList": [sgtin("S1")], "disposition": "dispensed" }),
            ),
            "bizStep",
        ),
        (
            with(
                commissioning(&["S1"]),
                "disposition",
                json!("sellable_accessible"),
            ),
            "disposition",
        ),
        (
            with(
                shipping("0000000001"),
                "bizTransactionList",
                json!([{ "type": "bol", "bizTransaction": "urn:example:bol:1" }]),
            ),
            "bizTransactionList[0].type",
        ),
    ];
    for (bad, field) in cases {
        // The refused event comes after a good one: the whole document is refused, and the
        // error names the second event.
        let (index, named, reason) = refused(&world, vec![commissioning(&["S9"]), bad]);
        assert_eq!((index, named.as_str()), (1, field), "{reason}");
        assert!(!reason.is_empty());
    }
    // A document-level header with master data is refused too.
    let mut with_header = shipment_document();
    with_header["epcisHeader"] = json!({ "epcisMasterData": { "vocabularyList": [] } });
    assert!(matches!(
        world.plan(&with_header, world.maker),
        Err(EpcisError::Document { field, .. }) if field == "epcisHeader"
    ));
}

#[test]
fn malformed_documents_and_unknown_glns_are_typed_errors() {
    let world = world();
    assert!(matches!(
        epcis::plan("{ not json", &world.directory, world.maker, &Reader(&world)),
        Err(EpcisError::Json(_))
    ));
    let mut not_epcis = shipment_document();
    not_epcis["type"] = json!("EPCISQueryDocument");
    assert!(matches!(
        world.plan(&not_epcis, world.maker),
        Err(EpcisError::Document { field, .. }) if field == "type"
    ));
    let mut bad_digit = commissioning(&["S1"]);
    bad_digit["epcList"] = json!(["https://id.gs1.org/01/00312345678907/21/S1"]);
    assert!(matches!(
        world.plan(&document(vec![bad_digit]), world.maker),
        Err(EpcisError::Invalid { field, .. }) if field == "epcList[0]"
    ));
    // A read point no party of the directory holds.
    let mut elsewhere = commissioning(&["S1"]);
    elsewhere["readPoint"] = json!({ "id": "urn:epc:id:sgln:0614141.00009.0" });
    elsewhere.as_object_mut().unwrap().remove("bizLocation");
    match world.plan(&document(vec![elsewhere]), world.maker) {
        Err(EpcisError::Unresolved {
            event,
            field,
            source: DirectoryError::Unresolved { reference, .. },
        }) => {
            assert_eq!((event.index, field.as_str()), (0, "readPoint.id"));
            assert_eq!(reference, "0614141000098");
        }
        other => panic!("{other:?}"),
    }
    // A destination party no one knows.
    let mut unknown_buyer = shipping("0000000001");
    unknown_buyer["destinationList"] =
        json!([{ "type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00009" }]);
    let error = world
        .plan(&document(vec![unknown_buyer]), world.maker)
        .unwrap_err();
    assert!(error.to_string().contains("0614141000098"), "{error}");
    // An importer the directory does not hold.
    let stranger = Address([7; 20]);
    assert!(matches!(
        world.plan(&shipment_document(), stranger),
        Err(EpcisError::Sender(_))
    ));
    // A receipt for nothing in transit.
    assert!(matches!(
        world.plan(&document(vec![receiving("0000000001")]), world.wholesaler),
        Err(EpcisError::Chain { .. })
    ));
}

// ---- export, schema and the round trip ----

fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("{SCHEMA_DIR}/EPCIS-JSON-Schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(document: &Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

/// The maker's and the receiver's events of an exported history, as two documents.
fn split_by_party(export: &Value) -> (Value, Value) {
    let events = export["epcisBody"]["eventList"].as_array().unwrap();
    let (received, shipped): (Vec<Value>, Vec<Value>) = events
        .iter()
        .cloned()
        .partition(|event| event["bizStep"] == "receiving");
    (document(shipped), document(received))
}

#[test]
fn an_exported_history_validates_and_import_export_import_is_a_fixed_point() {
    let mut first = world();
    let (maker, wholesaler) = (first.maker, first.wholesaler);
    let shipped = first.import(&shipment_document(), maker);
    let received = first.import(&document(vec![receiving("0000000001")]), wholesaler);
    let exported = first.export_unit("S1");
    assert_valid(&exported);
    // The validator does refuse what the schema refuses.
    let mut broken = exported.clone();
    broken["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = json!("5 hours");
    assert!(!schema_validator().is_valid(&broken));
    let events = exported["epcisBody"]["eventList"].as_array().unwrap();
    let steps: Vec<&str> = events
        .iter()
        .map(|event| event["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["commissioning", "packing", "shipping", "receiving"]);
    assert_eq!(events[0]["epcList"][0], json!(sgtin("S1")));
    assert_eq!(events[0]["ilmd"]["cbvmda:itemExpirationDate"], "2028-06-30");
    assert_eq!(events[2]["type"], "TransactionEvent");
    assert_eq!(
        events[2]["destinationList"][0],
        json!({ "type": "owning_party", "destination": pgln(WHOLESALER_GLN) })
    );

    // The export imported on a fresh chain records the same calls...
    let mut second = world();
    let (shipped_again, received_again) = split_by_party(&exported);
    let replayed = second.import(&shipped_again, maker);
    let replayed_receipt = second.import(&received_again, wholesaler);
    let calls = |plan: &Plan| {
        plan.calls
            .iter()
            .map(|call| (call.message.clone(), call.arguments.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(calls(&replayed), calls(&shipped));
    assert_eq!(calls(&replayed_receipt), calls(&received));
    // ...and exports the same document again.
    assert_eq!(second.export_unit("S1"), exported);
}

#[test]
fn a_lot_exports_every_units_events_once() {
    let mut world = world();
    let maker = world.maker;
    world.import(&shipment_document(), maker);
    let lot = epcis::export_lot(&Reader(&world), &world.directory, GTIN, "L1", 0).unwrap();
    assert_valid(&lot);
    assert_eq!(lot["epcisBody"]["eventList"].as_array().unwrap().len(), 3);
    assert!(matches!(
        epcis::export_lot(&Reader(&world), &world.directory, GTIN, "L2", 0),
        Err(epcis::ExportError::Unknown(_))
    ));
}

#[test]
fn cases_on_a_pallet_consigned_to_a_3pl_and_received_round_trip() {
    let mut first = world();
    let (maker, logistics) = (first.maker, first.logistics);
    let pallet = "1000000009";
    let possessing = |from: &str, to: &str| {
        json!({
            "sourceList": [{ "type": "possessing_party", "source": pgln(from) }],
            "destinationList": [{ "type": "possessing_party", "destination": pgln(to) }],
        })
    };
    let mut consigning = event(
        "ObjectEvent",
        Some("OBSERVE"),
        "shipping",
        MAKER_SITE,
        json!({ "epcList": [sscc(pallet)], "disposition": "in_transit" }),
    );
    let mut taking_custody = event(
        "ObjectEvent",
        Some("OBSERVE"),
        "receiving",
        LOGISTICS_SITE,
        json!({ "epcList": [sscc(pallet)] }),
    );
    for (event, (from, to)) in [
        (&mut consigning, (MAKER_GLN, LOGISTICS_GLN)),
        (&mut taking_custody, (MAKER_GLN, LOGISTICS_GLN)),
    ] {
        for (key, value) in possessing(from, to).as_object().unwrap() {
            event[key] = value.clone();
        }
    }
    let shipped = first.import(
        &document(vec![
            commissioning(&["S1", "S2", "S3", "S4"]),
            packing("0000000001", &["S1", "S2"]),
            packing("0000000002", &["S3", "S4"]),
            event(
                "AggregationEvent",
                Some("ADD"),
                "packing",
                MAKER_SITE,
                json!({ "parentID": sscc(pallet),
                        "childEPCs": [sscc("0000000001"), sscc("0000000002")] }),
            ),
            consigning,
        ]),
        maker,
    );
    let messages: Vec<&str> = shipped.calls.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        messages,
        ["commission", "pack", "pack", "pack_cases", "consign"]
    );
    let received = first.import(&document(vec![taking_custody]), logistics);
    assert_eq!(received.calls[0].message, "receive");
    let unit = first.view("unit", json!([GTIN, "S3"]));
    assert_eq!(unit["owner"], json!(maker.to_string()));
    assert_eq!(unit["custodian"], json!(logistics.to_string()));
    // The lot's export holds every event once; a consignment names possessing parties only.
    let exported = epcis::export_lot(&Reader(&first), &first.directory, GTIN, "L1", 0).unwrap();
    assert_valid(&exported);
    let events = exported["epcisBody"]["eventList"].as_array().unwrap();
    let steps: Vec<&str> = events
        .iter()
        .map(|e| e["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "commissioning",
            "packing",
            "packing",
            "packing",
            "shipping",
            "receiving"
        ]
    );
    assert_eq!(events[3]["childEPCs"].as_array().unwrap().len(), 2);
    assert_eq!(events[4]["sourceList"][0]["type"], "possessing_party");
    assert!(events[5].get("bizTransactionList").is_none());

    // Imported again on a fresh chain, the same calls and the same document.
    let mut second = world();
    let (again, receipt) = split_by_party(&exported);
    let replayed = second.import(&again, maker);
    let replayed_receipt = second.import(&receipt, logistics);
    let calls = |plan: &Plan| {
        plan.calls
            .iter()
            .map(|call| (call.message.clone(), call.arguments.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(calls(&replayed), calls(&shipped));
    assert_eq!(calls(&replayed_receipt), calls(&received));
    assert_eq!(
        epcis::export_lot(&Reader(&second), &second.directory, GTIN, "L1", 0).unwrap(),
        exported
    );
}
