//! Writes the seed corpora of every fuzz target (`fuzz/corpus/<target>/seed-*`) and the
//! dictionaries (`fuzz/dictionaries/<target>.dict`) from the real thing: transactions and
//! blocks signed with the dev keys, sync-protocol frames, a JSON-RPC request for every method
//! of `SalusApi`, ABI/JSON pairs from the contracts' own ABIs, small contract modules in WAT.
//! Deterministic: run again, it writes the same files. Files not named `seed-*` (the
//! regressions of past findings) are left alone.
//!
//! `cargo run -p salus-fuzz --example generate_corpus`

use std::collections::BTreeSet;
use std::path::Path;

use parity_scale_codec::Encode;
use salus_client::ContractAbi;
use salus_client::types::{AbiType, TypeDef};
use salus_fuzz::abi_codec::example_value;
use salus_fuzz::mutate::Rng;
use salus_node::genesis::{
    DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS,
    DEV_SUPPLY_ADDRESS,
};
use salus_node::network::protocol::{ChainStatus, SyncRequest, SyncResponse};
use salus_primitives::block::transactions_root;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{
    Action, Address, Block, BlockHeader, CompactTarget, Hash, SecretKey, SignedTransaction,
    Transaction, keccak256,
};
use serde_json::{Value, json};

type Seeds = Vec<(String, Vec<u8>)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fuzz_dir = salus_fuzz::fuzz_dir();
    let corpora: [(&str, Seeds); 6] = [
        ("transaction", transaction_seeds()),
        ("block", block_seeds()),
        ("peer_message", peer_message_seeds()),
        ("rpc_request", rpc_request_seeds()),
        ("abi_codec", abi_codec_seeds()),
        ("wasm_module", wasm_module_seeds()),
    ];
    let mut total = 0;
    for (target, seeds) in corpora {
        let dir = salus_fuzz::corpus_dir(target);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("seed-") {
                std::fs::remove_file(entry.path())?;
            }
        }
        let bytes: usize = seeds.iter().map(|(_, seed)| seed.len()).sum();
        println!("{target}: {} seeds, {bytes} bytes", seeds.len());
        total += bytes;
        for (name, seed) in seeds {
            std::fs::write(dir.join(format!("seed-{name}")), seed)?;
        }
    }
    println!("total: {total} bytes");
    write_dictionaries(&fuzz_dir)?;
    Ok(())
}

fn write_dictionaries(fuzz_dir: &Path) -> std::io::Result<()> {
    let dir = fuzz_dir.join("dictionaries");
    std::fs::create_dir_all(&dir)?;
    for target in salus_fuzz::targets() {
        let path = dir.join(format!("{}.dict", target.name));
        if target.dictionary.is_empty() {
            if path.exists() {
                std::fs::remove_file(path)?;
            }
        } else {
            std::fs::write(path, salus_fuzz::dictionary_file(target.dictionary))?;
        }
    }
    Ok(())
}

fn dev_key(index: u32) -> SecretKey {
    derive_key(DEV_MNEMONIC, index).expect("the dev mnemonic derives keys")
}

fn unsigned(nonce: u64, action: Action, sponsor: Option<Address>) -> Transaction {
    Transaction {
        chain_id: DEV_CHAIN_ID,
        nonce,
        fuel_limit: 2_000_000,
        fuel_price: 1,
        action,
        sponsor,
    }
}

/// A small contract module: a memory, `call` echoing its input.
fn echo_contract() -> Vec<u8> {
    wat(r#"(module
        (import "salus" "input_len" (func $input_len (result i32)))
        (import "salus" "input_read" (func $input_read (param i32)))
        (import "salus" "set_return" (func $set_return (param i32 i32)))
        (memory (export "memory") 1)
        (func (export "call")
            (call $input_read (i32.const 0))
            (call $set_return (i32.const 0) (call $input_len))))"#)
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|error| panic!("a seed module does not assemble: {error}"))
}

