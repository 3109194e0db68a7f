//! The mempool: admission errors, nonce ordering with fee priority, replacement, eviction at the
//! bound, pruning on inclusion, and re-admission after a reorganisation.

use salus_node::mempool::{AdmissionError, Mempool, PoolLimits};
use salus_primitives::{Action, Address, SignedTransaction, Transaction};
use salus_runtime::InvalidTransaction;

use crate::support::*;

fn pool(test: &TestChain, capacity: usize) -> Mempool {
    Mempool::new(
        test.chain.params().clone(),
        test.chain.signature_cache().clone(),
        PoolLimits {
            transactions: capacity,
            bytes: 1 << 30,
            fuel_blocks: 4,
        },
    )
}

fn priced(sender: u32, nonce: u64, price: u128) -> SignedTransaction {
    reserving(sender, nonce, price, 50_000)
}

/// A transfer from dev account `sender` reserving `fuel_limit`.
fn reserving(sender: u32, nonce: u64, price: u128, fuel_limit: u64) -> SignedTransaction {
    Transaction {
        chain_id: salus_node::genesis::DEV_CHAIN_ID,
        nonce,
        fuel_limit,
        fuel_price: price,
        action: Action::Transfer {
            to: Address([9; 20]),
            amount: 1,
        },
        sponsor: None,
    }
    .sign(&dev_key(sender), None)
}

#[test]
fn admission_refuses_with_the_rule_broken() {
    let test = TestChain::new();
    let mut pool = pool(&test, 100);
    let good = priced(1, 0, 1);
    pool.admit(good.clone(), &test.chain).unwrap();
    assert!(matches!(
        pool.admit(good, &test.chain),
        Err(AdmissionError::AlreadyKnown(_))
    ));
    let mut wrong_chain = priced(1, 1, 1);
    wrong_chain.transaction.chain_id = 1;
    let wrong_chain = wrong_chain.transaction.sign(&dev_key(1), None);
    assert!(matches!(
        pool.admit(wrong_chain, &test.chain),
        Err(AdmissionError::Invalid(
            InvalidTransaction::WrongChainId { .. }
        ))
    ));
    let mut bad_signature = priced(1, 1, 1);
    bad_signature.signature.0[..32].fill(0);
    assert!(matches!(
        pool.admit(bad_signature, &test.chain),
        Err(AdmissionError::Invalid(InvalidTransaction::BadSignature(_)))
    ));
    assert!(matches!(
        pool.admit(priced(1, 100, 1), &test.chain),
        Err(AdmissionError::NonceTooFarAhead { .. })
    ));
    let pauper = salus_primitives::SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let broke = priced(1, 0, 1).transaction.sign(&pauper, None);
    assert!(matches!(
        pool.admit(broke, &test.chain),
        Err(AdmissionError::Invalid(
            InvalidTransaction::InsufficientBalance { .. }
        ))
    ));
    let mut starved = priced(1, 1, 1).transaction;
    starved.fuel_limit = 10;
    assert!(matches!(
        pool.admit(starved.sign(&dev_key(1), None), &test.chain),
        Err(AdmissionError::Invalid(
            InvalidTransaction::FuelLimitTooLow { .. }
        ))
    ));
    assert_eq!(pool.len(), 1);
}

#[test]
fn selection_keeps_nonce_order_per_sender_and_fee_priority_across_senders() {
    let test = TestChain::new();
    let mut pool = pool(&test, 100);
    // Sender 1: nonces 0,1,2 at price 1,9,9. Sender 2: nonce 0 at price 5. Sender 3: nonce 1
    // only (a gap: not ready).
    for tx in [
        priced(1, 2, 9),
        priced(1, 0, 1),
        priced(1, 1, 9),
        priced(2, 0, 5),
        priced(3, 1, 50),
    ] {
        pool.admit(tx, &test.chain).unwrap();
    }
    let order: Vec<(Address, u64)> = pool
        .select(&test.chain, u64::MAX)
        .iter()
        .map(|tx| (tx.signers().sender, tx.transaction().transaction.nonce))
        .collect();
    let (one, two) = (dev_key(1).address(), dev_key(2).address());
    assert_eq!(order, vec![(two, 0), (one, 0), (one, 1), (one, 2)]);
    // A fuel budget for two transactions takes the best two.
    assert_eq!(pool.select(&test.chain, 100_000).len(), 2);
}

