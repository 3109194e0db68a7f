//! `salus bench`: runs the load generator built beside `salus`, passing every argument on.

use anyhow::{Context, bail};

/// Runs the load generator beside this binary with `arguments` and exits with its status.
pub fn run_load_generator(arguments: &[String]) -> anyhow::Result<()> {
    let generator = std::env::current_exe()?.with_file_name("load-generator");
    if !generator.exists() {
        bail!(
            "{} not found: build it with `cargo build --release --bin load-generator`",
            generator.display()
        );
    }
    let status = std::process::Command::new(&generator)
        .args(arguments)
        .env("SALUS_BIN", std::env::current_exe()?)
        .status()
        .with_context(|| format!("running {}", generator.display()))?;
    std::process::exit(status.code().unwrap_or(1));
}
