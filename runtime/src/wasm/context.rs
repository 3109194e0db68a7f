//! Execution state shared by the frames of one transaction, and the running of one frame: a
//! fresh store with its fuel, a checkpoint of the state overlay, instantiation from the cached
//! `InstancePre`, the entry point, and the classification of how it ended.

use std::collections::BTreeMap;
use std::sync::Arc;

use salus_abi::limits::MAX_RETURN_DATA_BYTES;
use salus_primitives::receipt::TrapKind;
use salus_primitives::{Address, Balance, ChainParams, Event};
use wasmtime::{Memory, ResourceLimiter, Store, Trap};

use super::{CompiledContract, VmInner};
use crate::block_context::BlockContext;
use crate::fuel_schedule::{
    MEMORY_PAGE_FUEL, MEMORY_PAGES_INCLUDED, memory_fuel, to_subunits, whole_units,
};
use crate::limits::{MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, WASM_PAGE_BYTES};
use crate::overlay::Overlay;
use crate::state::StateError;

/// The fuel breakdown's entry for linear memory beyond the included pages.
pub(crate) const MEMORY_FUEL_ENTRY: &str = "(memory pages)";

/// What a transaction's execution may know about its surroundings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionEnv {
    /// The account that signed the transaction.
    pub origin: Address,
    /// The block being built or imported.
    pub block: BlockContext,
    /// The chain id.
    pub chain_id: u64,
}

impl TransactionEnv {
    /// The environment of a transaction from `origin` in `block` of a chain with `params`.
    pub fn new(params: &ChainParams, block: BlockContext, origin: Address) -> Self {
        TransactionEnv {
            origin,
            block,
            chain_id: params.chain_id,
        }
    }
}

/// Fuel charged by one host function over a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostFunctionFuel {
    /// Number of calls.
    pub calls: u64,
    /// Fuel charged, in total.
    pub fuel: u64,
}

/// Fuel by host function name, in name order; the rest of the fuel used went to Wasm
/// instructions.
pub type FuelBreakdown = BTreeMap<&'static str, HostFunctionFuel>;

/// State shared by every frame of one transaction; moved from store to store as calls nest.
pub(crate) struct TxContext {
    pub overlay: Overlay,
    pub env: TransactionEnv,
    pub events: Vec<Event>,
    /// Addresses of the frames on the call stack, outermost first.
    pub stack: Vec<Address>,
    pub breakdown: FuelBreakdown,
    /// A failure of this node rather than of the transaction — the state backend, the
    /// instance pool, memory the operating system refused, a native stack too small — seen by
    /// any frame: the whole block is abandoned (and retried), never judged, and nothing of it
    /// reaches a receipt.
    pub node_failure: Option<StateError>,
    pub vm: Arc<VmInner>,
}

/// The frame a store executes.
pub(crate) struct Frame {
    pub address: Address,
    pub caller: Address,
    pub value: Balance,
    pub input: Vec<u8>,
    pub return_data: Vec<u8>,
    /// Return data or revert message of the last sub-call.
    pub call_result: Vec<u8>,
}

impl Frame {
    /// The frame of a call of `address` by `caller` with `value` and `input`, before it runs.
    pub fn new(address: Address, caller: Address, value: Balance, input: Vec<u8>) -> Frame {
        Frame {
            address,
            caller,
            value,
            input,
            return_data: Vec::new(),
            call_result: Vec::new(),
        }
    }
}

/// The data of one wasmtime store.
pub struct HostState {
    pub(crate) tx: Option<Box<TxContext>>,
    pub(crate) frame: Frame,
    pub(crate) memory: Option<Memory>,
    limits: FrameLimits,
}

/// The limits of one frame's store, recording why growth failed: refused by a limit (the
/// contract's doing: a deterministic trap) or permitted but not carried out (the operating
/// system or the pool: a node-local failure).
struct FrameLimits {
    memory_bytes: usize,
    table_elements: usize,
    /// Growth beyond what the frame may have was refused.
    refused: bool,
    /// Permitted growth failed.
    failed: bool,
}

/// The error a refused growth traps with.
#[derive(Debug, thiserror::Error)]
#[error("growth beyond the frame's limit")]
struct GrowthRefused;

