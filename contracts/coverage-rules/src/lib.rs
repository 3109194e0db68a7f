//! The coverage contract's rules as a pure library: a preauthorization line decided from a
//! payer's published rule set, the member's coverage and benefit, and the submission; a claim
//! line checked against them and the authorisation.
//!
//! Nothing here reads storage or calls the host: plain data in, a decision out, `alloc` only
//! (`salus-sdk` is a dependency for `#[data]` alone: the rule set's types are the coverage
//! contract's ABI types, which it re-exports). The contract stores no clinical content and
//! decides nothing with it: the payer's agent and a verifier of a posted decision run this code
//! on the data they hold ([`KnownRecords`], or any [`Records`]) and post or check action codes,
//! reason codes and CARCs with commitments (docs/PRIVACY.md §5.5).
//!
//! ```
//! use coverage_rules::*;
//! # use salus_sdk::Hash;
//! let reason = |code: &str| Reason { code: code.into(), text: code.into() };
//! let rule_set = RuleSet {
//!     version: 1,
//!     policy: Hash([0; 32]),
//!     effective: Period { start_ms: 0, end_ms: u64::MAX },
//!     rules: vec![Rule {
//!         id: 7,
//!         service_type: "73".into(),
//!         procedures: vec![CodeRange { from: "72148".into(), to: "72158".into() }],
//!         diagnoses: vec![],
//!         min_age: None,
//!         max_age: None,
//!         sexes: vec![],
//!         places_of_service: vec![],
//!         network_required: false,
//!         quantity_per_period: None,
//!         prior_authorisation: true,
//!         documentation: None,
//!         auto_approve: Some(AutoApprove { diagnoses: vec![], max_quantity: None, in_network_only: false }),
//!         authorised_days: 60,
//!     }],
//!     reasons: EVERY_EDIT.iter().map(|edit| EditReason { edit: edit.clone(), reason: reason("X") }).collect(),
//!     published_ms: 0,
//! };
//! let period = Period { start_ms: 0, end_ms: u64::MAX };
//! let member = Member { active: true, period: &period, birth_year: 1970, sex: "F", network_plan: false };
//! let service = ServiceLine {
//!     procedure: "72148".into(), modifiers: vec![], quantity: 1,
//!     from_ms: 1_000 * DAY_MS, to_ms: 1_000 * DAY_MS, place_of_service: "22".into(),
//! };
//! let line = Line { service: &service, diagnoses: &[], attachments: &[] };
//! let records = KnownRecords {
//!     benefits: vec![("73".into(), BenefitUse { authorisation_required: true, quantity_limit: None, quantity_used: 0 })],
//!     in_network: true,
//!     certified: vec![],
//! };
//! let outcome = evaluate(&rule_set, &member, &line, &records).unwrap();
//! assert_eq!(outcome.action, ActionCode::A1);
//! assert_eq!(outcome.rule_ids, [7]);
//! ```
//!
//! Modules, from the bottom: `types`, `matching` (rules, diagnoses, reasons, coverage and
//! age on a date), `limits` (units and windows), `decision` (a line's outcome), `claims` (a
//! claim line's CARCs).
#![no_std]

extern crate alloc;

mod claims;
mod decision;
mod limits;
mod matching;
mod types;

pub use claims::{Authorised, ClaimDraw, ClaimLineCheck, ClaimedLine, check_claim_line};
pub use decision::evaluate;
pub use limits::{allowed_quantity, authorised_window, certification_number, units_within};
pub use matching::{
    age_on, covered_on, diagnosis_supports, matches_prefix, matching_rule, reason_for, year_of,
};
pub use types::*;

#[cfg(test)]
mod tests;
