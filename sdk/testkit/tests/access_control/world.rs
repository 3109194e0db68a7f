//! The network every row of the matrix is probed on: the four contracts, a cast of participants
//! (one per role and relationship, plus an unregistered stranger), and one object of every kind
//! in a known state — a record, consents, a delegation, a break-glass session, coverage with
//! pended, certified and denied sealed requests and a claim, and drug units owned, shipped, in transit,
//! packed and under investigation. Each probe runs on a fork of it.

use std::collections::BTreeMap;

use consent::{Action, Decision, Provision};
use coverage::{
    ADVERSE_REVIEWER_ROLE, ActionCode, Coverage, CoverageStatus, Edit, EditReason, PlanType,
    PostedLine, Priority, Reason, Rule,
};
use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::{Address, Hash};
use salus_testkit::{CallResult, TestChain};
use supply::Epc;

pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The participants of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Party {
    /// The registry's attesting authority (dev account 0), itself not a participant.
    Authority,
    /// A regulator or court (registry role `Authority`).
    Regulator,
    /// A hospital: custodian of the patient's record, break-glass organisation, requester of
    /// preauthorizations and submitter of claims.
    Hospital,
    /// Another provider organisation, author of the consents it proposes to the patient.
    Clinic,
    /// A hospital physician: the agent of recorded accesses, break-glass member and actor,
    /// prescriber.
    Doctor,
    /// The hospital's privacy officer, reviewer of break-glass sessions.
    PrivacyOfficer,
    /// The patient (registry role `Patient`), member of the payer's plan.
    Patient,
    /// The patient's guardian, a delegate for access and treatment only.
    Guardian,
    /// The patient's payer.
    Payer,
    /// A payer the patient has no coverage with.
    OtherPayer,
    /// The payer's utilisation-management nurse, a clinician reviewer.
    Nurse,
    /// The manufacturer of the product (holder of its GS1 company prefix).
    Manufacturer,
    /// The wholesaler owning the units in stock.
    Wholesaler,
    /// The pharmacy (dispenser).
    Pharmacy,
    /// A third-party logistics provider.
    Logistics,
    /// A repackager with its own product, holding units it bought from the wholesaler.
    Repackager,
    /// An address the registry has never heard of.
    Stranger,
}

impl Party {
    pub const ALL: [Party; 17] = [
        Party::Authority,
        Party::Regulator,
        Party::Hospital,
        Party::Clinic,
        Party::Doctor,
        Party::PrivacyOfficer,
        Party::Patient,
        Party::Guardian,
        Party::Payer,
        Party::OtherPayer,
        Party::Nurse,
        Party::Manufacturer,
        Party::Wholesaler,
        Party::Pharmacy,
        Party::Logistics,
        Party::Repackager,
        Party::Stranger,
    ];

    /// The roles the registry attests for the party (empty: not registered).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Party::Authority | Party::Guardian | Party::Stranger => &[],
            Party::Regulator => &[Role::Authority],
            Party::Hospital | Party::Clinic => &[Role::ProviderOrganisation],
            Party::Doctor | Party::PrivacyOfficer => &[Role::Practitioner],
            Party::Nurse => &[ADVERSE_REVIEWER_ROLE],
            Party::Patient => &[Role::Patient],
            Party::Payer | Party::OtherPayer => &[Role::Payer],
            Party::Manufacturer => &[Role::Manufacturer],
            Party::Wholesaler => &[Role::WholesaleDistributor],
            Party::Pharmacy => &[Role::Dispenser],
            Party::Logistics => &[Role::ThirdPartyLogistics],
            Party::Repackager => &[Role::Repackager],
        }
    }

    fn npi(self) -> Option<&'static str> {
        match self {
            Party::Hospital => Some(HOSPITAL_NPI),
            Party::Clinic => Some(CLINIC_NPI),
            Party::Doctor => Some("1245319599"),
            Party::PrivacyOfficer => Some("1679576722"),
            Party::Nurse => Some("1306849450"),
            _ => None,
        }
    }

    fn company_prefix(self) -> Option<&'static str> {
        match self {
            Party::Manufacturer => Some(MAKER_PREFIX),
            Party::Repackager => Some(REPACKAGER_PREFIX),
            _ => None,
        }
    }
}

