//! The console over plain HTTP, as an adversary would reach it: the doors, the headers, escaping, limits.
//!
//! Every request is written byte for byte on a TCP socket, so that `Host`, `Origin`, `Accept`
//! and the request target are exactly what a rebinding page, a cross-site page or a crafted
//! client would send. Dev account 3 signs the transactions (contract deploys and calls).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use jsonrpsee::http_client::{HeaderMap, HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_REGISTRY_ADDRESS};
use salus_primitives::{Address, Hash, SignedTransaction, keccak256};
use serde_json::json;

use crate::support::*;

/// How long one answer may take before the test calls it a hang.
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

/// The content security policy's parts every page must carry.
const POLICY_PARTS: [&str; 3] = [
    "script-src 'self'",
    "default-src 'none'",
    "frame-ancestors 'none'",
];

/// An HTTP answer: its status, its headers (names lowercased) and its body, as text and as
/// bytes.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    bytes: Vec<u8>,
}

impl Answer {
    /// The value of header `name`, if sent.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// An answer parsed from `bytes`, once they hold a whole one: the head, then the body its
/// headers announce (none for 101, 204 and 304; chunks until the last; else until the close).
/// Lengths are counted in bytes, so a binary body (the key module) is read whole.
fn parse_answer(bytes: &[u8], closed: bool) -> Option<Answer> {
    let head_end = bytes.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let body = &bytes[head_end + 4..];
    let mut lines = head.lines();
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let mut answer = Answer {
        status,
        headers,
        body: String::new(),
        bytes: Vec::new(),
    };
    if matches!(status, 101 | 204 | 304) {
        return Some(answer);
    }
    if answer.header("transfer-encoding") == Some("chunked") {
        let mut rest = body;
        loop {
            let line_end = rest.windows(2).position(|window| window == b"\r\n")?;
            let size = std::str::from_utf8(&rest[..line_end]).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let after = &rest[line_end + 2..];
            if size == 0 {
                answer.body = String::from_utf8_lossy(&answer.bytes).into_owned();
                return Some(answer);
            }
            answer.bytes.extend_from_slice(after.get(..size)?);
            rest = after.get(size + 2..)?;
        }
    }
    let length = answer
        .header("content-length")
        .and_then(|length| length.parse::<usize>().ok());
    match length {
        Some(length) if body.len() >= length => answer.bytes = body[..length].to_vec(),
        _ if closed => answer.bytes = body.to_vec(),
        _ => return None,
    }
    answer.body = String::from_utf8_lossy(&answer.bytes).into_owned();
    Some(answer)
}

/// Sends one raw request to `address` and reads its answer; panics if none comes within
/// [`ANSWER_DEADLINE`] (a hang) or the connection closes without one.
fn exchange(address: &str, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(ANSWER_DEADLINE)).unwrap();
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(read) => read,
            Err(error) => panic!(
                "no whole answer within {ANSWER_DEADLINE:?} ({error}); got {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        };
        bytes.extend_from_slice(&chunk[..read]);
        if let Some(answer) = parse_answer(&bytes, read == 0) {
            return answer;
        }
        assert!(
            read != 0,
            "closed without an answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// A request of `method` for `target` with `Host: host`, the extra `headers` and `body`; the
/// connection closes after the answer unless the request is a WebSocket upgrade.
fn request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Vec<u8> {
    let mut text = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("upgrade"))
    {
        text.push_str("Connection: close\r\n");
    }
    if !body.is_empty() || method == "POST" {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// `GET target` from the node itself (`Host` its own address), with extra headers.
fn get(node: &DevProcess, target: &str, headers: &[(&str, &str)]) -> Answer {
    exchange(
        &node.address,
        &request("GET", target, &node.address, headers, ""),
    )
}

/// A WebSocket upgrade of `/` with `Host: host` and extra headers.
fn upgrade(node: &DevProcess, host: &str, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    all.extend_from_slice(headers);
    exchange(&node.address, &request("GET", "/", host, &all, ""))
}

/// A JSON-RPC request for the head.
const CHAIN_HEAD: &str = r#"{"jsonrpc":"2.0","id":1,"method":"chain_head","params":[]}"#;

/// A JSON-RPC `chain_head` POST with `Host: host` and extra headers.
fn post_chain_head(node: &DevProcess, host: &str, headers: &[(&str, &str)]) -> Answer {
    exchange(
        &node.address,
        &request("POST", "/", host, headers, CHAIN_HEAD),
    )
}

/// The node's RPC port, as text.
fn port(node: &DevProcess) -> &str {
    node.address.rsplit_once(':').unwrap().1
}

/// A JSON-RPC client of the node.
fn http_client(node: &DevProcess) -> HttpClient {
    HttpClientBuilder::default().build(node.http_url()).unwrap()
}

/// Submits `transactions` in order, mines one block and returns their receipts (all included).
async fn mine(http: &HttpClient, transactions: &[SignedTransaction]) -> Vec<ReceiptView> {
    for transaction in transactions {
        http.tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .unwrap();
    }
    http.dev_mine(1).await.unwrap();
    let mut receipts = Vec::new();
    for transaction in transactions {
        let hash = transaction.hash().to_string();
        let receipt = http.tx_receipt(hash.clone()).await.unwrap();
        receipts.push(receipt.unwrap_or_else(|| panic!("{hash} was not included")));
    }
    receipts
}

#[test]
fn a_rebinding_host_or_a_foreign_origin_gets_no_page_and_no_rpc() {
    let node = DevProcess::start(0);
    let port = port(&node);

    // DNS rebinding: the attacker's name in `Host`, the node's address underneath.
    for host in [
        "rebind.evil.example".to_string(),
        format!("rebind.evil.example:{port}"),
    ] {
        let answer = exchange(&node.address, &request("GET", "/ui/", &host, &[], ""));
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert!(!answer.body.contains("<html"), "{}", answer.body);
        let answer = exchange(&node.address, &request("GET", "/ui/status", &host, &[], ""));
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    let localhost = format!("localhost:{port}");
    let answer = exchange(&node.address, &request("GET", "/ui/", &localhost, &[], ""));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("Recent blocks"), "{}", answer.body);

    // The node's own origin (the console's script) reaches the RPC and its WebSocket.
    let own = format!("http://127.0.0.1:{port}");
    let host = format!("127.0.0.1:{port}");
    let answer = post_chain_head(&node, &host, &[("Origin", &own)]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains(r#""number":0"#), "{}", answer.body);
    assert_eq!(upgrade(&node, &host, &[("Origin", &own)]).status, 101);
    let own_localhost = format!("http://localhost:{port}");
    assert_eq!(
        upgrade(&node, &localhost, &[("Origin", &own_localhost)]).status,
        101
    );

    // Another site's page, an origin that only looks like the node's, or the node under
    // another name than the request's `Host`, does not.
    let other_port = format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1);
    let lookalike = format!("http://127.0.0.1:{port}.evil.example");
    let other_scheme = format!("file://127.0.0.1:{port}");
    for origin in [
        "http://evil.example",
        lookalike.as_str(),
        other_port.as_str(),
        own_localhost.as_str(),
        other_scheme.as_str(),
        "null",
    ] {
        let answer = post_chain_head(&node, &host, &[("Origin", origin)]);
        assert_eq!(answer.status, 403, "POST from {origin}: {}", answer.body);
        assert!(!answer.body.contains("jsonrpc"), "{}", answer.body);
        let answer = upgrade(&node, &host, &[("Origin", origin)]);
        assert_eq!(answer.status, 403, "upgrade from {origin}");
        let answer = get(&node, "/ui/", &[("Origin", origin)]);
        assert_eq!(answer.status, 403, "page fetched from {origin}");
    }
}

#[test]
fn every_answer_carries_the_security_headers_and_assets_are_revalidated() {
    let node = DevProcess::start(0);
    let home = get(&node, "/ui/", &[]);
    assert_eq!(home.status, 200, "{}", home.body);
    let stylesheet = home
        .body
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap())
        .find(|href| href.starts_with("/ui/assets/console.css"))
        .expect("the page names its stylesheet");
    let script = home
        .body
        .split("src=\"")
        .map(|rest| rest.split('"').next().unwrap())
        .find(|src| src.starts_with("/ui/assets/console.js"))
        .expect("the page names its script");

    let pages = [
        ("/ui/", 200),
        ("/ui/?fragment=main", 200),
        ("/ui/block/0", 200),
        ("/ui/status", 200),
        ("/ui/block/99999", 404),
        ("/ui/block/nonsense", 400),
        ("/ui/no-such-page", 404),
        ("/ui/%ff", 404),
    ];
    for (path, status) in pages {
        let answer = get(&node, path, &[]);
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert_security_headers(path, &answer);
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            answer.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
    }
    // The refusals written before any page (405, 414) carry them too.
    let answer = exchange(
        &node.address,
        &request("POST", "/ui/", &node.address, &[], "{}"),
    );
    assert_security_headers("POST /ui/", &answer);

    for asset in [stylesheet, script] {
        let answer = get(&node, asset, &[]);
        assert_eq!(answer.status, 200, "{asset}");
        assert!(!answer.body.is_empty(), "{asset}");
        let tag = answer
            .header("etag")
            .expect("an asset has an entity tag")
            .to_string();
        // The version in the address is the tag: a new binary's pages name new files.
        assert!(asset.ends_with(tag.trim_matches('"')), "{asset} vs {tag}");
        let again = get(&node, asset, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{asset}");
        assert!(again.body.is_empty());
        let listed = format!("\"0000\", {tag}");
        assert_eq!(get(&node, asset, &[("If-None-Match", &listed)]).status, 304);
        let stale = get(&node, asset, &[("If-None-Match", "\"0000\"")]);
        assert_eq!(stale.status, 200, "{asset}");
        assert_eq!(stale.body, answer.body);
        assert_security_headers(asset, &answer);
    }
}

/// Asserts the headers that keep an answer from running foreign code, being framed, sniffed or
/// leaking its address.
fn assert_security_headers(what: &str, answer: &Answer) {
    let policy = answer
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no content security policy: {:?}", answer.headers));
    for part in POLICY_PARTS {
        assert!(policy.contains(part), "{what}: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-eval"), "{what}: {policy}");
    assert_eq!(
        answer.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        answer.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
}

/// A contract whose ABI a hostile deployer wrote: markup in its message, argument, event and
/// field names. Its `call` emits one event whose data is the SCALE string `event_text`.
fn hostile_contract(event_text: &str) -> Vec<u8> {
    let abi = json!({
        "abi_version": 1,
        "contract": "<script>alert(0)</script>",
        "reentrant": false,
        "constructor": null,
        "messages": [{
            "name": "<script>alert(1)</script>",
            "selector": "0xdeadbeef",
            "args": [{ "name": "\"><img src=x onerror=alert(2)>", "type": "String" }],
            "returns": null,
            "error": null,
            "view": false
        }],
        "events": [{
            "name": "<script>alert(4)</script>",
            "signature": format!("0x{}", "11".repeat(32)),
            "fields": [{ "name": "\"><img src=x onerror=alert(5)>", "type": "String" }]
        }],
        "errors": []
    });
    let data = event_text.to_string().encode();
    let wat_bytes = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|byte| format!("\\{byte:02x}"))
            .collect::<String>()
    };
    let module = format!(
        r#"(module
  (import "salus" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{topic}")
  (data (i32.const 64) "{data}")
  (func (export "call")
    (call $emit (i32.const 0) (i32.const 1) (i32.const 64) (i32.const {length}))))"#,
        topic = wat_bytes(&[0x11; 32]),
        data = wat_bytes(&data),
        length = data.len(),
    );
    let mut code = wat::parse_str(module).unwrap();
    append_custom_section(&mut code, "salus_abi", abi.to_string().as_bytes());
    code
}

/// Appends custom section `name` holding `data` to a Wasm module.
fn append_custom_section(module: &mut Vec<u8>, name: &str, data: &[u8]) {
    fn leb128(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    module.push(0);
    leb128(payload.len(), module);
    module.extend_from_slice(&payload);
}

/// The escaped form maud writes for `text`.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Asserts that `page` holds no raw markup of the hostile texts and holds each of `shown`
/// escaped (so the page did render them).
fn assert_escaped(path: &str, page: &Answer, shown: &[&str]) {
    for raw in ["<script>alert", "<img src=x"] {
        assert!(
            !page.body.contains(raw),
            "{path} holds raw `{raw}`:\n{}",
            page.body
        );
    }
    for text in shown {
        assert!(
            page.body.contains(&escaped(text)),
            "{path} does not show `{text}` escaped:\n{}",
            page.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_a_hostile_user_put_on_chain_is_written_escaped() {
    let node = DevProcess::start(0);
    let http = http_client(&node);
    let registry: ContractAbi = serde_json::from_value(
        http.contract_abi(DEV_REGISTRY_ADDRESS.to_string())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let key = dev_key(3);
    let mut sender = TransactionBuilder::new(DEV_CHAIN_ID, key.clone(), 0).fuel(20_000_000, 1);

    // A contract with a hostile ABI, called with a hostile string, emitting another.
    let argument = "<script>alert(3)</script>";
    let event_text = "<script>alert(6)</script>\"><img src=x onerror=alert(6)>";
    let code = hostile_contract(event_text);
    let salt = Hash([0x5a; 32]);
    let contract = Address::contract(&key.address(), &keccak256(&code), &salt);
    let deploy = sender.deploy(code, Vec::new(), salt);
    let mut input = hex::decode("deadbeef").unwrap();
    input.extend(argument.to_string().encode());
    let hostile_call = sender.call(contract, input);
    // A registry registration by a stranger: refused, but its arguments are on chain.
    let npi = "<script>alert(7)</script>";
    let gln = "\"><img src=x onerror=alert(8)>";
    let arguments = json!([
        key.address().to_string(),
        ["Payer"],
        npi,
        gln,
        null,
        "0",
        "1",
        Hash([0; 32]).to_string()
    ]);
    let register = sender.call(
        DEV_REGISTRY_ADDRESS,
        registry.encode_call("register", &arguments).unwrap(),
    );
    let receipts = mine(&http, &[deploy, hostile_call.clone(), register.clone()]).await;
    assert_eq!(receipts[0].status, "success", "{:?}", receipts[0].failure);
    assert_eq!(receipts[1].status, "success", "{:?}", receipts[1].failure);
    assert_eq!(receipts[1].events.len(), 1);
    assert_ne!(receipts[2].status, "success");

    let call_page = format!("/ui/tx/{}", hostile_call.hash());
    let register_page = format!("/ui/tx/{}", register.hash());
    let shown_by_call = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        argument,
        "<script>alert(4)</script>",
        "\"><img src=x onerror=alert(5)>",
        event_text,
    ];
    for path in [call_page.clone(), format!("{call_page}?fragment=main")] {
        let page = get(&node, &path, &[]);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_escaped(&path, &page, &shown_by_call);
    }
    let page = get(&node, &register_page, &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_escaped(&register_page, &page, &[npi, gln]);
    // Lists name the hostile message too.
    for path in ["/ui/", "/ui/block/1"] {
        let page = get(&node, path, &[]);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_escaped(path, &page, &["<script>alert(1)</script>"]);
    }
    let account = format!("/ui/account/{contract}");
    let page = get(&node, &account, &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_escaped(&account, &page, &[]);

    // What a visitor types is echoed escaped in the error pages.
    for (path, echoed) in [
        (
            "/ui/search?q=%3Cscript%3Ealert(9)%3C%2Fscript%3E",
            "<script>alert(9)</script>",
        ),
        (
            "/ui/block/%22%3E%3Cimg%20src=x%20onerror=alert(10)%3E",
            "\"><img src=x onerror=alert(10)>",
        ),
        (
            "/ui/account/%3Cscript%3Ealert(11)%3C%2Fscript%3E",
            "<script>alert(11)</script>",
        ),
    ] {
        let page = get(&node, path, &[]);
        assert_eq!(page.status, 400, "{path}: {}", page.body);
        assert_escaped(path, &page, &[echoed]);
    }
}

#[test]
fn methods_sizes_and_addresses_outside_the_console_are_refused_without_a_panic() {
    let node = DevProcess::start(0);

    let answer = exchange(
        &node.address,
        &request("POST", "/ui/", &node.address, &[], CHAIN_HEAD),
    );
    assert_eq!(answer.status, 405, "{}", answer.body);
    assert!(!answer.body.contains("<html"), "{}", answer.body);
    for method in ["PUT", "DELETE"] {
        let answer = exchange(
            &node.address,
            &request(method, "/ui/status", &node.address, &[], ""),
        );
        assert_eq!(answer.status, 405, "{method}: {}", answer.body);
    }
    let head = exchange(
        &node.address,
        &request("HEAD", "/ui/", &node.address, &[], ""),
    );
    assert_eq!(head.status, 200);

    let long = format!("/ui/search?q={}", "a".repeat(3_000));
    assert_eq!(get(&node, &long, &[]).status, 414);
    let long = format!("/ui/{}", "b".repeat(3_000));
    assert_eq!(get(&node, &long, &[]).status, 414);

    // Addresses that only look like the console's are not pages.
    for path in [
        "/ui/../",
        "/ui/%2e%2e/status",
        "/ui/%ff",
        "/ui/%00",
        "/ui/assets/..%2f..%2fCargo.toml",
        "/ui/assets/console.css%00",
        "/ui/assets/nothing.js",
    ] {
        let answer = get(&node, path, &[]);
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert!(!answer.body.contains("[workspace]"), "{path}");
    }
    let answer = get(&node, "/uix", &[]);
    assert!(
        answer.status >= 400 && answer.status < 500,
        "/uix: {}",
        answer.status
    );
    assert!(!answer.body.contains("<html"), "/uix: {}", answer.body);

    // Unknown things are 404 with a message; malformed ones 400.
    let unknown_hash = format!("0x{}", "ab".repeat(32));
    for (path, status, message) in [
        ("/ui/block/99999".to_string(), 404, "no block 99999"),
        (format!("/ui/block/{unknown_hash}"), 404, "no block"),
        (format!("/ui/tx/{unknown_hash}"), 404, "no transaction"),
        (
            format!("/ui/search?q={unknown_hash}"),
            404,
            "no block or transaction",
        ),
        ("/ui/tx/0x12".to_string(), 400, ""),
        (format!("/ui/tx/{unknown_hash}00"), 400, ""),
        ("/ui/tx/not-a-hash".to_string(), 400, ""),
        ("/ui/block/0xzz".to_string(), 400, "neither a block number"),
        (
            format!("/ui/block/{}", "9".repeat(40)),
            400,
            "neither a block number",
        ),
        ("/ui/account/0x12".to_string(), 400, "not a 0x address"),
        ("/ui/search".to_string(), 400, "search for"),
    ] {
        let answer = get(&node, &path, &[]);
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("role=\"alert\""),
            "{path}: {}",
            answer.body
        );
        assert!(answer.body.contains(message), "{path}: {}", answer.body);
    }
    // None of that hurt the node.
    let answer = post_chain_head(&node, &node.address, &[]);
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_page_requests_is_served_or_told_busy_and_the_rpc_keeps_answering() {
    const CROWD: usize = 64;
    let node = DevProcess::start(0);
    let http = http_client(&node);
    // A block of 60 transfers (its page reads every receipt), then nineteen more.
    let mut raws = Vec::new();
    for nonce in 0..60 {
        let transfer = transfer(&dev_key(1), nonce, Address([0x42; 20]), 1);
        raws.push(format!("0x{}", hex::encode(transfer.encode())));
    }
    let outcomes = http.tx_submit_batch(raws).await.unwrap();
    assert!(
        outcomes.iter().all(|outcome| outcome.error.is_none()),
        "{outcomes:?}"
    );
    http.dev_mine(20).await.unwrap();
    let address = node.address.clone();
    let crowd: Vec<_> = (0..CROWD)
        .map(|index| {
            let address = address.clone();
            std::thread::spawn(move || {
                let path = if index % 2 == 0 {
                    "/ui/"
                } else {
                    "/ui/block/1"
                };
                exchange(&address, &request("GET", path, &address, &[], ""))
            })
        })
        .collect();
    // The RPC keeps answering while the crowd is served, and after.
    let rpc_deadline = Duration::from_secs(5);
    while !crowd.iter().all(std::thread::JoinHandle::is_finished) {
        tokio::time::timeout(rpc_deadline, http.chain_head())
            .await
            .expect("the RPC answers within 5 s during the crowd")
            .unwrap();
    }
    let mut served = 0;
    for visitor in crowd {
        let answer = visitor.join().expect("an answer, not a hang");
        match answer.status {
            200 => served += 1,
            503 => assert!(answer.body.contains("busy"), "{}", answer.body),
            other => panic!("{other}: {}", answer.body),
        }
    }
    assert!(served > 0, "the crowd was all turned away");
    let head = tokio::time::timeout(rpc_deadline, http.chain_head())
        .await
        .expect("the RPC answers within 5 s after the crowd")
        .unwrap();
    assert_eq!(head.number, 20);
    assert_eq!(get(&node, "/ui/", &[]).status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_at_the_rpc_address_is_sent_to_the_console_and_websockets_still_reach_the_rpc() {
    let node = DevProcess::start(0);
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let answer = get(&node, "/", &[("Accept", browser_accept)]);
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/ui/"));
    // A JSON client's GET is not redirected, nor is a POST asking for HTML.
    assert_ne!(
        get(&node, "/", &[("Accept", "application/json")]).status,
        303
    );
    let answer = post_chain_head(&node, &node.address, &[("Accept", browser_accept)]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains(r#""number":0"#), "{}", answer.body);

    // An upgrade that also asks for HTML is the WebSocket's: the console's own script
    // subscribes to new heads there.
    let own = format!("http://{}", node.address);
    assert_eq!(
        upgrade(
            &node,
            &node.address,
            &[("Accept", browser_accept), ("Origin", &own)]
        )
        .status,
        101
    );
    let mut headers = HeaderMap::new();
    headers.insert("origin", own.parse().unwrap());
    headers.insert("accept", browser_accept.parse().unwrap());
    let ws = WsClientBuilder::default()
        .set_headers(headers)
        .build(format!("ws://{}/", node.address))
        .await
        .unwrap();
    let mut heads = ws.chain_subscribe_new_heads().await.unwrap();
    let mined = http_client(&node).dev_mine(1).await.unwrap();
    let head = tokio::time::timeout(Duration::from_secs(30), heads.next())
        .await
        .expect("a head within 30 s")
        .expect("the subscription is open")
        .unwrap();
    assert_eq!(head.number, 1);
    assert_eq!(head.hash, mined[0]);
}

#[test]
fn the_console_shows_neither_the_cookie_token_nor_the_data_directory() {
    let node = DevProcess::start(0);
    let token = node.cookie_token();
    assert_eq!(token.len(), 64);
    let data_dir = node.dir.path().to_string_lossy().to_string();
    let operator = format!("Bearer {token}");
    for path in [
        "/ui/status",
        "/ui/status?fragment=main",
        "/ui/",
        "/ui/no-such-page",
        "/ui/block/x",
    ] {
        for headers in [vec![], vec![("Authorization", operator.as_str())]] {
            let answer = get(&node, path, &headers);
            assert!(answer.status < 500, "{path}: {}", answer.status);
            assert!(
                !answer.body.contains(&token),
                "{path} shows the cookie token"
            );
            assert!(
                !answer.body.contains(&token[..16]),
                "{path} shows part of the cookie token"
            );
            assert!(
                !answer.body.contains(&data_dir),
                "{path} shows the data directory"
            );
            assert!(
                !answer.body.contains(".cookie"),
                "{path} names the cookie file"
            );
        }
    }
    let status = get(&node, "/ui/status", &[]);
    assert!(status.body.contains("dev chain"), "{}", status.body);
}

/// The `<input …>` tag whose `id` is `id` in `html`.
fn input_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The value of attribute `name` on the element whose `id` is `id`.
fn attribute_of<'a>(html: &'a str, id: &str, name: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    attribute(&html[start..=end], name)
}

/// The value of attribute `name` on the first element that has it.
fn attribute<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    &html[start..start + html[start..].find('"').unwrap()]
}

/// Milliseconds since the Unix epoch by this machine's clock (signatures expire by the node's).
fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The query a browser's key module sends for `request` (a signed dry run).
fn signed_query(request: &salus_client::rpc::CallRequest) -> String {
    format!(
        "signer={}&expires={}&signature={}",
        request.from.as_deref().unwrap(),
        request.expires_ms.unwrap(),
        request.signature.as_deref().unwrap()
    )
}

/// The key pages (the patient's page, `/ui/open`) and what reaches the node from them: only
/// they may compile WebAssembly; the module served is the one built from this repository; the
/// key's field has no name, so no form submission can carry it; a signature answers only the
/// query it signed, only for the patient or a delegate, and only until it expires.
#[test]
fn only_the_key_pages_compile_wasm_and_a_browser_signature_answers_only_its_own_query() {
    use salus_client::DryRun;
    use salus_node::genesis::DEV_CONSENT_ADDRESS;

    let node = DevProcess::start(0);
    let (patient, stranger) = (dev_key(5), dev_key(6));
    let patient_hex = patient.address().to_string().to_ascii_lowercase();
    let page_path = format!("/ui/consent/patient/{patient_hex}");
    let page = get(&node, &page_path, &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    for (path, answer) in [
        (page_path.clone(), page.clone()),
        (
            "/ui/open?aad=0x00".to_string(),
            get(&node, "/ui/open?aad=0x00", &[]),
        ),
    ] {
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert!(
            answer
                .header("content-security-policy")
                .unwrap()
                .contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{path} cannot run the key module: {:?}",
            answer.header("content-security-policy")
        );
        assert!(answer.body.contains("keys.js?v="), "{path} lacks keys.js");
    }
    for path in ["/ui/", "/ui/consent", "/ui/status", "/ui/assets/console.js"] {
        let answer = get(&node, path, &[]);
        let policy = answer.header("content-security-policy").unwrap();
        assert!(
            !policy.contains("wasm"),
            "{path} may compile WebAssembly: {policy}"
        );
        assert!(!answer.body.contains("keys.js"), "{path} loads keys.js");
    }
    // No form submission can carry the key: its fields have no name.
    let open = get(&node, "/ui/open", &[]);
    for (html, id) in [(&page.body, "accounting-key"), (&open.body, "open-key")] {
        let tag = input_tag(html, id);
        assert!(
            !tag.contains("name="),
            "the key field can be submitted: {tag}"
        );
        assert!(tag.contains("type=\"password\""), "{tag}");
    }
    // Hostile associated data is refused, not written into the page.
    let hostile = get(&node, "/ui/open?aad=%3Cscript%3E", &[]);
    assert_eq!(hostile.status, 400, "{}", hostile.body);
    assert!(!hostile.body.contains("<script>"));

    // The module served is the one `salus-contracts` built reproducibly from contracts/.
    let module_path = attribute(&page.body, "data-module").to_string();
    let module = get(&node, &module_path, &[]);
    assert_eq!(module.status, 200);
    assert_eq!(module.header("content-type"), Some("application/wasm"));
    assert!(
        module.bytes == salus_contracts::CONSOLE_KEYS,
        "the key module served ({} bytes) is not the one built ({} bytes)",
        module.bytes.len(),
        salus_contracts::CONSOLE_KEYS.len()
    );

    // What the page asks the browser to sign: `accounting` for this patient, on this chain.
    assert_eq!(
        attribute(&page.body, "data-chain-id"),
        DEV_CHAIN_ID.to_string()
    );
    let input = hex::decode(
        attribute_of(&page.body, "accounting-result", "data-input").trim_start_matches("0x"),
    )
    .unwrap();
    let call = DryRun::new(DEV_CONSENT_ADDRESS, input.clone());
    let later = wall_clock_ms() + 60_000;
    let accounting = format!("{page_path}/accounting");

    // Signed by the patient: its (empty) accounting, and the same answer as FHIR.
    let signed = call.signed(DEV_CHAIN_ID, &patient, later);
    let answer = get(
        &node,
        &format!("{accounting}?{}", signed_query(&signed)),
        &[],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("No entry"), "{}", answer.body);
    let export = get(
        &node,
        &format!("{page_path}/accounting.fhir.json?{}", signed_query(&signed)),
        &[],
    );
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(export.header("content-type"), Some("application/fhir+json"));

    // Who can see the patient's data is another query, signed on its own.
    let who_input = hex::decode(
        attribute_of(&page.body, "who-can-see-result", "data-input").trim_start_matches("0x"),
    )
    .unwrap();
    let who_call = DryRun::new(DEV_CONSENT_ADDRESS, who_input);
    let who = format!("{page_path}/who-can-see");
    // The patient's signature presented as a stranger's: it recovers to the patient.
    let claimed = signed_query(&signed).replace(
        &signed.from.clone().unwrap(),
        &stranger.address().to_string(),
    );
    let signed_by = |call: &DryRun, key: &salus_primitives::SecretKey, chain: u64, until: u64| {
        signed_query(&call.signed(chain, key, until))
    };
    // Each signed request, and what the node must answer it.
    let cases = [
        (
            "who can see, signed by the patient (no consent yet: nobody)",
            format!(
                "{who}?{}",
                signed_by(&who_call, &patient, DEV_CHAIN_ID, later)
            ),
            200,
            "Nobody: no active consent",
        ),
        (
            "who can see, with the accounting's signature",
            format!("{who}?{}", signed_query(&signed)),
            422,
            "refused the signature",
        ),
        (
            "who can see, signed by a stranger",
            format!(
                "{who}?{}",
                signed_by(&who_call, &stranger, DEV_CHAIN_ID, later)
            ),
            422,
            "NotAuthorised",
        ),
        (
            "page two of the accounting with page one's signature",
            format!("{accounting}?after=7&{}", signed_query(&signed)),
            422,
            "refused the signature",
        ),
        (
            "the patient's signature claimed as a stranger's",
            format!("{accounting}?{claimed}"),
            422,
            "refused the signature",
        ),
        (
            "the accounting signed by a stranger",
            format!(
                "{accounting}?{}",
                signed_by(&call, &stranger, DEV_CHAIN_ID, later)
            ),
            422,
            "NotAuthorised",
        ),
        (
            "an expired signature",
            format!(
                "{accounting}?{}",
                signed_by(&call, &patient, DEV_CHAIN_ID, wall_clock_ms() - 1_000)
            ),
            422,
            "expired",
        ),
        (
            "a signature for another chain",
            format!(
                "{accounting}?{}",
                signed_by(&call, &patient, DEV_CHAIN_ID + 1, later)
            ),
            422,
            "refused the signature",
        ),
    ];
    for (what, path, status, text) in cases {
        let answer = get(&node, &path, &[]);
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert!(answer.body.contains(text), "{what}: {}", answer.body);
    }

    // No signature, half a signature, or a hostile signer: refused before any dry run.
    for query in [
        String::new(),
        format!("?signer={patient_hex}"),
        format!(
            "?signer=%3Cscript%3E&expires={later}&signature=0x{}",
            "ab".repeat(65)
        ),
        format!(
            "?signer={patient_hex}&expires=soon&signature=0x{}",
            "ab".repeat(65)
        ),
        format!("?signer={patient_hex}&expires={later}&signature=0x1234"),
    ] {
        let answer = get(&node, &format!("{accounting}{query}"), &[]);
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert!(
            !answer.body.contains("<script>"),
            "{query}: {}",
            answer.body
        );
    }
}
