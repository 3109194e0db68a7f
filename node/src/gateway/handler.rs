//! One request through the gateway (docs/PRIVACY.md §5.6): the checks in order, each refusal
//! its own [`GatewayError`], then the consent dry run, the disclosure on chain, and the sealed
//! reply.

use std::path::PathBuf;

use parity_scale_codec::{DecodeLimit, Encode};
use salus_client::x25519_dalek::PublicKey;
use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use super::ledger::{AccessDecision, Ledger, LedgerError, PeriodAnswer};
use super::nonces::{NonceCache, NonceError};
use super::request::{RequestSignatureError, SignedGatewayRequest};
use super::store::{RecordStore, StoreError};

/// How far a request's `time_ms` may be from the gateway's clock, either way: five minutes,
/// room for clocks a little apart and a slow network, and the window a nonce is remembered for.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// Most nonces remembered at once: at most this many requests are answered per freshness window
/// (ten minutes, the skew either way), about 160 a second; past it requests are refused as busy
/// rather than any nonce forgotten. 64 bytes each: about 6 MiB.
pub const MAX_NONCES: usize = 100_000;

/// Largest request body: a request is a few hundred bytes (two short codes, addresses, keys).
pub const MAX_REQUEST_BYTES: usize = 4096;

/// Deepest nesting decoded in a request (it has none beyond its fields).
const DECODE_DEPTH_LIMIT: u32 = 8;

/// Why a request was refused. Each has a stable code (the `error` field of the JSON body) and
/// an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The body is not a SCALE-encoded signed request (or is too large).
    #[error("the body is not a signed gateway request: {0}")]
    Malformed(String),
    /// The signature is invalid or not the requester's.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The request is for another chain or another custodian's gateway.
    #[error("the request is for chain {chain_id} and gateway {gateway}, not this one")]
    WrongGateway {
        /// The chain it names.
        chain_id: u64,
        /// The gateway it names.
        gateway: Address,
    },
    /// `time_ms` is more than [`MAX_CLOCK_SKEW_MS`] from the gateway's clock.
    #[error("stale request: signed at {time_ms} ms, the gateway's clock is at {now_ms} ms")]
    Stale {
        /// The request's time.
        time_ms: u64,
        /// The gateway's clock.
        now_ms: u64,
    },
    /// The nonce was seen within the window.
    #[error("replayed request: this nonce of the requester was already answered")]
    Replayed,
    /// Too many live nonces: try again later.
    #[error("busy: too many requests within the freshness window")]
    Busy,
    /// The store holds no record under the handle.
    #[error("unknown record {0}")]
    UnknownRecord(Hash),
    /// Neither an active registered participant nor the record's patient.
    #[error("unknown requester {0}: not an active registered participant, nor the patient")]
    UnknownRequester(Address),
    /// A registered requester's reply key is not its current registered key.
    #[error(
        "the reply key is not the requester's current registered key (registered: {registered})"
    )]
    ReplyKeyNotRegistered {
        /// The registered key's version, or `none`.
        registered: String,
    },
    /// Consent denies (the dry run at the gateway's head).
    #[error("consent denies: {}", describe(.0))]
    ConsentDenied(AccessDecision),
    /// The contract denied at the block that included the disclosure (a consent revoked since
    /// the dry run); recorded on the patient's trail, nothing released.
    #[error("consent denied at inclusion: {}", describe(.0))]
    DeniedAtInclusion(AccessDecision),
    /// Consent refused to decide the request (an unknown role code, an over-long purpose: its
    /// typed error).
    #[error("consent refused the request: {0}")]
    Invalid(String),
    /// The chain could not answer, or refused the disclosure transaction.
    #[error("the ledger: {0}")]
    Ledger(LedgerError),
    /// The gateway failed (its store, its randomness).
    #[error("the gateway failed: {0}")]
    Internal(String),
}

/// A decision's reason with the deciding consent and provision, when there is one.
fn describe(decision: &AccessDecision) -> String {
    match decision.consent {
        Some((id, version)) => format!(
            "{} (consent {id} version {version}, provision {:?})",
            decision.reason, decision.provision_path
        ),
        None => decision.reason.clone(),
    }
}

