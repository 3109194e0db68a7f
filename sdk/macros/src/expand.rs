//! The expansion of `#[contract]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{ImplItem, Item, ItemMod, Token, parse_quote};

use crate::abi;
use crate::model::{Message, Output, selector, take_attribute, type_name};
use crate::reference;

/// What `#[contract(...)]` says.
struct Options {
    /// `reentrant`: the contract may be re-entered while it is on the call stack.
    reentrant: bool,
    /// `events(A, b::C)`: events declared outside the module, for the ABI.
    events: Vec<syn::Path>,
}

fn options(attribute: TokenStream) -> syn::Result<Options> {
    let mut options = Options {
        reentrant: false,
        events: Vec::new(),
    };
    let parsed = syn::parse::Parser::parse2(
        Punctuated::<syn::Meta, Token![,]>::parse_terminated,
        attribute,
    )?;
    for meta in parsed {
        match &meta {
            syn::Meta::Path(path) if path.is_ident("reentrant") => options.reentrant = true,
            syn::Meta::List(list) if list.path.is_ident("events") => {
                let paths =
                    list.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)?;
                options.events.extend(paths);
            }
            other => {
                let text = quote!(#other).to_string();
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                        "unknown contract option `{text}`; expected `reentrant` or `events(...)`"
                    ),
                ));
            }
        }
    }
    Ok(options)
}

fn has_attribute(attributes: &[syn::Attribute], name: &str) -> bool {
    attributes
        .iter()
        .any(|attribute| attribute.path().is_ident(name))
}

/// The last segment of a type or path as written: how the ABI names items, and how the macro
/// tells that two mentions are of the same error or event.
fn short_name(text: &str) -> String {
    let base = text.split('<').next().unwrap_or(text);
    base.rsplit("::").next().unwrap_or(base).to_string()
}

