//go:build e2e

// Package kinds_test runs the application rollback of StatefulSets and
// DaemonSets end to end against the sandbox's real statefulset and
// daemonset controllers, with kubectl 1.32 as the referee: `kubectl
// rollout history|status|undo` on the same objects.
package kinds_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

func ctx(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

// run runs the rollback CLI in-process as the admin and returns exit code,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 3 * time.Minute}, args...).Split()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	clitest.WaitFor(t, 90*time.Second, what, cond)
}

// clients are rollout's clients of namespace ns.
func clients(ns string) rollout.Clients { return rollout.NewClients(sb.Clientset, ns) }

// markGood stamps the current revision of workload known-good, as CI does
// after a good deploy (it waits until the rollout is complete).
func markGood(t *testing.T, ns, workload string) {
	t.Helper()
	var err error
	eventually(t, workload+" fully rolled out to stamp it", func() bool {
		err = rollout.MarkGood(ctx(t), clients(ns), workload, time.Now())
		return err == nil
	})
}

// statefulSet creates StatefulSet name at image (3 replicas, no volumes
// unless volumes) and waits until it is rolled out; opts shape it.
func statefulSet(t *testing.T, ns, name, image string, opts sandboxenv.StatefulSetOptions) *appsv1.StatefulSet {
	t.Helper()
	sb.CreateStatefulSet(t, ns, name, image, opts)
	sb.WaitStatefulSetRolledOut(t, ns, name)
	return sb.StatefulSet(t, ns, name)
}

// daemonSet creates DaemonSet name at image and waits until it is rolled out.
func daemonSet(t *testing.T, ns, name, image string, opts sandboxenv.DaemonSetOptions) *appsv1.DaemonSet {
	t.Helper()
	sb.CreateDaemonSet(t, ns, name, image, opts)
	sb.WaitDaemonSetRolledOut(t, ns, name)
	return sb.DaemonSet(t, ns, name)
}

// waitRevision waits until the controller recorded revision n of the set
// (kind statefulset or daemonset) and observed its generation.
func waitRevision(t *testing.T, ns, workload string, n int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s at revision %d", workload, n), func() bool {
		h := rollout.History{Clients: clients(ns)}
		res, err := h.Run(ctx(t), workload)
		return err == nil && res.Current == n
	})
}

// podsAt returns the pods of selector by name, each with its revision
// label, "NAME=HASH" sorted.
func podsAt(t *testing.T, ns, selector string) map[string]corev1.Pod {
	t.Helper()
	out := map[string]corev1.Pod{}
	for _, p := range sb.Pods(t, ns, selector) {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p
		}
	}
	return out
}

// image returns the image of container app of a pod template.
func image(tmpl corev1.PodTemplateSpec) string { return tmpl.Spec.Containers[0].Image }

// failing reports whether pod crash-loops or cannot pull its image.
func failing(p corev1.Pod) bool { return rollout.PodFailureOf(&p) != nil }

// getPod reads pod name, nil when it does not exist.
func getPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := sb.Clientset.CoreV1().Pods(ns).Get(ctx(t), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

// generation returns the metadata.generation of workload (sts/NAME or
// ds/NAME): a refused or dry-run undo must leave it as it was.
func generation(t *testing.T, ns, workload string) int64 {
	t.Helper()
	kind, name, _ := strings.Cut(workload, "/")
	if kind == "ds" {
		return sb.DaemonSet(t, ns, name).Generation
	}
	return sb.StatefulSet(t, ns, name).Generation
}

// templateHash returns the controller-revision-hash label the pods of the
// newest ControllerRevision of workload carry (a DaemonSet's status has no
// update revision).
func templateHash(t *testing.T, ns, workload string) string {
	t.Helper()
	_, name, _ := strings.Cut(workload, "/")
	l, err := sb.Clientset.AppsV1().ControllerRevisions(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var newest *appsv1.ControllerRevision
	for i := range l.Items {
		if newest == nil || l.Items[i].Revision > newest.Revision {
			newest = &l.Items[i]
		}
	}
	if newest == nil {
		t.Fatalf("%s has no ControllerRevision", workload)
	}
	return newest.Labels[appsv1.ControllerRevisionHashLabelKey]
}

// patchSTS applies a strategic-merge patch to StatefulSet name.
func patchSTS(t *testing.T, ns, name, patch string) {
	t.Helper()
	if _, err := sb.Clientset.AppsV1().StatefulSets(ns).Patch(ctx(t), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch statefulset %s: %v", name, err)
	}
}

// onlyIncident returns the journal entries and the id of the one incident
// in journal directory dir.
func onlyIncident(t *testing.T, dir string) ([]journal.Entry, string) {
	t.Helper()
	l, err := journal.List(dir)
	if err != nil || len(l) != 1 {
		t.Fatalf("incidents in %s: %v %v, want one", dir, l, err)
	}
	entries, err := journal.Read(dir, l[0].Incident)
	if err != nil {
		t.Fatal(err)
	}
	return entries, l[0].Incident
}
