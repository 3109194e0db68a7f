//! The console's static files, compiled into the binary: a stylesheet, the live script, and the
//! key module (`keys.js` and the wasm32 module `console-keys` it loads), served
//! with an entity tag (the keccak256 of the bytes) so that browsers ask again cheaply.

use std::sync::LazyLock;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderValue, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};

/// A file served under `/ui/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/console.js"),
    },
    // The key module and its script: on the pages that sign or open with the user's key.
    Asset {
        name: "keys.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/keys.js"),
    },
    Asset {
        name: "keys.wasm",
        content_type: "application/wasm",
        bytes: salus_contracts::CONSOLE_KEYS,
    },
];

/// Each asset's entity tag, in [`ASSETS`]' order.
static ENTITY_TAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = salus_primitives::keccak256(asset.bytes);
            format!("\"{}\"", hex::encode(&digest.0[..12]))
        })
        .collect()
});

/// The address of asset `name`, with its tag as a version (a new binary's pages name new
/// files, never a stale cached one).
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|asset| asset.name == name) {
        Some(index) => format!(
            "/ui/assets/{name}?v={}",
            ENTITY_TAGS[index].trim_matches('"')
        ),
        None => format!("/ui/assets/{name}"),
    }
}

/// The answer for `/ui/assets/<name>`, or `None` when the path is not under `assets`.
pub fn serve(segments: &[String], request: &http::request::Parts) -> Option<HttpResponse> {
    let [first, name] = segments else {
        return None;
    };
    if first != "assets" {
        return None;
    }
    let Some(index) = ASSETS.iter().position(|asset| asset.name == name) else {
        return Some(super::headers::plain(
            StatusCode::NOT_FOUND,
            "no such file\n",
        ));
    };
    let asset = &ASSETS[index];
    let tag = &ENTITY_TAGS[index];
    let fresh = request
        .headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|candidate| candidate.trim() == tag));
    let mut response = if fresh {
        let mut response = HttpResponse::new(HttpBody::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        HttpResponse::new(HttpBody::from(asset.bytes.to_vec()))
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(tag) = HeaderValue::from_str(tag) {
        headers.insert(ETAG, tag);
    }
    Some(super::headers::with_security_headers(response))
}
