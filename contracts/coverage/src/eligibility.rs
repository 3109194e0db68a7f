//! Members' coverage as the payer keeps it on chain (status, plan type and period under a
//! pseudonym), and the answers to eligibility inquiries that need nothing more: the coverage
//! status on a date (271 EB01 `1`/`6`), AAA rejections, and whether the published rule set
//! requires prior authorisation for a procedure. Benefits (copay, deductible, limits, units
//! used) are the payer's records, answered by the payer off chain (docs/PRIVACY.md §5.5).

use coverage_rules::matching_rule;
use salus_sdk::prelude::*;

use crate::checks::{active_payer, check_code, check_member, check_period, may_read_member};
use crate::rules::rules_for;
use crate::storage::COVERAGES;
use crate::types::*;

/// Whether `coverage` covers `date_ms` (see [`coverage_rules::covered_on`]).
pub(crate) fn covered_on(coverage: &Coverage, date_ms: u64) -> bool {
    coverage_rules::covered_on(
        coverage.status == CoverageStatus::Active,
        &coverage.period,
        date_ms,
    )
}

/// The body of [`CoverageContract::set_coverage`](crate::CoverageContract::set_coverage).
pub(crate) fn set_coverage(member: Hash, coverage: Coverage) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    check_member(&member)?;
    check_period(&coverage.period)?;
    COVERAGES.insert(&(payer, member), &coverage);
    CoverageChanged {
        payer,
        member,
        status: coverage.status,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::eligibility`](crate::CoverageContract::eligibility).
pub(crate) fn eligibility(
    payer: Address,
    member: Hash,
    service_type: String,
    date_ms: u64,
) -> Result<Eligibility, CoverageError> {
    check_code(&service_type)?;
    let coverage = COVERAGES.get(&(payer, member));
    may_read_member(&payer, coverage.as_ref())?;
    if member == Hash([0; 32]) {
        return Ok(Eligibility::Rejected(
            String::from("72"),
            String::from("Invalid/Missing Member ID"),
        ));
    }
    let Some(coverage) = coverage else {
        return Ok(Eligibility::Rejected(
            String::from("75"),
            String::from("Subscriber/Insured Not Found"),
        ));
    };
    if coverage.status == CoverageStatus::EnteredInError {
        return Ok(Eligibility::Rejected(
            String::from("72"),
            String::from("Invalid/Missing Member ID"),
        ));
    }
    let active = covered_on(&coverage, date_ms);
    let status = BenefitLine {
        information: String::from(if active { "1" } else { "6" }),
        service_type,
        plan_type: coverage.plan_type.clone(),
    };
    Ok(Eligibility::Found(coverage.period, Vec::from([status])))
}

/// The body of
/// [`CoverageContract::authorisation_requirement`](crate::CoverageContract::authorisation_requirement).
pub(crate) fn authorisation_requirement(
    payer: Address,
    member: Hash,
    procedure: String,
    date_ms: u64,
) -> Result<AuthorisationRequirement, CoverageError> {
    check_code(&procedure)?;
    let coverage = COVERAGES.get(&(payer, member));
    may_read_member(&payer, coverage.as_ref())?;
    let Some(coverage) = coverage else {
        return Ok(AuthorisationRequirement::NotCovered);
    };
    if !covered_on(&coverage, date_ms) {
        return Ok(AuthorisationRequirement::NotCovered);
    }
    let Ok(rule_set) = rules_for(&payer, date_ms) else {
        return Ok(AuthorisationRequirement::Covered(false));
    };
    let Some(rule) = matching_rule(&rule_set, &procedure) else {
        return Ok(AuthorisationRequirement::Covered(false));
    };
    let conditional = !rule.diagnoses.is_empty()
        || rule.min_age.is_some()
        || rule.max_age.is_some()
        || !rule.sexes.is_empty()
        || !rule.places_of_service.is_empty();
    Ok(if conditional {
        AuthorisationRequirement::Conditional(rule.prior_authorisation, rule.id)
    } else {
        AuthorisationRequirement::Covered(rule.prior_authorisation)
    })
}
