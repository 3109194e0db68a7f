//! The Salus test kit: contracts run in the real runtime, in-process.
//!
//! A [`TestChain`] is a chain in memory: every [`TestChain::call`] or [`TestChain::deploy`] is a
//! signed transaction, executed in a block of its own by the same `execute_block` a node runs,
//! with the dev chain's parameters, real wasmtime and real fuel. There is no separate mock
//! environment: what passes here behaves identically on a node (the node's tests replay test-kit
//! transactions through block import and compare receipts).
//!
//! ```ignore
//! let mut chain = TestChain::new();
//! let alice = chain.account(1);
//! let counter = chain.deploy(alice, salus_contracts::COUNTER, "new", &5u64).unwrap();
//! let result = chain.call(alice, counter, "increment", &2u64);
//! assert_eq!(result.decode::<u64>(), 7);
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use parity_scale_codec::{Decode, Encode};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::pow::{CompactTarget, DifficultyRule};
use salus_primitives::{
    Account, Action, Address, ChainParams, Event, ExecutionStatus, Hash, Receipt, SecretKey,
    SignedTransaction, StateKey, Transaction, keccak256,
};
use salus_runtime::{BlockContext, VerifiedTransaction, Vm, execute_block};

/// Chain id of test chains (the dev chain's).
pub const CHAIN_ID: u64 = 7_357;
/// Balance of each of the ten funded accounts.
pub const ACCOUNT_BALANCE: u128 = 1_000_000 * 10u128.pow(18);
/// Fuel limit of test-kit transactions: a whole block's worth (each transaction is mined in a
/// block of its own), so deploying the largest contract (~130 KB at 400 fuel a byte) fits.
pub const TRANSACTION_FUEL: u64 = 100_000_000;
/// Milliseconds between test blocks unless time is advanced.
pub const BLOCK_TIME_MS: u64 = 1_000;

/// The selector of message `name`: the first 4 bytes of keccak256 of the name (the ABI's
/// one selector rule).
pub use salus_abi::selector;

/// Call input: the selector of `message`, then the SCALE encoding of `arguments` (a tuple for
/// several arguments, `()` for none).
pub fn message_input(message: &str, arguments: &impl Encode) -> Vec<u8> {
    let mut input = selector(message).to_vec();
    arguments.encode_to(&mut input);
    input
}

/// The parameters of test chains (the dev chain's consensus parameters).
pub fn test_params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN_ID,
        pow_limit: CompactTarget(0x2000_ffff),
        genesis_bits: CompactTarget(0x2000_ffff),
        difficulty: DifficultyRule::Fixed,
        target_block_time_ms: BLOCK_TIME_MS,
        block_reward: 2 * 10u128.pow(18),
        block_fuel_limit: 100_000_000,
    }
}

/// The outcome of one call or deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// The receipt, exactly as a node would store it.
    pub receipt: Receipt,
}

impl CallResult {
    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        self.receipt.status.is_success()
    }

    /// The return value decoded as `T`; panics with the status if the call did not succeed.
    pub fn decode<T: Decode>(&self) -> T {
        assert!(
            self.is_success(),
            "call did not succeed: {:?}",
            self.receipt.status
        );
        T::decode(&mut &self.receipt.return_data[..])
            .expect("return data decodes as the requested type")
    }

    /// The revert message; panics if the call did not revert.
    pub fn revert_message(&self) -> &str {
        match &self.receipt.status {
            ExecutionStatus::Reverted { message } => message,
            other => panic!("expected a revert, got {other:?}"),
        }
    }

    /// The events emitted.
    pub fn events(&self) -> &[Event] {
        &self.receipt.events
    }

    /// The events whose first topic is keccak256 of `name`, decoded as `T`.
    pub fn events_named<T: Decode>(&self, name: &str) -> Vec<T> {
        let signature = keccak256(name.as_bytes());
        self.receipt
            .events
            .iter()
            .filter(|event| event.topics.first() == Some(&signature))
            .map(|event| {
                T::decode(&mut &event.data[..]).expect("event data decodes as the requested type")
            })
            .collect()
    }

    /// Fuel used by the transaction, intrinsic cost included.
    pub fn fuel_used(&self) -> u64 {
        self.receipt.fuel_used
    }
}

/// Why a deploy did not produce a contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("deploy failed: {0:?}")]
pub struct DeployFailed(pub ExecutionStatus);

