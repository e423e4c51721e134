//! The in-cluster package: the Helm chart in `deploy/helm/falco-rs` and the container image.
//!
//! * The chart is rendered by Helm's own template engine (helm.sh/helm/v4, through the
//!   PyPI wheel `helm-python-sdk`, driven by `deploy/helm/render.py`; there is no `helm`
//!   CLI in the package registries this project can reach), linted by Helm's linter, and
//!   every rendered manifest is validated offline against the Kubernetes OpenAPI schemas
//!   (PyPI `kubernetes-validate`, strict: unknown fields are errors) for Kubernetes 1.29
//!   and 1.37. Key security and topology fields are then asserted, and the rendered
//!   falco.yaml is loaded by the real binary (`--dry-run`).
//! * The image: Debian's `buildah` builds an image `FROM scratch` with the locally built
//!   binary and its shared libraries laid out as in the Dockerfile's runtime stage, and
//!   runs it (chroot isolation) as uid 65532: the default CMD's config loads and the
//!   sample audit log produces alerts. (The Dockerfile itself needs the rust and
//!   distroless base images, which cannot be pulled here.)
//!
//! `.ci/run` installs the tools (`pip install helm-python-sdk kubernetes-validate`,
//! `apt-get install buildah`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    repo().join("deploy/helm/falco-rs")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("falco-rs-helm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run ({e}); .ci/run installs the test tools"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `render.py` with the given values file and `--set` overrides.
fn render_cmd(values: Option<&str>, sets: &[&str], extra: &[&str]) -> Output {
    let mut c = Command::new("python3");
    c.arg(repo().join("deploy/helm/render.py")).arg(chart());
    if let Some(v) = values {
        c.arg("-f").arg(chart().join("ci").join(v));
    }
    for s in sets {
        c.args(["--set", s]);
    }
    c.args(extra);
    run(
        &mut c,
        "python3 deploy/helm/render.py (needs pip packages helm-python-sdk, PyYAML)",
    )
}

struct Rendered {
    yaml: String,
    docs: Vec<Value>,
}

impl Rendered {
    fn kinds(&self) -> Vec<String> {
        self.docs
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or("?").to_string())
            .collect()
    }
    fn one(&self, kind: &str) -> &Value {
        let v: Vec<&Value> = self.docs.iter().filter(|d| d["kind"] == kind).collect();
        assert_eq!(
            v.len(),
            1,
            "exactly one {kind} expected in {:?}",
            self.kinds()
        );
        v[0]
    }
    fn named(&self, kind: &str, name: &str) -> &Value {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind}/{name} in {:?}", self.kinds()))
    }
    fn container(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    }
    fn falco_yaml(&self) -> &str {
        self.named("ConfigMap", "falco-rs")["data"]["falco.yaml"]
            .as_str()
            .expect("falco.yaml in the ConfigMap")
    }
}

/// Renders (after a strict Helm lint) and validates every manifest for each Kubernetes
/// version; returns the manifests.
fn render_and_validate(name: &str, values: Option<&str>, sets: &[&str]) -> Rendered {
    let out = render_cmd(values, sets, &["--lint", "--kube-version", "v1.29.0"]);
    assert!(
        out.status.success(),
        "{name}: helm render/lint failed:\n{}",
        text(&out.stderr)
    );
    let yaml = text(&out.stdout);
    let out = render_cmd(values, sets, &["--format", "json"]);
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("render.py JSON");
    let docs: Vec<Value> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["manifest"].clone())
        .collect();
    assert!(!docs.is_empty(), "{name}: nothing rendered");

    let dir = tmpdir(name);
    let file = dir.join("rendered.yaml");
    std::fs::write(&file, &yaml).expect("write rendered.yaml");
    for k8s in ["1.29.0", "1.37.0"] {
        let out = run(
            Command::new("kubernetes-validate")
                .args(["--strict", "-k", k8s])
                .arg(&file),
            "kubernetes-validate (pip install kubernetes-validate)",
        );
        let report = text(&out.stdout) + &text(&out.stderr);
        assert!(
            out.status.success() && !report.contains("ERROR"),
            "{name}: manifests do not validate against Kubernetes {k8s}:\n{report}\n{yaml}"
        );
        let passed = report
            .lines()
            .filter(|l| l.contains(" passed for resource "))
            .count();
        assert_eq!(
            passed,
            docs.len(),
            "{name}: every manifest must be validated against {k8s}:\n{report}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Rendered { yaml, docs }
}

/// Security posture shared by both modes: unprivileged, read-only root, no host access.
fn assert_unprivileged(name: &str, r: &Rendered) {
    let pod = &r.one("Deployment")["spec"]["template"]["spec"];
    let c = r.container();
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true, "{name}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
    assert_eq!(sc["privileged"], false, "{name}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{name}"
    );
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    assert_eq!(pod["securityContext"]["runAsUser"], 65532, "{name}");
    for k in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(pod[k], true, "{name}: {k}");
    }
    assert!(
        !r.yaml.contains("hostPath") && !r.yaml.contains("hostPort"),
        "{name}: no host mounts or ports:\n{}",
        r.yaml
    );
    for v in pod["volumes"].as_array().expect("volumes") {
        let kinds: Vec<&String> = v.as_object().expect("volume").keys().collect();
        assert!(
            kinds.iter().all(|k| [
                "name",
                "configMap",
                "secret",
                "emptyDir",
                "persistentVolumeClaim"
            ]
            .contains(&k.as_str())),
            "{name}: unexpected volume type {v}"
        );
    }
    assert_eq!(
        c["args"],
        serde_json::json!(["-c", "/etc/falco-rs/falco.yaml"]),
        "{name}"
    );
    assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
    assert!(c["resources"]["limits"]["memory"].is_string(), "{name}");
}

