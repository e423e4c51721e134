"""testdata/audit/sample.jsonl: ten minutes of a small busy cluster (deterministic)."""
import json
import random
import sys

from lib import *  # noqa: F401,F403

OUT = sys.argv[1]
rng = random.Random(20240603)
clock = Clock("2024-06-03T09:00:00+00:00")

NODES = ["cp-1", "worker-1", "worker-2", "worker-3"]
WORKERS = NODES[1:]
APP_NS = ["shop", "payments", "monitoring"]
PODS = {
    "shop": ["frontend-7d9c6b5f4-2xkqp", "frontend-7d9c6b5f4-9hv7w", "cart-5b8f7c9d6-tq4lm"],
    "payments": ["payments-api-6c8d9f7b5-k2m4n", "postgres-0"],
    "monitoring": ["prometheus-k8s-0", "grafana-6c5b9c7d8-h2k9x"],
}

ALICE = human("alice@example.com")
BOB = human("bob@example.com", ("platform-team",))
MALLORY = human("mallory", ("contractors",))
CI = sa("ci", "runner")
HELPER = sa("kube-system", "kube-dns-helper")
ARGO = sa("argocd", "argocd-application-controller")
CERTMGR = sa("cert-manager", "cert-manager")
INGRESS = sa("ingress-nginx", "ingress-nginx")
PROM = sa("monitoring", "prometheus-k8s")
KSM = sa("monitoring", "kube-state-metrics")
COREDNS = sa("kube-system", "coredns")
KCM = sysuser("system:kube-controller-manager")
SCHED = sysuser("system:kube-scheduler")
APISERVER = sysuser("system:apiserver", ("system:masters", "system:authenticated"))


def kcm_sa(name):
    return sa("kube-system", name)


def gap():
    return rng.randint(600_000, 2_400_000)


def pick(xs):
    return xs[rng.randrange(len(xs))]


# ---------------- background traffic ----------------

def bg_node_lease():
    n = pick(NODES)
    return event(clock, node(n), "update", "leases", "kube-node-lease", n, ua="kubelet",
                 ips=(f"10.0.0.{10 + NODES.index(n)}",), reason="", gap=gap())


def bg_leader_lease():
    who, name, ua = pick([(KCM, "kube-controller-manager", "kcm"), (SCHED, "kube-scheduler", "scheduler")])
    if ua == "kcm":
        ua = "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/leader-election"
    return event(clock, who, "update", "leases", "kube-system", name, ua=ua, ips=("10.0.0.10",),
                 reason='RBAC: allowed by ClusterRoleBinding "system:%s" of ClusterRole "system:%s" to User "%s"'
                 % (name, name, who["username"]), gap=gap())


def bg_node_status():
    n = pick(NODES)
    return event(clock, node(n), "patch", "nodes", None, n, "status", ua="kubelet",
                 ips=(f"10.0.0.{10 + NODES.index(n)}",), reason="", gap=gap())


def bg_kubelet_reads():
    n = pick(WORKERS)
    ns = pick(APP_NS)
    kind, name = pick([("configmaps", "kube-root-ca.crt"), ("secrets", f"{ns}-tls"),
                       ("configmaps", f"{ns}-config"), ("secrets", "registry-credentials")])
    return event(clock, node(n), "get", kind, ns, name, ua="kubelet",
                 ips=(f"10.0.0.{10 + NODES.index(n)}",), reason="", gap=gap())


def bg_kubelet_token():
    n = pick(WORKERS)
    ns = pick(APP_NS)
    return event(clock, node(n), "create", "serviceaccounts", ns, "default", "token", code=201, ua="kubelet",
                 ips=(f"10.0.0.{10 + NODES.index(n)}",), reason="", gap=gap())


