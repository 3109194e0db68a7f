//! `salus rx`: prescriptions from the prescriber's and the patient's wallets (docs/PRIVACY.md
//! §5.5 "Supply", [`salus_client::prescription`]) — `prescribe` posts a prescription's handle
//! to the supply contract and writes its copies sealed to the patient and the pharmacy;
//! `open` opens a copy (patient or pharmacy), checks it against its handle and the chain and
//! prints it; `dispense` opens the pharmacy's copy and presents its opening with a unit to the
//! contract's `dispense`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use parity_scale_codec::Decode;
use salus_client::ContractAbi;
use salus_client::prescription::{self, PatientDetails, Prescription, SealedPrescription};
use salus_client::rpc::{CallRequest, SalusApiClient};
use salus_client::x25519_dalek::{PublicKey, StaticSecret};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use super::keys::signer;
use crate::gateway::ledger::{call_input, registered_key};
use crate::gateway::{RpcLedger, reply_secret};

/// How long `salus rx` waits for a transaction's inclusion.
const INCLUSION_TIMEOUT: Duration = super::client::INCLUSION_TIMEOUT;

/// Largest prescription copy read: a few padded blocks of box, in hex, in JSON.
const MAX_COPY_BYTES: u64 = 64 * 1024;

/// What `salus rx prescribe` prescribes and where the copies go.
#[derive(Debug, Clone)]
pub struct PrescribeOptions {
    /// The prescriber's key (a key name or `dev:N`): an active practitioner.
    pub from: String,
    /// The product's NDC as registered in supply.
    pub ndc: String,
    /// Fills allowed.
    pub fills: u32,
    /// Valid until, ms since the epoch.
    pub expires_ms: u64,
    /// The patient.
    pub patient: PatientDetails,
    /// The patient's X25519 key (their pseudonym's with the prescriber: `salus key pseudonym`).
    pub patient_key: [u8; 32],
    /// Where the patient's copy goes (a new file).
    pub out: PathBuf,
    /// The dispensing pharmacy and where its copy goes (a new file), sealed to the pharmacy's
    /// registered encryption key.
    pub pharmacy: Option<(Address, PathBuf)>,
    /// The supply contract.
    pub supply: Address,
    /// The registry contract (the pharmacy's key).
    pub registry: Address,
}

/// `salus rx prescribe`: builds a prescription with fresh salts, writes its copy sealed to the
/// patient's key (and, with a pharmacy, one sealed to the pharmacy's registered key), then posts
/// `prescribe(handle, fills, expires_ms)` signed by the prescriber; returns the handle. The
/// copies are removed again when the prescription is not recorded.
///
/// # Errors
/// When the key cannot be read, the pharmacy has no registered key, a copy cannot be sealed or
/// written (an existing file is never overwritten), or the contract refuses.
pub async fn prescribe(rpc: &str, options: &PrescribeOptions) -> anyhow::Result<Hash> {
    check_patient(&options.patient)?;
    let prescriber = signer(&options.from)?;
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let rx = Prescription::new(
        prescriber.address(),
        options.ndc.clone(),
        options.fills,
        options.expires_ms,
        options.patient.clone(),
    )?;
    let mut copies = vec![(
        rx.seal_to(&PublicKey::from(options.patient_key), 0)?,
        options.out.clone(),
    )];
    if let Some((pharmacy, out)) = &options.pharmacy {
        let key = registered_key(&client, options.registry, *pharmacy)
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "the pharmacy {pharmacy} has no encryption key in the registry \
                     (`salus record reply-key --register`)"
                )
            })?;
        copies.push((
            rx.seal_to(&PublicKey::from(key.public_key), key.version)?,
            out.clone(),
        ));
    }
    let mut written: Vec<&Path> = Vec::new();
    for (copy, out) in &copies {
        if let Err(error) = write_copy(copy, out) {
            remove_all(&written);
            return Err(error);
        }
        written.push(out);
    }
    let handle = rx.handle();
    let ledger = RpcLedger::new(
        client,
        prescriber,
        info.chain_id,
        (options.registry, Address::default()),
        INCLUSION_TIMEOUT,
    );
    let posted = ledger
        .transact(
            options.supply,
            call_input("prescribe", (handle, options.fills, options.expires_ms)),
        )
        .await;
    if let Err(error) = posted {
        remove_all(&written);
        bail!("posting the prescription to supply: {error}");
    }
    Ok(handle)
}

