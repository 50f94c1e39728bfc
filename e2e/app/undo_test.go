//go:build e2e

package app_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/rollout"
)

// v1 good, v2 good, v3 crash: undo picks v2, completes, verifies (with a
// health URL), stamps it.
func TestUndoPicksNewestKnownGood(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	markGood(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:v2")
	markGood(t, ns, "web")
	url := newService(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:crash")

	code, out, errOut := run(t, "app", "undo", "web", "-n", ns, "--yes", "--settle", "1s", "--check-url", url, "-o", "json")
	if code != exitcode.OK {
		t.Fatalf("exit %d", code)
	}
	var res rollout.UndoResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v", err)
	}
	if res.FromRevision != 3 || res.ToRevision != 2 || res.NewRevision != 4 || res.Verdict != rollout.VerdictHealthy {
		t.Errorf("result %+v: want 3 -> 2 (now 4), healthy", res)
	}
	if res.ImagesBefore[0] != "vibestack/app:crash" || res.ImagesAfter[0] != "vibestack/app:v2" {
		t.Errorf("images %v -> %v", res.ImagesBefore, res.ImagesAfter)
	}
	if res.Status == nil || len(res.Status.Checks) != 1 || !res.Status.Checks[0].OK || !res.Status.MarkedGood {
		t.Errorf("status %+v: want one 2xx check and a stamp", res.Status)
	}
	if !strings.Contains(errOut, "last known good revision 2") {
		t.Errorf("stderr does not say why revision 2 was chosen")
	}
	if got := image(getDeployment(t, ns, "web")); got != "vibestack/app:v2" {
		t.Errorf("image %s, want vibestack/app:v2", got)
	}
	// The revision is stamped: history shows it as current and last known good.
	code, out, _ = run(t, "app", "history", "web", "-n", ns, "-o", "json")
	var h rollout.HistoryResult
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
		t.Fatalf("history: exit %d", code)
	}
	if h.Current != 4 || h.LastGood != 4 {
		t.Errorf("history current %d last good %d, want 4 and 4", h.Current, h.LastGood)
	}
	for _, r := range h.Revisions {
		if r.Number == 3 && r.Health != rollout.HealthUnverified {
			t.Errorf("revision 3 health %q: nobody watched it", r.Health)
		}
	}
}

// v1 good and stamped, v2 crash, v3 crash: undo picks v1, not v2.
func TestUndoSkipsUnstampedRevisions(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	markGood(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:crash-a")
	setImage(t, ns, "web", "vibestack/app:crash-b")

	code, out, _ := run(t, "app", "undo", "web", "-n", ns, "--yes", "--settle", "1s")
	if code != exitcode.OK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "to revision 1 (vibestack/app:v1)") {
		t.Errorf("stdout does not report revision 1 as the target")
	}
	if got := image(getDeployment(t, ns, "web")); got != "vibestack/app:v1" {
		t.Errorf("image %s, want vibestack/app:v1", got)
	}
}

// Rolling back TO a revision whose image crashes fails within 15 s, naming
// the pod and the reason.
func TestUndoToCrashingRevisionFailsFast(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	setImage(t, ns, "web", "vibestack/app:crash")
	setImage(t, ns, "web", "vibestack/app:v3")
	waitRolledOut(t, ns, "web")

	start := time.Now()
	code, out, errOut := run(t, "app", "undo", "web", "-n", ns, "--yes", "--to-revision", "2", "--timeout", "2m")
	took := time.Since(start)
	if code != exitcode.Unhealthy {
		t.Fatalf("exit %d, want %d (unhealthy)", code, exitcode.Unhealthy)
	}
	if took > 15*time.Second {
		t.Errorf("took %s to report the crash loop, want < 15s", took)
	}
	if !strings.Contains(errOut, "CrashLoopBackOff") || !strings.Contains(errOut, "pod web-") || !strings.Contains(out, "unhealthy") {
		t.Errorf("the failure must name the pod and CrashLoopBackOff")
	}
}

