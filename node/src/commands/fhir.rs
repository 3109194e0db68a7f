//! `salus fhir`: HL7 FHIR R4 resources in and out of the consent contract over RPC, with the
//! party's identity directory (`salus_client::fhir`, docs/interop.md). `import consent` maps a
//! Consent to one call, checked whole, prints it with the chain's access decision for every
//! actor it names (`can_access` dry runs), and unless `--dry-run` submits it; `export consent`
//! writes an on-chain consent back as a Consent; `export audit` writes a patient's accounting
//! of disclosures as a Bundle of AuditEvents; `export preauth` a sealed preauthorization's
//! posted decision as a ClaimResponse.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_client::directory::Directory;
use salus_client::fhir::consent::{self, ActorCheck, ConsentPlan, Keys, PeriodOpening};
use salus_client::fhir::{audit, time};
use salus_client::rpc::SalusApiClient;
use salus_client::{ContractAbi, DryRun, TransactionBuilder};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use super::client::{INCLUSION_TIMEOUT, client_runtime, connect};
use super::keys::{signer, signer_address};

/// How often an import polls for its receipt.
const RECEIPT_POLL: Duration = Duration::from_millis(100);

/// Entries read per `accounting` page (the contract's most).
const ACCOUNTING_PAGE: u32 = 100;

/// What `salus fhir import consent` reads and signs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The Consent resource (JSON).
    pub file: PathBuf,
    /// The signer: the patient (its pseudonym's key) or a delegate.
    pub from: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The relationship's blinding key, for security labels and classes.
    pub blinding: Option<[u8; 32]>,
    /// The kept data periods (JSON list of openings): read, and extended with new ones on
    /// submission.
    pub periods: Option<PathBuf>,
    /// A record to ask the decisions about where the consent names none.
    pub record: Option<Hash>,
    /// The consent contract.
    pub consent: Address,
    /// Print the call and the decisions only.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// Fuel limit and price of each transaction.
    pub fuel: crate::commands::client::FuelTerms,
}

/// What `salus fhir export consent` reads.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The consent id.
    pub id: u64,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The relationship's blinding key, to write tags back as codes.
    pub blinding: Option<[u8; 32]>,
    /// The kept data periods, to write commitments back as periods.
    pub periods: Option<PathBuf>,
    /// The consent contract.
    pub consent: Address,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

/// What `salus fhir export audit` reads.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// `Patient/…` (through the directory) or the pseudonym's `0x` address.
    pub patient: String,
    /// Who asks (signs the `accounting` dry run): the patient or a delegate.
    pub from: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// From this FHIR dateTime on (default: the beginning).
    pub since: Option<String>,
    /// Up to the end of this FHIR dateTime (default: no end).
    pub until: Option<String>,
    /// The consent contract.
    pub consent: Address,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

fn contract_abi(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    contract: Address,
) -> anyhow::Result<ContractAbi> {
    let value = runtime
        .block_on(client.contract_abi(contract.to_string()))
        .context("is a node running at the RPC address?")?
        .ok_or_else(|| anyhow!("{contract} has no contract ABI on chain"))?;
    Ok(serde_json::from_value(value)?)
}

fn read_periods(path: Option<&Path>) -> anyhow::Result<Vec<PeriodOpening>> {
    match path {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a list of data periods", path.display()))
        }
        _ => Ok(Vec::new()),
    }
}

/// A view or dry run of `message`, signed by `key` when given; its decoded result.
async fn view(
    client: &HttpClient,
    abi: &ContractAbi,
    contract: Address,
    message: &str,
    arguments: Value,
    key: Option<(&SecretKey, u64)>,
) -> anyhow::Result<Value> {
    let input = abi.encode_call(message, &arguments)?;
    let dry_run = DryRun::new(contract, input);
    let request = match key {
        Some((key, chain_id)) => dry_run.signed_for(chain_id, key),
        None => dry_run.unsigned(),
    };
    let outcome = client.state_call(request).await?;
    if outcome.status != "success" {
        bail!(
            "`{message}` failed: {}",
            outcome.failure.unwrap_or(outcome.status)
        );
    }
    let data = hex::decode(outcome.return_data.trim_start_matches("0x"))?;
    Ok(abi.decode_result(message, &data)?)
}

/// The chain's `can_access` answer for every actor the consent names.
async fn decisions(
    client: &HttpClient,
    abi: &ContractAbi,
    options: &ImportOptions,
    actors: &[ActorCheck],
    key: (&SecretKey, u64),
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(actors.len());
    for check in actors {
        let record = check.record.or(options.record);
        let mut entry = json!({
            "reference": check.reference,
            "address": check.address.to_string(),
            "role": check.role,
            "action": check.action,
            "purpose": check.purpose,
            "record": record.map(|r| r.to_string()),
            "provisionPath": check.provision_path,
        });
        match record {
            Some(record) => {
                let arguments = json!([
                    check.address.to_string(),
                    check.role,
                    check.action,
                    record.to_string(),
                    check.purpose,
                    null,
                    null
                ]);
                entry["decision"] = view(
                    client,
                    abi,
                    options.consent,
                    "can_access",
                    arguments,
                    Some(key),
                )
                .await?;
            }
            None => {
                entry["decision"] = Value::Null;
                entry["note"] =
                    json!("the consent names no record: give --record to ask about one");
            }
        }
        out.push(entry);
    }
    Ok(out)
}

