//! An in-test payer's agent: what `salus agent payer` (node/src/agent/) does, without the
//! node, the inbox directory or the sealing. Providers "deliver" their submissions, documentation
//! and claims to it in memory; it reads the request or claim on chain, evaluates every line with
//! `coverage-rules` exactly as the node's agent does (`Member` from the payer's records, `Line`
//! from the submission, `KnownRecords` from the member's benefits, the network and the earlier
//! certifications), posts the action and reason codes with commitments, and keeps the payer's
//! records — units certified, claimed and drawn — as the coverage contract kept them before
//! they left the chain (docs/PRIVACY.md §5.5).

use std::collections::BTreeMap;

use coverage::{ActionCode, AppealOutcome, Claim, Period, PostedLine, RuleSet, SealedRequest};
use coverage_rules::{
    Attachment, Authorised, BenefitUse, Certified, ClaimDraw, ClaimedLine, KnownRecords, Line,
    Member, Outcome, ServiceLine, allowed_quantity, authorised_window, check_claim_line,
    matching_rule,
};
use parity_scale_codec::Encode;
use registry::Role;
use salus_primitives::{Address, Hash, keccak256};
use salus_testkit::{CallResult, TestChain};

/// Commitment kinds, as the node's agent names them (node/src/agent/submission.rs).
pub const SUBMISSION: u8 = 0x20;
pub const DECISION_INPUTS: u8 = 0x21;
pub const DECISION_OUTCOME: u8 = 0x22;
pub const CLAIM: u8 = 0x23;
pub const CLAIM_OUTCOME: u8 = 0x24;

/// A commitment as in docs/PRIVACY.md §5.2, with a fixed salt (the tests reveal everything).
pub fn commit(kind: u8, value: &impl Encode) -> Hash {
    let mut bytes = b"salus/commit/v1".to_vec();
    bytes.push(kind);
    bytes.extend_from_slice(&[0x5a; 32]);
    bytes.extend_from_slice(&value.encode());
    keccak256(&bytes)
}

/// What a provider seals to the payer for a preauthorization.
#[derive(Clone, Debug, Encode)]
pub struct Submission {
    /// Servicing provider's NPI (the network edit reads it; claims drawing on the
    /// authorisation must bill under it).
    pub servicing_npi: String,
    /// On a referral, the servicing provider; `None`: the requester itself. The agent asks
    /// the registry that it is an active provider attested with `servicing_npi`.
    pub servicing_provider: Option<Address>,
    /// Services.
    pub lines: Vec<ServiceLine>,
    /// ICD-10-CM diagnoses.
    pub diagnoses: Vec<String>,
    /// Templates of the attached documents.
    pub attachments: Vec<Hash>,
}

impl Submission {
    /// `submission_commitment`.
    pub fn commitment(&self) -> Hash {
        commit(SUBMISSION, self)
    }
}

/// `documentation_commitment` of a delivered attachment template.
pub fn documentation_commitment(template: &Hash) -> Hash {
    commit(SUBMISSION, template)
}

/// One claim line, sealed to the payer.
#[derive(Clone, Debug, Encode)]
pub struct ClaimLine {
    pub procedure: String,
    pub quantity: u32,
    pub service_ms: u64,
    pub diagnoses: Vec<String>,
}

/// `claim_commitment`.
pub fn claim_commitment(lines: &[ClaimLine]) -> Hash {
    commit(CLAIM, &lines.to_vec())
}

/// The payer's records of one member: what left `Coverage` and `Benefit`.
#[derive(Clone, Debug)]
pub struct MemberFacts {
    pub active: bool,
    pub period: Period,
    pub birth_year: u16,
    pub sex: String,
    /// HMO or EPO: only in-network servicing providers.
    pub network_plan: bool,
    /// Benefits by X12 service type.
    pub benefits: Vec<(String, BenefitUse)>,
}

/// A certification the rolling-window limits count, with where it came from.
#[derive(Clone, Debug)]
struct Certification {
    member: Hash,
    rule_id: u32,
    start_ms: u64,
    units: u32,
    trace: Hash,
    line: u16,
}

/// Units a claim line drew.
#[derive(Clone, Debug)]
enum Drawn {
    Authorisation(Hash, u16, u32),
    Benefit(Hash, String, u32),
}

