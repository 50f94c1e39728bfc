//go:build e2e

package controller_test

import (
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/guardcontroller"
)

// The leader is SIGKILLed after its rollback write landed, while it verifies
// the rollback (a 6 s settle window): the new leader finds phase
// rolling-back with the Deployment at the rollback's target, only verifies,
// and never rolls back a second time; it continues the same incident journal.
func TestLeaderKilledDuringRollback(t *testing.T) {
	leaseNS := sb.Namespace(t)
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1", guardAnnotations(map[string]string{
		"bake": "5s", "interval": "1s", "settle": "6s", "timeout": "2m",
	}))
	markGood(t, ns, "web")

	a, b := startReplicas(t, ns, leaseNS)

	setImage(t, ns, "web", "vibestack/app:crash-v2")
	eventually(t, 60*time.Second, "replica-a's rollback write (phase rolling-back)", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && s.Phase == guardcontroller.PhaseRollingBack && s.RollbackTo != "" && image(getDeployment(t, ns, "web")) == "vibestack/app:v1"
	})
	a.Kill()
	killed := state(t, ns, "web")
	t.Logf("SIGKILLed replica-a during the rollback's verification; state %+v", killed)

	eventually(t, 30*time.Second, "replica-b takes over", func() bool { return b.has("replica-b: became the leader") })
	eventually(t, 60*time.Second, "replica-b verified the rollback", func() bool {
		return state(t, ns, "web").Phase == guardcontroller.PhaseRolledBack
	})
	s := state(t, ns, "web")
	t.Logf("final state %+v", s)
	d := getDeployment(t, ns, "web")
	if image(d) != "vibestack/app:v1" || revision(d) != "3" {
		t.Errorf("deployment at %s revision %s, want vibestack/app:v1 revision 3: exactly one rollback", image(d), revision(d))
	}
	if s.By != "replica-b" || s.Incident != killed.Incident || s.RollbackTo != killed.RollbackTo {
		t.Errorf("final state %+v does not continue %+v", s, killed)
	}
	if !b.has("the rollback of revision 2 by replica-a landed; verifying it (no second rollback)") {
		t.Errorf("replica-b does not say it only verifies")
	}
	if b.has(guardcontroller.ReasonRollingBack) || b.has(`"kind":"plan"`) || b.has("undo deployment") {
		t.Errorf("replica-b rolled back a second time")
	}
	evs := events(t, sb.Clientset, ns, "web")
	logEvents(t, evs)
	for reason, want := range map[string]int{guardcontroller.ReasonRollingBack: 1, guardcontroller.ReasonVerifying: 1, guardcontroller.ReasonRolledBack: 1} {
		if n := countReason(evs, reason); n != want {
			t.Errorf("%d %s events, want %d", n, reason, want)
		}
	}
	incidents := journalEntries(t, ns)
	es := incidents[s.Incident]
	actions := map[string]int{}
	for _, e := range es {
		t.Logf("journal %s #%d %s %s %s %s", s.Incident, e.Seq, e.Actor, e.Step, e.Action, e.Result)
		actions[e.Actor+" "+string(e.Action)]++
	}
	if len(incidents) != 1 || actions["replica-a step.started"] != 1 || actions["replica-b incident.resumed"] != 1 || actions["replica-b health.checked"] != 1 || actions["replica-b incident.closed"] != 1 || actions["replica-b step.started"] != 0 {
		t.Errorf("want one incident: replica-a's rollback step, then replica-b's resume and health check; got %v", actions)
	}
}
