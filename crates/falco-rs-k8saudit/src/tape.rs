//! The event representation: the compact JSON text of the event (what the plugin stores
//! and `evt.plugininfo` shows) and a flat table of its values (a "tape"), built in one
//! pass over the input.
//!
//! Every value of the tape is a byte range of the compact text: strings are their
//! contents between the quotes (escaped as serde_json escapes: only `"`, `\` and control
//! characters), other values their whole text, so the JSON text (`JT`) of any value is
//! borrowed from the event, except for the rare strings holding escapes. Objects and
//! arrays record where their subtree ends, so lookups skip whole values.
//!
//! The compact text is exactly what `serde_json` would write for the parsed value (the
//! representation falco-rs used before, pinned by the tests): inputs this parser is not
//! sure to normalise identically (numbers other than plain integers, duplicated keys, very
//! deep nesting) and invalid inputs go through `serde_json` first, whose output is then
//! taped. Invalid JSON is reported with serde_json's message.

use falco_rs_engine::bytes::{json_escape, same_bytes, scan_plain};
use std::borrow::Cow;

/// Deepest nesting the fast parser handles itself (serde_json's own limit is 128).
const MAX_DEPTH: usize = 100;

/// JSON's whitespace characters.
const JSON_WS: [char; 4] = [' ', '\t', '\n', '\r'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    True,
    False,
    Num,
    Str,
    Arr,
    Obj,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// A string whose text holds escapes.
    esc: bool,
    /// For an object key, [`key_hash`] of its compact text: lookups of keys without
    /// escapes compare it before the text, the duplicate-key check always.
    hash: u16,
    start: u32,
    end: u32,
    /// Index of the first node after this value's subtree.
    next: u32,
}

/// A parsed JSON document: compact text plus value table (node 0 is the root).
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    text: String,
    nodes: Vec<Node>,
    /// The root object's keys by hash.
    root: RootIndex,
}

/// Keys of the root object by hash: an open-addressing table of key node indexes (0:
/// empty slot), so that the top-level lookups every event makes (verb, objectRef, user,
/// ...) take one probe instead of a scan. Unused for other roots, for roots of more than
/// [`ROOT_MAX_KEYS`] keys and when a root key's node is past `u16::MAX` (16-bit slots keep
/// the table, which every event carries and moves, at 64 bytes).
#[derive(Debug, Clone)]
struct RootIndex {
    slots: [u16; ROOT_SLOTS],
    /// Keys inserted.
    count: usize,
    /// Some root key holds escapes (matched by text, not hash).
    escaped: bool,
}

impl RootIndex {
    const EMPTY: RootIndex = RootIndex {
        slots: [0; ROOT_SLOTS],
        count: 0,
        escaped: false,
    };

    /// Adds key node `k` (hash `hash`); past [`ROOT_MAX_KEYS`] keys only counts. Returns
    /// whether the key may repeat an earlier one: the table is full, or a key of the same
    /// hash sits on its probe path (`nodes`: the document's nodes so far).
    #[inline]
    fn insert(&mut self, k: u32, hash: u16, esc: bool, nodes: &[Node]) -> bool {
        self.count += 1;
        if self.count > ROOT_MAX_KEYS {
            return true;
        }
        let Ok(k) = u16::try_from(k) else {
            // Out of the slots' range: the table stays incomplete.
            self.count = ROOT_MAX_KEYS + 1;
            return true;
        };
        self.escaped |= esc;
        let mut slot = usize::from(hash) % ROOT_SLOTS;
        let mut same_hash = false;
        while self.slots[slot] != 0 {
            same_hash |= nodes
                .get(self.slots[slot] as usize)
                .is_none_or(|n| n.hash == hash);
            slot = (slot + 1) % ROOT_SLOTS;
        }
        self.slots[slot] = k;
        same_hash
    }

    /// The table holds every key of the root (which has some).
    fn complete(&self) -> bool {
        self.count > 0 && self.count <= ROOT_MAX_KEYS
    }
}

/// Slots of the root key table (a power of two) and the most keys it takes.
const ROOT_SLOTS: usize = 32;
const ROOT_MAX_KEYS: usize = 24;

/// Bytes of document buffers kept for reuse per thread (~400 realistic events: a parallel
/// replay drops a whole 128 KiB chunk of events at once; more only costs memory, e.g. on
/// webhook threads that drop rejected batches), and the largest text kept.
const POOL_BYTES: usize = 1 << 20;
const POOL_MAX_TEXT: usize = 64 * 1024;

thread_local! {
    /// Buffers of dropped documents, reused by the next parse on the same thread: events
    /// are parsed and dropped at high rates, and reusing their two buffers saves two
    /// allocations and two frees per event.
    static POOL: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool {
            docs: Vec::new(),
            bytes: 0,
        })
    };
}

/// Reusable document buffers and their total capacity in bytes.
struct Pool {
    docs: Vec<(String, Vec<Node>)>,
    bytes: usize,
}

/// Heap bytes held by a document's buffers.
fn buffer_bytes(text: &String, nodes: &Vec<Node>) -> usize {
    text.capacity() + nodes.capacity() * std::mem::size_of::<Node>()
}

