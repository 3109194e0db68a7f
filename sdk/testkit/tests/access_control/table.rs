//! The access-control matrix as data: for every state-changing message of every contract, who
//! may call it (a relationship to the message's object, and the registry roles it must hold).
//! The test walks it and `docs/contracts/access-control.md` is rendered from it.

use registry::Role;

/// The contracts of a Salus network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    Registry,
    Consent,
    Coverage,
    Supply,
}

impl Contract {
    pub const ALL: [Contract; 4] = [
        Contract::Registry,
        Contract::Consent,
        Contract::Coverage,
        Contract::Supply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Contract::Registry => "registry",
            Contract::Consent => "consent",
            Contract::Coverage => "coverage",
            Contract::Supply => "supply",
        }
    }

    /// The prefix of the contract's typed errors in a revert message (`ConsentError::…`).
    pub fn error_prefix(self) -> &'static str {
        match self {
            Contract::Registry => "RegistryError::",
            Contract::Consent => "ConsentError::",
            Contract::Coverage => "CoverageError::",
            Contract::Supply => "SupplyError::",
        }
    }

    /// The contract's ABI as its crate exposes it (the same JSON its module embeds).
    pub fn abi_json(self) -> &'static str {
        match self {
            Contract::Registry => registry::ABI_JSON,
            Contract::Consent => consent::ABI_JSON,
            Contract::Coverage => coverage::ABI_JSON,
            Contract::Supply => supply::ABI_JSON,
        }
    }
}

/// A caller's relationship to the object of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    /// Anyone at all: the message only records what is already due (permissionless).
    Anyone,
    /// The registry's attesting authority (set at deployment, handed on by
    /// `transfer_authority`).
    RegistryAuthority,
    /// Any participant the registry attests in one of the roles listed.
    RoleHolder,
    /// Any registered participant, whatever its standing or licence (unless revoked), acting
    /// on its own entry.
    Registered,
    /// The participant whose encryption key it is.
    KeyHolder,
    /// The patient the consent, record or delegation is about.
    Patient,
    /// An active delegate of the patient (guardian, power of attorney), within the scope of its
    /// delegation.
    Delegate,
    /// An active delegate of the patient, for a consent it granted itself (a delegate never
    /// undoes the patient's own decisions).
    GrantingDelegate,
    /// The author of the consent (who recorded it: its grantor or proposer).
    ConsentAuthor,
    /// The custodian of the record (the provider organisation that registered it).
    RecordCustodian,
    /// The agent of the access being recorded, itself.
    AccessAgent,
    /// A contract the agent called, acting for the agent that signed the transaction (the one
    /// place a contract acts with its signer's authority).
    ContractForAgent,
    /// A member of the organisation's break-glass group.
    BreakGlassMember,
    /// The clinician who declared the break-glass session.
    SessionActor,
    /// The reviewer the organisation's break-glass policy names (never the session's actor).
    BreakGlassReviewer,
    /// The organisation whose break-glass policy the session ran under (never the actor).
    BreakGlassOrganisation,
    /// The payer of the member's coverage, or of the request.
    Payer,
    /// A utilisation-management reviewer the payer authorised (`set_reviewer`).
    PayerReviewer,
    /// The provider that submitted the preauthorization request.
    Requester,
    /// The provider that submitted the claim.
    ClaimSubmitter,
    /// The owner of the product (the manufacturer that registered its GTIN).
    ProductOwner,
    /// The owner of every unit or case named.
    UnitOwner,
    /// The custodian of every unit named (who holds it physically, e.g. a 3PL).
    UnitCustodian,
    /// The buyer a shipment is addressed to.
    ShipmentBuyer,
    /// The seller of the returned unit's last received shipment (the return goes back to it).
    ReturnSeller,
    /// Whoever opened the investigation.
    CaseOpener,
    /// Whoever recorded the EPCIS event.
    EventRecorder,
    /// Whoever holds every unit named (its custodian: the owner itself, or a 3PL for it).
    Holder,
    /// The seller of the sale.
    Seller,
    /// The 3PL holding the goods of the sale.
    SaleCustodian,
    /// The holder of the GTIN's GS1 company prefix in the registry.
    PrefixHolder,
    /// The shipper of the shipment.
    Shipper,
}

