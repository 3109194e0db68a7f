//! The deterministic Salus state transition.
//!
//! [`execute_block`] runs a block's transactions over a [`State`] — a narrow read-only view that
//! the node's storage implements — and returns receipts and the block's write set. Nothing here
//! knows about RocksDB, the network, tokio or the wall clock: the same inputs give the same
//! outputs on every node.
//!
//! Architecture invariant: the runtime reads state only through [`State`] and never writes it;
//! the node applies the returned [`StateChanges`] atomically.

pub mod block_context;
pub mod executor;
pub mod fuel_schedule;
pub mod limits;
pub mod native_stack;
pub mod overlay;
pub mod state;
pub mod transaction;
pub mod wasm;

pub use block_context::BlockContext;
pub use executor::{
    BlockBuilder, BlockExecution, BlockExecutionError, CandidateError, PushError,
    TransactionFailure, execute_block, recover_transactions, verify_transactions,
};
pub use overlay::{Overlay, StateChange, StateChanges};
pub use state::{SharedState, State, StateError};
pub use transaction::{
    HashedTransaction, InvalidTransaction, NoSignatureCache, SignatureCache, VerifiedTransaction,
    check_stateless,
};
pub use wasm::{ArtifactKey, CompileError, ContractOutcome, DryRunError, Vm};
