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
    let rule = |id: u32, from: &str, to: &str, automatic: bool| coverage::Rule {
        id,
        service_type: "62".into(),
        procedures: vec![coverage::CodeRange {
            from: from.into(),
            to: to.into(),
        }],
        diagnoses: vec![],
        min_age: None,
        max_age: None,
        sexes: vec![],
        places_of_service: vec![],
        network_required: false,
        quantity_per_period: None,
        prior_authorisation: true,
        documentation: None,
        auto_approve: automatic.then(|| coverage::AutoApprove {
            diagnoses: vec![],
            max_quantity: None,
            in_network_only: false,
        }),
        authorised_days: 60,
    };
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
            rule(10, "72141", "72158", true),
            rule(20, "74176", "74178", false),
        ],
        reasons,
    )
}
