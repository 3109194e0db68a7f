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
    for (who, role, gln, prefix) in [
        (maker, "Manufacturer", MAKER_GLN, Some(MAKER_PREFIX)),
        (wholesaler, "WholesaleDistributor", WHOLESALER_GLN, None),
        (logistics, "ThirdPartyLogistics", LOGISTICS_GLN, None),
        (
            repackager,
            "Repackager",
            REPACKAGER_GLN,
            Some(REPACKAGER_PREFIX),
        ),
    ] {
        let row = json!([
            who.to_string(),
            [role],
            null,
            gln,
            prefix,
            "0",
            until,
            evidence
        ]);
        register(&mut chain, &registry_abi, registry, row);
    }
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
                with(
                    commissioning(&["S1"]),
                    "errorDeclaration",
                    json!({ "declarationTime": "2026-01-02T00:00:00Z", "reason": "did_not_occur" }),
                ),
                "eventID",
                json!("urn:uuid:6d5f3c1e-0000-4000-8000-000000000001"),
            ),
            "eventID",
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
    assert_eq!(calls(&replayed), calls(&shipped));
    assert_eq!(calls(&replayed_receipt), calls(&received));
    assert_eq!(
        epcis::export_lot(&Reader(&second), &second.directory, GTIN, "L1", 0).unwrap(),
        exported
    );
}

// ---- sales a 3PL dispatches, suspect product, saleable returns, error declarations ----

/// The (message, arguments) of a plan's calls.
fn calls(plan: &Plan) -> Vec<(String, Value)> {
    plan.calls
        .iter()
        .map(|call| (call.message.clone(), call.arguments.clone()))
        .collect()
}

/// The events of an exported document at `indices`, as a document of their own.
fn pick(export: &Value, indices: &[usize]) -> Value {
    let events = export["epcisBody"]["eventList"].as_array().unwrap();
    let mut picked = document(indices.iter().map(|&i| events[i].clone()).collect());
    picked["@context"] = export["@context"].clone();
    picked
}

fn owning_and_possessing(sources: &[(&str, &str)], destinations: &[(&str, &str)]) -> Value {
    json!({
        "sourceList": sources.iter().map(|(kind, gln)| json!({ "type": kind, "source": pgln(gln) }))
            .collect::<Vec<_>>(),
        "destinationList": destinations.iter()
            .map(|(kind, gln)| json!({ "type": kind, "destination": pgln(gln) }))
            .collect::<Vec<_>>(),
    })
}

fn merge(mut event: Value, extra: Value) -> Value {
    for (key, value) in extra.as_object().unwrap() {
        event[key] = value.clone();
    }
    event
}

/// The maker's units S1, S2 placed with the 3PL, which takes custody.
fn consigned_to_logistics(world: &mut World) -> (Plan, Plan) {
    let (maker, logistics) = (world.maker, world.logistics);
    let consigning = merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "shipping",
            MAKER_SITE,
            json!({ "epcList": [sgtin("S1"), sgtin("S2")], "disposition": "in_transit" }),
        ),
        owning_and_possessing(
            &[("possessing_party", MAKER_GLN)],
            &[("possessing_party", LOGISTICS_GLN)],
        ),
    );
    let placed = world.import(
        &document(vec![commissioning(&["S1", "S2"]), consigning]),
        maker,
    );
    let taking_custody = merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "receiving",
            LOGISTICS_SITE,
            json!({ "epcList": [sgtin("S1"), sgtin("S2")], "disposition": "in_progress" }),
        ),
        owning_and_possessing(
            &[("possessing_party", MAKER_GLN)],
            &[("possessing_party", LOGISTICS_GLN)],
        ),
    );
    let taken = world.import(&document(vec![taking_custody]), logistics);
    (placed, taken)
}

/// The wholesaler receives S1 and S2 by [`PO`] from `sources`, as the owning party.
fn received_by_po(sources: &[(&str, &str)]) -> Value {
    merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "receiving",
            WHOLESALER_SITE,
            json!({ "epcList": [sgtin("S1"), sgtin("S2")], "disposition": "in_progress",
                    "bizTransactionList": [{ "type": "po", "bizTransaction": PO }] }),
        ),
        owning_and_possessing(sources, &[("owning_party", WHOLESALER_GLN)]),
    )
}

