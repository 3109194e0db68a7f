//! The coverage contract as the agent and the verifier use it, over a node's JSON-RPC: the
//! `SealedSubmitted` events addressed to a payer, a sealed request (a dry run signed by a
//! party that may read it), a published rule set, and `post_decision` signed by the payer.

use std::time::Duration;

use coverage::{PostedLine, RuleSet, SealedRequest};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::{Decode, Encode};
use salus_client::DryRun;
use salus_client::rpc::{EventFilter, ReceiptView, SalusApiClient};
use salus_primitives::{Address, Hash, SecretKey, keccak256};

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
        let signature = keccak256(b"SealedSubmitted");
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
                let event: coverage::SealedSubmitted = decode(&data)?;
                Ok(event.trace_handle)
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
        let dry_run = DryRun::new(self.coverage, call_input(message, arguments));
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
