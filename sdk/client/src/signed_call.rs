//! Signed dry runs (PRIVACY.md §5.7): a `state_call` runs as the caller it names only when that
//! caller signed it. The signature is secp256k1, recoverable, low-S, over
//! `keccak256("salus/call/v1" ‖ SCALE(SignedCall))`, where [`SignedCall`] is
//! `(chain id, from, contract, input, value, at, expires_ms)`; an unsigned dry run runs as the
//! zero address. Both sides use this module: [`DryRun`] builds requests, the node checks them
//! with [`SignedCall::signer`].
//!
//! ```ignore
//! let request = DryRun::new(consent, input).signed(chain_id, &patient_key, now_ms + DEFAULT_CALL_SIGNATURE_LIFETIME_MS);
//! let outcome = client.state_call(request).await?;
//! ```

use salus_primitives::{Address, SecretKey};

pub use salus_primitives::signed_call::{
    CALL_SIGNATURE_DOMAIN, CallAt, CallSignatureError, DEFAULT_CALL_SIGNATURE_LIFETIME_MS,
    SignedCall, parse_signature,
};

use crate::rpc::{BlockId, CallRequest};

impl From<CallAt> for BlockId {
    fn from(at: CallAt) -> BlockId {
        match at {
            CallAt::Number(number) => BlockId::Number(number),
            CallAt::Hash(hash) => BlockId::Hash(hash.to_string()),
        }
    }
}

/// A dry run to send, unsigned (as the zero address) or signed by its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRun {
    /// The contract.
    pub contract: Address,
    /// Selector and SCALE arguments.
    pub input: Vec<u8>,
    /// Native value sent.
    pub value: u128,
    /// The block to run after; `None`: the head.
    pub at: Option<CallAt>,
    /// Fuel limit; `None`: the node's default.
    pub fuel: Option<u64>,
}

impl DryRun {
    /// A dry run of `input` on `contract` at the head, no value, the node's default fuel.
    pub fn new(contract: Address, input: Vec<u8>) -> DryRun {
        DryRun {
            contract,
            input,
            value: 0,
            at: None,
            fuel: None,
        }
    }

    /// Runs after block `at` instead of the head.
    #[must_use]
    pub fn at(mut self, at: CallAt) -> DryRun {
        self.at = Some(at);
        self
    }

    /// Sets the fuel limit.
    #[must_use]
    pub fn fuel(mut self, fuel: u64) -> DryRun {
        self.fuel = Some(fuel);
        self
    }

    /// Sends `value` with the call.
    #[must_use]
    pub fn value(mut self, value: u128) -> DryRun {
        self.value = value;
        self
    }

    /// The request unsigned: the node runs it as the zero address, so a view that checks its
    /// caller refuses it; views that check none answer.
    pub fn unsigned(&self) -> CallRequest {
        CallRequest {
            from: None,
            contract: self.contract.to_string(),
            input: format!("0x{}", hex::encode(&self.input)),
            value: (self.value != 0).then(|| self.value.to_string()),
            fuel: self.fuel,
            at: self.at.map(BlockId::from),
            signature: None,
            expires_ms: None,
        }
    }

    /// What a signature by `from` on chain `chain_id`, valid until `expires_ms`, covers.
    pub fn to_sign(&self, chain_id: u64, from: Address, expires_ms: u64) -> SignedCall {
        SignedCall {
            chain_id,
            from,
            contract: self.contract,
            input: self.input.clone(),
            value: self.value,
            at: self.at,
            expires_ms,
        }
    }

    /// The request signed by `key` for chain `chain_id`, valid until `expires_ms` (wall clock,
    /// ms since the Unix epoch; the node refuses one more than 10 minutes ahead of its clock).
    pub fn signed(&self, chain_id: u64, key: &SecretKey, expires_ms: u64) -> CallRequest {
        let signature = self.to_sign(chain_id, key.address(), expires_ms).sign(key);
        CallRequest {
            from: Some(key.address().to_string()),
            signature: Some(format!("0x{}", hex::encode(signature.0))),
            expires_ms: Some(expires_ms),
            ..self.unsigned()
        }
    }

