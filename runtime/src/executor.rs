//! Execution of transactions and blocks: admission checks that make a block invalid, then the
//! action, whose failure is recorded in a receipt while the fee is kept and the nonce advances.

use salus_primitives::{
    Action, Address, Balance, ChainParams, ExecutionStatus, Hash, Receipt, SignedTransaction,
};

use crate::block_context::BlockContext;
use crate::fuel_schedule::{TRANSFER_FUEL, intrinsic_fuel};
use crate::overlay::{Overlay, StateChanges};
use crate::state::{SharedState, StateError};
use crate::transaction::{
    HashedTransaction, InvalidTransaction, NoSignatureCache, SignatureCache, VerifiedTransaction,
    check_stateless,
};
use crate::wasm::{ContractOutcome, TransactionEnv, Vm};

/// Why a block's transactions cannot be executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockExecutionError {
    /// Transaction `index` is inadmissible.
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    InvalidTransaction {
        /// Position in the block.
        index: usize,
        /// Its hash.
        hash: Hash,
        /// Why.
        error: InvalidTransaction,
    },
    /// A transaction's fuel limit exceeds what the block has left: the fuel used by the
    /// transactions before it plus its own limit is over the block's.
    #[error(
        "block would need {needed} fuel (used before a transaction plus its limit), limit is {limit}"
    )]
    BlockFuelLimitExceeded {
        /// Fuel used by the earlier transactions plus this one's limit.
        needed: u64,
        /// The chain's block fuel limit.
        limit: u64,
    },
    /// The storage backend failed; the block is neither valid nor invalid.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The result of executing a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockExecution {
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// Every key written, with its value before and after the block.
    pub changes: StateChanges,
    /// Fuel used by all transactions.
    pub fuel_used: u64,
}

/// Executes `transactions` in order over `state`, then pays the miner the block reward and the
/// fees.
///
/// # Errors
/// [`BlockExecutionError`] if any transaction is inadmissible, the block reserves too much fuel,
/// or the state backend fails.
pub fn execute_block(
    params: &ChainParams,
    vm: &Vm,
    state: SharedState,
    context: &BlockContext,
    transactions: &[VerifiedTransaction],
) -> Result<BlockExecution, BlockExecutionError> {
    let mut builder = BlockBuilder::new(params, vm, state, *context);
    for (index, transaction) in transactions.iter().enumerate() {
        builder.push(transaction).map_err(|failure| match failure {
            PushError::Invalid(error) => BlockExecutionError::InvalidTransaction {
                index,
                hash: transaction.hash(),
                error,
            },
            PushError::BlockFull { needed, limit } => {
                BlockExecutionError::BlockFuelLimitExceeded { needed, limit }
            }
            PushError::State(error) => BlockExecutionError::State(error),
        })?;
    }
    Ok(builder.finish()?)
}

/// Why [`BlockBuilder::push`] did not add a transaction. The builder's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The transaction is inadmissible here.
    #[error(transparent)]
    Invalid(InvalidTransaction),
    /// Its fuel limit does not fit in what the block has left (the block's limit minus the
    /// fuel its transactions used).
    #[error("block would need {needed} fuel, limit is {limit}")]
    BlockFull {
        /// Fuel used so far plus this transaction's limit.
        needed: u64,
        /// The chain's block fuel limit.
        limit: u64,
    },
    /// The state backend failed.
    #[error(transparent)]
    State(StateError),
}

/// Why [`BlockBuilder::push_candidate`] left a transaction out. The builder's state is
/// unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    /// What [`BlockBuilder::push`] refuses.
    #[error(transparent)]
    Refused(#[from] PushError),
    /// It would load a code beyond the most distinct codes a block may load
    /// ([`crate::limits::MAX_CODES_LOADED_PER_BLOCK`]); a later block can hold it.
    #[error("the block has loaded the most distinct contract codes it may")]
    CodeLoadLimit,
}

/// Executes transactions one at a time on top of a state: block import pushes a block's
/// transactions, a miner pushes mempool candidates and keeps those that fit.
pub struct BlockBuilder<'a> {
    params: &'a ChainParams,
    vm: &'a Vm,
    context: BlockContext,
    overlay: Overlay,
    receipts: Vec<Receipt>,
    fees: Balance,
    fuel_used: u64,
}

impl<'a> BlockBuilder<'a> {
    /// An empty block on top of `state`.
    pub fn new(
        params: &'a ChainParams,
        vm: &'a Vm,
        state: SharedState,
        context: BlockContext,
    ) -> Self {
        BlockBuilder {
            params,
            vm,
            context,
            overlay: Overlay::new(state),
            receipts: Vec::new(),
            fees: 0,
            fuel_used: 0,
        }
    }

    /// Fuel used so far by the pushed transactions.
    pub fn fuel_used(&self) -> u64 {
        self.fuel_used
    }

    /// Executes `transaction` and appends its receipt, as block import does: whatever happens
    /// to the action, the transaction is part of the block.
    ///
    /// # Errors
    /// [`PushError`]; on error nothing of the transaction is kept.
    pub fn push(&mut self, transaction: &VerifiedTransaction) -> Result<&Receipt, PushError> {
        self.push_as(transaction, None)
    }

