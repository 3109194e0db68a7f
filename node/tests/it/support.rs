//! Shared test fixtures: a chain in a temporary directory, mined blocks, signed transfers and a
//! `salus dev` process.

use std::sync::atomic::AtomicBool;

use salus_node::genesis::GenesisConfig;
use salus_node::mining::{SearchOutcome, search_nonce};
use salus_node::storage::StoreIo;
use salus_node::{Chain, Genesis, Store};
use salus_primitives::block::transactions_root;
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{
    Action, Address, Block, BlockHeader, SecretKey, SignedTransaction, Transaction,
};
use tempfile::TempDir;

/// A chain on real RocksDB in its own temporary directory.
pub struct TestChain {
    pub chain: Chain,
    pub dir: TempDir,
    pub genesis: Genesis,
}

/// The dev genesis (fixed difficulty, 8 leading zero bits: every block has the same work),
/// built once per test process (building runs the genesis contracts' constructors).
pub fn dev_genesis() -> Genesis {
    static GENESIS: std::sync::OnceLock<Genesis> = std::sync::OnceLock::new();
    GENESIS
        .get_or_init(|| GenesisConfig::dev().build().unwrap())
        .clone()
}

impl TestChain {
    pub fn new() -> TestChain {
        TestChain::with_genesis(dev_genesis())
    }

    pub fn with_genesis(genesis: Genesis) -> TestChain {
        let dir = tempfile::tempdir().unwrap();
        let chain = Chain::open(Store::open(dir.path()).unwrap(), &genesis).unwrap();
        TestChain {
            chain,
            dir,
            genesis,
        }
    }

    /// Closes and reopens the database.
    pub fn reopen(self) -> TestChain {
        let TestChain {
            chain,
            dir,
            genesis,
        } = self;
        drop(chain);
        let chain = Chain::open(Store::open(dir.path()).unwrap(), &genesis).unwrap();
        TestChain {
            chain,
            dir,
            genesis,
        }
    }

    /// Mines a block on the head with `transactions` (all must be includable) and imports it.
    pub fn mine(&mut self, miner: Address, transactions: &[SignedTransaction]) -> Block {
        let block = self.next_block(miner, transactions);
        self.chain.import_block(block.clone(), now()).unwrap();
        block
    }

    /// Executes `transactions` as block import would in the next block (one second after the
    /// head, mined by `miner`), storing nothing.
    pub fn execute_next(
        &self,
        miner: Address,
        transactions: &[SignedTransaction],
    ) -> Result<salus_runtime::BlockExecution, salus_runtime::BlockExecutionError> {
        let head = &self.chain.head().header;
        let context = salus_runtime::BlockContext {
            number: head.number + 1,
            timestamp_ms: head.timestamp_ms + 1_000,
            miner,
        };
        salus_runtime::execute_block(
            self.chain.params(),
            self.chain.vm(),
            self.chain.head_state(),
            &context,
            &salus_runtime::recover_transactions(transactions)?,
        )
    }

    /// Mines a block on the head without importing it.
    pub fn next_block(&self, miner: Address, transactions: &[SignedTransaction]) -> Block {
        let head = &self.chain.head().header;
        let timestamp = head.timestamp_ms + 1_000;
        let template = self
            .chain
            .build_block(miner, timestamp, &verified(transactions))
            .unwrap();
        assert!(
            template.skipped.is_empty(),
            "skipped: {:?}",
            template.skipped
        );
        seal(template.block())
    }
}

/// A clock comfortably after every test block's timestamp.
pub fn now() -> u64 {
    salus_node::wall_clock_ms().max(dev_genesis().header.timestamp_ms + 1_000_000_000)
}

/// Finds a nonce for `block` (after its header was edited).
pub fn seal(mut block: Block) -> Block {
    block.header = seal_header(block.header);
    block
}

/// Seals a template for [`Chain::import_block`].
pub fn seal_built(template: salus_node::chain::BlockTemplate) -> salus_node::chain::BuiltBlock {
    let header = seal_header(template.header.clone());
    template.seal(header)
}

/// Transactions verified as the pool verifies them (signatures recovered), for `build_block`.
pub fn verified(transactions: &[SignedTransaction]) -> Vec<salus_runtime::VerifiedTransaction> {
    salus_runtime::recover_transactions(transactions).expect("signed by their senders")
}