/// The rendered falco.yaml is accepted by the real binary.
fn assert_config_loads(name: &str, r: &Rendered) {
    let dir = tmpdir(&format!("{name}-cfg"));
    let cfg = dir.join("falco.yaml");
    std::fs::write(&cfg, r.falco_yaml()).expect("write falco.yaml");
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_falco-rs"))
            .arg("-c")
            .arg(&cfg)
            .arg("-r")
            .arg(repo().join("rules/k8s_audit_rules.yaml"))
            .arg("--dry-run"),
        "falco-rs",
    );
    assert!(
        out.status.success(),
        "{name}: falco-rs rejects the chart's falco.yaml:\n{}\n{}",
        text(&out.stderr),
        r.falco_yaml()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn webhook_mode_with_tls_and_token_renders_and_validates() {
    let r = render_and_validate("webhook", Some("webhook-values.yaml"), &[]);
    assert_unprivileged("webhook", &r);
    assert_config_loads("webhook", &r);

    let mut kinds = r.kinds();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ConfigMap",
            "ConfigMap",
            "Deployment",
            "Secret",
            "Service",
            "ServiceAccount"
        ]
    );
    let dep = r.one("Deployment");
    assert_eq!(
        dep["spec"]["replicas"], 2,
        "webhook mode honours replicaCount"
    );
    assert_eq!(dep["spec"]["strategy"]["type"], "RollingUpdate");

    let svc = r.one("Service");
    let ports = svc["spec"]["ports"].as_array().expect("ports");
    assert!(ports
        .iter()
        .any(|p| p["name"] == "webhook" && p["port"] == 9765 && p["targetPort"] == "webhook"));
    assert_eq!(svc["spec"]["clusterIP"], "10.96.100.10");

    let cfg = r.falco_yaml();
    for want in [
        "open_params: https://:9765/k8s-audit",
        "sslCertificate: /var/run/secrets/falco-rs/tls/falco.pem",
        "clientCAFile: /var/run/secrets/falco-rs/client-ca/ca.crt",
        "authTokenFile: /var/run/secrets/falco-rs/token/token",
        "name: k8saudit\n",
        "url: http://falcosidekick.falco.svc:2801/",
        "listen_port: 8765",
    ] {
        assert!(cfg.contains(want), "falco.yaml lacks {want:?}:\n{cfg}");
    }
    // The bearer token Secret the chart created is what authTokenFile points at.
    let secret = r.one("Secret");
    assert_eq!(
        secret["data"]["token"], "czNjcjN0LXRva2VuLWZvci10ZXN0cw==",
        "base64 of the token"
    );
    let c = r.container();
    let mounts = c["volumeMounts"].as_array().expect("mounts");
    for (vol, path) in [
        ("tls", "/var/run/secrets/falco-rs/tls"),
        ("client-ca", "/var/run/secrets/falco-rs/client-ca"),
        ("webhook-token", "/var/run/secrets/falco-rs/token"),
        ("rules", "/etc/falco-rs/rules.d"),
        ("config", "/etc/falco-rs"),
    ] {
        assert!(
            mounts
                .iter()
                .any(|m| m["name"] == vol && m["mountPath"] == path && m["readOnly"] == true),
            "mount {vol} at {path}: {mounts:?}"
        );
    }
    // Client certificates are required, so the kubelet probes the port over TCP.
    assert_eq!(c["livenessProbe"]["tcpSocket"]["port"], "webhook");
    assert!(
        r.named("ConfigMap", "falco-rs-rules")["data"]["exec_rules.yaml"]
            .as_str()
            .is_some_and(|s| s.contains("rule: Exec Into Pod"))
    );
    assert!(!kinds.contains(&"PersistentVolumeClaim".to_string()));
}

