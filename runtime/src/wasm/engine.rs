//! The wasmtime engine configured for consensus: Cranelift, fuel metering (never epoch
//! interruption, which depends on timing), NaN canonicalisation, only the Wasm features current
//! rustc emits for wasm32-unknown-unknown, a bounded stack, and a pooling allocator with
//! copy-on-write memory initialisation.

use std::hash::Hasher;

use salus_abi::limits::MAX_CALL_DEPTH;
use salus_primitives::{Hash, keccak256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Strategy,
};

use crate::limits::{
    MAX_CONCURRENT_EXECUTIONS, MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, MAX_TABLES,
    MAX_WASM_STACK_BYTES, WASM_PAGE_BYTES,
};

/// Bytes of each pooled linear memory reset in place rather than returned to the kernel: all of
/// it. Pages past this bound would be returned with `madvise` and fault in again on the next
/// call: a frame dirtying its whole 4 MiB took 620 µs that way and 176 µs with every page kept
/// (the `page_touches` calibration benchmark). A pooled memory holds only the pages calls have
/// dirtied.
const KEEP_RESIDENT_MEMORY_BYTES: usize = (MAX_MEMORY_PAGES * WASM_PAGE_BYTES) as usize;

/// Bytes per table element (a function reference).
const TABLE_ELEMENT_BYTES: usize = 8;

/// The exact wasmtime release: fuel costs and compilation outcomes are consensus.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Builds the consensus engine.
///
/// # Errors
/// A wasmtime error if the configuration is refused (it never is on supported platforms).
pub fn consensus_engine() -> wasmtime::Result<Engine> {
    Engine::new(&consensus_config())
}

