//! The identity directory a party keeps (issue 23, deliverable 1): who the identifiers of the
//! outside world's documents are on chain. GS1 identifiers (party GLNs, location GLNs with their
//! SGLN extensions, GS1 company prefixes) and healthcare references (NPI, FHIR `Organization/…`,
//! `Practitioner/…`, `Patient/…`) map to chain addresses — a patient's to the pseudonym the
//! party knows it by (docs/PRIVACY.md §5.1). Every adapter (EPCIS now, FHIR later) resolves
//! through it; an identifier it does not hold is [`DirectoryError::Unresolved`], naming it,
//! never a guess.
//!
//! The file is TOML (`.toml`) or JSON (anything else):
//!
//! ```toml
//! [[party]]
//! name = "Example Pharma"                 # for people only
//! address = "0x…"                         # its chain address
//! gln = "0614141000012"                   # its party GLN (EPCIS owning/possessing party)
//! locations = ["0614141000029", "urn:epc:id:sgln:0614141.00003.7"]  # its sites (read points)
//! company_prefixes = ["0312345", "0614141"]  # GS1 company prefixes (split keys into EPC URNs)
//! npi = "1234567893"
//! fhir = ["Organization/example-pharma"]
//!
//! [[patient]]
//! reference = "Patient/123"
//! pseudonym = "0x…"                       # the patient's pseudonym at this party
//!
//! [[record]]
//! reference = "Observation/lab-1"         # a resource in the custodian's store
//! handle = "0x…"                          # its record handle on chain (`salus record put`)
//!
//! [[coverage]]
//! reference = "Coverage/c1"               # a member's coverage, as a provider's systems name it
//! member = "0x…"                          # the member hash the payer's coverage is keyed by
//! payer = "0x…"                           # the payer's address
//! patient = "Patient/123"                 # optional: the patient it covers
//! ```

use std::path::{Path, PathBuf};

use salus_primitives::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::gs1::{self, Identifier, location_code, valid_key};

/// One organisation or person with a chain address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// A name, for people reading the file.
    #[serde(default)]
    pub name: String,
    /// Its chain address.
    #[serde(with = "address_text")]
    pub address: Address,
    /// Its party GLN (GLN-13; an EPC `pgln` URN or a Digital Link `/417/` URI are accepted).
    #[serde(default)]
    pub gln: Option<String>,
    /// Its locations: GLN-13, or SGLN as EPC URN or Digital Link URI (an extension names a
    /// sub-location; a bare GLN covers every extension of it).
    #[serde(default)]
    pub locations: Vec<String>,
    /// Its GS1 company prefixes (6 to 12 digits).
    #[serde(default)]
    pub company_prefixes: Vec<String>,
    /// Its National Provider Identifier.
    #[serde(default)]
    pub npi: Option<String>,
    /// FHIR references naming it (`Organization/…`, `Practitioner/…`).
    #[serde(default)]
    pub fhir: Vec<String>,
}

/// A patient as this party knows it: a FHIR reference and the pseudonym it has on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// `Patient/…`.
    pub reference: String,
    /// The patient's pseudonym at this party.
    #[serde(with = "address_text")]
    pub pseudonym: Address,
    /// Other identifiers of the patient in this party's systems (member ids, MRNs), each
    /// `system|value` as FHIR tokens write them.
    #[serde(default)]
    pub identifiers: Vec<String>,
}

/// A record the party knows: a FHIR reference and the handle it is indexed by on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// `Observation/…`, `DocumentReference/…`, … as the custodian's systems name it.
    pub reference: String,
    /// Its record handle (consent's `register_record`).
    #[serde(with = "hash_text")]
    pub handle: Hash,
}

/// A member's coverage at a payer as this party knows it: a FHIR `Coverage/…` reference and the
/// member hash the payer's coverage contract keys it by (what a sealed preauthorization names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageEntry {
    /// `Coverage/…`.
    pub reference: String,
    /// The member hash (salted hash of the member id) on chain.
    #[serde(with = "hash_text")]
    pub member: Hash,
    /// The payer.
    #[serde(with = "address_text")]
    pub payer: Address,
    /// The patient it covers (`Patient/…`), when known.
    #[serde(default)]
    pub patient: Option<String>,
}

/// Hashes in the file as their `0x` text.
mod hash_text {
    use salus_primitives::Hash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &Hash, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&hash.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(input)?;
        text.parse()
            .map_err(|error| serde::de::Error::custom(format!("`{text}`: {error:?}")))
    }
}

