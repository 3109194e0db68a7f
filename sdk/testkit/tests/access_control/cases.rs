//! How each message of the matrix is probed: the arguments it is called with on a fork of the
//! world (after any set-up the call needs), and which party of the cast stands in each
//! relationship the matrix names.

use coverage::{ActionCode, AppealOutcome};
use parity_scale_codec::Encode;
use salus_primitives::{Address, Hash};
use supply::{Classification, Epc, RecallClass};

use crate::table::Who;
use crate::world::*;

/// The probe of one message.
pub struct Case {
    pub message: &'static str,
    /// Which party stands in each relationship (`Anyone` and `RoleHolder` need none).
    pub bindings: &'static [(Who, Party)],
    /// Sets the fork up and returns the encoded arguments.
    pub prepare: fn(&mut World) -> Vec<u8>,
    /// For a refusal the contract records rather than reverts: whether the call's return
    /// value says it was refused.
    pub refused: Option<fn(&salus_testkit::CallResult) -> bool>,
}

const fn case(
    message: &'static str,
    bindings: &'static [(Who, Party)],
    prepare: fn(&mut World) -> Vec<u8>,
) -> Case {
    Case {
        message,
        bindings,
        prepare,
        refused: None,
    }
}

fn text(value: &str) -> String {
    value.to_string()
}

const AUTHORITY: &[(Who, Party)] = &[(Who::RegistryAuthority, Party::Authority)];
const PATIENT_AND_GUARDIAN: &[(Who, Party)] = &[
    (Who::Patient, Party::Patient),
    (Who::Delegate, Party::Guardian),
];
const PAYER_AND_NURSE: &[(Who, Party)] = &[
    (Who::Payer, Party::Payer),
    (Who::PayerReviewer, Party::Nurse),
];
const HOSPITAL_REQUESTS: &[(Who, Party)] = &[(Who::Requester, Party::Hospital)];
const WHOLESALER_OWNS: &[(Who, Party)] = &[(Who::UnitOwner, Party::Wholesaler)];
const NONE: &[(Who, Party)] = &[];

pub fn registry_cases() -> Vec<Case> {
    vec![
        case("register", AUTHORITY, |w| {
            let now = w.now();
            (
                Address([0x42; 20]),
                vec![registry::Role::Dispenser],
                None::<String>,
                Some(text("0614141000029")),
                None::<String>,
                0u64,
                now + 365 * DAY_MS,
                Hash([3; 32]),
            )
                .encode()
        }),
        case("renew_licence", AUTHORITY, |w| {
            let (pharmacy, now) = (w.address(Party::Pharmacy), w.now());
            (pharmacy, now + 5000 * DAY_MS, Hash([3; 32])).encode()
        }),
        case("suspend", AUTHORITY, |w| {
            (w.address(Party::Pharmacy), Hash([3; 32])).encode()
        }),
        case("reinstate", AUTHORITY, |w| {
            w.suspend(Party::Pharmacy);
            w.address(Party::Pharmacy).encode()
        }),
        case("revoke", AUTHORITY, |w| {
            (w.address(Party::Pharmacy), Hash([3; 32])).encode()
        }),
        case("transfer_authority", AUTHORITY, |w| {
            w.address(Party::Regulator).encode()
        }),
        case("set_encryption_key", NONE, |_| Hash([0x5e; 32]).encode()),
        case(
            "retire_encryption_key",
            &[
                (Who::KeyHolder, Party::Hospital),
                (Who::RegistryAuthority, Party::Authority),
            ],
            |w| (w.address(Party::Hospital), 1u32).encode(),
        ),
    ]
}

