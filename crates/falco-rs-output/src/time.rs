//! Timestamp renderings used by Falco outputs.

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};

fn utc(ns: u64) -> DateTime<Utc> {
    let secs = (ns / 1_000_000_000) as i64;
    let nanos = (ns % 1_000_000_000) as u32;
    Utc.timestamp_opt(secs, nanos).single().unwrap_or_default()
}

/// Appends `n` in decimal, left-padded with zeros to `width` digits.
fn push_padded(out: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut v = n;
    let mut len = 0;
    while v > 0 || len == 0 {
        digits[9 - len] = b'0' + (v % 10) as u8;
        v /= 10;
        len += 1;
    }
    for _ in len..width {
        out.push('0');
    }
    for &d in &digits[10 - len..] {
        out.push(char::from(d));
    }
}

/// Appends `HH:MM:SS.nnnnnnnnn` of `dt`.
fn push_clock<Tz: TimeZone>(out: &mut String, dt: &DateTime<Tz>) {
    push_padded(out, dt.hour(), 2);
    out.push(':');
    push_padded(out, dt.minute(), 2);
    out.push(':');
    push_padded(out, dt.second(), 2);
    out.push('.');
    push_padded(out, dt.nanosecond(), 9);
}

/// Appends `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (UTC) of `ns`.
fn push_utc_datetime(out: &mut String, ns: u64) {
    let dt = utc(ns);
    push_padded(out, dt.year().unsigned_abs(), 4);
    out.push('-');
    push_padded(out, dt.month(), 2);
    out.push('-');
    push_padded(out, dt.day(), 2);
    out.push('T');
    push_clock(out, &dt);
}

/// Appends `evt.time`: `HH:MM:SS.nnnnnnnnn` in the local time zone.
pub fn push_evt_time(out: &mut String, ns: u64) {
    push_clock(out, &utc(ns).with_timezone(&Local));
}

/// Appends `evt.time.iso8601`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000` (always UTC).
pub fn push_evt_time_iso8601(out: &mut String, ns: u64) {
    push_utc_datetime(out, ns);
    out.push_str("+0000");
}

/// Appends the JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC).
pub fn push_json_time(out: &mut String, ns: u64) {
    push_utc_datetime(out, ns);
    out.push('Z');
}

/// `evt.time`: `HH:MM:SS.nnnnnnnnn` in the local time zone.
pub fn evt_time(ns: u64) -> String {
    let mut s = String::with_capacity(18);
    push_evt_time(&mut s, ns);
    s
}

/// `evt.time.iso8601`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000` (always UTC).
pub fn evt_time_iso8601(ns: u64) -> String {
    let mut s = String::with_capacity(34);
    push_evt_time_iso8601(&mut s, ns);
    s
}

/// JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC).
pub fn json_time(ns: u64) -> String {
    let mut s = String::with_capacity(30);
    push_json_time(&mut s, ns);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_renderings() {
        let ns = 1_714_579_662_045_023_000;
        assert_eq!(json_time(ns), "2024-05-01T16:07:42.045023000Z");
        assert_eq!(evt_time_iso8601(ns), "2024-05-01T16:07:42.045023000+0000");
        assert_eq!(json_time(0), "1970-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn renderings_match_chrono_strftime() {
        let mut ns: u64 = 1;
        for _ in 0..2000 {
            ns = ns
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                % 4_102_444_800_000_000_000;
            let dt = utc(ns);
            assert_eq!(
                json_time(ns),
                dt.format("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
            );
            assert_eq!(
                evt_time_iso8601(ns),
                dt.format("%Y-%m-%dT%H:%M:%S.%9f+0000").to_string()
            );
            assert_eq!(
                evt_time(ns),
                dt.with_timezone(&Local).format("%H:%M:%S.%9f").to_string()
            );
        }
    }
}
