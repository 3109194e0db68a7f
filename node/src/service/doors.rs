//! The RPC server's doors, checked on every HTTP request and WebSocket upgrade before jsonrpsee
//! sees it: the `Host` allow-list (against DNS rebinding), the `Origin` check with CORS
//! (against web pages driving a local node), and the cookie token, which marks a request as
//! the operator's for the methods that change the node's peers and bans
//! ([`super::rpc_guard`] refuses those without the mark).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_TYPE, HOST,
    ORIGIN, VARY,
};
use http::{HeaderValue, Method, StatusCode};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};

use crate::rpc_cookie::RpcCookie;

/// Host names every node answers to, on any port: a page on another site cannot make a browser
/// send them (DNS rebinding needs the attacker's name in the URL, hence in `Host`).
pub const LOCAL_HOST_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// How long a browser may cache an allowed preflight answer, seconds.
const PREFLIGHT_MAX_AGE_SECONDS: &str = "600";

/// Who may knock: extra host names and browser origins (the configuration's
/// `[rpc] allowed_hosts` and `cors`, or `--rpc-allowed-host` and `--rpc-cors`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpcAccess {
    /// Host names answered besides [`LOCAL_HOST_NAMES`] and IP addresses.
    pub allowed_hosts: AllowedHosts,
    /// Browser origins allowed to call; none by default.
    pub cors: AllowedOrigins,
}

/// Why an allow-list entry is not usable.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct AccessEntryError {
    /// Why.
    pub reason: String,
}

fn bad_entry(reason: impl Into<String>) -> AccessEntryError {
    AccessEntryError {
        reason: reason.into(),
    }
}

/// Host names the RPC server answers to, beyond the local ones and IP addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    /// `*`: any host (for a node behind a proxy that checks `Host` itself).
    any: bool,
    patterns: Vec<HostPattern>,
}

/// A host name, with a port or (`None`) any port.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HostPattern {
    host: String,
    port: Option<u16>,
}

impl AllowedHosts {
    /// Parses entries: `*` (any host), `name` (any port) or `name:port`; names are compared
    /// without regard to case.
    ///
    /// # Errors
    /// [`AccessEntryError`] naming the problem with the first bad entry.
    pub fn parse(entries: &[String]) -> Result<AllowedHosts, AccessEntryError> {
        let mut allowed = AllowedHosts::default();
        for entry in entries {
            let entry = entry.trim();
            if entry == "*" {
                allowed.any = true;
                continue;
            }
            let (host, port) = split_authority(entry)
                .ok_or_else(|| bad_entry(format!("`{entry}` is not a host name or host:port")))?;
            let port = match port {
                None | Some("*") => None,
                Some(port) => Some(port.parse::<u16>().map_err(|_| {
                    bad_entry(format!("`{entry}`: the port is not a number up to 65535"))
                })?),
            };
            allowed.patterns.push(HostPattern { host, port });
        }
        Ok(allowed)
    }

    /// Whether a request's `Host` (or HTTP/2 authority) is answered: the local names and IP
    /// addresses always (neither can come from DNS rebinding), other names when listed.
    pub fn allows(&self, authority: &str) -> bool {
        if self.any {
            return true;
        }
        let Some((host, port)) = split_authority(authority) else {
            return false;
        };
        let port = match port {
            None => None,
            Some(port) => match port.parse::<u16>() {
                Ok(port) => Some(port),
                Err(_) => return false,
            },
        };
        if LOCAL_HOST_NAMES.contains(&host.as_str()) || is_ip_literal(&host) {
            return true;
        }
        self.patterns
            .iter()
            .any(|pattern| pattern.host == host && (pattern.port.is_none() || pattern.port == port))
    }
}

