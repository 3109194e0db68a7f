//! The participant registry (DOMAIN.md §0): who is who on a Salus network.
//!
//! An attesting authority, set at deployment, registers participants — patients, practitioners,
//! provider organisations, payers, manufacturers, repackagers, wholesale distributors,
//! dispensers, third-party logistics providers and authorities — with their roles, public
//! identifiers where the role has one (NPI, GLN, GS1 company prefix), a licence or registration
//! validity period and the hash of the evidence behind the attestation. Suspension,
//! reinstatement and revocation are events; nothing is ever deleted. Other contracts ask
//! `is_active(participant, role, at)` — "is X an authorised dispenser now?" — through a
//! cross-contract call. No personal identifiers are stored: people appear as their address.
//! Each participant publishes its X25519 encryption key here, with rotation and retirement
//! (`set_encryption_key`, `retire_encryption_key`, `encryption_key`), so that clinical content
//! can travel sealed to it (docs/PRIVACY.md §5.2).
//!
//! Other contracts depend on this crate as a library (`default-features = false`, without the
//! entry points) for [`Role`] and the typed reference [`RegistryRef`]:
//! `RegistryRef(registry).is_active(dispenser, Role::Dispenser, None)`.
#![no_std]

pub use registry::*;

#[salus_sdk::contract]
mod registry {
    use salus_sdk::prelude::*;

    const AUTHORITY: Value<Address> = Value::new(b"authority");
    const PARTICIPANTS: Map<Address, Participant> = Map::new(b"p/");
    /// (participant, version) → its encryption key of that version.
    const ENCRYPTION_KEYS: Map<(Address, u32), EncryptionKey> = Map::new(b"k/");
    /// participant → its latest encryption key version.
    const LATEST_KEY: Map<Address, u32> = Map::new(b"kv/");

    /// Most roles one participant holds (an integrated delivery network can be provider,
    /// payer and dispenser).
    const MAX_ROLES: usize = 10;
    /// Longest public identifier (NPI is 10 digits, GLN 13, a GS1 company prefix up to 12).
    const MAX_IDENTIFIER_BYTES: usize = 20;

    /// What a participant is authorised to be.
    #[data]
    pub enum Role {
        /// A person whose records and consents the network manages.
        Patient,
        /// A clinician (NPI).
        Practitioner,
        /// A hospital, clinic or laboratory (NPI, GLN).
        ProviderOrganisation,
        /// An insurer or health plan.
        Payer,
        /// A manufacturer or marketing-authorisation holder (GLN, company prefix).
        Manufacturer,
        /// A repackager (GLN, company prefix).
        Repackager,
        /// A wholesale distributor (GLN).
        WholesaleDistributor,
        /// A pharmacy or other dispenser (GLN).
        Dispenser,
        /// A third-party logistics provider (GLN).
        ThirdPartyLogistics,
        /// A regulator or other authority.
        Authority,
    }

    /// Standing of a registration.
    #[data]
    pub enum Standing {
        /// In good standing.
        Active,
        /// Temporarily not authorised; can be reinstated.
        Suspended,
        /// Permanently not authorised.
        Revoked,
    }

    /// A registered participant.
    #[data]
    pub struct Participant {
        /// Roles held.
        pub roles: Vec<Role>,
        /// National Provider Identifier, for practitioners and provider organisations.
        pub npi: Option<String>,
        /// GS1 Global Location Number, for organisations and trading partners.
        pub gln: Option<String>,
        /// GS1 company prefix, for manufacturers and repackagers.
        pub company_prefix: Option<String>,
        /// Licence or registration valid from (ms since the epoch).
        pub valid_from_ms: u64,
        /// Licence or registration valid until (ms since the epoch, exclusive).
        pub valid_until_ms: u64,
        /// Hash of the evidence the authority attested (licence scan, registry extract).
        pub evidence: Hash,
        /// The attesting authority.
        pub attested_by: Address,
        /// When the registration was made (ms).
        pub registered_at_ms: u64,
        /// Current standing.
        pub standing: Standing,
    }

