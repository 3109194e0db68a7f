//! cargo-fuzz target: SCALE decoding of a signed transaction. The checks are `salus_fuzz::transaction`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::transaction(data));
