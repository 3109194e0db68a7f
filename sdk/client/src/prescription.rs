//! Prescriptions from the prescriber's and the patient's wallets (docs/PRIVACY.md §5.5
//! "Supply"): the prescriber builds a [`Prescription`] — the patient's details, the product's
//! NDC, fills and expiry, two fresh salts — posts only its [`handle`](Prescription::handle) with
//! the supply contract's `prescribe(handle, fills, expires_ms)`, and hands out copies sealed
//! ([`crate::seal`]) to the patient's wallet and to the dispensing pharmacy. The pharmacy
//! [`open`]s its copy, which checks the copy against its handle, compares the patient in front
//! of it with [`PatientDetails`], and presents [`Prescription::dispense_opening`] with the
//! contract's `dispense`, which recomputes the handle with the NDC of the unit dispensed.
//!
//! # Handle and patient commitment
//!
//! ```text
//! inner  = commit(PRESCRIPTION_PATIENT (0x30), patient_salt, SCALE(PatientDetails))
//!        = keccak256("salus/commit/v1" ‖ 0x30 ‖ patient_salt ‖ SCALE(name, birth_date))
//! handle = keccak256("salus/rx/v1" ‖ salt ‖ ndc ‖ inner)      (supply::prescription_handle)
//! ```
//!
//! `inner` commits to what the pharmacy can check against the person it serves — the name and
//! date of birth on their identity document — and to nothing the chain knows (no address, no
//! pseudonym): both salts are new for every prescription, so two prescriptions of one patient
//! share no value on chain, and `inner` (sent with `dispense`) cannot be tested against a
//! guessed name and date of birth without `patient_salt`, which never goes on chain.
//!
//! # Sealed copy
//!
//! A copy is [`SealedPrescription`]: the handle in clear and a box sealed to the recipient's
//! X25519 key with associated data `"salus/rx/v1" ‖ handle`, holding
//! `SCALE(PRESCRIPTION_FORMAT, Prescription)`. [`open`] refuses a box that does not open for
//! its handle and a content whose recomputed handle is not it.

use parity_scale_codec::{Decode, Encode};
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, Hash};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::seal::randomness::RandomnessError;
use crate::seal::{self, CommitmentKind, CommitmentSalt, SealError};

/// Domain of the handle (the supply contract's `PRESCRIPTION_HANDLE_DOMAIN`) and of a sealed
/// copy's associated data.
pub const PRESCRIPTION_DOMAIN: &[u8] = b"salus/rx/v1";

/// The version of a sealed copy's plaintext this module writes and reads (its first byte).
pub const PRESCRIPTION_FORMAT: u8 = 1;

/// The patient as the prescriber names them and the pharmacy checks them: as on an identity
/// document. What `inner` commits to.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PatientDetails {
    /// Full name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
}

/// A prescription with everything that opens its handle. Secret: the sealed copies carry it to
/// the patient and the pharmacy; the chain gets the handle alone.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Prescription {
    /// The prescriber (the practitioner who posts `prescribe`).
    pub prescriber: Address,
    /// The product's NDC exactly as the product is registered in supply.
    pub ndc: String,
    /// Fills allowed.
    pub fills: u32,
    /// Valid until (ms since the epoch, exclusive).
    pub expires_ms: u64,
    /// The patient.
    pub patient: PatientDetails,
    /// The handle's salt (presented with `dispense`).
    pub salt: Hash,
    /// The salt of `inner`, the commitment to [`Prescription::patient`] (never on chain).
    pub patient_salt: Hash,
}

