//! The chain: block import with full validation, fork choice by most cumulative work,
//! reorganisation through stored undo data, and reads of current and historical state.
//!
//! A block first passes the checks that need no execution (size, proof of work, parent, number,
//! timestamp, difficulty, transactions root) and is stored with its total work. If its branch
//! then carries more work than the head, the chain moves to it: blocks above the common ancestor
//! are disconnected by applying their undo data, and the new branch's blocks are connected one
//! by one, each executed over the flat state of its parent and checked against its receipts and
//! state roots. A block that fails is marked invalid (with its descendants) and the chain returns
//! to the heaviest valid branch. Every step is one atomic write.

mod incoming;
mod orphans;
mod path_warmer;
mod sync_queries;
pub mod validation;

use std::collections::BTreeMap;
use std::sync::Arc;

use salus_primitives::block::{receipts_root, transactions_root_of_hashes};
use salus_primitives::state_proof::StateProof;
use salus_primitives::{
    Account, Address, Block, BlockHeader, ChainParams, Hash, Receipt, StateKey, Work, limits,
};
use salus_runtime::fuel_schedule::BASE_TRANSACTION_FUEL;
use salus_runtime::{
    BlockBuilder, BlockContext, BlockExecution, BlockExecutionError, CandidateError,
    HashedTransaction, PushError, State, StateChanges, StateError, VerifiedTransaction, Vm,
    execute_block, verify_transactions,
};

use incoming::IncomingBody;
pub use incoming::{BuiltBlock, IncomingBlock, ReceivedBlock};
pub use orphans::{MAX_ORPHAN_BLOCKS, MAX_ORPHAN_BYTES, MAX_ORPHANS_PER_ORIGIN, OrphanPool};
use path_warmer::PathWarmer;
use validation::BlockRuleError;

use crate::genesis::Genesis;
use crate::signature_cache::VerifiedSignatures;
use crate::state_tree::{self, TreeError, TreeUpdate};
use crate::storage::{BlockMeta, BlockStatus, StorageError, Store, StoreBatch};

/// Why a block was refused, or import could not proceed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The block breaks a header or body rule.
    #[error(transparent)]
    Rule(#[from] BlockRuleError),
    /// A transaction is inadmissible or does not fit in the fuel the block has left.
    #[error(transparent)]
    Execution(BlockExecutionError),
    /// The receipts root does not match execution.
    #[error("receipts root {found} does not match execution's {computed}")]
    BadReceiptsRoot {
        /// From execution.
        computed: Hash,
        /// The header's.
        found: Hash,
    },
    /// The state root does not match execution.
    #[error("state root {found} does not match execution's {computed}")]
    BadStateRoot {
        /// From execution.
        computed: Hash,
        /// The header's.
        found: Hash,
    },
    /// The block was already found invalid.
    #[error("block {hash} is known to be invalid: {reason}")]
    KnownInvalid {
        /// The block.
        hash: Hash,
        /// Why it was refused.
        reason: String,
    },
    /// The block's parent is known to be invalid.
    #[error("block {hash} descends from invalid block {ancestor}")]
    InvalidAncestor {
        /// The block.
        hash: Hash,
        /// Its invalid ancestor.
        ancestor: Hash,
    },
    /// A block this node does not keep, though it may be valid: it could only serve a
    /// reorganisation deeper than the node makes, or wait for a parent that would be refused
    /// now. The sender is scored down lightly, not banned at once (see [`NotKept`]).
    #[error("block {hash} (number {number}) is not kept: {reason}")]
    NotKept {
        /// The block.
        hash: Hash,
        /// Its number.
        number: u64,
        /// Why.
        reason: NotKept,
    },
    /// The database failed; nothing was changed by this import.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The state tree could not be read.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The flat state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Why a block is not kept ([`ImportError::NotKept`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotKept {
    /// It forks off the chain more than [`MAX_REORG_DEPTH`] blocks below the head and its branch
    /// carries no more work than the head.
    #[error(
        "its parent is {depth} blocks below the head (a side branch is kept at most \
         {MAX_REORG_DEPTH} deep unless it carries more work than the head)"
    )]
    TooDeep {
        /// Head number minus the parent's number.
        depth: u64,
    },
    /// Its parent is unknown and it sits at or below the depth a side branch may start from.
    #[error("its parent is unknown and it is {depth} blocks below the head")]
    OrphanTooDeep {
        /// Head number minus its number.
        depth: u64,
    },
    /// Its parent is unknown and its target is easier than any block at its number may carry
    /// here ([`validation::easiest_allowed_bits`]).
    #[error(
        "its parent is unknown and its target {bits:?} is easier than the easiest allowed {easiest:?}"
    )]
    OrphanTooEasy {
        /// Its bits.
        bits: salus_primitives::CompactTarget,
        /// The easiest allowed.
        easiest: salus_primitives::CompactTarget,
    },
}