impl Who {
    /// The relationship in words, for the rendered table.
    pub fn describe(self) -> &'static str {
        match self {
            Who::Anyone => "anyone",
            Who::RegistryAuthority => "the registry's attesting authority",
            Who::RoleHolder => "any participant",
            Who::Registered => "any registered participant, for itself, even suspended",
            Who::KeyHolder => "the key's participant",
            Who::Patient => "the patient",
            Who::Delegate => "an active delegate of the patient, within its scope",
            Who::GrantingDelegate => "an active delegate, for a consent it granted",
            Who::ConsentAuthor => "the consent's author",
            Who::RecordCustodian => "the record's custodian",
            Who::AccessAgent => "the agent of the access itself",
            Who::ContractForAgent => {
                "a contract the agent called, for the agent that signed the transaction"
            }
            Who::BreakGlassMember => "a member of the organisation's break-glass group",
            Who::SessionActor => "the session's actor",
            Who::BreakGlassReviewer => "the policy's reviewer (not the actor)",
            Who::BreakGlassOrganisation => "the session's organisation (not the actor)",
            Who::Payer => "the payer of the coverage or request",
            Who::PayerReviewer => "a reviewer the payer authorised",
            Who::Requester => "the requesting provider",
            Who::ClaimSubmitter => "the provider that submitted the claim",
            Who::ProductOwner => "the product's owner (its manufacturer)",
            Who::UnitOwner => "the owner of every unit named (holding them, to pack or ship)",
            Who::UnitCustodian => "the custodian of every unit named",
            Who::ShipmentBuyer => "the shipment's receiver (the buyer, or a 3PL taking custody)",
            Who::ReturnSeller => "the seller of the unit's last received shipment",
            Who::CaseOpener => "whoever opened the investigation",
            Who::EventRecorder => "whoever recorded the event",
            Who::Holder => "whoever holds every unit named (owner or 3PL)",
            Who::Seller => "the sale's seller",
            Who::SaleCustodian => "the 3PL holding the sale's goods",
            Who::PrefixHolder => "the holder of the GTIN's GS1 company prefix",
            Who::Shipper => "the shipment's shipper, once its receiver can no longer receive",
        }
    }
}

/// One kind of caller a message accepts: a relationship and, unless `roles` is empty, a
/// registry attestation in one of `roles` (in good standing, with a current licence).
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub who: Who,
    pub roles: &'static [Role],
}

const fn caller(who: Who, roles: &'static [Role]) -> Caller {
    Caller { who, roles }
}

/// How a message refuses a caller the table does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The call reverts with the contract's typed error; nothing changes.
    Reverts,
    /// The refusal is itself a decision the contract records (an audit entry, a stored
    /// refusal) and returns; the call does not revert.
    Recorded(&'static str),
}

/// One row of the matrix: a state-changing message and who may call it.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub contract: Contract,
    pub message: &'static str,
    pub callers: &'static [Caller],
    pub refusal: Refusal,
    /// The rule's source: the standard or regulation it follows, or DOMAIN.md.
    pub reference: &'static str,
}

const fn row(
    contract: Contract,
    message: &'static str,
    callers: &'static [Caller],
    reference: &'static str,
) -> Row {
    Row {
        contract,
        message,
        callers,
        refusal: Refusal::Reverts,
        reference,
    }
}

