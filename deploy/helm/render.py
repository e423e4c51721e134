#!/usr/bin/env python3
"""Render (and lint) the falco-rs chart offline with Helm's own template engine.

There is no `helm` CLI in the package registries this project can use, so this drives
Helm's Go SDK (helm.sh/helm/v4, pkg/engine and pkg/lint) through the PyPI wheel
`helm-python-sdk` (a ctypes binding to libhelm_c, which is Helm's SDK compiled as a C
library). The output matches `helm template`: documents in Helm's install order, each
preceded by a `# Source:` comment. NOTES.txt is not a manifest and is printed only with
--notes.

    pip install 'helm-python-sdk==0.2.2' 'kubernetes-validate==1.37.0'
    python3 deploy/helm/render.py deploy/helm/falco-rs -f deploy/helm/falco-rs/ci/eks-values.yaml
    python3 deploy/helm/render.py deploy/helm/falco-rs -f values.yaml --lint --format json

Exit status: 0 rendered (and linted clean), 1 a render or lint error (printed on stderr).
"""

import argparse
import json
import re
import sys

import yaml

try:
    import helm_python as helm
except ImportError:  # pragma: no cover
    sys.exit("render.py: needs the PyPI package helm-python-sdk (pip install 'helm-python-sdk==0.2.2')")

# Helm's InstallOrder (pkg/release/util/kind_sorter.go), for the kinds this chart uses.
ORDER = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
         "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
         "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
         "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
         "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
         "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
         "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"]


def deep_merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def set_value(values, expr):
    key, _, raw = expr.partition("=")
    node = values
    parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key)]
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = yaml.safe_load(raw) if raw != "" else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[], help="values file (repeatable)")
    ap.add_argument("--set", action="append", default=[], help=r"key.path=yamlvalue (repeatable; \. for a literal dot)")
    ap.add_argument("--name", default="falco-rs", help="release name")
    ap.add_argument("--namespace", default="falco", help="release namespace")
    ap.add_argument("--lint", action="store_true", help="also run Helm's linter (strict) first")
    ap.add_argument("--kube-version", default="v1.29.0", help="Capabilities.KubeVersion for lint")
    ap.add_argument("--format", choices=["yaml", "json"], default="yaml")
    ap.add_argument("--notes", action="store_true", help="print the rendered NOTES.txt instead")
    ap.add_argument("--versions", action="store_true", help="print the Helm SDK version and exit")
    a = ap.parse_args()

    if a.versions:
        print(f"helm-python-sdk helm_c {helm.helm_c_version()} helm.sh/helm/v4 {helm.helm_sdk_version()}")
        return 0

    values = {}
    for f in a.values:
        with open(f, encoding="utf-8") as fh:
            deep_merge(values, yaml.safe_load(fh) or {})
    for s in a.set:
        set_value(values, s)

    if a.lint:
        report = helm.lint(a.chart, values, strict=True, namespace=a.namespace,
                           kube_version=a.kube_version)
        bad = [m for m in report.get("messages") or [] if m.get("severity", 0) >= 2]
        errors = (report.get("errors") or []) + [f"{m.get('path')}: {m.get('error')}" for m in bad]
        if errors:
            for e in errors:
                print(f"lint: {e}", file=sys.stderr)
            return 1

    try:
        with helm.Chart.load(a.chart) as chart:
            rendered = chart.render(values, name=a.name, namespace=a.namespace, is_install=True)
    except Exception as e:  # HelmRenderError / HelmValuesError: print Helm's message
        print(f"render: {e}", file=sys.stderr)
        return 1

    if a.notes:
        for path, text in rendered.items():
            if path.endswith("NOTES.txt"):
                print(text)
        return 0

    docs = []
    for path in sorted(rendered):
        if not path.endswith((".yaml", ".yml")):
            continue
        for text in rendered[path].split("\n---"):
            text = text.strip("\n")
            obj = yaml.safe_load(text) if text.strip() else None
            if obj:  # templates whose condition is false render to nothing
                docs.append((path, text, obj))
    rank = {k: i for i, k in enumerate(ORDER)}
    docs.sort(key=lambda d: (rank.get(d[2].get("kind"), len(ORDER)), d[2]["metadata"]["name"]))

    if a.format == "json":
        json.dump([{"source": p, "manifest": o} for p, _, o in docs], sys.stdout, indent=1)
        print()
    else:
        for path, text, _ in docs:
            print(f"---\n# Source: {path}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