def bg_controllers():
    c = pick(["endpointslice-controller", "replicaset-controller", "deployment-controller",
              "generic-garbage-collector", "resourcequota-controller", "horizontal-pod-autoscaler"])
    ns = pick(APP_NS)
    if c == "endpointslice-controller":
        return event(clock, kcm_sa(c), "update", "endpointslices", ns, f"{ns}-svc-x8k2p",
                     ua=UA["kcm"].format(c), ips=("10.0.0.10",), gap=gap())
    if c == "replicaset-controller":
        return event(clock, kcm_sa(c), "update", "replicasets", ns, "frontend-7d9c6b5f4", "status",
                     ua=UA["kcm"].format(c), ips=("10.0.0.10",), gap=gap())
    if c == "deployment-controller":
        return event(clock, kcm_sa(c), "update", "deployments", ns, "frontend", "status",
                     ua=UA["kcm"].format(c), ips=("10.0.0.10",), gap=gap())
    if c == "horizontal-pod-autoscaler":
        return event(clock, kcm_sa(c), "get", "deployments", ns, "frontend", "scale",
                     ua=UA["kcm"].format(c), ips=("10.0.0.10",), gap=gap())
    res = pick(["secrets", "configmaps", "pods", "leases"])
    return event(clock, kcm_sa(c), "list", res, query="limit=500&resourceVersion=0",
                 ua=UA["kcm"].format(c), ips=("10.0.0.10",), gap=gap())


def bg_watchers():
    who, ua, res = pick([
        (COREDNS, "coredns", "endpointslices"), (COREDNS, "coredns", "services"),
        (COREDNS, "coredns", "namespaces"), (INGRESS, "ingress", "ingresses"),
        (INGRESS, "ingress", "secrets"), (CERTMGR, "certmanager", "secrets"),
        (CERTMGR, "certmanager", "certificates"), (PROM, "python", "endpoints"),
        (PROM, "python", "pods"), (KSM, "ksm", "secrets"), (KSM, "ksm", "deployments"),
        (ARGO, "argocd", "deployments"), (ARGO, "argocd", "applications"),
    ])
    if who is PROM:
        ua = "Prometheus/2.51.2"
    q = f"allowWatchBookmarks=true&resourceVersion={rng.randint(70000, 90000)}&timeout={rng.randint(5, 9)}m{rng.randint(0, 59)}s&timeoutSeconds={rng.randint(300, 599)}&watch=true"
    return event(clock, who, "watch", res, query=q, ua=ua, ips=(f"10.244.{rng.randint(1, 3)}.{rng.randint(2, 250)}",),
                 gap=gap(), latency=rng.randint(300_000_000, 540_000_000))


def bg_operators():
    k = rng.randrange(5)
    if k == 0:
        ns = pick(["shop", "payments"])
        return event(clock, CERTMGR, "get", "secrets", ns, f"{ns}-tls", ua="certmanager", ips=("10.244.2.17",), gap=gap())
    if k == 1:
        return event(clock, INGRESS, "update", "leases", "ingress-nginx", "ingress-nginx-leader", ua="ingress",
                     ips=("10.244.1.9",), gap=gap())
    if k == 2:
        return event(clock, CERTMGR, "update", "leases", "kube-system", "cert-manager-controller", ua="certmanager",
                     ips=("10.244.2.17",), gap=gap())
    if k == 3:
        ns = pick(["shop", "payments"])
        return event(clock, ARGO, "get", "deployments", ns, "frontend" if ns == "shop" else "payments-api",
                     ua="argocd", ips=("10.244.3.40",), gap=gap())
    return event(clock, PROM, "list", "pods", pick(APP_NS), ua="Prometheus/2.51.2", ips=("10.244.1.33",), gap=gap())


def bg_probes():
    path = pick(["/readyz", "/livez", "/healthz", "/readyz?verbose", "/livez/ping"])
    return event(clock, ANON, "get", path=path, ua="kube-probe/1.29", ips=("10.0.0.10",),
                 reason='RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
                 gap=gap())


def bg_events():
    n = pick(WORKERS)
    ns = pick(APP_NS)
    return event(clock, node(n), "create", "events", ns, code=201, ua="kubelet",
                 ips=(f"10.0.0.{10 + NODES.index(n)}",), reason="", gap=gap())


