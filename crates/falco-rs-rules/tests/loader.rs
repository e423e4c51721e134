//! Rule-loader semantics (`falco-rules-language.md` §1, §3; Falco 0.44.1
//! `rule_loader_reader.cpp`, `rule_loader_collector.cpp`, `rule_loader_compiler.cpp`):
//! append and override, redefinition, `enabled`, sources, multi-file visibility, list
//! expansion, unused-item warnings, exceptions, `skip-if-unknown-filter`, engine and
//! plugin version requirements. Messages and codes are pinned exactly.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    compiled, condition, errors, event, load, load_files, matching, the_error, warning_codes,
    Problem,
};
use falco_rs_k8saudit::AuditEvent;

const WARNING_APPEND: &str = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";

fn s(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// A `k8s_audit` rule with the given name and condition.
fn rule(name: &str, cond: &str) -> String {
    format!(
        "- rule: {name}\n  desc: {name} desc\n  condition: {cond}\n  output: \"{name} out %ka.verb\"\n  priority: WARNING\n  source: k8s_audit\n"
    )
}

/// An audit event with the given verb and user name.
fn ev(verb: &str, user: &str) -> AuditEvent {
    event(&format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"id-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"{verb}","user":{{"username":"{user}","groups":["system:authenticated"]}},"objectRef":{{"resource":"pods","namespace":"default"}},"stageTimestamp":"2024-05-01T16:07:42.045023Z"}}"#
    ))
}

fn list_items<'a>(l: &'a common::Loaded, name: &str) -> &'a [String] {
    compiled(l)
        .lists
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, items)| items.as_slice())
        .unwrap_or_else(|| panic!("list {name} missing"))
}

fn macro_ast(l: &common::Loaded, name: &str) -> String {
    compiled(l)
        .macros
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, e)| e.to_string())
        .unwrap_or_else(|| panic!("macro {name} missing"))
}

fn rule_info<'a>(l: &'a common::Loaded, name: &str) -> &'a falco_rs_rules::compile::CompiledRule {
    compiled(l)
        .rules
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("rule {name} missing"))
}

// ---------------------------------------------------------------------------------------
// Lists

#[test]
fn list_append_flag_is_deprecated_and_appends_with_duplicates() {
    let text = format!(
        "- list: verbs\n  items: [get, list]\n- list: verbs\n  items: [list, watch]\n  append: true\n{}",
        rule("r", "ka.verb in (verbs)")
    );
    let l = load(&text);
    assert_eq!(list_items(&l, "verbs"), ["get", "list", "list", "watch"]);
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s("LOAD_DEPRECATED_ITEM", WARNING_APPEND)]
    );
    assert_eq!(matching(&l, &ev("watch", "u")), ["r"]);
    assert!(matching(&l, &ev("delete", "u")).is_empty());
}

#[test]
fn list_override_append_and_replace() {
    let text = format!(
        "- list: a\n  items: [x]\n- list: b\n  items: [y]\n- list: a\n  items: [x2]\n  override:\n    items: append\n- list: b\n  items: [z]\n  override:\n    items: replace\n- list: c\n  items: [w]\n  override:\n    items: replace\n{}",
        rule("r", "ka.verb in (a, b, c)")
    );
    let l = load(&text);
    assert!(warning_codes(&l.results[0]).is_empty());
    assert_eq!(list_items(&l, "a"), ["x", "x2"]);
    assert_eq!(list_items(&l, "b"), ["z"]);
    // Replace without a previous list simply defines it.
    assert_eq!(list_items(&l, "c"), ["w"]);
    let order: Vec<&str> = compiled(&l).lists.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(order, ["a", "b", "c"]);
}

#[test]
fn list_append_without_previous_list() {
    for text in [
        "- list: nope\n  items: [x]\n  append: true\n",
        "- list: nope\n  items: [x]\n  override:\n    items: append\n",
    ] {
        assert_eq!(
            the_error(&load(text)),
            s(
                "LOAD_ERR_VALIDATE",
                "List uses 'append' or 'override.items: append' but no list by that name already exists"
            ),
            "{text}"
        );
    }
}

#[test]
fn list_override_errors() {
    let cases = [
        (
            "- list: a\n  items: [x]\n- list: a\n  items: [y]\n  append: true\n  override:\n    items: append\n",
            "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
        ),
        (
            "- list: a\n  items: [x]\n- list: a\n  items: [y]\n  override:\n    items: prepend\n",
            "Invalid override operation for key 'items': 'prepend'. Allowed values are: append replace ",
        ),
        (
            "- list: a\n  items: [x]\n- list: a\n  items: [y]\n  override:\n    condition: append\n",
            "Key 'condition' cannot be appended to, use 'replace' instead",
        ),
        (
            "- list: a\n  items: [x]\n- list: a\n  items: [y]\n  override:\n    condition: replace\n",
            "Key 'condition' cannot be replaced",
        ),
        ("- list: a\n", "Item has no mapping for key 'items'"),
        ("- list: a\n  items:\n", "Value is not a sequence"),
        ("- list: a\n  items: x\n", "Value is not a sequence"),
        ("- list:\n  items: [x]\n", "Mapping for key 'list' is empty"),
        ("- list: \"\"\n  items: [x]\n", "Value must be non-empty"),
    ];
    for (text, msg) in cases {
        assert_eq!(
            the_error(&load(text)),
            s("LOAD_ERR_YAML_VALIDATE", msg),
            "{text}"
        );
    }
}

#[test]
fn list_in_list_expands_one_level() {
    // A=[x], B=[A, y], C=[B, z]: compiled B = [x, y], compiled C = [A, y, z].
    let text = format!(
        "- list: A\n  items: [x]\n- list: B\n  items: [A, y]\n- list: C\n  items: [B, z]\n{}",
        rule("r", "ka.verb in (C)")
    );
    let l = load(&text);
    assert_eq!(list_items(&l, "B"), ["x", "y"]);
    assert_eq!(list_items(&l, "C"), ["A", "y", "z"]);
    // Substitution runs in list order, so A's pass is over before C inserts "A".
    assert_eq!(matching(&l, &ev("A", "u")), ["r"]);
    assert!(matching(&l, &ev("x", "u")).is_empty());
    assert_eq!(matching(&l, &ev("y", "u")), ["r"]);
    // A and B were pulled in by other lists: no unused-list warning.
    assert!(warning_codes(&l.results[0]).is_empty());
}