/// The agent.
pub struct PayerAgent {
    pub payer: Address,
    pub coverage: Address,
    pub members: BTreeMap<Hash, MemberFacts>,
    pub network: Vec<String>,
    /// Delivered submissions, by trace handle (the latest revision).
    pub inbox: BTreeMap<Hash, Submission>,
    /// Documentation delivered since the submission (attachment templates), by trace handle.
    pub documentation: BTreeMap<Hash, Vec<Hash>>,
    /// Delivered claims, by claim handle.
    pub claims: BTreeMap<Hash, Vec<ClaimLine>>,
    /// The rules' outcome per line of each request's current submission.
    pub outcomes: BTreeMap<Hash, Vec<Outcome>>,
    certified: Vec<Certification>,
    claimed: BTreeMap<(Hash, u16), u32>,
    draws: BTreeMap<Hash, Vec<Drawn>>,
}

impl PayerAgent {
    pub fn new(payer: Address, coverage: Address) -> PayerAgent {
        PayerAgent {
            payer,
            coverage,
            members: BTreeMap::new(),
            network: Vec::new(),
            inbox: BTreeMap::new(),
            documentation: BTreeMap::new(),
            claims: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            certified: Vec::new(),
            claimed: BTreeMap::new(),
            draws: BTreeMap::new(),
        }
    }

    pub fn request(&self, chain: &TestChain, handle: Hash) -> SealedRequest {
        chain
            .view::<Option<SealedRequest>>(self.payer, self.coverage, "sealed_request", &handle)
            .expect("the request is on chain")
    }

    pub fn claim(&self, chain: &TestChain, handle: Hash) -> Claim {
        chain
            .view::<Option<Claim>>(self.payer, self.coverage, "claim", &handle)
            .expect("the claim is on chain")
    }

    /// The newest rule set in effect on `date_ms` (as the node's agent picks it).
    pub fn rules_for(&self, chain: &TestChain, date_ms: u64) -> Option<RuleSet> {
        let newest: Option<RuleSet> = chain.view(
            self.payer,
            self.coverage,
            "rules",
            &(self.payer, None::<u32>),
        );
        let mut version = newest?.version;
        while version > 0 {
            let rule_set: Option<RuleSet> = chain.view(
                self.payer,
                self.coverage,
                "rules",
                &(self.payer, Some(version)),
            );
            if let Some(rule_set) = rule_set
                && rule_set.effective.start_ms <= date_ms
                && date_ms < rule_set.effective.end_ms
            {
                return Some(rule_set);
            }
            version -= 1;
        }
        None
    }

    fn known_records(&self, member: &Hash, in_network: bool) -> KnownRecords {
        KnownRecords {
            benefits: self.members[member].benefits.clone(),
            in_network,
            certified: self
                .certified
                .iter()
                .filter(|entry| entry.member == *member)
                .map(|entry| Certified {
                    rule_id: entry.rule_id,
                    start_ms: entry.start_ms,
                    units: entry.units,
                })
                .collect(),
        }
    }

    /// The rules' outcome on every line of `handle`'s submission, and the rule set's version.
    pub fn evaluate(&self, chain: &TestChain, handle: Hash) -> (u32, Vec<Outcome>) {
        let request = self.request(chain, handle);
        let submission = &self.inbox[&handle];
        assert_eq!(
            submission.commitment(),
            request.submission_commitment,
            "the delivery matches the commitment"
        );
        let facts = &self.members[&request.member];
        let member = Member {
            active: facts.active,
            period: &facts.period,
            birth_year: facts.birth_year,
            sex: &facts.sex,
            network_plan: facts.network_plan,
        };
        let rule_set = self
            .rules_for(chain, submission.lines[0].from_ms)
            .expect("rules in effect");
        let delivered = self.documentation.get(&handle).cloned().unwrap_or_default();
        assert_eq!(delivered.len(), request.documentation.len());
        for (template, committed) in delivered.iter().zip(&request.documentation) {
            assert_eq!(documentation_commitment(template), *committed);
        }
        let attachments: Vec<Attachment> = submission
            .attachments
            .iter()
            .chain(&delivered)
            .map(|template| Attachment {
                template: *template,
                record: Hash([0; 32]),
            })
            .collect();
        let in_network = self.network.contains(&submission.servicing_npi);
        let records = self.known_records(&request.member, in_network);
        let outcomes = submission
            .lines
            .iter()
            .map(|service| {
                let line = Line {
                    service,
                    diagnoses: &submission.diagnoses,
                    attachments: &attachments,
                };
                coverage_rules::evaluate(&rule_set, &member, &line, &records)
                    .expect("every edit has a reason")
            })
            .collect();
        (rule_set.version, outcomes)
    }

