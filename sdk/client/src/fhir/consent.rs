//! FHIR R4 Consent ↔ the consent contract (docs/interop.md, "FHIR Consent").
//!
//! [`plan`] reads a Consent resource and maps it to one call — `grant` (active, no signing
//! date), `import_signed` (active, signed at `dateTime`) or `propose` (draft, proposed) — with
//! its JSON arguments for the contract's ABI. The root `provision` carries the consent's period;
//! its own criteria and type, if it has a type, become one contract provision with the nested
//! provisions as its children; a root without a type and without criteria is only a container,
//! its nested provisions becoming the consent's. Every element is either mapped exactly, listed
//! as not recorded (descriptive elements no decision reads: `id`, `meta`, `text`, `language`,
//! `identifier`, `organization`, `verification`), or refused with a [`FhirError`] naming its path.
//!
//! [`export`] writes a consent as the contract returns it (ABI JSON) back as a Consent resource:
//! blinded tags are opened by trying the vocabulary's codes under the exporter's blinding key,
//! data-period commitments with the openings the importer kept. Import → export → import gives
//! the same call.

use salus_primitives::{Address, Hash};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::element::{Unrecorded, array, invalid, resource_type, string, unsupported};
use super::vocabulary::{self as vocab, system_of};
use super::{FhirError, NPI_SYSTEM, RECORD_URN, child, item, time};
use crate::directory::Directory;
use crate::pseudonym::blinded_tag;
use crate::seal::{CommitmentKind, CommitmentSalt, commit_value};

/// The contract's limits (contracts/consent/src/types.rs).
const MAX_PROVISION_DEPTH: usize = 4;
const MAX_PROVISIONS: usize = 64;
const MAX_CRITERIA: usize = 16;
const MAX_CODE_BYTES: usize = 32;

/// A data period a provision commits to, opened: what the custodian needs to answer for it
/// (the same JSON as a period in the record gateway's store, `salus record period`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodOpening {
    /// The patient (its pseudonym at the custodian).
    pub patient: String,
    /// Start, signed ms since the epoch.
    pub start_ms: i64,
    /// End (exclusive).
    pub end_ms: i64,
    /// The commitment's salt, 32 bytes hex.
    pub salt: String,
}

impl PeriodOpening {
    /// The commitment a provision carries for this period, or `None` for a malformed salt.
    pub fn commitment(&self) -> Option<Hash> {
        let salt: [u8; 32] = hex::decode(self.salt.trim_start_matches("0x"))
            .ok()?
            .try_into()
            .ok()?;
        Some(commit_value(
            CommitmentKind::DATA_PERIOD,
            &CommitmentSalt::from_bytes(salt),
            &(self.start_ms, self.end_ms),
        ))
    }
}

/// What an import or export knows beyond the resource.
#[derive(Clone, Copy, Debug)]
pub struct Keys<'a> {
    /// The party's identity directory.
    pub directory: &'a Directory,
    /// The relationship's blinding key (`blind_r`), if the party holds it.
    pub blinding: Option<&'a [u8; 32]>,
    /// Data periods opened earlier: a period imported again reuses its salt (and so its
    /// commitment); export opens commitments with them.
    pub periods: &'a [PeriodOpening],
}

/// A provision as the contract stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provision {
    /// Permit (else deny).
    pub permit: bool,
    /// When it applies.
    pub period: Option<(i64, i64)>,
    /// Requesters.
    pub actors: Vec<Address>,
    /// Records' custodians (actor role `CST`).
    pub custodians: Vec<Address>,
    /// Records' authors (actor role `AUT`, data `authoredby`).
    pub authors: Vec<Address>,
    /// Requester roles.
    pub roles: Vec<String>,
    /// `Collect`, `Access`, `Use`, `Disclose`, `Correct`.
    pub actions: Vec<String>,
    /// v3 ActReason codes.
    pub purposes: Vec<String>,
    /// Blinded security labels.
    pub label_tags: Vec<Hash>,
    /// Blinded data classes.
    pub class_tags: Vec<Hash>,
    /// Record handles.
    pub records: Vec<Hash>,
    /// Data-period commitment.
    pub data_period_commitment: Option<Hash>,
    /// Exceptions.
    pub children: Vec<Provision>,
}

/// One requester the resource names, with what to ask the chain about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorCheck {
    /// The FHIR reference as written.
    pub reference: String,
    /// Its address.
    pub address: Address,
    /// The role it is named in.
    pub role: String,
    /// An action to ask about (`Access` when the provision names none).
    pub action: String,
    /// A purpose to ask about (`TREAT` when the provision names none).
    pub purpose: String,
    /// A record to ask about: the provision's (or an ancestor's) first.
    pub record: Option<Hash>,
    /// The provision's path in the contract (child indexes).
    pub provision_path: Vec<u8>,
}

/// A Consent mapped to one call.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsentPlan {
    /// `grant`, `import_signed` or `propose`.
    pub message: String,
    /// Its arguments (ABI JSON).
    pub arguments: Value,
    /// The patient (pseudonym).
    pub patient: Address,
    /// Scope code.
    pub scope: String,
    /// Category code.
    pub category: String,
    /// In force (end exclusive).
    pub period: (i64, i64),
    /// Base decision: permit?
    pub base_permit: bool,
    /// The provisions.
    pub provisions: Vec<Provision>,
    /// Source document hash (zero: none).
    pub source: Hash,
    /// Signing date, for `import_signed`.
    pub signed_ms: Option<i64>,
    /// Every requester named, for decision checks.
    pub actors: Vec<ActorCheck>,
    /// The data periods the provisions commit to, opened (hand them to the custodian).
    pub periods: Vec<PeriodOpening>,
    /// Elements read but not recorded on chain (descriptive only).
    pub not_recorded: Vec<String>,
}

