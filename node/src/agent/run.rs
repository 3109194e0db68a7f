//! One pass of the payer's agent over the sealed requests and claims addressed to it: each
//! request still without a decision is opened from the inbox, checked against its skeleton and
//! commitment, decided by the rules and posted; each claim not yet checked likewise, its CARCs
//! posted (`claims`). A request whose submission has not arrived waits for the
//! next pass; one whose submission does not match is refused (nothing is posted: a clinician
//! or the provider must act) and reported.

use std::time::Duration;

use coverage::{ActionCode, Priority, RequestStatus, RuleSet, SealedRequest};
use parity_scale_codec::Decode;
use salus_client::seal::CommitmentSalt;
use salus_primitives::Hash;

use super::AgentError;
use super::chain::{CoverageChain, every_page, rules_for};
use super::decision::{Evaluated, evaluate};
use super::pass::{AgentOptions, Handled};
use super::records::CertifiedRecord;
use super::records::PayerRecords;
use super::submission::{
    Salts, SealedSubmission, documentation_file, inbox_file, open_delivery, open_documentation,
    records_file, salts_file,
};
use crate::gateway::{LedgerError, reply_secret};

impl std::fmt::Display for Handled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handled::Decided {
                handle,
                status,
                transaction,
            } => write!(f, "decided {handle} {status:?} in {transaction}"),
            Handled::Checked {
                handle,
                accepted,
                refused,
                transaction,
            } => write!(
                f,
                "checked {handle} {accepted} accepted {refused} refused in {transaction}"
            ),
            Handled::Restored { handle } => write!(f, "restored {handle}"),
            Handled::Certified { handle, lines } => {
                write!(f, "recorded {handle} {lines} certified line(s)")
            }
            Handled::Released { handle } => write!(f, "released {handle}"),
            Handled::Extended {
                handle,
                transaction,
            } => write!(f, "extended {handle} in {transaction}"),
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
    claims_cursor: Option<String>,
    waiting_claims: Vec<Hash>,
    withdrawn_cursor: Option<String>,
    steps_cursor: Option<String>,
    waiting_documented: Vec<Hash>,
    posted_cursor: Option<String>,
}

impl Agent {
    /// An agent on `chain`, from the first event.
    pub fn new(chain: CoverageChain, options: AgentOptions) -> Agent {
        Agent {
            chain,
            options,
            cursor: None,
            waiting: Vec::new(),
            claims_cursor: None,
            waiting_claims: Vec::new(),
            withdrawn_cursor: None,
            steps_cursor: None,
            waiting_documented: Vec::new(),
            posted_cursor: None,
        }
    }

