//! `salus record`: the two sides of the record gateway (docs/PRIVACY.md §5.6) — `put` stores a
//! FHIR R4 JSON resource in a custodian's store and registers it with consent's
//! `register_record`; `period` keeps a data period of the patient's consents (opened, with its
//! salt) so the gateway answers each record's date against it (§5.4); `get` signs a request,
//! sends it to a gateway and opens the sealed reply; `reply-key` prints (and registers) the
//! X25519 key replies are sealed to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use parity_scale_codec::Encode;
use salus_client::pseudonym::{blinded_tag, subject_handle};
use salus_client::rpc::SalusApiClient;
use salus_client::seal::{CommitmentKind, CommitmentSalt, commit_with_random_salt};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::Value;

use super::keys::signer;
use crate::gateway::ledger::{call_input, registered_key};
use crate::gateway::{
    GatewayRequest, PeriodOpening, RecordMeta, RecordStore, ReplyKey, RpcLedger,
    SignedGatewayRequest, reply_public_key, reply_secret,
};

/// How long `salus record` waits for a transaction's inclusion.
const INCLUSION_TIMEOUT: Duration = super::client::INCLUSION_TIMEOUT;

/// Largest reply read from a gateway: a sealed resource of the store's largest size, in hex,
/// with room for the rest of the JSON.
const MAX_REPLY_BYTES: usize = 2 * crate::gateway::store::MAX_RESOURCE_BYTES + 64 * 1024;

/// What `salus record put` registers with the resource.
#[derive(Debug, Clone)]
pub struct PutOptions {
    /// The custodian's store.
    pub store: PathBuf,
    /// The custodian's key (a key name or `dev:N`).
    pub key: String,
    /// The patient: its pseudonym at this custodian (PRIVACY.md §5.1).
    pub patient: Address,
    /// The relationship's blinding key (`blind_r`, given by the patient's wallet at enrolment:
    /// `salus key pseudonym` prints it): the labels and class go on chain as tags blinded with
    /// it, and the patient's events under its subject handle.
    pub blinding: [u8; 32],
    /// Security labels.
    pub labels: Vec<String>,
    /// Data class; default: the resource's `resourceType`.
    pub class: Option<String>,
    /// The record's date, signed ms since the epoch; default 0.
    pub date_ms: i64,
    /// Its author; default: the custodian.
    pub author: Option<Address>,
    /// The consent contract.
    pub consent: Address,
}

/// `salus record put`: stores the resource in `file` under a new random handle, registers it
/// with consent's `register_record` signed by the custodian, and returns the handle. A
/// registration that fails removes the resource from the store again.
///
/// Nothing clinical goes on chain (PRIVACY.md §5.4): the labels as tags blinded with the
/// relationship's key, padded with random tags to a multiple of 4 and sorted; the class as a
/// blinded tag; the date as a commitment under a new random salt (kept in the store's meta
/// file beside the clear date, so the custodian can open it); the relationship's subject
/// handle. The clear labels, class and date stay in the custodian's store.
///
/// # Errors
/// When the file is not a FHIR JSON resource, the key cannot be read, the node does not answer
/// or the registration fails.
pub async fn put(rpc: &str, options: &PutOptions, file: &Path) -> anyhow::Result<Hash> {
    let resource = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let resource_type = RecordStore::resource_type(&resource)
        .with_context(|| format!("{} is not a FHIR R4 JSON resource", file.display()))?;
    let custodian = signer(&options.key)?;
    let address = custodian.address();
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let store = RecordStore::open(&options.store)?;
    let (date_commitment, date_salt) =
        commit_with_random_salt(CommitmentKind::RECORD_DATE, &options.date_ms)?;
    let meta = RecordMeta {
        patient: options.patient,
        author: options.author.unwrap_or(address),
        labels: options.labels.clone(),
        class: options.class.clone().unwrap_or(resource_type),
        date_ms: options.date_ms,
        date_salt: hex::encode(date_salt.as_bytes()),
    };
    let label_tags = padded_label_tags(&options.blinding, &meta.labels)?;
    let handle = store.put(&resource, &meta)?;
    let ledger = RpcLedger::new(
        client,
        custodian,
        info.chain_id,
        (Address::default(), options.consent),
        INCLUSION_TIMEOUT,
    );
    let arguments = (
        handle,
        meta.patient,
        label_tags,
        blinded_tag(&options.blinding, &meta.class),
        date_commitment,
        meta.author,
        subject_handle(&options.blinding),
    );
    if let Err(error) = ledger
        .transact(options.consent, call_input("register_record", arguments))
        .await
    {
        store.remove(&handle)?;
        bail!("registering the record with consent: {error}");
    }
    Ok(handle)
}