pub const HOSPITAL_NPI: &str = "1234567893";
pub const CLINIC_NPI: &str = "1987654325";
pub const GTIN: &str = "00312345678906";
/// A second GTIN under the manufacturer's company prefix, not yet registered.
pub const NEW_GTIN: &str = "00312345678913";
pub const NDC: &str = "12345-678-90";
pub const LOT: &str = "L1";
/// `03` and the NDC labeler code `12345` that `GTIN` carries.
const MAKER_PREFIX: &str = "0312345";
/// The repackager's product: NDC 54321-123-45 under its company prefix `0354321`.
pub const REPACKAGED_GTIN: &str = "00354321123451";
const REPACKAGER_PREFIX: &str = "0354321";
/// The wholesaler's case of S5 and S6.
pub const CASE: &str = "006141410000000012";
/// Free SSCCs (valid check digits).
pub const NEW_CASE: &str = "006141410000000029";
pub const NEW_PALLET: &str = "106141410000009005";
pub const LOCATION: &str = "urn:epc:id:sgln:0614141.00001.0";
pub const MEMBER: Hash = Hash([0x4d; 32]);
/// Sealed requests by trace handle (docs/PRIVACY.md §5.5): one pended by the payer's agent,
/// one certified, one denied by the nurse.
pub const PENDED: Hash = Hash([0xe1; 32]);
pub const CERTIFIED: Hash = Hash([0xe2; 32]);
pub const DENIED: Hash = Hash([0xe3; 32]);
/// A claim by handle, submitted by the hospital and not yet checked.
pub const CLAIM: Hash = Hash([0xc1; 32]);

/// The relay contract: calls `input[0..20]` with `input[20..]` and all its fuel, then returns the
/// callee's return data, or reverts with the callee's revert message.
const RELAY: &str = r#"(module
  (import "salus" "input_len" (func $input_len (result i32)))
  (import "salus" "input_read" (func $input_read (param i32)))
  (import "salus" "call" (func $call (param i32 i32 i32 i32 i64) (result i32)))
  (import "salus" "call_result_len" (func $call_result_len (result i32)))
  (import "salus" "call_result_read" (func $call_result_read (param i32)))
  (import "salus" "set_return" (func $set_return (param i32 i32)))
  (import "salus" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 8)
  (func (export "call")
    (local $length i32) (local $status i32) (local $answer i32)
    (local.set $length (call $input_len))
    (call $input_read (i32.const 1024))
    ;; value: the 16 zero bytes at 0
    (local.set $status
      (call $call (i32.const 1024) (i32.const 1044)
        (i32.sub (local.get $length) (i32.const 20)) (i32.const 0) (i64.const 0)))
    (local.set $answer (call $call_result_len))
    (call $call_result_read (i32.const 262144))
    (if (i32.eqz (local.get $status))
      (then (call $set_return (i32.const 262144) (local.get $answer)))
      (else (call $revert (i32.const 262144) (local.get $answer))))))"#;

