{{/*
Helpers shared by every template of the fabric chart.

Components add their own app.kubernetes.io/component label next to these, e.g.:
  labels:
    {{- include "fabric.labels" . | nindent 4 }}
    app.kubernetes.io/component: registry
and the same component label beside "fabric.selectorLabels" in selectors.
*/}}

{{/*
The chart name, or nameOverride.
*/}}
{{- define "fabric.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else <release>-<name>, else the release name
when it already contains the chart name. Truncated to 63 characters (DNS label limit).
*/}}
{{- define "fabric.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "fabric.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels for every object: the Kubernetes recommended app.kubernetes.io/* labels plus commonLabels.
*/}}
{{- define "fabric.labels" -}}
helm.sh/chart: {{ include "fabric.chart" . }}
{{ include "fabric.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fabric
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels that select the release's objects; they must never change between upgrades.
*/}}
{{- define "fabric.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fabric.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The annotations for every object's metadata (commonAnnotations), as YAML lines, or nothing. Use:
  {{- with include "fabric.annotations" . }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
*/}}
{{- define "fabric.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
A container image reference from a component's image values and the global ones.
Call with a dict: {{ include "fabric.image" (dict "image" .Values.registry.image "root" $) }}
where image has repository and optionally registry, tag and digest. The component's registry and tag
win over global.image.*; the tag defaults to the chart's appVersion; a digest wins over the tag.
*/}}
{{- define "fabric.image" -}}
{{- $global := .root.Values.global.image -}}
{{- $registry := .image.registry | default $global.registry -}}
{{- $repository := required "an image repository is required" .image.repository -}}
{{- $reference := "" -}}
{{- if .image.digest -}}
{{- $reference = printf "@%s" .image.digest -}}
{{- else -}}
{{- $reference = printf ":%s" (.image.tag | default $global.tag | default .root.Chart.AppVersion | toString) -}}
{{- end -}}
{{- if $registry -}}
{{- printf "%s/%s%s" (trimSuffix "/" $registry) $repository $reference -}}
{{- else -}}
{{- printf "%s%s" $repository $reference -}}
{{- end -}}
{{- end }}

{{/*
The image pull policy for a component: its own pullPolicy, else global.image.pullPolicy.
Call with the same dict as "fabric.image".
*/}}
{{- define "fabric.imagePullPolicy" -}}
{{- .image.pullPolicy | default .root.Values.global.image.pullPolicy -}}
{{- end }}

{{/*
The imagePullSecrets block of a pod spec, or nothing.
Use: {{- include "fabric.imagePullSecrets" . | nindent 6 }} at the level of "containers:".
*/}}
{{- define "fabric.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The name of the ServiceAccount the fabric's pods run as.
*/}}
{{- define "fabric.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fabric.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
A security context: the top-level one (podSecurityContext or securityContext) with each key the
component sets replacing the same key. Keys are replaced whole (a component's capabilities replace
the global capabilities), and false or 0 replace too, which sprig's merge would not do.
Call with a dict: {{ include "fabric.securityContext" (dict "global" .Values.securityContext "component" .Values.registry.securityContext) }}
*/}}
{{- define "fabric.securityContext" -}}
{{- $merged := deepCopy (.global | default dict) -}}
{{- range $key, $value := (.component | default dict) }}
{{- $_ := set $merged $key $value }}
{{- end }}
{{- toYaml $merged }}
{{- end }}

{{/*
Registry: the name of its objects (<fullname>-registry).
*/}}
{{- define "fabric.registry.fullname" -}}
{{- printf "%s-registry" (include "fabric.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Registry: the labels that select its pods.
*/}}
{{- define "fabric.registry.selectorLabels" -}}
{{ include "fabric.selectorLabels" . }}
app.kubernetes.io/component: registry
{{- end }}

{{/*
Registry: the labels of its objects.
*/}}
{{- define "fabric.registry.labels" -}}
{{ include "fabric.labels" . }}
app.kubernetes.io/component: registry
{{- end }}

{{/*
Registry: "true" when it uses PostgreSQL (registry.postgresql.url is set), else "" (embedded H2).
*/}}
{{- define "fabric.registry.usesPostgresql" -}}
{{- if .Values.registry.postgresql.url }}true{{ end }}
{{- end }}

{{/*
Registry: refuses values that would render a registry that cannot work. Renders nothing.
*/}}
{{- define "fabric.registry.validate" -}}
{{- $registry := .Values.registry -}}
{{- $replicas := int $registry.replicas -}}
{{- if lt $replicas 0 -}}
{{- fail (printf "registry.replicas must be 0 or more, was %d" $replicas) -}}
{{- end -}}
{{- if hasKey $registry.postgresql "password" -}}
{{- fail "registry.postgresql.password is not a value of this chart: a password never goes into a pod spec. Put it in a Secret (kubectl create secret generic fabric-registry-db --from-literal=password=...) and set registry.postgresql.existingSecret to its name" -}}
{{- end -}}
{{- if include "fabric.registry.usesPostgresql" . -}}
{{- if not (hasPrefix "jdbc:postgresql:" $registry.postgresql.url) -}}
{{- fail (printf "registry.postgresql.url must be a JDBC URL such as jdbc:postgresql://postgres:5432/fabric, was %q" $registry.postgresql.url) -}}
{{- end -}}
{{- if not $registry.postgresql.existingSecret -}}
{{- fail "registry.postgresql.existingSecret is required with registry.postgresql.url: name the Secret that holds the database password (key registry.postgresql.passwordKey, default \"password\")" -}}
{{- end -}}
{{- else if gt $replicas 1 -}}
{{- fail (printf "registry.replicas is %d, but without registry.postgresql.url the registry keeps its data in an embedded H2 database that only one replica can own: set registry.replicas=1, or set registry.postgresql.url (and registry.postgresql.existingSecret) to run several replicas on PostgreSQL" $replicas) -}}
{{- end -}}
{{- $heartbeat := $registry.heartbeat -}}
{{- if not (regexMatch "^[0-9]+(ns|us|ms|s|m|h|d)$" ($heartbeat.interval | toString)) -}}
{{- fail (printf "registry.heartbeat.interval must be a duration with a unit such as 2s or 500ms, was %q" ($heartbeat.interval | toString)) -}}
{{- end -}}
{{- if or (lt (int $heartbeat.suspectAfter) 1) (lt (int $heartbeat.deadAfter) (int $heartbeat.suspectAfter)) -}}
{{- fail (printf "registry.heartbeat needs 1 <= suspectAfter <= deadAfter, was suspectAfter=%v deadAfter=%v" $heartbeat.suspectAfter $heartbeat.deadAfter) -}}
{{- end -}}
{{- if not .Values.keys.secretName -}}
{{- fail "keys.secretName is required: the Secret with fabric.key and fabric.pub that every fabric member mounts" -}}
{{- end -}}
{{- end }}
