//! `salus import-blocks`: imports a file of SCALE-encoded blocks into a data directory,
//! printing one line per block; blocks already stored are skipped.

use std::path::Path;

use anyhow::Context;

use crate::{Chain, GenesisConfig, Store, wall_clock_ms};

/// Imports the blocks of `file` into the chain in `data_dir` (created if missing), on the
/// genesis of `genesis` (a JSON file) or the dev chain's.
///
/// # Errors
/// A file that cannot be read or decoded, a database that cannot be opened, a block refused.
pub fn run(data_dir: &Path, genesis: Option<&Path>, file: &Path) -> anyhow::Result<()> {
    use parity_scale_codec::Decode;
    use std::io::Write;
    let config = match genesis {
        Some(path) => GenesisConfig::load(path)?,
        None => GenesisConfig::dev(),
    };
    let genesis = config.build()?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let blocks = Vec::<salus_primitives::Block>::decode(&mut &bytes[..])
        .with_context(|| format!("{} is not a SCALE-encoded list of blocks", file.display()))?;
    std::fs::create_dir_all(data_dir)?;
    let store = Store::open(data_dir).with_context(|| format!("opening {}", data_dir.display()))?;
    let mut chain = Chain::open(store, &genesis)?;
    let mut stdout = std::io::stdout().lock();
    for block in blocks {
        let number = block.header.number;
        let outcome = chain
            .import_block(block, wall_clock_ms())
            .with_context(|| format!("importing block {number}"))?;
        writeln!(
            stdout,
            "block {number}: {outcome:?}; head {}",
            chain.head().header.number
        )?;
        stdout.flush()?;
    }
    Ok(())
}
