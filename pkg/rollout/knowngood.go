package rollout

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KnownGoodTemplate returns the pod template of Deployment name's last known
// good revision (without the pod-template-hash label) and that revision. It
// falls back to the current revision when none is stamped, and says so in
// the returned bool (false = not stamped).
func KnownGoodTemplate(ctx context.Context, clients Clients, name string) (*corev1.PodTemplateSpec, Revision, bool, error) {
	d, err := clients.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, Revision{}, false, getError(err, "deployment", name)
	}
	rss, err := clients.ReplicaSets.List(ctx, metav1.ListOptions{LabelSelector: selectorString(d)})
	if err != nil {
		return nil, Revision{}, false, fmt.Errorf("list replicasets of deployment %s: %w", name, err)
	}
	revs := revisions(d, rss.Items)
	if g := lastGood(revs); g != nil && g.rs != nil {
		return templateOf(g.rs), *g, true, nil
	}
	cur := current(revs)
	if cur == nil || cur.rs == nil {
		t := d.Spec.Template.DeepCopy()
		return t, Revision{}, false, nil
	}
	return templateOf(cur.rs), *cur, false, nil
}

// templateOf returns rs's pod template without the pod-template-hash label.
func templateOf(rs *appsv1.ReplicaSet) *corev1.PodTemplateSpec {
	t := rs.Spec.Template.DeepCopy()
	delete(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return t
}
