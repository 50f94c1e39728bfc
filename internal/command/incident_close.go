package command

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// incidentCloseOptions are the options of "incident close".
type incidentCloseOptions struct {
	dir    string
	reason string
	result string
	force  bool
}

// newIncidentCloseCmd returns "incident close ID".
func newIncidentCloseCmd(f *Factory) *cobra.Command {
	o := &incidentCloseOptions{}
	cmd := &cobra.Command{
		Use:   "close ID --reason TEXT [--result abandoned|resolved|failed]",
		Short: "Close by hand an open incident that no command will finish (a command killed mid-way)",
		Long: `Close an incident that stays open because the command that opened it was
killed mid-way (app undo, config undo, db undo, helm undo, flag disable...):
journal incident.closed with who closed it, --reason and --result, in the
local journal and its mirror ConfigMap rollback-<id> in the namespace of -n,
and write its report. An incident "rollback run" opened is better finished
with "rollback run --resume ID".

--result says how it ended: abandoned (the default: nobody finishes the
work, what it changed stays as it was left), resolved (the application is
back in a good state, as you checked) or failed (the rollback did not reach
its goal).

A process may still work on the incident: close first takes over the
incident's cluster locks, the way a resumed run does. A lock that its holder
renews is refused at once, naming the holder, and nothing is written; a lock
whose holder is gone is taken over once it stayed unchanged for its whole
lease duration (30s by default), which close waits for. When no lock can
tell (no cluster access, or the incident took none, as flag disable takes
none), close is refused unless --force: make sure the command no longer runs
first. An incident already closed is reported and left as it is (exit 0).
No notification is sent.`,
		Example: `  rollback incident close inc-20261126-033122-7f3a -n shop --reason "app undo was killed; rolled back with kubectl"
  rollback incident close inc-20261126-033122-7f3a -n shop --result resolved --reason "revision 7 verified by hand"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.Run(ctxOf(cmd), f, args[0]) },
	}
	cmd.Flags().StringVar(&o.reason, "reason", "", "why you close it by hand (required); goes into the journal and the report")
	cmd.Flags().StringVar(&o.result, "result", string(lifecycle.HandAbandoned), "how it ended: abandoned, resolved or failed")
	cmd.Flags().BoolVar(&o.force, "force", false, "close it even when no cluster lock can tell whether a process still works on it")
	addJournalDirFlag(cmd, &o.dir)
	return cmd
}

// Run closes incident id and prints what it did.
func (o *incidentCloseOptions) Run(ctx context.Context, f *Factory, id string) error {
	c := lifecycle.CloseByHand{
		Options: lifecycle.Options{ID: id, Actor: journalActor(), Process: f.Process, JournalDir: o.dir,
			Clock: f.Clock, Observer: f.observer()},
		Reason: o.reason, Outcome: lifecycle.HandOutcome(o.result), Force: o.force,
	}
	if cs, ns, err := appClients(f); err != nil {
		c.NoCluster = err
	} else {
		c.Mirror, c.Leases, c.Namespace = cs.CoreV1().ConfigMaps(ns), cs.CoordinationV1(), ns
	}
	res, err := c.Run(ctx)
	if res == nil {
		return err
	}
	if f.JSON() {
		if perr := printJSON(f, res); perr != nil {
			return perr
		}
		return err
	}
	writeHandClosed(termsafe.Writer(f.IO.Out), termsafe.Writer(f.IO.ErrOut), res)
	return err
}

// writeHandClosed prints the close: the result on out, warnings on errOut.
func writeHandClosed(out, errOut io.Writer, r *lifecycle.HandClosed) {
	when := r.Closed.UTC().Format(time.RFC3339)
	if r.Skipped {
		fmt.Fprintf(out, "incident %s is already closed (%s, at %s by %s): nothing to do\n", r.Incident, orDash(r.Result), when, orDash(r.ClosedBy))
		return
	}
	outcome := string(r.Outcome)
	if outcome != r.Result {
		outcome += " (result " + r.Result + ")"
	}
	fmt.Fprintf(out, "incident %s closed by hand: %s, at %s by %s\n", r.Incident, outcome, when, orDash(r.ClosedBy))
	fmt.Fprintf(out, "  reason:  %s\n", r.Reason)
	for _, l := range r.Locks {
		fmt.Fprintf(out, "  lock:    took over and released %s/%s, held by %s (process %s) since %s\n", l.Namespace, l.Lease, orDash(l.Holder), orDash(l.Process), l.Since.UTC().Format(time.RFC3339))
	}
	if r.Unchecked != "" {
		fmt.Fprintf(out, "  locks:   not checked (--force): %s\n", r.Unchecked)
	}
	fmt.Fprintf(out, "  journal: %s\n", r.Journal)
	if r.Mirror != "" {
		fmt.Fprintf(out, "  mirror:  configmap %s\n", r.Mirror)
	}
	if r.Report != "" {
		fmt.Fprintf(out, "  report:  %s\n", r.Report)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(errOut, "warning: %s\n", w)
	}
}
