//! The chain pages: the head and recent blocks (live), a block, a transaction, an account or
//! contract, search, and the node's status.

use maud::{Markup, html};
use parity_scale_codec::Decode;
use salus_client::rpc::{BlockId, BlockView, HeaderView, SalusApiServer, TransactionView};
use salus_primitives::pow::{self, CompactTarget};
use salus_primitives::{Action, Hash, SignedTransaction};

use super::format::{self, account_link, block_link, status_badge, time, transaction_link};
use super::page::{Page, PageError, PageResult};
use super::{Console, ConsoleRequest};

/// Blocks listed on the home page.
const RECENT_BLOCKS: u64 = 20;

/// Transactions listed on the home page (from the recent blocks, newest first).
const RECENT_TRANSACTIONS: usize = 20;

fn rpc_error(error: jsonrpsee::types::ErrorObjectOwned) -> PageError {
    PageError::from_rpc(error)
}

/// What a transaction does, from its signed bytes.
pub struct Summary {
    /// The decoded transaction.
    pub signed: SignedTransaction,
}

impl Summary {
    /// Decodes a transaction view's raw bytes.
    pub fn of(view: &TransactionView) -> Result<Summary, PageError> {
        let bytes = hex::decode(view.raw.trim_start_matches("0x"))
            .map_err(|error| PageError::Internal(format!("transaction bytes: {error}")))?;
        let signed = SignedTransaction::decode(&mut &bytes[..]).map_err(|error| {
            PageError::Internal(format!("transaction does not decode: {error}"))
        })?;
        Ok(Summary { signed })
    }

