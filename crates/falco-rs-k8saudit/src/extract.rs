//! Extraction of the `ka.*` fields, following the k8saudit v0.18.0 plugin (`extract.go`)
//! including its quirks; see `k8saudit-sources-and-fields.md` §1.2–1.3.
//!
//! Every function pushes values into `out` and returns `false` when the plugin would not
//! extract the field (missing value or extraction error). An empty result is reported as
//! not extracted by the caller.

use std::borrow::Cow;

use crate::tape::{Kind as J, V};

use crate::catalog::{Attr, Def, Family, Kind, SubjectKind};
use crate::jsontext::{get1, get_path, jt};
use crate::uri;

/// The rest of a fan-out path is missing (the plugin's `ErrExtractNotAvailable`).
struct Missing;

/// The plugin's `getValuesRecursive`: walks `keys` from `v`; the first time the walk stands
/// on an array it either fans out over every element (no index: elements where the rest of
/// the path is missing report `None`) or picks element `index` (out of range: missing). A
/// final array is reported as one value. An empty key means "this value".
fn walk<'v, F: FnMut(Option<V<'v>>)>(
    v: V<'v>,
    index: Option<u64>,
    keys: &[&str],
    f: &mut F,
) -> Result<(), Missing> {
    let mut cur = v;
    for (i, k) in keys.iter().enumerate() {
        if cur.kind() == J::Arr {
            match index {
                None => {
                    for e in cur.elements() {
                        if walk(e, None, &keys[i..], f).is_err() {
                            f(None);
                        }
                    }
                    return Ok(());
                }
                Some(n) => {
                    cur = usize::try_from(n)
                        .ok()
                        .and_then(|n| cur.elements().nth(n))
                        .ok_or(Missing)?;
                }
            }
        }
        if !k.is_empty() {
            cur = get1(cur, k).ok_or(Missing)?;
        }
    }
    f(Some(cur));
    Ok(())
}

/// [`walk`] under `requestObject.spec.<list>` followed by `sub` (at most three keys).
fn container_walk<'v, F: FnMut(Option<V<'v>>)>(
    root: V<'v>,
    family: Family,
    index: Option<u64>,
    sub: &[&str],
    f: &mut F,
) -> Result<(), Missing> {
    let mut keys = ["requestObject", "spec", family.key(), "", "", ""];
    let n = sub.len().min(3);
    keys[3..3 + n].copy_from_slice(&sub[..n]);
    walk(root, index, &keys[..3 + n], f)
}

/// The image repository as the plugin computes it: cut at the first `:`, then at the first
/// `@`.
fn repository(image: Cow<'_, str>) -> Cow<'_, str> {
    fn cut(s: &str) -> &str {
        let s = s.split(':').next().unwrap_or(s);
        s.split('@').next().unwrap_or(s)
    }
    match image {
        Cow::Borrowed(s) => Cow::Borrowed(cut(s)),
        Cow::Owned(s) => Cow::Owned(cut(&s).to_string()),
    }
}

/// The values of a [`Kind::Keys`] field `def` whose path walk ended at `v`: the value,
/// or the elements of a list field's array; `false` when the walk found nothing.
pub(crate) fn push_keys_value<'a>(
    def: &Def,
    v: Option<V<'a>>,
    out: &mut Vec<Cow<'a, str>>,
) -> bool {
    let Some(v) = v else {
        return false;
    };
    if def.is_list {
        if v.kind() != J::Arr {
            return false;
        }
        out.extend(v.elements().map(jt));
    } else {
        out.push(jt(v));
    }
    true
}

