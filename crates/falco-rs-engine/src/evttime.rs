//! libsinsp's renderings of event timestamps (nanoseconds since the Unix epoch): the
//! `evt.time*` fields, the time that starts a text alert (Falco's prefix is
//! `*%evt.time` or `*%evt.time.iso8601`, so it is the field's text) and the JSON alert
//! `time`. One implementation for the fields and the alerts, so the two cannot disagree.

use crate::bytes::decimal;

const NS_PER_SEC: u64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// The host's UTC offset now, in seconds truncated to whole minutes: libsinsp's
/// `gmt2local(0)`, which `ts_to_string` applies to every timestamp (the offset now, not
/// the one in force at the event's time).
pub fn local_offset_secs() -> i64 {
    let off = i64::from(chrono::Local::now().offset().local_minus_utc());
    off - off % 60
}

/// Appends libsinsp `ts_to_string`: `[YYYY-MM-DD ]HH:MM:SS[.nnnnnnnnn]` in the host's
/// local time (`evt.time`, `evt.time.s`, `evt.datetime`, `evt.datetime.s`).
pub fn push_local(out: &mut String, ts: u64, date: bool, ns: bool) {
    push_with_offset(out, ts, local_offset_secs(), date, ns);
}

/// [`push_local`] with the UTC offset given in seconds.
pub fn push_with_offset(out: &mut String, ts: u64, offset: i64, date: bool, ns: bool) {
    let secs = i64::try_from(ts / NS_PER_SEC).unwrap_or(i64::MAX) + offset;
    push_datetime(out, secs, ts % NS_PER_SEC, b' ', date, ns);
}

/// Appends `[YYYY-MM-DD<sep>]HH:MM:SS[.nnnnnnnnn]` of `secs` (since the epoch) and
/// `nsec`: into a fixed template for years 0000–9999, digit by digit for others (not
/// reached from a `u64` of nanoseconds and a real UTC offset; kept so that no input
/// renders wrongly).
fn push_datetime(out: &mut String, secs: i64, nsec: u64, sep: u8, date: bool, ns: bool) {
    let mut text = *b"0000-00-00 00:00:00.000000000";
    text[10] = sep;
    if put_datetime(&mut text, secs, nsec) {
        let from = if date { 0 } else { 11 };
        let to = if ns { text.len() } else { 19 };
        out.push_str(std::str::from_utf8(&text[from..to]).unwrap_or_default());
        return;
    }
    if date {
        push_date(out, secs.div_euclid(SECS_PER_DAY));
        out.push(char::from(sep));
    }
    push_clock(out, secs.rem_euclid(SECS_PER_DAY));
    if ns {
        out.push('.');
        push_digits(out, nsec, 9);
    }
}

/// Writes the date, time and nanoseconds of `secs` (since the epoch) into a
/// `0000-00-00 00:00:00.000000000`-shaped `text` (the separators are left as they are);
/// `false` for a year outside 0000–9999.
fn put_datetime(text: &mut [u8; 29], secs: i64, nsec: u64) -> bool {
    let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let Ok(year @ 0..=9999) = u64::try_from(y) else {
        return false;
    };
    let s = secs.rem_euclid(SECS_PER_DAY).unsigned_abs();
    for (range, n) in [
        (0..4, year),
        (5..7, u64::from(m)),
        (8..10, u64::from(d)),
        (11..13, s / 3600),
        (14..16, s % 3600 / 60),
        (17..19, s % 60),
        (20..29, nsec),
    ] {
        put_digits(&mut text[range], n);
    }
    true
}