/// The maker's sale of S1 and S2 to the wholesaler (goods the 3PL holds).
fn sale_event() -> Value {
    json!({
        "type": "TransactionEvent",
        "action": "ADD",
        "eventTime": "2026-01-01T09:00:00.000Z",
        "eventTimeZoneOffset": "-05:00",
        "epcList": [sgtin("S1"), sgtin("S2")],
        "bizTransactionList": [
            { "type": "po", "bizTransaction": PO },
            { "type": "inv", "bizTransaction": INVOICE },
        ],
        "sourceList": [{ "type": "owning_party", "source": pgln(MAKER_GLN) }],
        "destinationList": [{ "type": "owning_party", "destination": pgln(WHOLESALER_GLN) }],
    })
}

/// The 3PL's shipping event for the maker's sale.
fn dispatch_event(site: &str) -> Value {
    merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "shipping",
            site,
            json!({ "epcList": [sgtin("S2"), sgtin("S1")], "disposition": "in_transit",
                    "bizTransactionList": [{ "type": "po", "bizTransaction": PO },
                                           { "type": "inv", "bizTransaction": INVOICE }] }),
        ),
        owning_and_possessing(
            &[
                ("owning_party", MAKER_GLN),
                ("possessing_party", LOGISTICS_GLN),
            ],
            &[
                ("owning_party", WHOLESALER_GLN),
                ("possessing_party", WHOLESALER_GLN),
            ],
        ),
    )
}

#[test]
fn a_sale_of_goods_a_3pl_holds_imports_as_sell_then_dispatch_and_round_trips() {
    let mut first = world();
    let (maker, logistics, wholesaler) = (first.maker, first.logistics, first.wholesaler);
    let (placed, taken) = consigned_to_logistics(&mut first);

    // Refused, nothing submitted: a sale by a party that does not own the goods, a dispatch
    // before the sale, a dispatch by the wrong party or with another disposition.
    let not_owner = first.plan(&document(vec![sale_event()]), wholesaler);
    assert!(
        matches!(&not_owner, Err(EpcisError::Invalid { field, .. }) if field == "sourceList"),
        "{not_owner:?}"
    );
    let mut by_wholesaler = sale_event();
    by_wholesaler["sourceList"][0]["source"] = json!(pgln(WHOLESALER_GLN));
    by_wholesaler["destinationList"][0]["destination"] = json!(pgln(MAKER_GLN));
    let not_owner = first.plan(&document(vec![by_wholesaler]), wholesaler);
    assert!(
        matches!(&not_owner, Err(EpcisError::Invalid { field, reason, .. })
            if field == "epcList[0]" && reason.contains("only the owner sells")),
        "{not_owner:?}"
    );
    assert!(matches!(
        first.plan(&document(vec![dispatch_event(LOGISTICS_SITE)]), logistics),
        Err(EpcisError::Chain { .. })
    ));

    let sold = first.import(&document(vec![sale_event()]), maker);
    assert_eq!(sold.calls[0].message, "sell");
    assert_eq!(sold.calls[0].arguments[1], json!(wholesaler.to_string()));
    assert_eq!(first.view("sale", json!(["0"]))["shipment"], Value::Null);

    let wrong_disposition = merge(
        dispatch_event(LOGISTICS_SITE),
        json!({ "disposition": "in_progress" }),
    );
    assert!(matches!(
        first.plan(&document(vec![wrong_disposition]), logistics),
        Err(EpcisError::Unsupported { field, .. }) if field == "disposition"
    ));
    let mut not_custodian = dispatch_event(MAKER_SITE);
    not_custodian["sourceList"][1]["source"] = json!(pgln(MAKER_GLN));
    assert!(matches!(
        first.plan(&document(vec![not_custodian]), maker),
        Err(EpcisError::Invalid { .. })
    ));
    assert_eq!(first.view("sale", json!(["0"]))["shipment"], Value::Null);

    let dispatched = first.import(&document(vec![dispatch_event(LOGISTICS_SITE)]), logistics);
    assert_eq!(
        calls(&dispatched),
        [("dispatch".to_string(), json!(["0", LOGISTICS_SITE]))]
    );
    let unit = first.view("unit", json!([GTIN, "S1"]));
    assert_eq!(unit["disposition"], "InTransit");
    assert_eq!(unit["owner"], json!(maker.to_string()));
    let receiving = received_by_po(&[
        ("owning_party", MAKER_GLN),
        ("possessing_party", LOGISTICS_GLN),
    ]);
    let received = first.import(&document(vec![receiving]), wholesaler);
    assert_eq!(
        first.view("unit", json!([GTIN, "S2"]))["owner"],
        json!(wholesaler.to_string())
    );

    // The export writes the sale before the 3PL's shipping event, and validates.
    let exported = first.export_unit("S1");
    assert_valid(&exported);
    let events = exported["epcisBody"]["eventList"].as_array().unwrap();
    let shapes: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["bizStep"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        [
            ("ObjectEvent", "commissioning"),
            ("ObjectEvent", "shipping"),
            ("ObjectEvent", "receiving"),
            ("TransactionEvent", ""),
            ("TransactionEvent", "shipping"),
            ("TransactionEvent", "receiving"),
        ]
    );
    assert_eq!(events[3]["eventID"], "urn:salus:supply:sale:0");
    // EPCIS 1.2 XML carries the sale too (a TransactionEvent without bizStep or location).
    let xml = epcis::xml::to_xml(&exported, None).unwrap();
    assert!(xml.contains("urn:salus:supply:sale:0"), "{xml}");
    assert!(events[3].get("readPoint").is_none());
    assert_eq!(events[4]["sourceList"].as_array().unwrap().len(), 2);

    // Each party imports its events again on a fresh chain: the same calls, the same export.
    let mut second = world();
    let replay = |world: &mut World, indices: &[usize], sender: Address| {
        world.import(&pick(&exported, indices), sender)
    };
    assert_eq!(calls(&replay(&mut second, &[0, 1], maker)), calls(&placed));
    assert_eq!(calls(&replay(&mut second, &[2], logistics)), calls(&taken));
    assert_eq!(calls(&replay(&mut second, &[3], maker)), calls(&sold));
    assert_eq!(
        calls(&replay(&mut second, &[4], logistics)),
        calls(&dispatched)
    );
    assert_eq!(
        calls(&replay(&mut second, &[5], wholesaler)),
        calls(&received)
    );
    assert_eq!(second.export_unit("S1"), exported);
}

