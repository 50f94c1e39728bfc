package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/journal/journaltest"
	"github.com/vibestack/rollback/pkg/outcome"
)

const handID = "inc-20261126-030000-0a1b"

// leftOpen writes what `app undo` killed after step.started leaves: an
// incident opened, its workload lock journaled (unless noLock) and its
// step started, mirrored in cs; closed adds an incident.closed entry.
func leftOpen(t *testing.T, cs *fake.Clientset, dir string, noLock, closed bool) {
	t.Helper()
	result := ""
	if closed {
		result = journal.ResultOK
	}
	journaltest.LeftOpen(t, cs.CoreV1().ConfigMaps("shop"), dir, handID, t0.Add(-time.Hour), noLock, result)
}

// holdLease makes the lease of deployment/web held by a process of ana for incident.
func holdLease(t *testing.T, cs *fake.Clientset, clk *clocktesting.FakeClock, incident string) {
	t.Helper()
	l := &clusterlock.Lock{Leases: cs.CoordinationV1().Leases("shop"), Clock: clk, Name: "deployment/web", Holder: "ana@laptop",
		Process: "dead1", Incident: incident, Duration: 3 * time.Second}
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// renew renews the lease of deployment/web as its holder would; the fake
// clientset keeps resourceVersions as written, so it sets a new one.
func renew(t *testing.T, cs *fake.Clientset, clk *clocktesting.FakeClock) {
	t.Helper()
	leases := cs.CoordinationV1().Leases("shop")
	lease, err := leases.Get(context.Background(), "rollback-deployment-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.NewMicroTime(clk.Now())
	lease.Spec.RenewTime, lease.ResourceVersion = &now, fmt.Sprint(clk.Now().UnixNano())
	if _, err := leases.Update(context.Background(), lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCloseByHand: the rules of closing an incident by hand, with a fake
// cluster and clock.
func TestCloseByHand(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		reason  string
		outcome HandOutcome
		noLock  bool // the incident journaled no lock
		closed  bool // already closed
		cluster bool // cluster access
		force   bool
		lease   string // incident of a lease held on deployment/web
		renew   bool   // its holder renews it while close watches
		// want: refused (error text), skipped, or the closing entry's result
		refused string
		skipped bool
		result  string
		locks   int
	}{
		{name: "missing reason", reason: " ", cluster: true, refused: "--reason is required"},
		{name: "bad result", reason: "r", outcome: "done", cluster: true, refused: `--result "done"`},
		{name: "unknown id", id: "inc-20261126-030000-ffff", reason: "r", cluster: true, refused: "no journal in"},
		{name: "invalid id", id: "INC/1", reason: "r", cluster: true, refused: "invalid incident id"},
		{name: "already closed", reason: "r", closed: true, cluster: true, skipped: true},
		{name: "no cluster", reason: "r", refused: "no cluster access"},
		{name: "no cluster forced", reason: "r", force: true, result: journal.ResultAbandoned},
		{name: "no lock taken", reason: "r", noLock: true, cluster: true, refused: "it took no cluster lock"},
		{name: "no lock taken forced", reason: "r", noLock: true, cluster: true, force: true, outcome: HandFailed, result: journal.ResultFailed},
		{name: "lock released", reason: "r", cluster: true, outcome: HandResolved, result: journal.ResultOK},
		{name: "lock of another incident", reason: "r", cluster: true, lease: "inc-20261126-040000-9999", result: journal.ResultAbandoned},
		{name: "holder gone", reason: "r", cluster: true, lease: handID, result: journal.ResultAbandoned, locks: 1},
		{name: "holder alive", reason: "r", cluster: true, lease: handID, renew: true, refused: "renewed while this rollback watched it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cs := fake.NewClientset()
			clk := clocktesting.NewFakeClock(t0)
			dir := t.TempDir()
			leftOpen(t, cs, dir, tt.noLock, tt.closed)
			if tt.lease != "" {
				holdLease(t, cs, clk, tt.lease)
			}
			before, _ := journal.Read(dir, handID)
			id := handID
			if tt.id != "" {
				id = tt.id
			}
			c := CloseByHand{Options: Options{ID: id, Actor: "bo@desk", Process: "p2", JournalDir: dir, Clock: clk, Secrets: []string{"hunter2"}},
				Reason: tt.reason + " hunter2", Outcome: tt.outcome, Force: tt.force, Namespace: "shop", NoCluster: errors.New("no kubeconfig")}
			if strings.TrimSpace(tt.reason) == "" {
				c.Reason = tt.reason
			}
			if tt.cluster {
				c.Mirror, c.Leases = cs.CoreV1().ConfigMaps("shop"), cs.CoordinationV1()
			}
			type ran struct {
				res *HandClosed
				err error
			}
			done := make(chan ran, 1)
			go func() {
				res, err := c.Run(ctx)
				done <- ran{res, err}
			}()
			// Step the fake clock while close watches a lease; the holder
			// renews it meanwhile when it is alive.
			var r ran
			for r.res == nil && r.err == nil {
				select {
				case r = <-done:
					continue
				case <-time.After(time.Millisecond):
				}
				if clk.HasWaiters() {
					if tt.renew {
						renew(t, cs, clk)
					}
					clk.Step(500 * time.Millisecond)
				}
			}
			after, _ := journal.Read(dir, handID)
			if tt.refused != "" || tt.skipped {
				if tt.refused != "" && (outcome.KindOf(r.err) != outcome.Refused || !strings.Contains(r.err.Error(), tt.refused)) {
					t.Fatalf("err = %v, want a refusal with %q", r.err, tt.refused)
				}
				if tt.skipped && (r.err != nil || !r.res.Skipped || r.res.Result != journal.ResultOK || r.res.ClosedBy != "ana@laptop") {
					t.Fatalf("res %+v, err %v: want skipped, closed ok by ana@laptop", r.res, r.err)
				}
				if len(after) != len(before) {
					t.Errorf("a refusal wrote %d entries", len(after)-len(before))
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			res := r.res
			last := after[len(after)-1]
			if last.Action != journal.ActionIncidentClosed || last.Step != StepClose || last.Result != tt.result || last.Actor != "bo@desk" {
				t.Errorf("closing entry %+v, want incident.closed step close result %s by bo@desk", last, tt.result)
			}
			if want := "r " + journal.Redacted; last.Inputs["reason"] != want || res.Reason != want {
				t.Errorf("reason journaled %q, returned %q, want %q", last.Inputs["reason"], res.Reason, want)
			}
			if res.Result != tt.result || res.Report == "" || len(res.Locks) != tt.locks {
				t.Errorf("result %+v", res)
			}
			if s := journal.Summarize(handID, after); s.Status != tt.result || s.Closed.IsZero() {
				t.Errorf("summary %+v: not closed %s", s, tt.result)
			}
			if tt.force != (res.Unchecked != "") || (tt.force && last.Inputs["force"] == nil) {
				t.Errorf("unchecked %q, force input %v, with --force %v", res.Unchecked, last.Inputs["force"], tt.force)
			}
			if !tt.cluster {
				return
			}
			m, err := journal.ReadMirror(ctx, cs.CoreV1().ConfigMaps("shop"), handID)
			if err != nil {
				t.Fatal(err)
			}
			if ml := m[len(m)-1]; ml.Action != journal.ActionIncidentClosed || ml.Seq != last.Seq || res.Mirror != "shop/rollback-"+handID {
				t.Errorf("mirror's last entry %+v (mirror %q), want the closing entry %d", ml, res.Mirror, last.Seq)
			}
			lease, err := cs.CoordinationV1().Leases("shop").Get(ctx, "rollback-deployment-web", metav1.GetOptions{})
			switch {
			case tt.lease == handID && err == nil:
				t.Errorf("the incident's lease is still there after the close: %v", lease.Annotations)
			case tt.lease != "" && tt.lease != handID && (err != nil || lease.Annotations[clusterlock.AnnotationIncident] != tt.lease):
				t.Errorf("another incident's lease was touched: %v", err)
			}
			if tt.locks > 0 {
				if l := res.Locks[0]; l.Holder != "ana@laptop" || l.Process != "dead1" || l.Name != "deployment/web" {
					t.Errorf("lock taken over %+v", l)
				}
				if got := actions(after[len(before):]); got != "lock.acquired lock.released incident.closed" {
					t.Errorf("journal of the close: %s", got)
				}
			}
		})
	}
}

func TestParseHandOutcome(t *testing.T) {
	for in, want := range map[string]string{"": journal.ResultAbandoned, "abandoned": journal.ResultAbandoned, "resolved": journal.ResultOK, "failed": journal.ResultFailed} {
		h, err := ParseHandOutcome(in)
		if err != nil || h.Result() != want {
			t.Errorf("ParseHandOutcome(%q) = %v (%s), %v; want result %s", in, h, h.Result(), err, want)
		}
	}
	if _, err := ParseHandOutcome("ok"); outcome.KindOf(err) != outcome.Refused {
		t.Errorf("ok: %v, want a refusal", err)
	}
}
