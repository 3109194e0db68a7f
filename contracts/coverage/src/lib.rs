//! Coverage, eligibility, preauthorization and claim checks (DOMAIN.md §2), with nothing
//! clinical on chain (docs/PRIVACY.md §5.5).
//!
//! A payer attested in the registry keeps its members' coverage (status, plan type and period,
//! keyed by a salted hash of the member id and naming the member's pseudonym with the payer),
//! its versioned rule sets (procedure ranges, diagnoses, age and sex, place of service, network,
//! quantities, prior authorisation, documentation, auto-approval) with the policy document's
//! hash and the reason codes and texts its decisions cite, and its reviewers. Benefits,
//! demographics, group and primary care stay in the payer's own records.
//!
//! A provider seals a preauthorization to the payer's registered key, delivers it off chain and
//! posts its skeleton (`submit_sealed`: trace handle, payer, member, priority, line count,
//! commitment); the CMS-0057-F clock starts (72 hours expedited, 7 days standard). The payer's
//! agent opens it, runs the published rules with `coverage-rules` and posts the decision per
//! line (`post_decision`: action and reason codes, two commitments) — `A1` certified, `A4`
//! pended, or not required; an adverse decision (`A2`, `A3`, `A6`) only from a reviewer the
//! registry attests as a clinician (42 CFR 438.210(b)(3), 42 CFR 422.566(d)). Anyone may mark a
//! late request overdue, which never approves it. Documentation, revisions, extensions,
//! cancellations and appeals work on the handle and keep every earlier decision. Claims are
//! sealed likewise (`submit_claim`) and checked by the payer's agent (`post_claim_check`, CARCs
//! per line). Plan-wide CMS-0057-F metrics are counted from the posted decisions; per-code
//! aggregates are posted by the payer per period (`post_metrics`).
//!
//! The contract module below holds the messages (the contract's interface, documented there);
//! what they do lives in modules in layers, each using only modules listed before it: `types`
//! (stored records, message and event types, the error; re-exported here), `storage` (the key
//! layout), `checks` (authority and input bounds), then by concern `rules` (rule sets),
//! `eligibility` (coverage and eligibility answers), `metrics`, `requests` (the request's
//! lifecycle and deadlines) and `claims`. The registry is called through its typed reference,
//! with its own `Role`. The rules themselves are the pure `coverage-rules` crate (no storage,
//! no host), run by the payer's agent; its types are re-exported here with the contract's own.
#![no_std]

mod checks;
mod claims;
mod eligibility;
mod metrics;
mod requests;
mod rules;
mod storage;
mod types;

pub use coverage::*;
pub use types::*;

#[salus_sdk::contract(events(
    CoverageChanged,
    RulesPublished,
    SealedSubmitted,
    DecisionPosted,
    Overdue,
    RequestStep,
    ClaimSubmitted,
    ClaimChecked,
    ClaimWithdrawn,
    MetricsPosted
))]
mod coverage {
    use salus_sdk::prelude::*;

    use crate::checks::{active_payer, may_read_member};
    use crate::storage::{CONSENT, COVERAGES, LATEST_RULES, REGISTRY, REVIEWERS, RULE_SETS};
    use crate::types::*;

    /// The contract.
    pub struct CoverageContract;

    impl CoverageContract {
        /// Deploys with the participant registry and the consent contract (kept for the
        /// record; attachments are fetched through the custodian's record gateway).
        #[constructor]
        pub fn new(registry: Address, consent: Address) {
            REGISTRY.set(&registry);
            CONSENT.set(&consent);
        }

        // ---- payer: coverage, rules, reviewers, metrics ----

