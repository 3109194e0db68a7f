//! The RPC server's doors against a real `salus dev` process, spoken to in raw HTTP/1.1 so that
//! the `Host`, `Origin` and `Authorization` headers are exactly what a browser or an attacker
//! would send: DNS rebinding and foreign origins get 403 before any method runs (HTTP and
//! WebSocket), named hosts and origins are answered with CORS headers, operator methods need the
//! cookie token (single calls, batches, WebSocket connections; the CLI sends it), a WebSocket
//! connection holds a bounded number of subscriptions, and malformed or out-of-range input is
//! refused with an error naming the field.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HeaderMap, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use salus_client::TransactionBuilder;
use salus_client::rpc::{CallRequest, EventFilter, SalusApiClient};
use salus_primitives::Address;

use crate::support::*;

/// Whether `response` holds a whole response: its headers, and then as many body bytes as
/// they announce (a 101 has none; the connection then belongs to the WebSocket).
fn complete(response: &[u8]) -> bool {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    if head.starts_with("HTTP/1.1 101") {
        return true;
    }
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|length| body.len() >= length)
}

/// One raw HTTP/1.1 exchange: the status code and the response as text (headers lowercased
/// for matching; the body as sent). Reads until the response is complete or the server closes.
fn exchange(address: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    while !complete(&response) {
        let read = stream.read(&mut chunk).unwrap_or(0);
        if read == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..read]);
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        status,
        format!("{}\r\n\r\n{body}", head.to_ascii_lowercase()),
    )
}

fn header_lines(headers: &[(&str, &str)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect()
}

/// A JSON-RPC POST with `Host: host` and extra headers.
fn post(address: &str, host: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    exchange(
        address,
        &format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{body}",
            body.len(),
            header_lines(headers)
        ),
    )
}

/// A WebSocket upgrade request with `Host: host` and extra headers.
fn upgrade(address: &str, host: &str, headers: &[(&str, &str)]) -> (u16, String) {
    exchange(
        address,
        &format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
            header_lines(headers)
        ),
    )
}

const CHAIN_HEAD: &str = r#"{"jsonrpc":"2.0","id":1,"method":"chain_head","params":[]}"#;
const DEV_MINE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"dev_mine","params":[1]}"#;

fn stranger_address() -> String {
    Address([0x42; 20]).to_string()
}

fn port(address: &str) -> &str {
    address.rsplit_once(':').map(|(_, port)| port).unwrap()
}

