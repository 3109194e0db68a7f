//! ABI types: parsing the type names the `#[contract]` macro writes, and converting values
//! between JSON and SCALE for them.
//!
//! JSON forms: integers up to 32 bits as numbers; 64- and 128-bit integers as decimal strings
//! (numbers accepted on input); `Vec<u8>`, `[u8; N]`, `Address` and `Hash` as `0x` hex;
//! other vectors, arrays and tuples as arrays; `Option` as `null` or the value.

use parity_scale_codec::{Compact, Decode, Encode};
use serde_json::Value;

/// A type the ABI can describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// `bool`.
    Bool,
    /// Unsigned integer of this many bits.
    Unsigned(u32),
    /// Signed integer of this many bits.
    Signed(u32),
    /// `String`.
    String,
    /// `Address` (20 bytes).
    Address,
    /// `Hash` (32 bytes).
    Hash,
    /// `Vec<T>`.
    Vec(Box<AbiType>),
    /// `Option<T>`.
    Option(Box<AbiType>),
    /// `[T; N]`.
    Array(Box<AbiType>, usize),
    /// `(A, B, …)`; `()` is the empty tuple.
    Tuple(Vec<AbiType>),
    /// A `#[data]` struct or enum described in the ABI's `types`.
    Named(String),
}

/// A `#[data]` type as the ABI describes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TypeDef {
    /// Its name.
    pub name: String,
    /// `struct` or `enum`.
    pub kind: String,
    /// For structs: named fields, in encoding order.
    #[serde(default)]
    pub fields: Vec<TypeField>,
    /// For enums: variants in index order.
    #[serde(default)]
    pub variants: Vec<TypeVariant>,
}

/// A struct field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TypeField {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// An enum variant: its name and the types of its unnamed fields.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TypeVariant {
    /// Its name.
    pub name: String,
    /// Field types.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The `#[data]` types a contract declares, by name.
pub type TypeTable = [TypeDef];

/// Deepest nesting of types the client follows: in a type name, and through `#[data]` types
/// while encoding or decoding a value. Real contracts nest a few levels; but an ABI is text its
/// deployer wrote, and a type that contains itself (`struct A { a: A }`) would otherwise recurse
/// until the stack overflows.
pub const MAX_TYPE_NESTING: usize = 64;

/// Most JSON values one decoding produces: elements of `Vec<()>` or `[(); N]` take no bytes, so a
/// few bytes could otherwise ask for billions of them.
pub const MAX_DECODED_VALUES: usize = 1 << 20;

/// What one decoding may still produce.
struct DecodeBudget {
    values_left: usize,
}

/// A value that does not fit its type, or a type the ABI cannot describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// A type name the client does not know.
    #[error("unsupported ABI type `{0}`")]
    Unsupported(String),
    /// A JSON value that does not match the type, at a path such as `args.pair.1`.
    #[error("`{path}`: expected {expected}, got {found}")]
    Mismatch {
        /// Where in the arguments.
        path: String,
        /// The type expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// Bytes that do not decode as the type.
    #[error("`{path}`: cannot decode {expected}: {reason}")]
    Decode {
        /// Where in the value.
        path: String,
        /// The type expected.
        expected: String,
        /// Why.
        reason: String,
    },
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (index, c) in text.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    if !text[start..].is_empty() {
        parts.push(&text[start..]);
    }
    parts
}

impl AbiType {
    /// Parses a type name as the ABI writes it (no spaces; paths like `salus_sdk::Address`
    /// are reduced to their last segment).
    ///
    /// # Errors
    /// [`TypeError::Unsupported`] for anything else.
    pub fn parse(name: &str) -> Result<AbiType, TypeError> {
        AbiType::parse_nested(name, 0)
    }

