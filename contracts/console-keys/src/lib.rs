//! The console's key module: what a browser needs to act with a user's key without the key
//! ever leaving it. Built for wasm32 and loaded by the console's `keys.js`; the key is passed in
//! on every call, used and wiped, and nothing is kept between calls.
//!
//! - [`key_address`]: the address a secp256k1 secret key signs as;
//! - [`sign_call`]: a signed dry run's signature (`salus_primitives::signed_call`), over a call
//!   the module builds itself from the fields it is given, under the dry-run domain, so that a
//!   page cannot have the key sign a transaction or anything but a read;
//! - [`open_with_wallet_key`] and [`open_with_x25519`]: a sealed box opened (`salus_seal`) with
//!   the reply key derived from a wallet key and the chain's genesis hash, or with an X25519
//!   secret;
//! - [`open_key_file`]: the key in a Salus key file or an Ethereum keystore v3 file, opened with
//!   its password (`salus_keyfile`, the CLI's code and limits).
//!
//! # Calling convention
//!
//! Plain exports, no bindings generator. The caller writes its inputs into memory it got from
//! [`alloc`]; each function returns `(pointer << 32) | length` of an answer it allocated: one
//! status byte (`0` success, `1` refusal) and then the bytes (or a UTF-8 reason). The caller
//! reads the answer, wipes and frees it and its inputs with [`dealloc`].

use salus_primitives::signed_call::SignedCall;
use salus_primitives::{Address, Hash, SecretKey, Signature};
use salus_seal::reply_key::reply_secret;
use salus_seal::x25519_dalek::StaticSecret;
use zeroize::{Zeroize, Zeroizing};

/// Status byte of an answer that holds the result.
const SUCCESS: u8 = 0;
/// Status byte of an answer that holds the reason of a refusal.
const REFUSED: u8 = 1;

/// `len` bytes of memory for the caller to write an input into.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: u32) -> *mut u8 {
    Box::into_raw(vec![0u8; len as usize].into_boxed_slice()).cast::<u8>()
}

/// Frees memory [`alloc`] gave or an answer the module returned, wiping it first.
///
/// # Safety
/// `pointer` and `len` are exactly those of one earlier [`alloc`] or answer, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(pointer: *mut u8, len: u32) {
    // SAFETY: the caller gives back a boxed slice of `len` bytes this module allocated.
    let mut buffer =
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(pointer, len as usize)) };
    buffer.zeroize();
}

/// The address of the secp256k1 secret key at `key` (32 bytes).
///
/// # Safety
/// `key` points to 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn key_address(key: *const u8) -> u64 {
    // SAFETY: the caller's contract.
    let key = unsafe { read_array::<32>(key) };
    answer(address_of(&Zeroizing::new(key)).map(|address| address.0.to_vec()))
}

/// The address the secret key `key` signs as.
fn address_of(key: &[u8; 32]) -> Result<Address, String> {
    Ok(secret_key(key)?.address())
}

/// The signature (65 bytes, r ‖ s ‖ v) by the key at `key` of a dry run on chain `chain_id` of
/// `input` (`input_len` bytes) on the contract at `contract` (20 bytes), at the head, with no
/// value, valid until `expires_ms`.
///
/// # Safety
/// `key` points to 32 readable bytes, `contract` to 20, `input` to `input_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sign_call(
    key: *const u8,
    contract: *const u8,
    input: *const u8,
    input_len: u32,
    chain_id: u64,
    expires_ms: u64,
) -> u64 {
    // SAFETY: the caller's contract.
    let (key, contract, input) = unsafe {
        (
            Zeroizing::new(read_array::<32>(key)),
            Address(read_array(contract)),
            slice(input, input_len).to_vec(),
        )
    };
    answer(
        call_signature(&key, contract, input, chain_id, expires_ms)
            .map(|signature| signature.0.to_vec()),
    )
}

/// The signature by `key` of a dry run of `input` on `contract`, chain `chain_id`, at the head,
/// with no value, valid until `expires_ms`: the module builds the call itself, under the
/// dry-run domain, so what it signs can only ever be a read.
fn call_signature(
    key: &[u8; 32],
    contract: Address,
    input: Vec<u8>,
    chain_id: u64,
    expires_ms: u64,
) -> Result<Signature, String> {
    let key = secret_key(key)?;
    Ok(SignedCall {
        chain_id,
        from: key.address(),
        contract,
        input,
        value: 0,
        at: None,
        expires_ms,
    }
    .sign(&key))
}

