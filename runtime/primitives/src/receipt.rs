//! Receipts and events: the outcome of executing one transaction.

use alloc::string::String;
use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode};

use crate::address::Address;
use crate::hash::Hash;

/// An event emitted by a contract (or by the runtime for native actions).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Event {
    /// The emitting contract.
    pub contract: Address,
    /// Up to [`crate::limits::MAX_EVENT_TOPICS`] indexed topics.
    pub topics: Vec<Hash>,
    /// Unindexed SCALE-encoded data.
    pub data: Vec<u8>,
}

/// Kinds of Wasm trap, as a receipt reports them. Consensus data with stable codes (the codec
/// index of each variant, also what a calling contract receives after `CallStatus::Trapped`);
/// their meanings are in docs/ABI.md. A new kind takes a new index; an index is never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum TrapKind {
    /// `unreachable` executed (a Rust panic without a message ends here).
    #[codec(index = 0)]
    Unreachable,
    /// Memory access out of bounds.
    #[codec(index = 1)]
    MemoryOutOfBounds,
    /// The Wasm stack limit was reached (unbounded recursion).
    #[codec(index = 2)]
    StackOverflow,
    /// Integer division by zero.
    #[codec(index = 3)]
    IntegerDivisionByZero,
    /// Integer overflow (e.g. `i32::MIN / -1`).
    #[codec(index = 4)]
    IntegerOverflow,
    /// Float-to-integer conversion out of range.
    #[codec(index = 5)]
    BadConversionToInteger,
    /// `call_indirect` through a null or out-of-bounds table entry, or with a wrong signature.
    #[codec(index = 6)]
    IndirectCall,
    /// Memory or table growth, or a module's declared memory, beyond what the frame may have
    /// (the memory limit, or what its fuel can pay for).
    #[codec(index = 7)]
    ResourceLimit,
    /// A host function refused the call (bad pointer, oversized argument).
    #[codec(index = 8)]
    HostError,
    /// Access to a table out of bounds.
    #[codec(index = 9)]
    TableOutOfBounds,
    /// Any other trap wasmtime reports.
    #[codec(index = 10)]
    Other,
}

/// Why an action could not run at all. Consensus data with stable codes (the codec index of each
/// variant, explained in docs/ABI.md): engine and host text never appears in a receipt, so a
/// wasmtime upgrade that rewords a message changes no receipts root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum InvalidReason {
    /// The called address holds no contract.
    #[codec(index = 0)]
    NoContract,
    /// The contract's code is not in the state (a state inconsistency no valid chain has).
    #[codec(index = 1)]
    CodeMissing,
    /// The deployed module was refused; the detail says which rule it broke.
    #[codec(index = 2)]
    ModuleRejected(ModuleRejection),
    /// The deploy address already holds a contract or an account that has sent transactions.
    #[codec(index = 3)]
    AddressOccupied,
    /// The sender cannot cover the value sent with a deploy.
    #[codec(index = 4)]
    InsufficientValue,
    /// The block already loaded the most distinct contract codes one block may
    /// (`MAX_CODES_LOADED_PER_BLOCK`); the transaction can run in a later block.
    #[codec(index = 5)]
    CodeLoadLimit,
}

/// Which deploy-time rule a module broke. Stable codes, as [`InvalidReason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ModuleRejection {
    /// Larger than the code size limit.
    #[codec(index = 0)]
    TooLarge,
    /// Not a well-formed Wasm binary.
    #[codec(index = 1)]
    Malformed,
    /// A count or size over one of the module limits.
    #[codec(index = 2)]
    OverLimit(ModuleLimit),
    /// An import from outside the host interface.
    #[codec(index = 3)]
    UnknownImport,
    /// A host function imported with another signature than the interface's.
    #[codec(index = 4)]
    ImportSignature,
    /// An imported memory, table, global or tag.
    #[codec(index = 5)]
    NonFunctionImport,
    /// A required export (`memory`, `call`) is missing, or an entry point has the wrong type.
    #[codec(index = 6)]
    MissingExport,
    /// A start function.
    #[codec(index = 7)]
    StartFunction,
    /// Shared or 64-bit memory.
    #[codec(index = 8)]
    DisallowedMemory,
    /// The engine's validation refused it: a disallowed Wasm feature, or invalid code.
    #[codec(index = 9)]
    EngineValidation,
    /// Its `salus_abi` custom section does not declare this host's ABI version (another
    /// version, or no readable declaration).
    #[codec(index = 10)]
    AbiVersion,
}

