//! The access-control matrix, tested rather than assumed (issue 21 §1): every state-changing
//! message of every contract is called, on a fork of one network, by every participant of the
//! cast — each registry role, each relationship to the message's object, an unregistered address
//! — and by each allowed participant again once suspended and once with an expired licence. A
//! call succeeds exactly when the matrix (`table.rs`) allows the caller; otherwise it is refused
//! with the contract's typed error (or, where the matrix says so, a recorded refusal). A message
//! of a contract's ABI missing from the matrix fails, and `docs/contracts/access-control.md` is
//! the matrix rendered.

mod cases;
mod table;
mod world;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use salus_primitives::Address;
use salus_testkit::CallResult;

use cases::Case;
use table::{Contract, MATRIX, Refusal, Row, Who};
use world::{Party, World};

/// The state-changing messages of `contract`'s ABI.
fn state_changing_messages(contract: Contract) -> BTreeSet<String> {
    let abi: serde_json::Value =
        serde_json::from_str(contract.abi_json()).expect("the ABI is JSON");
    abi["messages"]
        .as_array()
        .expect("the ABI lists messages")
        .iter()
        .filter(|message| message["view"] == false)
        .map(|message| message["name"].as_str().expect("named").to_string())
        .collect()
}

fn cases(contract: Contract) -> Vec<Case> {
    match contract {
        Contract::Registry => cases::registry_cases(),
        Contract::Consent => cases::consent_cases(),
        Contract::Coverage => cases::coverage_cases(),
        Contract::Supply => cases::supply_cases(),
    }
}

#[test]
fn every_state_changing_message_is_in_the_matrix_and_probed() {
    for contract in Contract::ALL {
        let in_abi = state_changing_messages(contract);
        let in_matrix: BTreeSet<String> = MATRIX
            .iter()
            .filter(|row| row.contract == contract)
            .map(|row| row.message.to_string())
            .collect();
        let probed: BTreeSet<String> = cases(contract)
            .iter()
            .map(|case| case.message.to_string())
            .collect();
        assert_eq!(
            in_abi,
            in_matrix,
            "{}: the matrix must list exactly the state-changing messages of the ABI",
            contract.name()
        );
        assert_eq!(
            in_matrix,
            probed,
            "{}: every row of the matrix needs a probe",
            contract.name()
        );
    }
}

/// The contract's address in the world.
fn address_of(world: &World, contract: Contract) -> Address {
    match contract {
        Contract::Registry => world.registry,
        Contract::Consent => world.consent,
        Contract::Coverage => world.coverage,
        Contract::Supply => world.supply,
    }
}

/// The parties the row allows, with whether each must hold a registry role (and so must be
/// refused once suspended or unlicensed).
fn allowed(row: &Row, case: &Case) -> Vec<(Party, bool)> {
    let mut allowed: Vec<(Party, bool)> = Vec::new();
    let mut add = |party: Party, needs_role: bool| {
        if let Some(entry) = allowed.iter_mut().find(|(p, _)| *p == party) {
            // Allowed by two relationships: a role check applies only if both need one.
            entry.1 &= needs_role;
        } else {
            allowed.push((party, needs_role));
        }
    };
    for caller in row.callers {
        match caller.who {
            Who::Anyone => Party::ALL.into_iter().for_each(|party| add(party, false)),
            // Not a direct caller: probed through the relay (see the relay test).
            Who::ContractForAgent => {}
            Who::Registered => Party::ALL
                .into_iter()
                .filter(|party| !party.roles().is_empty())
                .for_each(|party| add(party, false)),
            Who::RoleHolder => Party::ALL
                .into_iter()
                .filter(|party| party.roles().iter().any(|r| caller.roles.contains(r)))
                .for_each(|party| add(party, true)),
            who => {
                let (_, party) = case
                    .bindings
                    .iter()
                    .find(|(bound, _)| *bound == who)
                    .unwrap_or_else(|| panic!("{}: no party stands for {who:?}", row.message));
                assert!(
                    caller.roles.is_empty()
                        || party.roles().iter().any(|r| caller.roles.contains(r)),
                    "{}: {party:?} stands for {who:?} but holds none of {:?}",
                    row.message,
                    caller.roles
                );
                add(*party, !caller.roles.is_empty());
            }
        }
    }
    allowed
}

