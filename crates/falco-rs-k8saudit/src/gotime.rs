//! Go's `time.Parse(time.RFC3339Nano, …)` for `stageTimestamp` (the renderings of the
//! `evt.time*` fields are `falco_rs_engine::evttime`'s).

use falco_rs_engine::evttime::days_from_civil;
use std::fmt::Write as _;

/// The layout the plugin parses `stageTimestamp` with (Go's `time.RFC3339Nano`).
const LAYOUT: &str = "2006-01-02T15:04:05.999999999Z07:00";

const NS_PER_SEC: u64 = 1_000_000_000;

/// Parses an audit `stageTimestamp` into nanoseconds since the Unix epoch.
///
/// Accepts exactly what Go's `time.Parse(time.RFC3339Nano, s)` accepts: `YYYY-MM-DDTHH:MM:SS`,
/// an optional fraction of any length (`.` or `,`, digits after the ninth ignored), then `Z`
/// or `±hh:mm`. Errors carry Go's message, e.g. `parsing time "2024-05-01 10:00:00" as
/// "2006-01-02T15:04:05.999999999Z07:00": cannot parse " 10:00:00" as "T"`.
///
/// Instants outside the range Go's `UnixNano` can represent wrap like Go's int64 arithmetic
/// before the conversion to `u64` that the plugin SDK performs.
pub(crate) fn parse_stage_timestamp(value: &str) -> Result<u64, String> {
    let (secs, nsec) = match utc_fast_path(value) {
        Some(t) => t,
        None => go_parse_rfc3339(value)?,
    };
    let ns = i128::from(secs) * i128::from(NS_PER_SEC) + i128::from(nsec);
    // Go: uint64(t.UnixNano()), where UnixNano wraps on int64 overflow.
    Ok(ns as i64 as u64)
}

