//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::borrow::Cow;

use falco_rs_engine::{EventView, FieldCatalog};
use falco_rs_k8saudit::{parse_payload, AuditEvent, K8sAuditCatalog, ParseOptions};

/// Parses a payload that must yield exactly one event.
pub fn event(json: &str) -> AuditEvent {
    let mut out = parse_payload(json.as_bytes(), &ParseOptions::default());
    assert!(out.errors.is_empty(), "errors: {:?}", out.errors);
    assert_eq!(out.events.len(), 1);
    out.events.remove(0)
}

/// Splits `name[arg]`.
pub fn split(field: &str) -> (&str, Option<&str>) {
    match field.find('[') {
        Some(i) if field.ends_with(']') => (&field[..i], Some(&field[i + 1..field.len() - 1])),
        _ => (field, None),
    }
}

/// Extracts `field` (written `name` or `name[arg]`); `None` when not extracted.
pub fn get(ev: &AuditEvent, field: &str) -> Option<Vec<String>> {
    let (name, arg) = split(field);
    let meta = K8sAuditCatalog::new()
        .resolve(name, arg)
        .unwrap_or_else(|e| panic!("resolve {field}: {e}"));
    let mut out = Vec::new();
    if ev.extract(&meta, &mut out) {
        assert!(!out.is_empty(), "{field}: true with no values");
        if !meta.is_list {
            assert_eq!(out.len(), 1, "{field}: scalar with several values");
        }
        Some(out.into_iter().map(Cow::into_owned).collect())
    } else {
        None
    }
}

/// Expected value of a field: `None` = not extracted.
pub type Want = Option<&'static [&'static str]>;

/// Checks a table of fields.
pub fn check(ev: &AuditEvent, table: &[(&str, Want)]) {
    let mut failures = Vec::new();
    for (field, want) in table {
        let got = get(ev, field);
        let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        if got != want {
            failures.push(format!("{field}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

pub const POD: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"11111111-2222-3333-4444-555555555555","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?fieldManager=kubectl%20client&dryRun=All&x=a+b&x=second","verb":"create","user":{"username":"alice","groups":["g1","system:authenticated"]},"impersonatedUser":{"username":"bob"},"sourceIPs":["10.0.0.1","::1"],"userAgent":"kubectl/v1.29.0","objectRef":{"resource":"pods","namespace":"default","name":"p","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"hostNetwork":true,"hostPID":false,"securityContext":{"runAsUser":2000,"runAsGroup":3000,"fsGroup":4000,"supplementalGroups":[1,2]},"volumes":[{"name":"a","hostPath":{"path":"/var/run/docker.sock","type":""}},{"name":"b","configMap":{"name":"x"}},{"name":"c","flexVolume":{"driver":"foo/bar"}}],"containers":[{"name":"c1","image":"registry.example.com:5000/team/app:1.2@sha256:abc","command":["sh","-c"],"args":["echo hi","x"],"ports":[{"containerPort":80},{"containerPort":443,"hostPort":8443}],"securityContext":{"privileged":true,"allowPrivilegeEscalation":true,"readOnlyRootFilesystem":false,"runAsUser":1000,"procMount":"Unmasked","capabilities":{"add":["NET_ADMIN","SYS_TIME"],"drop":["ALL"]}}},{"name":"c2","image":"nginx"}],"initContainers":[{"name":"i1","image":"busybox:1.36","securityContext":{"privileged":true}}]}},"responseObject":{"kind":"Pod","metadata":{"name":"p-resp"}},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.123456Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"x\"","cluster_name":"c1","pod-security.kubernetes.io/audit-violations":"would violate PodSecurity \"restricted:latest\""}}"#;

pub const CRB: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a2","stage":"ResponseComplete","verb":"create","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","objectRef":{"resource":"clusterrolebindings","name":"b","apiGroup":"rbac.authorization.k8s.io"},"requestObject":{"kind":"ClusterRoleBinding","roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"},{"kind":"ServiceAccount","name":"sa1","namespace":"ns1"},{"kind":"ServiceAccount","name":"sa2"},{"kind":"Group","name":"devs"}],"rules":[{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]},{"nonResourceURLs":["/healthz"],"verbs":["get"]}]},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;

pub const SVC: &str = r#"{"kind":"Event","auditID":"a3","stage":"ResponseComplete","objectRef":{"resource":"services","name":"s"},"requestObject":{"kind":"Service","spec":{"type":"NodePort","ports":[{"port":80,"targetPort":8080,"nodePort":30080},{"port":443}]},"data":{"k":"v","q":"x\"y"}},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;

pub const EXEC: &str = r#"{"kind":"Event","auditID":"a4","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=id&container=c&stdin=true","objectRef":{"resource":"pods","namespace":"default","name":"p","subresource":"exec"},"responseObject":{"metadata":{"name":"zzz"}},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;

pub const NOID: &str = r#"{"kind":"Event","stage":"ResponseComplete","user":{"username":"alice"},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;

pub const NULLS: &str = r#"{"kind":"Event","auditID":"a5","user":{"username":null,"groups":"notalist"},"requestObject":{"spec":{"hostIPC":null,"containers":[{"name":"c1"},{"image":"x"}],"securityContext":{}}},"annotations":{},"stageTimestamp":"2024-05-01T10:00:00Z","requestURI":"/x?a=%zz&b=1"}"#;

pub const EDGE: &str = r#"{"kind":"Event","auditID":"e1","requestURI":"/api/v1/pods?a=1;b=2&c=%41","requestObject":{"spec":{"containers":[{"name":"x","image":"nginx@sha256:abc","securityContext":{"privileged":"true","capabilities":{"add":[]}}}],"volumes":[{"name":"v","hostPath":{"path":"/etc/kubernetes"}},{"name":"w","emptyDir":{},"extra":1}]}},"objectRef":{"resource":"pods","subresource":""},"responseObject":{"metadata":{"name":"rp"}},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;

/// All Appendix A events.
pub const ALL_EVENTS: [&str; 7] = [POD, CRB, SVC, EXEC, NOID, NULLS, EDGE];

/// Every field name paired with a list of argument variants worth trying.
pub fn all_field_variants() -> Vec<String> {
    let mut v = Vec::new();
    for doc in K8sAuditCatalog::field_docs() {
        match doc.arg {
            "[k]" => {
                for k in [
                    "x",
                    "",
                    "/",
                    "/stage",
                    "/var/run*",
                    "*",
                    "a",
                    "b",
                    "command",
                    "/requestObject/spec/containers/0",
                ] {
                    v.push(format!("{}[{}]", doc.name, k));
                }
            }
            "[i]" => {
                v.push(doc.name.to_string());
                for i in [
                    "0",
                    "1",
                    "2",
                    "5",
                    "18446744073709551615",
                    "9223372036854775808",
                ] {
                    v.push(format!("{}[{}]", doc.name, i));
                }
            }
            _ => v.push(doc.name.to_string()),
        }
    }
    v
}