/// How a probe's caller is changed before the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    AsRegistered,
    Suspended,
    LicenceExpired,
}

/// Calls the row's message as `party` on a fork of `world`.
fn probe(world: &World, row: &Row, case: &Case, party: Party, standing: Standing) -> CallResult {
    let mut fork = world.clone();
    let arguments = (case.prepare)(&mut fork);
    match standing {
        Standing::AsRegistered => {}
        Standing::Suspended => fork.suspend(party),
        Standing::LicenceExpired => fork.expire_licence(party),
    }
    let mut input = salus_testkit::selector(row.message).to_vec();
    input.extend(arguments);
    let contract = address_of(&fork, row.contract);
    let from = fork.address(party);
    fork.chain.call_raw(from, contract, input)
}

/// Why a probe that should have been refused was not, if it was not.
fn refusal_problem(row: &Row, case: &Case, result: &CallResult) -> Option<String> {
    match row.refusal {
        Refusal::Reverts => {
            if result.is_success() {
                return Some("succeeded".into());
            }
            match &result.receipt.status {
                salus_primitives::ExecutionStatus::Reverted { message }
                    if message.starts_with(row.contract.error_prefix()) =>
                {
                    None
                }
                other => Some(format!("failed without the typed error: {other:?}")),
            }
        }
        Refusal::Recorded(_) => {
            let refused = case.refused.expect("a recorded refusal has a check");
            (!(result.is_success() && refused(result)))
                .then(|| format!("not a recorded refusal: {:?}", result.receipt.status))
        }
    }
}

