//! The drug supply-chain contract (contracts/supply) through the six scenarios of DOMAIN.md §3
//! in the real VM, with the registry authorising trading partners.

use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, Hash};
use salus_testkit::TestChain;
use supply::{
    Classification, Container, Discrepancy, DispenseRefusal, Dispensing, Disposition, Epc,
    EpcisEvent, Investigation, Prescription, Recall, RecallClass, Unit, Verification,
    prescription_handle,
};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const GTIN: &str = "00312345678906";
const NDC: &str = "12345-678-90";
const LOT: &str = "L1";
/// The GS1 company prefix the registry attests for every manufacturer of these tests: `03` and
/// the NDC labeler code `12345` that `GTIN` carries.
const MAKER_PREFIX: &str = "0312345";

struct World {
    chain: TestChain,
    authority: Address,
    registry: Address,
    supply: Address,
    maker: Address,
    wholesaler: Address,
    pharmacy: Address,
    doctor: Address,
    expiry: u64,
}

/// Registers `who` in `role` for `days`; a manufacturer with the company prefix `MAKER_PREFIX`.
fn register(
    chain: &mut TestChain,
    authority: Address,
    registry: Address,
    who: Address,
    role: Role,
    days: u64,
) {
    let prefix = (role == Role::Manufacturer).then_some(MAKER_PREFIX);
    register_with_prefix(chain, authority, registry, who, role, days, prefix);
}

fn register_with_prefix(
    chain: &mut TestChain,
    authority: Address,
    registry: Address,
    who: Address,
    role: Role,
    days: u64,
    company_prefix: Option<&str>,
) {
    let now = chain.timestamp_ms();
    let arguments = (
        who,
        vec![role],
        None::<String>,
        Some("0614141000012".to_string()),
        company_prefix.map(str::to_string),
        0u64,
        now + days * DAY_MS,
        Hash([1; 32]),
    );
    assert!(
        chain
            .call(authority, registry, "register", &arguments)
            .is_success()
    );
}

fn world() -> World {
    let mut chain = TestChain::new();
    let authority = chain.account(0);
    let registry = chain
        .deploy(authority, salus_contracts::REGISTRY, "new", &authority)
        .unwrap();
    let supply = chain
        .deploy(authority, salus_contracts::SUPPLY, "new", &registry)
        .unwrap();
    let maker = chain.new_account(10u128.pow(20));
    let wholesaler = chain.new_account(10u128.pow(20));
    let pharmacy = chain.new_account(10u128.pow(20));
    let doctor = chain.new_account(10u128.pow(20));
    register(
        &mut chain,
        authority,
        registry,
        maker,
        Role::Manufacturer,
        3650,
    );
    register(
        &mut chain,
        authority,
        registry,
        wholesaler,
        Role::WholesaleDistributor,
        3650,
    );
    register(
        &mut chain,
        authority,
        registry,
        pharmacy,
        Role::Dispenser,
        3650,
    );
    register(
        &mut chain,
        authority,
        registry,
        doctor,
        Role::Practitioner,
        3650,
    );
    let product = (
        GTIN.to_string(),
        NDC.to_string(),
        "Amoxicillin".to_string(),
        "500 mg".to_string(),
        "capsule".to_string(),
        "30".to_string(),
    );
    assert!(
        chain
            .call(maker, supply, "register_product", &product)
            .is_success()
    );
    let expiry = chain.timestamp_ms() + 700 * DAY_MS;
    World {
        chain,
        authority,
        registry,
        supply,
        maker,
        wholesaler,
        pharmacy,
        doctor,
        expiry,
    }
}

fn unit(serial: &str) -> Epc {
    Epc::Unit(GTIN.into(), serial.into())
}

/// A prescription as the prescriber hands it over (sealed, off chain): its handle and the
/// opening a dispenser presents. SCALE-encodes as `handle ‖ salt ‖ inner`, the last three
/// arguments of `dispense`, so `(gtin, serial, lot, expiry_ms, rx)` encodes a `dispense` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode)]
struct Rx {
    handle: Hash,
    salt: Hash,
    inner: Hash,
}

impl Rx {
    /// A prescription of `ndc` for `patient`, its salt drawn from `seed` (a wallet draws 32
    /// random bytes). `inner` stands for the commitment to the patient's details a prescriber
    /// computes off chain (salted, so it says nothing either).
    fn new(seed: u8, ndc: &str, patient: Address) -> Rx {
        let salt = Hash([seed; 32]);
        let inner = keccak256_concat(&[b"test/patient-details", &patient.0, &[seed ^ 0x5a; 32]]);
        Rx {
            handle: prescription_handle(&salt, ndc, &inner),
            salt,
            inner,
        }
    }
}

impl World {
    fn commission(&mut self, serials: &[&str]) {
        let serials: Vec<String> = serials.iter().map(|s| s.to_string()).collect();
        let result = self.chain.call(
            self.maker,
            self.supply,
            "commission",
            &(
                GTIN.to_string(),
                LOT.to_string(),
                self.expiry,
                serials,
                "urn:gln:maker".to_string(),
            ),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
    }

    fn ship(&mut self, from: Address, epcs: Vec<Epc>, to: Address) -> u64 {
        self.chain
            .call(
                from,
                self.supply,
                "ship",
                &(
                    epcs,
                    to,
                    vec![("po".to_string(), Hash([4; 32]))],
                    "urn:gln:dock".to_string(),
                ),
            )
            .decode()
    }

    fn receive(&mut self, by: Address, shipment: u64, epcs: Vec<Epc>) -> bool {
        self.chain
            .call(
                by,
                self.supply,
                "receive",
                &(shipment, epcs, "urn:gln:receiving".to_string()),
            )
            .decode()
    }

    fn unit_state(&self, serial: &str) -> Unit {
        let state: Option<Unit> = self.chain.view(
            self.maker,
            self.supply,
            "unit",
            &(GTIN.to_string(), serial.to_string()),
        );
        state.expect("commissioned")
    }

    fn verify(&self, serial: &str, lot: &str, expiry: u64) -> Verification {
        self.chain.view(
            self.maker,
            self.supply,
            "verify",
            &(
                GTIN.to_string(),
                serial.to_string(),
                lot.to_string(),
                expiry,
            ),
        )
    }

    /// Commissions S1–S3, packs them, ships the case to the wholesaler, who receives and unpacks,
    /// then ships S1 and S2 to the pharmacy, who receives them.
    fn deliver_to_pharmacy(&mut self) {
        self.commission(&["S1", "S2", "S3"]);
        let maker = self.maker;
        let packed = self.chain.call(
            maker,
            self.supply,
            "pack",
            &(
                "006141410000000012".to_string(),
                vec![
                    (GTIN.to_string(), "S1".to_string()),
                    (GTIN.to_string(), "S2".to_string()),
                    (GTIN.to_string(), "S3".to_string()),
                ],
                "urn:gln:maker".to_string(),
            ),
        );
        assert!(packed.is_success());
        let case = vec![Epc::Case("006141410000000012".into())];
        let shipment = self.ship(maker, case.clone(), self.wholesaler);
        let wholesaler = self.wholesaler;
        assert!(self.receive(wholesaler, shipment, case));
        let received: Option<Container> = self.chain.view(
            wholesaler,
            self.supply,
            "contents",
            &"006141410000000012".to_string(),
        );
        let received = received.expect("the case exists until unpacked");
        assert_eq!(received.children.len(), 3);
        assert_eq!(
            (received.owner, received.custodian),
            (wholesaler, wholesaler)
        );
        assert_eq!(received.location, "urn:gln:receiving");
        assert!(
            self.chain
                .call(
                    wholesaler,
                    self.supply,
                    "unpack",
                    &(
                        "006141410000000012".to_string(),
                        "urn:gln:wholesaler".to_string()
                    )
                )
                .is_success()
        );
        let unpacked: Option<Container> = self.chain.view(
            wholesaler,
            self.supply,
            "contents",
            &"006141410000000012".to_string(),
        );
        assert_eq!(unpacked, None);
        let loose = vec![unit("S1"), unit("S2")];
        let second = self.ship(wholesaler, loose.clone(), self.pharmacy);
        let pharmacy = self.pharmacy;
        assert!(self.receive(pharmacy, second, loose));
    }

    /// A prescription of `NDC` for a new patient, valid 30 days: only its handle goes on chain.
    fn prescribe(&mut self, seed: u8, fills: u32) -> Rx {
        let patient = self.chain.new_account(1);
        let expires = self.chain.timestamp_ms() + 30 * DAY_MS;
        self.prescribe_for(Rx::new(seed, NDC, patient), fills, expires)
    }

    /// Posts `rx`'s handle with `fills` and `expires_ms` (caller: the doctor).
    fn prescribe_for(&mut self, rx: Rx, fills: u32, expires_ms: u64) -> Rx {
        let doctor = self.doctor;
        let result = self.chain.call(
            doctor,
            self.supply,
            "prescribe",
            &(rx.handle, fills, expires_ms),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
        rx
    }

    /// The pharmacy dispenses `gtin`/`serial` against `rx`, the call succeeding (dispensed or a
    /// recorded refusal).
    fn dispense_as_pharmacy(
        &mut self,
        gtin: &str,
        serial: &str,
        rx: Rx,
    ) -> salus_testkit::CallResult {
        let (pharmacy, expiry) = (self.pharmacy, self.expiry);
        let result = self.chain.call(
            pharmacy,
            self.supply,
            "dispense",
            &(
                gtin.to_string(),
                serial.to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
        result
    }
}

#[test]
fn scenario_1_happy_path_with_full_history_and_no_reshipping_after_dispensing() {
    let mut w = world();
    w.deliver_to_pharmacy();
    assert_eq!(w.unit_state("S1").owner, w.pharmacy);
    assert_eq!(w.unit_state("S3").owner, w.wholesaler);
    let rx = w.prescribe(7, 1);
    let pharmacy = w.pharmacy;
    let expiry = w.expiry;
    let dispensed: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "S1".to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert!(dispensed.verified && dispensed.dispensed);
    assert_eq!(w.unit_state("S1").disposition, Disposition::Dispensed);

    let history: Vec<EpcisEvent> = w.chain.view(
        w.maker,
        w.supply,
        "history",
        &(GTIN.to_string(), "S1".to_string()),
    );
    let steps: Vec<&str> = history
        .iter()
        .map(|event| event.biz_step.as_str())
        .collect();
    assert_eq!(
        steps,
        vec![
            "commissioning",
            "packing",
            "shipping",
            "receiving",
            "unpacking",
            "shipping",
            "receiving",
            "dispensing"
        ]
    );
    let owners: Vec<Address> = history
        .iter()
        .filter_map(|event| event.destination)
        .collect();
    assert_eq!(
        owners,
        vec![w.wholesaler, w.wholesaler, w.pharmacy, w.pharmacy],
        "every transfer names its buyer"
    );
    // DSCSA transaction information travels with each shipment.
    assert_eq!(
        w.ship_refusal(pharmacy, vec![unit("S1")], w.wholesaler),
        "SupplyError::NotMovable"
    );
    // The prescription is filled: a second dispensing against it is refused.
    let again = w.chain.call(
        pharmacy,
        w.supply,
        "dispense",
        &(
            GTIN.to_string(),
            "S2".to_string(),
            LOT.to_string(),
            expiry,
            rx,
        ),
    );
    let again: Dispensing = again.decode();
    assert_eq!(
        (again.dispensed, again.refusal.as_deref()),
        (false, Some("PrescriptionFilled"))
    );
}

#[test]
fn scenario_2_counterfeits_fail_verification_and_are_quarantined_with_a_case() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let rx = w.prescribe(8, 2);
    let pharmacy = w.pharmacy;
    let expiry = w.expiry;
    let unknown = w.chain.call(
        pharmacy,
        w.supply,
        "dispense",
        &(
            GTIN.to_string(),
            "FAKE9".to_string(),
            LOT.to_string(),
            expiry,
            rx,
        ),
    );
    let answer: Dispensing = unknown.decode();
    assert_eq!(
        (answer.verified, answer.failure_reason.as_deref()),
        (false, Some("No_match_GTIN_Serial"))
    );
    assert!(
        unknown.events().iter().any(|event| event.topics.len() == 2),
        "an alert is emitted"
    );
    let mismatch: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "S2".to_string(),
                "L9".to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert_eq!(
        mismatch.failure_reason.as_deref(),
        Some("No_match_GTIN_Serial_Lot")
    );
    let s2 = w.unit_state("S2");
    assert!(s2.quarantined && s2.suspect);
    assert_eq!(s2.disposition, Disposition::NonSellableOther);
    let case: Option<(Vec<(String, String)>, String)> = w
        .chain
        .view::<Option<Investigation>>(w.maker, w.supply, "investigation", &1u64)
        .map(|investigation| (investigation.units, investigation.reason));
    assert_eq!(case.unwrap().1, "No_match_GTIN_Serial_Lot");
    // Dispensing was blocked: the prescription still has both fills.
    let verified = w.verify("S2", LOT, expiry);
    assert!(verified.verified && verified.additional.contains(&"Suspect".to_string()));
}

#[test]
fn scenario_3_a_clone_flags_the_unit() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let wholesaler = w.wholesaler;
    // The wholesaler finds S1 in its warehouse while the pharmacy holds it.
    let flagged: bool = w
        .chain
        .call(
            wholesaler,
            w.supply,
            "report_sighting",
            &(
                GTIN.to_string(),
                "S1".to_string(),
                "urn:gln:wholesaler".to_string(),
            ),
        )
        .decode();
    assert!(flagged);
    let s1 = w.unit_state("S1");
    assert!(s1.suspect && s1.quarantined);
    // The legitimate holder seeing its own unit is no clone.
    let pharmacy = w.pharmacy;
    let own: bool = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "report_sighting",
            &(
                GTIN.to_string(),
                "S2".to_string(),
                "urn:gln:pharmacy".to_string(),
            ),
        )
        .decode();
    assert!(!own);
}

#[test]
fn scenario_4_saleable_returns_are_verified_before_restocking() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let wholesaler = w.wholesaler;
    let expiry = w.expiry;
    let pass: Verification = w
        .chain
        .call(
            wholesaler,
            w.supply,
            "accept_return",
            &(
                GTIN.to_string(),
                "S2".to_string(),
                LOT.to_string(),
                expiry,
                "urn:gln:wholesaler".to_string(),
            ),
        )
        .decode();
    assert!(pass.verified);
    let s2 = w.unit_state("S2");
    assert_eq!(
        (s2.owner, s2.disposition),
        (w.wholesaler, Disposition::SellableAccessible)
    );
    let fail: Verification = w
        .chain
        .call(
            wholesaler,
            w.supply,
            "accept_return",
            &(
                GTIN.to_string(),
                "S1".to_string(),
                LOT.to_string(),
                expiry + DAY_MS,
                "urn:gln:wholesaler".to_string(),
            ),
        )
        .decode();
    assert_eq!(
        fail.failure_reason.as_deref(),
        Some("No_match_GTIN_Serial_Expiry")
    );
    assert!(w.unit_state("S1").quarantined);
}

