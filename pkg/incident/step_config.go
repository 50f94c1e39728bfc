package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// configPlan is what the config step records before it writes: the target
// contents, so that a resume restores the same ones (the restore itself takes
// a snapshot, which would otherwise become "the newest snapshot that differs").
type configPlan struct {
	Deployment string `json:"deployment"`
	Config     string `json:"config"`
	From       string `json:"from"`
	To         string `json:"to"`
	Strategy   string `json:"strategy"`
}

// configStep restores every ConfigMap and Secret of the runbook with
// configs.Undo, through the first runbook Deployment that references it.
// When the app step already restored them (one rollout for both steps,
// see mergeConfig), it reports what the app step did.
func (s *session) configStep(ctx context.Context) ([]StepResult, error) {
	var out []StepResult
	for _, c := range s.r.Clusters {
		for _, ref := range s.r.Runbook.Configs {
			target := s.targetName(c.Context, lower(ref.Kind)+"/"+ref.Name)
			if res, ok := s.merged(target); ok {
				out = append(out, res)
				continue
			}
			res, err := s.configTarget(ctx, c, ref, false)
			out = append(out, res)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// configTarget restores one object. dataOnly restores the data of an
// unversioned object without restart or verification: the app step's
// template undo rolls the pods out with it (mergeConfig).
func (s *session) configTarget(ctx context.Context, c Cluster, ref runbook.ConfigRef, dataOnly bool) (StepResult, error) {
	kind := lower(ref.Kind)
	target := s.targetName(c.Context, kind+"/"+ref.Name)
	skip := func(detail string) (StepResult, error) {
		return s.target(ctx, "config", target, c.Context, nil, func(progress.Observer) (StepResult, error) {
			return StepResult{Verdict: stepSkipped, Detail: detail}, nil
		})
	}
	if s.targetDone("config", target) {
		return s.target(ctx, "config", target, c.Context, nil, nil)
	}
	var plan configPlan
	if !s.recordedPlan("config", target, &plan) {
		deployment, used, err := s.referencingDeployment(ctx, c, ref)
		if err != nil {
			return StepResult{Step: "config", Target: target, Verdict: stepFailed, Error: err.Error()}, err
		}
		if deployment == "" {
			return skip("no deployment of the runbook references it")
		}
		if v, ok := configs.ParseVersion(used, nil); ok && v.Base == ref.Name && slices.Contains(s.steps[:slices.Index(s.steps, "config")], "app") {
			return skip(fmt.Sprintf("versioned: the app step's rollback switched the template back to %s", used))
		}
		dry := s.configUndo(c, configName(kind, ref.Name, used), "", nil)
		dry.DryRun = true
		p, err := dry.Run(ctx, deployment)
		if err != nil {
			return StepResult{Step: "config", Target: target, Verdict: stepFailed, Error: err.Error()}, fmt.Errorf("plan restore of %s: %w", target, err)
		}
		if p.Skipped != "" {
			return skip(p.Skipped)
		}
		plan = configPlan{Deployment: deployment, Config: configName(kind, ref.Name, used), From: p.From, To: p.To, Strategy: string(p.Strategy)}
		if p.Strategy == configs.StrategyVersioned {
			plan.To = p.ToVersion
		}
	}
	cont := s.configContinue(ctx, c, target, plan)
	dataOnly = dataOnly && plan.Strategy != string(configs.StrategyVersioned)
	return s.target(ctx, "config", target, c.Context, plan, func(obs progress.Observer) (StepResult, error) {
		u := s.configUndo(c, plan.Config, plan.To, obs)
		u.Continue, u.DataOnly = cont, dataOnly
		ur, err := u.Run(ctx, plan.Deployment)
		res := StepResult{Before: map[string]any{"contents": plan.From}, After: map[string]any{"contents": plan.To}}
		if dataOnly && err == nil {
			res.After["rolledOutWithApp"] = true
			res.Detail = fmt.Sprintf("%s: %s -> %s; its pods pick it up in the app step's rollout (one rollout for both steps)", plan.Strategy, plan.From, plan.To)
			return res, nil
		}
		if ur != nil {
			res.Detail = fmt.Sprintf("%s: %s -> %s (%s), %s", plan.Strategy, plan.From, plan.To, plan.Deployment, ur.Verdict)
			if ur.Snapshot != nil {
				res.Before["snapshot"] = ur.Snapshot
			}
			if ur.Verdict == "skipped" {
				res.Verdict = stepSkipped
				res.Detail = ur.Skipped
			}
			if cont != "" {
				res.Detail = fmt.Sprintf("%s: %s -> %s (%s), continued after the interruption (%s): %s", plan.Strategy, plan.From, plan.To, plan.Deployment, cont, ur.Verdict)
			}
		}
		return res, err
	})
}

func (s *session) configUndo(c Cluster, config, to string, obs progress.Observer) *configs.Undo {
	r := s.r
	return &configs.Undo{
		Deployments: c.Client.AppsV1().Deployments(c.Namespace),
		Store:       configs.NewStore(c.Client, c.Namespace),
		Verify:      &rollout.Status{Clients: rollout.NewClients(c.Client, c.Namespace), Verification: r.Verification, Observer: obs},
		Clock:       r.Clock, Observer: obs, Config: config, To: to,
	}
}

// configContinue says how far a config target got before an interruption:
// its journaled writes, or, when it started but journaled no write while
// its object already holds the target contents (a crash between the write
// and its journal entry), "restored". Then the undo restarts and verifies
// instead of skipping the target as already done.
func (s *session) configContinue(ctx context.Context, c Cluster, target string, plan configPlan) configs.Phase {
	phases := s.targetWrittenPhases("config", target)
	switch {
	case slices.Contains(phases, string(configs.ContinueRestarted)):
		return configs.ContinueRestarted
	case len(phases) > 0:
		return configs.ContinueRestored
	case !s.targetStarted("config", target):
		return ""
	}
	dry := s.configUndo(c, plan.Config, plan.To, nil)
	dry.DryRun = true
	if p, err := dry.Run(ctx, plan.Deployment); err == nil && p.Skipped != "" {
		return configs.ContinueRestored
	}
	return ""
}

// referencingDeployment returns the first runbook Deployment whose pod
// template references ref (by name, or a version of it), and the name used.
func (s *session) referencingDeployment(ctx context.Context, c Cluster, ref runbook.ConfigRef) (string, string, error) {
	for _, name := range s.r.Runbook.Deployments {
		d, err := c.Client.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "", fmt.Errorf("get deployment %s/%s: %w", c.Namespace, name, err)
		}
		for _, r := range configs.References(&d.Spec.Template.Spec) {
			if !strings.EqualFold(string(r.Kind), ref.Kind) {
				continue
			}
			if r.Name == ref.Name {
				return name, r.Name, nil
			}
			if v, ok := configs.ParseVersion(r.Name, nil); ok && v.Base == ref.Name {
				return name, r.Name, nil
			}
		}
	}
	return "", "", nil
}

// configName is how configs.Undo is told the object: the base name of a
// versioned object (the template uses another name), else KIND/NAME.
func configName(kind, name, used string) string {
	if used != name {
		return name
	}
	return kind + "/" + name
}