/// Extracts the `ka.*` field `def` from `root`.
pub(crate) fn extract_ka<'a>(
    root: V<'a>,
    def: &Def,
    key: &str,
    index: Option<u64>,
    out: &mut Vec<Cow<'a, str>>,
) -> bool {
    match def.kind {
        Kind::Keys(keys) => push_keys_value(def, get_path(root, keys), out),
        Kind::UriParam => {
            let Some(u) = get1(root, "requestURI") else {
                return false;
            };
            let value = match jt(u) {
                Cow::Borrowed(s) => uri::query_param(s, key),
                Cow::Owned(s) => uri::query_param(&s, key).map(|v| Cow::Owned(v.into_owned())),
            };
            match value {
                Some(v) => {
                    out.push(v);
                    true
                }
                None => false,
            }
        }
        Kind::TargetPodName => {
            let obj = get1(root, "objectRef");
            let resource = obj.and_then(|o| get1(o, "resource")).and_then(V::as_str);
            let subresource = obj
                .and_then(|o| get1(o, "subresource"))
                .and_then(V::as_str)
                .unwrap_or_default();
            if resource.as_deref() != Some("pods") || !subresource.is_empty() {
                return false;
            }
            match get_path(root, &["responseObject", "metadata", "name"]) {
                Some(v) => {
                    out.push(jt(v));
                    true
                }
                None => false,
            }
        }
        Kind::Subjects(kind) => subject_names(root, kind, out),
        Kind::HasName => {
            out.push(Cow::Borrowed("true"));
            true
        }
        Kind::ContainerImage | Kind::ContainerImageRepository => {
            let mut first = None;
            let walked = container_walk(root, Family::Containers, Some(0), &["image"], &mut |v| {
                if first.is_none() {
                    first = Some(v);
                }
            });
            let (Ok(()), Some(Some(v))) = (walked, first) else {
                return false;
            };
            let image = jt(v);
            out.push(if matches!(def.kind, Kind::ContainerImage) {
                image
            } else {
                repository(image)
            });
            true
        }
        Kind::ContainerPrivileged => {
            let mut any = false;
            let walked = container_walk(
                root,
                Family::Containers,
                None,
                &["securityContext", "privileged"],
                &mut |v| any |= v.is_some_and(|v| v.kind() == J::True),
            );
            if walked.is_err() {
                return false;
            }
            out.push(Cow::Borrowed(if any { "true" } else { "false" }));
            true
        }
        Kind::Container(family, attr) => container_field(root, family, attr, index, out),
        Kind::RulesField(k) => {
            let walked = walk(root, index, &["requestObject", "rules", k], &mut |v| {
                if let Some(a) = v.filter(|a| a.kind() == J::Arr) {
                    out.extend(a.elements().map(jt));
                }
            });
            walked.is_ok()
        }
        Kind::ServicePorts => skip_missing(root, index, &["requestObject", "spec", "ports"], out),
        Kind::Volumes(sub) => {
            let mut keys = ["requestObject", "spec", "volumes", "", ""];
            let n = sub.len().min(2);
            keys[3..3 + n].copy_from_slice(&sub[..n]);
            skip_missing(root, index, &keys[..3 + n], out)
        }
        Kind::VolumeHostpathMatch => {
            let (prefix, is_prefix) = match key.strip_suffix('*') {
                Some(p) => (p, true),
                None => (key, false),
            };
            let mut matched = false;
            let walked = walk(
                root,
                None,
                &["requestObject", "spec", "volumes", "hostPath", "path"],
                &mut |v| {
                    if let Some(v) = v {
                        let s = jt(v);
                        matched |= (is_prefix && s.starts_with(prefix)) || s == key;
                    }
                },
            );
            if walked.is_err() {
                return false;
            }
            out.push(Cow::Borrowed(if matched { "true" } else { "false" }));
            true
        }
        Kind::VolumeType => {
            let walked = walk(
                root,
                index,
                &["requestObject", "spec", "volumes", ""],
                &mut |v| {
                    if let Some(m) = v.filter(|m| m.kind() == J::Obj) {
                        out.extend(m.entries().map(|(k, _)| jt(k)).filter(|k| k != "name"));
                    }
                },
            );
            walked.is_ok()
        }
        Kind::SourceIps => {
            // Documented deviation: the plugin reads `requestObject.rules[].sourceIPs` and so
            // never extracts anything; we read the top-level `sourceIPs` array.
            let Some(a) = get1(root, "sourceIPs").filter(|a| a.kind() == J::Arr) else {
                return false;
            };
            match index {
                None => out.extend(a.elements().map(jt)),
                Some(i) => match usize::try_from(i).ok().and_then(|i| a.elements().nth(i)) {
                    Some(v) => out.push(jt(v)),
                    None => return false,
                },
            }
            true
        }
        Kind::JsonValue | Kind::JsonObj | Kind::JsonRawtime | Kind::Evt(_) => false,
    }
}

/// Fan-out walk whose present values are all reported as JSON text (the plugin's
/// `arrayAsStringsSkipNil`).
fn skip_missing<'a>(
    root: V<'a>,
    index: Option<u64>,
    keys: &[&str],
    out: &mut Vec<Cow<'a, str>>,
) -> bool {
    walk(root, index, keys, &mut |v| {
        if let Some(v) = v {
            out.push(jt(v));
        }
    })
    .is_ok()
}