/// Why a prescription copy was refused.
#[derive(Debug, thiserror::Error)]
pub enum PrescriptionError {
    /// The box does not open with this key for this handle, or is not a box.
    #[error("the prescription copy does not open: {0}")]
    Seal(#[from] SealError),
    /// The opened content is not a prescription this build reads.
    #[error("the prescription copy is malformed: {0}")]
    Malformed(String),
    /// The content's recomputed handle is not the handle it was given under: another product,
    /// patient or salt than the one prescribed.
    #[error("the prescription does not open its handle {expected}: it opens {actual}")]
    HandleMismatch {
        /// The handle the copy claims (and the chain knows).
        expected: Hash,
        /// The handle of its content.
        actual: Hash,
    },
    /// The operating system's random source failed.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
}

/// `keccak256("salus/rx/v1" ‖ salt ‖ ndc ‖ inner)`: the handle the supply contract stores and
/// recomputes at dispensing (`supply::prescription_handle`).
pub fn prescription_handle(salt: &Hash, ndc: &str, inner: &Hash) -> Hash {
    keccak256_concat(&[PRESCRIPTION_DOMAIN, &salt.0, ndc.as_bytes(), &inner.0])
}

/// The commitment `inner` to `patient` under `patient_salt` (kind
/// [`CommitmentKind::PRESCRIPTION_PATIENT`]).
pub fn patient_commitment(patient: &PatientDetails, patient_salt: &Hash) -> Hash {
    seal::commit_value(
        CommitmentKind::PRESCRIPTION_PATIENT,
        &CommitmentSalt::from_bytes(patient_salt.0),
        patient,
    )
}

/// What `dispense` takes besides the unit: the handle and its opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispenseOpening {
    /// The prescription's handle.
    pub handle: Hash,
    /// The handle's salt.
    pub salt: Hash,
    /// The commitment to the patient's details.
    pub inner: Hash,
}

impl Prescription {
    /// A new prescription with fresh random salts.
    ///
    /// # Errors
    /// [`RandomnessError`] when the operating system's random source fails.
    pub fn new(
        prescriber: Address,
        ndc: String,
        fills: u32,
        expires_ms: u64,
        patient: PatientDetails,
    ) -> Result<Prescription, RandomnessError> {
        Ok(Prescription {
            prescriber,
            ndc,
            fills,
            expires_ms,
            patient,
            salt: Hash(*CommitmentSalt::random()?.as_bytes()),
            patient_salt: Hash(*CommitmentSalt::random()?.as_bytes()),
        })
    }

    /// `inner`: the commitment to the patient's details.
    pub fn inner(&self) -> Hash {
        patient_commitment(&self.patient, &self.patient_salt)
    }

    /// The handle that goes on chain.
    pub fn handle(&self) -> Hash {
        prescription_handle(&self.salt, &self.ndc, &self.inner())
    }

    /// The handle and opening `dispense` takes.
    pub fn dispense_opening(&self) -> DispenseOpening {
        let inner = self.inner();
        DispenseOpening {
            handle: prescription_handle(&self.salt, &self.ndc, &inner),
            salt: self.salt,
            inner,
        }
    }

    /// Whether this prescription opens `handle`.
    ///
    /// # Errors
    /// [`PrescriptionError::HandleMismatch`] when it does not.
    pub fn check_handle(&self, handle: &Hash) -> Result<(), PrescriptionError> {
        let actual = self.handle();
        if actual == *handle {
            Ok(())
        } else {
            Err(PrescriptionError::HandleMismatch {
                expected: *handle,
                actual,
            })
        }
    }

    /// Whether `patient` is the patient this prescription commits to (the pharmacy's check of
    /// the person in front of it).
    pub fn is_for(&self, patient: &PatientDetails) -> bool {
        patient_commitment(patient, &self.patient_salt) == self.inner()
    }

    /// A copy sealed to `recipient` (its key version `key_version`: the registry's for a
    /// pharmacy's registered key, 0 for a patient's pseudonym key), under this prescription's
    /// handle.
    ///
    /// # Errors
    /// As [`seal::seal`].
    pub fn seal_to(
        &self,
        recipient: &PublicKey,
        key_version: u32,
    ) -> Result<SealedPrescription, SealError> {
        let handle = self.handle();
        let plaintext = zeroize::Zeroizing::new((PRESCRIPTION_FORMAT, self).encode());
        let sealed = seal::seal(
            recipient,
            key_version,
            &plaintext,
            &associated_data(&handle),
        )?;
        Ok(SealedPrescription { handle, sealed })
    }
}

