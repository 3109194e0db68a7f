//! The chain pages: the head and recent blocks (live), a block, a transaction, an account or
//! contract, search, and the node's status.

use std::sync::atomic::Ordering;

use maud::{Markup, html};
use parity_scale_codec::{Compact, CompactLen, Decode};
use salus_client::abi::{ContractAbi, Field, Message};
use salus_client::rpc::{
    BlockId, BlockView, EventFilter, EventRecord, EventView, HeaderView, ReceiptView,
    SalusApiServer, TransactionView,
};
use salus_primitives::block::HEADER_ENCODED_LEN;
use salus_primitives::pow::{self, CompactTarget};
use salus_primitives::{Action, Address, Hash, SignedTransaction, keccak256, limits};

use super::format::{self, account_link, block_link, status_badge, time, transaction_link};
use super::page::{Page, PageError, PageResult};
use super::{Console, ConsoleRequest};

/// Blocks listed on the home page.
const RECENT_BLOCKS: u64 = 20;

/// Transactions of a block its page lists (the first ones; its fuel and size count them all).
const MAX_BLOCK_TRANSACTIONS_LISTED: usize = 200;

/// Blocks scanned for an account's recent transactions.
const ACCOUNT_SCAN_BLOCKS: u64 = 100;

/// Transactions listed on the home page and on an account's page (newest first), and the
/// newest transactions of each block its digest describes.
const RECENT_TRANSACTIONS: usize = 20;

/// Events listed on a contract's page, newest first.
const EVENTS_SHOWN: usize = 25;

/// Blocks a contract's page scans back for its events.
const EVENT_SCAN_BLOCKS: u64 = 1000;

/// Blocks of the first span scanned for events; spans double while they hold few events.
const FIRST_EVENT_SPAN: u64 = 16;

/// Smallest units of the native token in one whole unit (the CLI and the RPC count in the
/// smallest unit; dev accounts start with 10^6 whole units).
const SMALLEST_UNITS_PER_UNIT: u128 = 10u128.pow(18);

fn rpc_error(error: jsonrpsee::types::ErrorObjectOwned) -> PageError {
    PageError::from_rpc(error)
}

/// `number` with thousands separators (`1,234,567`).
fn grouped(number: u128) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// An amount of the native token, given in its smallest unit, in whole units written exactly
/// (`1,000,000 units`, `0.25 units`).
fn units(smallest: u128) -> String {
    if smallest == SMALLEST_UNITS_PER_UNIT {
        return "1 unit".into();
    }
    let whole = grouped(smallest / SMALLEST_UNITS_PER_UNIT);
    match smallest % SMALLEST_UNITS_PER_UNIT {
        0 => format!("{whole} units"),
        fraction => {
            let digits = SMALLEST_UNITS_PER_UNIT.ilog10() as usize;
            let fraction = format!("{fraction:0digits$}");
            format!("{whole}.{} units", fraction.trim_end_matches('0'))
        }
    }
}

/// An amount of the native token: in whole units, and in the smallest unit (as the CLI and
/// the RPC write it) when that is not a whole number of units.
fn amount(smallest: u128) -> Markup {
    html! {
        (units(smallest))
        @if !smallest.is_multiple_of(SMALLEST_UNITS_PER_UNIT) {
            " " span.muted { "(" (grouped(smallest)) " in the smallest unit)" }
        }
    }
}

/// A duration in microseconds in words (`850 µs`, `12.5 ms`, then as [`format::duration`]).
fn micros(micros: u64) -> String {
    match micros {
        0..1_000 => format!("{micros} µs"),
        1_000..1_000_000 => format!("{:.1} ms", micros as f64 / 1000.0),
        _ => format::duration(micros / 1000),
    }
}

/// How long ago `ms` was, by the node's clock (`12 s ago`).
fn ago(console: &Console, ms: u64) -> String {
    let now = console.state().now_ms();
    match now.checked_sub(ms) {
        Some(elapsed) => format!("{} ago", format::duration(elapsed)),
        None => "ahead of this node's clock".into(),
    }
}

/// The encoded size of a block: its header, then its transactions (the body, whose size the
/// consensus rules bound).
fn block_bytes(transaction_bytes: &[usize]) -> (usize, usize) {
    let body = Compact::<u32>::compact_len(&(transaction_bytes.len() as u32))
        + transaction_bytes.iter().sum::<usize>();
    (HEADER_ENCODED_LEN + body, body)
}

/// A failed receipt's reason without the status word the badge already shows
/// (`reverted: CounterError::NotOwner` → `CounterError::NotOwner`).
fn failure_reason(failure: &str) -> &str {
    ["reverted: ", "trapped: ", "refused: "]
        .into_iter()
        .find_map(|status| failure.strip_prefix(status))
        .unwrap_or(failure)
}

/// What a transaction does, from its signed bytes.
pub struct Summary {
    /// The decoded transaction.
    pub signed: SignedTransaction,
    /// Its sender.
    pub from: Address,
}

impl Summary {
    /// A stored transaction, its sender recovered from its signature.
    pub fn of_signed(signed: SignedTransaction) -> Result<Summary, PageError> {
        let from = signed
            .verify_signatures()
            .map_err(|error| PageError::Internal(format!("a stored transaction: {error}")))?
            .sender;
        Ok(Summary { signed, from })
    }

    /// Decodes a transaction view's raw bytes.
    pub fn of(view: &TransactionView) -> Result<Summary, PageError> {
        let bytes = hex::decode(view.raw.trim_start_matches("0x"))
            .map_err(|error| PageError::Internal(format!("transaction bytes: {error}")))?;
        let signed = SignedTransaction::decode(&mut &bytes[..]).map_err(|error| {
            PageError::Internal(format!("transaction does not decode: {error}"))
        })?;
        let from = view
            .from
            .parse()
            .map_err(|_| PageError::Internal(format!("sender `{}` is no address", view.from)))?;
        Ok(Summary { signed, from })
    }

    /// The address a deploy puts its contract at (as the runtime derives it: from the
    /// deployer, the code's hash and the salt).
    pub fn deployed_address(&self) -> Option<Address> {
        match &self.signed.transaction.action {
            Action::Deploy { code, salt, .. } => {
                Some(Address::contract(&self.from, &keccak256(code), salt))
            }
            _ => None,
        }
    }

