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
	holder := "ReplicaSet"
	if p.Kind != KindDeployment && p.Kind != "" {
		holder = "ControllerRevision"
	}
	from := "no revision (template matches no " + holder + ")"
	if p.From != nil {
		from = fmt.Sprintf("revision %d (%s)", p.From.Number, imagesString(p.From.Images))
	}
	fmt.Fprintf(w, "Undo %s in namespace %s\n", p.Workload().Describe(), p.Namespace)
	fmt.Fprintf(w, "  from: %s\n", from)
	fmt.Fprintf(w, "  to:   revision %d (%s)\n", p.To.Number, imagesString(p.To.Images))
	fmt.Fprintf(w, "  why:  %s\n", p.Reason)
	if p.Ownership != nil {
		fmt.Fprintf(w, "  owners: %s\n", p.Ownership.Summary())
	}
	if p.PodsOnly {
		fmt.Fprintf(w, "  pod template: already the target's\n")
	} else {
		fmt.Fprintf(w, "  pod template changes:\n")
		p.Diff.Write(w, "    ")
	}
	if len(p.ReplacePods) > 0 {
		fmt.Fprintf(w, "  pods to replace, one at a time (OnDelete): %s\n", strings.Join(p.ReplacePods, ", "))
	}
	if p.ReplaceStuck != "" {
		fmt.Fprintf(w, "  stuck pod to replace (kubernetes/kubernetes#67250): %s\n", p.ReplaceStuck)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// Summary is the plan in one line: workload, from and to revisions.
func (p *Plan) Summary() string {
	from := "no revision"
	if p.From != nil {
		from = fmt.Sprintf("revision %d", p.From.Number)
	}
	if p.PodsOnly {
		pods := append([]string(nil), p.ReplacePods...)
		if p.ReplaceStuck != "" {
			pods = append(pods, p.ReplaceStuck)
		}
		return fmt.Sprintf("replace pods of %s %s/%s, already at revision %d (%s): %s", p.Workload().Kind.Lower(), p.Namespace, p.Name, p.To.Number, imagesString(p.To.Images), strings.Join(pods, ", "))
	}
	return fmt.Sprintf("undo %s %s/%s: %s -> revision %d (%s)", p.Workload().Kind.Lower(), p.Namespace, p.Name, from, p.To.Number, imagesString(p.To.Images))
}

// label is the workload as progress lines name it: the bare name of a
// Deployment, KIND/NAME otherwise.
func (r *UndoResult) label() string {
	name := r.Name
	if name == "" {
		name = r.Deployment
	}
	return Workload{Kind: r.Kind, Name: name}.Arg()
}

// WriteUndoResult prints the result of an undo for humans (stdout).
func WriteUndoResult(w io.Writer, r *UndoResult) {
	w = termsafe.Writer(w)
	switch r.Verdict {
	case VerdictSkipped:
		fmt.Fprintf(w, "%s: skipped, already at revision %d (%s)\n", r.label(), r.ToRevision, imagesString(r.ImagesAfter))
		return
	case VerdictDryRun:
		if r.PodsOnly {
			fmt.Fprintf(w, "%s: dry run: already at revision %d (%s); would replace the pods its controller does not; nothing changed\n",
				r.label(), r.ToRevision, imagesString(r.ImagesAfter))
		} else {
			fmt.Fprintf(w, "%s: dry run: would roll back from revision %d (%s) to revision %d (%s); nothing changed\n",
				r.label(), r.FromRevision, imagesString(r.ImagesBefore), r.ToRevision, imagesString(r.ImagesAfter))
			if r.Diff != nil {
				r.Diff.Write(w, "  ")
			}
		}
		if r.ReplaceStuck != "" {
			fmt.Fprintf(w, "  would replace pod %s (the OrderedReady controller waits for it: kubernetes/kubernetes#67250)\n", r.ReplaceStuck)
		}
		if len(r.ReplacePods) > 0 {
			fmt.Fprintf(w, "  would replace, one at a time (OnDelete): %s\n", strings.Join(r.ReplacePods, ", "))
		}
		return
	case VerdictRefused, VerdictCancelled, VerdictError:
		fmt.Fprintf(w, "%s: %s, nothing changed\n", r.label(), r.Verdict)
		return
	}
	if r.PodsOnly {
		fmt.Fprintf(w, "%s: %s: already at revision %d (%s); replaced the pods its controller did not\n",
			r.label(), r.Verdict, r.NewRevision, imagesString(r.ImagesAfter))
	} else {
		fmt.Fprintf(w, "%s: %s: rolled back from revision %d (%s) to revision %d (%s), now revision %d\n",
			r.label(), r.Verdict, r.FromRevision, imagesString(r.ImagesBefore), r.ToRevision, imagesString(r.ImagesAfter), r.NewRevision)
	}
	if r.Reason != "" && r.Verdict != VerdictHealthy {
		fmt.Fprintf(w, "  reason: %s\n", r.Reason)
	}
	if r.Status != nil && r.Status.MarkedGood {
		fmt.Fprintf(w, "  revision %d stamped known-good\n", r.NewRevision)
	}
	for _, c := range r.ConcurrentChanges {
		fmt.Fprintf(w, "  concurrent change re-planned: %s\n", c)
	}
	for _, p := range r.ReplacedPods {
		fmt.Fprintf(w, "  replaced %s (%s)\n", p.Line(), replacedWhy(p.Why))
	}
	if r.Status != nil {
		for _, n := range r.Status.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	d := r.Durations
	fmt.Fprintf(w, "  durations: plan %s, write %s, rollout %s, settle %s, checks %s, total %s\n", d.Plan, d.Write, d.Rollout, d.Settle, d.Checks, d.Total)
}

// WriteStatusResult prints the verdict of a status for humans (stdout).
func WriteStatusResult(w io.Writer, r *StatusResult) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "%s: revision %d (%s): %s\n", r.label(), r.Revision, imagesString(r.Images), r.Verdict)
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
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
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
	kind := h.Kind
	if kind == "" {
		kind = KindDeployment
	}
	fmt.Fprintf(w, "%s %s in namespace %s: current revision %s, last known good revision %s\n",
		kind.Lower(), h.Name, h.Namespace, revOrNone(h.Current), revOrNone(h.LastGood))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tMARK\tIMAGES\tREADY\tHEALTH\tCREATED\tCHANGE-CAUSE")
	for _, r := range h.Revisions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.Number, MarkColumn(r.Current, r.LastGood), imagesString(r.Images),
			r.Ready, r.Replicas, healthString(r, h.Failure), r.Created.UTC().Format(timeFormat), orDash(r.ChangeCause))
	}
	tw.Flush()
	for _, n := range h.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// replacedWhy says why a pod was replaced.