/// The plugin's `readSubjectNamesByKind`.
fn subject_names<'a>(root: V<'a>, kind: SubjectKind, out: &mut Vec<Cow<'a, str>>) -> bool {
    let Some(subjects) = get_path(root, &["requestObject", "subjects"]) else {
        // an empty list: not extracted
        return true;
    };
    if subjects.kind() != J::Arr {
        return false;
    }
    let want = match kind {
        SubjectKind::User => "User",
        SubjectKind::ServiceAccount | SubjectKind::NamespacedServiceAccount => "ServiceAccount",
        SubjectKind::Group => "Group",
    };
    for subject in subjects.elements() {
        let (Some(k), Some(name)) = (get1(subject, "kind"), get1(subject, "name")) else {
            continue;
        };
        if jt(k) != want {
            continue;
        }
        let name = jt(name);
        if kind == SubjectKind::NamespacedServiceAccount {
            let Some(ns) = get1(subject, "namespace") else {
                continue;
            };
            out.push(Cow::Owned(format!("{}:{}", jt(ns), name)));
        } else {
            out.push(name);
        }
    }
    true
}

/// The per-container families (`extractContainerField`).
fn container_field<'a>(
    root: V<'a>,
    family: Family,
    attr: Attr,
    index: Option<u64>,
    out: &mut Vec<Cow<'a, str>>,
) -> bool {
    let simple = |sub: &[&str], out: &mut Vec<Cow<'a, str>>| {
        container_walk(root, family, index, sub, &mut |v| {
            if let Some(v) = v {
                out.push(jt(v));
            }
        })
        .is_ok()
    };
    match attr {
        Attr::Name | Attr::Image | Attr::ImageRepository => {
            let key = if attr == Attr::Name { "name" } else { "image" };
            let mut missing = false;
            let walked = container_walk(root, family, index, &[key], &mut |v| match v {
                Some(v) if attr == Attr::ImageRepository => out.push(repository(jt(v))),
                Some(v) => out.push(jt(v)),
                None => missing = true,
            });
            walked.is_ok() && !missing
        }
        Attr::Command | Attr::Args => {
            let key = if attr == Attr::Command {
                "command"
            } else {
                "args"
            };
            let mut wrong_type = false;
            let walked = container_walk(root, family, index, &[key], &mut |v| match v {
                None => {}
                Some(parts) if parts.kind() == J::Arr => match join_strings(parts) {
                    Some(s) => out.push(s),
                    None => wrong_type = true,
                },
                Some(_) => wrong_type = true,
            });
            walked.is_ok() && !wrong_type
        }
        Attr::HostPort => {
            let mut wrong_type = false;
            let walked = container_walk(root, family, index, &["ports"], &mut |v| match v {
                None => {}
                Some(ports) if ports.kind() == J::Arr => {
                    for port in ports.elements() {
                        if let Some(p) = get1(port, "hostPort") {
                            out.push(jt(p));
                        } else if let Some(p) = get1(port, "containerPort") {
                            out.push(jt(p));
                        }
                    }
                }
                Some(_) => wrong_type = true,
            });
            walked.is_ok() && !wrong_type
        }
        Attr::Privileged => simple(&["securityContext", "privileged"], out),
        Attr::AllowPrivilegeEscalation => {
            simple(&["securityContext", "allowPrivilegeEscalation"], out)
        }
        Attr::ReadOnlyFs => simple(&["securityContext", "readOnlyRootFilesystem"], out),
        Attr::RunAsUser => simple(&["securityContext", "runAsUser"], out),
        Attr::RunAsGroup => simple(&["securityContext", "runAsGroup"], out),
        Attr::ProcMount => simple(&["securityContext", "procMount"], out),
        Attr::AddCapabilities => simple(&["securityContext", "capabilities", "add"], out),
        Attr::EffRunAsUser | Attr::EffRunAsGroup => {
            // Plugin bug kept on purpose: both lookups miss `securityContext`, so with
            // valid pod specs every container reports the default "0".
            let key = if attr == Attr::EffRunAsUser {
                "runAsUser"
            } else {
                "runAsGroup"
            };
            let pod = get_path(root, &["requestObject", "spec", key])
                .map(jt)
                .unwrap_or(Cow::Borrowed("0"));
            container_walk(root, family, index, &[key], &mut |v| match v {
                Some(v) => out.push(jt(v)),
                None => out.push(pod.clone()),
            })
            .is_ok()
        }
    }
}

/// The elements of a `command`/`args` array joined with single spaces; `None` if an
/// element is not a string.
fn join_strings(parts: V<'_>) -> Option<Cow<'_, str>> {
    let mut it = parts.elements();
    let Some(first) = it.next() else {
        return Some(Cow::Borrowed(""));
    };
    let first = first.as_str()?;
    let mut rest = it.peekable();
    if rest.peek().is_none() {
        return Some(first);
    }
    let mut joined = first.into_owned();
    for p in rest {
        joined.push(' ');
        joined.push_str(&p.as_str()?);
    }
    Some(Cow::Owned(joined))
}
