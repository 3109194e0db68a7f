//! Members' coverage, benefits and plan networks as the payer keeps them, and the answers to
//! eligibility inquiries: 271-style benefit lines, AAA rejections, whether a procedure needs
//! prior authorisation.

use coverage_rules::matching_rule;
use salus_sdk::prelude::*;

use crate::checks::{active_payer, check_code, check_member, check_period, may_read_member};
use crate::rules::rules_for;
use crate::storage::{BENEFITS, COVERAGES, NETWORK, OUT_OF_NETWORK_BENEFITS, TERMS};
use crate::types::*;

/// Most NPIs added to a network in one message.
pub(crate) const MAX_NETWORK_BATCH: usize = 256;

/// The answer of `authorisation_requirement`.
pub(crate) fn requirement(
    payer: &Address,
    member: &Hash,
    coverage: Option<Coverage>,
    procedure: &str,
    date_ms: u64,
) -> AuthorisationRequirement {
    let Some(coverage) = coverage else {
        return AuthorisationRequirement::NotCovered;
    };
    if !covered_on(&coverage, date_ms) {
        return AuthorisationRequirement::NotCovered;
    }
    let Ok(rule_set) = rules_for(payer, date_ms) else {
        return AuthorisationRequirement::Covered(false);
    };
    let Some(rule) = matching_rule(&rule_set, procedure) else {
        return AuthorisationRequirement::Covered(false);
    };
    let Some(benefit) = BENEFITS.get(&(*payer, *member, rule.service_type.clone())) else {
        return AuthorisationRequirement::NotCovered;
    };
    let needed = rule.prior_authorisation || benefit.authorisation_required;
    let conditional = !rule.diagnoses.is_empty()
        || rule.min_age.is_some()
        || rule.max_age.is_some()
        || !rule.sexes.is_empty()
        || !rule.places_of_service.is_empty();
    if conditional {
        AuthorisationRequirement::Conditional(needed, rule.id)
    } else {
        AuthorisationRequirement::Covered(needed)
    }
}

/// Whether `coverage` covers `date_ms` (see [`coverage_rules::covered_on`]).
pub(crate) fn covered_on(coverage: &Coverage, date_ms: u64) -> bool {
    coverage_rules::covered_on(
        coverage.status == CoverageStatus::Active,
        &coverage.period,
        date_ms,
    )
}

/// The currency of a member's amounts when the payer stated none: X12 271 amounts (EB07) are
/// US dollars.
pub(crate) const DEFAULT_CURRENCY: &str = "USD";

pub(crate) fn benefit_lines(
    service_type: &str,
    benefit: &Benefit,
    terms: Option<&CoverageTerms>,
    lines: &mut Vec<BenefitLine>,
) {
    let level = terms.map(|terms| String::from(terms.level.code()));
    let currency = String::from(terms.map_or(DEFAULT_CURRENCY, |terms| terms.currency.as_str()));
    let line = |information: &str, time_qualifier: &str| BenefitLine {
        information: String::from(information),
        service_type: String::from(service_type),
        time_qualifier: String::from(time_qualifier),
        amount_cents: None,
        percent_bps: None,
        quantity: None,
        authorisation_required: Some(benefit.authorisation_required),
        network: Some(benefit.network.clone()),
        coverage_level: level.clone(),
        currency: None,
    };
    let amount = |information: &str, time_qualifier: &str, cents: u64| {
        let mut line = line(information, time_qualifier);
        line.amount_cents = Some(cents);
        line.currency = Some(currency.clone());
        line
    };
    lines.push(amount("B", "", benefit.copay_cents));
    let mut coinsurance = line("A", "");
    coinsurance.percent_bps = Some(benefit.coinsurance_bps);
    lines.push(coinsurance);
    lines.push(amount("C", "23", benefit.deductible_cents));
    lines.push(amount("C", "29", benefit.deductible_remaining_cents));
    lines.push(amount("G", "23", benefit.out_of_pocket_max_cents));
    lines.push(amount("G", "29", benefit.out_of_pocket_remaining_cents));
    if let Some(limit) = benefit.quantity_limit {
        let mut remaining = line("F", "29");
        remaining.quantity = Some(limit.saturating_sub(benefit.quantity_used));
        lines.push(remaining);
    }
}

