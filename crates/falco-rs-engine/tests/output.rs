//! Output formats (`falco-rules-language.md` §4.1; libsinsp 0.25.4
//! `sinsp_evt_formatter::set_format` / `tostring_withformat`, `sinsp_filter_check::tostring`
//! and the formatter visitor): rendering and `output_fields`.
#![allow(clippy::unwrap_used)]

mod common;

use common::event;
use falco_rs_engine::{OutputValue, ProgramBuilder};
use falco_rs_k8saudit::{AuditEvent, K8sAuditCatalog};

const EV: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?x=1","verb":"get","user":{"username":"Alice","groups":["g1","g2"]},"objectRef":{"resource":"pods","namespace":"default"},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"busybox:1.36"}]}},"stageTimestamp":"2024-05-01T16:07:42.045023Z"}"#;

fn render(format: &str, ev: &AuditEvent) -> Result<(String, Vec<(String, OutputValue)>), String> {
    let catalog = K8sAuditCatalog::new();
    let mut b = ProgramBuilder::new(&catalog);
    let id = b.add_output(format)?;
    let program = b.finish();
    let mut cache = program.new_cache();
    let mut text = String::new();
    program.render_output(id, &mut cache, ev, &mut text);
    let fields = program.output_fields(id, &mut cache, ev);
    Ok((text, fields))
}

fn text(format: &str, ev: &AuditEvent) -> String {
    render(format, ev)
        .unwrap_or_else(|e| panic!("{format}: {e}"))
        .0
}

fn str_value(s: &str) -> OutputValue {
    OutputValue::Str(s.to_string())
}

#[test]
fn rendering() {
    let ev = event(EV);
    for (format, want) in [
        ("verb=%ka.verb", "verb=get"),
        ("missing=%ka.impuser.name", "missing=<NA>"),
        ("groups=%ka.user.groups", "groups=(g1,g2)"),
        // An indexed list field is still a list field.
        ("img=%ka.req.pod.containers.image[1]", "img=(busybox:1.36)"),
        (
            "imgs=%ka.req.pod.containers.image",
            "imgs=(nginx,busybox:1.36)",
        ),
        ("none=%ka.req.pod.containers.image[7]", "none=<NA>"),
        ("param=%ka.uri.param[x] %ka.uri.param[y]", "param=1 <NA>"),
        // A token glued to text backs off to the longest valid field name.
        ("%ka.verbose", "getose"),
        ("%ka.verb.", "get."),
        ("%ka.uri.param", "/api/v1/namespaces/default/pods?x=1.param"),
        ("%ka.user.names", "Alices"),
        // Width pads or truncates; 0 means no width.
        ("[%10ka.verb]", "[get       ]"),
        ("[%2ka.user.name]", "[Al]"),
        ("[%0ka.verb]", "[get]"),
        ("[%6ka.impuser.name]", "[<NA>  ]"),
        ("[%3ka.user.groups]", "[(g1]"),
        // Transformers.
        ("%tolower(ka.user.name) %toupper(ka.verb)", "alice GET"),
        ("%len(ka.user.groups) %len(ka.verb)", "2 3"),
        ("%toupper(ka.user.groups)", "(G1,G2)"),
        ("%basename(ka.uri)", "pods?x=1"),
        ("%b64(ka.verb)", "<NA>"),
        ("no tokens at all", "no tokens at all"),
    ] {
        assert_eq!(text(format, &ev), want, "{format}");
    }
}

#[test]
fn list_rendering_follows_libsinsp_tostring() {
    // A comma is only added once something follows the `(`: leading empty elements
    // vanish, later ones stay.
    let ev = event(&EV.replace(r#"["g1","g2"]"#, r#"["","","g1","","g2"]"#));
    assert_eq!(text("%ka.user.groups", &ev), "(g1,,g2)");
    let ev = event(&EV.replace(r#"["g1","g2"]"#, r#"["",""]"#));
    assert_eq!(text("%ka.user.groups", &ev), "()");
    // The whole rendering, parentheses included, is cut to 1023 bytes.
    let groups: Vec<String> = (0..300).map(|i| format!("\"g{i:03}\"")).collect();
    let ev = event(&EV.replace(r#"["g1","g2"]"#, &format!("[{}]", groups.join(","))));
    let t = text("%ka.user.groups|", &ev);
    assert_eq!(t.len(), 1024);
    assert!(t.starts_with("(g000,g001,"));
    assert!(t.ends_with(",g203,g2|"), "{}", &t[1000..]);
    let short: Vec<String> = (0..204).map(|i| format!("\"g{i:03}\"")).collect();
    let ev = event(&EV.replace(r#"["g1","g2"]"#, &format!("[{}]", short.join(","))));
    let t = text("%ka.user.groups", &ev);
    assert_eq!(t.len(), 1021);
    assert!(t.ends_with(",g203)"));
}

#[test]
fn output_fields() {
    let ev = event(EV);
    let (_, fields) = render(
        "%ka.verb %ka.verbose %tolower(ka.user.name) %toupper(ka.target.namespace) %len(ka.user.groups) %ka.impuser.name %ka.req.pod.containers.image[1] %ka.uri.param[x] %10ka.target.resource",
        &ev,
    )
    .unwrap();
    // Transformer tokens contribute their inner field, with the raw value; each key once,
    // in token order (the JSON writer sorts them).
    assert_eq!(
        fields,
        vec![
            ("ka.verb".to_string(), str_value("get")),
            ("ka.user.name".to_string(), str_value("Alice")),
            ("ka.target.namespace".to_string(), str_value("default")),
            (
                "ka.user.groups".to_string(),
                OutputValue::List(vec!["g1".into(), "g2".into()])
            ),
            ("ka.impuser.name".to_string(), OutputValue::Null),
            (
                "ka.req.pod.containers.image[1]".to_string(),
                OutputValue::List(vec!["busybox:1.36".into()])
            ),
            ("ka.uri.param[x]".to_string(), str_value("1")),
            ("ka.target.resource".to_string(), str_value("pods")),
        ]
    );
}

#[test]
fn format_errors() {
    let ev = event(EV);
    for (format, want) in [
        ("", "empty formatting token"),
        (
            "ends with %",
            "invalid formatting syntax: formatting cannot end with a %",
        ),
        (
            "ends with %12",
            "invalid formatting syntax: formatting cannot end with a number",
        ),
        ("100% sure", "unknown filter: unexpected token after '"),
        ("%(ka.verb)", "unknown filter: unexpected token after '"),
        ("%nope.field", "unknown filter: unexpected token after '"),
        ("%%ka.verb", "unknown filter: unexpected token after '"),
    ] {
        match render(format, &ev) {
            Ok((t, _)) => panic!("`{format}` compiled, rendering {t:?}"),
            Err(e) => assert_eq!(e, want, "{format}"),
        }
    }
}
