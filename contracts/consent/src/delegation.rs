//! Who may act for a patient: the patient, or a delegate within its delegation's scope.

use salus_sdk::prelude::*;

use crate::purpose_of_use::purpose_covers;
use crate::storage::{DELEGATIONS, own_subject};
use crate::trail::audit;
use crate::types::*;

/// Checks that `actor` may act for `patient`: the patient, or a delegate with an active
/// delegation in its period. With a grant, also that the delegate's scope covers it.
/// Returns the principal when acting as a delegate.
pub(crate) fn authorise(
    patient: &Address,
    actor: &Address,
    grant: Option<(&Decision, &Vec<Provision>, &String)>,
) -> Result<Option<Address>, ConsentError> {
    if actor == patient {
        return Ok(None);
    }
    let delegation = delegation_in_force(patient, actor, block_timestamp_ms())
        .ok_or(ConsentError::NotAuthorised)?;
    if let Some((base, provisions, scope)) = grant {
        let research_scope = scope == "research";
        if research_scope
            && !delegation
                .purposes
                .iter()
                .any(|purpose| purpose == "HRESCH")
        {
            return Err(ConsentError::OutsideDelegatedScope);
        }
        // A base permit grants every action for every purpose to anyone: more than any
        // delegation's scope.
        if matches!(base, Decision::Permit)
            || delegation.actions.is_empty()
            || delegation.purposes.is_empty()
        {
            return Err(ConsentError::OutsideDelegatedScope);
        }
        for provision in provisions {
            within_scope(provision, &delegation)?;
        }
    }
    Ok(Some(*patient))
}

/// The delegation from `principal` to `delegate`, if it is active and `at` is within its
/// period.
pub(crate) fn delegation_in_force(
    principal: &Address,
    delegate: &Address,
    at: u64,
) -> Option<Delegation> {
    DELEGATIONS
        .get(&(*principal, *delegate))
        .filter(|delegation| delegation.active && delegation.period.contains(at))
}

/// A delegate ends (revokes or supersedes) only consents it granted itself: ending one the
/// patient granted could lift the patient's own restrictions, which no scope covers.
pub(crate) fn delegate_may_end(
    consent: &Consent,
    actor: &Address,
    on_behalf_of: Option<Address>,
) -> Result<(), ConsentError> {
    if on_behalf_of.is_some() && consent.grantor != *actor {
        Err(ConsentError::OutsideDelegatedScope)
    } else {
        Ok(())
    }
}

/// A delegate may grant only permits whose actions and purposes its delegation covers (and
/// which name them: an empty list would mean "any"); a purpose is covered by the same code
/// or a generalisation of it in the v3 PurposeOfUse hierarchy.
pub(crate) fn within_scope(
    provision: &Provision,
    delegation: &Delegation,
) -> Result<(), ConsentError> {
    if matches!(provision.kind, Decision::Permit) {
        let actions_ok = !provision.actions.is_empty()
            && provision
                .actions
                .iter()
                .all(|a| delegation.actions.contains(a));
        let purposes_ok = !provision.purposes.is_empty()
            && provision
                .purposes
                .iter()
                .all(|p| delegation.purposes.iter().any(|d| purpose_covers(d, p)));
        if !actions_ok || !purposes_ok {
            return Err(ConsentError::OutsideDelegatedScope);
        }
    }
    for child in &provision.children {
        within_scope(child, delegation)?;
    }
    Ok(())
}

/// Ends the delegation from `principal` to `delegate`, by `agent` (the principal, or the
/// authority): inactive, announced, and recorded on the principal's audit trail with `note`.
pub(crate) fn end_delegation_by(
    principal: Address,
    delegate: Address,
    agent: Address,
    note: &str,
) -> Result<(), ConsentError> {
    let mut delegation = DELEGATIONS
        .get(&(principal, delegate))
        .ok_or(ConsentError::Unknown)?;
    delegation.active = false;
    DELEGATIONS.insert(&(principal, delegate), &delegation);
    DelegationChanged {
        subject: own_subject(&principal),
        delegate,
        relationship: delegation.relationship.clone(),
        active: false,
    }
    .emit();
    audit(
        &principal,
        agent,
        AuditAction::U,
        0,
        None,
        Hash::default(),
        String::new(),
        None,
        Vec::new(),
        note,
    );
    Ok(())
}
