//! The load generator's workloads: the set-up a dev chain needs (funding, registry entries,
//! records, consents, products, commissioned units) as waves of signed transactions, and the
//! load itself — plain transfers, consent `record_access` and `can_access` calls, or supply
//! `ship` calls — pre-signed from many accounts with real keys.

use std::collections::HashMap;

use anyhow::{Context, bail};
use salus_client::ContractAbi;
use salus_client::pseudonym::{
    PseudonymKeys, Relationship, RelationshipKind, blinded_tag, derive_pseudonym,
};
use salus_node::genesis::{
    DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS, DEV_SUPPLY_ADDRESS, GenesisConfig,
};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Action, Address, SecretKey, SignedTransaction, Transaction, keccak256};
use serde_json::{Value, json};

/// Most transactions of one sender in one set-up wave: below the pool's nonce window (64).
const WAVE_PER_SENDER: usize = 60;
/// Most fuel one set-up wave reserves: well inside one dev block.
const WAVE_FUEL: u64 = 800_000_000;
/// Fuel limit of set-up contract calls but commissioning.
const SETUP_CALL_FUEL: u64 = 5_000_000;
/// Fuel limit of commissioning 500 units (about 60,000 fuel a unit).
const COMMISSION_FUEL: u64 = 40_000_000;
/// Fuel limit of a funding transfer.
const FUNDING_FUEL: u64 = 50_000;
/// Agents listed per consent (the consent contract's limit on a criterion list is 16).
const AGENTS_PER_PATIENT: usize = 10;
/// Units commissioned by one `commission` call (the supply contract's limit is 500).
const UNITS_PER_COMMISSION: usize = 500;
/// Senders of the supply workload: manufacturers, each with its own product.
const MANUFACTURERS: usize = 200;
/// Far in the future (2100-01-01): registrations, consents and expiry never lapse in a run.
const FAR_FUTURE_MS: u64 = 4_102_444_800_000;

/// What the load transactions do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Native transfers between accounts.
    Transfer,
    /// Consent decisions: `record_access` (decided and written to the audit trail) alternating
    /// with `can_access` (decided, read only), each by an agent a patient's consent names.
    Consent,
    /// Supply chain: a manufacturer ships one serialised unit to a wholesaler (DSCSA
    /// transaction information, an EPCIS event, ownership in transit).
    Supply,
}

impl std::str::FromStr for WorkloadKind {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        match text {
            "transfer" => Ok(WorkloadKind::Transfer),
            "consent" => Ok(WorkloadKind::Consent),
            "supply" => Ok(WorkloadKind::Supply),
            other => bail!("unknown workload {other}: transfer, consent or supply"),
        }
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            WorkloadKind::Transfer => "transfer",
            WorkloadKind::Consent => "consent",
            WorkloadKind::Supply => "supply",
        })
    }
}

/// A workload: its set-up and a way to make its `index`-th load action.
pub struct Workload {
    /// The kind.
    pub kind: WorkloadKind,
    /// Set-up phases in order; a phase's transactions need the previous phases in blocks.
    pub setup: Vec<Vec<SignedTransaction>>,
    /// The load's senders; load transaction `i` is sent by `senders[i % senders.len()]`.
    pub senders: Vec<SecretKey>,
    /// Each sender's nonce after the set-up (manufacturers send set-up transactions too).
    first_nonces: Vec<u64>,
    calls: Calls,
}

enum Calls {
    Transfer,
    Consent {
        abi: ContractAbi,
        /// The record each sender (an agent) asks about: its patient's.
        records: Vec<String>,
    },
    Supply {
        abi: ContractAbi,
        gtins: Vec<String>,
        buyer: Address,
    },
}

/// A deterministic key: keccak256 of a label and an index.
fn load_key(label: &str, index: usize) -> anyhow::Result<SecretKey> {
    let seed = keccak256(format!("salus load {label} {index}").as_bytes());
    SecretKey::from_bytes(&seed.0).context("a load key")
}

/// Signs set-up transactions, tracking each sender's nonce across phases.
struct Signer {
    nonces: HashMap<Address, u64>,
    /// Fuel limit of the next transactions.
    fuel: u64,
}