impl ConsentPlan {
    /// The plan as JSON (`--dry-run --json`).
    pub fn to_json(&self) -> Value {
        json!({
            "message": self.message,
            "arguments": self.arguments,
            "patient": self.patient.to_string(),
            "dataPeriods": self.periods,
            "notRecorded": self.not_recorded,
        })
    }
}

/// The importer's refusal of what the contract has no field for.
const RECORDED: Unrecorded = Unrecorded {
    extension: "extensions are not recorded and may qualify the rule",
    element: "no contract field holds this element",
};

/// A CodeableConcept with exactly one coding (its `text` is narrative, not machine-checkable,
/// and is not read).
fn concept(value: &Value, path: &str) -> Result<(String, String), FhirError> {
    RECORDED
        .only_coding(value, path, "the contract records one code per concept")?
        .ok_or_else(|| FhirError::Undecided {
            path: child(path, "coding"),
            reason: "no code (text alone is not machine-checkable)".into(),
        })
}

/// `code` of `system` in `table`, else [`FhirError::UnknownCode`].
fn known(
    table: &[(&str, &str)],
    (system, code): &(String, String),
    path: &str,
) -> Result<(), FhirError> {
    match system_of(table, code) {
        Some(listed) if listed == system => Ok(()),
        _ => Err(FhirError::UnknownCode {
            path: path.to_string(),
            system: system.clone(),
            code: code.clone(),
        }),
    }
}

fn check_code(code: &str, path: &str) -> Result<(), FhirError> {
    if code.is_empty() || code.len() > MAX_CODE_BYTES {
        return Err(FhirError::TooComplex {
            path: path.to_string(),
            reason: format!("codes are 1 to {MAX_CODE_BYTES} bytes"),
        });
    }
    Ok(())
}

/// A Period as (start, exclusive end), open sides at `i64::MIN` / `i64::MAX`.
fn period(value: &Value, path: &str) -> Result<(i64, i64), FhirError> {
    let map = RECORDED.object(value, path, &["start", "end"])?;
    let start = match string(map, "start", path)? {
        Some(text) => {
            time::parse_span(text)
                .ok_or_else(|| {
                    invalid(
                        &child(path, "start"),
                        format!("`{text}` is not a dateTime with a zone"),
                    )
                })?
                .0
        }
        None => i64::MIN,
    };
    let end = match string(map, "end", path)? {
        Some(text) => {
            time::parse_span(text)
                .ok_or_else(|| {
                    invalid(
                        &child(path, "end"),
                        format!("`{text}` is not a dateTime with a zone"),
                    )
                })?
                .1
        }
        None => i64::MAX,
    };
    if end <= start {
        return Err(invalid(path, "it ends before it starts"));
    }
    Ok((start, end))
}

/// A Reference to a party or patient, resolved through the directory.
fn party(value: &Value, path: &str, directory: &Directory) -> Result<(String, Address), FhirError> {
    let map = RECORDED.object(value, path, &["reference", "identifier", "display", "type"])?;
    if let Some(reference) = string(map, "reference", path)? {
        let address =
            directory
                .resolve_fhir(reference)
                .map_err(|source| FhirError::Unresolved {
                    path: child(path, "reference"),
                    source,
                })?;
        return Ok((reference.to_string(), address));
    }
    if let Some(identifier) = map.get("identifier") {
        let ipath = child(path, "identifier");
        let id = RECORDED.object(identifier, &ipath, &["system", "value", "use", "type"])?;
        let system = string(id, "system", &ipath)?.unwrap_or_default();
        let value = string(id, "value", &ipath)?.unwrap_or_default();
        if system != NPI_SYSTEM {
            return Err(FhirError::UnknownCode {
                path: child(&ipath, "system"),
                system: system.to_string(),
                code: value.to_string(),
            });
        }
        let party = directory
            .party_by_npi(value)
            .map_err(|source| FhirError::Unresolved {
                path: child(&ipath, "value"),
                source,
            })?;
        return Ok((format!("{NPI_SYSTEM}|{value}"), party.address));
    }
    Err(FhirError::Undecided {
        path: path.to_string(),
        reason: "a reference naming nobody (display text alone cannot be resolved)".into(),
    })
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// State carried through the provision tree.
struct Walk<'a> {
    keys: Keys<'a>,
    patient: Address,
    count: usize,
    actors: Vec<ActorCheck>,
    periods: Vec<PeriodOpening>,
}

