//! JSON → SCALE → JSON for every ABI type, agreement with Rust's own SCALE encoding, errors that
//! name the field, and the real counter contract's ABI read from its Wasm and used end to end.

use parity_scale_codec::Encode;
use salus_abi::ABI_SECTION;
use salus_client::abi::custom_section;
use salus_client::{AbiError, AbiType, ContractAbi, TypeError};
use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

fn round_trip(type_name: &str, value: Value) -> Vec<u8> {
    let ty = AbiType::parse(type_name).unwrap();
    let mut bytes = Vec::new();
    ty.encode_json(&value, "value", &mut bytes).unwrap();
    let decoded = ty.decode_json(&mut &bytes[..], "value").unwrap();
    assert_eq!(decoded, value, "{type_name} did not round-trip");
    bytes
}

#[test]
fn every_type_round_trips_and_matches_rust_encoding() {
    assert_eq!(round_trip("bool", json!(true)), true.encode());
    assert_eq!(round_trip("u8", json!(255)), 255u8.encode());
    assert_eq!(round_trip("u16", json!(65535)), 65535u16.encode());
    assert_eq!(
        round_trip("u32", json!(4_000_000_000u32)),
        4_000_000_000u32.encode()
    );
    assert_eq!(
        round_trip("u64", json!(u64::MAX.to_string())),
        u64::MAX.encode()
    );
    assert_eq!(
        round_trip("u128", json!(u128::MAX.to_string())),
        u128::MAX.encode()
    );
    assert_eq!(round_trip("i8", json!(-128)), (-128i8).encode());
    assert_eq!(round_trip("i16", json!(-300)), (-300i16).encode());
    assert_eq!(round_trip("i32", json!(i32::MIN)), i32::MIN.encode());
    assert_eq!(
        round_trip("i64", json!(i64::MIN.to_string())),
        i64::MIN.encode()
    );
    assert_eq!(
        round_trip("i128", json!((-5i128).to_string())),
        (-5i128).encode()
    );
    assert_eq!(
        round_trip("String", json!("ETREAT ✓")),
        "ETREAT ✓".to_string().encode()
    );
    let address = Address([0xab; 20]);
    assert_eq!(
        round_trip("Address", json!(address.to_string())),
        address.encode()
    );
    let hash = Hash([7; 32]);
    assert_eq!(round_trip("Hash", json!(hash.to_string())), hash.encode());
    assert_eq!(
        round_trip("Vec<u8>", json!("0x00ff10")),
        vec![0u8, 255, 16].encode()
    );
    assert_eq!(
        round_trip("Vec<u32>", json!([1, 2, 3])),
        vec![1u32, 2, 3].encode()
    );
    assert_eq!(round_trip("Option<u64>", json!(null)), None::<u64>.encode());
    assert_eq!(round_trip("Option<u64>", json!("9")), Some(9u64).encode());
    assert_eq!(
        round_trip("[u8;4]", json!("0x01020304")),
        [1u8, 2, 3, 4].encode()
    );
    assert_eq!(
        round_trip("[u16;3]", json!([1, 2, 3])),
        [1u16, 2, 3].encode()
    );
    assert_eq!(
        round_trip("(u8,bool,String)", json!([1, false, "x"])),
        (1u8, false, "x".to_string()).encode()
    );
    assert_eq!(round_trip("()", json!(null)), ().encode());
    let nested = vec![(address, Some(hash)), (Address([1; 20]), None)];
    assert_eq!(
        round_trip(
            "Vec<(Address,Option<Hash>)>",
            json!([
                [address.to_string(), hash.to_string()],
                [Address([1; 20]).to_string(), null]
            ])
        ),
        nested.encode()
    );
    // Paths are reduced to their last segment.
    assert_eq!(
        AbiType::parse("salus_sdk::Address").unwrap(),
        AbiType::Address
    );
    assert!(matches!(
        AbiType::parse("HashMap<u8,u8>"),
        Err(TypeError::Unsupported(_))
    ));
}

#[test]
fn values_that_do_not_fit_name_the_field() {
    let ty = AbiType::parse("(u8,Vec<Address>)").unwrap();
    let error = ty
        .encode_json(&json!([300, []]), "args", &mut Vec::new())
        .unwrap_err();
    assert!(error.to_string().contains("`args.0`"), "{error}");
    let error = ty
        .encode_json(&json!([1, ["0x12"]]), "args", &mut Vec::new())
        .unwrap_err();
    assert!(error.to_string().contains("`args.1.0`"), "{error}");
    assert!(error.to_string().contains("20-byte"), "{error}");
    let error = AbiType::parse("u64")
        .unwrap()
        .decode_json(&mut &[1u8, 2][..], "result")
        .unwrap_err();
    assert!(error.to_string().contains("needs 8 bytes"), "{error}");
}

