package ownership

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Checker runs the ownership check.
type Checker struct {
	// Applications reads Argo CD Applications; nil means they are not read,
	// and an Argo CD marker then blocks as if automated sync were on.
	Applications ApplicationReader
	// ArgoNamespace is where Applications live; "" means DefaultArgoNamespace.
	ArgoNamespace string
}

// Check returns the owners of the workload of kind (Deployment,
// StatefulSet, DaemonSet, ...) whose metadata is obj, blocking ones first.
func (c Checker) Check(ctx context.Context, kind string, obj metav1.Object) Verdict {
	v := Verdict{Kind: kind, Name: obj.GetName(), Namespace: obj.GetNamespace()}
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			v.Owners = append(v.Owners, operator(kind, obj, ref))
		}
	}
	if o, warn := c.argo(ctx, obj); o != nil {
		v.Owners = append(v.Owners, *o)
	} else if warn != "" {
		v.Warnings = append(v.Warnings, warn)
	}
	v.Owners = append(v.Owners, flux(obj)...)
	if o := helmRelease(kind, obj); o != nil {
		v.Owners = append(v.Owners, *o)
	}
	sort.SliceStable(v.Owners, func(i, j int) bool { return v.Owners[i].Blocks && !v.Owners[j].Blocks })
	return v
}

// operator is the owner behind a controller ownerReference.
func operator(kind string, obj metav1.Object, ref metav1.OwnerReference) Owner {
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	resource := strings.ToLower(ref.Kind)
	if gv.Group != "" {
		resource += "." + gv.Group
	}
	ns := obj.GetNamespace()
	return Owner{
		Kind: KindOperator, Name: ref.Name, Namespace: ns,
		Resource: fmt.Sprintf("%s (%s)", ref.Kind, ref.APIVersion),
		Reverts:  true, Blocks: true,
		Why:      fmt.Sprintf("its controller ownerReference points at %s %s, whose operator reconciles the %s and reverts direct edits", ref.Kind, ref.Name, strings.ToLower(kind)),
		Markers:  []string{fmt.Sprintf("ownerReference %s/%s %s (controller)", ref.APIVersion, ref.Kind, ref.Name)},
		Commands: []string{fmt.Sprintf("kubectl edit %s %s -n %s", resource, ref.Name, ns)},
		Drift:    fmt.Sprintf("%s %s still asks for the bad version: its operator puts it back at the next reconcile unless the custom resource is changed too", ref.Kind, ref.Name),
	}
}

// flux returns the Flux Kustomization and HelmRelease that applied obj.
func flux(obj metav1.Object) []Owner {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	var out []Owner
	if name := l[LabelFluxKustomizationName]; name != "" {
		ns := l[LabelFluxKustomizationNamespace]
		o := Owner{Kind: KindFluxKustomization, Name: name, Namespace: ns, Reverts: true, Blocks: true,
			Why:      "Flux's kustomize-controller re-applies the manifest from Git at every reconcile interval",
			Markers:  []string{markerOf(LabelFluxKustomizationName, name, "label")},
			Commands: []string{"flux suspend kustomization " + name + nsFlag(ns)},
			Drift:    fmt.Sprintf("Git still holds the bad version: `flux resume kustomization %s%s` re-applies it; fix Git before resuming", name, nsFlag(ns)),
		}
		if a[AnnotationFluxReconcile] == "disabled" {
			o.Reverts, o.Blocks = false, false
			o.Why = "the object opts out with " + AnnotationFluxReconcile + ": disabled, so Flux leaves it alone"
			o.Markers = append(o.Markers, markerOf(AnnotationFluxReconcile, "disabled", "annotation"))
			o.Drift = "the object stays out of Flux's reconciliation until the annotation is removed"
		}
		out = append(out, o)
	}
	if name := l[LabelFluxHelmReleaseName]; name != "" {
		ns := l[LabelFluxHelmReleaseNamespace]
		out = append(out, Owner{Kind: KindFluxHelmRelease, Name: name, Namespace: ns, Reverts: true, Blocks: true,
			Why:      "Flux's helm-controller upgrades the release back to what the HelmRelease asks for when it finds the release changed",
			Markers:  []string{markerOf(LabelFluxHelmReleaseName, name, "label")},
			Commands: []string{"flux suspend helmrelease " + name + nsFlag(ns)},
			Drift:    fmt.Sprintf("the HelmRelease still asks for the bad version: `flux resume helmrelease %s%s` upgrades to it again; fix Git before resuming", name, nsFlag(ns)),
		})
	}
	return out
}

// HelmReleaseOf returns the Helm release that manages the workload of
// kind whose metadata is obj (the Helm owner Check reports), nil when none.
func HelmReleaseOf(kind string, obj metav1.Object) *Owner { return helmRelease(kind, obj) }