/// The network in its starting state.
#[derive(Clone)]
pub struct World {
    pub chain: TestChain,
    parties: BTreeMap<Party, Address>,
    pub registry: Address,
    pub consent: Address,
    pub coverage: Address,
    pub supply: Address,
    /// A relay: any contract a participant might call, which calls on with the input it is given
    /// (`target ‖ message input`) and returns or reverts with the callee's answer.
    pub relay: Address,
    /// The patient's record, held by the hospital.
    pub record: Hash,
    /// The patient's active consent (within the guardian's scope).
    pub active_consent: u64,
    /// A consent the clinic proposed to the patient.
    pub proposed_consent: u64,
    /// A draft the clinic is still writing.
    pub draft_consent: u64,
    /// The doctor's open break-glass session at the hospital.
    pub session: u64,
    /// The units' expiry (ms).
    pub expiry: u64,
    /// The prescription the doctor wrote for the patient, as a dispenser presents it: its
    /// handle (all the chain holds) and opening (salt, commitment to the patient's details), in
    /// `dispense`'s argument order.
    pub prescription: (Hash, Hash, Hash),
    /// The wholesaler's shipment of S3 to the pharmacy, not yet received.
    pub pending_shipment: u64,
    /// The investigation the pharmacy opened by sighting S7.
    pub case: u64,
    /// The wholesaler's receiving event of S1.
    pub receiving_event: u64,
    /// S8, placed by the wholesaler with the 3PL and sold by it to the pharmacy: the sale the
    /// 3PL is to dispatch.
    pub sale: u64,
}

fn code(text: &str) -> String {
    text.to_string()
}

pub fn unit(serial: &str) -> Epc {
    Epc::Unit(GTIN.into(), serial.into())
}

/// The arguments of consent's `register_record` for `record` of `patient` written by `author`:
/// an Observation without labels, as blinded tags of a fixed test blinding key (padded to one
/// block), a date commitment and the relationship's subject handle.
pub fn record_registration(
    record: Hash,
    patient: Address,
    author: Address,
) -> (Hash, Address, Vec<Hash>, Hash, Hash, Address, Hash) {
    const BLINDING: [u8; 32] = [0xb1; 32];
    let mut filler = 0u8;
    let label_tags = consent::label_tags(&BLINDING, &[], || {
        filler += 1;
        [filler; 32]
    });
    (
        record,
        patient,
        label_tags,
        consent::blinded_tag(&BLINDING, "Observation"),
        Hash([0xda; 32]),
        author,
        consent::subject_handle(&BLINDING),
    )
}

/// The provision the patient's consents carry: access for treatment.
pub fn treatment_access() -> Provision {
    Provision {
        kind: Decision::Permit,
        period: None,
        actors: vec![],
        custodians: vec![],
        authors: vec![],
        roles: vec![],
        actions: vec![Action::Access],
        purposes: vec![code("TREAT")],
        label_tags: vec![],
        class_tags: vec![],
        records: vec![],
        data_period_commitment: None,
        children: vec![],
    }
}

/// The terms of a consent, encoded as each message that records one takes them.
#[derive(Clone)]
pub struct ConsentTerms {
    pub patient: Address,
    pub scope: String,
    pub category: String,
    pub period: consent::Period,
    pub base: Decision,
    pub provisions: Vec<Provision>,
    pub source: Hash,
}

impl ConsentTerms {
    /// The arguments of `grant` (superseding nothing).
    pub fn grant(&self) -> Vec<u8> {
        let mut arguments = self.common();
        None::<u64>.encode_to(&mut arguments);
        arguments
    }

    /// The arguments of `import_signed`, signed at `signed_ms`.
    pub fn import_signed(&self, signed_ms: i64) -> Vec<u8> {
        let mut arguments = self.grant();
        signed_ms.encode_to(&mut arguments);
        arguments
    }

    /// The arguments of `propose`, as a draft or proposed.
    pub fn propose(&self, draft: bool) -> Vec<u8> {
        let mut arguments = self.common();
        draft.encode_to(&mut arguments);
        arguments
    }

    fn common(&self) -> Vec<u8> {
        (
            self.patient,
            &self.scope,
            &self.category,
            &self.period,
            &self.base,
            &self.provisions,
            self.source,
        )
            .encode()
    }
}

impl World {
    pub fn address(&self, party: Party) -> Address {
        self.parties[&party]
    }

    pub fn now(&self) -> u64 {
        self.chain.timestamp_ms()
    }

    /// `party` calls `message` of `contract`; panics unless it succeeds (set-up steps).
    pub fn must(
        &mut self,
        party: Party,
        contract: Address,
        message: &str,
        arguments: &impl Encode,
    ) -> CallResult {
        let from = self.address(party);
        let result = self.chain.call(from, contract, message, arguments);
        assert!(
            result.is_success(),
            "set-up: {party:?} {message}: {:?}",
            result.receipt.status
        );
        result
    }