#[test]
fn the_counter_abi_read_from_its_wasm_drives_calls_end_to_end() {
    let abi = ContractAbi::from_wasm(salus_contracts::COUNTER).unwrap();
    assert_eq!(abi.contract, "Counter");
    assert_eq!(abi.constructor.as_ref().unwrap().name, "new");
    let increment = abi.message("increment").unwrap();
    assert_eq!(increment.args[0].ty, "u64");
    assert_eq!(increment.error.as_deref(), Some("CounterError"));
    assert!(abi.message("get").unwrap().view);
    assert_eq!(
        abi.errors[0].variants,
        vec!["Overflow", "NotOwner", "CapReached"]
    );
    // Every type the contract's ABI mentions is one the client can encode.
    for message in abi.messages.iter().chain(abi.constructor.iter()) {
        for ty in message
            .args
            .iter()
            .map(|arg| &arg.ty)
            .chain(message.returns.iter())
        {
            AbiType::parse(ty).unwrap_or_else(|e| panic!("{}: {e}", message.name));
        }
    }
    let echo_arguments = json!([
        true,
        7,
        "-9",
        "340282366920938463463374607431768211455",
        "text",
        "0x0102",
        [5, null],
        []
    ]);
    let echo_input = abi.encode_call("echo", &echo_arguments).unwrap();

    let mut chain = salus_testkit::TestChain::new();
    let owner = chain.account(1);
    let counter = chain
        .deploy(owner, salus_contracts::COUNTER, "new", &5u64)
        .unwrap();
    // The client's encoding equals the test kit's (selector + SCALE).
    let input = abi.encode_call("increment", &json!([3])).unwrap();
    assert_eq!(input, salus_testkit::message_input("increment", &3u64));
    let by_name = abi
        .encode_call("increment", &json!({ "amount": 3 }))
        .unwrap();
    assert_eq!(by_name, input);
    let result = chain.call_raw(owner, counter, input);
    assert_eq!(
        abi.decode_result("increment", &result.receipt.return_data)
            .unwrap(),
        json!("8")
    );
    let event = abi
        .decode_event(&result.receipt.events[0])
        .unwrap()
        .unwrap();
    assert_eq!(event["event"], "Incremented");
    assert_eq!(event["fields"]["total"], "8");
    assert_eq!(event["fields"]["by"], owner.to_string());

    let echoed = chain.call_raw(owner, counter, echo_input);
    assert_eq!(
        abi.decode_result("echo", &echoed.receipt.return_data)
            .unwrap(),
        echo_arguments
    );

    // Wrong JSON: client-side errors naming the problem.
    assert!(matches!(
        abi.encode_call("incremnt", &json!([1])),
        Err(AbiError::UnknownMessage(_))
    ));
    let error = abi.encode_call("increment", &json!(["three"])).unwrap_err();
    assert!(error.to_string().contains("`amount`"), "{error}");
    let error = abi.encode_call("increment", &json!([1, 2])).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("takes 1 arguments (amount), got 2"),
        "{error}"
    );
    // A module without an ABI section.
    assert_eq!(
        ContractAbi::from_wasm(b"\0asm\x01\0\0\0"),
        Err(AbiError::Missing)
    );
}

#[test]
fn transaction_builder_tracks_nonces_and_signs_for_the_chain() {
    let key = salus_client::derive_key(salus_client::DEV_MNEMONIC, 0).unwrap();
    let mut builder = salus_client::TransactionBuilder::new(7_357, key.clone(), 4);
    let first = builder.transfer(Address([1; 20]), 10);
    let second = builder.transfer(Address([1; 20]), 10);
    assert_eq!(first.transaction.nonce, 4);
    assert_eq!(second.transaction.nonce, 5);
    assert_eq!(first.verify_signatures().unwrap().sender, key.address());
    assert_eq!(
        salus_client::decode_failure(&salus_primitives::ExecutionStatus::Reverted {
            message: "CounterError::NotOwner".into()
        }),
        Some("reverted: CounterError::NotOwner".into())
    );
}

