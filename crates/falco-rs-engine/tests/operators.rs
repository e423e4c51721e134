//! Operator × field-shape matrix on real k8s audit events (`falco-rules-language.md`
//! §2.4–§2.6, libsinsp 0.25.4 `filter_compare.cpp` / `sinsp_filtercheck.cpp`).
//!
//! Every condition is evaluated by both the VM and the reference evaluator (they must
//! agree) and the result is pinned. Compile errors are pinned by their exact message.
#![allow(clippy::unwrap_used)]

mod common;

use common::{check_table, compile_error, eval, event, warnings};

/// A pod exec request with every field shape the matrix needs:
/// * scalars: `ka.verb` = `create`, `ka.user.name` = `Alice.Smith`, `ka.response.code` =
///   `403`, `ka.target.name` = `aGVsbG8=` (base64 of `hello`);
/// * a list: `ka.user.groups` = `[system:masters, dev/team]`;
/// * an indexed list: `ka.req.pod.containers.image` = `[nginx:1.25, docker.io/library/busybox:latest]`;
/// * a key argument: `ka.uri.param[command]` = `sh`;
/// * absent: `ka.impuser.name`.
const POD_EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"0f5b3c1e-1111-2222-3333-444455556666","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/nginx/exec?command=sh&container=app","verb":"create","user":{"username":"Alice.Smith","groups":["system:masters","dev/team"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.29.0 (linux/amd64)","objectRef":{"resource":"pods","subresource":"exec","namespace":"default","name":"aGVsbG8=","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"app","image":"nginx:1.25"},{"name":"side","image":"docker.io/library/busybox:latest"}],"volumes":[{"name":"sock","hostPath":{"path":"/var/run/docker.sock"}}]}},"stageTimestamp":"2024-05-01T16:07:42.045023Z"}"#;

/// A health check by a user with an empty group list and no request object.
const HEALTHZ: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"e2","stage":"ResponseComplete","requestURI":"/healthz","verb":"get","user":{"username":"bob","groups":[]},"objectRef":{"resource":"pods","namespace":"default","name":"aGVsbG8"},"stageTimestamp":"2024-05-01T16:07:43Z"}"#;

#[test]
fn scalar_present_every_operator() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.verb = create", true),
            ("ka.verb == create", true),
            ("ka.verb = get", false),
            ("ka.verb = Create", false),
            ("ka.verb != get", true),
            ("ka.verb != create", false),
            // Numeric operators take number tokens, compared as strings: "create" > "999".
            ("ka.verb > 999", true),
            ("ka.verb >= 999", true),
            ("ka.verb < 999", false),
            ("ka.verb <= 999", false),
            ("ka.verb contains reat", true),
            ("ka.verb contains REAT", false),
            ("ka.verb contains \"\"", true),
            ("ka.verb icontains REAT", true),
            ("ka.verb icontains xyz", false),
            ("ka.verb startswith cr", true),
            ("ka.verb startswith \"\"", true),
            ("ka.verb startswith reate", false),
            ("ka.verb endswith ate", true),
            ("ka.verb endswith \"\"", true),
            ("ka.verb endswith cre", false),
            ("ka.verb glob c*e", true),
            ("ka.verb glob cr?ate", true),
            ("ka.verb glob [a-c]reate", true),
            ("ka.verb glob [!c]reate", false),
            ("ka.verb glob C*", false),
            ("ka.verb iglob C*E", true),
            ("ka.verb regex cre.*", true),
            ("ka.verb regex reat", false),
            ("ka.verb regex create|get", true),
            ("ka.verb regex [[:alpha:]]+", true),
            ("ka.verb regex c[a-z]{5}", true),
            ("ka.verb regex c[a-z]{6}", false),
            ("ka.verb in (get, create)", true),
            ("ka.verb in (get)", false),
            ("ka.verb in ()", false),
            ("ka.verb in create", true),
            ("ka.verb intersects (create, x)", true),
            ("ka.verb intersects (x)", false),
            ("ka.verb pmatch (create)", true),
            ("ka.verb pmatch (cr)", false),
            ("ka.verb exists", true),
        ],
    );
}

