//! Ethereum keystore v3 files (Web3 Secret Storage), the JSON that geth, Foundry
//! (`cast wallet`), MetaMask, ethers and web3.py import and export, so that keys move between
//! them and Salus.
//!
//! A v3 file holds the private key encrypted with AES-128-CTR under the first 16 bytes of a key
//! derived from the password (scrypt, or PBKDF2 with HMAC-SHA256), and a MAC,
//! keccak256(derived[16..32] ++ ciphertext), that is checked before decrypting. Files written
//! here use scrypt with n = 2^17, r = 8, p = 1 (as ethers.js and MetaMask), name the address in
//! lowercase hex without 0x, and carry a random version 4 UUID. Files read are held to the
//! limits of the crate before any key derivation.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    KeyFileError, MAX_KEY_FILE_BYTES, MAX_PBKDF2_ROUNDS, scrypt_derive, scrypt_params, secret_key,
};

/// scrypt cost (log2 n) of exported files, with r = 8 and p = 1: 128 MiB and a fraction of a
/// second per unlock, what ethers.js and MetaMask write.
pub const EXPORT_SCRYPT_LOG_N: u8 = 17;
const EXPORT_SCRYPT_R: u32 = 8;
const EXPORT_SCRYPT_P: u32 = 1;
/// The derived key length v3 files use: 16 bytes of AES key and 16 of MAC key.
const DERIVED_KEY_LEN: u64 = 32;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// The random inputs of one exported file.
pub struct ExportRandomness {
    /// The KDF salt.
    pub salt: [u8; 32],
    /// The AES-CTR initial counter block.
    pub iv: [u8; 16],
    /// Bytes of the file's UUID (formatted as version 4).
    pub id: [u8; 16],
}

#[derive(Serialize, Deserialize)]
struct KeystoreV3 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    /// geth before 1.4 wrote `Crypto`.
    #[serde(alias = "Crypto")]
    crypto: CryptoSection,
    #[serde(default)]
    id: Option<String>,
    version: u64,
}

#[derive(Serialize, Deserialize)]
struct CryptoSection {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: serde_json::Value,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    dklen: u64,
    n: u64,
    p: u64,
    r: u64,
    salt: String,
}

#[derive(Deserialize)]
struct Pbkdf2Params {
    c: u64,
    dklen: u64,
    prf: String,
    salt: String,
}

/// Encrypts `key` under `password` as a v3 file (scrypt, AES-128-CTR), pretty-printed JSON.
///
/// # Panics
/// Never for the fixed parameters used here.
pub fn encrypt(key: &SecretKey, password: &[u8], randomness: &ExportRandomness) -> String {
    let params = scrypt_params(
        1 << EXPORT_SCRYPT_LOG_N,
        EXPORT_SCRYPT_R.into(),
        EXPORT_SCRYPT_P.into(),
    )
    .expect("the fixed parameters are within the limits");
    let derived = scrypt_derive(password, &randomness.salt, &params);
    let mut ciphertext = Zeroizing::new(key.to_bytes());
    apply_aes_128_ctr(&derived, &randomness.iv, &mut ciphertext[..]);
    let mac = keccak256_concat(&[&derived[16..32], &ciphertext[..]]);
    let file = KeystoreV3 {
        address: Some(hex::encode(key.address().0)),
        crypto: CryptoSection {
            cipher: "aes-128-ctr".into(),
            cipherparams: CipherParams {
                iv: hex::encode(randomness.iv),
            },
            ciphertext: hex::encode(&ciphertext[..]),
            kdf: "scrypt".into(),
            kdfparams: serde_json::to_value(ScryptParams {
                dklen: DERIVED_KEY_LEN,
                n: 1 << EXPORT_SCRYPT_LOG_N,
                p: EXPORT_SCRYPT_P.into(),
                r: EXPORT_SCRYPT_R.into(),
                salt: hex::encode(randomness.salt),
            })
            .expect("serialisable"),
            mac: hex::encode(mac.0),
        },
        id: Some(uuid_v4(randomness.id)),
        version: 3,
    };
    serde_json::to_string_pretty(&file).expect("serialisable") + "\n"
}

