//! Claim checks: each line against coverage, the rules and the cited authorisation, answered
//! with CARCs, drawing accepted units from the authorisation or the benefit.

use coverage_rules::{diagnosis_supports, matching_rule};
use salus_sdk::prelude::*;

use crate::checks::{
    MAX_LINES, active_provider, authorised_reviewer, check_code, check_codes,
    registry_active_provider,
};
use crate::rules::rules_for;
use crate::storage::{BENEFITS, CLAIMED, CLAIMS, COVERAGES, REQUESTS};
use crate::types::*;
use crate::units::certifies;

/// The CARCs a claim check gives, each with the 835 group code (CAS01) it is reported under
/// and the RARC (LQ02) X12 expects with it, if any — data, not code:
/// - `197` precertification/authorization absent: CO (the provider's liability for not
///   obtaining it), RARC `M62` missing/incomplete/invalid treatment authorization code;
/// - `198` precertification/authorization exceeded: CO, RARC `N362` the number of days or
///   units of service exceeds our acceptable maximum;
/// - `11` diagnosis inconsistent with the procedure: CO;
/// - `119` benefit maximum for this time period or occurrence reached: PR;
/// - `26` expenses incurred prior to coverage, `27` after coverage terminated: PR.
pub(crate) const CARC_TABLE: &[(&str, GroupCode, Option<&str>)] = &[
    ("197", GroupCode::Co, Some("M62")),
    ("198", GroupCode::Co, Some("N362")),
    ("11", GroupCode::Co, None),
    ("119", GroupCode::Pr, None),
    ("26", GroupCode::Pr, None),
    ("27", GroupCode::Pr, None),
];

/// The adjustment for `carc`, from [`CARC_TABLE`] (a CARC missing from it is `OA`).
pub(crate) fn adjustment(carc: &str) -> Adjustment {
    let (group, rarc) = CARC_TABLE
        .iter()
        .find(|(code, _, _)| *code == carc)
        .map_or((GroupCode::Oa, None), |(_, group, rarc)| {
            (group.clone(), *rarc)
        });
    Adjustment {
        group,
        carc: String::from(carc),
        rarc: rarc.map(String::from),
    }
}

