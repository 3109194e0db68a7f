//! The `abi_codec` target: the client's JSON ↔ SCALE codec (`salus_client::types`) and contract
//! ABIs (`salus_client::ContractAbi`), with which the CLI and other clients encode calls and
//! decode results and events of contracts whose ABI anyone can write (it is a custom section of
//! the deployed module).
//!
//! The first byte of an input picks one of three modes:
//! - `0`: a type, a table of `#[data]` types and a JSON value of that type are generated from
//!   the rest; encode then decode must give the value back, and the type's name must parse back
//!   to the type.
//! - `1`: `type name \0 types JSON \0 SCALE bytes`: the bytes are decoded as the type; whatever
//!   decodes must encode back to the bytes it came from.
//! - `2`: `ABI JSON \0 message name \0 arguments JSON \0 bytes`: the ABI is parsed; the call is
//!   encoded and decoded back, the bytes are decoded as the message's result and as each event,
//!   and read as a Wasm module carrying an ABI.

use std::collections::HashSet;

use arbitrary::Unstructured;
use salus_client::ContractAbi;
use salus_client::types::{AbiType, TypeDef, TypeField, TypeVariant};
use salus_primitives::{Address, Event, Hash};
use serde_json::Value;

/// Tokens of type names and ABI JSON.
pub const DICTIONARY: &[&str] = &[
    "bool",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "String",
    "Address",
    "Hash",
    "Vec<",
    "Option<",
    "salus_sdk::",
    ">",
    "(",
    ")",
    "()",
    "[",
    "]",
    ";",
    ",",
    "\u{0}",
    "\"kind\":\"struct\"",
    "\"kind\":\"enum\"",
    "\"name\":",
    "\"type\":",
    "\"fields\":",
    "\"variants\":",
    "\"types\":",
    "\"messages\":",
    "\"selector\":\"0x",
    "\"args\":",
    "\"returns\":",
    "\"events\":",
    "\"signature\":\"0x",
    "\"topic\":true",
    "null",
    "true",
    "false",
    "\"0x",
    "18446744073709551615",
    "340282366920938463463374607431768211455",
    "-170141183460469231731687303715884105728",
    "4294967295",
    "\\u0000",
    "\u{e9}",
];

/// Checks one input (see the module documentation for its three modes).
pub fn abi_codec(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => generated_round_trip(rest),
        1 => type_and_bytes(rest),
        _ => contract_abi(rest),
    }
}

/// Deepest nesting of generated types (the real contracts nest three or four deep).
const GENERATED_DEPTH: u32 = 4;

/// Mode 0: a generated type, table and value round trip exactly.
fn generated_round_trip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((ty, types, value)) = generate(&mut u) else {
        return;
    };
    let name = type_name(&ty);
    assert_eq!(
        AbiType::parse(&name).as_ref(),
        Ok(&ty),
        "the type name {name} does not parse back to its type"
    );
    let mut encoded = Vec::new();
    if let Err(error) = ty.encode_json_with(&value, "value", &mut encoded, &types) {
        // Only a variant past the 256 a one-byte index can name may be refused.
        assert!(
            types.iter().any(|def| def.variants.len() > 256),
            "a generated value of {name} does not encode: {error}\nvalue: {value}"
        );
        return;
    }
    let mut input = &encoded[..];
    let decoded = ty
        .decode_json_with(&mut input, "value", &types)
        .unwrap_or_else(|error| panic!("an encoded {name} does not decode: {error}"));
    assert!(
        input.is_empty(),
        "{} bytes left decoding {name}",
        input.len()
    );
    assert_eq!(decoded, value, "{name} does not round trip");
}

/// Mode 1: arbitrary bytes decoded as an arbitrary type.
fn type_and_bytes(data: &[u8]) {
    let mut parts = data.splitn(3, |byte| *byte == 0);
    let name = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let types: Vec<TypeDef> =
        serde_json::from_slice(parts.next().unwrap_or_default()).unwrap_or_default();
    let bytes = parts.next().unwrap_or_default();
    let Ok(ty) = AbiType::parse(&name) else {
        return;
    };
    let mut input = bytes;
    let Ok(value) = ty.decode_json_with(&mut input, "value", &types) else {
        return;
    };
    let consumed = &bytes[..bytes.len() - input.len()];
    if json_is_faithful(&ty, &types) {
        let mut encoded = Vec::new();
        let encode = ty.encode_json_with(&value, "value", &mut encoded, &types);
        assert!(
            encode.is_ok(),
            "a decoded {name} does not encode: {encode:?}\nvalue: {value}"
        );
        assert_eq!(
            encoded, consumed,
            "a decoded {name} encodes to other bytes\nvalue: {value}"
        );
    }
}

