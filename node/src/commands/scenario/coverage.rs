//! The coverage part of `salus scenario`: a payer publishes its rules, covers a member and
//! names a clinical reviewer; a hospital submits five sealed preauthorizations; the payer's
//! agent decides them with the agent's own rule code; the reviewer denies two pended lines
//! with a reason, the hospital appeals one denial and the payer overturns it; one request
//! stays pended, one passes its 72-hour deadline and is marked overdue; the payer posts its
//! per-code CMS-0057-F metrics.
//!
//! Accounts: 0 the registry's authority (registers the payer, the hospital and the reviewer),
//! 7 the payer, 8 the hospital (provider organisation, the requester), 9 the patient (its
//! pseudonym with the payer is derived from its key, `salus_client::pseudonym`; it signs
//! nothing). The payer's clinical reviewer is dev key 11, funded by the payer.
//!
//! How the payer decides: each submission is built as a provider seals it
//! (`agent::SealedSubmission`, committed with a fresh salt; the skeleton goes on chain with
//! `submit_sealed`), and the payer's decision is the agent's own `agent::evaluate` (the
//! published rule set through `coverage-rules`, against the payer's record of the member),
//! posted with `post_decision` and the agent's two commitments. The sealed delivery and the
//! agent's polling loop are skipped: the story holds the plaintext the agent would open, and
//! this client mines each transaction itself (`dev_mine`), which the agent's ledger does not.
//! The metrics post is the agent's own counting (`agent::metrics`).

use std::time::Duration;

use anyhow::{Context, anyhow};
use coverage::{
    ActionCode, AppealOutcome, CoverageStatus, EditReason, Period, PlanType, PostedLine, Priority,
    Reason, Rule, RuleSet,
};
use parity_scale_codec::Encode;
use salus_client::pseudonym::{Relationship, RelationshipKind, derive_pseudonym};
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::seal::{CommitmentSalt, commit_value};
use salus_client::{DEV_MNEMONIC, TransactionBuilder, derive_key};
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use super::{Contracts, DAY_MS, Registration, Scenario};
use crate::agent::metrics::{aggregate, counted_lines, decisions_commitment};
use crate::agent::submission::{DECISION_INPUTS, DECISION_OUTCOME};
use crate::agent::{
    CoverageChain, MemberRecord, SealedSubmission, SubmissionLine, evaluate,
    records::{BenefitRecord, PeriodRecord},
};
use crate::gateway::ledger::call_input;

/// The payer.
const PAYER: u32 = 7;
/// The hospital: the requesting provider.
const HOSPITAL: u32 = 8;
/// The patient.
const PATIENT: u32 = 9;
/// The payer's clinical reviewer (a practitioner): dev key 11, not funded at genesis.
const REVIEWER_KEY: u32 = 11;

/// The hospital's NPI (a valid check digit; not the consent part's hospital's).
const HOSPITAL_NPI: &str = "9876543213";
/// The member's id with the payer (salted into the member hash; never on chain).
const MEMBER_ID: &str = "M-000417";
/// Lumbar spine MRI: rule 10 approves it automatically.
const MRI: &str = "72148";
/// Abdominal CT: rule 20 sends it to a clinical reviewer.
const CT: &str = "74177";
/// The diagnosis on every submission (sealed: never on chain).
const DIAGNOSIS: &str = "M54.16";

/// One day in ms.
/// One hour in ms.
const HOUR_MS: u64 = 60 * 60 * 1000;

/// How long the agent's ledger would wait for a transaction (unused by this client's calls,
/// which mine their own).
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(30);

/// The reason codes of the payer's rule set, one per edit, with their words (the X12 HCR03
/// list is licensed: a payer's rule set carries its codes and texts).
fn reasons() -> Vec<EditReason> {
    use coverage_rules::Edit;
    [
        (
            Edit::NotEligible,
            "E1",
            "Member not eligible on the date of service",
        ),
        (
            Edit::Network,
            "N1",
            "Servicing provider outside the plan's network",
        ),
        (Edit::Age, "AG", "Member's age outside the policy's limits"),
        (
            Edit::Sex,
            "SX",
            "Service not covered for the member's sex under the policy",
        ),
        (
            Edit::PlaceOfService,
            "PS",
            "Place of service not covered for this service",
        ),
        (
            Edit::Diagnosis,
            "DX",
            "The diagnosis does not support the service",
        ),
        (Edit::Quantity, "QT", "More units than the policy allows"),
        (Edit::Documentation, "DC", "Required documentation missing"),
        (Edit::ClinicalReview, "CR", "Sent to a clinical reviewer"),
        (
            Edit::Extension,
            "EX",
            "Extension longer than the policy allows",
        ),
    ]
    .into_iter()
    .map(|(edit, code, text)| EditReason {
        edit,
        reason: Reason {
            code: code.into(),
            text: text.into(),
        },
    })
    .collect()
}