/// Whose secret opens a copy.
#[derive(Debug, Clone)]
pub enum Recipient {
    /// An organisation, practitioner or pharmacy: its registered reply key
    /// ([`reply_secret`], `salus record reply-key`).
    Registered,
    /// A patient: their pseudonym's X25519 key for the relationship with the prescriber
    /// (counterparty, kind, episode).
    Pseudonym(Address, salus_client::RelationshipKind, u32),
}

/// A copy opened and checked: the prescription, and what the chain holds under its handle.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The prescription.
    pub prescription: Prescription,
    /// The chain's record of it (prescriber, fills left, expiry), if it is on chain.
    pub on_chain: Option<OnChain>,
}

/// The supply contract's `Prescription`: no patient and no product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Decode)]
pub struct OnChain {
    /// The practitioner who posted it.
    pub practitioner: Address,
    /// Fills left.
    pub fills_left: u32,
    /// Valid until (ms).
    pub expires_ms: u64,
}

/// `salus rx open`: opens the copy in `file` with `key`'s secret for `recipient` (the chain's
/// genesis hash from the node), checks its content against its handle, and reads the handle's
/// record on chain; a copy whose prescriber is not the practitioner who posted its handle is
/// refused.
///
/// # Errors
/// When the key cannot be read, the node does not answer, the copy does not open or does not
/// open its handle ([`prescription::PrescriptionError`]), or its prescriber is not the
/// chain's.
pub async fn open(
    rpc: &str,
    key: &str,
    recipient: &Recipient,
    file: &Path,
    supply: Address,
) -> anyhow::Result<Opened> {
    let key = signer(key)?;
    let client = super::client::connect(rpc)?;
    let chain = genesis(&client).await?;
    let secret = recipient_secret(&key, recipient, chain);
    let copy = read_copy(file)?;
    let prescription = prescription::open(&secret, &copy)
        .with_context(|| format!("opening {}", file.display()))?;
    let on_chain = on_chain(&client, supply, copy.handle).await?;
    if let Some(record) = on_chain
        && record.practitioner != prescription.prescriber
    {
        bail!(
            "{} names prescriber {}, but {} posted its handle {}",
            file.display(),
            prescription.prescriber,
            record.practitioner,
            copy.handle
        );
    }
    Ok(Opened {
        prescription,
        on_chain,
    })
}

/// An opened copy as JSON (what `salus rx open` prints), with whether `patient`, when given, is
/// the patient it is for.
pub fn opened_json(opened: &Opened, patient: Option<&PatientDetails>) -> Value {
    let rx = &opened.prescription;
    let opening = rx.dispense_opening();
    let mut value = json!({
        "handle": opening.handle.to_string(),
        "prescriber": rx.prescriber.to_string(),
        "ndc": rx.ndc,
        "fills": rx.fills,
        "expiresMs": rx.expires_ms,
        "patient": { "name": rx.patient.name, "birthDate": rx.patient.birth_date },
        "salt": opening.salt.to_string(),
        "inner": opening.inner.to_string(),
        "onChain": opened.on_chain.map(|record| json!({
            "practitioner": record.practitioner.to_string(),
            "fillsLeft": record.fills_left,
            "expiresMs": record.expires_ms,
        })),
    });
    if let Some(patient) = patient {
        value["patientMatches"] = json!(rx.is_for(patient));
    }
    value
}