/// The shape apiservers write, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with every field in
/// range, read at fixed offsets (the general parser below walks it element by element,
/// ~1.5% of a replay); `None` for anything else, which the general parser then decides.
/// Gives what the general parser gives: Unix seconds and nanoseconds.
fn utc_fast_path(value: &str) -> Option<(i64, u32)> {
    let b = value.as_bytes();
    if !(20..=30).contains(&b.len()) || b[b.len() - 1] != b'Z' {
        return None;
    }
    // The decimal value of `b[from..to]` when all are ASCII digits (at most nine here).
    let digits = |from: usize, to: usize| {
        b.get(from..to)?.iter().try_fold(0u32, |n, &d| {
            let v = d.wrapping_sub(b'0');
            (v <= 9).then(|| n * 10 + u32::from(v))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, min, sec) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour >= 24
        || min >= 60
        || sec >= 60
    {
        return None;
    }
    // Nothing, or `.` and one to nine digits, before the `Z`.
    let nsec = match b.len() - 20 {
        0 => 0,
        1 => return None,
        n if at(19, b'.') => digits(20, b.len() - 1)? * 10u32.pow(10 - n as u32),
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
    Some((secs, nsec))
}

/// Go's general `time.Parse` algorithm specialised to [`LAYOUT`]. Returns Unix seconds and
/// nanoseconds.
fn go_parse_rfc3339(orig: &str) -> Result<(i64, u32), String> {
    let cannot = |value_elem: &str, layout_elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(orig),
            quote(LAYOUT),
            quote(value_elem),
            quote(layout_elem)
        )
    };
    let message = |msg: &str| format!("parsing time {}{}", quote(orig), msg);

    let mut v = orig;

    // "2006"
    let b = v.as_bytes();
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return Err(cannot(v, "2006"));
    }
    let year = num(&b[..4]);
    v = &v[4..];
    v = skip(v, '-').ok_or_else(|| cannot(v, "-"))?;

    // "01"
    let (month, rest) = getnum(v, true).ok_or_else(|| cannot(v, "01"))?;
    if !(1..=12).contains(&month) {
        return Err(message(": month out of range"));
    }
    v = rest;
    v = skip(v, '-').ok_or_else(|| cannot(v, "-"))?;

    // "02" (validated against the month after parsing, as Go does)
    let (day, rest) = getnum(v, true).ok_or_else(|| cannot(v, "02"))?;
    v = rest;
    v = skip(v, 'T').ok_or_else(|| cannot(v, "T"))?;

    // "15": one or two digits
    let (hour, rest) = getnum(v, false).ok_or_else(|| cannot(v, "15"))?;
    if hour >= 24 {
        return Err(message(": hour out of range"));
    }
    v = rest;
    v = skip(v, ':').ok_or_else(|| cannot(v, ":"))?;

    // "04"
    let (min, rest) = getnum(v, true).ok_or_else(|| cannot(v, "04"))?;
    if min >= 60 {
        return Err(message(": minute out of range"));
    }
    v = rest;
    v = skip(v, ':').ok_or_else(|| cannot(v, ":"))?;

    // "05"
    let (sec, rest) = getnum(v, true).ok_or_else(|| cannot(v, "05"))?;
    if sec >= 60 {
        return Err(message(": second out of range"));
    }
    v = rest;

    // ".999999999": optional, any number of digits
    let mut nsec: u32 = 0;
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'.' || b[0] == b',') && b[1].is_ascii_digit() {
        let ndigits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let used = ndigits.min(9);
        let mut n = num(&b[1..1 + used]);
        for _ in used..9 {
            n *= 10;
        }
        nsec = n;
        v = &v[1 + ndigits..];
    }

    // "Z07:00"
    let offset: i64;
    let b = v.as_bytes();
    if b.first() == Some(&b'Z') {
        offset = 0;
        v = &v[1..];
    } else {
        if b.len() < 6 || b[3] != b':' {
            return Err(cannot(v, "Z07:00"));
        }
        let two = |s: &[u8]| (s[0].is_ascii_digit() && s[1].is_ascii_digit()).then(|| num(s));
        let hr = two(&b[1..3]);
        let mm = if hr.is_some() { two(&b[4..6]) } else { None };
        // Go records the hour range error, then lets the minute one override it.
        if mm.unwrap_or(0) > 60 {
            return Err(message(": time zone offset minute out of range"));
        }
        if hr.unwrap_or(0) > 24 {
            return Err(message(": time zone offset hour out of range"));
        }
        let (Some(hr), Some(mm)) = (hr, mm) else {
            return Err(cannot(v, "Z07:00"));
        };
        let abs = i64::from(hr * 60 + mm) * 60;
        offset = match b[0] {
            b'+' => abs,
            b'-' => -abs,
            _ => return Err(cannot(v, "Z07:00")),
        };
        v = &v[6..];
    }

    if !v.is_empty() {
        return Err(message(&format!(": extra text: {}", quote(v))));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(message(": day out of range"));
    }

    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec) - offset;
    Ok((secs, nsec))
}

/// Decimal value of ASCII digits (at most 9, so no overflow).
fn num(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
}

/// Go's `getnum`: one digit, or two when the second is a digit; `fixed` requires two.
fn getnum(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if !b.get(1).is_some_and(u8::is_ascii_digit) {
        if fixed {
            return None;
        }
        return Some((num(&b[..1]), &s[1..]));
    }
    Some((num(&b[..2]), &s[2..]))
}

fn skip(s: &str, c: char) -> Option<&str> {
    s.strip_prefix(c)
}

