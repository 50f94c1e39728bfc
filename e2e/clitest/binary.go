package clitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// built is the binary Binary built, once per test process.
var built struct {
	once sync.Once
	path string
	err  error
}

// RepoRoot returns the root directory of the module (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary returns the rollback binary: $ROLLBACK_BIN when that file exists
// (the Makefile sets it to bin/rollback), else ./cmd/rollback built once
// into a temporary directory that RemoveBinary deletes. A failing build
// fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("ROLLBACK_BIN"); b != "" {
		if _, err := os.Stat(b); err == nil {
			return b
		}
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "rollback-e2e-")
		if err != nil {
			built.err = fmt.Errorf("build rollback: %w", err)
			return
		}
		built.path = filepath.Join(dir, "rollback")
		cmd := exec.Command("go", "build", "-o", built.path, "./cmd/rollback")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build rollback: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// RemoveBinary deletes the binary Binary built, if any; call it from
// TestMain after the tests ran.
func RemoveBinary() {
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
}

// Main runs the tests with run (e.g. a sandboxenv.RunTests call), removes
// the binary Binary built and returns run's exit code for os.Exit.
func Main(run func() int) int {
	defer IsolateJournals()()
	code := run()
	RemoveBinary()
	return code
}

// IsolateJournals points ROLLBACK_JOURNAL_DIR, unless set, at a new
// temporary directory for the rest of the test binary: every command that
// changes something records an incident, and tests must not write into the
// home directory of the machine they run on. The returned func removes it.
func IsolateJournals() func() {
	if os.Getenv("ROLLBACK_JOURNAL_DIR") != "" {
		return func() {}
	}
	dir, err := os.MkdirTemp("", "rollback-e2e-journals-")
	if err != nil {
		return func() {}
	}
	os.Setenv("ROLLBACK_JOURNAL_DIR", dir)
	return func() { os.RemoveAll(dir) }
}
