//! `salus scenario`: loads a dev chain with a small healthcare story — consents and a denied
//! access, a drug unit's journey and a recall, preauthorizations decided, pended and overdue —
//! as real signed transactions from the dev accounts, so that the console (and anyone trying
//! Salus) has something to show. Prints what it made as JSON (ids and addresses by name).

mod consent;
mod coverage;
mod supply;

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_client::rpc::{CallRequest, ReceiptView, SalusApiClient};
use salus_client::{ContractAbi, DEV_MNEMONIC, TransactionBuilder, derive_key};
use salus_primitives::{Address, SecretKey};
use serde_json::Value;

use super::client::{client_runtime, connect};
use crate::genesis::{
    DEV_CONSENT_ADDRESS, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS, DEV_SUPPLY_ADDRESS,
};

/// Longest wait for one transaction's receipt.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Fuel limit of every scenario transaction (the dev chain's price is the minimum).
const FUEL_LIMIT: u64 = 50_000_000;

/// A day in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// How long the story's registrations last.
const REGISTRATION_DAYS: u64 = 3650;

/// Who a participant is in the registry: its roles and the identifiers they need.
#[derive(Default)]
pub struct Registration<'a> {
    /// Its roles (`Practitioner`, `Manufacturer`, …).
    pub roles: &'a [&'a str],
    /// Its NPI (providers).
    pub npi: Option<&'a str>,
    /// Its GLN (supply-chain parties).
    pub gln: Option<&'a str>,
    /// Its GS1 company prefix (manufacturers).
    pub company_prefix: Option<&'a str>,
}

/// The dev chain the story is told on: its RPC, chain id and the contracts' ABIs.
pub struct Scenario {
    client: HttpClient,
    chain_id: u64,
    abis: std::collections::HashMap<Address, ContractAbi>,
}

/// The genesis contracts of a dev chain.
pub struct Contracts;

impl Contracts {
    /// The registry.
    pub const REGISTRY: Address = DEV_REGISTRY_ADDRESS;
    /// Consent.
    pub const CONSENT: Address = DEV_CONSENT_ADDRESS;
    /// Supply.
    pub const SUPPLY: Address = DEV_SUPPLY_ADDRESS;
    /// Coverage.
    pub const COVERAGE: Address = DEV_COVERAGE_ADDRESS;
}

impl Scenario {
    /// Dev account `index`'s key (the public test mnemonic).
    pub fn key(index: u32) -> SecretKey {
        derive_key(DEV_MNEMONIC, index).expect("the dev mnemonic derives")
    }

    /// The node's RPC client.
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The chain id (for signing).
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// A contract's ABI, read from its code on chain once.
    ///
    /// # Errors
    /// When the node does not answer or the address has no ABI.
    pub async fn abi(&mut self, contract: Address) -> anyhow::Result<&ContractAbi> {
        if !self.abis.contains_key(&contract) {
            let value = self
                .client
                .contract_abi(contract.to_string())
                .await?
                .ok_or_else(|| anyhow!("{contract} has no contract ABI on chain"))?;
            self.abis.insert(contract, serde_json::from_value(value)?);
        }
        Ok(&self.abis[&contract])
    }

    /// Signs `message(arguments)` on `contract` with `key`, submits it, mines until it is
    /// included (`dev_mine`) and returns its receipt, whatever its status.
    ///
    /// # Errors
    /// When the arguments do not encode, or the node refuses or does not include it.
    pub async fn try_call(
        &mut self,
        key: &SecretKey,
        contract: Address,
        message: &str,
        arguments: Value,
    ) -> anyhow::Result<ReceiptView> {
        let input = self
            .abi(contract)
            .await?
            .encode_call(message, &arguments)
            .with_context(|| format!("encoding `{message}`"))?;
        let account = self
            .client
            .state_get_account(key.address().to_string(), None)
            .await?;
        let transaction = TransactionBuilder::new(self.chain_id, key.clone(), account.nonce)
            .fuel(FUEL_LIMIT, 1)
            .call(contract, input);
        let hash = self
            .client
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .with_context(|| format!("submitting `{message}`"))?;
        let deadline = Instant::now() + INCLUSION_TIMEOUT;
        loop {
            if let Some(receipt) = self.client.tx_receipt(hash.clone()).await? {
                return Ok(receipt);
            }
            if Instant::now() > deadline {
                bail!("`{message}` ({hash}) was not included in time");
            }
            self.client.dev_mine(1).await?;
        }
    }

