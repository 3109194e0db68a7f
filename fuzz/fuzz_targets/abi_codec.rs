//! cargo-fuzz target: the client's ABI JSON ↔ SCALE codec and contract ABIs. The checks are `salus_fuzz::abi_codec`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::abi_codec(data));
