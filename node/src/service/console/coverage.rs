//! The coverage pages of the console: a preauthorization's trail with its CMS-0057-F deadline
//! clock, a payer's published metrics as charts, and the landing page (requests due soon,
//! overdue ones, recent activity).
//!
//! Everything here is what any RPC caller can read: the coverage contract's events (handles,
//! priorities, due times, statuses, steps), the arguments of the transactions that emitted them
//! (action and reason codes, commitments — never the sealed submission, which travels to the
//! payer off chain and is never decrypted here) and the public views `rules`, `metrics` and
//! `period_metrics`. The views that check a proven caller (`sealed_request`, `due_within`) are
//! not asked: their answers are rebuilt from the events instead, as the pages say.

use std::collections::HashMap;

use maud::{Markup, html};
use salus_client::rpc::{BlockId, EventFilter, EventRecord, SalusApiServer};
use serde_json::{Value, json};

use super::chain::decoded_call;
use super::format::{self, account_link, time, transaction_link};
use super::page::{Page, PageError, PageResult};
use super::{Console, ConsoleRequest};

/// Blocks the landing page looks back over for activity and open requests.
const LANDING_WINDOW_BLOCKS: u64 = 20_000;

/// Events one page reads at most (pages of the RPC's `events_query`).
const MAX_EVENTS_READ: usize = 5_000;

/// Events asked for per `events_query` call.
const EVENTS_PAGE: u32 = 1_000;

/// Recent events listed on the landing page.
const RECENT_ACTIVITY: usize = 25;

/// Hours ahead the landing page calls "due soon".
const DUE_SOON_HOURS: u64 = 24;

/// The payer's latest decisions read for the reviewers who posted them.
const REVIEWER_DECISIONS_READ: usize = 100;

/// Milliseconds in an hour.
const HOUR_MS: u64 = 60 * 60 * 1000;

/// Answers `/ui/coverage/…`; `rest` is the path below `/ui/coverage`.
pub async fn route(console: &Console, rest: &[&str], request: &ConsoleRequest) -> PageResult {
    match rest {
        [] => landing(console, request).await,
        ["preauth", handle] => preauthorization(console, handle).await,
        ["payer", address] => payer(console, address).await,
        _ => Err(PageError::NotFound(
            "this address is not a coverage page".into(),
        )),
    }
}

/// The coverage contract's address (`[console] coverage`, else the genesis contract).
fn contract(console: &Console) -> Result<String, PageError> {
    Ok(console.coverage_contract()?.to_string())
}

/// Whether `text` is a `0x` hash (32 bytes of hex).
fn is_hash(text: &str) -> bool {
    text.len() == 66 && text.starts_with("0x") && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The topic an address takes as an indexed field: its 20 bytes, zero-padded to 32.
fn address_topic(address: &str) -> String {
    format!("{}{}", address.to_ascii_lowercase(), "0".repeat(24))
}

/// A number in the ABI's JSON forms (decimal string or number; an `Ok` wrapper is looked
/// through).
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        Value::Object(fields) if fields.len() == 1 => fields.values().next().and_then(number),
        _ => None,
    }
}

/// A unit enum variant's name (`"Expedited"`), or the single key of `{"Variant": …}`.
fn variant(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) => Some(text),
        Value::Object(fields) if fields.len() == 1 => fields.keys().next().map(String::as_str),
        _ => None,
    }
}

/// One coverage event with where it is and the call that emitted it.
struct CoverageEvent {
    /// Block number.
    block: u64,
    /// Block time (ms).
    time_ms: u64,
    /// The emitting transaction.
    transaction: String,
    /// The event's name (`SealedSubmitted`, …).
    name: String,
    /// Its fields, decoded through the ABI.
    fields: Value,
}

impl CoverageEvent {
    fn handle(&self) -> Option<&str> {
        self.fields["trace_handle"].as_str()
    }

    fn payer(&self) -> Option<&str> {
        self.fields["payer"].as_str()
    }
}

/// The coverage events matching `topics` from block `from` on, decoded, in chain order (at
/// most [`MAX_EVENTS_READ`]); whether some were left unread.
async fn events(
    console: &Console,
    topics: Vec<Option<String>>,
    from: u64,
) -> Result<(Vec<CoverageEvent>, bool), PageError> {
    let abi = console
        .abi(&contract(console)?)
        .await?
        .ok_or_else(|| PageError::NotFound("no coverage contract on this chain".into()))?;
    let mut records: Vec<EventRecord> = Vec::new();
    let mut after = None;
    let mut truncated = false;
    loop {
        let page = console
            .rpc()
            .events_query(EventFilter {
                contract: contract(console)?,
                topics: topics.clone(),
                from_block: Some(from),
                to_block: None,
                after: after.take(),
                limit: Some(EVENTS_PAGE),
            })
            .await
            .map_err(PageError::from_rpc)?;
        records.extend(page.events);
        match page.next {
            Some(next) if records.len() < MAX_EVENTS_READ => after = Some(next),
            Some(_) => {
                truncated = true;
                break;
            }
            None => break,
        }
    }
    let mut times: HashMap<u64, u64> = HashMap::new();
    let mut decoded = Vec::new();
    for record in records {
        let Some(Ok(Some(value))) = record
            .event
            .to_event()
            .map(|event| abi.decode_event(&event))
        else {
            continue;
        };
        let time_ms = match times.get(&record.block_number) {
            Some(time_ms) => *time_ms,
            None => {
                let header = console
                    .rpc()
                    .chain_get_header(BlockId::Number(record.block_number))
                    .await
                    .map_err(PageError::from_rpc)?;
                let time_ms = header.map_or(0, |header| header.timestamp_ms);
                times.insert(record.block_number, time_ms);
                time_ms
            }
        };
        decoded.push(CoverageEvent {
            block: record.block_number,
            time_ms,
            transaction: record.transaction_hash,
            name: value["event"].as_str().unwrap_or("event").to_string(),
            fields: value["fields"].clone(),
        });
    }
    Ok((decoded, truncated))
}

/// The coverage message a transaction called, its sender and its arguments and result (as
/// the ABI decodes them); `None` when it is not a direct call of the coverage contract.
struct CallMade {
    message: String,
    from: String,
    arguments: Value,
    result: Value,
}

