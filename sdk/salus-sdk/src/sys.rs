//! Safe wrappers over the host functions, generated from the table in `salus-abi` (so the
//! imports cannot drift from what the host links).

use alloc::vec;
use alloc::vec::Vec;

/// The raw imports, exactly as the ABI table declares them.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
pub mod raw {
    macro_rules! declare_imports {
        ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
            #[link(wasm_import_module = "salus")]
            unsafe extern "C" {
                $( $(#[$doc])* pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
            }
        };
    }
    salus_abi::for_each_host_function!(declare_imports);
}

// `wasm_import_module` above takes only a literal: the build fails here (on every target) if it
// ever differs from the ABI's import module.
const _: () = assert!(matches!(salus_abi::HOST_MODULE.as_bytes(), b"salus"));

/// Calls a raw import. Host functions only read and write the guest memory ranges they are
/// given, so passing pointers to live Rust buffers is sound.
#[cfg(target_arch = "wasm32")]
macro_rules! host {
    ($name:ident($($arg:expr),*)) => {{
        #[allow(unsafe_code)]
        // SAFETY: every pointer passed is derived from a live buffer of at least the length
        // passed with it, and the host never retains pointers beyond the call.
        let result = unsafe { raw::$name($($arg),*) };
        result
    }};
}

/// Off wasm32 there is no host: the same functions exist so that contracts compile and their
/// pure logic can be unit-tested, but calling one panics.
#[cfg(not(target_arch = "wasm32"))]
pub mod raw {
    macro_rules! declare_stubs {
        ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
            $(
                $(#[$doc])*
                #[allow(unused_variables)]
                pub fn $name($($arg: $ty),*) $(-> $ret)? {
                    panic!(concat!("host function `", stringify!($name), "` exists only inside the Salus VM (wasm32)"))
                }
            )*
        };
    }
    salus_abi::for_each_host_function!(declare_stubs);
}

#[cfg(not(target_arch = "wasm32"))]
macro_rules! host {
    ($name:ident($($arg:expr),*)) => {
        raw::$name($($arg),*)
    };
}

fn ptr(bytes: &[u8]) -> i32 {
    bytes.as_ptr() as usize as i32
}

fn mut_ptr(bytes: &mut [u8]) -> i32 {
    bytes.as_mut_ptr() as usize as i32
}

fn len(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

/// Bytes of the first read of a variable-length value. The host charges only the bytes it
/// copies, so a larger first buffer costs nothing for small values and spares a value up to this
/// size a second read (a whole storage read's fuel); it lives on the stack, so no call keeps it.
const FIRST_READ_BYTES: usize = 512;

/// Reads a variable-length value: first into a buffer on the stack, keeping exactly the bytes
/// read; again into an exact-size buffer if the value is larger. `read(out_ptr, out_cap)`
/// returns the full length or -1.
fn read_variable(mut read: impl FnMut(i32, i32) -> i64) -> Option<Vec<u8>> {
    let mut first = [0u8; FIRST_READ_BYTES];
    let full = read(mut_ptr(&mut first), len(&first));
    if full < 0 {
        return None;
    }
    let full = full as usize;
    if full <= first.len() {
        return Some(first[..full].to_vec());
    }
    let mut buffer = vec![0u8; full];
    read(mut_ptr(&mut buffer), len(&buffer));
    Some(buffer)
}

/// The call input (selector and arguments).
pub fn input() -> Vec<u8> {
    let size = host!(input_len()) as usize;
    let mut buffer = vec![0u8; size];
    host!(input_read(mut_ptr(&mut buffer)));
    buffer
}

/// Sets the return data.
pub fn set_return(data: &[u8]) {
    host!(set_return(ptr(data), len(data)))
}

/// Reverts with a message.
pub fn revert(message: &[u8]) -> ! {
    host!(revert(ptr(message), len(message)));
    // The host never returns from `revert`.
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Reads a key of the contract's storage.
pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    read_variable(|out, cap| host!(storage_get(ptr(key), len(key), out, cap)))
}

/// Writes a key of the contract's storage.
pub fn storage_set(key: &[u8], value: &[u8]) {
    host!(storage_set(ptr(key), len(key), ptr(value), len(value)))
}

/// Removes a key of the contract's storage.
pub fn storage_remove(key: &[u8]) {
    host!(storage_remove(ptr(key), len(key)))
}

/// Whether a key exists.
pub fn storage_has(key: &[u8]) -> bool {
    host!(storage_has(ptr(key), len(key))) == 1
}

/// The first key under `prefix` after `after` (or from the start).
pub fn storage_next_key(prefix: &[u8], after: Option<&[u8]>) -> Option<Vec<u8>> {
    let (after_ptr, after_len) = match after {
        Some(after) => (ptr(after), len(after)),
        None => (0, -1),
    };
    read_variable(|out, cap| {
        host!(storage_next_key(
            ptr(prefix),
            len(prefix),
            after_ptr,
            after_len,
            out,
            cap
        ))
    })
}

fn read_address(read: impl FnOnce(i32)) -> [u8; 20] {
    let mut out = [0u8; 20];
    read(mut_ptr(&mut out));
    out
}

/// The immediate caller.
pub fn caller() -> [u8; 20] {
    read_address(|out| host!(caller(out)))
}

/// The transaction's signer.
pub fn origin() -> [u8; 20] {
    read_address(|out| host!(origin(out)))
}

/// This contract's address.
pub fn self_address() -> [u8; 20] {
    read_address(|out| host!(self_address(out)))
}

/// The value sent with this call.
pub fn value() -> u128 {
    let mut out = [0u8; 16];
    host!(value(mut_ptr(&mut out)));
    u128::from_le_bytes(out)
}

/// The block number.
pub fn block_number() -> u64 {
    host!(block_number()) as u64
}

/// The block timestamp, ms.
pub fn block_timestamp_ms() -> u64 {
    host!(block_timestamp_ms()) as u64
}

/// The chain id.
pub fn chain_id() -> u64 {
    host!(chain_id()) as u64
}

/// Fuel left in this frame.
pub fn fuel_left() -> u64 {
    host!(fuel_left()) as u64
}

/// Emits an event.
pub fn emit_event(topics: &[[u8; 32]], data: &[u8]) {
    let flat: Vec<u8> = topics.iter().flatten().copied().collect();
    host!(emit_event(
        ptr(&flat),
        topics.len() as i32,
        ptr(data),
        len(data)
    ))
}

/// keccak256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    host!(keccak256(ptr(data), len(data), mut_ptr(&mut out)));
    out
}

/// Recovers a signer's address.
pub fn secp256k1_recover(digest: &[u8; 32], signature: &[u8; 65]) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    (host!(secp256k1_recover(
        ptr(digest),
        ptr(signature),
        mut_ptr(&mut out)
    )) == 0)
        .then_some(out)
}

