package sandboxenv

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// KubectlBin is the kubectl the tests use as a referee (a compatibility peer).
const KubectlBin = "/usr/bin/kubectl"

// kubectlTimeout bounds one kubectl run: longer than any --timeout the
// tests give kubectl's own waits (rollout status).
const kubectlTimeout = 3 * time.Minute

// KubectlContext runs kubectl as the sandbox's admin: its standard output,
// or, when it fails, its standard and error output with the error.
func (sb *Sandbox) KubectlContext(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, KubectlBin, append([]string{"--kubeconfig", sb.Kubeconfig}, args...)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// KubectlErr is KubectlContext for a test, which is skipped when kubectl
// is not installed.
func (sb *Sandbox) KubectlErr(t testing.TB, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(KubectlBin); err != nil {
		t.Skipf("kubectl not installed at %s", KubectlBin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	return sb.KubectlContext(ctx, args...)
}

// Kubectl is KubectlErr; a failure fails the test.
func (sb *Sandbox) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := sb.KubectlErr(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
