//! The wallet's side of privacy (docs/PRIVACY.md §5): `salus key pseudonym` (a key's
//! per-relationship keys; with `--set-subject`, the pseudonym files its relationship's subject
//! handle with consent, §5.7), `salus key pseudonyms` (the ones in use, found by paging the
//! registry's organisations on the wallet's own node), and `salus seal` / `salus open`
//! (payloads sealed to an X25519 key, opened with a pseudonym's).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use salus_primitives::Address;
use zeroize::Zeroizing;

use super::keys::signer;
use crate::keystore;

/// `salus key pseudonym`: the keys of `from`'s relationship with `counterparty` on the chain
/// whose genesis hash is `chain` (default: the dev chain's).
///
/// # Errors
/// As [`signer`](super::keys::signer); or the dev genesis cannot be built.
pub fn pseudonym(
    from: &str,
    counterparty: Address,
    kind: salus_client::RelationshipKind,
    episode: u32,
    chain: Option<salus_primitives::Hash>,
) -> anyhow::Result<salus_client::PseudonymKeys> {
    let primary = signer(from)?;
    let chain = match chain {
        Some(chain) => chain,
        None => crate::GenesisConfig::dev()
            .build()
            .context("building the dev genesis")?
            .header
            .hash(),
    };
    Ok(salus_client::derive_pseudonym(
        &primary,
        salus_client::Relationship {
            chain,
            counterparty,
            kind,
            episode,
        },
    ))
}

