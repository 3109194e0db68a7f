//! What the macros read from Rust items: messages and the constructor, `#[event]` structs,
//! `#[error]` enums and `#[data]` types.

use sha3::{Digest, Keccak256};
use syn::{Attribute, Fields, FnArg, Pat, ReturnType, Type};

/// The first 4 bytes of keccak256 of `name`: the ABI's one selector rule.
pub use crate::salus_abi::selector;

/// keccak256 of `name`.
pub fn signature_topic(name: &str) -> [u8; 32] {
    Keccak256::digest(name.as_bytes()).into()
}

/// A type as written, without spaces: what the ABI calls it.
pub fn type_name(ty: &Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}

/// One argument of a message.
pub struct Argument {
    pub name: syn::Ident,
    pub ty: Type,
}

/// What a message returns.
pub enum Output {
    /// Nothing.
    Unit,
    /// A value.
    Value(Type),
    /// `Result<T, E>`: `T` returned, `E` reverts with its name.
    Fallible { ok: Option<Type>, error: Type },
}

/// A constructor or message.
pub struct Message {
    pub name: syn::Ident,
    pub arguments: Vec<Argument>,
    pub output: Output,
    pub view: bool,
    /// Its `///` documentation, repeated on the typed reference's method.
    pub docs: Vec<Attribute>,
}

impl Message {
    pub fn from_signature(signature: &syn::Signature, view: bool) -> syn::Result<Message> {
        let mut arguments = Vec::new();
        for input in &signature.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    return Err(syn::Error::new_spanned(
                        receiver,
                        "messages take no `self`: contract state lives in storage handles",
                    ));
                }
                FnArg::Typed(typed) => {
                    let Pat::Ident(ident) = typed.pat.as_ref() else {
                        return Err(syn::Error::new_spanned(
                            &typed.pat,
                            "message arguments must be plain names",
                        ));
                    };
                    arguments.push(Argument {
                        name: ident.ident.clone(),
                        ty: (*typed.ty).clone(),
                    });
                }
            }
        }
        let output = match &signature.output {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => classify_output(ty),
        };
        Ok(Message {
            name: signature.ident.clone(),
            arguments,
            output,
            view,
            docs: Vec::new(),
        })
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

fn classify_output(ty: &Type) -> Output {
    if is_unit(ty) {
        return Output::Unit;
    }
    if let Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Result"
        && let syn::PathArguments::AngleBracketed(generics) = &last.arguments
    {
        let types: Vec<&Type> = generics
            .args
            .iter()
            .filter_map(|argument| match argument {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect();
        if let [ok, error] = types.as_slice() {
            let ok = (!is_unit(ok)).then(|| (*ok).clone());
            return Output::Fallible {
                ok,
                error: (*error).clone(),
            };
        }
    }
    Output::Value(ty.clone())
}

/// One field of an event.
pub struct EventField {
    pub name: syn::Ident,
    pub ty: Type,
    pub topic: bool,
}

/// An `#[event]` struct.
pub struct EventDef {
    pub name: syn::Ident,
    pub fields: Vec<EventField>,
}

impl EventDef {
    /// Reads an `#[event]` struct, taking the `#[topic]` markers off its fields.
    pub fn from_struct(structure: &mut syn::ItemStruct) -> syn::Result<EventDef> {
        refuse_generics(&structure.generics, "an #[event]")?;
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
        Ok(EventDef {
            name: structure.ident.clone(),
            fields,
        })
    }
}

/// An `#[error]` enum.
pub struct ErrorDef {
    pub name: syn::Ident,
    pub variants: Vec<syn::Ident>,
}

impl ErrorDef {
    /// Reads an `#[error]` enum.
    pub fn from_enum(enumeration: &syn::ItemEnum) -> syn::Result<ErrorDef> {
        refuse_generics(&enumeration.generics, "an #[error]")?;
        Ok(ErrorDef {
            name: enumeration.ident.clone(),
            variants: enumeration
                .variants
                .iter()
                .map(|variant| variant.ident.clone())
                .collect(),
        })
    }
}

/// A `#[data]` struct or enum: a user type that messages and events may use.
pub enum DataDef {
    /// A struct with named fields.
    Struct {
        name: syn::Ident,
        fields: Vec<(syn::Ident, Type)>,
    },
    /// An enum: variants with unnamed fields (possibly none).
    Enum {
        name: syn::Ident,
        variants: Vec<(syn::Ident, Vec<Type>)>,
    },
}

impl DataDef {
    /// Reads a `#[data]` struct.
    pub fn from_struct(structure: &syn::ItemStruct) -> syn::Result<DataDef> {
        refuse_generics(&structure.generics, "a #[data] type")?;
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
        Ok(DataDef::Struct {
            name: structure.ident.clone(),
            fields,
        })
    }

    /// Reads a `#[data]` enum.
    pub fn from_enum(enumeration: &syn::ItemEnum) -> syn::Result<DataDef> {
        refuse_generics(&enumeration.generics, "a #[data] type")?;
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
        Ok(DataDef::Enum {
            name: enumeration.ident.clone(),
            variants,
        })
    }

    /// The type's name.
    pub fn name(&self) -> &syn::Ident {
        match self {
            DataDef::Struct { name, .. } | DataDef::Enum { name, .. } => name,
        }
    }

    /// The types of its fields, in order.
    pub fn field_types(&self) -> Vec<&Type> {
        match self {
            DataDef::Struct { fields, .. } => fields.iter().map(|(_, ty)| ty).collect(),
            DataDef::Enum { variants, .. } => variants
                .iter()
                .flat_map(|(_, fields)| fields.iter())
                .collect(),
        }
    }
}

/// Removes the attribute `name` from `attributes`, returning it.
pub fn take_attribute(attributes: &mut Vec<Attribute>, name: &str) -> Option<Attribute> {
    let index = attributes
        .iter()
        .position(|attribute| attribute.path().is_ident(name))?;
    Some(attributes.remove(index))
}

/// ABI items are described by statics, which cannot be generic.
fn refuse_generics(generics: &syn::Generics, what: &str) -> syn::Result<()> {
    if generics.params.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            generics,
            format!("{what} cannot be generic: the ABI describes one concrete type"),
        ))
    }
}
