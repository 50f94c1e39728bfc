package report

import (
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/bytesize"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
)

// evidence renders, in the root cause analysis, what the evidence
// collected before the first change shows (evidence.collected entries):
// per workload the failing containers with their first error lines, exit
// codes and reasons, when the first failure was seen relative to the
// release and what the release changed; the database's state; guard's
// failed checks; and where the bundle is.
func (r *writer) evidence() {
	var es []journal.Entry
	for _, e := range r.entries {
		if e.Action == journal.ActionEvidenceCollected {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		return
	}
	r.p("\n### What the evidence shows\n")
	for _, e := range es {
		r.evidenceEntry(e)
	}
}

func (r *writer) evidenceEntry(e journal.Entry) {
	after := asMap(e.After)
	if e.Result == journal.ResultSkipped {
		r.p("No evidence was collected (%s).\n", orDash(str(e.Inputs["why"])))
		return
	}
	where := "was not kept"
	if b := str(after["bundle"]); b != "" {
		where = fmt.Sprintf("is in `%s` (export it with `rollback incident evidence %s`)", b, e.Incident)
	}
	line := fmt.Sprintf("Collected at %s before the first change, in %s: %s files, %s (%s compressed); the bundle %s.",
		fmtTime(e.Time), orDash(str(after["duration"])), orDash(str(after["files"])), size(after["bytes"]), size(after["compressed"]), where)
	if sb := str(after["stoppedBy"]); sb != "" {
		line += fmt.Sprintf(" The %s limit cut it: %s items left out (the bundle's manifest lists them).", sb, orDash(str(after["skipped"])))
	}
	r.p("%s\n", line)
	if e.Error != "" {
		r.p("Error: %s\n", e.Error)
	}
	if errs, ok := after["errors"].([]any); ok && len(errs) > 0 {
		r.p("Could not read:\n")
		for _, x := range errs {
			m := asMap(x)
			r.p("- %s: %s", str(m["source"]), oneLine(str(m["error"])))
		}
		r.p("")
	}
	sum, err := evidence.DecodeSummary(after["summary"])
	if err != nil || sum == nil {
		return
	}
	for _, w := range sum.Workloads {
		r.workloadEvidence(w)
	}
	if d := sum.Database; d != nil {
		r.p("#### Database\n")
		s := fmt.Sprintf("Before the rollback: version %d (%s", d.Version, orDash(d.Tool))
		if d.Dirty {
			s += ", DIRTY"
		}
		s += ")"
		if d.Tool == "" && d.RestoreFrom != "" {
			s = "Before the rollback: the migration state could not be read"
		}
		if d.PlanTo != nil {
			s += fmt.Sprintf("; the plan reverts %s to reach version %d", joinInts(d.Reverts), *d.PlanTo)
		}
		if d.RestoreFrom != "" && d.RestoreVersion != nil {
			s += fmt.Sprintf("; the restore replaces it with backup %s (version %d)", d.RestoreFrom, *d.RestoreVersion)
		}
		r.p("%s.", s)
		if d.Error != "" {
			what := "Plan"
			if d.RestoreFrom != "" {
				what = "State"
			}
			r.p("\n%s: %s", what, oneLine(d.Error))
		}
		r.p("")
	}
	if a := sum.Analysis; a != nil {
		r.p("#### Guard analysis\n")
		r.p("Verdict %s after %d round(s): %s\n", orDash(a.Verdict), a.Rounds, cell(orDash(a.Reason)))
		if len(a.Failed) > 0 {
			r.p("| Check | Outcome | Value | Detail |\n|---|---|---|---|")
			for _, s := range a.Failed {
				r.p("| %s | %s | %g | %s |", cell(s.Check), s.Outcome, s.Value, cell(orDash(s.Detail)))
			}
			r.p("")
		}
	}
}

func (r *writer) workloadEvidence(w evidence.WorkloadSummary) {
	head := fmt.Sprintf("#### %s (namespace %s", w.Workload, w.Namespace)
	if w.Cluster != "" {
		head += ", cluster " + w.Cluster
	}
	r.p("%s)\n", head)
	if w.Error != "" {
		r.p("The workload %s.\n", w.Error)
		return
	}
	var b strings.Builder
	if w.Revision != 0 {
		fmt.Fprintf(&b, "Revision %d (%s)", w.Revision, orDash(strings.Join(w.Images, ", ")))
		if w.Released != nil {
			fmt.Fprintf(&b, ", released %s", fmtTime(*w.Released))
		}
		if w.Target != 0 {
			fmt.Fprintf(&b, ", rolled back to revision %d", w.Target)
		}
		b.WriteString(". ")
	}
	switch {
	case w.FirstFailure != nil && w.Released != nil:
		fmt.Fprintf(&b, "First failure seen %s after the release (%s): %s. ", after(w.FirstFailureAfter.String()), fmtTime(*w.FirstFailure), w.FirstFailureWhat)
	case w.FirstFailure != nil:
		fmt.Fprintf(&b, "First failure seen at %s: %s. ", fmtTime(*w.FirstFailure), w.FirstFailureWhat)
	default:
		b.WriteString("No sign of failure in its pods, Events or logs. ")
	}
	fmt.Fprintf(&b, "%d of %d pods of the revision failing or not ready; %d Warning Events.", w.Failing, w.Pods, w.Warnings)
	r.p("%s\n", cell(b.String()))
	if len(w.Containers) > 0 {
		r.p("| Pod | Container | Reason | Exit code | Restarts | First error lines |\n|---|---|---|---|---|---|")
		for _, c := range w.Containers {
			exit := "-"
			if c.ExitCode != nil {
				exit = fmt.Sprint(*c.ExitCode)
				if c.ExitReason != "" {
					exit += " (" + c.ExitReason + ")"
				}
			}
			reason := c.Reason
			if c.Message != "" {
				reason += ": " + c.Message
			}
			lines := strings.Join(c.FirstErrors, "\n")
			r.p("| %s | %s | %s | %s | %d | %s |", cell(c.Pod), cell(c.Container), cell(reason), cell(exit), c.Restarts, cell(orDash(codeSafe(lines))))
		}
		r.p("")
	}
	if len(w.Changes) > 0 {
		r.p("What the release changed (the rollback target's pod template -> the release's):\n")
		for _, c := range w.Changes {
			where := "pod"
			if c.Container != "" {
				where = "container " + c.Container
			}
			r.p("- %s: %s: %s -> %s", where, c.Field, c.From, c.To)
		}
		r.p("")
	}
}

// after shows a distance from the release ("-2s" means before it: the
// clocks of the cluster's nodes differ).
func after(d string) string {
	if d == "" {
		return "0s"
	}
	return d
}

func joinInts(vs []int64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(v)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// codeSafe keeps Markdown from interpreting log text (backquotes, asterisks).
func codeSafe(s string) string {
	r := strings.NewReplacer("`", "'", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// size shows a journaled byte count for people.
func size(v any) string {
	n, ok := v.(float64)
	if !ok {
		return "-"
	}
	return bytesize.Human(int64(n))
}
