//! Events: up to four indexed topics and SCALE data. `#[event]` implements [`Event`] for a
//! struct: its first topic is keccak256 of the event name, and fields marked `#[topic]` add one
//! topic each (the field's encoding if 32 bytes or fewer, padded; its keccak256 otherwise).

use alloc::vec::Vec;

use crate::sys;

/// An event a contract can emit.
pub trait Event: parity_scale_codec::Encode {
    /// The event's topics (the first is the event's signature).
    fn topics(&self) -> Vec<[u8; 32]>;

    /// Emits the event.
    fn emit(&self) {
        sys::emit_event(&self.topics(), &self.encode())
    }
}

/// A topic for an indexed field: its encoding, zero-padded, if it fits in 32 bytes; otherwise
/// keccak256 of the encoding.
pub fn topic_of<T: parity_scale_codec::Encode>(value: &T) -> [u8; 32] {
    let encoded = value.encode();
    if encoded.len() <= 32 {
        let mut topic = [0u8; 32];
        topic[..encoded.len()].copy_from_slice(&encoded);
        topic
    } else {
        sys::keccak256(&encoded)
    }
}
