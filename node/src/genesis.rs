//! Genesis: the chain parameters and initial balances a network starts from, read from a JSON
//! genesis file or built in for dev chains.

use std::collections::BTreeMap;
use std::path::Path;

use parity_scale_codec::Encode;
use salus_primitives::block::{receipts_root, transactions_root};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::pow::DifficultyRule;
use salus_primitives::state_proof::EMPTY_SUBTREE;
use salus_primitives::{
    Account, Address, Balance, BlockHeader, ChainParams, CompactTarget, Hash, StateKey, limits,
};
use serde::{Deserialize, Serialize};

use crate::state_tree::{self, TreeUpdate};
use salus_runtime::StateChanges;

/// Number of funded dev accounts (as anvil: indices 0..10 of the dev mnemonic).
pub const DEV_ACCOUNT_COUNT: u32 = 10;
/// Balance of each dev account: 10^6 whole units of 10^18.
pub const DEV_ACCOUNT_BALANCE: Balance = 1_000_000 * 10u128.pow(18);
/// Chain id of dev chains.
pub const DEV_CHAIN_ID: u64 = 7_357;
/// The participant registry's reserved address on dev chains (genesis contracts take
/// `0x…01NN`, an address no key controls and no deployment can derive).
pub const DEV_REGISTRY_ADDRESS: Address = reserved_address(0x01, 0x00);
/// The consent contract's reserved address on dev chains.
pub const DEV_CONSENT_ADDRESS: Address = reserved_address(0x01, 0x01);
/// The supply-chain contract's reserved address on dev chains.
pub const DEV_SUPPLY_ADDRESS: Address = reserved_address(0x01, 0x02);
/// The coverage contract's reserved address on dev chains.
pub const DEV_COVERAGE_ADDRESS: Address = reserved_address(0x01, 0x03);
/// Fuel each genesis constructor may use.
pub const GENESIS_CONSTRUCTOR_FUEL: u64 = 500_000_000;

/// The reserved address `0x00…00HHLL`.
pub const fn reserved_address(high: u8, low: u8) -> Address {
    let mut bytes = [0u8; 20];
    bytes[18] = high;
    bytes[19] = low;
    Address(bytes)
}

/// A genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Network identifier signed into every transaction.
    pub chain_id: u64,
    /// Genesis timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Easiest allowed target, compact form as hex (`"0x207fffff"`).
    pub pow_limit: HexU32,
    /// Target of the genesis block (and of every block with `"difficulty": "fixed"`).
    pub genesis_bits: HexU32,
    /// `"fixed"` or `{ "asert": { "half_life_ms": N } }`.
    pub difficulty: DifficultyConfig,
    /// Intended time between blocks, ms.
    pub target_block_time_ms: u64,
    /// Reward per block, decimal string.
    pub block_reward: DecimalU128,
    /// Most fuel one block's transactions may reserve.
    pub block_fuel_limit: u64,
    /// Initial balances by address.
    pub alloc: BTreeMap<String, GenesisAccount>,
    /// Contracts deployed at genesis, at reserved addresses, in order.
    #[serde(default)]
    pub contracts: Vec<GenesisContract>,
}

/// A contract deployed at genesis. The genesis file carries the code itself, because a build of
/// the same source by another compiler version would give other bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisContract {
    /// A name for people (`registry`, `consent`, …).
    pub name: String,
    /// Its reserved address.
    pub address: String,
    /// The Wasm module, 0x-hex.
    pub code: String,
    /// Constructor input (selector and SCALE arguments), 0x-hex.
    pub constructor: String,
}

/// Difficulty rule as written in a genesis file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DifficultyConfig {
    /// Every block at `genesis_bits`.
    Fixed,
    /// ASERT toward `target_block_time_ms`.
    Asert {
        /// Half-life of the exponential adjustment, ms.
        half_life_ms: u64,
    },
}

/// An initial account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Balance, decimal string.
    pub balance: DecimalU128,
}

/// A `u128` written as a decimal string (JSON numbers lose precision above 2^53).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DecimalU128(pub u128);

impl TryFrom<String> for DecimalU128 {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
            .map(DecimalU128)
            .map_err(|_| format!("`{text}` is not a decimal amount"))
    }
}