/// Empty buffers for a parse: reused ones when the thread has some.
fn pooled_buffers() -> (String, Vec<Node>) {
    POOL.try_with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let (text, nodes) = p.docs.pop()?;
        p.bytes = p.bytes.saturating_sub(buffer_bytes(&text, &nodes));
        Some((text, nodes))
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

impl Drop for Doc {
    fn drop(&mut self) {
        if self.text.capacity() > POOL_MAX_TEXT || self.nodes.capacity() > POOL_MAX_TEXT / 4 {
            return;
        }
        let mut text = std::mem::take(&mut self.text);
        let mut nodes = std::mem::take(&mut self.nodes);
        text.clear();
        nodes.clear();
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                let bytes = buffer_bytes(&text, &nodes);
                if p.bytes + bytes <= POOL_BYTES {
                    p.bytes += bytes;
                    p.docs.push((text, nodes));
                }
            }
        });
    }
}

/// A value of a document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V<'a> {
    doc: &'a Doc,
    i: u32,
}

impl Doc {
    /// Parses `input` (one JSON value); the error is serde_json's message.
    pub(crate) fn parse(input: &[u8]) -> Result<Doc, String> {
        // simdutf8: the same answer as std's check, 2-3x faster on this mostly-ASCII text.
        let fast = simdutf8::basic::from_utf8(input)
            .ok()
            .and_then(|s| Self::tape(s, false));
        if let Some(doc) = fast {
            return Ok(doc);
        }
        // Not sure, or invalid: let serde_json decide and normalise.
        let value: serde_json::Value = serde_json::from_slice(input).map_err(|e| e.to_string())?;
        Self::tape(&value.to_string(), true).ok_or_else(|| "cannot tape JSON".to_string())
    }

    /// Tapes `text`. Most producers write compact JSON: the compact parser takes it as its
    /// own text and gives up at the first byte where the text would differ (structural
    /// whitespace, an escape serde_json writes otherwise), which for other inputs comes
    /// early; the general parser then runs.
    fn tape(text: &str, trusted: bool) -> Option<Doc> {
        Parser::<true>::run(text.trim_matches(JSON_WS), trusted)
            .or_else(|| Parser::<false>::run(text, trusted))
    }

    /// The compact text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The root value.
    pub(crate) fn root(&self) -> V<'_> {
        V { doc: self, i: 0 }
    }

    /// The value at `position` ([`V::position`] of a value of this document).
    pub(crate) fn value(&self, position: u32) -> Option<V<'_>> {
        ((position as usize) < self.nodes.len()).then_some(V {
            doc: self,
            i: position,
        })
    }

    /// A document of one value of this one (an item of an `EventList`), sharing nothing.
    pub(crate) fn sub(&self, v: V<'_>) -> Doc {
        let n = self.nodes[v.i as usize];
        let (i, next) = (v.i as usize, n.next as usize);
        let base = n.start;
        let nodes = self.nodes[i..next]
            .iter()
            .map(|m| Node {
                start: m.start - base,
                end: m.end - base,
                next: m.next - v.i,
                ..*m
            })
            .collect();
        let (s, e) = (n.start as usize, n.end as usize);
        let mut doc = Doc {
            text: self.text[s..e].to_string(),
            nodes,
            root: RootIndex::EMPTY,
        };
        let mut root = RootIndex::EMPTY;
        for (k, _) in doc.root().entries() {
            let n = doc.node(k.i);
            root.insert(k.i, n.hash, n.esc, &doc.nodes);
        }
        doc.root = root;
        doc
    }

    fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }
}

impl<'a> V<'a> {
    pub(crate) fn kind(self) -> Kind {
        self.doc.node(self.i).kind
    }

    /// The value's position in its document (see [`Doc::value`]).
    pub(crate) fn position(self) -> u32 {
        self.i
    }