// A concurrent writer between read and write: the precondition makes the
// write fail, rollback re-reads, re-plans, says what changed, and the
// concurrent change (replicas) is not lost.
func TestUndoConcurrentWriter(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	markGood(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:crash")

	deps := sb.Clientset.AppsV1().Deployments(ns)
	var progress clitest.ProgressLog
	u := rollout.Undo{
		Clients: rollout.NewClients(sb.Clientset, ns), Observer: &progress, Verification: rollout.Verification{Settle: time.Second, Timeout: time.Minute},
		BeforeWrite: func() {
			d, err := deps.Get(ctx(t), "web", metav1.GetOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			four := int32(4)
			d.Spec.Replicas = &four
			d.Spec.Template.Spec.Containers[0].Image = "vibestack/app:hotfix"
			if _, err := deps.Update(ctx(t), d, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
			}
		},
	}
	res, err := u.Run(ctx(t), "web")
	t.Log(progress.String())
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	joined := strings.Join(res.ConcurrentChanges, "\n")
	if !strings.Contains(joined, "replicas: 3 -> 4") || !strings.Contains(joined, "vibestack/app:crash -> vibestack/app:hotfix") {
		t.Errorf("concurrent changes %q: want the replicas and the image change", joined)
	}
	if !strings.Contains(progress.String(), "re-planned") {
		t.Errorf("progress does not say it re-planned")
	}
	d := getDeployment(t, ns, "web")
	if *d.Spec.Replicas != 4 {
		t.Errorf("replicas %d: the concurrent update was lost", *d.Spec.Replicas)
	}
	if image(d) != "vibestack/app:v1" || res.ImagesBefore[0] != "vibestack/app:hotfix" || res.Verdict != rollout.VerdictHealthy {
		t.Errorf("image %s, before %v, verdict %s: want v1 from the re-read hotfix, healthy", image(d), res.ImagesBefore, res.Verdict)
	}
}

// The restricted user (view role) may read but not write: forbidden, a clear
// message, exit code 2, nothing changed.
func TestUndoForbiddenForViewer(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	markGood(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:crash")
	// The deployment controller goes on writing the crash loop's status, so
	// "nothing changed" is judged on what a rollback writes: the spec
	// (its generation) and the annotations.
	before := getDeployment(t, ns, "web")

	code, _, errOut := run(t, "app", "undo", "web", "-n", ns, "--yes", "--kubeconfig", sb.RestrictedKubeconfig)
	if code != exitcode.Refused {
		t.Errorf("exit %d, want %d", code, exitcode.Refused)
	}
	if !strings.Contains(errOut, "forbidden") || !strings.Contains(errOut, "may not") {
		t.Errorf("stderr must say forbidden and what the identity may not do")
	}
	after := getDeployment(t, ns, "web")
	if after.Generation != before.Generation || !maps.Equal(after.Annotations, before.Annotations) {
		t.Errorf("generation %d -> %d, annotations %v -> %v: something changed", before.Generation, after.Generation, before.Annotations, after.Annotations)
	}
	// Reading is allowed.
	if code, _, _ := run(t, "app", "history", "web", "-n", ns, "--kubeconfig", sb.RestrictedKubeconfig); code != 0 {
		t.Errorf("history as viewer: exit %d", code)
	}
}

// status fails fast on a crash-looping rollout; restart twice in one second
// rolls twice.
func TestStatusAndRestart(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	code, out, _ := run(t, "app", "status", "web", "-n", ns, "--settle", "500ms")
	if code != 0 || !strings.Contains(out, "healthy") || !strings.Contains(out, "stamped known-good") {
		t.Fatalf("status of a good rollout: exit %d", code)
	}
	setImage(t, ns, "web", "vibestack/app:pull-error")
	start := time.Now()
	code, _, errOut := run(t, "app", "status", "web", "-n", ns)
	if code != exitcode.Unhealthy || time.Since(start) > 15*time.Second {
		t.Errorf("status of an image pull error: exit %d after %s, want 3 within 15s", code, time.Since(start))
	}
	if !strings.Contains(errOut, "ImagePull") && !strings.Contains(errOut, "ErrImagePull") {
		t.Errorf("stderr must name the image pull reason")
	}
	code, _, _ = run(t, "app", "undo", "web", "-n", ns, "--yes", "--settle", "500ms")
	if code != 0 {
		t.Fatalf("undo: exit %d", code)
	}

	gen := getDeployment(t, ns, "web").Generation
	if code, _, _ := run(t, "app", "restart", "web", "-n", ns); code != 0 {
		t.Fatalf("restart: exit %d", code)
	}
	if code, _, _ := run(t, "app", "restart", "web", "-n", ns); code != 0 {
		t.Fatalf("second restart: exit %d", code)
	}
	if got := getDeployment(t, ns, "web").Generation; got != gen+2 {
		t.Errorf("generation %d -> %d: both restarts within one second must take effect", gen, got)
	}
}
