//! A member's eligibility from the payer's records as a FHIR R4 CoverageEligibilityResponse (issue 23, deliverable 4).
//!
//! Two sources, as docs/PRIVACY.md §5.5 splits them: the chain's `coverage` and `eligibility`
//! views (the member's pseudonym, the coverage status on the date asked — X12 271 EB01 `1` or
//! `6`, or an AAA rejection — and the plan period), and the payer's own records for the member
//! (benefits per X12 service type with their limits and units used, whether the plan covers only
//! its network), which never go on chain and reach this function as [`MemberBenefits`] (the
//! client does not read the payer agent's records file itself). The mapping is in
//! docs/interop.md, "CoverageEligibilityResponse (export)".
//!
//! Decisions: a member the chain does not know (AAA `75`, or `72` for a coverage entered in
//! error) is an answer, not a failure — `outcome` `error` with the AAA03 reject reason in
//! `error[0].code`. A member the chain knows but the records do not, or whose records disagree
//! with the chain on the status or the period, is refused with a typed [`EligibilityError`]: the
//! export speaks for the payer, and either answer would misstate one of its two sources.

use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use super::answer::{bad, number, who};
use super::{FhirError, time};
use crate::directory::Directory;
use crate::epcis::time::{civil_from_days, days_from_civil};

/// X12 service type codes (271 EB03).
pub const SERVICE_TYPE_SYSTEM: &str = "https://x12.org/codes/service-type-codes";
/// `benefit-network`: `in`, `out`.
pub const NETWORK_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/benefit-network";
/// `benefit-unit`: `individual`, `family`.
pub const UNIT_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/benefit-unit";
/// `benefit-term`: `annual`, `day`, `lifetime`.
pub const TERM_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/benefit-term";
/// `benefit-type`: `benefit`, `deductible`, `visit`, …
pub const BENEFIT_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/benefit-type";
/// X12 901 reject reason codes (AAA03).
pub const X12_REJECT_REASON: &str = "https://codesystem.x12.org/005010/901";
/// The member (the salted hash the payer keys its coverage by) as an identifier system.
pub const MEMBER_SYSTEM: &str = "urn:salus:member";
/// The on-chain coverage (keyed by payer and member: the value is the member, the assigner the
/// payer) as an identifier system.
pub const COVERAGE_SYSTEM: &str = "urn:salus:coverage";
/// The inquiry answered, as an identifier system (`request` is required in R4; the value is
/// the caller's).
pub const REQUEST_SYSTEM: &str = "urn:salus:eligibility-request";
/// The service type the chain's `eligibility` view is asked about: `30`, health benefit plan
/// coverage.
pub const PLAN_COVERAGE: &str = "30";

/// One benefit of the member, from the payer's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Benefit {
    /// X12 service type.
    pub service_type: String,
    /// X12 EB11: authorisation required.
    pub authorisation_required: bool,
    /// Units covered per plan period, if limited.
    pub quantity_limit: Option<u32>,
    /// Units used so far (certified or claimed).
    pub quantity_used: u32,
}

/// What the payer's records hold of the member, as this export reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberBenefits {
    /// Whether the coverage is active in the records.
    pub active: bool,
    /// The plan period (start, end ms; the end excluded).
    pub period: (u64, u64),
    /// Whether the plan covers only in-network providers (HMO, EPO).
    pub network_plan: bool,
    /// Benefits by service type.
    pub benefits: Vec<Benefit>,
}

/// What the response is built from.
#[derive(Clone, Debug)]
pub struct Inquiry<'a> {
    /// The payer (the `eligibility` view's first argument).
    pub payer: Address,
    /// The member.
    pub member: Hash,
    /// The `coverage` view's answer (`Ok` unwrapped): `null` or the coverage, ABI JSON.
    pub coverage: &'a Value,
    /// The `eligibility` view's answer (`Ok` unwrapped) for service type [`PLAN_COVERAGE`] on
    /// `created_ms`: `{"Found": [period, lines]}` or `{"Rejected": [code, text]}`.
    pub eligibility: &'a Value,
    /// The payer's records for the member, if they hold any.
    pub records: Option<&'a MemberBenefits>,
    /// The inquiry's identifier (`request.identifier.value`).
    pub request: &'a str,
    /// When asked (ms): the date the status is for, and `created`.
    pub created_ms: i64,
}

