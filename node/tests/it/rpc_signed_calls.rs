//! Signed dry runs (PRIVACY.md §5.7) through `salus dev` over JSON-RPC and the `salus call`
//! command: a view that checks its caller answers a request its caller signed; unsigned, a dry
//! run runs as the zero address, and a request naming a caller it cannot prove, expired, signed
//! too far ahead, for another chain, or changed after signing is refused with its own error
//! code. Views that check no caller answer unsigned.

use std::process::Output;

use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, CallRequest, CallResultView, SalusApiClient};
use salus_client::{CallAt, ContractAbi, DryRun, TransactionBuilder};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::{Address, SecretKey};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key};

/// `codes::CALL_SIGNATURE_REFUSED` of the node's RPC server.
const CALL_SIGNATURE_REFUSED: i32 = -32060;
/// JSON-RPC's invalid parameters.
const INVALID_PARAMS: i32 = -32602;
const MINUTE_MS: u64 = 60 * 1000;

fn wall_clock_ms() -> u64 {
    salus_node::wall_clock_ms()
}

async fn abi(http: &HttpClient, contract: Address) -> ContractAbi {
    serde_json::from_value(
        http.contract_abi(contract.to_string())
            .await
            .unwrap()
            .expect("ABI on chain"),
    )
    .unwrap()
}

/// `patient` grants a consent (an entry in its accounting of disclosures); returns its block.
async fn grant(http: &HttpClient, consent: &ContractAbi, patient: &SecretKey) -> u64 {
    let now = http.chain_head().await.unwrap().timestamp_ms;
    let input = consent
        .encode_call(
            "grant",
            &json!([
                patient.address().to_string(),
                "patient-privacy",
                "59284-0",
                { "start_ms": now.to_string(), "end_ms": (now + 30 * 24 * 60 * MINUTE_MS).to_string() },
                "Permit",
                [],
                format!("0x{}", "22".repeat(32)),
                null
            ]),
        )
        .unwrap();
    let transaction = TransactionBuilder::new(DEV_CHAIN_ID, patient.clone(), 0)
        .fuel(20_000_000, 1)
        .call(DEV_CONSENT_ADDRESS, input);
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    http.dev_mine(1).await.unwrap();
    let receipt = http.tx_receipt(hash).await.unwrap().expect("included");
    assert_eq!(receipt.status, "success", "grant: {:?}", receipt.failure);
    receipt.block_number
}

/// The consent contract's `accounting` of `patient`'s whole trail, as a dry run to send.
fn accounting(consent: &ContractAbi, patient: Address, limit: u32) -> DryRun {
    let input = consent
        .encode_call(
            "accounting",
            &json!([patient.to_string(), "0", u64::MAX.to_string(), null, limit]),
        )
        .unwrap();
    DryRun::new(DEV_CONSENT_ADDRESS, input)
}

fn answer(consent: &ContractAbi, outcome: &CallResultView) -> Value {
    assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
    consent
        .decode_result(
            "accounting",
            &hex::decode(&outcome.return_data[2..]).unwrap(),
        )
        .unwrap()
}

/// The view ran and refused its caller.
fn assert_not_authorised(outcome: &CallResultView) {
    assert_eq!(outcome.status, "reverted", "{outcome:?}");
    let failure = outcome.failure.as_deref().unwrap_or_default();
    assert!(failure.contains("NotAuthorised"), "{failure}");
}

