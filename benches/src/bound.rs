//! The bound B of this machine for a workload, measured in-process by the node's own code
//! paths: a dev chain on RocksDB is brought to the workload's set-up state with the same signed
//! set-up transactions the node receives, then one block's worth of load transactions is
//! decoded, hashed, recovered, executed, committed to the state tree and written, each stage
//! timed on one core. B = cores / Σ(stage cost per transaction).

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use parity_scale_codec::{Decode, Encode};
use salus_node::mining::{SearchOutcome, search_nonce};
use salus_node::state_tree;
use salus_primitives::{Action, Address, SignedTransaction};
use salus_runtime::fuel_schedule::intrinsic_fuel;
use salus_runtime::wasm::TransactionEnv;
use salus_runtime::{BlockContext, execute_block};

use crate::{dev_genesis, fresh_chain};

/// The single-core cost of each stage, per transaction.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageCosts {
    /// SCALE decode of a signed transaction.
    pub decode: Duration,
    /// keccak256 of the encoded transaction.
    pub hash: Duration,
    /// Signature recovery (the sender's address from the signature).
    pub signature: Duration,
    /// Execution: admission, fees, the transfer or the Wasm call, over the block's overlay.
    pub execution: Duration,
    /// Updating the state tree to the new state root.
    pub commitment: Duration,
    /// The block's atomic RocksDB write (WAL on): body, receipts, undo data, state, tree nodes.
    pub write: Duration,
}

impl StageCosts {
    /// Σ of the stages.
    pub fn total(&self) -> Duration {
        self.decode + self.hash + self.signature + self.execution + self.commitment + self.write
    }

    /// The stages one chain can only run one block at a time: execution, commitment, write.
    pub fn serial(&self) -> Duration {
        self.execution + self.commitment + self.write
    }

    /// B = cores / Σ, in transactions per second.
    pub fn bound(&self, cores: usize) -> f64 {
        cores as f64 / self.total().as_secs_f64()
    }

    /// The tighter bound when the serial stages run on one core at a time and the rest
    /// (decode, hash, signatures) on the others: min(B, 1 / serial).
    pub fn serial_bound(&self, cores: usize) -> f64 {
        self.bound(cores).min(1.0 / self.serial().as_secs_f64())
    }

    /// Each stage's median over `rounds` (zero when there are none).
    pub fn median(rounds: &[StageCosts]) -> StageCosts {
        let stage = |pick: fn(&StageCosts) -> Duration| {
            let mut values: Vec<Duration> = rounds.iter().map(pick).collect();
            values.sort();
            values.get(values.len() / 2).copied().unwrap_or_default()
        };
        StageCosts {
            decode: stage(|costs| costs.decode),
            hash: stage(|costs| costs.hash),
            signature: stage(|costs| costs.signature),
            execution: stage(|costs| costs.execution),
            commitment: stage(|costs| costs.commitment),
            write: stage(|costs| costs.write),
        }
    }

    /// One line per stage, in µs per transaction.
    pub fn table(&self) -> String {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
        format!(
            "  decode {:.2} µs, hash {:.2} µs, signature {:.1} µs, execution {:.1} µs, \
             commitment {:.1} µs, write {:.1} µs; Σ {:.1} µs (serial part {:.1} µs)",
            micros(self.decode),
            micros(self.hash),
            micros(self.signature),
            micros(self.execution),
            micros(self.commitment),
            micros(self.write),
            micros(self.total()),
            micros(self.serial()),
        )
    }
}

/// A dev chain in a temporary directory, advanced block by block in-process.
pub struct LocalChain {
    chain: salus_node::Chain,
    _dir: tempfile::TempDir,
}

impl LocalChain {
    /// A fresh dev chain.
    pub fn new() -> Self {
        let (chain, dir) = fresh_chain(&dev_genesis());
        LocalChain { chain, _dir: dir }
    }

    fn context(&self) -> BlockContext {
        let head = &self.chain.head().header;
        BlockContext {
            number: head.number + 1,
            timestamp_ms: head.timestamp_ms + 1_000,
            miner: Address([0xee; 20]),
        }
    }

    /// Mines `transactions` into one block and imports it; every one must succeed.
    ///
    /// # Errors
    /// If a transaction is skipped or fails, or the chain refuses the block.
    pub fn mine(&mut self, transactions: &[SignedTransaction]) -> anyhow::Result<Duration> {
        let context = self.context();
        let candidates = salus_runtime::recover_transactions(transactions)?;
        let template = self
            .chain
            .build_block(context.miner, context.timestamp_ms, &candidates)?;
        if let Some((hash, error)) = template.skipped.first() {
            bail!(
                "{} set-up transactions skipped, first {hash}: {error:?}",
                template.skipped.len()
            );
        }
        let header = match search_nonce(&template.header, 1, &AtomicBool::new(false))? {
            SearchOutcome::Found(header) => header,
            other => bail!("nonce search: {other:?}"),
        };
        let block = template.seal(header);
        let hash = block.hash();
        let started = Instant::now();
        self.chain
            .import_block(block, salus_node::wall_clock_ms())?;
        let write = started.elapsed();
        let receipts = self.chain.receipts(&hash)?.context("receipts")?;
        if let Some(failed) = receipts.iter().find(|receipt| !receipt.status.is_success()) {
            bail!(
                "set-up transaction {} failed: {:?}",
                failed.transaction_hash,
                failed.status
            );
        }
        Ok(write)
    }

