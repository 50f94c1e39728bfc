package command

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	goldenfile "github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/journal/journaltest"
)

const closeID = "inc-20261126-020000-0a1b"

// closeIncident writes in dir, mirrored in cs's namespace shop, what `app
// undo` killed mid-way leaves (lock journaled unless noLock), closed at
// the end when closed; and returns the mirror ConfigMap.
func closeIncident(t *testing.T, dir string, noLock, closed bool) []runtime.Object {
	t.Helper()
	ctx := context.Background()
	cs := fake.NewClientset()
	result := ""
	if closed {
		result = journal.ResultFailed
	}
	journaltest.LeftOpen(t, cs.CoreV1().ConfigMaps("shop"), dir, closeID, t0.Add(-time.Hour), noLock, result)
	cm, err := cs.CoreV1().ConfigMaps("shop").Get(ctx, journal.MirrorName(closeID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return []runtime.Object{cm}
}

// TestIncidentClose runs "incident close" on an incident left open and
// compares its output with golden files.
func TestIncidentClose(t *testing.T) {
	tests := []struct {
		name           string
		noLock, closed bool
		args           []string
		code           int
		stderr         string
		status         string // the incident's status afterwards
	}{
		{name: "incident-close", args: []string{"--reason", "app undo was killed; rolled back with kubectl"}, status: journal.ResultAbandoned},
		{name: "incident-close-json", args: []string{"--reason", "verified by hand", "--result", "resolved", "-o", "json"}, status: journal.ResultOK},
		{name: "incident-close-already-closed", closed: true, args: []string{"--reason", "again"}, status: journal.ResultFailed},
		{name: "incident-close-no-lock", noLock: true, args: []string{"--reason", "killed"}, code: 2, stderr: "it took no cluster lock", status: "open"},
		{name: "incident-close-no-lock-force", noLock: true, args: []string{"--reason", "killed", "--force", "--result", "failed"}, status: journal.ResultFailed},
		{name: "incident-close-missing-reason", args: []string{}, code: 2, stderr: "--reason is required", status: "open"},
		{name: "incident-close-bad-result", args: []string{"--reason", "x", "--result", "ok"}, code: 2, stderr: `--result "ok"`, status: "open"},
		{name: "incident-close-unknown", args: []string{"--reason", "x", "--id", "inc-20261126-020000-ffff"}, code: 2, stderr: "no journal in", status: "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ROLLBACK_ACTOR", "bo@desk")
			dir := t.TempDir()
			objs := closeIncident(t, dir, tt.noLock, tt.closed)
			id := closeID
			args := tt.args
			if len(args) > 2 && args[2] == "--id" {
				id, args = args[3], args[:2]
			}
			args = append([]string{"incident", "close", id, "--journal-dir", dir}, args...)
			code, out, errOut := runFake(t, objs, args...)
			if code != tt.code {
				t.Fatalf("rollback %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, tt.code, out, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.stderr)
			}
			goldenfile.Assert(t, filepath.Join("testdata", "commands", tt.name+".golden"), []byte(strings.ReplaceAll(out, dir, "DIR")))
			es, err := journal.Read(dir, closeID)
			if err != nil {
				t.Fatal(err)
			}
			if s := journal.Summarize(closeID, es); s.Status != tt.status {
				t.Errorf("status afterwards %s, want %s", s.Status, tt.status)
			}
		})
	}
}
