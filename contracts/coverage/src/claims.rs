//! Claim checks: each line against coverage, the rules and the cited authorisation, answered
//! with CARCs, drawing accepted units from the authorisation or the benefit.

use salus_sdk::prelude::*;

use crate::CoverageError;
use crate::checks::*;
use crate::decisions::*;
use crate::eligibility::*;
use crate::requests::*;
use crate::rules::*;
use crate::storage::*;

/// One claim line (837 SV1/SV2, simplified).
#[data]
pub struct ClaimLine {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Units.
    pub quantity: u32,
    /// Date of service (ms).
    pub service_ms: u64,
    /// ICD-10-CM diagnoses pointed to by the line.
    pub diagnoses: Vec<String>,
}

/// The check of one claim line: accepted, or the CARCs (Claim Adjustment Reason Codes) why
/// not: `197` authorisation absent (or service outside its window), `198` authorisation
/// exceeded, `11` diagnosis inconsistent with the procedure, `119` benefit maximum reached,
/// `26`/`27` service before coverage / after it ended.
#[data]
pub struct ClaimLineResult {
    /// Accepted.
    pub accepted: bool,
    /// Reasons.
    pub carcs: Vec<String>,
}

/// A claim check, stored so a payer's adjudication can cite it.
#[data]
pub struct ClaimCheck {
    /// The payer.
    pub payer: Address,
    /// The member.
    pub member: Hash,
    /// The billing provider.
    pub provider: Address,
    /// The authorisation's trace number, if cited.
    pub authorisation: Option<String>,
    /// Per line.
    pub lines: Vec<ClaimLineResult>,
    /// When (ms).
    pub checked_ms: u64,
}

/// A claim was checked.
#[event]
pub struct ClaimChecked {
    /// The payer.
    #[topic]
    pub payer: Address,
    /// The claim.
    pub claim: Hash,
    /// Lines accepted.
    pub accepted: u16,
    /// Lines refused.
    pub refused: u16,
}

pub(crate) fn check_claim_line(
    payer: &Address,
    member: &Hash,
    coverage: &Coverage,
    request: Option<&Request>,
    line: &ClaimLine,
) -> ClaimLineResult {
    let mut carcs = Vec::new();
    if coverage.status != CoverageStatus::Active || line.service_ms >= coverage.period.end_ms {
        carcs.push(String::from("27"));
    } else if line.service_ms < coverage.period.start_ms {
        carcs.push(String::from("26"));
    }
    let rule_set = rules_for(payer, line.service_ms).ok();
    let rule = rule_set
        .as_ref()
        .and_then(|rule_set| matching_rule(rule_set, &line.procedure));
    if let Some(rule) = rule
        && !diagnosis_supports(rule, &line.diagnoses)
    {
        carcs.push(String::from("11"));
    }
    let benefit_slot = rule.map(|rule| (*payer, *member, rule.service_type.clone()));
    let benefit = benefit_slot.as_ref().and_then(|key| BENEFITS.get(key));
    let needs_authorisation = rule.is_some_and(|rule| rule.prior_authorisation)
        || benefit
            .as_ref()
            .is_some_and(|benefit| benefit.authorisation_required);
    let mut draw_from_authorisation = None;
    if needs_authorisation {
        let authorised = request.and_then(|request| {
            request
                .lines
                .iter()
                .enumerate()
                .find_map(|(index, requested)| {
                    let decision = &request.decisions[index];
                    (requested.procedure == line.procedure && certifies(&decision.action))
                        .then(|| (request.trace.clone(), index as u16, decision.clone()))
                })
        });
        match authorised {
            None => carcs.push(String::from("197")),
            Some((trace, index, decision)) => {
                let inside = decision.period.as_ref().is_some_and(|period| {
                    period.start_ms <= line.service_ms && line.service_ms < period.end_ms
                });
                let claimed = CLAIMED.get(&(trace.clone(), index)).unwrap_or(0);
                if !inside {
                    carcs.push(String::from("197"));
                } else if claimed.saturating_add(line.quantity) > decision.quantity {
                    carcs.push(String::from("198"));
                } else {
                    draw_from_authorisation = Some((trace, index, claimed));
                }
            }
        }
    } else if let Some(benefit) = &benefit
        && benefit
            .quantity_limit
            .is_some_and(|limit| benefit.quantity_used.saturating_add(line.quantity) > limit)
    {
        carcs.push(String::from("119"));
    }
    let accepted = carcs.is_empty();
    if accepted {
        if let Some((trace, index, claimed)) = draw_from_authorisation {
            // Certified units were reserved against the benefit when certified.
            CLAIMED.insert(&(trace, index), &(claimed + line.quantity));
        } else if let (Some(key), Some(mut benefit)) = (benefit_slot, benefit) {
            benefit.quantity_used = benefit.quantity_used.saturating_add(line.quantity);
            BENEFITS.insert(&key, &benefit);
        }
    }
    ClaimLineResult { accepted, carcs }
}

/// The body of [`CoverageContract::check_claim`](crate::CoverageContract::check_claim).
pub(crate) fn check_claim(
    claim: Hash,
    payer: Address,
    member: Hash,
    authorisation: Option<String>,
    lines: Vec<ClaimLine>,
) -> Result<Vec<ClaimLineResult>, CoverageError> {
    let provider = active_provider()?;
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(CoverageError::TooComplex);
    }
    for line in &lines {
        check_code(&line.procedure)?;
        check_codes(&line.diagnoses)?;
        if line.quantity == 0 {
            return Err(CoverageError::Malformed);
        }
    }
    if CLAIMS.contains(&claim) {
        return Err(CoverageError::Duplicate);
    }
    let coverage = COVERAGES
        .get(&(payer, member))
        .ok_or(CoverageError::Unknown)?;
    let request = match &authorisation {
        Some(trace) => {
            let request = REQUESTS.get(trace).ok_or(CoverageError::Unknown)?;
            if request.payer != payer || request.member != member {
                return Err(CoverageError::Malformed);
            }
            Some(request)
        }
        None => None,
    };
    let mut results = Vec::new();
    for line in &lines {
        results.push(check_claim_line(
            &payer,
            &member,
            &coverage,
            request.as_ref(),
            line,
        ));
    }
    let accepted = results.iter().filter(|result| result.accepted).count() as u16;
    CLAIMS.insert(
        &claim,
        &ClaimCheck {
            payer,
            member,
            provider,
            authorisation,
            lines: results.clone(),
            checked_ms: block_timestamp_ms(),
        },
    );
    ClaimChecked {
        payer,
        claim,
        accepted,
        refused: results.len() as u16 - accepted,
    }
    .emit();
    Ok(results)
}

/// The body of [`CoverageContract::claim`](crate::CoverageContract::claim).
pub(crate) fn claim(claim: Hash) -> Result<Option<ClaimCheck>, CoverageError> {
    let Some(check) = CLAIMS.get(&claim) else {
        return Ok(None);
    };
    if caller() != check.provider && authorised_reviewer(&check.payer).is_err() {
        return Err(CoverageError::NotAuthorised);
    }
    Ok(Some(check))
}
