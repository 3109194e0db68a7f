//! The supply part of `salus scenario`: a lot's journey from the maker through a wholesaler to
//! a pharmacy, a verification, a dispensing against a prescription, a suspect unit and the
//! lot's recall — so that the console's supply pages have a timeline and a lot map to show.
//!
//! Dev accounts: 4 the maker (registry `Manufacturer`, GS1 company prefix `0312345`), 5 the
//! wholesaler (`WholesaleDistributor`), 6 the pharmacy (`Dispenser`, and `Practitioner` so that
//! it can post the prescription it dispenses against: a pharmacist prescriber, which keeps the
//! story within the supply part's accounts); account 0, the registry's authority on dev chains,
//! registers them. Units, lot and case carry a tag taken from the head's number, so that the
//! story can be told again on the same chain.

use anyhow::{Context, bail};
use salus_client::gs1::check_digit;
use salus_client::rpc::SalusApiClient;
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Hash, SecretKey};
use serde_json::{Value, json};

use super::{Contracts, DAY_MS, Registration, Scenario};

/// The maker's dev account.
const MAKER: u32 = 4;
/// The wholesaler's dev account.
const WHOLESALER: u32 = 5;
/// The pharmacy's dev account.
const PHARMACY: u32 = 6;

/// The product: a GTIN-14 embedding the NDC under the maker's company prefix.
const GTIN: &str = "00312345678906";
/// The product's National Drug Code.
const NDC: &str = "12345-678-90";
/// The maker's GS1 company prefix (`03` and its NDC labeler code).
const COMPANY_PREFIX: &str = "0312345";

/// Units commissioned into the lot.
const UNITS: usize = 6;

/// The reason the pharmacy gives when it quarantines a unit as suspect (the contract takes up to
/// 40 bytes).
pub const SUSPECT_REASON: &str = "capsules discoloured at dispensing";

/// A GS1 key: `body` followed by its check digit.
fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body))
}

/// A unit as the contract's EPC (`{"Unit": [gtin, serial]}`).
fn unit_epc(serial: &str) -> Value {
    json!({ "Unit": [GTIN, serial] })
}

/// A fixed document hash standing for a purchase order or invoice (`kind`, `tag`).
fn document(kind: &str, tag: u64) -> String {
    keccak256_concat(&[b"scenario/supply/", kind.as_bytes(), &tag.to_be_bytes()]).to_string()
}

/// Calls `message` on the supply contract and decodes its result; the transaction's hash and
/// the result.
async fn result_of(
    scenario: &mut Scenario,
    key: &SecretKey,
    message: &str,
    arguments: Value,
) -> anyhow::Result<(String, Value)> {
    let receipt = scenario
        .call(key, Contracts::SUPPLY, message, arguments)
        .await?;
    let value = scenario
        .result(Contracts::SUPPLY, message, &receipt)
        .await?;
    Ok((receipt.transaction_hash, value))
}

/// A `u64` result (the ABI writes them as decimal strings).
fn as_id(value: &Value) -> anyhow::Result<u64> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .or_else(|| value.as_u64())
        .with_context(|| format!("not an id: {value}"))
}

