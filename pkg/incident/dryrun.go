package incident

import (
	"context"
	"fmt"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// dryRun plans every step and changes nothing.
func (s *session) dryRun(ctx context.Context) (*Result, error) {
	s.res.Verdict = VerdictDryRun
	for _, step := range s.steps {
		switch step {
		case "app":
			for _, c := range s.r.Clusters {
				for _, w := range s.workloads() {
					if sr, ok := s.dryThroughRelease(ctx, c, w); ok {
						s.res.Steps = append(s.res.Steps, sr)
						continue
					}
					u := s.undo(c, s.r.Observer)
					u.DryRun = true
					ur, err := u.Run(ctx, w.String())
					sr := StepResult{Step: "app", Target: s.targetName(c.Context, w.String()), Cluster: c.Context, Verdict: stepPlanned}
					if err != nil {
						sr.Verdict, sr.Error = stepFailed, err.Error()
					} else if ur.Verdict == rollout.VerdictSkipped {
						sr.Verdict, sr.Detail = stepSkipped, ur.Reason
					} else {
						sr.Detail = fmt.Sprintf("revision %d -> %d (%s)", ur.FromRevision, ur.ToRevision, imagesText(ur.ImagesAfter))
					}
					s.res.Steps = append(s.res.Steps, sr)
				}
				for _, h := range s.r.Runbook.HelmReleases {
					s.res.Steps = append(s.res.Steps, s.dryHelm(ctx, c, h))
				}
			}
		case "config":
			for _, c := range s.r.Clusters {
				for _, ref := range s.r.Runbook.Configs {
					s.res.Steps = append(s.res.Steps, s.dryConfig(ctx, c, ref))
				}
			}
		case "db":
			s.res.Steps = append(s.res.Steps, s.dryDB(ctx))
		}
	}
	return s.res, nil
}

// dryThroughRelease plans the app step of a workload a Helm release
// manages (rolled back through its listed release, or refused); ok is
// false for any other workload.
func (s *session) dryThroughRelease(ctx context.Context, c Cluster, w rollout.Workload) (StepResult, bool) {
	sr := StepResult{Step: "app", Target: s.targetName(c.Context, w.String()), Cluster: c.Context, Verdict: stepPlanned}
	owner, err := helmOwner(ctx, c, w)
	if err == nil && owner == nil {
		return sr, false
	}
	var through string
	if err == nil {
		through, err = s.throughRelease(c, w, owner)
	}
	switch {
	case err != nil:
		sr.Verdict, sr.Error = stepFailed, err.Error()
	case through == "":
		return sr, false // --force: patched like any workload
	default:
		sr.Verdict, sr.Detail = stepSkipped, delegated(owner, through)
	}
	return sr, true
}

// dryHelm plans the rollback of Helm release h in cluster c.
func (s *session) dryHelm(ctx context.Context, c Cluster, h runbook.HelmRelease) StepResult {
	ref := releaseRef(c, h)
	sr := StepResult{Step: "app", Target: s.targetName(c.Context, ref.Target()), Cluster: c.Context, Verdict: stepPlanned}
	if s.r.Releases == nil {
		sr.Verdict, sr.Error = stepFailed, errNoReleases.Error()
		return sr
	}
	ur, err := s.r.Releases.Plan(ctx, ref, s.helmOptions(), s.r.Observer)
	switch {
	case err != nil:
		sr.Verdict, sr.Error = stepFailed, err.Error()
	case ur.Verdict == helmtarget.VerdictSkipped:
		sr.Verdict, sr.Detail = stepSkipped, ur.Plan.Reason
	default:
		sr.Detail = helmtarget.Detail(ur)
	}
	return sr
}

func (s *session) dryConfig(ctx context.Context, c Cluster, ref runbook.ConfigRef) StepResult {
	kind := lower(ref.Kind)
	sr := StepResult{Step: "config", Target: s.targetName(c.Context, kind+"/"+ref.Name), Cluster: c.Context, Verdict: stepPlanned}
	deployment, used, err := s.referencingDeployment(ctx, c, ref)
	switch {
	case err != nil:
		sr.Verdict, sr.Error = stepFailed, err.Error()
		return sr
	case deployment == "":
		sr.Verdict, sr.Detail = stepSkipped, "no deployment of the runbook references it"
		return sr
	}
	u := s.configUndo(c, configName(kind, ref.Name, used), "", s.r.Observer)
	u.DryRun = true
	p, err := u.Run(ctx, deployment)
	switch {
	case err != nil:
		sr.Verdict, sr.Error = stepFailed, err.Error()
	case p.Skipped != "":
		sr.Verdict, sr.Detail = stepSkipped, p.Skipped
	default:
		sr.Detail = fmt.Sprintf("%s: %s -> %s (%d keys change)", p.Strategy, p.From, p.To, len(p.Changes))
	}
	return sr
}

func (s *session) dryDB(ctx context.Context) StepResult {
	sr := StepResult{Step: "db", Target: "database", Verdict: stepPlanned}
	rb := s.r.Runbook.Database
	if s.r.DatabaseURL == "" {
		sr.Verdict, sr.Error = stepFailed, "no database URL: set "+dbURLSource(rb.URLFromEnv, rb.URLFromFile)
		return sr
	}
	req := dbrollback.Request{Steps: s.db.Steps, To: s.db.To, HasTo: s.db.HasTo}
	if req.Steps == 0 && !req.HasTo {
		req.Steps = 1
	}
	p, err := dbrollback.MakePlan(ctx, dbrollback.Options{DatabaseURL: s.r.DatabaseURL, MigrationsDir: s.relative(rb.MigrationsDir), Tool: dbTool(rb.Tool)}, req)
	switch {
	case err != nil:
		sr.Verdict, sr.Error = stepFailed, err.Error()
	case p.NoOp():
		sr.Verdict, sr.Detail = stepSkipped, fmt.Sprintf("already at version %d", p.From)
	default:
		sr.Detail = fmt.Sprintf("verified backup, then version %d -> %d (%d migrations, %d data-loss findings)", p.From, p.To, len(p.Steps), len(p.DataLoss))
	}
	return sr
}
