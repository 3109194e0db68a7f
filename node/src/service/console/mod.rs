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
mod consent;
mod coverage;
mod format;
mod headers;
mod page;
mod sealed;
mod supply;

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
use salus_primitives::{Address, Hash};

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

/// Addresses whose renderings are tracked at once (one at a time each); idle ones are dropped
/// beyond this.
const MAX_RENDERINGS_TRACKED: usize = 1024;

/// Block digests kept, by block hash (a digest never changes).
const MAX_CACHED_DIGESTS: usize = 256;

/// Live pages kept as rendered at the current head: every open tab of a live page asks for it
/// again at each new head, and all of them get one rendering.
const MAX_CACHED_LIVE_PAGES: usize = 64;

/// The console: the RPC's methods, the node, and the ABIs read so far.
pub struct Console {
    rpc: RpcHandler,
    contracts: ConsoleContracts,
    state: Arc<NodeState>,
    abis: Mutex<HashMap<Hash, Arc<ContractAbi>>>,
    renders: tokio::sync::Semaphore,
    /// Live pages by address (path and query, without `fragment`), as rendered at a head.
    live_pages: Mutex<HashMap<String, (Hash, Arc<page::RenderedPage>)>>,
    /// What the lists of recent blocks show of each block, by hash.
    digests: Mutex<HashMap<Hash, Arc<chain::BlockDigest>>>,
    /// One rendering at a time per address: tabs asking for a live page at a new head wait for
    /// the first one's rendering and take it from `live_pages`.
    renderings: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A stored block as the console reads it: in one read of its body and one of its receipts,
/// from the store and without the chain's lock (each block is one atomic write).
pub(crate) struct StoredBlock {
    /// Its header.
    pub header: salus_primitives::BlockHeader,
    /// Its transactions.
    pub transactions: Vec<salus_primitives::SignedTransaction>,
    /// Their receipts (empty for a block that was never executed: a side branch's).
    pub receipts: Vec<salus_primitives::Receipt>,
}

/// A dry run's signature made in the browser by the console's key module (`keys.js`): who
/// signed, until when, and the signature. The key stays in the browser; the node checks the
/// signature against the call the page asks for, as it does any signed `state_call`.
pub(crate) struct CallerSignature {
    /// The signer's address, `0x` and 40 hex digits.
    pub from: String,
    /// When the signature expires (ms since the Unix epoch).
    pub expires_ms: u64,
    /// `0x` and 130 hex digits.
    pub signature: String,
}

impl CallerSignature {
    /// The signature a request carries in `signer`, `expires` and `signature`; `None` when it
    /// carries none.
    ///
    /// # Errors
    /// [`PageError::BadRequest`] for a partial or malformed one.
    pub(crate) fn of(request: &ConsoleRequest) -> Result<Option<CallerSignature>, PageError> {
        let (signer, expires, signature) = (
            request.param("signer"),
            request.param("expires"),
            request.param("signature"),
        );
        let (Some(from), Some(expires), Some(signature)) = (signer, expires, signature) else {
            if signer.is_some() || expires.is_some() || signature.is_some() {
                return Err(PageError::BadRequest(
                    "a signed request gives signer, expires and signature together".into(),
                ));
            }
            return Ok(None);
        };
        if !format::is_address(from) {
            return Err(PageError::BadRequest(format!(
                "signer `{from}` is not a 0x address"
            )));
        }
        let expires_ms = expires
            .parse()
            .map_err(|_| PageError::BadRequest(format!("expires `{expires}` is not a number")))?;
        let hex_digits = signature.strip_prefix("0x").unwrap_or(signature);
        if hex_digits.len() != 130 || !hex_digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(PageError::BadRequest(
                "signature: not 65 bytes of hex (r ‖ s ‖ v)".into(),
            ));
        }
        Ok(Some(CallerSignature {
            from: from.to_string(),
            expires_ms,
            signature: format!("0x{hex_digits}"),
        }))
    }

    /// The query that carries this signature on to another address (an export of the same
    /// answer), `&`-joined, for a link.
    pub(crate) fn query(&self) -> String {
        format!(
            "signer={}&expires={}&signature={}",
            self.from, self.expires_ms, self.signature
        )
    }
}

/// The contracts the console reads, as resolved at start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsoleContracts {
    /// The participant registry.
    pub registry: Option<Address>,
    /// The consent contract.
    pub consent: Option<Address>,
    /// The supply contract.
    pub supply: Option<Address>,
    /// The coverage contract.
    pub coverage: Option<Address>,
}