    /// One pass: the requests submitted since the last pass, and those still waiting.
    ///
    /// # Errors
    /// [`AgentError::Ledger`] when the node cannot be asked for the events.
    pub async fn pass(&mut self) -> Result<Vec<Handled>, AgentError> {
        let payer = self.options.key.address();
        let chain = &self.chain;
        let options = &self.options;
        // Cancelled and revised requests first: their unclaimed certified units return before
        // a revision is decided afresh.
        let mut handled = Vec::new();
        let mut documented = std::mem::take(&mut self.waiting_documented);
        let mut extensions = Vec::new();
        let mut overturned = Vec::new();
        let steps = every_page(&mut self.steps_cursor, |after| {
            chain.request_steps(payer, after)
        })
        .await?;
        for (handle, step) in steps {
            let list = match step.as_str() {
                "documentation" => &mut documented,
                "extension" => &mut extensions,
                "appeal-overturned" => &mut overturned,
                "cancelled" | "revised" => {
                    note(
                        &mut handled,
                        handle,
                        release_one(chain, options, handle).await,
                    );
                    continue;
                }
                _ => continue,
            };
            if !list.contains(&handle) {
                list.push(handle);
            }
        }
        let mut handles = std::mem::take(&mut self.waiting);
        handles.extend(
            every_page(&mut self.cursor, |after| {
                chain.sealed_submitted(payer, after)
            })
            .await?,
        );
        for handle in handles {
            if note(
                &mut handled,
                handle,
                decide_one(chain, options, handle).await,
            ) {
                self.waiting.push(handle);
            }
        }
        for handle in extensions {
            note(
                &mut handled,
                handle,
                extension_one(chain, options, handle).await,
            );
        }
        for handle in documented {
            if note(
                &mut handled,
                handle,
                documented_one(chain, options, handle).await,
            ) {
                self.waiting_documented.push(handle);
            }
        }
        // Lines certified by a reviewer's post or an overturned appeal: recorded before any
        // claim is checked, as the agent's own certifications are when it posts them.
        let mut posted = overturned;
        for handle in every_page(&mut self.posted_cursor, |after| {
            chain.decisions_posted(payer, after)
        })
        .await?
        {
            if !posted.contains(&handle) {
                posted.push(handle);
            }
        }
        for handle in posted {
            note(
                &mut handled,
                handle,
                certify_posted(chain, options, handle).await,
            );
        }
        // Withdrawn claims first: a replacement checked in this pass sees its original's
        // units returned.
        let withdrawn = every_page(&mut self.withdrawn_cursor, |after| {
            chain.claims_withdrawn(payer, after)
        })
        .await?;
        for handle in withdrawn {
            let restored = super::claims::restore_one(chain, options, handle).await;
            note(&mut handled, handle, restored);
        }
        let mut claims = std::mem::take(&mut self.waiting_claims);
        claims.extend(
            every_page(&mut self.claims_cursor, |after| {
                chain.claims_submitted(payer, after)
            })
            .await?,
        );
        for handle in claims {
            let checked = super::claims::check_one(chain, options, handle).await;
            if note(&mut handled, handle, checked) {
                self.waiting_claims.push(handle);
            }
        }
        Ok(handled)
    }
}

