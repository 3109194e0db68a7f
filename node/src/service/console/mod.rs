//! The explorer and audit console (issue 25): web pages under `/ui` on the RPC port, rendered
//! on the node from what the RPC methods answer, behind the same Host/Origin doors.
//!
//! Pages are HTML rendered here with `maud` (every value from the chain escaped by
//! construction) and work without JavaScript; one small script (`assets/console.js`, no build
//! step, no third-party code) keeps a page live by subscribing to `chain_subscribeNewHeads` on
//! the node's WebSocket and fetching the page's `<main>` again as a fragment. The console reads
//! the chain only through [`RpcHandler`]'s methods — the same code, limits and view of the chain
//! as any RPC caller — so it shows nothing a public caller could not read.

mod assets;
mod chain;
mod format;
mod page;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Method, StatusCode};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpRequest, HttpResponse};
use salus_client::abi::ContractAbi;
use salus_client::rpc::SalusApiServer;
use salus_primitives::Hash;

use super::NodeState;
use super::rpc::RpcHandler;
use page::{PageError, PageResult};

/// Where the console is served.
pub const CONSOLE_PATH: &str = "/ui";

/// Pages rendered at once; beyond that a request is answered "busy" (503) at once, so a crowd
/// of open consoles cannot take the node's blocking threads or dry-run places from the RPC.
const MAX_RENDERS_AT_ONCE: usize = 16;

/// Longest request target (path and query) served: search terms, hashes and filters fit.
const MAX_TARGET_BYTES: usize = 2048;

/// Contract ABIs kept, by code hash (each is read from the code on chain once).
const MAX_CACHED_ABIS: usize = 64;

/// The console: the RPC's methods, the node, and the ABIs read so far.
pub struct Console {
    rpc: RpcHandler,
    state: Arc<NodeState>,
    abis: Mutex<HashMap<Hash, Arc<ContractAbi>>>,
    renders: tokio::sync::Semaphore,
}

/// A parsed request: the path below [`CONSOLE_PATH`] and the query's pairs.
pub(crate) struct ConsoleRequest {
    segments: Vec<String>,
    query: Vec<(String, String)>,
}

impl ConsoleRequest {
    fn parse(path: &str, query: Option<&str>) -> Option<ConsoleRequest> {
        let rest = path.strip_prefix(CONSOLE_PATH)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let segments = rest
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| {
                percent_encoding::percent_decode_str(segment)
                    .decode_utf8()
                    .ok()
                    .map(std::borrow::Cow::into_owned)
            })
            .collect::<Option<Vec<_>>>()?;
        let query = query
            .map(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Some(ConsoleRequest { segments, query })
    }

    /// The first value of query parameter `name`, trimmed; `None` when absent or empty.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// Whether only the page's `<main>` content is asked for (the live script's refresh).
    fn fragment(&self) -> bool {
        self.param("fragment") == Some("main")
    }
}

impl Console {
    /// The console over `rpc` (the RPC server's own handler, so dry-run places are shared).
    pub(super) fn new(rpc: RpcHandler, state: Arc<NodeState>) -> Console {
        Console {
            rpc,
            state,
            abis: Mutex::new(HashMap::new()),
            renders: tokio::sync::Semaphore::new(MAX_RENDERS_AT_ONCE),
        }
    }

    /// The RPC methods, as an RPC caller sees them.
    pub(crate) fn rpc(&self) -> &RpcHandler {
        &self.rpc
    }

    /// The node (for what the RPC has no method for: metrics).
    pub(crate) fn state(&self) -> &Arc<NodeState> {
        &self.state
    }

