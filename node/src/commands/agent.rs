//! `salus agent payer`: the payer's agent (docs/PRIVACY.md §5.5) — polls the coverage
//! contract's `SealedSubmitted` events addressed to the payer, opens each sealed submission from
//! the inbox, decides every line with the published rules against the payer's records and posts
//! `post_decision` with the commitments (`crate::agent`). `--once` does one pass and exits.
//! `--metrics-period` posts the per-code metrics of each period once it has ended
//! (`crate::agent::metrics`). `salus agent review`: a reviewer's decision on a pended line of a
//! sealed request.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use salus_client::rpc::SalusApiClient;
use salus_primitives::{Address, Hash};

use super::keys::signer;
use crate::agent::{Agent, AgentOptions, CoverageChain, POLL_INTERVAL};

/// What `salus agent payer` runs with.
#[derive(Debug, Clone)]
pub struct PayerAgentOptions {
    /// The payer's key (a key name or `dev:N`).
    pub key: String,
    /// The inbox directory providers deliver to.
    pub inbox: PathBuf,
    /// The payer's records (JSON).
    pub records: PathBuf,
    /// The coverage contract.
    pub coverage: Address,
    /// The registry.
    pub registry: Address,
    /// One pass, then exit.
    pub once: bool,
    /// Seconds a decision may take to be included.
    pub inclusion_timeout_s: u64,
    /// Post the per-code metrics of each period once it has ended.
    pub metrics_period: Option<crate::agent::metrics::MetricsPeriod>,
}

/// Connects to the node at `rpc`: the coverage contract on its chain and the genesis hash.
///
/// # Errors
/// When the node does not answer.
pub async fn coverage_chain(
    rpc: &str,
    coverage: Address,
    registry: Address,
    inclusion_timeout: Duration,
) -> anyhow::Result<(CoverageChain, Hash)> {
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let genesis: Hash = info
        .genesis
        .parse()
        .map_err(|error| anyhow!("the node's genesis hash: {error}"))?;
    Ok((
        CoverageChain {
            client,
            chain_id: info.chain_id,
            coverage,
            registry,
            inclusion_timeout,
        },
        genesis,
    ))
}

/// `salus agent payer`: prints one line per request handled (`decided <handle> <status> in
/// <tx>`, `waiting <handle>: …`, `refused <handle>: <why>`); with `once`, one pass.
///
/// # Errors
/// When the key cannot be read or the node does not answer.
pub async fn payer(rpc: &str, options: &PayerAgentOptions) -> anyhow::Result<()> {
    let key = signer(&options.key)?;
    let (chain, genesis) = coverage_chain(
        rpc,
        options.coverage,
        options.registry,
        Duration::from_secs(options.inclusion_timeout_s),
    )
    .await?;
    let agent_options = AgentOptions {
        key,
        genesis,
        inbox: options.inbox.clone(),
        records: options.records.clone(),
    };
    let metrics = options.metrics_period.map(|period| {
        (
            chain.clone(),
            AgentOptions {
                key: agent_options.key.clone(),
                genesis,
                inbox: options.inbox.clone(),
                records: options.records.clone(),
            },
            period,
        )
    });
    let mut agent = Agent::new(chain, agent_options);
    loop {
        for handled in agent.pass().await? {
            println!("{handled}");
        }
        if let Some((chain, agent_options, period)) = &metrics {
            match crate::agent::metrics::post_due(chain, agent_options, *period).await {
                Ok(None) => {}
                Ok(Some((period, transaction))) => println!(
                    "metrics {}..{} posted in {transaction}",
                    period.start_ms, period.end_ms
                ),
                Err(error) => println!("metrics not posted: {error}"),
            }
        }
        if options.once {
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// What `salus agent review` posts.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// The reviewer's key (a key name or `dev:N`).
    pub key: String,
    /// The request's trace handle.
    pub trace: Hash,
    /// The pended line, from 1.
    pub line: u32,
    /// X12 HCR01 action (`A1`, `A2`, `A3`, `A6`).
    pub action: String,
    /// The reason code.
    pub reason: Option<String>,
    /// Units certified.
    pub quantity: u32,
    /// The coverage contract.
    pub coverage: Address,
    /// The registry.
    pub registry: Address,
}

/// `salus agent review`: posts the reviewer's decision on one pended line; the line printed
/// (`posted <trace> line <n> <action> in <tx>; outcome salt 0x…`).
///
/// # Errors
/// When the key cannot be read, the node does not answer, the request or line is unknown or
/// not pended, or the contract refuses the post (e.g. an adverse action by a reviewer the
/// registry does not attest as a clinician).
pub async fn review(rpc: &str, options: &ReviewOptions) -> anyhow::Result<String> {
    use coverage::{ActionCode, PostedLine};
    use salus_client::seal::{CommitmentSalt, commit_value};

    let key = signer(&options.key)?;
    let action = match options.action.as_str() {
        "A1" => ActionCode::A1,
        "A2" => ActionCode::A2,
        "A3" => ActionCode::A3,
        "A6" => ActionCode::A6,
        other => return Err(anyhow!("--action {other}: A1, A2, A3 or A6")),
    };
    let (chain, _) = coverage_chain(
        rpc,
        options.coverage,
        options.registry,
        Duration::from_secs(60),
    )
    .await?;
    let request = chain
        .sealed_request(&key, options.trace)
        .await?
        .ok_or_else(|| anyhow!("no request {}", options.trace))?;
    let index = (options.line as usize)
        .checked_sub(1)
        .filter(|index| *index < request.decisions.len())
        .ok_or_else(|| {
            anyhow!(
                "--line {}: the request has {} decided line(s)",
                options.line,
                request.decisions.len()
            )
        })?;
    let current = &request.decisions[index];
    if current.line.action != ActionCode::A4 {
        return Err(anyhow!("line {} is not pended", options.line));
    }
    let post = current
        .post
        .and_then(|post| request.posts.get(usize::from(post)))
        .ok_or_else(|| anyhow!("line {} has no post", options.line))?;
    let mut lines: Vec<PostedLine> = request
        .decisions
        .iter()
        .map(|decision| decision.line.clone())
        .collect();
    lines[index] = PostedLine {
        action,
        reason: options.reason.clone(),
        quantity: options.quantity,
    };
    // The reviewer read what the agent read; the outcome is the reviewer's line.
    let salt = CommitmentSalt::random().map_err(|error| anyhow!("{error}"))?;
    let outcome = commit_value(
        crate::agent::DECISION_OUTCOME,
        &salt,
        &(options.trace, options.line, &lines[index]),
    );
    let receipt = chain
        .post_decision(
            &key,
            options.trace,
            lines,
            post.rule_set,
            (post.inputs_commitment, outcome),
        )
        .await?;
    Ok(format!(
        "posted {} line {} {} in {}; outcome salt 0x{}",
        options.trace,
        options.line,
        options.action,
        receipt.transaction_hash,
        hex::encode(salt.as_bytes())
    ))
}
