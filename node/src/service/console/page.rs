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
pub use super::headers::{plain, with_security_headers, with_security_headers_for};
use crate::service::rpc::codes;

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
    /// A file to send instead of a page (an export: CSV, FHIR JSON).
    pub download: Option<Download>,
    /// Whether the page uses the console's key module (`keys.js`, `keys.wasm`): it loads the
    /// script and its policy lets the script compile WebAssembly.
    pub keys: bool,
}

impl Page {
    /// Whether this is a live page to show (not a redirect or a download).
    pub fn is_live_page(&self) -> bool {
        self.live && self.redirect.is_none() && self.download.is_none()
    }
}

/// A live page as rendered at one head, kept for every tab that asks for it at that head.
pub struct RenderedPage {
    title: String,
    main: Markup,
}

impl From<Page> for RenderedPage {
    fn from(page: Page) -> RenderedPage {
        RenderedPage {
            main: main_content(&page),
            title: page.title,
        }
    }
}

/// A rendered live page as an HTTP answer (only `<main>`'s content for a fragment).
pub async fn respond_rendered(
    console: &Console,
    page: &RenderedPage,
    fragment: bool,
) -> HttpResponse {
    let markup = if fragment {
        page.main.clone()
    } else {
        shell(console, &page.title, page.main.clone(), true, false).await
    };
    html_response(StatusCode::OK, markup, false)
}

/// A file a page sends instead of HTML.
pub struct Download {
    /// Its media type.
    pub content_type: &'static str,
    /// The file name the browser saves it as (ASCII letters, digits, `.`, `-`, `_` only).
    pub file_name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Page {
    /// A page that does not change by itself.
    pub fn fixed(title: impl Into<String>, body: Markup) -> Page {
        Page {
            title: title.into(),
            body,
            live: false,
            redirect: None,
            download: None,
            keys: false,
        }
    }

    /// A page fetched again at each new head.
    pub fn live(title: impl Into<String>, body: Markup) -> Page {
        Page {
            title: title.into(),
            body,
            live: true,
            redirect: None,
            download: None,
            keys: false,
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
            download: None,
            keys: false,
        }
    }

    /// A file instead of a page (an export).
    pub fn download(content_type: &'static str, file_name: String, bytes: Vec<u8>) -> Page {
        Page {
            title: String::new(),
            body: html! {},
            live: false,
            redirect: None,
            download: Some(Download {
                content_type,
                file_name,
                bytes,
            }),
            keys: false,
        }
    }

    /// The page with the console's key module: the user's key is used in the browser only.
    #[must_use]
    pub fn with_keys(mut self) -> Page {
        self.keys = true;
        self
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
    /// A contract view refused or failed (its reason: an unknown id, a caller it does not
    /// answer).
    View(String),
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
            PageError::View(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> Page {
        let (title, message) = match self {
            PageError::NotFound(message) => ("Not found", message),
            PageError::BadRequest(message) => ("Not a valid request", message),
            PageError::Busy(message) => ("The node is busy", message),
            PageError::View(message) => ("The contract did not answer", message),
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
        Ok(Page {
            download: Some(download),
            ..
        }) => return download_response(download),
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
        let main = main_content(&page);
        shell(console, &page.title, main, page.live, page.keys).await
    };
    html_response(status, markup, page.keys)
}

fn main_content(page: &Page) -> Markup {
    html! {
        h1 { (page.title) }
        (page.body)
    }
}

/// The shell: skip link, navigation with search, the live status line, `<main>`.
async fn shell(console: &Console, title: &str, main: Markup, live: bool, keys: bool) -> Markup {
    let head = console.state().published_head();
    let chain_id = console.state().chain_params().chain_id;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Salus console" }
                // No icon to fetch: browsers would ask the RPC for /favicon.ico.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::url("console.css"));
                script src=(assets::url("console.js")) defer {}
                @if keys {
                    script src=(assets::url("keys.js")) defer {}
                }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    nav aria-label="Console" {
                        a.brand href="/ui/" { "Salus" }
                        ul {
                            li { a href="/ui/" { "Chain" } }
                            li { a href="/ui/consent" { "Consent" } }
                            li { a href="/ui/supply" { "Supply" } }
                            li { a href="/ui/coverage" { "Coverage" } }
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
                main id="main" data-live[live] {
                    (main)
                }
            }
        }
    }
}

/// The fields that give a wallet key as a key file and its password instead of hex: a Salus key
/// file (`salus key new`) or an Ethereum keystore v3 file (`salus key export`, other wallets).
/// Like the key's, they have no `name`: no form submission carries them.
pub fn key_file_fields(prefix: &str) -> Markup {
    html! {
        p.muted { "Or a key file — a Salus key file, or an Ethereum keystore (" code { "salus key export" } ", other wallets) — and its password, opened in this browser:" }
        label for={ (prefix) "-key-file" } { "Key file" }
        input id={ (prefix) "-key-file" } type="file" data-keys-file;
        label for={ (prefix) "-key-password" } { "Its password" }
        input id={ (prefix) "-key-password" } type="password" autocomplete="off" data-keys-password;
    }
}

/// An HTML answer; never cached (pages show the chain as of now, and pseudonyms). `keys`: the
/// page uses the key module ([`Page::keys`]).
pub fn html_response(status: StatusCode, markup: Markup, keys: bool) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(markup.into_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_security_headers_for(response, keys)
}

fn download_response(download: Download) -> HttpResponse {
    let file_name: String = download
        .file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let mut response = HttpResponse::new(HttpBody::from(download.bytes));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(download.content_type),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        headers.insert(http::header::CONTENT_DISPOSITION, disposition);
    }
    with_security_headers(response)
}

/// A 404 page outside any handler (an address the router does not know).
pub fn not_found_response(message: &str) -> HttpResponse {
    let page = PageError::NotFound(message.to_string()).page();
    html_response(
        StatusCode::NOT_FOUND,
        html! { (DOCTYPE) html lang="en" { head { title { "Not found" } } body { main { (main_content(&page)) } } } },
        false,
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
