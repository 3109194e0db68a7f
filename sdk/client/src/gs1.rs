//! GS1 identifiers as EPCIS 2.0 writes them: EPC URNs (GS1 EPC Tag Data Standard 2.x, pure
//! identity and class URIs) and GS1 Digital Link URIs, read into the plain GS1 keys the supply
//! contract stores (GTIN-14 and serial, SSCC-18, GLN-13 with an optional extension) and written
//! back — as an EPC URN when the GS1 company prefix is known (its length splits the key), else as
//! a Digital Link URI, which needs none.

use std::fmt;

/// The resolver Digital Link URIs are written with.
pub const DIGITAL_LINK_BASE: &str = "https://id.gs1.org";

/// A GS1 identifier named in an EPCIS document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identifier {
    /// A serialised trade item: GTIN-14 and serial (AI 01 + 21).
    Sgtin {
        /// GTIN-14.
        gtin: String,
        /// Serial, decoded.
        serial: String,
    },
    /// A logistic unit: SSCC-18 (AI 00).
    Sscc(String),
    /// A location: GLN-13 and its extension (AI 414 + 254), None for the GLN itself (`0`).
    Sgln {
        /// GLN-13.
        gln: String,
        /// Extension, None when absent or `0`.
        extension: Option<String>,
    },
    /// A party: its GLN-13 (AI 417).
    Pgln(String),
    /// A lot of a trade item (AI 01 + 10): a class, not an instance.
    Lgtin {
        /// GTIN-14.
        gtin: String,
        /// Lot, decoded.
        lot: String,
    },
}

/// Why a string is not a GS1 identifier this adapter reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{identifier}` is not a usable GS1 identifier: {reason}")]
pub struct IdentifierError {
    /// The string as given.
    pub identifier: String,
    /// Why.
    pub reason: String,
}

fn error(identifier: &str, reason: impl Into<String>) -> IdentifierError {
    IdentifierError {
        identifier: identifier.to_string(),
        reason: reason.into(),
    }
}

/// The GS1 mod-10 check digit of `digits` (the key without its check digit): weights 3 and 1
/// alternating from the right.
pub fn check_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 0 { 3 * digit } else { digit }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Whether `key` is `length` digits ending in its valid check digit.
pub fn valid_key(key: &str, length: usize) -> bool {
    key.len() == length && all_digits(key) && key.ends_with(check_digit(&key[..length - 1]))
}

/// Decodes `%XX` escapes (URN and URI syntax).
fn percent_decode(text: &str, whole: &str) -> Result<String, IdentifierError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| error(whole, "a bad %-escape"))?;
            out.push(hex);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| error(whole, "a %-escape that is not UTF-8"))
}

/// GS1 AI 21 / AI 10 values: 1 to 20 characters of GS1's character set 82 (printable ASCII
/// without space and a few symbols).
fn check_attribute(value: &str, whole: &str, what: &str) -> Result<(), IdentifierError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c);
    if value.is_empty() || value.len() > 20 || !value.chars().all(allowed) {
        return Err(error(
            whole,
            format!("the {what} must be 1 to 20 characters of GS1's character set 82"),
        ));
    }
    Ok(())
}