/// How far below the head a side branch may fork and still be stored while it carries no more
/// work than the head. Every block of a side branch is stored (and relayed) before it can win,
/// so without a bound a branch off an old block — whose ASERT target, with current timestamps,
/// is the easiest there is — fills disks for the price of easy blocks. 128 blocks are two
/// minutes at one-second blocks and over twenty at ten seconds: longer than the forks of honest
/// miners and the short partitions the network heals from (docs/RELIABILITY.md); a partition
/// longer than this needs its operator to choose a side, as decisions taken on both sides (a
/// record released, a unit dispensed) would otherwise be undone silently.
pub const MAX_REORG_DEPTH: u64 = 128;

impl ImportError {
    /// Whether the import failed on a damaged database of this node (not the block's fault, and
    /// not transient): the node must stop rather than retry. The state tree and flat state
    /// carry the storage error as text, so their errors are read for RocksDB's `Corruption`.
    pub fn is_corruption(&self) -> bool {
        match self {
            ImportError::Storage(error) => error.is_corruption(),
            ImportError::Tree(error) => error.to_string().contains("Corruption"),
            ImportError::State(error) => error.to_string().contains("Corruption"),
            ImportError::Execution(BlockExecutionError::State(error)) => {
                error.to_string().contains("Corruption")
            }
            _ => false,
        }
    }

    /// Whether the error says the block is one this node does not keep (too deep a side
    /// branch, an orphan that cannot connect here): the sender is scored down a little, since an
    /// honest peer back from a long partition may send some.
    pub fn is_unwanted_block(&self) -> bool {
        matches!(self, ImportError::NotKept { .. })
    }

    /// Whether the error says the block is invalid (the peer that sent it misbehaved), as opposed
    /// to a local failure.
    pub fn is_invalid_block(&self) -> bool {
        !matches!(
            self,
            ImportError::Storage(_)
                | ImportError::Tree(_)
                | ImportError::State(_)
                | ImportError::Execution(BlockExecutionError::State(_))
                // Ahead of our clock: perhaps our clock is behind; the block may be fine later.
                | ImportError::Rule(BlockRuleError::TimestampTooFarInFuture { .. })
                // Possibly valid; scored apart (`is_unwanted_block`).
                | ImportError::NotKept { .. }
        )
    }
}

/// What happened to an imported block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Already stored.
    AlreadyKnown,
    /// Parent unknown: held in the orphan pool.
    HeldAsOrphan,
    /// Valid so far and stored, on a branch with no more work than the head.
    StoredOnSideBranch,
    /// The block is now the head (possibly after a reorganisation).
    NewHead {
        /// Blocks disconnected from the old branch (0 when the block extended the head).
        reorg_depth: u64,
    },
}

/// The canonical head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Its hash.
    pub hash: Hash,
    /// Its header.
    pub header: BlockHeader,
    /// Work from genesis to it.
    pub total_work: Work,
}

/// A block ready for the nonce search, with the execution that produced its roots.
pub struct BlockTemplate {
    /// The header, nonce 0.
    pub header: BlockHeader,
    /// The transactions included, in order.
    pub transactions: Vec<VerifiedTransaction>,
    /// Transactions left out and why.
    pub skipped: Vec<(Hash, CandidateError)>,
    /// The execution behind the roots, for [`Chain::import_block`].
    prepared: PreparedExecution,
}

impl BlockTemplate {
    /// The block with nonce 0, as peers would receive it (the transactions copied).
    pub fn block(&self) -> Block {
        incoming::block_of(&self.header, &self.transactions)
    }

    /// The template with the nonce search's `header` (this template's with a nonce that meets
    /// the target): the block to import with [`Chain::import_block`].
    pub fn seal(self, header: BlockHeader) -> BuiltBlock {
        BuiltBlock {
            hash: header.hash(),
            header,
            transactions: self.transactions,
            prepared: self.prepared,
        }
    }
}

/// A block connected to the canonical chain, with its receipts: what the node announces and
/// counts after an import, without reading back what the import wrote.
#[derive(Clone, Debug)]
pub struct ConnectedBlock {
    /// Its hash.
    pub hash: Hash,
    /// Its header.
    pub header: BlockHeader,
    /// One receipt per transaction, in order (each names its transaction's hash).
    pub receipts: Vec<Receipt>,
}

/// The execution of a built block over its parent's state: receipts, state changes and new
/// state-tree nodes. Importing the mined block reuses it instead of executing the block again;
/// it applies only while the head is still the parent it was computed on.
pub struct PreparedExecution {
    parent: Hash,
    execution: BlockExecution,
    tree: TreeUpdate,
}

/// Blocks read and kept when checking timestamps: the median-time-past window.
const TIMESTAMP_WINDOW: usize = limits::MEDIAN_TIME_SPAN;