/// `salus record period`: keeps in the custodian's store a data period (`start_ms` to `end_ms`,
/// end exclusive) that a consent of `patient` commits to, with the commitment's salt — drawn
/// from the operating system when `salt` is `None` —, so that the gateway answers, for each
/// record of the patient it is asked for, whether the record's date is inside
/// (consent's `period_answers`). Returns the commitment (what the patient's provision carries
/// as `data_period_commitment`) and the salt. Until wallets seal periods to the custodian
/// (PRIVACY.md §5.4), this is how the custodian receives one: from the patient, off chain.
///
/// # Errors
/// When the period ends before it starts, the patient has too many, randomness fails or the
/// store cannot be written.
pub fn period(
    store: &Path,
    patient: Address,
    (start_ms, end_ms): (i64, i64),
    salt: Option<[u8; 32]>,
) -> anyhow::Result<(Hash, [u8; 32])> {
    let salt = match salt {
        Some(salt) => salt,
        None => *CommitmentSalt::random()?.as_bytes(),
    };
    let opening = PeriodOpening {
        patient,
        start_ms,
        end_ms,
        salt: hex::encode(salt),
    };
    let commitment = RecordStore::open(store)?.put_period(&opening)?;
    Ok((commitment, salt))
}

/// The blinded tags of `labels`, padded with random tags (32 bytes from the operating system
/// each) to a non-zero multiple of [`LABEL_TAG_BLOCK`] and sorted, so that neither the number
/// of labels nor their order shows (consent's `label_tags`, the same rule).
///
/// # Errors
/// When the operating system's random source fails.
fn padded_label_tags(blinding: &[u8; 32], labels: &[String]) -> anyhow::Result<Vec<Hash>> {
    let mut tags: Vec<Hash> = labels
        .iter()
        .map(|label| blinded_tag(blinding, label))
        .collect();
    while tags.is_empty() || !tags.len().is_multiple_of(LABEL_TAG_BLOCK) {
        tags.push(Hash(*CommitmentSalt::random()?.as_bytes()));
    }
    tags.sort_by_key(|tag| tag.0);
    Ok(tags)
}

/// A record's label tags are padded to a multiple of this (consent's `LABEL_TAG_BLOCK`).
const LABEL_TAG_BLOCK: usize = 4;

/// What `salus record get` asks for.
#[derive(Debug, Clone)]
pub struct GetOptions {
    /// The gateway's URL (`http://host:port`).
    pub gateway: String,
    /// The requester's key (a key name or `dev:N`).
    pub key: String,
    /// The record handle.
    pub record: Hash,
    /// Purpose of use.
    pub purpose: String,
    /// The role the requester acts in.
    pub role: String,
    /// The registry contract (for the requester's registered key version).
    pub registry: Address,
    /// Where to keep the sealed reply as received (a new file readable only by its owner), to
    /// open again later: with this key and the request hash, which the patient's accounting
    /// names (`salus record get` prints it; the console's `/ui/open` opens it in a browser).
    pub keep_sealed: Option<std::path::PathBuf>,
}

/// A gateway's refusal, as its JSON body says it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the gateway refused ({status} {code}): {message}")]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// The error's stable code (`consent_denied`, `replayed_request`, …).
    pub code: String,
    /// Its message (with the consent's reason for a denial).
    pub message: String,
    /// The whole body.
    pub body: Value,
}

/// `salus record get`: signs a request for the record with the requester's key, sends it to
/// the gateway and opens the sealed reply with the requester's reply key
/// ([`reply_secret`]); the resource's bytes. The reply key's version is the registry's when the
/// requester registered this key, else 0 (a patient's own key).
///
/// # Errors
/// [`Refusal`] when the gateway refuses; otherwise when the key cannot be read, the node or
/// gateway does not answer, or the reply does not open.
pub async fn get(rpc: &str, options: &GetOptions) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    let key = signer(&options.key)?;
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let chain: Hash = info
        .genesis
        .parse()
        .map_err(|error| anyhow!("the node's genesis hash: {error}"))?;
    let (gateway_chain, gateway) = gateway_info(&options.gateway).await?;
    if gateway_chain != info.chain_id {
        bail!(
            "the gateway serves chain {gateway_chain}, the node at {rpc} is on chain {}",
            info.chain_id
        );
    }
    let public_key = reply_public_key(&key, &chain);
    let version = match registered_key(&client, options.registry, key.address()).await? {
        Some(registered) if registered.public_key == public_key => registered.version,
        _ => 0,
    };
    let request = new_request(
        &key,
        (info.chain_id, gateway),
        options,
        ReplyKey {
            public_key,
            version,
        },
    )?;
    let request_hash = request.hash();
    let sealed = send_request(&options.gateway, &request.sign(&key)).await?;
    let resource = salus_client::open(&reply_secret(&key, &chain), &sealed, &request_hash.0)
        .context("opening the sealed record")?;
    if let Some(path) = &options.keep_sealed {
        crate::keystore::write_private_file(path, &sealed)
            .with_context(|| format!("keeping the sealed reply in {}", path.display()))?;
        eprintln!(
            "kept the sealed reply in {}: it opens with this key and request {request_hash} \
             (the console: /ui/open?aad={request_hash})",
            path.display()
        );
    }
    Ok(resource)
}

