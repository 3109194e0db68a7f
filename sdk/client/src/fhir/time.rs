//! FHIR `dateTime` and `instant` to and from the signed milliseconds the consent contract stores
//! (UTC, proleptic Gregorian; before 1970 negative). A partial date stands for its whole span:
//! as a period's start, its first millisecond; as its end (inclusive in FHIR, exclusive on
//! chain), the first millisecond after it.

use crate::epcis::time::{civil_from_days, days_from_civil, days_in_month};

const DAY_MS: i64 = 86_400_000;

/// A `dateTime` as (its first millisecond, the first millisecond after its precision).
pub fn parse_span(text: &str) -> Option<(i64, i64)> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let year = number(0..4)?;
    match text.len() {
        4 => Some((
            days_from_civil(year, 1, 1) * DAY_MS,
            days_from_civil(year + 1, 1, 1) * DAY_MS,
        )),
        7 if &text[4..5] == "-" => {
            let month = u32::try_from(number(5..7)?).ok()?;
            if !(1..=12).contains(&month) {
                return None;
            }
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            Some((
                days_from_civil(year, month, 1) * DAY_MS,
                days_from_civil(next_year, next_month, 1) * DAY_MS,
            ))
        }
        10 => {
            let start = parse_day(text)?;
            Some((start, start + DAY_MS))
        }
        _ => parse_date_time(text),
    }
}

/// `YYYY-MM-DD` as its UTC midnight.
fn parse_day(text: &str) -> Option<i64> {
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
    Some(days_from_civil(year, month, day) * DAY_MS)
}

/// `YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh:mm)`: (the instant, the instant plus its precision — a
/// second, or a millisecond with a fraction).
fn parse_date_time(text: &str) -> Option<(i64, i64)> {
    let (date, time) = text.split_once('T')?;
    let day = parse_day(date)?;
    let clock = time.get(..8)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (h, m, s) = (clock.get(0..2)?, clock.get(3..5)?, clock.get(6..8)?);
    if !digits(h) || !digits(m) || !digits(s) || &clock[2..3] != ":" || &clock[5..6] != ":" {
        return None;
    }
    let (h, m, s): (i64, i64, i64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let mut rest = &time[8..];
    let mut ms = 0;
    let mut precision = 1000;
    if let Some(fraction) = rest.strip_prefix('.') {
        let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &fraction[..count.min(3)]);
        ms = first3.parse::<i64>().ok()?;
        if fraction[3.min(count)..count].bytes().any(|b| b != b'0') {
            return None; // finer than the chain's millisecond
        }
        precision = 1;
        rest = &fraction[count..];
    }
    let offset = if rest == "Z" {
        0
    } else {
        let sign = match rest.get(..1)? {
            "+" => 1,
            "-" => -1,
            _ => return None,
        };
        let (oh, om) = (rest.get(1..3)?, rest.get(4..6)?);
        if rest.len() != 6 || &rest[3..4] != ":" || !digits(oh) || !digits(om) {
            return None;
        }
        sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?) * 60_000
    };
    let at = day + ((h * 60 + m) * 60 + s) * 1000 + ms - offset;
    Some((at, at + precision))
}

/// `ms` as a FHIR `dateTime`: the day alone at a UTC midnight, else the instant with
/// milliseconds.
pub fn format_start(ms: i64) -> String {
    if ms.rem_euclid(DAY_MS) == 0 {
        let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format_instant(ms)
    }
}

/// An exclusive end `ms` as the inclusive FHIR `dateTime` that reads back to it: the day before
/// a UTC midnight, else the last millisecond.
pub fn format_end(ms: i64) -> String {
    if ms.rem_euclid(DAY_MS) == 0 {
        let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS) - 1);
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format_instant(ms - 1)
    }
}

/// `ms` as an `instant` (`2026-12-07T11:06:42.123Z`).
pub fn format_instant(ms: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_back_through_their_formats() {
        assert_eq!(parse_span("1970-01-02"), Some((DAY_MS, 2 * DAY_MS)));
        assert_eq!(parse_span("1969"), Some((-365 * DAY_MS, 0)));
        assert_eq!(
            parse_span("2026-02").map(|(s, e)| (e - s) / DAY_MS),
            Some(28)
        );
        assert_eq!(parse_span("1970-01-01T01:00:00+01:00"), Some((0, 1000)));
        assert_eq!(parse_span("1970-01-01T00:00:00.5Z"), Some((500, 501)));
        for ms in [-3 * DAY_MS, 0, 5 * DAY_MS + 1234, -17] {
            assert_eq!(parse_span(&format_start(ms)).unwrap().0, ms);
            assert_eq!(parse_span(&format_end(ms)).unwrap().1, ms);
        }
        assert_eq!(parse_span("2026-13-01"), None);
        assert_eq!(parse_span("2026-01-01T10:00:00"), None, "no zone");
    }
}
