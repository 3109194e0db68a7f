//! Purpose of use: the HL7 v3 PurposeOfUse hierarchy as data, and what covers what.

/// The HL7 v3 PurposeOfUse hierarchy as (code, parent) pairs: the `PurposeOfUse` branch of
/// the v3 ActReason code system (OID 2.16.840.1.113883.5.8,
/// <http://terminology.hl7.org/CodeSystem/v3-ActReason>), whose codes the PurposeOfUse value
/// set lists (OID 2.16.840.1.113883.1.11.20448,
/// <http://terminology.hl7.org/ValueSet/v3-PurposeOfUse>). A provision naming a purpose
/// covers that purpose and every specialisation of it (a deny of `HPAYMT` also denies
/// `COVAUTH`; a permit for `TREAT` covers `ETREAT`), never a generalisation. Codes absent
/// from the table match only themselves; the seven top-level purposes (`HMARKT`, `HOPERAT`,
/// `HPAYMT`, `HRESCH`, `PATRQT`, `PUBHLTH`, `TREAT`, whose parent is the `PurposeOfUse`
/// concept itself) appear only as parents.
///
/// Verified pair by pair against the `subsumedBy` properties of the THO source of truth,
/// `input/sourceOfTruth/v3/codeSystems/v3-ActReason.xml` in github.com/HL7/UTG at commit
/// 0f80415d0b4b4722333c05f23966963c1b4d7e8c (ActReason version 4.0.0, 63 PurposeOfUse
/// concepts, as in the THO 7.0.0 CI build of the PurposeOfUse value set), and against the
/// ActReason 2.1.0 code table (Lvl and Parent columns) of the hl7.fhir.uv.xver-r5.r4 package.
/// The FHIR R4 (4.0.1, ActReason 2018-08-12) PurposeOfUse expansion has the same 60 codes as
/// 2.1.0 in the same hierarchical order; `MLTRAINING`, `PMTDS` and `TREATDS` are the newer
/// ones. The branch's own code is `PurposeOfUse` (not `_PurposeOfUse`) in every version.
pub const PURPOSE_OF_USE_PARENTS: &[(&str, &str)] = &[
    // HPAYMT healthcare payment.
    ("CLMATTCH", "HPAYMT"),
    ("COVAUTH", "HPAYMT"),
    ("COVERAGE", "HPAYMT"),
    ("ELIGDTRM", "COVERAGE"),
    ("ELIGVER", "COVERAGE"),
    ("ENROLLM", "COVERAGE"),
    ("MILDCRG", "COVERAGE"),
    ("PMTDS", "HPAYMT"),
    ("REMITADV", "HPAYMT"),
    // TREAT treatment.
    ("CLINTRL", "TREAT"),
    ("COC", "TREAT"),
    ("ETREAT", "TREAT"),
    ("BTG", "ETREAT"),
    ("ERTREAT", "ETREAT"),
    ("POPHLTH", "TREAT"),
    ("TREATDS", "TREAT"),
    // HOPERAT healthcare operations.
    ("CAREMGT", "HOPERAT"),
    ("DONAT", "HOPERAT"),
    ("FRAUD", "HOPERAT"),
    ("GOV", "HOPERAT"),
    ("HACCRED", "HOPERAT"),
    ("HCOMPL", "HOPERAT"),
    ("HDECD", "HOPERAT"),
    ("HDIRECT", "HOPERAT"),
    ("HDM", "HOPERAT"),
    ("HLEGAL", "HOPERAT"),
    ("HOUTCOMS", "HOPERAT"),
    ("HPRGRP", "HOPERAT"),
    ("HQUALIMP", "HOPERAT"),
    ("HSYSADMIN", "HOPERAT"),
    ("LABELING", "HSYSADMIN"),
    ("METAMGT", "HSYSADMIN"),
    ("MEMADMIN", "HOPERAT"),
    ("MILCDM", "HOPERAT"),
    ("MLTRAINING", "HOPERAT"),
    ("PATADMIN", "HOPERAT"),
    ("PATSFTY", "HOPERAT"),
    ("PERFMSR", "HOPERAT"),
    ("RECORDMGT", "HOPERAT"),
    ("SYSDEV", "HOPERAT"),
    ("HTEST", "SYSDEV"),
    ("TRAIN", "HOPERAT"),
    // HRESCH healthcare research.
    ("BIORCH", "HRESCH"),
    ("CLINTRCH", "HRESCH"),
    ("CLINTRCHNPC", "CLINTRCH"),
    ("CLINTRCHPC", "CLINTRCH"),
    ("PRECLINTRCH", "CLINTRCH"),
    ("DSRCH", "HRESCH"),
    ("POARCH", "HRESCH"),
    ("TRANSRCH", "HRESCH"),
    // PATRQT patient requested.
    ("FAMRQT", "PATRQT"),
    ("PWATRNY", "PATRQT"),
    ("SUPNWK", "PATRQT"),
    // PUBHLTH public health.
    ("DISASTER", "PUBHLTH"),
    ("THREAT", "PUBHLTH"),
];

/// Bounds the walk up the hierarchy: more than the deepest chain of parents in
/// [`PURPOSE_OF_USE_PARENTS`], which is two steps (BTG → ETREAT → TREAT, and likewise
/// ERTREAT, ELIGDTRM, HTEST, LABELING, PRECLINTRCH…).
pub(crate) const MAX_PURPOSE_DEPTH: usize = 4;

/// Whether a provision's `granted` purpose covers the `requested` one: the same code or one
/// of its specialisations in the v3 PurposeOfUse hierarchy.
pub fn purpose_covers(granted: &str, requested: &str) -> bool {
    let mut code = requested;
    for _ in 0..=MAX_PURPOSE_DEPTH {
        if code == granted {
            return true;
        }
        match PURPOSE_OF_USE_PARENTS
            .iter()
            .find(|(child, _)| *child == code)
        {
            Some((_, parent)) => code = parent,
            None => return false,
        }
    }
    false
}

/// Whether a purpose of use is an emergency one: `ETREAT` or a specialisation (`BTG`,
/// `ERTREAT`).
pub(crate) fn is_emergency(purpose: &str) -> bool {
    purpose_covers("ETREAT", purpose)
}