#[test]
fn list_referencing_a_later_list_works_textually() {
    let text = format!(
        "- list: P\n  items: [Q]\n- list: Q\n  items: [q]\n{}",
        rule("r", "ka.verb in (P)")
    );
    let l = load(&text);
    assert_eq!(list_items(&l, "P"), ["Q"]);
    assert_eq!(matching(&l, &ev("q", "u")), ["r"]);
    assert!(matching(&l, &ev("Q", "u")).is_empty());
}

#[test]
fn list_substitution_quirks() {
    // Empty lists, names inside quoted strings, and a list shadowing a macro.
    let text = format!(
        "- list: empty\n  items: []\n- list: spaced\n  items: [\"a b\", c]\n- macro: shadow\n  condition: ka.verb = never\n- list: shadow\n  items: [get]\n{}{}{}",
        rule("r_empty", "ka.verb in (empty) or ka.verb in (get, empty, list)"),
        rule("r_spaced", "ka.user.name in (spaced)"),
        rule("r_shadow", "ka.verb in (shadow)"),
    );
    let l = load(&text);
    assert_eq!(matching(&l, &ev("list", "a b")), ["r_empty", "r_spaced"]);
    assert_eq!(
        matching(&l, &ev("get", "c")),
        ["r_empty", "r_spaced", "r_shadow"]
    );
    // The macro `shadow` is never referenced as a macro.
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_UNUSED_MACRO",
            "Macro not referred to by any other rule/macro"
        )]
    );
}

#[test]
fn invalid_list_and_macro_names() {
    let text = format!(
        "- list: \"test list\"\n  items: [get]\n- macro: my-macro\n  condition: ka.verb = get\n{}",
        rule("r", "ka.verb in (test list)")
    );
    let l = load(&text);
    let w = warning_codes(&l.results[0]);
    assert_eq!(
        w,
        vec![
            s("LOAD_INVALID_LIST_NAME", "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)"),
            s("LOAD_INVALID_MACRO_NAME", "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)"),
            s("LOAD_UNUSED_MACRO", "Macro not referred to by any other rule/macro"),
        ]
    );
    // The list still works: substitution is textual.
    assert_eq!(matching(&l, &ev("get", "u")), ["r"]);
}

// ---------------------------------------------------------------------------------------
// Macros

#[test]
fn macro_append_is_plain_concatenation() {
    // `get or list` + `and alice` = `get or (list and alice)`: no parentheses added.
    for (append, warns) in [
        (
            "  append: true\n",
            vec![s("LOAD_DEPRECATED_ITEM", WARNING_APPEND)],
        ),
        ("  override:\n    condition: append\n", vec![]),
    ] {
        let text = format!(
            "- macro: m\n  condition: ka.verb = get or ka.verb = list\n- macro: m\n  condition: and ka.user.name = alice\n{append}{}",
            rule("r", "m")
        );
        let l = load(&text);
        assert_eq!(warning_codes(&l.results[0]), warns);
        assert_eq!(
            macro_ast(&l, "m"),
            "(ka.verb = get or (ka.verb = list and ka.user.name = alice))"
        );
        assert_eq!(matching(&l, &ev("get", "bob")), ["r"]);
        assert!(matching(&l, &ev("list", "bob")).is_empty());
        assert_eq!(matching(&l, &ev("list", "alice")), ["r"]);
    }
}

#[test]
fn macro_replace_keeps_position_and_redefinition_is_silent() {
    let text = format!(
        "- macro: a\n  condition: ka.verb = get\n- macro: b\n  condition: ka.verb = list\n- macro: a\n  condition: ka.verb = watch\n  override:\n    condition: replace\n- macro: b\n  condition: ka.verb = delete\n{}",
        rule("r", "a or b")
    );
    let l = load(&text);
    assert!(warning_codes(&l.results[0]).is_empty());
    let names: Vec<&str> = compiled(&l)
        .macros
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(macro_ast(&l, "a"), "ka.verb = watch");
    assert_eq!(macro_ast(&l, "b"), "ka.verb = delete");
    assert_eq!(matching(&l, &ev("watch", "u")), ["r"]);
    assert!(matching(&l, &ev("get", "u")).is_empty());
}

#[test]
fn macro_append_without_previous_macro() {
    for text in [
        "- macro: m\n  condition: ka.verb = get\n  append: true\n",
        "- macro: m\n  condition: ka.verb = get\n  override:\n    condition: append\n",
    ] {
        assert_eq!(
            the_error(&load(text)),
            s(
                "LOAD_ERR_VALIDATE",
                "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists"
            )
        );
    }
}

#[test]
fn macro_visibility() {
    // A macro may only use macros defined before it, even when it is itself unused.
    let l = load("- macro: a\n  condition: b\n- macro: b\n  condition: ka.verb = get\n");
    assert_eq!(
        the_error(&l),
        s("LOAD_ERR_VALIDATE", "Undefined macro 'b' used in filter.")
    );
    // Appending moves visibility forward: `a` can now see `b`.
    let text = format!(
        "- macro: a\n  condition: ka.verb = list\n- macro: b\n  condition: ka.verb = get\n- macro: a\n  condition: or b\n  override:\n    condition: append\n{}",
        rule("r", "a")
    );
    let l = load(&text);
    assert_eq!(macro_ast(&l, "a"), "(ka.verb = list or ka.verb = get)");
    // A rule sees every macro.
    let text = format!(
        "{}- macro: later\n  condition: ka.verb = get\n",
        rule("r", "later")
    );
    assert_eq!(matching(&load(&text), &ev("get", "u")), ["r"]);
    // Loops.
    let l = load(
        "- macro: a\n  condition: ka.verb = get\n- macro: a\n  condition: or a\n  append: true\n",
    );
    assert_eq!(
        the_error(&l),
        s("LOAD_ERR_VALIDATE", "reference loop in macro 'a'")
    );
}