fn suspect_event(serials: &[&str], reason: Option<&str>) -> Value {
    let mut event = event(
        "ObjectEvent",
        Some("OBSERVE"),
        "holding",
        MAKER_SITE,
        json!({ "epcList": serials.iter().map(|s| sgtin(s)).collect::<Vec<_>>(),
                "disposition": "non_sellable_other" }),
    );
    if let Some(reason) = reason {
        event["salus:suspectReason"] = json!(reason);
    }
    event
}

#[test]
fn a_suspect_quarantine_carries_its_reason_and_round_trips_apart_from_a_hold() {
    let mut first = world();
    let maker = first.maker;
    // A hold and a suspect quarantine share CBV `holding` / `non_sellable_other`; the
    // quarantine's reason (the investigation's) tells them apart.
    let mut quarantine = document(vec![
        commissioning(&["S1", "S2", "S3"]),
        suspect_event(&["S3"], None),
        suspect_event(&["S1", "S2"], Some("tampered_seal")),
    ]);
    quarantine["@context"] = json!([CONTEXT, { "salus": "urn:salus:epcis:" }]);
    let imported = first.import(&quarantine, maker);
    let messages: Vec<&str> = imported.calls.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(messages, ["commission", "hold", "suspect"]);
    let unit = first.view("unit", json!([GTIN, "S2"]));
    assert_eq!(unit["suspect"], json!(true));
    assert_eq!(unit["disposition"], "NonSellableOther");
    assert_eq!(
        first.view("unit", json!([GTIN, "S3"]))["suspect"],
        json!(false)
    );
    let case = first.view("investigation", json!(["0"]));
    assert_eq!(case["reason"], "tampered_seal");
    assert_eq!(case["units"].as_array().unwrap().len(), 2);

    let exported = epcis::export_lot(&Reader(&first), &first.directory, GTIN, "L1", 0).unwrap();
    assert_valid(&exported);
    let events = exported["epcisBody"]["eventList"].as_array().unwrap();
    assert!(events[1].get("salus:suspectReason").is_none());
    assert_eq!(events[2]["salus:suspectReason"], "tampered_seal");
    assert_eq!(events[2]["disposition"], "non_sellable_other");
    // EPCIS 1.2 XML carries the reason as an extension element in its declared namespace.
    let xml = epcis::xml::to_xml(&exported, None).unwrap();
    assert!(
        xml.contains("tampered_seal") && xml.contains("urn:salus:epcis:"),
        "{xml}"
    );

    let mut second = world();
    assert_eq!(calls(&second.import(&exported, maker)), calls(&imported));
    assert_eq!(
        epcis::export_lot(&Reader(&second), &second.directory, GTIN, "L1", 0).unwrap(),
        exported
    );
    // Refused: a reason too long for the contract, and another disposition.
    let long = "x".repeat(41);
    assert!(matches!(
        second.plan(&document(vec![suspect_event(&["S3"], Some(&long))]), maker),
        Err(EpcisError::Invalid { field, .. }) if field == "salus:suspectReason"
    ));
    let mut damaged = suspect_event(&["S3"], Some("tampered_seal"));
    damaged["disposition"] = json!("damaged");
    assert!(matches!(
        second.plan(&document(vec![damaged]), maker),
        Err(EpcisError::Unsupported { field, .. }) if field == "disposition"
    ));
}

