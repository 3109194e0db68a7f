//! Crash safety: a `salus import-blocks` process killed with SIGKILL at random moments, twenty
//! times, never leaves a partial block, and verify-chain passes after every restart.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use parity_scale_codec::Encode;
use salus_node::storage::BlockStatus;
use salus_node::{Chain, Store};
use salus_primitives::{Address, Block};

use crate::support::*;

/// A small deterministic generator, so that a failing run can be repeated exactly.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mine_with_transfers(producer: &mut TestChain, count: usize, sender_index: u32) -> Vec<Block> {
    let sender = dev_key(sender_index);
    (0..count)
        .map(|i| {
            let nonce = producer.chain.account(&sender.address()).unwrap().nonce;
            producer.mine(
                dev_key(0).address(),
                &[transfer(&sender, nonce, Address([i as u8; 20]), 1)],
            )
        })
        .collect()
}

/// Every stored block is whole: header and body, and for executed blocks receipts and undo
/// data. The canonical chain and state are then checked by verify-chain.
fn assert_no_partial_block(chain: &Chain) {
    let store = chain.store();
    for (hash, meta) in store.all_block_metas().unwrap() {
        if let BlockStatus::Invalid(reason) = &meta.status {
            panic!("block {hash} marked invalid: {reason}");
        }
        assert!(
            store.header(&hash).unwrap().is_some(),
            "header of {hash} missing"
        );
        assert!(
            store.body(&hash).unwrap().is_some(),
            "body of {hash} missing"
        );
        if meta.status == BlockStatus::Valid {
            assert!(
                store.receipts(&hash).unwrap().is_some(),
                "receipts of {hash} missing"
            );
            assert!(
                store.state_changes(&hash).unwrap().is_some(),
                "undo data of {hash} missing"
            );
        }
    }
    salus_node::verify::verify_chain(store).unwrap();
}

#[test]
fn sigkill_during_import_never_leaves_a_partial_block() {
    // Branch A: 12 blocks. Branch B forks after block 2 and grows to 32: importing the file in
    // order builds A, then — at B's 11th block — disconnects ten blocks and connects eleven in
    // one import, the longest stretch a kill can interrupt.
    let mut a = TestChain::new();
    let branch_a = mine_with_transfers(&mut a, 12, 1);
    let mut b = TestChain::new();
    for block in &branch_a[..2] {
        b.chain.import_block(block.clone(), now()).unwrap();
    }
    let branch_b = mine_with_transfers(&mut b, 30, 2);
    let mut all = branch_a.clone();
    all.extend(branch_b);

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("blocks.scale");
    std::fs::write(&file, all.encode()).unwrap();
    let genesis = dev_genesis();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);

    let mut data_dir = work.path().join("data");
    let mut resumed = 0;
    for round in 0..20 {
        // Even rounds start from an empty directory, odd rounds resume the previous one.
        if round % 2 == 0 {
            data_dir = work.path().join(format!("data-{round}"));
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
            .arg("import-blocks")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg(&file)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Let the child report a random number of imports, then kill it a random few hundred
        // microseconds later, usually in the middle of its next block.
        let lines_wanted = random.next() % all.len() as u64;
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..lines_wanted {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(random.next() % 1_500));
        child.kill().unwrap();
        child.wait().unwrap();

        let store = Store::open(&data_dir).unwrap();
        let head_on_disk = store.head_hash().unwrap();
        let chain = Chain::open(store, &genesis)
            .unwrap_or_else(|error| panic!("round {round}: reopen failed: {error}"));
        if head_on_disk.is_some_and(|hash| hash != chain.head().hash) {
            // The kill fell between storing a heavier block and moving the head to it (possibly in
            // the middle of a reorganisation); opening finished the move.
            resumed += 1;
        }
        assert_no_partial_block(&chain);
    }

    eprintln!("{resumed} of 20 kills left a heavier stored block for reopening to connect");

    // Finish the import: the result is exactly branch B.
    let status = Command::new(env!("CARGO_BIN_EXE_salus"))
        .arg("import-blocks")
        .arg("--data-dir")
        .arg(&data_dir)
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let chain = Chain::open(Store::open(&data_dir).unwrap(), &genesis).unwrap();
    assert_eq!(chain.head(), b.chain.head());
    assert_eq!(flat_state(&chain), flat_state(&b.chain));
    assert_no_partial_block(&chain);
}
