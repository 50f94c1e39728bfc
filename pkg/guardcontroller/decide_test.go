package guardcontroller

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	cur := func(hash string, rev int64, good bool, created time.Time) *Current {
		return &Current{Hash: hash, Revision: rev, KnownGood: good, Created: created}
	}
	st := func(hash string, rev int64, phase, rollbackTo string) *State {
		return &State{Hash: hash, Revision: rev, Phase: phase, RollbackTo: rollbackTo, Updated: t0}
	}
	helm := func(s *State) *State { s.Release = "web"; return s }
	tests := []struct {
		name       string
		obs        Observation
		want       string
		wantCancel bool
	}{
		{"not opted in", Observation{Current: cur("h2", 2, false, t0)}, ActNothing, false},
		{"opted out while guarding", Observation{Current: cur("h2", 2, false, t0), Running: &Running{Hash: "h2", Revision: 2}}, ActStop, true},
		{"revision not created yet", Observation{Enabled: true}, ActWait, false},
		{"new rollout, no state", Observation{Enabled: true, Current: cur("h2", 2, false, t0)}, ActGuard, false},
		{"known-good revision, no state", Observation{Enabled: true, Current: cur("h1", 1, true, t0)}, ActNothing, false},
		{"state of an older revision", Observation{Enabled: true, Current: cur("h3", 3, false, t0), State: st("h2", 2, PhasePassed, "")}, ActGuard, false},
		{"guard of this revision running", Observation{Enabled: true, Current: cur("h2", 2, false, t0), State: st("h2", 2, PhaseBaking, ""), Running: &Running{Hash: "h2", Revision: 2, Started: t0}}, ActNothing, false},
		{"own rollback while running", Observation{Enabled: true, Current: cur("h1", 3, true, t0.Add(-time.Hour)), State: st("h2", 2, PhaseRollingBack, "h1"), Running: &Running{Hash: "h2", Revision: 2, Started: t0}}, ActNothing, false},
		{"older unverified ReplicaSet back while running", Observation{Enabled: true, Current: cur("h0", 3, false, t0.Add(-time.Hour)), Running: &Running{Hash: "h2", Revision: 2, Started: t0}}, ActNothing, false},
		{"newer rollout supersedes the running guard", Observation{Enabled: true, Current: cur("h3", 3, false, t0.Add(time.Minute)), State: st("h2", 2, PhaseBaking, ""), Running: &Running{Hash: "h2", Revision: 2, Started: t0}}, ActGuard, true},
		{"newer known-good rollout while running", Observation{Enabled: true, Current: cur("h3", 3, true, t0.Add(time.Minute)), Running: &Running{Hash: "h2", Revision: 2, Started: t0}}, ActNothing, false},
		// Restart safety: what a (new) leader finds.
		{"restart: passed", Observation{Enabled: true, Current: cur("h2", 2, true, t0), State: st("h2", 2, PhasePassed, "")}, ActNothing, false},
		{"restart: watching", Observation{Enabled: true, Current: cur("h2", 2, false, t0), State: st("h2", 2, PhaseWatching, "")}, ActResume, false},
		{"restart: baking", Observation{Enabled: true, Current: cur("h2", 2, false, t0), State: st("h2", 2, PhaseBaking, "")}, ActResume, false},
		{"restart: baking, stamp held by guard looks good", Observation{Enabled: true, Current: cur("h2", 2, true, t0), State: st("h2", 2, PhaseBaking, "")}, ActResume, false},
		{"restart: rolling-back, write never landed", Observation{Enabled: true, Current: cur("h2", 2, false, t0), State: st("h2", 2, PhaseRollingBack, "")}, ActRollback, false},
		{"restart: rolling-back, rollback landed", Observation{Enabled: true, Current: cur("h1", 3, true, t0.Add(-time.Hour)), State: st("h2", 2, PhaseRollingBack, "h1")}, ActVerify, false},
		{"restart: rolling-back to an unstamped fallback that landed", Observation{Enabled: true, Current: cur("h1", 3, false, t0.Add(-time.Hour)), State: st("h2", 2, PhaseRollingBack, "h1")}, ActVerify, false},
		{"restart: rolling-back through Helm, not landed", Observation{Enabled: true, Current: cur("h2", 2, false, t0), State: helm(st("h2", 2, PhaseRollingBack, ""))}, ActRollback, false},
		{"restart: rolling-back through Helm, landed: the release says so", Observation{Enabled: true, Current: cur("h1", 3, true, t0.Add(-time.Hour)), State: helm(st("h2", 2, PhaseRollingBack, ""))}, ActRollback, false},
		{"restart: rolling-back through Helm, then a newer rollout", Observation{Enabled: true, Current: cur("h3", 4, false, t0.Add(time.Hour)), State: helm(st("h2", 2, PhaseRollingBack, ""))}, ActGuard, false},
		{"restart: rolled back through Helm", Observation{Enabled: true, Current: cur("h1", 3, true, t0.Add(-time.Hour)), State: helm(st("h2", 2, PhaseRolledBack, ""))}, ActNothing, false},
		{"restart: rolled-back", Observation{Enabled: true, Current: cur("h1", 3, true, t0.Add(-time.Hour)), State: st("h2", 2, PhaseRolledBack, "h1")}, ActNothing, false},
		{"restart: rollback failed, fallback never became good: no ping-pong", Observation{Enabled: true, Current: cur("h1", 3, false, t0.Add(-time.Hour)), State: st("h2", 2, PhaseFailed, "h1")}, ActNothing, false},
		{"rolled-back, then a new release", Observation{Enabled: true, Current: cur("h3", 4, false, t0.Add(time.Hour)), State: st("h2", 2, PhaseRolledBack, "h1")}, ActGuard, false},
		{"rolled-back, then the bad release shipped again", Observation{Enabled: true, Current: cur("h2", 4, false, t0.Add(-time.Hour)), State: st("h2", 2, PhaseRolledBack, "h1")}, ActGuard, false},
		{"same hash, other revision: a redeploy is a new rollout", Observation{Enabled: true, Current: cur("h2", 5, false, t0), State: st("h2", 2, PhasePassed, "")}, ActGuard, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.obs)
			if got.Action != tt.want || got.Cancel != tt.wantCancel {
				t.Errorf("Decide = %s (cancel %t, %q), want %s (cancel %t)", got.Action, got.Cancel, got.Reason, tt.want, tt.wantCancel)
			}
			if got.Reason == "" {
				t.Errorf("decision %s without a reason", got.Action)
			}
		})
	}
}
