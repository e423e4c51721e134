//! `pmatch`: path-prefix matching against a set of paths (libsinsp `path_prefix_search`).
//!
//! Paths are split on `/` with empty components dropped. A pattern matches a value when
//! the value has at least as many components and each pattern component matches the
//! value component at the same depth, exactly or (when it contains `?`, `*` or `[`) as an
//! `fnmatch` glob confined to that component. Unlike libsinsp, sibling globs are tried
//! with full backtracking, so the result never depends on hash order (documented in
//! docs/falco-differences.md).

use crate::glob::fnmatch;
use std::collections::HashMap;

/// A compiled set of path prefixes.
#[derive(Debug, Default, Clone)]
pub struct PathPrefixSet {
    root: Node,
}

#[derive(Debug, Default, Clone)]
struct Node {
    terminal: bool,
    exact: HashMap<Box<[u8]>, Node>,
    globs: Vec<(Box<[u8]>, Node)>,
}

fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

fn is_glob(component: &[u8]) -> bool {
    component.iter().any(|&b| matches!(b, b'?' | b'*' | b'['))
}

impl PathPrefixSet {
    /// Builds the set from patterns.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = PathPrefixSet::default();
        for p in patterns {
            set.insert(p.as_bytes());
        }
        set
    }

    fn insert(&mut self, pattern: &[u8]) {
        let mut node = &mut self.root;
        for comp in components(pattern) {
            if node.terminal {
                // A shorter prefix already covers everything below.
                return;
            }
            node = if is_glob(comp) {
                let pos = node.globs.iter().position(|(g, _)| &**g == comp);
                let idx = match pos {
                    Some(i) => i,
                    None => {
                        node.globs.push((comp.into(), Node::default()));
                        node.globs.len() - 1
                    }
                };
                &mut node.globs[idx].1
            } else {
                node.exact.entry(comp.into()).or_default()
            };
        }
        node.terminal = true;
        node.exact.clear();
        node.globs.clear();
    }

    /// Whether `value` starts with one of the paths.
    pub fn matches(&self, value: &str) -> bool {
        let comps: Vec<&[u8]> = components(value.as_bytes()).collect();
        Self::match_node(&self.root, &comps)
    }

    fn match_node(node: &Node, rest: &[&[u8]]) -> bool {
        if node.terminal {
            return true;
        }
        let Some((first, tail)) = rest.split_first() else {
            return false;
        };
        if let Some(child) = node.exact.get(*first) {
            if Self::match_node(child, tail) {
                return true;
            }
        }
        node.globs
            .iter()
            .any(|(g, child)| fnmatch(g, first, false) && Self::match_node(child, tail))
    }
}

#[cfg(test)]
mod tests {
    use super::PathPrefixSet;

    #[test]
    fn prefixes() {
        let s = PathPrefixSet::new(["/srv/hello"]);
        assert!(s.matches("/srv/hello"));
        assert!(s.matches("/srv/hello/world"));
        assert!(!s.matches("/srv/hello_world"));
        assert!(!s.matches("/srv"));
        let s = PathPrefixSet::new(["/api/v1"]);
        assert!(s.matches("/api/v1/namespaces?x=y"));
        assert!(!s.matches("/api/v1?watch=1"));
    }

    #[test]
    fn root_matches_everything() {
        assert!(PathPrefixSet::new(["/"]).matches(""));
        assert!(PathPrefixSet::new([""]).matches("/x"));
        assert!(!PathPrefixSet::new(Vec::<&str>::new()).matches("/x"));
    }

    #[test]
    fn normalisation_and_globs() {
        let s = PathPrefixSet::new(["//a//b"]);
        assert!(s.matches("a/b/c"));
        let s = PathPrefixSet::new(["/var/*/docker.sock", "/var/r*/x"]);
        assert!(s.matches("/var/run/docker.sock"));
        assert!(s.matches("/var/run/x/y"));
        assert!(!s.matches("/var/run/other"));
        let s = PathPrefixSet::new(["/a/b", "/a"]);
        assert!(s.matches("/a/c"));
    }
}
