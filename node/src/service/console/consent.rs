//! The consent pages of the console (issue 25): recent consent activity, and a patient's
//! (pseudonymous address's) consents over time, delegations, break-glass sessions and the
//! accesses recorded to its data, denials with their reasons — built only from what a public
//! RPC caller can read: the consent contract's events, its public views (`consent`, `session`),
//! the arguments of the transactions that emitted the events and the results in their
//! receipts. The views that answer only the patient or a delegate who proves its key are asked
//! only with a signature made in the browser: the patient's page signs the `who_can_see` and
//! `accounting` queries with the console's key module (`keys.js`, `keys.wasm`) and fetches
//! them with the signatures.
//! No key is ever received here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use maud::{Markup, html};
use salus_client::abi::ContractAbi;
use salus_client::fhir::{audit, time as fhir_time};
use salus_client::rpc::{BlockId, EventFilter, SalusApiServer};
use salus_primitives::Address;
use serde_json::{Value, json};

use super::assets;
use super::chain::decoded_call;
use super::format::{self, account_link, block_link, time, transaction_link};
use super::page::{self, Page, PageError, PageResult};
use super::{CallerSignature, Console, ConsoleRequest};

/// Blocks back from the head the patient page reads the contract's events over.
const SCAN_BLOCKS: u64 = 100_000;

/// Most events of one kind the patient page reads (the newest within the window). The
/// contract keeps no public index by patient (by design: topics carry subject handles), so the
/// page reads the contract's events and keeps the patient's; an indexer would be needed beyond.
const MAX_EVENTS: usize = 2_000;

/// Most consents the patient page asks the `consent` view about (the newest ids).
const MAX_CONSENTS: usize = 200;

/// Windows (blocks back from the head) the landing page reads recent activity over, widened
/// until it finds enough events.
const RECENT_WINDOWS: [u64; 3] = [100, 1_000, 10_000];

/// Events listed as recent activity on the landing page.
const RECENT_EVENTS: usize = 25;

/// Blocks read per `events_query` range when reading back from the head.
const EVENT_CHUNK_BLOCKS: u64 = 1_000;

/// Events per `events_query` page.
const EVENT_PAGE: u32 = 1_000;

/// Entries per `accounting` page (the contract answers at most 100).
const ACCOUNTING_PAGE: u32 = 100;

/// The session id a refused break-glass declaration's event carries.
const REFUSED_SESSION: u64 = u64::MAX;

/// Answers `/ui/consent/…`; `rest` is the path below `/ui/consent`.
pub async fn route(console: &Console, rest: &[&str], request: &ConsoleRequest) -> PageResult {
    match rest {
        [] => landing(console).await,
        ["patient"] => open_patient(request),
        ["patient", address] => patient(console, address, request).await,
        ["patient", address, "accounting"] => accounting(console, address, request).await,
        ["patient", address, "who-can-see"] => who_can_see(console, address, request).await,
        ["patient", address, "accounting.fhir.json"] => {
            let (address, signed) = signed_accounting(console, address, request).await?;
            let entries = signed.entries.as_array().cloned().unwrap_or_default();
            audit_download(console, &address, &entries, "accounting").await
        }
        ["patient", address, "accesses.csv"] => {
            let (address, accesses) = filtered_accesses(console, address, request).await?;
            Ok(Page::download(
                "text/csv; charset=utf-8",
                format!("accesses-{address}.csv"),
                accesses_csv(&accesses).into_bytes(),
            ))
        }
        ["patient", address, "accesses.fhir.json"] => {
            let (address, accesses) = filtered_accesses(console, address, request).await?;
            let entries: Vec<Value> = accesses.iter().map(Access::audit_entry).collect();
            audit_download(console, &address, &entries, "accesses").await
        }
        _ => Err(PageError::NotFound(
            "this address is not a consent page".into(),
        )),
    }
}

/// `entries` (audit-trail entries, as `accounting` answers them) of `address` as a FHIR R4 Bundle
/// of AuditEvents to download as `<name>-<address>.fhir.json`.
async fn audit_download(
    console: &Console,
    address: &str,
    entries: &[Value],
    name: &str,
) -> PageResult {
    let now = console
        .rpc()
        .chain_head()
        .await
        .map_err(PageError::from_rpc)?
        .timestamp_ms;
    let patient: Address = address
        .parse()
        .map_err(|_| PageError::BadRequest(format!("`{address}` is not an address")))?;
    let bundle = audit::bundle(
        entries,
        &patient,
        &console.consent_contract()?,
        &salus_client::directory::Directory::default(),
        i64::try_from(now).unwrap_or(i64::MAX),
    )
    .map_err(|error| PageError::Internal(format!("the FHIR bundle: {error}")))?;
    let bytes = serde_json::to_vec_pretty(&bundle)
        .map_err(|error| PageError::Internal(format!("the FHIR bundle: {error}")))?;
    Ok(Page::download(
        "application/fhir+json",
        format!("{name}-{address}.fhir.json"),
        bytes,
    ))
}

/// `/ui/consent/patient?address=0x…`: the landing page's form, sent to the patient's page.
fn open_patient(request: &ConsoleRequest) -> PageResult {
    let address = request.param("address").unwrap_or_default();
    if !format::is_address(address) {
        return Err(PageError::BadRequest(format!(
            "`{address}` is not a 0x address (40 hex digits)"
        )));
    }
    Ok(Page::redirect(format!(
        "/ui/consent/patient/{}",
        address.to_ascii_lowercase()
    )))
}

// ---------------------------------------------------------------------------------------------
// Reading the chain.

/// An event of the consent contract, decoded, with its place in the chain.
#[derive(Clone)]
struct ContractEvent {
    block: u64,
    time_ms: u64,
    transaction: String,
    /// The event's name (`ConsentChanged`, …).
    name: String,
    /// Its fields, in the ABI's JSON forms.
    fields: Value,
}

/// A call of the consent contract by a transaction, decoded.
#[derive(Clone)]
struct ContractCall {
    /// The transaction's signer.
    from: String,
    /// The message.
    message: String,
    /// Its arguments by name.
    arguments: Value,
    /// Its result (the `Ok` of a `Result`), when the call succeeded.
    result: Option<Value>,
}

/// Reads the consent contract's events and calls for one page, remembering block times and
/// decoded transactions.
struct Reader<'a> {
    console: &'a Console,
    abi: Arc<ContractAbi>,
    address: Address,
    contract: String,
    head_number: u64,
    head_time_ms: u64,
    times: HashMap<u64, u64>,
    calls: HashMap<String, Option<ContractCall>>,
}

