//! Fork choice and reorganisation: the heavier branch wins, its state equals a fresh replay of
//! it, transactions of the losing branch come back for the mempool, and flipping back and forth
//! twenty times leaves exactly the replayed state each time.

use salus_node::ImportOutcome;
use salus_primitives::{Address, Block};

use crate::support::*;

/// Mines `count` blocks on `producer`'s head, each with one transfer from dev key `sender_index`
/// to `recipient`, and returns them.
fn mine_branch(
    producer: &mut TestChain,
    count: usize,
    sender_index: u32,
    recipient: Address,
) -> Vec<Block> {
    let sender = dev_key(sender_index);
    let miner = dev_key(sender_index).address();
    (0..count)
        .map(|_| {
            let nonce = producer.chain.account(&sender.address()).unwrap().nonce;
            producer.mine(miner, &[transfer(&sender, nonce, recipient, 1_000)])
        })
        .collect()
}

fn import_all(test: &mut TestChain, blocks: &[Block]) -> Vec<ImportOutcome> {
    blocks
        .iter()
        .map(|block| test.chain.import_block(block.clone(), now()).unwrap())
        .collect()
}

#[test]
fn heavier_branch_wins_and_equals_a_fresh_replay() {
    // Common prefix of 3 blocks, then branch A (4 blocks) and branch B (6 blocks).
    let mut a = TestChain::new();
    let prefix = mine_branch(&mut a, 3, 1, Address([1; 20]));
    let mut b = TestChain::new();
    import_all(&mut b, &prefix);
    let branch_a = mine_branch(&mut a, 4, 2, Address([0xa; 20]));
    let branch_b = mine_branch(&mut b, 6, 3, Address([0xb; 20]));

    let mut node = TestChain::new();
    import_all(&mut node, &prefix);
    import_all(&mut node, &branch_a);
    assert_eq!(node.chain.head(), a.chain.head());
    // B's first four blocks are not heavier than A: stored on a side branch.
    let outcomes = import_all(&mut node, &branch_b[..4]);
    assert!(
        outcomes
            .iter()
            .all(|o| *o == ImportOutcome::StoredOnSideBranch),
        "{outcomes:?}"
    );
    assert_eq!(node.chain.head(), a.chain.head());
    // The fifth makes B heavier: a reorganisation of depth 4.
    let outcome = node.chain.import_block(branch_b[4].clone(), now()).unwrap();
    assert_eq!(outcome, ImportOutcome::NewHead { reorg_depth: 4 });
    import_all(&mut node, &branch_b[5..]);
    assert_eq!(node.chain.head(), b.chain.head());
    assert_eq!(flat_state(&node.chain), flat_state(&b.chain));

    // A's transfers were orphaned: they come back for the mempool.
    let orphaned = node.chain.drain_orphaned_transactions();
    let expected: Vec<_> = branch_a
        .iter()
        .flat_map(|block| block.transactions.clone())
        .collect();
    assert_eq!(orphaned.len(), expected.len());
    for transaction in &expected {
        assert!(orphaned.iter().any(
            |orphan| orphan.transaction() == transaction && orphan.hash() == transaction.hash()
        ));
    }
    // Transactions lookups follow the canonical chain.
    let a_tx = branch_a[0].transactions[0].hash();
    let b_tx = branch_b[0].transactions[0].hash();
    assert_eq!(
        node.chain.store().transaction_location(&a_tx).unwrap(),
        None
    );
    assert_eq!(
        node.chain.store().transaction_location(&b_tx).unwrap(),
        Some((branch_b[0].hash(), 0))
    );
    salus_node::verify::verify_chain(node.chain.store()).unwrap();
}

#[test]
fn reorganising_back_and_forth_twenty_times_matches_replay() {
    let mut a = TestChain::new();
    let mut b = TestChain::new();
    let mut node = TestChain::new();
    // Each producer's own database is a fresh replay of its own branch.
    let first = mine_branch(&mut a, 2, 1, Address([0xa; 20]));
    import_all(&mut node, &first);
    let mut depth_seen = Vec::new();
    for round in 0..20 {
        let (producer, sender, recipient) = if round % 2 == 0 {
            (&mut b, 2, Address([0xb; 20]))
        } else {
            (&mut a, 1, Address([0xa; 20]))
        };
        let node_height = node.chain.head().header.number;
        let needed = (node_height + 1 - producer.chain.head().header.number) as usize;
        let blocks = mine_branch(producer, needed, sender, recipient);
        let outcomes = import_all(&mut node, &blocks);
        match outcomes.last() {
            Some(ImportOutcome::NewHead { reorg_depth }) => depth_seen.push(*reorg_depth),
            other => panic!("round {round}: last import gave {other:?}"),
        }
        assert_eq!(node.chain.head(), producer.chain.head(), "round {round}");
        assert_eq!(
            flat_state(&node.chain),
            flat_state(&producer.chain),
            "round {round}"
        );
        assert_eq!(
            node.chain.head().header.state_root,
            producer.chain.head().header.state_root
        );
    }
    assert!(
        depth_seen.iter().all(|depth| *depth > 0),
        "every round reorganised: {depth_seen:?}"
    );
    salus_node::verify::verify_chain(node.chain.store()).unwrap();
    // Survives a reopen, too.
    let head = node.chain.head().clone();
    let node = node.reopen();
    assert_eq!(node.chain.head(), &head);
}