/// Opens the box at `sealed` (`sealed_len` bytes), sealed with associated data `aad`
/// (`aad_len` bytes) to the reply key of the wallet key at `key` (32 bytes) on the chain whose
/// genesis hash is at `genesis` (32 bytes): the plaintext.
///
/// # Safety
/// `key` and `genesis` point to 32 readable bytes, `sealed` to `sealed_len`, `aad` to `aad_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open_with_wallet_key(
    key: *const u8,
    genesis: *const u8,
    sealed: *const u8,
    sealed_len: u32,
    aad: *const u8,
    aad_len: u32,
) -> u64 {
    // SAFETY: the caller's contract.
    let (key, genesis) = unsafe {
        (
            Zeroizing::new(read_array::<32>(key)),
            Hash(read_array(genesis)),
        )
    };
    // SAFETY: the caller's contract.
    let (sealed, aad) = unsafe { (slice(sealed, sealed_len), slice(aad, aad_len)) };
    answer(open_for_wallet(&key, &genesis, sealed, aad))
}

/// Opens `sealed` with the reply key of wallet key `key` on the chain of `genesis`.
fn open_for_wallet(
    key: &[u8; 32],
    genesis: &Hash,
    sealed: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, String> {
    open(&reply_secret(&secret_key(key)?, genesis), sealed, aad)
}

/// Opens the box at `sealed` with the X25519 secret at `secret` (32 bytes).
///
/// # Safety
/// As [`open_with_wallet_key`], `secret` pointing to 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open_with_x25519(
    secret: *const u8,
    sealed: *const u8,
    sealed_len: u32,
    aad: *const u8,
    aad_len: u32,
) -> u64 {
    // SAFETY: the caller's contract.
    let secret = StaticSecret::from(*Zeroizing::new(unsafe { read_array::<32>(secret) }));
    // SAFETY: the caller's contract.
    let (sealed, aad) = unsafe { (slice(sealed, sealed_len), slice(aad, aad_len)) };
    answer(open(&secret, sealed, aad))
}

/// The secret key in the key file at `file` (`file_len` bytes: a Salus key file, an Ethereum
/// keystore v3 file or a hex key), opened with the password at `password` (`password_len`
/// bytes): its 32 bytes, for the caller to hold in the page's memory while the user acts.
/// The key derivation's cost is bounded before anything is derived, as in the CLI.
///
/// # Safety
/// `file` points to `file_len` readable bytes, `password` to `password_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open_key_file(
    file: *const u8,
    file_len: u32,
    password: *const u8,
    password_len: u32,
) -> u64 {
    // SAFETY: the caller's contract.
    let (file, password) = unsafe { (slice(file, file_len), slice(password, password_len)) };
    answer(key_from_file(file, password).map(|key| key.to_vec()))
}

/// The key in a key file's bytes, opened with `password`.
fn key_from_file(file: &[u8], password: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
    if file.len() as u64 > salus_keyfile::MAX_KEY_FILE_BYTES {
        return Err("larger than a key file can be".into());
    }
    let text = core::str::from_utf8(file).map_err(|_| "a key file is text (UTF-8)".to_string())?;
    let key = salus_keyfile::open_any(text, Some(password)).map_err(|error| error.to_string())?;
    Ok(Zeroizing::new(key.to_bytes()))
}

fn open(secret: &StaticSecret, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
    salus_seal::open(secret, sealed, aad)
        .map(|plaintext| plaintext.to_vec())
        .map_err(|error| error.to_string())
}

/// The secret key `key`, or why it is not one.
fn secret_key(key: &[u8; 32]) -> Result<SecretKey, String> {
    SecretKey::from_bytes(key)
        .ok_or_else(|| "not a secp256k1 secret key (zero, or not below the group order)".into())
}

/// # Safety
/// `pointer` points to `N` readable bytes.
unsafe fn read_array<const N: usize>(pointer: *const u8) -> [u8; N] {
    let mut out = [0u8; N];
    // SAFETY: the caller's contract.
    out.copy_from_slice(unsafe { std::slice::from_raw_parts(pointer, N) });
    out
}

/// # Safety
/// `pointer` points to `len` readable bytes that outlive the slice.
unsafe fn slice<'a>(pointer: *const u8, len: u32) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(pointer, len as usize) }
}

/// The answer's memory, as `(pointer << 32) | length`, owned by the caller from now on.
fn answer(result: Result<Vec<u8>, String>) -> u64 {
    let mut bytes: Vec<u8> = match result {
        Ok(mut value) => {
            let mut bytes = Vec::with_capacity(value.len() + 1);
            bytes.push(SUCCESS);
            bytes.extend_from_slice(&value);
            value.zeroize();
            bytes
        }
        Err(reason) => {
            let mut bytes = vec![REFUSED];
            bytes.extend_from_slice(reason.as_bytes());
            bytes
        }
    };
    let len = bytes.len() as u64;
    let pointer = Box::into_raw(std::mem::take(&mut bytes).into_boxed_slice()).cast::<u8>();
    ((pointer as u64) << 32) | len
}

