//! Salus on-chain primitives shared by the node, the runtime, clients and contracts.
//!
//! Everything here is deterministic and `no_std` + `alloc`: hashes and addresses, recoverable
//! secp256k1 signatures, the SCALE-encoded transaction, block, receipt and event types, RFC 6962
//! Merkle roots, compact proof-of-work targets and the verification of state proofs. The `std`
//! feature adds key derivation from BIP-39 mnemonics.
//!
//! ```
//! use salus_primitives::{keccak256, Hash};
//! let h: Hash = keccak256(b"");
//! assert_eq!(
//!     h.to_string(),
//!     "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
//! );
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod account;
pub mod address;
pub mod block;
pub mod chain_params;
pub mod crypto;
pub mod hash;
#[cfg(feature = "std")]
pub mod keys;
pub mod limits;
pub mod merkle;
pub mod pow;
pub mod receipt;
pub mod signed_call;
pub mod state_key;
pub mod state_proof;
pub mod transaction;

pub use account::Account;
pub use address::Address;
pub use block::{Block, BlockHeader};
pub use chain_params::ChainParams;
pub use crypto::{SecretKey, Signature, SignatureError};
pub use hash::{Hash, keccak256};
pub use pow::{CompactTarget, Work};
pub use receipt::{
    Event, ExecutionStatus, InvalidReason, ModuleLimit, ModuleRejection, Receipt, TrapKind,
};
pub use state_key::StateKey;
pub use transaction::{Action, SignedTransaction, Transaction};

/// Native token amounts (balances, fees, rewards), in the smallest unit.
pub type Balance = u128;
/// Block height; genesis is 0.
pub type BlockNumber = u64;