#[test]
fn an_invalid_block_deep_in_a_heavier_branch_leaves_the_valid_chain_in_place() {
    let mut a = TestChain::new();
    let branch_a = mine_branch(&mut a, 3, 1, Address([0xa; 20]));
    let mut b = TestChain::new();
    let mut branch_b = mine_branch(&mut b, 5, 2, Address([0xb; 20]));
    // Corrupt B's fourth block's state root (and reseal it and its child so the PoW holds).
    let mut bad = branch_b[3].clone();
    bad.header.state_root.0[0] ^= 1;
    let bad = seal(bad);
    let mut child = branch_b[4].clone();
    child.header.parent_hash = bad.hash();
    branch_b[3] = bad;
    branch_b[4] = seal(child);

    let mut node = TestChain::new();
    import_all(&mut node, &branch_a);
    let state_a = flat_state(&node.chain);
    for block in &branch_b[..3] {
        node.chain.import_block(block.clone(), now()).unwrap();
    }
    // Block 4 of B makes B heavier; connecting it fails, and the node stays on a valid branch
    // (B's first three blocks carry the same work as A: A stays).
    assert!(node.chain.import_block(branch_b[3].clone(), now()).is_err());
    assert_eq!(node.chain.head(), a.chain.head());
    assert_eq!(flat_state(&node.chain), state_a);
    assert!(node.chain.import_block(branch_b[4].clone(), now()).is_err());
    salus_node::verify::verify_chain(node.chain.store()).unwrap();
}

/// The miner imports its own block with the template's execution instead of running the block
/// again (one write, nothing read back); the result is the same head, state and receipts as a
/// node that executes the block, and
/// a template whose parent is no longer the head is executed like any other block.
#[test]
fn a_built_block_imports_from_its_template_exactly_as_an_executed_one() {
    let mut miner = TestChain::new();
    let mut peer = TestChain::new();
    let sender = dev_key(1);
    let transfers: Vec<_> = (0..3)
        .map(|nonce| transfer(&sender, nonce, Address([0x42; 20]), 7))
        .collect();
    let head = miner.chain.head().header.clone();
    let template = miner
        .chain
        .build_block(
            dev_key(0).address(),
            head.timestamp_ms + 1_000,
            &verified(&transfers),
        )
        .unwrap();
    assert!(template.skipped.is_empty());
    let carried: Vec<_> = template.transactions.iter().map(|tx| tx.hash()).collect();
    let hashes: Vec<_> = transfers.iter().map(|tx| tx.hash()).collect();
    assert_eq!(carried, hashes);
    let built = seal_built(template);
    let block = built.block();
    // Stored and connected in one write, reusing the template's execution: nothing read back.
    let before = miner.chain.store().io();
    let outcome = miner.chain.import_block(built, now()).unwrap();
    assert!(matches!(outcome, ImportOutcome::NewHead { reorg_depth: 0 }));
    assert_eq!(
        io_delta(before, miner.chain.store().io()),
        ONE_WRITE_NO_READ_BACK
    );
    peer.chain.import_block(block.clone(), now()).unwrap();
    assert_eq!(miner.chain.head().hash, block.hash());
    assert_eq!(miner.chain.head().hash, peer.chain.head().hash);
    assert_eq!(
        miner.chain.receipts(&block.hash()).unwrap(),
        peer.chain.receipts(&block.hash()).unwrap()
    );
    assert_eq!(
        miner.chain.account(&sender.address()).unwrap(),
        peer.chain.account(&sender.address()).unwrap()
    );
    assert_eq!(miner.chain.account(&sender.address()).unwrap().nonce, 3);

    // A stale template: built on the head, then a sibling block became the head first. Its
    // block is stored on the side; the branch it starts wins once a child extends it, and the
    // block is then executed over its own parent.
    let head = miner.chain.head().header.clone();
    let stale = miner
        .chain
        .build_block(
            dev_key(0).address(),
            head.timestamp_ms + 1_000,
            &verified(&[transfer(&sender, 3, Address([0x43; 20]), 1)]),
        )
        .unwrap();
    let stale = seal_built(stale);
    let stale_block = stale.block();
    let sibling = miner.mine(dev_key(2).address(), &[]);
    assert_eq!(
        miner.chain.import_block(stale, now()).unwrap(),
        ImportOutcome::StoredOnSideBranch
    );
    assert_eq!(miner.chain.head().hash, sibling.hash());
    // The peer never saw the sibling: the stale block is its head, and it mines a child.
    peer.chain.import_block(stale_block.clone(), now()).unwrap();
    let child = peer.mine(dev_key(3).address(), &[]);
    let outcome = miner.chain.import_block(child, now()).unwrap();
    assert!(matches!(outcome, ImportOutcome::NewHead { reorg_depth: 1 }));
    assert_eq!(miner.chain.head().hash, peer.chain.head().hash);
    assert_eq!(
        miner.chain.head().header.state_root,
        peer.chain.head().header.state_root
    );
    assert_eq!(
        miner.chain.account(&Address([0x43; 20])).unwrap().balance,
        1
    );
}
