//! The field table of the `k8s_audit` source and name resolution.
//!
//! Ids 0–99 are the `ka.*` fields in the declaration order of the k8saudit v0.18.0 plugin
//! (so they match the plugin's own field ids); 100–105 are the json plugin's fields;
//! 106 onwards are libsinsp's generic `evt.*` fields.

use std::sync::LazyLock;

use falco_rs_engine::{FieldCatalog, FieldDoc, FieldMeta, FieldType};

/// How a field takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// No argument allowed.
    None,
    /// Optional numeric index `[i]`.
    Index,
    /// Required key `[k]`.
    Key,
}

/// The pod lists the per-container families read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `requestObject.spec.containers`
    Containers,
    /// `requestObject.spec.initContainers`
    Init,
    /// `requestObject.spec.ephemeralContainers`
    Ephemeral,
}

impl Family {
    /// The JSON key of the list under `requestObject.spec`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Family::Containers => "containers",
            Family::Init => "initContainers",
            Family::Ephemeral => "ephemeralContainers",
        }
    }
}

/// Per-container attributes (the suffixes after `ka.req.pod.<list>.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    Name,
    Image,
    ImageRepository,
    Command,
    Args,
    HostPort,
    Privileged,
    AllowPrivilegeEscalation,
    ReadOnlyFs,
    RunAsUser,
    EffRunAsUser,
    RunAsGroup,
    EffRunAsGroup,
    ProcMount,
    AddCapabilities,
}

/// Which binding subjects a `subjects.*_names` field reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubjectKind {
    User,
    ServiceAccount,
    NamespacedServiceAccount,
    Group,
}

/// Generic `evt.*` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evt {
    Num,
    Time,
    TimeS,
    TimeIso8601,
    Datetime,
    DatetimeS,
    Rawtime,
    RawtimeS,
    RawtimeNs,
    Reltime,
    ReltimeS,
    ReltimeNs,
    PluginName,
    PluginInfo,
    Source,
    IsAsync,
    AsyncType,
    Hostname,
}

/// How a field is extracted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// fastjson `Get(keys...)`: a scalar, or for list fields the elements of an array.
    Keys(&'static [&'static str]),
    UriParam,
    TargetPodName,
    Subjects(SubjectKind),
    HasName,
    ContainerImage,
    ContainerImageRepository,
    ContainerPrivileged,
    Container(Family, Attr),
    /// `requestObject.rules[].<key>` flattened.
    RulesField(&'static str),
    ServicePorts,
    VolumeHostpathMatch,
    /// Fan-out over `requestObject.spec.volumes[]` with this sub-path, skip-missing.
    Volumes(&'static [&'static str]),
    VolumeType,
    /// `ka.sourceips`: the top-level `sourceIPs` array, `[i]` picking element i.
    ///
    /// Documented deviation from k8saudit 0.18.0, whose extractor reads
    /// `requestObject.rules[].sourceIPs` and so never extracts anything
    /// (falcosecurity/plugins#236); no rule can depend on that behaviour.
    SourceIps,
    JsonValue,
    JsonObj,
    JsonRawtime,
    Evt(Evt),
}

impl Kind {
    /// Whether the field belongs to the k8saudit plugin (and so needs `auditID`).
    pub(crate) fn is_ka(self) -> bool {
        !matches!(
            self,
            Kind::JsonValue | Kind::JsonObj | Kind::JsonRawtime | Kind::Evt(_)
        )
    }
}

/// One row of the field table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Def {
    pub(crate) name: &'static str,
    pub(crate) ty: FieldType,
    pub(crate) is_list: bool,
    pub(crate) arg: ArgKind,
    pub(crate) kind: Kind,
    pub(crate) desc: &'static str,
}

const fn scalar(name: &'static str, keys: &'static [&'static str], desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: false,
        arg: ArgKind::None,
        kind: Kind::Keys(keys),
        desc,
    }
}

const fn list(name: &'static str, keys: &'static [&'static str], desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: true,
        arg: ArgKind::None,
        kind: Kind::Keys(keys),
        desc,
    }
}

