//! Execution safety against a hostile contract, over RPC and the network (issue 19): recursion
//! at the Wasm stack limit in every frame down to the maximum call depth — as a dry run, as a
//! mined transaction, and imported by a second node — is a typed trap and the nodes keep
//! serving; and dry runs holding every instance they can while one node mines and another
//! imports never change a receipt.

use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::TransactionBuilder;
use salus_client::rpc::{CallRequest, CallResultView, ReceiptView, SalusApiClient};
use salus_node::genesis::DEV_CHAIN_ID;
use salus_primitives::{Address, Hash, SignedTransaction};

use crate::support::{DevProcess, dev_key};

/// The hostile contract (its comment says what it does).
const DEEP_RECURSION: &str = include_str!("../../../runtime/tests/wat/deep_recursion.wat");

/// Generous: CI machines are slow and shared; the test polls and goes on as soon as it can.
const DEADLINE: Duration = Duration::from_secs(90);

/// Fuel of every transaction and dry run here: plenty for a recursion to its limit in every
/// frame, and a bound on how long a holding dry run spins.
const FUEL: u64 = 20_000_000;

/// Concurrent dry runs that each hold a full call stack of instances.
const HOLDING_DRY_RUNS: usize = 200;

/// The contract's input: frames to recurse in each frame, and the mode (0 hostile, 1 probe,
/// 2 holding).
fn input(frames: u32, mode: u8) -> Vec<u8> {
    let mut input = frames.to_le_bytes().to_vec();
    input.push(mode);
    input
}

fn client(node: &DevProcess) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(DEADLINE)
        .build(node.http_url())
        .unwrap()
}

async fn dry_run(rpc: &HttpClient, contract: Address, frames: u32, mode: u8) -> CallResultView {
    rpc.state_call(CallRequest {
        contract: contract.to_string(),
        input: format!("0x{}", hex::encode(input(frames, mode))),
        fuel: Some(FUEL),
        ..CallRequest::default()
    })
    .await
    .unwrap()
}

/// Submits `transactions`, mines one block, and returns their receipts.
async fn mine(rpc: &HttpClient, transactions: &[SignedTransaction]) -> Vec<ReceiptView> {
    let mut hashes = Vec::new();
    for transaction in transactions {
        hashes.push(
            rpc.tx_submit(format!("0x{}", hex::encode(transaction.encode())))
                .await
                .unwrap(),
        );
    }
    rpc.dev_mine(1).await.unwrap();
    let mut receipts = Vec::new();
    for hash in hashes {
        receipts.push(rpc.tx_receipt(hash).await.unwrap().expect("included"));
    }
    receipts
}

/// Waits until `follower` has `leader`'s head, and returns its hash.
async fn converged(leader: &HttpClient, follower: &HttpClient) -> String {
    let target = leader.chain_head().await.unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let head = follower.chain_head().await.unwrap();
        if head.hash == target.hash {
            return head.hash;
        }
        assert!(
            Instant::now() < deadline,
            "the second node did not import block {}",
            target.number
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The most frames of recursion one frame's Wasm stack holds, by bisection over dry runs in the
/// probe mode.
async fn frames_per_stack(rpc: &HttpClient, contract: Address) -> u32 {
    let (mut fits, mut overflows) = (1u32, 1u32 << 20);
    while overflows - fits > 1 {
        let middle = fits + (overflows - fits) / 2;
        let result = dry_run(rpc, contract, middle, 1).await;
        match result.status.as_str() {
            "success" => fits = middle,
            "trapped" => overflows = middle,
            other => panic!("probe with {middle} frames: {other} {:?}", result.failure),
        }
    }
    fits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_recursion_is_a_typed_trap_everywhere_and_dry_runs_never_change_receipts() {
    let miner = DevProcess::start_networked(&[]);
    let importer = DevProcess::start_networked(&[miner.p2p()]);
    let (rpc, imported) = (client(&miner), client(&importer));
    let mut sender = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(3), 0).fuel(FUEL, 1);

    let code = wat::parse_str(DEEP_RECURSION).unwrap();
    let deployed = mine(&rpc, &[sender.deploy(code, Vec::new(), Hash([9; 32]))]).await;
    assert_eq!(deployed[0].status, "success", "{:?}", deployed[0].failure);
    let contract: Address = deployed[0].return_data.parse().unwrap();

    // 1. As a dry run: a typed trap, and the node serves on.
    let frames = frames_per_stack(&rpc, contract).await;
    assert!(
        frames > 1_000,
        "one frame's stack holds only {frames} frames"
    );
    let hostile_frames = frames - frames / 50;
    let result = dry_run(&rpc, contract, hostile_frames, 0).await;
    assert_eq!(result.status, "trapped", "{:?}", result.failure);
    assert_eq!(result.failure.as_deref(), Some("trapped: StackOverflow"));
    let call = result
        .fuel_by_host_function
        .iter()
        .find(|entry| entry.function == "call")
        .expect("the frames called each other");
    assert_eq!(call.calls, salus_abi::limits::MAX_CALL_DEPTH as u64);

    // 2. Mined, and 3. imported (re-executed) by the second node: the same typed trap.
    let mined = mine(&rpc, &[sender.call(contract, input(hostile_frames, 0))]).await;
    assert_eq!(mined[0].status, "trapped");
    assert_eq!(mined[0].failure.as_deref(), Some("trapped: StackOverflow"));
    converged(&rpc, &imported).await;
    let receipt = imported
        .tx_receipt(mined[0].transaction_hash.clone())
        .await
        .unwrap()
        .expect("the second node has the transaction");
    assert_eq!(receipt.status, "trapped");

    // 4. Hundreds of dry runs, each holding an instance at every level of the call stack, while
    // the miner builds blocks of contract calls and the second node imports them: every receipt
    // is what an idle node computes (success), and the second node agrees on every root (it
    // imports each block only if its receipts root matches its own execution).
    let holders: Vec<_> = (0..HOLDING_DRY_RUNS)
        .map(|_| {
            let rpc = rpc.clone();
            tokio::spawn(async move {
                rpc.state_call(CallRequest {
                    contract: contract.to_string(),
                    input: format!("0x{}", hex::encode(input(1, 2))),
                    fuel: Some(FUEL),
                    ..CallRequest::default()
                })
                .await
            })
        })
        .collect();
    for _ in 0..3 {
        let calls: Vec<_> = (0..4)
            .map(|_| sender.call(contract, input(100, 1)))
            .collect();
        for receipt in mine(&rpc, &calls).await {
            assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
        }
    }
    let mut held = 0;
    for holder in holders {
        // Busy refusals and RPC limits are fine; a dry run that ran spun out of fuel.
        if let Ok(Ok(result)) = holder.await {
            assert_eq!(result.status, "outOfFuel", "{:?}", result.failure);
            held += 1;
        }
    }
    assert!(held > 0, "no dry run held instances");
    assert_eq!(
        converged(&rpc, &imported).await,
        rpc.chain_head().await.unwrap().hash
    );
}
