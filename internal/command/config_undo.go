package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// configUndoFlags are the flags of "config undo".
type configUndoFlags struct {
	config, to, fromFile string
	dryRun, yes          bool
	verify               verifyFlags
	keep                 int
	rec                  recordFlags
}

// newConfigUndoCmd returns "config undo DEPLOYMENT --config NAME".
func newConfigUndoCmd(f *Factory) *cobra.Command {
	var fl configUndoFlags
	cmd := &cobra.Command{
		Use:   "undo DEPLOYMENT --config NAME",
		Short: "Roll back one ConfigMap or Secret of a Deployment, then watch and verify",
		Long: `Roll back one ConfigMap or Secret a Deployment uses. The strategy is chosen
from the object and printed:

  versioned   (app-config-v3, or the config-name/config-version labels): switch
              every reference in the pod template to the target version
              (--to v2; default: the previous version that exists).
  snapshot    (unversioned): restore the data from a snapshot (--to SNAPSHOT;
              default: the newest snapshot that differs), then restart.
  file        (--from-file previous.yaml): restore the data from a manifest,
              then restart.

The current contents are snapshotted first, the write carries the
resourceVersion that was read (a concurrent change is reported, never
overwritten), and the rollout is watched and verified like "rollback app undo".`,
		Example: `  rollback config undo web --config app-config --dry-run -n shop
  rollback config undo web --config app-config --to v1 --yes -n shop
  rollback config undo web --config secret/api-credentials --yes -n shop
  rollback config undo web --config app-settings --from-file previous.yaml --yes -n shop`,
		Args: configDeploymentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigUndo(cmd, f, &fl, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&fl.config, "config", "", "the ConfigMap or Secret to roll back: NAME, configmap/NAME, secret/NAME, or a versioned base name")
	fs.StringVar(&fl.to, "to", "", "target version (v1, 1 or a full name) or snapshot name")
	fs.StringVar(&fl.fromFile, "from-file", "", "restore the data from this manifest (YAML or JSON)")
	fs.BoolVar(&fl.dryRun, "dry-run", false, "print the plan and the key-level diff, change nothing")
	fs.BoolVarP(&fl.yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	fl.verify.add(cmd)
	fl.rec.add(cmd)
	fs.IntVar(&fl.keep, "keep", configs.DefaultKeep, "snapshots to keep per object")
	return cmd
}

func runConfigUndo(cmd *cobra.Command, f *Factory, fl *configUndoFlags, deployment string) error {
	if fl.fromFile != "" && fl.to != "" {
		return exitcode.AsRefused(errors.New("--to and --from-file exclude each other: restore from a version/snapshot or from a file"))
	}
	cs, ns, err := appClients(f)
	if err != nil {
		return err
	}
	u := &configs.Undo{
		Deployments: cs.AppsV1().Deployments(ns),
		Store:       configStore(cs, ns),
		Verify:      &rollout.Status{Clients: rollout.NewClients(cs, ns), Verification: fl.verify.value(f), Observer: f.observer()},
		Clock:       f.Clock,
		Observer:    f.observer(),
		Config:      fl.config,
		To:          fl.to,
		DryRun:      fl.dryRun,
		Keep:        fl.keep,
	}
	if fl.fromFile != "" {
		data, err := os.ReadFile(fl.fromFile)
		if err != nil {
			return exitcode.AsRefused(fmt.Errorf("--from-file: %w", err))
		}
		u.Manifest, u.ManifestName = data, fl.fromFile
	}
	u.Confirm = func(p *configs.Plan) (bool, error) {
		configs.WritePlan(f.IO.ErrOut, p)
		if fl.yes {
			return true, nil
		}
		if !f.IO.InTTY {
			return false, exitcode.AsRefused(errors.New("no terminal to confirm on; nothing was changed: run again with --yes, or with --dry-run to only see the plan"))
		}
		return f.IO.Confirm("roll back?")
	}
	var res *configs.UndoResult
	run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
		u.Observer, u.Verify.(*rollout.Status).Observer = obs, obs
		var err error
		res, err = u.Run(ctx, deployment)
		out := lifecycle.StepOutcome{}
		if res != nil {
			out.Skipped = res.Verdict == "skipped"
			if res.Plan != nil {
				out.Before, out.After = map[string]any{"contents": res.From}, map[string]any{"contents": res.To}
				out.Detail = fmt.Sprintf("%s: %s -> %s, %s", res.Strategy, res.From, res.To, res.Verdict)
			}
		}
		return out, err
	}
	if fl.dryRun {
		_, err = run(cmd.Context(), f.observer())
	} else {
		step := fl.rec.oneStep(f, cmd, deployment, "config", configTarget(fl.config), cs.CoreV1().ConfigMaps(ns), nil,
			lifecycle.Workload(cs.CoordinationV1().Leases(ns), ns, "deployment", deployment))
		// Bad input and a missing terminal are refused before anything is
		// recorded.
		step.Check = func(ctx context.Context) error {
			dry := *u
			dry.DryRun, dry.Observer, dry.Confirm = true, nil, nil
			p, err := dry.Run(ctx, deployment)
			if err == nil {
				err = mayPatch(ctx, cs, ns, "apps", "deployments", deployment)
			}
			if err == nil && !fl.yes && !f.IO.InTTY && p.Skipped == "" {
				configs.WritePlan(f.IO.ErrOut, p.Plan)
				err = exitcode.AsRefused(errors.New("no terminal to confirm on; nothing was changed: run again with --yes, or with --dry-run to only see the plan"))
			}
			return err
		}
		_, err = step.Run(cmd.Context(), run)
	}
	if res != nil {
		if f.JSON() {
			if perr := configPrintJSON(f.IO.Out, res); perr != nil && err == nil {
				err = perr
			}
		} else {
			configs.WriteUndoResult(f.IO.Out, res)
		}
	}
	return err
}

// configTarget names the object of --config for the record: KIND/NAME, or
// the base name of a versioned object.
func configTarget(config string) string {
	if strings.Contains(config, "/") {
		return strings.ToLower(config)
	}
	return "config/" + config
}
