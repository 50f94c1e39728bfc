package lifecycle

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

var t0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func options(t *testing.T, cs *fake.Clientset) Options {
	return Options{App: "web", Actor: "ana@laptop", Process: "p1", JournalDir: t.TempDir(),
		Mirror: cs.CoreV1().ConfigMaps("shop"), Clock: clocktesting.NewFakeClock(t0), Secrets: []string{"hunter2"}}
}

func actions(es []journal.Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Action))
	}
	return strings.Join(out, " ")
}

// TestIncident: open, lock, record, close: the locks are released before
// the closing entry, the report is written, secrets never reach the journal.
func TestIncident(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	in, err := Open(ctx, options(t, cs))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Record(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"reason": "pw hunter2 leaked"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Lock(ctx, Workload(cs.CoordinationV1().Leases("shop"), "shop", "deployment", "web")); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoordinationV1().Leases("shop").Get(ctx, "rollback-deployment-web", metav1.GetOptions{}); err != nil {
		t.Fatalf("lease while locked: %v", err)
	}
	closed, err := in.Close(ctx, Closing{Result: journal.ResultOK})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := actions(in.Entries()), "incident.opened lock.acquired lock.released incident.closed"; got != want {
		t.Errorf("journal: %s, want %s", got, want)
	}
	if _, err := cs.CoordinationV1().Leases("shop").Get(ctx, "rollback-deployment-web", metav1.GetOptions{}); err == nil {
		t.Error("the lease is still there after Close")
	}
	data, err := os.ReadFile(in.JournalPath())
	if err != nil || strings.Contains(string(data), "hunter2") {
		t.Errorf("journal holds the secret (%v)", err)
	}
	if _, err := os.Stat(closed.Report); err != nil {
		t.Errorf("no report: %v", err)
	}
	if _, err := in.Close(ctx, Closing{}); err == nil {
		t.Error("a second Close succeeded")
	}
}

// TestOneStep: bad input (Check) leaves no record; a change is journaled
// from its start to its end with its writes; a failure is recorded and
// returned; joining a closed incident is refused.
func TestOneStep(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	o := options(t, cs)
	step := OneStep{Options: o, Command: "rollback app undo", Step: "app", Target: "deployment/web",
		Locks: []LockTarget{Workload(cs.CoordinationV1().Leases("shop"), "shop", "deployment", "web")}}

	bad := step
	bad.Check = func(context.Context) error { return outcome.AsRefused(errors.New("deployment web not found")) }
	if res, err := bad.Run(ctx, nil); outcome.KindOf(err) != outcome.Refused || res != nil {
		t.Fatalf("checked: %v, %v; want a refusal and no record", res, err)
	}
	if l, _ := journal.List(o.JournalDir); len(l) != 0 {
		t.Errorf("a refused check left %d incidents", len(l))
	}

	res, err := step.Run(ctx, func(ctx context.Context, obs progress.Observer) (StepOutcome, error) {
		obs.Observe(progress.Event{Kind: progress.Written, Message: "patched"})
		obs.Observe(progress.Event{Kind: progress.Verifying})
		return StepOutcome{Detail: "revision 3 -> 1"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := journal.Read(o.JournalDir, res.Incident)
	if got, want := actions(es), "incident.opened lock.acquired step.started step.written step.verifying step.completed lock.released incident.closed"; got != want {
		t.Errorf("journal: %s\nwant %s", got, want)
	}

	failing := step
	failing.Join = ""
	res2, err := failing.Run(ctx, func(context.Context, progress.Observer) (StepOutcome, error) {
		return StepOutcome{}, outcome.AsUnhealthy(errors.New("crash loop"))
	})
	if outcome.KindOf(err) != outcome.Unhealthy {
		t.Fatalf("failed change: %v, want unhealthy", err)
	}
	es, _ = journal.Read(o.JournalDir, res2.Incident)
	if last := es[len(es)-1]; last.Action != journal.ActionIncidentClosed || last.Result != journal.ResultFailed {
		t.Errorf("closing entry %+v, want a failed close", last)
	}

	join := step
	join.Join = res.Incident
	if _, err := join.Run(ctx, func(context.Context, progress.Observer) (StepOutcome, error) { return StepOutcome{}, nil }); outcome.KindOf(err) != outcome.Refused {
		t.Errorf("joining a closed incident: %v, want refused", err)
	}
}
