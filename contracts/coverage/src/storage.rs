//! Where the coverage contract keeps its state: every storage handle, with its key layout.
//! Prefixes are unique across the contract; changing one moves the data it names. No key or
//! value holds a procedure, diagnosis, date of service, benefit or demographic: those stay
//! with the payer (docs/PRIVACY.md §3.3, §5.5).

use salus_sdk::prelude::*;

use crate::types::*;

/// The participant registry.
pub(crate) const REGISTRY: Value<Address> = Value::new(b"registry");
/// The consent contract (given at deployment; no message calls it since attachments are
/// fetched through the custodian's record gateway, docs/PRIVACY.md §5.4).
pub(crate) const CONSENT: Value<Address> = Value::new(b"consent");
/// The next line sequence number (the turnaround index orders by it).
pub(crate) const NEXT_LINE: Value<u64> = Value::new(b"next_line");
/// (payer, member hash) → coverage.
pub(crate) const COVERAGES: Map<(Address, Hash), Coverage> = Map::new(b"cv/");
/// (payer, version) → rule set.
pub(crate) const RULE_SETS: Map<(Address, u32), RuleSet> = Map::new(b"rs/");
/// payer → newest rule-set version.
pub(crate) const LATEST_RULES: Map<Address, u32> = Map::new(b"rl/");
/// (payer, reviewer) → (): the payer's utilisation-management keys.
pub(crate) const REVIEWERS: Map<(Address, Address), ()> = Map::new(b"rv/");
/// trace handle → request skeleton (no lines, no diagnoses).
pub(crate) const SEALED: Map<Hash, SealedRequest> = Map::new(b"sq/");
/// (payer, due big-endian, trace handle) → (): undecided requests by due time.
pub(crate) const OPEN: Map<(Address, [u8; 8], Hash), ()> = Map::new(b"oq/");
/// claim handle → the claim and the payer's check.
pub(crate) const CLAIMS: Map<Hash, Claim> = Map::new(b"ch/");
/// (payer, priority) → plan-wide counters.
pub(crate) const METRICS: Map<(Address, Priority), Metrics> = Map::new(b"mp/");
/// (payer, priority, turnaround ms big-endian, line sequence) → (): every decision's
/// turnaround in order, from which the median is read.
pub(crate) const TURNAROUNDS: Map<(Address, Priority, [u8; 8], u64), ()> = Map::new(b"tp/");
/// (payer, period start big-endian) → per-code aggregates the payer posted for the period.
pub(crate) const PERIOD_METRICS: Map<(Address, [u8; 8]), MetricsPost> = Map::new(b"pm/");
