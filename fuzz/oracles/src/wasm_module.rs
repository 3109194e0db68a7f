//! The `wasm_module` target: deploy-time validation of contract modules
//! (`salus_runtime::wasm::inspect_module`, then `Vm::compile`: the deploy rules, then the
//! engine's own validation and Cranelift), and execution of every module both accept.
//!
//! The first byte of an input picks where the module comes from:
//! - `0`: the rest of the input is the module (the seeds are small contracts in WAT);
//! - `1`: `wasm-smith` builds a module shaped like a contract from the rest: imports only from
//!   the host ABI with their exact signatures, exports `memory`, `call` and maybe `deploy`, and
//!   only the Wasm features the consensus engine enables, so that most pass validation and run;
//! - `2`: the same shape with an arbitrary `wasm-smith` configuration (other features, limits,
//!   several memories…), mostly refused;
//! - `3`: an arbitrary `wasm-smith` module with arbitrary imports and exports.
//!
//! Modes 1 to 3 need the `smith` feature (on in the cargo-fuzz project, off in the workspace's
//! replay test, which then skips them: see the feature's comment in Cargo.toml).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

#[cfg(feature = "smith")]
use arbitrary::{Arbitrary, Unstructured};
#[cfg(feature = "smith")]
use salus_abi::{
    CALL_EXPORT, DEPLOY_EXPORT, HOST_FUNCTIONS, HOST_MODULE, MEMORY_EXPORT, ValueType,
};
use salus_primitives::{Account, Address, Hash, StateKey};
use salus_runtime::wasm::{ArtifactStore, ModuleError, TransactionEnv, inspect_module};
use salus_runtime::{ArtifactKey, BlockContext, CompileError, ContractOutcome, Overlay, Vm};
#[cfg(feature = "smith")]
use wasm_encoder::{
    EntityType, ExportKind, ExportSection, FunctionSection, ImportSection, MemorySection,
    MemoryType, Module, TypeSection, ValType,
};

/// Fuel for the Wasm a deploy or a call runs, beyond what it pays up front to compile or load
/// the module: enough for loops and host calls to matter, little enough that a module that
/// loops forever ends in a few milliseconds.
const EXECUTION_FUEL: u64 = 200_000;

/// Most bytes of a call's input taken from the fuzzer's input.
const MAX_CALL_INPUT: usize = 64;

/// Checks one input (see the module documentation for its four modes).
///
/// Invariants: inspection and compilation never panic and agree (a module inspection refuses
/// is refused by compile with the same error; compile refuses a module inspection accepts only
/// by the engine's validation; a module that passes validation compiles, as a failure to
/// compile is this node's problem and never the module's); a module both accept deploys and is
/// called without a node-local failure, and the outcomes of two executions of the same calls on
/// the same state are identical (execution is deterministic).
pub fn wasm_module(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let code = match mode % 4 {
        0 => Some(rest.to_vec()),
        #[cfg(feature = "smith")]
        1 => contract_shaped(&mut Unstructured::new(rest), false).ok(),
        #[cfg(feature = "smith")]
        2 => contract_shaped(&mut Unstructured::new(rest), true).ok(),
        #[cfg(feature = "smith")]
        _ => arbitrary_module(&mut Unstructured::new(rest)).ok(),
        #[cfg(not(feature = "smith"))]
        _ => None,
    };
    let Some(code) = code else {
        return;
    };
    let call_input = &rest[..rest.len().min(MAX_CALL_INPUT)];
    check_module(&code, call_input);
}