#[test]
fn every_message_admits_exactly_the_callers_the_matrix_allows() {
    let world = World::new();
    let mut problems = Vec::new();
    let mut probes = 0;
    for contract in Contract::ALL {
        for case in cases(contract) {
            let row = MATRIX
                .iter()
                .find(|row| row.contract == contract && row.message == case.message)
                .unwrap_or_else(|| panic!("{} is not in the matrix", case.message));
            let allowed = allowed(row, &case);
            for party in Party::ALL {
                probes += 1;
                let result = probe(&world, row, &case, party, Standing::AsRegistered);
                let permitted = allowed.iter().any(|(p, _)| *p == party);
                let problem = if permitted {
                    (!result.is_success() || case.refused.is_some_and(|refused| refused(&result)))
                        .then(|| format!("refused: {:?}", result.receipt.status))
                } else {
                    refusal_problem(row, &case, &result)
                };
                if let Some(problem) = problem {
                    problems.push(format!(
                        "{}::{} by {party:?} ({}): {problem}",
                        contract.name(),
                        row.message,
                        if permitted { "allowed" } else { "not allowed" }
                    ));
                }
            }
            for (party, needs_role) in allowed {
                if !needs_role {
                    continue;
                }
                for standing in [Standing::Suspended, Standing::LicenceExpired] {
                    probes += 1;
                    let result = probe(&world, row, &case, party, standing);
                    if let Some(problem) = refusal_problem(row, &case, &result) {
                        problems.push(format!(
                            "{}::{} by {party:?} {standing:?}: {problem}",
                            contract.name(),
                            row.message
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {probes} probes disagree with the matrix:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Authorisation uses the immediate caller, never the transaction's signer: every allowed
/// participant that signs a call to a contract that calls on (the relay) is refused, unless the
/// matrix says a contract may act for its signer (`record_access` for the agent that signs).
#[test]
fn a_contract_never_acts_with_the_authority_of_the_account_that_signed() {
    let world = World::new();
    let mut problems = Vec::new();
    let mut probes = 0;
    for contract in Contract::ALL {
        for case in cases(contract) {
            let row = MATRIX
                .iter()
                .find(|row| row.contract == contract && row.message == case.message)
                .expect("every probe has its row");
            if row.callers.iter().any(|caller| caller.who == Who::Anyone) {
                continue;
            }
            let signer_acted_for = row
                .callers
                .iter()
                .any(|caller| caller.who == Who::ContractForAgent)
                .then(|| {
                    case.bindings
                        .iter()
                        .find(|(who, _)| *who == Who::AccessAgent)
                })
                .flatten()
                .map(|(_, party)| *party);
            for (party, _) in allowed(row, &case) {
                probes += 1;
                let mut fork = world.clone();
                let arguments = (case.prepare)(&mut fork);
                let mut input = address_of(&fork, row.contract).0.to_vec();
                input.extend(salus_testkit::selector(row.message));
                input.extend(arguments);
                let (from, relay) = (fork.address(party), fork.relay);
                let result = fork.chain.call_raw(from, relay, input);
                let problem = if signer_acted_for == Some(party) {
                    (!result.is_success())
                        .then(|| format!("refused for its signer: {:?}", result.receipt.status))
                } else {
                    refusal_problem(row, &case, &result)
                };
                if let Some(problem) = problem {
                    problems.push(format!(
                        "{}::{} signed by {party:?} through a contract: {problem}",
                        contract.name(),
                        row.message
                    ));
                }
            }
        }
    }
    assert!(probes > 100, "only {probes} relayed probes");
    assert!(
        problems.is_empty(),
        "{} of {probes} relayed probes disagree with the matrix:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The matrix as Markdown.
fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# Access control\n\n\
         <!-- Rendered from sdk/testkit/tests/access_control/table.rs by its test; regenerate with\n\
         UPDATE_SNAPSHOTS=1 cargo nextest run -p salus-testkit --test access_control -->\n\n\
         Who may call every state-changing message of the Salus contracts. A caller is a\n\
         relationship to the message's object and, where a role is named, an attestation by the\n\
         participant registry: that role, in good standing, with a current licence. Roles are\n\
         always read from the registry, never taken from the caller's arguments, and\n\
         authorisation uses the immediate caller, not the transaction's signer — except\n\
         `record_access`, which a contract may call for the agent that signed the transaction.\n\
         A second test has every allowed caller sign a call through a relay contract: all are\n\
         refused but that one.\n\n\
         The test `sdk/testkit/tests/access_control` walks this table: every message is called\n\
         by every participant of a network — the registry's authority, a regulator, two provider\n\
         organisations, a physician, a privacy officer, the patient and a guardian, two payers\n\
         and a payer's clinician reviewer, a manufacturer, a wholesaler, a pharmacy, a 3PL, a\n\
         repackager and an unregistered address — and by each allowed participant that needs a role again once\n\
         suspended and once with its licence expired. It must succeed exactly for the callers\n\
         listed and be refused otherwise, with the contract's typed error (or the recorded\n\
         refusal named). A message missing from the table fails the test. Views change nothing\n\
         and are not listed (what each answers, and to whom, is on the contract's page; see\n\
         PRIVACY.md for what a view cannot hide).\n",
    );
    for contract in Contract::ALL {
        write!(
            out,
            "\n## {}\n\n| Message | Who may call (registry role, active and licensed) | Refused | Source |\n|---|---|---|---|\n",
            contract.name()
        )
        .unwrap();
        for row in MATRIX.iter().filter(|row| row.contract == contract) {
            let callers: Vec<String> = row
                .callers
                .iter()
                .map(|caller| {
                    let roles: Vec<String> = caller
                        .roles
                        .iter()
                        .map(|role| format!("`{role:?}`"))
                        .collect();
                    if roles.is_empty() {
                        caller.who.describe().to_string()
                    } else {
                        format!("{} ({})", caller.who.describe(), roles.join(" or "))
                    }
                })
                .collect();
            let refused = match row.refusal {
                Refusal::Reverts => "typed error".to_string(),
                Refusal::Recorded(what) => format!("recorded: {what}"),
            };
            writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                row.message,
                callers.join("; "),
                refused,
                row.reference
            )
            .unwrap();
        }
    }
    out
}

#[test]
fn the_access_control_document_is_the_matrix_rendered() {
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let path = root.join("../../docs/contracts/access-control.md");
    let rendered = render();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &rendered).expect("docs/contracts is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "{} is not the matrix rendered: run with UPDATE_SNAPSHOTS=1",
        path.display()
    );
}
