//! The `rpc_request` target: arbitrary bytes sent as the body of a JSON-RPC request to a real
//! dev node in this process (`salus_node::service::start`: the server with its HTTP doors and
//! RPC middleware, every method of `SalusApi`, a RocksDB chain in a temporary directory), over a
//! kept-alive loopback HTTP connection that carries the node's cookie token, so that operator
//! methods parse their parameters too.
//!
//! The node is started once per process with the dev genesis and mines only when asked
//! (`dev_mine`). Requests that would mine more than one block are skipped: a thousand blocks a
//! call would make every such input slow without reaching new code.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use salus_node::GenesisConfig;
use salus_node::service::{self, Mining, NodeConfig, RunningNode};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_runtime::native_stack::{EXECUTION_STACK_BYTES, register};
use serde_json::Value;

/// Method names, parameter names and JSON tokens.
pub const DICTIONARY: &[&str] = &[
    "\"jsonrpc\":\"2.0\"",
    "\"id\":",
    "\"method\":",
    "\"params\":",
    "\"chain_head\"",
    "\"chain_getBlock\"",
    "\"chain_getHeader\"",
    "\"chain_subscribeNewHeads\"",
    "\"chain_unsubscribeNewHeads\"",
    "\"tx_submit\"",
    "\"tx_submitBatch\"",
    "\"tx_get\"",
    "\"tx_receipt\"",
    "\"state_getAccount\"",
    "\"state_getStorage\"",
    "\"state_getProof\"",
    "\"state_call\"",
    "\"contract_abi\"",
    "\"events_query\"",
    "\"events_subscribe\"",
    "\"events_unsubscribe\"",
    "\"net_peers\"",
    "\"net_addPeer\"",
    "\"net_banPeer\"",
    "\"net_unbanPeer\"",
    "\"node_info\"",
    "\"dev_mine\"",
    "\"dev_increaseTime\"",
    "\"from\":",
    "\"contract\":",
    "\"input\":",
    "\"value\":",
    "\"fuel\":",
    "\"at\":",
    "\"signature\":",
    "\"expiresMs\":",
    "\"topics\":",
    "\"fromBlock\":",
    "\"toBlock\":",
    "\"after\":",
    "\"limit\":",
    "\"0x0000000000000000000000000000000000000100\"",
    "\"0x0000000000000000000000000000000000000101\"",
    "\"0x0000000000000000000000000000000000000102\"",
    "\"0x0000000000000000000000000000000000000103\"",
    "\"0x\"",
    "null",
    "true",
    "false",
    "18446744073709551615",
    "4294967295",
    "-1",
    "1e999",
    "/ip4/127.0.0.1/tcp/1/p2p/",
];

