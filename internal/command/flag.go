package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/featureflags"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// newFlagCmd returns the "flag" command group: turn feature flags off and on.
func newFlagCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flag",
		Short: "Disable, enable and list the feature flags kept in a ConfigMap",
		Long: `Feature flags (runbook section 5, "disable problematic feature") kept in a
ConfigMap, one key per flag, "true" or "false". The ConfigMap is the
runbook's featureFlags.configMap (in featureFlags.namespace, default the first
cluster's namespace), or --configmap in the namespace of -n.

Every change is written with a JSON patch that tests the value it replaces,
so a concurrent change by somebody else is never lost, and is recorded in
the journal of --incident, or of a new incident whose id is printed.`,
	}
	cmd.AddCommand(newFlagSetCmd(f, "disable"), newFlagSetCmd(f, "enable"), newFlagListCmd(f))
	return cmd
}

// flagSetOptions are the options of "flag disable" and "flag enable".
type flagSetOptions struct {
	target flagTargetFlags
	rec    recordFlags
}

// flagSetResult is the -o json answer of "flag disable|enable".
type flagSetResult struct {
	featureflags.Change
	Provider string `json:"provider"`
	Incident string `json:"incident,omitempty"`
	Journal  string `json:"journal,omitempty"`
}

// newFlagSetCmd returns "flag disable NAME" or "flag enable NAME".
func newFlagSetCmd(f *Factory, verb string) *cobra.Command {
	o := &flagSetOptions{}
	value := map[string]string{"disable": featureflags.Off, "enable": featureflags.On}[verb]
	cmd := &cobra.Command{
		Use:   verb + " NAME",
		Short: fmt.Sprintf("Set a feature flag to %q and record it in the incident journal", value),
		Long: fmt.Sprintf(`Set the feature flag NAME to %q in the flags ConfigMap and record the
change (before and after) in the journal of --incident. Without --incident a
new incident is opened for the change, its id is printed, and it is closed
with its report. A flag that is already %q is skipped (exit code 0; without
--incident nothing is recorded). An unknown flag is refused (exit code 2)
with the list of known flags.`, value, value),
		Example: fmt.Sprintf(`  rollback flag %[1]s new-checkout --incident inc-20261126-033122-7f3a
  rollback flag %[1]s new-checkout -f deploy/rollback.yaml
  rollback flag %[1]s new-checkout --configmap vibestack-feature-flags -n shop -o json`, verb),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(ctxOf(cmd), f, cmd, verb, args[0])
		},
	}
	o.target.add(cmd)
	o.rec.add(cmd)
	return cmd
}

// Run sets flag to the value of verb, recorded as a step of an incident.
func (o *flagSetOptions) Run(ctx context.Context, f *Factory, cmd *cobra.Command, verb, flag string) error {
	if err := featureflags.ValidateName(flag); err != nil {
		return exitcode.AsRefused(err)
	}
	if o.rec.incident != "" {
		if err := journal.ValidateID(o.rec.incident); err != nil {
			return exitcode.AsRefused(err)
		}
	}
	t, err := o.target.resolve(f)
	if err != nil {
		return err
	}
	set, value := featureflags.Disable, featureflags.Off
	if verb == "enable" {
		set, value = featureflags.Enable, featureflags.On
	}
	res := flagSetResult{Change: featureflags.Change{Flag: flag, After: value}, Provider: t.provider.String()}
	// Read first: an unknown flag is refused, and a flag already at its
	// value is skipped, before anything is recorded.
	cur, err := t.provider.Get(ctx, flag)
	if errors.Is(err, featureflags.ErrNotFound) {
		return exitcode.AsRefused(err)
	}
	if err != nil {
		return err
	}
	if featureflags.Is(cur, value) && o.rec.incident == "" {
		res.Before, res.After, res.Skipped = cur, cur, true
		return o.print(f, res, verb, cur)
	}
	step := o.rec.oneStep(f, cmd, t.app, "flag", "flag/"+flag, t.cs.CoreV1().ConfigMaps(t.namespace), nil)
	step.Check = func(ctx context.Context) error {
		return mayPatch(ctx, t.cs, t.namespace, "", "configmaps", t.provider.Name)
	}
	step.Inputs["provider"] = t.provider.String()
	step.Opened = map[string]any{}
	if t.runbook != "" {
		step.Opened["runbook"] = t.runbook
	}
	if len(t.escalation) > 0 {
		step.Opened["escalation"] = t.escalation
	}
	rec, err := step.Run(ctx, func(ctx context.Context, _ progress.Observer) (lifecycle.StepOutcome, error) {
		change, err := set(ctx, t.provider, flag)
		if errors.Is(err, featureflags.ErrNotFound) {
			err = exitcode.AsRefused(err)
		}
		if err != nil {
			return lifecycle.StepOutcome{}, err
		}
		res.Change = change
		detail := fmt.Sprintf("feature flag %s %sd (%q -> %q)", flag, verb, change.Before, change.After)
		if change.Skipped {
			detail = fmt.Sprintf("feature flag %s is already %q", flag, change.After)
		}
		return lifecycle.StepOutcome{Skipped: change.Skipped, Before: change.Before, After: change.After, Detail: detail,
			Inputs: map[string]any{"change": verb + "d"}}, nil
	})
	if rec != nil {
		res.Incident, res.Journal = rec.Incident, rec.Journal
	}
	if err != nil {
		return err
	}
	return o.print(f, res, verb, res.After)
}

func (o *flagSetOptions) print(f *Factory, r flagSetResult, verb, v string) error {
	if f.JSON() {
		return printJSON(f, r)
	}
	where := ""
	if r.Incident != "" {
		where = "; recorded in incident " + r.Incident
	}
	if r.Skipped {
		fmt.Fprintf(termsafe.Writer(f.IO.Out), "skipped: feature flag %s in %s is already %q%s\n", r.Flag, r.Provider, r.After, where)
		return nil
	}
	fmt.Fprintf(termsafe.Writer(f.IO.Out), "%sd feature flag %s in %s: %q -> %q%s\n", verb, r.Flag, r.Provider, r.Before, v, where)
	return nil
}
