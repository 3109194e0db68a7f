//! Who may act, asked of the registry (active payers, active providers — practitioners and
//! provider organisations — with the NPI it attests for them, a payer's reviewers, a request's
//! requester), and the bounds of every input.

use registry::{RegistryRef, Role};
use salus_sdk::prelude::*;

use crate::storage::{REGISTRY, REVIEWERS};
use crate::types::*;

/// Most lines in one request or claim (X12 278 and 837 loops are bounded likewise).
pub(crate) const MAX_LINES: usize = 50;
/// Most documentation commitments, revisions or CARCs per line kept with one request or claim.
pub(crate) const MAX_ENTRIES: usize = 16;
/// Most entries in one code list (ranges, diagnoses, modifiers, attachments, …).
pub(crate) const MAX_CODES: usize = 32;
/// Longest code or short text (X12 element sizes; reason texts are short labels).
pub(crate) const MAX_CODE_BYTES: usize = 80;

pub(crate) fn registry_active(participant: &Address, role: Role) -> Result<bool, CoverageError> {
    let registry = REGISTRY.get().ok_or(CoverageError::Unavailable)?;
    RegistryRef(registry)
        .is_active(*participant, role, None)
        .map_err(|_| CoverageError::Unavailable)
}

pub(crate) fn active_payer() -> Result<Address, CoverageError> {
    let payer = caller();
    if registry_active(&payer, Role::Payer)? {
        Ok(payer)
    } else {
        Err(CoverageError::NotAPayer)
    }
}

/// Whether `participant` is an active provider in the registry: a provider organisation or a
/// practitioner (asked in that order).
pub(crate) fn registry_active_provider(participant: &Address) -> Result<bool, CoverageError> {
    Ok(registry_active(participant, Role::ProviderOrganisation)?
        || registry_active(participant, Role::Practitioner)?)
}

/// The NPI the registry attests for `participant` if it is an active provider (practitioner
/// or provider organisation); `None` otherwise.
pub(crate) fn provider_npi(participant: &Address) -> Result<Option<String>, CoverageError> {
    if !registry_active_provider(participant)? {
        return Ok(None);
    }
    attested_npi(participant)
}

/// The caller and the NPI the registry attests for it, if it is an active provider
/// (practitioner or provider organisation) with an NPI.
pub(crate) fn active_provider() -> Result<(Address, String), CoverageError> {
    let provider = caller();
    match provider_npi(&provider)? {
        Some(npi) => Ok((provider, npi)),
        None => Err(CoverageError::NotAProvider),
    }
}

/// The caller if it is `requester` and still an active provider in the registry: a provider
/// suspended or revoked since it submitted no longer acts on its requests or claims.
pub(crate) fn acting_requester(requester: &Address) -> Result<Address, CoverageError> {
    let who = caller();
    if who != *requester {
        return Err(CoverageError::NotAuthorised);
    }
    if !registry_active_provider(&who)? {
        return Err(CoverageError::NotAProvider);
    }
    Ok(who)
}

/// The NPI the registry attests for `participant`, if any.
pub(crate) fn attested_npi(participant: &Address) -> Result<Option<String>, CoverageError> {
    let registry = REGISTRY.get().ok_or(CoverageError::Unavailable)?;
    RegistryRef(registry)
        .participant(*participant)
        .map(|record| record.and_then(|record| record.npi))
        .map_err(|_| CoverageError::Unavailable)
}

/// The caller if it is `payer` (still active in the registry) or one of its reviewers.
pub(crate) fn authorised_reviewer(payer: &Address) -> Result<Address, CoverageError> {
    let who = caller();
    if who != *payer && !REVIEWERS.contains(&(*payer, who)) {
        return Err(CoverageError::NotAuthorised);
    }
    if !registry_active(payer, Role::Payer)? {
        return Err(CoverageError::NotAPayer);
    }
    Ok(who)
}

/// The caller if it is one of `payer`'s reviewers and the registry attests it as a clinician
/// (`ADVERSE_REVIEWER_ROLE`): only such a reviewer makes an adverse decision
/// (42 CFR 438.210(b)(3), 42 CFR 422.566(d)).
pub(crate) fn clinical_reviewer(payer: &Address) -> Result<Address, CoverageError> {
    let who = authorised_reviewer(payer)?;
    if !REVIEWERS.contains(&(*payer, who)) || !registry_active(&who, ADVERSE_REVIEWER_ROLE)? {
        return Err(CoverageError::NotAuthorised);
    }
    Ok(who)
}

/// Whether the caller may read a member's coverage: the payer or its reviewers, the member,
/// or an active provider organisation (eligibility inquiries come from providers; the answer
/// is the coverage status only, for a member hash the provider must already know).
pub(crate) fn may_read_member(
    payer: &Address,
    coverage: Option<&Coverage>,
) -> Result<(), CoverageError> {
    let who = caller();
    if coverage.is_some_and(|coverage| coverage.beneficiary == who)
        || who == *payer
        || REVIEWERS.contains(&(*payer, who))
        || registry_active(&who, Role::ProviderOrganisation)?
    {
        Ok(())
    } else {
        Err(CoverageError::NotAuthorised)
    }
}

pub(crate) fn check_member(member: &Hash) -> Result<(), CoverageError> {
    if *member == Hash([0; 32]) {
        Err(CoverageError::Malformed)
    } else {
        Ok(())
    }
}

pub(crate) fn check_period(period: &Period) -> Result<(), CoverageError> {
    if period.end_ms <= period.start_ms {
        Err(CoverageError::InvalidPeriod)
    } else {
        Ok(())
    }
}

pub(crate) fn check_code(code: &str) -> Result<(), CoverageError> {
    if code.len() > MAX_CODE_BYTES {
        Err(CoverageError::TooComplex)
    } else {
        Ok(())
    }
}

pub(crate) fn check_codes(codes: &[String]) -> Result<(), CoverageError> {
    if codes.len() > MAX_CODES {
        return Err(CoverageError::TooComplex);
    }
    codes.iter().try_for_each(|code| check_code(code))
}

/// A handle or commitment must not be zero.
pub(crate) fn check_nonzero(hash: &Hash) -> Result<(), CoverageError> {
    if *hash == Hash([0; 32]) {
        Err(CoverageError::Malformed)
    } else {
        Ok(())
    }
}

/// A line count: at least one, at most [`MAX_LINES`].
pub(crate) fn check_line_count(line_count: u32) -> Result<(), CoverageError> {
    if line_count == 0 {
        return Err(CoverageError::Malformed);
    }
    if line_count as usize > MAX_LINES {
        return Err(CoverageError::TooComplex);
    }
    Ok(())
}
