//! The signed request a requester sends a record gateway (docs/PRIVACY.md §5.6), its digest and
//! the X25519 reply key a participant's wallet derives.
//!
//! The wire form is `SCALE(SignedGatewayRequest)`: the request, then a 65-byte recoverable
//! secp256k1 signature (low-S, as transactions) over
//! `keccak256("salus/gateway/v1" ‖ SCALE(request))`. That digest is also the request's hash:
//! what `record_disclosure` puts on the patient's audit trail and what the sealed reply is bound
//! to as associated data.

use parity_scale_codec::{Decode, Encode};
use salus_primitives::crypto::{Signature, SignatureError, recover_signer};
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, Hash, SecretKey};

/// Domain tag of the request digest: names the protocol and its version, so a request signature
/// can never be taken for a transaction's or another protocol's.
pub const REQUEST_DOMAIN: &[u8] = b"salus/gateway/v1";

pub use salus_client::seal::reply_key::{reply_public_key, reply_secret};

/// The key the reply is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ReplyKey {
    /// X25519 public key.
    pub public_key: [u8; 32],
    /// Its registry version (`set_encryption_key`); 0 for a key the registry does not hold (a
    /// patient's own, or a pseudonym's).
    pub version: u32,
}

/// What a requester asks a gateway for, signed.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct GatewayRequest {
    /// The chain the consent is decided on.
    pub chain_id: u64,
    /// The gateway's custodian (its signing address): a request for one custodian is useless
    /// at another.
    pub gateway: Address,
    /// The record handle (as registered with consent's `register_record`).
    pub record: Hash,
    /// Purpose of use (HL7 v3 PurposeOfUse, `TREAT`, …).
    pub purpose: String,
    /// The role the requester claims (HL7 code, `PRCP`, `PAT`, …); consent attests it.
    pub role: String,
    /// Who asks: the signer.
    pub requester: Address,
    /// Where the reply is sealed to.
    pub reply_key: ReplyKey,
    /// 16 random bytes: the same request is answered once.
    pub nonce: [u8; 16],
    /// When it was signed, ms since the epoch by the requester's clock.
    pub time_ms: u64,
}

impl GatewayRequest {
    /// `keccak256("salus/gateway/v1" ‖ SCALE(request))`: what is signed, recorded on chain and
    /// bound into the sealed reply.
    pub fn hash(&self) -> Hash {
        keccak256_concat(&[REQUEST_DOMAIN, &self.encode()])
    }

    /// Signs the request with `key` (whose address should be [`GatewayRequest::requester`]).
    pub fn sign(self, key: &SecretKey) -> SignedGatewayRequest {
        let signature = key.sign_digest(&self.hash());
        SignedGatewayRequest {
            request: self,
            signature,
        }
    }
}

/// A request with its signature: the body of `POST /v1/records`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedGatewayRequest {
    /// The request.
    pub request: GatewayRequest,
    /// Recoverable secp256k1 signature over [`GatewayRequest::hash`].
    pub signature: Signature,
}

/// Why a signature does not make a request its requester's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestSignatureError {
    /// Malformed, high-S or unrecoverable.
    #[error(transparent)]
    Invalid(#[from] SignatureError),
    /// It recovers to another address than the requester named.
    #[error("signed by {signer}, not by the requester {requester}")]
    NotTheRequester {
        /// Who signed.
        signer: Address,
        /// Who the request names.
        requester: Address,
    },
}

impl SignedGatewayRequest {
    /// Checks the signature recovers to the named requester; returns the request's hash.
    ///
    /// # Errors
    /// [`RequestSignatureError`] when it does not.
    pub fn verify(&self) -> Result<Hash, RequestSignatureError> {
        let hash = self.request.hash();
        let signer = recover_signer(&hash, &self.signature)?;
        if signer != self.request.requester {
            return Err(RequestSignatureError::NotTheRequester {
                signer,
                requester: self.request.requester,
            });
        }
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

    fn request(requester: Address) -> GatewayRequest {
        GatewayRequest {
            chain_id: 7357,
            gateway: Address([5; 20]),
            record: Hash([1; 32]),
            purpose: "TREAT".into(),
            role: "PRCP".into(),
            requester,
            reply_key: ReplyKey {
                public_key: [9; 32],
                version: 1,
            },
            nonce: [7; 16],
            time_ms: 1_800_000_000_000,
        }
    }

    #[test]
    fn a_signed_request_verifies_only_for_its_requester_and_unchanged() {
        let key = derive_key(DEV_MNEMONIC, 3).unwrap();
        let signed = request(key.address()).sign(&key);
        assert_eq!(signed.verify(), Ok(signed.request.hash()));
        let round_trip = SignedGatewayRequest::decode(&mut &signed.encode()[..]).unwrap();
        assert_eq!(round_trip, signed);

        let mut changed = signed.clone();
        changed.request.purpose = "HPAYMT".into();
        assert!(changed.verify().is_err(), "a changed field breaks it");

        let other = derive_key(DEV_MNEMONIC, 4).unwrap();
        let forged = request(key.address()).sign(&other);
        assert_eq!(
            forged.verify(),
            Err(RequestSignatureError::NotTheRequester {
                signer: other.address(),
                requester: key.address(),
            })
        );
    }

    #[test]
    fn the_request_hash_is_the_domain_tagged_digest_of_its_encoding() {
        let key = derive_key(DEV_MNEMONIC, 3).unwrap();
        let request = request(key.address());
        let mut preimage = b"salus/gateway/v1".to_vec();
        preimage.extend_from_slice(&request.encode());
        assert_eq!(request.hash(), salus_primitives::keccak256(&preimage));
    }

    #[test]
    fn the_reply_key_is_per_wallet_and_per_chain() {
        let (a, b) = (
            derive_key(DEV_MNEMONIC, 3).unwrap(),
            derive_key(DEV_MNEMONIC, 4).unwrap(),
        );
        let chain = Hash([1; 32]);
        assert_eq!(reply_public_key(&a, &chain), reply_public_key(&a, &chain));
        assert_ne!(reply_public_key(&a, &chain), reply_public_key(&b, &chain));
        assert_ne!(
            reply_public_key(&a, &chain),
            reply_public_key(&a, &Hash([2; 32]))
        );
    }
}
