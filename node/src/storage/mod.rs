//! Block and state storage in RocksDB: column families, typed reads, and atomic per-block write
//! batches.
//!
//! Storage guarantee: every change of the chain (a block stored, connected or disconnected, with
//! its state changes, indexes and the head pointer) is one RocksDB `WriteBatch` written with the
//! WAL on and synced; after a crash at any moment the database shows each batch fully or not at
//! all. The schema version and the genesis hash are checked on open.

pub mod artifact_key;
mod batch;
mod columns;
mod node_cache;

use std::path::Path;
use std::sync::Arc;

use parity_scale_codec::{Decode, Encode};
use rocksdb::{ColumnFamilyDescriptor, DB, Options};
use salus_primitives::{BlockHeader, Hash, Receipt, SignedTransaction, Work};
use salus_runtime::{State, StateChanges, StateError};

pub use batch::StoreBatch;
pub use columns::Column;
pub use node_cache::NodeCacheStats;

use crate::state_tree::{TreeError, TreeNodeSource};

/// Version of the on-disk layout. A database written with another version is refused. Also
/// raised when a consensus change makes the stored receipts and roots differ from what this
/// node computes for the same blocks (3: Wasm operators metered by kind, memory paid for; 4:
/// receipts carry stable codes instead of engine text, branches cost half a unit), so that a
/// node never continues a chain its own rules would not verify.
pub const SCHEMA_VERSION: u32 = 4;

/// Keys of the metadata column.
pub(crate) mod meta_keys {
    /// SCALE `u32`: the schema version.
    pub const SCHEMA_VERSION: &[u8] = b"schema_version";
    /// The genesis block hash (32 bytes).
    pub const GENESIS_HASH: &[u8] = b"genesis_hash";
    /// The canonical head's hash (32 bytes).
    pub const HEAD: &[u8] = b"head";
    /// SCALE `ChainParams` of the chain this database holds.
    pub const CHAIN_PARAMS: &[u8] = b"chain_params";
}

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// RocksDB reported an error (I/O, corruption detected by checksums, lock held by another
    /// process).
    #[error("database error: {0}")]
    Database(rocksdb::Error),
    /// The data directory's disk is full: the write was refused whole (nothing of it is in the
    /// database) and RocksDB refuses further writes until space is freed, then resumes.
    #[error("disk full, nothing written (free space on the data directory's disk): {0}")]
    OutOfSpace(rocksdb::Error),
    /// The database was written by a different schema version.
    #[error(
        "database schema version {found}, this node uses {expected}; refusing to open (use a \
         node of that version, or a fresh data directory)"
    )]
    SchemaMismatch {
        /// Version on disk.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
    /// The database holds a different chain.
    #[error("database holds the chain with genesis {found}, expected genesis {expected}")]
    WrongChain {
        /// Genesis on disk.
        found: Hash,
        /// Genesis this node was started with.
        expected: Hash,
    },
    /// A record failed to decode or violates an invariant.
    #[error("corrupt database: {0}")]
    Corrupt(String),
}

impl From<rocksdb::Error> for StorageError {
    fn from(error: rocksdb::Error) -> StorageError {
        // RocksDB's status for ENOSPC (IOStatus::NoSpace, or the errno's text from its file
        // system layer); the Rust binding keeps only the status's text.
        if error.as_ref().contains("No space left on device") {
            StorageError::OutOfSpace(error)
        } else {
            StorageError::Database(error)
        }
    }
}

impl StorageError {
    /// Whether the database is damaged (a checksum mismatch, a record that does not decode):
    /// not transient — retrying reads the same damage.
    pub fn is_corruption(&self) -> bool {
        match self {
            StorageError::Corrupt(_) => true,
            StorageError::Database(error) => error.as_ref().contains("Corruption"),
            _ => false,
        }
    }

    /// Whether the disk is full ([`StorageError::OutOfSpace`]): the same write may succeed once
    /// space is freed.
    pub fn is_out_of_space(&self) -> bool {
        matches!(self, StorageError::OutOfSpace(_))
    }
}

/// Where an event is: block number, transaction index, event index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
pub struct EventPosition {
    /// Block number.
    pub number: u64,
    /// Transaction index in the block.
    pub transaction: u32,
    /// Event index in the transaction.
    pub event: u16,
}

