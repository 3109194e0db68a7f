//! Transactions: what an account asks the chain to do, signed by its key and optionally by a fee
//! sponsor who pays for it.

use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode};

use crate::Balance;
use crate::address::Address;
use crate::crypto::{Signature, SignatureError, recover_signer};
use crate::hash::{Hash, keccak256, keccak256_concat};

/// Domain tag of the digest a sender signs; a signature over a transaction can never be replayed
/// as a signature over anything else.
const SENDER_DOMAIN: &[u8] = b"salus/transaction/v1";
/// Domain tag of the digest a fee sponsor signs.
const SPONSOR_DOMAIN: &[u8] = b"salus/sponsor/v1";

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Action {
    /// Move native balance to `to`.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount moved.
        amount: Balance,
    },
    /// Deploy a Wasm contract and run its constructor.
    Deploy {
        /// The Wasm module.
        code: Vec<u8>,
        /// SCALE-encoded constructor call (selector and arguments).
        constructor_input: Vec<u8>,
        /// Distinguishes several deployments of the same code by the same sender and nonce
        /// context; part of the derived contract address.
        salt: Hash,
        /// Native balance endowed to the new contract.
        value: Balance,
    },
    /// Call a message of a deployed contract.
    Call {
        /// The contract.
        contract: Address,
        /// SCALE-encoded call: a 4-byte selector, then the arguments.
        input: Vec<u8>,
        /// Native balance sent along.
        value: Balance,
    },
}

/// The signed content of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Transaction {
    /// The chain this transaction is for (replay protection across networks).
    pub chain_id: u64,
    /// Must equal the sender's account nonce (replay protection within the chain).
    pub nonce: u64,
    /// The most fuel execution may use; `fuel_limit × fuel_price` must be affordable up front.
    pub fuel_limit: u64,
    /// Price of one unit of fuel, paid to the miner.
    pub fuel_price: Balance,
    /// What to do.
    pub action: Action,
    /// An account that pays the fee instead of the sender and co-signs the transaction (a
    /// hospital paying for its patients' consent transactions).
    pub sponsor: Option<Address>,
}

impl Transaction {
    /// The digest the sender signs: keccak256 of a domain tag and the SCALE encoding.
    pub fn signing_digest(&self) -> Hash {
        keccak256_concat(&[SENDER_DOMAIN, &self.encode()])
    }

    /// Most native balance the payer may be charged for fuel.
    pub fn max_fee(&self) -> Option<Balance> {
        Balance::from(self.fuel_limit).checked_mul(self.fuel_price)
    }

    /// Native value the action moves out of the sender.
    pub fn value(&self) -> Balance {
        match &self.action {
            Action::Transfer { amount, .. } => *amount,
            Action::Deploy { value, .. } | Action::Call { value, .. } => *value,
        }
    }

    /// Signs as `sender` (and, if given, as `sponsor`), producing a [`SignedTransaction`].
    pub fn sign(
        self,
        sender: &crate::SecretKey,
        sponsor: Option<&crate::SecretKey>,
    ) -> SignedTransaction {
        let digest = self.signing_digest();
        let signature = sender.sign_digest(&digest);
        let sponsor_signature =
            sponsor.map(|key| key.sign_digest(&sponsor_digest(&sender.address(), &digest)));
        SignedTransaction {
            transaction: self,
            signature,
            sponsor_signature,
        }
    }
}

/// The digest a sponsor signs: it binds the sponsor to this sender and this exact transaction.
pub fn sponsor_digest(sender: &Address, transaction_digest: &Hash) -> Hash {
    keccak256_concat(&[SPONSOR_DOMAIN, &sender.0, &transaction_digest.0])
}

/// A transaction with its sender's signature and, when sponsored, the sponsor's.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedTransaction {
    /// The signed content.
    pub transaction: Transaction,
    /// The sender's recoverable signature over [`Transaction::signing_digest`].
    pub signature: Signature,
    /// The sponsor's signature over [`sponsor_digest`]; present exactly when
    /// `transaction.sponsor` is.
    pub sponsor_signature: Option<Signature>,
}

/// The accounts a verified transaction acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signers {
    /// The account whose nonce advances and whose value moves.
    pub sender: Address,
    /// The account charged for fuel: the sponsor if there is one, else the sender.
    pub payer: Address,
}

