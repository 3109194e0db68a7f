//! `salus verify-decision`'s check: from the plaintext submission, the payer's records and the
//! salts, recompute both commitments of a posted decision and rerun the rules against the rule
//! set version it names; the decision matches, or the first difference. Likewise a claim check,
//! from the plaintext claim, the inputs the agent kept beside its salts and the salts.

use coverage::ActionCode;
use salus_primitives::{Hash, SecretKey};

use super::AgentError;
use super::chain::CoverageChain;
use super::chain::rules_for;
use super::claims::{ClaimInputsFile, check_claim, check_delivery};
use super::decision::evaluate;
use super::records::PayerRecords;
use super::run::check_submission;
use super::submission::SealedClaim;
use super::submission::{Salts, SealedSubmission};

/// The verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Both commitments open to the data given and the rules give the posted lines.
    Match {
        /// The rule-set version named.
        rule_set: u32,
        /// Lines the agent decided as the rules give.
        by_rules: usize,
        /// Lines the rules pended and a reviewer decided later.
        by_reviewers: usize,
    },
    /// A claim check: the claim opens its commitment, both commitments open to the inputs the
    /// agent kept, and the rules give the posted CARCs.
    ClaimMatch {
        /// Lines checked as the rules give.
        lines: usize,
    },
    /// The first difference found.
    Differs(String),
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Match {
                rule_set,
                by_rules,
                by_reviewers,
            } => write!(
                f,
                "match: rule set {rule_set}, {by_rules} line(s) as the rules give, \
                 {by_reviewers} pended and decided by a reviewer"
            ),
            Verification::ClaimMatch { lines } => {
                write!(f, "match: claim check, {lines} line(s) as the rules give")
            }
            Verification::Differs(difference) => write!(f, "differs: {difference}"),
        }
    }
}

/// Verifies the decision posted for `handle`, reading the request as `reader` (a party that
/// may: the requester, the member, the payer or a reviewer).
///
/// # Errors
/// [`AgentError`] when the chain cannot be asked, the member is not in `records` or the rule
/// set lacks a reason (nothing to compare); a difference is a [`Verification::Differs`].
pub async fn verify_decision(
    chain: &CoverageChain,
    reader: &SecretKey,
    handle: Hash,
    submission: &SealedSubmission,
    records: &PayerRecords,
    salts: &Salts,
) -> Result<Verification, AgentError> {
    let differs = |text: String| Ok(Verification::Differs(text));
    let Some(request) = chain.sealed_request(reader, handle).await? else {
        return differs(format!("no sealed request {handle} on chain"));
    };
    match check_submission(&request, submission, &salts.submission) {
        Ok(()) => {}
        Err(AgentError::CommitmentMismatch) => {
            return differs("the submission does not open submission_commitment".into());
        }
        Err(AgentError::WrongRequest(what)) => {
            return differs(format!("the submission names {what} than the request"));
        }
        Err(error) => return Err(error),
    }
    // The agent's post on the current submission: the earliest post a current line names
    // (earlier posts decided a submission a revision replaced).
    let Some(first) = request
        .decisions
        .iter()
        .filter_map(|decision| decision.post)
        .min()
    else {
        return differs("no decision posted".into());
    };
    let post = &request.posts[usize::from(first)];
    let Some(rule_set) = chain.rules(request.payer, Some(post.rule_set)).await? else {
        return differs(format!("rule set {} is not published", post.rule_set));
    };
    let member = records.member(&request.member)?;
    let evaluated = evaluate(
        &rule_set,
        submission,
        request.submission_commitment,
        member,
        records.in_network(&submission.servicing_npi),
    )?;
    if evaluated.inputs_commitment(&salts.inputs) != post.inputs_commitment {
        return differs(
            "inputs_commitment: the records or salt differ from what the decision read".into(),
        );
    }
    if evaluated.outcome_commitment(&salts.outcome) != post.outcome_commitment {
        return differs("outcome_commitment: the rules give another outcome".into());
    }
    let (mut by_rules, mut by_reviewers) = (0, 0);
    for (index, (decided, expected)) in request.decisions.iter().zip(&evaluated.lines).enumerate() {
        if decided.post == Some(first) {
            if decided.line != *expected {
                return differs(format!(
                    "line {}: posted {:?} {:?} ×{}, the rules give {:?} {:?} ×{}",
                    index + 1,
                    decided.line.action,
                    decided.line.reason,
                    decided.line.quantity,
                    expected.action,
                    expected.reason,
                    expected.quantity
                ));
            }
            by_rules += 1;
        } else if expected.action != ActionCode::A4 {
            return differs(format!(
                "line {}: decided by a reviewer, though the rules give {:?}",
                index + 1,
                expected.action
            ));
        } else {
            by_reviewers += 1;
        }
    }
    if request.decisions.len() != evaluated.lines.len() {
        return differs("the posted decision has another number of lines".into());
    }
    Ok(Verification::Match {
        rule_set: rule_set.version,
        by_rules,
        by_reviewers,
    })
}

