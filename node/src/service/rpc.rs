//! The JSON-RPC server: the node's side of `salus_client::rpc::SalusApi`. Malformed input gets
//! a JSON-RPC error object naming the problem and the field; nothing here can crash the node.
//! Dry runs are bounded in fuel, time and concurrency; historical state and event scans read
//! the store without the chain's lock (limits in [`super::rpc_limits`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jsonrpsee::core::{RpcResult, SubscriptionResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink};
use parity_scale_codec::Decode;
use salus_client::rpc::{
    AccountView, BlockId, BlockView, CallRequest, CallResultView, EventFilter, EventPage,
    EventRecord, HeaderView, MAX_SUBMIT_BATCH, NodeInfo, PeerView, ProofView, ReceiptView,
    SalusApiServer, SubmitOutcome, SyncView, TransactionView,
};
use salus_primitives::{Address, BlockHeader, Hash, SignedTransaction, StateKey};
use salus_runtime::wasm::TransactionEnv;
use salus_runtime::{BlockContext, State};
use tokio::sync::broadcast;

use super::rpc_limits::{
    DRY_RUN_DEFAULT_FUEL, DRY_RUN_QUEUE_WAIT, DRY_RUN_TIMEOUT, MAX_BAN_SECONDS,
    MAX_CALL_SIGNATURE_AHEAD_MS, MAX_CONCURRENT_DRY_RUNS, MAX_DEV_CLOCK_OFFSET_MS,
    MAX_DEV_MINE_BLOCKS, MAX_EVENTS_PER_PAGE, MAX_EVENTS_SCANNED,
};
use super::{NodeState, views};
use crate::network::{NetworkCommand, NetworkHandle};

/// JSON-RPC error codes.
pub(super) mod codes {
    /// Invalid parameters (JSON-RPC standard).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The transaction was refused by the pool.
    pub const TRANSACTION_REFUSED: i32 = -32010;
    /// A `dev_*` method on a chain that is not a dev chain.
    pub const NOT_A_DEV_CHAIN: i32 = -32020;
    /// An operator method (peers, bans) without the node's cookie token.
    pub const UNAUTHORIZED: i32 = -32030;
    /// The call took longer than its limit.
    pub const TIMEOUT: i32 = -32040;
    /// Every place for this kind of call is taken: retry later.
    pub const BUSY: i32 = -32050;
    /// A dry run's signature is bad, expired, too far ahead or not `from`'s, or an unsigned
    /// dry run named a caller.
    pub const CALL_SIGNATURE_REFUSED: i32 = -32060;
    /// The node failed internally (storage).
    pub const INTERNAL: i32 = -32603;
}

fn invalid(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INVALID_PARAMS, message.into(), None::<()>)
}

fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INTERNAL, error.to_string(), None::<()>)
}

/// Sends the subscriber each item of `source` that `wanted` keeps, until the subscriber goes
/// away or the source closes; items a slow subscriber lagged behind on are skipped.
async fn forward<T: Clone + serde::Serialize>(
    sink: SubscriptionSink,
    mut source: broadcast::Receiver<T>,
    wanted: impl Fn(&T) -> bool,
) -> SubscriptionResult {
    loop {
        // An unsubscribed or disconnected client ends the task (and frees its place among the
        // connection's subscriptions) at once, not at the next item.
        let received = tokio::select! {
            () = sink.closed() => return Ok(()),
            received = source.recv() => received,
        };
        let item = match received {
            Ok(item) => item,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
        };
        if !wanted(&item) {
            continue;
        }
        let message: SubscriptionMessage = serde_json::value::to_raw_value(&item)?.into();
        if sink.send(message).await.is_err() {
            return Ok(());
        }
    }
}

fn parse_hash(text: &str, what: &str) -> RpcResult<Hash> {
    text.parse()
        .map_err(|error| invalid(format!("{what}: {error}")))
}

fn parse_address(text: &str, what: &str) -> RpcResult<Address> {
    text.parse()
        .map_err(|error| invalid(format!("{what}: {error}")))
}

fn parse_hex(text: &str, what: &str) -> RpcResult<Vec<u8>> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| invalid(format!("{what}: not hex")))
}