    /// The registry's authority suspends `party`.
    pub fn suspend(&mut self, party: Party) {
        let (registry, who) = (self.registry, self.address(party));
        self.must(
            Party::Authority,
            registry,
            "suspend",
            &(who, Hash([0x5u8; 32])),
        );
    }

    /// The registry's authority ends `party`'s licence now: it is still registered and in good
    /// standing, but not licensed from the next block on.
    pub fn expire_licence(&mut self, party: Party) {
        let (registry, who, now) = (self.registry, self.address(party), self.now());
        self.must(
            Party::Authority,
            registry,
            "renew_licence",
            &(who, now, Hash([0xe1; 32])),
        );
    }

    /// A posted line (action, reason code, units).
    pub fn posted(action: ActionCode, reason: Option<&str>, quantity: u32) -> PostedLine {
        PostedLine {
            action,
            reason: reason.map(code),
            quantity,
        }
    }

    /// Builds the network.
    pub fn new() -> World {
        let mut chain = TestChain::new();
        let authority = chain.account(0);
        let registry = chain
            .deploy(authority, salus_contracts::REGISTRY, "new", &authority)
            .unwrap();
        let consent = chain
            .deploy(
                authority,
                salus_contracts::CONSENT,
                "new",
                &(registry, Decision::Deny),
            )
            .unwrap();
        let coverage = chain
            .deploy(
                authority,
                salus_contracts::COVERAGE,
                "new",
                &(registry, consent),
            )
            .unwrap();
        let supply = chain
            .deploy(authority, salus_contracts::SUPPLY, "new", &registry)
            .unwrap();
        let relay = chain
            .deploy(
                authority,
                &wat::parse_str(RELAY).expect("valid WAT"),
                "new",
                &(),
            )
            .unwrap();
        let mut parties = BTreeMap::new();
        for party in Party::ALL {
            let address = if party == Party::Authority {
                authority
            } else {
                chain.new_account(10u128.pow(20))
            };
            parties.insert(party, address);
        }
        let expiry = chain.timestamp_ms() + 700 * DAY_MS;
        let mut w = World {
            chain,
            parties,
            registry,
            consent,
            coverage,
            supply,
            relay,
            record: Hash([0x11; 32]),
            active_consent: 0,
            proposed_consent: 0,
            draft_consent: 0,
            session: 0,
            expiry,
            prescription: {
                let (salt, inner) = (Hash([0x7a; 32]), Hash([0x7c; 32]));
                (supply::prescription_handle(&salt, NDC, &inner), salt, inner)
            },
            pending_shipment: 0,
            case: 0,
            receiving_event: 0,
            sale: 0,
        };
        w.register_cast();
        w.set_up_consent();
        w.set_up_coverage();
        w.set_up_supply();
        w
    }

    fn register_cast(&mut self) {
        let now = self.now();
        for party in Party::ALL {
            if party.roles().is_empty() {
                continue;
            }
            let arguments = (
                self.address(party),
                party.roles().to_vec(),
                party.npi().map(code),
                Some(code("0614141000012")),
                party.company_prefix().map(code),
                0u64,
                now + 3650 * DAY_MS,
                Hash([1; 32]),
            );
            let registry = self.registry;
            self.must(Party::Authority, registry, "register", &arguments);
        }
        let registry = self.registry;
        self.must(
            Party::Hospital,
            registry,
            "set_encryption_key",
            &Hash([0x5d; 32]),
        );
    }

    fn consent_period(&self, days: u64) -> consent::Period {
        consent::Period {
            start_ms: (self.now() - DAY_MS) as i64,
            end_ms: (self.now() + days * DAY_MS) as i64,
        }
    }

