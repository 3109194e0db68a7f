//! Consensus rules on headers and bodies that need no execution: size, proof of work, linkage,
//! timestamps, difficulty and the transactions root. Shared by block import and `verify-chain`.

use parity_scale_codec::Encode;
use salus_primitives::block::transactions_root;
use salus_primitives::pow::{
    AsertAnchor, DifficultyRule, TargetError, asert_next_target, hash_meets_target,
    median_time_past,
};
use salus_primitives::{Block, BlockHeader, ChainParams, CompactTarget, Hash, Work, limits};

/// A consensus rule a block breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockRuleError {
    /// The body is larger than [`limits::MAX_BLOCK_BODY_BYTES`].
    #[error("block body of {size} bytes exceeds the limit of {limit}")]
    Oversized {
        /// Encoded body size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More transactions than [`limits::MAX_TRANSACTIONS_PER_BLOCK`].
    #[error("{count} transactions exceed the limit of {limit}")]
    TooManyTransactions {
        /// Transactions in the block.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The `bits` field does not decode to a usable target.
    #[error("invalid target: {0}")]
    BadTarget(TargetError),
    /// The hash is above the target.
    #[error("proof of work: hash {hash} is above the target of bits {bits:?}")]
    BadProofOfWork {
        /// The block hash.
        hash: Hash,
        /// The claimed target.
        bits: CompactTarget,
    },
    /// Height is not parent + 1.
    #[error("block number {found}, expected {expected}")]
    BadNumber {
        /// parent + 1.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// Timestamp not above the median of the previous 11 blocks.
    #[error("timestamp {timestamp_ms} is not after the median time past {median_ms}")]
    TimestampTooOld {
        /// The header's.
        timestamp_ms: u64,
        /// Median of the previous blocks.
        median_ms: u64,
    },
    /// Timestamp further ahead of local time than [`limits::max_future_drift_ms`] allows.
    #[error("timestamp {timestamp_ms} is more than {max_drift_ms} ms ahead of local time {now_ms}")]
    TimestampTooFarInFuture {
        /// The header's.
        timestamp_ms: u64,
        /// Local clock.
        now_ms: u64,
        /// The drift allowed on this chain.
        max_drift_ms: u64,
    },
    /// `bits` differs from what the difficulty rule requires.
    #[error("difficulty bits {found:?}, the adjustment rule requires {expected:?}")]
    BadDifficulty {
        /// Required.
        expected: CompactTarget,
        /// The header's.
        found: CompactTarget,
    },
    /// The transactions root does not match the body.
    #[error("transactions root {found} does not match the body's {computed}")]
    BadTransactionsRoot {
        /// Computed from the body.
        computed: Hash,
        /// The header's.
        found: Hash,
    },
}

/// Checks that need only the block itself: size, count, and proof of work.
///
/// # Errors
/// The first [`BlockRuleError`] broken.
pub fn check_standalone(block: &Block) -> Result<Hash, BlockRuleError> {
    let hash = block.header.hash();
    check_size_and_work(
        &block.header,
        &hash,
        block.transactions.len(),
        block.transactions.encoded_size(),
    )?;
    Ok(hash)
}

/// [`check_standalone`] for a block whose header hash (`hash`), transaction count and encoded
/// body size are already known.
///
/// # Errors
/// The first [`BlockRuleError`] broken.
pub fn check_size_and_work(
    header: &BlockHeader,
    hash: &Hash,
    count: usize,
    body_bytes: usize,
) -> Result<(), BlockRuleError> {
    if count > limits::MAX_TRANSACTIONS_PER_BLOCK {
        return Err(BlockRuleError::TooManyTransactions {
            count,
            limit: limits::MAX_TRANSACTIONS_PER_BLOCK,
        });
    }
    if body_bytes > limits::MAX_BLOCK_BODY_BYTES {
        return Err(BlockRuleError::Oversized {
            size: body_bytes,
            limit: limits::MAX_BLOCK_BODY_BYTES,
        });
    }
    check_proof_of_work(header, hash)
}

/// Checks that `hash` (the header's) meets the header's own target.
///
/// # Errors
/// [`BlockRuleError::BadTarget`] or [`BlockRuleError::BadProofOfWork`].
pub fn check_proof_of_work(header: &BlockHeader, hash: &Hash) -> Result<(), BlockRuleError> {
    let target = header.bits.to_target().map_err(BlockRuleError::BadTarget)?;
    if !hash_meets_target(hash, &target) {
        return Err(BlockRuleError::BadProofOfWork {
            hash: *hash,
            bits: header.bits,
        });
    }
    Ok(())
}

/// The target the block after `parent` must carry.
///
/// # Errors
/// [`BlockRuleError::BadTarget`] if the chain parameters' targets do not decode.
pub fn expected_bits(
    params: &ChainParams,
    genesis: &BlockHeader,
    parent: &BlockHeader,
) -> Result<CompactTarget, BlockRuleError> {
    bits_after(params, genesis, parent.number, parent.timestamp_ms)
}

/// The easiest target a block numbered `number` may carry, whatever its parent, on a node whose
/// clock reads `now_ms`: the target after a parent stamped as late as this node accepts
/// ([`limits::max_future_drift_ms`] ahead; ASERT eases with the parent's lateness). A block
/// whose parent is not known yet is held only if it is at least this hard: a parent that would
/// make it valid would be refused here now.
///
/// # Errors
/// [`BlockRuleError::BadTarget`] if the chain parameters' targets do not decode.
pub fn easiest_allowed_bits(
    params: &ChainParams,
    genesis: &BlockHeader,
    number: u64,
    now_ms: u64,
) -> Result<CompactTarget, BlockRuleError> {
    let latest_parent_ms =
        now_ms.saturating_add(limits::max_future_drift_ms(params.target_block_time_ms));
    bits_after(params, genesis, number.saturating_sub(1), latest_parent_ms)
}

fn bits_after(
    params: &ChainParams,
    genesis: &BlockHeader,
    parent_number: u64,
    parent_timestamp_ms: u64,
) -> Result<CompactTarget, BlockRuleError> {
    match params.difficulty {
        DifficultyRule::Fixed => Ok(params.genesis_bits),
        DifficultyRule::Asert { half_life_ms } => {
            let anchor = AsertAnchor {
                number: genesis.number,
                parent_timestamp_ms: genesis
                    .timestamp_ms
                    .saturating_sub(params.target_block_time_ms),
                target: params.genesis_bits,
            };
            asert_next_target(
                &anchor,
                parent_number,
                parent_timestamp_ms,
                params.target_block_time_ms,
                half_life_ms,
                params.pow_limit,
            )
            .map_err(BlockRuleError::BadTarget)
        }
    }
}

/// Checks a header against its parent: number, timestamp (median of `recent_timestamps`, the
/// parent's and up to ten earlier, and the local clock `now_ms` when given) and difficulty.
///
/// # Errors
/// The first [`BlockRuleError`] broken.
pub fn check_against_parent(
    params: &ChainParams,
    genesis: &BlockHeader,
    header: &BlockHeader,
    parent: &BlockHeader,
    recent_timestamps: &mut [u64],
    now_ms: Option<u64>,
) -> Result<(), BlockRuleError> {
    let expected_number = parent.number + 1;
    if header.number != expected_number {
        return Err(BlockRuleError::BadNumber {
            expected: expected_number,
            found: header.number,
        });
    }
    if let Some(median_ms) = median_time_past(recent_timestamps)
        && header.timestamp_ms <= median_ms
    {
        return Err(BlockRuleError::TimestampTooOld {
            timestamp_ms: header.timestamp_ms,
            median_ms,
        });
    }
    let max_drift_ms = limits::max_future_drift_ms(params.target_block_time_ms);
    if let Some(now_ms) = now_ms
        && header.timestamp_ms > now_ms.saturating_add(max_drift_ms)
    {
        return Err(BlockRuleError::TimestampTooFarInFuture {
            timestamp_ms: header.timestamp_ms,
            now_ms,
            max_drift_ms,
        });
    }
    let expected = expected_bits(params, genesis, parent)?;
    if header.bits != expected {
        return Err(BlockRuleError::BadDifficulty {
            expected,
            found: header.bits,
        });
    }
    Ok(())
}

/// What a header is checked against when its parent is not stored yet (headers-first sync):
/// the parent, the timestamps of it and up to ten ancestors, and the branch's total work up to
/// it.
#[derive(Clone, Debug)]
pub struct HeaderContext {
    /// The parent of the next header.
    pub parent: BlockHeader,
    /// Timestamps of the parent and up to ten ancestors, newest first.
    pub timestamps: std::collections::VecDeque<u64>,
    /// Total work of the branch up to and including the parent.
    pub total_work: Work,
}

impl HeaderContext {
    /// Checks `header` against the context as block import would (number, timestamps against
    /// the median and the local clock `now_ms`, the difficulty the rule expects), then moves the
    /// context to it.
    ///
    /// # Errors
    /// The first [`BlockRuleError`] broken; the context is then unchanged.
    pub fn check_and_advance(
        &mut self,
        params: &ChainParams,
        genesis: &BlockHeader,
        header: &BlockHeader,
        now_ms: u64,
    ) -> Result<(), BlockRuleError> {
        if header.parent_hash != self.parent.hash() {
            return Err(BlockRuleError::BadNumber {
                expected: self.parent.number + 1,
                found: header.number,
            });
        }
        let mut recent: Vec<u64> = self.timestamps.iter().copied().collect();
        check_against_parent(
            params,
            genesis,
            header,
            &self.parent,
            &mut recent,
            Some(now_ms),
        )?;
        let work = header.bits.work().map_err(BlockRuleError::BadTarget)?;
        self.total_work = self.total_work.saturating_add(work);
        self.timestamps.push_front(header.timestamp_ms);
        self.timestamps.truncate(limits::MEDIAN_TIME_SPAN);
        self.parent = header.clone();
        Ok(())
    }
}

/// Checks the transactions root against the body.
///
/// # Errors
/// [`BlockRuleError::BadTransactionsRoot`].
pub fn check_transactions_root(block: &Block) -> Result<(), BlockRuleError> {
    check_transactions_root_against(&block.header, transactions_root(&block.transactions))
}

/// Checks a transactions root computed from the body against the header's.
///
/// # Errors
/// [`BlockRuleError::BadTransactionsRoot`].
pub fn check_transactions_root_against(
    header: &BlockHeader,
    computed: Hash,
) -> Result<(), BlockRuleError> {
    if computed != header.transactions_root {
        return Err(BlockRuleError::BadTransactionsRoot {
            computed,
            found: header.transactions_root,
        });
    }
    Ok(())
}