/// Why a transaction's signatures are not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransactionSignatureError {
    /// The sender's signature is invalid.
    #[error("bad sender signature: {0}")]
    Sender(SignatureError),
    /// The sponsor's signature is invalid.
    #[error("bad sponsor signature: {0}")]
    Sponsor(SignatureError),
    /// The sponsor signature recovers to an account other than the named sponsor.
    #[error("sponsor signature is by {actual}, transaction names {expected}")]
    SponsorMismatch {
        /// The sponsor the transaction names.
        expected: Address,
        /// The account that actually signed.
        actual: Address,
    },
    /// A sponsor is named without a sponsor signature, or a signature given without a sponsor.
    #[error("sponsor and sponsor signature must both be present or both absent")]
    SponsorSignatureMissing,
}

impl SignedTransaction {
    /// The transaction hash: keccak256 of the SCALE encoding of the signed transaction.
    pub fn hash(&self) -> Hash {
        keccak256(&self.encode())
    }

    /// Recovers and checks every signature.
    ///
    /// # Errors
    /// A [`TransactionSignatureError`] naming the bad signature.
    pub fn verify_signatures(&self) -> Result<Signers, TransactionSignatureError> {
        let digest = self.transaction.signing_digest();
        let sender =
            recover_signer(&digest, &self.signature).map_err(TransactionSignatureError::Sender)?;
        let payer = match (&self.transaction.sponsor, &self.sponsor_signature) {
            (None, None) => sender,
            (Some(expected), Some(signature)) => {
                let actual = recover_signer(&sponsor_digest(&sender, &digest), signature)
                    .map_err(TransactionSignatureError::Sponsor)?;
                if actual != *expected {
                    return Err(TransactionSignatureError::SponsorMismatch {
                        expected: *expected,
                        actual,
                    });
                }
                actual
            }
            _ => return Err(TransactionSignatureError::SponsorSignatureMissing),
        };
        Ok(Signers { sender, payer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn transfer(nonce: u64, sponsor: Option<Address>) -> Transaction {
        Transaction {
            chain_id: 7,
            nonce,
            fuel_limit: 50_000,
            fuel_price: 1,
            action: Action::Transfer {
                to: Address([2; 20]),
                amount: 10,
            },
            sponsor,
        }
    }

    #[test]
    fn signed_transaction_recovers_sender_and_round_trips() {
        let key = SecretKey::from_bytes(&[1; 32]).unwrap();
        let signed = transfer(0, None).sign(&key, None);
        let signers = signed.verify_signatures().unwrap();
        assert_eq!(
            signers,
            Signers {
                sender: key.address(),
                payer: key.address()
            }
        );
        let decoded = SignedTransaction::decode(&mut &signed.encode()[..]).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.hash(), signed.hash());
    }

    #[test]
    fn tampering_changes_the_recovered_sender() {
        let key = SecretKey::from_bytes(&[1; 32]).unwrap();
        let mut signed = transfer(0, None).sign(&key, None);
        signed.transaction.nonce = 1;
        assert_ne!(
            signed.verify_signatures().map(|s| s.sender),
            Ok(key.address())
        );
    }

    #[test]
    fn sponsor_pays_and_must_sign() {
        let patient = SecretKey::from_bytes(&[1; 32]).unwrap();
        let hospital = SecretKey::from_bytes(&[2; 32]).unwrap();
        let signed = transfer(0, Some(hospital.address())).sign(&patient, Some(&hospital));
        assert_eq!(
            signed.verify_signatures().unwrap(),
            Signers {
                sender: patient.address(),
                payer: hospital.address()
            }
        );
        let unsigned = transfer(0, Some(hospital.address())).sign(&patient, None);
        assert_eq!(
            unsigned.verify_signatures(),
            Err(TransactionSignatureError::SponsorSignatureMissing)
        );
        let impostor = SecretKey::from_bytes(&[3; 32]).unwrap();
        let forged = transfer(0, Some(hospital.address())).sign(&patient, Some(&impostor));
        assert!(matches!(
            forged.verify_signatures(),
            Err(TransactionSignatureError::SponsorMismatch { .. })
        ));
    }
}
