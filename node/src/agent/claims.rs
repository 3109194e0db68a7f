//! Claims through the payer's agent (docs/PRIVACY.md §5.5): the billing provider posts the
//! claim's skeleton (`submit_claim`) and delivers the claim sealed to the payer's key; the agent
//! opens it, checks it against the skeleton's `claim_commitment`, checks each line with
//! `coverage_rules::check_claim_line` — coverage on the date, the diagnosis against the
//! procedure's rule, the authorisation's window and units or the benefit's limit — against the
//! payer's records, and posts the CARCs per line (`post_claim_check`) with a commitment to what
//! it read and one to what it gave; the accepted lines' units are drawn in the records file.

use coverage::{ActionCode, Claim, ClaimStatus, RuleSet, SealedRequest};
use coverage_rules::{
    Authorised, ClaimDraw, ClaimedLine, Period, authorised_window, check_claim_line, matching_rule,
};
use parity_scale_codec::Encode;
use salus_client::seal::{CommitmentSalt, commit_value};
use salus_primitives::Hash;
use serde::{Deserialize, Serialize};

use super::AgentError;
use super::chain::CoverageChain;
use super::chain::rules_for;
use super::pass::{AgentOptions, Handled};
use super::records::{BenefitDrawRecord, ClaimedRecord, MemberRecord, PayerRecords};
use super::submission::{
    CLAIM_CHECK, DECISION_INPUTS, Salts, SealedClaim, inbox_file, open_claim, open_delivery,
    salts_file,
};
use crate::gateway::reply_secret;

/// The certified line of the cited authorisation a claim line draws on.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct AuthorisedLine {
    /// The authorisation's line (from 0).
    pub line: u16,
    /// The authorised window (start, end ms).
    pub window: (u64, u64),
    /// Units certified.
    pub quantity: u32,
}

/// What a claim check read: committed to by its `inputs_commitment` (kind `DECISION_INPUTS`).
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct ClaimInputs {
    /// The claim, by its commitment on chain.
    pub claim_commitment: Hash,
    /// The member's record before the check.
    pub member: MemberRecord,
    /// Per claim line: the rule set version in effect on its date of service, if any.
    pub rule_sets: Vec<Option<u32>>,
    /// Per claim line: the authorisation's certified line for its procedure, if any.
    pub authorised: Vec<Option<AuthorisedLine>>,
}

/// What the agent writes beside a claim's salts (`<claim handle hex>.inputs.json`): the
/// member's record as the check read it (the records file changes as claims draw units) and
/// the authorisation's certified line per claim line, for `salus verify-decision --claim`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimInputsFile {
    /// The member's record before the check.
    pub member: MemberRecord,
    /// Per claim line, the authorisation's certified line for its procedure, if any.
    pub authorised: Vec<Option<AuthorisedLine>>,
}

impl ClaimInputsFile {
    /// Writes it as JSON.
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be written.
    pub fn write(&self, path: &std::path::Path) -> Result<(), AgentError> {
        let text = serde_json::to_string_pretty(self).expect("inputs serialise");
        std::fs::write(path, text)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))
    }

    /// Reads it.
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be read or is malformed.
    pub fn read(path: &std::path::Path) -> Result<ClaimInputsFile, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))
    }
}

/// Where the agent keeps what the check of `handle` read: `<inbox>/<hex>.inputs.json`.
pub fn inputs_file(inbox: &std::path::Path, handle: &Hash) -> std::path::PathBuf {
    inbox.join(format!("{}.inputs.json", hex::encode(handle.0)))
}

/// What one line drew.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub enum LineDraw {
    /// Nothing.
    None,
    /// Units from the authorisation's line.
    Authorisation(u16),
    /// Units from the benefit of this service type.
    Benefit(String),
}

/// What a claim check gave: committed to by its `outcome_commitment` (kind `CLAIM_CHECK`).
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct ClaimOutcome {
    /// Per line: the CARCs (none: accepted) and what it drew.
    pub lines: Vec<(Vec<String>, LineDraw)>,
}

/// A claim check ready to post, and the member's record after its draws.
#[derive(Clone, Debug)]
pub struct CheckedClaim {
    /// The CARCs per line, as posted.
    pub carcs: Vec<Vec<String>>,
    /// What it read.
    pub inputs: ClaimInputs,
    /// What it gave.
    pub outcome: ClaimOutcome,
    /// The member's record with the accepted lines' units drawn.
    pub member_after: MemberRecord,
}

impl CheckedClaim {
    /// `inputs_commitment` under `salt`.
    pub fn inputs_commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(DECISION_INPUTS, salt, &self.inputs)
    }

    /// `outcome_commitment` under `salt`.
    pub fn outcome_commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(CLAIM_CHECK, salt, &self.outcome)
    }
}

