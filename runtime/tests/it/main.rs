//! Runtime integration tests: real wasmtime, real fuel, hostile contracts written in WAT, the
//! metering of operators and memory, the per-block bound on distinct codes, and a snapshot of
//! fuel and events that fails on any consensus-visible change.

mod artifacts;
mod code_loads;
mod execution_slots;
mod harness;
mod host_api;
mod hostile;
mod metering;
mod modules;
mod native_stack;
mod snapshot;