#[test]
fn webhook_mode_without_client_ca_probes_healthz_over_https() {
    let r = render_and_validate(
        "webhook-https",
        Some("webhook-values.yaml"),
        &["webhook.tls.clientCA.enabled=false"],
    );
    let c = r.container();
    let live = &c["livenessProbe"]["httpGet"];
    assert_eq!(live["path"], "/healthz");
    assert_eq!(live["port"], "webhook");
    assert_eq!(live["scheme"], "HTTPS");
    // Readiness: the webserver's /readyz (the event source is running).
    let ready = &c["readinessProbe"]["httpGet"];
    assert_eq!(ready["path"], "/readyz");
    assert_eq!(ready["port"], "webserver");
    assert!(!r.falco_yaml().contains("clientCAFile"));

    // Without the webserver both probes use the webhook listener's /healthz.
    let r = render_and_validate(
        "webhook-nows",
        Some("webhook-values.yaml"),
        &[
            "webhook.tls.clientCA.enabled=false",
            "falco.webserver.enabled=false",
        ],
    );
    let c = r.container();
    for p in ["livenessProbe", "readinessProbe"] {
        assert_eq!(c[p]["httpGet"]["path"], "/healthz", "{p}");
        assert_eq!(c[p]["httpGet"]["port"], "webhook", "{p}");
        assert_eq!(c[p]["httpGet"]["scheme"], "HTTPS", "{p}");
    }
    let svc = r.one("Service");
    assert_eq!(svc["spec"]["ports"].as_array().map(Vec::len), Some(1));
}