/// Whether `text` is JSON naming keystore version 3 with a `crypto` (or `Crypto`) section: an
/// Ethereum keystore rather than a Salus key file. Says nothing of whether it opens.
pub fn is_keystore_v3(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Shape {
        version: Option<u64>,
        #[serde(alias = "Crypto")]
        crypto: Option<serde_json::Value>,
    }
    serde_json::from_str::<Shape>(text.trim())
        .is_ok_and(|shape| shape.version == Some(3) && shape.crypto.is_some())
}

/// Decrypts a v3 file with `password`. Its KDF parameters are checked against the limits
/// before anything is derived; the MAC is checked before decrypting; an `address` in the file,
/// when present, must be the key's.
///
/// # Errors
/// [`KeyFileError::Malformed`] for what is not a v3 file, [`KeyFileError::Unsupported`] for
/// another version, cipher, KDF or PRF, [`KeyFileError::KdfTooCostly`] beyond the limits,
/// [`KeyFileError::WrongPassword`] when the MAC does not match (a wrong password or an altered
/// file), [`KeyFileError::InvalidKey`] and [`KeyFileError::AddressMismatch`].
pub fn decrypt(text: &str, password: &[u8]) -> Result<SecretKey, KeyFileError> {
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(malformed("larger than any keystore file"));
    }
    let file: KeystoreV3 = serde_json::from_str(text)
        .map_err(|error| malformed(&format!("not an Ethereum keystore v3 file: {error}")))?;
    if file.version != 3 {
        return Err(KeyFileError::Unsupported(format!(
            "keystore version {}, only version 3 is read",
            file.version
        )));
    }
    let crypto = &file.crypto;
    if crypto.cipher != "aes-128-ctr" {
        return Err(KeyFileError::Unsupported(format!(
            "cipher {}, only aes-128-ctr is read",
            crypto.cipher
        )));
    }
    let iv: [u8; 16] = decode_hex(&crypto.cipherparams.iv, "cipherparams.iv")?
        .try_into()
        .map_err(|_| malformed("cipherparams.iv is not 16 bytes"))?;
    let ciphertext = decode_hex(&crypto.ciphertext, "ciphertext")?;
    if ciphertext.is_empty() || ciphertext.len() > 32 {
        return Err(malformed("ciphertext is not a private key's length"));
    }
    let mac: [u8; 32] = decode_hex(&crypto.mac, "mac")?
        .try_into()
        .map_err(|_| malformed("mac is not 32 bytes"))?;
    let stated_address = file
        .address
        .as_deref()
        .map(|text| {
            text.parse::<Address>()
                .map_err(|_| malformed("address is not an address"))
        })
        .transpose()?;

    let derived = derive_key(&crypto.kdf, &crypto.kdfparams, password)?;
    let expected = keccak256_concat(&[&derived[16..32], &ciphertext]);
    if !constant_time_eq(&expected.0, &mac) {
        return Err(KeyFileError::WrongPassword);
    }
    let mut plaintext = Zeroizing::new(ciphertext);
    apply_aes_128_ctr(&derived, &iv, &mut plaintext);
    let key = secret_key(&plaintext)?;
    if let Some(stated) = stated_address
        && stated != key.address()
    {
        return Err(KeyFileError::AddressMismatch {
            stated,
            actual: key.address(),
        });
    }
    Ok(key)
}