/// A chain in memory running the real runtime. A clone is a fork: both continue from the same
/// state and history independently (the state is shared until one of them writes).
#[derive(Clone)]
pub struct TestChain {
    vm: Vm,
    params: ChainParams,
    state: Arc<BTreeMap<Vec<u8>, Vec<u8>>>,
    keys: Vec<SecretKey>,
    number: u64,
    timestamp_ms: u64,
    miner: Address,
    transactions: Vec<(BlockContext, SignedTransaction)>,
}

impl Default for TestChain {
    fn default() -> Self {
        TestChain::new()
    }
}

impl TestChain {
    /// A chain with the ten dev accounts (public test mnemonic) funded.
    pub fn new() -> TestChain {
        let keys: Vec<SecretKey> = (0..10)
            .map(|index| derive_key(DEV_MNEMONIC, index).expect("dev key"))
            .collect();
        let mut state = BTreeMap::new();
        for key in &keys {
            let account = Account {
                nonce: 0,
                balance: ACCOUNT_BALANCE,
                code_hash: None,
            };
            state.insert(
                StateKey::Account(key.address()).to_bytes(),
                account.encode(),
            );
        }
        TestChain {
            vm: Vm::in_memory().expect("the consensus engine builds"),
            params: test_params(),
            state: Arc::new(state),
            keys,
            number: 0,
            timestamp_ms: 1_767_225_600_000,
            miner: Address([0xee; 20]),
            transactions: Vec::new(),
        }
    }

    /// A new account with its own key, funded with `balance` (patients, clinicians, payers…
    /// beyond the ten dev accounts).
    pub fn new_account(&mut self, balance: u128) -> Address {
        let seed = keccak256(&(self.keys.len() as u64).to_le_bytes());
        let key = SecretKey::from_bytes(&seed.0)
            .expect("a keccak256 output is a valid key with overwhelming probability");
        let address = key.address();
        let account = Account {
            nonce: 0,
            balance,
            code_hash: None,
        };
        Arc::make_mut(&mut self.state)
            .insert(StateKey::Account(address).to_bytes(), account.encode());
        self.keys.push(key);
        address
    }

    /// Dev account `index` (0–9).
    pub fn account(&self, index: usize) -> Address {
        self.keys[index].address()
    }

    /// The current block number (of the last executed block).
    pub fn block_number(&self) -> u64 {
        self.number
    }

    /// The current block time, ms.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// Moves the clock forward (the next block is stamped `ms` later than it would be).
    pub fn advance_time(&mut self, ms: u64) {
        self.timestamp_ms += ms;
    }

    /// Skips `blocks` empty blocks.
    pub fn advance_blocks(&mut self, blocks: u64) {
        self.number += blocks;
        self.timestamp_ms += blocks * BLOCK_TIME_MS;
    }

    /// Every transaction executed so far with the block it ran in, for replay on a node.
    pub fn history(&self) -> &[(BlockContext, SignedTransaction)] {
        &self.transactions
    }

    /// An account's state.
    pub fn account_state(&self, address: &Address) -> Account {
        self.state
            .get(&StateKey::Account(*address).to_bytes())
            .map(|bytes| Account::decode(&mut &bytes[..]).expect("stored account decodes"))
            .unwrap_or_default()
    }

    /// A raw storage value of a contract.
    pub fn storage(&self, contract: &Address, key: &[u8]) -> Option<Vec<u8>> {
        self.state
            .get(&StateKey::Storage(*contract, key.to_vec()).to_bytes())
            .cloned()
    }

    fn key_of(&self, address: Address) -> &SecretKey {
        self.keys
            .iter()
            .find(|key| key.address() == address)
            .expect("the sender must be one of the test chain's accounts (TestChain::account)")
    }

