//! Timestamp renderings used by Falco outputs.

use chrono::{DateTime, Local, TimeZone, Utc};

fn utc(ns: u64) -> DateTime<Utc> {
    let secs = (ns / 1_000_000_000) as i64;
    let nanos = (ns % 1_000_000_000) as u32;
    Utc.timestamp_opt(secs, nanos).single().unwrap_or_default()
}

/// `evt.time`: `HH:MM:SS.nnnnnnnnn` in the local time zone.
pub fn evt_time(ns: u64) -> String {
    utc(ns)
        .with_timezone(&Local)
        .format("%H:%M:%S.%9f")
        .to_string()
}

/// `evt.time.iso8601`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000` (always UTC).
pub fn evt_time_iso8601(ns: u64) -> String {
    utc(ns).format("%Y-%m-%dT%H:%M:%S.%9f+0000").to_string()
}

/// JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC).
pub fn json_time(ns: u64) -> String {
    utc(ns).format("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_renderings() {
        let ns = 1_714_579_662_045_023_000;
        assert_eq!(json_time(ns), "2024-05-01T16:07:42.045023000Z");
        assert_eq!(evt_time_iso8601(ns), "2024-05-01T16:07:42.045023000+0000");
    }
}