    fn posted(outcome: &Outcome) -> PostedLine {
        PostedLine {
            action: outcome.action.clone(),
            reason: outcome.reason.as_ref().map(|reason| reason.code.clone()),
            quantity: outcome.quantity,
        }
    }

    /// Whether the servicing NPI of `handle`'s submission is the one the registry attests
    /// for the requester, or on a referral for the servicing provider it names (an active
    /// provider organisation or practitioner). The agent posts nothing for a request that
    /// fails it.
    pub fn servicing_attested(&self, chain: &TestChain, registry: Address, handle: Hash) -> bool {
        let request = self.request(chain, handle);
        let submission = &self.inbox[&handle];
        let provider = submission.servicing_provider.unwrap_or(request.requester);
        let active = [Role::ProviderOrganisation, Role::Practitioner]
            .into_iter()
            .any(|role| {
                chain.view::<bool>(
                    self.payer,
                    registry,
                    "is_active",
                    &(provider, role, None::<u64>),
                )
            });
        let record: Option<registry::Participant> =
            chain.view(self.payer, registry, "participant", &provider);
        active && record.and_then(|record| record.npi).as_deref() == Some(&submission.servicing_npi)
    }

    /// Decides a request with no decision (new or revised) and posts it as the payer.
    pub fn decide(&mut self, chain: &mut TestChain, handle: Hash) -> CallResult {
        let (version, outcomes) = self.evaluate(chain, handle);
        let lines: Vec<PostedLine> = outcomes.iter().map(Self::posted).collect();
        let inputs = commit(
            DECISION_INPUTS,
            &(self.inbox[&handle].commitment(), version),
        );
        let outcome = commit(DECISION_OUTCOME, &lines);
        let result = chain.call(
            self.payer,
            self.coverage,
            "post_decision",
            &(handle, lines, version, inputs, outcome),
        );
        if result.is_success() {
            self.outcomes.insert(handle, outcomes.clone());
            for (index, outcome) in outcomes.iter().enumerate() {
                if outcome.action == ActionCode::A1 {
                    self.reserve(chain, handle, index, outcome.quantity);
                }
            }
        }
        result
    }

    /// After `add_documentation`: re-evaluates the pended lines with what was delivered and
    /// posts those the rules now decide; `None` when every pended line still pends.
    pub fn documented(&mut self, chain: &mut TestChain, handle: Hash) -> Option<CallResult> {
        let request = self.request(chain, handle);
        let (version, outcomes) = self.evaluate(chain, handle);
        let changes: Vec<bool> = request
            .decisions
            .iter()
            .zip(&outcomes)
            .map(|(current, outcome)| {
                current.line.action == ActionCode::A4 && outcome.action != ActionCode::A4
            })
            .collect();
        if !changes.contains(&true) {
            return None;
        }
        let lines: Vec<PostedLine> = outcomes.iter().map(Self::posted).collect();
        let inputs = commit(
            DECISION_INPUTS,
            &(self.inbox[&handle].commitment(), version),
        );
        let outcome = commit(DECISION_OUTCOME, &lines);
        let result = chain.call(
            self.payer,
            self.coverage,
            "post_decision",
            &(handle, lines, version, inputs, outcome),
        );
        if result.is_success() {
            for (index, changed) in changes.iter().enumerate() {
                if *changed {
                    if let Some(stored) = self.outcomes.get_mut(&handle) {
                        stored[index] = outcomes[index].clone();
                    }
                    if outcomes[index].action == ActionCode::A1 {
                        self.reserve(chain, handle, index, outcomes[index].quantity);
                    }
                }
            }
        }
        Some(result)
    }

    /// What a reviewer posts to decide the pended lines as the rules suggested (a line pended
    /// without a suggestion is certified in total).
    pub fn as_suggested(&self, chain: &TestChain, handle: Hash) -> Vec<PostedLine> {
        let submission = &self.inbox[&handle];
        self.outcomes[&handle]
            .iter()
            .zip(&submission.lines)
            .zip(&self.request(chain, handle).decisions)
            .map(|((outcome, service), current)| {
                if current.line.action != ActionCode::A4 {
                    return current.line.clone();
                }
                match &outcome.suggested {
                    Some(suggested) => PostedLine {
                        action: suggested.action.clone(),
                        reason: outcome.reason.as_ref().map(|reason| reason.code.clone()),
                        quantity: suggested.quantity,
                    },
                    None => PostedLine {
                        action: ActionCode::A1,
                        reason: None,
                        quantity: service.quantity,
                    },
                }
            })
            .collect()
    }