/// The body of [`CoverageContract::set_coverage`](crate::CoverageContract::set_coverage).
pub(crate) fn set_coverage(member: Hash, coverage: Coverage) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    check_member(&member)?;
    check_period(&coverage.period)?;
    check_code(&coverage.plan)?;
    check_code(&coverage.group)?;
    if let Some(npi) = &coverage.primary_care {
        check_code(npi)?;
    }
    COVERAGES.insert(&(payer, member), &coverage);
    CoverageChanged {
        payer,
        member,
        status: coverage.status,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::set_benefit`](crate::CoverageContract::set_benefit).
pub(crate) fn set_benefit(
    member: Hash,
    service_type: String,
    benefit: Benefit,
) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    check_code(&service_type)?;
    if !COVERAGES.contains(&(payer, member)) {
        return Err(CoverageError::Unknown);
    }
    if benefit.coinsurance_bps > 10_000
        || benefit.deductible_remaining_cents > benefit.deductible_cents
        || benefit.out_of_pocket_remaining_cents > benefit.out_of_pocket_max_cents
    {
        return Err(CoverageError::Malformed);
    }
    // In- and out-of-network benefits of one service type are kept side by side (EB12).
    if benefit.network == NetworkIndicator::OutOfNetwork {
        OUT_OF_NETWORK_BENEFITS.insert(&(payer, member, service_type), &benefit);
    } else {
        BENEFITS.insert(&(payer, member, service_type), &benefit);
    }
    Ok(())
}

/// The body of [`CoverageContract::set_coverage_terms`](crate::CoverageContract::set_coverage_terms).
pub(crate) fn set_coverage_terms(member: Hash, terms: CoverageTerms) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    if !COVERAGES.contains(&(payer, member)) {
        return Err(CoverageError::Unknown);
    }
    let iso_4217 =
        terms.currency.len() == 3 && terms.currency.bytes().all(|byte| byte.is_ascii_uppercase());
    if !iso_4217 {
        return Err(CoverageError::Malformed);
    }
    TERMS.insert(&(payer, member), &terms);
    Ok(())
}

/// The body of [`CoverageContract::set_network`](crate::CoverageContract::set_network).
pub(crate) fn set_network(
    plan: String,
    npis: Vec<String>,
    in_network: bool,
) -> Result<(), CoverageError> {
    let payer = active_payer()?;
    check_code(&plan)?;
    if npis.len() > MAX_NETWORK_BATCH {
        return Err(CoverageError::TooComplex);
    }
    for npi in npis {
        check_code(&npi)?;
        let key = (payer, plan.clone(), npi);
        if in_network {
            NETWORK.insert(&key, &());
        } else {
            NETWORK.remove(&key);
        }
    }
    Ok(())
}

/// The body of [`CoverageContract::eligibility`](crate::CoverageContract::eligibility).
pub(crate) fn eligibility(
    payer: Address,
    member: Hash,
    service_type: String,
    date_ms: u64,
) -> Result<Eligibility, CoverageError> {
    let coverage = COVERAGES.get(&(payer, member));
    may_read_member(&payer, coverage.as_ref())?;
    if member == Hash([0; 32]) {
        return Ok(Eligibility::Rejected(
            "72".into(),
            "Invalid/Missing Member ID".into(),
        ));
    }
    let Some(coverage) = coverage else {
        return Ok(Eligibility::Rejected(
            "75".into(),
            "Subscriber/Insured Not Found".into(),
        ));
    };
    if coverage.status == CoverageStatus::EnteredInError {
        return Ok(Eligibility::Rejected(
            "72".into(),
            "Invalid/Missing Member ID".into(),
        ));
    }
    let active = covered_on(&coverage, date_ms);
    let mut lines = Vec::new();
    lines.push(BenefitLine {
        information: String::from(if active { "1" } else { "6" }),
        service_type: service_type.clone(),
        time_qualifier: String::new(),
        amount_cents: None,
        percent_bps: None,
        quantity: None,
        authorisation_required: None,
        network: None,
        coverage_level: None,
        currency: None,
    });
    if active {
        let terms = TERMS.get(&(payer, member));
        let key = (payer, member, service_type.clone());
        // In network first, then out of network, for the same service type.
        for benefit in [BENEFITS.get(&key), OUT_OF_NETWORK_BENEFITS.get(&key)]
            .into_iter()
            .flatten()
        {
            benefit_lines(&service_type, &benefit, terms.as_ref(), &mut lines);
        }
    }
    Ok(Eligibility::Found(coverage.plan, coverage.period, lines))
}

/// The body of [`CoverageContract::authorisation_requirement`](crate::CoverageContract::authorisation_requirement).
pub(crate) fn authorisation_requirement(
    payer: Address,
    member: Hash,
    procedure: String,
    date_ms: u64,
) -> Result<AuthorisationRequirement, CoverageError> {
    let coverage = COVERAGES.get(&(payer, member));
    may_read_member(&payer, coverage.as_ref())?;
    Ok(requirement(&payer, &member, coverage, &procedure, date_ms))
}
