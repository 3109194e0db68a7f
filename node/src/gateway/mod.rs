//! The record gateway (docs/PRIVACY.md §5.6): a custodian serves its FHIR R4 JSON resources,
//! kept in a local store, to requesters the consent contract permits at the head of the chain,
//! records each release on chain (`record_disclosure`, naming the signed request) and returns
//! the resource sealed to the requester's key.
//!
//! Modules, each using only those before it: `request` (the signed request, its hash, the
//! reply key a wallet derives), `nonces` (replay protection), `store` (the custodian's
//! resources by handle), `ledger` (what is asked of the chain, as a trait, and its JSON-RPC
//! implementation), `handler` (one request: checks, dry run, disclosure, sealing) and `server`
//! (HTTP). `salus gateway` and `salus record put / get` (`commands::gateway`,
//! `commands::record`) are built on them.
//!
//! **Invariant:** nothing leaves the gateway unless the contract permitted it in the receipt
//! of the block that recorded the release; a dry-run permit alone releases nothing.

pub mod handler;
pub mod ledger;
pub mod nonces;
pub mod request;
pub mod server;
pub mod store;

pub use handler::{Gateway, GatewayError, MAX_CLOCK_SKEW_MS, Release};
pub use ledger::{
    AccessDecision, Decision, Disclosure, Ledger, LedgerError, PeriodAnswer, RpcLedger,
};
pub use request::{GatewayRequest, ReplyKey, SignedGatewayRequest, reply_public_key, reply_secret};
pub use store::{PeriodOpening, RecordMeta, RecordStore, StoreError};
