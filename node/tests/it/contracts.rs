//! Contracts through the node's import path: deploy and call transactions in mined blocks, the
//! state root covering contract storage, receipts with events and failures, and identical
//! results when the same blocks are imported by another process.

use std::process::Command;

use parity_scale_codec::Encode;
use salus_primitives::{Action, Address, ExecutionStatus, Hash, StateKey};

use crate::support::*;

/// Each call adds one to the 8-byte counter under "count" and emits it as an event.
const COUNTER: &str = r#"(module
  (import "salus" "storage_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "salus" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "salus" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "salus" "revert" (func $revert (param i32 i32)))
  (import "salus" "input_len" (func $input_len (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  (data (i32.const 64) "refusing")
  (func (export "call")
    (if (i32.gt_u (call $input_len) (i32.const 0))
      (then (call $revert (i32.const 64) (i32.const 8))))
    (if (i64.eq (call $get (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8)) (i64.const -1))
      (then (i64.store (i32.const 16) (i64.const 0))))
    (i64.store (i32.const 16) (i64.add (i64.load (i32.const 16)) (i64.const 1)))
    (call $set (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8))
    (call $emit (i32.const 32) (i32.const 1) (i32.const 16) (i32.const 8))))"#;

#[test]
fn deploy_and_call_through_blocks_commit_contract_storage_to_the_state_root() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let code = wat::parse_str(COUNTER).unwrap();
    let salt = Hash([3; 32]);
    let deployer = dev_key(5).address();
    let address = Address::contract(&deployer, &salus_primitives::keccak256(&code), &salt);
    let deploy = dev5_transaction(
        0,
        Action::Deploy {
            code,
            constructor_input: Vec::new(),
            salt,
            value: 0,
        },
    );
    let call = |nonce, input: Vec<u8>| {
        dev5_transaction(
            nonce,
            Action::Call {
                contract: address,
                input,
                value: 0,
            },
        )
    };

    let first = test.mine(miner, &[deploy, call(1, Vec::new())]);
    let receipts = test.chain.receipts(&first.hash()).unwrap().unwrap();
    assert_eq!(receipts[0].status, ExecutionStatus::Success);
    assert_eq!(receipts[0].return_data, address.0.to_vec());
    assert_eq!(receipts[1].status, ExecutionStatus::Success);
    assert_eq!(receipts[1].events.len(), 1);
    assert_eq!(receipts[1].events[0].data, 1u64.to_le_bytes());

    // A reverting call is included with a failure receipt: fee kept, nonce advanced, no state
    // change, no events.
    let second = test.mine(miner, &[call(2, b"x".to_vec()), call(3, Vec::new())]);
    let receipts = test.chain.receipts(&second.hash()).unwrap().unwrap();
    assert_eq!(
        receipts[0].status,
        ExecutionStatus::Reverted {
            message: "refusing".into()
        }
    );
    assert!(receipts[0].events.is_empty());
    assert!(receipts[0].fuel_used > 0);
    assert_eq!(receipts[1].events[0].data, 2u64.to_le_bytes());
    assert_eq!(test.chain.account(&deployer).unwrap().nonce, 4);

    // The contract's storage is in the state tree under the header's root, with a proof.
    let key = StateKey::Storage(address, b"count".to_vec());
    let root = test.chain.head().header.state_root;
    let (proof, value) = test.chain.prove(&root, &key).unwrap();
    assert_eq!(value, Some(2u64.to_le_bytes().to_vec()));
    proof
        .verify(&root, &key.tree_path(), value.as_deref())
        .unwrap();

    // verify-chain re-executes the contract blocks from genesis.
    let report = salus_node::verify::verify_chain(test.chain.store()).unwrap();
    assert_eq!(report.transactions, 4);

    // Another process imports the same blocks and reaches the same head, roots and receipts.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("blocks.scale");
    std::fs::write(&file, vec![first.clone(), second.clone()].encode()).unwrap();
    let data_dir = work.path().join("replica");
    let status = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["import-blocks", "--data-dir"])
        .arg(&data_dir)
        .arg(&file)
        .env("RUST_LOG", "error")
        .status()
        .unwrap();
    assert!(status.success());
    let replica =
        salus_node::Chain::open(salus_node::Store::open(&data_dir).unwrap(), &dev_genesis())
            .unwrap();
    assert_eq!(replica.head(), test.chain.head());
    for block in [&first, &second] {
        assert_eq!(
            replica.receipts(&block.hash()).unwrap(),
            test.chain.receipts(&block.hash()).unwrap()
        );
    }
    assert_eq!(flat_state(&replica), flat_state(&test.chain));
}

#[test]
fn a_module_the_runtime_refuses_is_included_with_a_failure_receipt() {
    let mut test = TestChain::new();
    let bad = dev5_transaction(
        0,
        Action::Deploy {
            code: b"\0asm\x01\0\0\0garbage".to_vec(),
            constructor_input: Vec::new(),
            salt: Hash::ZERO,
            value: 0,
        },
    );
    let block = test.mine(dev_key(0).address(), &[bad]);
    let receipts = test.chain.receipts(&block.hash()).unwrap().unwrap();
    assert!(
        matches!(receipts[0].status, ExecutionStatus::Invalid { .. }),
        "{:?}",
        receipts[0].status
    );
    assert_eq!(test.chain.account(&dev_key(5).address()).unwrap().nonce, 1);
}

/// A block may load at most `MAX_CODES_LOADED_PER_BLOCK` distinct codes. Executed as imported,
/// a call past the bound fails with an invalid-action receipt; a miner leaves it out instead, and
/// it succeeds in the next block.
#[test]
fn a_miner_leaves_a_call_past_the_blocks_code_bound_for_the_next_block() {
    use salus_runtime::limits::MAX_CODES_LOADED_PER_BLOCK;

    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let deployer = dev_key(5).address();
    let count = MAX_CODES_LOADED_PER_BLOCK + 1;
    let mut deploys = Vec::new();
    let mut contracts = Vec::new();
    for index in 0..count {
        // Distinct codes: the revert message differs.
        let code =
            wat::parse_str(COUNTER.replace("refusing", &format!("refus{index:03}"))).unwrap();
        let salt = Hash([1; 32]);
        contracts.push(Address::contract(
            &deployer,
            &salus_primitives::keccak256(&code),
            &salt,
        ));
        let action = Action::Deploy {
            code,
            constructor_input: Vec::new(),
            salt,
            value: 0,
        };
        deploys.push(dev5_transaction(index as u64, action));
    }
    test.mine(miner, &deploys);
    let calls: Vec<_> = contracts
        .iter()
        .enumerate()
        .map(|(index, contract)| {
            let action = Action::Call {
                contract: *contract,
                input: Vec::new(),
                value: 0,
            };
            dev5_transaction((count + index) as u64, action)
        })
        .collect();

    // As block import executes them: the last call is refused its code and fails.
    let execution = test.execute_next(miner, &calls).unwrap();
    let (last, loaded) = execution.receipts.split_last().unwrap();
    assert!(loaded.iter().all(|receipt| receipt.status.is_success()));
    assert!(
        last.status
            == ExecutionStatus::Invalid {
                reason: salus_primitives::InvalidReason::CodeLoadLimit
            },
        "{:?}",
        last.status
    );

    // A miner leaves it out; the block imports; the call runs in the next block.
    let template = test
        .chain
        .build_block(
            miner,
            test.chain.head().header.timestamp_ms + 1_000,
            &verified(&calls),
        )
        .unwrap();
    assert_eq!(template.block().transactions, calls[..count - 1]);
    assert_eq!(template.skipped.len(), 1);
    assert_eq!(template.skipped[0].0, calls[count - 1].hash());
    assert_eq!(
        template.skipped[0].1,
        salus_runtime::CandidateError::CodeLoadLimit
    );
    let block = seal(template.block());
    test.chain.import_block(block.clone(), now()).unwrap();
    let receipts = test.chain.receipts(&block.hash()).unwrap().unwrap();
    assert!(receipts.iter().all(|receipt| receipt.status.is_success()));
    let next = test.mine(miner, &calls[count - 1..]);
    let receipts = test.chain.receipts(&next.hash()).unwrap().unwrap();
    assert_eq!(receipts[0].status, ExecutionStatus::Success);
}
