//! Native accounts: nonce, balance and, for contracts, the hash of their code.

use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

use crate::{Balance, hash::Hash};

/// The state of one address. An address never touched has the default account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, MaxEncodedLen)]
pub struct Account {
    /// Number of transactions this account has sent; the next transaction must carry it.
    pub nonce: u64,
    /// Native balance.
    pub balance: Balance,
    /// For a contract, the keccak256 of its Wasm code; `None` for a key-controlled account.
    pub code_hash: Option<Hash>,
}

impl Account {
    /// Whether this is the default (never touched) account, which is stored as absent.
    pub fn is_empty(&self) -> bool {
        *self == Account::default()
    }
}
