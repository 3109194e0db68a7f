//! Claims, sealed: the billing provider posts a claim's handle, payer, member, the
//! authorisation's trace handle if it cites one, the line count and a commitment to the sealed
//! claim (procedures, units, dates of service, diagnoses: delivered to the payer off chain).
//! The payer's agent checks the lines with the shared rule code (`coverage_rules::check_claim_line`)
//! against its records and the authorisation, and posts the CARCs per line with two
//! commitments. Units drawn from an authorisation or a benefit are the payer's records; voiding
//! or replacing a claim tells the payer to restore them (docs/PRIVACY.md §5.5).

use salus_sdk::prelude::*;

use crate::checks::{
    MAX_ENTRIES, acting_requester, active_provider, authorised_reviewer, check_line_count,
    check_nonzero,
};
use crate::storage::{CLAIMS, COVERAGES, SEALED};
use crate::types::*;

/// The CARCs a claim check may give, each with the 835 group code (CAS01) it is reported under
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

/// The adjustment for `carc`, from [`CARC_TABLE`]; a CARC missing from it is refused.
pub(crate) fn adjustment(carc: &str) -> Result<Adjustment, CoverageError> {
    let (_, group, rarc) = CARC_TABLE
        .iter()
        .find(|(code, _, _)| *code == carc)
        .ok_or(CoverageError::UnknownReason)?;
    Ok(Adjustment {
        group: group.clone(),
        carc: String::from(carc),
        rarc: rarc.map(String::from),
    })
}

/// The body of [`CoverageContract::submit_claim`](crate::CoverageContract::submit_claim).
pub(crate) fn submit_claim(
    claim_handle: Hash,
    payer: Address,
    member: Hash,
    trace_handle: Option<Hash>,
    line_count: u32,
    claim_commitment: Hash,
) -> Result<(), CoverageError> {
    submit(
        claim_handle,
        payer,
        member,
        trace_handle,
        line_count,
        claim_commitment,
        None,
    )
}

fn submit(
    claim_handle: Hash,
    payer: Address,
    member: Hash,
    trace_handle: Option<Hash>,
    line_count: u32,
    claim_commitment: Hash,
    replaces: Option<Hash>,
) -> Result<(), CoverageError> {
    // Claims are bound to the provider that submits them, an active provider the registry
    // attests with the NPI it bills under (never an argument).
    let (provider, billing_npi) = active_provider()?;
    check_nonzero(&claim_handle)?;
    check_nonzero(&claim_commitment)?;
    check_line_count(line_count)?;
    if CLAIMS.contains(&claim_handle) {
        return Err(CoverageError::Duplicate);
    }
    if !COVERAGES.contains(&(payer, member)) {
        return Err(CoverageError::Unknown);
    }
    if let Some(handle) = &trace_handle {
        let request = SEALED.get(handle).ok_or(CoverageError::Unknown)?;
        if request.payer != payer || request.member != member {
            return Err(CoverageError::Malformed);
        }
    }
    CLAIMS.insert(
        &claim_handle,
        &Claim {
            payer,
            member,
            provider,
            billing_npi,
            trace_handle,
            line_count,
            claim_commitment,
            submitted_ms: block_timestamp_ms(),
            status: ClaimStatus::InForce,
            replaces,
            check: None,
        },
    );
    ClaimSubmitted {
        payer,
        claim_handle,
        replaces,
    }
    .emit();
    Ok(())
}

/// The body of [`CoverageContract::post_claim_check`](crate::CoverageContract::post_claim_check).
pub(crate) fn post_claim_check(
    claim_handle: Hash,
    carcs: Vec<Vec<String>>,
    inputs_commitment: Hash,
    outcome_commitment: Hash,
) -> Result<Vec<ClaimLineResult>, CoverageError> {
    let mut claim = CLAIMS.get(&claim_handle).ok_or(CoverageError::Unknown)?;
    let who = authorised_reviewer(&claim.payer)?;
    if claim.check.is_some() || claim.status != ClaimStatus::InForce {
        return Err(CoverageError::WrongStatus);
    }
    if carcs.len() != claim.line_count as usize {
        return Err(CoverageError::Malformed);
    }
    let mut lines = Vec::with_capacity(carcs.len());
    for codes in &carcs {
        if codes.len() > MAX_ENTRIES {
            return Err(CoverageError::TooComplex);
        }
        let adjustments = codes
            .iter()
            .map(|code| adjustment(code))
            .collect::<Result<Vec<_>, _>>()?;
        lines.push(ClaimLineResult {
            accepted: adjustments.is_empty(),
            adjustments,
        });
    }
    let accepted = lines.iter().filter(|line| line.accepted).count() as u16;
    claim.check = Some(PostedClaimCheck {
        lines: lines.clone(),
        inputs_commitment,
        outcome_commitment,
        checked_by: who,
        checked_ms: block_timestamp_ms(),
    });
    CLAIMS.insert(&claim_handle, &claim);
    ClaimChecked {
        payer: claim.payer,
        claim_handle,
        accepted,
        refused: lines.len() as u16 - accepted,
    }
    .emit();
    Ok(lines)
}

/// Ends a claim in force (caller: the provider that submitted it, still an active provider)
/// as `status` — X12 837 CLM05-3 frequency codes `7` (replacement) and `8` (void).
fn withdraw(claim_handle: &Hash, status: ClaimStatus) -> Result<Claim, CoverageError> {
    let mut claim = CLAIMS.get(claim_handle).ok_or(CoverageError::Unknown)?;
    acting_requester(&claim.provider)?;
    if claim.status != ClaimStatus::InForce {
        return Err(CoverageError::WrongStatus);
    }
    claim.status = status.clone();
    CLAIMS.insert(claim_handle, &claim);
    ClaimWithdrawn {
        payer: claim.payer,
        claim_handle: *claim_handle,
        status,
    }
    .emit();
    Ok(claim)
}

/// The body of [`CoverageContract::void_claim`](crate::CoverageContract::void_claim).
pub(crate) fn void_claim(claim_handle: Hash) -> Result<(), CoverageError> {
    withdraw(&claim_handle, ClaimStatus::Voided).map(|_| ())
}

/// The body of [`CoverageContract::replace_claim`](crate::CoverageContract::replace_claim).
pub(crate) fn replace_claim(
    original: Hash,
    claim_handle: Hash,
    trace_handle: Option<Hash>,
    line_count: u32,
    claim_commitment: Hash,
) -> Result<(), CoverageError> {
    let claim = withdraw(&original, ClaimStatus::Replaced)?;
    submit(
        claim_handle,
        claim.payer,
        claim.member,
        trace_handle,
        line_count,
        claim_commitment,
        Some(original),
    )
}

/// The body of [`CoverageContract::claim`](crate::CoverageContract::claim).
pub(crate) fn claim(claim_handle: Hash) -> Result<Option<Claim>, CoverageError> {
    let Some(claim) = CLAIMS.get(&claim_handle) else {
        return Ok(None);
    };
    if caller() != claim.provider && authorised_reviewer(&claim.payer).is_err() {
        return Err(CoverageError::NotAuthorised);
    }
    Ok(Some(claim))
}
