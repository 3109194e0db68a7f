//! Contract execution on wasmtime: the consensus engine, deploy-time validation, compilation
//! with an on-disk artifact cache and an in-memory `InstancePre` cache, the host functions, and
//! the frames of a call.

mod context;
pub mod engine;
mod host;
pub mod slots;
pub mod validation;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use salus_primitives::{
    Account, Address, Balance, Event, ExecutionStatus, Hash, InvalidReason, StateKey, keccak256,
};
use wasmtime::{Engine, InstancePre, Linker, Module};

use context::{Frame, FrameResult, TxContext, bounded, move_value, run_frame};
pub use context::{FuelBreakdown, HostFunctionFuel, HostState, TransactionEnv};
pub use slots::SlotBusy;
pub use validation::{ModuleError, ModuleInfo, inspect_module};

use crate::fuel_schedule as fuel;
use crate::native_stack;
use crate::overlay::Overlay;
use crate::state::{SharedState, StateError};

/// Persistent storage of compiled artifacts, keyed by code hash and engine compatibility hash.
/// A cache, not consensus: a missing, unreadable or unauthenticated artifact is rebuilt from the
/// code on chain. The store is not trusted: the VM authenticates every artifact it loads with a
/// MAC under a key the store never holds ([`ArtifactKey`]).
pub trait ArtifactStore: Send + Sync {
    /// The artifact stored for this code and engine, if any.
    fn load(&self, code_hash: &Hash, compatibility: &Hash) -> Option<Vec<u8>>;
    /// Stores an artifact.
    fn store(&self, code_hash: &Hash, compatibility: &Hash, artifact: &[u8]);
}

/// An artifact store in memory (tests, and processes that need no persistence).
#[derive(Default)]
pub struct MemoryArtifacts(Mutex<HashMap<(Hash, Hash), Vec<u8>>>);

impl ArtifactStore for MemoryArtifacts {
    fn load(&self, code_hash: &Hash, compatibility: &Hash) -> Option<Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(*code_hash, *compatibility))
            .cloned()
    }
    fn store(&self, code_hash: &Hash, compatibility: &Hash, artifact: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((*code_hash, *compatibility), artifact.to_vec());
    }
}

/// A contract ready to instantiate.
pub(crate) struct CompiledContract {
    pub pre: InstancePre<HostState>,
    pub info: ModuleInfo,
    pub code_len: usize,
    /// Wasm pages of linear memory the module declares (its memory's minimum).
    pub memory_pages: u64,
}

impl CompiledContract {
    fn new(pre: InstancePre<HostState>, info: ModuleInfo, code_len: usize) -> Self {
        let memory_pages = pre
            .module()
            .get_export(salus_abi::MEMORY_EXPORT)
            .and_then(|export| export.memory().map(wasmtime::MemoryType::minimum))
            .unwrap_or(0);
        CompiledContract {
            pre,
            info,
            code_len,
            memory_pages,
        }
    }
}

#[derive(Default)]
struct ModuleCache {
    modules: HashMap<Hash, Arc<CompiledContract>>,
    order: VecDeque<Hash>,
}

pub(crate) struct VmInner {
    pub engine: Engine,
    linker: Linker<HostState>,
    compatibility: Hash,
    modules: Mutex<ModuleCache>,
    artifacts: Arc<dyn ArtifactStore>,
    artifact_key: ArtifactKey,
    /// Slots of block building and import: they wait for one.
    consensus_slots: slots::SlotPool,
    /// Slots of dry runs: they wait at most [`DRY_RUN_SLOT_PATIENCE`].
    dry_run_slots: slots::SlotPool,
}

/// The secret that authenticates compiled artifacts. Native code loaded from disk runs with the
/// node's privileges, so an artifact must be one this node (or another holding the same key)
/// compiled: a MAC under this key is checked before anything is deserialised. The node keeps it
/// in a file of its own beside the database, never in it (`DATA_DIR/artifact.key`).
#[derive(Clone)]
pub struct ArtifactKey(pub [u8; 32]);

impl std::fmt::Debug for ArtifactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArtifactKey(..)")
    }
}