/// `salus fhir import consent`: maps the Consent (refused whole, naming the element, when any
/// part cannot be expressed exactly), asks the chain's decision for every actor it names, and
/// unless `--dry-run` submits the call signed by `--from` and prints the consent id (with
/// `--json`: the plan, the decisions before, the id and the decisions after).
///
/// # Errors
/// The typed [`salus_client::fhir::FhirError`] of a refused element; an unreadable file,
/// directory or key; a node that does not answer; a call that fails on chain.
pub fn import(rpc: &str, options: &ImportOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&options.file)
        .with_context(|| format!("reading {}", options.file.display()))?;
    let directory = Directory::load(&options.directory)?;
    let kept = read_periods(options.periods.as_deref())?;
    let sender = signer_address(&options.from)?;
    let keys = Keys {
        directory: &directory,
        blinding: options.blinding.as_ref(),
        periods: &kept,
    };
    let plan = consent::plan(&text, keys, sender)?;
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let abi = contract_abi(&runtime, &client, options.consent)?;
    let input = abi
        .encode_call(&plan.message, &plan.arguments)
        .with_context(|| format!("encoding `{}`", plan.message))?;
    let key = signer(&options.from)?;
    runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let before = decisions(&client, &abi, options, &plan.actors, (&key, chain_id)).await?;
        let mut out = plan.to_json();
        out["sender"] = json!(sender.to_string());
        out["decisions"] = Value::Array(before);
        if options.dry_run {
            print_plan(&plan, &out, options.json)?;
            return Ok(());
        }
        let id = submit(&client, &key, chain_id, options, &plan, &abi, input).await?;
        if let Some(path) = &options.periods {
            let mut all = kept.clone();
            for opening in &plan.periods {
                if !all.contains(opening) {
                    all.push(opening.clone());
                }
            }
            write_private(path, &serde_json::to_vec_pretty(&all)?)?;
        }
        if options.json {
            out["consent"] = json!(id.to_string());
            out["decisionsAfter"] = Value::Array(
                decisions(&client, &abi, options, &plan.actors, (&key, chain_id)).await?,
            );
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else {
            println!("{id}");
        }
        Ok(())
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    crate::keystore::write_private_file(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

fn print_plan(plan: &ConsentPlan, out: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
        return Ok(());
    }
    println!("{} {}", plan.message, plan.arguments);
    for decision in out["decisions"].as_array().into_iter().flatten() {
        println!(
            "{} as {} ({} for {}): {}",
            decision["reference"].as_str().unwrap_or_default(),
            decision["role"].as_str().unwrap_or_default(),
            decision["action"].as_str().unwrap_or_default(),
            decision["purpose"].as_str().unwrap_or_default(),
            decision["decision"]
        );
    }
    for path in &plan.not_recorded {
        println!("{path}: read, not recorded on chain");
    }
    Ok(())
}

async fn submit(
    client: &HttpClient,
    key: &SecretKey,
    chain_id: u64,
    options: &ImportOptions,
    plan: &ConsentPlan,
    abi: &ContractAbi,
    input: Vec<u8>,
) -> anyhow::Result<u64> {
    let account = client
        .state_get_account(key.address().to_string(), None)
        .await?;
    let transaction = TransactionBuilder::new(chain_id, key.clone(), account.nonce)
        .fuel(options.fuel.limit, options.fuel.price)
        .call(options.consent, input);
    let hash = client
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .with_context(|| format!("submitting `{}`", plan.message))?;
    let deadline = Instant::now() + INCLUSION_TIMEOUT;
    let receipt = loop {
        if let Some(receipt) = client.tx_receipt(hash.clone()).await? {
            break receipt;
        }
        if Instant::now() > deadline {
            bail!("`{}` not included in time", plan.message);
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    };
    if receipt.status != "success" {
        bail!(
            "`{}` failed on chain: {}",
            plan.message,
            receipt.failure.unwrap_or(receipt.status)
        );
    }
    let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
    let result = abi.decode_result(&plan.message, &data)?;
    let id = result
        .get("Ok")
        .unwrap_or(&result)
        .as_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| anyhow!("`{}` returned {result}", plan.message))?;
    Ok(id)
}

fn write_out(document: &Value, out: Option<&Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(document)?;
    match out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// `salus fhir export consent`: the consent `id` as a FHIR R4 Consent.
///
/// # Errors
/// An unknown consent; a tag or data period the keys cannot open, or an address the directory
/// cannot name ([`salus_client::fhir::FhirError`]); a node that does not answer.
pub fn export_consent(rpc: &str, options: &ExportOptions) -> anyhow::Result<()> {
    let directory = Directory::load(&options.directory)?;
    let kept = read_periods(options.periods.as_deref())?;
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let abi = contract_abi(&runtime, &client, options.consent)?;
    let found = runtime.block_on(view(
        &client,
        &abi,
        options.consent,
        "consent",
        json!([options.id.to_string()]),
        None,
    ))?;
    if found.is_null() {
        bail!("no consent {} on chain", options.id);
    }
    let keys = Keys {
        directory: &directory,
        blinding: options.blinding.as_ref(),
        periods: &kept,
    };
    let resource = consent::export(&found, keys)?;
    write_out(&resource, options.out.as_deref())
}

/// `salus fhir export audit`: the patient's accounting of disclosures (consent's
/// `accounting`, a dry run signed by `--from`, read a page at a time) as a Bundle of
/// AuditEvents.
///
/// # Errors
/// An unknown patient or bad dates; a signer who is neither the patient nor a delegate; a node
/// that does not answer.
pub fn export_audit(rpc: &str, options: &AuditOptions) -> anyhow::Result<()> {
    let directory = Directory::load(&options.directory)?;
    let patient: Address = if options.patient.starts_with("Patient/") {
        directory.patient(&options.patient)?.pseudonym
    } else {
        options.patient.parse().map_err(|_| {
            anyhow!(
                "--patient {}: give Patient/… or a 0x address",
                options.patient
            )
        })?
    };
    let span = |text: &Option<String>, name: &str| -> anyhow::Result<Option<(i64, i64)>> {
        text.as_ref()
            .map(|t| {
                time::parse_span(t).ok_or_else(|| anyhow!("--{name} {t}: not a FHIR dateTime"))
            })
            .transpose()
    };
    let from_ms = span(&options.since, "since")?.map_or(0, |(start, _)| start.max(0) as u64);
    let to_ms = span(&options.until, "until")?.map_or(u64::MAX, |(_, end)| (end.max(1) - 1) as u64);
    let key = signer(&options.from)?;
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let abi = contract_abi(&runtime, &client, options.consent)?;
    let (entries, now) = runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let mut entries: Vec<Value> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let arguments = json!([
                patient.to_string(),
                from_ms.to_string(),
                to_ms.to_string(),
                after,
                ACCOUNTING_PAGE
            ]);
            let page = view(
                &client,
                &abi,
                options.consent,
                "accounting",
                arguments,
                Some((&key, chain_id)),
            )
            .await?;
            let page = page.get("Ok").cloned().unwrap_or(page);
            let items = page.as_array().cloned().unwrap_or_default();
            let last = items
                .last()
                .and_then(|entry| entry["sequence"].as_str().map(str::to_string));
            let full = items.len() == ACCOUNTING_PAGE as usize;
            entries.extend(items);
            match last {
                Some(sequence) if full => after = Some(sequence),
                _ => break,
            }
        }
        let now = client.chain_head().await?.timestamp_ms;
        anyhow::Ok((entries, now))
    })?;
    let document = audit::bundle(
        &entries,
        &patient,
        &options.consent,
        &directory,
        i64::try_from(now).unwrap_or(i64::MAX),
    )?;
    write_out(&document, options.out.as_deref())
}

