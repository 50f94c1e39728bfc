package command

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// newIncidentCmd returns the "incident" command group: read incident journals.
func newIncidentCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "List incidents, show an incident's timeline, write its report, close one by hand, prune old records",
		Long: `Every rollback is an incident with an id such as inc-20261126-033122-7f3a.
Its journal is a JSON-lines file, one fsynced line per action, in
--journal-dir (default $ROLLBACK_JOURNAL_DIR, else
$XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents),
mirrored into the ConfigMap rollback-<id> of the application's namespace so
a second engineer sees the same timeline: add --cluster (and -n) to read the
mirror instead of the local files. An incident that no command will finish
(one killed mid-way) is closed with "rollback incident close ID --reason
TEXT". Records stay until "rollback incident prune --older-than AGE --yes"
removes those of closed incidents.`,
	}
	cmd.AddCommand(newIncidentListCmd(f), newIncidentShowCmd(f), newIncidentReportCmd(f), newIncidentEvidenceCmd(f), newIncidentCloseCmd(f), newIncidentPruneCmd(f))
	return cmd
}

// incidentSource says where incident journals are read from.
type incidentSource struct {
	dir     string
	cluster bool
}

func (s *incidentSource) add(cmd *cobra.Command) {
	addJournalDirFlag(cmd, &s.dir)
	cmd.Flags().BoolVar(&s.cluster, "cluster", false, "read the journal mirrored in the cluster (ConfigMaps rollback-<id> in the namespace of -n)")
}

// addJournalDirFlag binds --journal-dir of the incident commands to dir.
func addJournalDirFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "journal-dir", "", "directory of incident journals (default $ROLLBACK_JOURNAL_DIR, else $XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents)")
}

// entries reads one incident's journal.
func (s *incidentSource) entries(ctx context.Context, f *Factory, id string) ([]journal.Entry, error) {
	if err := journal.ValidateID(id); err != nil {
		return nil, exitcode.AsRefused(err)
	}
	var (
		es  []journal.Entry
		err error
	)
	if s.cluster {
		cs, ns, cerr := appClients(f)
		if cerr != nil {
			return nil, cerr
		}
		es, err = journal.ReadMirror(ctx, cs.CoreV1().ConfigMaps(ns), id)
	} else {
		es, err = journal.Read(s.dir, id)
	}
	if err != nil {
		return nil, exitcode.AsRefused(err)
	}
	return es, nil
}

// incidentListOptions are the options of "incident list".
type incidentListOptions struct{ src incidentSource }

// newIncidentListCmd returns "incident list".
func newIncidentListCmd(f *Factory) *cobra.Command {
	o := &incidentListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first",
		Example: `  rollback incident list
  rollback incident list --cluster -n shop -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(ctxOf(cmd), f) },
	}
	o.src.add(cmd)
	return cmd
}

// Run lists the incidents.
func (o *incidentListOptions) Run(ctx context.Context, f *Factory) error {
	var (
		list []journal.Summary
		err  error
	)
	if o.src.cluster {
		cs, ns, cerr := appClients(f)
		if cerr != nil {
			return cerr
		}
		list, err = journal.ListMirror(ctx, cs.CoreV1().ConfigMaps(ns))
	} else {
		list, err = journal.List(o.src.dir)
	}
	if err != nil {
		return err
	}
	if f.JSON() {
		if list == nil {
			list = []journal.Summary{}
		}
		return printJSON(f, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "no incidents recorded")
		return nil
	}
	tw := tabwriter.NewWriter(termsafe.Writer(f.IO.Out), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tAPP\tSTATUS\tOPENED\tDURATION\tBY\tENTRIES")
	for _, s := range list {
		dur := "-"
		if !s.Closed.IsZero() {
			dur = s.Closed.Sub(s.Opened).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Incident, orDash(s.App), s.Status,
			s.Opened.UTC().Format("2006-01-02 15:04:05"), dur, orDash(s.Actor), s.Entries)
	}
	return tw.Flush()
}

// journalActor names who runs this command in journal entries:
// $ROLLBACK_ACTOR, else user@host.
func journalActor() string {
	if a := os.Getenv("ROLLBACK_ACTOR"); a != "" {
		return a
	}
	return clusterlock.DefaultHolder()
}