/// What `salus rx dispense` presents.
#[derive(Debug, Clone)]
pub struct DispenseOptions {
    /// The pharmacy's key (a key name or `dev:N`): an active dispenser, the copy's recipient.
    pub from: String,
    /// The pharmacy's copy.
    pub prescription: PathBuf,
    /// The package: GTIN, serial, lot, expiry (ms).
    pub gtin: String,
    /// Serial number.
    pub serial: String,
    /// Lot.
    pub lot: String,
    /// Expiry, ms since the epoch, as commissioned.
    pub expiry_ms: u64,
    /// The patient in front of the pharmacist, when checked: dispensing stops unless the
    /// prescription is theirs.
    pub patient: Option<PatientDetails>,
    /// The supply contract.
    pub supply: Address,
}

/// A dispense the contract refused (recorded on chain as a decision, not reverted).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the supply contract refused the dispense: {reason}")]
pub struct Refused {
    /// The contract's reason (`PrescriptionMismatch`, `PrescriptionFilled`, a verification
    /// failure, …).
    pub reason: String,
    /// The whole answer, JSON.
    pub answer: Value,
}

/// `salus rx dispense`: opens the pharmacy's copy with its reply key, checks it against its
/// handle (and the patient, when given), and submits `dispense(gtin, serial, lot, expiry_ms,
/// handle, salt, inner)` signed by the pharmacy; the contract's answer (JSON), or [`Refused`]
/// when the contract refused. Whether the unit's product is the prescribed one is the
/// contract's to decide: it recomputes the handle with the unit's NDC.
///
/// # Errors
/// [`Refused`]; as [`open`]; when the patient is not the prescription's, or the transaction
/// fails.
pub async fn dispense(rpc: &str, options: &DispenseOptions) -> anyhow::Result<Value> {
    let opened = open(
        rpc,
        &options.from,
        &Recipient::Registered,
        &options.prescription,
        options.supply,
    )
    .await?;
    if let Some(patient) = &options.patient
        && !opened.prescription.is_for(patient)
    {
        bail!("the prescription is not for this patient");
    }
    let opening = opened.prescription.dispense_opening();
    let pharmacy = signer(&options.from)?;
    let client = super::client::connect(rpc)?;
    let info = client.node_info().await?;
    let abi: ContractAbi = serde_json::from_value(
        client
            .contract_abi(options.supply.to_string())
            .await?
            .ok_or_else(|| anyhow!("{} has no contract ABI on chain", options.supply))?,
    )?;
    let ledger = RpcLedger::new(
        client,
        pharmacy,
        info.chain_id,
        (Address::default(), Address::default()),
        INCLUSION_TIMEOUT,
    );
    let receipt = ledger
        .transact(
            options.supply,
            call_input(
                "dispense",
                (
                    options.gtin.clone(),
                    options.serial.clone(),
                    options.lot.clone(),
                    options.expiry_ms,
                    opening.handle,
                    opening.salt,
                    opening.inner,
                ),
            ),
        )
        .await
        .context("submitting the dispense")?;
    let data = hex::decode(receipt.return_data.trim_start_matches("0x"))?;
    let answer = abi.decode_result("dispense", &data)?;
    if answer["dispensed"] != json!(true) {
        let reason = answer["refusal"]
            .as_str()
            .or(answer["failure_reason"].as_str())
            .unwrap_or("not dispensed")
            .to_string();
        return Err(Refused { reason, answer }.into());
    }
    Ok(answer)
}

/// `YYYY-MM-DD` (00:00 UTC of that day) or ms since the epoch, as ms since the epoch.
///
/// # Errors
/// When it is neither.
pub fn parse_time_ms(text: &str) -> anyhow::Result<u64> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let (year, month, day) = parse_date(text)
        .ok_or_else(|| anyhow!("`{text}` is neither a date YYYY-MM-DD nor ms since the epoch"))?;
    let days = days_from_civil(year, month, day);
    u64::try_from(days)
        .map(|days| days * 86_400_000)
        .map_err(|_| anyhow!("`{text}` is before 1970"))
}