/// A SCALE-encoded signed transaction, all of it: bytes after the transaction are refused (a
/// transaction has one encoding, and its hash covers exactly those bytes).
fn decode_transaction(bytes: &[u8]) -> Result<SignedTransaction, String> {
    let mut input = bytes;
    let transaction = SignedTransaction::decode(&mut input)
        .map_err(|error| format!("transaction does not decode: {error}"))?;
    if !input.is_empty() {
        let count = input.len();
        let plural = if count == 1 { "" } else { "s" };
        return Err(format!(
            "transaction: {count} trailing byte{plural} after its encoding"
        ));
    }
    Ok(transaction)
}

fn call_signature_refused(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::CALL_SIGNATURE_REFUSED, message.into(), None::<()>)
}

/// Who a dry run runs as (PRIVACY.md §5.7): the signer of a signed request, once its signature
/// recovers to `from` over `call` and its expiry is within
/// `now_ms..=now_ms + MAX_CALL_SIGNATURE_AHEAD_MS`; the zero address for an unsigned one,
/// which may not name any other caller. `call` holds every signed field but `from` and the
/// expiry, as the request carries them.
fn dry_run_caller(
    request: &CallRequest,
    call: &salus_client::DryRun,
    chain_id: u64,
    now_ms: u64,
) -> RpcResult<Address> {
    let from = request
        .from
        .as_deref()
        .map(|text| parse_address(text, "from"))
        .transpose()?;
    let (signature, expires_ms) = match (&request.signature, request.expires_ms) {
        (None, None) => {
            return match from {
                Some(from) if from != Address::ZERO => Err(call_signature_refused(format!(
                    "from: {from} without a signature; an unsigned dry run runs as the zero \
                     address (sign it, with expiresMs, to call as {from})"
                ))),
                _ => Ok(Address::ZERO),
            };
        }
        (None, Some(_)) => {
            return Err(invalid("expiresMs: given without a signature"));
        }
        (Some(_), None) => {
            return Err(invalid(
                "expiresMs: a signed dry run says when its signature expires",
            ));
        }
        (Some(signature), Some(expires_ms)) => (signature, expires_ms),
    };
    let from = from.ok_or_else(|| invalid("from: a signed dry run names its signer"))?;
    if expires_ms < now_ms {
        return Err(call_signature_refused(format!(
            "expiresMs: the signature expired {} ms ago",
            now_ms - expires_ms
        )));
    }
    if expires_ms - now_ms > MAX_CALL_SIGNATURE_AHEAD_MS {
        return Err(call_signature_refused(format!(
            "expiresMs: {} ms ahead of the node's clock; a signed dry run expires within {} ms \
             (10 minutes)",
            expires_ms - now_ms,
            MAX_CALL_SIGNATURE_AHEAD_MS
        )));
    }
    let signature = salus_client::signed_call::parse_signature(signature)
        .map_err(|error| call_signature_refused(error.to_string()))?;
    // One public-key recovery (tens of microseconds), cheaper than the dry run it admits.
    call.to_sign(chain_id, from, expires_ms)
        .signer(&signature)
        .map_err(|error| call_signature_refused(error.to_string()))
}

fn busy(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::BUSY, message.into(), None::<()>)
}

fn timed_out(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::TIMEOUT, message.into(), None::<()>)
}

/// Serves the API over a node (clones share the node and the dry-run places).
#[derive(Clone)]
pub struct RpcHandler {
    state: Arc<NodeState>,
    /// Places for dry runs executing at once ([`MAX_CONCURRENT_DRY_RUNS`]).
    dry_runs: Arc<tokio::sync::Semaphore>,
}

/// Counts a dry run as running while it lives (on the blocking thread that runs it).
struct RunningDryRun(Arc<NodeState>);

impl RunningDryRun {
    fn start(state: Arc<NodeState>) -> RunningDryRun {
        state
            .metrics
            .dry_runs_running
            .fetch_add(1, Ordering::Relaxed);
        RunningDryRun(state)
    }
}

