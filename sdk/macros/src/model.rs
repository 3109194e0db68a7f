//! What the macro reads from the contract module: messages, the constructor, events, errors.

use sha3::{Digest, Keccak256};
use syn::{FnArg, Pat, ReturnType, Type};

/// The first 4 bytes of keccak256 of `name`.
pub fn selector(name: &str) -> [u8; 4] {
    let digest = Keccak256::digest(name.as_bytes());
    [digest[0], digest[1], digest[2], digest[3]]
}

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

/// An `#[error]` enum.
pub struct ErrorDef {
    pub name: syn::Ident,
    pub variants: Vec<syn::Ident>,
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
