//! A Da Vinci PAS Claim (`use` `preauthorization`) read into a sealed preauthorization submission (issue 23, deliverable 4).
//!
//! [`plan`] reads a FHIR R4 Claim in the PAS shape and maps it to a neutral [`PreauthPlan`]:
//! the payer (`insurer`), the member hash (`insurance[0].coverage`, through the directory's
//! `[[coverage]]` entries), the priority (`priority`: `stat` → expedited, `normal` and
//! `deferred` → standard), the servicing provider and its NPI (`careTeam`, else the requester),
//! the service lines (`item`: CPT/HCPCS code, modifiers, units, dates, CMS place of service),
//! the ICD-10-CM diagnoses and the attachment templates (`supportingInfo`: LOINC attachment
//! codes, each as [`attachment_template`]). The node seals the plan to the payer as its
//! `SealedSubmission` and posts the skeleton (`submit_sealed`); the chain holds no code of it.
//!
//! Every element is mapped exactly, listed as not recorded (descriptive elements no rule reads:
//! `id`, `meta`, `text`, `language`, `identifier`, `created`, the care team's `role`, an
//! attachment's content), or refused with a [`FhirError`] naming its path — extensions and
//! modifier extensions anywhere, a concept with several codings, a `use` other than
//! `preauthorization`, an element no submission field holds, a required part missing.

use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, Hash};
use serde_json::{Map, Value, json};

use super::element::{Unrecorded, array, invalid, resource_type, string, unsupported};
use super::{CLAIM_TYPES, FhirError, NPI_SYSTEM, child, item, time};
use crate::directory::Directory;

/// CPT.
pub const CPT: &str = "http://www.ama-assn.org/go/cpt";
/// HCPCS Level II (as the CMS Blue Button code system names it; also read as its OID and as
/// the CMS release page).
pub const HCPCS: &str = "https://bluebutton.cms.gov/resources/codesystem/hcpcs";
const HCPCS_ALIASES: &[&str] = &[
    HCPCS,
    "urn:oid:2.16.840.1.113883.6.285",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
];
/// ICD-10-CM.
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// CMS place of service codes.
pub const PLACE_OF_SERVICE: &str =
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set";
/// `processpriority`.
pub const PROCESS_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/processpriority";
/// `claim-type`.
pub const CLAIM_TYPE: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
/// LOINC (attachment codes).
pub const LOINC: &str = "http://loinc.org";
/// `claiminformationcategory` (`attachment`).
pub const INFORMATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/claiminformationcategory";
/// PAS supporting-information types (`additionalInformation`).
pub const PAS_SUPPORTING_INFO: &str =
    "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASSupportingInfoType";

/// Lines a request may carry (the coverage contract's limit).
pub const MAX_LINES: usize = 50;

/// Descriptive elements read but not recorded.
const NOT_RECORDED: &[&str] = &["id", "meta", "text", "language", "identifier", "created"];

/// The documentation template of a LOINC attachment code, as a payer's rule set names it
/// (`documentation`) and a submission carries it: `keccak256("salus/attachment-template/v1" ‖
/// "http://loinc.org|" ‖ code)`.
pub fn attachment_template(loinc: &str) -> Hash {
    keccak256_concat(&[
        b"salus/attachment-template/v1",
        b"http://loinc.org|",
        loinc.as_bytes(),
    ])
}

/// The review's priority, as the coverage contract's `Priority` (its clock: 72 h expedited,
/// 7 days standard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewPriority {
    /// `normal`, `deferred`.
    Standard,
    /// `stat`.
    Expedited,
}

impl ReviewPriority {
    /// `Standard` or `Expedited`, as on chain and in the submission.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewPriority::Standard => "Standard",
            ReviewPriority::Expedited => "Expedited",
        }
    }
}

/// One requested service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedLine {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Modifiers.
    pub modifiers: Vec<String>,
    /// Units.
    pub quantity: u32,
    /// First day of service (ms; a date's UTC midnight).
    pub from_ms: u64,
    /// Last day of service (ms; its first millisecond).
    pub to_ms: u64,
    /// CMS place of service.
    pub place_of_service: String,
}

/// An attachment the request names: its LOINC code and template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedAttachment {
    /// LOINC attachment code.
    pub loinc: String,
    /// [`attachment_template`] of it.
    pub template: Hash,
}

/// A PAS Claim mapped to a sealed preauthorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreauthPlan {
    /// The requester (`provider`; whoever signs `submit_sealed`).
    pub requester: Address,
    /// The payer (`insurer`).
    pub payer: Address,
    /// The member hash (`insurance[0].coverage` through the directory).
    pub member: Hash,
    /// The patient's pseudonym at this party (`patient`).
    pub patient: Address,
    /// `priority`.
    pub priority: ReviewPriority,
    /// `type` (`claim-type`): not sealed, given to `export preauth` as `--claim-type`.
    pub claim_type: String,
    /// The servicing provider's NPI.
    pub servicing_npi: String,
    /// On a referral, the servicing provider (another party than the requester).
    pub servicing_provider: Option<Address>,
    /// Services.
    pub lines: Vec<PlannedLine>,
    /// ICD-10-CM diagnoses.
    pub diagnoses: Vec<String>,
    /// Attachments.
    pub attachments: Vec<PlannedAttachment>,
    /// Elements read but not recorded.
    pub not_recorded: Vec<String>,
}

