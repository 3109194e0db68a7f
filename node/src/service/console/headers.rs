//! The headers every console answer carries, and the plain-text answers given before any page
//! is rendered (shared by the pages and the static files).

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};

/// The content security policy of every page: the console's own script and style only, no
/// inline code, no frames, no plugins, no form posts elsewhere; connections to this node
/// (`'self'` covers its WebSocket in current browsers).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The policy of a page that uses the console's key module (`keys.wasm`): the same, and its own
/// scripts may compile WebAssembly (`'wasm-unsafe-eval'`: compiling Wasm from bytes; still no
/// `eval`, no inline script, no other origin's code). Only those pages carry it.
pub const CONTENT_SECURITY_POLICY_WITH_WASM: &str = "default-src 'none'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the headers every console answer carries: the CSP, no sniffing, no framing, no
/// referrer, same-origin opener and resource policies.
pub fn with_security_headers(response: HttpResponse) -> HttpResponse {
    with_security_headers_for(response, false)
}

/// [`with_security_headers`], with [`CONTENT_SECURITY_POLICY_WITH_WASM`] when `wasm`.
pub fn with_security_headers_for(mut response: HttpResponse, wasm: bool) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(if wasm {
            CONTENT_SECURITY_POLICY_WITH_WASM
        } else {
            CONTENT_SECURITY_POLICY
        }),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A plain-text answer (refusals before any page is rendered).
pub fn plain(status: StatusCode, message: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(message));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    with_security_headers(response)
}