/// Tells the supply story; returns what it made (ids and addresses by name) and the console
/// pages that show it.
///
/// # Errors
/// When a step fails.
pub async fn load(scenario: &mut Scenario) -> anyhow::Result<Value> {
    let head = scenario.client().chain_head().await?;
    let tag = head.number;
    let now_ms = head.timestamp_ms;
    let (maker, wholesaler, pharmacy) = (
        Scenario::key(MAKER),
        Scenario::key(WHOLESALER),
        Scenario::key(PHARMACY),
    );
    let maker_gln = with_check_digit("031234500001");
    let wholesaler_gln = with_check_digit("061414100001");
    let pharmacy_gln = with_check_digit("061414100002");
    for (index, roles, gln) in [
        (MAKER, &["Manufacturer"][..], &maker_gln),
        (WHOLESALER, &["WholesaleDistributor"][..], &wholesaler_gln),
        (PHARMACY, &["Dispenser", "Practitioner"][..], &pharmacy_gln),
    ] {
        let registration = Registration {
            roles,
            gln: Some(gln),
            company_prefix: roles.contains(&"Manufacturer").then_some(COMPANY_PREFIX),
            ..Registration::default()
        };
        scenario
            .register(Scenario::key(index).address(), registration, now_ms)
            .await?;
    }

    // The product, once per chain.
    let product = scenario
        .try_call(
            &maker,
            Contracts::SUPPLY,
            "register_product",
            json!([GTIN, NDC, "Amoxicillin", "500 mg", "capsule", "30 capsules"]),
        )
        .await?;
    if product.status != "success"
        && !product
            .failure
            .as_deref()
            .is_some_and(|failure| failure.contains("AlreadyCommissioned"))
    {
        bail!(
            "`register_product` failed: {}",
            product.failure.unwrap_or(product.status)
        );
    }

    // A lot of six units at the maker.
    let lot = format!("LOT{tag}");
    let serials: Vec<String> = (1..=UNITS).map(|n| format!("S{tag}N{n}")).collect();
    let expiry_ms = now_ms + 700 * DAY_MS;
    scenario
        .call(
            &maker,
            Contracts::SUPPLY,
            "commission",
            json!([GTIN, lot, expiry_ms.to_string(), serials, maker_gln]),
        )
        .await?;

    // Four units packed into a case and sold to the wholesaler; two stay at the maker.
    let case = with_check_digit(&format!("0{COMPANY_PREFIX}{:09}", tag % 1_000_000_000));
    let packed: Vec<Value> = serials[..4]
        .iter()
        .map(|serial| json!([GTIN, serial]))
        .collect();
    scenario
        .call(
            &maker,
            Contracts::SUPPLY,
            "pack",
            json!([case, packed, maker_gln]),
        )
        .await?;
    let (_, to_wholesaler) = result_of(
        scenario,
        &maker,
        "ship",
        json!([
            [{ "Case": case }],
            wholesaler.address().to_string(),
            [["po", document("po-1", tag)], ["inv", document("inv-1", tag)]],
            maker_gln
        ]),
    )
    .await?;
    let to_wholesaler = as_id(&to_wholesaler)?;
    scenario
        .call(
            &wholesaler,
            Contracts::SUPPLY,
            "receive",
            json!([to_wholesaler.to_string(), [{ "Case": case }], wholesaler_gln]),
        )
        .await?;
    scenario
        .call(
            &wholesaler,
            Contracts::SUPPLY,
            "unpack",
            json!([case, wholesaler_gln]),
        )
        .await?;

    // Two units sold on to the pharmacy; two stay at the wholesaler.
    let to_pharmacy_epcs: Vec<Value> = serials[..2].iter().map(|s| unit_epc(s)).collect();
    let (_, to_pharmacy) = result_of(
        scenario,
        &wholesaler,
        "ship",
        json!([
            to_pharmacy_epcs,
            pharmacy.address().to_string(),
            [
                ["po", document("po-2", tag)],
                ["inv", document("inv-2", tag)]
            ],
            wholesaler_gln
        ]),
    )
    .await?;
    let to_pharmacy = as_id(&to_pharmacy)?;
    scenario
        .call(
            &pharmacy,
            Contracts::SUPPLY,
            "receive",
            json!([to_pharmacy.to_string(), to_pharmacy_epcs, pharmacy_gln]),
        )
        .await?;

    // The pharmacy verifies the first unit, then dispenses it against a prescription known on
    // chain by its handle alone.
    let dispensed = &serials[0];
    scenario
        .call(
            &pharmacy,
            Contracts::SUPPLY,
            "verify_recorded",
            json!([GTIN, dispensed, lot, expiry_ms.to_string(), pharmacy_gln]),
        )
        .await?;
    let salt = keccak256_concat(&[b"scenario/supply/rx-salt", &tag.to_be_bytes()]);
    let inner = keccak256_concat(&[b"scenario/supply/patient", &tag.to_be_bytes()]);
    let handle: Hash = keccak256_concat(&[b"salus/rx/v1", &salt.0, NDC.as_bytes(), &inner.0]);
    scenario
        .call(
            &pharmacy,
            Contracts::SUPPLY,
            "prescribe",
            json!([handle.to_string(), 1, (now_ms + 30 * DAY_MS).to_string()]),
        )
        .await?;
    let (_, dispensing) = result_of(
        scenario,
        &pharmacy,
        "dispense",
        json!([
            GTIN,
            dispensed,
            lot,
            expiry_ms.to_string(),
            handle.to_string(),
            salt.to_string(),
            inner.to_string()
        ]),
    )
    .await?;
    if dispensing["dispensed"] != json!(true) {
        bail!("the pharmacy could not dispense {dispensed}: {dispensing}");
    }

    // The second unit looks wrong: the pharmacy quarantines it as suspect; the maker recalls
    // the lot.
    let suspect = &serials[1];
    let (_, case_id) = result_of(
        scenario,
        &pharmacy,
        "suspect",
        json!([[unit_epc(suspect)], SUSPECT_REASON, pharmacy_gln]),
    )
    .await?;
    let investigation = as_id(&case_id)?;
    let (recall_transaction, _) =
        result_of(scenario, &maker, "recall", json!([GTIN, [lot], "ClassII"])).await?;

    let unit_path = |serial: &str| format!("/ui/supply/unit/{GTIN}/{serial}");
    Ok(json!({
        "maker": maker.address().to_string(),
        "wholesaler": wholesaler.address().to_string(),
        "pharmacy": pharmacy.address().to_string(),
        "gtin": GTIN,
        "lot": lot,
        "serials": serials,
        "case": case,
        "locations": { "maker": maker_gln, "wholesaler": wholesaler_gln, "pharmacy": pharmacy_gln },
        "dispensed": dispensed,
        "suspect": suspect,
        "suspect_reason": SUSPECT_REASON,
        "investigation": investigation.to_string(),
        "shipments": [to_wholesaler.to_string(), to_pharmacy.to_string()],
        "recall": { "class": "ClassII", "transaction": recall_transaction },
        "paths": {
            "landing": "/ui/supply",
            "unit": unit_path(dispensed),
            "suspect_unit": unit_path(suspect),
            "lot": format!("/ui/supply/lot/{GTIN}/{lot}"),
            "export": format!("{}/epcis", unit_path(dispensed)),
        },
    }))
}