/// An indexed event with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEvent {
    /// Where it is.
    pub position: EventPosition,
    /// The emitting transaction.
    pub transaction_hash: Hash,
    /// The event.
    pub event: salus_primitives::Event,
}

/// Key of the `events` column.
pub(crate) fn event_key(
    contract: &salus_primitives::Address,
    number: u64,
    transaction: u32,
    event: u16,
) -> Vec<u8> {
    let mut key = Vec::with_capacity(34);
    key.extend_from_slice(&contract.0);
    key.extend_from_slice(&number.to_be_bytes());
    key.extend_from_slice(&transaction.to_be_bytes());
    key.extend_from_slice(&event.to_be_bytes());
    key
}

/// Block-index record: accumulated work and validation status.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockMeta {
    /// Work of the chain from genesis to this block inclusive.
    pub total_work: Work,
    /// How far the block has been validated.
    pub status: BlockStatus,
}

/// Validation status of a stored block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum BlockStatus {
    /// Header and body checked in context; not yet executed.
    Stored,
    /// Executed and found valid; its receipts and state changes are stored.
    Valid,
    /// Invalid (or a descendant of an invalid block), with the reason.
    Invalid(String),
}

/// The node's database.
#[derive(Clone)]
pub struct Store {
    db: Arc<DB>,
    nodes: Arc<node_cache::NodeCache>,
    /// The block cache every column family shares (none when opened read-only).
    block_cache: Option<rocksdb::Cache>,
    /// The secret that authenticates compiled artifacts (`artifact_key.rs`).
    artifact_key: salus_runtime::ArtifactKey,
    /// Batches written and per-block records read, shared by every handle.
    io: Arc<IoCounters>,
}

/// What a store did since it was opened: the atomic writes, and the reads of a block's body,
/// receipts and undo data. An import that extends the head writes one batch and reads none of
/// the block's own records back; the counts let a test (and an operator) see that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreIo {
    /// Batches written ([`Store::write`]), each one atomic, synced write.
    pub batches_written: u64,
    /// Block bodies read.
    pub bodies_read: u64,
    /// Block receipts read.
    pub receipts_read: u64,
    /// Block undo data (state changes) read.
    pub state_changes_read: u64,
}

#[derive(Default)]
struct IoCounters {
    batches_written: std::sync::atomic::AtomicU64,
    bodies_read: std::sync::atomic::AtomicU64,
    receipts_read: std::sync::atomic::AtomicU64,
    state_changes_read: std::sync::atomic::AtomicU64,
}

fn count(counter: &std::sync::atomic::AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Bytes RocksDB holds in memory, by holder: what a node's resident memory is made of beside
/// its own structures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreMemory {
    /// RocksDB memtables, every column family (bounded by [`MEMTABLE_BUDGET_BYTES`]).
    pub memtables: u64,
    /// RocksDB's table readers outside the block cache (grows with the number of table files).
    pub table_readers: u64,
    /// The shared block cache's contents (bounded by [`BLOCK_CACHE_BYTES`], pinned entries
    /// aside).
    pub block_cache: u64,
    /// Block-cache entries in use and not evictable (pinned index and filter tops, blocks being
    /// read).
    pub block_cache_pinned: u64,
}

/// Most bytes of all memtables together (the write buffers RocksDB fills before flushing).
pub const MEMTABLE_BUDGET_BYTES: usize = 128 * 1024 * 1024;