/// What `salus fhir export preauth` reads.
#[derive(Debug, Clone)]
pub struct PreauthOptions {
    /// The request's trace handle.
    pub trace: Hash,
    /// Who asks (signs the `sealed_request` dry run): the requester, the member's pseudonym, the
    /// payer or a reviewer.
    pub from: String,
    /// The claim's type (`claim-type`), from the submission: the chain does not hold it.
    pub claim_type: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The coverage contract.
    pub coverage: Address,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

/// `salus fhir export preauth`: a sealed preauthorization's posted decision as a ClaimResponse
/// (`use` `preauthorization`, PAS `reviewAction` per line, `preAuthRef` the trace handle).
///
/// # Errors
/// An unknown request or a signer without authority over it; an unknown claim type; a node that
/// does not answer.
pub fn export_preauth(rpc: &str, options: &PreauthOptions) -> anyhow::Result<()> {
    let directory = Directory::load(&options.directory)?;
    let key = signer(&options.from)?;
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let abi = contract_abi(&runtime, &client, options.coverage)?;
    let (request, now) = runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let found = view(
            &client,
            &abi,
            options.coverage,
            "sealed_request",
            json!([options.trace.to_string()]),
            Some((&key, chain_id)),
        )
        .await?;
        let now = client.chain_head().await?.timestamp_ms;
        anyhow::Ok((found.get("Ok").cloned().unwrap_or(found), now))
    })?;
    if request.is_null() {
        bail!("no sealed request {} on chain", options.trace);
    }
    let response = salus_client::fhir::claim_response::preauthorization(
        &request,
        &options.claim_type,
        &directory,
        i64::try_from(now).unwrap_or(i64::MAX),
    )?;
    write_out(&response, options.out.as_deref())
}
