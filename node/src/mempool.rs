//! The transaction pool: admission checks (signature, chain id, fuel, nonce, balance) with the
//! verified signers cached for block import, per-sender nonce order, fee-price priority across
//! senders, replacement by a higher fee, a bound with eviction of the cheapest, removal of
//! included transactions and re-admission of those a reorganisation orphaned.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use salus_primitives::{Address, Balance, ChainParams, Hash, SignedTransaction};
use salus_runtime::{HashedTransaction, InvalidTransaction, VerifiedTransaction, check_stateless};

use crate::signature_cache::VerifiedSignatures;

/// Most transactions held: about four seconds of the most this node has been measured to
/// include (~12,000 transfers a second, BENCHMARKS.md), so overload becomes refusals after a
/// bounded wait instead of an ever longer queue; beyond it the cheapest go.
pub const MAX_POOL_TRANSACTIONS: usize = 50_000;
/// Most bytes of transactions held.
pub const MAX_POOL_BYTES: usize = 64 * 1024 * 1024;
/// How far ahead of its account's nonce a transaction may be: bounds what one sender can park.
pub const MAX_NONCE_GAP: u64 = 64;
/// A replacement must raise the fuel price by at least this percentage (as Ethereum clients),
/// so that replacing costs something and the pool cannot be churned for free.
pub const REPLACEMENT_PRICE_BUMP_PERCENT: u128 = 10;

/// Why a transaction was not admitted: a rule of block execution it breaks (the same rules and
/// error as a block's transactions), or a rule of the pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// It breaks a rule that would make a block holding it invalid: size, signature, chain id,
    /// fuel limit below the intrinsic cost, stale nonce, a payer who cannot cover it.
    #[error(transparent)]
    Invalid(#[from] InvalidTransaction),
    /// Fuel limit above what a block allows.
    #[error("fuel limit {limit} exceeds the block fuel limit {block_limit}")]
    FuelLimitTooHigh {
        /// The transaction's.
        limit: u64,
        /// The chain's.
        block_limit: u64,
    },
    /// Nonce too far ahead of the account's.
    #[error("nonce {found} is more than {MAX_NONCE_GAP} ahead of the account's {expected}")]
    NonceTooFarAhead {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// The nonce leaves a gap after the sender's pending transactions, and the pool is more
    /// than half full: send the missing nonces first.
    #[error(
        "nonce {found} leaves a gap after the account's next nonce {expected} and the pool is busy: send the missing nonces first"
    )]
    NonceGapInBusyPool {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// Already in the pool.
    #[error("transaction {0} is already pending")]
    AlreadyKnown(Hash),
    /// A pending transaction with the same sender and nonce pays as much or more.
    #[error("replacement needs a fuel price of at least {minimum}")]
    ReplacementUnderpriced {
        /// The least fuel price that would replace it.
        minimum: Balance,
    },
    /// The pool is full of transactions paying at least as much.
    #[error(
        "mempool full: every pending transaction pays a fuel price of at least {cheapest}; retry later or pay more"
    )]
    PoolFull {
        /// Fuel price of the cheapest pending transaction.
        cheapest: Balance,
    },
    /// The state could not be read.
    #[error("state unavailable: {0}")]
    State(String),
    /// The admission queue is full (back-pressure): nothing was checked; retry shortly.
    #[error("the node is busy admitting transactions: retry shortly")]
    Busy,
}

impl AdmissionError {
    /// Whether the transaction can never execute as it stands — its payer cannot cover it —
    /// though an honest sender might have sent it: a relayer of many is scored down, lightly,
    /// and only while this node is caught up (a syncing node's balances are behind).
    pub fn is_useless(&self) -> bool {
        matches!(
            self,
            AdmissionError::Invalid(InvalidTransaction::InsufficientBalance { .. })
        )
    }

    /// Whether the transaction could only come from a broken or hostile sender (a peer relaying
    /// it misbehaves), as opposed to an honest race (stale nonce, full pool, duplicate).
    pub fn is_malicious(&self) -> bool {
        matches!(
            self,
            AdmissionError::Invalid(
                InvalidTransaction::Oversized { .. }
                    | InvalidTransaction::BadSignature(_)
                    | InvalidTransaction::WrongChainId { .. }
                    | InvalidTransaction::FuelLimitTooLow { .. }
            ) | AdmissionError::FuelLimitTooHigh { .. }
        )
    }
}