    /// Executes `action` from `from` in a new block, exactly as a node would.
    pub fn transact(&mut self, from: Address, action: Action) -> CallResult {
        let nonce = self.account_state(&from).nonce;
        let transaction = Transaction {
            chain_id: self.params.chain_id,
            nonce,
            fuel_limit: TRANSACTION_FUEL,
            fuel_price: 1,
            action,
            sponsor: None,
        }
        .sign(self.key_of(from), None);
        self.number += 1;
        self.timestamp_ms += BLOCK_TIME_MS;
        let context = BlockContext {
            number: self.number,
            timestamp_ms: self.timestamp_ms,
            miner: self.miner,
        };
        let verified = VerifiedTransaction::recover(transaction.clone())
            .expect("the test kit signs with the account's own key");
        let execution = execute_block(
            &self.params,
            &self.vm,
            self.state.clone(),
            &context,
            std::slice::from_ref(&verified),
        )
        .expect("test-kit transactions are admissible: the accounts are funded and nonces tracked");
        let state = Arc::make_mut(&mut self.state);
        for change in execution.changes.entries {
            match change.after {
                Some(value) => state.insert(change.key, value),
                None => state.remove(&change.key),
            };
        }
        self.transactions.push((context, transaction));
        CallResult {
            receipt: execution
                .receipts
                .into_iter()
                .next()
                .expect("one receipt per transaction"),
        }
    }

    /// Deploys `code` from `from`, calling constructor `constructor` with `arguments`.
    ///
    /// # Errors
    /// [`DeployFailed`] with the receipt's status when the deploy does not succeed.
    pub fn deploy(
        &mut self,
        from: Address,
        code: &[u8],
        constructor: &str,
        arguments: &impl Encode,
    ) -> Result<Address, DeployFailed> {
        let salt = keccak256(&self.account_state(&from).nonce.to_le_bytes());
        let result = self.transact(
            from,
            Action::Deploy {
                code: code.to_vec(),
                constructor_input: message_input(constructor, arguments),
                salt,
                value: 0,
            },
        );
        if !result.is_success() {
            return Err(DeployFailed(result.receipt.status));
        }
        Ok(Address(
            result
                .receipt
                .return_data
                .try_into()
                .expect("a deploy returns the address"),
        ))
    }

    /// Calls `message` of `contract` with `arguments` from `from`, as a transaction.
    pub fn call(
        &mut self,
        from: Address,
        contract: Address,
        message: &str,
        arguments: &impl Encode,
    ) -> CallResult {
        self.call_raw(from, contract, message_input(message, arguments))
    }

    /// Calls `contract` with raw `input`, as a transaction.
    pub fn call_raw(&mut self, from: Address, contract: Address, input: Vec<u8>) -> CallResult {
        self.transact(
            from,
            Action::Call {
                contract,
                input,
                value: 0,
            },
        )
    }

    /// A read-only call: the result, nothing committed, no block produced.
    pub fn view<R: Decode>(
        &self,
        from: Address,
        contract: Address,
        message: &str,
        arguments: &impl Encode,
    ) -> R {
        self.view_with_fuel(from, contract, message, arguments).0
    }

    /// A read-only call, with the fuel it used (the contract's execution, no intrinsic fuel: a
    /// dry run is not a transaction). Fuel snapshots measure views with it.
    pub fn view_with_fuel<R: Decode>(
        &self,
        from: Address,
        contract: Address,
        message: &str,
        arguments: &impl Encode,
    ) -> (R, u64) {
        let env = salus_runtime::wasm::TransactionEnv {
            origin: from,
            block: BlockContext {
                number: self.number,
                timestamp_ms: self.timestamp_ms,
                miner: self.miner,
            },
            chain_id: self.params.chain_id,
        };
        let outcome = self
            .vm
            .dry_run(
                self.state.clone(),
                env,
                contract,
                message_input(message, arguments),
                0,
                TRANSACTION_FUEL,
            )
            .expect("in-memory state never fails");
        assert!(
            outcome.status.is_success(),
            "view did not succeed: {:?}",
            outcome.status
        );
        let result = R::decode(&mut &outcome.return_data[..])
            .expect("view result decodes as the requested type");
        (result, outcome.fuel_used)
    }

    /// The hash of contract code.
    pub fn code_hash(code: &[u8]) -> Hash {
        keccak256(code)
    }
}

/// Compares `report` with the committed snapshot at `path`, or rewrites the snapshot when the
/// `UPDATE_SNAPSHOTS` environment variable is set. Fuel and event counts in a snapshot catch an
/// unintended change in a contract, the SDK, the compiler or the fuel schedule; after an
/// intended change, regenerate and review the diff.
pub fn assert_snapshot(path: &std::path::Path, report: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, report).expect("snapshot is writable");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_SNAPSHOTS=1", path.display()));
    assert!(
        report == expected,
        "{} changed; if intended, rerun with UPDATE_SNAPSHOTS=1\n--- expected\n{expected}\n--- actual\n{report}",
        path.display()
    );
}