    /// Receipts of `transactions` executed in order at the head over a throw-away overlay
    /// (nothing is committed).
    ///
    /// # Errors
    /// If one is not admissible.
    pub fn dry_run(
        &self,
        transactions: &[SignedTransaction],
    ) -> anyhow::Result<Vec<salus_primitives::Receipt>> {
        let transactions = salus_runtime::recover_transactions(transactions)?;
        let execution = execute_block(
            self.chain.params(),
            self.chain.vm(),
            self.chain.head_state(),
            &self.context(),
            &transactions,
        )
        .map_err(|error| anyhow::anyhow!("dry run: {error:?}"))?;
        Ok(execution.receipts)
    }

    /// Where a contract call's fuel goes, run at the head over a throw-away overlay: the
    /// outcome (fuel used, not counting intrinsic fuel) and the fuel charged by each host
    /// function. `None` for a transaction that is not a contract call.
    ///
    /// # Errors
    /// If the transaction's signature does not recover or the state backend fails.
    pub fn call_fuel(
        &self,
        transaction: &SignedTransaction,
    ) -> anyhow::Result<Option<salus_runtime::ContractOutcome>> {
        let Action::Call {
            contract,
            input,
            value,
        } = &transaction.transaction.action
        else {
            return Ok(None);
        };
        let origin = transaction.verify_signatures()?.sender;
        let params = self.chain.params();
        let env = TransactionEnv::new(params, self.context(), origin);
        let budget =
            transaction.transaction.fuel_limit - intrinsic_fuel(transaction.encoded_size());
        let outcome = self
            .chain
            .vm()
            .dry_run(
                self.chain.head_state(),
                env,
                *contract,
                input.clone(),
                *value,
                budget,
            )
            .map_err(|error| anyhow::anyhow!("dry run: {error}"))?;
        Ok(Some(outcome))
    }

    /// Fuel `transaction` uses at the head (executed over a throw-away overlay).
    ///
    /// # Errors
    /// If it is not admissible or does not succeed.
    pub fn fuel_used(&self, transaction: &SignedTransaction) -> anyhow::Result<u64> {
        let receipts = self.dry_run(std::slice::from_ref(transaction))?;
        let receipt = &receipts[0];
        if !receipt.status.is_success() {
            bail!("probe transaction failed: {:?}", receipt.status);
        }
        Ok(receipt.fuel_used)
    }

    /// Times each stage over `sample` (a valid sequence at the head that fits one block) and
    /// imports it as a block.
    ///
    /// # Errors
    /// If the sample does not execute.
    pub fn measure(&mut self, sample: &[SignedTransaction]) -> anyhow::Result<StageCosts> {
        let count = sample.len() as u32;
        if count == 0 {
            bail!("no transactions to measure");
        }
        let encoded: Vec<Vec<u8>> = sample.iter().map(Encode::encode).collect();
        let started = Instant::now();
        for bytes in &encoded {
            std::hint::black_box(SignedTransaction::decode(&mut &bytes[..])?);
        }
        let decode = started.elapsed() / count;
        let owned = sample.to_vec();
        let started = Instant::now();
        let hashed: Vec<_> = owned
            .into_iter()
            .map(salus_runtime::HashedTransaction::new)
            .collect();
        let hash = started.elapsed() / count;
        // As in the node: the pool recovers each signature once, and the transaction carries its
        // signers into execution.
        let started = Instant::now();
        let verified =
            salus_runtime::verify_transactions(hashed, &salus_runtime::NoSignatureCache)?;
        let signature = started.elapsed() / count;
        let started = Instant::now();
        let execution = execute_block(
            self.chain.params(),
            self.chain.vm(),
            self.chain.head_state(),
            &self.context(),
            &verified,
        )
        .map_err(|error| anyhow::anyhow!("executing the sample: {error:?}"))?;
        let execution_time = started.elapsed() / count;
        if let Some(failed) = execution.receipts.iter().find(|r| !r.status.is_success()) {
            bail!("a load transaction failed: {:?}", failed.status);
        }
        let started = Instant::now();
        let paths = state_tree::path_changes(&execution.changes);
        std::hint::black_box(state_tree::apply(
            self.chain.store(),
            &self.chain.head().header.state_root,
            &paths,
        )?);
        let commitment = started.elapsed() / count;
        // Mining builds the block (executing it once more, untimed) and times only the import:
        // the write of the block and its execution, as the miner's import does.
        let write = self.mine(sample)? / count;
        Ok(StageCosts {
            decode,
            hash,
            signature,
            execution: execution_time,
            commitment,
            write,
        })
    }
}

impl Default for LocalChain {
    fn default() -> Self {
        LocalChain::new()
    }
}
