//! The payer's own records, which stay with the payer (docs/PRIVACY.md §5.5): per member the
//! coverage facts the rules read (active, plan period, birth year, sex, network plan), the
//! benefits per X12 service type, earlier certifications and units claimed against
//! authorisations; the plan's network. Read from a JSON file (`--records`), which the agent
//! rewrites as accepted claim lines draw units:
//!
//! ```json
//! { "network": ["1234567893"],
//!   "members": [{ "member": "0x4d4d…", "active": true,
//!                 "period": { "start_ms": 0, "end_ms": 1800000000000 },
//!                 "birth_year": 1980, "sex": "F", "network_plan": true,
//!                 "benefits": [{ "service_type": "73", "authorisation_required": true,
//!                                "quantity_limit": null, "quantity_used": 0 }],
//!                 "certified": [] }] }
//! ```

use std::path::Path;

use parity_scale_codec::Encode;
use salus_primitives::Hash;
use serde::{Deserialize, Serialize};

use super::AgentError;

/// A plan period (ms).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct PeriodRecord {
    /// Start (ms).
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
}

/// A member's benefit for one X12 service type, as the rules read it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct BenefitRecord {
    /// X12 service type.
    pub service_type: String,
    /// X12 EB11: authorisation required.
    pub authorisation_required: bool,
    /// Units covered per plan period, if limited.
    pub quantity_limit: Option<u32>,
    /// Units used so far.
    pub quantity_used: u32,
}

/// An earlier certification the rolling-window limits count.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct CertifiedRecord {
    /// The rule it was certified under.
    pub rule_id: u32,
    /// Its service start (ms).
    pub start_ms: u64,
    /// Units.
    pub units: u32,
    /// The request and line it certified (`0x…`, from 0), when the agent recorded it: a
    /// cancellation or revision returns its unclaimed units.
    #[serde(default)]
    pub trace_handle: Option<String>,
    /// Its line.
    #[serde(default)]
    pub line: Option<u16>,
    /// The benefit's X12 service type it counted against.
    #[serde(default)]
    pub service_type: Option<String>,
}

/// What the payer holds of one member: every fact the rules may read (committed to, in full,
/// by `inputs_commitment`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Member (salted hash of the member id), `0x…`.
    pub member: String,
    /// Whether the coverage is active.
    pub active: bool,
    /// The plan period.
    pub period: PeriodRecord,
    /// Birth year.
    pub birth_year: u16,
    /// Administrative sex (`F`, `M`, `U`).
    pub sex: String,
    /// Whether the plan covers only in-network providers (HMO, EPO).
    pub network_plan: bool,
    /// Benefits by service type.
    #[serde(default)]
    pub benefits: Vec<BenefitRecord>,
    /// Earlier certifications.
    #[serde(default)]
    pub certified: Vec<CertifiedRecord>,
    /// Units claimed against authorisations (the agent adds them as it accepts claim lines).
    #[serde(default)]
    pub claimed: Vec<ClaimedRecord>,
    /// Units claim lines drew from benefits, per claim (restored when it is withdrawn).
    #[serde(default)]
    pub benefit_draws: Vec<BenefitDrawRecord>,
}

/// Units one claim drew from a benefit.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct BenefitDrawRecord {
    /// The claim handle, `0x…`.
    pub claim: String,
    /// The X12 service type.
    pub service_type: String,
    /// Units.
    pub units: u32,
}

/// Units claimed against one line of an authorisation.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Serialize, Deserialize)]
pub struct ClaimedRecord {
    /// The authorisation's trace handle, `0x…`.
    pub trace_handle: String,
    /// Its line (from 0).
    pub line: u16,
    /// Units.
    pub units: u32,
    /// The claim that drew them, `0x…`.
    #[serde(default)]
    pub claim: Option<String>,
}

impl MemberRecord {
    /// Returns the unclaimed units of the certifications of request `trace` (cancelled, or
    /// revised and decided afresh): claimed units stay in the rolling window, as used; the
    /// rest return to the benefit. Whether anything was returned.
    pub fn release(&mut self, trace: &Hash) -> bool {
        let text = trace.to_string();
        let mut returned = Vec::new();
        for entry in &mut self.certified {
            if entry.trace_handle.as_deref() != Some(text.as_str()) {
                continue;
            }
            let line = entry.line.unwrap_or(0);
            let claimed: u32 = self
                .claimed
                .iter()
                .filter(|claim| claim.trace_handle == text && claim.line == line)
                .map(|claim| claim.units)
                .sum();
            let unclaimed = entry.units.saturating_sub(claimed);
            if unclaimed > 0 {
                returned.push((entry.service_type.clone(), unclaimed));
                entry.units = claimed;
            }
        }
        self.certified.retain(|entry| entry.units > 0);
        for (service_type, units) in &returned {
            if let Some(benefit) = self
                .benefits
                .iter_mut()
                .find(|benefit| Some(&benefit.service_type) == service_type.as_ref())
            {
                benefit.quantity_used = benefit.quantity_used.saturating_sub(*units);
            }
        }
        !returned.is_empty()
    }

