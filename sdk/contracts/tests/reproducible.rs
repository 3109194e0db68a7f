//! The contracts build reproducibly: the same source built again in another directory gives
//! byte-identical modules, so anyone can check that the code on chain is the code in the repo.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_second_build_elsewhere_gives_identical_code_hashes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let target = tempfile::tempdir().unwrap();
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root.join("contracts"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--workspace",
            "--locked",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", target.path())
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            [
                format!("--remap-path-prefix={}=/salus", root.display()),
                format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
            ]
            .join("\u{1f}"),
        )
        .env_remove("RUSTFLAGS")
        .status()
        .unwrap();
    assert!(status.success());
    let rebuilt = std::fs::read(
        target
            .path()
            .join("wasm32-unknown-unknown/release/counter.wasm"),
    )
    .unwrap();
    assert_eq!(
        salus_primitives::keccak256(&rebuilt),
        salus_primitives::keccak256(salus_contracts::COUNTER),
        "the counter contract did not build reproducibly"
    );
}

#[test]
fn sizes_are_reported_and_within_the_deploy_limit() {
    println!("{}", salus_contracts::SIZE_REPORT);
    assert!(salus_contracts::SIZE_REPORT.contains("counter"));
    assert!(salus_contracts::COUNTER.len() < 256 * 1024);
    assert_eq!(&salus_contracts::COUNTER[..4], b"\0asm");
}
