//! Consensus parameters of a chain: everything two nodes must agree on besides the genesis state.

use parity_scale_codec::{Decode, Encode};

use crate::Balance;
use crate::pow::{CompactTarget, DifficultyRule};

/// Consensus parameters, fixed at genesis and identical on every node of a network.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ChainParams {
    /// Network identifier signed into every transaction.
    pub chain_id: u64,
    /// The easiest target any block may have (and the fixed target of dev chains).
    pub pow_limit: CompactTarget,
    /// Target of the genesis block, the anchor of the difficulty schedule.
    pub genesis_bits: CompactTarget,
    /// Fixed difficulty or ASERT adjustment.
    pub difficulty: DifficultyRule,
    /// Intended time between blocks, in milliseconds.
    pub target_block_time_ms: u64,
    /// New coins paid to the miner of each block, on top of the fees.
    pub block_reward: Balance,
    /// Most fuel the transactions of one block may reserve (sum of their fuel limits).
    pub block_fuel_limit: u64,
}
