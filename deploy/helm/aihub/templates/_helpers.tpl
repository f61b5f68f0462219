{{- define "aihub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aihub.fullname" -}}
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

{{- define "aihub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aihub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aihub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aihub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "aihub.secretName" -}}
{{- default (include "aihub.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* Refuse values that would lose data or split state between replicas. */}}
{{- define "aihub.validate" -}}
{{- if not .Values.existingSecret }}
{{- if not .Values.secrets.AIHUB_SECRET_KEY }}
{{- fail "secrets.AIHUB_SECRET_KEY is required (openssl rand -hex 32): without it each pod would make its own key and lose access to the stored provider keys" }}
{{- end }}
{{- if and (not .Values.secrets.DATABASE_URL) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail "more than one replica needs PostgreSQL: set secrets.DATABASE_URL (or replicaCount: 1 with persistence.enabled for SQLite)" }}
{{- end }}
{{- end }}
{{- end }}
