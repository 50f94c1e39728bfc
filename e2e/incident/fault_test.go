//go:build e2e

package incident_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

// TestFaultAndResume kills `rollback run` (SIGKILL, from the journal: the
// process dies right after the named entry is on disk) at every boundary of
// every step: after step.started (nothing written yet), after step.written
// (the change landed, for the config step after the data restore and
// before the restart) and after step.verifying (before the verification).
// `rollback run --resume ID` must then end each case written once,
// restarted where needed, and verified.
func TestFaultAndResume(t *testing.T) {
	points := []string{journal.ActionStepStarted.String(), journal.ActionStepWritten.String(), journal.ActionStepVerifying.String()}
	for _, step := range []string{"app", "config", "db"} {
		for _, point := range points {
			t.Run(step+" after "+point, func(t *testing.T) {
				t.Parallel()
				faultAndResume(t, step, point)
			})
		}
	}
}

func faultAndResume(t *testing.T, step, point string) {
	bin := binary(t)
	ns := sb.Namespace(t)
	goodApp(t, ns)
	dir := t.TempDir()
	opts := runbookOpts{ns: ns, steps: []string{step}}
	env := map[string]string{}
	var dbURL string
	switch step {
	case "app":
		badImage(t, ns)
	case "config":
		badConfig(t, ns)
	case "db":
		var migDir string
		dbURL, migDir = database(t)
		opts.migrations = migDir
		env["VIBESTACK_DATABASE_URL"] = dbURL
	}
	before := deployment(t, ns)
	rb := writeRunbook(t, dir, opts)
	journalDir := filepath.Join(dir, "incidents")

	faulty := map[string]string{command.FaultEnv: point + "@" + step}
	for k, v := range env {
		faulty[k] = v
	}
	p := start(t, bin, faulty, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--lock-duration", "3s")
	killed := p.Wait(t, 3*time.Minute)
	if killed.Code != -1 {
		t.Fatalf("run with %s=%s@%s: exit %d, want killed by the fault", command.FaultEnv, point, step, killed.Code)
	}
	id := incidentID.FindString(killed.Stderr)
	if id == "" {
		t.Fatal("no incident id in the killed run's output")
	}

	// The resume runs as a process of its own too (parallel subtests cannot
	// set the environment of the in-process CLI).
	r := start(t, bin, env, "run", "--resume", id, "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--lock-duration", "3s").Wait(t, 3*time.Minute)
	if r.Code != 0 {
		t.Fatalf("resume after a kill at %s of step %s: exit %d", point, step, r.Code)
	}
	entries, err := journal.Read(journalDir, id)
	must(t, err)
	var targets, written, verifying, completed int
	phases := map[string]int{}
	for _, e := range entries {
		if e.Step != step || e.Target == "" {
			continue
		}
		switch e.Action {
		case journal.ActionStepStarted:
			targets++
		case journal.ActionStepWritten:
			written++
			if ph, _ := e.Inputs["phase"].(string); ph != "" {
				phases[ph]++
			}
		case journal.ActionStepVerifying:
			verifying++
		case journal.ActionStepCompleted:
			completed++
		}
	}
	t.Logf("journal of step %s: %d started, %d written %v, %d verifying, %d completed", step, targets, written, phases, verifying, completed)
	if completed == 0 {
		t.Fatalf("step %s was not completed after the resume", step)
	}
	switch step {
	case "app":
		d := deployment(t, ns)
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example/vibestack-app:v1" {
			t.Errorf("image after resume = %s, want v1", img)
		}
		if !available(t, ns) || written != 1 {
			t.Errorf("deployment available %v, undo written %d times; want available and written once", available(t, ns), written)
		}
		rs := knownGood(t, ns)
		if rs == nil || !strings.HasSuffix(rs.Images[0], ":v1") {
			t.Errorf("the verified revision is not stamped known-good: %+v", rs)
		}
	case "config":
		if got := configData(t, ns); !reflect.DeepEqual(got, configV1) {
			t.Errorf("config after resume = %v, want %v", got, configV1)
		}
		if phases["restored"] != 1 || phases["restarted"] != 1 {
			t.Errorf("config restored %d and restarted %d times, want once each (the restart happens even when the kill came between the two)", phases["restored"], phases["restarted"])
		}
		d := deployment(t, ns)
		if d.Spec.Template.Annotations[rollout.RestartedAtAnnotation] == before.Spec.Template.Annotations[rollout.RestartedAtAnnotation] {
			t.Error("the deployment was not restarted after the config was restored: its pods run the bad config")
		}
		if !available(t, ns) {
			t.Error("deployment not available after the resume")
		}
	case "db":
		if v := dbVersion(t, dbURL); v != 2 {
			t.Errorf("database version after resume = %d, want 2", v)
		}
		if written != 1 {
			t.Errorf("migrations reverted %d times, want once", written)
		}
	}
	if verifying == 0 {
		t.Errorf("no verification of step %s was journaled", step)
	}
	mustContain(t, "resume output", r.All(), "resumed", "rolled-back")
}

// badImage ships a crash-looping image only.
func badImage(t *testing.T, ns string) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := deployment(t, ns)
		d.Spec.Template.Spec.Containers[0].Image = "registry.example/vibestack-app:crash"
		_, err := sb.Clientset.AppsV1().Deployments(ns).Update(ctxT(t), d, metav1.UpdateOptions{})
		return err
	}))
}

// badConfig ships the v2 configuration and restarts the Deployment onto it,
// as `kubectl apply` of the ConfigMap and `kubectl rollout restart` would.
func badConfig(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	cm, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, configName, metav1.GetOptions{})
	must(t, err)
	cm.Data = configV2
	_, err = sb.Clientset.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	must(t, err)
	_, err = rollout.Restart(ctx, sb.Clientset.AppsV1().Deployments(ns), deployName, time.Now())
	must(t, err)
	waitFor(t, 90*time.Second, "the restart onto the v2 config", func() bool { return available(t, ns) })
}

// knownGood returns the Deployment's last known good revision.
func knownGood(t *testing.T, ns string) *rollout.Revision {
	t.Helper()
	h := rollout.History{Clients: rollout.NewClients(sb.Clientset, ns)}
	res, err := h.Run(ctxT(t), deployName)
	must(t, err)
	for i := range res.Revisions {
		if res.Revisions[i].LastGood {
			return &res.Revisions[i]
		}
	}
	return nil
}
