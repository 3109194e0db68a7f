//! A participant's reply key: the X25519 key that boxes addressed to it are sealed to (gateway
//! releases, sealed preauthorizations and claims for a payer), derived from its secp256k1 wallet
//! key so that nothing is stored beside the wallet key. Here so that the node, the client and the
//! console's key module in a browser derive the same key.

use hkdf::Hkdf;
use salus_primitives::{Hash, SecretKey};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// HKDF-Extract salt of a participant's reply key ([`reply_secret`]).
pub const REPLY_KEY_SALT: &[u8] = b"salus/reply-key/v1";

/// The X25519 secret a participant's wallet key `key` opens replies with on the chain whose
/// genesis hash is `chain`: `HKDF-SHA256(salt = "salus/reply-key/v1", IKM = the secp256k1
/// secret, info = genesis hash)`. An organisation or practitioner registers its public half
/// with the registry's `set_encryption_key` (`salus record reply-key --register`); a patient
/// sends it in its request and registers nothing. Deterministic, so nothing is stored beside
/// the wallet key, and unrelated to the key's pseudonyms (another salt).
pub fn reply_secret(key: &SecretKey, chain: &Hash) -> StaticSecret {
    let secret = Zeroizing::new(key.to_bytes());
    let hkdf = Hkdf::<Sha256>::new(Some(REPLY_KEY_SALT), &secret[..]);
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf.expand(&chain.0, &mut out[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    StaticSecret::from(*out)
}

/// The public half of [`reply_secret`].
pub fn reply_public_key(key: &SecretKey, chain: &Hash) -> [u8; 32] {
    PublicKey::from(&reply_secret(key, chain)).to_bytes()
}
