//! Fuel charged for native work. Fuel costs are consensus: changing one is a hard fork.

/// Fuel every transaction pays before anything runs: signature recovery, nonce and balance
/// checks, receipt and index writes. Sized so that a block's fuel limit also bounds its
/// signature-verification work.
pub const BASE_TRANSACTION_FUEL: u64 = 10_000;

/// Fuel per byte of the encoded transaction: it is hashed, stored in the body and gossiped.
pub const FUEL_PER_TRANSACTION_BYTE: u64 = 16;

/// Fuel of moving native balance between two accounts (two account reads and writes).
pub const TRANSFER_FUEL: u64 = 5_000;

/// Fuel a transaction must reserve before it can be considered at all.
pub fn intrinsic_fuel(encoded_len: usize) -> u64 {
    BASE_TRANSACTION_FUEL
        .saturating_add(FUEL_PER_TRANSACTION_BYTE.saturating_mul(encoded_len as u64))
}
