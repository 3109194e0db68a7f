//! cargo-fuzz target: deploy-time module validation, compilation and execution (wasm-smith modules). The checks are `salus_fuzz::wasm_module`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::wasm_module(data));
