//! The payer's agent (docs/PRIVACY.md §5.5): decisions made where the data is, accountably on
//! chain. A provider posts a sealed request's skeleton (`submit_sealed`) and delivers the
//! submission sealed to the payer's registered key off chain; the agent sees the request in the
//! coverage contract's `SealedSubmitted` events (its own address is a topic), opens the
//! submission, checks it against the skeleton's `submission_commitment`, runs the published
//! rule set on every line with `coverage-rules` — the same Rust the contract runs — against the
//! payer's own records, and posts `post_decision` with a commitment to the inputs and one to
//! the outcome. `salus verify-decision` reruns the same steps from the plaintext and salts.
//!
//! Modules, from the bottom: `submission` (what the provider seals, the delivery and the
//! commitments), `records` (the payer's coverage facts and benefits, a JSON file), `decision`
//! (the rules' decision on each line and what the commitments cover), `chain` (the coverage
//! contract over JSON-RPC), `run` (one pass over the pending requests) and `verify`.
//!
//! Delivery, for this slice: the provider writes the sealed submission into the agent's inbox
//! directory, named `<handle>.sealed` (the handle's lowercase hex, no `0x`); a delivery through
//! the payer's gateway is a later step. The agent writes the salts of each decision beside it
//! (`<handle>.salts.json`), for whoever the payer lets verify the decision.

pub mod chain;
pub mod decision;
pub mod records;
pub mod run;
pub mod submission;
pub mod verify;

pub use chain::CoverageChain;
pub use decision::{DecisionInputs, DecisionOutcome, Evaluated, LineOutcome, evaluate};
pub use records::{MemberRecord, PayerRecords};
pub use run::{Agent, AgentOptions, Handled, POLL_INTERVAL, process_pending};
pub use submission::{
    DECISION_INPUTS, DECISION_OUTCOME, SUBMISSION, Salts, SealedSubmission, SubmissionLine,
};
pub use verify::{Verification, verify_decision};

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
