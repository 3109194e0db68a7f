//! The JSON-RPC server: the node's side of `salus_client::rpc::SalusApi`. Malformed input gets
//! a JSON-RPC error object naming the problem; nothing here can crash the node.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jsonrpsee::core::{RpcResult, SubscriptionResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use parity_scale_codec::Decode;
use salus_client::rpc::{
    AccountView, BlockId, BlockView, CallRequest, CallResultView, EventFilter, EventPage,
    EventRecord, HeaderView, MAX_SUBMIT_BATCH, NodeInfo, PeerView, ProofView, ReceiptView,
    SalusApiServer, SubmitOutcome, SyncView, TransactionView,
};
use salus_primitives::{Address, BlockHeader, Hash, SignedTransaction, StateKey};
use salus_runtime::wasm::TransactionEnv;
use salus_runtime::{BlockContext, State};

use super::{NodeState, views};
use crate::network::{NetworkCommand, NetworkHandle};

/// JSON-RPC error codes.
mod codes {
    /// Invalid parameters (JSON-RPC standard).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The transaction was refused by the pool.
    pub const TRANSACTION_REFUSED: i32 = -32010;
    /// A `dev_*` method on a chain that is not a dev chain.
    pub const NOT_A_DEV_CHAIN: i32 = -32020;
    /// The node failed internally (storage).
    pub const INTERNAL: i32 = -32603;
}

fn invalid(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INVALID_PARAMS, message.into(), None::<()>)
}

fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INTERNAL, error.to_string(), None::<()>)
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

/// Serves the API over a node.
pub struct RpcHandler {
    state: Arc<NodeState>,
}

impl RpcHandler {
    pub fn new(state: Arc<NodeState>) -> Self {
        RpcHandler { state }
    }

    fn resolve(&self, id: &BlockId) -> RpcResult<Option<BlockHeader>> {
        let chain = self.state.chain();
        let hash = match id {
            BlockId::Number(number) => {
                match chain.store().canonical_hash(*number).map_err(internal)? {
                    Some(hash) => hash,
                    None => return Ok(None),
                }
            }
            BlockId::Hash(text) => parse_hash(text, "block hash")?,
        };
        chain.store().header(&hash).map_err(internal)
    }

    /// The network, for the operator's `net_addPeer` / `net_banPeer`: only on a loopback RPC
    /// address (anyone who can reach a public RPC port must not steer the node's peers).
    fn require_network(&self) -> RpcResult<&NetworkHandle> {
        if !self.state.config.rpc_addr.ip().is_loopback() {
            return Err(invalid(
                "net_addPeer, net_banPeer and net_unbanPeer answer only on a loopback RPC address",
            ));
        }
        self.state
            .network()
            .ok_or_else(|| invalid("this node has no peer-to-peer network"))
    }

