//go:build e2e

package kinds_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/rollout"
)

// badSet makes workload (sts/NAME or ds/NAME) at v1, stamped known-good,
// then ships a crash-looping v2 and waits until the controller recorded it.
func badSet(t *testing.T, ns, workload string, mutateSTS func(*appsv1.StatefulSet), mutateDS func(*appsv1.DaemonSet)) {
	t.Helper()
	kind, name, _ := strings.Cut(workload, "/")
	if kind == "ds" {
		daemonSet(t, ns, name, "vibestack/agent:v1", sandboxenv.DaemonSetOptions{Mutate: mutateDS})
		markGood(t, ns, workload)
		sb.SetDaemonSetImage(t, ns, name, "vibestack/agent:crash-v2")
	} else {
		statefulSet(t, ns, name, "vibestack/db:v1", sandboxenv.StatefulSetOptions{NoVolumes: true, Mutate: mutateSTS})
		markGood(t, ns, workload)
		sb.SetStatefulSetImage(t, ns, name, "vibestack/db:crash-v2")
	}
	waitRevision(t, ns, workload, 2)
}

// TestHistoryAndDryRun: history reads the ControllerRevisions kubectl
// lists, with images, change-cause, the verdict and the known-good mark;
// the dry run prints the template diff and changes nothing.
func TestHistoryAndDryRun(t *testing.T) {
	for _, w := range []string{"sts/db", "ds/agent"} {
		t.Run(strings.Split(w, "/")[0], func(t *testing.T) {
			ns := sb.Namespace(t)
			badSet(t, ns, w, nil, nil)
			if code, _, _ := run(t, "app", "status", w, "-n", ns, "--settle", "1s"); code != exitcode.Unhealthy {
				t.Fatalf("status of the crash: exit %d", code)
			}
			kh := sb.Kubectl(t, "-n", ns, "rollout", "history", w)
			if !strings.Contains(kh, "\n1 ") || !strings.Contains(kh, "\n2 ") {
				t.Fatalf("kubectl rollout history:\n%s", kh)
			}
			code, out, errOut := run(t, "app", "history", w, "-n", ns, "-o", "json")
			if code != 0 {
				t.Fatalf("history: exit %d\n%s", code, errOut)
			}
			var h rollout.HistoryResult
			if err := json.Unmarshal([]byte(out), &h); err != nil {
				t.Fatalf("history json: %v\n%s", err, out)
			}
			if h.Current != 2 || h.LastGood != 1 || len(h.Revisions) != 2 {
				t.Fatalf("history: current %d, last good %d, %d revisions", h.Current, h.LastGood, len(h.Revisions))
			}
			byNumber := map[int64]rollout.Revision{}
			for _, r := range h.Revisions {
				byNumber[r.Number] = r
			}
			if r := byNumber[1]; r.Health != rollout.HealthGood || !strings.HasSuffix(r.Images[0], ":v1") {
				t.Errorf("revision 1: %+v", r)
			}
			if r := byNumber[2]; r.Health != rollout.HealthFailed || r.ChangeCause != "deploy "+r.Images[0] || !strings.Contains(r.Images[0], "crash-v2") {
				t.Errorf("revision 2: %+v", r)
			}
			_, table, _ := run(t, "app", "history", w, "-n", ns)
			if !strings.Contains(table, "last-good") || !strings.Contains(table, "failed (CrashLoopBackOff)") {
				t.Errorf("history table:\n%s", table)
			}

			gen := generation(t, ns, w)
			code, out, errOut = run(t, "app", "undo", w, "-n", ns, "--dry-run")
			if code != 0 || !strings.Contains(out+errOut, "image: vibestack/") || !strings.Contains(out+errOut, "crash-v2 -> vibestack/") {
				t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
			}
			if g := generation(t, ns, w); g != gen {
				t.Errorf("the dry run changed the set: generation %d -> %d", gen, g)
			}
		})
	}
}

