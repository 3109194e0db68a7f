//! The coverage contract as the agent and the verifier use it, over a node's JSON-RPC: the
//! `SealedSubmitted` and `ClaimSubmitted` events addressed to a payer, a sealed request or a
//! claim (a dry run signed by a party that may read it), a published rule set, and
//! `post_decision` and `post_claim_check` signed by the payer.

use std::time::Duration;

use coverage::{PostedLine, RuleSet, SealedRequest};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::{Decode, Encode};
use salus_client::DryRun;
use salus_client::rpc::{EventFilter, ReceiptView, SalusApiClient};
use salus_primitives::{Address, Hash, SecretKey, keccak256};

use super::AgentError;
use crate::gateway::ledger::call_input;
use crate::gateway::{LedgerError, RpcLedger};

/// Most events asked for per page.
const EVENTS_PAGE: u32 = 1000;

/// The coverage contract on one chain.
#[derive(Clone)]
pub struct CoverageChain {
    /// The node.
    pub client: HttpClient,
    /// Its chain id.
    pub chain_id: u64,
    /// The coverage contract.
    pub coverage: Address,
    /// The registry (the payer's encryption key).
    pub registry: Address,
    /// How long a posted decision may take to be included.
    pub inclusion_timeout: Duration,
}

fn unavailable(error: impl std::fmt::Display) -> LedgerError {
    LedgerError::Unavailable(error.to_string())
}

fn decode<T: Decode>(bytes: &[u8]) -> Result<T, LedgerError> {
    T::decode(&mut &bytes[..]).map_err(|error| LedgerError::Undecodable(error.to_string()))
}

/// An indexed field's topic: its SCALE encoding, zero-padded (the contract's `topic_of` for
/// values of 32 bytes or fewer).
fn topic(value: &impl Encode) -> Hash {
    let encoded = value.encode();
    let mut topic = [0u8; 32];
    topic[..encoded.len()].copy_from_slice(&encoded);
    Hash(topic)
}

impl CoverageChain {
    /// Handles of the sealed requests addressed to `payer`, in chain order, from the event
    /// cursor `after` on; the cursor to continue from.
    ///
    /// # Errors
    /// [`LedgerError`] when the node does not answer or an event does not decode.
    pub async fn sealed_submitted(
        &self,
        payer: Address,
        after: Option<String>,
    ) -> Result<(Vec<Hash>, Option<String>), LedgerError> {
        self.handles(b"SealedSubmitted", payer, after, |data| {
            decode::<coverage::SealedSubmitted>(data).map(|event| event.trace_handle)
        })
        .await
    }