pub fn consent_cases() -> Vec<Case> {
    vec![
        case("register_record", NONE, |w| {
            record_registration(
                Hash([0x12; 32]),
                w.address(Party::Patient),
                w.address(Party::Doctor),
            )
            .encode()
        }),
        case("set_subject", PATIENT_AND_GUARDIAN, |w| {
            (w.address(Party::Patient), Hash([0x5b; 32])).encode()
        }),
        case("grant", PATIENT_AND_GUARDIAN, |w| {
            w.treatment_consent().grant()
        }),
        case("import_signed", PATIENT_AND_GUARDIAN, |w| {
            let signed = (w.now() - 2 * DAY_MS) as i64;
            w.treatment_consent().import_signed(signed)
        }),
        case("propose", PATIENT_AND_GUARDIAN, |w| {
            w.treatment_consent().propose(false)
        }),
        case("submit", &[(Who::ConsentAuthor, Party::Clinic)], |w| {
            w.draft_consent.encode()
        }),
        case("activate", PATIENT_AND_GUARDIAN, |w| {
            w.proposed_consent.encode()
        }),
        case("reject", PATIENT_AND_GUARDIAN, |w| {
            w.proposed_consent.encode()
        }),
        case(
            "revoke",
            &[
                (Who::Patient, Party::Patient),
                (Who::GrantingDelegate, Party::Guardian),
            ],
            |w| {
                let (consent, terms) = (w.consent, w.treatment_consent());
                let granted = w.must_raw(Party::Guardian, consent, "grant", terms.grant());
                granted.decode::<u64>().encode()
            },
        ),
        case(
            "mark_entered_in_error",
            &[(Who::ConsentAuthor, Party::Clinic)],
            |w| (w.proposed_consent, Hash([0xee; 32])).encode(),
        ),
        case("attest_delegation", AUTHORITY, |w| {
            let period = consent::Period {
                start_ms: w.now() as i64,
                end_ms: (w.now() + 30 * DAY_MS) as i64,
            };
            (
                w.address(Party::Patient),
                w.address(Party::Clinic),
                text("HPOWATT"),
                vec![consent::Action::Access],
                vec![text("TREAT")],
                period,
                Hash([0xd2; 32]),
            )
                .encode()
        }),
        case(
            "revoke_delegation",
            &[(Who::Patient, Party::Patient)],
            |w| w.address(Party::Guardian).encode(),
        ),
        case("end_delegation", AUTHORITY, |w| {
            (w.address(Party::Patient), w.address(Party::Guardian)).encode()
        }),
        case("set_break_glass_policy", NONE, |w| {
            (
                vec![w.address(Party::Doctor)],
                0u64,
                w.address(Party::PrivacyOfficer),
                false,
            )
                .encode()
        }),
        Case {
            refused: Some(|result| result.decode::<Option<u64>>().is_none()),
            ..case(
                "declare_break_glass",
                &[(Who::BreakGlassMember, Party::Doctor)],
                |w| {
                    (
                        w.address(Party::Hospital),
                        w.address(Party::Patient),
                        text("ETREAT"),
                        Hash([0xb7; 32]),
                        3_600_000u64,
                    )
                        .encode()
                },
            )
        },
        case(
            "close_break_glass",
            &[(Who::SessionActor, Party::Doctor)],
            |w| w.session.encode(),
        ),
        case(
            "review_break_glass",
            &[
                (Who::BreakGlassReviewer, Party::PrivacyOfficer),
                (Who::BreakGlassOrganisation, Party::Hospital),
            ],
            |w| (w.session, true).encode(),
        ),
        case(
            "record_access",
            &[
                (Who::RecordCustodian, Party::Hospital),
                (Who::AccessAgent, Party::Doctor),
            ],
            |w| {
                (
                    w.address(Party::Doctor),
                    text("PRCP"),
                    w.record,
                    consent::Action::Access,
                    text("TREAT"),
                    None::<Address>,
                    None::<Vec<consent::PeriodAnswer>>,
                )
                    .encode()
            },
        ),
        case(
            "record_disclosure",
            &[(Who::RecordCustodian, Party::Hospital)],
            |w| {
                (
                    w.record,
                    w.address(Party::Doctor),
                    text("PRCP"),
                    text("TREAT"),
                    Hash([0x9e; 32]),
                    None::<Vec<consent::PeriodAnswer>>,
                )
                    .encode()
            },
        ),
    ]
}

/// A posted line, as the payer's agent or a reviewer posts it.
fn line(action: ActionCode, reason: Option<&str>, quantity: u32) -> Vec<coverage::PostedLine> {
    vec![World::posted(action, reason, quantity)]
}

/// The commitments a post carries (`inputs_commitment`, `outcome_commitment`).
const COMMITMENTS: (Hash, Hash) = (Hash([0x5c; 32]), Hash([0x5d; 32]));

