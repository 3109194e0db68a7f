//! The RPC client commands of `salus`: transactions (`salus tx`), dry runs (`salus call`),
//! queries, events and ABIs, all over JSON-RPC, with JSON arguments encoded through the
//! contract's on-chain ABI, signed by the keys of [`super::keys`].

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, ReceiptView, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_primitives::{Address, Hash};

use serde_json::{Value, json};

use super::keys::signer;

/// The default RPC endpoint: `salus dev`'s.
pub const DEFAULT_RPC: &str = "http://127.0.0.1:8650";
/// How long `salus tx` waits for inclusion before giving up.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);
/// Fuel limit of CLI transactions unless `--fuel` says otherwise: enough to deploy a 100 KB
/// contract.
pub const DEFAULT_FUEL: u64 = 60_000_000;

/// The cookie file named by `--rpc-cookie` / `SALUS_RPC_COOKIE`, for every client command of
/// this process.
static RPC_COOKIE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Sends the token in `path` to the node with every request of this process (`--rpc-cookie`).
pub fn use_rpc_cookie(path: std::path::PathBuf) {
    let _ = RPC_COOKIE.set(path);
}

/// Whether an RPC URL names this machine (`localhost` or a loopback address).
fn is_local_endpoint(rpc: &str) -> bool {
    let rest = rpc.split_once("://").map_or(rpc, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The operator token to send to `rpc`: from `--rpc-cookie` (which must be readable), else from
/// `.cookie` in `salus dev`'s data directory ($SALUS_DATA_DIR or ~/.salus/dev) when that file
/// exists and the endpoint is on this machine (a local node's token is never sent elsewhere).
///
/// # Errors
/// When the named cookie file cannot be read or holds no token.
pub fn rpc_token(rpc: &str) -> anyhow::Result<Option<String>> {
    if let Some(path) = RPC_COOKIE.get() {
        return Ok(Some(crate::rpc_cookie::read_token(path)?));
    }
    if !is_local_endpoint(rpc) {
        return Ok(None);
    }
    let dev_dir = match std::env::var_os("SALUS_DATA_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(".salus").join("dev"),
            None => return Ok(None),
        },
    };
    // A missing or unreadable default cookie only means the operator methods will refuse.
    Ok(crate::rpc_cookie::read_token(&crate::rpc_cookie::cookie_path(&dev_dir)).ok())
}

/// The runtime a client command runs on: one thread, as it waits on one node.
///
/// # Errors
/// When the runtime cannot be built.
pub fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Connects to a node, sending the operator token when there is one ([`rpc_token`]).
///
/// # Errors
/// If the URL is not usable or a cookie named by `--rpc-cookie` cannot be read.
pub fn connect(rpc: &str) -> anyhow::Result<HttpClient> {
    let mut builder = HttpClientBuilder::default().request_timeout(Duration::from_secs(60));
    if let Some(token) = rpc_token(rpc)? {
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        let mut value = jsonrpsee::http_client::HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the RPC cookie token is not a header value")?;
        value.set_sensitive(true);
        headers.insert("authorization", value);
        builder = builder.set_headers(headers);
    }
    builder
        .build(rpc)
        .with_context(|| format!("RPC endpoint {rpc}"))
}

fn parse_json(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).with_context(|| format!("arguments are not JSON: {text}"))
}

/// The ABI of a contract on chain.
async fn abi_on_chain(client: &HttpClient, contract: &Address) -> anyhow::Result<ContractAbi> {
    let value = client
        .contract_abi(contract.to_string())
        .await?
        .ok_or_else(|| anyhow!("{contract} has no contract ABI on chain"))?;
    Ok(serde_json::from_value(value)?)
}

/// The ABI of `target`: a contract address (read from chain) or a .wasm file.
///
/// # Errors
/// If neither works.
pub async fn abi(client: &HttpClient, target: &str) -> anyhow::Result<Value> {
    if Path::new(target).exists() {
        let code = std::fs::read(target)?;
        let section = salus_client::abi::custom_section(&code, salus_abi::ABI_SECTION)?
            .ok_or_else(|| anyhow!("{target} has no salus_abi section"))?;
        return Ok(serde_json::from_slice(section)?);
    }
    let address: Address = target
        .parse()
        .map_err(|e| anyhow!("`{target}` is neither a file nor an address: {e}"))?;
    client
        .contract_abi(address.to_string())
        .await?
        .ok_or_else(|| anyhow!("{address} has no contract ABI on chain"))
}

/// `salus abi`: prints the ABI of a contract ([`abi`]) as JSON.
///
/// # Errors
/// As [`abi`].
pub async fn print_abi(rpc: &str, target: &str) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let abi = abi(&client, target).await?;
    println!("{}", serde_json::to_string_pretty(&abi)?);
    Ok(())
}

/// A transaction's fuel limit and the price per unit its sender pays.
#[derive(Clone, Copy, Debug)]
pub struct FuelTerms {
    /// Most fuel the transaction may use.
    pub limit: u64,
    /// Price per unit of fuel (0: free, where the node accepts it, as dev chains do).
    pub price: salus_primitives::Balance,
}