impl Drop for RunningDryRun {
    fn drop(&mut self) {
        self.0
            .metrics
            .dry_runs_running
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl RpcHandler {
    pub fn new(state: Arc<NodeState>) -> Self {
        RpcHandler {
            state,
            dry_runs: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_DRY_RUNS)),
        }
    }

    /// A block's header by canonical number or by hash. Reads the store, not the chain: no
    /// lock (each read sees a block boundary; a header never changes).
    fn resolve(&self, id: &BlockId) -> RpcResult<Option<BlockHeader>> {
        let store = &self.state.store;
        let hash = match id {
            BlockId::Number(number) => match store.canonical_hash(*number).map_err(internal)? {
                Some(hash) => hash,
                None => return Ok(None),
            },
            BlockId::Hash(text) => parse_hash(text, "block hash")?,
        };
        store.header(&hash).map_err(internal)
    }

    /// The value of `key` in the state after block `header`, read through the state tree at its
    /// root (no lock: tree nodes never change).
    fn state_value_at(&self, header: &BlockHeader, key: &StateKey) -> RpcResult<Option<Vec<u8>>> {
        crate::state_tree::get(&self.state.store, &header.state_root, &key.tree_path())
            .map_err(internal)
    }

    /// The network, for the operator's `net_addPeer` / `net_banPeer` / `net_unbanPeer` (the
    /// RPC middleware lets only requests with the cookie token reach them).
    fn require_network(&self) -> RpcResult<&NetworkHandle> {
        self.state
            .network()
            .ok_or_else(|| invalid("this node has no peer-to-peer network"))
    }

    /// `dev_*` methods exist only on dev chains. (On any RPC address: the Host and Origin
    /// checks keep web pages out, and whoever reaches a dev node can spend its public dev
    /// accounts anyway.)
    fn require_dev(&self) -> RpcResult<()> {
        if self.state.config.dev {
            Ok(())
        } else {
            Err(ErrorObjectOwned::owned(
                codes::NOT_A_DEV_CHAIN,
                "dev_* methods exist only on dev chains",
                None::<()>,
            ))
        }
    }
}

#[async_trait]
impl SalusApiServer for RpcHandler {
    async fn chain_head(&self) -> RpcResult<HeaderView> {
        Ok(views::header(&self.state.published_head().header))
    }

    async fn chain_get_block(&self, id: BlockId) -> RpcResult<Option<BlockView>> {
        let Some(header) = self.resolve(&id)? else {
            return Ok(None);
        };
        let body = self
            .state
            .store
            .body(&header.hash())
            .map_err(internal)?
            .unwrap_or_default();
        Ok(Some(BlockView {
            header: views::header(&header),
            transactions: body
                .iter()
                .map(|transaction| transaction.hash().to_string())
                .collect(),
        }))
    }

    async fn chain_get_header(&self, id: BlockId) -> RpcResult<Option<HeaderView>> {
        Ok(self.resolve(&id)?.map(|header| views::header(&header)))
    }

    async fn chain_subscribe_new_heads(
        &self,
        pending: PendingSubscriptionSink,
    ) -> SubscriptionResult {
        let heads = self.state.heads.subscribe();
        let sink = pending.accept().await?;
        forward(sink, heads, |_| true).await
    }

    async fn tx_submit(&self, raw: String) -> RpcResult<String> {
        let bytes = parse_hex(&raw, "transaction")?;
        let transaction = decode_transaction(&bytes).map_err(invalid)?;
        // Signature recovery and the pool's locks stay off the async reactor: on blocking
        // threads, submissions verify on every core while the reactor keeps serving.
        self.state
            .submit_queued(transaction)
            .await
            .map(|hash| hash.to_string())
            .map_err(|error| {
                ErrorObjectOwned::owned(codes::TRANSACTION_REFUSED, error.to_string(), None::<()>)
            })
    }