/// Writes the lowest `dst.len()` decimal digits of `n` into `dst`, zero-padded.
fn put_digits(dst: &mut [u8], mut n: u64) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Appends libsinsp `ts_to_iso_8601` (`evt.time.iso8601`):
/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000`, always UTC.
pub fn push_iso8601(out: &mut String, ts: u64) {
    push_utc(out, ts);
    out.push_str("+0000");
}

/// Appends the JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC).
pub fn push_json_time(out: &mut String, ts: u64) {
    push_utc(out, ts);
    out.push('Z');
}

/// The JSON alert `time` of `ts` (see [`push_json_time`]).
pub fn json_time(ts: u64) -> String {
    let mut s = String::with_capacity(30);
    push_json_time(&mut s, ts);
    s
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (UTC) of `ts`.
fn push_utc(out: &mut String, ts: u64) {
    let secs = i64::try_from(ts / NS_PER_SEC).unwrap_or(i64::MAX);
    push_datetime(out, secs, ts % NS_PER_SEC, b'T', true, true);
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
fn push_date(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if y < 0 {
        out.push('-');
    }
    push_digits(out, y.unsigned_abs(), 4);
    out.push('-');
    push_digits(out, u64::from(m), 2);
    out.push('-');
    push_digits(out, u64::from(d), 2);
}

/// `HH:MM:SS` of the seconds into a day.
fn push_clock(out: &mut String, day_secs: i64) {
    let s = day_secs.unsigned_abs();
    push_digits(out, s / 3600, 2);
    out.push(':');
    push_digits(out, s % 3600 / 60, 2);
    out.push(':');
    push_digits(out, s % 60, 2);
}

/// Appends `n` in decimal, left-padded with zeros to at least `width` digits.
pub fn push_digits(out: &mut String, n: u64, width: usize) {
    let (digits, len) = decimal(n);
    for _ in usize::from(len)..width {
        out.push('0');
    }
    for &d in &digits[digits.len() - usize::from(len)..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // literal instants
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone, Utc};

    fn with(f: impl Fn(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        s
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 10_957, 19_844, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn renderings() {
        let ts = 1_714_557_600_123_456_789;
        assert_eq!(
            with(|s| push_iso8601(s, ts)),
            "2024-05-01T10:00:00.123456789+0000"
        );
        assert_eq!(
            with(|s| push_json_time(s, ts)),
            "2024-05-01T10:00:00.123456789Z"
        );
        assert_eq!(
            with(|s| push_with_offset(s, ts, 0, false, true)),
            "10:00:00.123456789"
        );
        assert_eq!(
            with(|s| push_with_offset(s, ts, 0, false, false)),
            "10:00:00"
        );
        assert_eq!(
            with(|s| push_with_offset(s, ts, 7200, true, true)),
            "2024-05-01 12:00:00.123456789"
        );
        assert_eq!(
            with(|s| push_with_offset(s, ts, -36_000 - 60, true, false)),
            "2024-04-30 23:59:00"
        );
        assert_eq!(json_time(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(with(|s| push_digits(s, u64::MAX, 2)), u64::MAX.to_string());
        assert_eq!(with(|s| push_digits(s, 7, 3)), "007");
        // Years outside 0000-9999 (only reachable with absurd offsets) take the slow path.
        assert_eq!(
            with(|s| push_with_offset(s, 0, -62_167_219_200 - 86_400, true, false)),
            "-0001-12-31 00:00:00"
        );
        assert_eq!(
            with(|s| push_with_offset(s, 0, 253_402_300_800, true, true)),
            "10000-01-01 00:00:00.000000000"
        );
    }

    /// The renderings are chrono's `strftime` of the same instant (the local ones at
    /// the offset now), over 2,000 instants up to 2100.
    #[test]
    fn renderings_match_chrono_strftime() {
        let here = FixedOffset::east_opt(local_offset_secs() as i32).unwrap();
        let mut ns: u64 = 1;
        for _ in 0..2000 {
            ns = ns
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                % 4_102_444_800_000_000_000;
            let dt = Utc
                .timestamp_opt((ns / NS_PER_SEC) as i64, (ns % NS_PER_SEC) as u32)
                .single()
                .unwrap();
            assert_eq!(
                json_time(ns),
                dt.format("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
            );
            assert_eq!(
                with(|s| push_iso8601(s, ns)),
                dt.format("%Y-%m-%dT%H:%M:%S.%9f+0000").to_string()
            );
            let local = dt.with_timezone(&here);
            assert_eq!(
                with(|s| push_local(s, ns, false, true)),
                local.format("%H:%M:%S.%9f").to_string()
            );
            assert_eq!(
                with(|s| push_local(s, ns, true, false)),
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            );
        }
    }
}