pub fn contract(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = options(attribute)?;
    let mut module: ItemMod = syn::parse2(item)?;
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new_spanned(
            &module,
            "#[contract] needs an inline module: `mod name { ... }`; types, storage and helpers \
             may live in sibling modules it `use`s",
        ));
    };

    // Events and errors by path, in ABI order; data types are found through what messages and
    // events name.
    let mut events: Vec<syn::Path> = Vec::new();
    let mut errors: Vec<syn::Type> = Vec::new();
    let mut constructor: Option<Message> = None;
    let mut messages: Vec<Message> = Vec::new();
    let mut contract_type: Option<syn::Type> = None;

    for item in items.iter_mut() {
        match item {
            Item::Struct(structure) if has_attribute(&structure.attrs, "event") => {
                take_attribute(&mut structure.attrs, "event");
                structure
                    .attrs
                    .insert(0, parse_quote!(#[::salus_sdk::event]));
                let name = &structure.ident;
                events.push(parse_quote!(#name));
            }
            Item::Enum(enumeration) if has_attribute(&enumeration.attrs, "error") => {
                take_attribute(&mut enumeration.attrs, "error");
                enumeration
                    .attrs
                    .insert(0, parse_quote!(#[::salus_sdk::error]));
                let name = &enumeration.ident;
                errors.push(parse_quote!(#name));
            }
            Item::Struct(structure) if has_attribute(&structure.attrs, "data") => {
                take_attribute(&mut structure.attrs, "data");
                structure
                    .attrs
                    .insert(0, parse_quote!(#[::salus_sdk::data]));
            }
            Item::Enum(enumeration) if has_attribute(&enumeration.attrs, "data") => {
                take_attribute(&mut enumeration.attrs, "data");
                enumeration
                    .attrs
                    .insert(0, parse_quote!(#[::salus_sdk::data]));
            }
            Item::Impl(implementation) => {
                let mut found = false;
                for impl_item in implementation.items.iter_mut() {
                    let ImplItem::Fn(function) = impl_item else {
                        continue;
                    };
                    let docs: Vec<syn::Attribute> = function
                        .attrs
                        .iter()
                        .filter(|attribute| attribute.path().is_ident("doc"))
                        .cloned()
                        .collect();
                    if take_attribute(&mut function.attrs, "constructor").is_some() {
                        // Constructors conventionally say `new` without returning `Self`: the
                        // contract's state is in storage, not in a value.
                        function
                            .attrs
                            .push(parse_quote!(#[allow(clippy::new_ret_no_self)]));
                        if constructor.is_some() {
                            return Err(syn::Error::new_spanned(
                                &function.sig,
                                "a contract has one #[constructor]",
                            ));
                        }
                        constructor = Some(Message::from_signature(&function.sig, false)?);
                        found = true;
                    } else if let Some(attribute) = take_attribute(&mut function.attrs, "message") {
                        let view = match &attribute.meta {
                            syn::Meta::Path(_) => false,
                            syn::Meta::List(list) if list.tokens.to_string() == "view" => true,
                            _ => {
                                return Err(syn::Error::new_spanned(
                                    attribute,
                                    "expected #[message] or #[message(view)]",
                                ));
                            }
                        };
                        let mut message = Message::from_signature(&function.sig, view)?;
                        message.docs = docs;
                        messages.push(message);
                        found = true;
                    }
                }
                if found {
                    let self_type = (*implementation.self_ty).clone();
                    match &contract_type {
                        Some(known) if type_name(known) != type_name(&self_type) => {
                            return Err(syn::Error::new_spanned(
                                &implementation.self_ty,
                                "every impl block with messages is for the same contract type",
                            ));
                        }
                        _ => contract_type = Some(self_type),
                    }
                }
            }
            _ => {}
        }
    }
    let Some(contract_type) = contract_type else {
        return Err(syn::Error::new_spanned(
            &module.ident,
            "no impl block with #[message] functions",
        ));
    };
    for (i, message) in messages.iter().enumerate() {
        for other in &messages[i + 1..] {
            if selector(&message.name.to_string()) == selector(&other.name.to_string()) {
                return Err(syn::Error::new_spanned(
                    &other.name,
                    "two messages with the same selector",
                ));
            }
        }
    }
    events.extend(options.events);
    for message in messages.iter().chain(constructor.iter()) {
        if let Output::Fallible { error, .. } = &message.output {
            errors.push(error.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    events.retain(|path| seen.insert(short_name(&quote!(#path).to_string().replace(' ', ""))));
    let mut seen = std::collections::BTreeSet::new();
    errors.retain(|ty| seen.insert(short_name(&type_name(ty))));

    let mut generated = vec![abi_document(
        &contract_type,
        options.reentrant,
        constructor.as_ref(),
        &messages,
        &events,
        &errors,
    )];
    generated.push(reference::reference(&contract_type, &messages));
    generated.push(entry_points(
        &contract_type,
        options.reentrant,
        constructor.as_ref(),
        &messages,
    ));

    let (_, items) = module.content.as_mut().expect("checked above");
    for tokens in generated {
        let file: syn::File = syn::parse2(tokens)?;
        items.extend(file.items);
    }
    Ok(quote!(#module))
}

/// Where the export and the custom sections exist: in the contract's own Wasm module only. A
/// contract crate used as a library by another contract (for its types and typed reference)
/// is built without its `entry-points` feature, so that the two modules' exports and ABI
/// sections never meet in one module.
fn entry_points_cfg() -> TokenStream {
    quote!(#[cfg(all(target_arch = "wasm32", feature = "entry-points"))])
}

/// `ABI_JSON` and the `salus_abi` custom section: the head this macro writes, then the errors,
/// events and types described by their own items, joined at compile time.
fn abi_document(
    contract_type: &syn::Type,
    reentrant: bool,
    constructor: Option<&Message>,
    messages: &[Message],
    events: &[syn::Path],
    errors: &[syn::Type],
) -> TokenStream {
    let head = abi::document_head(&type_name(contract_type), reentrant, constructor, messages);
    let comma = quote!(::salus_sdk::abi_description::Piece::Text(","));
    let error_pieces = errors.iter().enumerate().map(|(index, error)| {
        let separator = (index > 0).then(|| quote!(#comma,));
        quote!(#separator ::salus_sdk::abi_description::Piece::Text(
            <#error as ::salus_sdk::abi_description::AbiError>::JSON
        ))
    });
    let event_pieces = events.iter().enumerate().map(|(index, event)| {
        let separator = (index > 0).then(|| quote!(#comma,));
        quote!(#separator ::salus_sdk::abi_description::Piece::Text(
            <#event as ::salus_sdk::abi_description::AbiEvent>::DESCRIPTION.json
        ))
    });
    let mut roots: Vec<TokenStream> = Vec::new();
    for message in constructor.into_iter().chain(messages) {
        for argument in &message.arguments {
            let ty = &argument.ty;
            roots.push(quote!(<#ty as ::salus_sdk::abi_description::AbiType>::TYPES));
        }
        let returned = match &message.output {
            Output::Unit | Output::Fallible { ok: None, .. } => None,
            Output::Value(ty) | Output::Fallible { ok: Some(ty), .. } => Some(ty),
        };
        if let Some(ty) = returned {
            roots.push(quote!(<#ty as ::salus_sdk::abi_description::AbiType>::TYPES));
        }
    }
    for event in events {
        roots.push(quote!(<#event as ::salus_sdk::abi_description::AbiEvent>::DESCRIPTION.uses));
    }
    let abi_section_name = syn::LitStr::new(crate::salus_abi::ABI_SECTION, Span::call_site());
    let in_module = entry_points_cfg();
    quote! {
        #[doc(hidden)]
        const __SALUS_ABI_PIECES: &[::salus_sdk::abi_description::Piece] = &[
            ::salus_sdk::abi_description::Piece::Text(#head),
            ::salus_sdk::abi_description::Piece::Text(",\"errors\":["),
            #(#error_pieces,)*
            ::salus_sdk::abi_description::Piece::Text("],\"events\":["),
            #(#event_pieces,)*
            ::salus_sdk::abi_description::Piece::Text("],\"types\":["),
            ::salus_sdk::abi_description::Piece::Types(
                ::salus_sdk::abi_description::Types::all(&[#(#roots),*])
            ),
            ::salus_sdk::abi_description::Piece::Text("]}"),
        ];

        #[doc(hidden)]
        const __SALUS_ABI_LEN: usize =
            ::salus_sdk::abi_description::document_len(__SALUS_ABI_PIECES);

        #[doc(hidden)]
        const __SALUS_ABI_DOCUMENT: [u8; __SALUS_ABI_LEN] =
            ::salus_sdk::abi_description::document::<__SALUS_ABI_LEN>(__SALUS_ABI_PIECES);

        /// The contract's ABI description, as embedded in its `salus_abi` custom section.
        pub const ABI_JSON: &str = ::salus_sdk::abi_description::as_text(&__SALUS_ABI_DOCUMENT);

        #in_module
        #[allow(unsafe_code)]
        #[unsafe(link_section = #abi_section_name)]
        #[used]
        static __SALUS_ABI: [u8; __SALUS_ABI_LEN] = __SALUS_ABI_DOCUMENT;
    }
}

/// The selectors, the `deploy` and `call` exports, and the re-entrancy section.
fn entry_points(
    contract_type: &syn::Type,
    reentrant: bool,
    constructor: Option<&Message>,
    messages: &[Message],
) -> TokenStream {
    let selector_constants = messages.iter().chain(constructor).map(|message| {
        let constant = format_ident!("{}", message.name.to_string().to_uppercase());
        let bytes = selector(&message.name.to_string());
        quote!(pub const #constant: [u8; 4] = [#(#bytes),*];)
    });
    let message_arms = messages
        .iter()
        .map(|message| dispatch_arm(contract_type, message));
    let in_module = entry_points_cfg();
    let reentrant_section_name =
        syn::LitStr::new(crate::salus_abi::REENTRANT_SECTION, Span::call_site());
    let reentrant_section = reentrant.then(|| {
        quote! {
            #in_module
            #[allow(unsafe_code)]
            #[unsafe(link_section = #reentrant_section_name)]
            #[used]
            static __SALUS_REENTRANT: [u8; 1] = [1];
        }
    });
    let deploy = constructor.map(|constructor| {
        let arm = dispatch_arm(contract_type, constructor);
        quote! {
            /// The constructor entry point.
            #in_module
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn deploy() {
                let (selector, arguments) = ::salus_sdk::dispatch::input();
                let mut input = &arguments[..];
                match selector {
                    #arm
                    other => ::salus_sdk::dispatch::unknown_selector(other),
                }
            }
        }
    });
    quote! {
        /// Message selectors: the first 4 bytes of keccak256 of each message's name.
        pub mod selectors {
            #(#selector_constants)*
        }

        #reentrant_section

        /// The exported entry points, in their own module so that they never collide with the
        /// contract's own names (`call`, `deploy`).
        #[allow(unused_imports)]
        mod __salus_entry_points {
            use super::*;

            /// The message entry point.
            #in_module
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn call() {
                let (selector, arguments) = ::salus_sdk::dispatch::input();
                let mut input = &arguments[..];
                match selector {
                    #(#message_arms)*
                    other => ::salus_sdk::dispatch::unknown_selector(other),
                }
            }

            #deploy
        }
    }
}

fn dispatch_arm(contract_type: &syn::Type, message: &Message) -> TokenStream {
    let name = &message.name;
    let bytes = selector(&name.to_string());
    let names: Vec<&syn::Ident> = message
        .arguments
        .iter()
        .map(|argument| &argument.name)
        .collect();
    let decodes = message.arguments.iter().map(|argument| {
        let (argument_name, ty) = (&argument.name, &argument.ty);
        let label = argument_name.to_string();
        let ty_label = type_name(ty);
        quote!(let #argument_name: #ty = ::salus_sdk::dispatch::argument(&mut input, #label, #ty_label);)
    });
    let view = message
        .view
        .then(|| quote!(::salus_sdk::dispatch::enter_view();));
    let finish = match &message.output {
        Output::Unit => quote!(let () = result;),
        Output::Value(_) => quote!(::salus_sdk::dispatch::return_value(&result);),
        Output::Fallible { ok, .. } => {
            let on_ok = if ok.is_some() {
                quote!(::salus_sdk::dispatch::return_value(&value);)
            } else {
                quote!(let () = value;)
            };
            quote! {
                match result {
                    Ok(value) => { #on_ok }
                    Err(error) => ::salus_sdk::dispatch::revert_with(&error),
                }
            }
        }
    };
    quote! {
        [#(#bytes),*] => {
            #view
            #(#decodes)*
            ::salus_sdk::dispatch::no_trailing_bytes(input);
            let result = <#contract_type>::#name(#(#names),*);
            #finish
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(attribute: TokenStream, module: TokenStream) -> String {
        contract(attribute, module)
            .unwrap_or_else(|error| panic!("{error}"))
            .to_string()
    }

    fn refused(attribute: TokenStream, module: TokenStream) -> String {
        match contract(attribute, module) {
            Ok(_) => panic!("expanded"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn events_declared_elsewhere_join_the_abi_and_a_typed_reference_calls_each_message() {
        let tokens = expanded(
            quote!(events(claims::ClaimChecked)),
            quote! {
                mod payer {
                    #[event]
                    pub struct Paid { pub amount: u64 }
                    pub struct Payer;
                    impl Payer {
                        #[message]
                        pub fn check(claim: Hash) -> Result<u16, PayerError> { todo!() }
                    }
                    impl Payer {
                        /// The payer's name.
                        #[message(view)]
                        pub fn name() -> String { todo!() }
                    }
                }
            },
        )
        .replace(' ', "");
        // Both events, in order: the module's own, then those named in the attribute.
        assert!(
            tokens.contains("<Paidas::salus_sdk::abi_description::AbiEvent>::DESCRIPTION.json")
        );
        assert!(tokens.contains(
            "<claims::ClaimCheckedas::salus_sdk::abi_description::AbiEvent>::DESCRIPTION.json"
        ));
        // The message's error type is described, and its argument and result types are roots.
        assert!(tokens.contains("<PayerErroras::salus_sdk::abi_description::AbiError>::JSON"));
        assert!(tokens.contains("<Hashas::salus_sdk::abi_description::AbiType>::TYPES"));
        // One reference, with a method per message of either impl block.
        assert!(tokens.contains("pubstructPayerRef(pub::salus_sdk::Address);"));
        assert!(tokens.contains(
            "pubfncheck(&self,claim:Hash)->::core::result::Result<u16,::salus_sdk::call::CallError>"
        ));
        assert!(tokens.contains("#[doc=r\"Thepayer'sname.\"]"));
        // The exports and the section exist only with the crate's `entry-points` feature.
        assert!(tokens.contains(
            "#[cfg(all(target_arch=\"wasm32\",feature=\"entry-points\"))]#[allow(unsafe_code)]#[unsafe(no_mangle)]pubextern\"C\"fncall()"
        ));
    }

    #[test]
    fn unknown_options_and_a_second_contract_type_are_refused() {
        let module = quote! {
            mod counter {
                pub struct Counter;
                impl Counter { #[message] pub fn get() -> u64 { 0 } }
            }
        };
        assert_eq!(
            refused(quote!(reentrnat), module.clone()),
            "unknown contract option `reentrnat`; expected `reentrant` or `events(...)`"
        );
        let two_types = quote! {
            mod counter {
                impl Counter { #[message] pub fn get() -> u64 { 0 } }
                impl Other { #[message] pub fn put() {} }
            }
        };
        assert_eq!(
            refused(TokenStream::new(), two_types),
            "every impl block with messages is for the same contract type"
        );
    }
}
