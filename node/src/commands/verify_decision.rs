//! `salus verify-decision`: checks a decision the payer's agent posted for a sealed request
//! against the plaintext submission, the payer's records and the salts, rerunning the rules of
//! the rule set version it names; with `--claim`, a claim check against the plaintext claim,
//! the inputs the agent kept and the salts (`crate::agent::verify`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use salus_primitives::{Address, Hash};

use super::keys::signer;
use crate::agent::{
    ClaimInputsFile, PayerRecords, Salts, SealedClaim, SealedSubmission, Verification,
    verify_claim_check, verify_decision,
};

/// What `salus verify-decision` checks.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The request's trace handle, or with `claim` the claim's handle.
    pub trace: Hash,
    /// Verify a claim check: `submission` is the plaintext claim, `records` the inputs file
    /// the agent wrote beside the salts (`<claim hex>.inputs.json`).
    pub claim: bool,
    /// The plaintext submission (JSON).
    pub submission: PathBuf,
    /// The payer's records (JSON).
    pub records: PathBuf,
    /// The salts (JSON: submission, inputs, outcome).
    pub salts: PathBuf,
    /// Who reads the request: the requester, the member, the payer or a reviewer.
    pub key: String,
    /// The coverage contract.
    pub coverage: Address,
    /// The registry.
    pub registry: Address,
}

/// `salus verify-decision`: the verdict (printed by the caller; a difference is a failure).
///
/// # Errors
/// When a file cannot be read, the key cannot be read or the node does not answer.
pub async fn verify(rpc: &str, options: &VerifyOptions) -> anyhow::Result<Verification> {
    let key = signer(&options.key)?;
    let text = std::fs::read_to_string(&options.submission)
        .with_context(|| format!("reading {}", options.submission.display()))?;
    if options.claim {
        let claim: SealedClaim = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a claim", options.submission.display()))?;
        let inputs = ClaimInputsFile::read(&options.records)?;
        let salts = Salts::read(&options.salts)?;
        let (chain, _) = super::agent::coverage_chain(
            rpc,
            options.coverage,
            options.registry,
            Duration::from_secs(60),
        )
        .await?;
        return Ok(verify_claim_check(&chain, &key, options.trace, &claim, &inputs, &salts).await?);
    }
    let submission: SealedSubmission = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a submission", options.submission.display()))?;
    let records = PayerRecords::read(&options.records)?;
    let salts = Salts::read(&options.salts)?;
    let (chain, _) = super::agent::coverage_chain(
        rpc,
        options.coverage,
        options.registry,
        Duration::from_secs(60),
    )
    .await?;
    Ok(verify_decision(&chain, &key, options.trace, &submission, &records, &salts).await?)
}