def bg_humans():
    k = rng.randrange(4)
    ns = pick(APP_NS)
    if k == 0:
        return event(clock, ALICE, "list", "pods", ns, query="limit=500", ips=("10.8.0.21",), gap=gap())
    if k == 1:
        return event(clock, ALICE, "get", "pods", ns, pick(PODS[ns]), "log", query="container=app&follow=false&tailLines=200",
                     ips=("10.8.0.21",), gap=gap())
    if k == 2:
        return event(clock, BOB, "get", "deployments", ns, "frontend", ips=("10.8.0.35",), gap=gap())
    return event(clock, BOB, "list", "events", ns, query="limit=500", ips=("10.8.0.35",), gap=gap())


BACKGROUND = [
    (bg_node_lease, 18), (bg_leader_lease, 8), (bg_node_status, 6), (bg_kubelet_reads, 8),
    (bg_kubelet_token, 3), (bg_controllers, 12), (bg_watchers, 10), (bg_operators, 10),
    (bg_probes, 6), (bg_events, 6), (bg_humans, 6),
]
TOTAL_W = sum(w for _, w in BACKGROUND)


def background():
    r = rng.randrange(TOTAL_W)
    for f, w in BACKGROUND:
        if r < w:
            return f()
        r -= w
    raise AssertionError


# ---------------- scripted episodes ----------------

def nginx():
    return container("frontend", "ghcr.io/example/shop-frontend:3.4.1", ports=[8080])


def ep_rollout():
    """argocd syncs a new frontend version; controllers create the pods (benign)."""
    out = [event(clock, ARGO, "patch", "deployments", "shop", "frontend", level="Request", ua="argocd",
                 ips=("10.244.3.40",), req={"spec": {"template": {"spec": {"containers": [
                     {"name": "frontend", "image": "ghcr.io/example/shop-frontend:3.4.1"}]}}}}, gap=gap())]
    out.append(event(clock, kcm_sa("deployment-controller"), "create", "replicasets", "shop", code=201,
                     ua=UA["kcm"].format("deployment-controller"), ips=("10.0.0.10",), gap=gap()))
    for _ in range(2):
        out.append(pod_create(clock, kcm_sa("replicaset-controller"), "shop", pod_spec([nginx()]),
                              generate="frontend-84c5d9f8b-", ua=UA["kcm"].format("replicaset-controller"),
                              ips=("10.0.0.10",), gap=gap()))
        out.append(event(clock, SCHED, "create", "pods", "shop", "frontend-84c5d9f8b-x", "binding", code=201,
                         ua="scheduler", ips=("10.0.0.10",), gap=gap()))
    return out


def ep_helm_upgrade():
    """bob runs `helm upgrade payments` (benign: helm release storage is excluded)."""
    return [
        event(clock, BOB, "list", "secrets", "payments", query="labelSelector=name%3Dpayments%2Cowner%3Dhelm",
              ua="helm", ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "get", "secrets", "payments", "sh.helm.release.v1.payments.v12", ua="helm",
              ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "patch", "deployments", "payments", "payments-api", level="Request", ua="helm",
              ips=("10.8.0.35",), req={"spec": {"replicas": 3}}, gap=gap()),
        event(clock, BOB, "create", "secrets", "payments", "sh.helm.release.v1.payments.v13", code=201, ua="helm",
              ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "delete", "secrets", "payments", "sh.helm.release.v1.payments.v3", ua="helm",
              ips=("10.8.0.35",), gap=gap()),
    ]


def ep_kubelet_restart():
    """worker-2 restarts its kubelet: node create answers 409, then status patch (benign)."""
    return [
        event(clock, node("worker-2"), "create", "nodes", name="worker-2", code=409, ua="kubelet", ips=("10.0.0.12",),
              reason="", message='nodes "worker-2" already exists', gap=gap()),
        event(clock, node("worker-2"), "patch", "nodes", name="worker-2", sub="status", ua="kubelet",
              ips=("10.0.0.12",), reason="", gap=gap()),
    ]