/// The chain over a [`Store`].
pub struct Chain {
    store: Store,
    vm: Vm,
    params: ChainParams,
    genesis: BlockHeader,
    head: Tip,
    orphans: OrphanPool,
    signatures: Arc<VerifiedSignatures>,
    /// Transactions of disconnected blocks not (yet) in a connected block, for the mempool.
    orphaned_transactions: BTreeMap<Hash, HashedTransaction>,
    /// Blocks connected since the last drain, in order, for the pool and event subscribers.
    connected_blocks: Vec<ConnectedBlock>,
}

impl Chain {
    /// Opens the chain in `store`, writing genesis into an empty database, and resumes the
    /// heaviest valid branch if a crash interrupted a reorganisation.
    ///
    /// # Errors
    /// [`StorageError::WrongChain`] when the database holds another chain; other storage errors.
    pub fn open(store: Store, genesis: &Genesis) -> Result<Chain, ImportError> {
        let genesis_hash = genesis.header.hash();
        match store.genesis_hash()? {
            None => write_genesis(&store, genesis)?,
            Some(found) if found != genesis_hash => {
                return Err(StorageError::WrongChain {
                    found,
                    expected: genesis_hash,
                }
                .into());
            }
            Some(_) => {}
        }
        let head_hash = store
            .head_hash()?
            .ok_or_else(|| StorageError::Corrupt("head pointer missing".into()))?;
        let head = load_tip(&store, &head_hash)?;
        let vm = Vm::new(Arc::new(store.clone()), store.artifact_key().clone())
            .map_err(|error| StorageError::Corrupt(error.to_string()))?;
        let mut chain = Chain {
            store,
            vm,
            params: genesis.params.clone(),
            genesis: genesis.header.clone(),
            head,
            orphans: OrphanPool::default(),
            signatures: Arc::new(VerifiedSignatures::default()),
            orphaned_transactions: BTreeMap::new(),
            connected_blocks: Vec::new(),
        };
        chain.resume_best_branch()?;
        Ok(chain)
    }

    /// The consensus parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The genesis header.
    pub fn genesis(&self) -> &BlockHeader {
        &self.genesis
    }

