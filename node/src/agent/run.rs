//! One pass of the payer's agent over the sealed requests addressed to it: each request still
//! without a decision is opened from the inbox, checked against its skeleton and commitment,
//! decided by the rules and posted. A request whose submission has not arrived waits for the
//! next pass; one whose submission does not match is refused (nothing is posted: a clinician
//! or the provider must act) and reported.

use std::path::PathBuf;
use std::time::Duration;

use coverage::{Priority, RequestStatus, RuleSet, SealedRequest};
use parity_scale_codec::Decode;
use salus_client::seal::CommitmentSalt;
use salus_primitives::{Address, Hash, SecretKey};

use super::AgentError;
use super::chain::CoverageChain;
use super::decision::evaluate;
use super::records::PayerRecords;
use super::submission::{Salts, SealedSubmission, inbox_file, open_delivery, salts_file};
use crate::gateway::{LedgerError, reply_secret};

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
    /// Its submission is not in the inbox yet.
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

impl std::fmt::Display for Handled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handled::Decided {
                handle,
                status,
                transaction,
            } => write!(f, "decided {handle} {status:?} in {transaction}"),
            Handled::Waiting { handle } => write!(f, "waiting {handle}: not delivered"),
            Handled::Refused { handle, error } => write!(f, "refused {handle}: {error}"),
        }
    }
}

/// The agent's state between passes: where it is in the events, and the requests waiting for
/// their submission.
pub struct Agent {
    chain: CoverageChain,
    options: AgentOptions,
    cursor: Option<String>,
    waiting: Vec<Hash>,
}

impl Agent {
    /// An agent on `chain`, from the first event.
    pub fn new(chain: CoverageChain, options: AgentOptions) -> Agent {
        Agent {
            chain,
            options,
            cursor: None,
            waiting: Vec::new(),
        }
    }

    /// One pass: the requests submitted since the last pass, and those still waiting.
    ///
    /// # Errors
    /// [`AgentError::Ledger`] when the node cannot be asked for the events.
    pub async fn pass(&mut self) -> Result<Vec<Handled>, AgentError> {
        let payer = self.options.key.address();
        let mut handles = std::mem::take(&mut self.waiting);
        loop {
            let (page, next) = self
                .chain
                .sealed_submitted(payer, self.cursor.clone())
                .await?;
            handles.extend(page);
            match next {
                Some(next) if Some(&next) != self.cursor.as_ref() => self.cursor = Some(next),
                _ => break,
            }
        }
        let mut handled = Vec::new();
        for handle in handles {
            match decide_one(&self.chain, &self.options, handle).await {
                Ok(None) => {}
                Ok(Some(outcome)) => {
                    if let Handled::Waiting { handle } = &outcome {
                        self.waiting.push(*handle);
                    }
                    handled.push(outcome);
                }
                Err(error) => handled.push(Handled::Refused { handle, error }),
            }
        }
        Ok(handled)
    }
}

/// Processes every sealed request addressed to the payer that has no decision yet, once.
///
/// # Errors
/// As [`Agent::pass`].
pub async fn process_pending(
    chain: &CoverageChain,
    options: AgentOptions,
) -> Result<Vec<Handled>, AgentError> {
    Agent::new(chain.clone(), options).pass().await
}

/// How often a running agent polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

fn priority_name(priority: &Priority) -> &'static str {
    match priority {
        Priority::Standard => "Standard",
        Priority::Expedited => "Expedited",
    }
}

/// Checks an opened submission against the request on chain.
///
/// # Errors
/// [`AgentError::WrongRequest`] or [`AgentError::CommitmentMismatch`].
pub fn check_submission(
    request: &SealedRequest,
    submission: &SealedSubmission,
    salt: &CommitmentSalt,
) -> Result<(), AgentError> {
    if submission.trace_handle != request.trace_handle {
        return Err(AgentError::WrongRequest("another trace handle"));
    }
    if submission.payer != request.payer {
        return Err(AgentError::WrongRequest("another payer"));
    }
    if submission.member != request.member {
        return Err(AgentError::WrongRequest("another member"));
    }
    if submission.lines.len() != request.line_count as usize {
        return Err(AgentError::WrongRequest("another number of lines"));
    }
    if submission.priority != priority_name(&request.priority) {
        return Err(AgentError::WrongRequest("another priority"));
    }
    if submission.commitment(salt) != request.submission_commitment {
        return Err(AgentError::CommitmentMismatch);
    }
    Ok(())
}

/// The newest rule set of `payer` in effect on `date_ms` (as the contract's `submit` picks it).
///
/// # Errors
/// [`AgentError::NoRules`] when none is; [`AgentError::Ledger`] when the node cannot be asked.
pub async fn rules_for(
    chain: &CoverageChain,
    payer: Address,
    date_ms: u64,
) -> Result<RuleSet, AgentError> {
    let Some(newest) = chain.rules(payer, None).await? else {
        return Err(AgentError::NoRules(format!("published by {payer}")));
    };
    let mut version = newest.version;
    while version > 0 {
        if let Some(rule_set) = chain.rules(payer, Some(version)).await?
            && rule_set.effective.start_ms <= date_ms
            && date_ms < rule_set.effective.end_ms
        {
            return Ok(rule_set);
        }
        version -= 1;
    }
    Err(AgentError::NoRules(format!("in effect on {date_ms}")))
}

/// Decides `handle` if it is the agent's to decide (pended, no decision posted yet); `None`
/// when there is nothing to do.
async fn decide_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(request) = chain.sealed_request(&options.key, handle).await? else {
        return Ok(None);
    };
    if request.status != RequestStatus::Pended || !request.decisions.is_empty() {
        return Ok(None);
    }
    let path = inbox_file(&options.inbox, &handle);
    let sealed = match std::fs::read(&path) {
        Ok(sealed) => sealed,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(Handled::Waiting { handle }));
        }
        Err(error) => return Err(AgentError::File(format!("{}: {error}", path.display()))),
    };
    let secret = reply_secret(&options.key, &options.genesis);
    let (submission, submission_salt) = open_delivery(&secret, &sealed, &handle)?;
    check_submission(&request, &submission, &submission_salt)?;
    let records = PayerRecords::read(&options.records)?;
    let member = records.member(&request.member)?;
    let date_ms = submission.lines[0].from_ms;
    let rule_set = rules_for(chain, request.payer, date_ms).await?;
    let evaluated = evaluate(
        &rule_set,
        &submission,
        request.submission_commitment,
        member,
        records.in_network(&submission.servicing_npi),
    )?;
    let random = || CommitmentSalt::random().map_err(|error| AgentError::File(error.to_string()));
    let salts = Salts {
        submission: submission_salt,
        inputs: random()?,
        outcome: random()?,
    };
    salts.write(&salts_file(&options.inbox, &handle))?;
    let commitments = (
        evaluated.inputs_commitment(&salts.inputs),
        evaluated.outcome_commitment(&salts.outcome),
    );
    let receipt = chain
        .post_decision(
            &options.key,
            handle,
            evaluated.lines,
            rule_set.version,
            commitments,
        )
        .await?;
    let data = hex::decode(receipt.return_data.trim_start_matches("0x"))
        .map_err(|error| LedgerError::Undecodable(error.to_string()))?;
    let status = RequestStatus::decode(&mut &data[..])
        .map_err(|error| LedgerError::Undecodable(error.to_string()))?;
    Ok(Some(Handled::Decided {
        handle,
        status,
        transaction: receipt.transaction_hash,
    }))
}