#[test]
fn eks_mode_with_irsa_and_pvc_renders_and_validates() {
    let r = render_and_validate("eks", Some("eks-values.yaml"), &[]);
    assert_unprivileged("eks", &r);
    assert_config_loads("eks", &r);

    let dep = r.one("Deployment");
    assert_eq!(dep["spec"]["replicas"], 1, "eks mode forces one replica");
    assert_eq!(dep["spec"]["strategy"]["type"], "Recreate");

    let sa = r.one("ServiceAccount");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/falco-rs-audit"
    );
    assert_eq!(
        dep["spec"]["template"]["spec"]["serviceAccountName"],
        sa["metadata"]["name"]
    );

    let pvc = r.one("PersistentVolumeClaim");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(pvc["spec"]["storageClassName"], "gp3");
    let pod = &dep["spec"]["template"]["spec"];
    let vols = pod["volumes"].as_array().expect("volumes");
    assert!(vols.iter().any(|v| v["name"] == "checkpoint"
        && v["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]));
    let c = r.container();
    assert!(c["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .any(|m| m["name"] == "checkpoint" && m["mountPath"] == "/var/lib/falco-rs"));
    // Probes use the webserver (there is no webhook listener in eks mode).
    for (p, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(c[p]["httpGet"]["path"], path, "{p}");
        assert_eq!(c[p]["httpGet"]["port"], "webserver", "{p}");
    }
    let ports = c["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["containerPort"], 8765);

    let cfg = r.falco_yaml();
    for want in [
        "name: k8saudit-eks",
        "open_params: prod-cluster",
        "region: eu-west-1",
        "lookback: 600",
        "checkpoint_file: /var/lib/falco-rs/eks-checkpoint.json",
        "prometheus_metrics_enabled: true",
        "metrics:\n  enabled: true",
    ] {
        assert!(cfg.contains(want), "falco.yaml lacks {want:?}:\n{cfg}");
    }
    assert!(!cfg.contains("name: k8saudit\n"));
    // The Service only exposes the webserver (metrics) in eks mode.
    let svc = r.one("Service");
    let ports = svc["spec"]["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["name"], "http-metrics");
    assert!(!r.kinds().contains(&"Secret".to_string()));
}

#[test]
fn default_values_render_and_validate() {
    let r = render_and_validate("defaults", None, &[]);
    assert_unprivileged("defaults", &r);
    assert_config_loads("defaults", &r);
    assert_eq!(r.one("Deployment")["spec"]["replicas"], 1);
    assert!(r
        .falco_yaml()
        .contains("open_params: http://:9765/k8s-audit"));
    let c = r.container();
    assert_eq!(c["livenessProbe"]["httpGet"]["scheme"], "HTTP");
    assert_eq!(c["livenessProbe"]["httpGet"]["port"], "webhook");
    assert_eq!(c["image"], "falco-rs:0.1.0", "tag defaults to appVersion");
}

#[test]
fn eks_mode_without_persistence_or_webserver() {
    // No PVC: the checkpoint lives in an emptyDir.
    let r = render_and_validate(
        "eks-emptydir",
        Some("eks-values.yaml"),
        &["persistence.enabled=false"],
    );
    assert!(!r.kinds().contains(&"PersistentVolumeClaim".to_string()));
    let vols = r.one("Deployment")["spec"]["template"]["spec"]["volumes"].clone();
    assert!(vols
        .as_array()
        .expect("volumes")
        .iter()
        .any(|v| v["name"] == "checkpoint" && v["emptyDir"].is_object()));

    // Webserver off: probes must be off too, and then there is nothing to serve.
    let r = render_and_validate(
        "eks-nows",
        Some("eks-values.yaml"),
        &[
            "falco.webserver.enabled=false",
            "probes.liveness.enabled=false",
            "probes.readiness.enabled=false",
        ],
    );
    assert!(!r.kinds().contains(&"Service".to_string()));
    assert!(r.container()["livenessProbe"].is_null());
}

#[test]
fn invalid_values_are_rejected_with_a_message() {
    for (sets, want) in [
        (
            vec!["mode=daemonset"],
            "mode must be \"webhook\" or \"eks\"",
        ),
        (vec!["mode=eks"], "mode=eks needs eks.clusterName"),
        (
            vec![
                "mode=eks",
                "eks.clusterName=c",
                "falco.webserver.enabled=false",
            ],
            "mode=eks probes use the webserver",
        ),
        (
            vec!["webhook.tls.enabled=true"],
            "webhook.tls.enabled needs",
        ),
        (
            vec!["webhook.auth.enabled=true"],
            "webhook.auth.enabled needs",
        ),
        (
            vec!["customRules.rules\\.txt=x"],
            "must end in .yaml or .yml",
        ),
    ] {
        let out = render_cmd(None, &sets, &[]);
        assert!(!out.status.success(), "{sets:?} must fail");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{sets:?}: expected {want:?} in:\n{err}");
    }
}

#[test]
fn notes_print_the_apiserver_webhook_kubeconfig() {
    let out = render_cmd(Some("webhook-values.yaml"), &[], &["--notes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let notes = text(&out.stdout);
    for want in [
        "--audit-webhook-config-file",
        "kind: Config",
        "server: https://falco-rs.falco.svc:9765/k8s-audit",
        "certificate-authority:",
        "token: <the token in Secret falco-rs-webhook-token, key token>",
        "client-certificate:",
    ] {
        assert!(notes.contains(want), "NOTES lack {want:?}:\n{notes}");
    }
    let out = render_cmd(Some("eks-values.yaml"), &[], &["--notes"]);
    let notes = text(&out.stdout);
    assert!(notes.contains("IRSA role: arn:aws:iam::123456789012:role/falco-rs-audit"));
    assert!(notes.contains("on PVC falco-rs-checkpoint"));
}

/// buildah with a private storage root, vfs driver, chroot isolation (no daemon, no
/// registry access, works as root without user namespaces).
fn buildah(root: &Path, args: &[&str]) -> Output {
    run(
        Command::new("buildah")
            .arg("--root")
            .arg(root.join("storage"))
            .arg("--runroot")
            .arg(root.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args),
        "buildah (apt-get install buildah)",
    )
}

#[test]
fn image_builds_from_the_local_binary_and_runs_with_buildah() {
    let dir = tmpdir("image");
    let ctx = dir.join("context");
    let rootfs = ctx.join("rootfs");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_falco-rs"));
    // The Dockerfile's runtime stage layout: binary, default rules, default config,
    // checkpoint dir; plus the shared libraries distroless/cc would provide.
    let put = |src: &Path, dst: &str| {
        let to = rootfs.join(dst.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(src, &to).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    };
    put(&bin, "/usr/bin/falco-rs");
    put(
        &repo().join("rules/k8s_audit_rules.yaml"),
        "/usr/share/falco-rs/k8s_audit_rules.yaml",
    );
    put(
        &repo().join("deploy/docker/falco.yaml"),
        "/etc/falco-rs/falco.yaml",
    );
    put(
        &repo().join("testdata/audit/sample.jsonl"),
        "/data/sample.jsonl",
    );
    std::fs::create_dir_all(rootfs.join("var/lib/falco-rs")).expect("mkdir");
    let ldd = run(Command::new("ldd").arg(&bin), "ldd");
    for lib in text(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        put(&std::fs::canonicalize(lib).expect("lib"), lib);
    }
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM scratch\nCOPY rootfs/ /\nUSER 65532:65532\nEXPOSE 9765 8765\n\
         ENTRYPOINT [\"/usr/bin/falco-rs\"]\nCMD [\"-c\", \"/etc/falco-rs/falco.yaml\"]\n",
    )
    .expect("Containerfile");

    let tag = format!("localhost/falco-rs-test:{}", std::process::id());
    let out = buildah(
        &dir,
        &[
            "bud",
            "--isolation",
            "chroot",
            "-t",
            &tag,
            "-f",
            &ctx.join("Containerfile").to_string_lossy(),
            &ctx.to_string_lossy(),
        ],
    );
    assert!(
        out.status.success(),
        "buildah bud failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = buildah(&dir, &["inspect", "--type", "image", &tag]);
    let info: Value = serde_json::from_slice(&out.stdout).expect("buildah inspect JSON");
    let cfg = &info["OCIv1"]["config"];
    assert_eq!(cfg["User"], "65532:65532");
    assert_eq!(cfg["Entrypoint"], serde_json::json!(["/usr/bin/falco-rs"]));
    assert_eq!(
        cfg["Cmd"],
        serde_json::json!(["-c", "/etc/falco-rs/falco.yaml"])
    );
    assert!(cfg["ExposedPorts"]["9765/tcp"].is_object());
    assert!(cfg["ExposedPorts"]["8765/tcp"].is_object());

    let out = buildah(&dir, &["from", "--name", "falco-rs-run", &tag]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The image's own config and default rules, replaying the sample log, as uid 65532
    // with no shell in the image.
    let out = buildah(
        &dir,
        &[
            "run",
            "--isolation",
            "chroot",
            "--user",
            "65532:65532",
            "falco-rs-run",
            "--",
            "/usr/bin/falco-rs",
            "-c",
            "/etc/falco-rs/falco.yaml",
            "-o",
            "plugins[0].open_params=/data/sample.jsonl",
            "-o",
            "webserver.enabled=false",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "falco-rs in the image failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    let alerts = stdout
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"rule\":"))
        .count();
    assert!(alerts > 0, "no JSON alerts from the image:\n{stdout}");
    let replay_alerts = alerts;

    // The image's default config as a webhook on loopback (chroot isolation shares the
    // host network): /healthz answers, a posted EventList raises the same alerts, and
    // SIGTERM to falco-rs drains and exits 0.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let stdout_file = dir.join("webhook-stdout.txt");
    let open_params = format!("plugins[0].open_params=http://127.0.0.1:{port}/k8s-audit");
    let child = Command::new("buildah")
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "vfs", "run", "--isolation", "chroot"])
        .args(["--user", "65532:65532", "falco-rs-run", "--"])
        .args(["/usr/bin/falco-rs", "-c", "/etc/falco-rs/falco.yaml"])
        .args(["-o", &open_params, "-o", "webserver.enabled=false"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_file).expect("stdout file"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("buildah run");
    let mut guard = Running {
        child: Some(child),
        marker: open_params.clone(),
    };
    let addr = format!("127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let health = loop {
        match http_request(&addr, "GET", "/healthz", "") {
            Ok(r) => break r,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            Err(e) => panic!("the webhook in the image never answered: {e}"),
        }
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#"{"status":"ok"}"#), "{health}");
    let sample =
        std::fs::read_to_string(repo().join("testdata/audit/sample.jsonl")).expect("sample.jsonl");
    let body = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{}]}}"#,
        // The sample's audit events (it also holds two malformed lines for the replay
        // tests, which a webhook batch would reject as a whole).
        sample
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["kind"] == "Event"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let resp = http_request(&addr, "POST", "/k8s-audit", &body).expect("POST");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // falco-rs itself (not buildah, which would SIGKILL it) gets SIGTERM.
    let pid = falco_rs_pid(&open_params).expect("falco-rs process in the container");
    let out = run(
        Command::new("kill").args(["-TERM", &pid.to_string()]),
        "kill",
    );
    assert!(out.status.success());
    let out = guard
        .child
        .take()
        .expect("child")
        .wait_with_output()
        .expect("buildah run");
    let stdout = std::fs::read_to_string(&stdout_file).expect("stdout");
    assert!(
        out.status.success(),
        "falco-rs in the image did not exit 0 on SIGTERM:\n{}",
        text(&out.stderr)
    );
    let alerts = stdout
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"rule\":"))
        .count();
    assert_eq!(
        alerts, replay_alerts,
        "webhook and replay alerts differ:\n{stdout}"
    );

    assert!(buildah(&dir, &["rm", "falco-rs-run"]).status.success());
    assert!(buildah(&dir, &["rmi", "-f", &tag]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dockerfile_is_multi_stage_pinned_and_non_root() {
    let df = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let lines: Vec<&str> = df
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let arg = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("ARG {name}=")))
            .unwrap_or_else(|| panic!("ARG {name}"))
            .to_string()
    };
    // Pinned by version tag (digests cannot be looked up offline: see the comment).
    let rust = arg("RUST_IMAGE");
    assert!(
        regex::Regex::new(r"^rust:\d+\.\d+\.\d+-slim-bookworm$")
            .expect("re")
            .is_match(&rust),
        "{rust}"
    );
    assert_eq!(
        arg("RUNTIME_IMAGE"),
        "gcr.io/distroless/cc-debian12:nonroot"
    );
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms,
        [&"FROM ${RUST_IMAGE} AS builder", &"FROM ${RUNTIME_IMAGE}"]
    );
    assert!(df.contains("cargo build --release --locked -p falco-rs"));
    for want in [
        "USER 65532:65532",
        "EXPOSE 9765 8765",
        "ENTRYPOINT [\"/usr/bin/falco-rs\"]",
        "CMD [\"-c\", \"/etc/falco-rs/falco.yaml\"]",
    ] {
        assert!(lines.contains(&want), "Dockerfile lacks {want:?}");
    }
    // No RUN in the runtime stage (it has no shell).
    let runtime = df
        .split("FROM ${RUNTIME_IMAGE}")
        .nth(1)
        .expect("runtime stage");
    assert!(!runtime.lines().any(|l| l.trim_start().starts_with("RUN ")));
    // What the runtime stage copies from the context exists and is not ignored.
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
    for src in [
        "deploy/docker/falco.yaml",
        "rules/k8s_audit_rules.yaml",
        "Cargo.lock",
    ] {
        assert!(repo().join(src).is_file(), "{src}");
        assert!(
            !ignore.lines().any(|l| {
                let l = l.trim().trim_end_matches('/');
                !l.is_empty() && !l.starts_with('#') && src.starts_with(l)
            }),
            "{src} is excluded by .dockerignore"
        );
    }
    // The image's default config loads with the default rules.
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_falco-rs"))
            .arg("-c")
            .arg(repo().join("deploy/docker/falco.yaml"))
            .arg("-r")
            .arg(repo().join("rules/k8s_audit_rules.yaml"))
            .arg("--dry-run"),
        "falco-rs",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A one-shot HTTP/1.1 request; the whole response as text.
fn http_request(addr: &str, method: &str, path: &str, body: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    Ok(text(&raw))
}

/// The pid of the falco-rs process started with this `-o` argument (chroot isolation
/// keeps the host's pid namespace).
fn falco_rs_pid(marker: &str) -> Option<u32> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().map(String::as_str) == Some("/usr/bin/falco-rs")
            && args.iter().any(|a| a == marker)
        {
            return Some(pid);
        }
    }
    None
}

/// A `buildah run` in progress; killed (with its falco-rs) if the test fails midway.
struct Running {
    child: Option<std::process::Child>,
    marker: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = falco_rs_pid(&self.marker) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
