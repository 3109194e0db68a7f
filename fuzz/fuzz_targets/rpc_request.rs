//! cargo-fuzz target: raw JSON-RPC requests to a dev node's RPC server. The checks are `salus_fuzz::rpc_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| salus_fuzz::rpc_request(data));
