//! Access decisions: every active consent of the patient, newest first, the deepest matching
//! provision, and break-glass sessions.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::registry_roles_at;
use crate::delegation::delegation_in_force;
use crate::purpose_of_use::{is_emergency, purpose_covers};
use crate::roles::{RoleAttestation, role_attestation};
use crate::storage::{
    ACTIVE_BY_PATIENT, CONSENTS, DEFAULT_DECISION, POLICIES, RECORDS, SESSIONS, SESSIONS_BY_PAIR,
};
use crate::types::*;

/// Every consent of the patient whose status is `active`, newest first, however many: the
/// index is read page by page to its end.
pub(crate) fn active_status_consents(patient: &Address) -> Vec<Consent> {
    let mut consents = Vec::new();
    let mut cursor: Option<(Address, [u8; 8])> = None;
    loop {
        let (page, more) = ACTIVE_BY_PATIENT.page_under(patient, cursor.as_ref(), INDEX_PAGE);
        cursor = page.last().map(|(key, ())| *key);
        consents.extend(
            page.into_iter()
                .filter_map(|((_, inverted), ())| {
                    CONSENTS.get(&(u64::MAX - u64::from_be_bytes(inverted)))
                })
                .filter(|consent| matches!(consent.status, ConsentStatus::Active)),
        );
        if !more || cursor.is_none() {
            return consents;
        }
    }
}

/// The patient's active consents in force at `at`, newest first.
pub(crate) fn active_consents(patient: &Address, at: u64) -> Vec<Consent> {
    active_status_consents(patient)
        .into_iter()
        .filter(|consent| consent.period.contains(at))
        .collect()
}

pub(crate) fn collect_permits(
    provision: &Provision,
    consent: &Consent,
    at: u64,
    path: &mut Vec<u8>,
    ancestors: &mut Vec<Criteria>,
    out: &mut Vec<Permission>,
) {
    if provision
        .period
        .as_ref()
        .is_some_and(|period| !period.contains(at))
    {
        return;
    }
    ancestors.push(Criteria::of(provision));
    if matches!(provision.kind, Decision::Permit) {
        let mut exceptions = Vec::new();
        collect_denies(provision, path, &mut exceptions);
        out.push(Permission {
            consent: (consent.id, consent.version),
            provision_path: path.clone(),
            criteria: ancestors.clone(),
            exceptions,
            until_ms: consent.period.end_ms,
        });
    }
    for (index, child) in provision.children.iter().enumerate() {
        path.push(index as u8);
        collect_permits(child, consent, at, path, ancestors, out);
        path.pop();
    }
    ancestors.pop();
}

/// The paths of the deny provisions nested anywhere below `provision` (at `path`).
pub(crate) fn collect_denies(provision: &Provision, path: &[u8], out: &mut Vec<Vec<u8>>) {
    for (index, child) in provision.children.iter().enumerate() {
        let mut child_path = path.to_vec();
        child_path.push(index as u8);
        if matches!(child.kind, Decision::Deny) {
            out.push(child_path.clone());
        }
        collect_denies(child, &child_path, out);
    }
}

