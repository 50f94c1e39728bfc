//go:build e2e

package helmrun_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/journal"
)

// guardState returns the guard state of Deployment web in ns (nil: none).
func guardState(t *testing.T, ns string) *guardcontroller.State {
	t.Helper()
	s, err := guardcontroller.ReadState(sb.Deployment(t, ns, "web"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestControllerRollsBackThroughRelease: the guard controller guards a
// Deployment installed by Helm (opted in through the chart's values); a
// crash-looping `helm upgrade` is rolled back through the release, in the
// rollback-helm program the controller runs: `helm history` shows
// "Rollback to 1", the guard state says rolled-back and names the release,
// and the incident's journal has the release's target.
func TestControllerRollsBackThroughRelease(t *testing.T) {
	ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
	annotations := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
		guardcontroller.AnnotationBake: "3s", guardcontroller.AnnotationInterval: "1s", guardcontroller.AnnotationSettle: "1s"}
	r := goodRelease(t, ns, annotations)
	journalDir := t.TempDir()
	ctl := helmenv.StartController(t, sb.Kubeconfig, "helm-replica", ns, leaseNS, journalDir)
	clitest.WaitFor(t, 30*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "helm-replica: became the leader") })
	if !strings.Contains(ctl.Stderr(), "Helm releases are rolled back with") {
		t.Errorf("the controller did not find rollback-helm:\n%s", ctl.Stderr())
	}

	v := helmenv.Values("vibestack/app:crash", "s3cret-two", 2)
	v["deploymentAnnotations"] = annotations
	if err := r.Upgrade("2.0.0", v); err != nil {
		t.Fatal(err)
	}
	var st guardcontroller.State
	clitest.WaitFor(t, 2*time.Minute, "the controller rolled the release back", func() bool {
		s := guardState(t, ns)
		if s == nil {
			return false
		}
		st = *s
		return s.Phase == guardcontroller.PhaseRolledBack || s.Phase == guardcontroller.PhaseFailed
	})
	if st.Phase != guardcontroller.PhaseRolledBack || st.Release != "web" {
		t.Fatalf("guard state: %+v", st)
	}
	h := helmenv.History(t, sb.Kubeconfig, ns, "web")
	if h.Line(3) != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history after the controller's rollback: %+v", h)
	}
	if img := image(t, ns); img != "vibestack/app:v1" {
		t.Errorf("image after the controller's rollback: %s", img)
	}
	if hist := rollbackHistory(t, ns); healthOf(hist, 2) != "failed" || hist.LastGood != 3 {
		t.Errorf("rollback's marks: revision 2 %s, last good %d", healthOf(hist, 2), hist.LastGood)
	}
	clitest.WaitFor(t, 30*time.Second, "the incident is closed", func() bool {
		es, err := journal.Read(journalDir, st.Incident)
		return err == nil && clitest.CountActions(es, journal.ActionIncidentClosed) == 1
	})
	rel := clitest.JournalEntries(t, journalDir, st.Incident, "helmrelease/web")
	if clitest.CountActions(rel, journal.ActionStepStarted) != 1 || clitest.CountActions(rel, journal.ActionStepWritten) != 1 || clitest.CountActions(rel, journal.ActionStepCompleted) != 1 {
		t.Errorf("journal of helmrelease/web: %+v", rel)
	}
	mustNotContain(t, "controller output", ctl.Stdout()+ctl.Stderr(), secrets...)
}