/// Transactions of every kind, signed with dev keys for the dev chain.
fn dev_transactions() -> Vec<(&'static str, SignedTransaction)> {
    let registry =
        ContractAbi::from_wasm(salus_contracts::REGISTRY).expect("the registry has an ABI");
    let authority_call = registry
        .encode_call("authority", &json!([]))
        .expect("`authority` takes no arguments");
    vec![
        (
            "transfer",
            unsigned(
                0,
                Action::Transfer {
                    to: Address([0x42; 20]),
                    amount: 1_000,
                },
                None,
            )
            .sign(&dev_key(1), None),
        ),
        (
            "sponsored-transfer",
            unsigned(
                3,
                Action::Transfer {
                    to: dev_key(4).address(),
                    amount: 7,
                },
                Some(dev_key(3).address()),
            )
            .sign(&dev_key(2), Some(&dev_key(3))),
        ),
        (
            "call",
            unsigned(
                1,
                Action::Call {
                    contract: DEV_REGISTRY_ADDRESS,
                    input: authority_call,
                    value: 0,
                },
                None,
            )
            .sign(&dev_key(1), None),
        ),
        (
            "deploy",
            unsigned(
                2,
                Action::Deploy {
                    code: echo_contract(),
                    constructor_input: vec![1, 2, 3],
                    salt: Hash([9; 32]),
                    value: 5,
                },
                None,
            )
            .sign(&dev_key(1), None),
        ),
    ]
}

fn transaction_seeds() -> Seeds {
    dev_transactions()
        .into_iter()
        .map(|(name, transaction)| (name.to_string(), transaction.encode()))
        .collect()
}

fn header(number: u64, parent_hash: Hash, transactions: &[SignedTransaction]) -> BlockHeader {
    BlockHeader {
        parent_hash,
        number,
        timestamp_ms: 1_767_225_600_000 + number * 1_000,
        transactions_root: transactions_root(transactions),
        receipts_root: keccak256(b"receipts"),
        state_root: keccak256(b"state"),
        bits: CompactTarget(0x207f_ffff),
        miner: dev_key(0).address(),
        nonce: number * 7,
    }
}

fn dev_blocks() -> Vec<Block> {
    let transactions: Vec<SignedTransaction> = dev_transactions()
        .into_iter()
        .map(|(_, transaction)| transaction)
        .collect();
    let empty = Block {
        header: header(1, keccak256(b"genesis"), &[]),
        transactions: Vec::new(),
    };
    let full = Block {
        header: header(2, empty.hash(), &transactions),
        transactions,
    };
    vec![empty, full]
}

fn block_seeds() -> Seeds {
    let blocks = dev_blocks();
    vec![
        ("empty-block".into(), blocks[0].encode()),
        ("block-with-transactions".into(), blocks[1].encode()),
        ("import-file-of-two-blocks".into(), blocks.encode()),
    ]
}

fn framed(message: &impl Encode) -> Vec<u8> {
    let bytes = message.encode();
    let mut frame = (bytes.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&bytes);
    frame
}