impl Walk<'_> {
    fn blinding(&self, path: &str) -> Result<&[u8; 32], FhirError> {
        self.keys.blinding.ok_or_else(|| FhirError::NoBlindingKey {
            path: path.to_string(),
        })
    }

    fn data_period(&mut self, (start_ms, end_ms): (i64, i64)) -> Result<Hash, FhirError> {
        let patient = self.patient.to_string();
        let known = self
            .keys
            .periods
            .iter()
            .chain(&self.periods)
            .find(|o| o.patient == patient && o.start_ms == start_ms && o.end_ms == end_ms)
            .cloned();
        let opening = match known {
            Some(opening) => opening,
            None => PeriodOpening {
                patient,
                start_ms,
                end_ms,
                salt: hex::encode(CommitmentSalt::random()?.as_bytes()),
            },
        };
        let commitment = opening
            .commitment()
            .ok_or_else(|| invalid("periods", "a kept salt is not 32 bytes of hex"))?;
        push_unique(&mut self.periods, opening);
        Ok(commitment)
    }

    /// The criteria of the provision at `path` (its type and nested provisions aside).
    fn criteria(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        into: &mut Provision,
    ) -> Result<Vec<(String, Address, String)>, FhirError> {
        if let Some(value) = map.get("period") {
            into.period = Some(period(value, &child(path, "period"))?);
        }
        if map.contains_key("code") {
            return Err(unsupported(
                &child(path, "code"),
                "records carry no clinical code on chain, so the contract cannot match one",
            ));
        }
        let mut requesters = Vec::new();
        let apath = child(path, "actor");
        for (index, actor) in array(map, "actor", path)?.iter().enumerate() {
            let at = item(&apath, index);
            let fields = RECORDED.object(actor, &at, &["role", "reference"])?;
            let role_value = fields
                .get("role")
                .ok_or_else(|| invalid(&at, "an actor needs its role"))?;
            let role = concept(role_value, &child(&at, "role"))?;
            known(vocab::ROLES, &role, &child(&at, "role"))?;
            let reference = fields
                .get("reference")
                .ok_or_else(|| invalid(&at, "an actor needs its reference"))?;
            let (text, address) = party(reference, &child(&at, "reference"), self.keys.directory)?;
            match role.1.as_str() {
                "CST" => push_unique(&mut into.custodians, address),
                "AUT" => push_unique(&mut into.authors, address),
                code => {
                    push_unique(&mut into.actors, address);
                    push_unique(&mut into.roles, code.to_string());
                    requesters.push((text, address, code.to_string()));
                }
            }
        }
        // The contract matches actors and roles independently: exact only when every pair of
        // an actor and a role the provision lists was named.
        for actor in &into.actors {
            for role in &into.roles {
                if !requesters.iter().any(|(_, a, r)| a == actor && r == role) {
                    return Err(unsupported(
                        &apath,
                        format!(
                            "{actor} is not named in role {role}, but the contract would match \
                             every listed actor in every listed role: split the actors into \
                             provisions by role"
                        ),
                    ));
                }
            }
        }
        let path_of = |key: &str| child(path, key);
        for (index, action) in array(map, "action", path)?.iter().enumerate() {
            let at = item(&path_of("action"), index);
            let code = concept(action, &at)?;
            let variant = vocab::ACTIONS
                .iter()
                .find(|(fhir, _)| *fhir == code.1)
                .filter(|_| code.0 == vocab::CONSENT_ACTION)
                .ok_or_else(|| FhirError::UnknownCode {
                    path: at.clone(),
                    system: code.0.clone(),
                    code: code.1.clone(),
                })?;
            push_unique(&mut into.actions, variant.1.to_string());
        }
        for (index, purpose) in array(map, "purpose", path)?.iter().enumerate() {
            let at = item(&path_of("purpose"), index);
            let (system, code) = RECORDED.coding(purpose, &at)?;
            if system != vocab::ACT_REASON {
                return Err(FhirError::UnknownCode {
                    path: at,
                    system,
                    code,
                });
            }
            check_code(&code, &at)?;
            push_unique(&mut into.purposes, code);
        }
        for (index, label) in array(map, "securityLabel", path)?.iter().enumerate() {
            let at = item(&path_of("securityLabel"), index);
            let code = RECORDED.coding(label, &at)?;
            known(vocab::LABELS, &code, &at)?;
            let tag = blinded_tag(self.blinding(&at)?, &code.1);
            push_unique(&mut into.label_tags, tag);
        }
        for (index, class) in array(map, "class", path)?.iter().enumerate() {
            let at = item(&path_of("class"), index);
            let (system, code) = RECORDED.coding(class, &at)?;
            if system != vocab::RESOURCE_TYPES || !vocab::CLASSES.contains(&code.as_str()) {
                return Err(FhirError::UnknownCode {
                    path: at,
                    system,
                    code,
                });
            }
            let tag = blinded_tag(self.blinding(&at)?, &code);
            push_unique(&mut into.class_tags, tag);
        }
        if let Some(value) = map.get("dataPeriod") {
            let span = period(value, &path_of("dataPeriod"))?;
            into.data_period_commitment = Some(self.data_period(span)?);
        }
        for (index, data) in array(map, "data", path)?.iter().enumerate() {
            let at = item(&path_of("data"), index);
            let fields = RECORDED.object(data, &at, &["meaning", "reference"])?;
            let meaning = string(fields, "meaning", &at)?
                .ok_or_else(|| invalid(&at, "data needs its meaning"))?;
            let reference = fields
                .get("reference")
                .ok_or_else(|| invalid(&at, "data needs its reference"))?;
            let rpath = child(&at, "reference");
            match meaning {
                "instance" => {
                    let handle = record_handle(reference, &rpath, self.keys.directory)?;
                    push_unique(&mut into.records, handle);
                }
                "authoredby" => {
                    let (_, address) = party(reference, &rpath, self.keys.directory)?;
                    push_unique(&mut into.authors, address);
                }
                "related" | "dependents" => {
                    return Err(unsupported(
                        &child(&at, "meaning"),
                        format!("`{meaning}`: records carry no links to one another on chain"),
                    ));
                }
                other => {
                    return Err(FhirError::UnknownCode {
                        path: child(&at, "meaning"),
                        system: "http://hl7.org/fhir/consent-data-meaning".into(),
                        code: other.into(),
                    });
                }
            }
        }
        for (list, key) in [
            (into.actors.len(), "actor"),
            (into.custodians.len(), "actor"),
            (into.authors.len(), "actor"),
            (into.roles.len(), "actor"),
            (into.actions.len(), "action"),
            (into.purposes.len(), "purpose"),
            (into.label_tags.len(), "securityLabel"),
            (into.class_tags.len(), "class"),
            (into.records.len(), "data"),
        ] {
            if list > MAX_CRITERIA {
                return Err(FhirError::TooComplex {
                    path: path_of(key),
                    reason: format!("at most {MAX_CRITERIA} entries per criterion"),
                });
            }
        }
        Ok(requesters)
    }

    /// The provision at `path`, depth `depth` in the contract (1: a consent's own).
    fn provision(
        &mut self,
        value: &Value,
        path: &str,
        depth: usize,
        contract_path: &[u8],
        inherited_record: Option<Hash>,
    ) -> Result<Provision, FhirError> {
        self.count += 1;
        if depth > MAX_PROVISION_DEPTH || self.count > MAX_PROVISIONS {
            return Err(FhirError::TooComplex {
                path: path.to_string(),
                reason: format!(
                    "at most {MAX_PROVISIONS} provisions, nested at most {MAX_PROVISION_DEPTH} deep"
                ),
            });
        }
        let map = RECORDED.object(value, path, PROVISION_KEYS)?;
        let mut out = Provision {
            permit: provision_type(map, path)?.ok_or_else(|| FhirError::Undecided {
                path: child(path, "type"),
                reason: "a provision without a type neither permits nor denies".into(),
            })?,
            ..Provision::default()
        };
        let requesters = self.criteria(map, path, &mut out)?;
        self.checks(&out, requesters, contract_path, inherited_record);
        let record = out.records.first().copied().or(inherited_record);
        let npath = child(path, "provision");
        for (index, nested) in array(map, "provision", path)?.iter().enumerate() {
            let mut cpath = contract_path.to_vec();
            cpath.push(index as u8);
            let nested = self.provision(nested, &item(&npath, index), depth + 1, &cpath, record)?;
            out.children.push(nested);
        }
        Ok(out)
    }

    fn checks(
        &mut self,
        provision: &Provision,
        requesters: Vec<(String, Address, String)>,
        contract_path: &[u8],
        inherited_record: Option<Hash>,
    ) {
        let action = provision
            .actions
            .first()
            .cloned()
            .unwrap_or_else(|| "Access".into());
        let purpose = provision
            .purposes
            .first()
            .cloned()
            .unwrap_or_else(|| "TREAT".into());
        for (reference, address, role) in requesters {
            self.actors.push(ActorCheck {
                reference,
                address,
                role,
                action: action.clone(),
                purpose: purpose.clone(),
                record: provision.records.first().copied().or(inherited_record),
                provision_path: contract_path.to_vec(),
            });
        }
    }
}