const NONE: &[Role] = &[];
const PROVIDER: &[Role] = &[Role::ProviderOrganisation];
/// A provider that bills and requests under its own NPI: a practitioner or an organisation.
const BILLING_PROVIDER: &[Role] = &[Role::Practitioner, Role::ProviderOrganisation];
const PAYER: &[Role] = &[Role::Payer];
const AUTHORITY: &[Role] = &[Role::Authority];
const PRACTITIONER: &[Role] = &[Role::Practitioner];
const MANUFACTURER: &[Role] = &[Role::Manufacturer];
const DISPENSER: &[Role] = &[Role::Dispenser];
/// DSCSA trading partners (§581(23)): manufacturers, repackagers, wholesale distributors,
/// dispensers and third-party logistics providers.
const TRADING_PARTNER: &[Role] = &[
    Role::Manufacturer,
    Role::Repackager,
    Role::WholesaleDistributor,
    Role::Dispenser,
    Role::ThirdPartyLogistics,
];

use Contract::{Consent, Coverage, Registry, Supply};
use Who::*;

/// The authority only.
const AUTHORITY_ONLY: &[Caller] = &[caller(RegistryAuthority, NONE)];
/// The patient, or a delegate acting within its scope.
const PATIENT_OR_DELEGATE: &[Caller] = &[caller(Patient, NONE), caller(Delegate, NONE)];
/// The payer or a reviewer it authorised.
const PAYER_OR_REVIEWER: &[Caller] = &[caller(Payer, PAYER), caller(PayerReviewer, NONE)];
const REQUESTER: &[Caller] = &[caller(Requester, BILLING_PROVIDER)];
const OWNER: &[Caller] = &[caller(UnitOwner, TRADING_PARTNER)];
/// The owner, whatever its standing: a safety action (taking product out of commerce) is never
/// blocked by the owner's suspension or lapsed licence.
const OWNER_EVEN_SUSPENDED: &[Caller] = &[caller(UnitOwner, NONE)];
const INVESTIGATORS: &[Caller] = &[caller(ProductOwner, NONE), caller(CaseOpener, NONE)];

