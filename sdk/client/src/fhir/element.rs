//! Readers of a resource's elements shared by the importers ([`super::claim`] and
//! [`super::consent`]): each refusal names the element's path.

use serde_json::{Map, Value};

use super::{FhirError, child, item};

/// How an importer words the refusal of an element it has no place for.
pub(crate) struct Unrecorded {
    /// Why an `extension` is refused.
    pub extension: &'static str,
    /// Why an element outside the allowed keys is refused.
    pub element: &'static str,
}

impl Unrecorded {
    /// The object at `path`, its keys checked against `allowed` (extensions refused by name).
    pub(crate) fn object<'v>(
        &self,
        value: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Result<&'v Map<String, Value>, FhirError> {
        let map = value
            .as_object()
            .ok_or_else(|| invalid(path, "expected an object"))?;
        for key in map.keys() {
            if key == "modifierExtension" {
                return Err(unsupported(
                    &child(path, key),
                    "a modifier extension changes the element's meaning; the adapter knows none",
                ));
            }
            if key == "extension" {
                return Err(unsupported(&child(path, key), self.extension));
            }
            if !allowed.contains(&key.as_str()) && key != "id" {
                return Err(unsupported(&child(path, key), self.element));
            }
        }
        Ok(map)
    }

    /// A Coding: (system, code).
    pub(crate) fn coding(&self, value: &Value, path: &str) -> Result<(String, String), FhirError> {
        let map = self.object(
            value,
            path,
            &["system", "code", "display", "version", "userSelected"],
        )?;
        let system = string(map, "system", path)?.unwrap_or_default().to_string();
        let code = string(map, "code", path)?
            .ok_or_else(|| invalid(path, "a coding without a code"))?
            .to_string();
        Ok((system, code))
    }

    /// The codings of the CodeableConcept at `path` (its `text` is narrative, not
    /// machine-checkable, and is not read), the only one read and the rest refused with
    /// `one_code`; `None` when it has none.
    pub(crate) fn only_coding(
        &self,
        value: &Value,
        path: &str,
        one_code: &str,
    ) -> Result<Option<(String, String)>, FhirError> {
        let map = self.object(value, path, &["coding", "text"])?;
        match array(map, "coding", path)? {
            [one] => self.coding(one, &item(&child(path, "coding"), 0)).map(Some),
            [] => Ok(None),
            _ => Err(unsupported(&item(&child(path, "coding"), 1), one_code)),
        }
    }
}

/// Refuses a resource whose `resourceType` is not `expected`.
pub(crate) fn resource_type(resource: &Value, expected: &'static str) -> Result<(), FhirError> {
    let kind = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != expected {
        return Err(FhirError::NotA {
            expected,
            found: kind.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn unsupported(path: &str, reason: impl Into<String>) -> FhirError {
    FhirError::Unsupported {
        path: path.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn invalid(path: &str, reason: impl Into<String>) -> FhirError {
    FhirError::Invalid {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// The string at `key`, if any.
pub(crate) fn string<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'v str>, FhirError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(&child(path, key), "expected a string")),
    }
}

/// The array at `key` (empty when absent).
pub(crate) fn array<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'v [Value], FhirError> {
    match map.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(&child(path, key), "expected an array")),
    }
}