pub fn seal_header(header: BlockHeader) -> BlockHeader {
    match search_nonce(&header, 1, &AtomicBool::new(false)).unwrap() {
        SearchOutcome::Found(sealed) => sealed,
        other => panic!("nonce search ended with {other:?}"),
    }
}

/// Replaces the body, fixing the transactions root, and reseals.
pub fn with_body(mut block: Block, transactions: Vec<SignedTransaction>) -> Block {
    block.header.transactions_root = transactions_root(&transactions);
    block.transactions = transactions;
    seal(block)
}

pub fn dev_key(index: u32) -> SecretKey {
    derive_key(DEV_MNEMONIC, index).unwrap()
}

pub fn transfer(from: &SecretKey, nonce: u64, to: Address, amount: u128) -> SignedTransaction {
    Transaction {
        chain_id: salus_node::genesis::DEV_CHAIN_ID,
        nonce,
        fuel_limit: 50_000,
        fuel_price: 1,
        action: Action::Transfer { to, amount },
        sponsor: None,
    }
    .sign(from, None)
}

/// Every flat-state entry, for comparing two databases.
pub fn flat_state(chain: &Chain) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut entries = Vec::new();
    chain
        .store()
        .for_each_state_entry(|key, value| {
            entries.push((key.to_vec(), value.to_vec()));
            Ok(())
        })
        .unwrap();
    entries
}

/// A `salus dev` process on a free loopback port with its data in a temporary directory,
/// killed when dropped.
pub struct DevProcess {
    /// The process (for tests that stop it themselves).
    pub child: std::process::Child,
    /// The RPC address, `host:port`.
    pub address: String,
    /// Its peer-to-peer address (`/ip4/127.0.0.1/tcp/N/p2p/ID`) when it joined a network.
    pub p2p: Option<String>,
    /// Its metrics endpoint (`host:port`) when started with `--metrics-addr`.
    pub metrics: Option<String>,
    /// The temporary directory (the chain is in `dev/`; CLI tests keep keys in `keys/`).
    pub dir: TempDir,
    arguments: Vec<String>,
}

impl DevProcess {
    /// Runs the `salus` binary against this node: its RPC endpoint (`SALUS_RPC`), data
    /// directory (`SALUS_DATA_DIR`, whose cookie the client reads) and a key directory of its
    /// own (`SALUS_KEYS`).
    pub fn salus(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_salus"))
            .args(args)
            .env("SALUS_RPC", self.http_url())
            .env("SALUS_KEYS", self.dir.path().join("keys"))
            .env("SALUS_DATA_DIR", self.dir.path().join("dev"))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    /// Starts `salus dev` mining every `block_time_ms` (0: only on `dev_mine`) and waits, with a
    /// deadline, for it to print its RPC address.
    pub fn start(block_time_ms: u64) -> DevProcess {
        DevProcess::spawn(
            tempfile::tempdir().unwrap(),
            vec!["--block-time-ms".into(), block_time_ms.to_string()],
        )
    }

    /// Starts `salus dev` on a loopback peer-to-peer port, dialling `bootnodes`, mining only on
    /// `dev_mine`.
    pub fn start_networked(bootnodes: &[&str]) -> DevProcess {
        let mut arguments = vec![
            "--block-time-ms".to_string(),
            "0".to_string(),
            "--p2p-listen".to_string(),
            "/ip4/127.0.0.1/tcp/0".to_string(),
        ];
        for bootnode in bootnodes {
            arguments.push("--bootnode".into());
            arguments.push(bootnode.to_string());
        }
        DevProcess::spawn(tempfile::tempdir().unwrap(), arguments)
    }

    /// Kills the process with SIGKILL (no shutdown at all) and starts it again on the same data
    /// directory with the same arguments.
    pub fn kill_and_restart(mut self) -> DevProcess {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The data directory moves to the new process; `self` drops an empty placeholder.
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let arguments = std::mem::take(&mut self.arguments);
        DevProcess::spawn(dir, arguments)
    }

    /// Starts `salus dev` with `arguments` (beside its RPC address and data directory).
    pub fn start_with(arguments: &[&str]) -> DevProcess {
        DevProcess::spawn(
            tempfile::tempdir().unwrap(),
            arguments.iter().map(ToString::to_string).collect(),
        )
    }

    fn spawn(dir: TempDir, arguments: Vec<String>) -> DevProcess {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
            .args(["dev", "--rpc-addr", "127.0.0.1:0"])
            .args(&arguments)
            .arg("--data-dir")
            .arg(dir.path().join("dev"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut p2p, mut metrics) = (None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("P2P: ") {
                    p2p = Some(rest.trim().to_string());
                }
                if let Some(rest) = line.strip_prefix("Metrics: http://") {
                    metrics = Some(rest.trim().trim_end_matches("/metrics").to_string());
                }
                if let Some(rest) = line.strip_prefix("RPC: http://") {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = sender.send((address.to_string(), None, None));
                }
                if line.starts_with("Head: ") {
                    // The banner is written in one piece: the P2P and metrics lines came
                    // before this one.
                    let _ = sender.send((String::new(), p2p.take(), metrics.take()));
                }
            }
        });
        let deadline = std::time::Duration::from_secs(60);
        let (address, _, _) = receiver
            .recv_timeout(deadline)
            .expect("salus dev printed its RPC address");
        let (_, p2p, metrics) = receiver
            .recv_timeout(deadline)
            .expect("salus dev printed its banner");
        DevProcess {
            child,
            address,
            p2p,
            metrics,
            dir,
            arguments,
        }
    }

