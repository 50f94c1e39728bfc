{{/* Labels of every object. */}}
{{- define "rollback-guard.labels" -}}
app.kubernetes.io/name: rollback-guard
app.kubernetes.io/part-of: rollback
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The controller's user name, as the API server sees it. */}}
{{- define "rollback-guard.user" -}}
system:serviceaccount:{{ .Release.Namespace }}:rollback-guard
{{- end -}}

{{/* The rules of the controller on the guarded namespaces. */}}
{{- define "rollback-guard.rules" -}}
rules:
  # Watch Deployments (informer), read them, and patch them: the guard state
  # annotation (JSON patch with a test op) and the rollback itself.
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["get", "list", "watch", "patch"]
  # Find a Deployment's revisions (informer, undo plan) and stamp them
  # known-good or failed (merge patch of annotations).
  - apiGroups: ["apps"]
    resources: ["replicasets"]
    verbs: ["get", "list", "watch", "patch"]
  # Watch the pods of a rollout (crash loops, image pull errors, restarts).
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list", "watch"]
  # Record Events on Deployments; read a failing pod's last Warning Event.
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch", "list"]
  # Read the settings ConfigMap (rollback.vibestack.dev/guard-config) and
  # write the incident journal mirror (ConfigMap rollback-inc-...).
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "create", "patch"]
  # Hold the Deployment's rollback lock (Lease rollback-deployment-NAME in
  # its namespace, the lock `rollback run` takes too) while rolling back.
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update", "delete"]
{{- end -}}
