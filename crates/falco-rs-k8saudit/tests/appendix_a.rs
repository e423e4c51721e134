//! Appendix A of `k8saudit-sources-and-fields.md`: the reference events and the exact values
//! the k8saudit v0.18.0 extractor returns for them. `EMPTY` and `ERR` are both "not
//! extracted" (`None`).

mod common;

use common::*;
use falco_rs_k8saudit::K8sAuditCatalog;

const NX: Want = None;

#[test]
fn pod_every_field() {
    let ev = event(POD);
    check(
        &ev,
        &[
            ("ka.auditid", Some(&["11111111-2222-3333-4444-555555555555"])),
            ("ka.auth.decision", Some(&["allow"])),
            ("ka.auth.openshift.decision", NX),
            ("ka.auth.openshift.username", NX),
            ("ka.auth.reason", Some(&["RBAC: allowed by ClusterRoleBinding \"x\""])),
            ("ka.cluster.name", Some(&["c1"])),
            ("ka.impuser.name", Some(&["bob"])),
            ("ka.req.binding.role", NX),
            ("ka.req.binding.subject.has_name[missing]", Some(&["true"])),
            ("ka.req.binding.subjects", NX),
            ("ka.req.binding.subjects.group_names", NX),
            ("ka.req.binding.subjects.serviceaccount_names", NX),
            ("ka.req.binding.subjects.serviceaccount_ns_names", NX),
            ("ka.req.binding.subjects.user_names", NX),
            ("ka.req.configmap.name", Some(&["p"])),
            ("ka.req.configmap.obj", NX),
            ("ka.req.container.host_network", Some(&["true"])),
            (
                "ka.req.container.image",
                Some(&["registry.example.com:5000/team/app:1.2@sha256:abc"]),
            ),
            ("ka.req.container.image.repository", Some(&["registry.example.com"])),
            ("ka.req.container.privileged", Some(&["true"])),
            (
                "ka.req.pod.containers.add_capabilities",
                Some(&["[\"NET_ADMIN\",\"SYS_TIME\"]"]),
            ),
            ("ka.req.pod.containers.allow_privilege_escalation", Some(&["true"])),
            ("ka.req.pod.containers.args", Some(&["echo hi x"])),
            ("ka.req.pod.containers.command", Some(&["sh -c"])),
            ("ka.req.pod.containers.eff_run_as_group", Some(&["0", "0"])),
            ("ka.req.pod.containers.eff_run_as_user", Some(&["0", "0"])),
            ("ka.req.pod.containers.host_port", Some(&["80", "8443"])),
            (
                "ka.req.pod.containers.image",
                Some(&["registry.example.com:5000/team/app:1.2@sha256:abc", "nginx"]),
            ),
            (
                "ka.req.pod.containers.image.repository",
                Some(&["registry.example.com", "nginx"]),
            ),
            ("ka.req.pod.containers.name", Some(&["c1", "c2"])),
            ("ka.req.pod.containers.privileged", Some(&["true"])),
            ("ka.req.pod.containers.proc_mount", Some(&["Unmasked"])),
            ("ka.req.pod.containers.read_only_fs", Some(&["false"])),
            ("ka.req.pod.containers.run_as_group", NX),
            ("ka.req.pod.containers.run_as_user", Some(&["1000"])),
            ("ka.req.pod.fs_group", Some(&["4000"])),
            ("ka.req.pod.host_ipc", NX),
            ("ka.req.pod.host_network", Some(&["true"])),
            ("ka.req.pod.host_pid", Some(&["false"])),
            ("ka.req.pod.initContainers.add_capabilities", NX),
            ("ka.req.pod.initContainers.allow_privilege_escalation", NX),
            ("ka.req.pod.initContainers.args", NX),
            ("ka.req.pod.initContainers.command", NX),
            ("ka.req.pod.initContainers.eff_run_as_group", Some(&["0"])),
            ("ka.req.pod.initContainers.eff_run_as_user", Some(&["0"])),
            ("ka.req.pod.initContainers.host_port", NX),
            ("ka.req.pod.initContainers.image", Some(&["busybox:1.36"])),
            ("ka.req.pod.initContainers.image.repository", Some(&["busybox"])),
            ("ka.req.pod.initContainers.name", Some(&["i1"])),
            ("ka.req.pod.initContainers.privileged", Some(&["true"])),
            ("ka.req.pod.initContainers.proc_mount", NX),
            ("ka.req.pod.initContainers.read_only_fs", NX),
            ("ka.req.pod.initContainers.run_as_group", NX),
            ("ka.req.pod.initContainers.run_as_user", NX),
            ("ka.req.pod.run_as_group", Some(&["3000"])),
            ("ka.req.pod.run_as_user", Some(&["2000"])),
            ("ka.req.pod.supplemental_groups", Some(&["1", "2"])),
            ("ka.req.pod.volumes.flexvolume_driver", Some(&["foo/bar"])),
            ("ka.req.pod.volumes.hostpath", Some(&["/var/run/docker.sock"])),
            (
                "ka.req.pod.volumes.volume_type",
                Some(&["hostPath", "configMap", "flexVolume"]),
            ),
            ("ka.req.role.rules", NX),
            ("ka.req.role.rules.apiGroups", NX),
            ("ka.req.role.rules.nonResourceURLs", NX),
            ("ka.req.role.rules.resources", NX),
            ("ka.req.role.rules.verbs", NX),
            ("ka.req.service.ports", NX),
            ("ka.req.service.type", NX),
            ("ka.req.volume.hostpath[missing]", Some(&["false"])),
            ("ka.req.volume.hostpath[/var/run/docker.sock]", Some(&["true"])),
            ("ka.req.volume.hostpath[/var/run*]", Some(&["true"])),
            ("ka.req.volume.hostpath[/var]", Some(&["false"])),
            ("ka.resp.name", Some(&["p-resp"])),
            ("ka.response.code", Some(&["201"])),
            ("ka.response.reason", NX),
            (
                "ka.security.pod.violations",
                Some(&["would violate PodSecurity \"restricted:latest\""]),
            ),
            ("ka.stage", Some(&["ResponseComplete"])),
            ("ka.target.name", Some(&["p"])),
            ("ka.target.namespace", Some(&["default"])),
            ("ka.target.pod.name", Some(&["p-resp"])),
            ("ka.target.resource", Some(&["pods"])),
            ("ka.target.subresource", NX),
            (
                "ka.uri",
                Some(&["/api/v1/namespaces/default/pods?fieldManager=kubectl%20client&dryRun=All&x=a+b&x=second"]),
            ),
            ("ka.uri.param[dryRun]", Some(&["All"])),
            ("ka.uri.param[fieldManager]", Some(&["kubectl client"])),
            ("ka.uri.param[x]", Some(&["a b"])),
            ("ka.uri.param[missing]", NX),
            ("ka.user.groups", Some(&["g1", "system:authenticated"])),
            ("ka.user.name", Some(&["alice"])),
            ("ka.useragent", Some(&["kubectl/v1.29.0"])),
            ("ka.validations.admission.policy.failure", NX),
            ("ka.verb", Some(&["create"])),
        ],
    );
    // the event has no ephemeralContainers: all 14 fields are not extracted
    let ephemeral: Vec<_> = K8sAuditCatalog::field_docs()
        .iter()
        .filter(|d| d.name.starts_with("ka.req.pod.ephemeralContainers."))
        .collect();
    assert_eq!(ephemeral.len(), 14);
    for d in ephemeral {
        assert_eq!(get(&ev, d.name), None, "{}", d.name);
        assert_eq!(get(&ev, &format!("{}[0]", d.name)), None, "{}", d.name);
    }
}

