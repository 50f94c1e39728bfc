package incident

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/termsafe"
)

// WriteResult prints a run's outcome for humans: the verdict, one line per
// step and target, the health checks, notifications, and where the journal
// and the report are.
func WriteResult(w io.Writer, r *Result) {
	w = termsafe.Writer(w)
	if r.Incident != "" {
		fmt.Fprintf(w, "incident %s: %s %s (%s)\n", r.Incident, r.App, r.Verdict, r.Duration)
	} else {
		fmt.Fprintf(w, "%s: %s\n", r.App, r.Verdict)
	}
	if len(r.Steps) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tTARGET\tRESULT\tDETAIL")
		for _, s := range r.Steps {
			detail := s.Detail
			if s.Error != "" {
				detail = firstLine(s.Error)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Step, orDash(s.Target), s.Verdict, detail)
		}
		tw.Flush()
	}
	for _, h := range r.Health {
		fmt.Fprintf(w, "health %s: %s %s\n", h.Name, h.Outcome, h.Detail)
	}
	if n := len(r.Notifications); n > 0 {
		failed := 0
		for _, x := range r.Notifications {
			if x.Err != "" {
				failed++
			}
		}
		fmt.Fprintf(w, "notifications: %d sent, %d failed\n", n-failed, failed)
	}
	if r.Journal != "" {
		fmt.Fprintf(w, "journal: %s\n", r.Journal)
	}
	if r.Report != "" {
		fmt.Fprintf(w, "report:  %s\n", r.Report)
	}
	if r.Verdict == VerdictFailed && r.Incident != "" {
		fmt.Fprintf(w, "resume:  rollback run --resume %s\n", r.Incident)
	}
	if r.Verdict != VerdictRolledBack && r.Verdict != VerdictDryRun && len(r.Escalation) > 0 {
		fmt.Fprintf(w, "escalate: %s\n", strings.Join(r.Escalation, "; "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