/// What the pool needs to know about accounts: nonce and balance at the head.
pub trait AccountView {
    /// Nonce and balance of `address`.
    ///
    /// # Errors
    /// A message when the state cannot be read.
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, Balance), String>;
}

/// The checks of admission that need no lock: the stateless rules of block execution
/// ([`check_stateless`]) and the pool's bound on a fuel limit first, then the signatures
/// (recovered here, or taken from `signatures` when this node verified them before, and
/// recorded there for block import). Run it on any thread, before taking the pool's lock.
///
/// # Errors
/// [`AdmissionError`] for an oversized transaction, a wrong chain id, a fuel limit below the
/// intrinsic cost or above the block's, or a bad signature.
pub fn verify_for_admission(
    params: &ChainParams,
    signatures: &VerifiedSignatures,
    transaction: HashedTransaction,
) -> Result<VerifiedTransaction, AdmissionError> {
    check_stateless(params, &transaction)?;
    let fuel_limit = transaction.transaction().transaction.fuel_limit;
    if fuel_limit > params.block_fuel_limit {
        return Err(AdmissionError::FuelLimitTooHigh {
            limit: fuel_limit,
            block_limit: params.block_fuel_limit,
        });
    }
    transaction
        .verify(signatures)
        .map_err(|(_, error)| InvalidTransaction::BadSignature(error).into())
}

/// The pool's bound on transactions held.
#[derive(Clone, Copy, Debug)]
pub struct PoolLimits {
    /// Most transactions.
    pub transactions: usize,
    /// Most bytes.
    pub bytes: usize,
    /// Most fuel the pending transactions reserve, in blocks' worth of the chain's block fuel
    /// limit: the work waiting is bounded whatever the transactions cost, so under overload a
    /// transaction waits at most about this many blocks before the pool refuses newcomers.
    pub fuel_blocks: u64,
}

/// Blocks' worth of fuel the pool holds by default.
pub const POOL_FUEL_BLOCKS: u64 = 4;

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            transactions: MAX_POOL_TRANSACTIONS,
            bytes: MAX_POOL_BYTES,
            fuel_blocks: POOL_FUEL_BLOCKS,
        }
    }
}

struct Pending {
    verified: VerifiedTransaction,
    arrival: u64,
}

impl Pending {
    fn transaction(&self) -> &salus_primitives::Transaction {
        &self.verified.transaction().transaction
    }

    fn sender(&self) -> Address {
        self.verified.signers().sender
    }
}

/// The pool.
pub struct Mempool {
    params: ChainParams,
    limits: PoolLimits,
    signatures: std::sync::Arc<VerifiedSignatures>,
    by_hash: HashMap<Hash, Pending>,
    by_sender: BTreeMap<Address, BTreeMap<u64, Hash>>,
    bytes: usize,
    /// Fuel reserved by the pending transactions (the sum of their fuel limits).
    fuel: u64,
    /// How many pending transactions pay each fuel price: a full pool refuses a transaction
    /// that pays no more than the cheapest without scanning the senders.
    prices: BTreeMap<Balance, usize>,
    arrivals: u64,
    /// Set while the pool is nearly full, readable without the pool's lock
    /// ([`Mempool::nearly_full_flag`]).
    nearly_full: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Share of any bound at which the pool counts as nearly full (per mille).
const NEARLY_FULL_PER_MILLE: u64 = 900;

impl Mempool {
    /// An empty pool for a chain with `params` within `limits`, sharing the chain's signature
    /// cache.
    pub fn new(
        params: ChainParams,
        signatures: std::sync::Arc<VerifiedSignatures>,
        limits: PoolLimits,
    ) -> Self {
        Mempool {
            params,
            limits,
            signatures,
            by_hash: HashMap::new(),
            by_sender: BTreeMap::new(),
            bytes: 0,
            fuel: 0,
            prices: BTreeMap::new(),
            arrivals: 0,
            nearly_full: std::sync::Arc::default(),
        }
    }

    /// A flag set while any of the pool's bounds is at least 90 % used, read without taking the
    /// pool's lock: admission asks a nearly full pool whether it would refuse a transaction
    /// before recovering its signature ([`Mempool::refuse_before_verifying`]), and spares every
    /// other admission that extra lock.
    pub fn nearly_full_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.nearly_full.clone()
    }