#[test]
fn pod_sourceips_deviation() {
    // Documented deviation: the plugin never extracts ka.sourceips (Appendix A lists NX);
    // falco-rs reads the top-level sourceIPs array.
    let ev = event(POD);
    check(
        &ev,
        &[
            ("ka.sourceips", Some(&["10.0.0.1", "::1"])),
            ("ka.sourceips[0]", Some(&["10.0.0.1"])),
            ("ka.sourceips[1]", Some(&["::1"])),
            ("ka.sourceips[2]", NX),
        ],
    );
    for other in [CRB, SVC, EXEC, NULLS, EDGE] {
        assert_eq!(get(&event(other), "ka.sourceips"), None);
    }
}

#[test]
fn pod_index_variants() {
    let ev = event(POD);
    check(
        &ev,
        &[
            ("ka.req.pod.containers.privileged[0]", Some(&["true"])),
            ("ka.req.pod.containers.privileged[1]", NX),
            ("ka.req.pod.containers.privileged[2]", NX),
            ("ka.req.pod.initContainers.privileged[0]", Some(&["true"])),
            ("ka.req.pod.initContainers.privileged[1]", NX),
            ("ka.req.pod.containers.eff_run_as_user[0]", NX),
            ("ka.req.pod.containers.eff_run_as_group[1]", NX),
            ("ka.req.pod.containers.host_port[0]", Some(&["80", "8443"])),
            ("ka.req.pod.containers.host_port[1]", NX),
            ("ka.req.pod.volumes.volume_type[1]", Some(&["configMap"])),
            ("ka.req.pod.volumes.volume_type[3]", NX),
            ("ka.req.pod.volumes.flexvolume_driver[0]", NX),
            (
                "ka.req.pod.volumes.flexvolume_driver[2]",
                Some(&["foo/bar"]),
            ),
            (
                "ka.req.pod.volumes.hostpath[0]",
                Some(&["/var/run/docker.sock"]),
            ),
            ("ka.req.pod.volumes.hostpath[1]", NX),
            ("ka.req.pod.containers.name[1]", Some(&["c2"])),
            ("ka.req.pod.containers.image[1]", Some(&["nginx"])),
            (
                "ka.req.pod.containers.image.repository[0]",
                Some(&["registry.example.com"]),
            ),
            ("ka.req.pod.containers.command[0]", Some(&["sh -c"])),
            ("ka.req.pod.containers.command[1]", NX),
            ("ka.req.pod.containers.args[0]", Some(&["echo hi x"])),
            ("ka.req.pod.containers.run_as_user[0]", Some(&["1000"])),
            ("ka.req.pod.containers.run_as_user[1]", NX),
            (
                "ka.req.pod.containers.add_capabilities[0]",
                Some(&["[\"NET_ADMIN\",\"SYS_TIME\"]"]),
            ),
            ("ka.req.pod.containers.add_capabilities[1]", NX),
            ("ka.req.pod.containers.proc_mount[0]", Some(&["Unmasked"])),
            ("ka.req.pod.containers.read_only_fs[0]", Some(&["false"])),
            (
                "ka.req.pod.containers.allow_privilege_escalation[0]",
                Some(&["true"]),
            ),
            ("ka.req.pod.initContainers.name[0]", Some(&["i1"])),
            ("ka.req.pod.initContainers.eff_run_as_user[0]", NX),
            // u64::MAX is what libsinsp stores for "no index"; Go reads it as -1 too
            (
                "ka.req.pod.containers.name[18446744073709551615]",
                Some(&["c1", "c2"]),
            ),
            ("ka.req.pod.containers.name[9223372036854775808]", NX),
        ],
    );
}

