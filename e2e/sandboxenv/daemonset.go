package sandboxenv

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The sandbox's nodes: sandbox-node-1 ... sandbox-node-3, schedulable, and
// TaintedNode, tainted TaintKey=true:NoSchedule, which a DaemonSet skips
// unless it tolerates the taint (a node that cannot run the pod).
const (
	TaintedNode = "sandbox-node-tainted"
	TaintKey    = "sandbox.rollback.dev/tainted"
)

// DaemonSetOptions shapes the DaemonSet made by CreateDaemonSet.
type DaemonSetOptions struct {
	// OnDelete selects the OnDelete update strategy; the default is
	// RollingUpdate.
	OnDelete bool
	// MaxUnavailable and MaxSurge set the RollingUpdate limits when not
	// nil (Kubernetes' defaults: 1 and 0).
	MaxUnavailable, MaxSurge *intstr.IntOrString
	// TolerateTaint lets the DaemonSet run on TaintedNode too.
	TolerateTaint bool
	// Mutate, when set, edits the DaemonSet before it is created.
	Mutate func(*appsv1.DaemonSet)
}

// CreateDaemonSet creates DaemonSet namespace/name running image (one
// container "app", labels app=name) and returns at once;
// WaitDaemonSetRolledOut waits for its pods.
func (sb *Sandbox) CreateDaemonSet(t testing.TB, namespace, name, image string, opts DaemonSetOptions) *appsv1.DaemonSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	labels := map[string]string{"app": name}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: opts.MaxUnavailable, MaxSurge: opts.MaxSurge}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	if opts.OnDelete {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	}
	if opts.TolerateTaint {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: TaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	if opts.Mutate != nil {
		opts.Mutate(ds)
	}
	created, err := sb.Clientset.AppsV1().DaemonSets(namespace).Create(ctx, ds, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create daemonset %s/%s: %v", namespace, name, err)
	}
	return created
}

// DaemonSet returns DaemonSet namespace/name.
func (sb *Sandbox) DaemonSet(t testing.TB, namespace, name string) *appsv1.DaemonSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	ds, err := sb.Clientset.AppsV1().DaemonSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get daemonset %s/%s: %v", namespace, name, err)
	}
	return ds
}

// WaitDaemonSetRolledOut waits (up to a minute) for what `kubectl rollout
// status` waits for: the controller has seen the latest generation and
// every node that should run the pod runs it updated and available. With
// OnDelete, which kubectl refuses, it waits for the pods to be available
// only.
func (sb *Sandbox) WaitDaemonSetRolledOut(t testing.TB, namespace, name string) {
	t.Helper()
	sb.waitFor(t, "daemonset "+namespace+"/"+name+" to roll out", func() bool {
		ds := sb.DaemonSet(t, namespace, name)
		st := ds.Status
		if st.ObservedGeneration < ds.Generation || st.NumberAvailable < st.DesiredNumberScheduled {
			return false
		}
		return ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType || st.UpdatedNumberScheduled >= st.DesiredNumberScheduled
	})
}

// SetDaemonSetImage ships image in container "app" of DaemonSet
// namespace/name as a new revision, recording kubernetes.io/change-cause
// "deploy IMAGE", and returns without waiting.
func (sb *Sandbox) SetDaemonSetImage(t testing.TB, namespace, name, image string) {
	t.Helper()
	sb.setImage(t, "daemonsets", namespace, name, image)
}
