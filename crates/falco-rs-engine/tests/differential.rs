//! Differential test: the bytecode VM against the tree-walking reference evaluator on
//! randomly generated conditions over the corpus events (read in place from
//! `../shared/corpus/events`).
//!
//! A deterministic xorshift generator builds conditions with `and`/`or`/`not` nesting,
//! fields of every shape (scalar, list, indexed list, key argument, transformers), an
//! operator valid for the field's type, and values drawn from the values the events
//! actually carry (plus globs, regexes and random strings derived from them). Each
//! condition that compiles is evaluated on the events with both evaluators, which must
//! agree; its printed form must parse back to the same printed form.
//!
//! `FALCO_RS_DIFF_SEED` and `FALCO_RS_DIFF_COUNT` override the seed and the number of
//! compiled conditions.
#![allow(clippy::unwrap_used)]

mod common;

use falco_rs_engine::{EventView, FieldCatalog, ProgramBuilder};
use falco_rs_k8saudit::{parse_payload, AuditEvent, K8sAuditCatalog, ParseOptions};
use falco_rs_syntax::parse_condition;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FALCO_RS_CORPUS") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// Every event of every file under `events/`, in path order, one payload per line.
fn corpus_events() -> Vec<(String, AuditEvent)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&corpus_dir().join("events"), &mut files);
    let mut events = Vec::new();
    for f in files {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let mut outcome = parse_payload(line, &ParseOptions::default());
            if outcome.events.is_empty() {
                // The audit2rbac recordings predate `stageTimestamp` (the plugin drops
                // them); give them one from `timestamp` so their content is exercised.
                let text = String::from_utf8_lossy(line).replacen(
                    "\"timestamp\":",
                    "\"stageTimestamp\":",
                    1,
                );
                outcome = parse_payload(text.as_bytes(), &ParseOptions::default());
            }
            for ev in outcome.events {
                events.push((format!("{}:{}", f.display(), i + 1), ev));
            }
        }
    }
    events
}

/// xorshift64* (Vigna), deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fields the generator uses: scalars, lists, indexed lists, key arguments, generic ones.
const FIELDS: &[&str] = &[
    "ka.verb",
    "ka.uri",
    "ka.user.name",
    "ka.impuser.name",
    "ka.target.resource",
    "ka.target.subresource",
    "ka.target.namespace",
    "ka.target.name",
    "ka.response.code",
    "ka.useragent",
    "ka.stage",
    "ka.auth.decision",
    "ka.req.binding.role",
    "ka.req.service.type",
    "ka.req.configmap.name",
    "ka.req.pod.host_network",
    "ka.req.container.privileged",
    "ka.req.container.image",
    "ka.uri.param[watch]",
    "ka.uri.param[command]",
    "ka.req.volume.hostpath[/var/run/docker.sock]",
    "ka.user.groups",
    "ka.sourceips",
    "ka.req.pod.containers.image",
    "ka.req.pod.containers.image[0]",
    "ka.req.pod.containers.image[1]",
    "ka.req.pod.containers.privileged",
    "ka.req.pod.containers.name",
    "ka.req.pod.volumes.hostpath",
    "ka.req.binding.subjects.user_names",
    "ka.req.role.rules.verbs",
    "ka.req.role.rules.resources",
    "ka.req.pod.containers.add_capabilities",
    "evt.source",
    "evt.pluginname",
];

const STRING_OPS: &[&str] = &[
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "icontains",
    "startswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
    "in",
    "intersects",
    "pmatch",
    "exists",
];
const MODIFIABLE_OPS: &[&str] = &[
    "=",
    "!=",
    "contains",
    "icontains",
    "startswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
];
const LIST_OPS: &[&str] = &["in", "intersects", "exists"];
/// Scalar operators falco-rs still accepts on lists (with a warning).
const LEGACY_LIST_OPS: &[&str] = &["=", "!=", "contains", "startswith", "glob", "pmatch"];
const NUMERIC_OPS: &[&str] = &[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "intersects",
    "exists",
];