/// Bytes of the one block cache all column families share: index partitions and uncompressed
/// data blocks read from table files (recent writes are read from the memtables).
pub const BLOCK_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The options of one column family. Every table shares the one block cache and keeps its index
/// partitioned in it (a small top level per table file, pinned; partitions loaded as lookups
/// need them, at high priority), instead of one whole index per table file held outside any
/// cache, which grows with the database.
///
/// The two columns read by point lookups on the hot path — the flat state (every contract
/// storage read) and the state tree's nodes (every tree update reads the paths it rewrites) —
/// also keep Bloom filters, in the table files (partitioned like the index) and in the
/// memtables, so that a lookup skips every table and memtable that cannot hold its key instead
/// of searching each. Tree nodes are stored uncompressed: they are hashes, which do not
/// compress, and decompressing their blocks cost every lookup.
fn column_options(column: Column, cache: &rocksdb::Cache) -> Result<Options, StorageError> {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_index_type(rocksdb::BlockBasedIndexType::TwoLevelIndexSearch);
    table.set_cache_index_and_filter_blocks(true);
    table.set_cache_index_and_filter_blocks_with_high_priority(true);
    table.set_pin_top_level_index_and_filter(true);
    let point_lookups = matches!(column, Column::State | Column::StateNodes);
    let mut options = if point_lookups {
        // Each memtable insert of a write batch starts from the previous insert's position
        // (the hint) when the keys share a first byte: blocks write their state changes in key
        // order and their tree nodes in hash order. (Not exposed by the Rust bindings; set
        // through RocksDB's option string.)
        Options::default().get_options_from_string(
            "memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.1",
        )?
    } else {
        Options::default()
    };
    options.set_write_buffer_size(MEMTABLE_BUDGET_BYTES / 4);
    if point_lookups {
        table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
        table.set_partition_filters(true);
        table.set_whole_key_filtering(true);
        options.set_memtable_whole_key_filtering(true);
        options.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO);
    }
    if column == Column::StateNodes {
        options.set_compression_type(rocksdb::DBCompressionType::None);
    }
    options.set_block_based_table_factory(&table);
    Ok(options)
}

/// Bloom filter bits per key: about a 1 % false-positive rate.
const BLOOM_BITS_PER_KEY: f64 = 10.0;

/// Share of a memtable's size given to its Bloom filter.
const MEMTABLE_BLOOM_RATIO: f64 = 0.02;