/// Splits `host[:port]` (IPv6 in brackets) into the lowercase host, without a trailing dot, and
/// the port text; `None` when the host is empty or holds characters no host name has.
fn split_authority(authority: &str) -> Option<(String, Option<&str>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            tail => (host, Some(tail.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = !host.is_empty()
        && if host.starts_with('[') {
            host[1..host.len() - 1]
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
        } else {
            host.bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'))
        };
    valid.then_some((host, port))
}

fn is_ip_literal(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok()
}

/// Browser origins allowed to call the RPC server (`scheme://host[:port]`), or `*` for any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    any: bool,
    origins: Vec<String>,
}

impl AllowedOrigins {
    /// Parses entries: `*` (any origin: every web page the node's users visit may call it) or
    /// `scheme://host[:port]` as browsers send it, compared without regard to case.
    ///
    /// # Errors
    /// [`AccessEntryError`] naming the first entry that is not an origin.
    pub fn parse(entries: &[String]) -> Result<AllowedOrigins, AccessEntryError> {
        let mut allowed = AllowedOrigins::default();
        for entry in entries {
            let entry = entry.trim();
            if entry == "*" {
                allowed.any = true;
                continue;
            }
            let origin = normalize_origin(entry);
            let well_formed = origin == "null"
                || origin.split_once("://").is_some_and(|(scheme, rest)| {
                    !scheme.is_empty()
                        && scheme
                            .bytes()
                            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'+')
                        && split_authority(rest).is_some()
                });
            if !well_formed {
                return Err(bad_entry(format!(
                    "`{entry}` is not an origin (scheme://host[:port], e.g. http://localhost:3000)"
                )));
            }
            allowed.origins.push(origin);
        }
        Ok(allowed)
    }

    /// Whether a request's `Origin` is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.contains(&normalize_origin(origin))
    }
}

/// Whether `origin` is the node's own: `http://` or `https://` followed by the request's
/// `Host`, which the doors have already found allowed — a page the node served (the console),
/// never another site's (a rebinding attacker's page carries the attacker's name in both).
fn is_same_origin(origin: &str, authority: &str) -> bool {
    let origin = origin.trim();
    ["http://", "https://"].iter().any(|scheme| {
        origin
            .get(..scheme.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
            && origin[scheme.len()..].eq_ignore_ascii_case(authority)
    })
}

fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim();
    origin
        .strip_suffix('/')
        .unwrap_or(origin)
        .to_ascii_lowercase()
}

/// Marks a request that carried the node's cookie token: the operator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperatorToken;

/// Marks a request that carried a bearer token that is not the node's (a stale cookie, another
/// node's): it is served as any other, and the operator methods say why they refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongToken;

/// What the doors check, shared by every connection.
struct Doors {
    access: RpcAccess,
    cookie: Arc<RpcCookie>,
}

/// The tower layer that puts [`Doors`] in front of the jsonrpsee service.
#[derive(Clone)]
pub struct DoorsLayer {
    doors: Arc<Doors>,
}

impl DoorsLayer {
    /// The doors for `access`, with `cookie` as the operator's token.
    pub fn new(access: RpcAccess, cookie: Arc<RpcCookie>) -> DoorsLayer {
        DoorsLayer {
            doors: Arc::new(Doors { access, cookie }),
        }
    }
}

impl<S> tower::Layer<S> for DoorsLayer {
    type Service = DoorsService<S>;

    fn layer(&self, inner: S) -> DoorsService<S> {
        DoorsService {
            inner,
            doors: self.doors.clone(),
        }
    }
}

/// [`DoorsLayer`]'s service.
#[derive(Clone)]
pub struct DoorsService<S> {
    inner: S,
    doors: Arc<Doors>,
}

/// What the doors decided about a request.
enum Verdict {
    /// Answered here, never reaching a method.
    Answer(HttpResponse),
    /// Passed on; the response gets CORS headers for this origin, if any.
    Pass { origin: Option<HeaderValue> },
}

impl Doors {
    fn check(&self, request: &mut HttpRequest) -> Verdict {
        let authority = match request.headers().get(HOST) {
            Some(host) => host.to_str().ok().map(str::to_owned),
            None => request
                .uri()
                .authority()
                .map(|authority| authority.to_string()),
        };
        if !authority
            .as_deref()
            .is_some_and(|authority| self.access.allowed_hosts.allows(authority))
        {
            tracing::debug!(host = ?request.headers().get(HOST), "RPC request refused: host not allowed");
            return Verdict::Answer(refusal(
                StatusCode::FORBIDDEN,
                "this Host is not allowed: add it with --rpc-allowed-host or [rpc] allowed_hosts\n",
            ));
        }
        let origin = request.headers().get(ORIGIN).cloned();
        if let Some(origin) = &origin {
            let allowed = origin.to_str().is_ok_and(|origin| {
                self.access.cors.allows(origin)
                    || authority
                        .as_deref()
                        .is_some_and(|authority| is_same_origin(origin, authority))
            });
            if !allowed {
                tracing::debug!(?origin, "RPC request refused: origin not allowed");
                return Verdict::Answer(refusal(
                    StatusCode::FORBIDDEN,
                    "this Origin is not allowed: add it with --rpc-cors or [rpc] cors\n",
                ));
            }
            if request.method() == Method::OPTIONS
                && request
                    .headers()
                    .contains_key(ACCESS_CONTROL_REQUEST_METHOD)
            {
                return Verdict::Answer(preflight(origin.clone()));
            }
        }
        match bearer_token(request).map(|presented| self.cookie.matches(presented)) {
            Some(true) => {
                request.extensions_mut().insert(OperatorToken);
            }
            Some(false) => {
                request.extensions_mut().insert(WrongToken);
            }
            None => {}
        }
        Verdict::Pass { origin }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(request: &HttpRequest) -> Option<&[u8]> {
    let value = request.headers().get(AUTHORIZATION)?.as_bytes();
    const SCHEME: &[u8] = b"bearer ";
    (value.len() > SCHEME.len() && value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME))
        .then(|| value[SCHEME.len()..].trim_ascii())
}

fn refusal(status: StatusCode, message: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(message));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The answer to an allowed origin's CORS preflight: JSON-RPC is a POST with a JSON body and,
/// for operator methods, an `Authorization` header.
fn preflight(origin: HeaderValue) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization"),
    );
    headers.insert(
        ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECONDS),
    );
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    response
}