fn returned_event(site: &str, serial: &str, taken_back_by: &str) -> Value {
    merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "receiving",
            site,
            json!({ "epcList": [sgtin(serial)], "disposition": "returned" }),
        ),
        json!({ "destinationList": [{ "type": "owning_party", "destination": pgln(taken_back_by) }] }),
    )
}

#[test]
fn a_saleable_return_imports_as_accept_return_and_round_trips() {
    let mut first = world();
    let (maker, wholesaler) = (first.maker, first.wholesaler);
    let unit_shipping = merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "shipping",
            MAKER_SITE,
            json!({ "epcList": [sgtin("S1"), sgtin("S2")], "disposition": "in_transit",
                    "bizTransactionList": [{ "type": "po", "bizTransaction": PO }] }),
        ),
        owning_and_possessing(
            &[("owning_party", MAKER_GLN)],
            &[("owning_party", WHOLESALER_GLN)],
        ),
    );
    let shipped = first.import(
        &document(vec![commissioning(&["S1", "S2"]), unit_shipping]),
        maker,
    );
    let receiving = received_by_po(&[("owning_party", MAKER_GLN)]);
    let received = first.import(&document(vec![receiving]), wholesaler);

    // Refused, nothing submitted: the wholesaler is not the seller; the package verifies, so
    // a quarantining return is not what the contract would record; two packages at once.
    assert!(matches!(
        first.plan(&document(vec![returned_event(WHOLESALER_SITE, "S1", WHOLESALER_GLN)]), wholesaler),
        Err(EpcisError::Invalid { field, .. }) if field == "epcList[0]"
    ));
    let mut held = returned_event(MAKER_SITE, "S1", MAKER_GLN);
    held["bizStep"] = json!("holding");
    held["disposition"] = json!("non_sellable_other");
    assert!(matches!(
        first.plan(&document(vec![held]), maker),
        Err(EpcisError::Chain { .. })
    ));
    let mut two = returned_event(MAKER_SITE, "S1", MAKER_GLN);
    two["epcList"] = json!([sgtin("S1"), sgtin("S2")]);
    assert!(matches!(
        first.plan(&document(vec![two]), maker),
        Err(EpcisError::Unsupported { field, .. }) if field == "epcList"
    ));
    assert_eq!(
        first.view("unit", json!([GTIN, "S1"]))["owner"],
        json!(wholesaler.to_string())
    );

    let returned = first.import(
        &document(vec![returned_event(MAKER_SITE, "S1", MAKER_GLN)]),
        maker,
    );
    assert_eq!(returned.calls[0].message, "accept_return");
    assert_eq!(returned.calls[0].arguments[2], "L1");
    let unit = first.view("unit", json!([GTIN, "S1"]));
    assert_eq!(unit["owner"], json!(maker.to_string()));
    assert_eq!(unit["disposition"], "SellableAccessible");

    let exported = first.export_unit("S1");
    assert_valid(&exported);
    let last = exported["epcisBody"]["eventList"][3].clone();
    assert_eq!(last["bizStep"], "receiving");
    assert_eq!(last["disposition"], "returned");

    let mut second = world();
    assert_eq!(
        calls(&second.import(&pick(&exported, &[0, 1]), maker)),
        calls(&shipped)
    );
    assert_eq!(
        calls(&second.import(&pick(&exported, &[2]), wholesaler)),
        calls(&received)
    );
    assert_eq!(
        calls(&second.import(&pick(&exported, &[3]), maker)),
        calls(&returned)
    );
    assert_eq!(second.export_unit("S1"), exported);
}

