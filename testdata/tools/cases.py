"""Per-rule test events for testdata/default_rules/ (deterministic)."""
import os
import re
import sys

from lib import *  # noqa: F401,F403

OUT = sys.argv[1]

CASES = {}
clock = Clock("2024-06-03T08:00:00+00:00")

ALICE = human("alice@example.com")
BOB = human("bob@example.com", ("platform-team",))
MALLORY = human("mallory")
ADMIN = human("kubernetes-admin", ("kubeadm:cluster-admins",))
CI = sa("ci", "runner")
ARGO = sa("argocd", "argocd-application-controller")
RS_CTRL = sa("kube-system", "replicaset-controller")
DS_CTRL = sa("kube-system", "daemon-set-controller")
NS_CTRL = sa("kube-system", "namespace-controller")
AGG_CTRL = sa("kube-system", "clusterrole-aggregation-controller")
CERTMGR = sa("cert-manager", "cert-manager")
KUBELET = node("worker-1")
APISERVER = sysuser("system:apiserver", ("system:masters", "system:authenticated"))
KCM = sysuser("system:kube-controller-manager")


def case(rule, pos, neg):
    assert rule not in CASES, rule
    CASES[rule] = (pos, neg)


def nginx(privileged=None):
    return container("web", "docker.io/library/nginx:1.25.4", privileged=privileged, ports=[80])


# --- K8s Anonymous Request Allowed
case("K8s Anonymous Request Allowed", [
    event(clock, ANON, "list", "configmaps", "kube-system", ua="curl", ips=("203.0.113.7",),
          reason='RBAC: allowed by ClusterRoleBinding "legacy-public-read" of ClusterRole "view" to Group "system:unauthenticated"'),
    event(clock, ANON, "get", path="/apis", ua="scanner", ips=("198.51.100.23",),
          reason='RBAC: allowed by ClusterRoleBinding "system:discovery-anon" of ClusterRole "system:discovery" to Group "system:unauthenticated"'),
    event(clock, ANON, "get", "pods", "default", "web-0", ua="curl", ips=("203.0.113.7",)),
], [
    event(clock, ANON, "get", path="/readyz?verbose", ua="kubelet", ips=("10.0.0.11",),
          reason='RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"'),
    event(clock, ANON, "get", path="/livez/ping", ua="kubelet", ips=("10.0.0.11",)),
    event(clock, ANON, "get", path="/healthz", ua="curl", ips=("10.0.0.12",)),
    event(clock, ANON, "get", path="/version", ua="curl", ips=("10.0.0.12",)),
    event(clock, ANON, "get", path="/.well-known/openid-configuration", ua="curl", ips=("10.0.0.12",)),
    forbidden(clock, ANON, "list", "secrets", ua="scanner", ips=("198.51.100.23",)),
    event(clock, ALICE, "list", "configmaps", "kube-system"),
    event(clock, ANON, "list", "configmaps", "kube-system", stage="ResponseStarted", ua="curl"),
])

# --- K8s Request Forbidden
case("K8s Request Forbidden", [
    forbidden(clock, MALLORY, "list", "nodes"),
    forbidden(clock, CI, "create", "clusterrolebindings", ua="python"),
    forbidden(clock, ANON, "list", "namespaces", ua="scanner", ips=("198.51.100.23",)),
    event(clock, ALICE, "create", "pods", "payments", "debug", code=403, level="Request",
          req=pod_obj("payments", pod_spec([nginx(True)]), name="debug"),
          message='pods "debug" is forbidden: violates PodSecurity "baseline:latest": privileged (container "web" must not set securityContext.privileged=true)'),
], [
    event(clock, RS_CTRL, "create", "pods", "payments", code=403, ua="kcm",
          message='pods "api-7d9c-x" is forbidden: violates PodSecurity "baseline:latest"'),
    forbidden(clock, KUBELET, "get", "secrets", "payments", "db-credentials", ua="kubelet"),
    forbidden(clock, MALLORY, "get", "secrets", "payments", "db-credentials"),
    forbidden(clock, sysuser("eks:node-manager"), "list", "configmaps", "kube-system"),
    event(clock, MALLORY, "list", "nodes"),
    event(clock, MALLORY, "get", "pods", "default", "nope", code=404),
])

