//! Products (GTIN with the NDC it carries), registered by their marketing-authorisation holder.

use registry::Role;
use salus_sdk::prelude::*;

use crate::checks::{active_in_any, attested_company_prefix, check_code};
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

/// Whether `gtin` carries the GS1 company prefix `prefix`: for a GTIN-14 the prefix follows the
/// indicator digit, for a GTIN-13 it leads, for a GTIN-12 (U.P.C.) it leads after the implied
/// `0` of its GTIN-13 form (GS1 General Specifications §3.3.2). An empty or non-numeric prefix
/// is carried by nothing.
pub(crate) fn carries_company_prefix(gtin: &str, prefix: &str) -> bool {
    if prefix.is_empty() || !prefix.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let digits = match gtin.len() {
        14 => &gtin[1..],
        13 => gtin,
        12 => {
            return prefix
                .strip_prefix('0')
                .is_some_and(|rest| gtin.starts_with(rest));
        }
        _ => return false,
    };
    digits.len() > prefix.len() && digits.starts_with(prefix)
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
    // A manufacturer, or a repackager for the product identifiers it gives what it repackages.
    if !active_in_any(&owner, &[Role::Manufacturer, Role::Repackager])? {
        return Err(SupplyError::NotAuthorised);
    }
    let prefix = attested_company_prefix(&owner)?;
    if !prefix.is_some_and(|prefix| carries_company_prefix(&gtin, &prefix)) {
        return Err(SupplyError::NotPrefixHolder);
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

#[cfg(test)]
mod tests {
    use super::carries_company_prefix;

    #[test]
    fn the_company_prefix_follows_the_indicator_digit_of_a_gtin_14_and_leads_a_gtin_13_or_12() {
        assert!(carries_company_prefix("00312345678906", "0312345"));
        assert!(carries_company_prefix("10312345678903", "0312345"));
        assert!(!carries_company_prefix("00399999999991", "0312345"));
        assert!(!carries_company_prefix("03123456789060", "0312345"));
        assert!(carries_company_prefix("0614141000012", "0614141"));
        assert!(carries_company_prefix("614141000012", "0614141"));
        assert!(!carries_company_prefix("614141000012", "614141"));
        assert!(!carries_company_prefix("00312345678906", ""));
        assert!(!carries_company_prefix("00312345678906", "03a"));
        assert!(!carries_company_prefix("0031234567890", "0312345"));
    }
}
