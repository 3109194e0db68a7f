//! Size and count limits of on-chain data, each with the reason for its value.
//!
//! Limits shared with contracts (storage keys and values, events, return data) are defined once
//! in `salus-abi` and re-exported here.
//!
//! These are consensus rules: a block or transaction over a limit is invalid, so changing a value
//! is a hard fork.

pub use salus_abi::limits::{
    MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPICS, MAX_EVENTS_PER_TRANSACTION, MAX_RETURN_DATA_BYTES,
    MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES,
};

/// Largest encoded signed transaction, in bytes. A deploy carries a whole Wasm module; 512 KiB
/// leaves room for the largest contract the runtime accepts (see the runtime's code-size limit)
/// plus its constructor arguments, while bounding what a peer can make a node hash and store.
pub const MAX_TRANSACTION_BYTES: usize = 512 * 1024;

/// Largest encoded block body, in bytes. Eight maximal transactions; with about one block a
/// second this bounds chain growth and the memory a peer can make a node hold per block.
pub const MAX_BLOCK_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Most transactions in one block. A block of minimal transfers (about 150 bytes each) would
/// otherwise fit ~28,000; the cap bounds receipt and index work per block import.
pub const MAX_TRANSACTIONS_PER_BLOCK: usize = 20_000;

/// Blocks whose timestamps form the median-time-past rule (as Bitcoin).
pub const MEDIAN_TIME_SPAN: usize = 11;

/// How far ahead of the local clock a block's timestamp may be, in milliseconds (2 hours, as
/// Bitcoin). This is the only wall-clock rule and it is applied by the node, not the runtime.
pub const MAX_FUTURE_DRIFT_MS: u64 = 2 * 60 * 60 * 1000;
