//! Deterministic Kubernetes audit-log generator for benchmarks.
//!
//! [`Mix::Realistic`] approximates a busy cluster: about 88% get/list/watch by system
//! accounts at Metadata level, 9% updates of leases, events and status subresources,
//! and 3% writes with request bodies (pods, secrets, RBAC bindings).
//! [`Mix::AlertHeavy`] is dominated by requests the official rules alert on.

use serde_json::{json, Value};

/// Which traffic mix to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// A busy cluster's everyday traffic.
    Realistic,
    /// Mostly suspicious requests.
    AlertHeavy,
}

/// xorshift64* PRNG: deterministic and dependency-free.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SYSTEM_USERS: &[&str] = &[
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:kube-system:endpointslice-controller",
    "system:serviceaccount:kube-system:coredns",
    "system:serviceaccount:monitoring:prometheus",
    "system:serviceaccount:cert-manager:cert-manager",
    "system:node:ip-10-0-1-17.ec2.internal",
    "system:node:ip-10-0-2-41.ec2.internal",
    "system:apiserver",
];
const READ_RESOURCES: &[(&str, &str)] = &[
    ("pods", "v1"),
    ("configmaps", "v1"),
    ("endpoints", "v1"),
    ("services", "v1"),
    ("nodes", "v1"),
    ("secrets", "v1"),
    ("leases", "coordination.k8s.io/v1"),
    ("deployments", "apps/v1"),
    ("replicasets", "apps/v1"),
    ("endpointslices", "discovery.k8s.io/v1"),
];
const NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "monitoring",
    "payments",
    "web",
    "cert-manager",
];
const HUMANS: &[&str] = &["alice@example.com", "bob@example.com", "carol@example.com"];

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn timestamp(base_s: u64, i: u64) -> String {
    // 2024-05-01T10:00:00Z plus i milliseconds-ish.
    let ms = base_s * 1000 + i * 3;
    let secs = ms / 1000;
    let h = 10 + (secs / 3600) % 12;
    let m = (secs / 60) % 60;
    let s = secs % 60;
    format!(
        "2024-05-01T{h:02}:{m:02}:{s:02}.{:06}Z",
        (ms % 1000) * 1000 + i % 1000
    )
}

/// The request line of a generated event.
struct Req<'a> {
    verb: &'a str,
    user: &'a str,
    resource: &'a str,
    api: &'a str,
    ns: &'a str,
    name: Option<&'a str>,
    code: u16,
    level: &'a str,
}

fn base_event(rng: &mut Rng, i: u64, req: Req<'_>) -> Value {
    let Req {
        verb,
        user,
        resource,
        api,
        ns,
        name,
        code,
        level,
    } = req;
    let groups: Vec<&str> = if user.starts_with("system:serviceaccount:") {
        vec!["system:serviceaccounts", "system:authenticated"]
    } else if user.starts_with("system:node:") {
        vec!["system:nodes", "system:authenticated"]
    } else {
        vec!["system:authenticated"]
    };
    let (group, version) = api.split_once('/').unwrap_or(("", api));
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let uri = match name {
        Some(n) => format!("{prefix}/namespaces/{ns}/{resource}/{n}"),
        None if verb == "watch" => format!(
            "{prefix}/namespaces/{ns}/{resource}?watch=true&resourceVersion={}",
            rng.below(1_000_000)
        ),
        None => format!("{prefix}/namespaces/{ns}/{resource}?limit=500"),
    };
    let mut object_ref = json!({"resource": resource, "namespace": ns, "apiVersion": version});
    if !group.is_empty() {
        object_ref["apiGroup"] = json!(group);
    }
    if let Some(n) = name {
        object_ref["name"] = json!(n);
    }
    let ts = timestamp(0, i);
    json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": level,
        "auditID": uuid(rng),
        "stage": "ResponseComplete",
        "requestURI": uri,
        "verb": verb,
        "user": {"username": user, "groups": groups},
        "sourceIPs": [format!("10.0.{}.{}", rng.below(4), rng.below(250) + 2)],
        "userAgent": "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625",
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": ts,
        "stageTimestamp": ts,
        "annotations": {
            "authorization.k8s.io/decision": "allow",
            "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"system:controller\" of ClusterRole \"system:controller\" to ServiceAccount \"controller\""
        }
    })
}

fn pod_body(rng: &mut Rng, privileged: bool, host_network: bool) -> Value {
    let image = rng.pick(&[
        "nginx:1.25",
        "registry.example.com/team/api:2.3.1",
        "busybox:1.36",
        "redis:7",
    ]);
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"generateName": "api-7d9f8b6c5-", "labels": {"app": "api"}},
        "spec": {
            "hostNetwork": host_network,
            "containers": [{
                "name": "main", "image": image,
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                "securityContext": {"privileged": privileged, "runAsUser": 1000}
            }],
            "volumes": [{"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
            "serviceAccountName": "default"
        }
    })
}