pub(crate) fn check_claim_line(
    payer: &Address,
    member: &Hash,
    coverage: &Coverage,
    request: Option<&Request>,
    line: &ClaimLine,
) -> (ClaimLineResult, Option<Draw>) {
    let mut carcs = Vec::new();
    if coverage.status != CoverageStatus::Active || line.service_ms >= coverage.period.end_ms {
        carcs.push("27");
    } else if line.service_ms < coverage.period.start_ms {
        carcs.push("26");
    }
    let rule_set = rules_for(payer, line.service_ms).ok();
    let rule = rule_set
        .as_ref()
        .and_then(|rule_set| matching_rule(rule_set, &line.procedure));
    if let Some(rule) = rule
        && !diagnosis_supports(rule, &line.diagnoses)
    {
        carcs.push("11");
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
            None => carcs.push("197"),
            Some((trace, index, decision)) => {
                let inside = decision.period.as_ref().is_some_and(|period| {
                    period.start_ms <= line.service_ms && line.service_ms < period.end_ms
                });
                let claimed = CLAIMED.get(&(trace.clone(), index)).unwrap_or(0);
                if !inside {
                    carcs.push("197");
                } else if claimed.saturating_add(line.quantity) > decision.quantity {
                    carcs.push("198");
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
        carcs.push("119");
    }
    let accepted = carcs.is_empty();
    let adjustments = carcs.into_iter().map(adjustment).collect();
    let mut draw = None;
    if accepted {
        if let Some((trace, index, claimed)) = draw_from_authorisation {
            // Certified units were reserved against the benefit when certified.
            CLAIMED.insert(&(trace.clone(), index), &(claimed + line.quantity));
            draw = Some(Draw {
                authorisation: Some((trace, index)),
                service_type: None,
                units: line.quantity,
            });
        } else if let (Some(key), Some(mut benefit)) = (benefit_slot, benefit) {
            benefit.quantity_used = benefit.quantity_used.saturating_add(line.quantity);
            BENEFITS.insert(&key, &benefit);
            draw = Some(Draw {
                authorisation: None,
                service_type: Some(key.2),
                units: line.quantity,
            });
        }
    }
    (
        ClaimLineResult {
            accepted,
            adjustments,
        },
        draw,
    )
}

/// The body of [`CoverageContract::check_claim`](crate::CoverageContract::check_claim).
pub(crate) fn check_claim(
    claim: Hash,
    payer: Address,
    member: Hash,
    authorisation: Option<String>,
    lines: Vec<ClaimLine>,
) -> Result<Vec<ClaimLineResult>, CoverageError> {
    check_claim_replacing(claim, payer, member, authorisation, lines, None)
}

/// A claim check, replacing `replaces` (already restored) if given.
fn check_claim_replacing(
    claim: Hash,
    payer: Address,
    member: Hash,
    authorisation: Option<String>,
    lines: Vec<ClaimLine>,
    replaces: Option<Hash>,
) -> Result<Vec<ClaimLineResult>, CoverageError> {
    // Claims are bound to the provider that submits them, an active provider the registry
    // attests with the NPI it bills under (never an argument).
    let (provider, billing_npi) = active_provider()?;
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
            // Only the servicing provider the authorisation names — by the NPI the registry
            // attests for the caller — draws on it; on a referral the requester does not,
            // unless it is also the servicing provider.
            if billing_npi != request.servicing_npi {
                return Err(CoverageError::NotAuthorised);
            }
            Some(request)
        }
        None => None,
    };
    let mut results = Vec::new();
    let mut draws = Vec::new();
    for line in &lines {
        let (result, draw) = check_claim_line(&payer, &member, &coverage, request.as_ref(), line);
        results.push(result);
        draws.extend(draw);
    }
    let accepted = results.iter().filter(|result| result.accepted).count() as u16;
    CLAIMS.insert(
        &claim,
        &ClaimCheck {
            payer,
            member,
            provider,
            billing_npi,
            authorisation,
            lines: results.clone(),
            checked_ms: block_timestamp_ms(),
            draws,
            status: ClaimStatus::InForce,
            replaces,
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

/// Ends a claim in force (caller: the provider that submitted it) as `status` and restores
/// the units it drew: to the authorisation's line, or to the benefit — X12 837 CLM05-3
/// frequency codes `7` (replacement) and `8` (void).
fn withdraw(claim: &Hash, status: ClaimStatus) -> Result<(), CoverageError> {
    let mut check = CLAIMS.get(claim).ok_or(CoverageError::Unknown)?;
    if caller() != check.provider {
        return Err(CoverageError::NotAuthorised);
    }
    if check.status != ClaimStatus::InForce {
        return Err(CoverageError::WrongStatus);
    }
    for draw in &check.draws {
        if let Some((trace, index)) = &draw.authorisation {
            let key = (trace.clone(), *index);
            let left = CLAIMED.get(&key).unwrap_or(0).saturating_sub(draw.units);
            if left == 0 {
                CLAIMED.remove(&key);
            } else {
                CLAIMED.insert(&key, &left);
            }
        } else if let Some(service_type) = &draw.service_type {
            let key = (check.payer, check.member, service_type.clone());
            if let Some(mut benefit) = BENEFITS.get(&key) {
                benefit.quantity_used = benefit.quantity_used.saturating_sub(draw.units);
                BENEFITS.insert(&key, &benefit);
            }
        }
    }
    check.status = status;
    CLAIMS.insert(claim, &check);
    Ok(())
}

/// The body of [`CoverageContract::void_claim`](crate::CoverageContract::void_claim).
pub(crate) fn void_claim(claim: Hash) -> Result<(), CoverageError> {
    withdraw(&claim, ClaimStatus::Voided)?;
    // Its provider, while still an active provider (a replacement checks it as a new claim).
    if !registry_active_provider(&caller())? {
        return Err(CoverageError::NotAProvider);
    }
    Ok(())
}

/// The body of [`CoverageContract::replace_claim`](crate::CoverageContract::replace_claim).
pub(crate) fn replace_claim(
    original: Hash,
    claim: Hash,
    authorisation: Option<String>,
    lines: Vec<ClaimLine>,
) -> Result<Vec<ClaimLineResult>, CoverageError> {
    let check = CLAIMS.get(&original).ok_or(CoverageError::Unknown)?;
    withdraw(&original, ClaimStatus::Replaced)?;
    check_claim_replacing(
        claim,
        check.payer,
        check.member,
        authorisation,
        lines,
        Some(original),
    )
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