/// How long a dry run waits for a free execution slot before it is refused as busy.
pub const DRY_RUN_SLOT_PATIENCE: Duration = Duration::from_secs(2);

/// Why the VM could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Wasm engine: {0}")]
pub struct VmError(String);

/// Why a dry run gave no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DryRunError {
    /// Every dry-run slot stayed busy for [`DRY_RUN_SLOT_PATIENCE`].
    #[error(transparent)]
    Busy(#[from] SlotBusy),
    /// A node-local failure (state backend, resources).
    #[error(transparent)]
    Node(#[from] StateError),
}

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The module breaks a deploy rule: a deterministic refusal, the same on every node.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// The module passed validation but this node could not compile it (memory, the
    /// operating system): not the module's fault, and never recorded as its refusal.
    #[error("compilation failed on this node: {0}")]
    Local(String),
}

/// The Wasm virtual machine: one per node, shared by block execution and dry runs.
#[derive(Clone)]
pub struct Vm {
    inner: Arc<VmInner>,
}

/// The result of running a contract action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractOutcome {
    /// How it ended.
    pub status: ExecutionStatus,
    /// Fuel used by the action (not counting the transaction's intrinsic fuel).
    pub fuel_used: u64,
    /// Events emitted (empty unless it succeeded).
    pub events: Vec<Event>,
    /// Return data (for a deploy: the new contract's address).
    pub return_data: Vec<u8>,
    /// Fuel charged by each host function.
    pub fuel_breakdown: FuelBreakdown,
    /// What the engine or the validator said about a refusal, for logs and dry-run output.
    /// Never part of a receipt: receipts carry only the status's stable code.
    pub diagnostic: Option<String>,
}

/// Artifact layout: a MAC of the rest (keccak256 over a domain tag, the node's artifact key and
/// the body — a keyed sponge, which has no length extension), then flags, the code length, and
/// the serialized module.
const ARTIFACT_HEADER_BYTES: usize = 32 + 1 + 8;
const FLAG_CONSTRUCTOR: u8 = 1;
const FLAG_REENTRANT: u8 = 2;

