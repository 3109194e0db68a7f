//! What the gateway asks of the chain, as one narrow trait ([`Ledger`]), and its implementation
//! over a node's JSON-RPC ([`RpcLedger`]): the registry's standing and encryption keys, consent's
//! `can_access` dry run at the head, and `record_disclosure` signed by the custodian and waited
//! for.
//!
//! Calls are encoded and results decoded as SCALE against mirrors of the contracts' types
//! (`selector(message) ‖ SCALE(arguments)`), so that the gateway does not depend on the
//! contracts' JSON rendering; a change of those types is caught by the end-to-end tests.

use std::future::Future;
use std::time::{Duration, Instant};

use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::{Decode, Encode};
use salus_client::TransactionBuilder;
use salus_client::rpc::{CallRequest, SalusApiClient};
use salus_primitives::{Address, Hash, SecretKey};

use super::request::{GatewayRequest, ReplyKey};

/// A consent decision as the contract returns it (`consent::AccessDecision`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AccessDecision {
    /// Permit or deny.
    pub decision: Decision,
    /// The deciding consent and version, if any.
    pub consent: Option<(u64, u32)>,
    /// Path of the deciding provision (child indexes from the root).
    pub provision_path: Vec<u8>,
    /// Why.
    pub reason: String,
    /// The break-glass session that permitted it, if any.
    pub break_glass: Option<u64>,
}

impl AccessDecision {
    /// Whether it permits.
    pub fn permits(&self) -> bool {
        self.decision == Decision::Permit
    }
}

/// `consent::Decision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Decision {
    /// Allowed.
    Permit,
    /// Refused.
    Deny,
}

/// `consent::PeriodAnswer`: the custodian's answer for one data-period commitment — whether
/// the record's date is inside that period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PeriodAnswer {
    /// The provision's `data_period_commitment`.
    pub commitment: Hash,
    /// Whether the record's date is inside the period.
    pub inside: bool,
}

/// `consent::Action`, in its declaration order (the SCALE index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
enum Action {
    _Collect,
    _Access,
    _Use,
    Disclose,
    _Correct,
}

/// `registry::EncryptionKey`.
#[derive(Decode)]
struct EncryptionKey {
    version: u32,
    public_key: Hash,
    _set_at_ms: u64,
    _retired_at_ms: Option<u64>,
}

/// A release recorded on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disclosure {
    /// The contract's decision at the including block.
    pub decision: AccessDecision,
    /// The `record_disclosure` transaction.
    pub transaction: String,
    /// Its block.
    pub block: u64,
}

/// Why the chain could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The node did not answer, or answered an error.
    #[error("the node: {0}")]
    Unavailable(String),
    /// A call or the disclosure transaction failed (a contract error, out of fuel, …).
    #[error("the contract refused: {0}")]
    Refused(String),
    /// The transaction (a disclosure, a decision, a dispensing, …) was not included before the
    /// deadline.
    #[error("the transaction was not included within {0} s")]
    NotIncluded(u64),
    /// An answer did not decode as the contract's type.
    #[error("an answer of the contract does not decode: {0}")]
    Undecodable(String),
}

/// What the gateway needs of the chain.
pub trait Ledger: Send + Sync + 'static {
    /// Whether `who` is a registered participant in good standing and licensed now (it holds
    /// an active role).
    fn is_active(&self, who: Address) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// `who`'s current registered encryption key, if any (retired keys are none).
    fn encryption_key(
        &self,
        who: Address,
    ) -> impl Future<Output = Result<Option<ReplyKey>, LedgerError>> + Send;

    /// Consent's `can_access(requester, role, Disclose, record, purpose, now, answers)` at the
    /// head, `answers` being the custodian's attestation of the record's date against each data
    /// period it holds for the patient (PRIVACY.md §5.4): a provision whose commitment is not
    /// among them matches if it denies and never if it permits.
    fn can_access(
        &self,
        request: &GatewayRequest,
        answers: &[PeriodAnswer],
    ) -> impl Future<Output = Result<AccessDecision, LedgerError>> + Send;

    /// Submits `record_disclosure(record, requester, role, purpose, request_hash, answers)`
    /// signed by the custodian (the same date attestation as for `can_access`) and waits for
    /// its inclusion.
    fn record_disclosure(
        &self,
        request: &GatewayRequest,
        request_hash: Hash,
        answers: &[PeriodAnswer],
    ) -> impl Future<Output = Result<Disclosure, LedgerError>> + Send;
}

