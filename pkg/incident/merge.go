package incident

import (
	"context"
	"slices"
	"strings"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

// mergeConfig reports whether the config step rides on the app step's
// rollout: when the app step runs first and no one confirms each step,
// the app step restores the data of the unversioned ConfigMaps and Secrets
// before it undoes the templates, so that each Deployment rolls out once,
// with the old template and the old configuration, and is verified once.
// The journal still records each config target as a config step target.
func (s *session) mergeConfig() bool {
	a, c := slices.Index(s.steps, "app"), slices.Index(s.steps, "config")
	return s.r.Confirm == nil && a >= 0 && c > a && len(s.r.Runbook.Configs) > 0
}

// restoreConfigsForApp restores, before the app step's undos, the data of
// every config of the runbook (data only: the undos roll the pods out).
func (s *session) restoreConfigsForApp(ctx context.Context) error {
	for _, c := range s.r.Clusters {
		for _, ref := range s.r.Runbook.Configs {
			res, err := s.configTarget(ctx, c, ref, true)
			s.mu.Lock()
			if s.mergedResults == nil {
				s.mergedResults = map[string]StepResult{}
			}
			s.mergedResults[res.Target] = res
			s.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// merged returns the result of a config target the app step handled.
func (s *session) merged(target string) (StepResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.mergedResults[target]
	return r, ok
}

// needsRollout reports whether workload w of cluster c references a
// ConfigMap or Secret whose data was restored for the app step's rollout
// (in this process or before an interruption) and must therefore roll out
// even when its template is already the target.
func (s *session) needsRollout(ctx context.Context, c Cluster, w rollout.Workload) (bool, error) {
	restored := map[string]bool{}
	s.mu.Lock()
	for t, r := range s.mergedResults {
		if r.After != nil && r.After["rolledOutWithApp"] == true {
			restored[t] = true
		}
	}
	s.mu.Unlock()
	for _, e := range s.prior {
		if e.Step == "config" && e.Action == journal.ActionStepCompleted {
			if after, ok := e.After.(map[string]any); ok && after["rolledOutWithApp"] == true {
				restored[e.Target] = true
			}
		}
	}
	if len(restored) == 0 {
		return false, nil
	}
	info, err := rollout.GetWorkload(ctx, rollout.NewClients(c.Client, c.Namespace), w.String())
	if err != nil {
		return false, err
	}
	for _, ref := range configs.References(&info.Template.Spec) {
		if restored[s.targetName(c.Context, strings.ToLower(string(ref.Kind))+"/"+ref.Name)] {
			return true, nil
		}
	}
	return false, nil
}