// helmRelease returns the Helm release obj belongs to.
func helmRelease(kind string, obj metav1.Object) *Owner {
	a := obj.GetAnnotations()
	name := a[AnnotationHelmReleaseName]
	if name == "" {
		return nil
	}
	ns := a[AnnotationHelmReleaseNamespace]
	if ns == "" {
		ns = obj.GetNamespace()
	}
	markers := []string{markerOf(AnnotationHelmReleaseName, name, "annotation")}
	if v := obj.GetLabels()[LabelManagedBy]; v != "" {
		markers = append(markers, markerOf(LabelManagedBy, v, "label"))
	}
	return &Owner{Kind: KindHelm, Name: name, Namespace: ns, Blocks: true,
		Why:      "Helm records every revision of the release, and a direct patch is not one of them",
		Markers:  markers,
		Commands: []string{fmt.Sprintf("rollback helm undo %s -n %s", name, ns), fmt.Sprintf("helm rollback %s REVISION -n %s", name, ns)},
		Drift:    fmt.Sprintf("helm history of %s still says its last revision is deployed: the next helm upgrade or helm rollback starts from a state nobody recorded; bring the release back in line with `rollback helm undo %s -n %s`", name, name, ns),
	}
}

// argo returns the Argo CD Application that tracks obj, or a warning when a
// label may be Argo CD's but nothing confirms it.
func (c Checker) argo(ctx context.Context, obj metav1.Object) (*Owner, string) {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	var instance string
	var markers []string
	certain := true
	if id := a[AnnotationArgoTrackingID]; id != "" {
		instance, _, _ = strings.Cut(id, ":")
		markers = append(markers, markerOf(AnnotationArgoTrackingID, id, "annotation"))
	}
	if v := l[LabelArgoInstance]; v != "" {
		if instance == "" {
			instance = v
		}
		markers = append(markers, markerOf(LabelArgoInstance, v, "label"))
	}
	if v := l[LabelInstance]; v != "" && (instance == "" || instance == v) {
		if instance == "" {
			instance = v
			// The label alone is Argo CD's label tracking, but Helm charts
			// and kustomize setups set it too; other Argo CD annotations
			// make it certain.
			certain = hasPrefix(a, argoAnnotationPrefix)
		}
		markers = append(markers, markerOf(LabelInstance, v, "label"))
	}
	if instance == "" || (!certain && a[AnnotationHelmReleaseName] != "") {
		// A chart's instance label on an object Helm installed: Argo CD
		// renders charts without Helm's release annotations.
		return nil, ""
	}
	ns, name := c.argoNamespace(), instance
	if before, after, ok := strings.Cut(instance, "_"); ok {
		// Applications outside Argo CD's namespace are tracked as NS_NAME.
		ns, name = before, after
	}
	o := &Owner{Kind: KindArgoCD, Name: name, Namespace: ns, Markers: markers,
		Commands: []string{
			fmt.Sprintf("argocd app set %s --sync-policy none", argoAppRef(ns, name, c.argoNamespace())),
			fmt.Sprintf(`kubectl patch application %s -n %s --type merge -p '{"spec":{"syncPolicy":{"automated":null}}}'`, name, ns),
		},
		Drift: fmt.Sprintf("Git still holds the bad version: turning automated sync back on, or the next sync of %s, reverts the rollback; fix Git first", name),
	}
	if c.Applications == nil {
		if !certain {
			return nil, fmt.Sprintf("label %s=%s may be Argo CD's label tracking (Application %s in namespace %s), or just a chart's label; Applications were not read to tell", LabelInstance, instance, name, ns)
		}
		o.Blocks, o.Reverts = true, true
		o.Why = "Argo CD tracks it; its Application was not read, so its sync policy is unknown"
		return o, ""
	}
	app, err := c.Applications.Application(ctx, ns, name)
	switch {
	case err != nil && apierrors.IsNotFound(err) && !certain:
		return nil, ""
	case err != nil && apierrors.IsNotFound(err):
		o.Blocks, o.Reverts = true, true
		o.Why = fmt.Sprintf("Argo CD tracks it, but there is no Application %s in namespace %s to read its sync policy from (Argo CD may run in another namespace)", name, ns)
		return o, ""
	case err != nil && !certain:
		return nil, fmt.Sprintf("label %s=%s may be Argo CD's label tracking, but Application %s in namespace %s could not be read: %v", LabelInstance, instance, name, ns, err)
	case err != nil:
		o.Blocks, o.Reverts = true, true
		o.Why = fmt.Sprintf("Argo CD tracks it; its Application could not be read (%v), so its sync policy is unknown", err)
		return o, ""
	}
	switch {
	case app.Automated && app.SelfHeal:
		o.Blocks, o.Reverts = true, true
		o.Why = "automated sync with self-heal is on: it reverts the rollback within seconds"
	case app.Automated:
		o.Blocks, o.Reverts = true, true
		o.Why = "automated sync is on: the next sync (any new commit, or a refresh) reverts the rollback"
	default:
		o.Why = "automated sync is off: the rollback shows as OutOfSync, and the next manual sync reverts it"
		o.Drift = fmt.Sprintf("Application %s shows OutOfSync until Git holds the rolled-back version; a manual sync brings the bad version back", name)
	}
	return o, ""
}

func (c Checker) argoNamespace() string {
	if c.ArgoNamespace != "" {
		return c.ArgoNamespace
	}
	return DefaultArgoNamespace
}

// argoAppRef is how the argocd CLI names an Application: NAME, or NS/NAME
// outside Argo CD's own namespace.
func argoAppRef(ns, name, home string) string {
	if ns == home {
		return name
	}
	return ns + "/" + name
}

func markerOf(key, value, what string) string {
	return fmt.Sprintf("%s %s=%s", what, key, value)
}

func hasPrefix(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + ns
}
