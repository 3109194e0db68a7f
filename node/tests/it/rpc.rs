//! `salus dev` over JSON-RPC, as a client sees it: a real node process, real sockets on
//! loopback. Transfers and a contract go in through `tx_submit`, blocks are mined on demand with
//! `dev_mine`, batches through `tx_submitBatch` get one outcome each, receipts carry confirmations, a WebSocket subscription sees new heads, the ABI is
//! read from chain, and malformed requests get JSON-RPC errors while the node keeps serving.

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, CallRequest, HeaderView, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_primitives::{Address, Hash};
use serde_json::json;

use crate::support::*;

/// `salus dev` mining only on `dev_mine`.
fn start_dev_node() -> DevProcess {
    DevProcess::start(0)
}

fn raw(transaction: &salus_primitives::SignedTransaction) -> String {
    format!("0x{}", hex::encode(transaction.encode()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_node_serves_transactions_receipts_subscriptions_and_contracts() {
    let node = start_dev_node();
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.address))
        .unwrap();
    let info = http.node_info().await.unwrap();
    assert!(info.dev);
    assert_eq!(info.chain_id, salus_node::genesis::DEV_CHAIN_ID);
    assert_eq!(http.chain_head().await.unwrap().number, 0);

    // A transfer: pending, then included with confirmations.
    // Deploying a 24 KB contract costs about 10 M fuel (compilation is charged per byte).
    let mut alice = TransactionBuilder::new(info.chain_id, dev_key(1), 0).fuel(50_000_000, 1);
    let recipient = Address([0x42; 20]);
    let transfer = alice.transfer(recipient, 1_000);
    let hash = http.tx_submit(raw(&transfer)).await.unwrap();
    assert_eq!(hash, transfer.hash().to_string());
    assert_eq!(
        http.tx_get(hash.clone()).await.unwrap().unwrap().state,
        "pending"
    );
    let mined = http.dev_mine(1).await.unwrap();
    let receipt = http
        .tx_receipt(hash.clone())
        .await
        .unwrap()
        .expect("included");
    assert_eq!(receipt.status, "success");
    assert_eq!(receipt.block_hash, mined[0]);
    assert_eq!(receipt.confirmations, 1);
    http.dev_mine(2).await.unwrap();
    assert_eq!(
        http.tx_receipt(hash.clone())
            .await
            .unwrap()
            .unwrap()
            .confirmations,
        3
    );
    assert_eq!(
        http.state_get_account(recipient.to_string(), None)
            .await
            .unwrap()
            .balance,
        "1000"
    );
    // The account at block 0 had nothing.
    assert_eq!(
        http.state_get_account(recipient.to_string(), Some(BlockId::Number(0)))
            .await
            .unwrap()
            .balance,
        "0"
    );
    let block = http
        .chain_get_block(BlockId::Number(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.transactions, vec![hash.clone()]);

    // A WebSocket subscription sees the next head.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.address))
        .await
        .unwrap();
    let mut heads = ws.chain_subscribe_new_heads().await.unwrap();
    let mined = http.dev_mine(1).await.unwrap();
    let head: HeaderView = tokio::time::timeout(Duration::from_secs(30), heads.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(head.hash, mined[0]);
    assert_eq!(head.number, 4);

    // A contract: deploy with a JSON constructor argument, read its ABI from chain, call it.
    let abi = ContractAbi::from_wasm(salus_contracts::COUNTER).unwrap();
    let deploy = alice.deploy(
        salus_contracts::COUNTER.to_vec(),
        abi.encode_constructor(&json!([10])).unwrap(),
        Hash([1; 32]),
    );
    let deploy_hash = http.tx_submit(raw(&deploy)).await.unwrap();
    http.dev_mine(1).await.unwrap();
    let deployed = http.tx_receipt(deploy_hash).await.unwrap().unwrap();
    assert_eq!(deployed.status, "success", "{:?}", deployed.failure);
    let contract = Address(
        hex::decode(&deployed.return_data[2..])
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let on_chain_abi = http
        .contract_abi(contract.to_string())
        .await
        .unwrap()
        .expect("the code carries its ABI");
    assert_eq!(on_chain_abi["contract"], "Counter");

    let increment = alice.call(contract, abi.encode_call("increment", &json!([5])).unwrap());
    let increment_hash = http.tx_submit(raw(&increment)).await.unwrap();
    http.dev_mine(1).await.unwrap();
    let receipt = http.tx_receipt(increment_hash).await.unwrap().unwrap();
    assert_eq!(receipt.status, "success");
    assert_eq!(receipt.events.len(), 1);
    let returned = hex::decode(&receipt.return_data[2..]).unwrap();
    assert_eq!(
        abi.decode_result("increment", &returned).unwrap(),
        json!("15")
    );

    // A dry run: result and fuel per host function, nothing committed.
    // Unsigned, it runs as the zero address: `increment` and `get` check no caller.
    let request = CallRequest {
        contract: contract.to_string(),
        input: format!(
            "0x{}",
            hex::encode(abi.encode_call("increment", &json!([1])).unwrap())
        ),
        ..CallRequest::default()
    };
    let dry = http.state_call(request).await.unwrap();
    assert_eq!(dry.status, "success");
    assert!(
        dry.fuel_by_host_function
            .iter()
            .any(|entry| entry.function == "storage_set")
    );
    let get = CallRequest {
        contract: contract.to_string(),
        input: format!(
            "0x{}",
            hex::encode(abi.encode_call("get", &json!([])).unwrap())
        ),
        ..CallRequest::default()
    };
    let current = http.state_call(get).await.unwrap();
    assert_eq!(
        abi.decode_result("get", &hex::decode(&current.return_data[2..]).unwrap())
            .unwrap(),
        json!("15")
    );

    // A failing call is included with a failure receipt that says why.
    let mut bob = TransactionBuilder::new(info.chain_id, dev_key(2), 0);
    let reset = bob.call(contract, abi.encode_call("reset", &json!([])).unwrap());
    let reset_hash = http.tx_submit(raw(&reset)).await.unwrap();
    http.dev_mine(1).await.unwrap();
    let refused = http.tx_receipt(reset_hash).await.unwrap().unwrap();
    assert_eq!(refused.status, "reverted");
    assert_eq!(
        refused.failure.as_deref(),
        Some("reverted: CounterError::NotOwner")
    );

    // dev_increaseTime moves the next block's clock.
    let before = http.chain_head().await.unwrap().timestamp_ms;
    http.dev_increase_time(30 * 24 * 3600 * 1000).await.unwrap();
    http.dev_mine(1).await.unwrap();
    assert!(http.chain_head().await.unwrap().timestamp_ms >= before + 30 * 24 * 3600 * 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_rpc_errors_and_the_node_keeps_serving() {
    let node = start_dev_node();
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.address))
        .unwrap();
    let not_hex = http.tx_submit("0xzz".into()).await.unwrap_err().to_string();
    assert!(not_hex.contains("not hex"), "{not_hex}");
    let garbage = http
        .tx_submit("0x0102".into())
        .await
        .unwrap_err()
        .to_string();
    assert!(garbage.contains("does not decode"), "{garbage}");
    let mut alice = TransactionBuilder::new(1, dev_key(1), 0);
    let wrong_chain = http
        .tx_submit(raw(&alice.transfer(Address([1; 20]), 1)))
        .await
        .unwrap_err()
        .to_string();
    assert!(wrong_chain.contains("wrong chain id"), "{wrong_chain}");
    let mut stale = TransactionBuilder::new(salus_node::genesis::DEV_CHAIN_ID, dev_key(1), 0);
    http.tx_submit(raw(&stale.transfer(Address([1; 20]), 1)))
        .await
        .unwrap();
    http.dev_mine(1).await.unwrap();
    let mut replay = TransactionBuilder::new(salus_node::genesis::DEV_CHAIN_ID, dev_key(1), 0);
    let stale_nonce = http
        .tx_submit(raw(&replay.transfer(Address([2; 20]), 1)))
        .await
        .unwrap_err()
        .to_string();
    assert!(stale_nonce.contains("stale nonce"), "{stale_nonce}");
    let bad_address = http
        .state_get_account("0x1234".into(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(bad_address.contains("address"), "{bad_address}");
    let unknown_method: Result<serde_json::Value, _> =
        http.request("chain_nothing", rpc_params![]).await;
    assert!(unknown_method.is_err());
    let wrong_params: Result<serde_json::Value, _> =
        http.request("dev_mine", rpc_params!["many"]).await;
    assert!(wrong_params.is_err());
    // A batch: each transaction gets its own outcome, in order, and one refusal does not stop
    // the others (the sender's next nonces still go in after a stale one).
    let mut sender = TransactionBuilder::new(salus_node::genesis::DEV_CHAIN_ID, dev_key(1), 1);
    let (first, second) = (
        sender.transfer(Address([3; 20]), 1),
        sender.transfer(Address([3; 20]), 1),
    );
    let mut replay = TransactionBuilder::new(salus_node::genesis::DEV_CHAIN_ID, dev_key(1), 0);
    let outcomes = http
        .tx_submit_batch(vec![
            raw(&first),
            "0xzz".into(),
            raw(&replay.transfer(Address([4; 20]), 1)),
            raw(&second),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].hash, Some(first.hash().to_string()));
    assert!(
        outcomes[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not hex"))
    );
    assert!(
        outcomes[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("stale nonce"))
    );
    assert_eq!(outcomes[3].hash, Some(second.hash().to_string()));
    assert!(outcomes[0].error.is_none() && outcomes[2].hash.is_none());
    http.dev_mine(1).await.unwrap();
    assert_eq!(
        http.state_get_account(dev_key(1).address().to_string(), None)
            .await
            .unwrap()
            .nonce,
        3
    );
    let oversized = http
        .tx_submit_batch(vec![raw(&first); salus_client::rpc::MAX_SUBMIT_BATCH + 1])
        .await
        .unwrap_err()
        .to_string();
    assert!(oversized.contains("at most 256"), "{oversized}");
    // Still serving.
    assert_eq!(http.chain_head().await.unwrap().number, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_queried_by_contract_and_topic_paged_and_streamed_and_state_is_provable() {
    use salus_client::rpc::EventFilter;
    let node = start_dev_node();
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", node.address))
        .unwrap();
    let chain_id = salus_node::genesis::DEV_CHAIN_ID;
    let abi = ContractAbi::from_wasm(salus_contracts::COUNTER).unwrap();
    let mut alice = TransactionBuilder::new(chain_id, dev_key(1), 0).fuel(50_000_000, 1);
    let mut bob = TransactionBuilder::new(chain_id, dev_key(2), 0).fuel(50_000_000, 1);
    let deploy = alice.deploy(
        salus_contracts::COUNTER.to_vec(),
        abi.encode_constructor(&json!([0])).unwrap(),
        Hash([2; 32]),
    );
    let deploy_hash = http.tx_submit(raw(&deploy)).await.unwrap();
    http.dev_mine(1).await.unwrap();
    let deployed = http.tx_receipt(deploy_hash).await.unwrap().unwrap();
    let contract = Address(
        hex::decode(&deployed.return_data[2..])
            .unwrap()
            .try_into()
            .unwrap(),
    );

    // A subscription for Bob's increments only: topic 0 is the event signature, topic 1 `by`.
    let signature = salus_primitives::keccak256(b"Incremented").to_string();
    let mut bob_topic = [0u8; 32];
    bob_topic[..20].copy_from_slice(&dev_key(2).address().0);
    let bob_topic = Hash(bob_topic).to_string();
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.address))
        .await
        .unwrap();
    let bob_filter = EventFilter {
        contract: contract.to_string(),
        topics: vec![Some(signature.clone()), Some(bob_topic.clone())],
        ..EventFilter::default()
    };
    let mut stream = ws.events_subscribe(bob_filter.clone()).await.unwrap();

    for round in 0..3u64 {
        let a = alice.call(contract, abi.encode_call("increment", &json!([1])).unwrap());
        let b = bob.call(
            contract,
            abi.encode_call("increment", &json!([10 + round])).unwrap(),
        );
        http.tx_submit(raw(&a)).await.unwrap();
        http.tx_submit(raw(&b)).await.unwrap();
        http.dev_mine(1).await.unwrap();
    }
    let streamed = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(streamed.event.topics[1], bob_topic);

    let all = http
        .events_query(EventFilter {
            contract: contract.to_string(),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(all.events.len(), 6);
    assert!(
        all.events
            .windows(2)
            .all(|pair| (pair[0].block_number, pair[0].transaction_index)
                <= (pair[1].block_number, pair[1].transaction_index))
    );
    let bobs = http.events_query(bob_filter.clone()).await.unwrap();
    assert_eq!(bobs.events.len(), 3);
    assert!(
        bobs.events
            .iter()
            .all(|record| record.event.topics[1] == bob_topic)
    );

    // Paging: two at a time, following the cursor, gives the same three.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = http
            .events_query(EventFilter {
                after: after.clone(),
                limit: Some(2),
                ..bob_filter.clone()
            })
            .await
            .unwrap();
        paged.extend(page.events);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, bobs.events);
    // A block range.
    let first_round_block = bobs.events[0].block_number;
    let ranged = http
        .events_query(EventFilter {
            from_block: Some(first_round_block),
            to_block: Some(first_round_block),
            ..bob_filter
        })
        .await
        .unwrap();
    assert_eq!(ranged.events.len(), 1);

    // A proof of the contract's storage, verified against the header's state root alone.
    let key = format!("0x{}", hex::encode(b"count"));
    let proof = http
        .state_get_proof(Some(contract.to_string()), key, None)
        .await
        .unwrap();
    let head = http.chain_head().await.unwrap();
    assert_eq!(proof.state_root, head.state_root);
    let decoded: salus_primitives::state_proof::StateProof =
        parity_scale_codec::Decode::decode(&mut &hex::decode(&proof.proof[2..]).unwrap()[..])
            .unwrap();
    let value = hex::decode(&proof.value.unwrap()[2..]).unwrap();
    assert_eq!(value, (3u64 + 10 + 11 + 12).to_le_bytes());
    let path = salus_primitives::StateKey::Storage(contract, b"count".to_vec()).tree_path();
    decoded
        .verify(&head.state_root.parse().unwrap(), &path, Some(&value))
        .unwrap();
}
