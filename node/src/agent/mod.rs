//! The payer's agent (docs/PRIVACY.md §5.5): decisions made where the data is, accountably on
//! chain. A provider posts a sealed request's skeleton (`submit_sealed`) and delivers the
//! submission sealed to the payer's registered key off chain; the agent sees the request in the
//! coverage contract's `SealedSubmitted` events (its own address is a topic), opens the
//! submission, checks it against the skeleton's `submission_commitment` and its servicing NPI
//! against the registry, runs the published rule set on every line with `coverage-rules` — the
//! rule code the contract once ran itself — against the payer's own records, and posts
//! `post_decision` with a commitment to the inputs and one to the outcome; documentation
//! delivered later (`add_documentation`) is read and the pended lines decided again. Claims
//! likewise: `ClaimSubmitted`, the sealed claim checked line by line, `post_claim_check` with
//! the CARCs. The records file follows: certified units (returned on a cancellation or
//! revision), claimed units (returned when a claim is withdrawn). `salus verify-decision`
//! reruns the same steps from the plaintext and salts.
//!
//! Modules, from the bottom: `submission` (what the provider seals, the deliveries and the
//! commitment kinds), `records` (the payer's coverage facts, benefits, certified and claimed
//! units, a JSON file), `decision` (the rules' decision on each line and what the commitments
//! cover), `chain` (the coverage contract over JSON-RPC), `claims` (a claim's check), `run`
//! (one pass over what is pending), `metrics` (per-code aggregates of a finished period,
//! `post_metrics`) and `verify`.
//!
//! Delivery, for this slice: the provider writes into the agent's inbox directory, named by the
//! handle's lowercase hex (no `0x`): `<handle>.sealed` (a submission or a claim),
//! `<handle>.documentation-<n>.sealed`; a delivery through the payer's gateway is a later step.
//! The agent writes beside it the salts of each decision (`<handle>.salts.json`) and what it
//! read (`<handle>.records.json`, a claim's `<handle>.inputs.json`), for whoever the payer lets
//! verify the decision.

pub mod chain;
pub mod claims;
pub mod decision;
pub mod metrics;
pub mod pass;
pub mod records;
pub mod run;
pub mod submission;
pub mod verify;

pub use chain::CoverageChain;
pub use claims::{CheckedClaim, ClaimInputs, ClaimInputsFile, ClaimOutcome, check_claim};
pub use decision::{DecisionInputs, DecisionOutcome, Evaluated, LineOutcome, evaluate};
pub use pass::{AgentOptions, Handled};
pub use records::{MemberRecord, PayerRecords};
pub use run::{Agent, POLL_INTERVAL, process_pending};
pub use submission::{
    CLAIM, CLAIM_CHECK, ClaimLineRecord, DECISION_INPUTS, DECISION_OUTCOME, DOCUMENTATION,
    SUBMISSION, Salts, SealedClaim, SealedDocumentation, SealedSubmission, SubmissionLine,
    open_claim, seal_claim, seal_documentation,
};
pub use verify::{Verification, verify_claim_check, verify_decision};

/// Why the agent could not decide a request, or a verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No sealed submission for the request in the inbox (not delivered yet).
    #[error("no sealed submission in the inbox for {0}")]
    NotDelivered(String),
    /// The sealed submission does not open with the payer's key.
    #[error("the sealed submission does not open: {0}")]
    Unopenable(#[from] salus_client::seal::SealError),
    /// The delivery is not a SCALE submission and salt.
    #[error("the delivery is not a submission: {0}")]
    Undecodable(String),
    /// The submission does not match the commitment on chain (changed after submitting).
    #[error("the submission does not match its commitment on chain")]
    CommitmentMismatch,
    /// The submission names another request, payer or member, or another number of lines,
    /// than the skeleton on chain.
    #[error("the submission does not match the request on chain: {0}")]
    WrongRequest(&'static str),
    /// The payer's records hold nothing for the member.
    #[error("the payer's records hold no member {0}")]
    UnknownMember(String),
    /// No published rule set (in effect on the date of service, or of the version named).
    #[error("no rule set {0}")]
    NoRules(String),
    /// The rule set has no reason for an edit that decided a line.
    #[error("the rule set has no reason for the {0:?} edit")]
    MissingReason(coverage_rules::Edit),
    /// The chain could not be asked, or refused the decision.
    #[error(transparent)]
    Ledger(#[from] crate::gateway::LedgerError),
    /// A file could not be read or written, or is malformed.
    #[error("{0}")]
    File(String),
}