    fn parse_nested(name: &str, depth: usize) -> Result<AbiType, TypeError> {
        let name = name.trim();
        if depth > MAX_TYPE_NESTING {
            return Err(TypeError::Unsupported(format!(
                "{} (nested more than {MAX_TYPE_NESTING} deep)",
                shorten(name)
            )));
        }
        let parse = |inner: &str| AbiType::parse_nested(inner, depth + 1);
        let unsupported = || TypeError::Unsupported(name.to_string());
        if let Some(inner) = name
            .strip_prefix('(')
            .and_then(|rest| rest.strip_suffix(')'))
        {
            return split_top_level(inner)
                .into_iter()
                .map(parse)
                .collect::<Result<_, _>>()
                .map(AbiType::Tuple);
        }
        if let Some(inner) = name
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            let parts = split_top_level(inner.replace(';', ",").as_str())
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>();
            let [element, length] = parts.as_slice() else {
                return Err(unsupported());
            };
            let length = length.trim().parse().map_err(|_| unsupported())?;
            return Ok(AbiType::Array(Box::new(parse(element)?), length));
        }
        let (base, generic) = match name.find('<') {
            Some(open) if name.ends_with('>') => {
                (&name[..open], Some(&name[open + 1..name.len() - 1]))
            }
            _ => (name, None),
        };
        let base = base.rsplit("::").next().unwrap_or(base);
        Ok(match (base, generic) {
            ("bool", None) => AbiType::Bool,
            ("u8", None) => AbiType::Unsigned(8),
            ("u16", None) => AbiType::Unsigned(16),
            ("u32", None) => AbiType::Unsigned(32),
            ("u64", None) => AbiType::Unsigned(64),
            ("u128", None) => AbiType::Unsigned(128),
            ("i8", None) => AbiType::Signed(8),
            ("i16", None) => AbiType::Signed(16),
            ("i32", None) => AbiType::Signed(32),
            ("i64", None) => AbiType::Signed(64),
            ("i128", None) => AbiType::Signed(128),
            ("String", None) => AbiType::String,
            ("Address", None) => AbiType::Address,
            ("Hash", None) => AbiType::Hash,
            ("Vec", Some(inner)) => AbiType::Vec(Box::new(parse(inner)?)),
            ("Option", Some(inner)) => AbiType::Option(Box::new(parse(inner)?)),
            (name, None)
                if name.chars().next().is_some_and(char::is_alphabetic)
                    && name.chars().all(|c| c.is_alphanumeric() || c == '_') =>
            {
                AbiType::Named(name.to_string())
            }
            _ => return Err(unsupported()),
        })
    }

    fn describe(&self) -> String {
        match self {
            AbiType::Bool => "a boolean".into(),
            AbiType::Unsigned(bits) => format!("a u{bits}"),
            AbiType::Signed(bits) => format!("an i{bits}"),
            AbiType::String => "a string".into(),
            AbiType::Address => "a 20-byte 0x address".into(),
            AbiType::Hash => "a 32-byte 0x hash".into(),
            AbiType::Vec(inner) if **inner == AbiType::Unsigned(8) => "0x hex bytes".into(),
            AbiType::Vec(_) => "an array".into(),
            AbiType::Option(inner) => format!("null or {}", inner.describe()),
            AbiType::Array(inner, n) if **inner == AbiType::Unsigned(8) => {
                format!("{n} bytes as 0x hex")
            }
            AbiType::Array(_, n) => format!("an array of {n}"),
            AbiType::Tuple(items) => format!("an array of {}", items.len()),
            AbiType::Named(name) => format!("a {name}"),
        }
    }

    /// Encodes `value` as SCALE for a type without `#[data]` types.
    ///
    /// # Errors
    /// [`TypeError::Mismatch`] naming `path` and what was expected.
    pub fn encode_json(
        &self,
        value: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), TypeError> {
        self.encode_json_with(value, path, out, &[])
    }

    /// Decodes one value of a type without `#[data]` types.
    ///
    /// # Errors
    /// [`TypeError::Decode`] naming `path`.
    pub fn decode_json(&self, input: &mut &[u8], path: &str) -> Result<Value, TypeError> {
        self.decode_json_with(input, path, &[])
    }

    /// Encodes `value` as SCALE, appending to `out`; `#[data]` types are looked up in `types`.
    ///
    /// # Errors
    /// [`TypeError::Mismatch`] naming `path` and what was expected.
    pub fn encode_json_with(
        &self,
        value: &Value,
        path: &str,
        out: &mut Vec<u8>,
        types: &TypeTable,
    ) -> Result<(), TypeError> {
        self.encode_nested(value, path, out, types, 0)
    }

    fn encode_nested(
        &self,
        value: &Value,
        path: &str,
        out: &mut Vec<u8>,
        types: &TypeTable,
        depth: usize,
    ) -> Result<(), TypeError> {
        if depth > MAX_TYPE_NESTING {
            return Err(TypeError::Mismatch {
                path: path.to_string(),
                expected: format!("a value nested at most {MAX_TYPE_NESTING} deep"),
                found: short(value),
            });
        }
        let mismatch = || TypeError::Mismatch {
            path: path.to_string(),
            expected: self.describe(),
            found: short(value),
        };
        match self {
            AbiType::Bool => value.as_bool().ok_or_else(mismatch)?.encode_to(out),
            AbiType::Unsigned(bits) => {
                let number = unsigned(value).ok_or_else(mismatch)?;
                if *bits < 128 && number >> bits != 0 {
                    return Err(mismatch());
                }
                out.extend_from_slice(&number.to_le_bytes()[..(*bits as usize / 8)]);
            }
            AbiType::Signed(bits) => {
                let number = signed(value).ok_or_else(mismatch)?;
                let limit = 1i128 << (bits - 1).min(126);
                if *bits < 128 && (number < -limit || number >= limit) {
                    return Err(mismatch());
                }
                out.extend_from_slice(&number.to_le_bytes()[..(*bits as usize / 8)]);
            }
            AbiType::String => value.as_str().ok_or_else(mismatch)?.encode_to(out),
            AbiType::Address => {
                out.extend_from_slice(&hex_bytes(value, Some(20)).ok_or_else(mismatch)?)
            }
            AbiType::Hash => {
                out.extend_from_slice(&hex_bytes(value, Some(32)).ok_or_else(mismatch)?)
            }
            AbiType::Vec(inner) if **inner == AbiType::Unsigned(8) => {
                hex_bytes(value, None).ok_or_else(mismatch)?.encode_to(out);
            }
            AbiType::Vec(inner) => {
                let items = value.as_array().ok_or_else(mismatch)?;
                Compact(items.len() as u32).encode_to(out);
                for (index, item) in items.iter().enumerate() {
                    inner.encode_nested(item, &format!("{path}.{index}"), out, types, depth + 1)?;
                }
            }
            AbiType::Option(inner) => {
                if value.is_null() {
                    out.push(0);
                } else {
                    out.push(1);
                    inner.encode_nested(value, path, out, types, depth + 1)?;
                }
            }
            AbiType::Array(inner, length) if **inner == AbiType::Unsigned(8) => {
                out.extend_from_slice(&hex_bytes(value, Some(*length)).ok_or_else(mismatch)?);
            }
            AbiType::Array(inner, length) => {
                let items = value
                    .as_array()
                    .filter(|items| items.len() == *length)
                    .ok_or_else(mismatch)?;
                for (index, item) in items.iter().enumerate() {
                    inner.encode_nested(item, &format!("{path}.{index}"), out, types, depth + 1)?;
                }
            }
            AbiType::Tuple(tuple_types) => {
                let items = match value {
                    Value::Null if tuple_types.is_empty() => Vec::new(),
                    Value::Array(items) if items.len() == tuple_types.len() => items.clone(),
                    _ => return Err(mismatch()),
                };
                for (index, (ty, item)) in tuple_types.iter().zip(&items).enumerate() {
                    ty.encode_nested(item, &format!("{path}.{index}"), out, types, depth + 1)?;
                }
            }
            AbiType::Named(name) => encode_named(name, value, path, out, types, depth)?,
        }
        Ok(())
    }

    /// Decodes one value of this type from `input` into JSON; `#[data]` types are looked up in
    /// `types`.
    ///
    /// # Errors
    /// [`TypeError::Decode`] naming `path`.
    pub fn decode_json_with(
        &self,
        input: &mut &[u8],
        path: &str,
        types: &TypeTable,
    ) -> Result<Value, TypeError> {
        let mut budget = DecodeBudget {
            values_left: MAX_DECODED_VALUES,
        };
        self.decode_nested(input, path, types, &mut budget, 0)
    }

    fn decode_nested(
        &self,
        input: &mut &[u8],
        path: &str,
        types: &TypeTable,
        budget: &mut DecodeBudget,
        depth: usize,
    ) -> Result<Value, TypeError> {
        let fail = |reason: String| TypeError::Decode {
            path: path.to_string(),
            expected: self.describe(),
            reason,
        };
        let take = |input: &mut &[u8], n: usize| -> Result<Vec<u8>, TypeError> {
            if input.len() < n {
                return Err(fail(format!("needs {n} bytes, {} left", input.len())));
            }
            let (head, rest) = input.split_at(n);
            *input = rest;
            Ok(head.to_vec())
        };
        if depth > MAX_TYPE_NESTING {
            return Err(fail(format!("nested more than {MAX_TYPE_NESTING} deep")));
        }
        budget.values_left = budget
            .values_left
            .checked_sub(1)
            .ok_or_else(|| fail(format!("more than {MAX_DECODED_VALUES} values")))?;
        Ok(match self {
            AbiType::Bool => Value::Bool(bool::decode(input).map_err(|e| fail(e.to_string()))?),
            AbiType::Unsigned(bits) => {
                let mut bytes = [0u8; 16];
                bytes[..(*bits as usize / 8)].copy_from_slice(&take(input, *bits as usize / 8)?);
                let number = u128::from_le_bytes(bytes);
                if *bits <= 32 {
                    Value::from(number as u64)
                } else {
                    Value::String(number.to_string())
                }
            }
            AbiType::Signed(bits) => {
                let width = *bits as usize / 8;
                let raw = take(input, width)?;
                let negative = raw[width - 1] & 0x80 != 0;
                let mut bytes = if negative { [0xffu8; 16] } else { [0u8; 16] };
                bytes[..width].copy_from_slice(&raw);
                let number = i128::from_le_bytes(bytes);
                if *bits <= 32 {
                    Value::from(number as i64)
                } else {
                    Value::String(number.to_string())
                }
            }
            AbiType::String => {
                Value::String(String::decode(input).map_err(|e| fail(e.to_string()))?)
            }
            AbiType::Address => {
                let bytes: [u8; 20] = take(input, 20)?.try_into().expect("20 bytes");
                Value::String(salus_primitives::Address(bytes).to_string())
            }
            AbiType::Hash => Value::String(format!("0x{}", hex::encode(take(input, 32)?))),
            AbiType::Vec(inner) if **inner == AbiType::Unsigned(8) => {
                let bytes = Vec::<u8>::decode(input).map_err(|e| fail(e.to_string()))?;
                Value::String(format!("0x{}", hex::encode(bytes)))
            }
            AbiType::Vec(inner) => {
                let length = Compact::<u32>::decode(input)
                    .map_err(|e| fail(e.to_string()))?
                    .0 as usize;
                decode_elements(
                    std::iter::repeat_n(&**inner, length),
                    input,
                    path,
                    types,
                    budget,
                    depth,
                )?
            }
            AbiType::Option(inner) => match take(input, 1)?[0] {
                0 => Value::Null,
                1 => inner.decode_nested(input, path, types, budget, depth + 1)?,
                other => return Err(fail(format!("option tag {other}"))),
            },
            AbiType::Array(inner, length) if **inner == AbiType::Unsigned(8) => {
                Value::String(format!("0x{}", hex::encode(take(input, *length)?)))
            }
            AbiType::Array(inner, length) => decode_elements(
                std::iter::repeat_n(&**inner, *length),
                input,
                path,
                types,
                budget,
                depth,
            )?,
            AbiType::Tuple(tuple_types) if tuple_types.is_empty() => Value::Null,
            AbiType::Tuple(tuple_types) => {
                decode_elements(tuple_types.iter(), input, path, types, budget, depth)?
            }
            AbiType::Named(name) => decode_named(name, input, path, types, budget, depth)?,
        })
    }
}