    async fn tx_submit_batch(&self, raws: Vec<String>) -> RpcResult<Vec<SubmitOutcome>> {
        if raws.len() > MAX_SUBMIT_BATCH {
            return Err(invalid(format!(
                "{} transactions in one batch; at most {MAX_SUBMIT_BATCH}",
                raws.len()
            )));
        }
        // Decoding failures answer for themselves; the rest go to the pool as one job.
        let mut transactions = Vec::with_capacity(raws.len());
        let decoded: Vec<Result<(), String>> = raws
            .iter()
            .map(|raw| {
                let bytes =
                    parse_hex(raw, "transaction").map_err(|error| error.message().to_string())?;
                let transaction = decode_transaction(&bytes)?;
                transactions.push(transaction);
                Ok(())
            })
            .collect();
        let mut admitted = self
            .state
            .submit_batch_queued(transactions)
            .await
            .into_iter();
        Ok(decoded
            .into_iter()
            .map(|decoded| {
                let outcome = decoded.and_then(|()| {
                    admitted
                        .next()
                        .expect("one admission outcome per decoded transaction")
                        .map_err(|error| error.to_string())
                });
                match outcome {
                    Ok(hash) => SubmitOutcome {
                        hash: Some(hash.to_string()),
                        error: None,
                    },
                    Err(error) => SubmitOutcome {
                        hash: None,
                        error: Some(error),
                    },
                }
            })
            .collect())
    }

    async fn tx_get(&self, hash: String) -> RpcResult<Option<TransactionView>> {
        let hash = parse_hash(&hash, "transaction hash")?;
        if let Some(transaction) = self.state.mempool().get(&hash).cloned() {
            return Ok(Some(transaction_view(&transaction, "pending", None)));
        }
        // The store, not the chain's lock: a location names a block, and a block's body never
        // changes.
        let store = &self.state.store;
        let Some((block_hash, index)) = store.transaction_location(&hash).map_err(internal)? else {
            return Ok(None);
        };
        let body = store
            .body(&block_hash)
            .map_err(internal)?
            .unwrap_or_default();
        Ok(body
            .get(index as usize)
            .map(|transaction| transaction_view(transaction, "included", Some(block_hash))))
    }

    async fn tx_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>> {
        let hash = parse_hash(&hash, "transaction hash")?;
        let store = &self.state.store;
        let Some((block_hash, index)) = store.transaction_location(&hash).map_err(internal)? else {
            return Ok(None);
        };
        let Some(header) = store.header(&block_hash).map_err(internal)? else {
            return Ok(None);
        };
        let receipts = store
            .receipts(&block_hash)
            .map_err(internal)?
            .unwrap_or_default();
        let Some(receipt) = receipts.get(index as usize) else {
            return Ok(None);
        };
        let (status, failure) = views::status(&receipt.status);
        Ok(Some(ReceiptView {
            transaction_hash: hash.to_string(),
            block_hash: block_hash.to_string(),
            block_number: header.number,
            index,
            status,
            failure,
            fuel_used: receipt.fuel_used,
            events: receipt.events.iter().map(views::event).collect(),
            return_data: views::hex(&receipt.return_data),
            confirmations: self
                .state
                .published_head()
                .header
                .number
                .saturating_sub(header.number)
                + 1,
        }))
    }

    async fn state_get_account(
        &self,
        address: String,
        at: Option<BlockId>,
    ) -> RpcResult<AccountView> {
        let address = parse_address(&address, "address")?;
        let account = match at {
            None => State::account(&self.state.store, &address).map_err(internal)?,
            Some(id) => {
                let header = self
                    .resolve(&id)?
                    .ok_or_else(|| invalid("at: unknown block"))?;
                let value = self.state_value_at(&header, &StateKey::Account(address))?;
                salus_runtime::state::decode_account(value).map_err(internal)?
            }
        };
        Ok(AccountView {
            nonce: account.nonce,
            balance: account.balance.to_string(),
            code_hash: account.code_hash.map(|hash| hash.to_string()),
        })
    }

    async fn state_get_storage(
        &self,
        contract: String,
        key: String,
        at: Option<BlockId>,
    ) -> RpcResult<Option<String>> {
        let contract = parse_address(&contract, "contract")?;
        let key = StateKey::Storage(contract, parse_hex(&key, "key")?);
        let value = match at {
            None => self
                .state
                .chain()
                .store()
                .get(&key.to_bytes())
                .map_err(internal)?,
            Some(id) => {
                let header = self
                    .resolve(&id)?
                    .ok_or_else(|| invalid("at: unknown block"))?;
                self.state_value_at(&header, &key)?
            }
        };
        Ok(value.map(|value| views::hex(&value)))
    }

