//! Command-line behaviour of the built binary (`falco-rules-language.md` §1.14, §1.15,
//! §4.6, §5.1–§5.3): `-o` overrides, rule matching, the priority filter, `rules:`
//! selection, `-M`, gzip input, `EventList` and array lines, malformed lines, directory
//! replay, load failures, `--version`, `--dry-run`.
#![allow(clippy::unwrap_used)]

mod cli_support;

use cli_support::{assert_text, event, replay, rule, run, Scratch};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write as _;

/// Three rules that all match `get`: `First` (Notice, tag keep), `Second` (Error),
/// `Third` (Warning, tag keep, disabled).
fn three_rules(dir: &Scratch) -> std::path::PathBuf {
    dir.write(
        "rules.yaml",
        [
            rule(
                "K8s First",
                "ka.verb = get",
                "first %ka.user.name",
                "NOTICE",
                "[keep]",
            ),
            rule(
                "K8s Second",
                "ka.verb = get",
                "second %ka.user.name",
                "ERROR",
                "[]",
            ),
            rule(
                "Other Third",
                "ka.verb = get",
                "third %ka.user.name",
                "WARNING",
                "[keep]",
            ),
            "- rule: Other Third\n  enabled: false\n  override:\n    enabled: replace\n".into(),
        ]
        .concat(),
    )
}

#[test]
fn rule_matching_first_and_all() {
    let dir = Scratch::new("matching");
    let rules = three_rules(&dir);
    let events = dir.write("e.json", event("get", "alice", 1));
    let r = replay(&rules, &events, &[]);
    assert_eq!(r.alerts(), ["16:07:01.045023000: Notice first alice"]);
    let r = replay(&rules, &events, &["-o", "rule_matching=all"]);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Notice first alice",
            "16:07:01.045023000: Error second alice"
        ]
    );
    // Case-insensitive; anything else is fatal.
    let r = replay(&rules, &events, &["-o", "rule_matching=ALL"]);
    assert_eq!(r.alerts().len(), 2);
    let r = replay(&rules, &events, &["-o", "rule_matching=some"]);
    assert_eq!(r.code, 1);
    assert_text(
        &r.stderr,
        "Error: Unknown rule matching strategy \"some\"--must be one of first, all\n",
    );
}

#[test]
fn priority_filter() {
    let dir = Scratch::new("priority");
    let rules = three_rules(&dir);
    let events = dir.write("e.json", event("get", "alice", 1));
    // Notice is below warning: the rule is not loaded, so Second matches first.
    let r = replay(&rules, &events, &["-o", "priority=warning"]);
    assert_eq!(r.alerts(), ["16:07:01.045023000: Error second alice"]);
    let r = replay(&rules, &events, &["-o", "priority=critical"]);
    assert!(r.alerts().is_empty());
    assert_eq!(r.code, 0);
    let r = replay(&rules, &events, &["-o", "priority=loud"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
}

#[test]
fn rules_selection_from_config() {
    let dir = Scratch::new("selection");
    let rules = three_rules(&dir);
    let events = dir.write(
        "e.json",
        format!("{}\n{}\n", event("get", "alice", 1), event("get", "bob", 2)),
    );
    // Disabling K8s* leaves nothing enabled; enabling tag `keep` appends First and
    // Third *after* every rule enabled at load time, in definition order.
    let config = dir.write(
        "falco.yaml",
        format!(
            "plugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n    open_params: {}\n  - name: json\n    library_path: libjson.so\nload_plugins: [k8saudit, json]\nstdout_output:\n  enabled: true\nrule_matching: all\nrules:\n  - disable:\n      rule: 'K8s*'\n  - enable:\n      tag: keep\n",
            events.display()
        ),
    );
    let r = run([
        "-c",
        &config.display().to_string(),
        "-r",
        &rules.display().to_string(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Notice first alice",
            "16:07:01.045023000: Warning third alice",
            "16:07:02.045023000: Notice first bob",
            "16:07:02.045023000: Warning third bob",
        ]
    );
    // Re-enabling a rule that was enabled at load time moves it to the end: with
    // `first` matching, Second now wins over First.
    let config2 = dir.write(
        "falco2.yaml",
        std::fs::read_to_string(&config).unwrap().replace(
            "rule_matching: all\nrules:\n  - disable:\n      rule: 'K8s*'\n  - enable:\n      tag: keep\n",
            "rules:\n  - disable:\n      rule: K8s First\n  - enable:\n      rule: K8s First\n",
        ),
    );
    let r = run([
        "-c",
        &config2.display().to_string(),
        "-r",
        &rules.display().to_string(),
    ]);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Error second alice",
            "16:07:02.045023000: Error second bob"
        ]
    );
    // Selections cannot enable rules removed by the priority filter.
    let r = run([
        "-c",
        &config.display().to_string(),
        "-r",
        &rules.display().to_string(),
        "-o",
        "priority=warning",
    ]);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Warning third alice",
            "16:07:02.045023000: Warning third bob"
        ]
    );
}

