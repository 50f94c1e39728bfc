//go:build e2e

package controller_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/guardcontroller"
)

// Two controller replicas with short Lease settings. A guarded Deployment
// (v1 stamped good) gets v2, whose endpoint answers 500: it rolls out fine
// and goes bad in the bake, where failure-limit 8 lets it fail 9 rounds
// before the verdict. The leader is SIGKILLed during the bake (after it
// persisted phase baking); the standby takes the Lease over, resumes the
// bake where it was, and rolls v2 back - exactly once. A good v3 then passes
// its bake under the new leader and is stamped known-good.
func TestTwoReplicasLeaderKilledDuringBake(t *testing.T) {
	leaseNS := sb.Namespace(t)
	ns := sb.Namespace(t)
	url := newService(t, ns, "web")
	newDeployment(t, ns, "web", "vibestack/app:v1", guardAnnotations(map[string]string{
		"bake": "12s", "interval": "1s", "failure-limit": "8", "settle": "1s", "timeout": "2m",
		"check-urls": url + "/healthz?token=" + secretToken,
	}))
	markGood(t, ns, "web")

	a, b := startReplicas(t, ns, leaseNS)
	eventually(t, 10*time.Second, "replica-a ready as the leader", func() bool { return a.readyz(t) == "200 ok: leader" })
	if got := b.readyz(t); got != "200 ok: standby" {
		t.Errorf("replica-b /readyz: %q, want 200 ok: standby", got)
	}
	// v1 is known-good: nothing to guard.
	time.Sleep(time.Second)
	if s := state(t, ns, "web"); s.Phase != "" {
		t.Fatalf("v1 is stamped known-good, yet the controller wrote state %+v", s)
	}

	setImage(t, ns, "web", "vibestack/app:http500-v2")
	eventually(t, 60*time.Second, "replica-a persists phase baking for revision 2", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && s.Phase == guardcontroller.PhaseBaking && s.By == "replica-a"
	})
	bakeStarted := *state(t, ns, "web").BakeStarted
	time.Sleep(time.Second) // one or two failed rounds: below the failure limit
	if d := getDeployment(t, ns, "web"); image(d) != "vibestack/app:http500-v2" {
		t.Fatalf("replica-a rolled back before it was killed (image %s): the kill must happen during the bake", image(d))
	}
	killedAt := time.Now()
	a.Kill()
	t.Logf("SIGKILLed replica-a %s after the bake started", killedAt.Sub(bakeStarted).Round(time.Millisecond))

	eventually(t, 30*time.Second, "replica-b takes over", func() bool { return b.has("replica-b: became the leader") })
	t.Logf("replica-b leads %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	eventually(t, 90*time.Second, "revision 2 rolled back by replica-b", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && s.Phase == guardcontroller.PhaseRolledBack
	})
	s := state(t, ns, "web")
	t.Logf("state after the takeover: %+v", s)
	if s.By != "replica-b" {
		t.Errorf("state written by %q, want replica-b", s.By)
	}
	if s.BakeStarted == nil || !s.BakeStarted.Equal(bakeStarted) {
		t.Errorf("bakeStarted %v, want the one replica-a persisted (%v): the bake was resumed, not restarted", s.BakeStarted, bakeStarted)
	}
	d := getDeployment(t, ns, "web")
	if image(d) != "vibestack/app:v1" || revision(d) != "3" {
		t.Errorf("deployment at %s revision %s, want vibestack/app:v1 revision 3 (one rollback)", image(d), revision(d))
	}
	if !b.has("resuming the guard of revision 2 left in phase baking by replica-a") {
		t.Errorf("replica-b's log does not say it resumed replica-a's bake")
	}

	// Exactly once: one rollback Event, one ReplicaSet per template, one
	// incident journal with one rollback step.
	evs := events(t, sb.Clientset, ns, "web")
	logEvents(t, evs)
	if n := countReason(evs, guardcontroller.ReasonRollingBack); n != 1 {
		t.Errorf("%d %s events, want exactly 1", n, guardcontroller.ReasonRollingBack)
	}
	if n := countReason(evs, guardcontroller.ReasonRolledBack); n != 1 {
		t.Errorf("%d %s events, want exactly 1", n, guardcontroller.ReasonRolledBack)
	}
	rss, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 2 {
		t.Errorf("%d ReplicaSets, want 2 (v1 and v2)", len(rss.Items))
	}
	incidents := journalEntries(t, ns)
	rollbacks := 0
	for id, es := range incidents {
		for _, e := range es {
			t.Logf("journal %s #%d %s %s %s %s %s", id, e.Seq, e.Actor, e.Step, e.Action, e.Target, e.Result)
			if e.Step == "app" && e.Action == "step.started" {
				rollbacks++
			}
		}
	}
	if len(incidents) != 1 || rollbacks != 1 {
		t.Errorf("%d incident journals with %d rollback steps, want exactly 1 and 1", len(incidents), rollbacks)
	}
	if s.Incident == "" || incidents[s.Incident] == nil {
		t.Errorf("the state names incident %q, not found in the mirror", s.Incident)
	}
	if strings.Contains(a.output(), guardcontroller.ReasonRollingBack) {
		t.Errorf("replica-a started rolling back before it was killed")
	}

	assertNoSecret(t, ns, "web", a, b)

	// A good release later: passes its bake under replica-b and is stamped.
	setAnnotation(t, ns, "web", guardcontroller.AnnotationBake, "4s")
	setImage(t, ns, "web", "vibestack/app:v3")
	eventually(t, 90*time.Second, "revision 4 passes", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 4 && s.Phase == guardcontroller.PhasePassed
	})
	rss, err = sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	stamped := false
	for _, rs := range rss.Items {
		if rs.Spec.Template.Spec.Containers[0].Image == "vibestack/app:v3" {
			stamped = rs.Annotations["rollback.vibestack.dev/known-good-hash"] == rs.Labels["pod-template-hash"]
		}
	}
	if !stamped {
		t.Errorf("v3 passed but its ReplicaSet is not stamped known-good")
	}
	evs = events(t, sb.Clientset, ns, "web")
	if n := countReason(evs, guardcontroller.ReasonRolledBack); n != 1 {
		t.Errorf("%d %s events after v3, want still 1", n, guardcontroller.ReasonRolledBack)
	}
	if n := countReason(evs, guardcontroller.ReasonGuardPassed); n != 1 {
		t.Errorf("%d %s events, want 1 (v3)", n, guardcontroller.ReasonGuardPassed)
	}
}
