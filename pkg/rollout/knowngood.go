package rollout

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// KnownGoodTemplate returns the pod template of workload's (kubectl's
// resource syntax) last known good revision (without the
// pod-template-hash label) and that revision. It falls back to the current
// revision when none is stamped, and says so in the returned bool (false =
// not stamped).
func KnownGoodTemplate(ctx context.Context, clients Clients, workload string) (*corev1.PodTemplateSpec, Revision, bool, error) {
	o, err := getWorkload(ctx, clients, workload)
	if err != nil {
		return nil, Revision{}, false, err
	}
	srcs, err := revisionSources(ctx, clients, o)
	if err != nil {
		return nil, Revision{}, false, err
	}
	revs := revisions(o, srcs, nil)
	if g := lastGood(revs); g != nil && g.src.tmpl != nil {
		return templateOf(g.src), *g, true, nil
	}
	cur := current(revs)
	if cur == nil || cur.src.tmpl == nil {
		return o.template().DeepCopy(), Revision{}, false, nil
	}
	return templateOf(cur.src), *cur, false, nil
}

// templateOf returns the revision's pod template without the
// pod-template-hash label the Deployment controller adds.
func templateOf(src *revisionSource) *corev1.PodTemplateSpec {
	t := src.tmpl.DeepCopy()
	if src.rs != nil {
		delete(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	}
	return t
}
