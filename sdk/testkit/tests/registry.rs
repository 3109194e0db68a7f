//! The participant registry (contracts/registry) in the real VM: registration by the authority
//! only, roles and licence periods in `is_active`, suspension, reinstatement and final
//! revocation as events, identifier checks, paging, and encryption keys with rotation and
//! retirement.

use parity_scale_codec::Encode;
use registry::{
    EncryptionKey, EncryptionKeyRetired, EncryptionKeySet, Participant, Role, Standing,
    StandingChanged,
};
use salus_primitives::{Address, Hash};
use salus_testkit::TestChain;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

type Registration = (
    Address,
    Vec<Role>,
    Option<String>,
    Option<String>,
    Option<String>,
    u64,
    u64,
    Hash,
);

fn registration(participant: Address, roles: Vec<Role>, from: u64, until: u64) -> Registration {
    (
        participant,
        roles,
        None,
        Some("0614141000012".into()),
        None,
        from,
        until,
        Hash([7; 32]),
    )
}

fn deployed() -> (TestChain, Address, Address) {
    let mut chain = TestChain::new();
    let authority = chain.account(0);
    let registry = chain
        .deploy(authority, salus_contracts::REGISTRY, "new", &authority)
        .unwrap();
    (chain, authority, registry)
}

#[test]
fn the_authority_registers_and_is_active_checks_role_standing_and_licence() {
    let (mut chain, authority, registry) = deployed();
    let pharmacy = chain.new_account(10u128.pow(18));
    let now = chain.timestamp_ms();
    let result = chain.call(
        authority,
        registry,
        "register",
        &registration(pharmacy, vec![Role::Dispenser], now, now + 30 * DAY_MS),
    );
    assert!(result.is_success(), "{:?}", result.receipt.status);
    assert_eq!(result.events().len(), 1);

    let record: Option<Participant> = chain.view(authority, registry, "participant", &pharmacy);
    let record = record.unwrap();
    assert_eq!(record.roles, vec![Role::Dispenser]);
    assert_eq!(record.attested_by, authority);
    assert_eq!(record.standing, Standing::Active);

    let active = |chain: &TestChain, role: Role, at: Option<u64>| -> bool {
        chain.view(authority, registry, "is_active", &(pharmacy, role, at))
    };
    assert!(active(&chain, Role::Dispenser, None));
    assert!(
        !active(&chain, Role::WholesaleDistributor, None),
        "a role it does not hold"
    );
    assert!(
        !active(&chain, Role::Dispenser, Some(now + 31 * DAY_MS)),
        "after the licence lapses"
    );
    // Time passes: the licence lapses with no transaction at all.
    chain.advance_time(31 * DAY_MS);
    assert!(!active(&chain, Role::Dispenser, None));
    // Renewal restores it.
    let renewed = chain.call(
        authority,
        registry,
        "renew_licence",
        &(pharmacy, now + 400 * DAY_MS, Hash([8; 32])),
    );
    assert!(renewed.is_success());
    assert!(active(&chain, Role::Dispenser, None));
}

#[test]
fn only_the_authority_may_register_or_change_standing() {
    let (mut chain, authority, registry) = deployed();
    let intruder = chain.account(3);
    let clinic = chain.new_account(10u128.pow(18));
    let now = chain.timestamp_ms();
    let refused = chain.call(
        intruder,
        registry,
        "register",
        &registration(clinic, vec![Role::ProviderOrganisation], now, now + DAY_MS),
    );
    assert_eq!(refused.revert_message(), "RegistryError::NotAuthority");
    chain.call(
        authority,
        registry,
        "register",
        &registration(clinic, vec![Role::ProviderOrganisation], now, now + DAY_MS),
    );
    assert_eq!(
        chain
            .call(intruder, registry, "suspend", &(clinic, Hash([1; 32])))
            .revert_message(),
        "RegistryError::NotAuthority"
    );
    assert_eq!(
        chain
            .call(
                authority,
                registry,
                "register",
                &registration(clinic, vec![Role::Payer], now, now + DAY_MS)
            )
            .revert_message(),
        "RegistryError::AlreadyRegistered"
    );
}