# --- K8s Privileged Container Created
case("K8s Privileged Container Created", [
    pod_create(clock, RS_CTRL, "default", pod_spec([nginx(True)]), generate="nginx-5cdcc99dbf-", ua="kcm"),
    pod_create(clock, ALICE, "payments", pod_spec(
        [container("app", "ghcr.io/example/payments:2.3.1")],
        init=[container("setup", "docker.io/library/busybox:1.36", privileged=True, command=["sh", "-c", "sysctl -w net.core.somaxconn=4096"])]),
        name="payments-api"),
    pod_create(clock, DS_CTRL, "kube-system", pod_spec(
        [container("calico-node", "docker.io/calico/node:v3.27.3", privileged=True)],
        init=[container("fetch", "docker.io/library/alpine:3.19", privileged=True)]),
        generate="calico-node-", ua="kcm"),
    event(clock, ALICE, "patch", "pods", "payments", "payments-api", "ephemeralcontainers",
          level="Request", req={"spec": {"ephemeralContainers": [
              {"name": "debugger-x7k2p", "image": "docker.io/library/busybox:1.36", "stdin": True, "tty": True,
               "securityContext": {"privileged": True}}]}}),
], [
    pod_create(clock, RS_CTRL, "default", pod_spec([nginx()]), generate="nginx-5cdcc99dbf-", ua="kcm"),
    pod_create(clock, RS_CTRL, "default", pod_spec([nginx(False)]), generate="nginx-5cdcc99dbf-", ua="kcm"),
    pod_create(clock, DS_CTRL, "kube-system", pod_spec(
        [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.3", privileged=True)], host_network=True),
        generate="kube-proxy-", ua="kcm"),
    pod_create(clock, ALICE, "payments", pod_spec([nginx(True)]), name="priv", code=403),
    event(clock, ALICE, "patch", "pods", "payments", "payments-api", "ephemeralcontainers",
          level="Request", req={"spec": {"ephemeralContainers": [
              {"name": "debugger-q2w3e", "image": "docker.io/library/busybox:1.36", "stdin": True, "tty": True}]}}),
    event(clock, ALICE, "update", "pods", "payments", "payments-api", level="Request",
          req=pod_obj("payments", pod_spec([nginx(True)]), name="payments-api")),
])

# --- host namespaces
case("K8s Pod Using Host Network Created", [
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_network=True), name="netshoot"),
    pod_create(clock, CI, "ci", pod_spec([container("probe", "docker.io/nicolaka/netshoot:v0.12")], host_network=True), generate="probe-", ua="python"),
], [
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_network=False), name="web"),
    pod_create(clock, ALICE, "default", pod_spec([nginx()]), name="web-2"),
    pod_create(clock, DS_CTRL, "kube-system", pod_spec(
        [container("calico-node", "docker.io/calico/node:v3.27.3", privileged=True)],
        init=[container("install-cni", "docker.io/calico/cni:v3.27.3")], host_network=True),
        generate="calico-node-", ua="kcm"),
    event(clock, ALICE, "get", "pods", "default", "netshoot"),
    pod_create(clock, node("cp-1"), "kube-system", pod_spec(
        [container("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.29.3")], host_network=True,
        volumes=[hostpath("k8s-certs", "/etc/kubernetes/pki", "DirectoryOrCreate")]),
        name="kube-apiserver-cp-1", ua="kubelet"),
])

case("K8s Pod Using Host PID Created", [
    pod_create(clock, ALICE, "default", pod_spec([container("sh", "docker.io/library/alpine:3.19", command=["nsenter", "-t", "1", "-a", "sh"])], host_pid=True), name="nsenter"),
], [
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_pid=False), name="web"),
    pod_create(clock, DS_CTRL, "monitoring", pod_spec(
        [container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.0")], host_pid=True, host_network=True,
        volumes=[hostpath("proc", "/proc"), hostpath("sys", "/sys"), hostpath("root", "/")]),
        generate="node-exporter-", ua="kcm"),
])

case("K8s Pod Using Host IPC Created", [
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_ipc=True), name="shm-reader"),
], [
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_ipc=False), name="web"),
    pod_create(clock, ALICE, "default", pod_spec([nginx()], host_pid=True), name="web-pid", code=422),
])