impl GatewayError {
    /// The stable code naming the error in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::Malformed(_) => "malformed_request",
            GatewayError::BadSignature(_) => "bad_signature",
            GatewayError::WrongGateway { .. } => "wrong_gateway",
            GatewayError::Stale { .. } => "stale_request",
            GatewayError::Replayed => "replayed_request",
            GatewayError::Busy => "busy",
            GatewayError::UnknownRecord(_) => "unknown_record",
            GatewayError::UnknownRequester(_) => "unknown_requester",
            GatewayError::ReplyKeyNotRegistered { .. } => "reply_key_not_registered",
            GatewayError::ConsentDenied(_) => "consent_denied",
            GatewayError::DeniedAtInclusion(_) => "consent_denied_at_inclusion",
            GatewayError::Invalid(_) => "invalid_request",
            GatewayError::Ledger(LedgerError::NotIncluded(_)) => "not_included",
            GatewayError::Ledger(LedgerError::Refused(_)) => "ledger_refused",
            GatewayError::Ledger(_) => "ledger_unavailable",
            GatewayError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::Malformed(_)
            | GatewayError::WrongGateway { .. }
            | GatewayError::Invalid(_) => 400,
            GatewayError::BadSignature(_) | GatewayError::Stale { .. } => 401,
            GatewayError::UnknownRequester(_)
            | GatewayError::ReplyKeyNotRegistered { .. }
            | GatewayError::ConsentDenied(_)
            | GatewayError::DeniedAtInclusion(_) => 403,
            GatewayError::UnknownRecord(_) => 404,
            GatewayError::Replayed => 409,
            GatewayError::Busy => 503,
            GatewayError::Ledger(LedgerError::NotIncluded(_)) => 504,
            GatewayError::Ledger(_) => 502,
            GatewayError::Internal(_) => 500,
        }
    }

    /// The JSON body: `{"error": code, "message": …}`, and for a consent denial the decision
    /// (`reason`, `consent`, `provisionPath`).
    pub fn body(&self) -> Value {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let GatewayError::ConsentDenied(decision) | GatewayError::DeniedAtInclusion(decision) =
            self
        {
            body["reason"] = json!(decision.reason);
            body["consent"] = json!(decision.consent);
            body["provisionPath"] = json!(decision.provision_path);
        }
        body
    }
}

impl From<StoreError> for GatewayError {
    fn from(error: StoreError) -> GatewayError {
        GatewayError::Internal(error.to_string())
    }
}

/// A released record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The resource sealed to the reply key, bound to the request hash.
    pub sealed: Vec<u8>,
    /// The request hash (on the patient's trail).
    pub request: Hash,
    /// The `record_disclosure` transaction.
    pub transaction: String,
    /// Its block.
    pub block: u64,
}

impl Release {
    /// The JSON body of the reply.
    pub fn body(&self) -> Value {
        json!({
            "sealed": format!("0x{}", hex::encode(&self.sealed)),
            "request": self.request.to_string(),
            "transaction": self.transaction,
            "block": self.block,
        })
    }
}

/// A custodian's gateway: its store, the chain, and the nonces seen.
pub struct Gateway<L> {
    chain_id: u64,
    custodian: Address,
    store: RecordStore,
    ledger: L,
    nonces: std::sync::Mutex<NonceCache>,
    /// Where the signed requests answered are kept (`<request hash>.scale`): the custodian's
    /// copy of what the hash on the patient's trail names.
    requests_dir: PathBuf,
}

impl<L: Ledger> Gateway<L> {
    /// A gateway for `custodian` on chain `chain_id`, serving `store`, deciding on `ledger`,
    /// keeping answered requests in `requests_dir` (created if missing).
    ///
    /// # Errors
    /// When `requests_dir` cannot be created.
    pub fn new(
        chain_id: u64,
        custodian: Address,
        store: RecordStore,
        ledger: L,
        requests_dir: PathBuf,
    ) -> std::io::Result<Gateway<L>> {
        std::fs::create_dir_all(&requests_dir)?;
        Ok(Gateway {
            chain_id,
            custodian,
            store,
            ledger,
            nonces: std::sync::Mutex::new(NonceCache::new(MAX_CLOCK_SKEW_MS, MAX_NONCES)),
            requests_dir,
        })
    }