    /// A participant's X25519 public key, to which others seal what only it may read
    /// (docs/PRIVACY.md §5.2). Every version is kept, so that what was sealed to an older key
    /// can still be opened by its holder; only the latest, unless retired, is used to seal.
    #[data]
    pub struct EncryptionKey {
        /// Version, from 1.
        pub version: u32,
        /// The X25519 public key (32 bytes).
        pub public_key: Hash,
        /// When it was set (ms).
        pub set_at_ms: u64,
        /// When it was retired (compromised or withdrawn), if it was.
        pub retired_at_ms: Option<u64>,
    }

    /// A participant set a new encryption key.
    #[event]
    pub struct EncryptionKeySet {
        /// The participant.
        #[topic]
        pub participant: Address,
        /// The new key's version.
        pub version: u32,
        /// The X25519 public key.
        pub public_key: Hash,
    }

    /// An encryption key was retired: nothing more is sealed to it.
    #[event]
    pub struct EncryptionKeyRetired {
        /// The participant.
        #[topic]
        pub participant: Address,
        /// The retired version.
        pub version: u32,
        /// The participant itself or the registry's authority.
        pub by: Address,
    }

    /// A participant was registered.
    #[event]
    pub struct Registered {
        /// The participant.
        #[topic]
        pub participant: Address,
        /// Roles granted.
        pub roles: Vec<Role>,
        /// Valid until (ms).
        pub valid_until_ms: u64,
    }

    /// A licence period was renewed.
    #[event]
    pub struct LicenceRenewed {
        /// The participant.
        #[topic]
        pub participant: Address,
        /// New end of validity (ms).
        pub valid_until_ms: u64,
        /// Evidence of the renewal.
        pub evidence: Hash,
    }

    /// A participant's standing changed.
    #[event]
    pub struct StandingChanged {
        /// The participant.
        #[topic]
        pub participant: Address,
        /// The new standing.
        pub standing: Standing,
        /// Hash of the reason (decision document); zero for reinstatement.
        pub reason: Hash,
        /// The authority that decided.
        pub by: Address,
    }

    /// The attesting authority changed.
    #[event]
    pub struct AuthorityTransferred {
        /// Previous authority.
        #[topic]
        pub from: Address,
        /// New authority.
        #[topic]
        pub to: Address,
    }

    /// Why a registry message was refused.
    #[error]
    pub enum RegistryError {
        /// Only the attesting authority may do this.
        NotAuthority,
        /// The address is already registered.
        AlreadyRegistered,
        /// The address is not registered.
        UnknownParticipant,
        /// Revocation is final.
        Revoked,
        /// The validity period ends before it starts.
        InvalidPeriod,
        /// No roles, a duplicated role, or too many roles.
        InvalidRoles,
        /// An identifier is too long or not plain ASCII digits/letters.
        InvalidIdentifier,
        /// The change would not change anything (e.g. suspending a suspended participant).
        NoChange,
        /// An encryption key of all zeroes (no key: every shared secret would be zero).
        InvalidKey,
        /// The participant has no encryption key of that version.
        UnknownKey,
    }

    /// The registry.
    pub struct Registry;

    impl Registry {
        /// Deploys the registry with its attesting authority.
        #[constructor]
        pub fn new(authority: Address) {
            AUTHORITY.set(&authority);
        }

        /// Registers `participant` (authority only).
        #[message]
        #[allow(clippy::too_many_arguments)]
        pub fn register(
            participant: Address,
            roles: Vec<Role>,
            npi: Option<String>,
            gln: Option<String>,
            company_prefix: Option<String>,
            valid_from_ms: u64,
            valid_until_ms: u64,
            evidence: Hash,
        ) -> Result<(), RegistryError> {
            let authority = ensure_authority()?;
            if PARTICIPANTS.contains(&participant) {
                return Err(RegistryError::AlreadyRegistered);
            }
            check_roles(&roles)?;
            for identifier in [&npi, &gln, &company_prefix].into_iter().flatten() {
                check_identifier(identifier)?;
            }
            if valid_until_ms <= valid_from_ms {
                return Err(RegistryError::InvalidPeriod);
            }
            let record = Participant {
                roles: roles.clone(),
                npi,
                gln,
                company_prefix,
                valid_from_ms,
                valid_until_ms,
                evidence,
                attested_by: authority,
                registered_at_ms: block_timestamp_ms(),
                standing: Standing::Active,
            };
            PARTICIPANTS.insert(&participant, &record);
            Registered {
                participant,
                roles,
                valid_until_ms,
            }
            .emit();
            Ok(())
        }

