//! What a signed dry run's signature covers (docs/PRIVACY.md §5.7): a `state_call` runs as the
//! caller it names only when that caller signed `keccak256("salus/call/v1" ‖ SCALE(SignedCall))`,
//! secp256k1, recoverable, low-S. Here, `no_std`, because three parties compute it: the node
//! that checks it, `salus-client` that signs it, and the console's key module that signs it in a
//! browser (wasm32), so none of them can drift from the others.

use alloc::vec::Vec;

use parity_scale_codec::Encode;

use crate::crypto::recover_signer;
use crate::hash::keccak256_concat;
use crate::{Address, Hash, SecretKey, Signature, SignatureError};

/// The domain separator of a dry run's signature: no transaction, gateway request or other
/// signed message of Salus hashes to the same digest.
pub const CALL_SIGNATURE_DOMAIN: &[u8] = b"salus/call/v1";

/// How long a signature made by [`DryRun::signed_for`] stays valid: two minutes, well inside
/// the node's bound (10 minutes ahead), so that a client clock a few minutes off the node's
/// still works, and short, because whoever sees the signed request can repeat it until then.
pub const DEFAULT_CALL_SIGNATURE_LIFETIME_MS: u64 = 2 * 60 * 1000;

/// The block a dry run runs after, as signed: by canonical number or by hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode)]
pub enum CallAt {
    /// Height on the canonical chain.
    Number(u64),
    /// Block hash.
    Hash(Hash),
}

/// What a dry run's signature covers, in this order (the SCALE encoding is what is signed).
/// The fuel limit is not covered: it bounds the work, not who asks.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct SignedCall {
    /// The chain (a signature for one chain says nothing on another).
    pub chain_id: u64,
    /// The caller, who signs.
    pub from: Address,
    /// The contract.
    pub contract: Address,
    /// Selector and SCALE arguments.
    pub input: Vec<u8>,
    /// Native value sent.
    pub value: u128,
    /// The block the dry run runs after; `None`: the head.
    pub at: Option<CallAt>,
    /// After this wall-clock time (ms since the Unix epoch) the node refuses the signature.
    pub expires_ms: u64,
}

/// Why a dry run's signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallSignatureError {
    /// Not 65 bytes of hex.
    #[error("signature: not 65 bytes of hex (r ‖ s ‖ v)")]
    Malformed,
    /// Malformed scalars, high S, a bad recovery id, or nothing recovers.
    #[error("signature: {0}")]
    Invalid(#[from] SignatureError),
    /// It recovers to another address than `from`: signed by someone else, or any signed field
    /// (contract, input, value, block, expiry, chain) changed after signing.
    #[error(
        "signature: recovers to {signer}, not `from` {from} (signed by another key, or the \
         request was changed after signing)"
    )]
    NotFrom {
        /// Who the signature recovers to, over the request as received.
        signer: Address,
        /// Who the request names.
        from: Address,
    },
}

impl SignedCall {
    /// The digest signed: `keccak256("salus/call/v1" ‖ SCALE(self))`.
    pub fn digest(&self) -> Hash {
        keccak256_concat(&[CALL_SIGNATURE_DOMAIN, &self.encode()])
    }

    /// Signs the digest with `key` (deterministic, low-S, recoverable).
    pub fn sign(&self, key: &SecretKey) -> Signature {
        key.sign_digest(&self.digest())
    }

    /// The signer, when `signature` over this call recovers to `from`. Expiry is the node's to
    /// check (it knows the time).
    ///
    /// # Errors
    /// [`CallSignatureError::Invalid`] for a signature that is not acceptable at all,
    /// [`CallSignatureError::NotFrom`] when it recovers to anyone but `from`.
    pub fn signer(&self, signature: &Signature) -> Result<Address, CallSignatureError> {
        let signer = recover_signer(&self.digest(), signature)?;
        if signer == self.from {
            Ok(signer)
        } else {
            Err(CallSignatureError::NotFrom {
                signer,
                from: self.from,
            })
        }
    }
}

/// A signature as `state_call` carries it: `0x` and 130 hex digits.
///
/// # Errors
/// [`CallSignatureError::Malformed`] for anything else.
pub fn parse_signature(text: &str) -> Result<Signature, CallSignatureError> {
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| CallSignatureError::Malformed)?;
    let bytes: [u8; 65] = bytes
        .try_into()
        .map_err(|_| CallSignatureError::Malformed)?;
    Ok(Signature(bytes))
}