impl<'a> Reader<'a> {
    async fn new(console: &'a Console) -> Result<Reader<'a>, PageError> {
        let address = console.consent_contract()?;
        let contract = address.to_string();
        let abi = console.abi(&contract).await?.ok_or_else(|| {
            PageError::NotFound("this chain has no consent contract with an ABI".into())
        })?;
        let head = console
            .rpc()
            .chain_head()
            .await
            .map_err(PageError::from_rpc)?;
        Ok(Reader {
            console,
            abi,
            address,
            contract,
            head_number: head.number,
            head_time_ms: head.timestamp_ms,
            times: HashMap::new(),
            calls: HashMap::new(),
        })
    }

    /// The contract's events named `name` (every event when `None`) over the last `blocks`
    /// blocks, in chain order: read newest stretch first, [`EVENT_CHUNK_BLOCKS`] at a time,
    /// until `most` are found, so that a busy chain cuts the oldest, not the newest.
    async fn events(
        &mut self,
        name: Option<&str>,
        blocks: u64,
        most: usize,
    ) -> Result<Vec<ContractEvent>, PageError> {
        let first = self.head_number.saturating_sub(blocks);
        let mut end = self.head_number;
        let mut stretches = Vec::new();
        let mut found = 0;
        loop {
            let start = end
                .saturating_sub(EVENT_CHUNK_BLOCKS.saturating_sub(1))
                .max(first);
            let stretch = self.events_between(name, start, end, most - found).await?;
            found += stretch.len();
            stretches.push(stretch);
            if found >= most || start == first {
                break;
            }
            end = start - 1;
        }
        Ok(stretches.into_iter().rev().flatten().collect())
    }

    /// The contract's events named `name` (every event when `None`) from block `start` to
    /// `end`, at most `most`, in chain order.
    async fn events_between(
        &mut self,
        name: Option<&str>,
        start: u64,
        end: u64,
        most: usize,
    ) -> Result<Vec<ContractEvent>, PageError> {
        let topics = match name {
            Some(name) => vec![Some(
                salus_primitives::keccak256(name.as_bytes()).to_string(),
            )],
            None => Vec::new(),
        };
        let mut filter = EventFilter {
            contract: self.contract.clone(),
            topics,
            from_block: Some(start),
            to_block: Some(end),
            after: None,
            limit: Some(EVENT_PAGE),
        };
        let mut found = Vec::new();
        loop {
            let page = self
                .console
                .rpc()
                .events_query(filter.clone())
                .await
                .map_err(PageError::from_rpc)?;
            for record in page.events {
                let event = record.event.to_event().ok_or_else(|| {
                    PageError::Internal("an event the node answered does not parse".into())
                })?;
                let Ok(Some(decoded)) = self.abi.decode_event(&event) else {
                    continue;
                };
                let time_ms = self.block_time(record.block_number).await?;
                found.push(ContractEvent {
                    block: record.block_number,
                    time_ms,
                    transaction: record.transaction_hash,
                    name: decoded["event"].as_str().unwrap_or_default().to_string(),
                    fields: decoded["fields"].clone(),
                });
            }
            match page.next {
                Some(next) if found.len() < most => filter.after = Some(next),
                _ => break,
            }
        }
        found.truncate(most);
        Ok(found)
    }

    async fn block_time(&mut self, number: u64) -> Result<u64, PageError> {
        if let Some(time_ms) = self.times.get(&number) {
            return Ok(*time_ms);
        }
        let header = self
            .console
            .rpc()
            .chain_get_header(BlockId::Number(number))
            .await
            .map_err(PageError::from_rpc)?;
        let time_ms = header.map_or(0, |header| header.timestamp_ms);
        self.times.insert(number, time_ms);
        Ok(time_ms)
    }

    /// The consent contract's call by transaction `hash`, when the transaction calls the
    /// contract directly (not through another contract) and its input decodes.
    async fn call(&mut self, hash: &str) -> Result<Option<ContractCall>, PageError> {
        if let Some(call) = self.calls.get(hash) {
            return Ok(call.clone());
        }
        let call = self.read_call(hash).await?;
        self.calls.insert(hash.to_string(), call.clone());
        Ok(call)
    }

    async fn read_call(&self, hash: &str) -> Result<Option<ContractCall>, PageError> {
        let call = decoded_call(self.console, hash, self.address).await?;
        Ok(call.map(|call| ContractCall {
            from: call.from,
            message: call.message,
            arguments: call.arguments,
            result: call.result.map(unwrap_ok),
        }))
    }
}

/// The `Ok` of a decoded `Result`, or the value itself.
fn unwrap_ok(value: Value) -> Value {
    match value {
        Value::Object(mut fields) if fields.len() == 1 && fields.contains_key("Ok") => {
            fields.remove("Ok").unwrap_or_default()
        }
        other => other,
    }
}

/// A decoded integer: the ABI writes u64 as a decimal string, smaller ones as numbers.
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

/// A decoded signed integer (an `i64` date).
fn signed(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
}

/// A decoded string field, or "".
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// Whether decoded address `value` is `address` (any letter case).
fn same_address(value: &Value, address: &str) -> bool {
    value
        .as_str()
        .is_some_and(|text| text.eq_ignore_ascii_case(address))
}

/// A unit enum variant as decoded (`"Deny"` or `{"Deny": null}`).
fn variant(value: &Value) -> &str {
    match value {
        Value::String(text) => text,
        Value::Object(fields) => fields.keys().next().map_or("", String::as_str),
        _ => "",
    }
}

// ---------------------------------------------------------------------------------------------
// Codes in words.

/// A purpose of use (v3 ActReason) in words.
fn purpose_words(code: &str) -> String {
    let words = match code {
        "TREAT" => "treatment",
        "ETREAT" => "emergency treatment",
        "BTG" => "break the glass",
        "ERTREAT" => "emergency room treatment",
        "HPAYMT" => "healthcare payment",
        "COVAUTH" => "coverage authorization",
        "CLMATTCH" => "claim attachment",
        "COVERAGE" => "coverage under policy or program",
        "HOPERAT" => "healthcare operations",
        "HRESCH" => "healthcare research",
        "CLINTRL" => "clinical trial",
        "PUBHLTH" => "public health",
        "COC" => "continuity of care",
        "FRAUD" => "fraud investigation",
        "HLEGAL" => "legal",
        _ => return code.to_string(),
    };
    format!("{words} ({code})")
}

/// A requester role (v3 ParticipationType, RoleClass, RoleCode) in words.
fn role_words(code: &str) -> String {
    let words = match code {
        "ADM" => "admitter",
        "ATND" => "attender",
        "CON" => "consultant",
        "DIS" => "discharger",
        "REF" => "referrer",
        "PRF" => "performer",
        "PPRF" => "primary performer",
        "SPRF" => "secondary performer",
        "PRCP" => "primary information recipient",
        "PROV" => "healthcare provider",
        "PAYOR" => "payer",
        "UNDWRT" => "underwriter",
        "PAT" => "the patient",
        "GUARD" => "guardian",
        "POWATT" => "power of attorney",
        "HPOWATT" => "healthcare power of attorney",
        "DPOWATT" => "durable power of attorney",
        _ => return code.to_string(),
    };
    format!("{words} ({code})")
}

/// A consent's scope in words.
fn scope_words(code: &str) -> String {
    match code {
        "patient-privacy" => "Privacy consent (who may see the patient's data)".into(),
        "research" => "Research consent".into(),
        "treatment" => "Treatment consent".into(),
        "adr" => "Advance directive".into(),
        other => format!("Consent ({other})"),
    }
}

/// A consent's category in words.
fn category_words(code: &str) -> String {
    let words = match code {
        "59284-0" => "patient consent",
        "57016-8" => "privacy policy acknowledgement",
        "57017-6" => "privacy policy organisation document",
        "64292-6" => "release of information consent",
        "research" => "research information access",
        "acd" => "advance directive",
        "dnr" => "do not resuscitate",
        "emrgonly" => "emergency only",
        "hcd" => "health care directive",
        "npp" => "notice of privacy practices",
        "polst" => "physician orders for life-sustaining treatment",
        "rsdid" => "de-identified information access",
        "rsreid" => "re-identifiable information access",
        _ => return code.to_string(),
    };
    format!("{words} ({code})")
}

/// A consent status in words, with its badge class.
fn status_words(status: &str) -> (&'static str, &'static str) {
    match status {
        "Draft" => ("neutral", "draft"),
        "Proposed" => ("warn", "proposed, awaiting the patient"),
        "Active" => ("ok", "active"),
        "Rejected" => ("bad", "rejected"),
        "Inactive" => ("neutral", "inactive"),
        "EnteredInError" => ("bad", "entered in error"),
        _ => ("neutral", "unknown"),
    }
}

/// What a consent status change was, from the message that made it.
fn transition_words(message: Option<&str>, status: &str, version: u64) -> &'static str {
    match (message, status) {
        (Some("grant" | "import_signed"), "Inactive") => "superseded by a newer consent",
        (Some("grant"), _) => "granted",
        (Some("import_signed"), _) => "imported (signed earlier)",
        (Some("propose"), "Draft") => "drafted",
        (Some("propose" | "submit"), _) => "proposed to the patient",
        (Some("activate"), _) => "accepted by the patient",
        (Some("reject"), _) => "rejected by the patient",
        (Some("revoke"), _) => "revoked",
        (Some("mark_entered_in_error"), _) => "marked entered in error",
        (_, "Active") if version == 1 => "granted",
        (_, "Active") => "activated",
        (_, "Inactive") => "made inactive",
        _ => "changed",
    }
}

/// An action (FHIR consent-action) in words.
fn action_words(action: &str) -> String {
    action.to_ascii_lowercase()
}

/// A list in words: `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A signed date (ms since the epoch, possibly before 1970) as text.
fn signed_time(value: &Value) -> Markup {
    match signed(value) {
        Some(ms) if ms >= 0 => time(ms as u64),
        Some(ms) => html! { (fhir_time::format_instant(ms)) },
        None => html! { span.muted { "unknown" } },
    }
}

/// A period `{start_ms, end_ms}` (end exclusive) in words.
fn period_words(period: &Value) -> Markup {
    html! { "from " (signed_time(&period["start_ms"])) " until " (signed_time(&period["end_ms"])) }
}

