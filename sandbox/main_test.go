//go:build e2e

package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vibestack/rollback/sandbox"
)

// sb is the one sandbox shared by this package's end-to-end tests; each
// test works in its own namespace.
var sb *sandbox.Sandbox

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	logw := io.Writer(io.Discard)
	if os.Getenv("SANDBOX_TEST_LOG") != "" {
		logw = os.Stderr
	}
	start := time.Now()
	sb, err = sandbox.Start(context.Background(), sandbox.Options{Dir: filepath.Join(dir, "state"), LogWriter: logw})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sb.Stop()
	fmt.Fprintf(os.Stderr, "sandbox ready in %s at %s\n", time.Since(start).Round(time.Millisecond), sb.URL)
	return m.Run()
}
