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

// Plan is what an undo will do to one workload, computed from one read.
type Plan struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Deployment is the name again for a Deployment (the key scripts
	// written before StatefulSets and DaemonSets read).
	Deployment      string       `json:"deployment,omitempty"`
	Namespace       string       `json:"namespace"`
	ResourceVersion string       `json:"resourceVersion"`
	From            *Revision    `json:"from,omitempty"`
	To              *Revision    `json:"to"`
	Reason          string       `json:"reason"`
	Fallback        bool         `json:"fallback"`
	Diff            TemplateDiff `json:"diff"`
	Warnings        []string     `json:"warnings,omitempty"`
	// Skip is true when the workload already runs the target's template.
	Skip bool `json:"skip"`
	// Ownership is who else manages the workload (operator, Argo CD,
	// Flux, Helm) and whether that owner would revert the undo.
	Ownership *ownership.Verdict `json:"ownership,omitempty"`
	// Missing is what the target's pod template needs that the namespace
	// lacks; an undo with anything missing is refused.
	Missing []podrefs.Missing `json:"missing,omitempty"`
	// ReplacePods are the pods an OnDelete strategy would keep at other
	// revisions than the target: the undo replaces them, one at a time,
	// each after the one before is Ready (PlanOptions.ReplacePods).
	ReplacePods []string `json:"replacePods,omitempty"`
	// ReplaceStuck is the failing pod of another revision an OrderedReady
	// StatefulSet waits for (kubernetes/kubernetes#67250), which the undo
	// deletes after its write so that it comes back at the target revision.
	ReplaceStuck string `json:"replaceStuck,omitempty"`
	// PodsOnly is true when the workload already has the target's template
	// and the undo only replaces pods (ReplacePods, ReplaceStuck).
	PodsOnly bool `json:"podsOnly,omitempty"`

	obj object
}

// Workload names the planned workload.
func (p *Plan) Workload() Workload {
	w := Workload{Kind: p.Kind, Namespace: p.Namespace, Name: p.Name}
	if w.Kind == "" {
		w.Kind = KindDeployment
	}
	if w.Name == "" {
		w.Name = p.Deployment
	}
	return w
}

// PlanOptions are the choices and checks of an undo's plan.
type PlanOptions struct {
	// ToRevision is the target revision; 0 means the last known good one.
	ToRevision int64
	// Force goes ahead although an owner would revert the undo (the plan
	// then warns what drift that leaves).
	Force bool
	// ReplacePods consents to replacing, one at a time, the pods an
	// OnDelete strategy keeps at other revisions; without it such an undo
	// is refused.
	ReplacePods bool
	// NoReplaceStuck leaves the failing pod an OrderedReady StatefulSet
	// waits for in place (the undo then cannot complete).
	NoReplaceStuck bool
	// Owners is the ownership check.
	Owners ownership.Checker
	// Start checks that the target revision can start; nil does not check.
	Start *podrefs.Checker
}

// PlanFor reads workload (kubectl's resource syntax), its revisions and,
// for a StatefulSet or DaemonSet, its pods, and plans its undo as an undo
// would (see planUndo), changing nothing. The plan is returned with a
// refusal too, as far as it got.
func PlanFor(ctx context.Context, c Clients, workload string, opts PlanOptions) (*Plan, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, err
	}
	return readPlan(ctx, c, o, opts)
}

// readPlan reads o's revisions (and pods) and plans its undo.
func readPlan(ctx context.Context, c Clients, o object, opts PlanOptions) (*Plan, error) {
	srcs, err := revisionSources(ctx, c, o)
	if err != nil {
		return nil, err
	}
	var pods []*corev1.Pod
	if o.d == nil {
		if pods, err = listPods(ctx, c, o); err != nil {
			return nil, err
		}
	}
	return planUndo(ctx, o, srcs, pods, opts)
}

