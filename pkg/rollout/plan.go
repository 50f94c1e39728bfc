package rollout

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/outcome"
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
	Skip   bool         `json:"skip"`
	GitOps *GitOpsOwner `json:"gitops,omitempty"`

	deployment *appsv1.Deployment
}

// PlanUndo decides what undoing d to toRevision (0: the last known good
// revision) does, from d and the ReplicaSets of its namespace. It refuses
// (exit code 2) a paused Deployment, a Deployment managed by Argo CD or Flux
// unless force, a pruned or unknown revision, and a fallback target that
// never became healthy.
func PlanUndo(d *appsv1.Deployment, rss []appsv1.ReplicaSet, toRevision int64, force bool) (*Plan, error) {
	name := d.Name
	revs := revisions(d, rss)
	cur := current(revs)
	p := &Plan{Deployment: name, Namespace: d.Namespace, ResourceVersion: d.ResourceVersion, From: cur, deployment: d}
	if d.Spec.Paused {
		return p, outcome.AsRefused(fmt.Errorf("deployment %s is paused, and a paused Deployment does not roll out: resume it first with `rollback app resume %s -n %s` and try again", name, name, d.Namespace))
	}
	if g := DetectGitOps(d); g != nil {
		p.GitOps = g
		if !force {
			return p, outcome.AsRefused(fmt.Errorf("deployment %s is managed by %s (%s), which would revert the rollback at its next sync: suspend it first (`%s`) or roll back in Git; then re-run with --force", name, g.Tool, g.Name, g.Suspend))
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("deployment is managed by %s (%s): with sync on it will revert this rollback; suspend it with `%s`", g.Tool, g.Name, g.Suspend))
	}
	t, err := ChooseTarget(name, revs, cur, toRevision)
	if err != nil {
		return p, err
	}
	p.To, p.Reason, p.Fallback = t.Revision, t.Reason, t.Fallback
	if equalIgnoreHash(&t.Revision.rs.Spec.Template, &d.Spec.Template) {
		p.Skip = true
		return p, nil
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