#[test]
fn unused_list_and_macro_warnings() {
    let text = format!(
        "- list: used_list\n  items: [get]\n- list: unused_list\n  items: [x]\n- macro: used_macro\n  condition: ka.verb in (used_list)\n- macro: unused_macro\n  condition: ka.verb = x\n{}",
        rule("r", "used_macro")
    );
    let l = load(&text);
    let w = common::warnings(&l.results[0]);
    assert_eq!(
        w,
        vec![
            Problem {
                code: "LOAD_UNUSED_MACRO".into(),
                message: "Macro not referred to by any other rule/macro".into(),
                item_type: "macro".into(),
                item_name: "unused_macro".into(),
            },
            Problem {
                code: "LOAD_UNUSED_LIST".into(),
                message: "List not referred to by any other rule/macro".into(),
                item_type: "list".into(),
                item_name: "unused_list".into(),
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Rules: append, override, enabled, sources

#[test]
fn rule_append_flag_concatenates_without_parentheses() {
    let text = format!(
        "{}- rule: r\n  condition: and ka.user.name = alice\n  append: true\n  enabled: false\n  output: ignored\n",
        rule("r", "ka.verb = get or ka.verb = list")
    );
    let l = load(&text);
    assert_eq!(
        condition(&l, "r"),
        "ka.verb = get or ka.verb = list and ka.user.name = alice"
    );
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s("LOAD_DEPRECATED_ITEM", WARNING_APPEND)]
    );
    // `enabled` and `output` next to `append: true` are ignored.
    let r = rule_info(&l, "r");
    assert!(r.enabled);
    assert_eq!(r.output_text, "r out %ka.verb");
    assert_eq!(matching(&l, &ev("get", "bob")), ["r"]);
    assert!(matching(&l, &ev("list", "bob")).is_empty());
}

#[test]
fn rule_override_append_and_replace_per_key() {
    let text = format!(
        "{}- rule: r\n  condition: and ka.user.name = alice\n  output: \"user=%ka.user.name\"\n  desc: more\n  tags: [b, a]\n  override:\n    condition: append\n    output: append\n    desc: append\n    tags: append\n- rule: r\n  priority: error\n  enabled: false\n  override:\n    priority: replace\n    enabled: replace\n",
        "- rule: r\n  desc: d\n  condition: ka.verb = get or ka.verb = list\n  output: \"o\"\n  priority: WARNING\n  source: k8s_audit\n  tags: [c, a]\n"
    );
    let l = load(&text);
    assert!(warning_codes(&l.results[0]).is_empty());
    let r = rule_info(&l, "r");
    assert_eq!(
        r.condition,
        "ka.verb = get or ka.verb = list and ka.user.name = alice"
    );
    assert_eq!(r.output_text, "o user=%ka.user.name");
    assert_eq!(r.desc, "d more");
    assert_eq!(r.tags.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(r.priority.name(), "Error");
    assert!(!r.enabled);

    // Replace overwrites each listed key wholesale.
    let text = format!(
        "{}- rule: r\n  condition: ka.verb = watch\n  output: new\n  desc: new desc\n  tags: [z]\n  override:\n    condition: replace\n    output: replace\n    desc: replace\n    tags: replace\n",
        "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: \"o\"\n  priority: WARNING\n  source: k8s_audit\n  tags: [c, a]\n"
    );
    let l = load(&text);
    let r = rule_info(&l, "r");
    assert_eq!(r.condition, "ka.verb = watch");
    assert_eq!(r.output_text, "new");
    assert_eq!(r.desc, "new desc");
    assert_eq!(r.tags.iter().collect::<Vec<_>>(), ["z"]);
    assert_eq!(matching(&l, &ev("watch", "u")), ["r"]);
}

#[test]
fn rule_append_and_replace_without_previous_rule() {
    let cases = [
        (
            "- rule: r\n  condition: ka.verb = get\n  append: true\n",
            "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
        ),
        (
            "- rule: r\n  condition: ka.verb = get\n  override:\n    condition: append\n",
            "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
        ),
        (
            "- rule: r\n  condition: ka.verb = get\n  override:\n    condition: replace\n",
            "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
        ),
        (
            "- rule: r\n  enabled: false\n",
            "Rule has 'enabled' key but no rule by that name already exists",
        ),
    ];
    for (text, msg) in cases {
        assert_eq!(
            the_error(&load(text)),
            s("LOAD_ERR_VALIDATE", msg),
            "{text}"
        );
    }
}

#[test]
fn rule_override_shape_errors() {
    let base = rule("r", "ka.verb = get");
    let cases = [
        (
            "- rule: r\n  override:\n    condition: append\n",
            "An append override for 'condition' was specified but 'condition' is not defined",
        ),
        (
            "- rule: r\n  condition: x\n  output: y\n  override:\n    condition: append\n",
            "Unexpected key 'output': no corresponding entry under 'override' is defined.",
        ),
        (
            "- rule: r\n  condition: x\n  append: true\n  override:\n    condition: append\n",
            "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
        ),
        (
            "- rule: r\n  priority: INFO\n  override:\n    priority: append\n",
            "Key 'priority' cannot be appended to, use 'replace' instead",
        ),
        (
            "- rule: r\n  source: x\n  override:\n    source: replace\n",
            "Key 'source' cannot be replaced",
        ),
        (
            "- rule: r\n  condition: x\n  override:\n    condition: merge\n",
            "Invalid override operation for key 'condition': 'merge'. Allowed values are: append replace ",
        ),
        (
            "- rule: r\n  priority: INFO\n  override:\n    priority: merge\n",
            "Invalid override operation for key 'priority': 'merge'. Allowed values are: replace ",
        ),
        (
            "- rule: r\n  priority: loud\n  override:\n    priority: replace\n",
            "Invalid priority",
        ),
        (
            "- rule: r\n  tags: [x]\n",
            "Item has no mapping for key 'enabled'",
        ),
    ];
    for (text, msg) in cases {
        let l = load(&format!("{base}{text}"));
        assert_eq!(the_error(&l), s("LOAD_ERR_YAML_VALIDATE", msg), "{text}");
    }
    // Appending nothing.
    let l = load(&format!("{base}- rule: r\n  append: true\n"));
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_VALIDATE",
            "Appended rule must have exceptions or condition property"
        )
    );
}

#[test]
fn enabled_false_and_standalone_enabled() {
    let text = format!(
        "{}- rule: off\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: INFO\n  source: k8s_audit\n  enabled: false\n- rule: r\n  enabled: false\n- rule: off\n  enabled: true\n",
        rule("r", "ka.verb = get")
    );
    let l = load(&text);
    assert!(!rule_info(&l, "r").enabled);
    assert!(rule_info(&l, "off").enabled);
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![
            s("LOAD_DEPRECATED_ITEM", WARNING_ENABLED),
            s("LOAD_DEPRECATED_ITEM", WARNING_ENABLED)
        ]
    );
    // A disabled rule is still compiled: its errors still fail loading.
    let l = load(
        "- rule: broken\n  desc: d\n  condition: ka.nope = x\n  output: o\n  priority: INFO\n  source: k8s_audit\n  enabled: false\n",
    );
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_COMPILE_CONDITION",
            "filter_check called with nonexistent field ka.nope"
        )
    );
}

