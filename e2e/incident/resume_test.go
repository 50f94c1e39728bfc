//go:build e2e

package incident_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
)

// TestKillAndResume: the run is killed (SIGKILL) between the app and the
// config step; `rollback run --resume ID` finishes without repeating the
// app step.
func TestKillAndResume(t *testing.T) {
	bin := binary(t)
	ns := sb.Namespace(t)
	goodApp(t, ns)
	dbURL, migDir := database(t)
	badRelease(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, migrations: migDir})
	journalDir := filepath.Join(dir, "incidents")
	env := map[string]string{"VIBESTACK_DATABASE_URL": dbURL}

	p := start(t, bin, env, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "2s", "--pause-after", "app", "--lock-duration", "10s")
	waitFor(t, 3*time.Minute, "the run to pause after the app step", func() bool { return strings.Contains(p.Stderr(), "paused after step app") })
	must(t, p.Signal(syscall.SIGKILL))
	killed := p.Wait(t, 10*time.Second)
	id := incidentID.FindString(killed.Stderr)
	if id == "" {
		t.Fatal("no incident id in the killed run's output")
	}
	d := deployment(t, ns)
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example/vibestack-app:v1" {
		t.Fatalf("image after the app step = %s, want v1", img)
	}
	revAfterApp := d.Annotations["deployment.kubernetes.io/revision"]
	if v := dbVersion(t, dbURL); v != 3 {
		t.Fatalf("database version after the kill = %d, want 3 (db step not started)", v)
	}

	r := rollback(t, env, "run", "--resume", id, "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "2s")
	if r.Code != 0 {
		t.Fatalf("resume: exit %d", r.Code)
	}
	mustContain(t, "resume output", r.All(), "resumed", "completed before the interruption")
	if got := configData(t, ns); !reflect.DeepEqual(got, configV1) {
		t.Errorf("config after resume = %v, want %v", got, configV1)
	}
	if v := dbVersion(t, dbURL); v != 2 {
		t.Errorf("database version after resume = %d, want 2", v)
	}
	entries, err := journal.Read(journalDir, id)
	must(t, err)
	undos := 0
	for _, e := range entries {
		if e.Step == "app" && e.Action == "step.started" && e.Target != "" {
			undos++
		}
	}
	if undos != 1 {
		t.Errorf("the app step started %d times for the deployment, want 1 (not repeated)", undos)
	}
	// The app step restored the configuration with its own rollout (one
	// rollout for both steps), so the resumed config step neither restarts
	// the Deployment again nor repeats the restore; a repeated app undo
	// would have added a revision too.
	d = deployment(t, ns)
	if rev := d.Annotations["deployment.kubernetes.io/revision"]; rev != revAfterApp {
		t.Errorf("revision %s -> %s after the resume: the Deployment rolled out again", revAfterApp, rev)
	}
	b, _ := json.Marshal(entries)
	if !strings.Contains(string(b), "incident.resumed") || !strings.Contains(string(b), "incident.closed") {
		t.Error("journal lacks incident.resumed or incident.closed")
	}
	if _, err := os.Stat(filepath.Join(journalDir, id+".md")); err != nil {
		t.Errorf("no report after resume: %v", err)
	}
}
