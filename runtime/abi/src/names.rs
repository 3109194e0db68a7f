//! The names and the version host, guest and tools agree on: the import module, the entry
//! points, the custom sections and the ABI version. No dependencies and no reference to the rest
//! of `salus-abi`: the `#[contract]` macro compiles this very file (see the crate docs).

/// Version of this interface. A module declares the version it was built against as the
/// `abi_version` member of the JSON in its [`ABI_SECTION`] (the `#[contract]` macro writes it);
/// a module that declares another version is refused at deploy. A module without an
/// [`ABI_SECTION`] declares nothing and is judged by its imports alone.
pub const ABI_VERSION: u32 = 1;

/// The member of the [`ABI_SECTION`]'s JSON object that declares the module's ABI version.
pub const ABI_VERSION_FIELD: &str = "abi_version";

/// The Wasm import module of every host function.
pub const HOST_MODULE: &str = "salus";

/// Export called once when the contract is deployed (the constructor).
pub const DEPLOY_EXPORT: &str = "deploy";
/// Export called for every message.
pub const CALL_EXPORT: &str = "call";
/// The memory export through which host and guest exchange data.
pub const MEMORY_EXPORT: &str = "memory";
/// Custom section holding the contract's ABI description (messages, events, errors).
pub const ABI_SECTION: &str = "salus_abi";
/// Custom section whose presence lets the contract be re-entered while it is already on the
/// call stack. Without it, a call that would re-enter the contract is refused.
pub const REENTRANT_SECTION: &str = "salus_reentrant";

/// Bytes of a message selector (first 4 bytes of keccak256 of the message name).
pub const SELECTOR_BYTES: usize = 4;
