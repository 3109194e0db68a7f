//! Pseudonyms per relationship (docs/PRIVACY.md §5.1): from one wallet key, a different signing
//! key, X25519 encryption key, blinding key and member-id salt for each counterparty, so that no
//! identifier on chain links a patient's records at two organisations. Derived with HKDF-SHA256
//! bound to the chain (genesis hash), the counterparty's whole address, the kind of relationship
//! and an episode number; one-way: a pseudonym's keys reveal neither the wallet key nor any other
//! pseudonym.

use hkdf::Hkdf;
use salus_primitives::{Address, Hash, SecretKey};
use sha2::Sha256;

/// HKDF-Extract salt: names the scheme and its version.
const SALT: &[u8] = b"salus/pseudonym/v1";

/// The kind of relationship a pseudonym is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipKind {
    /// A patient at a custodian (consent, records).
    Custodian,
    /// A member at a payer (coverage).
    Payer,
}

impl RelationshipKind {
    /// Every kind, in derivation-code order.
    pub const ALL: [RelationshipKind; 2] = [RelationshipKind::Custodian, RelationshipKind::Payer];

    fn code(self) -> u8 {
        match self {
            RelationshipKind::Custodian => 0,
            RelationshipKind::Payer => 1,
        }
    }

    /// The name used on the command line and in listings.
    pub fn name(self) -> &'static str {
        match self {
            RelationshipKind::Custodian => "custodian",
            RelationshipKind::Payer => "payer",
        }
    }

    /// The kind named `name` (`custodian` or `payer`).
    pub fn from_name(name: &str) -> Option<RelationshipKind> {
        RelationshipKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One relationship: the counterparty, the kind, and the episode (`0` first; a new episode
/// after a compromise or to split episodes of care).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Relationship {
    /// The chain (its genesis hash): the same wallet has unrelated pseudonyms on two chains.
    pub chain: Hash,
    /// The organisation on the other side.
    pub counterparty: Address,
    /// What the wallet's owner is to it.
    pub kind: RelationshipKind,
    /// Episode number.
    pub episode: u32,
}

impl Relationship {
    /// `info(r)` of PRIVACY.md §5.1: genesis hash ‖ counterparty ‖ kind ‖ episode (big-endian).
    fn info(&self, purpose: &[u8]) -> Vec<u8> {
        let mut info = Vec::with_capacity(purpose.len() + 32 + 20 + 1 + 4 + 1);
        info.extend_from_slice(purpose);
        info.extend_from_slice(&self.chain.0);
        info.extend_from_slice(&self.counterparty.0);
        info.push(self.kind.code());
        info.extend_from_slice(&self.episode.to_be_bytes());
        info
    }
}

/// The keys of one relationship.
#[derive(Clone)]
pub struct PseudonymKeys {
    /// The relationship they belong to.
    pub relationship: Relationship,
    /// Signs the pseudonym's transactions; its address is the pseudonym.
    pub signing: SecretKey,
    /// Opens what is sealed to the pseudonym (X25519).
    pub encryption: x25519_dalek::StaticSecret,
    /// Blinds event topics and tags; given to the counterparty at enrolment.
    pub blinding: [u8; 32],
    /// Salts the member id at a payer; given to the payer at enrolment.
    pub member_salt: [u8; 32],
}

impl PseudonymKeys {
    /// The pseudonym: the address of the signing key.
    pub fn address(&self) -> Address {
        self.signing.address()
    }

    /// The X25519 public key others seal to.
    pub fn encryption_public_key(&self) -> [u8; 32] {
        x25519_dalek::PublicKey::from(&self.encryption).to_bytes()
    }

    /// The blinded tag of `code` in this relationship ([`blinded_tag`]).
    pub fn tag(&self, code: &str) -> Hash {
        blinded_tag(&self.blinding, code)
    }

    /// This relationship's subject handle ([`subject_handle`]).
    pub fn subject_handle(&self) -> Hash {
        subject_handle(&self.blinding)
    }
}

/// The blinded tag of a code (a security label, a FHIR resource type) in the relationship whose
/// blinding key is `blinding`: `keccak256("salus/tag/v1" ‖ blinding ‖ code)` (PRIVACY.md §5.2),
/// as consent stores and compares them (the consent crate's `blinded_tag`, the same formula).
pub fn blinded_tag(blinding: &[u8; 32], code: &str) -> Hash {
    salus_primitives::hash::keccak256_concat(&[b"salus/tag/v1", blinding, code.as_bytes()])
}

/// The relationship's subject handle, the topic of its events in place of the patient's
/// address: `keccak256("salus/topic/v1" ‖ blinding)` (PRIVACY.md §5.7).
pub fn subject_handle(blinding: &[u8; 32]) -> Hash {
    salus_primitives::hash::keccak256_concat(&[b"salus/topic/v1", blinding])
}

impl std::fmt::Debug for PseudonymKeys {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PseudonymKeys")
            .field("relationship", &self.relationship)
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

/// Derives the keys of `relationship` from the wallet's key `primary`.
pub fn derive_pseudonym(primary: &SecretKey, relationship: Relationship) -> PseudonymKeys {
    let hkdf = Hkdf::<Sha256>::new(Some(SALT), &primary.to_bytes());
    let expand = |purpose: &[u8]| -> [u8; 32] {
        let mut out = [0u8; 32];
        hkdf.expand(&relationship.info(purpose), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    };
    // Rejection sampling: an output that is zero or not below the curve order (probability
    // about 2^-128) is drawn again with a retry counter, so the key is uniform.
    let signing = (0u8..=u8::MAX)
        .find_map(|retry| {
            let mut purpose = b"sign".to_vec();
            if retry > 0 {
                purpose.push(retry);
            }
            SecretKey::from_bytes(&expand(&purpose))
        })
        .expect("256 draws below the secp256k1 order never all fail");
    PseudonymKeys {
        relationship,
        signing,
        // Clamped by x25519-dalek when used.
        encryption: x25519_dalek::StaticSecret::from(expand(b"x25519")),
        blinding: expand(b"blind"),
        member_salt: expand(b"member"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_and_subject_handles_hash_the_domain_and_the_blinding_key() {
        let blinding = [7u8; 32];
        let mut preimage = b"salus/tag/v1".to_vec();
        preimage.extend_from_slice(&blinding);
        preimage.extend_from_slice(b"PSY");
        assert_eq!(
            super::blinded_tag(&blinding, "PSY"),
            salus_primitives::hash::keccak256(&preimage)
        );
        let mut topic = b"salus/topic/v1".to_vec();
        topic.extend_from_slice(&blinding);
        assert_eq!(
            super::subject_handle(&blinding),
            salus_primitives::hash::keccak256(&topic)
        );
        assert_ne!(
            super::blinded_tag(&[8u8; 32], "PSY"),
            super::blinded_tag(&blinding, "PSY")
        );
    }

    use super::*;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

    fn relationship(counterparty: u8, kind: RelationshipKind, episode: u32) -> Relationship {
        Relationship {
            chain: Hash([0x6e; 32]),
            counterparty: Address([counterparty; 20]),
            kind,
            episode,
        }
    }

    #[test]
    fn the_same_wallet_and_relationship_always_give_the_same_pseudonym() {
        let wallet = derive_key(DEV_MNEMONIC, 3).unwrap();
        let r = relationship(1, RelationshipKind::Custodian, 0);
        let (a, b) = (derive_pseudonym(&wallet, r), derive_pseudonym(&wallet, r));
        assert_eq!(a.address(), b.address());
        assert_eq!(a.encryption_public_key(), b.encryption_public_key());
        assert_eq!((a.blinding, a.member_salt), (b.blinding, b.member_salt));
    }

    #[test]
    fn every_part_of_the_relationship_changes_every_key() {
        let wallet = derive_key(DEV_MNEMONIC, 3).unwrap();
        let base = relationship(1, RelationshipKind::Custodian, 0);
        let variants = [
            Relationship {
                chain: Hash([0x6f; 32]),
                ..base
            },
            Relationship {
                counterparty: Address([2; 20]),
                ..base
            },
            Relationship {
                kind: RelationshipKind::Payer,
                ..base
            },
            Relationship { episode: 1, ..base },
        ];
        let keys = derive_pseudonym(&wallet, base);
        let mut seen = vec![
            keys.address().0.to_vec(),
            keys.encryption_public_key().to_vec(),
            keys.blinding.to_vec(),
            keys.member_salt.to_vec(),
            wallet.address().0.to_vec(),
        ];
        for variant in variants {
            let other = derive_pseudonym(&wallet, variant);
            for value in [
                other.address().0.to_vec(),
                other.encryption_public_key().to_vec(),
                other.blinding.to_vec(),
                other.member_salt.to_vec(),
            ] {
                assert!(!seen.contains(&value), "{variant:?} repeats a value");
                seen.push(value);
            }
        }
    }

    #[test]
    fn two_wallets_never_share_a_pseudonym_and_the_wallet_address_is_never_one() {
        let r = relationship(9, RelationshipKind::Payer, 0);
        let first = derive_key(DEV_MNEMONIC, 0).unwrap();
        let second = derive_key(DEV_MNEMONIC, 1).unwrap();
        let (a, b) = (derive_pseudonym(&first, r), derive_pseudonym(&second, r));
        assert_ne!(a.address(), b.address());
        assert_ne!(a.address(), first.address());
        assert_ne!(a.blinding, b.blinding);
    }

    #[test]
    fn a_pseudonym_signs_and_its_signatures_recover_to_the_pseudonym() {
        let wallet = derive_key(DEV_MNEMONIC, 5).unwrap();
        let keys = derive_pseudonym(&wallet, relationship(4, RelationshipKind::Custodian, 2));
        let digest = salus_primitives::keccak256(b"consent");
        let signature = keys.signing.sign_digest(&digest);
        assert_eq!(
            salus_primitives::crypto::recover_signer(&digest, &signature).unwrap(),
            keys.address()
        );
    }

    #[test]
    fn a_party_holding_the_pseudonym_can_agree_a_key_with_it() {
        let wallet = derive_key(DEV_MNEMONIC, 5).unwrap();
        let keys = derive_pseudonym(&wallet, relationship(4, RelationshipKind::Custodian, 0));
        let custodian = x25519_dalek::StaticSecret::from([7u8; 32]);
        let custodian_public = x25519_dalek::PublicKey::from(&custodian);
        let ours = keys.encryption.diffie_hellman(&custodian_public);
        let theirs =
            custodian.diffie_hellman(&x25519_dalek::PublicKey::from(keys.encryption_public_key()));
        assert_eq!(ours.as_bytes(), theirs.as_bytes());
    }

    /// Pins the scheme: the HKDF-SHA256 outputs of PRIVACY.md §5.1, computed independently
    /// (Python's `hmac` and `hashlib`, RFC 5869 by hand) for the wallet key `[0x11; 32]`.
    #[test]
    fn the_derivation_matches_an_independent_rfc_5869_computation() {
        let wallet = SecretKey::from_bytes(&[0x11; 32]).unwrap();
        let keys = derive_pseudonym(
            &wallet,
            Relationship {
                chain: Hash([0x6e; 32]),
                counterparty: Address([0x01; 20]),
                kind: RelationshipKind::Payer,
                episode: 7,
            },
        );
        assert_eq!(
            hex::encode(keys.signing.to_bytes()),
            "09c70bef291cf06fd3176789c6066ab71546f3ef26b6ef52092a3d59a4a14ebb"
        );
        assert_eq!(
            hex::encode(keys.blinding),
            "86ac355cb917bcf0434e8475434f3e79357b7a3e32d56145490602c4cf50185b"
        );
        assert_eq!(
            hex::encode(keys.member_salt),
            "c29d6441adba21c6cc3dac502bb17efa1be0ca0a0e731ef668516c2ad16314bf"
        );
        assert_eq!(
            hex::encode(keys.encryption.to_bytes()),
            "2a4b72fe31b7846e3e870ed2b746892416a9e4c2e0dd2900731539591ce904a9"
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in RelationshipKind::ALL {
            assert_eq!(RelationshipKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(RelationshipKind::from_name("pharmacy"), None);
    }
}
