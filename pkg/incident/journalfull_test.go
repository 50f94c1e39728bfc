//go:build linux

package incident

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/runbook"
)

// TestStepNotStartedWhenItsStartCannotBeJournaled fills the disk (a file
// size limit, set in a child process) right after incident.opened: the
// app step's step.started cannot be written, so the step must not run:
// the run is refused and not a single write reaches the Deployments.
func TestStepNotStartedWhenItsStartCannotBeJournaled(t *testing.T) {
	if os.Getenv("INCIDENT_FULL_DISK") != "" {
		stepWithFullDisk(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStepNotStartedWhenItsStartCannotBeJournaled$", "-test.v")
	cmd.Env = append(os.Environ(), "INCIDENT_FULL_DISK=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
}

func stepWithFullDisk(t *testing.T) {
	cs := fake.NewClientset()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Run{
		Runbook:  &runbook.Runbook{App: "shop", Deployments: []string{"web"}, Steps: []string{"app"}},
		Clusters: []Cluster{{Context: "c", Namespace: "shop", Client: cs}}, Actor: "ana@laptop", JournalDir: dir,
		AfterRecord: func(e journal.Entry) {
			if e.Action != journal.ActionIncidentOpened {
				return
			}
			st, err := os.Stat(dir + "/" + e.Incident + ".jsonl")
			if err != nil {
				t.Error(err)
				return
			}
			// From now on the disk is full: no entry fits.
			lim := syscall.Rlimit{Cur: uint64(st.Size()) + 10, Max: old.Max}
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
				t.Skipf("setrlimit: %v", err)
			}
		},
	}
	res, err := r.Run(context.Background())
	_ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	t.Logf("result %+v, err %v", res, err)
	if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "the step did not run") {
		t.Fatalf("err = %v (kind %s), want a refusal saying the step did not run", err, outcome.KindOf(err))
	}
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "deployments" || a.GetResource().Resource == "replicasets" {
			t.Errorf("the step ran anyway: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
}
