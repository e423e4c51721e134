//! A YAML tree with source positions, built from libyaml (libyaml-safer) parser events.
//!
//! Falco reports 0-based line/column marks of yaml-cpp for every item, so the loader
//! needs positions on every node; serde-based YAML crates drop them. Tags are ignored
//! (yaml-cpp's `as<std::string>()` returns the scalar text whatever its tag), which is
//! what makes `desc: != after ...` load as a string, as it does in Falco.

use libyaml_safer::{EventData, Parser, ScalarStyle};
use std::collections::HashMap;

/// 0-based position of a node (yaml-cpp `Mark` convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Byte offset.
    pub offset: usize,
    /// 0-based line.
    pub line: usize,
    /// 0-based column.
    pub column: usize,
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it starts.
    pub mark: Mark,
}

/// Node contents.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `~`, `null`, or an empty plain scalar.
    Null,
    /// A scalar with its text; `plain` is false for quoted and block scalars.
    Scalar {
        /// The text.
        value: String,
        /// Whether the scalar was written plain (unquoted).
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Message in yaml-cpp's style (`yaml-cpp: error at line L, column C: ...`).
    pub message: String,
    /// Position.
    pub mark: Mark,
    /// The parser's own description of the problem (libyaml's wording, with its
    /// context), for human diagnostics.
    pub detail: String,
}

/// Maps a libyaml problem text to the yaml-cpp message Falco reports for the same
/// input; `None` when there is no close yaml-cpp equivalent.
fn yaml_cpp_message(problem: &str, context: Option<&str>) -> Option<&'static str> {
    let in_flow_seq = context.is_some_and(|c| c.contains("flow sequence"));
    let in_flow_map = context.is_some_and(|c| c.contains("flow mapping"));
    Some(match problem {
        "mapping values are not allowed in this context" => "illegal map value",
        "block sequence entries are not allowed in this context" => "illegal block entry",
        "did not find expected key" if in_flow_map => "end of map flow not found",
        "did not find expected key" => "end of map not found",
        "did not find expected '-' indicator" => "end of sequence not found",
        "did not find expected ',' or ']'" => "end of sequence flow not found",
        "did not find expected ',' or '}'" => "end of map flow not found",
        "did not find expected node content" if in_flow_seq => "end of sequence flow not found",
        "did not find expected node content" if in_flow_map => "end of map flow not found",
        "found unexpected end of stream" => "illegal EOF in scalar",
        "found unexpected document indicator" => "illegal document indicator in scalar",
        "found undefined alias" | "found undefined anchor" => {
            "the referenced anchor is not defined"
        }
        "found a tab character that violates indentation" => {
            "illegal tab when looking for indentation"
        }
        "found character that cannot start any token" => "unknown token",
        "found unknown escape character" => "unknown escape character",
        "did not find expected alphabetic or numeric character" => "alias not found after *",
        _ => return None,
    })
}

/// Formats a parser error as yaml-cpp's exception text (1-based line and column).
fn yaml_cpp_error(problem: &str, context: Option<&str>, mark: Mark) -> String {
    let msg = yaml_cpp_message(problem, context).unwrap_or(problem);
    format!(
        "yaml-cpp: error at line {}, column {}: {msg}",
        mark.line + 1,
        mark.column + 1
    )
}

impl Node {
    /// The mapping value for `key` (first occurrence), if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether this is a null node.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// Whether this is a scalar.
    pub fn is_scalar(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar { .. })
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.kind, NodeKind::Map(_))
    }

    /// Sequence items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// yaml-cpp boolean conversion.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()? {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Some(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => Some(false),
            _ => None,
        }
    }

    /// yaml-cpp unsigned conversion (decimal, optional leading `+`, no trailing text).
    pub fn as_u64(&self) -> Option<u64> {
        let s = self.as_str()?.trim();
        let digits = s.strip_prefix('+').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Converts to JSON (scalars stay strings unless plain booleans/integers).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            NodeKind::Null => serde_json::Value::Null,
            NodeKind::Scalar { value, plain } => {
                if *plain {
                    if let Some(b) = self.as_bool().filter(|_| {
                        matches!(
                            value.as_str(),
                            "true" | "false" | "True" | "False" | "TRUE" | "FALSE"
                        )
                    }) {
                        return serde_json::Value::Bool(b);
                    }
                    if let Ok(n) = value.parse::<i64>() {
                        return serde_json::Value::from(n);
                    }
                    if let Ok(f) = value.parse::<f64>() {
                        if f.is_finite() && value.contains('.') {
                            return serde_json::Value::from(f);
                        }
                    }
                }
                serde_json::Value::String(value.clone())
            }
            NodeKind::Seq(items) => items.iter().map(Node::to_json).collect(),
            NodeKind::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses every document of a YAML stream.
pub fn load_all(text: &str) -> Result<Vec<Node>, YamlError> {
    let lines = LineIndex::new(text);
    let mut builder = Builder::default();
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    loop {
        let event = parser.parse().map_err(|e| {
            let mark = e.problem_mark().map(|m| lines.mark(m)).unwrap_or_default();
            YamlError {
                message: yaml_cpp_error(e.problem(), e.context(), mark),
                mark,
                detail: match e.context() {
                    Some(ctx) => format!("{}: {}", ctx, e.problem()),
                    None => e.problem().to_string(),
                },
            }
        })?;
        let mark = lines.mark(event.start_mark);
        if matches!(event.data, EventData::StreamEnd) {
            break;
        }
        builder.on_event(event.data, mark);
        if let Some(err) = builder.error.take() {
            return Err(err);
        }
    }
    Ok(builder.docs)
}

/// Converts libyaml's character-based marks into byte offsets.
struct LineIndex<'t> {
    starts: Vec<usize>,
    text: &'t str,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts, text }
    }

    fn mark(&self, m: libyaml_safer::Mark) -> Mark {
        let line = m.line as usize;
        let column = m.column as usize;
        let start = self.starts.get(line).copied().unwrap_or(self.text.len());
        let offset = self.text[start..]
            .char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i);
        Mark {
            offset,
            line,
            column,
        }
    }
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<(Node, Option<Node>, Option<String>)>,
    anchors: HashMap<String, Node>,
    error: Option<YamlError>,
    depth: usize,
}