#[test]
fn full_redefinition_replaces_and_resets_enabled() {
    let text = format!(
        "{}{}- rule: a\n  enabled: false\n{}",
        rule("a", "ka.verb = get"),
        rule("b", "ka.verb = get"),
        rule("a", "ka.verb = list"),
    );
    let l = load(&text);
    let names: Vec<&str> = compiled(&l).rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let a = rule_info(&l, "a");
    assert!(a.enabled);
    assert_eq!(a.condition, "ka.verb = list");
}

#[test]
fn redefinition_with_a_different_source() {
    let base = rule("r", "ka.verb = get");
    for text in [
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  source: syscall\n",
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n",
        "- rule: r\n  condition: and ka.verb = x\n  source: syscall\n  append: true\n",
        "- rule: r\n  condition: ka.verb = x\n  source: syscall\n  override:\n    condition: replace\n",
    ] {
        assert_eq!(
            the_error(&load(&format!("{base}{text}"))),
            s("LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source"),
            "{text}"
        );
    }
    // An empty source in an update means "not specified".
    for text in [
        "- rule: r\n  condition: and ka.user.name = x\n  source:\n  append: true\n",
        "- rule: r\n  condition: and ka.user.name = x\n  source: \"\"\n  append: true\n",
        "- rule: r\n  condition: and ka.user.name = x\n  source: k8s_audit\n  override:\n    condition: append\n",
    ] {
        let l = load(&format!("{base}{text}"));
        assert_eq!(condition(&l, "r"), "ka.verb = get and ka.user.name = x", "{text}");
    }
}

#[test]
fn unknown_source_and_unknown_keys() {
    let text = "- rule: r\n  desc: d\n  condition: whatever.field = 1\n  output: \"%whatever\"\n  priority: INFO\n  source: aws_cloudtrail\n  colour: red\n- nothing: here\n";
    let l = load(text);
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![
            s(
                "LOAD_UNKNOWN_SOURCE",
                "Unknown source aws_cloudtrail, skipping"
            ),
            s(
                "LOAD_UNKNOWN_KEY",
                "Unknown key 'colour'. The key will be ignored."
            ),
            s("LOAD_UNKNOWN_ITEM", "Unknown top level item"),
        ]
    );
    assert!(compiled(&l).rules.is_empty());
}

#[test]
fn priorities_are_case_insensitive() {
    for (p, name) in [
        ("warning", "Warning"),
        ("WARNING", "Warning"),
        ("Info", "Informational"),
        ("informational", "Informational"),
        ("eMeRgEnCy", "Emergency"),
        ("debug", "Debug"),
    ] {
        let l = load(&format!(
            "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: {p}\n  source: k8s_audit\n"
        ));
        assert_eq!(rule_info(&l, "r").priority.name(), name);
    }
    let l = load(
        "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: loud\n  source: k8s_audit\n",
    );
    assert_eq!(
        the_error(&l),
        s("LOAD_ERR_YAML_VALIDATE", "Invalid priority")
    );
}

#[test]
fn output_is_trimmed_and_appended_output_is_not() {
    let text = "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: \"  a %ka.verb  \"\n  priority: INFO\n  source: k8s_audit\n- rule: r\n  output: \" b \"\n  override:\n    output: append\n";
    let l = load(text);
    assert_eq!(rule_info(&l, "r").output_text, "a %ka.verb  b ");
}

// ---------------------------------------------------------------------------------------
// Multiple files

#[test]
fn later_files_override_append_and_disable() {
    let f1 = format!(
        "- list: users\n  items: [alice]\n- macro: is_get\n  condition: ka.verb = get\n{}{}{}",
        rule("a", "is_get and ka.user.name in (users)"),
        rule("b", "ka.verb = list"),
        rule("c", "ka.verb = delete"),
    );
    let f2 = "- list: users\n  items: [bob]\n  override:\n    items: append\n- macro: is_get\n  condition: or ka.verb = watch\n  override:\n    condition: append\n- rule: b\n  enabled: false\n  override:\n    enabled: replace\n- rule: c\n  desc: redefined\n  condition: ka.verb = create\n  output: o\n  priority: ERROR\n  source: k8s_audit\n";
    let l = load_files(&[("f1.yaml", &f1), ("f2.yaml", f2)]);
    assert_eq!(l.results.len(), 2);
    assert!(l.results.iter().all(|r| r.successful()));
    let names: Vec<&str> = compiled(&l).rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(!rule_info(&l, "b").enabled);
    assert_eq!(rule_info(&l, "c").desc, "redefined");
    // `is_get` is now `ka.verb = get or ka.verb = watch`; within `a` that reads
    // `(ka.verb = get or ka.verb = watch) and ...` because the macro is one AST node.
    assert_eq!(matching(&l, &ev("watch", "bob")), ["a"]);
    assert_eq!(matching(&l, &ev("get", "alice")), ["a"]);
    assert!(matching(&l, &ev("watch", "carol")).is_empty());
    assert_eq!(matching(&l, &ev("list", "bob")), ["b"]);
    assert_eq!(matching(&l, &ev("create", "bob")), ["c"]);
}

