//! Block headers and blocks. The block hash is keccak256 of the SCALE-encoded header.

use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

use crate::address::Address;
use crate::hash::{Hash, keccak256};
use crate::merkle::merkle_root;
use crate::pow::CompactTarget;
use crate::receipt::Receipt;
use crate::transaction::SignedTransaction;

/// A block header. `nonce` is the last field so that a miner rewrites only the final 8 bytes of
/// the encoding between hashes.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen)]
pub struct BlockHeader {
    /// Hash of the parent header; zero for genesis.
    pub parent_hash: Hash,
    /// Height; genesis is 0.
    pub number: u64,
    /// Milliseconds since the Unix epoch, as the miner claims it.
    pub timestamp_ms: u64,
    /// RFC 6962 root over the transaction hashes.
    pub transactions_root: Hash,
    /// RFC 6962 root over the hashes of the SCALE-encoded receipts.
    pub receipts_root: Hash,
    /// Root of the authenticated state tree after this block.
    pub state_root: Hash,
    /// Proof-of-work target in compact form.
    pub bits: CompactTarget,
    /// Receives the block reward and the fees.
    pub miner: Address,
    /// Proof-of-work nonce.
    pub nonce: u64,
}

/// Length of a SCALE-encoded header: every field is fixed-size.
pub const HEADER_ENCODED_LEN: usize = 32 + 8 + 8 + 32 + 32 + 32 + 4 + 20 + 8;

/// Offset of the little-endian nonce in the encoded header.
pub const HEADER_NONCE_OFFSET: usize = HEADER_ENCODED_LEN - 8;

impl BlockHeader {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        keccak256(&self.encode())
    }
}

/// A header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, executed in order.
    pub transactions: Vec<SignedTransaction>,
}

impl Block {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }
}

/// The transactions root of a list of transactions.
pub fn transactions_root(transactions: &[SignedTransaction]) -> Hash {
    let hashes: Vec<Hash> = transactions.iter().map(SignedTransaction::hash).collect();
    transactions_root_of_hashes(&hashes)
}

/// The transactions root of transactions whose hashes are already known, in block order.
pub fn transactions_root_of_hashes<'a>(hashes: impl IntoIterator<Item = &'a Hash>) -> Hash {
    merkle_root(hashes)
}

/// The receipts root of a list of receipts.
pub fn receipts_root(receipts: &[Receipt]) -> Hash {
    let hashes: Vec<Hash> = receipts
        .iter()
        .map(|receipt| keccak256(&receipt.encode()))
        .collect();
    merkle_root(&hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_the_last_eight_bytes_of_the_encoding() {
        let header = BlockHeader {
            parent_hash: Hash([1; 32]),
            number: 2,
            timestamp_ms: 3,
            transactions_root: Hash([4; 32]),
            receipts_root: Hash([5; 32]),
            state_root: Hash([6; 32]),
            bits: CompactTarget(0x2000_ffff),
            miner: Address([7; 20]),
            nonce: 0x0102_0304_0506_0708,
        };
        let encoded = header.encode();
        assert_eq!(encoded.len(), HEADER_ENCODED_LEN);
        assert_eq!(
            encoded[HEADER_NONCE_OFFSET..],
            0x0102_0304_0506_0708u64.to_le_bytes()
        );
        assert_eq!(BlockHeader::decode(&mut &encoded[..]).unwrap(), header);
    }
}