#[test]
fn string_ordering_is_bytewise_even_for_numbers() {
    let ev = event(POD_EXEC);
    // ka.response.code is the string "403": "403" > "1000" and "403" < "99".
    check_table(
        &ev,
        &[
            ("ka.response.code = 403", true),
            ("ka.response.code >= 400", true),
            ("ka.response.code > 1000", true),
            ("ka.response.code < 99", true),
            ("ka.response.code > 99", false),
            ("ka.response.code < 4030", true),
            ("ka.response.code <= 403", true),
        ],
    );
    // The same on a literal pair: "99" > "400".
    let ev = event(&POD_EXEC.replace("\"code\":403", "\"code\":99"));
    check_table(
        &ev,
        &[
            ("ka.response.code > 400", true),
            ("ka.response.code < 100", false),
        ],
    );
}

#[test]
fn modifiers() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.verb = oneof (create, get)", true),
            ("ka.verb = oneof (create, create)", false),
            ("ka.verb = oneof (get, list)", false),
            ("ka.verb = anyof (x, create)", true),
            ("ka.verb = anyof (x, y)", false),
            ("ka.verb = allof (create, create)", true),
            ("ka.verb = allof (create, get)", false),
            ("ka.verb != allof (get, list)", true),
            ("ka.verb != allof (get, create)", false),
            ("ka.verb != anyof (create, get)", true),
            ("ka.verb != oneof (create, get)", true),
            ("ka.verb != oneof (x, y)", false),
            ("ka.verb startswith anyof (x, cr)", true),
            ("ka.verb startswith oneof (c, cr)", false),
            ("ka.verb startswith oneof (c, x)", true),
            ("ka.verb startswith allof (c, cr)", true),
            ("ka.verb endswith anyof (te, x)", true),
            ("ka.verb contains allof (re, at)", true),
            ("ka.verb icontains anyof (RE, x)", true),
            ("ka.verb glob anyof (x*, c*)", true),
            ("ka.verb iglob allof (C*, *E)", true),
            ("ka.verb regex oneof (c.*, .*e)", false),
            ("ka.verb regex oneof (c.*, x)", true),
            ("ka.verb regex allof (c.*, .*e)", true),
            // An empty list is false for all three modifiers.
            ("ka.verb = oneof ()", false),
            ("ka.verb = anyof ()", false),
            ("ka.verb != allof ()", false),
            // A bare identifier is a one-element list.
            ("ka.verb startswith oneof cr", true),
            ("ka.verb startswith anyof xyz", false),
            // Without a following list, `oneof` is a plain string.
            ("ka.verb = oneof", false),
            ("ka.verb != oneof", true),
            ("ka.verb = oneof and ka.verb exists", false),
            // Modifiers on numbers (len) compare numerically.
            ("len(ka.verb) = anyof (5, 6)", true),
            ("len(ka.verb) != allof (06, 7)", false),
        ],
    );
}

#[test]
fn scalar_missing_every_operator_is_false() {
    let ev = event(POD_EXEC);
    let conds = [
        "ka.impuser.name = x",
        "ka.impuser.name != x",
        "ka.impuser.name < 1",
        "ka.impuser.name <= 1",
        "ka.impuser.name > 1",
        "ka.impuser.name >= 1",
        "ka.impuser.name contains \"\"",
        "ka.impuser.name icontains x",
        "ka.impuser.name startswith \"\"",
        "ka.impuser.name endswith \"\"",
        "ka.impuser.name glob *",
        "ka.impuser.name iglob *",
        "ka.impuser.name regex .*",
        "ka.impuser.name in (x)",
        "ka.impuser.name intersects (x)",
        "ka.impuser.name pmatch (/)",
        "ka.impuser.name exists",
        "ka.impuser.name = anyof (x, y)",
        "ka.impuser.name != allof (x, y)",
        "ka.impuser.name != val(ka.verb)",
        "ka.verb != val(ka.impuser.name)",
        "tolower(ka.impuser.name) != x",
        "len(ka.impuser.name) >= 0",
        "ka.uri.param[nope] != sh",
        "ka.uri.param[nope] exists",
    ];
    let table: Vec<(&str, bool)> = conds.iter().map(|c| (*c, false)).collect();
    check_table(&ev, &table);
    // Only `not` turns an absent value into true.
    let negated: Vec<String> = conds.iter().map(|c| format!("not ({c})")).collect();
    let table: Vec<(&str, bool)> = negated.iter().map(|c| (c.as_str(), true)).collect();
    check_table(&ev, &table);
    check_table(
        &ev,
        &[
            ("not ka.impuser.name = x", true),
            ("not ka.impuser.name exists", true),
            ("not ka.impuser.name != x and ka.verb = create", true),
            ("ka.impuser.name = x or ka.verb = create", true),
        ],
    );
}