    /// A treatment-access consent for the patient, within the guardian's scope.
    pub fn treatment_consent(&self) -> ConsentTerms {
        ConsentTerms {
            patient: self.address(Party::Patient),
            scope: code("patient-privacy"),
            category: code("59284-0"),
            period: self.consent_period(365),
            base: Decision::Deny,
            provisions: vec![treatment_access()],
            source: Hash([9; 32]),
        }
    }

    /// `party` calls `message` with `arguments` already encoded; panics unless it succeeds.
    pub fn must_raw(
        &mut self,
        party: Party,
        contract: Address,
        message: &str,
        arguments: Vec<u8>,
    ) -> CallResult {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        let from = self.address(party);
        let result = self.chain.call_raw(from, contract, input);
        assert!(
            result.is_success(),
            "set-up: {party:?} {message}: {:?}",
            result.receipt.status
        );
        result
    }

    fn set_up_consent(&mut self) {
        let consent = self.consent;
        let patient = self.address(Party::Patient);
        let (record, doctor) = (self.record, self.address(Party::Doctor));
        self.must(
            Party::Hospital,
            consent,
            "register_record",
            &record_registration(record, patient, doctor),
        );
        let guardian = self.address(Party::Guardian);
        let delegation = (
            patient,
            guardian,
            code("GUARD"),
            vec![Action::Access],
            vec![code("TREAT")],
            self.consent_period(365),
            Hash([0xd1; 32]),
        );
        self.must(Party::Authority, consent, "attest_delegation", &delegation);
        let terms = self.treatment_consent();
        let granted = self.must_raw(Party::Patient, consent, "grant", terms.grant());
        self.active_consent = granted.decode::<u64>();
        for draft in [false, true] {
            let proposed = self.must_raw(Party::Clinic, consent, "propose", terms.propose(draft));
            let id = proposed.decode::<u64>();
            if draft {
                self.draft_consent = id;
            } else {
                self.proposed_consent = id;
            }
        }
        let (doctor, officer) = (
            self.address(Party::Doctor),
            self.address(Party::PrivacyOfficer),
        );
        self.must(
            Party::Hospital,
            consent,
            "set_break_glass_policy",
            &(vec![doctor], 0u64, officer, true),
        );
        let hospital = self.address(Party::Hospital);
        let declared = self.must(
            Party::Doctor,
            consent,
            "declare_break_glass",
            &(
                hospital,
                patient,
                code("ETREAT"),
                Hash([0xb6; 32]),
                3_600_000u64,
            ),
        );
        self.session = declared
            .decode::<Option<u64>>()
            .expect("the doctor is in the group");
    }

    pub fn rules(&self) -> Vec<Rule> {
        vec![
            Rule::prior_authorisation(1, "62", ("70551", "70553"), false),
            Rule::prior_authorisation(2, "PT", ("97110", "97140"), true),
        ]
    }

    pub fn reasons(&self) -> Vec<EditReason> {
        [
            (Edit::NotEligible, "0U"),
            (Edit::Network, "0N"),
            (Edit::Age, "0A"),
            (Edit::Sex, "0S"),
            (Edit::PlaceOfService, "0P"),
            (Edit::Diagnosis, "0D"),
            (Edit::Quantity, "0Q"),
            (Edit::Documentation, "0M"),
            (Edit::ClinicalReview, "0R"),
            (Edit::Extension, "0E"),
        ]
        .into_iter()
        .map(|(edit, reason_code)| EditReason {
            edit,
            reason: Reason {
                code: reason_code.into(),
                text: format!("reason {reason_code}"),
            },
        })
        .collect()
    }

    pub fn coverage_record(&self) -> Coverage {
        Coverage {
            beneficiary: self.address(Party::Patient),
            plan_type: PlanType::Hmo,
            period: coverage::Period {
                start_ms: self.now() - DAY_MS,
                end_ms: self.now() + 365 * DAY_MS,
            },
            status: CoverageStatus::Active,
        }
    }