/// Mode 2: a contract ABI, a call, result bytes and events.
fn contract_abi(data: &[u8]) {
    let mut parts = data.splitn(4, |byte| *byte == 0);
    let abi_text = parts.next().unwrap_or_default();
    let message = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let arguments = parts.next().unwrap_or_default();
    let bytes = parts.next().unwrap_or_default();

    let _ = ContractAbi::from_wasm(bytes);
    let _ = salus_client::abi::custom_section(bytes, salus_abi::ABI_SECTION);
    let Ok(abi) = std::str::from_utf8(abi_text).map(ContractAbi::from_json) else {
        return;
    };
    let Ok(abi) = abi else {
        return;
    };
    if let Ok(arguments) = serde_json::from_slice::<Value>(arguments) {
        if let Ok(input) = abi.encode_call(&message, &arguments) {
            check_call_input(&abi, &message, &input);
        }
        let _ = abi.encode_constructor(&arguments);
    }
    if let Ok(value) = abi.decode_result(&message, bytes) {
        let returns = abi
            .message(&message)
            .ok()
            .and_then(|message| message.returns.clone());
        if let Some(Ok(ty)) = returns.as_deref().map(AbiType::parse)
            && json_is_faithful(&ty, &abi.types)
        {
            let mut encoded = Vec::new();
            let encode = ty.encode_json_with(&value, "result", &mut encoded, &abi.types);
            assert!(
                encode.is_ok(),
                "a decoded result does not encode: {encode:?}"
            );
            assert_eq!(encoded, bytes, "a decoded result encodes to other bytes");
        }
    }
    for event in abi.events.iter().take(8) {
        let signature = hex::decode(event.signature.trim_start_matches("0x"))
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .unwrap_or_default();
        let event = Event {
            contract: Address([1; 20]),
            topics: vec![Hash(signature)],
            data: bytes.to_vec(),
        };
        let _ = abi.decode_event(&event);
    }
}

/// An encoded call decodes back argument by argument, and (where JSON is faithful) re-encodes
/// to the same bytes.
fn check_call_input(abi: &ContractAbi, message_name: &str, input: &[u8]) {
    let message = abi
        .message(message_name)
        .unwrap_or_else(|error| panic!("an encoded message is unknown: {error}"));
    let selector = hex::decode(message.selector.trim_start_matches("0x"))
        .unwrap_or_else(|error| panic!("an encoded message has a bad selector: {error}"));
    assert!(
        input.starts_with(&selector),
        "the call does not start with its selector"
    );
    let mut rest = &input[selector.len()..];
    let mut reencoded = selector.clone();
    let mut faithful = true;
    for field in &message.args {
        let ty = AbiType::parse(&field.ty)
            .unwrap_or_else(|error| panic!("an encoded argument's type does not parse: {error}"));
        let value = ty
            .decode_json_with(&mut rest, &field.name, &abi.types)
            .unwrap_or_else(|error| panic!("an encoded argument does not decode: {error}"));
        faithful &= json_is_faithful(&ty, &abi.types);
        let encode = ty.encode_json_with(&value, &field.name, &mut reencoded, &abi.types);
        assert!(
            encode.is_ok(),
            "a decoded argument does not encode: {encode:?}"
        );
    }
    assert!(
        rest.is_empty(),
        "{} bytes left after the arguments",
        rest.len()
    );
    if faithful {
        assert_eq!(reencoded, input, "decoded arguments encode to other bytes");
    }
}

/// Whether JSON tells every value of `ty` apart, so that decode then encode gives the same
/// bytes. It does not for `Option<T>` when `T` itself can be `null` (`Some(None)` and `None`
/// are both `null`), nor for `#[data]` types with two fields or variants of one name.
fn json_is_faithful(ty: &AbiType, types: &[TypeDef]) -> bool {
    fn walk(ty: &AbiType, types: &[TypeDef], seen: &mut HashSet<String>) -> bool {
        match ty {
            AbiType::Option(inner) => {
                !matches!(**inner, AbiType::Option(_))
                    && **inner != AbiType::Tuple(Vec::new())
                    && walk(inner, types, seen)
            }
            AbiType::Vec(inner) | AbiType::Array(inner, _) => walk(inner, types, seen),
            AbiType::Tuple(items) => items.iter().all(|item| walk(item, types, seen)),
            AbiType::Named(name) => {
                if !seen.insert(name.clone()) {
                    return true;
                }
                let Some(def) = types.iter().find(|def| &def.name == name) else {
                    return true;
                };
                let field_names: HashSet<&str> =
                    def.fields.iter().map(|field| field.name.as_str()).collect();
                let variant_names: HashSet<&str> = def
                    .variants
                    .iter()
                    .map(|variant| variant.name.as_str())
                    .collect();
                let types_of = def.fields.iter().map(|field| field.ty.as_str()).chain(
                    def.variants
                        .iter()
                        .flat_map(|v| v.fields.iter().map(String::as_str)),
                );
                field_names.len() == def.fields.len()
                    && variant_names.len() == def.variants.len()
                    && types_of
                        .map(AbiType::parse)
                        .all(|ty| ty.is_ok_and(|ty| walk(&ty, types, seen)))
            }
            _ => true,
        }
    }
    walk(ty, types, &mut HashSet::new())
}

