//! The contracts build reproducibly: the same source, checked out in another directory and built
//! into another target directory, gives byte-identical modules, so anyone can check that the code
//! on chain is the code in the repository.

#[path = "../wasm_build.rs"]
mod wasm_build;

use std::path::{Path, PathBuf};

/// Every module embedded by `salus-contracts`, by crate name: the contracts, and the console's
/// key module the node serves to browsers (whoever checks what their browser runs can rebuild
/// it too).
const EMBEDDED: &[(&str, &[u8])] = &[
    ("counter", salus_contracts::COUNTER),
    ("registry", salus_contracts::REGISTRY),
    ("consent", salus_contracts::CONSENT),
    ("coverage", salus_contracts::COVERAGE),
    ("supply", salus_contracts::SUPPLY),
    ("console-keys", salus_contracts::CONSOLE_KEYS),
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

/// Two checkouts building into one target directory through the one fixed path: after a build
/// of another checkout whose files are newer (an older commit checked out later), this
/// checkout's build gives its own modules again, never the other's left in place.
#[test]
fn a_build_after_another_checkouts_build_is_of_this_checkouts_source() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let this = elsewhere.path().join("this");
    let other = elsewhere.path().join("other");
    copy_source_tree(&root, &this);
    copy_source_tree(&root, &other);
    let counter = other.join("contracts/examples/counter/src/lib.rs");
    let source = std::fs::read_to_string(&counter).unwrap();
    assert!(source.contains(r#"Value::new(b"count")"#));
    std::fs::write(
        &counter,
        source.replace(r#"Value::new(b"count")"#, r#"Value::new(b"kount")"#),
    )
    .unwrap();
    let target = elsewhere.path().join("target");
    let build = |checkout: &Path| {
        wasm_build::build_contracts(checkout, &target, &["counter"], true).unwrap();
        salus_primitives::keccak256(
            &std::fs::read(wasm_build::wasm_path(&target, "counter")).unwrap(),
        )
    };
    let embedded = salus_primitives::keccak256(salus_contracts::COUNTER);
    assert_eq!(build(&this), embedded);
    assert_ne!(
        build(&other),
        embedded,
        "the other checkout's counter differs"
    );
    assert_eq!(
        build(&this),
        embedded,
        "this checkout's build kept the other checkout's module"
    );
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