#[test]
fn forward_macro_reference_across_files_fails_in_the_first_file() {
    let f1 = rule("r", "later_macro");
    let f2 = "- macro: later_macro\n  condition: ka.verb = get\n";
    let l = load_files(&[("f1.yaml", &f1), ("f2.yaml", f2)]);
    assert_eq!(
        l.results.len(),
        1,
        "loading stops at the first failing file"
    );
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_VALIDATE",
            "Undefined macro 'later_macro' used in filter."
        )
    );
    assert_eq!(errors(&l.results[0])[0].item_name, "r");
}

#[test]
fn forward_list_reference_across_files_works() {
    let f1 = rule("r", "ka.verb in (later_list)");
    let f2 = "- list: later_list\n  items: [get, list]\n";
    let l = load_files(&[("f1.yaml", &f1), ("f2.yaml", f2)]);
    assert!(l.results.iter().all(|r| r.successful()));
    assert_eq!(matching(&l, &ev("list", "u")), ["r"]);
    assert!(matching(&l, &ev("later_list", "u")).is_empty());
}

#[test]
fn warnings_are_recomputed_per_file() {
    // A macro defined in file 1 and used only in file 2 is unused in file 1's result.
    let f1 = "- macro: m\n  condition: ka.verb = get\n";
    let f2 = rule("r", "m");
    let l = load_files(&[("f1.yaml", f1), ("f2.yaml", &f2)]);
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_UNUSED_MACRO",
            "Macro not referred to by any other rule/macro"
        )]
    );
    assert!(warning_codes(&l.results[1]).is_empty());
}

// ---------------------------------------------------------------------------------------
// Exceptions

fn with_exceptions(exceptions: &str) -> String {
    format!(
        "{}  exceptions:\n{exceptions}",
        rule("r", "ka.verb = create")
    )
}

#[test]
fn exception_rewrite_single_field() {
    let l = load(&with_exceptions(
        "  - name: e\n    fields: ka.user.name\n    values: [alice, \"a b\", \"'c d'\"]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (ka.user.name in (alice, \"a b\", 'c d'))"
    );
    assert_eq!(matching(&l, &ev("create", "bob")), ["r"]);
    assert!(matching(&l, &ev("create", "a b")).is_empty());
    assert!(matching(&l, &ev("create", "c d")).is_empty());
    // Other comps; a list name as a value is expanded later.
    let l = load(&format!(
        "- list: admins\n  items: [root, admin]\n{}",
        with_exceptions(
            "  - name: e\n    fields: ka.user.name\n    comps: startswith anyof\n    values: [sys, admins]\n"
        )
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (ka.user.name startswith anyof (sys, admins))"
    );
    assert!(matching(&l, &ev("create", "administrator")).is_empty());
    assert!(matching(&l, &ev("create", "system:x")).is_empty());
    assert_eq!(matching(&l, &ev("create", "bob")), ["r"]);
}

#[test]
fn exception_rewrite_multi_field() {
    // The example of falco-rules-language.md §3.3.
    let l = load(&with_exceptions(
        "  - name: e\n    fields: [ka.user.name, ka.verb]\n    comps: [=, in]\n    values:\n      - [alice, [get, list]]\n      - [bob, watch]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (( ka.user.name = alice and  ka.verb in (get, list)) or ( ka.user.name = bob and  ka.verb in (watch)))"
    );
    // Defaults: comps `=` for each field; scalar values quoted only when they hold a space.
    let l = load(&with_exceptions(
        "  - name: e1\n    fields: [ka.user.name, ka.target.namespace]\n    values:\n      - [\"a b\", kube-system]\n  - name: e2\n    fields: [ka.verb]\n    comps: [pmatch]\n    values: [[/a], [\"(x, y)\"]]\n  - name: no_values\n    fields: [ka.verb]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (( ka.user.name = \"a b\" and  ka.target.namespace = kube-system)) and not (( ka.verb pmatch (/a)) or ( ka.verb pmatch (x, y)))"
    );
    // A transformer-shaped value becomes a field comparison.
    let l = load(&with_exceptions(
        "  - name: e\n    fields: [ka.user.name]\n    values: [[toupper(ka.user.name)]]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (( ka.user.name = toupper(ka.user.name)))"
    );
    assert!(matching(&l, &ev("create", "ALICE")).is_empty());
    assert_eq!(matching(&l, &ev("create", "alice")), ["r"]);
}

#[test]
fn exceptions_without_values_only_wrap_the_condition() {
    let l = load(&with_exceptions(
        "  - name: e1\n    fields: [ka.user.name]\n  - name: e2\n    fields: ka.user.name\n    values: []\n",
    ));
    assert_eq!(condition(&l, "r"), "(ka.verb = create)");
}

#[test]
fn exception_validation_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "  - name: e\n    fields: [ka.verb, ka.user.name]\n    comps: [=, nope]\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "'nope' is not a supported comparison operator",
        ),
        (
            "  - name: e\n    fields: [ka.verb, ka.user.name]\n    comps: [=]\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "Fields and comps lists must have equal length",
        ),
        (
            "  - name: e\n    fields: [ka.verb]\n    comps: in\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "Fields and comps lists must have equal length",
        ),
        (
            "  - name: e\n    fields: ka.verb\n    comps: [in]\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "Fields and comps must both be strings",
        ),
        (
            "  - name: e\n    fields: ka.verb\n    comps: =\n    values: [get]\n",
            "LOAD_ERR_VALIDATE",
            "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
        ),
        (
            "  - name: e\n    fields: [ka.nope]\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "'ka.nope' is not a supported filter field",
        ),
        (
            "  - name: e\n    fields: ka.nope\n    values: []\n",
            "LOAD_ERR_VALIDATE",
            "'ka.nope' is not a supported filter field",
        ),
        (
            "  - name: e\n    values: [get]\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Item has no mapping for key 'fields'",
        ),
        (
            "  - name: e\n    fields: [ka.verb, ka.user.name]\n    values: [[get]]\n",
            "LOAD_ERR_VALIDATE",
            "Fields and values lists must have equal length",
        ),
        (
            "  - name: e\n    fields: [ka.verb, ka.user.name]\n    values: [get]\n",
            "LOAD_ERR_VALIDATE",
            "Fields and values lists must have equal length",
        ),
        (
            "  - name: e\n    fields: ka.verb\n    values: [[get, list]]\n",
            "LOAD_ERR_VALIDATE",
            "Expected values array to contain a list of strings",
        ),
        (
            "  - name: e\n    fields: [ka.verb]\n    values: get\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Rule exception values must be a sequence",
        ),
        (
            "  - name: e\n    fields: [\"\"]\n    values: []\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Value must be non-empty",
        ),
    ];
    for (ex, code, msg) in cases {
        assert_eq!(the_error(&load(&with_exceptions(ex))), s(code, msg), "{ex}");
    }
    // Comps are trimmed; transformer fields are valid exception fields.
    let l = load(&with_exceptions(
        "  - name: e\n    fields: [tolower(ka.user.name)]\n    comps: [\" = \"]\n    values: [[alice]]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (( tolower(ka.user.name) = alice))"
    );
    assert!(matching(&l, &ev("create", "ALICE")).is_empty());
    // Duplicate names warn; both are kept.
    let l = load(&with_exceptions(
        "  - name: e\n    fields: ka.verb\n    values: [x]\n  - name: e\n    fields: ka.verb\n    values: [y]\n",
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (ka.verb in (x)) and not (ka.verb in (y))"
    );
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
            "Multiple definitions of exception 'e' in the same rule"
        )]
    );
}

#[test]
fn exception_append() {
    let base = with_exceptions(
        "  - name: by_user\n    fields: [ka.user.name, ka.verb]\n    values:\n      - [alice, create]\n",
    );
    // Existing name: values are appended. New name: a whole exception is added.
    for (update, warns) in [
        (
            "- rule: r\n  exceptions:\n    - name: by_user\n      values:\n        - [bob, create]\n    - name: by_ns\n      fields: ka.target.namespace\n      values: [kube-system]\n  override:\n    exceptions: append\n",
            vec![],
        ),
        (
            "- rule: r\n  exceptions:\n    - name: by_user\n      values:\n        - [bob, create]\n    - name: by_ns\n      fields: ka.target.namespace\n      values: [kube-system]\n  append: true\n",
            vec![s("LOAD_DEPRECATED_ITEM", WARNING_APPEND)],
        ),
    ] {
        let l = load(&format!("{base}{update}"));
        assert_eq!(warning_codes(&l.results[0]), warns);
        assert_eq!(
            condition(&l, "r"),
            "(ka.verb = create) and not (( ka.user.name = alice and  ka.verb = create) or ( ka.user.name = bob and  ka.verb = create)) and not (ka.target.namespace in (kube-system))"
        );
        assert!(matching(&l, &ev("create", "bob")).is_empty());
        assert_eq!(matching(&l, &ev("create", "carol")), ["r"]);
    }
    let cases = [
        (
            "- rule: r\n  exceptions:\n    - name: by_user\n      fields: [ka.verb]\n      values: [[x]]\n  override:\n    exceptions: append\n",
            "Can not append exception fields to existing exception, only values",
        ),
        (
            "- rule: r\n  exceptions:\n    - name: by_user\n      comps: [=, =]\n      values: [[x, y]]\n  override:\n    exceptions: append\n",
            "Can not append exception comps to existing exception, only values",
        ),
        (
            "- rule: r\n  exceptions:\n    - name: new_one\n      values: [x]\n  override:\n    exceptions: append\n",
            "Rule exception must have fields property with a list of fields",
        ),
        (
            "- rule: r\n  exceptions:\n    - name: new_one\n      fields: ka.verb\n      values: []\n  override:\n    exceptions: append\n",
            "Rule exception must have values property with a list of values",
        ),
    ];
    for (update, msg) in cases {
        assert_eq!(
            the_error(&load(&format!("{base}{update}"))),
            s("LOAD_ERR_VALIDATE", msg),
            "{update}"
        );
    }
    // An appended exception without values warns.
    let l = load(&format!(
        "{base}- rule: r\n  exceptions:\n    - name: by_user\n  override:\n    exceptions: append\n"
    ));
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_APPEND_NO_VALUES",
            "Overriding/appending exception with no values"
        )]
    );
}