#[test]
fn suspension_reinstatement_and_revocation_are_events_and_revocation_is_final() {
    let (mut chain, authority, registry) = deployed();
    let distributor = chain.new_account(10u128.pow(18));
    let now = chain.timestamp_ms();
    chain.call(
        authority,
        registry,
        "register",
        &registration(
            distributor,
            vec![Role::WholesaleDistributor],
            now,
            now + 365 * DAY_MS,
        ),
    );
    let active = |chain: &TestChain| -> bool {
        chain.view(
            authority,
            registry,
            "is_active",
            &(distributor, Role::WholesaleDistributor, None::<u64>),
        )
    };

    let suspended = chain.call(
        authority,
        registry,
        "suspend",
        &(distributor, Hash([3; 32])),
    );
    let changes = suspended.events_named::<StandingChanged>("StandingChanged");
    assert_eq!(
        changes,
        vec![StandingChanged {
            participant: distributor,
            standing: Standing::Suspended,
            reason: Hash([3; 32]),
            by: authority
        }]
    );
    assert!(!active(&chain));
    assert_eq!(
        chain
            .call(
                authority,
                registry,
                "suspend",
                &(distributor, Hash([3; 32]))
            )
            .revert_message(),
        "RegistryError::NoChange"
    );
    assert!(
        chain
            .call(authority, registry, "reinstate", &distributor)
            .is_success()
    );
    assert!(active(&chain));
    assert!(
        chain
            .call(authority, registry, "revoke", &(distributor, Hash([4; 32])))
            .is_success()
    );
    assert!(!active(&chain));
    assert_eq!(
        chain
            .call(authority, registry, "reinstate", &distributor)
            .revert_message(),
        "RegistryError::Revoked"
    );
    // The record remains, marked revoked: nothing is deleted.
    let record: Option<Participant> = chain.view(authority, registry, "participant", &distributor);
    assert_eq!(record.unwrap().standing, Standing::Revoked);
}

#[test]
fn bad_registrations_are_refused_with_their_reason() {
    let (mut chain, authority, registry) = deployed();
    let someone = chain.new_account(1);
    let now = chain.timestamp_ms();
    let refusal = |chain: &mut TestChain, registration: Registration| {
        chain
            .call(authority, registry, "register", &registration)
            .revert_message()
            .to_string()
    };
    assert_eq!(
        refusal(&mut chain, registration(someone, vec![], now, now + 1)),
        "RegistryError::InvalidRoles"
    );
    assert_eq!(
        refusal(
            &mut chain,
            registration(someone, vec![Role::Payer, Role::Payer], now, now + 1)
        ),
        "RegistryError::InvalidRoles"
    );
    assert_eq!(
        refusal(
            &mut chain,
            registration(someone, vec![Role::Payer], now, now)
        ),
        "RegistryError::InvalidPeriod"
    );
    let mut bad_gln = registration(someone, vec![Role::Dispenser], now, now + 1);
    bad_gln.3 = Some("061414-1000012".into());
    assert_eq!(
        refusal(&mut chain, bad_gln),
        "RegistryError::InvalidIdentifier"
    );
    assert!(
        chain
            .view::<Option<Participant>>(authority, registry, "participant", &someone)
            .is_none()
    );
}

#[test]
fn participants_page_and_the_authority_can_be_handed_over() {
    let (mut chain, authority, registry) = deployed();
    let now = chain.timestamp_ms();
    let members: Vec<Address> = (0..5).map(|_| chain.new_account(1)).collect();
    for member in &members {
        chain.call(
            authority,
            registry,
            "register",
            &registration(*member, vec![Role::Patient], now, now + DAY_MS),
        );
    }
    let first: Vec<(Address, Participant)> = chain.view(
        authority,
        registry,
        "participants",
        &(None::<Address>, 3u32),
    );
    let rest: Vec<(Address, Participant)> = chain.view(
        authority,
        registry,
        "participants",
        &(Some(first[2].0), 10u32),
    );
    assert_eq!(first.len() + rest.len(), 5);

    let successor = chain.account(4);
    assert!(
        chain
            .call(authority, registry, "transfer_authority", &successor)
            .is_success()
    );
    assert_eq!(
        chain.view::<Address>(authority, registry, "authority", &()),
        successor
    );
    assert_eq!(
        chain
            .call(authority, registry, "suspend", &(members[0], Hash::ZERO))
            .revert_message(),
        "RegistryError::NotAuthority"
    );
    assert!(
        chain
            .call(successor, registry, "suspend", &(members[0], Hash::ZERO))
            .is_success()
    );
    let _ = (
        Role::Practitioner,
        Role::Manufacturer,
        Role::Repackager,
        Role::ThirdPartyLogistics,
        Role::Authority,
    );
}

