//! The JSON-RPC interface of a Salus node, declared once: the node implements the generated
//! server trait, clients call the generated client trait. Method names are
//! `namespace_camelCase`; byte strings are `0x` hex; amounts and 64-bit numbers that JavaScript
//! cannot hold exactly are decimal strings.

use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

/// A block by number or by `0x` hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockId {
    /// Height on the canonical chain.
    Number(u64),
    /// Block hash.
    Hash(String),
}

/// A block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderView {
    /// Block hash.
    pub hash: String,
    /// Parent hash.
    pub parent_hash: String,
    /// Height.
    pub number: u64,
    /// Timestamp, ms.
    pub timestamp_ms: u64,
    /// Transactions root.
    pub transactions_root: String,
    /// Receipts root.
    pub receipts_root: String,
    /// State root.
    pub state_root: String,
    /// Compact target.
    pub bits: String,
    /// Proof-of-work nonce.
    pub nonce: String,
    /// Miner.
    pub miner: String,
}

/// A block: header and transaction hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    /// The header.
    pub header: HeaderView,
    /// Transaction hashes, in order.
    pub transactions: Vec<String>,
}

/// An event in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Emitting contract.
    pub contract: String,
    /// Topics.
    pub topics: Vec<String>,
    /// SCALE data, hex.
    pub data: String,
}

impl EventView {
    /// The event as the chain holds it, for decoding through a contract's ABI; `None` when a
    /// field is not what a node writes (an address, 32-byte hex topics, hex data).
    pub fn to_event(&self) -> Option<salus_primitives::Event> {
        Some(salus_primitives::Event {
            contract: self.contract.parse().ok()?,
            topics: self
                .topics
                .iter()
                .map(|topic| topic.parse().ok())
                .collect::<Option<Vec<_>>>()?,
            data: hex::decode(self.data.trim_start_matches("0x")).ok()?,
        })
    }
}

/// A transaction's receipt with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptView {
    /// Transaction hash.
    pub transaction_hash: String,
    /// Block hash.
    pub block_hash: String,
    /// Block number.
    pub block_number: u64,
    /// Position in the block.
    pub index: u32,
    /// `success`, `reverted`, `outOfFuel`, `trapped` or `invalid`.
    pub status: String,
    /// For failures, a one-line explanation (the revert message, trap kind or reason).
    pub failure: Option<String>,
    /// Fuel used.
    pub fuel_used: u64,
    /// Events emitted.
    pub events: Vec<EventView>,
    /// Return data, hex (for a deploy: the contract address).
    pub return_data: String,
    /// Blocks on top of the including block, plus one: clients choose a depth.
    pub confirmations: u64,
}

/// What became of one transaction of a `tx_submitBatch` call: its hash, or why it was refused
/// (exactly one of the two is present).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitOutcome {
    /// The transaction's hash, when admitted to the pool.
    pub hash: Option<String>,
    /// Why it was refused (the same message `tx_submit` would give).
    pub error: Option<String>,
}

/// Most transactions one `tx_submitBatch` call may carry.
pub const MAX_SUBMIT_BATCH: usize = 256;

/// A transaction and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// Hash.
    pub hash: String,
    /// Sender.
    pub from: String,
    /// Nonce.
    pub nonce: u64,
    /// `pending` or `included`.
    pub state: String,
    /// Including block, once included.
    pub block_hash: Option<String>,
    /// The SCALE-encoded signed transaction, hex.
    pub raw: String,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Nonce.
    pub nonce: u64,
    /// Balance, decimal.
    pub balance: String,
    /// For contracts, the code hash.
    pub code_hash: Option<String>,
}

/// A dry-run call, unsigned or signed by its caller (PRIVACY.md §5.7; build one with
/// [`crate::signed_call::DryRun`]).
///
/// Signed (`signature` and `expiresMs` present), it runs with caller and origin = `from`, once
/// the node has checked that the signature over
/// `keccak256("salus/call/v1" ‖ SCALE(chain id, from, contract, input, value, at, expiresMs))`
/// recovers to `from`, that `expiresMs` has not passed and that it is at most 10 minutes ahead
/// of the node's clock. Unsigned, it runs as the zero address, so a view that checks its caller
/// refuses it; an unsigned request naming any other `from` is refused. Refusals of the
/// signature have their own error code (-32060).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    /// The caller (and origin): the signer of a signed request; absent or the zero address in
    /// an unsigned one.
    #[serde(default)]
    pub from: Option<String>,
    /// The contract.
    pub contract: String,
    /// Selector and SCALE arguments, hex.
    pub input: String,
    /// Native value sent, decimal (default 0).
    #[serde(default)]
    pub value: Option<String>,
    /// Fuel limit: default 50,000,000 (the node's `DRY_RUN_DEFAULT_FUEL`, about 50 ms of work);
    /// at most the block fuel limit (more is refused, naming `fuel`).
    #[serde(default)]
    pub fuel: Option<u64>,
    /// Run against the state after this canonical block (default: the head), with that block's
    /// number and time.
    #[serde(default)]
    pub at: Option<BlockId>,
    /// The caller's recoverable secp256k1 signature (`r ‖ s ‖ v`, low-S), hex; see above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// When the signature expires: wall clock, ms since the Unix epoch. Required with a
    /// signature, refused without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
}