/// Decodes values of `elements`' types one after another into a JSON array, the one at `index`
/// reported at `path.index`.
fn decode_elements<'t>(
    elements: impl Iterator<Item = &'t AbiType>,
    input: &mut &[u8],
    path: &str,
    types: &TypeTable,
    budget: &mut DecodeBudget,
    depth: usize,
) -> Result<Value, TypeError> {
    elements
        .enumerate()
        .map(|(index, ty)| {
            ty.decode_nested(input, &format!("{path}.{index}"), types, budget, depth + 1)
        })
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

fn lookup<'a>(name: &str, path: &str, types: &'a TypeTable) -> Result<&'a TypeDef, TypeError> {
    types
        .iter()
        .find(|definition| definition.name == name)
        .ok_or_else(|| TypeError::Unsupported(format!("{name} (at `{path}`)")))
}

/// Structs are JSON objects by field name (arrays in order are accepted); enum variants are
/// `"Variant"` without fields, `{"Variant": value}` with one, `{"Variant": [values]}` with more.
fn encode_named(
    name: &str,
    value: &Value,
    path: &str,
    out: &mut Vec<u8>,
    types: &TypeTable,
    depth: usize,
) -> Result<(), TypeError> {
    let definition = lookup(name, path, types)?;
    let mismatch = |expected: String| TypeError::Mismatch {
        path: path.to_string(),
        expected,
        found: short(value),
    };
    if definition.kind == "struct" {
        for (index, field) in definition.fields.iter().enumerate() {
            let item = match value {
                Value::Object(map) => map.get(&field.name),
                Value::Array(items) if items.len() == definition.fields.len() => items.get(index),
                _ => None,
            }
            .ok_or_else(|| mismatch(format!("a {name} object with field `{}`", field.name)))?;
            AbiType::parse(&field.ty)?.encode_nested(
                item,
                &format!("{path}.{}", field.name),
                out,
                types,
                depth + 1,
            )?;
        }
        return Ok(());
    }
    let (variant_name, payload) = match value {
        Value::String(variant) => (variant.as_str(), None),
        Value::Object(map) if map.len() == 1 => {
            let (variant, payload) = map.iter().next().expect("one entry");
            (variant.as_str(), Some(payload))
        }
        _ => return Err(mismatch(format!("a {name} variant"))),
    };
    let (index, variant) = definition
        .variants
        .iter()
        .enumerate()
        .find(|(_, variant)| variant.name == variant_name)
        .ok_or_else(|| mismatch(format!("one of {name}'s variants")))?;
    // SCALE names a variant by one byte: past the 256th, a variant cannot be encoded (and a
    // truncated index would name another one).
    let index =
        u8::try_from(index).map_err(|_| mismatch(format!("one of {name}'s first 256 variants")))?;
    out.push(index);
    let values: Vec<&Value> = match (variant.fields.len(), payload) {
        (0, None) => Vec::new(),
        (1, Some(value)) => vec![value],
        (n, Some(Value::Array(items))) if items.len() == n => items.iter().collect(),
        _ => {
            return Err(mismatch(format!(
                "{name}::{variant_name} with {} fields",
                variant.fields.len()
            )));
        }
    };
    for (position, (ty, item)) in variant.fields.iter().zip(values).enumerate() {
        AbiType::parse(ty)?.encode_nested(
            item,
            &format!("{path}.{variant_name}.{position}"),
            out,
            types,
            depth + 1,
        )?;
    }
    Ok(())
}

