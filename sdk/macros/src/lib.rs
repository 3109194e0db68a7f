//! `#[contract]`: turns an inline module into a Salus contract; `#[data]`, `#[event]` and
//! `#[error]` describe the types, events and errors it uses, in that module or any other.
//!
//! `#[data]` structs and enums become types that messages and events can use (described in the
//! ABI so clients can encode them), `#[event]` structs become events (first topic: keccak256 of
//! the name; fields marked `#[topic]` add topics), `#[error]` enums become contract errors
//! (their variant name is the revert message). Each describes itself for the ABI, so it may be
//! declared in a sibling module or in another contract's crate. In the contract module, the
//! `impl` blocks with `#[constructor]` and `#[message]` / `#[message(view)]` functions become
//! the `deploy` and `call` entry points: dispatch by the first 4 bytes of keccak256 of the
//! function name, SCALE-decoded arguments with errors naming the argument, and the result
//! SCALE-encoded as return data (an `Err` of a `Result` reverts with the error's name). The
//! contract's ABI (messages, events, errors, and every `#[data]` type they name) is embedded as
//! JSON in the `salus_abi` custom section and exposed as `ABI_JSON`; `<Contract>Ref` calls the
//! contract from another one.

mod abi;
mod expand;
mod items;
mod model;
mod reference;
mod salus_abi;

use proc_macro::TokenStream;

/// Makes a contract of an inline module. Options: `reentrant` lets the contract be re-entered
/// while it is on the call stack; `events(A, module::B)` names events declared outside the
/// module (those inside it are found by their `#[event]`).
///
/// Besides the entry points and `ABI_JSON`, it generates `selectors` and `<Contract>Ref`. The
/// `deploy` and `call` exports and the ABI section exist only on wasm32 with the contract
/// crate's `entry-points` feature (on by default): a contract that depends on another one's
/// crate, for its types and reference, turns it off.
#[proc_macro_attribute]
pub fn contract(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expanded(expand::contract(attribute.into(), item.into()))
}

/// A struct with named fields or an enum with unnamed variant fields that messages, events and
/// other `#[data]` types may use: SCALE-encoded, and described in the ABI of every contract
/// whose messages or events name it.
#[proc_macro_attribute]
pub fn data(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expanded(items::data(attribute.into(), item.into()))
}

/// An event: a struct with named fields, up to three of them marked `#[topic]`.
#[proc_macro_attribute]
pub fn event(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expanded(items::event(attribute.into(), item.into()))
}

/// A contract error: an enum whose variant names are the revert messages.
#[proc_macro_attribute]
pub fn error(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expanded(items::error(attribute.into(), item.into()))
}

fn expanded(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The 4-byte selector of a message name, computed at compile time:
/// `selector!("is_active")` is the first 4 bytes of keccak256("is_active").
#[proc_macro]
pub fn selector(input: TokenStream) -> TokenStream {
    let name: syn::LitStr = match syn::parse(input) {
        Ok(name) => name,
        Err(error) => return error.to_compile_error().into(),
    };
    let bytes = model::selector(&name.value());
    quote::quote!([#(#bytes),*]).into()
}