impl Store {
    /// Opens (creating if missing) the database in `path` and checks its schema version.
    ///
    /// # Errors
    /// [`StorageError`] when RocksDB cannot open the directory, or the schema differs.
    pub fn open(path: &Path) -> Result<Store, StorageError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        options.set_paranoid_checks(true);
        // Memory: all memtables together stay under one bound (RocksDB flushes the largest when
        // it is reached), instead of 64 MiB × 2 per column family by default.
        options.set_db_write_buffer_size(MEMTABLE_BUDGET_BYTES);
        // Memory: one block cache for every column family, instead of RocksDB's default of a
        // private 32 MiB cache per column family (12 × 32 MiB, each filling slowly as old
        // blocks are read: the node's memory grew for as long as it ran). See `column_options`.
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let descriptors = Column::ALL
            .iter()
            .map(|column| {
                column_options(*column, &cache)
                    .map(|options| ColumnFamilyDescriptor::new(column.name(), options))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let db = DB::open_cf_descriptors(&options, path, descriptors)?;
        let store = Store {
            db: Arc::new(db),
            nodes: Arc::default(),
            block_cache: Some(cache),
            artifact_key: artifact_key::load_or_create(path)?,
            io: Arc::default(),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// The key compiled artifacts in this database are authenticated with.
    pub fn artifact_key(&self) -> &salus_runtime::ArtifactKey {
        &self.artifact_key
    }

    /// Opens an existing database without taking the write lock (for `verify-chain` beside a
    /// running node).
    ///
    /// # Errors
    /// [`StorageError`] when the directory holds no database or the schema differs.
    pub fn open_read_only(path: &Path) -> Result<Store, StorageError> {
        let options = Options::default();
        let names = Column::ALL.iter().map(|column| column.name());
        let db = DB::open_cf_for_read_only(&options, path, names, false)?;
        let store = Store {
            db: Arc::new(db),
            nodes: Arc::default(),
            block_cache: None,
            artifact_key: artifact_key::load_or_create(path)?,
            io: Arc::default(),
        };
        if store
            .get_raw(Column::Meta, meta_keys::SCHEMA_VERSION)?
            .is_none()
        {
            return Err(StorageError::Corrupt(
                "no schema version: not a Salus database".into(),
            ));
        }
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StorageError> {
        match self.get_raw(Column::Meta, meta_keys::SCHEMA_VERSION)? {
            None => {
                // A fresh database has no records at all; anything else is damage.
                if self
                    .get_raw(Column::Meta, meta_keys::GENESIS_HASH)?
                    .is_some()
                {
                    return Err(StorageError::Corrupt(
                        "schema version record missing".into(),
                    ));
                }
                self.db.put_cf(
                    self.cf(Column::Meta),
                    meta_keys::SCHEMA_VERSION,
                    SCHEMA_VERSION.encode(),
                )?;
                Ok(())
            }
            Some(bytes) => {
                let found = u32::decode(&mut &bytes[..])
                    .map_err(|_| StorageError::Corrupt("schema version does not decode".into()))?;
                if found != SCHEMA_VERSION {
                    return Err(StorageError::SchemaMismatch {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                Ok(())
            }
        }
    }

    /// Reads every entry of every column with block checksums verified and the cache
    /// bypassed: a table damaged where nothing has read it yet (opening reads only its footer,
    /// index and filters) is found now, its file named in the error. Returns the entries read.
    ///
    /// # Errors
    /// [`StorageError::Database`] naming the damaged file and offset (`Corruption: block
    /// checksum mismatch …`).
    pub fn scan_every_table(&self) -> Result<u64, StorageError> {
        let mut entries = 0u64;
        for column in Column::ALL {
            let mut options = rocksdb::ReadOptions::default();
            options.set_verify_checksums(true);
            options.fill_cache(false);
            for entry in
                self.db
                    .iterator_cf_opt(self.cf(column), options, rocksdb::IteratorMode::Start)
            {
                entry?;
                entries += 1;
            }
        }
        Ok(entries)
    }

    pub(crate) fn cf(&self, column: Column) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(column.name())
            .expect("every column family is opened")
    }

    /// A raw read.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    pub fn get_raw(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.db.get_cf(self.cf(column), key)?)
    }

    fn get_decoded<T: Decode>(
        &self,
        column: Column,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        match self.get_raw(column, key)? {
            None => Ok(None),
            Some(bytes) => T::decode(&mut &bytes[..]).map(Some).map_err(|error| {
                StorageError::Corrupt(format!(
                    "{} record {} does not decode: {error}",
                    column.name(),
                    hex::encode(key)
                ))
            }),
        }
    }

    /// Starts a batch of writes, applied atomically by [`Store::write`].
    pub fn batch(&self) -> StoreBatch<'_> {
        StoreBatch::new(self)
    }

    /// Writes a batch atomically, synced to disk.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    pub fn write(&self, batch: StoreBatch<'_>) -> Result<(), StorageError> {
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(true);
        let (batch, tree_nodes) = batch.into_parts();
        self.db.write_opt(batch, &options)?;
        count(&self.io.batches_written);
        self.nodes.insert_all(tree_nodes);
        Ok(())
    }

    /// What this store did since it was opened (every handle's counts together).
    pub fn io(&self) -> StoreIo {
        let read = |counter: &std::sync::atomic::AtomicU64| {
            counter.load(std::sync::atomic::Ordering::Relaxed)
        };
        StoreIo {
            batches_written: read(&self.io.batches_written),
            bodies_read: read(&self.io.bodies_read),
            receipts_read: read(&self.io.receipts_read),
            state_changes_read: read(&self.io.state_changes_read),
        }
    }

    /// Raw write of one value, bypassing every check: for fault-injection tests only.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    #[doc(hidden)]
    pub fn put_raw_for_tests(
        &self,
        column: Column,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), StorageError> {
        self.db.put_cf(self.cf(column), key, value)?;
        Ok(())
    }

    /// Writes every memtable to its table files: for fault-injection tests that damage a
    /// table.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    #[doc(hidden)]
    pub fn flush_for_tests(&self) -> Result<(), StorageError> {
        for column in Column::ALL {
            self.db.flush_cf(self.cf(column))?;
        }
        Ok(())
    }

    /// The genesis hash, once initialised.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn genesis_hash(&self) -> Result<Option<Hash>, StorageError> {
        self.get_decoded(Column::Meta, meta_keys::GENESIS_HASH)
    }

    /// The consensus parameters, once initialised.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn chain_params(&self) -> Result<Option<salus_primitives::ChainParams>, StorageError> {
        self.get_decoded(Column::Meta, meta_keys::CHAIN_PARAMS)
    }

    /// The canonical head's hash, once initialised.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn head_hash(&self) -> Result<Option<Hash>, StorageError> {
        self.get_decoded(Column::Meta, meta_keys::HEAD)
    }

