//! A transaction on its way to a block: [`HashedTransaction`] (hash and encoded size, from one
//! encoding) and [`VerifiedTransaction`] (plus the recovered signers), carried from admission or
//! import through selection, block building, execution, the roots and the store batch, so that
//! nothing on the way encodes, hashes or recovers it again; and the rules a transaction breaks
//! ([`InvalidTransaction`]), the stateless ones checked here for block execution and the pool
//! alike.

use parity_scale_codec::Encode;
use salus_primitives::Balance;
use salus_primitives::transaction::{Signers, TransactionSignatureError};
use salus_primitives::{ChainParams, Hash, SignedTransaction, keccak256, limits};

use crate::fuel_schedule::intrinsic_fuel;

/// Why a transaction cannot be included at all. A block containing one is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTransaction {
    /// A signature is malformed, high-S, or does not match.
    #[error("bad signature: {0}")]
    BadSignature(#[from] TransactionSignatureError),
    /// Signed for another network.
    #[error("wrong chain id {found}, this chain is {expected}")]
    WrongChainId {
        /// This chain's id.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// Nonce already used.
    #[error("stale nonce {found}: the account is at {expected}")]
    NonceTooLow {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// Nonce leaves a gap.
    #[error("nonce too high: account is at {expected}, transaction has {found}")]
    NonceTooHigh {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// The payer cannot cover fuel limit × price (plus value when the payer is the sender).
    #[error("insufficient balance: {needed} needed, {available} available")]
    InsufficientBalance {
        /// Balance required up front.
        needed: Balance,
        /// Balance held.
        available: Balance,
    },
    /// Fuel limit below what the transaction costs before running.
    #[error("fuel limit {limit} below the intrinsic cost {intrinsic}")]
    FuelLimitTooLow {
        /// The transaction's fuel limit.
        limit: u64,
        /// Its intrinsic fuel.
        intrinsic: u64,
    },
    /// fuel limit × price (+ value) overflows the balance type.
    #[error("fee overflows")]
    FeeOverflow,
    /// Encoded size over [`limits::MAX_TRANSACTION_BYTES`].
    #[error("transaction of {size} bytes exceeds the limit of {limit}")]
    Oversized {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Previously verified signatures, keyed by transaction hash (the keccak256 of the signed
/// encoding, so a cached signer can never vouch for different signature bytes): a signature is
/// recovered once per node, whether the transaction arrives in the pool or in a block first.
pub trait SignatureCache {
    /// The signers of the transaction with this hash, if already verified.
    fn get(&self, transaction_hash: &Hash) -> Option<Signers>;

    /// Records the signers just recovered for the transaction with this hash.
    fn insert(&self, transaction_hash: Hash, signers: Signers);
}

/// A cache that knows nothing and keeps nothing: every signature is recovered.
pub struct NoSignatureCache;

impl SignatureCache for NoSignatureCache {
    fn get(&self, _: &Hash) -> Option<Signers> {
        None
    }

    fn insert(&self, _: Hash, _: Signers) {}
}

/// A signed transaction with its hash and encoded size, computed from one encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedTransaction {
    transaction: SignedTransaction,
    hash: Hash,
    encoded_size: usize,
}

impl HashedTransaction {
    /// Encodes `transaction` once for its hash and size.
    pub fn new(transaction: SignedTransaction) -> HashedTransaction {
        let encoded = transaction.encode();
        HashedTransaction {
            hash: keccak256(&encoded),
            encoded_size: encoded.len(),
            transaction,
        }
    }

    /// keccak256 of the signed encoding.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// Bytes of the SCALE encoding.
    pub fn encoded_size(&self) -> usize {
        self.encoded_size
    }

    /// The transaction.
    pub fn transaction(&self) -> &SignedTransaction {
        &self.transaction
    }

    /// The transaction, without its hash.
    pub fn into_transaction(self) -> SignedTransaction {
        self.transaction
    }

    /// Recovers the signers, or takes them from `cache` when this node recovered them before
    /// (recording what it recovers there).
    ///
    /// # Errors
    /// The bad signature, with the transaction's hash.
    pub fn verify(
        self,
        cache: &dyn SignatureCache,
    ) -> Result<VerifiedTransaction, (Hash, TransactionSignatureError)> {
        let signers = match cache.get(&self.hash) {
            Some(signers) => signers,
            None => match self.transaction.verify_signatures() {
                Ok(signers) => {
                    cache.insert(self.hash, signers);
                    signers
                }
                Err(error) => return Err((self.hash, error)),
            },
        };
        Ok(VerifiedTransaction {
            hashed: self,
            signers,
        })
    }
}

/// A transaction whose signatures verified: the only form block building and execution take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTransaction {
    hashed: HashedTransaction,
    signers: Signers,
}

impl VerifiedTransaction {
    /// Hashes `transaction` and recovers its signers (no cache).
    ///
    /// # Errors
    /// The bad signature.
    pub fn recover(
        transaction: SignedTransaction,
    ) -> Result<VerifiedTransaction, TransactionSignatureError> {
        HashedTransaction::new(transaction)
            .verify(&NoSignatureCache)
            .map_err(|(_, error)| error)
    }

    /// keccak256 of the signed encoding.
    pub fn hash(&self) -> Hash {
        self.hashed.hash
    }

    /// Bytes of the SCALE encoding.
    pub fn encoded_size(&self) -> usize {
        self.hashed.encoded_size
    }

    /// The accounts it acts for.
    pub fn signers(&self) -> Signers {
        self.signers
    }

    /// The transaction.
    pub fn transaction(&self) -> &SignedTransaction {
        &self.hashed.transaction
    }

    /// The transaction with its hash and size.
    pub fn hashed(&self) -> &HashedTransaction {
        &self.hashed
    }

    /// The transaction with its hash, without the signers.
    pub fn into_hashed(self) -> HashedTransaction {
        self.hashed
    }

    /// The transaction alone.
    pub fn into_transaction(self) -> SignedTransaction {
        self.hashed.transaction
    }
}

/// The admission rules that need neither the state nor the signatures: size, chain id, and a
/// fuel limit covering the intrinsic cost. Block execution applies them to every transaction;
/// the mempool applies them before recovering a signature.
///
/// # Errors
/// The first [`InvalidTransaction`] rule broken.
pub fn check_stateless(
    params: &ChainParams,
    transaction: &HashedTransaction,
) -> Result<(), InvalidTransaction> {
    let size = transaction.encoded_size;
    if size > limits::MAX_TRANSACTION_BYTES {
        return Err(InvalidTransaction::Oversized {
            size,
            limit: limits::MAX_TRANSACTION_BYTES,
        });
    }
    let tx = &transaction.transaction.transaction;
    if tx.chain_id != params.chain_id {
        return Err(InvalidTransaction::WrongChainId {
            expected: params.chain_id,
            found: tx.chain_id,
        });
    }
    let intrinsic = intrinsic_fuel(size);
    if tx.fuel_limit < intrinsic {
        return Err(InvalidTransaction::FuelLimitTooLow {
            limit: tx.fuel_limit,
            intrinsic,
        });
    }
    Ok(())
}
