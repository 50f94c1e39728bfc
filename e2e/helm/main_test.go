//go:build e2e

// Package helm_test rolls Helm releases back end to end on the sandbox:
// charts installed and upgraded through Helm's library, rollback helm run
// in-process, and the helm CLI (built from the same module version) as the
// referee of what Helm recorded (e2e/helmenv).
package helm_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/command"
	helmcmd "github.com/vibestack/rollback/internal/command/helm"
	"github.com/vibestack/rollback/internal/iostreams"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	code := clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) })
	helmenv.RemoveProgram()
	os.Exit(code)
}

func ctx(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

// rollbackHelm runs rollback-helm in-process (the helm group the rollback
// binary runs) and returns exit code, stdout, stderr.
func rollbackHelm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	f := command.NewFactory(io)
	f.Helm = helmcmd.New
	args = append(args, "--kubeconfig", sb.Kubeconfig)
	code := command.ExecuteWith(ctx(t), f, args)
	t.Logf("rollback %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	return code, out.String(), errOut.String()
}

// helmCLI runs the helm CLI built from the module rollback links.
func helmCLI(t *testing.T, args ...string) string {
	t.Helper()
	return helmenv.CLI(t, sb.Kubeconfig, args...)
}

func newRelease(t *testing.T, ns, name string) *helmenv.Release {
	return helmenv.NewRelease(t, sb.Kubeconfig, ns, name)
}

func values(image, apiKey string, replicas int) map[string]any {
	return helmenv.Values(image, apiKey, replicas)
}

func refereeHistory(t *testing.T, ns, name string) helmenv.Revisions {
	t.Helper()
	return helmenv.History(t, sb.Kubeconfig, ns, name)
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, w := range secrets {
		if strings.Contains(s, w) {
			t.Errorf("%s shows the secret %q", what, w)
		}
	}
}

var metav1GetOptions = metav1.GetOptions{}
