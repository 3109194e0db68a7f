//! How each message of the matrix is probed: the arguments it is called with on a fork of the
//! world (after any set-up the call needs), and which party of the cast stands in each
//! relationship the matrix names.

use coverage::{ActionCode, AppealOutcome, CoverageLevel, CoverageTerms, ReviewerDecision};
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
                    None::<bool>,
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
                    None::<bool>,
                )
                    .encode()
            },
        ),
    ]
}

fn decision(action: ActionCode, quantity: u32) -> Vec<ReviewerDecision> {
    vec![ReviewerDecision {
        action,
        quantity,
        reason: None,
    }]
}

pub fn coverage_cases() -> Vec<Case> {
    vec![
        case("set_coverage", NONE, |w| {
            (Hash([0x4e; 32]), w.coverage_record()).encode()
        }),
        case("set_benefit", &[(Who::Payer, Party::Payer)], |w| {
            (MEMBER, text("PT"), w.benefit()).encode()
        }),
        case("set_coverage_terms", &[(Who::Payer, Party::Payer)], |_| {
            let terms = CoverageTerms {
                level: CoverageLevel::Family,
                currency: text("USD"),
            };
            (MEMBER, terms).encode()
        }),
        case("set_network", NONE, |_| {
            (text(PLAN), vec![text(CLINIC_NPI)], true).encode()
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
        case("submit", NONE, |w| {
            // A referral to the hospital: any provider may request it.
            let mut submission = w.submission("TRN-NEW", THERAPY, 2);
            submission.servicing_provider = Some(w.address(Party::Hospital));
            submission.encode()
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
        case("post_decision", PAYER_AND_NURSE, |w| {
            let (coverage, payer) = (w.coverage, w.address(Party::Payer));
            w.must(
                Party::Hospital,
                coverage,
                "submit_sealed",
                &(
                    Hash([0x5a; 32]),
                    payer,
                    MEMBER,
                    coverage::Priority::Standard,
                    1u32,
                    Hash([0x5b; 32]),
                ),
            );
            let line = coverage::PostedLine {
                action: ActionCode::A1,
                reason: None,
                quantity: 1,
            };
            (
                Hash([0x5a; 32]),
                vec![line],
                1u32,
                Hash([0x5c; 32]),
                Hash([0x5d; 32]),
            )
                .encode()
        }),
        case("add_documentation", HOSPITAL_REQUESTS, |w| {
            let attachment = coverage::Attachment {
                template: ATTACHMENT_TEMPLATE,
                record: w.record,
            };
            (text(PENDED), attachment).encode()
        }),
        case("decide", PAYER_AND_NURSE, |_| {
            (text(PENDED), decision(ActionCode::A1, 1)).encode()
        }),
        case("extend_review", PAYER_AND_NURSE, |_| text(PENDED).encode()),
        case("mark_overdue", NONE, |w| {
            w.chain.advance_time(20 * DAY_MS);
            text(PENDED).encode()
        }),
        case("revise", HOSPITAL_REQUESTS, |w| {
            let lines = w.submission(PENDED, REVIEWED_MRI, 2).lines;
            (text(PENDED), lines, vec![text("M54.16")]).encode()
        }),
        case("request_extension", HOSPITAL_REQUESTS, |_| {
            (text(CERTIFIED), 10u32).encode()
        }),
        case("decide_extension", PAYER_AND_NURSE, |w| {
            let coverage = w.coverage;
            w.must(
                Party::Hospital,
                coverage,
                "request_extension",
                &(text(CERTIFIED), 400u32),
            );
            (text(CERTIFIED), true, None::<coverage::Reason>).encode()
        }),
        case("cancel", HOSPITAL_REQUESTS, |_| text(PENDED).encode()),
        case(
            "appeal",
            &[
                (Who::Requester, Party::Hospital),
                (Who::Patient, Party::Patient),
            ],
            |_| (text(DENIED), Hash([0xa9; 32])).encode(),
        ),
        case("decide_appeal", PAYER_AND_NURSE, |w| {
            let coverage = w.coverage;
            w.must(
                Party::Hospital,
                coverage,
                "appeal",
                &(text(DENIED), Hash([0xa9; 32])),
            );
            (
                text(DENIED),
                AppealOutcome::Overturned,
                None::<coverage::Reason>,
            )
                .encode()
        }),
        case("check_claim", NONE, |w| {
            let payer = w.address(Party::Payer);
            (
                Hash([0xc2; 32]),
                payer,
                MEMBER,
                None::<String>,
                w.office_visit(),
            )
                .encode()
        }),
        case(
            "void_claim",
            &[(Who::ClaimSubmitter, Party::Hospital)],
            |_| CLAIM.encode(),
        ),
        case(
            "replace_claim",
            &[(Who::ClaimSubmitter, Party::Hospital)],
            |w| (CLAIM, Hash([0xc3; 32]), None::<String>, w.office_visit()).encode(),
        ),
        case("access_attachment", PAYER_AND_NURSE, |w| {
            w.attach_record();
            (text(PENDED), w.record, text("HPAYMT")).encode()
        }),
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