/// Sends `data` as one JSON-RPC request body and checks the answer.
///
/// Invariants: the node answers every request on the same connection (no dropped connection,
/// no stall past the RPC's own time limit) with HTTP 200 and a body that is a JSON-RPC 2.0
/// response, or a non-empty array of them for a batch; a successful response carries the
/// request's id; `null` only to notifications. A panic anywhere in the node aborts the fuzzing process (libFuzzer's panic
/// hook), which libFuzzer reports with this input.
pub fn rpc_request(data: &[u8]) {
    if mines_many_blocks(data) {
        return;
    }
    let node = fuzzing_node();
    let (status, body) = node
        .exchange(data)
        .unwrap_or_else(|error| panic!("the node gave no answer: {error}"));
    if let Err(problem) = check_answer(data, status, &body) {
        panic!(
            "not a JSON-RPC answer ({problem}): HTTP {status}, body {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// Whether `data` is JSON that asks `dev_mine` for more than one block.
fn mines_many_blocks(data: &[u8]) -> bool {
    let Ok(request) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let calls = match &request {
        Value::Array(calls) => calls.iter().collect(),
        call => vec![call],
    };
    calls.into_iter().any(|call| {
        if call.get("method").and_then(Value::as_str) != Some("dev_mine") {
            return false;
        }
        let blocks = match call.get("params") {
            Some(Value::Array(params)) => params.first(),
            Some(Value::Object(params)) => params.get("blocks"),
            _ => None,
        };
        blocks
            .and_then(Value::as_u64)
            .is_some_and(|blocks| blocks > 1)
    })
}

/// Why an answer is not a JSON-RPC answer to `request`, if it is not.
///
/// jsonrpsee answers over HTTP with status 200, or 400 for a body that is not a JSON object or
/// array (a parse error response) and 413 past the size limit; a request made only of
/// notifications gets the body `null` (HTTP needs some answer; JSON-RPC gives none).
fn check_answer(request: &[u8], status: u16, body: &[u8]) -> Result<(), String> {
    if !matches!(status, 200 | 400 | 413) {
        return Err(format!("status {status}"));
    }
    if body == b"null" {
        return match calls_in(request) {
            Some(0) if status == 200 => Ok(()),
            _ => Err("`null` answered to a request that is not only notifications".into()),
        };
    }
    let answer: Value =
        serde_json::from_slice(body).map_err(|error| format!("not JSON: {error}"))?;
    match &answer {
        Value::Array(responses) if responses.is_empty() => Err("an empty batch answer".into()),
        Value::Array(responses) => responses.iter().try_for_each(check_response),
        response => {
            check_response(response)?;
            // A success answers the request's own id.
            let request_id = serde_json::from_slice::<Value>(request)
                .ok()
                .and_then(|request| request.get("id").cloned());
            match (response.get("result"), request_id) {
                (Some(_), Some(id)) if response.get("id") != Some(&id) => Err(format!(
                    "answered id {:?} to a request with id {id}",
                    response.get("id")
                )),
                _ => Ok(()),
            }
        }
    }
}

/// How many of the calls in a request expect an answer, read as jsonrpsee reads a body: a batch
/// (`[`) is split into raw values first, a single call (`{`) is parsed directly (so that bytes
/// it skips, such as an unknown member that is not valid UTF-8, do not matter); `None` for
/// anything else.
fn calls_in(request: &[u8]) -> Option<usize> {
    let is_call =
        |call: &[u8]| serde_json::from_slice::<jsonrpsee::types::Request<'_>>(call).is_ok();
    match request.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(request)
            .ok()
            .map(|batch| {
                batch
                    .iter()
                    .filter(|call| is_call(call.get().as_bytes()))
                    .count()
            }),
        Some(b'{') => Some(usize::from(is_call(request))),
        _ => None,
    }
}

/// Why `response` is not one JSON-RPC 2.0 response object, if it is not.
fn check_response(response: &Value) -> Result<(), String> {
    let Value::Object(fields) = response else {
        return Err("a response that is not an object".into());
    };
    if fields.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("no \"jsonrpc\": \"2.0\"".into());
    }
    if !matches!(
        fields.get("id"),
        Some(Value::Null | Value::Number(_) | Value::String(_))
    ) {
        return Err("no valid id".into());
    }
    if let Some(unknown) = fields
        .keys()
        .find(|key| !["jsonrpc", "id", "result", "error"].contains(&key.as_str()))
    {
        return Err(format!("an unknown member {unknown:?}"));
    }
    match (fields.get("result"), fields.get("error")) {
        (Some(_), None) => Ok(()),
        (None, Some(Value::Object(error))) => {
            if !error.get("code").is_some_and(Value::is_i64) {
                return Err("an error without an integer code".into());
            }
            if !error.get("message").is_some_and(Value::is_string) {
                return Err("an error without a message".into());
            }
            Ok(())
        }
        _ => Err("not exactly one of result and error".into()),
    }
}

/// The node every request of this process goes to.
fn fuzzing_node() -> &'static FuzzingNode {
    static NODE: OnceLock<FuzzingNode> = OnceLock::new();
    NODE.get_or_init(|| {
        FuzzingNode::start()
            .unwrap_or_else(|error| panic!("the fuzzing node does not start: {error}"))
    })
}

