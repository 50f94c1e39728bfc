//go:build e2e

package kinds_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/journal"
)

// stuckSet makes StatefulSet name (OrderedReady, RollingUpdate, 3
// replicas) at v1, stamped known-good, then ships a crash-looping v2: the
// controller replaces the highest ordinal first, NAME-2, which crash-loops.
// It returns that pod.
func stuckSet(t *testing.T, ns, name string) corev1.Pod {
	t.Helper()
	statefulSet(t, ns, name, "vibestack/db:v1", sandboxenv.StatefulSetOptions{})
	markGood(t, ns, "sts/"+name)
	sb.SetStatefulSetImage(t, ns, name, "vibestack/db:crash-v2")
	var bad corev1.Pod
	eventually(t, name+"-2 crash-looping at v2", func() bool {
		p := getPod(t, ns, name+"-2")
		if p == nil || image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/db:crash-v2" || !failing(*p) {
			return false
		}
		bad = *p
		return true
	})
	return bad
}

// TestStuckStatefulSet is kubernetes/kubernetes#67250 on the sandbox's real
// statefulset controller: after `kubectl rollout undo` the crash-looping
// pod of the bad revision stays and the set never completes (kubectl
// rollout status times out); `rollback app undo` on the same case deletes
// only that pod (not the Ready ones), once, records it in the journal, and
// the set completes at the good revision (kubectl rollout status says so).
// On the set kubectl left stuck, `rollback app undo` replaces the pod
// without writing the template again; --no-replace-stuck leaves it.
func TestStuckStatefulSet(t *testing.T) {
	ns := sb.Namespace(t)
	badA := stuckSet(t, ns, "a")
	badB := stuckSet(t, ns, "b")

	// kubectl alone: the template goes back, the bad pod stays.
	sb.Kubectl(t, "-n", ns, "rollout", "undo", "statefulset/b")
	eventually(t, "the controller observes kubectl's undo", func() bool {
		s := sb.StatefulSet(t, ns, "b")
		return s.Status.ObservedGeneration >= s.Generation && image(s.Spec.Template) == "vibestack/db:v1"
	})
	restarts := badB.Status.ContainerStatuses[0].RestartCount
	eventually(t, "b-2 crashes twice more after kubectl's undo", func() bool {
		p := getPod(t, ns, "b-2")
		return p != nil && p.UID == badB.UID && p.Status.ContainerStatuses[0].RestartCount >= restarts+2
	})
	if out, err := sb.KubectlErr(t, "-n", ns, "rollout", "status", "statefulset/b", "--timeout=5s"); err == nil || !strings.Contains(out, "Waiting for 1 pods to be ready") {
		t.Fatalf("kubectl rollout status of the set kubectl undid: %v\n%s", err, out)
	}
	if p := getPod(t, ns, "b-2"); p == nil || p.UID != badB.UID || p.Labels[appsv1.ControllerRevisionHashLabelKey] != badB.Labels[appsv1.ControllerRevisionHashLabelKey] {
		t.Fatalf("b-2 was replaced after kubectl's undo: the set is not stuck")
	}

	// rollback on the same case.
	dir := filepath.Join(t.TempDir(), "incidents")
	before := podsAt(t, ns, "app=a")
	code, out, errOut := run(t, "app", "undo", "sts/a", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", dir)
	if code != 0 {
		t.Fatalf("rollback app undo sts/a: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"healthy: rolled back from revision 2", "replaced pod a-2 (uid " + string(badA.UID)} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	sb.Kubectl(t, "-n", ns, "rollout", "status", "statefulset/a", "--timeout=60s")
	after := podsAt(t, ns, "app=a")
	for _, n := range []string{"a-0", "a-1"} {
		if after[n].UID != before[n].UID {
			t.Errorf("pod %s was replaced: rollback deleted a Ready pod", n)
		}
	}
	if after["a-2"].UID == badA.UID || image(corev1.PodTemplateSpec{Spec: after["a-2"].Spec}) != "vibestack/db:v1" {
		t.Errorf("a-2 is not a new pod at v1: %+v", after["a-2"].Spec.Containers)
	}
	// The deletion is in the journal, as a write of the app step.
	entries, id := onlyIncident(t, dir)
	// The evidence kept the stuck pod, gone now, with its logs.
	export := filepath.Join(t.TempDir(), "evidence")
	if code, _, errOut := run(t, "incident", "evidence", id, "--journal-dir", dir, "--export", export); code != 0 {
		t.Fatalf("incident evidence --export: exit %d\n%s", code, errOut)
	}
	wdir := filepath.Join(export, id, "workloads", ns, "statefulset-a")
	pods, err := os.ReadFile(filepath.Join(wdir, "pods.json"))
	if err != nil || !strings.Contains(string(pods), `"a-2"`) {
		t.Errorf("evidence pods.json of statefulset a: %v\n%s", err, pods)
	}
	if logs, _ := filepath.Glob(filepath.Join(wdir, "logs", "a-2", "*.log")); len(logs) == 0 {
		t.Errorf("the evidence holds no log of the stuck pod a-2")
	}
	var deletions, writes int
	for _, e := range entries {
		if e.Action == journal.ActionStepWritten && e.Target == "statefulset/a" {
			writes++
			if d, _ := e.Inputs["detail"].(string); strings.Contains(d, "deleted pod a-2 (uid "+string(badA.UID)) {
				deletions++
			}
		}
	}
	if deletions != 1 || writes != 2 {
		t.Errorf("journal: %d pod deletions in %d writes, want 1 in 2 (template, pod)", deletions, writes)
	}

	// On the set kubectl left stuck: --no-replace-stuck leaves it (the
	// template is already the target: nothing to do but that pod).
	code, out, errOut = run(t, "app", "undo", "sts/b", "-n", ns, "--yes", "--no-replace-stuck", "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "skipped") || !strings.Contains(errOut, "--no-replace-stuck leaves it") {
		t.Errorf("undo --no-replace-stuck of the stuck set: exit %d\n%s\n%s", code, out, errOut)
	}
	if p := getPod(t, ns, "b-2"); p == nil || p.UID != badB.UID {
		t.Fatalf("--no-replace-stuck replaced b-2")
	}
	// Without it, rollback recovers what kubectl left stuck.
	code, out, errOut = run(t, "app", "undo", "sts/b", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "replaced pod b-2") {
		t.Fatalf("rollback app undo of the set kubectl left stuck: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	sb.Kubectl(t, "-n", ns, "rollout", "status", "statefulset/b", "--timeout=60s")
	h := sb.Kubectl(t, "-n", ns, "rollout", "history", "statefulset/b")
	if !strings.Contains(h, "\n2 ") || !strings.Contains(h, "\n3 ") {
		t.Errorf("kubectl rollout history of b after the undo:\n%s", h)
	}
	t.Logf("kubectl rollout history statefulset/b:\n%s", h)
}