    /// `reviewer` posts `lines` on the pended lines of `handle` (under the rule set the rules
    /// decided with); the payer's records follow a certification.
    pub fn review(
        &mut self,
        chain: &mut TestChain,
        reviewer: Address,
        handle: Hash,
        lines: Vec<PostedLine>,
    ) -> CallResult {
        let before = self.request(chain, handle);
        let version = before.posts.last().map_or(1, |post| post.rule_set);
        let inputs = commit(
            DECISION_INPUTS,
            &(self.inbox[&handle].commitment(), version),
        );
        let outcome = commit(DECISION_OUTCOME, &lines);
        let result = chain.call(
            reviewer,
            self.coverage,
            "post_decision",
            &(handle, lines.clone(), version, inputs, outcome),
        );
        if result.is_success() {
            for (index, (line, earlier)) in lines.iter().zip(&before.decisions).enumerate() {
                let certifies = matches!(
                    line.action,
                    ActionCode::A1 | ActionCode::A2 | ActionCode::A6
                );
                if earlier.line.action == ActionCode::A4 && certifies {
                    self.reserve(chain, handle, index, line.quantity);
                }
            }
        }
        result
    }

    /// The rule and window of line `index`'s certification.
    fn window(&self, chain: &TestChain, handle: Hash, index: usize) -> Option<(u32, Period)> {
        let outcome = self.outcomes.get(&handle)?.get(index)?;
        let rule_id = *outcome.rule_ids.first()?;
        let service = &self.inbox[&handle].lines[index];
        let rule_set = self.rules_for(chain, self.inbox[&handle].lines[0].from_ms)?;
        let rule = rule_set.rules.iter().find(|rule| rule.id == rule_id)?;
        Some((rule_id, authorised_window(rule, service.from_ms)))
    }

    fn service_type(&self, chain: &TestChain, handle: Hash, index: usize) -> Option<String> {
        let rule_id = *self.outcomes.get(&handle)?.get(index)?.rule_ids.first()?;
        let rule_set = self.rules_for(chain, self.inbox[&handle].lines[0].from_ms)?;
        let rule = rule_set.rules.iter().find(|rule| rule.id == rule_id)?;
        Some(rule.service_type.clone())
    }

    fn benefit_mut(&mut self, member: &Hash, service_type: &str) -> Option<&mut BenefitUse> {
        self.members
            .get_mut(member)?
            .benefits
            .iter_mut()
            .find(|(kind, _)| kind == service_type)
            .map(|(_, benefit)| benefit)
    }

    /// Reserves a certification's units: in the rolling window and against the benefit.
    fn reserve(&mut self, chain: &TestChain, handle: Hash, index: usize, units: u32) {
        let member = self.request(chain, handle).member;
        let Some((rule_id, window)) = self.window(chain, handle, index) else {
            return;
        };
        self.certified.push(Certification {
            member,
            rule_id,
            start_ms: window.start_ms,
            units,
            trace: handle,
            line: index as u16,
        });
        if let Some(service_type) = self.service_type(chain, handle, index)
            && let Some(benefit) = self.benefit_mut(&member, &service_type)
        {
            benefit.quantity_used = benefit.quantity_used.saturating_add(units);
        }
    }

    /// Returns the unclaimed units of line `index`'s certification of `units`.
    fn release(&mut self, chain: &TestChain, handle: Hash, index: usize, units: u32) {
        let member = self.request(chain, handle).member;
        let claimed = self
            .claimed
            .get(&(handle, index as u16))
            .copied()
            .unwrap_or(0);
        for entry in &mut self.certified {
            if entry.trace == handle && usize::from(entry.line) == index {
                // Claimed units were used: they stay in the window.
                entry.units = claimed;
            }
        }
        self.certified.retain(|entry| entry.units > 0);
        if let Some(service_type) = self.service_type(chain, handle, index)
            && let Some(benefit) = self.benefit_mut(&member, &service_type)
        {
            benefit.quantity_used = benefit
                .quantity_used
                .saturating_sub(units.saturating_sub(claimed));
        }
    }

    /// Releases every certified line of `handle` as the request stood in `before`.
    pub fn release_all(&mut self, chain: &TestChain, handle: Hash, before: &SealedRequest) {
        for (index, decision) in before.decisions.iter().enumerate() {
            if matches!(
                decision.line.action,
                ActionCode::A1 | ActionCode::A2 | ActionCode::A6
            ) {
                self.release(chain, handle, index, decision.line.quantity);
            }
        }
    }

