//! A custodian's local store of FHIR R4 JSON resources, by record handle: what the gateway
//! serves and `salus record put` fills.
//!
//! Layout of the store directory (files mode 0600, never rewritten):
//!
//! ```text
//! <handle hex>.json       the resource, byte for byte as put (a JSON object with a
//!                         `resourceType`)
//! <handle hex>.meta.json  {"patient","author","labels","class","dateMs","dateSalt"}: the clear
//!                         labels, class and date whose tags and commitment were registered with
//!                         consent's register_record, and the commitment's salt; written last,
//!                         so a record is in the store exactly when its meta file is
//! periods/<commitment hex>.json
//!                         {"patient","startMs","endMs","salt"}: a data period a consent of the
//!                         patient commits to (`Provision::data_period_commitment`), opened: the
//!                         gateway answers, for each, whether a requested record's date is
//!                         inside (consent's `period_answers`). The patient hands the period and
//!                         its salt to the custodian (`salus record period`) until wallets seal
//!                         them to it (PRIVACY.md §5.4)
//! ```
//!
//! The handle is 32 random bytes, not a hash of the resource: the handle goes on chain, and a
//! hash of a short, predictable resource (a negative test result, a standard panel) could be
//! confirmed by anyone who guesses it (PRIVACY.md §5.2: unsalted hashes of clinical content
//! never go on chain).

use std::path::{Path, PathBuf};

use salus_client::seal::{CommitmentKind, CommitmentSalt, commit_value};
use salus_primitives::{Address, Hash};
use serde::{Deserialize, Serialize};

/// Largest resource the store accepts: sealed replies are padded and built in memory
/// (`salus_client::seal::MAX_PLAINTEXT_BYTES` is the hard bound); a FHIR resource of a few
/// megabytes is already a large bundle.
pub const MAX_RESOURCE_BYTES: usize = 8 << 20;

/// What the store keeps beside a resource: its index entry on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordMeta {
    /// The patient the record is about (consent's `patient`).
    #[serde(with = "address_text")]
    pub patient: Address,
    /// Who wrote it (FHIR `author`).
    #[serde(with = "address_text")]
    pub author: Address,
    /// Security labels.
    pub labels: Vec<String>,
    /// Data class (the FHIR resource type, unless given).
    pub class: String,
    /// The record's date, signed ms since the epoch.
    pub date_ms: i64,
    /// The salt (hex) of the record's date commitment on chain (consent's `date_commitment`,
    /// `salus_client::seal::CommitmentKind::RECORD_DATE`): with `date_ms` it opens it. Empty
    /// for a record stored without one.
    #[serde(default)]
    pub date_salt: String,
}

/// Most data periods the gateway answers for one patient: consent takes at most 64 answers
/// per decision (`MAX_PROVISIONS`).
pub const MAX_PERIODS_PER_PATIENT: usize = 64;

/// A data period a consent of `patient` commits to, with the salt that opens the commitment
/// (`salus_client::seal::CommitmentKind::DATA_PERIOD` over SCALE of consent's `Period`, i.e.
/// `(start_ms, end_ms)`), as the patient hands it to the custodian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodOpening {
    /// The patient (its pseudonym at this custodian) whose consent commits to the period.
    #[serde(with = "address_text")]
    pub patient: Address,
    /// Start, signed ms since the epoch.
    pub start_ms: i64,
    /// End (exclusive).
    pub end_ms: i64,
    /// The commitment's salt, 32 bytes hex.
    pub salt: String,
}

impl PeriodOpening {
    /// The commitment a provision carries for this period.
    ///
    /// # Errors
    /// [`StoreError::BadPeriod`] when the salt is not 32 bytes of hex.
    pub fn commitment(&self) -> Result<Hash, StoreError> {
        let salt: [u8; 32] = hex::decode(self.salt.trim_start_matches("0x"))
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| StoreError::BadPeriod("the salt is not 32 bytes of hex".into()))?;
        Ok(commit_value(
            CommitmentKind::DATA_PERIOD,
            &CommitmentSalt::from_bytes(salt),
            &(self.start_ms, self.end_ms),
        ))
    }

    /// Whether `date_ms` is inside the period (end exclusive): consent's own `Period` rule, the
    /// code the contract compiles, run here where the record's date is.
    pub fn contains(&self, date_ms: i64) -> bool {
        consent::Period {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
        }
        .contains_signed(date_ms)
    }
}

