//! The rules' decisions as plain function calls, no VM: one lumbar-MRI rule (diagnoses,
//! documentation, place of service, a rolling window), an abdominal-CT rule auto-approved only
//! in network, and a mammography rule with age and sex edits.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use salus_sdk::Hash;

use crate::*;

const LUMBAR_MRI: &str = "72148";
const ABDOMINAL_CT: &str = "74177";
const MAMMOGRAPHY: &str = "77067";
const OFFICE_VISIT: &str = "99213";
const RADICULOPATHY: &str = "M54.16";
const ATTESTATION: Hash = Hash([0xa7; 32]);
const RULE_MRI: u32 = 10;
const RULE_CT: u32 = 50;
const RULE_MAMMOGRAPHY: u32 = 30;
/// 2026-01-01T00:00:00Z.
const JAN_2026_MS: u64 = 1_767_225_600_000;

fn text(value: &str) -> String {
    String::from(value)
}

fn rule(id: u32, from: &str, to: &str) -> Rule {
    Rule {
        id,
        service_type: text("62"),
        procedures: vec![CodeRange {
            from: text(from),
            to: text(to),
        }],
        diagnoses: Vec::new(),
        min_age: None,
        max_age: None,
        sexes: Vec::new(),
        places_of_service: Vec::new(),
        network_required: false,
        quantity_per_period: None,
        prior_authorisation: true,
        documentation: None,
        auto_approve: Some(AutoApprove {
            diagnoses: Vec::new(),
            max_quantity: None,
            in_network_only: false,
        }),
        authorised_days: 60,
    }
}

/// Each edit's reason: its position in [`EVERY_EDIT`] as the code.
fn reason_code(edit: &Edit) -> String {
    let position = EVERY_EDIT.iter().position(|each| each == edit).unwrap();
    alloc::format!("R{position}")
}

fn rule_set() -> RuleSet {
    let mut mri = rule(RULE_MRI, "72141", "72158");
    mri.diagnoses = vec![text("M54.1"), text("M51.1")];
    mri.places_of_service = vec![text("11"), text("22")];
    mri.documentation = Some(ATTESTATION);
    mri.quantity_per_period = Some(QuantityPerPeriod {
        units: 1,
        days: 180,
    });
    let mut ct = rule(RULE_CT, "74176", "74178");
    ct.diagnoses = vec![text("R10"), text("K35")];
    ct.auto_approve = Some(AutoApprove {
        diagnoses: vec![text("R10")],
        max_quantity: Some(1),
        in_network_only: true,
    });
    let mut mammography = rule(RULE_MAMMOGRAPHY, "77065", "77067");
    mammography.service_type = text("30");
    mammography.sexes = vec![text("F")];
    mammography.min_age = Some(40);
    mammography.max_age = Some(74);
    RuleSet {
        version: 3,
        policy: Hash([1; 32]),
        effective: Period {
            start_ms: 0,
            end_ms: u64::MAX,
        },
        rules: vec![mri, ct, mammography],
        reasons: EVERY_EDIT
            .iter()
            .map(|edit| EditReason {
                edit: edit.clone(),
                reason: Reason {
                    code: reason_code(edit),
                    text: text("reason"),
                },
            })
            .collect(),
        published_ms: 0,
    }
}

fn service(procedure: &str, quantity: u32) -> ServiceLine {
    ServiceLine {
        procedure: text(procedure),
        modifiers: Vec::new(),
        quantity,
        from_ms: JAN_2026_MS + 10 * DAY_MS,
        to_ms: JAN_2026_MS + 10 * DAY_MS,
        place_of_service: text("22"),
    }
}

fn records() -> KnownRecords {
    let benefit = |quantity_limit| BenefitUse {
        authorisation_required: false,
        quantity_limit,
        quantity_used: 0,
    };
    KnownRecords {
        benefits: vec![(text("62"), benefit(Some(12))), (text("30"), benefit(None))],
        in_network: true,
        certified: Vec::new(),
    }
}

const PLAN: Period = Period {
    start_ms: JAN_2026_MS,
    end_ms: JAN_2026_MS + 365 * DAY_MS,
};

fn member() -> Member<'static> {
    Member {
        active: true,
        period: &PLAN,
        birth_year: 1970,
        sex: "F",
        network_plan: false,
    }
}

