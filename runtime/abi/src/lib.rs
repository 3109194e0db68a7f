//! The Salus host interface, shared by the runtime (host) and the SDK (guest).
//!
//! [`for_each_host_function!`] lists every host function once, with its Wasm signature and
//! documentation. The runtime expands it into its linker — a host function whose Rust signature
//! differs from the table does not compile — and the SDK expands it into its `extern "C"`
//! imports, so the two sides cannot drift. [`HOST_FUNCTIONS`] is the same table as data, used to
//! check a module's imports at deploy time. [`HostFunction`] names each function, so that the
//! host's fuel charges and the documentation (`docs/ABI.md`, checked against the table by a
//! test) name functions from the table rather than from hand-typed strings.
//!
//! Every other name host, guest and tools must agree on — the import module, the entry points,
//! the custom sections, the ABI version — is a constant here (`names.rs`), and `selector` (the
//! `selector` feature, `selector.rs`) is the one implementation of the message-selector rule.
//!
//! Those two files have no dependency on this crate and are also compiled into the
//! `#[contract]` macro by path rather than through a dependency: any new dependency edge of the
//! macro or of this crate changes cargo's `-C metadata` hash of every contract crate, which
//! feeds symbol names and so the layout LTO produces — every contract's code would change. For
//! the same reason `sha3` is optional here (the `selector` feature, which contracts never
//! enable).
//!
//! Conventions: pointers and lengths are `i32` offsets into the contract's exported `memory`;
//! addresses are 20 bytes, hashes 32, amounts 16 (little-endian `u128`). Functions that return
//! variable-length data copy at most `out_cap` bytes and return the full length, or
//! [`ABSENT`] when there is nothing.
#![no_std]

mod names;
pub use names::*;

#[cfg(feature = "selector")]
mod selector;
#[cfg(feature = "selector")]
pub use selector::selector;

/// Returned by length-returning functions when the value does not exist.
pub const ABSENT: i64 = -1;

/// Bytes of an address.
pub const ADDRESS_BYTES: usize = 20;
/// Bytes of a hash.
pub const HASH_BYTES: usize = 32;
/// Bytes of an amount (`u128`, little-endian).
pub const AMOUNT_BYTES: usize = 16;
/// Bytes of a recoverable signature (`r ‖ s ‖ v`).
pub const SIGNATURE_BYTES: usize = 65;
/// Bytes of a compressed secp256k1 public key.
pub const PUBLIC_KEY_BYTES: usize = 33;
/// Outcome codes of [`call`](HostFunction::call) and [`instantiate`](HostFunction::instantiate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum CallStatus {
    /// The callee returned normally; its return data is available.
    Success = 0,
    /// The callee reverted; its message is the result data.
    Reverted = 1,
    /// The callee ran out of the fuel it was given.
    OutOfFuel = 2,
    /// The callee trapped.
    Trapped = 3,
    /// The call would exceed the maximum call depth.
    DepthExceeded = 4,
    /// The callee is already on the call stack and does not allow re-entry.
    ReentrancyRefused = 5,
    /// No contract at that address (or no code under that hash).
    UnknownContract = 6,
    /// The caller cannot cover the value sent.
    InsufficientBalance = 7,
    /// The constructor input or call input was refused before running (e.g. address taken).
    Refused = 8,
}

impl CallStatus {
    /// The status for a raw code, if it is one.
    pub fn from_code(code: i32) -> Option<CallStatus> {
        Some(match code {
            0 => CallStatus::Success,
            1 => CallStatus::Reverted,
            2 => CallStatus::OutOfFuel,
            3 => CallStatus::Trapped,
            4 => CallStatus::DepthExceeded,
            5 => CallStatus::ReentrancyRefused,
            6 => CallStatus::UnknownContract,
            7 => CallStatus::InsufficientBalance,
            8 => CallStatus::Refused,
            _ => return None,
        })
    }
}

