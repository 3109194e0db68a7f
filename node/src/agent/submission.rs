//! What a provider seals to the payer: the preauthorization's content (service lines,
//! diagnoses, attachment templates) or a claim's (procedures, units, dates of service,
//! diagnoses), never on chain; the delivery (the content and the salt of its commitment, sealed
//! to the payer's registered X25519 key and bound to the handle); the commitment kinds of a
//! sealed request, a claim and their decisions.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use parity_scale_codec::{Decode, Encode};
use salus_client::seal::{CommitmentKind, CommitmentSalt, commit_value, open, seal};
use salus_client::x25519_dalek::{PublicKey, StaticSecret};
use salus_primitives::{Address, Hash};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::AgentError;
use crate::gateway::ReplyKey;

/// Commitment kind of a sealed submission (`submission_commitment`). Kinds 0x20–0x22 are the
/// coverage agent's, clear of the record kinds (0–3) `salus_client::seal` names.
pub const SUBMISSION: CommitmentKind = CommitmentKind(0x20);
/// Commitment kind of what the rules read for a decision (`inputs_commitment`).
pub const DECISION_INPUTS: CommitmentKind = CommitmentKind(0x21);
/// Commitment kind of what the rules gave (`outcome_commitment`).
pub const DECISION_OUTCOME: CommitmentKind = CommitmentKind(0x22);
/// Commitment kind of a sealed claim (`claim_commitment`).
pub const CLAIM: CommitmentKind = CommitmentKind(0x23);
/// Commitment kind of documentation delivered after the submission (`add_documentation`'s
/// `documentation_commitment`).
pub const DOCUMENTATION: CommitmentKind = CommitmentKind(0x25);
/// Commitment kind of what a claim check gave (its `outcome_commitment`: CARCs and draws per
/// line); what it read is committed to with [`DECISION_INPUTS`].
pub const CLAIM_CHECK: CommitmentKind = CommitmentKind(0x24);

/// Serde as the type's text (`0x…` for hashes and addresses).
mod text {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One requested service (the contract's `ServiceLine`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SubmissionLine {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Modifiers.
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// Units.
    pub quantity: u32,
    /// First day of service (ms).
    pub from_ms: u64,
    /// Last day of service (ms).
    pub to_ms: u64,
    /// CMS place of service.
    pub place_of_service: String,
}

/// The preauthorization a provider seals to the payer (its JSON form is what
/// `salus verify-decision --submission` reads; the commitment is over its SCALE encoding).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SealedSubmission {
    /// The trace handle on chain.
    #[serde(with = "text")]
    pub trace_handle: Hash,
    /// The payer.
    #[serde(with = "text")]
    pub payer: Address,
    /// Member (salted hash of the member id).
    #[serde(with = "text")]
    pub member: Hash,
    /// Servicing provider's NPI (the network edit reads it): the requester's own, or on a
    /// referral that of `servicing_provider`; the agent asks the registry to attest it.
    pub servicing_npi: String,
    /// On a referral, the servicing provider (X12 278 loop 2010F); `None`: the requester.
    #[serde(default, with = "optional_text")]
    pub servicing_provider: Option<Address>,
    /// `Standard` or `Expedited`, as on chain.
    pub priority: String,
    /// Services.
    pub lines: Vec<SubmissionLine>,
    /// ICD-10-CM diagnoses.
    pub diagnoses: Vec<String>,
    /// Templates of the attached documents (the documentation edit reads them).
    #[serde(default)]
    pub attachment_templates: Vec<String>,
}

impl SealedSubmission {
    /// `submission_commitment`: the commitment to the submission's SCALE encoding.
    pub fn commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(SUBMISSION, salt, self)
    }

    /// The lines as the rules read them.
    pub fn service_lines(&self) -> Vec<coverage_rules::ServiceLine> {
        self.lines
            .iter()
            .map(|line| coverage_rules::ServiceLine {
                procedure: line.procedure.clone(),
                modifiers: line.modifiers.clone(),
                quantity: line.quantity,
                from_ms: line.from_ms,
                to_ms: line.to_ms,
                place_of_service: line.place_of_service.clone(),
            })
            .collect()
    }

    /// The attachments as the rules read them (templates only: the rules read nothing else).
    ///
    /// # Errors
    /// [`AgentError::File`] for a template that is not a `0x…` hash.
    pub fn attachments(&self) -> Result<Vec<coverage_rules::Attachment>, AgentError> {
        self.attachment_templates
            .iter()
            .map(|template| {
                Ok(coverage_rules::Attachment {
                    template: template.parse().map_err(|error| {
                        AgentError::File(format!("template {template}: {error}"))
                    })?,
                    record: Hash([0; 32]),
                })
            })
            .collect()
    }
}

