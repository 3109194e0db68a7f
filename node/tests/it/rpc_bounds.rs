//! Dry runs and history are bounded and take no lock that block import needs: a worst-case
//! historical dry run (deep `at`, the block fuel limit) is in flight while a block is mined and
//! `chain_head` answers; a dry run without a fuel limit gets the default; and a historical view
//! stays exactly the state of its block while later blocks change and delete its keys.

use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::TransactionBuilder;
use salus_client::rpc::{BlockId, CallRequest, SalusApiClient};
use salus_node::historical::HistoricalState;
use salus_node::service::rpc_limits::DRY_RUN_DEFAULT_FUEL;
use salus_primitives::{Action, Address, Hash, StateKey};
use salus_runtime::State;

use crate::support::*;

/// Generous: CI machines are slow and shared; the polls finish as soon as they can.
const DEADLINE: Duration = Duration::from_secs(60);

/// Loops until its fuel runs out; each iteration loads from memory (a unit of fuel and about a
/// nanosecond), so a dry run at the block fuel limit keeps a core busy for about a second.
const LOOPING: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "call")
    (loop (drop (i32.load (i32.const 0))) (br 0))))"#;

fn raw(transaction: &salus_primitives::SignedTransaction) -> String {
    format!("0x{}", hex::encode(transaction.encode()))
}

/// A gauge or counter from the node's Prometheus endpoint.
fn metric(node: &DevProcess, name: &str) -> u64 {
    use std::io::{Read, Write};
    let address = node.metrics.as_deref().expect("a node serving metrics");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} is not served"))
        .trim()
        .parse()
        .unwrap()
}