impl PreauthPlan {
    /// The plan as JSON (`--dry-run --json`).
    pub fn to_json(&self) -> Value {
        json!({
            "requester": self.requester.to_string(),
            "payer": self.payer.to_string(),
            "member": self.member.to_string(),
            "patient": self.patient.to_string(),
            "priority": self.priority.as_str(),
            "claimType": self.claim_type,
            "servicingNpi": self.servicing_npi,
            "servicingProvider": self.servicing_provider.map(|a| a.to_string()),
            "lines": self.lines.iter().map(|line| json!({
                "procedure": line.procedure,
                "modifiers": line.modifiers,
                "quantity": line.quantity,
                "from_ms": line.from_ms,
                "to_ms": line.to_ms,
                "place_of_service": line.place_of_service,
            })).collect::<Vec<_>>(),
            "diagnoses": self.diagnoses,
            "attachmentTemplates": self.attachments.iter().map(|a| json!({
                "loinc": a.loinc, "template": a.template.to_string(),
            })).collect::<Vec<_>>(),
            "notRecorded": self.not_recorded,
        })
    }
}

/// The importer's refusal of what the sealed submission has no field for.
const SEALED: Unrecorded = Unrecorded {
    extension: "extensions are not sealed and may qualify the request",
    element: "no field of the sealed submission holds this element",
};

fn required(path: &str) -> FhirError {
    invalid(path, "required")
}

fn positive(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, FhirError> {
    match map.get(key) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| invalid(&child(path, key), "expected a positive integer")),
    }
}

/// A CodeableConcept with exactly one coding (`text` is narrative and not read).
fn concept(value: &Value, path: &str) -> Result<(String, String), FhirError> {
    SEALED
        .only_coding(value, path, "the submission carries one code per concept")?
        .ok_or_else(|| {
            invalid(
                &child(path, "coding"),
                "no code (text alone is not machine-checkable)",
            )
        })
}

/// A concept whose coding is of `system` (one of `systems`) with a code `shape` accepts.
fn code_of(
    value: &Value,
    path: &str,
    systems: &[&str],
    shape: impl Fn(&str) -> bool,
) -> Result<String, FhirError> {
    let (system, code) = concept(value, path)?;
    if !systems.contains(&system.as_str()) || !shape(&code) {
        return Err(FhirError::UnknownCode {
            path: path.to_string(),
            system,
            code,
        });
    }
    Ok(code)
}

fn alphanumeric(code: &str, length: usize) -> bool {
    code.len() == length && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// CPT (4 digits and a digit or category letter) or HCPCS Level II (a letter and 4 digits).
fn procedure_code(code: &str) -> bool {
    alphanumeric(code, 5)
}

/// ICD-10-CM: a letter and two characters, then (after a dot, if written) up to four more.
fn icd10cm(code: &str) -> bool {
    let bare: String = code.chars().filter(|c| *c != '.').collect();
    let dot = code.find('.');
    (3..=7).contains(&bare.len())
        && bare.as_bytes()[0].is_ascii_alphabetic()
        && bare.bytes().all(|b| b.is_ascii_alphanumeric())
        && code.matches('.').count() <= 1
        && dot.is_none_or(|at| at == 3 && code.len() > 4)
}

/// A date or dateTime's first millisecond, not before 1970.
fn instant(text: &str, path: &str) -> Result<u64, FhirError> {
    let (start, _) = time::parse_span(text)
        .ok_or_else(|| invalid(path, format!("`{text}` is not a FHIR date or dateTime")))?;
    u64::try_from(start).map_err(|_| invalid(path, "before 1970"))
}

/// A Reference to a party, through the directory: `reference` (`Organization/…`,
/// `Practitioner/…`) or an NPI `identifier`.
fn party(value: &Value, path: &str, directory: &Directory) -> Result<Address, FhirError> {
    let map = SEALED.object(value, path, &["reference", "identifier", "display", "type"])?;
    if let Some(reference) = string(map, "reference", path)? {
        return directory
            .resolve_fhir(reference)
            .map_err(|source| FhirError::Unresolved {
                path: child(path, "reference"),
                source,
            });
    }
    if let Some(identifier) = map.get("identifier") {
        let ipath = child(path, "identifier");
        let id = SEALED.object(identifier, &ipath, &["system", "value", "use", "type"])?;
        let system = string(id, "system", &ipath)?.unwrap_or_default();
        let value = string(id, "value", &ipath)?.unwrap_or_default();
        if system != NPI_SYSTEM {
            return Err(FhirError::UnknownCode {
                path: child(&ipath, "system"),
                system: system.to_string(),
                code: value.to_string(),
            });
        }
        return directory
            .party_by_npi(value)
            .map(|party| party.address)
            .map_err(|source| FhirError::Unresolved {
                path: child(&ipath, "value"),
                source,
            });
    }
    Err(invalid(
        path,
        "a reference naming nobody (display text alone cannot be resolved)",
    ))
}

/// A `reference` string (`Patient/…`, `Coverage/…`).
fn reference<'v>(value: &'v Value, path: &str) -> Result<&'v str, FhirError> {
    let map = SEALED.object(value, path, &["reference", "display", "type"])?;
    string(map, "reference", path)?.ok_or_else(|| required(&child(path, "reference")))
}