    /// After a cancellation (`before`: the request before it).
    pub fn cancelled(&mut self, chain: &TestChain, handle: Hash, before: &SealedRequest) {
        self.release_all(chain, handle, before);
    }

    /// After a revision: the previous certifications are released and the revised
    /// submission, delivered to the inbox, is decided afresh.
    pub fn revised(
        &mut self,
        chain: &mut TestChain,
        handle: Hash,
        before: &SealedRequest,
    ) -> CallResult {
        self.release_all(chain, handle, before);
        self.outcomes.remove(&handle);
        self.decide(chain, handle)
    }

    /// Decides a pending extension: granted when every certified line's rule allows the days
    /// asked; otherwise the rules would refuse, and a refusal is a clinician's: `None`.
    pub fn extension(&mut self, chain: &mut TestChain, handle: Hash) -> Option<CallResult> {
        let request = self.request(chain, handle);
        let days = request.extension.as_ref()?.days;
        let rule_set = self.rules_for(chain, self.inbox[&handle].lines[0].from_ms)?;
        let within = request
            .decisions
            .iter()
            .enumerate()
            .all(|(index, decision)| {
                !matches!(
                    decision.line.action,
                    ActionCode::A1 | ActionCode::A2 | ActionCode::A6
                ) || self.outcomes[&handle][index]
                    .rule_ids
                    .first()
                    .and_then(|id| rule_set.rules.iter().find(|rule| rule.id == *id))
                    .is_some_and(|rule| days <= rule.authorised_days)
            });
        if !within {
            return None;
        }
        let outcome = commit(DECISION_OUTCOME, &(handle, days));
        Some(chain.call(
            self.payer,
            self.coverage,
            "decide_extension",
            &(handle, true, None::<String>, rule_set.version, outcome),
        ))
    }

    /// `reviewer` overturns an appeal: each appealed line certified for the units requested,
    /// as far as the rule's window and the benefit have units left (`A2` with the quantity
    /// reason otherwise).
    pub fn overturn(
        &mut self,
        chain: &mut TestChain,
        reviewer: Address,
        handle: Hash,
    ) -> CallResult {
        let request = self.request(chain, handle);
        let appealed = request.appeal.clone().expect("appealed").lines;
        let rule_set = self
            .rules_for(chain, self.inbox[&handle].lines[0].from_ms)
            .expect("rules");
        for index in &appealed {
            let current = &request.decisions[usize::from(*index)];
            if current.line.action == ActionCode::A2 {
                self.release(chain, handle, usize::from(*index), current.line.quantity);
            }
        }
        let mut lines: Vec<PostedLine> = request
            .decisions
            .iter()
            .map(|decision| decision.line.clone())
            .collect();
        for index in &appealed {
            let index = usize::from(*index);
            let service = self.inbox[&handle].lines[index].clone();
            let rule = matching_rule(&rule_set, &service.procedure).expect("a rule");
            let records = self.known_records(&request.member, true);
            let benefit = records
                .benefits
                .iter()
                .find(|(kind, _)| *kind == rule.service_type)
                .map(|(_, benefit)| *benefit);
            let allowed = allowed_quantity(rule, benefit.as_ref(), service.quantity, |limit| {
                coverage_rules::units_within(
                    records
                        .certified
                        .iter()
                        .filter(|entry| entry.rule_id == rule.id)
                        .map(|entry| (entry.start_ms, entry.units)),
                    service.from_ms,
                    limit.days,
                )
            });
            let reason = coverage_rules::reason_for(&rule_set, coverage_rules::Edit::Quantity)
                .unwrap()
                .code;
            lines[index] = if allowed < service.quantity {
                PostedLine {
                    action: ActionCode::A2,
                    reason: Some(reason),
                    quantity: allowed,
                }
            } else {
                PostedLine {
                    action: ActionCode::A1,
                    reason: None,
                    quantity: allowed,
                }
            };
        }
        let inputs = commit(DECISION_INPUTS, &(handle, rule_set.version));
        let outcome = commit(DECISION_OUTCOME, &lines);
        let result = chain.call(
            reviewer,
            self.coverage,
            "decide_appeal",
            &(
                handle,
                AppealOutcome::Overturned,
                None::<String>,
                lines.clone(),
                rule_set.version,
                inputs,
                outcome,
            ),
        );
        if result.is_success() {
            for index in &appealed {
                let index = usize::from(*index);
                self.reserve(chain, handle, index, lines[index].quantity);
            }
        }
        result
    }