#[test]
fn list_field() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            // `in` on a list is a subset test, `intersects` a non-empty intersection.
            ("ka.user.groups in (system:masters, dev/team, other)", true),
            ("ka.user.groups in (dev/team, system:masters)", true),
            ("ka.user.groups in (system:masters)", false),
            ("ka.user.groups in ()", false),
            ("ka.user.groups intersects (system:masters)", true),
            ("ka.user.groups intersects (dev, team)", false),
            ("ka.user.groups intersects ()", false),
            ("ka.user.groups exists", true),
            ("not ka.user.groups in (system:masters)", true),
            // Transformers keep the list shape.
            ("toupper(ka.user.groups) intersects (DEV/TEAM)", true),
            ("tolower(ka.user.groups) intersects (DEV/TEAM)", false),
            ("basename(ka.user.groups) in (system:masters, team)", true),
            // Field-to-field with lists.
            ("ka.user.groups in val(ka.user.groups)", true),
            ("ka.user.groups intersects val(ka.user.groups)", true),
            ("ka.user.groups in toupper(ka.user.groups)", false),
        ],
    );
}

#[test]
fn legacy_scalar_operators_on_lists() {
    // Falco 0.44 rejects these ("'=' operator not supported list filters"); falco-rs
    // accepts them with a warning and matches when any element matches (Falco <= 0.34).
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.user.groups = dev/team", true),
            ("ka.user.groups = team", false),
            ("ka.user.groups != dev/team", true),
            ("ka.user.groups contains team", true),
            ("ka.user.groups startswith system:", true),
            ("ka.user.groups glob *:masters", true),
            ("ka.user.groups pmatch (dev)", true),
            ("ka.user.groups pmatch (team)", false),
            ("ka.req.pod.containers.image startswith docker.io/", true),
            (
                "ka.req.pod.containers.image[0] startswith docker.io/",
                false,
            ),
        ],
    );
    let w = warnings("ka.user.groups = dev/team");
    assert_eq!(
        w,
        vec!["'=' on a list field is rejected by current Falco ('=' operator not supported list filters); falco-rs matches when any element matches, as Falco <= 0.34 did. Use 'intersects' or a per-element field instead".to_string()]
    );
    assert!(warnings("ka.user.groups intersects (a)").is_empty());
    assert!(warnings("ka.user.groups exists").is_empty());
}

#[test]
fn empty_and_absent_lists_are_absent() {
    let ev = event(HEALTHZ);
    let conds = [
        "ka.user.groups in (x)",
        "ka.user.groups in ()",
        "ka.user.groups intersects (x)",
        "ka.user.groups exists",
        "ka.user.groups = x",
        "ka.req.pod.containers.image in (x)",
        "ka.req.pod.containers.image exists",
        "ka.req.pod.containers.image[0] exists",
        // Quirk: extraction fails before len() runs, so an empty list has no length.
        "len(ka.user.groups) = 0",
        "len(ka.user.groups) < 1",
        "len(ka.req.pod.containers.image) = 0",
    ];
    let table: Vec<(&str, bool)> = conds.iter().map(|c| (*c, false)).collect();
    check_table(&ev, &table);
    check_table(
        &ev,
        &[
            ("not ka.user.groups in (x)", true),
            ("not ka.user.groups exists", true),
            ("not len(ka.user.groups) > 0", true),
            ("not len(ka.user.groups) = 0", true),
        ],
    );
}

