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

/// How far ahead of the local clock a block's timestamp may be, in target block intervals.
/// ASERT sets a block's target from its parent's timestamp, so a parent stamped `d` ahead of
/// time makes its child's target easier by `2^(d / half-life)`: the drift has to be small
/// against the half-life (see [`MIN_ASERT_HALF_LIFE_DRIFTS`]). Bitcoin's 2 hours are 12 of its
/// 10-minute intervals; on a one-second chain they would be 7,200 intervals, a burst of easy
/// blocks. Four intervals still admit every block an honest miner stamps with its own clock.
/// This is the only wall-clock rule, applied by the node, not the runtime.
pub const MAX_FUTURE_DRIFT_INTERVALS: u64 = 4;

/// The least future drift, whatever the block interval, in milliseconds: the clock error that
/// nodes synchronised with NTP keep well within, so that on a sub-second chain they do not
/// refuse each other's honest blocks.
pub const MIN_FUTURE_DRIFT_MS: u64 = 4_000;

/// How far ahead of the local clock a block's timestamp may be on a chain whose target block
/// time is `target_block_time_ms`: [`MAX_FUTURE_DRIFT_INTERVALS`] intervals, at least
/// [`MIN_FUTURE_DRIFT_MS`].
pub const fn max_future_drift_ms(target_block_time_ms: u64) -> u64 {
    let intervals = target_block_time_ms.saturating_mul(MAX_FUTURE_DRIFT_INTERVALS);
    if intervals > MIN_FUTURE_DRIFT_MS {
        intervals
    } else {
        MIN_FUTURE_DRIFT_MS
    }
}

/// The least ASERT half-life, in future drifts ([`max_future_drift_ms`]): one block stamped as
/// far ahead as allowed then eases its child's target by at most `2^(1/8)`, about 9 %, and the
/// next honestly stamped block restores it. A genesis with a shorter half-life is refused.
pub const MIN_ASERT_HALF_LIFE_DRIFTS: u64 = 8;
