//! Keys from BIP-39 mnemonics on the Ethereum path m/44'/60'/0'/0/i, so that keys from existing
//! wallets, and their published test vectors, work unchanged.

use crate::crypto::SecretKey;

/// The public development mnemonic (Hardhat, anvil). Its keys are known to everyone: dev chains
/// only.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Why a key could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyDerivationError {
    /// The phrase is not a valid English BIP-39 mnemonic (unknown word, bad length or checksum).
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// BIP-32 derivation failed (an invalid child key; astronomically unlikely).
    #[error("key derivation failed: {0}")]
    Derivation(String),
}

/// The secret key at m/44'/60'/0'/0/`index` of `phrase` (empty BIP-39 passphrase).
///
/// # Errors
/// [`KeyDerivationError::InvalidMnemonic`] for a phrase that fails the BIP-39 checks.
pub fn derive_key(phrase: &str, index: u32) -> Result<SecretKey, KeyDerivationError> {
    let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase)
        .map_err(|error| KeyDerivationError::InvalidMnemonic(error.to_string()))?;
    // The mnemonic (bip39's `zeroize` feature), the seed and the key bytes are wiped when
    // dropped; the derived extended keys wipe themselves.
    let seed = zeroize::Zeroizing::new(mnemonic.to_seed_normalized(""));
    let path: bip32::DerivationPath = format!("m/44'/60'/0'/0/{index}")
        .parse()
        .map_err(|error: bip32::Error| KeyDerivationError::Derivation(error.to_string()))?;
    let child = bip32::XPrv::derive_from_path(seed.as_slice(), &path)
        .map_err(|error| KeyDerivationError::Derivation(error.to_string()))?;
    let bytes: zeroize::Zeroizing<[u8; 32]> =
        zeroize::Zeroizing::new(child.private_key().to_bytes().into());
    SecretKey::from_bytes(&bytes)
        .ok_or_else(|| KeyDerivationError::Derivation("derived key out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_mnemonic_matches_published_accounts() {
        // The accounts Hardhat and anvil print for the public test mnemonic.
        let expected = [
            (0, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            (1, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            (2, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
            (9, "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
        ];
        for (index, address) in expected {
            let key = derive_key(DEV_MNEMONIC, index).unwrap();
            assert_eq!(key.address().to_string(), address, "index {index}");
        }
        let key1 = derive_key(DEV_MNEMONIC, 1).unwrap();
        assert_eq!(
            hex::encode(key1.to_bytes()),
            "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
        );
    }

    #[test]
    fn bad_mnemonic_is_a_typed_error() {
        assert!(matches!(
            derive_key("test test test", 0),
            Err(KeyDerivationError::InvalidMnemonic(_))
        ));
        // Valid words, wrong checksum.
        assert!(matches!(
            derive_key(
                "test test test test test test test test test test test test",
                0
            ),
            Err(KeyDerivationError::InvalidMnemonic(_))
        ));
    }
}