    /// The custodian it serves.
    pub fn custodian(&self) -> Address {
        self.custodian
    }

    /// The chain it serves.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Answers the body of one `POST /v1/records` at the gateway's clock `now_ms`.
    ///
    /// # Errors
    /// The first check that fails, as its [`GatewayError`].
    pub async fn handle(&self, body: &[u8], now_ms: u64) -> Result<Release, GatewayError> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(GatewayError::Malformed(format!(
                "{} bytes; at most {MAX_REQUEST_BYTES}",
                body.len()
            )));
        }
        let signed =
            SignedGatewayRequest::decode_all_with_depth_limit(DECODE_DEPTH_LIMIT, &mut &body[..])
                .map_err(|error| GatewayError::Malformed(error.to_string()))?;
        let request_hash = signed.verify().map_err(|error| match error {
            RequestSignatureError::Invalid(_) | RequestSignatureError::NotTheRequester { .. } => {
                GatewayError::BadSignature(error.to_string())
            }
        })?;
        let request = &signed.request;
        if request.chain_id != self.chain_id || request.gateway != self.custodian {
            return Err(GatewayError::WrongGateway {
                chain_id: request.chain_id,
                gateway: request.gateway,
            });
        }
        if request.time_ms.abs_diff(now_ms) > MAX_CLOCK_SKEW_MS {
            return Err(GatewayError::Stale {
                time_ms: request.time_ms,
                now_ms,
            });
        }
        self.nonces
            .lock()
            .expect("the nonce cache's lock is never held across a panic")
            .check_and_insert(request.requester, request.nonce, request.time_ms, now_ms)
            .map_err(|error| match error {
                NonceError::Replayed => GatewayError::Replayed,
                NonceError::Full => GatewayError::Busy,
            })?;
        let (resource, meta) = self
            .store
            .get(&request.record)?
            .ok_or(GatewayError::UnknownRecord(request.record))?;
        if request.requester != meta.patient {
            if !self
                .ledger
                .is_active(request.requester)
                .await
                .map_err(GatewayError::Ledger)?
            {
                return Err(GatewayError::UnknownRequester(request.requester));
            }
            let registered = self
                .ledger
                .encryption_key(request.requester)
                .await
                .map_err(GatewayError::Ledger)?;
            if registered != Some(request.reply_key) {
                return Err(GatewayError::ReplyKeyNotRegistered {
                    registered: registered
                        .map_or_else(|| "none".to_string(), |key| key.version.to_string()),
                });
            }
        }
        // The record's date against every data period the patient's consents commit to that
        // the custodian holds (PRIVACY.md §5.4): one answer per commitment.
        let answers: Vec<PeriodAnswer> = self
            .store
            .periods(&meta.patient)?
            .into_iter()
            .map(|(commitment, period)| PeriodAnswer {
                commitment,
                inside: period.contains(meta.date_ms),
            })
            .collect();
        let dry_run =
            self.ledger
                .can_access(request, &answers)
                .await
                .map_err(|error| match error {
                    LedgerError::Refused(why) => GatewayError::Invalid(why),
                    other => GatewayError::Ledger(other),
                })?;
        if !dry_run.permits() {
            return Err(GatewayError::ConsentDenied(dry_run));
        }
        self.keep_request(&request_hash, &signed)?;
        let disclosure = self
            .ledger
            .record_disclosure(request, request_hash, &answers)
            .await
            .map_err(GatewayError::Ledger)?;
        if !disclosure.decision.permits() {
            return Err(GatewayError::DeniedAtInclusion(disclosure.decision));
        }
        let sealed = salus_client::seal(
            &PublicKey::from(request.reply_key.public_key),
            request.reply_key.version,
            &resource,
            &request_hash.0,
        )
        .map_err(|error| GatewayError::Internal(error.to_string()))?;
        Ok(Release {
            sealed,
            request: request_hash,
            transaction: disclosure.transaction,
            block: disclosure.block,
        })
    }

    /// Keeps the signed request the disclosure will name, before it is submitted: the hash on
    /// the patient's trail always has its request at the custodian.
    fn keep_request(&self, hash: &Hash, signed: &SignedGatewayRequest) -> Result<(), GatewayError> {
        let path = self
            .requests_dir
            .join(format!("{}.scale", hex::encode(hash.0)));
        match crate::keystore::write_private_file(&path, &signed.encode()) {
            Ok(()) => Ok(()),
            Err(error) => Err(GatewayError::Internal(format!(
                "{}: {error}",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use salus_client::x25519_dalek::StaticSecret;
    use salus_primitives::SecretKey;
    use salus_primitives::keys::{DEV_MNEMONIC, derive_key};

    use super::*;
    use crate::gateway::ledger::{Decision, Disclosure};
    use crate::gateway::request::{GatewayRequest, ReplyKey};
    use crate::gateway::store::RecordMeta;

    const NOW_MS: u64 = 1_800_000_000_000;
    const CHAIN_ID: u64 = 7357;

    fn decision(decision: Decision, reason: &str) -> AccessDecision {
        AccessDecision {
            decision,
            consent: Some((3, 1)),
            provision_path: vec![0],
            reason: reason.into(),
            break_glass: None,
        }
    }

    /// A chain as the handler sees it: who is active, their keys, and what consent decides at
    /// the dry run and again at inclusion (different when a consent was revoked in between).
    struct FakeLedger {
        active: Vec<Address>,
        keys: HashMap<Address, ReplyKey>,
        dry_run: AccessDecision,
        at_inclusion: AccessDecision,
        disclosed: Mutex<Vec<Hash>>,
        /// The date answers each call carried, in order.
        answered: Mutex<Vec<Vec<PeriodAnswer>>>,
    }

    impl Ledger for FakeLedger {
        async fn is_active(&self, who: Address) -> Result<bool, LedgerError> {
            Ok(self.active.contains(&who))
        }
        async fn encryption_key(&self, who: Address) -> Result<Option<ReplyKey>, LedgerError> {
            Ok(self.keys.get(&who).copied())
        }
        async fn can_access(
            &self,
            _request: &GatewayRequest,
            answers: &[PeriodAnswer],
        ) -> Result<AccessDecision, LedgerError> {
            self.answered.lock().unwrap().push(answers.to_vec());
            Ok(self.dry_run.clone())
        }
        async fn record_disclosure(
            &self,
            _request: &GatewayRequest,
            request_hash: Hash,
            answers: &[PeriodAnswer],
        ) -> Result<Disclosure, LedgerError> {
            self.answered.lock().unwrap().push(answers.to_vec());
            self.disclosed.lock().unwrap().push(request_hash);
            Ok(Disclosure {
                decision: self.at_inclusion.clone(),
                transaction: "0x01".into(),
                block: 9,
            })
        }
    }

    struct Setup {
        gateway: Gateway<FakeLedger>,
        custodian: SecretKey,
        doctor: SecretKey,
        doctor_secret: StaticSecret,
        patient: SecretKey,
        record: Hash,
        _dir: tempfile::TempDir,
    }

    const RESOURCE: &[u8] = br#"{"resourceType":"Observation","status":"final"}"#;

    fn setup(dry_run: AccessDecision, at_inclusion: AccessDecision) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (custodian, doctor, patient) = (
            derive_key(DEV_MNEMONIC, 5).unwrap(),
            derive_key(DEV_MNEMONIC, 6).unwrap(),
            derive_key(DEV_MNEMONIC, 7).unwrap(),
        );
        let doctor_secret = StaticSecret::from([0x42; 32]);
        let store = RecordStore::open(&dir.path().join("store")).unwrap();
        let record = store
            .put(
                RESOURCE,
                &RecordMeta {
                    patient: patient.address(),
                    author: custodian.address(),
                    labels: vec!["N".into()],
                    date_salt: String::new(),
                    class: "Observation".into(),
                    date_ms: 0,
                },
            )
            .unwrap();
        let ledger = FakeLedger {
            active: vec![custodian.address(), doctor.address()],
            keys: HashMap::from([(
                doctor.address(),
                ReplyKey {
                    public_key: PublicKey::from(&doctor_secret).to_bytes(),
                    version: 2,
                },
            )]),
            dry_run,
            at_inclusion,
            disclosed: Mutex::new(Vec::new()),
            answered: Mutex::new(Vec::new()),
        };
        let gateway = Gateway::new(
            CHAIN_ID,
            custodian.address(),
            store,
            ledger,
            dir.path().join("requests"),
        )
        .unwrap();
        Setup {
            gateway,
            custodian,
            doctor,
            doctor_secret,
            patient,
            record,
            _dir: dir,
        }
    }

    impl Setup {
        fn doctor_request(&self) -> GatewayRequest {
            GatewayRequest {
                chain_id: CHAIN_ID,
                gateway: self.custodian.address(),
                record: self.record,
                purpose: "TREAT".into(),
                role: "PRCP".into(),
                requester: self.doctor.address(),
                reply_key: ReplyKey {
                    public_key: PublicKey::from(&self.doctor_secret).to_bytes(),
                    version: 2,
                },
                nonce: [1; 16],
                time_ms: NOW_MS,
            }
        }

        async fn send(
            &self,
            request: GatewayRequest,
            key: &SecretKey,
        ) -> Result<Release, GatewayError> {
            self.gateway
                .handle(&request.sign(key).encode(), NOW_MS)
                .await
        }

        fn disclosed(&self) -> Vec<Hash> {
            self.gateway.ledger.disclosed.lock().unwrap().clone()
        }
    }

    fn permit() -> AccessDecision {
        decision(Decision::Permit, "permitted")
    }

    #[tokio::test]
    async fn the_records_date_is_answered_for_each_data_period_of_its_patient() {
        use crate::gateway::store::PeriodOpening;
        let s = setup(permit(), permit());
        let opening = |patient: Address, start_ms: i64, end_ms: i64, salt: u8| PeriodOpening {
            patient,
            start_ms,
            end_ms,
            salt: hex::encode([salt; 32]),
        };
        // The record is dated 0: inside the first period, outside the second; the third is
        // another patient's and is not answered.
        let patient = s.patient.address();
        let inside = s
            .gateway
            .store
            .put_period(&opening(patient, -5, 5, 1))
            .unwrap();
        let outside = s
            .gateway
            .store
            .put_period(&opening(patient, 5, 50, 2))
            .unwrap();
        s.gateway
            .store
            .put_period(&opening(Address([9; 20]), -5, 5, 3))
            .unwrap();
        s.send(s.doctor_request(), &s.doctor).await.unwrap();
        let mut expected = vec![
            PeriodAnswer {
                commitment: inside,
                inside: true,
            },
            PeriodAnswer {
                commitment: outside,
                inside: false,
            },
        ];
        expected.sort_by_key(|answer| answer.commitment.0);
        assert_eq!(
            *s.gateway.ledger.answered.lock().unwrap(),
            vec![expected.clone(), expected],
            "the dry run and the disclosure carry the same answers"
        );
    }

    #[tokio::test]
    async fn a_permitted_request_is_released_sealed_to_the_reply_key_and_bound_to_its_hash() {
        let s = setup(permit(), permit());
        let request = s.doctor_request();
        let release = s.send(request.clone(), &s.doctor).await.unwrap();
        assert_eq!(release.request, request.hash());
        assert_eq!(s.disclosed(), vec![request.hash()]);
        let opened = salus_client::open(&s.doctor_secret, &release.sealed, &request.hash().0)
            .expect("opens with the requester's key and the request hash");
        assert_eq!(&opened[..], RESOURCE);
        assert!(salus_client::open(&s.doctor_secret, &release.sealed, &[0; 32]).is_err());
        assert!(
            salus_client::open(
                &StaticSecret::from([7; 32]),
                &release.sealed,
                &request.hash().0
            )
            .is_err()
        );
    }

    #[tokio::test]
    async fn each_bad_request_is_refused_with_its_own_error_and_nothing_is_disclosed() {
        let s = setup(permit(), permit());
        let base = s.doctor_request();
        let with_nonce = |nonce: u8| GatewayRequest {
            nonce: [nonce; 16],
            ..base.clone()
        };
        let codes = [
            (s.send(with_nonce(2), &s.patient).await, "bad_signature"),
            (
                s.send(
                    GatewayRequest {
                        gateway: s.doctor.address(),
                        ..with_nonce(3)
                    },
                    &s.doctor,
                )
                .await,
                "wrong_gateway",
            ),
            (
                s.send(
                    GatewayRequest {
                        time_ms: NOW_MS - MAX_CLOCK_SKEW_MS - 1,
                        ..with_nonce(4)
                    },
                    &s.doctor,
                )
                .await,
                "stale_request",
            ),
            (
                s.send(
                    GatewayRequest {
                        record: Hash([9; 32]),
                        ..with_nonce(5)
                    },
                    &s.doctor,
                )
                .await,
                "unknown_record",
            ),
            (
                s.send(
                    GatewayRequest {
                        reply_key: ReplyKey {
                            public_key: [8; 32],
                            version: 2,
                        },
                        ..with_nonce(6)
                    },
                    &s.doctor,
                )
                .await,
                "reply_key_not_registered",
            ),
        ];
        for (outcome, code) in codes {
            assert_eq!(outcome.map(|_| ()).map_err(|e| e.code()), Err(code));
        }
        let stranger = derive_key(DEV_MNEMONIC, 8).unwrap();
        let unknown = GatewayRequest {
            requester: stranger.address(),
            ..with_nonce(7)
        };
        let refused = s.send(unknown, &stranger).await.unwrap_err();
        assert_eq!(
            (refused.code(), refused.status()),
            ("unknown_requester", 403)
        );
        s.send(with_nonce(8), &s.doctor).await.unwrap();
        let replayed = s.send(with_nonce(8), &s.doctor).await.unwrap_err();
        assert_eq!(
            (replayed.code(), replayed.status()),
            ("replayed_request", 409)
        );
        assert_eq!(
            s.gateway
                .handle(b"\x01\x02", NOW_MS)
                .await
                .unwrap_err()
                .code(),
            "malformed_request"
        );
        assert_eq!(
            s.disclosed().len(),
            1,
            "only the good request was disclosed"
        );
    }

    #[tokio::test]
    async fn the_patient_is_known_without_registration_and_sends_its_own_key() {
        let s = setup(permit(), permit());
        let secret = StaticSecret::from([0x33; 32]);
        let request = GatewayRequest {
            requester: s.patient.address(),
            role: "PAT".into(),
            reply_key: ReplyKey {
                public_key: PublicKey::from(&secret).to_bytes(),
                version: 0,
            },
            ..s.doctor_request()
        };
        let release = s.send(request.clone(), &s.patient).await.unwrap();
        let opened = salus_client::open(&secret, &release.sealed, &request.hash().0).unwrap();
        assert_eq!(&opened[..], RESOURCE);
    }

    #[tokio::test]
    async fn a_dry_run_deny_is_refused_with_the_reason_and_never_reaches_the_chain() {
        let s = setup(decision(Decision::Deny, "denied by provision"), permit());
        let refused = s.send(s.doctor_request(), &s.doctor).await.unwrap_err();
        assert_eq!((refused.code(), refused.status()), ("consent_denied", 403));
        let body = refused.body();
        assert_eq!(body["reason"], "denied by provision");
        assert_eq!(body["provisionPath"], json!([0]));
        assert_eq!(body["consent"], json!([3, 1]));
        assert!(s.disclosed().is_empty());
    }

    #[tokio::test]
    async fn a_consent_revoked_after_the_dry_run_is_denied_at_inclusion_and_nothing_released() {
        let s = setup(permit(), decision(Decision::Deny, "no consent"));
        let request = s.doctor_request();
        let refused = s.send(request.clone(), &s.doctor).await.unwrap_err();
        assert_eq!(refused.code(), "consent_denied_at_inclusion");
        assert_eq!(refused.body()["reason"], "no consent");
        assert_eq!(
            s.disclosed(),
            vec![request.hash()],
            "the denial is on chain"
        );
    }
}
