//! Hashing and signatures, computed by the host.

use crate::{Address, Hash, sys};

/// keccak256 of `data`.
pub fn keccak256(data: &[u8]) -> Hash {
    Hash(sys::keccak256(data))
}

/// The address that signed `digest` with a 65-byte recoverable signature (low-S only).
pub fn recover(digest: &Hash, signature: &[u8; 65]) -> Option<Address> {
    sys::secp256k1_recover(&digest.0, signature).map(Address)
}

/// Whether a 64-byte signature over `digest` verifies under a compressed public key.
pub fn verify(digest: &Hash, signature: &[u8; 64], public_key: &[u8; 33]) -> bool {
    sys::secp256k1_verify(&digest.0, signature, public_key)
}