    /// Whether `account` sent the transaction or receives its transfer.
    fn concerns(&self, account: &Address) -> bool {
        self.from == *account
            || matches!(&self.signed.transaction.action, Action::Transfer { to, .. } if to == account)
    }

    /// The action in a few words, with the message name when the contract's ABI knows it.
    pub async fn describe(&self, console: &Console) -> Markup {
        match &self.signed.transaction.action {
            Action::Transfer { to, amount } => html! {
                "Transfer of " (units(*amount)) " to " (account_link(&to.to_string()))
            },
            Action::Deploy { code, .. } => {
                let name = ContractAbi::from_wasm(code).ok().map(|abi| abi.contract);
                let address = self.deployed_address().map(|address| address.to_string());
                html! {
                    "Deploy of "
                    @if let Some(name) = name { "contract " code { (name) } } @else { (code.len()) " bytes of Wasm" }
                    @if let Some(address) = address { " at " (account_link(&address)) }
                }
            }
            Action::Call {
                contract, input, ..
            } => {
                let contract = contract.to_string();
                let message = match console.abi(&contract).await {
                    Ok(Some(abi)) => abi
                        .decode_call(input)
                        .ok()
                        .map(|(message, _)| message.name.clone()),
                    _ => None,
                };
                html! {
                    "Call of "
                    @if let Some(message) = message { code { (message) } } @else { "a message" }
                    " on " (account_link(&contract))
                }
            }
        }
    }
}

/// A transaction's direct call of a contract, decoded through the contract's on-chain ABI.
#[derive(Clone)]
pub struct DecodedCall {
    /// The transaction's signer.
    pub from: String,
    /// The message called.
    pub message: String,
    /// Its arguments by name.
    pub arguments: serde_json::Value,
    /// Its decoded return value, when the call succeeded.
    pub result: Option<serde_json::Value>,
}

/// The call transaction `hash` made of `contract`; `None` when the node does not know the
/// transaction, it is not a direct call of `contract` (a call through another contract is
/// not), or its input does not decode.
pub async fn decoded_call(
    console: &Console,
    hash: &str,
    contract: Address,
) -> Result<Option<DecodedCall>, PageError> {
    let Some(view) = console
        .rpc()
        .tx_get(hash.to_string())
        .await
        .map_err(rpc_error)?
    else {
        return Ok(None);
    };
    let summary = Summary::of(&view)?;
    let Action::Call {
        contract: called,
        input,
        ..
    } = &summary.signed.transaction.action
    else {
        return Ok(None);
    };
    if *called != contract {
        return Ok(None);
    }
    let Some(abi) = console.abi(&contract.to_string()).await? else {
        return Ok(None);
    };
    let Ok((message, arguments)) = abi.decode_call(input) else {
        return Ok(None);
    };
    let receipt = console
        .rpc()
        .tx_receipt(hash.to_string())
        .await
        .map_err(rpc_error)?;
    let result = receipt
        .filter(|receipt| receipt.status == "success")
        .and_then(|receipt| {
            let data = hex::decode(receipt.return_data.trim_start_matches("0x")).ok()?;
            abi.decode_result(&message.name, &data).ok()
        });
    Ok(Some(DecodedCall {
        from: view.from,
        message: message.name.clone(),
        arguments,
        result,
    }))
}

async fn block_view(console: &Console, id: BlockId) -> Result<Option<BlockView>, PageError> {
    console.rpc().chain_get_block(id).await.map_err(rpc_error)
}

/// What the lists of recent blocks show of a block, made once per block (the console keeps
/// digests by hash): its header, how many transactions it holds, and its newest
/// [`RECENT_TRANSACTIONS`] described — from one read of its body, where listing the block
/// through `chain_getBlock` and `tx_get` would decode the whole body once per transaction.
pub struct BlockDigest {
    /// The header.
    pub header: HeaderView,
    /// How many transactions it holds.
    pub transaction_count: usize,
    /// Its newest transactions, newest first.
    pub newest: Vec<RecentTransaction>,
}

impl BlockDigest {
    /// The digest of `block`.
    pub async fn of(
        console: &Console,
        block: super::StoredBlock,
    ) -> Result<BlockDigest, PageError> {
        let header = crate::service::views::header(&block.header);
        let transaction_count = block.transactions.len();
        let newest_signed: Vec<SignedTransaction> = block
            .transactions
            .into_iter()
            .rev()
            .take(RECENT_TRANSACTIONS)
            .collect();
        let summaries = summaries(newest_signed).await?;
        let mut newest = Vec::new();
        for summary in summaries {
            let what = summary.describe(console).await;
            newest.push(RecentTransaction {
                number: header.number,
                hash: summary.signed.hash().to_string(),
                summary,
                what,
            });
        }
        Ok(BlockDigest {
            header,
            transaction_count,
            newest,
        })
    }
}

/// The transactions' summaries, their senders recovered on a blocking thread.
async fn summaries(transactions: Vec<SignedTransaction>) -> Result<Vec<Summary>, PageError> {
    super::off_reactor(move || transactions.into_iter().map(Summary::of_signed).collect()).await
}

/// The digests of the last `count` canonical blocks up to `head`, newest first.
async fn recent_blocks(
    console: &Console,
    head: u64,
    count: u64,
) -> Result<Vec<std::sync::Arc<BlockDigest>>, PageError> {
    let first = head.saturating_sub(count.saturating_sub(1));
    let mut blocks = Vec::new();
    for number in (first..=head).rev() {
        let hash = console
            .state()
            .store()
            .canonical_hash(number)
            .map_err(|error| PageError::Internal(error.to_string()))?;
        if let Some(hash) = hash
            && let Some(digest) = console.digest(&hash).await?
        {
            blocks.push(digest);
        }
    }
    Ok(blocks)
}

/// A transaction of a recent block, described.
pub struct RecentTransaction {
    number: u64,
    hash: String,
    summary: Summary,
    what: Markup,
}

/// The transactions of the digests of `blocks` (newest first) that `keep` accepts, newest
/// first: at most [`RECENT_TRANSACTIONS`].
fn recent_transactions(
    blocks: &[std::sync::Arc<BlockDigest>],
    keep: impl Fn(&Summary) -> bool,
) -> Vec<&RecentTransaction> {
    blocks
        .iter()
        .flat_map(|block| &block.newest)
        .filter(|transaction| keep(&transaction.summary))
        .take(RECENT_TRANSACTIONS)
        .collect()
}

