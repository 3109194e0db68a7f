//! Authority in the registry and input bounds.

use registry::{RegistryRef, Role};
use salus_sdk::prelude::*;

use crate::storage::REGISTRY;
use crate::types::*;

pub(crate) fn registry() -> Result<RegistryRef, ConsentError> {
    REGISTRY
        .get()
        .map(RegistryRef)
        .ok_or(ConsentError::RegistryUnavailable)
}

pub(crate) fn registry_active(participant: &Address, role: Role) -> Result<bool, ConsentError> {
    registry()?
        .is_active(*participant, role, None)
        .map_err(|_| ConsentError::RegistryUnavailable)
}

/// The roles the registry attests for `participant` in good standing with a licence valid at
/// `at_ms` (none otherwise): one call, however many roles a check accepts.
pub(crate) fn registry_roles_at(
    participant: &Address,
    at_ms: u64,
) -> Result<Vec<Role>, ConsentError> {
    registry()?
        .active_roles(*participant, Some(at_ms))
        .map_err(|_| ConsentError::RegistryUnavailable)
}

pub(crate) fn registry_authority() -> Result<Address, ConsentError> {
    registry()?
        .authority()
        .map_err(|_| ConsentError::RegistryUnavailable)
}

pub(crate) fn check_code(code: &str) -> Result<(), ConsentError> {
    if code.len() > MAX_CODE_BYTES {
        Err(ConsentError::TooComplex)
    } else {
        Ok(())
    }
}

pub(crate) fn check_codes(codes: &[String]) -> Result<(), ConsentError> {
    if codes.len() > MAX_CRITERIA {
        return Err(ConsentError::TooComplex);
    }
    codes.iter().try_for_each(|code| check_code(code))
}

pub(crate) fn check_period(period: &Period) -> Result<(), ConsentError> {
    if period.end_ms <= period.start_ms {
        Err(ConsentError::InvalidPeriod)
    } else {
        Ok(())
    }
}

pub(crate) fn check_provision(
    provision: &Provision,
    depth: usize,
    count: &mut usize,
) -> Result<(), ConsentError> {
    *count += 1;
    if depth > MAX_PROVISION_DEPTH || *count > MAX_PROVISIONS {
        return Err(ConsentError::TooComplex);
    }
    if provision.actors.len() > MAX_CRITERIA
        || provision.custodians.len() > MAX_CRITERIA
        || provision.authors.len() > MAX_CRITERIA
        || provision.actions.len() > MAX_CRITERIA
        || provision.records.len() > MAX_CRITERIA
        || provision.label_tags.len() > MAX_CRITERIA
        || provision.class_tags.len() > MAX_CRITERIA
    {
        return Err(ConsentError::TooComplex);
    }
    check_codes(&provision.purposes)?;
    if let Some(period) = &provision.period {
        check_period(period)?;
    }
    for child in &provision.children {
        check_provision(child, depth + 1, count)?;
    }
    Ok(())
}