/// Data directories of fuzzing nodes are `$TMPDIR/salus-fuzz-rpc-<pid>-…`: a process that
/// exits (as libFuzzer does, without dropping statics) leaves its directory behind, and the
/// next process removes those whose process is gone.
const DATA_DIR_PREFIX: &str = "salus-fuzz-rpc-";

/// How long an answer may take: past the RPC's own per-call limit (30 s), it is a stall.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

struct FuzzingNode {
    /// Runs the node's tasks (the RPC server) for the life of the process.
    _runtime: tokio::runtime::Runtime,
    _running: Mutex<RunningNode>,
    _data_dir: tempfile::TempDir,
    address: SocketAddr,
    token: String,
    connection: Mutex<Option<BufReader<TcpStream>>>,
}

impl FuzzingNode {
    fn start() -> Result<FuzzingNode, String> {
        remove_stale_data_dirs();
        let data_dir = tempfile::Builder::new()
            .prefix(&format!("{DATA_DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|error| format!("temporary directory: {error}"))?;
        // As the `salus` binary runs its node: threads with the stack contract execution needs.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_stack_size(EXECUTION_STACK_BYTES)
            .on_thread_start(|| register(EXECUTION_STACK_BYTES))
            .build()
            .map_err(|error| format!("tokio runtime: {error}"))?;
        let miner = derive_key(DEV_MNEMONIC, 0)
            .map_err(|error| format!("dev key: {error}"))?
            .address();
        let config = NodeConfig {
            data_dir: data_dir.path().to_path_buf(),
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            rpc_access: service::RpcAccess::default(),
            genesis: GenesisConfig::dev(),
            dev: true,
            mining: Mining::OnDemand,
            miner,
            mining_threads: 1,
            metrics_addr: None,
            network: None,
            console_contracts: None,
        };
        let running = runtime
            .block_on(service::start(config))
            .map_err(|error| format!("node: {error}"))?;
        Ok(FuzzingNode {
            address: running.rpc_addr,
            token: running.cookie.token().to_string(),
            _runtime: runtime,
            _running: Mutex::new(running),
            _data_dir: data_dir,
            connection: Mutex::new(None),
        })
    }

    /// Sends `body` as a JSON-RPC POST; returns the HTTP status and the answer's body. A kept
    /// connection the server has since closed is replaced once; a fresh connection that fails
    /// is an error.
    fn exchange(&self, body: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        let mut connection = lock(&self.connection);
        let reused = connection.is_some();
        match self.exchange_on(&mut connection, body) {
            Err(error) if reused && is_closed_connection(&error) => {
                self.exchange_on(&mut connection, body)
            }
            result => result,
        }
    }

    fn exchange_on(
        &self,
        connection: &mut Option<BufReader<TcpStream>>,
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        let mut stream = match connection.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(self.address)?;
                stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
                stream.set_nodelay(true)?;
                BufReader::new(stream)
            }
        };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
            self.address,
            self.token,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        stream.get_mut().write_all(&request)?;
        let (status, answer, keep_alive) = read_response(&mut stream)?;
        if keep_alive {
            *connection = Some(stream);
        }
        Ok((status, answer))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn is_closed_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Reads one HTTP/1.1 response: status, body (by length or chunked), and whether the
/// connection stays open.
fn read_response(stream: &mut BufReader<TcpStream>) -> io::Result<(u16, Vec<u8>, bool)> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if stream.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| invalid("no HTTP status line"))?;
    let mut content_length = None;
    let mut chunked = false;
    let mut keep_alive = true;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(invalid("a header line without a colon"));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = Some(value.parse().map_err(|_| invalid("content-length"))?);
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| invalid("chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if stream.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            stream.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            stream.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = content_length {
        body.resize(length, 0);
        stream.read_exact(&mut body)?;
    } else {
        stream.read_to_end(&mut body)?;
        keep_alive = false;
    }
    Ok((status, body, keep_alive))
}

/// Removes the data directories of fuzzing nodes whose process has exited.
fn remove_stale_data_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(DATA_DIR_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = std::path::Path::new("/proc").join(pid.to_string()).exists();
        if !alive && cfg!(target_os = "linux") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
