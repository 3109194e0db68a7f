//! The rules' decision on every line of a sealed submission, with `coverage-rules` (the code
//! the contract runs), and what the two commitments cover: `inputs_commitment` the submission's
//! commitment, the member's record and the network answer the rules read; `outcome_commitment`
//! the rule set version and, per line, the action, reason, rule ids, units, window,
//! certification number and suggestion. The posted lines carry only the action, the reason
//! code and the units.

use coverage::{ActionCode, PostedLine, RuleSet};
use coverage_rules::{Line, Member, Period};
use parity_scale_codec::Encode;
use salus_client::seal::{CommitmentSalt, commit_value};
use salus_primitives::Hash;

use super::AgentError;
use super::records::MemberRecord;
use super::submission::{DECISION_INPUTS, DECISION_OUTCOME, SealedSubmission};

/// What the rules read: committed to by `inputs_commitment`.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct DecisionInputs {
    /// The submission, by its commitment on chain.
    pub submission_commitment: Hash,
    /// The member's record (coverage facts, benefits, certifications).
    pub member: MemberRecord,
    /// Whether the servicing provider is in the plan's network.
    pub in_network: bool,
}

/// What the rules gave for one line.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct LineOutcome {
    /// `A1`, `A4` or `NA`.
    pub action: ActionCode,
    /// The reason code, for a pended line.
    pub reason: Option<String>,
    /// The rules that fired.
    pub rule_ids: Vec<u32>,
    /// Units certified.
    pub quantity: u32,
    /// The authorised window (start, end ms), when certified.
    pub window: Option<(u64, u64)>,
    /// The certification number (HCR02), when certified.
    pub certification: Option<String>,
    /// What the rules suggest to the clinician for a line they may not decide alone.
    pub suggested: Option<(ActionCode, u32)>,
}

/// What the rules gave: committed to by `outcome_commitment`.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct DecisionOutcome {
    /// The rule-set version.
    pub rule_set: u32,
    /// Per line.
    pub lines: Vec<LineOutcome>,
}

/// A decision ready to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluated {
    /// The lines as posted (action, reason code, units).
    pub lines: Vec<PostedLine>,
    /// What the rules read.
    pub inputs: DecisionInputs,
    /// What they gave.
    pub outcome: DecisionOutcome,
}

impl Evaluated {
    /// `inputs_commitment` under `salt`.
    pub fn inputs_commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(DECISION_INPUTS, salt, &self.inputs)
    }

    /// `outcome_commitment` under `salt`.
    pub fn outcome_commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(DECISION_OUTCOME, salt, &self.outcome)
    }
}

/// Evaluates every line of `submission` under `rule_set` for the member `record` (the
/// servicing provider `in_network` or not). The certification number is the handle's hex and
/// the line's number, as the contract would give it for that trace.
///
/// # Errors
/// [`AgentError::MissingReason`] when the rule set lacks a reason for an edit that decided a
/// line (the contract refuses to publish such a set); [`AgentError::File`] for a malformed
/// attachment template.
pub fn evaluate(
    rule_set: &RuleSet,
    submission: &SealedSubmission,
    submission_commitment: Hash,
    record: &MemberRecord,
    in_network: bool,
) -> Result<Evaluated, AgentError> {
    let period = Period {
        start_ms: record.period.start_ms,
        end_ms: record.period.end_ms,
    };
    let member = Member {
        active: record.active,
        period: &period,
        birth_year: record.birth_year,
        sex: &record.sex,
        network_plan: record.network_plan,
    };
    let services = submission.service_lines();
    let attachments = submission.attachments()?;
    let records = record.known_records(in_network);
    let trace = hex::encode(submission.trace_handle.0);
    let mut lines = Vec::with_capacity(services.len());
    let mut outcomes = Vec::with_capacity(services.len());
    for (index, service) in services.iter().enumerate() {
        let line = Line {
            service,
            diagnoses: &submission.diagnoses,
            attachments: &attachments,
        };
        let outcome = coverage_rules::evaluate(rule_set, &member, &line, &records)
            .map_err(|missing| AgentError::MissingReason(missing.0))?;
        let reason = outcome.reason.as_ref().map(|reason| reason.code.clone());
        lines.push(PostedLine {
            action: outcome.action.clone(),
            reason: reason.clone(),
            quantity: outcome.quantity,
        });
        let certified = outcome.action == ActionCode::A1;
        outcomes.push(LineOutcome {
            certification: certified.then(|| coverage_rules::certification_number(&trace, index)),
            action: outcome.action,
            reason,
            rule_ids: outcome.rule_ids,
            quantity: outcome.quantity,
            window: outcome
                .period
                .map(|period| (period.start_ms, period.end_ms)),
            suggested: outcome
                .suggested
                .map(|suggested| (suggested.action, suggested.quantity)),
        });
    }
    Ok(Evaluated {
        lines,
        inputs: DecisionInputs {
            submission_commitment,
            member: record.clone(),
            in_network,
        },
        outcome: DecisionOutcome {
            rule_set: rule_set.version,
            lines: outcomes,
        },
    })
}