const fn special(name: &'static str, kind: Kind, desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: false,
        arg: ArgKind::None,
        kind,
        desc,
    }
}

const fn keyed(name: &'static str, kind: Kind, desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: false,
        arg: ArgKind::Key,
        kind,
        desc,
    }
}

const fn list_special(name: &'static str, kind: Kind, desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: true,
        arg: ArgKind::None,
        kind,
        desc,
    }
}

const fn indexed(name: &'static str, kind: Kind, desc: &'static str) -> Def {
    Def {
        name,
        ty: FieldType::String,
        is_list: true,
        arg: ArgKind::Index,
        kind,
        desc,
    }
}

const fn cont(name: &'static str, family: Family, attr: Attr) -> Def {
    indexed(name, Kind::Container(family, attr), attr_desc(attr))
}

const fn attr_desc(attr: Attr) -> &'static str {
    match attr {
        Attr::Name => "Name of each container in the list; not extracted if any container lacks one.",
        Attr::Image => "Image of each container in the list; not extracted if any container lacks one.",
        Attr::ImageRepository => "Image of each container cut at the first ':' and then at the first '@'.",
        Attr::Command => "Command of each container that has one, elements joined with spaces.",
        Attr::Args => "Args of each container that has them, elements joined with spaces.",
        Attr::HostPort => "hostPort (or else containerPort) of every port of every container.",
        Attr::Privileged => "securityContext.privileged of each container that sets it.",
        Attr::AllowPrivilegeEscalation => {
            "securityContext.allowPrivilegeEscalation of each container that sets it."
        }
        Attr::ReadOnlyFs => "securityContext.readOnlyRootFilesystem of each container that sets it.",
        Attr::RunAsUser => "securityContext.runAsUser of each container that sets it.",
        Attr::EffRunAsUser => {
            "Effective uid per container (plugin behaviour: runAsUser read outside securityContext, default 0)."
        }
        Attr::RunAsGroup => "securityContext.runAsGroup of each container that sets it.",
        Attr::EffRunAsGroup => {
            "Effective gid per container (plugin behaviour: runAsGroup read outside securityContext, default 0)."
        }
        Attr::ProcMount => "securityContext.procMount of each container that sets it.",
        Attr::AddCapabilities => {
            "securityContext.capabilities.add of each container that sets it, as JSON array text."
        }
    }
}

const fn evt(name: &'static str, ty: FieldType, e: Evt, desc: &'static str) -> Def {
    Def {
        name,
        ty,
        is_list: false,
        arg: ArgKind::None,
        kind: Kind::Evt(e),
        desc,
    }
}

use Attr as A;
use Family::{Containers as C, Ephemeral as E, Init as I};

