//! HL7 FHIR R4 (4.0.1) in and out of the consent contract (issue 23, deliverables 2 and 3; the
//! mapping is in docs/interop.md).
//!
//! [`consent::plan`] maps a Consent resource to one consent-contract call (`grant`,
//! `import_signed` or `propose`), checked whole; whatever the contract cannot express exactly,
//! or the resource leaves undecided, is refused with a [`FhirError`] naming the element's path —
//! never dropped, never silently permitted. [`consent::export`] writes an on-chain consent back
//! as a Consent resource, and [`audit::bundle`] a patient's accounting of disclosures as a
//! Bundle of AuditEvents. References resolve through the party's
//! [`Directory`](crate::directory::Directory); labels and classes go on chain only as tags
//! blinded with the relationship's key ([`crate::pseudonym::blinded_tag`]).

mod answer;
pub mod audit;
pub mod claim;
pub mod claim_check;
pub mod claim_response;
pub mod consent;
mod element;
pub mod eligibility;
pub mod time;
pub mod vocabulary;

use crate::directory::DirectoryError;

/// A record handle written as a FHIR reference when the directory has no reference for it:
/// this URN followed by the `0x` handle (read back as that handle).
pub const RECORD_URN: &str = "urn:salus:record:";

/// A chain address the directory cannot name, as an identifier system (the value is the `0x`
/// address).
pub const ADDRESS_SYSTEM: &str = "urn:salus:address";

/// The NPI identifier system (a `Reference.identifier` naming a party by NPI).
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";

/// `claim-type` codes.
pub(crate) const CLAIM_TYPES: &[&str] = &[
    "institutional",
    "oral",
    "pharmacy",
    "professional",
    "vision",
];

/// Why a resource is refused, or cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// Not JSON.
    #[error("the resource is not JSON: {0}")]
    Json(String),
    /// Not the resource expected.
    #[error("expected a FHIR R4 {expected} resource, found `{found}`")]
    NotA {
        /// `Consent`.
        expected: &'static str,
        /// Its `resourceType`.
        found: String,
    },
    /// An element the contract cannot express exactly.
    #[error("{path}: not supported: {reason}")]
    Unsupported {
        /// The element's path (`provision.provision[1].code`).
        path: String,
        /// Why.
        reason: String,
    },
    /// The resource leaves the decision open (a nested provision without a type, no base rule).
    #[error("{path}: undecided: {reason}")]
    Undecided {
        /// The element's path.
        path: String,
        /// What is left open.
        reason: String,
    },
    /// A code or code system outside the mapping.
    #[error("{path}: unknown code `{code}` of system `{system}`")]
    UnknownCode {
        /// The element's path.
        path: String,
        /// Its system (empty when none was given).
        system: String,
        /// The code.
        code: String,
    },
    /// A malformed value.
    #[error("{path}: invalid: {reason}")]
    Invalid {
        /// The element's path.
        path: String,
        /// Why.
        reason: String,
    },
    /// More than the contract takes (depth, provisions, criteria, code length).
    #[error("{path}: too complex for the contract: {reason}")]
    TooComplex {
        /// The element's path.
        path: String,
        /// Which limit.
        reason: String,
    },
    /// A reference the directory does not hold.
    #[error("{path}: {source}")]
    Unresolved {
        /// The element's path.
        path: String,
        /// The directory's answer.
        source: DirectoryError,
    },
    /// Labels or classes without the relationship's blinding key.
    #[error(
        "{path}: security labels and classes go on chain blinded with the relationship's key; none was given (--blinding)"
    )]
    NoBlindingKey {
        /// The element's path.
        path: String,
    },
    /// Export: a tag or commitment the exporter cannot open.
    #[error("{path}: cannot be written back: {reason}")]
    NotExportable {
        /// The contract field's path (`provisions[0].label_tags[1]`).
        path: String,
        /// Why.
        reason: String,
    },
    /// The operating system's random source failed (a data period's salt).
    #[error("drawing a salt: {0}")]
    Randomness(#[from] crate::RandomnessError),
}

/// `path.key`, or `key` at the root.
pub(crate) fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[index]`.
pub(crate) fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}
