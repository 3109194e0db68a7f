//! The 32-byte `Hash` type and keccak256, the one hash function of Salus consensus.

use core::fmt;
use core::str::FromStr;

use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use sha3::{Digest, Keccak256};

/// A 32-byte keccak256 digest (block hashes, transaction hashes, roots, code hashes).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen,
)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used as the parent of genesis and as the root of an empty tree.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Bit `index` counted from the most significant bit of byte 0 (0 ≤ index < 256).
    pub fn bit(&self, index: usize) -> bool {
        (self.0[index / 8] >> (7 - (index % 8))) & 1 == 1
    }
}

/// keccak256 of `data` (the original Keccak padding, as Ethereum uses, not SHA3-256).
pub fn keccak256(data: &[u8]) -> Hash {
    Hash(Keccak256::digest(data).into())
}

/// keccak256 of the concatenation of `parts`, without allocating.
pub fn keccak256_concat(parts: &[&[u8]]) -> Hash {
    let mut hasher = Keccak256::new();
    for part in parts {
        hasher.update(part);
    }
    Hash(hasher.finalize().into())
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a hex string did not parse as a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexParseError {
    /// The string is not hexadecimal.
    #[error("not a hex string")]
    InvalidHex,
    /// The string decodes to the wrong number of bytes.
    #[error("expected {expected} bytes, got {actual}")]
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        actual: usize,
    },
}

/// Decodes `0x`-prefixed (or bare) hex into exactly `N` bytes.
pub fn parse_hex_array<const N: usize>(text: &str) -> Result<[u8; N], HexParseError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|_| HexParseError::InvalidHex)?;
    bytes
        .try_into()
        .map_err(|bytes: alloc::vec::Vec<u8>| HexParseError::WrongLength {
            expected: N,
            actual: bytes.len(),
        })
}

impl FromStr for Hash {
    type Err = HexParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_hex_array(text).map(Hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak256_known_answers() {
        // Published Keccak-256 (original padding) known answers.
        assert_eq!(
            keccak256(b"").to_string(),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            keccak256(b"abc").to_string(),
            "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
        );
        assert_eq!(
            keccak256(b"The quick brown fox jumps over the lazy dog").to_string(),
            "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"
        );
        // The ERC-20 `transfer(address,uint256)` selector is the first 4 bytes of this digest.
        assert_eq!(
            &keccak256(b"transfer(address,uint256)").0[..4],
            &[0xa9, 0x05, 0x9c, 0xbb]
        );
    }

    #[test]
    fn concat_equals_hash_of_concatenation() {
        assert_eq!(keccak256_concat(&[b"ab", b"c"]), keccak256(b"abc"));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let h = keccak256(b"x");
        assert_eq!(h.to_string().parse::<Hash>(), Ok(h));
        assert_eq!("0xzz".parse::<Hash>(), Err(HexParseError::InvalidHex));
        assert_eq!(
            "0x00".parse::<Hash>(),
            Err(HexParseError::WrongLength {
                expected: 32,
                actual: 1
            })
        );
    }

    #[test]
    fn bits_are_msb_first() {
        let mut h = Hash::ZERO;
        h.0[0] = 0b1000_0001;
        assert!(h.bit(0));
        assert!(!h.bit(1));
        assert!(h.bit(7));
        assert!(!h.bit(8));
    }
}