    /// Checks a delivered claim with the shared rule code and posts the CARCs per line; the
    /// accepted lines draw on the authorisation or the benefit in the payer's records.
    pub fn check_claim(&mut self, chain: &mut TestChain, claim_handle: Hash) -> CallResult {
        let claim = self.claim(chain, claim_handle);
        let lines = self.claims[&claim_handle].clone();
        assert_eq!(claim_commitment(&lines), claim.claim_commitment);
        let facts = self.members[&claim.member].clone();
        let authorisation = claim
            .trace_handle
            .map(|handle| (handle, self.request(chain, handle)));
        let mut carcs = Vec::new();
        let mut drawn = Vec::new();
        for line in &lines {
            let rule_set = self.rules_for(chain, line.service_ms);
            let records = self.known_records(&claim.member, true);
            // The certified line of the authorisation for this procedure, if the claim bills
            // under the servicing NPI the authorisation names.
            let authorised = authorisation.as_ref().and_then(|(handle, request)| {
                let submission = &self.inbox[handle];
                if submission.servicing_npi != claim.billing_npi {
                    return None;
                }
                let index =
                    submission
                        .lines
                        .iter()
                        .enumerate()
                        .position(|(index, requested)| {
                            requested.procedure == line.procedure
                                && matches!(
                                    request.decisions[index].line.action,
                                    ActionCode::A1 | ActionCode::A2 | ActionCode::A6
                                )
                        })?;
                let (_, window) = self.window(chain, *handle, index)?;
                Some((
                    index as u16,
                    Authorised {
                        window,
                        quantity: request.decisions[index].line.quantity,
                        claimed: self
                            .claimed
                            .get(&(*handle, index as u16))
                            .copied()
                            .unwrap_or(0),
                    },
                ))
            });
            let check = check_claim_line(
                rule_set.as_ref(),
                facts.active,
                &facts.period,
                &ClaimedLine {
                    procedure: &line.procedure,
                    quantity: line.quantity,
                    service_ms: line.service_ms,
                    diagnoses: &line.diagnoses,
                },
                &records,
                authorised.as_ref().map(|(_, authorised)| authorised),
            );
            match check.draw {
                ClaimDraw::Authorisation => {
                    let (handle, _) = authorisation.as_ref().unwrap();
                    let (index, _) = authorised.unwrap();
                    *self.claimed.entry((*handle, index)).or_default() += line.quantity;
                    drawn.push(Drawn::Authorisation(*handle, index, line.quantity));
                }
                ClaimDraw::Benefit(service_type) => {
                    if let Some(benefit) = self.benefit_mut(&claim.member, &service_type) {
                        benefit.quantity_used += line.quantity;
                    }
                    drawn.push(Drawn::Benefit(claim.member, service_type, line.quantity));
                }
                ClaimDraw::None => {}
            }
            carcs.push(
                check
                    .carcs
                    .iter()
                    .map(|carc| carc.to_string())
                    .collect::<Vec<_>>(),
            );
        }
        let inputs = commit(
            DECISION_INPUTS,
            &(claim.claim_commitment, claim.trace_handle),
        );
        let outcome = commit(CLAIM_OUTCOME, &carcs);
        let result = chain.call(
            self.payer,
            self.coverage,
            "post_claim_check",
            &(claim_handle, carcs, inputs, outcome),
        );
        if result.is_success() {
            self.draws.insert(claim_handle, drawn);
        }
        result
    }

    /// After a void or a replacement: the units the claim drew return.
    pub fn withdrawn(&mut self, claim_handle: Hash) {
        for draw in self.draws.remove(&claim_handle).unwrap_or_default() {
            match draw {
                Drawn::Authorisation(handle, line, units) => {
                    if let Some(claimed) = self.claimed.get_mut(&(handle, line)) {
                        *claimed = claimed.saturating_sub(units);
                    }
                }
                Drawn::Benefit(member, service_type, units) => {
                    if let Some(benefit) = self.benefit_mut(&member, &service_type) {
                        benefit.quantity_used = benefit.quantity_used.saturating_sub(units);
                    }
                }
            }
        }
    }

    /// A member's benefit in the payer's records.
    pub fn benefit(&self, member: &Hash, service_type: &str) -> Option<BenefitUse> {
        self.members[member]
            .benefits
            .iter()
            .find(|(kind, _)| kind == service_type)
            .map(|(_, benefit)| *benefit)
    }
}