/// Fuel charged by one host function in a dry run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFunctionFuelView {
    /// Host function.
    pub function: String,
    /// Calls.
    pub calls: u64,
    /// Fuel charged.
    pub fuel: u64,
}

/// The result of a dry run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallResultView {
    /// As in receipts.
    pub status: String,
    /// For failures, the explanation.
    pub failure: Option<String>,
    /// Return data, hex.
    pub return_data: String,
    /// Events that would be emitted.
    pub events: Vec<EventView>,
    /// Fuel used.
    pub fuel_used: u64,
    /// Fuel per host function; the rest was Wasm instructions.
    pub fuel_by_host_function: Vec<HostFunctionFuelView>,
    /// What the validator or the engine said about a refusal (never part of a receipt, whose
    /// status is a stable code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// Software version.
    pub version: String,
    /// Chain id.
    pub chain_id: u64,
    /// Genesis hash.
    pub genesis: String,
    /// Head.
    pub head: HeaderView,
    /// Whether this is a dev chain (with `dev_*` methods).
    pub dev: bool,
    /// Pending transactions.
    pub pending_transactions: usize,
    /// Peer id on the peer-to-peer network (none when the node has no network).
    pub peer_id: Option<String>,
    /// Addresses peers can dial, each ending in `/p2p/<peer id>`.
    pub listen_addresses: Vec<String>,
    /// Sync progress.
    pub sync: SyncView,
}

/// Whether a node is catching up with its peers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncView {
    /// Catching up.
    pub syncing: bool,
    /// Local head number.
    pub current: u64,
    /// Best head number a peer reported.
    pub target: u64,
    /// Blocks imported per second during this sync.
    pub blocks_per_second: f64,
}

/// A connected peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerView {
    /// Peer id.
    pub peer_id: String,
    /// Remote address.
    pub address: String,
    /// `outbound` if this node dialled it, else `inbound`.
    pub direction: String,
    /// Reputation (0 is clean; banned at -100).
    pub score: i32,
    /// Its head number, once it said.
    pub head_number: Option<u64>,
    /// Its client version, once identified.
    pub agent: Option<String>,
}

/// Which events to return: one contract's, optionally filtered by topic position (`null`: any)
/// and block range, a page at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFilter {
    /// The emitting contract.
    pub contract: String,
    /// Required topics by position; `null` matches anything.
    #[serde(default)]
    pub topics: Vec<Option<String>>,
    /// First block (default 0).
    #[serde(default)]
    pub from_block: Option<u64>,
    /// Last block (default: the head).
    #[serde(default)]
    pub to_block: Option<u64>,
    /// Continue after this cursor (from a previous page's `next`).
    #[serde(default)]
    pub after: Option<String>,
    /// Most events returned: 1 to 1000 (default 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// An event with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// Block number.
    pub block_number: u64,
    /// Transaction index in the block.
    pub transaction_index: u32,
    /// Event index in the transaction.
    pub event_index: u16,
    /// Emitting transaction.
    pub transaction_hash: String,
    /// The event.
    #[serde(flatten)]
    pub event: EventView,
}

/// A page of events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// Matching events, in chain order.
    pub events: Vec<EventRecord>,
    /// Cursor for the next page, if the range may hold more.
    pub next: Option<String>,
}

/// A state proof: the value (or absence) of a key and the proof against a block's state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofView {
    /// The block whose state root the proof is against.
    pub block_hash: String,
    /// That block's state root.
    pub state_root: String,
    /// The flat state key, hex.
    pub key: String,
    /// The value, hex, or null if absent.
    pub value: Option<String>,
    /// The SCALE-encoded `StateProof`, hex; verify with `StateProof::verify`.
    pub proof: String,
}

/// The node's JSON-RPC API.
#[rpc(server, client)]
pub trait SalusApi {
    /// The canonical head's header.
    #[method(name = "chain_head")]
    async fn chain_head(&self) -> RpcResult<HeaderView>;

    /// A block by number (canonical) or hash.
    #[method(name = "chain_getBlock")]
    async fn chain_get_block(&self, id: BlockId) -> RpcResult<Option<BlockView>>;

    /// A header by number (canonical) or hash.
    #[method(name = "chain_getHeader")]
    async fn chain_get_header(&self, id: BlockId) -> RpcResult<Option<HeaderView>>;

    /// New canonical heads as they arrive.
    #[subscription(name = "chain_subscribeNewHeads" => "chain_newHead", unsubscribe = "chain_unsubscribeNewHeads", item = HeaderView)]
    async fn chain_subscribe_new_heads(&self) -> SubscriptionResult;

    /// Submits a SCALE-encoded signed transaction (hex); returns its hash.
    #[method(name = "tx_submit")]
    async fn tx_submit(&self, raw: String) -> RpcResult<String>;