const PROVISION_KEYS: &[&str] = &[
    "type",
    "period",
    "actor",
    "action",
    "securityLabel",
    "purpose",
    "class",
    "code",
    "dataPeriod",
    "data",
    "provision",
];

/// `type`: `Some(true)` permit, `Some(false)` deny, `None` absent.
fn provision_type(map: &Map<String, Value>, path: &str) -> Result<Option<bool>, FhirError> {
    match string(map, "type", path)? {
        None => Ok(None),
        Some("permit") => Ok(Some(true)),
        Some("deny") => Ok(Some(false)),
        Some(other) => Err(FhirError::UnknownCode {
            path: child(path, "type"),
            system: "http://hl7.org/fhir/consent-provision-type".into(),
            code: other.into(),
        }),
    }
}

/// A record reference: `urn:salus:record:0x…`, or a reference the directory holds.
fn record_handle(value: &Value, path: &str, directory: &Directory) -> Result<Hash, FhirError> {
    let map = RECORDED.object(value, path, &["reference", "display", "type"])?;
    let reference = string(map, "reference", path)?
        .ok_or_else(|| invalid(path, "a record is named by its reference"))?;
    if let Some(hex) = reference.strip_prefix(RECORD_URN) {
        return hex
            .parse()
            .map_err(|_| invalid(&child(path, "reference"), "not a record handle"));
    }
    directory
        .record(reference)
        .map_err(|source| FhirError::Unresolved {
            path: child(path, "reference"),
            source,
        })
}

/// Consent elements kept only for people: read, listed in the plan, not recorded.
const NOT_RECORDED: &[&str] = &[
    "id",
    "meta",
    "text",
    "language",
    "identifier",
    "organization",
    "verification",
];

/// Maps the Consent in `text` to one consent-contract call signed by `sender` (see the module
/// documentation).
///
/// # Errors
/// The typed [`FhirError`] of the first element refused, naming its path.
pub fn plan(text: &str, keys: Keys<'_>, sender: Address) -> Result<ConsentPlan, FhirError> {
    let resource: Value = serde_json::from_str(text).map_err(|e| FhirError::Json(e.to_string()))?;
    plan_value(&resource, keys, sender)
}