// planUndo decides what undoing o to opts.ToRevision does, from o, the
// objects holding its revisions and (StatefulSet, DaemonSet) its pods. It
// refuses (exit code 2) a workload that an owner would revert (an
// operator, Argo CD with automated sync, Flux) or whose Helm release keeps
// its history, unless opts.Force; a paused Deployment; a pruned or unknown
// revision; a fallback target that never became healthy; an OnDelete
// workload whose pods would stay at other revisions, unless
// opts.ReplacePods; and a target whose pod template needs a ConfigMap,
// Secret, key, PersistentVolumeClaim or ServiceAccount that does not exist.
func planUndo(ctx context.Context, o object, srcs []*revisionSource, pods []*corev1.Pod, opts PlanOptions) (*Plan, error) {
	w, m := o.workload(), o.meta()
	revs := revisions(o, srcs, pods)
	cur := current(revs)
	p := &Plan{Kind: w.Kind, Name: w.Name, Deployment: deploymentName(w), Namespace: w.Namespace, ResourceVersion: m.ResourceVersion, From: cur, obj: o}
	v := opts.Owners.Check(ctx, string(w.Kind), m)
	p.Ownership = &v
	if err := v.Refusal(); err != nil {
		if !opts.Force {
			return p, err
		}
		p.Warnings = append(p.Warnings, v.ForcedWarnings()...)
	}
	p.Warnings = append(p.Warnings, v.Notes()...)
	if o.paused() {
		return p, outcome.AsRefused(fmt.Errorf("deployment %s is paused, and a paused Deployment does not roll out: resume it first with `rollback app resume %s -n %s` and try again", w.Name, w.Name, w.Namespace))
	}
	t, err := ChooseTarget(w, revs, cur, opts.ToRevision)
	if err != nil {
		return p, err
	}
	p.To, p.Reason, p.Fallback = t.Revision, t.Reason, t.Fallback
	if t.Revision.src.tmpl == nil {
		return p, fmt.Errorf("revision %d of %s: controllerrevision %s holds no pod template", t.Revision.Number, w.Describe(), t.Revision.ControllerRevision)
	}
	_, pp := evaluate(o, t.Revision.src, pods)
	if o.onDelete() && len(pp.replace) > 0 {
		p.ReplacePods = podNameList(pp.replace)
		if !opts.ReplacePods {
			err := outcome.AsRefused(fmt.Errorf("%s has the OnDelete update strategy: its controller replaces a pod only when it is deleted, so %s would keep running other revisions than the target: re-run with --replace-pods to replace them one at a time (each after the one before is Ready), or undo with `kubectl rollout undo %s -n %s` and delete them yourself",
				w.Describe(), podNames(pp.replace), w, w.Namespace))
			if t.Revision.src.sameTemplate(o) {
				p.Skip = true
				p.Warnings = append(p.Warnings, err.Error())
				return p, nil
			}
			return p, err
		}
	}
	if pp.stuck != nil {
		if opts.NoReplaceStuck {
			p.Warnings = append(p.Warnings, fmt.Sprintf("pod %s of another revision fails (%s) and the OrderedReady controller waits for it instead of replacing it (kubernetes/kubernetes#67250); --no-replace-stuck leaves it, so the rollout cannot complete until it is deleted", pp.stuck.Name, pp.stuckWhy.Reason))
		} else {
			p.ReplaceStuck = pp.stuck.Name
		}
	}
	if t.Revision.src.sameTemplate(o) {
		// Already at the target; only pods may be left to replace (an
		// earlier `kubectl rollout undo` stuck on a failing pod, an OnDelete
		// set): then the undo replaces them without writing the template.
		p.PodsOnly = len(p.ReplacePods) > 0 || p.ReplaceStuck != ""
		p.Skip = !p.PodsOnly
		return p, nil
	}
	if opts.Start != nil {
		r := opts.Start.Check(ctx, t.Revision.src.tmpl)
		p.Missing = r.Missing
		for _, u := range r.Unchecked {
			p.Warnings = append(p.Warnings, "could not check that the target can start: "+u)
		}
		if err := r.Refusal(fmt.Sprintf("revision %d of %s", t.Revision.Number, w.Describe()), w.Namespace, fmt.Sprintf("rollback config undo %s -n %s", w.Arg(), w.Namespace)); err != nil {
			return p, err
		}
	}
	p.Diff = DiffTemplates(o.template(), t.Revision.src.tmpl)
	if _, ok := m.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the %s has kubectl.kubernetes.io/last-applied-configuration: a later `kubectl apply` of the old manifest brings the bad template back; fix the manifest too", w.Kind.Lower()))
	}
	if pp.partition > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("partition %d: the undo rolls only the pods from ordinal %d up; the pods below keep their revision", pp.partition, pp.partition))
	}
	if o.sts != nil && len(o.sts.Spec.VolumeClaimTemplates) > 0 {
		p.Warnings = append(p.Warnings, "volumeClaimTemplates and the data in the volumes are not rolled back: only the pod template is")
	}
	return p, nil
}

func podNameList(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
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

// undoTemplate returns the template the workload gets and, for a
// Deployment, its annotations: the target's template without
// pod-template-hash, and kubectl's annotation rule, except that rollback's
// own ReplicaSet stamps are not copied. A StatefulSet or DaemonSet gets
// the ControllerRevision's template and keeps its annotations, as with
// kubectl (nil annotations).
func (p *Plan) undoTemplate() (*corev1.PodTemplateSpec, map[string]string) {
	tmpl := templateOf(p.To.src)
	if p.obj.d == nil {
		return tmpl, nil
	}
	ann := map[string]string{}
	for k, v := range p.obj.meta().Annotations {
		if annotationsToSkip[k] || strings.HasPrefix(k, AnnotationPrefix) {
			ann[k] = v
		}
	}
	for k, v := range p.To.src.rs.Annotations {
		if !annotationsToSkip[k] && !strings.HasPrefix(k, AnnotationPrefix) {
			ann[k] = v
		}
	}
	return tmpl, ann
}

// replicas returns the replicas a workload asks for (a DaemonSet: 0).
func (o object) replicas() int32 {
	switch {
	case o.d != nil:
		return deref(o.d.Spec.Replicas, 1)
	case o.sts != nil:
		return deref(o.sts.Spec.Replicas, 1)
	}
	return 0
}

// describeChange says what changed in a workload between two reads.
func describeChange(before, after object) []string {
	var out []string
	if before.paused() != after.paused() {
		out = append(out, fmt.Sprintf("paused: %t -> %t", before.paused(), after.paused()))
	}
	if before.replicas() != after.replicas() {
		out = append(out, fmt.Sprintf("replicas: %d -> %d", before.replicas(), after.replicas()))
	}
	for _, c := range DiffTemplates(before.template(), after.template()).Changes {
		where := "pod"
		if c.Container != "" {
			where = "container " + c.Container
		}
		out = append(out, fmt.Sprintf("%s %s: %s -> %s", where, c.Field, c.From, c.To))
	}
	if len(out) == 0 && !equalIgnoreHash(before.template(), after.template()) {
		out = append(out, "pod template changed (outside images, env, volumes and resources)")
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("metadata or status only (resourceVersion %s -> %s)", before.meta().ResourceVersion, after.meta().ResourceVersion))
	}
	return out
}