    /// Handles of the claims submitted to `payer`, in chain order, from the event cursor
    /// `after` on; the cursor to continue from.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn claims_submitted(
        &self,
        payer: Address,
        after: Option<String>,
    ) -> Result<(Vec<Hash>, Option<String>), LedgerError> {
        self.handles(b"ClaimSubmitted", payer, after, |data| {
            decode::<coverage::ClaimSubmitted>(data).map(|event| event.claim_handle)
        })
        .await
    }

    /// Handles of the claims of `payer` voided or replaced, in chain order, from the event
    /// cursor `after` on; the cursor to continue from.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn claims_withdrawn(
        &self,
        payer: Address,
        after: Option<String>,
    ) -> Result<(Vec<Hash>, Option<String>), LedgerError> {
        self.handles(b"ClaimWithdrawn", payer, after, |data| {
            decode::<coverage::ClaimWithdrawn>(data).map(|event| event.claim_handle)
        })
        .await
    }

    /// The steps of `payer`'s requests (`RequestStep`: trace handle and step name), in chain
    /// order, from the event cursor `after` on; the cursor to continue from.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn request_steps(
        &self,
        payer: Address,
        after: Option<String>,
    ) -> Result<(Vec<(Hash, String)>, Option<String>), LedgerError> {
        self.handles(b"RequestStep", payer, after, |data| {
            decode::<coverage::RequestStep>(data).map(|event| (event.trace_handle, event.step))
        })
        .await
    }

    /// Handles of `payer`'s requests with a decision posted (`DecisionPosted`: by the agent or
    /// a reviewer), in chain order, from the event cursor `after` on; the cursor to continue
    /// from.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn decisions_posted(
        &self,
        payer: Address,
        after: Option<String>,
    ) -> Result<(Vec<Hash>, Option<String>), LedgerError> {
        self.handles(b"DecisionPosted", payer, after, |data| {
            decode::<coverage::DecisionPosted>(data).map(|event| event.trace_handle)
        })
        .await
    }

    /// What the events named `name` with the payer's topic carry.
    async fn handles<T>(
        &self,
        name: &[u8],
        payer: Address,
        after: Option<String>,
        handle: impl Fn(&[u8]) -> Result<T, LedgerError>,
    ) -> Result<(Vec<T>, Option<String>), LedgerError> {
        let signature = keccak256(name);
        let filter = EventFilter {
            contract: self.coverage.to_string(),
            topics: vec![Some(signature.to_string()), Some(topic(&payer).to_string())],
            from_block: None,
            to_block: None,
            after,
            limit: Some(EVENTS_PAGE),
        };
        let page = self
            .client
            .events_query(filter)
            .await
            .map_err(unavailable)?;
        let handles = page
            .events
            .iter()
            .map(|record| {
                let data = hex::decode(record.event.data.trim_start_matches("0x"))
                    .map_err(|error| LedgerError::Undecodable(error.to_string()))?;
                handle(&data)
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        Ok((handles, page.next))
    }

    /// A view of the coverage contract, signed by `reader` when given.
    async fn view(
        &self,
        reader: Option<&SecretKey>,
        message: &str,
        arguments: impl Encode,
    ) -> Result<Vec<u8>, LedgerError> {
        self.view_of(self.coverage, reader, message, arguments)
            .await
    }

    /// The NPI the registry attests for `who` if it is an active provider (practitioner or
    /// provider organisation); `None` otherwise — what the contract checked of a clear
    /// submission's servicing provider, the agent checks of a sealed one.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn attested_provider_npi(&self, who: Address) -> Result<Option<String>, LedgerError> {
        // `Role` is a field-less enum: one byte each (`Practitioner` 1, `ProviderOrganisation` 2).
        let roles: Vec<u8> = decode(
            &self
                .view_of(self.registry, None, "active_roles", (who, None::<u64>))
                .await?,
        )?;
        if !roles.iter().any(|role| matches!(role, 1 | 2)) {
            return Ok(None);
        }
        // `registry::Participant` opens with its roles and its NPI.
        let record: Option<(Vec<u8>, Option<String>)> = decode(
            &self
                .view_of(self.registry, None, "participant", who)
                .await?,
        )?;
        Ok(record.and_then(|(_, npi)| npi))
    }

    /// A view of `contract`, signed by `reader` when given.
    async fn view_of(
        &self,
        contract: Address,
        reader: Option<&SecretKey>,
        message: &str,
        arguments: impl Encode,
    ) -> Result<Vec<u8>, LedgerError> {
        let dry_run = DryRun::new(contract, call_input(message, arguments));
        let request = match reader {
            Some(key) => dry_run.signed_for(self.chain_id, key),
            None => dry_run.unsigned(),
        };
        let outcome = self.client.state_call(request).await.map_err(unavailable)?;
        if outcome.status != "success" {
            return Err(LedgerError::Refused(
                outcome.failure.unwrap_or(outcome.status),
            ));
        }
        hex::decode(outcome.return_data.trim_start_matches("0x"))
            .map_err(|error| LedgerError::Undecodable(error.to_string()))
    }

    /// The sealed request `handle`, read by `reader` (the payer or a reviewer, the requester,
    /// the member).
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when `reader` may not read it; as [`Self::sealed_submitted`].
    pub async fn sealed_request(
        &self,
        reader: &SecretKey,
        handle: Hash,
    ) -> Result<Option<SealedRequest>, LedgerError> {
        decode(&self.view(Some(reader), "sealed_request", handle).await?)
    }

    /// The payer's rule set `version` (the newest when `None`): public.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn rules(
        &self,
        payer: Address,
        version: Option<u32>,
    ) -> Result<Option<RuleSet>, LedgerError> {
        decode(&self.view(None, "rules", (payer, version)).await?)
    }

    /// The claim `handle` with its check, read by `reader` (the payer or a reviewer, the
    /// billing provider).
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when `reader` may not read it; as [`Self::sealed_submitted`].
    pub async fn claim(
        &self,
        reader: &SecretKey,
        handle: Hash,
    ) -> Result<Option<coverage::Claim>, LedgerError> {
        decode(&self.view(Some(reader), "claim", handle).await?)
    }

    /// Posts `post_claim_check` signed by `key` and waits for its inclusion; the receipt.
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when the contract refuses it; as [`Self::sealed_submitted`].
    pub async fn post_claim_check(
        &self,
        key: &SecretKey,
        handle: Hash,
        carcs: Vec<Vec<String>>,
        (inputs_commitment, outcome_commitment): (Hash, Hash),
    ) -> Result<ReceiptView, LedgerError> {
        let ledger = RpcLedger::new(
            self.client.clone(),
            key.clone(),
            self.chain_id,
            (self.registry, self.coverage),
            self.inclusion_timeout,
        );
        let arguments = (handle, carcs, inputs_commitment, outcome_commitment);
        ledger
            .transact(self.coverage, call_input("post_claim_check", arguments))
            .await
    }

    /// The per-code metrics `payer` posted for the period starting at `start_ms`: public.
    ///
    /// # Errors
    /// As [`Self::sealed_submitted`].
    pub async fn period_metrics(
        &self,
        payer: Address,
        start_ms: u64,
    ) -> Result<Option<coverage::MetricsPost>, LedgerError> {
        decode(&self.view(None, "period_metrics", (payer, start_ms)).await?)
    }

    /// Posts `post_metrics` signed by `key` and waits for its inclusion; the receipt.
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when the contract refuses it; as [`Self::sealed_submitted`].
    pub async fn post_metrics(
        &self,
        key: &SecretKey,
        period: coverage::Period,
        aggregates: Vec<coverage::CodeMetrics>,
        decisions_commitment: Hash,
    ) -> Result<ReceiptView, LedgerError> {
        let ledger = RpcLedger::new(
            self.client.clone(),
            key.clone(),
            self.chain_id,
            (self.registry, self.coverage),
            self.inclusion_timeout,
        );
        let arguments = (period, aggregates, decisions_commitment);
        ledger
            .transact(self.coverage, call_input("post_metrics", arguments))
            .await
    }

    /// Posts `decide_extension` granting the pending extension of `handle` under rule set
    /// `rule_set`, signed by `key`, and waits for its inclusion; the receipt.
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when the contract refuses it; as [`Self::sealed_submitted`].
    pub async fn grant_extension(
        &self,
        key: &SecretKey,
        handle: Hash,
        rule_set: u32,
        outcome_commitment: Hash,
    ) -> Result<ReceiptView, LedgerError> {
        let ledger = RpcLedger::new(
            self.client.clone(),
            key.clone(),
            self.chain_id,
            (self.registry, self.coverage),
            self.inclusion_timeout,
        );
        let arguments = (handle, true, None::<String>, rule_set, outcome_commitment);
        ledger
            .transact(self.coverage, call_input("decide_extension", arguments))
            .await
    }

    /// Posts `post_decision` signed by `key` and waits for its inclusion; the receipt.
    ///
    /// # Errors
    /// [`LedgerError::Refused`] when the contract refuses it; as [`Self::sealed_submitted`].
    pub async fn post_decision(
        &self,
        key: &SecretKey,
        handle: Hash,
        lines: Vec<PostedLine>,
        rule_set: u32,
        (inputs_commitment, outcome_commitment): (Hash, Hash),
    ) -> Result<ReceiptView, LedgerError> {
        let ledger = RpcLedger::new(
            self.client.clone(),
            key.clone(),
            self.chain_id,
            (self.registry, self.coverage),
            self.inclusion_timeout,
        );
        let arguments = (
            handle,
            lines,
            rule_set,
            inputs_commitment,
            outcome_commitment,
        );
        ledger
            .transact(self.coverage, call_input("post_decision", arguments))
            .await
    }
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

/// Every page of an event stream from `cursor` on (`fetch(after)` gives a page and the cursor
/// to continue from), `cursor` advanced past the last one, so that the next call reads only
/// what came since.
///
/// # Errors
/// The first page that cannot be read; `cursor` then stays where the pages read so far end.
pub async fn every_page<T, Page>(
    cursor: &mut Option<String>,
    mut fetch: impl FnMut(Option<String>) -> Page,
) -> Result<Vec<T>, LedgerError>
where
    Page: std::future::Future<Output = Result<(Vec<T>, Option<String>), LedgerError>>,
{
    let mut all = Vec::new();
    loop {
        let (page, next) = fetch(cursor.clone()).await?;
        all.extend(page);
        match next {
            Some(next) if Some(&next) != cursor.as_ref() => *cursor = Some(next),
            _ => return Ok(all),
        }
    }
}
