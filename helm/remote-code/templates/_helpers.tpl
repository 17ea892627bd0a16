{{/*
Names, labels and small derivations shared by the templates. Kept to plain lookups so that the
rendered objects can be compared with manifests/ (docs/helm.md says how).
*/}}

{{/* Object names: the release name, or <release>-remote-code when it lacks the chart's name. */}}
{{- define "remote-code.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* --namespace: the namespace every namespaced object of the chart goes to. */}}
{{- define "remote-code.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* The operator pods: manifests/' labels plus the release, so that two releases never mix. */}}
{{- define "remote-code.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "remote-code.labels" -}}
{{ include "remote-code.selectorLabels" . }}
app.kubernetes.io/part-of: remote-code
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The port of a [host]:port bind address (values.schema.json requires the port). */}}
{{- define "remote-code.port" -}}
{{- splitList ":" . | last -}}
{{- end -}}

{{/* --auth-url: the value, else this release's portal Service (as ingress-nginx reaches it). */}}
{{- define "remote-code.authUrl" -}}
{{- if .Values.workspaces.authUrl -}}
{{- .Values.workspaces.authUrl -}}
{{- else -}}
{{- $service := printf "%s-portal.%s.svc" (include "remote-code.fullname" .) (include "remote-code.namespace" .) -}}
{{- printf "http://%s:%s/auth/workspace" $service (include "remote-code.port" .Values.portal.bindAddress) -}}
{{- end -}}
{{- end -}}
