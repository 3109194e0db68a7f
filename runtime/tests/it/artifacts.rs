//! Compiled artifacts cannot be swapped (issue 19): native code cached in the artifact store
//! runs only if its MAC under the node's artifact key verifies for that code; a swapped, forged
//! or altered artifact is recompiled from the on-chain Wasm, never executed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use salus_primitives::{Address, Hash, keccak256};
use salus_runtime::Vm;
use salus_runtime::wasm::{ArtifactKey, ArtifactStore};

use crate::harness::Harness;
use crate::modules::module;

/// An artifact store an attacker can write, which counts what the VM stores (a store after a
/// load means the VM recompiled).
#[derive(Default)]
struct WritableArtifacts {
    artifacts: Mutex<HashMap<(Hash, Hash), Vec<u8>>>,
    stores: Mutex<usize>,
}

impl ArtifactStore for WritableArtifacts {
    fn load(&self, code_hash: &Hash, compatibility: &Hash) -> Option<Vec<u8>> {
        self.artifacts
            .lock()
            .unwrap()
            .get(&(*code_hash, *compatibility))
            .cloned()
    }
    fn store(&self, code_hash: &Hash, compatibility: &Hash, artifact: &[u8]) {
        *self.stores.lock().unwrap() += 1;
        self.artifacts
            .lock()
            .unwrap()
            .insert((*code_hash, *compatibility), artifact.to_vec());
    }
}

impl WritableArtifacts {
    fn stores(&self) -> usize {
        *self.stores.lock().unwrap()
    }
    fn get(&self, code_hash: Hash, compatibility: Hash) -> Vec<u8> {
        self.load(&code_hash, &compatibility).expect("stored")
    }
    fn put(&self, code_hash: Hash, compatibility: Hash, artifact: Vec<u8>) {
        self.artifacts
            .lock()
            .unwrap()
            .insert((code_hash, compatibility), artifact);
    }
}

/// A contract that returns `letter`.
fn returning(letter: char) -> String {
    module(&format!(
        r#"(data (i32.const 0) "{letter}") (func (export "call") (call $set_return (i32.const 0) (i32.const 1)))"#
    ))
}

const KEY: ArtifactKey = ArtifactKey([7; 32]);

/// Calls `contract` on a VM that has nothing in memory, reading artifacts from `store`.
fn fresh_call(
    harness: &mut Harness,
    store: &Arc<WritableArtifacts>,
    key: ArtifactKey,
    contract: Address,
) -> Vec<u8> {
    harness.vm = Vm::new(store.clone(), key).unwrap();
    let outcome = harness.call(contract, Vec::new());
    assert!(outcome.status.is_success(), "{:?}", outcome.status);
    outcome.return_data
}

#[test]
fn a_swapped_forged_or_altered_artifact_is_recompiled_never_executed() {
    let store = Arc::new(WritableArtifacts::default());
    let mut harness = Harness::new();
    harness.vm = Vm::new(store.clone(), KEY).unwrap();
    let compatibility = harness.vm.compatibility_hash();
    let (code_a, code_b) = (
        crate::harness::wasm(&returning('A')),
        crate::harness::wasm(&returning('B')),
    );
    let (hash_a, hash_b) = (keccak256(&code_a), keccak256(&code_b));
    let a = harness.deploy(&returning('A'), 1);
    let b = harness.deploy(&returning('B'), 2);
    assert_eq!(store.stores(), 2);

    // An authentic artifact is used as it is: nothing is recompiled.
    assert_eq!(fresh_call(&mut harness, &store, KEY, b), b"B");
    assert_eq!(store.stores(), 2);

    // Swapped: A's authentic artifact stored as B's. B runs B's code, recompiled.
    store.put(hash_b, compatibility, store.get(hash_a, compatibility));
    assert_eq!(fresh_call(&mut harness, &store, KEY, b), b"B");
    assert_eq!(store.stores(), 3);

    // Forged by someone who knows the format but not the key: A's body under the unkeyed
    // keccak256 the cache used to carry.
    let artifact_a = store.get(hash_a, compatibility);
    let mut forged = keccak256(&artifact_a[32..]).0.to_vec();
    forged.extend_from_slice(&artifact_a[32..]);
    store.put(hash_b, compatibility, forged);
    assert_eq!(fresh_call(&mut harness, &store, KEY, b), b"B");
    assert_eq!(store.stores(), 4);

    // Altered: one byte of B's native code flipped.
    let mut altered = store.get(hash_b, compatibility);
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    store.put(hash_b, compatibility, altered);
    assert_eq!(fresh_call(&mut harness, &store, KEY, b), b"B");
    assert_eq!(store.stores(), 5);

    // A node with another key trusts none of these artifacts.
    assert_eq!(
        fresh_call(&mut harness, &store, ArtifactKey([8; 32]), a),
        b"A"
    );
    assert_eq!(store.stores(), 6);
}