    /// The whole text of the value (with quotes for a string).
    pub(crate) fn raw(self) -> &'a str {
        let n = self.doc.node(self.i);
        if n.kind == Kind::Str {
            &self.doc.text[n.start as usize - 1..n.end as usize + 1]
        } else {
            &self.doc.text[n.start as usize..n.end as usize]
        }
    }

    /// Decoded contents of a string value.
    pub(crate) fn as_str(self) -> Option<Cow<'a, str>> {
        let n = self.doc.node(self.i);
        if n.kind != Kind::Str {
            return None;
        }
        let s = &self.doc.text[n.start as usize..n.end as usize];
        Some(if n.esc {
            Cow::Owned(unescape(s))
        } else {
            Cow::Borrowed(s)
        })
    }

    /// Contents of a string value without escapes (no allocation); `None` otherwise.
    pub(crate) fn as_plain_str(self) -> Option<&'a str> {
        let n = self.doc.node(self.i);
        (n.kind == Kind::Str && !n.esc).then(|| &self.doc.text[n.start as usize..n.end as usize])
    }

    /// Elements of an array (empty for other values).
    pub(crate) fn elements(self) -> impl Iterator<Item = V<'a>> + 'a {
        let doc = self.doc;
        let n = *doc.node(self.i);
        let end = if n.kind == Kind::Arr {
            n.next
        } else {
            self.i + 1
        };
        let mut i = self.i + 1;
        std::iter::from_fn(move || {
            if i >= end {
                return None;
            }
            let v = V { doc, i };
            i = doc.node(i).next;
            Some(v)
        })
    }

    /// Entries of an object (empty for other values): key (a string value) and value.
    pub(crate) fn entries(self) -> impl Iterator<Item = (V<'a>, V<'a>)> + 'a {
        let doc = self.doc;
        let n = *doc.node(self.i);
        let end = if n.kind == Kind::Obj {
            n.next
        } else {
            self.i + 1
        };
        let mut i = self.i + 1;
        std::iter::from_fn(move || {
            if i >= end {
                return None;
            }
            let k = V { doc, i };
            let v = V { doc, i: i + 1 };
            i = doc.node(i + 1).next;
            Some((k, v))
        })
    }

    /// Number of elements of an array.
    pub(crate) fn len(self) -> usize {
        self.elements().count()
    }

    /// The value of `key` in an object (keys are unique in a document).
    #[inline(always)]
    pub(crate) fn get(self, key: &str) -> Option<V<'a>> {
        // Inlined so that the hash of a literal key is computed at compile time.
        self.get_hashed(key, key_hash(key.as_bytes()))
    }

    /// [`get`](Self::get) of two different keys, in one pass over the entries of an
    /// object other than the root (the root's key table answers each directly).
    pub(crate) fn get_pair(self, a: &str, b: &str) -> (Option<V<'a>>, Option<V<'a>>) {
        if self.i == 0 {
            return (self.get(a), self.get(b));
        }
        let (ha, hb) = (key_hash(a.as_bytes()), key_hash(b.as_bytes()));
        let (mut va, mut vb) = (None, None);
        for (k, v) in self.entries() {
            if va.is_none() && key_is(k, a, ha) {
                va = Some(v);
            } else if vb.is_none() && key_is(k, b, hb) {
                vb = Some(v);
            }
            if va.is_some() && vb.is_some() {
                break;
            }
        }
        (va, vb)
    }

    /// [`get`](Self::get) with the [`key_hash`] of `key`.
    fn get_hashed(self, key: &str, h: u16) -> Option<V<'a>> {
        if self.i == 0 && self.doc.root.complete() {
            // The root's key table: probe from the hash's slot to an empty one. Keys with
            // escapes are matched by their text whatever their slot, so scan for them.
            let table = &self.doc.root.slots;
            let mut slot = usize::from(h) % ROOT_SLOTS;
            for _ in 0..ROOT_SLOTS {
                let k = u32::from(table[slot]);
                if k == 0 {
                    break;
                }
                let n = self.doc.node(k);
                if n.hash == h
                    && !n.esc
                    && key_eq(
                        V {
                            doc: self.doc,
                            i: k,
                        },
                        key,
                    )
                {
                    return Some(V {
                        doc: self.doc,
                        i: k + 1,
                    });
                }
                slot = (slot + 1) % ROOT_SLOTS;
            }
            if !self.doc.root.escaped {
                return None;
            }
        }
        self.entries()
            .find(|&(k, _)| key_is(k, key, h))
            .map(|(_, v)| v)
    }
}

/// Whether key node `k` reads `key`, whose [`key_hash`] is `h`: the hash rules most keys
/// out; keys with escapes hash their compact text, so they are compared whatever it is.
#[inline]
fn key_is(k: V<'_>, key: &str, h: u16) -> bool {
    let n = k.doc.node(k.i);
    (n.esc || n.hash == h) && key_eq(k, key)
}

/// Whether key node `k` reads `key`: keys without escapes compare their bytes (a range of
/// the compact text, no char-boundary checks), others their decoded text.
#[inline]
fn key_eq(k: V<'_>, key: &str) -> bool {
    let n = k.doc.node(k.i);
    let (start, end) = (n.start as usize, n.end as usize);
    if n.esc {
        k.doc
            .text
            .get(start..end)
            .is_some_and(|s| unescape(s) == key)
    } else {
        k.doc
            .text
            .as_bytes()
            .get(start..end)
            .is_some_and(|s| same_bytes(s, key.as_bytes()))
    }
}

/// Decodes serde_json-escaped string contents.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

/// Writes `c` escaped as serde_json does.
fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 6];
    match json_escape(c, &mut buf) {
        // Escapes are ASCII.
        Some(escape) => out.extend(escape.iter().map(|&b| char::from(b))),
        None => out.push(c),
    }
}

