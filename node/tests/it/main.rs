//! Integration tests of the node crate: chain import, reorganisation, persistence, crash safety
//! and verify-chain, all on real RocksDB in temporary directories.

mod chain_rules;
mod cli;
mod contracts;
mod crash;
mod dev_command;
mod healthcare;
mod hostile_peer;
mod mempool;
mod network;
mod operations;
mod reorg;
mod rpc;
mod support;
mod testkit_parity;
mod verify_chain;