#[test]
fn scenario_5_a_recalled_lot_cannot_ship_or_be_dispensed_and_is_located() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let stranger = w.wholesaler;
    assert_eq!(
        w.chain
            .call(
                stranger,
                w.supply,
                "recall",
                &(
                    GTIN.to_string(),
                    vec![LOT.to_string()],
                    RecallClass::ClassII
                )
            )
            .revert_message(),
        "SupplyError::NotAuthorised"
    );
    let maker = w.maker;
    let flagged: u32 = w
        .chain
        .call(
            maker,
            w.supply,
            "recall",
            &(
                GTIN.to_string(),
                vec![LOT.to_string()],
                RecallClass::ClassII,
            ),
        )
        .decode();
    assert_eq!(flagged, 3);
    let recalls: Vec<(String, Recall)> =
        w.chain.view(maker, w.supply, "recalls", &GTIN.to_string());
    assert_eq!(
        recalls,
        vec![(
            LOT.to_string(),
            Recall {
                class: RecallClass::ClassII,
                effective_ms: w.chain.timestamp_ms(),
                units: 3,
            }
        )]
    );
    let answer = w.verify("S3", LOT, w.expiry);
    assert!(answer.verified, "a recalled unit still verifies");
    assert_eq!(answer.additional, vec!["Recalled".to_string()]);
    let wholesaler = w.wholesaler;
    assert_eq!(
        w.ship_refusal(wholesaler, vec![unit("S3")], w.pharmacy),
        "SupplyError::NotMovable"
    );
    let rx = w.prescribe(9, 1);
    let pharmacy = w.pharmacy;
    let expiry = w.expiry;
    let refused: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "S1".to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert_eq!(
        (refused.dispensed, refused.refusal.as_deref()),
        (false, Some("NotMovable"))
    );
    let located: Vec<(String, Address, String, Disposition)> = w.chain.view(
        w.maker,
        w.supply,
        "lot_units",
        &(GTIN.to_string(), LOT.to_string(), None::<String>, 100u32),
    );
    let holders: Vec<(String, Address)> = located
        .iter()
        .map(|(serial, owner, _, _)| (serial.clone(), *owner))
        .collect();
    assert_eq!(
        holders,
        vec![
            ("S1".into(), w.pharmacy),
            ("S2".into(), w.pharmacy),
            ("S3".into(), w.wholesaler)
        ]
    );
}

#[test]
fn scenario_6_late_notification_fires_once_and_lapsed_partners_are_refused() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let rx = w.prescribe(3, 1);
    let pharmacy = w.pharmacy;
    let expiry = w.expiry;
    // A counterfeit presented at dispensing opens case 0; the pharmacy determines it
    // counterfeit (illegitimate) and files nothing.
    let _: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "FAKE1".to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert!(
        w.chain
            .call(
                pharmacy,
                w.supply,
                "classify",
                &(0u64, Classification::Counterfeit)
            )
            .is_success()
    );
    let anyone = w.chain.account(9);
    assert!(
        !w.chain
            .call(anyone, w.supply, "mark_overdue", &0u64)
            .decode::<bool>(),
        "not yet 24 h"
    );
    w.chain.advance_time(25 * 60 * 60 * 1000);
    let fired = w.chain.call(anyone, w.supply, "mark_overdue", &0u64);
    assert!(fired.decode::<bool>());
    assert_eq!(fired.events().len(), 1);
    assert!(
        !w.chain
            .call(anyone, w.supply, "mark_overdue", &0u64)
            .decode::<bool>(),
        "only once"
    );

    // A partner whose licence lapsed cannot receive shipments.
    let lapsed = w.chain.new_account(10u128.pow(18));
    let (authority, registry) = (w.authority, w.registry);
    register(
        &mut w.chain,
        authority,
        registry,
        lapsed,
        Role::Dispenser,
        1,
    );
    w.chain.advance_time(2 * DAY_MS);
    let wholesaler = w.wholesaler;
    assert_eq!(
        w.ship_refusal(wholesaler, vec![unit("S3")], lapsed),
        "SupplyError::PartnerNotAuthorised"
    );
}

#[test]
fn receipt_must_match_the_shipment_and_only_the_buyer_receives() {
    let mut w = world();
    w.commission(&["A1", "A2"]);
    let maker = w.maker;
    let shipment = w.ship(maker, vec![unit("A1"), unit("A2")], w.wholesaler);
    let pharmacy = w.pharmacy;
    assert_eq!(
        w.chain
            .call(
                pharmacy,
                w.supply,
                "receive",
                &(shipment, vec![unit("A1"), unit("A2")], "x".to_string())
            )
            .revert_message(),
        "SupplyError::NotAuthorised"
    );
    let wholesaler = w.wholesaler;
    // The received set is compared with the shipped one, order ignored.
    assert!(w.receive(wholesaler, shipment, vec![unit("A2"), unit("A1")]));
    assert_eq!(w.unit_state("A1").owner, wholesaler);
    let discrepancy: Option<Discrepancy> =
        w.chain.view(w.maker, w.supply, "discrepancy", &shipment);
    assert_eq!(discrepancy, None);
    // Only the product's owner commissions, and only once per serial.
    assert_eq!(
        w.chain
            .call(
                wholesaler,
                w.supply,
                "commission",
                &(
                    GTIN.to_string(),
                    LOT.to_string(),
                    w.expiry,
                    vec!["B1".to_string()],
                    "x".to_string()
                )
            )
            .revert_message(),
        "SupplyError::NotAuthorised"
    );
    assert_eq!(
        w.chain
            .call(
                maker,
                w.supply,
                "commission",
                &(
                    GTIN.to_string(),
                    LOT.to_string(),
                    w.expiry,
                    vec!["A1".to_string()],
                    "x".to_string()
                )
            )
            .revert_message(),
        "SupplyError::AlreadyCommissioned"
    );
}

#[test]
fn a_receiver_suspended_in_transit_cannot_receive_and_the_shipper_takes_the_goods_back() {
    let mut w = world();
    w.commission(&["W1", "W2"]);
    let maker = w.maker;
    let wholesaler = w.wholesaler;
    let shipment = w.ship(maker, vec![unit("W1"), unit("W2")], wholesaler);
    let withdraw = |w: &mut World, by: Address| {
        w.chain.call(
            by,
            w.supply,
            "withdraw_shipment",
            &(shipment, "urn:gln:maker".to_string()),
        )
    };
    // While the wholesaler can receive, the shipper cannot take the goods back.
    assert_eq!(
        withdraw(&mut w, maker).revert_message(),
        "SupplyError::WrongState"
    );
    let (authority, registry) = (w.authority, w.registry);
    let suspended = w
        .chain
        .call(authority, registry, "suspend", &(wholesaler, Hash([2; 32])));
    assert!(suspended.is_success());
    // Suspended in transit: it no longer takes ownership (DSCSA §582: authorised now).
    let refused = w.chain.call(
        wholesaler,
        w.supply,
        "receive",
        &(shipment, vec![unit("W1"), unit("W2")], "x".to_string()),
    );
    assert_eq!(refused.revert_message(), "SupplyError::NotAuthorised");
    assert_eq!(w.unit_state("W1").shipment, Some(shipment));
    // Only the shipper withdraws; the goods come back to its custody, held, still its own.
    let stranger = w.chain.new_account(10u128.pow(18));
    assert_eq!(
        withdraw(&mut w, stranger).revert_message(),
        "SupplyError::NotAuthorised"
    );
    assert!(withdraw(&mut w, maker).is_success());
    for serial in ["W1", "W2"] {
        let state = w.unit_state(serial);
        assert_eq!((state.owner, state.custodian), (maker, maker));
        assert_eq!(state.shipment, None);
        assert_eq!(state.disposition, Disposition::NonSellableOther);
    }
    let discrepancy: Option<Discrepancy> = w.chain.view(maker, w.supply, "discrepancy", &shipment);
    assert_eq!(discrepancy.unwrap().missing.len(), 2);
    // Settled once: neither a second withdrawal nor a late receipt after reinstatement.
    assert_eq!(
        withdraw(&mut w, maker).revert_message(),
        "SupplyError::AlreadyReceived"
    );
    let reinstated = w.chain.call(authority, registry, "reinstate", &wholesaler);
    assert!(reinstated.is_success());
    let late = w.chain.call(
        wholesaler,
        w.supply,
        "receive",
        &(shipment, vec![unit("W1")], "x".to_string()),
    );
    assert_eq!(late.revert_message(), "SupplyError::AlreadyReceived");
    // The shipper releases its stock back to commerce and can sell it again.
    let released = w.chain.call(
        maker,
        w.supply,
        "release",
        &(vec![unit("W1"), unit("W2")], "urn:gln:maker".to_string()),
    );
    assert_eq!(released.decode::<u32>(), 2);
    let again = w.ship(maker, vec![unit("W1")], wholesaler);
    assert!(w.receive(wholesaler, again, vec![unit("W1")]));
}

#[test]
fn bulk_commissioning_and_shipping_fit_in_one_transaction() {
    let mut w = world();
    let serials: Vec<String> = (0..300).map(|i| format!("BULK{i:05}")).collect();
    let maker = w.maker;
    let commissioned = w.chain.call(
        maker,
        w.supply,
        "commission",
        &(
            GTIN.to_string(),
            "L2".to_string(),
            w.expiry,
            serials.clone(),
            "x".to_string(),
        ),
    );
    assert!(
        commissioned.is_success(),
        "{:?}",
        commissioned.receipt.status
    );
    let epcs: Vec<Epc> = serials.iter().map(|serial| unit(serial)).collect();
    let shipped = w.chain.call(
        maker,
        w.supply,
        "ship",
        &(
            epcs,
            w.wholesaler,
            Vec::<(String, Hash)>::new(),
            "x".to_string(),
        ),
    );
    assert!(shipped.is_success(), "{:?}", shipped.receipt.status);
    println!(
        "bulk: commission 300 units {} fuel ({} per unit); ship 300 units {} fuel ({} per unit)",
        commissioned.fuel_used(),
        commissioned.fuel_used() / 300,
        shipped.fuel_used(),
        shipped.fuel_used() / 300
    );
    assert!(
        commissioned.fuel_used() < salus_testkit::TRANSACTION_FUEL
            && shipped.fuel_used() < salus_testkit::TRANSACTION_FUEL
    );
}

impl World {
    /// Calls `message` as `from` and returns the refusal it must produce.
    fn refusal(&mut self, from: Address, message: &str, arguments: &impl Encode) -> String {
        let result = self.chain.call(from, self.supply, message, arguments);
        assert!(!result.is_success(), "{message} was not refused");
        result.revert_message().to_string()
    }

    /// Ships `epcs` from `from` to `to` (no transaction documents) and returns the refusal it
    /// must produce.
    fn ship_refusal(&mut self, from: Address, epcs: Vec<Epc>, to: Address) -> String {
        self.refusal(
            from,
            "ship",
            &(
                epcs,
                to,
                Vec::<(String, Hash)>::new(),
                "urn:gln:dock".to_string(),
            ),
        )
    }

    fn step(&mut self, from: Address, message: &str, epcs: Vec<Epc>) -> u32 {
        self.chain
            .call(
                from,
                self.supply,
                message,
                &(epcs, "urn:gln:site".to_string()),
            )
            .decode()
    }

    fn history(&self, serial: &str) -> Vec<EpcisEvent> {
        self.chain.view(
            self.maker,
            self.supply,
            "history",
            &(GTIN.to_string(), serial.to_string()),
        )
    }

    fn open_investigations(&self) -> Vec<u64> {
        let open: Vec<(u64, Investigation)> = self.chain.view(
            self.maker,
            self.supply,
            "open_investigations",
            &(None::<u64>, 100u32),
        );
        open.into_iter().map(|(case, _)| case).collect()
    }
}