/// The character a one-letter JSON escape (`\"`, `\n`, ...: the letter `e`) stands for.
fn simple_escape(e: u8) -> Option<char> {
    Some(match e {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The value of four hex digits (either case), as a `\u` escape holds.
fn hex_value(h: &[u8]) -> Option<u32> {
    if h.len() != 4 || !h.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

/// The compact text is produced by copy-on-divergence: while the input is already in
/// compact form, nothing is written; `out` receives the input verbatim up to `copied`
/// only when the output must differ (whitespace to drop, escapes to rewrite), and once at
/// the end. So the compact input most producers write is copied once, in one piece.
///
/// `COMPACT`: the input must be its own compact text. The parser then skips the
/// whitespace and output-position bookkeeping and fails (`None`) where the text would
/// diverge, so that the caller retries with `COMPACT = false`.
struct Parser<'i, const COMPACT: bool> {
    /// The input as text (validated UTF-8), and as bytes.
    src: &'i str,
    input: &'i [u8],
    pos: usize,
    /// Output so far; the input from `copied` to `pos` follows it verbatim.
    out: String,
    copied: usize,
    nodes: Vec<Node>,
    /// The root object's keys, indexed as they are parsed.
    root: RootIndex,
    /// The input is serde_json output: numbers are taken as written.
    trusted: bool,
}

/// `None`: invalid, or not sure to normalise like serde_json.
type R<T> = Option<T>;

impl<'i, const COMPACT: bool> Parser<'i, COMPACT> {
    fn run(src: &'i str, trusted: bool) -> Option<Doc> {
        let input = src.as_bytes();
        let (mut out, mut nodes) = pooled_buffers();
        out.reserve(input.len());
        nodes.reserve(input.len() / 10 + 4);
        let mut p = Parser::<COMPACT> {
            src,
            input,
            pos: 0,
            out,
            copied: 0,
            nodes,
            root: RootIndex::EMPTY,
            trusted,
        };
        p.ws();
        p.value(0)?;
        p.ws();
        p.sync();
        if p.pos != input.len() || p.out.len() > u32::MAX as usize {
            return None;
        }
        Some(Doc {
            text: std::mem::take(&mut p.out),
            nodes: std::mem::take(&mut p.nodes),
            root: std::mem::replace(&mut p.root, RootIndex::EMPTY),
        })
    }

    /// Skips whitespace (which the compact text drops).
    #[inline(always)]
    fn ws(&mut self) {
        if COMPACT {
            // Whitespace is caught by the caller's test of the next byte.
            return;
        }
        // One compare for the common case: a byte above the space is not whitespace.
        if self.input.get(self.pos).is_none_or(|&c| c > b' ') {
            return;
        }
        if let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.sync();
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
                self.pos += 1;
            }
            self.copied = self.pos;
        }
    }

    /// Position in the output of the input at `pos`.
    #[inline]
    fn opos(&self) -> usize {
        if COMPACT {
            return self.pos;
        }
        self.out.len() + (self.pos - self.copied)
    }

    /// Writes the verbatim input up to `pos` to the output.
    fn sync(&mut self) {
        if self.copied < self.pos {
            self.out.push_str(&self.src[self.copied..self.pos]);
            self.copied = self.pos;
        }
    }

    /// Output text between output positions `start` and `end`, written or still
    /// verbatim input; `None` for a range across both (never a single string's).
    fn out_text(&self, start: usize, end: usize) -> Option<&[u8]> {
        let written = self.out.len();
        if end <= written {
            self.out.as_bytes().get(start..end)
        } else if start >= written {
            let base = self.copied - written;
            self.input.get(base + start..base + end)
        } else {
            None
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn push(&mut self, kind: Kind, start: usize) -> usize {
        let i = self.nodes.len();
        self.nodes.push(Node {
            kind,
            esc: false,
            hash: 0,
            start: start as u32,
            end: start as u32,
            next: 0,
        });
        i
    }

    fn close(&mut self, i: usize) {
        let end = self.opos() as u32;
        let next = self.nodes.len() as u32;
        let n = &mut self.nodes[i];
        if n.kind != Kind::Str {
            n.end = end;
        }
        n.next = next;
    }

    fn value(&mut self, depth: usize) -> R<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => {
                self.string(false)?;
                Some(())
            }
            b't' => self.literal(b"true", Kind::True),
            b'f' => self.literal(b"false", Kind::False),
            b'n' => self.literal(b"null", Kind::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// [`Parser::value`] for an array element or object member value, taking the common
    /// string inline (one call less per string value).
    #[inline(always)]
    fn member(&mut self, depth: usize) -> R<()> {
        if self.peek()? == b'"' {
            self.string(false)?;
            Some(())
        } else {
            self.value(depth)
        }
    }

    fn literal(&mut self, word: &'static [u8], kind: Kind) -> R<()> {
        if !self.input[self.pos..].starts_with(word) {
            return None;
        }
        let i = self.push(kind, self.opos());
        self.pos += word.len();
        self.close(i);
        Some(())
    }

    fn number(&mut self) -> R<()> {
        let start = self.pos;
        let b = self.input;
        let mut p = self.pos;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        match b.get(p)? {
            b'0' => p += 1,
            b'1'..=b'9' => {
                while matches!(b.get(p), Some(b'0'..=b'9')) {
                    p += 1;
                }
            }
            _ => return None,
        }
        let int_end = p;
        if b.get(p) == Some(&b'.') {
            p += 1;
            if !matches!(b.get(p), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(b.get(p), Some(b'0'..=b'9')) {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !matches!(b.get(p), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(b.get(p), Some(b'0'..=b'9')) {
                p += 1;
            }
        }
        let text = self.src.get(start..p)?;
        if !self.trusted {
            // A plain integer serde_json keeps as an integer is written unchanged.
            let plain = int_end == p
                && text != "-0"
                && if text.starts_with('-') {
                    text.parse::<i64>().is_ok()
                } else {
                    text.parse::<u64>().is_ok()
                };
            if !plain {
                return None;
            }
        }
        let i = self.push(Kind::Num, self.opos());
        self.pos = p;
        self.close(i);
        Some(())
    }

    /// Parses a string at `pos` (on the opening quote) into a node; for an object key
    /// (`key`) the node gets the [`key_hash`] of its compact text.
    #[inline]
    fn string(&mut self, key: bool) -> R<usize> {
        self.pos += 1;
        let start = self.opos();
        let b = self.input;
        // Fast path: up to the closing quote without escapes nor control characters.
        let p = scan_plain(b, self.pos);
        match b.get(p)? {
            b'"' => self.verbatim_string(start, p, key, false),
            b'\\' => self.escaped_string(start, p, key),
            _ => None,
        }
    }

    /// Pushes the node of a string whose compact text is the input from `pos` to the
    /// closing quote at `p` (at output position `start`), and moves past the quote.
    #[inline]
    fn verbatim_string(&mut self, start: usize, p: usize, key: bool, esc: bool) -> R<usize> {
        let text = self.input.get(self.pos..p)?;
        let i = self.nodes.len();
        self.nodes.push(Node {
            kind: Kind::Str,
            esc,
            hash: if key { key_hash(text) } else { 0 },
            start: start as u32,
            end: (start + text.len()) as u32,
            next: i as u32 + 1,
        });
        self.pos = p + 1;
        Some(i)
    }

    /// A string with escapes at output position `start`, whose first escape is at input
    /// position `p`. Escapes written as serde_json writes them (`\"`, `\\`, `\n`, ...,
    /// `\u00xx` for other control characters) stay verbatim input; from the first other
    /// one (`\/`, `\u0041`, upper-case hex, ...) the rest of the string is rewritten.
    #[cold]
    fn escaped_string(&mut self, start: usize, first: usize, key: bool) -> R<usize> {
        let b = self.input;
        let mut p = first;
        loop {
            match b.get(p)? {
                b'"' => return self.verbatim_string(start, p, key, true),
                b'\\' => match canonical_escape(b.get(p + 1..)?) {
                    Some(len) => p = scan_plain(b, p + 1 + len),
                    None => break,
                },
                _ => return None,
            }
        }
        if COMPACT {
            return None;
        }
        let i = self.push(Kind::Str, start);
        // From here the output diverges from the input.
        // Escapes were kept verbatim before `p` if it is not the first one.
        let before = p != first;
        self.pos = p;
        self.sync();
        let esc = self.escaped_rest()? || before;
        let end = self.out.len();
        let hash = if key {
            key_hash(self.out.as_bytes().get(start..end)?)
        } else {
            0
        };
        let n = &mut self.nodes[i];
        n.esc = esc;
        n.end = end as u32;
        n.hash = hash;
        n.next = i as u32 + 1;
        self.out.push('"');
        self.copied = self.pos;
        Some(i)
    }

    /// The rest of a string with escapes, re-escaped as serde_json does. Returns whether
    /// the written text holds escapes.
    fn escaped_rest(&mut self) -> R<bool> {
        let b = self.input;
        let mut esc = false;
        loop {
            let c = *b.get(self.pos)?;
            match c {
                b'"' => {
                    self.pos += 1;
                    return Some(esc);
                }
                b'\\' => {
                    let e = *b.get(self.pos + 1)?;
                    self.pos += 2;
                    let ch = match e {
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                if b.get(self.pos..self.pos + 2)? != b"\\u" {
                                    return None;
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                char::from_u32(hi)?
                            }
                        }
                        e => simple_escape(e)?,
                    };
                    let before = self.out.len();
                    push_escaped(&mut self.out, ch);
                    esc |= self.out.len() != before + ch.len_utf8();
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy a run of ordinary bytes (valid UTF-8: checked up front).
                    let start = self.pos;
                    let p = scan_plain(b, start);
                    self.out.push_str(self.src.get(start..p)?);
                    self.pos = p;
                }
            }
        }
    }

    fn hex4(&mut self) -> R<u32> {
        let v = hex_value(self.input.get(self.pos..self.pos + 4)?)?;
        self.pos += 4;
        Some(v)
    }

    fn array(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH && !self.trusted {
            return None;
        }
        let i = self.push(Kind::Arr, self.opos());
        self.pos += 1;
        self.ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                self.member(depth)?;
                if self.end_of_member(b']')? {
                    break;
                }
            }
        }
        self.close(i);
        Some(())
    }

    fn object(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH && !self.trusted {
            return None;
        }
        let i = self.push(Kind::Obj, self.opos());
        self.pos += 1;
        self.ws();
        let mut keys: u32 = 0;
        let mut seen: u64 = 0;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let k = self.string(true)?;
                let hash = self.nodes[k].hash;
                // A key may repeat an earlier one when one of the same hash precedes it:
                // the root's table finds those on the key's probe path, other objects
                // keep `seen`, a 64-bit filter of the hashes of their earlier keys. Only
                // then are the keys compared. Keys with escapes hash their compact text.
                let maybe_duplicate = if i == 0 {
                    let esc = self.nodes[k].esc;
                    self.root.insert(k as u32, hash, esc, &self.nodes)
                } else {
                    let bit = 1u64 << (hash & 63);
                    let hit = seen & bit != 0 || keys >= 64;
                    seen |= bit;
                    hit
                };
                if !self.trusted && maybe_duplicate && self.duplicate(i, k) {
                    return None;
                }
                keys += 1;
                if self.peek() == Some(b':') {
                    self.pos += 1;
                } else {
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                }
                self.ws();
                self.member(depth)?;
                if self.end_of_member(b'}')? {
                    break;
                }
            }
        }
        self.close(i);
        Some(())
    }

    /// After an array element or object member: consumes `,` (`Some(false)`: another
    /// member follows) or the closing `close` (`Some(true)`); anything else is invalid.
    #[inline(always)]
    fn end_of_member(&mut self, close: u8) -> R<bool> {
        self.ws();
        let c = self.peek()?;
        if c == b',' {
            self.pos += 1;
            self.ws();
            Some(false)
        } else if c == close {
            self.pos += 1;
            Some(true)
        } else {
            None
        }
    }

    /// Whether key node `k` repeats an earlier key of object `obj`; `true` also for
    /// objects of more than 64 keys (rare: serde_json then decides).
    #[cold]
    fn duplicate(&self, obj: usize, k: usize) -> bool {
        let text = |n: &Node| self.out_text(n.start as usize, n.end as usize);
        let Some(key) = text(&self.nodes[k]) else {
            return true;
        };
        let hash = self.nodes[k].hash;
        let mut j = obj + 1;
        let mut count = 0;
        while j < k {
            count += 1;
            if count > 64
                || (self.nodes[j].hash == hash && text(&self.nodes[j]).is_none_or(|t| t == key))
            {
                return true;
            }
            j = self.nodes[j + 1].next as usize;
        }
        false
    }
}

/// Length of the escape after a backslash in `rest` when serde_json writes the
/// character it stands for with exactly this escape (`\"`, `\n`, lower-case `\u001f`,
/// ...); `None` for any other escape (`\/`, `\u0041`, `\u0008` for `\b`, upper-case
/// hex, surrogates) or an invalid one.
#[inline]
fn canonical_escape(rest: &[u8]) -> Option<usize> {
    let (c, len) = match *rest.first()? {
        // serde_json's own one-letter escapes (the `\"` of annotations is common).
        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => return Some(1),
        b'u' => (char::from_u32(hex_value(rest.get(1..5)?)?)?, 5),
        e => (simple_escape(e)?, 1),
    };
    let mut buf = [0u8; 6];
    let escape = json_escape(c, &mut buf)?;
    same_bytes(escape.get(1..)?, rest.get(..len)?).then_some(len)
}

/// Keys of the root of an audit `Event` (`audit.k8s.io/v1` and `v1beta1`) and of an
/// `EventList`: [`key_hash`] gives each a slot of its own in the root key table, so that
/// building the table and looking these keys up never probe a second slot.
#[cfg(test)]
const AUDIT_ROOT_KEYS: [&str; 21] = [
    "kind",
    "apiVersion",
    "level",
    "auditID",
    "stage",
    "requestURI",
    "verb",
    "user",
    "impersonatedUser",
    "sourceIPs",
    "userAgent",
    "objectRef",
    "responseStatus",
    "requestObject",
    "responseObject",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "annotations",
    "metadata",
    "timestamp",
    "items",
];

/// A 16-bit hash of an object key's text (its length and first, middle and last
/// bytes): a few loads, no copy. Used to skip key comparisons in lookups and in the
/// duplicate-key check.
///
/// The multiplier was searched for: it maps the root keys of audit events and event
/// lists to distinct root table slots, and gives the keys of `user`, `objectRef`, `responseStatus` and the common
/// annotations distinct bits of the 64-bit duplicate filter (both pinned by a test).
#[inline(always)]
fn key_hash(key: &[u8]) -> u16 {
    let n = key.len();
    let at = |i: usize| u32::from(key.get(i).copied().unwrap_or(0));
    let x = (n as u32 & 0xff) | at(0) << 8 | at(n / 2) << 16 | at(n.wrapping_sub(1)) << 24;
    let m = x.wrapping_mul(0xF3CD_FC91);
    // Folding the top bits down lets the last byte reach the low bits too.
    ((m >> 16) ^ (m >> 25)) as u16
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test inputs are literals
mod tests {
    use super::*;

    fn same_as_serde(input: &str) {
        let doc = Doc::parse(input.as_bytes()).unwrap();
        let v: serde_json::Value = serde_json::from_str(input).unwrap();
        assert_eq!(doc.text(), v.to_string(), "{input}");
    }

    #[test]
    fn compact_text_is_serde_jsons() {
        for s in [
            r#" { "a" : 1 , "b" : [ true , false , null , "x" ] , "c" : { } , "d" : [ ] } "#,
            r#"{"n":[0,-0,1.5,1.50e2,-3,18446744073709551615,18446744073709551616,-9223372036854775809,1E3]}"#,
            r#"{"s":"a\"b\\c\/d\u0026e\u00e9\n\t\u0001\ud83d\ude00"}"#,
            r#"{"a":1,"b":2,"a":3}"#,
            r#"[[[[[]]]]]"#,
            r#""plain""#,
        ] {
            same_as_serde(s);
        }
    }

    /// A deterministic xorshift generator for the randomized test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random whitespace (often none, as in compact input).
    fn ws(r: &mut Rng, out: &mut String) {
        if r.below(4) == 0 {
            for _ in 0..r.below(3) + 1 {
                out.push([' ', '\n', '\t', '\r'][r.below(4) as usize]);
            }
        }
    }

    /// A random JSON string literal mixing plain text and every kind of escape.
    fn string(r: &mut Rng, out: &mut String) {
        out.push('"');
        for _ in 0..r.below(12) {
            match r.below(20) {
                // Escapes serde_json writes as they are, and others it rewrites.
                12 => out.push_str(["\\b", "\\f", "\\r", "\\t"][r.below(4) as usize]),
                13 => {
                    out.push_str(["\\u001F", "\\u0008", "\\u000a", "\\u0000"][r.below(4) as usize])
                }
                14 => {
                    out.push_str(["\\u007f", "\\u0041", "\\u00e9", "\\u0010"][r.below(4) as usize])
                }
                0 => out.push_str("\\u0026"),
                1 => out.push_str("\\/"),
                2 => out.push_str("\\\""),
                3 => out.push_str("\\n"),
                4 => out.push_str("\\u001f"),
                5 => out.push_str("\\ud83d\\ude00"),
                6 => out.push('\u{e9}'),
                7 => out.push_str("\\\\"),
                _ => out.push_str(["a", "key", "x y", "k8s.io/z", "0"][r.below(5) as usize]),
            }
        }
        out.push('"');
    }

    fn value(r: &mut Rng, depth: u32, out: &mut String) {
        ws(r, out);
        match if depth > 4 { r.below(4) } else { r.below(7) } {
            0 => string(r, out),
            1 => out.push_str(["0", "-12", "1844674407370955161", "7"][r.below(4) as usize]),
            2 => out.push_str(["true", "false", "null"][r.below(3) as usize]),
            3 => string(r, out),
            4 | 5 => {
                out.push('{');
                let n = r.below(5);
                for i in 0..n {
                    ws(r, out);
                    if r.below(8) == 0 {
                        out.push_str("\"dup\"");
                    } else {
                        string(r, out);
                    }
                    ws(r, out);
                    out.push(':');
                    value(r, depth + 1, out);
                    ws(r, out);
                    if i + 1 < n {
                        out.push(',');
                    }
                }
                ws(r, out);
                out.push('}');
            }
            _ => {
                out.push('[');
                let n = r.below(4);
                for i in 0..n {
                    value(r, depth + 1, out);
                    if i + 1 < n {
                        out.push(',');
                    }
                }
                ws(r, out);
                out.push(']');
            }
        }
        ws(r, out);
    }

    /// Every string value and key of the tape decodes as serde_json decodes it.
    fn same_strings(v: V<'_>, s: &serde_json::Value) {
        match s {
            serde_json::Value::String(t) => assert_eq!(v.as_str().unwrap(), t.as_str()),
            serde_json::Value::Array(a) => {
                assert_eq!(v.len(), a.len());
                for (x, y) in v.elements().zip(a) {
                    same_strings(x, y);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in v.entries() {
                    let key = k.as_str().unwrap();
                    same_strings(x, &m[key.as_ref()]);
                    assert_eq!(v.get(&key).unwrap().raw(), x.raw());
                }
            }
            _ => assert_eq!(v.raw(), s.to_string()),
        }
    }

    #[test]
    fn random_documents_match_serde_json() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let mut input = String::new();
            value(&mut r, 0, &mut input);
            let v: serde_json::Value = serde_json::from_str(&input).unwrap();
            let doc = Doc::parse(input.as_bytes()).unwrap();
            assert_eq!(doc.text(), v.to_string(), "{input}");
            same_strings(doc.root(), &v);
        }
    }

    /// The compact parser takes exactly the inputs already in compact form, and tapes them
    /// as the general parser does.
    #[test]
    fn compact_parser_agrees_with_the_general_one() {
        let tape = |d: &Doc| format!("{:?} {:?} {:?}", d.text, d.nodes, d.root);
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        let mut compact_inputs = 0;
        for _ in 0..3000 {
            let mut input = String::new();
            value(&mut r, 0, &mut input);
            let canonical = serde_json::from_str::<serde_json::Value>(&input)
                .unwrap()
                .to_string();
            for text in [input.as_str(), canonical.as_str()] {
                let general = Parser::<false>::run(text, false);
                match Parser::<true>::run(text, false) {
                    Some(c) => {
                        compact_inputs += 1;
                        assert_eq!(Some(tape(&c)), general.as_ref().map(tape), "{text}");
                    }
                    None => assert!(
                        general.is_none_or(|g| g.text != text),
                        "compact input refused: {text}"
                    ),
                }
            }
        }
        assert!(compact_inputs > 3000, "{compact_inputs}");
        assert!(Parser::<true>::run("{ \"a\":1}", false).is_none());
        assert!(Parser::<true>::run("{\"a\":\"\\/\"}", false).is_none());
        assert_eq!(
            Doc::parse(b"{ \"a\":\"\\/\"}").unwrap().text(),
            r#"{"a":"/"}"#
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        for s in [
            "{",
            "[1,]",
            "{\"a\":1}x",
            "\"\\ud800\"",
            "\"a\u{1}\"",
            "1e400",
            "01",
            "-",
            "[1 2]",
        ] {
            assert!(Doc::parse(s.as_bytes()).is_err(), "{s}");
        }
    }

    #[test]
    fn lookups_and_strings() {
        let doc = Doc::parse(br#"{"a":{"b":[1,"x\"y",{"c":null}]},"k\n":2,"u":"\u0026"}"#).unwrap();
        let root = doc.root();
        let arr = root.get("a").unwrap().get("b").unwrap();
        assert_eq!(arr.kind(), Kind::Arr);
        assert_eq!(arr.len(), 3);
        let els: Vec<_> = arr.elements().map(|v| v.raw()).collect();
        assert_eq!(els, vec!["1", "\"x\\\"y\"", "{\"c\":null}"]);
        assert_eq!(arr.elements().nth(1).unwrap().as_str().unwrap(), "x\"y");
        assert_eq!(root.get("k\n").unwrap().raw(), "2");
        assert_eq!(root.get("u").unwrap().as_plain_str(), Some("&"));
        let sub = doc.sub(root.get("a").unwrap());
        assert_eq!(sub.text(), r#"{"b":[1,"x\"y",{"c":null}]}"#);
        assert_eq!(sub.root().get("b").unwrap().len(), 3);
    }

    /// Every key of a root, of any count (the table takes up to ROOT_MAX_KEYS), with keys
    /// holding escapes, colliding hashes or neither, is found by lookup, in a parsed
    /// document and in a sub-document; absent keys are not.
    #[test]
    fn root_lookups_find_every_key() {
        for count in 1..=ROOT_MAX_KEYS + 6 {
            let keys: Vec<String> = (0..count)
                .map(|i| match i % 5 {
                    // Roots of an odd count of keys hold escaped keys.
                    0 if count % 2 == 1 => format!("esc\n{i}"),
                    0 | 1 => format!("k{i}"),
                    // Same length, first, middle and last byte: same hash.
                    _ => format!("a{}z", i % 2),
                })
                .enumerate()
                .map(|(i, k)| if i % 5 >= 2 { format!("{k}{i:03}") } else { k })
                .collect();
            let members: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("{}:{i}", serde_json::to_string(k).unwrap()))
                .collect();
            let text = format!("{{{}}}", members.join(","));
            let doc = Doc::parse(text.as_bytes()).unwrap();
            let list = Doc::parse(format!("[{text}]").as_bytes()).unwrap();
            let sub = list.sub(list.root().elements().next().unwrap());
            for d in [&doc, &sub] {
                for (i, k) in keys.iter().enumerate() {
                    let v = d.root().get(k).map(V::raw);
                    assert_eq!(v, Some(i.to_string().as_str()), "{count} keys, {k:?}");
                }
                assert!(d.root().get("absent").is_none());
                assert!(d.root().get("esc").is_none());
            }
        }
    }

    /// A repeated key is found in a root (whose table finds it on the probe path), in a
    /// root past the table's size and in a nested object, next to keys of the same hash
    /// that are not repeats: the document then takes serde_json's value (the last one).
    #[test]
    fn repeated_keys_take_serde_json_values() {
        for count in [2, 5, ROOT_MAX_KEYS, ROOT_MAX_KEYS + 3, 40] {
            // Keys "a0z000".. share length, first, middle and last byte in pairs.
            let keys: Vec<String> = (0..count).map(|i| format!("a{}z{i:03}", i % 2)).collect();
            for repeat in [0, count / 2, count - 1] {
                let mut members: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("\"{k}\":{i}"))
                    .collect();
                members.push(format!("\"{}\":\"again\"", keys[repeat]));
                let object = format!("{{{}}}", members.join(","));
                for text in [object.clone(), format!("{{\"x\":{object}}}")] {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let doc = Doc::parse(text.as_bytes()).unwrap();
                    assert_eq!(doc.text(), v.to_string(), "{text}");
                }
                let unique = format!("{{{}}}", members[..count].join(","));
                let doc = Doc::parse(unique.as_bytes()).unwrap();
                assert_eq!(doc.text(), unique);
            }
        }
    }

    /// `get_pair` answers what two `get`s answer: in nested objects (one scan), at the
    /// root (the table), with escaped keys, missing keys and keys sharing a hash bucket.
    #[test]
    fn get_pair_is_two_gets() {
        let texts = [
            r#"{"o":{"resource":"pods","name":"x","subresource":"exec"}}"#,
            r#"{"o":{"subresource":"log","resource":"pods"}}"#,
            r#"{"o":{"resource":"pods"}}"#,
            r#"{"o":{"subresource":"status"}}"#,
            r#"{"o":{}}"#,
            r#"{"o":{"res\u006furce":"esc","subresource":"s"}}"#,
            r#"{"o":{"x":0,"q\"k":1,"resource":"r","n\nl":2}}"#,
            r#"{"o":{"a":1,"b":2,"c":3,"resource":[1],"subresource":{"x":1}}}"#,
            r#"{"resource":"root","subresource":"r"}"#,
            r#"{"x":"y"}"#,
        ];
        for text in texts {
            let doc = Doc::parse(text.as_bytes()).unwrap();
            let root = doc.root();
            let obj = root.get("o").unwrap_or(root);
            let pairs = [
                ("resource", "subresource"),
                ("subresource", "resource"),
                ("a", "c"),
                ("q\"k", "n\nl"),
                ("n\nl", "q\"k"),
            ];
            for (a, b) in pairs {
                let (va, vb) = obj.get_pair(a, b);
                assert_eq!(va.map(V::raw), obj.get(a).map(V::raw), "{text} {a}");
                assert_eq!(vb.map(V::raw), obj.get(b).map(V::raw), "{text} {b}");
            }
        }
    }

    /// Root keys whose nodes lie past the table's 16-bit slots are still found (by a scan
    /// of the root), and a repeat among them is still caught.
    #[test]
    fn root_keys_past_sixteen_bit_nodes() {
        let big = vec!["0"; 70_000].join(",");
        let text = format!(r#"{{"a":[{big}],"b":"x","c":{{"d":1}}}}"#);
        let doc = Doc::parse(text.as_bytes()).unwrap();
        assert_eq!(doc.text(), text);
        assert!(!doc.root.complete());
        assert_eq!(doc.root().get("a").unwrap().len(), 70_000);
        assert_eq!(doc.root().get("b").unwrap().as_plain_str(), Some("x"));
        assert_eq!(doc.root().get("c").unwrap().raw(), r#"{"d":1}"#);
        assert!(doc.root().get("e").is_none());
        let repeated = format!(r#"{{"a":[{big}],"b":"x","b":"y"}}"#);
        let doc = Doc::parse(repeated.as_bytes()).unwrap();
        assert_eq!(doc.text(), format!(r#"{{"a":[{big}],"b":"y"}}"#));
    }

    /// The hash the root table and the duplicate filter rely on: every root key of an
    /// audit event has a slot of its own, and the keys of the common nested objects have
    /// distinct filter bits.
    #[test]
    fn audit_keys_do_not_collide() {
        let slots: std::collections::HashSet<usize> = AUDIT_ROOT_KEYS
            .iter()
            .map(|k| usize::from(key_hash(k.as_bytes())) % ROOT_SLOTS)
            .collect();
        assert_eq!(slots.len(), AUDIT_ROOT_KEYS.len());
        let nested: [&[&str]; 4] = [
            &["username", "groups", "uid", "extra"],
            &[
                "resource",
                "namespace",
                "name",
                "apiVersion",
                "apiGroup",
                "subresource",
                "uid",
                "resourceVersion",
            ],
            &["metadata", "code", "status", "message", "reason", "details"],
            &[
                "authorization.k8s.io/decision",
                "authorization.k8s.io/reason",
                "pod-security.kubernetes.io/enforce-policy",
                "mutation.webhook.admission.k8s.io/round_0_index_0",
            ],
        ];
        for keys in nested {
            let bits: std::collections::HashSet<u16> =
                keys.iter().map(|k| key_hash(k.as_bytes()) & 63).collect();
            assert_eq!(bits.len(), keys.len(), "{keys:?}");
        }
    }
}