/// Addresses as their `0x` text in the meta file.
mod address_text {
    use salus_primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&address.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The resource is not a JSON object with a string `resourceType`.
    #[error("not a FHIR R4 JSON resource: {0}")]
    NotAResource(String),
    /// Above [`MAX_RESOURCE_BYTES`].
    #[error("the resource is {0} bytes; the store keeps at most {MAX_RESOURCE_BYTES}")]
    TooLarge(usize),
    /// The operating system's random source failed.
    #[error(transparent)]
    Randomness(#[from] salus_client::RandomnessError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// A data period is malformed, or the patient has too many.
    #[error("data period: {0}")]
    BadPeriod(String),
    /// A meta file does not parse.
    #[error("{path}: {source}")]
    Meta {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: serde_json::Error,
    },
}

/// A store directory.
#[derive(Clone, Debug)]
pub struct RecordStore {
    dir: PathBuf,
}

impl RecordStore {
    /// The store in `dir` (created if missing, mode 0700).
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(dir: &Path) -> Result<RecordStore, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        Ok(RecordStore {
            dir: dir.to_path_buf(),
        })
    }

    fn resource_path(&self, handle: &Hash) -> PathBuf {
        self.dir.join(format!("{}.json", hex::encode(handle.0)))
    }

    fn meta_path(&self, handle: &Hash) -> PathBuf {
        self.dir
            .join(format!("{}.meta.json", hex::encode(handle.0)))
    }

    fn periods_dir(&self) -> PathBuf {
        self.dir.join("periods")
    }

    /// Keeps `opening` (a data period of one of the patient's consents, with its salt); its
    /// commitment. Keeping the same opening again is a no-op.
    ///
    /// # Errors
    /// [`StoreError::BadPeriod`] for a bad salt, an end before the start, or a patient with
    /// [`MAX_PERIODS_PER_PATIENT`] periods already; when a write fails.
    pub fn put_period(&self, opening: &PeriodOpening) -> Result<Hash, StoreError> {
        let commitment = opening.commitment()?;
        if opening.end_ms < opening.start_ms {
            return Err(StoreError::BadPeriod("it ends before it starts".into()));
        }
        let kept = self.periods(&opening.patient)?;
        if kept.iter().any(|(known, _)| *known == commitment) {
            return Ok(commitment);
        }
        if kept.len() >= MAX_PERIODS_PER_PATIENT {
            return Err(StoreError::BadPeriod(format!(
                "the patient has {MAX_PERIODS_PER_PATIENT} already"
            )));
        }
        let dir = self.periods_dir();
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{}.json", hex::encode(commitment.0)));
        let bytes = serde_json::to_vec_pretty(opening).expect("a period serialises");
        crate::keystore::write_private_file(&path, &bytes)
            .map_err(|source| StoreError::Io { path, source })?;
        Ok(commitment)
    }