    /// The canonical head.
    pub fn head(&self) -> &Tip {
        &self.head
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The Wasm VM that executes this chain's contracts.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The head's flat state as a shared handle for the runtime.
    pub fn head_state(&self) -> salus_runtime::SharedState {
        Arc::new(self.store.clone())
    }

    /// The verified-signature cache shared with the mempool.
    pub fn signature_cache(&self) -> &Arc<VerifiedSignatures> {
        &self.signatures
    }

    /// Whether the block is held waiting for its parent.
    pub fn holds_orphan(&self, hash: &Hash) -> bool {
        self.orphans.contains(hash)
    }

    /// Number of blocks held waiting for their parent.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// Takes the transactions of blocks that left the canonical chain and were not included in
    /// the new branch, for re-admission to the mempool.
    pub fn drain_orphaned_transactions(&mut self) -> Vec<HashedTransaction> {
        std::mem::take(&mut self.orphaned_transactions)
            .into_values()
            .collect()
    }

    /// Takes the blocks connected to the canonical chain since the last call, in order (a
    /// reorganisation connects several at once), with their receipts.
    pub fn drain_connected_blocks(&mut self) -> Vec<ConnectedBlock> {
        std::mem::take(&mut self.connected_blocks)
    }

    /// Validates and stores `block`, moving the head if its branch is now the heaviest, then
    /// imports any held orphans that descend from it. `now_ms` is the local clock, for the
    /// future-timestamp rule.
    ///
    /// The block is a [`Block`] or a [`ReceivedBlock`] (already hashed, its signers perhaps
    /// already in the signature cache: [`ReceivedBlock::recover_signers_in_parallel`]), or a
    /// [`BuiltBlock`]: a template this node built, sealed with its nonce, whose execution is
    /// reused instead of running the block again. Every header rule is still checked, and the
    /// roots of the reused execution are compared with the header's as for any block; if the
    /// head moved since the template was built, the block is executed as usual.
    ///
    /// # Errors
    /// [`ImportError`] saying why the block is invalid; nothing stored is changed by a refused
    /// block except that it is remembered as invalid.
    pub fn import_block(
        &mut self,
        block: impl Into<IncomingBlock>,
        now_ms: u64,
    ) -> Result<ImportOutcome, ImportError> {
        let block = block.into();
        let origin = block.origin();
        let (header, hash, body) = block.into_parts();
        let outcome = self.import_one(header, hash, body, now_ms, origin)?;
        let mut parents = vec![hash];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let origin = child.origin;
                let (header, child_hash, body) = IncomingBlock::from(child).into_parts();
                // An orphan that turns out invalid is dropped; the caller's block was fine.
                if self
                    .import_one(header, child_hash, body, now_ms, origin)
                    .is_ok()
                {
                    parents.push(child_hash);
                }
            }
        }
        Ok(outcome)
    }

    /// Checks `header` in context without importing anything: `Ok(true)` when its parent is
    /// stored, not known invalid, within [`MAX_REORG_DEPTH`] of the head (or heavier), and the
    /// header meets every rule against it (number, timestamps, the difficulty the adjustment
    /// rule expects); `Ok(false)` when the parent is
    /// not stored (an orphan: nothing to check it against yet). A block that passes is worth
    /// recovering signatures for; one that does not is refused by import before any signature
    /// work.
    ///
    /// # Errors
    /// The error import would give the block.
    pub fn check_header(&self, header: &BlockHeader, now_ms: u64) -> Result<bool, ImportError> {
        let parent_hash = header.parent_hash;
        let Some(parent_meta) = self.store.block_meta(&parent_hash)? else {
            return Ok(false);
        };
        if let BlockStatus::Invalid(_) = parent_meta.status {
            return Err(ImportError::InvalidAncestor {
                hash: header.hash(),
                ancestor: parent_hash,
            });
        }
        let parent = self.header(&parent_hash)?;
        let work = header.bits.work().map_err(BlockRuleError::BadTarget)?;
        let total_work = parent_meta.total_work.saturating_add(work);
        self.check_side_branch_depth(header, header.hash(), &parent, total_work)?;
        let mut recent = self.recent_timestamps(&parent)?;
        validation::check_against_parent(
            &self.params,
            &self.genesis,
            header,
            &parent,
            &mut recent,
            Some(now_ms),
        )?;
        Ok(true)
    }

    /// Refuses a block that forks more than [`MAX_REORG_DEPTH`] below the head without more
    /// work than the head ([`NotKept::TooDeep`]).
    fn check_side_branch_depth(
        &self,
        header: &BlockHeader,
        hash: Hash,
        parent: &BlockHeader,
        total_work: Work,
    ) -> Result<(), ImportError> {
        let head_number = self.head.header.number;
        if total_work <= self.head.total_work
            && parent.number.saturating_add(MAX_REORG_DEPTH) < head_number
        {
            return Err(ImportError::NotKept {
                hash,
                number: header.number,
                reason: NotKept::TooDeep {
                    depth: head_number - parent.number,
                },
            });
        }
        Ok(())
    }

    fn import_one(
        &mut self,
        header: BlockHeader,
        hash: Hash,
        body: IncomingBody,
        now_ms: u64,
        origin: Option<u64>,
    ) -> Result<ImportOutcome, ImportError> {
        if let Some(meta) = self.store.block_meta(&hash)? {
            return match meta.status {
                BlockStatus::Invalid(reason) => Err(ImportError::KnownInvalid { hash, reason }),
                _ => Ok(ImportOutcome::AlreadyKnown),
            };
        }
        if self.orphans.contains(&hash) {
            return Ok(ImportOutcome::HeldAsOrphan);
        }
        validation::check_size_and_work(&header, &hash, body.len(), body.encoded_size())?;
        let parent_hash = header.parent_hash;
        let head_number = self.head.header.number;
        let Some(parent_meta) = self.store.block_meta(&parent_hash)? else {
            let not_kept = |reason| ImportError::NotKept {
                hash,
                number: header.number,
                reason,
            };
            if header.number.saturating_add(MAX_REORG_DEPTH) <= head_number {
                return Err(not_kept(NotKept::OrphanTooDeep {
                    depth: head_number - header.number,
                }));
            }
            let easiest = validation::easiest_allowed_bits(
                &self.params,
                &self.genesis,
                header.number,
                now_ms,
            )?;
            let target = header.bits.to_target().map_err(BlockRuleError::BadTarget)?;
            if target > easiest.to_target().map_err(BlockRuleError::BadTarget)? {
                return Err(not_kept(NotKept::OrphanTooEasy {
                    bits: header.bits,
                    easiest,
                }));
            }
            self.orphans.insert(ReceivedBlock {
                header,
                hash,
                transactions: body.into_hashed(),
                origin,
            });
            return Ok(ImportOutcome::HeldAsOrphan);
        };
        if let BlockStatus::Invalid(_) = parent_meta.status {
            self.mark_invalid(&hash, &format!("descends from invalid block {parent_hash}"))?;
            return Err(ImportError::InvalidAncestor {
                hash,
                ancestor: parent_hash,
            });
        }
        let work = header.bits.work().map_err(BlockRuleError::BadTarget)?;
        let total_work = parent_meta.total_work.saturating_add(work);
        let parent = self.header(&parent_hash)?;
        self.check_side_branch_depth(&header, hash, &parent, total_work)?;
        let mut recent = self.recent_timestamps(&parent)?;
        validation::check_against_parent(
            &self.params,
            &self.genesis,
            &header,
            &parent,
            &mut recent,
            Some(now_ms),
        )?;
        validation::check_transactions_root_against(&header, body.transactions_root())?;

        if parent_hash == self.head.hash && total_work > self.head.total_work {
            return self.extend_head(header, hash, body, total_work);
        }
        let mut batch = self.store.batch();
        batch.put_block(
            &hash,
            &header,
            body.transactions(),
            &BlockMeta {
                total_work,
                status: BlockStatus::Stored,
            },
        );
        self.store.write(batch)?;

        if total_work <= self.head.total_work {
            return Ok(ImportOutcome::StoredOnSideBranch);
        }
        let reorg_depth = self.switch_to(&hash)?;
        Ok(ImportOutcome::NewHead { reorg_depth })
    }

    /// Connects a block whose parent is the head: verifies and executes it (or takes the
    /// execution this node prepared when building it) and writes it, its execution and the new
    /// head in one atomic write. An invalid block is remembered as invalid; a block that could
    /// not be executed on this node (storage, state) is stored unconnected.
    fn extend_head(
        &mut self,
        header: BlockHeader,
        hash: Hash,
        body: IncomingBody,
        total_work: Work,
    ) -> Result<ImportOutcome, ImportError> {
        let (transactions, prepared) = match body {
            IncomingBody::Received(transactions) => {
                match verify_transactions(transactions, self.signatures.as_ref()) {
                    Ok(transactions) => (transactions, None),
                    Err(error) => {
                        let error = ImportError::Execution(error);
                        self.mark_invalid(&hash, &error.to_string())?;
                        return Err(error);
                    }
                }
            }
            IncomingBody::Built(transactions, prepared) => (transactions, Some(prepared)),
        };
        let put_block = |batch: &mut StoreBatch<'_>, status: BlockStatus| {
            batch.put_block(
                &hash,
                &header,
                transactions.iter().map(VerifiedTransaction::transaction),
                &BlockMeta { total_work, status },
            );
        };
        let executed = match prepared {
            Some(prepared) if prepared.parent == self.head.hash => {
                check_receipts_root(&header, &prepared.execution)
                    .map(|()| (prepared.execution, prepared.tree))
            }
            _ => self.execute(&header, &transactions),
        }
        .and_then(|(execution, tree)| {
            check_state_root(&header, &tree)?;
            Ok((execution, tree))
        });
        let (execution, tree) = match executed {
            Ok(executed) => executed,
            Err(error) if error.is_invalid_block() => {
                self.mark_invalid(&hash, &error.to_string())?;
                return Err(error);
            }
            Err(error) => {
                // Not the block's fault: keep it, unconnected, for a later import to connect.
                let mut batch = self.store.batch();
                put_block(&mut batch, BlockStatus::Stored);
                self.store.write(batch)?;
                return Err(error);
            }
        };
        let mut batch = self.store.batch();
        put_block(&mut batch, BlockStatus::Valid);
        batch.put_tree_nodes(tree.new_nodes);
        batch.put_execution(&hash, &execution.receipts, &execution.changes);
        batch.apply_state_changes(&execution.changes, true);
        batch.set_canonical(&hash, &header, &execution.receipts);
        batch.set_head(&hash);
        self.store.write(batch)?;
        for transaction in &transactions {
            self.orphaned_transactions.remove(&transaction.hash());
        }
        self.head = Tip {
            hash,
            header: header.clone(),
            total_work,
        };
        self.connected_blocks.push(ConnectedBlock {
            hash,
            header,
            receipts: execution.receipts,
        });
        Ok(ImportOutcome::NewHead { reorg_depth: 0 })
    }

    /// Builds a block on the head from `candidates`, in order, skipping those that do not fit
    /// or are not admissible. The timestamp is `now_ms`, raised if needed above the median time
    /// past.
    ///
    /// # Errors
    /// [`ImportError`] for storage failures.
    pub fn build_block(
        &self,
        miner: Address,
        now_ms: u64,
        candidates: &[VerifiedTransaction],
    ) -> Result<BlockTemplate, ImportError> {
        let parent = &self.head.header;
        let mut recent = self.recent_timestamps(parent)?;
        let median = salus_primitives::pow::median_time_past(&mut recent).unwrap_or(0);
        let timestamp_ms = now_ms.max(median + 1);
        let bits = validation::expected_bits(&self.params, &self.genesis, parent)?;
        let context = BlockContext {
            number: parent.number + 1,
            timestamp_ms,
            miner,
        };
        let (warmer, state) = PathWarmer::start(&self.store, parent.state_root);
        let mut builder = BlockBuilder::new(&self.params, &self.vm, state, context);
        let mut included = Vec::new();
        let mut skipped = Vec::new();
        let mut body_bytes = 0usize;
        for candidate in candidates {
            if included.len() == limits::MAX_TRANSACTIONS_PER_BLOCK {
                break;
            }
            if builder.fuel_used().saturating_add(BASE_TRANSACTION_FUEL)
                > self.params.block_fuel_limit
            {
                // Not even the cheapest transaction fits any more.
                break;
            }
            let size = candidate.encoded_size();
            if body_bytes + size + 8 > limits::MAX_BLOCK_BODY_BYTES {
                continue;
            }
            match builder.push_candidate(candidate) {
                Ok(_) => {
                    body_bytes += size;
                    included.push(candidate.clone());
                }
                Err(CandidateError::Refused(PushError::State(error))) => {
                    // A node-local failure while running this candidate (the state backend,
                    // the instance pool, memory): nothing of it was kept. It is left for a
                    // later block, never judged; the block goes on without it.
                    tracing::warn!(
                        transaction = %candidate.hash(),
                        %error,
                        "a candidate could not be executed on this node; left for a later block"
                    );
                    skipped.push((
                        candidate.hash(),
                        CandidateError::Refused(PushError::State(error)),
                    ));
                }
                Err(error) => skipped.push((candidate.hash(), error)),
            }
        }
        let execution = builder.finish()?;
        warmer.stop();
        let tree = self.tree_update(&parent.state_root, &execution.changes)?;
        let included_hashes: Vec<Hash> = included.iter().map(VerifiedTransaction::hash).collect();
        let header = BlockHeader {
            parent_hash: self.head.hash,
            number: parent.number + 1,
            timestamp_ms,
            transactions_root: transactions_root_of_hashes(&included_hashes),
            receipts_root: receipts_root(&execution.receipts),
            state_root: tree.root,
            bits,
            miner,
            nonce: 0,
        };
        Ok(BlockTemplate {
            header,
            transactions: included,
            skipped,
            prepared: PreparedExecution {
                parent: self.head.hash,
                execution,
                tree,
            },
        })
    }

    /// A header by hash.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] if the header is not stored.
    pub fn header(&self, hash: &Hash) -> Result<BlockHeader, ImportError> {
        self.store
            .header(hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("header {hash} is missing")).into())
    }

    /// The canonical block at `number`.
    ///
    /// # Errors
    /// [`ImportError`] for storage failures.
    pub fn block_by_number(&self, number: u64) -> Result<Option<Block>, ImportError> {
        match self.store.canonical_hash(number)? {
            None => Ok(None),
            Some(hash) => self.block(&hash),
        }
    }

    /// A stored block by hash (canonical or not).
    ///
    /// # Errors
    /// [`ImportError`] for storage failures.
    pub fn block(&self, hash: &Hash) -> Result<Option<Block>, ImportError> {
        let Some(header) = self.store.header(hash)? else {
            return Ok(None);
        };
        let transactions = self
            .store
            .body(hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("body of {hash} is missing")))?;
        Ok(Some(Block {
            header,
            transactions,
        }))
    }

    /// The receipts of an executed block.
    ///
    /// # Errors
    /// [`ImportError`] for storage failures.
    pub fn receipts(&self, hash: &Hash) -> Result<Option<Vec<Receipt>>, ImportError> {
        Ok(self.store.receipts(hash)?)
    }

    /// The account at `address` at the head.
    ///
    /// # Errors
    /// [`ImportError`] for storage failures.
    pub fn account(&self, address: &Address) -> Result<Account, ImportError> {
        Ok(self.store.account(address)?)
    }

    /// The value of `key` in the state with root `state_root` (any committed root).
    ///
    /// # Errors
    /// [`ImportError`] for storage failures or an unknown root.
    pub fn state_value_at(
        &self,
        state_root: &Hash,
        key: &StateKey,
    ) -> Result<Option<Vec<u8>>, ImportError> {
        Ok(state_tree::get(&self.store, state_root, &key.tree_path())?)
    }

    /// A proof of `key`'s value (or absence) under `state_root`, with the value.
    ///
    /// # Errors
    /// [`ImportError`] for storage failures or an unknown root.
    pub fn prove(
        &self,
        state_root: &Hash,
        key: &StateKey,
    ) -> Result<(StateProof, Option<Vec<u8>>), ImportError> {
        Ok(state_tree::prove(
            &self.store,
            state_root,
            &key.tree_path(),
        )?)
    }

    /// Timestamps of `parent` and up to ten ancestors.
    fn recent_timestamps(&self, parent: &BlockHeader) -> Result<Vec<u64>, ImportError> {
        let mut timestamps = Vec::with_capacity(TIMESTAMP_WINDOW);
        timestamps.push(parent.timestamp_ms);
        let mut cursor = parent.clone();
        while timestamps.len() < TIMESTAMP_WINDOW && cursor.number > 0 {
            cursor = self.header(&cursor.parent_hash)?;
            timestamps.push(cursor.timestamp_ms);
        }
        Ok(timestamps)
    }

    fn tree_update(&self, root: &Hash, changes: &StateChanges) -> Result<TreeUpdate, ImportError> {
        let paths = state_tree::path_changes(changes);
        Ok(state_tree::apply_on_threads(
            &self.store,
            root,
            &paths,
            tree_update_threads(),
        )?)
    }

    /// Makes `target` (stored, more work than the head) the head. Returns the number of blocks
    /// disconnected. If a block of the new branch is invalid, the chain settles on the heaviest
    /// valid branch and the error is returned.
    fn switch_to(&mut self, target: &Hash) -> Result<u64, ImportError> {
        let old_head = self.head.clone();
        let (fork_point, branch) = self.branch_from_canonical(target)?;
        let mut depth = 0;
        while self.head.hash != fork_point {
            self.disconnect_head()?;
            depth += 1;
        }
        for (hash, header) in &branch {
            if let Err(error) = self.connect(hash, header) {
                if error.is_invalid_block() {
                    self.mark_invalid(hash, &error.to_string())?;
                    for (descendant, _) in branch.iter().skip_while(|(h, _)| h != hash).skip(1) {
                        self.mark_invalid(
                            descendant,
                            &format!("descends from invalid block {hash}"),
                        )?;
                    }
                    if old_head.total_work >= self.head.total_work {
                        self.return_to(&old_head)?;
                    }
                }
                return Err(error);
            }
        }
        Ok(depth)
    }

    /// Returns to a previously canonical, fully valid tip.
    fn return_to(&mut self, tip: &Tip) -> Result<(), ImportError> {
        let (fork_point, branch) = self.branch_from_canonical(&tip.hash)?;
        while self.head.hash != fork_point {
            self.disconnect_head()?;
        }
        for (hash, header) in &branch {
            self.connect(hash, header)?;
        }
        Ok(())
    }

    /// The canonical ancestor of `target` and the blocks from it (exclusive) up to `target`
    /// (inclusive), oldest first.
    fn branch_from_canonical(
        &self,
        target: &Hash,
    ) -> Result<(Hash, Vec<(Hash, BlockHeader)>), ImportError> {
        let mut branch = Vec::new();
        let mut cursor = *target;
        loop {
            let header = self.header(&cursor)?;
            if header.number <= self.head.header.number
                && self.store.canonical_hash(header.number)? == Some(cursor)
            {
                branch.reverse();
                return Ok((cursor, branch));
            }
            let parent = header.parent_hash;
            branch.push((cursor, header));
            cursor = parent;
        }
    }

    fn disconnect_head(&mut self) -> Result<(), ImportError> {
        let hash = self.head.hash;
        let header = self.head.header.clone();
        if header.number == 0 {
            return Err(StorageError::Corrupt("cannot disconnect genesis".into()).into());
        }
        let changes = self
            .store
            .state_changes(&hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("undo data of {hash} is missing")))?;
        let body = self
            .store
            .body(&hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("body of {hash} is missing")))?;
        let mut batch = self.store.batch();
        batch.apply_state_changes(&changes, false);
        let receipts = self
            .store
            .receipts(&hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("receipts of {hash} are missing")))?;
        batch.unset_canonical(header.number, &receipts);
        batch.set_head(&header.parent_hash);
        self.store.write(batch)?;
        for transaction in body {
            let transaction = HashedTransaction::new(transaction);
            self.orphaned_transactions
                .insert(transaction.hash(), transaction);
        }
        self.head = load_tip(&self.store, &header.parent_hash)?;
        Ok(())
    }

    /// Connects `hash`, whose parent is the head: executes it (or, if it was executed before,
    /// reapplies its stored changes) and moves the head.
    fn connect(&mut self, hash: &Hash, header: &BlockHeader) -> Result<(), ImportError> {
        debug_assert_eq!(header.parent_hash, self.head.hash);
        let meta = self
            .store
            .block_meta(hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("index record of {hash} is missing")))?;
        let mut batch = self.store.batch();
        let receipts = match &meta.status {
            BlockStatus::Invalid(reason) => {
                return Err(ImportError::KnownInvalid {
                    hash: *hash,
                    reason: reason.clone(),
                });
            }
            BlockStatus::Valid => {
                let changes = self.store.state_changes(hash)?.ok_or_else(|| {
                    StorageError::Corrupt(format!("state changes of {hash} are missing"))
                })?;
                batch.apply_state_changes(&changes, true);
                self.store.receipts(hash)?.ok_or_else(|| {
                    StorageError::Corrupt(format!("receipts of {hash} are missing"))
                })?
            }
            BlockStatus::Stored => {
                // Stored earlier on a side branch (or left unconnected by a local failure):
                // its transactions are read back and verified now.
                let body = self
                    .store
                    .body(hash)?
                    .ok_or_else(|| StorageError::Corrupt(format!("body of {hash} is missing")))?;
                let transactions = verify_transactions(
                    body.into_iter().map(HashedTransaction::new),
                    self.signatures.as_ref(),
                )
                .map_err(ImportError::Execution)?;
                let (execution, tree) = self.execute(header, &transactions)?;
                check_state_root(header, &tree)?;
                batch.put_tree_nodes(tree.new_nodes);
                batch.put_execution(hash, &execution.receipts, &execution.changes);
                batch.apply_state_changes(&execution.changes, true);
                batch.put_block_meta(
                    hash,
                    &BlockMeta {
                        total_work: meta.total_work,
                        status: BlockStatus::Valid,
                    },
                );
                execution.receipts
            }
        };
        batch.set_canonical(hash, header, &receipts);
        batch.set_head(hash);
        self.store.write(batch)?;
        for receipt in &receipts {
            self.orphaned_transactions.remove(&receipt.transaction_hash);
        }
        self.head = Tip {
            hash: *hash,
            header: header.clone(),
            total_work: meta.total_work,
        };
        self.connected_blocks.push(ConnectedBlock {
            hash: *hash,
            header: header.clone(),
            receipts,
        });
        Ok(())
    }

    /// Executes a block on the head and updates the state tree with its changes; the receipts
    /// root is checked, the state root is the caller's to compare.
    fn execute(
        &self,
        header: &BlockHeader,
        transactions: &[VerifiedTransaction],
    ) -> Result<(BlockExecution, TreeUpdate), ImportError> {
        let context = BlockContext {
            number: header.number,
            timestamp_ms: header.timestamp_ms,
            miner: header.miner,
        };
        let root = self.head.header.state_root;
        let (warmer, state) = PathWarmer::start(&self.store, root);
        let execution = execute_block(&self.params, &self.vm, state, &context, transactions)
            .map_err(|error| match error {
                BlockExecutionError::State(error) => ImportError::State(error),
                other => ImportError::Execution(other),
            })?;
        warmer.stop();
        check_receipts_root(header, &execution)?;
        let tree = self.tree_update(&root, &execution.changes)?;
        Ok((execution, tree))
    }

    fn mark_invalid(&self, hash: &Hash, reason: &str) -> Result<(), ImportError> {
        let total_work = self
            .store
            .block_meta(hash)?
            .map(|meta| meta.total_work)
            .unwrap_or_default();
        let mut batch = self.store.batch();
        batch.put_block_meta(
            hash,
            &BlockMeta {
                total_work,
                status: BlockStatus::Invalid(reason.to_string()),
            },
        );
        self.store.write(batch)?;
        Ok(())
    }

    /// After a crash during a reorganisation the head may be an intermediate block: move to the
    /// heaviest stored branch not known to be invalid.
    fn resume_best_branch(&mut self) -> Result<(), ImportError> {
        let mut candidates: Vec<(Hash, BlockMeta)> = self
            .store
            .all_block_metas()?
            .into_iter()
            .filter(|(_, meta)| {
                meta.total_work > self.head.total_work
                    && !matches!(meta.status, BlockStatus::Invalid(_))
            })
            .collect();
        candidates.sort_by(|a, b| b.1.total_work.cmp(&a.1.total_work).then(a.0.cmp(&b.0)));
        for (hash, meta) in candidates {
            if meta.total_work <= self.head.total_work {
                break;
            }
            match self.switch_to(&hash) {
                Ok(_) => break,
                Err(error) if error.is_invalid_block() => continue,
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

/// Refuses a state-tree update whose root is not the header's state root.
fn check_state_root(header: &BlockHeader, tree: &TreeUpdate) -> Result<(), ImportError> {
    if tree.root != header.state_root {
        return Err(ImportError::BadStateRoot {
            computed: tree.root,
            found: header.state_root,
        });
    }
    Ok(())
}

/// Refuses an execution whose receipts do not hash to the header's receipts root.
fn check_receipts_root(
    header: &BlockHeader,
    execution: &BlockExecution,
) -> Result<(), ImportError> {
    let computed = receipts_root(&execution.receipts);
    if computed != header.receipts_root {
        return Err(ImportError::BadReceiptsRoot {
            computed,
            found: header.receipts_root,
        });
    }
    Ok(())
}

fn load_tip(store: &Store, hash: &Hash) -> Result<Tip, ImportError> {
    let header = store
        .header(hash)?
        .ok_or_else(|| StorageError::Corrupt(format!("header {hash} is missing")))?;
    let meta = store
        .block_meta(hash)?
        .ok_or_else(|| StorageError::Corrupt(format!("index record of {hash} is missing")))?;
    Ok(Tip {
        hash: *hash,
        header,
        total_work: meta.total_work,
    })
}

fn write_genesis(store: &Store, genesis: &Genesis) -> Result<(), ImportError> {
    let hash = genesis.header.hash();
    let work = genesis
        .header
        .bits
        .work()
        .map_err(BlockRuleError::BadTarget)?;
    let changes = StateChanges::creating(genesis.state.clone());
    let mut batch = store.batch();
    batch.put_block(
        &hash,
        &genesis.header,
        std::iter::empty(),
        &BlockMeta {
            total_work: work,
            status: BlockStatus::Valid,
        },
    );
    batch.put_tree_nodes(genesis.tree.new_nodes.clone());
    batch.put_execution(&hash, &[], &changes);
    batch.apply_state_changes(&changes, true);
    batch.set_canonical(&hash, &genesis.header, &[]);
    batch.set_head(&hash);
    batch.set_genesis(&hash, &genesis.params);
    store.write(batch)?;
    Ok(())
}

/// Threads a block's state-tree update may use: one per core, at most four.
fn tree_update_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(4)
    })
}