/// Verifies the check posted for the claim `handle`, reading it as `reader` (the billing
/// provider, the payer or a reviewer), from the plaintext claim, the inputs the agent kept
/// (`<claim hex>.inputs.json`: the member's record before the check, the authorisation's
/// certified lines) and the salts. The rule set of each line is the newest in effect on its
/// date of service, as the agent picks it. The authorised lines are taken as committed: the
/// holder of the authorisation's submission can check them against it.
///
/// # Errors
/// [`AgentError`] when the chain cannot be asked; a difference is a [`Verification::Differs`].
pub async fn verify_claim_check(
    chain: &CoverageChain,
    reader: &SecretKey,
    handle: Hash,
    claim: &SealedClaim,
    inputs: &ClaimInputsFile,
    salts: &Salts,
) -> Result<Verification, AgentError> {
    let differs = |text: String| Ok(Verification::Differs(text));
    let Some(on_chain) = chain.claim(reader, handle).await? else {
        return differs(format!("no claim {handle} on chain"));
    };
    match check_delivery(&on_chain, handle, claim, &salts.submission) {
        Ok(()) => {}
        Err(AgentError::CommitmentMismatch) => {
            return differs("the claim does not open claim_commitment".into());
        }
        Err(AgentError::WrongRequest(what)) => {
            return differs(format!("the claim names {what} than the claim on chain"));
        }
        Err(error) => return Err(error),
    }
    let Some(posted) = on_chain.check else {
        return differs("no check posted".into());
    };
    if inputs.authorised.len() != claim.lines.len() {
        return differs("the inputs have another number of lines".into());
    }
    let mut rule_sets = Vec::with_capacity(claim.lines.len());
    for line in &claim.lines {
        rule_sets.push(rules_for(chain, on_chain.payer, line.service_ms).await.ok());
    }
    let checked = check_claim(
        claim,
        on_chain.claim_commitment,
        &rule_sets,
        &inputs.member,
        inputs.authorised.clone(),
    );
    if checked.inputs_commitment(&salts.inputs) != posted.inputs_commitment {
        return differs(
            "inputs_commitment: the records, authorisation or salt differ from what the check read"
                .into(),
        );
    }
    if checked.outcome_commitment(&salts.outcome) != posted.outcome_commitment {
        return differs("outcome_commitment: the rules give another outcome".into());
    }
    for (index, (line, expected)) in posted.lines.iter().zip(&checked.carcs).enumerate() {
        let carcs: Vec<&str> = line
            .adjustments
            .iter()
            .map(|adjustment| adjustment.carc.as_str())
            .collect();
        if carcs != *expected {
            return differs(format!(
                "line {}: posted {carcs:?}, the rules give {expected:?}",
                index + 1
            ));
        }
    }
    Ok(Verification::ClaimMatch {
        lines: checked.carcs.len(),
    })
}
