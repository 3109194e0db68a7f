//! Block import rules: persistence across reopen, every rejection with its typed error and no
//! change to stored state, orphans, ASERT difficulty, and state proofs against headers.

use salus_node::chain::validation::{self, BlockRuleError};
use salus_node::genesis::{DifficultyConfig, GenesisConfig, HexU32};
use salus_node::{ImportError, ImportOutcome};
use salus_primitives::state_proof::ProofError;
use salus_primitives::{
    Action, Address, Block, CompactTarget, Hash, StateKey, Transaction, limits,
};
use salus_runtime::{BlockExecutionError, InvalidTransaction};

use crate::support::*;

fn recipient(i: u8) -> Address {
    Address([i; 20])
}

#[test]
fn two_hundred_blocks_survive_reopen() {
    let mut test = TestChain::new();
    let sender = dev_key(1);
    let miner = dev_key(0).address();
    for number in 0..200u64 {
        let transactions = if number % 10 == 0 {
            vec![transfer(
                &sender,
                number / 10,
                recipient(number as u8),
                1_000 + u128::from(number),
            )]
        } else {
            Vec::new()
        };
        test.mine(miner, &transactions);
    }
    let head = test.chain.head().clone();
    assert_eq!(head.header.number, 200);
    let sender_account = test.chain.account(&sender.address()).unwrap();
    assert_eq!(sender_account.nonce, 20);
    let miner_account = test.chain.account(&miner).unwrap();
    let state = flat_state(&test.chain);

    let test = test.reopen();
    assert_eq!(test.chain.head(), &head);
    assert_eq!(
        test.chain.account(&sender.address()).unwrap(),
        sender_account
    );
    assert_eq!(test.chain.account(&miner).unwrap(), miner_account);
    assert_eq!(test.chain.account(&recipient(190)).unwrap().balance, 1_190);
    assert_eq!(flat_state(&test.chain), state);
    let report = salus_node::verify::verify_chain(test.chain.store()).unwrap();
    assert_eq!(report.blocks, 201);
    assert_eq!(report.transactions, 20);
}

/// Imports `block`, expects an error matching `expected`, and checks nothing stored changed.
fn assert_rejected(test: &mut TestChain, block: Block, expected: impl Fn(&ImportError) -> bool) {
    let head = test.chain.head().clone();
    let state = flat_state(&test.chain);
    let error = test
        .chain
        .import_block(block, now())
        .expect_err("block was accepted");
    assert!(expected(&error), "unexpected error: {error:?}");
    assert_eq!(test.chain.head(), &head, "head moved");
    assert_eq!(flat_state(&test.chain), state, "state changed");
}

fn invalid_transaction(error: &ImportError) -> Option<&InvalidTransaction> {
    match error {
        ImportError::Execution(BlockExecutionError::InvalidTransaction { error, .. }) => {
            Some(error)
        }
        _ => None,
    }
}

#[test]
fn every_header_rule_has_a_typed_rejection() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    for _ in 0..12 {
        test.mine(miner, &[]);
    }
    let good = test.next_block(miner, &[]);

    // Proof of work: the first nonce whose hash misses the target.
    let mut bad_pow = good.clone();
    let target = bad_pow.header.bits.to_target().unwrap();
    while salus_primitives::pow::hash_meets_target(&bad_pow.hash(), &target) {
        bad_pow.header.nonce += 1;
    }
    assert_rejected(&mut test, bad_pow, |e| {
        matches!(e, ImportError::Rule(BlockRuleError::BadProofOfWork { .. }))
    });

    let mut bad_number = good.clone();
    bad_number.header.number += 1;
    assert_rejected(&mut test, seal(bad_number), |e| {
        matches!(e, ImportError::Rule(BlockRuleError::BadNumber { .. }))
    });

    let mut too_old = good.clone();
    too_old.header.timestamp_ms = test.chain.head().header.timestamp_ms - 6_000;
    assert_rejected(&mut test, seal(too_old), |e| {
        matches!(e, ImportError::Rule(BlockRuleError::TimestampTooOld { .. }))
    });

    let mut future = good.clone();
    // A minute past the drift: the import's own clock reading comes a little later.
    future.header.timestamp_ms =
        now() + limits::max_future_drift_ms(test.chain.params().target_block_time_ms) + 60_000;
    assert_rejected(&mut test, seal(future), |e| {
        matches!(
            e,
            ImportError::Rule(BlockRuleError::TimestampTooFarInFuture { .. })
        )
    });

    let mut harder = good.clone();
    harder.header.bits = CompactTarget::from_leading_zero_bits(9);
    assert_rejected(&mut test, seal(harder), |e| {
        matches!(e, ImportError::Rule(BlockRuleError::BadDifficulty { .. }))
    });

    let mut bad_tx_root = good.clone();
    bad_tx_root.header.transactions_root.0[0] ^= 1;
    assert_rejected(&mut test, seal(bad_tx_root), |e| {
        matches!(
            e,
            ImportError::Rule(BlockRuleError::BadTransactionsRoot { .. })
        )
    });

    let mut bad_state_root = good.clone();
    bad_state_root.header.state_root.0[0] ^= 1;
    assert_rejected(&mut test, seal(bad_state_root), |e| {
        matches!(e, ImportError::BadStateRoot { .. })
    });

    let mut bad_receipts_root = good.clone();
    bad_receipts_root.header.receipts_root.0[0] ^= 1;
    assert_rejected(&mut test, seal(bad_receipts_root), |e| {
        matches!(e, ImportError::BadReceiptsRoot { .. })
    });

    // After all of that, the honest block still imports.
    assert_eq!(
        test.chain.import_block(good, now()).unwrap(),
        ImportOutcome::NewHead { reorg_depth: 0 }
    );
}