/// [`plan`] of a parsed resource.
///
/// # Errors
/// As [`plan`].
pub fn plan_value(
    resource: &Value,
    keys: Keys<'_>,
    sender: Address,
) -> Result<ConsentPlan, FhirError> {
    resource_type(resource, "Consent")?;
    let mut allowed = vec![
        "resourceType",
        "status",
        "scope",
        "category",
        "patient",
        "dateTime",
        "performer",
        "sourceAttachment",
        "sourceReference",
        "policyRule",
        "provision",
    ];
    allowed.extend_from_slice(NOT_RECORDED);
    if resource.get("implicitRules").is_some() {
        return Err(unsupported(
            "implicitRules",
            "rules the resource was written under that the adapter cannot read",
        ));
    }
    if resource.get("policy").is_some() {
        return Err(unsupported(
            "policy",
            "a policy by reference is text the contract cannot evaluate: state it as policyRule and provisions",
        ));
    }
    if resource.get("contained").is_some() {
        return Err(unsupported(
            "contained",
            "contained resources are not recorded",
        ));
    }
    let map = RECORDED.object(resource, "", &allowed)?;
    let not_recorded = NOT_RECORDED
        .iter()
        .filter(|key| map.contains_key(**key))
        .map(|key| (*key).to_string())
        .collect();
    let directory = keys.directory;
    let status = string(map, "status", "")?.ok_or_else(|| invalid("status", "required"))?;
    let scope_value = map.get("scope").ok_or_else(|| FhirError::Undecided {
        path: "scope".into(),
        reason: "required".into(),
    })?;
    let (system, scope) = concept(scope_value, "scope")?;
    if system != vocab::CONSENT_SCOPE || !vocab::SCOPES.contains(&scope.as_str()) {
        return Err(FhirError::UnknownCode {
            path: "scope".into(),
            system,
            code: scope,
        });
    }
    let category = match array(map, "category", "")? {
        [one] => {
            let code = concept(one, "category[0]")?;
            known(vocab::CATEGORIES, &code, "category[0]")?;
            code.1
        }
        [] => return Err(invalid("category", "a consent needs its category")),
        _ => {
            return Err(unsupported(
                "category[1]",
                "the contract records one category",
            ));
        }
    };
    let patient_value = map
        .get("patient")
        .ok_or_else(|| invalid("patient", "the contract needs the patient"))?;
    let (_, patient) = party(patient_value, "patient", directory)?;
    for (index, performer) in array(map, "performer", "")?.iter().enumerate() {
        let at = item("performer", index);
        let (_, address) = party(performer, &at, directory)?;
        if address != patient && address != sender {
            return Err(unsupported(
                &at,
                "the contract records the signer (--from) as the grantor: a performer must be the patient or the signer",
            ));
        }
    }
    let signed_ms = match string(map, "dateTime", "")? {
        Some(text) => Some(
            time::parse_span(text)
                .ok_or_else(|| invalid("dateTime", format!("`{text}` is not a dateTime")))?
                .0,
        ),
        None => None,
    };
    let source = source_hash(map)?;
    let rule_value = map.get("policyRule").ok_or_else(|| FhirError::Undecided {
        path: "policyRule".into(),
        reason: "no base rule: what is decided where no provision matches is left open".into(),
    })?;
    let rule = concept(rule_value, "policyRule")?;
    let base_permit = vocab::POLICY_RULES
        .iter()
        .find(|(code, _)| *code == rule.1)
        .filter(|_| rule.0 == vocab::ACT_CODE)
        .map(|(_, permit)| *permit)
        .ok_or_else(|| FhirError::UnknownCode {
            path: "policyRule".into(),
            system: rule.0.clone(),
            code: rule.1.clone(),
        })?;
    let mut walk = Walk {
        keys,
        patient,
        count: 0,
        actors: Vec::new(),
        periods: Vec::new(),
    };
    let mut period_of_consent = (i64::MIN, i64::MAX);
    let mut provisions = Vec::new();
    if let Some(root) = map.get("provision") {
        let rmap = RECORDED.object(root, "provision", PROVISION_KEYS)?;
        if let Some(value) = rmap.get("period") {
            period_of_consent = period(value, "provision.period")?;
        }
        match provision_type(rmap, "provision")? {
            Some(_) => {
                let mut without_period = root.clone();
                if let Some(object) = without_period.as_object_mut() {
                    object.remove("period");
                }
                walk.count = 0;
                provisions.push(walk.provision(&without_period, "provision", 1, &[0], None)?);
            }
            None => {
                let criteria = PROVISION_KEYS
                    .iter()
                    .filter(|key| !["period", "provision", "type"].contains(key))
                    .find(|key| rmap.contains_key(**key));
                if let Some(key) = criteria {
                    return Err(FhirError::Undecided {
                        path: "provision.type".into(),
                        reason: format!(
                            "the root provision states `{key}` but neither permits nor denies"
                        ),
                    });
                }
                for (index, nested) in array(rmap, "provision", "provision")?.iter().enumerate() {
                    let at = item("provision.provision", index);
                    provisions.push(walk.provision(nested, &at, 1, &[index as u8], None)?);
                }
            }
        }
    }
    let (message, draft) = match status {
        "active" if signed_ms.is_some() => ("import_signed", None),
        "active" => ("grant", None),
        "draft" => ("propose", Some(true)),
        "proposed" => ("propose", Some(false)),
        other => {
            return Err(unsupported(
                "status",
                format!(
                    "`{other}`: a consent is created draft, proposed or active; later states are transitions of an existing consent"
                ),
            ));
        }
    };
    let mut arguments = vec![
        json!(patient.to_string()),
        json!(scope),
        json!(category),
        period_json(period_of_consent),
        json!(if base_permit { "Permit" } else { "Deny" }),
        Value::Array(provisions.iter().map(provision_json).collect()),
        json!(source.to_string()),
    ];
    match (message, draft) {
        ("propose", Some(draft)) => arguments.push(json!(draft)),
        ("import_signed", _) => {
            arguments.push(Value::Null);
            arguments.push(json!(signed_ms.unwrap_or_default().to_string()));
        }
        _ => arguments.push(Value::Null),
    }
    Ok(ConsentPlan {
        message: message.to_string(),
        arguments: Value::Array(arguments),
        patient,
        scope,
        category,
        period: period_of_consent,
        base_permit,
        provisions,
        source,
        signed_ms: (message == "import_signed").then_some(signed_ms).flatten(),
        actors: walk.actors,
        periods: walk.periods,
        not_recorded,
    })
}

