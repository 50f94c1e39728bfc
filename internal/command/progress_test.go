package command

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	goldenfile "github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// TestRenderer renders the events of an undo for a terminal (one updating
// line), for plain lines (updates only when they change) and as JSON lines.
func TestRenderer(t *testing.T) {
	plan := &rollout.Plan{Kind: rollout.KindDeployment, Name: "web", Deployment: "web", Namespace: "shop", From: &rollout.Revision{Number: 3, Images: []string{"web:crash"}},
		To: &rollout.Revision{Number: 1, Images: []string{"web:v1"}}, Reason: "last known good revision 1"}
	events := []progress.Event{
		{Kind: progress.Plan, Source: "rollout", Target: "deployment/web", Message: plan.Summary(), Data: plan},
		{Kind: progress.Written, Source: "rollout", Target: "deployment/web", Message: "web: rolled back to revision 1; watching the rollout"},
		{Kind: progress.Verifying, Source: "rollout", Target: "deployment/web"},
		{Kind: progress.Update, Source: "rollout", Target: "deployment/web", Message: "web: revision 4: 0/2 updated", Elapsed: 200 * time.Millisecond},
		{Kind: progress.Update, Source: "rollout", Target: "deployment/web", Message: "web: revision 4: 0/2 updated", Elapsed: 400 * time.Millisecond},
		{Kind: progress.Update, Source: "rollout", Target: "deployment/web", Message: "web: revision 4: 2/2 updated", Elapsed: 1200 * time.Millisecond},
		{Kind: progress.Warning, Source: "rollout", Target: "deployment/web", Message: "warning: could not stamp revision 4"},
		{Kind: progress.Verdict, Source: "rollout", Target: "deployment/web", Message: "web: revision 4 is healthy (1.2s)"},
	}
	for _, tt := range []struct {
		name, mode string
		tty        bool
	}{{"tty", progressAuto, true}, {"plain", progressAuto, false}, {"json", progressJSON, true}, {"none", progressNone, false}} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			r := newRenderer(&b, tt.mode, tt.tty, func() time.Time { return t0 })
			for _, e := range events {
				r.Observe(e)
			}
			goldenfile.Assert(t, filepath.Join("testdata", "progress", tt.name+".golden"), b.Bytes())
		})
	}
}
