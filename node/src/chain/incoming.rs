//! Blocks on their way into the chain, with what their import needs computed once: a block
//! received from a peer, sync or a file ([`ReceivedBlock`]: its hash, and each transaction's
//! hash and encoded size) and a block this node built and sealed ([`BuiltBlock`]: verified
//! transactions and the execution behind its roots).

use parity_scale_codec::{Compact, CompactLen, Encode};
use salus_primitives::block::transactions_root_of_hashes;
use salus_primitives::{Block, BlockHeader, Hash, SignedTransaction};
use salus_runtime::{HashedTransaction, SignatureCache, VerifiedTransaction};

use super::PreparedExecution;
use super::validation::{self, BlockRuleError};
use crate::signature_cache::VerifiedSignatures;

/// A block as it arrived: the header's hash and every transaction's hash and size, computed once
/// for every check and write of its import.
pub struct ReceivedBlock {
    pub(super) header: BlockHeader,
    pub(super) hash: Hash,
    pub(super) transactions: Vec<HashedTransaction>,
    /// Who sent it (a tag the network derives from the peer), so that orphans are bounded per
    /// sender; `None` for blocks of sync, files and this node.
    pub(super) origin: Option<u64>,
}

impl ReceivedBlock {
    /// Hashes `block`'s header and transactions.
    pub fn new(block: Block) -> ReceivedBlock {
        ReceivedBlock {
            hash: block.header.hash(),
            header: block.header,
            transactions: block
                .transactions
                .into_iter()
                .map(HashedTransaction::new)
                .collect(),
            origin: None,
        }
    }

    /// The block as sent by the peer tagged `origin` (its orphans are bounded together).
    pub fn with_origin(mut self, origin: u64) -> ReceivedBlock {
        self.origin = Some(origin);
        self
    }

    /// A block of `header` and transactions already hashed (sync hashes a body to check it
    /// against its header's transactions root).
    pub fn from_hashed(header: BlockHeader, transactions: Vec<HashedTransaction>) -> ReceivedBlock {
        ReceivedBlock {
            hash: header.hash(),
            header,
            transactions,
            origin: None,
        }
    }

    /// The header's hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The rules the block meets or breaks on its own: transaction count, body size, proof of
    /// work (see [`validation::check_standalone`]).
    ///
    /// # Errors
    /// The first [`BlockRuleError`] broken.
    pub fn check_standalone(&self) -> Result<(), BlockRuleError> {
        let body: usize = self
            .transactions
            .iter()
            .map(HashedTransaction::encoded_size)
            .sum();
        validation::check_size_and_work(
            &self.header,
            &self.hash,
            self.transactions.len(),
            body_size(self.transactions.len(), body),
        )
    }

    /// Recovers, on every core, the signers of the transactions `cache` does not know (those the
    /// pool has not seen: a block from a peer or from sync is mostly such transactions) into
    /// `cache`, which import then reads. Run before taking the chain's lock. An invalid
    /// signature is simply not cached: import finds and refuses it.
    pub fn recover_signers_in_parallel(&self, cache: &VerifiedSignatures) {
        /// Below this many unseen transactions, threads cost more than they save.
        const PARALLEL_THRESHOLD: usize = 8;
        let unseen: Vec<&HashedTransaction> = self
            .transactions
            .iter()
            .filter(|transaction| cache.get(&transaction.hash()).is_none())
            .collect();
        if unseen.len() < PARALLEL_THRESHOLD {
            return;
        }
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = unseen.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for part in unseen.chunks(chunk) {
                scope.spawn(move || {
                    for transaction in part {
                        if let Ok(signers) = transaction.transaction().verify_signatures() {
                            cache.insert(transaction.hash(), signers);
                        }
                    }
                });
            }
        });
    }

    /// Bytes of the block's SCALE encoding (header and body).
    pub fn encoded_size(&self) -> usize {
        let body: usize = self
            .transactions
            .iter()
            .map(HashedTransaction::encoded_size)
            .sum();
        self.header.encoded_size() + body_size(self.transactions.len(), body)
    }
}

/// A block this node built, with the nonce found: what [`super::Chain::import_block`]
/// takes. Its transactions were verified at admission and its execution is reused.
pub struct BuiltBlock {
    pub(super) header: BlockHeader,
    pub(super) hash: Hash,
    pub(super) transactions: Vec<VerifiedTransaction>,
    pub(super) prepared: PreparedExecution,
}

impl BuiltBlock {
    /// The header's hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The block as peers receive it (the transactions copied).
    pub fn block(&self) -> Block {
        block_of(&self.header, &self.transactions)
    }
}