#[test]
fn every_state_changing_message_refuses_a_caller_without_the_right() {
    let mut w = world();
    w.deliver_to_pharmacy();
    w.commission(&["S4"]);
    let maker = w.maker;
    let packed = w.chain.call(
        maker,
        w.supply,
        "pack",
        &(
            "006141410000000029".to_string(),
            vec![(GTIN.to_string(), "S4".to_string())],
            "urn:gln:maker".to_string(),
        ),
    );
    assert!(packed.is_success());
    let (wholesaler, pharmacy) = (w.wholesaler, w.pharmacy);
    let stranger = w.chain.new_account(10u128.pow(20));
    // A sighting of the pharmacy's S1 by the wholesaler opens case 0.
    let sighted = w.chain.call(
        wholesaler,
        w.supply,
        "report_sighting",
        &(GTIN.to_string(), "S1".to_string(), "urn:gln:w".to_string()),
    );
    assert!(sighted.decode::<bool>());
    let rx = w.prescribe(9, 1);
    let s1_last_event = w.unit_state("S1").last_event;
    let s3 = vec![unit("S3")];
    let location = "urn:gln:x".to_string();
    let refused = "SupplyError::NotAuthorised";
    let checks: Vec<(&str, Address, Vec<u8>)> = vec![
        (
            "register_product",
            stranger,
            (
                "00399999999991".to_string(),
                "99999-999-99".to_string(),
                "Fake".to_string(),
                "1 mg".to_string(),
                "tablet".to_string(),
                "10".to_string(),
            )
                .encode(),
        ),
        (
            "commission",
            wholesaler,
            (
                GTIN.to_string(),
                LOT.to_string(),
                w.expiry,
                vec!["S9".to_string()],
                location.clone(),
            )
                .encode(),
        ),
        (
            "pack",
            wholesaler,
            (
                "006141410000000036".to_string(),
                vec![(GTIN.to_string(), "S1".to_string())],
                location.clone(),
            )
                .encode(),
        ),
        (
            "ship",
            wholesaler,
            (
                vec![unit("S4")],
                pharmacy,
                Vec::<(String, Hash)>::new(),
                location.clone(),
            )
                .encode(),
        ),
        (
            "unpack",
            wholesaler,
            ("006141410000000029".to_string(), location.clone()).encode(),
        ),
        (
            "prescribe",
            pharmacy,
            (Hash([7; 32]), 1u32, w.expiry).encode(),
        ),
        (
            "dispense",
            wholesaler,
            (
                GTIN.to_string(),
                "S3".to_string(),
                LOT.to_string(),
                w.expiry,
                rx,
            )
                .encode(),
        ),
        (
            "accept_return",
            stranger,
            (
                GTIN.to_string(),
                "S2".to_string(),
                LOT.to_string(),
                w.expiry,
                location.clone(),
            )
                .encode(),
        ),
        (
            "report_sighting",
            stranger,
            (GTIN.to_string(), "S2".to_string(), location.clone()).encode(),
        ),
        (
            "recall",
            wholesaler,
            (
                GTIN.to_string(),
                vec![LOT.to_string()],
                RecallClass::ClassII,
            )
                .encode(),
        ),
        (
            "classify",
            pharmacy,
            (0u64, Classification::Counterfeit).encode(),
        ),
        (
            "record_notification",
            pharmacy,
            (0u64, "FDA-3911-1".to_string()).encode(),
        ),
        (
            "pack_cases",
            wholesaler,
            (
                "106141410000009005".to_string(),
                vec!["006141410000000029".to_string()],
                location.clone(),
            )
                .encode(),
        ),
        ("hold", pharmacy, (s3.clone(), location.clone()).encode()),
        (
            "suspect",
            pharmacy,
            (s3.clone(), "damaged".to_string(), location.clone()).encode(),
        ),
        ("release", pharmacy, (s3.clone(), location.clone()).encode()),
        (
            "decommission",
            pharmacy,
            (s3.clone(), location.clone()).encode(),
        ),
        ("destroy", pharmacy, (s3.clone(), location.clone()).encode()),
        (
            "declare_error",
            stranger,
            (s1_last_event, "incorrect_data".to_string()).encode(),
        ),
        // Custody moves only by the custodian: S3 is the wholesaler's, in its hands.
        (
            "consign",
            pharmacy,
            (s3.clone(), w.maker, location.clone()).encode(),
        ),
        // Only the owner sells.
        (
            "sell",
            pharmacy,
            (s3.clone(), pharmacy, Vec::<(String, Hash)>::new()).encode(),
        ),
        // `dispatch` by anyone but the sale's 3PL, and `cancel_sale` by anyone but its seller,
        // are refused in the 3PL test (they need a sale).
        (
            "extend_expiry",
            wholesaler,
            (GTIN.to_string(), LOT.to_string(), w.expiry + DAY_MS).encode(),
        ),
        (
            "verify_recorded",
            stranger,
            (
                GTIN.to_string(),
                "S3".to_string(),
                LOT.to_string(),
                w.expiry,
                location.clone(),
            )
                .encode(),
        ),
        (
            "repackage",
            wholesaler,
            (
                s3.clone(),
                GTIN.to_string(),
                "RL".to_string(),
                w.expiry,
                vec!["R1".to_string()],
                location.clone(),
            )
                .encode(),
        ),
    ];
    for (message, caller, arguments) in checks {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        let result = w.chain.call_raw(caller, w.supply, input);
        assert!(!result.is_success(), "{message} was not refused");
        assert_eq!(result.revert_message(), refused, "{message}");
    }
    // Nothing moved: S3 is still the wholesaler's and sellable, S4 still packed in SSCC2,
    // the case still unclassified, and S9 was never commissioned.
    let s3_state = w.unit_state("S3");
    assert_eq!(s3_state.owner, wholesaler);
    assert_eq!(s3_state.disposition, Disposition::SellableAccessible);
    assert_eq!(
        w.unit_state("S4").parent.as_deref(),
        Some("006141410000000029")
    );
    assert_eq!(w.open_investigations(), vec![0]);
    let s9: Option<Unit> = w.chain.view(
        maker,
        w.supply,
        "unit",
        &(GTIN.to_string(), "S9".to_string()),
    );
    assert_eq!(s9, None);
    // The one permissionless message, `mark_overdue`, does nothing before it is due.
    let early = w.chain.call(stranger, w.supply, "mark_overdue", &0u64);
    assert!(!early.decode::<bool>());
    assert!(early.events().is_empty());
}

#[test]
fn holding_release_decommissioning_and_destruction_follow_the_cbv_life_cycle() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let (wholesaler, pharmacy, maker) = (w.wholesaler, w.pharmacy, w.maker);

    assert_eq!(w.step(wholesaler, "hold", vec![unit("S3")]), 1);
    let held = w.unit_state("S3");
    assert!(held.quarantined);
    assert_eq!(held.disposition, Disposition::NonSellableOther);
    assert_eq!(
        w.ship_refusal(wholesaler, vec![unit("S3")], pharmacy),
        "SupplyError::NotMovable"
    );
    assert_eq!(w.step(wholesaler, "release", vec![unit("S3")]), 1);
    assert_eq!(
        w.unit_state("S3").disposition,
        Disposition::SellableAccessible
    );
    assert_eq!(w.step(wholesaler, "decommission", vec![unit("S3")]), 1);
    assert_eq!(w.unit_state("S3").disposition, Disposition::Inactive);
    assert_eq!(
        w.ship_refusal(wholesaler, vec![unit("S3")], pharmacy),
        "SupplyError::NotMovable"
    );
    assert_eq!(w.step(wholesaler, "destroy", vec![unit("S3")]), 1);
    assert_eq!(w.unit_state("S3").disposition, Disposition::Destroyed);
    let again = w.refusal(
        wholesaler,
        "destroy",
        &(vec![unit("S3")], "urn:gln:site".to_string()),
    );
    assert_eq!(again, "SupplyError::WrongState");
    let steps: Vec<String> = w
        .history("S3")
        .into_iter()
        .map(|event| event.biz_step)
        .collect();
    assert_eq!(
        steps[steps.len() - 4..],
        ["holding", "holding", "decommissioning", "destroying"]
    );

    // A suspect unit cannot be released, only destroyed; its case stays open until notified.
    let sighted = w.chain.call(
        wholesaler,
        w.supply,
        "report_sighting",
        &(GTIN.to_string(), "S1".to_string(), "urn:gln:w".to_string()),
    );
    assert!(sighted.decode::<bool>());
    assert_eq!(w.open_investigations(), vec![0]);
    let release = w.refusal(
        pharmacy,
        "release",
        &(vec![unit("S1")], "urn:gln:site".to_string()),
    );
    assert_eq!(release, "SupplyError::WrongState");
    assert_eq!(w.step(pharmacy, "destroy", vec![unit("S1")]), 1);
    assert_eq!(w.unit_state("S1").disposition, Disposition::Destroyed);
    assert!(
        w.chain
            .call(
                maker,
                w.supply,
                "record_notification",
                &(0u64, "FDA-3911-7".to_string())
            )
            .is_success()
    );
    assert!(w.open_investigations().is_empty());

    // Decommissioning a case ends the case: its units stand alone, inactive.
    w.commission(&["S6", "S7"]);
    let packed = w.chain.call(
        maker,
        w.supply,
        "pack",
        &(
            "006141410000000098".to_string(),
            vec![
                (GTIN.to_string(), "S6".to_string()),
                (GTIN.to_string(), "S7".to_string()),
            ],
            "urn:gln:maker".to_string(),
        ),
    );
    assert!(packed.is_success());
    let case: Option<Container> = w.chain.view(
        maker,
        w.supply,
        "contents",
        &"006141410000000098".to_string(),
    );
    assert_eq!(
        case,
        Some(Container {
            children: vec![
                (GTIN.to_string(), "S6".to_string()),
                (GTIN.to_string(), "S7".to_string()),
            ],
            owner: maker,
            custodian: maker,
            location: "urn:gln:maker".to_string(),
            cases: Vec::new(),
            parent: None,
        })
    );
    assert_eq!(
        w.step(
            maker,
            "decommission",
            vec![Epc::Case("006141410000000098".into())]
        ),
        2
    );
    let contents: Option<Container> = w.chain.view(
        maker,
        w.supply,
        "contents",
        &"006141410000000098".to_string(),
    );
    assert_eq!(contents, None);
    for serial in ["S6", "S7"] {
        let state = w.unit_state(serial);
        assert_eq!(state.disposition, Disposition::Inactive);
        assert_eq!(state.parent, None);
    }
}

