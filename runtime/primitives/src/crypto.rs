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
    let key = recover_key(&digest.0, &parsed, recovery_id).ok_or(SignatureError::RecoveryFailed)?;
    Ok(address_of(&key))
}

/// Public-key recovery as one multi-scalar multiplication, Q = r⁻¹(s·R − z·G).
///
/// k256's `VerifyingKey::recover_from_prehash` computes the same Q and then verifies the
/// signature under it again, which costs a second double-scalar multiplication for nothing:
/// for Q = r⁻¹(s·R − z·G), verification computes z·s⁻¹·G + r·s⁻¹·Q = R, whose x-coordinate is r
/// by construction. Every rejection it makes is kept: r and s are non-zero (the caller parsed the
/// signature with `Signature::from_slice`), R must decompress from r with the recovery id's
/// parity (recovery ids 2 and 3, "x reduced", are refused by the caller), and Q must not be the
/// identity (`from_affine`). k256's verification also refuses high S; here the caller does, before
/// recovering. A differential test checks that this and k256's recovery agree on valid, random
/// and malformed input.
fn recover_key(
    prehash: &[u8; 32],
    signature: &EcdsaSignature,
    recovery_id: RecoveryId,
) -> Option<VerifyingKey> {
    use k256::elliptic_curve::ops::{Invert, LinearCombination, Reduce};
    use k256::elliptic_curve::point::DecompressPoint;
    use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};
    if recovery_id.is_x_reduced() {
        return None;
    }
    let (r, s) = signature.split_scalars();
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*prehash));
    let big_r = AffinePoint::decompress(&r.to_bytes(), u8::from(recovery_id.is_y_odd()).into());
    let big_r = ProjectivePoint::from(Option::<AffinePoint>::from(big_r)?);
    // r is non-zero, so its inverse exists.
    let r_inverse: Scalar = *Invert::invert(&r);
    let u1 = -(r_inverse * z);
    let u2 = r_inverse * *s;
    let q = ProjectivePoint::lincomb(&ProjectivePoint::GENERATOR, &u1, &big_r, &u2);
    VerifyingKey::from_affine(q.to_affine()).ok()
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

    /// The one-lincomb recovery accepts and rejects exactly what k256's recovery (with its
    /// second verification) does, and recovers the same key: on valid signatures, on signatures
    /// with a byte flipped, on random scalars (about half have no curve point) and on edge
    /// scalars.
    #[test]
    fn one_lincomb_recovery_agrees_with_k256() {
        let mut cases: Vec<([u8; 32], [u8; 64], u8)> = Vec::new();
        for i in 0u32..400 {
            let seed = keccak256(&i.to_le_bytes());
            let digest = keccak256(&seed.0);
            let signature = key_from(seed).sign_digest(&digest);
            let mut rs = [0u8; 64];
            rs.copy_from_slice(&signature.0[..64]);
            cases.push((digest.0, rs, signature.0[64]));
            let mut flipped = rs;
            flipped[(i as usize * 7) % 64] ^= 1 << (i % 8);
            cases.push((digest.0, flipped, signature.0[64]));
            cases.push((keccak256(&digest.0).0, rs, signature.0[64] ^ 1));
            let mut random = [0u8; 64];
            random[..32].copy_from_slice(&keccak256(&[seed.0, [1; 32]].concat()).0);
            random[32..].copy_from_slice(&keccak256(&[seed.0, [2; 32]].concat()).0);
            cases.push((digest.0, random, (i % 2) as u8));
        }
        // Edge scalars: 1 and n − 1 for r and s.
        let n_minus_1: [u8; 32] = crate::hash::parse_hex_array(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
        )
        .unwrap();
        let mut one = [0u8; 32];
        one[31] = 1;
        for r in [one, n_minus_1] {
            for s in [one, n_minus_1] {
                for v in [0u8, 1] {
                    cases.push(([0x5a; 32], [r, s].concat().try_into().unwrap(), v));
                }
            }
        }
        let mut recovered = 0;
        for (digest, rs, v) in cases {
            let Ok(parsed) = EcdsaSignature::from_slice(&rs) else {
                continue;
            };
            let id = RecoveryId::from_byte(v).unwrap();
            let theirs = VerifyingKey::recover_from_prehash(&digest, &parsed, id)
                .ok()
                .map(|key| key.to_encoded_point(true));
            if parsed.normalize_s().is_some() {
                // High S: k256's verification refuses it, and so does `recover_signer` before
                // recovering (`recover_key` itself does not look at S).
                assert_eq!(theirs, None);
                let signature = Signature([&rs[..], &[v]].concat().try_into().unwrap());
                assert_eq!(
                    recover_signer(&crate::Hash(digest), &signature),
                    Err(SignatureError::HighS)
                );
                continue;
            }
            let ours = recover_key(&digest, &parsed, id).map(|key| key.to_encoded_point(true));
            assert_eq!(ours, theirs, "digest {digest:?} rs {rs:?} v {v}");
            recovered += usize::from(ours.is_some());
        }
        assert!(recovered > 500, "many cases recover a key: {recovered}");
    }

    fn key_from(seed: crate::Hash) -> SecretKey {
        SecretKey::from_bytes(&seed.0).unwrap()
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
