//! `salus fhir`: HL7 FHIR R4 resources in and out of the consent contract over RPC, with the
//! party's identity directory (`salus_client::fhir`, docs/interop.md). `import consent` maps a
//! Consent to one call, checked whole, prints it with the chain's access decision for every
//! actor it names (`can_access` dry runs), and unless `--dry-run` submits it; `export consent`
//! writes an on-chain consent back as a Consent; `export audit` writes a patient's accounting
//! of disclosures as a Bundle of AuditEvents; `export preauth` a sealed preauthorization's
//! posted decision as a ClaimResponse (with the payer's inbox, its verified opening: services,
//! windows, `preAuthPeriod`). `import claim` maps a Da Vinci PAS Claim to a sealed
//! preauthorization, delivers it sealed into the payer's inbox and posts `submit_sealed`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_client::directory::Directory;
use salus_client::fhir::claim_response::{OpenedLine, PreauthOpening};
use salus_client::fhir::consent::{self, ActorCheck, ConsentPlan, Keys, PeriodOpening};
use salus_client::fhir::{audit, claim, time};
use salus_client::rpc::SalusApiClient;
use salus_client::seal::CommitmentSalt;
use salus_client::{ContractAbi, DryRun, TransactionBuilder};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use super::client::{INCLUSION_TIMEOUT, client_runtime, connect};
use super::keys::{signer, signer_address};
use crate::agent::decision::evaluate;
use crate::agent::run::check_submission;
use crate::agent::submission::{
    inbox_file, open_delivery, records_file, salts_file, seal_delivery,
};
use crate::agent::{
    AgentError, CoverageChain, PayerRecords, Salts, SealedSubmission, SubmissionLine,
};
use crate::gateway::ledger::{call_input, registered_key};
use crate::gateway::reply_secret;

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
    let (_, receipt) = submit_and_wait(
        client,
        key,
        chain_id,
        &options.fuel,
        options.consent,
        input,
        &plan.message,
    )
    .await?;
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
    /// The registry.
    pub registry: Address,
    /// The payer's inbox (the agent's): with it, the opening kept there is verified against
    /// the chain and the services, windows and `preAuthPeriod` written.
    pub inbox: Option<PathBuf>,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

/// `salus fhir export preauth`: a sealed preauthorization's posted decision as a ClaimResponse
/// (`use` `preauthorization`, PAS `reviewAction` per line, `preAuthRef` the trace handle).
///
/// With `--inbox` (the payer, holding the agent's inbox), the opening kept there is verified
/// against the request's commitments first ([`verified_opening`]).
///
/// # Errors
/// An unknown request or a signer without authority over it; an unknown claim type; a node that
/// does not answer; with `--inbox`, an [`OpeningError`] for a missing or tampered opening.
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
    let opening = match &options.inbox {
        Some(inbox) => Some(runtime.block_on(async {
            let (chain, genesis) = super::agent::coverage_chain(
                rpc,
                options.coverage,
                options.registry,
                INCLUSION_TIMEOUT,
            )
            .await?;
            verified_opening(&chain, &genesis, &key, options.trace, inbox).await
        })?),
        None => None,
    };
    let response = salus_client::fhir::claim_response::preauthorization_opened(
        &request,
        &options.claim_type,
        &directory,
        i64::try_from(now).unwrap_or(i64::MAX),
        opening.as_ref(),
    )?;
    write_out(&response, options.out.as_deref())
}

/// What `salus fhir import claim` reads, seals and signs.
#[derive(Debug, Clone)]
pub struct ClaimImportOptions {
    /// The Claim resource (Da Vinci PAS, `use` `preauthorization`).
    pub file: PathBuf,
    /// The signer: the requesting provider (the Claim's `provider`).
    pub from: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The payer's inbox directory: where the sealed submission is delivered.
    pub inbox: PathBuf,
    /// The coverage contract.
    pub coverage: Address,
    /// The registry (the payer's encryption key).
    pub registry: Address,
    /// Map, check with the chain (a dry run of `submit_sealed`) and print; seal, deliver and
    /// submit nothing.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// Fuel limit and price of the transaction.
    pub fuel: crate::commands::client::FuelTerms,
}

/// The sealed submission of a mapped PAS Claim under `trace`.
pub fn submission_of(plan: &claim::PreauthPlan, trace: Hash) -> SealedSubmission {
    SealedSubmission {
        trace_handle: trace,
        payer: plan.payer,
        member: plan.member,
        servicing_npi: plan.servicing_npi.clone(),
        servicing_provider: plan.servicing_provider,
        priority: plan.priority.as_str().to_string(),
        lines: plan
            .lines
            .iter()
            .map(|line| SubmissionLine {
                procedure: line.procedure.clone(),
                modifiers: line.modifiers.clone(),
                quantity: line.quantity,
                from_ms: line.from_ms,
                to_ms: line.to_ms,
                place_of_service: line.place_of_service.clone(),
            })
            .collect(),
        diagnoses: plan.diagnoses.clone(),
        attachment_templates: plan
            .attachments
            .iter()
            .map(|attachment| attachment.template.to_string())
            .collect(),
    }
}