/// The consensus configuration.
pub fn consensus_config() -> Config {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    config.cranelift_opt_level(OptLevel::Speed);
    config.consume_fuel(true);
    config.operator_cost(operator_costs());
    config.epoch_interruption(false);
    config.cranelift_nan_canonicalization(true);
    // What rustc emits for wasm32-unknown-unknown today.
    config.wasm_bulk_memory(true);
    config.wasm_multi_value(true);
    config.wasm_reference_types(true);
    // Everything else wasmtime could accept is refused at deploy. (Threads and the component
    // model are not even compiled in: their Cargo features are off.)
    config.shared_memory(false);
    config.wasm_simd(false);
    config.wasm_relaxed_simd(false);
    config.wasm_multi_memory(false);
    config.wasm_memory64(false);
    config.wasm_tail_call(false);
    config.wasm_extended_const(false);
    config.wasm_function_references(false);
    config.wasm_gc(false);
    config.wasm_exceptions(false);
    config.wasm_wide_arithmetic(false);
    config.wasm_custom_page_sizes(false);
    config.wasm_stack_switching(false);
    config.max_wasm_stack(MAX_WASM_STACK_BYTES);
    config.memory_init_cow(true);
    config.parallel_compilation(true);

    let instances = (MAX_CALL_DEPTH as u32 + 1) * MAX_CONCURRENT_EXECUTIONS;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(instances);
    pool.total_memories(instances);
    pool.total_tables(instances * MAX_TABLES);
    pool.max_memories_per_module(1);
    pool.max_tables_per_module(MAX_TABLES);
    pool.table_elements(MAX_TABLE_ELEMENTS as usize);
    pool.max_memory_size((MAX_MEMORY_PAGES * WASM_PAGE_BYTES) as usize);
    // Reset a finished instance's memory and table with `memset` on the pages it dirtied
    // (found with Linux's PAGEMAP_SCAN where the kernel has it) instead of `madvise`: an
    // `madvise` per call flushes every core's TLB (an inter-processor interrupt to each), which
    // profiles showed as ~10 % of a busy node's CPU. Contents after the reset are identical
    // either way, so this is not consensus.
    pool.pagemap_scan(wasmtime::Enabled::Auto);
    pool.linear_memory_keep_resident(KEEP_RESIDENT_MEMORY_BYTES);
    pool.table_keep_resident(MAX_TABLE_ELEMENTS as usize * TABLE_ELEMENT_BYTES);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Fuel of each Wasm operator, in sub-units of fuel
/// ([`crate::fuel_schedule::WASM_SUBUNITS_PER_FUEL`] to a unit), calibrated by the
/// `fuel_calibration` benchmark (`benches/benches/runtime.rs`: a dependency chain of each kind of
/// work, timed per unit of fuel; figures in BENCHMARKS.md) so that a unit buys at most about a
/// nanosecond of any of them:
/// - free: operators Cranelift turns into no code of their own — locals (registers after
///   register allocation), constants (immediates), `nop`, `drop` and structured control;
///   every branch and call still costs, so every loop iteration pays;
/// - one sub-unit: register arithmetic, comparisons, `if`;
/// - more: branches (which every loop iteration takes), memory accesses, calls, divisions and
///   square roots, by their measured latency;
/// - bulk memory: one sub-unit per byte copied or filled, besides the operator.
///
/// Consensus: a change is a hard fork.
fn operator_costs() -> wasmtime::OperatorCost {
    let mut cost = wasmtime::OperatorCost::new();
    cost.LocalGet = 0;
    cost.LocalSet = 0;
    cost.LocalTee = 0;
    cost.I32Const = 0;
    cost.I64Const = 0;
    cost.F32Const = 0;
    cost.F64Const = 0;
    for load in [
        &mut cost.I32Load,
        &mut cost.I64Load,
        &mut cost.F32Load,
        &mut cost.F64Load,
        &mut cost.I32Load8S,
        &mut cost.I32Load8U,
        &mut cost.I32Load16S,
        &mut cost.I32Load16U,
        &mut cost.I64Load8S,
        &mut cost.I64Load8U,
        &mut cost.I64Load16S,
        &mut cost.I64Load16U,
        &mut cost.I64Load32S,
        &mut cost.I64Load32U,
    ] {
        *load = MEMORY_ACCESS_SUBUNITS;
    }
    for store in [
        &mut cost.I32Store,
        &mut cost.I64Store,
        &mut cost.F32Store,
        &mut cost.F64Store,
        &mut cost.I32Store8,
        &mut cost.I32Store16,
        &mut cost.I64Store8,
        &mut cost.I64Store16,
        &mut cost.I64Store32,
    ] {
        *store = MEMORY_ACCESS_SUBUNITS;
    }
    cost.Br = BRANCH_SUBUNITS;
    cost.BrIf = BRANCH_SUBUNITS;
    cost.BrTable = BRANCH_SUBUNITS;
    cost.Call = CALL_SUBUNITS;
    cost.CallIndirect = INDIRECT_CALL_SUBUNITS;
    for division in [
        &mut cost.I32DivS,
        &mut cost.I32DivU,
        &mut cost.I32RemS,
        &mut cost.I32RemU,
        &mut cost.I64DivS,
        &mut cost.I64DivU,
        &mut cost.I64RemS,
        &mut cost.I64RemU,
        &mut cost.F32Div,
        &mut cost.F64Div,
        &mut cost.F32Sqrt,
        &mut cost.F64Sqrt,
    ] {
        *division = DIVISION_SUBUNITS;
    }
    cost
}

/// A load or store, a whole unit: a chain of dependent loads across a contract's 4 MiB memory
/// misses the first-level caches (about 3 ns a load).
const MEMORY_ACCESS_SUBUNITS: u8 = 8;

/// A branch (`br`, `br_if`, `br_table`): the only way back to a loop's head, so every loop
/// iteration pays it, whatever its body. A loop of nothing but a branch ran ~0.6 ns an iteration
/// (wasmtime's fuel check on the loop header included): at one sub-unit a unit of fuel bought
/// ~4.5 ns, 3× the dearest other work, and a block of such loops took seconds (issue 19). At half
/// a unit the bare loop buys ~1.1 ns a unit, and loops with bodies stay within 1–2 ns.
const BRANCH_SUBUNITS: u8 = 4;

/// A direct call: prologue, stack-limit check, fuel saved and reloaded.
const CALL_SUBUNITS: u8 = 12;

/// An indirect call: a direct call plus the table bounds and signature checks.
const INDIRECT_CALL_SUBUNITS: u8 = 20;

/// Integer division and remainder, float division and square root: tens of cycles of latency.
const DIVISION_SUBUNITS: u8 = 32;

/// A hash identifying compiled artifacts this engine can load: the wasmtime version and the
/// engine's own compatibility hash (target, flags, tunables).
pub fn engine_compatibility_hash(engine: &Engine) -> Hash {
    struct KeccakHasher(Vec<u8>);
    impl Hasher for KeccakHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }
    let mut hasher = KeccakHasher(WASMTIME_VERSION.as_bytes().to_vec());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    keccak256(&hasher.0)
}
