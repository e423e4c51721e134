//! `ka.uri.param`: Go's `url.Parse` followed by `url.ParseQuery`, reduced to what decides
//! the result (whether parsing fails, and the first value of one key).

use std::borrow::Cow;

/// The first value of query parameter `key` in `uri`, decoded as Go's `url.ParseQuery`
/// decodes it (`%XX` escapes, `+` → space).
///
/// `None` when the key is absent, and for every key when Go would report an error: a
/// control character, a bad `%` escape anywhere in the path, fragment, host, user info or
/// query, a `;` in the query, a malformed scheme or authority. Decoded bytes that are not
/// UTF-8 are replaced with U+FFFD.
pub(crate) fn query_param<'u>(uri: &'u str, key: &str) -> Option<Cow<'u, str>> {
    let raw_query = go_url_raw_query(uri)?;
    let mut found: Option<Cow<'u, str>> = None;
    let mut failed = false;
    for piece in raw_query.split('&') {
        if piece.contains(';') {
            failed = true;
            continue;
        }
        if piece.is_empty() {
            continue;
        }
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let Some(k) = unescape(k, Mode::QueryComponent) else {
            failed = true;
            continue;
        };
        let Some(v) = unescape(v, Mode::QueryComponent) else {
            failed = true;
            continue;
        };
        if found.is_none() && *k == *key.as_bytes() {
            found = Some(match v {
                Cow::Borrowed(b) => match std::str::from_utf8(b) {
                    Ok(s) => Cow::Borrowed(s),
                    Err(_) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
                },
                Cow::Owned(b) => Cow::Owned(match String::from_utf8(b) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                }),
            });
        }
    }
    if failed {
        None
    } else {
        found
    }
}

/// `url.Parse(uri).RawQuery`, or `None` when `url.Parse` fails.
fn go_url_raw_query(uri: &str) -> Option<&str> {
    let (u, frag) = match uri.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (uri, None),
    };
    if u.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let raw_query = if u == "*" { "" } else { parse_rest(u)? };
    if let Some(frag) = frag {
        if !frag.is_empty() {
            unescape(frag, Mode::Fragment)?;
        }
    }
    Some(raw_query)
}

/// Go's `parse(rawURL, false)` after the control-character check; returns the raw query.
fn parse_rest(u: &str) -> Option<&str> {
    let (scheme, rest) = get_scheme(u)?;
    let (rest, raw_query) = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        (&rest[..rest.len() - 1], "")
    } else {
        rest.split_once('?').unwrap_or((rest, ""))
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // opaque URL: nothing else is validated
            return Some(raw_query);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return None;
        }
    }
    let mut path = rest;
    if (!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, p) = match authority_and_path.find('/') {
            Some(i) => authority_and_path.split_at(i),
            None => (authority_and_path, ""),
        };
        parse_authority(authority)?;
        path = p;
    }
    unescape(path, Mode::Path)?;
    Some(raw_query)
}

/// Go's `getScheme`: `(scheme, rest)`, or `None` for a leading `:`.
fn get_scheme(u: &str) -> Option<(&str, &str)> {
    for (i, c) in u.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Some(("", u));
                }
            }
            b':' => {
                if i == 0 {
                    return None;
                }
                return Some((&u[..i], &u[i + 1..]));
            }
            _ => return Some(("", u)),
        }
    }
    Some(("", u))
}

/// Go's `parseAuthority`: validates the user info and host.
fn parse_authority(authority: &str) -> Option<()> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    parse_host(host)?;
    if let Some(userinfo) = userinfo {
        if !userinfo.bytes().all(valid_userinfo_byte) {
            return None;
        }
        match userinfo.split_once(':') {
            Some((user, pass)) => {
                unescape(user, Mode::UserPassword)?;
                unescape(pass, Mode::UserPassword)?;
            }
            None => {
                unescape(userinfo, Mode::UserPassword)?;
            }
        }
    }
    Some(())
}

fn valid_userinfo_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b':'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'%'
                | b'@'
        )
}

