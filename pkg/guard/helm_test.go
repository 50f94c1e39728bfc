package guard

import (
	"testing"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/rollout"
)

func TestRollbackVerdict(t *testing.T) {
	plan := &helmtarget.Plan{From: helmtarget.Revision{Revision: 2}, To: helmtarget.Revision{Revision: 1}, Reason: "already there"}
	for _, tt := range []struct {
		name    string
		r       *Rollback
		verdict outcome.Verdict
		moved   string
	}{
		{"none", nil, rollout.VerdictError, ""},
		{"deployment", &Rollback{Undo: &rollout.UndoResult{Verdict: rollout.VerdictHealthy, FromRevision: 3, ToRevision: 1, NewRevision: 4}}, rollout.VerdictHealthy, "revision 3 to revision 1 (now 4)"},
		{"release", &Rollback{Release: "web", Helm: &helmtarget.UndoResult{Plan: plan, Verdict: helmtarget.VerdictHealthy, NewRevision: 3}}, rollout.VerdictHealthy, "revision 2 to revision 1 of Helm release web (now 3)"},
		{"release unhealthy", &Rollback{Release: "web", Helm: &helmtarget.UndoResult{Plan: plan, Verdict: helmtarget.VerdictUnhealthy, NewRevision: 3}}, rollout.VerdictUnhealthy, "revision 2 to revision 1 of Helm release web (now 3)"},
		{"release rolled back before, verified now", &Rollback{Release: "web", Helm: &helmtarget.UndoResult{Plan: plan, Verdict: helmtarget.VerdictSkipped},
			Verified: &helmtarget.MarkGoodResult{Revision: 3, Marked: helmtarget.MarkGood}}, rollout.VerdictHealthy, "a bad revision to revision 3 of Helm release web (rolled back before, verified now)"},
		{"release rolled back before, unhealthy now", &Rollback{Release: "web", Helm: &helmtarget.UndoResult{Plan: plan, Verdict: helmtarget.VerdictSkipped},
			Verified: &helmtarget.MarkGoodResult{Revision: 3, Marked: helmtarget.MarkFailed}}, rollout.VerdictUnhealthy, "a bad revision to revision 3 of Helm release web (rolled back before, verified now)"},
		{"release healthy, a check URL fails", &Rollback{Release: "web", URLs: "check http://x: status 500", Helm: &helmtarget.UndoResult{Plan: plan, Verdict: helmtarget.VerdictHealthy, NewRevision: 3}}, rollout.VerdictUnhealthy, "revision 2 to revision 1 of Helm release web (now 3)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Verdict(); got != tt.verdict {
				t.Errorf("Verdict = %s, want %s", got, tt.verdict)
			}
			if got := tt.r.Moved(); got != tt.moved {
				t.Errorf("Moved = %q, want %q", got, tt.moved)
			}
		})
	}
	if got := (&Rollback{URLs: "check http://x: status 500", Helm: &helmtarget.UndoResult{}}).Reason(); got != "check http://x: status 500" {
		t.Errorf("Reason = %q", got)
	}
}
