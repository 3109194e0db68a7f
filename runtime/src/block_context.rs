//! The block a transaction executes in, as execution sees it: shared by the executor, which
//! builds it from a header, and the contract VM, which hands it to contracts.

use salus_primitives::Address;

/// What execution may know about the block being built or imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block.
    pub number: u64,
    /// The block's timestamp (ms), as its header claims.
    pub timestamp_ms: u64,
    /// Receiver of the reward and fees.
    pub miner: Address,
}