#[test]
fn data_structs_and_enums_are_described_in_the_abi_and_encoded_by_the_client() {
    let abi = ContractAbi::from_wasm(salus_contracts::COUNTER).unwrap();
    let mode = abi
        .types
        .iter()
        .find(|t| t.name == "Mode")
        .expect("Mode is described");
    assert_eq!(mode.kind, "enum");
    assert_eq!(
        mode.variants
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Open", "Capped"]
    );
    let stats = abi
        .types
        .iter()
        .find(|t| t.name == "Stats")
        .expect("Stats is described");
    assert_eq!(
        stats
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        vec!["total", "mode", "owner"]
    );

    let mut chain = salus_testkit::TestChain::new();
    let owner = chain.account(1);
    let counter = chain
        .deploy(owner, salus_contracts::COUNTER, "new", &5u64)
        .unwrap();
    // Enum argument from JSON: {"Capped": "7"} → index 1, then the u64.
    let input = abi
        .encode_call("set_mode", &json!([{ "Capped": "7" }]))
        .unwrap();
    let mut expected = salus_testkit::selector("set_mode").to_vec();
    expected.extend_from_slice(&[1]);
    expected.extend_from_slice(&7u64.to_le_bytes());
    assert_eq!(input, expected);
    assert!(chain.call_raw(owner, counter, input).is_success());
    assert_eq!(
        chain
            .call(owner, counter, "increment", &3u64)
            .revert_message(),
        "CounterError::CapReached"
    );
    // Struct result to JSON, with the enum and an option inside.
    let stats_result = chain.call(owner, counter, "stats", &());
    let decoded = abi
        .decode_result("stats", &stats_result.receipt.return_data)
        .unwrap();
    assert_eq!(
        decoded,
        json!({ "total": "5", "mode": { "Capped": "7" }, "owner": owner.to_string() })
    );
    // Unit variants are plain strings; a wrong variant name is named in the error.
    let open = abi.encode_call("set_mode", &json!(["Open"])).unwrap();
    assert_eq!(&open[4..], &[0]);
    let error = abi.encode_call("set_mode", &json!(["Closed"])).unwrap_err();
    assert!(
        error.to_string().contains("`mode`") && error.to_string().contains("Mode"),
        "{error}"
    );
}

/// An ABI is whatever its deployer wrote: hostile type tables and values end in typed errors
/// (found by the `abi_codec` fuzz target; the inputs are also in fuzz/corpus/abi_codec).
#[test]
fn hostile_types_and_values_are_errors_not_crashes() {
    use salus_client::types::{MAX_DECODED_VALUES, TypeDef, TypeField, TypeVariant};

    // A struct that contains itself: decoding stops at the nesting limit.
    let recursive = vec![TypeDef {
        name: "Loop".into(),
        kind: "struct".into(),
        fields: vec![TypeField {
            name: "next".into(),
            ty: "Loop".into(),
        }],
        variants: Vec::new(),
    }];
    let error = AbiType::parse("Loop")
        .unwrap()
        .decode_json_with(&mut &[0u8; 4][..], "value", &recursive)
        .unwrap_err();
    assert!(error.to_string().contains("nested more than"), "{error}");

    // Billions of zero-sized elements from five bytes: refused past the value budget.
    let huge_length = parity_scale_codec::Compact(u32::MAX).encode();
    let error = AbiType::parse("Vec<()>")
        .unwrap()
        .decode_json(&mut &huge_length[..], "value")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("more than {MAX_DECODED_VALUES} values")),
        "{error}"
    );
    let error = AbiType::parse("[();4000000000]")
        .unwrap()
        .decode_json(&mut &[][..], "value")
        .unwrap_err();
    assert!(error.to_string().contains("values"), "{error}");

    // A type name nested deeper than the limit.
    let deep = format!("{}u8{}", "Vec<".repeat(100), ">".repeat(100));
    assert!(matches!(
        AbiType::parse(&deep),
        Err(TypeError::Unsupported(_))
    ));

    // A variant past the 256th cannot be encoded (its index would be truncated to another's).
    let wide = vec![TypeDef {
        name: "Wide".into(),
        kind: "enum".into(),
        fields: Vec::new(),
        variants: (0..300)
            .map(|index| TypeVariant {
                name: format!("V{index}"),
                fields: Vec::new(),
            })
            .collect(),
    }];
    let wide_type = AbiType::parse("Wide").unwrap();
    let mut bytes = Vec::new();
    wide_type
        .encode_json_with(&json!("V255"), "value", &mut bytes, &wide)
        .unwrap();
    assert_eq!(bytes, [255]);
    assert!(
        wide_type
            .encode_json_with(&json!("V300"), "value", &mut Vec::new(), &wide)
            .is_err()
    );
    assert!(
        wide_type
            .encode_json_with(&json!("V256"), "value", &mut Vec::new(), &wide)
            .is_err()
    );

    // An error quoting a value cuts it at a character, not inside one.
    let error = AbiType::parse("u8")
        .unwrap()
        .encode_json(&json!("é".repeat(60)), "value", &mut Vec::new())
        .unwrap_err();
    assert!(error.to_string().contains('…'), "{error}");
}

