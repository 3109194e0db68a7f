//! The roles a requester may claim in `can_access` and `record_access`, as data: each accepted
//! HL7 code with what must be attested for the actor before a consent is even read. A role is
//! never taken from the caller's word (issue 21 §1).
//!
//! Sources (HL7 Terminology, THO): v3 ParticipationType (code system OID
//! 2.16.840.1.113883.5.90, <http://terminology.hl7.org/CodeSystem/v3-ParticipationType>),
//! v3 RoleClass (2.16.840.1.113883.5.110, <http://terminology.hl7.org/CodeSystem/v3-RoleClass>)
//! and v3 RoleCode (2.16.840.1.113883.5.111, <http://terminology.hl7.org/CodeSystem/v3-RoleCode>),
//! all members of the FHIR R4 SecurityRoleType value set
//! (<http://hl7.org/fhir/R4/valueset-security-role-type.html>) that `Provision::roles` and a
//! request's role are drawn from. Codes absent from the table are refused
//! (`ConsentError::UnknownRole`), not matched.

/// What must hold of an actor for it to act in a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleAttestation {
    /// A clinician or a care provider: active in the registry as `Role::Practitioner` or
    /// `Role::ProviderOrganisation` (in good standing, licence valid at the decision's time).
    Clinical,
    /// A health plan: active in the registry as `Role::Payer`.
    Payer,
    /// The record's patient.
    Patient,
    /// A personal representative: an active delegation in this contract from the record's
    /// patient to the actor, attested with this very relationship code, in force at the
    /// decision's time.
    Representative,
}

/// Every role code a requester may claim, with what it must be attested as.
///
/// `PRCP` is v3 ParticipationType "primary information recipient"; Salus uses it for the
/// clinician a record is disclosed to (as its consents and tests always have), so it is
/// clinical. Payer codes are the v3 RoleClass codes of the party that pays (`PAYOR` invoice
/// payor, `UNDWRT` underwriter); representatives are v3 RoleCode personal and legal
/// relationship codes for those who may act for the patient under HIPAA 45 CFR 164.502(g).
pub const REQUESTER_ROLES: [(&str, RoleAttestation); 17] = [
    // v3 ParticipationType: care participations (x_EncounterParticipant, performers) and the
    // primary information recipient.
    ("ADM", RoleAttestation::Clinical),  // admitter
    ("ATND", RoleAttestation::Clinical), // attender
    ("CON", RoleAttestation::Clinical),  // consultant
    ("DIS", RoleAttestation::Clinical),  // discharger
    ("REF", RoleAttestation::Clinical),  // referrer
    ("PRF", RoleAttestation::Clinical),  // performer
    ("PPRF", RoleAttestation::Clinical), // primary performer
    ("SPRF", RoleAttestation::Clinical), // secondary performer
    ("PRCP", RoleAttestation::Clinical), // primary information recipient
    // v3 RoleClass.
    ("PROV", RoleAttestation::Clinical), // healthcare provider
    ("PAYOR", RoleAttestation::Payer),   // invoice payor
    ("UNDWRT", RoleAttestation::Payer),  // underwriter
    ("PAT", RoleAttestation::Patient),   // patient
    // v3 RoleCode: personal representatives.
    ("GUARD", RoleAttestation::Representative), // guardian
    ("POWATT", RoleAttestation::Representative), // power of attorney
    ("HPOWATT", RoleAttestation::Representative), // healthcare power of attorney
    ("DPOWATT", RoleAttestation::Representative), // durable power of attorney
];

/// What an actor claiming `code` must be attested as; `None` for a code not in
/// [`REQUESTER_ROLES`].
pub fn role_attestation(code: &str) -> Option<RoleAttestation> {
    REQUESTER_ROLES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, attestation)| *attestation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_unknown_codes_are_refused() {
        for (index, (code, _)) in REQUESTER_ROLES.iter().enumerate() {
            assert!(
                REQUESTER_ROLES[index + 1..]
                    .iter()
                    .all(|(other, _)| other != code),
                "{code} listed twice"
            );
        }
        assert_eq!(role_attestation("ATND"), Some(RoleAttestation::Clinical));
        assert_eq!(role_attestation("PAYOR"), Some(RoleAttestation::Payer));
        assert_eq!(
            role_attestation("HPOWATT"),
            Some(RoleAttestation::Representative)
        );
        assert_eq!(role_attestation("PAYER"), None, "not a v3 code");
        assert_eq!(role_attestation("atnd"), None, "codes are case-sensitive");
    }
}
