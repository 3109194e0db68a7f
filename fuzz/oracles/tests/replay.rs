//! Every fuzz target, briefly, on the stable toolchain: each file of its seed corpus
//! (`fuzz/corpus/<target>/`, regressions included), then a fixed number of deterministic
//! mutations of them (`salus_fuzz::mutate`), through the same oracle the cargo-fuzz target
//! calls. CI cannot afford an instrumented nightly build of wasmtime and RocksDB; this keeps
//! every oracle and every past finding checked on each run, in a few seconds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use salus_fuzz::mutate::{Rng, mutate};

/// Panics raised on any thread (a node task included) since the process started.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts every panic, on whatever thread, before the default hook reports it: a panic in a
/// node task does not unwind into the test. (Installed once per process.)
fn count_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default_hook(info);
        }));
    });
}

/// Runs the corpus and the mutations of `name` through its oracle; on a broken invariant,
/// fails naming the input (hex) and how it was made.
fn replay(name: &str) {
    count_panics();
    let target = salus_fuzz::target(name).unwrap_or_else(|| panic!("no target {name}"));
    let corpus = salus_fuzz::corpus(name)
        .unwrap_or_else(|error| panic!("the corpus of {name} does not read: {error}"));
    assert!(!corpus.is_empty(), "the corpus of {name} is empty");
    let check = |origin: &str, input: &[u8]| {
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.oracle)(input)));
        let panics = PANICS.load(Ordering::SeqCst);
        if outcome.is_err() || panics > 0 {
            panic!(
                "{name}: {origin} broke an invariant ({panics} panic(s)); input (hex): {}",
                hex::encode(input)
            );
        }
    };
    for (file, input) in &corpus {
        check(&format!("corpus file {file}"), input);
    }
    let files: Vec<Vec<u8>> = corpus.into_iter().map(|(_, input)| input).collect();
    let mut rng = Rng::for_name(name);
    for mutation in 0..target.replay_mutations {
        let base = rng.below(files.len());
        let input = mutate(&mut rng, &files[base], &files, target.dictionary);
        check(&format!("mutation {mutation} of seed {base}"), &input);
    }
}

#[test]
fn transaction_corpus_and_mutations_hold() {
    replay("transaction");
}

#[test]
fn block_corpus_and_mutations_hold() {
    replay("block");
}

#[test]
fn abi_codec_corpus_and_mutations_hold() {
    replay("abi_codec");
}

#[test]
fn wasm_module_corpus_and_mutations_hold() {
    replay("wasm_module");
}

#[test]
fn peer_message_corpus_and_mutations_hold() {
    replay("peer_message");
}

#[test]
fn rpc_request_corpus_and_mutations_hold() {
    replay("rpc_request");
}

#[test]
fn every_target_has_a_test_a_fuzz_binary_and_a_dictionary_file_if_it_has_tokens() {
    let source = include_str!("replay.rs");
    for target in salus_fuzz::targets() {
        let name = target.name;
        assert!(
            source.contains(&format!("replay(\"{name}\")")),
            "no replay test for {name}"
        );
        let binary = salus_fuzz::fuzz_dir().join(format!("fuzz_targets/{name}.rs"));
        assert!(binary.exists(), "no cargo-fuzz target {}", binary.display());
        let dictionary = salus_fuzz::fuzz_dir().join(format!("dictionaries/{name}.dict"));
        if target.dictionary.is_empty() {
            assert!(
                !dictionary.exists(),
                "{} has no tokens",
                dictionary.display()
            );
        } else {
            let written = std::fs::read_to_string(&dictionary).unwrap_or_default();
            assert_eq!(
                written,
                salus_fuzz::dictionary_file(target.dictionary),
                "{} is not up to date: run the corpus generator",
                dictionary.display()
            );
        }
    }
}
