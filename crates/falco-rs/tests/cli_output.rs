//! Golden alerts (`falco-rules-language.md` §4.2–§4.3, §4.7): the text line and the JSON
//! object for a fixed rule and event, the `json_include_*` flags, ISO 8601 time, and the
//! end-of-run summary, from the built binary (`TZ=UTC`, `FALCO_HOSTNAME=testhost`).
#![allow(clippy::unwrap_used)]

mod cli_support;

use cli_support::{assert_text, event, replay, rule, Scratch};

const OUTPUT: &str = "verb=%ka.verb user=%ka.user.name groups=%ka.user.groups imp=%ka.impuser.name lower=%tolower(ka.user.name) ns=%toupper(ka.target.namespace) %ka.verbose w=[%10ka.verb] t=[%2ka.user.name] z=[%0ka.verb] img=%ka.req.pod.containers.image[1] p=%ka.uri.param[x] n=%len(ka.user.groups)";

const MESSAGE: &str = "verb=get user=Alice groups=(g1,g2) imp=<NA> lower=alice ns=DEFAULT getose w=[get       ] t=[Al] z=[get] img=(busybox:1.36) p=1 n=2";

const OUTPUT_FIELDS: &str = r#""ka.impuser.name":null,"ka.req.pod.containers.image[1]":["busybox:1.36"],"ka.target.namespace":"default","ka.uri.param[x]":"1","ka.user.groups":["g1","g2"],"ka.user.name":"Alice","ka.verb":"get""#;

const SUMMARY: &str = "Events detected: 1\nRule counts by severity:\n   WARNING: 1\nTriggered rules by rule name:\n   K8s Golden: 1\n";

fn setup() -> (Scratch, std::path::PathBuf, std::path::PathBuf) {
    let dir = Scratch::new("golden");
    let rules = dir.write(
        "rules.yaml",
        rule("K8s Golden", "ka.verb = get", OUTPUT, "WARNING", "[k8s, b]"),
    );
    let events = dir.write("events.json", format!("{}\n", event("get", "Alice", 42)));
    (dir, rules, events)
}