#[test]
fn every_transaction_rule_has_a_typed_rejection() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let sender = dev_key(2);
    test.mine(miner, &[transfer(&sender, 0, recipient(1), 5)]);
    let empty = test.next_block(miner, &[]);

    let mut bad_signature = transfer(&sender, 1, recipient(1), 5);
    bad_signature.signature.0[10] ^= 0x40;
    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![bad_signature]),
        |e| {
            // A corrupted signature recovers a different key (whose nonce and balance are wrong) or
            // none at all; either way the block is refused with a transaction error.
            invalid_transaction(e).is_some()
        },
    );

    let mut malformed = transfer(&sender, 1, recipient(1), 5);
    malformed.signature.0[..32].fill(0);
    assert_rejected(&mut test, with_body(empty.clone(), vec![malformed]), |e| {
        matches!(
            invalid_transaction(e),
            Some(InvalidTransaction::BadSignature(_))
        )
    });

    let wrong_chain = Transaction {
        chain_id: 1,
        nonce: 1,
        fuel_limit: 50_000,
        fuel_price: 1,
        action: Action::Transfer {
            to: recipient(1),
            amount: 5,
        },
        sponsor: None,
    };
    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![wrong_chain.clone().sign(&sender, None)]),
        |e| {
            matches!(
                invalid_transaction(e),
                Some(InvalidTransaction::WrongChainId {
                    expected: 7_357,
                    found: 1
                })
            )
        },
    );

    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![transfer(&sender, 0, recipient(1), 5)]),
        |e| {
            matches!(
                invalid_transaction(e),
                Some(InvalidTransaction::NonceTooLow {
                    expected: 1,
                    found: 0
                })
            )
        },
    );
    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![transfer(&sender, 5, recipient(1), 5)]),
        |e| {
            matches!(
                invalid_transaction(e),
                Some(InvalidTransaction::NonceTooHigh {
                    expected: 1,
                    found: 5
                })
            )
        },
    );
    let pauper = salus_primitives::SecretKey::from_bytes(&[0x42; 32]).unwrap();
    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![transfer(&pauper, 0, recipient(1), 5)]),
        |e| {
            matches!(
                invalid_transaction(e),
                Some(InvalidTransaction::InsufficientBalance { available: 0, .. })
            )
        },
    );
    let too_rich = transfer(&sender, 1, recipient(1), u128::MAX / 2);
    assert_rejected(&mut test, with_body(empty.clone(), vec![too_rich]), |e| {
        matches!(
            invalid_transaction(e),
            Some(InvalidTransaction::InsufficientBalance { .. })
        )
    });

    // An oversized transaction: a deploy carrying more code than any transaction may.
    let oversized = Transaction {
        chain_id: salus_node::genesis::DEV_CHAIN_ID,
        nonce: 1,
        fuel_limit: 20_000_000,
        fuel_price: 1,
        action: Action::Deploy {
            code: vec![0u8; limits::MAX_TRANSACTION_BYTES],
            constructor_input: Vec::new(),
            salt: salus_primitives::Hash::ZERO,
            value: 0,
        },
        sponsor: None,
    }
    .sign(&sender, None);
    assert_rejected(
        &mut test,
        with_body(empty.clone(), vec![oversized.clone()]),
        |e| {
            matches!(
                invalid_transaction(e),
                Some(InvalidTransaction::Oversized { .. })
            )
        },
    );
    // An oversized block: more body bytes than a block may carry.
    let heavy: Vec<_> = (0..9).map(|_| oversized.clone()).collect();
    assert_rejected(&mut test, with_body(empty.clone(), heavy), |e| {
        matches!(e, ImportError::Rule(BlockRuleError::Oversized { .. }))
    });

    // A valid transfer still goes in afterwards.
    let valid = test.next_block(miner, &[transfer(&sender, 1, recipient(1), 5)]);
    test.chain.import_block(valid, now()).unwrap();
    assert_eq!(test.chain.account(&recipient(1)).unwrap().balance, 10);
}

