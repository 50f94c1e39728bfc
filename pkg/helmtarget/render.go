package helmtarget

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// WriteHistory prints a release's history for humans.
func WriteHistory(w io.Writer, h *HistoryResult) {
	w = termsafe.Writer(w)
	last := "none"
	if h.LastGood != 0 {
		last = fmt.Sprint(h.LastGood)
	}
	fmt.Fprintf(w, "release %s in namespace %s: current revision %d, last known good revision %s\n", h.Release, h.Namespace, h.Current, last)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tMARK\tSTATUS\tCHART\tAPP VERSION\tHEALTH\tUPDATED\tDESCRIPTION")
	for _, r := range h.Revisions {
		health := r.Health
		if r.HealthDetail != "" {
			health += " (" + short(r.HealthDetail, 50) + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Revision, rollout.MarkColumn(r.Current, r.LastGood), r.Status, dash(r.Chart), dash(r.AppVersion),
			health, r.Updated.UTC().Format("2006-01-02 15:04:05Z"), dash(short(r.Description, 60)))
	}
	tw.Flush()
}

// WritePlan prints an undo plan for humans.
func WritePlan(w io.Writer, p *Plan) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "Undo helm release %s in namespace %s\n", p.Release, p.Namespace)
	fmt.Fprintf(w, "  from: revision %d (%s, %s, %s)\n", p.From.Revision, p.From.Chart, p.From.Status, p.From.Health)
	fmt.Fprintf(w, "  to:   revision %d (%s, %s)\n", p.To.Revision, p.To.Chart, p.To.Health)
	fmt.Fprintf(w, "  why:  %s\n", p.Reason)
	if p.Pending != nil {
		fmt.Fprintf(w, "  pending: %s; --recover-pending marks it failed first\n", p.Pending)
	}
	fmt.Fprintf(w, "  values changes:\n")
	if len(p.Values) == 0 {
		fmt.Fprintf(w, "    (none)\n")
	}
	for _, v := range p.Values {
		fmt.Fprintf(w, "    %s: %s -> %s\n", v.Path, v.From, v.To)
	}
	fmt.Fprintf(w, "  rendered objects changes:\n")
	if len(p.Objects) == 0 {
		fmt.Fprintf(w, "    (none)\n")
	}
	for _, o := range p.Objects {
		fmt.Fprintf(w, "    %s: %s\n", o.Object, o.Change)
		for _, c := range o.Template {
			where := "pod"
			if c.Container != "" {
				where = "container " + c.Container
			}
			fmt.Fprintf(w, "      %s %s: %s -> %s\n", where, c.Field, c.From, c.To)
		}
	}
	for _, v := range p.Ownership {
		fmt.Fprintf(w, "  owners of %s %s: %s\n", strings.ToLower(v.Kind), v.Name, v.Summary())
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// WriteUndoResult prints the result of an undo for humans (stdout).
func WriteUndoResult(w io.Writer, r *UndoResult) {
	w = termsafe.Writer(w)
	p := r.Plan
	switch r.Verdict {
	case VerdictSkipped:
		fmt.Fprintf(w, "%s: skipped: %s\n", r.Release, p.Reason)
		return
	case VerdictDryRun:
		fmt.Fprintf(w, "%s: dry run: would roll back from revision %d to revision %d; nothing changed\n", r.Release, p.From.Revision, p.To.Revision)
		return
	case VerdictRefused, VerdictError:
		if r.NewRevision == 0 {
			fmt.Fprintf(w, "%s: %s, nothing changed\n", r.Release, r.Verdict)
		} else {
			fmt.Fprintf(w, "%s: %s: Helm's rollback failed and recorded revision %d (see helm history %s -n %s)\n", r.Release, r.Verdict, r.NewRevision, r.Release, r.Namespace)
		}
		return
	}
	if r.RecoveredPending != nil {
		fmt.Fprintf(w, "%s: pending revision %d (%s) marked failed\n", r.Release, r.RecoveredPending.Revision, r.RecoveredPending.Status)
	}
	fmt.Fprintf(w, "%s: %s: rolled back from revision %d to revision %d, now revision %d (marked %s)\n", r.Release, r.Verdict, p.From.Revision, p.To.Revision, r.NewRevision, dash(r.Marked))
	for _, s := range r.Workloads {
		line := fmt.Sprintf("  %s: %s", s.Workload().Describe(), s.Verdict)
		for _, rp := range s.Replaced {
			line += fmt.Sprintf(" (replaced stuck pod %s)", rp.Pod)
		}
		if s.Reason != "" && s.Verdict != VerdictHealthy {
			line += ": " + s.Reason
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  duration: %s\n", r.Durations)
}

// WriteMarkGood prints the result of mark-good.
func WriteMarkGood(w io.Writer, r *MarkGoodResult) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "%s: revision %d marked %s\n", r.Release, r.Revision, r.Marked)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// Detail says in one line what an undo of a release did, for journals,
// reports and step tables: "revision 3 -> 1 (web-1.0.0), now 4: healthy, marked good".
func Detail(r *UndoResult) string {
	p := r.Plan
	if p == nil {
		return string(r.Verdict)
	}
	switch r.Verdict {
	case VerdictSkipped:
		return "skipped: " + p.Reason
	case VerdictDryRun:
		return fmt.Sprintf("would roll back through Helm from revision %d (%s, %s) to revision %d (%s, %s)", p.From.Revision, p.From.Chart, p.From.Status, p.To.Revision, p.To.Chart, p.To.Health)
	}
	s := fmt.Sprintf("revision %d -> %d (%s)", p.From.Revision, p.To.Revision, dash(p.To.Chart))
	if r.NewRevision != 0 {
		s += fmt.Sprintf(", now %d", r.NewRevision)
	}
	s += ": " + string(r.Verdict)
	if r.Marked != "" {
		s += ", marked " + r.Marked
	}
	return s
}