/// The matrix. Views (`#[message(view)]`) change nothing and are not listed.
pub const MATRIX: &[Row] = &[
    // ---- registry ----
    row(
        Registry,
        "register",
        AUTHORITY_ONLY,
        "DOMAIN.md §0; DSCSA §581(2) authorized",
    ),
    row(Registry, "renew_licence", AUTHORITY_ONLY, "DOMAIN.md §0"),
    row(Registry, "suspend", AUTHORITY_ONLY, "DOMAIN.md §0"),
    row(Registry, "reinstate", AUTHORITY_ONLY, "DOMAIN.md §0"),
    row(Registry, "revoke", AUTHORITY_ONLY, "DOMAIN.md §0"),
    row(
        Registry,
        "transfer_authority",
        AUTHORITY_ONLY,
        "DOMAIN.md §0",
    ),
    row(
        Registry,
        "set_encryption_key",
        &[caller(Registered, NONE)],
        "PRIVACY.md §5.2 (rotation after a compromise is never blocked)",
    ),
    row(
        Registry,
        "retire_encryption_key",
        &[caller(KeyHolder, NONE), caller(RegistryAuthority, NONE)],
        "PRIVACY.md §5.2",
    ),
    // ---- consent ----
    row(
        Consent,
        "register_record",
        &[caller(RoleHolder, PROVIDER)],
        "FHIR R4 Consent.organization (custodian); HIPAA §160.103 covered entity",
    ),
    row(
        Consent,
        "set_subject",
        PATIENT_OR_DELEGATE,
        "PRIVACY.md §5.7: the relationship's subject handle, filed by the pseudonym's own key",
    ),
    row(
        Consent,
        "grant",
        PATIENT_OR_DELEGATE,
        "FHIR R4 Consent.performer; HIPAA §164.502(g) personal representatives",
    ),
    row(
        Consent,
        "import_signed",
        PATIENT_OR_DELEGATE,
        "FHIR R4 Consent.dateTime, Consent.performer",
    ),
    row(
        Consent,
        "propose",
        &[
            caller(Patient, NONE),
            caller(Delegate, NONE),
            caller(RoleHolder, PROVIDER),
        ],
        "FHIR R4 Consent.status `draft`/`proposed`",
    ),
    row(
        Consent,
        "submit",
        &[caller(ConsentAuthor, NONE)],
        "FHIR R4 Consent.status `draft` → `proposed`",
    ),
    row(
        Consent,
        "activate",
        PATIENT_OR_DELEGATE,
        "FHIR R4 Consent.status `proposed` → `active`",
    ),
    row(
        Consent,
        "reject",
        PATIENT_OR_DELEGATE,
        "FHIR R4 Consent.status `proposed` → `rejected`",
    ),
    row(
        Consent,
        "revoke",
        &[caller(Patient, NONE), caller(GrantingDelegate, NONE)],
        "HIPAA §164.508(b)(5) revocation; FHIR R4 `inactive`",
    ),
    row(
        Consent,
        "mark_entered_in_error",
        &[caller(ConsentAuthor, NONE)],
        "FHIR R4 Consent.status `entered-in-error`",
    ),
    row(
        Consent,
        "attest_delegation",
        AUTHORITY_ONLY,
        "HIPAA §164.502(g); v3 RoleCode GUARD, HPOWATT",
    ),
    row(
        Consent,
        "revoke_delegation",
        &[caller(Patient, NONE)],
        "DOMAIN.md §1: the patient can revoke a delegation",
    ),
    row(
        Consent,
        "end_delegation",
        &[
            caller(RegistryAuthority, NONE),
            caller(RoleHolder, AUTHORITY),
        ],
        "HIPAA §164.502(g)(5): a court or authority ends a representation",
    ),
    row(
        Consent,
        "set_break_glass_policy",
        &[caller(RoleHolder, PROVIDER)],
        "HL7 v3 BTG; DOMAIN.md §1 break-glass policy (its own)",
    ),
    Row {
        refusal: Refusal::Recorded("DICOM 110113 security alert in the patient's trail"),
        ..row(
            Consent,
            "declare_break_glass",
            &[caller(BreakGlassMember, NONE)],
            "HL7 v3 PurposeOfUse ETREAT/BTG; DICOM DCID 7 110127",
        )
    },
    row(
        Consent,
        "close_break_glass",
        &[caller(SessionActor, NONE)],
        "DOMAIN.md §1 break-glass",
    ),
    row(
        Consent,
        "review_break_glass",
        &[
            caller(BreakGlassReviewer, NONE),
            caller(BreakGlassOrganisation, NONE),
        ],
        "DOMAIN.md §1 break-glass review (separation of duties)",
    ),
    row(
        Consent,
        "record_access",
        &[
            caller(RecordCustodian, NONE),
            caller(AccessAgent, NONE),
            caller(ContractForAgent, NONE),
        ],
        "HIPAA §164.528 accounting of disclosures; FHIR AuditEvent.agent",
    ),
    row(
        Consent,
        "record_disclosure",
        &[caller(RecordCustodian, NONE)],
        "HIPAA §164.528 accounting of disclosures; a release by the custodian's gateway (PRIVACY.md §5.6)",
    ),
    // ---- coverage ----
    row(
        Coverage,
        "set_coverage",
        &[caller(RoleHolder, PAYER)],
        "X12 271 (its own members)",
    ),
    row(
        Coverage,
        "publish_rules",
        &[caller(RoleHolder, PAYER)],
        "CMS-0057-F (its own rules)",
    ),
    row(
        Coverage,
        "set_reviewer",
        &[caller(RoleHolder, PAYER)],
        "42 CFR 438.210(b) (its own reviewers)",
    ),
    row(
        Coverage,
        "post_metrics",
        &[caller(RoleHolder, PAYER)],
        "CMS-0057-F metrics per service code, per period (its own; PRIVACY.md §5.5)",
    ),
    row(
        Coverage,
        "submit_sealed",
        &[caller(RoleHolder, BILLING_PROVIDER)],
        "X12 278 / Da Vinci PAS requester; the submission sealed to the payer (PRIVACY.md §5.5)",
    ),
    row(
        Coverage,
        "post_decision",
        PAYER_OR_REVIEWER,
        "42 CFR 438.210(b)(3), 42 CFR 422.566(d) (adverse actions by a clinician); PRIVACY.md §5.5",
    ),
    row(
        Coverage,
        "add_documentation",
        REQUESTER,
        "X12 275 / Da Vinci PAS attachments (delivered sealed; a commitment on chain)",
    ),
    row(
        Coverage,
        "extend_review",
        PAYER_OR_REVIEWER,
        "42 CFR 438.210(d)(1)(ii) extension",
    ),
    row(
        Coverage,
        "mark_overdue",
        &[caller(Anyone, NONE)],
        "CMS-0057-F decision timeframes (permissionless)",
    ),
    row(Coverage, "revise", REQUESTER, "X12 278 revision"),
    row(
        Coverage,
        "request_extension",
        REQUESTER,
        "X12 278 extension request",
    ),
    row(
        Coverage,
        "decide_extension",
        PAYER_OR_REVIEWER,
        "42 CFR 438.210(b)(3)",
    ),
    row(Coverage, "cancel", REQUESTER, "X12 278 HCR01 `C`"),
    row(
        Coverage,
        "appeal",
        &[caller(Requester, BILLING_PROVIDER), caller(Patient, NONE)],
        "42 CFR 438.402 appeals",
    ),
    row(
        Coverage,
        "decide_appeal",
        PAYER_OR_REVIEWER,
        "42 CFR 438.408 resolution; 42 CFR 422.590(h)(2) (not whoever made a decision appealed)",
    ),
    row(
        Coverage,
        "submit_claim",
        &[caller(RoleHolder, BILLING_PROVIDER)],
        "X12 837 (the billing NPI is the caller's attested one; the claim sealed to the payer, PRIVACY.md §5.5)",
    ),
    row(
        Coverage,
        "post_claim_check",
        PAYER_OR_REVIEWER,
        "X12 835 CARCs by the payer's agent (PRIVACY.md §5.5)",
    ),
    row(
        Coverage,
        "void_claim",
        &[caller(ClaimSubmitter, BILLING_PROVIDER)],
        "X12 837 CLM05-3 `8`",
    ),
    row(
        Coverage,
        "replace_claim",
        &[caller(ClaimSubmitter, BILLING_PROVIDER)],
        "X12 837 CLM05-3 `7`",
    ),
    // ---- supply ----
    row(
        Supply,
        "register_product",
        &[caller(
            PrefixHolder,
            &[Role::Manufacturer, Role::Repackager],
        )],
        "GS1 General Specifications §3.3.2 (holder of the GTIN's company prefix)",
    ),
    row(
        Supply,
        "repackage",
        &[caller(UnitOwner, &[Role::Repackager])],
        "EPCIS TransformationEvent; DSCSA §581(16) repackager (owns the output product and holds every input)",
    ),
    row(
        Supply,
        "commission",
        &[caller(ProductOwner, MANUFACTURER)],
        "DSCSA §582(b)(2) product identifier; EPCIS ObjectEvent ADD",
    ),
    row(Supply, "pack", OWNER, "EPCIS AggregationEvent ADD"),
    row(Supply, "pack_cases", OWNER, "EPCIS AggregationEvent ADD"),
    row(
        Supply,
        "ship",
        OWNER,
        "DSCSA §582 TI/TS; authorized trading partners",
    ),
    row(
        Supply,
        "receive",
        &[caller(ShipmentBuyer, TRADING_PARTNER)],
        "DSCSA §582: authorised when it takes ownership or custody, not only when shipped",
    ),
    row(
        Supply,
        "withdraw_shipment",
        &[caller(Shipper, NONE)],
        "DSCSA §582 (goods never stay in transit for want of an authorised receiver)",
    ),
    row(
        Supply,
        "consign",
        &[caller(Holder, TRADING_PARTNER)],
        "DSCSA §581(22): a 3PL takes custody, never ownership",
    ),
    row(
        Supply,
        "sell",
        &[caller(UnitOwner, TRADING_PARTNER)],
        "DSCSA §582 TI/TS for goods a 3PL holds",
    ),
    row(
        Supply,
        "dispatch",
        &[caller(SaleCustodian, &[Role::ThirdPartyLogistics])],
        "DSCSA §581(22): the 3PL ships the owner's sale",
    ),
    row(
        Supply,
        "cancel_sale",
        &[caller(Seller, NONE)],
        "DSCSA §582 (before dispatch)",
    ),
    row(Supply, "unpack", OWNER, "EPCIS AggregationEvent DELETE"),
    row(
        Supply,
        "prescribe",
        &[caller(RoleHolder, PRACTITIONER)],
        "NCPDP SCRIPT NewRx (prescriber)",
    ),
    row(
        Supply,
        "dispense",
        &[caller(UnitOwner, DISPENSER)],
        "DSCSA §582(d) dispenser verification",
    ),
    row(
        Supply,
        "accept_return",
        &[caller(ReturnSeller, TRADING_PARTNER)],
        "DSCSA §582(c)(4)(D) saleable returns",
    ),
    row(
        Supply,
        "report_sighting",
        &[caller(RoleHolder, TRADING_PARTNER)],
        "DSCSA §582(c)(4) suspect product",
    ),
    row(
        Supply,
        "recall",
        &[caller(ProductOwner, NONE)],
        "21 CFR 7.46 firm-initiated recall (a safety action: open to a suspended owner)",
    ),
    row(
        Supply,
        "suspect",
        &[
            caller(UnitOwner, NONE),
            caller(UnitCustodian, NONE),
            caller(RoleHolder, AUTHORITY),
        ],
        "DSCSA §582(c)(4)(A) quarantine (a safety action: open to a suspended owner)",
    ),
    row(
        Supply,
        "classify",
        INVESTIGATORS,
        "DSCSA §582(c)(4)(A)(ii) investigation",
    ),
    row(
        Supply,
        "record_notification",
        INVESTIGATORS,
        "DSCSA §582(c)(4)(B) FDA Form 3911 within 24 hours",
    ),
    row(
        Supply,
        "mark_overdue",
        &[caller(Anyone, NONE)],
        "DSCSA §582(c)(4)(B) (permissionless)",
    ),
    row(
        Supply,
        "hold",
        OWNER_EVEN_SUSPENDED,
        "CBV `holding` (a safety action)",
    ),
    row(Supply, "release", OWNER, "CBV `holding` → sellable"),
    row(
        Supply,
        "decommission",
        OWNER_EVEN_SUSPENDED,
        "EPCIS ObjectEvent DELETE, CBV `decommissioning` (a safety action)",
    ),
    row(
        Supply,
        "destroy",
        OWNER_EVEN_SUSPENDED,
        "EPCIS ObjectEvent DELETE, CBV `destroying` (a safety action)",
    ),
    row(
        Supply,
        "declare_error",
        &[caller(EventRecorder, NONE)],
        "EPCIS 2.0 §7.4.1.2 errorDeclaration",
    ),
    row(
        Supply,
        "extend_expiry",
        &[caller(ProductOwner, MANUFACTURER)],
        "GS1 LVM `ExpirationExtended`",
    ),
    row(
        Supply,
        "verify_recorded",
        &[caller(RoleHolder, TRADING_PARTNER)],
        "GS1 Lightweight Verification Messaging; DSCSA §582(d)(4) (every request and response recorded)",
    ),
];