impl FrameLimits {
    fn allow(
        &mut self,
        desired: usize,
        limit: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > limit || maximum.is_some_and(|maximum| desired > maximum) {
            self.refused = true;
            return Err(wasmtime::Error::new(GrowthRefused));
        }
        Ok(true)
    }
}

impl ResourceLimiter for FrameLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.allow(desired, self.memory_bytes, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.failed = true;
        Err(error)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.allow(desired, self.table_elements, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.failed = true;
        Err(error)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }
}

/// Why a host function stopped execution.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostTrap {
    /// The contract called `revert`.
    #[error("reverted: {0}")]
    Revert(String),
    /// A host function could not be paid for.
    #[error("out of fuel")]
    OutOfFuel,
    /// The contract passed something the host refuses (out-of-bounds pointer, oversized
    /// argument, too many events).
    #[error("host function refused the call: {0}")]
    Refused(String),
    /// A node-local failure (recorded in [`TxContext::node_failure`]).
    #[error("node-local failure")]
    NodeFailure,
}

/// How one frame ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FrameResult {
    Success(Vec<u8>),
    Reverted(String),
    OutOfFuel,
    Trapped(TrapKind),
}

fn trap_kind(trap: &Trap) -> TrapKind {
    match trap {
        Trap::StackOverflow => TrapKind::StackOverflow,
        Trap::MemoryOutOfBounds | Trap::HeapMisaligned => TrapKind::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        Trap::IndirectCallToNull | Trap::BadSignature => TrapKind::IndirectCall,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        Trap::BadConversionToInteger => TrapKind::BadConversionToInteger,
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::AllocationTooLarge => TrapKind::ResourceLimit,
        _ => TrapKind::Other,
    }
}

/// How a frame that returned `error` ended, or `None` if the error is not the contract's doing
/// (an instance pool exhausted, memory the operating system refused, an engine failure): a
/// node-local failure that must never reach a receipt.
fn classify(error: &wasmtime::Error, limits: &FrameLimits) -> Option<FrameResult> {
    if let Some(host) = error.downcast_ref::<HostTrap>() {
        return match host {
            HostTrap::Revert(message) => Some(FrameResult::Reverted(message.clone())),
            HostTrap::OutOfFuel => Some(FrameResult::OutOfFuel),
            HostTrap::Refused(_) => Some(FrameResult::Trapped(TrapKind::HostError)),
            HostTrap::NodeFailure => None,
        };
    }
    if limits.failed {
        return None;
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return Some(match trap {
            Trap::OutOfFuel => FrameResult::OutOfFuel,
            other => FrameResult::Trapped(trap_kind(other)),
        });
    }
    if limits.refused || error.downcast_ref::<GrowthRefused>().is_some() {
        return Some(FrameResult::Trapped(TrapKind::ResourceLimit));
    }
    None
}