async fn builder(
    client: &HttpClient,
    from: &str,
    fuel: FuelTerms,
) -> anyhow::Result<TransactionBuilder> {
    let key = signer(from)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let account = client
        .state_get_account(key.address().to_string(), None)
        .await?;
    Ok(TransactionBuilder::new(info.chain_id, key, account.nonce).fuel(fuel.limit, fuel.price))
}

async fn submit_and_wait(
    client: &HttpClient,
    transaction: salus_primitives::SignedTransaction,
    wait: bool,
) -> anyhow::Result<Option<ReceiptView>> {
    let hash = client
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await?;
    println!("submitted {hash}");
    if !wait {
        return Ok(None);
    }
    let deadline = Instant::now() + INCLUSION_TIMEOUT;
    loop {
        if let Some(receipt) = client.tx_receipt(hash.clone()).await? {
            return Ok(Some(receipt));
        }
        if Instant::now() > deadline {
            bail!(
                "not included within {} s (is the node mining? on an on-demand dev chain, call dev_mine)",
                INCLUSION_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn print_receipt(
    receipt: &ReceiptView,
    abi: Option<(&ContractAbi, &str)>,
) -> anyhow::Result<Value> {
    let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
    let decoded = match (abi, receipt.status.as_str()) {
        (Some((abi, message)), "success") => abi.decode_result(message, &data)?,
        _ => Value::String(receipt.return_data.clone()),
    };
    let events: Vec<Value> = receipt
        .events
        .iter()
        .map(|event| {
            let decoded =
                abi.and_then(|(abi, _)| abi.decode_event(&event.to_event()?).ok().flatten());
            decoded.unwrap_or_else(|| serde_json::to_value(event).unwrap_or(Value::Null))
        })
        .collect();
    let summary = json!({
        "transaction": receipt.transaction_hash,
        "block": receipt.block_number,
        "status": receipt.status,
        "failure": receipt.failure,
        "fuelUsed": receipt.fuel_used,
        "result": decoded,
        "events": events,
        "confirmations": receipt.confirmations,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(summary)
}

/// `salus tx transfer`.
///
/// # Errors
/// On any RPC or signing failure.
pub async fn transfer(
    rpc: &str,
    from: &str,
    to: &str,
    amount: u128,
    wait: bool,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let to: Address = to.parse().map_err(|e| anyhow!("--to: {e}"))?;
    let fuel = FuelTerms {
        limit: 100_000,
        price: 1,
    };
    let mut builder = builder(&client, from, fuel).await?;
    if let Some(receipt) = submit_and_wait(&client, builder.transfer(to, amount), wait).await? {
        print_receipt(&receipt, None)?;
        ensure_success(&receipt)?;
    }
    Ok(())
}

/// `salus tx deploy`.
///
/// # Errors
/// On any RPC, ABI or signing failure, or a failed deploy.
pub async fn deploy(
    rpc: &str,
    from: &str,
    file: &Path,
    args: &str,
    salt: Option<Hash>,
    fuel: FuelTerms,
    wait: bool,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let code = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let abi = ContractAbi::from_wasm(&code)
        .with_context(|| format!("reading the ABI of {}", file.display()))?;
    let input = abi.encode_constructor(&parse_json(args)?)?;
    let mut builder = builder(&client, from, fuel).await?;
    let salt =
        salt.unwrap_or_else(|| salus_primitives::keccak256(&builder.next_nonce().to_le_bytes()));
    let deployer = builder.sender();
    let address = Address::contract(&deployer, &salus_primitives::keccak256(&code), &salt);
    println!("contract address {address}");
    if let Some(receipt) = submit_and_wait(&client, builder.deploy(code, input, salt), wait).await?
    {
        print_receipt(&receipt, None)?;
        ensure_success(&receipt)?;
    }
    Ok(())
}

/// `salus tx call`.
///
/// # Errors
/// On any RPC, ABI or signing failure, or a failed call.
pub async fn call(
    rpc: &str,
    from: &str,
    contract: &str,
    message: &str,
    args: &str,
    fuel: FuelTerms,
    wait: bool,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let contract: Address = contract.parse().map_err(|e| anyhow!("--contract: {e}"))?;
    let abi = abi_on_chain(&client, &contract).await?;
    let input = abi.encode_call(message, &parse_json(args)?)?;
    let mut builder = builder(&client, from, fuel).await?;
    if let Some(receipt) = submit_and_wait(&client, builder.call(contract, input), wait).await? {
        print_receipt(&receipt, Some((&abi, message)))?;
        ensure_success(&receipt)?;
    }
    Ok(())
}

fn ensure_success(receipt: &ReceiptView) -> anyhow::Result<()> {
    if receipt.status == "success" {
        Ok(())
    } else {
        bail!(
            "transaction failed: {}",
            receipt
                .failure
                .clone()
                .unwrap_or_else(|| receipt.status.clone())
        )
    }
}

/// `salus call` (dry run): signed by `--from`'s key, so that views that check their caller
/// answer it (PRIVACY.md §5.7); without `--from`, unsigned, as the zero address.
///
/// # Errors
/// On any RPC or ABI failure, or a `--from` that is not a key (an address cannot sign).
pub async fn dry_run(
    rpc: &str,
    from: Option<&str>,
    contract: &str,
    message: &str,
    args: &str,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let contract: Address = contract.parse().map_err(|e| anyhow!("--contract: {e}"))?;
    let abi = abi_on_chain(&client, &contract).await?;
    let input = abi.encode_call(message, &parse_json(args)?)?;
    let call = salus_client::DryRun::new(contract, input);
    let request = match from {
        None => call.unsigned(),
        Some(from) => {
            if from.parse::<Address>().is_ok() {
                bail!(
                    "--from {from}: a dry run runs as the key that signs it; give a key name \
                     or dev:N (or no --from, to run as the zero address)"
                );
            }
            let key = signer(from)?;
            let info = client
                .node_info()
                .await
                .context("is a node running at the RPC address?")?;
            call.signed_for(info.chain_id, &key)
        }
    };
    let outcome = client.state_call(request).await?;
    let data = hex::decode(outcome.return_data.trim_start_matches("0x"))?;
    let result = if outcome.status == "success" {
        abi.decode_result(message, &data)?
    } else {
        Value::Null
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "status": outcome.status,
            "failure": outcome.failure,
            "result": result,
            "fuelUsed": outcome.fuel_used,
            "fuelByHostFunction": outcome.fuel_by_host_function,
        }))?
    );
    Ok(())
}

/// `salus query …`.
///
/// # Errors
/// On any RPC failure or bad argument.
pub async fn query(rpc: &str, what: &str, target: &str, key: Option<&str>) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let value = match what {
        "account" => {
            serde_json::to_value(client.state_get_account(target.to_string(), None).await?)?
        }
        "block" => {
            let id = match target.parse::<u64>() {
                Ok(number) => BlockId::Number(number),
                Err(_) => BlockId::Hash(target.to_string()),
            };
            serde_json::to_value(client.chain_get_block(id).await?)?
        }
        "receipt" => serde_json::to_value(client.tx_receipt(target.to_string()).await?)?,
        "storage" => {
            let key = key.ok_or_else(|| anyhow!("storage needs a key (hex)"))?;
            serde_json::to_value(
                client
                    .state_get_storage(target.to_string(), key.to_string(), None)
                    .await?,
            )?
        }
        other => bail!("unknown query `{other}`: account, block, receipt or storage"),
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// `salus events`: a contract's events as a table, decoded through its on-chain ABI.
///
/// # Errors
/// On any RPC failure or bad argument.
pub async fn events(
    rpc: &str,
    contract: &str,
    topics: &[String],
    from: Option<u64>,
    to: Option<u64>,
    limit: u32,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let address: Address = contract.parse().map_err(|e| anyhow!("--contract: {e}"))?;
    let abi = abi_on_chain(&client, &address).await.ok();
    let filter = salus_client::rpc::EventFilter {
        contract: address.to_string(),
        topics: topics
            .iter()
            .map(|topic| (topic != "*").then(|| topic.clone()))
            .collect(),
        from_block: from,
        to_block: to,
        after: None,
        limit: Some(limit),
    };
    let page = client.events_query(filter).await?;
    println!(
        "{:>8} {:>4} {:>4}  {:<20} fields",
        "block", "tx", "ev", "event"
    );
    for record in &page.events {
        let event = record
            .event
            .to_event()
            .ok_or_else(|| anyhow::anyhow!("the node answered an event that does not parse"))?;
        let decoded = abi
            .as_ref()
            .and_then(|abi| abi.decode_event(&event).ok().flatten());
        let (name, fields) = match decoded {
            Some(value) => (
                value["event"].as_str().unwrap_or("?").to_string(),
                value["fields"].to_string(),
            ),
            None => ("(undecoded)".to_string(), record.event.data.clone()),
        };
        println!(
            "{:>8} {:>4} {:>4}  {:<20} {}",
            record.block_number, record.transaction_index, record.event_index, name, fields
        );
    }
    if let Some(next) = page.next {
        println!("… more after cursor {next}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_cookie_goes_only_to_endpoints_on_this_machine() {
        for local in [
            "http://127.0.0.1:8650",
            "http://localhost:8650/",
            "http://LOCALHOST",
            "http://[::1]:8650",
            "ws://127.0.0.2:1",
        ] {
            assert!(is_local_endpoint(local), "{local}");
        }
        for remote in [
            "http://node.example.org:8650",
            "http://10.0.0.1:8650",
            "http://localhost.evil.example",
            "http://127.0.0.1@evil.example",
            "http://[2001:db8::1]:8650",
        ] {
            assert!(!is_local_endpoint(remote), "{remote}");
        }
    }
}
