//! The supply pages of the console (issue 25): a unit's provenance timeline from commissioning
//! to dispensing, a lot's map of where its units are, and a landing page with the current
//! recalls, the open investigations and the recent supply activity — read only through the
//! supply contract's views and events, as any RPC caller could read them.
//!
//! A unit's history is the contract's `history` (its EPCIS events, in order), merged by time
//! with its recorded verifications (`verifications`) and its lot's recall (`recalls`, stored
//! once per lot, never as a unit event); investigations over the unit are read case by case
//! (`investigation`), as the EPCIS export attributes them. The unit's history also downloads as
//! an EPCIS 2.0 document through the client library's exporter
//! ([`salus_client::epcis::export_unit`]), whose reader is synchronous: the console answers it
//! from views read beforehand, reading what it asked for and running it again until it asks
//! for nothing new, and resolves parties to their GLNs from the registry.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use maud::{Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use salus_client::directory::{Directory, Party};
use salus_client::epcis::time::format_date;
use salus_client::epcis::{SupplyReader, export_unit};
use salus_client::gs1::{self, Identifier};
use salus_client::rpc::{EventFilter, EventRecord, SalusApiServer};
use serde_json::{Value, json};

use super::format::{self, account_link, block_link, time, transaction_link};
use super::page::{Page, PageError, PageResult};
use super::{Console, ConsoleRequest};

/// Supply events listed as recent activity on the landing page, newest first.
const RECENT_ACTIVITY: usize = 25;

/// Blocks back from the head searched for recent activity.
const ACTIVITY_WINDOW_BLOCKS: u64 = 5_000;

/// Blocks read at once, backwards from the head, for recent activity.
const ACTIVITY_SPAN_BLOCKS: u64 = 250;

/// Pages of 1000 events read at most for one list (recent activity, recalls).
const MAX_EVENT_PAGES: usize = 5;

/// Investigations read at most, case by case, to find those over a unit.
const MAX_CASES_SCANNED: u64 = 256;

/// Units a lot page lists at most (`lot_units` pages of 100).
const MAX_LOT_UNITS: usize = 1_000;

/// Units of a lot whose full state (custodian, flags) is read one by one; beyond that the lot
/// page shows what `lot_units` answers (owner, location, disposition).
const MAX_DETAILED_UNITS: usize = 100;

/// Verifications listed per unit.
const MAX_VERIFICATIONS: u32 = 100;

/// Views the EPCIS export may read before the console gives up.
const MAX_EXPORT_VIEWS: usize = 400;

/// Consecutive ids read at once when the exporter walks ids one by one (`sale`,
/// `investigation`).
const EXPORT_ID_WINDOW: u64 = 16;

/// The supply contract (`[console] supply`, else the genesis contract).
fn supply(console: &Console) -> Result<String, PageError> {
    Ok(console.supply_contract()?.to_string())
}

/// A path segment, percent-encoded (serials and lots are the contract's free text).
fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The console path of a unit.
fn unit_path(gtin: &str, serial: &str) -> String {
    format!("/ui/supply/unit/{}/{}", segment(gtin), segment(serial))
}

/// The console path of a lot.
fn lot_path(gtin: &str, lot: &str) -> String {
    format!("/ui/supply/lot/{}/{}", segment(gtin), segment(lot))
}

/// A `u64` in the ABI's JSON (a decimal string) or a JSON number.
fn as_u64(value: &Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .or_else(|| value.as_u64())
}

/// A string field, empty when absent.
fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_default()
}

/// The name of an ABI enum value (`{"Variant": null}` or `"Variant"`).
fn variant(value: &Value) -> &str {
    match value {
        Value::String(name) => name,
        Value::Object(fields) => fields.keys().next().map_or("", String::as_str),
        _ => "",
    }
}

/// An EPC of the contract: a unit (GTIN, serial) or a case (SSCC).
enum Epc {
    Unit(String, String),
    Case(String),
}

/// The EPCs of a JSON list (`[{"Unit": [gtin, serial]}, {"Case": sscc}]`).
fn epcs(value: &Value) -> Vec<Epc> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|epc| {
            if let Some(unit) = epc.get("Unit") {
                Some(Epc::Unit(
                    unit.get(0)?.as_str()?.to_string(),
                    unit.get(1)?.as_str()?.to_string(),
                ))
            } else {
                Some(Epc::Case(epc.get("Case")?.as_str()?.to_string()))
            }
        })
        .collect()
}