/// The name the `#[contract]` macro would write for `ty`.
pub fn type_name(ty: &AbiType) -> String {
    match ty {
        AbiType::Bool => "bool".into(),
        AbiType::Unsigned(bits) => format!("u{bits}"),
        AbiType::Signed(bits) => format!("i{bits}"),
        AbiType::String => "String".into(),
        AbiType::Address => "Address".into(),
        AbiType::Hash => "Hash".into(),
        AbiType::Vec(inner) => format!("Vec<{}>", type_name(inner)),
        AbiType::Option(inner) => format!("Option<{}>", type_name(inner)),
        AbiType::Array(inner, length) => format!("[{};{length}]", type_name(inner)),
        AbiType::Tuple(items) => format!(
            "({})",
            items.iter().map(type_name).collect::<Vec<_>>().join(",")
        ),
        AbiType::Named(name) => name.clone(),
    }
}

/// A type, a table of the `#[data]` types it may use (each referring only to earlier ones, so
/// never recursive) and a JSON value of the type in the form decoding gives.
pub fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<(AbiType, Vec<TypeDef>, Value)> {
    let mut types = Vec::new();
    for index in 0..u.int_in_range(0..=3)? {
        let name = format!("T{index}");
        let def = if u.arbitrary()? {
            let fields = (0..u.int_in_range(0..=3)?)
                .map(|field| {
                    Ok(TypeField {
                        name: format!("f{field}"),
                        ty: type_name(&generate_type(u, &types, 2)?),
                    })
                })
                .collect::<arbitrary::Result<_>>()?;
            TypeDef {
                name,
                kind: "struct".into(),
                fields,
                variants: Vec::new(),
            }
        } else {
            // Now and then more variants than a one-byte index can name.
            let count = if u.ratio(1, 16)? {
                u.int_in_range(250..=300)?
            } else {
                u.int_in_range(1..=4)?
            };
            let mut variants = Vec::with_capacity(count);
            for variant in 0..count {
                let field_count = if variant < 4 {
                    u.int_in_range(0..=2)?
                } else {
                    0
                };
                let fields = (0..field_count)
                    .map(|_| Ok(type_name(&generate_type(u, &types, 2)?)))
                    .collect::<arbitrary::Result<_>>()?;
                variants.push(TypeVariant {
                    name: format!("V{variant}"),
                    fields,
                });
            }
            TypeDef {
                name,
                kind: "enum".into(),
                fields: Vec::new(),
                variants,
            }
        };
        types.push(def);
    }
    let ty = generate_type(u, &types, 0)?;
    let mut budget = GENERATED_VALUES;
    let value = generate_value(u, &ty, &types, &mut budget)?;
    Ok((ty, types, value))
}

fn generate_type(
    u: &mut Unstructured<'_>,
    types: &[TypeDef],
    depth: u32,
) -> arbitrary::Result<AbiType> {
    let widths = [8, 16, 32, 64, 128];
    let last_choice = if depth >= GENERATED_DEPTH { 7 } else { 12 };
    Ok(match u.int_in_range(0..=last_choice)? {
        0 => AbiType::Bool,
        1 => AbiType::Unsigned(*u.choose(&widths)?),
        2 => AbiType::Signed(*u.choose(&widths)?),
        3 => AbiType::String,
        4 => AbiType::Address,
        5 => AbiType::Hash,
        6 => AbiType::Vec(Box::new(AbiType::Unsigned(8))),
        7 => match u.choose(types) {
            Ok(def) => AbiType::Named(def.name.clone()),
            Err(_) => AbiType::Tuple(Vec::new()),
        },
        8 => AbiType::Vec(Box::new(generate_type(u, types, depth + 1)?)),
        9 => {
            let inner = generate_type(u, types, depth + 1)?;
            // `Option<T>` with a `T` that can be null is not faithful in JSON (see
            // `json_is_faithful`): generated values stay faithful.
            if matches!(inner, AbiType::Option(_)) || inner == AbiType::Tuple(Vec::new()) {
                inner
            } else {
                AbiType::Option(Box::new(inner))
            }
        }
        10 => AbiType::Array(
            Box::new(generate_type(u, types, depth + 1)?),
            u.int_in_range(0..=4)?,
        ),
        11 => AbiType::Tuple(
            (0..u.int_in_range(0..=3)?)
                .map(|_| generate_type(u, types, depth + 1))
                .collect::<arbitrary::Result<_>>()?,
        ),
        _ => AbiType::Array(Box::new(AbiType::Unsigned(8)), u.int_in_range(0..=40)?),
    })
}