MAL_IP = ("198.51.100.23",)


def ep_anonymous_probe():
    return [
        event(clock, ANON, "list", "configmaps", "kube-system", ua="scanner", ips=MAL_IP,
              reason='RBAC: allowed by ClusterRoleBinding "legacy-public-read" of ClusterRole "view" to Group "system:unauthenticated"',
              gap=gap()),
        forbidden(clock, ANON, "list", "secrets", ua="scanner", ips=MAL_IP, gap=gap()),
    ]


def ep_mallory_recon():
    return [
        event(clock, MALLORY, "create", "selfsubjectrulesreviews", code=201, ips=MAL_IP, gap=gap()),
        forbidden(clock, MALLORY, "list", "nodes", ips=MAL_IP, gap=gap()),
        event(clock, MALLORY, "get", "secrets", "payments", "db-credentials", ips=MAL_IP, gap=gap()),
        forbidden(clock, MALLORY, "get", "secrets", "kube-system", "bootstrap-token-9x2kf1", ips=MAL_IP, gap=gap()),
    ]


STREAMS = {}


def stream_open(key, user, ns, pod, sub, query, ips):
    ev = event(clock, user, "create", "pods", ns, pod, sub, stage="ResponseStarted", code=101, level="Request",
               query=query, ips=ips, gap=gap())
    STREAMS[key] = ev
    return ev


def stream_close(key):
    """The ResponseComplete event of a stream opened earlier (same auditID)."""
    ev = dict(STREAMS.pop(key))
    t = clock.advance(gap())
    ev["stage"] = "ResponseComplete"
    ev["stageTimestamp"] = fmt(t)
    return ev


def ep_mallory_exec():
    q = "command=sh&command=-c&command=env&container=app&stdin=true&stdout=true&tty=true"
    return [stream_open("exec", MALLORY, "payments", "payments-api-6c8d9f7b5-k2m4n", "exec", q, MAL_IP)]


def ep_mallory_exec_end():
    return [stream_close("exec")]


def ep_mallory_persistence():
    return [
        event(clock, MALLORY, "create", "serviceaccounts", "kube-system", "kube-dns-helper", code=201, level="Request",
              req={"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "kube-dns-helper", "namespace": "kube-system"}},
              ips=MAL_IP, gap=gap()),
        event(clock, MALLORY, "create", "clusterrolebindings", name="kube-dns-helper", code=201, level="Request",
              req=binding_obj("ClusterRoleBinding", "kube-dns-helper", "ClusterRole", "cluster-admin",
                              [subj_sa("kube-system", "kube-dns-helper")]), ips=MAL_IP, gap=gap()),
        event(clock, MALLORY, "create", "serviceaccounts", "kube-system", "kube-dns-helper", "token", code=201,
              level="Request", req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                    "spec": {"expirationSeconds": 86400}}, ips=MAL_IP, gap=gap()),
        event(clock, MALLORY, "patch", "clusterroles", name="system:node", level="Request",
              req={"rules": [rule([""], ["nodes", "pods", "secrets"], ["get", "list", "watch"])]}, ips=MAL_IP, gap=gap()),
    ]


def ep_helper_escape():
    """The new kube-system identity starts a node-takeover pod."""
    spec = pod_spec([container("dns-cache", "docker.io/library/alpine:3.19", privileged=True,
                               command=["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh"],
                               mounts=[{"name": "host", "mountPath": "/host"}])],
                    host_network=True, host_pid=True, volumes=[hostpath("host", "/")], node_name="worker-3",
                    sa_name="kube-dns-helper")
    return [pod_create(clock, HELPER, "kube-system", spec, name="kube-dns-cache-worker-3",
                       ua="python", ips=MAL_IP, gap=gap())]