    fn set_up_coverage(&mut self) {
        let coverage = self.coverage;
        let record = self.coverage_record();
        self.must(Party::Payer, coverage, "set_coverage", &(MEMBER, record));
        let effective = coverage::Period {
            start_ms: self.now() - DAY_MS,
            end_ms: self.now() + 730 * DAY_MS,
        };
        let (rules, reasons) = (self.rules(), self.reasons());
        self.must(
            Party::Payer,
            coverage,
            "publish_rules",
            &(Hash([0x90; 32]), effective, rules, reasons),
        );
        let nurse = self.address(Party::Nurse);
        self.must(Party::Payer, coverage, "set_reviewer", &(nurse, true));
        let payer = self.address(Party::Payer);
        // The hospital posts three sealed requests; the payer's agent pends two and certifies
        // one; the nurse, a clinician, denies one of the pended.
        for (trace, agent) in [
            (PENDED, Self::posted(ActionCode::A4, Some("0R"), 0)),
            (CERTIFIED, Self::posted(ActionCode::A1, None, 1)),
            (DENIED, Self::posted(ActionCode::A4, Some("0R"), 0)),
        ] {
            let skeleton = (
                trace,
                payer,
                MEMBER,
                Priority::Standard,
                1u32,
                Hash([0x5b; 32]),
            );
            self.must(Party::Hospital, coverage, "submit_sealed", &skeleton);
            let post = (trace, vec![agent], 1u32, Hash([0x5c; 32]), Hash([0x5d; 32]));
            self.must(Party::Payer, coverage, "post_decision", &post);
        }
        let denial = vec![Self::posted(ActionCode::A3, Some("0R"), 0)];
        let post = (DENIED, denial, 1u32, Hash([0x5c; 32]), Hash([0x5d; 32]));
        self.must(Party::Nurse, coverage, "post_decision", &post);
        let claim = (CLAIM, payer, MEMBER, None::<Hash>, 1u32, Hash([0xc4; 32]));
        self.must(Party::Hospital, coverage, "submit_claim", &claim);
    }

    /// A request of the hospital denied by a clinician of the payer who is none of the cast,
    /// and appealed by the hospital: neither the payer nor the nurse decided it, so either may
    /// decide the appeal (42 CFR 422.590(h)(2)).
    pub fn appealed_request(&mut self) -> Hash {
        let (coverage, registry, payer) =
            (self.coverage, self.registry, self.address(Party::Payer));
        let clinician = self.chain.new_account(10u128.pow(18));
        let now = self.now();
        let registration = (
            clinician,
            vec![ADVERSE_REVIEWER_ROLE],
            Some(code("1003000126")),
            None::<String>,
            None::<String>,
            0u64,
            now + 3650 * DAY_MS,
            Hash([1; 32]),
        );
        self.must(Party::Authority, registry, "register", &registration);
        self.must(Party::Payer, coverage, "set_reviewer", &(clinician, true));
        let trace = Hash([0xe4; 32]);
        let skeleton = (
            trace,
            payer,
            MEMBER,
            Priority::Standard,
            1u32,
            Hash([0x5b; 32]),
        );
        self.must(Party::Hospital, coverage, "submit_sealed", &skeleton);
        let pended = vec![Self::posted(ActionCode::A4, Some("0R"), 0)];
        let post = (trace, pended, 1u32, Hash([0x5c; 32]), Hash([0x5d; 32]));
        self.must(Party::Payer, coverage, "post_decision", &post);
        let denial = vec![Self::posted(ActionCode::A3, Some("0R"), 0)];
        let post = (trace, denial, 1u32, Hash([0x5c; 32]), Hash([0x5d; 32]));
        let denied = self.chain.call(clinician, coverage, "post_decision", &post);
        assert!(denied.is_success(), "{:?}", denied.receipt.status);
        self.must(
            Party::Hospital,
            coverage,
            "appeal",
            &(trace, Hash([0xa9; 32])),
        );
        trace
    }

