//! The contracts build reproducibly: the same source, checked out in another directory and built
//! into another target directory, gives byte-identical modules, so anyone can check that the code
//! on chain is the code in the repository.

#[path = "../wasm_build.rs"]
mod wasm_build;

use std::path::{Path, PathBuf};

/// Every contract embedded by `salus-contracts`, by crate name.
const EMBEDDED: &[(&str, &[u8])] = &[
    ("counter", salus_contracts::COUNTER),
    ("registry", salus_contracts::REGISTRY),
    ("consent", salus_contracts::CONSENT),
    ("coverage", salus_contracts::COVERAGE),
    ("supply", salus_contracts::SUPPLY),
];

#[test]
fn a_copy_of_the_source_in_another_directory_builds_identical_code_hashes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("another/checkout/of/salus");
    copy_source_tree(&root, &copy);
    let target = elsewhere.path().join("target");

    let crates: Vec<&str> = EMBEDDED.iter().map(|(crate_name, _)| *crate_name).collect();
    wasm_build::build_contracts(&copy, &target, &crates, true).unwrap();

    for (crate_name, embedded) in EMBEDDED {
        let rebuilt = std::fs::read(wasm_build::wasm_path(&target, crate_name)).unwrap();
        assert_eq!(
            salus_primitives::keccak256(&rebuilt),
            salus_primitives::keccak256(embedded),
            "the {crate_name} contract built from {} differs from the one built from {}",
            copy.display(),
            root.display()
        );
    }
}

/// Copies the checkout at `from` to `to`, leaving out version control and build output.
fn copy_source_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".git" || name == "target" {
            continue;
        }
        let file_type = entry.file_type().unwrap();
        if file_type.is_dir() {
            copy_source_tree(&entry.path(), &to.join(&name));
        } else if file_type.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

#[test]
fn sizes_are_reported_and_within_the_deploy_limit() {
    println!("{}", salus_contracts::SIZE_REPORT);
    assert!(salus_contracts::SIZE_REPORT.contains("counter"));
    assert!(salus_contracts::COUNTER.len() < 256 * 1024);
    assert_eq!(&salus_contracts::COUNTER[..4], b"\0asm");
}
