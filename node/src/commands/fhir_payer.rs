//! `salus fhir export eligibility` and `salus fhir export claim-check`: the payer's FHIR R4 exports (issue 23, deliverable 4).
//!
//! `export eligibility` is the payer's side: the chain's `coverage` and `eligibility` views
//! (dry runs signed by `--from`, the payer or one of its reviewers) for the member's pseudonym,
//! status and period, and the payer's records file (`--records`, the agent's, docs/PRIVACY.md
//! §5.5) for the benefits, written as a CoverageEligibilityResponse
//! (`salus_client::fhir::eligibility`). `export claim-check` reads coverage's `claim` view
//! (signed by the billing provider, the payer or a reviewer) and writes the posted check as a
//! ClaimResponse with `use` `claim` (`salus_client::fhir::claim_check`). The mapping is in
//! docs/interop.md.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use jsonrpsee::http_client::HttpClient;
use salus_client::directory::Directory;
use salus_client::fhir::eligibility::{self, Benefit, Inquiry, MemberBenefits};
use salus_client::rpc::SalusApiClient;
use salus_client::{ContractAbi, DryRun};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use super::client::{client_runtime, connect};
use super::keys::signer;
use crate::agent::{AgentError, MemberRecord, PayerRecords};

/// What `salus fhir export eligibility` reads.
#[derive(Debug, Clone)]
pub struct EligibilityOptions {
    /// The member (the payer's salted hash), `0x…`.
    pub member: Hash,
    /// Who asks (signs the views): the payer or one of its reviewers.
    pub from: String,
    /// The payer; default: `--from`'s address.
    pub payer: Option<Address>,
    /// The payer's records file.
    pub records: PathBuf,
    /// The inquiry's identifier (`request`); default `<member>@<time ms>`.
    pub request: Option<String>,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The coverage contract.
    pub coverage: Address,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

/// What `salus fhir export claim-check` reads.
#[derive(Debug, Clone)]
pub struct ClaimCheckOptions {
    /// The claim handle.
    pub claim: Hash,
    /// Who asks (signs the `claim` dry run): the billing provider, the payer or a reviewer.
    pub from: String,
    /// The claim's type (`claim-type`), from the claim: the chain does not hold it.
    pub claim_type: String,
    /// The party's identity directory.
    pub directory: PathBuf,
    /// The coverage contract.
    pub coverage: Address,
    /// Where to write; default stdout.
    pub out: Option<PathBuf>,
}

/// A view (a dry run signed by `key`) of coverage's `message`: its decoded answer, `Ok`
/// unwrapped.
async fn view(
    client: &HttpClient,
    abi: &ContractAbi,
    contract: Address,
    message: &str,
    arguments: Value,
    key: (&SecretKey, u64),
) -> anyhow::Result<Value> {
    let input = abi.encode_call(message, &arguments)?;
    let request = DryRun::new(contract, input).signed_for(key.1, key.0);
    let outcome = client.state_call(request).await?;
    if outcome.status != "success" {
        bail!(
            "`{message}` failed: {}",
            outcome.failure.unwrap_or(outcome.status)
        );
    }
    let data = hex::decode(outcome.return_data.trim_start_matches("0x"))?;
    let value = abi.decode_result(message, &data)?;
    if let Some(error) = value.get("Err") {
        bail!("`{message}` failed: {error}");
    }
    Ok(value.get("Ok").cloned().unwrap_or(value))
}

async fn coverage_abi(client: &HttpClient, coverage: Address) -> anyhow::Result<ContractAbi> {
    let value = client
        .contract_abi(coverage.to_string())
        .await
        .context("is a node running at the RPC address?")?
        .ok_or_else(|| anyhow!("{coverage} has no contract ABI on chain"))?;
    Ok(serde_json::from_value(value)?)
}

fn write_out(document: &Value, out: Option<&Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(document)?;
    match out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// The records' member as the export reads it.
fn benefits_of(record: &MemberRecord) -> MemberBenefits {
    MemberBenefits {
        active: record.active,
        period: (record.period.start_ms, record.period.end_ms),
        network_plan: record.network_plan,
        benefits: record
            .benefits
            .iter()
            .map(|benefit| Benefit {
                service_type: benefit.service_type.clone(),
                authorisation_required: benefit.authorisation_required,
                quantity_limit: benefit.quantity_limit,
                quantity_used: benefit.quantity_used,
            })
            .collect(),
    }
}

/// `salus fhir export eligibility`: the member's coverage on chain and benefits in the payer's
/// records as a CoverageEligibilityResponse (`outcome` `error` with the AAA03 reason for a
/// member the chain does not know).
///
/// # Errors
/// A member the chain covers but the records do not hold, or records that disagree with the
/// chain ([`eligibility::EligibilityError`]); a signer who may not read the member's coverage;
/// an unreadable records file or directory; a node that does not answer.
pub fn export_eligibility(rpc: &str, options: &EligibilityOptions) -> anyhow::Result<()> {
    let directory = Directory::load(&options.directory)?;
    let records = PayerRecords::read(&options.records)?;
    let record = match records.member(&options.member) {
        Ok(record) => Some(benefits_of(record)),
        Err(AgentError::UnknownMember(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let key = signer(&options.from)?;
    let payer = options.payer.unwrap_or_else(|| key.address());
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let (coverage, answer, now) = runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let abi = coverage_abi(&client, options.coverage).await?;
        let now = client.chain_head().await?.timestamp_ms;
        let reader = (&key, chain_id);
        let member = options.member.to_string();
        let coverage = view(
            &client,
            &abi,
            options.coverage,
            "coverage",
            json!([payer.to_string(), member]),
            reader,
        )
        .await?;
        let answer = view(
            &client,
            &abi,
            options.coverage,
            "eligibility",
            json!([
                payer.to_string(),
                member,
                eligibility::PLAN_COVERAGE,
                now.to_string()
            ]),
            reader,
        )
        .await?;
        anyhow::Ok((coverage, answer, now))
    })?;
    let request = options
        .request
        .clone()
        .unwrap_or_else(|| format!("{}@{now}", options.member));
    let inquiry = Inquiry {
        payer,
        member: options.member,
        coverage: &coverage,
        eligibility: &answer,
        records: record.as_ref(),
        request: &request,
        created_ms: i64::try_from(now).unwrap_or(i64::MAX),
    };
    let response = eligibility::response(&inquiry, &directory)?;
    write_out(&response, options.out.as_deref())
}

/// `salus fhir export claim-check`: the claim and its posted check as a ClaimResponse (`use`
/// `claim`, the CARCs in `item[].adjudication[].reason` with their group codes).
///
/// # Errors
/// An unknown claim or a signer the contract does not let read it; an unknown claim type; a
/// node that does not answer.
pub fn export_claim_check(rpc: &str, options: &ClaimCheckOptions) -> anyhow::Result<()> {
    let directory = Directory::load(&options.directory)?;
    let key = signer(&options.from)?;
    let runtime = client_runtime()?;
    let client = connect(rpc)?;
    let (claim, beneficiary, now) = runtime.block_on(async {
        let chain_id = client
            .node_info()
            .await
            .context("is a node running at the RPC address?")?
            .chain_id;
        let abi = coverage_abi(&client, options.coverage).await?;
        let reader = (&key, chain_id);
        let claim = view(
            &client,
            &abi,
            options.coverage,
            "claim",
            json!([options.claim.to_string()]),
            reader,
        )
        .await?;
        if claim.is_null() {
            bail!("no claim {} on chain", options.claim);
        }
        // The member's pseudonym, if the signer may read the coverage (a practitioner billing
        // may not: the member's identifier stands in).
        let beneficiary = match view(
            &client,
            &abi,
            options.coverage,
            "coverage",
            json!([claim["payer"], claim["member"]]),
            reader,
        )
        .await
        {
            Ok(coverage) => coverage
                .get("beneficiary")
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<Address>().ok()),
            Err(_) => None,
        };
        let now = client.chain_head().await?.timestamp_ms;
        anyhow::Ok((claim, beneficiary, now))
    })?;
    let response = salus_client::fhir::claim_check::claim_response(
        &claim,
        options.claim,
        &options.claim_type,
        beneficiary,
        &directory,
        i64::try_from(now).unwrap_or(i64::MAX),
    )?;
    write_out(&response, options.out.as_deref())
}
