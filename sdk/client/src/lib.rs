//! Off-chain Salus: sign transactions and dry runs with keys from mnemonics, read a contract's
//! ABI from its Wasm (as stored on chain), and translate between JSON and the SCALE bytes
//! contracts speak.
//!
//! ```ignore
//! let abi = ContractAbi::from_wasm(&code)?;
//! let input = abi.encode_call("increment", &serde_json::json!([3]))?;
//! let total = abi.decode_result("increment", &receipt.return_data)?; // JSON
//! ```

pub mod abi;
pub mod directory;
pub mod epcis;
pub mod fhir;
pub mod gs1;
pub mod prescription;
pub mod pseudonym;
pub mod rpc;
/// Sealed boxes, commitments and reply keys: the `salus-seal` crate (shared with the console's
/// key module in the browser).
pub use salus_seal as seal;
pub mod signed_call;
pub mod transactions;
pub mod types;

pub use abi::{AbiError, ContractAbi};
pub use pseudonym::{PseudonymKeys, Relationship, RelationshipKind, derive_pseudonym};
pub use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
pub use salus_seal::randomness::{RandomnessError, fill_random};
pub use seal::{
    CommitmentKind, CommitmentSalt, SealError, commit, commit_value, commit_with_random_salt, open,
    seal,
};
pub use signed_call::{CallAt, CallSignatureError, DryRun, SignedCall};
pub use transactions::{TransactionBuilder, decode_failure};
pub use types::{AbiType, TypeError};
/// The X25519 crate of [`PseudonymKeys::encryption`] and [`seal()`]'s keys.
pub use x25519_dalek;
