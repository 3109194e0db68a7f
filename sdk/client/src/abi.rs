//! A contract's ABI as the `#[contract]` macro embeds it (JSON in the `salus_abi` custom
//! section), and JSON ↔ SCALE for its messages, results and events.

use serde::Deserialize;
use serde_json::Value;

use salus_primitives::{Event, Hash};

use crate::types::{AbiType, TypeError};

/// Why the ABI could not be read or a call not encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    /// The module has no `salus_abi` section (it was not built with `#[contract]`).
    #[error("the module has no salus_abi section")]
    Missing,
    /// The module is not well-formed Wasm.
    #[error("not a Wasm module: {0}")]
    NotWasm(String),
    /// The section is not the JSON the macro writes.
    #[error("the ABI does not parse: {0}")]
    Malformed(String),
    /// No message with that name.
    #[error("the contract has no message `{0}`")]
    UnknownMessage(String),
    /// The arguments were not a JSON array (or object by name) of the right length.
    #[error("message `{message}` takes {expected} arguments ({names}), got {found}")]
    ArgumentCount {
        /// The message.
        message: String,
        /// Arguments it takes.
        expected: usize,
        /// Their names.
        names: String,
        /// Arguments given.
        found: usize,
    },
    /// A value does not fit its type.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// Result bytes left over after decoding.
    #[error("{0} bytes left after decoding the result")]
    TrailingBytes(usize),
}

/// One argument or event field.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type, as written in the contract.
    #[serde(rename = "type")]
    pub ty: String,
    /// For event fields: whether it is a topic.
    #[serde(default)]
    pub topic: bool,
}

/// A message or the constructor.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Message {
    /// Its name.
    pub name: String,
    /// 0x-prefixed 4-byte selector.
    pub selector: String,
    /// Its arguments.
    pub args: Vec<Field>,
    /// The type returned on success, if any.
    pub returns: Option<String>,
    /// The error type of a fallible message.
    pub error: Option<String>,
    /// Whether it only reads.
    pub view: bool,
}

/// An event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct EventAbi {
    /// Its name.
    pub name: String,
    /// keccak256 of the name: the event's first topic.
    pub signature: String,
    /// Its fields, in encoding order.
    pub fields: Vec<Field>,
}

/// An error enum.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ErrorAbi {
    /// Its name.
    pub name: String,
    /// Its variants.
    pub variants: Vec<String>,
}

/// A contract's ABI.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ContractAbi {
    /// Version of the ABI format.
    pub abi_version: u32,
    /// The contract type's name.
    pub contract: String,
    /// Whether the contract may be re-entered.
    pub reentrant: bool,
    /// The constructor, if any.
    pub constructor: Option<Message>,
    /// The messages.
    pub messages: Vec<Message>,
    /// The events.
    pub events: Vec<EventAbi>,
    /// The error types.
    pub errors: Vec<ErrorAbi>,
    /// The `#[data]` structs and enums messages and events use.
    #[serde(default)]
    pub types: Vec<crate::types::TypeDef>,
}

/// The data of the custom section `name` of a core Wasm module, if present (the first, if
/// there are several).
///
/// The whole module is read with `wasmparser`, so that a truncated or crafted file — a section
/// or a name running past its end, a bad LEB128, an unknown section, a component instead of a
/// module — is an error, never a panic or a read out of bounds.
///
/// # Errors
/// [`AbiError::NotWasm`] for anything that is not a well-formed core module.
pub fn custom_section<'a>(module: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, AbiError> {
    use wasmparser::{Encoding, Parser, Payload};
    let not_wasm = |error: wasmparser::BinaryReaderError| AbiError::NotWasm(error.to_string());
    let mut found = None;
    for payload in Parser::new(0).parse_all(module) {
        match payload.map_err(not_wasm)? {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {
                return Err(AbiError::NotWasm(
                    "a Wasm component, not a core module".into(),
                ));
            }
            Payload::UnknownSection { id, .. } => {
                return Err(AbiError::NotWasm(format!("unknown section id {id}")));
            }
            Payload::CustomSection(section) if found.is_none() && section.name() == name => {
                found = Some(section.data());
            }
            _ => {}
        }
    }
    Ok(found)
}

fn arguments<'a>(message: &Message, values: &'a Value) -> Result<Vec<&'a Value>, AbiError> {
    let count_error = |found| AbiError::ArgumentCount {
        message: message.name.clone(),
        expected: message.args.len(),
        names: message
            .args
            .iter()
            .map(|arg| arg.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        found,
    };
    match values {
        Value::Array(items) if items.len() == message.args.len() => Ok(items.iter().collect()),
        Value::Array(items) => Err(count_error(items.len())),
        Value::Object(map) => {
            let mut out = Vec::new();
            for arg in &message.args {
                out.push(map.get(&arg.name).ok_or_else(|| count_error(map.len()))?);
            }
            if map.len() != message.args.len() {
                return Err(count_error(map.len()));
            }
            Ok(out)
        }
        Value::Null if message.args.is_empty() => Ok(Vec::new()),
        _ => Err(count_error(1)),
    }
}

fn selector_bytes(message: &Message) -> Result<Vec<u8>, AbiError> {
    hex::decode(message.selector.trim_start_matches("0x"))
        .map_err(|e| AbiError::Malformed(e.to_string()))
}

impl ContractAbi {
    /// Parses the ABI JSON.
    ///
    /// # Errors
    /// [`AbiError::Malformed`].
    pub fn from_json(text: &str) -> Result<ContractAbi, AbiError> {
        serde_json::from_str(text).map_err(|e| AbiError::Malformed(e.to_string()))
    }

