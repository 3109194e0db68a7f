//! The typed reference `#[contract]` generates beside a contract, for calling it from another
//! contract: `RegistryRef(address).is_active(participant, Role::Dispenser, None)` encodes the
//! message's selector and arguments, makes the cross-contract call and decodes the result as
//! the message's return type (ink!'s contract references and Soroban's generated clients play
//! the same part).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Message, Output, type_name};

/// `<Contract>Ref` and one method per message.
pub fn reference(contract_type: &syn::Type, messages: &[Message]) -> TokenStream {
    let contract = type_name(contract_type);
    let contract = contract.rsplit("::").next().unwrap_or(&contract);
    let reference = format_ident!("{contract}Ref");
    let summary = format!(
        "A deployed `{contract}`, called from another contract: each method calls the message of \
         the same name, synchronously, forwarding all remaining fuel."
    );
    let methods = messages.iter().map(method);
    quote! {
        #[doc = #summary]
        ///
        /// A failed call — the callee reverted (an `Err` of a fallible message reverts with the
        /// error's name), ran out of fuel or trapped — is a `CallError`; the callee's effects
        /// are rolled back and the caller's are not.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct #reference(pub ::salus_sdk::Address);

        impl #reference {
            #(#methods)*
        }
    }
}

fn method(message: &Message) -> TokenStream {
    let name = &message.name;
    let docs = &message.docs;
    let constant = format_ident!("{}", name.to_string().to_uppercase());
    let arguments = message.arguments.iter().map(|argument| {
        let (name, ty) = (&argument.name, &argument.ty);
        quote!(#name: #ty)
    });
    let names = message.arguments.iter().map(|argument| &argument.name);
    let returned = match &message.output {
        Output::Unit | Output::Fallible { ok: None, .. } => quote!(()),
        Output::Value(ty) | Output::Fallible { ok: Some(ty), .. } => quote!(#ty),
    };
    quote! {
        #(#docs)*
        #[allow(clippy::too_many_arguments)]
        pub fn #name(
            &self,
            #(#arguments),*
        ) -> ::core::result::Result<#returned, ::salus_sdk::call::CallError> {
            ::salus_sdk::call::call(&self.0, selectors::#constant, &(#(#names,)*))
        }
    }
}
