package clitest

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/rollout"
)

// GuardState reads the guard controller's state on workload (sts/db,
// daemonset/agent) in ns: the zero State when there is none; a workload it
// cannot read fails the test.
func GuardState(t testing.TB, client kubernetes.Interface, ns, workload string) guardcontroller.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := rollout.GetWorkload(ctx, rollout.NewClients(client, ns), workload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := guardcontroller.ReadState(info.Object)
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return guardcontroller.State{}
	}
	return *s
}