    /// Executes `transaction` and appends its receipt, as a miner does: like [`Self::push`],
    /// but a transaction refused a code load because the block already loaded the most
    /// distinct codes it may is left out ([`CandidateError::CodeLoadLimit`]) unless the block
    /// is empty, so that it runs in a later block instead of failing.
    ///
    /// # Errors
    /// [`CandidateError`]; on error nothing of the transaction is kept.
    pub fn push_candidate(
        &mut self,
        transaction: &VerifiedTransaction,
    ) -> Result<&Receipt, CandidateError> {
        self.push_as(transaction, Some(CandidateError::CodeLoadLimit))
    }

    /// Executes and appends `transaction`. With `deferred`, a transaction refused a code load
    /// is left out with that error instead of kept (unless the block is empty).
    fn push_as<E: From<PushError>>(
        &mut self,
        transaction: &VerifiedTransaction,
        deferred: Option<E>,
    ) -> Result<&Receipt, E> {
        // As in Ethereum: a transaction fits if its whole limit fits in what the block has
        // left, and the block is charged what it used, so Σ fuel used ≤ the block's limit.
        let needed = self
            .fuel_used
            .saturating_add(transaction.transaction().transaction.fuel_limit);
        if needed > self.params.block_fuel_limit {
            return Err(PushError::BlockFull {
                needed,
                limit: self.params.block_fuel_limit,
            }
            .into());
        }
        let code_loads = self.overlay.start_transaction();
        self.overlay.checkpoint();
        let environment = ExecutionEnvironment {
            params: self.params,
            vm: self.vm,
            block: self.context,
        };
        match execute_transaction(&environment, &mut self.overlay, transaction) {
            Ok(_)
                if deferred.is_some()
                    && self.overlay.code_load_refused()
                    && !self.receipts.is_empty() =>
            {
                self.overlay.revert();
                self.overlay.forget_code_loads_since(code_loads);
                Err(deferred.expect("checked by the guard"))
            }
            Ok(outcome) => {
                self.overlay.commit();
                self.fees = self.fees.saturating_add(outcome.fee);
                self.fuel_used = self.fuel_used.saturating_add(outcome.receipt.fuel_used);
                self.receipts.push(outcome.receipt);
                Ok(self.receipts.last().expect("just pushed"))
            }
            Err(failure) => {
                self.overlay.revert();
                // Nothing of the transaction is kept, its code loads included: the block's
                // count of distinct codes (consensus) must be what the transactions kept load.
                self.overlay.forget_code_loads_since(code_loads);
                Err(match failure {
                    TransactionFailure::Invalid(error) => PushError::Invalid(error),
                    TransactionFailure::State(error) => PushError::State(error),
                }
                .into())
            }
        }
    }

    /// Pays the miner and returns the block's receipts and write set.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    pub fn finish(mut self) -> Result<BlockExecution, StateError> {
        let miner_address = self.context.miner;
        let mut miner = self.overlay.account(&miner_address)?;
        miner.balance = miner
            .balance
            .saturating_add(self.params.block_reward)
            .saturating_add(self.fees);
        self.overlay.set_account(&miner_address, &miner)?;
        Ok(BlockExecution {
            receipts: self.receipts,
            changes: self.overlay.into_changes(),
            fuel_used: self.fuel_used,
        })
    }
}

/// Why a transaction was not admitted: a rule it breaks, or a backend failure while checking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionFailure {
    /// The transaction breaks an admission rule.
    #[error(transparent)]
    Invalid(InvalidTransaction),
    /// The state backend failed.
    #[error(transparent)]
    State(StateError),
}

impl From<StateError> for TransactionFailure {
    fn from(error: StateError) -> Self {
        TransactionFailure::State(error)
    }
}

impl From<InvalidTransaction> for TransactionFailure {
    fn from(error: InvalidTransaction) -> Self {
        TransactionFailure::Invalid(error)
    }
}

struct TransactionOutcome {
    receipt: Receipt,
    fee: Balance,
}

/// The admission rules of block execution: the stateless ones ([`check_stateless`]), then the
/// sender's nonce and the payer's (and sender's) balance in `overlay`.
fn admission(
    params: &ChainParams,
    overlay: &Overlay,
    transaction: &VerifiedTransaction,
) -> Result<(), TransactionFailure> {
    check_stateless(params, transaction.hashed())?;
    let signers = transaction.signers();
    let tx = &transaction.transaction().transaction;
    let sender = overlay.account(&signers.sender)?;
    if tx.nonce < sender.nonce {
        return Err(InvalidTransaction::NonceTooLow {
            expected: sender.nonce,
            found: tx.nonce,
        }
        .into());
    }
    if tx.nonce > sender.nonce {
        return Err(InvalidTransaction::NonceTooHigh {
            expected: sender.nonce,
            found: tx.nonce,
        }
        .into());
    }
    let max_fee = tx.max_fee().ok_or(InvalidTransaction::FeeOverflow)?;
    let value = tx.value();
    if signers.payer == signers.sender {
        let needed = max_fee
            .checked_add(value)
            .ok_or(InvalidTransaction::FeeOverflow)?;
        if sender.balance < needed {
            return Err(InvalidTransaction::InsufficientBalance {
                needed,
                available: sender.balance,
            }
            .into());
        }
    } else {
        let payer = overlay.account(&signers.payer)?;
        if payer.balance < max_fee {
            return Err(InvalidTransaction::InsufficientBalance {
                needed: max_fee,
                available: payer.balance,
            }
            .into());
        }
        if sender.balance < value {
            return Err(InvalidTransaction::InsufficientBalance {
                needed: value,
                available: sender.balance,
            }
            .into());
        }
    }
    Ok(())
}