async fn call_of(console: &Console, transaction: &str) -> Result<Option<CallMade>, PageError> {
    let call = decoded_call(console, transaction, console.coverage_contract()?).await?;
    Ok(call.map(|call| CallMade {
        message: call.message,
        from: call.from,
        arguments: call.arguments,
        result: call.result.unwrap_or(Value::Null),
    }))
}

/// The head's time (ms): the "now" of every clock on these pages.
async fn now_ms(console: &Console) -> Result<u64, PageError> {
    Ok(console
        .rpc()
        .chain_head()
        .await
        .map_err(PageError::from_rpc)?
        .timestamp_ms)
}

/// An HCR01 action code in words.
fn action_words(code: &str) -> &'static str {
    match code {
        "A1" => "certified in total",
        "A2" => "certified in part",
        "A3" => "not certified (denied)",
        "A4" => "pended",
        "A6" => "modified",
        "C" => "cancelled",
        "Na" | "NA" => "no authorisation required",
        "Ct" | "CT" => "contact the payer",
        _ => "unknown action",
    }
}

/// The HCR01 code as X12 spells it (`Na` → `NA`).
fn action_code(code: &str) -> String {
    code.to_ascii_uppercase()
}

/// Whether an action is a denial or other adverse decision (red on the timeline).
fn adverse(code: &str) -> bool {
    matches!(code, "A2" | "A3" | "A6")
}

/// A payer's rule sets' reason tables, read once per version: code → text.
struct Reasons<'a> {
    console: &'a Console,
    tables: HashMap<(String, u64), HashMap<String, String>>,
}

impl Reasons<'_> {
    async fn text(&mut self, payer: &str, version: u64, code: &str) -> Option<String> {
        let key = (payer.to_string(), version);
        if !self.tables.contains_key(&key) {
            let table = self
                .console
                .view(
                    &contract(self.console).ok()?,
                    "rules",
                    json!([payer, version.to_string()]),
                )
                .await
                .ok()
                .map(|rules| reason_table(&rules))
                .unwrap_or_default();
            self.tables.insert(key.clone(), table);
        }
        self.tables[&key].get(code).cloned()
    }
}