impl From<DecimalU128> for String {
    fn from(value: DecimalU128) -> String {
        value.0.to_string()
    }
}

/// A `u32` written as `0x`-prefixed hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexU32(pub u32);

impl TryFrom<String> for HexU32 {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let digits = text
            .strip_prefix("0x")
            .ok_or_else(|| format!("`{text}` is not 0x-prefixed hex"))?;
        u32::from_str_radix(digits, 16)
            .map(HexU32)
            .map_err(|_| format!("`{text}` is not a 32-bit hex value"))
    }
}

impl From<HexU32> for String {
    fn from(value: HexU32) -> String {
        format!("{:#010x}", value.0)
    }
}

/// Why a genesis file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file could not be read.
    #[error("cannot read genesis file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is malformed or a field is wrong; serde names the field and line.
    #[error("invalid genesis file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, where.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid genesis: {0}")]
    Invalid(String),
}

/// A chain's starting point: parameters, genesis header, and initial state.
#[derive(Clone, Debug)]
pub struct Genesis {
    /// Consensus parameters.
    pub params: ChainParams,
    /// The genesis header.
    pub header: BlockHeader,
    /// Initial flat state, by flat key.
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The state tree of the initial state.
    pub tree: TreeUpdate,
}

impl GenesisConfig {
    /// Reads a genesis file.
    ///
    /// # Errors
    /// [`GenesisError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<GenesisConfig, GenesisError> {
        let text = std::fs::read_to_string(path).map_err(|source| GenesisError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|error| GenesisError::Parse {
            path: path.display().to_string(),
            message: error.to_string(),
        })
    }

    /// The dev chain: fixed minimal difficulty, ten funded accounts from the dev mnemonic.
    pub fn dev() -> GenesisConfig {
        let alloc = (0..DEV_ACCOUNT_COUNT)
            .map(|index| {
                let address = derive_key(DEV_MNEMONIC, index)
                    .expect("the dev mnemonic is valid")
                    .address();
                (
                    address.to_string(),
                    GenesisAccount {
                        balance: DecimalU128(DEV_ACCOUNT_BALANCE),
                    },
                )
            })
            .collect();
        GenesisConfig {
            chain_id: DEV_CHAIN_ID,
            timestamp_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            pow_limit: HexU32(DEV_POW_LIMIT.0),
            genesis_bits: HexU32(DEV_POW_LIMIT.0),
            difficulty: DifficultyConfig::Fixed,
            target_block_time_ms: 1_000,
            block_reward: DecimalU128(2 * 10u128.pow(18)),
            // A unit of fuel is about a nanosecond of work on the reference machine, so a full
            // block is about one second of single-core execution: one dev block interval. That
            // is room for ~5,000 consent calls (~200,000 fuel each) or ~50,000 transfers a block,
            // so the dev chain's throughput is bounded by the machine, not by this limit.
            block_fuel_limit: 1_000_000_000,
            alloc,
            contracts: vec![
                dev_contract(
                    "registry",
                    DEV_REGISTRY_ADDRESS,
                    salus_contracts::REGISTRY,
                    "new",
                    // The attesting authority of dev chains is dev account 0 (DOMAIN.md).
                    &derive_key(DEV_MNEMONIC, 0)
                        .expect("the dev mnemonic is valid")
                        .address(),
                ),
                dev_contract(
                    "consent",
                    DEV_CONSENT_ADDRESS,
                    salus_contracts::CONSENT,
                    "new",
                    // The registry, and the network default decision: deny (variant index 1).
                    &(DEV_REGISTRY_ADDRESS, 1u8),
                ),
                dev_contract(
                    "supply",
                    DEV_SUPPLY_ADDRESS,
                    salus_contracts::SUPPLY,
                    "new",
                    &DEV_REGISTRY_ADDRESS,
                ),
                dev_contract(
                    "coverage",
                    DEV_COVERAGE_ADDRESS,
                    salus_contracts::COVERAGE,
                    "new",
                    &(DEV_REGISTRY_ADDRESS, DEV_CONSENT_ADDRESS),
                ),
            ],
        }
    }

    /// Validates the configuration and builds the genesis block and state.
    ///
    /// # Errors
    /// [`GenesisError::Invalid`] for bad targets, addresses or parameters.
    pub fn build(&self) -> Result<Genesis, GenesisError> {
        let pow_limit = CompactTarget(self.pow_limit.0);
        let genesis_bits = CompactTarget(self.genesis_bits.0);
        let limit = pow_limit
            .to_target()
            .map_err(|e| GenesisError::Invalid(format!("pow_limit: {e}")))?;
        let bits = genesis_bits
            .to_target()
            .map_err(|e| GenesisError::Invalid(format!("genesis_bits: {e}")))?;
        if bits > limit {
            return Err(GenesisError::Invalid(
                "genesis_bits is easier than pow_limit".into(),
            ));
        }
        if self.target_block_time_ms == 0 {
            return Err(GenesisError::Invalid(
                "target_block_time_ms must be positive".into(),
            ));
        }
        let difficulty = match self.difficulty {
            DifficultyConfig::Fixed => DifficultyRule::Fixed,
            DifficultyConfig::Asert { half_life_ms: 0 } => {
                return Err(GenesisError::Invalid(
                    "asert half_life_ms must be positive".into(),
                ));
            }
            DifficultyConfig::Asert { half_life_ms } => {
                let drift_ms = limits::max_future_drift_ms(self.target_block_time_ms);
                let least_ms = drift_ms.saturating_mul(limits::MIN_ASERT_HALF_LIFE_DRIFTS);
                if half_life_ms < least_ms {
                    return Err(GenesisError::Invalid(format!(
                        "asert half_life_ms {half_life_ms} is shorter than {} future drifts \
                         ({least_ms} ms): one block stamped ahead of time would ease its \
                         child's target too much",
                        limits::MIN_ASERT_HALF_LIFE_DRIFTS
                    )));
                }
                DifficultyRule::Asert { half_life_ms }
            }
        };
        let params = ChainParams {
            chain_id: self.chain_id,
            pow_limit,
            genesis_bits,
            difficulty,
            target_block_time_ms: self.target_block_time_ms,
            block_reward: self.block_reward.0,
            block_fuel_limit: self.block_fuel_limit,
        };
        let mut state = BTreeMap::new();
        for (text, account) in &self.alloc {
            let address: Address = text
                .parse()
                .map_err(|e| GenesisError::Invalid(format!("alloc address `{text}`: {e}")))?;
            let record = Account {
                nonce: 0,
                balance: account.balance.0,
                code_hash: None,
            };
            if !record.is_empty() {
                state.insert(StateKey::Account(address).to_bytes(), record.encode());
            }
        }
        deploy_genesis_contracts(&params, self.timestamp_ms, &self.contracts, &mut state)?;
        let tree = genesis_tree(&state);
        let header = BlockHeader {
            // The genesis hash commits to the consensus parameters: two nodes that disagree on
            // any of them disagree on genesis and refuse each other's chain from block 0.
            parent_hash: salus_primitives::keccak256(&params.encode()),
            number: 0,
            timestamp_ms: self.timestamp_ms,
            transactions_root: transactions_root(&[]),
            receipts_root: receipts_root(&[]),
            state_root: tree.root,
            bits: genesis_bits,
            miner: Address::ZERO,
            nonce: 0,
        };
        Ok(Genesis {
            params,
            header,
            state,
            tree,
        })
    }
}