#[test]
fn option_overrides() {
    let dir = Scratch::new("options");
    let rules = three_rules(&dir);
    let events = dir.write("e.json", event("get", "alice", 1));
    // `-o` accepts indexed keys (`plugins[0].open_params`) and is applied in order.
    let r = run([
        "-r",
        &rules.display().to_string(),
        "-o",
        "plugins[0].open_params=/does/not/exist",
        "-o",
        &format!("plugins[0].open_params={}", events.display()),
        "-o",
        "json_output=true",
        "-o",
        "json_output=false",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.alerts(), ["16:07:01.045023000: Notice first alice"]);
    let r = run(["-o", "no_equals_sign"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
}

#[test]
fn max_seconds_uses_event_time() {
    let dir = Scratch::new("maxsec");
    let rules = three_rules(&dir);
    let events = dir.write(
        "e.json",
        [
            event("get", "a", 10),
            event("get", "b", 11),
            event("get", "c", 12),
            event("get", "d", 15),
        ]
        .join("\n"),
    );
    // Stops at the first event at or after first + 2s: a and b only.
    let r = replay(&rules, &events, &["-M", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.alerts(),
        [
            "16:07:10.045023000: Notice first a",
            "16:07:11.045023000: Notice first b"
        ]
    );
    assert!(r.summary().starts_with("Events detected: 2\n"));
    let r = replay(&rules, &events, &["-M", "100"]);
    assert_eq!(r.alerts().len(), 4);
}

#[test]
fn gzip_input() {
    let dir = Scratch::new("gzip");
    let rules = three_rules(&dir);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(format!("{}\n{}\n", event("get", "a", 1), event("get", "b", 2)).as_bytes())
        .unwrap();
    let events = dir.write("events.json.gz", gz.finish().unwrap());
    let r = replay(&rules, &events, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Notice first a",
            "16:07:02.045023000: Notice first b"
        ]
    );
}

#[test]
fn event_lists_arrays_and_malformed_lines() {
    let dir = Scratch::new("lines");
    let rules = three_rules(&dir);
    let lines = [
        event("get", "one", 1),
        "{not json".to_string(),
        format!("[{},{}]", event("get", "two", 2), event("get", "three", 3)),
        format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}}"#,
            event("get", "four", 4),
            event("list", "five", 5)
        ),
        String::new(),
        event("get", "six", 6),
    ];
    let events = dir.write("mixed.json", lines.join("\n"));
    let r = replay(&rules, &events, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.alerts(),
        [
            "16:07:01.045023000: Notice first one",
            "16:07:02.045023000: Notice first two",
            "16:07:03.045023000: Notice first three",
            "16:07:04.045023000: Notice first four",
            "16:07:06.045023000: Notice first six",
        ]
    );
    // The bad line is reported as file:line (after the log timestamp) and replay goes on.
    let first = r.stderr.lines().next().unwrap_or("");
    assert!(
        first.contains(&format!(": {}:2: ", events.display())),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().filter(|l| l.contains(":2: ")).count(), 1);
}

#[test]
fn directory_replay_in_modification_time_order() {
    let dir = Scratch::new("dir");
    let rules = three_rules(&dir);
    let a = dir.write("logs/a.json", event("get", "from-a", 1));
    let b = dir.write("logs/b.json", event("get", "from-b", 2));
    let c = dir.write("logs/c.log", event("get", "from-c", 3));
    let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    for (p, secs) in [(&a, 30), (&b, 10), (&c, 20)] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(t + std::time::Duration::from_secs(secs))
            .unwrap();
    }
    let r = replay(&rules, &dir.path("logs"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.alerts(),
        [
            "16:07:02.045023000: Notice first from-b",
            "16:07:03.045023000: Notice first from-c",
            "16:07:01.045023000: Notice first from-a",
        ]
    );
}

#[test]
fn broken_rules_file_exits_1() {
    let dir = Scratch::new("broken");
    let good = three_rules(&dir);
    let bad = dir.write("bad.yaml", "- rule: x\n  desc: d\n");
    let events = dir.write("e.json", event("get", "alice", 1));
    let r = run([
        "-r",
        &good.display().to_string(),
        "-r",
        &bad.display().to_string(),
        "-o",
        &format!("plugins[0].open_params={}", events.display()),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let b = bad.display();
    assert_text(
        &r.stderr,
        &format!(
            "Error: {b}: Invalid\n1 Errors:\nIn rules content: ({b}:0:0)\n    rule 'x': ({b}:0:2)\n------\n- rule: x\n  ^\n------\nLOAD_ERR_YAML_VALIDATE (Error validating internal structure of YAML file): Item has no mapping for key 'condition'\n"
        ),
    );
    // A condition error in a later file also fails, and names the file.
    let bad2 = dir.write("bad2.yaml", rule("y", "ka.nope = 1", "o", "INFO", "[]"));
    let r = run([
        "-r",
        &bad2.display().to_string(),
        "-o",
        &format!("plugins[0].open_params={}", events.display()),
    ]);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .starts_with(&format!("Error: {}: Invalid\n", bad2.display())));
    assert!(r.stderr.ends_with(
        "LOAD_ERR_COMPILE_CONDITION (Error compiling condition): filter_check called with nonexistent field ka.nope\n"
    ), "{}", r.stderr);
    // A missing -r file.
    let r = run(["-r", "/does/not/exist.yaml"]);
    assert_eq!(r.code, 1);
    assert_text(
        &r.stderr,
        "Error: Could not open file /does/not/exist.yaml for reading\n",
    );
}

#[test]
fn version() {
    let r = run(["--version"]);
    assert_eq!(r.code, 0);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("falco-rs version: {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert_eq!(lines.next(), Some("Engine: 0.62.0"));
    assert!(
        r.stdout.contains("Plugin k8saudit: 0.18.0\n"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn dry_run() {
    let dir = Scratch::new("dryrun");
    let rules = three_rules(&dir);
    // Loads and validates everything, opens no source, prints no summary.
    let r = run([
        "-r",
        &rules.display().to_string(),
        "--dry-run",
        "-o",
        "plugins[0].open_params=/does/not/exist",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "");
    let bad = dir.write("bad.yaml", "- list: x\n");
    let r = run(["-r", &bad.display().to_string(), "--dry-run"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

#[test]
fn unknown_option_fails() {
    let r = run(["--no-such-flag"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
    let r = run(["-D", "x"]);
    assert_eq!(r.code, 1);
}
