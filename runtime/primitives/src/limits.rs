//! Size and count limits of on-chain data, each with the reason for its value.
//!
//! These are consensus rules: a block or transaction over a limit is invalid, so changing a value
//! is a hard fork.

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

/// Most events one transaction may emit; bounds receipt size and event-index writes.
pub const MAX_EVENTS_PER_TRANSACTION: usize = 256;

/// Most topics on one event (as Ethereum's LOG0..LOG4): topics are indexed in storage.
pub const MAX_EVENT_TOPICS: usize = 4;

/// Largest data payload of one event, in bytes.
pub const MAX_EVENT_DATA_BYTES: usize = 16 * 1024;

/// Largest revert message or return data kept in a receipt, in bytes.
pub const MAX_RETURN_DATA_BYTES: usize = 64 * 1024;

/// Largest contract-storage key, in bytes. Keys are hashed into the state tree; the bound keeps
/// the flat state's keys small and the per-byte fuel charge meaningful.
pub const MAX_STORAGE_KEY_BYTES: usize = 128;

/// Largest contract-storage value, in bytes.
pub const MAX_STORAGE_VALUE_BYTES: usize = 64 * 1024;

/// Blocks whose timestamps form the median-time-past rule (as Bitcoin).
pub const MEDIAN_TIME_SPAN: usize = 11;

/// How far ahead of the local clock a block's timestamp may be, in milliseconds (2 hours, as
/// Bitcoin). This is the only wall-clock rule and it is applied by the node, not the runtime.
pub const MAX_FUTURE_DRIFT_MS: u64 = 2 * 60 * 60 * 1000;