/// A custom section whose name runs past the section's end is malformed, not a crash.
#[test]
fn a_custom_section_name_longer_than_its_section_is_refused() {
    // Header, then a custom section of 3 bytes whose 9-byte name `salus_abi` runs on into the
    // bytes after it.
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.extend_from_slice(&[0, 3, 9]);
    module.extend_from_slice(ABI_SECTION.as_bytes());
    assert!(matches!(
        custom_section(&module, ABI_SECTION),
        Err(AbiError::NotWasm(_))
    ));
    assert!(ContractAbi::from_wasm(&module).is_err());
}

/// The counter contract's module and where its ABI section's data lies in it.
fn counter_and_abi_span() -> (&'static [u8], std::ops::Range<usize>) {
    let module = salus_contracts::COUNTER;
    let data = custom_section(module, ABI_SECTION)
        .unwrap()
        .expect("the counter carries its ABI");
    let start = data.as_ptr() as usize - module.as_ptr() as usize;
    (module, start..start + data.len())
}

/// A module cut short anywhere inside its ABI section is an error, never a shorter ABI; a cut
/// anywhere else is an error or, at a section boundary, a smaller well-formed module.
#[test]
fn a_truncated_module_is_an_error_not_a_truncated_section() {
    let (module, abi) = counter_and_abi_span();
    let whole = &module[abi.clone()];
    // Every cut around the ABI section and the header, and a spread of cuts elsewhere.
    let cuts = (0..64)
        .chain(abi.start.saturating_sub(64)..abi.end.min(module.len()))
        .chain((0..module.len()).step_by(61));
    for cut in cuts {
        match custom_section(&module[..cut], ABI_SECTION) {
            Err(AbiError::NotWasm(_)) => {}
            Ok(found) => {
                assert!(
                    !(abi.start..abi.end).contains(&cut),
                    "a cut at {cut}, inside the ABI section, was read as a module"
                );
                assert!(found.is_none_or(|data| data == whole), "cut at {cut}");
            }
            Err(other) => panic!("cut at {cut}: {other:?}"),
        }
        if (abi.start..abi.end).contains(&cut) {
            assert!(
                ContractAbi::from_wasm(&module[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}

/// Hand-crafted headers that lie about sizes and names: each is an error, not a panic or a read
/// past the input.
#[test]
fn crafted_section_headers_are_errors_not_panics() {
    let header = b"\0asm\x01\0\0\0";
    let with_header = |rest: &[u8]| [&header[..], rest].concat();
    let crafted: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("magic only", b"\0asm".to_vec()),
        ("wrong magic", b"\0wasm\x01\0\0".to_vec()),
        ("a component", b"\0asm\x0d\0\x01\0".to_vec()),
        ("unknown version", b"\0asm\x02\0\0\0".to_vec()),
        (
            "a section size past the end",
            with_header(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        ),
        (
            "a section size of six LEB128 bytes",
            with_header(&[0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        ),
        ("a size cut off", with_header(&[0, 0x80])),
        (
            "a name length past the section",
            with_header(&[0, 2, 0x7f, b'a']),
        ),
        (
            "a name that is not UTF-8",
            with_header(&[0, 3, 2, 0xff, 0xfe]),
        ),
        ("an unknown section id", with_header(&[0x7f, 0])),
    ];
    for (what, bytes) in &crafted {
        assert!(
            matches!(
                custom_section(bytes, ABI_SECTION),
                Err(AbiError::NotWasm(_))
            ),
            "{what}: {:?}",
            custom_section(bytes, ABI_SECTION)
        );
        assert!(ContractAbi::from_wasm(bytes).is_err(), "{what}");
    }
    // The header alone is a well-formed empty module, with no ABI.
    assert_eq!(custom_section(header, ABI_SECTION), Ok(None));
    assert!(matches!(
        ContractAbi::from_wasm(header),
        Err(AbiError::Missing)
    ));
}

/// Every single-byte change to the counter's module around its ABI section's header and in the
/// module header reads as something or fails as an error; none panics.
#[test]
fn single_byte_changes_to_a_module_never_panic() {
    let (module, abi) = counter_and_abi_span();
    let positions = (0..16).chain(abi.start.saturating_sub(16)..abi.start + 16);
    for position in positions {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff, module[position] ^ 0x40] {
            let mut changed = module.to_vec();
            changed[position] = value;
            let _ = custom_section(&changed, ABI_SECTION);
            let _ = ContractAbi::from_wasm(&changed);
        }
    }
}