#[cfg(test)]
mod tests {
    //! The module's functions on the host, against the code the node and the client run: what
    //! it signs is what the node checks, and what it opens is what the client seals.

    use super::*;
    use salus_primitives::signed_call::CallSignatureError;
    use salus_seal::reply_key::reply_public_key;
    use salus_seal::x25519_dalek::PublicKey;

    const KEY: [u8; 32] = [0x42; 32];
    const CONTRACT: Address = Address([0x01; 20]);

    fn call(from: Address, input: Vec<u8>) -> SignedCall {
        SignedCall {
            chain_id: 7357,
            from,
            contract: CONTRACT,
            input,
            value: 0,
            at: None,
            expires_ms: 1_000,
        }
    }

    #[test]
    fn a_signature_recovers_to_the_keys_address_for_exactly_the_call_it_was_made_for() {
        let from = address_of(&KEY).unwrap();
        assert_eq!(from, SecretKey::from_bytes(&KEY).unwrap().address());
        let signature = call_signature(&KEY, CONTRACT, vec![1, 2, 3], 7357, 1_000).unwrap();
        assert_eq!(call(from, vec![1, 2, 3]).signer(&signature), Ok(from));
        // Another input (another page of the accounting, another view) recovers to someone else.
        assert!(matches!(
            call(from, vec![1, 2, 4]).signer(&signature),
            Err(CallSignatureError::NotFrom { .. })
        ));
    }

    #[test]
    fn a_key_file_opens_with_its_password_only_and_hostile_files_are_refused() {
        let key = SecretKey::from_bytes(&KEY).unwrap();
        let file = salus_keyfile::encrypt(&key, b"correct horse", [0x11; 32], [0x22; 24]);
        assert_eq!(
            *key_from_file(file.as_bytes(), b"correct horse").unwrap(),
            KEY
        );
        let reason = key_from_file(file.as_bytes(), b"wrong").unwrap_err();
        assert!(reason.contains("wrong password"), "{reason}");
        // A hex key file needs no password; bytes that are no key file are named as such.
        let hex_file = format!("0x{}\n", "42".repeat(32));
        assert_eq!(*key_from_file(hex_file.as_bytes(), b"").unwrap(), KEY);
        assert!(
            key_from_file(&[0xff, 0xfe], b"")
                .unwrap_err()
                .contains("UTF-8")
        );
        assert!(key_from_file(b"{\"version\": 1}", b"x").is_err());
        // A file demanding gigabytes of scrypt is refused before anything is derived.
        let costly = file.replace("\"log_n\": 15", "\"log_n\": 30");
        let reason = key_from_file(costly.as_bytes(), b"correct horse").unwrap_err();
        assert!(reason.contains("too costly"), "{reason}");
        let huge = vec![b' '; 65 * 1024];
        assert!(key_from_file(&huge, b"").unwrap_err().contains("larger"));
    }

    #[test]
    fn zero_and_out_of_range_keys_are_refused_with_a_reason() {
        for key in [[0u8; 32], [0xff; 32]] {
            let reason = address_of(&key).unwrap_err();
            assert!(reason.contains("not a secp256k1 secret key"), "{reason}");
            assert!(call_signature(&key, CONTRACT, vec![], 1, 1).is_err());
        }
    }

    #[test]
    fn a_box_sealed_to_the_wallets_reply_key_opens_only_with_that_key_chain_and_binding() {
        let genesis = Hash([0x07; 32]);
        let recipient = PublicKey::from(reply_public_key(&secret_key(&KEY).unwrap(), &genesis));
        let sealed = salus_seal::seal_with(
            &StaticSecret::from([0x55; 32]),
            [0x66; 24],
            &recipient,
            0,
            b"{\"resourceType\":\"Observation\"}",
            b"request",
        )
        .unwrap();
        assert_eq!(
            open_for_wallet(&KEY, &genesis, &sealed, b"request").unwrap(),
            b"{\"resourceType\":\"Observation\"}"
        );
        for (key, chain, aad) in [
            ([0x43; 32], genesis, &b"request"[..]),
            (KEY, Hash([0x08; 32]), &b"request"[..]),
            (KEY, genesis, &b"another request"[..]),
        ] {
            let reason = open_for_wallet(&key, &chain, &sealed, aad).unwrap_err();
            assert!(reason.contains("does not open"), "{reason}");
        }
        let reason = open_for_wallet(&KEY, &genesis, b"not a box", b"request").unwrap_err();
        assert!(reason.contains("not a sealed box"), "{reason}");
    }
}
