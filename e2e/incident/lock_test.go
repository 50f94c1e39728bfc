package incident_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondOperatorRefused: while a run holds the lock, a second run is
// refused with the holder and the incident id; once the holder is killed the
// lease expires and a new run goes ahead.
func TestSecondOperatorRefused(t *testing.T) {
	bin := binary(t)
	ns := sb.Namespace(t)
	goodApp(t, ns)
	badRelease(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, steps: []string{"app", "config"}})
	journalDir := filepath.Join(dir, "incidents")

	p := start(t, bin, nil, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--pause-after", "app", "--lock-duration", "6s")
	waitFor(t, 3*time.Minute, "the first run to pause", func() bool { return strings.Contains(p.stderr.String(), "paused after step app") })
	first := incidentID.FindString(p.stderr.String())

	second := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "second"))
	if second.code != 2 {
		t.Fatalf("second operator: exit %d, want 2 (refused)", second.code)
	}
	mustContain(t, "refusal", second.all(), "locked by", first, "rollback lock break")

	must(t, p.cmd.Process.Signal(syscall.SIGKILL))
	p.wait(t, 10*time.Second)
	waitFor(t, 20*time.Second, "the lease to expire", func() bool {
		st := rollback(t, nil, "lock", "status", appName, "-n", ns)
		return strings.Contains(st.all(), "expired") || strings.Contains(st.all(), "not locked") || strings.Contains(st.all(), "free")
	})
	third := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "third"), "--settle", "1s")
	if third.code != 0 {
		t.Fatalf("run after the holder died: exit %d, want 0", third.code)
	}
}