/// `/ui/`: the head and the recent blocks and transactions, live.
pub async fn home(console: &Console) -> PageResult {
    let head = console.rpc().chain_head().await.map_err(rpc_error)?;
    let blocks = recent_blocks(console, head.number, RECENT_BLOCKS).await?;
    let transactions = recent_transactions(&blocks, |_| true);
    let pending = console.state().mempool().len();
    Ok(Page::live(
        "The chain",
        html! {
            div.cards {
                div.card { div.muted { "Head" } div.figure { (block_link(head.number)) } div { (time(head.timestamp_ms)) } }
                div.card { div.muted { "Pending transactions" } div.figure data-pending { (pending) } }
            }
            h2 { "Recent blocks" }
            table {
                caption.muted { "The last " (blocks.len()) " blocks, newest first" }
                thead { tr { th scope="col" { "Block" } th scope="col" { "Time" } th scope="col" { "Hash" } th scope="col" { "Transactions" } th scope="col" { "Miner" } } }
                tbody {
                    @for block in &blocks {
                        tr data-block=(block.header.number) {
                            td { (block_link(block.header.number)) }
                            td { (time(block.header.timestamp_ms)) }
                            td { (format::block_hash_link(&block.header.hash)) }
                            td { (block.transaction_count) }
                            td { (account_link(&block.header.miner)) }
                        }
                    }
                }
            }
            h2 { "Recent transactions" }
            @if transactions.is_empty() {
                p.muted { "No transactions in the recent blocks." }
            } @else {
                table {
                    caption.muted { "Transactions of the recent blocks, newest first" }
                    thead { tr { th scope="col" { "Transaction" } th scope="col" { "Block" } th scope="col" { "From" } th scope="col" { "What" } } }
                    tbody {
                        @for transaction in &transactions {
                            tr data-transaction=(transaction.hash) {
                                td { (transaction_link(&transaction.hash)) }
                                td { (block_link(transaction.number)) }
                                td { (account_link(&transaction.summary.from.to_string())) }
                                td { (transaction.what) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A header's proof of work: the target its bits name, the hash's leading zero bits, whether
/// the hash meets the target (every stored block's does), and the work it adds; the genesis
/// block has none.
fn proof_of_work(header: &HeaderView) -> Markup {
    if header.number == 0 {
        return html! { p { "None: the genesis block is agreed on, not mined." } };
    }
    let bits = u32::from_str_radix(header.bits.trim_start_matches("0x"), 16).ok();
    let compact = bits.map(CompactTarget);
    let target = compact.and_then(|compact| compact.to_target().ok());
    let hash: Option<Hash> = header.hash.parse().ok();
    let meets = match (&hash, &target) {
        (Some(hash), Some(target)) => Some(pow::hash_meets_target(hash, target)),
        _ => None,
    };
    html! {
        dl.fields {
            dt { "Bits (compact target)" } dd.mono { (header.bits) }
            @if let Some(target) = target {
                dt { "Target" } dd.mono { (format!("{target:#066x}")) }
            }
            @if let Some(hash) = &hash {
                dt { "Leading zero bits of the hash" } dd { (pow::leading_zero_bits(hash)) }
            }
            dt { "Hash meets the target" } dd {
                @match meets { Some(true) => { span.status.ok { "Yes" } } Some(false) => { span.status.bad { "No" } } None => { span.muted { "cannot tell" } } }
            }
            @if let Some(work) = compact.and_then(|compact| compact.work().ok()) {
                dt { "Work (expected hashes)" } dd { (work) }
            }
            dt { "Nonce" } dd.mono { (header.nonce) }
        }
    }
}

/// Parses a block address: a decimal number or a `0x` hash.
fn block_id(text: &str) -> Result<BlockId, PageError> {
    if let Ok(number) = text.parse::<u64>() {
        return Ok(BlockId::Number(number));
    }
    if text.len() == 66
        && text.starts_with("0x")
        && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok(BlockId::Hash(text.to_ascii_lowercase()));
    }
    Err(PageError::BadRequest(format!(
        "`{text}` is neither a block number nor a 0x block hash"
    )))
}

/// A transaction of a block, with its receipt (none on a side branch never executed).
struct BlockTransaction<'a> {
    hash: String,
    from: Address,
    receipt: Option<&'a salus_primitives::Receipt>,
    what: Markup,
}

/// `/ui/block/<number or hash>`: the header, its proof of work, size and fuel, and its
/// transactions; live while it has no child.
pub async fn block(console: &Console, id: &str) -> PageResult {
    let header_at = |id| async move { console.rpc().chain_get_header(id).await.map_err(rpc_error) };
    let Some(header) = header_at(block_id(id)?).await? else {
        return Err(PageError::NotFound(format!("no block {id} on this chain")));
    };
    let header = &header;
    let parent = match header.number {
        0 => None,
        _ => header_at(BlockId::Hash(header.parent_hash.clone())).await?,
    };
    let canonical = header_at(BlockId::Number(header.number))
        .await?
        .is_some_and(|canonical| canonical.hash == header.hash);
    let child = match canonical {
        true => header_at(BlockId::Number(header.number + 1))
            .await?
            .filter(|child| child.parent_hash == header.hash),
        false => None,
    };
    // One read of the body and one of the receipts, not one of each per transaction.
    let block_hash: Hash = header
        .hash
        .parse()
        .map_err(|_| PageError::Internal(format!("block hash `{}`", header.hash)))?;
    let stored = console
        .stored_block(&block_hash)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("no block {id} on this chain")))?;
    let transaction_count = stored.transactions.len();
    let sizes: Vec<usize> = stored
        .transactions
        .iter()
        .map(parity_scale_codec::Encode::encoded_size)
        .collect();
    let listed = summaries(
        stored
            .transactions
            .into_iter()
            .take(MAX_BLOCK_TRANSACTIONS_LISTED)
            .collect(),
    )
    .await?;
    let mut rows = Vec::new();
    for (index, summary) in listed.into_iter().enumerate() {
        let what = summary.describe(console).await;
        rows.push(BlockTransaction {
            hash: summary.signed.hash().to_string(),
            from: summary.from,
            receipt: stored.receipts.get(index),
            what,
        });
    }
    let fuel_used: Option<u64> = (stored.receipts.len() == transaction_count).then(|| {
        stored
            .receipts
            .iter()
            .map(|receipt| receipt.fuel_used)
            .sum()
    });
    let size = Some(block_bytes(&sizes));
    let all_read = rows.len() == transaction_count;
    let fuel_limit = console.state().chain_params().block_fuel_limit;
    let body = html! {
        dl.fields {
            dt { "Hash" } dd.mono { (header.hash) }
            dt { "On the canonical chain" } dd {
                @if canonical { "yes" } @else { span.status.warn { "No" } " a block of a branch the node does not follow" }
            }
            dt { "Parent" } dd {
                @if header.number == 0 { span.muted { "none (the genesis block)" } }
                @else { "#" (header.number - 1) " " (format::block_hash_link(&header.parent_hash)) }
            }
            dt { "Next block" } dd {
                @match &child {
                    Some(child) => { "#" (child.number) " " (format::block_hash_link(&child.hash)) }
                    None if canonical => { span.muted { "none yet (this is the head)" } }
                    None => { span.muted { "not on the canonical chain" } }
                }
            }
            dt { "Time" } dd { (time(header.timestamp_ms)) }
            @if let Some(parent) = &parent {
                dt { "After its parent" } dd { (format::duration(header.timestamp_ms.saturating_sub(parent.timestamp_ms))) }
            }
            dt { "Miner" } dd { (account_link(&header.miner)) }
            @if let Some(fuel_used) = fuel_used {
                dt { "Fuel used" } dd { (grouped(fuel_used.into())) " of " (grouped(fuel_limit.into())) " a block may reserve" }
            }
            @if let Some((total, body)) = size {
                dt { "Size" } dd {
                    (grouped(total as u128)) " bytes (header " (HEADER_ENCODED_LEN) ", transactions "
                    (grouped(body as u128)) "; a block's transactions may take up to "
                    (grouped(limits::MAX_BLOCK_BODY_BYTES as u128)) ")"
                }
            }
            dt { "Transactions root" } dd.mono { (header.transactions_root) }
            dt { "Receipts root" } dd.mono { (header.receipts_root) }
            dt { "State root" } dd.mono { (header.state_root) }
        }
        h2 { "Proof of work" }
        (proof_of_work(header))
        h2 { "Transactions (" (transaction_count) ")" }
        @if !all_read {
            p.muted { "The first " (rows.len()) " are listed." }
        }
        @if rows.is_empty() {
            p.muted { "This block has no transactions." }
        } @else {
            table {
                thead { tr { th scope="col" { "#" } th scope="col" { "Transaction" } th scope="col" { "From" } th scope="col" { "What" } th scope="col" { "Status" } th scope="col" { "Fuel" } } }
                tbody {
                    @for (index, row) in rows.iter().enumerate() {
                        tr {
                            td { (index) }
                            td { (transaction_link(&row.hash)) }
                            td { (account_link(&row.from.to_string())) }
                            td { (row.what) }
                            td { @if let Some(receipt) = row.receipt { (status_badge(&crate::service::views::status(&receipt.status).0)) } }
                            td { @if let Some(receipt) = row.receipt { (grouped(receipt.fuel_used.into())) } }
                        }
                    }
                }
            }
        }
    };
    let title = format!("Block #{}", header.number);
    Ok(match canonical && child.is_none() {
        true => Page::live(title, body),
        false => Page::fixed(title, body),
    })
}

/// `/ui/search?q=`: a block number, a block or transaction hash, or an address, sent to its
/// page; anything else is answered with what the console could not find.
pub async fn search(console: &Console, request: &ConsoleRequest) -> PageResult {
    let Some(query) = request.param("q") else {
        return Err(PageError::BadRequest(
            "search for a block number, a block or transaction hash, or an address".into(),
        ));
    };
    if let Ok(number) = query.parse::<u64>() {
        return match block_view(console, BlockId::Number(number)).await? {
            Some(_) => Ok(Page::redirect(format!("/ui/block/{number}"))),
            None => Err(PageError::NotFound(format!("no block #{number} yet"))),
        };
    }
    let hex = query.to_ascii_lowercase();
    let is_hex = hex.starts_with("0x") && hex[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && hex.len() == 66 {
        if console
            .rpc()
            .tx_get(hex.clone())
            .await
            .map_err(rpc_error)?
            .is_some()
        {
            return Ok(Page::redirect(format!("/ui/tx/{hex}")));
        }
        if block_view(console, BlockId::Hash(hex.clone()))
            .await?
            .is_some()
        {
            return Ok(Page::redirect(format!("/ui/block/{hex}")));
        }
        return Err(PageError::NotFound(format!(
            "no block or transaction has the hash {hex}"
        )));
    }
    if is_hex && hex.len() == 42 {
        return Ok(Page::redirect(format!("/ui/account/{hex}")));
    }
    Err(PageError::BadRequest(format!(
        "`{query}` is not a block number, a 0x hash (64 hex digits) or a 0x address (40)"
    )))
}

/// The arguments of a call or constructor decoded through the contract's ABI, in the
/// message's order.
fn decoded_arguments(message: &Message, arguments: &serde_json::Value) -> Markup {
    html! {
        @if message.args.is_empty() {
            p.muted { "No arguments." }
        } @else {
            dl.fields {
                @for field in &message.args {
                    dt { (field.name) " " span.muted { "(" (field.ty) ")" } }
                    dd { (format::value(&arguments[&field.name])) }
                }
            }
        }
    }
}

/// An event decoded through `abi` (`{ "event": name, "fields": {…} }`), if it is one of the
/// ABI's events and decodes.
fn decode_event(abi: &ContractAbi, view: &EventView) -> Option<serde_json::Value> {
    abi.decode_event(&view.to_event()?).ok().flatten()
}

/// An event as its name and decoded fields, or as its raw data when it does not decode.
fn event_content(decoded: Option<&serde_json::Value>, view: &EventView) -> Markup {
    html! {
        @match decoded {
            Some(decoded) => {
                strong { (decoded["event"].as_str().unwrap_or("event")) }
                (format::value(&decoded["fields"]))
            }
            None => {
                "An event the console cannot decode: "
                code title=(view.data) { (format::short(&view.data)) }
            }
        }
    }
}

/// A receipt's event, decoded through its contract's ABI when the console can read it.
async fn event(console: &Console, view: &EventView) -> Markup {
    let decoded = match console.abi(&view.contract).await {
        Ok(Some(abi)) => decode_event(&abi, view),
        _ => None,
    };
    html! {
        li { "From " (account_link(&view.contract)) ": " (event_content(decoded.as_ref(), view)) }
    }
}

/// A deploy's contract: its address and, when its code carries an ABI, the constructor's
/// arguments decoded.
fn deployment(summary: &Summary, receipt: Option<&ReceiptView>) -> Markup {
    let Action::Deploy {
        code,
        constructor_input,
        ..
    } = &summary.signed.transaction.action
    else {
        return html! {};
    };
    let address = summary
        .deployed_address()
        .map(|address| address.to_string());
    let abi = ContractAbi::from_wasm(code);
    html! {
        h2 { "Deployed contract" }
        dl.fields {
            @if let Some(address) = &address {
                dt { "Address" } dd {
                    @match receipt.map(|receipt| receipt.status.as_str()) {
                        Some("success") => { (account_link(address)) }
                        Some(_) => { code { (address) } " " span.muted { "(the deploy failed: nothing is there)" } }
                        None => { code { (address) } " " span.muted { "(once mined)" } }
                    }
                }
            }
            dt { "Code" } dd { (grouped(code.len() as u128)) " bytes of Wasm, hash " code { (keccak256(code).to_string()) } }
            @if let Ok(abi) = &abi { dt { "Contract" } dd { code { (abi.contract) } } }
        }
        @match &abi {
            Ok(abi) => {
                @if let Some(constructor) = &abi.constructor {
                    h3 { "Constructor arguments" }
                    @match abi.decode_call(constructor_input) {
                        Ok((_, arguments)) => { (decoded_arguments(constructor, &arguments)) }
                        Err(error) => { p.error { "The constructor input does not decode with the code's ABI: " (error.to_string()) } }
                    }
                }
            }
            Err(error) => { p.muted { "The code carries no ABI the console can read (" (error.to_string()) "), so its constructor input is not decoded." } }
        }
    }
}

/// `/ui/tx/<hash>`: what the transaction does (arguments decoded through the contract's
/// on-chain ABI, or a deploy's contract and constructor arguments), its receipt (status and
/// reason, fuel and fee, the result and the events, decoded); live (a pending transaction is
/// mined, confirmations grow).
pub async fn transaction(console: &Console, hash: &str) -> PageResult {
    let Some(view) = console
        .rpc()
        .tx_get(hash.to_string())
        .await
        .map_err(rpc_error)?
    else {
        return Err(PageError::NotFound(format!(
            "no transaction {hash} is known to this node"
        )));
    };
    let receipt = console
        .rpc()
        .tx_receipt(hash.to_string())
        .await
        .map_err(rpc_error)?;
    let summary = Summary::of(&view)?;
    let what = summary.describe(console).await;
    let transaction = &summary.signed.transaction;
    let mut call = None;
    if let Action::Call {
        contract, input, ..
    } = &transaction.action
        && let Ok(Some(abi)) = console.abi(&contract.to_string()).await
    {
        call = Some(match abi.decode_call(input) {
            Ok((message, arguments)) => {
                let result = receipt
                    .as_ref()
                    .filter(|receipt| receipt.status == "success")
                    .and_then(|receipt| {
                        let data =
                            hex::decode(receipt.return_data.trim_start_matches("0x")).ok()?;
                        abi.decode_result(&message.name, &data).ok()
                    });
                html! {
                    h2 { "Message " code { (message.name) } }
                    (decoded_arguments(message, &arguments))
                    @if let Some(result) = result {
                        h3 { "Result" }
                        (format::value(&result))
                    }
                }
            }
            Err(error) => {
                html! { p.error { "The input does not decode with the contract's ABI: " (error.to_string()) } }
            }
        });
    }
    let mut events = Vec::new();
    if let Some(receipt) = &receipt {
        for view in &receipt.events {
            events.push(event(console, view).await);
        }
    }
    let title = if receipt.is_some() {
        "Transaction"
    } else {
        "Pending transaction"
    };
    let value = transaction.value();
    let body = html! {
        dl.fields {
            dt { "Hash" } dd.mono { (view.hash) }
            dt { "Status" } dd data-status {
                @match &receipt {
                    Some(receipt) => {
                        (status_badge(&receipt.status))
                        @if let Some(failure) = &receipt.failure { " " span.error { (failure_reason(failure)) } }
                    }
                    None => { (status_badge("pending")) " waiting to be mined" }
                }
            }
            @if let Some(receipt) = &receipt {
                dt { "Block" } dd { (block_link(receipt.block_number)) ", position " (receipt.index) " (" (receipt.confirmations) " confirmations)" }
            }
            dt { "From" } dd { (account_link(&view.from)) }
            @if let Some(sponsor) = &transaction.sponsor {
                dt { "Fuel paid by" } dd { (account_link(&sponsor.to_string())) }
            }
            dt { "Nonce" } dd { (view.nonce) }
            dt { "What" } dd { (what) }
            @if value > 0 && !matches!(transaction.action, Action::Transfer { .. }) {
                dt { "Value sent" } dd { (amount(value)) }
            }
            dt { "Fuel" } dd {
                @if let Some(receipt) = &receipt { (grouped(receipt.fuel_used.into())) " used of " }
                (grouped(transaction.fuel_limit.into())) " allowed"
            }
            dt { "Fuel price" } dd { (grouped(transaction.fuel_price)) " " span.muted { "(of the token's smallest unit, per unit of fuel)" } }
            @if let Some(receipt) = &receipt {
                dt { "Fee" } dd { (amount(u128::from(receipt.fuel_used).saturating_mul(transaction.fuel_price))) }
            }
        }
        @if let Some(call) = call { (call) }
        (deployment(&summary, receipt.as_ref()))
        @if receipt.is_some() {
            h2 { "Events (" (events.len()) ")" }
            @if events.is_empty() { p.muted { "None." } } @else { ol { @for event in &events { (event) } } }
        }
    };
    Ok(Page::live(title, body))
}

/// Where an event is in the chain (block, transaction, event), ordered as the chain.
type EventPosition = (u64, u32, u16);

/// An event position as the `before` parameter and the RPC's cursors write it
/// (`block:transaction:event`).
fn position_text((block, transaction, event): EventPosition) -> String {
    format!("{block}:{transaction}:{event}")
}

/// Parses [`position_text`]'s form.
fn parse_position(text: &str) -> Option<EventPosition> {
    let mut parts = text.split(':');
    let position = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    parts.next().is_none().then_some(position)
}

fn position_of(record: &EventRecord) -> EventPosition {
    (
        record.block_number,
        record.transaction_index,
        record.event_index,
    )
}

/// A contract's newest events before a position.
struct RecentEvents {
    /// Newest first, at most [`EVENTS_SHOWN`].
    events: Vec<EventRecord>,
    /// The blocks scanned: from this one…
    from: u64,
    /// …to this one.
    to: u64,
}

/// The newest events of `contract` before `before`, newest first, from at most
/// [`EVENT_SCAN_BLOCKS`] blocks. The blocks are scanned backwards a span at a time: a span
/// doubles while spans hold few events and is halved when one holds more than a page; a
/// single block with more than a page is read a page at a time.
async fn recent_events(
    console: &Console,
    contract: &str,
    before: EventPosition,
) -> Result<RecentEvents, PageError> {
    let query = |from, to, after| async move {
        console
            .rpc()
            .events_query(EventFilter {
                contract: contract.to_string(),
                from_block: Some(from),
                to_block: Some(to),
                after,
                ..EventFilter::default()
            })
            .await
            .map_err(rpc_error)
    };
    // The last block that may hold an event before `before`.
    let last = match before {
        (block, 0, 0) => block.saturating_sub(1),
        (block, _, _) => block,
    };
    let floor = last.saturating_sub(EVENT_SCAN_BLOCKS - 1);
    let mut to = last;
    let mut span = FIRST_EVENT_SPAN;
    let mut events = Vec::new();
    loop {
        let from = to.saturating_sub(span - 1).max(floor);
        let mut page = query(from, to, None).await?;
        if page.next.is_some() && from < to {
            span = (to - from).div_ceil(2);
            continue;
        }
        let wanted = EVENTS_SHOWN - events.len();
        let mut found: Vec<EventRecord> = Vec::new();
        loop {
            found.extend(
                page.events
                    .into_iter()
                    .filter(|record| position_of(record) < before),
            );
            found.drain(..found.len().saturating_sub(wanted));
            let Some(after) = page.next else { break };
            page = query(from, to, Some(after)).await?;
        }
        events.extend(found.into_iter().rev());
        if events.len() == EVENTS_SHOWN || from == floor {
            return Ok(RecentEvents {
                events,
                from,
                to: last,
            });
        }
        to = from - 1;
        span = span.saturating_mul(2);
    }
}

/// A list of message or event fields: `name: type`, topics marked.
fn fields(fields: &[Field]) -> Markup {
    html! {
        @if fields.is_empty() { span.muted { "none" } } @else {
            ul {
                @for field in fields {
                    li {
                        (field.name) ": " code { (field.ty) }
                        @if field.topic { " " span.status.neutral { "topic" } }
                    }
                }
            }
        }
    }
}

/// A contract's ABI as tables: its messages, constructor, events and errors.
fn abi_tables(abi: &ContractAbi) -> Markup {
    html! {
        h2 { "Interface of " code { (abi.contract) } }
        p.muted {
            "Read from the contract's code on chain (ABI version " (abi.abi_version) "); "
            @if abi.reentrant { "it may be re-entered." } @else { "it may not be re-entered." }
        }
        h3 { "Messages (" (abi.messages.len()) ")" }
        table {
            caption.muted { "A view only reads; a call is sent as a transaction" }
            thead { tr { th scope="col" { "Message" } th scope="col" { "Kind" } th scope="col" { "Arguments" } th scope="col" { "Returns" } th scope="col" { "Error" } th scope="col" { "Selector" } } }
            tbody {
                @for message in abi.constructor.iter().chain(&abi.messages) {
                    tr {
                        th scope="row" { code { (message.name) } }
                        td {
                            @if abi.constructor.as_ref() == Some(message) { "constructor" }
                            @else if message.view { "view" } @else { "call" }
                        }
                        td { (fields(&message.args)) }
                        td { @if let Some(returns) = &message.returns { code { (returns) } } @else { span.muted { "nothing" } } }
                        td { @if let Some(error) = &message.error { code { (error) } } @else { span.muted { "none" } } }
                        td.mono { (message.selector) }
                    }
                }
            }
        }
        h3 { "Events (" (abi.events.len()) ")" }
        @if abi.events.is_empty() { p.muted { "It emits no events." } } @else {
            table {
                caption.muted { "Topic fields can be filtered on (events_query)" }
                thead { tr { th scope="col" { "Event" } th scope="col" { "Fields" } } }
                tbody {
                    @for event in &abi.events {
                        tr { th scope="row" { code { (event.name) } } td { (fields(&event.fields)) } }
                    }
                }
            }
        }
        h3 { "Errors (" (abi.errors.len()) ")" }
        @if abi.errors.is_empty() { p.muted { "It declares no error types." } } @else {
            table {
                thead { tr { th scope="col" { "Error type" } th scope="col" { "Variants" } } }
                tbody {
                    @for error in &abi.errors {
                        tr {
                            th scope="row" { code { (error.name) } }
                            td { @for (index, variant) in error.variants.iter().enumerate() { @if index > 0 { ", " } code { (variant) } } }
                        }
                    }
                }
            }
        }
    }
}

/// A contract's recent events, decoded, with a link to older ones (and back to the newest
/// when `paged`).
fn events_table(
    address: &str,
    abi: Option<&ContractAbi>,
    recent: &RecentEvents,
    paged: bool,
) -> Markup {
    let older = match recent.events.last() {
        Some(last) if recent.events.len() == EVENTS_SHOWN => Some(position_of(last)),
        _ if recent.from > 0 => Some((recent.from, 0, 0)),
        _ => None,
    };
    html! {
        h2 { "Recent events" }
        @if recent.events.len() < EVENTS_SHOWN {
            p.muted {
                @match recent.events.len() { 0 => { "No events" } 1 => { "1 event" } count => { (count) " events" } }
                @if recent.from == recent.to { " in block #" (recent.to) "." }
                @else { " in blocks #" (recent.from) " to #" (recent.to) "." }
            }
        }
        @if !recent.events.is_empty() {
            table {
                caption.muted { "Newest first, decoded through its ABI" }
                thead { tr { th scope="col" { "Block" } th scope="col" { "Transaction" } th scope="col" { "Event" } } }
                tbody {
                    @for record in &recent.events {
                        tr {
                            td { (block_link(record.block_number)) }
                            td { (transaction_link(&record.transaction_hash)) }
                            td { (event_content(abi.and_then(|abi| decode_event(abi, &record.event)).as_ref(), &record.event)) }
                        }
                    }
                }
            }
        }
        @if older.is_some() || paged {
            p {
                @if let Some(older) = older {
                    a href={ "/ui/account/" (address) "?before=" (position_text(older)) } { "Older events" } " "
                }
                @if paged { a href={ "/ui/account/" (address) } { "Newest events" } }
            }
        }
    }
}

/// The transactions of the recent blocks an account sent or received a transfer from, found
/// among the newest [`RECENT_TRANSACTIONS`] of each block; `busy_blocks` held more.
fn account_transactions(
    account: &Address,
    transactions: &[&RecentTransaction],
    busy_blocks: usize,
) -> Markup {
    html! {
        h2 { "Recent transactions" }
        p {
            "The node keeps no index of an account's transactions: listed are those among the "
            "transactions of the last " (ACCOUNT_SCAN_BLOCKS) " blocks that it sent or that "
            "transferred to it (the newest " (RECENT_TRANSACTIONS) " at most)."
        }
        @if busy_blocks > 0 {
            p.muted {
                (busy_blocks) " of those blocks held more than " (RECENT_TRANSACTIONS)
                " transactions: only the newest " (RECENT_TRANSACTIONS) " of each were looked at."
            }
        }
        @if transactions.is_empty() {
            p.muted { "None." }
        } @else {
            table {
                caption.muted { "Newest first" }
                thead { tr { th scope="col" { "Transaction" } th scope="col" { "Block" } th scope="col" { "Direction" } th scope="col" { "What" } } }
                tbody {
                    @for transaction in transactions {
                        tr {
                            td { (transaction_link(&transaction.hash)) }
                            td { (block_link(transaction.number)) }
                            td { @if transaction.summary.from == *account { "Sent" } @else { "Received" } }
                            td { (transaction.what) }
                        }
                    }
                }
            }
        }
    }
}

/// `/ui/account/<address>[?before=block:transaction:event]`: balance, nonce and code hash;
/// for a contract its ABI and its recent events (older ones from `before`), for a plain
/// account its transactions of the recent blocks. Live unless it shows older events.
pub async fn account(console: &Console, address: &str, request: &ConsoleRequest) -> PageResult {
    let not_an_address = || PageError::BadRequest(format!("`{address}` is not a 0x address"));
    if !format::is_address(address) {
        return Err(not_an_address());
    }
    let parsed: Address = address.parse().map_err(|_| not_an_address())?;
    let address = parsed.to_string();
    let before = match request.param("before") {
        Some(text) => Some(parse_position(text).ok_or_else(|| {
            PageError::BadRequest(format!(
                "before: `{text}` is not a position block:transaction:event"
            ))
        })?),
        None => None,
    };
    let account = console
        .rpc()
        .state_get_account(address.clone(), None)
        .await
        .map_err(rpc_error)?;
    let balance: u128 = account.balance.parse().map_err(|_| {
        PageError::Internal(format!("balance `{}` is not a number", account.balance))
    })?;
    let head = console.rpc().chain_head().await.map_err(rpc_error)?;
    let activity = match &account.code_hash {
        Some(_) => {
            let abi = console.abi(&address).await?;
            let newest = (head.number, u32::MAX, u16::MAX);
            let before = before.map_or(newest, |before| before.min(newest));
            let recent = recent_events(console, &address, before).await?;
            html! {
                @match &abi {
                    Some(abi) => { (abi_tables(abi)) }
                    None => { p.muted { "Its code carries no ABI: its messages and events cannot be decoded." } }
                }
                (events_table(&address, abi.as_deref(), &recent, before != newest))
            }
        }
        None => {
            let blocks = recent_blocks(console, head.number, ACCOUNT_SCAN_BLOCKS).await?;
            let transactions = recent_transactions(&blocks, |summary| summary.concerns(&parsed));
            let busy_blocks = blocks
                .iter()
                .filter(|block| block.transaction_count > RECENT_TRANSACTIONS)
                .count();
            account_transactions(&parsed, &transactions, busy_blocks)
        }
    };
    let title = format::contract_name(&address).unwrap_or(match account.code_hash {
        Some(_) => "Contract",
        None => "Account",
    });
    let body = html! {
        dl.fields {
            dt { "Address" } dd.mono { (address) }
            dt { "Balance" } dd data-balance { (amount(balance)) }
            dt { "Nonce" } dd {
                (account.nonce)
                @if account.code_hash.is_none() { " " span.muted { "(transactions it has sent)" } }
            }
            dt { "Code hash" } dd { @if let Some(code) = &account.code_hash { code { (code) } } @else { span.muted { "none (not a contract)" } } }
        }
        (activity)
    };
    Ok(match before {
        Some(_) => Page::fixed(title, body),
        None => Page::live(title, body),
    })
}

/// The node's counters since it started, in words.
fn metrics_table(console: &Console) -> Markup {
    let state = console.state();
    let metrics = state.metrics();
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let blocks = load(&metrics.blocks_connected);
    let import = load(&metrics.import_micros);
    let (pending, pending_bytes) = {
        let pool = state.mempool();
        (pool.len(), pool.bytes())
    };
    let orphans = state.chain().orphan_count();
    let rows: [(&str, String); 13] = [
        ("Blocks added to the chain", grouped(blocks.into())),
        (
            "Transactions in those blocks",
            grouped(load(&metrics.transactions).into()),
        ),
        (
            "Fuel used by those blocks",
            grouped(load(&metrics.fuel_used).into()),
        ),
        ("Time spent importing blocks", micros(import)),
        (
            "Average import time per block",
            micros(import.checked_div(blocks).unwrap_or(0)),
        ),
        (
            "Import time of the last block",
            micros(load(&metrics.last_import_micros)),
        ),
        ("Connected peers", grouped(load(&metrics.peers).into())),
        ("Pending transactions", grouped(pending as u128)),
        (
            "Bytes of pending transactions",
            grouped(pending_bytes as u128),
        ),
        ("Blocks waiting for their parent", grouped(orphans as u128)),
        (
            "Dry runs (state_call) running now",
            grouped(load(&metrics.dry_runs_running).into()),
        ),
        (
            "Dry runs refused as busy",
            grouped(load(&metrics.dry_runs_busy).into()),
        ),
        (
            "Dry runs that timed out",
            grouped(load(&metrics.dry_runs_timed_out).into()),
        ),
    ];
    html! {
        table {
            caption.muted { "Since the node started (Prometheus reads them with --metrics-addr)" }
            thead { tr { th scope="col" { "Counter" } th scope="col" { "Value" } } }
            tbody {
                @for (name, value) in rows {
                    tr { th scope="row" { (name) } td { (value) } }
                }
            }
        }
    }
}

/// `/ui/status`: the node (version, chain, head, peer id and addresses), its peers, its sync
/// progress, its pending transactions and its metrics; live.
pub async fn status(console: &Console) -> PageResult {
    let info = console.rpc().node_info().await.map_err(rpc_error)?;
    let peers = console.rpc().net_peers().await.map_err(rpc_error)?;
    let sync = &info.sync;
    let target = sync.target.max(sync.current);
    Ok(Page::live(
        "Node status",
        html! {
            div.cards {
                div.card { div.muted { "Head" } div.figure { (block_link(info.head.number)) } div { (ago(console, info.head.timestamp_ms)) } }
                div.card { div.muted { "Peers" } div.figure { (peers.len()) } }
                div.card { div.muted { "Pending transactions" } div.figure data-pending { (info.pending_transactions) } }
                div.card { div.muted { "Sync" } div.figure { @if sync.syncing { "Catching up" } @else { "In step" } } }
            }
            h2 { "This node" }
            dl.fields {
                dt { "Version" } dd { (info.version) }
                dt { "Chain id" } dd { (info.chain_id) @if info.dev { " (a dev chain: dev_* methods answer)" } }
                dt { "Genesis" } dd { (format::block_hash_link(&info.genesis)) }
                dt { "Head" } dd { (block_link(info.head.number)) " " (format::block_hash_link(&info.head.hash)) ", " (time(info.head.timestamp_ms)) }
                dt { "Peer id" } dd {
                    @if let Some(peer_id) = &info.peer_id { code { (peer_id) } } @else { span.muted { "none: this node is not on a peer-to-peer network" } }
                }
                @if !info.listen_addresses.is_empty() {
                    dt { "Listening on" } dd { ul { @for address in &info.listen_addresses { li { code { (address) } } } } }
                }
                @let contracts = console.contracts();
                @for (name, address) in [("Consent", contracts.consent), ("Supply", contracts.supply), ("Coverage", contracts.coverage), ("Registry", contracts.registry)] {
                    dt { (name) " contract" } dd {
                        @match address {
                            Some(address) => { (account_link(&address.to_string())) }
                            None => { span.muted { "none known: the genesis names none; set [console] " (name.to_ascii_lowercase()) " in the configuration" } }
                        }
                    }
                }
            }
            h2 { "Sync" }
            p {
                @if sync.syncing {
                    "Catching up with its peers: block " (sync.current) " of " (sync.target)
                    ", " (format!("{:.1}", sync.blocks_per_second)) " blocks a second."
                } @else {
                    "Not catching up: no peer has told of a longer chain."
                }
            }
            p {
                label for="sync-progress" { "Blocks held of the best chain known " }
                progress id="sync-progress" value=(sync.current) max=(target.max(1)) { (sync.current) " of " (target) }
            }
            h2 { "Peers (" (peers.len()) ")" }
            @if peers.is_empty() {
                p.muted { "No connected peers." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Peer" } th scope="col" { "Address" } th scope="col" { "Direction" } th scope="col" { "Score" } th scope="col" { "Head" } th scope="col" { "Client" } } }
                    tbody {
                        @for peer in &peers {
                            tr {
                                td { code title=(peer.peer_id) { (format::short(&peer.peer_id)) } }
                                td.mono { (peer.address) }
                                td { (peer.direction) }
                                td { (peer.score) @if peer.score < 0 { " " span.status.warn { "penalised" } } }
                                td { @if let Some(number) = peer.head_number { "#" (number) } @else { span.muted { "not said" } } }
                                td { @if let Some(agent) = &peer.agent { (agent) } @else { span.muted { "not identified" } } }
                            }
                        }
                    }
                }
            }
            h2 { "Metrics" }
            (metrics_table(console))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_whole_units_exactly() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(units(0), "0 units");
        assert_eq!(units(SMALLEST_UNITS_PER_UNIT), "1 unit");
        assert_eq!(
            units(crate::genesis::DEV_ACCOUNT_BALANCE),
            "1,000,000 units"
        );
        assert_eq!(units(SMALLEST_UNITS_PER_UNIT * 5 / 4), "1.25 units");
        assert_eq!(units(5), "0.000000000000000005 units");
        let exact = amount(SMALLEST_UNITS_PER_UNIT + 21_000).into_string();
        assert!(
            exact.contains("1.000000000000021 units")
                && exact.contains("1,000,000,000,000,021,000 in the smallest unit"),
            "{exact}"
        );
        assert!(
            !amount(2 * SMALLEST_UNITS_PER_UNIT)
                .into_string()
                .contains("smallest")
        );
    }

    #[test]
    fn failure_reasons_drop_the_status_word_the_badge_shows() {
        assert_eq!(
            failure_reason("reverted: CounterError::NotOwner"),
            "CounterError::NotOwner"
        );
        assert_eq!(failure_reason("trapped: Unreachable"), "Unreachable");
        assert_eq!(
            failure_reason("ran out of fuel: raise the fuel limit"),
            "ran out of fuel: raise the fuel limit"
        );
    }

    #[test]
    fn import_times_are_written_in_their_unit() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(12_500), "12.5 ms");
        assert_eq!(micros(3_000_000), "3 s");
    }

    #[test]
    fn event_positions_round_trip_and_order_as_the_chain() {
        assert_eq!(parse_position("12:3:4"), Some((12, 3, 4)));
        assert_eq!(
            parse_position(&position_text((7, 0, 65_535))),
            Some((7, 0, 65_535))
        );
        for bad in ["12", "12:3", "12:3:4:5", "a:b:c", "1:2:70000", ""] {
            assert_eq!(parse_position(bad), None, "{bad}");
        }
        assert!((12, 3, 4) < (12, 4, 0) && (12, 4, 0) < (13, 0, 0));
    }

    #[test]
    fn block_size_counts_the_header_and_the_length_prefix() {
        assert_eq!(block_bytes(&[]), (HEADER_ENCODED_LEN + 1, 1));
        assert_eq!(block_bytes(&[100, 50]), (HEADER_ENCODED_LEN + 151, 151));
        let many = vec![1; 64];
        assert_eq!(block_bytes(&many).1, 2 + 64);
    }
}