    /// The action in a few words, with the message name when the contract's ABI knows it.
    pub async fn describe(&self, console: &Console) -> Markup {
        match &self.signed.transaction.action {
            Action::Transfer { to, amount } => html! {
                "Transfer of " (amount) " to " (account_link(&to.to_string()))
            },
            Action::Deploy { code, .. } => html! {
                "Deploy of " (code.len()) " bytes of Wasm"
            },
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

async fn block_view(console: &Console, id: BlockId) -> Result<Option<BlockView>, PageError> {
    console.rpc().chain_get_block(id).await.map_err(rpc_error)
}

/// `/ui/`: the head and the recent blocks and transactions, live.
pub async fn home(console: &Console) -> PageResult {
    let head = console.rpc().chain_head().await.map_err(rpc_error)?;
    let first = head.number.saturating_sub(RECENT_BLOCKS - 1);
    let mut blocks = Vec::new();
    for number in (first..=head.number).rev() {
        if let Some(block) = block_view(console, BlockId::Number(number)).await? {
            blocks.push(block);
        }
    }
    let mut transactions = Vec::new();
    'blocks: for block in &blocks {
        for hash in block.transactions.iter().rev() {
            if transactions.len() == RECENT_TRANSACTIONS {
                break 'blocks;
            }
            let Some(view) = console
                .rpc()
                .tx_get(hash.clone())
                .await
                .map_err(rpc_error)?
            else {
                continue;
            };
            let what = Summary::of(&view)?.describe(console).await;
            transactions.push((block.header.number, view, what));
        }
    }
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
                            td { (block.transactions.len()) }
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
                        @for (number, view, what) in &transactions {
                            tr data-transaction=(view.hash) {
                                td { (transaction_link(&view.hash)) }
                                td { (block_link(*number)) }
                                td { (account_link(&view.from)) }
                                td { (what) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A header's proof of work: the target its bits name, the hash's leading zero bits, whether
/// the hash meets the target (every stored block's does), and the work it adds.
fn proof_of_work(header: &HeaderView) -> Markup {
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
                @match meets { Some(true) => { (status_badge("success")) } Some(false) => { span.status.bad { "No" } } None => { span.muted { "cannot tell" } } }
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

/// `/ui/block/<number or hash>`: the header, its proof of work and its transactions.
pub async fn block(console: &Console, id: &str) -> PageResult {
    let Some(block) = block_view(console, block_id(id)?).await? else {
        return Err(PageError::NotFound(format!("no block {id} on this chain")));
    };
    let header = &block.header;
    let parent = match header.number {
        0 => None,
        _ => console
            .rpc()
            .chain_get_header(BlockId::Hash(header.parent_hash.clone()))
            .await
            .map_err(rpc_error)?,
    };
    let mut rows = Vec::new();
    for hash in &block.transactions {
        let receipt = console
            .rpc()
            .tx_receipt(hash.clone())
            .await
            .map_err(rpc_error)?;
        let view = console
            .rpc()
            .tx_get(hash.clone())
            .await
            .map_err(rpc_error)?;
        let what = match &view {
            Some(view) => Some(Summary::of(view)?.describe(console).await),
            None => None,
        };
        rows.push((hash, view, receipt, what));
    }
    let proof = proof_of_work(header);
    Ok(Page::fixed(
        format!("Block #{}", header.number),
        html! {
            dl.fields {
                dt { "Hash" } dd.mono { (header.hash) }
                dt { "Parent" } dd { @if header.number > 0 { (block_link(header.number - 1)) " " } code { (header.parent_hash) } }
                dt { "Time" } dd { (time(header.timestamp_ms)) }
                @if let Some(parent) = &parent {
                    dt { "After its parent" } dd { (format::duration(header.timestamp_ms.saturating_sub(parent.timestamp_ms))) }
                }
                dt { "Miner" } dd { (account_link(&header.miner)) }
                dt { "Transactions root" } dd.mono { (header.transactions_root) }
                dt { "Receipts root" } dd.mono { (header.receipts_root) }
                dt { "State root" } dd.mono { (header.state_root) }
            }
            h2 { "Proof of work" }
            (proof)
            h2 { "Transactions (" (block.transactions.len()) ")" }
            @if rows.is_empty() {
                p.muted { "This block has no transactions." }
            } @else {
                table {
                    thead { tr { th scope="col" { "#" } th scope="col" { "Transaction" } th scope="col" { "From" } th scope="col" { "What" } th scope="col" { "Status" } th scope="col" { "Fuel" } } }
                    tbody {
                        @for (index, (hash, view, receipt, what)) in rows.iter().enumerate() {
                            tr {
                                td { (index) }
                                td { (transaction_link(hash)) }
                                td { @if let Some(view) = view { (account_link(&view.from)) } }
                                td { @if let Some(what) = what { (what) } }
                                td { @if let Some(receipt) = receipt { (status_badge(&receipt.status)) } }
                                td { @if let Some(receipt) = receipt { (receipt.fuel_used) } }
                            }
                        }
                    }
                }
            }
        },
    ))
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

/// The arguments of a call decoded through the contract's ABI, in the message's order.
fn decoded_arguments(
    message: &salus_client::abi::Message,
    arguments: &serde_json::Value,
) -> Markup {
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

/// An event, decoded through its contract's ABI when the console can read it.
async fn event(console: &Console, view: &salus_client::rpc::EventView) -> Markup {
    let decoded = match console.abi(&view.contract).await {
        Ok(Some(abi)) => {
            let topics = view
                .topics
                .iter()
                .filter_map(|topic| topic.parse().ok())
                .collect();
            let data = hex::decode(view.data.trim_start_matches("0x")).unwrap_or_default();
            let contract = view.contract.parse().unwrap_or_default();
            abi.decode_event(&salus_primitives::Event {
                contract,
                topics,
                data,
            })
            .ok()
            .flatten()
        }
        _ => None,
    };
    html! {
        li {
            @match decoded {
                Some(decoded) => {
                    strong { (decoded["event"].as_str().unwrap_or("event")) }
                    " from " (account_link(&view.contract))
                    (format::value(&decoded["fields"]))
                }
                None => {
                    "An event from " (account_link(&view.contract)) " the console cannot decode "
                    code { (format::short(&view.data)) }
                }
            }
        }
    }
}

/// `/ui/tx/<hash>`: what the transaction does (arguments decoded through the contract's
/// on-chain ABI), its receipt (status and reason, fuel, the result and the events, decoded);
/// live while pending.
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
    Ok(Page::live(
        title,
        html! {
            dl.fields {
                dt { "Hash" } dd.mono { (view.hash) }
                dt { "Status" } dd data-status {
                    @match &receipt {
                        Some(receipt) => {
                            (status_badge(&receipt.status))
                            @if let Some(failure) = &receipt.failure { " " span.error { (failure) } }
                        }
                        None => { (status_badge("pending")) " waiting to be mined" }
                    }
                }
                @if let Some(receipt) = &receipt {
                    dt { "Block" } dd { (block_link(receipt.block_number)) " (" (receipt.confirmations) " confirmations)" }
                }
                dt { "From" } dd { (account_link(&view.from)) }
                @if let Some(sponsor) = &transaction.sponsor {
                    dt { "Fuel paid by" } dd { (account_link(&sponsor.to_string())) }
                }
                dt { "Nonce" } dd { (view.nonce) }
                dt { "What" } dd { (what) }
                dt { "Fuel" } dd {
                    @if let Some(receipt) = &receipt { (receipt.fuel_used) " used of " } (transaction.fuel_limit) " at " (transaction.fuel_price) " a unit"
                }
            }
            @if let Some(call) = call { (call) }
            @if receipt.is_some() {
                h2 { "Events (" (events.len()) ")" }
                @if events.is_empty() { p.muted { "None." } } @else { ol { @for event in &events { (event) } } }
            }
        },
    ))
}

/// `/ui/account/<address>`: balance, nonce and code (first version).
pub async fn account(console: &Console, address: &str, _request: &ConsoleRequest) -> PageResult {
    if !format::is_address(address) {
        return Err(PageError::BadRequest(format!(
            "`{address}` is not a 0x address"
        )));
    }
    let account = console
        .rpc()
        .state_get_account(address.to_string(), None)
        .await
        .map_err(rpc_error)?;
    Ok(Page::live(
        format::contract_name(address).unwrap_or("Account"),
        html! {
            dl.fields {
                dt { "Address" } dd.mono { (address) }
                dt { "Balance" } dd { (account.balance) }
                dt { "Nonce" } dd { (account.nonce) }
                dt { "Code hash" } dd { @if let Some(code) = &account.code_hash { code { (code) } } @else { span.muted { "none (not a contract)" } } }
            }
        },
    ))
}

/// `/ui/status`: the node (first version).
pub async fn status(console: &Console) -> PageResult {
    let info = console.rpc().node_info().await.map_err(rpc_error)?;
    Ok(Page::live(
        "Node status",
        html! {
            dl.fields {
                dt { "Version" } dd { (info.version) }
                dt { "Chain" } dd { (info.chain_id) @if info.dev { " (dev chain)" } }
                dt { "Head" } dd { (block_link(info.head.number)) }
                dt { "Pending transactions" } dd { (info.pending_transactions) }
                dt { "Syncing" } dd { @if info.sync.syncing { "yes: " (info.sync.current) " of " (info.sync.target) } @else { "no" } }
            }
        },
    ))
}
