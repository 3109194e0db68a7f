//! The payer's own records, which stay with the payer (docs/PRIVACY.md §5.5): per member the
//! coverage facts the rules read (active, plan period, birth year, sex, network plan), the
//! benefits per X12 service type and earlier certifications; the plan's network. Read from a
//! JSON file (`--records`):
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
