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

// Kubectl runs kubectl as the sandbox's admin and returns its combined
// output; a failure fails the test, and the test is skipped when kubectl
// is not installed.
func (sb *Sandbox) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(KubectlBin); err != nil {
		t.Skipf("kubectl not installed at %s", KubectlBin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, KubectlBin, append([]string{"--kubeconfig", sb.Kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
