package helmenv

import (
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
)

// StartController runs `rollback guard --controller` against the cluster
// of kubeconfig as replica name, guarding namespace ns with its Lease in
// leaseNS (3 s), journals in journalDir, with the rollback-helm program
// (Program) for the workloads Helm releases manage. It stops the
// controller when the test ends and logs its output then.
func StartController(t testing.TB, kubeconfig, name, ns, leaseNS, journalDir string) *clitest.Process {
	t.Helper()
	p := clitest.Start(t, clitest.Binary(t), map[string]string{"ROLLBACK_HELM_BIN": Program(t)},
		"guard", "--controller", "--kubeconfig", kubeconfig, "--identity", name, "--health-addr", "127.0.0.1:0",
		"--journal-dir", journalDir, "-n", ns, "--lease-namespace", leaseNS,
		"--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms")
	t.Cleanup(func() {
		p.Stop(15 * time.Second)
		t.Logf("controller %s output:\n%s%s", name, p.Stdout(), p.Stderr())
	})
	return p
}
