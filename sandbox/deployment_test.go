//go:build e2e

package sandbox_test

import (
	"sort"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDeploymentBecomesAvailable(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", "example/web:v1", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := waitRolledOut(t, ns, "web")
	if d.Status.AvailableReplicas != 3 || d.Status.ReadyReplicas != 3 {
		t.Errorf("available %d, ready %d; want 3 and 3", d.Status.AvailableReplicas, d.Status.ReadyReplicas)
	}
	pods, err := sb.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase != "Running" || p.Spec.NodeName == "" || p.Status.PodIP == "" {
			t.Errorf("pod %s: phase %s, node %q, IP %q", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
		}
		nodes[p.Spec.NodeName] = true
	}
	if len(nodes) < 2 {
		t.Errorf("pods ran on %d nodes, want them spread round-robin", len(nodes))
	}
}

func TestImageUpdatesCreateRevisions(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", "example/web:v1", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, ns, "web")
	for _, image := range []string{"example/web:v2", "example/web:v3"} {
		setImage(t, ns, "web", image)
		waitRolledOut(t, ns, "web")
	}
	rss, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rs := range rss.Items {
		got[rs.Annotations["deployment.kubernetes.io/revision"]] = rs.Spec.Template.Spec.Containers[0].Image
	}
	want := map[string]string{"1": "example/web:v1", "2": "example/web:v2", "3": "example/web:v3"}
	if len(got) != len(want) {
		t.Fatalf("revisions %v, want %v", got, want)
	}
	for rev, image := range want {
		if got[rev] != image {
			t.Errorf("revision %s has image %q, want %q (all: %v)", rev, got[rev], image, sortedKeys(got))
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestRestrictedUserCannotPatchDeployments(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", "example/web:v1", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	viewer := restrictedClient(t)
	if _, err := viewer.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("restricted user cannot get the deployment: %v", err)
	}
	_, err := viewer.AppsV1().Deployments(ns).Patch(ctx, "web", "application/merge-patch+json",
		[]byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
	if !isForbidden(err) {
		t.Fatalf("patch as restricted user: got %v, want Forbidden", err)
	}
}
