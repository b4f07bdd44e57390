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
The authorities a service receives signed requests under besides those it discovers (its pod's
addresses on its own port): its Service's DNS names on the Service port, and
fabric.security.signature.authorities. Rendered as FABRIC_SECURITY_SIGNATURE_AUTHORITIES.
Call with (dict "service" NAME "port" PORT "root" $).
*/}}
{{- define "fabric.signatureAuthorities" -}}
{{- $root := .root -}}
{{- $ns := $root.Release.Namespace -}}
{{- $port := int .port -}}
{{- $names := list .service (printf "%s.%s" .service $ns) (printf "%s.%s.svc" .service $ns) (printf "%s.%s.svc.%s" .service $ns $root.Values.clusterDomain) -}}
{{- $authorities := list -}}
{{- range $names }}{{ $authorities = append $authorities (printf "%s:%d" . $port) }}{{ end -}}
{{- $extra := $root.Values.fabric.security.signature.authorities | default list -}}
{{- if kindIs "string" $extra }}{{ $extra = splitList "," $extra }}{{ end -}}
{{- join "," (concat $authorities $extra) -}}
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

{{/*
Escrow: the name of the example's objects (<fullname>-escrow-example).
*/}}
{{- define "fabric.escrow.example.fullname" -}}
{{- printf "%s-escrow-example" (include "fabric.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Escrow: the labels that select the example's pods.
*/}}
{{- define "fabric.escrow.example.selectorLabels" -}}
{{ include "fabric.selectorLabels" . }}
app.kubernetes.io/component: escrow-example
{{- end }}

{{/*
Escrow: the labels of the example's objects.
*/}}
{{- define "fabric.escrow.example.labels" -}}
{{ include "fabric.labels" . }}
app.kubernetes.io/component: escrow-example
{{- end }}

{{/*
Escrow: the directory the sidecar and the app share, the one holding the socket (dir of socketPath).
Call with the sidecar's values: {{ include "fabric.escrow.socketDir" .Values.escrow.sidecar }}
*/}}
{{- define "fabric.escrow.socketDir" -}}
{{- dir .socketPath -}}
{{- end }}

{{/*
Escrow: refuses sidecar values that cannot work. Renders nothing.
Call with the same dict as "fabric.escrow.sidecar".
*/}}
{{- define "fabric.escrow.validate" -}}
{{- $sidecar := .sidecar -}}
{{- $path := $sidecar.socketPath | toString -}}
{{- if not (hasPrefix "/" $path) -}}
{{- fail (printf "escrow.sidecar.socketPath must be an absolute path such as /run/escrow/escrow.sock, was %q" $path) -}}
{{- end -}}
{{- if eq (dir $path) "/" -}}
{{- fail (printf "escrow.sidecar.socketPath must be in a directory of its own (the shared emptyDir is mounted there), not in /: %q" $path) -}}
{{- end -}}
{{- if gt (len $path) 107 -}}
{{- fail (printf "escrow.sidecar.socketPath is %d bytes long; a UNIX socket path has at most 107: %q" (len $path) $path) -}}
{{- end -}}
{{- $nrTags := int $sidecar.nrTags -}}
{{- if or (lt $nrTags 1) (gt $nrTags 32768) -}}
{{- fail (printf "escrow.sidecar.nrTags must be between 1 and 32768 (tags travel as int16), was %v" $sidecar.nrTags) -}}
{{- end -}}
{{- range $key := list "allowedUids" "allowedGids" -}}
{{- $ids := get $sidecar $key | default list -}}
{{- if not (kindIs "slice" $ids) -}}
{{- fail (printf "escrow.sidecar.%s must be a list of numeric ids (0 or more), such as [10001], was %v" $key $ids) -}}
{{- end -}}
{{- range $id := $ids -}}
{{- if kindIs "string" $id -}}
{{- if not (regexMatch "^[0-9]+$" $id) -}}
{{- fail (printf "escrow.sidecar.%s must list numeric ids (0 or more), found %q" $key $id) -}}
{{- end -}}
{{- else if or (not (kindIs "float64" $id | or (kindIs "int64" $id) | or (kindIs "int" $id))) (lt (int64 $id) 0) -}}
{{- fail (printf "escrow.sidecar.%s must list numeric ids (0 or more), found %v" $key $id) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
Escrow: the sidecar container, for the initContainers of any pod whose app keeps its sockets in the
escrow. It is a native sidecar (restartPolicy: Always): it starts, and its startup probe passes once
the socket accepts, before the app containers start; it keeps running while they restart; the
kubelet stops it after them. Use it in your own pod spec:

  initContainers:
    {{- include "fabric.escrow.sidecar" (dict "root" $ "sidecar" .Values.escrow.sidecar) | nindent 4 }}
  containers:
    - name: app
      # Same uid as the sidecar: the socket is mode 0600 and the sidecar admits its own uid.
      env:
        - name: ESCROW_PATH
          value: {{ .Values.escrow.sidecar.socketPath | quote }}
      volumeMounts:
        {{- include "fabric.escrow.volumeMount" .Values.escrow.sidecar | nindent 8 }}
  volumes:
    {{- include "fabric.escrow.volumes" . | nindent 4 }}

"sidecar" takes the keys of escrow.sidecar in values.yaml (image, socketPath, nrTags, allowedUids,
allowedGids, shutdownGrace, verbose, httpPort, resources, probes, securityContext, extraEnv).
From a chart that has fabric as a dependency, pass .Values.fabric.escrow.sidecar (fabric's defaults,
with your overrides) and set its image.tag: the tag otherwise defaults to your chart's appVersion.
The container security context is the chart's securityContext (least privilege when absent) with
sidecar.securityContext's keys on top; the uid comes from the pod (podSecurityContext.runAsUser).
*/}}
{{- define "fabric.escrow.sidecar" -}}
{{- include "fabric.escrow.validate" . -}}
{{- $root := .root -}}
{{- $sidecar := .sidecar -}}
{{- $global := dict -}}
{{- if $root.Values.global -}}
{{- $global = $root.Values.global.image | default dict -}}
{{- end -}}
{{- $image := $sidecar.image -}}
{{- $registry := $image.registry | default $global.registry -}}
{{- $reference := printf ":%s" ($image.tag | default $global.tag | default $root.Chart.AppVersion | toString) -}}
{{- if $image.digest -}}
{{- $reference = printf "@%s" $image.digest -}}
{{- end -}}
{{- $leastPrivilege := dict "runAsNonRoot" true "readOnlyRootFilesystem" true "allowPrivilegeEscalation" false "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- $httpPort := int ($sidecar.httpPort | default 8471) -}}
- name: escrow-sidecar
  image: {{ printf "%s%s%s" (ternary (printf "%s/" (trimSuffix "/" ($registry | toString))) "" (not (empty $registry))) (required "escrow.sidecar.image.repository is required" $image.repository) $reference | quote }}
  imagePullPolicy: {{ $image.pullPolicy | default $global.pullPolicy | default "IfNotPresent" }}
  # A native sidecar: started before the app containers, kept while they restart, stopped after them.
  restartPolicy: Always
  securityContext:
    {{- include "fabric.securityContext" (dict "global" ($root.Values.securityContext | default $leastPrivilege) "component" $sidecar.securityContext) | nindent 4 }}
  ports:
    - name: escrow-http
      containerPort: {{ $httpPort }}
      protocol: TCP
  env:
    - name: FABRIC_ESCROW_SOCKETPATH
      value: {{ $sidecar.socketPath | quote }}
    - name: FABRIC_ESCROW_NRTAGS
      value: {{ int $sidecar.nrTags | quote }}
    {{- range $key, $variable := dict "allowedUids" "FABRIC_ESCROW_ALLOWEDUIDS" "allowedGids" "FABRIC_ESCROW_ALLOWEDGIDS" }}
    {{- with (get $sidecar $key) }}
    {{- $ids := list }}
    {{- range . }}
    {{- $ids = append $ids (int64 .) }}
    {{- end }}
    - name: {{ $variable }}
      value: {{ join "," $ids | quote }}
    {{- end }}
    {{- end }}
    - name: FABRIC_ESCROW_SHUTDOWNGRACE
      value: {{ $sidecar.shutdownGrace | default "5s" | toString | quote }}
    - name: FABRIC_ESCROW_VERBOSE
      value: {{ $sidecar.verbose | default false | toString | quote }}
    - name: SERVER_PORT
      value: {{ $httpPort | quote }}
    {{- with $sidecar.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  # The app containers start once this passes: the escrow socket accepts.
  startupProbe:
    httpGet:
      path: /actuator/health/readiness
      port: escrow-http
    {{- toYaml $sidecar.probes.startup | nindent 4 }}
  # The JVM only: restarting the sidecar closes every descriptor it holds.
  livenessProbe:
    httpGet:
      path: /actuator/health/liveness
      port: escrow-http
    {{- toYaml $sidecar.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /actuator/health/readiness
      port: escrow-http
    {{- toYaml $sidecar.probes.readiness | nindent 4 }}
  {{- with $sidecar.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    {{- include "fabric.escrow.volumeMount" $sidecar | nindent 4 }}
    # The root file system is read-only: junixsocket's native library goes here.
    - name: escrow-tmp
      mountPath: /tmp
{{- end }}

{{/*
Escrow: the app container's mount of the shared socket directory. Call with the sidecar's values.
*/}}
{{- define "fabric.escrow.volumeMount" -}}
- name: escrow-socket
  mountPath: {{ include "fabric.escrow.socketDir" . }}
{{- end }}

{{/*
Escrow: the pod's volumes for the sidecar: the socket directory both containers share (in memory:
it holds a socket, a stats socket and an empty lock file) and the sidecar's /tmp.
*/}}
{{- define "fabric.escrow.volumes" -}}
- name: escrow-socket
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
- name: escrow-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