/// Limits shared by host and guest, each with the reason for its value.
pub mod limits {
    /// Largest storage key, in bytes: keys are copied and hashed on every access.
    pub const MAX_STORAGE_KEY_BYTES: usize = 128;
    /// Largest storage value, in bytes: a value is copied into the state tree's leaf and the
    /// undo data on every write.
    pub const MAX_STORAGE_VALUE_BYTES: usize = 64 * 1024;
    /// Most topics per event (as Ethereum's LOG0..LOG4): topics are indexed.
    pub const MAX_EVENT_TOPICS: usize = 4;
    /// Largest event data, in bytes.
    pub const MAX_EVENT_DATA_BYTES: usize = 16 * 1024;
    /// Most events per transaction, across all frames: bounds receipt size.
    pub const MAX_EVENTS_PER_TRANSACTION: usize = 256;
    /// Largest return data or revert message, in bytes: it is copied between frames and kept
    /// in the receipt.
    pub const MAX_RETURN_DATA_BYTES: usize = 64 * 1024;
    /// Largest call input, in bytes.
    pub const MAX_INPUT_BYTES: usize = 256 * 1024;
    /// Deepest nesting of contract calls. Each frame holds a live instance (its memory and
    /// stack), so the bound caps a transaction's memory at this many contract memories.
    pub const MAX_CALL_DEPTH: usize = 32;
}

/// A Wasm value type in a host-function signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

/// One host function's name and Wasm signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFunctionSignature {
    /// Import name within [`HOST_MODULE`].
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValueType],
    /// Result types (zero or one).
    pub results: &'static [ValueType],
}

/// Calls `$callback!` with the table of host functions:
/// `$( $(#[doc])* fn name(arg: type, ...) $(-> type)?; )*`.
#[macro_export]
macro_rules! for_each_host_function {
    ($callback:ident) => {
        $callback! {
            /// Length of the call input (selector and SCALE arguments) in bytes.
            fn input_len() -> i32;
            /// Copies the whole call input to `out_ptr`.
            fn input_read(out_ptr: i32);
            /// Sets the data returned to the caller when the contract finishes normally.
            fn set_return(ptr: i32, len: i32);
            /// Ends execution, rolling back this frame, with a UTF-8 message for the caller.
            fn revert(message_ptr: i32, message_len: i32);

            /// Reads the value under a key of the contract's own storage: copies at most
            /// `out_cap` bytes and returns the value's length, or `ABSENT`.
            fn storage_get(key_ptr: i32, key_len: i32, out_ptr: i32, out_cap: i32) -> i64;
            /// Writes a value under a key of the contract's own storage.
            fn storage_set(key_ptr: i32, key_len: i32, value_ptr: i32, value_len: i32);
            /// Removes a key from the contract's own storage.
            fn storage_remove(key_ptr: i32, key_len: i32);
            /// 1 if the key exists in the contract's own storage, else 0.
            fn storage_has(key_ptr: i32, key_len: i32) -> i32;
            /// The first key (in byte order) that starts with the prefix and is greater than
            /// the cursor (`after_len = -1`: no cursor, start at the prefix). Copies at most
            /// `out_cap` bytes of the key and returns its length, or `ABSENT` when there is none.
            fn storage_next_key(prefix_ptr: i32, prefix_len: i32, after_ptr: i32, after_len: i32, out_ptr: i32, out_cap: i32) -> i64;

            /// Writes the immediate caller's address (20 bytes).
            fn caller(out_ptr: i32);
            /// Writes the address that signed the transaction (20 bytes).
            fn origin(out_ptr: i32);
            /// Writes the executing contract's own address (20 bytes).
            fn self_address(out_ptr: i32);
            /// Writes the native value sent with this call (16 bytes).
            fn value(out_ptr: i32);
            /// The current block's number.
            fn block_number() -> i64;
            /// The current block's timestamp, ms since the Unix epoch.
            fn block_timestamp_ms() -> i64;
            /// The chain id.
            fn chain_id() -> i64;
            /// Fuel left in this frame.
            fn fuel_left() -> i64;

            /// Emits an event: `topics_count` (≤ 4) topics of 32 bytes at `topics_ptr`, and
            /// `data_len` bytes of data.
            fn emit_event(topics_ptr: i32, topics_count: i32, data_ptr: i32, data_len: i32);

            /// Writes keccak256 of the input (32 bytes) to `out_ptr`.
            fn keccak256(ptr: i32, len: i32, out_ptr: i32);
            /// Recovers the address that signed a 32-byte digest with a 65-byte recoverable
            /// signature (low-S only); writes it (20 bytes) and returns 0, or returns 1.
            fn secp256k1_recover(digest_ptr: i32, signature_ptr: i32, out_ptr: i32) -> i32;
            /// 1 if the 64-byte signature over the 32-byte digest verifies under the 33-byte
            /// compressed public key (low-S only), else 0.
            fn secp256k1_verify(digest_ptr: i32, signature_ptr: i32, public_key_ptr: i32) -> i32;

            /// Writes the native balance of an address (16 bytes).
            fn balance(address_ptr: i32, out_ptr: i32);
            /// Moves native balance from this contract to an address: 0 on success, 7 if the
            /// contract cannot cover it.
            fn transfer(address_ptr: i32, amount_ptr: i32) -> i32;

            /// Calls another contract synchronously with `fuel` (0: all remaining) and a value;
            /// returns a `CallStatus` code. The callee's return data or revert message is read
            /// with `call_result_len` and `call_result_read`.
            fn call(contract_ptr: i32, input_ptr: i32, input_len: i32, value_ptr: i32, fuel: i64) -> i32;
            /// Deploys a contract from code already on chain (by code hash) at the address
            /// derived from this contract, the code hash and the salt, running its constructor
            /// with the input; writes the new address (20 bytes) and returns a `CallStatus` code.
            fn instantiate(code_hash_ptr: i32, input_ptr: i32, input_len: i32, salt_ptr: i32, value_ptr: i32, fuel: i64, out_ptr: i32) -> i32;
            /// Length of the last call's result data.
            fn call_result_len() -> i32;
            /// Copies the last call's result data to `out_ptr`.
            fn call_result_read(out_ptr: i32);
        }
    };
}