#[test]
fn exception_replace() {
    let base = with_exceptions("  - name: a\n    fields: ka.user.name\n    values: [alice]\n");
    let l = load(&format!(
        "{base}- rule: r\n  exceptions:\n    - name: b\n      fields: [ka.user.name]\n      comps: [startswith]\n      values: [[sys]]\n  override:\n    exceptions: replace\n"
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (( ka.user.name startswith sys))"
    );
    // Replaced exceptions skip validation; missing comps get the definition defaults
    // (`in` for one field, `=` per field) instead of Falco's unparseable `(f  (v))`.
    let l = load(&format!(
        "{base}- rule: r\n  exceptions:\n    - name: b\n      fields: ka.user.name\n      values: [bob]\n    - name: c\n      fields: [ka.verb, ka.user.name]\n      values: [[get, carol]]\n  override:\n    exceptions: replace\n"
    ));
    assert_eq!(
        condition(&l, "r"),
        "(ka.verb = create) and not (ka.user.name in (bob)) and not (( ka.verb = get and  ka.user.name = carol))"
    );
    // Replaced exceptions need `fields`.
    let l = load(&format!(
        "{base}- rule: r\n  exceptions:\n    - name: a\n      values: [bob]\n  override:\n    exceptions: replace\n"
    ));
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_YAML_VALIDATE",
            "Item has no mapping for key 'fields'"
        )
    );
}

// ---------------------------------------------------------------------------------------
// skip-if-unknown-filter

