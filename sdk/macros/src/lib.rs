//! `#[contract]`: turns an inline module into a Salus contract.
//!
//! Inside the module, `#[data]` structs and enums become types that messages and events can use
//! (described in the ABI so clients can encode them), `#[event]` structs become events (first topic: keccak256 of the name;
//! fields marked `#[topic]` add topics), `#[error]` enums become contract errors (their variant
//! name is the revert message), and the one `impl` block with `#[constructor]` and
//! `#[message]` / `#[message(view)]` functions becomes the `deploy` and `call` entry points:
//! dispatch by the first 4 bytes of keccak256 of the function name, SCALE-decoded arguments
//! with errors naming the argument, and the result SCALE-encoded as return data (an `Err` of a
//! `Result` reverts with the error's name). The contract's ABI (messages, events, errors) is
//! embedded as JSON in the `salus_abi` custom section and exposed as `ABI_JSON`.

mod abi;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Makes a contract of an inline module. `#[contract(reentrant)]` lets the contract be
/// re-entered while it is on the call stack.
#[proc_macro_attribute]
pub fn contract(attribute: TokenStream, item: TokenStream) -> TokenStream {
    match expand::contract(attribute.into(), item.into()) {
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
