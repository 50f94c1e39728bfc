//go:build e2e

// Package incident_test runs whole incidents (`rollback run`) end to end
// against the sandbox, a real PostgreSQL server and a real local HTTP
// receiver for the webhook notifications.
package incident_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

// result is one run of the rollback CLI.
type result = clitest.Result

// rollback runs the CLI in-process with env added to the process environment
// for the duration of the call (tests using it do not run in parallel).
func rollback(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 4 * time.Minute, Env: env}, args...)
}

// binary returns the rollback binary: $ROLLBACK_BIN, else one built once.
func binary(t *testing.T) string { return clitest.Binary(t) }

// start runs the binary with env and args (plus --kubeconfig).
func start(t *testing.T, bin string, env map[string]string, args ...string) *clitest.Process {
	t.Helper()
	return clitest.Start(t, bin, env, append(args, "--kubeconfig", sb.Kubeconfig)...)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	clitest.WaitFor(t, timeout, what, cond)
}

func ctxT(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}
