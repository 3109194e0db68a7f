//! `salus agent payer`: the payer's agent (docs/PRIVACY.md §5.5) — polls the coverage
//! contract's `SealedSubmitted` events addressed to the payer, opens each sealed submission from
//! the inbox, decides every line with the published rules against the payer's records and posts
//! `post_decision` with the commitments (`crate::agent`). `--once` does one pass and exits.

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
    let mut agent = Agent::new(
        chain,
        AgentOptions {
            key,
            genesis,
            inbox: options.inbox.clone(),
            records: options.records.clone(),
        },
    );
    loop {
        for handled in agent.pass().await? {
            println!("{handled}");
        }
        if options.once {
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