    /// Submits up to [`MAX_SUBMIT_BATCH`] SCALE-encoded signed transactions (hex) in one call,
    /// admitted in order (so one sender's consecutive nonces may travel together); returns one
    /// outcome per transaction. One refusal does not stop the others.
    #[method(name = "tx_submitBatch")]
    async fn tx_submit_batch(&self, raws: Vec<String>) -> RpcResult<Vec<SubmitOutcome>>;

    /// A transaction, pending or included.
    #[method(name = "tx_get")]
    async fn tx_get(&self, hash: String) -> RpcResult<Option<TransactionView>>;

    /// The receipt of an included transaction, with confirmations.
    #[method(name = "tx_receipt")]
    async fn tx_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>>;

    /// An account at the head (or at block `at`).
    #[method(name = "state_getAccount")]
    async fn state_get_account(
        &self,
        address: String,
        at: Option<BlockId>,
    ) -> RpcResult<AccountView>;

    /// A contract storage value (hex key) at the head (or at block `at`).
    #[method(name = "state_getStorage")]
    async fn state_get_storage(
        &self,
        contract: String,
        key: String,
        at: Option<BlockId>,
    ) -> RpcResult<Option<String>>;

    /// A proof of an account (`key` = address) or contract storage (`contract` and hex `key`)
    /// against the state root of the head or block `at`.
    #[method(name = "state_getProof")]
    async fn state_get_proof(
        &self,
        contract: Option<String>,
        key: String,
        at: Option<BlockId>,
    ) -> RpcResult<ProofView>;

    /// A dry-run call at the head (or at block `at`): result, events and fuel per host function;
    /// nothing is committed. It runs as its signer when signed, as the zero address when not
    /// ([`CallRequest`]). Bounded by its fuel, a wall-clock limit and a limit on dry runs at
    /// once ("busy" when every place stayed taken).
    #[method(name = "state_call")]
    async fn state_call(&self, request: CallRequest) -> RpcResult<CallResultView>;

    /// The ABI a contract carries in its code, as JSON.
    #[method(name = "contract_abi")]
    async fn contract_abi(&self, address: String) -> RpcResult<Option<serde_json::Value>>;

    /// Events of a contract, filtered by topics and block range, a page at a time.
    #[method(name = "events_query")]
    async fn events_query(&self, filter: EventFilter) -> RpcResult<EventPage>;

    /// Events of new canonical blocks matching a filter (its range and cursor are ignored).
    #[subscription(name = "events_subscribe" => "events_event", unsubscribe = "events_unsubscribe", item = EventRecord)]
    async fn events_subscribe(&self, filter: EventFilter) -> SubscriptionResult;

    /// Connected peers.
    #[method(name = "net_peers")]
    async fn net_peers(&self) -> RpcResult<Vec<PeerView>>;

    /// Dials a peer by multiaddr (ending in `/p2p/<peer id>`). Operator only: the request must
    /// carry `Authorization: Bearer <token>` with the token in the node's `DATA_DIR/.cookie`.
    #[method(name = "net_addPeer")]
    async fn net_add_peer(&self, address: String) -> RpcResult<bool>;

    /// Disconnects and bans a peer for `seconds` (1 to a year). Operator only (the cookie
    /// token, as for `net_addPeer`).
    #[method(name = "net_banPeer")]
    async fn net_ban_peer(&self, peer_id: String, seconds: u64) -> RpcResult<bool>;

    /// Lifts a ban; returns whether the peer was banned. Operator only (the cookie token).
    #[method(name = "net_unbanPeer")]
    async fn net_unban_peer(&self, peer_id: String) -> RpcResult<bool>;

    /// What this node is.
    #[method(name = "node_info")]
    async fn node_info(&self) -> RpcResult<NodeInfo>;

    /// Dev chains only: mines `blocks` blocks (at most 1,000) now; returns their hashes.
    #[method(name = "dev_mine")]
    async fn dev_mine(&self, blocks: u32) -> RpcResult<Vec<String>>;

    /// Dev chains only: moves the clock of the next blocks forward by `ms`; returns the total
    /// offset (at most a century: more is refused, naming `ms`).
    #[method(name = "dev_increaseTime")]
    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::EventView;
    use salus_primitives::{Address, Hash};

    #[test]
    fn an_event_view_reads_back_as_the_event_and_a_malformed_field_as_none() {
        let view = EventView {
            contract: Address([0x11; 20]).to_string(),
            topics: vec![Hash([0x22; 32]).to_string()],
            data: "0x0102".into(),
        };
        let event = view.to_event().unwrap();
        assert_eq!(event.contract, Address([0x11; 20]));
        assert_eq!(event.topics, vec![Hash([0x22; 32])]);
        assert_eq!(event.data, vec![1, 2]);
        for broken in [
            EventView {
                contract: "0x11".into(),
                ..view.clone()
            },
            EventView {
                topics: vec!["0x22".into()],
                ..view.clone()
            },
            EventView {
                data: "0xzz".into(),
                ..view.clone()
            },
        ] {
            assert_eq!(broken.to_event(), None, "{broken:?}");
        }
    }
}
