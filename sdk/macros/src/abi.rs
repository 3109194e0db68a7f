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

/// The ABI document.
pub fn document(
    contract: &str,
    reentrant: bool,
    constructor: Option<&Message>,
    messages: &[Message],
    events: &[EventDef],
    errors: &[ErrorDef],
    data: &[DataDef],
) -> String {
    let types: Vec<Value> = data
        .iter()
        .map(|definition| match definition {
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
        })
        .collect();
    let events: Vec<Value> = events
        .iter()
        .map(|event| {
            let name = event.name.to_string();
            let fields: Vec<Value> = event
                .fields
                .iter()
                .map(|field| json!({ "name": field.name.to_string(), "type": type_name(&field.ty), "topic": field.topic }))
                .collect();
            json!({ "name": name, "signature": hex(&signature_topic(&name)), "fields": fields })
        })
        .collect();
    let errors: Vec<Value> = errors
        .iter()
        .map(|error| {
            let variants: Vec<String> = error.variants.iter().map(ToString::to_string).collect();
            json!({ "name": error.name.to_string(), "variants": variants })
        })
        .collect();
    json!({
        "abi_version": 1,
        "contract": contract,
        "reentrant": reentrant,
        "constructor": constructor.map(message_json).unwrap_or(Value::Null),
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
        "events": events,
        "errors": errors,
        "types": types,
    })
    .to_string()
}