/// Escapes what an EPC URN may not carry literally (TDS §A: `"`, `%`, `&`, `/`, `<`, `>`, `?`).
fn urn_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\"%&/<>?".contains(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes what a URI path segment may not carry literally (RFC 3986 unreserved kept).
fn path_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Reads an EPC URN or a GS1 Digital Link URI.
///
/// # Errors
/// [`IdentifierError`] for anything else: another URN scheme, a wrong number of digits, a bad
/// check digit, a bad escape, a Digital Link with a query (key qualifiers and data attributes
/// the contract does not store).
pub fn parse(identifier: &str) -> Result<Identifier, IdentifierError> {
    if let Some(rest) = identifier.strip_prefix("urn:epc:") {
        parse_urn(rest, identifier)
    } else if identifier.starts_with("https://") || identifier.starts_with("http://") {
        parse_digital_link(identifier)
    } else {
        Err(error(
            identifier,
            "neither an EPC URN (urn:epc:…) nor a GS1 Digital Link URI (https://…)",
        ))
    }
}

fn parse_urn(rest: &str, whole: &str) -> Result<Identifier, IdentifierError> {
    let (scheme, body) = rest
        .rsplit_once(':')
        .ok_or_else(|| error(whole, "no EPC scheme"))?;
    let parts: Vec<&str> = body.split('.').collect();
    let digits = |index: usize| -> Result<&str, IdentifierError> {
        parts
            .get(index)
            .copied()
            .filter(|part| all_digits(part))
            .ok_or_else(|| error(whole, "a company prefix and reference of digits"))
    };
    let identifier = match scheme {
        "id:sgtin" | "class:lgtin" => {
            if parts.len() != 3 {
                return Err(error(
                    whole,
                    "expected CompanyPrefix.IndicatorItemRef.Value",
                ));
            }
            let (prefix, item) = (digits(0)?, digits(1)?);
            if prefix.len() + item.len() != 13 {
                return Err(error(
                    whole,
                    "company prefix and item reference are not 13 digits",
                ));
            }
            let body = format!("{}{prefix}{}", &item[..1], &item[1..]);
            let gtin = format!("{body}{}", check_digit(&body));
            let value = percent_decode(parts[2], whole)?;
            if scheme == "id:sgtin" {
                check_attribute(&value, whole, "serial")?;
                Identifier::Sgtin {
                    gtin,
                    serial: value,
                }
            } else {
                check_attribute(&value, whole, "lot")?;
                Identifier::Lgtin { gtin, lot: value }
            }
        }
        "id:sscc" => {
            if parts.len() != 2 {
                return Err(error(whole, "expected CompanyPrefix.ExtensionSerialRef"));
            }
            let (prefix, serial) = (digits(0)?, digits(1)?);
            if prefix.len() + serial.len() != 17 {
                return Err(error(
                    whole,
                    "company prefix and serial reference are not 17 digits",
                ));
            }
            let body = format!("{}{prefix}{}", &serial[..1], &serial[1..]);
            Identifier::Sscc(format!("{body}{}", check_digit(&body)))
        }
        "id:sgln" | "id:pgln" => {
            let expected = if scheme == "id:sgln" { 3 } else { 2 };
            if parts.len() != expected {
                return Err(error(whole, "expected CompanyPrefix.Reference[.Extension]"));
            }
            let (prefix, reference) = (digits(0)?, parts[1]);
            if !(reference.is_empty() || all_digits(reference))
                || prefix.len() + reference.len() != 12
            {
                return Err(error(
                    whole,
                    "company prefix and reference are not 12 digits",
                ));
            }
            let body = format!("{prefix}{reference}");
            let gln = format!("{body}{}", check_digit(&body));
            if scheme == "id:pgln" {
                Identifier::Pgln(gln)
            } else {
                let extension = percent_decode(parts[2], whole)?;
                check_attribute(&extension, whole, "extension")?;
                Identifier::Sgln {
                    gln,
                    extension: (extension != "0").then_some(extension),
                }
            }
        }
        other => {
            return Err(error(
                whole,
                format!("the EPC scheme `{other}` names nothing the supply contract tracks"),
            ));
        }
    };
    Ok(identifier)
}

fn parse_digital_link(whole: &str) -> Result<Identifier, IdentifierError> {
    let after_scheme = whole.split_once("://").map_or(whole, |(_, rest)| rest);
    if after_scheme.contains(['?', '#']) {
        return Err(error(
            whole,
            "a Digital Link query or fragment (data attributes the contract does not store)",
        ));
    }
    let path = after_scheme.split_once('/').map_or("", |(_, path)| path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key is the first known AI in the path (a resolver may add path segments first).
    let start = segments
        .iter()
        .position(|segment| ["01", "00", "414", "417"].contains(segment))
        .ok_or_else(|| {
            error(
                whole,
                "no GS1 primary key (AI 01, 00, 414 or 417) in the path",
            )
        })?;
    let pairs = &segments[start..];
    if !pairs.len().is_multiple_of(2) {
        return Err(error(whole, "an AI without a value"));
    }
    let value = |index: usize| percent_decode(pairs[index], whole);
    let identifier = match (pairs[0], pairs.get(2).copied()) {
        ("01", qualifier) => {
            let key = value(1)?;
            if !all_digits(&key) || ![8, 12, 13, 14].contains(&key.len()) {
                return Err(error(whole, "a GTIN of 8, 12, 13 or 14 digits"));
            }
            let gtin = format!("{key:0>14}");
            if !valid_key(&gtin, 14) {
                return Err(error(whole, "the GTIN's check digit is wrong"));
            }
            match (qualifier, pairs.len()) {
                (Some("21"), 4) => {
                    let serial = value(3)?;
                    check_attribute(&serial, whole, "serial")?;
                    Identifier::Sgtin { gtin, serial }
                }
                (Some("10"), 4) => {
                    let lot = value(3)?;
                    check_attribute(&lot, whole, "lot")?;
                    Identifier::Lgtin { gtin, lot }
                }
                _ => {
                    return Err(error(
                        whole,
                        "a GTIN needs a serial (/21/…) or a lot (/10/…), and nothing more",
                    ));
                }
            }
        }
        ("00", None) => {
            let sscc = value(1)?;
            if !valid_key(&sscc, 18) {
                return Err(error(whole, "an SSCC of 18 digits with its check digit"));
            }
            Identifier::Sscc(sscc)
        }
        (ai @ ("414" | "417"), qualifier) => {
            let gln = value(1)?;
            if !valid_key(&gln, 13) {
                return Err(error(whole, "a GLN of 13 digits with its check digit"));
            }
            match (ai, qualifier, pairs.len()) {
                ("417", None, 2) => Identifier::Pgln(gln),
                ("414", None, 2) => Identifier::Sgln {
                    gln,
                    extension: None,
                },
                ("414", Some("254"), 4) => {
                    let extension = value(3)?;
                    check_attribute(&extension, whole, "extension")?;
                    Identifier::Sgln {
                        gln,
                        extension: (extension != "0").then_some(extension),
                    }
                }
                _ => return Err(error(whole, "unexpected AIs after the GLN")),
            }
        }
        _ => return Err(error(whole, "unexpected AIs after the primary key")),
    };
    Ok(identifier)
}

/// The length of the GS1 company prefix that starts `digits`, among `prefixes`: the longest
/// that matches, if any.
fn prefix_length<'a>(digits: &str, prefixes: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    prefixes
        .into_iter()
        .filter(|prefix| (6..=12).contains(&prefix.len()) && digits.starts_with(prefix))
        .map(str::len)
        .max()
}

impl Identifier {
    /// The identifier as an EPC URN when one of `prefixes` (GS1 company prefixes) splits its
    /// key, else as a GS1 Digital Link URI on [`DIGITAL_LINK_BASE`].
    pub fn render<'a>(&self, prefixes: impl IntoIterator<Item = &'a str> + Clone) -> String {
        self.urn(prefixes).unwrap_or_else(|| self.digital_link())
    }

    /// The EPC URN, if one of `prefixes` is this key's company prefix.
    pub fn urn<'a>(&self, prefixes: impl IntoIterator<Item = &'a str>) -> Option<String> {
        Some(match self {
            Identifier::Sgtin { gtin, serial } => {
                let length = prefix_length(&gtin[1..], prefixes)?;
                let (prefix, item) = gtin[1..13].split_at(length);
                format!(
                    "urn:epc:id:sgtin:{prefix}.{}{item}.{}",
                    &gtin[..1],
                    urn_escape(serial)
                )
            }
            Identifier::Lgtin { gtin, lot } => {
                let length = prefix_length(&gtin[1..], prefixes)?;
                let (prefix, item) = gtin[1..13].split_at(length);
                format!(
                    "urn:epc:class:lgtin:{prefix}.{}{item}.{}",
                    &gtin[..1],
                    urn_escape(lot)
                )
            }
            Identifier::Sscc(sscc) => {
                let length = prefix_length(&sscc[1..], prefixes)?;
                let (prefix, serial) = sscc[1..17].split_at(length);
                format!("urn:epc:id:sscc:{prefix}.{}{serial}", &sscc[..1])
            }
            Identifier::Sgln { gln, extension } => {
                let length = prefix_length(gln, prefixes)?;
                let (prefix, reference) = gln[..12].split_at(length);
                let extension = extension.as_deref().map_or("0".into(), urn_escape);
                format!("urn:epc:id:sgln:{prefix}.{reference}.{extension}")
            }
            Identifier::Pgln(gln) => {
                let length = prefix_length(gln, prefixes)?;
                let (prefix, reference) = gln[..12].split_at(length);
                format!("urn:epc:id:pgln:{prefix}.{reference}")
            }
        })
    }

    /// The GS1 Digital Link URI on [`DIGITAL_LINK_BASE`].
    pub fn digital_link(&self) -> String {
        match self {
            Identifier::Sgtin { gtin, serial } => {
                format!("{DIGITAL_LINK_BASE}/01/{gtin}/21/{}", path_escape(serial))
            }
            Identifier::Lgtin { gtin, lot } => {
                format!("{DIGITAL_LINK_BASE}/01/{gtin}/10/{}", path_escape(lot))
            }
            Identifier::Sscc(sscc) => format!("{DIGITAL_LINK_BASE}/00/{sscc}"),
            Identifier::Sgln {
                gln,
                extension: None,
            } => format!("{DIGITAL_LINK_BASE}/414/{gln}"),
            Identifier::Sgln {
                gln,
                extension: Some(extension),
            } => format!(
                "{DIGITAL_LINK_BASE}/414/{gln}/254/{}",
                path_escape(extension)
            ),
            Identifier::Pgln(gln) => format!("{DIGITAL_LINK_BASE}/417/{gln}"),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digital_link())
    }
}

/// A location as the supply contract stores it: the GLN-13, followed by `.` and the SGLN
/// extension when there is one.
pub fn location_code(gln: &str, extension: Option<&str>) -> String {
    match extension {
        Some(extension) => format!("{gln}.{extension}"),
        None => gln.to_string(),
    }
}

/// The GLN and extension of a stored location code ([`location_code`]), if it is one.
pub fn split_location_code(code: &str) -> Option<(&str, Option<&str>)> {
    let (gln, extension) = match code.split_once('.') {
        Some((gln, extension)) => (gln, Some(extension)),
        None => (code, None),
    };
    valid_key(gln, 13).then_some((gln, extension))
}