/// A (gtin, serial) pair of a JSON list of pairs.
fn unit_pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            Some((
                pair.get(0)?.as_str()?.to_string(),
                pair.get(1)?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A link to a unit's page.
fn unit_link(gtin: &str, serial: &str) -> Markup {
    html! { a href=(unit_path(gtin, serial)) title={ "GTIN " (gtin) } { "unit " (serial) } }
}

/// An EPC in words: a unit as a link to its page, a case by its SSCC.
fn epc_markup(epc: &Epc) -> Markup {
    match epc {
        Epc::Unit(gtin, serial) => unit_link(gtin, serial),
        Epc::Case(sscc) => html! { "case " span.mono { (sscc) } },
    }
}

/// EPCs listed in one place at most; the rest are counted.
const MAX_LISTED_EPCS: usize = 12;

/// EPCs in words, the first [`MAX_LISTED_EPCS`] listed.
fn epc_list(list: &[Epc]) -> Markup {
    html! {
        @for (index, epc) in list.iter().take(MAX_LISTED_EPCS).enumerate() {
            @if index > 0 { ", " }
            (epc_markup(epc))
        }
        @if list.len() > MAX_LISTED_EPCS { " and " (list.len() - MAX_LISTED_EPCS) " more" }
    }
}

/// A location as stored (a GLN, with an SGLN extension after `.`), with its GS1 Digital Link.
fn location(code: &str) -> Markup {
    match gs1::split_location_code(code) {
        Some((gln, extension)) => {
            let link = Identifier::Sgln {
                gln: gln.to_string(),
                extension: extension.map(str::to_string),
            }
            .digital_link();
            html! { "GLN " span.mono title=(link) { (code) } }
        }
        None if code.is_empty() => html! { span.muted { "no place recorded" } },
        None => html! { span.mono { (code) } },
    }
}

/// A CBV disposition in words.
fn disposition_words(code: &str) -> &str {
    match code {
        "active" | "Active" => "active (commissioned)",
        "in_transit" | "InTransit" => "in transit",
        "in_progress" => "in progress",
        "sellable_accessible" | "SellableAccessible" => "sellable",
        "dispensed" | "Dispensed" => "dispensed",
        "non_sellable_other" | "NonSellableOther" => "held back (not sellable)",
        "inactive" | "Inactive" => "inactive (decommissioned)",
        "destroyed" | "Destroyed" => "destroyed",
        "returned" => "returned",
        other => other,
    }
}

/// A recorded event's business step in words.
fn step_words(event: &Value) -> String {
    let disposition = text(event, "disposition");
    match (text(event, "biz_step"), disposition) {
        ("commissioning", _) => "Commissioned".into(),
        ("packing", _) => "Packed".into(),
        ("unpacking", _) => "Unpacked".into(),
        ("shipping", _) => "Shipped".into(),
        ("receiving", "returned") => "Accepted back as a saleable return".into(),
        ("receiving", _) => "Received".into(),
        ("dispensing", _) => "Dispensed to a patient".into(),
        ("holding", "sellable_accessible") => "Released back to sellable".into(),
        ("holding", _) => "Quarantined (held back)".into(),
        ("inspecting", _) => "Inspected: a clone was reported".into(),
        ("repackaging", _) => "Repackaged".into(),
        ("decommissioning", _) => "Decommissioned".into(),
        ("destroying", _) => "Destroyed".into(),
        (other, _) => format!("EPCIS step {other}"),
    }
}

/// An FDA recall class and what it means (21 CFR 7.3(m)).
fn recall_class_words(class: &str) -> (&'static str, &'static str) {
    match class {
        "ClassI" => (
            "Class I",
            "a reasonable probability that use of the product will cause serious adverse health \
             consequences or death",
        ),
        "ClassII" => (
            "Class II",
            "use of the product may cause temporary or medically reversible adverse health \
             consequences",
        ),
        "ClassIII" => (
            "Class III",
            "use of the product is not likely to cause adverse health consequences",
        ),
        _ => ("Unclassified", "the class is not one the console knows"),
    }
}

/// The registry's roles in words.
fn role_words(role: &str) -> &str {
    match role {
        "Manufacturer" => "manufacturer",
        "Repackager" => "repackager",
        "WholesaleDistributor" => "wholesale distributor",
        "Dispenser" => "dispenser",
        "ThirdPartyLogistics" => "third-party logistics provider",
        "Practitioner" => "practitioner",
        "ProviderOrganisation" => "provider organisation",
        "Payer" => "payer",
        "Authority" => "authority",
        "Patient" => "patient",
        other => other,
    }
}

/// Registry records read for one page, by address (`None`: not registered).
#[derive(Default)]
struct Parties {
    known: HashMap<String, Option<Value>>,
}

impl Parties {
    /// The registry's record of `address`, read once per page.
    async fn participant(&mut self, console: &Console, address: &str) -> Option<Value> {
        if let Some(known) = self.known.get(address) {
            return known.clone();
        }
        let answer = console
            .view(
                &console.registry_contract().ok()?.to_string(),
                "participant",
                json!([address]),
            )
            .await
            .ok()
            .filter(|value| !value.is_null());
        self.known.insert(address.to_string(), answer.clone());
        answer
    }

    /// An address as a link with its first registry role in words (`wholesale distributor
    /// 0x9965…A4dc`).
    async fn party(&mut self, console: &Console, address: &str) -> Markup {
        let role = self.participant(console, address).await.and_then(|record| {
            record["roles"]
                .as_array()
                .and_then(|roles| roles.first())
                .map(|role| role_words(variant(role)).to_string())
        });
        html! {
            @if let Some(role) = role { (role) " " }
            (account_link(address))
        }
    }
}

/// A view of the supply contract.
async fn supply_view(
    console: &Console,
    message: &str,
    arguments: Value,
) -> Result<Value, PageError> {
    console.view(&supply(console)?, message, arguments).await
}

/// Answers `/ui/supply/…`; `rest` is the path below `/ui/supply`.
pub async fn route(console: &Console, rest: &[&str], request: &ConsoleRequest) -> PageResult {
    match rest {
        [] => landing(console).await,
        ["open"] => open(request),
        ["unit", gtin, serial] => unit_page(console, gtin, serial).await,
        ["unit", gtin, serial, "epcis"] => unit_epcis(console, gtin, serial).await,
        ["lot", gtin, lot] => lot_page(console, gtin, lot).await,
        _ => Err(PageError::NotFound(
            "this address is not a supply page".into(),
        )),
    }
}

/// `/ui/supply/open?gtin=&serial=`, `?gtin=&lot=` or `?id=` (an EPC URN or GS1 Digital Link of
/// a unit or a lot): sent to its page.
fn open(request: &ConsoleRequest) -> PageResult {
    if let Some(id) = request.param("id") {
        return match gs1::parse(id) {
            Ok(Identifier::Sgtin { gtin, serial }) => Ok(Page::redirect(unit_path(&gtin, &serial))),
            Ok(Identifier::Lgtin { gtin, lot }) => Ok(Page::redirect(lot_path(&gtin, &lot))),
            Ok(_) => Err(PageError::BadRequest(format!(
                "`{id}` is a GS1 identifier, but neither a unit (SGTIN) nor a lot (LGTIN)"
            ))),
            Err(error) => Err(PageError::BadRequest(error.to_string())),
        };
    }
    let gtin = request.param("gtin").ok_or_else(|| {
        PageError::BadRequest("give a GTIN with a serial or a lot, or a GS1 identifier".into())
    })?;
    if !gs1::valid_key(gtin, 14) {
        return Err(PageError::BadRequest(format!(
            "`{gtin}` is not a GTIN-14 (14 digits with a valid check digit)"
        )));
    }
    match (request.param("serial"), request.param("lot")) {
        (Some(serial), _) => Ok(Page::redirect(unit_path(gtin, serial))),
        (None, Some(lot)) => Ok(Page::redirect(lot_path(gtin, lot))),
        (None, None) => Err(PageError::BadRequest(
            "give the unit's serial or the lot".into(),
        )),
    }
}

/// The forms that open a unit, a lot, or either by its GS1 identifier.
fn open_forms() -> Markup {
    html! {
        h2 { "Open a unit or a lot" }
        form.filters action="/ui/supply/open" method="get" aria-label="Open a unit" {
            label { "Unit's GTIN" input name="gtin" inputmode="numeric" autocomplete="off" spellcheck="false"; }
            label { "Serial" input name="serial" autocomplete="off" spellcheck="false"; }
            button type="submit" { "Open the unit" }
        }
        form.filters action="/ui/supply/open" method="get" aria-label="Open a lot" {
            label { "Lot's GTIN" input name="gtin" inputmode="numeric" autocomplete="off" spellcheck="false"; }
            label { "Lot" input name="lot" autocomplete="off" spellcheck="false"; }
            button type="submit" { "Open the lot" }
        }
        form.filters action="/ui/supply/open" method="get" aria-label="Open by GS1 identifier" {
            label { "EPC URN or GS1 Digital Link of a unit or lot"
                input name="id" autocomplete="off" spellcheck="false"
                    placeholder="urn:epc:id:sgtin:… or https://id.gs1.org/01/…/21/…"; }
            button type="submit" { "Open" }
        }
    }
}

/// Events of the supply contract in blocks `from_block..=to_block` (to the head when `None`),
/// at most [`MAX_EVENT_PAGES`] pages, whose first topic is `signature` (any when `None`).
async fn supply_events(
    console: &Console,
    signature: Option<String>,
    from_block: u64,
    to_block: Option<u64>,
) -> Result<Vec<EventRecord>, PageError> {
    let mut events = Vec::new();
    let mut after = None;
    for _ in 0..MAX_EVENT_PAGES {
        let page = console
            .rpc()
            .events_query(EventFilter {
                contract: supply(console)?,
                topics: signature.iter().cloned().map(Some).collect(),
                from_block: Some(from_block),
                to_block,
                after: after.take(),
                limit: Some(1000),
            })
            .await
            .map_err(PageError::from_rpc)?;
        events.extend(page.events);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(events)
}

/// The latest [`RECENT_ACTIVITY`] supply events, newest first: read backwards from `head` in
/// spans of [`ACTIVITY_SPAN_BLOCKS`], no further back than [`ACTIVITY_WINDOW_BLOCKS`].
async fn recent_activity(console: &Console, head: u64) -> Result<Vec<EventRecord>, PageError> {
    let oldest = head.saturating_sub(ACTIVITY_WINDOW_BLOCKS);
    let mut newest_first = Vec::new();
    let mut to_block = head;
    while newest_first.len() < RECENT_ACTIVITY {
        let from_block = to_block
            .saturating_sub(ACTIVITY_SPAN_BLOCKS - 1)
            .max(oldest);
        let mut span = supply_events(console, None, from_block, Some(to_block)).await?;
        span.reverse();
        newest_first.extend(span);
        if from_block == oldest {
            break;
        }
        to_block = from_block - 1;
    }
    newest_first.truncate(RECENT_ACTIVITY);
    Ok(newest_first)
}

/// An event decoded through the supply contract's ABI (`{"event", "fields"}`).
fn decode_event(abi: &salus_client::abi::ContractAbi, record: &EventRecord) -> Option<Value> {
    abi.decode_event(&record.event.to_event()?).ok().flatten()
}

/// What a decoded supply event says, in words.
fn event_words(decoded: &Value) -> Markup {
    let fields = &decoded["fields"];
    match decoded["event"].as_str().unwrap_or_default() {
        "Epcis" => {
            let step = text(fields, "biz_step");
            html! {
                "EPCIS " strong { (step) } " (event " (as_u64(&fields["id"]).unwrap_or_default()) ") of "
                (epc_list(&epcs(&fields["epcs"])))
            }
        }
        "Alert" => {
            let kind = text(fields, "kind");
            html! {
                span.status.bad { "Alert" } " " strong { (kind) } ": "
                @if kind == "recall" {
                    (as_u64(&fields["reference"]).unwrap_or_default()) " units of GTIN "
                    span.mono { (text(fields, "detail")) } " recalled"
                } @else {
                    (text(fields, "detail")) " (reference " (as_u64(&fields["reference"]).unwrap_or_default()) ")"
                }
            }
        }
        "Refused" => html! {
            span.status.warn { "Refused" } " " code { (text(fields, "message")) } ": "
            (text(fields, "reason")) " (decision " (as_u64(&fields["id"]).unwrap_or_default()) ")"
        },
        "ExpiryExtended" => html! {
            "Expiry of lot " a href=(lot_path(text(fields, "gtin"), text(fields, "lot"))) { (text(fields, "lot")) }
            " extended to " (as_u64(&fields["expiry_ms"]).map(format_date).unwrap_or_default())
        },
        other => html! { (other) " " (format::value(fields)) },
    }
}

/// `/ui/supply`: forms to open a unit or lot, the current recalls, the open investigations and
/// the recent supply events; live.
async fn landing(console: &Console) -> PageResult {
    let abi = console
        .abi(&supply(console)?)
        .await?
        .ok_or_else(|| PageError::NotFound("no supply contract on this chain".into()))?;
    let head = console
        .rpc()
        .chain_head()
        .await
        .map_err(PageError::from_rpc)?;

    // Recalls: every `Alert` of kind `recall` names a GTIN; its recalls are read per lot.
    let alert_signature = abi
        .events
        .iter()
        .find(|event| event.name == "Alert")
        .map(|event| event.signature.clone());
    let mut recalled_gtins = Vec::new();
    if alert_signature.is_some() {
        for record in supply_events(console, alert_signature, 0, None).await? {
            if let Some(decoded) = decode_event(&abi, &record)
                && text(&decoded["fields"], "kind") == "recall"
            {
                let gtin = text(&decoded["fields"], "detail").to_string();
                if !recalled_gtins.contains(&gtin) {
                    recalled_gtins.push(gtin);
                }
            }
        }
    }
    let mut recalls = Vec::new();
    for gtin in &recalled_gtins {
        let answer = supply_view(console, "recalls", json!([gtin])).await?;
        for pair in answer.as_array().into_iter().flatten() {
            recalls.push((
                gtin.clone(),
                pair[0].as_str().unwrap_or_default().to_string(),
                pair[1].clone(),
            ));
        }
    }
    recalls.sort_by_key(|(_, _, recall)| std::cmp::Reverse(as_u64(&recall["effective_ms"])));

    let open_cases = supply_view(console, "open_investigations", json!([null, 100])).await?;
    let mut parties = Parties::default();
    let mut cases = Vec::new();
    for pair in open_cases.as_array().into_iter().flatten() {
        let opened_by = parties.party(console, text(&pair[1], "opened_by")).await;
        cases.push((
            as_u64(&pair[0]).unwrap_or_default(),
            pair[1].clone(),
            opened_by,
        ));
    }

    let activity = recent_activity(console, head.number).await?;

    Ok(Page::live(
        "Supply",
        html! {
            p { "Drug units traced from commissioning to dispensing (DSCSA, GS1 EPCIS 2.0), as the "
                (account_link(&supply(console)?)) " records them." }
            (open_forms())
            h2 { "Current recalls" }
            @if recalls.is_empty() {
                p.muted { "No lot has been recalled." }
            } @else {
                table {
                    caption.muted { "Recalled lots, most recent first" }
                    thead { tr { th scope="col" { "Lot" } th scope="col" { "GTIN" } th scope="col" { "Class" } th scope="col" { "Since" } th scope="col" { "Units" } } }
                    tbody {
                        @for (gtin, lot, recall) in &recalls {
                            @let (class, meaning) = recall_class_words(variant(&recall["class"]));
                            tr {
                                td { a href=(lot_path(gtin, lot)) { "Lot " (lot) } }
                                td.mono { (gtin) }
                                td { span.status.bad { "Recalled" } " " (class) ": " (meaning) }
                                td { @if let Some(ms) = as_u64(&recall["effective_ms"]) { (time(ms)) } }
                                td { (as_u64(&recall["units"]).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
            h2 { "Open investigations" }
            @if cases.is_empty() {
                p.muted { "No suspect-product investigation is open." }
            } @else {
                table {
                    caption.muted { "Suspect-product investigations not cleared and not yet notified to the FDA" }
                    thead { tr { th scope="col" { "Case" } th scope="col" { "Reason" } th scope="col" { "Opened by" } th scope="col" { "Classification" } th scope="col" { "Units" } } }
                    tbody {
                        @for (case, investigation, opened_by) in &cases {
                            tr {
                                td { (case) }
                                td { (text(investigation, "reason")) }
                                td { (opened_by) }
                                td { span.status.warn { (variant(&investigation["classification"])) } }
                                td {
                                    @for (index, (gtin, serial)) in unit_pairs(&investigation["units"]).iter().enumerate() {
                                        @if index > 0 { ", " }
                                        (unit_link(gtin, serial))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Recent supply activity" }
            @if activity.is_empty() {
                p.muted { "No supply events in the last " (ACTIVITY_WINDOW_BLOCKS) " blocks." }
            } @else {
                table {
                    caption.muted { "The supply contract's latest events, newest first" }
                    thead { tr { th scope="col" { "Block" } th scope="col" { "Transaction" } th scope="col" { "What" } } }
                    tbody {
                        @for record in &activity {
                            tr {
                                td { (block_link(record.block_number)) }
                                td { (transaction_link(&record.transaction_hash)) }
                                td {
                                    @match decode_event(&abi, record) {
                                        Some(decoded) => { (event_words(&decoded)) }
                                        None => { span.muted { "an event the console cannot decode" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// One entry of a unit's timeline, ordered by time and then by kind and id.
struct Entry {
    /// What it is, for scripts and checks: the EPCIS business step, `verification` or `recall`.
    step: String,
    at_ms: u64,
    order: (u8, u64),
    bad: bool,
    ok: bool,
    body: Markup,
}

/// What a unit page reads: the unit, its history, its lot's recall, its verifications and the
/// investigations over it.
struct UnitRecord {
    unit: Value,
    history: Vec<Value>,
    verification: Value,
    recall: Option<Value>,
    verifications: Vec<(u64, Value)>,
    investigations: Vec<(u64, Value)>,
    lineage: Vec<Epc>,
    case: Option<(String, Value)>,
}

/// Reads what the unit page shows; a unit never commissioned is [`PageError::NotFound`].
async fn read_unit(console: &Console, gtin: &str, serial: &str) -> Result<UnitRecord, PageError> {
    let unit = supply_view(console, "unit", json!([gtin, serial])).await?;
    if unit.is_null() {
        return Err(PageError::NotFound(format!(
            "no unit with GTIN {gtin} and serial {serial} was commissioned on this chain"
        )));
    }
    let history = supply_view(console, "history", json!([gtin, serial]))
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lot = text(&unit, "lot").to_string();
    let verification = supply_view(
        console,
        "verify",
        json!([gtin, serial, lot, unit["expiry_ms"].clone()]),
    )
    .await?;
    let recall = supply_view(console, "recalls", json!([gtin]))
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .find(|pair| pair[0].as_str() == Some(&lot))
        .map(|pair| pair[1].clone());
    let verifications = supply_view(
        console,
        "verifications",
        json!([gtin, serial, null, MAX_VERIFICATIONS]),
    )
    .await?
    .as_array()
    .into_iter()
    .flatten()
    .filter_map(|pair| Some((as_u64(&pair[0])?, pair[1].clone())))
    .collect();
    // Investigations are kept by case, not by unit: read them only for a unit that was ever
    // held back or flagged.
    let flagged = unit["suspect"] == json!(true)
        || unit["illegitimate"] == json!(true)
        || history
            .iter()
            .any(|event| matches!(text(event, "biz_step"), "holding" | "inspecting"));
    let mut investigations = Vec::new();
    if flagged {
        for case in 0..MAX_CASES_SCANNED {
            let investigation =
                supply_view(console, "investigation", json!([case.to_string()])).await?;
            if investigation.is_null() {
                break;
            }
            if unit_pairs(&investigation["units"])
                .iter()
                .any(|(g, s)| g == gtin && s == serial)
            {
                investigations.push((case, investigation));
            }
        }
    }
    let lineage = epcs(&supply_view(console, "lineage", json!([gtin, serial])).await?);
    let case = match unit["parent"].as_str() {
        Some(sscc) => Some((
            sscc.to_string(),
            supply_view(console, "contents", json!([sscc])).await?,
        )),
        None => None,
    };
    Ok(UnitRecord {
        unit,
        history,
        verification,
        recall,
        verifications,
        investigations,
        lineage,
        case,
    })
}

/// The status badges of a unit: its disposition, and every flag that stops it.
fn unit_badges(record: &UnitRecord) -> Markup {
    let additional: Vec<&str> = record.verification["additional"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let disposition = variant(&record.unit["disposition"]);
    let disposition_class = match disposition {
        "SellableAccessible" | "Dispensed" | "Active" => "ok",
        "InTransit" => "neutral",
        _ => "warn",
    };
    html! {
        span class={ "status " (disposition_class) } { (disposition_words(disposition)) }
        @for flag in &additional {
            " "
            @match *flag {
                "Recalled" => { span.status.bad data-recalled { "Recalled" } }
                "Expired" => { span.status.bad { "Expired" } }
                "Illegitimate" => { span.status.bad { "Illegitimate" } }
                "Suspect" => { span.status.warn { "Suspect" } }
                "ExpirationExtended" => { span.status.neutral { "Expiry extended" } }
                other => { span.status.neutral { (other) } }
            }
        }
        @if record.unit["quarantined"] == json!(true) { " " span.status.warn { "Quarantined" } }
    }
}

/// A recorded EPCIS event of the unit as a timeline entry: the step, when, where, who recorded
/// it, ownership and custody moves, the EPCIS words, documents, an error declaration, and the
/// investigation a quarantine opened (the first of `investigations` its recorder opened that is
/// not in `attributed` yet, then noted there).
async fn event_entry(
    console: &Console,
    parties: &mut Parties,
    event: &Value,
    gtin: &str,
    serial: &str,
    investigations: &[(u64, Value)],
    attributed: &mut Vec<u64>,
) -> Entry {
    let id = as_u64(&event["id"]).unwrap_or_default();
    let at_ms = as_u64(&event["event_time_ms"]).unwrap_or_default();
    let disposition = text(event, "disposition");
    let recorded_by = parties.party(console, text(event, "recorded_by")).await;
    let source = match event["source"].as_str() {
        Some(source) => Some(parties.party(console, source).await),
        None => None,
    };
    let destination = match event["destination"].as_str() {
        Some(destination) => Some(parties.party(console, destination).await),
        None => None,
    };
    let custody = match (event["custody"][0].as_str(), event["custody"][1].as_str()) {
        (Some(from), Some(to)) => Some((
            parties.party(console, from).await,
            parties.party(console, to).await,
        )),
        _ => None,
    };
    let corrects = as_u64(&event["corrects"]);
    // A quarantine over this unit opened the first investigation its recorder opened over it.
    let opened = (text(event, "biz_step") == "holding" && disposition == "non_sellable_other"
        || text(event, "biz_step") == "inspecting")
        .then(|| {
            investigations.iter().find(|(case, investigation)| {
                !attributed.contains(case) && investigation["opened_by"] == event["recorded_by"]
            })
        })
        .flatten();
    if let Some((case, _)) = opened {
        attributed.push(*case);
    }
    let transformation = &event["transformation"];
    let made_here = epcs(&transformation["outputs"]);
    let consumed_here = epcs(&transformation["inputs"]);
    let this_is_input = consumed_here
        .iter()
        .any(|epc| matches!(epc, Epc::Unit(g, s) if g == gtin && s == serial));
    let bad = corrects.is_some()
        || matches!(disposition, "non_sellable_other" | "destroyed" | "inactive");
    let body = html! {
        strong { (step_words(event)) }
        @if let Some(parent) = event["parent"].as_str() {
            @if text(event, "biz_step") == "packing" { " into case " span.mono { (parent) } }
        }
        " — " (time(at_ms))
        dl.fields {
            dt { "Where" } dd { (location(text(event, "location"))) }
            dt { "Recorded by" } dd { (recorded_by) }
            @if source.is_some() || destination.is_some() {
                dt { "Ownership" } dd {
                    @if let Some(source) = &source { "from " (source) }
                    @if let Some(destination) = &destination { " to " (destination) }
                }
            }
            @if let Some((from, to)) = &custody {
                dt { "Custody" } dd { "from " (from) " to " (to) }
            }
            dt { "EPCIS" } dd {
                (text(event, "event_type")) " " (text(event, "action"))
                " · business step " code { (text(event, "biz_step")) }
                " · disposition " code { (disposition) }
                @if disposition_words(disposition) != disposition { " (" (disposition_words(disposition)) ")" }
                " · event " (id)
            }
            @if !event["epcs"].as_array().is_none_or(Vec::is_empty) {
                dt { "What" } dd { (epc_list(&epcs(&event["epcs"]))) }
            }
            @if !made_here.is_empty() {
                dt { "Made" } dd { (epc_list(&made_here)) }
                dt { "From" } dd { (epc_list(&consumed_here)) }
                @if this_is_input { dt { "This unit" } dd { "was consumed as an input" } }
            }
            @if let Some(documents) = event["biz_transactions"].as_array().filter(|list| !list.is_empty()) {
                dt { "Documents" } dd {
                    @for (index, pair) in documents.iter().enumerate() {
                        @if index > 0 { ", " }
                        (pair[0].as_str().unwrap_or_default()) " " code title=(pair[1].as_str().unwrap_or_default()) { (format::short(pair[1].as_str().unwrap_or_default())) }
                    }
                }
            }
            @if let Some(corrected) = corrects {
                dt { "Error declaration" } dd {
                    span.status.bad { "Declared erroneous" } " event " (corrected) ": "
                    (event["error_reason"].as_str().unwrap_or("no reason given"))
                }
            }
            @if let Some((case, investigation)) = opened {
                dt { "Investigation" } dd {
                    span.status.warn { "Suspect" } " case " (case) " opened: " (text(investigation, "reason"))
                }
            }
        }
    };
    Entry {
        step: text(event, "biz_step").to_string(),
        at_ms,
        order: (0, id),
        bad: bad || opened.is_some(),
        ok: text(event, "biz_step") == "dispensing",
        body,
    }
}

/// A recorded verification request (GS1 LVM) as a timeline entry.
async fn verification_entry(
    console: &Console,
    parties: &mut Parties,
    id: u64,
    record: &Value,
) -> Entry {
    let at_ms = as_u64(&record["at_ms"]).unwrap_or_default();
    let response = &record["response"];
    let verified = response["verified"] == json!(true);
    let additional: Vec<&str> = response["additional"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let requester = parties.party(console, text(record, "requester")).await;
    let clone_case = as_u64(&record["clone_case"]);
    let body = html! {
        strong { "Verification requested" } " — " (time(at_ms))
        dl.fields {
            dt { "Where" } dd { (location(text(record, "location"))) }
            dt { "Requested by" } dd { (requester) }
            dt { "Answer (GS1 LVM)" } dd {
                @if verified { span.status.ok { "Verified" } } @else {
                    span.status.bad { "Not verified" } " " code { (response["failure_reason"].as_str().unwrap_or_default()) }
                }
                @for flag in &additional { " " span.status.warn { (flag) } }
            }
            @if let Some(case) = clone_case {
                dt { "Investigation" } dd { span.status.bad { "Clone" } " case " (case) " opened" }
            }
            dt { "Presented" } dd {
                "lot " (text(record, "lot")) ", expiry "
                (as_u64(&record["expiry_ms"]).map(format_date).unwrap_or_default())
                " · request " (id)
            }
        }
    };
    Entry {
        step: "verification".into(),
        at_ms,
        order: (1, id),
        bad: !verified || clone_case.is_some(),
        ok: verified && additional.is_empty(),
        body,
    }
}

/// The recall as a timeline entry, and its one-line reason.
fn recall_reason(lot: &str, recall: &Value) -> String {
    let (class, meaning) = recall_class_words(variant(&recall["class"]));
    format!("{class} recall of lot {lot}: {meaning}")
}

/// `/ui/supply/unit/<gtin>/<serial>`: the unit's state and flags, its provenance timeline
/// (EPCIS events, verifications, recall, investigations), its lineage and its case.
async fn unit_page(console: &Console, gtin: &str, serial: &str) -> PageResult {
    let record = read_unit(console, gtin, serial).await?;
    let unit = &record.unit;
    let lot = text(unit, "lot");
    let mut parties = Parties::default();
    let owner = parties.party(console, text(unit, "owner")).await;
    let custodian = parties.party(console, text(unit, "custodian")).await;

    let mut entries = Vec::new();
    let mut attributed = Vec::new();
    for event in &record.history {
        entries.push(
            event_entry(
                console,
                &mut parties,
                event,
                gtin,
                serial,
                &record.investigations,
                &mut attributed,
            )
            .await,
        );
    }
    for (id, verification) in &record.verifications {
        entries.push(verification_entry(console, &mut parties, *id, verification).await);
    }
    if let Some(recall) = &record.recall {
        let at_ms = as_u64(&recall["effective_ms"]).unwrap_or_default();
        entries.push(Entry {
            step: "recall".into(),
            at_ms,
            order: (2, 0),
            bad: true,
            ok: false,
            body: html! {
                strong { "Lot recalled" } " — " (time(at_ms))
                dl.fields {
                    dt { "Recall" } dd { span.status.bad { "Recalled" } " " (recall_reason(lot, recall)) }
                    dt { "Units of the lot" } dd { (as_u64(&recall["units"]).unwrap_or_default()) " when it took effect" }
                }
            },
        });
    }
    entries.sort_by_key(|entry| (entry.at_ms, entry.order));

    // Units made from this one, from the TransformationEvents that consumed it.
    let mut children = Vec::new();
    for event in &record.history {
        let inputs = epcs(&event["transformation"]["inputs"]);
        if inputs
            .iter()
            .any(|epc| matches!(epc, Epc::Unit(g, s) if g == gtin && s == serial))
        {
            children.extend(epcs(&event["transformation"]["outputs"]));
        }
    }
    let mut investigations = Vec::new();
    for (case, investigation) in &record.investigations {
        let opened_by = parties
            .party(console, text(investigation, "opened_by"))
            .await;
        investigations.push((*case, investigation, opened_by));
    }
    let expiry = as_u64(&unit["expiry_ms"])
        .map(format_date)
        .unwrap_or_default();
    let digital_link = Identifier::Sgtin {
        gtin: gtin.to_string(),
        serial: serial.to_string(),
    }
    .digital_link();

    Ok(Page::fixed(
        format!("Unit {serial}"),
        html! {
            p { "Status: " (unit_badges(&record)) }
            @if let Some(recall) = &record.recall {
                p.error role="alert" data-recall {
                    "Recalled: " (recall_reason(lot, recall)) ". In effect since "
                    @if let Some(ms) = as_u64(&recall["effective_ms"]) { (time(ms)) } "."
                }
            }
            dl.fields {
                dt { "GTIN" } dd.mono { (gtin) }
                dt { "Serial" } dd.mono { (serial) }
                dt { "GS1 Digital Link" } dd.mono { (digital_link) }
                dt { "Lot" } dd { a href=(lot_path(gtin, lot)) { "Lot " (lot) } " (where its units are)" }
                dt { "Expiry" } dd { (expiry) }
                dt { "Owner" } dd { (owner) }
                dt { "Custodian" } dd { (custodian) }
                dt { "Location" } dd { (location(text(unit, "location"))) }
                @if let Some(shipment) = as_u64(&unit["shipment"]) {
                    dt { "Travelling in" } dd { "shipment " (shipment) }
                }
            }
            p { a href={ (unit_path(gtin, serial)) "/epcis" } download {
                "Download this unit's history as an EPCIS 2.0 document (JSON-LD)" } }
            h2 { "Provenance" }
            @if entries.is_empty() {
                p.muted { "No events recorded." }
            } @else {
                ol.timeline aria-label="Provenance timeline, oldest first" {
                    @for entry in &entries {
                        li class=[if entry.bad { Some("bad") } else if entry.ok { Some("ok") } else { None }] data-step=(entry.step) {
                            (entry.body)
                        }
                    }
                }
            }
            h2 { "Investigations" }
            @if investigations.is_empty() {
                p.muted { "No suspect-product investigation names this unit." }
            } @else {
                table {
                    caption.muted { "Suspect-product investigations over this unit" }
                    thead { tr { th scope="col" { "Case" } th scope="col" { "Reason" } th scope="col" { "Opened by" } th scope="col" { "Classification" } th scope="col" { "FDA notification" } } }
                    tbody {
                        @for (case, investigation, opened_by) in &investigations {
                            tr {
                                td { (case) }
                                td { (text(investigation, "reason")) }
                                td { (opened_by) }
                                td { span.status.warn { (variant(&investigation["classification"])) } }
                                td {
                                    @match (investigation["fda_incident"].as_str(), as_u64(&investigation["notified_ms"])) {
                                        (Some(incident), Some(ms)) => { "FDA 3911 " (incident) ", " (time(ms)) }
                                        _ => { @if investigation["overdue"] == json!(true) { span.status.bad { "Overdue" } } @else { span.muted { "not yet" } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Lineage and contents" }
            @if record.lineage.is_empty() && children.is_empty() && record.case.is_none() {
                p.muted { "Not repackaged, made from no other unit, in no case." }
            }
            @if !record.lineage.is_empty() {
                p { "Made by repackaging from " (epc_list(&record.lineage)) "." }
            }
            @if !children.is_empty() {
                p { "Repackaged into " (epc_list(&children)) "." }
            }
            @if let Some((sscc, contents)) = &record.case {
                p { "Packed in case " span.mono { (sscc) } " with "
                    @for (index, (g, s)) in unit_pairs(&contents["children"]).iter().enumerate() {
                        @if index > 0 { ", " }
                        (unit_link(g, s))
                    }
                    "."
                }
            }
        },
    ))
}

/// Supply views answered from what was read beforehand; what is asked and not read yet is
/// noted, for the console to read before running the exporter again.
struct ReadViews<'a> {
    answers: &'a HashMap<String, Value>,
    missing: Mutex<Vec<(String, Value)>>,
}

/// The key a view's answer is kept under: the message and its JSON arguments.
fn view_key(message: &str, arguments: &Value) -> String {
    format!("{message} {arguments}")
}

impl SupplyReader for ReadViews<'_> {
    fn view(&self, message: &str, arguments: Value) -> Result<Value, String> {
        match self.answers.get(&view_key(message, &arguments)) {
            Some(answer) => Ok(answer.clone()),
            None => {
                super::lock(&self.missing).push((message.to_string(), arguments));
                Err(format!("`{message}` not read yet"))
            }
        }
    }
}

/// The directory the exporter writes parties with: every party the unit's history names, with
/// its GLN and company prefix as the registry attests them (a GLN two parties claim is left to
/// the first).
async fn directory_of(console: &Console, history: &[Value]) -> Result<Directory, PageError> {
    let mut addresses = Vec::new();
    for event in history {
        for field in [
            &event["source"],
            &event["destination"],
            &event["custody"][0],
            &event["custody"][1],
            &event["recorded_by"],
        ] {
            if let Some(address) = field.as_str()
                && !addresses.iter().any(|known: &String| known == address)
            {
                addresses.push(address.to_string());
            }
        }
    }
    let mut parties = Parties::default();
    let mut entries: Vec<Party> = Vec::new();
    for address in &addresses {
        let Some(record) = parties.participant(console, address).await else {
            continue;
        };
        let Ok(parsed) = address.parse() else {
            continue;
        };
        let gln = record["gln"]
            .as_str()
            .filter(|gln| gs1::valid_key(gln, 13))
            .filter(|gln| {
                !entries
                    .iter()
                    .any(|party| party.gln.as_deref() == Some(gln))
            })
            .map(str::to_string);
        let company_prefixes = record["company_prefix"]
            .as_str()
            .filter(|prefix| {
                (6..=12).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_string)
            .into_iter()
            .collect();
        entries.push(Party {
            name: String::new(),
            address: parsed,
            gln,
            locations: Vec::new(),
            company_prefixes,
            npi: None,
            fhir: Vec::new(),
        });
    }
    Directory::new(entries, Vec::new())
        .map_err(|error| PageError::Internal(format!("the registry's parties: {error}")))
}

/// `/ui/supply/unit/<gtin>/<serial>/epcis`: the unit's history as an EPCIS 2.0 JSON-LD
/// document, written by the client library's exporter.
async fn unit_epcis(console: &Console, gtin: &str, serial: &str) -> PageResult {
    let history = supply_view(console, "history", json!([gtin, serial])).await?;
    let events = history.as_array().cloned().unwrap_or_default();
    if events.is_empty() {
        return Err(PageError::NotFound(format!(
            "no unit with GTIN {gtin} and serial {serial} has a history on this chain"
        )));
    }
    let directory = directory_of(console, &events).await?;
    let creation_ms = console
        .rpc()
        .chain_head()
        .await
        .map_err(PageError::from_rpc)?
        .timestamp_ms;
    let mut answers = HashMap::new();
    answers.insert(view_key("history", &json!([gtin, serial])), history);
    loop {
        let (outcome, missing) = {
            let reader = ReadViews {
                answers: &answers,
                missing: Mutex::new(Vec::new()),
            };
            let outcome = export_unit(&reader, &directory, gtin, serial, creation_ms);
            (outcome, reader.missing.into_inner().unwrap_or_default())
        };
        if missing.is_empty() {
            let document = outcome.map_err(|error| {
                PageError::View(format!("the history cannot be written as EPCIS: {error}"))
            })?;
            let bytes = serde_json::to_vec_pretty(&document)
                .map_err(|error| PageError::Internal(error.to_string()))?;
            return Ok(Page::download(
                "application/ld+json",
                format!("unit-{gtin}-{serial}.jsonld"),
                bytes,
            ));
        }
        for (message, arguments) in missing {
            // The exporter walks sales and investigations id by id: read a window at once.
            let ids = match (message.as_str(), as_u64(&arguments[0])) {
                ("sale" | "investigation", Some(first)) => (first..first + EXPORT_ID_WINDOW)
                    .map(|id| json!([id.to_string()]))
                    .collect(),
                _ => vec![arguments],
            };
            for arguments in ids {
                let key = view_key(&message, &arguments);
                if answers.contains_key(&key) {
                    continue;
                }
                if answers.len() >= MAX_EXPORT_VIEWS {
                    return Err(PageError::Busy(
                        "this history asks for too many reads to export from the console: use \
                         `salus epcis export`"
                            .into(),
                    ));
                }
                let answer = supply_view(console, &message, arguments).await?;
                answers.insert(key, answer);
            }
        }
    }
}

/// A unit of a lot as the lot page shows it.
struct LotUnit {
    serial: String,
    owner: String,
    holder: String,
    location: String,
    disposition: String,
    suspect: bool,
    quarantined: bool,
}

/// `/ui/supply/lot/<gtin>/<lot>`: where the lot's units are, grouped by holder and location, as
/// a chart and tables; the lot's recall.
async fn lot_page(console: &Console, gtin: &str, lot: &str) -> PageResult {
    let mut units = Vec::new();
    let mut after = Value::Null;
    while units.len() < MAX_LOT_UNITS {
        let page = supply_view(console, "lot_units", json!([gtin, lot, after, 100])).await?;
        let rows = page.as_array().cloned().unwrap_or_default();
        for row in &rows {
            units.push(LotUnit {
                serial: row[0].as_str().unwrap_or_default().to_string(),
                owner: row[1].as_str().unwrap_or_default().to_string(),
                holder: row[1].as_str().unwrap_or_default().to_string(),
                location: row[2].as_str().unwrap_or_default().to_string(),
                disposition: variant(&row[3]).to_string(),
                suspect: false,
                quarantined: false,
            });
        }
        match rows.last() {
            Some(last) if rows.len() == 100 => after = last[0].clone(),
            _ => break,
        }
    }
    if units.is_empty() {
        return Err(PageError::NotFound(format!(
            "no unit of lot {lot} of GTIN {gtin} was commissioned on this chain"
        )));
    }
    let detailed = units.len() <= MAX_DETAILED_UNITS;
    if detailed {
        for unit in &mut units {
            let state = supply_view(console, "unit", json!([gtin, unit.serial])).await?;
            if let Some(custodian) = state["custodian"].as_str() {
                unit.holder = custodian.to_string();
            }
            unit.suspect = state["suspect"] == json!(true);
            unit.quarantined = state["quarantined"] == json!(true);
        }
    }
    let recall = supply_view(console, "recalls", json!([gtin]))
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .find(|pair| pair[0].as_str() == Some(lot))
        .map(|pair| pair[1].clone());

    // Groups by holder and place, in the order first met.
    let mut groups: Vec<((String, String), Vec<&LotUnit>)> = Vec::new();
    for unit in &units {
        let key = (unit.holder.clone(), unit.location.clone());
        match groups.iter_mut().find(|(known, _)| *known == key) {
            Some((_, members)) => members.push(unit),
            None => groups.push((key, vec![unit])),
        }
    }
    let mut parties = Parties::default();
    let mut holders = Vec::new();
    for ((holder, _), _) in &groups {
        holders.push(parties.party(console, holder).await);
    }
    let mut owners = HashMap::new();
    for unit in &units {
        if !owners.contains_key(&unit.owner) {
            owners.insert(
                unit.owner.clone(),
                parties.party(console, &unit.owner).await,
            );
        }
    }
    let largest = groups
        .iter()
        .map(|(_, members)| members.len())
        .max()
        .unwrap_or(1);
    let recalled = recall.is_some();
    let mut dispositions: BTreeMap<&str, usize> = BTreeMap::new();
    for unit in &units {
        *dispositions
            .entry(disposition_words(&unit.disposition))
            .or_default() += 1;
    }
    let chart = holder_chart(&groups, &parties, largest, recalled);

    Ok(Page::fixed(
        format!("Lot {lot}"),
        html! {
            p {
                "Status: "
                @if let Some(recall) = &recall {
                    span.status.bad data-recalled { "Recalled" } " " (recall_reason(lot, recall))
                    @if let Some(ms) = as_u64(&recall["effective_ms"]) { ", since " (time(ms)) }
                } @else {
                    span.status.ok { "Not recalled" }
                }
            }
            dl.fields {
                dt { "GTIN" } dd.mono { (gtin) }
                dt { "Lot" } dd.mono { (lot) }
                dt { "Units" } dd { (units.len()) @if units.len() >= MAX_LOT_UNITS { " (the first " (MAX_LOT_UNITS) ")" } }
                dt { "Dispositions" } dd {
                    @for (index, (words, count)) in dispositions.iter().enumerate() {
                        @if index > 0 { ", " }
                        (count) " " (words)
                    }
                }
            }
            h2 { "Where its units are" }
            @if !detailed {
                p.muted { "A large lot: units are grouped by owner (custodians are read for lots of up to "
                    (MAX_DETAILED_UNITS) " units)." }
            }
            (chart)
            table data-lot-map {
                caption.muted { "Units by holder and location" }
                thead { tr { th scope="col" { "Holder" } th scope="col" { "Location" } th scope="col" { "Units" } th scope="col" { "Dispositions" } } }
                tbody {
                    @for (((address, place), members), holder) in groups.iter().zip(&holders) {
                        tr data-holder=(address) data-units=(members.len()) {
                            td { (holder) }
                            td { (location(place)) }
                            td { (members.len()) }
                            td { (group_dispositions(members)) }
                        }
                    }
                }
            }
            @for (index, (((_, place), members), holder)) in groups.iter().zip(&holders).enumerate() {
                h3 { "Holder " (index + 1) ": " (units_words(members.len())) }
                p { "Held by " (holder) " at " (location(place)) "." }
                table {
                    caption.muted { "Units held by holder " (index + 1) }
                    thead { tr { th scope="col" { "Unit" } th scope="col" { "Owner" } th scope="col" { "Disposition" } th scope="col" { "Marks" } } }
                    tbody {
                        @for unit in members {
                            tr {
                                td { (unit_link(gtin, &unit.serial)) }
                                td { @if let Some(owner) = owners.get(&unit.owner) { (owner) } }
                                td { (disposition_words(&unit.disposition)) }
                                td {
                                    @if recalled { span.status.bad { "Recalled" } " " }
                                    @if unit.suspect { span.status.warn { "Suspect" } " " }
                                    @if unit.quarantined { span.status.warn { "Quarantined" } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A count of units in words (`1 unit`, `2 units`).
fn units_words(count: usize) -> String {
    match count {
        1 => "1 unit".into(),
        _ => format!("{count} units"),
    }
}

/// The dispositions of a group of units, counted.
fn group_dispositions(members: &[&LotUnit]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for unit in members {
        *counts
            .entry(disposition_words(&unit.disposition))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(words, count)| format!("{count} {words}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Holders and their unit counts as a bar chart (SVG, attributes only; the same data is in
/// the table that follows it).
fn holder_chart(
    groups: &[((String, String), Vec<&LotUnit>)],
    parties: &Parties,
    largest: usize,
    recalled: bool,
) -> Markup {
    // Each holder takes two lines: its label, then its bar and count.
    const ROW: usize = 48;
    const BAR: usize = 520;
    const WIDTH: usize = BAR + 60;
    let height = groups.len() * ROW + 8;
    let fill = if recalled { "#a4161a" } else { "#0b5cad" };
    let label_of = |holder: &str, place: &str| {
        let role = parties
            .known
            .get(holder)
            .cloned()
            .flatten()
            .map(|record| role_words(variant(&record["roles"][0])).to_string())
            .unwrap_or_else(|| "holder".to_string());
        format!("{role} {} at {place}", format::short(holder))
    };
    let summary = groups
        .iter()
        .map(|((holder, place), members)| {
            format!(
                "{}: {}",
                label_of(holder, place),
                units_words(members.len())
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        svg role="img" aria-labelledby="lot-chart-title" width=(WIDTH) height=(height)
            viewBox={ "0 0 " (WIDTH) " " (height) } xmlns="http://www.w3.org/2000/svg" {
            title id="lot-chart-title" { "Units of the lot by holder and location: " (summary) }
            @for (index, ((holder, place), members)) in groups.iter().enumerate() {
                @let y = index * ROW + 4;
                @let width = (members.len() * BAR).div_ceil(largest.max(1)).max(2);
                text x="0" y=(y + 14) font-size="14" fill="#1b1f24" { (label_of(holder, place)) }
                rect x="0" y=(y + 20) width=(width) height="18" fill=(fill) {}
                text x=(width + 6) y=(y + 34) font-size="14" fill="#1b1f24" { (units_words(members.len())) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> ConsoleRequest {
        ConsoleRequest::parse("/ui/supply/open", Some(query)).expect("a console request")
    }

    fn redirect_of(result: PageResult) -> String {
        match result {
            Ok(page) => page.redirect.expect("a redirect"),
            Err(error) => panic!("not a redirect: {error:?}"),
        }
    }

    #[test]
    fn what_a_user_types_opens_the_unit_or_the_lot() {
        assert_eq!(
            redirect_of(open(&request("gtin=00312345678906&serial=S1"))),
            "/ui/supply/unit/00312345678906/S1"
        );
        assert_eq!(
            redirect_of(open(&request("gtin=00312345678906&lot=L%2F1"))),
            "/ui/supply/lot/00312345678906/L%2F1"
        );
        assert_eq!(
            redirect_of(open(&request("id=urn:epc:id:sgtin:0312345.067890.S1"))),
            "/ui/supply/unit/00312345678906/S1"
        );
        assert_eq!(
            redirect_of(open(&request(
                "id=https://id.gs1.org/01/00312345678906/10/LOT7"
            ))),
            "/ui/supply/lot/00312345678906/LOT7"
        );
        assert!(matches!(
            open(&request("gtin=00312345678907&serial=S1")),
            Err(PageError::BadRequest(_))
        ));
        assert!(matches!(
            open(&request("id=urn:epc:id:sscc:0312345.0000000014")),
            Err(PageError::BadRequest(_))
        ));
        assert!(matches!(
            open(&request("gtin=00312345678906")),
            Err(PageError::BadRequest(_))
        ));
    }

    #[test]
    fn paths_carry_free_text_percent_encoded() {
        assert_eq!(
            unit_path("00312345678906", "a/b?<c>"),
            "/ui/supply/unit/00312345678906/a%2Fb%3F%3Cc%3E"
        );
    }

    #[test]
    fn the_export_reader_answers_what_was_read_and_notes_the_rest() {
        let mut answers = HashMap::new();
        answers.insert(view_key("unit", &json!(["g", "s"])), json!({ "lot": "L" }));
        let reader = ReadViews {
            answers: &answers,
            missing: Mutex::new(Vec::new()),
        };
        assert_eq!(
            reader.view("unit", json!(["g", "s"])).unwrap(),
            json!({ "lot": "L" })
        );
        assert!(reader.view("sale", json!(["0"])).is_err());
        let missing = reader.missing.into_inner().unwrap();
        assert_eq!(missing, vec![("sale".to_string(), json!(["0"]))]);
    }

    #[test]
    fn steps_and_recalls_read_as_words() {
        let event = json!({ "biz_step": "holding", "disposition": "non_sellable_other" });
        assert_eq!(step_words(&event), "Quarantined (held back)");
        let released = json!({ "biz_step": "holding", "disposition": "sellable_accessible" });
        assert_eq!(step_words(&released), "Released back to sellable");
        let recall = json!({ "class": { "ClassI": null }, "effective_ms": "0", "units": 2 });
        assert!(recall_reason("L1", &recall).starts_with("Class I recall of lot L1: "));
    }

    #[test]
    fn the_lot_chart_is_an_image_with_its_data_in_words_and_escapes_chain_text() {
        let unit = LotUnit {
            serial: "S1".into(),
            owner: "0x0000000000000000000000000000000000000001".into(),
            holder: "0x0000000000000000000000000000000000000001".into(),
            location: "<script>".into(),
            disposition: "SellableAccessible".into(),
            suspect: false,
            quarantined: false,
        };
        let groups = vec![((unit.holder.clone(), unit.location.clone()), vec![&unit])];
        let chart = holder_chart(&groups, &Parties::default(), 1, true).into_string();
        assert!(chart.contains("role=\"img\""), "{chart}");
        assert!(chart.contains("1 unit"), "{chart}");
        assert!(!chart.contains("<script>"), "{chart}");
        assert!(!chart.contains("style="), "{chart}");
    }
}
