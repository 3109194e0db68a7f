//! The selector rule: the one implementation, used by the runtime's tools, the client, the test
//! kit and — compiled from this very file — the `#[contract]` macro (see the crate docs). It
//! refers only to `sha3` and to `SELECTOR_BYTES` of the module that includes it.

use sha3::{Digest, Keccak256};

use super::SELECTOR_BYTES;

/// The selector of the message (or constructor) `name`: the first [`SELECTOR_BYTES`] bytes of
/// keccak256 (Ethereum's Keccak padding) of its name. Call input starts with it; the
/// `#[contract]` macro dispatches on it, and clients and the test kit encode calls with it.
pub fn selector(name: &str) -> [u8; SELECTOR_BYTES] {
    let digest = Keccak256::digest(name.as_bytes());
    let mut selector = [0u8; SELECTOR_BYTES];
    selector.copy_from_slice(&digest[..SELECTOR_BYTES]);
    selector
}

#[cfg(test)]
mod tests {
    use super::selector;

    #[test]
    fn a_selector_is_the_first_four_bytes_of_keccak256_of_the_name() {
        // keccak256("transfer(address,uint256)") starts a9059cbb: Ethereum's ERC-20 selector,
        // computed with the same Keccak padding.
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
        // keccak256("") = c5d24601…
        assert_eq!(selector(""), [0xc5, 0xd2, 0x46, 0x01]);
    }
}
