//! Members' coverage, benefits and plan networks as the payer keeps them, and the answers to
//! eligibility inquiries: 271-style benefit lines, AAA rejections, whether a procedure needs
//! prior authorisation.

use salus_sdk::prelude::*;

use crate::checks::*;
use crate::rules::*;
use crate::storage::*;
use crate::{CoverageError, DAY_MS};

/// Most NPIs added to a network in one message.
pub(crate) const MAX_NETWORK_BATCH: usize = 256;

/// A period in ms since the epoch, end exclusive.
#[data]
pub struct Period {
    /// Start.
    pub start_ms: u64,
    /// End (exclusive).
    pub end_ms: u64,
}

/// X12 EB01 coverage status.
#[data]
pub enum CoverageStatus {
    /// `1` active coverage.
    Active,
    /// `6` inactive.
    Inactive,
    /// Recorded by mistake: answers as an invalid member id.
    EnteredInError,
}

/// Plan type (X12 EB04 insurance type, simplified): HMO and EPO plans cover only in-network
/// servicing providers.
#[data]
pub enum PlanType {
    /// Health maintenance organisation.
    Hmo,
    /// Preferred provider organisation.
    Ppo,
    /// Exclusive provider organisation.
    Epo,
    /// Point of service.
    Pos,
    /// Indemnity.
    Indemnity,
}

/// A member's coverage (FHIR Coverage), maintained by the payer.
#[data]
pub struct Coverage {
    /// Dependent sequence (0: the subscriber).
    pub dependent: u8,
    /// The member's key, so the patient can follow their requests and consent can apply.
    pub beneficiary: Address,
    /// Plan identifier.
    pub plan: String,
    /// Group number.
    pub group: String,
    /// Plan type.
    pub plan_type: PlanType,
    /// Plan period.
    pub period: Period,
    /// Status.
    pub status: CoverageStatus,
    /// Primary care provider's NPI.
    pub primary_care: Option<String>,
    /// Birth year only (no dates of birth on chain), for age edits: the age a rule checks
    /// is the age attained in the calendar year of service.
    pub birth_year: u16,
    /// Administrative sex code (`F`, `M`, `U`), for sex edits.
    pub sex: String,
}

/// X12 EB12 in-plan-network indicator of a benefit.
#[data]
pub enum NetworkIndicator {
    /// `Y` in network.
    InNetwork,
    /// `N` out of network.
    OutOfNetwork,
    /// `W` not applicable.
    NotApplicable,
}

/// Benefits for one X12 service type (EB03), amounts in cents.
#[data]
pub struct Benefit {
    /// Copay per service (EB01 `B`).
    pub copay_cents: u64,
    /// Coinsurance in basis points (EB01 `A`).
    pub coinsurance_bps: u16,
    /// Deductible (EB01 `C`).
    pub deductible_cents: u64,
    /// Deductible remaining.
    pub deductible_remaining_cents: u64,
    /// Out-of-pocket maximum (EB01 `G`).
    pub out_of_pocket_max_cents: u64,
    /// Out-of-pocket remaining.
    pub out_of_pocket_remaining_cents: u64,
    /// Units covered per plan period (EB01 `F` limitations), if limited.
    pub quantity_limit: Option<u32>,
    /// Units certified or claimed so far this plan period.
    pub quantity_used: u32,
    /// EB11: authorisation or certification required.
    pub authorisation_required: bool,
    /// EB12.
    pub network: NetworkIndicator,
}

/// One 271 EB segment.
#[data]
pub struct BenefitLine {
    /// EB01: `1` active, `6` inactive, `A` coinsurance, `B` copay, `C` deductible, `G` out
    /// of pocket, `F` limitations.
    pub information: String,
    /// EB03 service type.
    pub service_type: String,
    /// EB06 time qualifier: `23` calendar year / plan period, `29` remaining, empty if none.
    pub time_qualifier: String,
    /// EB07 amount in cents.
    pub amount_cents: Option<u64>,
    /// EB08 percent in basis points.
    pub percent_bps: Option<u16>,
    /// EB10 quantity.
    pub quantity: Option<u32>,
    /// EB11.
    pub authorisation_required: Option<bool>,
    /// EB12.
    pub network: Option<NetworkIndicator>,
}

/// The answer to an eligibility inquiry (270 → 271).
#[data]
pub enum Eligibility {
    /// The member was found: plan, period and benefit lines (the first says `1` active or
    /// `6` inactive on the date asked).
    Found(String, Period, Vec<BenefitLine>),
    /// AAA rejection: AAA03 reject reason (`72` invalid/missing member id, `75`
    /// subscriber/insured not found) and its text.
    Rejected(String, String),
}

/// Does a procedure need prior authorisation for a member.
#[data]
pub enum AuthorisationRequirement {
    /// No active coverage for the date, or no benefit for the service type.
    NotCovered,
    /// Covered; whether authorisation is needed.
    Covered(bool),
    /// Covered under the conditions of a rule (diagnoses, age, …); whether authorisation is
    /// needed, and the rule.
    Conditional(bool, u32),
}

/// Coverage was created or changed.
#[event]
pub struct CoverageChanged {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The member.
    #[topic]
    pub member: Hash,
    /// Its status.
    pub status: CoverageStatus,
}

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

pub(crate) fn covered_on(coverage: &Coverage, date_ms: u64) -> bool {
    coverage.status == CoverageStatus::Active
        && coverage.period.start_ms <= date_ms
        && date_ms < coverage.period.end_ms
}

/// The calendar year (UTC) of a time in ms since the epoch.
pub(crate) fn year_of(ms: u64) -> u16 {
    // Howard Hinnant's days-to-civil algorithm, in integers.
    let days = (ms / DAY_MS) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    year.clamp(0, i64::from(u16::MAX)) as u16
}

pub(crate) fn benefit_lines(service_type: &str, benefit: &Benefit, lines: &mut Vec<BenefitLine>) {
    let line = |information: &str, time_qualifier: &str| BenefitLine {
        information: String::from(information),
        service_type: String::from(service_type),
        time_qualifier: String::from(time_qualifier),
        amount_cents: None,
        percent_bps: None,
        quantity: None,
        authorisation_required: Some(benefit.authorisation_required),
        network: Some(benefit.network.clone()),
    };
    let mut copay = line("B", "");
    copay.amount_cents = Some(benefit.copay_cents);
    lines.push(copay);
    let mut coinsurance = line("A", "");
    coinsurance.percent_bps = Some(benefit.coinsurance_bps);
    lines.push(coinsurance);
    let mut deductible = line("C", "23");
    deductible.amount_cents = Some(benefit.deductible_cents);
    lines.push(deductible);
    let mut deductible_left = line("C", "29");
    deductible_left.amount_cents = Some(benefit.deductible_remaining_cents);
    lines.push(deductible_left);
    let mut out_of_pocket = line("G", "23");
    out_of_pocket.amount_cents = Some(benefit.out_of_pocket_max_cents);
    lines.push(out_of_pocket);
    let mut out_of_pocket_left = line("G", "29");
    out_of_pocket_left.amount_cents = Some(benefit.out_of_pocket_remaining_cents);
    lines.push(out_of_pocket_left);
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
    check_code(&coverage.sex)?;
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
    BENEFITS.insert(&(payer, member, service_type), &benefit);
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
    });
    if active && let Some(benefit) = BENEFITS.get(&(payer, member, service_type.clone())) {
        benefit_lines(&service_type, &benefit, &mut lines);
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