#[test]
fn a_known_invalid_block_and_its_descendants_are_refused() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let mut bad = test.next_block(miner, &[]);
    bad.header.state_root.0[3] ^= 1;
    let bad = seal(bad);
    let bad_hash = bad.hash();
    assert!(matches!(
        test.chain.import_block(bad.clone(), now()),
        Err(ImportError::BadStateRoot { .. })
    ));
    assert!(matches!(
        test.chain.import_block(bad.clone(), now()),
        Err(ImportError::KnownInvalid { .. })
    ));
    // A child of the invalid block.
    let mut child = bad.clone();
    child.header.parent_hash = bad_hash;
    child.header.number += 1;
    child.header.timestamp_ms += 1_000;
    let child = seal(child);
    assert!(matches!(
        test.chain.import_block(child, now()),
        Err(ImportError::InvalidAncestor { .. })
    ));
    assert_eq!(test.chain.head().header.number, 0);
}

#[test]
fn orphans_wait_for_their_parent() {
    let mut producer = TestChain::new();
    let miner = dev_key(0).address();
    let blocks: Vec<Block> = (0..5).map(|_| producer.mine(miner, &[])).collect();
    let mut test = TestChain::new();
    for block in blocks.iter().skip(1).rev() {
        assert_eq!(
            test.chain.import_block(block.clone(), now()).unwrap(),
            ImportOutcome::HeldAsOrphan
        );
    }
    assert_eq!(test.chain.orphan_count(), 4);
    test.chain.import_block(blocks[0].clone(), now()).unwrap();
    assert_eq!(test.chain.orphan_count(), 0);
    assert_eq!(test.chain.head(), producer.chain.head());
}

fn asert_genesis() -> salus_node::Genesis {
    let mut config = GenesisConfig::dev();
    config.pow_limit = HexU32(CompactTarget::from_leading_zero_bits(4).0);
    config.genesis_bits = HexU32(CompactTarget::from_leading_zero_bits(10).0);
    config.difficulty = DifficultyConfig::Asert {
        half_life_ms: 60_000,
    };
    config.target_block_time_ms = 1_000;
    config.build().unwrap()
}

#[test]
fn asert_difficulty_follows_the_schedule() {
    let mut test = TestChain::with_genesis(asert_genesis());
    let miner = dev_key(0).address();
    let genesis_bits = test.chain.genesis().bits;
    // On schedule (TestChain::mine stamps parent + 1 s = the target block time): unchanged.
    for _ in 0..5 {
        let block = test.mine(miner, &[]);
        let drift = leading_zero_bits_of(block.header.bits) as i64
            - leading_zero_bits_of(genesis_bits) as i64;
        assert!(
            drift.abs() <= 1,
            "bits drifted on schedule: {:?}",
            block.header.bits
        );
    }
    // Ten half-lives late: the target is clamped at the pow limit.
    let mut late = test.next_block(miner, &[]);
    late.header.timestamp_ms += 10 * 60_000;
    let late = seal(late);
    // The late block's own bits were computed from its on-time parent, so it still imports…
    test.chain.import_block(late, now()).unwrap();
    // …and the block after it must carry the pow limit.
    let next = test.next_block(miner, &[]);
    assert_eq!(next.header.bits, test.chain.params().pow_limit);
    let mut wrong = next.clone();
    wrong.header.bits = genesis_bits;
    assert_rejected(&mut test, seal(wrong), |e| {
        matches!(e, ImportError::Rule(BlockRuleError::BadDifficulty { .. }))
    });
    test.chain.import_block(next, now()).unwrap();
}