    async fn state_call(&self, request: CallRequest) -> RpcResult<CallResultView> {
        let contract = parse_address(&request.contract, "contract")?;
        let input = parse_hex(&request.input, "input")?;
        let value: u128 = match &request.value {
            None => 0,
            Some(text) => text
                .parse()
                .map_err(|_| invalid("value: not a decimal amount below 2^128"))?,
        };
        let signed_at = match &request.at {
            None => None,
            Some(BlockId::Number(number)) => Some(salus_client::CallAt::Number(*number)),
            Some(BlockId::Hash(text)) => Some(salus_client::CallAt::Hash(parse_hash(text, "at")?)),
        };
        let params = &self.state.genesis.params;
        let call = salus_client::DryRun {
            contract,
            input,
            value,
            at: signed_at,
            fuel: request.fuel,
        };
        // The signature's expiry is wall-clock time, not the dev chain's moved clock.
        let from = dry_run_caller(&request, &call, params.chain_id, crate::wall_clock_ms())?;
        let input = call.input;
        let fuel = match request.fuel {
            None => DRY_RUN_DEFAULT_FUEL.min(params.block_fuel_limit),
            Some(fuel) if fuel > params.block_fuel_limit => {
                return Err(invalid(format!(
                    "fuel: {fuel} is above the block fuel limit {}",
                    params.block_fuel_limit
                )));
            }
            Some(fuel) => fuel,
        };
        let at_header = match &request.at {
            Some(id) => Some(
                self.resolve(id)?
                    .ok_or_else(|| invalid("at: unknown block"))?,
            ),
            None => None,
        };
        // Wait a bounded time for a place; a flood is refused, not queued without bound.
        let permit =
            match tokio::time::timeout(DRY_RUN_QUEUE_WAIT, self.dry_runs.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => return Err(internal("the dry-run limiter is closed")),
                Err(_) => {
                    self.state
                        .metrics
                        .dry_runs_busy
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(busy(format!(
                        "busy: {MAX_CONCURRENT_DRY_RUNS} dry runs are running; try again shortly"
                    )));
                }
            };
        let deadline = std::time::Instant::now() + DRY_RUN_TIMEOUT;
        // What the dry run needs from the chain, under its lock for a moment; the historical
        // replay and the execution run without it, on a blocking thread.
        let (vm, head_number) = {
            let chain = self.state.chain();
            (chain.vm().clone(), chain.head().header.number)
        };
        let block = match &at_header {
            None => BlockContext {
                number: head_number + 1,
                timestamp_ms: self.state.now_ms(),
                miner: self.state.config.miner,
            },
            Some(header) => BlockContext {
                number: header.number,
                timestamp_ms: header.timestamp_ms,
                miner: header.miner,
            },
        };
        let env = TransactionEnv::new(params, block, from);
        let store = self.state.store.clone();
        let running = RunningDryRun::start(self.state.clone());
        let job = tokio::task::spawn_blocking(move || {
            // Held until the work ends, even if the caller was answered with a timeout first.
            let _permit = permit;
            let _running = running;
            let state: salus_runtime::SharedState = match &at_header {
                None => Arc::new(store),
                Some(header) => Arc::new(
                    crate::historical::HistoricalState::at(&store, header, Some(deadline))
                        .map_err(|error| invalid(format!("at: {error}")))?,
                ),
            };
            vm.dry_run(state, env, contract, input, value, fuel)
                .map_err(|error| match error {
                    // Not expected while this limiter's places match the VM's dry-run slots;
                    // answered as a full limiter would be.
                    salus_runtime::DryRunError::Busy(_) => busy(format!("busy: {error}")),
                    salus_runtime::DryRunError::Node(error) => internal(error),
                })
        });
        let outcome = match tokio::time::timeout_at(deadline.into(), job).await {
            Ok(joined) => joined.map_err(internal)??,
            Err(_) => {
                self.state
                    .metrics
                    .dry_runs_timed_out
                    .fetch_add(1, Ordering::Relaxed);
                return Err(timed_out(format!(
                    "the dry run took longer than {} s",
                    DRY_RUN_TIMEOUT.as_secs()
                )));
            }
        };
        let (status, failure) = views::status(&outcome.status);
        Ok(CallResultView {
            status,
            failure,
            return_data: views::hex(&outcome.return_data),
            events: outcome.events.iter().map(views::event).collect(),
            fuel_used: outcome.fuel_used,
            fuel_by_host_function: views::fuel_breakdown(&outcome.fuel_breakdown),
            diagnostic: outcome.diagnostic,
        })
    }

