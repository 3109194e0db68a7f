//! Dates and times as EPCIS writes them (RFC 3339 date-times, `xsd:date` expiry dates) to and
//! from the milliseconds since the Unix epoch the supply contract stores, in UTC, with the
//! proleptic Gregorian calendar (days from civil dates by the usual era arithmetic).

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date.
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

/// The civil date of a day since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` (an `xsd:date` without a time zone) as the milliseconds of its UTC midnight.
pub fn parse_date(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (i64::from(number(0..4)?), number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    u64::try_from(days_from_civil(year, month, day) * DAY_MS).ok()
}

/// The UTC day of `ms` as `YYYY-MM-DD`.
pub fn format_date(ms: u64) -> String {
    let (year, month, day) = civil_from_days((ms as i64).div_euclid(DAY_MS));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `ms` as an RFC 3339 UTC date-time with milliseconds (`2026-12-07T11:06:42.123Z`).
pub fn format_date_time(ms: u64) -> String {
    let ms = ms as i64;
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Whether `text` is an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`).
pub fn is_date_time(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return false;
    };
    if parse_date(date).is_none() || time.len() < 9 {
        return false;
    }
    let clock = &time[..8];
    let digits_at = |s: &str, at: &[usize]| at.iter().all(|&i| s.as_bytes()[i].is_ascii_digit());
    if !digits_at(clock, &[0, 1, 3, 4, 6, 7]) || &clock[2..3] != ":" || &clock[5..6] != ":" {
        return false;
    }
    let mut rest = &time[8..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    rest == "Z" || rest == "z" || is_offset(rest)
}

/// Whether `text` is a time-zone offset `±HH:MM`.
pub fn is_offset(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 6
        && (bytes[0] == b'+' || bytes[0] == b'-')
        && bytes[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| bytes[i].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_milliseconds() {
        for date in [
            "1970-01-01",
            "2000-02-29",
            "2027-12-31",
            "2028-02-29",
            "2100-03-01",
        ] {
            assert_eq!(format_date(parse_date(date).unwrap()), date);
        }
        assert_eq!(parse_date("2027-02-29"), None);
        assert_eq!(parse_date("2027-13-01"), None);
        assert_eq!(
            format_date_time(1_796_000_000_123),
            "2026-11-30T00:53:20.123Z"
        );
        assert!(is_date_time("2026-11-30T00:53:20.123Z"));
        assert!(is_date_time("2026-11-30T23:33:20-05:00"));
        assert!(!is_date_time("2026-11-30 23:33:20Z"));
    }
}
