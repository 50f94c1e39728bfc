// Package ownership answers, before any write, who else manages a workload
// and whether that owner would put back what a rollback writes: a
// controller ownerReference (an operator's custom resource), Argo CD (by
// every tracking method it supports, and the Application's sync policy
// when it can be read), Flux (Kustomization and HelmRelease markers, and
// the per-object opt-out), and Helm releases.
//
// It works on any workload kind: it reads only the object's metadata
// (metav1.Object) and its kind, plus, when Argo CD marks the object, the
// Application through a narrow reader.
package ownership