/// Go's `parseHost` (without the IP-literal validation newer Go versions add).
fn parse_host(host: &str) -> Option<()> {
    if host.starts_with('[') {
        let i = host.rfind(']')?;
        if !valid_optional_port(&host[i + 1..]) {
            return None;
        }
        if let Some(zone) = host[..i].find("%25") {
            unescape(&host[..zone], Mode::Host)?;
            unescape(&host[zone..i], Mode::Zone)?;
            unescape(&host[i..], Mode::Host)?;
            return Some(());
        }
    } else if let Some(i) = host.rfind(':') {
        if !valid_optional_port(&host[i..]) {
            return None;
        }
    }
    unescape(host, Mode::Host)?;
    Some(())
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `shouldEscape` for the host and zone modes (the only modes where an unescaped
/// byte can make `unescape` fail).
fn host_should_escape(c: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    !matches!(
        c,
        b'!' | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'['
            | b']'
            | b'<'
            | b'>'
            | b'"'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
    )
}

/// Go's `unescape`: `None` on a malformed escape (or a byte a host may not contain);
/// otherwise the decoded bytes, borrowed when nothing had to change.
fn unescape(s: &str, mode: Mode) -> Option<Cow<'_, [u8]>> {
    let b = s.as_bytes();
    let mut needs_work = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len() || !is_hex(b[i + 1]) || !is_hex(b[i + 2]) {
                    return None;
                }
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && &b[i..i + 3] != b"%25" {
                    return None;
                }
                if mode == Mode::Zone {
                    let v = unhex(b[i + 1]) << 4 | unhex(b[i + 2]);
                    if &b[i..i + 3] != b"%25" && v != b' ' && host_should_escape(v) {
                        return None;
                    }
                }
                needs_work = true;
                i += 3;
            }
            b'+' => {
                needs_work |= mode == Mode::QueryComponent;
                i += 1;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && host_should_escape(c) {
                    return None;
                }
                i += 1;
            }
        }
    }
    if !needs_work {
        return Some(Cow::Borrowed(b));
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(unhex(b[i + 1]) << 4 | unhex(b[i + 2]));
                i += 3;
            }
            b'+' if mode == Mode::QueryComponent => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(uri: &str, key: &str) -> Option<String> {
        query_param(uri, key).map(Cow::into_owned)
    }

    #[test]
    fn decodes_and_takes_first_value() {
        let u = "/api/v1/namespaces/default/pods?fieldManager=kubectl%20client&dryRun=All&x=a+b&x=second";
        assert_eq!(q(u, "fieldManager").as_deref(), Some("kubectl client"));
        assert_eq!(q(u, "dryRun").as_deref(), Some("All"));
        assert_eq!(q(u, "x").as_deref(), Some("a b"));
        assert_eq!(q(u, "missing"), None);
        assert_eq!(
            q("/p?command=sh&command=-c", "command").as_deref(),
            Some("sh")
        );
        assert_eq!(q("/p?a&b=", "a").as_deref(), Some(""));
        assert_eq!(q("/p?a&b=", "b").as_deref(), Some(""));
        assert_eq!(q("/p?a=1=2", "a").as_deref(), Some("1=2"));
        assert_eq!(q("/p?%61=1", "a").as_deref(), Some("1"));
        assert_eq!(q("/p?a+b=1", "a b").as_deref(), Some("1"));
        assert_eq!(q("/p?a=%ff", "a").as_deref(), Some("\u{fffd}"));
        assert_eq!(q("/p?a=1#frag", "a").as_deref(), Some("1"));
        assert_eq!(q("/p?a=1?b=2", "a").as_deref(), Some("1?b=2"));
        assert_eq!(q("/p?", "a"), None);
        assert_eq!(q("/p", "a"), None);
        assert_eq!(q("", "a"), None);
        assert_eq!(q("https://h:443/p?a=1", "a").as_deref(), Some("1"));
        assert_eq!(q("mailto:x?a=1", "a").as_deref(), Some("1"));
    }

    #[test]
    fn go_errors_make_every_key_missing() {
        assert_eq!(q("/x?a=%zz&b=1", "b"), None);
        assert_eq!(q("/api/v1/pods?a=1;b=2&c=%41", "c"), None);
        assert_eq!(q("/x?a=1&b=%4", "a"), None);
        assert_eq!(q("/x?a=1&b=%", "a"), None);
        assert_eq!(q("/%zz?a=1", "a"), None);
        assert_eq!(q("/x?a=1#%zz", "a"), None);
        assert_eq!(q("/x?a=1\n", "a"), None);
        assert_eq!(q(":x?a=1", "a"), None);
        assert_eq!(q("a:b/c?a=1", "a").as_deref(), Some("1"));
        assert_eq!(q("1a:b/c?a=1", "a"), None);
        assert_eq!(q("//host:port/p?a=1", "a"), None);
        assert_eq!(q("//host:80/p?a=1", "a").as_deref(), Some("1"));
        assert_eq!(q("//ho st/p?a=1", "a"), None);
        assert_eq!(q("///p?a=1", "a").as_deref(), Some("1"));
        assert_eq!(q("//[::1/p?a=1", "a"), None);
        assert_eq!(q("//u%zz@h/p?a=1", "a"), None);
        assert_eq!(q("//u@h/p?a=1", "a").as_deref(), Some("1"));
        assert_eq!(q("/x?a=%41", "a").as_deref(), Some("A"));
    }
}