/// The decision for `actor` claiming `role`: refused outright if the role is not attested for
/// the actor (see [`role_held`]), otherwise the deepest matching provision across the
/// patient's active consents, the network default where none matches, and an open break-glass
/// session for an emergency purpose. `period_answers` are the custodian's attestations of the
/// record's date against the data periods provisions commit to (`data_period_commitment`, the
/// one criterion not evaluated on chain), one per commitment: a provision whose commitment has
/// an answer matches by it; one without (not attested) matches if it denies and never if it
/// permits, so an unattested date can only narrow access.
///
/// # Errors
/// `UnknownRole` for a role code not in `REQUESTER_ROLES`; `TooComplex` for more than
/// `MAX_PROVISIONS` answers; `RegistryUnavailable` if the registry cannot be asked.
pub(crate) fn decide(
    actor: &Address,
    role: &str,
    action: &Action,
    record: &Hash,
    purpose: &str,
    at: u64,
    period_answers: &[PeriodAnswer],
) -> Result<AccessDecision, ConsentError> {
    let attestation = role_attestation(role).ok_or(ConsentError::UnknownRole)?;
    if period_answers.len() > MAX_PROVISIONS {
        return Err(ConsentError::TooComplex);
    }
    let default = DEFAULT_DECISION.get().unwrap_or(Decision::Deny);
    let Some(entry) = RECORDS.get(record) else {
        return Ok(refused("unknown record"));
    };
    if let Some(reason) = role_held(actor, role, attestation, &entry, at)? {
        return Ok(refused(reason));
    }
    let request = Request {
        actor,
        role,
        action,
        record,
        purpose,
        at,
        entry: &entry,
        period_answers,
    };
    // The most specific match across the patient's consents, with its consent.
    let mut best: Option<(Match, (u64, u32))> = None;
    let mut expired = false;
    // Every active consent, newest first: on a tie the newest consent is the one named.
    for consent in active_status_consents(&entry.patient) {
        if !consent.period.contains(at) {
            expired |= consent.period.ended_by(at);
            continue;
        }
        let mut candidate = Match {
            depth: 0,
            deny: matches!(consent.base, Decision::Deny),
            path: Vec::new(),
        };
        let mut path = Vec::new();
        for (index, provision) in consent.provisions.iter().enumerate() {
            path.push(index as u8);
            deepest_match(provision, &request, 1, &mut path, &mut candidate);
            path.pop();
        }
        let better = match &best {
            None => true,
            Some((current, _)) => candidate.beats(current),
        };
        if better {
            best = Some((candidate, (consent.id, consent.version)));
        }
    }
    let mut decision = match best {
        Some((Match { depth, deny, path }, consent)) => AccessDecision {
            decision: if deny {
                Decision::Deny
            } else {
                Decision::Permit
            },
            consent: Some(consent),
            reason: match (deny, depth) {
                (false, _) => "permitted".into(),
                (true, 0) => "denied by the consent's base decision".into(),
                (true, _) => "denied by provision".into(),
            },
            provision_path: path,
            break_glass: None,
        },
        None => AccessDecision {
            decision: default.clone(),
            consent: None,
            provision_path: Vec::new(),
            reason: if expired {
                "consent expired".into()
            } else {
                "no consent on file: network default".into()
            },
            break_glass: None,
        },
    };
    if matches!(decision.decision, Decision::Deny)
        && is_emergency(purpose)
        && let Some((session, overrides)) = open_session(actor, &entry.patient, at)
        && (decision.consent.is_none() || overrides)
    {
        decision.decision = Decision::Permit;
        decision.reason = "110127 emergency override".into();
        decision.break_glass = Some(session);
    }
    Ok(decision)
}

/// A denial decided before any consent is read, with its reason.
fn refused(reason: &str) -> AccessDecision {
    AccessDecision {
        decision: Decision::Deny,
        consent: None,
        provision_path: Vec::new(),
        reason: reason.into(),
        break_glass: None,
    }
}

/// Whether `actor` holds `role` (whose table entry is `attestation`) for `entry` at `at`:
/// `None` if it does, else why not (the decision's reason).
///
/// # Errors
/// `RegistryUnavailable` if the registry cannot be asked.
fn role_held(
    actor: &Address,
    role: &str,
    attestation: RoleAttestation,
    entry: &RecordEntry,
    at: u64,
) -> Result<Option<&'static str>, ConsentError> {
    Ok(match attestation {
        RoleAttestation::Clinical => {
            let roles = registry_roles_at(actor, at)?;
            (!roles.contains(&Role::Practitioner) && !roles.contains(&Role::ProviderOrganisation))
                .then_some(
                    "role not attested: the registry lists no active practitioner or provider",
                )
        }
        RoleAttestation::Payer => (!registry_roles_at(actor, at)?.contains(&Role::Payer))
            .then_some("role not attested: the registry lists no active payer"),
        RoleAttestation::Patient => {
            (*actor != entry.patient).then_some("role not attested: not the record's patient")
        }
        RoleAttestation::Representative => delegation_in_force(&entry.patient, actor, at)
            .is_none_or(|delegation| delegation.relationship != role)
            .then_some("role not attested: no delegation in force from the patient in this role"),
    })
}