/// Every field of the `k8s_audit` source; the index is the field id.
pub(crate) static DEFS: &[Def] = &[
    // 0
    scalar(
        "ka.auditid",
        &["auditID"],
        "The unique id of the audit event.",
    ),
    scalar(
        "ka.stage",
        &["stage"],
        "Stage of the request (e.g. RequestReceived, ResponseComplete).",
    ),
    scalar(
        "ka.auth.decision",
        &["annotations", "authorization.k8s.io/decision"],
        "Authorization decision (allow or forbid).",
    ),
    scalar(
        "ka.auth.reason",
        &["annotations", "authorization.k8s.io/reason"],
        "Authorization reason.",
    ),
    scalar(
        "ka.auth.openshift.decision",
        &["annotations", "authentication.openshift.io/decision"],
        "OpenShift authentication decision.",
    ),
    scalar(
        "ka.validations.admission.policy.failure",
        &[
            "annotations",
            "validation.policy.admission.k8s.io/validation_failure",
        ],
        "Validating admission policy failures (JSON text, as annotated).",
    ),
    scalar(
        "ka.security.pod.violations",
        &["annotations", "pod-security.kubernetes.io/audit-violations"],
        "Pod Security audit violations.",
    ),
    scalar(
        "ka.auth.openshift.username",
        &["annotations", "authentication.openshift.io/username"],
        "OpenShift authenticated user name.",
    ),
    scalar(
        "ka.user.name",
        &["user", "username"],
        "Name of the user that made the request.",
    ),
    list(
        "ka.user.groups",
        &["user", "groups"],
        "Groups of the user that made the request.",
    ),
    // 10
    scalar(
        "ka.impuser.name",
        &["impersonatedUser", "username"],
        "Impersonated user name.",
    ),
    scalar("ka.verb", &["verb"], "Action being performed."),
    scalar(
        "ka.uri",
        &["requestURI"],
        "Request URI as sent by the client.",
    ),
    keyed(
        "ka.uri.param",
        Kind::UriParam,
        "First value of a query parameter of the request URI (e.g. ka.uri.param[command]).",
    ),
    scalar(
        "ka.target.name",
        &["objectRef", "name"],
        "Target object name.",
    ),
    scalar(
        "ka.target.namespace",
        &["objectRef", "namespace"],
        "Target object namespace.",
    ),
    scalar(
        "ka.target.resource",
        &["objectRef", "resource"],
        "Target object resource.",
    ),
    scalar(
        "ka.target.subresource",
        &["objectRef", "subresource"],
        "Target object subresource.",
    ),
    special(
        "ka.target.pod.name",
        Kind::TargetPodName,
        "Name of the pod in the response object, for requests on pods without subresource.",
    ),
    list(
        "ka.req.binding.subjects",
        &["requestObject", "subjects"],
        "Subjects of a role binding, each as JSON text.",
    ),
    // 20
    list_special(
        "ka.req.binding.subjects.user_names",
        Kind::Subjects(SubjectKind::User),
        "Names of the User subjects of a role binding.",
    ),
    list_special(
        "ka.req.binding.subjects.serviceaccount_names",
        Kind::Subjects(SubjectKind::ServiceAccount),
        "Names of the ServiceAccount subjects of a role binding.",
    ),
    list_special(
        "ka.req.binding.subjects.serviceaccount_ns_names",
        Kind::Subjects(SubjectKind::NamespacedServiceAccount),
        "namespace:name of the ServiceAccount subjects of a role binding.",
    ),
    list_special(
        "ka.req.binding.subjects.group_names",
        Kind::Subjects(SubjectKind::Group),
        "Names of the Group subjects of a role binding.",
    ),
    scalar(
        "ka.req.binding.role",
        &["requestObject", "roleRef", "name"],
        "Role referenced by a role binding.",
    ),
    keyed(
        "ka.req.binding.subject.has_name",
        Kind::HasName,
        "Deprecated: always true (plugin behaviour).",
    ),
    scalar(
        "ka.req.configmap.name",
        &["objectRef", "name"],
        "Target object name (does not check that the target is a configmap).",
    ),
    scalar(
        "ka.req.configmap.obj",
        &["requestObject", "data"],
        "The data of a configmap, as JSON text.",
    ),
    cont("ka.req.pod.containers.args", C, A::Args),
    cont("ka.req.pod.containers.command", C, A::Command),
    // 30
    cont("ka.req.pod.containers.name", C, A::Name),
    cont("ka.req.pod.containers.image", C, A::Image),
    special(
        "ka.req.container.image",
        Kind::ContainerImage,
        "Deprecated: image of the first container.",
    ),
    cont(
        "ka.req.pod.containers.image.repository",
        C,
        A::ImageRepository,
    ),
    special(
        "ka.req.container.image.repository",
        Kind::ContainerImageRepository,
        "Deprecated: repository of the image of the first container.",
    ),
    scalar(
        "ka.req.pod.host_ipc",
        &["requestObject", "spec", "hostIPC"],
        "hostIPC of the pod.",
    ),
    scalar(
        "ka.req.pod.host_network",
        &["requestObject", "spec", "hostNetwork"],
        "hostNetwork of the pod.",
    ),
    scalar(
        "ka.req.container.host_network",
        &["requestObject", "spec", "hostNetwork"],
        "Deprecated alias of ka.req.pod.host_network.",
    ),
    scalar(
        "ka.req.pod.host_pid",
        &["requestObject", "spec", "hostPID"],
        "hostPID of the pod.",
    ),
    cont("ka.req.pod.containers.host_port", C, A::HostPort),
    // 40
    cont("ka.req.pod.containers.privileged", C, A::Privileged),
    special(
        "ka.req.container.privileged",
        Kind::ContainerPrivileged,
        "Deprecated: true if any container has securityContext.privileged set to true.",
    ),
    cont(
        "ka.req.pod.containers.allow_privilege_escalation",
        C,
        A::AllowPrivilegeEscalation,
    ),
    cont("ka.req.pod.containers.read_only_fs", C, A::ReadOnlyFs),
    scalar(
        "ka.req.pod.run_as_user",
        &["requestObject", "spec", "securityContext", "runAsUser"],
        "runAsUser of the pod security context.",
    ),
    cont("ka.req.pod.containers.run_as_user", C, A::RunAsUser),
    cont("ka.req.pod.containers.eff_run_as_user", C, A::EffRunAsUser),
    scalar(
        "ka.req.pod.run_as_group",
        &["requestObject", "spec", "securityContext", "runAsGroup"],
        "runAsGroup of the pod security context.",
    ),
    cont("ka.req.pod.containers.run_as_group", C, A::RunAsGroup),
    cont(
        "ka.req.pod.containers.eff_run_as_group",
        C,
        A::EffRunAsGroup,
    ),
    // 50
    cont("ka.req.pod.containers.proc_mount", C, A::ProcMount),
    list(
        "ka.req.role.rules",
        &["requestObject", "rules"],
        "Rules of a role, each as JSON text.",
    ),
    indexed(
        "ka.req.role.rules.apiGroups",
        Kind::RulesField("apiGroups"),
        "apiGroups of the role rules (of rule i with an index).",
    ),
    indexed(
        "ka.req.role.rules.nonResourceURLs",
        Kind::RulesField("nonResourceURLs"),
        "nonResourceURLs of the role rules (of rule i with an index).",
    ),
    indexed(
        "ka.req.role.rules.verbs",
        Kind::RulesField("verbs"),
        "verbs of the role rules (of rule i with an index).",
    ),
    indexed(
        "ka.req.role.rules.resources",
        Kind::RulesField("resources"),
        "resources of the role rules (of rule i with an index).",
    ),
    scalar(
        "ka.req.pod.fs_group",
        &["requestObject", "spec", "securityContext", "fsGroup"],
        "fsGroup of the pod security context.",
    ),
    list(
        "ka.req.pod.supplemental_groups",
        &[
            "requestObject",
            "spec",
            "securityContext",
            "supplementalGroups",
        ],
        "supplementalGroups of the pod security context.",
    ),
    cont(
        "ka.req.pod.containers.add_capabilities",
        C,
        A::AddCapabilities,
    ),
    scalar(
        "ka.req.service.type",
        &["requestObject", "spec", "type"],
        "Type of a service.",
    ),
    // 60
    indexed(
        "ka.req.service.ports",
        Kind::ServicePorts,
        "Ports of a service, as the JSON text of the whole array (plugin behaviour).",
    ),
    indexed(
        "ka.req.pod.volumes.hostpath",
        Kind::Volumes(&["hostPath", "path"]),
        "hostPath paths of the pod volumes.",
    ),
    keyed(
        "ka.req.volume.hostpath",
        Kind::VolumeHostpathMatch,
        "Deprecated: true if a hostPath volume matches the key (a trailing * matches a prefix).",
    ),
    indexed(
        "ka.req.pod.volumes.flexvolume_driver",
        Kind::Volumes(&["flexVolume", "driver"]),
        "flexVolume drivers of the pod volumes.",
    ),
    indexed(
        "ka.req.pod.volumes.volume_type",
        Kind::VolumeType,
        "Every key other than name of each pod volume.",
    ),
    scalar(
        "ka.resp.name",
        &["responseObject", "metadata", "name"],
        "Name of the response object.",
    ),
    scalar(
        "ka.response.code",
        &["responseStatus", "code"],
        "HTTP response code.",
    ),
    scalar(
        "ka.response.reason",
        &["responseStatus", "reason"],
        "Response status reason.",
    ),
    scalar("ka.useragent", &["userAgent"], "User agent of the client."),
    indexed(
        "ka.sourceips",
        Kind::SourceIps,
        "Source IPs of the request (top-level sourceIPs; the plugin never extracts this field).",
    ),
    // 70
    scalar(
        "ka.cluster.name",
        &["annotations", "cluster_name"],
        "Cluster name annotation.",
    ),
    cont("ka.req.pod.initContainers.name", I, A::Name),
    cont("ka.req.pod.initContainers.image", I, A::Image),
    cont(
        "ka.req.pod.initContainers.image.repository",
        I,
        A::ImageRepository,
    ),
    cont("ka.req.pod.initContainers.command", I, A::Command),
    cont("ka.req.pod.initContainers.args", I, A::Args),
    cont("ka.req.pod.initContainers.privileged", I, A::Privileged),
    cont(
        "ka.req.pod.initContainers.allow_privilege_escalation",
        I,
        A::AllowPrivilegeEscalation,
    ),
    cont("ka.req.pod.initContainers.read_only_fs", I, A::ReadOnlyFs),
    cont("ka.req.pod.initContainers.run_as_user", I, A::RunAsUser),
    // 80
    cont(
        "ka.req.pod.initContainers.eff_run_as_user",
        I,
        A::EffRunAsUser,
    ),
    cont("ka.req.pod.initContainers.run_as_group", I, A::RunAsGroup),
    cont(
        "ka.req.pod.initContainers.eff_run_as_group",
        I,
        A::EffRunAsGroup,
    ),
    cont("ka.req.pod.initContainers.proc_mount", I, A::ProcMount),
    cont(
        "ka.req.pod.initContainers.add_capabilities",
        I,
        A::AddCapabilities,
    ),
    cont("ka.req.pod.initContainers.host_port", I, A::HostPort),
    cont("ka.req.pod.ephemeralContainers.name", E, A::Name),
    cont("ka.req.pod.ephemeralContainers.image", E, A::Image),
    cont(
        "ka.req.pod.ephemeralContainers.image.repository",
        E,
        A::ImageRepository,
    ),
    cont("ka.req.pod.ephemeralContainers.command", E, A::Command),
    // 90
    cont("ka.req.pod.ephemeralContainers.args", E, A::Args),
    cont(
        "ka.req.pod.ephemeralContainers.privileged",
        E,
        A::Privileged,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.allow_privilege_escalation",
        E,
        A::AllowPrivilegeEscalation,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.read_only_fs",
        E,
        A::ReadOnlyFs,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.run_as_user",
        E,
        A::RunAsUser,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.eff_run_as_user",
        E,
        A::EffRunAsUser,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.run_as_group",
        E,
        A::RunAsGroup,
    ),
    cont(
        "ka.req.pod.ephemeralContainers.eff_run_as_group",
        E,
        A::EffRunAsGroup,
    ),
    cont("ka.req.pod.ephemeralContainers.proc_mount", E, A::ProcMount),
    cont(
        "ka.req.pod.ephemeralContainers.add_capabilities",
        E,
        A::AddCapabilities,
    ),
    // 100: json plugin
    keyed(
        "json.value",
        Kind::JsonValue,
        "Value at a JSON pointer in the event (e.g. json.value[/stage]).",
    ),
    special(
        "json.obj",
        Kind::JsonObj,
        "The whole event as JSON text indented with two spaces.",
    ),
    special(
        "json.rawtime",
        Kind::JsonRawtime,
        "Event time in nanoseconds since the epoch, as a string.",
    ),
    keyed("jevt.value", Kind::JsonValue, "Alias of json.value."),
    special("jevt.obj", Kind::JsonObj, "Alias of json.obj."),
    special("jevt.rawtime", Kind::JsonRawtime, "Alias of json.rawtime."),
    // 106: generic event fields
    evt("evt.num", FieldType::U64, Evt::Num, "Event number."),
    evt(
        "evt.time",
        FieldType::String,
        Evt::Time,
        "Event time, local HH:MM:SS.nnnnnnnnn.",
    ),
    evt(
        "evt.time.s",
        FieldType::String,
        Evt::TimeS,
        "Event time, local HH:MM:SS.",
    ),
    evt(
        "evt.time.iso8601",
        FieldType::String,
        Evt::TimeIso8601,
        "Event time in ISO 8601 with nanoseconds (UTC).",
    ),
    // 110
    evt(
        "evt.datetime",
        FieldType::String,
        Evt::Datetime,
        "Event date and time, local, with nanoseconds.",
    ),
    evt(
        "evt.datetime.s",
        FieldType::String,
        Evt::DatetimeS,
        "Event date and time, local, without nanoseconds.",
    ),
    evt(
        "evt.rawtime",
        FieldType::AbsTime,
        Evt::Rawtime,
        "Event time in nanoseconds since the epoch.",
    ),
    evt(
        "evt.rawtime.s",
        FieldType::U64,
        Evt::RawtimeS,
        "Seconds part of the event time.",
    ),
    evt(
        "evt.rawtime.ns",
        FieldType::U64,
        Evt::RawtimeNs,
        "Nanoseconds part of the event time.",
    ),
    evt(
        "evt.reltime",
        FieldType::RelTime,
        Evt::Reltime,
        "Nanoseconds since the first event.",
    ),
    evt(
        "evt.reltime.s",
        FieldType::U64,
        Evt::ReltimeS,
        "Seconds since the first event.",
    ),
    evt(
        "evt.reltime.ns",
        FieldType::U64,
        Evt::ReltimeNs,
        "Nanoseconds part of the time since the first event.",
    ),
    evt(
        "evt.pluginname",
        FieldType::String,
        Evt::PluginName,
        "Name of the plugin that produced the event.",
    ),
    evt(
        "evt.plugininfo",
        FieldType::String,
        Evt::PluginInfo,
        "The event as rendered by its plugin (the stored payload).",
    ),
    // 120
    evt(
        "evt.source",
        FieldType::String,
        Evt::Source,
        "Event source (k8s_audit).",
    ),
    evt(
        "evt.is_async",
        FieldType::Bool,
        Evt::IsAsync,
        "Whether the event is asynchronous (always false).",
    ),
    evt(
        "evt.asynctype",
        FieldType::String,
        Evt::AsyncType,
        "Type of an asynchronous event (never extracted).",
    ),
    evt(
        "evt.hostname",
        FieldType::String,
        Evt::Hostname,
        "Host name (FALCO_HOSTNAME overrides).",
    ),
];