# --- sensitive hostPath
case("K8s Pod Mounting Sensitive Host Path Created", [
    pod_create(clock, CI, "ci", pod_spec([container("dind", "docker.io/library/docker:26.0", mounts=[{"name": "sock", "mountPath": "/var/run/docker.sock"}])],
                                         volumes=[hostpath("sock", "/var/run/docker.sock", "Socket")]), generate="build-", ua="python"),
    pod_create(clock, MALLORY, "default", pod_spec([container("sh", "docker.io/library/alpine:3.19")],
                                                   volumes=[hostpath("data", "/data"), hostpath("host", "/")]), name="rootfs"),
    pod_create(clock, MALLORY, "default", pod_spec([container("sh", "docker.io/library/alpine:3.19")],
                                                   volumes=[hostpath("pki", "/etc/kubernetes/pki", "Directory")]), name="pki"),
], [
    pod_create(clock, DS_CTRL, "logging", pod_spec([container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.3")],
                                                   volumes=[hostpath("varlog", "/var/log")]), generate="fluent-bit-", ua="kcm"),
    pod_create(clock, ALICE, "default", pod_spec([nginx()], volumes=[hostpath("certs", "/etc/ssl/certs")]), name="web-certs"),
    pod_create(clock, DS_CTRL, "falco", pod_spec([container("falco", "docker.io/falcosecurity/falco:0.38.0", privileged=True)],
                                                 volumes=[hostpath("containerd", "/run/containerd/containerd.sock"), hostpath("proc", "/proc")]),
               generate="falco-", ua="kcm"),
    pod_create(clock, ALICE, "default", pod_spec([nginx()], volumes=[{"name": "tmp", "emptyDir": {}}]), name="web-tmp"),
    pod_create(clock, node("cp-1"), "kube-system", pod_spec(
        [container("etcd", "registry.k8s.io/etcd:3.5.12-0")], host_network=True,
        volumes=[hostpath("etcd-certs", "/etc/kubernetes/pki/etcd", "DirectoryOrCreate"),
                 hostpath("etcd-data", "/var/lib/etcd", "DirectoryOrCreate")]),
        name="etcd-cp-1", ua="kubelet"),
])

# --- system namespaces
case("K8s Pod Created in System Namespace", [
    pod_create(clock, MALLORY, "kube-system", pod_spec([container("kube-sync", "docker.io/library/alpine:3.19", command=["sleep", "infinity"])]), name="kube-sync"),
    pod_create(clock, RS_CTRL, "kube-system", pod_spec([container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1"),
                                                        container("helper", "ghcr.io/unknown/helper:latest")]), generate="coredns-76f75df574-", ua="kcm"),
    pod_create(clock, ALICE, "kube-public", pod_spec([container("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1")],
                                                     init=[container("init", "docker.io/library/busybox:1.36")]), name="ms"),
], [
    pod_create(clock, RS_CTRL, "kube-system", pod_spec([container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1")]), generate="coredns-76f75df574-", ua="kcm"),
    pod_create(clock, DS_CTRL, "kube-system", pod_spec([container("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.3", privileged=True)], host_network=True),
               generate="kube-proxy-", ua="kcm"),
    pod_create(clock, node("cp-1"), "kube-system", pod_spec([container("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.29.3")], host_network=True),
               name="kube-apiserver-cp-1", ua="kubelet"),
    pod_create(clock, MALLORY, "default", pod_spec([container("sh", "docker.io/library/alpine:3.19")]), name="sh"),
    event(clock, MALLORY, "create", "pods", "kube-system", "kube-sync2", code=201),
])

# --- exec / attach
case("K8s Pod Exec or Attach", [
    event(clock, ALICE, "create", "pods", "payments", "payments-api", "exec", stage="ResponseStarted", code=101, level="Request",
          query="command=sh&command=-c&command=id&container=app&stdin=true&stdout=true&tty=true"),
    event(clock, MALLORY, "create", "pods", "default", "web-0", "attach", stage="ResponseStarted", code=101, level="Request",
          query="container=web&stdin=true&stdout=true&tty=true"),
    event(clock, BOB, "get", "pods", "payments", "payments-api", "exec", stage="ResponseStarted", code=101, level="Request",
          query="command=%2Fbin%2Fbash&container=app&stdin=true&stdout=true&tty=true", ua="python"),
], [
    event(clock, ALICE, "create", "pods", "payments", "payments-api", "exec", code=101, level="Request",
          query="command=sh&container=app&stdin=true&stdout=true&tty=true"),
    event(clock, ALICE, "create", "pods", "payments", "payments-api", "portforward", stage="ResponseStarted", code=101, level="Request",
          query="ports=5432"),
    event(clock, ALICE, "get", "pods", "payments", "payments-api", "log", query="container=app&tailLines=100"),
    event(clock, ALICE, "get", "pods", "payments", "payments-api"),
])

case("K8s Pod Port-Forward", [
    event(clock, ALICE, "create", "pods", "payments", "postgres-0", "portforward", code=101, level="Request", query="ports=5432"),
    event(clock, MALLORY, "get", "pods", "monitoring", "grafana-6c5b9c7d8-h2k9x", "portforward", code=101, level="Request"),
], [
    event(clock, ALICE, "create", "pods", "payments", "postgres-0", "portforward", stage="ResponseStarted", code=101, level="Request", query="ports=5432"),
    event(clock, ALICE, "create", "pods", "payments", "postgres-0", "exec", code=101, level="Request", query="command=psql"),
    event(clock, ALICE, "get", "services", "payments", "postgres", "proxy", path="/api/v1/namespaces/payments/services/postgres/proxy/"),
])

case("K8s Ephemeral Container Added", [
    event(clock, ALICE, "patch", "pods", "payments", "payments-api", "ephemeralcontainers", level="Request",
          req={"spec": {"ephemeralContainers": [{"name": "debugger-8kq2v", "image": "docker.io/library/busybox:1.36",
                                                 "targetContainerName": "app", "stdin": True, "tty": True}]}}),
    event(clock, BOB, "update", "pods", "default", "web-0", "ephemeralcontainers", level="Request",
          req=pod_obj("default", dict(pod_spec([nginx()]), ephemeralContainers=[
              {"name": "dbg", "image": "docker.io/nicolaka/netshoot:v0.12"}]), name="web-0")),
], [
    event(clock, ALICE, "patch", "pods", "payments", "payments-api", level="Request",
          req={"metadata": {"labels": {"debug": "true"}}}),
    event(clock, ALICE, "patch", "pods", "payments", "payments-api", "ephemeralcontainers", level="Request", code=403,
          decision="forbid", req={"spec": {"ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}}),
    event(clock, ALICE, "get", "pods", "payments", "payments-api", "ephemeralcontainers"),
])

# --- services / ingresses
case("K8s NodePort Service Created", [
    event(clock, BOB, "create", "services", "shop", "frontend-debug", code=201, level="Request",
          req=service_obj("shop", "frontend-debug", "NodePort", ((80, 8080), (443, 8443)))),
], [
    event(clock, BOB, "create", "services", "shop", "frontend", code=201, level="Request", req=service_obj("shop", "frontend")),
    event(clock, BOB, "create", "services", "shop", "frontend-lb", code=201, level="Request", req=service_obj("shop", "frontend-lb", "LoadBalancer")),
    event(clock, BOB, "patch", "services", "shop", "frontend", level="Request", req={"spec": {"type": "NodePort"}}),
    event(clock, BOB, "create", "services", "shop", "frontend-np", code=422, level="Request",
          req=service_obj("shop", "frontend-np", "NodePort", ((80, 99999),))),
])

case("K8s Ingress Without TLS Created", [
    event(clock, BOB, "create", "ingresses", "shop", "frontend", code=201, level="Request",
          req=ingress_obj("shop", "frontend", "shop.example.com", "frontend")),
    event(clock, BOB, "create", "ingresses", "shop", "frontend-2", code=201, level="Request",
          req=ingress_obj("shop", "frontend-2", "www.example.com", "frontend", tls=[])),
], [
    event(clock, BOB, "create", "ingresses", "shop", "frontend-tls", code=201, level="Request",
          req=ingress_obj("shop", "frontend-tls", "shop.example.com", "frontend",
                          tls=[{"hosts": ["shop.example.com"], "secretName": "shop-tls"}])),
    event(clock, BOB, "create", "ingresses", "shop", "frontend-meta", code=201),
    event(clock, BOB, "update", "ingresses", "shop", "frontend", level="Request",
          req=ingress_obj("shop", "frontend", "shop.example.com", "frontend")),
])

# --- configmaps
case("K8s ConfigMap With Credentials Written", [
    event(clock, BOB, "create", "configmaps", "shop", "app-config", code=201, level="Request",
          req=configmap_obj("shop", "app-config", {"DB_HOST": "postgres.shop", "DB_PASSWORD": "hunter2"})),
    event(clock, CI, "patch", "configmaps", "ci", "aws", level="Request", ua="python",
          req={"data": {"credentials": "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"}}),
    event(clock, BOB, "update", "configmaps", "shop", "tls-material", level="Request",
          req=configmap_obj("shop", "tls-material", {"key.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----\n"})),
], [
    event(clock, BOB, "create", "configmaps", "shop", "feature-flags", code=201, level="Request",
          req=configmap_obj("shop", "feature-flags", {"new_checkout": "true", "banner": "Summer sale"})),
    event(clock, sa("kube-system", "root-ca-cert-publisher"), "create", "configmaps", "shop", "kube-root-ca.crt", code=201, level="Request", ua="kcm",
          req=configmap_obj("shop", "kube-root-ca.crt", {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC5z...\n-----END CERTIFICATE-----\n"})),
    event(clock, BOB, "get", "configmaps", "shop", "app-config"),
    event(clock, BOB, "create", "configmaps", "shop", "dup", code=409, level="Request",
          req=configmap_obj("shop", "dup", {"password": "x"})),
])

# --- secrets
case("K8s Secret Accessed by Unexpected Identity", [
    event(clock, ALICE, "get", "secrets", "payments", "db-credentials"),
    event(clock, sa("default", "backup"), "list", "secrets", query="limit=500", ua="python"),
    event(clock, MALLORY, "watch", "secrets", "payments", query="watch=true&resourceVersion=81723"),
], [
    event(clock, KUBELET, "get", "secrets", "payments", "db-credentials", ua="kubelet",
          reason=""),
    event(clock, sa("kube-system", "generic-garbage-collector"), "list", "secrets", query="limit=500", ua="kcm"),
    event(clock, CERTMGR, "get", "secrets", "shop", "shop-tls", ua="certmanager"),
    event(clock, sa("monitoring", "kube-state-metrics"), "watch", "secrets", query="allowWatchBookmarks=true&resourceVersion=80211&timeout=7m41s&watch=true", ua="ksm"),
    event(clock, ALICE, "get", "secrets", "shop", "sh.helm.release.v1.frontend.v7", ua="helm"),
    event(clock, ALICE, "list", "secrets", "shop", query="labelSelector=name%3Dfrontend%2Cowner%3Dhelm", ua="helm"),
    forbidden(clock, ALICE, "get", "secrets", "kube-system", "bootstrap-token-abcdef"),
    event(clock, ALICE, "get", "configmaps", "payments", "db-credentials"),
    event(clock, ALICE, "create", "secrets", "payments", "api-key", code=201),
])

case("K8s Secret Access Forbidden", [
    forbidden(clock, MALLORY, "get", "secrets", "kube-system", "bootstrap-token-abcdef"),
    forbidden(clock, ANON, "list", "secrets", ua="scanner", ips=("198.51.100.23",)),
], [
    event(clock, MALLORY, "get", "secrets", "default", "mallory-token"),
    forbidden(clock, KUBELET, "get", "secrets", "payments", "db-credentials", ua="kubelet"),
    event(clock, MALLORY, "get", "secrets", "default", "missing", code=404),
    forbidden(clock, MALLORY, "create", "secrets", "kube-system"),
])

case("K8s Service Account Token Requested", [
    event(clock, ALICE, "create", "serviceaccounts", "ci", "runner", "token", code=201, level="Request",
          req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
               "spec": {"audiences": None, "expirationSeconds": 3600, "boundObjectRef": None}, "status": {"token": "", "expirationTimestamp": None}}),
], [
    event(clock, KUBELET, "create", "serviceaccounts", "payments", "default", "token", code=201, ua="kubelet"),
    event(clock, ALICE, "create", "serviceaccounts", "ci", "deployer", code=201),
    forbidden(clock, MALLORY, "create", "serviceaccounts", "kube-system", "coredns", "token"),
])

# --- RBAC
case("K8s Cluster-Admin Binding Created", [
    event(clock, MALLORY, "create", "clusterrolebindings", name="ci-admin", code=201, level="Request",
          req=binding_obj("ClusterRoleBinding", "ci-admin", "ClusterRole", "cluster-admin", [subj_sa("ci", "runner")])),
    event(clock, BOB, "create", "rolebindings", "payments", "payments-admins", code=201, level="Request",
          req=binding_obj("RoleBinding", "payments-admins", "ClusterRole", "cluster-admin",
                          [subj_group("payments-oncall"), subj_user("carol@example.com")], ns="payments")),
], [
    event(clock, BOB, "create", "rolebindings", "payments", "payments-viewers", code=201, level="Request",
          req=binding_obj("RoleBinding", "payments-viewers", "ClusterRole", "view", [subj_group("payments-dev")], ns="payments")),
    event(clock, APISERVER, "create", "clusterrolebindings", name="cluster-admin", code=201, level="Request", ua="apiserver",
          req=binding_obj("ClusterRoleBinding", "cluster-admin", "ClusterRole", "cluster-admin", [subj_group("system:masters")])),
    event(clock, CI, "create", "clusterrolebindings", name="ci-admin", code=403, decision="forbid", level="Request",
          req=binding_obj("ClusterRoleBinding", "ci-admin", "ClusterRole", "cluster-admin", [subj_sa("ci", "runner")])),
    event(clock, MALLORY, "delete", "clusterrolebindings", name="ci-admin"),
])

WILD = [rule(["*"], ["*"], ["*"])]
case("K8s Role With Wildcard Created", [
    event(clock, MALLORY, "create", "clusterroles", name="superuser", code=201, level="Request",
          req=role_obj("ClusterRole", "superuser", WILD)),
    event(clock, BOB, "patch", "roles", "shop", "deployer", level="Request",
          req={"rules": [rule(["apps"], ["*"], ["get", "list"])]}),
    event(clock, BOB, "create", "roles", "shop", "operator", code=201, level="Request",
          req=role_obj("Role", "operator", [rule([""], ["configmaps"], ["get"]), rule(["apps"], ["deployments"], ["*"])], ns="shop")),
], [
    event(clock, BOB, "create", "roles", "shop", "reader", code=201, level="Request",
          req=role_obj("Role", "reader", [rule([""], ["pods", "services"], ["get", "list", "watch"])], ns="shop")),
    event(clock, AGG_CTRL, "update", "clusterroles", name="admin", level="Request", ua="kcm",
          req=role_obj("ClusterRole", "admin", WILD)),
    event(clock, BOB, "create", "clusterroles", name="crd-reader", code=201, level="Request",
          req=role_obj("ClusterRole", "crd-reader", [rule(["*"], ["customresourcedefinitions"], ["get", "list"])])),
    event(clock, MALLORY, "get", "clusterroles", name="superuser"),
])

case("K8s Role With Write Verbs Created", [
    event(clock, BOB, "create", "roles", "shop", "deployer", code=201, level="Request",
          req=role_obj("Role", "deployer", [rule(["apps"], ["deployments"], ["get", "list", "patch"])], ns="shop")),
    event(clock, ARGO, "create", "clusterroles", name="cleanup", code=201, level="Request", ua="argocd",
          req=role_obj("ClusterRole", "cleanup", [rule(["batch"], ["jobs"], ["list", "deletecollection"])])),
], [
    event(clock, BOB, "create", "roles", "shop", "reader", code=201, level="Request",
          req=role_obj("Role", "reader", [rule([""], ["pods"], ["get", "list", "watch"])], ns="shop")),
    event(clock, BOB, "update", "roles", "shop", "deployer", level="Request",
          req=role_obj("Role", "deployer", [rule(["apps"], ["deployments"], ["get", "update"])], ns="shop")),
    event(clock, KCM, "create", "roles", "kube-system", "system::leader-locking-kube-controller-manager", code=201, level="Request",
          req=role_obj("Role", "system::leader-locking-kube-controller-manager", [rule([""], ["configmaps"], ["watch", "update"])], ns="kube-system")),
])

case("K8s Role With Pod Exec Created", [
    event(clock, BOB, "create", "roles", "shop", "debugger", code=201, level="Request",
          req=role_obj("Role", "debugger", [rule([""], ["pods"], ["get"]), rule([""], ["pods/exec"], ["create"])], ns="shop")),
    event(clock, MALLORY, "patch", "clusterroles", name="view", level="Request",
          req={"rules": [rule([""], ["pods", "pods/attach"], ["get", "create"])]}),
], [
    event(clock, BOB, "create", "roles", "shop", "logs", code=201, level="Request",
          req=role_obj("Role", "logs", [rule([""], ["pods", "pods/log"], ["get", "list"])], ns="shop")),
    event(clock, AGG_CTRL, "update", "clusterroles", name="edit", level="Request", ua="kcm",
          req=role_obj("ClusterRole", "edit", [rule([""], ["pods/exec", "pods/attach"], ["create", "get"])])),
])

case("K8s Role With Secrets Access Created", [
    event(clock, BOB, "create", "roles", "shop", "secret-reader", code=201, level="Request",
          req=role_obj("Role", "secret-reader", [rule([""], ["secrets"], ["get", "list"])], ns="shop")),
], [
    event(clock, BOB, "create", "roles", "shop", "cm-reader", code=201, level="Request",
          req=role_obj("Role", "cm-reader", [rule([""], ["configmaps"], ["get", "list"])], ns="shop")),
    event(clock, BOB, "update", "roles", "shop", "secret-reader", level="Request",
          req=role_obj("Role", "secret-reader", [rule([""], ["secrets"], ["get"])], ns="shop")),
    event(clock, CERTMGR, "create", "roles", "cert-manager", "cert-manager:leaderelection", code=403, decision="forbid", level="Request",
          req=role_obj("Role", "cert-manager:leaderelection", [rule([""], ["secrets"], ["get"])], ns="cert-manager")),
])

case("K8s System RBAC Object Changed", [
    event(clock, MALLORY, "patch", "clusterroles", name="system:node", level="Request",
          req={"rules": [rule(["*"], ["*"], ["*"])]}),
    event(clock, MALLORY, "delete", "clusterrolebindings", name="system:kube-dns"),
    event(clock, MALLORY, "create", "clusterroles", name="system:metrics-aggregator", code=201, level="Request",
          req=role_obj("ClusterRole", "system:metrics-aggregator", [rule([""], ["nodes/proxy"], ["get"])])),
], [
    event(clock, APISERVER, "update", "clusterroles", name="system:node", level="Request", ua="apiserver",
          req=role_obj("ClusterRole", "system:node", [rule([""], ["nodes"], ["get"])])),
    event(clock, ADMIN, "patch", "clusterroles", name="system:coredns", level="Request",
          req={"rules": [rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])]}),
    event(clock, ALICE, "patch", "clusterroles", name="edit", level="Request", req={"metadata": {"labels": {"team": "x"}}}),
    event(clock, MALLORY, "get", "clusterroles", name="system:node"),
])

case("K8s Role Created or Deleted", [
    event(clock, ALICE, "create", "roles", "shop", "reader", code=201, level="Request",
          req=role_obj("Role", "reader", [rule([""], ["pods"], ["get"])], ns="shop")),
    event(clock, BOB, "delete", "clusterroles", name="legacy-monitoring"),
], [
    event(clock, KCM, "create", "roles", "kube-system", "extension-apiserver-authentication-reader", code=201),
    event(clock, ALICE, "update", "roles", "shop", "reader", level="Request",
          req=role_obj("Role", "reader", [rule([""], ["pods"], ["get", "list"])], ns="shop")),
    event(clock, ALICE, "create", "roles", "shop", "reader", code=409),
])

case("K8s Role Binding Created or Deleted", [
    event(clock, ALICE, "create", "rolebindings", "shop", "reader", code=201, level="Request",
          req=binding_obj("RoleBinding", "reader", "Role", "reader", [subj_user("dave@example.com")], ns="shop")),
    event(clock, ARGO, "delete", "clusterrolebindings", name="old-operator", ua="argocd"),
], [
    event(clock, APISERVER, "create", "clusterrolebindings", name="system:public-info-viewer", code=201, ua="apiserver"),
    event(clock, ALICE, "patch", "rolebindings", "shop", "reader", level="Request",
          req={"subjects": [subj_user("erin@example.com")]}),
    event(clock, ALICE, "delete", "rolebindings", "shop", "gone", code=404),
])

# --- service accounts
case("K8s Service Account Created in System Namespace", [
    event(clock, MALLORY, "create", "serviceaccounts", "kube-system", "kube-dns-helper", code=201),
    event(clock, CI, "create", "serviceaccounts", "kube-public", "ci-public", code=201, ua="python"),
], [
    event(clock, ADMIN, "create", "serviceaccounts", "kube-system", "coredns", code=201),
    event(clock, sa("kube-system", "service-account-controller"), "create", "serviceaccounts", "kube-system", "attachdetach-controller", code=201, ua="kcm"),
    event(clock, ALICE, "create", "serviceaccounts", "shop", "frontend", code=201),
    event(clock, MALLORY, "create", "serviceaccounts", "kube-system", "coredns", "token", code=201),
])

case("K8s Service Account Created or Deleted", [
    event(clock, ALICE, "create", "serviceaccounts", "shop", "frontend", code=201),
    event(clock, ARGO, "delete", "serviceaccounts", "shop", "legacy", ua="argocd"),
], [
    event(clock, sa("kube-system", "service-account-controller"), "create", "serviceaccounts", "shop", "default", code=201, ua="kcm"),
    event(clock, ALICE, "create", "serviceaccounts", "shop", "frontend", "token", code=201),
    event(clock, ALICE, "update", "serviceaccounts", "shop", "frontend"),
])

# --- namespaces
case("K8s Namespace Created", [
    event(clock, BOB, "create", "namespaces", name="payments-test", code=201, level="Request",
          req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "payments-test"}}),
    event(clock, ARGO, "create", "namespaces", name="shop-preview-42", code=201, ua="argocd"),
], [
    event(clock, APISERVER, "create", "namespaces", name="kube-node-lease", code=201, ua="apiserver"),
    event(clock, ADMIN, "create", "namespaces", name="default", code=201),
    event(clock, BOB, "create", "namespaces", name="shop", code=409),
    event(clock, BOB, "get", "namespaces", name="payments-test"),
])

case("K8s Namespace Deleted", [
    event(clock, BOB, "delete", "namespaces", name="payments-test"),
], [
    event(clock, NS_CTRL, "delete", "namespaces", name="shop-preview-41", ua="kcm"),
    event(clock, NS_CTRL, "update", "namespaces", name="shop-preview-41", sub="finalize", ua="kcm"),
    event(clock, BOB, "delete", "namespaces", name="does-not-exist", code=404),
])

# --- activity
case("K8s Object Created or Deleted by User", [
    event(clock, ALICE, "create", "deployments", "shop", "frontend", code=201),
    event(clock, BOB, "delete", "services", "shop", "frontend-debug"),
    event(clock, human("carol@example.com"), "create", "secrets", "payments", "stripe-key", code=201),
    event(clock, ALICE, "create", "configmaps", "shop", "banner", code=201),
    event(clock, ADMIN, "delete", "daemonsets", "monitoring", "old-agent"),
], [
    event(clock, ARGO, "create", "deployments", "shop", "frontend", code=201, ua="argocd"),
    event(clock, ALICE, "create", "pods", "shop", "tmp", code=201),
    event(clock, ALICE, "update", "deployments", "shop", "frontend"),
    event(clock, ALICE, "create", "deployments", "shop", "frontend", code=409),
    event(clock, ALICE, "update", "deployments", "shop", "frontend", sub="scale"),
    event(clock, sysuser("eks:addon-manager"), "create", "daemonsets", "kube-system", "aws-node", code=201),
    event(clock, BOB, "create", "secrets", "shop", "sh.helm.release.v1.frontend.v8", code=201, ua="helm"),
])

# --- nodes
case("K8s Node Registered", [
    event(clock, node("ip-10-0-3-17.ec2.internal"), "create", "nodes", name="ip-10-0-3-17.ec2.internal", code=201, ua="kubelet"),
], [
    event(clock, KUBELET, "create", "nodes", name="worker-1", code=409, ua="kubelet",
          message='nodes "worker-1" already exists'),
    event(clock, KUBELET, "patch", "nodes", name="worker-1", sub="status", ua="kubelet"),
    forbidden(clock, node("worker-9"), "create", "nodes", name="worker-9", ua="kubelet"),
])

case("K8s Node Registration Failed", [
    forbidden(clock, node("worker-9"), "create", "nodes", name="worker-9", ua="kubelet"),
    event(clock, human("unknown-host"), "create", "nodes", name="rogue", code=422, ua="kubelet"),
], [
    event(clock, KUBELET, "create", "nodes", name="worker-1", code=409, ua="kubelet",
          message='nodes "worker-1" already exists'),
    event(clock, node("worker-2"), "create", "nodes", name="worker-2", code=201, ua="kubelet"),
])

# --- opt-in rules
case("K8s User Not in Allow-List", [
    event(clock, ALICE, "list", "pods", "shop"),
    event(clock, ADMIN, "get", "nodes", name="worker-1"),
], [
    event(clock, CI, "list", "pods", "ci", ua="python"),
    event(clock, KUBELET, "get", "nodes", name="worker-1", ua="kubelet"),
    event(clock, sysuser("eks:node-manager"), "get", "configmaps", "kube-system", "aws-auth"),
    event(clock, ALICE, "list", "pods", "shop", stage="ResponseStarted"),
])

case("K8s Default Admin Credential Used", [
    event(clock, ADMIN, "list", "pods", "shop"),
    event(clock, human("breakglass", ("system:masters",)), "delete", "pods", "shop", "frontend-1"),
], [
    event(clock, ALICE, "list", "pods", "shop"),
    event(clock, APISERVER, "list", "namespaces", ua="apiserver"),
    event(clock, ADMIN, "list", "pods", "shop", stage="ResponseStarted"),
])

case("K8s Pod Image Not Allowed", [
    pod_create(clock, ALICE, "shop", pod_spec([nginx()]), name="web"),
    pod_create(clock, RS_CTRL, "shop", pod_spec([container("app", "ghcr.io/example/shop:1.0")], init=[container("migrate", "ghcr.io/example/shop:1.0")]),
               generate="shop-6b7f9-", ua="kcm"),
], [
    pod_create(clock, ALICE, "shop", pod_spec([nginx()]), name="web", code=403),
    event(clock, ALICE, "get", "pods", "shop", "web"),
    event(clock, KUBELET, "patch", "pods", "shop", "web", sub="status", ua="kubelet"),
])

case("K8s Audit Event", [
    event(clock, ALICE, "get", "pods", "shop", "web"),
    event(clock, ANON, "get", path="/readyz", ua="kubelet"),
], [
    event(clock, ALICE, "create", "pods", "shop", "web", "exec", stage="ResponseStarted", code=101, query="command=sh"),
    event(clock, ALICE, "get", "pods", "shop", "web", stage="RequestReceived"),
])


def slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


os.makedirs(OUT, exist_ok=True)
for name, (pos, neg) in CASES.items():
    lines = []
    for i, e in enumerate(pos, 1):
        e["auditID"] = f"pos-{i}-" + e["auditID"]
        lines.append(dumps(e))
    for i, e in enumerate(neg, 1):
        e["auditID"] = f"neg-{i}-" + e["auditID"]
        lines.append(dumps(e))
    with open(os.path.join(OUT, slug(name) + ".jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
print(len(CASES), "rules")