/// Why the eligibility cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum EligibilityError {
    /// The chain knows the member but the payer's records do not.
    #[error(
        "the payer's records hold no member {0}: the chain covers it, the benefits are unknown"
    )]
    NotInRecords(Hash),
    /// The records and the chain disagree.
    #[error(
        "the payer's records and the chain disagree on the member's {what}: {records} in the records, {chain} on chain"
    )]
    Disagrees {
        /// `status` or `period`.
        what: &'static str,
        /// The records' value.
        records: String,
        /// The chain's.
        chain: String,
    },
    /// A malformed view answer.
    #[error(transparent)]
    Fhir(#[from] FhirError),
}

fn concept(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether `(start, end)` (end excluded, UTC) is one calendar year: the end is the start's
/// month, day and time of day one year later (a start on 29 February ends on 1 March).
pub fn is_one_year(start_ms: u64, end_ms: u64) -> bool {
    let (Ok(start), Ok(end)) = (i64::try_from(start_ms), i64::try_from(end_ms)) else {
        return false;
    };
    let (year, month, day) = civil_from_days(start.div_euclid(DAY_MS));
    let next = days_from_civil(year + 1, month, day) * DAY_MS + start.rem_euclid(DAY_MS);
    end == next
}

/// The payer's eligibility answer for `inquiry.member` as a CoverageEligibilityResponse.
///
/// # Errors
/// [`EligibilityError::NotInRecords`] when the chain covers the member and the records hold
/// nothing; [`EligibilityError::Disagrees`] when they differ on the status on the date or the
/// period; [`EligibilityError::Fhir`] for a malformed view answer.
pub fn response(inquiry: &Inquiry<'_>, directory: &Directory) -> Result<Value, EligibilityError> {
    let insurer = who(directory, &inquiry.payer);
    let member_id =
        json!({ "identifier": { "system": MEMBER_SYSTEM, "value": inquiry.member.to_string() } });
    let patient = match inquiry.coverage {
        Value::Null => member_id,
        coverage => {
            let beneficiary: Address = coverage
                .get("beneficiary")
                .and_then(Value::as_str)
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| bad("coverage.beneficiary"))?;
            who(directory, &beneficiary)
        }
    };
    let mut out = json!({
        "resourceType": "CoverageEligibilityResponse",
        "id": format!("salus-eligibility-{}", hex::encode(&inquiry.member.0[..8])),
        "status": "active",
        "purpose": ["benefits", "validation"],
        "patient": patient,
        "created": time::format_instant(inquiry.created_ms),
        "request": { "identifier": { "system": REQUEST_SYSTEM, "value": inquiry.request } },
        "insurer": insurer,
    });
    if let Some(rejected) = inquiry.eligibility.get("Rejected") {
        let code = rejected
            .get(0)
            .and_then(Value::as_str)
            .ok_or_else(|| bad("eligibility.Rejected"))?;
        let text = rejected.get(1).and_then(Value::as_str).unwrap_or_default();
        out["outcome"] = json!("error");
        out["disposition"] = json!(text);
        out["error"] = json!([{ "code": {
            "coding": [{ "system": X12_REJECT_REASON, "code": code, "display": text }],
            "text": text,
        } }]);
        return Ok(out);
    }
    let found = inquiry
        .eligibility
        .get("Found")
        .ok_or_else(|| bad("eligibility"))?;
    let period = found.get(0).ok_or_else(|| bad("eligibility.Found"))?;
    let start = number(period.get("start_ms"), "eligibility.Found.period.start_ms")?;
    let end = number(period.get("end_ms"), "eligibility.Found.period.end_ms")?;
    let information = found
        .get(1)
        .and_then(|lines| lines.get(0))
        .and_then(|line| line.get("information"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("eligibility.Found.lines[0].information"))?;
    let inforce = match information {
        "1" => true,
        "6" => false,
        _ => return Err(bad("eligibility.Found.lines[0].information").into()),
    };
    let records = inquiry
        .records
        .ok_or(EligibilityError::NotInRecords(inquiry.member))?;
    if records.period != (start, end) {
        return Err(EligibilityError::Disagrees {
            what: "period",
            records: format!("{:?}", records.period),
            chain: format!("{:?}", (start, end)),
        });
    }
    let date = u64::try_from(inquiry.created_ms).unwrap_or(0);
    let records_inforce = records.active && start <= date && date < end;
    if records_inforce != inforce {
        return Err(EligibilityError::Disagrees {
            what: "status",
            records: if records_inforce {
                "active"
            } else {
                "inactive"
            }
            .into(),
            chain: if inforce { "active" } else { "inactive" }.into(),
        });
    }
    let mut insurance = json!({
        "coverage": { "identifier": {
            "system": COVERAGE_SYSTEM,
            "value": inquiry.member.to_string(),
            "assigner": insurer,
        } },
        "inforce": inforce,
        "benefitPeriod": {
            "start": time::format_start(start as i64),
            "end": time::format_end(end as i64),
        },
    });
    let annual = is_one_year(start, end);
    let mut items = Vec::new();
    if inforce {
        for benefit in &records.benefits {
            let mut entry = json!({ "type": concept(BENEFIT_TYPE_SYSTEM, "benefit") });
            if let Some(limit) = benefit.quantity_limit {
                entry["allowedUnsignedInt"] = json!(limit);
            }
            entry["usedUnsignedInt"] = json!(benefit.quantity_used);
            let mut item = json!({
                "category": concept(SERVICE_TYPE_SYSTEM, &benefit.service_type),
            });
            if records.network_plan {
                item["network"] = concept(NETWORK_SYSTEM, "in");
            }
            item["unit"] = concept(UNIT_SYSTEM, "individual");
            if annual {
                item["term"] = concept(TERM_SYSTEM, "annual");
            }
            item["benefit"] = json!([entry]);
            item["authorizationRequired"] = json!(benefit.authorisation_required);
            items.push(item);
        }
        if records.network_plan {
            items.push(json!({
                "category": concept(SERVICE_TYPE_SYSTEM, PLAN_COVERAGE),
                "network": concept(NETWORK_SYSTEM, "out"),
                "excluded": true,
            }));
        }
    }
    if !items.is_empty() {
        insurance["item"] = Value::Array(items);
    }
    out["outcome"] = json!("complete");
    out["disposition"] = json!(if inforce {
        "Coverage active on the date; benefits from the payer's records"
    } else {
        "Coverage inactive on the date"
    });
    out["insurance"] = json!([insurance]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYER: Address = Address([0x01; 20]);
    const PATIENT: Address = Address([0x04; 20]);
    const MEMBER: Hash = Hash([0x4d; 32]);
    /// 2026-01-01T00:00:00Z and 2027-01-01T00:00:00Z.
    const START: u64 = 1_767_225_600_000;
    const END: u64 = 1_798_761_600_000;
    const NOW: i64 = 1_780_000_000_000;

    fn directory() -> Directory {
        use crate::directory::{Party, Patient};
        Directory::new(
            vec![Party {
                name: "payer".into(),
                address: PAYER,
                gln: None,
                locations: vec![],
                company_prefixes: vec![],
                npi: None,
                fhir: vec!["Organization/payer".into()],
            }],
            vec![Patient {
                reference: "Patient/p1".into(),
                pseudonym: PATIENT,
                identifiers: vec![],
            }],
        )
        .unwrap()
    }

    fn coverage() -> Value {
        json!({ "beneficiary": PATIENT.to_string(), "plan_type": "Ppo",
                "period": { "start_ms": START.to_string(), "end_ms": END.to_string() },
                "status": "Active" })
    }

    fn found(information: &str) -> Value {
        json!({ "Found": [
            { "start_ms": START.to_string(), "end_ms": END.to_string() },
            [{ "information": information, "service_type": "30", "plan_type": "Ppo" }],
        ] })
    }

    fn records(network_plan: bool) -> MemberBenefits {
        MemberBenefits {
            active: true,
            period: (START, END),
            network_plan,
            benefits: vec![
                Benefit {
                    service_type: "62".into(),
                    authorisation_required: true,
                    quantity_limit: None,
                    quantity_used: 1,
                },
                Benefit {
                    service_type: "AD".into(),
                    authorisation_required: false,
                    quantity_limit: Some(20),
                    quantity_used: 3,
                },
            ],
        }
    }

    fn inquiry<'a>(
        coverage: &'a Value,
        eligibility: &'a Value,
        records: Option<&'a MemberBenefits>,
    ) -> Inquiry<'a> {
        Inquiry {
            payer: PAYER,
            member: MEMBER,
            coverage,
            eligibility,
            records,
            request: "inquiry-1",
            created_ms: NOW,
        }
    }

    #[test]
    fn an_active_member_answers_its_benefits_from_the_records() {
        let (coverage, eligibility, records) = (coverage(), found("1"), records(false));
        let out = response(
            &inquiry(&coverage, &eligibility, Some(&records)),
            &directory(),
        )
        .unwrap();
        assert_eq!(out["resourceType"], "CoverageEligibilityResponse");
        assert_eq!(out["status"], "active");
        assert_eq!(out["purpose"], json!(["benefits", "validation"]));
        assert_eq!(out["patient"], json!({ "reference": "Patient/p1" }));
        assert_eq!(out["insurer"], json!({ "reference": "Organization/payer" }));
        assert_eq!(out["request"]["identifier"]["value"], "inquiry-1");
        assert_eq!(out["outcome"], "complete");
        let insurance = &out["insurance"][0];
        assert_eq!(insurance["inforce"], true);
        assert_eq!(
            insurance["coverage"]["identifier"]["value"],
            MEMBER.to_string()
        );
        assert_eq!(insurance["benefitPeriod"]["start"], "2026-01-01");
        assert_eq!(insurance["benefitPeriod"]["end"], "2026-12-31");
        let items = insurance["item"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0]["category"]["coding"][0]["system"],
            SERVICE_TYPE_SYSTEM
        );
        assert_eq!(items[0]["category"]["coding"][0]["code"], "62");
        // Not a network plan: the benefit applies in and out of network (X12 EB12 `W`).
        assert!(items[0].get("network").is_none());
        assert_eq!(items[0]["unit"]["coding"][0]["code"], "individual");
        assert_eq!(items[0]["term"]["coding"][0]["code"], "annual");
        assert_eq!(items[0]["authorizationRequired"], true);
        let unlimited = &items[0]["benefit"][0];
        assert_eq!(unlimited["type"]["coding"][0]["code"], "benefit");
        assert!(unlimited.get("allowedUnsignedInt").is_none());
        assert_eq!(unlimited["usedUnsignedInt"], 1);
        assert_eq!(items[1]["benefit"][0]["allowedUnsignedInt"], 20);
        assert_eq!(items[1]["benefit"][0]["usedUnsignedInt"], 3);
        assert_eq!(items[1]["authorizationRequired"], false);
    }

    #[test]
    fn a_network_plan_covers_in_network_and_excludes_out_of_network() {
        let (coverage, eligibility, records) = (coverage(), found("1"), records(true));
        let out = response(
            &inquiry(&coverage, &eligibility, Some(&records)),
            &directory(),
        )
        .unwrap();
        let items = out["insurance"][0]["item"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["network"]["coding"][0]["code"], "in");
        assert_eq!(items[0]["network"]["coding"][0]["system"], NETWORK_SYSTEM);
        assert_eq!(items[2]["category"]["coding"][0]["code"], "30");
        assert_eq!(items[2]["network"]["coding"][0]["code"], "out");
        assert_eq!(items[2]["excluded"], true);
    }

    #[test]
    fn a_period_other_than_a_year_has_no_term() {
        assert!(is_one_year(START, END));
        // 2028 is a leap year: 366 days from 2028-01-01.
        let leap = days_from_civil(2028, 1, 1) as u64 * DAY_MS as u64;
        assert!(is_one_year(leap, leap + 366 * DAY_MS as u64));
        assert!(!is_one_year(leap, leap + 365 * DAY_MS as u64));
        assert!(!is_one_year(START, END + DAY_MS as u64));
        let end = START + 180 * DAY_MS as u64;
        let coverage = json!({ "beneficiary": PATIENT.to_string(), "plan_type": "Ppo",
            "period": { "start_ms": START.to_string(), "end_ms": end.to_string() }, "status": "Active" });
        let eligibility = json!({ "Found": [
            { "start_ms": START.to_string(), "end_ms": end.to_string() },
            [{ "information": "1", "service_type": "30", "plan_type": "Ppo" }] ] });
        let records = MemberBenefits {
            period: (START, end),
            ..records(false)
        };
        let early = Inquiry {
            created_ms: (START + DAY_MS as u64) as i64,
            ..inquiry(&coverage, &eligibility, Some(&records))
        };
        let out = response(&early, &directory()).unwrap();
        let item = &out["insurance"][0]["item"][0];
        assert!(item.get("term").is_none(), "{item}");
        assert_eq!(
            out["insurance"][0]["benefitPeriod"]["end"],
            time::format_end(end as i64)
        );
    }

    #[test]
    fn an_inactive_member_is_not_in_force_and_lists_no_benefits() {
        let (coverage, eligibility) = (coverage(), found("6"));
        let records = MemberBenefits {
            active: false,
            ..records(false)
        };
        let out = response(
            &inquiry(&coverage, &eligibility, Some(&records)),
            &directory(),
        )
        .unwrap();
        assert_eq!(out["outcome"], "complete");
        assert_eq!(out["insurance"][0]["inforce"], false);
        assert!(out["insurance"][0].get("item").is_none());
    }

    #[test]
    fn a_member_the_chain_does_not_know_is_an_error_outcome() {
        let eligibility = json!({ "Rejected": ["75", "Subscriber/Insured Not Found"] });
        let out = response(&inquiry(&Value::Null, &eligibility, None), &directory()).unwrap();
        assert_eq!(out["outcome"], "error");
        assert_eq!(
            out["error"][0]["code"]["coding"][0]["system"],
            X12_REJECT_REASON
        );
        assert_eq!(out["error"][0]["code"]["coding"][0]["code"], "75");
        assert_eq!(out["patient"]["identifier"]["system"], MEMBER_SYSTEM);
        assert!(out.get("insurance").is_none());
    }

    #[test]
    fn a_member_missing_from_the_records_or_disagreeing_is_refused() {
        let (coverage, eligibility) = (coverage(), found("1"));
        let refused = response(&inquiry(&coverage, &eligibility, None), &directory());
        assert!(
            matches!(refused, Err(EligibilityError::NotInRecords(member)) if member == MEMBER),
            "{refused:?}"
        );
        let inactive = MemberBenefits {
            active: false,
            ..records(false)
        };
        let refused = response(
            &inquiry(&coverage, &eligibility, Some(&inactive)),
            &directory(),
        );
        assert!(
            matches!(
                refused,
                Err(EligibilityError::Disagrees { what: "status", .. })
            ),
            "{refused:?}"
        );
        let shifted = MemberBenefits {
            period: (START, END - 1),
            ..records(false)
        };
        let refused = response(
            &inquiry(&coverage, &eligibility, Some(&shifted)),
            &directory(),
        );
        assert!(
            matches!(
                refused,
                Err(EligibilityError::Disagrees { what: "period", .. })
            ),
            "{refused:?}"
        );
        let malformed = json!({ "Found": [] });
        let refused = response(&inquiry(&coverage, &malformed, None), &directory());
        assert!(
            matches!(refused, Err(EligibilityError::Fhir(_))),
            "{refused:?}"
        );
    }
}