#[test]
fn indexed_list_field() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            (
                "ka.req.pod.containers.image[1] in (docker.io/library/busybox:latest)",
                true,
            ),
            ("ka.req.pod.containers.image[0] in (nginx:1.25)", true),
            (
                "ka.req.pod.containers.image[0] in (docker.io/library/busybox:latest)",
                false,
            ),
            (
                "ka.req.pod.containers.image[1] intersects (nginx:1.25)",
                false,
            ),
            ("ka.req.pod.containers.image[1] exists", true),
            ("ka.req.pod.containers.image[2] exists", false),
            ("ka.req.pod.containers.image[5] in (nginx:1.25)", false),
            ("not ka.req.pod.containers.image[5] in (nginx:1.25)", true),
            ("len(ka.req.pod.containers.image[1]) = 1", true),
            ("len(ka.req.pod.containers.image) = 2", true),
            (
                "ka.req.pod.containers.image.repository[1] in (docker.io/library/busybox)",
                true,
            ),
        ],
    );
}

#[test]
fn key_argument_field() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.uri.param[command] = sh", true),
            ("ka.uri.param[container] = app", true),
            ("ka.uri.param[\"command\"] = sh", true),
            ("ka.uri.param[command] in (bash, sh)", true),
            ("ka.uri.param[command] != sh", false),
            ("ka.uri.param[nope] exists", false),
            ("ka.uri.param[command] = val(ka.uri.param[command])", true),
            (
                "ka.uri.param[command] = val(ka.uri.param[container])",
                false,
            ),
            ("ka.uri.param[container] = val(ka.uri.param[nope])", false),
            ("ka.req.volume.hostpath[/var/run/docker.sock] = true", true),
            ("ka.req.volume.hostpath[/var/run*] = true", true),
            ("ka.req.volume.hostpath[/etc] = false", true),
        ],
    );
}

#[test]
fn transformers() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("tolower(ka.user.name) = alice.smith", true),
            ("toupper(ka.user.name) = ALICE.SMITH", true),
            ("tolower(toupper(ka.user.name)) = alice.smith", true),
            ("ka.user.name = Alice.Smith", true),
            ("b64(ka.target.name) = hello", true),
            ("b64(ka.target.name) exists", true),
            // "create" is not valid base64: the transformer fails, the value is absent.
            ("b64(ka.verb) exists", false),
            ("not b64(ka.verb) exists", true),
            ("basename(ka.uri) = \"exec?command=sh&container=app\"", true),
            (
                "basename(ka.req.pod.volumes.hostpath) in (docker.sock)",
                true,
            ),
            ("len(ka.verb) = 6", true),
            ("len(ka.verb) > 5", true),
            // Numeric, not string, comparison: 6 < 10.
            ("len(ka.verb) < 10", true),
            ("len(ka.verb) in (1, 6)", true),
            ("len(ka.verb) intersects (7)", false),
            ("len(ka.verb) != 6", false),
            ("len(ka.user.groups) = 2", true),
            ("len(ka.user.groups) >= 2", true),
            ("len(tolower(ka.user.name)) = 11", true),
            ("len(ka.response.code) = 3", true),
            ("tolower(ka.user.name) = tolower(ka.user.name)", true),
            ("ka.verb = tolower(ka.verb)", true),
            ("ka.user.name = tolower(ka.user.name)", false),
            ("ka.user.name != tolower(ka.user.name)", true),
            (
                "tolower(ka.target.subresource) = val(ka.target.subresource)",
                true,
            ),
            ("len(ka.verb) = len(ka.verb)", true),
            ("len(ka.verb) > len(ka.target.subresource)", true),
        ],
    );
    // Unpadded base64 decodes too (libsinsp `Base64::decodeWithoutPadding`).
    let ev = event(HEALTHZ);
    check_table(&ev, &[("b64(ka.target.name) = hello", true)]);
}

#[test]
fn field_to_field_with_val() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.target.namespace = val(ka.target.namespace)", true),
            ("ka.verb = val(ka.target.namespace)", false),
            ("ka.verb != val(ka.target.namespace)", true),
            ("ka.verb < val(ka.target.namespace)", true),
            ("ka.verb contains val(ka.verb)", true),
            (
                "ka.target.resource startswith val(ka.target.namespace)",
                false,
            ),
            ("ka.verb in val(ka.verb)", true),
            ("ka.verb intersects val(ka.target.resource)", false),
            ("ka.verb = val(ka.impuser.name)", false),
            ("ka.verb != val(ka.impuser.name)", false),
            ("not ka.verb = val(ka.impuser.name)", true),
        ],
    );
}

