//! Byte-string helpers shared by the evaluator, the event parser and the renderings.

/// `a == b`, inline for the short strings of audit events (up to 16 bytes: two
/// overlapping word compares instead of a call to `memcmp`, which dominates the cost of
/// comparing keys, set members and escapes of a few bytes).
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// The decimal digits of `n`, right-aligned, and their count (a u64 has at most 20):
/// two digits per division.
pub fn decimal(mut n: u64) -> ([u8; 20], u8) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut out = [0u8; 20];
    let mut i = out.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        out[i] = PAIRS[d];
        out[i + 1] = PAIRS[d + 1];
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        out[i] = PAIRS[d];
        out[i + 1] = PAIRS[d + 1];
    } else {
        i -= 1;
        out[i] = b'0' + n as u8;
    }
    (out, (out.len() - i) as u8)
}

/// Index of the first `"`, `\\` or control character (the bytes a JSON string escapes)
/// of `b` at or after `p` (`b.len()` when none): eight bytes at a time. In each zero-byte
/// mask below only bytes above a true match can be false positives, so the lowest set bit
/// of their union is the first special byte.
pub fn scan_plain(b: &[u8], mut p: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = b.get(p..p + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        let special = has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if special != 0 {
            return p + (special.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while let Some(&c) = b.get(p) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        p += 1;
    }
    p
}

/// How serde_json writes `c` inside a JSON string when it escapes it (the escape, written
/// into `buf`); `None` when it writes `c` as itself. [`scan_plain`] stops at exactly the
/// ASCII characters this escapes.
pub fn json_escape(c: char, buf: &mut [u8; 6]) -> Option<&[u8]> {
    let letter = match c {
        '"' => b'"',
        '\\' => b'\\',
        '\u{8}' => b'b',
        '\u{c}' => b'f',
        '\n' => b'n',
        '\r' => b'r',
        '\t' => b't',
        c if (c as u32) < 0x20 => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let b = c as u8;
            *buf = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ];
            return Some(&buf[..]);
        }
        _ => return None,
    };
    buf[0] = b'\\';
    buf[1] = letter;
    Some(&buf[..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `same_bytes` agrees with `==` on every pair of short strings that differ in one
    /// byte at any position, on equal ones and on ones of different lengths.
    #[test]
    fn same_bytes_is_equality() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} {i}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    /// The digits are `to_string`'s, around every power of ten and at the extremes.
    #[test]
    fn decimal_matches_to_string() {
        let mut values = vec![
            0u64,
            1,
            9,
            u64::MAX,
            u64::MAX - 1,
            1_714_557_600_123_456_789,
        ];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        for v in values {
            let (digits, len) = decimal(v);
            let text = &digits[digits.len() - usize::from(len)..];
            assert_eq!(std::str::from_utf8(text), Ok(v.to_string().as_str()), "{v}");
        }
    }

    /// `scan_plain` stops at the first `"`, `\\` or control byte, at every position and
    /// start, and at the end when there is none.
    #[test]
    fn scan_plain_finds_the_first_special_byte() {
        for n in 0..40usize {
            let plain: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(scan_plain(&plain, 0), n);
            for i in 0..n {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut b = plain.clone();
                    b[i] = special;
                    for from in 0..=i {
                        assert_eq!(scan_plain(&b, from), i, "{n} {i} {special} {from}");
                    }
                    assert_eq!(scan_plain(&b, i + 1), n);
                }
                let mut b = plain.clone();
                b[i] = 0x7f;
                assert_eq!(scan_plain(&b, 0), n, "DEL is not special");
                b[i] = 0xc3;
                assert_eq!(scan_plain(&b, 0), n, "non-ASCII is not special");
            }
        }
    }
}