/// The payer's rules: lumbar MRI approved automatically, abdominal CT to clinical review.
fn rules() -> Vec<Rule> {
    vec![
        Rule::prior_authorisation(10, "62", ("72141", "72158"), true),
        Rule::prior_authorisation(20, "62", ("74176", "74178"), false),
    ]
}

/// Signs `message` on the coverage contract with typed (SCALE) arguments: encoded as the
/// contract takes them, read back as the ABI's JSON and sent through [`Scenario::call`].
async fn coverage_call(
    scenario: &mut Scenario,
    key: &SecretKey,
    message: &str,
    arguments: impl Encode,
) -> anyhow::Result<ReceiptView> {
    typed_call(scenario, key, Contracts::COVERAGE, message, arguments).await
}

async fn typed_call(
    scenario: &mut Scenario,
    key: &SecretKey,
    contract: Address,
    message: &str,
    arguments: impl Encode,
) -> anyhow::Result<ReceiptView> {
    let input = call_input(message, arguments);
    let (_, json) = scenario
        .abi(contract)
        .await?
        .decode_call(&input)
        .with_context(|| format!("`{message}`'s arguments"))?;
    scenario
        .call(key, contract, message, json)
        .await
        .with_context(|| format!("`{message}`"))
}

/// Sends `amount` from `from` to `to` and mines until it is included.
async fn fund(
    scenario: &Scenario,
    from: &SecretKey,
    to: Address,
    amount: u128,
) -> anyhow::Result<()> {
    let nonce = scenario
        .client()
        .state_get_account(from.address().to_string(), None)
        .await?
        .nonce;
    let transaction =
        TransactionBuilder::new(scenario.chain_id(), from.clone(), nonce).transfer(to, amount);
    let hash = scenario
        .client()
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .context("funding the reviewer")?;
    for _ in 0..50 {
        if let Some(receipt) = scenario.client().tx_receipt(hash.clone()).await? {
            anyhow::ensure!(receipt.status == "success", "funding the reviewer failed");
            return Ok(());
        }
        scenario.client().dev_mine(1).await?;
    }
    Err(anyhow!("funding the reviewer was not included"))
}

/// A submission the hospital seals to the payer: one line of `procedure`.
fn submission(
    handle: Hash,
    payer: Address,
    member: Hash,
    priority: &Priority,
    procedure: &str,
    service_ms: u64,
) -> SealedSubmission {
    SealedSubmission {
        trace_handle: handle,
        payer,
        member,
        servicing_npi: HOSPITAL_NPI.into(),
        servicing_provider: None,
        priority: match priority {
            Priority::Expedited => "Expedited".into(),
            Priority::Standard => "Standard".into(),
        },
        lines: vec![SubmissionLine {
            procedure: procedure.into(),
            modifiers: vec![],
            quantity: 1,
            from_ms: service_ms,
            to_ms: service_ms,
            place_of_service: "22".into(),
        }],
        diagnoses: vec![DIAGNOSIS.into()],
        attachment_templates: vec![],
    }
}

/// A reviewer's commitment to what it read or decided (kept in the payer's records).
fn reviewer_commitment(
    kind: salus_client::seal::CommitmentKind,
    note: &str,
) -> anyhow::Result<Hash> {
    let salt = CommitmentSalt::random().map_err(|error| anyhow!("randomness: {error}"))?;
    Ok(commit_value(kind, &salt, &note.to_string()))
}

/// One request of the story.
struct Story {
    name: &'static str,
    priority: Priority,
    procedure: &'static str,
    handle: Hash,
    submission: SealedSubmission,
}