#[test]
fn a_higher_fee_replaces_a_pending_transaction() {
    let test = TestChain::new();
    let mut pool = pool(&test, 100);
    let first = priced(1, 0, 10);
    pool.admit(first.clone(), &test.chain).unwrap();
    assert!(matches!(
        pool.admit(priced(1, 0, 10), &test.chain),
        Err(AdmissionError::AlreadyKnown(_))
    ));
    assert!(matches!(
        pool.admit(
            priced(1, 0, 10).transaction.sign(&dev_key(1), None),
            &test.chain
        ),
        Err(AdmissionError::AlreadyKnown(_))
    ));
    let mut slightly = priced(1, 0, 10).transaction;
    slightly.fuel_limit += 1; // a different transaction at the same price
    assert_eq!(
        pool.admit(slightly.sign(&dev_key(1), None), &test.chain),
        Err(AdmissionError::ReplacementUnderpriced { minimum: 11 })
    );
    let better = priced(1, 0, 11);
    pool.admit(better.clone(), &test.chain).unwrap();
    assert_eq!(pool.len(), 1);
    assert!(!pool.contains(&first.hash()));
    assert!(pool.contains(&better.hash()));
}

#[test]
fn a_full_pool_evicts_the_cheapest_for_a_better_paying_transaction() {
    let test = TestChain::new();
    let mut pool = pool(&test, 3);
    for (sender, price) in [(1, 5), (2, 3), (3, 7)] {
        pool.admit(priced(sender, 0, price), &test.chain).unwrap();
    }
    assert_eq!(
        pool.admit(priced(4, 0, 3), &test.chain),
        Err(AdmissionError::PoolFull { cheapest: 3 })
    );
    let rich = priced(4, 0, 4);
    pool.admit(rich.clone(), &test.chain).unwrap();
    assert_eq!(pool.len(), 3);
    assert!(
        !pool.contains(&priced(2, 0, 3).hash()),
        "the cheapest was evicted"
    );
    assert!(pool.contains(&rich.hash()));
}

#[test]
fn a_full_pool_refuses_an_underpriced_transaction_before_checking_its_signature() {
    let test = TestChain::new();
    let mut pool = pool(&test, 2);
    let nearly_full = pool.nearly_full_flag();
    pool.admit(priced(1, 0, 5), &test.chain).unwrap();
    assert!(!nearly_full.load(std::sync::atomic::Ordering::Relaxed));
    pool.admit(priced(2, 0, 5), &test.chain).unwrap();
    // Admission reads this flag without the pool's lock to decide whether to ask first.
    assert!(nearly_full.load(std::sync::atomic::Ordering::Relaxed));
    // A forged signature paying no more than the cheapest: refused for the full pool, without
    // recovering the signature (nothing reaches the verified-signature cache).
    let mut forged = priced(3, 0, 5);
    forged.signature.0[64] = 7; // no such recovery id
    assert_eq!(
        pool.admit(forged.clone(), &test.chain),
        Err(AdmissionError::PoolFull { cheapest: 5 })
    );
    assert!(
        salus_runtime::SignatureCache::get(test.chain.signature_cache().as_ref(), &forged.hash())
            .is_none()
    );
    // Paying more, it is checked, and its signature fails.
    let mut forged = priced(3, 0, 6);
    forged.signature.0[64] = 7;
    assert!(matches!(
        pool.admit(forged, &test.chain),
        Err(AdmissionError::Invalid(InvalidTransaction::BadSignature(_)))
    ));
    assert_eq!(pool.len(), 2);
    pool.prune(&[priced(1, 0, 5).hash()], &test.chain);
    assert!(!nearly_full.load(std::sync::atomic::Ordering::Relaxed));
}

