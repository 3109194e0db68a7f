//! Building and signing transactions, and explaining failures.

use salus_primitives::{
    Action, Address, Balance, ExecutionStatus, Hash, SecretKey, SignedTransaction, Transaction,
};

/// Builds signed transactions for one chain and sender, tracking the nonce.
pub struct TransactionBuilder {
    chain_id: u64,
    key: SecretKey,
    nonce: u64,
    fuel_limit: u64,
    fuel_price: Balance,
}

impl TransactionBuilder {
    /// A builder for `key` on chain `chain_id`, starting at `nonce`.
    pub fn new(chain_id: u64, key: SecretKey, nonce: u64) -> Self {
        TransactionBuilder {
            chain_id,
            key,
            nonce,
            fuel_limit: 5_000_000,
            fuel_price: 1,
        }
    }

    /// Sets the fuel limit and price of the next transactions.
    pub fn fuel(mut self, limit: u64, price: Balance) -> Self {
        self.fuel_limit = limit;
        self.fuel_price = price;
        self
    }

    /// The sender's address.
    pub fn sender(&self) -> Address {
        self.key.address()
    }

    /// The nonce the next transaction will carry.
    pub fn next_nonce(&self) -> u64 {
        self.nonce
    }

    /// Signs `action` with the next nonce.
    pub fn sign(&mut self, action: Action) -> SignedTransaction {
        let transaction = Transaction {
            chain_id: self.chain_id,
            nonce: self.nonce,
            fuel_limit: self.fuel_limit,
            fuel_price: self.fuel_price,
            action,
            sponsor: None,
        };
        self.nonce += 1;
        transaction.sign(&self.key, None)
    }

    /// A native transfer.
    pub fn transfer(&mut self, to: Address, amount: Balance) -> SignedTransaction {
        self.sign(Action::Transfer { to, amount })
    }

    /// A deploy of `code` with constructor input and salt.
    pub fn deploy(
        &mut self,
        code: Vec<u8>,
        constructor_input: Vec<u8>,
        salt: Hash,
    ) -> SignedTransaction {
        self.sign(Action::Deploy {
            code,
            constructor_input,
            salt,
            value: 0,
        })
    }

    /// A contract call.
    pub fn call(&mut self, contract: Address, input: Vec<u8>) -> SignedTransaction {
        self.sign(Action::Call {
            contract,
            input,
            value: 0,
        })
    }
}

/// A one-line explanation of a failed receipt, or `None` for success.
pub fn decode_failure(status: &ExecutionStatus) -> Option<String> {
    match status {
        ExecutionStatus::Success => None,
        ExecutionStatus::Reverted { message } => Some(format!("reverted: {message}")),
        ExecutionStatus::OutOfFuel => Some("ran out of fuel: raise the fuel limit".into()),
        ExecutionStatus::Trapped { kind } => Some(format!("trapped: {kind:?}")),
        ExecutionStatus::Invalid { reason } => Some(format!("refused: {reason}")),
    }
}
