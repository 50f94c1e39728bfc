package command

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// incidentShowOptions are the options of "incident show".
type incidentShowOptions struct{ src incidentSource }

// newIncidentShowCmd returns "incident show ID".
func newIncidentShowCmd(f *Factory) *cobra.Command {
	o := &incidentShowOptions{}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident's timeline",
		Example: `  rollback incident show inc-20261126-033122-7f3a
  rollback incident show inc-20261126-033122-7f3a --cluster -n shop -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.Run(ctxOf(cmd), f, args[0]) },
	}
	o.src.add(cmd)
	return cmd
}

// Run prints the timeline of incident id.
func (o *incidentShowOptions) Run(ctx context.Context, f *Factory, id string) error {
	es, err := o.src.entries(ctx, f, id)
	if err != nil {
		return err
	}
	if f.JSON() {
		return printJSON(f, es)
	}
	s := journal.Summarize(id, es)
	fmt.Fprintf(f.IO.ErrOut, "incident %s (%s): %s, %d entries\n", id, orDash(s.App), s.Status, s.Entries)
	return writeTimeline(f.IO.Out, es)
}

// writeTimeline prints entries as a table, errors on their own line.
func writeTimeline(w io.Writer, es []journal.Entry) error {
	tw := tabwriter.NewWriter(termsafe.Writer(w), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME (UTC)\tACTOR\tSTEP\tACTION\tTARGET\tRESULT")
	for _, e := range es {
		target := e.Target
		if ch, ok := e.Inputs["channel"].(string); ok && target == "" {
			target = strings.TrimSpace(ch + " " + fmt.Sprint(e.Inputs["kind"]))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format("2006-01-02 15:04:05"),
			orDash(e.Actor), orDash(e.Step), e.Action, orDash(target), orDash(e.Result))
		if e.Error != "" {
			fmt.Fprintf(tw, "\t\t\t\t\terror: %s\t\n", e.Error)
		}
	}
	return tw.Flush()
}
