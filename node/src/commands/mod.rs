//! What the `salus` command's subcommands do; `main.rs` holds the command line's shape (flags,
//! help, subcommands) and hands each parsed command to one of these.
//!
//! - `dev`, `node` — run a node (`node_process`: what both need of the process);
//! - `client` — the RPC client commands (`tx`, `call`, `query`, `events`, `abi`), signing with
//!   the keys of `keys` (`salus key`);
//! - `import_blocks`, `verify_chain`, `inspect` — work on a data directory without a running
//!   node (`inspect dump` writes every byte an operator can read);
//! - `pseudonyms` — the wallet's side of privacy: pseudonyms, their listing, sealed payloads;
//! - `epcis` — GS1 EPCIS 2.0 documents in and out of the supply contract (`salus_client::epcis`);
//! - `fhir` — HL7 FHIR R4 Consents in and out of the consent contract, and a patient's
//!   accounting as AuditEvents (`salus_client::fhir`);
//! - `fhir_payer` — the payer's FHIR exports (CoverageEligibilityResponse, claim checks);
//! - `gateway`, `record` — the record gateway (PRIVACY.md §5.6): a custodian's server, and
//!   `record put` / `get` / `reply-key`, its two sides;
//! - `rx` — prescriptions (PRIVACY.md §5.5 "Supply"): posted as a handle, their copies sealed
//!   to the patient and the pharmacy, dispensed against the pharmacy's copy;
//! - `agent`, `verify_decision` — the payer's agent (PRIVACY.md §5.5: sealed preauthorizations
//!   decided by the payer with the published rules) and the check of a posted decision;
//! - `bench` — the load generator.

pub mod agent;
pub mod bench;
pub mod client;
pub mod dev;
pub mod epcis;
pub mod fhir;
pub mod fhir_payer;
pub mod gateway;
pub mod import_blocks;
pub mod inspect;
pub mod keys;
pub mod node;
pub mod node_process;
pub mod pseudonyms;
pub mod record;
pub mod rx;
pub mod scenario;
pub mod verify_chain;
pub mod verify_decision;
