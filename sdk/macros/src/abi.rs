//! The ABI description embedded in the contract: JSON, read by clients from chain.

use serde_json::{Value, json};

use crate::model::{
    DataDef, ErrorDef, EventDef, Message, Output, selector, signature_topic, type_name,
};

fn hex(bytes: &[u8]) -> String {
    let mut out = String::from("0x");
    for byte in bytes {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn message_json(message: &Message) -> Value {
    let name = message.name.to_string();
    let arguments: Vec<Value> = message
        .arguments
        .iter()
        .map(|argument| json!({ "name": argument.name.to_string(), "type": type_name(&argument.ty) }))
        .collect();
    let (returns, error) = match &message.output {
        Output::Unit => (Value::Null, Value::Null),
        Output::Value(ty) => (json!(type_name(ty)), Value::Null),
        Output::Fallible { ok, error } => (
            ok.as_ref()
                .map(|ty| json!(type_name(ty)))
                .unwrap_or(Value::Null),
            json!(type_name(error)),
        ),
    };
    json!({
        "name": name,
        "selector": hex(&selector(&name)),
        "args": arguments,
        "returns": returns,
        "error": error,
        "view": message.view,
    })
}

/// The JSON of a `#[data]` type, as its description carries it.
pub fn type_json(definition: &DataDef) -> String {
    match definition {
        DataDef::Struct { name, fields } => json!({
            "name": name.to_string(),
            "kind": "struct",
            "fields": fields.iter().map(|(field, ty)| json!({ "name": field.to_string(), "type": type_name(ty) })).collect::<Vec<_>>(),
        }),
        DataDef::Enum { name, variants } => json!({
            "name": name.to_string(),
            "kind": "enum",
            "variants": variants.iter().map(|(variant, fields)| json!({
                "name": variant.to_string(),
                "fields": fields.iter().map(type_name).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
    }
    .to_string()
}

/// The JSON of an `#[event]`, as its description carries it.
pub fn event_json(event: &EventDef) -> String {
    let name = event.name.to_string();
    let fields: Vec<Value> = event
        .fields
        .iter()
        .map(|field| json!({ "name": field.name.to_string(), "type": type_name(&field.ty), "topic": field.topic }))
        .collect();
    json!({ "name": name, "signature": hex(&signature_topic(&name)), "fields": fields }).to_string()
}

/// The JSON of an `#[error]`, as its description carries it.
pub fn error_json(error: &ErrorDef) -> String {
    let variants: Vec<String> = error.variants.iter().map(ToString::to_string).collect();
    json!({ "name": error.name.to_string(), "variants": variants }).to_string()
}

/// The members of the ABI document that `#[contract]` writes itself, as the start of a JSON
/// object left open: the events, errors and types, described by their own items wherever
/// they are declared, are joined after it at compile time (`salus_sdk::abi_description`), and
/// the ABI version stays the first member.
pub fn document_head(
    contract: &str,
    reentrant: bool,
    constructor: Option<&Message>,
    messages: &[Message],
) -> String {
    let head = json!({
        (crate::salus_abi::ABI_VERSION_FIELD): crate::salus_abi::ABI_VERSION,
        "contract": contract,
        "reentrant": reentrant,
        "constructor": constructor.map(message_json).unwrap_or(Value::Null),
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
    })
    .to_string();
    let open = head
        .strip_suffix('}')
        .expect("a JSON object ends with a brace");
    String::from(open)
}