/// Id of `ka.user.name`, whose value the event looks up once for the rule index and the
/// rules alike.
pub(crate) const USER_NAME_ID: u32 = 8;

/// The table row of a field id.
pub(crate) fn def(id: u32) -> Option<&'static Def> {
    DEFS.get(usize::try_from(id).ok()?)
}

/// The id of a field name (without argument).
pub(crate) fn lookup(name: &str) -> Option<u32> {
    DEFS.iter()
        .position(|d| d.name == name)
        .and_then(|i| u32::try_from(i).ok())
}

static DOCS: LazyLock<Vec<FieldDoc>> = LazyLock::new(|| {
    DEFS.iter()
        .map(|d| FieldDoc {
            name: d.name,
            ty: d.ty,
            is_list: d.is_list,
            arg: match d.arg {
                ArgKind::None => "",
                ArgKind::Index => "[i]",
                ArgKind::Key => "[k]",
            },
            desc: d.desc,
        })
        .collect()
});

/// Resolves the field names of the `k8s_audit` source: the 100 `ka.*` fields of k8saudit
/// 0.18.0, `json.*`/`jevt.*` of the json plugin 0.7.4 and libsinsp's generic `evt.*` fields.
///
/// Argument errors use libsinsp's wording (`plugin_filtercheck.cpp`), e.g.
/// `filter 'ka.verb[x]': ka.verb does not allow nor require an argument but one is provided: x`.
#[derive(Debug, Clone, Copy, Default)]
pub struct K8sAuditCatalog;