        /// Creates or replaces a member's coverage (caller: an active payer): status, plan
        /// type and period under the member's pseudonym with the payer. Benefits, birth year,
        /// sex, group and primary care stay in the payer's records.
        #[message]
        pub fn set_coverage(member: Hash, coverage: Coverage) -> Result<(), CoverageError> {
            crate::eligibility::set_coverage(member, coverage)
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

        /// Posts the per-code CMS-0057-F figures of a finished period (caller: an active
        /// payer; once per period start), with a commitment to the decisions counted. Emits
        /// `MetricsPosted`.
        #[message]
        pub fn post_metrics(
            period: Period,
            aggregates: Vec<CodeMetrics>,
            decisions_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::metrics::post_metrics(period, aggregates, decisions_commitment)
        }

        // ---- provider: preauthorization ----

        /// Submits a preauthorization (caller: an active provider with an NPI in the
        /// registry): the submission itself is sealed to the payer's registered key and
        /// delivered to the payer's agent off chain; the chain keeps only this skeleton — the
        /// handle, payer, member, priority, line count and `submission_commitment` — starts
        /// the CMS-0057-F clock (72 hours expedited, 7 days standard) and lists the request as
        /// open (`due_within`, `mark_overdue`). The member must have coverage with the payer.
        /// Emits `SealedSubmitted` (payer and handle only).
        #[message]
        pub fn submit_sealed(
            trace_handle: Hash,
            payer: Address,
            member: Hash,
            priority: Priority,
            line_count: u32,
            submission_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::requests::submit_sealed(
                trace_handle,
                payer,
                member,
                priority,
                line_count,
                submission_commitment,
            )
        }

        /// Posts the decision on a request (caller: the payer or one of its reviewers), one
        /// line per submitted line in order: on the first post (and the first after a
        /// revision) every line, on later ones only the lines still pended (`A4`; the others
        /// are skipped). Each reason code must be in the reason table of rule set
        /// `rule_set_version`; `A2`, `A3`, `A4` and `A6` need one. `A1`, `A4` and `NA` may come
        /// from the payer's automated agent; an adverse action (`A2`, `A3`, `A6`) only from a
        /// reviewer the registry attests as a clinician (42 CFR 438.210(b)(3), 42 CFR
        /// 422.566(d)). An overdue request stays decidable. `inputs_commitment` commits to the
        /// submission, coverage and benefit state the rules read, `outcome_commitment` to what
        /// they gave (rule ids, quantity, window, certification). Returns the request's status;
        /// emits `DecisionPosted`.
        #[message]
        pub fn post_decision(
            trace_handle: Hash,
            lines: Vec<PostedLine>,
            rule_set_version: u32,
            inputs_commitment: Hash,
            outcome_commitment: Hash,
        ) -> Result<RequestStatus, CoverageError> {
            crate::requests::post_decision(
                trace_handle,
                lines,
                rule_set_version,
                inputs_commitment,
                outcome_commitment,
            )
        }

        /// Records that documentation was delivered to the payer, by its commitment (caller:
        /// the requester, still an active provider); a pended request becomes
        /// `InformationReceived` and the payer's agent re-evaluates its pended lines.
        #[message]
        pub fn add_documentation(
            trace_handle: Hash,
            documentation_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::requests::add_documentation(trace_handle, documentation_commitment)
        }

        /// Extends the payer's review timeframe once by 14 days (caller: the payer or a
        /// reviewer; standard requests only, before the due time). Returns the new due time.
        #[message]
        pub fn extend_review(trace_handle: Hash) -> Result<u64, CoverageError> {
            crate::requests::extend_review(trace_handle)
        }

        /// Marks an undecided request past its due time as overdue (anyone may call). Emits
        /// `Overdue` once; the request stays undecided — overdue is never approval.
        #[message]
        pub fn mark_overdue(trace_handle: Hash) -> Result<(), CoverageError> {
            crate::requests::mark_overdue(trace_handle)
        }

        /// Revises a request (caller: the requester, still an active provider): a new sealed
        /// submission, by its commitment and line count, delivered to the payer as the first
        /// was. Earlier decisions move to the history; the payer's agent decides the revised
        /// lines afresh (`SealedSubmitted` again).
        #[message]
        pub fn revise(
            trace_handle: Hash,
            new_submission_commitment: Hash,
            line_count: u32,
        ) -> Result<(), CoverageError> {
            crate::requests::revise(trace_handle, new_submission_commitment, line_count)
        }

        /// Asks to extend the authorised window of the certified lines by `days` (caller: the
        /// requester, still an active provider; once, on a decided request with a certified
        /// line). The payer's agent grants it within the rule's window; beyond it the rules
        /// would refuse, so it waits for a clinical reviewer, and the certification stays in
        /// force meanwhile.
        #[message]
        pub fn request_extension(trace_handle: Hash, days: u32) -> Result<(), CoverageError> {
            crate::requests::request_extension(trace_handle, days)
        }

        /// Decides a pending extension (caller: the payer or a reviewer), committing to the
        /// window it gives. Refusing is adverse: only a reviewer the registry attests as a
        /// clinician, with a reason code from rule set `rule_set_version` (42 CFR
        /// 438.210(b)(3), 42 CFR 422.566(d)).
        #[message]
        pub fn decide_extension(
            trace_handle: Hash,
            grant: bool,
            reason: Option<String>,
            rule_set_version: u32,
            outcome_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::requests::decide_extension(
                trace_handle,
                grant,
                reason,
                rule_set_version,
                outcome_commitment,
            )
        }

        /// Cancels a request (caller: the requester, still an active provider): every line
        /// becomes `C`; the payer returns certified, unclaimed units in its records.
        #[message]
        pub fn cancel(trace_handle: Hash) -> Result<(), CoverageError> {
            crate::requests::cancel(trace_handle)
        }

        /// Appeals the denied or partly certified lines (caller: the patient's pseudonym, or
        /// the requester while still an active provider), with a commitment to the grounds
        /// (sealed to the payer off chain). The appeal gets a new due time from the request's
        /// priority; returns it.
        #[message]
        pub fn appeal(trace_handle: Hash, grounds_commitment: Hash) -> Result<u64, CoverageError> {
            crate::requests::appeal(trace_handle, grounds_commitment)
        }

        /// Decides an appeal (caller: the payer or a reviewer who made none of the decisions
        /// appealed, 42 CFR 422.590(h)(2)). Upheld: adverse, a clinician's only, with a reason
        /// code and no lines. Overturned: one line per request line, the appealed ones
        /// certifying (`A1`; `A2`/`A6` in part, a clinician's only); the others are ignored.
        #[message]
        pub fn decide_appeal(
            trace_handle: Hash,
            outcome: AppealOutcome,
            reason: Option<String>,
            lines: Vec<PostedLine>,
            rule_set_version: u32,
            inputs_commitment: Hash,
            outcome_commitment: Hash,
        ) -> Result<RequestStatus, CoverageError> {
            crate::requests::decide_appeal(
                trace_handle,
                outcome,
                reason,
                lines,
                rule_set_version,
                (inputs_commitment, outcome_commitment),
            )
        }

        // ---- claims ----

        /// Submits a claim (caller: an active provider billing under the NPI the registry
        /// attests for it): the claim's lines are sealed to the payer and delivered off chain;
        /// the chain keeps the handle, payer, member, the authorisation's trace handle if
        /// cited, the line count and `claim_commitment`. Emits `ClaimSubmitted`.
        #[message]
        pub fn submit_claim(
            claim_handle: Hash,
            payer: Address,
            member: Hash,
            trace_handle: Option<Hash>,
            line_count: u32,
            claim_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::claims::submit_claim(
                claim_handle,
                payer,
                member,
                trace_handle,
                line_count,
                claim_commitment,
            )
        }

        /// Posts the payer's check of a claim in force (caller: the payer or a reviewer;
        /// once): per line the CARCs (none: accepted), each from the contract's CARC table
        /// with its group and remark codes, and two commitments (what was read, what was
        /// drawn). Emits `ClaimChecked`.
        #[message]
        pub fn post_claim_check(
            claim_handle: Hash,
            carcs: Vec<Vec<String>>,
            inputs_commitment: Hash,
            outcome_commitment: Hash,
        ) -> Result<Vec<ClaimLineResult>, CoverageError> {
            crate::claims::post_claim_check(
                claim_handle,
                carcs,
                inputs_commitment,
                outcome_commitment,
            )
        }

        /// Voids a claim in force (X12 837 CLM05-3 frequency code `8`; caller: the provider
        /// that submitted it, still an active provider). Emits `ClaimWithdrawn`: the payer
        /// restores the units it drew.
        #[message]
        pub fn void_claim(claim_handle: Hash) -> Result<(), CoverageError> {
            crate::claims::void_claim(claim_handle)
        }

        /// Replaces a claim in force (X12 837 CLM05-3 frequency code `7`; caller: the provider
        /// that submitted it, still an active provider) by `claim_handle`, for the same payer
        /// and member, submitted as `submit_claim` does.
        #[message]
        pub fn replace_claim(
            original: Hash,
            claim_handle: Hash,
            trace_handle: Option<Hash>,
            line_count: u32,
            claim_commitment: Hash,
        ) -> Result<(), CoverageError> {
            crate::claims::replace_claim(
                original,
                claim_handle,
                trace_handle,
                line_count,
                claim_commitment,
            )
        }

        // ---- queries ----

        /// Eligibility of a member on a date: the coverage status (271 EB01 `1` or `6`) for
        /// the service type asked, or an AAA rejection (`72` invalid or missing member id,
        /// `75` subscriber not found). Benefits are the payer's answer off chain. Callers: the
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

        /// Whether the published rule set requires prior authorisation for a procedure for a
        /// member covered on a date (callers as for `eligibility`). The procedure is an
        /// argument of a dry run, never stored or emitted.
        #[message(view)]
        pub fn authorisation_requirement(
            payer: Address,
            member: Hash,
            procedure: String,
            date_ms: u64,
        ) -> Result<AuthorisationRequirement, CoverageError> {
            crate::eligibility::authorisation_requirement(payer, member, procedure, date_ms)
        }

        /// A request's skeleton and posted decisions (callers: the requester, the member's
        /// pseudonym, the payer or its reviewers).
        #[message(view)]
        pub fn sealed_request(trace_handle: Hash) -> Result<Option<SealedRequest>, CoverageError> {
            crate::requests::sealed_request(trace_handle)
        }

        /// A member's coverage (callers as for `eligibility`).
        #[message(view)]
        pub fn coverage(payer: Address, member: Hash) -> Result<Option<Coverage>, CoverageError> {
            let coverage = COVERAGES.get(&(payer, member));
            may_read_member(&payer, coverage.as_ref())?;
            Ok(coverage)
        }

        /// A rule set (the newest when `version` is `None`): public, as payers must publish
        /// their prior-authorisation criteria.
        #[message(view)]
        pub fn rules(payer: Address, version: Option<u32>) -> Option<RuleSet> {
            let version = version.or_else(|| LATEST_RULES.get(&payer))?;
            RULE_SETS.get(&(payer, version))
        }

        /// A payer's undecided requests (pended or under appeal) due within `hours` from now,
        /// soonest first, as (trace handle, due ms) (callers: the payer or its reviewers).
        #[message(view)]
        pub fn due_within(
            payer: Address,
            hours: u64,
            limit: u32,
        ) -> Result<Vec<(Hash, u64)>, CoverageError> {
            crate::requests::due_within(payer, hours, limit)
        }

        /// A claim and its check (callers: the provider that submitted it, the payer or its
        /// reviewers).
        #[message(view)]
        pub fn claim(claim_handle: Hash) -> Result<Option<Claim>, CoverageError> {
            crate::claims::claim(claim_handle)
        }

        /// The plan-wide CMS-0057-F metrics of a payer for a priority.
        #[message(view)]
        pub fn metrics(payer: Address, priority: Priority) -> MetricsReport {
            crate::metrics::metrics(payer, priority)
        }

        /// The per-code figures a payer posted for the period starting at `period_start_ms`.
        #[message(view)]
        pub fn period_metrics(payer: Address, period_start_ms: u64) -> Option<MetricsPost> {
            crate::metrics::period_metrics(payer, period_start_ms)
        }
    }
}
