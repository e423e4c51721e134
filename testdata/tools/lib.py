"""Builders for Kubernetes audit.k8s.io/v1 Event objects (deterministic)."""
import datetime
import hashlib
import json

CORE = ""

GROUPS = {
    "pods": ("", "v1"), "services": ("", "v1"), "configmaps": ("", "v1"),
    "secrets": ("", "v1"), "serviceaccounts": ("", "v1"), "namespaces": ("", "v1"),
    "nodes": ("", "v1"), "endpoints": ("", "v1"), "events": ("", "v1"),
    "persistentvolumeclaims": ("", "v1"),
    "deployments": ("apps", "v1"), "daemonsets": ("apps", "v1"),
    "statefulsets": ("apps", "v1"), "replicasets": ("apps", "v1"),
    "cronjobs": ("batch", "v1"), "jobs": ("batch", "v1"),
    "roles": ("rbac.authorization.k8s.io", "v1"),
    "clusterroles": ("rbac.authorization.k8s.io", "v1"),
    "rolebindings": ("rbac.authorization.k8s.io", "v1"),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1"),
    "ingresses": ("networking.k8s.io", "v1"),
    "leases": ("coordination.k8s.io", "v1"),
    "endpointslices": ("discovery.k8s.io", "v1"),
    "customresourcedefinitions": ("apiextensions.k8s.io", "v1"),
    "certificates": ("cert-manager.io", "v1"),
    "applications": ("argoproj.io", "v1alpha1"),
    "selfsubjectrulesreviews": ("authorization.k8s.io", "v1"),
}

KIND = {
    "pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
    "serviceaccounts": "ServiceAccount", "namespaces": "Namespace", "nodes": "Node",
    "deployments": "Deployment", "daemonsets": "DaemonSet", "statefulsets": "StatefulSet",
    "cronjobs": "CronJob", "roles": "Role", "clusterroles": "ClusterRole",
    "rolebindings": "RoleBinding", "clusterrolebindings": "ClusterRoleBinding",
    "ingresses": "Ingress", "leases": "Lease",
}

UA = {
    "kubectl": "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
    "kubelet": "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625",
    "kcm": "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/system:serviceaccount:kube-system:{}",
    "scheduler": "kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625/leader-election",
    "apiserver": "kube-apiserver/v1.29.3 (linux/amd64) kubernetes/6813625",
    "helm": "Helm/3.14.4",
    "curl": "curl/8.5.0",
    "python": "OpenAPI-Generator/29.0.0/python",
    "coredns": "coredns/v1.11.1 (linux/amd64) kubernetes/6813625",
    "argocd": "argocd-application-controller/v2.10.7 (linux/amd64) kubernetes/6813625",
    "certmanager": "cert-manager-certificates-issuing/v1.14.4 (linux/amd64) cert-manager/2a0ef53b06e183356d922cd58af2510d8885bef5",
    "ingress": "nginx-ingress-controller/v1.10.0 (linux/amd64) ingress-nginx/71f78d49f0a496c31d4c19f095469f3f23900f8a",
    "proxy": "kube-proxy/v1.29.3 (linux/amd64) kubernetes/6813625",
    "ksm": "kube-state-metrics/v2.12.0 (linux/amd64) kube-state-metrics/1c8c0e3e",
    "scanner": "python-requests/2.31.0",
}


def sa(ns, name):
    return {
        "username": f"system:serviceaccount:{ns}:{name}",
        "uid": uid("sa", ns, name),
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
    }


def node(name):
    return {"username": f"system:node:{name}", "groups": ["system:nodes", "system:authenticated"]}


def human(name, groups=("developers",)):
    return {"username": name, "groups": list(groups) + ["system:authenticated"]}


def sysuser(name, groups=("system:authenticated",)):
    return {"username": name, "groups": list(groups)}


ANON = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}


def uid(*parts):
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class Clock:
    def __init__(self, start):
        self.t = datetime.datetime.fromisoformat(start)

    def advance(self, micros):
        self.t += datetime.timedelta(microseconds=micros)
        return self.t


def fmt(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def uri_for(resource, ns=None, name=None, sub=None, query=None, path=None):
    if path is not None:
        return path
    group, version = GROUPS[resource]
    base = f"/api/{version}" if group == "" else f"/apis/{group}/{version}"
    u = base
    if ns is not None:
        u += f"/namespaces/{ns}"
    u += f"/{resource}"
    if name is not None:
        u += f"/{name}"
    if sub is not None:
        u += f"/{sub}"
    if query:
        u += "?" + query
    return u


STATUS_REASON = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    409: "AlreadyExists", 422: "Invalid",
}


