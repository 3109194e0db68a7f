//! The `transaction` target: SCALE decoding of a signed transaction as `tx_submit` and gossip
//! receive it, then everything the node computes from a decoded one before trusting it (hash,
//! signing digest, signature recovery, fee arithmetic).

use parity_scale_codec::{Decode, Encode};
use salus_primitives::{SignedTransaction, keccak256};

/// Decodes `data` as a [`SignedTransaction`] (trailing bytes allowed here, as the decoder sees
/// them; the node refuses them afterwards).
///
/// Invariants: decoding never panics; what decodes re-encodes to exactly the bytes it was
/// decoded from (the encoding is canonical, so a transaction has one hash and one signing
/// digest), and decodes again to the same value; the hash is keccak256 of those bytes;
/// signature checks and fee arithmetic return results, never panic, and give the same result
/// twice.
pub fn transaction(data: &[u8]) {
    let mut input = data;
    let Ok(transaction) = SignedTransaction::decode(&mut input) else {
        return;
    };
    let consumed = &data[..data.len() - input.len()];
    check_decoded(&transaction, consumed);
}

/// The checks on a transaction decoded from `consumed` (shared with the `block` target).
pub fn check_decoded(transaction: &SignedTransaction, consumed: &[u8]) {
    let encoded = transaction.encode();
    assert_eq!(
        encoded, consumed,
        "a transaction re-encodes to other bytes than it was decoded from"
    );
    assert_eq!(transaction.encoded_size(), encoded.len());
    assert_eq!(
        SignedTransaction::decode(&mut &encoded[..]).as_ref(),
        Ok(transaction),
        "a re-encoded transaction decodes to another value"
    );
    assert_eq!(transaction.hash(), keccak256(consumed));

    let _ = transaction.transaction.signing_digest();
    let _ = transaction.transaction.max_fee();
    let _ = transaction.transaction.value();
    let signers = transaction.verify_signatures();
    assert_eq!(
        signers,
        transaction.verify_signatures(),
        "signature recovery is not deterministic"
    );
}
