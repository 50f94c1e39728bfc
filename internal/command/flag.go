package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/featureflags"
	"github.com/vibestack/rollback/pkg/journal"
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
	target     flagTargetFlags
	incident   string
	journalDir string
	reason     string
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
new incident is opened for the change and its id is printed. A flag that is
already %q is skipped (exit code 0). An unknown flag is refused (exit code 2)
with the list of known flags.`, value, value),
		Example: fmt.Sprintf(`  rollback flag %[1]s new-checkout --incident inc-20261126-033122-7f3a
  rollback flag %[1]s new-checkout -f deploy/rollback.yaml
  rollback flag %[1]s new-checkout --configmap vibestack-feature-flags -n shop -o json`, verb),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(ctxOf(cmd), f, verb, args[0])
		},
	}
	o.target.add(cmd)
	cmd.Flags().StringVar(&o.incident, "incident", "", "incident id whose journal records the change (default: open a new incident)")
	cmd.Flags().StringVar(&o.journalDir, "journal-dir", "", "directory of incident journals (default $ROLLBACK_JOURNAL_DIR, else $XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents)")
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the flag is changed (recorded in the journal)")
	return cmd
}

// Run sets flag to the value of verb and journals it.
func (o *flagSetOptions) Run(ctx context.Context, f *Factory, verb, flag string) error {
	if err := featureflags.ValidateName(flag); err != nil {
		return exitcode.AsRefused(err)
	}
	if o.incident != "" {
		if err := journal.ValidateID(o.incident); err != nil {
			return exitcode.AsRefused(err)
		}
	}
	t, err := o.target.resolve(f)
	if err != nil {
		return err
	}
	set := featureflags.Disable
	if verb == "enable" {
		set = featureflags.Enable
	}
	change, setErr := set(ctx, t.provider, flag)
	if errors.Is(setErr, featureflags.ErrNotFound) {
		setErr = exitcode.AsRefused(setErr)
	}
	if setErr != nil && o.incident == "" {
		return setErr
	}
	res := flagSetResult{Change: change, Provider: t.provider.String()}
	if setErr == nil && change.Skipped && o.incident == "" {
		return o.print(f, res, verb, change.After)
	}
	j, err := o.openJournal(ctx, f, t)
	if err != nil {
		return err
	}
	defer j.Close()
	res.Incident, res.Journal = j.ID(), j.Path()
	action := journal.ActionFlagDisabled
	if verb == "enable" {
		action = journal.ActionFlagEnabled
	}
	entry := journal.Entry{Step: "flag", Action: action, Target: flag,
		Inputs: map[string]any{"provider": t.provider.String()}, Before: change.Before, After: change.After, Result: journal.ResultOK}
	if o.reason != "" {
		entry.Inputs["reason"] = o.reason
	}
	switch {
	case setErr != nil:
		entry.Result, entry.Error, entry.Before, entry.After = journal.ResultFailed, setErr.Error(), nil, nil
	case change.Skipped:
		entry.Result = journal.ResultSkipped
	}
	if _, err := j.Append(ctx, entry); err != nil {
		return err
	}
	if o.incident == "" {
		if _, err := j.Append(ctx, journal.Entry{Action: journal.ActionIncidentClosed, Result: journal.ResultOK,
			Inputs: map[string]any{"summary": fmt.Sprintf("feature flag %s %sd", flag, verb)}}); err != nil {
			return err
		}
	}
	j.Flush(ctx)
	for _, err := range j.MirrorErrors() {
		fmt.Fprintf(f.IO.ErrOut, "warning: %v: the local journal %s is complete; other engineers do not see this entry in the cluster\n", err, j.Path())
	}
	if setErr != nil {
		return setErr
	}
	return o.print(f, res, verb, change.After)
}

// openJournal opens the journal of --incident, or a new incident whose
// first entry says why it was opened.
func (o *flagSetOptions) openJournal(ctx context.Context, f *Factory, t *flagTarget) (*journal.Journal, error) {
	id, isNew := o.incident, o.incident == ""
	if isNew {
		id = journal.NewID(f.Clock.Now())
	}
	j, err := journal.Open(journal.Options{
		Dir: o.journalDir, Incident: id, Clock: f.Clock, Actor: journalActor(),
		Mirror: &journal.ConfigMapMirror{ConfigMaps: t.cs.CoreV1().ConfigMaps(t.namespace), App: t.app},
	})
	if err != nil {
		return nil, err
	}
	if isNew {
		fmt.Fprintf(f.IO.ErrOut, "opened incident %s for this change (journal %s)\n", id, j.Path())
		inputs := map[string]any{"app": t.app, "reason": o.reason, "steps": []string{"flag"}}
		if t.runbook != "" {
			inputs["runbook"] = t.runbook
		}
		if len(t.escalation) > 0 {
			inputs["escalation"] = t.escalation
		}
		if _, err := j.Append(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: inputs}); err != nil {
			j.Close()
			return nil, err
		}
	}
	return j, nil
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
