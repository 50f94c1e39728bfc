//go:build e2e

package kinds_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/rollout"
)

// guarded are the annotations that opt a workload in to the controller
// with short settings.
func guarded() map[string]string {
	return map[string]string{
		guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
		guardcontroller.AnnotationBake:  "3s", guardcontroller.AnnotationInterval: "1s",
		guardcontroller.AnnotationSettle: "1s", guardcontroller.AnnotationTimeout: "2m",
	}
}

// startGuardController runs `rollback guard --controller` on namespace ns
// (its Lease there too) until the test ends, and waits until it leads.
func startGuardController(t *testing.T, ns string, args ...string) *clitest.Process {
	t.Helper()
	full := append([]string{"guard", "--controller", "--kubeconfig", sb.Kubeconfig, "-n", ns, "--lease-namespace", ns, "--identity", "guard-" + ns,
		"--health-addr", "", "--journal-dir", t.TempDir(), "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"}, args...)
	p := clitest.Start(t, clitest.Binary(t), nil, full...)
	t.Cleanup(func() {
		p.Stop(15 * time.Second)
		t.Logf("controller output:\n%s%s", p.Stdout(), p.Stderr())
	})
	clitest.WaitFor(t, 30*time.Second, "the controller leads", func() bool { return strings.Contains(p.Stderr(), "became the leader") })
	return p
}

// guardEvents returns the reasons of the controller's Events on the
// workload kind/name, oldest first.
func guardEvents(t *testing.T, ns, kind, name string) []string {
	t.Helper()
	evs, err := sb.Clientset.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		if e.Source.Component == guardcontroller.Component && e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e.Reason)
		}
	}
	return out
}

// waitGuardPhase waits until the state of the workload's revision hash
// reaches phase.
func waitGuardPhase(t *testing.T, ns, workload, phase string) guardcontroller.State {
	t.Helper()
	var s guardcontroller.State
	clitest.WaitFor(t, 3*time.Minute, workload+" guard phase "+phase, func() bool {
		s = clitest.GuardState(t, sb.Clientset, ns, workload)
		return s.Phase == phase || (s.Phase == guardcontroller.PhaseFailed && phase != guardcontroller.PhaseFailed)
	})
	if s.Phase != phase {
		t.Fatalf("%s: guard state %+v, want phase %s", workload, s, phase)
	}
	return s
}

// TestControllerRollsBackAStuckStatefulSet: an opted-in OrderedReady
// StatefulSet ships a crash-looping release; the controller sees the
// crash loop, rolls the set back to its last known good revision and
// replaces the pod of the bad revision that would keep it stuck
// (kubernetes/kubernetes#67250), verifies it and records its verdict on
// the StatefulSet; kubectl rollout status then says the set is rolled out
// at the good image. A good release afterwards passes its bake and is
// stamped known-good on its ControllerRevision.
func TestControllerRollsBackAStuckStatefulSet(t *testing.T) {
	ns := sb.Namespace(t)
	statefulSet(t, ns, "db", "vibestack/db:v1", sandboxenv.StatefulSetOptions{NoVolumes: true,
		Mutate: func(s *appsv1.StatefulSet) { s.Annotations = guarded() }})
	markGood(t, ns, "sts/db")
	startGuardController(t, ns)

	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:crash-v2")
	s := waitGuardPhase(t, ns, "sts/db", guardcontroller.PhaseRolledBack)
	if s.Revision != 2 || s.RollbackTo == "" || s.Incident == "" {
		t.Errorf("state %+v; want revision 2 rolled back, naming the revision put back and the incident", s)
	}
	out := sb.Kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=90s")
	if !strings.Contains(out, "partitioned roll out complete") && !strings.Contains(out, "roll out complete") {
		t.Errorf("kubectl rollout status after the controller's rollback:\n%s", out)
	}
	set := sb.StatefulSet(t, ns, "db")
	if image(set.Spec.Template) != "vibestack/db:v1" {
		t.Errorf("template image %s after the rollback, want vibestack/db:v1", image(set.Spec.Template))
	}
	for name, p := range podsAt(t, ns, "app=db") {
		if image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/db:v1" || failing(p) {
			t.Errorf("pod %s runs %s (failing %v) after the rollback", name, image(corev1.PodTemplateSpec{Spec: p.Spec}), failing(p))
		}
	}
	reasons := strings.Join(guardEvents(t, ns, "StatefulSet", "db"), ",")
	for _, want := range []string{guardcontroller.ReasonGuardStarted, guardcontroller.ReasonRollingBack, guardcontroller.ReasonRolledBack} {
		if !strings.Contains(reasons, want) {
			t.Errorf("Events on the StatefulSet %s lack %s", reasons, want)
		}
	}
	t.Logf("kubectl rollout history:\n%s", sb.Kubectl(t, "-n", ns, "rollout", "history", "statefulset/db"))

	// A good release: guarded, baked, stamped known-good.
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:v3")
	clitest.WaitFor(t, 3*time.Minute, "the v3 release passes its bake", func() bool {
		s := clitest.GuardState(t, sb.Clientset, ns, "sts/db")
		return s.Phase == guardcontroller.PhasePassed && s.Revision > 3
	})
	h, err := (&rollout.History{Clients: clients(ns)}).Run(ctx(t), "sts/db")
	if err != nil {
		t.Fatal(err)
	}
	if cur := h.Revisions[len(h.Revisions)-1]; !cur.Current || cur.Health != rollout.HealthGood {
		t.Errorf("the passed release is not the current known-good revision: %+v", h.Revisions)
	}
}