func replacedWhy(why string) string {
	if why == ReplacedStuck {
		return "the OrderedReady controller waited for it: kubernetes/kubernetes#67250"
	}
	return "OnDelete, --replace-pods"
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
	// A table of Deployments only reads as before the other kinds.
	noun := b.noun()
	column := "DEPLOYMENT"
	if noun != "deployments" {
		column = "WORKLOAD"
	}
	fmt.Fprintf(tw, "NAMESPACE\t%s\tFROM\tTO\tNOW\tVERDICT\tTIME\tDETAIL\n", column)
	for _, r := range b.Results {
		detail := r.Error
		if detail == "" && r.Verdict != VerdictHealthy {
			detail = r.Reason
		}
		name := r.label()
		if column == "WORKLOAD" {
			name = Workload{Kind: r.Kind, Name: r.Name}.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, name, revOrDash(r.FromRevision), revOrDash(r.ToRevision),
			revOrDash(r.NewRevision), r.Verdict, r.Durations.Total, orDash(oneLine(detail)))
	}
	tw.Flush()
	var parts []string
	for _, v := range []Verdict{VerdictHealthy, VerdictSkipped, VerdictDryRun, VerdictRefused, VerdictCancelled, VerdictUnhealthy, VerdictTimeout, VerdictError} {
		if n := b.Counts[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if noun == "workloads" && len(b.Results) == 1 {
		noun = "workload"
	}
	fmt.Fprintf(w, "%d %s: %s (%s)\n", len(b.Results), noun, strings.Join(parts, ", "), b.Total)
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