    /// The data periods kept for `patient`, each with its commitment, in commitment order.
    ///
    /// # Errors
    /// When a period file cannot be read or parsed.
    pub fn periods(&self, patient: &Address) -> Result<Vec<(Hash, PeriodOpening)>, StoreError> {
        let dir = self.periods_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::Io { path: dir, source }),
        };
        let mut periods = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| StoreError::Io {
                    path: dir.clone(),
                    source,
                })?
                .path();
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let opening: PeriodOpening = serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::Meta { path, source })?;
            if opening.patient == *patient {
                periods.push((opening.commitment()?, opening));
            }
        }
        periods.sort_by_key(|(commitment, _)| commitment.0);
        Ok(periods)
    }

    /// Checks `resource` is a FHIR JSON resource; returns its `resourceType`.
    ///
    /// # Errors
    /// [`StoreError::NotAResource`], [`StoreError::TooLarge`].
    pub fn resource_type(resource: &[u8]) -> Result<String, StoreError> {
        if resource.len() > MAX_RESOURCE_BYTES {
            return Err(StoreError::TooLarge(resource.len()));
        }
        let value: serde_json::Value = serde_json::from_slice(resource)
            .map_err(|error| StoreError::NotAResource(error.to_string()))?;
        value
            .get("resourceType")
            .and_then(serde_json::Value::as_str)
            .filter(|kind| !kind.is_empty())
            .map(str::to_string)
            .ok_or_else(|| StoreError::NotAResource("no resourceType".into()))
    }

    /// Stores `resource` under a new random handle with its `meta`; returns the handle.
    ///
    /// # Errors
    /// As [`RecordStore::resource_type`]; when randomness or a write fails.
    pub fn put(&self, resource: &[u8], meta: &RecordMeta) -> Result<Hash, StoreError> {
        Self::resource_type(resource)?;
        let mut handle = Hash::default();
        salus_client::fill_random(&mut handle.0)?;
        let write = |path: PathBuf, bytes: &[u8]| {
            crate::keystore::write_private_file(&path, bytes)
                .map_err(|source| StoreError::Io { path, source })
        };
        write(self.resource_path(&handle), resource)?;
        let meta = serde_json::to_vec_pretty(meta).expect("a meta entry serialises");
        if let Err(error) = write(self.meta_path(&handle), &meta) {
            let _ = std::fs::remove_file(self.resource_path(&handle));
            return Err(error);
        }
        Ok(handle)
    }

    /// Removes a record (when its registration on chain failed).
    ///
    /// # Errors
    /// When a file exists but cannot be removed.
    pub fn remove(&self, handle: &Hash) -> Result<(), StoreError> {
        for path in [self.meta_path(handle), self.resource_path(handle)] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Io { path, source }),
            }
        }
        Ok(())
    }

    /// The record under `handle`, if the store holds it.
    ///
    /// # Errors
    /// When its files exist but cannot be read or parsed.
    pub fn get(&self, handle: &Hash) -> Result<Option<(Vec<u8>, RecordMeta)>, StoreError> {
        let meta_path = self.meta_path(handle);
        let meta = match std::fs::read(&meta_path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Io {
                    path: meta_path,
                    source,
                });
            }
        };
        let meta: RecordMeta =
            serde_json::from_slice(&meta).map_err(|source| StoreError::Meta {
                path: meta_path,
                source,
            })?;
        let path = self.resource_path(handle);
        let resource = std::fs::read(&path).map_err(|source| StoreError::Io { path, source })?;
        Ok(Some((resource, meta)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RecordMeta {
        RecordMeta {
            patient: Address([1; 20]),
            author: Address([2; 20]),
            labels: vec!["N".into()],
            date_salt: String::new(),
            class: "Observation".into(),
            date_ms: -5,
        }
    }

    #[test]
    fn a_data_period_is_kept_under_its_commitment_per_patient() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordStore::open(dir.path()).unwrap();
        let opening = PeriodOpening {
            patient: Address([1; 20]),
            start_ms: -10,
            end_ms: 10,
            salt: hex::encode([7u8; 32]),
        };
        let commitment = store.put_period(&opening).unwrap();
        // The construction consent's tests and wallets use: kind 2, SCALE of (start, end).
        let mut preimage = b"salus/commit/v1".to_vec();
        preimage.push(2);
        preimage.extend_from_slice(&[7u8; 32]);
        preimage.extend_from_slice(&(-10i64).to_le_bytes());
        preimage.extend_from_slice(&10i64.to_le_bytes());
        assert_eq!(commitment, salus_primitives::keccak256(&preimage));
        assert_eq!(
            store.put_period(&opening).unwrap(),
            commitment,
            "idempotent"
        );
        assert_eq!(
            store.periods(&Address([1; 20])).unwrap(),
            vec![(commitment, opening.clone())]
        );
        assert_eq!(store.periods(&Address([2; 20])).unwrap(), vec![]);
        assert!(opening.contains(-10) && opening.contains(9) && !opening.contains(10));
        let bad = PeriodOpening {
            salt: "00".into(),
            ..opening
        };
        assert!(matches!(
            store.put_period(&bad),
            Err(StoreError::BadPeriod(_))
        ));
    }

    #[test]
    fn a_resource_is_kept_under_a_fresh_handle_and_only_fhir_json_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordStore::open(dir.path()).unwrap();
        let resource = br#"{"resourceType":"Observation","status":"final"}"#;
        let (a, b) = (
            store.put(resource, &meta()).unwrap(),
            store.put(resource, &meta()).unwrap(),
        );
        assert_ne!(a, b, "handles are random, not the content's hash");
        assert_eq!(store.get(&a).unwrap(), Some((resource.to_vec(), meta())));
        assert_eq!(store.get(&Hash([9; 32])).unwrap(), None);
        store.remove(&a).unwrap();
        assert_eq!(store.get(&a).unwrap(), None);
        for bad in [&b"not json"[..], br#"{"status":"final"}"#, b"[1]"] {
            assert!(matches!(
                store.put(bad, &meta()),
                Err(StoreError::NotAResource(_))
            ));
        }
    }
}