// TestRefusals: each refusal names what is wrong and what to do, exits 2
// and changes nothing.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name     string
		workload string
		sts      func(*appsv1.StatefulSet)
		ds       func(*appsv1.DaemonSet)
		setup    func(t *testing.T, ns string)
		args     []string
		message  string
	}{
		{name: "pruned revision", workload: "sts/db", sts: func(s *appsv1.StatefulSet) { one := int32(1); s.Spec.RevisionHistoryLimit = &one },
			setup: func(t *testing.T, ns string) {
				sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:v3")
				eventually(t, "revision 1 pruned", func() bool {
					l, err := sb.Clientset.AppsV1().ControllerRevisions(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=db"})
					for _, cr := range l.Items {
						if cr.Revision == 1 {
							return false
						}
					}
					return err == nil
				})
			}, args: []string{"--to-revision", "1"}, message: "revision 1 of statefulset db no longer exists"},
		{name: "operator owner", workload: "ds/agent", ds: func(d *appsv1.DaemonSet) {
			d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "agents.example.com/v1", Kind: "Agent", Name: "agent", UID: "00000000-0000-0000-0000-000000000001", Controller: ptr(true)}}
		}, message: "operator"},
		{name: "flux", workload: "sts/db", sts: func(s *appsv1.StatefulSet) { s.Labels["kustomize.toolkit.fluxcd.io/name"] = "data" },
			message: "flux suspend kustomization data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := sb.Namespace(t)
			badSet(t, ns, tt.workload, tt.sts, tt.ds)
			if tt.setup != nil {
				tt.setup(t, ns)
			}
			gen := generation(t, ns, tt.workload)
			code, out, errOut := run(t, append([]string{"app", "undo", tt.workload, "-n", ns, "--yes", "--journal-dir", t.TempDir()}, tt.args...)...)
			if code != exitcode.Refused || !strings.Contains(errOut, tt.message) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, exitcode.Refused, tt.message, out, errOut)
			}
			if g := generation(t, ns, tt.workload); g != gen {
				t.Errorf("the refused undo changed the set: generation %d -> %d", gen, g)
			}
		})
	}
}

// TestConcurrentWriter: someone changes the StatefulSet between rollback's
// read and its write: the precondition refuses the write, rollback
// re-reads, re-plans, says what changed, and keeps the concurrent change.
func TestConcurrentWriter(t *testing.T) {
	ns := sb.Namespace(t)
	badSet(t, ns, "sts/db", nil, nil)
	sets := sb.Clientset.AppsV1().StatefulSets(ns)
	var progress clitest.ProgressLog
	u := rollout.Undo{
		Clients: clients(ns), Observer: &progress, Verification: rollout.Verification{Settle: time.Second, Timeout: 2 * time.Minute},
		BeforeWrite: func() {
			s, err := sets.Get(ctx(t), "db", metav1.GetOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			four := int32(4)
			s.Spec.Replicas = &four
			s.Spec.Template.Spec.Containers[0].Image = "vibestack/db:crash-hotfix"
			if _, err := sets.Update(ctx(t), s, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
			}
		},
	}
	res, err := u.Run(ctx(t), "sts/db")
	t.Log(progress.String())
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	joined := strings.Join(res.ConcurrentChanges, "\n")
	if !strings.Contains(joined, "replicas: 3 -> 4") || !strings.Contains(joined, "crash-v2 -> vibestack/db:crash-hotfix") {
		t.Errorf("concurrent changes %q: want the replicas and the image change", joined)
	}
	if !strings.Contains(progress.String(), "re-planned") {
		t.Errorf("progress does not say it re-planned")
	}
	s := sb.StatefulSet(t, ns, "db")
	if *s.Spec.Replicas != 4 || image(s.Spec.Template) != "vibestack/db:v1" || res.Verdict != rollout.VerdictHealthy {
		t.Errorf("replicas %d, image %s, verdict %s: want 4 (kept), v1, healthy", *s.Spec.Replicas, image(s.Spec.Template), res.Verdict)
	}
	sb.Kubectl(t, "-n", ns, "rollout", "status", "sts/db", "--timeout=60s")
}

// TestSelectorAcrossKinds: -l selects the Deployment, StatefulSet and
// DaemonSet of an application; --kind narrows it; the undo of all three
// leaves each healthy (kubectl rollout status says so).
func TestSelectorAcrossKinds(t *testing.T) {
	ns := sb.Namespace(t)
	label := func(m map[string]string) { m["tier"] = "shop" }
	badSet(t, ns, "sts/db", func(s *appsv1.StatefulSet) { label(s.Labels) }, nil)
	badSet(t, ns, "ds/agent", nil, func(d *appsv1.DaemonSet) { label(d.Labels) })
	two := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web", "tier": "shop"}},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "vibestack/app:v1"}}}}},
	}
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sb.WaitRolledOut(t, ns, "web")
	markGood(t, ns, "deploy/web")
	sb.Kubectl(t, "-n", ns, "set", "image", "deploy/web", "app=vibestack/app:crash-v2")
	waitRevision(t, ns, "deploy/web", 2)

	code, out, errOut := run(t, "app", "undo", "-l", "tier=shop", "-n", ns, "--kind", "sts,ds", "--dry-run")
	if code != 0 || !strings.Contains(out, "statefulset/db") || !strings.Contains(out, "daemonset/agent") || strings.Contains(out, "deployment/web") {
		t.Fatalf("--kind sts,ds dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "app", "undo", "-l", "tier=shop", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, "3 workloads: 3 healthy") {
		t.Fatalf("undo -l: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, w := range []string{"deploy/web", "sts/db", "ds/agent"} {
		sb.Kubectl(t, "-n", ns, "rollout", "status", w, "--timeout=60s")
	}
}