/// Sends a signed request to the gateway at `base`; the sealed record it answers.
///
/// # Errors
/// [`Refusal`] when the gateway refuses; when it cannot be reached or its reply is not a
/// release of this request.
pub async fn send_request(base: &str, signed: &SignedGatewayRequest) -> anyhow::Result<Vec<u8>> {
    let (status, reply) = http(base, "POST", "/v1/records", Some(signed.encode())).await?;
    if status != 200 {
        return Err(Refusal {
            status,
            code: reply["error"].as_str().unwrap_or("unknown").to_string(),
            message: reply["message"].as_str().unwrap_or_default().to_string(),
            body: reply,
        }
        .into());
    }
    if reply["request"].as_str() != Some(signed.request.hash().to_string().as_str()) {
        bail!("the gateway answered another request than this one");
    }
    let sealed = reply["sealed"]
        .as_str()
        .map(|text| hex::decode(text.trim_start_matches("0x")))
        .context("the reply holds no sealed record")??;
    Ok(sealed)
}

/// The chain id and custodian the gateway at `base` serves (`GET /v1/info`).
///
/// # Errors
/// When it cannot be reached or its answer is not an info.
pub async fn gateway_info(base: &str) -> anyhow::Result<(u64, Address)> {
    let (status, info) = http(base, "GET", "/v1/info", None).await?;
    if status != 200 {
        bail!("{base}: GET /v1/info answered {status}");
    }
    let gateway: Address = info["gateway"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .context("the gateway's /v1/info names no custodian")?;
    let chain_id = info["chainId"]
        .as_u64()
        .context("the gateway's /v1/info names no chain")?;
    Ok((chain_id, gateway))
}

/// A fresh request (random nonce, the clock's time) for the record in `options`.
fn new_request(
    key: &SecretKey,
    (chain_id, gateway): (u64, Address),
    options: &GetOptions,
    reply_key: ReplyKey,
) -> anyhow::Result<GatewayRequest> {
    let mut nonce = [0u8; 16];
    salus_client::fill_random(&mut nonce)?;
    Ok(GatewayRequest {
        chain_id,
        gateway,
        record: options.record,
        purpose: options.purpose.clone(),
        role: options.role.clone(),
        requester: key.address(),
        reply_key,
        nonce,
        time_ms: crate::wall_clock_ms(),
    })
}

/// `salus record reply-key`: the X25519 public key replies to `key` are sealed to on the chain
/// at `rpc`; with `register`, also sets it as the key's encryption key in the registry (for an
/// organisation or practitioner; a patient registers nothing). Returns the key and, when
/// registered, its version.
///
/// # Errors
/// When the key cannot be read, the node does not answer or the registration fails.
pub async fn reply_key(
    rpc: &str,
    key: &str,
    registry: Address,
    register: bool,
) -> anyhow::Result<([u8; 32], Option<u32>)> {
    let key = signer(key)?;
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let chain: Hash = info
        .genesis
        .parse()
        .map_err(|error| anyhow!("the node's genesis hash: {error}"))?;
    let public_key = reply_public_key(&key, &chain);
    if !register {
        let version = registered_key(&client, registry, key.address())
            .await?
            .filter(|registered| registered.public_key == public_key)
            .map(|registered| registered.version);
        return Ok((public_key, version));
    }
    let ledger = RpcLedger::new(
        client,
        key,
        info.chain_id,
        (registry, Address::default()),
        INCLUSION_TIMEOUT,
    );
    let receipt = ledger
        .transact(registry, call_input("set_encryption_key", Hash(public_key)))
        .await
        .context("registering the reply key")?;
    let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
    let version = <u32 as parity_scale_codec::Decode>::decode(&mut &data[..])
        .context("set_encryption_key's version")?;
    Ok((public_key, Some(version)))
}

/// Writes a fetched resource to a new private file `out` (mode 0600), or to stdout.
///
/// # Errors
/// When the file exists or cannot be written.
pub fn write_resource(resource: &[u8], out: Option<&Path>) -> anyhow::Result<()> {
    use std::io::Write;
    match out {
        Some(path) => crate::keystore::write_private_file(path, resource)
            .with_context(|| format!("writing {} (it must not exist)", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(resource)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// One HTTP/1.1 request to `base` (`http://host:port`, no TLS: put a gateway on another host
/// behind a TLS terminator) at `path`; the status and the JSON body.
async fn http(
    base: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> anyhow::Result<(u16, Value)> {
    let uri: hyper::Uri = base
        .parse()
        .with_context(|| format!("gateway URL {base}"))?;
    if uri.scheme_str() != Some("http") {
        bail!("gateway URL {base}: only http:// is spoken (put TLS in front of a remote gateway)");
    }
    let authority = uri
        .authority()
        .with_context(|| format!("gateway URL {base} names no host"))?
        .clone();
    let port = authority.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((authority.host(), port))
        .await
        .with_context(|| format!("connecting to the gateway at {base}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let bytes = http_body_util::Limited::new(response.into_body(), MAX_REPLY_BYTES)
        .collect()
        .await
        .map_err(|error| anyhow!("reading the gateway's reply: {error}"))?
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the gateway's reply ({status}) is not JSON"))?;
    Ok((status, value))
}
