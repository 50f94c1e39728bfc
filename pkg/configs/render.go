package configs

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vibestack/rollback/pkg/termsafe"
)

// WriteHistory prints a HistoryResult for humans. Values never appear:
// keys are shown with their sizes and short hashes.
func WriteHistory(w io.Writer, h *HistoryResult) {
	w = termsafe.Writer(w)
	if len(h.Configs) == 0 {
		fmt.Fprintf(w, "deployment %s/%s references no ConfigMap or Secret\n", h.Namespace, h.Deployment)
		return
	}
	noun := "ConfigMaps and Secrets"
	if len(h.Configs) == 1 {
		noun = "ConfigMap or Secret"
	}
	fmt.Fprintf(w, "deployment %s/%s references %d %s\n", h.Namespace, h.Deployment, len(h.Configs), noun)
	for _, c := range h.Configs {
		fmt.Fprintln(w)
		kind := "unversioned"
		if c.Version != nil {
			kind = fmt.Sprintf("version %s of %s", c.Version.Tag(), c.Version.Base)
		}
		fmt.Fprintf(w, "%s  (%s)\n", c.Ref.String(), kind)
		fmt.Fprintf(w, "  used by: %s\n", strings.Join(c.Places, "; "))
		if c.Problem != "" {
			fmt.Fprintf(w, "  %s\n", c.Problem)
		}
		if c.Current != nil {
			imm := ""
			if c.Current.Immutable {
				imm = ", immutable"
			}
			fmt.Fprintf(w, "  current: resourceVersion %s%s, hash %s, keys: %s\n", c.Current.ResourceVersion, imm, c.Current.Hash, keyList(c.Current.Keys))
		}
		if len(c.Versions) > 0 {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  \tVERSION\tNAME\tKEYS\tHASH\tCREATED")
			for _, v := range c.Versions {
				mark := " "
				if v.Current {
					mark = "*"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", mark, v.Version, v.Name, len(v.Keys), v.Hash, stamp(v.Time))
			}
			tw.Flush()
		}
		if len(c.Snapshots) == 0 {
			fmt.Fprintln(w, "  snapshots: none (take one with `rollback config snapshot`)")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SNAPSHOT\tTAKEN\tSOURCE RV\tKEYS\tHASH\tREASON")
		for _, s := range c.Snapshots {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", s.Name, stamp(s.Time), s.SourceResourceVersion, len(s.Keys), s.Hash, s.Reason)
		}
		tw.Flush()
	}
}

func keyList(keys []KeyInfo) string {
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s (%d bytes, sha256:%s)", k.Key, k.Size, k.Hash))
	}
	return strings.Join(parts, ", ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// WritePlan prints what an undo will do: the strategy, the references a
// versioned undo switches and the key-level diff.
func WritePlan(w io.Writer, p *Plan) {
	w = termsafe.Writer(w)
	ref := p.Kind.lower() + "/" + p.Name
	switch p.Strategy {
	case StrategyVersioned:
		fmt.Fprintf(w, "%s of deployment %s: versioned, switch %s -> %s (%s -> %s)\n", ref, p.Deployment, p.FromVersion, p.ToVersion, p.Name, p.To)
		if len(p.TemplateChanges) > 0 {
			fmt.Fprintf(w, "  pod template references to switch (%d): %s\n", len(p.TemplateChanges), strings.Join(p.TemplateChanges, "; "))
		}
	case StrategySnapshot:
		fmt.Fprintf(w, "%s of deployment %s: unversioned, restore from snapshot %s, then restart deployment %s\n", ref, p.Deployment, p.To, p.Deployment)
	case StrategyFile:
		fmt.Fprintf(w, "%s of deployment %s: restore from file %s (field manager %s), then restart deployment %s\n", ref, p.Deployment, p.To, FieldManager, p.Deployment)
	}
	if p.Skipped != "" {
		fmt.Fprintf(w, "  skipped: %s\n", p.Skipped)
		return
	}
	if p.Missing {
		fmt.Fprintf(w, "  %s/%s does not exist (its pods fail with CreateContainerConfigError)\n", p.Kind.lower(), p.Name)
	}
	fmt.Fprintf(w, "  keys, current -> target:\n")
	WriteDiff(w, p.Changes)
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// WriteUndoResult prints the outcome of an undo in one line.
func WriteUndoResult(w io.Writer, r *UndoResult) {
	w = termsafe.Writer(w)
	ref := r.Kind.lower() + "/" + r.Name
	switch r.Verdict {
	case "skipped":
		fmt.Fprintf(w, "skipped: %s\n", r.Skipped)
		return
	case "dry-run":
		WritePlan(w, r.Plan)
		fmt.Fprintln(w, "dry run: nothing was changed")
		return
	}
	snap := ""
	if r.Snapshot != nil {
		snap = fmt.Sprintf("; previous contents kept in snapshot %s", r.Snapshot.Snapshot)
	}
	rev := ""
	if r.Status != nil && r.Status.Revision > 0 {
		rev = fmt.Sprintf(", revision %d", r.Status.Revision)
	}
	fmt.Fprintf(w, "%s: %s of deployment %s/%s: %s -> %s (%s%s)%s\n", r.Verdict, ref, r.Namespace, r.Deployment, r.From, r.To, r.Strategy, rev, snap)
}

// WriteSnapshots prints the snapshots `rollback config snapshot` took.
func WriteSnapshots(w io.Writer, r *SnapshotAllResult) {
	w = termsafe.Writer(w)
	if len(r.Snapshots) == 0 && len(r.Missing) == 0 {
		fmt.Fprintf(w, "skipped: deployment %s/%s references no ConfigMap or Secret\n", r.Namespace, r.Deployment)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tSNAPSHOT\tSOURCE RV\tKEYS\tHASH\tSTATUS")
	for _, s := range r.Snapshots {
		status := "created"
		if !s.Created {
			status = "unchanged since this snapshot"
		}
		if len(s.Pruned) > 0 {
			status += fmt.Sprintf(", pruned %d old", len(s.Pruned))
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%d\t%s\t%s\n", s.Kind.lower(), s.Source, s.Snapshot, s.SourceRV, s.Keys, s.Hash, status)
	}
	tw.Flush()
	for _, m := range r.Missing {
		fmt.Fprintf(w, "missing: %s is referenced but does not exist; nothing to copy\n", m)
	}
}
