//! Limits on contract modules and their execution, each with the reason for its value. Changing
//! one is a consensus change.

/// Largest contract module, in bytes. Compilation time grows with size; 256 KiB holds the
/// largest healthcare contract with room to spare and leaves a deploy transaction well under the
/// transaction size limit.
pub const MAX_CODE_BYTES: usize = 256 * 1024;

/// Most functions (defined and imported) in a module: bounds compile time and code size.
pub const MAX_FUNCTIONS: u32 = 10_000;

/// Most locals in one function: a function with millions of locals is a compile-time bomb.
pub const MAX_LOCALS_PER_FUNCTION: u32 = 1_024;

/// Most globals in a module.
pub const MAX_GLOBALS: u32 = 256;

/// Most elements of a table (initial and maximum): Rust uses one table for indirect calls,
/// with one entry per address-taken function.
pub const MAX_TABLE_ELEMENTS: u32 = 4_096;

/// Most tables per module (Rust emits one).
pub const MAX_TABLES: u32 = 1;

/// Most data segments in a module.
pub const MAX_DATA_SEGMENTS: u32 = 1_024;

/// Most element segments in a module.
pub const MAX_ELEMENT_SEGMENTS: u32 = 64;

/// Wasm page size.
pub const WASM_PAGE_BYTES: u64 = 64 * 1024;

/// Most linear memory a contract may have: 64 pages, 4 MiB. Rust's default 1 MiB shadow stack
/// plus data and heap fit; every frame of a call stack holds one, so the bound caps a
/// transaction's memory at `MAX_CALL_DEPTH` × 4 MiB.
pub const MAX_MEMORY_PAGES: u64 = 64;

/// Largest Wasm stack of one frame, in bytes. Deep recursion hits this and traps with a stack
/// overflow well before the host thread's own stack is at risk.
pub const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

/// Largest ABI custom section, in bytes: it is read by clients, not executed.
pub const MAX_ABI_SECTION_BYTES: usize = 64 * 1024;

/// Distinct contract codes one block may load. Loading a module that is not in memory (reading
/// its artifact, checking it, deserialising it) costs ~8 ns per code byte (685 µs for the 82 KB
/// consent module), far more than fuel charges for a load, which is priced at the in-memory
/// cost. This bound caps a block's cold loads at 64 × [`MAX_CODE_BYTES`] ≈ 140 ms, and, being
/// below [`MAX_CACHED_MODULES`], keeps every code a block uses in memory for the whole block.
/// A call that would load one more distinct code fails; a miner leaves such a transaction for
/// a later block unless it is the block's first.
pub const MAX_CODES_LOADED_PER_BLOCK: usize = 64;

/// Compiled modules kept in memory, ready to instantiate. A cache miss costs a read and a
/// deserialisation of the stored artifact, not a recompilation.
pub const MAX_CACHED_MODULES: usize = 256;

/// Instances the pooling allocator can hold at once: a full call stack for each of this many
/// concurrent executions (block execution plus dry runs).
pub const MAX_CONCURRENT_EXECUTIONS: u32 = 8;