/// Tells the coverage story; returns what it made (ids, addresses and console paths by name).
///
/// # Errors
/// When a step fails.
pub async fn load(scenario: &mut Scenario) -> anyhow::Result<Value> {
    let payer_key = Scenario::key(PAYER);
    let hospital = Scenario::key(HOSPITAL);
    let patient = Scenario::key(PATIENT);
    let reviewer = derive_key(DEV_MNEMONIC, REVIEWER_KEY)
        .map_err(|error| anyhow!("the dev mnemonic derives: {error:?}"))?;
    let payer = payer_key.address();
    let info = scenario.client().node_info().await?;
    let genesis: Hash = info
        .genesis
        .parse()
        .map_err(|error| anyhow!("the genesis hash: {error}"))?;
    let head = scenario.client().chain_head().await?;
    let now = head.timestamp_ms;

    // The parties, registered by the authority; the reviewer gets fuel from the payer.
    for (key, role, npi) in [
        (&payer_key, "Payer", None),
        (&hospital, "ProviderOrganisation", Some(HOSPITAL_NPI)),
        (&reviewer, "Practitioner", None),
    ] {
        let registration = Registration {
            roles: &[role],
            npi,
            ..Registration::default()
        };
        scenario.register(key.address(), registration, now).await?;
    }
    fund(scenario, &payer_key, reviewer.address(), 10u128.pow(18)).await?;

    // The member: the patient's pseudonym with the payer and its salted member hash
    // (PRIVACY.md §5.1); the member id and salt stay with the payer and the patient.
    let pseudonym = derive_pseudonym(
        &patient,
        Relationship {
            chain: genesis,
            counterparty: payer,
            kind: RelationshipKind::Payer,
            episode: 0,
        },
    );
    let member = keccak256_concat(&[
        b"salus/member/v1",
        &payer.0,
        MEMBER_ID.as_bytes(),
        &pseudonym.member_salt,
    ]);
    let plan = Period {
        start_ms: now - 30 * DAY_MS,
        end_ms: now + 365 * DAY_MS,
    };
    coverage_call(
        scenario,
        &payer_key,
        "set_coverage",
        (
            member,
            coverage::Coverage {
                beneficiary: pseudonym.address(),
                plan_type: PlanType::Ppo,
                period: plan.clone(),
                status: CoverageStatus::Active,
            },
        ),
    )
    .await?;
    let policy = keccak256_concat(&[
        b"scenario/coverage/policy",
        b"imaging prior authorisation 2026",
    ]);
    coverage_call(
        scenario,
        &payer_key,
        "publish_rules",
        (policy, plan.clone(), rules(), reasons()),
    )
    .await?;
    coverage_call(
        scenario,
        &payer_key,
        "set_reviewer",
        (reviewer.address(), true),
    )
    .await?;
    let chain = CoverageChain {
        client: scenario.client().clone(),
        chain_id: scenario.chain_id(),
        coverage: Contracts::COVERAGE,
        registry: Contracts::REGISTRY,
        inclusion_timeout: INCLUSION_TIMEOUT,
    };
    let rule_set: RuleSet = chain
        .rules(payer, None)
        .await?
        .ok_or_else(|| anyhow!("the rule set was not published"))?;
    // The payer's own record of the member (what `salus agent payer --records` reads).
    let record = MemberRecord {
        member: member.to_string(),
        active: true,
        period: PeriodRecord {
            start_ms: plan.start_ms,
            end_ms: plan.end_ms,
        },
        birth_year: 1971,
        sex: "F".into(),
        network_plan: false,
        benefits: vec![BenefitRecord {
            service_type: "62".into(),
            authorisation_required: true,
            quantity_limit: None,
            quantity_used: 0,
        }],
        certified: vec![],
        claimed: vec![],
        benefit_draws: vec![],
    };

    // Five requests, sealed: handles drawn from the head, so that a second run adds its own.
    let service_ms = now + 7 * DAY_MS;
    let mut stories = Vec::new();
    for (name, priority, procedure) in [
        ("approved", Priority::Expedited, MRI),
        ("denied", Priority::Standard, CT),
        ("appealed", Priority::Standard, CT),
        ("pended", Priority::Standard, CT),
        ("overdue", Priority::Expedited, CT),
    ] {
        let handle = keccak256_concat(&[
            b"scenario/coverage/trace",
            head.hash.as_bytes(),
            name.as_bytes(),
        ]);
        let submission = submission(handle, payer, member, &priority, procedure, service_ms);
        stories.push(Story {
            name,
            priority,
            procedure,
            handle,
            submission,
        });
    }
    for story in &stories {
        let salt = CommitmentSalt::random().map_err(|error| anyhow!("randomness: {error}"))?;
        coverage_call(
            scenario,
            &hospital,
            "submit_sealed",
            (
                story.handle,
                payer,
                member,
                story.priority.clone(),
                story.submission.lines.len() as u32,
                story.submission.commitment(&salt),
            ),
        )
        .await
        .with_context(|| format!("submitting the {} request", story.name))?;
        // The payer's agent opens the submission and runs the published rules on it.
        let evaluated = evaluate(
            &rule_set,
            &story.submission,
            story.submission.commitment(&salt),
            &record,
            false,
        )
        .map_err(|error| anyhow!("the rules on the {} request: {error}", story.name))?;
        let decision_salt =
            CommitmentSalt::random().map_err(|error| anyhow!("randomness: {error}"))?;
        coverage_call(
            scenario,
            &payer_key,
            "post_decision",
            (
                story.handle,
                evaluated.lines.clone(),
                rule_set.version,
                evaluated.inputs_commitment(&decision_salt),
                evaluated.outcome_commitment(&decision_salt),
            ),
        )
        .await
        .with_context(|| format!("the agent's decision on the {} request", story.name))?;
    }
    let handle_of = |name: &str| {
        stories
            .iter()
            .find(|story| story.name == name)
            .map(|story| story.handle)
            .expect("a story of that name")
    };

    // Six hours later the clinical reviewer denies two pended CT lines: the diagnosis does
    // not support them.
    scenario.advance_clock(6 * HOUR_MS).await?;
    for name in ["denied", "appealed"] {
        coverage_call(
            scenario,
            &reviewer,
            "post_decision",
            (
                handle_of(name),
                vec![PostedLine {
                    action: ActionCode::A3,
                    reason: Some("DX".to_string()),
                    quantity: 0,
                }],
                rule_set.version,
                reviewer_commitment(DECISION_INPUTS, "reviewer read the submission and records")?,
                reviewer_commitment(
                    DECISION_OUTCOME,
                    "not certified: diagnosis does not support CT",
                )?,
            ),
        )
        .await
        .with_context(|| format!("the reviewer's decision on the {name} request"))?;
    }
    // The hospital appeals one denial with new grounds; the payer (who did not decide it)
    // overturns it.
    let appealed = handle_of("appealed");
    coverage_call(
        scenario,
        &hospital,
        "appeal",
        (
            appealed,
            reviewer_commitment(
                DECISION_INPUTS,
                "appeal grounds: imaging after failed therapy",
            )?,
        ),
    )
    .await?;
    scenario.advance_clock(18 * HOUR_MS).await?;
    coverage_call(
        scenario,
        &payer_key,
        "decide_appeal",
        (
            appealed,
            AppealOutcome::Overturned,
            Option::<String>::None,
            vec![PostedLine {
                action: ActionCode::A1,
                reason: None,
                quantity: 1,
            }],
            rule_set.version,
            reviewer_commitment(DECISION_INPUTS, "appeal review inputs")?,
            reviewer_commitment(DECISION_OUTCOME, "overturned: certified 1 unit for 60 days")?,
        ),
    )
    .await?;

    // The payer posts its per-code figures from the start of the day of the first request to
    // now (the agent's counting, over the requests it holds the submissions of), unless a
    // run of the story has posted for that day already.
    let decided_at = scenario.client().chain_head().await?.timestamp_ms;
    let period = Period {
        start_ms: now / DAY_MS * DAY_MS,
        // The next block is later than the head: the last decision counts.
        end_ms: decided_at + 1,
    };
    let mut counted = Vec::new();
    for story in &stories {
        let request = chain
            .sealed_request(&payer_key, story.handle)
            .await?
            .ok_or_else(|| anyhow!("the {} request is not on chain", story.name))?;
        counted.extend(counted_lines(
            &request,
            &[story.procedure.to_string()],
            &period,
        ));
    }
    let metrics_salt = CommitmentSalt::random().map_err(|error| anyhow!("randomness: {error}"))?;
    if chain
        .period_metrics(payer, period.start_ms)
        .await?
        .is_none()
    {
        coverage_call(
            scenario,
            &payer_key,
            "post_metrics",
            (
                period.clone(),
                aggregate(&counted, &period),
                decisions_commitment(&counted, &metrics_salt),
            ),
        )
        .await?;
    }

    // The expedited CT request waits past its 72 hours; anyone may mark it overdue.
    let overdue = handle_of("overdue");
    let elapsed = scenario.client().chain_head().await?.timestamp_ms - now;
    scenario
        .advance_clock((72 * HOUR_MS + 2 * HOUR_MS).saturating_sub(elapsed))
        .await?;
    coverage_call(scenario, &hospital, "mark_overdue", overdue).await?;

    let path = |handle: Hash| format!("/ui/coverage/preauth/{handle}");
    Ok(json!({
        "payer": payer.to_string(),
        "provider": hospital.address().to_string(),
        "reviewer": reviewer.address().to_string(),
        "patient_pseudonym": pseudonym.address().to_string(),
        "member": member.to_string(),
        "rule_set": rule_set.version,
        "metrics_period": { "start_ms": period.start_ms, "end_ms": period.end_ms },
        "decided_by": "the payer's agent code (agent::evaluate) in-process, posted with post_decision; denials by the clinical reviewer",
        "requests": stories.iter().map(|story| (story.name.to_string(), json!(story.handle.to_string()))).collect::<serde_json::Map<_, _>>(),
        "paths": {
            "landing": "/ui/coverage",
            "approved": path(handle_of("approved")),
            "denied": path(handle_of("denied")),
            "appealed": path(appealed),
            "pended": path(handle_of("pended")),
            "overdue": path(overdue),
            "payer": format!("/ui/coverage/payer/{payer}"),
        },
    }))
}