def event(clock, user, verb, resource=None, ns=None, name=None, sub=None, *,
          code=200, stage="ResponseComplete", level="Metadata", query=None, path=None,
          req=None, resp=None, ua="kubectl", ips=("10.0.1.25",), decision="allow",
          reason=None, audit_id=None, message=None, gap=(150_000), latency=4_000):
    """One audit event. `gap` microseconds after the previous event."""
    completed = clock.advance(gap)
    received = completed - datetime.timedelta(microseconds=latency)
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": level,
        "auditID": audit_id or uid("ev", fmt(completed), user["username"], verb, str(resource), str(name), stage),
        "stage": stage,
        "requestURI": uri_for(resource, ns, None if (verb == "create" and sub is None) else name, sub, query, path),
        "verb": verb,
        "user": user,
        "sourceIPs": list(ips),
        "userAgent": UA.get(ua, ua),
    }
    if resource is not None:
        group, version = GROUPS[resource]
        ref = {"resource": resource}
        if ns is not None:
            ref["namespace"] = ns
        if name is not None:
            ref["name"] = name
        if group:
            ref["apiGroup"] = group
        ref["apiVersion"] = version
        if sub is not None:
            ref["subresource"] = sub
        ev["objectRef"] = ref
    if code >= 400:
        rsn = STATUS_REASON.get(code, "Failure")
        ev["responseStatus"] = {
            "metadata": {}, "status": "Failure",
            "message": message or f"{resource or 'request'} is {rsn.lower()}",
            "reason": rsn, "code": code,
        }
    else:
        ev["responseStatus"] = {"metadata": {}, "code": code}
    if req is not None:
        ev["requestObject"] = req
    if resp is not None:
        ev["responseObject"] = resp
    ev["requestReceivedTimestamp"] = fmt(received)
    ev["stageTimestamp"] = fmt(completed)
    ann = {"authorization.k8s.io/decision": decision}
    if reason is None:
        if decision == "allow":
            reason = f"RBAC: allowed by ClusterRoleBinding \"bind-{user['username'].split(':')[-1]}\""
        else:
            reason = ""
    ann["authorization.k8s.io/reason"] = reason
    ev["annotations"] = ann
    return ev


def forbidden(clock, user, verb, resource=None, ns=None, name=None, sub=None, **kw):
    u = user["username"]
    msg = f"{resource} is forbidden: User \"{u}\" cannot {verb} resource \"{resource}\""
    if ns:
        msg += f" in the namespace \"{ns}\""
    return event(clock, user, verb, resource, ns, name, sub, code=403, decision="forbid",
                 message=msg, **kw)


# ---------- object bodies ----------

def container(name, image, privileged=None, ports=None, command=None, mounts=None):
    c = {"name": name, "image": image}
    if command:
        c["command"] = command
    if ports:
        c["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in ports]
    c["resources"] = {}
    if mounts:
        c["volumeMounts"] = mounts
    if privileged is not None:
        c["securityContext"] = {"privileged": privileged}
    return c


def pod_spec(containers, init=None, host_network=None, host_pid=None, host_ipc=None,
             volumes=None, node_name=None, sa_name="default"):
    spec = {}
    if volumes:
        spec["volumes"] = volumes
    if init:
        spec["initContainers"] = init
    spec["containers"] = containers
    spec["restartPolicy"] = "Always"
    spec["serviceAccountName"] = sa_name
    if node_name:
        spec["nodeName"] = node_name
    if host_network is not None:
        spec["hostNetwork"] = host_network
    if host_pid is not None:
        spec["hostPID"] = host_pid
    if host_ipc is not None:
        spec["hostIPC"] = host_ipc
    spec["securityContext"] = {}
    return spec


def hostpath(name, path, typ=None):
    hp = {"path": path}
    if typ:
        hp["type"] = typ
    return {"name": name, "hostPath": hp}


def pod_obj(ns, spec, name=None, generate=None, labels=None, status=False):
    md = {}
    if name:
        md["name"] = name
    if generate:
        md["generateName"] = generate
    md["namespace"] = ns
    if labels:
        md["labels"] = labels
    o = {"kind": "Pod", "apiVersion": "v1", "metadata": md, "spec": spec}
    if status:
        o["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return o


def pod_create(clock, user, ns, spec, name=None, generate=None, code=201, ua="kubectl", **kw):
    """A RequestResponse pod create; the response carries the final name."""
    final = name or (generate + uid("pod", ns, generate, fmt(clock.t))[:5])
    req = pod_obj(ns, spec, name=name, generate=generate)
    resp = None
    if code < 400:
        resp = pod_obj(ns, spec, name=final, generate=generate, status=True)
        resp["metadata"]["uid"] = uid("poduid", ns, final)
    return event(clock, user, "create", "pods", ns, name, code=code, level="RequestResponse",
                 req=req, resp=resp, ua=ua, **kw)


def role_obj(kind, name, rules, ns=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": md, "rules": rules}


def rule(groups, resources, verbs):
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def binding_obj(kind, name, role_kind, role, subjects, ns=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": md,
            "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}}


def subj_user(name):
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def subj_sa(ns, name):
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def subj_group(name):
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def service_obj(ns, name, typ="ClusterIP", ports=((80, 8080),)):
    pl = []
    for p, t in ports:
        e = {"name": f"p{p}", "protocol": "TCP", "port": p, "targetPort": t}
        pl.append(e)
    return {"kind": "Service", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": typ, "selector": {"app": name}, "ports": pl}}


def configmap_obj(ns, name, data):
    return {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns}, "data": data}


def ingress_obj(ns, name, host, service, tls=None):
    spec = {"ingressClassName": "nginx"}
    if tls is not None:
        spec["tls"] = tls
    spec["rules"] = [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": service, "port": {"number": 80}}}}]}}]
    return {"kind": "Ingress", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def dumps(ev):
    return json.dumps(ev, separators=(",", ":"))
