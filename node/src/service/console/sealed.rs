//! `/ui/open`: opens a sealed box (docs/PRIVACY.md §5.2) in the browser with a key the user
//! supplies: the box, the key and the plaintext never leave the browser. The page only carries
//! the form; the console's key module (`keys.js`, `keys.wasm`) opens the box with the reply key
//! derived from a wallet key and this chain's genesis hash (gateway releases, sealed
//! submissions and claims for a payer) or with an X25519 secret (a pseudonym's), bound to the
//! associated data the box was sealed with (a release's request hash, a handle).

use maud::html;
use salus_client::rpc::SalusApiServer;

use super::assets;
use super::page::{self, Page, PageError, PageResult};
use super::{Console, ConsoleRequest};

/// `/ui/open[?aad=0x…]`: the form, with the associated data filled in when a page links here
/// for a box it knows the binding of (a release's request hash).
pub async fn open(console: &Console, request: &ConsoleRequest) -> PageResult {
    let aad = request.param("aad").unwrap_or_default();
    let digits = aad.strip_prefix("0x").unwrap_or(aad);
    if digits.len() > 512
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return Err(PageError::BadRequest(
            "aad: the associated data is hex, at most 256 bytes".into(),
        ));
    }
    let genesis = console
        .rpc()
        .node_info()
        .await
        .map_err(PageError::from_rpc)?
        .genesis;
    Ok(Page::fixed(
        "Open a sealed box",
        html! {
            p {
                "Boxes sealed to you — a record a gateway released to you, a preauthorization or "
                "claim sealed to your organisation's registered key, a payload sealed to one of "
                "your pseudonyms — travel point to point and never go on chain; the chain keeps "
                "only what binds them (the request hash, the handle, a commitment)."
            }
            p {
                "This page opens one in your browser: the box, the key and what it holds stay "
                "here. The console's key module (WebAssembly, served by this node) does the "
                "opening; nothing is sent to the node."
            }
            form.keys hidden data-keys-open
                data-module=(assets::url("keys.wasm"))
                data-genesis=(genesis)
                data-target="opened" {
                label for="open-box" { "The sealed box (a file)" }
                input id="open-box" type="file" data-keys-box;
                fieldset {
                    legend { "Your key" }
                    label { input type="radio" name="key-kind" value="wallet" checked; " a wallet key: opens what is sealed to its reply key on this chain" }
                    label { input type="radio" name="key-kind" value="x25519"; " an X25519 secret (a pseudonym's encryption key)" }
                }
                label for="open-key" { "Secret key (64 hex digits)" }
                input id="open-key" type="password" autocomplete="off" spellcheck="false" data-key;
                (page::key_file_fields("open"))
                label for="open-aad" { "Associated data it was sealed with (hex: a request hash, a handle)" }
                input id="open-aad" type="text" autocomplete="off" spellcheck="false" class="mono"
                    value=(aad) data-keys-aad;
                button type="submit" { "Open in this browser" }
                p.keys-status role="status" data-keys-status {}
            }
            div id="opened" aria-live="polite" {}
            p.muted {
                "Without JavaScript or WebAssembly: " code { "salus open" } " (a pseudonym's box) "
                "and " code { "salus record get" } " (a gateway release) open boxes on your machine."
            }
        },
    )
    .with_keys())
}
