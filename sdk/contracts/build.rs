//! Builds each contract of the contracts workspace (contracts/) into a wasm32-unknown-unknown
//! module with its own target directory, reproducibly (see `wasm_build.rs`), and generates
//! `contracts.rs` embedding each module and a size report.

#[path = "wasm_build.rs"]
mod wasm_build;

use std::path::{Path, PathBuf};

/// Contracts embedded, as (constant name, crate name).
const CONTRACTS: &[(&str, &str)] = &[
    ("COUNTER", "counter"),
    ("REGISTRY", "registry"),
    ("CONSENT", "consent"),
    ("COVERAGE", "coverage"),
    ("SUPPLY", "supply"),
];

/// Modules that are not contracts, built the same way: the console's key module, which the
/// node serves to browsers (`node/src/service/console/keys.rs`).
const BROWSER_MODULES: &[(&str, &str)] = &[("CONSOLE_KEYS", "console-keys")];

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
        "sdk/seal",
        "runtime/abi",
        "runtime/primitives",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let target_dir = contracts_target_dir(&out_dir);
    println!("cargo:rerun-if-changed=wasm_build.rs");
    let crates: Vec<&str> = CONTRACTS
        .iter()
        .chain(BROWSER_MODULES)
        .map(|(_, crate_name)| *crate_name)
        .collect();
    if let Err(error) = wasm_build::build_contracts(&root, &target_dir, &crates, false) {
        panic!("{error}");
    }

    let mut generated = String::new();
    let mut report = String::from("contract sizes (wasm32, release):\n");
    for (constant, crate_name) in CONTRACTS.iter().chain(BROWSER_MODULES) {
        let file = wasm_build::wasm_path(&target_dir, crate_name);
        let bytes =
            std::fs::read(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let copy = out_dir.join(format!("{crate_name}.wasm"));
        let what = if BROWSER_MODULES.iter().any(|(_, name)| name == crate_name) {
            "module (not a contract)"
        } else {
            "contract"
        };
        std::fs::write(&copy, &bytes).expect("copy wasm");
        generated.push_str(&format!(
            "/// The `{crate_name}` {what}, compiled for wasm32.\npub const {constant}: &[u8] = include_bytes!({:?});\n",
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
