//! cargo-fuzz target: SCALE decoding of a block and its transactions root. The checks are `salus_fuzz::block`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::block(data));