/// Checks `code` as deploy would, and runs it if it is accepted.
pub fn check_module(code: &[u8], call_input: &[u8]) {
    let inspected = inspect_module(code);
    assert_eq!(
        inspected,
        inspect_module(code),
        "inspection is not deterministic"
    );
    if let Err(refusal) = &inspected {
        let _ = refusal.rejection();
    }
    let compiled = vm().compile(code);
    match (&inspected, &compiled) {
        (_, Err(CompileError::Local(reason))) => {
            panic!("a valid module does not compile on this node: {reason}")
        }
        (Err(refusal), Err(CompileError::Module(error))) => assert_eq!(
            refusal, error,
            "compile refuses a module for another reason than inspection"
        ),
        (Err(refusal), Ok(_)) => panic!("compile accepts a module inspection refuses: {refusal}"),
        (Ok(_), Err(CompileError::Module(ModuleError::Rejected(_)))) => {}
        (Ok(_), Err(CompileError::Module(error))) => {
            panic!("inspection accepts a module compile refuses by a deploy rule: {error}")
        }
        (Ok(info), Ok(compiled_info)) => {
            assert_eq!(info, compiled_info, "compile learned another ModuleInfo");
            let first = Execution::new().run(code, call_input);
            let second = Execution::new().run(code, call_input);
            assert_eq!(first, second, "executing the same module twice differs");
        }
    }
}

/// The VM of this process. Its artifact store keeps nothing: the module cache (bounded) serves
/// repeated calls, and an in-memory store would grow with every module the fuzzer makes.
fn vm() -> &'static Vm {
    static VM: OnceLock<Vm> = OnceLock::new();
    VM.get_or_init(|| {
        Vm::new(Arc::new(NoArtifacts), ArtifactKey([7; 32]))
            .unwrap_or_else(|error| panic!("the consensus engine does not build: {error}"))
    })
}

/// An artifact store that stores nothing.
struct NoArtifacts;

impl ArtifactStore for NoArtifacts {
    fn load(&self, _code_hash: &Hash, _compatibility: &Hash) -> Option<Vec<u8>> {
        None
    }

    fn store(&self, _code_hash: &Hash, _compatibility: &Hash, _artifact: &[u8]) {}
}

/// One deploy and two calls on a fresh in-memory state.
struct Execution {
    overlay: Overlay,
    origin: Address,
}

impl Execution {
    fn new() -> Execution {
        let origin = Address([0xaa; 20]);
        let mut state = BTreeMap::new();
        let funded = Account {
            nonce: 0,
            balance: 1_000_000_000_000,
            code_hash: None,
        };
        state.insert(
            StateKey::Account(origin).to_bytes(),
            parity_scale_codec::Encode::encode(&funded),
        );
        Execution {
            overlay: Overlay::new(Arc::new(state)),
            origin,
        }
    }

    fn env(&self) -> TransactionEnv {
        TransactionEnv {
            origin: self.origin,
            block: BlockContext {
                number: 7,
                timestamp_ms: 1_767_225_600_000,
                miner: Address([0xee; 20]),
            },
            chain_id: 7_357,
        }
    }

    /// Deploys `code` (constructor input `input`) and, if that succeeds, calls it twice with
    /// `input`; every outcome, in order.
    fn run(mut self, code: &[u8], input: &[u8]) -> Vec<ContractOutcome> {
        let upfront = (code.len() as u64).saturating_mul(
            salus_runtime::fuel_schedule::COMPILE_FUEL_PER_BYTE
                + salus_runtime::fuel_schedule::CODE_STORE_FUEL_PER_BYTE,
        );
        let env = self.env();
        self.overlay.checkpoint();
        let deployed = vm()
            .deploy(
                &mut self.overlay,
                env,
                self.origin,
                code,
                input.to_vec(),
                Hash([1; 32]),
                5,
                upfront + EXECUTION_FUEL,
            )
            .unwrap_or_else(|error| panic!("deploying a valid module fails on this node: {error}"));
        let mut outcomes = vec![deployed.clone()];
        if !deployed.status.is_success() {
            self.overlay.revert();
            return outcomes;
        }
        self.overlay.commit();
        let Ok(address) = <[u8; 20]>::try_from(deployed.return_data.as_slice()) else {
            panic!("a successful deploy returned no address");
        };
        let load = salus_runtime::fuel_schedule::code_load_fuel(code.len());
        for value in [0, 3] {
            self.overlay.checkpoint();
            let called = vm()
                .call(
                    &mut self.overlay,
                    env,
                    self.origin,
                    Address(address),
                    input.to_vec(),
                    value,
                    load + EXECUTION_FUEL,
                )
                .unwrap_or_else(|error| {
                    panic!("calling a valid module fails on this node: {error}")
                });
            if called.status.is_success() {
                self.overlay.commit();
            } else {
                self.overlay.revert();
            }
            outcomes.push(called);
        }
        outcomes
    }
}