/// The rules' outcome for `service` with `diagnoses` and `attachments`.
fn decide(
    service: &ServiceLine,
    diagnoses: &[&str],
    attachments: &[Attachment],
    member: &Member<'_>,
    records: &KnownRecords,
) -> Outcome {
    let diagnoses: Vec<String> = diagnoses.iter().map(|code| text(code)).collect();
    let line = Line {
        service,
        diagnoses: &diagnoses,
        attachments,
    };
    evaluate(&rule_set(), member, &line, records).unwrap()
}

fn attested() -> Vec<Attachment> {
    vec![Attachment {
        template: ATTESTATION,
        record: Hash([2; 32]),
    }]
}

fn reason_of(outcome: &Outcome) -> &str {
    outcome
        .reason
        .as_ref()
        .map_or("", |reason| reason.code.as_str())
}

fn pended_for(edit: Edit, suggested: Option<Suggested>, rule_ids: Vec<u32>) -> Outcome {
    Outcome {
        action: ActionCode::A4,
        reason: Some(Reason {
            code: reason_code(&edit),
            text: text("reason"),
        }),
        suggested,
        rule_ids,
        quantity: 0,
        period: None,
    }
}

fn denial() -> Option<Suggested> {
    Some(Suggested {
        action: ActionCode::A3,
        quantity: 0,
    })
}

#[test]
fn a_line_passing_every_edit_is_certified_for_the_rules_window() {
    let mri = service(LUMBAR_MRI, 1);
    let outcome = decide(&mri, &[RADICULOPATHY], &attested(), &member(), &records());
    assert_eq!(
        outcome,
        Outcome {
            action: ActionCode::A1,
            reason: None,
            suggested: None,
            rule_ids: vec![RULE_MRI],
            quantity: 1,
            period: Some(Period {
                start_ms: mri.from_ms,
                end_ms: mri.from_ms + 60 * DAY_MS,
            }),
        }
    );
    assert_eq!(certification_number("TRN-1", 0), "TRN-1-1");
    assert_eq!(certification_number("TRN-1", 11), "TRN-1-12");
}

#[test]
fn a_line_without_the_rules_documentation_is_pended_for_it_without_a_suggestion() {
    let outcome = decide(
        &service(LUMBAR_MRI, 1),
        &[RADICULOPATHY],
        &[],
        &member(),
        &records(),
    );
    assert_eq!(
        outcome,
        pended_for(Edit::Documentation, None, vec![RULE_MRI])
    );
}

#[test]
fn a_diagnosis_that_does_not_support_the_procedure_pends_to_a_clinician_with_a_denial() {
    let outcome = decide(
        &service(LUMBAR_MRI, 1),
        &["J45.909"],
        &attested(),
        &member(),
        &records(),
    );
    assert_eq!(
        outcome,
        pended_for(Edit::Diagnosis, denial(), vec![RULE_MRI])
    );
    // The prefix is hierarchical: `M54.1` supports `M54.16` but not `M54`.
    let broader = decide(
        &service(LUMBAR_MRI, 1),
        &["M54"],
        &attested(),
        &member(),
        &records(),
    );
    assert_eq!(reason_of(&broader), reason_code(&Edit::Diagnosis));
}

#[test]
fn out_of_network_is_refused_where_the_plan_or_rule_needs_the_network_and_pends_otherwise() {
    let out_of_network = KnownRecords {
        in_network: false,
        ..records()
    };
    let hmo = Member {
        network_plan: true,
        ..member()
    };
    let ct = service(ABDOMINAL_CT, 1);
    // An HMO covers only its network: a suggested denial for the network edit.
    assert_eq!(
        decide(&ct, &["R10.9"], &[], &hmo, &out_of_network),
        pended_for(Edit::Network, denial(), vec![RULE_CT])
    );
    // A PPO does not, but the rule auto-approves in network only: a clinical review.
    assert_eq!(
        decide(&ct, &["R10.9"], &[], &member(), &out_of_network),
        pended_for(Edit::ClinicalReview, None, vec![RULE_CT])
    );
    assert_eq!(
        decide(&ct, &["R10.9"], &[], &member(), &records()).action,
        ActionCode::A1
    );
}

