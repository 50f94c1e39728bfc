// Package flag_test runs "rollback flag" end to end against a real sandbox
// control plane: the flags ConfigMap changes, the change is journaled and
// mirrored, a second run is skipped, and a concurrent writer is never lost.
package flag_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// run runs the rollback CLI in-process and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	if !slices.Contains(args, "--kubeconfig") {
		args = append(args, "--kubeconfig", sb.Kubeconfig)
	}
	code := command.Execute(ctx(t), io, args)
	t.Logf("rollback %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	return code, out.String(), errOut.String()
}
