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
  # Watch StatefulSets and DaemonSets (informer), read them, and patch
  # them: the guard state annotation and the undo (JSON patch with test ops
  # that replaces the pod template).
  - apiGroups: ["apps"]
    resources: ["statefulsets", "daemonsets"]
    verbs: ["get", "list", "watch", "patch"]
  # Find a StatefulSet's or DaemonSet's revisions (informer, undo plan) and
  # stamp them known-good or failed (merge patch of annotations).
  - apiGroups: ["apps"]
    resources: ["controllerrevisions"]
    verbs: ["get", "list", "watch", "patch"]
  # Watch the pods of a rollout (crash loops, image pull errors, restarts).
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list", "watch"]
  # Delete the crash-looping pod of a bad revision that blocks an
  # OrderedReady StatefulSet (with a UID precondition), so that the
  # StatefulSet controller recreates it at the target revision; the
  # admission policy allows no other pod deletion.
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["delete"]
  # Read the logs of a bad revision's pods before rolling it back: the
  # evidence the rollback would destroy (pkg/evidence).
  - apiGroups: [""]
    resources: ["pods/log"]
    verbs: ["get"]
  # Record Events on Deployments, StatefulSets and DaemonSets; read a failing
  # pod's last Warning Event.
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch", "list"]
  # Read the settings ConfigMap (rollback.vibestack.dev/guard-config) and
  # write the incident journal mirror (ConfigMap rollback-inc-...).
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "create", "patch"]
  # Hold the workload's rollback lock (Lease rollback-KIND-NAME in its
  # namespace, the lock `rollback run` takes too) while rolling back.
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update", "delete"]
{{- end -}}