#[test]
fn an_error_declaration_appends_a_correction_and_never_edits_the_record() {
    let mut w = world();
    w.commission(&["S1", "S2"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let original = w.history("S1").remove(0);
    assert_eq!(original.biz_step, "commissioning");
    assert_eq!(original.recorded_by, maker);

    let unknown = w.refusal(maker, "declare_error", &(original.id, "oops".to_string()));
    assert_eq!(unknown, "SupplyError::UnknownReason");
    let stranger = w.refusal(
        wholesaler,
        "declare_error",
        &(original.id, "incorrect_data".to_string()),
    );
    assert_eq!(stranger, "SupplyError::NotAuthorised");
    let declared = w.chain.call(
        maker,
        w.supply,
        "declare_error",
        &(original.id, "incorrect_data".to_string()),
    );
    let declaration_id: u64 = declared.decode();
    assert_eq!(declared.events().len(), 1);
    assert_eq!(declared.events()[0].topics.len(), 2);

    for serial in ["S1", "S2"] {
        let history = w.history(serial);
        assert_eq!(history.len(), 2, "{serial}");
        assert_eq!(history[0], original, "the original is never edited");
        let declaration = &history[1];
        assert_eq!(declaration.id, declaration_id);
        assert_eq!(declaration.corrects, Some(original.id));
        assert_eq!(declaration.error_reason.as_deref(), Some("incorrect_data"));
        assert_eq!(declaration.epcs, original.epcs);
        assert_eq!(declaration.biz_step, original.biz_step);
    }
    let twice = w.refusal(
        maker,
        "declare_error",
        &(original.id, "did_not_occur".to_string()),
    );
    assert_eq!(twice, "SupplyError::AlreadyDeclared");
    let of_declaration = w.refusal(
        maker,
        "declare_error",
        &(declaration_id, "did_not_occur".to_string()),
    );
    assert_eq!(of_declaration, "SupplyError::AlreadyDeclared");
    // A corrective event follows as an ordinary transition.
    assert_eq!(w.step(maker, "decommission", vec![unit("S2")]), 1);
    assert_eq!(w.history("S2").len(), 3);
}

/// Fuel and events of the supply life cycle, compared with a committed snapshot
/// (`UPDATE_SNAPSHOTS=1` regenerates it after an intended change).
#[test]
fn supply_fuel_and_events_match_the_snapshot() {
    use std::fmt::Write;
    let mut w = world();
    let mut report = String::new();
    writeln!(
        report,
        "supply code hash {}",
        salus_primitives::keccak256(salus_contracts::SUPPLY)
    )
    .unwrap();
    let (maker, wholesaler, pharmacy) = (w.maker, w.wholesaler, w.pharmacy);
    let logistics = w.logistics_provider();
    let rx = w.prescribe(3, 1);
    let serials: Vec<String> = (0..10).map(|i| format!("F{i}")).collect();
    let steps: Vec<(&str, Address, Vec<u8>)> = vec![
        (
            "commission",
            maker,
            (
                GTIN.to_string(),
                LOT.to_string(),
                w.expiry,
                serials.clone(),
                "urn:gln:maker".to_string(),
            )
                .encode(),
        ),
        (
            "pack",
            maker,
            (
                "006141410000000104".to_string(),
                serials
                    .iter()
                    .map(|s| (GTIN.to_string(), s.clone()))
                    .collect::<Vec<_>>(),
                "urn:gln:maker".to_string(),
            )
                .encode(),
        ),
        (
            "ship",
            maker,
            (
                vec![Epc::Case("006141410000000104".into())],
                wholesaler,
                vec![("po".to_string(), Hash([4; 32]))],
                "urn:gln:dock".to_string(),
            )
                .encode(),
        ),
        (
            "receive",
            wholesaler,
            (
                0u64,
                vec![Epc::Case("006141410000000104".into())],
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
        (
            "unpack",
            wholesaler,
            ("006141410000000104".to_string(), "urn:gln:w".to_string()).encode(),
        ),
        (
            "ship",
            wholesaler,
            (
                vec![Epc::Unit(GTIN.into(), "F0".into())],
                pharmacy,
                vec![("inv".to_string(), Hash([5; 32]))],
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
        (
            "receive",
            pharmacy,
            (
                1u64,
                vec![Epc::Unit(GTIN.into(), "F0".into())],
                "urn:gln:p".to_string(),
            )
                .encode(),
        ),
        (
            "dispense",
            pharmacy,
            (
                GTIN.to_string(),
                "F0".to_string(),
                LOT.to_string(),
                w.expiry,
                rx,
            )
                .encode(),
        ),
        (
            "hold",
            wholesaler,
            (
                vec![Epc::Unit(GTIN.into(), "F1".into())],
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
        (
            "destroy",
            wholesaler,
            (
                vec![Epc::Unit(GTIN.into(), "F1".into())],
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
        (
            "declare_error",
            wholesaler,
            // Event 8 is the hold above (events count from 0: commission, pack, ship, …).
            (8u64, "incorrect_data".to_string()).encode(),
        ),
        (
            "recall",
            maker,
            (
                GTIN.to_string(),
                vec![LOT.to_string()],
                RecallClass::ClassII,
            )
                .encode(),
        ),
        // Another lot, through a 3PL: consigned, sold by its owner, dispatched by the 3PL.
        (
            "commission",
            maker,
            (
                GTIN.to_string(),
                "L2".to_string(),
                w.expiry,
                vec!["G0".to_string()],
                "urn:gln:maker".to_string(),
            )
                .encode(),
        ),
        (
            "consign",
            maker,
            (
                vec![Epc::Unit(GTIN.into(), "G0".into())],
                logistics,
                "urn:gln:maker".to_string(),
            )
                .encode(),
        ),
        (
            "receive",
            logistics,
            (
                2u64,
                vec![Epc::Unit(GTIN.into(), "G0".into())],
                "urn:gln:3pl".to_string(),
            )
                .encode(),
        ),
        (
            "sell",
            maker,
            (
                vec![Epc::Unit(GTIN.into(), "G0".into())],
                wholesaler,
                vec![("inv".to_string(), Hash([6; 32]))],
            )
                .encode(),
        ),
        (
            "dispatch",
            logistics,
            (0u64, "urn:gln:3pl".to_string()).encode(),
        ),
        (
            "receive",
            wholesaler,
            (
                3u64,
                vec![Epc::Unit(GTIN.into(), "G0".into())],
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
        (
            "extend_expiry",
            maker,
            (GTIN.to_string(), "L2".to_string(), w.expiry + 90 * DAY_MS).encode(),
        ),
        (
            "verify_recorded",
            wholesaler,
            (
                GTIN.to_string(),
                "G0".to_string(),
                "L2".to_string(),
                w.expiry,
                "urn:gln:w".to_string(),
            )
                .encode(),
        ),
    ];
    for (message, caller, arguments) in steps {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        let result = w.chain.call_raw(caller, w.supply, input);
        assert!(
            result.is_success(),
            "{message}: {:?}",
            result.receipt.status
        );
        writeln!(
            report,
            "{message}: fuel={} events={}",
            result.fuel_used(),
            result.events().len()
        )
        .unwrap();
    }
    // The read-only verification (`verify`, a dry run: no intrinsic fuel, nothing recorded) of a
    // unit in commerce.
    let (verification, fuel): (Verification, u64) = w.chain.view_with_fuel(
        pharmacy,
        w.supply,
        "verify",
        &(
            GTIN.to_string(),
            "F9".to_string(),
            LOT.to_string(),
            w.expiry,
        ),
    );
    writeln!(report, "verify: {} fuel={fuel}", verification.verified).unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/supply_fuel.snap");
    salus_testkit::assert_snapshot(&path, &report);
}

#[test]
fn a_product_needs_a_gtin_with_a_valid_check_digit_that_embeds_its_ndc() {
    let mut w = world();
    let maker = w.maker;
    let product = |gtin: &str, ndc: &str| {
        (
            gtin.to_string(),
            ndc.to_string(),
            "Ibuprofen".to_string(),
            "200 mg".to_string(),
            "tablet".to_string(),
            "100".to_string(),
        )
    };
    for (gtin, ndc, why) in [
        ("00312345678907", "12345-678-90", "wrong check digit"),
        ("00399999999991", "12345-678-90", "NDC not embedded"),
        ("00499999999998", "99999-999-99", "not the 03 NDC prefix"),
        ("0039999999999", "99999-999-99", "13 digits"),
        ("00399999999991", "9999999999", "NDC without hyphens"),
        ("0039999999999A", "99999-999-99", "not digits"),
    ] {
        let refusal = w.refusal(maker, "register_product", &product(gtin, ndc));
        assert_eq!(refusal, "SupplyError::InvalidIdentifier", "{why}");
    }
    let other_maker = w.chain.new_account(10u128.pow(20));
    let (authority, registry) = (w.authority, w.registry);
    register_with_prefix(
        &mut w.chain,
        authority,
        registry,
        other_maker,
        Role::Manufacturer,
        3650,
        Some("0399999"),
    );
    let registered = w.chain.call(
        other_maker,
        w.supply,
        "register_product",
        &product("00399999999991", "99999-999-99"),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
}

#[test]
fn only_the_holder_of_a_gtins_company_prefix_registers_it() {
    let mut w = world();
    let (authority, registry) = (w.authority, w.registry);
    let product = |gtin: &str, ndc: &str| {
        (
            gtin.to_string(),
            ndc.to_string(),
            "Ibuprofen".to_string(),
            "200 mg".to_string(),
            "tablet".to_string(),
            "100".to_string(),
        )
    };
    let manufacturer = |w: &mut World, prefix: Option<&str>| {
        let who = w.chain.new_account(10u128.pow(20));
        register_with_prefix(
            &mut w.chain,
            authority,
            registry,
            who,
            Role::Manufacturer,
            3650,
            prefix,
        );
        who
    };
    let other = manufacturer(&mut w, Some("0399999"));
    let unattested = manufacturer(&mut w, None);
    // Another labeler's GTIN (its prefix `0399999` is not the caller's `0312345`), both ways.
    let theirs = product("00399999999991", "99999-999-99");
    assert_eq!(
        w.refusal(w.maker, "register_product", &theirs),
        "SupplyError::NotPrefixHolder"
    );
    let ours = product("10312345678903", "12345-678-90");
    assert_eq!(
        w.refusal(other, "register_product", &ours),
        "SupplyError::NotPrefixHolder"
    );
    // A manufacturer the registry attests no company prefix for registers nothing.
    assert_eq!(
        w.refusal(unattested, "register_product", &theirs),
        "SupplyError::NotPrefixHolder"
    );
    // Each registers its own GTIN (another packaging level of the maker's NDC here).
    let maker = w.maker;
    assert!(
        w.chain
            .call(maker, w.supply, "register_product", &ours)
            .is_success()
    );
    assert!(
        w.chain
            .call(other, w.supply, "register_product", &theirs)
            .is_success()
    );
}

#[test]
fn a_pallet_of_cases_ships_receives_and_unpacks_as_one() {
    let mut w = world();
    w.commission(&["S1", "S2", "S3", "S4"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    for (sscc, serials) in [
        ("006141410000000012", ["S1", "S2"]),
        ("006141410000000029", ["S3", "S4"]),
    ] {
        let units: Vec<(String, String)> = serials
            .iter()
            .map(|serial| (GTIN.to_string(), serial.to_string()))
            .collect();
        let packed = w.chain.call(
            maker,
            w.supply,
            "pack",
            &(sscc.to_string(), units, "urn:gln:maker".to_string()),
        );
        assert!(packed.is_success());
    }
    let cases = vec![
        "006141410000000012".to_string(),
        "006141410000000029".to_string(),
    ];
    let palletised = w.chain.call(
        maker,
        w.supply,
        "pack_cases",
        &(
            "106141410000001009".to_string(),
            cases.clone(),
            "urn:gln:maker".to_string(),
        ),
    );
    assert!(palletised.is_success(), "{:?}", palletised.receipt.status);
    let contents = |w: &World, sscc: &str| -> Option<Container> {
        w.chain
            .view(w.maker, w.supply, "contents", &sscc.to_string())
    };
    assert_eq!(contents(&w, "106141410000001009").unwrap().cases, cases);
    assert_eq!(
        contents(&w, "006141410000000012")
            .unwrap()
            .parent
            .as_deref(),
        Some("106141410000001009")
    );
    let again = w.refusal(
        maker,
        "pack_cases",
        &(
            "106141410000002006".to_string(),
            vec!["006141410000000012".to_string()],
            "urn:gln:maker".to_string(),
        ),
    );
    assert_eq!(again, "SupplyError::NotMovable");

    // Packed goods travel only with their outermost container.
    for epcs in [
        vec![Epc::Case("006141410000000012".into())],
        vec![unit("S1")],
    ] {
        let refused = w.refusal(
            maker,
            "ship",
            &(
                epcs,
                wholesaler,
                Vec::<(String, Hash)>::new(),
                "urn:gln:dock".to_string(),
            ),
        );
        assert_eq!(refused, "SupplyError::NotMovable");
    }
    let pallet = vec![Epc::Case("106141410000001009".into())];
    let shipment = w.ship(maker, pallet.clone(), wholesaler);
    for serial in ["S1", "S2", "S3", "S4"] {
        assert_eq!(w.unit_state(serial).disposition, Disposition::InTransit);
    }
    assert!(w.receive(wholesaler, shipment, pallet));
    for serial in ["S1", "S2", "S3", "S4"] {
        let state = w.unit_state(serial);
        assert_eq!(
            (state.owner, state.disposition),
            (wholesaler, Disposition::Active)
        );
    }
    for sscc in [
        "106141410000001009",
        "006141410000000012",
        "006141410000000029",
    ] {
        let case = contents(&w, sscc).unwrap();
        assert_eq!(
            (case.owner, case.custodian),
            (wholesaler, wholesaler),
            "{sscc}"
        );
        assert_eq!(case.location, "urn:gln:receiving");
    }

    // A case inside a pallet is unpacked only after the pallet.
    let nested = w.refusal(
        wholesaler,
        "unpack",
        &("006141410000000012".to_string(), "urn:gln:w".to_string()),
    );
    assert_eq!(nested, "SupplyError::WrongState");
    for sscc in ["106141410000001009", "006141410000000012"] {
        assert!(
            w.chain
                .call(
                    wholesaler,
                    w.supply,
                    "unpack",
                    &(sscc.to_string(), "urn:gln:w".to_string())
                )
                .is_success()
        );
    }
    assert_eq!(contents(&w, "106141410000001009"), None);
    assert_eq!(contents(&w, "006141410000000029").unwrap().parent, None);
    assert_eq!(
        w.unit_state("S1").disposition,
        Disposition::SellableAccessible
    );
    assert_eq!(
        w.unit_state("S3").parent.as_deref(),
        Some("006141410000000029")
    );
    let steps: Vec<String> = w
        .history("S3")
        .into_iter()
        .map(|event| event.biz_step)
        .collect();
    assert_eq!(
        steps,
        [
            "commissioning",
            "packing",
            "packing",
            "shipping",
            "receiving"
        ]
    );
}

impl World {
    fn accept_return(&mut self, by: Address, serial: &str) -> Result<Verification, String> {
        let result = self.chain.call(
            by,
            self.supply,
            "accept_return",
            &(
                GTIN.to_string(),
                serial.to_string(),
                LOT.to_string(),
                self.expiry,
                "urn:gln:returns".to_string(),
            ),
        );
        if result.is_success() {
            Ok(result.decode())
        } else {
            Err(result.revert_message().to_string())
        }
    }

    fn dispense(&mut self, serial: &str, rx: Rx) -> Verification {
        let (pharmacy, expiry) = (self.pharmacy, self.expiry);
        let result = self.chain.call(
            pharmacy,
            self.supply,
            "dispense",
            &(
                GTIN.to_string(),
                serial.to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
        let answer: Dispensing = result.decode();
        Verification {
            verified: answer.verified,
            failure_reason: answer.failure_reason,
            additional: answer.additional,
        }
    }

    fn verify_gs1(&self, serial: &str, expiry: &str) -> Verification {
        self.chain.view(
            self.maker,
            self.supply,
            "verify_gs1",
            &(
                GTIN.to_string(),
                serial.to_string(),
                LOT.to_string(),
                expiry.to_string(),
            ),
        )
    }
}

#[test]
fn a_saleable_return_is_accepted_only_by_the_seller_from_the_buyer_who_received_it() {
    let mut w = world();
    w.deliver_to_pharmacy();
    // S1 and S2: sold by the wholesaler to the pharmacy; S3: sold by the maker to the wholesaler.
    let (maker, wholesaler, pharmacy) = (w.maker, w.wholesaler, w.pharmacy);
    let refused = "SupplyError::NotAuthorised".to_string();
    for (who, serial, why) in [
        (maker, "S2", "the maker did not sell S2 to the pharmacy"),
        (pharmacy, "S3", "the pharmacy never shipped S3"),
        (pharmacy, "S2", "the owner cannot return a unit to itself"),
        (wholesaler, "S3", "the wholesaler owns S3"),
    ] {
        assert_eq!(w.accept_return(who, serial), Err(refused.clone()), "{why}");
    }
    // A unit in transit is returned by nobody, not even the party that sold it before.
    let shipment = w.ship(wholesaler, vec![unit("S3")], pharmacy);
    for who in [maker, wholesaler, pharmacy] {
        assert!(w.accept_return(who, "S3").is_err());
    }
    assert_eq!(
        w.accept_return(maker, "S3"),
        Err("SupplyError::WrongState".to_string())
    );
    let s3 = w.unit_state("S3");
    assert_eq!(
        (s3.owner, s3.disposition, s3.shipment),
        (wholesaler, Disposition::InTransit, Some(shipment))
    );
    // A dispensed unit is never taken back, nor revived.
    let rx = w.prescribe(11, 1);
    assert!(w.dispense("S1", rx).verified);
    assert_eq!(
        w.accept_return(wholesaler, "S1"),
        Err("SupplyError::WrongState".to_string())
    );
    assert_eq!(w.unit_state("S1").disposition, Disposition::Dispensed);
    // The one legitimate return, once.
    assert!(w.unit_state("S2").seller == Some(wholesaler));
    assert!(w.accept_return(wholesaler, "S2").unwrap().verified);
    let s2 = w.unit_state("S2");
    assert_eq!(
        (s2.owner, s2.custodian, s2.disposition),
        (wholesaler, wholesaler, Disposition::SellableAccessible)
    );
    assert_eq!(w.accept_return(wholesaler, "S2"), Err(refused));
}

#[test]
fn a_serial_out_of_commerce_verifies_false_not_for_redistribution() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let (maker, wholesaler, expiry) = (w.maker, w.wholesaler, w.expiry);
    let not_for_redistribution = |verification: Verification| {
        assert!(!verification.verified);
        assert_eq!(
            verification.failure_reason.as_deref(),
            Some("Not_for_re-distribution")
        );
    };
    assert!(w.verify("S1", LOT, expiry).verified);
    let rx = w.prescribe(12, 2);
    assert!(w.dispense("S1", rx).verified);
    not_for_redistribution(w.verify("S1", LOT, expiry));
    // Presented again at a counter, the dispensed serial is refused and flagged, not revived.
    not_for_redistribution(w.dispense("S1", rx));
    let s1 = w.unit_state("S1");
    assert!(s1.suspect);
    assert_eq!(s1.disposition, Disposition::Dispensed);

    assert_eq!(w.step(wholesaler, "decommission", vec![unit("S3")]), 1);
    not_for_redistribution(w.verify("S3", LOT, expiry));
    assert_eq!(w.step(wholesaler, "destroy", vec![unit("S3")]), 1);
    not_for_redistribution(w.verify("S3", LOT, expiry));
    w.commission(&["S5"]);
    assert_eq!(w.step(maker, "destroy", vec![unit("S5")]), 1);
    not_for_redistribution(w.verify("S5", LOT, expiry));
    // A mismatch of the identifiers is still reported as such.
    assert_eq!(
        w.verify("S5", "L9", expiry).failure_reason.as_deref(),
        Some("No_match_GTIN_Serial_Lot")
    );
}

#[test]
fn expiry_compares_as_a_gs1_date_with_day_00_the_end_of_the_month() {
    let mut w = world();
    let maker = w.maker;
    // 2028-02-29 (a leap day) 15:00 UTC.
    let leap_day_ms = 1_835_395_200_000 + 15 * 60 * 60 * 1000;
    let commissioned = w.chain.call(
        maker,
        w.supply,
        "commission",
        &(
            GTIN.to_string(),
            LOT.to_string(),
            leap_day_ms,
            vec!["D1".to_string()],
            "urn:gln:maker".to_string(),
        ),
    );
    assert!(commissioned.is_success());
    for printed in ["280200", "280229"] {
        let answer = w.verify_gs1("D1", printed);
        assert!(answer.verified, "{printed}: {answer:?}");
    }
    for printed in ["280228", "280300", "270200", "280230", "28022", "2802XX"] {
        let answer = w.verify_gs1("D1", printed);
        assert_eq!(
            answer.failure_reason.as_deref(),
            Some("No_match_GTIN_Serial_Expiry"),
            "{printed}"
        );
    }
    // The same day at another hour is the same expiry date.
    let midnight = leap_day_ms - 15 * 60 * 60 * 1000;
    assert!(w.verify("D1", LOT, midnight).verified);
    assert!(!w.verify("D1", LOT, midnight - 1).verified);

    // A product may be used through its expiry date: expired from the next day on.
    let today_ms = w.chain.timestamp_ms() / DAY_MS * DAY_MS;
    let commissioned = w.chain.call(
        maker,
        w.supply,
        "commission",
        &(
            GTIN.to_string(),
            LOT.to_string(),
            today_ms,
            vec!["D2".to_string()],
            "urn:gln:maker".to_string(),
        ),
    );
    assert!(commissioned.is_success());
    let today = w.verify("D2", LOT, today_ms);
    assert!(today.verified && today.additional.is_empty(), "{today:?}");
    w.chain.advance_time(DAY_MS);
    let tomorrow = w.verify("D2", LOT, today_ms);
    assert_eq!(tomorrow.additional, vec!["Expired".to_string()]);
}

#[test]
fn an_sscc_needs_18_digits_and_a_valid_check_digit() {
    let mut w = world();
    w.commission(&["S1", "S2"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let invalid = "SupplyError::InvalidIdentifier";
    let s1 = vec![(GTIN.to_string(), "S1".to_string())];
    for sscc in [
        "SSCC1",
        "006141410000000013",
        "00614141000000001",
        "0061414100000000120",
    ] {
        let refusal = w.refusal(
            maker,
            "pack",
            &(sscc.to_string(), s1.clone(), "urn:gln:maker".to_string()),
        );
        assert_eq!(refusal, invalid, "{sscc}");
    }
    let case = "006141410000000012".to_string();
    let packed = w.chain.call(
        maker,
        w.supply,
        "pack",
        &(case.clone(), s1, "urn:gln:maker".to_string()),
    );
    assert!(packed.is_success(), "{:?}", packed.receipt.status);
    let bad_pallet = w.refusal(
        maker,
        "pack_cases",
        &(
            "106141410000001008".to_string(),
            vec![case.clone()],
            "urn:gln:maker".to_string(),
        ),
    );
    assert_eq!(bad_pallet, invalid);
    let named = Epc::Case("006141410000000029X".into());
    assert_eq!(
        w.ship_refusal(maker, vec![named.clone()], wholesaler),
        invalid
    );
    let held = w.refusal(maker, "hold", &(vec![named], "urn:gln:maker".to_string()));
    assert_eq!(held, invalid);
    let unpacked = w.refusal(
        maker,
        "unpack",
        &("SSCC1".to_string(), "urn:gln:maker".to_string()),
    );
    assert_eq!(unpacked, invalid);
}

#[test]
fn decommissioning_and_destroying_are_object_events_with_action_delete() {
    let mut w = world();
    w.commission(&["S1", "S2"]);
    let maker = w.maker;
    assert_eq!(w.step(maker, "hold", vec![unit("S2")]), 1);
    assert_eq!(w.step(maker, "decommission", vec![unit("S1")]), 1);
    assert_eq!(w.step(maker, "destroy", vec![unit("S2")]), 1);
    let shape = |w: &World, serial: &str| -> Vec<(String, String, String)> {
        w.history(serial)
            .into_iter()
            .map(|event| (event.event_type, event.action, event.biz_step))
            .collect()
    };
    let event = |action: &str, step: &str| {
        (
            "ObjectEvent".to_string(),
            action.to_string(),
            step.to_string(),
        )
    };
    assert_eq!(
        shape(&w, "S1"),
        [
            event("ADD", "commissioning"),
            event("DELETE", "decommissioning")
        ]
    );
    assert_eq!(
        shape(&w, "S2"),
        [
            event("ADD", "commissioning"),
            event("OBSERVE", "holding"),
            event("DELETE", "destroying")
        ]
    );
}

#[test]
fn only_the_owner_custodian_or_a_regulator_quarantines_and_the_outcome_settles_the_flags() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let (maker, wholesaler, pharmacy) = (w.maker, w.wholesaler, w.pharmacy);
    let regulator = w.chain.new_account(10u128.pow(20));
    let (authority, registry) = (w.authority, w.registry);
    register(
        &mut w.chain,
        authority,
        registry,
        regulator,
        Role::Authority,
        3650,
    );
    let suspect = |w: &mut World, by: Address, serial: &str| {
        let result = w.chain.call(
            by,
            w.supply,
            "suspect",
            &(
                vec![unit(serial)],
                "damaged_seal".to_string(),
                "urn:gln:site".to_string(),
            ),
        );
        if result.is_success() {
            Ok(result.decode::<u64>())
        } else {
            Err(result.revert_message().to_string())
        }
    };
    // The pharmacy owns S1: neither the maker nor the wholesaler may quarantine it.
    for who in [maker, wholesaler] {
        assert_eq!(
            suspect(&mut w, who, "S1"),
            Err("SupplyError::NotAuthorised".to_string())
        );
    }
    assert_eq!(
        w.unit_state("S1").disposition,
        Disposition::SellableAccessible
    );
    // A regulator may; cleared, the unit is back in commerce (and is dispensed).
    let case = suspect(&mut w, regulator, "S1").unwrap();
    let s1 = w.unit_state("S1");
    assert!(s1.suspect && s1.quarantined);
    assert_eq!(s1.disposition, Disposition::NonSellableOther);
    let release = w.refusal(
        pharmacy,
        "release",
        &(vec![unit("S1")], "urn:gln:site".to_string()),
    );
    assert_eq!(release, "SupplyError::WrongState");
    let cleared = w.chain.call(
        regulator,
        w.supply,
        "classify",
        &(case, Classification::Cleared),
    );
    assert!(cleared.is_success(), "{:?}", cleared.receipt.status);
    let s1 = w.unit_state("S1");
    assert!(!s1.suspect && !s1.quarantined && !s1.illegitimate);
    assert_eq!(s1.disposition, Disposition::SellableAccessible);
    let rx = w.prescribe(13, 1);
    assert!(w.dispense("S1", rx).verified);

    // The owner may; found illegitimate, the unit stays out of commerce.
    let case = suspect(&mut w, pharmacy, "S2").unwrap();
    let counterfeit = w.chain.call(
        pharmacy,
        w.supply,
        "classify",
        &(case, Classification::Counterfeit),
    );
    assert!(counterfeit.is_success());
    let s2 = w.unit_state("S2");
    assert!(s2.illegitimate && s2.quarantined);
    let release = w.refusal(
        pharmacy,
        "release",
        &(vec![unit("S2")], "urn:gln:site".to_string()),
    );
    assert_eq!(release, "SupplyError::WrongState");
    assert!(
        w.verify("S2", LOT, w.expiry)
            .additional
            .contains(&"Illegitimate".to_string())
    );

    // A clone report's flags are settled by its investigation too: cleared stock is not stuck.
    let sighted = w.chain.call(
        pharmacy,
        w.supply,
        "report_sighting",
        &(GTIN.to_string(), "S3".to_string(), "urn:gln:p".to_string()),
    );
    assert!(sighted.decode::<bool>());
    let case = w.open_investigations().into_iter().max().unwrap();
    assert!(w.unit_state("S3").suspect);
    let cleared = w.chain.call(
        maker,
        w.supply,
        "classify",
        &(case, Classification::Cleared),
    );
    assert!(cleared.is_success());
    let s3 = w.unit_state("S3");
    assert!(!s3.suspect && !s3.quarantined);
    assert_eq!(
        w.ship(wholesaler, vec![unit("S3")], pharmacy),
        2,
        "the cleared unit ships again"
    );
}

#[test]
fn a_partial_or_wrong_delivery_is_a_discrepancy_and_nothing_stays_in_transit() {
    let mut w = world();
    w.commission(&["A1", "A2", "A3"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let shipment = w.ship(maker, vec![unit("A1"), unit("A2"), unit("A3")], wholesaler);
    // A3 and A1 arrive (in another order), A2 does not, and FOREIGN turns up instead.
    let receipt = w.chain.call(
        wholesaler,
        w.supply,
        "receive",
        &(
            shipment,
            vec![unit("A3"), unit("FOREIGN"), unit("A1")],
            "urn:gln:receiving".to_string(),
        ),
    );
    assert!(!receipt.decode::<bool>(), "a discrepancy");
    let discrepancy: Option<Discrepancy> = w.chain.view(maker, w.supply, "discrepancy", &shipment);
    let discrepancy = discrepancy.expect("the discrepancy is recorded");
    assert_eq!(discrepancy.missing, vec![unit("A2")]);
    assert_eq!(discrepancy.unexpected, vec![unit("FOREIGN")]);
    // What arrived is received.
    for serial in ["A1", "A3"] {
        let state = w.unit_state(serial);
        assert_eq!((state.owner, state.custodian), (wholesaler, wholesaler));
        assert_eq!(state.disposition, Disposition::SellableAccessible);
        assert_eq!(state.shipment, None);
    }
    // What did not is out of transit: back with the seller, held, until the seller resolves it.
    let a2 = w.unit_state("A2");
    assert_eq!((a2.owner, a2.shipment), (maker, None));
    assert!(a2.quarantined);
    assert_eq!(a2.disposition, Disposition::NonSellableOther);
    let history: Vec<EpcisEvent> = w.chain.view(
        maker,
        w.supply,
        "history",
        &(GTIN.to_string(), "A2".to_string()),
    );
    assert_eq!(
        history.last().map(|event| event.biz_step.as_str()),
        Some("holding")
    );
    // A receipt happens once.
    assert_eq!(
        w.chain
            .call(
                wholesaler,
                w.supply,
                "receive",
                &(shipment, vec![unit("A2")], "x".to_string())
            )
            .revert_message(),
        "SupplyError::AlreadyReceived"
    );
    // Found again: the seller releases it, and it ships anew.
    assert!(
        w.chain
            .call(
                maker,
                w.supply,
                "release",
                &(vec![unit("A2")], "urn:gln:maker".to_string())
            )
            .is_success()
    );
    assert_eq!(
        w.unit_state("A2").disposition,
        Disposition::SellableAccessible
    );
    let again = w.ship(maker, vec![unit("A2")], wholesaler);
    assert!(w.receive(wholesaler, again, vec![unit("A2")]));
    assert_eq!(w.unit_state("A2").owner, wholesaler);
}

#[test]
fn the_receiving_transaction_event_names_its_business_transactions() {
    let mut w = world();
    w.commission(&["A1", "A2"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let shipment = w.ship(maker, vec![unit("A1")], wholesaler);
    assert!(w.receive(wholesaler, shipment, vec![unit("A1")]));
    let receiving = |w: &World, serial: &str| -> EpcisEvent {
        let history: Vec<EpcisEvent> = w.chain.view(
            w.maker,
            w.supply,
            "history",
            &(GTIN.to_string(), serial.to_string()),
        );
        history
            .into_iter()
            .find(|event| event.biz_step == "receiving")
            .expect("received")
    };
    let event = receiving(&w, "A1");
    assert_eq!(event.event_type, "TransactionEvent");
    assert_eq!(
        event.biz_transactions,
        vec![("po".to_string(), Hash([4; 32]))],
        "the shipment's DSCSA transaction reference, as on the shipping event"
    );
    // A shipment without documents is still named by its despatch advice.
    let bare: u64 = w
        .chain
        .call(
            maker,
            w.supply,
            "ship",
            &(
                vec![unit("A2")],
                wholesaler,
                Vec::<(String, Hash)>::new(),
                "urn:gln:dock".to_string(),
            ),
        )
        .decode();
    assert!(w.receive(wholesaler, bare, vec![unit("A2")]));
    let event = receiving(&w, "A2");
    let mut reference = [0u8; 32];
    reference[24..].copy_from_slice(&bare.to_be_bytes());
    assert_eq!(
        event.biz_transactions,
        vec![("desadv".to_string(), Hash(reference))]
    );
}

#[test]
fn a_refused_dispense_is_recorded_as_a_decision() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let pharmacy = w.pharmacy;
    let expiry = w.expiry;
    let unknown_rx = Rx {
        handle: Hash([42; 32]),
        salt: Hash([1; 32]),
        inner: Hash([2; 32]),
    };
    let result = w.chain.call(
        pharmacy,
        w.supply,
        "dispense",
        &(
            GTIN.to_string(),
            "S1".to_string(),
            LOT.to_string(),
            expiry,
            unknown_rx,
        ),
    );
    assert!(result.is_success(), "recorded, not reverted");
    let answer: Dispensing = result.decode();
    assert!(answer.verified && !answer.dispensed);
    assert_eq!(answer.refusal.as_deref(), Some("UnknownPrescription"));
    assert!(
        result.events().iter().any(|event| event.topics.len() == 2),
        "a Refused event"
    );
    let id = answer.decision.expect("a stored decision");
    let stored: Option<DispenseRefusal> = w.chain.view(w.maker, w.supply, "refusal", &id);
    let stored = stored.expect("stored");
    assert_eq!(
        (
            stored.dispenser,
            stored.serial.as_str(),
            stored.prescription,
            stored.reason.as_str(),
            stored.case
        ),
        (
            pharmacy,
            "S1",
            unknown_rx.handle,
            "UnknownPrescription",
            None
        )
    );
    assert_eq!(
        w.unit_state("S1").disposition,
        Disposition::SellableAccessible
    );
    // A failed verification is a decision too, with its investigation.
    let rx = w.prescribe(8, 1);
    let fake: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "FAKE9".to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert_eq!(fake.refusal.as_deref(), Some("No_match_GTIN_Serial"));
    let stored: Option<DispenseRefusal> = w.chain.view(
        w.maker,
        w.supply,
        "refusal",
        &fake.decision.expect("stored"),
    );
    assert!(stored.expect("stored").case.is_some());
    // A caller that is no dispenser is refused outright.
    let maker = w.maker;
    assert_eq!(
        w.chain
            .call(
                maker,
                w.supply,
                "dispense",
                &(
                    GTIN.to_string(),
                    "S1".to_string(),
                    LOT.to_string(),
                    expiry,
                    rx
                ),
            )
            .revert_message(),
        "SupplyError::NotAuthorised"
    );
}

/// A second product of the test manufacturer (its company prefix `0312345`), another NDC.
const OTHER_GTIN: &str = "00312345111113";
const OTHER_NDC: &str = "12345-111-11";

/// Whether `needle` occurs anywhere in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

impl World {
    /// Registers `OTHER_GTIN`, commissions `serial` of it and delivers it to the pharmacy.
    fn deliver_other_product(&mut self, serial: &str) {
        let maker = self.maker;
        let product = (
            OTHER_GTIN.to_string(),
            OTHER_NDC.to_string(),
            "Metformin".to_string(),
            "500 mg".to_string(),
            "tablet".to_string(),
            "60".to_string(),
        );
        let registered = self
            .chain
            .call(maker, self.supply, "register_product", &product);
        assert!(registered.is_success(), "{:?}", registered.receipt.status);
        let commissioned = self.chain.call(
            maker,
            self.supply,
            "commission",
            &(
                OTHER_GTIN.to_string(),
                LOT.to_string(),
                self.expiry,
                vec![serial.to_string()],
                "urn:gln:maker".to_string(),
            ),
        );
        assert!(
            commissioned.is_success(),
            "{:?}",
            commissioned.receipt.status
        );
        let epcs = vec![Epc::Unit(OTHER_GTIN.into(), serial.into())];
        let pharmacy = self.pharmacy;
        let shipment = self.ship(maker, epcs.clone(), pharmacy);
        assert!(self.receive(pharmacy, shipment, epcs));
    }

    fn prescription(&self, handle: Hash) -> Option<Prescription> {
        self.chain
            .view(self.maker, self.supply, "prescription", &handle)
    }
}

#[test]
fn a_prescription_is_only_a_handle_and_its_dispensing_names_only_the_handle() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let patient = w.chain.new_account(1);
    let expires = w.chain.timestamp_ms() + 30 * DAY_MS;
    let rx = w.prescribe_for(Rx::new(21, NDC, patient), 1, expires);
    // What the chain stores: the prescriber, fills and expiry under the handle; no patient, no
    // product, no opening.
    assert_eq!(
        w.prescription(rx.handle),
        Some(Prescription {
            practitioner: w.doctor,
            fills_left: 1,
            expires_ms: expires,
        })
    );
    let mut key = b"rx/".to_vec();
    key.extend_from_slice(&rx.handle.0);
    let stored = w
        .chain
        .storage(&w.supply, &key)
        .expect("stored under rx/ ‖ handle");
    for (secret, what) in [
        (&patient.0[..], "the patient"),
        (NDC.as_bytes(), "the NDC"),
        (&rx.inner.0[..], "the patient commitment"),
        (&rx.salt.0[..], "the salt"),
    ] {
        assert!(!contains(&stored, secret), "{what} is not stored");
    }

    let result = w.dispense_as_pharmacy(GTIN, "S1", rx);
    let answer: Dispensing = result.decode();
    assert!(answer.verified && answer.dispensed, "{answer:?}");
    assert!(!result.events().is_empty(), "the dispensing EPCIS event");
    for event in result.events() {
        let bytes: Vec<u8> = event
            .topics
            .iter()
            .flat_map(|topic| topic.0)
            .chain(event.data.iter().copied())
            .collect();
        for (secret, what) in [
            (&patient.0[..], "the patient"),
            (&rx.inner.0[..], "the patient commitment"),
            (NDC.as_bytes(), "the NDC"),
        ] {
            assert!(!contains(&bytes, secret), "no event carries {what}");
        }
    }
    assert!(!contains(&result.receipt.return_data, &patient.0));
    // The stored dispensing event names the prescription by its handle, and nothing of the
    // patient.
    let history: Vec<EpcisEvent> = w.chain.view(
        w.maker,
        w.supply,
        "history",
        &(GTIN.to_string(), "S1".to_string()),
    );
    let dispensing = history.last().expect("history");
    assert_eq!(dispensing.biz_step, "dispensing");
    assert_eq!(
        dispensing.biz_transactions,
        vec![("rx".to_string(), rx.handle)]
    );
    let encoded = dispensing.encode();
    assert!(!contains(&encoded, &patient.0) && !contains(&encoded, &rx.inner.0));
    assert_eq!(w.prescription(rx.handle).map(|rx| rx.fills_left), Some(0));
}

#[test]
fn a_wrong_salt_a_wrong_patient_commitment_or_another_products_unit_is_a_recorded_mismatch() {
    let mut w = world();
    w.deliver_to_pharmacy();
    w.deliver_other_product("T1");
    let patient = w.chain.new_account(1);
    let expires = w.chain.timestamp_ms() + 30 * DAY_MS;
    let rx = w.prescribe_for(Rx::new(22, NDC, patient), 1, expires);
    let wrong_salt = Rx {
        salt: Hash([0xee; 32]),
        ..rx
    };
    let wrong_inner = Rx {
        inner: Rx::new(22, NDC, w.pharmacy).inner,
        ..rx
    };
    for (gtin, serial, presented, what) in [
        (GTIN, "S1", wrong_salt, "a wrong salt"),
        (GTIN, "S1", wrong_inner, "another patient's commitment"),
        (OTHER_GTIN, "T1", rx, "a unit of another product"),
    ] {
        let result = w.dispense_as_pharmacy(gtin, serial, presented);
        let answer: Dispensing = result.decode();
        assert_eq!(
            (answer.verified, answer.dispensed, answer.refusal.as_deref()),
            (true, false, Some("PrescriptionMismatch")),
            "{what}"
        );
        assert!(
            result.events().iter().any(|event| event.topics.len() == 2),
            "{what}: a Refused event"
        );
        let stored: Option<DispenseRefusal> = w.chain.view(
            w.maker,
            w.supply,
            "refusal",
            &answer.decision.expect("a stored decision"),
        );
        let stored = stored.expect("stored");
        assert_eq!(
            (
                stored.gtin.as_str(),
                stored.serial.as_str(),
                stored.prescription,
                stored.reason.as_str()
            ),
            (gtin, serial, rx.handle, "PrescriptionMismatch"),
            "{what}"
        );
    }
    let other: Option<Unit> = w.chain.view(
        w.maker,
        w.supply,
        "unit",
        &(OTHER_GTIN.to_string(), "T1".to_string()),
    );
    assert_eq!(
        other.expect("commissioned").disposition,
        Disposition::SellableAccessible
    );
    // Nothing was consumed: the right opening and product dispenses.
    assert_eq!(w.prescription(rx.handle).map(|rx| rx.fills_left), Some(1));
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S1", rx).decode();
    assert!(answer.dispensed);
    // A prescription written for the other product dispenses its unit.
    let for_other = w.prescribe_for(Rx::new(23, OTHER_NDC, patient), 1, expires);
    let answer: Dispensing = w.dispense_as_pharmacy(OTHER_GTIN, "T1", for_other).decode();
    assert!(answer.dispensed, "{answer:?}");
}

#[test]
fn fills_and_expiry_still_bound_a_prescription_dispensed_by_its_opening() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let patient = w.chain.new_account(1);
    let now = w.chain.timestamp_ms();
    let once = w.prescribe_for(Rx::new(24, NDC, patient), 1, now + 30 * DAY_MS);
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S1", once).decode();
    assert!(answer.dispensed);
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S2", once).decode();
    assert_eq!(
        (answer.dispensed, answer.refusal.as_deref()),
        (false, Some("PrescriptionFilled"))
    );
    let short = w.prescribe_for(Rx::new(25, NDC, patient), 2, now + DAY_MS);
    w.chain.advance_time(DAY_MS);
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S2", short).decode();
    assert_eq!(
        (answer.dispensed, answer.refusal.as_deref()),
        (false, Some("PrescriptionExpired")),
        "expired from its expiry instant on"
    );
    assert_eq!(
        w.prescription(short.handle).map(|rx| rx.fills_left),
        Some(2)
    );
    assert_eq!(
        w.unit_state("S2").disposition,
        Disposition::SellableAccessible
    );
}

#[test]
fn two_prescriptions_of_one_product_for_one_patient_have_unrelated_handles() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let patient = w.chain.new_account(1);
    let expires = w.chain.timestamp_ms() + 30 * DAY_MS;
    // The same patient commitment and product, two salts.
    let first = Rx::new(26, NDC, patient);
    let second = Rx {
        salt: Hash([27; 32]),
        handle: prescription_handle(&Hash([27; 32]), NDC, &first.inner),
        ..first
    };
    assert_ne!(first.handle, second.handle);
    // Without the salt, knowing the product and the patient commitment finds neither handle.
    assert_ne!(
        prescription_handle(&Hash([0; 32]), NDC, &first.inner),
        first.handle
    );
    let first = w.prescribe_for(first, 1, expires);
    let second = w.prescribe_for(second, 1, expires);
    let doctor = w.doctor;
    assert_eq!(
        w.chain
            .call(
                doctor,
                w.supply,
                "prescribe",
                &(first.handle, 1u32, expires)
            )
            .revert_message(),
        "SupplyError::AlreadyCommissioned",
        "a handle is recorded once"
    );
    // Each is its own prescription: filling one leaves the other.
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S1", first).decode();
    assert!(answer.dispensed);
    assert_eq!(
        w.prescription(first.handle).map(|rx| rx.fills_left),
        Some(0)
    );
    assert_eq!(
        w.prescription(second.handle).map(|rx| rx.fills_left),
        Some(1)
    );
    let answer: Dispensing = w.dispense_as_pharmacy(GTIN, "S2", second).decode();
    assert!(answer.dispensed);
}

#[test]
fn an_unlicensed_manufacturer_neither_commissions_nor_ships() {
    let mut w = world();
    let (authority, registry, wholesaler) = (w.authority, w.registry, w.wholesaler);
    let maker = w.chain.new_account(10u128.pow(20));
    register_with_prefix(
        &mut w.chain,
        authority,
        registry,
        maker,
        Role::Manufacturer,
        2,
        Some(MAKER_PREFIX),
    );
    let gtin = "10312345678903";
    let product = (
        gtin.to_string(),
        NDC.to_string(),
        "Amoxicillin".to_string(),
        "500 mg".to_string(),
        "capsule".to_string(),
        "100".to_string(),
    );
    assert!(
        w.chain
            .call(maker, w.supply, "register_product", &product)
            .is_success()
    );
    let commission = |serial: &str| {
        (
            gtin.to_string(),
            LOT.to_string(),
            w.expiry,
            vec![serial.to_string()],
            "urn:gln:m".to_string(),
        )
    };
    let (first, second) = (commission("S1"), commission("S2"));
    assert!(
        w.chain
            .call(maker, w.supply, "commission", &first)
            .is_success()
    );
    // The licence ends: no more commissioning, and what was made does not ship.
    w.chain.advance_time(3 * DAY_MS);
    assert_eq!(
        w.refusal(maker, "commission", &second),
        "SupplyError::NotAuthorised"
    );
    let shipped = vec![Epc::Unit(gtin.into(), "S1".into())];
    assert_eq!(
        w.ship_refusal(maker, shipped, wholesaler),
        "SupplyError::NotAuthorised"
    );
}

impl World {
    /// Registers a new third-party logistics provider (registry `Role::ThirdPartyLogistics`).
    fn logistics_provider(&mut self) -> Address {
        let logistics = self.chain.new_account(10u128.pow(20));
        register(
            &mut self.chain,
            self.authority,
            self.registry,
            logistics,
            Role::ThirdPartyLogistics,
            3650,
        );
        logistics
    }

    fn consign(&mut self, from: Address, epcs: Vec<Epc>, to: Address) -> u64 {
        self.chain
            .call(
                from,
                self.supply,
                "consign",
                &(epcs, to, "urn:gln:dock".to_string()),
            )
            .decode()
    }
}

#[test]
fn a_third_party_logistics_provider_holds_goods_as_custodian_and_ships_only_the_owners_sale() {
    let mut w = world();
    w.commission(&["S1", "S2", "S3"]);
    let logistics = w.logistics_provider();
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let goods = vec![unit("S1"), unit("S2"), unit("S3")];
    // A 3PL never takes ownership: selling to it is refused.
    assert_eq!(
        w.ship_refusal(maker, goods.clone(), logistics),
        "SupplyError::PartnerNotAuthorised"
    );
    // Consigned to the 3PL's warehouse and received there: custody moves, ownership stays.
    let consignment = w.consign(maker, goods.clone(), logistics);
    assert!(w.receive(logistics, consignment, goods));
    let s1 = w.unit_state("S1");
    assert_eq!(
        (s1.owner, s1.custodian, s1.seller, s1.disposition),
        (maker, logistics, None, Disposition::SellableAccessible)
    );
    let shipment: Option<supply::Shipment> =
        w.chain.view(maker, w.supply, "shipment", &consignment);
    let shipment = shipment.expect("stored");
    assert_eq!(
        (shipment.information, shipment.shipper, shipment.receiver),
        (None, maker, logistics),
        "a custody move is no transaction"
    );
    // Custody moved (the possessing parties), ownership did not (no owning parties).
    let moves: Vec<String> = w
        .history("S1")
        .into_iter()
        .skip(1)
        .map(|event| {
            assert_eq!(
                (event.source, event.destination, event.custody),
                (None, None, Some((maker, logistics)))
            );
            format!("{} {}", event.event_type, event.biz_step)
        })
        .collect();
    assert_eq!(moves, ["ObjectEvent shipping", "ObjectEvent receiving"]);
    // The 3PL cannot sell on its own: not by shipping, selling or consigning to a buyer.
    assert_eq!(
        w.ship_refusal(logistics, vec![unit("S1")], wholesaler),
        "SupplyError::NotAuthorised"
    );
    let no_documents = Vec::<(String, Hash)>::new();
    assert_eq!(
        w.refusal(
            logistics,
            "sell",
            &(vec![unit("S1")], wholesaler, no_documents.clone())
        ),
        "SupplyError::NotAuthorised"
    );
    assert_eq!(
        w.refusal(
            logistics,
            "consign",
            &(vec![unit("S1")], wholesaler, "urn:gln:3pl".to_string())
        ),
        "SupplyError::NotAuthorised"
    );
    // Nor does the owner ship what it does not hold: it sells, and the 3PL dispatches.
    assert_eq!(
        w.ship_refusal(maker, vec![unit("S1")], wholesaler),
        "SupplyError::NotAuthorised"
    );
    let documents = vec![("inv".to_string(), Hash([6; 32]))];
    let sale: u64 = w
        .chain
        .call(
            maker,
            w.supply,
            "sell",
            &(vec![unit("S1")], wholesaler, documents.clone()),
        )
        .decode();
    assert_eq!(
        w.refusal(
            maker,
            "sell",
            &(vec![unit("S1")], w.pharmacy, no_documents.clone())
        ),
        "SupplyError::WrongState",
        "a unit is sold once"
    );
    // The seller may withdraw a sale before dispatch (only the seller, once); it is then
    // never dispatched, and the unit can be sold again.
    let pharmacy = w.pharmacy;
    let withdrawn: u64 = w
        .chain
        .call(
            maker,
            w.supply,
            "sell",
            &(vec![unit("S2")], pharmacy, no_documents.clone()),
        )
        .decode();
    assert_eq!(
        w.refusal(logistics, "cancel_sale", &withdrawn),
        "SupplyError::NotAuthorised"
    );
    assert!(
        w.chain
            .call(maker, w.supply, "cancel_sale", &withdrawn)
            .is_success()
    );
    let cancelled_at = w.chain.timestamp_ms();
    assert_eq!(
        w.refusal(maker, "cancel_sale", &withdrawn),
        "SupplyError::WrongState"
    );
    assert_eq!(
        w.refusal(
            logistics,
            "dispatch",
            &(withdrawn, "urn:gln:3pl".to_string())
        ),
        "SupplyError::WrongState"
    );
    let cancelled: Option<supply::Sale> = w.chain.view(maker, w.supply, "sale", &withdrawn);
    assert_eq!(
        cancelled.and_then(|sale| sale.cancelled_ms),
        Some(cancelled_at)
    );
    let resold = w.chain.call(
        maker,
        w.supply,
        "sell",
        &(vec![unit("S2")], pharmacy, no_documents),
    );
    assert!(resold.is_success(), "{:?}", resold.receipt.status);
    assert_eq!(
        w.refusal(wholesaler, "dispatch", &(sale, "urn:gln:3pl".to_string())),
        "SupplyError::NotAuthorised"
    );
    let dispatched = w.chain.call(
        logistics,
        w.supply,
        "dispatch",
        &(sale, "urn:gln:3pl".to_string()),
    );
    assert!(dispatched.is_success(), "{:?}", dispatched.receipt.status);
    let shipment_id: u64 = dispatched.decode();
    assert_eq!(
        w.refusal(logistics, "dispatch", &(sale, "urn:gln:3pl".to_string())),
        "SupplyError::WrongState",
        "a sale is dispatched once"
    );
    // In transit the owner is still the seller.
    let travelling = w.unit_state("S1");
    assert_eq!(
        (travelling.owner, travelling.disposition),
        (maker, Disposition::InTransit)
    );
    let shipping = w.history("S1").pop().expect("the dispatch");
    assert_eq!(
        (
            shipping.event_type.as_str(),
            shipping.source,
            shipping.destination,
            shipping.custody,
            shipping.biz_transactions.clone(),
        ),
        (
            "TransactionEvent",
            Some(maker),
            Some(wholesaler),
            Some((logistics, wholesaler)),
            documents
        )
    );
    // Ownership moves only with the sale's receipt.
    assert!(w.receive(wholesaler, shipment_id, vec![unit("S1")]));
    let sold = w.unit_state("S1");
    assert_eq!(
        (sold.owner, sold.custodian, sold.seller),
        (wholesaler, wholesaler, Some(maker))
    );
    let shipment: Option<supply::Shipment> =
        w.chain.view(maker, w.supply, "shipment", &shipment_id);
    let information = shipment
        .and_then(|shipment| shipment.information)
        .expect("a sale");
    assert_eq!(
        (
            information.seller,
            information.buyer,
            information.lines[0].units
        ),
        (maker, wholesaler, 1)
    );
    // Verification and suspect rules hold with a custodian: the unit verifies; the 3PL sees
    // its own stock legitimately and may quarantine it as suspect; another party's sighting
    // is a clone.
    assert!(w.verify("S2", LOT, w.expiry).verified);
    let own: bool = w
        .chain
        .call(
            logistics,
            w.supply,
            "report_sighting",
            &(
                GTIN.to_string(),
                "S2".to_string(),
                "urn:gln:3pl".to_string(),
            ),
        )
        .decode();
    assert!(!own);
    let suspected = w.chain.call(
        logistics,
        w.supply,
        "suspect",
        &(
            vec![unit("S2")],
            "damaged".to_string(),
            "urn:gln:3pl".to_string(),
        ),
    );
    assert!(suspected.is_success(), "{:?}", suspected.receipt.status);
    assert!(w.unit_state("S2").quarantined);
    assert_eq!(
        w.refusal(
            logistics,
            "consign",
            &(vec![unit("S2")], maker, "urn:gln:3pl".to_string())
        ),
        "SupplyError::NotMovable"
    );
    let clone: bool = w
        .chain
        .call(
            wholesaler,
            w.supply,
            "report_sighting",
            &(GTIN.to_string(), "S3".to_string(), "urn:gln:w".to_string()),
        )
        .decode();
    assert!(clone);
    // The 3PL sends goods back to their owner only; the owner holds them again.
    let s4_goods = {
        w.commission(&["S4"]);
        vec![unit("S4")]
    };
    let placed = w.consign(maker, s4_goods.clone(), logistics);
    assert!(w.receive(logistics, placed, s4_goods.clone()));
    let back = w.consign(logistics, s4_goods.clone(), maker);
    assert!(w.receive(maker, back, s4_goods));
    let s4 = w.unit_state("S4");
    assert_eq!((s4.owner, s4.custodian), (maker, maker));
}

impl World {
    /// Commissions `count` units of lot `lot` in as few transactions as the per-event limit
    /// (500 units) allows.
    fn commission_lot(&mut self, lot: &str, count: usize) {
        let maker = self.maker;
        let serials: Vec<String> = (0..count).map(|i| format!("{lot}N{i:07}")).collect();
        for batch in serials.chunks(500) {
            let result = self.chain.call(
                maker,
                self.supply,
                "commission",
                &(
                    GTIN.to_string(),
                    lot.to_string(),
                    self.expiry,
                    batch.to_vec(),
                    "urn:gln:maker".to_string(),
                ),
            );
            assert!(result.is_success(), "{:?}", result.receipt.status);
        }
    }

    fn recall_lot(&mut self, lot: &str) -> salus_testkit::CallResult {
        let maker = self.maker;
        let result = self.chain.call(
            maker,
            self.supply,
            "recall",
            &(GTIN.to_string(), vec![lot.to_string()], RecallClass::ClassI),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
        result
    }
}

#[test]
fn a_recall_of_a_100000_unit_lot_fits_one_transaction_and_costs_what_a_small_one_does() {
    let mut w = world();
    w.commission_lot("SMALL", 10);
    w.commission_lot("LARGE", 100_000);
    let small = w.recall_lot("SMALL");
    let large = w.recall_lot("LARGE");
    assert_eq!(small.decode::<u32>(), 10);
    assert_eq!(large.decode::<u32>(), 100_000);
    println!(
        "recall: lot of 10 units {} fuel; lot of 100000 units {} fuel",
        small.fuel_used(),
        large.fuel_used()
    );
    // The recall is one lot-level record: its fuel does not depend on the lot's size (the two
    // lot names are equally long).
    assert!(large.fuel_used() < salus_testkit::TRANSACTION_FUEL);
    assert_eq!(large.fuel_used(), small.fuel_used());
    // Every unit of the lot is stopped: the first and the last commissioned.
    for serial in ["LARGEN0000000", "LARGEN0099999"] {
        let answer: Verification = w.chain.view(
            w.maker,
            w.supply,
            "verify",
            &(
                GTIN.to_string(),
                serial.to_string(),
                "LARGE".to_string(),
                w.expiry,
            ),
        );
        assert_eq!(
            (answer.verified, answer.additional),
            (true, vec!["Recalled".to_string()])
        );
    }
    let maker = w.maker;
    assert_eq!(
        w.ship_refusal(maker, vec![unit("LARGEN0099999")], w.wholesaler),
        "SupplyError::NotMovable"
    );
}

#[test]
fn units_commissioned_into_a_recalled_lot_later_are_recalled_too() {
    let mut w = world();
    w.commission(&["S1"]);
    assert_eq!(w.recall_lot(LOT).decode::<u32>(), 1);
    w.commission(&["S2"]);
    let answer = w.verify("S2", LOT, w.expiry);
    assert_eq!(
        (answer.verified, answer.additional),
        (true, vec!["Recalled".to_string()])
    );
    let maker = w.maker;
    assert_eq!(
        w.ship_refusal(maker, vec![unit("S2")], w.wholesaler),
        "SupplyError::NotMovable"
    );
    assert_eq!(
        w.refusal(
            maker,
            "pack",
            &(
                "006141410000000012".to_string(),
                vec![(GTIN.to_string(), "S2".to_string())],
                "urn:gln:maker".to_string(),
            )
        ),
        "SupplyError::NotMovable"
    );
    // Held units of the lot stay held: a recalled unit is not released.
    assert_eq!(w.step(maker, "hold", vec![unit("S2")]), 1);
    assert_eq!(
        w.refusal(
            maker,
            "release",
            &(vec![unit("S2")], "urn:gln:site".to_string())
        ),
        "SupplyError::WrongState"
    );
    // Another lot of the product is untouched.
    w.commission_lot("L9", 1);
    let wholesaler = w.wholesaler;
    let shipment = w.ship(maker, vec![unit("L9N0000000")], wholesaler);
    assert!(w.receive(wholesaler, shipment, vec![unit("L9N0000000")]));
}

#[test]
fn a_lots_extended_expiry_verifies_the_printed_date_with_expiration_extended() {
    let mut w = world();
    w.commission(&["S1"]);
    let (maker, wholesaler) = (w.maker, w.wholesaler);
    let printed = w.expiry;
    let extended = printed + 180 * DAY_MS;
    let extend = |lot: &str, expiry: u64| (GTIN.to_string(), lot.to_string(), expiry);
    assert_eq!(
        w.refusal(wholesaler, "extend_expiry", &extend(LOT, extended)),
        "SupplyError::NotAuthorised"
    );
    assert_eq!(
        w.refusal(maker, "extend_expiry", &extend(LOT, printed)),
        "SupplyError::NotLater",
        "the same day is no extension"
    );
    assert_eq!(
        w.refusal(maker, "extend_expiry", &extend("L404", extended)),
        "SupplyError::Unknown"
    );
    let extension = w
        .chain
        .call(maker, w.supply, "extend_expiry", &extend(LOT, extended));
    assert!(extension.is_success(), "{:?}", extension.receipt.status);
    assert_eq!(
        extension.events_named::<supply::ExpiryExtended>("ExpiryExtended"),
        vec![supply::ExpiryExtended {
            gtin: GTIN.to_string(),
            lot: LOT.to_string(),
            expiry_ms: extended,
        }]
    );
    // The printed date and the new one both verify, with ExpirationExtended; another date does
    // not match.
    for presented in [printed, extended] {
        let answer = w.verify("S1", LOT, presented);
        assert_eq!(
            (answer.verified, answer.additional),
            (true, vec!["ExpirationExtended".to_string()])
        );
    }
    assert_eq!(
        w.verify("S1", LOT, printed + 30 * DAY_MS)
            .failure_reason
            .as_deref(),
        Some("No_match_GTIN_Serial_Expiry")
    );
    // Past the printed date the unit is not expired and still ships; past the new one it is.
    w.chain
        .advance_time(printed - w.chain.timestamp_ms() + 2 * DAY_MS);
    assert_eq!(
        w.verify("S1", LOT, printed).additional,
        vec!["ExpirationExtended".to_string()]
    );
    w.commission(&["S2"]);
    let shipment = w.ship(maker, vec![unit("S1")], wholesaler);
    assert!(w.receive(wholesaler, shipment, vec![unit("S1")]));
    w.chain
        .advance_time(extended - w.chain.timestamp_ms() + 2 * DAY_MS);
    assert_eq!(
        w.verify("S2", LOT, printed).additional,
        vec!["Expired".to_string(), "ExpirationExtended".to_string()]
    );
    assert_eq!(
        w.ship_refusal(maker, vec![unit("S2")], wholesaler),
        "SupplyError::NotMovable"
    );
}

impl World {
    fn verify_recorded(&mut self, by: Address, serial: &str) -> Verification {
        let result = self.chain.call(
            by,
            self.supply,
            "verify_recorded",
            &(
                GTIN.to_string(),
                serial.to_string(),
                LOT.to_string(),
                self.expiry,
                "urn:gln:scan".to_string(),
            ),
        );
        assert!(result.is_success(), "{:?}", result.receipt.status);
        result.decode()
    }

    fn verifications(&self, serial: &str) -> Vec<(Address, Option<u64>)> {
        let records: Vec<(u64, supply::VerificationRecord)> = self.chain.view(
            self.maker,
            self.supply,
            "verifications",
            &(GTIN.to_string(), serial.to_string(), None::<u64>, 100u32),
        );
        records
            .into_iter()
            .map(|(_, record)| (record.requester, record.clone_case))
            .collect()
    }
}

#[test]
fn every_recorded_verification_is_kept_and_a_serial_verified_where_it_cannot_be_is_a_clone() {
    let mut w = world();
    w.deliver_to_pharmacy();
    let (wholesaler, pharmacy) = (w.wholesaler, w.pharmacy);
    let other_pharmacy = w.chain.new_account(10u128.pow(20));
    register(
        &mut w.chain,
        w.authority,
        w.registry,
        other_pharmacy,
        Role::Dispenser,
        3650,
    );
    let stranger = w.chain.new_account(10u128.pow(20));
    let expiry = w.expiry;
    assert_eq!(
        w.refusal(
            stranger,
            "verify_recorded",
            &(
                GTIN.to_string(),
                "S1".to_string(),
                LOT.to_string(),
                expiry,
                "urn:gln:scan".to_string(),
            )
        ),
        "SupplyError::NotAuthorised"
    );
    // The holder verifying, and the seller a saleable return would go back to: no clone.
    let held = w.verify_recorded(pharmacy, "S1");
    assert!(held.verified && held.additional.is_empty());
    assert!(w.verify_recorded(wholesaler, "S1").additional.is_empty());
    assert!(w.open_investigations().is_empty());
    // A second dispenser verifying S1 while the pharmacy holds it: a clone, found at once.
    let result = w.chain.call(
        other_pharmacy,
        w.supply,
        "verify_recorded",
        &(
            GTIN.to_string(),
            "S1".to_string(),
            LOT.to_string(),
            expiry,
            "urn:gln:elsewhere".to_string(),
        ),
    );
    let answer: Verification = result.decode();
    assert_eq!(
        (answer.verified, answer.additional),
        (true, vec!["Suspect".to_string()])
    );
    let alerts = result.events_named::<supply::Alert>("Alert");
    assert_eq!(
        alerts
            .iter()
            .map(|alert| alert.kind.as_str())
            .collect::<Vec<_>>(),
        vec!["clone"]
    );
    let s1 = w.unit_state("S1");
    assert!(s1.suspect && s1.quarantined);
    assert_eq!(w.open_investigations(), vec![0]);
    assert_eq!(
        w.verifications("S1"),
        vec![
            (pharmacy, None),
            (wholesaler, None),
            (other_pharmacy, Some(0))
        ]
    );
    // A buyer checking an incoming shipment before receiving it is no clone.
    let shipment = w.ship(wholesaler, vec![unit("S3")], pharmacy);
    assert!(w.verify_recorded(pharmacy, "S3").verified);
    assert!(w.receive(pharmacy, shipment, vec![unit("S3")]));
    // After S2 is dispensed, a package presenting it anywhere is a clone too.
    let rx = w.prescribe(5, 1);
    let dispensed: Dispensing = w
        .chain
        .call(
            pharmacy,
            w.supply,
            "dispense",
            &(
                GTIN.to_string(),
                "S2".to_string(),
                LOT.to_string(),
                expiry,
                rx,
            ),
        )
        .decode();
    assert!(dispensed.dispensed);
    let after = w.verify_recorded(wholesaler, "S2");
    assert_eq!(
        (
            after.verified,
            after.failure_reason.as_deref(),
            after.additional
        ),
        (
            false,
            Some("Not_for_re-distribution"),
            vec!["Suspect".to_string()]
        )
    );
    let s2 = w.unit_state("S2");
    assert_eq!((s2.suspect, s2.disposition), (true, Disposition::Dispensed));
    assert_eq!(w.verifications("S2"), vec![(wholesaler, Some(1))]);
    // An unknown serial is answered and recorded, and flags nothing.
    let unknown = w.verify_recorded(pharmacy, "NEVER");
    assert_eq!(
        unknown.failure_reason.as_deref(),
        Some("No_match_GTIN_Serial")
    );
    assert_eq!(w.verifications("NEVER"), vec![(pharmacy, None)]);
    assert_eq!(w.open_investigations(), vec![0, 1]);
}

/// An EPC as a GS1 Digital Link URI, as EPCIS 2.0 JSON carries it.
fn epc_uri(epc: &Epc) -> String {
    match epc {
        Epc::Unit(gtin, serial) => format!("https://id.gs1.org/01/{gtin}/21/{serial}"),
        Epc::Case(sscc) => format!("https://id.gs1.org/00/{sscc}"),
    }
}

/// A stored event rendered as an EPCIS 2.0 JSON event (the properties this contract records).
fn epcis_json(event: &EpcisEvent) -> serde_json::Value {
    // The event time as an RFC 3339 date-time (H. Hinnant's civil_from_days).
    let seconds = event.event_time_ms / 1000;
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let time = seconds % 86_400;
    let mut json = serde_json::json!({
        "type": event.event_type,
        "eventTime": format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            time / 3600,
            time / 60 % 60,
            time % 60
        ),
        "eventTimeZoneOffset": "+00:00",
        "bizStep": event.biz_step,
        "disposition": event.disposition,
        "readPoint": { "id": event.location },
    });
    if let Some(transformation) = &event.transformation {
        json["inputEPCList"] = transformation.inputs.iter().map(epc_uri).collect();
        json["outputEPCList"] = transformation.outputs.iter().map(epc_uri).collect();
        if let Some(id) = &transformation.id {
            json["transformationID"] = id.clone().into();
        }
    } else {
        json["action"] = event.action.clone().into();
        json["epcList"] = event.epcs.iter().map(epc_uri).collect();
    }
    json
}

/// The repackager's product: GS1 company prefix `0354321` (labeler code 54321).
const REPACKAGED_GTIN: &str = "00354321111229";
const REPACKAGED_NDC: &str = "54321-111-22";

#[test]
fn repackaging_is_a_transformation_event_whose_outputs_follow_their_inputs() {
    let mut w = world();
    let repackager = w.chain.new_account(10u128.pow(20));
    register_with_prefix(
        &mut w.chain,
        w.authority,
        w.registry,
        repackager,
        Role::Repackager,
        3650,
        Some("0354321"),
    );
    let product = |gtin: &str, ndc: &str| {
        (
            gtin.to_string(),
            ndc.to_string(),
            "Amoxicillin".to_string(),
            "500 mg".to_string(),
            "capsule".to_string(),
            "1".to_string(),
        )
    };
    // The repackager registers its own GTIN, under the prefix the registry attests for it.
    assert_eq!(
        w.refusal(repackager, "register_product", &product(GTIN, NDC)),
        "SupplyError::NotPrefixHolder"
    );
    let registered = w.chain.call(
        repackager,
        w.supply,
        "register_product",
        &product(REPACKAGED_GTIN, REPACKAGED_NDC),
    );
    assert!(registered.is_success(), "{:?}", registered.receipt.status);
    // It buys S1–S3 from the maker; S4 stays the maker's.
    w.commission(&["S1", "S2", "S3", "S4"]);
    let maker = w.maker;
    let bought = vec![unit("S1"), unit("S2"), unit("S3")];
    let shipment = w.ship(maker, bought.clone(), repackager);
    assert!(w.receive(repackager, shipment, bought));
    let expiry = w.expiry;
    let outputs = ["R1", "R2", "R3", "R4"];
    let repackage = |inputs: Vec<Epc>, gtin: &str, expiry: u64| {
        (
            inputs,
            gtin.to_string(),
            "RL1".to_string(),
            expiry,
            outputs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "urn:gln:repack".to_string(),
        )
    };
    let inputs = vec![unit("S1"), unit("S2")];
    let wholesaler = w.wholesaler;
    for (caller, arguments, refusal) in [
        (
            wholesaler,
            repackage(inputs.clone(), REPACKAGED_GTIN, expiry),
            "SupplyError::NotAuthorised",
        ),
        (
            repackager,
            repackage(inputs.clone(), GTIN, expiry),
            "SupplyError::NotAuthorised",
        ),
        (
            repackager,
            repackage(vec![unit("S1"), unit("S4")], REPACKAGED_GTIN, expiry),
            "SupplyError::NotAuthorised",
        ),
        (
            repackager,
            repackage(inputs.clone(), REPACKAGED_GTIN, expiry + DAY_MS),
            "SupplyError::ExpiryBeyondInputs",
        ),
        (
            repackager,
            repackage(vec![unit("S1"), unit("S1")], REPACKAGED_GTIN, expiry),
            "SupplyError::NotMovable",
        ),
        (
            repackager,
            repackage(Vec::new(), REPACKAGED_GTIN, expiry),
            "SupplyError::Unknown",
        ),
    ] {
        assert_eq!(w.refusal(caller, "repackage", &arguments), refusal);
    }
    let result = w.chain.call(
        repackager,
        w.supply,
        "repackage",
        &repackage(inputs.clone(), REPACKAGED_GTIN, expiry - DAY_MS),
    );
    assert!(result.is_success(), "{:?}", result.receipt.status);
    let event_id: u64 = result.decode();
    let output_epcs: Vec<Epc> = outputs
        .iter()
        .map(|s| Epc::Unit(REPACKAGED_GTIN.into(), s.to_string()))
        .collect();
    // The event: EPCIS 2.0 TransformationEvent shape — no action, no epcList, inputEPCList
    // and outputEPCList with at least one EPC each, transformationID optional (none).
    let history: Vec<EpcisEvent> = w.chain.view(
        w.maker,
        w.supply,
        "history",
        &(REPACKAGED_GTIN.to_string(), "R1".to_string()),
    );
    assert_eq!(history.len(), 1, "an output's history starts at its making");
    let event = &history[0];
    assert_eq!(
        (
            event.id,
            event.event_type.as_str(),
            event.action.as_str(),
            event.epcs.is_empty(),
            event.biz_step.as_str(),
            event.disposition.as_str(),
        ),
        (
            event_id,
            "TransformationEvent",
            "",
            true,
            "repackaging",
            "active"
        )
    );
    assert_eq!(
        event.transformation,
        Some(supply::Transformation {
            inputs: inputs.clone(),
            outputs: output_epcs.clone(),
            id: None,
        })
    );
    // Rendered as EPCIS 2.0 JSON, it has the TransformationEvent's shape (the keys the GS1
    // schema allows it, `inputEPCList` and `outputEPCList` with at least one unique EPC each).
    let json = epcis_json(event);
    println!("{json}");
    let keys: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    for key in &keys {
        assert!(
            [
                "type",
                "eventTime",
                "eventTimeZoneOffset",
                "inputEPCList",
                "outputEPCList",
                "transformationID",
                "bizStep",
                "disposition",
                "readPoint",
            ]
            .contains(key),
            "{key} is no TransformationEvent property"
        );
    }
    for list in ["inputEPCList", "outputEPCList"] {
        let epcs = json[list].as_array().expect("a list");
        let unique: std::collections::BTreeSet<String> =
            epcs.iter().map(ToString::to_string).collect();
        assert!(!epcs.is_empty() && unique.len() == epcs.len(), "{list}");
    }
    // The emitted event names the inputs, then the outputs.
    let emitted = result.events_named::<supply::Epcis>("Epcis");
    assert_eq!(
        emitted[0].epcs,
        inputs
            .iter()
            .chain(&output_epcs)
            .cloned()
            .collect::<Vec<_>>()
    );
    // Lineage: the outputs go back to their inputs, whose histories go back to the maker and
    // end with their consumption.
    let lineage: Vec<Epc> = w.chain.view(
        w.maker,
        w.supply,
        "lineage",
        &(REPACKAGED_GTIN.to_string(), "R3".to_string()),
    );
    assert_eq!(lineage, inputs);
    let input_history = w.history("S1");
    assert_eq!(
        (
            input_history.first().map(|e| e.biz_step.as_str()),
            input_history.last().map(|e| e.id),
        ),
        (Some("commissioning"), Some(event_id))
    );
    let s1 = w.unit_state("S1");
    assert_eq!(s1.disposition, Disposition::Inactive);
    assert_eq!(
        w.verify("S1", LOT, expiry).failure_reason.as_deref(),
        Some("Not_for_re-distribution")
    );
    let r1: Option<Unit> = w.chain.view(
        w.maker,
        w.supply,
        "unit",
        &(REPACKAGED_GTIN.to_string(), "R1".to_string()),
    );
    let r1 = r1.expect("commissioned");
    assert_eq!(
        (r1.owner, r1.custodian, r1.lot.as_str(), r1.disposition),
        (repackager, repackager, "RL1", Disposition::Active)
    );
    let verify_r1 = |w: &World| -> Verification {
        w.chain.view(
            w.maker,
            w.supply,
            "verify",
            &(
                REPACKAGED_GTIN.to_string(),
                "R1".to_string(),
                "RL1".to_string(),
                expiry - DAY_MS,
            ),
        )
    };
    let answer = verify_r1(&w);
    assert!(answer.verified && answer.additional.is_empty());
    // A recall of the input lot follows the lineage: the outputs verify Recalled and are
    // stopped.
    w.recall_lot(LOT);
    assert_eq!(verify_r1(&w).additional, vec!["Recalled".to_string()]);
    assert_eq!(
        w.ship_refusal(
            repackager,
            vec![Epc::Unit(REPACKAGED_GTIN.into(), "R1".into())],
            wholesaler
        ),
        "SupplyError::NotMovable"
    );
}