#[test]
fn one_block_stamped_as_far_ahead_as_allowed_barely_moves_asert_and_two_hours_ahead_is_refused() {
    let mut test = TestChain::with_genesis(asert_genesis());
    let miner = dev_key(0).address();
    for _ in 0..12 {
        test.mine(miner, &[]);
    }
    let params = test.chain.params().clone();
    let drift_ms = limits::max_future_drift_ms(params.target_block_time_ms);
    let local_clock = test.chain.head().header.timestamp_ms + params.target_block_time_ms;

    // Two hours ahead (the old rule, Bitcoin's) is refused, and is not the sender's fault.
    let mut two_hours = test.next_block(miner, &[]);
    two_hours.header.timestamp_ms = local_clock + 2 * 60 * 60 * 1000;
    let refused = test
        .chain
        .import_block(seal(two_hours), local_clock)
        .unwrap_err();
    assert!(
        matches!(
            refused,
            ImportError::Rule(BlockRuleError::TimestampTooFarInFuture { max_drift_ms, .. })
                if max_drift_ms == drift_ms
        ),
        "{refused}"
    );
    assert!(
        !refused.is_invalid_block(),
        "our clock may be the one behind"
    );

    // An honest parent's child target, and the child target of a parent stamped as far ahead
    // as allowed (it imports).
    let honest = test.next_block(miner, &[]);
    let mut ahead = honest.clone();
    ahead.header.timestamp_ms = local_clock + drift_ms;
    let ahead = seal(ahead);
    test.chain.import_block(ahead.clone(), local_clock).unwrap();
    let genesis = test.chain.genesis().clone();
    let child_target = |parent: &Block| {
        validation::expected_bits(&params, &genesis, &parent.header)
            .unwrap()
            .to_target()
            .unwrap()
    };
    let (eased, normal) = (child_target(&ahead), child_target(&honest));
    assert!(
        eased >= normal,
        "a parent ahead of time never makes the child harder"
    );
    let shift = normal.bits().saturating_sub(60);
    let ratio = (eased >> shift).low_u64() as f64 / (normal >> shift).low_u64() as f64;
    let bound = 2f64.powf(1.0 / limits::MIN_ASERT_HALF_LIFE_DRIFTS as f64);
    assert!(
        ratio > 1.0 && ratio <= bound,
        "one block ahead eased its child's target by {ratio} (at most {bound})"
    );
    // The next honestly stamped block (above the median, not above its parent) is back on
    // schedule: the target its child gets is the honest one again, within a compact's rounding.
    let mut next = test.next_block(miner, &[]);
    next.header.timestamp_ms = honest.header.timestamp_ms + 1;
    let next = seal(next);
    test.chain.import_block(next.clone(), local_clock).unwrap();
    let restored = child_target(&next);
    let ratio = (restored >> shift).low_u64() as f64 / (normal >> shift).low_u64() as f64;
    assert!((0.98..=1.02).contains(&ratio), "{ratio}");

    // A half-life shorter than eight drifts is refused at genesis.
    let mut config = GenesisConfig::dev();
    config.difficulty = DifficultyConfig::Asert {
        half_life_ms: drift_ms * limits::MIN_ASERT_HALF_LIFE_DRIFTS - 1,
    };
    assert!(
        config
            .build()
            .unwrap_err()
            .to_string()
            .contains("half_life_ms")
    );
}

fn leading_zero_bits_of(bits: CompactTarget) -> u32 {
    let target = bits.to_target().unwrap();
    target.leading_zeros()
}

#[test]
fn state_proofs_verify_against_the_header_alone() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let sender = dev_key(3);
    test.mine(miner, &[transfer(&sender, 0, recipient(9), 77)]);
    let old_root = test.chain.head().header.state_root;
    test.mine(miner, &[transfer(&sender, 1, recipient(9), 23)]);
    let header = test.chain.head().header.clone();

    let present = StateKey::Account(recipient(9));
    let (proof, value) = test.chain.prove(&header.state_root, &present).unwrap();
    let value = value.expect("recipient exists");
    proof
        .verify(&header.state_root, &present.tree_path(), Some(&value))
        .unwrap();
    let mut tampered_value = value.clone();
    tampered_value[0] ^= 1;
    assert_eq!(
        proof.verify(
            &header.state_root,
            &present.tree_path(),
            Some(&tampered_value)
        ),
        Err(ProofError::ValueMismatch)
    );
    let mut tampered_root = header.state_root;
    tampered_root.0[31] ^= 1;
    assert_eq!(
        proof.verify(&tampered_root, &present.tree_path(), Some(&value)),
        Err(ProofError::RootMismatch)
    );

    let absent = StateKey::Account(recipient(200));
    let (proof, value) = test.chain.prove(&header.state_root, &absent).unwrap();
    assert_eq!(value, None);
    proof
        .verify(&header.state_root, &absent.tree_path(), None)
        .unwrap();
    assert!(
        proof
            .verify(&header.state_root, &absent.tree_path(), Some(b"anything"))
            .is_err()
    );

    // The previous block's root still answers with the previous balance.
    let old = test
        .chain
        .state_value_at(&old_root, &present)
        .unwrap()
        .unwrap();
    let old_account =
        <salus_primitives::Account as parity_scale_codec::Decode>::decode(&mut &old[..]).unwrap();
    assert_eq!(old_account.balance, 77);
}

