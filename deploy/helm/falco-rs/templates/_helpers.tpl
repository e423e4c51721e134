{{/* Chart name. */}}
{{- define "falco-rs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "falco-rs.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "falco-rs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "falco-rs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "falco-rs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "falco-rs.labels" -}}
helm.sh/chart: {{ include "falco-rs.chart" . }}
{{ include "falco-rs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ include "falco-rs.mode" . }}
{{- end }}

{{- define "falco-rs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "falco-rs.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The validated mode. */}}
{{- define "falco-rs.mode" -}}
{{- if not (has .Values.mode (list "webhook" "eks")) }}
{{- fail (printf "mode must be \"webhook\" or \"eks\", not %q" (toString .Values.mode)) }}
{{- end }}
{{- .Values.mode }}
{{- end }}

{{- define "falco-rs.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) }}
{{- end }}

{{- define "falco-rs.replicas" -}}
{{- if eq (include "falco-rs.mode" .) "eks" }}1{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{- define "falco-rs.webserverEnabled" -}}
{{- $ws := .Values.falco.webserver | default dict }}
{{- if and $ws (ne (toString (index $ws "enabled")) "false") }}true{{ end }}
{{- end }}

{{- define "falco-rs.webserverPort" -}}
{{- $ws := .Values.falco.webserver | default dict }}
{{- int (default 8765 (index $ws "listen_port")) }}
{{- end }}

{{- define "falco-rs.authSecretName" -}}
{{- if .Values.webhook.auth.existingSecret }}
{{- .Values.webhook.auth.existingSecret }}
{{- else }}
{{- printf "%s-webhook-token" (include "falco-rs.fullname" .) }}
{{- end }}
{{- end }}

{{- define "falco-rs.checkpointClaimName" -}}
{{- default (printf "%s-checkpoint" (include "falco-rs.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
The k8saudit / k8saudit-eks plugin entry, from mode + webhook/eks values.
*/}}
{{- define "falco-rs.plugins" -}}
{{- $mode := include "falco-rs.mode" . }}
{{- if eq $mode "webhook" }}
{{- $w := .Values.webhook }}
{{- $init := dict "maxEventSize" (int $w.maxEventSize) "webhookMaxBatchSize" (int $w.webhookMaxBatchSize) "maxQueuedEvents" (int $w.maxQueuedEvents) "dedupWindow" (int $w.dedupWindow) }}
{{- $scheme := "http" }}
{{- if $w.tls.enabled }}
{{- if not $w.tls.secretName }}{{ fail "webhook.tls.enabled needs webhook.tls.secretName (a Secret with the certificate chain and key in one PEM)" }}{{ end }}
{{- $scheme = "https" }}
{{- $_ := set $init "sslCertificate" (printf "/var/run/secrets/falco-rs/tls/%s" $w.tls.key) }}
{{- if $w.tls.clientCA.enabled }}
{{- if not $w.tls.clientCA.secretName }}{{ fail "webhook.tls.clientCA.enabled needs webhook.tls.clientCA.secretName" }}{{ end }}
{{- $_ := set $init "clientCAFile" (printf "/var/run/secrets/falco-rs/client-ca/%s" $w.tls.clientCA.key) }}
{{- end }}
{{- end }}
{{- if $w.auth.enabled }}
{{- if and (not $w.auth.existingSecret) (not $w.auth.token) }}{{ fail "webhook.auth.enabled needs webhook.auth.existingSecret or webhook.auth.token" }}{{ end }}
{{- $_ := set $init "authTokenFile" (printf "/var/run/secrets/falco-rs/token/%s" $w.auth.key) }}
{{- end }}
{{- $init = mergeOverwrite $init ($w.extraInitConfig | default dict) }}
{{- $k := dict "name" "k8saudit" "library_path" "libk8saudit.so" "init_config" $init "open_params" (printf "%s://:%d%s" $scheme (int $w.port) $w.path) }}
{{- $json := dict "name" "json" "library_path" "libjson.so" "init_config" "" }}
{{- toYaml (dict "load_plugins" (list "k8saudit" "json") "plugins" (list $k $json)) }}
{{- else }}
{{- $e := .Values.eks }}
{{- if not $e.clusterName }}{{ fail "mode=eks needs eks.clusterName" }}{{ end }}
{{- $init := dict "shift" (int $e.shift) "polling_interval" (int $e.pollingInterval) "lookback" (int $e.lookback) "page_size" (int $e.pageSize) "max_event_size" (int $e.maxEventSize) }}
{{- if $e.region }}{{ $_ := set $init "region" $e.region }}{{ end }}
{{- if $e.profile }}{{ $_ := set $init "profile" $e.profile }}{{ end }}
{{- if $e.checkpoint.enabled }}{{ $_ := set $init "checkpoint_file" $e.checkpoint.path }}{{ end }}
{{- $init = mergeOverwrite $init ($e.extraInitConfig | default dict) }}
{{- $k := dict "name" "k8saudit-eks" "library_path" "libk8saudit-eks.so" "init_config" $init "open_params" (toString $e.clusterName) }}
{{- $json := dict "name" "json" "library_path" "libjson.so" "init_config" "" }}
{{- toYaml (dict "load_plugins" (list "k8saudit-eks" "json") "plugins" (list $k $json)) }}
{{- end }}
{{- end }}

{{/* The whole falco.yaml. */}}
{{- define "falco-rs.falcoYaml" -}}
{{- $cfg := deepCopy (.Values.falco | default dict) }}
{{- $gen := include "falco-rs.plugins" . | fromYaml }}
{{- if not (hasKey $cfg "plugins") }}{{ $_ := set $cfg "plugins" $gen.plugins }}{{ end }}
{{- if not (hasKey $cfg "load_plugins") }}{{ $_ := set $cfg "load_plugins" $gen.load_plugins }}{{ end }}
{{- toYaml $cfg }}
{{- end }}