/// Go's `time` package `quote`: double quotes, `"` and `\` escaped, bytes of control and
/// non-ASCII characters as `\xhh`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn is_leap(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-offset path gives what the general parser gives, on the shapes it takes
    /// and on strings one edit away from them (which it must leave to the general
    /// parser or read identically), and takes the apiserver's own shapes.
    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let general = |s: &str| go_parse_rfc3339(s).ok();
        for s in [
            "2024-05-01T10:00:00.123456Z",
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.1Z",
            "2024-05-01T10:00:00.123456789Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
        ] {
            assert!(utc_fast_path(s).is_some(), "{s}");
            assert_eq!(utc_fast_path(s), general(s), "{s}");
        }
        let mut tried = 0;
        let bytes: &[u8] = b"0123456789-T:.,Z+ x";
        for base in [
            "2024-05-01T10:00:00.123456Z",
            "2023-02-28T23:59:59Z",
            "2024-12-31T00:00:00.5Z",
        ] {
            for i in 0..=base.len() {
                for &c in bytes {
                    for edit in 0..3 {
                        let mut s = base.as_bytes().to_vec();
                        match edit {
                            0 if i < s.len() => s[i] = c,
                            1 => s.insert(i, c),
                            2 if i < s.len() => {
                                s.remove(i);
                            }
                            _ => continue,
                        }
                        let Ok(s) = String::from_utf8(s) else {
                            continue;
                        };
                        tried += 1;
                        if let Some(t) = utc_fast_path(&s) {
                            assert_eq!(Some(t), general(&s), "{s}");
                        }
                    }
                }
            }
        }
        assert!(tried > 3000);
        for bad in [
            "2024-13-01T10:00:00Z",
            "2023-02-29T10:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00.1234567890Z",
        ] {
            assert_eq!(utc_fast_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_rfc3339_variants() {
        let p = |s: &str| parse_stage_timestamp(s);
        assert_eq!(
            p("2024-05-01T10:00:00.123456789Z"),
            Ok(1_714_557_600_123_456_789)
        );
        assert_eq!(p("2024-05-01T10:00:00Z"), Ok(1_714_557_600_000_000_000));
        assert_eq!(
            p("2024-05-01T12:00:00.5+02:00"),
            Ok(1_714_557_600_500_000_000)
        );
        assert_eq!(
            p("2024-05-01T08:00:00-02:00"),
            Ok(1_714_557_600_000_000_000)
        );
        assert_eq!(
            p("2024-05-01T10:00:00.123456Z"),
            Ok(1_714_557_600_123_456_000)
        );
        // more than nine digits: the rest is ignored
        assert_eq!(
            p("2024-05-01T10:00:00.1234567891234Z"),
            Ok(1_714_557_600_123_456_789)
        );
        // Go's general parser: comma separator and a one-digit hour are accepted
        assert_eq!(p("2024-05-01T10:00:00,5Z"), Ok(1_714_557_600_500_000_000));
        assert_eq!(p("2024-05-01T9:00:00Z"), Ok(1_714_554_000_000_000_000));
        assert_eq!(p("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(p("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000_000_000));
        // an offset of 24:00 is accepted by Go's general parser
        assert_eq!(
            p("2024-05-02T10:00:00+24:00"),
            Ok(1_714_557_600_000_000_000)
        );
    }

    #[test]
    fn rejects_like_go() {
        let p = |s: &str| parse_stage_timestamp(s).expect_err(s);
        let l = "\"2006-01-02T15:04:05.999999999Z07:00\"";
        assert_eq!(
            p("2024-05-01 10:00:00"),
            format!(
                "parsing time \"2024-05-01 10:00:00\" as {l}: cannot parse \" 10:00:00\" as \"T\""
            )
        );
        assert_eq!(
            p(""),
            format!("parsing time \"\" as {l}: cannot parse \"\" as \"2006\"")
        );
        assert_eq!(
            p("2024-05-01T10:00:00"),
            format!("parsing time \"2024-05-01T10:00:00\" as {l}: cannot parse \"\" as \"Z07:00\"")
        );
        assert_eq!(
            p("2024-13-01T10:00:00Z"),
            "parsing time \"2024-13-01T10:00:00Z\": month out of range"
        );
        assert_eq!(
            p("2023-02-29T10:00:00Z"),
            "parsing time \"2023-02-29T10:00:00Z\": day out of range"
        );
        assert_eq!(
            p("2024-05-01T10:00:60Z"),
            "parsing time \"2024-05-01T10:00:60Z\": second out of range"
        );
        assert_eq!(
            p("2024-05-01T10:00:00Zx"),
            "parsing time \"2024-05-01T10:00:00Zx\": extra text: \"x\""
        );
        assert_eq!(
            p("2024-05-01T10:00:00z"),
            format!(
                "parsing time \"2024-05-01T10:00:00z\" as {l}: cannot parse \"z\" as \"Z07:00\""
            )
        );
        assert!(p("2024-05-01t10:00:00Z").contains("cannot parse \"t10:00:00Z\" as \"T\""));
        assert!(p("2024-05-01T10:00:00+0200").contains("as \"Z07:00\""));
        assert!(p("2024-05-01T10:00:00.Z").contains("as \"Z07:00\""));
        assert!(p("é024-05-01T10:00:00Z").contains("\"\\xc3\\xa9024-05-01T10:00:00Z\""));
        assert!(p("2024-05-01T10:00:00+é:00").contains("as \"Z07:00\""));
        assert!(p("2024-05-01T24:00:00Z").ends_with("hour out of range"));
    }
}
