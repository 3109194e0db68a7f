//! Block import as the node does it: a block from a peer, sync or a file (signatures recovered
//! on every core before the chain's lock), or one this node built; then the housekeeping of a
//! new head — the pool, the search in progress, heads, metrics and events — from the connected
//! blocks the import hands back, not from the store.

use salus_client::rpc::EventRecord;
use salus_primitives::Block;

use super::{NodeError, NodeState, views};
use crate::chain::{ConnectedBlock, ImportOutcome, IncomingBlock, ReceivedBlock};

impl NodeState {
    /// Imports a block and does the housekeeping a new head needs: prune and refill the pool,
    /// announce the head.
    ///
    /// # Errors
    /// [`NodeError::Import`] when the block is refused.
    pub fn import(&self, block: Block) -> Result<ImportOutcome, NodeError> {
        self.import_received(ReceivedBlock::new(block))
    }

    /// [`NodeState::import`] for a block already hashed (sync hashed its body to check it).
    ///
    /// # Errors
    /// As [`NodeState::import`].
    pub fn import_received(&self, block: ReceivedBlock) -> Result<ImportOutcome, NodeError> {
        // Spend cores on signatures only for a block that could be imported now: well formed,
        // with its proof of work, new, on a stored parent, and with the bits, number and
        // timestamp its parent requires (a cheap block of the wrong difficulty costs no
        // signature work). They are recovered on every core after the chain's lock is let go;
        // import finds them in the cache.
        if block.check_standalone().is_ok()
            && !self.has_block(&block.hash())
            && matches!(
                self.chain().check_header(block.header(), self.now_ms()),
                Ok(true)
            )
        {
            block.recover_signers_in_parallel(&self.signatures);
        }
        self.import_with(IncomingBlock::Received(block))
    }

    /// Imports a block and does the housekeeping of [`NodeState::import`]: the pool drops what
    /// the connected blocks included (by the hashes their receipts carry) and takes back what
    /// disconnected blocks held; heads, metrics and events are announced from the connected
    /// blocks as the import produced them, not read back from the store.
    pub(super) fn import_with(&self, block: IncomingBlock) -> Result<ImportOutcome, NodeError> {
        let mut chain = self.chain();
        let before = chain.head().hash;
        let started = std::time::Instant::now();
        // A refused block can still have moved the head (a reorganisation onto a heavier branch
        // that stopped at an invalid block): the housekeeping below runs either way.
        let outcome = chain.import_block(block, self.now_ms());
        let connected = chain.drain_connected_blocks();
        let head = chain.head().clone();
        if head.hash != before {
            *super::lock(&self.published_head) = head.clone();
            self.production.abandon_search();
            let orphaned = chain.drain_orphaned_transactions();
            self.admission
                .after_new_head(&connected, orphaned, &chain, self.network());
            tracing::info!(
                number = head.header.number,
                hash = %head.hash,
                transactions = connected.last().map_or(0, |block| block.receipts.len()),
                import_ms = started.elapsed().as_millis() as u64,
                "new head"
            );
            // No subscribers is fine.
            let _ = self.heads.send(views::header(&head.header));
            let import_micros = started.elapsed().as_micros() as u64;
            for block in &connected {
                let fuel: u64 = block.receipts.iter().map(|receipt| receipt.fuel_used).sum();
                self.metrics
                    .record_block(block.receipts.len(), fuel, import_micros);
                if self.events.receiver_count() > 0 {
                    self.publish_events(block);
                }
            }
        }
        Ok(outcome?)
    }

    fn publish_events(&self, block: &ConnectedBlock) {
        let header = &block.header;
        for (transaction_index, receipt) in block.receipts.iter().enumerate() {
            for (event_index, event) in receipt.events.iter().enumerate() {
                let _ = self.events.send(EventRecord {
                    block_number: header.number,
                    transaction_index: transaction_index as u32,
                    event_index: event_index as u16,
                    transaction_hash: receipt.transaction_hash.to_string(),
                    event: views::event(event),
                });
            }
        }
    }
}