        /// Extends or shortens a licence period with new evidence (authority only).
        #[message]
        pub fn renew_licence(
            participant: Address,
            valid_until_ms: u64,
            evidence: Hash,
        ) -> Result<(), RegistryError> {
            ensure_authority()?;
            let mut record = existing(&participant)?;
            if matches!(record.standing, Standing::Revoked) {
                return Err(RegistryError::Revoked);
            }
            if valid_until_ms <= record.valid_from_ms {
                return Err(RegistryError::InvalidPeriod);
            }
            record.valid_until_ms = valid_until_ms;
            record.evidence = evidence;
            PARTICIPANTS.insert(&participant, &record);
            LicenceRenewed {
                participant,
                valid_until_ms,
                evidence,
            }
            .emit();
            Ok(())
        }

        /// Suspends a participant (authority only); `reason` is the hash of the decision.
        #[message]
        pub fn suspend(participant: Address, reason: Hash) -> Result<(), RegistryError> {
            change_standing(participant, Standing::Suspended, reason)
        }

        /// Reinstates a suspended participant (authority only).
        #[message]
        pub fn reinstate(participant: Address) -> Result<(), RegistryError> {
            change_standing(participant, Standing::Active, Hash::default())
        }

        /// Revokes a participant for good (authority only). The record stays, marked revoked.
        #[message]
        pub fn revoke(participant: Address, reason: Hash) -> Result<(), RegistryError> {
            change_standing(participant, Standing::Revoked, reason)
        }

        /// Hands the attesting role to another address (authority only).
        #[message]
        pub fn transfer_authority(to: Address) -> Result<(), RegistryError> {
            let from = ensure_authority()?;
            AUTHORITY.set(&to);
            AuthorityTransferred { from, to }.emit();
            Ok(())
        }

        /// Sets the caller's new encryption key (caller: a registered participant, whatever
        /// its standing unless revoked — rotating after a compromise is never blocked).
        /// Returns its version; earlier versions stay readable.
        #[message]
        pub fn set_encryption_key(public_key: Hash) -> Result<u32, RegistryError> {
            let participant = caller();
            let record = existing(&participant)?;
            if matches!(record.standing, Standing::Revoked) {
                return Err(RegistryError::Revoked);
            }
            if public_key == Hash::default() {
                return Err(RegistryError::InvalidKey);
            }
            let version = LATEST_KEY.get(&participant).unwrap_or(0) + 1;
            ENCRYPTION_KEYS.insert(
                &(participant, version),
                &EncryptionKey {
                    version,
                    public_key,
                    set_at_ms: block_timestamp_ms(),
                    retired_at_ms: None,
                },
            );
            LATEST_KEY.insert(&participant, &version);
            EncryptionKeySet {
                participant,
                version,
                public_key,
            }
            .emit();
            Ok(version)
        }

        /// Retires one of `participant`'s encryption keys (caller: the participant, or the
        /// registry's authority on a reported compromise). A retired latest key leaves the
        /// participant without a key to seal to until it sets a new one.
        #[message]
        pub fn retire_encryption_key(
            participant: Address,
            version: u32,
        ) -> Result<(), RegistryError> {
            let by = caller();
            if by != participant && by != AUTHORITY.get().unwrap_or_default() {
                return Err(RegistryError::NotAuthority);
            }
            let mut key = ENCRYPTION_KEYS
                .get(&(participant, version))
                .ok_or(RegistryError::UnknownKey)?;
            if key.retired_at_ms.is_some() {
                return Err(RegistryError::NoChange);
            }
            key.retired_at_ms = Some(block_timestamp_ms());
            ENCRYPTION_KEYS.insert(&(participant, version), &key);
            EncryptionKeyRetired {
                participant,
                version,
                by,
            }
            .emit();
            Ok(())
        }

        /// The key to seal to for `participant`: its latest, unless retired.
        #[message(view)]
        pub fn encryption_key(participant: Address) -> Option<EncryptionKey> {
            let version = LATEST_KEY.get(&participant)?;
            ENCRYPTION_KEYS
                .get(&(participant, version))
                .filter(|key| key.retired_at_ms.is_none())
        }

