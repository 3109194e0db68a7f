//! Builds the contracts workspace (contracts/) for wasm32-unknown-unknown with its own target
//! directory, reproducibly (paths remapped, one codegen unit, no debug info), and generates
//! `contracts.rs` embedding each module, its code hash and a size report.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Contracts embedded, as (constant name, crate name).
const CONTRACTS: &[(&str, &str)] = &[
    ("COUNTER", "counter"),
    ("REGISTRY", "registry"),
    ("CONSENT", "consent"),
    ("SUPPLY", "supply"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    for watched in [
        "contracts",
        "sdk/salus-sdk",
        "sdk/macros",
        "runtime/abi",
        "runtime/primitives",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let target_dir = contracts_target_dir(&out_dir);
    build_contracts(&root, &target_dir);

    let wasm_dir = target_dir.join("wasm32-unknown-unknown/release");
    let mut generated = String::new();
    let mut report = String::from("contract sizes (wasm32, release):\n");
    for (constant, crate_name) in CONTRACTS {
        let file = wasm_dir.join(format!("{crate_name}.wasm"));
        let bytes =
            std::fs::read(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let copy = out_dir.join(format!("{crate_name}.wasm"));
        std::fs::write(&copy, &bytes).expect("copy wasm");
        generated.push_str(&format!(
            "/// The `{crate_name}` contract, compiled for wasm32.\npub const {constant}: &[u8] = include_bytes!({:?});\n",
            copy.display().to_string()
        ));
        report.push_str(&format!("  {crate_name:<16} {:>8} bytes\n", bytes.len()));
    }
    generated.push_str(&format!(
        "/// Sizes of the compiled contracts.\npub const SIZE_REPORT: &str = {report:?};\n"
    ));
    std::fs::write(out_dir.join("contracts.rs"), generated).expect("write contracts.rs");
}

/// `<target>/salus-contracts`, beside the outer build's own profile directories, so the nested
/// build is incremental across builds and never waits on the outer build's lock.
fn contracts_target_dir(out_dir: &Path) -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("salus-contracts");
    }
    // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
    out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR has a target directory")
        .join("salus-contracts")
}

/// The command that builds the contracts workspace reproducibly into `target_dir`.
pub fn build_command(root: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut command = Command::new(cargo);
    command
        .current_dir(root.join("contracts"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--workspace",
            "--locked",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            [
                format!("--remap-path-prefix={}=/salus", root.display()),
                format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
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

fn build_contracts(root: &Path, target_dir: &Path) {
    let status = build_command(root, target_dir)
        .status()
        .expect("cannot run cargo for the contracts");
    if !status.success() {
        panic!(
            "building the contracts for wasm32-unknown-unknown failed (is the target installed? `rustup target add wasm32-unknown-unknown`)"
        );
    }
}
