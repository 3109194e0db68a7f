//! Key file formats: a private key in hex, or sealed under a password with scrypt and
//! XChaCha20-Poly1305; Ethereum keystore v3 files ([`ethereum`]). `no_std` + `alloc`, so that
//! the node's CLI and the console's key module in a browser (wasm32) read the same files with
//! the same limits; reading and writing them on disk is the node's (`salus_node::keystore`).
//!
//! An encrypted key file is JSON: the address in the clear (so that `salus key list` needs no
//! password), the scrypt parameters and salt, the nonce and the ciphertext. The address is the
//! AEAD's associated data, so a file whose address was edited fails to open instead of signing
//! for someone else.
//!
//! Key derivation costs read from a file are bounded before any derivation starts (a hostile file
//! cannot demand gigabytes of memory or minutes of work): see [`MAX_SCRYPT_MEMORY_BYTES`],
//! [`MAX_SCRYPT_WORK`] and [`MAX_PBKDF2_ROUNDS`]. Passwords, derived keys and key bytes live in
//! [`Zeroizing`] buffers, wiped when dropped.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod ethereum;

use alloc::format;
use alloc::string::{String, ToString};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use salus_primitives::{Address, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// scrypt cost (log2 N) of new key files: about 0.1 s and 32 MiB per unlock.
pub const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// The most memory a key file's scrypt parameters may demand (128 · n · r bytes): 256 MiB, what
/// geth's standard parameters (n = 2^18, r = 8) use.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 256 << 20;
/// The most work a key file's scrypt parameters may demand, counted as n · r · p: twice geth's
/// standard parameters (2^18 · 8 · 1), a few seconds.
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;
/// The most PBKDF2 rounds a key file may demand: 16 times the 262,144 of the Web3 Secret Storage
/// example, a few seconds.
pub const MAX_PBKDF2_ROUNDS: u64 = 1 << 22;
/// The largest key file read: real ones are under 1 KiB.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Why a key file could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    /// Neither a hex private key nor a key file of a known format.
    #[error("not a key file: {0}")]
    Malformed(String),
    /// A well-formed file of a version, cipher or key derivation not supported.
    #[error("unsupported key file: {0}")]
    Unsupported(String),
    /// The file's key derivation parameters demand more memory or work than allowed; nothing was
    /// derived.
    #[error("the key file demands too costly a key derivation ({0}); refused before deriving")]
    KdfTooCostly(String),
    /// The file is encrypted and no password was given.
    #[error(
        "the key is encrypted: give its password at the prompt (stdin a terminal), in \
         SALUS_KEY_PASSWORD_FILE or in SALUS_KEY_PASSWORD"
    )]
    PasswordRequired,
    /// The password is wrong, or the file was altered: the AEAD tag (Salus files) or the MAC
    /// (Ethereum keystore v3 files) does not match.
    #[error("wrong password, or the key file was altered (its MAC does not match)")]
    WrongPassword,
    /// The bytes are not a valid secp256k1 private key.
    #[error("the file holds an invalid private key")]
    InvalidKey,
    /// The file names an address that is not its key's.
    #[error("the file's address {stated} is not its key's address {actual}")]
    AddressMismatch {
        /// The address written in the file.
        stated: Address,
        /// The address of the key it holds.
        actual: Address,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncryptedKeyFile {
    version: u8,
    address: String,
    kdf: String,
    log_n: u8,
    r: u32,
    p: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// A plain key file's text (wiped when dropped).
pub fn plain(key: &SecretKey) -> Zeroizing<String> {
    let bytes = Zeroizing::new(key.to_bytes());
    let mut text = Zeroizing::new(String::with_capacity(2 + 64 + 1));
    text.push_str("0x");
    for byte in bytes.iter() {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte & 0x0f));
    }
    text.push('\n');
    text
}