#[test]
fn a_rebinding_host_or_a_foreign_origin_never_reaches_a_method() {
    let node = DevProcess::start(0);
    let address = node.address.as_str();
    let rebound = format!("rebind.evil.example:{}", port(address));

    // DNS rebinding: a page's own name in `Host`, the node's address underneath.
    for host in ["rebind.evil.example", rebound.as_str()] {
        let (status, text) = post(address, host, &[], DEV_MINE);
        assert_eq!(status, 403, "{text}");
        assert!(!text.contains("jsonrpc"), "{text}");
        let (status, text) = upgrade(address, host, &[]);
        assert_eq!(status, 403, "{text}");
    }
    // A page of another origin, even through a local name.
    let origin = [("Origin", "http://evil.example")];
    let (status, text) = post(address, address, &origin, DEV_MINE);
    assert_eq!(status, 403, "{text}");
    let (status, text) = upgrade(address, address, &origin);
    assert!(!text.starts_with("http/1.1 101"), "{text}");
    assert_eq!(status, 403, "{text}");
    // A preflight from it is refused too.
    let (status, _) = exchange(
        address,
        &format!(
            "OPTIONS / HTTP/1.1\r\nHost: {address}\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 403);

    // None of those mined: the head is still genesis. Local names and IP addresses are
    // answered, and a WebSocket without an Origin (the CLI, scripts) upgrades.
    let (status, text) = post(address, address, &[], CHAIN_HEAD);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""number":0"#), "{text}");
    let localhost = format!("localhost:{}", port(address));
    let (status, text) = post(address, &localhost, &[], CHAIN_HEAD);
    assert_eq!(status, 200, "{text}");
    let (status, text) = upgrade(address, &localhost, &[]);
    assert_eq!(status, 101, "{text}");
}

#[test]
fn named_hosts_and_origins_are_answered_with_cors_headers() {
    let node = DevProcess::start_with(&[
        "--block-time-ms",
        "0",
        "--rpc-allowed-host",
        "node.example.org",
        "--rpc-cors",
        "http://localhost:3000",
    ]);
    let address = node.address.as_str();
    let named = format!("node.example.org:{}", port(address));
    let (status, text) = post(address, &named, &[], CHAIN_HEAD);
    assert_eq!(status, 200, "{text}");
    let (status, _) = post(address, "other.example.org", &[], CHAIN_HEAD);
    assert_eq!(status, 403);

    let app = [("Origin", "http://localhost:3000")];
    let (status, text) = exchange(
        address,
        &format!(
            "OPTIONS / HTTP/1.1\r\nHost: {address}\r\nOrigin: http://localhost:3000\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 204, "{text}");
    assert!(
        text.contains("access-control-allow-origin: http://localhost:3000"),
        "{text}"
    );
    assert!(text.contains("access-control-allow-headers: content-type, authorization"));
    let (status, text) = post(address, address, &app, CHAIN_HEAD);
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("access-control-allow-origin: http://localhost:3000"),
        "{text}"
    );
    let (status, text) = upgrade(address, address, &app);
    assert_eq!(status, 101, "{text}");
    let (status, _) = post(
        address,
        address,
        &[("Origin", "http://localhost:3001")],
        CHAIN_HEAD,
    );
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_methods_need_the_cookie_token_over_http_and_websocket() {
    use std::os::unix::fs::PermissionsExt;
    let node = DevProcess::start_networked(&[]);
    let cookie = node.dir.path().join("dev").join(".cookie");
    let mode = std::fs::metadata(&cookie).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the cookie is readable only by its owner"
    );
    let token = node.cookie_token();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
    let stranger = libp2p::PeerId::random().to_string();

    // Without a token, or with another, the operator methods refuse and name the cookie.
    let anonymous = HttpClientBuilder::default().build(node.http_url()).unwrap();
    for error in [
        anonymous
            .net_ban_peer(stranger.clone(), 60)
            .await
            .unwrap_err(),
        anonymous
            .net_unban_peer(stranger.clone())
            .await
            .unwrap_err(),
        anonymous
            .net_add_peer("/ip4/127.0.0.1/tcp/1".into())
            .await
            .unwrap_err(),
    ] {
        let error = error.to_string();
        assert!(
            error.contains("cookie") && error.contains("no bearer token"),
            "{error}"
        );
    }
    let mut wrong = HeaderMap::new();
    wrong.insert(
        "authorization",
        format!("Bearer {}", "0".repeat(64)).parse().unwrap(),
    );
    let impostor = HttpClientBuilder::default()
        .set_headers(wrong.clone())
        .build(node.http_url())
        .unwrap();
    let error = impostor
        .net_ban_peer(stranger.clone(), 60)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("not this node's"), "{error}");
    // Other methods answer whatever the token.
    assert!(impostor.node_info().await.unwrap().dev);
    // A batch does not smuggle one past the check.
    let batch = format!(
        r#"[{{"jsonrpc":"2.0","id":1,"method":"chain_head","params":[]}},{{"jsonrpc":"2.0","id":2,"method":"net_banPeer","params":["{stranger}",60]}}]"#
    );
    let (status, text) = post(&node.address, &node.address, &[], &batch);
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(r#""number":0"#) && text.contains("-32030"),
        "{text}"
    );

    // The CLI sends the cookie named by --rpc-cookie, and says so when it cannot read it.
    let query = |cookie: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_salus"))
            .args(["query", "account", &stranger_address(), "--rpc"])
            .arg(node.http_url())
            .arg("--rpc-cookie")
            .arg(cookie)
            .env("SALUS_DATA_DIR", node.dir.path().join("nowhere"))
            .output()
            .unwrap()
    };
    let answered = query(&cookie);
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    let refused = query(&node.dir.path().join("missing.cookie"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("RPC cookie"), "{stderr}");

    // With the token: accepted.
    let operator = node.operator_client();
    assert!(operator.net_ban_peer(stranger.clone(), 60).await.unwrap());
    assert!(operator.net_unban_peer(stranger.clone()).await.unwrap());

    // Over WebSocket the upgrade request's Authorization counts for the connection.
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let ws = WsClientBuilder::default()
        .set_headers(headers)
        .build(format!("ws://{}", node.address))
        .await
        .unwrap();
    assert!(ws.net_ban_peer(stranger.clone(), 60).await.unwrap());
    assert!(ws.net_unban_peer(stranger.clone()).await.unwrap());
    let anonymous_ws = WsClientBuilder::default()
        .build(format!("ws://{}", node.address))
        .await
        .unwrap();
    let error = anonymous_ws
        .net_ban_peer(stranger.clone(), 60)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("cookie"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_out_of_range_input_is_refused_naming_the_field() {
    let node = DevProcess::start(0);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let chain_id = salus_node::genesis::DEV_CHAIN_ID;

    // A transaction followed by one more byte: refused, single or in a batch.
    let mut alice = TransactionBuilder::new(chain_id, dev_key(1), 0);
    let transfer = alice.transfer(Address([7; 20]), 1);
    let trailing = format!("0x{}00", hex::encode(transfer.encode()));
    let error = http
        .tx_submit(trailing.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("transaction") && error.contains("1 trailing byte"),
        "{error}"
    );
    let outcomes = http.tx_submit_batch(vec![trailing]).await.unwrap();
    assert!(
        outcomes[0]
            .error
            .as_deref()
            .is_some_and(|error| error.contains("trailing")),
        "{outcomes:?}"
    );
    // The exact encoding is taken.
    let exact = format!("0x{}", hex::encode(transfer.encode()));
    assert_eq!(
        http.tx_submit(exact).await.unwrap(),
        transfer.hash().to_string()
    );

    // The dev clock does not wrap.
    let error = http
        .dev_increase_time(u64::MAX)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("ms:"), "{error}");
    assert_eq!(http.dev_increase_time(1_000).await.unwrap(), 1_000);
    let error = http
        .dev_increase_time(u64::MAX - 500)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("ms:"), "{error}");
    assert_eq!(http.dev_increase_time(1).await.unwrap(), 1_001);

    let error = http.dev_mine(1_001).await.unwrap_err().to_string();
    assert!(error.contains("blocks:"), "{error}");

    let filter = |from: Option<u64>, to: Option<u64>, limit: Option<u32>| EventFilter {
        contract: Address([1; 20]).to_string(),
        from_block: from,
        to_block: to,
        limit,
        ..EventFilter::default()
    };
    for (bad, field) in [
        (filter(None, None, Some(0)), "limit"),
        (filter(None, None, Some(1_001)), "limit"),
        (filter(Some(5), Some(3), None), "fromBlock"),
    ] {
        let error = http.events_query(bad).await.unwrap_err().to_string();
        assert!(error.contains(field), "{error}");
    }
    let mut cursor = filter(None, None, None);
    cursor.after = Some("1:2".into());
    let error = http.events_query(cursor).await.unwrap_err().to_string();
    assert!(error.contains("after"), "{error}");

    let call = |fuel: Option<u64>, value: Option<&str>| CallRequest {
        contract: "0x0000000000000000000000000000000000000100".into(),
        input: "0x".into(),
        value: value.map(str::to_string),
        fuel,
        ..CallRequest::default()
    };
    let error = http
        .state_call(call(Some(u64::MAX), None))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("fuel:"), "{error}");
    let error = http
        .state_call(call(None, Some("340282366920938463463374607431768211456")))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("value:"), "{error}");

    let error = http
        .net_ban_peer(libp2p::PeerId::random().to_string(), u64::MAX)
        .await
        .unwrap_err()
        .to_string();
    // Without the token the call never reaches the method; with it, the field is named.
    assert!(error.contains("cookie"), "{error}");
    let error = node
        .operator_client()
        .net_ban_peer(libp2p::PeerId::random().to_string(), u64::MAX)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("seconds:"), "{error}");

    // A parameter of the wrong type is a JSON-RPC error too, and the node keeps serving.
    let wrong: Result<serde_json::Value, _> =
        http.request("dev_increaseTime", rpc_params![-1]).await;
    assert!(wrong.is_err());
    assert_eq!(http.chain_head().await.unwrap().number, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_connection_holds_a_bounded_number_of_subscriptions() {
    use salus_node::service::rpc_limits::MAX_SUBSCRIPTIONS_PER_CONNECTION;
    let node = DevProcess::start(0);
    let ws = WsClientBuilder::default()
        .max_concurrent_requests(4 * MAX_SUBSCRIPTIONS_PER_CONNECTION as usize)
        .build(format!("ws://{}", node.address))
        .await
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
        held.push(ws.chain_subscribe_new_heads().await.unwrap());
    }
    let refused = ws
        .chain_subscribe_new_heads()
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(refused.to_string().contains("subscriptions"), "{refused}");
    // Ending one frees its place (once its task has seen the unsubscription: polled), and the
    // connection keeps serving calls.
    held.pop().unwrap().unsubscribe().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // Polled, not spun: on a loaded machine a tight loop of refused attempts kept failing for a
    // whole minute (the client's bounded concurrent requests are the likely cause).
    while ws.chain_subscribe_new_heads().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the ended subscription kept its place"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ws.chain_head().await.unwrap().number, 0);
}