fn split_field(f: &str) -> (&str, Option<&str>) {
    match f.find('[') {
        Some(i) => (&f[..i], Some(&f[i + 1..f.len() - 1])),
        None => (f, None),
    }
}

struct Generator<'a> {
    rng: Rng,
    /// Values seen in the events, per field (index into FIELDS).
    values: &'a [Vec<String>],
    /// Every value seen, all fields together.
    all_values: &'a [String],
    is_list: Vec<bool>,
}

/// Quotes a value for a condition; values that cannot be written are replaced.
fn quote(v: &str) -> String {
    if v.contains('\\') || v.ends_with('\\') {
        return "\"x\"".into();
    }
    format!("\"{}\"", v.replace('"', "\\\""))
}

/// A bare number token (`<`-family operators only take numbers).
fn number_token(rng: &mut Rng, pool: &[String]) -> String {
    let numeric: Vec<&String> = pool
        .iter()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    if !numeric.is_empty() && rng.chance(60) {
        return numeric[rng.below(numeric.len())].clone();
    }
    rng.below(1000).to_string()
}

impl Generator<'_> {
    fn random_string(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefgkmnopsuvwxyz:/-._ABCSV0123456789";
        let n = self.rng.below(8);
        (0..n).map(|_| *self.rng.pick(ALPHABET) as char).collect()
    }

    /// A value for field `fi`: mostly one of its own, sometimes any field's, or random.
    fn value(&mut self, fi: usize) -> String {
        let own = &self.values[fi];
        match self.rng.below(10) {
            0..=5 if !own.is_empty() => own[self.rng.below(own.len())].clone(),
            6 | 7 if !self.all_values.is_empty() => {
                self.all_values[self.rng.below(self.all_values.len())].clone()
            }
            _ => self.random_string(),
        }
    }

    /// A substring-ish piece of a value (for contains/startswith/endswith).
    fn piece(&mut self, fi: usize) -> String {
        let v = self.value(fi);
        let chars: Vec<char> = v.chars().collect();
        if chars.is_empty() {
            return v;
        }
        let a = self.rng.below(chars.len() + 1);
        let b = a + self.rng.below(chars.len() + 1 - a);
        match self.rng.below(3) {
            0 => chars[..b].iter().collect(),
            1 => chars[a..].iter().collect(),
            _ => chars[a..b].iter().collect(),
        }
    }

    fn glob(&mut self, fi: usize) -> String {
        let v = self.piece(fi);
        match self.rng.below(5) {
            0 => format!("{v}*"),
            1 => format!("*{v}"),
            2 => format!("*{v}*"),
            3 => v.replacen(|c: char| c.is_ascii_alphanumeric(), "?", 1),
            _ => format!("[a-z]*{v}"),
        }
    }

    fn regex(&mut self, fi: usize) -> String {
        // Escape special characters with `.` (no backslashes: quoted strings reject them).
        let v: String = self
            .piece(fi)
            .chars()
            .map(|c| if ".+*?^$()[]{}|".contains(c) { '.' } else { c })
            .collect();
        match self.rng.below(6) {
            0 => format!("{v}.*"),
            1 => format!(".*{v}"),
            2 => format!("^{v}$"),
            3 => format!("({v}|[a-z]+)"),
            4 => "[[:alpha:]:/.-]+".to_string(),
            _ => v,
        }
    }

    fn path(&mut self, fi: usize) -> String {
        let v = self.piece(fi);
        match self.rng.below(4) {
            0 => format!("/{v}"),
            1 => "/api/*/namespaces".into(),
            2 => v.split('?').next().unwrap_or("").to_string(),
            _ => v,
        }
    }

    /// The left-hand side: a field, maybe wrapped in transformers. Returns the text, the
    /// field index, whether it is a list and whether it is numeric (`len`).
    fn lhs(&mut self) -> (String, usize, bool, bool) {
        let fi = self.rng.below(FIELDS.len());
        let is_list = self.is_list[fi];
        let mut text = FIELDS[fi].to_string();
        if self.rng.chance(25) {
            let t = *self.rng.pick(&["tolower", "toupper", "basename", "b64"]);
            text = format!("{t}({text})");
        }
        if self.rng.chance(12) {
            return (format!("len({text})"), fi, false, true);
        }
        (text, fi, is_list, false)
    }

    fn list_values(&mut self, fi: usize, numeric: bool) -> String {
        let n = self.rng.below(4);
        let items: Vec<String> = (0..n)
            .map(|_| {
                if numeric {
                    number_token(&mut self.rng, &self.values[fi])
                } else {
                    quote(&self.value(fi))
                }
            })
            .collect();
        format!("({})", items.join(", "))
    }

    /// A right-hand field of the same shape as the left-hand side, occasionally.
    fn rhs_field(&mut self, is_list: bool, numeric: bool) -> Option<String> {
        if !self.rng.chance(8) {
            return None;
        }
        let candidates: Vec<usize> = (0..FIELDS.len())
            .filter(|&i| self.is_list[i] == is_list)
            .collect();
        let f = FIELDS[*self.rng.pick(&candidates)];
        Some(if numeric {
            format!("len({f})")
        } else if self.rng.chance(30) {
            format!("tolower({f})")
        } else {
            format!("val({f})")
        })
    }

    fn check(&mut self) -> String {
        let (lhs, fi, is_list, numeric) = self.lhs();
        let op = if numeric {
            *self.rng.pick(NUMERIC_OPS)
        } else if is_list {
            if self.rng.chance(15) {
                *self.rng.pick(LEGACY_LIST_OPS)
            } else {
                *self.rng.pick(LIST_OPS)
            }
        } else {
            *self.rng.pick(STRING_OPS)
        };
        if op == "exists" {
            return format!("{lhs} exists");
        }
        if !matches!(op, "regex" | "pmatch") {
            if let Some(rhs) = self.rhs_field(is_list, numeric) {
                return format!("{lhs} {op} {rhs}");
            }
        }
        if numeric {
            return match op {
                "in" | "intersects" => format!("{lhs} {op} {}", self.list_values(fi, true)),
                _ => format!(
                    "{lhs} {op} {}",
                    number_token(&mut self.rng, &self.values[fi])
                ),
            };
        }
        match op {
            "in" | "intersects" => format!("{lhs} {op} {}", self.list_values(fi, false)),
            "pmatch" => {
                let n = 1 + self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| quote(&self.path(fi))).collect();
                format!("{lhs} pmatch ({})", items.join(", "))
            }
            "<" | "<=" | ">" | ">=" => {
                format!(
                    "{lhs} {op} {}",
                    number_token(&mut self.rng, &self.values[fi])
                )
            }
            _ => {
                let value_for = |g: &mut Self| match op {
                    "glob" | "iglob" => g.glob(fi),
                    "regex" => g.regex(fi),
                    "contains" | "icontains" | "startswith" | "endswith" => g.piece(fi),
                    _ => g.value(fi),
                };
                if !is_list && MODIFIABLE_OPS.contains(&op) && self.rng.chance(20) {
                    let m = *self.rng.pick(&["oneof", "anyof", "allof"]);
                    let n = self.rng.below(4);
                    let items: Vec<String> = (0..n).map(|_| quote(&value_for(self))).collect();
                    format!("{lhs} {op} {m} ({})", items.join(", "))
                } else {
                    let v = value_for(self);
                    format!("{lhs} {op} {}", quote(&v))
                }
            }
        }
    }

    fn expr(&mut self, depth: usize) -> String {
        if depth == 0 || self.rng.chance(40) {
            return self.check();
        }
        match self.rng.below(5) {
            0 => format!("not {}", self.expr(depth - 1)),
            1 => format!("not ({})", self.expr(depth - 1)),
            2 | 3 => {
                let kw = if self.rng.chance(50) { "and" } else { "or" };
                let n = 2 + self.rng.below(3);
                let parts: Vec<String> = (0..n).map(|_| self.expr(depth - 1)).collect();
                format!("({})", parts.join(&format!(" {kw} ")))
            }
            _ => {
                let a = self.expr(depth - 1);
                let b = self.expr(depth - 1);
                let c = self.expr(depth - 1);
                format!("{a} and {b} or not {c}")
            }
        }
    }
}