/// A `YYYY-MM-DD` date's year, month and day, when it is one (the day checked against the
/// month's length).
fn parse_date(text: &str) -> Option<(i64, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i64 = text[..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..].parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let length = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=length).contains(&day).then_some((year, month, day))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The patient's details as given: a name, and a real `YYYY-MM-DD` date of birth.
fn check_patient(patient: &PatientDetails) -> anyhow::Result<()> {
    if patient.name.trim().is_empty() {
        bail!("--patient-name is empty");
    }
    if parse_date(&patient.birth_date).is_none() {
        bail!(
            "--patient-birth-date `{}` is not a date YYYY-MM-DD",
            patient.birth_date
        );
    }
    Ok(())
}

/// The node's genesis hash (the chain the reply and pseudonym keys are derived for).
async fn genesis(client: &HttpClient) -> anyhow::Result<Hash> {
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    info.genesis
        .parse()
        .map_err(|error| anyhow!("the node's genesis hash: {error}"))
}

fn recipient_secret(key: &SecretKey, recipient: &Recipient, chain: Hash) -> StaticSecret {
    match recipient {
        Recipient::Registered => reply_secret(key, &chain),
        Recipient::Pseudonym(counterparty, kind, episode) => {
            salus_client::derive_pseudonym(
                key,
                salus_client::Relationship {
                    chain,
                    counterparty: *counterparty,
                    kind: *kind,
                    episode: *episode,
                },
            )
            .encryption
        }
    }
}

/// The supply contract's record of `handle` (its `prescription` view).
async fn on_chain(
    client: &HttpClient,
    supply: Address,
    handle: Hash,
) -> anyhow::Result<Option<OnChain>> {
    let request = CallRequest {
        contract: supply.to_string(),
        input: format!("0x{}", hex::encode(call_input("prescription", handle))),
        ..CallRequest::default()
    };
    let outcome = client.state_call(request).await?;
    if outcome.status != "success" {
        bail!(
            "the supply contract's prescription view failed: {}",
            outcome.failure.unwrap_or(outcome.status)
        );
    }
    let data = hex::decode(outcome.return_data.trim_start_matches("0x"))?;
    Option::<OnChain>::decode(&mut &data[..])
        .map_err(|error| anyhow!("the supply contract's prescription does not decode: {error}"))
}

/// Writes a copy to a new private file (mode 0600).
fn write_copy(copy: &SealedPrescription, out: &Path) -> anyhow::Result<()> {
    crate::keystore::write_private_file(out, copy.to_json().to_string().as_bytes())
        .with_context(|| format!("writing {} (it must not exist)", out.display()))
}

fn remove_all(paths: &[&Path]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// A copy from its file.
fn read_copy(file: &Path) -> anyhow::Result<SealedPrescription> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(file)
        .and_then(|opened| opened.take(MAX_COPY_BYTES + 1).read_to_end(&mut text))
        .with_context(|| format!("reading {}", file.display()))?;
    if text.len() as u64 > MAX_COPY_BYTES {
        bail!("{} is larger than a prescription copy", file.display());
    }
    let value: Value = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a prescription copy (JSON)", file.display()))?;
    Ok(SealedPrescription::from_json(&value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_utc_and_numbers_are_ms() {
        assert_eq!(parse_time_ms("1970-01-01").unwrap(), 0);
        assert_eq!(parse_time_ms("2000-03-01").unwrap(), 951_868_800_000);
        assert_eq!(parse_time_ms("2024-02-29").unwrap(), 1_709_164_800_000);
        assert_eq!(parse_time_ms("1234").unwrap(), 1234);
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "1969-12-31",
            "soon",
        ] {
            assert!(parse_time_ms(bad).is_err(), "{bad}");
        }
    }
}