/// Serde of an optional hash or address as `0x…` text or `null`.
mod optional_text {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Option::<String>::deserialize(deserializer)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// One claim line (837 SV1/SV2, simplified).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ClaimLineRecord {
    /// CPT or HCPCS code.
    pub procedure: String,
    /// Units.
    pub quantity: u32,
    /// Date of service (ms).
    pub service_ms: u64,
    /// ICD-10-CM diagnoses the line points to.
    #[serde(default)]
    pub diagnoses: Vec<String>,
}

/// The claim a billing provider seals to the payer (the chain holds its handle, line count
/// and `claim_commitment`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SealedClaim {
    /// The claim handle on chain.
    #[serde(with = "text")]
    pub claim_handle: Hash,
    /// The payer.
    #[serde(with = "text")]
    pub payer: Address,
    /// Member (salted hash of the member id).
    #[serde(with = "text")]
    pub member: Hash,
    /// The authorisation's trace handle, if cited.
    #[serde(default, with = "optional_text")]
    pub trace_handle: Option<Hash>,
    /// The lines.
    pub lines: Vec<ClaimLineRecord>,
}

impl SealedClaim {
    /// `claim_commitment`: the commitment to the claim's SCALE encoding.
    pub fn commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(CLAIM, salt, self)
    }
}

/// Documentation a provider delivers for a pended request (`add_documentation`): the templates
/// of the documents attached (the documentation edit reads them).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SealedDocumentation {
    /// The request's trace handle.
    #[serde(with = "text")]
    pub trace_handle: Hash,
    /// Templates of the attached documents (`0x…`).
    pub attachment_templates: Vec<String>,
}

impl SealedDocumentation {
    /// `documentation_commitment`: the commitment to its SCALE encoding.
    pub fn commitment(&self, salt: &CommitmentSalt) -> Hash {
        commit_value(DOCUMENTATION, salt, self)
    }
}

/// The inbox file of the `index`th documentation of request `handle` (from 0, in the order of
/// the request's `documentation` on chain): `<inbox>/<hex>.documentation-<index>.sealed`.
pub fn documentation_file(inbox: &Path, handle: &Hash, index: usize) -> PathBuf {
    inbox.join(format!(
        "{}.documentation-{index}.sealed",
        hex::encode(handle.0)
    ))
}

/// What a documentation delivery is bound to: the handle and its index.
fn documentation_binding(handle: &Hash, index: usize) -> Vec<u8> {
    let mut binding = handle.0.to_vec();
    binding.extend_from_slice(b"documentation");
    binding.extend_from_slice(&(index as u32).to_be_bytes());
    binding
}

/// Seals the `index`th documentation of a request and the salt of its commitment to the
/// payer's registered key.
///
/// # Errors
/// [`AgentError::Unopenable`] when sealing fails.
pub fn seal_documentation(
    documentation: &SealedDocumentation,
    index: usize,
    salt: &CommitmentSalt,
    payer_key: &ReplyKey,
) -> Result<Vec<u8>, AgentError> {
    let plaintext = zeroize::Zeroizing::new((documentation, salt.as_bytes()).encode());
    Ok(seal(
        &PublicKey::from(payer_key.public_key),
        payer_key.version,
        &plaintext,
        &documentation_binding(&documentation.trace_handle, index),
    )?)
}

/// Opens the `index`th documentation delivery of request `handle`.
///
/// # Errors
/// As [`open_delivery`].
pub fn open_documentation(
    secret: &StaticSecret,
    sealed: &[u8],
    handle: &Hash,
    index: usize,
) -> Result<(SealedDocumentation, CommitmentSalt), AgentError> {
    let plaintext = open(secret, sealed, &documentation_binding(handle, index))?;
    let (documentation, salt) = <(SealedDocumentation, [u8; 32])>::decode(&mut &plaintext[..])
        .map_err(|error| AgentError::Undecodable(error.to_string()))?;
    Ok((documentation, CommitmentSalt::from_bytes(salt)))
}

/// Seals `claim` and the salt of its commitment to the payer's registered key, bound to the
/// claim handle: what the billing provider delivers (`<claim handle hex>.sealed` in the inbox).
///
/// # Errors
/// [`AgentError::Unopenable`] when sealing fails.
pub fn seal_claim(
    claim: &SealedClaim,
    salt: &CommitmentSalt,
    payer_key: &ReplyKey,
) -> Result<Vec<u8>, AgentError> {
    let plaintext = zeroize::Zeroizing::new((claim, salt.as_bytes()).encode());
    Ok(seal(
        &PublicKey::from(payer_key.public_key),
        payer_key.version,
        &plaintext,
        &claim.claim_handle.0,
    )?)
}