/// A rule set's reasons (`reasons: [{edit, reason: {code, text}}]`) as code → text.
fn reason_table(rules: &Value) -> HashMap<String, String> {
    rules["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            Some((
                entry["reason"]["code"].as_str()?.to_string(),
                entry["reason"]["text"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A reason code with its words from the rule set, when it has them.
fn reason_markup(code: &str, text: Option<&str>) -> Markup {
    html! {
        "reason " code { (code) }
        @if let Some(text) = text { " — " (text) } @else { " " span.muted { "(not in the rule set's table)" } }
    }
}

/// One posted line as the timeline writes it.
struct LineShown {
    action: String,
    reason: Option<(String, Option<String>)>,
    quantity: u64,
}

async fn lines_shown(
    reasons: &mut Reasons<'_>,
    payer: &str,
    version: u64,
    lines: &Value,
) -> Vec<LineShown> {
    let mut shown = Vec::new();
    for line in lines.as_array().into_iter().flatten() {
        let action = variant(&line["action"]).unwrap_or("?").to_string();
        let reason = match line["reason"].as_str() {
            Some(code) => Some((code.to_string(), reasons.text(payer, version, code).await)),
            None => None,
        };
        shown.push(LineShown {
            action,
            reason,
            quantity: number(&line["quantity"]).unwrap_or(0),
        });
    }
    shown
}

fn lines_markup(lines: &[LineShown]) -> Markup {
    html! {
        ul.decision-lines {
            @for (index, line) in lines.iter().enumerate() {
                li data-action=(action_code(&line.action)) {
                    "Line " (index + 1) ": "
                    strong { (action_code(&line.action)) } " " (action_words(&line.action))
                    @if line.quantity > 0 { ", " (line.quantity) " unit(s)" }
                    @if let Some((code, text)) = &line.reason { "; " (reason_markup(code, text.as_deref())) }
                }
            }
        }
    }
}

/// A step of the trail, ready to list.
struct Step {
    time_ms: u64,
    block: u64,
    transaction: String,
    class: &'static str,
    kind: &'static str,
    title: Markup,
    who: Option<String>,
    detail: Markup,
}

/// What the trail says of the request as a whole.
#[derive(Default)]
struct RequestState {
    payer: Option<String>,
    priority: Option<String>,
    received_ms: Option<u64>,
    due_ms: Option<u64>,
    status: Option<String>,
    overdue_since: Option<u64>,
    decided_ms: Option<u64>,
    requester: Option<String>,
    line_count: Option<u64>,
    commitments: Vec<(String, String)>,
    /// Accounts other than the payer that posted decisions for it.
    reviewers: Vec<String>,
}

impl RequestState {
    /// Whether the payer still owes a decision (pended, documentation received, appealed).
    fn waiting(&self) -> bool {
        matches!(
            self.status.as_deref(),
            None | Some("Pended" | "InformationReceived" | "Appealed")
        )
    }
}

fn status_words(status: &str) -> &'static str {
    match status {
        "Pended" => "pended: waiting for the payer",
        "InformationReceived" => "documentation received: waiting for the payer",
        "Decided" => "decided",
        "Cancelled" => "cancelled by the requester",
        "Appealed" => "under appeal: waiting for the payer",
        _ => "unknown",
    }
}

fn commitment(state: &mut RequestState, what: &str, value: &Value) {
    if let Some(hash) = value.as_str() {
        state.commitments.push((what.to_string(), hash.to_string()));
    }
}

/// `/ui/coverage/preauth/<trace handle>`: the request's trail and its deadline clock (live).
async fn preauthorization(console: &Console, handle: &str) -> PageResult {
    if !is_hash(handle) {
        return Err(PageError::BadRequest(format!(
            "`{handle}` is not a trace handle (0x and 64 hex digits)"
        )));
    }
    let handle = handle.to_ascii_lowercase();
    let (found, truncated) = events(console, vec![None, None, Some(handle.clone())], 0).await?;
    let found: Vec<CoverageEvent> = found
        .into_iter()
        .filter(|event| event.handle() == Some(handle.as_str()))
        .collect();
    if found.is_empty() {
        return Err(PageError::NotFound(format!(
            "no preauthorization with the trace handle {handle} on this chain"
        )));
    }
    let now = now_ms(console).await?;
    let mut reasons = Reasons {
        console,
        tables: HashMap::new(),
    };
    let mut state = RequestState::default();
    let mut steps = Vec::new();
    for event in &found {
        let call = call_of(console, &event.transaction).await?;
        let payer = event.payer().unwrap_or_default().to_string();
        state.payer.get_or_insert_with(|| payer.clone());
        let step = match event.name.as_str() {
            "SealedSubmitted" => {
                let priority = variant(&event.fields["priority"])
                    .unwrap_or("?")
                    .to_string();
                let due = number(&event.fields["due_ms"]);
                state.priority = Some(priority.clone());
                state.due_ms = due;
                state.status = Some("Pended".into());
                state.overdue_since = None;
                state.decided_ms = None;
                let revised = call.as_ref().is_some_and(|call| call.message == "revise");
                if !revised {
                    state.received_ms = Some(event.time_ms);
                }
                let mut detail = html! {};
                if let Some(call) = &call {
                    state.requester.get_or_insert_with(|| call.from.clone());
                    let (lines, hash) = if revised {
                        (
                            &call.arguments["line_count"],
                            &call.arguments["new_submission_commitment"],
                        )
                    } else {
                        (
                            &call.arguments["line_count"],
                            &call.arguments["submission_commitment"],
                        )
                    };
                    state.line_count = number(lines);
                    commitment(
                        &mut state,
                        if revised {
                            "Revised submission"
                        } else {
                            "Submission"
                        },
                        hash,
                    );
                    detail = html! {
                        (number(lines).unwrap_or(0)) " service line(s), sealed to the payer; commitment "
                        code title=(hash.as_str().unwrap_or_default()) { (format::short(hash.as_str().unwrap_or_default())) }
                    };
                }
                Step {
                    time_ms: event.time_ms,
                    block: event.block,
                    transaction: event.transaction.clone(),
                    class: "",
                    kind: if revised { "revised" } else { "submitted" },
                    title: html! {
                        @if revised { "Revised and submitted again" } @else { "Submitted" }
                        " (" (priority.to_lowercase()) "), due " (time(due.unwrap_or(0)))
                    },
                    who: call.map(|call| call.from),
                    detail,
                }
            }
            "DecisionPosted" => {
                let status = variant(&event.fields["status"]).unwrap_or("?").to_string();
                let version = number(&event.fields["rule_set"]).unwrap_or(0);
                state.status = Some(status.clone());
                if status == "Decided" {
                    state.decided_ms = Some(event.time_ms);
                }
                let mut shown = Vec::new();
                if let Some(call) = &call {
                    shown =
                        lines_shown(&mut reasons, &payer, version, &call.arguments["lines"]).await;
                    commitment(
                        &mut state,
                        "Decision inputs",
                        &call.arguments["inputs_commitment"],
                    );
                    commitment(
                        &mut state,
                        "Decision outcome",
                        &call.arguments["outcome_commitment"],
                    );
                }
                if let Some(call) = &call
                    && !call.from.eq_ignore_ascii_case(&payer)
                {
                    state.reviewers.push(call.from.clone());
                }
                let any_adverse = shown.iter().any(|line| adverse(&line.action));
                let pended = status != "Decided";
                Step {
                    time_ms: event.time_ms,
                    block: event.block,
                    transaction: event.transaction.clone(),
                    class: if any_adverse {
                        "bad"
                    } else if pended {
                        ""
                    } else {
                        "ok"
                    },
                    kind: if pended { "pended" } else { "decided" },
                    title: html! {
                        @if pended { "Decision posted, lines still pended" } @else { "Decided" }
                        " under rule set version " (version)
                    },
                    who: call.map(|call| call.from),
                    detail: lines_markup(&shown),
                }
            }
            "Overdue" => {
                let due = number(&event.fields["due_ms"]).unwrap_or(0);
                state.overdue_since = Some(due);
                Step {
                    time_ms: event.time_ms,
                    block: event.block,
                    transaction: event.transaction.clone(),
                    class: "bad",
                    kind: "overdue",
                    title: html! { "Marked overdue" },
                    who: call.map(|call| call.from),
                    detail: html! {
                        "It was due " (time(due)) "; marked "
                        (format::duration(event.time_ms.saturating_sub(due))) " late. "
                        "Overdue is never approval: the request stays undecided."
                    },
                }
            }
            "RequestStep" => {
                let name = event.fields["step"].as_str().unwrap_or("?").to_string();
                request_step(&mut state, &mut reasons, event, &payer, &name, call).await
            }
            _ => continue,
        };
        steps.push(step);
    }
    let clock = deadline_clock(&state, now);
    let body = html! {
        h2 { "Deadline" }
        (clock)
        h2 { "Trail" }
        @if truncated { p.muted { "Only the first " (MAX_EVENTS_READ) " events are shown." } }
        ol.timeline {
            @for step in &steps {
                li class=(step.class) data-step=(step.kind) {
                    strong { (step.title) }
                    div.muted {
                        (time(step.time_ms)) " · block " (format::block_link(step.block))
                        " · transaction " (transaction_link(&step.transaction))
                        @if let Some(who) = &step.who { " · by " (role_of(who, &state)) " " (account_link(who)) }
                    }
                    div { (step.detail) }
                }
            }
        }
        h2 { "Commitments" }
        p {
            "The request's content — service lines, diagnoses, documentation, appeal grounds — is "
            "sealed to the payer and delivered off chain; the chain keeps only these commitments "
            "(salted hashes), which the payer or a verifier it lets in checks against the "
            "plaintext (" code { "salus verify-decision" } "). Nothing sealed is decrypted here."
        }
        @if state.commitments.is_empty() {
            p.muted { "No commitment could be read from the transactions." }
        } @else {
            table {
                caption { "Commitments on chain, oldest first" }
                thead { tr { th scope="col" { "What" } th scope="col" { "Commitment (hash)" } } }
                tbody {
                    @for (what, hash) in &state.commitments {
                        tr { td { (what) } td.mono { (hash) } }
                    }
                }
            }
        }
        p.muted {
            "The request's full record (" code { "sealed_request" } ") answers only the requester, "
            "the member's pseudonym and the payer, who prove their key; this trail is rebuilt from "
            "the coverage contract's public events and the arguments of the transactions that "
            "emitted them. Parties are shown by their pseudonymous addresses."
        }
    };
    Ok(Page::live(
        format!("Preauthorization {}", format::short(&handle)),
        body,
    ))
}

/// A `RequestStep` event as a step of the trail, updating `state`.
async fn request_step(
    state: &mut RequestState,
    reasons: &mut Reasons<'_>,
    event: &CoverageEvent,
    payer: &str,
    name: &str,
    call: Option<CallMade>,
) -> Step {
    let arguments = call
        .as_ref()
        .map_or(Value::Null, |call| call.arguments.clone());
    let result = call
        .as_ref()
        .map_or(Value::Null, |call| call.result.clone());
    let version = number(&arguments["rule_set_version"]).unwrap_or(0);
    let (class, title, detail) = match name {
        "documentation" => {
            if state.status.as_deref() == Some("Pended") {
                state.status = Some("InformationReceived".into());
            }
            commitment(
                state,
                "Documentation",
                &arguments["documentation_commitment"],
            );
            (
                "",
                html! { "Documentation delivered to the payer" },
                html! { "Sealed off chain; the chain keeps its commitment." },
            )
        }
        "review-extended" => {
            if let Some(due) = number(&result) {
                state.due_ms = Some(due);
            }
            (
                "",
                html! { "Review timeframe extended by the payer (14 days, once)" },
                html! {
                    @if let Some(due) = state.due_ms { "Now due " (time(due)) "." }
                },
            )
        }
        "appealed" => {
            state.status = Some("Appealed".into());
            state.overdue_since = None;
            state.decided_ms = None;
            let due = number(&result).or_else(|| {
                state
                    .priority
                    .as_deref()
                    .map(|priority| event.time_ms + due_after(priority))
            });
            state.due_ms = due;
            commitment(state, "Appeal grounds", &arguments["grounds_commitment"]);
            (
                "",
                html! { "Appealed" },
                html! {
                    "The denied lines are appealed; the grounds are sealed to the payer off chain."
                    @if let Some(due) = due { " The appeal is due " (time(due)) "." }
                },
            )
        }
        "appeal-upheld" | "appeal-overturned" => {
            state.status = Some("Decided".into());
            state.decided_ms = Some(event.time_ms);
            if let Some(call) = &call
                && !call.from.eq_ignore_ascii_case(payer)
            {
                state.reviewers.push(call.from.clone());
            }
            let overturned = name == "appeal-overturned";
            let shown = lines_shown(reasons, payer, version, &arguments["lines"]).await;
            let reason = match arguments["reason"].as_str() {
                Some(code) => Some((code.to_string(), reasons.text(payer, version, code).await)),
                None => None,
            };
            commitment(
                state,
                "Appeal decision inputs",
                &arguments["inputs_commitment"],
            );
            commitment(
                state,
                "Appeal decision outcome",
                &arguments["outcome_commitment"],
            );
            (
                if overturned { "ok" } else { "bad" },
                html! { "Appeal decided: " @if overturned { "denial overturned" } @else { "denial upheld" } },
                html! {
                    @if let Some((code, text)) = &reason { p { (reason_markup(code, text.as_deref())) } }
                    @if overturned && !shown.is_empty() { (lines_markup(&shown)) }
                },
            )
        }
        "extension" => (
            "",
            html! { "Extension of the authorised window asked" },
            html! {
                @if let Some(days) = number(&arguments["days"]) { (days) " day(s) asked." }
            },
        ),
        "extension-granted" => ("ok", html! { "Extension granted" }, html! {}),
        "extension-refused" => {
            let reason = match arguments["reason"].as_str() {
                Some(code) => Some((code.to_string(), reasons.text(payer, version, code).await)),
                None => None,
            };
            (
                "bad",
                html! { "Extension refused" },
                html! {
                    @if let Some((code, text)) = &reason { (reason_markup(code, text.as_deref())) }
                },
            )
        }
        "cancelled" => {
            state.status = Some("Cancelled".into());
            ("", html! { "Cancelled by the requester" }, html! {})
        }
        // `revised` comes with a `SealedSubmitted` that the trail shows.
        "revised" => ("", html! { "Revision recorded" }, html! {}),
        other => ("", html! { "Step " code { (other) } }, html! {}),
    };
    Step {
        time_ms: event.time_ms,
        block: event.block,
        transaction: event.transaction.clone(),
        class,
        kind: match name {
            "appeal-upheld" | "appeal-overturned" => "appeal-decided",
            "appealed" => "appealed",
            _ => "step",
        },
        title,
        who: call.map(|call| call.from),
        detail,
    }
}

/// Who a party is to the request: the requester, the payer, or (posting for the payer) a
/// reviewer; anyone else (marking a request overdue) is just an account.
fn role_of(who: &str, state: &RequestState) -> &'static str {
    let is = |party: &Option<String>| {
        party
            .as_deref()
            .is_some_and(|party| party.eq_ignore_ascii_case(who))
    };
    if is(&state.requester) {
        "the requester"
    } else if is(&state.payer) {
        "the payer"
    } else if state
        .reviewers
        .iter()
        .any(|reviewer| reviewer.eq_ignore_ascii_case(who))
    {
        "a reviewer"
    } else {
        "account"
    }
}

/// The CMS-0057-F timeframe of a priority (ms): 72 hours expedited, 7 days standard.
fn due_after(priority: &str) -> u64 {
    if priority == "Expedited" {
        72 * HOUR_MS
    } else {
        7 * 24 * HOUR_MS
    }
}

/// The deadline clock: priority and timeframe, received, due, and the time left or how late.
fn deadline_clock(state: &RequestState, now: u64) -> Markup {
    let priority = state.priority.as_deref().unwrap_or("?");
    let timeframe = if priority == "Expedited" {
        "expedited: 72 hours"
    } else {
        "standard: 7 calendar days"
    };
    let status = state.status.as_deref().unwrap_or("Pended");
    html! {
        dl.fields data-clock {
            dt { "Priority" } dd { (priority) " (" (timeframe) ", CMS-0057-F)" }
            dt { "Status" } dd data-status=(status) { (status_words(status)) }
            @if let Some(received) = state.received_ms { dt { "Received" } dd { (time(received)) } }
            @if let Some(due) = state.due_ms { dt { "Decision due" } dd { (time(due)) } }
            @if let Some(requester) = &state.requester { dt { "Requester" } dd { (account_link(requester)) } }
            @if let Some(payer) = &state.payer { dt { "Payer" } dd { a href={ "/ui/coverage/payer/" (payer) } title=(payer) { "Payer " (format::short(payer)) } } }
            @if let Some(lines) = state.line_count { dt { "Service lines" } dd { (lines) " (their content is sealed)" } }
            dt { "Clock" } dd data-deadline {
                @match (state.waiting(), state.due_ms) {
                    (true, Some(due)) if now > due => {
                        span.status.bad { "Overdue" } " "
                        strong { (format::duration(now - due)) " late" }
                        @if state.overdue_since.is_some() { " (marked overdue on chain)" } @else { " (not marked overdue on chain yet)" }
                        ". Overdue is never approval."
                    }
                    (true, Some(due)) => {
                        span.status.warn { "Running" } " " strong { (format::duration(due - now)) " left" } " to decide"
                    }
                    (false, due) => {
                        @match (state.decided_ms, due) {
                            (Some(decided), Some(due)) if decided > due => {
                                span.status.bad { "Decided late" } " " (format::duration(decided - due)) " after the deadline"
                                (turnaround(state.received_ms, decided))
                            }
                            (Some(decided), Some(due)) => {
                                span.status.ok { "Decided in time" } " " (format::duration(due - decided)) " before the deadline"
                                (turnaround(state.received_ms, decided))
                            }
                            _ => { span.status.neutral { "Stopped" } }
                        }
                    }
                    (true, None) => { span.muted { "unknown" } }
                }
            }
        }
    }
}

/// How long a decision took from receipt, as a sentence's end.
fn turnaround(received_ms: Option<u64>, decided_ms: u64) -> Markup {
    html! {
        @if let Some(received) = received_ms {
            "; decided " (format::duration(decided_ms.saturating_sub(received))) " after it was received"
        }
        "."
    }
}

/// An event in words for the activity list.
fn event_words(event: &CoverageEvent) -> String {
    match event.name.as_str() {
        "SealedSubmitted" => format!(
            "Preauthorization submitted ({})",
            variant(&event.fields["priority"])
                .unwrap_or("?")
                .to_lowercase()
        ),
        "DecisionPosted" => format!(
            "Decision posted: {}",
            status_words(variant(&event.fields["status"]).unwrap_or("?"))
        ),
        "Overdue" => "Preauthorization marked overdue".into(),
        "RequestStep" => step_words(event.fields["step"].as_str().unwrap_or("?")).to_string(),
        "CoverageChanged" => format!(
            "Coverage set: {}",
            variant(&event.fields["status"]).unwrap_or("?")
        ),
        "RulesPublished" => format!(
            "Rule set version {} published",
            number(&event.fields["version"]).unwrap_or(0)
        ),
        "MetricsPosted" => format!(
            "Per-code metrics posted ({} entries)",
            number(&event.fields["aggregates"]).unwrap_or(0)
        ),
        "ClaimSubmitted" => "Claim submitted".into(),
        "ClaimChecked" => format!(
            "Claim checked: {} line(s) accepted, {} refused",
            number(&event.fields["accepted"]).unwrap_or(0),
            number(&event.fields["refused"]).unwrap_or(0)
        ),
        "ClaimWithdrawn" => "Claim withdrawn".into(),
        other => other.to_string(),
    }
}

/// A `RequestStep` step name in words.
fn step_words(step: &str) -> &str {
    match step {
        "documentation" => "Documentation delivered",
        "review-extended" => "Review timeframe extended",
        "revised" => "Request revised",
        "extension" => "Extension of the authorised window asked",
        "extension-granted" => "Extension granted",
        "extension-refused" => "Extension refused",
        "cancelled" => "Request cancelled",
        "appealed" => "Denial appealed",
        "appeal-upheld" => "Appeal decided: denial upheld",
        "appeal-overturned" => "Appeal decided: denial overturned",
        other => other,
    }
}

/// A request as the landing page follows it from the events.
struct OpenRequest {
    handle: String,
    payer: String,
    priority: String,
    due_ms: u64,
    waiting: bool,
    marked_overdue: bool,
}

/// `/ui/coverage`: the form, requests due soon and overdue, recent activity (live).
async fn landing(console: &Console, request: &ConsoleRequest) -> PageResult {
    if let Some(handle) = request.param("preauth") {
        if !is_hash(handle) {
            return Err(PageError::BadRequest(format!(
                "`{handle}` is not a trace handle (0x and 64 hex digits)"
            )));
        }
        return Ok(Page::redirect(format!(
            "/ui/coverage/preauth/{}",
            handle.to_ascii_lowercase()
        )));
    }
    if let Some(payer) = request.param("payer") {
        if !format::is_address(payer) {
            return Err(PageError::BadRequest(format!(
                "`{payer}` is not a 0x address"
            )));
        }
        return Ok(Page::redirect(format!(
            "/ui/coverage/payer/{}",
            payer.to_ascii_lowercase()
        )));
    }
    let head = console
        .rpc()
        .chain_head()
        .await
        .map_err(PageError::from_rpc)?;
    let from = head.number.saturating_sub(LANDING_WINDOW_BLOCKS);
    let (found, truncated) = events(console, Vec::new(), from).await?;
    let now = head.timestamp_ms;
    let mut requests: Vec<OpenRequest> = Vec::new();
    for event in &found {
        let (Some(handle), Some(payer)) = (event.handle(), event.payer()) else {
            continue;
        };
        if !matches!(
            event.name.as_str(),
            "SealedSubmitted" | "DecisionPosted" | "Overdue" | "RequestStep"
        ) {
            continue;
        }
        let position = match requests.iter().position(|open| open.handle == handle) {
            Some(position) => position,
            None => {
                requests.push(OpenRequest {
                    handle: handle.to_string(),
                    payer: payer.to_string(),
                    priority: "?".into(),
                    due_ms: 0,
                    waiting: true,
                    marked_overdue: false,
                });
                requests.len() - 1
            }
        };
        let open = &mut requests[position];
        match event.name.as_str() {
            "SealedSubmitted" => {
                open.priority = variant(&event.fields["priority"])
                    .unwrap_or("?")
                    .to_string();
                open.due_ms = number(&event.fields["due_ms"]).unwrap_or(0);
                open.waiting = true;
                open.marked_overdue = false;
            }
            "DecisionPosted" => {
                open.waiting = variant(&event.fields["status"]) != Some("Decided");
            }
            "Overdue" => open.marked_overdue = true,
            _ => match event.fields["step"].as_str() {
                Some("appealed") => {
                    open.waiting = true;
                    open.marked_overdue = false;
                    open.due_ms = event.time_ms + due_after(&open.priority);
                }
                Some("appeal-upheld" | "appeal-overturned" | "cancelled") => open.waiting = false,
                _ => {}
            },
        }
    }
    let mut overdue: Vec<&OpenRequest> = requests
        .iter()
        .filter(|open| open.waiting && open.due_ms < now)
        .collect();
    overdue.sort_by_key(|open| open.due_ms);
    let mut due_soon: Vec<&OpenRequest> = requests
        .iter()
        .filter(|open| open.waiting && open.due_ms >= now)
        .collect();
    due_soon.sort_by_key(|open| open.due_ms);
    let recent: Vec<&CoverageEvent> = found.iter().rev().take(RECENT_ACTIVITY).collect();
    let body = html! {
        form.filters action="/ui/coverage" method="get" {
            label for="coverage-preauth" { "Preauthorization trace handle"
                input id="coverage-preauth" name="preauth" type="text" placeholder="0x… (64 hex digits)" autocomplete="off" spellcheck="false";
            }
            button type="submit" { "Open preauthorization" }
        }
        form.filters action="/ui/coverage" method="get" {
            label for="coverage-payer" { "Payer address"
                input id="coverage-payer" name="payer" type="text" placeholder="0x… (40 hex digits)" autocomplete="off" spellcheck="false";
            }
            button type="submit" { "Open payer" }
        }
        h2 { "Overdue requests" }
        (open_table(&overdue, now, "Undecided requests past their CMS-0057-F deadline, most late first", true))
        h2 { "Requests due" }
        (open_table(&due_soon, now, &format!("Undecided requests, soonest first (due within {DUE_SOON_HOURS} hours marked)"), false))
        p.muted {
            "The contract's " code { "due_within" } " answers only the payer and its reviewers; "
            "these lists are rebuilt from the public events of the last " (LANDING_WINDOW_BLOCKS)
            " blocks (submissions, decisions, appeals)."
            @if truncated { " Only the first " (MAX_EVENTS_READ) " events were read." }
        }
        h2 { "Recent coverage activity" }
        @if recent.is_empty() {
            p.muted { "No coverage events in the recent blocks." }
        } @else {
            table {
                caption { "The last " (recent.len()) " coverage events, newest first" }
                thead { tr { th scope="col" { "Time" } th scope="col" { "What" } th scope="col" { "Request" } th scope="col" { "Payer" } th scope="col" { "Transaction" } } }
                tbody {
                    @for event in &recent {
                        tr {
                            td { (time(event.time_ms)) }
                            td { (event_words(event)) }
                            td { @if let Some(handle) = event.handle() { (preauth_link(handle)) } }
                            td { @if let Some(payer) = event.payer() { (payer_link(payer)) } }
                            td { (transaction_link(&event.transaction)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::live("Coverage", body))
}

fn preauth_link(handle: &str) -> Markup {
    html! { a.mono href={ "/ui/coverage/preauth/" (handle) } title=(handle) { (format::short(handle)) } }
}

fn payer_link(payer: &str) -> Markup {
    html! { a.mono href={ "/ui/coverage/payer/" (payer) } title=(payer) { (format::short(payer)) } }
}

fn open_table(requests: &[&OpenRequest], now: u64, caption: &str, late: bool) -> Markup {
    html! {
        @if requests.is_empty() {
            p.muted { "None." }
        } @else {
            table data-open=(if late { "overdue" } else { "due" }) {
                caption { (caption) }
                thead { tr { th scope="col" { "Request" } th scope="col" { "Payer" } th scope="col" { "Priority" } th scope="col" { "Due" } th scope="col" { "Clock" } } }
                tbody {
                    @for open in requests {
                        tr {
                            td { (preauth_link(&open.handle)) }
                            td { (payer_link(&open.payer)) }
                            td { (open.priority) }
                            td { (time(open.due_ms)) }
                            td {
                                @if late {
                                    span.status.bad { "Overdue" } " " (format::duration(now.saturating_sub(open.due_ms))) " late"
                                    @if open.marked_overdue { " (marked)" }
                                } @else if open.due_ms - now <= DUE_SOON_HOURS * HOUR_MS {
                                    span.status.warn { "Due soon" } " " (format::duration(open.due_ms - now)) " left"
                                } @else {
                                    (format::duration(open.due_ms - now)) " left"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One bar of a chart: its label, value and the text written beside it.
struct Bar {
    label: String,
    value: f64,
    text: String,
    class: &'static str,
}

/// Fill colours of the chart's bars (WCAG AA against white), by class.
fn fill(class: &str) -> &'static str {
    match class {
        "ok" => "#1a6b34",
        "bad" => "#a4161a",
        "warn" => "#7a4a00",
        _ => "#0b5cad",
    }
}

/// A horizontal bar chart as accessible SVG (`role="img"`, a `<title>`, attributes only)
/// with the same figures in a table beside it.
fn bar_chart(id: &str, title: &str, bars: &[Bar], maximum: f64, unit: &str) -> Markup {
    const LABEL_WIDTH: f64 = 220.0;
    const BAR_WIDTH: f64 = 300.0;
    const ROW: f64 = 28.0;
    let height = ROW * bars.len() as f64 + 8.0;
    let width = LABEL_WIDTH + BAR_WIDTH + 120.0;
    let scale = if maximum > 0.0 {
        BAR_WIDTH / maximum
    } else {
        0.0
    };
    let title_id = format!("{id}-title");
    html! {
        figure.chart id=(id) {
            svg role="img" aria-labelledby=(title_id) width=(width) height=(height)
                viewBox={ "0 0 " (width) " " (height) } xmlns="http://www.w3.org/2000/svg" {
                title id=(title_id) { (title) }
                @for (index, bar) in bars.iter().enumerate() {
                    @let y = ROW * index as f64 + 4.0;
                    text x="0" y=(y + 17.0) font-size="14" fill="#1b1f24" { (bar.label) }
                    rect x=(LABEL_WIDTH) y=(y) width=(format!("{:.1}", (bar.value * scale).max(1.0))) height="20" fill=(fill(bar.class)) {}
                    text x=(format!("{:.1}", LABEL_WIDTH + (bar.value * scale).max(1.0) + 6.0)) y=(y + 17.0) font-size="14" fill="#1b1f24" { (bar.text) }
                }
            }
            table {
                caption { (title) }
                thead { tr { th scope="col" { "Figure" } th scope="col" { "Value" (unit) } } }
                tbody {
                    @for bar in bars {
                        tr { th scope="row" { (bar.label) } td data-figure=(bar.label) { (bar.text) } }
                    }
                }
            }
        }
    }
}

fn percent(bps: u64) -> String {
    format!("{}.{:02} %", bps / 100, bps % 100)
}

fn hours(ms: u64) -> f64 {
    ms as f64 / HOUR_MS as f64
}

/// One priority's plan-wide figures.
fn priority_metrics(priority: &str, report: &Value) -> Markup {
    let counts = &report["counts"];
    let count = |name: &str| number(&counts[name]).unwrap_or(0);
    let bps = |name: &str| number(&report[name]).unwrap_or(0);
    let requested = count("requested");
    let pended_bps = count("pended")
        .saturating_mul(10_000)
        .checked_div(requested)
        .unwrap_or(0);
    let id = priority.to_lowercase();
    let rates = [
        ("Approved", bps("approved_bps"), "ok"),
        ("Denied", bps("denied_bps"), "bad"),
        ("Pended at first decision", pended_bps, "warn"),
        (
            "Approved after appeal",
            bps("approved_after_appeal_bps"),
            "ok",
        ),
        (
            "Approved with extension",
            bps("approved_with_extension_bps"),
            "ok",
        ),
    ]
    .into_iter()
    .map(|(label, bps, class)| Bar {
        label: label.to_string(),
        value: bps as f64 / 100.0,
        text: percent(bps),
        class,
    })
    .collect::<Vec<_>>();
    let average = number(&report["average_turnaround_ms"]).unwrap_or(0);
    let median = number(&report["median_turnaround_ms"]).unwrap_or(0);
    let timeframe = due_after(priority);
    let times = [
        ("Average time to decision", average, ""),
        ("Median time to decision", median, ""),
        ("CMS-0057-F timeframe", timeframe, "warn"),
    ]
    .into_iter()
    .map(|(label, ms, class)| Bar {
        label: label.to_string(),
        value: hours(ms),
        text: format::duration(ms),
        class,
    })
    .collect::<Vec<_>>();
    let longest = hours(average.max(median).max(timeframe));
    html! {
        section data-priority=(id) aria-labelledby={ (id) "-heading" } {
            h3 id={ (id) "-heading" } { (priority) " requests" }
            div.cards {
                div.card { div.muted { "Lines requested" } div.figure { (requested) } }
                div.card { div.muted { "Lines decided" } div.figure { (count("decided")) } }
                div.card { div.muted { "Approved" } div.figure data-rate="approved" { (percent(bps("approved_bps"))) } div { (count("approved")) " line(s)" } }
                div.card { div.muted { "Denied" } div.figure data-rate="denied" { (percent(bps("denied_bps"))) } div { (count("denied")) " line(s)" } }
                div.card { div.muted { "Requests marked overdue" } div.figure { (count("overdue")) } }
            }
            @if count("decided") == 0 && requested == 0 {
                p.muted { "No " (id) " request decided yet." }
            } @else {
                (bar_chart(&format!("{id}-rates"), &format!("{priority} requests: rates (percent of decided lines; appeals of denied lines)"), &rates, 100.0, " (percent)"))
                (bar_chart(&format!("{id}-times"), &format!("{priority} requests: time from request to decision"), &times, longest, ""))
            }
        }
    }
}

/// `/ui/coverage/payer/<address>`: the payer's CMS-0057-F metrics, per-code figures per
/// period, its published rules and the reviewers seen deciding.
async fn payer(console: &Console, address: &str) -> PageResult {
    if !format::is_address(address) {
        return Err(PageError::BadRequest(format!(
            "`{address}` is not a 0x address"
        )));
    }
    let address = address.to_ascii_lowercase();
    let expedited = console
        .view(
            &contract(console)?,
            "metrics",
            json!([address, "Expedited"]),
        )
        .await?;
    let standard = console
        .view(&contract(console)?, "metrics", json!([address, "Standard"]))
        .await?;
    let rules = console
        .view(&contract(console)?, "rules", json!([address, null]))
        .await?;
    let (found, _) = events(console, vec![None, Some(address_topic(&address))], 0).await?;
    let mut periods = Vec::new();
    let mut deciders: Vec<String> = Vec::new();
    let mut decisions_read = 0;
    // Newest first: the latest periods on top, and reviewers from the latest decisions.
    for event in found.iter().rev() {
        match event.name.as_str() {
            "MetricsPosted" => {
                if let Some(start) = number(&event.fields["period_start_ms"])
                    && let Ok(post) = console
                        .view(
                            &contract(console)?,
                            "period_metrics",
                            json!([address, start.to_string()]),
                        )
                        .await
                    && !post.is_null()
                {
                    periods.push(post);
                }
            }
            "DecisionPosted" if decisions_read < REVIEWER_DECISIONS_READ => {
                decisions_read += 1;
                if let Some(call) = call_of(console, &event.transaction).await?
                    && !call.from.eq_ignore_ascii_case(&address)
                    && !deciders.contains(&call.from)
                {
                    deciders.push(call.from);
                }
            }
            _ => {}
        }
    }
    let body = html! {
        p {
            "The figures CMS-0057-F makes payers publish, counted by the coverage contract from every "
            "posted decision (per service line), separately for expedited and standard requests."
        }
        h2 { "Plan-wide metrics" }
        (priority_metrics("Expedited", &expedited))
        (priority_metrics("Standard", &standard))
        h2 { "Per-code metrics by period" }
        p.muted { "Newest period first." }
        @if periods.is_empty() {
            p.muted { "The payer has posted no per-code figures yet (" code { "post_metrics" } ")." }
        }
        @for (index, post) in periods.iter().enumerate() {
            (period_section(index, post))
        }
        h2 { "Published rules" }
        (rules_summary(&rules))
        h2 { "Reviewers" }
        @if deciders.is_empty() {
            p.muted { "No reviewer other than the payer's own key has posted a decision." }
        } @else {
            p { "Reviewers seen posting the payer's latest " (REVIEWER_DECISIONS_READ) " decisions:" }
            ul { @for who in &deciders { li { (account_link(who)) } } }
        }
        p.muted {
            "The contract keeps the payer's reviewer list without a public view, and setting a reviewer "
            "emits no event; reviewers are shown as they appear in posted decisions."
        }
    };
    Ok(Page::live(
        format!("Payer {}", format::short(&address)),
        body,
    ))
}

fn period_section(index: usize, post: &Value) -> Markup {
    let start = number(&post["period"]["start_ms"]).unwrap_or(0);
    let end = number(&post["period"]["end_ms"]).unwrap_or(0);
    let aggregates: Vec<&Value> = post["aggregates"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let bars: Vec<Bar> = aggregates
        .iter()
        .flat_map(|entry| {
            let code = entry["service_code"].as_str().unwrap_or("?");
            let priority = variant(&entry["priority"]).unwrap_or("?");
            let approved = number(&entry["counts"]["approved"]).unwrap_or(0);
            let denied = number(&entry["counts"]["denied"]).unwrap_or(0);
            [
                Bar {
                    label: format!("{code} {priority}: approved"),
                    value: approved as f64,
                    text: format!("{approved} line(s)"),
                    class: "ok",
                },
                Bar {
                    label: format!("{code} {priority}: denied"),
                    value: denied as f64,
                    text: format!("{denied} line(s)"),
                    class: "bad",
                },
            ]
        })
        .collect();
    let maximum = bars.iter().map(|bar| bar.value).fold(0.0, f64::max);
    html! {
        h3 { "Period " (time(start)) " to " (time(end)) }
        table {
            caption { "Per-code figures of the period (posted " (time(number(&post["posted_ms"]).unwrap_or(0))) ")" }
            thead { tr {
                th scope="col" { "Service code" } th scope="col" { "Priority" } th scope="col" { "Requested" }
                th scope="col" { "Pended" } th scope="col" { "Decided" } th scope="col" { "Approved" }
                th scope="col" { "Denied" } th scope="col" { "Approved after appeal" } th scope="col" { "Median time to decision" }
            } }
            tbody {
                @for entry in &aggregates {
                    @let counts = &entry["counts"];
                    tr {
                        td { code { (entry["service_code"].as_str().unwrap_or("?")) } }
                        td { (variant(&entry["priority"]).unwrap_or("?")) }
                        td { (number(&counts["requested"]).unwrap_or(0)) }
                        td { (number(&counts["pended"]).unwrap_or(0)) }
                        td { (number(&counts["decided"]).unwrap_or(0)) }
                        td { (number(&counts["approved"]).unwrap_or(0)) }
                        td { (number(&counts["denied"]).unwrap_or(0)) }
                        td { (number(&counts["approved_after_appeal"]).unwrap_or(0)) }
                        td { (format::duration(number(&entry["median_turnaround_ms"]).unwrap_or(0))) }
                    }
                }
            }
        }
        @if !bars.is_empty() {
            (bar_chart(&format!("period-{index}"), "Approved and denied lines per service code", &bars, maximum, " (lines)"))
        }
        p.muted { "Commitment to the decisions counted: " code { (post["decisions_commitment"].as_str().unwrap_or("?")) } }
    }
}

fn rules_summary(rules: &Value) -> Markup {
    if rules.is_null() {
        return html! { p.muted { "The payer has published no rule set." } };
    }
    let reasons = reason_table(rules);
    let mut reasons: Vec<(&String, &String)> = reasons.iter().collect();
    reasons.sort();
    html! {
        dl.fields {
            dt { "Version" } dd { (number(&rules["version"]).unwrap_or(0)) }
            dt { "Policy document (hash)" } dd.mono { (rules["policy"].as_str().unwrap_or("?")) }
            dt { "In effect" } dd {
                (time(number(&rules["effective"]["start_ms"]).unwrap_or(0))) " to "
                (time(number(&rules["effective"]["end_ms"]).unwrap_or(0)))
            }
        }
        table {
            caption { "Rules" }
            thead { tr {
                th scope="col" { "Rule" } th scope="col" { "Service type" } th scope="col" { "Procedures" }
                th scope="col" { "Prior authorisation" } th scope="col" { "Automatic approval" } th scope="col" { "Authorised days" }
            } }
            tbody {
                @for rule in rules["rules"].as_array().into_iter().flatten() {
                    tr {
                        td { (number(&rule["id"]).unwrap_or(0)) }
                        td { (rule["service_type"].as_str().unwrap_or("")) }
                        td {
                            @for range in rule["procedures"].as_array().into_iter().flatten() {
                                code { (range["from"].as_str().unwrap_or("")) "–" (range["to"].as_str().unwrap_or("")) } " "
                            }
                        }
                        td { (if rule["prior_authorisation"].as_bool().unwrap_or(false) { "required" } else { "not required" }) }
                        td { (if rule["auto_approve"].is_null() { "no: a reviewer decides" } else { "yes, when its conditions hold" }) }
                        td { (number(&rule["authorised_days"]).unwrap_or(0)) }
                    }
                }
            }
        }
        table {
            caption { "Decision reasons the rule set's decisions cite" }
            thead { tr { th scope="col" { "Code" } th scope="col" { "Reason" } } }
            tbody {
                @for (code, text) in &reasons { tr { td { code { (code) } } td { (text) } } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_left_aligned_topics() {
        let topic = address_topic("0xABCDEF0123456789abcdef0123456789ABCDEF01");
        assert_eq!(topic.len(), 66);
        assert!(topic.starts_with("0xabcdef0123456789abcdef0123456789abcdef01"));
        assert!(topic.ends_with(&"0".repeat(24)));
    }

    #[test]
    fn abi_numbers_and_variants_read_in_every_form() {
        assert_eq!(number(&json!("259200000")), Some(259_200_000));
        assert_eq!(number(&json!({ "Ok": "7" })), Some(7));
        assert_eq!(number(&json!(3)), Some(3));
        assert_eq!(variant(&json!("Expedited")), Some("Expedited"));
        assert_eq!(variant(&json!({ "A3": null })), Some("A3"));
        assert_eq!(action_code("Na"), "NA");
        assert_eq!(due_after("Expedited"), 72 * HOUR_MS);
        assert_eq!(percent(6667), "66.67 %");
    }

    #[test]
    fn charts_carry_their_title_and_no_style() {
        let chart = bar_chart(
            "c",
            "<Rates>",
            &[Bar {
                label: "Approved".into(),
                value: 50.0,
                text: "50.00 %".into(),
                class: "ok",
            }],
            100.0,
            "",
        )
        .into_string();
        assert!(chart.contains("role=\"img\""), "{chart}");
        assert!(
            chart.contains("<title id=\"c-title\">&lt;Rates&gt;</title>"),
            "{chart}"
        );
        assert!(!chart.contains("style="), "{chart}");
        assert!(chart.contains("<th scope=\"row\">Approved</th>"), "{chart}");
    }
}
