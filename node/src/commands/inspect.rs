//! `salus inspect dump`: writes every entry of a data directory's database, raw (see
//! [`crate::inspect`]), to a file or stdout, with a summary per column family on stderr.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use crate::Store;

/// Dumps the database in `data_dir` (opened read-only) to `out`, or stdout.
///
/// # Errors
/// A database that cannot be opened or read, or output that cannot be written.
pub fn dump(data_dir: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let store = Store::open_read_only(data_dir)
        .with_context(|| format!("opening {}", data_dir.display()))?;
    let mut output: Box<dyn Write> = match out {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let report = crate::inspect::dump(&store, &mut output)?;
    for (column, entries, bytes) in &report.columns {
        eprintln!("{column}: {entries} entries, {bytes} bytes");
    }
    eprintln!("{} entries in all", report.entries());
    Ok(())
}