        /// One version of `participant`'s encryption keys, retired or not (to open an older
        /// seal, or to check one).
        #[message(view)]
        pub fn encryption_key_version(participant: Address, version: u32) -> Option<EncryptionKey> {
            ENCRYPTION_KEYS.get(&(participant, version))
        }

        /// The attesting authority.
        #[message(view)]
        pub fn authority() -> Address {
            AUTHORITY.get().unwrap_or_default()
        }

        /// A participant's record.
        #[message(view)]
        pub fn participant(participant: Address) -> Option<Participant> {
            PARTICIPANTS.get(&participant)
        }

        /// Whether `participant` holds `role`, is in good standing and is licensed at `at_ms`
        /// (default: the current block's time).
        #[message(view)]
        pub fn is_active(participant: Address, role: Role, at_ms: Option<u64>) -> bool {
            let at = at_ms.unwrap_or_else(block_timestamp_ms);
            PARTICIPANTS.get(&participant).is_some_and(|record| {
                matches!(record.standing, Standing::Active)
                    && record.roles.contains(&role)
                    && record.valid_from_ms <= at
                    && at < record.valid_until_ms
            })
        }

        /// The roles `participant` holds if it is in good standing and licensed at `at_ms`
        /// (default: the current block's time), else none: every `is_active` answer for it in
        /// one call, for a contract that accepts any of several roles.
        #[message(view)]
        pub fn active_roles(participant: Address, at_ms: Option<u64>) -> Vec<Role> {
            let at = at_ms.unwrap_or_else(block_timestamp_ms);
            PARTICIPANTS
                .get(&participant)
                .filter(|record| {
                    matches!(record.standing, Standing::Active)
                        && record.valid_from_ms <= at
                        && at < record.valid_until_ms
                })
                .map(|record| record.roles)
                .unwrap_or_default()
        }

        /// Registered participants, a page at a time (at most 100).
        #[message(view)]
        pub fn participants(after: Option<Address>, limit: u32) -> Vec<(Address, Participant)> {
            PARTICIPANTS.page(after.as_ref(), limit.min(100) as usize).0
        }
    }

    fn ensure_authority() -> Result<Address, RegistryError> {
        let authority = AUTHORITY.get().unwrap_or_default();
        if caller() == authority {
            Ok(authority)
        } else {
            Err(RegistryError::NotAuthority)
        }
    }

    fn existing(participant: &Address) -> Result<Participant, RegistryError> {
        PARTICIPANTS
            .get(participant)
            .ok_or(RegistryError::UnknownParticipant)
    }

    fn check_roles(roles: &[Role]) -> Result<(), RegistryError> {
        if roles.is_empty() || roles.len() > MAX_ROLES {
            return Err(RegistryError::InvalidRoles);
        }
        for (index, role) in roles.iter().enumerate() {
            if roles[index + 1..].contains(role) {
                return Err(RegistryError::InvalidRoles);
            }
        }
        Ok(())
    }

    fn check_identifier(identifier: &str) -> Result<(), RegistryError> {
        if identifier.is_empty()
            || identifier.len() > MAX_IDENTIFIER_BYTES
            || !identifier.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(RegistryError::InvalidIdentifier);
        }
        Ok(())
    }

    fn change_standing(
        participant: Address,
        standing: Standing,
        reason: Hash,
    ) -> Result<(), RegistryError> {
        let by = ensure_authority()?;
        let mut record = existing(&participant)?;
        match (&record.standing, &standing) {
            (Standing::Revoked, _) => return Err(RegistryError::Revoked),
            (Standing::Active, Standing::Active) | (Standing::Suspended, Standing::Suspended) => {
                return Err(RegistryError::NoChange);
            }
            (Standing::Active, Standing::Suspended | Standing::Revoked)
            | (Standing::Suspended, Standing::Active | Standing::Revoked) => {}
        }
        record.standing = standing.clone();
        PARTICIPANTS.insert(&participant, &record);
        StandingChanged {
            participant,
            standing,
            reason,
            by,
        }
        .emit();
        Ok(())
    }
}