impl K8sAuditCatalog {
    /// Creates the catalog (a unit value; all state is static).
    #[must_use]
    pub fn new() -> Self {
        K8sAuditCatalog
    }

    /// Whether any of `fields` (a program's) reads the event's sequence number
    /// (`evt.num`): only then must events be numbered before they are evaluated.
    #[must_use]
    pub fn uses_event_number(fields: &[FieldMeta]) -> bool {
        fields.iter().any(|f| f.name == "evt.num")
    }

    /// Descriptions of every field, in field-id order, for `--list`.
    #[must_use]
    pub fn field_docs() -> &'static [FieldDoc] {
        DOCS.as_slice()
    }
}

impl FieldCatalog for K8sAuditCatalog {
    fn resolve(&self, name: &str, arg: Option<&str>) -> Result<FieldMeta, String> {
        let full = match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_string(),
        };
        let Some(id) = lookup(name) else {
            return Err(format!("filter_check called with nonexistent field {full}"));
        };
        let Some(d) = def(id) else {
            return Err(format!("filter_check called with nonexistent field {full}"));
        };
        let index = match (d.arg, arg) {
            (ArgKind::None, None) | (ArgKind::Index, None) => u64::MAX,
            (ArgKind::None, Some(a)) => {
                return Err(format!(
                    "filter '{full}': {name} does not allow nor require an argument but one is provided: {a}"
                ));
            }
            (ArgKind::Key, None) => {
                return Err(format!(
                    "filter '{full}': {name} requires an argument but none provided"
                ));
            }
            (ArgKind::Key, Some(_)) => u64::MAX,
            (ArgKind::Index, Some(a)) => parse_index(a).map_err(|msg| {
                format!("filter {full} {name} has an invalid index argument {msg}: {a}")
            })?,
        };
        Ok(FieldMeta {
            name: d.name.to_string(),
            arg: arg.map(str::to_string),
            id,
            index,
            is_list: d.is_list,
            ty: d.ty,
        })
    }

    fn has_field(&self, name: &str) -> bool {
        lookup(name).is_some()
    }
}

