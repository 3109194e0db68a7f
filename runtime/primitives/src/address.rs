//! The 20-byte account `Address`: the last 20 bytes of keccak256 of an uncompressed public key.

use core::fmt;
use core::str::FromStr;

use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

use crate::hash::{HexParseError, keccak256, parse_hex_array};

/// An account or contract address (Ethereum-compatible derivation for keys).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen,
)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The zero address (never controlled by a key in practice).
    pub const ZERO: Address = Address([0u8; 20]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Address of a public key given as its 64-byte uncompressed encoding without the 0x04 tag.
    pub fn from_uncompressed_public_key(xy: &[u8; 64]) -> Address {
        let digest = keccak256(xy);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest.0[12..]);
        Address(bytes)
    }

    /// The address of a contract deployed by `deployer` from code `code_hash` with `salt`:
    /// the last 20 bytes of keccak256("salus/contract/v1" ‖ deployer ‖ code hash ‖ salt). It does
    /// not depend on nonces, so a deployer can know the address before sending.
    pub fn contract(deployer: &Address, code_hash: &crate::Hash, salt: &crate::Hash) -> Address {
        let digest = crate::hash::keccak256_concat(&[
            b"salus/contract/v1",
            &deployer.0,
            &code_hash.0,
            &salt.0,
        ]);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest.0[12..]);
        Address(bytes)
    }

    /// EIP-55 mixed-case checksummed hex, as wallets display addresses.
    pub fn to_checksum_string(&self) -> alloc::string::String {
        let lower = hex::encode(self.0);
        let digest = keccak256(lower.as_bytes());
        let mut out = alloc::string::String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (digest.0[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            if c.is_ascii_alphabetic() && nibble >= 8 {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum_string())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Address {
    type Err = HexParseError;
    /// Parses hex in any case; the checksum is not enforced on input.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_hex_array(text).map(Address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_checksum_known_answers() {
        // Test vectors from EIP-55.
        for expected in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let parsed: Address = expected.parse().unwrap();
            assert_eq!(parsed.to_string(), expected);
        }
    }
}
