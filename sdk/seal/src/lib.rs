//! Sealed payloads and commitments (docs/PRIVACY.md §5.2): [`seal`] encrypts a payload to a
//! recipient's X25519 key so that only the holder of the secret [`open`]s it, bound to associated
//! data (the commitment or request it answers) so a box cannot be replayed for another record or
//! key; [`commit`] hashes clinical content under a random 256-bit salt, the only form in which it
//! goes on chain (§5.3). Sealed boxes travel point to point and are never put on chain.
//!
//! # Sealed box, version 1
//!
//! ```text
//! offset  size  field
//! 0       1     format version (1)
//! 1       4     recipient's key version, u32 big-endian (the registry's `set_encryption_key`
//!               version, or 0 for a key that has none, such as a pseudonym's)
//! 5       32    ephemeral X25519 public key
//! 37      24    XChaCha20-Poly1305 nonce (random)
//! 61      n+16  ciphertext of the padded plaintext, then the Poly1305 tag
//! ```
//!
//! - shared secret = X25519(ephemeral secret, recipient public), refused when not contributory
//!   (a low-order recipient or ephemeral key gives a secret an attacker knows);
//! - key = HKDF-SHA256(salt = `"salus/seal/v1"`, IKM = shared secret,
//!   info = ephemeral public ‖ recipient public ‖ key version (u32 big-endian)), 32 bytes;
//! - associated data = bytes 0..37 (version ‖ key version ‖ ephemeral public) ‖ recipient public
//!   ‖ the caller's associated data (the commitment the box opens, the request it answers);
//! - padded plaintext = plaintext ‖ `0x80` ‖ `0x00`… up to the next multiple of
//!   [`PADDING_BLOCK_BYTES`] (at least the one `0x80`), so a box tells its size only to 1 KiB.
//!
//! Every byte of the box is authenticated: a changed byte, another recipient key, another key
//! version or other associated data all fail to open, with [`SealError::WrongKeyOrTampered`].
//!
//! # Commitment
//!
//! `c = keccak256("salus/commit/v1" ‖ kind ‖ salt ‖ SCALE(x))`: `kind` one byte
//! ([`CommitmentKind`]), `salt` 32 random bytes drawn anew for each commitment
//! ([`CommitmentSalt::random`]) and never reused across relationships.
//!
//! # Where this runs
//!
//! `no_std` + `alloc`, so that the same code seals and opens in `salus-client` and in the
//! console's key module, which opens boxes in a browser (wasm32) with a key that never leaves
//! it. The `std` feature (default) adds what needs the operating system's random source:
//! [`seal()`], [`CommitmentSalt::random`], [`commit_with_random_salt`] and [`randomness`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod randomness;
pub mod reply_key;

/// The X25519 crate of the keys boxes are sealed to and opened with.
pub use x25519_dalek;

use alloc::vec::Vec;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use parity_scale_codec::Encode;
use salus_primitives::Hash;
use salus_primitives::hash::keccak256_concat;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

#[cfg(feature = "std")]
use crate::randomness::{RandomnessError, fill_random};

/// The format version this module writes and reads.
pub const SEAL_VERSION: u8 = 1;

/// HKDF-Extract salt of the sealing key: names the scheme and its version.
const SEAL_SALT: &[u8] = b"salus/seal/v1";

/// Domain of [`commit`].
const COMMIT_DOMAIN: &[u8] = b"salus/commit/v1";

/// The part of the header bound into the associated data: version, key version, ephemeral
/// public key (the nonce is the AEAD's own input).
const BOUND_HEADER_BYTES: usize = 1 + 4 + 32;

/// Bytes before the ciphertext: version, key version, ephemeral public key, nonce.
pub const SEAL_HEADER_BYTES: usize = BOUND_HEADER_BYTES + 24;

/// The Poly1305 tag after the ciphertext.
const TAG_BYTES: usize = 16;

/// Plaintext is padded to a multiple of this (PRIVACY.md §5.2), so a box's length says little
/// about what is in it.
pub const PADDING_BLOCK_BYTES: usize = 1024;