/// Adds what one step did with `handle` to `handled` (a failure as [`Handled::Refused`]); true
/// when the step waits for a delivery, so that the next pass tries the handle again.
fn note(
    handled: &mut Vec<Handled>,
    handle: Hash,
    result: Result<Option<Handled>, AgentError>,
) -> bool {
    match result {
        Ok(None) => false,
        Ok(Some(outcome)) => {
            let waiting = matches!(outcome, Handled::Waiting { .. });
            handled.push(outcome);
            waiting
        }
        Err(error) => {
            handled.push(Handled::Refused { handle, error });
            false
        }
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
    // Undecided: new, or revised (a revision clears the decisions and announces the request
    // again). Documentation delivered later is `documented_one`'s.
    let undecided = matches!(
        request.status,
        RequestStatus::Pended | RequestStatus::InformationReceived
    );
    if !undecided || !request.decisions.is_empty() {
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
    // The servicing NPI is the one the registry attests: the requester's own, or on a referral
    // that of the servicing provider the submission names (an active provider).
    let servicing = submission.servicing_provider.unwrap_or(request.requester);
    if chain.attested_provider_npi(servicing).await?.as_deref()
        != Some(submission.servicing_npi.as_str())
    {
        return Err(AgentError::WrongRequest(
            "a servicing NPI the registry does not attest for the servicing provider",
        ));
    }
    let mut records = PayerRecords::read(&options.records)?;
    let member = records.member(&request.member)?.clone();
    let member = &member;
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
    // What the decision read, for `salus verify-decision`: the records file changes as the
    // agent certifies and claims draw units.
    PayerRecords {
        network: records.network.clone(),
        members: vec![member.clone()],
    }
    .write(&records_file(&options.inbox, &handle))?;
    post_and_record(
        chain,
        options,
        (&mut records, request.member),
        handle,
        &rule_set,
        evaluated,
        &salts,
        |_| true,
    )
    .await
}

/// Posts the decision `evaluated` on `handle` (its commitments under `salts`), then records the
/// certified lines `certify` selects in the member's payer records — certified units count
/// against the rule's rolling window and the benefit from now on, as the contract's `CERTIFIED`
/// and benefit accumulators did — and reads the request's status from the receipt.
#[allow(clippy::too_many_arguments)]
async fn post_and_record(
    chain: &CoverageChain,
    options: &AgentOptions,
    (records, member): (&mut PayerRecords, Hash),
    handle: Hash,
    rule_set: &RuleSet,
    evaluated: Evaluated,
    salts: &Salts,
    certify: impl Fn(usize) -> bool,
) -> Result<Option<Handled>, AgentError> {
    let commitments = (
        evaluated.inputs_commitment(&salts.inputs),
        evaluated.outcome_commitment(&salts.outcome),
    );
    let outcome = evaluated.outcome.clone();
    let receipt = chain
        .post_decision(
            &options.key,
            handle,
            evaluated.lines,
            rule_set.version,
            commitments,
        )
        .await?;
    record_certifications(
        records.member_mut(&member)?,
        handle,
        rule_set,
        &outcome.lines,
        certify,
    );
    records.write(&options.records)?;
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

/// After `RequestStep` `cancelled` or `revised`: the request's unclaimed certified units return
/// in the payer's records. `None` when it had none (or they were returned already).
async fn release_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(request) = chain.sealed_request(&options.key, handle).await? else {
        return Ok(None);
    };
    let mut records = PayerRecords::read(&options.records)?;
    if !records.member_mut(&request.member)?.release(&handle) {
        return Ok(None);
    }
    records.write(&options.records)?;
    Ok(Some(Handled::Released { handle }))
}

/// After a post the agent did not make (`DecisionPosted` by a clinician reviewer, `RequestStep`
/// `appeal-overturned`): records in the payer's records each line of `handle` now certified
/// (`A1`, `A2`, `A6`) that they do not hold yet — in the rule's rolling window from the start
/// of its authorised window, with the units posted, and against the benefit — as
/// [`record_certifications`] does for the agent's own. `None` when nothing is missing (the
/// agent's own posts), the request is cancelled, or its submission is not in the inbox.
async fn certify_posted(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(request) = chain.sealed_request(&options.key, handle).await? else {
        return Ok(None);
    };
    if request.status == RequestStatus::Cancelled {
        return Ok(None);
    }
    let mut records = PayerRecords::read(&options.records)?;
    let text = handle.to_string();
    let member = records.member(&request.member)?;
    let missing: Vec<usize> = request
        .decisions
        .iter()
        .enumerate()
        .filter(|(index, decision)| {
            matches!(
                decision.line.action,
                ActionCode::A1 | ActionCode::A2 | ActionCode::A6
            ) && !member.certified.iter().any(|entry| {
                entry.trace_handle.as_deref() == Some(text.as_str())
                    && entry.line == Some(*index as u16)
            })
        })
        .map(|(index, _)| index)
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let path = inbox_file(&options.inbox, &handle);
    let Ok(sealed) = std::fs::read(&path) else {
        return Ok(None);
    };
    let secret = reply_secret(&options.key, &options.genesis);
    let (submission, salt) = open_delivery(&secret, &sealed, &handle)?;
    check_submission(&request, &submission, &salt)?;
    let mut certified = Vec::new();
    for index in missing {
        let decision = &request.decisions[index];
        let Some(post) = decision
            .post
            .and_then(|post| request.posts.get(usize::from(post)))
        else {
            continue;
        };
        let Some(rule_set) = chain.rules(request.payer, Some(post.rule_set)).await? else {
            return Err(AgentError::NoRules(format!("version {}", post.rule_set)));
        };
        let requested = &submission.lines[index];
        let Some(rule) = coverage_rules::matching_rule(&rule_set, &requested.procedure) else {
            continue;
        };
        let window = coverage_rules::authorised_window(rule, requested.from_ms);
        certified.push(CertifiedRecord {
            rule_id: rule.id,
            start_ms: window.start_ms,
            units: decision.line.quantity,
            trace_handle: Some(text.clone()),
            line: Some(index as u16),
            service_type: Some(rule.service_type.clone()),
        });
    }
    if certified.is_empty() {
        return Ok(None);
    }
    let lines = certified.len();
    let record = records.member_mut(&request.member)?;
    for entry in certified {
        if let Some(benefit) = record
            .benefits
            .iter_mut()
            .find(|benefit| Some(&benefit.service_type) == entry.service_type.as_ref())
        {
            benefit.quantity_used = benefit.quantity_used.saturating_add(entry.units);
        }
        record.certified.push(entry);
    }
    records.write(&options.records)?;
    Ok(Some(Handled::Certified { handle, lines }))
}

/// Records the lines of `lines` the agent certified (`A1`; those `include` admits) in the
/// member's record: in the rule's rolling window and against the benefit.
fn record_certifications(
    record: &mut super::records::MemberRecord,
    handle: Hash,
    rule_set: &RuleSet,
    lines: &[super::decision::LineOutcome],
    include: impl Fn(usize) -> bool,
) {
    for (index, line) in lines.iter().enumerate() {
        let (ActionCode::A1, Some((start_ms, _)), Some(rule_id)) =
            (&line.action, line.window, line.rule_ids.first())
        else {
            continue;
        };
        if !include(index) {
            continue;
        }
        let service_type = rule_set
            .rules
            .iter()
            .find(|rule| rule.id == *rule_id)
            .map(|rule| rule.service_type.clone());
        record.certified.push(CertifiedRecord {
            rule_id: *rule_id,
            start_ms,
            units: line.quantity,
            trace_handle: Some(handle.to_string()),
            line: Some(index as u16),
            service_type: service_type.clone(),
        });
        if let Some(benefit) = record
            .benefits
            .iter_mut()
            .find(|benefit| Some(&benefit.service_type) == service_type.as_ref())
        {
            benefit.quantity_used = benefit.quantity_used.saturating_add(line.quantity);
        }
    }
}

/// After `RequestStep` `documentation`: re-evaluates the pended lines of `handle` with the
/// documentation delivered since the submission (`<hex>.documentation-<n>.sealed`, each
/// checked against its commitment on chain), under the rule set of the agent's first post,
/// and posts the lines the rules now decide. `None` when none changes; `Waiting` while a
/// delivery is missing.
async fn documented_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(request) = chain.sealed_request(&options.key, handle).await? else {
        return Ok(None);
    };
    let undecided = matches!(
        request.status,
        RequestStatus::Pended | RequestStatus::InformationReceived
    );
    let pended = request
        .decisions
        .iter()
        .any(|decision| decision.line.action == ActionCode::A4);
    if !undecided || !pended {
        return Ok(None);
    }
    let secret = reply_secret(&options.key, &options.genesis);
    let path = inbox_file(&options.inbox, &handle);
    let sealed = std::fs::read(&path)
        .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
    let (mut submission, submission_salt) = open_delivery(&secret, &sealed, &handle)?;
    check_submission(&request, &submission, &submission_salt)?;
    for (index, committed) in request.documentation.iter().enumerate() {
        let path = documentation_file(&options.inbox, &handle, index);
        let sealed = match std::fs::read(&path) {
            Ok(sealed) => sealed,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(Handled::Waiting { handle }));
            }
            Err(error) => return Err(AgentError::File(format!("{}: {error}", path.display()))),
        };
        let (documentation, salt) = open_documentation(&secret, &sealed, &handle, index)?;
        if documentation.trace_handle != handle || documentation.commitment(&salt) != *committed {
            return Err(AgentError::CommitmentMismatch);
        }
        submission
            .attachment_templates
            .extend(documentation.attachment_templates);
    }
    let Some(first) = request
        .decisions
        .iter()
        .filter_map(|decision| decision.post)
        .min()
    else {
        return Ok(None);
    };
    let version = request.posts[usize::from(first)].rule_set;
    let Some(rule_set) = chain.rules(request.payer, Some(version)).await? else {
        return Err(AgentError::NoRules(format!("version {version}")));
    };
    let mut records = PayerRecords::read(&options.records)?;
    let member = records.member(&request.member)?.clone();
    let evaluated = evaluate(
        &rule_set,
        &submission,
        request.submission_commitment,
        &member,
        records.in_network(&submission.servicing_npi),
    )?;
    let changed: Vec<bool> = request
        .decisions
        .iter()
        .zip(&evaluated.lines)
        .map(|(current, line)| {
            current.line.action == ActionCode::A4 && line.action != ActionCode::A4
        })
        .collect();
    if !changed.contains(&true) {
        return Ok(None);
    }
    let random = || CommitmentSalt::random().map_err(|error| AgentError::File(error.to_string()));
    let salts = Salts {
        submission: submission_salt,
        inputs: random()?,
        outcome: random()?,
    };
    salts.write(&options.inbox.join(format!(
        "{}.documentation.salts.json",
        hex::encode(handle.0)
    )))?;
    post_and_record(
        chain,
        options,
        (&mut records, request.member),
        handle,
        &rule_set,
        evaluated,
        &salts,
        |index| changed[index],
    )
    .await
}

