//! Recoverable secp256k1 ECDSA signatures (k256): signing, low-S enforcement and recovery of the
//! signer's address.

use core::fmt;

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

use crate::address::Address;
use crate::hash::Hash;

/// A 65-byte recoverable signature: `r ‖ s ‖ v`, with `v` the recovery id (0 or 1).
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen)]
pub struct Signature(pub [u8; 65]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(0x{})", hex::encode(self.0))
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `r` or `s` is zero or not below the curve order.
    #[error("signature scalars out of range")]
    MalformedScalars,
    /// `s` is in the upper half of the curve order; only the low-S form is accepted, so that a
    /// third party cannot produce a second valid encoding of the same signature (malleability).
    #[error("signature is not in low-S form")]
    HighS,
    /// The recovery id is not 0 or 1.
    #[error("invalid recovery id {0}")]
    InvalidRecoveryId(u8),
    /// No public key recovers from this signature and digest.
    #[error("no public key recovers from the signature")]
    RecoveryFailed,
}

/// A secp256k1 secret key.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.address())
    }
}

impl SecretKey {
    /// A key from its 32 big-endian bytes; `None` if zero or not below the curve order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<SecretKey> {
        SigningKey::from_bytes(bytes.into()).ok().map(SecretKey)
    }

    /// The 32 big-endian secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes().into()
    }

    /// The address controlled by this key.
    pub fn address(&self) -> Address {
        address_of(self.0.verifying_key())
    }

    /// Signs a 32-byte digest deterministically (RFC 6979); the result is always low-S.
    pub fn sign_digest(&self, digest: &Hash) -> Signature {
        // Signing with a valid key over a 32-byte digest cannot fail; k256 returns an error only
        // for an all-zero nonce, which RFC 6979 never produces.
        let (signature, recovery_id) = self
            .0
            .sign_prehash_recoverable(&digest.0)
            .expect("RFC 6979 signing over a 32-byte digest is infallible");
        let (signature, recovery_id) = match signature.normalize_s() {
            Some(low) => (
                low,
                RecoveryId::new(!recovery_id.is_y_odd(), recovery_id.is_x_reduced()),
            ),
            None => (signature, recovery_id),
        };
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&signature.to_bytes());
        bytes[64] = recovery_id.to_byte();
        Signature(bytes)
    }
}

fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let mut xy = [0u8; 64];
    xy.copy_from_slice(&point.as_bytes()[1..]);
    Address::from_uncompressed_public_key(&xy)
}

/// Recovers the address that signed `digest`. Rejects malformed, high-S and unrecoverable
/// signatures.
///
/// # Errors
/// A [`SignatureError`] naming why the signature is not acceptable.
pub fn recover_signer(digest: &Hash, signature: &Signature) -> Result<Address, SignatureError> {
    let v = signature.0[64];
    if v > 1 {
        return Err(SignatureError::InvalidRecoveryId(v));
    }
    let parsed = EcdsaSignature::from_slice(&signature.0[..64])
        .map_err(|_| SignatureError::MalformedScalars)?;
    if parsed.normalize_s().is_some() {
        return Err(SignatureError::HighS);
    }
    let recovery_id = RecoveryId::from_byte(v).ok_or(SignatureError::InvalidRecoveryId(v))?;
    let key = VerifyingKey::recover_from_prehash(&digest.0, &parsed, recovery_id)
        .map_err(|_| SignatureError::RecoveryFailed)?;
    Ok(address_of(&key))
}

/// Whether a 64-byte `r ‖ s` signature over `digest` verifies under a 33-byte compressed public
/// key. High-S signatures are refused, as everywhere in Salus.
pub fn verify_prehash(digest: &[u8; 32], signature: &[u8; 64], public_key: &[u8; 33]) -> bool {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Ok(parsed) = EcdsaSignature::from_slice(signature) else {
        return false;
    };
    if parsed.normalize_s().is_some() {
        return false;
    }
    key.verify_prehash(digest, &parsed).is_ok()
}

impl SecretKey {
    /// The 33-byte compressed public key.
    pub fn public_key_compressed(&self) -> [u8; 33] {
        let point = self.0.verifying_key().to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::keccak256;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn sign_and_recover_round_trip() {
        let secret = key(7);
        let digest = keccak256(b"consent granted");
        let signature = secret.sign_digest(&digest);
        assert_eq!(recover_signer(&digest, &signature), Ok(secret.address()));
        // A different digest recovers a different (or no) address.
        let other = keccak256(b"consent revoked");
        assert_ne!(recover_signer(&other, &signature), Ok(secret.address()));
    }

    #[test]
    fn known_private_key_address() {
        // Hardhat/anvil dev account 0: its published private key and address.
        let bytes: [u8; 32] = crate::hash::parse_hex_array(
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        )
        .unwrap();
        let secret = SecretKey::from_bytes(&bytes).unwrap();
        assert_eq!(
            secret.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn high_s_signature_is_rejected() {
        let secret = key(9);
        let digest = keccak256(b"payload");
        let signature = secret.sign_digest(&digest);
        // Negate s (s' = n - s) and flip v: mathematically valid, but the malleable twin.
        let parsed = EcdsaSignature::from_slice(&signature.0[..64]).unwrap();
        let (r, s) = parsed.split_scalars();
        let high = EcdsaSignature::from_scalars(r, -*s).unwrap();
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&high.to_bytes());
        bytes[64] = signature.0[64] ^ 1;
        assert_eq!(
            recover_signer(&digest, &Signature(bytes)),
            Err(SignatureError::HighS)
        );
    }

    #[test]
    fn malformed_signatures_are_rejected() {
        let digest = keccak256(b"payload");
        assert_eq!(
            recover_signer(&digest, &Signature([0u8; 65])),
            Err(SignatureError::MalformedScalars)
        );
        let mut signature = key(3).sign_digest(&digest);
        signature.0[64] = 4;
        assert_eq!(
            recover_signer(&digest, &signature),
            Err(SignatureError::InvalidRecoveryId(4))
        );
    }
}