pub fn coverage_cases() -> Vec<Case> {
    vec![
        case("set_coverage", NONE, |w| {
            (Hash([0x4e; 32]), w.coverage_record()).encode()
        }),
        case("publish_rules", NONE, |w| {
            let effective = coverage::Period {
                start_ms: w.now(),
                end_ms: w.now() + 365 * DAY_MS,
            };
            (Hash([0x91; 32]), effective, w.rules(), w.reasons()).encode()
        }),
        case("set_reviewer", NONE, |w| {
            (w.address(Party::Doctor), true).encode()
        }),
        case("post_metrics", NONE, |w| {
            let period = coverage::Period {
                start_ms: w.now() - 30 * DAY_MS,
                end_ms: w.now() - DAY_MS,
            };
            (
                period,
                Vec::<coverage::CodeMetrics>::new(),
                Hash([0x9e; 32]),
            )
                .encode()
        }),
        case("submit_sealed", NONE, |w| {
            let payer = w.address(Party::Payer);
            (
                Hash([0x5a; 32]),
                payer,
                MEMBER,
                coverage::Priority::Standard,
                1u32,
                Hash([0x5b; 32]),
            )
                .encode()
        }),
        case("post_decision", PAYER_AND_NURSE, |_| {
            let (inputs, outcome) = COMMITMENTS;
            (PENDED, line(ActionCode::A1, None, 1), 1u32, inputs, outcome).encode()
        }),
        case("add_documentation", HOSPITAL_REQUESTS, |_| {
            (PENDED, Hash([0xa7; 32])).encode()
        }),
        case("extend_review", PAYER_AND_NURSE, |_| PENDED.encode()),
        case("mark_overdue", NONE, |w| {
            w.chain.advance_time(20 * DAY_MS);
            PENDED.encode()
        }),
        case("revise", HOSPITAL_REQUESTS, |_| {
            (PENDED, Hash([0x5e; 32]), 1u32).encode()
        }),
        case("request_extension", HOSPITAL_REQUESTS, |_| {
            (CERTIFIED, 10u32).encode()
        }),
        case("decide_extension", PAYER_AND_NURSE, |w| {
            let coverage = w.coverage;
            w.must(
                Party::Hospital,
                coverage,
                "request_extension",
                &(CERTIFIED, 400u32),
            );
            (CERTIFIED, true, None::<String>, 1u32, Hash([0x5d; 32])).encode()
        }),
        case("cancel", HOSPITAL_REQUESTS, |_| PENDED.encode()),
        case(
            "appeal",
            &[
                (Who::Requester, Party::Hospital),
                (Who::Patient, Party::Patient),
            ],
            |_| (DENIED, Hash([0xa9; 32])).encode(),
        ),
        case("decide_appeal", PAYER_AND_NURSE, |w| {
            let trace = w.appealed_request();
            let (inputs, outcome) = COMMITMENTS;
            (
                trace,
                AppealOutcome::Overturned,
                None::<String>,
                line(ActionCode::A1, None, 1),
                1u32,
                inputs,
                outcome,
            )
                .encode()
        }),
        case("submit_claim", NONE, |w| {
            let payer = w.address(Party::Payer);
            (
                Hash([0xc2; 32]),
                payer,
                MEMBER,
                None::<Hash>,
                1u32,
                Hash([0xc4; 32]),
            )
                .encode()
        }),
        case("post_claim_check", PAYER_AND_NURSE, |_| {
            let (inputs, outcome) = COMMITMENTS;
            (CLAIM, vec![Vec::<String>::new()], inputs, outcome).encode()
        }),
        case(
            "void_claim",
            &[(Who::ClaimSubmitter, Party::Hospital)],
            |_| CLAIM.encode(),
        ),
        case(
            "replace_claim",
            &[(Who::ClaimSubmitter, Party::Hospital)],
            |_| {
                (
                    CLAIM,
                    Hash([0xc3; 32]),
                    None::<Hash>,
                    1u32,
                    Hash([0xc5; 32]),
                )
                    .encode()
            },
        ),
    ]
}

fn epcs_at(epcs: Vec<Epc>) -> Vec<u8> {
    (epcs, text(LOCATION)).encode()
}

