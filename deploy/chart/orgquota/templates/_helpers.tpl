{{/* The release's full name: the release name if it contains the chart's name, else both. */}}
{{- define "orgquota.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "orgquota.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "orgquota.labels" -}}
{{ include "orgquota.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "orgquota.serviceAccountName" -}}
{{- default (include "orgquota.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The operator's identity as the apiserver sees it (for the admission policies). */}}
{{- define "orgquota.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "orgquota.serviceAccountName" .) -}}
{{- end -}}

{{- define "orgquota.webhookServiceName" -}}
{{- printf "%s-webhook" (include "orgquota.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "orgquota.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "orgquota.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "orgquota.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* A CEL list literal of strings: ["a", "b"] (JSON strings are valid CEL strings). */}}
{{- define "orgquota.celList" -}}
{{- toJson (default list .) -}}
{{- end -}}

{{/* What every webhook of the configuration shares (orgquota.controller.webhooks.webhook_configuration). */}}
{{- define "orgquota.webhookCommon" -}}
sideEffects: None
admissionReviewVersions: [v1]
timeoutSeconds: 10
matchPolicy: Equivalent
{{- end -}}

{{- define "orgquota.apiName" -}}
{{- printf "%s-api" (include "orgquota.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "orgquota.apiSelectorLabels" -}}
app.kubernetes.io/name: orgquota-api
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "orgquota.apiServiceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "orgquota.apiName" .) -}}
{{- end -}}