/// The 32-byte key derived from `password` by the file's KDF, after checking its parameters.
fn derive_key(
    kdf: &str,
    params: &serde_json::Value,
    password: &[u8],
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    match kdf {
        "scrypt" => {
            let params: ScryptParams = serde_json::from_value(params.clone())
                .map_err(|error| malformed(&format!("scrypt kdfparams: {error}")))?;
            check_derived_key_len(params.dklen)?;
            let checked = scrypt_params(params.n, params.r, params.p)?;
            let salt = decode_hex(&params.salt, "kdfparams.salt")?;
            Ok(scrypt_derive(password, &salt, &checked))
        }
        "pbkdf2" => {
            let params: Pbkdf2Params = serde_json::from_value(params.clone())
                .map_err(|error| malformed(&format!("pbkdf2 kdfparams: {error}")))?;
            check_derived_key_len(params.dklen)?;
            if params.prf != "hmac-sha256" {
                return Err(KeyFileError::Unsupported(format!(
                    "pbkdf2 prf {}, only hmac-sha256 is read",
                    params.prf
                )));
            }
            if params.c > MAX_PBKDF2_ROUNDS {
                return Err(KeyFileError::KdfTooCostly(format!(
                    "pbkdf2 c = {}, at most {MAX_PBKDF2_ROUNDS} allowed",
                    params.c
                )));
            }
            let rounds = u32::try_from(params.c)
                .ok()
                .filter(|&rounds| rounds > 0)
                .ok_or_else(|| malformed("pbkdf2 c is not a positive round count"))?;
            let salt = decode_hex(&params.salt, "kdfparams.salt")?;
            let mut derived = Zeroizing::new([0u8; 32]);
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, rounds, &mut derived[..]);
            Ok(derived)
        }
        other => Err(KeyFileError::Unsupported(format!(
            "kdf {other}, only scrypt and pbkdf2 are read"
        ))),
    }
}

fn check_derived_key_len(dklen: u64) -> Result<(), KeyFileError> {
    if dklen == DERIVED_KEY_LEN {
        Ok(())
    } else {
        Err(KeyFileError::Unsupported(format!(
            "kdfparams.dklen {dklen}, v3 files use {DERIVED_KEY_LEN}"
        )))
    }
}

/// AES-128-CTR (big-endian 128-bit counter) with the first 16 bytes of `derived`, in place.
fn apply_aes_128_ctr(derived: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let mut cipher = Aes128Ctr::new_from_slices(&derived[..16], iv)
        .expect("a 16-byte key and a 16-byte counter block");
    cipher.apply_keystream(data);
}

/// Formats 16 random bytes as a version 4 (random) UUID.
fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn constant_time_eq(left: &[u8; 32], right: &[u8; 32]) -> bool {
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>, KeyFileError> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| malformed(&format!("{what} is not hex")))
}