/// `salus fhir import claim`: maps a Da Vinci PAS Claim (`use` `preauthorization`) to a sealed
/// preauthorization (refused whole, naming the element, when any part cannot be sealed
/// exactly), checks `submit_sealed` with a dry run, and unless `--dry-run` seals the
/// submission and its salt to the payer's registered key, delivers it into the payer's inbox
/// (`<handle hex>.sealed`), posts the skeleton `submit_sealed` signed by `--from` and prints the
/// trace handle (with `--json`: the handle, the plan, the submission and the transaction).
///
/// # Errors
/// The typed [`salus_client::fhir::FhirError`] of a refused element; a payer without a
/// registered key; a dry run or transaction the contract refuses (then nothing is delivered);
/// an unreadable file, directory or key; a node that does not answer.
pub fn import_claim(rpc: &str, options: &ClaimImportOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&options.file)
        .with_context(|| format!("reading {}", options.file.display()))?;
    let directory = Directory::load(&options.directory)?;
    let sender = signer_address(&options.from)?;
    let plan = claim::plan(&text, &directory, sender)?;
    let key = signer(&options.from)?;
    let trace = Hash(*CommitmentSalt::random()?.as_bytes());
    let salt = CommitmentSalt::random()?;
    let submission = submission_of(&plan, trace);
    let priority = match plan.priority {
        claim::ReviewPriority::Standard => coverage::Priority::Standard,
        claim::ReviewPriority::Expedited => coverage::Priority::Expedited,
    };
    let input = call_input(
        "submit_sealed",
        (
            trace,
            plan.payer,
            plan.member,
            priority,
            submission.lines.len() as u32,
            submission.commitment(&salt),
        ),
    );
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let payer_key = registered_key(&client, options.registry, plan.payer)
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "the payer {} has no encryption key in the registry to seal to",
                    plan.payer
                )
            })?;
        let dry_run = DryRun::new(options.coverage, input.clone()).signed_for(chain_id, &key);
        let outcome = client.state_call(dry_run).await?;
        if outcome.status != "success" {
            bail!(
                "`submit_sealed` would fail: {}",
                outcome.failure.unwrap_or(outcome.status)
            );
        }
        let mut out = json!({
            "trace": trace.to_string(),
            "sender": sender.to_string(),
            "plan": plan.to_json(),
            "submission": serde_json::to_value(&submission)?,
        });
        if options.dry_run {
            if options.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "submit_sealed {trace} ({} line(s)): would be accepted",
                    submission.lines.len()
                );
            }
            return Ok(());
        }
        let sealed = seal_delivery(&submission, &salt, &payer_key)?;
        std::fs::create_dir_all(&options.inbox)
            .with_context(|| format!("creating {}", options.inbox.display()))?;
        let delivery = inbox_file(&options.inbox, &trace);
        std::fs::write(&delivery, sealed)
            .with_context(|| format!("writing {}", delivery.display()))?;
        let submitted = submit_input(&client, &key, chain_id, options, input).await;
        let transaction = match submitted {
            Ok(transaction) => transaction,
            Err(error) => {
                let _ = std::fs::remove_file(&delivery);
                return Err(error);
            }
        };
        if options.json {
            out["transaction"] = json!(transaction);
            out["delivery"] = json!(delivery.display().to_string());
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else {
            println!("{trace}");
        }
        Ok(())
    })
}

/// Submits `submit_sealed` and waits for its receipt; the transaction hash.
async fn submit_input(
    client: &HttpClient,
    key: &SecretKey,
    chain_id: u64,
    options: &ClaimImportOptions,
    input: Vec<u8>,
) -> anyhow::Result<String> {
    let (hash, _) = submit_and_wait(
        client,
        key,
        chain_id,
        &options.fuel,
        options.coverage,
        input,
        "submit_sealed",
    )
    .await?;
    Ok(hash)
}