impl Signer {
    fn sign(&mut self, key: &SecretKey, action: Action) -> SignedTransaction {
        let nonce = self.nonces.entry(key.address()).or_insert(0);
        let transaction = Transaction {
            chain_id: DEV_CHAIN_ID,
            nonce: *nonce,
            fuel_limit: self.fuel,
            fuel_price: 1,
            action,
            sponsor: None,
        }
        .sign(key, None);
        *nonce += 1;
        transaction
    }

    fn call(
        &mut self,
        key: &SecretKey,
        contract: Address,
        abi: &ContractAbi,
        message: &str,
        arguments: Value,
    ) -> anyhow::Result<SignedTransaction> {
        let input = abi
            .encode_call(message, &arguments)
            .with_context(|| format!("encoding {message}"))?;
        Ok(self.sign(
            key,
            Action::Call {
                contract,
                input,
                value: 0,
            },
        ))
    }
}

fn dev_keys() -> anyhow::Result<Vec<SecretKey>> {
    Ok((0..10)
        .map(|index| derive_key(DEV_MNEMONIC, index))
        .collect::<Result<_, _>>()?)
}

/// Transfers from the ten dev accounts giving each of `accounts` enough for a long run.
fn funding(signer: &mut Signer, accounts: &[Address]) -> anyhow::Result<Vec<SignedTransaction>> {
    let dev = dev_keys()?;
    let fuel = std::mem::replace(&mut signer.fuel, FUNDING_FUEL);
    let transfers = accounts
        .iter()
        .enumerate()
        .map(|(index, to)| {
            signer.sign(
                &dev[index % dev.len()],
                Action::Transfer {
                    to: *to,
                    amount: 10u128.pow(21),
                },
            )
        })
        .collect();
    signer.fuel = fuel;
    Ok(transfers)
}

/// The registry authority (dev account 0) registers `who` in `role`.
fn register(
    signer: &mut Signer,
    registry: &ContractAbi,
    who: Address,
    role: &str,
) -> anyhow::Result<SignedTransaction> {
    signer.call(
        &dev_keys()?[0],
        DEV_REGISTRY_ADDRESS,
        registry,
        "register",
        json!([
            who.to_string(),
            [role],
            null,
            "0614141000012",
            // Every maker's GTIN carries `03` and the labeler code `50000` (`product_codes`).
            (role == "Manufacturer").then_some("0350000"),
            "0",
            FAR_FUTURE_MS.to_string(),
            format!("0x{}", "11".repeat(32))
        ]),
    )
}

