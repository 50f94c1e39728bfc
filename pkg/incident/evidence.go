package incident

import (
	"context"
	"slices"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/rollout"
)

// startEvidence starts collecting the evidence of what the steps change
// (lifecycle.Incident.Collect); the returned func waits for it.
func (s *session) startEvidence(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.in.Collect(ctx, "", s.evidenceSources()...)
	}()
	return func() { <-done }
}

// evidenceSources are what the run is about to change: every workload of
// the runbook in every cluster (app and config steps) and the database (db).
func (s *session) evidenceSources() []evidence.Source {
	r := s.r
	var out []evidence.Source
	if slices.Contains(s.steps, "app") || slices.Contains(s.steps, "config") {
		for _, c := range r.Clusters {
			cluster := ""
			if len(r.Clusters) > 1 {
				cluster = c.Context
			}
			for _, w := range r.Runbook.Workloads() {
				out = append(out, evidence.Workload{Clients: rollout.NewClients(c.Client, c.Namespace), Kind: rollout.Kind(w.Kind), Namespace: c.Namespace, Name: w.Name, Cluster: cluster})
			}
		}
	}
	if slices.Contains(s.steps, "db") && r.Runbook.Database != nil && r.DatabaseURL != "" {
		req := dbrollback.Request{Steps: s.db.Steps, To: s.db.To, HasTo: s.db.HasTo}
		if req.Steps == 0 && !req.HasTo {
			req.Steps = 1
		}
		out = append(out, evidence.Database{Options: s.dbOptions(), Request: req})
	}
	return out
}
