//! Integration tests of the node crate: chain import, reorganisation, persistence, crash safety
//! and verify-chain, all on real RocksDB in temporary directories.

mod chain_rules;
mod chaos;
mod cli;
mod contracts;
mod crash;
mod dev_command;
mod dscsa;
mod epcis;
mod execution_safety;
mod fhir;
mod fhir_payer;
mod fhir_preauth;
mod gateway;
mod healthcare;
mod hostile_peer;
mod import_path;
mod inspect;
mod keys;
mod mempool;
mod network;
mod operations;
mod payer_agent;
mod peer_defences;
mod prescriptions;
mod pseudonyms;
mod reidentification;
mod reorg;
mod rpc;
mod rpc_bounds;
mod rpc_doors;
mod rpc_signed_calls;
mod support;
mod testkit_parity;
mod verify_chain;
mod walkthrough;
