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