/// The largest plaintext sealed or opened: a box is built and opened whole in memory (about
/// three copies at once), so the bound keeps one hostile box from taking the wallet's memory.
/// 64 MiB holds a discharge summary or a lab panel thousands of times over; larger payloads
/// (imaging) need a streaming format, which version 1 is not.
pub const MAX_PLAINTEXT_BYTES: usize = 64 << 20;

/// The smallest box: the header, one padding block, the tag.
const MIN_SEALED_BYTES: usize = SEAL_HEADER_BYTES + PADDING_BLOCK_BYTES + TAG_BYTES;

/// Why a payload could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The box is too short, its ciphertext is not a whole number of padding blocks, or its
    /// padding is not `0x80 0x00…` after an authentic decryption.
    #[error("not a sealed box: {0}")]
    Malformed(&'static str),
    /// The box's first byte names a format this build does not read.
    #[error("not a sealed box this build reads: format version {0} (version 1 is read)")]
    UnsupportedVersion(u8),
    /// The recipient's public key (sealing) or the box's ephemeral key (opening) is of low
    /// order: the shared secret would be one an attacker knows.
    #[error("the X25519 key is of low order: no secret can be agreed with it")]
    LowOrderKey,
    /// Authentication failed: the box was sealed to another key (or key version), for other
    /// associated data, or was changed. AEAD cannot tell these apart, and a box names no
    /// recipient (it would link the box to it for anyone who sees it in transit).
    #[error(
        "the box does not open: sealed to another key or for other associated data, or changed"
    )]
    WrongKeyOrTampered,
    /// The plaintext (sealing) or box (opening) is above [`MAX_PLAINTEXT_BYTES`].
    #[error("sealed payloads hold at most {MAX_PLAINTEXT_BYTES} bytes")]
    TooLarge,
    /// The operating system's random source failed while sealing.
    #[cfg(feature = "std")]
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
}

#[cfg(feature = "std")]
/// Seals `plaintext` to the X25519 key `recipient` (its version `key_version`), bound to
/// `associated_data`, which the opener must give again and which is not in the box.
///
/// # Errors
/// [`SealError::LowOrderKey`] for a low-order recipient key, [`SealError::TooLarge`] above
/// [`MAX_PLAINTEXT_BYTES`], [`SealError::Randomness`] when no randomness can be had.
pub fn seal(
    recipient: &PublicKey,
    key_version: u32,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    fill_random(&mut ephemeral[..])?;
    let mut nonce = [0u8; 24];
    fill_random(&mut nonce)?;
    seal_with(
        &StaticSecret::from(*ephemeral),
        nonce,
        recipient,
        key_version,
        plaintext,
        associated_data,
    )
}

