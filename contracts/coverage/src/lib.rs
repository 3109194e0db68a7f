//! Coverage, eligibility, preauthorization and claim checks (DOMAIN.md §2).
//!
//! A payer attested in the registry keeps its members' coverage (keyed by a salted hash of the
//! member id; no direct identifiers), benefits per X12 service type, its provider networks and
//! versioned rule sets (procedure ranges, diagnoses, age and sex, place of service, network,
//! quantities, prior authorisation, documentation, auto-approval) with the policy document's hash
//! and the reason codes and texts its denials cite. Eligibility answers as 271 benefit lines or an
//! AAA rejection. A provider submits a preauthorization and the rules decide it in the same
//! transaction — `A1` certified, `A4` pended, or not required — each decision citing its rule ids
//! and rule-set version; where the rules would deny (`A3`) or certify in part (`A2`) the line
//! pends to a clinical reviewer with the suggested action and reason, since an adverse decision
//! is never automated (42 CFR 438.210(b)(3), 42 CFR 422.566(d)). Pended
//! requests wait for the payer's reviewers under the CMS-0057-F deadlines (72 hours expedited,
//! 7 days standard); anyone may mark a late one overdue, which never approves it. Revisions,
//! extensions, cancellations and appeals keep every earlier decision. Claim lines are checked
//! against coverage and the authorisation with CARC codes. Payers read clinical attachments
//! only through the consent contract, which records every such access. The metrics CMS-0057-F
//! makes payers publish are computed from contract state.
//!
//! The contract module below holds the messages (the contract's interface, documented there);
//! what they do lives in modules in layers, each using only modules listed before it: `types`
//! (stored records, message and event types, the error; re-exported here), `storage` (the key
//! layout), `checks` (authority and input bounds), then by concern `rules` (rule sets),
//! `eligibility` (coverage, benefits, networks and eligibility answers), `metrics`, `units`
//! (benefit and window limits, the payer's records as the rules read them), `evaluation` (the
//! rules' decision on a line, made by the `coverage-rules` library), `requests`
//! (preauthorization requests, their deadlines, and what each line decision settles),
//! `decisions` (reviewers and appeals), `revisions` (revise, extend, cancel, appeal), `claims`
//! and `attachments` (reads through the consent contract). The registry and the consent contract
//! are called through their typed references, with their own types (`Role`, `AccessDecision`).
//! The rules themselves — the rule set's types and the decision on a line — are the pure
//! `coverage-rules` crate (no storage, no host), so the payer's agent runs the same code; its
//! types are re-exported here with the contract's own.
#![no_std]

mod attachments;
mod checks;
mod claims;
mod decisions;
mod eligibility;
mod evaluation;
mod metrics;
mod requests;
mod revisions;
mod rules;
mod sealed;
mod storage;
mod types;
mod units;

pub use coverage::*;
pub use types::*;

#[salus_sdk::contract(events(
    CoverageChanged,
    RulesPublished,
    Decided,
    Overdue,
    RequestStep,
    ClaimChecked,
    AttachmentAccess,
    SealedSubmitted,
    DecisionPosted
))]
mod coverage {
    use consent::AccessDecision;
    use salus_sdk::prelude::*;

    use crate::checks::{active_payer, may_read_member};
    use crate::storage::{
        BENEFITS, CONSENT, COVERAGES, LATEST_RULES, REGISTRY, REVIEWERS, RULE_SETS,
    };
    use crate::types::*;

    /// The contract.
    pub struct CoverageContract;

    impl CoverageContract {
        /// Deploys with the participant registry and the consent contract.
        #[constructor]
        pub fn new(registry: Address, consent: Address) {
            REGISTRY.set(&registry);
            CONSENT.set(&consent);
        }

        // ---- payer: coverage, benefits, networks, rules, reviewers ----

        /// Creates or replaces a member's coverage (caller: an active payer). It holds no
        /// demographics: the birth year and sex the rules' edits read come with a clear
        /// `submit`, or from the payer's own records for a sealed one.
        #[message]
        pub fn set_coverage(member: Hash, coverage: Coverage) -> Result<(), CoverageError> {
            crate::eligibility::set_coverage(member, coverage)
        }

        /// Sets a member's benefit for one X12 service type (caller: the payer): an
        /// out-of-network benefit (EB12 `N`) is kept beside the in-network one and answered
        /// after it; claims draw on the in-network (or not-applicable) one.
        #[message]
        pub fn set_benefit(
            member: Hash,
            service_type: String,
            benefit: Benefit,
        ) -> Result<(), CoverageError> {
            crate::eligibility::set_benefit(member, service_type, benefit)
        }

        /// Sets a member's coverage level (X12 271 EB02) and the ISO 4217 currency of its
        /// amounts (caller: the payer; without it amounts are answered in `USD`).
        #[message]
        pub fn set_coverage_terms(member: Hash, terms: CoverageTerms) -> Result<(), CoverageError> {
            crate::eligibility::set_coverage_terms(member, terms)
        }