/// libsinsp `extract_arg_index`: digits only, no leading zero except `0` itself, fits in 64
/// bits. The error is the middle of libsinsp's message.
fn parse_index(a: &str) -> Result<u64, &'static str> {
    if !a.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not composed only by digits");
    }
    if a.is_empty() || (a.len() > 1 && a.starts_with('0')) {
        return Err("starting with 0");
    }
    a.parse::<u64>().map_err(|_| "not representable on 64 bit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_plugin_declaration_order() {
        assert_eq!(DEFS.len(), 124);
        assert_eq!(lookup("ka.auditid"), Some(0));
        assert_eq!(lookup("ka.user.name"), Some(USER_NAME_ID));
        assert_eq!(lookup("ka.req.binding.subject.has_name"), Some(25));
        assert_eq!(lookup("ka.req.pod.containers.args"), Some(28));
        assert_eq!(lookup("ka.req.pod.containers.add_capabilities"), Some(58));
        assert_eq!(lookup("ka.sourceips"), Some(69));
        assert_eq!(lookup("ka.cluster.name"), Some(70));
        assert_eq!(lookup("ka.req.pod.initContainers.name"), Some(71));
        assert_eq!(lookup("ka.req.pod.initContainers.host_port"), Some(85));
        assert_eq!(lookup("ka.req.pod.ephemeralContainers.name"), Some(86));
        assert_eq!(
            lookup("ka.req.pod.ephemeralContainers.add_capabilities"),
            Some(99)
        );
        assert_eq!(lookup("json.value"), Some(100));
        assert_eq!(lookup("jevt.rawtime"), Some(105));
        assert_eq!(lookup("evt.num"), Some(106));
        assert_eq!(lookup("evt.hostname"), Some(123));
        assert_eq!(lookup("ka.req.pod.ephemeralContainers.host_port"), None);
        // names are unique
        for (i, d) in DEFS.iter().enumerate() {
            assert_eq!(lookup(d.name), u32::try_from(i).ok(), "{}", d.name);
            assert!(!d.desc.is_empty());
        }
        assert_eq!(DEFS.iter().filter(|d| d.kind.is_ka()).count(), 100);
        assert!(DEFS[..100].iter().all(|d| d.kind.is_ka()));
    }
}
