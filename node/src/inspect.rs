//! `salus inspect dump`: every byte a node holds, written out raw for operators and auditors —
//! every entry of every column family (blocks, bodies, receipts, events, state, the state tree,
//! undo data, indexes, metadata, compiled-code cache), one JSON line each, key and value in hex,
//! uninterpreted. What a curious operator of any node can read is exactly this; the
//! re-identification test of PRIVACY.md searches it.

use std::io::Write;

use crate::storage::{Column, StorageError, Store};

/// Why a dump stopped.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The database could not be read.
    #[error("reading the database: {0}")]
    Storage(#[from] StorageError),
    /// The output could not be written.
    #[error("writing the dump: {0}")]
    Output(#[from] std::io::Error),
}

/// What a dump wrote: entries and value bytes per column family, in [`Column::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DumpReport {
    /// (column family, entries, bytes of keys and values).
    pub columns: Vec<(&'static str, u64, u64)>,
}

impl DumpReport {
    /// Entries written, every column family together.
    pub fn entries(&self) -> u64 {
        self.columns.iter().map(|(_, entries, _)| entries).sum()
    }
}

/// Writes every entry of every column family of `store` to `out`, one JSON object per line:
/// `{"column":"bodies","key":"0x…","value":"0x…"}`, column families in [`Column::ALL`] order,
/// keys in order within each.
///
/// # Errors
/// [`DumpError`]: the database could not be read or the output written.
pub fn dump(store: &Store, out: &mut impl Write) -> Result<DumpReport, DumpError> {
    let mut report = DumpReport::default();
    for column in Column::ALL {
        let (mut entries, mut bytes) = (0u64, 0u64);
        store.for_each_raw(column, |key, value| -> Result<(), DumpError> {
            writeln!(
                out,
                "{{\"column\":\"{}\",\"key\":\"0x{}\",\"value\":\"0x{}\"}}",
                column.name(),
                hex::encode(key),
                hex::encode(value)
            )?;
            entries += 1;
            bytes += (key.len() + value.len()) as u64;
            Ok(())
        })?;
        report.columns.push((column.name(), entries, bytes));
    }
    out.flush()?;
    Ok(report)
}