    /// A header by block hash.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn header(&self, hash: &Hash) -> Result<Option<BlockHeader>, StorageError> {
        self.get_decoded(Column::Headers, &hash.0)
    }

    /// A block's index record.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn block_meta(&self, hash: &Hash) -> Result<Option<BlockMeta>, StorageError> {
        self.get_decoded(Column::BlockMeta, &hash.0)
    }

    /// A block's transactions.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn body(&self, hash: &Hash) -> Result<Option<Vec<SignedTransaction>>, StorageError> {
        count(&self.io.bodies_read);
        self.get_decoded(Column::Bodies, &hash.0)
    }

    /// A block's receipts (stored once it has been executed).
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn receipts(&self, hash: &Hash) -> Result<Option<Vec<Receipt>>, StorageError> {
        count(&self.io.receipts_read);
        self.get_decoded(Column::Receipts, &hash.0)
    }

    /// A block's state changes (stored once it has been executed).
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn state_changes(&self, hash: &Hash) -> Result<Option<StateChanges>, StorageError> {
        count(&self.io.state_changes_read);
        self.get_decoded(Column::Undo, &hash.0)
    }

    /// The canonical block hash at `number`.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn canonical_hash(&self, number: u64) -> Result<Option<Hash>, StorageError> {
        self.get_decoded(Column::Canonical, &number.to_be_bytes())
    }

    /// Where a canonical transaction is: block hash and index.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn transaction_location(&self, hash: &Hash) -> Result<Option<(Hash, u32)>, StorageError> {
        self.get_decoded(Column::TransactionIndex, &hash.0)
    }

    /// Events of `contract` in canonical blocks `from..=to`, after `after` (exclusive), up to
    /// `limit`, in chain order.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn contract_events(
        &self,
        contract: &salus_primitives::Address,
        from: u64,
        to: u64,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<IndexedEvent>, StorageError> {
        let start = match after {
            Some(position) => {
                let mut key = event_key(
                    contract,
                    position.number,
                    position.transaction,
                    position.event,
                );
                key.push(0); // strictly after
                key
            }
            None => event_key(contract, from, 0, 0),
        };
        let mut out = Vec::new();
        let mode = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(self.cf(Column::Events), mode) {
            let (key, value) = item?;
            if out.len() >= limit || key.len() != 34 || key[..20] != contract.0 {
                break;
            }
            let number = u64::from_be_bytes(key[20..28].try_into().expect("8 bytes"));
            if number > to {
                break;
            }
            let position = EventPosition {
                number,
                transaction: u32::from_be_bytes(key[28..32].try_into().expect("4 bytes")),
                event: u16::from_be_bytes(key[32..34].try_into().expect("2 bytes")),
            };
            let (transaction_hash, event) =
                <(Hash, salus_primitives::Event)>::decode(&mut &value[..]).map_err(|_| {
                    StorageError::Corrupt("event index record does not decode".into())
                })?;
            out.push(IndexedEvent {
                position,
                transaction_hash,
                event,
            });
        }
        Ok(out)
    }

    /// Every block-index record, for start-up recovery of the best chain.
    ///
    /// # Errors
    /// [`StorageError`].
    pub fn all_block_metas(&self) -> Result<Vec<(Hash, BlockMeta)>, StorageError> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Column::BlockMeta), rocksdb::IteratorMode::Start)
        {
            let (key, value) = item?;
            let hash = Hash(
                key.as_ref()
                    .try_into()
                    .map_err(|_| StorageError::Corrupt("block index key is not a hash".into()))?,
            );
            let meta = BlockMeta::decode(&mut &value[..]).map_err(|_| {
                StorageError::Corrupt(format!("block index record {hash} does not decode"))
            })?;
            out.push((hash, meta));
        }
        Ok(out)
    }

    /// Visits the current (head) flat state in key order.
    ///
    /// # Errors
    /// [`StorageError`] or the visitor's error.
    pub fn for_each_state_entry<F>(&self, visit: F) -> Result<(), StorageError>
    where
        F: FnMut(&[u8], &[u8]) -> Result<(), StorageError>,
    {
        self.for_each_raw(Column::State, visit)
    }

    /// Visits every entry of `column` in key order, as stored (what an operator reading the
    /// database sees; `salus inspect dump`).
    ///
    /// # Errors
    /// [`StorageError`] (converted) or the visitor's error.
    pub fn for_each_raw<F, E>(&self, column: Column, mut visit: F) -> Result<(), E>
    where
        F: FnMut(&[u8], &[u8]) -> Result<(), E>,
        E: From<StorageError>,
    {
        for item in self
            .db
            .iterator_cf(self.cf(column), rocksdb::IteratorMode::Start)
        {
            let (key, value) = item.map_err(StorageError::from)?;
            visit(&key, &value)?;
        }
        Ok(())
    }
}