#[test]
fn glob_star_crosses_slash() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.uri glob /api/*", true),
            ("ka.uri glob /api/*/exec*", true),
            ("ka.uri glob /api/v1/namespaces/?efault/*", true),
            ("ka.uri glob /API/*", false),
            ("ka.uri iglob /API/*", true),
            ("ka.uri glob *exec", false),
            (
                "ka.req.pod.volumes.hostpath intersects (/var/run/docker.sock)",
                true,
            ),
        ],
    );
}

#[test]
fn regex_is_full_match_posix() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("ka.uri regex /api/.*", true),
            ("ka.uri regex /api/v1", false),
            ("ka.uri regex ^/api/v1/namespaces/[a-z]+/pods/.*$", true),
            ("ka.uri regex .*exec\\?command.*", true),
            ("ka.response.code regex [0-9]+", true),
            ("ka.response.code regex 40[0-9]", true),
            ("ka.response.code regex 4", false),
            (
                "ka.user.name regex [[:upper:]][[:lower:]]+\\.[[:alpha:]]+",
                true,
            ),
        ],
    );
    for (cond, msg) in [
        (
            "ka.response.code regex \\d+",
            "invalid regex pattern: invalid escape sequence: \\d",
        ),
        (
            "ka.verb regex \\w+",
            "invalid regex pattern: invalid escape sequence: \\w",
        ),
        (
            "ka.verb regex \"(?i)create\"",
            "invalid regex pattern: missing argument to repetition operator: ?",
        ),
        (
            "ka.verb regex \"(?:create)\"",
            "invalid regex pattern: missing argument to repetition operator: ?",
        ),
    ] {
        assert_eq!(compile_error(cond), msg, "{cond}");
    }
    // A regex that a simpler operator can replace gets a hint.
    assert_eq!(
        warnings("ka.verb regex ^create.*"),
        vec!["regex check with '^create.*' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'".to_string()]
    );
    assert!(warnings("ka.verb regex c[a-z]+").is_empty());
}

