//! The workspace's crates and the contracts' have no module cycles: the check that fails the
//! test suite when one comes back (what counts as a cycle is in the crate's documentation).

use std::path::{Path, PathBuf};

fn repository_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_crate_of_the_workspace_has_a_cycle_between_sibling_modules() {
    let workspace_dir = repository_dir();
    let report = salus_module_cycles::check_workspace(&workspace_dir)
        .unwrap_or_else(|error| panic!("the workspace cannot be read: {error}"));
    for package in [
        "salus-runtime",
        "salus-node",
        "salus-primitives",
        "salus-client",
    ] {
        assert!(
            report.crates.iter().any(|krate| krate.package == package),
            "{package} was not checked"
        );
    }
    assert!(report.cycles.is_empty(), "{report}");
}

/// The contracts are a workspace of their own (`contracts/Cargo.toml`, built for wasm32 by
/// `salus-contracts`), which the main workspace's check does not see.
#[test]
fn no_contract_has_a_cycle_between_sibling_modules() {
    let contracts_dir = repository_dir().join("contracts");
    let report = salus_module_cycles::check_workspace(&contracts_dir)
        .unwrap_or_else(|error| panic!("the contracts' workspace cannot be read: {error}"));
    // Every contract crate on disk is checked (`contracts/*/` and `contracts/examples/*/`), not
    // only those the workspace's manifest lists.
    let mut package_dirs = Vec::new();
    for parent in [contracts_dir.clone(), contracts_dir.join("examples")] {
        let entries = std::fs::read_dir(&parent)
            .unwrap_or_else(|error| panic!("{}: {error}", parent.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.join("Cargo.toml").is_file() {
                package_dirs.push(
                    path.strip_prefix(&contracts_dir)
                        .expect("under contracts/")
                        .to_path_buf(),
                );
            }
        }
    }
    for package in ["coverage", "supply", "consent", "registry"] {
        assert!(
            package_dirs.contains(&PathBuf::from(package)),
            "contracts/{package} was not found"
        );
    }
    for package_dir in &package_dirs {
        assert!(
            report
                .crates
                .iter()
                .any(|krate| krate.root_file.starts_with(package_dir)),
            "contracts/{} was not checked (is it a member of contracts/Cargo.toml?)",
            package_dir.display()
        );
    }
    assert!(report.cycles.is_empty(), "{report}");
}

#[test]
fn one_package_is_checked_on_its_own() {
    let package_dir = repository_dir().join("contracts/coverage");
    let report = salus_module_cycles::check_workspace(&package_dir)
        .unwrap_or_else(|error| panic!("contracts/coverage cannot be read: {error}"));
    assert_eq!(
        report
            .crates
            .iter()
            .map(|krate| (krate.package.as_str(), krate.root_file.as_path()))
            .collect::<Vec<_>>(),
        [("coverage", Path::new("src/lib.rs"))]
    );
}