fn hex_value(bytes: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(bytes)))
}

/// Most JSON values one generated value holds: nested arrays of `#[data]` types would otherwise
/// grow exponentially with the depth, whatever the input's length.
const GENERATED_VALUES: usize = 10_000;

fn generate_value(
    u: &mut Unstructured<'_>,
    ty: &AbiType,
    types: &[TypeDef],
    budget: &mut usize,
) -> arbitrary::Result<Value> {
    *budget = budget
        .checked_sub(1)
        .ok_or(arbitrary::Error::IncorrectFormat)?;
    Ok(match ty {
        AbiType::Bool => Value::Bool(u.arbitrary()?),
        AbiType::Unsigned(bits) => {
            let number = u.arbitrary::<u128>()? & (u128::MAX >> (128 - bits));
            if *bits <= 32 {
                Value::from(number as u64)
            } else {
                Value::String(number.to_string())
            }
        }
        AbiType::Signed(bits) => {
            let shift = 128 - bits;
            let number = (u.arbitrary::<i128>()? << shift) >> shift;
            if *bits <= 32 {
                Value::from(number as i64)
            } else {
                Value::String(number.to_string())
            }
        }
        AbiType::String => {
            let text: String = u.arbitrary()?;
            Value::String(text.chars().take(24).collect())
        }
        AbiType::Address => Value::String(Address(u.arbitrary()?).to_string()),
        AbiType::Hash => hex_value(&u.arbitrary::<[u8; 32]>()?),
        AbiType::Vec(inner) if **inner == AbiType::Unsigned(8) => {
            let length = u.int_in_range(0..=16)?;
            hex_value(u.bytes(length)?)
        }
        AbiType::Vec(inner) => Value::Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| generate_value(u, inner, types, budget))
                .collect::<arbitrary::Result<_>>()?,
        ),
        AbiType::Option(inner) => {
            if u.arbitrary()? {
                generate_value(u, inner, types, budget)?
            } else {
                Value::Null
            }
        }
        AbiType::Array(inner, length) if **inner == AbiType::Unsigned(8) => {
            hex_value(u.bytes(*length)?)
        }
        AbiType::Array(inner, length) => Value::Array(
            (0..*length)
                .map(|_| generate_value(u, inner, types, budget))
                .collect::<arbitrary::Result<_>>()?,
        ),
        AbiType::Tuple(items) if items.is_empty() => Value::Null,
        AbiType::Tuple(items) => Value::Array(
            items
                .iter()
                .map(|item| generate_value(u, item, types, budget))
                .collect::<arbitrary::Result<_>>()?,
        ),
        AbiType::Named(name) => {
            let def = types
                .iter()
                .find(|def| &def.name == name)
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            if def.kind == "struct" {
                let mut object = serde_json::Map::new();
                for field in &def.fields {
                    let ty =
                        AbiType::parse(&field.ty).map_err(|_| arbitrary::Error::IncorrectFormat)?;
                    object.insert(field.name.clone(), generate_value(u, &ty, types, budget)?);
                }
                Value::Object(object)
            } else {
                let variant = u.choose(&def.variants)?;
                let mut values = variant
                    .fields
                    .iter()
                    .map(|field| {
                        let ty =
                            AbiType::parse(field).map_err(|_| arbitrary::Error::IncorrectFormat)?;
                        generate_value(u, &ty, types, budget)
                    })
                    .collect::<arbitrary::Result<Vec<_>>>()?;
                match values.len() {
                    0 => Value::String(variant.name.clone()),
                    1 => serde_json::json!({ &variant.name: values.remove(0) }),
                    _ => serde_json::json!({ &variant.name: values }),
                }
            }
        }
    })
}

/// A value of `ty` (in the form decoding gives) made from a pseudo-random stream seeded with
/// `seed`, for seed corpora; `None` if the type cannot be generated (an unknown `#[data]` type).
pub fn example_value(ty: &AbiType, types: &[TypeDef], seed: u64) -> Option<Value> {
    let mut rng = crate::mutate::Rng::new(seed);
    let bytes: Vec<u8> = (0..512).map(|_| rng.next_u64() as u8).collect();
    let mut budget = GENERATED_VALUES;
    generate_value(&mut Unstructured::new(&bytes), ty, types, &mut budget).ok()
}