#[test]
fn every_registry_message_refuses_a_caller_without_authority() {
    let (mut chain, authority, registry) = deployed();
    let member = chain.new_account(10u128.pow(18));
    let now = chain.timestamp_ms();
    assert!(
        chain
            .call(
                authority,
                registry,
                "register",
                &registration(member, vec![Role::Patient], now, now + DAY_MS)
            )
            .is_success()
    );
    let outsider = chain.account(5);
    let attempts: [(&str, Vec<u8>); 6] = [
        (
            "register",
            registration(chain.new_account(1), vec![Role::Payer], now, now + DAY_MS).encode(),
        ),
        (
            "renew_licence",
            (member, now + 2 * DAY_MS, Hash::ZERO).encode(),
        ),
        ("suspend", (member, Hash::ZERO).encode()),
        ("reinstate", member.encode()),
        ("revoke", (member, Hash::ZERO).encode()),
        ("transfer_authority", outsider.encode()),
    ];
    for (message, arguments) in attempts {
        let mut input = salus_testkit::selector(message).to_vec();
        input.extend(arguments);
        assert_eq!(
            chain.call_raw(outsider, registry, input).revert_message(),
            "RegistryError::NotAuthority",
            "{message}"
        );
    }
}

#[test]
fn participants_rotate_and_retire_their_encryption_keys_and_nobody_else_sets_them() {
    let (mut chain, authority, registry) = deployed();
    let hospital = chain.new_account(10u128.pow(18));
    let now = chain.timestamp_ms();
    let registered = chain.call(
        authority,
        registry,
        "register",
        &registration(
            hospital,
            vec![Role::ProviderOrganisation],
            now,
            now + 30 * DAY_MS,
        ),
    );
    assert!(registered.is_success());
    let current = |chain: &TestChain| -> Option<EncryptionKey> {
        chain.view(authority, registry, "encryption_key", &hospital)
    };
    assert_eq!(current(&chain), None);

    // An unregistered address has no key to set, and an all-zero key is no key.
    let stranger = chain.new_account(10u128.pow(18));
    let refused = chain.call(stranger, registry, "set_encryption_key", &Hash([5; 32]));
    assert_eq!(
        refused.revert_message(),
        "RegistryError::UnknownParticipant"
    );
    let zero = chain.call(hospital, registry, "set_encryption_key", &Hash::default());
    assert_eq!(zero.revert_message(), "RegistryError::InvalidKey");

    // Version 1, then a rotation to version 2: the latest is the one to seal to, and the first
    // stays readable for opening what was sealed to it.
    let first = chain.call(hospital, registry, "set_encryption_key", &Hash([1; 32]));
    assert_eq!(first.decode::<u32>(), 1);
    let set: Vec<EncryptionKeySet> = first.events_named("EncryptionKeySet");
    assert_eq!(set[0].participant, hospital);
    let second = chain.call(hospital, registry, "set_encryption_key", &Hash([2; 32]));
    assert_eq!(second.decode::<u32>(), 2);
    let latest = current(&chain).unwrap();
    assert_eq!((latest.version, latest.public_key), (2, Hash([2; 32])));
    let older: Option<EncryptionKey> = chain.view(
        authority,
        registry,
        "encryption_key_version",
        &(hospital, 1u32),
    );
    assert_eq!(older.unwrap().public_key, Hash([1; 32]));

    // Only the participant or the authority retires a key; retiring is final.
    let by_stranger = chain.call(
        stranger,
        registry,
        "retire_encryption_key",
        &(hospital, 2u32),
    );
    assert_eq!(by_stranger.revert_message(), "RegistryError::NotAuthority");
    let retired = chain.call(
        authority,
        registry,
        "retire_encryption_key",
        &(hospital, 2u32),
    );
    assert!(retired.is_success());
    let events: Vec<EncryptionKeyRetired> = retired.events_named("EncryptionKeyRetired");
    assert_eq!((events[0].version, events[0].by), (2, authority));
    // A retired latest key leaves nothing to seal to (never a fall-back to an older key).
    assert_eq!(current(&chain), None);
    let again = chain.call(
        hospital,
        registry,
        "retire_encryption_key",
        &(hospital, 2u32),
    );
    assert_eq!(again.revert_message(), "RegistryError::NoChange");
    let unknown = chain.call(
        hospital,
        registry,
        "retire_encryption_key",
        &(hospital, 9u32),
    );
    assert_eq!(unknown.revert_message(), "RegistryError::UnknownKey");

    // A suspended participant can still rotate (after a compromise); a revoked one cannot.
    let suspended = chain.call(authority, registry, "suspend", &(hospital, Hash([3; 32])));
    assert!(suspended.is_success());
    let rotated = chain.call(hospital, registry, "set_encryption_key", &Hash([3; 32]));
    assert_eq!(rotated.decode::<u32>(), 3);
    assert_eq!(current(&chain).unwrap().public_key, Hash([3; 32]));
    let revoked = chain.call(authority, registry, "revoke", &(hospital, Hash([4; 32])));
    assert!(revoked.is_success());
    let after_revocation = chain.call(hospital, registry, "set_encryption_key", &Hash([4; 32]));
    assert_eq!(after_revocation.revert_message(), "RegistryError::Revoked");
}