/// A block is charged the fuel its transactions use: a transaction fits when its whole limit
/// fits in what the block has left, so transactions whose limits add up to more than the block's
/// limit share a block when what they use fits, and a block that breaks the rule is refused.
#[test]
fn a_block_is_charged_the_fuel_its_transactions_use() {
    let mut test = TestChain::new();
    let miner = dev_key(0).address();
    let block_limit = test.chain.params().block_fuel_limit;
    let transfer = |nonce: u64, fuel_limit: u64| {
        Transaction {
            chain_id: salus_node::genesis::DEV_CHAIN_ID,
            nonce,
            fuel_limit,
            fuel_price: 1,
            action: Action::Transfer {
                to: Address([9; 20]),
                amount: 1,
            },
            sponsor: None,
        }
        .sign(&dev_key(3), None)
    };
    // Three limits of 45 % each: 135 % reserved, a few thousandths used.
    let generous: Vec<_> = (0..3)
        .map(|nonce| transfer(nonce, block_limit * 45 / 100))
        .collect();
    let block = test.mine(miner, &generous);
    assert_eq!(block.transactions.len(), 3);

    // A whole-block limit after one transfer no longer fits: the miner leaves it out, and a
    // block holding it anyway is invalid.
    let (first, whole) = (transfer(3, 50_000), transfer(4, block_limit));
    let head = &test.chain.head().header;
    let template = test
        .chain
        .build_block(
            miner,
            head.timestamp_ms + 1_000,
            &verified(&[first.clone(), whole.clone()]),
        )
        .unwrap();
    assert_eq!(template.block().transactions, vec![first.clone()]);
    assert!(matches!(
        template.skipped[0].1,
        salus_runtime::CandidateError::Refused(salus_runtime::PushError::BlockFull { needed, limit })
            if needed > limit
    ));
    let refused = test.execute_next(miner, &[first, whole]).unwrap_err();
    assert!(
        matches!(refused, BlockExecutionError::BlockFuelLimitExceeded { needed, limit } if needed > limit),
        "{refused:?}"
    );
}

#[test]
fn a_block_of_the_wrong_difficulty_costs_no_signature_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let state = salus_node::service::NodeState::open(salus_node::service::NodeConfig {
        data_dir: dir.path().to_path_buf(),
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc_access: Default::default(),
        genesis: GenesisConfig::dev(),
        dev: true,
        mining: salus_node::service::Mining::OnDemand,
        miner: dev_key(0).address(),
        mining_threads: 1,
        metrics_addr: None,
        network: None,
        console_contracts: None,
    })
    .unwrap();
    // The same block, built on the same genesis, with 64 transfers the node has never seen.
    let producer = TestChain::new();
    let sender = dev_key(3);
    let signed: Vec<_> = (0..64)
        .map(|nonce| transfer(&sender, nonce, recipient(1), 1))
        .collect();
    let good = producer.next_block(dev_key(0).address(), &signed);
    let cached = || state.chain().signature_cache().len();

    // Harder bits than the chain requires: the proof of work meets them, the rule does not.
    let mut harder = good.clone();
    harder.header.bits = CompactTarget::from_leading_zero_bits(9);
    let harder = seal(harder);
    let refused = state.import(harder).unwrap_err();
    assert!(
        refused.to_string().contains("difficulty"),
        "refused for its bits: {refused}"
    );
    assert_eq!(cached(), 0, "no signature was recovered for it");

    // The block with the bits its parent requires: its 64 signers are recovered and it imports.
    state.import(good).unwrap();
    assert!(cached() >= 64, "{} signatures cached", cached());
}