/// The module limits of [`ModuleRejection::OverLimit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ModuleLimit {
    /// Functions, defined and imported.
    #[codec(index = 0)]
    Functions,
    /// Tables.
    #[codec(index = 1)]
    Tables,
    /// Elements of a table, initial or maximum.
    #[codec(index = 2)]
    TableElements,
    /// Memories.
    #[codec(index = 3)]
    Memories,
    /// Initial pages of linear memory.
    #[codec(index = 4)]
    MemoryPages,
    /// Globals.
    #[codec(index = 5)]
    Globals,
    /// Element segments.
    #[codec(index = 6)]
    ElementSegments,
    /// Data segments.
    #[codec(index = 7)]
    DataSegments,
    /// Locals of one function.
    #[codec(index = 8)]
    LocalsPerFunction,
    /// Bytes of the ABI custom section.
    #[codec(index = 9)]
    AbiSectionBytes,
}

impl ModuleLimit {
    /// What the limit counts, in words.
    pub fn describe(self) -> &'static str {
        match self {
            ModuleLimit::Functions => "functions",
            ModuleLimit::Tables => "tables",
            ModuleLimit::TableElements => "table elements",
            ModuleLimit::Memories => "memories",
            ModuleLimit::MemoryPages => "initial memory pages",
            ModuleLimit::Globals => "globals",
            ModuleLimit::ElementSegments => "element segments",
            ModuleLimit::DataSegments => "data segments",
            ModuleLimit::LocalsPerFunction => "locals in one function",
            ModuleLimit::AbiSectionBytes => "ABI section bytes",
        }
    }
}

impl core::fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InvalidReason::NoContract => f.write_str("no contract at the called address"),
            InvalidReason::CodeMissing => f.write_str("the contract's code is missing"),
            InvalidReason::ModuleRejected(rejection) => {
                write!(f, "module rejected at deploy: {rejection}")
            }
            InvalidReason::AddressOccupied => f.write_str("the deploy address is already in use"),
            InvalidReason::InsufficientValue => {
                f.write_str("insufficient balance for the value sent")
            }
            InvalidReason::CodeLoadLimit => f.write_str(
                "the block has loaded the most distinct contract codes it may; \
                 the transaction can run in a later block",
            ),
        }
    }
}

impl core::fmt::Display for ModuleRejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModuleRejection::TooLarge => f.write_str("code size over the limit"),
            ModuleRejection::Malformed => f.write_str("malformed Wasm"),
            ModuleRejection::OverLimit(limit) => write!(f, "{} over the limit", limit.describe()),
            ModuleRejection::UnknownImport => {
                f.write_str("an import outside the Salus host interface")
            }
            ModuleRejection::ImportSignature => {
                f.write_str("a host import with the wrong signature")
            }
            ModuleRejection::NonFunctionImport => f.write_str("a non-function import"),
            ModuleRejection::MissingExport => {
                f.write_str("a required export is missing or has the wrong type")
            }
            ModuleRejection::StartFunction => f.write_str("a start function"),
            ModuleRejection::DisallowedMemory => f.write_str("shared or 64-bit memory"),
            ModuleRejection::EngineValidation => f.write_str(
                "refused by the engine's validation (a disallowed feature or invalid code)",
            ),
            ModuleRejection::AbiVersion => write!(
                f,
                "its {} section does not declare ABI version {}, the version this host implements",
                salus_abi::ABI_SECTION,
                salus_abi::ABI_VERSION
            ),
        }
    }
}

/// How a transaction's execution ended. Every variant but `Success` rolls back the transaction's
/// effects except the fee and the nonce increment. Consensus data: only the contract's own
/// revert message is free text; every other outcome is a stable code.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ExecutionStatus {
    /// Completed; effects committed.
    #[codec(index = 0)]
    Success,
    /// The contract reverted with a message.
    #[codec(index = 1)]
    Reverted {
        /// The revert message.
        message: String,
    },
    /// Fuel ran out.
    #[codec(index = 2)]
    OutOfFuel,
    /// The Wasm code trapped.
    #[codec(index = 3)]
    Trapped {
        /// What trapped.
        kind: TrapKind,
    },
    /// The action could not run at all (code rejected at deploy, unknown contract, address in
    /// use, insufficient value); the fee is still charged.
    #[codec(index = 4)]
    Invalid {
        /// Why.
        reason: InvalidReason,
    },
}

impl ExecutionStatus {
    /// Whether the transaction's effects were committed.
    pub fn is_success(&self) -> bool {
        matches!(self, ExecutionStatus::Success)
    }
}