/// The node refused the request before running it: its error code and message.
fn refusal(result: Result<CallResultView, ClientError>) -> (i32, String) {
    match result {
        Err(ClientError::Call(error)) => (error.code(), error.message().to_string()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_that_checks_its_caller_answers_only_its_signed_caller() {
    let node = DevProcess::start(0);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let consent = abi(&http, DEV_CONSENT_ADDRESS).await;
    let (patient, impostor) = (dev_key(3), dev_key(4));
    let grant_block = grant(&http, &consent, &patient).await;
    let call = accounting(&consent, patient.address(), 100);
    let expires_ms = wall_clock_ms() + 2 * MINUTE_MS;

    // Signed by the patient: the accounting answers, with the grant in it.
    let signed = call.signed(DEV_CHAIN_ID, &patient, expires_ms);
    let trail = answer(&consent, &http.state_call(signed.clone()).await.unwrap());
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
    assert_eq!(trail[0]["reason"], "consent granted");
    // As of an earlier block too, the block being part of what is signed.
    let at_grant =
        call.clone()
            .at(CallAt::Number(grant_block))
            .signed(DEV_CHAIN_ID, &patient, expires_ms);
    assert_eq!(
        answer(&consent, &http.state_call(at_grant.clone()).await.unwrap()),
        trail
    );

    // Unsigned, it runs as the zero address, which the view refuses.
    assert_not_authorised(&http.state_call(call.unsigned()).await.unwrap());
    // Naming the zero address is the same request.
    let zero = CallRequest {
        from: Some(Address::ZERO.to_string()),
        ..call.unsigned()
    };
    assert_not_authorised(&http.state_call(zero).await.unwrap());
    // Naming the patient without a signature is refused: nothing runs as a claimed caller.
    let claimed = CallRequest {
        from: Some(patient.address().to_string()),
        ..call.unsigned()
    };
    let (code, message) = refusal(http.state_call(claimed).await);
    assert_eq!(code, CALL_SIGNATURE_REFUSED, "{message}");
    assert!(message.contains("without a signature"), "{message}");

    // Someone else's signature over a request naming the patient as `from` is refused, naming
    // the signer.
    let forged = call
        .to_sign(DEV_CHAIN_ID, patient.address(), expires_ms)
        .sign(&impostor);
    let impersonation = CallRequest {
        signature: Some(format!("0x{}", hex::encode(forged.0))),
        ..signed.clone()
    };
    let (code, message) = refusal(http.state_call(impersonation).await);
    assert_eq!(code, CALL_SIGNATURE_REFUSED, "{message}");
    assert!(
        message.contains(&impostor.address().to_string()) && message.contains("not `from`"),
        "{message}"
    );
    // Signing as itself, the impostor runs as itself: the view refuses it.
    assert_not_authorised(
        &http
            .state_call(call.signed(DEV_CHAIN_ID, &impostor, expires_ms))
            .await
            .unwrap(),
    );

    // A valid signature over other fields than those sent: another input, block, value, expiry.
    let other_input = accounting(&consent, patient.address(), 99).unsigned().input;
    let tampered = [
        (
            "input",
            CallRequest {
                input: other_input,
                ..signed.clone()
            },
        ),
        (
            "at",
            CallRequest {
                at: Some(BlockId::Number(grant_block - 1)),
                ..at_grant.clone()
            },
        ),
        (
            "value",
            CallRequest {
                value: Some("1".into()),
                ..signed.clone()
            },
        ),
        (
            "expiresMs",
            CallRequest {
                expires_ms: Some(expires_ms + 1),
                ..signed.clone()
            },
        ),
    ];
    for (field, request) in tampered {
        let (code, message) = refusal(http.state_call(request).await);
        assert_eq!(code, CALL_SIGNATURE_REFUSED, "{field}: {message}");
        assert!(message.contains("signature"), "{field}: {message}");
    }
    // A signature for another chain does not carry over.
    let (code, message) = refusal(
        http.state_call(call.signed(DEV_CHAIN_ID + 1, &patient, expires_ms))
            .await,
    );
    assert_eq!(code, CALL_SIGNATURE_REFUSED, "{message}");

    // Expired, or expiring further ahead than the node allows (10 minutes).
    let expired = call.signed(DEV_CHAIN_ID, &patient, wall_clock_ms() - 1_000);
    let (code, message) = refusal(http.state_call(expired).await);
    assert_eq!(code, CALL_SIGNATURE_REFUSED, "{message}");
    assert!(message.contains("expired"), "{message}");
    let far = call.signed(DEV_CHAIN_ID, &patient, wall_clock_ms() + 11 * MINUTE_MS);
    let (code, message) = refusal(http.state_call(far).await);
    assert_eq!(code, CALL_SIGNATURE_REFUSED, "{message}");
    assert!(message.contains("10 minutes"), "{message}");

    // Malformed: a signature without an expiry, an expiry without a signature, a short
    // signature, a signed request naming nobody.
    let malformed = [
        (
            INVALID_PARAMS,
            CallRequest {
                expires_ms: None,
                ..signed.clone()
            },
        ),
        (
            INVALID_PARAMS,
            CallRequest {
                expires_ms: Some(expires_ms),
                ..call.unsigned()
            },
        ),
        (
            CALL_SIGNATURE_REFUSED,
            CallRequest {
                signature: Some("0x1234".into()),
                ..signed.clone()
            },
        ),
        (
            INVALID_PARAMS,
            CallRequest {
                from: None,
                ..signed.clone()
            },
        ),
    ];
    for (expected, request) in malformed {
        let (code, message) = refusal(http.state_call(request.clone()).await);
        assert_eq!(code, expected, "{request:?}: {message}");
    }

    // The node served on, and the signed request still answers (repeatable until it expires).
    assert_eq!(
        answer(&consent, &http.state_call(signed).await.unwrap()),
        trail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_that_check_no_caller_answer_unsigned() {
    let node = DevProcess::start(0);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let consent = abi(&http, DEV_CONSENT_ADDRESS).await;
    let registry = abi(&http, DEV_REGISTRY_ADDRESS).await;

    // The registry's participant view: the dev authority registered nobody yet.
    let input = registry
        .encode_call("participant", &json!([dev_key(3).address().to_string()]))
        .unwrap();
    let outcome = http
        .state_call(DryRun::new(DEV_REGISTRY_ADDRESS, input).unsigned())
        .await
        .unwrap();
    assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
    assert_eq!(
        registry
            .decode_result(
                "participant",
                &hex::decode(&outcome.return_data[2..]).unwrap()
            )
            .unwrap(),
        Value::Null
    );

    // Consent's can_access: a decision for anyone who asks (an unregistered actor is denied,
    // with the reason).
    let input = consent
        .encode_call(
            "can_access",
            &json!([
                dev_key(5).address().to_string(),
                "PRCP",
                "Access",
                format!("0x{}", "a1".repeat(32)),
                "TREAT",
                null,
                null
            ]),
        )
        .unwrap();
    let outcome = http
        .state_call(DryRun::new(DEV_CONSENT_ADDRESS, input).unsigned())
        .await
        .unwrap();
    assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
    let decision = consent
        .decode_result(
            "can_access",
            &hex::decode(&outcome.return_data[2..]).unwrap(),
        )
        .unwrap();
    assert_eq!(decision["decision"], "Deny", "{decision}");
}

fn salus(node: &DevProcess, args: &[&str]) -> Output {
    node.salus(args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salus_call_signs_with_from_and_runs_unsigned_without() {
    let node = DevProcess::start(0);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let consent = abi(&http, DEV_CONSENT_ADDRESS).await;
    let patient = dev_key(3);
    grant(&http, &consent, &patient).await;
    let contract = DEV_CONSENT_ADDRESS.to_string();
    let args = json!([
        patient.address().to_string(),
        "0",
        u64::MAX.to_string(),
        null,
        10
    ])
    .to_string();
    let call = |from: Option<&str>| {
        let mut arguments = vec![
            "call",
            "--contract",
            &contract,
            "--message",
            "accounting",
            "--args",
            &args,
        ];
        if let Some(from) = from {
            arguments.extend(["--from", from]);
        }
        salus(&node, &arguments)
    };

    let signed = call(Some("dev:3"));
    let stdout = String::from_utf8_lossy(&signed.stdout);
    assert!(signed.status.success(), "{stdout}");
    assert!(
        stdout.contains("\"status\": \"success\"") && stdout.contains("consent granted"),
        "{stdout}"
    );

    let unsigned = call(None);
    let stdout = String::from_utf8_lossy(&unsigned.stdout);
    assert!(unsigned.status.success(), "{stdout}");
    assert!(
        stdout.contains("\"status\": \"reverted\"") && stdout.contains("NotAuthorised"),
        "{stdout}"
    );

    // An address cannot sign: refused before anything is sent, saying what to give instead.
    let address = patient.address().to_string();
    let refused = call(Some(&address));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("key name or dev:N"), "{stderr}");
}