/// Signs a call of `contract` with `key` at the account's nonce, submits it and waits for a
/// successful receipt (polling, at most [`INCLUSION_TIMEOUT`]); the hash and the receipt.
/// `message` names the call in errors.
async fn submit_and_wait(
    client: &HttpClient,
    key: &SecretKey,
    chain_id: u64,
    fuel: &crate::commands::client::FuelTerms,
    contract: Address,
    input: Vec<u8>,
    message: &str,
) -> anyhow::Result<(String, salus_client::rpc::ReceiptView)> {
    let account = client
        .state_get_account(key.address().to_string(), None)
        .await?;
    let transaction = TransactionBuilder::new(chain_id, key.clone(), account.nonce)
        .fuel(fuel.limit, fuel.price)
        .call(contract, input);
    let hash = client
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .with_context(|| format!("submitting `{message}`"))?;
    let deadline = Instant::now() + INCLUSION_TIMEOUT;
    let receipt = loop {
        if let Some(receipt) = client.tx_receipt(hash.clone()).await? {
            break receipt;
        }
        if Instant::now() > deadline {
            bail!("`{message}` not included in time");
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    };
    if receipt.status != "success" {
        bail!(
            "`{message}` failed on chain: {}",
            receipt.failure.unwrap_or(receipt.status)
        );
    }
    Ok((hash, receipt))
}

/// Why a request's opening in the payer's inbox cannot be written into a ClaimResponse.
#[derive(Debug, thiserror::Error)]
pub enum OpeningError {
    /// A file of the opening is missing or unreadable.
    #[error("the opening in the inbox: {0}")]
    File(String),
    /// The sealed submission does not open, or does not match the request on chain.
    #[error("the submission in the inbox does not open the request on chain: {0}")]
    Submission(AgentError),
    /// The kept records or salts do not open the decision's `inputs_commitment`.
    #[error("the kept records or salts do not open the decision's inputs_commitment on chain")]
    Inputs,
    /// The kept opening does not give the decision's `outcome_commitment`.
    #[error("the kept opening does not open the decision's outcome_commitment on chain")]
    Outcome,
    /// The rules could not be rerun (the rule set, the member's record).
    #[error("the decision cannot be recomputed: {0}")]
    Rules(AgentError),
}

/// The opening of request `trace` in the payer's inbox (its sealed submission, the salts and
/// the records the agent's decision read), read as the payer `key`, verified against the
/// chain: the submission against `submission_commitment`, and the decision recomputed with the
/// shared rule code against the agent's post's `inputs_commitment` and `outcome_commitment`.
/// Windows and certification numbers are those of lines whose current decision is that post.
///
/// # Errors
/// [`OpeningError`] for a missing or tampered file; the chain's errors.
pub async fn verified_opening(
    chain: &CoverageChain,
    genesis: &Hash,
    key: &SecretKey,
    trace: Hash,
    inbox: &Path,
) -> anyhow::Result<PreauthOpening> {
    let request = chain
        .sealed_request(key, trace)
        .await?
        .ok_or_else(|| anyhow!("no sealed request {trace} on chain"))?;
    let path = inbox_file(inbox, &trace);
    let sealed = std::fs::read(&path)
        .map_err(|error| OpeningError::File(format!("{}: {error}", path.display())))?;
    let secret = reply_secret(key, genesis);
    let (submission, salt) =
        open_delivery(&secret, &sealed, &trace).map_err(OpeningError::Submission)?;
    check_submission(&request, &submission, &salt).map_err(OpeningError::Submission)?;
    let mut lines: Vec<OpenedLine> = submission
        .lines
        .iter()
        .map(|line| OpenedLine {
            procedure: line.procedure.clone(),
            modifiers: line.modifiers.clone(),
            quantity: line.quantity,
            from_ms: line.from_ms,
            to_ms: line.to_ms,
            window: None,
            certification: None,
        })
        .collect();
    let Some(first) = request
        .decisions
        .iter()
        .filter_map(|decision| decision.post)
        .min()
    else {
        return Ok(PreauthOpening { lines });
    };
    let salts = Salts::read(&salts_file(inbox, &trace))
        .map_err(|error| OpeningError::File(error.to_string()))?;
    let records = PayerRecords::read(&records_file(inbox, &trace))
        .map_err(|error| OpeningError::File(error.to_string()))?;
    let post = &request.posts[usize::from(first)];
    let rule_set = chain
        .rules(request.payer, Some(post.rule_set))
        .await?
        .ok_or_else(|| OpeningError::Rules(AgentError::NoRules(post.rule_set.to_string())))?;
    let member = records
        .member(&request.member)
        .map_err(OpeningError::Rules)?;
    let evaluated = evaluate(
        &rule_set,
        &submission,
        request.submission_commitment,
        member,
        records.in_network(&submission.servicing_npi),
    )
    .map_err(OpeningError::Rules)?;
    if evaluated.inputs_commitment(&salts.inputs) != post.inputs_commitment {
        return Err(OpeningError::Inputs.into());
    }
    if evaluated.outcome_commitment(&salts.outcome) != post.outcome_commitment {
        return Err(OpeningError::Outcome.into());
    }
    for ((line, outcome), decision) in lines
        .iter_mut()
        .zip(&evaluated.outcome.lines)
        .zip(&request.decisions)
    {
        if decision.post == Some(first) {
            line.window = outcome.window;
            line.certification = outcome.certification.clone();
        }
    }
    Ok(PreauthOpening { lines })
}