    async fn state_get_proof(
        &self,
        contract: Option<String>,
        key: String,
        at: Option<BlockId>,
    ) -> RpcResult<ProofView> {
        let state_key = match contract {
            Some(contract) => StateKey::Storage(
                parse_address(&contract, "contract")?,
                parse_hex(&key, "key")?,
            ),
            None => StateKey::Account(parse_address(&key, "address")?),
        };
        let header = match at {
            Some(id) => self
                .resolve(&id)?
                .ok_or_else(|| invalid("at: unknown block"))?,
            None => self.state.published_head().header,
        };
        // Through the tree at the block's root, without the chain's lock.
        let (proof, value) = crate::state_tree::prove(
            &self.state.store,
            &header.state_root,
            &state_key.tree_path(),
        )
        .map_err(internal)?;
        Ok(ProofView {
            block_hash: header.hash().to_string(),
            state_root: header.state_root.to_string(),
            key: views::hex(&state_key.to_bytes()),
            value: value.map(|value| views::hex(&value)),
            proof: views::hex(&parity_scale_codec::Encode::encode(&proof)),
        })
    }

    async fn events_query(&self, filter: EventFilter) -> RpcResult<EventPage> {
        let matcher = EventMatcher::new(&filter)?;
        let limit = match filter.limit {
            None => MAX_EVENTS_PER_PAGE,
            Some(limit @ 1..=MAX_EVENTS_PER_PAGE) => limit,
            Some(limit) => {
                return Err(invalid(format!(
                    "limit: {limit}; a page holds 1 to {MAX_EVENTS_PER_PAGE} events"
                )));
            }
        } as usize;
        let after = match &filter.after {
            Some(cursor) => Some(parse_cursor(cursor)?),
            None => None,
        };
        let from = filter.from_block.unwrap_or(0);
        let to = match filter.to_block {
            Some(to) => to,
            None => self.state.published_head().header.number,
        };
        if from > to {
            return Err(invalid(format!("fromBlock {from} is after toBlock {to}")));
        }
        // The scan reads the store's event index without the chain's lock (block import and
        // every other call go on meanwhile; each read sees whole blocks: a block's events are
        // written in one batch), on a blocking thread, off the async reactor.
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || scan_events(&store, &matcher, from, to, after, limit))
            .await
            .map_err(internal)?
    }

    async fn events_subscribe(
        &self,
        pending: PendingSubscriptionSink,
        filter: EventFilter,
    ) -> SubscriptionResult {
        let matcher = match EventMatcher::new(&filter) {
            Ok(matcher) => matcher,
            Err(error) => {
                pending.reject(error).await;
                return Ok(());
            }
        };
        let events = self.state.events.subscribe();
        let sink = pending.accept().await?;
        forward(sink, events, |record| matcher.matches_view(record)).await
    }

    async fn contract_abi(&self, address: String) -> RpcResult<Option<serde_json::Value>> {
        let address = parse_address(&address, "address")?;
        let store = &self.state.store;
        let Some(code_hash) = State::account(store, &address).map_err(internal)?.code_hash else {
            return Ok(None);
        };
        let Some(code) = store
            .get(&StateKey::Code(code_hash).to_bytes())
            .map_err(internal)?
        else {
            return Ok(None);
        };
        match salus_client::abi::custom_section(&code, salus_abi::ABI_SECTION) {
            Ok(Some(section)) => Ok(serde_json::from_slice(section).ok()),
            _ => Ok(None),
        }
    }

    async fn net_peers(&self) -> RpcResult<Vec<PeerView>> {
        let Some(network) = self.state.network() else {
            return Ok(Vec::new());
        };
        let peers = network
            .ask(NetworkCommand::Peers)
            .await
            .ok_or_else(|| internal("the network has stopped"))?;
        Ok(peers
            .into_iter()
            .map(|peer| PeerView {
                peer_id: peer.peer_id.to_string(),
                address: peer.address.to_string(),
                direction: if peer.outbound { "outbound" } else { "inbound" }.into(),
                score: peer.score,
                head_number: peer.head_number,
                agent: peer.agent,
            })
            .collect())
    }

    async fn net_add_peer(&self, address: String) -> RpcResult<bool> {
        let network = self.require_network()?;
        let address: libp2p::Multiaddr = address
            .parse()
            .map_err(|error| invalid(format!("address: bad multiaddr {address:?}: {error}")))?;
        network
            .ask(|reply| NetworkCommand::AddPeer(address, reply))
            .await
            .ok_or_else(|| internal("the network has stopped"))?
            .map_err(|error| invalid(format!("cannot dial: {error}")))?;
        Ok(true)
    }

    async fn net_ban_peer(&self, peer_id: String, seconds: u64) -> RpcResult<bool> {
        let peer: libp2p::PeerId = peer_id
            .parse()
            .map_err(|error| invalid(format!("peerId: bad peer id {peer_id:?}: {error}")))?;
        if seconds == 0 || seconds > MAX_BAN_SECONDS {
            return Err(invalid(format!(
                "seconds: {seconds}; a ban lasts 1 to {MAX_BAN_SECONDS} seconds (a year)"
            )));
        }
        let network = self.require_network()?;
        network
            .ask(|reply| {
                NetworkCommand::BanPeer(peer, std::time::Duration::from_secs(seconds), reply)
            })
            .await
            .ok_or_else(|| internal("the network has stopped"))?
            .map_err(invalid)?;
        Ok(true)
    }

    async fn net_unban_peer(&self, peer_id: String) -> RpcResult<bool> {
        let peer: libp2p::PeerId = peer_id
            .parse()
            .map_err(|error| invalid(format!("peerId: bad peer id {peer_id:?}: {error}")))?;
        let network = self.require_network()?;
        network
            .ask(|reply| NetworkCommand::UnbanPeer(peer, reply))
            .await
            .ok_or_else(|| internal("the network has stopped"))
    }

    async fn node_info(&self) -> RpcResult<NodeInfo> {
        let network = self.state.network();
        let progress = network
            .map(|network| network.progress())
            .unwrap_or_default();
        let head = self.state.published_head().header;
        Ok(NodeInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            chain_id: self.state.genesis.params.chain_id,
            genesis: self.state.genesis.header.hash().to_string(),
            head: views::header(&head),
            dev: self.state.config.dev,
            pending_transactions: self.state.mempool().len(),
            peer_id: network.map(|network| network.peer_id.to_string()),
            listen_addresses: network
                .map(|network| {
                    network
                        .listen_addrs()
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            sync: SyncView {
                syncing: progress.syncing,
                current: head.number,
                target: progress.target,
                blocks_per_second: progress.blocks_per_second,
            },
        })
    }

    async fn dev_mine(&self, blocks: u32) -> RpcResult<Vec<String>> {
        self.require_dev()?;
        if blocks > MAX_DEV_MINE_BLOCKS {
            return Err(invalid(format!(
                "blocks: {blocks}; at most {MAX_DEV_MINE_BLOCKS} blocks per call"
            )));
        }
        let mut hashes = Vec::new();
        // A search abandoned because a peer's block took the head does not count: mine again
        // (within a bound, in case peers keep winning).
        let mut attempts = 0u32;
        while hashes.len() < blocks as usize && attempts < blocks.saturating_mul(10) {
            attempts += 1;
            if let Some(hash) = self.state.mine_block().await.map_err(internal)? {
                hashes.push(hash.to_string());
            }
        }
        Ok(hashes)
    }

    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64> {
        self.require_dev()?;
        let moved = |offset: u64| {
            offset
                .checked_add(ms)
                .filter(|total| *total <= MAX_DEV_CLOCK_OFFSET_MS)
        };
        match self
            .state
            .clock_offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, moved)
        {
            Ok(previous) => Ok(previous + ms),
            Err(current) => Err(invalid(format!(
                "ms: {ms} would move the clock {} ms ahead in total; at most \
                 {MAX_DEV_CLOCK_OFFSET_MS} ms (a century)",
                current as u128 + ms as u128
            ))),
        }
    }
}

