//! `salus verify-chain`: re-checks every stored block of a data directory and the head state,
//! naming the first block that fails.

use std::path::Path;

use anyhow::{Context, bail};

use crate::{Store, verify};

/// Verifies the chain in `data_dir` (opened read-only) and prints what was checked.
///
/// # Errors
/// The first failure, or a database that cannot be opened.
pub fn run(data_dir: &Path) -> anyhow::Result<()> {
    let store = Store::open_read_only(data_dir)
        .with_context(|| format!("opening {}", data_dir.display()))?;
    // Re-execution runs contracts: on a thread with the stack they may need.
    let verified =
        salus_runtime::native_stack::spawn("verify-chain", move || verify::verify_chain(&store))?
            .join()
            .map_err(|_| anyhow::anyhow!("verify-chain panicked"))?;
    match verified {
        Ok(report) => {
            println!(
                "chain ok: {} blocks, {} transactions re-executed, {} state entries match the state root, {} stored entries read with their checksums; head {}",
                report.blocks,
                report.transactions,
                report.state_entries,
                report.stored_entries,
                report.head
            );
            Ok(())
        }
        Err(error) => bail!("verify-chain: {error}"),
    }
}
