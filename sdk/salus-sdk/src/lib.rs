//! The Salus contract SDK.
//!
//! A contract is a `no_std` crate compiled to `wasm32-unknown-unknown`. It keeps its state in
//! typed storage handles ([`storage::Value`], [`storage::Map`]), reads its environment
//! ([`env`](mod@env)), emits events ([`events`]), calls other contracts ([`call`]) and reports
//! failures as typed errors or revert messages. The [`contract`] attribute turns an `impl` block into the
//! `deploy` and `call` entry points, with dispatch by 4-byte selector and SCALE arguments, and
//! embeds the contract's ABI in a custom section so clients can read it from chain. [`data`],
//! [`event`] and [`error`] describe themselves for that ABI, so they may be declared in any
//! module of the crate (or in another contract's crate); `<Contract>Ref`, generated beside the
//! contract, calls it from another contract with its own argument and return types.
//!
//! ```ignore
//! #![no_std]
//!
//! #[salus_sdk::contract]
//! mod counter {
//!     use salus_sdk::prelude::*;
//!
//!     const COUNT: Value<u64> = Value::new(b"count");
//!
//!     #[event]
//!     pub struct Incremented { #[topic] pub by: Address, pub value: u64 }
//!
//!     #[error]
//!     pub enum CounterError { Overflow }
//!
//!     pub struct Counter;
//!
//!     impl Counter {
//!         #[constructor]
//!         pub fn new(start: u64) { COUNT.set(&start); }
//!
//!         #[message]
//!         pub fn increment(by: u64) -> Result<u64, CounterError> {
//!             let next = COUNT.get().unwrap_or(0).checked_add(by).ok_or(CounterError::Overflow)?;
//!             COUNT.set(&next);
//!             Incremented { by: caller(), value: next }.emit();
//!             Ok(next)
//!         }
//!
//!         #[message(view)]
//!         pub fn get() -> u64 { COUNT.get().unwrap_or(0) }
//!     }
//! }
//! ```
//!
//! Everything that touches the host exists only on `wasm32`; on other targets the SDK compiles
//! (so contract crates can be checked and their pure logic unit-tested) but host calls panic.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi_description;
pub mod call;
pub mod crypto;
pub mod dispatch;
pub mod env;
pub mod events;
#[cfg(target_arch = "wasm32")]
mod runtime_support;
pub mod storage;
pub mod sys;

pub use parity_scale_codec::{self as codec, Decode, Encode};
pub use salus_primitives::{Address, Hash};
pub use salus_sdk_macros::{contract, data, error, event, selector};

/// Ends execution, rolling back this call's effects, with `message` for the caller and the
/// receipt.
pub fn revert(message: &str) -> ! {
    sys::revert(message.as_bytes())
}

/// Reverts with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: &str) {
    if !condition {
        revert(message)
    }
}

/// Everything a contract usually needs.
pub mod prelude {
    pub use crate::call::{CallError, call};
    pub use crate::env::{block_number, block_timestamp_ms, caller, origin, self_address, value};
    pub use crate::events::Event;
    pub use crate::storage::{Map, Value};
    pub use crate::{
        Address, Decode, Encode, Hash, contract, data, ensure, error, event, revert, selector,
    };
    pub use alloc::string::String;
    pub use alloc::vec::Vec;
}