// TestControllerRollsBackADaemonSet: an opted-in DaemonSet ships a release
// whose pods cannot pull their image; the controller rolls it back to the
// last known good revision without waiting for a timeout, and kubectl
// rollout status says the DaemonSet is rolled out at the good image on
// every node.
func TestControllerRollsBackADaemonSet(t *testing.T) {
	ns := sb.Namespace(t)
	daemonSet(t, ns, "agent", "vibestack/agent:v1", sandboxenv.DaemonSetOptions{
		Mutate: func(d *appsv1.DaemonSet) { d.Annotations = guarded() }})
	markGood(t, ns, "ds/agent")
	startGuardController(t, ns, "--kinds", "daemonset")

	sb.SetDaemonSetImage(t, ns, "agent", "vibestack/agent:pull-error")
	s := waitGuardPhase(t, ns, "ds/agent", guardcontroller.PhaseRolledBack)
	if s.Revision != 2 || s.RollbackTo == "" {
		t.Errorf("state %+v; want revision 2 rolled back, naming the revision put back", s)
	}
	out := sb.Kubectl(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Errorf("kubectl rollout status after the controller's rollback:\n%s", out)
	}
	ds := sb.DaemonSet(t, ns, "agent")
	if image(ds.Spec.Template) != "vibestack/agent:v1" || ds.Status.UpdatedNumberScheduled != ds.Status.DesiredNumberScheduled {
		t.Errorf("daemonset after the rollback: image %s, %d/%d updated", image(ds.Spec.Template), ds.Status.UpdatedNumberScheduled, ds.Status.DesiredNumberScheduled)
	}
	reasons := strings.Join(guardEvents(t, ns, "DaemonSet", "agent"), ",")
	if !strings.Contains(reasons, guardcontroller.ReasonRolledBack) {
		t.Errorf("Events on the DaemonSet %s lack %s", reasons, guardcontroller.ReasonRolledBack)
	}
}

// TestControllerFinishesARollbackLeftStuck: a leader rolled an opted-in
// StatefulSet back (the template and the rolling-back state written
// together) and died before it replaced the crash-looping pod of the bad
// revision, so the set is stuck as `kubectl rollout undo` leaves it
// (kubernetes/kubernetes#67250). The controller that takes over does not
// roll back again: it replaces that one pod, verifies, and records the
// rollback as done.
func TestControllerFinishesARollbackLeftStuck(t *testing.T) {
	ns := sb.Namespace(t)
	statefulSet(t, ns, "db", "vibestack/db:v1", sandboxenv.StatefulSetOptions{NoVolumes: true,
		Mutate: func(s *appsv1.StatefulSet) { s.Annotations = guarded() }})
	markGood(t, ns, "sts/db")
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:crash-v2")
	var bad corev1.Pod
	eventually(t, "db-2 crash-looping at v2", func() bool {
		p := getPod(t, ns, "db-2")
		if p == nil || image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/db:crash-v2" || !failing(*p) {
			return false
		}
		bad = *p
		return true
	})
	h, err := (&rollout.History{Clients: clients(ns)}).Run(ctx(t), "sts/db")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Revisions) != 2 || !h.Revisions[1].Current {
		t.Fatalf("history %+v; want revisions 1 and 2, 2 current", h.Revisions)
	}
	good, badRev := h.Revisions[0].ControllerRevisionHash, h.Revisions[1].ControllerRevisionHash

	// What the dead leader left: the template back at v1 and the state
	// rolling-back naming it, the bad pod still there.
	sb.Kubectl(t, "-n", ns, "rollout", "undo", "statefulset/db")
	st := stateJSON(t, guardcontroller.State{Hash: badRev, Revision: 2, Phase: guardcontroller.PhaseRollingBack, RollbackTo: good, By: "dead-leader", Updated: time.Now().UTC()})
	sb.Kubectl(t, "-n", ns, "annotate", "statefulset/db", "--overwrite", guardcontroller.AnnotationState+"="+st)
	if out, err := sb.KubectlErr(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=5s"); err == nil {
		t.Fatalf("the StatefulSet is not stuck after kubectl's undo:\n%s", out)
	}

	p := startGuardController(t, ns)
	s := waitGuardPhase(t, ns, "sts/db", guardcontroller.PhaseRolledBack)
	if s.Hash != badRev || s.RollbackTo != good {
		t.Errorf("final state %+v; want the bad revision's, rolled back to %s", s, good)
	}
	if now := getPod(t, ns, "db-2"); now == nil || now.UID == bad.UID || image(corev1.PodTemplateSpec{Spec: now.Spec}) != "vibestack/db:v1" {
		t.Errorf("db-2 was not replaced at v1: %+v", now)
	}
	out := sb.Kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=90s")
	if !strings.Contains(out, "roll out complete") {
		t.Errorf("kubectl rollout status after the controller took over:\n%s", out)
	}
	logs := p.Stderr()
	if !strings.Contains(logs, "deleted pod db-2") {
		t.Errorf("the controller does not say it replaced db-2")
	}
	if strings.Contains(logs, "undo statefulset") || strings.Contains(logs, "rolled back to revision") {
		t.Errorf("the controller wrote the template a second time")
	}
	reasons := strings.Join(guardEvents(t, ns, "StatefulSet", "db"), ",")
	if !strings.Contains(reasons, guardcontroller.ReasonVerifying) || strings.Contains(reasons, guardcontroller.ReasonRollingBack) {
		t.Errorf("Events %s; want %s and no second %s", reasons, guardcontroller.ReasonVerifying, guardcontroller.ReasonRollingBack)
	}
	if set := sb.StatefulSet(t, ns, "db"); image(set.Spec.Template) != "vibestack/db:v1" {
		t.Errorf("template %s, want vibestack/db:v1", image(set.Spec.Template))
	}
}

func stateJSON(t *testing.T, s guardcontroller.State) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
