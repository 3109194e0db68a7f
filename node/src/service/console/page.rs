//! A console page: its result type, the shell every page shares (navigation, search, the live
//! status line), and the HTTP answer with the headers that keep a page from being framed,
//! sniffed, cached or made to run anything but the console's own script.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};
use jsonrpsee::types::ErrorObjectOwned;
use maud::{DOCTYPE, Markup, html};

use super::Console;
use super::assets;
use crate::service::rpc::codes;

/// The content security policy of every page: the console's own script and style only, no
/// inline code, no frames, no plugins, no form posts elsewhere; connections to this node
/// (`'self'` covers its WebSocket in current browsers).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// A rendered page.
pub struct Page {
    /// The `<title>` and `<h1>`.
    pub title: String,
    /// The content of `<main>`, below the heading.
    pub body: Markup,
    /// Whether the page is fetched again at each new head (`<main data-live>`).
    pub live: bool,
    /// Where to send the browser instead (a search that found its target).
    pub redirect: Option<String>,
}

impl Page {
    /// A page that does not change by itself.
    pub fn fixed(title: impl Into<String>, body: Markup) -> Page {
        Page {
            title: title.into(),
            body,
            live: false,
            redirect: None,
        }
    }

    /// A page fetched again at each new head.
    pub fn live(title: impl Into<String>, body: Markup) -> Page {
        Page {
            title: title.into(),
            body,
            live: true,
            redirect: None,
        }
    }

    /// A `303 See Other` to `location`, a console path the caller built from checked values
    /// (hex, decimal numbers).
    pub fn redirect(location: String) -> Page {
        Page {
            title: String::new(),
            body: html! {},
            live: false,
            redirect: Some(location),
        }
    }
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// Nothing at this address (an unknown block, transaction, page).
    NotFound(String),
    /// The address or a parameter is malformed.
    BadRequest(String),
    /// The node is busy (dry-run places taken): try again.
    Busy(String),
    /// The node failed (storage) or answered what it should not.
    Internal(String),
}

/// What a page handler returns.
pub type PageResult = Result<Page, PageError>;

impl PageError {
    /// An RPC method's error as a page error: invalid parameters are the caller's, "busy" and
    /// time-outs are retryable, the rest the node's.
    pub fn from_rpc(error: ErrorObjectOwned) -> PageError {
        let message = error.message().to_string();
        match error.code() {
            codes::INVALID_PARAMS => PageError::BadRequest(message),
            codes::BUSY | codes::TIMEOUT => PageError::Busy(message),
            _ => PageError::Internal(message),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> Page {
        let (title, message) = match self {
            PageError::NotFound(message) => ("Not found", message),
            PageError::BadRequest(message) => ("Not a valid request", message),
            PageError::Busy(message) => ("The node is busy", message),
            PageError::Internal(message) => ("The node could not answer", message),
        };
        Page::fixed(
            title,
            html! {
                p.error role="alert" { (message) }
                p { a href="/ui/" { "Back to the chain" } }
            },
        )
    }
}

/// The page, or its error page, as an HTTP answer (only `<main>`'s content for a fragment).
pub async fn respond(console: &Console, result: PageResult, fragment: bool) -> HttpResponse {
    let (status, page) = match result {
        Ok(Page {
            redirect: Some(location),
            ..
        }) => return redirect(&location),
        Ok(page) => (StatusCode::OK, page),
        Err(error) => {
            if let PageError::Internal(message) = &error {
                tracing::warn!(%message, "console page failed");
            }
            (error.status(), error.page())
        }
    };
    let markup = if fragment {
        main_content(&page)
    } else {
        shell(console, &page).await
    };
    html_response(status, markup)
}

fn main_content(page: &Page) -> Markup {
    html! {
        h1 { (page.title) }
        (page.body)
    }
}

/// The shell: skip link, navigation with search, the live status line, `<main>`.
async fn shell(console: &Console, page: &Page) -> Markup {
    let head = console.state().published_head();
    let chain_id = console.state().chain_params().chain_id;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " — Salus console" }
                link rel="stylesheet" href=(assets::url("console.css"));
                script src=(assets::url("console.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    nav aria-label="Console" {
                        a.brand href="/ui/" { "Salus" }
                        ul {
                            li { a href="/ui/" { "Chain" } }
                            li { a href="/ui/status" { "Node" } }
                        }
                        form.search action="/ui/search" method="get" role="search" {
                            label for="search-query" { "Search" }
                            input id="search-query" name="q" type="search"
                                placeholder="Block number, block or transaction hash, address"
                                autocomplete="off" spellcheck="false";
                            button type="submit" { "Go" }
                        }
                    }
                    p.live-status aria-live="polite" {
                        "Chain " (chain_id) " · head "
                        span data-head-number { "#" (head.header.number) }
                        " · "
                        span data-live-state { "not live" }
                    }
                }
                main id="main" data-live[page.live] {
                    (main_content(page))
                }
            }
        }
    }
}

fn with_security_headers(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
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

/// An HTML answer; never cached (pages show the chain as of now, and pseudonyms).
pub fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(markup.into_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_security_headers(response)
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

/// A 404 page outside any handler (an address the router does not know).
pub fn not_found_response(message: &str) -> HttpResponse {
    let page = PageError::NotFound(message.to_string()).page();
    html_response(
        StatusCode::NOT_FOUND,
        html! { (DOCTYPE) html lang="en" { head { title { "Not found" } } body { main { (main_content(&page)) } } } },
    )
}

/// A `303 See Other` to a console path; a location that is not a header value (it never is:
/// callers build it from hex and numbers) is a 500, not a panic.
pub fn redirect(location: &str) -> HttpResponse {
    let Ok(value) = HeaderValue::from_str(location) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect\n");
    };
    let mut response = HttpResponse::new(HttpBody::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(LOCATION, value);
    with_security_headers(response)
}