/// A GTIN-14 (indicator 0, "03", the 10-digit NDC, GS1 check digit) and the NDC it embeds.
fn product_codes(index: usize) -> (String, String) {
    let digits = format!("{:010}", 5_000_000_000u64 + index as u64);
    let ndc = format!("{}-{}-{}", &digits[..5], &digits[5..8], &digits[8..]);
    let body = format!("003{digits}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, digit)| u32::from(digit - b'0') * if position % 2 == 0 { 3 } else { 1 })
        .sum();
    (format!("{body}{}", (10 - sum % 10) % 10), ndc)
}

impl Workload {
    /// Plans `kind` for `accounts` load senders (transfers and consent) and `transactions`
    /// load transactions (supply commissions one unit per shipment).
    ///
    /// # Errors
    /// If a contract's ABI cannot be read or an argument does not encode.
    pub fn plan(kind: WorkloadKind, accounts: usize, transactions: u64) -> anyhow::Result<Self> {
        let mut signer = Signer {
            nonces: HashMap::new(),
            fuel: SETUP_CALL_FUEL,
        };
        let mut workload = Self::plan_with(&mut signer, kind, accounts, transactions)?;
        workload.first_nonces = workload
            .senders
            .iter()
            .map(|key| signer.nonces.get(&key.address()).copied().unwrap_or(0))
            .collect();
        Ok(workload)
    }

    fn plan_with(
        signer: &mut Signer,
        kind: WorkloadKind,
        accounts: usize,
        transactions: u64,
    ) -> anyhow::Result<Self> {
        let registry = ContractAbi::from_wasm(salus_contracts::REGISTRY)?;
        match kind {
            WorkloadKind::Transfer => {
                let senders: Vec<SecretKey> = (0..accounts)
                    .map(|index| load_key("sender", index))
                    .collect::<Result<_, _>>()?;
                let addresses: Vec<Address> = senders.iter().map(SecretKey::address).collect();
                Ok(Workload {
                    kind,
                    setup: vec![funding(signer, &addresses)?],
                    senders,
                    first_nonces: Vec::new(),
                    calls: Calls::Transfer,
                })
            }
            WorkloadKind::Consent => {
                let consent = ContractAbi::from_wasm(salus_contracts::CONSENT)?;
                let agents: Vec<SecretKey> = (0..accounts)
                    .map(|index| load_key("agent", index))
                    .collect::<Result<_, _>>()?;
                let patients: Vec<SecretKey> = (0..accounts.div_ceil(AGENTS_PER_PATIENT))
                    .map(|index| load_key("patient", index))
                    .collect::<Result<_, _>>()?;
                let hospital = load_key("hospital", 0)?;
                // Each patient acts at the hospital under its pseudonym for that relationship,
                // derived by its wallet (PRIVACY.md §5.1), never its own address: the pseudonym
                // signs its consents, the hospital indexes its records under it, and its
                // blinding key blinds the tags and the subject handle.
                let chain = GenesisConfig::dev()
                    .build()
                    .context("the dev genesis (pseudonyms are bound to the chain)")?
                    .header
                    .hash();
                let pseudonyms: Vec<PseudonymKeys> = patients
                    .iter()
                    .map(|patient| {
                        derive_pseudonym(
                            patient,
                            Relationship {
                                chain,
                                counterparty: hospital.address(),
                                kind: RelationshipKind::Custodian,
                                episode: 0,
                            },
                        )
                    })
                    .collect();
                let mut everyone: Vec<Address> = agents.iter().map(SecretKey::address).collect();
                everyone.extend(pseudonyms.iter().map(PseudonymKeys::address));
                everyone.push(hospital.address());
                let fund = funding(signer, &everyone)?;
                let mut hospital_registration = vec![register(
                    signer,
                    &registry,
                    hospital.address(),
                    "ProviderOrganisation",
                )?];
                // The consent contract attests an agent's role (ATND) in the registry.
                for agent in &agents {
                    hospital_registration.push(register(
                        signer,
                        &registry,
                        agent.address(),
                        "Practitioner",
                    )?);
                }
                let records: Vec<String> = (0..patients.len())
                    .map(|index| format!("0x{}", hex::encode(keccak256(&index.to_le_bytes()).0)))
                    .collect();
                // Labels and class go on chain as tags blinded with the relationship's key, the
                // date as a commitment (PRIVACY.md §5.4); each pseudonym files its subject
                // handle first, so its consent's events carry it (§5.7).
                let mut indexing = Vec::new();
                for (record, pseudonym) in records.iter().zip(&pseudonyms) {
                    let blinding = &pseudonym.blinding;
                    let mut label_tags: Vec<String> = (0u8..3)
                        .map(|n| keccak256(&[record.as_bytes(), &[n]].concat()).to_string())
                        .collect();
                    label_tags.push(blinded_tag(blinding, "N").to_string());
                    label_tags.sort();
                    let class_tag = blinded_tag(blinding, "Observation").to_string();
                    let date = keccak256(&[b"date".as_slice(), record.as_bytes()].concat());
                    indexing.push(signer.call(
                        &hospital,
                        DEV_CONSENT_ADDRESS,
                        &consent,
                        "register_record",
                        json!([
                            record,
                            pseudonym.address().to_string(),
                            label_tags,
                            class_tag,
                            date.to_string(),
                            hospital.address().to_string(),
                            pseudonym.subject_handle().to_string()
                        ]),
                    )?);
                    indexing.push(signer.call(
                        &pseudonym.signing,
                        DEV_CONSENT_ADDRESS,
                        &consent,
                        "set_subject",
                        json!([
                            pseudonym.address().to_string(),
                            pseudonym.subject_handle().to_string()
                        ]),
                    )?);
                }
                let mut grants = Vec::new();
                for (index, pseudonym) in pseudonyms.iter().enumerate() {
                    let actors: Vec<String> = agents
                        .iter()
                        .skip(index * AGENTS_PER_PATIENT)
                        .take(AGENTS_PER_PATIENT)
                        .map(|agent| agent.address().to_string())
                        .collect();
                    let class_tag = pseudonym.tag("Observation").to_string();
                    grants.push(signer.call(
                        &pseudonym.signing,
                        DEV_CONSENT_ADDRESS,
                        &consent,
                        "grant",
                        json!([
                            pseudonym.address().to_string(),
                            "patient-privacy",
                            "59284-0",
                            { "start_ms": "0", "end_ms": FAR_FUTURE_MS.to_string() },
                            "Deny",
                            [{
                                "kind": "Permit",
                                "period": null,
                                "actors": actors,
                                "roles": [],
                                "actions": ["Access"],
                                "purposes": ["TREAT"],
                                "label_tags": [],
                                "class_tags": [class_tag],
                                "records": [],
                                "data_period_commitment": null,
                                "children": [],
                                "custodians": [],
                                "authors": [],
                            }],
                            format!("0x{}", "22".repeat(32)),
                            null
                        ]),
                    )?);
                }
                let agent_records = (0..agents.len())
                    .map(|index| records[index / AGENTS_PER_PATIENT].clone())
                    .collect();
                Ok(Workload {
                    kind,
                    setup: vec![fund, hospital_registration, indexing, grants],
                    senders: agents,
                    first_nonces: Vec::new(),
                    calls: Calls::Consent {
                        abi: consent,
                        records: agent_records,
                    },
                })
            }
            WorkloadKind::Supply => {
                let supply = ContractAbi::from_wasm(salus_contracts::SUPPLY)?;
                let makers: Vec<SecretKey> = (0..MANUFACTURERS)
                    .map(|index| load_key("manufacturer", index))
                    .collect::<Result<_, _>>()?;
                let buyer = load_key("wholesaler", 0)?.address();
                let addresses: Vec<Address> = makers.iter().map(SecretKey::address).collect();
                let fund = funding(signer, &addresses)?;
                let mut registrations =
                    vec![register(signer, &registry, buyer, "WholesaleDistributor")?];
                for maker in &addresses {
                    registrations.push(register(signer, &registry, *maker, "Manufacturer")?);
                }
                let gtins: Vec<String> = (0..makers.len()).map(|i| product_codes(i).0).collect();
                let mut products = Vec::new();
                for (index, maker) in makers.iter().enumerate() {
                    let (gtin, ndc) = product_codes(index);
                    products.push(signer.call(
                        maker,
                        DEV_SUPPLY_ADDRESS,
                        &supply,
                        "register_product",
                        json!([gtin, ndc, "Amoxicillin", "500 mg", "capsule", "30"]),
                    )?);
                }
                let per_maker = transactions.div_ceil(makers.len() as u64) as usize;
                let mut commissions = Vec::new();
                signer.fuel = COMMISSION_FUEL;
                for (index, maker) in makers.iter().enumerate() {
                    for first in (0..per_maker).step_by(UNITS_PER_COMMISSION) {
                        let serials: Vec<String> = (first
                            ..(first + UNITS_PER_COMMISSION).min(per_maker))
                            .map(|serial| format!("S{serial}"))
                            .collect();
                        commissions.push(signer.call(
                            maker,
                            DEV_SUPPLY_ADDRESS,
                            &supply,
                            "commission",
                            json!([
                                gtins[index],
                                format!("L{}", first / UNITS_PER_COMMISSION),
                                FAR_FUTURE_MS.to_string(),
                                serials,
                                "urn:gln:maker"
                            ]),
                        )?);
                    }
                }
                Ok(Workload {
                    kind,
                    setup: vec![fund, registrations, products, commissions],
                    senders: makers,
                    first_nonces: Vec::new(),
                    calls: Calls::Supply {
                        abi: supply,
                        gtins,
                        buyer,
                    },
                })
            }
        }
    }

    /// The action of load transaction `index` (sent by `senders[index % senders.len()]`).
    ///
    /// # Errors
    /// If the call's arguments do not encode.
    pub fn action(&self, index: u64) -> anyhow::Result<Action> {
        let sender = (index % self.senders.len() as u64) as usize;
        let round = index / self.senders.len() as u64;
        let call = |contract: Address, abi: &ContractAbi, message: &str, arguments: Value| {
            Ok::<_, anyhow::Error>(Action::Call {
                contract,
                input: abi.encode_call(message, &arguments)?,
                value: 0,
            })
        };
        match &self.calls {
            Calls::Transfer => Ok(Action::Transfer {
                to: Address([0x77; 20]),
                amount: 1,
            }),
            Calls::Consent { abi, records } => {
                let agent = self.senders[sender].address().to_string();
                if index.is_multiple_of(2) {
                    call(
                        DEV_CONSENT_ADDRESS,
                        abi,
                        "record_access",
                        json!([
                            agent,
                            "ATND",
                            records[sender],
                            "Access",
                            "TREAT",
                            null,
                            null
                        ]),
                    )
                } else {
                    call(
                        DEV_CONSENT_ADDRESS,
                        abi,
                        "can_access",
                        json!([
                            agent,
                            "ATND",
                            "Access",
                            records[sender],
                            "TREAT",
                            null,
                            null
                        ]),
                    )
                }
            }
            Calls::Supply { abi, gtins, buyer } => call(
                DEV_SUPPLY_ADDRESS,
                abi,
                "ship",
                json!([
                    [{ "Unit": [gtins[sender], format!("S{round}")] }],
                    buyer.to_string(),
                    [],
                    "urn:gln:dock"
                ]),
            ),
        }
    }

    /// How many kinds of load call the workload cycles through: load transaction `index` is
    /// of kind `index % call_kinds()` (consent alternates `record_access` and `can_access`).
    pub fn call_kinds(&self) -> u64 {
        match self.calls {
            Calls::Consent { .. } => 2,
            Calls::Transfer | Calls::Supply { .. } => 1,
        }
    }

    /// Load transaction `index`, signed by its sender (nonces follow the round-robin order, so
    /// `load(0..n)` is a valid sequence), with the fuel limit of its kind: `fuel_limits[index %
    /// fuel_limits.len()]` (one limit for all, or one per kind of call).
    ///
    /// # Errors
    /// If the call's arguments do not encode.
    pub fn load(&self, index: u64, fuel_limits: &[u64]) -> anyhow::Result<SignedTransaction> {
        let position = (index % self.senders.len() as u64) as usize;
        let sender = &self.senders[position];
        Ok(Transaction {
            chain_id: DEV_CHAIN_ID,
            nonce: self.first_nonces[position] + index / self.senders.len() as u64,
            fuel_limit: fuel_limits[(index % fuel_limits.len() as u64) as usize],
            fuel_price: 1,
            action: self.action(index)?,
            sponsor: None,
        }
        .sign(sender, None))
    }

    /// `count` load transactions from index 0, signed on every core.
    ///
    /// # Errors
    /// If a call's arguments do not encode.
    pub fn presign(
        &self,
        count: u64,
        fuel_limits: &[u64],
    ) -> anyhow::Result<Vec<SignedTransaction>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from) as u64;
        let chunk = count.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..count)
                .step_by(chunk as usize)
                .map(|start| {
                    scope.spawn(move || {
                        (start..(start + chunk).min(count))
                            .map(|index| self.load(index, fuel_limits))
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count as usize);
            for part in parts {
                all.extend(part.join().expect("a signing thread")?);
            }
            Ok(all)
        })
    }
}

/// Splits a set-up phase into waves that fit one block and the pool's nonce window.
pub fn waves(phase: &[SignedTransaction]) -> Vec<Vec<SignedTransaction>> {
    let mut waves: Vec<Vec<SignedTransaction>> = Vec::new();
    let mut per_sender: HashMap<Address, usize> = HashMap::new();
    let mut fuel = 0u64;
    for transaction in phase {
        let sender = transaction
            .verify_signatures()
            .map(|signers| signers.sender)
            .unwrap_or_default();
        let count = per_sender.get(&sender).copied().unwrap_or(0);
        if waves.is_empty()
            || count >= WAVE_PER_SENDER
            || fuel + transaction.transaction.fuel_limit > WAVE_FUEL
        {
            waves.push(Vec::new());
            per_sender.clear();
            fuel = 0;
        }
        *per_sender.entry(sender).or_insert(0) += 1;
        fuel += transaction.transaction.fuel_limit;
        waves.last_mut().expect("a wave").push(transaction.clone());
    }
    waves
}