def ep_ci_rbac():
    return [
        event(clock, CI, "create", "clusterroles", name="ci-deployer", code=201, level="Request", ua="python",
              ips=("10.244.2.60",), req=role_obj("ClusterRole", "ci-deployer", [rule(["*"], ["*"], ["*"])]), gap=gap()),
        event(clock, CI, "create", "roles", "ci", "ci-debug", code=201, level="Request", ua="python",
              ips=("10.244.2.60",), req=role_obj("Role", "ci-debug", [rule([""], ["pods"], ["get", "list"]),
                                                                      rule([""], ["pods/exec"], ["create"])], ns="ci"),
              gap=gap()),
    ]


def ep_bob_changes():
    return [
        event(clock, BOB, "create", "namespaces", name="load-test", code=201, level="Request",
              req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "load-test"}}, ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "create", "services", "shop", "frontend-debug", code=201, level="Request",
              req=service_obj("shop", "frontend-debug", "NodePort", ((80, 8080),)), ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "create", "configmaps", "shop", "checkout-config", code=201, level="Request",
              req=configmap_obj("shop", "checkout-config", {"STRIPE_ENDPOINT": "https://api.stripe.com",
                                                            "SMTP_PASSWORD": "Winter2024!"}),
              ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "create", "ingresses", "shop", "frontend-debug", code=201, level="Request",
              req=ingress_obj("shop", "frontend-debug", "debug.shop.example.com", "frontend-debug"),
              ips=("10.8.0.35",), gap=gap()),
        event(clock, BOB, "create", "roles", "shop", "secret-reader", code=201, level="Request",
              req=role_obj("Role", "secret-reader", [rule([""], ["secrets"], ["get"])], ns="shop"),
              ips=("10.8.0.35",), gap=gap()),
    ]


def ep_bob_cleanup():
    return [event(clock, BOB, "delete", "namespaces", name="load-test", ips=("10.8.0.35",), gap=gap())]


def ep_alice_debug():
    return [
        event(clock, ALICE, "patch", "pods", "shop", "cart-5b8f7c9d6-tq4lm", "ephemeralcontainers", level="Request",
              req={"spec": {"ephemeralContainers": [{"name": "debugger-7tq9z", "image": "docker.io/library/busybox:1.36",
                                                     "targetContainerName": "cart", "stdin": True, "tty": True}]}},
              ips=("10.8.0.21",), gap=gap()),
        stream_open("pf", ALICE, "payments", "postgres-0", "portforward", "ports=5432", ("10.8.0.21",)),
    ]


def ep_alice_debug_end():
    return [stream_close("pf")]


def ep_node_join():
    return [
        event(clock, node("worker-4"), "create", "nodes", name="worker-4", code=201, ua="kubelet", ips=("10.0.0.14",),
              reason="", gap=gap()),
        forbidden(clock, node("worker-9"), "create", "nodes", name="worker-9", ua="kubelet", ips=("10.0.7.99",), gap=gap()),
    ]


# minute -> episode, in order
SCRIPT = [
    (12, ep_rollout), (25, ep_anonymous_probe), (38, ep_helm_upgrade), (52, ep_mallory_recon),
    (70, ep_mallory_exec), (84, ep_mallory_exec_end), (88, ep_kubelet_restart), (100, ep_mallory_persistence),
    (118, ep_helper_escape), (135, ep_ci_rbac), (150, ep_bob_changes), (170, ep_alice_debug),
    (190, ep_node_join), (205, ep_alice_debug_end), (225, ep_bob_cleanup),
]
MALFORMED_AT = 218  # background slot before which a truncated line is written
EVENTLIST_AT = 60   # background slot whose next 3 events go out as one EventList line
SLOTS = 240

lines = []
script = dict(SCRIPT)
slot = 0
while slot < SLOTS:
    if slot in script:
        for ev in script[slot]():
            lines.append(dumps(ev))
    if slot == MALFORMED_AT:
        cut = dumps(background())
        lines.append(cut[: len(cut) // 2])
    if slot == EVENTLIST_AT:
        items = [background() for _ in range(3)]
        lines.append(json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items},
                                separators=(",", ":")))
    lines.append(dumps(background()))
    slot += 1

with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
print(len(lines), "lines")