#[test]
fn the_pool_holds_at_most_its_blocks_worth_of_reserved_fuel() {
    let test = TestChain::new();
    let block_fuel = test.chain.params().block_fuel_limit;
    let mut pool = Mempool::new(
        test.chain.params().clone(),
        test.chain.signature_cache().clone(),
        PoolLimits {
            transactions: 1_000,
            bytes: 1 << 30,
            fuel_blocks: 1,
        },
    );
    let heavy = |sender: u32, price: u128| reserving(sender, 0, price, block_fuel * 2 / 5);
    // Two reserve 80 % of a block; a third would pass one block's worth.
    pool.admit(heavy(1, 1), &test.chain).unwrap();
    pool.admit(heavy(2, 1), &test.chain).unwrap();
    assert_eq!(
        pool.admit(heavy(3, 1), &test.chain),
        Err(AdmissionError::PoolFull { cheapest: 1 })
    );
    // A light transaction still fits in what is left.
    pool.admit(priced(4, 0, 1), &test.chain).unwrap();
    // Paying more evicts the cheapest (the newest of the equally cheap first) until it fits:
    // the light one is not enough, the second heavy one goes too.
    pool.admit(heavy(3, 2), &test.chain).unwrap();
    assert_eq!(pool.len(), 2);
    assert!(pool.contains(&heavy(1, 1).hash()));
    assert!(pool.contains(&heavy(3, 2).hash()));
    // Paying more than one but not all of those it would have to displace changes nothing:
    // evicting the first is not enough, and the second pays as much.
    assert_eq!(
        pool.admit(reserving(5, 0, 2, block_fuel * 4 / 5), &test.chain),
        Err(AdmissionError::PoolFull { cheapest: 2 })
    );
    assert_eq!(pool.len(), 2);
    assert!(pool.contains(&heavy(1, 1).hash()));
    assert!(pool.contains(&heavy(3, 2).hash()));
}

#[test]
fn a_busy_pool_refuses_transactions_after_a_nonce_gap() {
    let test = TestChain::new();
    let mut pool = pool(&test, 4);
    // Below half full, a transaction after a gap waits in the pool for the missing nonce.
    pool.admit(priced(1, 1, 1), &test.chain).unwrap();
    pool.admit(priced(2, 0, 1), &test.chain).unwrap();
    // Half full: another gap is refused, with its reason, and nothing changes.
    assert_eq!(
        pool.admit(priced(3, 2, 1), &test.chain),
        Err(AdmissionError::NonceGapInBusyPool {
            expected: 0,
            found: 2
        })
    );
    assert_eq!(pool.len(), 2);
    // Executable transactions and those continuing a pending one are still admitted.
    pool.admit(priced(3, 0, 1), &test.chain).unwrap();
    pool.admit(priced(3, 1, 1), &test.chain).unwrap();
    assert_eq!(pool.len(), 4);
}

#[test]
fn included_transactions_leave_and_orphaned_ones_come_back_after_a_reorg() {
    // Node follows branch A, which includes sender 1's transfer; branch B (heavier) does not.
    let mut a = TestChain::new();
    let transfer_a = transfer(&dev_key(1), 0, Address([0xa; 20]), 5);
    let branch_a = vec![a.mine(dev_key(0).address(), std::slice::from_ref(&transfer_a))];
    let mut b = TestChain::new();
    let branch_b: Vec<_> = (0..2).map(|_| b.mine(dev_key(7).address(), &[])).collect();

    let mut node = TestChain::new();
    let mut pool = pool(&node, 100);
    pool.admit(transfer_a.clone(), &node.chain).unwrap();
    for block in &branch_a {
        node.chain.import_block(block.clone(), now()).unwrap();
        let included: Vec<_> = block.transactions.iter().map(|tx| tx.hash()).collect();
        pool.prune(&included, &node.chain);
    }
    assert!(pool.is_empty(), "included transaction left the pool");
    for block in &branch_b {
        node.chain.import_block(block.clone(), now()).unwrap();
    }
    let orphaned = node.chain.drain_orphaned_transactions();
    let orphaned_transactions: Vec<_> =
        orphaned.iter().map(|tx| tx.transaction().clone()).collect();
    assert_eq!(orphaned_transactions, vec![transfer_a.clone()]);
    assert_eq!(orphaned[0].hash(), transfer_a.hash());
    assert_eq!(pool.readmit(orphaned, &node.chain), 1);
    assert!(pool.contains(&transfer_a.hash()));
    let selected: Vec<_> = pool
        .select(&node.chain, u64::MAX)
        .into_iter()
        .map(|tx| tx.into_transaction())
        .collect();
    assert_eq!(selected, vec![transfer_a]);
}