fn peer_message_seeds() -> Seeds {
    let blocks = dev_blocks();
    let hashes: Vec<Hash> = blocks.iter().map(Block::hash).collect();
    vec![
        ("status-request".into(), framed(&SyncRequest::Status)),
        (
            "headers-request".into(),
            framed(&SyncRequest::Headers {
                locator: vec![hashes[1], hashes[0], keccak256(b"genesis")],
                max: 512,
            }),
        ),
        (
            "bodies-request".into(),
            framed(&SyncRequest::Bodies {
                hashes: hashes.clone(),
            }),
        ),
        (
            "status-response".into(),
            framed(&SyncResponse::Status(ChainStatus {
                genesis: keccak256(b"genesis"),
                head: hashes[1],
                number: 2,
                total_work: [0; 32],
            })),
        ),
        (
            "headers-response".into(),
            framed(&SyncResponse::Headers(
                blocks.iter().map(|block| block.header.clone()).collect(),
            )),
        ),
        (
            "bodies-response".into(),
            framed(&SyncResponse::Bodies(
                blocks
                    .iter()
                    .map(|block| block.transactions.clone())
                    .collect(),
            )),
        ),
    ]
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// A JSON-RPC request for every method of `SalusApi` (some several times), a batch, a
/// notification and named parameters.
fn rpc_request_seeds() -> Seeds {
    let transactions = dev_transactions();
    let raw = |index: usize| format!("0x{}", hex::encode(transactions[index].1.encode()));
    let transfer_hash = transactions[0].1.hash().to_string();
    let registry = DEV_REGISTRY_ADDRESS.to_string();
    let consent = DEV_CONSENT_ADDRESS.to_string();
    let account = dev_key(1).address().to_string();
    let registry_abi = ContractAbi::from_wasm(salus_contracts::REGISTRY).expect("an ABI");
    let authority_call = registry_abi
        .encode_call("authority", &json!([]))
        .expect("`authority` takes no arguments");
    let peer = libp2p::identity::Keypair::ed25519_from_bytes([1; 32])
        .expect("32 bytes are an ed25519 key")
        .public()
        .to_peer_id()
        .to_string();
    let requests = [
        ("chain_head", request(1, "chain_head", json!([]))),
        (
            "chain_getBlock-number",
            request(2, "chain_getBlock", json!([0])),
        ),
        (
            "chain_getBlock-hash",
            request(3, "chain_getBlock", json!([Hash([0; 32]).to_string()])),
        ),
        ("chain_getHeader", request(4, "chain_getHeader", json!([1]))),
        (
            "chain_subscribeNewHeads",
            request(5, "chain_subscribeNewHeads", json!([])),
        ),
        (
            "chain_unsubscribeNewHeads",
            request(6, "chain_unsubscribeNewHeads", json!(["0x1"])),
        ),
        ("tx_submit", request(7, "tx_submit", json!([raw(0)]))),
        (
            "tx_submitBatch",
            request(8, "tx_submitBatch", json!([[raw(1), raw(2), raw(3)]])),
        ),
        ("tx_get", request(9, "tx_get", json!([transfer_hash]))),
        (
            "tx_receipt",
            request(10, "tx_receipt", json!([transfer_hash])),
        ),
        (
            "state_getAccount",
            request(11, "state_getAccount", json!([account, null])),
        ),
        (
            "state_getAccount-at",
            request(12, "state_getAccount", json!([registry, 0])),
        ),
        (
            "state_getStorage",
            request(13, "state_getStorage", json!([consent, "0x00", null])),
        ),
        (
            "state_getProof-account",
            request(14, "state_getProof", json!([null, account, null])),
        ),
        (
            "state_getProof-storage",
            request(15, "state_getProof", json!([registry, "0x0001", 0])),
        ),
        (
            "state_call",
            request(
                16,
                "state_call",
                json!([{
                    "contract": registry,
                    "input": format!("0x{}", hex::encode(&authority_call)),
                    "value": "0",
                    "fuel": 1_000_000,
                    "at": null,
                }]),
            ),
        ),
        (
            // A dry run signed by dev key 1 (expired long ago: the node refuses it, the parser
            // reads every field).
            "state_call-signed",
            request(
                32,
                "state_call",
                json!([
                    salus_client::DryRun::new(DEV_REGISTRY_ADDRESS, authority_call.clone())
                        .fuel(1_000_000)
                        .signed(DEV_CHAIN_ID, &dev_key(1), 1_767_225_600_000)
                ]),
            ),
        ),
        (
            "contract_abi",
            request(17, "contract_abi", json!([registry])),
        ),
        (
            "contract_abi-coverage",
            request(
                31,
                "contract_abi",
                json!([DEV_COVERAGE_ADDRESS.to_string()]),
            ),
        ),
        (
            "events_query-supply",
            request(
                32,
                "events_query",
                json!([{ "contract": DEV_SUPPLY_ADDRESS.to_string(), "after": "0x00", "limit": 1 }]),
            ),
        ),
        (
            "events_query",
            request(
                18,
                "events_query",
                json!([{
                    "contract": registry,
                    "topics": [null, Hash([1; 32]).to_string()],
                    "fromBlock": 0,
                    "toBlock": 10,
                    "limit": 20,
                }]),
            ),
        ),
        (
            "events_subscribe",
            request(19, "events_subscribe", json!([{ "contract": consent }])),
        ),
        (
            "events_unsubscribe",
            request(20, "events_unsubscribe", json!(["0x2"])),
        ),
        ("net_peers", request(21, "net_peers", json!([]))),
        (
            "net_addPeer",
            request(
                22,
                "net_addPeer",
                json!([format!("/ip4/127.0.0.1/tcp/30333/p2p/{peer}")]),
            ),
        ),
        ("net_banPeer", request(23, "net_banPeer", json!([peer, 60]))),
        ("net_unbanPeer", request(24, "net_unbanPeer", json!([peer]))),
        ("node_info", request(25, "node_info", json!([]))),
        ("dev_mine", request(26, "dev_mine", json!([1]))),
        (
            "dev_increaseTime",
            request(27, "dev_increaseTime", json!([1_000])),
        ),
        (
            "named-parameters",
            request(28, "state_getAccount", json!({ "address": account })),
        ),
        (
            "batch",
            json!([
                request(29, "chain_head", json!([])),
                request(30, "tx_get", json!(["0x00"])),
            ]),
        ),
        (
            "notification",
            json!({ "jsonrpc": "2.0", "method": "node_info", "params": [] }),
        ),
    ];
    requests
        .into_iter()
        .map(|(name, request)| (name.to_string(), request.to_string().into_bytes()))
        .collect()
}

/// Every `#[data]` type name `ty` refers to, directly or through the table.
fn type_closure(names: &[String], types: &[TypeDef]) -> Vec<TypeDef> {
    fn named(ty: &AbiType, out: &mut Vec<String>) {
        match ty {
            AbiType::Vec(inner) | AbiType::Option(inner) | AbiType::Array(inner, _) => {
                named(inner, out)
            }
            AbiType::Tuple(items) => items.iter().for_each(|item| named(item, out)),
            AbiType::Named(name) => out.push(name.clone()),
            _ => {}
        }
    }
    let mut pending: Vec<String> = Vec::new();
    for name in names {
        if let Ok(ty) = AbiType::parse(name) {
            named(&ty, &mut pending);
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = types.iter().find(|def| def.name == name) {
            let inner = def.fields.iter().map(|field| field.ty.clone()).chain(
                def.variants
                    .iter()
                    .flat_map(|variant| variant.fields.clone()),
            );
            for ty in inner {
                if let Ok(ty) = AbiType::parse(&ty) {
                    named(&ty, &mut pending);
                }
            }
        }
    }
    types
        .iter()
        .filter(|def| seen.contains(&def.name))
        .cloned()
        .collect()
}

/// An encoded example of `ty` with its JSON, from a few seeds until one encodes.
fn example(ty: &AbiType, types: &[TypeDef]) -> Option<(Value, Vec<u8>)> {
    (1..8u64).find_map(|seed| {
        let value = example_value(ty, types, seed)?;
        let mut bytes = Vec::new();
        ty.encode_json_with(&value, "example", &mut bytes, types)
            .ok()?;
        Some((value, bytes))
    })
}

fn joined(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&0u8)
}

/// Generated round trips (mode 0), types of the contracts with encoded values (mode 1), and
/// per contract a few messages with a trimmed ABI, arguments and result bytes, and one ABI with
/// its events (mode 2).
fn abi_codec_seeds() -> Seeds {
    let mut seeds = Seeds::new();
    let mut rng = Rng::new(0xab1);
    for index in 0..6 {
        let mut seed = vec![0u8];
        seed.extend((0..96).map(|_| rng.next_u64() as u8));
        seeds.push((format!("generated-{index}"), seed));
    }
    let contracts = [
        ("counter", salus_contracts::COUNTER),
        ("registry", salus_contracts::REGISTRY),
        ("consent", salus_contracts::CONSENT),
        ("coverage", salus_contracts::COVERAGE),
        ("supply", salus_contracts::SUPPLY),
    ];
    for (contract, code) in contracts {
        let section = salus_client::abi::custom_section(code, salus_abi::ABI_SECTION)
            .ok()
            .flatten()
            .expect("every contract carries its ABI");
        let abi_json: Value = serde_json::from_slice(section).expect("the ABI is JSON");
        let abi = ContractAbi::from_json(&abi_json.to_string()).expect("the ABI parses");

        // Mode 1: the contract's most involved data types.
        let mut data_types = abi.types.clone();
        data_types.sort_by_key(|def| {
            std::cmp::Reverse(type_closure(std::slice::from_ref(&def.name), &abi.types).len())
        });
        for def in data_types.iter().take(2) {
            let closure = type_closure(std::slice::from_ref(&def.name), &abi.types);
            let ty = AbiType::Named(def.name.clone());
            if let Some((_, bytes)) = example(&ty, &abi.types) {
                let table = serde_json::to_vec(&closure).expect("types serialize");
                let mut seed = vec![1u8];
                seed.extend(joined(&[def.name.as_bytes(), &table, &bytes]));
                seeds.push((format!("{contract}-type-{}", def.name), seed));
            }
        }

        // Mode 2: the messages with the most involved arguments, each with a trimmed ABI.
        let mut messages: Vec<&Value> = abi_json["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let closure_of = |message: &Value| {
            let names: Vec<String> = message["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|arg| arg["type"].as_str().map(str::to_string))
                .chain(message["returns"].as_str().map(str::to_string))
                .collect();
            type_closure(&names, &abi.types)
        };
        messages.sort_by_key(|message| std::cmp::Reverse(closure_of(message).len()));
        for message in messages.into_iter().take(3) {
            let name = message["name"].as_str().unwrap_or_default();
            let Ok(parsed) = abi.message(name) else {
                continue;
            };
            let arguments: Option<Vec<Value>> = parsed
                .args
                .iter()
                .map(|arg| {
                    let ty = AbiType::parse(&arg.ty).ok()?;
                    example(&ty, &abi.types).map(|(value, _)| value)
                })
                .collect();
            let Some(arguments) = arguments else {
                continue;
            };
            let result = parsed
                .returns
                .as_deref()
                .and_then(|returns| AbiType::parse(returns).ok())
                .and_then(|ty| example(&ty, &abi.types))
                .map(|(_, bytes)| bytes)
                .unwrap_or_default();
            let trimmed = json!({
                "abi_version": abi_json["abi_version"],
                "contract": abi_json["contract"],
                "reentrant": abi_json["reentrant"],
                "constructor": null,
                "messages": [message],
                "events": [],
                "errors": [],
                "types": closure_of(message),
            });
            let mut seed = vec![2u8];
            seed.extend(joined(&[
                trimmed.to_string().as_bytes(),
                name.as_bytes(),
                Value::Array(arguments).to_string().as_bytes(),
                &result,
            ]));
            seeds.push((format!("{contract}-message-{name}"), seed));
        }
        let event_types: Vec<String> = abi
            .events
            .iter()
            .flat_map(|event| event.fields.iter().map(|field| field.ty.clone()))
            .collect();
        let with_events = json!({
            "abi_version": abi_json["abi_version"],
            "contract": abi_json["contract"],
            "reentrant": abi_json["reentrant"],
            "constructor": abi_json["constructor"],
            "messages": [],
            "events": abi_json["events"],
            "errors": abi_json["errors"],
            "types": type_closure(&event_types, &abi.types),
        });
        let event_data = abi
            .events
            .first()
            .map(|event| {
                let mut data = Vec::new();
                for field in &event.fields {
                    if let Some((_, bytes)) = AbiType::parse(&field.ty)
                        .ok()
                        .and_then(|ty| example(&ty, &abi.types))
                    {
                        data.extend(bytes);
                    }
                }
                data
            })
            .unwrap_or_default();
        let mut seed = vec![2u8];
        seed.extend(joined(&[
            with_events.to_string().as_bytes(),
            b"new",
            b"[]",
            &event_data,
        ]));
        seeds.push((format!("{contract}-events"), seed));
    }
    seeds
}

/// Small contracts and refused modules (mode 0), and random streams for the three
/// `wasm-smith` modes.
fn wasm_module_seeds() -> Seeds {
    let modules = [
        (
            "minimal",
            r#"(module (memory (export "memory") 1) (func (export "call")))"#,
        ),
        (
            "constructor-and-storage",
            r#"(module
                (import "salus" "input_len" (func $input_len (result i32)))
                (import "salus" "input_read" (func $input_read (param i32)))
                (import "salus" "storage_set" (func $set (param i32 i32 i32 i32)))
                (import "salus" "storage_get" (func $get (param i32 i32 i32 i32) (result i64)))
                (import "salus" "set_return" (func $set_return (param i32 i32)))
                (memory (export "memory") 1)
                (data (i32.const 0) "key")
                (func (export "deploy")
                    (call $input_read (i32.const 16))
                    (call $set (i32.const 0) (i32.const 3) (i32.const 16) (call $input_len)))
                (func (export "call")
                    (call $set_return (i32.const 16)
                        (i32.wrap_i64 (call $get (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 1024))))))"#,
        ),
        (
            "events-and-revert",
            r#"(module
                (import "salus" "emit_event" (func $emit (param i32 i32 i32 i32)))
                (import "salus" "revert" (func $revert (param i32 i32)))
                (import "salus" "input_len" (func $input_len (result i32)))
                (memory (export "memory") 1)
                (data (i32.const 64) "no input")
                (func (export "call")
                    (call $emit (i32.const 0) (i32.const 1) (i32.const 32) (i32.const 8))
                    (if (i32.eqz (call $input_len))
                        (then (call $revert (i32.const 64) (i32.const 8))))))"#,
        ),
        (
            "host-calls",
            r#"(module
                (import "salus" "self_address" (func $self (param i32)))
                (import "salus" "call" (func $call (param i32 i32 i32 i32 i64) (result i32)))
                (import "salus" "keccak256" (func $keccak (param i32 i32 i32)))
                (import "salus" "balance" (func $balance (param i32 i32)))
                (import "salus" "transfer" (func $transfer (param i32 i32) (result i32)))
                (memory (export "memory") 1)
                (func (export "call")
                    (call $self (i32.const 0))
                    (call $keccak (i32.const 0) (i32.const 20) (i32.const 32))
                    (call $balance (i32.const 0) (i32.const 64))
                    (drop (call $transfer (i32.const 32) (i32.const 64)))
                    (drop (call $call (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 64) (i64.const 0)))))"#,
        ),
        (
            "loops-forever",
            r#"(module (memory (export "memory") 1) (func (export "call") (loop (br 0))))"#,
        ),
        (
            "recursion",
            r#"(module (memory (export "memory") 1)
                (func $down (param i32) (result i32)
                    (call $down (i32.add (local.get 0) (i32.const 1))))
                (func (export "call") (drop (call $down (i32.const 0)))))"#,
        ),
        (
            "memory-growth",
            r#"(module (memory (export "memory") 1)
                (func (export "call")
                    (drop (memory.grow (i32.const 1)))
                    (drop (memory.grow (i32.const 100)))
                    (i32.store (i32.const 131000) (i32.const 7))))"#,
        ),
        (
            "float-nan",
            r#"(module
                (import "salus" "set_return" (func $set_return (param i32 i32)))
                (memory (export "memory") 1)
                (func (export "call")
                    (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
                    (f64.store (i32.const 8) (f64.sqrt (f64.const -1)))
                    (call $set_return (i32.const 0) (i32.const 16))))"#,
        ),
        (
            "traps",
            r#"(module (memory (export "memory") 1)
                (func (export "call") (drop (i32.div_s (i32.const 1) (i32.const 0)))))"#,
        ),
        (
            "tables-and-indirect-calls",
            r#"(module (memory (export "memory") 1)
                (table 4 funcref)
                (elem (i32.const 0) $f)
                (type $t (func (result i32)))
                (func $f (result i32) (i32.const 1))
                (func (export "call") (drop (call_indirect (type $t) (i32.const 3)))))"#,
        ),
        (
            "refused-unknown-import",
            r#"(module (import "env" "abort" (func)) (memory (export "memory") 1) (func (export "call")))"#,
        ),
        (
            "refused-start",
            r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "call")))"#,
        ),
        (
            "refused-simd",
            r#"(module (memory (export "memory") 1)
                (func (export "call") (drop (v128.const i64x2 1 2))))"#,
        ),
        (
            "refused-two-memories",
            r#"(module (memory (export "memory") 1) (memory 1) (func (export "call")))"#,
        ),
        (
            "refused-wrong-entry-signature",
            r#"(module (memory (export "memory") 1) (func (export "call") (param i32)))"#,
        ),
        (
            "refused-large-table",
            r#"(module (memory (export "memory") 1) (table 5000 funcref) (func (export "call")))"#,
        ),
    ];
    let mut seeds: Seeds = modules
        .into_iter()
        .map(|(name, text)| {
            let mut seed = vec![0u8];
            seed.extend(wat(text));
            (name.to_string(), seed)
        })
        .collect();
    let mut rng = Rng::new(0x5a15);
    for mode in 1..=3u8 {
        for index in 0..3 {
            let mut seed = vec![mode];
            seed.extend((0..256).map(|_| rng.next_u64() as u8));
            seeds.push((format!("wasm-smith-mode-{mode}-{index}"), seed));
        }
    }
    seeds
}