/// One audit event line (compact JSON) of the given mix.
pub fn event(mix: Mix, rng: &mut Rng, i: u64) -> String {
    let roll = rng.below(1000);
    let v = match mix {
        Mix::Realistic if roll < 880 => {
            let verb = *rng.pick(&["get", "list", "watch"]);
            let (res, api) = *rng.pick(READ_RESOURCES);
            let user = *rng.pick(SYSTEM_USERS);
            let ns = *rng.pick(NAMESPACES);
            let name = (verb == "get").then(|| format!("{res}-{}", rng.below(50)));
            base_event(
                rng,
                i,
                Req {
                    verb,
                    user,
                    resource: res,
                    api,
                    ns,
                    name: name.as_deref(),
                    code: 200,
                    level: "Metadata",
                },
            )
        }
        Mix::Realistic if roll < 970 => {
            let (res, api, verb) = *rng.pick(&[
                ("leases", "coordination.k8s.io/v1", "update"),
                ("events", "v1", "create"),
                ("pods", "v1", "patch"),
                ("nodes", "v1", "patch"),
            ]);
            let user = *rng.pick(SYSTEM_USERS);
            let ns = *rng.pick(NAMESPACES);
            let name = format!("{res}-{}", rng.below(20));
            let mut e = base_event(
                rng,
                i,
                Req {
                    verb,
                    user,
                    resource: res,
                    api,
                    ns,
                    name: Some(&name),
                    code: 200,
                    level: "Metadata",
                },
            );
            if res == "pods" || res == "nodes" {
                e["objectRef"]["subresource"] = json!("status");
            }
            e
        }
        Mix::Realistic => {
            let kind = rng.below(3);
            let user = *rng.pick(&[
                "system:serviceaccount:kube-system:replicaset-controller",
                "alice@example.com",
                "system:serviceaccount:argocd:argocd-application-controller",
            ]);
            let ns = *rng.pick(NAMESPACES);
            match kind {
                0 => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "pods",
                            api: "v1",
                            ns,
                            name: None,
                            code: 201,
                            level: "RequestResponse",
                        },
                    );
                    e["requestObject"] = pod_body(rng, false, false);
                    e
                }
                1 => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "secrets",
                            api: "v1",
                            ns,
                            name: None,
                            code: 201,
                            level: "Metadata",
                        },
                    );
                    e["objectRef"]["name"] = json!(format!("tls-{}", rng.below(100)));
                    e
                }
                _ => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "rolebindings",
                            api: "rbac.authorization.k8s.io/v1",
                            ns,
                            name: None,
                            code: 201,
                            level: "RequestResponse",
                        },
                    );
                    e["requestObject"] = json!({
                        "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                        "metadata": {"name": format!("rb-{}", rng.below(100)), "namespace": ns},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                        "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": ns}]
                    });
                    e
                }
            }
        }
        Mix::AlertHeavy => {
            let user = *rng.pick(HUMANS);
            let ns = *rng.pick(NAMESPACES);
            match rng.below(5) {
                0 => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "pods",
                            api: "v1",
                            ns,
                            name: Some("web-0"),
                            code: 101,
                            level: "Metadata",
                        },
                    );
                    e["objectRef"]["subresource"] = json!("exec");
                    e["stage"] = json!("ResponseStarted");
                    e["requestURI"] = json!(format!("/api/v1/namespaces/{ns}/pods/web-0/exec?command=sh&container=main&stdin=true&tty=true"));
                    e
                }
                1 => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "pods",
                            api: "v1",
                            ns,
                            name: None,
                            code: 201,
                            level: "RequestResponse",
                        },
                    );
                    e["requestObject"] = pod_body(rng, true, true);
                    e
                }
                2 => base_event(
                    rng,
                    i,
                    Req {
                        verb: "get",
                        user,
                        resource: "secrets",
                        api: "v1",
                        ns,
                        name: Some("db-password"),
                        code: 200,
                        level: "Metadata",
                    },
                ),
                3 => {
                    let mut e = base_event(
                        rng,
                        i,
                        Req {
                            verb: "create",
                            user,
                            resource: "clusterrolebindings",
                            api: "rbac.authorization.k8s.io/v1",
                            ns: "",
                            name: None,
                            code: 201,
                            level: "RequestResponse",
                        },
                    );
                    e["requestObject"] = json!({
                        "kind": "ClusterRoleBinding",
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                        "subjects": [{"kind": "User", "name": user}]
                    });
                    e
                }
                _ => base_event(
                    rng,
                    i,
                    Req {
                        verb: "delete",
                        user,
                        resource: "configmaps",
                        api: "v1",
                        ns: "kube-system",
                        name: Some("coredns"),
                        code: 200,
                        level: "Metadata",
                    },
                ),
            }
        }
    };
    v.to_string()
}

/// `n` event lines of a mix, from a fixed seed.
pub fn generate(mix: Mix, n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n as u64).map(|i| event(mix, &mut rng, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_parseable() {
        let a = generate(Mix::Realistic, 200, 7);
        let b = generate(Mix::Realistic, 200, 7);
        assert_eq!(a, b);
        for line in a.iter().chain(generate(Mix::AlertHeavy, 50, 7).iter()) {
            let out = falco_rs_k8saudit::parse_payload(line.as_bytes(), &Default::default());
            assert_eq!(out.events.len(), 1, "{line}");
            assert!(out.errors.is_empty());
        }
    }
}
