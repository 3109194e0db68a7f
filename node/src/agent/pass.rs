//! What a pass of the payer's agent runs with ([`AgentOptions`]) and what it did with each
//! sealed request or claim ([`Handled`]): shared by the request and claim passes.

use std::path::PathBuf;

use coverage::RequestStatus;
use salus_primitives::{Hash, SecretKey};

use super::AgentError;

/// What the agent runs with.
pub struct AgentOptions {
    /// The payer's key: signs the decisions; its reply key (HKDF of it and the genesis hash,
    /// registered with the registry's `set_encryption_key`) opens the submissions.
    pub key: SecretKey,
    /// The chain's genesis hash.
    pub genesis: Hash,
    /// Where providers deliver sealed submissions (`<handle hex>.sealed`).
    pub inbox: PathBuf,
    /// The payer's records (JSON, see `records`).
    pub records: PathBuf,
}

/// What became of one sealed request in a pass.
#[derive(Debug)]
pub enum Handled {
    /// Decided and posted.
    Decided {
        /// The request.
        handle: Hash,
        /// Its status after the post (`Pended` while a line waits for a clinician).
        status: RequestStatus,
        /// The `post_decision` transaction.
        transaction: String,
    },
    /// A claim checked and its CARCs posted.
    Checked {
        /// The claim.
        handle: Hash,
        /// Lines accepted.
        accepted: usize,
        /// Lines refused (with CARCs).
        refused: usize,
        /// The `post_claim_check` transaction.
        transaction: String,
    },
    /// An extension of a request's authorised window granted (within the rules' window).
    Extended {
        /// The request.
        handle: Hash,
        /// The `decide_extension` transaction.
        transaction: String,
    },
    /// A cancelled or revised request's unclaimed certified units returned in the payer's
    /// records.
    Released {
        /// The request.
        handle: Hash,
    },
    /// Lines certified by someone else's post (a clinician reviewer's decision on a pended
    /// line, an overturned appeal) recorded in the payer's records, as the agent's own are.
    Certified {
        /// The request.
        handle: Hash,
        /// How many lines were recorded.
        lines: usize,
    },
    /// A voided or replaced claim's units returned in the payer's records.
    Restored {
        /// The claim.
        handle: Hash,
    },
    /// Its submission (or claim) is not in the inbox yet.
    Waiting {
        /// The request.
        handle: Hash,
    },
    /// Not decided: the submission does not open or does not match, or the rules could not
    /// run; nothing was posted.
    Refused {
        /// The request.
        handle: Hash,
        /// Why.
        error: AgentError,
    },
}