#[test]
fn more_units_than_the_benefit_leaves_suggest_a_partial_and_none_left_a_denial() {
    let mut nearly_used = records();
    nearly_used.benefits[0].1.quantity_used = 10;
    // Two of five units left: the rules would certify two, in part, so a clinician decides.
    let ct = service(ABDOMINAL_CT, 5);
    let mut rules = rule_set();
    rules.rules[1].diagnoses = Vec::new();
    rules.rules[1].auto_approve = None;
    let line = |service| Line {
        service,
        diagnoses: &[],
        attachments: &[],
    };
    let reviewed = evaluate(&rules, &member(), &line(&ct), &nearly_used).unwrap();
    assert_eq!(
        reviewed,
        pended_for(Edit::ClinicalReview, None, vec![RULE_CT])
    );
    let mut automatic = rule_set();
    automatic.rules[1].auto_approve = Some(AutoApprove {
        diagnoses: Vec::new(),
        max_quantity: None,
        in_network_only: false,
    });
    automatic.rules[1].diagnoses = Vec::new();
    let partial = evaluate(&automatic, &member(), &line(&ct), &nearly_used).unwrap();
    assert_eq!(
        partial,
        pended_for(
            Edit::Quantity,
            Some(Suggested {
                action: ActionCode::A2,
                quantity: 2,
            }),
            vec![RULE_CT],
        )
    );
    nearly_used.benefits[0].1.quantity_used = 12;
    let one = service(ABDOMINAL_CT, 1);
    let none_left = evaluate(&automatic, &member(), &line(&one), &nearly_used).unwrap();
    assert_eq!(
        none_left,
        pended_for(Edit::Quantity, denial(), vec![RULE_CT])
    );
}

#[test]
fn the_rolling_window_counts_certifications_starting_within_its_days() {
    let mri = service(LUMBAR_MRI, 1);
    let certified_at = |start_ms| KnownRecords {
        certified: vec![Certified {
            rule_id: RULE_MRI,
            start_ms,
            units: 1,
        }],
        ..records()
    };
    let within = certified_at(mri.from_ms - 179 * DAY_MS);
    assert_eq!(
        decide(&mri, &[RADICULOPATHY], &attested(), &member(), &within),
        pended_for(Edit::Quantity, denial(), vec![RULE_MRI])
    );
    let outside = certified_at(mri.from_ms + 180 * DAY_MS);
    assert_eq!(
        decide(&mri, &[RADICULOPATHY], &attested(), &member(), &outside).action,
        ActionCode::A1
    );
}

#[test]
fn coverage_age_and_sex_are_checked_on_the_date_of_service() {
    let mammography = service(MAMMOGRAPHY, 1);
    assert_eq!(
        decide(&mammography, &[], &[], &member(), &records()).action,
        ActionCode::A1
    );
    // Born in 1987: 39 in 2026, too young for the rule.
    let young = Member {
        birth_year: 1987,
        ..member()
    };
    assert_eq!(
        decide(&mammography, &[], &[], &young, &records()),
        pended_for(Edit::Age, denial(), vec![RULE_MAMMOGRAPHY])
    );
    let male = Member {
        sex: "M",
        ..member()
    };
    assert_eq!(
        decide(&mammography, &[], &[], &male, &records()),
        pended_for(Edit::Sex, denial(), vec![RULE_MAMMOGRAPHY])
    );
    let lapsed = Member {
        active: false,
        ..member()
    };
    assert_eq!(
        decide(&mammography, &[], &[], &lapsed, &records()),
        pended_for(Edit::NotEligible, denial(), vec![RULE_MAMMOGRAPHY])
    );
    assert_eq!(year_of(JAN_2026_MS - 1), 2025);
    assert_eq!(year_of(JAN_2026_MS), 2026);
}

#[test]
fn a_code_no_rule_covers_needs_no_authorisation_and_a_missing_benefit_is_not_eligible() {
    let visit = service(OFFICE_VISIT, 1);
    assert_eq!(
        decide(&visit, &[], &[], &member(), &records()),
        Outcome {
            action: ActionCode::Na,
            reason: None,
            suggested: None,
            rule_ids: Vec::new(),
            quantity: 0,
            period: None,
        }
    );
    let no_benefit = KnownRecords {
        benefits: Vec::new(),
        ..records()
    };
    assert_eq!(
        decide(&service(MAMMOGRAPHY, 1), &[], &[], &member(), &no_benefit),
        pended_for(Edit::NotEligible, denial(), vec![RULE_MAMMOGRAPHY])
    );
}

