//! Products (GTIN with the NDC it carries), registered by their marketing-authorisation holder.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{active, check_code};
use crate::gs1::valid_check_digit;
use crate::storage::PRODUCTS;
use crate::types::*;

/// Whether `gtin` is a GTIN-14 for a US drug that carries `ndc`: a packaging indicator digit,
/// the `03` NDC prefix, the ten NDC digits (any of the 4-4-2, 5-3-2 and 5-4-1 hyphenations)
/// and a valid GS1 mod-10 check digit.
pub(crate) fn gtin_embeds_ndc(gtin: &str, ndc: &str) -> bool {
    let gtin = gtin.as_bytes();
    if gtin.len() != 14 || !gtin.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let ndc_digits: Vec<u8> = ndc.bytes().filter(|byte| *byte != b'-').collect();
    let hyphens = ndc.bytes().filter(|byte| *byte == b'-').count();
    if hyphens != 2 || ndc_digits.len() != 10 || !ndc_digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    &gtin[1..3] == b"03" && gtin[3..13] == ndc_digits[..] && valid_check_digit(gtin)
}

/// The body of [`Supply::register_product`](crate::Supply::register_product).
pub(crate) fn register_product(
    gtin: String,
    ndc: String,
    name: String,
    strength: String,
    dosage_form: String,
    container_size: String,
) -> Result<(), SupplyError> {
    for code in [&gtin, &ndc, &name, &strength, &dosage_form, &container_size] {
        check_code(code)?;
    }
    if !gtin_embeds_ndc(&gtin, &ndc) {
        return Err(SupplyError::InvalidIdentifier);
    }
    let owner = caller();
    if !active(&owner, Role::Manufacturer)? {
        return Err(SupplyError::NotAuthorised);
    }
    if PRODUCTS.contains(&gtin) {
        return Err(SupplyError::AlreadyCommissioned);
    }
    PRODUCTS.insert(
        &gtin.clone(),
        &Product {
            gtin,
            ndc,
            owner,
            name,
            strength,
            dosage_form,
            container_size,
        },
    );
    Ok(())
}
