package command

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	goldenfile "github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/pkg/journal"
)

// pruneIncident writes a journal in dir (and its mirror to cms when set):
// opened by trigger at opened, closed with result at closed unless zero.
func pruneIncident(t *testing.T, dir, id string, cms corev1client.ConfigMapInterface, trigger string, opened, closed time.Time) {
	t.Helper()
	clk := clocktesting.NewFakeClock(opened)
	o := journal.Options{Dir: dir, Incident: id, Clock: clk, Actor: "ana@laptop"}
	if cms != nil {
		o.Mirror = &journal.ConfigMapMirror{ConfigMaps: cms, App: "shop"}
	}
	j, err := journal.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := j.Append(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "shop", "trigger": trigger}}); err != nil {
		t.Fatal(err)
	}
	if !closed.IsZero() {
		clk.SetTime(closed)
		if _, err := j.Append(ctx, journal.Entry{Action: journal.ActionIncidentClosed, Result: journal.ResultOK}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// pruneIncidents writes the incidents of the prune tests in dir: one closed
// 62 days before t0 with its report and two evidence bundles, one closed
// two days before, one left open 86 days before, and an unreadable one.
func pruneIncidents(t *testing.T, dir string, cms corev1client.ConfigMapInterface) {
	t.Helper()
	day := 24 * time.Hour
	pruneIncident(t, dir, "inc-20260925-030000-0a1b", cms, "app undo", t0.Add(-62*day-time.Minute), t0.Add(-62*day))
	pruneIncident(t, dir, "inc-20261124-030000-2c3d", cms, "flag disable", t0.Add(-2*day-time.Minute), t0.Add(-2*day))
	pruneIncident(t, dir, "inc-20260901-030000-4e5f", cms, "run", t0.Add(-86*day), time.Time{})
	for _, name := range []string{"inc-20260925-030000-0a1b.md", "inc-20260925-030000-0a1b.evidence.tar.gz", "inc-20260925-030000-0a1b.evidence-2.tar.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "inc-20260801-030000-6a7b.jsonl"), []byte("not a journal\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestIncidentPrune runs "incident prune" on local journals and on their
// mirrors in a fake clientset and compares its output with golden files.
func TestIncidentPrune(t *testing.T) {
	tests := []struct {
		name    string
		cluster bool
		args    []string
		code    int
		stderr  string
		removed []string // files gone afterwards
	}{
		{name: "incident-prune-dry-run", args: []string{"--older-than", "30d"}},
		{name: "incident-prune-yes", args: []string{"--older-than", "30d", "--yes"},
			removed: []string{"inc-20260925-030000-0a1b.jsonl", "inc-20260925-030000-0a1b.md", "inc-20260925-030000-0a1b.evidence.tar.gz", "inc-20260925-030000-0a1b.evidence-2.tar.gz"}},
		{name: "incident-prune-nothing", args: []string{"--older-than", "90d", "--yes"}},
		{name: "incident-prune-json", args: []string{"--older-than", "30d", "-o", "json"}},
		{name: "incident-prune-cluster-yes", cluster: true, args: []string{"--older-than", "30d", "--yes", "--cluster"}},
		{name: "incident-prune-cluster-all-dry-run", cluster: true, args: []string{"--older-than", "30d", "--cluster", "-A"}},
		{name: "incident-prune-missing-age", args: []string{"--yes"}, code: 2, stderr: "--older-than is required"},
		{name: "incident-prune-bad-age", args: []string{"--older-than", "-3d"}, code: 2, stderr: `invalid age "-3d"`},
		{name: "incident-prune-zero-age", args: []string{"--older-than", "0s"}, code: 2, stderr: "not positive"},
		{name: "incident-prune-all-local", args: []string{"--older-than", "30d", "-A"}, code: 2, stderr: "-A needs --cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var objs []runtime.Object
			if tt.cluster {
				cs := fake.NewClientset()
				pruneIncidents(t, dir, cs.CoreV1().ConfigMaps("shop"))
				list, err := cs.CoreV1().ConfigMaps("shop").List(context.Background(), metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for i := range list.Items {
					objs = append(objs, &list.Items[i])
				}
			} else {
				pruneIncidents(t, dir, nil)
			}
			args := append([]string{"incident", "prune"}, tt.args...)
			if !tt.cluster {
				args = append(args, "--journal-dir", dir)
			}
			code, out, errOut := runFake(t, objs, args...)
			if code != tt.code {
				t.Fatalf("rollback %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, tt.code, out, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.stderr)
			}
			goldenfile.Assert(t, filepath.Join("testdata", "commands", tt.name+".golden"), []byte(strings.ReplaceAll(out, dir, "DIR")))
			left, _ := os.ReadDir(dir)
			have := map[string]bool{}
			for _, e := range left {
				have[e.Name()] = true
			}
			gone := map[string]bool{}
			for _, n := range tt.removed {
				gone[n] = true
				if have[n] {
					t.Errorf("%s still there", n)
				}
			}
			for _, n := range []string{"inc-20261124-030000-2c3d.jsonl", "inc-20260901-030000-4e5f.jsonl", "inc-20260801-030000-6a7b.jsonl", "inc-20260925-030000-0a1b.jsonl"} {
				if !gone[n] && !have[n] {
					t.Errorf("%s was removed", n)
				}
			}
		})
	}
}
