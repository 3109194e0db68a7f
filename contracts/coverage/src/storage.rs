//! Where the coverage contract keeps its state: every storage handle, with its key layout.
//! Prefixes are unique across the contract; changing one moves the data it names.

use salus_sdk::prelude::*;

use crate::types::*;

/// The participant registry.
pub(crate) const REGISTRY: Value<Address> = Value::new(b"registry");
/// The consent contract.
pub(crate) const CONSENT: Value<Address> = Value::new(b"consent");
/// The next line sequence number (the turnaround index orders by it).
pub(crate) const NEXT_LINE: Value<u64> = Value::new(b"next_line");
/// (payer, member hash) → coverage.
pub(crate) const COVERAGES: Map<(Address, Hash), Coverage> = Map::new(b"cv/");
/// (payer, member hash, X12 service type) → benefit.
pub(crate) const BENEFITS: Map<(Address, Hash, String), Benefit> = Map::new(b"bn/");
/// (payer, member hash, X12 service type) → the out-of-network benefit (EB12 `N`), answered
/// beside the in-network one; claims draw on `BENEFITS`.
pub(crate) const OUT_OF_NETWORK_BENEFITS: Map<(Address, Hash, String), Benefit> = Map::new(b"bo/");
/// (payer, member hash) → coverage level and currency.
pub(crate) const TERMS: Map<(Address, Hash), CoverageTerms> = Map::new(b"ct/");
/// (payer, plan, NPI) → (): the plan's network.
pub(crate) const NETWORK: Map<(Address, String, String), ()> = Map::new(b"nw/");
/// (payer, version) → rule set.
pub(crate) const RULE_SETS: Map<(Address, u32), RuleSet> = Map::new(b"rs/");
/// payer → newest rule-set version.
pub(crate) const LATEST_RULES: Map<Address, u32> = Map::new(b"rl/");
/// (payer, reviewer) → (): the payer's utilisation-management keys.
pub(crate) const REVIEWERS: Map<(Address, Address), ()> = Map::new(b"rv/");
/// trace number → preauthorization request.
pub(crate) const REQUESTS: Map<String, Request> = Map::new(b"rq/");
/// (payer, due big-endian, trace) → (): undecided requests by due time.
pub(crate) const OPEN: Map<(Address, [u8; 8], String), ()> = Map::new(b"op/");
/// (trace, line) → quantity already claimed against the authorisation.
pub(crate) const CLAIMED: Map<(String, u16), u32> = Map::new(b"cl/");
/// (payer, member, rule id, service start big-endian, trace, line) → units certified: the
/// rolling-window quantity limits read it.
pub(crate) const CERTIFIED: Map<WindowKey, u32> = Map::new(b"cu/");
/// Key of `CERTIFIED`.
pub(crate) type WindowKey = (Address, Hash, u32, [u8; 8], String, u16);
/// claim hash → the check's result.
pub(crate) const CLAIMS: Map<Hash, ClaimCheck> = Map::new(b"cc/");
/// (payer, priority, service code; "" for plan-wide) → counters.
pub(crate) const METRICS: Map<(Address, Priority, String), Metrics> = Map::new(b"mt/");
/// (payer, priority, service code, turnaround ms big-endian, line sequence) → (): every
/// decision's turnaround in order, from which the median is read.
pub(crate) const TURNAROUNDS: Map<(Address, Priority, String, [u8; 8], u64), ()> = Map::new(b"ta/");
/// trace handle → sealed request skeleton (no lines, no diagnoses; docs/PRIVACY.md §5.5). Its
/// `OPEN` entries name it by the lowercase hex of the handle.
pub(crate) const SEALED: Map<Hash, SealedRequest> = Map::new(b"sq/");

/// The trace under which a sealed request is listed in `OPEN` (and answered by `due_within`,
/// accepted by `mark_overdue`): the lowercase hex of its handle, 64 characters.
pub(crate) fn handle_trace(handle: &Hash) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut trace = String::with_capacity(64);
    for byte in handle.0 {
        trace.push(DIGITS[usize::from(byte >> 4)] as char);
        trace.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    trace
}

/// The handle a trace names, if it is 64 lowercase hex characters.
pub(crate) fn parse_handle(trace: &str) -> Option<Hash> {
    let bytes = trace.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut handle = [0u8; 32];
    for (index, pair) in bytes.chunks(2).enumerate() {
        handle[index] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(Hash(handle))
}