    /// The operator token the node wrote to its data directory's `.cookie`.
    pub fn cookie_token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dev").join(".cookie"))
            .expect("the node wrote its RPC cookie")
            .trim()
            .to_string()
    }

    /// An HTTP client sending the node's cookie token (for the operator methods).
    pub fn operator_client(&self) -> jsonrpsee::http_client::HttpClient {
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {}", self.cookie_token()).parse().unwrap(),
        );
        jsonrpsee::http_client::HttpClientBuilder::default()
            .set_headers(headers)
            .build(self.http_url())
            .unwrap()
    }

    /// Kills the process (SIGKILL), keeping its data directory.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The HTTP RPC URL.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Its peer-to-peer address (panics if it has no network).
    pub fn p2p(&self) -> &str {
        self.p2p.as_deref().expect("a networked node")
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A transaction of dev key 5 with 5,000,000 fuel at price 1 (contract tests).
pub fn dev5_transaction(nonce: u64, action: Action) -> SignedTransaction {
    Transaction {
        chain_id: salus_node::genesis::DEV_CHAIN_ID,
        nonce,
        fuel_limit: 5_000_000,
        fuel_price: 1,
        action,
        sponsor: None,
    }
    .sign(&dev_key(5), None)
}

/// What importing one block did to the store's counters.
pub fn io_delta(before: StoreIo, after: StoreIo) -> StoreIo {
    StoreIo {
        batches_written: after.batches_written - before.batches_written,
        bodies_read: after.bodies_read - before.bodies_read,
        receipts_read: after.receipts_read - before.receipts_read,
        state_changes_read: after.state_changes_read - before.state_changes_read,
    }
}

/// What a block extending the head costs the store: one atomic write, nothing read back.
pub const ONE_WRITE_NO_READ_BACK: StoreIo = StoreIo {
    batches_written: 1,
    bodies_read: 0,
    receipts_read: 0,
    state_changes_read: 0,
};

/// The payer's rule set of the agent tests: rule 10 certifies a lumbar MRI (72141–72158)
/// automatically, rule 20 sends an abdominal CT (74176–74178) to a clinician; a reason for
/// every edit.
pub fn payer_rules() -> (Vec<coverage::Rule>, Vec<coverage::EditReason>) {
    let reasons = coverage_rules::EVERY_EDIT
        .iter()
        .enumerate()
        .map(|(index, edit)| coverage::EditReason {
            edit: edit.clone(),
            reason: coverage::Reason {
                code: format!("R{index}"),
                text: format!("{edit:?} edit"),
            },
        })
        .collect();
    (
        vec![
            coverage::Rule::prior_authorisation(10, "62", ("72141", "72158"), true),
            coverage::Rule::prior_authorisation(20, "62", ("74176", "74178"), false),
        ],
        reasons,
    )
}

/// The CLI tests' reading of a `salus` run: its stdout, failing with its stderr and stdout
/// unless it succeeded.
pub fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The JSON object a command printed last (`salus tx` prints a line before it).
pub fn printed_json(output: &std::process::Output) -> serde_json::Value {
    let text = ok(output);
    let start = text.find('{').expect("JSON printed");
    serde_json::from_str(&text[start..]).unwrap()
}

/// The payer's world of the payer tests (`fhir_payer`, `fhir_preauth`, `payer_agent`): a
/// `salus dev` node with the payer, the hospital and the patient registered, the payer's reply
/// key registered, the member's coverage and the rule set on chain, the payer's records file
/// and the agent's inbox.
pub mod payer {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use coverage::{CoverageStatus, Period, PlanType, Priority};
    use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
    use parity_scale_codec::Encode;
    use salus_client::rpc::{ReceiptView, SalusApiClient};
    use salus_client::seal::CommitmentSalt;
    use salus_client::{ContractAbi, TransactionBuilder};
    use salus_node::agent::submission::{inbox_file, seal_delivery};
    use salus_node::agent::{SealedClaim, SealedSubmission, SubmissionLine, seal_claim};
    use salus_node::gateway::ReplyKey;
    use salus_node::gateway::ledger::{call_input, registered_key};
    use salus_node::genesis::{DEV_CHAIN_ID, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS};
    use salus_primitives::{Address, Hash};
    use serde_json::json;

    use super::{DevProcess, dev_key, payer_rules};

    pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
    /// How long a test waits for a transaction, or for the chain.
    pub const DEADLINE: Duration = Duration::from_secs(60);

    /// The registry's authority, the payer, the hospital, a stranger, the patient.
    pub const AUTHORITY: u32 = 0;
    pub const PAYER: u32 = 1;
    pub const HOSPITAL: u32 = 2;
    pub const STRANGER: u32 = 3;
    pub const PATIENT: u32 = 4;
    /// The payer's utilisation-management nurse, a clinician (registry role `Practitioner`).
    pub const CLINICIAN: u32 = 5;

    pub const NPI: &str = "1234567893";
    /// Lumbar spine MRI: auto-approved by rule 10 (service type 62).
    pub const MRI: &str = "72148";
    /// Abdominal CT: rule 20 sends it to clinical review.
    pub const CT: &str = "74177";
    pub const DIAGNOSIS: &str = "M54.16";
    pub const MEMBER: Hash = Hash([0x4d; 32]);

    pub fn address(index: u32) -> Address {
        dev_key(index).address()
    }

    /// Runs `salus` against the node; its stdout, or its stdout and stderr.
    pub fn salus(node: &DevProcess, arguments: &[&str]) -> Result<String, String> {
        let output = node.salus(arguments);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Signs `input` to `contract` as dev account `from`, submits it and polls for its receipt.
    pub async fn transact(
        http: &HttpClient,
        from: u32,
        contract: Address,
        input: Vec<u8>,
    ) -> ReceiptView {
        let nonce = http
            .state_get_account(address(from).to_string(), None)
            .await
            .unwrap()
            .nonce;
        let transaction = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(from), nonce)
            .fuel(20_000_000, 1)
            .call(contract, input);
        let hash = http
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .unwrap();
        receipt(http, &hash).await
    }

    /// Polls for the receipt of `hash`, for at most a minute.
    pub async fn receipt(http: &HttpClient, hash: &str) -> ReceiptView {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(receipt) = http.tx_receipt(hash.to_string()).await.unwrap() {
                return receipt;
            }
            assert!(Instant::now() < deadline, "{hash} was not included");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// [`transact`], which must succeed.
    pub async fn must(
        http: &HttpClient,
        from: u32,
        contract: Address,
        input: Vec<u8>,
    ) -> ReceiptView {
        let receipt = transact(http, from, contract, input).await;
        assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
        receipt
    }

    /// The payer's rule set (`payer_rules`) and its effective period around `now`.
    pub fn rules(now: u64) -> (Vec<coverage::Rule>, Vec<coverage::EditReason>, Period) {
        let (rules, reasons) = payer_rules();
        let period = Period {
            start_ms: now - DAY_MS,
            end_ms: now + 365 * DAY_MS,
        };
        (rules, reasons, period)
    }

    /// `salus agent payer --once` with the payer's key, `inbox` and `records`: its output lines.
    pub fn agent_once(node: &DevProcess, inbox: &Path, records: &Path) -> String {
        salus(
            node,
            &[
                "agent",
                "payer",
                "--key",
                &format!("dev:{PAYER}"),
                "--inbox",
                inbox.to_str().unwrap(),
                "--records",
                records.to_str().unwrap(),
                "--once",
            ],
        )
        .unwrap()
    }

    /// An MRI and a CT for the member on `service_ms`, under `handle`.
    pub fn submission(handle: Hash, service_ms: u64) -> SealedSubmission {
        let line = |procedure: &str| SubmissionLine {
            procedure: procedure.into(),
            modifiers: vec![],
            quantity: 1,
            from_ms: service_ms,
            to_ms: service_ms,
            place_of_service: "11".into(),
        };
        SealedSubmission {
            trace_handle: handle,
            payer: address(PAYER),
            member: MEMBER,
            servicing_npi: NPI.into(),
            servicing_provider: None,
            priority: "Standard".into(),
            lines: vec![line(MRI), line(CT)],
            diagnoses: vec![DIAGNOSIS.into()],
            attachment_templates: vec![],
        }
    }

    /// The payer's registered reply key.
    async fn payer_key(http: &HttpClient) -> ReplyKey {
        registered_key(http, DEV_REGISTRY_ADDRESS, address(PAYER))
            .await
            .unwrap()
            .expect("the payer registered its key")
    }

    /// The hospital posts the skeleton committing to `committed` and delivers `delivered`
    /// sealed to the payer's registered key into `inbox`; the `submit_sealed` receipt.
    pub async fn submit_sealed(
        http: &HttpClient,
        inbox: &Path,
        committed: &SealedSubmission,
        delivered: &SealedSubmission,
        salt: &CommitmentSalt,
    ) -> ReceiptView {
        let sealed = seal_delivery(delivered, salt, &payer_key(http).await).unwrap();
        std::fs::write(inbox_file(inbox, &committed.trace_handle), sealed).unwrap();
        let arguments = (
            committed.trace_handle,
            committed.payer,
            committed.member,
            Priority::Standard,
            committed.lines.len() as u32,
            committed.commitment(salt),
        );
        let input = call_input("submit_sealed", arguments);
        must(http, HOSPITAL, DEV_COVERAGE_ADDRESS, input).await
    }

    /// The hospital posts `claim` and delivers it sealed to the payer's key into `inbox`; the
    /// `submit_claim` receipt.
    pub async fn submit_claim(
        http: &HttpClient,
        inbox: &Path,
        claim: &SealedClaim,
        salt: &CommitmentSalt,
    ) -> ReceiptView {
        let sealed = seal_claim(claim, salt, &payer_key(http).await).unwrap();
        std::fs::write(inbox_file(inbox, &claim.claim_handle), sealed).unwrap();
        let arguments = (
            claim.claim_handle,
            claim.payer,
            claim.member,
            claim.trace_handle,
            claim.lines.len() as u32,
            claim.commitment(salt),
        );
        let input = call_input("submit_claim", arguments);
        must(http, HOSPITAL, DEV_COVERAGE_ADDRESS, input).await
    }

    /// The payer's world, built by [`PayerWorld::builder`].
    pub struct PayerWorld {
        pub node: DevProcess,
        pub http: HttpClient,
        /// The chain head's timestamp when the world was built.
        pub now: u64,
        /// The agent's inbox (`inbox/` in the node's directory), empty.
        pub inbox: PathBuf,
        /// The payer's records file (`payer-records.json`): the member alone.
        pub records: PathBuf,
    }

    /// What differs between the payer tests' worlds.
    pub struct PayerWorldBuilder {
        plan_type: PlanType,
        members: Vec<Hash>,
        reviewer: bool,
        network_plan: bool,
        quantity_limit: Option<u32>,
    }

    impl PayerWorld {
        /// A PPO covering [`MEMBER`]; no reviewer; the records' plan out of network, the
        /// benefit (service type 62, authorisation required) without a limit.
        pub fn builder() -> PayerWorldBuilder {
            PayerWorldBuilder {
                plan_type: PlanType::Ppo,
                members: vec![MEMBER],
                reviewer: false,
                network_plan: false,
                quantity_limit: None,
            }
        }
    }

    impl PayerWorldBuilder {
        /// The plan type of the coverage on chain.
        pub fn plan_type(mut self, plan_type: PlanType) -> Self {
            self.plan_type = plan_type;
            self
        }

        /// The members covered on chain (the records hold [`MEMBER`] alone).
        pub fn members(mut self, members: &[Hash]) -> Self {
            self.members = members.to_vec();
            self
        }

        /// [`CLINICIAN`] registered as a `Practitioner` and set as the payer's reviewer.
        pub fn reviewer(mut self) -> Self {
            self.reviewer = true;
            self
        }

        /// The records' member: in a network plan, with a benefit `quantity_limit`.
        pub fn network_plan(mut self, quantity_limit: u32) -> Self {
            self.network_plan = true;
            self.quantity_limit = Some(quantity_limit);
            self
        }

        pub async fn build(self) -> PayerWorld {
            let node = DevProcess::start(50);
            let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
            let registry: ContractAbi = serde_json::from_value(
                http.contract_abi(DEV_REGISTRY_ADDRESS.to_string())
                    .await
                    .unwrap()
                    .unwrap(),
            )
            .unwrap();
            let now = http.chain_head().await.unwrap().timestamp_ms;
            let mut parties = vec![
                (PAYER, "Payer", Some(NPI)),
                (HOSPITAL, "ProviderOrganisation", Some(NPI)),
                (PATIENT, "Patient", None),
            ];
            if self.reviewer {
                parties.push((CLINICIAN, "Practitioner", None));
            }
            for (who, role, npi) in parties {
                let arguments = json!([
                    address(who).to_string(),
                    [role],
                    npi,
                    null,
                    null,
                    "0",
                    (now + 3650 * DAY_MS).to_string(),
                    Hash([0x11; 32]).to_string()
                ]);
                let input = registry.encode_call("register", &arguments).unwrap();
                must(&http, AUTHORITY, DEV_REGISTRY_ADDRESS, input).await;
            }
            salus(
                &node,
                &[
                    "record",
                    "reply-key",
                    "--key",
                    &format!("dev:{PAYER}"),
                    "--register",
                ],
            )
            .unwrap();
            let (rules, reasons, period) = rules(now);
            for member in self.members {
                let coverage = coverage::Coverage {
                    beneficiary: address(PATIENT),
                    plan_type: self.plan_type.clone(),
                    period: period.clone(),
                    status: CoverageStatus::Active,
                };
                let input = call_input("set_coverage", (member, coverage));
                must(&http, PAYER, DEV_COVERAGE_ADDRESS, input).await;
            }
            let input = call_input(
                "publish_rules",
                (Hash([0x90; 32]), period.clone(), rules, reasons),
            );
            must(&http, PAYER, DEV_COVERAGE_ADDRESS, input).await;
            if self.reviewer {
                let input = call_input("set_reviewer", (address(CLINICIAN), true));
                must(&http, PAYER, DEV_COVERAGE_ADDRESS, input).await;
            }
            let inbox = node.dir.path().join("inbox");
            std::fs::create_dir_all(&inbox).unwrap();
            let records = node.dir.path().join("payer-records.json");
            let file = json!({
                "network": [NPI],
                "members": [{
                    "member": MEMBER.to_string(),
                    "active": true,
                    "period": { "start_ms": period.start_ms, "end_ms": period.end_ms },
                    "birth_year": 1980,
                    "sex": "F",
                    "network_plan": self.network_plan,
                    "benefits": [{ "service_type": "62", "authorisation_required": true,
                                   "quantity_limit": self.quantity_limit, "quantity_used": 0 }],
                    "certified": [],
                }],
            });
            std::fs::write(&records, file.to_string()).unwrap();
            PayerWorld {
                node,
                http,
                now,
                inbox,
                records,
            }
        }
    }
}