    fn require_dev(&self) -> RpcResult<()> {
        if self.state.config.dev && self.state.config.rpc_addr.ip().is_loopback() {
            Ok(())
        } else if self.state.config.dev {
            Err(ErrorObjectOwned::owned(
                codes::NOT_A_DEV_CHAIN,
                "dev_* methods answer only on a loopback RPC address",
                None::<()>,
            ))
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
        Ok(views::header(&self.state.chain().head().header))
    }

    async fn chain_get_block(&self, id: BlockId) -> RpcResult<Option<BlockView>> {
        let Some(header) = self.resolve(&id)? else {
            return Ok(None);
        };
        let body = self
            .state
            .chain()
            .store()
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
        let mut heads = self.state.heads.subscribe();
        let sink = pending.accept().await?;
        loop {
            let head = match heads.recv().await {
                Ok(head) => head,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let message: SubscriptionMessage = serde_json::value::to_raw_value(&head)?.into();
            if sink.send(message).await.is_err() {
                return Ok(());
            }
        }
    }

    async fn tx_submit(&self, raw: String) -> RpcResult<String> {
        let bytes = parse_hex(&raw, "transaction")?;
        let transaction = SignedTransaction::decode(&mut &bytes[..])
            .map_err(|error| invalid(format!("transaction does not decode: {error}")))?;
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
                let transaction = SignedTransaction::decode(&mut &bytes[..])
                    .map_err(|error| format!("transaction does not decode: {error}"))?;
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
        let chain = self.state.chain();
        let Some((block_hash, index)) = chain
            .store()
            .transaction_location(&hash)
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let body = chain
            .store()
            .body(&block_hash)
            .map_err(internal)?
            .unwrap_or_default();
        Ok(body
            .get(index as usize)
            .map(|transaction| transaction_view(transaction, "included", Some(block_hash))))
    }

    async fn tx_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>> {
        let hash = parse_hash(&hash, "transaction hash")?;
        let chain = self.state.chain();
        let Some((block_hash, index)) = chain
            .store()
            .transaction_location(&hash)
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let Some(header) = chain.store().header(&block_hash).map_err(internal)? else {
            return Ok(None);
        };
        let receipts = chain
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
            confirmations: chain.head().header.number.saturating_sub(header.number) + 1,
        }))
    }

    async fn state_get_account(
        &self,
        address: String,
        at: Option<BlockId>,
    ) -> RpcResult<AccountView> {
        let address = parse_address(&address, "address")?;
        let account = match at {
            None => self.state.chain().account(&address).map_err(internal)?,
            Some(id) => {
                let header = self.resolve(&id)?.ok_or_else(|| invalid("unknown block"))?;
                let value = self
                    .state
                    .chain()
                    .state_value_at(&header.state_root, &StateKey::Account(address))
                    .map_err(internal)?;
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
                let header = self.resolve(&id)?.ok_or_else(|| invalid("unknown block"))?;
                self.state
                    .chain()
                    .state_value_at(&header.state_root, &key)
                    .map_err(internal)?
            }
        };
        Ok(value.map(|value| views::hex(&value)))
    }

    async fn state_call(&self, request: CallRequest) -> RpcResult<CallResultView> {
        let from = parse_address(&request.from, "from")?;
        let contract = parse_address(&request.contract, "contract")?;
        let input = parse_hex(&request.input, "input")?;
        let value: u128 = match &request.value {
            None => 0,
            Some(text) => text
                .parse()
                .map_err(|_| invalid("value: not a decimal amount"))?,
        };
        let at_header = match &request.at {
            Some(id) => Some(self.resolve(id)?.ok_or_else(|| invalid("unknown block"))?),
            None => None,
        };
        let (vm, state, env, fuel) = {
            let chain = self.state.chain();
            let head = &chain.head().header;
            let (state, block): (salus_runtime::SharedState, BlockContext) = match &at_header {
                None => (
                    chain.head_state(),
                    BlockContext {
                        number: head.number + 1,
                        timestamp_ms: self.state.now_ms(),
                        miner: self.state.config.miner,
                    },
                ),
                Some(header) => {
                    if chain
                        .store()
                        .canonical_hash(header.number)
                        .map_err(internal)?
                        != Some(header.hash())
                    {
                        return Err(invalid("dry runs at a past block need a canonical block"));
                    }
                    let historical = crate::historical::HistoricalState::at(
                        chain.store(),
                        head.number,
                        header.number,
                    )
                    .map_err(|error| invalid(error.to_string()))?;
                    (
                        Arc::new(historical),
                        BlockContext {
                            number: header.number,
                            timestamp_ms: header.timestamp_ms,
                            miner: header.miner,
                        },
                    )
                }
            };
            let fuel = request
                .fuel
                .unwrap_or(chain.params().block_fuel_limit)
                .min(chain.params().block_fuel_limit);
            (
                chain.vm().clone(),
                state,
                TransactionEnv::new(chain.params(), block, from),
                fuel,
            )
        };
        let outcome = tokio::task::spawn_blocking(move || {
            vm.dry_run(state, env, contract, input, value, fuel)
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        let (status, failure) = views::status(&outcome.status);
        Ok(CallResultView {
            status,
            failure,
            return_data: views::hex(&outcome.return_data),
            events: outcome.events.iter().map(views::event).collect(),
            fuel_used: outcome.fuel_used,
            fuel_by_host_function: views::fuel_breakdown(&outcome.fuel_breakdown),
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
            Some(id) => self.resolve(&id)?.ok_or_else(|| invalid("unknown block"))?,
            None => self.state.chain().head().header.clone(),
        };
        let (proof, value) = self
            .state
            .chain()
            .prove(&header.state_root, &state_key)
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
        let limit = filter
            .limit
            .unwrap_or(MAX_EVENTS_PER_PAGE)
            .clamp(1, MAX_EVENTS_PER_PAGE) as usize;
        let mut after = match &filter.after {
            Some(cursor) => Some(parse_cursor(cursor)?),
            None => None,
        };
        let chain = self.state.chain();
        let from = filter.from_block.unwrap_or(0);
        let to = filter.to_block.unwrap_or(chain.head().header.number);
        let mut events = Vec::new();
        let mut scanned = 0usize;
        loop {
            let batch = chain
                .store()
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
        let mut events = self.state.events.subscribe();
        let sink = pending.accept().await?;
        loop {
            let record = match events.recv().await {
                Ok(record) => record,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            };
            if !matcher.matches_view(&record) {
                continue;
            }
            let message: SubscriptionMessage = serde_json::value::to_raw_value(&record)?.into();
            if sink.send(message).await.is_err() {
                return Ok(());
            }
        }
    }

    async fn contract_abi(&self, address: String) -> RpcResult<Option<serde_json::Value>> {
        let address = parse_address(&address, "address")?;
        let chain = self.state.chain();
        let Some(code_hash) = chain.account(&address).map_err(internal)?.code_hash else {
            return Ok(None);
        };
        let Some(code) = chain
            .store()
            .get(&StateKey::Code(code_hash).to_bytes())
            .map_err(internal)?
        else {
            return Ok(None);
        };
        match salus_client::abi::custom_section(&code, "salus_abi") {
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
            .map_err(|error| invalid(format!("bad multiaddr {address:?}: {error}")))?;
        network
            .ask(|reply| NetworkCommand::AddPeer(address, reply))
            .await
            .ok_or_else(|| internal("the network has stopped"))?
            .map_err(|error| invalid(format!("cannot dial: {error}")))?;
        Ok(true)
    }

    async fn net_ban_peer(&self, peer_id: String, seconds: u64) -> RpcResult<bool> {
        let network = self.require_network()?;
        let peer: libp2p::PeerId = peer_id
            .parse()
            .map_err(|error| invalid(format!("bad peer id {peer_id:?}: {error}")))?;
        if seconds == 0 || seconds > 365 * 24 * 3600 {
            return Err(invalid("a ban lasts 1 second to 1 year"));
        }
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
        let network = self.require_network()?;
        let peer: libp2p::PeerId = peer_id
            .parse()
            .map_err(|error| invalid(format!("bad peer id {peer_id:?}: {error}")))?;
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
        let chain = self.state.chain();
        Ok(NodeInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            chain_id: chain.params().chain_id,
            genesis: self.state.genesis.header.hash().to_string(),
            head: views::header(&chain.head().header),
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
                current: chain.head().header.number,
                target: progress.target,
                blocks_per_second: progress.blocks_per_second,
            },
        })
    }

    async fn dev_mine(&self, blocks: u32) -> RpcResult<Vec<String>> {
        self.require_dev()?;
        if blocks > 1_000 {
            return Err(invalid("at most 1000 blocks per call"));
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
        Ok(self.state.clock_offset_ms.fetch_add(ms, Ordering::Relaxed) + ms)
    }
}

/// Most events in one page of `events_query`.
const MAX_EVENTS_PER_PAGE: u32 = 1_000;
/// Most events one `events_query` call examines; past it, the page is returned with a cursor.
const MAX_EVENTS_SCANNED: usize = 100_000;

fn parse_cursor(cursor: &str) -> RpcResult<crate::storage::EventPosition> {
    let parts: Vec<&str> = cursor.split(':').collect();
    let bad = || {
        invalid(format!(
            "cursor `{cursor}`: expected block:transaction:event"
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
            return Err(invalid("at most 4 topics"));
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
        let Ok(contract) = record.event.contract.parse::<Address>() else {
            return false;
        };
        let topics: Vec<Hash> = record
            .event
            .topics
            .iter()
            .filter_map(|topic| topic.parse().ok())
            .collect();
        let data = hex::decode(record.event.data.trim_start_matches("0x")).unwrap_or_default();
        self.matches(&salus_primitives::Event {
            contract,
            topics,
            data,
        })
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