/// A prescription's copy for one recipient: its handle and the box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedPrescription {
    /// The handle (as on chain).
    pub handle: Hash,
    /// The box ([`crate::seal`]), sealed to the recipient with associated data
    /// `"salus/rx/v1" ‖ handle`.
    pub sealed: Vec<u8>,
}

impl SealedPrescription {
    /// The copy as a JSON file's contents: `{"format": "salus/rx/v1", "handle": "0x…",
    /// "sealed": "0x…"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "format": "salus/rx/v1",
            "handle": self.handle.to_string(),
            "sealed": format!("0x{}", hex::encode(&self.sealed)),
        })
    }

    /// A copy from [`SealedPrescription::to_json`]'s form.
    ///
    /// # Errors
    /// [`PrescriptionError::Malformed`] when a field is missing or not hex.
    pub fn from_json(value: &serde_json::Value) -> Result<SealedPrescription, PrescriptionError> {
        let malformed = |what: &str| PrescriptionError::Malformed(what.to_string());
        if value["format"].as_str() != Some("salus/rx/v1") {
            return Err(malformed("not a salus/rx/v1 prescription copy"));
        }
        let handle = value["handle"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| malformed("no handle"))?;
        let sealed = value["sealed"]
            .as_str()
            .and_then(|text| hex::decode(text.trim_start_matches("0x")).ok())
            .ok_or_else(|| malformed("no sealed box"))?;
        Ok(SealedPrescription { handle, sealed })
    }
}

/// `"salus/rx/v1" ‖ handle`: what a copy's box is bound to.
fn associated_data(handle: &Hash) -> Vec<u8> {
    [PRESCRIPTION_DOMAIN, &handle.0[..]].concat()
}

