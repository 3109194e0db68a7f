//! The load generator's workloads run on a real dev chain: every set-up transaction succeeds,
//! the load transactions succeed with the estimated fuel, consent decisions are permits, and
//! shipments move the units they name.

use salus_benches::bound::LocalChain;
use salus_benches::workload::{Workload, WorkloadKind, waves};
use salus_client::ContractAbi;

/// Sets up `workload` on a fresh in-process dev chain.
fn set_up(workload: &Workload) -> LocalChain {
    let mut chain = LocalChain::new();
    for phase in &workload.setup {
        for wave in waves(phase) {
            chain.mine(&wave).expect("set-up transactions succeed");
        }
    }
    chain
}

#[test]
fn consent_load_records_permitted_accesses() {
    let workload = Workload::plan(WorkloadKind::Consent, 20, 40).unwrap();
    let chain = set_up(&workload);
    let load = workload.presign(40, &[5_000_000]).unwrap();
    let receipts = chain.dry_run(&load).unwrap();
    let consent = ContractAbi::from_wasm(salus_contracts::CONSENT).unwrap();
    for (index, receipt) in receipts.iter().enumerate() {
        assert!(receipt.status.is_success(), "{index}: {:?}", receipt.status);
        let message = if index % 2 == 0 {
            "record_access"
        } else {
            "can_access"
        };
        let decision = consent
            .decode_result(message, &receipt.return_data)
            .unwrap()
            .to_string();
        assert!(decision.contains("\"Permit\""), "{message}: {decision}");
        // record_access writes to the audit trail and says so in an event; can_access only
        // decides.
        assert_eq!(receipt.events.is_empty(), index % 2 == 1, "{message}");
    }
}

#[test]
fn supply_load_ships_commissioned_units_and_transfers_pay() {
    let supply = Workload::plan(WorkloadKind::Supply, 1, 400).unwrap();
    let chain = set_up(&supply);
    // Two rounds: every manufacturer ships two different units.
    let load = supply.presign(400, &[2_000_000]).unwrap();
    for (index, receipt) in chain.dry_run(&load).unwrap().iter().enumerate() {
        assert!(receipt.status.is_success(), "{index}: {:?}", receipt.status);
        assert!(!receipt.events.is_empty(), "a shipment is an EPCIS event");
    }
    let transfers = Workload::plan(WorkloadKind::Transfer, 10, 30).unwrap();
    let chain = set_up(&transfers);
    let load = transfers.presign(30, &[50_000]).unwrap();
    for receipt in chain.dry_run(&load).unwrap() {
        assert!(receipt.status.is_success(), "{:?}", receipt.status);
    }
}
