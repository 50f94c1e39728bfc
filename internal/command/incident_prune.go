package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// incidentPruneOptions are the options of "incident prune".
type incidentPruneOptions struct {
	olderThan string
	dir       string
	cluster   bool
	all       bool
	yes       bool
}

// newIncidentPruneCmd returns "incident prune".
func newIncidentPruneCmd(f *Factory) *cobra.Command {
	o := &incidentPruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune --older-than AGE [--yes] [--cluster [-n NS | -A]]",
		Short: "Remove the records of closed incidents older than an age (a dry run without --yes)",
		Long: `Remove the records of incidents closed longer ago than --older-than (30d,
72h, 1d12h): the local journal ID.jsonl, its report ID.md, its evidence
bundles ID.evidence*.tar.gz and any other file named after it in
--journal-dir; with --cluster, the mirror ConfigMaps rollback-<id> in the
namespace of -n (or every namespace with -A) instead, each deleted only if
it did not change since it was read.

Without --yes it lists what would be removed and removes nothing. An open
incident (no incident.closed entry: "rollback run --resume ID" may still
continue it) is never removed, whatever its age; close one that no command
will finish with "rollback incident close ID --reason TEXT" first. Nor is a
journal that cannot be read removed. Age is measured from the incident's
last entry.`,
		Example: `  rollback incident prune --older-than 90d
  rollback incident prune --older-than 90d --yes
  rollback incident prune --older-than 30d --cluster -n shop --yes -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(ctxOf(cmd), f) },
	}
	cmd.Flags().StringVar(&o.olderThan, "older-than", "", "remove closed incidents whose last entry is older than this (required): 30d, 72h, 1d12h")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "remove them (without it: a dry run that lists what would be removed)")
	addJournalDirFlag(cmd, &o.dir)
	cmd.Flags().BoolVar(&o.cluster, "cluster", false, "prune the journal mirrors in the cluster (ConfigMaps rollback-<id> in the namespace of -n) instead of the local files")
	cmd.Flags().BoolVarP(&o.all, "all-namespaces", "A", false, "with --cluster: prune the mirrors of every namespace")
	return cmd
}

// Run prunes the incident records and prints one line per incident.
func (o *incidentPruneOptions) Run(ctx context.Context, f *Factory) error {
	if o.olderThan == "" {
		return exitcode.AsRefused(errors.New("--older-than is required: how long ago a closed incident must have ended to be removed, such as --older-than 90d"))
	}
	age, err := journal.ParseAge(o.olderThan)
	if err != nil {
		return fmt.Errorf("--older-than: %w", err)
	}
	if o.all && !o.cluster {
		return exitcode.AsRefused(errors.New("-A needs --cluster: local journals have no namespace"))
	}
	if o.cluster && o.dir != "" {
		return exitcode.AsRefused(errors.New("--journal-dir names local journals and --cluster the cluster's mirrors: pass one of them (run twice to prune both)"))
	}
	po := journal.PruneOptions{Dir: o.dir, OlderThan: age, Delete: o.yes, Clock: f.Clock}
	if o.cluster {
		cs, ns, cerr := appClients(f)
		if cerr != nil {
			return cerr
		}
		if o.all {
			ns = ""
		}
		po.ConfigMaps, po.Namespace = cs.CoreV1(), ns
	}
	out := termsafe.Writer(f.IO.Out)
	if !f.JSON() {
		po.OnItem = func(it journal.PruneItem) { writePruneItem(out, it) }
	}
	res, err := journal.Prune(ctx, po)
	if res == nil {
		return err
	}
	if f.JSON() {
		if perr := printJSON(f, res); perr != nil {
			return perr
		}
		return err
	}
	fmt.Fprintln(out, pruneSummary(res))
	return err
}

// writePruneItem prints one incident's line.
func writePruneItem(w io.Writer, it journal.PruneItem) {
	name := it.Incident
	if it.Namespace != "" {
		name = it.Namespace + "/" + it.Incident
	}
	when := ""
	switch {
	case !it.Closed.IsZero():
		when = fmt.Sprintf(" closed %s (%s ago)", it.Closed.UTC().Format("2006-01-02 15:04"), journal.RoundAge(it.Age))
	case !it.Opened.IsZero():
		when = fmt.Sprintf(" open since %s (last entry %s ago)", it.Opened.UTC().Format("2006-01-02 15:04"), journal.RoundAge(it.Age))
	}
	what := "configmap " + it.ConfigMap
	if it.ConfigMap == "" {
		what = pruneFiles(it.Files)
	}
	switch it.Action {
	case journal.PruneRemoved:
		fmt.Fprintf(w, "%s%s: removed %s", name, when, what)
		if it.Detail != "" {
			fmt.Fprintf(w, " (%s)", it.Detail)
		}
		fmt.Fprintln(w)
	case journal.PruneWouldRemove:
		fmt.Fprintf(w, "%s%s: would remove %s\n", name, when, what)
	case journal.PruneFailed:
		fmt.Fprintf(w, "%s%s: failed: %s", name, when, it.Error)
		if done := pruneFiles(removedFiles(it.Files)); done != "" {
			fmt.Fprintf(w, " (removed %s)", done)
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "%s%s: kept: %s\n", name, when, it.Detail)
	}
}

// removedFiles returns the files of fs that are gone.
func removedFiles(fs []journal.PruneFile) []journal.PruneFile {
	var out []journal.PruneFile
	for _, f := range fs {
		if f.Removed {
			out = append(out, f)
		}
	}
	return out
}

// pruneFiles names an incident's files by kind: "journal, report,
// evidence (2 bundles), 1 other file".
func pruneFiles(fs []journal.PruneFile) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Kind]++
	}
	var parts []string
	for _, k := range []string{journal.FileJournal, journal.FileReport, journal.FileEvidence} {
		switch {
		case n[k] == 1:
			parts = append(parts, k)
		case n[k] > 1 && k == journal.FileEvidence:
			parts = append(parts, fmt.Sprintf("evidence (%d bundles)", n[k]))
		case n[k] > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n[k], k))
		}
	}
	switch o := n[journal.FileOther]; {
	case o == 1:
		parts = append(parts, "1 other file")
	case o > 1:
		parts = append(parts, fmt.Sprintf("%d other files", o))
	}
	return strings.Join(parts, ", ")
}

// pruneSummary is the last line: what was (or would be) removed and kept.
func pruneSummary(r *journal.PruneResult) string {
	where := "in " + r.Dir
	if r.Cluster {
		where = "in namespace " + r.Namespace
		if r.Namespace == "" {
			where = "in every namespace"
		}
	}
	limit := journal.FormatAge(r.OlderThan)
	removed, due, kept, failed := r.Count(journal.PruneRemoved), r.Count(journal.PruneWouldRemove), r.Count(journal.PruneKept), r.Count(journal.PruneFailed)
	switch {
	case len(r.Items) == 0:
		return fmt.Sprintf("nothing older than %s: no incidents recorded %s", limit, where)
	case removed+due+failed == 0:
		return fmt.Sprintf("nothing older than %s: %s kept %s", limit, incidents(kept), where)
	case r.DryRun:
		return fmt.Sprintf("%s closed more than %s ago would be removed, %d kept %s: run again with --yes to remove them", incidents(due), limit, kept, where)
	}
	s := fmt.Sprintf("removed %s closed more than %s ago, kept %d %s", incidents(removed), limit, kept, where)
	if failed > 0 {
		s += fmt.Sprintf("; %d failed (see above): run again to retry them", failed)
	}
	return s
}

// incidents counts incidents in words: "1 incident", "3 incidents".
func incidents(n int) string {
	if n == 1 {
		return "1 incident"
	}
	return fmt.Sprintf("%d incidents", n)
}
