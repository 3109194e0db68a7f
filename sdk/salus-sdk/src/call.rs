//! Calls to other contracts.

use alloc::string::String;
use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode};
use salus_abi::CallStatus;

use crate::{Address, sys};

/// Why a call to another contract failed. The callee's effects were rolled back; the caller's
/// were not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The callee reverted with this message.
    Reverted(String),
    /// The callee failed otherwise (out of fuel, trap, depth, re-entry, unknown contract,
    /// insufficient balance).
    Failed(CallStatus),
    /// The callee succeeded but its result does not decode as the expected type.
    BadResult,
}

/// The input for message `selector` with SCALE `arguments`.
pub fn message_input(selector: [u8; 4], arguments: &impl Encode) -> Vec<u8> {
    let mut input = selector.to_vec();
    arguments.encode_to(&mut input);
    input
}

/// Calls `contract` with raw `input`, sending `value`, forwarding all remaining fuel.
///
/// # Errors
/// [`CallError`] when the callee does not succeed.
pub fn call_raw(contract: &Address, input: &[u8], value: u128) -> Result<Vec<u8>, CallError> {
    let (status, data) = sys::call(&contract.0, input, value, 0);
    match CallStatus::from_code(status) {
        Some(CallStatus::Success) => Ok(data),
        Some(CallStatus::Reverted) => {
            Err(CallError::Reverted(String::from_utf8_lossy(&data).into()))
        }
        Some(other) => Err(CallError::Failed(other)),
        None => Err(CallError::Failed(CallStatus::Trapped)),
    }
}

/// Calls message `selector` of `contract` with `arguments`, decoding the result as `R`.
///
/// # Errors
/// [`CallError`] when the callee does not succeed or its result does not decode.
pub fn call<R: Decode>(
    contract: &Address,
    selector: [u8; 4],
    arguments: &impl Encode,
) -> Result<R, CallError> {
    let data = call_raw(contract, &message_input(selector, arguments), 0)?;
    R::decode(&mut &data[..]).map_err(|_| CallError::BadResult)
}