/// Checks every line of `claim` in order (a line sees the units the lines before it drew),
/// under `rule_sets` (per line, the rule set in effect on its date of service), for the
/// member `record`, with the authorisation's certified line per claim line.
pub fn check_claim(
    claim: &SealedClaim,
    claim_commitment: Hash,
    rule_sets: &[Option<RuleSet>],
    record: &MemberRecord,
    authorised: Vec<Option<AuthorisedLine>>,
) -> CheckedClaim {
    let mut member = record.clone();
    let period = Period {
        start_ms: record.period.start_ms,
        end_ms: record.period.end_ms,
    };
    let mut carcs = Vec::with_capacity(claim.lines.len());
    let mut outcomes = Vec::with_capacity(claim.lines.len());
    for (index, line) in claim.lines.iter().enumerate() {
        let known = member.known_records(true);
        let authorisation = authorised[index].as_ref().zip(claim.trace_handle.as_ref());
        let cited = authorisation.map(|(authorised, trace)| Authorised {
            window: Period {
                start_ms: authorised.window.0,
                end_ms: authorised.window.1,
            },
            quantity: authorised.quantity,
            claimed: member.claimed_units(trace, authorised.line),
        });
        let check = check_claim_line(
            rule_sets[index].as_ref(),
            record.active,
            &period,
            &ClaimedLine {
                procedure: &line.procedure,
                quantity: line.quantity,
                service_ms: line.service_ms,
                diagnoses: &line.diagnoses,
            },
            &known,
            cited.as_ref(),
        );
        let draw = match check.draw {
            ClaimDraw::None => LineDraw::None,
            ClaimDraw::Authorisation => {
                let (authorised, trace) = authorisation.expect("drawn from the one cited");
                member.claimed.push(ClaimedRecord {
                    trace_handle: trace.to_string(),
                    line: authorised.line,
                    units: line.quantity,
                    claim: Some(claim.claim_handle.to_string()),
                });
                LineDraw::Authorisation(authorised.line)
            }
            ClaimDraw::Benefit(service_type) => {
                if let Some(benefit) = member
                    .benefits
                    .iter_mut()
                    .find(|benefit| benefit.service_type == service_type)
                {
                    benefit.quantity_used = benefit.quantity_used.saturating_add(line.quantity);
                }
                member.benefit_draws.push(BenefitDrawRecord {
                    claim: claim.claim_handle.to_string(),
                    service_type: service_type.clone(),
                    units: line.quantity,
                });
                LineDraw::Benefit(service_type)
            }
        };
        let codes: Vec<String> = check.carcs.iter().map(|carc| carc.to_string()).collect();
        carcs.push(codes.clone());
        outcomes.push((codes, draw));
    }
    CheckedClaim {
        carcs,
        inputs: ClaimInputs {
            claim_commitment,
            member: record.clone(),
            rule_sets: rule_sets
                .iter()
                .map(|rule_set| rule_set.as_ref().map(|rule_set| rule_set.version))
                .collect(),
            authorised,
        },
        outcome: ClaimOutcome { lines: outcomes },
        member_after: member,
    }
}

/// Checks an opened claim against the claim on chain.
///
/// # Errors
/// [`AgentError::WrongRequest`] or [`AgentError::CommitmentMismatch`].
pub fn check_delivery(
    on_chain: &Claim,
    handle: Hash,
    claim: &SealedClaim,
    salt: &CommitmentSalt,
) -> Result<(), AgentError> {
    if claim.claim_handle != handle {
        return Err(AgentError::WrongRequest("another claim handle"));
    }
    if claim.payer != on_chain.payer || claim.member != on_chain.member {
        return Err(AgentError::WrongRequest("another payer or member"));
    }
    if claim.trace_handle != on_chain.trace_handle {
        return Err(AgentError::WrongRequest("another authorisation"));
    }
    if claim.lines.len() != on_chain.line_count as usize {
        return Err(AgentError::WrongRequest("another number of lines"));
    }
    if claim.commitment(salt) != on_chain.claim_commitment {
        return Err(AgentError::CommitmentMismatch);
    }
    Ok(())
}