/// `salus key pseudonym --set-subject`: the pseudonym files its relationship's subject handle
/// with the consent contract at `consent` (`set_subject(pseudonym, handle)`, PRIVACY.md §5.7),
/// so that its consents' and delegations' events carry the handle even before any record. The
/// pseudonym signs at fuel price 0: it holds no coin, so no transfer ever links it to the key
/// that would fund it. Waits for inclusion; the transaction's hash.
///
/// # Errors
/// On any RPC failure, when the transaction is not included in time, or when the contract
/// refuses it.
pub async fn set_subject(
    rpc: &str,
    keys: &salus_client::PseudonymKeys,
    consent: Address,
) -> anyhow::Result<String> {
    use parity_scale_codec::Encode;
    use salus_client::rpc::SalusApiClient;
    /// `set_subject` is one write and an event: far below this.
    const FUEL: u64 = 2_000_000;
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let nonce = client
        .state_get_account(keys.address().to_string(), None)
        .await?
        .nonce;
    let input =
        crate::gateway::ledger::call_input("set_subject", (keys.address(), keys.subject_handle()));
    let transaction =
        salus_client::TransactionBuilder::new(info.chain_id, keys.signing.clone(), nonce)
            .fuel(FUEL, 0)
            .call(consent, input);
    let hash = client
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await?;
    let deadline = std::time::Instant::now() + super::client::INCLUSION_TIMEOUT;
    let receipt = loop {
        if let Some(receipt) = client.tx_receipt(hash.clone()).await? {
            break receipt;
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "set_subject {hash} was not included within {:?}",
                super::client::INCLUSION_TIMEOUT
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    if receipt.status != "success" {
        bail!(
            "set_subject {hash} failed: {}",
            receipt.failure.unwrap_or(receipt.status)
        );
    }
    Ok(hash)
}

/// The genesis hash of the chain the node at `rpc` follows (pseudonyms are per chain).
///
/// # Errors
/// On an RPC failure or a malformed answer.
pub async fn node_genesis(rpc: &str) -> anyhow::Result<salus_primitives::Hash> {
    use salus_client::rpc::SalusApiClient;
    let info = super::client::connect(rpc)?
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    info.genesis
        .parse()
        .map_err(|error| anyhow::anyhow!("the node's genesis hash {}: {error:?}", info.genesis))
}

/// `salus seal`: seals the contents of `input` (`-`: stdin) to the X25519 key `recipient`
/// (version `key_version`), bound to `associated_data` ([`salus_client::seal`]), and writes
/// the box to `out` (created, mode 0600) or stdout, never to a terminal.
///
/// # Errors
/// When the input cannot be read, the key is of low order, the payload is too large, or the box
/// cannot be written.
pub fn seal_file(
    recipient: [u8; 32],
    key_version: u32,
    associated_data: &[u8],
    input: &Path,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let plaintext = read_payload(input)?;
    let sealed = salus_client::seal(
        &salus_client::x25519_dalek::PublicKey::from(recipient),
        key_version,
        &plaintext,
        associated_data,
    )?;
    write_output(&sealed, out)
}

/// `salus open`: opens the box in `input` (`-`: stdin) with the X25519 key of `from`'s
/// pseudonym for the relationship (`counterparty`, `kind`, `episode`, on chain `chain`, default
/// the dev chain) and `associated_data`, and writes the payload to `out` (created, mode 0600) or
/// stdout, never to a terminal.
///
/// # Errors
/// As [`pseudonym`]; when the box cannot be read or does not open
/// ([`salus_client::SealError`]), or the payload cannot be written.
pub fn open_file(
    from: &str,
    relationship: (Address, salus_client::RelationshipKind, u32),
    chain: Option<salus_primitives::Hash>,
    associated_data: &[u8],
    input: &Path,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (counterparty, kind, episode) = relationship;
    let sealed = read_payload(input)?;
    let keys = pseudonym(from, counterparty, kind, episode, chain)?;
    let plaintext = salus_client::open(&keys.encryption, &sealed, associated_data)
        .with_context(|| format!("opening {}", input.display()))?;
    write_output(&plaintext, out)
}

/// The bytes of `input`, or of stdin for `-`, up to a box of the largest sealed payload.
fn read_payload(input: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let limit = salus_client::seal::MAX_PLAINTEXT_BYTES as u64 + 64 * 1024;
    let mut bytes = Zeroizing::new(Vec::new());
    if input == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
    } else {
        std::fs::File::open(input)
            .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", input.display()))?;
    }
    if bytes.len() as u64 > limit {
        bail!(salus_client::SealError::TooLarge);
    }
    Ok(bytes)
}

/// Writes `bytes` to a new private file `out`, or to stdout when it is not a terminal.
fn write_output(bytes: &[u8], out: Option<&Path>) -> anyhow::Result<()> {
    use std::io::Write;
    match out {
        Some(path) => keystore::write_private_file(path, bytes)
            .with_context(|| format!("writing {} (it must not exist)", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout.is_terminal() {
                bail!("not writing binary to a terminal: give --out FILE or redirect stdout");
            }
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Most registry participants asked for in one dry run (the registry's own page bound).
const PARTICIPANTS_PAGE: u32 = 100;

/// Most registry pages `salus key pseudonyms` reads: a million organisations. A registry that
/// pages on past that is not one the listing can finish against.
const MAX_PARTICIPANT_PAGES: u32 = 10_000;

/// Most episodes tried per organisation and kind: the scan stops after two unused in a row, so
/// this bounds only a chain that claims a thousand used episodes of one relationship.
const MAX_EPISODES: u32 = 1_000;

/// One pseudonym of a wallet in use on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PseudonymInUse {
    /// The organisation the relationship is with.
    pub organisation: Address,
    /// What the wallet's owner is to it.
    pub kind: salus_client::RelationshipKind,
    /// The episode.
    pub episode: u32,
    /// The pseudonym's address.
    pub pseudonym: Address,
}

/// `salus key pseudonyms`: every pseudonym of `from` in use on the chain at `rpc` (PRIVACY.md
/// §5.1, "Listing everything of one person"). Pages the participants of the registry at
/// `registry`; for each provider organisation (kind custodian) and payer (kind payer) derives
/// episodes 0, 1, … until two in a row are unused, where used means the pseudonym's account
/// has a nonce or a balance. Every pseudonym tried is named to the node: ask only a node you
/// run.
///
/// # Errors
/// As [`signer`](super::keys::signer); when the node cannot be reached, the registry has no ABI or its pages do not
/// decode, or a bound of the scan is reached.
pub async fn pseudonyms_in_use(
    rpc: &str,
    from: &str,
    registry: Address,
) -> anyhow::Result<Vec<PseudonymInUse>> {
    use salus_client::RelationshipKind;
    use salus_client::rpc::SalusApiClient;
    let primary = signer(from)?;
    let client = super::client::connect(rpc)?;
    let info = client
        .node_info()
        .await
        .context("is a node running at the RPC address?")?;
    let chain: salus_primitives::Hash = info
        .genesis
        .parse()
        .map_err(|error| anyhow::anyhow!("the node's genesis hash: {error}"))?;
    let abi: salus_client::ContractAbi = serde_json::from_value(
        client
            .contract_abi(registry.to_string())
            .await?
            .with_context(|| format!("{registry} has no contract ABI on chain: not a registry"))?,
    )?;
    let mut found = Vec::new();
    for (organisation, roles) in registry_participants(&client, &abi, registry).await? {
        let kinds = RelationshipKind::ALL.into_iter().filter(|kind| {
            let role = match kind {
                RelationshipKind::Custodian => "ProviderOrganisation",
                RelationshipKind::Payer => "Payer",
            };
            roles.iter().any(|held| held == role)
        });
        for kind in kinds {
            let mut unused_in_a_row = 0;
            for episode in 0..MAX_EPISODES {
                let keys = salus_client::derive_pseudonym(
                    &primary,
                    salus_client::Relationship {
                        chain,
                        counterparty: organisation,
                        kind,
                        episode,
                    },
                );
                let pseudonym = keys.address();
                let account = client
                    .state_get_account(pseudonym.to_string(), None)
                    .await?;
                let balance: u128 = account
                    .balance
                    .parse()
                    .with_context(|| format!("the balance of {pseudonym}"))?;
                if account.nonce > 0 || balance > 0 {
                    unused_in_a_row = 0;
                    found.push(PseudonymInUse {
                        organisation,
                        kind,
                        episode,
                        pseudonym,
                    });
                } else {
                    unused_in_a_row += 1;
                    if unused_in_a_row == 2 {
                        break;
                    }
                }
                if episode + 1 == MAX_EPISODES {
                    bail!(
                        "{organisation} ({}): {MAX_EPISODES} episodes without two unused in a \
                         row; stopped",
                        kind.name()
                    );
                }
            }
        }
    }
    Ok(found)
}

/// Every participant of the registry at `registry` with the names of its roles, page by page
/// through its `participants(after, limit)` view (a dry run from the zero address: the view
/// checks no caller, and the wallet's own address is not named to the node).
async fn registry_participants(
    client: &jsonrpsee::http_client::HttpClient,
    abi: &salus_client::ContractAbi,
    registry: Address,
) -> anyhow::Result<Vec<(Address, Vec<String>)>> {
    use salus_client::rpc::SalusApiClient;
    let mut participants: Vec<(Address, Vec<String>)> = Vec::new();
    for _ in 0..MAX_PARTICIPANT_PAGES {
        let after = participants.last().map(|(address, _)| address.to_string());
        let input = abi
            .encode_call(
                "participants",
                &serde_json::json!([after, PARTICIPANTS_PAGE]),
            )
            .with_context(|| format!("{registry} is not a registry"))?;
        let outcome = client
            .state_call(salus_client::DryRun::new(registry, input).unsigned())
            .await?;
        if outcome.status != "success" {
            bail!(
                "the registry's participants view failed: {}",
                outcome.failure.unwrap_or(outcome.status)
            );
        }
        let page = abi.decode_result(
            "participants",
            &hex::decode(outcome.return_data.trim_start_matches("0x"))?,
        )?;
        let entries = page
            .as_array()
            .context("the participants view returned no list")?;
        for entry in entries {
            let address: Address = entry[0]
                .as_str()
                .and_then(|text| text.parse().ok())
                .context("a participant without an address")?;
            if participants
                .last()
                .is_some_and(|(last, _)| *last >= address)
            {
                bail!("the registry's participants are not in ascending order");
            }
            let roles = entry[1]["roles"]
                .as_array()
                .context("a participant without roles")?
                .iter()
                .filter_map(|role| role.as_str().map(str::to_string))
                .collect();
            participants.push((address, roles));
        }
        if entries.len() < PARTICIPANTS_PAGE as usize {
            return Ok(participants);
        }
    }
    bail!("the registry has more than {MAX_PARTICIPANT_PAGES} pages of participants; stopped")
}