/// Values of each generator field over the events (deduplicated, capped).
fn field_values(events: &[(String, AuditEvent)]) -> (Vec<Vec<String>>, Vec<bool>) {
    let catalog = K8sAuditCatalog::new();
    let mut values = Vec::new();
    let mut is_list = Vec::new();
    for f in FIELDS {
        let (name, arg) = split_field(f);
        let meta = catalog
            .resolve(name, arg)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        is_list.push(meta.is_list);
        let mut seen = BTreeSet::new();
        for (_, ev) in events {
            let mut out: Vec<Cow<'_, str>> = Vec::new();
            if ev.extract(&meta, &mut out) {
                for v in out {
                    if v.len() <= 80 {
                        seen.insert(v.into_owned());
                    }
                }
            }
        }
        values.push(seen.into_iter().take(200).collect());
    }
    (values, is_list)
}

#[test]
fn vm_agrees_with_reference_on_random_conditions() {
    let all_events = corpus_events();
    assert!(
        all_events.len() > 800,
        "expected the whole corpus, got {} events",
        all_events.len()
    );
    // Values come from every event; evaluation uses every corpus event except most of
    // the long real-world recording (every 8th of its events is kept).
    let (values, is_list) = field_values(&all_events);
    let events: Vec<&(String, AuditEvent)> = all_events
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| !name.contains("demo.v1beta1.log") || i % 8 == 0)
        .map(|(_, e)| e)
        .collect();
    let all_values: Vec<String> = values
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let seed = std::env::var("FALCO_RS_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0005_EEDF_A1C0_u64);
    let want: usize = std::env::var("FALCO_RS_DIFF_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let mut gen = Generator {
        rng: Rng((seed ^ 0x9E37_79B9_7F4A_7C15).max(1)),
        values: &values,
        all_values: &all_values,
        is_list,
    };
    let catalog = K8sAuditCatalog::new();
    let (mut compiled, mut rejected, mut matched, mut evaluations) = (0usize, 0usize, 0u64, 0u64);
    let mut failures: Vec<String> = Vec::new();
    let mut attempts = 0;
    while compiled < want {
        attempts += 1;
        assert!(
            attempts < want * 4,
            "too many rejected conditions: {rejected} of {attempts}"
        );
        let cond = gen.expr(3);
        let expr = match parse_condition(&cond) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("generated `{cond}` does not parse: {}", e.message));
                continue;
            }
        };
        // Printed form round trip.
        let printed = expr.to_string();
        match parse_condition(&printed) {
            Ok(again) if again.to_string() == printed => {}
            Ok(again) => failures.push(format!(
                "print round trip of `{cond}`:\n  printed {printed}\n  reprinted {again}"
            )),
            Err(e) => failures.push(format!(
                "printed `{printed}` (from `{cond}`) does not parse: {}",
                e.message
            )),
        }
        let mut b = ProgramBuilder::new(&catalog);
        let Ok((filter, _)) = b.add_filter(&expr) else {
            rejected += 1;
            continue;
        };
        compiled += 1;
        let program = b.finish();
        for (name, ev) in &events {
            let mut cache = program.new_cache();
            let vm = program.eval(filter, &mut cache, ev);
            let mut cache = program.new_cache();
            let reference = program.eval_reference(filter, &mut cache, ev);
            evaluations += 1;
            matched += u64::from(vm);
            if vm != reference {
                failures.push(format!(
                    "`{cond}` on {name}: VM {vm}, reference {reference}"
                ));
                break;
            }
        }
        if failures.len() > 20 {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed:#x}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generated conditions must exercise both outcomes substantially.
    assert!(
        matched > evaluations / 20 && matched < evaluations - evaluations / 20,
        "degenerate generator: {matched} true out of {evaluations}"
    );
    eprintln!(
        "{compiled} conditions compiled ({rejected} rejected) over {} events: {evaluations} evaluations, {matched} true",
        events.len()
    );
}
