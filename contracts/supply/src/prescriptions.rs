//! A prescription's handle: what the chain holds of a prescription instead of its patient and
//! product (docs/PRIVACY.md §5.5), computed the same way inside the VM and on the host.
//!
//! `handle = keccak256("salus/rx/v1" ‖ salt ‖ ndc ‖ inner)`, where `salt` is 32 random bytes the
//! prescriber draws for this prescription, `ndc` the product's NDC exactly as the product is
//! registered (`Product::ndc`, UTF-8), and `inner` a 32-byte commitment to the patient's details
//! computed off chain (the contract never sees it opened). `salt` and `inner` have a fixed
//! length, so the NDC between them is delimited without a length prefix. The prescriber posts
//! only the handle; the dispenser presents `salt` and `inner` (from the prescriber's sealed copy)
//! and the contract recomputes the handle with the NDC of the unit it dispenses.

use salus_sdk::Hash;

/// Domain separator of [`prescription_handle`]: names the scheme and its version.
pub const PRESCRIPTION_HANDLE_DOMAIN: &[u8] = b"salus/rx/v1";

/// The handle of a prescription of `ndc` with opening `salt` and `inner` (see the module
/// documentation). Inside the VM it asks the host for keccak256; elsewhere (tests, the
/// prescriber's and the dispenser's tools) it hashes locally, with the same result.
pub fn prescription_handle(salt: &Hash, ndc: &str, inner: &Hash) -> Hash {
    #[cfg(target_arch = "wasm32")]
    {
        let mut preimage = salus_sdk::prelude::Vec::with_capacity(
            PRESCRIPTION_HANDLE_DOMAIN.len() + 32 + ndc.len() + 32,
        );
        preimage.extend_from_slice(PRESCRIPTION_HANDLE_DOMAIN);
        preimage.extend_from_slice(&salt.0);
        preimage.extend_from_slice(ndc.as_bytes());
        preimage.extend_from_slice(&inner.0);
        salus_sdk::crypto::keccak256(&preimage)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        salus_primitives::hash::keccak256_concat(&[
            PRESCRIPTION_HANDLE_DOMAIN,
            &salt.0,
            ndc.as_bytes(),
            &inner.0,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_is_keccak256_of_the_domain_salt_ndc_and_inner_commitment() {
        let (salt, inner) = (Hash([0x11; 32]), Hash([0x22; 32]));
        let mut preimage = b"salus/rx/v1".to_vec();
        preimage.extend_from_slice(&[0x11; 32]);
        preimage.extend_from_slice(b"12345-678-90");
        preimage.extend_from_slice(&[0x22; 32]);
        assert_eq!(
            prescription_handle(&salt, "12345-678-90", &inner),
            salus_primitives::hash::keccak256(&preimage)
        );
    }

    #[test]
    fn every_part_of_the_opening_changes_the_handle() {
        let (salt, inner) = (Hash([0x11; 32]), Hash([0x22; 32]));
        let handle = prescription_handle(&salt, "12345-678-90", &inner);
        assert_ne!(
            handle,
            prescription_handle(&Hash([0x12; 32]), "12345-678-90", &inner),
            "another salt: the same patient and product under another handle"
        );
        assert_ne!(
            handle,
            prescription_handle(&salt, "12345-678-91", &inner),
            "another product"
        );
        assert_ne!(
            handle,
            prescription_handle(&salt, "12345-678-90", &Hash([0x23; 32])),
            "another patient commitment"
        );
    }
}
