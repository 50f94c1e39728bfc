package sandboxenv

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// fixtureTimeout bounds each fixture's requests and waits.
const fixtureTimeout = 60 * time.Second

// Service creates a Service named name that selects app=name (port 80 to
// 8080) and returns the URL of its sandbox HTTP endpoint.
func (sb *Sandbox) Service(t testing.TB, namespace, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := sb.Clientset.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service %s/%s: %v", namespace, name, err)
	}
	url, err := sb.Endpoint(ctx, namespace, name)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Deployment returns Deployment namespace/name.
func (sb *Sandbox) Deployment(t testing.TB, namespace, name string) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	d, err := sb.Clientset.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s/%s: %v", namespace, name, err)
	}
	return d
}

// setImage patches container "app" of a StatefulSet or DaemonSet
// ("statefulsets", "daemonsets") to image, with the change-cause kubectl's
// history shows.
func (sb *Sandbox) setImage(t testing.TB, resource, namespace, name, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{"kubernetes.io/change-cause": "deploy " + image}},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []map[string]string{{"name": "app", "image": image}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	apps := sb.Clientset.AppsV1()
	switch resource {
	case "statefulsets":
		_, err = apps.StatefulSets(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	case "daemonsets":
		_, err = apps.DaemonSets(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	default:
		err = fmt.Errorf("unknown resource %q", resource)
	}
	if err != nil {
		t.Fatalf("set image of %s %s/%s to %s: %v", resource, namespace, name, image, err)
	}
}

// WaitRolledOut waits (up to a minute) until every replica of Deployment
// namespace/name's current revision is updated, ready and available, and no
// old replica is left.
func (sb *Sandbox) WaitRolledOut(t testing.TB, namespace, name string) {
	t.Helper()
	sb.waitFor(t, "deployment "+namespace+"/"+name+" to roll out", func() bool {
		d := sb.Deployment(t, namespace, name)
		r := *d.Spec.Replicas
		return d.Status.ObservedGeneration >= d.Generation &&
			d.Status.UpdatedReplicas == r && d.Status.ReadyReplicas == r && d.Status.AvailableReplicas == r && d.Status.Replicas == r
	})
}

// waitFor polls cond every 100ms for up to fixtureTimeout and fails the
// test when it never holds.
func (sb *Sandbox) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(fixtureTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", fixtureTimeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