#[test]
fn pmatch_examples() {
    let uri = |u: &str| {
        event(&POD_EXEC.replace(
            "/api/v1/namespaces/default/pods/nginx/exec?command=sh&container=app",
            u,
        ))
    };
    let cases: [(&str, &str, bool); 12] = [
        ("/srv/hello", "ka.uri pmatch (/srv/hello)", true),
        ("/srv/hello/world", "ka.uri pmatch (/srv/hello)", true),
        ("/srv/hello_world", "ka.uri pmatch (/srv/hello)", false),
        ("/srv", "ka.uri pmatch (/srv/hello)", false),
        ("/api/v1/namespaces?x=y", "ka.uri pmatch (/api/v1)", true),
        ("/api/v1?watch=1", "ka.uri pmatch (/api/v1)", false),
        ("/anything/at/all", "ka.uri pmatch (/)", true),
        ("a/b/c", "ka.uri pmatch (//a//b)", true),
        (
            "/var/run/docker.sock",
            "ka.uri pmatch (/var/*/docker.sock)",
            true,
        ),
        (
            "/var/run/x/docker.sock",
            "ka.uri pmatch (/var/*/docker.sock)",
            false,
        ),
        ("/a/c", "ka.uri pmatch (/a/b, /a)", true),
        ("/b/a", "ka.uri pmatch (/a/b, /a)", false),
    ];
    let mut failures = Vec::new();
    for (value, cond, want) in cases {
        let got = eval(cond, &uri(value));
        if got != want {
            failures.push(format!("{value} / `{cond}`: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compile_errors() {
    let cases: &[(&str, &str)] = &[
        // Operators by type.
        (
            "ka.verb bcontains 6162",
            "filter error: 'bcontains' operator not supported for string filters",
        ),
        (
            "ka.verb bstartswith 6162",
            "filter error: 'bstartswith' operator not supported for string filters",
        ),
        (
            "len(ka.verb) contains 1",
            "filter error: 'contains' operator not supported for numeric filters",
        ),
        (
            "len(ka.verb) pmatch (/a)",
            "filter error: 'pmatch' operator not supported for numeric filters",
        ),
        (
            "len(ka.verb) regex 1",
            "filter error: 'regex' operator not supported for numeric filters",
        ),
        (
            "ka.user.groups startswith oneof (a)",
            "filter error: 'startswith' operator not supported list filters",
        ),
        (
            "ka.user.groups = anyof (a, b)",
            "filter error: '=' operator not supported list filters",
        ),
        (
            "ka.user.groups = val(ka.user.groups)",
            "filter error: '=' operator not supported list filters",
        ),
        (
            "ka.user.groups bcontains 6162",
            "filter error: 'bcontains' operator not supported for string filters",
        ),
        // Numeric values (sinsp_numparser: `<value> is not a valid number`).
        ("len(ka.verb) = abc", "abc is not a valid number"),
        ("len(ka.verb) > 0x1F", "0x1F is not a valid number"),
        ("len(ka.verb) >= 3.5", "3.5 is not a valid number"),
        ("len(ka.verb) = 5e+3", "5e+3 is not a valid number"),
        ("len(ka.verb) in (1, x)", "x is not a valid number"),
        ("len(ka.verb) = oneof (1, y)", "y is not a valid number"),
        // The parser wants a number after a numeric operator.
        (
            "len(ka.verb) > abc",
            "parse: expected a number value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'",
        ),
        // Field-to-field type checks.
        (
            "ka.verb in val(ka.user.groups)",
            "field 'ka.verb' has type 'CHARBUF' while the right-hand side field 'ka.user.groups' has incompatible type 'CHARBUF (list)'",
        ),
        (
            "ka.verb = len(ka.verb)",
            "field 'ka.verb' has type 'CHARBUF' while the right-hand side field 'ka.verb' has incompatible type 'UINT64'",
        ),
        (
            "ka.user.groups intersects val(ka.verb)",
            "field 'ka.user.groups' has type 'CHARBUF (list)' while the right-hand side field 'ka.verb' has incompatible type 'CHARBUF'",
        ),
        (
            "ka.uri pmatch val(ka.verb)",
            "operator 'PMATCH' doesn't support right-hand side fields",
        ),
        (
            "ka.uri regex val(ka.verb)",
            "operator 'REGEX' doesn't support right-hand side fields",
        ),
        // Transformer types.
        (
            "tolower(len(ka.verb)) = 1",
            "can't add field transformer: type 'UINT64' is not supported by 'tolower' transformer applied on field 'ka.verb'",
        ),
        (
            "len(len(ka.verb)) = 1",
            "can't add field transformer: type 'UINT64' is not supported by 'len' transformer applied on field 'ka.verb'",
        ),
        // Fields and arguments.
        (
            "ka.nope = x",
            "filter_check called with nonexistent field ka.nope",
        ),
        (
            "ka.verb[x] = y",
            "filter 'ka.verb[x]': ka.verb does not allow nor require an argument but one is provided: x",
        ),
        (
            "ka.uri.param exists",
            "filter 'ka.uri.param': ka.uri.param requires an argument but none provided",
        ),
        (
            "ka.req.pod.containers.image[01] exists",
            "filter ka.req.pod.containers.image[01] ka.req.pod.containers.image has an invalid index argument starting with 0: 01",
        ),
        (
            "ka.req.pod.containers.image[x] exists",
            "filter ka.req.pod.containers.image[x] ka.req.pod.containers.image has an invalid index argument not composed only by digits: x",
        ),
        // Macros must be resolved before compiling.
        ("my_macro", "filter error: unexpected identifier 'my_macro'"),
    ];
    let mut failures = Vec::new();
    for (cond, want) in cases {
        match common::compile(cond) {
            Ok(_) => failures.push(format!("`{cond}`: compiled, want error {want:?}")),
            Err(got) if got != *want => {
                failures.push(format!("`{cond}`:\n   got {got:?}\n  want {want:?}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn value_hints() {
    assert_eq!(
        warnings("ka.verb = ka.uri"),
        vec!["'ka.uri' may be a valid field misused as a const string value".to_string()]
    );
    assert_eq!(
        warnings("ka.verb in (get, ka.uri.param[x])"),
        vec!["'ka.uri.param[x]' may be a valid field misused as a const string value".to_string()]
    );
    assert_eq!(
        warnings("ka.verb = \"tolower(ka.uri)\""),
        vec![
            "'tolower(ka.uri)' may be a valid field transformer misused as a const string value"
                .to_string()
        ]
    );
    assert!(warnings("ka.verb = ka").is_empty());
    assert!(warnings("ka.verb = nope.nope").is_empty());
}

#[test]
fn numeric_values_follow_sscanf() {
    // sinsp_numparser::parseu64 is `sscanf("%lu%c") == 1`: leading blanks and a sign are
    // accepted, `-1` wraps to u64::MAX, nothing may follow the digits.
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("len(ka.verb) = +6", true),
            ("len(ka.verb) = \" 6\"", true),
            ("len(ka.verb) = 006", true),
            ("len(ka.verb) < -1", true),
            ("len(ka.verb) in (\"\t6\", 7)", true),
        ],
    );
    assert_eq!(
        compile_error("len(ka.verb) = \"6 \""),
        "6  is not a valid number"
    );
    assert_eq!(
        compile_error("len(ka.verb) = \"\""),
        " is not a valid number"
    );
}

/// `exists` on the time fields (`k8s_audit_always_true` is `jevt.rawtime exists`), alone
/// and next to checks that read the value.
#[test]
fn exists_on_fields_known_without_extraction() {
    let ev = event(POD_EXEC);
    check_table(
        &ev,
        &[
            ("jevt.rawtime exists", true),
            ("json.rawtime exists and json.rawtime > 0", true),
            ("evt.time exists and evt.rawtime exists", true),
            ("evt.asynctype exists", false),
            ("not evt.asynctype exists", true),
            ("jevt.rawtime exists and jevt.rawtime = 0", false),
            ("not (jevt.rawtime exists)", false),
        ],
    );
}

/// Comparisons on the time and number fields (`k8s_audit_never_true` is
/// `jevt.rawtime=0`): numeric operators and sets on the numeric ones, exact text on the
/// string `jevt.rawtime`.
#[test]
fn numeric_comparisons_on_held_numbers() {
    let ev = event(POD_EXEC);
    let t = ev.time_ns();
    let conds: Vec<(String, bool)> = vec![
        ("jevt.rawtime = 0".into(), false),
        ("jevt.rawtime != 0".into(), true),
        (format!("jevt.rawtime = {t}"), true),
        (format!("json.rawtime = {}", t + 1), false),
        (format!("evt.rawtime = {}", t - 1), false),
        (format!("evt.rawtime != {t}"), false),
        (format!("evt.rawtime < {}", t + 1), true),
        (format!("evt.rawtime < {t}"), false),
        (format!("evt.rawtime <= {t}"), true),
        (format!("evt.rawtime > {t}"), false),
        (format!("evt.rawtime >= {}", t + 1), false),
        (format!("evt.rawtime.s = {}", t / 1_000_000_000), true),
        (
            format!("evt.rawtime.ns in (1, {})", t % 1_000_000_000),
            true,
        ),
        ("evt.num in (1, 2)".into(), false),
        ("evt.num = 0".into(), true),
        ("evt.reltime = 0".into(), true),
        ("not jevt.rawtime = 0 and evt.rawtime != 0".into(), true),
        // A string field: `=` compares the decimal text exactly.
        (format!("jevt.rawtime = 0{t}"), false),
        (format!("jevt.rawtime != \"+{t}\""), true),
        (format!("jevt.rawtime = \"{t} \""), false),
        (format!("jevt.rawtime in ({t})"), true),
        (format!("jevt.rawtime > {}", t - 1), true),
    ];
    let table: Vec<(&str, bool)> = conds.iter().map(|(c, w)| (c.as_str(), *w)).collect();
    check_table(&ev, &table);
}