/// The flat state of the canonical head, as the runtime sees it.
impl State for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get_raw(Column::State, key)
            .map_err(|error| StateError(error.to_string()))
    }

    fn next_entry(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<Option<salus_runtime::state::Entry>, StateError> {
        let start = match after {
            Some(after) if after >= prefix => after,
            _ => prefix,
        };
        let mode = rocksdb::IteratorMode::From(start, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(self.cf(Column::State), mode) {
            let (key, value) = item.map_err(|error| StateError(error.to_string()))?;
            if !key.starts_with(prefix) {
                return Ok(None);
            }
            if after.is_some_and(|after| *key == *after) {
                continue;
            }
            return Ok(Some((key.to_vec(), value.to_vec())));
        }
        Ok(None)
    }
}

/// Compiled contracts, cached in the `artifacts` column.
impl salus_runtime::wasm::ArtifactStore for Store {
    fn load(&self, code_hash: &Hash, compatibility: &Hash) -> Option<Vec<u8>> {
        let key = [code_hash.0, compatibility.0].concat();
        self.get_raw(Column::Artifacts, &key).ok().flatten()
    }

    fn store(&self, code_hash: &Hash, compatibility: &Hash, artifact: &[u8]) {
        let key = [code_hash.0, compatibility.0].concat();
        // A cache write: if it fails, the artifact is rebuilt from the code next time.
        if let Err(error) = self.db.put_cf(self.cf(Column::Artifacts), key, artifact) {
            tracing::warn!(%error, "could not store a compiled contract artifact");
        }
    }
}

impl Store {
    /// How state-tree node reads were answered since the store was opened: from the node cache,
    /// or from RocksDB.
    pub fn node_cache_stats(&self) -> NodeCacheStats {
        self.nodes.stats()
    }

    /// Bytes held in memory by RocksDB now (the node cache's are in
    /// [`Store::node_cache_stats`]). A property RocksDB cannot report counts as zero.
    pub fn memory(&self) -> StoreMemory {
        let total_of = |property: &str| -> u64 {
            Column::ALL
                .iter()
                .filter_map(|column| {
                    self.db
                        .property_int_value_cf(self.cf(*column), property)
                        .ok()
                        .flatten()
                })
                .sum()
        };
        StoreMemory {
            memtables: total_of("rocksdb.cur-size-all-mem-tables"),
            table_readers: total_of("rocksdb.estimate-table-readers-mem"),
            block_cache: self
                .block_cache
                .as_ref()
                .map_or(0, |cache| cache.get_usage() as u64),
            block_cache_pinned: self
                .block_cache
                .as_ref()
                .map_or(0, |cache| cache.get_pinned_usage() as u64),
        }
    }
}

impl TreeNodeSource for Store {
    fn node_bytes(&self, hash: &Hash) -> Result<Option<Vec<u8>>, TreeError> {
        if let Some(bytes) = self.nodes.get(hash) {
            return Ok(Some(bytes));
        }
        let bytes = self
            .get_raw(Column::StateNodes, &hash.0)
            .map_err(|error| TreeError::Backend(error.to_string()))?;
        if let Some(bytes) = &bytes {
            self.nodes.insert_all([(*hash, bytes.clone())]);
        }
        Ok(bytes)
    }
}
