//! Runtime benchmarks: a full contract call through the Salus VM, wasmtime (consensus
//! configuration) against wasmi on the same modules with fuel on in both, and Cranelift compile
//! time for a 50 KiB contract.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group};
use parity_scale_codec::Encode;
use salus_primitives::{Account, Address, Hash, StateKey};
use salus_runtime::fuel_schedule::WASM_SUBUNITS_PER_FUEL;
use salus_runtime::wasm::TransactionEnv;
use salus_runtime::wasm::engine::consensus_engine;
use salus_runtime::{BlockContext, Overlay, Vm};

/// Reads three keys and writes three keys of its own storage.
const THREE_READS_THREE_WRITES: &str = r#"(module
  (import "salus" "storage_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "salus" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "key-a key-b key-c ")
  (func (export "call")
    (drop (call $get (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 32)))
    (drop (call $get (i32.const 6) (i32.const 5) (i32.const 132) (i32.const 32)))
    (drop (call $get (i32.const 12) (i32.const 5) (i32.const 164) (i32.const 32)))
    (call $set (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 32))
    (call $set (i32.const 6) (i32.const 5) (i32.const 132) (i32.const 32))
    (call $set (i32.const 12) (i32.const 5) (i32.const 164) (i32.const 32))))"#;

/// `xorshift` iterates xorshift64 `$n` times: a chain of nine ALU operators an iteration.
macro_rules! xorshift_function {
    () => {
        r#"
  (func (export "xorshift") (param $n i64) (result i64)
    (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $l
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))"#
    };
}

/// Compute-heavy: `xorshift`; `small` does a handful of instructions.
const ENGINE_MODULE: &str = concat!(
    r#"(module
  (memory (export "memory") 1)"#,
    xorshift_function!(),
    r#"
  (func (export "small") (param $a i64) (result i64)
    (i64.add (i64.mul (local.get $a) (i64.const 3)) (i64.const 7))))"#
);

const ITERATIONS: i64 = 1_000_000;
const FUEL: u64 = u64::MAX / 4;

fn env() -> TransactionEnv {
    TransactionEnv {
        origin: Address([0xaa; 20]),
        block: BlockContext {
            number: 1,
            timestamp_ms: 1,
            miner: Address([0xee; 20]),
        },
        chain_id: 1,
    }
}

