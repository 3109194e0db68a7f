//! The expansion of `#[contract]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, Fields, ImplItem, Item, ItemMod};

use crate::abi;
use crate::model::{
    DataDef, ErrorDef, EventDef, EventField, Message, Output, selector, signature_topic, type_name,
};

fn take_attribute(attributes: &mut Vec<Attribute>, name: &str) -> Option<Attribute> {
    let index = attributes
        .iter()
        .position(|attribute| attribute.path().is_ident(name))?;
    Some(attributes.remove(index))
}

pub fn contract(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let reentrant = match attribute.to_string().as_str() {
        "" => false,
        "reentrant" => true,
        other => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("unknown contract option `{other}`; expected `reentrant`"),
            ));
        }
    };
    let mut module: ItemMod = syn::parse2(item)?;
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new_spanned(
            &module,
            "#[contract] needs an inline module: `mod name { ... }`",
        ));
    };

    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut data = Vec::new();
    let mut constructor: Option<Message> = None;
    let mut messages: Vec<Message> = Vec::new();
    let mut contract_type: Option<syn::Type> = None;
    let mut generated: Vec<TokenStream> = Vec::new();

    for item in items.iter_mut() {
        match item {
            Item::Struct(structure)
                if structure.attrs.iter().any(|a| a.path().is_ident("event")) =>
            {
                take_attribute(&mut structure.attrs, "event");
                let Fields::Named(named) = &mut structure.fields else {
                    return Err(syn::Error::new_spanned(
                        &structure.ident,
                        "an #[event] needs named fields",
                    ));
                };
                let mut fields = Vec::new();
                for field in named.named.iter_mut() {
                    let topic = take_attribute(&mut field.attrs, "topic").is_some();
                    let name = field.ident.clone().expect("named field");
                    fields.push(EventField {
                        name,
                        ty: field.ty.clone(),
                        topic,
                    });
                }
                if fields.iter().filter(|field| field.topic).count() > 3 {
                    return Err(syn::Error::new_spanned(
                        &structure.ident,
                        "an event has at most 3 #[topic] fields (4 topics with its signature)",
                    ));
                }
                structure.attrs.push(syn::parse_quote!(#[derive(::salus_sdk::Encode, ::salus_sdk::Decode, Clone, Debug, PartialEq, Eq)]));
                structure
                    .attrs
                    .push(syn::parse_quote!(#[codec(crate = ::salus_sdk::codec)]));
                events.push(EventDef {
                    name: structure.ident.clone(),
                    fields,
                });
            }
            Item::Enum(enumeration)
                if enumeration.attrs.iter().any(|a| a.path().is_ident("error")) =>
            {
                take_attribute(&mut enumeration.attrs, "error");
                let variants = enumeration
                    .variants
                    .iter()
                    .map(|variant| variant.ident.clone())
                    .collect();
                enumeration.attrs.push(syn::parse_quote!(#[derive(::salus_sdk::Encode, ::salus_sdk::Decode, Clone, Debug, PartialEq, Eq)]));
                enumeration
                    .attrs
                    .push(syn::parse_quote!(#[codec(crate = ::salus_sdk::codec)]));
                errors.push(ErrorDef {
                    name: enumeration.ident.clone(),
                    variants,
                });
            }
            Item::Struct(structure)
                if structure.attrs.iter().any(|a| a.path().is_ident("data")) =>
            {
                take_attribute(&mut structure.attrs, "data");
                let Fields::Named(named) = &structure.fields else {
                    return Err(syn::Error::new_spanned(
                        &structure.ident,
                        "a #[data] struct needs named fields",
                    ));
                };
                let fields = named
                    .named
                    .iter()
                    .map(|field| (field.ident.clone().expect("named"), field.ty.clone()))
                    .collect();
                structure.attrs.push(syn::parse_quote!(#[derive(::salus_sdk::Encode, ::salus_sdk::Decode, Clone, Debug, PartialEq, Eq)]));
                structure
                    .attrs
                    .push(syn::parse_quote!(#[codec(crate = ::salus_sdk::codec)]));
                data.push(DataDef::Struct {
                    name: structure.ident.clone(),
                    fields,
                });
            }
            Item::Enum(enumeration)
                if enumeration.attrs.iter().any(|a| a.path().is_ident("data")) =>
            {
                take_attribute(&mut enumeration.attrs, "data");
                let mut variants = Vec::new();
                for variant in &enumeration.variants {
                    let fields = match &variant.fields {
                        Fields::Unit => Vec::new(),
                        Fields::Unnamed(unnamed) => unnamed
                            .unnamed
                            .iter()
                            .map(|field| field.ty.clone())
                            .collect(),
                        Fields::Named(_) => {
                            return Err(syn::Error::new_spanned(
                                &variant.ident,
                                "#[data] enum variants take unnamed fields: `Variant(A, B)`",
                            ));
                        }
                    };
                    variants.push((variant.ident.clone(), fields));
                }
                if variants.len() > 256 {
                    return Err(syn::Error::new_spanned(
                        &enumeration.ident,
                        "at most 256 variants",
                    ));
                }
                enumeration.attrs.push(syn::parse_quote!(#[derive(::salus_sdk::Encode, ::salus_sdk::Decode, Clone, Debug, PartialEq, Eq)]));
                enumeration
                    .attrs
                    .push(syn::parse_quote!(#[codec(crate = ::salus_sdk::codec)]));
                data.push(DataDef::Enum {
                    name: enumeration.ident.clone(),
                    variants,
                });
            }
            Item::Impl(implementation) => {
                let mut found = false;
                for impl_item in implementation.items.iter_mut() {
                    let ImplItem::Fn(function) = impl_item else {
                        continue;
                    };
                    if take_attribute(&mut function.attrs, "constructor").is_some() {
                        // Constructors conventionally say `new` without returning `Self`: the
                        // contract's state is in storage, not in a value.
                        function
                            .attrs
                            .push(syn::parse_quote!(#[allow(clippy::new_ret_no_self)]));
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
                        messages.push(Message::from_signature(&function.sig, view)?);
                        found = true;
                    }
                }
                if found {
                    if contract_type.is_some() {
                        return Err(syn::Error::new_spanned(
                            &implementation.self_ty,
                            "messages must be in one impl block",
                        ));
                    }
                    contract_type = Some((*implementation.self_ty).clone());
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

    for event in &events {
        let name = &event.name;
        let signature = signature_topic(&name.to_string());
        let topics = event
            .fields
            .iter()
            .filter(|field| field.topic)
            .map(|field| {
                let field = &field.name;
                quote!(::salus_sdk::events::topic_of(&self.#field))
            });
        generated.push(quote! {
            impl ::salus_sdk::events::Event for #name {
                fn topics(&self) -> ::salus_sdk::prelude::Vec<[u8; 32]> {
                    ::salus_sdk::prelude::Vec::from([[#(#signature),*] #(, #topics)*])
                }
            }
        });
    }
    for error in &errors {
        let name = &error.name;
        let arms = error.variants.iter().map(|variant| {
            let text = format!("{name}::{variant}");
            quote!(Self::#variant { .. } => f.write_str(#text))
        });
        generated.push(quote! {
            impl ::core::fmt::Display for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #[allow(unreachable_patterns)]
                    match self { #(#arms,)* }
                }
            }
        });
    }

    let contract_name = type_name(&contract_type);
    let document = abi::document(
        &contract_name,
        reentrant,
        constructor.as_ref(),
        &messages,
        &events,
        &errors,
        &data,
    );
    let document_bytes = syn::LitByteStr::new(document.as_bytes(), Span::call_site());
    let document_len = document.len();
    let selector_constants = messages.iter().chain(constructor.iter()).map(|message| {
        let constant = format_ident!("{}", message.name.to_string().to_uppercase());
        let bytes = selector(&message.name.to_string());
        quote!(pub const #constant: [u8; 4] = [#(#bytes),*];)
    });
    let message_arms = messages
        .iter()
        .map(|message| dispatch_arm(&contract_type, message));
    let reentrant_section = reentrant.then(|| {
        quote! {
            #[cfg(target_arch = "wasm32")]
            #[allow(unsafe_code)]
            #[unsafe(link_section = "salus_reentrant")]
            #[used]
            static __SALUS_REENTRANT: [u8; 1] = [1];
        }
    });
    let deploy = constructor.as_ref().map(|constructor| {
        let arm = dispatch_arm(&contract_type, constructor);
        quote! {
            /// The constructor entry point.
            #[cfg(target_arch = "wasm32")]
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

    generated.push(quote! {
        /// The contract's ABI description, as embedded in its `salus_abi` custom section.
        pub const ABI_JSON: &str = #document;

        /// Message selectors: the first 4 bytes of keccak256 of each message's name.
        pub mod selectors {
            #(#selector_constants)*
        }

        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        #[unsafe(link_section = "salus_abi")]
        #[used]
        static __SALUS_ABI: [u8; #document_len] = *#document_bytes;

        #reentrant_section

        /// The exported entry points, in their own module so that they never collide with the
        /// contract's own names (`call`, `deploy`).
        #[allow(unused_imports)]
        mod __salus_entry_points {
            use super::*;

        /// The message entry point.
        #[cfg(target_arch = "wasm32")]
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
    });

    let (_, items) = module.content.as_mut().expect("checked above");
    for tokens in generated {
        let file: syn::File = syn::parse2(tokens)?;
        items.extend(file.items);
    }
    Ok(quote!(#module))
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
