//! How chain values are written on console pages: times, hashes and addresses as links, known
//! contracts by name, receipt statuses as badges, and decoded ABI values (JSON) as HTML.

use maud::{Markup, html};
use salus_client::epcis::time::format_date_time;
use serde_json::Value;

use salus_primitives::Address;

use super::ConsoleContracts;

tokio::task_local! {
    /// The contracts the page being rendered names (the node's `[console]` or genesis
    /// contracts), set around each rendering by [`with_contract_names`].
    static CONTRACT_NAMES: ConsoleContracts;
}

/// Runs `rendering` with `contracts` named on its pages ([`contract_name`]).
pub async fn with_contract_names<F: std::future::Future>(
    contracts: ConsoleContracts,
    rendering: F,
) -> F::Output {
    CONTRACT_NAMES.scope(contracts, rendering).await
}

/// A block time (ms since the epoch) as a `<time>` element in UTC.
pub fn time(ms: u64) -> Markup {
    let text = format_date_time(ms);
    html! { time datetime=(text) { (text.replace('T', " ").replace(".000Z", " UTC").replace('Z', " UTC")) } }
}

/// A duration in milliseconds in words (`3 h 12 min`, `45 s`).
pub fn duration(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        0 => format!("{ms} ms"),
        1..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        3600..86_400 => format!("{} h {} min", seconds / 3600, seconds / 60 % 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds / 3600 % 24),
    }
}

/// A `0x` hash or address shortened to its first and last characters (`0x1234ab…cd90`).
pub fn short(hex: &str) -> String {
    if hex.len() <= 16 {
        return hex.to_string();
    }
    format!("{}…{}", &hex[..8], &hex[hex.len() - 4..])
}

/// A link to a block by number.
pub fn block_link(number: u64) -> Markup {
    html! { a href={ "/ui/block/" (number) } { "#" (number) } }
}

/// A link to a block by hash, shortened (the full hash in its title).
pub fn block_hash_link(hash: &str) -> Markup {
    html! { a.mono href={ "/ui/block/" (hash) } title=(hash) { (short(hash)) } }
}

/// A link to a transaction, shortened.
pub fn transaction_link(hash: &str) -> Markup {
    html! { a.mono href={ "/ui/tx/" (hash) } title=(hash) { (short(hash)) } }
}

/// A link to an account or contract: its name when it is one of the dev chain's healthcare
/// contracts, else the shortened address.
pub fn account_link(address: &str) -> Markup {
    match contract_name(address) {
        Some(name) => html! { a href={ "/ui/account/" (address) } title=(address) { (name) } },
        None => {
            html! { a.mono href={ "/ui/account/" (address) } title=(address) { (short(address)) } }
        }
    }
}

/// The name of one of the healthcare contracts the console reads (the node's `[console]` or
/// genesis contracts), by address; `None` for any other address, and outside a rendering.
pub fn contract_name(address: &str) -> Option<&'static str> {
    let address: Address = address.parse().ok()?;
    CONTRACT_NAMES
        .try_with(|contracts| {
            [
                (contracts.registry, "Registry contract"),
                (contracts.consent, "Consent contract"),
                (contracts.supply, "Supply contract"),
                (contracts.coverage, "Coverage contract"),
            ]
            .into_iter()
            .find(|(known, _)| *known == Some(address))
            .map(|(_, name)| name)
        })
        .ok()
        .flatten()
}

/// A receipt status (`success`, `reverted`, `outOfFuel`, `trapped`, `invalid`, or a
/// transaction's `pending`) as a badge.
pub fn status_badge(status: &str) -> Markup {
    let (class, text) = match status {
        "success" => ("ok", "Success"),
        "pending" => ("warn", "Pending"),
        "reverted" => ("bad", "Reverted"),
        "outOfFuel" => ("bad", "Out of fuel"),
        "trapped" => ("bad", "Trapped"),
        "invalid" => ("bad", "Refused"),
        other => ("neutral", other),
    };
    html! { span class={ "status " (class) } { (text) } }
}

/// Whether `text` is a `0x` address (20 bytes of hex).
pub fn is_address(text: &str) -> bool {
    text.len() == 42 && text.starts_with("0x") && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A value decoded through a contract's ABI, as HTML: addresses link to their page, records
/// and lists are nested, enums (`{"Variant": value}`) read as the variant and its value.
pub fn value(value: &Value) -> Markup {
    match value {
        Value::Null => html! { span.muted { "none" } },
        Value::Bool(flag) => html! { (if *flag { "yes" } else { "no" }) },
        Value::Number(number) => html! { (number.to_string()) },
        Value::String(text) if is_address(text) => account_link(text),
        Value::String(text) if text.starts_with("0x") => {
            html! { code title=(text) { (short(text)) } }
        }
        Value::String(text) => html! { (text) },
        Value::Array(items) if items.is_empty() => html! { span.muted { "empty" } },
        Value::Array(items) => html! {
            ol { @for item in items { li { (self::value(item)) } } }
        },
        Value::Object(fields)
            if fields.len() == 1
                && fields.keys().all(|key| key.starts_with(char::is_uppercase)) =>
        {
            let (variant, inner) = fields.iter().next().expect("one field");
            html! {
                strong { (variant) }
                @if !inner.is_null() { " " (self::value(inner)) }
            }
        }
        Value::Object(fields) => html! {
            dl.fields {
                @for (name, field) in fields {
                    dt { (name) }
                    dd { (self::value(field)) }
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_text_is_escaped_wherever_it_is_written() {
        let hostile = Value::String("<script>alert(1)</script>\"'&".into());
        let html = value(
            &serde_json::json!({ "note": hostile, "Variant": "<img src=x onerror=alert(1)>" }),
        )
        .into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let link = account_link("0x\"><script>").into_string();
        assert!(!link.contains("\"><script>"), "{link}");
    }

    #[test]
    fn known_contracts_are_named_and_hashes_shortened() {
        use crate::genesis::{DEV_CONSENT_ADDRESS, DEV_SUPPLY_ADDRESS, GenesisConfig};
        let consent = DEV_CONSENT_ADDRESS
            .to_string()
            .to_uppercase()
            .replace("0X", "0x");
        let dev = ConsoleContracts::from_genesis(&GenesisConfig::dev());
        assert_eq!(
            CONTRACT_NAMES.sync_scope(dev, || contract_name(&consent)),
            Some("Consent contract")
        );
        // Another chain's console names what it reads, not the dev chain's addresses.
        let elsewhere = ConsoleContracts {
            consent: Some(Address([0xcc; 20])),
            ..ConsoleContracts::default()
        };
        assert_eq!(
            CONTRACT_NAMES.sync_scope(elsewhere, || (
                contract_name(&consent),
                contract_name(&DEV_SUPPLY_ADDRESS.to_string()),
                contract_name(&Address([0xcc; 20]).to_string())
            )),
            (None, None, Some("Consent contract"))
        );
        assert_eq!(contract_name(&consent), None, "outside a rendering");
        assert_eq!(short("0x0123456789abcdef0123"), "0x012345…0123");
        assert_eq!(duration(3_720_000), "1 h 2 min");
    }
}
