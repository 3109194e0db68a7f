//! What the exporters ([`super::audit`], [`super::claim_check`], [`super::claim_response`],
//! [`super::eligibility`]) share: reading the contract's answer, and naming a party.

use std::str::FromStr;

use salus_primitives::Address;
use serde_json::{Value, json};

use super::{ADDRESS_SYSTEM, CLAIM_TYPES, FhirError};
use crate::directory::Directory;

/// `claim_type` if a `claim-type` code, else [`FhirError::UnknownCode`] at `type`.
pub(crate) fn claim_type(claim_type: &str) -> Result<(), FhirError> {
    if CLAIM_TYPES.contains(&claim_type) {
        Ok(())
    } else {
        Err(FhirError::UnknownCode {
            path: "type".into(),
            system: "http://terminology.hl7.org/CodeSystem/claim-type".into(),
            code: claim_type.into(),
        })
    }
}

/// The field at `path` of the contract's answer is not what the contract writes.
pub(crate) fn bad(path: &str) -> FhirError {
    FhirError::NotExportable {
        path: path.to_string(),
        reason: "malformed in the contract's answer".into(),
    }
}

/// An address as a Reference: the directory's FHIR reference, else an identifier with the
/// address.
pub(crate) fn who(directory: &Directory, address: &Address) -> Value {
    match directory.fhir_reference_of(address) {
        Ok(reference) => json!({ "reference": reference }),
        Err(_) => {
            json!({ "identifier": { "system": ADDRESS_SYSTEM, "value": address.to_string() } })
        }
    }
}

/// The string at `key` of the contract's answer, parsed (an address, a hash).
pub(crate) fn parsed<T: FromStr>(answer: &Value, key: &str) -> Result<T, FhirError> {
    answer
        .get(key)
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| bad(key))
}

/// The address at `key` of the contract's answer.
pub(crate) fn address(answer: &Value, key: &str) -> Result<Address, FhirError> {
    parsed(answer, key)
}

/// A number of the contract's answer, written as a number or a decimal string.
pub(crate) fn number(value: Option<&Value>, path: &str) -> Result<u64, FhirError> {
    match value {
        Some(Value::String(text)) => text.parse().map_err(|_| bad(path)),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(path)),
        _ => Err(bad(path)),
    }
}
