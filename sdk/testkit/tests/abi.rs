//! Each contract's ABI as `#[contract]` assembles it at compile time: the JSON the contract
//! crate exposes on the host (`ABI_JSON`) is the JSON embedded in its Wasm module; it describes
//! every `#[data]` type its messages and events name — declared in the contract module, in a
//! sibling module or in another contract's crate — and lists the events declared outside the
//! contract module; and a module built from a crate that uses other contracts as libraries
//! carries only its own ABI section and entry points.

use serde_json::Value;

/// (name, module, the crate's own `ABI_JSON`).
const CONTRACTS: &[(&str, &[u8], &str)] = &[
    ("counter", salus_contracts::COUNTER, counter::ABI_JSON),
    ("registry", salus_contracts::REGISTRY, registry::ABI_JSON),
    ("consent", salus_contracts::CONSENT, consent::ABI_JSON),
    ("coverage", salus_contracts::COVERAGE, coverage::ABI_JSON),
    ("supply", salus_contracts::SUPPLY, supply::ABI_JSON),
];

/// Types every client knows without a description.
const BUILT_IN: &[&str] = &[
    "bool", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "String",
    "Address", "Hash", "Vec", "Option",
];

fn leb128(bytes: &[u8], at: &mut usize) -> usize {
    let mut value = 0;
    let mut shift = 0;
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

/// The module's sections as (id, custom section name, contents).
fn sections(module: &[u8]) -> Vec<(u8, String, &[u8])> {
    let mut sections = Vec::new();
    let mut at = 8;
    while at < module.len() {
        let id = module[at];
        at += 1;
        let size = leb128(module, &mut at);
        let end = at + size;
        let (name, contents) = if id == 0 {
            let mut name_at = at;
            let length = leb128(module, &mut name_at);
            let name = String::from_utf8(module[name_at..name_at + length].to_vec()).unwrap();
            (name, &module[name_at + length..end])
        } else {
            (String::new(), &module[at..end])
        };
        sections.push((id, name, contents));
        at = end;
    }
    sections
}

/// The names the module exports.
fn exports(module: &[u8]) -> Vec<String> {
    let Some((_, _, contents)) = sections(module).into_iter().find(|(id, _, _)| *id == 7) else {
        return Vec::new();
    };
    let mut at = 0;
    let count = leb128(contents, &mut at);
    (0..count)
        .map(|_| {
            let length = leb128(contents, &mut at);
            let name = String::from_utf8(contents[at..at + length].to_vec()).unwrap();
            at += length;
            at += 1; // kind
            leb128(contents, &mut at); // index
            name
        })
        .collect()
}

/// The identifiers a type name as the ABI writes it mentions (`Vec<(u16,LineDecision)>` →
/// `Vec`, `u16`, `LineDecision`), paths reduced to their last segment.
fn named_types(type_name: &str) -> Vec<String> {
    type_name
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|part| part.chars().next().is_some_and(char::is_alphabetic))
        .map(|part| part.rsplit("::").next().unwrap_or(part).to_string())
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_abi_each_crate_assembles_is_the_one_embedded_in_its_module() {
    for (name, module, abi_json) in CONTRACTS {
        let abi_sections: Vec<&[u8]> = sections(module)
            .into_iter()
            .filter(|(id, section, _)| *id == 0 && section == salus_abi::ABI_SECTION)
            .map(|(_, _, contents)| contents)
            .collect();
        assert_eq!(
            abi_sections,
            vec![abi_json.as_bytes()],
            "{name}: one salus_abi section, the crate's own ABI_JSON"
        );
        let mut exported = exports(module);
        exported.retain(|export| export == "call" || export == "deploy");
        exported.sort();
        assert_eq!(
            exported,
            ["call", "deploy"],
            "{name}: its own entry points, once"
        );
    }
}

#[test]
fn every_type_messages_and_events_name_is_described_once() {
    for (name, _, abi_json) in CONTRACTS {
        let abi: Value = serde_json::from_str(abi_json).unwrap();
        let described = names(&abi["types"]);
        let mut unique = described.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            described.len(),
            "{name}: a type described twice"
        );
        let mut mentioned = Vec::new();
        for message in abi["messages"]
            .as_array()
            .unwrap()
            .iter()
            .chain(abi["constructor"].as_object().map(|_| &abi["constructor"]))
        {
            for argument in message["args"].as_array().unwrap() {
                mentioned.push(argument["type"].as_str().unwrap().to_string());
            }
            if let Some(returned) = message["returns"].as_str() {
                mentioned.push(returned.to_string());
            }
        }
        for item in abi["events"]
            .as_array()
            .unwrap()
            .iter()
            .chain(abi["types"].as_array().unwrap())
        {
            for field in item["fields"].as_array().into_iter().flatten() {
                match field {
                    Value::String(ty) => mentioned.push(ty.clone()),
                    field => mentioned.push(field["type"].as_str().unwrap().to_string()),
                }
            }
            for variant in item["variants"].as_array().into_iter().flatten() {
                for ty in variant["fields"].as_array().unwrap() {
                    mentioned.push(ty.as_str().unwrap().to_string());
                }
            }
        }
        for type_name in &mentioned {
            for named in named_types(type_name) {
                assert!(
                    BUILT_IN.contains(&named.as_str()) || described.contains(&named),
                    "{name}: `{named}` (in `{type_name}`) is not described"
                );
            }
        }
    }
}

#[test]
fn events_and_types_from_sibling_modules_and_other_contracts_are_in_the_abi() {
    let coverage: Value = serde_json::from_str(coverage::ABI_JSON).unwrap();
    let events = names(&coverage["events"]);
    for event in [
        "CoverageChanged",
        "RulesPublished",
        "SealedSubmitted",
        "DecisionPosted",
        "Overdue",
        "RequestStep",
        "ClaimChecked",
    ] {
        assert!(
            events.contains(&event.to_string()),
            "coverage emits {event}"
        );
    }
    let types = names(&coverage["types"]);
    // `RuleSet` and `ActionCode` are the `coverage-rules` crate's own types.
    for ty in [
        "SealedRequest",
        "PostedLine",
        "MetricsReport",
        "RuleSet",
        "ActionCode",
    ] {
        assert!(types.contains(&ty.to_string()), "coverage describes {ty}");
    }
    assert_eq!(names(&coverage["errors"]), ["CoverageError"]);

    let supply: Value = serde_json::from_str(supply::ABI_JSON).unwrap();
    assert_eq!(
        names(&supply["events"]),
        ["Epcis", "Alert", "Refused", "ExpiryExtended"]
    );
    assert_eq!(supply["contract"], "Supply");
}