/// The certified line of the authorisation `request` for each claim line's procedure: the
/// first certified line with that procedure, when the claim bills under the servicing NPI the
/// authorisation's submission names (on a referral, only the servicing provider draws on it).
async fn authorised_lines(
    chain: &CoverageChain,
    options: &AgentOptions,
    request: &SealedRequest,
    billing_npi: &str,
    claim: &SealedClaim,
) -> Result<Vec<Option<AuthorisedLine>>, AgentError> {
    let none = vec![None; claim.lines.len()];
    let path = inbox_file(&options.inbox, &request.trace_handle);
    let Ok(sealed) = std::fs::read(&path) else {
        return Ok(none);
    };
    let secret = reply_secret(&options.key, &options.genesis);
    let (submission, salt) = open_delivery(&secret, &sealed, &request.trace_handle)?;
    if submission.commitment(&salt) != request.submission_commitment
        || submission.servicing_npi != billing_npi
    {
        return Ok(none);
    }
    let mut lines = Vec::with_capacity(claim.lines.len());
    for claimed in &claim.lines {
        let mut found = None;
        for (index, requested) in submission.lines.iter().enumerate() {
            let Some(decision) = request.decisions.get(index) else {
                continue;
            };
            let certified = matches!(
                decision.line.action,
                ActionCode::A1 | ActionCode::A2 | ActionCode::A6
            );
            if requested.procedure != claimed.procedure || !certified {
                continue;
            }
            let Some(post) = decision
                .post
                .and_then(|post| request.posts.get(usize::from(post)))
            else {
                continue;
            };
            let Some(rule_set) = chain.rules(request.payer, Some(post.rule_set)).await? else {
                continue;
            };
            let Some(rule) = matching_rule(&rule_set, &requested.procedure) else {
                continue;
            };
            let window = authorised_window(rule, requested.from_ms);
            found = Some(AuthorisedLine {
                line: index as u16,
                window: (window.start_ms, window.end_ms),
                quantity: decision.line.quantity,
            });
            break;
        }
        lines.push(found);
    }
    Ok(lines)
}

/// Checks the claim `handle` if it is the agent's to check (in force, not checked yet);
/// `None` when there is nothing to do.
pub(crate) async fn check_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(on_chain) = chain.claim(&options.key, handle).await? else {
        return Ok(None);
    };
    if on_chain.check.is_some() || on_chain.status != ClaimStatus::InForce {
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
    let (claim, claim_salt) = open_claim(&secret, &sealed, &handle)?;
    check_delivery(&on_chain, handle, &claim, &claim_salt)?;
    let mut records = PayerRecords::read(&options.records)?;
    let member = records.member(&on_chain.member)?.clone();
    let mut rule_sets = Vec::with_capacity(claim.lines.len());
    for line in &claim.lines {
        rule_sets.push(rules_for(chain, on_chain.payer, line.service_ms).await.ok());
    }
    let authorised = match &on_chain.trace_handle {
        Some(trace) => match chain.sealed_request(&options.key, *trace).await? {
            Some(request) => {
                authorised_lines(chain, options, &request, &on_chain.billing_npi, &claim).await?
            }
            None => vec![None; claim.lines.len()],
        },
        None => vec![None; claim.lines.len()],
    };
    ClaimInputsFile {
        member: member.clone(),
        authorised: authorised.clone(),
    }
    .write(&inputs_file(&options.inbox, &handle))?;
    let checked = check_claim(
        &claim,
        on_chain.claim_commitment,
        &rule_sets,
        &member,
        authorised,
    );
    let random = || CommitmentSalt::random().map_err(|error| AgentError::File(error.to_string()));
    let salts = Salts {
        submission: claim_salt,
        inputs: random()?,
        outcome: random()?,
    };
    salts.write(&salts_file(&options.inbox, &handle))?;
    let commitments = (
        checked.inputs_commitment(&salts.inputs),
        checked.outcome_commitment(&salts.outcome),
    );
    let receipt = chain
        .post_claim_check(&options.key, handle, checked.carcs.clone(), commitments)
        .await?;
    *records.member_mut(&on_chain.member)? = checked.member_after;
    records.write(&options.records)?;
    let refused = checked
        .carcs
        .iter()
        .filter(|carcs| !carcs.is_empty())
        .count();
    Ok(Some(Handled::Checked {
        handle,
        accepted: checked.carcs.len() - refused,
        refused,
        transaction: receipt.transaction_hash,
    }))
}

/// After `ClaimWithdrawn` (a void or a replacement): the units the claim drew return in the
/// payer's records. `None` when it drew none (or they were restored already).
pub(crate) async fn restore_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(on_chain) = chain.claim(&options.key, handle).await? else {
        return Ok(None);
    };
    if on_chain.status == ClaimStatus::InForce {
        return Ok(None);
    }
    let mut records = PayerRecords::read(&options.records)?;
    if !records.member_mut(&on_chain.member)?.restore(&handle) {
        return Ok(None);
    }
    records.write(&options.records)?;
    Ok(Some(Handled::Restored { handle }))
}