#[cfg(feature = "smith")]
/// A module with contract-shaped imports and exports; `any_features` takes the rest of the
/// configuration from the input instead of the engine's feature set.
pub fn contract_shaped(u: &mut Unstructured<'_>, any_features: bool) -> arbitrary::Result<Vec<u8>> {
    let exports = entry_points(u.arbitrary()?, u.int_in_range(0..=17)?, u.arbitrary()?);
    let mut config = if any_features {
        wasm_smith::Config::arbitrary(u)?
    } else {
        engine_features()
    };
    config.available_imports = Some(host_imports().to_vec());
    config.exports = Some(exports);
    config.allow_start_export = any_features && u.ratio(1, 8)?;
    if !any_features {
        // The exported memory is the only one.
        config.max_memories = 0;
        config.min_memories = 0;
    }
    wasm_smith::Module::new(config, u).map(|module| module.to_bytes())
}

#[cfg(feature = "smith")]
/// An arbitrary module from an arbitrary configuration.
pub fn arbitrary_module(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let config = wasm_smith::Config::arbitrary(u)?;
    wasm_smith::Module::new(config, u).map(|module| module.to_bytes())
}

#[cfg(feature = "smith")]
/// The Wasm features `salus_runtime::wasm::engine` enables (MVP, bulk memory, multi-value,
/// reference types, sign extension, saturating conversions, floats), within the deploy limits.
fn engine_features() -> wasm_smith::Config {
    wasm_smith::Config {
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        reference_types_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        max_memory32_bytes: 64 * 65_536,
        max_tables: 1,
        max_table_elements: 4_096,
        max_funcs: 24,
        max_instructions: 256,
        max_globals: 16,
        max_data_segments: 8,
        max_element_segments: 8,
        max_elements: 64,
        max_types: 32,
        max_imports: 16,
        max_exports: 8,
        ..wasm_smith::Config::default()
    }
}

#[cfg(feature = "smith")]
fn value_type(ty: ValueType) -> ValType {
    match ty {
        ValueType::I32 => ValType::I32,
        ValueType::I64 => ValType::I64,
    }
}

#[cfg(feature = "smith")]
/// A module importing every host function with its ABI signature: what `wasm-smith` may import.
fn host_imports() -> &'static [u8] {
    static MODULE: OnceLock<Vec<u8>> = OnceLock::new();
    MODULE.get_or_init(|| {
        let mut types = TypeSection::new();
        let mut imports = ImportSection::new();
        for (index, function) in HOST_FUNCTIONS.iter().enumerate() {
            types.ty().function(
                function.params.iter().copied().map(value_type),
                function.results.iter().copied().map(value_type),
            );
            imports.import(
                HOST_MODULE,
                function.name,
                EntityType::Function(index as u32),
            );
        }
        let mut module = Module::new();
        module.section(&types).section(&imports);
        module.finish()
    })
}

#[cfg(feature = "smith")]
/// A module exporting what a contract must (`memory` of `pages` pages, maybe bounded, and
/// `call`) and maybe a constructor: what `wasm-smith` must export.
fn entry_points(with_constructor: bool, pages: u64, bounded: bool) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(0);
    if with_constructor {
        functions.function(0);
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages,
        maximum: bounded.then_some(pages + 4),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export(MEMORY_EXPORT, ExportKind::Memory, 0);
    exports.export(CALL_EXPORT, ExportKind::Func, 0);
    if with_constructor {
        exports.export(DEPLOY_EXPORT, ExportKind::Func, 1);
    }
    let mut code = wasm_encoder::CodeSection::new();
    for _ in 0..(1 + u32::from(with_constructor)) {
        let mut body = wasm_encoder::Function::new([]);
        body.instructions().end();
        code.function(&body);
    }
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code);
    module.finish()
}