    /// As [`Scenario::try_call`], and the call must succeed; its receipt.
    ///
    /// # Errors
    /// As `try_call`, and when the call failed (naming the message and the reason).
    pub async fn call(
        &mut self,
        key: &SecretKey,
        contract: Address,
        message: &str,
        arguments: Value,
    ) -> anyhow::Result<ReceiptView> {
        let receipt = self.try_call(key, contract, message, arguments).await?;
        if receipt.status != "success" {
            bail!(
                "`{message}` failed: {}",
                receipt.failure.clone().unwrap_or(receipt.status)
            );
        }
        Ok(receipt)
    }

    /// The result of view `message(arguments)` on `contract`, unsigned (as the zero address).
    ///
    /// # Errors
    /// When the node does not answer or the view fails.
    pub async fn view(
        &mut self,
        contract: Address,
        message: &str,
        arguments: Value,
    ) -> anyhow::Result<Value> {
        let input = self.abi(contract).await?.encode_call(message, &arguments)?;
        let outcome = self
            .client
            .state_call(CallRequest {
                contract: contract.to_string(),
                input: format!("0x{}", hex::encode(input)),
                ..CallRequest::default()
            })
            .await?;
        if outcome.status != "success" {
            bail!(
                "view `{message}` failed: {}",
                outcome.failure.unwrap_or(outcome.status)
            );
        }
        let data = hex::decode(outcome.return_data.trim_start_matches("0x"))?;
        Ok(self.abi(contract).await?.decode_result(message, &data)?)
    }

    /// Registers `who` as `registration` says, by the registry's authority (dev account 0), for
    /// ten years from `now_ms` — unless the registry lists it already (the story may be told
    /// twice on one chain).
    ///
    /// # Errors
    /// When the registry refuses or the node does not answer.
    pub async fn register(
        &mut self,
        who: Address,
        registration: Registration<'_>,
        now_ms: u64,
    ) -> anyhow::Result<()> {
        let address = who.to_string();
        let known = self
            .view(
                Contracts::REGISTRY,
                "participant",
                serde_json::json!([address]),
            )
            .await?;
        if !known.is_null() {
            return Ok(());
        }
        let licence = salus_primitives::hash::keccak256_concat(&[
            b"salus scenario licence",
            address.as_bytes(),
        ]);
        self.call(
            &Scenario::key(0),
            Contracts::REGISTRY,
            "register",
            serde_json::json!([
                address,
                registration.roles,
                registration.npi,
                registration.gln,
                registration.company_prefix,
                "0",
                (now_ms + REGISTRATION_DAYS * DAY_MS).to_string(),
                licence.to_string(),
            ]),
        )
        .await
        .with_context(|| format!("registering {address} as {:?}", registration.roles))?;
        Ok(())
    }

    /// The decoded return value of `message` on `contract` in `receipt`.
    ///
    /// # Errors
    /// When the return data does not decode as the message's result.
    pub async fn result(
        &mut self,
        contract: Address,
        message: &str,
        receipt: &ReceiptView,
    ) -> anyhow::Result<Value> {
        let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
        self.abi(contract)
            .await?
            .decode_result(message, &data)
            .with_context(|| format!("decoding `{message}`'s result"))
    }

    /// Moves the dev chain's clock forward by `ms` (for deadlines) and mines a block at the
    /// new time.
    ///
    /// # Errors
    /// When the node refuses (not a dev chain).
    pub async fn advance_clock(&self, ms: u64) -> anyhow::Result<()> {
        self.client.dev_increase_time(ms).await?;
        self.client.dev_mine(1).await?;
        Ok(())
    }
}

/// `salus scenario`: tells the story on the dev chain at `rpc` and prints what it made.
///
/// # Errors
/// When the node is not a dev chain, or any step fails (naming it).
pub fn run(rpc: &str) -> anyhow::Result<()> {
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let made = runtime.block_on(async move {
        let info = client
            .node_info()
            .await
            .context("is a dev node running at the RPC address? (scripts/dev.sh)")?;
        if !info.dev {
            bail!("`salus scenario` writes to dev chains only; {rpc} is not one");
        }
        let mut scenario = Scenario {
            client,
            chain_id: info.chain_id,
            abis: std::collections::HashMap::new(),
        };
        let consent = consent::load(&mut scenario)
            .await
            .context("the consent story")?;
        let supply = supply::load(&mut scenario)
            .await
            .context("the supply story")?;
        let coverage = coverage::load(&mut scenario)
            .await
            .context("the coverage story")?;
        anyhow::Ok(serde_json::json!({
            "consent": consent,
            "supply": supply,
            "coverage": coverage,
        }))
    })?;
    println!("{}", serde_json::to_string_pretty(&made)?);
    Ok(())
}