/// A page of `matcher`'s events in blocks `from..=to` after `after`, examining at most
/// [`MAX_EVENTS_SCANNED`] events.
fn scan_events(
    store: &crate::storage::Store,
    matcher: &EventMatcher,
    from: u64,
    to: u64,
    mut after: Option<crate::storage::EventPosition>,
    limit: usize,
) -> RpcResult<EventPage> {
    let mut events = Vec::new();
    let mut scanned = 0usize;
    loop {
        let batch = store
            .contract_events(&matcher.contract, from, to, after, limit)
            .map_err(internal)?;
        let exhausted = batch.len() < limit;
        for indexed in batch {
            scanned += 1;
            after = Some(indexed.position);
            if matcher.matches(&indexed.event) {
                events.push(EventRecord {
                    block_number: indexed.position.number,
                    transaction_index: indexed.position.transaction,
                    event_index: indexed.position.event,
                    transaction_hash: indexed.transaction_hash.to_string(),
                    event: views::event(&indexed.event),
                });
                if events.len() == limit {
                    break;
                }
            }
        }
        if exhausted || events.len() == limit || scanned >= MAX_EVENTS_SCANNED {
            let next = (!exhausted || events.len() == limit)
                .then(|| after.map(|p| format!("{}:{}:{}", p.number, p.transaction, p.event)))
                .flatten();
            return Ok(EventPage { events, next });
        }
    }
}