fn malformed(why: &str) -> KeyFileError {
    KeyFileError::Malformed(why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key as derive_dev_key};

    /// The private key of the Web3 Secret Storage test vectors, with password "testpassword".
    const VECTOR_SECRET: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
    const VECTOR_ADDRESS: &str = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b";

    /// The Web3 Secret Storage Definition's PBKDF2-SHA-256 test vector.
    const PBKDF2_VECTOR: &str = include_str!("../tests/data/keystore/web3_pbkdf2.json");

    /// The Web3 Secret Storage Definition's scrypt test vector, as the Ethereum wiki gave it and
    /// geth tests it (r = 1, p = 8, the parameters web3.py writes).
    const SCRYPT_VECTOR: &str = include_str!("../tests/data/keystore/web3_scrypt.json");

    /// The scrypt vector that replaced it on ethereum.org in 2023 (r = 8, p = 1). Its derived key
    /// was computed with the salt's hex text as the salt, not the bytes it encodes, so a
    /// conforming reader (geth, this module) finds its MAC wrong.
    const ETHEREUM_ORG_2023_SCRYPT_VECTOR: &str =
        include_str!("../tests/data/keystore/ethereum_org_2023_scrypt.json");

    /// geth's vector of a key whose leading zero byte was dropped (31 bytes), password "foo".
    const SHORT_KEY_VECTOR: &str = include_str!("../tests/data/keystore/geth_short_key.json");

    fn randomness(byte: u8) -> ExportRandomness {
        ExportRandomness {
            salt: [byte; 32],
            iv: [byte.wrapping_add(1); 16],
            id: [byte.wrapping_add(2); 16],
        }
    }

    #[test]
    fn the_web3_secret_storage_vectors_decrypt_to_their_key() {
        for vector in [PBKDF2_VECTOR, SCRYPT_VECTOR] {
            let key = decrypt(vector, b"testpassword").unwrap();
            assert_eq!(hex::encode(key.to_bytes()), VECTOR_SECRET);
            assert_eq!(key.address().to_string(), VECTOR_ADDRESS);
        }
        let short = decrypt(SHORT_KEY_VECTOR, b"foo").unwrap();
        assert_eq!(
            hex::encode(short.to_bytes()),
            "00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35"
        );
    }

    #[test]
    fn the_vectors_intermediate_derived_keys_match() {
        let pbkdf2: serde_json::Value = serde_json::from_str(PBKDF2_VECTOR).unwrap();
        let derived =
            derive_key("pbkdf2", &pbkdf2["crypto"]["kdfparams"], b"testpassword").unwrap();
        assert_eq!(
            hex::encode(*derived),
            "f06d69cdc7da0faffb1008270bca38f5e31891a3a773950e6d0fea48a7188551"
        );
        let scrypt: serde_json::Value = serde_json::from_str(SCRYPT_VECTOR).unwrap();
        let derived =
            derive_key("scrypt", &scrypt["crypto"]["kdfparams"], b"testpassword").unwrap();
        assert_eq!(
            hex::encode(*derived),
            "fac192ceb5fd772906bea3e118a69e8bbb5cc24229e20d8766fd298291bba6bd"
        );
    }

    #[test]
    fn the_2023_ethereum_org_scrypt_vector_is_refused_for_its_text_salt() {
        assert_eq!(
            decrypt(ETHEREUM_ORG_2023_SCRYPT_VECTOR, b"testpassword").err(),
            Some(KeyFileError::WrongPassword)
        );
        // Its stated derived key is scrypt over the salt's hex text.
        let json: serde_json::Value =
            serde_json::from_str(ETHEREUM_ORG_2023_SCRYPT_VECTOR).unwrap();
        let salt_text = json["crypto"]["kdfparams"]["salt"].as_str().unwrap();
        let params = scrypt_params(1 << 18, 8, 1).unwrap();
        let derived = scrypt_derive(b"testpassword", salt_text.as_bytes(), &params);
        assert_eq!(
            hex::encode(*derived),
            "7446f59ecc301d2d79bc3302650d8a5cedc185ccbb4bf3ca1ebd2c163eaa6c2d"
        );
    }

    #[test]
    fn an_exported_file_round_trips_and_has_the_v3_shape() {
        let key = derive_dev_key(DEV_MNEMONIC, 5).unwrap();
        let text = encrypt(&key, b"correct horse", &randomness(3));
        assert!(!text.contains(&hex::encode(key.to_bytes())));
        let opened = decrypt(&text, b"correct horse").unwrap();
        assert_eq!(opened.to_bytes(), key.to_bytes());
        assert_eq!(
            decrypt(&text, b"battery staple").err(),
            Some(KeyFileError::WrongPassword)
        );

        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 3);
        assert_eq!(json["address"], hex::encode(key.address().0));
        let id = json["id"].as_str().unwrap();
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|group| group.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "version 4: {id}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "RFC 4122 variant: {id}"
        );
        let crypto = &json["crypto"];
        assert_eq!(crypto["cipher"], "aes-128-ctr");
        assert_eq!(crypto["kdf"], "scrypt");
        assert_eq!(crypto["kdfparams"]["n"], 1 << EXPORT_SCRYPT_LOG_N);
        assert_eq!(crypto["kdfparams"]["r"], 8);
        assert_eq!(crypto["kdfparams"]["p"], 1);
        assert_eq!(crypto["kdfparams"]["dklen"], 32);
        // The MAC is keccak256(derived[16..32] ++ ciphertext), recomputed here independently.
        let params = scrypt_params(1 << EXPORT_SCRYPT_LOG_N, 8, 1).unwrap();
        let derived = scrypt_derive(b"correct horse", &[3; 32], &params);
        let ciphertext = hex::decode(crypto["ciphertext"].as_str().unwrap()).unwrap();
        let mut body = derived[16..32].to_vec();
        body.extend_from_slice(&ciphertext);
        assert_eq!(
            crypto["mac"],
            hex::encode(salus_primitives::keccak256(&body).0)
        );
    }

    #[test]
    fn a_tampered_file_is_refused_by_its_mac() {
        let mut json: serde_json::Value = serde_json::from_str(PBKDF2_VECTOR).unwrap();
        json["crypto"]["ciphertext"] =
            "6318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46".into();
        assert_eq!(
            decrypt(&json.to_string(), b"testpassword").err(),
            Some(KeyFileError::WrongPassword)
        );
        let mut json: serde_json::Value = serde_json::from_str(SHORT_KEY_VECTOR).unwrap();
        json["crypto"]["mac"] =
            "d5e116151c6aa71470e67a7d42c9620c75c4d23229847dcc127794f0732b0db6".into();
        assert_eq!(
            decrypt(&json.to_string(), b"foo").err(),
            Some(KeyFileError::WrongPassword)
        );
    }

    #[test]
    fn a_file_naming_another_address_is_refused() {
        let key = derive_dev_key(DEV_MNEMONIC, 6).unwrap();
        let other = derive_dev_key(DEV_MNEMONIC, 7).unwrap().address();
        let text = encrypt(&key, b"pw", &randomness(9));
        let readdressed = text.replace(&hex::encode(key.address().0), &hex::encode(other.0));
        assert_eq!(
            decrypt(&readdressed, b"pw").err(),
            Some(KeyFileError::AddressMismatch {
                stated: other,
                actual: key.address()
            })
        );
    }

    #[test]
    fn costly_kdf_parameters_are_refused_before_any_work() {
        let with_params = |kdf: &str, params: serde_json::Value| {
            let mut json: serde_json::Value = serde_json::from_str(SCRYPT_VECTOR).unwrap();
            json["crypto"]["kdf"] = kdf.into();
            json["crypto"]["kdfparams"] = params;
            decrypt(&json.to_string(), b"testpassword")
        };
        let salt = "25710c2ccd7c610b24d068af83b959b7a0e5f40641f0c82daeb1345766191034";
        for (n, r, p) in [
            (1u64 << 30, 8u64, 1u64),
            (1 << 20, 8, 1),
            (1 << 18, 8, 3),
            (1 << 10, 1 << 40, 1),
            (2, 8, u64::from(u32::MAX)),
        ] {
            let refused = with_params(
                "scrypt",
                serde_json::json!({ "dklen": 32, "n": n, "r": r, "p": p, "salt": salt }),
            );
            assert!(
                matches!(refused, Err(KeyFileError::KdfTooCostly(_))),
                "n {n} r {r} p {p}: {refused:?}"
            );
        }
        let refused = with_params(
            "pbkdf2",
            serde_json::json!({ "c": 1u64 << 40, "dklen": 32, "prf": "hmac-sha256", "salt": salt }),
        );
        assert!(matches!(refused, Err(KeyFileError::KdfTooCostly(_))));
        let refused = with_params(
            "pbkdf2",
            serde_json::json!({ "c": 1, "dklen": 32, "prf": "hmac-sha512", "salt": salt }),
        );
        assert!(matches!(refused, Err(KeyFileError::Unsupported(_))));
        let refused = with_params(
            "scrypt",
            serde_json::json!({ "dklen": 64, "n": 2, "r": 8, "p": 1, "salt": salt }),
        );
        assert!(matches!(refused, Err(KeyFileError::Unsupported(_))));
        let refused = with_params("argon2id", serde_json::json!({}));
        assert!(matches!(refused, Err(KeyFileError::Unsupported(_))));
    }

    #[test]
    fn other_versions_and_ciphers_are_named() {
        let json = SHORT_KEY_VECTOR.replace("\"version\": 3", "\"version\": 4");
        assert!(matches!(
            decrypt(&json, b"foo"),
            Err(KeyFileError::Unsupported(_))
        ));
        let json = SHORT_KEY_VECTOR.replace("aes-128-ctr", "aes-128-cbc");
        assert!(matches!(
            decrypt(&json, b"foo"),
            Err(KeyFileError::Unsupported(_))
        ));
        assert!(matches!(
            decrypt("0x12", b"foo"),
            Err(KeyFileError::Malformed(_))
        ));
        // geth before 1.4 capitalised `Crypto`.
        let json = SHORT_KEY_VECTOR.replace("\"crypto\"", "\"Crypto\"");
        assert!(decrypt(&json, b"foo").is_ok());
    }

    #[test]
    fn uuids_are_version_4() {
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
