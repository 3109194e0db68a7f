//! The RocksDB column families and what each holds.

/// A column family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Block hash → SCALE `BlockHeader`.
    Headers,
    /// Block hash → SCALE `BlockMeta` (total work, validation status).
    BlockMeta,
    /// Block hash → SCALE `Vec<SignedTransaction>`.
    Bodies,
    /// Big-endian block number → canonical block hash.
    Canonical,
    /// Transaction hash → (block hash, index) for canonical blocks.
    TransactionIndex,
    /// Block hash → SCALE `Vec<Receipt>`, once executed.
    Receipts,
    /// Flat state key → value: the state at the canonical head.
    State,
    /// Node hash → SCALE `TreeNode`: the authenticated state tree, every version.
    StateNodes,
    /// Block hash → SCALE `StateChanges` (values before and after): undo and redo data.
    Undo,
    /// Metadata: schema version, genesis hash, head.
    Meta,
    /// (code hash ‖ engine compatibility hash) → compiled contract artifact. A cache: never
    /// part of consensus, rebuilt from the code on chain when missing.
    Artifacts,
    /// contract ‖ block number ‖ transaction index ‖ event index (big-endian) →
    /// SCALE (transaction hash, `Event`): the events of canonical blocks by contract, so that
    /// audit trails are range queries.
    Events,
}

impl Column {
    /// Every column, in the order they are opened.
    pub const ALL: [Column; 12] = [
        Column::Headers,
        Column::BlockMeta,
        Column::Bodies,
        Column::Canonical,
        Column::TransactionIndex,
        Column::Receipts,
        Column::State,
        Column::StateNodes,
        Column::Undo,
        Column::Meta,
        Column::Artifacts,
        Column::Events,
    ];

    /// The column family's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Column::Headers => "headers",
            Column::BlockMeta => "block_meta",
            Column::Bodies => "bodies",
            Column::Canonical => "canonical",
            Column::TransactionIndex => "transaction_index",
            Column::Receipts => "receipts",
            Column::State => "state",
            Column::StateNodes => "state_nodes",
            Column::Undo => "undo",
            Column::Meta => "meta",
            Column::Artifacts => "artifacts",
            Column::Events => "events",
        }
    }
}
