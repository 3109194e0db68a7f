//! Blinded tags and subject handles (docs/PRIVACY.md §5.2, §5.7): what the chain holds instead
//! of a record's security labels and data class, and instead of a patient's address in event
//! topics — computed the same way inside the VM and on the host (tests, wallets, custodians).
//!
//! `tag = keccak256("salus/tag/v1" ‖ blind_r ‖ code)` and
//! `subject = keccak256("salus/topic/v1" ‖ blind_r)`, where `blind_r` is the relationship's
//! 32-byte blinding key (`salus_client::pseudonym`, shared by the patient's wallet and the
//! custodian at enrolment) and `code` the code's UTF-8 bytes (`blind_r` has a fixed length, so
//! the code after it needs no length prefix). The contract only compares tags for equality; it
//! never computes one.

use salus_sdk::Hash;
use salus_sdk::prelude::Vec;

/// Domain separator of [`blinded_tag`].
pub const TAG_DOMAIN: &[u8] = b"salus/tag/v1";
/// Domain separator of [`subject_handle`].
pub const TOPIC_DOMAIN: &[u8] = b"salus/topic/v1";
/// A record's label tags are padded to a multiple of this ([`pad_label_tags`]), so the number
/// of labels is not visible.
pub const LABEL_TAG_BLOCK: usize = 4;

/// The blinded tag of `code` (a security label or a FHIR resource type) in the relationship
/// whose blinding key is `blinding`: equal codes give equal tags within one relationship,
/// unrelated tags across relationships.
pub fn blinded_tag(blinding: &[u8; 32], code: &str) -> Hash {
    keccak(&[TAG_DOMAIN, blinding, code.as_bytes()])
}

/// The relationship's subject handle: the topic of its events in place of the patient's
/// address.
pub fn subject_handle(blinding: &[u8; 32]) -> Hash {
    keccak(&[TOPIC_DOMAIN, blinding])
}

/// The label tags of `labels` in the relationship, padded with tags from `random` (32 random
/// bytes each, e.g. from the operating system) to a multiple of [`LABEL_TAG_BLOCK`] — at least
/// one block, so a record without labels looks like any other — and sorted, so neither the
/// number of labels nor their order shows.
pub fn label_tags(
    blinding: &[u8; 32],
    labels: &[&str],
    mut random: impl FnMut() -> [u8; 32],
) -> Vec<Hash> {
    let mut tags: Vec<Hash> = labels
        .iter()
        .map(|label| blinded_tag(blinding, label))
        .collect();
    pad_label_tags(&mut tags, &mut random);
    tags
}

/// Pads `tags` with random ones to a non-zero multiple of [`LABEL_TAG_BLOCK`] and sorts them.
pub fn pad_label_tags(tags: &mut Vec<Hash>, mut random: impl FnMut() -> [u8; 32]) {
    while tags.is_empty() || !tags.len().is_multiple_of(LABEL_TAG_BLOCK) {
        tags.push(Hash(random()));
    }
    tags.sort_by_key(|tag| tag.0);
}

fn keccak(parts: &[&[u8]]) -> Hash {
    #[cfg(target_arch = "wasm32")]
    {
        let mut preimage = Vec::new();
        for part in parts {
            preimage.extend_from_slice(part);
        }
        salus_sdk::crypto::keccak256(&preimage)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        salus_primitives::hash::keccak256_concat(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_keccak256_of_the_domain_the_blinding_key_and_the_code() {
        let blinding = [7u8; 32];
        let mut preimage = b"salus/tag/v1".to_vec();
        preimage.extend_from_slice(&blinding);
        preimage.extend_from_slice(b"PSY");
        assert_eq!(
            blinded_tag(&blinding, "PSY"),
            salus_primitives::hash::keccak256(&preimage)
        );
        let mut topic = b"salus/topic/v1".to_vec();
        topic.extend_from_slice(&blinding);
        assert_eq!(
            subject_handle(&blinding),
            salus_primitives::hash::keccak256(&topic)
        );
    }

    #[test]
    fn the_same_code_under_two_blinding_keys_gives_unrelated_tags() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(blinded_tag(&a, "HIV"), blinded_tag(&a, "HIV"));
        assert_ne!(blinded_tag(&a, "HIV"), blinded_tag(&b, "HIV"));
        assert_ne!(blinded_tag(&a, "HIV"), blinded_tag(&a, "PSY"));
        assert_ne!(subject_handle(&a), subject_handle(&b));
        // Unrelated: no shared bytes beyond chance, not a constant offset.
        let (x, y) = (blinded_tag(&a, "HIV").0, blinded_tag(&b, "HIV").0);
        assert!(x.iter().zip(y).filter(|(p, q)| **p == *q).count() < 8);
    }

    #[test]
    fn label_tags_are_padded_to_a_multiple_of_four_and_sorted() {
        let mut counter = 0u8;
        let mut random = || {
            counter += 1;
            [counter; 32]
        };
        let blinding = [3u8; 32];
        let none = label_tags(&blinding, &[], &mut random);
        assert_eq!(none.len(), 4);
        let five = label_tags(&blinding, &["N", "R", "V", "PSY", "HIV"], &mut random);
        assert_eq!(five.len(), 8);
        assert!(five.contains(&blinded_tag(&blinding, "PSY")));
        assert!(five.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    }
}
