package rollout

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/termsafe"
)

// timeFormat is how times are printed for humans.
const timeFormat = "2006-01-02 15:04:05Z"

// WritePlan prints an undo plan for humans.
func WritePlan(w io.Writer, p *Plan) {
	w = termsafe.Writer(w)
	from := "no revision (template matches no ReplicaSet)"
	if p.From != nil {
		from = fmt.Sprintf("revision %d (%s)", p.From.Number, imagesString(p.From.Images))
	}
	fmt.Fprintf(w, "Undo deployment %s in namespace %s\n", p.Deployment, p.Namespace)
	fmt.Fprintf(w, "  from: %s\n", from)
	fmt.Fprintf(w, "  to:   revision %d (%s)\n", p.To.Number, imagesString(p.To.Images))
	fmt.Fprintf(w, "  why:  %s\n", p.Reason)
	if p.Ownership != nil {
		fmt.Fprintf(w, "  owners: %s\n", p.Ownership.Summary())
	}
	fmt.Fprintf(w, "  pod template changes:\n")
	p.Diff.Write(w, "    ")
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// Summary is the plan in one line: deployment, from and to revisions.
func (p *Plan) Summary() string {
	from := "no revision"
	if p.From != nil {
		from = fmt.Sprintf("revision %d", p.From.Number)
	}
	return fmt.Sprintf("undo deployment %s/%s: %s -> revision %d (%s)", p.Namespace, p.Deployment, from, p.To.Number, imagesString(p.To.Images))
}

// WriteUndoResult prints the result of an undo for humans (stdout).
func WriteUndoResult(w io.Writer, r *UndoResult) {
	w = termsafe.Writer(w)
	switch r.Verdict {
	case VerdictSkipped:
		fmt.Fprintf(w, "%s: skipped, already at revision %d (%s)\n", r.Deployment, r.ToRevision, imagesString(r.ImagesAfter))
		return
	case VerdictDryRun:
		fmt.Fprintf(w, "%s: dry run: would roll back from revision %d (%s) to revision %d (%s); nothing changed\n",
			r.Deployment, r.FromRevision, imagesString(r.ImagesBefore), r.ToRevision, imagesString(r.ImagesAfter))
		if r.Diff != nil {
			r.Diff.Write(w, "  ")
		}
		return
	case VerdictRefused, VerdictCancelled, VerdictError:
		fmt.Fprintf(w, "%s: %s, nothing changed\n", r.Deployment, r.Verdict)
		return
	}
	fmt.Fprintf(w, "%s: %s: rolled back from revision %d (%s) to revision %d (%s), now revision %d\n",
		r.Deployment, r.Verdict, r.FromRevision, imagesString(r.ImagesBefore), r.ToRevision, imagesString(r.ImagesAfter), r.NewRevision)
	if r.Reason != "" && r.Verdict != VerdictHealthy {
		fmt.Fprintf(w, "  reason: %s\n", r.Reason)
	}
	if r.Status != nil && r.Status.MarkedGood {
		fmt.Fprintf(w, "  revision %d stamped known-good\n", r.NewRevision)
	}
	for _, c := range r.ConcurrentChanges {
		fmt.Fprintf(w, "  concurrent change re-planned: %s\n", c)
	}
	d := r.Durations
	fmt.Fprintf(w, "  durations: plan %s, write %s, rollout %s, settle %s, checks %s, total %s\n", d.Plan, d.Write, d.Rollout, d.Settle, d.Checks, d.Total)
}

// WriteStatusResult prints the verdict of a status for humans (stdout).
func WriteStatusResult(w io.Writer, r *StatusResult) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "%s: revision %d (%s): %s\n", r.Deployment, r.Revision, imagesString(r.Images), r.Verdict)
	if r.Reason != "" {
		fmt.Fprintf(w, "  reason: %s\n", r.Reason)
	}
	fmt.Fprintf(w, "  replicas: %s\n", r.Progress)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  check %s: %s\n", c.URL, checkAnswer(c))
	}
	if r.MarkedGood {
		fmt.Fprintf(w, "  revision %d stamped known-good\n", r.Revision)
	}
	d := r.Durations
	fmt.Fprintf(w, "  durations: rollout %s, settle %s, checks %s, total %s\n", d.Rollout, d.Settle, d.Checks, d.Total)
}

// MarkColumn is the MARK column of a history table (of a Deployment or a
// Helm release): "current", "last-good", both, or "-".
func MarkColumn(current, lastGood bool) string {
	var marks []string
	if current {
		marks = append(marks, "current")
	}
	if lastGood {
		marks = append(marks, "last-good")
	}
	return orDash(strings.Join(marks, ","))
}

// WriteHistory prints a history table for humans (stdout).
func WriteHistory(w io.Writer, h *HistoryResult) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "deployment %s in namespace %s: current revision %s, last known good revision %s\n",
		h.Deployment, h.Namespace, revOrNone(h.Current), revOrNone(h.LastGood))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tMARK\tIMAGES\tREADY\tHEALTH\tCREATED\tCHANGE-CAUSE")
	for _, r := range h.Revisions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.Number, MarkColumn(r.Current, r.LastGood), imagesString(r.Images),
			r.Ready, r.Replicas, healthString(r, h.Failure), r.Created.UTC().Format(timeFormat), orDash(r.ChangeCause))
	}
	tw.Flush()
}

func healthString(r Revision, failure *PodFailure) string {
	s := r.Health
	switch {
	case r.Health == HealthGood:
		s += fmt.Sprintf(" (%s %s)", orUnknown(r.KnownGoodBy), r.KnownGoodAt.UTC().Format(timeFormat))
	case r.Health == HealthFailed:
		s += " (" + firstWords(r.FailedReason) + ")"
	}
	if r.Current && failure != nil {
		s += fmt.Sprintf("; now failing: %s on %s", failure.Reason, failure.Pod)
	}
	return s
}

// firstWords shortens a reason for a table cell.
func firstWords(s string) string {
	if i := strings.Index(s, ": "); i > 0 && strings.HasPrefix(s, "pod ") {
		s = s[i+2:]
	}
	if i := strings.Index(s, ":"); i > 0 {
		s = s[:i]
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

func revOrNone(n int64) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteBulkResult prints the summary table of a bulk undo (stdout).
func WriteBulkResult(w io.Writer, b *BulkResult) {
	w = termsafe.Writer(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tDEPLOYMENT\tFROM\tTO\tNOW\tVERDICT\tTIME\tDETAIL")
	for _, r := range b.Results {
		detail := r.Error
		if detail == "" && r.Verdict != VerdictHealthy {
			detail = r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Deployment, revOrDash(r.FromRevision), revOrDash(r.ToRevision),
			revOrDash(r.NewRevision), r.Verdict, r.Durations.Total, orDash(oneLine(detail)))
	}
	tw.Flush()
	var parts []string
	for _, v := range []Verdict{VerdictHealthy, VerdictSkipped, VerdictDryRun, VerdictRefused, VerdictCancelled, VerdictUnhealthy, VerdictTimeout, VerdictError} {
		if n := b.Counts[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	fmt.Fprintf(w, "%d deployments: %s (%s)\n", len(b.Results), strings.Join(parts, ", "), b.Total)
}

func revOrDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
