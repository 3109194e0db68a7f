//! What passes in the test kit behaves identically on a node: the same signed transactions,
//! replayed through block import in blocks with the same numbers, times and miner, give the
//! same receipts.

use salus_primitives::Address;
use salus_testkit::TestChain as KitChain;

use crate::support::*;

#[test]
fn test_kit_receipts_equal_node_receipts_for_the_same_transactions() {
    // A scenario in the test kit: deploy the counter, increments by two accounts, a typed error,
    // a revert for bad input, time passing.
    let mut kit = KitChain::new();
    let owner = kit.account(1);
    let other = kit.account(2);
    let counter = kit
        .deploy(owner, salus_contracts::COUNTER, "new", &5u64)
        .unwrap();
    let mut kit_receipts = Vec::new();
    kit_receipts.push(kit.call(owner, counter, "increment", &3u64).receipt);
    kit.advance_blocks(3);
    kit_receipts.push(kit.call(other, counter, "increment", &4u64).receipt);
    kit.advance_time(60_000);
    kit_receipts.push(kit.call(other, counter, "reset", &()).receipt);
    kit_receipts.push(kit.call_raw(owner, counter, vec![1, 2, 3, 4]).receipt);

    // Replay on a node: empty blocks fill the gaps, then each transaction in its own block.
    let mut node = TestChain::new();
    let mut node_receipts = Vec::new();
    for (context, transaction) in kit.history() {
        while node.chain.head().header.number + 1 < context.number {
            let timestamp = node.chain.head().header.timestamp_ms + 1;
            let template = node
                .chain
                .build_block(Address([0xee; 20]), timestamp, &[])
                .unwrap();
            node.chain
                .import_block(seal(template.block()), now())
                .unwrap();
        }
        let template = node
            .chain
            .build_block(
                context.miner,
                context.timestamp_ms,
                &verified(std::slice::from_ref(transaction)),
            )
            .unwrap();
        assert!(template.skipped.is_empty(), "{:?}", template.skipped);
        assert_eq!(template.header.timestamp_ms, context.timestamp_ms);
        let block = seal(template.block());
        node.chain.import_block(block.clone(), now()).unwrap();
        node_receipts.extend(node.chain.receipts(&block.hash()).unwrap().unwrap());
    }
    // The first node receipt is the deploy; the kit returned the rest.
    assert!(node_receipts[0].status.is_success());
    assert_eq!(node_receipts[1..], kit_receipts[..]);
    assert_eq!(
        node.chain.account(&owner).unwrap().nonce,
        kit.account_state(&owner).nonce
    );
}