fn dev_contract(
    name: &str,
    address: Address,
    code: &[u8],
    constructor: &str,
    argument: &impl Encode,
) -> GenesisContract {
    let mut input = salus_primitives::keccak256(constructor.as_bytes()).0[..4].to_vec();
    argument.encode_to(&mut input);
    GenesisContract {
        name: name.to_string(),
        address: address.to_string(),
        code: format!("0x{}", hex::encode(code)),
        constructor: format!("0x{}", hex::encode(input)),
    }
}

/// Runs each genesis contract's constructor at its reserved address, in order, adding the
/// resulting state.
fn deploy_genesis_contracts(
    params: &ChainParams,
    timestamp_ms: u64,
    contracts: &[GenesisContract],
    state: &mut BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), GenesisError> {
    if contracts.is_empty() {
        return Ok(());
    }
    let vm =
        salus_runtime::Vm::in_memory().map_err(|error| GenesisError::Invalid(error.to_string()))?;
    for contract in contracts {
        let invalid =
            |what: String| GenesisError::Invalid(format!("contract `{}`: {what}", contract.name));
        let address: Address = contract
            .address
            .parse()
            .map_err(|e| invalid(format!("address: {e}")))?;
        let code = hex::decode(contract.code.trim_start_matches("0x"))
            .map_err(|_| invalid("code is not hex".into()))?;
        let input = hex::decode(contract.constructor.trim_start_matches("0x"))
            .map_err(|_| invalid("constructor is not hex".into()))?;
        let mut overlay = salus_runtime::Overlay::new(std::sync::Arc::new(state.clone()));
        let env = salus_runtime::wasm::TransactionEnv {
            origin: Address::ZERO,
            block: salus_runtime::BlockContext {
                number: 0,
                timestamp_ms,
                miner: Address::ZERO,
            },
            chain_id: params.chain_id,
        };
        let outcome = vm
            .deploy_at(
                &mut overlay,
                env,
                Address::ZERO,
                address,
                &code,
                input,
                0,
                GENESIS_CONSTRUCTOR_FUEL,
            )
            .map_err(|error| invalid(error.to_string()))?;
        if !outcome.status.is_success() {
            return Err(invalid(format!("constructor failed: {:?}", outcome.status)));
        }
        for change in overlay.into_changes().entries {
            match change.after {
                Some(value) => state.insert(change.key, value),
                None => state.remove(&change.key),
            };
        }
    }
    Ok(())
}

