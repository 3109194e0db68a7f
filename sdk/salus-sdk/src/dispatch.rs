//! Support for the code `#[contract]` generates: reading the selector, decoding arguments with
//! errors that name the argument, rejecting trailing bytes, and guarding view messages.

use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use parity_scale_codec::Decode;

use crate::sys;

static READ_ONLY: AtomicBool = AtomicBool::new(false);

/// The call input split into its selector and arguments; reverts if shorter than a selector.
pub fn input() -> ([u8; 4], Vec<u8>) {
    let input = sys::input();
    if input.len() < 4 {
        crate::revert("input is shorter than a 4-byte selector");
    }
    let selector = [input[0], input[1], input[2], input[3]];
    (selector, input[4..].to_vec())
}

/// Decodes argument `name` of type `type_name`, reverting with both names if it does not decode.
pub fn argument<T: Decode>(input: &mut &[u8], name: &str, type_name: &str) -> T {
    T::decode(input).unwrap_or_else(|error| {
        crate::revert(&format!(
            "argument `{name}`: cannot decode a {type_name}: {error}"
        ))
    })
}

/// Reverts if bytes remain after the last argument.
pub fn no_trailing_bytes(input: &[u8]) {
    if !input.is_empty() {
        crate::revert(&format!(
            "{} trailing bytes after the arguments",
            input.len()
        ));
    }
}

/// Reverts for a selector no message has.
pub fn unknown_selector(selector: [u8; 4]) -> ! {
    crate::revert(&format!(
        "unknown selector 0x{:02x}{:02x}{:02x}{:02x}",
        selector[0], selector[1], selector[2], selector[3]
    ))
}

/// Marks the running message as a view: storage writes revert.
pub fn enter_view() {
    READ_ONLY.store(true, Ordering::Relaxed);
}

/// Reverts if the running message is a view.
pub fn ensure_writable() {
    if READ_ONLY.load(Ordering::Relaxed) {
        crate::revert("a view message cannot write storage");
    }
}

/// Reverts with a contract error's message (its `Display`: `ErrorType::Variant`).
pub fn revert_with(error: &dyn core::fmt::Display) -> ! {
    crate::revert(&format!("{error}"))
}

/// Returns `value`, SCALE encoded, to the caller.
pub fn return_value<T: parity_scale_codec::Encode>(value: &T) {
    sys::set_return(&value.encode())
}