fn decode_named(
    name: &str,
    input: &mut &[u8],
    path: &str,
    types: &TypeTable,
    budget: &mut DecodeBudget,
    depth: usize,
) -> Result<Value, TypeError> {
    let definition = lookup(name, path, types)?;
    if definition.kind == "struct" {
        let mut object = serde_json::Map::new();
        for field in &definition.fields {
            let value = AbiType::parse(&field.ty)?.decode_nested(
                input,
                &format!("{path}.{}", field.name),
                types,
                budget,
                depth + 1,
            )?;
            object.insert(field.name.clone(), value);
        }
        return Ok(Value::Object(object));
    }
    let fail = |reason: String| TypeError::Decode {
        path: path.to_string(),
        expected: format!("a {name}"),
        reason,
    };
    let (&index, rest) = input
        .split_first()
        .ok_or_else(|| fail("no variant index".into()))?;
    *input = rest;
    let variant = definition
        .variants
        .get(usize::from(index))
        .ok_or_else(|| fail(format!("variant index {index}")))?;
    let mut values = Vec::new();
    for (position, ty) in variant.fields.iter().enumerate() {
        values.push(AbiType::parse(ty)?.decode_nested(
            input,
            &format!("{path}.{}.{position}", variant.name),
            types,
            budget,
            depth + 1,
        )?);
    }
    Ok(match values.len() {
        0 => Value::String(variant.name.clone()),
        1 => serde_json::json!({ &variant.name: values.remove(0) }),
        _ => serde_json::json!({ &variant.name: values }),
    })
}

fn short(value: &Value) -> String {
    shorten(&value.to_string())
}

/// The first 40 characters of `text` (cut at a character, never inside one).
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn unsigned(value: &Value) -> Option<u128> {
    match value {
        Value::Number(number) => number.as_u64().map(u128::from),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn signed(value: &Value) -> Option<i128> {
    match value {
        Value::Number(number) => number.as_i64().map(i128::from),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn hex_bytes(value: &Value, length: Option<usize>) -> Option<Vec<u8>> {
    let text = value.as_str()?;
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
    match length {
        Some(length) if bytes.len() != length => None,
        _ => Some(bytes),
    }
}