/// Deepest YAML nesting accepted; deeper input is an error, not a stack overflow.
const MAX_YAML_DEPTH: usize = 512;

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((parent, pending_key, _)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending_key.take() {
                    None => {
                        if entries.is_empty() {
                            // yaml-cpp marks a block mapping at its first key.
                            parent.mark = node.mark;
                        }
                        *pending_key = Some(node)
                    }
                    Some(k) => entries.push((k, node)),
                },
                _ => {}
            },
        }
    }

    fn on_event(&mut self, ev: EventData, mark: Mark) {
        match ev {
            EventData::Scalar {
                anchor,
                value,
                style,
                ..
            } => {
                let plain = style == ScalarStyle::Plain;
                let kind = if plain && matches!(value.as_str(), "~" | "null" | "Null" | "NULL" | "")
                {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar { value, plain }
                };
                let node = Node { kind, mark };
                if let Some(a) = anchor {
                    self.anchors.insert(a, node.clone());
                }
                self.push_value(node);
            }
            EventData::SequenceStart { ref anchor, .. }
            | EventData::MappingStart { ref anchor, .. } => {
                let anchor = anchor.clone();
                self.depth += 1;
                if self.depth > MAX_YAML_DEPTH {
                    let detail = format!("YAML nesting deeper than {MAX_YAML_DEPTH} levels");
                    self.error = Some(YamlError {
                        message: yaml_cpp_error(&detail, None, mark),
                        mark,
                        detail,
                    });
                    return;
                }
                let kind = if matches!(ev, EventData::SequenceStart { .. }) {
                    NodeKind::Seq(Vec::new())
                } else {
                    NodeKind::Map(Vec::new())
                };
                self.stack.push((Node { kind, mark }, None, anchor));
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
                if let Some((mut node, pending, anchor)) = self.stack.pop() {
                    if let (Some(k), NodeKind::Map(entries)) = (pending, &mut node.kind) {
                        entries.push((
                            k,
                            Node {
                                kind: NodeKind::Null,
                                mark,
                            },
                        ));
                    }
                    if let Some(a) = anchor {
                        self.anchors.insert(a, node.clone());
                    }
                    self.push_value(node);
                }
            }
            EventData::Alias { anchor } => {
                let kind = self
                    .anchors
                    .get(&anchor)
                    .map_or(NodeKind::Null, |n| n.kind.clone());
                self.push_value(Node { kind, mark });
            }
            EventData::StreamStart { .. }
            | EventData::StreamEnd
            | EventData::DocumentStart { .. }
            | EventData::DocumentEnd { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_zero_based() {
        let docs = load_all("- rule: a\n  desc: b\n- list: x\n  items: []\n").expect("yaml");
        let seq = docs[0].as_seq().expect("seq");
        assert_eq!(docs[0].mark.line, 0);
        assert_eq!(docs[0].mark.column, 0);
        assert_eq!(seq[0].mark.line, 0);
        assert_eq!(seq[0].mark.column, 2);
        assert_eq!(seq[1].mark.line, 2);
        assert_eq!(seq[1].get("items").expect("items").mark.line, 3);
    }

    #[test]
    fn falco_quirks_load() {
        let docs = load_all(
            "- exceptions:\n  - comps: [=]\n- rule: x\n  desc: != after evt.type\n---\n- list: y\n",
        )
        .expect("yaml");
        assert_eq!(docs.len(), 2);
        let seq = docs[0].as_seq().expect("seq");
        let comps = seq[0]
            .get("exceptions")
            .and_then(|e| e.as_seq())
            .expect("ex")[0]
            .get("comps")
            .and_then(|c| c.as_seq())
            .expect("comps");
        assert_eq!(comps[0].as_str(), Some("="));
        assert!(seq[1].get("desc").is_some());
    }

    #[test]
    fn nulls_and_empty_documents() {
        let docs = load_all("# only a comment\n").expect("yaml");
        assert!(docs.is_empty() || docs.iter().all(Node::is_null));
        let docs = load_all("- a: ~\n  b:\n  c: ''\n").expect("yaml");
        let m = &docs[0].as_seq().expect("seq")[0];
        assert!(m.get("a").expect("a").is_null());
        assert!(m.get("b").expect("b").is_null());
        assert_eq!(m.get("c").expect("c").as_str(), Some(""));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = load_all("- rule: [unclosed\n").expect_err("must fail");
        assert!(err.message.starts_with("yaml-cpp: error at line "));
        let err = load_all("This : is : not : yaml\n").expect_err("must fail");
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 1, column 11: illegal map value"
        );
        assert_eq!(err.detail, "mapping values are not allowed in this context");
    }
}