/// An encrypted key file's text; `salt` (32 bytes) and `nonce` (24 bytes) must be random.
///
/// # Panics
/// Never for the fixed parameters used here.
pub fn encrypt(key: &SecretKey, password: &[u8], salt: [u8; 32], nonce: [u8; 24]) -> String {
    let address = key.address();
    let params = scrypt_params(1 << SCRYPT_LOG_N, SCRYPT_R.into(), SCRYPT_P.into())
        .expect("the fixed parameters are within the limits");
    let derived = scrypt_derive(password, &salt, &params);
    let cipher = XChaCha20Poly1305::new_from_slice(&derived[..]).expect("a 32-byte key");
    let secret = Zeroizing::new(key.to_bytes());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &secret[..],
                aad: &address.0,
            },
        )
        .expect("encrypting 32 bytes cannot fail");
    let file = EncryptedKeyFile {
        version: 1,
        address: address.to_string(),
        kdf: "scrypt".into(),
        log_n: SCRYPT_LOG_N,
        r: SCRYPT_R,
        p: SCRYPT_P,
        salt: hex::encode(salt),
        cipher: "xchacha20poly1305".into(),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    };
    serde_json::to_string_pretty(&file).expect("serialisable") + "\n"
}

/// The address a key file signs for, without opening it.
///
/// # Errors
/// When the text is not a key file.
pub fn address(text: &str) -> Result<Address, KeyFileError> {
    match parse(text)? {
        Parsed::Plain(key) => Ok(key.address()),
        Parsed::Encrypted((address, _)) => Ok(address),
    }
}

/// Whether the text is an encrypted key file.
pub fn is_encrypted(text: &str) -> bool {
    matches!(parse(text), Ok(Parsed::Encrypted(_)))
}

/// Opens a key file, with `password` when it is encrypted.
///
/// # Errors
/// A malformed file, a missing or wrong password, an altered file, a key derivation beyond the
/// limits or an invalid key.
pub fn open(text: &str, password: Option<&[u8]>) -> Result<SecretKey, KeyFileError> {
    let (address, file) = match parse(text)? {
        Parsed::Plain(key) => return Ok(key),
        Parsed::Encrypted(sealed) => sealed,
    };
    let n = 1u64
        .checked_shl(file.log_n.into())
        .ok_or_else(|| KeyFileError::KdfTooCostly(format!("scrypt n = 2^{}", file.log_n)))?;
    let params = scrypt_params(n, file.r.into(), file.p.into())?;
    let password = password.ok_or(KeyFileError::PasswordRequired)?;
    let salt: [u8; 32] = decode_hex(&file.salt, "salt")?;
    let nonce: [u8; 24] = decode_hex(&file.nonce, "nonce")?;
    let ciphertext =
        hex::decode(&file.ciphertext).map_err(|_| malformed("ciphertext is not hex"))?;
    let derived = scrypt_derive(password, &salt, &params);
    let cipher = XChaCha20Poly1305::new_from_slice(&derived[..]).expect("a 32-byte key");
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &address.0,
                },
            )
            .map_err(|_| KeyFileError::WrongPassword)?,
    );
    let key = secret_key(&plaintext)?;
    if key.address() != address {
        return Err(KeyFileError::WrongPassword);
    }
    Ok(key)
}

/// Checks scrypt parameters read from a file against the limits, before any derivation.
pub(crate) fn scrypt_params(n: u64, r: u64, p: u64) -> Result<scrypt::Params, KeyFileError> {
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(malformed(&format!(
            "scrypt needs n a power of two above 1 and r, p positive (n = {n}, r = {r}, p = {p})"
        )));
    }
    let memory = n.checked_mul(r).and_then(|blocks| blocks.checked_mul(128));
    if memory.is_none_or(|bytes| bytes > MAX_SCRYPT_MEMORY_BYTES) {
        return Err(KeyFileError::KdfTooCostly(format!(
            "scrypt n = {n}, r = {r} needs 128 · n · r bytes of memory, at most {} MiB allowed",
            MAX_SCRYPT_MEMORY_BYTES >> 20
        )));
    }
    let work = n.checked_mul(r).and_then(|blocks| blocks.checked_mul(p));
    if work.is_none_or(|work| work > MAX_SCRYPT_WORK) {
        return Err(KeyFileError::KdfTooCostly(format!(
            "scrypt n · r · p = {n} · {r} · {p}, at most {MAX_SCRYPT_WORK} allowed"
        )));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| malformed("scrypt n"))?;
    let r = u32::try_from(r).map_err(|_| malformed("scrypt r"))?;
    let p = u32::try_from(p).map_err(|_| malformed("scrypt p"))?;
    scrypt::Params::new(log_n, r, p)
        .map_err(|error| malformed(&format!("scrypt parameters: {error}")))
}