#[test]
fn an_error_declaration_names_the_chains_event_and_round_trips() {
    let mut first = world();
    let (maker, wholesaler) = (first.maker, first.wholesaler);
    let recorded = first.import(
        &document(vec![
            commissioning(&["S1", "S2"]),
            suspect_event(&["S2"], None),
        ]),
        maker,
    );
    assert_eq!(recorded.calls[1].message, "hold");
    // The hold, as exported, declared erroneous.
    let exported = first.export_unit("S2");
    let mut declaring = exported["epcisBody"]["eventList"][1].clone();
    assert_eq!(declaring["eventID"], "urn:salus:supply:event:1");
    declaring["errorDeclaration"] = json!({
        "declarationTime": "2026-01-02T00:00:00Z",
        "reason": "urn:epcglobal:cbv:er:did_not_occur",
    });

    // Refused, nothing submitted: an event not recorded on this chain, another recorder, an
    // event other than the one named, corrective event ids, another reason.
    let mut unknown = declaring.clone();
    unknown["eventID"] = json!("urn:salus:supply:event:99");
    match first.plan(&document(vec![unknown]), maker) {
        Err(EpcisError::Chain { reason, .. }) => {
            assert!(reason.contains("urn:salus:supply:event:99"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        first.plan(&document(vec![declaring.clone()]), wholesaler),
        Err(EpcisError::Invalid { field, .. }) if field == "eventID"
    ));
    let mut other_step = declaring.clone();
    other_step["bizStep"] = json!("destroying");
    assert!(matches!(
        first.plan(&document(vec![other_step]), maker),
        Err(EpcisError::Invalid { field, .. }) if field == "bizStep"
    ));
    let mut corrective = declaring.clone();
    corrective["errorDeclaration"]["correctiveEventIDs"] = json!(["urn:salus:supply:event:0"]);
    assert!(matches!(
        first.plan(&document(vec![corrective]), maker),
        Err(EpcisError::Unsupported { field, .. }) if field == "errorDeclaration.correctiveEventIDs"
    ));
    let mut other_reason = declaring.clone();
    other_reason["errorDeclaration"]["reason"] = json!("urn:example:er:typo");
    assert!(matches!(
        first.plan(&document(vec![other_reason]), maker),
        Err(EpcisError::Unsupported { field, .. }) if field == "errorDeclaration.reason"
    ));
    assert_eq!(first.export_unit("S2"), exported);

    let declared = first.import(&document(vec![declaring]), maker);
    assert_eq!(
        calls(&declared),
        [("declare_error".to_string(), json!(["1", "did_not_occur"]))]
    );
    let after = first.export_unit("S2");
    assert_valid(&after);
    let events = after["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["eventID"], "urn:salus:supply:event:1");
    assert_eq!(events[2]["errorDeclaration"]["reason"], "did_not_occur");

    // On a fresh chain: the recorded events first, then the declaration naming one of them.
    let mut second = world();
    assert_eq!(
        calls(&second.import(&pick(&after, &[0, 1]), maker)),
        calls(&recorded)
    );
    assert_eq!(
        calls(&second.import(&pick(&after, &[2]), maker)),
        calls(&declared)
    );
    assert_eq!(second.export_unit("S2"), after);
}

#[test]
fn a_case_exports_the_events_naming_its_sscc() {
    let mut world = world();
    let (maker, wholesaler) = (world.maker, world.wholesaler);
    world.import(&shipment_document(), maker);
    world.import(&document(vec![receiving("0000000001")]), wholesaler);
    let case = match gs1::parse(&sscc("0000000001")).unwrap() {
        Identifier::Sscc(case) => case,
        other => panic!("{other:?}"),
    };
    let export = |world: &World, inside: Option<(&str, &str)>| {
        epcis::export::export_case(&Reader(world), &world.directory, &case, inside, 0)
    };
    let steps = |document: &Value| -> Vec<String> {
        document["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["bizStep"].as_str().unwrap().to_string())
            .collect()
    };
    let on_chain = export(&world, None).unwrap();
    assert_valid(&on_chain);
    assert_eq!(steps(&on_chain), ["packing", "shipping", "receiving"]);

    let unpacking = event(
        "AggregationEvent",
        Some("DELETE"),
        "unpacking",
        WHOLESALER_SITE,
        json!({ "parentID": sscc("0000000001"), "disposition": "sellable_accessible" }),
    );
    world.import(&document(vec![unpacking]), wholesaler);
    // Unpacked, the case is gone from the chain: its history is read from a unit it held.
    assert!(matches!(
        export(&world, None),
        Err(epcis::ExportError::Unknown(_))
    ));
    let unpacked = export(&world, Some((GTIN, "S2"))).unwrap();
    assert_valid(&unpacked);
    assert_eq!(
        steps(&unpacked),
        ["packing", "shipping", "receiving", "unpacking"]
    );
}

#[test]
fn a_return_failing_verification_imports_as_the_held_accept_return_and_round_trips() {
    let recall = |world: &mut World| {
        let input = world
            .supply_abi
            .encode_call("recall", &json!([GTIN, ["L1"], "ClassII"]))
            .unwrap();
        let (maker, supply) = (world.maker, world.supply);
        assert!(world.chain.call_raw(maker, supply, input).is_success());
    };
    let mut first = world();
    let (maker, wholesaler) = (first.maker, first.wholesaler);
    let shipped = first.import(&shipment_document(), maker);
    let received = first.import(&document(vec![receiving("0000000001")]), wholesaler);
    let unpacking = event(
        "AggregationEvent",
        Some("DELETE"),
        "unpacking",
        WHOLESALER_SITE,
        json!({ "parentID": sscc("0000000001") }),
    );
    let unpacked = first.import(&document(vec![unpacking]), wholesaler);
    recall(&mut first);
    // A recalled package fails verification: a return of it is quarantined, not accepted.
    assert!(matches!(
        first.plan(
            &document(vec![returned_event(MAKER_SITE, "S2", MAKER_GLN)]),
            maker
        ),
        Err(EpcisError::Chain { .. })
    ));
    let mut held = returned_event(MAKER_SITE, "S2", MAKER_GLN);
    held["bizStep"] = json!("holding");
    held["disposition"] = json!("non_sellable_other");
    let returned = first.import(&document(vec![held]), maker);
    assert_eq!(returned.calls[0].message, "accept_return");
    let unit = first.view("unit", json!([GTIN, "S2"]));
    assert_eq!(unit["owner"], json!(wholesaler.to_string()));
    assert_eq!(unit["disposition"], "NonSellableOther");

    let exported = first.export_unit("S2");
    assert_valid(&exported);
    let last = &exported["epcisBody"]["eventList"][5];
    assert_eq!(last["bizStep"], "holding");
    assert_eq!(
        last["destinationList"][0],
        json!({ "type": "owning_party", "destination": pgln(MAKER_GLN) })
    );

    let mut second = world();
    assert_eq!(
        calls(&second.import(&pick(&exported, &[0, 1, 2]), maker)),
        calls(&shipped)
    );
    assert_eq!(
        calls(&second.import(&pick(&exported, &[3]), wholesaler)),
        calls(&received)
    );
    assert_eq!(
        calls(&second.import(&pick(&exported, &[4]), wholesaler)),
        calls(&unpacked)
    );
    recall(&mut second);
    assert_eq!(
        calls(&second.import(&pick(&exported, &[5]), maker)),
        calls(&returned)
    );
    assert_eq!(second.export_unit("S2"), exported);
}

#[test]
fn goods_received_and_shipped_on_in_one_document_plan_and_goods_held_elsewhere_do_not() {
    let mut world = world();
    let (maker, wholesaler) = (world.maker, world.wholesaler);
    world.import(&shipment_document(), maker);
    // The case is in transit to the wholesaler: its receipt and onward shipment plan together.
    let onward = merge(
        event(
            "ObjectEvent",
            Some("OBSERVE"),
            "shipping",
            WHOLESALER_SITE,
            json!({ "epcList": [sscc("0000000001")], "disposition": "in_transit",
                    "bizTransactionList": [{ "type": "po", "bizTransaction": INVOICE }] }),
        ),
        owning_and_possessing(
            &[("owning_party", WHOLESALER_GLN)],
            &[("owning_party", REPACKAGER_GLN)],
        ),
    );
    let plan = world
        .plan(
            &document(vec![receiving("0000000001"), onward.clone()]),
            wholesaler,
        )
        .unwrap();
    let messages: Vec<&str> = plan.calls.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(messages, ["receive", "ship"]);
    // Received, then an onward shipment by a party that does not hold the case is refused.
    world.import(&document(vec![receiving("0000000001")]), wholesaler);
    let mut by_maker = onward;
    by_maker["readPoint"] = json!({ "id": sgln(MAKER_SITE) });
    by_maker["sourceList"][0]["source"] = json!(pgln(MAKER_GLN));
    assert!(matches!(
        world.plan(&document(vec![by_maker]), maker),
        Err(EpcisError::Invalid { field, .. }) if field == "epcList[0]"
    ));
}
