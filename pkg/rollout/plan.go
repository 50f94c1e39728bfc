package rollout

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
)

// Plan is what an undo will do to one Deployment, computed from one read.
type Plan struct {
	Deployment      string       `json:"deployment"`
	Namespace       string       `json:"namespace"`
	ResourceVersion string       `json:"resourceVersion"`
	From            *Revision    `json:"from,omitempty"`
	To              *Revision    `json:"to"`
	Reason          string       `json:"reason"`
	Fallback        bool         `json:"fallback"`
	Diff            TemplateDiff `json:"diff"`
	Warnings        []string     `json:"warnings,omitempty"`
	// Skip is true when the Deployment already runs the target's template.
	Skip bool `json:"skip"`
	// Ownership is who else manages the Deployment (operator, Argo CD,
	// Flux, Helm) and whether that owner would revert the undo.
	Ownership *ownership.Verdict `json:"ownership,omitempty"`
	// Missing is what the target's pod template needs that the namespace
	// lacks; an undo with anything missing is refused.
	Missing []podrefs.Missing `json:"missing,omitempty"`

	deployment *appsv1.Deployment
}

// PlanOptions are the choices and checks of PlanUndo.
type PlanOptions struct {
	// ToRevision is the target revision; 0 means the last known good one.
	ToRevision int64
	// Force goes ahead although an owner would revert the undo (the plan
	// then warns what drift that leaves).
	Force bool
	// Owners is the ownership check.
	Owners ownership.Checker
	// Start checks that the target revision can start; nil does not check.
	Start *podrefs.Checker
}

// PlanUndo decides what undoing d to o.ToRevision does, from d and the
// ReplicaSets of its namespace. It refuses (exit code 2) a Deployment that
// an owner would revert (an operator, Argo CD with automated sync, Flux)
// or whose Helm release keeps its history, unless o.Force; a paused
// Deployment; a pruned or unknown revision; a fallback target that never
// became healthy; and a target whose pod template needs a ConfigMap,
// Secret, key, PersistentVolumeClaim or ServiceAccount that does not exist.
func PlanUndo(ctx context.Context, d *appsv1.Deployment, rss []appsv1.ReplicaSet, o PlanOptions) (*Plan, error) {
	name := d.Name
	revs := revisions(d, rss)
	cur := current(revs)
	p := &Plan{Deployment: name, Namespace: d.Namespace, ResourceVersion: d.ResourceVersion, From: cur, deployment: d}
	v := o.Owners.Check(ctx, "Deployment", d)
	p.Ownership = &v
	if err := v.Refusal(); err != nil {
		if !o.Force {
			return p, err
		}
		p.Warnings = append(p.Warnings, v.ForcedWarnings()...)
	}
	p.Warnings = append(p.Warnings, v.Notes()...)
	if d.Spec.Paused {
		return p, outcome.AsRefused(fmt.Errorf("deployment %s is paused, and a paused Deployment does not roll out: resume it first with `rollback app resume %s -n %s` and try again", name, name, d.Namespace))
	}
	t, err := ChooseTarget(name, revs, cur, o.ToRevision)
	if err != nil {
		return p, err
	}
	p.To, p.Reason, p.Fallback = t.Revision, t.Reason, t.Fallback
	if equalIgnoreHash(&t.Revision.rs.Spec.Template, &d.Spec.Template) {
		p.Skip = true
		return p, nil
	}
	if o.Start != nil {
		r := o.Start.Check(ctx, &t.Revision.rs.Spec.Template)
		p.Missing = r.Missing
		for _, u := range r.Unchecked {
			p.Warnings = append(p.Warnings, "could not check that the target can start: "+u)
		}
		if err := r.Refusal(fmt.Sprintf("revision %d of deployment %s", t.Revision.Number, name), d.Namespace, fmt.Sprintf("rollback config undo %s -n %s", name, d.Namespace)); err != nil {
			return p, err
		}
	}
	p.Diff = DiffTemplates(&d.Spec.Template, &t.Revision.rs.Spec.Template)
	if _, ok := d.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		p.Warnings = append(p.Warnings, "the deployment has kubectl.kubernetes.io/last-applied-configuration: a later `kubectl apply` of the old manifest brings the bad template back; fix the manifest too")
	}
	return p, nil
}

// annotationsToSkip are kept from the Deployment and not copied from the
// ReplicaSet, exactly as kubectl rollout undo does.
var annotationsToSkip = map[string]bool{
	corev1.LastAppliedConfigAnnotation: true,
	revisionAnnotation:                 true,
	revisionHistoryAnnotation:          true,
	desiredReplicasAnnotation:          true,
	maxReplicasAnnotation:              true,
	appsv1.DeprecatedRollbackTo:        true,
}

// undoTemplate returns the template and annotations the Deployment gets:
// the target's template without pod-template-hash, and kubectl's annotation
// rule, except that rollback's own ReplicaSet stamps are not copied.
func (p *Plan) undoTemplate() (*corev1.PodTemplateSpec, map[string]string) {
	tmpl := p.To.rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	ann := map[string]string{}
	for k, v := range p.deployment.Annotations {
		if annotationsToSkip[k] || strings.HasPrefix(k, AnnotationPrefix) {
			ann[k] = v
		}
	}
	for k, v := range p.To.rs.Annotations {
		if !annotationsToSkip[k] && !strings.HasPrefix(k, AnnotationPrefix) {
			ann[k] = v
		}
	}
	return tmpl, ann
}

// describeChange says what changed in a Deployment between two reads.
func describeChange(before, after *appsv1.Deployment) []string {
	var out []string
	if before.Spec.Paused != after.Spec.Paused {
		out = append(out, fmt.Sprintf("paused: %t -> %t", before.Spec.Paused, after.Spec.Paused))
	}
	if deref(before.Spec.Replicas, 1) != deref(after.Spec.Replicas, 1) {
		out = append(out, fmt.Sprintf("replicas: %d -> %d", deref(before.Spec.Replicas, 1), deref(after.Spec.Replicas, 1)))
	}
	for _, c := range DiffTemplates(&before.Spec.Template, &after.Spec.Template).Changes {
		where := "pod"
		if c.Container != "" {
			where = "container " + c.Container
		}
		out = append(out, fmt.Sprintf("%s %s: %s -> %s", where, c.Field, c.From, c.To))
	}
	if len(out) == 0 && !equalIgnoreHash(&before.Spec.Template, &after.Spec.Template) {
		out = append(out, "pod template changed (outside images, env, volumes and resources)")
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("metadata or status only (resourceVersion %s -> %s)", before.ResourceVersion, after.ResourceVersion))
	}
	return out
}