/// Fuel limit of a `record_disclosure` transaction: a `record_access` costs about 85,000 plus
/// the registry calls; a hundred times that leaves room for large consents.
const DISCLOSURE_FUEL: u64 = 20_000_000;

/// How often the receipt is asked for while waiting for inclusion.
const RECEIPT_POLL: Duration = Duration::from_millis(100);

/// [`Ledger`] over a node's JSON-RPC, signing as the custodian.
pub struct RpcLedger {
    client: HttpClient,
    custodian: SecretKey,
    chain_id: u64,
    registry: Address,
    consent: Address,
    inclusion_timeout: Duration,
    /// The custodian's next nonce as this gateway knows it (the node's account nonce counts
    /// only included transactions); taken while a transaction is signed and submitted.
    next_nonce: tokio::sync::Mutex<Option<u64>>,
}

impl RpcLedger {
    /// A ledger on the node `client` serves (chain `chain_id`), for the contracts at `registry`
    /// and `consent`, submitting as `custodian` and waiting at most `inclusion_timeout`.
    pub fn new(
        client: HttpClient,
        custodian: SecretKey,
        chain_id: u64,
        (registry, consent): (Address, Address),
        inclusion_timeout: Duration,
    ) -> RpcLedger {
        RpcLedger {
            client,
            custodian,
            chain_id,
            registry,
            consent,
            inclusion_timeout,
            next_nonce: tokio::sync::Mutex::new(None),
        }
    }

    async fn view(
        &self,
        contract: Address,
        message: &str,
        arguments: impl Encode,
    ) -> Result<Vec<u8>, LedgerError> {
        view(&self.client, contract, message, arguments).await
    }

    /// Signs `input` to `contract` with the custodian's next nonce and submits it; its hash.
    async fn submit(&self, contract: Address, input: Vec<u8>) -> Result<String, LedgerError> {
        let unavailable =
            |error: jsonrpsee::core::ClientError| LedgerError::Unavailable(error.to_string());
        let mut next_nonce = self.next_nonce.lock().await;
        let on_chain = self
            .client
            .state_get_account(self.custodian.address().to_string(), None)
            .await
            .map_err(unavailable)?
            .nonce;
        let nonce = next_nonce.map_or(on_chain, |known| known.max(on_chain));
        let mut builder = TransactionBuilder::new(self.chain_id, self.custodian.clone(), nonce)
            .fuel(DISCLOSURE_FUEL, 1);
        let transaction = builder.call(contract, input);
        let submitted = self
            .client
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await;
        match submitted {
            Ok(hash) => {
                *next_nonce = Some(nonce + 1);
                Ok(hash)
            }
            Err(error) => {
                // The pool refused it: ask the chain again next time.
                *next_nonce = None;
                Err(unavailable(error))
            }
        }
    }
}

impl RpcLedger {
    /// Signs and submits a call of `contract` as the custodian and waits for its inclusion (at
    /// most the inclusion timeout, polling the receipt); the receipt of a successful call.
    ///
    /// # Errors
    /// [`LedgerError::Refused`] for a failed call, [`LedgerError::NotIncluded`] past the
    /// deadline, [`LedgerError::Unavailable`] when the node does not answer.
    pub async fn transact(
        &self,
        contract: Address,
        input: Vec<u8>,
    ) -> Result<salus_client::rpc::ReceiptView, LedgerError> {
        let hash = self.submit(contract, input).await?;
        let deadline = Instant::now() + self.inclusion_timeout;
        let receipt = loop {
            let receipt = self
                .client
                .tx_receipt(hash.clone())
                .await
                .map_err(|error| LedgerError::Unavailable(error.to_string()))?;
            if let Some(receipt) = receipt {
                break receipt;
            }
            if Instant::now() >= deadline {
                return Err(LedgerError::NotIncluded(self.inclusion_timeout.as_secs()));
            }
            tokio::time::sleep(RECEIPT_POLL).await;
        };
        if receipt.status != "success" {
            return Err(LedgerError::Refused(
                receipt.failure.unwrap_or(receipt.status),
            ));
        }
        Ok(receipt)
    }
}