/// Deploys `LOOPING` in block 1 and returns its address.
async fn deploy_looping_contract(http: &HttpClient) -> Address {
    let chain_id = salus_node::genesis::DEV_CHAIN_ID;
    let mut deployer = TransactionBuilder::new(chain_id, dev_key(1), 0).fuel(20_000_000, 1);
    let deploy = deployer.deploy(wat::parse_str(LOOPING).unwrap(), Vec::new(), Hash([9; 32]));
    let hash = http.tx_submit(raw(&deploy)).await.unwrap();
    http.dev_mine(1).await.unwrap();
    let receipt = http.tx_receipt(hash).await.unwrap().unwrap();
    assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
    assert_eq!(receipt.block_number, 1);
    Address(
        hex::decode(&receipt.return_data[2..])
            .unwrap()
            .try_into()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worst_case_historical_dry_run_holds_up_neither_import_nor_chain_head() {
    let node = DevProcess::start_with(&["--block-time-ms", "0", "--metrics-addr", "127.0.0.1:0"]);
    let http = HttpClientBuilder::default()
        .request_timeout(DEADLINE)
        .build(node.http_url())
        .unwrap();
    let contract = deploy_looping_contract(&http).await;

    // History after block 1 for the replay to undo: blocks of transfers to new accounts.
    let chain_id = salus_node::genesis::DEV_CHAIN_ID;
    let mut payer = TransactionBuilder::new(chain_id, dev_key(2), 0);
    for block in 0..20u8 {
        let transfers: Vec<String> = (0..20u8)
            .map(|index| {
                let mut recipient = [7u8; 20];
                (recipient[0], recipient[1]) = (block, index);
                raw(&payer.transfer(Address(recipient), 1))
            })
            .collect();
        let outcomes = http.tx_submit_batch(transfers).await.unwrap();
        assert!(
            outcomes.iter().all(|outcome| outcome.error.is_none()),
            "{outcomes:?}"
        );
        http.dev_mine(1).await.unwrap();
    }

    // A dry run without a fuel limit gets the default, well below the block's.
    let call = |fuel: Option<u64>, at: Option<BlockId>| CallRequest {
        contract: contract.to_string(),
        input: "0x".into(),
        fuel,
        at,
        ..CallRequest::default()
    };
    let default = http.state_call(call(None, None)).await.unwrap();
    assert_eq!(default.status, "outOfFuel");
    assert_eq!(default.fuel_used, DRY_RUN_DEFAULT_FUEL);

    // The worst case: as of block 1 (every later block undone), at the block fuel limit; two
    // of them, so that one is surely still running while the rest of the test goes on.
    let block_limit = dev_genesis().params.block_fuel_limit;
    let heavy: Vec<_> = (0..2)
        .map(|_| {
            let http = http.clone();
            let request = call(Some(block_limit), Some(BlockId::Number(1)));
            tokio::spawn(async move { http.state_call(request).await })
        })
        .collect();
    let deadline = Instant::now() + DEADLINE;
    while metric(&node, "salus_rpc_dry_runs_running") < 2 {
        assert!(
            Instant::now() < deadline,
            "the historical dry runs never started"
        );
        tokio::task::yield_now().await;
    }

    // While they run, a block is mined and imported and the head is read.
    let before = http.chain_head().await.unwrap().number;
    let mined = http.dev_mine(1).await.unwrap();
    let head = http.chain_head().await.unwrap();
    assert_eq!(head.number, before + 1);
    assert_eq!(head.hash, mined[0]);
    assert!(
        metric(&node, "salus_rpc_dry_runs_running") >= 1,
        "the block and the head came only after the historical dry runs"
    );

    for call in heavy {
        let outcome = call.await.unwrap().unwrap();
        assert_eq!(outcome.status, "outOfFuel");
        assert_eq!(outcome.fuel_used, block_limit);
    }
    assert_eq!(metric(&node, "salus_rpc_dry_runs_running"), 0);
}

/// Writes keys `a`, `b` and `c` (no input) or removes `b` (any input).
const WRITER: &str = r#"(module
  (import "salus" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "salus" "storage_remove" (func $remove (param i32 i32)))
  (import "salus" "input_len" (func $input_len (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "abc")
  (func (export "call")
    (if (i32.eqz (call $input_len))
      (then
        (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
        (call $set (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1))
        (call $set (i32.const 2) (i32.const 1) (i32.const 2) (i32.const 1)))
      (else (call $remove (i32.const 1) (i32.const 1))))))"#;

/// Every entry under `prefix`, in order, through `next_entry`.
fn entries(state: &impl State, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    while let Some(entry) = state
        .next_entry(prefix, out.last().map(|(key, _)| key.as_slice()))
        .unwrap()
    {
        out.push(entry);
    }
    out
}

#[test]
fn a_historical_view_stays_exact_while_blocks_are_imported_after_it() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let code = wat::parse_str(WRITER).unwrap();
    let salt = Hash([4; 32]);
    let contract = Address::contract(
        &dev_key(5).address(),
        &salus_primitives::keccak256(&code),
        &salt,
    );
    let call = |nonce, input: Vec<u8>| {
        dev5_transaction(
            nonce,
            Action::Call {
                contract,
                input,
                value: 0,
            },
        )
    };
    let deploy = dev5_transaction(
        0,
        Action::Deploy {
            code,
            constructor_input: Vec::new(),
            salt,
            value: 0,
        },
    );
    test.mine(miner, &[deploy, call(1, Vec::new())]);
    let newcomer = Address([0x15; 20]);
    test.mine(miner, &[transfer(&dev_key(1), 0, Address([0x10; 20]), 100)]);
    let block = test
        .chain
        .store()
        .header(&test.chain.head().hash)
        .unwrap()
        .unwrap();
    let view = HistoricalState::at(test.chain.store(), &block, None).unwrap();
    let storage_prefix = StateKey::Storage(contract, Vec::new()).to_bytes();
    let account_prefix = vec![0u8];
    let storage_then = entries(&view, &storage_prefix);
    let accounts_then = entries(&view, &account_prefix);
    assert_eq!(
        storage_then
            .iter()
            .map(|(key, _)| key[storage_prefix.len()..].to_vec())
            .collect::<Vec<_>>(),
        [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );

    // Blocks after the view: `b` removed, a new account, a balance changed.
    test.mine(
        miner,
        &[
            call(2, vec![1]),
            transfer(&dev_key(1), 1, newcomer, 150),
            transfer(&dev_key(1), 2, Address([0x10; 20]), 1),
        ],
    );
    test.mine(miner, &[transfer(&dev_key(1), 3, Address([0x10; 20]), 1)]);
    let head_storage = entries(test.chain.store(), &storage_prefix);
    assert_eq!(head_storage.len(), 2, "the head lost `b`");

    // The view still shows exactly its block's state.
    assert_eq!(entries(&view, &storage_prefix), storage_then);
    assert_eq!(entries(&view, &account_prefix), accounts_then);
    assert_eq!(
        view.get(&StateKey::Account(newcomer).to_bytes()).unwrap(),
        None
    );
    let b = StateKey::Storage(contract, b"b".to_vec()).to_bytes();
    assert_eq!(view.get(&b).unwrap(), Some(b"b".to_vec()));
    assert_eq!(
        view.get(&StateKey::Account(Address([0x10; 20])).to_bytes())
            .unwrap(),
        test.chain
            .state_value_at(&block.state_root, &StateKey::Account(Address([0x10; 20])))
            .unwrap()
    );

    // A view of a block that is not an ancestor of the head is refused.
    let mut stranger = block.clone();
    stranger.timestamp_ms += 1;
    assert!(HistoricalState::at(test.chain.store(), &stranger, None).is_err());
}