    /// [`DryRun::signed`], valid for [`DEFAULT_CALL_SIGNATURE_LIFETIME_MS`] from this
    /// machine's clock.
    pub fn signed_for(&self, chain_id: u64, key: &SecretKey) -> CallRequest {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        self.signed(
            chain_id,
            key,
            now_ms.saturating_add(DEFAULT_CALL_SIGNATURE_LIFETIME_MS),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
    use salus_primitives::{Hash, Signature};

    fn key(index: u32) -> SecretKey {
        derive_key(DEV_MNEMONIC, index).unwrap()
    }

    fn call() -> DryRun {
        DryRun::new(Address([0x11; 20]), vec![1, 2, 3, 4, 5]).at(CallAt::Number(7))
    }

    fn signed_fields(request: &CallRequest, chain_id: u64) -> (SignedCall, Signature) {
        let from: Address = request.from.as_deref().unwrap().parse().unwrap();
        let signature = parse_signature(request.signature.as_deref().unwrap()).unwrap();
        let fields = call().to_sign(chain_id, from, request.expires_ms.unwrap());
        (fields, signature)
    }

    #[test]
    fn a_signed_request_recovers_to_its_caller_and_names_it() {
        let patient = key(3);
        let request = call().signed(1337, &patient, 1_000_000);
        assert_eq!(request.from, Some(patient.address().to_string()));
        assert_eq!(request.expires_ms, Some(1_000_000));
        assert_eq!(request.at, Some(BlockId::Number(7)));
        assert_eq!(request.input, "0x0102030405");
        let (fields, signature) = signed_fields(&request, 1337);
        assert_eq!(fields.signer(&signature), Ok(patient.address()));
    }

    #[test]
    fn any_signed_field_changed_recovers_to_someone_else() {
        let patient = key(3);
        let request = call().signed(1337, &patient, 1_000_000);
        let (fields, signature) = signed_fields(&request, 1337);
        let changes: [(&str, SignedCall); 7] = [
            (
                "chain",
                SignedCall {
                    chain_id: 1,
                    ..fields.clone()
                },
            ),
            (
                "from",
                SignedCall {
                    from: key(4).address(),
                    ..fields.clone()
                },
            ),
            (
                "contract",
                SignedCall {
                    contract: Address([0x12; 20]),
                    ..fields.clone()
                },
            ),
            (
                "input",
                SignedCall {
                    input: vec![1, 2, 3, 4, 6],
                    ..fields.clone()
                },
            ),
            (
                "value",
                SignedCall {
                    value: 1,
                    ..fields.clone()
                },
            ),
            (
                "at",
                SignedCall {
                    at: None,
                    ..fields.clone()
                },
            ),
            (
                "expiry",
                SignedCall {
                    expires_ms: 1_000_001,
                    ..fields.clone()
                },
            ),
        ];
        for (what, changed) in changes {
            match changed.signer(&signature) {
                Err(CallSignatureError::NotFrom { from, signer }) => {
                    assert_eq!(from, changed.from, "{what}");
                    assert_ne!(signer, patient.address(), "{what}");
                }
                // A changed digest may also recover to no key at all.
                Err(CallSignatureError::Invalid(_)) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_signature_by_another_key_does_not_prove_the_named_caller() {
        let patient = key(3);
        let impostor = key(4);
        let fields = call().to_sign(1337, patient.address(), 1_000_000);
        assert_eq!(
            fields.signer(&fields.sign(&impostor)),
            Err(CallSignatureError::NotFrom {
                signer: impostor.address(),
                from: patient.address(),
            })
        );
    }

    #[test]
    fn the_digest_is_keccak_of_the_domain_and_the_scale_fields_in_order() {
        let fields = SignedCall {
            chain_id: 5,
            from: Address([0xaa; 20]),
            contract: Address([0xbb; 20]),
            input: vec![0xcc],
            value: 9,
            at: Some(CallAt::Hash(Hash([0xdd; 32]))),
            expires_ms: 42,
        };
        let mut preimage = b"salus/call/v1".to_vec();
        preimage.extend(5u64.to_le_bytes());
        preimage.extend([0xaa; 20]);
        preimage.extend([0xbb; 20]);
        preimage.extend([0x04, 0xcc]); // compact length 1, then the byte
        preimage.extend(9u128.to_le_bytes());
        preimage.extend([0x01, 0x01]); // Some, then the variant Hash
        preimage.extend([0xdd; 32]);
        preimage.extend(42u64.to_le_bytes());
        assert_eq!(fields.digest(), salus_primitives::keccak256(&preimage));
    }

    #[test]
    fn an_unsigned_request_names_no_caller_and_signatures_parse_strictly() {
        let request = call().value(3).unsigned();
        assert_eq!(request.from, None);
        assert_eq!(request.signature, None);
        assert_eq!(request.value.as_deref(), Some("3"));
        assert_eq!(
            parse_signature("0x1234"),
            Err(CallSignatureError::Malformed)
        );
        assert_eq!(
            parse_signature(&"zz".repeat(65)),
            Err(CallSignatureError::Malformed)
        );
        assert!(parse_signature(&format!("0x{}", "01".repeat(65))).is_ok());
    }
}