        /// Adds providers (NPIs) to, or removes them from, a plan's network (caller: the payer).
        #[message]
        pub fn set_network(
            plan: String,
            npis: Vec<String>,
            in_network: bool,
        ) -> Result<(), CoverageError> {
            crate::eligibility::set_network(plan, npis, in_network)
        }

        /// Publishes a new rule-set version (caller: an active payer). Every edit must have a
        /// reason, so no decision can deny without one. Returns the version.
        #[message]
        pub fn publish_rules(
            policy: Hash,
            effective: Period,
            rules: Vec<Rule>,
            reasons: Vec<EditReason>,
        ) -> Result<u32, CoverageError> {
            crate::rules::publish_rules(policy, effective, rules, reasons)
        }

        /// Authorises or withdraws a utilisation-management key that decides for the payer.
        #[message]
        pub fn set_reviewer(reviewer: Address, active: bool) -> Result<(), CoverageError> {
            let payer = active_payer()?;
            if active {
                REVIEWERS.insert(&(payer, reviewer), &());
            } else {
                REVIEWERS.remove(&(payer, reviewer));
            }
            Ok(())
        }

        // ---- provider: preauthorization ----

        /// Submits a preauthorization (caller: an active provider — practitioner or provider
        /// organisation — with an NPI in the registry). The servicing NPI is the caller's own,
        /// or on a referral that of the servicing provider the submission names, which the
        /// registry must attest as an active provider with that NPI
        /// (`UnknownServicingProvider` otherwise). The rules decide it now; pended lines wait
        /// for a reviewer. Returns the decision per line. Everything it carries — diagnoses,
        /// procedures, dates of service, the member's birth year and sex — is in clear on
        /// every node (docs/PRIVACY.md §3.3); `submit_sealed` is the private path.
        #[message]
        pub fn submit(submission: Submission) -> Result<Vec<LineDecision>, CoverageError> {
            crate::requests::submit(submission)
        }

        /// Submits a sealed preauthorization (caller: an active provider with an NPI in the
        /// registry): the submission itself is sealed to the payer's registered key and
        /// delivered to the payer's agent off chain; the chain keeps only this skeleton — the
        /// handle, payer, member, priority, line count and `submission_commitment` — starts
        /// the CMS-0057-F clock (72 hours expedited, 7 days standard) and lists the request as
        /// open under the lowercase hex of the handle (`due_within`, `mark_overdue`). The
        /// member must have coverage with the payer. Emits `SealedSubmitted` (payer and handle
        /// only). docs/PRIVACY.md §5.5.
        #[message]
        pub fn submit_sealed(
            trace_handle: Hash,
            payer: Address,
            member: Hash,
            priority: Priority,
            line_count: u32,
            submission_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::sealed::submit_sealed(
                trace_handle,
                payer,
                member,
                priority,
                line_count,
                submission_commitment,
            )
        }

        /// Posts the decision on a sealed request (caller: the payer or one of its
        /// reviewers), one line per submitted line in order: on the first post every line, on
        /// later ones only the lines still pended (`A4`; the others are skipped). Each reason
        /// code must be in the reason table of rule set `rule_set_version`; `A2`, `A3`, `A4`
        /// and `A6` need one. `A1`, `A4` and `NA` may come from the payer's automated agent;
        /// an adverse action (`A2`, `A3`, `A6`) only from a reviewer the registry attests as
        /// a clinician (42 CFR 438.210(b)(3), 42 CFR 422.566(d)). An overdue request stays
        /// decidable. `inputs_commitment` commits to the submission, coverage and benefit
        /// state the rules read, `outcome_commitment` to what they gave (rule ids, quantity,
        /// window, certification). Returns the request's status; emits `DecisionPosted`.
        #[message]
        pub fn post_decision(
            trace_handle: Hash,
            lines: Vec<PostedLine>,
            rule_set_version: u32,
            inputs_commitment: Hash,
            outcome_commitment: Hash,
        ) -> Result<RequestStatus, CoverageError> {
            crate::sealed::post_decision(
                trace_handle,
                lines,
                rule_set_version,
                inputs_commitment,
                outcome_commitment,
            )
        }

        /// Attaches a document by hash (caller: the requester, still an active provider); the
        /// request stays with the reviewer.
        #[message]
        pub fn add_documentation(
            trace: String,
            attachment: Attachment,
        ) -> Result<(), CoverageError> {
            crate::requests::add_documentation(trace, attachment)
        }

