//! The path of a block that extends the head: one atomic write for storing and connecting it,
//! nothing the import wrote read back from the store, and the connected blocks handed to the
//! node with their receipts (the miner's own block: `reorg.rs`).

use salus_node::ImportOutcome;
use salus_primitives::Address;

use crate::support::*;

#[test]
fn a_peer_block_on_the_head_is_stored_and_connected_in_one_write_without_reading_it_back() {
    let mut source = TestChain::new();
    let sender = dev_key(1);
    let transfers: Vec<_> = (0..5)
        .map(|nonce| transfer(&sender, nonce, Address([0x21; 20]), 3))
        .collect();
    let block = source.mine(dev_key(0).address(), &transfers);

    let mut node = TestChain::new();
    let before = node.chain.store().io();
    let outcome = node.chain.import_block(block.clone(), now()).unwrap();
    let io = io_delta(before, node.chain.store().io());
    assert_eq!(outcome, ImportOutcome::NewHead { reorg_depth: 0 });
    assert_eq!(io, ONE_WRITE_NO_READ_BACK);

    // Everything that one write holds is there, as on the node that mined it.
    assert_eq!(node.chain.head(), source.chain.head());
    assert_eq!(flat_state(&node.chain), flat_state(&source.chain));
    let receipts = node.chain.receipts(&block.hash()).unwrap().unwrap();
    assert_eq!(
        receipts,
        source.chain.receipts(&block.hash()).unwrap().unwrap()
    );
    for (index, transaction) in block.transactions.iter().enumerate() {
        assert_eq!(receipts[index].transaction_hash, transaction.hash());
        assert_eq!(
            node.chain
                .store()
                .transaction_location(&transaction.hash())
                .unwrap(),
            Some((block.hash(), index as u32))
        );
    }
    assert_eq!(
        node.chain.block(&block.hash()).unwrap(),
        Some(block.clone())
    );

    // The node learns what was connected, with the receipts, from the import itself.
    let connected = node.chain.drain_connected_blocks();
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0].hash, block.hash());
    assert_eq!(connected[0].header, block.header);
    assert_eq!(connected[0].receipts, receipts);

    // And it survives a reopen: the write was durable and complete.
    let node = node.reopen();
    assert_eq!(node.chain.head(), source.chain.head());
    assert_eq!(flat_state(&node.chain), flat_state(&source.chain));
}

#[test]
fn a_block_on_the_head_with_a_forged_signature_changes_nothing_but_its_invalid_mark() {
    let mut test = TestChain::new();
    let sender = dev_key(3);
    test.mine(
        dev_key(0).address(),
        &[transfer(&sender, 0, Address([1; 20]), 5)],
    );
    let good = test.next_block(dev_key(0).address(), &[]);
    let mut forged = transfer(&sender, 1, Address([1; 20]), 5);
    forged.signature.0[..32].fill(0);
    let bad = with_body(good, vec![forged.clone()]);
    let head = test.chain.head().clone();
    let state = flat_state(&test.chain);
    test.chain.drain_connected_blocks();

    let error = test.chain.import_block(bad.clone(), now()).unwrap_err();
    assert!(error.is_invalid_block(), "{error}");
    assert_eq!(test.chain.head(), &head);
    assert_eq!(flat_state(&test.chain), state);
    assert!(test.chain.drain_connected_blocks().is_empty());
    assert_eq!(
        test.chain
            .store()
            .transaction_location(&forged.hash())
            .unwrap(),
        None
    );
    // Remembered as invalid: refused again without executing anything.
    assert!(matches!(
        test.chain.import_block(bad, now()),
        Err(salus_node::ImportError::KnownInvalid { .. })
    ));
}