/// `who`'s current encryption key in the registry at `registry`, read on the node `client`
/// serves (the registry's `encryption_key` view).
///
/// # Errors
/// As [`Ledger::encryption_key`].
pub async fn registered_key(
    client: &HttpClient,
    registry: Address,
    who: Address,
) -> Result<Option<ReplyKey>, LedgerError> {
    let key: Option<EncryptionKey> = decode(&view(client, registry, "encryption_key", who).await?)?;
    Ok(key.map(|key| ReplyKey {
        public_key: key.public_key.0,
        version: key.version,
    }))
}

/// A view (unsigned dry run at the head) of `contract`; its return data.
async fn view(
    client: &HttpClient,
    contract: Address,
    message: &str,
    arguments: impl Encode,
) -> Result<Vec<u8>, LedgerError> {
    let request = CallRequest {
        contract: contract.to_string(),
        input: format!("0x{}", hex::encode(call_input(message, arguments))),
        ..CallRequest::default()
    };
    let outcome = client
        .state_call(request)
        .await
        .map_err(|error| LedgerError::Unavailable(error.to_string()))?;
    if outcome.status != "success" {
        return Err(LedgerError::Refused(
            outcome.failure.unwrap_or(outcome.status),
        ));
    }
    hex::decode(outcome.return_data.trim_start_matches("0x"))
        .map_err(|error| LedgerError::Undecodable(error.to_string()))
}

/// `selector(message) ‖ SCALE(arguments)`: the input of a contract call.
pub fn call_input(message: &str, arguments: impl Encode) -> Vec<u8> {
    let mut input = salus_abi::selector(message).to_vec();
    arguments.encode_to(&mut input);
    input
}

fn decode<T: Decode>(bytes: &[u8]) -> Result<T, LedgerError> {
    T::decode(&mut &bytes[..]).map_err(|error| LedgerError::Undecodable(error.to_string()))
}

impl Ledger for RpcLedger {
    async fn is_active(&self, who: Address) -> Result<bool, LedgerError> {
        // `Role` is a field-less enum: one byte each.
        let roles: Vec<u8> = decode(
            &self
                .view(self.registry, "active_roles", (who, None::<u64>))
                .await?,
        )?;
        Ok(!roles.is_empty())
    }

    async fn encryption_key(&self, who: Address) -> Result<Option<ReplyKey>, LedgerError> {
        registered_key(&self.client, self.registry, who).await
    }

    async fn can_access(
        &self,
        request: &GatewayRequest,
        answers: &[PeriodAnswer],
    ) -> Result<AccessDecision, LedgerError> {
        let arguments = (
            request.requester,
            request.role.clone(),
            Action::Disclose,
            request.record,
            request.purpose.clone(),
            None::<u64>,
            Some(answers.to_vec()),
        );
        decode(&self.view(self.consent, "can_access", arguments).await?)
    }

    async fn record_disclosure(
        &self,
        request: &GatewayRequest,
        request_hash: Hash,
        answers: &[PeriodAnswer],
    ) -> Result<Disclosure, LedgerError> {
        let arguments = (
            request.record,
            request.requester,
            request.role.clone(),
            request.purpose.clone(),
            request_hash,
            Some(answers.to_vec()),
        );
        let receipt = self
            .transact(self.consent, call_input("record_disclosure", arguments))
            .await?;
        let data = hex::decode(receipt.return_data.trim_start_matches("0x"))
            .map_err(|error| LedgerError::Undecodable(error.to_string()))?;
        Ok(Disclosure {
            decision: decode(&data)?,
            transaction: receipt.transaction_hash,
            block: receipt.block_number,
        })
    }
}
