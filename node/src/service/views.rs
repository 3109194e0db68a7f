//! Conversions from on-chain types to the JSON views of the RPC interface.

use salus_client::rpc::{EventView, HeaderView, HostFunctionFuelView};
use salus_primitives::{BlockHeader, Event, ExecutionStatus};
use salus_runtime::wasm::FuelBreakdown;

/// `0x`-prefixed hex.
pub fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// A header as JSON.
pub fn header(header: &BlockHeader) -> HeaderView {
    HeaderView {
        hash: header.hash().to_string(),
        parent_hash: header.parent_hash.to_string(),
        number: header.number,
        timestamp_ms: header.timestamp_ms,
        transactions_root: header.transactions_root.to_string(),
        receipts_root: header.receipts_root.to_string(),
        state_root: header.state_root.to_string(),
        bits: format!("{:#010x}", header.bits.0),
        nonce: header.nonce.to_string(),
        miner: header.miner.to_string(),
    }
}

/// An event as JSON.
pub fn event(event: &Event) -> EventView {
    EventView {
        contract: event.contract.to_string(),
        topics: event.topics.iter().map(ToString::to_string).collect(),
        data: hex(&event.data),
    }
}

/// A status name and, for failures, its explanation.
pub fn status(status: &ExecutionStatus) -> (String, Option<String>) {
    let name = match status {
        ExecutionStatus::Success => "success",
        ExecutionStatus::Reverted { .. } => "reverted",
        ExecutionStatus::OutOfFuel => "outOfFuel",
        ExecutionStatus::Trapped { .. } => "trapped",
        ExecutionStatus::Invalid { .. } => "invalid",
    };
    (name.to_string(), salus_client::decode_failure(status))
}

/// Fuel per host function as JSON.
pub fn fuel_breakdown(breakdown: &FuelBreakdown) -> Vec<HostFunctionFuelView> {
    breakdown
        .iter()
        .map(|(function, fuel)| HostFunctionFuelView {
            function: function.to_string(),
            calls: fuel.calls,
            fuel: fuel.fuel,
        })
        .collect()
}