fn contract_call(c: &mut Criterion) {
    let vm = Vm::in_memory().expect("engine");
    let origin = env().origin;
    let mut state = BTreeMap::new();
    state.insert(
        StateKey::Account(origin).to_bytes(),
        Account {
            nonce: 0,
            balance: 1 << 100,
            code_hash: None,
        }
        .encode(),
    );
    let mut overlay = Overlay::new(Arc::new(state));
    let code = wat::parse_str(THREE_READS_THREE_WRITES).expect("wat");
    let deployed = vm
        .deploy(
            &mut overlay,
            env(),
            origin,
            &code,
            Vec::new(),
            Hash::ZERO,
            0,
            100_000_000,
        )
        .expect("deploy");
    let contract = Address(deployed.return_data.try_into().expect("address"));
    // Warm the module cache (the node keeps it warm across blocks).
    vm.call(
        &mut overlay,
        env(),
        origin,
        contract,
        Vec::new(),
        0,
        10_000_000,
    )
    .expect("call");
    let mut group = c.benchmark_group("contract_call");
    group.bench_function("load_instantiate_call_3_reads_3_writes", |b| {
        b.iter(|| {
            overlay.checkpoint();
            let outcome = vm
                .call(
                    &mut overlay,
                    env(),
                    origin,
                    contract,
                    Vec::new(),
                    0,
                    10_000_000,
                )
                .expect("call");
            overlay.revert();
            black_box(outcome)
        })
    });
    // The same call as a dry run (RPC `state_call`): a dry-run execution slot taken and given
    // back, and a fresh overlay over the state, around the same execution.
    let committed: salus_runtime::SharedState = {
        let mut flat = BTreeMap::new();
        let mut cursor: Option<Vec<u8>> = None;
        while let Some((key, value)) = overlay.next_entry(&[], cursor.as_deref()).expect("scan") {
            cursor = Some(key.clone());
            flat.insert(key, value);
        }
        Arc::new(flat)
    };
    group.bench_function("dry_run_3_reads_3_writes", |b| {
        b.iter(|| {
            let outcome = vm
                .dry_run(
                    committed.clone(),
                    env(),
                    contract,
                    Vec::new(),
                    0,
                    10_000_000,
                )
                .expect("dry run");
            black_box(outcome)
        })
    });
    // What an execution costs more when it starts on a thread without the execution stack
    // (the VM runs it on a fresh thread of that size): why the node registers its threads.
    group.bench_function("execution_thread_spawn_and_join", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .stack_size(salus_runtime::native_stack::EXECUTION_STACK_BYTES)
                    .spawn_scoped(scope, || black_box(1))
                    .expect("spawn")
                    .join()
                    .expect("join")
            })
        })
    });
    // The same call on a real contract (consent, 82 KB) with its module in memory, and cold:
    // the artifact read from the store, integrity-checked and deserialised first. A call pays
    // the same load fuel either way (`fuel_schedule::code_load_fuel`).
    let consent_abi = salus_client::ContractAbi::from_wasm(salus_contracts::CONSENT).expect("abi");
    let deployed = vm
        .deploy(
            &mut overlay,
            env(),
            origin,
            salus_contracts::CONSENT,
            consent_abi
                .encode_constructor(&serde_json::json!([origin.to_string(), "Deny"]))
                .expect("constructor"),
            Hash::ZERO,
            0,
            1_000_000_000,
        )
        .expect("deploy consent");
    assert!(deployed.status.is_success(), "{:?}", deployed.status);
    let consent = Address(deployed.return_data.try_into().expect("address"));
    let input = consent_abi
        .encode_call("consent_version", &serde_json::json!(["0"]))
        .expect("input");
    let call_consent = |overlay: &mut Overlay| {
        overlay.checkpoint();
        let outcome = vm
            .call(
                overlay,
                env(),
                origin,
                consent,
                input.clone(),
                0,
                10_000_000,
            )
            .expect("call");
        overlay.revert();
        assert!(outcome.status.is_success(), "{:?}", outcome.status);
        outcome
    };
    call_consent(&mut overlay);
    group.bench_function("consent_view_module_in_memory", |b| {
        b.iter(|| black_box(call_consent(&mut overlay)))
    });
    group.bench_function("consent_view_cold_load", |b| {
        b.iter(|| {
            vm.forget_loaded_modules();
            black_box(call_consent(&mut overlay))
        })
    });
    group.finish();
}