/// Opens a copy with the recipient's secret and checks its content against its handle.
///
/// # Errors
/// [`PrescriptionError::Seal`] when the box does not open (another key, another handle, a
/// changed byte); [`PrescriptionError::Malformed`] for content this build does not read;
/// [`PrescriptionError::HandleMismatch`] when the content does not open the handle.
pub fn open(
    secret: &StaticSecret,
    copy: &SealedPrescription,
) -> Result<Prescription, PrescriptionError> {
    let plaintext = seal::open(secret, &copy.sealed, &associated_data(&copy.handle))?;
    let (format, prescription) = <(u8, Prescription)>::decode(&mut &plaintext[..])
        .map_err(|error| PrescriptionError::Malformed(error.to_string()))?;
    if format != PRESCRIPTION_FORMAT {
        return Err(PrescriptionError::Malformed(format!(
            "format {format} (format {PRESCRIPTION_FORMAT} is read)"
        )));
    }
    prescription.check_handle(&copy.handle)?;
    Ok(prescription)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> PatientDetails {
        PatientDetails {
            name: "Ada Lovelace".into(),
            birth_date: "1815-12-10".into(),
        }
    }

    fn prescription() -> Prescription {
        Prescription::new(
            Address([3; 20]),
            "12345-678-90".into(),
            2,
            1_900_000_000_000,
            patient(),
        )
        .unwrap()
    }

    fn keypair(seed: u8) -> (StaticSecret, PublicKey) {
        let secret = StaticSecret::from([seed; 32]);
        let public = PublicKey::from(&secret);
        (secret, public)
    }

    #[test]
    fn the_handle_and_inner_commitment_are_the_documented_hashes() {
        let rx = Prescription {
            salt: Hash([0x11; 32]),
            patient_salt: Hash([0x22; 32]),
            ..prescription()
        };
        let mut inner_preimage = b"salus/commit/v1".to_vec();
        inner_preimage.push(0x30);
        inner_preimage.extend_from_slice(&[0x22; 32]);
        inner_preimage.extend_from_slice(&("Ada Lovelace", "1815-12-10").encode());
        let inner = salus_primitives::keccak256(&inner_preimage);
        assert_eq!(rx.inner(), inner);
        // The supply contract's own definition (its unit test spells the same preimage).
        let mut preimage = b"salus/rx/v1".to_vec();
        preimage.extend_from_slice(&[0x11; 32]);
        preimage.extend_from_slice(b"12345-678-90");
        preimage.extend_from_slice(&inner.0);
        assert_eq!(rx.handle(), salus_primitives::keccak256(&preimage));
        assert_eq!(
            rx.dispense_opening(),
            DispenseOpening {
                handle: rx.handle(),
                salt: Hash([0x11; 32]),
                inner,
            }
        );
    }

    #[test]
    fn a_copy_opens_for_its_recipient_and_gives_the_dispense_opening() {
        let rx = prescription();
        let (secret, public) = keypair(7);
        let copy = rx.seal_to(&public, 2).unwrap();
        assert_eq!(copy.handle, rx.handle());
        let back = SealedPrescription::from_json(&copy.to_json()).unwrap();
        assert_eq!(back, copy);
        let opened = open(&secret, &back).unwrap();
        assert_eq!(opened, rx);
        assert!(opened.is_for(&patient()));
        assert!(!opened.is_for(&PatientDetails {
            birth_date: "1815-12-11".into(),
            ..patient()
        }));
        // Another recipient's secret opens nothing.
        assert!(matches!(
            open(&keypair(8).0, &copy),
            Err(PrescriptionError::Seal(SealError::WrongKeyOrTampered))
        ));
    }

    #[test]
    fn another_ndc_patient_or_salt_fails_the_handle_check() {
        let rx = prescription();
        let handle = rx.handle();
        rx.check_handle(&handle).unwrap();
        let tampered = [
            Prescription {
                ndc: "12345-678-91".into(),
                ..rx.clone()
            },
            Prescription {
                patient: PatientDetails {
                    name: "Ada King".into(),
                    ..patient()
                },
                ..rx.clone()
            },
            Prescription {
                salt: Hash([0; 32]),
                ..rx.clone()
            },
            Prescription {
                patient_salt: Hash([0; 32]),
                ..rx.clone()
            },
        ];
        for changed in tampered {
            assert!(
                matches!(
                    changed.check_handle(&handle),
                    Err(PrescriptionError::HandleMismatch { expected, .. }) if expected == handle
                ),
                "{changed:?}"
            );
        }
    }

    #[test]
    fn a_copy_whose_content_or_handle_was_changed_is_refused() {
        let rx = prescription();
        let (secret, public) = keypair(7);
        // Content for another NDC sealed under the original handle (anyone holding the
        // recipient's public key can seal): opens, but does not open the handle.
        let forged_content = Prescription {
            ndc: "12345-678-91".into(),
            ..rx.clone()
        };
        let forged = SealedPrescription {
            handle: rx.handle(),
            sealed: seal::seal(
                &public,
                0,
                &(PRESCRIPTION_FORMAT, &forged_content).encode(),
                &associated_data(&rx.handle()),
            )
            .unwrap(),
        };
        assert!(matches!(
            open(&secret, &forged),
            Err(PrescriptionError::HandleMismatch { .. })
        ));
        // A genuine box relabelled with another handle does not open.
        let mut relabelled = rx.seal_to(&public, 0).unwrap();
        relabelled.handle = Hash([9; 32]);
        assert!(matches!(
            open(&secret, &relabelled),
            Err(PrescriptionError::Seal(SealError::WrongKeyOrTampered))
        ));
        // Another format byte is refused.
        let other_format = SealedPrescription {
            handle: rx.handle(),
            sealed: seal::seal(
                &public,
                0,
                &(2u8, &rx).encode(),
                &associated_data(&rx.handle()),
            )
            .unwrap(),
        };
        assert!(matches!(
            open(&secret, &other_format),
            Err(PrescriptionError::Malformed(_))
        ));
    }

    #[test]
    fn two_prescriptions_of_one_patient_and_product_share_no_value_for_the_chain() {
        let (first, second) = (prescription(), prescription());
        assert_ne!(first.handle(), second.handle());
        assert_ne!(first.inner(), second.inner());
        assert_ne!(first.salt, second.salt);
    }
}