    /// Reads the ABI embedded in a contract module (as stored on chain).
    ///
    /// # Errors
    /// [`AbiError::Missing`] if the module has no ABI section.
    pub fn from_wasm(module: &[u8]) -> Result<ContractAbi, AbiError> {
        let section = custom_section(module, salus_abi::ABI_SECTION)?.ok_or(AbiError::Missing)?;
        let text = std::str::from_utf8(section).map_err(|e| AbiError::Malformed(e.to_string()))?;
        ContractAbi::from_json(text)
    }

    /// The message called `name`.
    ///
    /// # Errors
    /// [`AbiError::UnknownMessage`].
    pub fn message(&self, name: &str) -> Result<&Message, AbiError> {
        self.messages
            .iter()
            .chain(self.constructor.iter())
            .find(|message| message.name == name)
            .ok_or_else(|| AbiError::UnknownMessage(name.to_string()))
    }

    fn encode_message(&self, message: &Message, values: &Value) -> Result<Vec<u8>, AbiError> {
        let mut input = selector_bytes(message)?;
        for (field, value) in message.args.iter().zip(arguments(message, values)?) {
            AbiType::parse(&field.ty)?.encode_json_with(
                value,
                &field.name,
                &mut input,
                &self.types,
            )?;
        }
        Ok(input)
    }

    /// The call input for `message` with JSON arguments (an array in order, or an object by
    /// name).
    ///
    /// # Errors
    /// [`AbiError`] naming the message, the argument count or the argument that does not fit.
    pub fn encode_call(&self, message: &str, values: &Value) -> Result<Vec<u8>, AbiError> {
        self.encode_message(self.message(message)?, values)
    }

    /// The constructor input with JSON arguments (empty if the contract has no constructor).
    ///
    /// # Errors
    /// [`AbiError`] as for [`ContractAbi::encode_call`].
    pub fn encode_constructor(&self, values: &Value) -> Result<Vec<u8>, AbiError> {
        match &self.constructor {
            Some(constructor) => self.encode_message(constructor, values),
            None => Ok(Vec::new()),
        }
    }

    /// Decodes the return data of `message` into JSON (`null` for messages returning nothing).
    ///
    /// # Errors
    /// [`AbiError`] when the bytes do not decode as the declared type.
    pub fn decode_result(&self, message: &str, data: &[u8]) -> Result<Value, AbiError> {
        let message = self.message(message)?;
        let Some(returns) = &message.returns else {
            return Ok(Value::Null);
        };
        let mut input = data;
        let value = AbiType::parse(returns)?.decode_json_with(&mut input, "result", &self.types)?;
        if !input.is_empty() {
            return Err(AbiError::TrailingBytes(input.len()));
        }
        Ok(value)
    }

    /// Decodes a call's input (selector, then arguments) into the message it names and its
    /// arguments as a JSON object by name (the message's `args` give their order).
    ///
    /// # Errors
    /// [`AbiError::UnknownMessage`] (naming the selector) when no message has the input's
    /// selector or the input is shorter than one; [`AbiError`] when the arguments do not decode
    /// as declared or bytes are left over.
    pub fn decode_call(&self, input: &[u8]) -> Result<(&Message, Value), AbiError> {
        let selector = input
            .get(..4)
            .ok_or_else(|| AbiError::UnknownMessage(format!("0x{}", hex::encode(input))))?;
        let message = self
            .messages
            .iter()
            .chain(self.constructor.iter())
            .find(|message| selector_bytes(message).is_ok_and(|bytes| bytes == selector))
            .ok_or_else(|| AbiError::UnknownMessage(format!("0x{}", hex::encode(selector))))?;
        let mut rest = &input[4..];
        let mut arguments = serde_json::Map::new();
        for field in &message.args {
            let value =
                AbiType::parse(&field.ty)?.decode_json_with(&mut rest, &field.name, &self.types)?;
            arguments.insert(field.name.clone(), value);
        }
        if !rest.is_empty() {
            return Err(AbiError::TrailingBytes(rest.len()));
        }
        Ok((message, Value::Object(arguments)))
    }

    /// Decodes an event of this contract into `{ "event": name, "fields": {…} }`, or `None` if
    /// its first topic is not one of this contract's event signatures.
    ///
    /// # Errors
    /// [`AbiError`] when the data does not decode as the event's fields.
    pub fn decode_event(&self, event: &Event) -> Result<Option<Value>, AbiError> {
        let Some(first) = event.topics.first() else {
            return Ok(None);
        };
        let Some(abi) = self
            .events
            .iter()
            .find(|abi| signature_matches(&abi.signature, first))
        else {
            return Ok(None);
        };
        let mut input = &event.data[..];
        let mut fields = serde_json::Map::new();
        for field in &abi.fields {
            let value = AbiType::parse(&field.ty)?.decode_json_with(
                &mut input,
                &field.name,
                &self.types,
            )?;
            fields.insert(field.name.clone(), value);
        }
        Ok(Some(
            serde_json::json!({ "event": abi.name, "fields": fields }),
        ))
    }
}

fn signature_matches(signature: &str, topic: &Hash) -> bool {
    hex::decode(signature.trim_start_matches("0x")).is_ok_and(|bytes| bytes == topic.0)
}

/// The selector of a message name (the first 4 bytes of keccak256 of the name): the ABI's one
/// selector rule.
pub use salus_abi::selector;
