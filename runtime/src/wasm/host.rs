//! The host functions, linked from the table in `salus-abi`: a function whose Rust signature
//! differs from the table does not compile. Each charges its fuel before doing any work, checks
//! every pointer and length against the contract's memory and the ABI limits, and touches only
//! the executing contract's own storage namespace.

// Host functions take exactly the parameters the ABI table gives them.
#![allow(clippy::too_many_arguments)]

use parity_scale_codec::Encode;
use salus_abi::limits::{
    MAX_CALL_DEPTH, MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPICS, MAX_EVENTS_PER_TRANSACTION,
    MAX_INPUT_BYTES, MAX_RETURN_DATA_BYTES, MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES,
};
use salus_abi::{
    ABSENT, ADDRESS_BYTES, AMOUNT_BYTES, CallStatus, HASH_BYTES, HOST_MODULE, HostFunction,
    PUBLIC_KEY_BYTES, SIGNATURE_BYTES,
};
use salus_primitives::crypto::{Signature, recover_signer};
use salus_primitives::{Address, Balance, Event, Hash, StateKey};
use wasmtime::{Caller, Linker};

use super::context::{
    Frame, FrameResult, HostState, HostTrap, TxContext, bounded, move_value, run_frame,
};
use crate::fuel_schedule as fuel;
use crate::limits::MAX_CODES_LOADED_PER_BLOCK;
use crate::overlay::Overlay;
use crate::state::StateError;

type HostResult<T> = wasmtime::Result<T>;

macro_rules! link_host_functions {
    (@ret) => { () };
    (@ret $ret:ident) => { $ret };
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ident),* ) $(-> $ret:ident)? ; )*) => {
        /// Adds every host function of the ABI table to `linker`.
        pub(crate) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
            $(
                linker.func_wrap(
                    HOST_MODULE,
                    stringify!($name),
                    |caller: Caller<'_, HostState>, $($arg: $ty),*| -> HostResult<link_host_functions!(@ret $($ret)?)> {
                        $name(caller, $($arg),*)
                    },
                )?;
            )*
            Ok(())
        }
    };
}

salus_abi::for_each_host_function!(link_host_functions);

fn refuse(reason: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostTrap::Refused(reason.into()))
}

fn tx<'a>(caller: &'a mut Caller<'_, HostState>) -> &'a mut TxContext {
    caller
        .data_mut()
        .tx
        .as_mut()
        .expect("the transaction context is present while a host function runs")
}

/// Charges the fuel of one host-function call (the call itself plus `amount`) to the running
/// frame, recording it under `function`'s name.
fn charge(
    caller: &mut Caller<'_, HostState>,
    function: HostFunction,
    amount: u64,
) -> HostResult<()> {
    tx(caller)
        .breakdown
        .entry(function.name())
        .or_default()
        .calls += 1;
    charge_more(
        caller,
        function,
        amount.saturating_add(fuel::HOST_CALL_FUEL),
    )
}

/// Charges further fuel within the same host-function call, once its size is known.
fn charge_more(
    caller: &mut Caller<'_, HostState>,
    function: HostFunction,
    amount: u64,
) -> HostResult<()> {
    let entry = tx(caller).breakdown.entry(function.name()).or_default();
    entry.fuel = entry.fuel.saturating_add(amount);
    let amount = fuel::to_subunits(amount);
    let left = caller.get_fuel()?;
    if left < amount {
        caller.set_fuel(0)?;
        return Err(wasmtime::Error::new(HostTrap::OutOfFuel));
    }
    caller.set_fuel(left - amount)
}

fn per_byte(bytes: usize, rate: u64) -> u64 {
    (bytes as u64).saturating_mul(rate)
}

/// Checks a guest length against a limit before any copy.
fn length(len: i32, limit: usize, what: &str) -> HostResult<usize> {
    let len = usize::try_from(len).map_err(|_| refuse(format!("negative {what} length")))?;
    if len > limit {
        return Err(refuse(format!(
            "{what} of {len} bytes exceeds the limit of {limit}"
        )));
    }
    Ok(len)
}

