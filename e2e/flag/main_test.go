//go:build e2e

// Package flag_test runs "rollback flag" end to end against a real sandbox
// control plane: the flags ConfigMap changes, the change is journaled and
// mirrored, a second run is skipped, and a concurrent writer is never lost.
package flag_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, time.Minute) }

// run runs the rollback CLI in-process (as the admin unless args name a
// kubeconfig) and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: time.Minute}, args...).Split()
}