impl<S> tower::Service<HttpRequest> for DoorsService<S>
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

    fn call(&mut self, mut request: HttpRequest) -> Self::Future {
        match self.doors.check(&mut request) {
            Verdict::Answer(response) => Box::pin(std::future::ready(Ok(response))),
            Verdict::Pass { origin } => {
                let response = self.inner.call(request);
                Box::pin(async move {
                    let mut response = response.await?;
                    if let Some(origin) = origin {
                        let headers = response.headers_mut();
                        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                        headers.insert(VARY, HeaderValue::from_static("Origin"));
                    }
                    Ok(response)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn local_names_and_addresses_are_answered_other_names_only_when_listed() {
        let default = hosts(&[]);
        for allowed in [
            "localhost",
            "localhost:8650",
            "LOCALHOST:1",
            "127.0.0.1:8650",
            "[::1]:8650",
            "[::1]",
            "10.1.2.3:8650",
            "localhost.",
        ] {
            assert!(default.allows(allowed), "{allowed}");
        }
        for refused in [
            "rebind.evil.example",
            "rebind.evil.example:8650",
            "localhost.evil.example",
            "",
            ":8650",
            "localhost:port",
            "a b",
            "[::1",
            "[zz]:1",
        ] {
            assert!(!default.allows(refused), "{refused}");
        }
        let listed = hosts(&["node.example.org", "api.example.org:443"]);
        assert!(listed.allows("NODE.example.org:8650"));
        assert!(listed.allows("api.example.org:443"));
        assert!(!listed.allows("api.example.org:8443"));
        assert!(!listed.allows("evil.example"));
        assert!(hosts(&["*"]).allows("anything.example"));
        assert!(AllowedHosts::parse(&["bad host".into()]).is_err());
        assert!(AllowedHosts::parse(&["host:99999".into()]).is_err());
    }

    #[test]
    fn the_nodes_own_origin_is_same_origin_and_no_other() {
        assert!(is_same_origin("http://127.0.0.1:8650", "127.0.0.1:8650"));
        assert!(is_same_origin("HTTP://LOCALHOST:8650", "localhost:8650"));
        assert!(is_same_origin(
            "https://node.example.org",
            "node.example.org"
        ));
        assert!(!is_same_origin("http://127.0.0.1:8651", "127.0.0.1:8650"));
        assert!(!is_same_origin("http://evil.example", "127.0.0.1:8650"));
        assert!(!is_same_origin("null", "127.0.0.1:8650"));
        assert!(!is_same_origin(
            "http://127.0.0.1:8650.evil.example",
            "127.0.0.1:8650"
        ));
        assert!(!is_same_origin("file://127.0.0.1:8650", "127.0.0.1:8650"));
    }

    #[test]
    fn origins_are_refused_unless_listed() {
        let none = AllowedOrigins::parse(&[]).unwrap();
        assert!(!none.allows("http://evil.example"));
        assert!(!none.allows("null"));
        let listed =
            AllowedOrigins::parse(&["http://localhost:3000/".into(), "null".into()]).unwrap();
        assert!(listed.allows("http://LOCALHOST:3000"));
        assert!(listed.allows("null"));
        assert!(!listed.allows("http://localhost:3001"));
        assert!(!listed.allows("https://localhost:3000"));
        assert!(
            AllowedOrigins::parse(&["*".into()])
                .unwrap()
                .allows("https://any.example")
        );
        for bad in ["localhost:3000", "http://", "http://a b", "://x"] {
            assert!(AllowedOrigins::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
