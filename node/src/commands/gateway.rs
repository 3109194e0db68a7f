//! `salus gateway`: serves a custodian's record store over HTTP to requesters the consent
//! contract permits (docs/PRIVACY.md §5.6; the protocol is in `crate::gateway`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use salus_client::rpc::SalusApiClient;
use salus_primitives::Address;

use super::keys::signer;
use crate::gateway::{Gateway, RecordStore, RpcLedger, server};

/// What `salus gateway` runs with.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// The gateway's own directory: the signed requests it answered (`requests/`).
    pub data_dir: PathBuf,
    /// The record store (`salus record put --store`).
    pub store: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The custodian's key (a key name or `dev:N`): signs the disclosures.
    pub key: String,
    /// The node's RPC URL.
    pub rpc: String,
    /// The registry contract.
    pub registry: Address,
    /// The consent contract.
    pub consent: Address,
    /// How long a disclosure may take to be included.
    pub inclusion_timeout: Duration,
}

/// Runs the gateway until the process is stopped. Prints `gateway listening on http://ADDR for
/// custodian 0x…` once bound.
///
/// # Errors
/// When the key cannot be read, the node does not answer, the store or data directory cannot
/// be created, or the address cannot be bound.
pub fn run(options: GatewayOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(options))
}

async fn serve(options: GatewayOptions) -> anyhow::Result<()> {
    let custodian = signer(&options.key)?;
    let address = custodian.address();
    let client = super::client::connect(&options.rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let store = RecordStore::open(&options.store)
        .with_context(|| format!("the record store {}", options.store.display()))?;
    let ledger = RpcLedger::new(
        client,
        custodian,
        info.chain_id,
        (options.registry, options.consent),
        options.inclusion_timeout,
    );
    let gateway = Gateway::new(
        info.chain_id,
        address,
        store,
        ledger,
        options.data_dir.join("requests"),
    )
    .with_context(|| format!("the data directory {}", options.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    let bound = listener.local_addr()?;
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "gateway listening on http://{bound} for custodian {address}"
        )?;
        stdout.flush()?;
    }
    server::serve(listener, Arc::new(gateway))
        .await
        .map_err(|error| anyhow::anyhow!("accepting connections: {error}"))
}