fn engines(c: &mut Criterion) {
    let wasm = wat::parse_str(ENGINE_MODULE).expect("wat");

    let engine = consensus_engine().expect("engine");
    let module = wasmtime::Module::new(&engine, &wasm).expect("compile");
    let linker = wasmtime::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&module).expect("pre");

    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    let wasmi_engine = wasmi::Engine::new(&config);
    let wasmi_module = wasmi::Module::new(&wasmi_engine, &wasm[..]).expect("wasmi compile");
    let wasmi_linker = wasmi::Linker::<()>::new(&wasmi_engine);

    let mut group = c.benchmark_group("compute_xorshift_1M_iterations");
    group.throughput(Throughput::Elements(ITERATIONS as u64));
    group.sample_size(20);
    group.bench_function("wasmtime", |b| {
        b.iter(|| {
            let mut store = wasmtime::Store::new(&engine, ());
            store.set_fuel(FUEL).expect("fuel");
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let run = instance
                .get_typed_func::<i64, i64>(&mut store, "xorshift")
                .expect("xorshift");
            black_box(run.call(&mut store, ITERATIONS).expect("call"))
        })
    });
    group.bench_function("wasmi", |b| {
        b.iter(|| {
            let mut store = wasmi::Store::new(&wasmi_engine, ());
            store.set_fuel(FUEL).expect("fuel");
            let instance = wasmi_linker
                .instantiate_and_start(&mut store, &wasmi_module)
                .expect("instantiate");
            let run = instance
                .get_typed_func::<i64, i64>(&store, "xorshift")
                .expect("xorshift");
            black_box(run.call(&mut store, ITERATIONS).expect("call"))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("small_call_instantiate_and_call");
    group.bench_function("wasmtime", |b| {
        b.iter(|| {
            let mut store = wasmtime::Store::new(&engine, ());
            store.set_fuel(FUEL).expect("fuel");
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let small = instance
                .get_typed_func::<i64, i64>(&mut store, "small")
                .expect("small");
            black_box(small.call(&mut store, 5).expect("call"))
        })
    });
    group.bench_function("wasmi", |b| {
        b.iter(|| {
            let mut store = wasmi::Store::new(&wasmi_engine, ());
            store.set_fuel(FUEL).expect("fuel");
            let instance = wasmi_linker
                .instantiate_and_start(&mut store, &wasmi_module)
                .expect("instantiate");
            let small = instance
                .get_typed_func::<i64, i64>(&store, "small")
                .expect("small");
            black_box(small.call(&mut store, 5).expect("call"))
        })
    });
    group.finish();
}

/// A module of about 50 KiB: many small arithmetic functions calling each other.
fn fifty_kib_module() -> Vec<u8> {
    let mut text = String::from("(module (memory (export \"memory\") 1)\n");
    let mut i = 0;
    loop {
        text.push_str(&format!(
            "(func $f{i} (param $a i64) (param $b i64) (result i64) \
             (local $t i64) \
             (local.set $t (i64.add (i64.mul (local.get $a) (i64.const {i})) (local.get $b))) \
             (if (i64.gt_u (local.get $t) (i64.const 1000)) (then (local.set $t (i64.rem_u (local.get $t) (i64.const 997))))) \
             (i64.store (i32.const 8) (local.get $t)) \
             (i64.xor (i64.load (i32.const 8)) (i64.rotl (local.get $t) (i64.const 7))))\n"
        ));
        i += 1;
        if i % 64 == 0 {
            let wasm = wat::parse_str(format!("{text} (func (export \"call\")))")).expect("wat");
            if wasm.len() >= 50 * 1024 {
                return wasm;
            }
        }
    }
}

fn compile(c: &mut Criterion) {
    let wasm = fifty_kib_module();
    let engine = consensus_engine().expect("engine");
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(wasm.len() as u64));
    group.bench_function(format!("cranelift_{}_bytes", wasm.len()), |b| {
        b.iter(|| black_box(wasmtime::Module::new(&engine, &wasm).expect("compile")))
    });
    group.finish();
}

/// Kernels that stress one kind of Wasm work each, for calibrating operator costs against the
/// premise that a unit of fuel buys about a nanosecond: every kernel loops `$n` times with a
/// dependency chain through the loop, so it measures latency (what an adversary maximises),
/// not throughput.
const CALIBRATION_MODULE: &str = concat!(
    r#"(module
  (memory (export "memory") 64)
  (type $unary (func (param i64) (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) $increment)
  (func $increment (type $unary) (i64.add (local.get 0) (i64.const 1)))"#,
    xorshift_function!(),
    r#"
  ;; Each load's address depends on the previous load: a pointer chase across 4 MiB.
  (func (export "dependent_random_loads") (param $n i64) (result i64)
    (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $l
      (local.set $x (i64.add
        (i64.mul (local.get $x) (i64.const 6364136223846793005))
        (i64.load (i32.and (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 32)))
                           (i32.const 0x3ffff8)))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))
  (func (export "random_stores") (param $n i64) (result i64)
    (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $l
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                             (i64.const 1442695040888963407)))
      (i64.store (i32.and (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 32)))
                          (i32.const 0x3ffff8))
                 (local.get $x))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))
  (func (export "divisions") (param $n i64) (result i64)
    (local $x i64)
    (local.set $x (i64.const -1))
    (loop $l
      (local.set $x (i64.div_u (i64.or (local.get $x) (i64.const 0x7000000000000000))
                               (i64.or (i64.and (local.get $n) (i64.const 0xff)) (i64.const 3))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))
  (func (export "direct_calls") (param $n i64) (result i64)
    (local $x i64)
    (loop $l
      (local.set $x (call $increment (local.get $x)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))
  (func (export "indirect_calls") (param $n i64) (result i64)
    (local $x i64)
    (loop $l
      (local.set $x (call_indirect (type $unary) (local.get $x) (i32.const 0)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $x))
  ;; 64 KiB copied per iteration within the 4 MiB memory.
  (func (export "memory_copies") (param $n i64) (result i64)
    (loop $l
      (memory.copy
        (i32.and (i32.mul (i32.wrap_i64 (local.get $n)) (i32.const 65536)) (i32.const 0x1f0000))
        (i32.const 0x200000)
        (i32.const 65536))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (i64.const 0))
  (func (export "memory_fills") (param $n i64) (result i64)
    (loop $l
      (memory.fill
        (i32.and (i32.mul (i32.wrap_i64 (local.get $n)) (i32.const 65536)) (i32.const 0x3f0000))
        (i32.wrap_i64 (local.get $n))
        (i32.const 65536))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (i64.const 0))
  ;; The cheapest loop there is: a counter and a conditional branch back.
  (func (export "counting_loop") (param $n i64) (result i64)
    (loop $l
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $n))
  ;; A loop of nothing but a branch back, until the fuel runs out (`SPIN_KERNEL`).
  (func (export "spin") (param $n i64) (result i64)
    (loop $l (br $l))
    (local.get $n))
  ;; One store to each 4 KiB page of the 4 MiB memory, $n times over: the first pass faults
  ;; every page in, the pool resets them after the call.
  (func (export "page_touches") (param $n i64) (result i64)
    (local $page i32)
    (loop $passes
      (local.set $page (i32.const 0))
      (loop $pages
        (i32.store8 (local.get $page) (i32.const 1))
        (local.set $page (i32.add (local.get $page) (i32.const 4096)))
        (br_if $pages (i32.lt_u (local.get $page) (i32.const 0x400000))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $passes (i64.ne (local.get $n) (i64.const 0))))
    (i64.const 0)))"#
);

/// The calibration kernels and their iteration counts (about a millisecond each).
const CALIBRATION_KERNELS: [(&str, i64); 12] = [
    ("xorshift", 1_000_000),
    ("counting_loop", 1_000_000),
    (SPIN_KERNEL, 1_000_000),
    ("dependent_random_loads", 200_000),
    ("random_stores", 200_000),
    ("divisions", 200_000),
    ("direct_calls", 200_000),
    ("indirect_calls", 200_000),
    ("memory_copies", 200),
    ("memory_fills", 200),
    ("page_touches", 1),
    ("page_touches", 100),
];

/// The kernel that spins until its fuel runs out.
const SPIN_KERNEL: &str = "spin";

/// Each calibration kernel under the consensus engine, with throughput in fuel units: criterion's
/// `elem/s` is fuel per second, so its inverse is the time a unit of fuel buys for that work.
fn fuel_calibration(c: &mut Criterion) {
    let wasm = wat::parse_str(CALIBRATION_MODULE).expect("wat");
    let engine = consensus_engine().expect("engine");
    let module = wasmtime::Module::new(&engine, &wasm).expect("compile");
    let pre = wasmtime::Linker::<()>::new(&engine)
        .instantiate_pre(&module)
        .expect("pre");
    let run = |kernel: &str, iterations: i64| -> u64 {
        let mut store = wasmtime::Store::new(&engine, ());
        // The spin kernel never returns: it is given `iterations` units and runs out of them.
        let fuel = if kernel == SPIN_KERNEL {
            iterations as u64 * WASM_SUBUNITS_PER_FUEL
        } else {
            FUEL
        };
        store.set_fuel(fuel).expect("fuel");
        let instance = pre.instantiate(&mut store).expect("instantiate");
        let function = instance
            .get_typed_func::<i64, i64>(&mut store, kernel)
            .expect("kernel");
        let result = function.call(&mut store, iterations);
        if kernel == SPIN_KERNEL {
            assert!(result.is_err(), "the spin kernel ran out of fuel");
        } else {
            black_box(result.expect("call"));
        }
        fuel - store.get_fuel().expect("fuel")
    };
    let mut group = c.benchmark_group("fuel_calibration");
    group.sample_size(20);
    for (kernel, iterations) in CALIBRATION_KERNELS {
        let fuel = run(kernel, iterations).div_ceil(WASM_SUBUNITS_PER_FUEL);
        println!("{kernel}: {iterations} iterations use {fuel} fuel");
        group.throughput(Throughput::Elements(fuel));
        group.bench_function(format!("{kernel}_{iterations}"), |b| {
            b.iter(|| run(kernel, iterations))
        });
    }
    group.finish();
}

criterion_group!(benches, contract_call, engines, compile, fuel_calibration);
// Contract execution runs on a thread with the native stack the execution limits allow for
// (registered, so that the VM runs each call inline instead of on a thread of its own, which
// would add a thread spawn to every measurement).
fn main() {
    salus_runtime::native_stack::run_with_execution_stack(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    })
    .expect("a thread with the execution stack starts");
}
