//! The example counter contract (contracts/examples/counter), compiled to wasm32 by the normal
//! build, run through the test kit: dispatch of every supported argument type, typed failures
//! for bad input, events, errors, views and paging.

use counter::Incremented;
use salus_primitives::{Address, Hash};
use salus_testkit::{TestChain, message_input, selector};

fn deployed() -> (TestChain, Address, Address) {
    let mut chain = TestChain::new();
    let owner = chain.account(1);
    let counter = chain
        .deploy(owner, salus_contracts::COUNTER, "new", &5u64)
        .unwrap();
    (chain, owner, counter)
}

#[test]
fn constructor_messages_events_and_views() {
    let (mut chain, owner, counter) = deployed();
    assert_eq!(chain.view::<u64>(owner, counter, "get", &()), 5);
    let result = chain.call(owner, counter, "increment", &3u64);
    assert_eq!(result.decode::<u64>(), 8);
    assert_eq!(
        result.events_named::<Incremented>("Incremented"),
        vec![Incremented {
            by: owner,
            amount: 3,
            total: 8
        }]
    );
    // The event's second topic is the indexed `by` field (its 20-byte encoding, zero-padded).
    let mut topic = [0u8; 32];
    topic[..20].copy_from_slice(&owner.0);
    assert_eq!(result.events()[0].topics[1], Hash(topic));
    assert!(result.fuel_used() > 0);

    let other = chain.account(2);
    chain
        .call(other, counter, "increment", &10u64)
        .decode::<u64>();
    let contributions: Vec<(Address, u64)> =
        chain.view(owner, counter, "contributions", &(None::<Address>, 10u32));
    let mut expected = vec![(owner, 3), (other, 10)];
    expected.sort();
    let mut found = contributions.clone();
    found.sort();
    assert_eq!(found, expected);
    // Paging: one at a time after the first.
    let first: Vec<(Address, u64)> =
        chain.view(owner, counter, "contributions", &(None::<Address>, 1u32));
    let rest: Vec<(Address, u64)> =
        chain.view(owner, counter, "contributions", &(Some(first[0].0), 10u32));
    assert_eq!(first.len() + rest.len(), 2);
    assert_ne!(first[0], rest[0]);
}

#[test]
fn typed_errors_revert_with_their_name_and_keep_nothing() {
    let (mut chain, owner, counter) = deployed();
    let stranger = chain.account(3);
    assert_eq!(
        chain.call(stranger, counter, "reset", &()).revert_message(),
        "CounterError::NotOwner"
    );
    assert!(chain.call(owner, counter, "reset", &()).is_success());
    chain
        .call(owner, counter, "increment", &u64::MAX)
        .decode::<u64>();
    let overflow = chain.call(owner, counter, "increment", &1u64);
    assert_eq!(overflow.revert_message(), "CounterError::Overflow");
    assert!(overflow.events().is_empty());
    assert_eq!(chain.view::<u64>(owner, counter, "get", &()), u64::MAX);
}

#[test]
fn every_supported_argument_type_round_trips_through_dispatch() {
    let (mut chain, owner, counter) = deployed();
    type Echo = (
        bool,
        u8,
        i64,
        u128,
        String,
        Vec<u8>,
        (u32, Option<Hash>),
        Vec<Address>,
    );
    let arguments: Echo = (
        true,
        250,
        -1_234_567_890_123,
        u128::MAX - 7,
        "HPOWATT ✓".to_string(),
        vec![0, 1, 2, 255],
        (77, Some(Hash([9; 32]))),
        vec![Address([1; 20]), Address([2; 20])],
    );
    let echoed: Echo = chain.view(owner, counter, "echo", &arguments);
    assert_eq!(echoed, arguments);
    let empty: Echo = (
        false,
        0,
        0,
        0,
        String::new(),
        Vec::new(),
        (0, None),
        Vec::new(),
    );
    assert_eq!(
        chain.call(owner, counter, "echo", &empty).decode::<Echo>(),
        empty
    );
}

#[test]
fn bad_input_is_a_typed_revert_that_names_the_problem() {
    let (mut chain, owner, counter) = deployed();
    let unknown = chain.call_raw(owner, counter, vec![0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(unknown.revert_message(), "unknown selector 0xdeadbeef");

    let short = chain.call_raw(owner, counter, vec![1, 2]);
    assert!(
        short
            .revert_message()
            .contains("shorter than a 4-byte selector")
    );

    let mut truncated = selector("increment").to_vec();
    truncated.extend_from_slice(&[1, 2, 3]);
    let result = chain.call_raw(owner, counter, truncated);
    assert!(
        result.revert_message().contains("argument `amount`"),
        "{}",
        result.revert_message()
    );
    assert!(
        result.revert_message().contains("u64"),
        "{}",
        result.revert_message()
    );

    let mut trailing = message_input("increment", &1u64);
    trailing.push(0);
    assert!(
        chain
            .call_raw(owner, counter, trailing)
            .revert_message()
            .contains("1 trailing bytes")
    );

    let mut wrong_type = selector("echo").to_vec();
    wrong_type.push(7); // not a bool
    assert!(
        chain
            .call_raw(owner, counter, wrong_type)
            .revert_message()
            .contains("argument `flag`")
    );

    // None of that changed anything.
    assert_eq!(chain.view::<u64>(owner, counter, "get", &()), 5);
}

#[test]
fn new_accounts_sign_their_own_calls() {
    let (mut chain, owner, counter) = deployed();
    let patient = chain.new_account(10u128.pow(18));
    let clinician = chain.new_account(10u128.pow(18));
    assert_ne!(patient, clinician);
    assert_eq!(
        chain
            .call(patient, counter, "increment", &1u64)
            .decode::<u64>(),
        6
    );
    assert_eq!(
        chain
            .call(clinician, counter, "increment", &1u64)
            .decode::<u64>(),
        7
    );
    assert_eq!(chain.account_state(&patient).nonce, 1);
    let contributions: Vec<(Address, u64)> =
        chain.view(owner, counter, "contributions", &(None::<Address>, 10u32));
    assert!(contributions.contains(&(patient, 1)) && contributions.contains(&(clinician, 1)));
}

#[test]
fn advancing_blocks_and_time_is_visible_to_the_next_transaction() {
    let (mut chain, owner, _) = deployed();
    let before = (chain.block_number(), chain.timestamp_ms());
    chain.advance_blocks(10);
    chain.advance_time(30 * 24 * 60 * 60 * 1000);
    assert_eq!(chain.block_number(), before.0 + 10);
    assert_eq!(
        chain.timestamp_ms(),
        before.1 + 10 * 1_000 + 30 * 24 * 60 * 60 * 1000
    );
    let _ = owner;
}