#[test]
fn a_rule_set_without_the_reason_it_needs_is_an_error_not_a_silent_decision() {
    let mut rules = rule_set();
    rules
        .reasons
        .retain(|entry| entry.edit != Edit::Documentation);
    let mri = service(LUMBAR_MRI, 1);
    let diagnoses = vec![text(RADICULOPATHY)];
    let line = Line {
        service: &mri,
        diagnoses: &diagnoses,
        attachments: &[],
    };
    assert_eq!(
        evaluate(&rules, &member(), &line, &records()),
        Err(MissingReason(Edit::Documentation))
    );
}

fn claimed<'a>(procedure: &'a str, quantity: u32, diagnoses: &'a [String]) -> ClaimedLine<'a> {
    ClaimedLine {
        procedure,
        quantity,
        service_ms: JAN_2026_MS + 20 * DAY_MS,
        diagnoses,
    }
}

#[test]
fn a_claim_line_needs_the_authorisation_its_rule_requires_within_its_window_and_units() {
    let rules = rule_set();
    let period = Period {
        start_ms: JAN_2026_MS,
        end_ms: JAN_2026_MS + 365 * DAY_MS,
    };
    let records = records();
    let diagnoses = vec![text(RADICULOPATHY)];
    let check = |line: &ClaimedLine<'_>, authorised: Option<&Authorised>| {
        check_claim_line(Some(&rules), true, &period, line, &records, authorised).carcs
    };
    let authorised = Authorised {
        window: Period {
            start_ms: JAN_2026_MS + 10 * DAY_MS,
            end_ms: JAN_2026_MS + 70 * DAY_MS,
        },
        quantity: 1,
        claimed: 0,
    };
    assert_eq!(check(&claimed(LUMBAR_MRI, 1, &diagnoses), None), ["197"]);
    let accepted = check_claim_line(
        Some(&rules),
        true,
        &period,
        &claimed(LUMBAR_MRI, 1, &diagnoses),
        &records,
        Some(&authorised),
    );
    assert_eq!(accepted.carcs, Vec::<&str>::new());
    assert_eq!(accepted.draw, ClaimDraw::Authorisation);
    assert_eq!(
        check(&claimed(LUMBAR_MRI, 2, &diagnoses), Some(&authorised)),
        ["198"]
    );
    let mut late = claimed(LUMBAR_MRI, 1, &diagnoses);
    late.service_ms = JAN_2026_MS + 80 * DAY_MS;
    assert_eq!(check(&late, Some(&authorised)), ["197"]);
    assert_eq!(
        check(&claimed(LUMBAR_MRI, 1, &[text("J45")]), Some(&authorised)),
        ["11"]
    );
    let mut after = claimed(OFFICE_VISIT, 1, &[]);
    after.service_ms = period.end_ms;
    assert_eq!(check(&after, None), ["27"]);
    let mut before = claimed(OFFICE_VISIT, 1, &[]);
    before.service_ms = JAN_2026_MS - DAY_MS;
    assert_eq!(check(&before, None), ["26"]);
}

#[test]
fn a_claim_line_without_authorisation_draws_on_the_benefit_up_to_its_limit() {
    let mut rules = rule_set();
    for rule in &mut rules.rules {
        rule.prior_authorisation = false;
    }
    let period = Period {
        start_ms: 0,
        end_ms: u64::MAX,
    };
    let mut records = records();
    records.benefits = vec![(
        text("30"),
        BenefitUse {
            authorisation_required: false,
            quantity_limit: Some(2),
            quantity_used: 1,
        },
    )];
    let line = claimed(MAMMOGRAPHY, 1, &[]);
    let check = check_claim_line(Some(&rules), true, &period, &line, &records, None);
    assert_eq!(check.draw, ClaimDraw::Benefit(text("30")));
    let over = claimed(MAMMOGRAPHY, 2, &[]);
    let check = check_claim_line(Some(&rules), true, &period, &over, &records, None);
    assert_eq!((check.carcs, check.draw), (vec!["119"], ClaimDraw::None));
}
