//! cargo-fuzz target: the `/salus/sync/1` codec reading peers' requests and responses. The checks are `salus_fuzz::peer_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::peer_message(data));