fn read(caller: &Caller<'_, HostState>, ptr: i32, len: usize) -> HostResult<Vec<u8>> {
    let memory = caller
        .data()
        .memory
        .ok_or_else(|| refuse("contract exports no memory"))?;
    let start = ptr as u32 as usize;
    memory
        .data(caller)
        .get(start..start.saturating_add(len))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| refuse("pointer out of bounds"))
}

fn read_array<const N: usize>(caller: &Caller<'_, HostState>, ptr: i32) -> HostResult<[u8; N]> {
    let bytes = read(caller, ptr, N)?;
    Ok(bytes.try_into().expect("read returns exactly N bytes"))
}

fn read_address(caller: &Caller<'_, HostState>, ptr: i32) -> HostResult<Address> {
    read_array::<ADDRESS_BYTES>(caller, ptr).map(Address)
}

fn read_hash(caller: &Caller<'_, HostState>, ptr: i32) -> HostResult<Hash> {
    read_array::<HASH_BYTES>(caller, ptr).map(Hash)
}

fn read_amount(caller: &Caller<'_, HostState>, ptr: i32) -> HostResult<Balance> {
    read_array::<AMOUNT_BYTES>(caller, ptr).map(Balance::from_le_bytes)
}

/// Reads a guest buffer of at most `limit` bytes, charging `function`'s call and the copy.
fn read_charged(
    caller: &mut Caller<'_, HostState>,
    function: HostFunction,
    ptr: i32,
    len: i32,
    limit: usize,
    what: &str,
) -> HostResult<Vec<u8>> {
    let len = length(len, limit, what)?;
    charge(
        caller,
        function,
        per_byte(len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    read(caller, ptr, len)
}

fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> HostResult<()> {
    let memory = caller
        .data()
        .memory
        .ok_or_else(|| refuse("contract exports no memory"))?;
    let start = ptr as u32 as usize;
    memory
        .data_mut(caller)
        .get_mut(start..start.saturating_add(bytes.len()))
        .ok_or_else(|| refuse("pointer out of bounds"))?
        .copy_from_slice(bytes);
    Ok(())
}

/// Writes as much of `bytes` as `out_cap` holds to `out_ptr`, charging the copy to `function`,
/// and returns the whole length (a contract whose buffer was too small learns what it needs).
fn write_truncated(
    caller: &mut Caller<'_, HostState>,
    function: HostFunction,
    out_ptr: i32,
    out_cap: usize,
    bytes: &[u8],
) -> HostResult<i64> {
    let copied = bytes.len().min(out_cap);
    charge_more(
        caller,
        function,
        per_byte(copied, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    write(caller, out_ptr, &bytes[..copied])?;
    Ok(bytes.len() as i64)
}

/// Records a node-local failure (the state backend, or resources) and stops the frame; the
/// block is abandoned, not judged.
fn backend(caller: &mut Caller<'_, HostState>, error: StateError) -> wasmtime::Error {
    tx(caller).node_failure = Some(error);
    wasmtime::Error::new(HostTrap::NodeFailure)
}

/// Runs `access` over the transaction's overlay; a failure of the state backend stops the frame
/// as a node-local failure ([`backend`]).
fn with_overlay<T>(
    caller: &mut Caller<'_, HostState>,
    access: impl FnOnce(&mut Overlay) -> Result<T, StateError>,
) -> HostResult<T> {
    let result = access(&mut tx(caller).overlay);
    result.map_err(|error| backend(caller, error))
}

/// Moves `amount` from `from` to `to`: [`CallStatus::InsufficientBalance`] when `from` holds less.
fn move_value_status(
    caller: &mut Caller<'_, HostState>,
    from: &Address,
    to: &Address,
    amount: Balance,
) -> HostResult<CallStatus> {
    let moved = with_overlay(caller, |overlay| move_value(overlay, from, to, amount))?;
    Ok(if moved {
        CallStatus::Success
    } else {
        CallStatus::InsufficientBalance
    })
}

/// Reads a key of the executing contract's storage from the guest and returns its flat state key.
fn read_storage_key(caller: &Caller<'_, HostState>, ptr: i32, len: usize) -> HostResult<Vec<u8>> {
    let key = read(caller, ptr, len)?;
    Ok(StateKey::Storage(caller.data().frame.address, key).to_bytes())
}

/// One of the frame's buffers a contract reads by length and copy.
type FrameBuffer = fn(&mut Frame) -> &mut Vec<u8>;

fn frame_buffer_len(
    mut caller: Caller<'_, HostState>,
    function: HostFunction,
    buffer: FrameBuffer,
) -> HostResult<i32> {
    charge(&mut caller, function, 0)?;
    Ok(buffer(&mut caller.data_mut().frame).len() as i32)
}

/// Copies a whole frame buffer to `out_ptr`, charging the copy to `function`.
fn frame_buffer_read(
    mut caller: Caller<'_, HostState>,
    function: HostFunction,
    buffer: FrameBuffer,
    out_ptr: i32,
) -> HostResult<()> {
    let len = buffer(&mut caller.data_mut().frame).len();
    charge(
        &mut caller,
        function,
        per_byte(len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let data = std::mem::take(buffer(&mut caller.data_mut().frame));
    let result = write(&mut caller, out_ptr, &data);
    *buffer(&mut caller.data_mut().frame) = data;
    result
}

fn input_len(caller: Caller<'_, HostState>) -> HostResult<i32> {
    frame_buffer_len(caller, HostFunction::input_len, |frame| &mut frame.input)
}

fn input_read(caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    frame_buffer_read(
        caller,
        HostFunction::input_read,
        |frame| &mut frame.input,
        out_ptr,
    )
}

fn set_return(mut caller: Caller<'_, HostState>, ptr: i32, len: i32) -> HostResult<()> {
    let data = read_charged(
        &mut caller,
        HostFunction::set_return,
        ptr,
        len,
        MAX_RETURN_DATA_BYTES,
        "return data",
    )?;
    caller.data_mut().frame.return_data = data;
    Ok(())
}

fn revert(mut caller: Caller<'_, HostState>, message_ptr: i32, message_len: i32) -> HostResult<()> {
    let message = read_charged(
        &mut caller,
        HostFunction::revert,
        message_ptr,
        message_len,
        MAX_RETURN_DATA_BYTES,
        "revert message",
    )?;
    Err(wasmtime::Error::new(HostTrap::Revert(
        String::from_utf8_lossy(&message).into_owned(),
    )))
}

fn storage_get(
    mut caller: Caller<'_, HostState>,
    key_ptr: i32,
    key_len: i32,
    out_ptr: i32,
    out_cap: i32,
) -> HostResult<i64> {
    let key_len = length(key_len, MAX_STORAGE_KEY_BYTES, "storage key")?;
    let out_cap = length(out_cap, usize::MAX >> 1, "output buffer")?;
    charge(
        &mut caller,
        HostFunction::storage_get,
        fuel::STORAGE_READ_FUEL + per_byte(key_len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let key = read_storage_key(&caller, key_ptr, key_len)?;
    let Some(value) = with_overlay(&mut caller, |overlay| overlay.get(&key))? else {
        return Ok(ABSENT);
    };
    write_truncated(
        &mut caller,
        HostFunction::storage_get,
        out_ptr,
        out_cap,
        &value,
    )
}

fn storage_set(
    mut caller: Caller<'_, HostState>,
    key_ptr: i32,
    key_len: i32,
    value_ptr: i32,
    value_len: i32,
) -> HostResult<()> {
    let key_len = length(key_len, MAX_STORAGE_KEY_BYTES, "storage key")?;
    let value_len = length(value_len, MAX_STORAGE_VALUE_BYTES, "storage value")?;
    charge(
        &mut caller,
        HostFunction::storage_set,
        fuel::STORAGE_WRITE_FUEL + per_byte(key_len + value_len, fuel::STORAGE_WRITE_FUEL_PER_BYTE),
    )?;
    let key = read_storage_key(&caller, key_ptr, key_len)?;
    let value = read(&caller, value_ptr, value_len)?;
    with_overlay(&mut caller, |overlay| overlay.set(key, Some(value)))
}

fn storage_remove(mut caller: Caller<'_, HostState>, key_ptr: i32, key_len: i32) -> HostResult<()> {
    let key_len = length(key_len, MAX_STORAGE_KEY_BYTES, "storage key")?;
    charge(
        &mut caller,
        HostFunction::storage_remove,
        fuel::STORAGE_WRITE_FUEL + per_byte(key_len, fuel::STORAGE_WRITE_FUEL_PER_BYTE),
    )?;
    let key = read_storage_key(&caller, key_ptr, key_len)?;
    with_overlay(&mut caller, |overlay| overlay.set(key, None))
}

fn storage_has(mut caller: Caller<'_, HostState>, key_ptr: i32, key_len: i32) -> HostResult<i32> {
    let key_len = length(key_len, MAX_STORAGE_KEY_BYTES, "storage key")?;
    charge(
        &mut caller,
        HostFunction::storage_has,
        fuel::STORAGE_READ_FUEL + per_byte(key_len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let key = read_storage_key(&caller, key_ptr, key_len)?;
    let value = with_overlay(&mut caller, |overlay| overlay.get(&key))?;
    Ok(i32::from(value.is_some()))
}

fn storage_next_key(
    mut caller: Caller<'_, HostState>,
    prefix_ptr: i32,
    prefix_len: i32,
    after_ptr: i32,
    after_len: i32,
    out_ptr: i32,
    out_cap: i32,
) -> HostResult<i64> {
    let prefix_len = length(prefix_len, MAX_STORAGE_KEY_BYTES, "scan prefix")?;
    let after_len = if after_len == -1 {
        None
    } else {
        Some(length(after_len, MAX_STORAGE_KEY_BYTES, "scan cursor")?)
    };
    let out_cap = length(out_cap, usize::MAX >> 1, "output buffer")?;
    let copied_in = prefix_len + after_len.unwrap_or(0);
    charge(
        &mut caller,
        HostFunction::storage_next_key,
        fuel::STORAGE_SCAN_FUEL + per_byte(copied_in, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let prefix = read_storage_key(&caller, prefix_ptr, prefix_len)?;
    let after = match after_len {
        Some(len) => Some(read_storage_key(&caller, after_ptr, len)?),
        None => None,
    };
    let namespace_len = StateKey::Storage(caller.data().frame.address, Vec::new())
        .to_bytes()
        .len();
    let next = with_overlay(&mut caller, |overlay| {
        overlay.next_entry(&prefix, after.as_deref())
    })?;
    let Some((key, _)) = next else {
        return Ok(ABSENT);
    };
    write_truncated(
        &mut caller,
        HostFunction::storage_next_key,
        out_ptr,
        out_cap,
        &key[namespace_len..],
    )
}

fn write_address(
    mut caller: Caller<'_, HostState>,
    function: HostFunction,
    out_ptr: i32,
    pick: fn(&HostState) -> Address,
) -> HostResult<()> {
    charge(
        &mut caller,
        function,
        per_byte(ADDRESS_BYTES, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let address = pick(caller.data());
    write(&mut caller, out_ptr, &address.0)
}

fn caller(caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    write_address(caller, HostFunction::caller, out_ptr, |state| {
        state.frame.caller
    })
}

fn origin(caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    write_address(caller, HostFunction::origin, out_ptr, |state| {
        state
            .tx
            .as_ref()
            .map(|tx| tx.env.origin)
            .unwrap_or_default()
    })
}

fn self_address(caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    write_address(caller, HostFunction::self_address, out_ptr, |state| {
        state.frame.address
    })
}

fn value(mut caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    charge(
        &mut caller,
        HostFunction::value,
        per_byte(AMOUNT_BYTES, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let amount = caller.data().frame.value;
    write(&mut caller, out_ptr, &amount.to_le_bytes())
}

fn block_number(mut caller: Caller<'_, HostState>) -> HostResult<i64> {
    charge(&mut caller, HostFunction::block_number, 0)?;
    Ok(tx(&mut caller).env.block.number as i64)
}

fn block_timestamp_ms(mut caller: Caller<'_, HostState>) -> HostResult<i64> {
    charge(&mut caller, HostFunction::block_timestamp_ms, 0)?;
    Ok(tx(&mut caller).env.block.timestamp_ms as i64)
}

fn chain_id(mut caller: Caller<'_, HostState>) -> HostResult<i64> {
    charge(&mut caller, HostFunction::chain_id, 0)?;
    Ok(tx(&mut caller).env.chain_id as i64)
}

fn fuel_left(mut caller: Caller<'_, HostState>) -> HostResult<i64> {
    charge(&mut caller, HostFunction::fuel_left, 0)?;
    Ok(fuel::whole_units(caller.get_fuel()?) as i64)
}

fn emit_event(
    mut caller: Caller<'_, HostState>,
    topics_ptr: i32,
    topics_count: i32,
    data_ptr: i32,
    data_len: i32,
) -> HostResult<()> {
    let topics_count = length(topics_count, MAX_EVENT_TOPICS, "event topic list")?;
    let data_len = length(data_len, MAX_EVENT_DATA_BYTES, "event data")?;
    charge(
        &mut caller,
        HostFunction::emit_event,
        fuel::EVENT_FUEL
            + fuel::EVENT_TOPIC_FUEL * topics_count as u64
            + per_byte(data_len, fuel::EVENT_FUEL_PER_BYTE),
    )?;
    if tx(&mut caller).events.len() >= MAX_EVENTS_PER_TRANSACTION {
        return Err(refuse(format!(
            "more than {MAX_EVENTS_PER_TRANSACTION} events in one transaction"
        )));
    }
    let topic_bytes = read(&caller, topics_ptr, topics_count * HASH_BYTES)?;
    let topics = topic_bytes
        .chunks_exact(HASH_BYTES)
        .map(|chunk| Hash(chunk.try_into().expect("32-byte chunk")))
        .collect();
    let data = read(&caller, data_ptr, data_len)?;
    let contract = caller.data().frame.address;
    tx(&mut caller).events.push(Event {
        contract,
        topics,
        data,
    });
    Ok(())
}

fn keccak256(
    mut caller: Caller<'_, HostState>,
    ptr: i32,
    len: i32,
    out_ptr: i32,
) -> HostResult<()> {
    let len = length(len, MAX_INPUT_BYTES, "keccak256 input")?;
    charge(
        &mut caller,
        HostFunction::keccak256,
        fuel::KECCAK_FUEL + per_byte(len, fuel::KECCAK_FUEL_PER_BYTE),
    )?;
    let digest = salus_primitives::keccak256(&read(&caller, ptr, len)?);
    write(&mut caller, out_ptr, &digest.0)
}

fn secp256k1_recover(
    mut caller: Caller<'_, HostState>,
    digest_ptr: i32,
    signature_ptr: i32,
    out_ptr: i32,
) -> HostResult<i32> {
    charge(
        &mut caller,
        HostFunction::secp256k1_recover,
        fuel::SECP256K1_RECOVER_FUEL,
    )?;
    let digest = read_hash(&caller, digest_ptr)?;
    let signature = Signature(read_array::<SIGNATURE_BYTES>(&caller, signature_ptr)?);
    match recover_signer(&digest, &signature) {
        Ok(address) => write(&mut caller, out_ptr, &address.0).map(|()| 0),
        Err(_) => Ok(1),
    }
}

fn secp256k1_verify(
    mut caller: Caller<'_, HostState>,
    digest_ptr: i32,
    signature_ptr: i32,
    public_key_ptr: i32,
) -> HostResult<i32> {
    charge(
        &mut caller,
        HostFunction::secp256k1_verify,
        fuel::SECP256K1_VERIFY_FUEL,
    )?;
    let digest = read_array::<HASH_BYTES>(&caller, digest_ptr)?;
    let signature = read_array::<64>(&caller, signature_ptr)?;
    let public_key = read_array::<PUBLIC_KEY_BYTES>(&caller, public_key_ptr)?;
    Ok(i32::from(salus_primitives::crypto::verify_prehash(
        &digest,
        &signature,
        &public_key,
    )))
}

fn balance(mut caller: Caller<'_, HostState>, address_ptr: i32, out_ptr: i32) -> HostResult<()> {
    charge(&mut caller, HostFunction::balance, fuel::BALANCE_FUEL)?;
    let address = read_address(&caller, address_ptr)?;
    let account = with_overlay(&mut caller, |overlay| overlay.account(&address))?;
    write(&mut caller, out_ptr, &account.balance.to_le_bytes())
}

fn transfer(
    mut caller: Caller<'_, HostState>,
    address_ptr: i32,
    amount_ptr: i32,
) -> HostResult<i32> {
    charge(&mut caller, HostFunction::transfer, fuel::TRANSFER_FUEL)?;
    let to = read_address(&caller, address_ptr)?;
    let amount = read_amount(&caller, amount_ptr)?;
    let from = caller.data().frame.address;
    move_value_status(&mut caller, &from, &to, amount).map(|status| status as i32)
}

/// Runs a nested frame: takes the transaction context out of the caller's store, runs the
/// callee in its own store with the fuel it is given, puts the context back, and charges the
/// caller what the callee used.
fn nested(
    caller: &mut Caller<'_, HostState>,
    target: Address,
    entry: &'static str,
    input: Vec<u8>,
    value: Balance,
    requested_fuel: i64,
    code_hash: Option<Hash>,
) -> HostResult<CallStatus> {
    let self_address = caller.data().frame.address;
    let tx_ref = tx(caller);
    if tx_ref.stack.len() >= MAX_CALL_DEPTH {
        return Ok(CallStatus::DepthExceeded);
    }
    let vm = tx_ref.vm.clone();
    let code_hash = match code_hash {
        Some(hash) => hash,
        None => match with_overlay(caller, |overlay| overlay.account(&target))?.code_hash {
            Some(hash) => hash,
            None => return Ok(CallStatus::UnknownContract),
        },
    };
    if !tx(caller).overlay.admit_code_load(&code_hash) {
        // The refusal is remembered on the overlay and fails the whole transaction.
        return Err(refuse(format!(
            "the block may load at most {MAX_CODES_LOADED_PER_BLOCK} distinct contract codes"
        )));
    }
    let Some(contract) = with_overlay(caller, |overlay| vm.load(&code_hash, overlay))? else {
        return Ok(CallStatus::UnknownContract);
    };
    charge_more(
        caller,
        entry_function(entry),
        fuel::code_load_fuel(contract.code_len),
    )?;
    if entry == salus_abi::DEPLOY_EXPORT && !contract.info.has_constructor {
        // Nothing to run: only the value moves.
        return move_value_status(caller, &self_address, &target, value);
    }
    if tx(caller).stack.contains(&target) && !contract.info.reentrant {
        return Ok(CallStatus::ReentrancyRefused);
    }
    if with_overlay(caller, |overlay| overlay.account(&self_address))?.balance < value {
        return Ok(CallStatus::InsufficientBalance);
    }
    let remaining_subunits = caller.get_fuel()?;
    let remaining = fuel::whole_units(remaining_subunits);
    let given = match u64::try_from(requested_fuel) {
        Ok(0) | Err(_) => remaining,
        Ok(requested) => requested.min(remaining),
    };
    if !crate::native_stack::frame_fits() {
        // Every execution runs on a thread with the stack the limits allow for
        // (`native_stack::EXECUTION_STACK_BYTES`), so this is never reached unless that
        // arithmetic is wrong: then the block is abandoned on this node instead of the process
        // overflowing its stack, and nothing is judged.
        let depth = tx(caller).stack.len() + 1;
        let failure = StateError(format!(
            "native stack too small for call depth {depth}: {:?} bytes left",
            crate::native_stack::remaining()
        ));
        return Err(backend(caller, failure));
    }
    let context = caller.data_mut().tx.take().expect("context present");
    let frame = Frame::new(target, self_address, value, input);
    let (context, result, left) = run_frame(context, frame, &contract, entry, given);
    let node_failed = context.node_failure.is_some();
    caller.data_mut().tx = Some(context);
    caller.set_fuel(remaining_subunits - fuel::to_subunits(given - left))?;
    if node_failed {
        return Err(wasmtime::Error::new(HostTrap::NodeFailure));
    }
    let (status, data) = match result {
        FrameResult::Success(data) => (CallStatus::Success, data),
        FrameResult::Reverted(message) => (CallStatus::Reverted, message.into_bytes()),
        FrameResult::OutOfFuel => (CallStatus::OutOfFuel, Vec::new()),
        FrameResult::Trapped(kind) => (CallStatus::Trapped, kind.encode()),
    };
    let data = bounded(data);
    charge_more(
        caller,
        entry_function(entry),
        per_byte(data.len(), fuel::RETURN_DATA_FUEL_PER_BYTE),
    )?;
    caller.data_mut().frame.call_result = data;
    Ok(status)
}

/// The host function that runs a nested frame at `entry`, whose fuel the frame is charged to.
fn entry_function(entry: &str) -> HostFunction {
    if entry == salus_abi::DEPLOY_EXPORT {
        HostFunction::instantiate
    } else {
        HostFunction::call
    }
}

fn call(
    mut caller: Caller<'_, HostState>,
    contract_ptr: i32,
    input_ptr: i32,
    input_len: i32,
    value_ptr: i32,
    fuel: i64,
) -> HostResult<i32> {
    let input_len = length(input_len, MAX_INPUT_BYTES, "call input")?;
    charge(
        &mut caller,
        HostFunction::call,
        fuel::CALL_FUEL + per_byte(input_len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let target = read_address(&caller, contract_ptr)?;
    let input = read(&caller, input_ptr, input_len)?;
    let value = read_amount(&caller, value_ptr)?;
    caller.data_mut().frame.call_result.clear();
    nested(
        &mut caller,
        target,
        salus_abi::CALL_EXPORT,
        input,
        value,
        fuel,
        None,
    )
    .map(|status| status as i32)
}

fn instantiate(
    mut caller: Caller<'_, HostState>,
    code_hash_ptr: i32,
    input_ptr: i32,
    input_len: i32,
    salt_ptr: i32,
    value_ptr: i32,
    fuel: i64,
    out_ptr: i32,
) -> HostResult<i32> {
    let input_len = length(input_len, MAX_INPUT_BYTES, "constructor input")?;
    charge(
        &mut caller,
        HostFunction::instantiate,
        fuel::CALL_FUEL
            + fuel::STORAGE_WRITE_FUEL
            + per_byte(input_len, fuel::MEMORY_COPY_FUEL_PER_BYTE),
    )?;
    let code_hash = read_hash(&caller, code_hash_ptr)?;
    let input = read(&caller, input_ptr, input_len)?;
    let salt = read_hash(&caller, salt_ptr)?;
    let value = read_amount(&caller, value_ptr)?;
    caller.data_mut().frame.call_result.clear();
    let deployer = caller.data().frame.address;
    let address = Address::contract(&deployer, &code_hash, &salt);
    // The account and the constructor's effects stand or fall together.
    tx(&mut caller).overlay.checkpoint();
    let outcome = with_overlay(&mut caller, |overlay| {
        super::create_account(overlay, &address, &code_hash)
    })
    .and_then(|created| {
        if !created {
            return Ok(CallStatus::Refused);
        }
        nested(
            &mut caller,
            address,
            salus_abi::DEPLOY_EXPORT,
            input,
            value,
            fuel,
            Some(code_hash),
        )
    });
    let overlay = &mut tx(&mut caller).overlay;
    if matches!(outcome, Ok(CallStatus::Success)) {
        overlay.commit();
    } else {
        overlay.revert();
    }
    let status = outcome?;
    if status == CallStatus::Success {
        write(&mut caller, out_ptr, &address.0)?;
    }
    Ok(status as i32)
}

fn call_result_len(caller: Caller<'_, HostState>) -> HostResult<i32> {
    frame_buffer_len(caller, HostFunction::call_result_len, |frame| {
        &mut frame.call_result
    })
}

fn call_result_read(caller: Caller<'_, HostState>, out_ptr: i32) -> HostResult<()> {
    frame_buffer_read(
        caller,
        HostFunction::call_result_read,
        |frame| &mut frame.call_result,
        out_ptr,
    )
}
