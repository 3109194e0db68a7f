//! `salus epcis`: GS1 EPCIS 2.0 documents in and out of the supply contract over RPC, with the
//! party's identity directory (`salus_client::epcis`, docs/interop.md). `import` checks the whole
//! document and maps it to supply calls before submitting any, then submits them in order, each
//! waited for; `--dry-run` only prints the calls. `export` writes a unit's or a lot's recorded
//! history as an EPCISDocument (2.0 JSON-LD or 1.2 XML); `dscsa` a shipment's DSCSA view.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Encode;
use salus_client::directory::Directory;
use salus_client::epcis::{self, Plan, SupplyReader};
use salus_client::gs1::{self, Identifier};
use salus_client::rpc::{CallRequest, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_primitives::Address;
use serde_json::{Value, json};

use super::client::{INCLUSION_TIMEOUT, client_runtime, connect};
use super::keys::{signer, signer_address};

/// How often an import polls for a call's receipt.
const RECEIPT_POLL: Duration = Duration::from_millis(100);

/// What `salus epcis import` reads and signs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The EPCIS 2.0 JSON-LD document.
    pub file: PathBuf,
    /// The importing party's key (a key name or `dev:N`).
    pub from: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The supply contract.
    pub supply: Address,
    /// Print the calls only.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// Fuel limit and price of each call.
    pub fuel: crate::commands::client::FuelTerms,
}

/// What `salus epcis export` writes.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// A unit's EPC (`--epc`), else a lot (`--lot`); with `sscc`, a unit that was in the case.
    pub epc: Option<String>,
    /// A case's SSCC (`--sscc`).
    pub sscc: Option<String>,
    /// `GTIN/LOT`, an LGTIN URN or a Digital Link `/01/…/10/…`.
    pub lot: Option<String>,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The supply contract.
    pub supply: Address,
    /// Where to write the document; default: stdout.
    pub out: Option<PathBuf>,
    /// EPCIS 2.0 JSON-LD, or EPCIS 1.2 XML.
    pub format: Format,
}

/// What `salus epcis export` and `salus epcis dscsa` write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON: an EPCIS 2.0 JSON-LD document; the DSCSA view's TI, TH and TS.
    #[default]
    Json,
    /// EPCIS 1.2 XML (`urn:epcglobal:epcis:xsd:1`); the DSCSA view with the GS1 US guideline's
    /// SBDH and master data header.
    Xml,
}

/// The supply contract's views over RPC, through its on-chain ABI.
struct RpcReader {
    runtime: tokio::runtime::Runtime,
    client: HttpClient,
    abi: ContractAbi,
    supply: Address,
}

impl RpcReader {
    /// Connects to the node at `rpc` and reads the supply contract's ABI from the chain.
    fn connect(rpc: &str, supply: Address) -> anyhow::Result<RpcReader> {
        let runtime = client_runtime()?;
        let client = connect(rpc)?;
        let value = runtime
            .block_on(client.contract_abi(supply.to_string()))
            .context("is a node running at the RPC address?")?
            .ok_or_else(|| anyhow!("{supply} has no contract ABI on chain"))?;
        Ok(RpcReader {
            runtime,
            client,
            abi: serde_json::from_value(value)?,
            supply,
        })
    }

    /// The head block's time (ms): when an exported document is created.
    fn head_time_ms(&self) -> anyhow::Result<u64> {
        Ok(self
            .runtime
            .block_on(self.client.chain_head())?
            .timestamp_ms)
    }
}

impl SupplyReader for RpcReader {
    fn view(&self, message: &str, arguments: Value) -> Result<Value, String> {
        let input = self
            .abi
            .encode_call(message, &arguments)
            .map_err(|error| error.to_string())?;
        let request = CallRequest {
            contract: self.supply.to_string(),
            input: format!("0x{}", hex::encode(input)),
            ..CallRequest::default()
        };
        let outcome = self
            .runtime
            .block_on(self.client.state_call(request))
            .map_err(|error| error.to_string())?;
        if outcome.status != "success" {
            return Err(outcome.failure.unwrap_or(outcome.status));
        }
        let data = hex::decode(outcome.return_data.trim_start_matches("0x"))
            .map_err(|error| error.to_string())?;
        self.abi
            .decode_result(message, &data)
            .map_err(|error| error.to_string())
    }
}