/// Runs `entry` of `contract` as a new frame with `fuel` (whole units; the store counts Wasm
/// sub-units). The frame's writes and events are kept only if it succeeds. Returns the
/// context, the result and the fuel left.
pub(crate) fn run_frame(
    mut tx: Box<TxContext>,
    frame: Frame,
    contract: &CompiledContract,
    entry: &str,
    fuel: u64,
) -> (Box<TxContext>, FrameResult, u64) {
    let address = frame.address;
    let engine = tx.vm.engine.clone();
    tx.overlay.checkpoint();
    tx.stack.push(address);
    let events_before = tx.events.len();
    if frame.value > 0 {
        match move_value(&mut tx.overlay, &frame.caller, &address, frame.value) {
            Ok(true) => {}
            Ok(false) => {
                let refused =
                    FrameResult::Reverted("insufficient balance for the value sent".into());
                return abandon_frame(tx, refused, fuel);
            }
            Err(error) => {
                tx.node_failure = Some(error);
                return abandon_frame(tx, FrameResult::Trapped(TrapKind::HostError), fuel);
            }
        }
    }
    // Memory beyond the included pages is paid for: the declared pages now, growth when the
    // frame ends, and growth only as far as the frame's fuel could pay.
    let declared_memory_fuel = memory_fuel(contract.memory_pages);
    let Some(fuel) = fuel.checked_sub(declared_memory_fuel) else {
        return abandon_frame(tx, FrameResult::OutOfFuel, 0);
    };
    if declared_memory_fuel > 0 {
        tx.breakdown.entry(MEMORY_FUEL_ENTRY).or_default().fuel += declared_memory_fuel;
    }
    let affordable_pages = contract
        .memory_pages
        .max(MEMORY_PAGES_INCLUDED)
        .saturating_add(fuel / MEMORY_PAGE_FUEL)
        .min(MAX_MEMORY_PAGES);
    let limits = FrameLimits {
        memory_bytes: (affordable_pages * WASM_PAGE_BYTES) as usize,
        table_elements: MAX_TABLE_ELEMENTS as usize,
        refused: false,
        failed: false,
    };
    let mut store = Store::new(
        &engine,
        HostState {
            tx: Some(tx),
            frame,
            memory: None,
            limits,
        },
    );
    store.limiter(|state| &mut state.limits);
    let outcome = store.set_fuel(to_subunits(fuel)).and_then(|()| {
        let instance = contract.pre.instantiate(&mut store)?;
        let memory = instance.get_memory(&mut store, salus_abi::MEMORY_EXPORT);
        store.data_mut().memory = memory;
        let function = instance.get_typed_func::<(), ()>(&mut store, entry)?;
        function.call(&mut store, ())
    });
    let mut fuel_left = whole_units(store.get_fuel().unwrap_or(0));
    let memory = store.data().memory;
    let grown_memory_fuel = memory.map_or(0, |memory| {
        memory_fuel(memory.size(&store)).saturating_sub(declared_memory_fuel)
    });
    let HostState {
        tx, frame, limits, ..
    } = store.into_data();
    let mut tx = tx.expect("the context is back in the store once every host call returned");
    let mut result = match outcome {
        Ok(()) => FrameResult::Success(frame.return_data),
        Err(error) => classify(&error, &limits).unwrap_or_else(|| {
            if tx.node_failure.is_none() {
                // The engine's text goes to the node's error, never into consensus data.
                tx.node_failure = Some(StateError(format!(
                    "contract {address} could not run on this node: {error:#}"
                )));
            }
            FrameResult::Trapped(TrapKind::HostError)
        }),
    };
    if grown_memory_fuel > 0 {
        tx.breakdown.entry(MEMORY_FUEL_ENTRY).or_default().fuel += grown_memory_fuel;
        match fuel_left.checked_sub(grown_memory_fuel) {
            Some(left) => fuel_left = left,
            None => {
                fuel_left = 0;
                result = FrameResult::OutOfFuel;
            }
        }
    }
    tx.stack.pop();
    if matches!(result, FrameResult::Success(_)) && tx.node_failure.is_none() {
        tx.overlay.commit();
    } else {
        tx.overlay.revert();
        tx.events.truncate(events_before);
    }
    (tx, result, fuel_left)
}

/// Ends a frame that never ran: its checkpoint and stack entry are undone.
fn abandon_frame(
    mut tx: Box<TxContext>,
    result: FrameResult,
    fuel_left: u64,
) -> (Box<TxContext>, FrameResult, u64) {
    tx.overlay.revert();
    tx.stack.pop();
    (tx, result, fuel_left)
}

/// Moves `amount` from `from` to `to`; `false` (and no change) if `from` cannot cover it.
pub(crate) fn move_value(
    overlay: &mut Overlay,
    from: &Address,
    to: &Address,
    amount: Balance,
) -> Result<bool, StateError> {
    let mut source = overlay.account(from)?;
    if source.balance < amount {
        return Ok(false);
    }
    source.balance -= amount;
    overlay.set_account(from, &source)?;
    let mut destination = overlay.account(to)?;
    destination.balance = destination.balance.saturating_add(amount);
    overlay.set_account(to, &destination)?;
    Ok(true)
}

/// Truncates a revert message or return data to the receipt limit.
pub(crate) fn bounded(mut data: Vec<u8>) -> Vec<u8> {
    data.truncate(MAX_RETURN_DATA_BYTES);
    data
}