impl ConsoleContracts {
    /// The genesis contracts named `registry`, `consent`, `supply` and `coverage`.
    pub fn from_genesis(genesis: &crate::genesis::GenesisConfig) -> ConsoleContracts {
        let named = |name: &str| {
            genesis
                .contracts
                .iter()
                .find(|contract| contract.name == name)
                .and_then(|contract| contract.address.parse().ok())
        };
        ConsoleContracts {
            registry: named("registry"),
            consent: named("consent"),
            supply: named("supply"),
            coverage: named("coverage"),
        }
    }
}

/// `address`, or a page saying that this node knows no `name` contract and how to name one.
fn known(address: Option<Address>, name: &str) -> Result<Address, PageError> {
    address.ok_or_else(|| {
        PageError::NotFound(format!(
            "this node knows no {name} contract: its genesis deploys none named `{name}`. Name \
             the one to read in the node's configuration: [console] {name} = \"0x…\""
        ))
    })
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

    /// The page's address without the `fragment` parameter: a page and its fragment are one
    /// rendering.
    fn address_without_fragment(&self) -> String {
        let query: Vec<String> = self
            .query
            .iter()
            .filter(|(key, _)| key != "fragment")
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        format!("/{}?{}", self.segments.join("/"), query.join("&"))
    }
}

impl Console {
    /// The console over `rpc` (the RPC server's own handler, so dry-run places are shared).
    pub(super) fn new(rpc: RpcHandler, state: Arc<NodeState>) -> Console {
        Console {
            contracts: state.console_contracts(),
            rpc,
            state,
            abis: Mutex::new(HashMap::new()),
            renders: tokio::sync::Semaphore::new(MAX_RENDERS_AT_ONCE),
            live_pages: Mutex::new(HashMap::new()),
            digests: Mutex::new(HashMap::new()),
            renderings: Mutex::new(HashMap::new()),
        }
    }

    /// The contracts the healthcare pages read (`[console]`, else the genesis's by name).
    pub(crate) fn contracts(&self) -> &ConsoleContracts {
        &self.contracts
    }

    /// The consent contract, or a page saying how to name it.
    pub(crate) fn consent_contract(&self) -> Result<Address, PageError> {
        known(self.contracts.consent, "consent")
    }

    /// The supply contract, or a page saying how to name it.
    pub(crate) fn supply_contract(&self) -> Result<Address, PageError> {
        known(self.contracts.supply, "supply")
    }

    /// The coverage contract, or a page saying how to name it.
    pub(crate) fn coverage_contract(&self) -> Result<Address, PageError> {
        known(self.contracts.coverage, "coverage")
    }