/// What every transaction of a block executes against, besides the state.
struct ExecutionEnvironment<'a> {
    params: &'a ChainParams,
    vm: &'a Vm,
    block: BlockContext,
}

fn execute_transaction(
    environment: &ExecutionEnvironment<'_>,
    overlay: &mut Overlay,
    transaction: &VerifiedTransaction,
) -> Result<TransactionOutcome, TransactionFailure> {
    let ExecutionEnvironment { params, vm, block } = environment;
    admission(params, overlay, transaction)?;
    let signers = transaction.signers();
    let tx = &transaction.transaction().transaction;

    // The nonce advances whatever the action does.
    let mut sender = overlay.account(&signers.sender)?;
    sender.nonce += 1;
    overlay.set_account(&signers.sender, &sender)?;

    let intrinsic = intrinsic_fuel(transaction.encoded_size());
    overlay.checkpoint();
    let budget = tx.fuel_limit - intrinsic;
    let env = TransactionEnv {
        origin: signers.sender,
        block: *block,
        chain_id: params.chain_id,
    };
    let outcome = match &tx.action {
        Action::Transfer { to, amount } => {
            if TRANSFER_FUEL > budget {
                ContractOutcome::plain(ExecutionStatus::OutOfFuel, budget)
            } else {
                transfer(overlay, &signers.sender, to, *amount)?;
                ContractOutcome::plain(ExecutionStatus::Success, TRANSFER_FUEL)
            }
        }
        Action::Deploy {
            code,
            constructor_input,
            salt,
            value,
        } => vm.deploy(
            overlay,
            env,
            signers.sender,
            code,
            constructor_input.clone(),
            *salt,
            *value,
            budget,
        )?,
        Action::Call {
            contract,
            input,
            value,
        } => vm.call(
            overlay,
            env,
            signers.sender,
            *contract,
            input.clone(),
            *value,
            budget,
        )?,
    };
    if outcome.status.is_success() {
        overlay.commit();
    } else {
        overlay.revert();
    }
    let action_fuel = outcome.fuel_used.min(budget);

    let fuel_used = intrinsic + action_fuel;
    let fee = Balance::from(fuel_used).saturating_mul(tx.fuel_price);
    let mut payer = overlay.account(&signers.payer)?;
    // Admission checked payer.balance ≥ fuel_limit × price ≥ fee.
    payer.balance -= fee;
    overlay.set_account(&signers.payer, &payer)?;

    Ok(TransactionOutcome {
        receipt: Receipt {
            transaction_hash: transaction.hash(),
            status: outcome.status,
            fuel_used,
            events: outcome.events,
            return_data: outcome.return_data,
        },
        fee,
    })
}

fn transfer(
    overlay: &mut Overlay,
    from: &Address,
    to: &Address,
    amount: Balance,
) -> Result<(), StateError> {
    let mut source = overlay.account(from)?;
    // Admission checked the sender covers the value.
    source.balance -= amount;
    overlay.set_account(from, &source)?;
    let mut destination = overlay.account(to)?;
    destination.balance = destination.balance.saturating_add(amount);
    overlay.set_account(to, &destination)?;
    Ok(())
}

/// Verifies a block's transactions in order (signers from `cache` where it has them), as block
/// import does before executing them.
///
/// # Errors
/// [`BlockExecutionError::InvalidTransaction`] naming the first transaction whose signature
/// does not verify.
pub fn verify_transactions(
    transactions: impl IntoIterator<Item = HashedTransaction>,
    cache: &dyn SignatureCache,
) -> Result<Vec<VerifiedTransaction>, BlockExecutionError> {
    transactions
        .into_iter()
        .enumerate()
        .map(|(index, transaction)| {
            transaction.verify(cache).map_err(|(hash, error)| {
                BlockExecutionError::InvalidTransaction {
                    index,
                    hash,
                    error: InvalidTransaction::BadSignature(error),
                }
            })
        })
        .collect()
}

/// [`verify_transactions`] for transactions not hashed yet, recovering every signature: what a
/// test or a tool that executes signed transactions needs.
///
/// # Errors
/// As [`verify_transactions`].
pub fn recover_transactions(
    transactions: &[SignedTransaction],
) -> Result<Vec<VerifiedTransaction>, BlockExecutionError> {
    verify_transactions(
        transactions.iter().cloned().map(HashedTransaction::new),
        &NoSignatureCache,
    )
}