/// 32 bytes of scrypt output under parameters checked by [`scrypt_params`].
pub(crate) fn scrypt_derive(
    password: &[u8],
    salt: &[u8],
    params: &scrypt::Params,
) -> Zeroizing<[u8; 32]> {
    let mut derived = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, params, &mut derived[..]).expect("32 bytes is a valid length");
    derived
}

/// A secret key from 32 bytes (or fewer, left-padded with zeros, as some wallets wrote keys with
/// leading zero bytes dropped).
pub(crate) fn secret_key(bytes: &[u8]) -> Result<SecretKey, KeyFileError> {
    let mut padded = Zeroizing::new([0u8; 32]);
    let offset = 32usize
        .checked_sub(bytes.len())
        .ok_or(KeyFileError::InvalidKey)?;
    padded[offset..].copy_from_slice(bytes);
    SecretKey::from_bytes(&padded).ok_or(KeyFileError::InvalidKey)
}

/// Parses `0x` and 64 hex digits (or 64 hex digits) into a private key, without leaving the
/// bytes behind in unwiped buffers.
///
/// # Errors
/// When the text is not 32 bytes of hex or not a valid key.
pub fn parse_private_key(text: &str) -> Result<SecretKey, KeyFileError> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, &mut bytes[..])
        .map_err(|_| malformed("expected 0x and 64 hex digits"))?;
    secret_key(&bytes[..])
}

enum Parsed {
    Plain(SecretKey),
    Encrypted((Address, EncryptedKeyFile)),
}

fn parse(text: &str) -> Result<Parsed, KeyFileError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let file: EncryptedKeyFile = serde_json::from_str(trimmed)
            .map_err(|error| malformed(&format!("encrypted key file: {error}")))?;
        if file.version != 1 || file.kdf != "scrypt" || file.cipher != "xchacha20poly1305" {
            return Err(KeyFileError::Unsupported(format!(
                "version {}, kdf {}, cipher {} (Salus key files are version 1, scrypt, \
                 xchacha20poly1305; Ethereum keystores import with `salus key import --keystore`)",
                file.version, file.kdf, file.cipher
            )));
        }
        let address = file
            .address
            .parse::<Address>()
            .map_err(|_| malformed("address is not an address"))?;
        return Ok(Parsed::Encrypted((address, file)));
    }
    parse_private_key(trimmed)
        .map(Parsed::Plain)
        .map_err(|error| match error {
            KeyFileError::Malformed(_) => {
                malformed("expected 0x and 64 hex digits, or an encrypted key file")
            }
            other => other,
        })
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

fn decode_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], KeyFileError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| malformed(&format!("{what} is not {N} hex bytes")))
}

fn malformed(why: &str) -> KeyFileError {
    KeyFileError::Malformed(why.to_string())
}

