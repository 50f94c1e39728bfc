//go:build e2e

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
	ns, dir, rb, journalDir := badReleaseIncident(t)

	p := start(t, bin, nil, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--pause-after", "app", "--lock-duration", "6s")
	waitFor(t, 3*time.Minute, "the first run to pause", func() bool { return strings.Contains(p.Stderr(), "paused after step app") })
	first := incidentID.FindString(p.Stderr())

	second := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "second"))
	if second.Code != 2 {
		t.Fatalf("second operator: exit %d, want 2 (refused)", second.Code)
	}
	mustContain(t, "refusal", second.All(), "locked by", first, "rollback lock break")

	must(t, p.Signal(syscall.SIGKILL))
	p.Wait(t, 10*time.Second)
	waitFor(t, 20*time.Second, "the lease to expire", func() bool {
		st := rollback(t, nil, "lock", "status", appName, "-n", ns)
		return strings.Contains(st.All(), "expired") || strings.Contains(st.All(), "not locked") || strings.Contains(st.All(), "free")
	})
	third := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "third"), "--settle", "1s")
	if third.Code != 0 {
		t.Fatalf("run after the holder died: exit %d, want 0", third.Code)
	}
}
