//go:build linux

package journal

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFailedAppendTruncates appends with the file size limited (as a full
// disk would): the write is partial and fails; the next append, with room
// again, must follow the last good entry, not the torn bytes. The limit is
// set in a child process so that no other test feels it.
func TestFailedAppendTruncates(t *testing.T) {
	if dir := os.Getenv("JOURNAL_FULL_DIR"); dir != "" {
		appendWithLimit(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailedAppendTruncates$", "-test.v")
	cmd.Env = append(os.Environ(), "JOURNAL_FULL_DIR="+dir)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	entries, err := Read(dir, "inc-20261126-033122-7f3a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, string(e.Action))
	}
	if want := "incident.opened step.completed"; strings.Join(got, " ") != want {
		t.Errorf("entries = %v, want %s (seq %v)", got, want, entries)
	}
	if len(entries) == 2 && entries[1].Seq != 2 {
		t.Errorf("seq after the failed append = %d, want 2", entries[1].Seq)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "inc-20261126-033122-7f3a.jsonl"))
	if n := strings.Count(string(data), "\n"); n != 2 || strings.Contains(string(data), "step.started") {
		t.Errorf("journal file holds %d lines, want exactly the 2 good entries:\n%s", n, data)
	}
}

func appendWithLimit(t *testing.T, dir string) {
	ctx := context.Background()
	j := open(t, dir, Options{})
	if _, err := j.Append(ctx, Entry{Action: ActionIncidentOpened}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	// Writes past the limit fail with EFBIG (SIGXFSZ is ignored by Go programs).
	lim := syscall.Rlimit{Cur: uint64(st.Size()) + 20, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	_, err = j.Append(ctx, Entry{Action: ActionStepStarted, Inputs: map[string]any{"plan": strings.Repeat("x", 200)}})
	if err == nil {
		t.Fatal("append past the size limit succeeded")
	}
	t.Logf("failed append: %v", err)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(ctx, Entry{Action: ActionStepCompleted}); err != nil {
		t.Fatalf("append after the disk has room again: %v", err)
	}
}
