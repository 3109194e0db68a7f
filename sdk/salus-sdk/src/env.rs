//! The contract's environment: who called, with what value, in which block.

use crate::{Address, sys};

/// The immediate caller: the signer for a transaction's top-level call, or the calling contract.
pub fn caller() -> Address {
    Address(sys::caller())
}

/// The account that signed the transaction.
pub fn origin() -> Address {
    Address(sys::origin())
}

/// This contract's address.
pub fn self_address() -> Address {
    Address(sys::self_address())
}

/// Native value sent with this call.
pub fn value() -> u128 {
    sys::value()
}

/// The current block's number.
pub fn block_number() -> u64 {
    sys::block_number()
}

/// The current block's timestamp, ms since the Unix epoch.
pub fn block_timestamp_ms() -> u64 {
    sys::block_timestamp_ms()
}

/// The chain id.
pub fn chain_id() -> u64 {
    sys::chain_id()
}

/// Fuel left in this call.
pub fn fuel_left() -> u64 {
    sys::fuel_left()
}

/// Native balance of `address`.
pub fn balance(address: &Address) -> u128 {
    sys::balance(&address.0)
}
