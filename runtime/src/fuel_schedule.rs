//! Fuel charged for native work, host functions and Wasm operators, set so that one unit stays
//! near a nanosecond of work on the reference machine. Host functions charge whole units before
//! doing any work; Wasm operators are metered in eighths of a unit (their costs are in
//! `wasm::engine`). Fuel costs are consensus: changing one is a hard fork.

/// Wasm execution is metered in sub-units: wasmtime's fuel counter holds this many per unit of
/// fuel, so that a Wasm operator can cost a fraction of a unit (plain arithmetic runs at about
/// 0.15 ns an operator, loads and calls at a few times that). Fuel used is counted in whole
/// units, a started unit counting as used.
pub const WASM_SUBUNITS_PER_FUEL: u64 = 8;

/// `fuel` in Wasm sub-units.
pub fn to_subunits(fuel: u64) -> u64 {
    fuel.saturating_mul(WASM_SUBUNITS_PER_FUEL)
}

/// The whole units of fuel in `subunits` (a started unit is not counted: it counts as used).
pub fn whole_units(subunits: u64) -> u64 {
    subunits / WASM_SUBUNITS_PER_FUEL
}

/// Fuel every transaction pays before anything runs: signature recovery, nonce and balance
/// checks, receipt and index writes. Sized so that a block's fuel limit also bounds its
/// signature-verification work.
pub const BASE_TRANSACTION_FUEL: u64 = 10_000;

/// Fuel per byte of the encoded transaction: it is hashed, stored in the body and gossiped.
pub const FUEL_PER_TRANSACTION_BYTE: u64 = 16;

/// Fuel of moving native balance between two accounts (two account reads and writes).
pub const TRANSFER_FUEL: u64 = 5_000;

/// Fuel a transaction must reserve before it can be considered at all.
pub fn intrinsic_fuel(encoded_len: usize) -> u64 {
    BASE_TRANSACTION_FUEL
        .saturating_add(FUEL_PER_TRANSACTION_BYTE.saturating_mul(encoded_len as u64))
}

/// Compiling a module, per byte: charged before compiling, so a module built to make Cranelift
/// slow pays for the attempt (Cranelift compiles about 2–5 MB/s on the reference machine).
pub const COMPILE_FUEL_PER_BYTE: u64 = 400;

/// Storing new code in state, per byte.
pub const CODE_STORE_FUEL_PER_BYTE: u64 = 20;

/// Loading a contract for a call: fixed part (instantiation from the pool).
pub const CODE_LOAD_FUEL: u64 = 10_000;

/// Loading a contract: one unit per this many bytes of its code, the same whether its compiled
/// artifact was in memory or not, so fuel never depends on a node's cache. Priced at the cost
/// with the module in memory (an 82 KB module instantiates about 4 µs slower than a tiny one);
/// loading one from disk costs ~100× more (685 µs for 82 KB), which is bounded per block instead:
/// a block loads at most [`crate::limits::MAX_CODES_LOADED_PER_BLOCK`] distinct codes.
pub const CODE_LOAD_BYTES_PER_FUEL: u64 = 16;

/// Fuel of loading a contract whose code is `code_len` bytes long.
pub fn code_load_fuel(code_len: usize) -> u64 {
    CODE_LOAD_FUEL.saturating_add((code_len as u64).div_ceil(CODE_LOAD_BYTES_PER_FUEL))
}

/// Wasm pages of linear memory every frame may have without paying for memory: rustc's default
/// 1 MiB shadow stack and a page of data, what every Rust contract declares. Their cost (a frame
/// that dirties all of them takes ~50 µs to run and reset) is covered by a call's fixed fuel.
pub const MEMORY_PAGES_INCLUDED: u64 = 17;

/// Each Wasm page (64 KiB) of a frame's linear memory beyond [`MEMORY_PAGES_INCLUDED`]: dirtying
/// its 16 kernel pages and resetting them after the call takes ~2.9 µs (the `page_touches`
/// calibration benchmark). Charged for the pages a module declares before it is instantiated,
/// and for the pages it grows by when its frame ends; a frame may grow only by what its fuel
/// can pay for.
pub const MEMORY_PAGE_FUEL: u64 = 3_000;

/// Fuel of a frame whose linear memory is `pages` Wasm pages.
pub fn memory_fuel(pages: u64) -> u64 {
    pages
        .saturating_sub(MEMORY_PAGES_INCLUDED)
        .saturating_mul(MEMORY_PAGE_FUEL)
}

/// Every host-function call.
pub const HOST_CALL_FUEL: u64 = 50;

/// Per byte copied between contract memory and the host.
pub const MEMORY_COPY_FUEL_PER_BYTE: u64 = 1;

/// Reading one storage key.
pub const STORAGE_READ_FUEL: u64 = 2_000;

/// Writing or removing one storage key.
pub const STORAGE_WRITE_FUEL: u64 = 10_000;

/// Per byte of key and value written: the bytes are stored in the flat state, the state tree
/// and the undo data.
pub const STORAGE_WRITE_FUEL_PER_BYTE: u64 = 20;

/// Finding the next key of a prefix scan.
pub const STORAGE_SCAN_FUEL: u64 = 3_000;

/// Emitting an event.
pub const EVENT_FUEL: u64 = 2_000;

/// Per event topic (indexed).
pub const EVENT_TOPIC_FUEL: u64 = 1_000;

/// Per byte of event data (kept in the receipt).
pub const EVENT_FUEL_PER_BYTE: u64 = 8;

/// keccak256: fixed part.
pub const KECCAK_FUEL: u64 = 300;

/// keccak256: per byte hashed.
pub const KECCAK_FUEL_PER_BYTE: u64 = 4;

/// secp256k1 public-key recovery (about 150–250 µs).
pub const SECP256K1_RECOVER_FUEL: u64 = 200_000;

/// secp256k1 signature verification (about 130–200 µs).
pub const SECP256K1_VERIFY_FUEL: u64 = 180_000;

/// Reading an account's balance.
pub const BALANCE_FUEL: u64 = 2_000;

/// A cross-contract call or instantiation, before the callee's own loading and execution.
pub const CALL_FUEL: u64 = 5_000;

/// Per byte of return data or revert message handed back to the caller.
pub const RETURN_DATA_FUEL_PER_BYTE: u64 = 2;