fn load_directory(path: &Path) -> anyhow::Result<Directory> {
    Ok(Directory::load(path)?)
}

/// `salus epcis import`: plans the whole document, then (unless `--dry-run`) submits each call
/// signed by `--from` and waits for it; stops at the first failed call, naming its event (the
/// calls before it are recorded).
///
/// # Errors
/// When the document is refused (the typed [`epcis::EpcisError`], naming event and field), the
/// directory or key cannot be read, the node does not answer, or a call fails.
pub fn import(rpc: &str, options: &ImportOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&options.file)
        .with_context(|| format!("reading {}", options.file.display()))?;
    let directory = load_directory(&options.directory)?;
    let sender = signer_address(&options.from)?;
    let reader = RpcReader::connect(rpc, options.supply)?;
    let plan = epcis::plan(&text, &directory, sender, &reader)?;
    // Every call encodes before any is sent.
    let inputs = plan
        .calls
        .iter()
        .map(|call| {
            reader
                .abi
                .encode_call(&call.message, &call.arguments)
                .with_context(|| format!("{}: encoding `{}`", call.event, call.message))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if options.dry_run {
        print_plan(&plan, options.json)?;
        return Ok(());
    }
    let key = signer(&options.from)?;
    let results = reader.runtime.block_on(submit(
        &reader.client,
        key,
        options,
        &plan,
        &reader.abi,
        inputs,
    ))?;
    if options.json {
        let mut out = plan.to_json();
        out["results"] = Value::Array(results);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (call, result) in plan.calls.iter().zip(&results) {
            println!(
                "{}: {} {} → {} ({})",
                call.event, call.event_type, call.biz_step, call.message, result["result"]
            );
        }
    }
    Ok(())
}

fn print_plan(plan: &Plan, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&plan.to_json())?);
        return Ok(());
    }
    for call in &plan.calls {
        println!(
            "{}: {} {} → {} {}",
            call.event, call.event_type, call.biz_step, call.message, call.arguments
        );
    }
    for replaced in &plan.replaced {
        println!(
            "{}: `{}` {} is replaced by the chain's own",
            replaced.event, replaced.field, replaced.value
        );
    }
    Ok(())
}

async fn submit(
    client: &HttpClient,
    key: salus_primitives::SecretKey,
    options: &ImportOptions,
    plan: &Plan,
    abi: &ContractAbi,
    inputs: Vec<Vec<u8>>,
) -> anyhow::Result<Vec<Value>> {
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let account = client
        .state_get_account(key.address().to_string(), None)
        .await?;
    let mut builder = TransactionBuilder::new(info.chain_id, key, account.nonce)
        .fuel(options.fuel.limit, options.fuel.price);
    let mut results = Vec::with_capacity(inputs.len());
    for (call, input) in plan.calls.iter().zip(inputs) {
        let transaction = builder.call(options.supply, input);
        let hash = client
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .with_context(|| format!("{}: submitting `{}`", call.event, call.message))?;
        let deadline = Instant::now() + INCLUSION_TIMEOUT;
        let receipt = loop {
            if let Some(receipt) = client.tx_receipt(hash.clone()).await? {
                break receipt;
            }
            if Instant::now() > deadline {
                bail!("{}: `{}` not included in time", call.event, call.message);
            }
            tokio::time::sleep(RECEIPT_POLL).await;
        };
        if receipt.status != "success" {
            bail!(
                "{}: `{}` failed on chain: {} ({} earlier call(s) of the document are recorded)",
                call.event,
                call.message,
                receipt.failure.unwrap_or(receipt.status),
                results.len()
            );
        }
        let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
        results.push(json!({
            "event": call.event,
            "message": call.message,
            "transaction": hash,
            "result": abi.decode_result(&call.message, &data)?,
        }));
    }
    Ok(results)
}

/// `--epc`: a unit's SGTIN as an EPC URN or Digital Link URI.
fn unit_of(text: &str) -> anyhow::Result<(String, String)> {
    match gs1::parse(text)? {
        Identifier::Sgtin { gtin, serial } => Ok((gtin, serial)),
        other => bail!("--epc {text}: {other} is no unit (a case's history: --sscc)"),
    }
}

