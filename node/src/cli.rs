//! The client side of the `salus` command: keys, transactions, dry runs, queries and ABIs, all
//! over JSON-RPC, with JSON arguments encoded through the contract's on-chain ABI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, CallRequest, ReceiptView, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Address, Hash, SecretKey};

use crate::keystore;
use serde_json::{Value, json};

/// The default RPC endpoint: `salus dev`'s.
pub const DEFAULT_RPC: &str = "http://127.0.0.1:8650";
/// How long `salus tx` waits for inclusion before giving up.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);
/// Fuel limit of CLI transactions unless `--fuel` says otherwise: enough to deploy a 100 KB
/// contract.
pub const DEFAULT_FUEL: u64 = 60_000_000;

/// Connects to a node.
///
/// # Errors
/// If the URL is not usable.
pub fn connect(rpc: &str) -> anyhow::Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .build(rpc)
        .with_context(|| format!("RPC endpoint {rpc}"))
}

/// Where key files live: `$SALUS_KEYS`, else `~/.salus/keys`.
pub fn key_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SALUS_KEYS") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set SALUS_KEYS")?;
    Ok(PathBuf::from(home).join(".salus").join("keys"))
}

/// Resolves `--from`: `dev:N` (the public dev mnemonic's key N), a key name in the key
/// directory, or a 0x private key.
///
/// # Errors
/// When the key cannot be found or read.
pub fn signer(from: &str) -> anyhow::Result<SecretKey> {
    if let Some(index) = from.strip_prefix("dev:") {
        let index: u32 = index.parse().context("dev:N needs a number")?;
        return Ok(derive_key(DEV_MNEMONIC, index)?);
    }
    if from.starts_with("0x") && from.len() == 66 {
        let bytes: [u8; 32] = salus_primitives::hash::parse_hex_array(from)?;
        return SecretKey::from_bytes(&bytes)
            .ok_or_else(|| anyhow!("not a valid secp256k1 private key"));
    }
    let path = key_dir()?.join(format!("{from}.key"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no key `{from}` ({})", path.display()))?;
    let password = if keystore::is_encrypted(&text) {
        Some(key_password()?)
    } else {
        None
    };
    keystore::open(&text, password.as_deref()).with_context(|| format!("{}", path.display()))
}

/// The password of encrypted key files: the first line of the file named by
/// `SALUS_KEY_PASSWORD_FILE`, else `SALUS_KEY_PASSWORD`.
///
/// # Errors
/// When neither is set, the file cannot be read, or the password is empty.
pub fn key_password() -> anyhow::Result<Vec<u8>> {
    let password = if let Some(path) = std::env::var_os("SALUS_KEY_PASSWORD_FILE") {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading SALUS_KEY_PASSWORD_FILE {}", path.display()))?;
        text.lines().next().unwrap_or_default().to_string()
    } else if let Ok(password) = std::env::var("SALUS_KEY_PASSWORD") {
        password
    } else {
        bail!(keystore::KeyFileError::PasswordRequired);
    };
    if password.is_empty() {
        bail!("the key password is empty");
    }
    Ok(password.into_bytes())
}

/// Writes a key file readable only by its owner.
///
/// # Errors
/// If the file exists or cannot be written.
pub fn save_key(name: &str, key: &SecretKey, encrypt: bool) -> anyhow::Result<PathBuf> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("key names use letters, digits, '-' and '_'");
    }
    let text = if encrypt {
        let mut random = [0u8; 56];
        fill_random(&mut random)?;
        let salt: [u8; 32] = random[..32].try_into().expect("32 bytes");
        let nonce: [u8; 24] = random[32..].try_into().expect("24 bytes");
        keystore::encrypt(key, &key_password()?, salt, nonce)
    } else {
        keystore::plain(key)
    };
    let dir = key_dir()?;
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        bail!("key `{name}` already exists ({})", path.display());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}

/// Fills `bytes` from the operating system's random source.
///
/// # Errors
/// When `/dev/urandom` cannot be read.
pub fn fill_random(bytes: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(bytes))
        .context("reading /dev/urandom")
}

/// Every key file: name and address (encrypted files need no password for this).
///
/// # Errors
/// If the directory cannot be read.
pub fn list_keys() -> anyhow::Result<Vec<(String, Address)>> {
    let dir = key_dir()?;
    let mut keys = Vec::new();
    if !dir.exists() {
        return Ok(keys);
    }
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|e| e == "key"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path)?;
        let address = keystore::address(&text).with_context(|| format!("{}", path.display()))?;
        keys.push((name.to_string(), address));
    }
    keys.sort();
    Ok(keys)
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
        let section = salus_client::abi::custom_section(&code, "salus_abi")?
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

async fn builder(client: &HttpClient, from: &str, fuel: u64) -> anyhow::Result<TransactionBuilder> {
    let key = signer(from)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let account = client
        .state_get_account(key.address().to_string(), None)
        .await?;
    Ok(TransactionBuilder::new(info.chain_id, key, account.nonce).fuel(fuel, 1))
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
            let decoded = abi.and_then(|(abi, _)| {
                let topics = event
                    .topics
                    .iter()
                    .filter_map(|t| t.parse::<Hash>().ok())
                    .collect();
                let contract = event.contract.parse().ok()?;
                let data = hex::decode(event.data.trim_start_matches("0x")).ok()?;
                abi.decode_event(&salus_primitives::Event {
                    contract,
                    topics,
                    data,
                })
                .ok()
                .flatten()
            });
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
    let mut builder = builder(&client, from, 100_000).await?;
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
    fuel: u64,
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
    fuel: u64,
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

/// `salus call` (dry run).
///
/// # Errors
/// On any RPC or ABI failure.
pub async fn dry_run(
    rpc: &str,
    from: &str,
    contract: &str,
    message: &str,
    args: &str,
) -> anyhow::Result<()> {
    let client = connect(rpc)?;
    let contract: Address = contract.parse().map_err(|e| anyhow!("--contract: {e}"))?;
    let from = match from.parse::<Address>() {
        Ok(address) => address,
        Err(_) => signer(from)?.address(),
    };
    let abi = abi_on_chain(&client, &contract).await?;
    let input = abi.encode_call(message, &parse_json(args)?)?;
    let request = CallRequest {
        from: from.to_string(),
        contract: contract.to_string(),
        input: format!("0x{}", hex::encode(input)),
        value: None,
        fuel: None,
        at: None,
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
        let event = salus_primitives::Event {
            contract: address,
            topics: record
                .event
                .topics
                .iter()
                .filter_map(|topic| topic.parse().ok())
                .collect(),
            data: hex::decode(record.event.data.trim_start_matches("0x"))?,
        };
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