/// A block of `header` and copies of `transactions`.
pub(super) fn block_of(header: &BlockHeader, transactions: &[VerifiedTransaction]) -> Block {
    Block {
        header: header.clone(),
        transactions: transactions
            .iter()
            .map(|transaction| transaction.transaction().clone())
            .collect(),
    }
}

/// A block for [`super::Chain::import_block`]: received, or built by this node.
pub enum IncomingBlock {
    /// From a peer, sync or a file.
    Received(ReceivedBlock),
    /// Built and sealed by this node.
    Built(BuiltBlock),
}

impl From<Block> for IncomingBlock {
    fn from(block: Block) -> Self {
        IncomingBlock::Received(ReceivedBlock::new(block))
    }
}

impl From<ReceivedBlock> for IncomingBlock {
    fn from(block: ReceivedBlock) -> Self {
        IncomingBlock::Received(block)
    }
}

impl From<BuiltBlock> for IncomingBlock {
    fn from(block: BuiltBlock) -> Self {
        IncomingBlock::Built(block)
    }
}

impl IncomingBlock {
    /// Who sent it, when a peer did ([`ReceivedBlock::with_origin`]).
    pub(super) fn origin(&self) -> Option<u64> {
        match self {
            IncomingBlock::Received(block) => block.origin,
            IncomingBlock::Built(_) => None,
        }
    }

    pub(super) fn into_parts(self) -> (BlockHeader, Hash, IncomingBody) {
        match self {
            IncomingBlock::Received(block) => (
                block.header,
                block.hash,
                IncomingBody::Received(block.transactions),
            ),
            IncomingBlock::Built(block) => (
                block.header,
                block.hash,
                IncomingBody::Built(block.transactions, block.prepared),
            ),
        }
    }
}

/// The transactions of a block being imported, in the form they arrived in.
pub(super) enum IncomingBody {
    /// Hashed; the signers are still to be verified (from the cache where known).
    Received(Vec<HashedTransaction>),
    /// Verified at admission, with the execution this node computed when building the block.
    Built(Vec<VerifiedTransaction>, PreparedExecution),
}

impl IncomingBody {
    pub(super) fn len(&self) -> usize {
        match self {
            IncomingBody::Received(transactions) => transactions.len(),
            IncomingBody::Built(transactions, _) => transactions.len(),
        }
    }

    /// Bytes of the body's SCALE encoding (a `Vec<SignedTransaction>`).
    pub(super) fn encoded_size(&self) -> usize {
        let transactions: usize = match self {
            IncomingBody::Received(transactions) => transactions
                .iter()
                .map(HashedTransaction::encoded_size)
                .sum(),
            IncomingBody::Built(transactions, _) => transactions
                .iter()
                .map(VerifiedTransaction::encoded_size)
                .sum(),
        };
        body_size(self.len(), transactions)
    }

    /// The transactions root of the body, from the hashes it carries.
    pub(super) fn transactions_root(&self) -> Hash {
        match self {
            IncomingBody::Received(transactions) => {
                let hashes: Vec<Hash> = transactions.iter().map(HashedTransaction::hash).collect();
                transactions_root_of_hashes(&hashes)
            }
            IncomingBody::Built(transactions, _) => {
                let hashes: Vec<Hash> =
                    transactions.iter().map(VerifiedTransaction::hash).collect();
                transactions_root_of_hashes(&hashes)
            }
        }
    }

    /// The signed transactions, in order.
    pub(super) fn transactions(
        &self,
    ) -> Box<dyn ExactSizeIterator<Item = &SignedTransaction> + '_> {
        match self {
            IncomingBody::Received(transactions) => {
                Box::new(transactions.iter().map(HashedTransaction::transaction))
            }
            IncomingBody::Built(transactions, _) => {
                Box::new(transactions.iter().map(VerifiedTransaction::transaction))
            }
        }
    }

    /// The transactions with their hashes, for the orphan pool.
    pub(super) fn into_hashed(self) -> Vec<HashedTransaction> {
        match self {
            IncomingBody::Received(transactions) => transactions,
            IncomingBody::Built(transactions, _) => transactions
                .into_iter()
                .map(VerifiedTransaction::into_hashed)
                .collect(),
        }
    }
}

/// Bytes of the SCALE encoding of a body of `count` transactions whose encodings add up to
/// `transaction_bytes`: the compact length prefix, then the transactions.
fn body_size(count: usize, transaction_bytes: usize) -> usize {
    Compact::<u32>::compact_len(&(count as u32)) + transaction_bytes
}