    /// The participant registry, or a page saying how to name it.
    pub(crate) fn registry_contract(&self) -> Result<Address, PageError> {
        known(self.contracts.registry, "registry")
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

    /// The block `hash`, read from the store at once (body and receipts), if stored; read and
    /// decoded on a blocking thread.
    pub(crate) async fn stored_block(&self, hash: &Hash) -> Result<Option<StoredBlock>, PageError> {
        let store = self.state.store().clone();
        let hash = *hash;
        off_reactor(move || {
            let storage =
                |error: crate::storage::StorageError| PageError::Internal(error.to_string());
            let Some(header) = store.header(&hash).map_err(storage)? else {
                return Ok(None);
            };
            Ok(Some(StoredBlock {
                header,
                transactions: store.body(&hash).map_err(storage)?.unwrap_or_default(),
                receipts: store.receipts(&hash).map_err(storage)?.unwrap_or_default(),
            }))
        })
        .await
    }

    /// The digest of block `hash` (made once: see [`chain::BlockDigest`]).
    pub(crate) async fn digest(
        &self,
        hash: &Hash,
    ) -> Result<Option<Arc<chain::BlockDigest>>, PageError> {
        if let Some(digest) = lock(&self.digests).get(hash) {
            return Ok(Some(digest.clone()));
        }
        let Some(block) = self.stored_block(hash).await? else {
            return Ok(None);
        };
        let digest = Arc::new(chain::BlockDigest::of(self, block).await?);
        let mut digests = lock(&self.digests);
        if digests.len() >= MAX_CACHED_DIGESTS {
            digests.clear();
        }
        digests.insert(*hash, digest.clone());
        Ok(Some(digest))
    }

    /// The result of view `message(arguments)` (a JSON array or object, the ABI's JSON forms)
    /// of `contract`, run unsigned as the zero address, decoded through the contract's ABI.
    /// A view that fails answers [`PageError::View`] with its reason.
    pub(crate) async fn view(
        &self,
        contract: &str,
        message: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value, PageError> {
        self.view_as(contract, message, arguments, None).await
    }

    /// The input (selector and SCALE arguments) of `message(arguments)` on `contract`: what a
    /// browser signs for a dry run ([`CallerSignature`]).
    pub(crate) async fn call_input(
        &self,
        contract: &str,
        message: &str,
        arguments: &serde_json::Value,
    ) -> Result<Vec<u8>, PageError> {
        let abi = self.abi(contract).await?.ok_or_else(|| {
            PageError::NotFound(format!("{contract} is not a contract with an ABI"))
        })?;
        abi.encode_call(message, arguments)
            .map_err(|error| PageError::BadRequest(format!("{message}: {error}")))
    }

    /// [`Console::view`], run as the caller whose signature the browser made (the console's key
    /// module signs in the browser; only the signature comes here), or unsigned. A signature
    /// the node refuses (expired, another key, another call) answers [`PageError::View`] with
    /// the node's reason.
    pub(crate) async fn view_as(
        &self,
        contract: &str,
        message: &str,
        arguments: serde_json::Value,
        caller: Option<&CallerSignature>,
    ) -> Result<serde_json::Value, PageError> {
        let abi = self.abi(contract).await?.ok_or_else(|| {
            PageError::NotFound(format!("{contract} is not a contract with an ABI"))
        })?;
        let input = self.call_input(contract, message, &arguments).await?;
        let outcome = self
            .rpc
            .state_call(salus_client::rpc::CallRequest {
                contract: contract.to_string(),
                input: format!("0x{}", hex::encode(input)),
                from: caller.map(|caller| caller.from.clone()),
                signature: caller.map(|caller| caller.signature.clone()),
                expires_ms: caller.map(|caller| caller.expires_ms),
                ..Default::default()
            })
            .await
            .map_err(|error| {
                if error.code() == crate::service::rpc::codes::CALL_SIGNATURE_REFUSED {
                    PageError::View(format!(
                        "the node refused the signature: {}",
                        error.message()
                    ))
                } else {
                    PageError::from_rpc(error)
                }
            })?;
        if outcome.status != "success" {
            return Err(PageError::View(outcome.failure.unwrap_or(outcome.status)));
        }
        let data = hex::decode(outcome.return_data.trim_start_matches("0x"))
            .map_err(|error| PageError::Internal(format!("return data: {error}")))?;
        abi.decode_result(message, &data)
            .map_err(|error| PageError::Internal(format!("{message}'s result: {error}")))
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
            let mut response = page::plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "the console is read-only: GET only\n",
            );
            response.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, HEAD"),
            );
            return response;
        }
        let Some(parsed) = ConsoleRequest::parse(request.uri.path(), request.uri.query()) else {
            return page::not_found_response("this address is not a console page");
        };
        if let Some(response) = assets::serve(&parsed.segments, request) {
            return response;
        }
        let address = parsed.address_without_fragment();
        let rendering = {
            let mut renderings = lock(&self.renderings);
            if renderings.len() >= MAX_RENDERINGS_TRACKED {
                renderings.retain(|_, rendering| Arc::strong_count(rendering) > 1);
            }
            renderings.entry(address.clone()).or_default().clone()
        };
        let _one_at_a_time = rendering.lock().await;
        let head = self.state.published_head().hash;
        let cached = lock(&self.live_pages)
            .get(&address)
            .filter(|(rendered_at, _)| *rendered_at == head)
            .map(|(_, page)| page.clone());
        if let Some(page) = cached {
            return page::respond_rendered(self, &page, parsed.fragment()).await;
        }
        let Ok(_render) = self.renders.try_acquire() else {
            return page::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the console is busy: try again in a moment\n",
            );
        };
        match format::with_contract_names(self.contracts, self.route(&parsed)).await {
            Ok(page) if page.is_live_page() => {
                let rendered = Arc::new(page::RenderedPage::from(page));
                self.keep_live_page(address, head, rendered.clone());
                page::respond_rendered(self, &rendered, parsed.fragment()).await
            }
            result => page::respond(self, result, parsed.fragment()).await,
        }
    }

    /// Keeps a live page rendered at `head`; pages of earlier heads go first when full.
    fn keep_live_page(&self, address: String, head: Hash, page: Arc<page::RenderedPage>) {
        let mut pages = lock(&self.live_pages);
        if pages.len() >= MAX_CACHED_LIVE_PAGES {
            pages.retain(|_, (rendered_at, _)| *rendered_at == head);
            if pages.len() >= MAX_CACHED_LIVE_PAGES {
                pages.clear();
            }
        }
        pages.insert(address, (head, page));
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
            ["open"] => sealed::open(self, request).await,
            ["consent", rest @ ..] => consent::route(self, rest, request).await,
            ["supply", rest @ ..] => supply::route(self, rest, request).await,
            ["coverage", rest @ ..] => coverage::route(self, rest, request).await,
            _ => Err(PageError::NotFound(
                "this address is not a console page".into(),
            )),
        }
    }
}

/// Runs `work` — store reads, decoding, signature recovery — on a blocking thread, off the async
/// workers that answer the RPC.
pub(crate) async fn off_reactor<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| PageError::Internal(format!("a console task failed: {error}")))?
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
