{{/*
Names, labels and the facts of each process that every template shares.
*/}}

{{- define "leafresh-feedback.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix of every object name; the release name alone when it already contains the chart name. */}}
{{- define "leafresh-feedback.fullname" -}}
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

{{- define "leafresh-feedback.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "leafresh-feedback.labels" -}}
helm.sh/chart: {{ include "leafresh-feedback.chart" . }}
app.kubernetes.io/name: {{ include "leafresh-feedback.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: leafresh
{{- end }}

{{/*
The enabled processes: the values key of each, its command (as in docker-compose.yml and the
package.json start:* scripts), the port its probes and metrics use and the variable that sets that
port. Ranged over in sorted order: api, sqs-bridge, worker.
*/}}
{{- define "leafresh-feedback.processes" -}}
{{- if .Values.api.enabled }}
api:
  values: api
  command: [node, dist/src/api/main.js]
  portValue: port
  portEnv: API_PORT
  portName: http
{{- end }}
{{- if .Values.bridge.enabled }}
sqs-bridge:
  values: bridge
  command: [node, --max-semi-space-size=2, dist/src/sqs-bridge/main.js]
  portValue: healthPort
  portEnv: BRIDGE_HEALTH_PORT
  portName: health
{{- end }}
{{- if .Values.worker.enabled }}
worker:
  values: worker
  command: [node, dist/src/worker/main.js]
  portValue: healthPort
  portEnv: WORKER_HEALTH_PORT
  portName: health
{{- end }}
{{- end }}

{{/* The facts of one process: include with (dict "root" $ "process" "api"). */}}
{{- define "leafresh-feedback.process" -}}
{{- $all := include "leafresh-feedback.processes" .root | fromYaml }}
{{- $p := index $all .process }}
{{- $values := index .root.Values $p.values }}
{{- toYaml (merge (dict "name" .process "port" (index $values $p.portValue)) $p) }}
{{- end }}

{{/*
The full name with a suffix, the full name truncated before it so that the suffix survives within 63
characters: include with (dict "root" $ "suffix" "api"). Long release names would otherwise give the
processes the same names.
*/}}
{{- define "leafresh-feedback.suffixed" -}}
{{- $room := sub 62 (len .suffix) | int }}
{{- printf "%s-%s" (include "leafresh-feedback.fullname" .root | trunc $room | trimSuffix "-") .suffix }}
{{- end }}

{{/* Name of one process's objects (Deployment, ServiceAccount, PodDisruptionBudget…). */}}
{{- define "leafresh-feedback.componentName" -}}
{{- include "leafresh-feedback.suffixed" (dict "root" .root "suffix" .process) }}
{{- end }}

{{/* Selector labels of one process's pods. */}}
{{- define "leafresh-feedback.selectorLabels" -}}
app.kubernetes.io/name: {{ include "leafresh-feedback.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .process }}
{{- end }}

{{/* Labels of one process's objects. */}}
{{- define "leafresh-feedback.componentLabels" -}}
{{ include "leafresh-feedback.labels" .root }}
app.kubernetes.io/component: {{ .process }}
{{- end }}

{{- define "leafresh-feedback.serviceAccountName" -}}
{{- $values := index .root.Values (include "leafresh-feedback.process" . | fromYaml).values }}
{{- if $values.serviceAccount.create }}
{{- default (include "leafresh-feedback.componentName" .) $values.serviceAccount.name }}
{{- else }}
{{- default "default" $values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "leafresh-feedback.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The ConfigMap of the settings every process reads. */}}
{{- define "leafresh-feedback.configName" -}}
{{- include "leafresh-feedback.suffixed" (dict "root" . "suffix" "config") }}
{{- end }}

{{/* The setting of config.<name>, or "" when it is unset or empty. */}}
{{- define "leafresh-feedback.setting" -}}
{{- $value := index .root.Values.config .name }}
{{- if not (kindIs "invalid" $value) }}{{ toString $value }}{{ end }}
{{- end }}

{{/*
Variables that hold secrets or that the chart sets itself: never in `config` or a process's `env`.
A secret in a ConfigMap is readable by anyone who may read ConfigMaps; a port set twice would leave
the probes on the wrong one.
*/}}
{{- define "leafresh-feedback.reservedVariables" -}}
secrets: [API_AUTH_TOKEN, API_AUTH_HMAC_SECRET, BE_CALLBACK_AUTHORIZATION, BE_CALLBACK_SIGNING_SECRET, VLLM_API_KEY, TEMPORAL_API_KEY, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN]
chart: [API_PORT, BRIDGE_HEALTH_PORT, WORKER_HEALTH_PORT, API_AUTH_MODE, TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH, TEMPORAL_TLS_CA_PATH]
{{- end }}

{{/* Fails on a reserved variable in a map of settings: include with (dict "root" $ "where" "config" "vars" .Values.config). */}}
{{- define "leafresh-feedback.checkVariables" -}}
{{- $reserved := include "leafresh-feedback.reservedVariables" .root | fromYaml }}
{{- range $name, $_ := .vars }}
{{- if has $name $reserved.secrets }}
{{- fail (printf "%s.%s: a secret; reference an existing Secret under `secrets` instead (see README.md)" $.where $name) }}
{{- end }}
{{- if has $name $reserved.chart }}
{{- fail (printf "%s.%s: set by the chart (ports: api.port, bridge.healthPort, worker.healthPort; API_AUTH_MODE: api.auth.mode; TLS paths: secrets.temporalTls)" $.where $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment variables from the Secrets (secretKeyRef), for one process. */}}
{{- define "leafresh-feedback.secretEnv" -}}
{{- $s := .root.Values.secrets }}
{{- if $s.temporalApiKey.name }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef: { name: {{ $s.temporalApiKey.name | quote }}, key: {{ $s.temporalApiKey.key | quote }} }
{{- end }}
{{- if $s.temporalTls.name }}
{{- if or $s.temporalTls.certKey $s.temporalTls.keyKey }}
- name: TEMPORAL_TLS_CERT_PATH
  value: {{ printf "%s/%s" $s.temporalTls.mountPath $s.temporalTls.certKey | quote }}
- name: TEMPORAL_TLS_KEY_PATH
  value: {{ printf "%s/%s" $s.temporalTls.mountPath $s.temporalTls.keyKey | quote }}
{{- end }}
{{- if $s.temporalTls.caKey }}
- name: TEMPORAL_TLS_CA_PATH
  value: {{ printf "%s/%s" $s.temporalTls.mountPath $s.temporalTls.caKey | quote }}
{{- end }}
{{- end }}
{{- if eq .process "api" }}
{{- $mode := .root.Values.api.auth.mode }}
{{- if and (ne $mode "none") (not $s.apiAuth.name) }}
{{- fail (printf "api.auth.mode=%s needs secrets.apiAuth.name: an existing Secret with the %s" $mode (ternary "token" "HMAC secret" (eq $mode "bearer"))) }}
{{- end }}
{{- if eq $mode "bearer" }}
- name: API_AUTH_TOKEN
  valueFrom:
    secretKeyRef: { name: {{ $s.apiAuth.name | quote }}, key: {{ $s.apiAuth.tokenKey | quote }} }
{{- else if eq $mode "hmac" }}
- name: API_AUTH_HMAC_SECRET
  valueFrom:
    secretKeyRef: { name: {{ $s.apiAuth.name | quote }}, key: {{ $s.apiAuth.hmacSecretKey | quote }} }
{{- end }}
{{- end }}
{{- if eq .process "worker" }}
{{- if and $s.callback.name $s.callback.authorizationKey }}
- name: BE_CALLBACK_AUTHORIZATION
  valueFrom:
    secretKeyRef: { name: {{ $s.callback.name | quote }}, key: {{ $s.callback.authorizationKey | quote }} }
{{- end }}
{{- if and $s.callback.name $s.callback.signingSecretKey }}
- name: BE_CALLBACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: { name: {{ $s.callback.name | quote }}, key: {{ $s.callback.signingSecretKey | quote }} }
{{- end }}
{{- if $s.vllmApiKey.name }}
- name: VLLM_API_KEY
  valueFrom:
    secretKeyRef: { name: {{ $s.vllmApiKey.name | quote }}, key: {{ $s.vllmApiKey.key | quote }} }
{{- end }}
{{- end }}
{{- end }}

{{/*
A setting's value as the text a process reads. Helm reads numbers in values as floats, which print
as 1e+06: whole numbers are printed as integers.
*/}}
{{- define "leafresh-feedback.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}{{ int64 . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}