/// After `RequestStep` `extension`: grants the extension when every certified line's rule
/// allows the days asked (`authorised_days`); beyond it the rules would refuse, which is a
/// clinician's decision (42 CFR 438.210(b)(3)): nothing is posted. `None` then, or when no
/// extension is pending.
async fn extension_one(
    chain: &CoverageChain,
    options: &AgentOptions,
    handle: Hash,
) -> Result<Option<Handled>, AgentError> {
    let Some(request) = chain.sealed_request(&options.key, handle).await? else {
        return Ok(None);
    };
    let Some(extension) = request
        .extension
        .as_ref()
        .filter(|extension| extension.granted.is_none())
    else {
        return Ok(None);
    };
    if request.status != RequestStatus::Decided {
        return Ok(None);
    }
    let secret = reply_secret(&options.key, &options.genesis);
    let path = inbox_file(&options.inbox, &handle);
    let sealed = std::fs::read(&path)
        .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
    let (submission, salt) = open_delivery(&secret, &sealed, &handle)?;
    check_submission(&request, &submission, &salt)?;
    let Some(post) = request
        .decisions
        .iter()
        .filter_map(|decision| decision.post)
        .max()
    else {
        return Ok(None);
    };
    let version = request.posts[usize::from(post)].rule_set;
    let Some(rule_set) = chain.rules(request.payer, Some(version)).await? else {
        return Err(AgentError::NoRules(format!("version {version}")));
    };
    let within = request
        .decisions
        .iter()
        .zip(&submission.lines)
        .filter(|(decision, _)| {
            matches!(
                decision.line.action,
                ActionCode::A1 | ActionCode::A2 | ActionCode::A6
            )
        })
        .all(|(_, line)| {
            coverage_rules::matching_rule(&rule_set, &line.procedure)
                .is_some_and(|rule| extension.days <= rule.authorised_days)
        });
    if !within {
        return Ok(None);
    }
    let salt = CommitmentSalt::random().map_err(|error| AgentError::File(error.to_string()))?;
    let outcome = salus_client::seal::commit_value(
        super::submission::DECISION_OUTCOME,
        &salt,
        &(handle, extension.days, version),
    );
    let receipt = chain
        .grant_extension(&options.key, handle, version, outcome)
        .await?;
    Ok(Some(Handled::Extended {
        handle,
        transaction: receipt.transaction_hash,
    }))
}