/// `--sscc`: a case's SSCC as an EPC URN, a Digital Link URI or its 18 digits.
fn case_of(text: &str) -> anyhow::Result<String> {
    if gs1::valid_key(text, 18) {
        return Ok(text.to_string());
    }
    match gs1::parse(text)? {
        Identifier::Sscc(sscc) => Ok(sscc),
        other => bail!("--sscc {text}: {other} is no case (give its SSCC)"),
    }
}

/// `--lot`: `GTIN/LOT`, an LGTIN URN or a Digital Link `/01/…/10/…`.
fn lot_of(text: &str) -> anyhow::Result<(String, String)> {
    if let Some((gtin, lot)) = text.split_once('/')
        && gs1::valid_key(gtin, 14)
    {
        return Ok((gtin.to_string(), lot.to_string()));
    }
    match gs1::parse(text)? {
        Identifier::Lgtin { gtin, lot } => Ok((gtin, lot)),
        other => bail!("--lot {text}: {other} is no lot (give GTIN/LOT)"),
    }
}

/// `salus epcis export`: the unit's or lot's history as an EPCIS 2.0 document, created at the
/// head block's time.
///
/// # Errors
/// When the identifiers are not a unit or lot, the directory cannot be read, the node does not
/// answer, or the history names a party the directory does not hold.
pub fn export(rpc: &str, options: &ExportOptions) -> anyhow::Result<()> {
    let directory = load_directory(&options.directory)?;
    let reader = RpcReader::connect(rpc, options.supply)?;
    let now = reader.head_time_ms()?;
    let document = match (&options.epc, &options.lot) {
        (inside, None) if options.sscc.is_some() => {
            let sscc = case_of(options.sscc.as_deref().unwrap_or_default())?;
            let inside = inside.as_deref().map(unit_of).transpose()?;
            let inside = inside
                .as_ref()
                .map(|(gtin, serial)| (gtin.as_str(), serial.as_str()));
            epcis::export::export_case(&reader, &directory, &sscc, inside, now)?
        }
        (Some(epc), None) => {
            let (gtin, serial) = unit_of(epc)?;
            epcis::export_unit(&reader, &directory, &gtin, &serial, now)?
        }
        (None, Some(lot)) => {
            let (gtin, lot) = lot_of(lot)?;
            epcis::export_lot(&reader, &directory, &gtin, &lot, now)?
        }
        _ => bail!("give --epc URN, --sscc SSCC or --lot GTIN/LOT"),
    };
    let text = match options.format {
        Format::Json => serde_json::to_string_pretty(&document)?,
        Format::Xml => epcis::xml::to_xml(&document, None)?,
    };
    write_out(options.out.as_deref(), &text)
}

/// Writes `text` to `out`, or prints it.
fn write_out(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    let text = text.trim_end();
    match out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// What `salus epcis dscsa` reads and writes.
#[derive(Debug, Clone)]
pub struct DscsaOptions {
    /// The shipment id.
    pub shipment: u64,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The supply contract.
    pub supply: Address,
    /// JSON (TI, TH, TS) or EPCIS 1.2 XML.
    pub format: Format,
    /// Where to write; default: stdout.
    pub out: Option<PathBuf>,
}

/// `salus epcis dscsa`: the DSCSA view of a shipment — transaction information, history and
/// statement (`salus_client::epcis::dscsa`) — as JSON or as the GS1 US guideline's EPCIS 1.2
/// document, created at the head block's time.
///
/// # Errors
/// The typed [`epcis::dscsa::DscsaError`]: the shipment unknown or a custody move, a party not
/// in the directory (named), a case since unpacked; or the node does not answer.
pub fn dscsa(rpc: &str, options: &DscsaOptions) -> anyhow::Result<()> {
    let directory = load_directory(&options.directory)?;
    let reader = RpcReader::connect(rpc, options.supply)?;
    let view = epcis::dscsa::view(&reader, &directory, options.shipment)?;
    let text = match options.format {
        Format::Json => serde_json::to_string_pretty(&view.to_json())?,
        Format::Xml => {
            let now = reader.head_time_ms()?;
            view.to_xml(&reader, &directory, now)?
        }
    };
    write_out(options.out.as_deref(), &text)
}
