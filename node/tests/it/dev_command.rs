//! The `salus` binary as a user runs it: `salus dev` mines, restarts continue the chain, and
//! `verify-chain` accepts the result.

use std::process::Command;

fn salus(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn dev_chain_mines_restarts_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let data_dir = data_dir.to_str().unwrap();

    let first = salus(&[
        "dev",
        "--data-dir",
        data_dir,
        "--block-time-ms",
        "0",
        "--blocks",
        "3",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        "{stdout}"
    );
    assert!(stdout.contains("Stopped at block 3"), "{stdout}");

    let second = salus(&[
        "dev",
        "--data-dir",
        data_dir,
        "--block-time-ms",
        "0",
        "--blocks",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("Head: block 3"), "{stdout}");
    assert!(stdout.contains("Stopped at block 5"), "{stdout}");

    let verify = salus(&["verify-chain", "--data-dir", data_dir]);
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(stdout.contains("chain ok: 6 blocks"), "{stdout}");
}

#[test]
fn verify_chain_on_a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let output = salus(&["verify-chain", "--data-dir", missing.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nothing-here"), "{stderr}");
}
