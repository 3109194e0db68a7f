//! The `salus` command line's shape: its subcommands, flags and help, parsed by clap and handed
//! to `salus_node::commands`, which does the work.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};
use salus_node::commands::{
    agent, bench, client, dev, gateway, import_blocks, inspect, keys, node, pseudonyms, record, rx,
    verify_chain, verify_decision,
};

/// jemalloc instead of glibc's allocator, for Rust and (unprefixed `malloc`) RocksDB's C++ alike:
/// RocksDB's flushes and compactions allocate large buffers on their own threads, and glibc's
/// per-thread arenas kept that memory, so a busy node's resident memory rose for as long as it
/// ran.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Salus: a WebAssembly smart-contract platform for healthcare on a proof-of-work ledger.
#[derive(Parser)]
#[command(name = "salus", version)]
struct Cli {
    /// Cookie file of the node the client commands talk to; its token is sent as
    /// `Authorization: Bearer` (needed by operator methods). Default: `.cookie` in `salus dev`'s
    /// data directory ($SALUS_DATA_DIR or ~/.salus/dev), when it exists and the RPC endpoint is
    /// on this machine.
    #[arg(long, global = true, env = "SALUS_RPC_COOKIE")]
    rpc_cookie: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a single-node development chain with funded dev accounts.
    ///
    /// The chain lives in a data directory (default ~/.salus/dev) and continues where it stopped
    /// when started again. Dev accounts come from the public test mnemonic
    /// "test test … junk": never use them on a real network.
    ///
    /// Example: salus dev --block-time-ms 500
    Dev(dev::DevOptions),
    /// Load a dev chain with a small healthcare story, as real signed transactions from the
    /// dev accounts: consents, delegations, break-glass and a refused access; a drug unit from
    /// commissioning to dispensing, and a recalled lot; preauthorizations decided, pended and
    /// overdue. Then open the console (http://127.0.0.1:8650/ui/) to look at it. Prints the ids
    /// it made as JSON.
    ///
    /// Example: scripts/dev.sh & salus scenario
    Scenario {
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Run a full node from a TOML config file, with environment variables and flags
    /// overriding it.
    ///
    /// Example: salus node --config /etc/salus/node.toml --mine --miner 0x…
    Node(node::NodeSettings),
    /// Measure end-to-end throughput and latency: the load generator (see `salus bench --help`).
    ///
    /// Runs the `load-generator` binary built beside `salus` (cargo build --release --bin
    /// load-generator), passing every argument on.
    ///
    /// Example: salus bench --workload consent --rate max --seconds 20
    #[command(disable_help_flag = true)]
    Bench {
        /// Arguments of the load generator.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
    /// Manage signing keys (files in ~/.salus/keys, or $SALUS_KEYS, readable only by you),
    /// encrypted under a password unless --insecure-plaintext; Ethereum keystore v3 import and
    /// export.
    ///
    /// Example: salus key new --name clinic
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign and submit a transaction, wait for inclusion, print the decoded receipt and events.
    ///
    /// `--from` takes a key name (see `salus key`) or `dev:N` (dev mnemonic key N); an
    /// encrypted key's password comes from SALUS_KEY_PASSWORD_FILE, SALUS_KEY_PASSWORD or a
    /// prompt.
    ///
    /// Example: salus tx call --from dev:1 --contract 0x… --message increment --args '[5]'
    #[command(subcommand)]
    Tx(TxCommand),
    /// Dry-run a contract message at the head: result and fuel per host function, nothing
    /// committed.
    ///
    /// With --from, the request is signed by that key and runs as it (views that check their
    /// caller answer only a signed request); without, it runs as the zero address.
    ///
    /// Example: salus call --from dev:1 --contract 0x… --message get
    Call {
        /// The caller, who signs: a key name or dev:N (an address cannot sign). Default:
        /// unsigned, as the zero address.
        #[arg(long)]
        from: Option<String>,
        /// The contract.
        #[arg(long)]
        contract: String,
        /// The message.
        #[arg(long)]
        message: String,
        /// JSON arguments: an array in order or an object by name.
        #[arg(long, default_value = "[]")]
        args: String,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Read chain data: `account ADDRESS`, `block NUMBER|HASH`, `receipt HASH`,
    /// `storage CONTRACT KEYHEX`.
    ///
    /// Example: salus query account 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
    Query {
        /// account, block, receipt or storage.
        what: String,
        /// The address, block or hash.
        target: String,
        /// For storage: the key, hex.
        key: Option<String>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// List a contract's events as a table, decoded through its on-chain ABI.
    ///
    /// Example: salus events --contract 0x… --topic '*' --topic 0x…patient-topic --from 100
    Events {
        /// The contract.
        #[arg(long)]
        contract: String,
        /// Required topics by position (`*` for any).
        #[arg(long)]
        topic: Vec<String>,
        /// First block.
        #[arg(long)]
        from: Option<u64>,
        /// Last block.
        #[arg(long)]
        to: Option<u64>,
        /// Most events to list.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Print a contract's ABI, from a deployed address or a .wasm file.
    ///
    /// Example: salus abi contracts/target/…/counter.wasm
    Abi {
        /// Contract address or .wasm file.
        target: String,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Import blocks from a file (SCALE-encoded `Vec<Block>`), printing one line per block.
    ///
    /// Blocks already stored are skipped, so an interrupted import can simply be run again.
    ///
    /// Example: salus import-blocks --data-dir ./chain blocks.scale
    ImportBlocks {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: PathBuf,
        /// Genesis file (JSON); default: the dev chain's genesis.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// The file of blocks.
        file: PathBuf,
    },
    /// Re-check every stored block (hashes, links, proof of work, roots, re-execution) and the
    /// head state; names the first block that fails.
    ///
    /// Example: salus verify-chain --data-dir ~/.salus/dev
    VerifyChain {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Seal a file to a recipient's X25519 key (docs/PRIVACY.md §5.2): only the holder of the
    /// secret opens it, and only with the same associated data (the commitment or request it
    /// answers). The box goes point to point, never on chain.
    ///
    /// Example: salus seal --to-key 0x… --aad 0x…commitment report.pdf --out report.sealed
    Seal {
        /// The recipient's X25519 public key (`salus key pseudonym` prints a pseudonym's; the
        /// registry's `encryption_key` view holds an organisation's).
        #[arg(long, value_name = "0xKEY")]
        to_key: salus_primitives::Hash,
        /// The version of the recipient's key (its registry version; 0 for a pseudonym's).
        #[arg(long, default_value_t = 0)]
        key_version: u32,
        /// Associated data, hex: what the box is bound to.
        #[arg(long, value_name = "HEX", default_value = "")]
        aad: String,
        /// The file to seal; `-` reads stdin.
        file: PathBuf,
        /// Where to write the box (a new file, readable only by you); default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Open a box sealed to one of a key's pseudonyms (`salus seal`), with that relationship's
    /// X25519 key and the associated data it was sealed with.
    ///
    /// Example: salus open --key alice --counterparty 0x… --kind custodian report.sealed
    Open {
        /// The key: a key name, or dev:N.
        #[arg(long)]
        key: String,
        /// The organisation of the relationship.
        #[arg(long)]
        counterparty: salus_primitives::Address,
        /// The kind of relationship: `custodian` or `payer`.
        #[arg(long, value_parser = ["custodian", "payer"])]
        kind: String,
        /// Episode.
        #[arg(long, default_value_t = 0)]
        episode: u32,
        /// The chain's genesis hash; default: the dev chain's.
        #[arg(long)]
        chain: Option<salus_primitives::Hash>,
        /// Associated data, hex, as given to `salus seal`.
        #[arg(long, value_name = "HEX", default_value = "")]
        aad: String,
        /// The box; `-` reads stdin.
        file: PathBuf,
        /// Where to write the payload (a new file, readable only by you); default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Look at a data directory the way an operator of any node can: raw, every byte.
    #[command(subcommand)]
    Inspect(InspectCommand),
    /// Serve a custodian's FHIR R4 JSON records over HTTP to requesters the consent contract
    /// permits (docs/PRIVACY.md §5.6): each release is recorded on chain (`record_disclosure`,
    /// signed by --key) before the record goes out, sealed to the requester's key.
    ///
    /// Example: salus gateway --data-dir ./gw --store ./records --listen 127.0.0.1:8700 --key
    /// hospital
    Gateway {
        /// The gateway's directory: the signed requests it answered (`requests/`).
        #[arg(long)]
        data_dir: PathBuf,
        /// The record store (`salus record put --store`).
        #[arg(long)]
        store: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8700")]
        listen: std::net::SocketAddr,
        /// The custodian's key (a key name or dev:N): signs the disclosures.
        #[arg(long)]
        key: String,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        /// The consent contract; default: the dev chain's.
        #[arg(long)]
        consent: Option<salus_primitives::Address>,
        /// Seconds a disclosure may take to be included before the request fails.
        #[arg(long, default_value_t = 60)]
        inclusion_timeout_s: u64,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Records through a custodian's gateway: store and register one (`put`), keep a consent's
    /// data period for date answers (`period`), fetch one (`get`), the key replies are sealed
    /// to (`reply-key`).
    #[command(subcommand)]
    Record(RecordCommand),
    /// GS1 EPCIS 2.0 (JSON-LD) documents in and out of the supply contract (docs/interop.md):
    /// `import` maps a document's events to supply calls, checked whole before any is sent;
    /// `export` writes a unit's or a lot's history as an EPCIS document.
    #[command(subcommand)]
    Epcis(EpcisCommand),
    /// HL7 FHIR R4 resources in and out of the consent contract (docs/interop.md): `import
    /// consent` maps a Consent to a consent call, refusing what the contract cannot express;
    /// `export consent` writes one back; `export audit` writes a patient's accounting of
    /// disclosures as a Bundle of AuditEvents; `export preauth` a sealed preauthorization's
    /// posted decision as a ClaimResponse.
    #[command(subcommand)]
    Fhir(FhirCommand),
    /// Prescriptions (docs/PRIVACY.md §5.5 "Supply"): the prescriber posts a handle and hands
    /// out sealed copies (`prescribe`), the patient or pharmacy opens one (`open`), the pharmacy
    /// dispenses against it (`dispense`). The chain never holds the patient or the NDC beside
    /// the prescription.
    #[command(subcommand)]
    Rx(RxCommand),
    /// Agents that act for a participant (docs/PRIVACY.md §5.5): `payer` decides sealed
    /// preauthorizations and checks sealed claims with the published rules; `review` posts a
    /// clinician reviewer's decision on a pended line.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Check a decision the payer's agent posted for a sealed preauthorization: recompute its
    /// commitments from the plaintext submission, the payer's records and the salts, rerun the
    /// rules of the rule set version it names; prints `match: …` or `differs: …` (and fails).
    ///
    /// Example: salus verify-decision --trace 0x… --submission sub.json --records payer.json
    /// --salts 0x….salts.json --key provider
    VerifyDecision {
        /// The request's trace handle (with --claim, the claim's handle).
        #[arg(long)]
        trace: salus_primitives::Hash,
        /// Verify the claim check posted for the handle: --submission is the plaintext claim,
        /// --records the inputs the agent wrote beside its salts (`<claim hex>.inputs.json`).
        #[arg(long)]
        claim: bool,
        /// The plaintext submission (JSON, as sealed by the provider).
        #[arg(long)]
        submission: PathBuf,
        /// The payer's records (JSON) the decision read.
        #[arg(long)]
        records: PathBuf,
        /// The salts (JSON: submission, inputs, outcome), as the agent wrote them.
        #[arg(long)]
        salts: PathBuf,
        /// Who reads the request (a key name or dev:N): the requester, the member, the payer
        /// or a reviewer.
        #[arg(long)]
        key: String,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// The payer's agent: polls the coverage contract for sealed preauthorizations addressed to
    /// the payer, opens each from --inbox (`<handle hex>.sealed`, sealed to the payer's
    /// registered reply key), checks it against its commitment on chain, decides every line
    /// with the published rules against --records and posts the decision with its
    /// commitments; the salts go beside the submission (`<handle hex>.salts.json`).
    ///
    /// Example: salus agent payer --key payer --inbox ./inbox --records payer.json --once
    Payer {
        /// The payer's key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// Where providers deliver sealed submissions.
        #[arg(long)]
        inbox: PathBuf,
        /// The payer's coverage facts and benefits per member (JSON).
        #[arg(long)]
        records: PathBuf,
        /// Process what is pending and exit.
        #[arg(long)]
        once: bool,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        /// Seconds a decision may take to be included.
        #[arg(long, default_value_t = 60)]
        inclusion_timeout_s: u64,
        /// After each pass, post the per-code metrics (`post_metrics`, docs/PRIVACY.md §5.5)
        /// of the last period that has ended, once: `month` (calendar months, UTC), `day`, or
        /// a length in ms. The decisions counted and their salt go to the inbox
        /// (`metrics-<start ms>.json`).
        #[arg(long)]
        metrics_period: Option<salus_node::agent::metrics::MetricsPeriod>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// A payer's reviewer decides a pended line of a sealed request: posts `post_decision`
    /// with the action, reason code and units for that line, under the rule set and inputs
    /// commitment the agent posted with, and a new outcome commitment (its salt printed).
    /// Adverse actions (A2, A3, A6) only by a reviewer the registry attests as a clinician.
    ///
    /// Example: salus agent review --key nurse --trace 0x… --line 2 --action A3 --reason 0R
    Review {
        /// The reviewer's key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// The request's trace handle.
        #[arg(long)]
        trace: salus_primitives::Hash,
        /// The pended line, from 1.
        #[arg(long)]
        line: u32,
        /// X12 HCR01 action: A1, A2, A3 or A6.
        #[arg(long)]
        action: String,
        /// The reason code, from the rule set's table (A2, A3, A6).
        #[arg(long)]
        reason: Option<String>,
        /// Units certified (A1, A2, A6).
        #[arg(long, default_value_t = 0)]
        quantity: u32,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Store a FHIR R4 JSON resource in a custodian's store under a new random handle and
    /// register it with the consent contract (signed by --key); prints the handle.
    ///
    /// Example: salus record put --store ./records --key hospital --patient 0x… --blinding 0x… --labels N
    /// --class Observation lab.json
    Put {
        /// The custodian's store.
        #[arg(long)]
        store: PathBuf,
        /// The custodian's key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// The patient the record is about: its pseudonym at this custodian.
        #[arg(long)]
        patient: salus_primitives::Address,
        /// The relationship's blinding key, 32 bytes hex (the patient's wallet gives it at
        /// enrolment; `salus key pseudonym` prints it): labels and class go on chain only as
        /// tags blinded with it, the patient's events under its subject handle.
        #[arg(long)]
        blinding: String,
        /// Security labels, comma-separated (`N`, `PSY`, …): on chain only as blinded tags.
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
        /// Data class; default: the resource's resourceType.
        #[arg(long)]
        class: Option<String>,
        /// The record's date, ms since the epoch (negative before 1970).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        date_ms: i64,
        /// Its author; default: the custodian.
        #[arg(long)]
        author: Option<salus_primitives::Address>,
        /// The consent contract; default: the dev chain's.
        #[arg(long)]
        consent: Option<salus_primitives::Address>,
        /// The resource (JSON).
        file: PathBuf,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Keep a data period a consent of the patient commits to (opened: start, end and the
    /// commitment's salt) in a custodian's store, so its gateway answers each record's date
    /// against it; prints the commitment (the provision's data_period_commitment) and the salt
    /// as JSON. Without --salt one is drawn.
    ///
    /// Example: salus record period --store ./records --patient 0x… --start-ms 1546300800000
    /// --end-ms 1577836800000
    Period {
        /// The custodian's store.
        #[arg(long)]
        store: PathBuf,
        /// The patient: its pseudonym at this custodian.
        #[arg(long)]
        patient: salus_primitives::Address,
        /// Start, ms since the epoch (negative before 1970).
        #[arg(long, allow_hyphen_values = true)]
        start_ms: i64,
        /// End (exclusive), ms since the epoch.
        #[arg(long, allow_hyphen_values = true)]
        end_ms: i64,
        /// The commitment's salt, 32 bytes hex (the patient's); default: a new random one.
        #[arg(long)]
        salt: Option<String>,
    },
    /// Ask a gateway for a record: signs the request with --key, opens the sealed reply with
    /// the key's reply key, writes the resource. A refusal names its error (`consent_denied`
    /// with the reason, `replayed_request`, …) and exits with failure.
    ///
    /// Example: salus record get --gateway http://127.0.0.1:8700 --key doctor --record 0x…
    /// --purpose TREAT --role PRCP --out lab.json
    Get {
        /// The gateway's URL.
        #[arg(long)]
        gateway: String,
        /// The requester's key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// The record handle.
        #[arg(long)]
        record: salus_primitives::Hash,
        /// Purpose of use (TREAT, HPAYMT, …).
        #[arg(long)]
        purpose: String,
        /// The role the requester acts in (PRCP, PAT, …).
        #[arg(long)]
        role: String,
        /// Where to write the resource (a new file, readable only by you); default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also keep the sealed reply as received (a new file readable only by you), to open
        /// again later with this key and the request hash it prints (`/ui/open` in the console).
        #[arg(long, value_name = "FILE")]
        keep_sealed: Option<PathBuf>,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Print the X25519 key gateway replies to --key are sealed to (derived from the key and
    /// the chain); --register sets it as the key's encryption key in the registry, which an
    /// organisation or practitioner must do before asking a gateway.
    ///
    /// Example: salus record reply-key --key doctor --register
    ReplyKey {
        /// The key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// Register it with the registry (`set_encryption_key`).
        #[arg(long)]
        register: bool,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum RxCommand {
    /// Prescribe: posts `prescribe(handle, fills, expires)` to the supply contract (signed by
    /// --from, an active practitioner) and writes the prescription sealed to the patient's key
    /// (--out) and, with --pharmacy, to the pharmacy's registered key (--pharmacy-out); prints
    /// the handle. Only the handle goes on chain.
    ///
    /// Example: salus rx prescribe --from doctor --ndc 12345-678-90 --fills 2 --expires
    /// 2027-01-31 --patient-name "Ada Lovelace" --patient-birth-date 1815-12-10 --patient-key
    /// 0x… --out ada.rx --pharmacy 0x… --pharmacy-out pharmacy.rx
    Prescribe {
        #[command(flatten)]
        signing: SigningKey,
        /// The product's NDC, as registered in supply.
        #[arg(long)]
        ndc: String,
        /// Fills allowed.
        #[arg(long, default_value_t = 1)]
        fills: u32,
        /// Valid until: YYYY-MM-DD (00:00 UTC of that day) or ms since the epoch.
        #[arg(long)]
        expires: String,
        /// The patient's name, as on their identity document (never on chain).
        #[arg(long)]
        patient_name: String,
        /// The patient's date of birth, YYYY-MM-DD (never on chain).
        #[arg(long)]
        patient_birth_date: String,
        /// The patient's X25519 key: their pseudonym's with the prescriber (`salus key
        /// pseudonym --counterparty PRESCRIBER --kind custodian`).
        #[arg(long, value_name = "0xKEY")]
        patient_key: salus_primitives::Hash,
        /// Where to write the patient's copy (a new file, readable only by you).
        #[arg(long)]
        out: PathBuf,
        /// The dispensing pharmacy: its copy is sealed to its registered encryption key.
        #[arg(long, requires = "pharmacy_out")]
        pharmacy: Option<salus_primitives::Address>,
        /// Where to write the pharmacy's copy (a new file).
        #[arg(long, requires = "pharmacy")]
        pharmacy_out: Option<PathBuf>,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Open a prescription copy, check it against its handle and the chain (the practitioner
    /// who posted the handle must be the copy's prescriber) and print it as JSON. A pharmacy
    /// opens with its registered reply key; a patient with --counterparty (the prescriber) and
    /// their pseudonym's key.
    ///
    /// Example: salus rx open --key alice --counterparty 0x…doctor ada.rx
    Open {
        /// The recipient's key (a key name or dev:N).
        #[arg(long)]
        key: String,
        /// For a patient: the prescriber their pseudonym key is for.
        #[arg(long)]
        counterparty: Option<salus_primitives::Address>,
        /// The kind of that relationship.
        #[arg(long, value_parser = ["custodian", "payer"], default_value = "custodian")]
        kind: String,
        /// Its episode.
        #[arg(long, default_value_t = 0)]
        episode: u32,
        /// Check the copy is for this patient (name; with --patient-birth-date).
        #[arg(long, requires = "patient_birth_date")]
        patient_name: Option<String>,
        /// Check the copy is for this patient (date of birth, YYYY-MM-DD).
        #[arg(long, requires = "patient_name")]
        patient_birth_date: Option<String>,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        /// The copy.
        file: PathBuf,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Dispense a unit against the pharmacy's copy: opens it with --from's reply key, checks
    /// it, submits `dispense(gtin, serial, lot, expiry, handle, salt, inner)` and prints the
    /// contract's answer; a refusal (PrescriptionMismatch, PrescriptionFilled, …) exits with
    /// failure.
    ///
    /// Example: salus rx dispense --from pharmacy --prescription pharmacy.rx --gtin
    /// 00312345678906 --serial S1 --lot L1 --expiry 2028-06-30
    Dispense {
        #[command(flatten)]
        signing: SigningKey,
        /// The pharmacy's copy.
        #[arg(long)]
        prescription: PathBuf,
        /// The package's GTIN.
        #[arg(long)]
        gtin: String,
        /// Its serial number.
        #[arg(long)]
        serial: String,
        /// Its lot.
        #[arg(long)]
        lot: String,
        /// Its expiry as commissioned: YYYY-MM-DD (00:00 UTC) or ms since the epoch.
        #[arg(long)]
        expiry: String,
        /// Stop unless the prescription is for this patient (name; with --patient-birth-date).
        #[arg(long, requires = "patient_birth_date")]
        patient_name: Option<String>,
        /// Stop unless the prescription is for this patient (date of birth, YYYY-MM-DD).
        #[arg(long, requires = "patient_name")]
        patient_birth_date: Option<String>,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum InspectCommand {
    /// Write every entry of every column family (blocks, bodies, receipts, events, state, state
    /// tree, undo data, indexes, metadata, compiled-code cache) as JSON lines
    /// `{"column","key","value"}` with hex bytes, uninterpreted; a summary per column family goes
    /// to stderr. The database is opened read-only: a running node may keep it.
    ///
    /// Example: salus inspect dump --data-dir ~/.salus/dev --out chain.jsonl
    Dump {
        /// Data directory.
        #[arg(long, env = "SALUS_DATA_DIR")]
        data_dir: PathBuf,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a random key, encrypted under a password: typed twice at a prompt when stdin is a
    /// terminal, else from --password-stdin, SALUS_KEY_PASSWORD_FILE or SALUS_KEY_PASSWORD.
    New {
        /// Name of the key file.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        protection: KeyProtectionArgs,
    },
    /// Import a key: a private key or a BIP-39 mnemonic (m/44'/60'/0'/0/INDEX) read from a file
    /// or stdin (never from the command line), or an Ethereum keystore v3 file (geth, Foundry,
    /// MetaMask), whose password then also encrypts the key file.
    ///
    /// Example: salus key import --name clinic --keystore wallet.json
    Import {
        /// Name of the key file.
        #[arg(long)]
        name: String,
        /// A file holding the hex private key; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE", group = "source")]
        private_key_file: Option<PathBuf>,
        /// A file holding the mnemonic phrase; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE", group = "source")]
        mnemonic_file: Option<PathBuf>,
        /// An Ethereum keystore v3 JSON file (scrypt or PBKDF2, AES-128-CTR).
        #[arg(long, value_name = "FILE", group = "source")]
        keystore: Option<PathBuf>,
        /// Account index on the mnemonic's path.
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// Refused: a private key on the command line is visible to every local user.
        #[arg(long, hide = true)]
        private_key: Option<String>,
        /// Refused: a mnemonic on the command line is visible to every local user.
        #[arg(long, hide = true)]
        mnemonic: Option<String>,
        #[command(flatten)]
        protection: KeyProtectionArgs,
    },
    /// Write a key as an Ethereum keystore v3 file (scrypt, AES-128-CTR) for geth, Foundry or
    /// MetaMask, encrypted under the key's password (a plaintext key's file gets a new one).
    ///
    /// Example: salus key export clinic --keystore clinic.json
    Export {
        /// Name of the key file.
        name: String,
        /// The keystore file to write (must not exist; created readable only by you).
        #[arg(long, value_name = "OUT")]
        keystore: PathBuf,
        /// Read the password from the first line of stdin instead of SALUS_KEY_PASSWORD_FILE,
        /// SALUS_KEY_PASSWORD or a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List key files and their addresses.
    List,
    /// Print the address at an index of a mnemonic read from a file or stdin (nothing is
    /// stored).
    Derive {
        /// A file holding the mnemonic phrase; `-` reads stdin (a hidden prompt on a terminal).
        #[arg(long, value_name = "FILE")]
        mnemonic_file: Option<PathBuf>,
        /// Account index.
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// Refused: a mnemonic on the command line is visible to every local user.
        #[arg(long, hide = true)]
        mnemonic: Option<String>,
    },
    /// Derive a key's pseudonym for one relationship (docs/PRIVACY.md §5.1): the address it
    /// acts under with that counterparty, the X25519 key others seal to, and the blinding key
    /// and member salt to give the counterparty at enrolment. Nothing is stored or sent: the
    /// same key always gives the same pseudonym, and no two relationships share one.
    ///
    /// Example: salus key pseudonym alice --counterparty 0x… --kind custodian
    Pseudonym {
        /// The key: a key name, or dev:N.
        key: String,
        /// The organisation on the other side (its address).
        #[arg(long)]
        counterparty: salus_primitives::Address,
        /// What the key's owner is to it: `custodian` (a patient's records and consents) or
        /// `payer` (a member's coverage).
        #[arg(long, value_parser = ["custodian", "payer"])]
        kind: String,
        /// Episode (0 first; a new one after a compromise, or to keep episodes apart).
        #[arg(long, default_value_t = 0)]
        episode: u32,
        /// The chain's genesis hash; default: the dev chain's (with --set-subject, the node's).
        #[arg(long)]
        chain: Option<salus_primitives::Hash>,
        /// Also file the relationship's subject handle with the consent contract, signed by
        /// the pseudonym at fuel price 0 (`set_subject`, docs/PRIVACY.md §5.7), so that its
        /// consents' and delegations' events carry the handle: once per relationship, before
        /// its first consent. Waits for inclusion.
        #[arg(long)]
        set_subject: bool,
        /// The consent contract (with --set-subject); default: the dev chain's.
        #[arg(long, requires = "set_subject")]
        consent: Option<salus_primitives::Address>,
        /// Also store the pseudonym's signing key under NAME in the key directory, so that
        /// every command signs as the pseudonym with `--from NAME` (a grant, a gateway
        /// request). Encrypted under a new password unless --insecure-plaintext.
        #[arg(long, value_name = "NAME")]
        save: Option<String>,
        #[command(flatten)]
        protection: KeyProtectionArgs,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// List a key's pseudonyms in use on chain (docs/PRIVACY.md §5.1): for every provider
    /// organisation (kind custodian) and payer (kind payer) in the registry, episodes 0, 1, …
    /// until two in a row are unused; used means the pseudonym's account has a nonce or a
    /// balance. Every pseudonym tried is named to the node, which could join them: ask only a
    /// node you run.
    ///
    /// Example: salus key pseudonyms alice
    Pseudonyms {
        /// The key: a key name, or dev:N.
        key: String,
        /// The registry whose organisations are scanned; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

/// How `salus key new` and `import` protect the key file.
#[derive(clap::Args)]
struct KeyProtectionArgs {
    /// Read the password from the first line of stdin instead of SALUS_KEY_PASSWORD_FILE,
    /// SALUS_KEY_PASSWORD or a prompt.
    #[arg(long)]
    password_stdin: bool,
    /// Store the key unencrypted, for scripts and tests: whoever reads the file can sign.
    #[arg(long)]
    insecure_plaintext: bool,
}

impl KeyProtectionArgs {
    fn protection(&self) -> keys::Protection {
        if self.insecure_plaintext {
            keys::Protection::InsecurePlaintext
        } else {
            keys::Protection::Encrypted
        }
    }

    fn password_input(&self) -> keys::PasswordInput {
        password_input(self.password_stdin)
    }
}

fn password_input(password_stdin: bool) -> keys::PasswordInput {
    if password_stdin {
        keys::PasswordInput::Stdin
    } else {
        keys::PasswordInput::EnvironmentOrPrompt
    }
}

#[derive(Subcommand)]
enum TxCommand {
    /// Transfer native balance.
    Transfer {
        #[command(flatten)]
        signing: SigningKey,
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// Amount, in the smallest unit.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        wait: Inclusion,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Deploy a contract module, with constructor arguments as JSON.
    Deploy {
        #[command(flatten)]
        signing: SigningKey,
        /// The .wasm file.
        file: PathBuf,
        /// Constructor arguments, JSON.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Salt of the contract address (default: derived from the sender's nonce).
        #[arg(long)]
        salt: Option<salus_primitives::Hash>,
        #[command(flatten)]
        fuel_limit: FuelLimit,
        #[command(flatten)]
        wait: Inclusion,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Call a contract message, arguments as JSON.
    Call {
        #[command(flatten)]
        signing: SigningKey,
        /// The contract.
        #[arg(long)]
        contract: String,
        /// The message.
        #[arg(long)]
        message: String,
        /// Arguments, JSON.
        #[arg(long, default_value = "[]")]
        args: String,
        #[command(flatten)]
        fuel_limit: FuelLimit,
        #[command(flatten)]
        wait: Inclusion,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

/// `--rpc`: the node a client command talks to.
#[derive(clap::Args)]
struct RpcEndpoint {
    /// Node RPC URL.
    #[arg(long, env = "SALUS_RPC", default_value = client::DEFAULT_RPC)]
    rpc: String,
}

/// `--from`: the key that signs a transaction.
#[derive(clap::Args)]
struct SigningKey {
    /// Signing key: a key name or dev:N.
    #[arg(long)]
    from: String,
}

/// `--fuel` and `--fuel-price`: the fuel limit of a transaction and its price.
#[derive(clap::Args)]
struct FuelLimit {
    /// Fuel limit.
    #[arg(long, default_value_t = client::DEFAULT_FUEL)]
    fuel: u64,
    /// Price per unit of fuel; 0 sends a free transaction, which dev chains accept (a pseudonym
    /// without funds signs this way, and no funding transfer links it to its owner).
    #[arg(long, default_value_t = 1)]
    fuel_price: salus_primitives::Balance,
}

impl FuelLimit {
    fn terms(&self) -> client::FuelTerms {
        client::FuelTerms {
            limit: self.fuel,
            price: self.fuel_price,
        }
    }
}

/// `--no-wait`: whether a transaction command waits for inclusion.
#[derive(clap::Args)]
struct Inclusion {
    /// Return after submitting instead of waiting for inclusion.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Subcommand)]
enum EpcisCommand {
    /// Import an EPCIS 2.0 JSON-LD document: every event is mapped to a supply-contract call
    /// (commissioning, packing, unpacking, shipping, receiving, holding, decommissioning,
    /// destroying, repackaging, a sale a 3PL dispatches, a suspect quarantine, a saleable
    /// return, an error declaration), its GS1 identifiers (EPC URNs or Digital Link URIs) resolved
    /// through --directory; anything the contract cannot record (sensor data, quantities,
    /// AssociationEvents, unknown bizSteps, extra ILMD, …) refuses the whole document, naming
    /// the event and field. Then the calls are submitted in order, signed by --from.
    ///
    /// Example: salus epcis import shipment.jsonld --from maker --directory directory.toml
    /// --dry-run --json
    Import {
        /// The document (EPCISDocument, JSON-LD).
        file: PathBuf,
        #[command(flatten)]
        signing: SigningKey,
        /// The party's identity directory (TOML or JSON): GLNs, locations and company prefixes
        /// to chain addresses.
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// Check the document and print the calls; submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON (the calls, what the chain replaces, and the results).
        #[arg(long)]
        json: bool,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        #[command(flatten)]
        fuel: FuelLimit,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Export a unit's (--epc), a lot's (--lot) or a case's (--sscc) recorded history as an
    /// EPCIS 2.0 JSON-LD document with the GS1 context; keys as EPC URNs where --directory
    /// knows the company prefix, else as GS1 Digital Link URIs.
    ///
    /// Example: salus epcis export --epc urn:epc:id:sgtin:0312345.067890.S1 --directory
    /// directory.toml --out history.jsonld
    Export {
        /// A unit: its SGTIN as an EPC URN or a Digital Link URI (with --sscc: a unit that was
        /// in the case, for a case no longer on chain).
        #[arg(long, conflicts_with = "lot", required_unless_present_any = ["lot", "sscc"])]
        epc: Option<String>,
        /// A case or pallet: its SSCC (EPC URN, Digital Link URI or 18 digits); the events
        /// naming it, read from the histories of the units inside it.
        #[arg(long, conflicts_with = "lot")]
        sscc: Option<String>,
        /// A lot: GTIN/LOT, an LGTIN URN or a Digital Link URI with /10/.
        #[arg(long)]
        lot: Option<String>,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// Where to write the document; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// json: EPCIS 2.0 JSON-LD; xml: EPCIS 1.2 XML (urn:epcglobal:epcis:xsd:1).
        #[arg(long, value_enum, default_value = "json")]
        format: salus_node::commands::epcis::Format,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// The DSCSA view of a shipment (GS1 US DSCSA implementation guideline): transaction
    /// information (products and lots, containers, expiry, dates, documents, seller and buyer
    /// from --directory), transaction history (each prior sale back to the manufacturer) and
    /// transaction statement (clauses (A)-(G), each with what attests it); as JSON, or as an
    /// EPCIS 1.2 XML document with SBDH and master data.
    ///
    /// Example: salus epcis dscsa --shipment 0 --directory directory.toml --format xml
    /// --out shipment-0.xml
    Dscsa {
        /// The shipment id (`ship` and `dispatch` return it).
        #[arg(long)]
        shipment: u64,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// json: TI, TH and TS; xml: EPCIS 1.2 with the GS1 US guideline's header.
        #[arg(long, value_enum, default_value = "json")]
        format: salus_node::commands::epcis::Format,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The supply contract; default: the dev chain's.
        #[arg(long)]
        supply: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum FhirCommand {
    /// Import a resource (`consent`, `claim`).
    #[command(subcommand)]
    Import(FhirImport),
    /// Export a resource (`consent`, `audit`, `preauth`, `eligibility`, `claim-check`).
    #[command(subcommand)]
    Export(FhirExport),
}

#[derive(Subcommand)]
enum FhirImport {
    /// Map a FHIR R4 Consent (JSON) to one consent-contract call — `grant`, `import_signed`
    /// (active, with dateTime) or `propose` (draft, proposed) — resolving references through
    /// --directory and blinding labels and classes with --blinding; anything the contract
    /// cannot express exactly (a code, a related record, an unknown code system, an extension)
    /// or the resource leaves undecided (a provision without a type) is refused, naming the
    /// element. Prints the chain's access decision (`can_access`) for every actor the consent
    /// names, then submits the call signed by --from and prints the consent id.
    ///
    /// Example: salus fhir import consent consent.json --from dev:7 --directory directory.toml
    /// --blinding 0x… --periods periods.json --dry-run --json
    Consent {
        /// The Consent resource (FHIR R4 JSON).
        file: PathBuf,
        #[command(flatten)]
        signing: SigningKey,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// The relationship's blinding key, 32 bytes hex (`salus key pseudonym` prints it).
        #[arg(long)]
        blinding: Option<String>,
        /// Kept data periods (JSON): reused for the same period; new ones are added on import.
        #[arg(long)]
        periods: Option<PathBuf>,
        /// A record handle to ask the decisions about where the consent names none.
        #[arg(long)]
        record: Option<salus_primitives::Hash>,
        /// Check and print the call and the decisions; submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The consent contract; default: the dev chain's.
        #[arg(long)]
        consent: Option<salus_primitives::Address>,
        #[command(flatten)]
        fuel: FuelLimit,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Map a Da Vinci PAS Claim (FHIR R4 JSON, use preauthorization) to a sealed
    /// preauthorization — payer, member (the directory's [[coverage]]), priority, servicing NPI,
    /// CPT/HCPCS lines, ICD-10-CM diagnoses, LOINC attachment templates — refusing what the
    /// submission cannot carry exactly, naming the element; seal it to the payer's registered
    /// key into the payer's --inbox, post `submit_sealed` signed by --from and print the trace
    /// handle.
    ///
    /// Example: salus fhir import claim pas-claim.json --from hospital --directory directory.toml
    /// --inbox /srv/payer/inbox --json
    Claim {
        /// The Claim resource (FHIR R4 JSON).
        file: PathBuf,
        #[command(flatten)]
        signing: SigningKey,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// The payer's inbox directory: the sealed submission is delivered there.
        #[arg(long)]
        inbox: PathBuf,
        /// Check the mapping and the chain's acceptance (a dry run); deliver and submit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON (the trace handle, the plan and the submission).
        #[arg(long)]
        json: bool,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        fuel: FuelLimit,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

#[derive(Subcommand)]
enum FhirExport {
    /// Write an on-chain consent as a FHIR R4 Consent: tags written back as codes with
    /// --blinding, data periods with --periods (else refused, naming the field).
    ///
    /// Example: salus fhir export consent 3 --directory directory.toml --blinding 0x… --out c.json
    Consent {
        /// The consent id.
        id: u64,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// The relationship's blinding key, 32 bytes hex.
        #[arg(long)]
        blinding: Option<String>,
        /// Kept data periods (JSON), to write commitments back as periods.
        #[arg(long)]
        periods: Option<PathBuf>,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The consent contract; default: the dev chain's.
        #[arg(long)]
        consent: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Write a patient's accounting of disclosures as a FHIR R4 Bundle of AuditEvents (IHE
    /// BALP style), read by a dry run --from signs (the patient or a delegate).
    ///
    /// Example: salus fhir export audit --patient Patient/123 --from dev:7 --since 2026-01-01
    Audit {
        /// `Patient/…` (through --directory) or the patient's pseudonym address.
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        signing: SigningKey,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// From this FHIR date or dateTime on.
        #[arg(long)]
        since: Option<String>,
        /// Up to the end of this FHIR date or dateTime.
        #[arg(long)]
        until: Option<String>,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The consent contract; default: the dev chain's.
        #[arg(long)]
        consent: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Write a sealed preauthorization's posted decision as a FHIR R4 ClaimResponse (use
    /// preauthorization; per line the X12 HCR01 action and HCR03 reason in the Da Vinci PAS
    /// reviewAction extension, the units certified; preAuthRef the trace handle), read by a
    /// dry run --from signs (the requester, the member, the payer or a reviewer).
    ///
    /// Example: salus fhir export preauth --trace 0x… --from provider --claim-type professional
    Preauth {
        /// The request's trace handle.
        #[arg(long)]
        trace: salus_primitives::Hash,
        #[command(flatten)]
        signing: SigningKey,
        /// The claim's type (claim-type: professional, institutional, oral, pharmacy, vision),
        /// from the submission: the chain does not hold it.
        #[arg(long)]
        claim_type: String,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// The payer's agent's inbox: its kept opening, verified against the chain, adds the
        /// services, windows and preAuthPeriod (--from must be the payer).
        #[arg(long)]
        inbox: Option<PathBuf>,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        /// The registry contract; default: the dev chain's.
        #[arg(long)]
        registry: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Write a member's eligibility as a FHIR R4 CoverageEligibilityResponse: status and plan
    /// period from the chain (`coverage` and `eligibility` dry runs --from signs: the payer or
    /// a reviewer), benefits per X12 service type (allowed and used units, authorisation
    /// required, network) from the payer's records file; a member the chain does not know
    /// answers outcome error (AAA03), one missing from the records is refused.
    ///
    /// Example: salus fhir export eligibility --member 0x… --from payer --records records.json
    Eligibility {
        /// The member (the payer's salted hash), 0x….
        #[arg(long)]
        member: salus_primitives::Hash,
        #[command(flatten)]
        signing: SigningKey,
        /// The payer; default: --from's address (give it when a reviewer signs).
        #[arg(long)]
        payer: Option<salus_primitives::Address>,
        /// The payer's records file (the agent's --records).
        #[arg(long)]
        records: PathBuf,
        /// The inquiry's identifier (request); default: MEMBER@TIME_MS.
        #[arg(long)]
        request: Option<String>,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
    /// Write a claim and its posted check as a FHIR R4 ClaimResponse (use claim; per line an
    /// eligible adjudication, each CARC in adjudication.reason with its X12 group code and
    /// RARC in extensions; voided and replaced claims cancelled), read by a dry run --from
    /// signs (the billing provider, the payer or a reviewer).
    ///
    /// Example: salus fhir export claim-check --claim 0x… --from provider --claim-type professional
    ClaimCheck {
        /// The claim handle.
        #[arg(long)]
        claim: salus_primitives::Hash,
        #[command(flatten)]
        signing: SigningKey,
        /// The claim's type (claim-type: professional, institutional, oral, pharmacy, vision),
        /// from the claim: the chain does not hold it.
        #[arg(long)]
        claim_type: String,
        /// The party's identity directory (TOML or JSON).
        #[arg(long, env = "SALUS_DIRECTORY", default_value = "directory.toml")]
        directory: PathBuf,
        /// Where to write; default: stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The coverage contract; default: the dev chain's.
        #[arg(long)]
        coverage: Option<salus_primitives::Address>,
        #[command(flatten)]
        endpoint: RpcEndpoint,
    },
}

fn blinding_key(text: Option<String>) -> anyhow::Result<Option<[u8; 32]>> {
    text.map(|text| {
        hex::decode(text.trim_start_matches("0x"))
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("--blinding must be 32 bytes of hex"))
    })
    .transpose()
}

fn run_fhir(command: FhirCommand) -> anyhow::Result<()> {
    use salus_node::commands::fhir;
    let default_consent = salus_node::genesis::DEV_CONSENT_ADDRESS;
    match command {
        FhirCommand::Import(FhirImport::Consent {
            file,
            signing,
            directory,
            blinding,
            periods,
            record,
            dry_run,
            json,
            consent,
            fuel,
            endpoint,
        }) => fhir::import(
            &endpoint.rpc,
            &fhir::ImportOptions {
                file,
                from: signing.from,
                directory,
                blinding: blinding_key(blinding)?,
                periods,
                record,
                consent: consent.unwrap_or(default_consent),
                dry_run,
                json,
                fuel: fuel.terms(),
            },
        ),
        FhirCommand::Export(FhirExport::Consent {
            id,
            directory,
            blinding,
            periods,
            out,
            consent,
            endpoint,
        }) => fhir::export_consent(
            &endpoint.rpc,
            &fhir::ExportOptions {
                id,
                directory,
                blinding: blinding_key(blinding)?,
                periods,
                consent: consent.unwrap_or(default_consent),
                out,
            },
        ),
        FhirCommand::Export(FhirExport::Audit {
            patient,
            signing,
            directory,
            since,
            until,
            out,
            consent,
            endpoint,
        }) => fhir::export_audit(
            &endpoint.rpc,
            &fhir::AuditOptions {
                patient,
                from: signing.from,
                directory,
                since,
                until,
                consent: consent.unwrap_or(default_consent),
                out,
            },
        ),
        FhirCommand::Export(FhirExport::Preauth {
            trace,
            signing,
            claim_type,
            directory,
            inbox,
            out,
            coverage,
            registry,
            endpoint,
        }) => fhir::export_preauth(
            &endpoint.rpc,
            &fhir::PreauthOptions {
                trace,
                from: signing.from,
                claim_type,
                directory,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                registry: registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS),
                inbox,
                out,
            },
        ),
        FhirCommand::Import(FhirImport::Claim {
            file,
            signing,
            directory,
            inbox,
            dry_run,
            json,
            coverage,
            registry,
            fuel,
            endpoint,
        }) => fhir::import_claim(
            &endpoint.rpc,
            &fhir::ClaimImportOptions {
                file,
                from: signing.from,
                directory,
                inbox,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                registry: registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS),
                dry_run,
                json,
                fuel: fuel.terms(),
            },
        ),
        FhirCommand::Export(FhirExport::Eligibility {
            member,
            signing,
            payer,
            records,
            request,
            directory,
            out,
            coverage,
            endpoint,
        }) => salus_node::commands::fhir_payer::export_eligibility(
            &endpoint.rpc,
            &salus_node::commands::fhir_payer::EligibilityOptions {
                member,
                from: signing.from,
                payer,
                records,
                request,
                directory,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                out,
            },
        ),
        FhirCommand::Export(FhirExport::ClaimCheck {
            claim,
            signing,
            claim_type,
            directory,
            out,
            coverage,
            endpoint,
        }) => salus_node::commands::fhir_payer::export_claim_check(
            &endpoint.rpc,
            &salus_node::commands::fhir_payer::ClaimCheckOptions {
                claim,
                from: signing.from,
                claim_type,
                directory,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                out,
            },
        ),
    }
}

fn run_epcis(command: EpcisCommand) -> anyhow::Result<()> {
    use salus_node::commands::epcis;
    let default_supply = salus_node::genesis::DEV_SUPPLY_ADDRESS;
    match command {
        EpcisCommand::Import {
            file,
            signing,
            directory,
            dry_run,
            json,
            supply,
            fuel,
            endpoint,
        } => epcis::import(
            &endpoint.rpc,
            &epcis::ImportOptions {
                file,
                from: signing.from,
                directory,
                supply: supply.unwrap_or(default_supply),
                dry_run,
                json,
                fuel: fuel.terms(),
            },
        ),
        EpcisCommand::Export {
            epc,
            sscc,
            lot,
            directory,
            out,
            format,
            supply,
            endpoint,
        } => epcis::export(
            &endpoint.rpc,
            &epcis::ExportOptions {
                epc,
                sscc,
                lot,
                directory,
                supply: supply.unwrap_or(default_supply),
                out,
                format,
            },
        ),
        EpcisCommand::Dscsa {
            shipment,
            directory,
            format,
            out,
            supply,
            endpoint,
        } => epcis::dscsa(
            &endpoint.rpc,
            &epcis::DscsaOptions {
                shipment,
                directory,
                supply: supply.unwrap_or(default_supply),
                format,
                out,
            },
        ),
    }
}

fn run_key(command: KeyCommand) -> anyhow::Result<()> {
    use keys::ImportSource;
    match command {
        KeyCommand::New { name, protection } => {
            let (address, path) =
                keys::new_key(&name, protection.protection(), protection.password_input())?;
            println!("{name}: {address} ({})", path.display());
        }
        KeyCommand::Import {
            name,
            private_key_file,
            mnemonic_file,
            keystore,
            index,
            private_key,
            mnemonic,
            protection,
        } => {
            if private_key.is_some() || mnemonic.is_some() {
                bail!(keys::SECRET_ON_COMMAND_LINE);
            }
            let source = match (private_key_file, mnemonic_file, keystore) {
                (Some(file), None, None) => ImportSource::PrivateKeyFile(file),
                (None, Some(path), None) => ImportSource::MnemonicFile { path, index },
                (None, None, Some(file)) => ImportSource::Keystore(file),
                _ => bail!("give one of --private-key-file, --mnemonic-file or --keystore"),
            };
            let (address, path) = keys::import_key(
                &name,
                &source,
                protection.protection(),
                protection.password_input(),
            )?;
            println!("{name}: {address} ({})", path.display());
        }
        KeyCommand::Export {
            name,
            keystore,
            password_stdin,
        } => {
            let address = keys::export_key(&name, &keystore, password_input(password_stdin))?;
            println!(
                "{name}: {address} (Ethereum keystore v3: {})",
                keystore.display()
            );
        }
        KeyCommand::List => {
            for (name, address) in keys::list_keys()? {
                println!("{name:<20} {address}");
            }
        }
        KeyCommand::Pseudonym {
            key,
            counterparty,
            kind,
            episode,
            chain,
            set_subject,
            consent,
            save,
            protection,
            endpoint,
        } => {
            let kind = salus_client::RelationshipKind::from_name(&kind)
                .expect("clap accepts only the kinds' names");
            let chain = match chain {
                None if set_subject => Some(
                    client::client_runtime()?.block_on(pseudonyms::node_genesis(&endpoint.rpc))?,
                ),
                chain => chain,
            };
            let keys = pseudonyms::pseudonym(&key, counterparty, kind, episode, chain)?;
            println!("pseudonym       {}", keys.address());
            println!(
                "encryption key  0x{}",
                hex::encode(keys.encryption_public_key())
            );
            println!("blinding key    0x{}", hex::encode(keys.blinding));
            if kind == salus_client::RelationshipKind::Payer {
                println!("member salt     0x{}", hex::encode(keys.member_salt));
            }
            if let Some(name) = save {
                let path = keys::save_named_key(
                    &name,
                    &keys.signing,
                    protection.protection(),
                    protection.password_input(),
                )?;
                println!("saved as        {name} ({})", path.display());
            }
            if set_subject {
                let consent = consent.unwrap_or(salus_node::genesis::DEV_CONSENT_ADDRESS);
                let hash = client::client_runtime()?.block_on(pseudonyms::set_subject(
                    &endpoint.rpc,
                    &keys,
                    consent,
                ))?;
                println!("subject handle  {}", keys.subject_handle());
                println!("set_subject     {hash}");
            }
        }
        KeyCommand::Pseudonyms {
            key,
            registry,
            endpoint,
        } => {
            let registry = registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS);
            let found = client::client_runtime()?.block_on(pseudonyms::pseudonyms_in_use(
                &endpoint.rpc,
                &key,
                registry,
            ))?;
            println!(
                "{:<42}  {:<9}  {:>7}  pseudonym",
                "organisation", "kind", "episode"
            );
            for used in &found {
                println!(
                    "{:<42}  {:<9}  {:>7}  {}",
                    used.organisation.to_string(),
                    used.kind.name(),
                    used.episode,
                    used.pseudonym
                );
            }
            if found.is_empty() {
                eprintln!("no pseudonym of `{key}` is in use at {}", endpoint.rpc);
            }
        }
        KeyCommand::Derive {
            mnemonic_file,
            index,
            mnemonic,
        } => {
            let file = match (mnemonic_file, mnemonic) {
                (_, Some(_)) => bail!(keys::SECRET_ON_COMMAND_LINE),
                (Some(file), None) => file,
                (None, None) => bail!("give --mnemonic-file FILE (`-` reads stdin)"),
            };
            println!("{}", keys::derive_address(&file, index)?);
        }
    }
    Ok(())
}

fn run_record(command: RecordCommand) -> anyhow::Result<()> {
    let runtime = client::client_runtime()?;
    match command {
        RecordCommand::Put {
            store,
            key,
            patient,
            blinding,
            labels,
            class,
            date_ms,
            author,
            consent,
            file,
            endpoint,
        } => {
            let blinding: [u8; 32] = hex::decode(blinding.trim_start_matches("0x"))
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("--blinding must be 32 bytes of hex"))?;
            let options = record::PutOptions {
                store,
                key,
                patient,
                blinding,
                labels,
                class,
                date_ms,
                author,
                consent: consent.unwrap_or(salus_node::genesis::DEV_CONSENT_ADDRESS),
            };
            let handle = runtime.block_on(record::put(&endpoint.rpc, &options, &file))?;
            println!("{handle}");
        }
        RecordCommand::Period {
            store,
            patient,
            start_ms,
            end_ms,
            salt,
        } => {
            let salt = salt
                .map(|text| {
                    hex::decode(text.trim_start_matches("0x"))
                        .ok()
                        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                        .ok_or_else(|| anyhow::anyhow!("--salt must be 32 bytes of hex"))
                })
                .transpose()?;
            let (commitment, salt) = record::period(&store, patient, (start_ms, end_ms), salt)?;
            println!(
                "{}",
                serde_json::json!({
                    "commitment": commitment.to_string(),
                    "salt": format!("0x{}", hex::encode(salt)),
                })
            );
        }
        RecordCommand::Get {
            gateway,
            key,
            record,
            purpose,
            role,
            out,
            keep_sealed,
            registry,
            endpoint,
        } => {
            let options = record::GetOptions {
                gateway,
                key,
                record,
                purpose,
                role,
                registry: registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS),
                keep_sealed,
            };
            let resource = runtime.block_on(record::get(&endpoint.rpc, &options))?;
            record::write_resource(&resource, out.as_deref())?;
        }
        RecordCommand::ReplyKey {
            key,
            register,
            registry,
            endpoint,
        } => {
            let registry = registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS);
            let (public_key, version) =
                runtime.block_on(record::reply_key(&endpoint.rpc, &key, registry, register))?;
            match version {
                Some(version) => println!(
                    "0x{} (registered, version {version})",
                    hex::encode(public_key)
                ),
                None => println!("0x{} (not registered)", hex::encode(public_key)),
            }
        }
    }
    Ok(())
}

fn run_rx(command: RxCommand) -> anyhow::Result<()> {
    use salus_client::prescription::PatientDetails;
    let runtime = client::client_runtime()?;
    let supply_or_dev = |supply: Option<salus_primitives::Address>| {
        supply.unwrap_or(salus_node::genesis::DEV_SUPPLY_ADDRESS)
    };
    let patient = |name: Option<String>, birth_date: Option<String>| {
        name.zip(birth_date)
            .map(|(name, birth_date)| PatientDetails { name, birth_date })
    };
    match command {
        RxCommand::Prescribe {
            signing,
            ndc,
            fills,
            expires,
            patient_name,
            patient_birth_date,
            patient_key,
            out,
            pharmacy,
            pharmacy_out,
            supply,
            registry,
            endpoint,
        } => {
            let options = rx::PrescribeOptions {
                from: signing.from,
                ndc,
                fills,
                expires_ms: rx::parse_time_ms(&expires)
                    .map_err(|e| anyhow::anyhow!("--expires: {e}"))?,
                patient: PatientDetails {
                    name: patient_name,
                    birth_date: patient_birth_date,
                },
                patient_key: patient_key.0,
                out,
                pharmacy: pharmacy.zip(pharmacy_out),
                supply: supply_or_dev(supply),
                registry: registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS),
            };
            let handle = runtime.block_on(rx::prescribe(&endpoint.rpc, &options))?;
            println!("{handle}");
        }
        RxCommand::Open {
            key,
            counterparty,
            kind,
            episode,
            patient_name,
            patient_birth_date,
            supply,
            file,
            endpoint,
        } => {
            let recipient = match counterparty {
                Some(counterparty) => rx::Recipient::Pseudonym(
                    counterparty,
                    salus_client::RelationshipKind::from_name(&kind)
                        .expect("clap accepts only the kinds' names"),
                    episode,
                ),
                None => rx::Recipient::Registered,
            };
            let opened = runtime.block_on(rx::open(
                &endpoint.rpc,
                &key,
                &recipient,
                &file,
                supply_or_dev(supply),
            ))?;
            let patient = patient(patient_name, patient_birth_date);
            let printed = rx::opened_json(&opened, patient.as_ref());
            println!("{}", serde_json::to_string_pretty(&printed)?);
            if printed["patientMatches"] == serde_json::json!(false) {
                bail!("the prescription is not for this patient");
            }
        }
        RxCommand::Dispense {
            signing,
            prescription,
            gtin,
            serial,
            lot,
            expiry,
            patient_name,
            patient_birth_date,
            supply,
            endpoint,
        } => {
            let options = rx::DispenseOptions {
                from: signing.from,
                prescription,
                gtin,
                serial,
                lot,
                expiry_ms: rx::parse_time_ms(&expiry)
                    .map_err(|e| anyhow::anyhow!("--expiry: {e}"))?,
                patient: patient(patient_name, patient_birth_date),
                supply: supply_or_dev(supply),
            };
            match runtime.block_on(rx::dispense(&endpoint.rpc, &options)) {
                Ok(answer) => println!("{}", serde_json::to_string_pretty(&answer)?),
                Err(error) => {
                    if let Some(refused) = error.downcast_ref::<rx::Refused>() {
                        println!("{}", serde_json::to_string_pretty(&refused.answer)?);
                    }
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

/// Bytes from hex, with or without `0x`.
fn parse_hex(text: &str, flag: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(text.trim_start_matches("0x"))
        .map_err(|error| anyhow::anyhow!("{flag}: not hex: {error}"))
}

fn main() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    let arguments = Cli::parse();
    if let Some(path) = arguments.rpc_cookie {
        client::use_rpc_cookie(path);
    }
    match arguments.command {
        Command::Bench { arguments } => bench::run_load_generator(&arguments),
        Command::Dev(options) => dev::run(options),
        Command::Node(settings) => node::run(settings),
        Command::Key(command) => run_key(command),
        Command::Tx(command) => client::client_runtime()?.block_on(async {
            match command {
                TxCommand::Transfer {
                    signing,
                    to,
                    amount,
                    wait,
                    endpoint,
                } => {
                    client::transfer(&endpoint.rpc, &signing.from, &to, amount, !wait.no_wait).await
                }
                TxCommand::Deploy {
                    signing,
                    file,
                    args,
                    salt,
                    fuel_limit,
                    wait,
                    endpoint,
                } => {
                    client::deploy(
                        &endpoint.rpc,
                        &signing.from,
                        &file,
                        &args,
                        salt,
                        fuel_limit.terms(),
                        !wait.no_wait,
                    )
                    .await
                }
                TxCommand::Call {
                    signing,
                    contract,
                    message,
                    args,
                    fuel_limit,
                    wait,
                    endpoint,
                } => {
                    client::call(
                        &endpoint.rpc,
                        &signing.from,
                        &contract,
                        &message,
                        &args,
                        fuel_limit.terms(),
                        !wait.no_wait,
                    )
                    .await
                }
            }
        }),
        Command::Call {
            from,
            contract,
            message,
            args,
            endpoint,
        } => client::client_runtime()?.block_on(client::dry_run(
            &endpoint.rpc,
            from.as_deref(),
            &contract,
            &message,
            &args,
        )),
        Command::Query {
            what,
            target,
            key,
            endpoint,
        } => client::client_runtime()?.block_on(client::query(
            &endpoint.rpc,
            &what,
            &target,
            key.as_deref(),
        )),
        Command::Events {
            contract,
            topic,
            from,
            to,
            limit,
            endpoint,
        } => client::client_runtime()?.block_on(client::events(
            &endpoint.rpc,
            &contract,
            &topic,
            from,
            to,
            limit,
        )),
        Command::Abi { target, endpoint } => {
            client::client_runtime()?.block_on(client::print_abi(&endpoint.rpc, &target))
        }
        Command::ImportBlocks {
            data_dir,
            genesis,
            file,
        } => import_blocks::run(&data_dir, genesis.as_deref(), &file),
        Command::VerifyChain { data_dir } => verify_chain::run(&data_dir),
        Command::Seal {
            to_key,
            key_version,
            aad,
            file,
            out,
        } => pseudonyms::seal_file(
            to_key.0,
            key_version,
            &parse_hex(&aad, "--aad")?,
            &file,
            out.as_deref(),
        ),
        Command::Open {
            key,
            counterparty,
            kind,
            episode,
            chain,
            aad,
            file,
            out,
        } => {
            let kind = salus_client::RelationshipKind::from_name(&kind)
                .expect("clap accepts only the kinds' names");
            pseudonyms::open_file(
                &key,
                (counterparty, kind, episode),
                chain,
                &parse_hex(&aad, "--aad")?,
                &file,
                out.as_deref(),
            )
        }
        Command::Inspect(InspectCommand::Dump { data_dir, out }) => {
            inspect::dump(&data_dir, out.as_deref())
        }
        Command::Gateway {
            data_dir,
            store,
            listen,
            key,
            registry,
            consent,
            inclusion_timeout_s,
            endpoint,
        } => gateway::run(gateway::GatewayOptions {
            data_dir,
            store,
            listen,
            key,
            rpc: endpoint.rpc,
            registry: registry.unwrap_or(salus_node::genesis::DEV_REGISTRY_ADDRESS),
            consent: consent.unwrap_or(salus_node::genesis::DEV_CONSENT_ADDRESS),
            inclusion_timeout: std::time::Duration::from_secs(inclusion_timeout_s),
        }),
        Command::Record(command) => run_record(command),
        Command::Epcis(command) => run_epcis(command),
        Command::Scenario { endpoint } => salus_node::commands::scenario::run(&endpoint.rpc),
        Command::Fhir(command) => run_fhir(command),
        Command::Rx(command) => run_rx(command),
        Command::Agent(AgentCommand::Payer {
            key,
            inbox,
            records,
            once,
            coverage,
            inclusion_timeout_s,
            metrics_period,
            endpoint,
        }) => {
            let options = agent::PayerAgentOptions {
                key,
                inbox,
                records,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                registry: salus_node::genesis::DEV_REGISTRY_ADDRESS,
                once,
                inclusion_timeout_s,
                metrics_period,
            };
            client::client_runtime()?.block_on(agent::payer(&endpoint.rpc, &options))
        }
        Command::Agent(AgentCommand::Review {
            key,
            trace,
            line,
            action,
            reason,
            quantity,
            coverage,
            endpoint,
        }) => {
            let options = agent::ReviewOptions {
                key,
                trace,
                line,
                action,
                reason,
                quantity,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                registry: salus_node::genesis::DEV_REGISTRY_ADDRESS,
            };
            let posted =
                client::client_runtime()?.block_on(agent::review(&endpoint.rpc, &options))?;
            println!("{posted}");
            Ok(())
        }
        Command::VerifyDecision {
            trace,
            claim,
            submission,
            records,
            salts,
            key,
            coverage,
            endpoint,
        } => {
            let options = verify_decision::VerifyOptions {
                trace,
                claim,
                submission,
                records,
                salts,
                key,
                coverage: coverage.unwrap_or(salus_node::genesis::DEV_COVERAGE_ADDRESS),
                registry: salus_node::genesis::DEV_REGISTRY_ADDRESS,
            };
            let verdict = client::client_runtime()?
                .block_on(verify_decision::verify(&endpoint.rpc, &options))?;
            println!("{verdict}");
            if matches!(verdict, salus_node::agent::Verification::Differs(_)) {
                bail!("the posted decision is not the one the rules give");
            }
            Ok(())
        }
    }
}
