//! Key files: a private key in hex, or sealed under a password with scrypt and
//! XChaCha20-Poly1305.
//!
//! An encrypted key file is JSON: the address in the clear (so that `salus key list` needs no
//! password), the scrypt parameters and salt, the nonce and the ciphertext. The address is the
//! AEAD's associated data, so a file whose address was edited fails to open instead of signing
//! for someone else.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use salus_primitives::{Address, SecretKey};
use serde::{Deserialize, Serialize};

/// scrypt cost (log2 N) of new key files: about 0.1 s and 32 MiB per unlock.
pub const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The largest cost accepted when opening a file (a hostile file cannot demand more memory).
const MAX_SCRYPT_LOG_N: u8 = 20;

/// Why a key file could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    /// Neither a hex private key nor an encrypted key file.
    #[error("not a key file: {0}")]
    Malformed(String),
    /// The file is encrypted and no password was given.
    #[error(
        "the key is encrypted: give its password in SALUS_KEY_PASSWORD_FILE or SALUS_KEY_PASSWORD"
    )]
    PasswordRequired,
    /// The password is wrong, or the file was altered.
    #[error("wrong password, or the key file was altered")]
    WrongPassword,
    /// The bytes are not a valid secp256k1 private key.
    #[error("the file holds an invalid private key")]
    InvalidKey,
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

/// A plain key file's text.
pub fn plain(key: &SecretKey) -> String {
    format!("0x{}\n", hex::encode(key.to_bytes()))
}

/// An encrypted key file's text; `salt` (32 bytes) and `nonce` (24 bytes) must be random.
///
/// # Panics
/// Never for the fixed parameters used here.
pub fn encrypt(key: &SecretKey, password: &[u8], salt: [u8; 32], nonce: [u8; 24]) -> String {
    let address = key.address();
    let cipher = XChaCha20Poly1305::new(&derive(password, &salt, SCRYPT_LOG_N).into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &key.to_bytes(),
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
/// A malformed file, a missing or wrong password, an altered file or an invalid key.
pub fn open(text: &str, password: Option<&[u8]>) -> Result<SecretKey, KeyFileError> {
    let (address, file) = match parse(text)? {
        Parsed::Plain(key) => return Ok(key),
        Parsed::Encrypted(sealed) => sealed,
    };
    let password = password.ok_or(KeyFileError::PasswordRequired)?;
    let salt: [u8; 32] = decode_hex(&file.salt, "salt")?;
    let nonce: [u8; 24] = decode_hex(&file.nonce, "nonce")?;
    let ciphertext =
        hex::decode(&file.ciphertext).map_err(|_| malformed("ciphertext is not hex"))?;
    let cipher = XChaCha20Poly1305::new(&derive(password, &salt, file.log_n).into());
    let plaintext = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: &address.0,
            },
        )
        .map_err(|_| KeyFileError::WrongPassword)?;
    let bytes: [u8; 32] = plaintext.try_into().map_err(|_| KeyFileError::InvalidKey)?;
    let key = SecretKey::from_bytes(&bytes).ok_or(KeyFileError::InvalidKey)?;
    if key.address() != address {
        return Err(KeyFileError::WrongPassword);
    }
    Ok(key)
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
            return Err(malformed("unsupported version, kdf or cipher"));
        }
        if file.log_n > MAX_SCRYPT_LOG_N || file.r != SCRYPT_R || file.p != SCRYPT_P {
            return Err(malformed("scrypt parameters out of range"));
        }
        let address = file
            .address
            .parse::<Address>()
            .map_err(|_| malformed("address is not an address"))?;
        return Ok(Parsed::Encrypted((address, file)));
    }
    let bytes: [u8; 32] = salus_primitives::hash::parse_hex_array(trimmed)
        .map_err(|_| malformed("expected 0x and 64 hex digits, or an encrypted key file"))?;
    SecretKey::from_bytes(&bytes)
        .map(Parsed::Plain)
        .ok_or(KeyFileError::InvalidKey)
}

fn derive(password: &[u8], salt: &[u8], log_n: u8) -> [u8; 32] {
    let params = scrypt::Params::new(log_n, SCRYPT_R, SCRYPT_P, 32)
        .expect("parameters are checked before use");
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key).expect("32-byte output is valid");
    key
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
        let costly = text.replace("\"log_n\": 15", "\"log_n\": 40");
        assert!(matches!(
            open(&costly, Some(b"correct horse")),
            Err(KeyFileError::Malformed(_))
        ));
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
    fn a_plain_key_file_round_trips() {
        let key = derive_key(DEV_MNEMONIC, 2).unwrap();
        let text = plain(&key);
        assert!(!is_encrypted(&text));
        assert_eq!(open(&text, None).unwrap().to_bytes(), key.to_bytes());
    }
}
