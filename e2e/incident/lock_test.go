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
// refused with the holder and the incident id, and so is the same
// operator's `--resume` of the same incident from a second process; once
// the holder is killed its lease stops being renewed and a new run takes it
// over after watching it for the lease duration.
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

	// The same user resuming the same incident from another process, while
	// the first one still runs and renews: a second holder, refused.
	resumed := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", journalDir, "--resume", first, "--lock-duration", "6s")
	if resumed.Code != 2 {
		t.Fatalf("--resume while the first process runs: exit %d, want 2 (refused)", resumed.Code)
	}
	mustContain(t, "refusal of the second process", resumed.All(), "locked by", first, "renewed while this rollback watched it")

	must(t, p.Signal(syscall.SIGKILL))
	p.Wait(t, 10*time.Second)
	waitFor(t, 20*time.Second, "the lease to expire", func() bool {
		st := rollback(t, nil, "lock", "status", appName, "-n", ns)
		return strings.Contains(st.All(), "not renewed for longer than its duration") || strings.Contains(st.All(), "free")
	})
	third := rollback(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "third"), "--settle", "1s")
	if third.Code != 0 {
		t.Fatalf("run after the holder died: exit %d, want 0", third.Code)
	}
}
