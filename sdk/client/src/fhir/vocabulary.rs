//! The code systems and codes the FHIR mapping accepts, each with the system it is written back
//! under. A code outside these tables is refused on import: a blinded tag can only be written
//! back by trying the codes the exporter knows, so import and export share one vocabulary.

/// FHIR Consent scope (R4 `consentscope`).
pub const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// Scope codes.
pub const SCOPES: &[&str] = &["adr", "research", "patient-privacy", "treatment"];
/// LOINC (consent categories such as 59284-0).
pub const LOINC: &str = "http://loinc.org";
/// FHIR consent category codes.
pub const CONSENT_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/consentcategorycodes";
/// v3 ActCode (policy rules, sensitivity labels).
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// v3 Confidentiality.
pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// v3 ActReason (purposes of use).
pub const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// FHIR consent actions.
pub const CONSENT_ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
/// FHIR resource types (data classes).
pub const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
/// v3 ParticipationType.
pub const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// v3 RoleClass.
pub const ROLE_CLASS: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
/// v3 RoleCode.
pub const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

/// Consent categories accepted: every code of `consentcategorycodes` (R4) and the LOINC
/// consent document codes the R4 value set names.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("59284-0", LOINC),
    ("57016-8", LOINC),
    ("57017-6", LOINC),
    ("64292-6", LOINC),
    ("acd", CONSENT_CATEGORY),
    ("dnr", CONSENT_CATEGORY),
    ("emrgonly", CONSENT_CATEGORY),
    ("hcd", CONSENT_CATEGORY),
    ("npp", CONSENT_CATEGORY),
    ("polst", CONSENT_CATEGORY),
    ("research", CONSENT_CATEGORY),
    ("rsdid", CONSENT_CATEGORY),
    ("rsreid", CONSENT_CATEGORY),
];

/// `policyRule` codes (v3 ActCode) and the base decision each gives: opt-in (with
/// restrictions) permits where no provision matches, opt-out (with exceptions) denies.
pub const POLICY_RULES: &[(&str, bool)] = &[
    ("OPTIN", true),
    ("OPTINR", true),
    ("OPTOUT", false),
    ("OPTOUTE", false),
];

/// Consent actions and the contract's `Action` variants.
pub const ACTIONS: &[(&str, &str)] = &[
    ("collect", "Collect"),
    ("access", "Access"),
    ("use", "Use"),
    ("disclose", "Disclose"),
    ("correct", "Correct"),
];

/// Actor roles: requester roles (consent's `REQUESTER_ROLES`) and the record's custodian and
/// author (`CST`, `AUT`), each with its code system.
pub const ROLES: &[(&str, &str)] = &[
    ("ADM", PARTICIPATION_TYPE),
    ("ATND", PARTICIPATION_TYPE),
    ("CON", PARTICIPATION_TYPE),
    ("DIS", PARTICIPATION_TYPE),
    ("REF", PARTICIPATION_TYPE),
    ("PRF", PARTICIPATION_TYPE),
    ("PPRF", PARTICIPATION_TYPE),
    ("SPRF", PARTICIPATION_TYPE),
    ("PRCP", PARTICIPATION_TYPE),
    ("CST", PARTICIPATION_TYPE),
    ("AUT", PARTICIPATION_TYPE),
    ("PROV", ROLE_CLASS),
    ("PAYOR", ROLE_CLASS),
    ("UNDWRT", ROLE_CLASS),
    ("PAT", ROLE_CLASS),
    ("GUARD", ROLE_CODE),
    ("POWATT", ROLE_CODE),
    ("HPOWATT", ROLE_CODE),
    ("DPOWATT", ROLE_CODE),
];

/// Security labels: v3 Confidentiality and the v3 ActCode information-sensitivity codes.
pub const LABELS: &[(&str, &str)] = &[
    ("U", CONFIDENTIALITY),
    ("L", CONFIDENTIALITY),
    ("M", CONFIDENTIALITY),
    ("N", CONFIDENTIALITY),
    ("R", CONFIDENTIALITY),
    ("V", CONFIDENTIALITY),
    ("ETH", ACT_CODE),
    ("GDIS", ACT_CODE),
    ("HIV", ACT_CODE),
    ("MST", ACT_CODE),
    ("SCA", ACT_CODE),
    ("SDV", ACT_CODE),
    ("SEX", ACT_CODE),
    ("SPI", ACT_CODE),
    ("BH", ACT_CODE),
    ("COGN", ACT_CODE),
    ("DVD", ACT_CODE),
    ("EMOTDIS", ACT_CODE),
    ("MH", ACT_CODE),
    ("PSY", ACT_CODE),
    ("PSYTHPN", ACT_CODE),
    ("SUD", ACT_CODE),
    ("ALC", ACT_CODE),
    ("COCA", ACT_CODE),
    ("DRGIS", ACT_CODE),
    ("OPIOID", ACT_CODE),
    ("STD", ACT_CODE),
    ("SICKLE", ACT_CODE),
    ("TBOO", ACT_CODE),
    ("GENETIC", ACT_CODE),
];

/// FHIR R4 (4.0.1) resource types: the data classes.
pub const CLASSES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// The system `code` is listed under in `table`.
pub fn system_of<'a>(table: &[(&'a str, &'a str)], code: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, system)| *system)
}