#[test]
fn text_alert() {
    let (_dir, rules, events) = setup();
    let r = replay(&rules, &events, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_text(
        &r.stdout,
        &format!("16:07:42.045023000: Warning {MESSAGE}\n{SUMMARY}"),
    );
    assert_text(&r.stderr, "");
}

#[test]
fn text_alert_iso8601() {
    let (_dir, rules, events) = setup();
    let r = replay(&rules, &events, &["-o", "time_format_iso_8601=true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_text(
        &r.stdout,
        &format!("2024-05-01T16:07:42.045023000+0000: Warning {MESSAGE}\n{SUMMARY}"),
    );
}

#[test]
fn json_alert() {
    let (_dir, rules, events) = setup();
    let r = replay(&rules, &events, &["-o", "json_output=true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = format!(
        r#"{{"hostname":"testhost","output":"16:07:42.045023000: Warning {MESSAGE}","output_fields":{{"evt.time":1714579662045023000,{OUTPUT_FIELDS}}},"priority":"Warning","rule":"K8s Golden","source":"k8s_audit","tags":["b","k8s"],"time":"2024-05-01T16:07:42.045023000Z"}}"#
    );
    assert_text(&r.stdout, &format!("{want}\n{SUMMARY}"));
}

#[test]
fn json_alert_iso8601() {
    let (_dir, rules, events) = setup();
    let r = replay(
        &rules,
        &events,
        &["-o", "json_output=true", "-o", "time_format_iso_8601=true"],
    );
    let want = format!(
        r#"{{"hostname":"testhost","output":"2024-05-01T16:07:42.045023000+0000: Warning {MESSAGE}","output_fields":{{"evt.time.iso8601":1714579662045023000,{OUTPUT_FIELDS}}},"priority":"Warning","rule":"K8s Golden","source":"k8s_audit","tags":["b","k8s"],"time":"2024-05-01T16:07:42.045023000Z"}}"#
    );
    assert_text(r.alerts()[0], &want);
}

#[test]
fn json_include_flags() {
    let (_dir, rules, events) = setup();
    let cases: [(&[&str], String); 4] = [
        (
            &["-o", "json_include_output_property=false"],
            format!(
                r#"{{"hostname":"testhost","output_fields":{{"evt.time":1714579662045023000,{OUTPUT_FIELDS}}},"priority":"Warning","rule":"K8s Golden","source":"k8s_audit","tags":["b","k8s"],"time":"2024-05-01T16:07:42.045023000Z"}}"#
            ),
        ),
        (
            &[
                "-o",
                "json_include_output_fields_property=false",
                "-o",
                "json_include_tags_property=false",
            ],
            format!(
                r#"{{"hostname":"testhost","output":"16:07:42.045023000: Warning {MESSAGE}","priority":"Warning","rule":"K8s Golden","source":"k8s_audit","time":"2024-05-01T16:07:42.045023000Z"}}"#
            ),
        ),
        (
            &[
                "-o",
                "json_include_message_property=true",
                "-o",
                "json_include_output_fields_property=false",
            ],
            format!(
                r#"{{"hostname":"testhost","message":"{MESSAGE}","output":"16:07:42.045023000: Warning {MESSAGE}","priority":"Warning","rule":"K8s Golden","source":"k8s_audit","tags":["b","k8s"],"time":"2024-05-01T16:07:42.045023000Z"}}"#
            ),
        ),
        (
            &[
                "-o",
                "json_include_output_property=false",
                "-o",
                "json_include_output_fields_property=false",
                "-o",
                "json_include_tags_property=false",
            ],
            r#"{"hostname":"testhost","priority":"Warning","rule":"K8s Golden","source":"k8s_audit","time":"2024-05-01T16:07:42.045023000Z"}"#.to_string(),
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["-o", "json_output=true"];
        args.extend_from_slice(flags);
        let r = replay(&rules, &events, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.alerts(), [want.as_str()], "{flags:?}");
    }
}

#[test]
fn empty_tags_and_informational_priority() {
    let dir = Scratch::new("info");
    let rules = dir.write(
        "rules.yaml",
        rule(
            "Info Rule",
            "ka.verb = get",
            "u=%ka.user.name",
            "info",
            "[]",
        ),
    );
    let events = dir.write("events.json", event("get", "bob", 5));
    let r = replay(&rules, &events, &["-o", "json_output=true"]);
    assert_text(
        &r.stdout,
        r#"{"hostname":"testhost","output":"16:07:05.045023000: Informational u=bob","output_fields":{"evt.time":1714579625045023000,"ka.user.name":"bob"},"priority":"Informational","rule":"Info Rule","source":"k8s_audit","tags":[],"time":"2024-05-01T16:07:05.045023000Z"}
Events detected: 1
Rule counts by severity:
   INFO: 1
Triggered rules by rule name:
   Info Rule: 1
"#,
    );
}

#[test]
fn summary_lists_severities_and_rules_in_order() {
    let dir = Scratch::new("summary");
    let rules = dir.write(
        "rules.yaml",
        [
            rule("A notice", "ka.verb = list", "a", "NOTICE", "[]"),
            rule("B critical", "ka.verb = get", "b", "CRITICAL", "[]"),
            rule("C notice", "ka.verb = get", "c", "NOTICE", "[]"),
        ]
        .concat(),
    );
    let events = dir.write(
        "events.json",
        [
            event("get", "u", 1),
            event("list", "u", 2),
            event("get", "u", 3),
            event("delete", "u", 4),
        ]
        .join("\n"),
    );
    let r = replay(&rules, &events, &["-o", "rule_matching=all"]);
    assert_text(
        r.summary(),
        "Events detected: 5\nRule counts by severity:\n   CRITICAL: 2\n   NOTICE: 3\nTriggered rules by rule name:\n   A notice: 1\n   B critical: 2\n   C notice: 2\n",
    );
    // No match at all still prints the (empty) summary.
    let empty = dir.write("none.json", event("delete", "u", 1));
    let r = replay(&rules, &empty, &[]);
    assert_text(
        &r.stdout,
        "Events detected: 0\nRule counts by severity:\nTriggered rules by rule name:\n",
    );
}

/// Falco's JSON `output_fields` carry typed values for non-string fields: the event-time
/// fields are integer nanoseconds, `evt.num`/`evt.rawtime` numbers, `evt.is_async` a
/// boolean (libsinsp `rawval_to_json`, `sinsp_filter_check_gen_event::extract_as_js`).
/// falco-rs renders them the same way.
#[test]
fn json_output_fields_of_generic_fields_are_typed() {
    let dir = Scratch::new("typed");
    let rules = dir.write(
        "rules.yaml",
        rule(
            "Typed",
            "ka.verb = get",
            "%evt.num %evt.time.iso8601 %evt.datetime %evt.rawtime %evt.is_async %evt.source",
            "WARNING",
            "[]",
        ),
    );
    let events = dir.write("events.json", event("get", "u", 42));
    let r = replay(&rules, &events, &["-o", "json_output=true"]);
    let v = &r.json_alerts()[0]["output_fields"];
    assert_eq!(
        v.to_string(),
        r#"{"evt.datetime":1714579662045023000,"evt.is_async":false,"evt.num":1,"evt.rawtime":1714579662045023000,"evt.source":"k8s_audit","evt.time":1714579662045023000,"evt.time.iso8601":1714579662045023000}"#
    );
}

/// The time that starts a text alert is `%evt.time` (Falco's prefix is `*%evt.time`), so
/// both are libsinsp's `ts_to_string`: local time at the host's UTC offset *now*
/// (`gmt2local(0)`), for events on either side of a daylight-saving change. In a zone
/// with DST one of a May and a January event is in the other period than today, so a
/// prefix at the offset of the event's own time would differ from the field for it.
#[test]
fn text_alert_time_is_evt_time_at_the_offset_now() {
    let dir = Scratch::new("dst");
    let rules = dir.write(
        "rules.yaml",
        rule(
            "K8s Time",
            "ka.verb = get",
            "t=%evt.time",
            "WARNING",
            "[k8s]",
        ),
    );
    let may = event("get", "Alice", 42);
    let january = may.replace("2024-05-01T", "2024-01-15T");
    let events = dir.write("events.json", format!("{may}\n{january}\n"));
    let r = cli_support::replay_in_zone(&rules, &events, &[], "EST5EDT,M3.2.0,M11.1.0");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stdout = r.stdout;
    let alerts: Vec<&str> = stdout.lines().take(2).collect();
    // 16:07:42 UTC is 11:07:42 in EST and 12:07:42 in EDT: both events show today's.
    let hour = alerts[0].get(..2).unwrap();
    assert!(hour == "11" || hour == "12", "{stdout}");
    for line in &alerts {
        let want = format!("{hour}:07:42.045023000: Warning t={hour}:07:42.045023000");
        assert_text(line, &want);
    }
}
