package command

import (
	"bytes"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/report"
)

// incidentReportOptions are the options of "incident report".
type incidentReportOptions struct {
	src incidentSource
	out string
}

// newIncidentReportCmd returns "incident report ID".
func newIncidentReportCmd(f *Factory) *cobra.Command {
	o := &incidentReportOptions{}
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Write an incident's Markdown report: summary, timeline, changes, health, notifications, RCA questions",
		Long: `Write the Markdown report of an incident from its journal: summary, timeline,
what changed (revisions, images, config and database versions, backup),
health before and after, notifications sent and failed, feature flags changed,
escalation contacts, and the root cause analysis questions of the runbook for
people to answer. Written to stdout, or to --out (mode 0600).`,
		Example: `  rollback incident report inc-20261126-033122-7f3a > report.md
  rollback incident report inc-20261126-033122-7f3a --cluster -n shop --out report.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.Run(ctxOf(cmd), f, args[0]) },
	}
	o.src.add(cmd)
	cmd.Flags().StringVar(&o.out, "out", "", "write the report to this file instead of stdout")
	return cmd
}

// Run writes the report of incident id.
func (o *incidentReportOptions) Run(ctx context.Context, f *Factory, id string) error {
	es, err := o.src.entries(ctx, f, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, es); err != nil {
		return err
	}
	if o.out == "" {
		_, err := f.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := report.WriteFile(o.out, es); err != nil {
		return err
	}
	if f.JSON() {
		return printJSON(f, struct {
			Incident string `json:"incident"`
			Path     string `json:"path"`
		}{id, o.out})
	}
	fmt.Fprintln(f.IO.Out, o.out)
	fmt.Fprintf(f.IO.ErrOut, "wrote the report of incident %s: fill in its root cause analysis section\n", id)
	return nil
}
