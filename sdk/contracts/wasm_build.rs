//! How the contracts workspace is compiled to wasm32, shared by `build.rs` and the
//! reproducibility test so that the test checks the very command the build runs.
//!
//! Reproducible means: the same source gives byte-identical modules whatever directory it was
//! checked out in. Remapping path prefixes is not enough for that. Cargo derives each crate's
//! `-C metadata` hash from its source id, and for a path dependency outside the workspace root
//! (the SDK, the ABI and the primitives live in the main workspace) that id is the absolute path.
//! The hash feeds symbol names and therefore the layout LTO produces. So the build always runs
//! through one fixed path, a symlink to the checkout being built, held under a lock while cargo
//! runs (the same idea as the fixed `/code` mount of CosmWasm's optimizer and NEAR's
//! reproducible builds, without needing a container).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixed path every contract build goes through: a symlink to the checkout being built. It
/// must be the same on every machine, so it is a literal and not `TMPDIR`.
pub const FIXED_SOURCE_PATH: &str = "/tmp/salus-contract-build/source";

/// What `FIXED_SOURCE_PATH` and the cargo home are rewritten to in anything the compiler embeds.
const REMAPPED_SOURCE: &str = "/salus";
const REMAPPED_CARGO_HOME: &str = "/cargo";

/// Builds the contract crates `crates` of the checkout at `root`'s contracts workspace, each into
/// its own wasm32-unknown-unknown module in `target_dir`. Concurrent builds from different
/// checkouts wait for each other on a lock.
///
/// One cargo invocation per contract: a contract that calls another depends on its crate as a
/// library, without the `entry-points` feature (its `deploy` and `call` exports and ABI section),
/// and cargo unifies the features of the packages one invocation builds — built together, the
/// callee would lose its exports or the caller gain the callee's. And the crates are libraries
/// (`rlib`); each is linked into a Wasm module (`--crate-type cdylib`) only when it is the crate
/// being built, never when it is another's dependency.
pub fn build_contracts(
    root: &Path,
    target_dir: &Path,
    crates: &[&str],
    quiet: bool,
) -> Result<(), String> {
    let fixed = Path::new(FIXED_SOURCE_PATH);
    let parent = fixed.parent().expect("the fixed path has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    let lock_path = parent.join("lock");
    let lock = File::create(&lock_path)
        .map_err(|error| format!("cannot open {}: {error}", lock_path.display()))?;
    lock.lock()
        .map_err(|error| format!("cannot lock {}: {error}", lock_path.display()))?;
    point_fixed_path_at(fixed, root)?;
    forget_other_checkouts_builds(target_dir, root)?;

    for crate_name in crates {
        let mut command = build_command(root, target_dir, crate_name);
        if quiet {
            command.arg("--quiet");
        }
        let status = command
            .status()
            .map_err(|error| format!("cannot run cargo for the contracts: {error}"))?;
        if !status.success() {
            return Err(format!(
                "building the {crate_name} contract for wasm32-unknown-unknown failed ({status}); is the target installed? `rustup target add wasm32-unknown-unknown`"
            ));
        }
    }
    drop(lock);
    Ok(())
}

/// Makes the next build start afresh when the last one was of another checkout. Every checkout
/// builds through the one fixed path, and cargo judges freshness by modification times: after a
/// build of checkout B (an older commit, checked out later, so newer files), checkout A's
/// unchanged sources look older than B's outputs, and cargo would keep B's modules for A — a
/// node or a test of A running B's contracts. The checkout last built is recorded beside the
/// outputs; when it changes, cargo's fingerprints go, and everything is compiled for this one.
fn forget_other_checkouts_builds(target_dir: &Path, root: &Path) -> Result<(), String> {
    let record = target_dir.join("built-from");
    let root_text = root.display().to_string();
    if std::fs::read_to_string(&record).is_ok_and(|last| last == root_text) {
        return Ok(());
    }
    let fingerprints = target_dir.join("wasm32-unknown-unknown/release/.fingerprint");
    match std::fs::remove_dir_all(&fingerprints) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("cannot remove {}: {error}", fingerprints.display())),
    }
    std::fs::create_dir_all(target_dir)
        .map_err(|error| format!("cannot create {}: {error}", target_dir.display()))?;
    std::fs::write(&record, root_text)
        .map_err(|error| format!("cannot write {}: {error}", record.display()))
}

/// Where the module of the contract crate `crate_name` lands after `build_contracts`.
pub fn wasm_path(target_dir: &Path, crate_name: &str) -> PathBuf {
    target_dir
        .join("wasm32-unknown-unknown/release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// Replaces the symlink at `fixed` by one to `root`, atomically (a new link renamed over it).
fn point_fixed_path_at(fixed: &Path, root: &Path) -> Result<(), String> {
    if std::fs::read_link(fixed).is_ok_and(|current| current == root) {
        return Ok(());
    }
    if fixed.exists() && std::fs::symlink_metadata(fixed).is_ok_and(|meta| !meta.is_symlink()) {
        return Err(format!(
            "{} exists and is not a symlink; remove it so contract builds can use it",
            fixed.display()
        ));
    }
    let staged = fixed.with_extension(format!("new-{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(root, &staged)
        .map_err(|error| format!("cannot create {}: {error}", staged.display()))?;
    std::fs::rename(&staged, fixed)
        .map_err(|error| format!("cannot replace {}: {error}", fixed.display()))
}

/// The cargo invocation that links `crate_name` into a Wasm module, through the fixed path, with
/// paths remapped and the caller's flags that would change the output removed.
fn build_command(root: &Path, target_dir: &Path, crate_name: &str) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let manifest = Path::new(FIXED_SOURCE_PATH).join("contracts/Cargo.toml");
    let mut command = Command::new(cargo);
    command
        // Cargo keeps the manifest path as given (it does not resolve the symlink), so every
        // path it derives, and every metadata hash, starts with the fixed path.
        .current_dir(root.join("contracts"))
        .arg("rustc")
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "--package",
            crate_name,
            "--lib",
            "--crate-type",
            "cdylib",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--locked",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            [
                format!("--remap-path-prefix={FIXED_SOURCE_PATH}={REMAPPED_SOURCE}"),
                format!(
                    "--remap-path-prefix={}={REMAPPED_CARGO_HOME}",
                    cargo_home.display()
                ),
            ]
            .join("\u{1f}"),
        );
    for inherited in [
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        command.env_remove(inherited);
    }
    command
}