        /// Decides the pended lines of a request (caller: the payer or one of its reviewers),
        /// one decision per line in order (decided lines are skipped). An adverse decision
        /// (`A2`, `A3`, `A6`, or fewer units than requested) only by a reviewer the registry
        /// attests as a clinician (42 CFR 438.210(b)(3), 42 CFR 422.566(d)).
        #[message]
        pub fn decide(
            trace: String,
            decisions: Vec<ReviewerDecision>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            crate::decisions::decide(trace, decisions)
        }

        /// Extends the payer's review timeframe once by 14 days (caller: the payer or a
        /// reviewer; standard requests only, before the due time).
        #[message]
        pub fn extend_review(trace: String) -> Result<u64, CoverageError> {
            crate::requests::extend_review(trace)
        }

        /// Marks an undecided request past its due time as overdue (anyone may call). Emits
        /// `Overdue` once; the request stays undecided — overdue is never approval.
        /// A sealed request is named by the lowercase hex of its handle, as `due_within`
        /// lists it.
        #[message]
        pub fn mark_overdue(trace: String) -> Result<(), CoverageError> {
            match crate::storage::parse_handle(&trace) {
                Some(handle) if !crate::storage::REQUESTS.contains(&trace) => {
                    crate::sealed::mark_overdue(handle)
                }
                _ => crate::requests::mark_overdue(trace),
            }
        }

        /// Revises a request (caller: the requester, still an active provider): new lines and diagnoses, evaluated again
        /// by the rules in force (a line certified in total is `A1`; one the rules would deny
        /// or certify in part pends to a clinical reviewer); earlier decisions move to the
        /// history.
        #[message]
        pub fn revise(
            trace: String,
            lines: Vec<ServiceLine>,
            diagnoses: Vec<String>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            crate::revisions::revise(trace, lines, diagnoses)
        }

        /// Asks to extend the authorised window of the certified lines by `days` (caller: the
        /// requester, still an active provider; once). Granted automatically up to the rule's window length; beyond it
        /// the rules would refuse, so the extension is pended to a clinical reviewer with the
        /// rule set's reason as the suggestion (42 CFR 438.210(b)(3)) and the certification
        /// stays in force.
        #[message]
        pub fn request_extension(
            trace: String,
            days: u32,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            crate::revisions::request_extension(trace, days)
        }

        /// Decides a pended extension (caller: the payer or a reviewer). Granting extends the
        /// window; refusing (`A3`, the certification stands) is adverse: only a reviewer the
        /// registry attests as a clinician, with a specific reason (42 CFR 438.210(b)(3),
        /// 42 CFR 422.566(d)).
        #[message]
        pub fn decide_extension(
            trace: String,
            grant: bool,
            reason: Option<Reason>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            crate::revisions::decide_extension(trace, grant, reason)
        }

        /// Cancels a request (caller: the requester, still an active provider): every line becomes `C` and certified units
        /// return to the benefit.
        #[message]
        pub fn cancel(trace: String) -> Result<(), CoverageError> {
            crate::revisions::cancel(trace)
        }

        /// Appeals the denied or partly certified lines (caller: the patient, or the requester
        /// while still an active provider).
        /// The appeal gets a new due time from the request's priority.
        #[message]
        pub fn appeal(trace: String, grounds: Hash) -> Result<u64, CoverageError> {
            crate::revisions::appeal(trace, grounds)
        }

        /// Decides an appeal (caller: the payer or a reviewer). Overturned: the appealed lines
        /// are certified for the units requested (within the remaining benefit). Upheld: the
        /// decisions stand, and the reason is mandatory.
        #[message]
        pub fn decide_appeal(
            trace: String,
            outcome: AppealOutcome,
            reason: Option<Reason>,
        ) -> Result<Vec<LineDecision>, CoverageError> {
            crate::decisions::decide_appeal(trace, outcome, reason)
        }

        // ---- claims ----

        /// Checks a claim's lines against coverage, the rules and the cited authorisation
        /// (caller: an active provider — practitioner or provider organisation — billing under
        /// the NPI the registry attests for it; citing an authorisation, only a provider attested
        /// with the servicing NPI it names, so on a referral not the requester unless it is
        /// also the servicing provider), records the result with CARCs (group code and RARC),
        /// the billing provider and its NPI, and draws the accepted units from the
        /// authorisation or the benefit.
        #[message]
        pub fn check_claim(
            claim: Hash,
            payer: Address,
            member: Hash,
            authorisation: Option<String>,
            lines: Vec<ClaimLine>,
        ) -> Result<Vec<ClaimLineResult>, CoverageError> {
            crate::claims::check_claim(claim, payer, member, authorisation, lines)
        }

        /// Voids a claim in force (X12 837 CLM05-3 frequency code `8`; caller: the provider
        /// that submitted it, still an active provider): every unit it drew returns to the
        /// authorisation or the benefit.
        #[message]
        pub fn void_claim(claim: Hash) -> Result<(), CoverageError> {
            crate::claims::void_claim(claim)
        }