#[test]
fn crb() {
    let ev = event(CRB);
    check(
        &ev,
        &[
            ("ka.req.binding.subjects.user_names", Some(&["alice"])),
            (
                "ka.req.binding.subjects.serviceaccount_names",
                Some(&["sa1", "sa2"]),
            ),
            (
                "ka.req.binding.subjects.serviceaccount_ns_names",
                Some(&["ns1:sa1"]),
            ),
            ("ka.req.binding.subjects.group_names", Some(&["devs"])),
            ("ka.req.role.rules.verbs", Some(&["get", "create", "get"])),
            ("ka.req.role.rules.verbs[1]", Some(&["get"])),
            ("ka.req.role.rules.verbs[0]", Some(&["get", "create"])),
            ("ka.req.role.rules.apiGroups", Some(&[""])),
            ("ka.req.role.rules.apiGroups[1]", NX),
            ("ka.req.role.rules.resources", Some(&["pods", "pods/exec"])),
            ("ka.req.role.rules.nonResourceURLs", Some(&["/healthz"])),
            ("ka.req.role.rules.nonResourceURLs[0]", NX),
            ("ka.req.role.rules.verbs[2]", NX),
            (
                "ka.req.role.rules",
                Some(&[
                    r#"{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]}"#,
                    r#"{"nonResourceURLs":["/healthz"],"verbs":["get"]}"#,
                ]),
            ),
            (
                "ka.req.binding.subjects",
                Some(&[
                    r#"{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}"#,
                    r#"{"kind":"ServiceAccount","name":"sa1","namespace":"ns1"}"#,
                    r#"{"kind":"ServiceAccount","name":"sa2"}"#,
                    r#"{"kind":"Group","name":"devs"}"#,
                ]),
            ),
            ("ka.req.binding.role", Some(&["cluster-admin"])),
            ("ka.req.binding.subject.has_name[alice]", Some(&["true"])),
            ("ka.sourceips", NX),
            ("ka.target.pod.name", NX),
            ("ka.target.resource", Some(&["clusterrolebindings"])),
            ("ka.req.pod.containers.name", NX),
            ("ka.req.container.privileged", NX),
            ("ka.req.volume.hostpath[/x]", NX),
            ("ka.user.name", NX),
        ],
    );
}

