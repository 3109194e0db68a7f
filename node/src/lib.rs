//! The Salus node: RocksDB storage, chain import with fork choice and reorganisation,
//! proof-of-work mining, and the pieces the `salus` binary assembles.

pub mod agent;
pub mod chain;
pub mod commands;
pub mod config;
pub mod gateway;
pub mod genesis;
pub mod historical;
pub mod inspect;
pub mod keystore;
pub mod mempool;
pub mod mining;
pub mod network;
pub mod rpc_cookie;
pub mod service;
pub mod signature_cache;
pub mod state_tree;
pub mod storage;
pub mod verify;

pub use chain::{Chain, ImportError, ImportOutcome, Tip};
pub use genesis::{Genesis, GenesisConfig};
pub use storage::{StorageError, Store};

/// Milliseconds since the Unix epoch by the local clock: used only for the "not too far in the
/// future" rule and for stamping mined blocks, never inside consensus execution.
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}