        /// Replaces a claim in force (X12 837 CLM05-3 frequency code `7`; caller: the provider
        /// that submitted it, still an active provider with the same attested NPI rules as
        /// `check_claim`) by `claim`, for the same payer and member: the original's units
        /// are restored and the replacement is checked and draws as `check_claim` does.
        #[message]
        pub fn replace_claim(
            original: Hash,
            claim: Hash,
            authorisation: Option<String>,
            lines: Vec<ClaimLine>,
        ) -> Result<Vec<ClaimLineResult>, CoverageError> {
            crate::claims::replace_claim(original, claim, authorisation, lines)
        }

        // ---- attachments through consent ----

        /// Reads a clinical attachment of a request for the payer (caller: the payer or one of
        /// its reviewers, signing the transaction themselves). The consent contract decides —
        /// purpose `HPAYMT` or `COVAUTH`, and a patient's self-pay restriction blocks it — and
        /// records the access in the patient's audit trail either way.
        #[message]
        pub fn access_attachment(
            trace: String,
            record: Hash,
            purpose: String,
        ) -> Result<AccessDecision, CoverageError> {
            crate::attachments::access_attachment(trace, record, purpose)
        }

        // ---- queries ----

        /// Eligibility of a member for a service type on a date: 271 benefit lines, or an AAA
        /// rejection (`72` invalid or missing member id, `75` subscriber not found). Callers: the
        /// payer or its reviewers, the member, or an active provider organisation.
        #[message(view)]
        pub fn eligibility(
            payer: Address,
            member: Hash,
            service_type: String,
            date_ms: u64,
        ) -> Result<Eligibility, CoverageError> {
            crate::eligibility::eligibility(payer, member, service_type, date_ms)
        }

        /// Whether a procedure needs prior authorisation for a member on a date (callers as for
        /// `eligibility`).
        #[message(view)]
        pub fn authorisation_requirement(
            payer: Address,
            member: Hash,
            procedure: String,
            date_ms: u64,
        ) -> Result<AuthorisationRequirement, CoverageError> {
            crate::eligibility::authorisation_requirement(payer, member, procedure, date_ms)
        }

        /// A request by trace number (callers: the requester, the servicing provider it names,
        /// the payer or its reviewers, the member).
        #[message(view)]
        pub fn request(trace: String) -> Result<Option<Request>, CoverageError> {
            crate::requests::request(trace)
        }

        /// A sealed request's skeleton and posted decisions (callers: the requester, the
        /// member, the payer or its reviewers).
        #[message(view)]
        pub fn sealed_request(trace_handle: Hash) -> Result<Option<SealedRequest>, CoverageError> {
            crate::sealed::sealed_request(trace_handle)
        }

        /// A member's coverage (callers as for `eligibility`).
        #[message(view)]
        pub fn coverage(payer: Address, member: Hash) -> Result<Option<Coverage>, CoverageError> {
            let coverage = COVERAGES.get(&(payer, member));
            may_read_member(&payer, coverage.as_ref())?;
            Ok(coverage)
        }

        /// A member's benefit for a service type (callers as for `eligibility`).
        #[message(view)]
        pub fn benefit(
            payer: Address,
            member: Hash,
            service_type: String,
        ) -> Result<Option<Benefit>, CoverageError> {
            may_read_member(&payer, COVERAGES.get(&(payer, member)).as_ref())?;
            Ok(BENEFITS.get(&(payer, member, service_type)))
        }

        /// A rule set (the newest when `version` is `None`): public, as payers must publish
        /// their prior-authorisation criteria.
        #[message(view)]
        pub fn rules(payer: Address, version: Option<u32>) -> Option<RuleSet> {
            let version = version.or_else(|| LATEST_RULES.get(&payer))?;
            RULE_SETS.get(&(payer, version))
        }

        /// A payer's undecided requests (pended or under appeal) due within `hours` from now,
        /// soonest first, as (trace, due ms) (callers: the payer or its reviewers).
        #[message(view)]
        pub fn due_within(
            payer: Address,
            hours: u64,
            limit: u32,
        ) -> Result<Vec<(String, u64)>, CoverageError> {
            crate::requests::due_within(payer, hours, limit)
        }

        /// A claim check (callers: the provider that submitted it, the payer or its reviewers).
        #[message(view)]
        pub fn claim(claim: Hash) -> Result<Option<ClaimCheck>, CoverageError> {
            crate::claims::claim(claim)
        }

        /// The CMS-0057-F metrics of a payer for a priority, plan-wide (`service_code` `None`)
        /// or for one procedure code.
        #[message(view)]
        pub fn metrics(
            payer: Address,
            priority: Priority,
            service_code: Option<String>,
        ) -> MetricsReport {
            crate::metrics::metrics(payer, priority, service_code)
        }
    }
}