/// [`seal()`] with the ephemeral secret and nonce given: deterministic. Both must be fresh
/// random bytes for every box (a repeated ephemeral key and nonce under one recipient key
/// breaks the cipher); [`seal()`] draws them.
///
/// # Errors
/// As [`seal()`], less randomness.
pub fn seal_with(
    ephemeral: &StaticSecret,
    nonce: [u8; 24],
    recipient: &PublicKey,
    key_version: u32,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, SealError> {
    if plaintext.len() > MAX_PLAINTEXT_BYTES {
        return Err(SealError::TooLarge);
    }
    let ephemeral_public = PublicKey::from(ephemeral);
    let shared = ephemeral.diffie_hellman(recipient);
    if !shared.was_contributory() {
        return Err(SealError::LowOrderKey);
    }
    let key = sealing_key(shared.as_bytes(), &ephemeral_public, recipient, key_version);
    let mut sealed =
        Vec::with_capacity(SEAL_HEADER_BYTES + padded_len(plaintext.len()) + TAG_BYTES);
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&key_version.to_be_bytes());
    sealed.extend_from_slice(ephemeral_public.as_bytes());
    let aad = full_associated_data(&sealed, recipient, associated_data);
    sealed.extend_from_slice(&nonce);
    let padded = pad(plaintext);
    let ciphertext = cipher(&key)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &padded,
                aad: &aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message below 256 GiB");
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens a box sealed to the public key of `secret`, with the associated data it was sealed
/// with. The plaintext is wiped when dropped.
///
/// # Errors
/// [`SealError::Malformed`], [`SealError::UnsupportedVersion`] or [`SealError::TooLarge`] for
/// bytes that are not a version-1 box; [`SealError::LowOrderKey`] for a box whose ephemeral key
/// is of low order; [`SealError::WrongKeyOrTampered`] when authentication fails.
pub fn open(
    secret: &StaticSecret,
    sealed: &[u8],
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let header = SealHeader::parse(sealed)?;
    let recipient = PublicKey::from(secret);
    let shared = secret.diffie_hellman(&header.ephemeral);
    if !shared.was_contributory() {
        return Err(SealError::LowOrderKey);
    }
    let key = sealing_key(
        shared.as_bytes(),
        &header.ephemeral,
        &recipient,
        header.key_version,
    );
    let aad = full_associated_data(&sealed[..BOUND_HEADER_BYTES], &recipient, associated_data);
    let padded = Zeroizing::new(
        cipher(&key)
            .decrypt(
                &XNonce::from(header.nonce),
                Payload {
                    msg: &sealed[SEAL_HEADER_BYTES..],
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::WrongKeyOrTampered)?,
    );
    unpad(&padded)
}

/// The recipient key version a box names (bytes 1..5), to pick the secret that opens it when a
/// participant has rotated keys.
///
/// # Errors
/// As [`open`] for bytes that are not a version-1 box.
pub fn sealed_key_version(sealed: &[u8]) -> Result<u32, SealError> {
    Ok(SealHeader::parse(sealed)?.key_version)
}

/// The clear part of a box.
struct SealHeader {
    key_version: u32,
    ephemeral: PublicKey,
    nonce: [u8; 24],
}

impl SealHeader {
    fn parse(sealed: &[u8]) -> Result<SealHeader, SealError> {
        let Some(&version) = sealed.first() else {
            return Err(SealError::Malformed("empty"));
        };
        if version != SEAL_VERSION {
            return Err(SealError::UnsupportedVersion(version));
        }
        if sealed.len() < MIN_SEALED_BYTES {
            return Err(SealError::Malformed(
                "shorter than a header and one padded block",
            ));
        }
        let padded = sealed.len() - SEAL_HEADER_BYTES - TAG_BYTES;
        if padded > padded_len(MAX_PLAINTEXT_BYTES) {
            return Err(SealError::TooLarge);
        }
        if !padded.is_multiple_of(PADDING_BLOCK_BYTES) {
            return Err(SealError::Malformed(
                "the ciphertext is not a whole number of padding blocks",
            ));
        }
        Ok(SealHeader {
            key_version: u32::from_be_bytes(sealed[1..5].try_into().expect("4 bytes")),
            ephemeral: PublicKey::from(<[u8; 32]>::try_from(&sealed[5..37]).expect("32 bytes")),
            nonce: sealed[BOUND_HEADER_BYTES..SEAL_HEADER_BYTES]
                .try_into()
                .expect("24 bytes"),
        })
    }
}

/// HKDF-SHA256 of the shared secret into the XChaCha20-Poly1305 key (module documentation).
fn sealing_key(
    shared: &[u8; 32],
    ephemeral: &PublicKey,
    recipient: &PublicKey,
    key_version: u32,
) -> Zeroizing<[u8; 32]> {
    let mut info = [0u8; 32 + 32 + 4];
    info[..32].copy_from_slice(ephemeral.as_bytes());
    info[32..64].copy_from_slice(recipient.as_bytes());
    info[64..].copy_from_slice(&key_version.to_be_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(SEAL_SALT), shared)
        .expand(&info, &mut key[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key")
}

/// version ‖ key version ‖ ephemeral public (`header`) ‖ recipient public ‖ the caller's.
fn full_associated_data(header: &[u8], recipient: &PublicKey, caller: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + 32 + caller.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(recipient.as_bytes());
    aad.extend_from_slice(caller);
    aad
}

/// The length of `len` bytes padded: the next multiple of the block above `len`.
fn padded_len(len: usize) -> usize {
    (len / PADDING_BLOCK_BYTES + 1) * PADDING_BLOCK_BYTES
}

fn pad(plaintext: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut padded = Zeroizing::new(Vec::with_capacity(padded_len(plaintext.len())));
    padded.extend_from_slice(plaintext);
    padded.push(0x80);
    padded.resize(padded_len(plaintext.len()), 0);
    padded
}

fn unpad(padded: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let end = padded
        .iter()
        .rposition(|&byte| byte != 0)
        .filter(|&at| padded[at] == 0x80)
        .ok_or(SealError::Malformed("the padding is not 0x80 0x00…"))?;
    Ok(Zeroizing::new(padded[..end].to_vec()))
}

/// What a commitment commits to (one byte of the hash's input), so that a commitment of one
/// kind is never the commitment of another kind with the same bytes. Open: later slices add
/// kinds. Every kind in use, the one table of them (PRIVACY.md §5.2):
///
/// | byte | kind | defined in |
/// |---|---|---|
/// | `0x00` | [`RECORD`](CommitmentKind::RECORD) | here |
/// | `0x01` | [`RECORD_DATE`](CommitmentKind::RECORD_DATE) | here |
/// | `0x02` | [`DATA_PERIOD`](CommitmentKind::DATA_PERIOD) | here |
/// | `0x03` | [`SOURCE`](CommitmentKind::SOURCE) | here |
/// | `0x20` | a sealed preauthorization submission (`submission_commitment`) | `salus_node::agent::submission::SUBMISSION` |
/// | `0x21` | a decision's or claim check's inputs (`inputs_commitment`) | `salus_node::agent::submission::DECISION_INPUTS` |
/// | `0x22` | a decision's outcome (`outcome_commitment`) | `salus_node::agent::submission::DECISION_OUTCOME` |
/// | `0x23` | a sealed claim (`claim_commitment`) | `salus_node::agent::submission::CLAIM` |
/// | `0x24` | a claim check's outcome (its `outcome_commitment`) | `salus_node::agent::submission::CLAIM_CHECK` |
/// | `0x25` | documentation delivered later (`documentation_commitment`) | `salus_node::agent::submission::DOCUMENTATION` |
/// | `0x26`–`0x2f` | reserved for coverage | — |
/// | `0x30` | [`PRESCRIPTION_PATIENT`](CommitmentKind::PRESCRIPTION_PATIENT) | here |
///
/// A new kind takes a byte not in this table and is added to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommitmentKind(pub u8);

impl CommitmentKind {
    /// A clinical record's content: its handle on chain (`RecordEntry`, PRIVACY.md §5.4).
    pub const RECORD: CommitmentKind = CommitmentKind(0);
    /// A record's date (`date_commitment`).
    pub const RECORD_DATE: CommitmentKind = CommitmentKind(1);
    /// A consent provision's data period (`data_period_commitment`).
    pub const DATA_PERIOD: CommitmentKind = CommitmentKind(2);
    /// The document a consent was taken from (`source`).
    pub const SOURCE: CommitmentKind = CommitmentKind(3);
    /// The patient's details of a prescription (`inner` of the supply contract's prescription
    /// handle, [`crate::prescription`]): name and date of birth, which the dispensing pharmacy
    /// checks against the patient in front of it.
    pub const PRESCRIPTION_PATIENT: CommitmentKind = CommitmentKind(0x30);
}

/// The 32 random bytes that make a commitment of low-entropy content unguessable. Secret until
/// the commitment is opened: never printed by `Debug`, wiped when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CommitmentSalt([u8; 32]);

impl CommitmentSalt {
    /// A new salt from the operating system's random source.
    #[cfg(feature = "std")]
    ///
    /// # Errors
    /// [`RandomnessError`] when the source fails.
    pub fn random() -> Result<CommitmentSalt, RandomnessError> {
        let mut salt = CommitmentSalt([0; 32]);
        fill_random(&mut salt.0)?;
        Ok(salt)
    }

    /// A salt received with an opening.
    pub fn from_bytes(bytes: [u8; 32]) -> CommitmentSalt {
        CommitmentSalt(bytes)
    }

    /// The salt's bytes, to hand to whoever may open the commitment.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for CommitmentSalt {
    /// Never prints the salt.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CommitmentSalt(…)")
    }
}

/// `keccak256("salus/commit/v1" ‖ kind ‖ salt ‖ encoded)`, where `encoded` is the SCALE
/// encoding of the committed value ([`commit_value`] encodes it).
pub fn commit(kind: CommitmentKind, salt: &CommitmentSalt, encoded: &[u8]) -> Hash {
    keccak256_concat(&[COMMIT_DOMAIN, &[kind.0], &salt.0, encoded])
}

/// [`commit`] to `value`'s SCALE encoding.
pub fn commit_value<T: Encode + ?Sized>(
    kind: CommitmentKind,
    salt: &CommitmentSalt,
    value: &T,
) -> Hash {
    commit(kind, salt, &Zeroizing::new(value.encode()))
}

#[cfg(feature = "std")]
/// A commitment to `value` under a new random salt: the hash for the chain and the salt to keep
/// (and give to whoever may check the value against the hash).
///
/// # Errors
/// [`RandomnessError`] when the operating system's random source fails.
pub fn commit_with_random_salt<T: Encode + ?Sized>(
    kind: CommitmentKind,
    value: &T,
) -> Result<(Hash, CommitmentSalt), RandomnessError> {
    let salt = CommitmentSalt::random()?;
    Ok((commit_value(kind, &salt, value), salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypair(seed: u8) -> (StaticSecret, PublicKey) {
        let secret = StaticSecret::from([seed; 32]);
        let public = PublicKey::from(&secret);
        (secret, public)
    }

    const AAD: &[u8] = b"record commitment and key version";

    #[test]
    fn a_sealed_payload_opens_with_the_recipients_secret_and_the_same_associated_data() {
        let (secret, public) = keypair(1);
        for plaintext in [
            &b""[..],
            b"HbA1c 6.1 %",
            &[0u8; PADDING_BLOCK_BYTES - 1],
            &[0x80; PADDING_BLOCK_BYTES],
            &[7u8; 3000],
        ] {
            let sealed = seal(&public, 3, plaintext, AAD).unwrap();
            assert_eq!(
                sealed.len(),
                SEAL_HEADER_BYTES + padded_len(plaintext.len()) + TAG_BYTES
            );
            assert_eq!((sealed.len() - SEAL_HEADER_BYTES - TAG_BYTES) % 1024, 0);
            assert_eq!(sealed[0], SEAL_VERSION);
            assert_eq!(sealed_key_version(&sealed).unwrap(), 3);
            assert_eq!(&open(&secret, &sealed, AAD).unwrap()[..], plaintext);
        }
    }

    #[test]
    fn another_recipients_secret_does_not_open_a_box() {
        let (_, public) = keypair(1);
        let (other, _) = keypair(2);
        let sealed = seal(&public, 0, b"discharge summary", AAD).unwrap();
        assert!(matches!(
            open(&other, &sealed, AAD),
            Err(SealError::WrongKeyOrTampered)
        ));
    }

    #[test]
    fn every_changed_byte_of_a_box_makes_it_fail_to_open() {
        let (secret, public) = keypair(1);
        let sealed = seal(&public, 1, b"lab panel", AAD).unwrap();
        for at in 0..sealed.len() {
            for flip in [0x01, 0x80] {
                let mut changed = sealed.clone();
                changed[at] ^= flip;
                let outcome = open(&secret, &changed, AAD);
                match at {
                    0 => assert!(
                        matches!(outcome, Err(SealError::UnsupportedVersion(_))),
                        "byte 0: {outcome:?}"
                    ),
                    _ => assert!(outcome.is_err(), "byte {at} flipped with {flip:#x} opened"),
                }
            }
        }
        // Truncated or extended boxes fail too.
        assert!(open(&secret, &sealed[..sealed.len() - 1], AAD).is_err());
        let mut longer = sealed.clone();
        longer.extend_from_slice(&[0; PADDING_BLOCK_BYTES]);
        assert!(open(&secret, &longer, AAD).is_err());
    }

    #[test]
    fn other_associated_data_or_key_version_fails_to_open() {
        let (secret, public) = keypair(1);
        let sealed = seal(&public, 1, b"imaging report", AAD).unwrap();
        for aad in [
            &b""[..],
            b"record commitment and key versioN",
            b"another record",
        ] {
            assert!(matches!(
                open(&secret, &sealed, aad),
                Err(SealError::WrongKeyOrTampered)
            ));
        }
        // A box whose clear key version is rewritten (to look like one for another key).
        let mut relabelled = sealed.clone();
        relabelled[1..5].copy_from_slice(&2u32.to_be_bytes());
        assert!(matches!(
            open(&secret, &relabelled, AAD),
            Err(SealError::WrongKeyOrTampered)
        ));
    }

    /// u-coordinates of Curve25519's small-order points (0, 1, p − 1 and the two of order 8,
    /// as in libsodium's blocklist): X25519 with any of them yields a secret known in advance.
    const LOW_ORDER_POINTS: [[u8; 32]; 5] = [
        [0; 32],
        {
            let mut one = [0; 32];
            one[0] = 1;
            one
        },
        [
            0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
            0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
            0x5f, 0x49, 0xb8, 0x00,
        ],
        [
            0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83,
            0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd,
            0xd0, 0x9f, 0x11, 0x57,
        ],
        [
            0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0x7f,
        ],
    ];

    #[test]
    fn a_low_order_recipient_key_is_refused_and_a_low_order_ephemeral_key_never_opens() {
        for point in LOW_ORDER_POINTS {
            assert!(
                matches!(
                    seal(&PublicKey::from(point), 0, b"x", AAD),
                    Err(SealError::LowOrderKey)
                ),
                "{point:02x?}"
            );
        }
        // A box whose ephemeral key was replaced by a low-order point.
        let (secret, public) = keypair(1);
        let sealed = seal(&public, 0, b"x", AAD).unwrap();
        for point in LOW_ORDER_POINTS {
            let mut forged = sealed.clone();
            forged[5..37].copy_from_slice(&point);
            assert!(matches!(
                open(&secret, &forged, AAD),
                Err(SealError::LowOrderKey)
            ));
        }
    }

    #[test]
    fn two_seals_of_the_same_plaintext_share_no_ephemeral_key_nonce_or_ciphertext() {
        let (_, public) = keypair(1);
        let first = seal(&public, 0, b"same", AAD).unwrap();
        let second = seal(&public, 0, b"same", AAD).unwrap();
        assert_eq!(first.len(), second.len());
        assert_ne!(first[5..37], second[5..37], "ephemeral keys");
        assert_ne!(first[37..61], second[37..61], "nonces");
        assert_ne!(first[61..], second[61..], "ciphertexts");
    }

    #[test]
    fn bytes_that_are_not_a_box_are_refused_with_a_reason_not_a_panic() {
        let (secret, _) = keypair(1);
        assert!(matches!(
            open(&secret, &[], AAD),
            Err(SealError::Malformed(_))
        ));
        assert!(matches!(
            open(&secret, &[1; 60], AAD),
            Err(SealError::Malformed(_))
        ));
        assert!(matches!(
            open(&secret, &[2; 2000], AAD),
            Err(SealError::UnsupportedVersion(2))
        ));
        let mut ragged = vec![1u8; MIN_SEALED_BYTES + 1];
        ragged[0] = SEAL_VERSION;
        assert!(matches!(
            open(&secret, &ragged, AAD),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn payloads_above_the_bound_are_refused_whole() {
        let (secret, public) = keypair(1);
        let big = vec![0u8; MAX_PLAINTEXT_BYTES + 1];
        assert!(matches!(
            seal(&public, 0, &big, AAD),
            Err(SealError::TooLarge)
        ));
        let mut huge =
            vec![
                0u8;
                SEAL_HEADER_BYTES + padded_len(MAX_PLAINTEXT_BYTES) + PADDING_BLOCK_BYTES + 16
            ];
        huge[0] = SEAL_VERSION;
        assert!(matches!(
            open(&secret, &huge, AAD),
            Err(SealError::TooLarge)
        ));
    }

    #[test]
    fn an_authentic_box_with_bad_padding_is_malformed() {
        let (secret, public) = keypair(1);
        // Built by hand: a correct AEAD over a block of zeros (no 0x80 marker).
        let ephemeral = StaticSecret::from([9u8; 32]);
        let ephemeral_public = PublicKey::from(&ephemeral);
        let key = sealing_key(
            ephemeral.diffie_hellman(&public).as_bytes(),
            &ephemeral_public,
            &public,
            0,
        );
        let mut sealed = vec![SEAL_VERSION, 0, 0, 0, 0];
        sealed.extend_from_slice(ephemeral_public.as_bytes());
        let aad = full_associated_data(&sealed, &public, AAD);
        sealed.extend_from_slice(&[0; 24]);
        let body = cipher(&key)
            .encrypt(
                &XNonce::from([0; 24]),
                Payload {
                    msg: &[0u8; PADDING_BLOCK_BYTES],
                    aad: &aad,
                },
            )
            .unwrap();
        sealed.extend_from_slice(&body);
        assert!(matches!(
            open(&secret, &sealed, AAD),
            Err(SealError::Malformed(_))
        ));
    }

    /// Pins the key derivation and the whole box against an independent computation (Python:
    /// `cryptography`'s X25519 and ChaCha20-Poly1305, RFC 5869 HKDF with `hmac`/`hashlib`, and
    /// HChaCha20 by hand for the XChaCha20 subkey), for fixed ephemeral and recipient secrets.
    #[test]
    fn the_box_matches_an_independent_computation() {
        let (_, recipient) = keypair(0x22);
        let ephemeral = StaticSecret::from([0x11; 32]);
        let shared = ephemeral.diffie_hellman(&recipient);
        let key = sealing_key(
            shared.as_bytes(),
            &PublicKey::from(&ephemeral),
            &recipient,
            7,
        );
        assert_eq!(
            hex::encode(*key),
            "2d5785c0756d00b3b7391f9ade69197406eabc67571bb7c1aea99148763ee07b"
        );
        let sealed = seal_with(&ephemeral, [0x33; 24], &recipient, 7, b"salus", b"aad").unwrap();
        assert_eq!(
            hex::encode(&sealed[..SEAL_HEADER_BYTES]),
            "01000000077b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13\
             333333333333333333333333333333333333333333333333"
        );
        assert_eq!(sealed.len(), 1101);
        use sha2::Digest;
        assert_eq!(
            hex::encode(Sha256::digest(&sealed)),
            "7ccbbeea813ce547ef032e190a412546f85c042531dd50090a49b1b133245ada"
        );
    }

    #[test]
    fn a_commitment_depends_on_kind_salt_and_value_and_hides_nothing_else() {
        let salt = CommitmentSalt::from_bytes([5; 32]);
        let base = commit_value(CommitmentKind::RECORD_DATE, &salt, &20_260_301u32);
        // The construction of PRIVACY.md §5.2, spelled out.
        let mut preimage = b"salus/commit/v1".to_vec();
        preimage.push(1);
        preimage.extend_from_slice(&[5; 32]);
        preimage.extend_from_slice(&20_260_301u32.to_le_bytes());
        assert_eq!(base, salus_primitives::keccak256(&preimage));
        assert_ne!(
            base,
            commit_value(CommitmentKind::DATA_PERIOD, &salt, &20_260_301u32)
        );
        assert_ne!(
            base,
            commit_value(
                CommitmentKind::RECORD_DATE,
                &CommitmentSalt::from_bytes([6; 32]),
                &20_260_301u32
            )
        );
        assert_ne!(
            base,
            commit_value(CommitmentKind::RECORD_DATE, &salt, &20_260_302u32)
        );
    }

    #[test]
    fn random_salts_differ_so_the_same_value_commits_differently_and_debug_hides_them() {
        let (first, first_salt) = commit_with_random_salt(CommitmentKind::RECORD, "E11.9").unwrap();
        let (second, second_salt) =
            commit_with_random_salt(CommitmentKind::RECORD, "E11.9").unwrap();
        assert_ne!(first, second);
        assert_ne!(first_salt, second_salt);
        assert_eq!(
            commit_value(CommitmentKind::RECORD, &first_salt, "E11.9"),
            first
        );
        assert_eq!(format!("{first_salt:?}"), "CommitmentSalt(…)");
    }
}