/// A matching provision: its depth (0: the consent's base decision), whether it denies, and
/// its path.
pub(crate) struct Match {
    depth: usize,
    deny: bool,
    path: Vec<u8>,
}

impl Match {
    /// More specific wins; at equal depth, deny beats permit.
    fn beats(&self, other: &Match) -> bool {
        self.depth > other.depth || (self.depth == other.depth && self.deny && !other.deny)
    }
}

pub(crate) struct Request<'a> {
    actor: &'a Address,
    role: &'a str,
    action: &'a Action,
    record: &'a Hash,
    purpose: &'a str,
    at: u64,
    entry: &'a RecordEntry,
    period_answers: &'a [PeriodAnswer],
}

pub(crate) fn matches(provision: &Provision, request: &Request<'_>) -> bool {
    provision
        .period
        .as_ref()
        .is_none_or(|period| period.contains(request.at))
        && (provision.actors.is_empty() || provision.actors.contains(request.actor))
        && (provision.custodians.is_empty()
            || provision.custodians.contains(&request.entry.custodian))
        && (provision.authors.is_empty() || provision.authors.contains(&request.entry.author))
        && (provision.roles.is_empty() || provision.roles.iter().any(|role| role == request.role))
        && provision.data_period_commitment.is_none_or(|commitment| {
            request
                .period_answers
                .iter()
                .find(|answer| answer.commitment == commitment)
                .map_or(matches!(provision.kind, Decision::Deny), |answer| {
                    answer.inside
                })
        })
        && (provision.actions.is_empty() || provision.actions.contains(request.action))
        && (provision.purposes.is_empty()
            || provision
                .purposes
                .iter()
                .any(|p| purpose_covers(p, request.purpose)))
        && (provision.label_tags.is_empty()
            || provision
                .label_tags
                .iter()
                .any(|tag| request.entry.label_tags.contains(tag)))
        && (provision.class_tags.is_empty()
            || provision.class_tags.contains(&request.entry.class_tag))
        && (provision.records.is_empty() || provision.records.contains(request.record))
}

/// Updates `best` with the deepest matching provision under `provision` (deny wins ties).
pub(crate) fn deepest_match(
    provision: &Provision,
    request: &Request<'_>,
    depth: usize,
    path: &mut Vec<u8>,
    best: &mut Match,
) {
    if !matches(provision, request) {
        return;
    }
    let candidate = Match {
        depth,
        deny: matches!(provision.kind, Decision::Deny),
        path: path.clone(),
    };
    if candidate.beats(best) {
        *best = candidate;
    }
    for (index, child) in provision.children.iter().enumerate() {
        path.push(index as u8);
        deepest_match(child, request, depth + 1, path, best);
        path.pop();
    }
}

/// An open session for `actor` and `patient` at `at`, and whether its policy overrides a
/// patient's deny. Every session of this actor for this patient is looked at, newest first, however many.
pub(crate) fn open_session(actor: &Address, patient: &Address, at: u64) -> Option<(u64, bool)> {
    let mut cursor: Option<(Address, Address, [u8; 8])> = None;
    loop {
        let (page, more) =
            SESSIONS_BY_PAIR.page_under(&(*actor, *patient), cursor.as_ref(), INDEX_PAGE);
        cursor = page.last().map(|(key, ())| *key);
        let found = page.into_iter().find_map(|((_, _, inverted), ())| {
            let id = u64::MAX - u64::from_be_bytes(inverted);
            let session = SESSIONS.get(&id)?;
            let open = session.opened_ms <= at && at < session.closes_ms;
            open.then(|| {
                (
                    id,
                    POLICIES
                        .get(&session.organisation)
                        .is_some_and(|policy| policy.overrides_deny),
                )
            })
        });
        if found.is_some() || !more || cursor.is_none() {
            return found;
        }
    }
}
