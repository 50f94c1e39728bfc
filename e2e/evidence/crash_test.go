//go:build e2e

package evidence_test

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/evidence"
)

// TestCrashLoopUndoKeepsEvidence: a release of 3 pods that crash-loop,
// undone by the single `rollback app undo`. Before the undo, `rollback app
// logs` prints the crashed runs of the revision's pods; after it the pods
// are gone, `app logs --revision 2` says so and points at the evidence, and
// the evidence holds each pod's current and previous run as kubectl logs
// printed them, the Events of the revision, the pods' status (CrashLoopBackOff,
// exit code 1), the template diff and a healthy pod's log; the value of the
// Secret the pods read is nowhere in it; the report's root cause analysis
// shows the first error lines and exit codes.
func TestCrashLoopUndoKeepsEvidence(t *testing.T) {
	ns := sb.Namespace(t)
	journals := filepath.Join(t.TempDir(), "incidents")
	secret := "evidence-canary-" + ns
	_, err := sb.Clientset.CoreV1().Secrets(ns).Create(ctxT(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-secret"},
		StringData: map[string]string{"token": secret}}, metav1.CreateOptions{})
	must(t, err)
	deployment(t, ns, "web", "example/web:v1", 3)
	release(t, ns, "web", `{"template":{"spec":{"containers":[{"name":"app","image":"example/web:crash-v2","env":[
		{"name":"API_TOKEN","valueFrom":{"secretKeyRef":{"name":"web-secret","key":"token"}}}]}]}}}`)
	pods, hash := revisionPods(t, ns, "web", 3, "3 pods of revision 2 crashed and restarted", restarted)
	ref := watchLogs(t, ns, pods)

	// rollback app logs: the pods of the revision, which kubectl cannot select.
	r := rollback(t, "app", "logs", "web", "-n", ns, "--previous")
	if r.Code != 0 {
		t.Fatalf("app logs --previous: exit %d", r.Code)
	}
	for _, p := range pods {
		if !strings.Contains(r.Stdout, "["+p+"/app] level=error msg=\"cannot start\"") || !strings.Contains(r.Stdout, "["+p+"/app] panic: sandbox mode crash") {
			t.Errorf("app logs --previous does not show the crash of pod %s:\n%s", p, r.Stdout)
		}
	}
	before := eventsNow(t, ns)

	r = rollback(t, "app", "undo", "web", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", journals, "--reason", "v2 crash-loops")
	if r.Code != 0 {
		t.Fatalf("app undo: exit %d", r.Code)
	}
	if !strings.Contains(r.Stderr, "collecting evidence before the first change") || !strings.Contains(r.Stderr, "evidence kept: ") {
		t.Errorf("the undo did not report the evidence it kept:\n%s", r.Stderr)
	}
	waitGone(t, ns, "web", hash)
	id := onlyIncident(t, journals)
	k := keptEvidence(t, journals, id)
	wdir := workloadDir(ns, "web")
	t.Logf("crash-looping release of 3 pods: %d files, %d bytes before compression, collected in %s, stopped by %q",
		len(k.manifest.Files), k.manifest.Size(), k.manifest.Duration(), k.manifest.StoppedBy)

	ref.check(t, k, wdir, `panic: sandbox mode crash: app cannot start (image example/web:crash-v2)`)
	statuses := podStatuses(t, k, wdir)
	for _, p := range pods {
		s, ok := statuses[p]
		if !ok {
			t.Errorf("pod %s is not in pods.json", p)
			continue
		}
		if s.Role != evidence.RoleBad || s.Revision != 2 || s.Restarts < 1 || len(s.Containers) != 1 {
			t.Errorf("pod %s: %+v; want a pod of revision 2 being rolled back, restarted", p, s)
			continue
		}
		c := s.Containers[0]
		crashed := c.LastExitCode != nil && *c.LastExitCode == 1 || c.ExitCode != nil && *c.ExitCode == 1
		if !crashed {
			t.Errorf("pod %s container: %+v; want a run that exited with code 1", p, c)
		}
	}
	healthy := 0
	for _, s := range statuses {
		if s.Role == evidence.RoleHealthy {
			healthy++
			if _, ok := k.files[wdir+"/logs/"+s.Pod+"/app.log"]; !ok {
				t.Errorf("the healthy sample %s has no log in the evidence", s.Pod)
			}
		}
	}
	if healthy == 0 {
		t.Errorf("no healthy pod was sampled for comparison: %+v", statuses)
	}
	checkEvents(t, k, wdir, before, hash)
	if d := k.file(t, wdir+"/diff.txt"); !strings.Contains(d, "example/web:crash-v2 -> example/web:v1") {
		t.Errorf("diff.txt does not show the image change:\n%s", d)
	}
	for name, text := range k.files {
		if strings.Contains(text, secret) {
			t.Errorf("the Secret's value is in the evidence's %s", name)
		}
	}
	checkShown(t, journals, k, "exited with code 1", "1 (Error)", "cannot start", "3 of 3 pods of the revision failing")

	// The pods are gone: app logs says where their logs are.
	r = rollback(t, "app", "logs", "web", "-n", ns, "--revision", "2")
	if r.Code != 0 || !strings.Contains(r.Stderr, "has no pods") || !strings.Contains(r.Stderr, "rollback incident evidence") {
		t.Errorf("app logs --revision 2 after the undo: exit %d; want skipped, pointing at the evidence:\n%s", r.Code, r.Stderr)
	}
	r = rollback(t, "app", "logs", "web", "-n", ns, "--revision", "9")
	if r.Code != 2 {
		t.Errorf("app logs --revision 9: exit %d, want 2", r.Code)
	}
}