macro_rules! signature_table {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
        /// Every host function, as data: what deploy-time import checking compares against.
        /// In the order of [`HostFunction`]'s variants.
        pub const HOST_FUNCTIONS: &[HostFunctionSignature] = &[
            $( HostFunctionSignature {
                name: stringify!($name),
                params: &[$(value_type!($ty)),*],
                results: &[$(value_type!($ret))?],
            }, )*
        ];

        /// Every host function, by name. The variants are spelled exactly as the Wasm imports
        /// (`HostFunction::storage_get` is the import `salus.storage_get`), so that code naming
        /// a host function — a fuel charge, a breakdown entry — names it from the table.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum HostFunction {
            $( $(#[$doc])* $name, )*
        }

        impl HostFunction {
            /// Every host function, in table order.
            pub const ALL: &[HostFunction] = &[$(HostFunction::$name),*];

            /// The import name within [`HOST_MODULE`].
            pub const fn name(self) -> &'static str {
                match self {
                    $( HostFunction::$name => stringify!($name), )*
                }
            }
        }
    };
}

macro_rules! value_type {
    (i32) => {
        ValueType::I32
    };
    (i64) => {
        ValueType::I64
    };
}

for_each_host_function!(signature_table);

/// The signature of the host function `name`, if there is one.
pub fn host_function(name: &str) -> Option<&'static HostFunctionSignature> {
    HOST_FUNCTIONS.iter().find(|function| function.name == name)
}

impl HostFunction {
    /// Its name and Wasm signature.
    pub const fn signature(self) -> &'static HostFunctionSignature {
        // Both lists are expanded from the one table, in the same order.
        &HOST_FUNCTIONS[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_unique_names_and_known_entries() {
        for (i, a) in HOST_FUNCTIONS.iter().enumerate() {
            for b in &HOST_FUNCTIONS[i + 1..] {
                assert_ne!(a.name, b.name, "duplicate host function");
            }
        }
        let get = host_function("storage_get").unwrap();
        assert_eq!(get.params, &[ValueType::I32; 4]);
        assert_eq!(get.results, &[ValueType::I64]);
        assert_eq!(host_function("revert").unwrap().results, &[]);
        assert!(host_function("fd_write").is_none());
    }

    #[test]
    fn every_host_function_names_its_own_signature() {
        assert_eq!(HostFunction::ALL.len(), HOST_FUNCTIONS.len());
        for (function, signature) in HostFunction::ALL.iter().zip(HOST_FUNCTIONS) {
            assert_eq!(function.name(), signature.name);
            assert_eq!(function.signature(), signature);
        }
        assert_eq!(HostFunction::storage_get.name(), "storage_get");
    }

    #[test]
    fn call_status_codes_round_trip() {
        for code in 0..=8 {
            assert_eq!(CallStatus::from_code(code).map(|s| s as i32), Some(code));
        }
        assert_eq!(CallStatus::from_code(9), None);
    }
}
