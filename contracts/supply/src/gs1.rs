//! GS1 identifiers and dates, as the GS1 General Specifications define them: the mod-10 check
//! digit of every numeric key (GTIN, SSCC; §7.9.1), the SSCC's shape (AI 00: 18 digits) and
//! AI (17) expiry dates (YYMMDD, day `00` = the last day of the month; the century by the
//! sliding window of §7.12). Pure functions of their inputs; days count from 1970-01-01 (UTC).

/// Milliseconds in a day.
pub(crate) const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Whether `key` is all digits and its last digit is the GS1 mod-10 check digit of the others
/// (General Specifications §7.9.1: weights 3, 1, 3, … from the rightmost data digit).
pub(crate) fn valid_check_digit(key: &[u8]) -> bool {
    let Some((&check, data)) = key.split_last() else {
        return false;
    };
    if !key.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = data
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let weight = if position % 2 == 0 { 3 } else { 1 };
            u32::from(digit - b'0') * weight
        })
        .sum();
    u32::from(check - b'0') == (10 - sum % 10) % 10
}

/// Whether `code` is an SSCC (AI 00): 18 digits ending in a valid check digit.
pub(crate) fn is_sscc(code: &str) -> bool {
    code.len() == 18 && valid_check_digit(code.as_bytes())
}

/// Whether `year` is a Gregorian leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The year of a day counted from 1970-01-01 (the inverse of [`days_from_civil`], year only).
pub(crate) fn year_of_day(days: i64) -> i64 {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if month_index >= 10 { year + 1 } else { year }
}

/// The UTC day of an instant in milliseconds.
pub(crate) fn day_of_ms(ms: u64) -> i64 {
    (ms / DAY_MS) as i64
}

/// An AI (17) date, `YYMMDD`, as a day from 1970-01-01, or `None` if it is not one. Day `00`
/// means the last day of the month (AI 17). The century follows §7.12 from `today`'s year:
/// a two-digit year 51–99 years ahead of this year's falls in the previous century, one 50–99
/// years behind in the next, any other in this one.
pub(crate) fn parse_date(yymmdd: &str, today: i64) -> Option<i64> {
    let digits = yymmdd.as_bytes();
    if digits.len() != 6 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let pair = |at: usize| u32::from(digits[at] - b'0') * 10 + u32::from(digits[at + 1] - b'0');
    let (yy, month, day) = (i64::from(pair(0)), pair(2), pair(4));
    if !(1..=12).contains(&month) {
        return None;
    }
    let current = year_of_day(today);
    let century = current - current.rem_euclid(100);
    let year = match yy - current.rem_euclid(100) {
        difference if difference >= 51 => century - 100 + yy,
        difference if difference <= -50 => century + 100 + yy,
        _ => century + yy,
    };
    let last = days_in_month(year, month);
    let day = if day == 0 { last } else { day };
    if day > last {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07, a day in the current century.
    const TODAY: i64 = 20_794;

    #[test]
    fn civil_days_round_trip_through_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 12, 7), TODAY);
        for day in [-1, 0, 59, 365, 11_016, 11_017, TODAY, 47_540] {
            let year = year_of_day(day);
            assert!(days_from_civil(year, 1, 1) <= day, "{day}");
            assert!(day < days_from_civil(year + 1, 1, 1), "{day}");
        }
    }

    #[test]
    fn day_00_is_the_last_day_of_the_month_leap_years_included() {
        let date = |text| parse_date(text, TODAY);
        assert_eq!(date("280200"), Some(days_from_civil(2028, 2, 29)));
        assert_eq!(date("280200"), date("280229"));
        assert_eq!(date("270200"), Some(days_from_civil(2027, 2, 28)));
        assert_eq!(date("270229"), None, "2027 is not a leap year");
        assert_eq!(
            date("000200"),
            Some(days_from_civil(2000, 2, 29)),
            "400-year rule"
        );
        assert_eq!(date("260400"), date("260430"));
        assert_eq!(date("261200"), date("261231"));
        assert_eq!(date("260431"), None);
        assert_eq!(date("261300"), None);
        assert_eq!(date("260001"), None);
        assert_eq!(date("2604"), None);
        assert_eq!(date("26043A"), None);
    }

    #[test]
    fn the_century_follows_the_sliding_window() {
        assert_eq!(
            parse_date("760101", TODAY),
            Some(days_from_civil(2076, 1, 1))
        );
        assert_eq!(
            parse_date("770101", TODAY),
            Some(days_from_civil(1977, 1, 1))
        );
        assert!(!is_leap(2100) && is_leap(2400) && is_leap(2028));
    }

    #[test]
    fn check_digits_follow_mod_10() {
        assert!(is_sscc("006141410000000012"));
        assert!(!is_sscc("006141410000000013"));
        assert!(!is_sscc("00614141000000001"));
        assert!(!is_sscc("SSCC00000000000012"));
        assert!(valid_check_digit(b"00312345678906"));
        assert!(!valid_check_digit(b"00312345678907"));
        assert!(!valid_check_digit(b""));
    }
}