#[test]
fn skip_if_unknown_filter_downgrades_unknown_fields() {
    let skip = "- rule: r\n  desc: d\n  condition: ka.nope = x\n  output: o\n  priority: INFO\n  source: k8s_audit\n  skip-if-unknown-filter: true\n";
    let l = load(&format!("{skip}{}", rule("other", "ka.verb = get")));
    assert!(l.results[0].successful());
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_UNKNOWN_FILTER",
            "filter_check called with nonexistent field ka.nope"
        )]
    );
    let names: Vec<&str> = compiled(&l).rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["other"]);
    // Unknown output fields too.
    let l = load(
        "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: \"%ka.nope\"\n  priority: INFO\n  source: k8s_audit\n  skip-if-unknown-filter: true\n",
    );
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_UNKNOWN_FILTER",
            "unknown filter: unexpected token after '"
        )]
    );
    assert!(compiled(&l).rules.is_empty());
    // Without the flag they are errors.
    let l = load(&skip.replace("  skip-if-unknown-filter: true\n", ""));
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_COMPILE_CONDITION",
            "filter_check called with nonexistent field ka.nope"
        )
    );
    // Other compile errors are not downgraded.
    let l = load(&skip.replace("ka.nope = x", "len(ka.verb) = x"));
    assert_eq!(
        the_error(&l),
        s("LOAD_ERR_COMPILE_CONDITION", "x is not a valid number")
    );
    let l = load(
        &skip
            .replace("ka.nope = x", "ka.verb = get")
            .replace("output: o", "output: \"100%\""),
    );
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_COMPILE_OUTPUT",
            "invalid formatting syntax: formatting cannot end with a %"
        )
    );
    // skip-if-unknown-filter can be replaced by an override.
    let l = load(&format!(
        "{}- rule: r\n  skip-if-unknown-filter: true\n  override:\n    skip-if-unknown-filter: replace\n- rule: r\n  condition: and ka.nope = x\n  override:\n    condition: append\n",
        rule("r", "ka.verb = get")
    ));
    assert!(l.results[0].successful());
    assert!(compiled(&l).rules.is_empty());
}

#[test]
fn output_errors() {
    let out = |o: &str| {
        load(&format!(
            "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: '{o}'\n  priority: INFO\n  source: k8s_audit\n"
        ))
    };
    for (o, msg) in [
        (
            "at the end %",
            "invalid formatting syntax: formatting cannot end with a %",
        ),
        (
            "width %20",
            "invalid formatting syntax: formatting cannot end with a number",
        ),
        ("100% sure", "unknown filter: unexpected token after '"),
        ("%(ka.verb)", "unknown filter: unexpected token after '"),
        ("%nope.field", "unknown filter: unexpected token after '"),
    ] {
        assert_eq!(the_error(&out(o)), s("LOAD_ERR_COMPILE_OUTPUT", msg), "{o}");
    }
    // Output errors are reported before condition errors.
    let l = load(
        "- rule: r\n  desc: d\n  condition: ka.nope = x\n  output: '%'\n  priority: INFO\n  source: k8s_audit\n",
    );
    assert_eq!(the_error(&l).0, "LOAD_ERR_COMPILE_OUTPUT");
}

// ---------------------------------------------------------------------------------------
// Engine and plugin versions

#[test]
fn required_engine_version() {
    for (v, want) in [
        ("15", Some("0.15.0")),
        ("0", Some("0.0.0")),
        ("\"0.26.0-rc1\"", Some("0.26.0")),
        ("0.62.0", Some("0.62.0")),
        ("62", Some("0.62.0")),
    ] {
        let l = load(&format!("- required_engine_version: {v}\n"));
        assert!(l.results[0].successful(), "{v}: {}", l.results[0].verbose());
        assert_eq!(
            l.collector
                .required_engine_version
                .map(|v| v.to_string())
                .as_deref(),
            want,
            "{v}"
        );
    }
    let cases = [
        (
            "abc",
            "LOAD_ERR_YAML_VALIDATE",
            "Unable to parse engine version 'abc' as a semver string. Expected \"x.y.z\" semver format.",
        ),
        (
            "\"1.2\"",
            "LOAD_ERR_YAML_VALIDATE",
            "Unable to parse engine version '1.2' as a semver string. Expected \"x.y.z\" semver format.",
        ),
        (
            "-1",
            "LOAD_ERR_YAML_VALIDATE",
            "Unable to parse engine version '-1' as a semver string. Expected \"x.y.z\" semver format.",
        ),
        (
            "63",
            "LOAD_ERR_VALIDATE",
            "Rules require engine version 0.63.0, but engine version is 0.62.0",
        ),
        (
            "0.62.1",
            "LOAD_ERR_VALIDATE",
            "Rules require engine version 0.62.1, but engine version is 0.62.0",
        ),
        (
            "1.0.0",
            "LOAD_ERR_VALIDATE",
            "Rules require engine version 1.0.0, but engine version is 0.62.0",
        ),
        ("", "LOAD_ERR_YAML_VALIDATE", "Mapping for key 'required_engine_version' is empty"),
    ];
    for (v, code, msg) in cases {
        assert_eq!(
            the_error(&load(&format!("- required_engine_version: {v}\n"))),
            s(code, msg),
            "{v}"
        );
    }
    // The maximum over all files is remembered.
    let l = load_files(&[
        ("a.yaml", "- required_engine_version: 20\n"),
        ("b.yaml", "- required_engine_version: 15\n"),
    ]);
    assert_eq!(
        l.collector.required_engine_version.map(|v| v.to_string()),
        Some("0.20.0".to_string())
    );
    // Other keys in the item are unknown.
    let l = load("- required_engine_version: 15\n  extra: 1\n");
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![s(
            "LOAD_UNKNOWN_KEY",
            "Unknown key 'extra'. The key will be ignored."
        )]
    );
}

