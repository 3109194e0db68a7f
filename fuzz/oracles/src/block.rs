//! The `block` target: SCALE decoding of a block as gossip and `salus import-blocks` receive it,
//! then what import computes from an untrusted block before it can judge it: the header hash,
//! the proof-of-work target and work of its bits, the transactions root, and the difficulty
//! schedule fed with its number and timestamp.

use parity_scale_codec::{Decode, Encode};
use salus_primitives::block::{HEADER_ENCODED_LEN, transactions_root};
use salus_primitives::pow::{AsertAnchor, asert_next_target, hash_meets_target, leading_zero_bits};
use salus_primitives::{Block, BlockHeader, CompactTarget, keccak256};

/// Decodes `data` as a [`Block`], and as a list of blocks (the `import-blocks` file format).
///
/// Invariants: decoding never panics; a decoded block re-encodes to exactly its bytes; its
/// header is the first [`HEADER_ENCODED_LEN`] of them and its hash is their keccak256; each
/// transaction passes the `transaction` target's checks; the transactions root, target, work
/// and next difficulty are results, never panics.
pub fn block(data: &[u8]) {
    let mut input = data;
    if let Ok(block) = Block::decode(&mut input) {
        let consumed = &data[..data.len() - input.len()];
        check_decoded(&block, consumed);
    }
    let mut input = data;
    if let Ok(blocks) = Vec::<Block>::decode(&mut input) {
        let consumed = &data[..data.len() - input.len()];
        assert_eq!(
            blocks.encode(),
            consumed,
            "a list of blocks re-encodes to other bytes than it was decoded from"
        );
    }
}

fn check_decoded(block: &Block, consumed: &[u8]) {
    assert_eq!(
        block.encode(),
        consumed,
        "a block re-encodes to other bytes than it was decoded from"
    );
    let header_bytes = &consumed[..HEADER_ENCODED_LEN];
    assert_eq!(block.hash(), keccak256(header_bytes));
    assert_eq!(
        BlockHeader::decode(&mut &header_bytes[..]).as_ref(),
        Ok(&block.header)
    );

    let mut offset = HEADER_ENCODED_LEN;
    // The compact length prefix of the transaction list.
    offset += parity_scale_codec::Compact(block.transactions.len() as u32).encoded_size();
    for transaction in &block.transactions {
        let length = transaction.encoded_size();
        crate::transaction::check_decoded(transaction, &consumed[offset..offset + length]);
        offset += length;
    }
    assert_eq!(offset, consumed.len());

    let root = transactions_root(&block.transactions);
    assert_eq!(root, transactions_root(&block.transactions));
    let _ = root == block.header.transactions_root;

    check_bits(block.header.bits, &block.hash());
    let anchor = AsertAnchor {
        number: 0,
        parent_timestamp_ms: 1_767_225_600_000 - 1_000,
        target: block.header.bits,
    };
    let _ = asert_next_target(
        &anchor,
        block.header.number,
        block.header.timestamp_ms,
        1_000,
        3_600_000,
        CompactTarget(0x2000_ffff),
    );
}

fn check_bits(bits: CompactTarget, hash: &salus_primitives::Hash) {
    let _ = leading_zero_bits(hash);
    let Ok(target) = bits.to_target() else {
        assert!(bits.work().is_err(), "work of bits without a target");
        return;
    };
    let _ = hash_meets_target(hash, &target);
    let work = bits.work();
    assert!(work.is_ok(), "bits with a target have no work");
    let _ = CompactTarget::from_target(target).to_target();
}
