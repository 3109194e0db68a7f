//! A small harness over the runtime's public API: an in-memory state, deploys and calls.

use std::collections::BTreeMap;
use std::sync::Arc;

use salus_abi::limits::MAX_CALL_DEPTH;
use salus_primitives::{Account, Address, Balance, ExecutionStatus, Hash, StateKey, TrapKind};
use salus_runtime::wasm::TransactionEnv;
use salus_runtime::{BlockContext, ContractOutcome, Overlay, StateError, Vm};

/// Fuel given to each call unless a test says otherwise.
pub const FUEL: u64 = 50_000_000;

pub struct Harness {
    pub vm: Vm,
    pub overlay: Overlay,
    pub origin: Address,
}

/// Asserts that `outcome` is the stack-overflow trap of a recursion in which every level made
/// its call, the deepest refused by the call-depth limit.
pub fn assert_overflowed_at_every_depth(outcome: &ContractOutcome) {
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::StackOverflow
        }
    );
    assert_eq!(
        outcome.fuel_breakdown.get("call").map(|fuel| fuel.calls),
        Some(MAX_CALL_DEPTH as u64)
    );
}

pub fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|error| panic!("test module does not assemble: {error}"))
}

impl Harness {
    pub fn new() -> Harness {
        let origin = Address([0xaa; 20]);
        let mut state = BTreeMap::new();
        let funded = Account {
            nonce: 0,
            balance: 1_000_000_000,
            code_hash: None,
        };
        state.insert(
            StateKey::Account(origin).to_bytes(),
            parity_scale_codec::Encode::encode(&funded),
        );
        Harness {
            vm: Vm::in_memory().unwrap(),
            overlay: Overlay::new(Arc::new(state)),
            origin,
        }
    }

    pub fn env(&self) -> TransactionEnv {
        TransactionEnv {
            origin: self.origin,
            block: BlockContext {
                number: 7,
                timestamp_ms: 1_700_000_000_000,
                miner: Address([0xee; 20]),
            },
            chain_id: 7_357,
        }
    }

    /// Deploys `text` (WAT) with `salt`; returns the outcome.
    pub fn try_deploy(&mut self, code: &[u8], salt: u8) -> ContractOutcome {
        let origin = self.origin;
        self.transaction(|vm, overlay, env| {
            vm.deploy(
                overlay,
                env,
                origin,
                code,
                Vec::new(),
                Hash([salt; 32]),
                0,
                FUEL * 10,
            )
        })
    }

    /// Runs `execute` as a transaction does: what it writes is kept only if it succeeds.
    fn transaction(
        &mut self,
        execute: impl FnOnce(&Vm, &mut Overlay, TransactionEnv) -> Result<ContractOutcome, StateError>,
    ) -> ContractOutcome {
        let env = self.env();
        self.overlay.checkpoint();
        let outcome = execute(&self.vm, &mut self.overlay, env).unwrap();
        if outcome.status.is_success() {
            self.overlay.commit();
        } else {
            self.overlay.revert();
        }
        outcome
    }

    /// Deploys and expects success; returns the address.
    pub fn deploy(&mut self, text: &str, salt: u8) -> Address {
        let outcome = self.try_deploy(&wasm(text), salt);
        assert_eq!(outcome.status, ExecutionStatus::Success, "deploy failed");
        Address(
            outcome
                .return_data
                .try_into()
                .expect("deploy returns the address"),
        )
    }

    /// Calls `contract` with `input` and `fuel`, committing only on success (as a transaction).
    pub fn call_with(&mut self, contract: Address, input: Vec<u8>, fuel: u64) -> ContractOutcome {
        self.call_with_value(contract, input, 0, fuel)
    }

    /// Calls `contract` sending `value`, otherwise as [`Self::call_with`].
    pub fn call_with_value(
        &mut self,
        contract: Address,
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> ContractOutcome {
        let origin = self.origin;
        self.transaction(|vm, overlay, env| {
            vm.call(overlay, env, origin, contract, input, value, fuel)
        })
    }

    pub fn call(&mut self, contract: Address, input: Vec<u8>) -> ContractOutcome {
        self.call_with(contract, input, FUEL)
    }

    /// The state as committed so far, as a shared handle (for dry runs).
    pub fn snapshot_state(&self) -> salus_runtime::SharedState {
        let mut state = std::collections::BTreeMap::new();
        let mut cursor: Option<Vec<u8>> = None;
        while let Some((key, value)) = self.overlay.next_entry(&[], cursor.as_deref()).unwrap() {
            cursor = Some(key.clone());
            state.insert(key, value);
        }
        Arc::new(state)
    }

    pub fn storage(&self, contract: Address, key: &[u8]) -> Option<Vec<u8>> {
        self.overlay
            .get(&StateKey::Storage(contract, key.to_vec()).to_bytes())
            .unwrap()
    }
}