/// Addresses as links, joined in words.
fn address_list(addresses: &[Value]) -> Markup {
    html! {
        @for (index, address) in addresses.iter().enumerate() {
            @if index > 0 { @if index + 1 == addresses.len() { " and " } @else { ", " } }
            (account_link(text(address)))
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(|item| variant(item).to_string()).collect())
        .unwrap_or_default()
}

fn count(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// A provision and its exceptions in plain words: permit or deny, who, what, why, which data.
fn provision_words(provision: &Value) -> Markup {
    let kind = variant(&provision["kind"]);
    let permit = kind == "Permit";
    let actors = provision["actors"].as_array().cloned().unwrap_or_default();
    let actions: Vec<String> = strings(&provision["actions"])
        .iter()
        .map(|action| action_words(action))
        .collect();
    let purposes: Vec<String> = strings(&provision["purposes"])
        .iter()
        .map(|purpose| purpose_words(purpose))
        .collect();
    let roles: Vec<String> = strings(&provision["roles"])
        .iter()
        .map(|role| role_words(role))
        .collect();
    let custodians = provision["custodians"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let authors = provision["authors"].as_array().cloned().unwrap_or_default();
    let (labels, classes, records) = (
        count(&provision["label_tags"]),
        count(&provision["class_tags"]),
        count(&provision["records"]),
    );
    let children = provision["children"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    html! {
        span class={ "status " (if permit { "ok" } else { "bad" }) } { (if permit { "Permit" } else { "Deny" }) }
        " "
        @if actions.is_empty() { "any action" } @else { (and_list(&actions)) }
        " by "
        @if actors.is_empty() { "anyone" } @else { (address_list(&actors)) }
        @if !roles.is_empty() { " acting as " (and_list(&roles)) }
        " for "
        @if purposes.is_empty() { "any purpose" } @else { (and_list(&purposes)) }
        @if !provision["period"].is_null() { ", " (period_words(&provision["period"])) }
        @if !custodians.is_empty() { ", records held by " (address_list(&custodians)) }
        @if !authors.is_empty() { ", records written by " (address_list(&authors)) }
        @if labels > 0 {
            ", records carrying " (plural(labels, "security label", "security labels"))
            " " span.muted { "(blinded: only the patient and the custodian can read which)" }
        }
        @if classes > 0 {
            ", of " (plural(classes, "data class", "data classes"))
            " " span.muted { "(blinded: only the patient and the custodian can read which)" }
        }
        @if records > 0 { ", " (plural(records, "named record", "named records")) }
        @if !provision["data_period_commitment"].is_null() {
            ", records dated within a sealed period " span.muted { "(attested by the custodian)" }
        }
        "."
        @if !children.is_empty() {
            " Except:"
            ul { @for child in &children { li { (provision_words(child)) } } }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The landing page.

/// `/ui/consent`: what the consent pages show, a form to open a patient's page, and the
/// consent contract's recent events in words (live).
async fn landing(console: &Console) -> PageResult {
    let mut reader = Reader::new(console).await?;
    let mut events = Vec::new();
    let mut window = 0;
    for blocks in RECENT_WINDOWS {
        window = blocks;
        events = reader.events(None, blocks, MAX_EVENTS).await?;
        if events.len() >= RECENT_EVENTS {
            break;
        }
    }
    let recent: Vec<ContractEvent> = events.into_iter().rev().take(RECENT_EVENTS).collect();
    let mut rows = Vec::new();
    for event in &recent {
        rows.push((event, describe_event(&mut reader, event).await?));
    }
    Ok(Page::live(
        "Consent",
        html! {
            p {
                "Patients' consents as the consent contract holds them: each consent's status over "
                "time and its provisions in words, delegations, break-glass sessions with their "
                "review, and every access decided for a patient's records — denials with their "
                "reasons. The chain holds pseudonyms, decisions and commitments, never clinical "
                "content; security labels and data classes are blinded tags only the patient and "
                "the custodian can read."
            }
            h2 { "Open a patient's page" }
            form.filters action="/ui/consent/patient" method="get" {
                label for="consent-patient" { "Patient's pseudonymous address" }
                input id="consent-patient" name="address" type="text" required
                    pattern="0x[0-9a-fA-F]{40}" placeholder="0x…" autocomplete="off" spellcheck="false";
                button type="submit" { "Open" }
            }
            h2 { "Recent consent activity" }
            @if rows.is_empty() {
                p.muted { "No consent events in the last " (window) " blocks." }
            } @else {
                table {
                    caption.muted { "The consent contract's last " (rows.len()) " events (of the last " (window) " blocks), newest first" }
                    thead { tr { th scope="col" { "Block" } th scope="col" { "Time" } th scope="col" { "What" } th scope="col" { "Transaction" } } }
                    tbody {
                        @for (event, what) in &rows {
                            tr data-event=(event.name) {
                                td { (block_link(event.block)) }
                                td { (time(event.time_ms)) }
                                td { (what) }
                                td { (transaction_link(&event.transaction)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// An event in words, with what its transaction says (a decision's reason, a patient's page).
async fn describe_event(
    reader: &mut Reader<'_>,
    event: &ContractEvent,
) -> Result<Markup, PageError> {
    let fields = &event.fields;
    let call = reader.call(&event.transaction).await?;
    // A consent's patient: the call's argument, or the public `consent` view (a revocation
    // names only the id).
    let consent_patient = if event.name == "ConsentChanged" {
        match call.as_ref().and_then(|call| call.arguments.get("patient")) {
            Some(patient) => Some(patient.clone()),
            None => Some(
                reader
                    .console
                    .view(&reader.contract, "consent", json!([text(&fields["id"])]))
                    .await?["patient"]
                    .clone(),
            ),
        }
        .filter(|patient| format::is_address(text(patient)))
    } else {
        None
    };
    let patient_link = |patient: &Value| -> Markup {
        html! {
            " — " a href={ "/ui/consent/patient/" (text(patient).to_ascii_lowercase()) } { "the patient's page" }
        }
    };
    Ok(match event.name.as_str() {
        "ConsentChanged" => {
            let status = variant(&fields["status"]);
            let version = number(&fields["version"]).unwrap_or(0);
            let what = transition_words(
                call.as_ref().map(|call| call.message.as_str()),
                status,
                version,
            );
            html! {
                "Consent #" (text(&fields["id"])) " " (what) ": now "
                span class={ "status " (status_words(status).0) } { (status_words(status).1) }
                " (version " (version) ")"
                @if let Some(patient) = &consent_patient { (patient_link(patient)) }
            }
        }
        "AccessRecorded" => {
            let denied = variant(&fields["decision"]) == "Deny";
            let reason = call
                .as_ref()
                .and_then(|call| call.result.as_ref())
                .map(|result| text(&result["reason"]).to_string());
            html! {
                "Access by " (account_link(text(&fields["agent"]))) " "
                @if denied { span.status.bad { "denied" } } @else { span.status.ok { "permitted" } }
                @if let Some(reason) = reason { ": " span.reason { (reason) } }
            }
        }
        "BreakGlass" => {
            let session = number(&fields["session"]).unwrap_or(REFUSED_SESSION);
            let step = text(&fields["step"]);
            html! {
                @if session == REFUSED_SESSION {
                    "Break-glass " span.status.bad { "refused" } " (DICOM 110113 security alert)"
                } @else {
                    "Break-glass session #" (session) ": " (step_words(step))
                }
                @if let Some(call) = &call {
                    @if let Some(patient) = call.arguments.get("patient") { (patient_link(patient)) }
                }
            }
        }
        "DelegationChanged" => html! {
            "Delegation to " (account_link(text(&fields["delegate"]))) " as "
            (role_words(text(&fields["relationship"]))) " "
            @if fields["active"] == Value::Bool(true) { "attested" } @else { "ended" }
            @if let Some(call) = &call {
                @if let Some(principal) = call.arguments.get("principal") { (patient_link(principal)) }
            }
        },
        "RecordIndexed" => html! {
            "Record " code title=(text(&fields["record"])) { (format::short(text(&fields["record"]))) }
            " indexed by its custodian " (account_link(text(&fields["custodian"])))
        },
        other => html! { (other) },
    })
}

/// A break-glass step in words.
fn step_words(step: &str) -> Markup {
    match step {
        "declared" => html! { "emergency access declared" },
        "refused" => html! { span.status.bad { "refused" } },
        "closed" => html! { "closed" },
        "justified" => html! { "reviewed: " span.status.ok { "justified" } },
        "unjustified" => html! { "reviewed: " span.status.bad { "not justified" } },
        other => html! { (other) },
    }
}

// ---------------------------------------------------------------------------------------------
// The patient's page.

/// A consent of the patient with its status changes.
struct ConsentHistory {
    id: u64,
    consent: Value,
    changes: Vec<(ContractEvent, &'static str)>,
}

/// A delegation change of the patient.
struct DelegationChange {
    event: ContractEvent,
    delegate: String,
    relationship: String,
    active: bool,
    /// The attestation's arguments (actions, purposes, period), when it is one.
    terms: Option<Value>,
}

/// A break-glass session of the patient (or a refused declaration, `id` `None`).
struct Session {
    id: Option<u64>,
    session: Value,
    steps: Vec<ContractEvent>,
}

/// An access decided for one of the patient's records.
struct Access {
    event: ContractEvent,
    sequence: u64,
    agent: String,
    denied: bool,
    record: String,
    /// The decoded `record_access` / `record_disclosure` call, when the transaction made it
    /// directly.
    call: Option<ContractCall>,
}

impl Access {
    fn argument(&self, name: &str) -> Option<&Value> {
        self.call
            .as_ref()
            .and_then(|call| call.arguments.get(name))
            .filter(|value| !value.is_null())
    }

    fn decision(&self) -> Option<&Value> {
        self.call.as_ref().and_then(|call| call.result.as_ref())
    }

    fn role(&self) -> &str {
        self.argument("role").map(text).unwrap_or_default()
    }

    fn purpose(&self) -> &str {
        self.argument("purpose").map(text).unwrap_or_default()
    }

    fn action(&self) -> &str {
        match self.call.as_ref().map(|call| call.message.as_str()) {
            Some("record_disclosure") => "Disclose",
            _ => self.argument("action").map(variant).unwrap_or_default(),
        }
    }

    fn reason(&self) -> &str {
        self.decision()
            .map(|decision| text(&decision["reason"]))
            .unwrap_or_default()
    }

    fn break_glass(&self) -> bool {
        self.decision()
            .is_some_and(|decision| !decision["break_glass"].is_null())
    }

    /// The entry the patient's trail holds for this access (FHIR AuditEvent-shaped, as
    /// `accounting` answers), rebuilt from the event, the call and its result.
    fn audit_entry(&self) -> Value {
        let decision = self.decision();
        json!({
            "sequence": self.sequence.to_string(),
            "time_ms": self.event.time_ms.to_string(),
            "action": if self.break_glass() { "E" } else { "R" },
            "outcome": if self.denied { 4 } else { 0 },
            "agent": self.agent,
            "on_behalf_of": self.argument("on_behalf_of").cloned().unwrap_or(Value::Null),
            "record": self.record,
            "purpose": self.purpose(),
            "consent": decision.map_or(Value::Null, |decision| decision["consent"].clone()),
            "provision_path": decision.map_or(Value::Null, |decision| decision["provision_path"].clone()),
            "reason": self.reason(),
            "request": self.argument("request").cloned().unwrap_or(Value::Null),
        })
    }
}

/// What the chain holds about one patient.
struct PatientStory {
    consents: Vec<ConsentHistory>,
    delegations: Vec<DelegationChange>,
    sessions: Vec<Session>,
    records: BTreeMap<String, String>,
    accesses: Vec<Access>,
    head_time_ms: u64,
}

/// Reads everything public about `address` from the consent contract.
async fn patient_story(console: &Console, address: &str) -> Result<PatientStory, PageError> {
    let mut reader = Reader::new(console).await?;
    let contract = reader.contract.clone();

    // Consents: the ids the contract's status events name, then the public `consent` view.
    let changes = reader
        .events(Some("ConsentChanged"), SCAN_BLOCKS, MAX_EVENTS)
        .await?;
    let ids: BTreeSet<u64> = changes
        .iter()
        .filter_map(|event| number(&event.fields["id"]))
        .collect();
    let mut consents = Vec::new();
    for id in ids.iter().rev().take(MAX_CONSENTS).rev() {
        let consent = console
            .view(&contract, "consent", json!([id.to_string()]))
            .await?;
        if same_address(&consent["patient"], address) {
            consents.push(ConsentHistory {
                id: *id,
                consent,
                changes: Vec::new(),
            });
        }
    }
    for event in &changes {
        let Some(history) = consents
            .iter_mut()
            .find(|history| Some(history.id) == number(&event.fields["id"]))
        else {
            continue;
        };
        let call = reader.call(&event.transaction).await?;
        let words = transition_words(
            call.as_ref().map(|call| call.message.as_str()),
            variant(&event.fields["status"]),
            number(&event.fields["version"]).unwrap_or(0),
        );
        history.changes.push((event.clone(), words));
    }

    // Delegations: their events, and who the principal is from the call that emitted them.
    let mut delegations = Vec::new();
    for event in reader
        .events(Some("DelegationChanged"), SCAN_BLOCKS, MAX_EVENTS)
        .await?
    {
        let Some(call) = reader.call(&event.transaction).await? else {
            continue;
        };
        let principal = match call.message.as_str() {
            "attest_delegation" | "end_delegation" => text(&call.arguments["principal"]),
            "revoke_delegation" => call.from.as_str(),
            _ => "",
        };
        if !principal.eq_ignore_ascii_case(address) {
            continue;
        }
        delegations.push(DelegationChange {
            delegate: text(&event.fields["delegate"]).to_string(),
            relationship: text(&event.fields["relationship"]).to_string(),
            active: event.fields["active"] == Value::Bool(true),
            terms: (call.message == "attest_delegation").then(|| call.arguments.clone()),
            event,
        });
    }

    // Break-glass: the public `session` view names the patient; a refused declaration's
    // arguments do.
    let mut sessions: Vec<Session> = Vec::new();
    for event in reader
        .events(Some("BreakGlass"), SCAN_BLOCKS, MAX_EVENTS)
        .await?
    {
        let id = number(&event.fields["session"]).unwrap_or(REFUSED_SESSION);
        if id == REFUSED_SESSION {
            let Some(call) = reader.call(&event.transaction).await? else {
                continue;
            };
            if same_address(&call.arguments["patient"], address) {
                let mut session = call.arguments.clone();
                session["actor"] = json!(call.from);
                sessions.push(Session {
                    id: None,
                    session,
                    steps: vec![event],
                });
            }
            continue;
        }
        if let Some(known) = sessions.iter_mut().find(|known| known.id == Some(id)) {
            known.steps.push(event);
            continue;
        }
        let session = console
            .view(&contract, "session", json!([id.to_string()]))
            .await?;
        if same_address(&session["patient"], address) {
            sessions.push(Session {
                id: Some(id),
                session,
                steps: vec![event],
            });
        }
    }

    // Records: indexed by their custodian with the patient's pseudonym as an argument.
    let mut records = BTreeMap::new();
    for event in reader
        .events(Some("RecordIndexed"), SCAN_BLOCKS, MAX_EVENTS)
        .await?
    {
        let Some(call) = reader.call(&event.transaction).await? else {
            continue;
        };
        if call.message == "register_record" && same_address(&call.arguments["patient"], address) {
            records.insert(
                text(&event.fields["record"]).to_ascii_lowercase(),
                text(&event.fields["custodian"]).to_string(),
            );
        }
    }

    // Accesses to those records, with the decision's reason from the call's result.
    let mut accesses = Vec::new();
    for event in reader
        .events(Some("AccessRecorded"), SCAN_BLOCKS, MAX_EVENTS)
        .await?
    {
        let record = text(&event.fields["record"]).to_ascii_lowercase();
        if !records.contains_key(&record) {
            continue;
        }
        let call = reader
            .call(&event.transaction)
            .await?
            .filter(|call| matches!(call.message.as_str(), "record_access" | "record_disclosure"));
        accesses.push(Access {
            sequence: number(&event.fields["sequence"]).unwrap_or(0),
            agent: text(&event.fields["agent"]).to_string(),
            denied: variant(&event.fields["decision"]) == "Deny",
            record,
            call,
            event,
        });
    }
    Ok(PatientStory {
        consents,
        delegations,
        sessions,
        records,
        accesses,
        head_time_ms: reader.head_time_ms,
    })
}

/// The filters of the accesses table, from the query string.
struct AccessFilter {
    from: Option<String>,
    to: Option<String>,
    decision: Option<String>,
    requester: Option<String>,
}

impl AccessFilter {
    fn of(request: &ConsoleRequest) -> Result<AccessFilter, PageError> {
        let filter = AccessFilter {
            from: request.param("from").map(str::to_string),
            to: request.param("to").map(str::to_string),
            decision: request
                .param("decision")
                .filter(|decision| *decision != "any")
                .map(str::to_string),
            requester: request.param("requester").map(str::to_ascii_lowercase),
        };
        for date in [&filter.from, &filter.to].into_iter().flatten() {
            if fhir_time::parse_span(date).is_none() {
                return Err(PageError::BadRequest(format!(
                    "`{date}` is not a date (YYYY-MM-DD)"
                )));
            }
        }
        if let Some(decision) = &filter.decision
            && !matches!(decision.as_str(), "permitted" | "denied")
        {
            return Err(PageError::BadRequest(format!(
                "decision `{decision}`: choose permitted, denied or any"
            )));
        }
        if let Some(requester) = &filter.requester
            && !format::is_address(requester)
        {
            return Err(PageError::BadRequest(format!(
                "requester `{requester}` is not a 0x address"
            )));
        }
        Ok(filter)
    }

    fn admits(&self, access: &Access) -> bool {
        let from = self
            .from
            .as_deref()
            .and_then(fhir_time::parse_span)
            .map(|(start, _)| start);
        let to = self
            .to
            .as_deref()
            .and_then(fhir_time::parse_span)
            .map(|(_, end)| end);
        let at = i64::try_from(access.event.time_ms).unwrap_or(i64::MAX);
        from.is_none_or(|from| at >= from)
            && to.is_none_or(|to| at < to)
            && self
                .decision
                .as_deref()
                .is_none_or(|decision| (decision == "denied") == access.denied)
            && self
                .requester
                .as_deref()
                .is_none_or(|requester| requester.eq_ignore_ascii_case(&access.agent))
    }

    /// The filter as a query string (for the export links).
    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("decision", &self.decision),
            ("requester", &self.requester),
        ] {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        let query = query.finish();
        if query.is_empty() {
            query
        } else {
            format!("?{query}")
        }
    }
}

/// Checks a patient address from the path; lower case.
fn patient_address(address: &str) -> Result<String, PageError> {
    if !format::is_address(address) {
        return Err(PageError::BadRequest(format!(
            "`{address}` is not a 0x address (40 hex digits)"
        )));
    }
    Ok(address.to_ascii_lowercase())
}

/// The patient's accesses the request's filters admit (for the exports).
async fn filtered_accesses(
    console: &Console,
    address: &str,
    request: &ConsoleRequest,
) -> Result<(String, Vec<Access>), PageError> {
    let address = patient_address(address)?;
    let filter = AccessFilter::of(request)?;
    let story = patient_story(console, &address).await?;
    let accesses = story
        .accesses
        .into_iter()
        .filter(|access| filter.admits(access))
        .collect();
    Ok((address, accesses))
}

/// One moment of the patient's timeline.
struct Moment {
    block: u64,
    time_ms: u64,
    transaction: String,
    /// `ok`, `bad` or "" (the dot's colour; the words say it too).
    class: &'static str,
    what: Markup,
}

/// `/ui/consent/patient/<address>`: the patient's consents over time, delegations,
/// break-glass sessions and recorded accesses, from public views and events.
async fn patient(console: &Console, address: &str, request: &ConsoleRequest) -> PageResult {
    let address = patient_address(address)?;
    let filter = AccessFilter::of(request)?;
    let story = patient_story(console, &address).await?;
    let timeline = timeline(&story);
    let shown: Vec<&Access> = story
        .accesses
        .iter()
        .filter(|access| filter.admits(access))
        .collect();
    let query = filter.query();
    let base = format!("/ui/consent/patient/{address}");
    let accounting_input = console
        .call_input(
            &console.consent_contract()?.to_string(),
            "accounting",
            &accounting_arguments(&address, None),
        )
        .await?;
    let who_input = console
        .call_input(
            &console.consent_contract()?.to_string(),
            "who_can_see",
            &who_can_see_arguments(&address),
        )
        .await?;
    let chain_id = console.state().chain_params().chain_id;
    Ok(Page::fixed(
        format!("Patient {}", format::short(&address)),
        html! {
            dl.fields {
                dt { "Pseudonymous address" } dd.mono { (address) }
                dt { "Consents" } dd { (story.consents.len()) }
                dt { "Records indexed" } dd { (story.records.len()) }
                dt { "Accesses recorded" } dd { (story.accesses.len()) }
            }
            p.muted {
                "Built from the consent contract's events of the last " (SCAN_BLOCKS) " blocks, its "
                "public views (" code { "consent" } ", " code { "session" } ") and the arguments and "
                "results of the transactions that emitted them. The views "
                code { "who_can_see" } ", " code { "expiring" } ", " code { "delegates" } " and "
                code { "accounting" } " answer only the patient or a delegate who proves their key; "
                "who can see the data and the accounting, below, are asked with signatures made in your browser."
            }
            h2 { "Timeline" }
            @if timeline.is_empty() {
                p.muted { "Nothing recorded for this address." }
            } @else {
                ol.timeline {
                    @for moment in &timeline {
                        li class=(moment.class) {
                            (time(moment.time_ms)) " · " (block_link(moment.block)) " · "
                            (transaction_link(&moment.transaction))
                            div { (moment.what) }
                        }
                    }
                }
            }
            h2 { "Consents" }
            @if story.consents.is_empty() {
                p.muted { "No consent names this address." }
            }
            @for history in &story.consents {
                (consent_section(history))
            }
            h2 { "Delegations" }
            p.muted {
                "From the delegations' events and the authority's attestations. The "
                code { "delegates" } " view is shown to the patient or a delegate who proves their key."
            }
            (delegations_table(&story.delegations))
            h2 { "Break-glass sessions" }
            p.muted {
                "From the public " code { "session" } " view and the sessions' events. The "
                code { "pending_sessions" } " view is shown to the organisation or its reviewer only."
            }
            (sessions_table(&story.sessions, story.head_time_ms))
            h2 id="accesses" { "Accesses recorded" }
            p {
                "Every access a custodian recorded for this patient's records — permitted or "
                "denied, with the contract's reason — as the events and receipts show it."
            }
            form.filters action=(base) method="get" {
                label { "From " input type="date" name="from" value=[filter.from.as_deref()]; }
                label { "To " input type="date" name="to" value=[filter.to.as_deref()]; }
                label { "Decision "
                    select name="decision" {
                        option value="any" selected[filter.decision.is_none()] { "any" }
                        option value="permitted" selected[filter.decision.as_deref() == Some("permitted")] { "permitted" }
                        option value="denied" selected[filter.decision.as_deref() == Some("denied")] { "denied" }
                    }
                }
                label { "Requester " input type="text" name="requester" placeholder="0x…" value=[filter.requester.as_deref()]; }
                button type="submit" { "Filter" }
            }
            (accesses_table(&shown))
            p {
                "Download these accesses: "
                a href={ (base) "/accesses.csv" (query) } { "as CSV" } " · "
                a href={ (base) "/accesses.fhir.json" (query) } { "as FHIR (a Bundle of AuditEvents)" }
            }
            h2 id="accounting" { "The accounting of disclosures" }
            p {
                "The patient's full accounting — every entry of its audit trail, consent changes "
                "and refused break-glass declarations included, and accesses recorded through "
                "other contracts — answers only the patient or a delegate who proves their key "
                "(the " code { "accounting" } " view checks its caller), and so does " code { "who_can_see" } ", "
                "who may see the patient's data now."
            }
            (accounting_form(&address, console.consent_contract()?, (&accounting_input, &who_input), chain_id))
            p.muted {
                "Or export it from a terminal, signed the same way, as a FHIR R4 Bundle of "
                "AuditEvents:"
            }
            pre.mono tabindex="0" {
                code { "salus fhir export audit --patient " (address) " --from <your key> --directory directory.toml --since 2026-01-01 --until 2026-12-31 --out accounting.json --rpc http://<this node>" }
            }
        },
    )
    .with_keys())
}

/// The arguments of the `accounting` page the console shows: the whole trail, a page of
/// [`ACCOUNTING_PAGE`] entries after sequence `after`.
fn accounting_arguments(address: &str, after: Option<u64>) -> Value {
    json!([
        address,
        "0",
        u64::MAX.to_string(),
        after.map(|sequence| sequence.to_string()),
        ACCOUNTING_PAGE
    ])
}

/// The form that signs an `accounting` query in the browser. Hidden until the key module's
/// script shows it (without script, the command below it is the way); the key's field has no
/// `name`, so no form submission can ever carry it, and the script sends only the signature.
fn accounting_form(
    address: &str,
    contract: Address,
    (input, who_input): (&[u8], &[u8]),
    chain_id: u64,
) -> Markup {
    html! {
        form.keys hidden data-keys-sign
            data-module=(assets::url("keys.wasm"))
            data-chain-id=(chain_id)
            data-contract=(contract.to_string())
            data-targets="who-can-see-result accounting-result" {
            p {
                "Give the patient's key, or a delegate's, to read who can see the patient's data "
                "and the accounting here. The key stays in this browser: the console's key module "
                "(WebAssembly, served by this node) signs these two queries, each valid for two "
                "minutes, and only the signatures are sent. The key is kept in this page's memory "
                "until you leave it or press Forget."
            }
            label for="accounting-key" { "Secret key (64 hex digits)" }
            input id="accounting-key" type="password" autocomplete="off" spellcheck="false"
                inputmode="text" data-key;
            (page::key_file_fields("accounting"))
            button type="submit" { "Sign and show" }
            button type="button" data-keys-forget { "Forget the key" }
            p.keys-status role="status" data-keys-status {}
        }
        h3 { "Who can see the patient's data now" }
        div id="who-can-see-result" aria-live="polite"
            data-input={ "0x" (hex::encode(who_input)) }
            data-action={ "/ui/consent/patient/" (address) "/who-can-see" } {
            p.muted { "Shown once signed." }
        }
        h3 { "Every entry of the trail" }
        div id="accounting-result" aria-live="polite"
            data-input={ "0x" (hex::encode(input)) }
            data-action={ "/ui/consent/patient/" (address) "/accounting" } {
            p.muted { "Shown once signed." }
        }
    }
}

/// A signed `accounting` answer: the entries, the signature, the page.
struct SignedAccounting {
    entries: Value,
    caller: CallerSignature,
    after: Option<u64>,
}

/// The signature a request to a signed view carries, or a refusal naming the patient's page.
fn caller_of(request: &ConsoleRequest, what: &str) -> Result<CallerSignature, PageError> {
    CallerSignature::of(request)?.ok_or_else(|| {
        PageError::BadRequest(format!(
            "{what} answers a signed request: sign it on the patient's page"
        ))
    })
}

/// View `message(arguments)` of the consent contract run as the signer of `caller`, its `Ok`
/// value; a signer the contract does not answer (neither the patient nor a delegate in force)
/// is a page saying so.
async fn signed_view(
    console: &Console,
    message: &str,
    arguments: Value,
    caller: &CallerSignature,
) -> Result<Value, PageError> {
    let not_authorised = || {
        PageError::View(format!(
            "`{message}` answers only the patient or a delegate in force, and {} is neither \
             (NotAuthorised)",
            caller.from
        ))
    };
    let answer = console
        .view_as(
            &console.consent_contract()?.to_string(),
            message,
            arguments,
            Some(caller),
        )
        .await
        .map_err(|error| match error {
            PageError::View(reason) if reason.contains("NotAuthorised") => not_authorised(),
            other => other,
        })?;
    if let Some(error) = answer.get("Err") {
        return Err(match variant(error) {
            "NotAuthorised" => not_authorised(),
            other => PageError::View(format!("the contract refused: {other}")),
        });
    }
    Ok(unwrap_ok(answer))
}

/// `/ui/consent/patient/<address>/who-can-see?signer&expires&signature`: who may see the
/// patient's data at the head, as `who_can_see` answers the signer (the key module fetches it
/// into the patient's page).
async fn who_can_see(console: &Console, address: &str, request: &ConsoleRequest) -> PageResult {
    let address = patient_address(address)?;
    let caller = caller_of(request, "who can see")?;
    let permissions = signed_view(
        console,
        "who_can_see",
        who_can_see_arguments(&address),
        &caller,
    )
    .await?;
    let permissions = permissions.as_array().cloned().unwrap_or_default();
    Ok(Page::fixed(
        format!("Who can see the data of {}", format::short(&address)),
        html! {
            p {
                "Asked by " (account_link(&caller.from)) ", signed in this browser, at the head: "
                "every permitting provision of the patient's active consents, with all that must "
                "hold for it."
            }
            @if permissions.is_empty() {
                p.permissions-none { "Nobody: no active consent permits access (the network's default decision applies)." }
            } @else {
                ul.permissions {
                    @for permission in &permissions {
                        @let consent = &permission["consent"];
                        @let path = text(&permission["provision_path"]);
                        li data-consent=(number(&consent[0]).unwrap_or(0)) {
                            "Consent #" (number(&consent[0]).unwrap_or(0)) " version " (number(&consent[1]).unwrap_or(0))
                            @if path.is_empty() || path == "0x" { ", its base decision" } @else { ", provision " (provision_path_words(path)) }
                            ", until " (signed_time(&permission["until_ms"])) ":"
                            ul {
                                @for criteria in permission["criteria"].as_array().into_iter().flatten() {
                                    li { (provision_words(&permitting(criteria))) }
                                }
                            }
                            @let exceptions = strings(&permission["exceptions"]);
                            @if !exceptions.is_empty() {
                                "Except where "
                                (and_list(&exceptions.iter().map(|path| format!("provision {}", provision_path_words(path))).collect::<Vec<_>>()))
                                " denies."
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// Criteria of a permitting provision as a provision (`kind` Permit, no children), to be read
/// in words like one.
fn permitting(criteria: &Value) -> Value {
    let mut provision = criteria.clone();
    if let Value::Object(fields) = &mut provision {
        fields.insert("kind".into(), json!("Permit"));
    }
    provision
}

/// The arguments of the `who_can_see` the console asks: the patient, at the head.
fn who_can_see_arguments(address: &str) -> Value {
    json!([address, null])
}

/// Runs `accounting` for `address` as the signer of the request's signature.
async fn signed_accounting(
    console: &Console,
    address: &str,
    request: &ConsoleRequest,
) -> Result<(String, SignedAccounting), PageError> {
    let address = patient_address(address)?;
    let caller = caller_of(request, "the accounting")?;
    let after = request
        .param("after")
        .map(|after| {
            after
                .parse::<u64>()
                .map_err(|_| PageError::BadRequest(format!("after `{after}` is not a number")))
        })
        .transpose()?;
    let entries = signed_view(
        console,
        "accounting",
        accounting_arguments(&address, after),
        &caller,
    )
    .await?;
    Ok((
        address,
        SignedAccounting {
            entries,
            caller,
            after,
        },
    ))
}

/// `/ui/consent/patient/<address>/accounting?signer&expires&signature[&after]`: one page of
/// the patient's accounting, run as the signer (the key module fetches it into the patient's
/// page).
async fn accounting(console: &Console, address: &str, request: &ConsoleRequest) -> PageResult {
    let (address, signed) = signed_accounting(console, address, request).await?;
    let entries = signed.entries.as_array().cloned().unwrap_or_default();
    let next = (entries.len() == ACCOUNTING_PAGE as usize)
        .then(|| entries.last().and_then(|entry| number(&entry["sequence"])))
        .flatten();
    let next_input = match next {
        Some(sequence) => Some(
            console
                .call_input(
                    &console.consent_contract()?.to_string(),
                    "accounting",
                    &accounting_arguments(&address, Some(sequence)),
                )
                .await?,
        ),
        None => None,
    };
    let base = format!("/ui/consent/patient/{address}");
    let export_query = match signed.after {
        Some(after) => format!("?after={after}&{}", signed.caller.query()),
        None => format!("?{}", signed.caller.query()),
    };
    Ok(Page::fixed(
        format!("Accounting of disclosures of {}", format::short(&address)),
        html! {
            p {
                "Asked by " (account_link(&signed.caller.from)) ", signed in this browser; "
                "the signature expires " (time(signed.caller.expires_ms)) "."
            }
            (accounting_table(&entries, signed.after))
            p {
                a href={ (base) "/accounting.fhir.json" (export_query) } { "Download this page as FHIR (a Bundle of AuditEvents)" }
                " (until the signature expires)"
            }
            @if let (Some(sequence), Some(input)) = (next, next_input) {
                button type="button" data-keys-next
                    data-input={ "0x" (hex::encode(input)) }
                    data-after=(sequence) { "Sign and show the next " (ACCOUNTING_PAGE) " entries" }
            }
        },
    ))
}

/// The entries of a patient's audit trail, as `accounting` answers them.
fn accounting_table(entries: &[Value], after: Option<u64>) -> Markup {
    html! {
        @if entries.is_empty() {
            p.muted { "No entry" @if after.is_some() { " after these" } "." }
        } @else {
            table.accounting {
                caption.muted { (entries.len()) " entries, oldest first" @if let Some(after) = after { ", after entry " (after) } }
                thead { tr {
                    th scope="col" { "Entry" } th scope="col" { "Time" } th scope="col" { "Who" }
                    th scope="col" { "What" } th scope="col" { "Record" } th scope="col" { "Outcome" }
                    th scope="col" { "Reason" } th scope="col" { "Deciding consent" }
                } }
                tbody {
                    @for entry in entries {
                        tr data-outcome=(if number(&entry["outcome"]) == Some(0) { "success" } else { "refused" }) {
                            td { (text(&entry["sequence"])) }
                            td { (number(&entry["time_ms"]).map_or_else(|| html! { "—" }, time)) }
                            td {
                                (account_link(text(&entry["agent"])))
                                @if entry["on_behalf_of"].is_string() { br; span.muted { "on behalf of " (account_link(text(&entry["on_behalf_of"]))) } }
                            }
                            td {
                                (audit_action_words(variant(&entry["action"])))
                                @if !text(&entry["purpose"]).is_empty() { " for " (purpose_words(text(&entry["purpose"]))) }
                                @if entry["request"].is_string() {
                                    br; span.muted { "released by a record gateway for request " code title=(text(&entry["request"])) { (format::short(text(&entry["request"]))) } }
                                    " " a href={ "/ui/open?aad=" (text(&entry["request"])) } { "open the released record" }
                                }
                            }
                            td {
                                @if text(&entry["record"]).trim_start_matches("0x").bytes().all(|digit| digit == b'0') { span.muted { "—" } }
                                @else { code title=(text(&entry["record"])) { (format::short(text(&entry["record"]))) } }
                            }
                            td { @if number(&entry["outcome"]) == Some(0) { span.status.ok { "success" } } @else { span.status.bad { "refused" } } }
                            td.reason { (text(&entry["reason"])) }
                            td { (deciding_consent(&entry["consent"], &entry["provision_path"])) }
                        }
                    }
                }
            }
        }
    }
}

/// A FHIR AuditEvent action code (`C`, `R`, `U`, `D`, `E`) in words.
fn audit_action_words(action: &str) -> &'static str {
    match action {
        "C" => "Consent created",
        "R" => "Read",
        "U" => "Consent changed",
        "D" => "Consent revoked",
        "E" => "Break-glass access",
        _ => "Entry",
    }
}

/// Every event of the patient's story in chain order, in words.
fn timeline(story: &PatientStory) -> Vec<Moment> {
    let mut moments = Vec::new();
    for history in &story.consents {
        for (event, words) in &history.changes {
            let status = variant(&event.fields["status"]);
            let (class, status_text) = status_words(status);
            moments.push(Moment {
                block: event.block,
                time_ms: event.time_ms,
                transaction: event.transaction.clone(),
                class: match class {
                    "ok" => "ok",
                    "bad" => "bad",
                    _ => "",
                },
                what: html! {
                    "Consent #" (history.id) " " (words) ": status "
                    span class={ "status " (class) } { (status_text) }
                },
            });
        }
    }
    for change in &story.delegations {
        moments.push(Moment {
            block: change.event.block,
            time_ms: change.event.time_ms,
            transaction: change.event.transaction.clone(),
            class: "",
            what: html! {
                "Delegation to " (account_link(&change.delegate)) " as "
                (role_words(&change.relationship)) " "
                @if change.active { "attested" } @else { "ended" }
            },
        });
    }
    for session in &story.sessions {
        for step in &session.steps {
            let step_name = text(&step.fields["step"]);
            moments.push(Moment {
                block: step.block,
                time_ms: step.time_ms,
                transaction: step.transaction.clone(),
                class: match step_name {
                    "justified" => "ok",
                    "refused" | "unjustified" => "bad",
                    _ => "",
                },
                what: html! {
                    @match session.id {
                        Some(id) => { "Break-glass session #" (id) ": " (step_words(step_name)) }
                        None => { "Break-glass declaration by " (account_link(text(&session.session["actor"]))) " " span.status.bad { "refused" } " (DICOM 110113 security alert)" }
                    }
                },
            });
        }
    }
    for access in &story.accesses {
        moments.push(Moment {
            block: access.event.block,
            time_ms: access.event.time_ms,
            transaction: access.event.transaction.clone(),
            class: if access.denied { "bad" } else { "ok" },
            what: html! {
                (access_words(access)) " "
                @if access.denied { span.status.bad { "denied" } } @else { span.status.ok { "permitted" } }
                @if access.denied && !access.reason().is_empty() { ": " span.reason { (access.reason()) } }
                @if !access.denied && access.break_glass() { ": " span.reason { (access.reason()) } }
            },
        });
    }
    moments.sort_by_key(|moment| (moment.block, moment.time_ms));
    moments
}

/// "Access by X (role) for purpose" in words.
fn access_words(access: &Access) -> Markup {
    let action = access.action();
    html! {
        @if action.is_empty() { "Access" } @else { (action) }
        " by " (account_link(&access.agent))
        @if !access.role().is_empty() { " as " (role_words(access.role())) }
        @if !access.purpose().is_empty() { " for " (purpose_words(access.purpose())) }
    }
}

/// One consent: what it is, its provisions in words, its status changes.
fn consent_section(history: &ConsentHistory) -> Markup {
    let consent = &history.consent;
    let status = variant(&consent["status"]);
    let (class, status_text) = status_words(status);
    let base = variant(&consent["base"]);
    let provisions = consent["provisions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let grantor_is_patient = consent["grantor"]
        .as_str()
        .zip(consent["patient"].as_str())
        .is_some_and(|(grantor, patient)| grantor.eq_ignore_ascii_case(patient));
    html! {
        section.consent data-consent=(history.id) {
            h3 { "Consent #" (history.id) ": " (scope_words(text(&consent["scope"]))) }
            dl.fields {
                dt { "Status" } dd { span class={ "status " (class) } { (status_text) } " (version " (consent["version"].to_string()) ")" }
                dt { "Category" } dd { (category_words(text(&consent["category"]))) }
                dt { "In force" } dd { (period_words(&consent["period"])) }
                dt { "Signed" } dd { (signed_time(&consent["date_ms"])) }
                dt { "Granted by" } dd {
                    (account_link(text(&consent["grantor"])))
                    @if grantor_is_patient { " (the patient)" } @else { " (a delegate or author)" }
                }
                @if let Some(previous) = number(&consent["supersedes"]) {
                    dt { "Replaces" } dd { "consent #" (previous) }
                }
                dt { "Where no provision matches" } dd {
                    @if base == "Permit" { span.status.ok { "Permit" } " everything" } @else { span.status.bad { "Deny" } " everything" }
                }
                dt { "Source document" } dd { code title=(text(&consent["source"])) { (format::short(text(&consent["source"]))) } " (hash)" }
            }
            h4 { "Provisions" }
            @if provisions.is_empty() {
                p.muted { "None: the base decision applies." }
            } @else {
                ol.provisions { @for provision in &provisions { li { (provision_words(provision)) } } }
            }
            h4 { "Status changes" }
            @if history.changes.is_empty() {
                p.muted { "None in the blocks read." }
            } @else {
                ol.changes {
                    @for (event, words) in &history.changes {
                        @let (class, status_text) = status_words(variant(&event.fields["status"]));
                        li {
                            (time(event.time_ms)) " — " (words) ": "
                            span class={ "status " (class) } { (status_text) }
                            " (version " (event.fields["version"].to_string()) ", " (transaction_link(&event.transaction)) ")"
                        }
                    }
                }
            }
        }
    }
}

fn delegations_table(delegations: &[DelegationChange]) -> Markup {
    html! {
        @if delegations.is_empty() {
            p.muted { "No delegation names this address." }
        } @else {
            table {
                caption.muted { "Delegations attested or ended, oldest first" }
                thead { tr { th scope="col" { "Time" } th scope="col" { "Delegate" } th scope="col" { "Relationship" } th scope="col" { "State" } th scope="col" { "Scope" } th scope="col" { "Transaction" } } }
                tbody {
                    @for change in delegations {
                        tr {
                            td { (time(change.event.time_ms)) }
                            td { (account_link(&change.delegate)) }
                            td { (role_words(&change.relationship)) }
                            td { @if change.active { span.status.ok { "attested" } } @else { span.status.neutral { "ended" } } }
                            td {
                                @if let Some(terms) = &change.terms {
                                    @let actions: Vec<String> = strings(&terms["actions"]).iter().map(|action| action_words(action)).collect();
                                    @let purposes: Vec<String> = strings(&terms["purposes"]).iter().map(|purpose| purpose_words(purpose)).collect();
                                    "may consent to " (if actions.is_empty() { "nothing".to_string() } else { and_list(&actions) })
                                    " for " (if purposes.is_empty() { "no purpose".to_string() } else { and_list(&purposes) })
                                    ", " (period_words(&terms["period"]))
                                } @else {
                                    span.muted { "—" }
                                }
                            }
                            td { (transaction_link(&change.event.transaction)) }
                        }
                    }
                }
            }
        }
    }
}

fn sessions_table(sessions: &[Session], now_ms: u64) -> Markup {
    html! {
        @if sessions.is_empty() {
            p.muted { "No break-glass session names this address." }
        } @else {
            table {
                caption.muted { "Emergency access (break-glass) sessions and refused declarations" }
                thead { tr { th scope="col" { "Session" } th scope="col" { "Organisation" } th scope="col" { "Clinician" } th scope="col" { "Purpose" } th scope="col" { "Window" } th scope="col" { "Review" } } }
                tbody {
                    @for session in sessions {
                        @let fields = &session.session;
                        tr data-session=[session.id] {
                            td { @match session.id { Some(id) => { "#" (id) } None => { span.status.bad { "refused" } } } }
                            td { (account_link(text(&fields["organisation"]))) }
                            td { (account_link(text(&fields["actor"]))) }
                            td { (purpose_words(text(&fields["purpose"]))) }
                            td {
                                @match (number(&fields["opened_ms"]), number(&fields["closes_ms"])) {
                                    (Some(opened), Some(closes)) => { (time(opened)) " to " (time(closes)) }
                                    _ => { span.muted { "never opened" } }
                                }
                            }
                            td.review {
                                @if session.id.is_none() {
                                    "declaration refused: the declarer is not in the organisation's break-glass group, or the purpose is not an emergency"
                                } @else {
                                    @match &fields["justified"] {
                                        Value::Bool(true) => { span.status.ok { "reviewed: justified" } }
                                        Value::Bool(false) => { span.status.bad { "reviewed: not justified" } }
                                        _ => {
                                            span.status.warn { "awaiting review" }
                                            @if number(&fields["closes_ms"]).is_some_and(|closes| closes > now_ms) { " (open)" } @else { " (closed)" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn accesses_table(accesses: &[&Access]) -> Markup {
    html! {
        @if accesses.is_empty() {
            p.muted { "No access recorded matches." }
        } @else {
            table.accesses {
                caption.muted { (accesses.len()) " accesses, oldest first" }
                thead { tr {
                    th scope="col" { "Time" } th scope="col" { "Requester" } th scope="col" { "Access" }
                    th scope="col" { "Record" } th scope="col" { "Decision" } th scope="col" { "Reason" }
                    th scope="col" { "Deciding consent" } th scope="col" { "Transaction" }
                } }
                tbody {
                    @for access in accesses {
                        tr data-decision=(if access.denied { "denied" } else { "permitted" }) {
                            td { (time(access.event.time_ms)) }
                            td { (account_link(&access.agent)) @if !access.role().is_empty() { br; span.muted { (role_words(access.role())) } } }
                            td {
                                (if access.action().is_empty() { "unknown".to_string() } else { action_words(access.action()) })
                                @if !access.purpose().is_empty() { " for " (purpose_words(access.purpose())) }
                                @if let Some(principal) = access.argument("on_behalf_of") { ", on behalf of " (account_link(text(principal))) }
                            }
                            td { code title=(access.record) { (format::short(&access.record)) } }
                            td { @if access.denied { span.status.bad { "denied" } } @else { span.status.ok { "permitted" } } }
                            td.reason {
                                @if access.reason().is_empty() { span.muted { "not in a direct call's result" } } @else { (access.reason()) }
                            }
                            td {
                                @match access.decision() {
                                    Some(decision) => { (deciding_consent(&decision["consent"], &decision["provision_path"])) }
                                    None => { span.muted { "none" } }
                                }
                            }
                            td { (transaction_link(&access.event.transaction)) }
                        }
                    }
                }
            }
        }
    }
}

/// The consent that decided (`[id, version]`, as the ABI writes `Option<(u64, u32)>`) and the
/// provision on its path: "#0 version 1, provision 2".
fn deciding_consent(consent: &Value, provision_path: &Value) -> Markup {
    html! {
        @match consent {
            Value::Array(pair) if pair.len() == 2 => {
                "#" (number(&pair[0]).unwrap_or(0)) " version " (number(&pair[1]).unwrap_or(0))
                @if let Some(path) = provision_path.as_str().filter(|path| *path != "0x") {
                    ", provision " (provision_path_words(path))
                }
            }
            _ => { span.muted { "none" } }
        }
    }
}

/// A provision path (child indexes from the root, hex bytes) as 1-based numbers: `2.1`.
fn provision_path_words(path: &str) -> String {
    hex::decode(path.trim_start_matches("0x"))
        .map(|bytes| {
            bytes
                .iter()
                .map(|index| (u32::from(*index) + 1).to_string())
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_else(|_| path.to_string())
}

/// A CSV field: quoted, quotes doubled, and a leading `=`, `+`, `-` or `@` defused so that a
/// spreadsheet does not read chain text as a formula.
fn csv_field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// The accesses as CSV, one line each.
fn accesses_csv(accesses: &[Access]) -> String {
    let mut out = String::from(
        "sequence,time,block,requester,role,action,purpose,on_behalf_of,record,decision,reason,consent,provision_path,transaction\n",
    );
    for access in accesses {
        let entry = access.audit_entry();
        let consent = match &entry["consent"] {
            Value::Array(pair) if pair.len() == 2 => format!(
                "{}@{}",
                number(&pair[0]).unwrap_or(0),
                number(&pair[1]).unwrap_or(0)
            ),
            _ => String::new(),
        };
        let fields = [
            access.sequence.to_string(),
            salus_client::epcis::time::format_date_time(access.event.time_ms),
            access.event.block.to_string(),
            access.agent.clone(),
            access.role().to_string(),
            access.action().to_string(),
            access.purpose().to_string(),
            text(&entry["on_behalf_of"]).to_string(),
            access.record.clone(),
            if access.denied { "denied" } else { "permitted" }.to_string(),
            access.reason().to_string(),
            consent,
            text(&entry["provision_path"]).to_string(),
            access.event.transaction.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisions_read_as_words_with_blinded_criteria_counted_not_shown() {
        let provision = json!({
            "kind": "Permit",
            "period": null,
            "actors": ["0x00000000000000000000000000000000000000aa"],
            "custodians": [], "authors": [], "roles": ["PRCP"],
            "actions": ["Access", "Use"],
            "purposes": ["TREAT"],
            "label_tags": [], "class_tags": [format!("0x{}", "11".repeat(32))],
            "records": [], "data_period_commitment": null,
            "children": [{
                "kind": "Deny", "period": null, "actors": [], "custodians": [], "authors": [],
                "roles": [], "actions": [], "purposes": [],
                "label_tags": [format!("0x{}", "22".repeat(32))], "class_tags": [],
                "records": [], "data_period_commitment": null, "children": []
            }]
        });
        let words = provision_words(&provision).into_string();
        assert!(words.contains("Permit"), "{words}");
        assert!(words.contains("access and use"), "{words}");
        assert!(words.contains("treatment (TREAT)"), "{words}");
        assert!(
            words.contains("primary information recipient (PRCP)"),
            "{words}"
        );
        assert!(words.contains("1 data class"), "{words}");
        assert!(words.contains("Except:"), "{words}");
        assert!(
            words.contains("Deny</span> any action by anyone for any purpose"),
            "{words}"
        );
        assert!(
            !words.contains(&"11".repeat(32)),
            "tags are not shown: {words}"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(provision_path_words("0x0100"), "2.1");
    }
}