    pub fn ship_arguments(
        &self,
        epcs: Vec<Epc>,
        to: Party,
    ) -> (Vec<Epc>, Address, Vec<(String, Hash)>, String) {
        (
            epcs,
            self.address(to),
            vec![(code("po"), Hash([4; 32]))],
            code(LOCATION),
        )
    }

    /// `from` ships (`ship`: a sale) or consigns (`consign`: custody only) `epcs` to `to`,
    /// who receives them all.
    pub fn deliver(&mut self, from: Party, how: &str, epcs: Vec<Epc>, to: Party) {
        let supply = self.supply;
        let arguments = match how {
            "ship" => self.ship_arguments(epcs.clone(), to).encode(),
            _ => (epcs.clone(), self.address(to), code(LOCATION)).encode(),
        };
        let sent = self.must_raw(from, supply, how, arguments);
        let shipment = sent.decode::<u64>();
        self.must(to, supply, "receive", &(shipment, epcs, code(LOCATION)));
    }

    fn set_up_supply(&mut self) {
        let supply = self.supply;
        self.must(
            Party::Manufacturer,
            supply,
            "register_product",
            &(
                code(GTIN),
                code(NDC),
                code("Amoxicillin"),
                code("500 mg"),
                code("capsule"),
                code("30"),
            ),
        );
        let serials: Vec<String> = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]
            .into_iter()
            .map(code)
            .collect();
        self.must(
            Party::Manufacturer,
            supply,
            "commission",
            &(code(GTIN), code(LOT), self.expiry, serials, code(LOCATION)),
        );
        self.must(
            Party::Manufacturer,
            supply,
            "pack",
            &(
                code(CASE),
                vec![(code(GTIN), code("S5")), (code(GTIN), code("S6"))],
                code(LOCATION),
            ),
        );
        let stock = vec![
            unit("S1"),
            unit("S2"),
            unit("S3"),
            unit("S4"),
            unit("S7"),
            unit("S8"),
            unit("S9"),
            Epc::Case(CASE.into()),
        ];
        self.deliver(Party::Manufacturer, "ship", stock, Party::Wholesaler);
        self.deliver(Party::Wholesaler, "ship", vec![unit("S2")], Party::Pharmacy);
        // The repackager buys S9 and registers its own product.
        self.deliver(
            Party::Wholesaler,
            "ship",
            vec![unit("S9")],
            Party::Repackager,
        );
        self.must(
            Party::Repackager,
            supply,
            "register_product",
            &(
                code(REPACKAGED_GTIN),
                code("54321-123-45"),
                code("Amoxicillin"),
                code("500 mg"),
                code("capsule"),
                code("7"),
            ),
        );
        // S8 goes to the 3PL's warehouse, and the wholesaler sells it to the pharmacy from
        // there.
        self.deliver(
            Party::Wholesaler,
            "consign",
            vec![unit("S8")],
            Party::Logistics,
        );
        let pharmacy = self.address(Party::Pharmacy);
        self.sale = self
            .must(
                Party::Wholesaler,
                supply,
                "sell",
                &(
                    vec![unit("S8")],
                    pharmacy,
                    vec![(code("po"), Hash([5; 32]))],
                ),
            )
            .decode::<u64>();
        let in_transit = self.ship_arguments(vec![unit("S3")], Party::Pharmacy);
        self.pending_shipment = self
            .must(Party::Wholesaler, supply, "ship", &in_transit)
            .decode::<u64>();
        let sighted = self.must(
            Party::Pharmacy,
            supply,
            "report_sighting",
            &(code(GTIN), code("S7"), code(LOCATION)),
        );
        assert!(sighted.decode::<bool>(), "the sighting opens a case");
        self.case = 0;
        let patient = self.address(Party::Patient);
        let prescription = (self.prescription.0, 1u32, self.now() + 30 * DAY_MS);
        self.must(Party::Doctor, supply, "prescribe", &prescription);
        let s1: Option<supply::Unit> =
            self.chain
                .view(patient, supply, "unit", &(code(GTIN), code("S1")));
        self.receiving_event = s1.expect("commissioned").last_event;
    }
}