#[test]
fn svc() {
    const PORTS: &[&str] = &[r#"[{"port":80,"targetPort":8080,"nodePort":30080},{"port":443}]"#];
    let ev = event(SVC);
    let table: Vec<(&str, Want)> = vec![
        ("ka.req.service.ports", Some(PORTS)),
        ("ka.req.service.ports[0]", Some(PORTS)),
        ("ka.req.service.ports[5]", Some(PORTS)),
        ("ka.req.service.type", Some(&["NodePort"])),
        ("ka.req.configmap.obj", Some(&[r#"{"k":"v","q":"x\"y"}"#])),
        ("ka.req.configmap.name", Some(&["s"])),
        ("ka.target.pod.name", NX),
        ("ka.uri", NX),
        ("ka.uri.param[a]", NX),
    ];
    check(&ev, &table);
}

#[test]
fn exec() {
    let ev = event(EXEC);
    check(
        &ev,
        &[
            ("ka.uri.param[command]", Some(&["sh"])),
            ("ka.uri.param[container]", Some(&["c"])),
            ("ka.uri.param[stdin]", Some(&["true"])),
            ("ka.target.subresource", Some(&["exec"])),
            ("ka.target.pod.name", NX),
            ("ka.resp.name", Some(&["zzz"])),
            ("ka.stage", Some(&["ResponseStarted"])),
            ("jevt.value[/stage]", Some(&["ResponseStarted"])),
        ],
    );
}

#[test]
fn noid_has_no_ka_fields() {
    let ev = event(NOID);
    for f in all_field_variants() {
        if f.starts_with("ka.") {
            assert_eq!(get(&ev, &f), None, "{f}");
        }
    }
    check(
        &ev,
        &[
            ("json.value[/stage]", Some(&["ResponseComplete"])),
            ("jevt.value[/user/username]", Some(&["alice"])),
            ("jevt.rawtime", Some(&["1714557600000000000"])),
            ("evt.source", Some(&["k8s_audit"])),
            ("evt.rawtime", Some(&["1714557600000000000"])),
        ],
    );
}

#[test]
fn nulls() {
    let ev = event(NULLS);
    check(
        &ev,
        &[
            ("ka.user.name", Some(&["null"])),
            ("ka.user.groups", NX),
            ("ka.req.pod.host_ipc", Some(&["null"])),
            ("ka.req.pod.containers.image", NX),
            ("ka.req.pod.containers.image[1]", Some(&["x"])),
            ("ka.req.pod.containers.image[0]", NX),
            ("ka.req.pod.containers.image.repository", NX),
            ("ka.req.pod.containers.image.repository[1]", Some(&["x"])),
            ("ka.req.pod.containers.name", NX),
            ("ka.req.pod.containers.name[0]", Some(&["c1"])),
            ("ka.req.container.image", NX),
            ("ka.req.container.image.repository", NX),
            ("ka.req.container.privileged", Some(&["false"])),
            ("ka.req.pod.containers.privileged", NX),
            ("ka.req.pod.containers.eff_run_as_user", Some(&["0", "0"])),
            ("ka.req.pod.run_as_user", NX),
            ("ka.uri.param[a]", NX),
            ("ka.uri.param[b]", NX),
            ("ka.auth.decision", NX),
            ("ka.req.pod.containers.command", NX),
            ("ka.req.pod.containers.host_port", NX),
            ("ka.req.pod.volumes.volume_type", NX),
            ("ka.req.binding.subjects.user_names", NX),
        ],
    );
}

#[test]
fn edge() {
    let ev = event(EDGE);
    check(
        &ev,
        &[
            ("ka.req.pod.containers.privileged", Some(&["true"])),
            ("ka.req.container.privileged", Some(&["false"])),
            ("ka.req.pod.containers.add_capabilities", Some(&["[]"])),
            ("ka.uri.param[c]", NX),
            ("ka.uri.param[a]", NX),
            (
                "ka.req.pod.volumes.volume_type",
                Some(&["hostPath", "emptyDir", "extra"]),
            ),
            (
                "ka.req.pod.volumes.volume_type[1]",
                Some(&["emptyDir", "extra"]),
            ),
            ("ka.req.pod.volumes.hostpath", Some(&["/etc/kubernetes"])),
            ("ka.req.volume.hostpath[/etc*]", Some(&["true"])),
            ("ka.req.volume.hostpath[/etc]", Some(&["false"])),
            ("ka.req.pod.containers.image.repository", Some(&["nginx"])),
            ("ka.req.container.image.repository", Some(&["nginx"])),
            ("ka.target.pod.name", Some(&["rp"])),
            ("ka.target.subresource", Some(&[""])),
        ],
    );
}

#[test]
fn every_field_on_every_event_is_well_formed() {
    // Extraction on every field/argument combination: scalars give one value, lists at
    // least one, nothing panics.
    for json in ALL_EVENTS {
        let ev = event(json);
        for f in all_field_variants() {
            let _ = get(&ev, &f);
        }
    }
}
