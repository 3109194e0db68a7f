//! The node as its peer-to-peer network sees it: [`NetworkState`] for [`NodeState`]. The sync
//! server's queries are the chain's (`chain/sync_queries.rs`), block import and transaction
//! admission the node's; this file only delegates and translates.

use std::sync::Arc;

use salus_primitives::{BlockHeader, Hash, SignedTransaction};

use super::{NodeError, NodeState};
use crate::chain::validation::{BlockRuleError, HeaderContext};
use crate::chain::{ImportOutcome, ReceivedBlock};
use crate::network::protocol::{ChainStatus, MAX_LOCATOR_HASHES};
use crate::network::{BlockImportError, NetworkState, SyncChain, TransactionVerdict};

impl SyncChain for NodeState {
    fn locator(&self) -> Vec<Hash> {
        self.chain().locator(MAX_LOCATOR_HASHES)
    }

    fn has_block(&self, hash: &Hash) -> bool {
        NodeState::has_block(self, hash)
    }

    fn import_synced(&self, block: ReceivedBlock) -> Result<(), BlockImportError> {
        refused_or_node(self.import_received(block)).map(|_| ())
    }

    fn header_context(&self, parent: &Hash) -> Option<HeaderContext> {
        self.chain().header_context(parent)
    }

    fn check_header(
        &self,
        context: &mut HeaderContext,
        header: &BlockHeader,
    ) -> Result<(), BlockRuleError> {
        self.check_synced_header(context, header)
    }
}

impl NodeState {
    /// The sync's header checks, as [`SyncChain`] asks them.
    fn check_synced_header(
        &self,
        context: &mut HeaderContext,
        header: &BlockHeader,
    ) -> Result<(), BlockRuleError> {
        context.check_and_advance(
            &self.genesis.params,
            &self.genesis.header,
            header,
            self.now_ms(),
        )
    }
}

impl NetworkState for NodeState {
    fn genesis_hash(&self) -> Hash {
        NodeState::genesis_hash(self)
    }

    fn chain_status(&self) -> ChainStatus {
        // Not the chain's lock: an import on the block thread may hold it.
        let head = self.published_head();
        ChainStatus {
            genesis: NodeState::genesis_hash(self),
            head: head.hash,
            number: head.header.number,
            total_work: head.total_work.to_be_bytes(),
        }
    }

    fn headers_after(&self, locator: &[Hash], max: u32) -> Vec<BlockHeader> {
        self.chain().headers_after(locator, max)
    }

    fn bodies(&self, hashes: &[Hash], byte_limit: usize) -> Vec<Vec<SignedTransaction>> {
        self.chain().bodies(hashes, byte_limit)
    }

    fn import_block(&self, block: ReceivedBlock) -> Result<ImportOutcome, BlockImportError> {
        refused_or_node(self.import_received(block))
    }

    async fn admit_gossiped(self: Arc<Self>, transaction: SignedTransaction) -> TransactionVerdict {
        match self.admission.admit_queued(transaction).await {
            Ok(_) => TransactionVerdict::Admitted,
            Err(error) if error.is_malicious() => TransactionVerdict::Malicious,
            Err(error) if error.is_useless() => TransactionVerdict::Useless,
            // Stale nonces, a full pool or queue, a duplicate: honest races, not relayed.
            Err(_) => TransactionVerdict::Ignored,
        }
    }

    fn peers_connected(&self, count: usize) {
        self.metrics().set_peers(count);
    }
}

/// A block the chain refused, or a failure of this node, as the network tells them apart.
fn refused_or_node(
    outcome: Result<ImportOutcome, NodeError>,
) -> Result<ImportOutcome, BlockImportError> {
    outcome.map_err(|error| match error {
        NodeError::Import(error) => BlockImportError::Refused(error),
        other => BlockImportError::Node(other.to_string()),
    })
}