pub fn supply_cases() -> Vec<Case> {
    vec![
        case("repackage", &[(Who::UnitOwner, Party::Repackager)], |w| {
            (
                vec![unit("S9")],
                text(REPACKAGED_GTIN),
                text("R1"),
                w.expiry,
                vec![text("R1")],
                text(LOCATION),
            )
                .encode()
        }),
        case(
            "withdraw_shipment",
            &[(Who::Shipper, Party::Wholesaler)],
            |w| {
                // The pharmacy lost its standing while S3 was on its way.
                w.suspend(Party::Pharmacy);
                (w.pending_shipment, text(LOCATION)).encode()
            },
        ),
        case("consign", &[(Who::Holder, Party::Wholesaler)], |w| {
            (
                vec![unit("S1")],
                w.address(Party::Logistics),
                text(LOCATION),
            )
                .encode()
        }),
        case("sell", WHOLESALER_OWNS, |w| {
            w.deliver(
                Party::Wholesaler,
                "consign",
                vec![unit("S1")],
                Party::Logistics,
            );
            (
                vec![unit("S1")],
                w.address(Party::Pharmacy),
                vec![(text("po"), Hash([6; 32]))],
            )
                .encode()
        }),
        case("dispatch", &[(Who::SaleCustodian, Party::Logistics)], |w| {
            (w.sale, text(LOCATION)).encode()
        }),
        case("cancel_sale", &[(Who::Seller, Party::Wholesaler)], |w| {
            w.sale.encode()
        }),
        case(
            "extend_expiry",
            &[(Who::ProductOwner, Party::Manufacturer)],
            |w| (text(GTIN), text(LOT), w.expiry + 100 * DAY_MS).encode(),
        ),
        case("verify_recorded", NONE, |w| {
            (text(GTIN), text("S1"), text(LOT), w.expiry, text(LOCATION)).encode()
        }),
        case(
            "register_product",
            &[(Who::PrefixHolder, Party::Manufacturer)],
            |_| {
                (
                    text(NEW_GTIN),
                    text("12345-678-91"),
                    text("Amoxicillin"),
                    text("250 mg"),
                    text("capsule"),
                    text("30"),
                )
                    .encode()
            },
        ),
        case(
            "commission",
            &[(Who::ProductOwner, Party::Manufacturer)],
            |w| {
                (
                    text(GTIN),
                    text("L2"),
                    w.expiry,
                    vec![text("N1")],
                    text(LOCATION),
                )
                    .encode()
            },
        ),
        case("pack", WHOLESALER_OWNS, |_| {
            (
                text(NEW_CASE),
                vec![(text(GTIN), text("S1"))],
                text(LOCATION),
            )
                .encode()
        }),
        case("pack_cases", WHOLESALER_OWNS, |_| {
            (text(NEW_PALLET), vec![text(CASE)], text(LOCATION)).encode()
        }),
        case("ship", WHOLESALER_OWNS, |w| {
            w.ship_arguments(vec![unit("S1")], Party::Pharmacy).encode()
        }),
        case("receive", &[(Who::ShipmentBuyer, Party::Pharmacy)], |w| {
            (w.pending_shipment, vec![unit("S3")], text(LOCATION)).encode()
        }),
        case("unpack", WHOLESALER_OWNS, |_| {
            (text(CASE), text(LOCATION)).encode()
        }),
        case("prescribe", NONE, |w| {
            (Hash([0x7b; 32]), 1u32, w.now() + 30 * DAY_MS).encode()
        }),
        case("dispense", &[(Who::UnitOwner, Party::Pharmacy)], |w| {
            (text(GTIN), text("S2"), text(LOT), w.expiry, w.prescription).encode()
        }),
        case(
            "accept_return",
            &[(Who::ReturnSeller, Party::Wholesaler)],
            |w| (text(GTIN), text("S2"), text(LOT), w.expiry, text(LOCATION)).encode(),
        ),
        case("report_sighting", NONE, |_| {
            (text(GTIN), text("S1"), text(LOCATION)).encode()
        }),
        case(
            "recall",
            &[(Who::ProductOwner, Party::Manufacturer)],
            |_| (text(GTIN), vec![text(LOT)], RecallClass::ClassII).encode(),
        ),
        case(
            "suspect",
            &[
                (Who::UnitOwner, Party::Wholesaler),
                (Who::UnitCustodian, Party::Wholesaler),
            ],
            |_| (vec![unit("S1")], text("damaged seal"), text(LOCATION)).encode(),
        ),
        case(
            "classify",
            &[
                (Who::ProductOwner, Party::Manufacturer),
                (Who::CaseOpener, Party::Pharmacy),
            ],
            |w| (w.case, Classification::Counterfeit).encode(),
        ),
        case(
            "record_notification",
            &[
                (Who::ProductOwner, Party::Manufacturer),
                (Who::CaseOpener, Party::Pharmacy),
            ],
            |w| (w.case, text("FDA-3911-1")).encode(),
        ),
        case("mark_overdue", NONE, |w| w.case.encode()),
        case("hold", WHOLESALER_OWNS, |_| epcs_at(vec![unit("S1")])),
        case("release", WHOLESALER_OWNS, |w| {
            let supply = w.supply;
            w.must(
                Party::Wholesaler,
                supply,
                "hold",
                &(vec![unit("S4")], text(LOCATION)),
            );
            epcs_at(vec![unit("S4")])
        }),
        case("decommission", WHOLESALER_OWNS, |_| {
            epcs_at(vec![unit("S1")])
        }),
        case("destroy", WHOLESALER_OWNS, |_| epcs_at(vec![unit("S1")])),
        case(
            "declare_error",
            &[(Who::EventRecorder, Party::Wholesaler)],
            |w| (w.receiving_event, text("incorrect_data")).encode(),
        ),
    ]
}
