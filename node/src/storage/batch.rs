//! Typed writes collected into one atomic RocksDB `WriteBatch`.

use parity_scale_codec::{Compact, Encode};
use rocksdb::WriteBatch;
use salus_primitives::{BlockHeader, Hash, Receipt, SignedTransaction};
use salus_runtime::StateChanges;

use super::{BlockMeta, Column, Store, meta_keys};

/// Writes to apply together; nothing is visible until [`Store::write`].
pub struct StoreBatch<'a> {
    store: &'a Store,
    batch: WriteBatch,
    /// Tree nodes written, for the node cache once the batch is durable.
    tree_nodes: Vec<(Hash, Vec<u8>)>,
}

impl<'a> StoreBatch<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        StoreBatch {
            store,
            batch: WriteBatch::default(),
            tree_nodes: Vec::new(),
        }
    }

    pub(super) fn into_parts(self) -> (WriteBatch, Vec<(Hash, Vec<u8>)>) {
        (self.batch, self.tree_nodes)
    }

    fn put(&mut self, column: Column, key: &[u8], value: &[u8]) {
        self.batch.put_cf(self.store.cf(column), key, value);
    }

    fn delete(&mut self, column: Column, key: &[u8]) {
        self.batch.delete_cf(self.store.cf(column), key);
    }

    /// Stores the block `hash` (its header's hash): the header, the body (stored as the SCALE
    /// encoding of `Vec<SignedTransaction>`) and its index record.
    pub fn put_block<'t>(
        &mut self,
        hash: &Hash,
        header: &BlockHeader,
        body: impl ExactSizeIterator<Item = &'t SignedTransaction>,
        meta: &BlockMeta,
    ) {
        debug_assert_eq!(*hash, header.hash());
        self.put(Column::Headers, &hash.0, &header.encode());
        let mut encoded = Compact(body.len() as u32).encode();
        for transaction in body {
            transaction.encode_to(&mut encoded);
        }
        self.put(Column::Bodies, &hash.0, &encoded);
        self.put_block_meta(hash, meta);
    }

    /// Replaces a block's index record.
    pub fn put_block_meta(&mut self, hash: &Hash, meta: &BlockMeta) {
        self.put(Column::BlockMeta, &hash.0, &meta.encode());
    }

    /// Stores the results of executing a block.
    pub fn put_execution(&mut self, hash: &Hash, receipts: &[Receipt], changes: &StateChanges) {
        self.put(Column::Receipts, &hash.0, &receipts.encode());
        self.put(Column::Undo, &hash.0, &changes.encode());
    }

    /// Stores state-tree nodes. They are written in hash order: each memtable insert then starts
    /// from where the previous one ended (the column's insert hints) instead of searching the
    /// whole memtable for a random key.
    pub fn put_tree_nodes(&mut self, mut nodes: Vec<(Hash, Vec<u8>)>) {
        nodes.sort_unstable_by_key(|(hash, _)| *hash);
        for (hash, bytes) in &nodes {
            self.put(Column::StateNodes, &hash.0, bytes);
        }
        self.tree_nodes.append(&mut nodes);
    }

    /// Applies a block's changes to the flat state (forward: values after; backward: values
    /// before).
    pub fn apply_state_changes(&mut self, changes: &StateChanges, forward: bool) {
        for change in &changes.entries {
            match if forward {
                &change.after
            } else {
                &change.before
            } {
                Some(value) => self.put(Column::State, &change.key, value),
                None => self.delete(Column::State, &change.key),
            }
        }
    }

    /// Makes the block `hash` (with `header`) the canonical block at its height, indexing its
    /// transactions (by the hashes its receipts carry, one receipt per transaction) and events.
    pub fn set_canonical(&mut self, hash: &Hash, header: &BlockHeader, receipts: &[Receipt]) {
        debug_assert_eq!(*hash, header.hash());
        for (transaction_index, receipt) in receipts.iter().enumerate() {
            for (event_index, event) in receipt.events.iter().enumerate() {
                let key = super::event_key(
                    &event.contract,
                    header.number,
                    transaction_index as u32,
                    event_index as u16,
                );
                self.put(
                    Column::Events,
                    &key,
                    &(receipt.transaction_hash, event).encode(),
                );
            }
        }
        self.put(
            Column::Canonical,
            &header.number.to_be_bytes(),
            &hash.encode(),
        );
        for (index, receipt) in receipts.iter().enumerate() {
            self.put(
                Column::TransactionIndex,
                &receipt.transaction_hash.0,
                &(hash, index as u32).encode(),
            );
        }
    }

    /// Removes the canonical entry at `number` and the transaction and event indexes of its
    /// block, whose receipts are `receipts`.
    pub fn unset_canonical(&mut self, number: u64, receipts: &[Receipt]) {
        self.delete(Column::Canonical, &number.to_be_bytes());
        for (transaction_index, receipt) in receipts.iter().enumerate() {
            for (event_index, event) in receipt.events.iter().enumerate() {
                self.delete(
                    Column::Events,
                    &super::event_key(
                        &event.contract,
                        number,
                        transaction_index as u32,
                        event_index as u16,
                    ),
                );
            }
        }
        for receipt in receipts {
            self.delete(Column::TransactionIndex, &receipt.transaction_hash.0);
        }
    }

    /// Moves the head pointer.
    pub fn set_head(&mut self, hash: &Hash) {
        self.put(Column::Meta, meta_keys::HEAD, &hash.encode());
    }

    /// Records the genesis hash and the consensus parameters.
    pub fn set_genesis(&mut self, hash: &Hash, params: &salus_primitives::ChainParams) {
        self.put(Column::Meta, meta_keys::GENESIS_HASH, &hash.encode());
        self.put(Column::Meta, meta_keys::CHAIN_PARAMS, &params.encode());
    }
}