/// Addresses in the file as their `0x` text.
mod address_text {
    use salus_primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(address: &Address, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&address.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Address, D::Error> {
        let text = String::deserialize(input)?;
        text.parse()
            .map_err(|error| serde::de::Error::custom(format!("`{text}`: {error}")))
    }
}

/// The file's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    party: Vec<Party>,
    #[serde(default)]
    patient: Vec<Patient>,
    #[serde(default)]
    record: Vec<Record>,
    #[serde(default)]
    coverage: Vec<CoverageEntry>,
}

/// What kind of reference was not found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A party GLN.
    Party,
    /// A location GLN or SGLN.
    Location,
    /// A chain address.
    Address,
    /// A National Provider Identifier.
    Npi,
    /// A FHIR reference.
    Fhir,
    /// A patient.
    Patient,
    /// A record.
    Record,
    /// A member's coverage.
    Coverage,
}

impl std::fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReferenceKind::Party => "party",
            ReferenceKind::Location => "location",
            ReferenceKind::Address => "address",
            ReferenceKind::Npi => "NPI",
            ReferenceKind::Fhir => "FHIR reference",
            ReferenceKind::Patient => "patient",
            ReferenceKind::Record => "record",
            ReferenceKind::Coverage => "coverage",
        })
    }
}

/// Why the directory cannot be loaded, or cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The file cannot be read.
    #[error("reading the directory {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a directory in TOML or JSON.
    #[error("the directory {} is not valid {format}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// `TOML` or `JSON`.
        format: &'static str,
        /// The parser's message (with the line).
        message: String,
    },
    /// An entry is malformed: a bad GLN, prefix or NPI, or an identifier given to two parties.
    #[error("directory entry {entry}: {reason}")]
    Invalid {
        /// The entry (its name or address).
        entry: String,
        /// Why.
        reason: String,
    },
    /// An identifier the directory does not hold.
    #[error("unresolved {kind} `{reference}`: not in the identity directory")]
    Unresolved {
        /// What was looked up.
        kind: ReferenceKind,
        /// The reference as given.
        reference: String,
    },
}

/// The identity directory (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    parties: Vec<Party>,
    patients: Vec<Patient>,
    records: Vec<Record>,
    coverages: Vec<CoverageEntry>,
}

fn invalid(entry: &Party, reason: impl Into<String>) -> DirectoryError {
    DirectoryError::Invalid {
        entry: if entry.name.is_empty() {
            entry.address.to_string()
        } else {
            entry.name.clone()
        },
        reason: reason.into(),
    }
}

/// A party GLN as written in the file (bare, `pgln` URN or Digital Link) as GLN-13.
fn party_gln(text: &str) -> Option<String> {
    if valid_key(text, 13) {
        return Some(text.to_string());
    }
    match gs1::parse(text).ok()? {
        Identifier::Pgln(gln) => Some(gln),
        Identifier::Sgln {
            gln,
            extension: None,
        } => Some(gln),
        _ => None,
    }
}

/// A location as written in the file (bare GLN, SGLN URN or Digital Link) as the contract's
/// location code ([`location_code`]).
fn location(text: &str) -> Option<String> {
    if valid_key(text, 13) {
        return Some(text.to_string());
    }
    match gs1::parse(text).ok()? {
        Identifier::Sgln { gln, extension } => Some(location_code(&gln, extension.as_deref())),
        _ => None,
    }
}

