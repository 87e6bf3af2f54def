{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "paddock.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, with the chart name unless the release already contains it. */}}
{{- define "paddock.fullname" -}}
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

{{- define "paddock.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "paddock.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paddock.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "paddock.labels" -}}
helm.sh/chart: {{ include "paddock.chart" . }}
{{ include "paddock.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: server
{{- end }}

{{- define "paddock.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "paddock.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "paddock.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* cuda with a GPU, cpu without, unless paddock.runtime says otherwise. */}}
{{- define "paddock.runtime" -}}
{{- if .Values.paddock.runtime }}{{ .Values.paddock.runtime }}{{ else if .Values.gpu.enabled }}cuda{{ else }}cpu{{ end }}
{{- end }}

{{- define "paddock.modelsClaim" -}}
{{- default (printf "%s-models" (include "paddock.fullname" .)) .Values.models.persistence.existingClaim }}
{{- end }}

{{- define "paddock.keysSecret" -}}
{{- default (printf "%s-keys" (include "paddock.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{- define "paddock.keysFileName" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}keys.yaml{{ end }}
{{- end }}

{{/* The metrics port: the management port when set, else the service's http port. */}}
{{- define "paddock.metricsPortName" -}}
{{- if .Values.metrics.port }}metrics{{ else }}http{{ end }}
{{- end }}

{{/* application.yaml: the chart's settings, with paddock.extraConfig merged over them. */}}
{{- define "paddock.applicationYaml" -}}
{{- $engine := dict }}
{{- $e := .Values.paddock.engine }}
{{- range $key, $name := dict "maxNumSeqs" "max-num-seqs" "maxQueued" "max-queued" "maxQueuedPromptTokens" "max-queued-prompt-tokens" "maxQueueWait" "max-queue-wait" "kvCacheMemory" "kv-cache-memory" }}
{{- with get $e $key }}{{ $_ := set $engine $name . }}{{ end }}
{{- end }}
{{- $paths := list }}
{{- range .Values.models.names }}{{ $paths = append $paths (printf "%s/%s" $.Values.models.mountPath .) }}{{ end }}
{{- $paddock := dict
      "runtime" (include "paddock.runtime" .)
      "model" (dict "path" (join "," $paths) "threads" .Values.paddock.threads)
      "engine" $engine
      "drain-timeout" (printf "%ds" (int .Values.paddock.drainTimeoutSeconds)) }}
{{- if .Values.auth.enabled }}
{{- $_ := set $paddock "auth" (dict "keys-file" (printf "/etc/paddock/keys/%s" (include "paddock.keysFileName" .))) }}
{{- end }}
{{- $config := dict
      "server" (dict "port" (int .Values.service.port) "shutdown" "graceful")
      "spring" (dict "lifecycle" (dict "timeout-per-shutdown-phase" (printf "%ds" (int .Values.paddock.drainTimeoutSeconds))))
      "paddock" $paddock }}
{{- with .Values.metrics.port }}
{{- /* actuator's Prometheus endpoint as /metrics on the management port (docs/metrics.md) */}}
{{- $_ := set $config "management" (dict "server" (dict "port" (int .))
      "endpoints" (dict "web" (dict "base-path" "/" "path-mapping" (dict "prometheus" "metrics")))) }}
{{- end }}
{{- $merged := mustMergeOverwrite $config (deepCopy .Values.paddock.extraConfig) }}
{{- toYaml $merged }}
{{- end }}