/// Opens key material of any format this crate reads: a hex key, a Salus key file or an
/// Ethereum keystore v3 file (told apart by its `"version": 3` and `crypto` section), with
/// `password` when it is encrypted. What the console's key module offers a browser user, who
/// may hold either kind of file.
///
/// # Errors
/// As [`open`] and [`ethereum::decrypt`].
pub fn open_any(text: &str, password: Option<&[u8]>) -> Result<SecretKey, KeyFileError> {
    if ethereum::is_keystore_v3(text) {
        let password = password.ok_or(KeyFileError::PasswordRequired)?;
        return ethereum::decrypt(text, password);
    }
    open(text, password)
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

    fn sealed() -> (SecretKey, String) {
        let key = derive_key(DEV_MNEMONIC, 3).unwrap();
        let text = encrypt(&key, b"correct horse", [7; 32], [9; 24]);
        (key, text)
    }

    #[test]
    fn an_encrypted_key_opens_only_with_its_password() {
        let (key, text) = sealed();
        assert!(is_encrypted(&text));
        assert!(!text.contains(&hex::encode(key.to_bytes())));
        assert_eq!(address(&text).unwrap(), key.address());
        let opened = open(&text, Some(b"correct horse")).unwrap();
        assert_eq!(opened.to_bytes(), key.to_bytes());
        assert_eq!(
            open(&text, Some(b"wrong")).err(),
            Some(KeyFileError::WrongPassword)
        );
        assert_eq!(
            open(&text, None).err(),
            Some(KeyFileError::PasswordRequired)
        );
    }

    #[test]
    fn an_altered_file_is_refused() {
        let (key, text) = sealed();
        let other = derive_key(DEV_MNEMONIC, 4).unwrap().address();
        let readdressed = text.replace(&key.address().to_string(), &other.to_string());
        assert_ne!(readdressed, text);
        assert_eq!(
            open(&readdressed, Some(b"correct horse")).err(),
            Some(KeyFileError::WrongPassword)
        );
        assert!(matches!(
            open("{\"version\": 1}", Some(b"x")),
            Err(KeyFileError::Malformed(_))
        ));
        assert!(matches!(
            open("0x12", None),
            Err(KeyFileError::Malformed(_))
        ));
    }

    #[test]
    fn a_costly_salus_key_file_is_refused_before_deriving() {
        let (_, text) = sealed();
        for log_n in [19, 40, 255] {
            let costly = text.replace("\"log_n\": 15", &format!("\"log_n\": {log_n}"));
            assert!(
                matches!(
                    open(&costly, Some(b"correct horse")),
                    Err(KeyFileError::KdfTooCostly(_))
                ),
                "log_n {log_n}"
            );
        }
        let parallel = text.replace("\"p\": 1", "\"p\": 1000000");
        assert!(matches!(
            open(&parallel, Some(b"correct horse")),
            Err(KeyFileError::KdfTooCostly(_))
        ));
    }

    #[test]
    fn scrypt_limits_admit_the_parameters_wallets_write() {
        // geth standard, geth light, the Web3 Secret Storage examples (r = 1, p = 8 as web3.py
        // writes), ethers.js / MetaMask, Foundry.
        for (n, r, p) in [
            (1 << 18, 8, 1),
            (1 << 12, 8, 6),
            (1 << 18, 1, 8),
            (1 << 17, 8, 1),
            (1 << 13, 8, 1),
        ] {
            assert!(scrypt_params(n, r, p).is_ok(), "n {n} r {r} p {p}");
        }
        assert!(matches!(
            scrypt_params(1 << 30, 8, 1),
            Err(KeyFileError::KdfTooCostly(_))
        ));
        assert!(matches!(
            scrypt_params(1 << 18, 8, 4),
            Err(KeyFileError::KdfTooCostly(_))
        ));
        assert!(matches!(
            scrypt_params(u64::MAX / 2 + 1, u64::MAX, u64::MAX),
            Err(KeyFileError::KdfTooCostly(_))
        ));
        assert!(matches!(
            scrypt_params(1000, 8, 1),
            Err(KeyFileError::Malformed(_))
        ));
        assert!(matches!(
            scrypt_params(1 << 10, 0, 1),
            Err(KeyFileError::Malformed(_))
        ));
    }

    #[test]
    fn a_plain_key_file_round_trips() {
        let key = derive_key(DEV_MNEMONIC, 2).unwrap();
        let text = plain(&key);
        assert_eq!(*text, format!("0x{}\n", hex::encode(key.to_bytes())));
        assert!(!is_encrypted(&text));
        assert_eq!(open(&text, None).unwrap().to_bytes(), key.to_bytes());
    }
}
