//! Fuzzing oracles for Salus: one function per cargo-fuzz target (`fuzz/fuzz_targets/*.rs` call
//! them and nothing else), so that the same checks run under libFuzzer on nightly and, on the
//! stable toolchain, in the replay test of every corpus file and of deterministic mutations of
//! them (`tests/replay.rs`, part of the normal test suite).
//!
//! An oracle takes arbitrary bytes and returns normally for any input the code under test
//! handles as it should: a refusal is a typed error, never a panic. It panics only when an
//! invariant is broken (a decoded value that does not re-encode to the bytes it came from, an
//! answer that is not JSON-RPC, a module accepted by one check and refused by the next, an
//! execution that differs when repeated); libFuzzer reports that panic, with its input, as a
//! finding.
//!
//! The targets that link heavy dependencies sit behind features, so that the light ones build
//! quickly under the fuzzing toolchain: `runtime` (wasmtime) for `wasm_module`, `node`
//! (RocksDB, libp2p, wasmtime) for `peer_message` and `rpc_request`. Both are on by default.

pub mod abi_codec;
pub mod block;
pub mod mutate;
#[cfg(feature = "node")]
pub mod peer_message;
#[cfg(feature = "node")]
pub mod rpc_request;
pub mod transaction;
#[cfg(feature = "runtime")]
pub mod wasm_module;

pub use abi_codec::abi_codec;
pub use block::block;
#[cfg(feature = "node")]
pub use peer_message::peer_message;
#[cfg(feature = "node")]
pub use rpc_request::rpc_request;
pub use transaction::transaction;
#[cfg(feature = "runtime")]
pub use wasm_module::wasm_module;

use std::path::{Path, PathBuf};

/// A fuzz target: the name of its cargo-fuzz binary and of its corpus folder, its oracle, and
/// the tokens of its libFuzzer dictionary (also used by the replay's mutations).
#[derive(Clone, Copy)]
pub struct Target {
    /// `fuzz/fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`, `fuzz/dictionaries/<name>.dict`.
    pub name: &'static str,
    /// Checks one input; panics on a broken invariant.
    pub oracle: fn(&[u8]),
    /// Tokens worth splicing into inputs (method names, JSON punctuation, type names).
    pub dictionary: &'static [&'static str],
    /// Mutations of the corpus the replay test runs (bounded so the whole replay takes seconds).
    pub replay_mutations: usize,
}

/// Every target this build has (all of them with the default features).
pub fn targets() -> Vec<Target> {
    // Grown only by the heavy features.
    #[cfg_attr(not(feature = "runtime"), allow(unused_mut))]
    let mut targets = vec![
        Target {
            name: "transaction",
            oracle: transaction,
            dictionary: &[],
            replay_mutations: 3_000,
        },
        Target {
            name: "block",
            oracle: block,
            dictionary: &[],
            replay_mutations: 2_000,
        },
        Target {
            name: "abi_codec",
            oracle: abi_codec,
            dictionary: abi_codec::DICTIONARY,
            replay_mutations: 5_000,
        },
    ];
    #[cfg(feature = "runtime")]
    targets.push(Target {
        name: "wasm_module",
        oracle: wasm_module,
        dictionary: &[],
        replay_mutations: 300,
    });
    #[cfg(feature = "node")]
    targets.extend([
        Target {
            name: "peer_message",
            oracle: peer_message,
            dictionary: &[],
            replay_mutations: 3_000,
        },
        Target {
            name: "rpc_request",
            oracle: rpc_request,
            dictionary: rpc_request::DICTIONARY,
            replay_mutations: 1_500,
        },
    ]);
    targets
}

/// The target called `name`, if this build has it.
pub fn target(name: &str) -> Option<Target> {
    targets().into_iter().find(|target| target.name == name)
}

/// The repository's `fuzz/` folder (this crate lives in `fuzz/oracles`).
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The seed corpus of a target: `fuzz/corpus/<name>/`.
pub fn corpus_dir(name: &str) -> PathBuf {
    fuzz_dir().join("corpus").join(name)
}

/// The files of a target's seed corpus, in name order (so that replays are reproducible).
///
/// # Errors
/// An I/O error if the folder cannot be read.
pub fn corpus(name: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(corpus_dir(name))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            files.push((file_name, std::fs::read(entry.path())?));
        }
    }
    files.sort();
    Ok(files)
}

/// A libFuzzer dictionary file for `tokens` (`"…"` per line, bytes outside printable ASCII
/// escaped as `\xNN`).
pub fn dictionary_file(tokens: &[&str]) -> String {
    let mut out = String::new();
    for token in tokens {
        out.push('"');
        for byte in token.bytes() {
            match byte {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(byte));
                }
                0x20..=0x7e => out.push(char::from(byte)),
                _ => out.push_str(&format!("\\x{byte:02X}")),
            }
        }
        out.push_str("\"\n");
    }
    out
}