#[test]
fn ten_thousand_easiest_target_blocks_off_genesis_store_nothing() {
    let mut test = TestChain::with_genesis(asert_genesis());
    let miner = dev_key(0).address();
    let honest = salus_node::chain::MAX_REORG_DEPTH + 12;
    for _ in 0..honest {
        test.mine(miner, &[]);
    }
    let head = test.chain.head().clone();
    let genesis = test.chain.genesis().clone();
    let pow_limit = test.chain.params().pow_limit;
    let clock = now();
    // An attacker's branch off genesis, stamped now: ASERT, far behind its schedule, would give
    // every block the easiest target there is. Orphans are never executed, so headers suffice.
    let mut parent = genesis.clone();
    let mut refused = std::collections::BTreeMap::<String, u64>::new();
    let mut attacker = Vec::new();
    for number in 1..=10_000u64 {
        let mut header = genesis.clone();
        header.parent_hash = parent.hash();
        header.number = number;
        header.timestamp_ms = clock - 20_000 + number;
        header.bits = pow_limit;
        let block = seal(Block {
            header,
            transactions: Vec::new(),
        });
        parent = block.header.clone();
        attacker.push(block.header.hash());
        match test.chain.import_block(block, clock) {
            Err(ImportError::NotKept { reason, .. }) => {
                let kind = format!("{reason:?}");
                *refused
                    .entry(kind[..kind.find([' ', '{']).unwrap_or(kind.len())].to_string())
                    .or_default() += 1;
            }
            Ok(ImportOutcome::HeldAsOrphan) => {}
            other => panic!("block {number}: {other:?}"),
        }
    }
    // The first forks 140 blocks deep; the next eleven are orphans as deep; the rest wait for
    // a parent that never comes, in a pool that stays bounded.
    assert_eq!(refused.get("TooDeep"), Some(&1), "{refused:?}");
    assert_eq!(refused.get("OrphanTooDeep"), Some(&11), "{refused:?}");
    assert!(test.chain.orphan_count() <= salus_node::chain::MAX_ORPHAN_BLOCKS);
    assert_eq!(test.chain.head(), &head);
    for hash in &attacker {
        assert!(
            test.chain.store().block_meta(hash).unwrap().is_none(),
            "nothing of the attacker's branch is stored"
        );
    }

    // An orphan easier than any block at its number may be here is not held either: on schedule,
    // block 20 of the honest chain's successor numbers needs about the genesis target.
    let mut easy = genesis.clone();
    easy.parent_hash = Hash([0x77; 32]);
    easy.number = head.header.number + 2;
    easy.timestamp_ms = head.header.timestamp_ms + 2_000;
    easy.bits = pow_limit;
    let easy = seal(Block {
        header: easy,
        transactions: Vec::new(),
    });
    let before = test.chain.orphan_count();
    let error = test
        .chain
        .import_block(easy, head.header.timestamp_ms + 1_000)
        .unwrap_err();
    assert!(
        matches!(
            error,
            ImportError::NotKept {
                reason: salus_node::chain::NotKept::OrphanTooEasy { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_unwanted_block() && !error.is_invalid_block());
    assert_eq!(test.chain.orphan_count(), before);
}

#[test]
fn one_senders_orphans_never_push_out_anothers() {
    let mut test = TestChain::new();
    let genesis = test.chain.genesis().clone();
    // Orphans: headers on parents nobody has, each from a named sender.
    let orphan = |tag: u8, index: u64| {
        let mut header = genesis.clone();
        header.parent_hash = Hash([tag; 32]);
        header.number = 2 + index;
        header.timestamp_ms = genesis.timestamp_ms + 1_000 * (index + 1);
        salus_node::chain::ReceivedBlock::new(seal(Block {
            header,
            transactions: Vec::new(),
        }))
        .with_origin(u64::from(tag))
    };
    let honest: Vec<Hash> = (0..10)
        .map(|index| {
            let block = orphan(2, index);
            let hash = block.hash();
            assert_eq!(
                test.chain.import_block(block, now()).unwrap(),
                ImportOutcome::HeldAsOrphan
            );
            hash
        })
        .collect();
    for index in 0..200 {
        assert_eq!(
            test.chain.import_block(orphan(1, index), now()).unwrap(),
            ImportOutcome::HeldAsOrphan
        );
    }
    assert_eq!(
        test.chain.orphan_count(),
        honest.len() + salus_node::chain::MAX_ORPHANS_PER_ORIGIN,
        "the flooding sender keeps only its newest"
    );
    assert!(
        honest.iter().all(|hash| test.chain.holds_orphan(hash)),
        "every orphan of the other sender is still held"
    );
}
