//! The expansion of `#[data]`, `#[event]` and `#[error]`, wherever they are declared: the
//! SCALE derives, the `Event` and `Display` implementations, and each item's own part of the
//! ABI description, which `#[contract]` collects by type.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Item, parse_quote};

use crate::abi;
use crate::model::{DataDef, ErrorDef, EventDef, signature_topic};

/// What every ABI item derives: SCALE through the SDK's re-export, and the usual comparisons.
fn add_derives(attributes: &mut Vec<syn::Attribute>) {
    attributes.push(parse_quote!(#[derive(::salus_sdk::Encode, ::salus_sdk::Decode, Clone, Debug, PartialEq, Eq)]));
    attributes.push(parse_quote!(#[codec(crate = ::salus_sdk::codec)]));
}

fn no_options(attribute: &TokenStream, name: &str) -> syn::Result<()> {
    if attribute.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new(
            Span::call_site(),
            format!("#[{name}] takes no options"),
        ))
    }
}

/// `#[data]` on a struct with named fields or an enum with unnamed variant fields.
pub fn data(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    no_options(&attribute, "data")?;
    let mut item: Item = syn::parse2(item)?;
    let definition = match &mut item {
        Item::Struct(structure) => {
            let definition = DataDef::from_struct(structure)?;
            add_derives(&mut structure.attrs);
            definition
        }
        Item::Enum(enumeration) => {
            let definition = DataDef::from_enum(enumeration)?;
            add_derives(&mut enumeration.attrs);
            definition
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "#[data] applies to a struct or an enum",
            ));
        }
    };
    let name = definition.name();
    let name_text = name.to_string();
    let json = abi::type_json(&definition);
    let field_types = definition.field_types();
    Ok(quote! {
        #item

        impl ::salus_sdk::abi_description::AbiType for #name {
            const TYPES: ::salus_sdk::abi_description::Types = {
                static DESCRIPTION: ::salus_sdk::abi_description::TypeDescription =
                    ::salus_sdk::abi_description::TypeDescription {
                        name: #name_text,
                        json: #json,
                        uses: ::salus_sdk::abi_description::Types::all(&[
                            #(<#field_types as ::salus_sdk::abi_description::AbiType>::TYPES),*
                        ]),
                    };
                ::salus_sdk::abi_description::Types::one(&DESCRIPTION)
            };
        }
    })
}

/// `#[event]` on a struct with named fields; `#[topic]` marks up to three indexed fields.
pub fn event(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    no_options(&attribute, "event")?;
    let mut structure: syn::ItemStruct = syn::parse2(item)
        .map_err(|error| syn::Error::new(error.span(), "#[event] applies to a struct"))?;
    let event = EventDef::from_struct(&mut structure)?;
    add_derives(&mut structure.attrs);
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
    let json = abi::event_json(&event);
    let field_types = event.fields.iter().map(|field| &field.ty);
    Ok(quote! {
        #structure

        impl ::salus_sdk::events::Event for #name {
            fn topics(&self) -> ::salus_sdk::prelude::Vec<[u8; 32]> {
                ::salus_sdk::prelude::Vec::from([[#(#signature),*] #(, #topics)*])
            }
        }

        impl ::salus_sdk::abi_description::AbiEvent for #name {
            const DESCRIPTION: ::salus_sdk::abi_description::EventDescription =
                ::salus_sdk::abi_description::EventDescription {
                    json: #json,
                    uses: ::salus_sdk::abi_description::Types::all(&[
                        #(<#field_types as ::salus_sdk::abi_description::AbiType>::TYPES),*
                    ]),
                };
        }
    })
}

/// `#[error]` on an enum: each variant's name is the revert message (`Error::Variant`).
pub fn error(attribute: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    no_options(&attribute, "error")?;
    let mut enumeration: syn::ItemEnum = syn::parse2(item)
        .map_err(|error| syn::Error::new(error.span(), "#[error] applies to an enum"))?;
    let error = ErrorDef::from_enum(&enumeration)?;
    add_derives(&mut enumeration.attrs);
    let name = &error.name;
    let arms = error.variants.iter().map(|variant| {
        let text = format!("{name}::{variant}");
        quote!(Self::#variant { .. } => f.write_str(#text))
    });
    let json = abi::error_json(&error);
    Ok(quote! {
        #enumeration

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #[allow(unreachable_patterns)]
                match self { #(#arms,)* }
            }
        }

        impl ::salus_sdk::abi_description::AbiError for #name {
            const JSON: &'static str = #json;
        }
    })
}