impl Vm {
    /// A VM with the consensus engine and the given artifact store, whose artifacts are
    /// authenticated under `artifact_key`.
    ///
    /// # Errors
    /// [`VmError`] if wasmtime refuses the configuration.
    pub fn new(
        artifacts: Arc<dyn ArtifactStore>,
        artifact_key: ArtifactKey,
    ) -> Result<Vm, VmError> {
        let engine = engine::consensus_engine().map_err(|e| VmError(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| VmError(e.to_string()))?;
        let compatibility = engine::engine_compatibility_hash(&engine);
        Ok(Vm {
            inner: Arc::new(VmInner {
                engine,
                linker,
                compatibility,
                modules: Mutex::new(ModuleCache::default()),
                artifacts,
                artifact_key,
                consensus_slots: slots::SlotPool::new(slots::CONSENSUS_SLOTS),
                dry_run_slots: slots::SlotPool::new(slots::DRY_RUN_SLOTS),
            }),
        })
    }

    /// A VM with an in-memory artifact store (whose artifacts never leave the process, so a
    /// fixed key authenticates them).
    ///
    /// # Errors
    /// [`VmError`] if wasmtime refuses the configuration.
    pub fn in_memory() -> Result<Vm, VmError> {
        Vm::new(Arc::new(MemoryArtifacts::default()), ArtifactKey([0; 32]))
    }

    /// Dry-run slots free now (for metrics and tests).
    pub fn free_dry_run_slots(&self) -> u32 {
        self.inner.dry_run_slots.free()
    }

    /// Runs a top-level execution as block building and import do: in a consensus slot (waiting
    /// for one), on a thread with the native stack the limits allow for.
    fn consensus<T: Send>(
        &self,
        execution: impl FnOnce() -> Result<T, StateError> + Send,
    ) -> Result<T, StateError> {
        let _slot = self.inner.consensus_slots.take();
        native_stack::run_with_execution_stack(execution)
            .map_err(|error| StateError(error.to_string()))?
    }

    /// The engine compatibility hash artifacts are keyed by.
    pub fn compatibility_hash(&self) -> Hash {
        self.inner.compatibility
    }

    /// Drops the in-memory module cache, so that the next call of each contract loads its
    /// artifact from the artifact store as after a restart (benchmarks of cold loads; fuel
    /// never depends on the cache).
    pub fn forget_loaded_modules(&self) {
        let mut cache = self
            .inner
            .modules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.modules.clear();
        cache.order.clear();
    }

    /// Validates and compiles `code` without deploying it (for tools and benchmarks).
    ///
    /// # Errors
    /// [`CompileError`] saying why the module is refused.
    pub fn compile(&self, code: &[u8]) -> Result<ModuleInfo, CompileError> {
        self.inner
            .compile(&keccak256(code), code)
            .map(|compiled| compiled.info.clone())
    }

    /// Calls `contract` with `input` as `caller`, sending `value`, with at most `fuel`.
    ///
    /// # Errors
    /// [`StateError`] on a node-local failure — the state backend, the instance pool, memory
    /// or the native stack (the block must be abandoned and retried, never judged).
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        caller: Address,
        contract: Address,
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, StateError> {
        self.consensus(|| self.call_here(overlay, env, caller, contract, input, value, fuel))
    }

    /// [`Self::call`] on this thread, in whatever slot the caller holds.
    #[allow(clippy::too_many_arguments)]
    fn call_here(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        caller: Address,
        contract: Address,
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, StateError> {
        let account = overlay.account(&contract)?;
        let Some(code_hash) = account.code_hash else {
            return Ok(ContractOutcome::invalid(InvalidReason::NoContract, 0));
        };
        overlay.start_transaction();
        if !overlay.admit_code_load(&code_hash) {
            return Ok(ContractOutcome::failed(code_load_refused(), 0));
        }
        let Some(compiled) = self.inner.load(&code_hash, overlay)? else {
            return Ok(ContractOutcome::invalid(InvalidReason::CodeMissing, 0));
        };
        let load = fuel::code_load_fuel(compiled.code_len);
        if load > fuel {
            return Ok(ContractOutcome::failed(ExecutionStatus::OutOfFuel, fuel));
        }
        let frame = Frame::new(contract, caller, value, input);
        self.run(
            overlay,
            env,
            frame,
            &compiled,
            salus_abi::CALL_EXPORT,
            fuel - load,
            load,
            None,
        )
    }

    /// Deploys `code` as `deployer` with `salt`, running its constructor with `input` and
    /// endowing it with `value`, with at most `fuel`.
    ///
    /// # Errors
    /// [`StateError`] when the state backend fails.
    #[allow(clippy::too_many_arguments)]
    pub fn deploy(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        deployer: Address,
        code: &[u8],
        input: Vec<u8>,
        salt: Hash,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, StateError> {
        let address = Address::contract(&deployer, &keccak256(code), &salt);
        self.deploy_at(overlay, env, deployer, address, code, input, value, fuel)
    }

    /// Deploys `code` at a given `address` (genesis contracts live at reserved addresses that do
    /// not depend on their code), running its constructor as `deployer`.
    ///
    /// # Errors
    /// [`StateError`] on a node-local failure, as [`Self::call`].
    #[allow(clippy::too_many_arguments)]
    pub fn deploy_at(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        deployer: Address,
        address: Address,
        code: &[u8],
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, StateError> {
        self.consensus(|| {
            self.deploy_here(overlay, env, deployer, address, code, input, value, fuel)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn deploy_here(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        deployer: Address,
        address: Address,
        code: &[u8],
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, StateError> {
        overlay.start_transaction();
        // Charged before compiling: a module built to make the compiler slow pays first.
        let upfront = (code.len() as u64)
            .saturating_mul(fuel::COMPILE_FUEL_PER_BYTE + fuel::CODE_STORE_FUEL_PER_BYTE);
        if upfront > fuel {
            return Ok(ContractOutcome::failed(ExecutionStatus::OutOfFuel, fuel));
        }
        let code_hash = keccak256(code);
        let compiled = match self.inner.compile(&code_hash, code) {
            Ok(compiled) => compiled,
            Err(CompileError::Module(error)) => {
                let mut outcome = ContractOutcome::failed(
                    ExecutionStatus::Invalid {
                        reason: InvalidReason::ModuleRejected(error.rejection()),
                    },
                    upfront,
                );
                outcome.diagnostic = Some(error.to_string());
                return Ok(outcome);
            }
            Err(CompileError::Local(reason)) => {
                return Err(StateError(format!(
                    "code {code_hash} could not be compiled on this node: {reason}"
                )));
            }
        };
        if !create_account(overlay, &address, &code_hash)? {
            return Ok(ContractOutcome::invalid(
                InvalidReason::AddressOccupied,
                upfront,
            ));
        }
        let code_key = StateKey::Code(code_hash).to_bytes();
        if overlay.get(&code_key)?.is_none() {
            overlay.set(code_key, Some(code.to_vec()))?;
        }
        if !compiled.info.has_constructor {
            if value > 0 && !move_value(overlay, &deployer, &address, value)? {
                return Ok(ContractOutcome::invalid(
                    InvalidReason::InsufficientValue,
                    upfront,
                ));
            }
            return Ok(ContractOutcome {
                status: ExecutionStatus::Success,
                fuel_used: upfront,
                events: Vec::new(),
                return_data: address.0.to_vec(),
                fuel_breakdown: FuelBreakdown::new(),
                diagnostic: None,
            });
        }
        let frame = Frame::new(address, deployer, value, input);
        self.run(
            overlay,
            env,
            frame,
            &compiled,
            salus_abi::DEPLOY_EXPORT,
            fuel - upfront,
            upfront,
            Some(address),
        )
    }

    /// A read-only call over `state`: result, events and fuel breakdown, nothing committed. It
    /// runs in one of the dry-run slots ([`slots::DRY_RUN_SLOTS`]), apart from the slots block
    /// execution uses, so that dry runs can never take the instances a block needs.
    ///
    /// # Errors
    /// [`DryRunError::Busy`] if no dry-run slot came free within [`DRY_RUN_SLOT_PATIENCE`];
    /// [`DryRunError::Node`] on a node-local failure.
    pub fn dry_run(
        &self,
        state: SharedState,
        env: TransactionEnv,
        contract: Address,
        input: Vec<u8>,
        value: Balance,
        fuel: u64,
    ) -> Result<ContractOutcome, DryRunError> {
        let _slot = self
            .inner
            .dry_run_slots
            .take_within(DRY_RUN_SLOT_PATIENCE)?;
        let mut overlay = Overlay::new(state);
        let outcome = native_stack::run_with_execution_stack(|| {
            self.call_here(&mut overlay, env, env.origin, contract, input, value, fuel)
        })
        .map_err(|error| StateError(error.to_string()))??;
        Ok(outcome)
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        overlay: &mut Overlay,
        env: TransactionEnv,
        frame: Frame,
        compiled: &CompiledContract,
        entry: &str,
        fuel: u64,
        charged_before: u64,
        deployed: Option<Address>,
    ) -> Result<ContractOutcome, StateError> {
        let taken = std::mem::replace(overlay, Overlay::detached());
        let context = Box::new(TxContext {
            overlay: taken,
            env,
            events: Vec::new(),
            stack: Vec::new(),
            breakdown: FuelBreakdown::new(),
            node_failure: None,
            vm: self.inner.clone(),
        });
        let (context, result, left) = run_frame(context, frame, compiled, entry, fuel);
        let TxContext {
            overlay: returned,
            events,
            breakdown,
            node_failure,
            ..
        } = *context;
        *overlay = returned;
        if let Some(error) = node_failure {
            return Err(error);
        }
        let fuel_used = charged_before + (fuel - left);
        if overlay.code_load_refused() {
            // A nested call was refused its code: the whole transaction fails, whatever its
            // frames made of the refusal.
            return Ok(ContractOutcome::failed(code_load_refused(), fuel_used));
        }
        let (status, return_data, events) = match result {
            FrameResult::Success(data) => {
                let data = match deployed {
                    Some(address) => address.0.to_vec(),
                    None => bounded(data),
                };
                (ExecutionStatus::Success, data, events)
            }
            FrameResult::Reverted(message) => {
                let message = String::from_utf8_lossy(&bounded(message.into_bytes())).into_owned();
                (
                    ExecutionStatus::Reverted { message },
                    Vec::new(),
                    Vec::new(),
                )
            }
            FrameResult::OutOfFuel => (ExecutionStatus::OutOfFuel, Vec::new(), Vec::new()),
            FrameResult::Trapped(kind) => {
                (ExecutionStatus::Trapped { kind }, Vec::new(), Vec::new())
            }
        };
        Ok(ContractOutcome {
            status,
            fuel_used,
            events,
            return_data,
            fuel_breakdown: breakdown,
            diagnostic: None,
        })
    }
}

/// The status of a transaction that would have loaded more distinct codes than its block allows.
fn code_load_refused() -> ExecutionStatus {
    ExecutionStatus::Invalid {
        reason: InvalidReason::CodeLoadLimit,
    }
}

impl ContractOutcome {
    /// An outcome with no events, return data or host-function fuel (native actions).
    pub fn plain(status: ExecutionStatus, fuel_used: u64) -> Self {
        ContractOutcome::failed(status, fuel_used)
    }

    fn invalid(reason: InvalidReason, fuel_used: u64) -> Self {
        ContractOutcome::failed(ExecutionStatus::Invalid { reason }, fuel_used)
    }

    fn failed(status: ExecutionStatus, fuel_used: u64) -> Self {
        ContractOutcome {
            status,
            fuel_used,
            events: Vec::new(),
            return_data: Vec::new(),
            fuel_breakdown: FuelBreakdown::new(),
            diagnostic: None,
        }
    }
}

/// Gives `address` the code `code_hash` unless it already has code or has sent transactions;
/// keeps any balance sent to it before. Returns whether the account was created.
pub(crate) fn create_account(
    overlay: &mut Overlay,
    address: &Address,
    code_hash: &Hash,
) -> Result<bool, StateError> {
    let existing = overlay.account(address)?;
    if existing.code_hash.is_some() || existing.nonce > 0 {
        return Ok(false);
    }
    overlay.set_account(
        address,
        &Account {
            nonce: 0,
            balance: existing.balance,
            code_hash: Some(*code_hash),
        },
    )?;
    Ok(true)
}

impl VmInner {
    fn cached(&self, code_hash: &Hash) -> Option<Arc<CompiledContract>> {
        self.modules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .modules
            .get(code_hash)
            .cloned()
    }

    fn remember(&self, code_hash: Hash, compiled: Arc<CompiledContract>) {
        let mut cache = self.modules.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.modules.insert(code_hash, compiled).is_none() {
            cache.order.push_back(code_hash);
        }
        while cache.modules.len() > crate::limits::MAX_CACHED_MODULES {
            let Some(oldest) = cache.order.pop_front() else {
                break;
            };
            cache.modules.remove(&oldest);
        }
    }

    /// Validates and compiles `code`, caching the result in memory and as an artifact.
    ///
    /// Validation (the deploy rules, then the engine's own feature and type checks) decides
    /// whether the module is refused: deterministic, the same on every node. Compilation of a
    /// valid module failing is this node's problem (memory, the operating system), reported as
    /// [`CompileError::Local`] and never as the module's refusal.
    fn compile(
        &self,
        code_hash: &Hash,
        code: &[u8],
    ) -> Result<Arc<CompiledContract>, CompileError> {
        if let Some(compiled) = self.cached(code_hash) {
            return Ok(compiled);
        }
        let info = inspect_module(code)?;
        Module::validate(&self.engine, code)
            .map_err(|error| ModuleError::Rejected(format!("{error:#}")))?;
        let module = Module::new(&self.engine, code)
            .map_err(|error| CompileError::Local(format!("{error:#}")))?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|error| CompileError::Local(format!("{error:#}")))?;
        if let Ok(serialized) = module.serialize() {
            self.artifacts.store(
                code_hash,
                &self.compatibility,
                &self.encode_artifact(code_hash, &info, code.len(), &serialized),
            );
        }
        let compiled = Arc::new(CompiledContract::new(pre, info, code.len()));
        self.remember(*code_hash, compiled.clone());
        Ok(compiled)
    }

    /// The contract with code `code_hash`: from memory, from its stored artifact, or compiled
    /// from the code in state. `None` if no such code is on chain.
    pub(crate) fn load(
        &self,
        code_hash: &Hash,
        overlay: &Overlay,
    ) -> Result<Option<Arc<CompiledContract>>, StateError> {
        if let Some(compiled) = self.cached(code_hash) {
            return Ok(Some(compiled));
        }
        if let Some(compiled) = self
            .artifacts
            .load(code_hash, &self.compatibility)
            .and_then(|bytes| self.decode_artifact(code_hash, &bytes))
        {
            let compiled = Arc::new(compiled);
            self.remember(*code_hash, compiled.clone());
            return Ok(Some(compiled));
        }
        let Some(code) = overlay.get(&StateKey::Code(*code_hash).to_bytes())? else {
            return Ok(None);
        };
        self.compile(code_hash, &code).map(Some).map_err(|error| {
            StateError(format!(
                "code {code_hash} on chain no longer compiles: {error}"
            ))
        })
    }

    /// The MAC of an artifact body for `code_hash` under this node's key. The code hash and
    /// the compatibility hash are in it, so an authentic artifact of one contract cannot be
    /// served as another's, nor one of another engine.
    fn artifact_mac(&self, code_hash: &Hash, body: &[u8]) -> [u8; 32] {
        let mut input = Vec::with_capacity(ARTIFACT_MAC_DOMAIN.len() + 96 + body.len());
        input.extend_from_slice(ARTIFACT_MAC_DOMAIN);
        input.extend_from_slice(&self.artifact_key.0);
        input.extend_from_slice(&code_hash.0);
        input.extend_from_slice(&self.compatibility.0);
        input.extend_from_slice(body);
        keccak256(&input).0
    }

    fn decode_artifact(&self, code_hash: &Hash, bytes: &[u8]) -> Option<CompiledContract> {
        if bytes.len() < ARTIFACT_HEADER_BYTES {
            return None;
        }
        let (mac, body) = bytes.split_at(32);
        // Not a timing oracle worth closing: the store is local, and a mismatch only recompiles.
        if self.artifact_mac(code_hash, body)[..] != *mac {
            return None;
        }
        let flags = body[0];
        let code_len = u64::from_le_bytes(body[1..9].try_into().ok()?) as usize;
        let serialized = &bytes[ARTIFACT_HEADER_BYTES..];
        // SAFETY: `Module::deserialize` trusts its input to be an artifact this wasmtime
        // produced. This one carries a MAC, just checked, under this node's artifact key (kept
        // outside the artifact store) over the code hash, the engine compatibility hash and the
        // bytes: only a holder of the key — this node's `compile` — can have written it, for
        // this code and this engine. wasmtime also checks its own version and configuration
        // header. Someone able to read the key can write the node binary as well.
        #[allow(unsafe_code)]
        let module = unsafe { Module::deserialize(&self.engine, serialized) }.ok()?;
        let pre = self.linker.instantiate_pre(&module).ok()?;
        let info = ModuleInfo {
            has_constructor: flags & FLAG_CONSTRUCTOR != 0,
            reentrant: flags & FLAG_REENTRANT != 0,
            abi: None,
        };
        Some(CompiledContract::new(pre, info, code_len))
    }

    fn encode_artifact(
        &self,
        code_hash: &Hash,
        info: &ModuleInfo,
        code_len: usize,
        serialized: &[u8],
    ) -> Vec<u8> {
        let mut body = Vec::with_capacity(ARTIFACT_HEADER_BYTES - 32 + serialized.len());
        let mut flags = 0u8;
        if info.has_constructor {
            flags |= FLAG_CONSTRUCTOR;
        }
        if info.reentrant {
            flags |= FLAG_REENTRANT;
        }
        body.push(flags);
        body.extend_from_slice(&(code_len as u64).to_le_bytes());
        body.extend_from_slice(serialized);
        let mut artifact = self.artifact_mac(code_hash, &body).to_vec();
        artifact.extend_from_slice(&body);
        artifact
    }
}

/// Domain separation of artifact MACs.
const ARTIFACT_MAC_DOMAIN: &[u8] = b"salus/artifact-mac/v1";