/// Opens a claim delivery for `handle` with the payer's secret.
///
/// # Errors
/// As [`open_delivery`].
pub fn open_claim(
    secret: &StaticSecret,
    sealed: &[u8],
    handle: &Hash,
) -> Result<(SealedClaim, CommitmentSalt), AgentError> {
    let plaintext = open(secret, sealed, &handle.0)?;
    let (claim, salt) = <(SealedClaim, [u8; 32])>::decode(&mut &plaintext[..])
        .map_err(|error| AgentError::Undecodable(error.to_string()))?;
    Ok((claim, CommitmentSalt::from_bytes(salt)))
}

/// The three salts of a decision: of the submission's commitment (the provider's), of the
/// inputs' and of the outcome's (the agent's). As JSON: `{"submission": "0x…", "inputs": …,
/// "outcome": …}`.
#[derive(Clone, Debug)]
pub struct Salts {
    /// `submission_commitment`'s salt.
    pub submission: CommitmentSalt,
    /// `inputs_commitment`'s salt.
    pub inputs: CommitmentSalt,
    /// `outcome_commitment`'s salt.
    pub outcome: CommitmentSalt,
}

#[derive(Serialize, Deserialize)]
struct SaltsFile {
    submission: String,
    inputs: String,
    outcome: String,
}

fn salt_text(salt: &CommitmentSalt) -> String {
    format!("0x{}", hex::encode(salt.as_bytes()))
}

fn salt_of(text: &str) -> Result<CommitmentSalt, AgentError> {
    let bytes = hex::decode(text.trim_start_matches("0x"))
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| AgentError::File(format!("not a 32-byte salt: {text}")))?;
    Ok(CommitmentSalt::from_bytes(bytes))
}

impl Salts {
    /// Writes the salts as JSON to `path` (readable only by its owner on Unix).
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), AgentError> {
        let file = SaltsFile {
            submission: salt_text(&self.submission),
            inputs: salt_text(&self.inputs),
            outcome: salt_text(&self.outcome),
        };
        let text = serde_json::to_string_pretty(&file).expect("strings serialise");
        std::fs::write(path, text)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// Reads salts written by [`Salts::write`].
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be read or is malformed.
    pub fn read(path: &Path) -> Result<Salts, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
        let file: SaltsFile = serde_json::from_str(&text)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
        Ok(Salts {
            submission: salt_of(&file.submission)?,
            inputs: salt_of(&file.inputs)?,
            outcome: salt_of(&file.outcome)?,
        })
    }
}

/// The inbox file of the request `handle`: `<inbox>/<lowercase hex>.sealed`.
pub fn inbox_file(inbox: &Path, handle: &Hash) -> PathBuf {
    inbox.join(format!("{}.sealed", hex::encode(handle.0)))
}

/// Where the agent keeps the salts of its decision on `handle`: `<inbox>/<hex>.salts.json`.
pub fn salts_file(inbox: &Path, handle: &Hash) -> PathBuf {
    inbox.join(format!("{}.salts.json", hex::encode(handle.0)))
}

/// Where the agent keeps the records its decision on `handle` read (the member's and the
/// network): `<inbox>/<hex>.records.json`, what `salus verify-decision --records` takes.
pub fn records_file(inbox: &Path, handle: &Hash) -> PathBuf {
    inbox.join(format!("{}.records.json", hex::encode(handle.0)))
}

/// Seals `submission` and the salt of its commitment to the payer's registered key, bound to
/// the handle: what the provider delivers.
///
/// # Errors
/// [`AgentError::Unopenable`] when sealing fails (a low-order key, no randomness).
pub fn seal_delivery(
    submission: &SealedSubmission,
    salt: &CommitmentSalt,
    payer_key: &ReplyKey,
) -> Result<Vec<u8>, AgentError> {
    let plaintext = zeroize::Zeroizing::new((submission, salt.as_bytes()).encode());
    Ok(seal(
        &PublicKey::from(payer_key.public_key),
        payer_key.version,
        &plaintext,
        &submission.trace_handle.0,
    )?)
}

/// Opens a delivery for the request `handle` with the payer's secret.
///
/// # Errors
/// [`AgentError::Unopenable`] when it does not open (another key, another handle, changed);
/// [`AgentError::Undecodable`] when its content is not a submission and salt.
pub fn open_delivery(
    secret: &StaticSecret,
    sealed: &[u8],
    handle: &Hash,
) -> Result<(SealedSubmission, CommitmentSalt), AgentError> {
    let plaintext = open(secret, sealed, &handle.0)?;
    let (submission, salt) = <(SealedSubmission, [u8; 32])>::decode(&mut &plaintext[..])
        .map_err(|error| AgentError::Undecodable(error.to_string()))?;
    Ok((submission, CommitmentSalt::from_bytes(salt)))
}