/// The source document's system: `sourceReference.identifier` with it names the document's
/// hash (`0x…`), as export writes it.
pub const DOCUMENT_SYSTEM: &str = "urn:salus:document";

/// `sourceAttachment.url` / `sourceReference.reference` as the source document's hash
/// (keccak256 of the text), or the hash itself for a `sourceReference.identifier` of
/// [`DOCUMENT_SYSTEM`].
fn source_hash(map: &Map<String, Value>) -> Result<Hash, FhirError> {
    let text = if let Some(attachment) = map.get("sourceAttachment") {
        let fields = RECORDED.object(
            attachment,
            "sourceAttachment",
            &["url", "contentType", "title"],
        )?;
        string(fields, "url", "sourceAttachment")?.ok_or_else(|| {
            unsupported("sourceAttachment", "only a url is recorded (as its hash)")
        })?
    } else if let Some(reference) = map.get("sourceReference") {
        let fields = RECORDED.object(
            reference,
            "sourceReference",
            &["reference", "identifier", "display", "type"],
        )?;
        if let Some(identifier) = fields.get("identifier") {
            let path = "sourceReference.identifier";
            let id = RECORDED.object(identifier, path, &["system", "value"])?;
            if string(id, "system", path)? != Some(DOCUMENT_SYSTEM) {
                return Err(FhirError::UnknownCode {
                    path: child(path, "system"),
                    system: string(id, "system", path)?.unwrap_or_default().into(),
                    code: string(id, "value", path)?.unwrap_or_default().into(),
                });
            }
            return string(id, "value", path)?
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| invalid(&child(path, "value"), "not a document hash"));
        }
        string(fields, "reference", "sourceReference")?
            .ok_or_else(|| invalid("sourceReference", "a reference is needed"))?
    } else {
        return Ok(Hash::default());
    };
    Ok(salus_primitives::hash::keccak256(text.as_bytes()))
}

fn period_json((start, end): (i64, i64)) -> Value {
    json!({ "start_ms": start.to_string(), "end_ms": end.to_string() })
}

/// A provision as the contract's ABI JSON.
pub fn provision_json(provision: &Provision) -> Value {
    let text = |list: &[Address]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    let hashes = |list: &[Hash]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    json!({
        "kind": if provision.permit { "Permit" } else { "Deny" },
        "period": provision.period.map(period_json),
        "actors": text(&provision.actors),
        "custodians": text(&provision.custodians),
        "authors": text(&provision.authors),
        "roles": provision.roles,
        "actions": provision.actions,
        "purposes": provision.purposes,
        "label_tags": hashes(&provision.label_tags),
        "class_tags": hashes(&provision.class_tags),
        "records": hashes(&provision.records),
        "data_period_commitment": provision.data_period_commitment.map(|h| h.to_string()),
        "children": provision.children.iter().map(provision_json).collect::<Vec<_>>(),
    })
}

// ---- export ----

fn not_exportable(path: &str, reason: impl Into<String>) -> FhirError {
    FhirError::NotExportable {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn field<'v>(value: &'v Value, key: &str, path: &str) -> Result<&'v Value, FhirError> {
    value
        .get(key)
        .ok_or_else(|| not_exportable(&child(path, key), "missing from the contract's answer"))
}

fn int(value: &Value, path: &str) -> Result<i64, FhirError> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
    .ok_or_else(|| not_exportable(path, "not an integer"))
}

fn parsed<T: std::str::FromStr>(value: &Value, path: &str) -> Result<T, FhirError> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| not_exportable(path, "not a 0x value"))
}

fn list<'v>(value: &'v Value, key: &str, path: &str) -> Result<&'v [Value], FhirError> {
    field(value, key, path)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| not_exportable(&child(path, key), "not a list"))
}

fn period_of(value: &Value, path: &str) -> Result<(i64, i64), FhirError> {
    Ok((
        int(field(value, "start_ms", path)?, &child(path, "start_ms"))?,
        int(field(value, "end_ms", path)?, &child(path, "end_ms"))?,
    ))
}