fn parse_cursor(cursor: &str) -> RpcResult<crate::storage::EventPosition> {
    let parts: Vec<&str> = cursor.split(':').collect();
    let bad = || {
        invalid(format!(
            "after: cursor `{cursor}`: expected block:transaction:event"
        ))
    };
    let [number, transaction, event] = parts.as_slice() else {
        return Err(bad());
    };
    Ok(crate::storage::EventPosition {
        number: number.parse().map_err(|_| bad())?,
        transaction: transaction.parse().map_err(|_| bad())?,
        event: event.parse().map_err(|_| bad())?,
    })
}

/// A parsed event filter.
struct EventMatcher {
    contract: Address,
    topics: Vec<Option<Hash>>,
}

impl EventMatcher {
    fn new(filter: &EventFilter) -> RpcResult<EventMatcher> {
        if filter.topics.len() > salus_primitives::limits::MAX_EVENT_TOPICS {
            return Err(invalid(format!(
                "topics: at most {} positions",
                salus_primitives::limits::MAX_EVENT_TOPICS
            )));
        }
        let topics = filter
            .topics
            .iter()
            .map(|topic| {
                topic
                    .as_deref()
                    .map(|text| parse_hash(text, "topic"))
                    .transpose()
            })
            .collect::<RpcResult<_>>()?;
        Ok(EventMatcher {
            contract: parse_address(&filter.contract, "contract")?,
            topics,
        })
    }

    fn matches(&self, event: &salus_primitives::Event) -> bool {
        event.contract == self.contract
            && self
                .topics
                .iter()
                .enumerate()
                .all(|(index, wanted)| match wanted {
                    None => true,
                    Some(topic) => event.topics.get(index) == Some(topic),
                })
    }

    fn matches_view(&self, record: &EventRecord) -> bool {
        record
            .event
            .to_event()
            .is_some_and(|event| self.matches(&event))
    }
}

fn transaction_view(
    transaction: &SignedTransaction,
    state: &str,
    block: Option<Hash>,
) -> TransactionView {
    let from = transaction
        .verify_signatures()
        .map(|signers| signers.sender.to_string())
        .unwrap_or_default();
    TransactionView {
        hash: transaction.hash().to_string(),
        from,
        nonce: transaction.transaction.nonce,
        state: state.to_string(),
        block_hash: block.map(|hash| hash.to_string()),
        raw: views::hex(&parity_scale_codec::Encode::encode(transaction)),
    }
}