/// The dev chain's fixed target: hashes with at least 8 leading zero bits (about 256 hashes, well
/// under a millisecond, per block).
pub const DEV_POW_LIMIT: CompactTarget = CompactTarget(0x2000_ffff);

fn genesis_tree(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> TreeUpdate {
    let changes = StateChanges::creating(state.clone());
    let empty: std::collections::HashMap<Hash, Vec<u8>> = std::collections::HashMap::new();
    state_tree::apply(&empty, &EMPTY_SUBTREE, &state_tree::path_changes(&changes))
        .expect("an empty tree has no missing nodes and keys are distinct")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_genesis_funds_the_dev_accounts_and_deploys_the_registry() {
        let genesis = GenesisConfig::dev().build().unwrap();
        let accounts = genesis
            .state
            .keys()
            .filter(|key| key.first() == Some(&0x00))
            .count();
        assert_eq!(
            accounts,
            DEV_ACCOUNT_COUNT as usize + 4,
            "ten dev accounts and the four healthcare contracts'"
        );
        let coverage = genesis
            .state
            .get(&StateKey::Account(DEV_COVERAGE_ADDRESS).to_bytes())
            .expect("coverage account");
        let coverage = <Account as parity_scale_codec::Decode>::decode(&mut &coverage[..]).unwrap();
        assert_eq!(
            coverage.code_hash,
            Some(salus_primitives::keccak256(salus_contracts::COVERAGE))
        );
        let registry = genesis
            .state
            .get(&StateKey::Account(DEV_REGISTRY_ADDRESS).to_bytes())
            .expect("registry account");
        let registry = <Account as parity_scale_codec::Decode>::decode(&mut &registry[..]).unwrap();
        assert_eq!(
            registry.code_hash,
            Some(salus_primitives::keccak256(salus_contracts::REGISTRY))
        );
        let first: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap();
        assert!(
            genesis
                .state
                .contains_key(&StateKey::Account(first).to_bytes())
        );
        assert_ne!(genesis.header.state_root, EMPTY_SUBTREE);
    }

    #[test]
    fn genesis_file_round_trips_and_errors_name_the_field() {
        let config = GenesisConfig::dev();
        let text = serde_json::to_string_pretty(&config).unwrap();
        let parsed: GenesisConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, config);
        let broken = text.replace("\"chain_id\"", "\"chain_idd\"");
        let error = serde_json::from_str::<GenesisConfig>(&broken)
            .unwrap_err()
            .to_string();
        assert!(error.contains("chain_idd"), "{error}");
        let bad_amount = text.replacen(&DEV_ACCOUNT_BALANCE.to_string(), "lots", 1);
        let error = serde_json::from_str::<GenesisConfig>(&bad_amount)
            .unwrap_err()
            .to_string();
        assert!(error.contains("lots"), "{error}");
    }
}