/// A provision from the contract's ABI JSON.
///
/// # Errors
/// [`FhirError::NotExportable`] for a malformed answer.
pub fn provision_from_json(value: &Value, path: &str) -> Result<Provision, FhirError> {
    let addresses = |key: &str| -> Result<Vec<Address>, FhirError> {
        list(value, key, path)?
            .iter()
            .enumerate()
            .map(|(i, v)| parsed(v, &item(&child(path, key), i)))
            .collect()
    };
    let hashes = |key: &str| -> Result<Vec<Hash>, FhirError> {
        list(value, key, path)?
            .iter()
            .enumerate()
            .map(|(i, v)| parsed(v, &item(&child(path, key), i)))
            .collect()
    };
    let strings = |key: &str| -> Result<Vec<String>, FhirError> {
        Ok(list(value, key, path)?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    };
    let period = match field(value, "period", path)? {
        Value::Null => None,
        other => Some(period_of(other, &child(path, "period"))?),
    };
    let data_period_commitment = match field(value, "data_period_commitment", path)? {
        Value::Null => None,
        other => Some(parsed(other, &child(path, "data_period_commitment"))?),
    };
    let children = list(value, "children", path)?
        .iter()
        .enumerate()
        .map(|(i, v)| provision_from_json(v, &item(&child(path, "children"), i)))
        .collect::<Result<_, _>>()?;
    Ok(Provision {
        permit: field(value, "kind", path)? == "Permit",
        period,
        actors: addresses("actors")?,
        custodians: addresses("custodians")?,
        authors: addresses("authors")?,
        roles: strings("roles")?,
        actions: strings("actions")?,
        purposes: strings("purposes")?,
        label_tags: hashes("label_tags")?,
        class_tags: hashes("class_tags")?,
        records: hashes("records")?,
        data_period_commitment,
        children,
    })
}

fn coding_json(system: &str, code: &str) -> Value {
    json!({ "system": system, "code": code })
}

fn concept_json(system: &str, code: &str) -> Value {
    json!({ "coding": [coding_json(system, code)] })
}

fn reference_json(
    directory: &Directory,
    address: &Address,
    path: &str,
) -> Result<Value, FhirError> {
    let reference =
        directory
            .fhir_reference_of(address)
            .map_err(|source| FhirError::Unresolved {
                path: path.to_string(),
                source,
            })?;
    Ok(json!({ "reference": reference }))
}

fn export_provision(
    provision: &Provision,
    path: &str,
    keys: Keys<'_>,
    patient: &Address,
) -> Result<Map<String, Value>, FhirError> {
    let mut out = Map::new();
    out.insert(
        "type".into(),
        json!(if provision.permit { "permit" } else { "deny" }),
    );
    if let Some(span) = provision.period {
        out.insert("period".into(), period_fhir(span));
    }
    let mut actors = Vec::new();
    if provision.actors.is_empty() != provision.roles.is_empty() {
        return Err(not_exportable(
            &child(path, "actors"),
            "FHIR names an actor with its role: actors without roles, or roles without actors, \
             have no Consent form",
        ));
    }
    for (index, actor) in provision.actors.iter().enumerate() {
        for role in &provision.roles {
            let system = system_of(vocab::ROLES, role).ok_or_else(|| {
                not_exportable(
                    &child(path, "roles"),
                    format!("role `{role}` has no code system here"),
                )
            })?;
            actors.push(json!({
                "role": concept_json(system, role),
                "reference": reference_json(keys.directory, actor, &item(&child(path, "actors"), index))?,
            }));
        }
    }
    for (key, role, addresses) in [
        ("custodians", "CST", &provision.custodians),
        ("authors", "AUT", &provision.authors),
    ] {
        for (index, address) in addresses.iter().enumerate() {
            actors.push(json!({
                "role": concept_json(vocab::PARTICIPATION_TYPE, role),
                "reference": reference_json(keys.directory, address, &item(&child(path, key), index))?,
            }));
        }
    }
    if !actors.is_empty() {
        out.insert("actor".into(), Value::Array(actors));
    }
    if !provision.actions.is_empty() {
        let actions = provision
            .actions
            .iter()
            .map(|variant| {
                vocab::ACTIONS
                    .iter()
                    .find(|(_, v)| v == variant)
                    .map(|(code, _)| concept_json(vocab::CONSENT_ACTION, code))
                    .ok_or_else(|| not_exportable(&child(path, "actions"), variant.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.insert("action".into(), Value::Array(actions));
    }
    let open = |tags: &[Hash],
                codes: &mut dyn Iterator<Item = (&'static str, &'static str)>,
                key: &str|
     -> Result<Vec<Value>, FhirError> {
        let codes: Vec<_> = codes.collect();
        let mut written = Vec::new();
        for (index, tag) in tags.iter().enumerate() {
            let at = item(&child(path, key), index);
            let blinding = keys.blinding.ok_or_else(|| {
                not_exportable(&at, "a blinded tag is opened only with the relationship's blinding key (--blinding)")
            })?;
            let (code, system) = codes
                .iter()
                .find(|(code, _)| blinded_tag(blinding, code) == *tag)
                .ok_or_else(|| {
                    not_exportable(
                        &at,
                        "no code of the vocabulary gives this tag under the blinding key held",
                    )
                })?;
            written.push(coding_json(system, code));
        }
        Ok(written)
    };
    if !provision.label_tags.is_empty() {
        let labels = open(
            &provision.label_tags,
            &mut vocab::LABELS.iter().copied(),
            "label_tags",
        )?;
        out.insert("securityLabel".into(), Value::Array(labels));
    }
    if !provision.purposes.is_empty() {
        let purposes = provision
            .purposes
            .iter()
            .map(|code| coding_json(vocab::ACT_REASON, code))
            .collect();
        out.insert("purpose".into(), Value::Array(purposes));
    }
    if !provision.class_tags.is_empty() {
        let classes = open(
            &provision.class_tags,
            &mut vocab::CLASSES.iter().map(|c| (*c, vocab::RESOURCE_TYPES)),
            "class_tags",
        )?;
        out.insert("class".into(), Value::Array(classes));
    }
    if let Some(commitment) = provision.data_period_commitment {
        let patient = patient.to_string();
        let opening = keys
            .periods
            .iter()
            .find(|o| o.patient == patient && o.commitment() == Some(commitment))
            .ok_or_else(|| {
                not_exportable(
                    &child(path, "data_period_commitment"),
                    "no kept data period opens this commitment (--periods)",
                )
            })?;
        out.insert(
            "dataPeriod".into(),
            period_fhir((opening.start_ms, opening.end_ms)),
        );
    }
    if !provision.records.is_empty() {
        let data = provision
            .records
            .iter()
            .map(|handle| {
                let reference = keys
                    .directory
                    .record_reference(handle)
                    .map_or_else(|| format!("{RECORD_URN}{handle}"), str::to_string);
                json!({ "meaning": "instance", "reference": { "reference": reference } })
            })
            .collect();
        out.insert("data".into(), Value::Array(data));
    }
    if !provision.children.is_empty() {
        let nested = provision
            .children
            .iter()
            .enumerate()
            .map(|(i, c)| {
                export_provision(c, &item(&child(path, "children"), i), keys, patient)
                    .map(Value::Object)
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.insert("provision".into(), Value::Array(nested));
    }
    Ok(out)
}

fn period_fhir((start, end): (i64, i64)) -> Value {
    let mut out = Map::new();
    if start != i64::MIN {
        out.insert("start".into(), json!(time::format_start(start)));
    }
    if end != i64::MAX {
        out.insert("end".into(), json!(time::format_end(end)));
    }
    Value::Object(out)
}

/// The consent the contract returned (`consent(id)`, ABI JSON) as a FHIR R4 Consent.
///
/// # Errors
/// [`FhirError::NotExportable`] for a tag or commitment the keys cannot open or a shape FHIR
/// cannot state; [`FhirError::Unresolved`] for an address the directory cannot name.
pub fn export(consent: &Value, keys: Keys<'_>) -> Result<Value, FhirError> {
    let id = int(field(consent, "id", "")?, "id")?;
    let patient: Address = parsed(field(consent, "patient", "")?, "patient")?;
    let grantor: Address = parsed(field(consent, "grantor", "")?, "grantor")?;
    let status = match field(consent, "status", "")?.as_str().unwrap_or_default() {
        "Draft" => "draft",
        "Proposed" => "proposed",
        "Active" => "active",
        "Rejected" => "rejected",
        "Inactive" => "inactive",
        "EnteredInError" => "entered-in-error",
        other => return Err(not_exportable("status", format!("`{other}`"))),
    };
    let scope = field(consent, "scope", "")?.as_str().unwrap_or_default();
    if !vocab::SCOPES.contains(&scope) {
        return Err(not_exportable(
            "scope",
            format!("`{scope}` is no consent scope"),
        ));
    }
    let category = field(consent, "category", "")?.as_str().unwrap_or_default();
    let category_system = system_of(vocab::CATEGORIES, category).ok_or_else(|| {
        not_exportable("category", format!("`{category}` has no code system here"))
    })?;
    let date_ms = int(field(consent, "date_ms", "")?, "date_ms")?;
    let period = period_of(field(consent, "period", "")?, "period")?;
    let source: Hash = parsed(field(consent, "source", "")?, "source")?;
    let base_permit = field(consent, "base", "")? == "Permit";
    let provisions = list(consent, "provisions", "")?
        .iter()
        .enumerate()
        .map(|(i, v)| provision_from_json(v, &item("provisions", i)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = json!({
        "resourceType": "Consent",
        "id": id.to_string(),
        "status": status,
        "scope": concept_json(vocab::CONSENT_SCOPE, scope),
        "category": [concept_json(category_system, category)],
        "patient": reference_json(keys.directory, &patient, "patient")?,
        "dateTime": time::format_instant(date_ms),
        "performer": [reference_json(keys.directory, &grantor, "grantor")?],
        "policyRule": concept_json(vocab::ACT_CODE, if base_permit { "OPTIN" } else { "OPTOUT" }),
    });
    if source != Hash::default() {
        out["sourceReference"] =
            json!({ "identifier": { "system": DOCUMENT_SYSTEM, "value": source.to_string() } });
    }
    let open_period = period == (i64::MIN, i64::MAX);
    let root = match provisions.as_slice() {
        [] if open_period => None,
        [one] if one.period.is_none() => {
            let mut root = export_provision(one, "provisions[0]", keys, &patient)?;
            if !open_period {
                root.insert("period".into(), period_fhir(period));
            }
            Some(root)
        }
        many => {
            let mut root = Map::new();
            if !open_period {
                root.insert("period".into(), period_fhir(period));
            }
            if !many.is_empty() {
                let nested = many
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        export_provision(p, &item("provisions", i), keys, &patient)
                            .map(Value::Object)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                root.insert("provision".into(), Value::Array(nested));
            }
            Some(root)
        }
    };
    if let Some(root) = root {
        out["provision"] = Value::Object(root);
    }
    Ok(out)
}