impl Directory {
    /// Loads the directory in `path`: TOML for a `.toml` file, JSON otherwise.
    ///
    /// # Errors
    /// [`DirectoryError::Io`], [`DirectoryError::Syntax`] or [`DirectoryError::Invalid`].
    pub fn load(path: &Path) -> Result<Directory, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let toml = path.extension().is_some_and(|ext| ext == "toml");
        let file: DirectoryFile = if toml {
            toml::from_str(&text).map_err(|error| DirectoryError::Syntax {
                path: path.to_path_buf(),
                format: "TOML",
                message: error.to_string(),
            })?
        } else {
            serde_json::from_str(&text).map_err(|error| DirectoryError::Syntax {
                path: path.to_path_buf(),
                format: "JSON",
                message: error.to_string(),
            })?
        };
        Directory::new(file.party, file.patient)?
            .with_records(file.record)?
            .with_coverages(file.coverage)
    }

    /// This directory with `coverages` (`Coverage/…` references to member hashes at payers),
    /// checked: a `Coverage/…` reference given once.
    ///
    /// # Errors
    /// [`DirectoryError::Invalid`] naming the coverage.
    pub fn with_coverages(
        mut self,
        coverages: Vec<CoverageEntry>,
    ) -> Result<Directory, DirectoryError> {
        for (index, coverage) in coverages.iter().enumerate() {
            if !coverage.reference.starts_with("Coverage/")
                || coverages[..index]
                    .iter()
                    .any(|earlier| earlier.reference == coverage.reference)
            {
                return Err(DirectoryError::Invalid {
                    entry: coverage.reference.clone(),
                    reason: "a coverage needs its own Coverage/… reference".into(),
                });
            }
        }
        self.coverages = coverages;
        Ok(self)
    }

    /// The coverage `Coverage/…` names.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the reference.
    pub fn coverage(&self, reference: &str) -> Result<&CoverageEntry, DirectoryError> {
        self.coverages
            .iter()
            .find(|coverage| coverage.reference == reference)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Coverage,
                reference: reference.to_string(),
            })
    }

    /// This directory with `records` (FHIR references of records to their handles), checked:
    /// no reference or handle given twice.
    ///
    /// # Errors
    /// [`DirectoryError::Invalid`] naming the record.
    pub fn with_records(mut self, records: Vec<Record>) -> Result<Directory, DirectoryError> {
        for (index, record) in records.iter().enumerate() {
            if records[..index].iter().any(|earlier| {
                earlier.reference == record.reference || earlier.handle == record.handle
            }) {
                return Err(DirectoryError::Invalid {
                    entry: record.reference.clone(),
                    reason: "a record needs its own reference and handle".into(),
                });
            }
        }
        self.records = records;
        Ok(self)
    }

    /// The handle of the record `reference` names.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the reference.
    pub fn record(&self, reference: &str) -> Result<Hash, DirectoryError> {
        self.records
            .iter()
            .find(|record| record.reference == reference)
            .map(|record| record.handle)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Record,
                reference: reference.to_string(),
            })
    }

    /// The FHIR reference of the record with `handle`, if the directory holds it.
    pub fn record_reference(&self, handle: &Hash) -> Option<&str> {
        self.records
            .iter()
            .find(|record| record.handle == *handle)
            .map(|record| record.reference.as_str())
    }

    /// The FHIR reference naming `address`: the patient whose pseudonym it is, else the party's
    /// first FHIR reference.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the address when neither holds it.
    pub fn fhir_reference_of(&self, address: &Address) -> Result<&str, DirectoryError> {
        if let Some(patient) = self.patients.iter().find(|p| p.pseudonym == *address) {
            return Ok(&patient.reference);
        }
        self.parties
            .iter()
            .find(|party| party.address == *address)
            .and_then(|party| party.fhir.first())
            .map(String::as_str)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Address,
                reference: address.to_string(),
            })
    }

    /// A directory of `parties` and `patients`, checked: GLNs with their check digits (kept as
    /// GLN-13 and location codes), prefixes of 6 to 12 digits, NPIs of 10 digits, and no GLN,
    /// location, NPI, FHIR reference or address given to two entries.
    ///
    /// # Errors
    /// [`DirectoryError::Invalid`] naming the entry.
    pub fn new(parties: Vec<Party>, patients: Vec<Patient>) -> Result<Directory, DirectoryError> {
        let mut checked = Vec::with_capacity(parties.len());
        let mut seen: Vec<String> = Vec::new();
        let mut claim = |party: &Party, key: String| -> Result<(), DirectoryError> {
            if seen.contains(&key) {
                return Err(invalid(party, format!("{key} is given to two entries")));
            }
            seen.push(key);
            Ok(())
        };
        for mut party in parties {
            claim(&party, format!("address {}", party.address))?;
            if let Some(gln) = &party.gln {
                let normal = party_gln(gln)
                    .ok_or_else(|| invalid(&party, format!("`{gln}` is not a party GLN")))?;
                claim(&party, format!("GLN {normal}"))?;
                party.gln = Some(normal);
            }
            let mut locations = Vec::with_capacity(party.locations.len());
            for text in &party.locations {
                let code = location(text)
                    .ok_or_else(|| invalid(&party, format!("`{text}` is not a location GLN")))?;
                claim(&party, format!("location {code}"))?;
                locations.push(code);
            }
            party.locations = locations;
            for prefix in &party.company_prefixes {
                if !(6..=12).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(invalid(
                        &party,
                        format!("`{prefix}` is not a GS1 company prefix (6 to 12 digits)"),
                    ));
                }
            }
            if let Some(npi) = &party.npi {
                if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(
                        &party,
                        format!("`{npi}` is not an NPI (10 digits)"),
                    ));
                }
                claim(&party, format!("NPI {npi}"))?;
            }
            for reference in &party.fhir {
                if !(reference.starts_with("Organization/")
                    || reference.starts_with("Practitioner/")
                    || reference.starts_with("PractitionerRole/"))
                {
                    return Err(invalid(
                        &party,
                        format!(
                            "`{reference}` is not an Organization/… or Practitioner/… reference"
                        ),
                    ));
                }
                claim(&party, format!("FHIR {reference}"))?;
            }
            checked.push(party);
        }
        let mut references: Vec<&str> = Vec::new();
        for patient in &patients {
            if !patient.reference.starts_with("Patient/")
                || references.contains(&&*patient.reference)
            {
                return Err(DirectoryError::Invalid {
                    entry: patient.reference.clone(),
                    reason: "a patient needs its own Patient/… reference".into(),
                });
            }
            references.push(&patient.reference);
        }
        Ok(Directory {
            parties: checked,
            patients,
            records: Vec::new(),
            coverages: Vec::new(),
        })
    }

    /// Every party.
    pub fn parties(&self) -> &[Party] {
        &self.parties
    }

    /// The party whose party GLN is `gln` (GLN-13).
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming `gln`.
    pub fn party_by_gln(&self, gln: &str) -> Result<&Party, DirectoryError> {
        self.parties
            .iter()
            .find(|party| party.gln.as_deref() == Some(gln))
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Party,
                reference: gln.to_string(),
            })
    }

    /// The party holding location `code` (a [`location_code`]): listed as it is, or its GLN
    /// listed bare, or the party's own GLN.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the location.
    pub fn party_at(&self, code: &str) -> Result<&Party, DirectoryError> {
        let gln = code.split_once('.').map_or(code, |(gln, _)| gln);
        self.parties
            .iter()
            .find(|party| party.locations.iter().any(|listed| listed == code))
            .or_else(|| {
                self.parties.iter().find(|party| {
                    party.locations.iter().any(|listed| listed == gln)
                        || party.gln.as_deref() == Some(gln)
                })
            })
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Location,
                reference: code.to_string(),
            })
    }

    /// The party at chain address `address`.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the address.
    pub fn party_by_address(&self, address: &Address) -> Result<&Party, DirectoryError> {
        self.parties
            .iter()
            .find(|party| party.address == *address)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Address,
                reference: address.to_string(),
            })
    }

    /// The party with NPI `npi`.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the NPI.
    pub fn party_by_npi(&self, npi: &str) -> Result<&Party, DirectoryError> {
        self.parties
            .iter()
            .find(|party| party.npi.as_deref() == Some(npi))
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Npi,
                reference: npi.to_string(),
            })
    }

    /// The chain address a FHIR reference names: an `Organization/…` or `Practitioner/…`
    /// party's address, or a `Patient/…`'s pseudonym at this party.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the reference.
    pub fn resolve_fhir(&self, reference: &str) -> Result<Address, DirectoryError> {
        if reference.starts_with("Patient/") {
            return self.patient(reference).map(|patient| patient.pseudonym);
        }
        self.parties
            .iter()
            .find(|party| party.fhir.iter().any(|listed| listed == reference))
            .map(|party| party.address)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Fhir,
                reference: reference.to_string(),
            })
    }

    /// The patient `Patient/…`.
    ///
    /// # Errors
    /// [`DirectoryError::Unresolved`] naming the reference.
    pub fn patient(&self, reference: &str) -> Result<&Patient, DirectoryError> {
        self.patients
            .iter()
            .find(|patient| patient.reference == reference)
            .ok_or_else(|| DirectoryError::Unresolved {
                kind: ReferenceKind::Patient,
                reference: reference.to_string(),
            })
    }

    /// Every GS1 company prefix the directory knows (to write keys as EPC URNs).
    pub fn company_prefixes(&self) -> impl Iterator<Item = &str> + Clone {
        self.parties
            .iter()
            .flat_map(|party| party.company_prefixes.iter().map(String::as_str))
    }
}