// TestControllerLeaderKilledDuringReleaseRollback: the leader is SIGKILLed
// after Helm recorded its rollback, while it verifies it (a 6 s settle
// window; its rollback-helm process dies with it). Helm's write cannot
// carry the guard state, which still says rolling-back: the new leader
// asks the release, finds it already renders the last good revision, only
// verifies and marks it, and never rolls back a second time.
func TestControllerLeaderKilledDuringReleaseRollback(t *testing.T) {
	ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
	annotations := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
		guardcontroller.AnnotationBake: "3s", guardcontroller.AnnotationInterval: "1s", guardcontroller.AnnotationSettle: "6s", guardcontroller.AnnotationTimeout: "2m"}
	r := goodRelease(t, ns, annotations)
	a := helmenv.StartController(t, sb.Kubeconfig, "replica-a", ns, leaseNS, t.TempDir())
	clitest.WaitFor(t, 30*time.Second, "replica-a leads", func() bool { return strings.Contains(a.Stderr(), "replica-a: became the leader") })
	b := helmenv.StartController(t, sb.Kubeconfig, "replica-b", ns, leaseNS, t.TempDir())
	clitest.WaitFor(t, 30*time.Second, "replica-b campaigns", func() bool { return strings.Contains(b.Stderr(), "campaigning for lease") })

	v := helmenv.Values("vibestack/app:crash", "s3cret-two", 2)
	v["deploymentAnnotations"] = annotations
	if err := r.Upgrade("2.0.0", v); err != nil {
		t.Fatal(err)
	}
	clitest.WaitFor(t, 90*time.Second, "replica-a's Helm rollback landed (phase rolling-back)", func() bool {
		s := guardState(t, ns)
		return s != nil && s.Phase == guardcontroller.PhaseRollingBack && s.Release == "web" && image(t, ns) == "vibestack/app:v1" &&
			strings.Contains(a.Stderr(), "verifying its workloads")
	})
	a.Kill()
	killed := *guardState(t, ns)
	t.Logf("SIGKILLed replica-a while it verified the release's rollback; state %+v", killed)

	clitest.WaitFor(t, 30*time.Second, "replica-b takes over", func() bool { return strings.Contains(b.Stderr(), "replica-b: became the leader") })
	clitest.WaitFor(t, 90*time.Second, "replica-b finished the rollback", func() bool {
		s := guardState(t, ns)
		return s != nil && (s.Phase == guardcontroller.PhaseRolledBack || s.Phase == guardcontroller.PhaseFailed)
	})
	s := guardState(t, ns)
	if s.Phase != guardcontroller.PhaseRolledBack || s.By != "replica-b" || killed.Incident == "" || s.Incident != killed.Incident {
		t.Errorf("final state %+v does not continue %+v", s, killed)
	}
	h := helmenv.History(t, sb.Kubeconfig, ns, "web")
	if len(h) != 3 || h.Line(3) != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history after the takeover (want exactly one rollback): %+v", h)
	}
	if !strings.Contains(b.Stderr(), "renders the manifest of the last known good revision 1") {
		t.Errorf("replica-b does not say the release already runs its target")
	}
	if hist := rollbackHistory(t, ns); hist.LastGood != 3 {
		t.Errorf("revision 3 not marked good after the takeover: last good %d", hist.LastGood)
	}
	// The journal mirror in the namespace holds both replicas' entries.
	es, err := journal.ReadMirror(ctx(t), sb.Clientset.CoreV1().ConfigMaps(ns), s.Incident)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range es {
		actions[e.Actor+" "+string(e.Action)+" "+e.Target]++
	}
	if actions["replica-a step.written helmrelease/web"] != 1 || actions["replica-b incident.resumed deployment/web"] != 1 ||
		actions["replica-b step.written helmrelease/web"] != 0 || actions["replica-b incident.closed "] != 1 {
		t.Errorf("want replica-a's rollback, then replica-b's resume and verification; got %v", actions)
	}
}

// TestControllerRBACForHelmReleases: the controller runs as its
// ServiceAccount with the shipped RBAC and admission policies (deploy/) plus
// deploy/helm-releases.yaml in the release's namespace, applied for real,
// and rolls a crash-looping `helm upgrade` back through the release without
// a forbidden request; the admission policy still refuses it a ConfigMap
// there that neither Helm nor rollback manages.
func TestControllerRBACForHelmReleases(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed")
	}
	kubectl := func(args ...string) {
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", sb.Kubeconfig}, args...)...)
		cmd.Dir = clitest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kubectl("apply", "-k", "deploy/")
	ns := sb.Namespace(t)
	kubectl("apply", "-n", ns, "-f", "deploy/helm-releases.yaml")
	kc, sa := sb.ServiceAccount(t, "rollback-system", "rollback-guard")

	annotations := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
		guardcontroller.AnnotationBake: "3s", guardcontroller.AnnotationInterval: "1s", guardcontroller.AnnotationSettle: "1s"}
	r := goodRelease(t, ns, annotations)
	ctl := helmenv.StartController(t, kc, "helm-sa", ns, "rollback-system", t.TempDir())
	clitest.WaitFor(t, 30*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "helm-sa: became the leader") })

	v := helmenv.Values("vibestack/app:crash", "s3cret-two", 2)
	v["deploymentAnnotations"] = annotations
	if err := r.Upgrade("2.0.0", v); err != nil {
		t.Fatal(err)
	}
	clitest.WaitFor(t, 2*time.Minute, "the controller rolled the release back", func() bool {
		s := guardState(t, ns)
		return s != nil && (s.Phase == guardcontroller.PhaseRolledBack || s.Phase == guardcontroller.PhaseFailed)
	})
	if s := guardState(t, ns); s.Phase != guardcontroller.PhaseRolledBack {
		t.Fatalf("guard state %+v", s)
	}
	if line := helmenv.History(t, sb.Kubeconfig, ns, "web").Line(3); line != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history revision 3: %s", line)
	}
	if out := strings.ToLower(ctl.Stdout() + ctl.Stderr()); strings.Contains(out, "forbidden") {
		t.Errorf("the controller hit a forbidden request with the shipped RBAC and deploy/helm-releases.yaml")
	}
	if hist := rollbackHistory(t, ns); healthOf(hist, 2) != "failed" || hist.LastGood != 3 {
		t.Errorf("rollback's marks with the shipped RBAC: revision 2 %s, last good %d", healthOf(hist, 2), hist.LastGood)
	}

	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "not-helms"}, Data: map[string]string{"k": "v"}}
	if _, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx(t), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := sa.CoreV1().ConfigMaps(ns).Patch(ctx(t), other.Name, types.MergePatchType, []byte(`{"data":{"k":"evil"}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Errorf("patch a ConfigMap that neither Helm nor rollback manages as the controller: %v, want refused by the admission policy", err)
	} else {
		t.Logf("patch a ConfigMap that neither Helm nor rollback manages as the controller: %v", err)
	}
}
