//go:build e2e

package incident_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

// TestOneRolloutForAppAndConfig: a bad image, a bad ConfigMap and a bad
// Secret; `rollback run --steps app,config` restores the configuration
// first and lets the template undo roll the pods out with it: the
// Deployment rolls out once (one new revision), is verified once, and the
// journal still records every config target as a config step target.
func TestOneRolloutForAppAndConfig(t *testing.T) {
	ns, dir, rb, journalDir := badReleaseIncident(t)
	before := revisionOf(deployment(t, ns))
	r := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s")
	if r.Code != 0 {
		t.Fatalf("run: exit %d", r.Code)
	}
	if after := revisionOf(deployment(t, ns)); after != before+1 {
		t.Errorf("revision %d -> %d, want exactly one rollout (%d)", before, after, before+1)
	}
	if got := configData(t, ns); !reflect.DeepEqual(got, configV1) {
		t.Errorf("config = %v, want %v", got, configV1)
	}
	if got := apiKey(t, ns); got != apiKeyV1 {
		t.Error("the Secret was not restored")
	}
	id := incidentID.FindString(r.All())
	entries, err := journal.Read(journalDir, id)
	must(t, err)
	verifications, rolledWithApp := 0, 0
	for _, e := range entries {
		if e.Action == journal.ActionStepVerifying {
			verifications++
		}
		if e.Step == "config" && e.Action == journal.ActionStepCompleted && e.Target != "" {
			if after, ok := e.After.(map[string]any); ok && after["rolledOutWithApp"] == true {
				rolledWithApp++
			}
		}
	}
	if verifications != 1 || rolledWithApp != 2 {
		t.Errorf("%d verifications, %d config targets rolled out with the app step; want 1 and 2 (ConfigMap and Secret)", verifications, rolledWithApp)
	}
	_ = dir
}

// TestEarlyBackupAndSchemaChange: the verified backup starts with the
// incident, beside the app step; when the schema moves before the db step
// (here a migration 4 applied while the run is paused after the app
// step), the early backup is not used: a fresh one is taken at version 4
// before migration 4 is reverted.
func TestEarlyBackupAndSchemaChange(t *testing.T) {
	bin := binary(t)
	ns := sb.Namespace(t)
	goodApp(t, ns)
	badImage(t, ns)
	dbURL, migDir := database(t)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, migrations: migDir, steps: []string{"app", "db"}})
	journalDir := filepath.Join(dir, "incidents")
	pause := filepath.Join(dir, "pause")
	must(t, os.WriteFile(pause, nil, 0o600))
	env := map[string]string{"VIBESTACK_DATABASE_URL": dbURL}

	p := start(t, bin, env, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--pause-after", "app", "--pause-file", pause)
	waitFor(t, 3*time.Minute, "the run to pause after the app step", func() bool { return strings.Contains(p.Stderr(), "paused after step app") })
	id := incidentID.FindString(p.Stderr())
	waitFor(t, 2*time.Minute, "the early backup", func() bool {
		es, _ := journal.Read(journalDir, id)
		for _, e := range es {
			if e.Action == journal.ActionBackupTaken {
				return true
			}
		}
		return false
	})
	migrateTo4(t, dbURL, migDir)
	must(t, os.Remove(pause))
	done := p.Wait(t, 3*time.Minute)
	if done.Code != 0 {
		t.Fatalf("run: exit %d", done.Code)
	}
	if v := dbVersion(t, dbURL); v != 3 {
		t.Errorf("database version = %d, want 3 (migration 4 reverted)", v)
	}
	mustContain(t, "run output", done.Stderr, "cannot be used", "taking a fresh one")
	backups, err := dbrollback.ListBackups(filepath.Join(dir, "backups"))
	must(t, err)
	versions := map[int64]bool{}
	for _, b := range backups {
		versions[b.MigrationVersion] = true
	}
	if len(backups) != 2 || !versions[3] || !versions[4] {
		t.Errorf("backups %+v: want the early one at version 3 and a fresh one at version 4", backups)
	}
}

// TestConcurrentSettle: two Deployments rolled back together are verified
// together: their settle windows overlap in the journal instead of
// following one another.
func TestConcurrentSettle(t *testing.T) {
	ns := sb.Namespace(t)
	goodApp(t, ns)
	worker := copyDeployment(t, ns, deployName, "vibestack-worker")
	badImage(t, ns)
	setWorkerImage(t, ns, worker, "registry.example/vibestack-worker:crash")
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, steps: []string{"app"}, moreDeployments: []string{worker}})
	journalDir := filepath.Join(dir, "incidents")
	r := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "3s")
	if r.Code != 0 {
		t.Fatalf("run: exit %d", r.Code)
	}
	entries, err := journal.Read(journalDir, incidentID.FindString(r.All()))
	must(t, err)
	verifying, completed := map[string]time.Time{}, map[string]time.Time{}
	for _, e := range entries {
		switch {
		case e.Step == "app" && e.Action == journal.ActionStepVerifying:
			verifying[e.Target] = e.Time
		case e.Step == "app" && e.Action == journal.ActionStepCompleted && e.Target != "":
			completed[e.Target] = e.Time
		}
	}
	a, b := "deployment/"+deployName, "deployment/"+worker
	if len(verifying) != 2 || len(completed) != 2 {
		t.Fatalf("verifying %v, completed %v: want both targets", verifying, completed)
	}
	if !verifying[b].Before(completed[a]) || !verifying[a].Before(completed[b]) {
		t.Errorf("the verifications did not overlap: %s verifying %s completed %s, %s verifying %s completed %s",
			a, verifying[a].Format(time.StampMilli), completed[a].Format(time.StampMilli), b, verifying[b].Format(time.StampMilli), completed[b].Format(time.StampMilli))
	}
}

func revisionOf(d *appsv1.Deployment) int {
	n, _ := strconv.Atoi(d.Annotations["deployment.kubernetes.io/revision"])
	return n
}

// copyDeployment creates Deployment name beside from (its own labels), waits
// until it is available and stamps it known-good.
func copyDeployment(t *testing.T, ns, from, name string) string {
	t.Helper()
	ctx := ctxT(t)
	d := deployment(t, ns).DeepCopy()
	labels := map[string]string{"app": name}
	d.ObjectMeta = metav1.ObjectMeta{Name: name, Labels: labels}
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	d.Spec.Template.Labels = labels
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/vibestack-worker:v1"
	_, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	must(t, err)
	waitFor(t, 90*time.Second, name+" available", func() bool {
		got, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && got.Status.ObservedGeneration >= got.Generation && got.Status.AvailableReplicas == *got.Spec.Replicas && got.Status.UpdatedReplicas == *got.Spec.Replicas
	})
	must(t, rollout.MarkGood(ctx, rollout.NewClients(sb.Clientset, ns), name, time.Now()))
	return name
}

func setWorkerImage(t *testing.T, ns, name, image string) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctxT(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctxT(t), d, metav1.UpdateOptions{})
		return err
	}))
}

// migrateTo4 adds migration 4 to dir and applies it.
func migrateTo4(t *testing.T, u, dir string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, "4_m4.up.sql"), []byte("CREATE INDEX users_name ON users (name);\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "4_m4.down.sql"), []byte("DROP INDEX users_name;\n"), 0o644))
	migrateUp(t, u, dir)
	if v := dbVersion(t, u); v != 4 {
		must(t, fmt.Errorf("version after migrating = %d, want 4", v))
	}
}