#[test]
fn required_plugin_versions() {
    let l = load(
        "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.7.0\n    alternatives:\n      - name: k8saudit-eks\n        version: 0.4.0\n  - name: json\n    version: 0.7.0\n",
    );
    let groups: Vec<Vec<(String, String)>> = l
        .collector
        .required_plugin_versions
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| (r.name.clone(), r.version.clone()))
                .collect()
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            vec![s("k8saudit", "0.7.0"), s("k8saudit-eks", "0.4.0")],
            vec![s("json", "0.7.0")]
        ]
    );
    let cases = [
        (
            "- required_plugin_versions: k8saudit\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Value of required_plugin_versions must be a sequence",
        ),
        (
            "- required_plugin_versions:\n  - k8saudit\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Plugin version must be a mapping",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Item has no mapping for key 'version'",
        ),
        (
            "- required_plugin_versions:\n  - version: 0.1.0\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Item has no mapping for key 'name'",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n    version: \"1.0\"\n",
            "LOAD_ERR_VALIDATE",
            "Invalid required version '1.0' for plugin 'k8saudit'",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n    alternatives: k8saudit-eks\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Value of plugin version alternatives must be a sequence",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n    alternatives:\n      - x\n",
            "LOAD_ERR_YAML_VALIDATE",
            "Plugin version alternative must be a mapping",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n    alternatives:\n      - name: k8saudit\n        version: 0.2.0\n",
            "LOAD_ERR_VALIDATE",
            "Defined multiple alternative version requirements for plugin 'k8saudit'",
        ),
        (
            "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n    alternatives:\n      - name: k8saudit-eks\n        version: latest\n",
            "LOAD_ERR_VALIDATE",
            "Invalid required version 'latest' for plugin 'k8saudit-eks'",
        ),
    ];
    for (text, code, msg) in cases {
        assert_eq!(the_error(&load(text)), s(code, msg), "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// Documents and items

#[test]
fn document_shapes() {
    assert!(load("").results[0].successful());
    assert!(load("# only a comment\n").results[0].successful());
    assert!(
        load("---\n- list: a\n  items: []\n---\n- list: b\n  items: []\n").results[0].successful()
    );
    assert_eq!(
        the_error(&load("rule: x\n")),
        s(
            "LOAD_ERR_YAML_VALIDATE",
            "Rules content is not yaml array of objects"
        )
    );
    assert_eq!(
        the_error(&load("just a string\n")),
        s("LOAD_ERR_YAML_VALIDATE", "Rules content is not yaml")
    );
    assert_eq!(
        the_error(&load("- a scalar item\n")),
        s(
            "LOAD_ERR_YAML_VALIDATE",
            "Unexpected element type. Each element should be a yaml associative array."
        )
    );
    assert_eq!(the_error(&load("- [unclosed\n")).0, "LOAD_ERR_YAML_PARSE");
    // Processing stops at the first error: the later list is never read.
    let l = load("- list: a\n  items: [x]\n- list:\n- list: b\n  items: [y]\n");
    assert_eq!(
        the_error(&l),
        s("LOAD_ERR_YAML_VALIDATE", "Mapping for key 'list' is empty")
    );
    assert!(l.collector.lists.contains_key("a"));
    assert!(!l.collector.lists.contains_key("b"));
    // The kind is decided by the first known key: a list with a `rule` key warns.
    let l = load("- list: a\n  items: []\n  rule: b\n");
    assert_eq!(
        warning_codes(&l.results[0]),
        vec![
            s(
                "LOAD_UNKNOWN_KEY",
                "Unknown key 'rule'. The key will be ignored."
            ),
            s(
                "LOAD_UNUSED_LIST",
                "List not referred to by any other rule/macro"
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Condition warnings and append_output

#[test]
fn condition_warnings() {
    for (cond, want) in [
        ("ka.user.name != \"<NA>\"", vec![s("LOAD_UNSAFE_NA_CHECK", "")]),
        ("ka.verb in (get, <NA>)", vec![s("LOAD_UNSAFE_NA_CHECK", "")]),
        (
            "tolower(ka.verb) = <NA> or ka.uri pmatch (<NA>)",
            vec![s("LOAD_UNSAFE_NA_CHECK", "")],
        ),
        ("ka.verb contains <NA>", vec![]),
        ("ka.verb = oneof (<NA>)", vec![]),
        ("evt.source = <NA>", vec![]),
        (
            "ka.verb = ka.uri",
            vec![s(
                "LOAD_COMPILE_CONDITION",
                "'ka.uri' may be a valid field misused as a const string value",
            )],
        ),
        (
            "ka.user.groups = system:masters",
            vec![s(
                "LOAD_COMPILE_CONDITION",
                "'=' on a list field is rejected by current Falco ('=' operator not supported list filters); falco-rs matches when any element matches, as Falco <= 0.34 did. Use 'intersects' or a per-element field instead",
            )],
        ),
    ] {
        let l = load(&rule("r", cond));
        assert_eq!(warning_codes(&l.results[0]), want, "{cond}");
    }
}

#[test]
fn append_output_entries() {
    use falco_rs_rules::compile::AppendOutput;
    let text = format!(
        "{}{}",
        rule("a", "ka.verb = get").replace(
            "priority: WARNING\n",
            "priority: WARNING\n  tags: [t1, t2]\n"
        ),
        rule("b", "ka.verb = get"),
    );
    let appends = [
        AppendOutput {
            extra_output: "all=%ka.user.name".into(),
            ..Default::default()
        },
        AppendOutput {
            tags: ["t1".to_string()].into_iter().collect(),
            extra_output: "tagged".into(),
            ..Default::default()
        },
        AppendOutput {
            rule: "b".into(),
            source: "k8s_audit".into(),
            extra_output: "only-b".into(),
            ..Default::default()
        },
        AppendOutput {
            source: "syscall".into(),
            extra_output: "never".into(),
            ..Default::default()
        },
    ];
    let l = common::load_files_with(&[("r.yaml", &text)], &appends, false);
    assert_eq!(
        rule_info(&l, "a").output_text,
        "a out %ka.verb all=%ka.user.name tagged"
    );
    assert_eq!(
        rule_info(&l, "b").output_text,
        "b out %ka.verb all=%ka.user.name only-b"
    );
    // Appended text is validated like the output itself.
    let bad = [AppendOutput {
        extra_output: "%".into(),
        ..Default::default()
    }];
    let l = common::load_files_with(&[("r.yaml", &text)], &bad, false);
    assert_eq!(
        the_error(&l),
        s(
            "LOAD_ERR_COMPILE_OUTPUT",
            "invalid formatting syntax: formatting cannot end with a %"
        )
    );
}

#[test]
fn lists_substituted_into_a_condition_cascade_to_later_lists_only() {
    // `a` names the later list `late` (left as a word: not visible when `a` is read);
    // substituting `a` brings `late` into the condition, and `late`, which comes after
    // `a` in list order, is then substituted too, as in Falco's resolve loop.
    let l = load(&format!(
        "- list: early\n  items: [e1]\n- list: a\n  items: [late, early]\n- list: late\n  items: [l1, l2]\n{}",
        rule("R", "ka.verb in (a)")
    ));
    for verb in ["l1", "l2", "e1"] {
        assert_eq!(
            matching(&l, &ev(verb, "bob")),
            vec!["R".to_string()],
            "{verb}"
        );
    }
    for verb in ["late", "early", "a"] {
        assert!(matching(&l, &ev(verb, "bob")).is_empty(), "{verb}");
    }
}