/// Verifies a signature under a compressed public key.
pub fn secp256k1_verify(digest: &[u8; 32], signature: &[u8; 64], public_key: &[u8; 33]) -> bool {
    host!(secp256k1_verify(
        ptr(digest),
        ptr(signature),
        ptr(public_key)
    )) == 1
}

/// The balance of an address.
pub fn balance(address: &[u8; 20]) -> u128 {
    let mut out = [0u8; 16];
    host!(balance(ptr(address), mut_ptr(&mut out)));
    u128::from_le_bytes(out)
}

/// Transfers from this contract; the raw status code.
pub fn transfer(to: &[u8; 20], amount: u128) -> i32 {
    let amount = amount.to_le_bytes();
    host!(transfer(ptr(to), ptr(&amount)))
}

/// Calls a contract; the raw status code and the result data.
pub fn call(contract: &[u8; 20], input: &[u8], value: u128, fuel: u64) -> (i32, Vec<u8>) {
    let value = value.to_le_bytes();
    let status = host!(call(
        ptr(contract),
        ptr(input),
        len(input),
        ptr(&value),
        fuel as i64
    ));
    (status, call_result())
}

/// Instantiates code on chain; the raw status code, the address and the result data.
pub fn instantiate(
    code_hash: &[u8; 32],
    input: &[u8],
    salt: &[u8; 32],
    value: u128,
    fuel: u64,
) -> (i32, [u8; 20], Vec<u8>) {
    let value = value.to_le_bytes();
    let mut address = [0u8; 20];
    let status = host!(instantiate(
        ptr(code_hash),
        ptr(input),
        len(input),
        ptr(salt),
        ptr(&value),
        fuel as i64,
        mut_ptr(&mut address)
    ));
    (status, address, call_result())
}

fn call_result() -> Vec<u8> {
    let size = host!(call_result_len()) as usize;
    let mut buffer = vec![0u8; size];
    host!(call_result_read(mut_ptr(&mut buffer)));
    buffer
}