    /// The ABI a contract carries in its code, if it has code and an ABI; read once per code.
    pub(crate) async fn abi(&self, contract: &str) -> Result<Option<Arc<ContractAbi>>, PageError> {
        let account = self
            .rpc
            .state_get_account(contract.to_string(), None)
            .await
            .map_err(PageError::from_rpc)?;
        let Some(code_hash) = account.code_hash else {
            return Ok(None);
        };
        let code_hash: Hash = code_hash
            .parse()
            .map_err(|_| PageError::Internal(format!("code hash `{code_hash}` does not parse")))?;
        if let Some(abi) = lock(&self.abis).get(&code_hash) {
            return Ok(Some(abi.clone()));
        }
        let Some(value) = self
            .rpc
            .contract_abi(contract.to_string())
            .await
            .map_err(PageError::from_rpc)?
        else {
            return Ok(None);
        };
        let abi: ContractAbi = serde_json::from_value(value)
            .map_err(|error| PageError::Internal(format!("the ABI does not parse: {error}")))?;
        let abi = Arc::new(abi);
        let mut abis = lock(&self.abis);
        if abis.len() >= MAX_CACHED_ABIS {
            abis.clear();
        }
        abis.insert(code_hash, abi.clone());
        Ok(Some(abi))
    }

    async fn respond(&self, request: &http::request::Parts) -> HttpResponse {
        let target_length = request
            .uri
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if target_length > MAX_TARGET_BYTES {
            return page::plain(StatusCode::URI_TOO_LONG, "the address is too long\n");
        }
        if request.method != Method::GET && request.method != Method::HEAD {
            return page::plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "the console is read-only: GET only\n",
            );
        }
        let Some(parsed) = ConsoleRequest::parse(request.uri.path(), request.uri.query()) else {
            return page::not_found_response("this address is not a console page");
        };
        if let Some(response) = assets::serve(&parsed.segments, request) {
            return response;
        }
        let Ok(_render) = self.renders.try_acquire() else {
            return page::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the console is busy: try again in a moment\n",
            );
        };
        let result = self.route(&parsed).await;
        page::respond(self, result, parsed.fragment()).await
    }

    async fn route(&self, request: &ConsoleRequest) -> PageResult {
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            [] => chain::home(self).await,
            ["block", id] => chain::block(self, id).await,
            ["tx", hash] => chain::transaction(self, hash).await,
            ["account", address] => chain::account(self, address, request).await,
            ["search"] => chain::search(self, request).await,
            ["status"] => chain::status(self).await,
            _ => Err(PageError::NotFound(
                "this address is not a console page".into(),
            )),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The tower layer that answers console requests and passes everything else to the RPC; it
/// sits behind the doors, so the Host and Origin rules are the RPC's.
#[derive(Clone)]
pub struct ConsoleLayer {
    console: Arc<Console>,
}

impl ConsoleLayer {
    /// The layer serving `console`.
    pub(super) fn new(console: Console) -> ConsoleLayer {
        ConsoleLayer {
            console: Arc::new(console),
        }
    }
}

impl<S> tower::Layer<S> for ConsoleLayer {
    type Service = ConsoleService<S>;

    fn layer(&self, inner: S) -> ConsoleService<S> {
        ConsoleService {
            inner,
            console: self.console.clone(),
        }
    }
}

/// [`ConsoleLayer`]'s service.
#[derive(Clone)]
pub struct ConsoleService<S> {
    inner: S,
    console: Arc<Console>,
}

/// Whether a request is the console's: a path under [`CONSOLE_PATH`].
fn is_console_request(request: &HttpRequest) -> bool {
    let path = request.uri().path();
    path == CONSOLE_PATH || path.starts_with("/ui/")
}

/// A browser's plain GET of `/` (not a WebSocket upgrade, asking for HTML): sent to the
/// console.
fn is_browser_root(request: &HttpRequest) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && !request.headers().contains_key(http::header::UPGRADE)
        && request
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

impl<S> tower::Service<HttpRequest> for ConsoleService<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if is_browser_root(&request) {
            return Box::pin(std::future::ready(Ok(page::redirect("/ui/"))));
        }
        if !is_console_request(&request) {
            return Box::pin(self.inner.call(request));
        }
        let console = self.console.clone();
        // The body of a GET is not read.
        let (parts, _body) = request.into_parts();
        Box::pin(async move { Ok(console.respond(&parts).await) })
    }
}