    /// Restores every unit the claim `claim` drew (a void or a replacement, X12 837 CLM05-3
    /// `8` / `7`); whether it drew any.
    pub fn restore(&mut self, claim: &Hash) -> bool {
        let text = claim.to_string();
        let before = (self.claimed.len(), self.benefit_draws.len());
        self.claimed
            .retain(|entry| entry.claim.as_deref() != Some(text.as_str()));
        let (drawn, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.benefit_draws)
            .into_iter()
            .partition(|draw| draw.claim == text);
        self.benefit_draws = kept;
        for draw in &drawn {
            if let Some(benefit) = self
                .benefits
                .iter_mut()
                .find(|benefit| benefit.service_type == draw.service_type)
            {
                benefit.quantity_used = benefit.quantity_used.saturating_sub(draw.units);
            }
        }
        before != (self.claimed.len(), self.benefit_draws.len())
    }

    /// Units claimed so far against line `line` of the authorisation `trace_handle`.
    pub fn claimed_units(&self, trace_handle: &Hash, line: u16) -> u32 {
        self.claimed
            .iter()
            .filter(|entry| {
                entry.line == line
                    && entry.trace_handle.parse::<Hash>().ok().as_ref() == Some(trace_handle)
            })
            .map(|entry| entry.units)
            .sum()
    }
}

/// The payer's records file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerRecords {
    /// NPIs in the plan's network.
    #[serde(default)]
    pub network: Vec<String>,
    /// Members.
    pub members: Vec<MemberRecord>,
}

impl PayerRecords {
    /// Reads the records file.
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be read or is malformed.
    pub fn read(path: &Path) -> Result<PayerRecords, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))
    }

    /// The member's record.
    ///
    /// # Errors
    /// [`AgentError::UnknownMember`] when the records hold none.
    pub fn member(&self, member: &Hash) -> Result<&MemberRecord, AgentError> {
        self.members
            .iter()
            .find(|record| record.member.parse::<Hash>().ok().as_ref() == Some(member))
            .ok_or_else(|| AgentError::UnknownMember(member.to_string()))
    }

    /// Writes the records file (the agent updates it as claims draw units), replacing it
    /// whole.
    ///
    /// # Errors
    /// [`AgentError::File`] when it cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), AgentError> {
        let text = serde_json::to_string_pretty(self).expect("records serialise");
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|error| AgentError::File(format!("{}: {error}", path.display())))
    }

    /// The member's record, to change.
    ///
    /// # Errors
    /// [`AgentError::UnknownMember`] when the records hold none.
    pub fn member_mut(&mut self, member: &Hash) -> Result<&mut MemberRecord, AgentError> {
        self.members
            .iter_mut()
            .find(|record| record.member.parse::<Hash>().ok().as_ref() == Some(member))
            .ok_or_else(|| AgentError::UnknownMember(member.to_string()))
    }

    /// Whether `npi` is in the plan's network.
    pub fn in_network(&self, npi: &str) -> bool {
        self.network.iter().any(|known| known == npi)
    }
}

impl MemberRecord {
    /// The records as the rules ask them.
    pub fn known_records(&self, in_network: bool) -> coverage_rules::KnownRecords {
        coverage_rules::KnownRecords {
            benefits: self
                .benefits
                .iter()
                .map(|benefit| {
                    (
                        benefit.service_type.clone(),
                        coverage_rules::BenefitUse {
                            authorisation_required: benefit.authorisation_required,
                            quantity_limit: benefit.quantity_limit,
                            quantity_used: benefit.quantity_used,
                        },
                    )
                })
                .collect(),
            in_network,
            certified: self
                .certified
                .iter()
                .map(|certified| coverage_rules::Certified {
                    rule_id: certified.rule_id,
                    start_ms: certified.start_ms,
                    units: certified.units,
                })
                .collect(),
        }
    }
}
