//! Receipts and events: the outcome of executing one transaction.

use alloc::string::String;
use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode};

use crate::address::Address;
use crate::hash::Hash;

/// An event emitted by a contract (or by the runtime for native actions).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Event {
    /// The emitting contract.
    pub contract: Address,
    /// Up to [`crate::limits::MAX_EVENT_TOPICS`] indexed topics.
    pub topics: Vec<Hash>,
    /// Unindexed SCALE-encoded data.
    pub data: Vec<u8>,
}

/// Kinds of Wasm trap, as a receipt reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum TrapKind {
    /// `unreachable` executed (a Rust panic without a message ends here).
    Unreachable,
    /// Memory access out of bounds.
    MemoryOutOfBounds,
    /// The Wasm stack limit was reached (unbounded recursion).
    StackOverflow,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Integer overflow (e.g. `i32::MIN / -1`).
    IntegerOverflow,
    /// Float-to-integer conversion out of range.
    BadConversionToInteger,
    /// `call_indirect` through a null or out-of-bounds table entry, or with a wrong signature.
    IndirectCall,
    /// Memory or table growth beyond the limit.
    ResourceLimit,
    /// A host function refused the call (bad pointer, oversized argument).
    HostError,
    /// Access to a table out of bounds.
    TableOutOfBounds,
    /// Any other trap wasmtime reports.
    Other,
}

/// How a transaction's execution ended. Every variant but `Success` rolls back the transaction's
/// effects except the fee and the nonce increment.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ExecutionStatus {
    /// Completed; effects committed.
    Success,
    /// The contract reverted with a message.
    Reverted {
        /// The revert message.
        message: String,
    },
    /// Fuel ran out.
    OutOfFuel,
    /// The Wasm code trapped.
    Trapped {
        /// What trapped.
        kind: TrapKind,
    },
    /// The action could not run at all (code rejected at deploy, unknown contract, malformed
    /// call data, insufficient value); the fee is still charged.
    Invalid {
        /// Why.
        reason: String,
    },
}

impl ExecutionStatus {
    /// Whether the transaction's effects were committed.
    pub fn is_success(&self) -> bool {
        matches!(self, ExecutionStatus::Success)
    }
}

/// The outcome of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Receipt {
    /// Hash of the transaction this receipt is for.
    pub transaction_hash: Hash,
    /// How execution ended.
    pub status: ExecutionStatus,
    /// Fuel consumed (and paid for).
    pub fuel_used: u64,
    /// Events emitted; empty unless `status` is `Success`.
    pub events: Vec<Event>,
    /// Data returned by the call, or the new contract's address for a deploy.
    pub return_data: Vec<u8>,
}