    fn update_nearly_full(&self) {
        let nearly = |used: u64, bound: u64| used * 1_000 >= bound * NEARLY_FULL_PER_MILLE;
        let full = nearly(self.by_hash.len() as u64, self.limits.transactions as u64)
            || nearly(self.bytes as u64, self.limits.bytes as u64)
            || nearly(self.fuel, self.fuel_bound());
        self.nearly_full
            .store(full, std::sync::atomic::Ordering::Relaxed);
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The `limit` longest-pending transactions, oldest first (what a node announces again:
    /// [`crate::service::REANNOUNCE_INTERVAL`]).
    pub fn oldest(&self, limit: usize) -> Vec<SignedTransaction> {
        let mut pending: Vec<&Pending> = self.by_hash.values().collect();
        pending.sort_unstable_by_key(|pending| pending.arrival);
        pending
            .into_iter()
            .take(limit)
            .map(|pending| pending.verified.transaction().clone())
            .collect()
    }

    /// A pending transaction by hash.
    pub fn get(&self, hash: &Hash) -> Option<&SignedTransaction> {
        self.by_hash
            .get(hash)
            .map(|pending| pending.verified.transaction())
    }

    /// Checks and adds `transaction`; returns its hash.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks; the pool is unchanged.
    pub fn admit(
        &mut self,
        transaction: SignedTransaction,
        accounts: &impl AccountView,
    ) -> Result<Hash, AdmissionError> {
        self.admit_hashed(HashedTransaction::new(transaction), accounts)
    }

    /// [`Mempool::admit`] for a transaction already hashed.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks; the pool is unchanged.
    pub fn admit_hashed(
        &mut self,
        transaction: HashedTransaction,
        accounts: &impl AccountView,
    ) -> Result<Hash, AdmissionError> {
        self.refuse_before_verifying(&transaction)?;
        let verified = verify_for_admission(&self.params, &self.signatures, transaction)?;
        self.admit_verified(verified, accounts)
    }

    /// What a full pool refuses without recovering a signature: a transaction whose fuel price
    /// is no higher than the cheapest pending one's, which [`Mempool::admit_verified`] would
    /// refuse anyway (it could displace no one, and a replacement must pay more than the
    /// transaction it replaces). Under overload, refusals then cost no signature recovery.
    ///
    /// # Errors
    /// [`AdmissionError::PoolFull`].
    pub fn refuse_before_verifying(
        &self,
        transaction: &HashedTransaction,
    ) -> Result<(), AdmissionError> {
        let tx = &transaction.transaction().transaction;
        if !self.is_full_for(transaction.encoded_size(), tx.fuel_limit) {
            return Ok(());
        }
        match self.prices.keys().next().copied() {
            Some(cheapest) if tx.fuel_price <= cheapest => {
                Err(AdmissionError::PoolFull { cheapest })
            }
            _ => Ok(()),
        }
    }

    /// Adds a transaction whose stateless checks and signatures [`verify_for_admission`]
    /// passed (outside any lock): the checks against the head's accounts and the pool remain.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks; the pool is unchanged.
    pub fn admit_verified(
        &mut self,
        verified: VerifiedTransaction,
        accounts: &impl AccountView,
    ) -> Result<Hash, AdmissionError> {
        let hash = verified.hash();
        let size = verified.encoded_size();
        let signers = verified.signers();
        if self.by_hash.contains_key(&hash) {
            return Err(AdmissionError::AlreadyKnown(hash));
        }
        let tx = &verified.transaction().transaction;
        let (nonce, balance) = accounts
            .nonce_and_balance(&signers.sender)
            .map_err(AdmissionError::State)?;
        if tx.nonce < nonce {
            return Err(InvalidTransaction::NonceTooLow {
                expected: nonce,
                found: tx.nonce,
            }
            .into());
        }
        if tx.nonce > nonce + MAX_NONCE_GAP {
            return Err(AdmissionError::NonceTooFarAhead {
                expected: nonce,
                found: tx.nonce,
            });
        }
        // A transaction after a gap cannot be included until the gap is filled; in a busy pool
        // it would hold room that executable transactions need (and many senders could clog
        // the pool with them), so it waits for the sender to send the missing nonce first.
        let after_gap = tx.nonce > nonce
            && !self
                .by_sender
                .get(&signers.sender)
                .is_some_and(|nonces| nonces.contains_key(&(tx.nonce - 1)));
        if after_gap && self.by_hash.len() >= self.limits.transactions / 2 {
            return Err(AdmissionError::NonceGapInBusyPool {
                expected: nonce,
                found: tx.nonce,
            });
        }
        let max_fee = tx.max_fee().unwrap_or(Balance::MAX);
        let (needed, available) = if signers.payer == signers.sender {
            (max_fee.saturating_add(tx.value()), balance)
        } else {
            let (_, payer_balance) = accounts
                .nonce_and_balance(&signers.payer)
                .map_err(AdmissionError::State)?;
            if balance < tx.value() {
                return Err(InvalidTransaction::InsufficientBalance {
                    needed: tx.value(),
                    available: balance,
                }
                .into());
            }
            (max_fee, payer_balance)
        };
        if available < needed {
            return Err(InvalidTransaction::InsufficientBalance { needed, available }.into());
        }
        // Replacement of the same sender and nonce.
        let replaced = self
            .by_sender
            .get(&signers.sender)
            .and_then(|nonces| nonces.get(&tx.nonce))
            .copied();
        if let Some(old_hash) = replaced {
            let old_price = self.by_hash[&old_hash].transaction().fuel_price;
            let minimum = old_price
                .saturating_add(old_price * REPLACEMENT_PRICE_BUMP_PERCENT / 100)
                .max(old_price + 1);
            if tx.fuel_price < minimum {
                return Err(AdmissionError::ReplacementUnderpriced { minimum });
            }
            self.remove(&old_hash);
        } else if self.is_full_for(size, tx.fuel_limit) {
            let lowest = self.prices.keys().next().copied().unwrap_or(0);
            if tx.fuel_price <= lowest {
                return Err(AdmissionError::PoolFull { cheapest: lowest });
            }
            // Evict the cheapest until the newcomer fits; if it does not pay more than all of
            // them, put them back and refuse (the pool is unchanged).
            let mut evicted = Vec::new();
            while self.is_full_for(size, tx.fuel_limit) {
                let Some((victim, cheapest)) = self.cheapest() else {
                    break;
                };
                if tx.fuel_price <= cheapest {
                    for (hash, pending) in evicted {
                        self.insert(hash, pending);
                    }
                    return Err(AdmissionError::PoolFull { cheapest });
                }
                let pending = self.take(&victim).expect("the cheapest is pending");
                evicted.push((victim, pending));
            }
        }
        self.arrivals += 1;
        let arrival = self.arrivals;
        self.insert(hash, Pending { verified, arrival });
        Ok(hash)
    }

    /// Most fuel the pending transactions may reserve.
    fn fuel_bound(&self) -> u64 {
        self.limits
            .fuel_blocks
            .saturating_mul(self.params.block_fuel_limit)
    }

    /// The cheapest pending transaction: lowest fuel price, and among a sender's, the highest
    /// nonce (so eviction never leaves a gap before other pending ones).
    fn cheapest(&self) -> Option<(Hash, Balance)> {
        self.by_sender
            .values()
            .filter_map(|nonces| nonces.values().next_back())
            .map(|hash| (*hash, self.by_hash[hash].transaction().fuel_price))
            .min_by_key(|(hash, price)| (*price, std::cmp::Reverse(self.by_hash[hash].arrival)))
    }

    /// Whether a transaction of `size` bytes reserving `fuel` would pass one of the bounds.
    fn is_full_for(&self, size: usize, fuel: u64) -> bool {
        self.by_hash.len() >= self.limits.transactions
            || self.bytes + size > self.limits.bytes
            || self.fuel.saturating_add(fuel) > self.fuel_bound()
    }

    fn insert(&mut self, hash: Hash, pending: Pending) {
        let tx = pending.transaction();
        self.by_sender
            .entry(pending.sender())
            .or_default()
            .insert(tx.nonce, hash);
        self.bytes += pending.verified.encoded_size();
        self.fuel += tx.fuel_limit;
        *self.prices.entry(tx.fuel_price).or_insert(0) += 1;
        self.by_hash.insert(hash, pending);
        self.update_nearly_full();
    }

    fn take(&mut self, hash: &Hash) -> Option<Pending> {
        let pending = self.by_hash.remove(hash)?;
        let price = pending.transaction().fuel_price;
        if let Some(count) = self.prices.get_mut(&price) {
            *count -= 1;
            if *count == 0 {
                self.prices.remove(&price);
            }
        }
        self.bytes -= pending.verified.encoded_size();
        self.fuel -= pending.transaction().fuel_limit;
        let sender = pending.sender();
        if let Some(nonces) = self.by_sender.get_mut(&sender) {
            nonces.remove(&pending.transaction().nonce);
            if nonces.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        self.update_nearly_full();
        Some(pending)
    }

    fn remove(&mut self, hash: &Hash) -> Option<VerifiedTransaction> {
        self.take(hash).map(|pending| pending.verified)
    }

    /// Transactions ready to include, best first: each sender's in nonce order starting at its
    /// account nonce, senders interleaved by fuel price (highest first, then earliest arrival),
    /// until their fuel limits add up to `fuel_budget`.
    pub fn select(
        &self,
        accounts: &impl AccountView,
        fuel_budget: u64,
    ) -> Vec<VerifiedTransaction> {
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        struct Candidate {
            price: Balance,
            earlier: std::cmp::Reverse<u64>,
            hash: Hash,
        }
        let mut next_nonce: BTreeMap<Address, u64> = BTreeMap::new();
        let mut heap = BinaryHeap::new();
        for (sender, nonces) in &self.by_sender {
            let Ok((nonce, _)) = accounts.nonce_and_balance(sender) else {
                continue;
            };
            if let Some(hash) = nonces.get(&nonce) {
                let pending = &self.by_hash[hash];
                heap.push(Candidate {
                    price: pending.transaction().fuel_price,
                    earlier: std::cmp::Reverse(pending.arrival),
                    hash: *hash,
                });
                next_nonce.insert(*sender, nonce + 1);
            }
        }
        let mut selected = Vec::new();
        let mut reserved = 0u64;
        while let Some(candidate) = heap.pop() {
            let pending = &self.by_hash[&candidate.hash];
            let fuel = pending.transaction().fuel_limit;
            if reserved + fuel > fuel_budget {
                continue;
            }
            reserved += fuel;
            selected.push(pending.verified.clone());
            let sender = pending.sender();
            let nonce = next_nonce[&sender];
            if let Some(hash) = self
                .by_sender
                .get(&sender)
                .and_then(|nonces| nonces.get(&nonce))
            {
                let next = &self.by_hash[hash];
                heap.push(Candidate {
                    price: next.transaction().fuel_price,
                    earlier: std::cmp::Reverse(next.arrival),
                    hash: *hash,
                });
                next_nonce.insert(sender, nonce + 1);
            }
        }
        selected
    }

    /// Drops transactions that a new head included (by hash) or made stale (nonce below the
    /// account's).
    pub fn prune<'h>(
        &mut self,
        included: impl IntoIterator<Item = &'h Hash>,
        accounts: &impl AccountView,
    ) {
        for hash in included {
            self.remove(hash);
        }
        let stale: Vec<Hash> = self
            .by_sender
            .iter()
            .flat_map(|(sender, nonces)| {
                let account_nonce = accounts
                    .nonce_and_balance(sender)
                    .map(|(nonce, _)| nonce)
                    .unwrap_or(0);
                nonces
                    .range(..account_nonce)
                    .map(|(_, hash)| *hash)
                    .collect::<Vec<_>>()
            })
            .collect();
        for hash in stale {
            self.remove(&hash);
        }
    }

    /// Re-admits transactions of blocks a reorganisation disconnected; those no longer valid
    /// are dropped. Returns how many were re-admitted.
    pub fn readmit(
        &mut self,
        transactions: Vec<HashedTransaction>,
        accounts: &impl AccountView,
    ) -> usize {
        transactions
            .into_iter()
            .map(|transaction| self.admit_hashed(transaction, accounts))
            .filter(Result::is_ok)
            .count()
    }

    /// Bytes of pending transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a transaction is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }
}

/// The latest committed accounts, read without the chain's lock (each block is one atomic write,
/// so a read sees the state before or after a block, never half of one).
impl AccountView for crate::Store {
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, Balance), String> {
        salus_runtime::State::account(self, address)
            .map(|account| (account.nonce, account.balance))
            .map_err(|error| error.to_string())
    }
}

/// The head's accounts, as the pool sees them: the chain's store.
impl AccountView for crate::Chain {
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, Balance), String> {
        self.store().nonce_and_balance(address)
    }
}