/// Maps the PAS Claim in `text` to a sealed preauthorization requested by `sender` (see the
/// module documentation).
///
/// # Errors
/// The typed [`FhirError`] of the first element refused, naming its path.
pub fn plan(text: &str, directory: &Directory, sender: Address) -> Result<PreauthPlan, FhirError> {
    let resource: Value = serde_json::from_str(text).map_err(|e| FhirError::Json(e.to_string()))?;
    plan_value(&resource, directory, sender)
}

/// [`plan`] of a parsed resource.
///
/// # Errors
/// As [`plan`].
pub fn plan_value(
    resource: &Value,
    directory: &Directory,
    sender: Address,
) -> Result<PreauthPlan, FhirError> {
    resource_type(resource, "Claim")?;
    let mut allowed = vec![
        "resourceType",
        "status",
        "type",
        "use",
        "patient",
        "insurer",
        "provider",
        "priority",
        "careTeam",
        "supportingInfo",
        "diagnosis",
        "insurance",
        "item",
    ];
    allowed.extend_from_slice(NOT_RECORDED);
    let map = SEALED.object(resource, "", &allowed)?;
    let mut not_recorded: Vec<String> = NOT_RECORDED
        .iter()
        .filter(|key| map.contains_key(**key) && **key != "id")
        .map(|key| (*key).to_string())
        .collect();
    if let Some(created) = string(map, "created", "")? {
        time::parse_span(created)
            .ok_or_else(|| invalid("created", format!("`{created}` is not a dateTime")))?;
    }

    match string(map, "use", "")? {
        Some("preauthorization") => {}
        Some(other) => {
            return Err(unsupported(
                "use",
                format!(
                    "`{other}`: only a preauthorization is sealed to the payer (a claim is `salus` claim submission, a predetermination is not modelled)"
                ),
            ));
        }
        None => return Err(required("use")),
    }
    match string(map, "status", "")? {
        Some("active") => {}
        Some(other) => {
            return Err(unsupported(
                "status",
                format!("`{other}`: only an active request is submitted"),
            ));
        }
        None => return Err(required("status")),
    }
    let claim_type = code_of(
        map.get("type").ok_or_else(|| required("type"))?,
        "type",
        &[CLAIM_TYPE],
        |code| CLAIM_TYPES.contains(&code),
    )?;
    let priority = match code_of(
        map.get("priority").ok_or_else(|| required("priority"))?,
        "priority",
        &[PROCESS_PRIORITY],
        |code| matches!(code, "stat" | "normal" | "deferred"),
    )?
    .as_str()
    {
        "stat" => ReviewPriority::Expedited,
        _ => ReviewPriority::Standard,
    };

    let patient_ref = reference(
        map.get("patient").ok_or_else(|| required("patient"))?,
        "patient",
    )?;
    let patient = directory
        .patient(patient_ref)
        .map_err(|source| FhirError::Unresolved {
            path: "patient.reference".into(),
            source,
        })?
        .pseudonym;
    let payer = party(
        map.get("insurer").ok_or_else(|| required("insurer"))?,
        "insurer",
        directory,
    )?;
    let requester = party(
        map.get("provider").ok_or_else(|| required("provider"))?,
        "provider",
        directory,
    )?;
    if requester != sender {
        return Err(invalid(
            "provider",
            format!(
                "names {requester}, but the request is signed by {sender}: the requester on chain is whoever signs"
            ),
        ));
    }

    // The member: one focal coverage, through the directory.
    let member = match array(map, "insurance", "")? {
        [] => return Err(required("insurance")),
        [one] => {
            let path = "insurance[0]";
            let insurance = SEALED.object(one, path, &["sequence", "focal", "coverage"])?;
            if insurance.get("focal").and_then(Value::as_bool) != Some(true) {
                return Err(invalid(
                    &child(path, "focal"),
                    "the coverage must be focal (true)",
                ));
            }
            let cpath = child(path, "coverage");
            let coverage_ref = reference(
                insurance.get("coverage").ok_or_else(|| required(&cpath))?,
                &cpath,
            )?;
            let coverage =
                directory
                    .coverage(coverage_ref)
                    .map_err(|source| FhirError::Unresolved {
                        path: child(&cpath, "reference"),
                        source,
                    })?;
            if coverage.payer != payer {
                return Err(invalid(
                    &cpath,
                    format!(
                        "a coverage at {}, not at the insurer {payer}",
                        coverage.payer
                    ),
                ));
            }
            if let Some(covered) = &coverage.patient
                && covered != patient_ref
            {
                return Err(invalid(
                    &cpath,
                    format!("covers {covered}, not the claim's patient {patient_ref}"),
                ));
            }
            coverage.member
        }
        _ => {
            return Err(unsupported(
                "insurance[1]",
                "a sealed request names one member at one payer",
            ));
        }
    };

    // Diagnoses, by sequence.
    let mut diagnoses = Vec::new();
    let mut diagnosis_sequences = Vec::new();
    for (index, entry) in array(map, "diagnosis", "")?.iter().enumerate() {
        let path = item("diagnosis", index);
        let fields = SEALED.object(
            entry,
            &path,
            &["sequence", "diagnosisCodeableConcept", "type"],
        )?;
        let sequence = positive(fields, "sequence", &path)?
            .ok_or_else(|| required(&child(&path, "sequence")))?;
        let cpath = child(&path, "diagnosisCodeableConcept");
        let code = code_of(
            fields.get("diagnosisCodeableConcept").ok_or_else(|| {
                unsupported(
                    &path,
                    "a diagnosis must be an ICD-10-CM diagnosisCodeableConcept (a diagnosisReference is not sealed)",
                )
            })?,
            &cpath,
            &[ICD10CM],
            icd10cm,
        )?;
        for (tindex, kind) in array(fields, "type", &path)?.iter().enumerate() {
            concept(kind, &item(&child(&path, "type"), tindex))?;
            not_recorded.push(item(&child(&path, "type"), tindex));
        }
        if diagnosis_sequences.contains(&sequence) {
            return Err(invalid(&child(&path, "sequence"), "given twice"));
        }
        diagnosis_sequences.push(sequence);
        if !diagnoses.contains(&code) {
            diagnoses.push(code);
        }
    }

    // The care team: who may serve the lines.
    let mut team: Vec<(u64, Address)> = Vec::new();
    for (index, entry) in array(map, "careTeam", "")?.iter().enumerate() {
        let path = item("careTeam", index);
        let fields = SEALED.object(
            entry,
            &path,
            &["sequence", "provider", "role", "responsible"],
        )?;
        let sequence = positive(fields, "sequence", &path)?
            .ok_or_else(|| required(&child(&path, "sequence")))?;
        let address = party(
            fields
                .get("provider")
                .ok_or_else(|| required(&child(&path, "provider")))?,
            &child(&path, "provider"),
            directory,
        )?;
        if let Some(role) = fields.get("role") {
            concept(role, &child(&path, "role"))?;
            not_recorded.push(child(&path, "role"));
        }
        if fields.contains_key("responsible") {
            not_recorded.push(child(&path, "responsible"));
        }
        if team.iter().any(|(s, _)| *s == sequence) {
            return Err(invalid(&child(&path, "sequence"), "given twice"));
        }
        team.push((sequence, address));
    }

    // The lines.
    let items = array(map, "item", "")?;
    if items.is_empty() {
        return Err(required("item"));
    }
    if items.len() > MAX_LINES {
        return Err(FhirError::TooComplex {
            path: "item".into(),
            reason: format!("at most {MAX_LINES} lines"),
        });
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut servicing: Option<(String, Address)> = None;
    for (index, entry) in items.iter().enumerate() {
        let path = item("item", index);
        let fields = SEALED.object(
            entry,
            &path,
            &[
                "sequence",
                "careTeamSequence",
                "diagnosisSequence",
                "productOrService",
                "modifier",
                "quantity",
                "servicedDate",
                "servicedPeriod",
                "locationCodeableConcept",
            ],
        )?;
        let sequence = positive(fields, "sequence", &path)?
            .ok_or_else(|| required(&child(&path, "sequence")))?;
        if sequence != index as u64 + 1 {
            return Err(unsupported(
                &child(&path, "sequence"),
                "lines are numbered in order from 1 (the response's itemSequence is the line's place)",
            ));
        }
        let product_path = child(&path, "productOrService");
        let procedure = code_of(
            fields
                .get("productOrService")
                .ok_or_else(|| required(&product_path))?,
            &product_path,
            &[&[CPT][..], HCPCS_ALIASES].concat(),
            procedure_code,
        )?;
        let mut modifiers = Vec::new();
        for (mindex, modifier) in array(fields, "modifier", &path)?.iter().enumerate() {
            let mpath = item(&child(&path, "modifier"), mindex);
            modifiers.push(code_of(
                modifier,
                &mpath,
                &[&[CPT][..], HCPCS_ALIASES].concat(),
                |code| alphanumeric(code, 2),
            )?);
        }
        let qpath = child(&path, "quantity");
        let quantity_value = fields.get("quantity").ok_or_else(|| required(&qpath))?;
        let quantity_fields =
            SEALED.object(quantity_value, &qpath, &["value", "unit", "system", "code"])?;
        let quantity = quantity_fields
            .get("value")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| invalid(&child(&qpath, "value"), "whole units, at least 1"))?;
        let (from_ms, to_ms) = match (fields.get("servicedDate"), fields.get("servicedPeriod")) {
            (Some(_), Some(_)) => {
                return Err(invalid(&path, "both servicedDate and servicedPeriod"));
            }
            (Some(date), None) => {
                let dpath = child(&path, "servicedDate");
                let text = date
                    .as_str()
                    .ok_or_else(|| invalid(&dpath, "expected a date"))?;
                if text.len() != 10 {
                    return Err(invalid(&dpath, format!("`{text}` is not a date")));
                }
                let day = instant(text, &dpath)?;
                (day, day)
            }
            (None, Some(period)) => {
                let ppath = child(&path, "servicedPeriod");
                let bounds = SEALED.object(period, &ppath, &["start", "end"])?;
                let start = string(bounds, "start", &ppath)?
                    .ok_or_else(|| required(&child(&ppath, "start")))?;
                let end = string(bounds, "end", &ppath)?
                    .ok_or_else(|| required(&child(&ppath, "end")))?;
                let from = instant(start, &child(&ppath, "start"))?;
                let to = instant(end, &child(&ppath, "end"))?;
                if to < from {
                    return Err(invalid(&ppath, "it ends before it starts"));
                }
                (from, to)
            }
            (None, None) => return Err(required(&child(&path, "servicedDate"))),
        };
        let lpath = child(&path, "locationCodeableConcept");
        let place_of_service = code_of(
            fields
                .get("locationCodeableConcept")
                .ok_or_else(|| required(&lpath))?,
            &lpath,
            &[PLACE_OF_SERVICE],
            |code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()),
        )?;
        // Diagnoses pointed to: the submission's diagnoses apply to every line.
        let pointed = array(fields, "diagnosisSequence", &path)?;
        if !pointed.is_empty() {
            let dpath = child(&path, "diagnosisSequence");
            let mut named = Vec::new();
            for (dindex, value) in pointed.iter().enumerate() {
                let sequence = value
                    .as_u64()
                    .filter(|s| diagnosis_sequences.contains(s))
                    .ok_or_else(|| invalid(&item(&dpath, dindex), "names no diagnosis"))?;
                named.push(sequence);
            }
            if diagnosis_sequences.iter().any(|s| !named.contains(s)) {
                return Err(unsupported(
                    &dpath,
                    "the submission's diagnoses apply to every line: a line pointing to some of them only cannot be sealed exactly",
                ));
            }
        }
        // The servicing provider: the care-team member the line points to.
        let pointed = array(fields, "careTeamSequence", &path)?;
        let server = match pointed {
            [] => None,
            [one] => {
                let tpath = item(&child(&path, "careTeamSequence"), 0);
                let sequence = one
                    .as_u64()
                    .ok_or_else(|| invalid(&tpath, "expected a number"))?;
                Some(
                    team.iter()
                        .find(|(s, _)| *s == sequence)
                        .map(|(_, address)| *address)
                        .ok_or_else(|| invalid(&tpath, "names no care-team member"))?,
                )
            }
            _ => {
                return Err(unsupported(
                    &item(&child(&path, "careTeamSequence"), 1),
                    "the submission names one servicing provider",
                ));
            }
        }
        .or(match team.as_slice() {
            [(_, only)] => Some(*only),
            _ => None,
        });
        let server = server.unwrap_or(requester);
        match &servicing {
            Some((_, earlier)) if *earlier != server => {
                return Err(unsupported(
                    &path,
                    "lines served by different providers: the submission names one servicing provider",
                ));
            }
            Some(_) => {}
            None => {
                let npi = directory
                    .party_by_address(&server)
                    .ok()
                    .and_then(|party| party.npi.clone())
                    .ok_or_else(|| {
                        invalid(
                            &path,
                            format!("the servicing provider {server} has no NPI in the directory"),
                        )
                    })?;
                servicing = Some((npi, server));
            }
        }
        lines.push(PlannedLine {
            procedure,
            modifiers,
            quantity,
            from_ms,
            to_ms,
            place_of_service,
        });
    }
    if team.len() > 1
        && !items
            .iter()
            .all(|entry| entry.get("careTeamSequence").is_some())
    {
        return Err(unsupported(
            "careTeam",
            "several care-team members: each line must point to its servicing provider (careTeamSequence)",
        ));
    }
    let (servicing_npi, server) = servicing.expect("at least one line");

    // Attachments: LOINC attachment codes.
    let mut attachments = Vec::new();
    for (index, entry) in array(map, "supportingInfo", "")?.iter().enumerate() {
        let path = item("supportingInfo", index);
        let fields = SEALED.object(
            entry,
            &path,
            &[
                "sequence",
                "category",
                "code",
                "valueAttachment",
                "valueReference",
            ],
        )?;
        positive(fields, "sequence", &path)?.ok_or_else(|| required(&child(&path, "sequence")))?;
        let category = concept(
            fields
                .get("category")
                .ok_or_else(|| required(&child(&path, "category")))?,
            &child(&path, "category"),
        )?;
        let is_attachment = (category.0 == INFORMATION_CATEGORY && category.1 == "attachment")
            || (category.0 == PAS_SUPPORTING_INFO && category.1 == "additionalInformation");
        if !is_attachment {
            return Err(unsupported(
                &child(&path, "category"),
                format!(
                    "`{}`: only attachments (claiminformationcategory `attachment`, PAS `additionalInformation`) are sealed, as their templates",
                    category.1
                ),
            ));
        }
        let loinc = code_of(
            fields
                .get("code")
                .ok_or_else(|| required(&child(&path, "code")))?,
            &child(&path, "code"),
            &[LOINC],
            |code| {
                let (digits, check) = code.split_once('-').unwrap_or((code, ""));
                !digits.is_empty()
                    && digits.len() <= 7
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && check.len() == 1
                    && check.bytes().all(|b| b.is_ascii_digit())
            },
        )?;
        for key in ["valueAttachment", "valueReference"] {
            if fields.contains_key(key) {
                not_recorded.push(child(&path, key));
            }
        }
        let template = attachment_template(&loinc);
        if !attachments
            .iter()
            .any(|a: &PlannedAttachment| a.template == template)
        {
            attachments.push(PlannedAttachment { loinc, template });
        }
    }

    Ok(PreauthPlan {
        requester,
        payer,
        member,
        patient,
        priority,
        claim_type,
        servicing_npi,
        servicing_provider: (server != requester).then_some(server),
        lines,
        diagnoses,
        attachments,
        not_recorded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{CoverageEntry, Party, Patient};

    const PAYER: Address = Address([0x01; 20]);
    const HOSPITAL: Address = Address([0x02; 20]);
    const SURGEON: Address = Address([0x03; 20]);
    const PATIENT: Address = Address([0x04; 20]);
    const MEMBER: Hash = Hash([0x4d; 32]);

    fn directory() -> Directory {
        let party = |address, npi: Option<&str>, fhir: &str| Party {
            name: String::new(),
            address,
            gln: None,
            locations: vec![],
            company_prefixes: vec![],
            npi: npi.map(str::to_string),
            fhir: vec![fhir.into()],
        };
        Directory::new(
            vec![
                party(PAYER, None, "Organization/payer"),
                party(HOSPITAL, Some("1234567893"), "Organization/hospital"),
                party(SURGEON, Some("1987654325"), "Practitioner/surgeon"),
            ],
            vec![Patient {
                reference: "Patient/p1".into(),
                pseudonym: PATIENT,
                identifiers: vec![],
            }],
        )
        .unwrap()
        .with_coverages(vec![CoverageEntry {
            reference: "Coverage/c1".into(),
            member: MEMBER,
            payer: PAYER,
            patient: Some("Patient/p1".into()),
        }])
        .unwrap()
    }

    fn concept(system: &str, code: &str) -> Value {
        json!({ "coding": [{ "system": system, "code": code }] })
    }

    fn claim() -> Value {
        json!({
            "resourceType": "Claim",
            "id": "pas-1",
            "meta": { "profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim"] },
            "identifier": [{ "system": "http://hospital.example/trace", "value": "T-1" }],
            "status": "active",
            "type": concept(CLAIM_TYPE, "professional"),
            "use": "preauthorization",
            "patient": { "reference": "Patient/p1" },
            "created": "2026-12-07T10:00:00Z",
            "insurer": { "reference": "Organization/payer" },
            "provider": { "reference": "Organization/hospital" },
            "priority": concept(PROCESS_PRIORITY, "normal"),
            "insurance": [{ "sequence": 1, "focal": true, "coverage": { "reference": "Coverage/c1" } }],
            "diagnosis": [{ "sequence": 1,
                "diagnosisCodeableConcept": concept(ICD10CM, "M54.16") }],
            "supportingInfo": [{ "sequence": 1,
                "category": concept(PAS_SUPPORTING_INFO, "additionalInformation"),
                "code": concept(LOINC, "18748-4"),
                "valueReference": { "reference": "DocumentReference/d1" } }],
            "item": [
                { "sequence": 1, "diagnosisSequence": [1],
                  "productOrService": concept(CPT, "72148"),
                  "modifier": [concept(CPT, "26")],
                  "quantity": { "value": 1 },
                  "servicedDate": "2026-12-10",
                  "locationCodeableConcept": concept(PLACE_OF_SERVICE, "11") },
                { "sequence": 2,
                  "productOrService": concept(HCPCS, "G0378"),
                  "quantity": { "value": 2 },
                  "servicedPeriod": { "start": "2026-12-10", "end": "2026-12-12" },
                  "locationCodeableConcept": concept(PLACE_OF_SERVICE, "22") }
            ]
        })
    }

    fn plan_of(resource: &Value) -> Result<PreauthPlan, FhirError> {
        plan_value(resource, &directory(), HOSPITAL)
    }

    fn refused(change: impl FnOnce(&mut Value)) -> FhirError {
        let mut resource = claim();
        change(&mut resource);
        plan_of(&resource).expect_err("refused")
    }

    fn path_of(error: &FhirError) -> &str {
        match error {
            FhirError::Unsupported { path, .. }
            | FhirError::Invalid { path, .. }
            | FhirError::UnknownCode { path, .. }
            | FhirError::Unresolved { path, .. }
            | FhirError::TooComplex { path, .. } => path,
            other => panic!("no path: {other}"),
        }
    }

    const DAY: u64 = 86_400_000;
    /// 2026-12-10T00:00Z.
    const DEC_10: u64 = 1_796_860_800_000;

    #[test]
    fn a_pas_claim_maps_to_a_sealed_preauthorization() {
        let plan = plan_of(&claim()).unwrap();
        assert_eq!(plan.payer, PAYER);
        assert_eq!(plan.requester, HOSPITAL);
        assert_eq!(plan.member, MEMBER);
        assert_eq!(plan.patient, PATIENT);
        assert_eq!(plan.priority, ReviewPriority::Standard);
        assert_eq!(plan.claim_type, "professional");
        assert_eq!(plan.servicing_npi, "1234567893");
        assert_eq!(plan.servicing_provider, None);
        assert_eq!(plan.diagnoses, vec!["M54.16".to_string()]);
        assert_eq!(
            plan.lines,
            vec![
                PlannedLine {
                    procedure: "72148".into(),
                    modifiers: vec!["26".into()],
                    quantity: 1,
                    from_ms: DEC_10,
                    to_ms: DEC_10,
                    place_of_service: "11".into(),
                },
                PlannedLine {
                    procedure: "G0378".into(),
                    modifiers: vec![],
                    quantity: 2,
                    from_ms: DEC_10,
                    to_ms: DEC_10 + 2 * DAY,
                    place_of_service: "22".into(),
                },
            ]
        );
        assert_eq!(
            plan.attachments,
            vec![PlannedAttachment {
                loinc: "18748-4".into(),
                template: attachment_template("18748-4"),
            }]
        );
        assert_ne!(
            attachment_template("18748-4"),
            attachment_template("18748-5")
        );
        assert_eq!(
            plan.not_recorded,
            vec![
                "meta",
                "identifier",
                "created",
                "supportingInfo[0].valueReference"
            ]
        );
        let json = plan.to_json();
        assert_eq!(json["priority"], "Standard");
        assert_eq!(json["lines"][1]["procedure"], "G0378");
    }

    #[test]
    fn stat_is_expedited_and_a_care_team_member_is_the_servicing_provider() {
        let mut resource = claim();
        resource["priority"] = concept(PROCESS_PRIORITY, "stat");
        resource["careTeam"] = json!([{ "sequence": 1,
            "provider": { "identifier": { "system": NPI_SYSTEM, "value": "1987654325" } },
            "role": concept("http://terminology.hl7.org/CodeSystem/claimcareteamrole", "primary") }]);
        let plan = plan_of(&resource).unwrap();
        assert_eq!(plan.priority, ReviewPriority::Expedited);
        assert_eq!(plan.servicing_npi, "1987654325");
        assert_eq!(plan.servicing_provider, Some(SURGEON));
        assert!(plan.not_recorded.contains(&"careTeam[0].role".to_string()));
        resource["priority"] = concept(PROCESS_PRIORITY, "deferred");
        assert_eq!(
            plan_of(&resource).unwrap().priority,
            ReviewPriority::Standard
        );
    }

    /// A change to the example Claim.
    type Change = Box<dyn FnOnce(&mut Value)>;

    #[test]
    fn what_the_submission_cannot_carry_is_refused_naming_the_element() {
        let cases: Vec<(&str, Change)> = vec![
            ("use", Box::new(|r| r["use"] = json!("claim"))),
            ("use", Box::new(|r| r["use"] = json!("predetermination"))),
            ("status", Box::new(|r| r["status"] = json!("draft"))),
            (
                "accident",
                Box::new(|r| r["accident"] = json!({ "date": "2026-12-01" })),
            ),
            (
                "extension",
                Box::new(|r| r["extension"] = json!([{ "url": "x", "valueString": "y" }])),
            ),
            (
                "item[0].modifierExtension",
                Box::new(|r| {
                    r["item"][0]["modifierExtension"] =
                        json!([{ "url": "x", "valueBoolean": true }])
                }),
            ),
            (
                "item[1].extension",
                Box::new(|r| {
                    r["item"][1]["extension"] = json!([{ "url": "x", "valueString": "y" }])
                }),
            ),
            (
                "item[0].productOrService.coding[1]",
                Box::new(|r| {
                    r["item"][0]["productOrService"]["coding"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({ "system": CPT, "code": "72149" }))
                }),
            ),
            (
                "item[0].productOrService",
                Box::new(|r| {
                    r["item"][0]["productOrService"] =
                        concept("http://snomed.info/sct", "241615005")
                }),
            ),
            (
                "item[0].unitPrice",
                Box::new(|r| r["item"][0]["unitPrice"] = json!({ "value": 10 })),
            ),
            (
                "item[0].locationReference",
                Box::new(|r| {
                    r["item"][0]["locationReference"] = json!({ "reference": "Location/l" })
                }),
            ),
            (
                "item[0].locationCodeableConcept",
                Box::new(|r| {
                    r["item"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("locationCodeableConcept");
                }),
            ),
            (
                "item[0].quantity.value",
                Box::new(|r| r["item"][0]["quantity"]["value"] = json!(1.5)),
            ),
            (
                "item[0].servicedDate",
                Box::new(|r| {
                    r["item"][0].as_object_mut().unwrap().remove("servicedDate");
                }),
            ),
            (
                "item[1].sequence",
                Box::new(|r| r["item"][1]["sequence"] = json!(3)),
            ),
            (
                "diagnosis[0].diagnosisCodeableConcept",
                Box::new(|r| {
                    r["diagnosis"][0]["diagnosisCodeableConcept"] =
                        concept("http://hl7.org/fhir/sid/icd-10", "M54.16")
                }),
            ),
            (
                "diagnosis[0].diagnosisReference",
                Box::new(|r| {
                    r["diagnosis"][0] = json!({ "sequence": 1, "diagnosisReference": { "reference": "Condition/c" } })
                }),
            ),
            (
                "item[0].diagnosisSequence",
                Box::new(|r| {
                    r["diagnosis"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({ "sequence": 2,
                 "diagnosisCodeableConcept": concept(ICD10CM, "M51.26") }))
                }),
            ),
            (
                "insurance[1]",
                Box::new(|r| {
                    r["insurance"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({ "sequence": 2, "focal": false,
                 "coverage": { "reference": "Coverage/c2" } }))
                }),
            ),
            (
                "insurance[0].coverage.reference",
                Box::new(|r| {
                    r["insurance"][0]["coverage"]["reference"] = json!("Coverage/unknown")
                }),
            ),
            (
                "insurance",
                Box::new(|r| {
                    r.as_object_mut().unwrap().remove("insurance");
                }),
            ),
            (
                "insurer.reference",
                Box::new(|r| r["insurer"]["reference"] = json!("Organization/nobody")),
            ),
            (
                "insurance[0].coverage",
                Box::new(|r| r["insurer"]["reference"] = json!("Organization/hospital")),
            ),
            (
                "provider",
                Box::new(|r| r["provider"]["reference"] = json!("Practitioner/surgeon")),
            ),
            (
                "priority",
                Box::new(|r| r["priority"] = concept(PROCESS_PRIORITY, "urgent")),
            ),
            (
                "supportingInfo[0].category",
                Box::new(|r| {
                    r["supportingInfo"][0]["category"] =
                        concept(PAS_SUPPORTING_INFO, "patientEvent")
                }),
            ),
            (
                "supportingInfo[0].code",
                Box::new(|r| {
                    r["supportingInfo"][0]["code"] = concept("http://snomed.info/sct", "123")
                }),
            ),
            ("item", Box::new(|r| r["item"] = json!([]))),
            ("contained", Box::new(|r| r["contained"] = json!([]))),
            (
                "implicitRules",
                Box::new(|r| r["implicitRules"] = json!("http://example.org/rules")),
            ),
        ];
        for (path, change) in cases {
            let error = refused(change);
            assert_eq!(path_of(&error), path, "{error}");
        }
        let error = refused(|r| r["resourceType"] = json!("ClaimResponse"));
        assert!(
            matches!(
                error,
                FhirError::NotA {
                    expected: "Claim",
                    ..
                }
            ),
            "{error}"
        );
        assert!(matches!(
            plan("{", &directory(), HOSPITAL),
            Err(FhirError::Json(_))
        ));
        let error = refused(|r| r["use"] = json!("claim"));
        assert!(matches!(error, FhirError::Unsupported { .. }), "{error}");
        let error = refused(|r| {
            r["item"][0]["productOrService"]["coding"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "system": CPT, "code": "72149" }))
        });
        assert!(
            error.to_string().contains("one code per concept"),
            "{error}"
        );
    }

    #[test]
    fn several_servicing_providers_are_refused() {
        let mut resource = claim();
        resource["careTeam"] = json!([
            { "sequence": 1, "provider": { "reference": "Practitioner/surgeon" } },
            { "sequence": 2, "provider": { "reference": "Organization/hospital" } }]);
        resource["item"][0]["careTeamSequence"] = json!([1]);
        resource["item"][1]["careTeamSequence"] = json!([2]);
        let error = plan_of(&resource).unwrap_err();
        assert_eq!(path_of(&error), "item[1]", "{error}");
        resource["item"][1]["careTeamSequence"] = json!([1]);
        let plan = plan_of(&resource).unwrap();
        assert_eq!(plan.servicing_provider, Some(SURGEON));
        resource["item"][1]
            .as_object_mut()
            .unwrap()
            .remove("careTeamSequence");
        let error = plan_of(&resource).unwrap_err();
        assert_eq!(path_of(&error), "item[1]", "{error}");
    }
}
