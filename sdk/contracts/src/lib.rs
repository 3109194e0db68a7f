//! The contracts of `contracts/`, compiled to wasm32-unknown-unknown as part of the ordinary
//! `cargo build` / `cargo test` (see `build.rs`), with no manual step.

include!(concat!(env!("OUT_DIR"), "/contracts.rs"));