/// The outcome of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Receipt {
    /// Hash of the transaction this receipt is for.
    pub transaction_hash: Hash,
    /// How execution ended.
    pub status: ExecutionStatus,
    /// Fuel consumed (and paid for).
    pub fuel_used: u64,
    /// Events emitted; empty unless `status` is `Success`.
    pub events: Vec<Event>,
    /// Data returned by the call, or the new contract's address for a deploy.
    pub return_data: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Every outcome a receipt can report, with its bytes written out by hand: receipts are
    /// consensus data, so a change to any of these encodings is a hard fork and must fail here
    /// first. (Issue 19: engine text used to be part of them.)
    #[test]
    fn the_bytes_of_every_outcome_kind_are_pinned() {
        use InvalidReason as R;
        use ModuleLimit as L;
        use ModuleRejection as M;
        let invalid = |reason| ExecutionStatus::Invalid { reason };
        let trapped = |kind| ExecutionStatus::Trapped { kind };
        let pinned: Vec<(ExecutionStatus, &[u8])> = vec![
            (ExecutionStatus::Success, &[0]),
            (
                ExecutionStatus::Reverted {
                    message: "no".into(),
                },
                &[1, 0x08, b'n', b'o'],
            ),
            (ExecutionStatus::OutOfFuel, &[2]),
            (trapped(TrapKind::Unreachable), &[3, 0]),
            (trapped(TrapKind::MemoryOutOfBounds), &[3, 1]),
            (trapped(TrapKind::StackOverflow), &[3, 2]),
            (trapped(TrapKind::IntegerDivisionByZero), &[3, 3]),
            (trapped(TrapKind::IntegerOverflow), &[3, 4]),
            (trapped(TrapKind::BadConversionToInteger), &[3, 5]),
            (trapped(TrapKind::IndirectCall), &[3, 6]),
            (trapped(TrapKind::ResourceLimit), &[3, 7]),
            (trapped(TrapKind::HostError), &[3, 8]),
            (trapped(TrapKind::TableOutOfBounds), &[3, 9]),
            (trapped(TrapKind::Other), &[3, 10]),
            (invalid(R::NoContract), &[4, 0]),
            (invalid(R::CodeMissing), &[4, 1]),
            (invalid(R::ModuleRejected(M::TooLarge)), &[4, 2, 0]),
            (invalid(R::ModuleRejected(M::Malformed)), &[4, 2, 1]),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::Functions))),
                &[4, 2, 2, 0],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::Tables))),
                &[4, 2, 2, 1],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::TableElements))),
                &[4, 2, 2, 2],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::Memories))),
                &[4, 2, 2, 3],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::MemoryPages))),
                &[4, 2, 2, 4],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::Globals))),
                &[4, 2, 2, 5],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::ElementSegments))),
                &[4, 2, 2, 6],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::DataSegments))),
                &[4, 2, 2, 7],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::LocalsPerFunction))),
                &[4, 2, 2, 8],
            ),
            (
                invalid(R::ModuleRejected(M::OverLimit(L::AbiSectionBytes))),
                &[4, 2, 2, 9],
            ),
            (invalid(R::ModuleRejected(M::UnknownImport)), &[4, 2, 3]),
            (invalid(R::ModuleRejected(M::ImportSignature)), &[4, 2, 4]),
            (invalid(R::ModuleRejected(M::NonFunctionImport)), &[4, 2, 5]),
            (invalid(R::ModuleRejected(M::MissingExport)), &[4, 2, 6]),
            (invalid(R::ModuleRejected(M::StartFunction)), &[4, 2, 7]),
            (invalid(R::ModuleRejected(M::DisallowedMemory)), &[4, 2, 8]),
            (invalid(R::ModuleRejected(M::EngineValidation)), &[4, 2, 9]),
            (invalid(R::ModuleRejected(M::AbiVersion)), &[4, 2, 10]),
            (invalid(R::AddressOccupied), &[4, 3]),
            (invalid(R::InsufficientValue), &[4, 4]),
            (invalid(R::CodeLoadLimit), &[4, 5]),
        ];
        for (status, bytes) in &pinned {
            assert_eq!(status.encode(), *bytes, "{status:?}");
            assert_eq!(
                ExecutionStatus::decode(&mut &bytes[..]).ok().as_ref(),
                Some(status),
                "{bytes:?}"
            );
        }
        // A whole receipt: hash, status, fuel (u64 LE), no events, no return data.
        let receipt = Receipt {
            transaction_hash: Hash([0xab; 32]),
            status: invalid(R::ModuleRejected(M::EngineValidation)),
            fuel_used: 0x0102,
            events: Vec::new(),
            return_data: Vec::new(),
        };
        let mut expected = vec![0xab; 32];
        expected.extend_from_slice(&[4, 2, 9, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(receipt.encode(), expected);
    }
}
