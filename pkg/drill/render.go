package drill

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/termsafe"
)

// WriteResult prints a drill's outcome: verdict, timings, the comparison
// with earlier drills, and where the report is.
func WriteResult(w io.Writer, r *Result) {
	w = termsafe.Writer(w)
	fmt.Fprintf(w, "drill %s of %s in namespace %s: %s\n", r.Incident, r.App, r.Namespace, r.Verdict)
	fmt.Fprintf(w, "bad release:     %s\n", r.BadRelease)
	if r.Detected != "" {
		fmt.Fprintf(w, "detected:        %s\n", r.Detected)
	}
	fmt.Fprintf(w, "time to detect:  %s\n", r.Detect)
	if r.Run != nil {
		fmt.Fprintf(w, "time to recover: %s (rollback %s)\n", r.Recover, r.Run.Verdict)
	}
	fmt.Fprintf(w, "compared:        %s\n", comparison(r))
	if len(r.Previous) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EARLIER DRILL\tWHEN (UTC)\tDETECT\tRECOVER\tVERDICT")
		for i, p := range r.Previous {
			if i == 5 {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Incident, p.Time.UTC().Format("2006-01-02 15:04"), p.Detect, p.Recover, p.Verdict)
		}
		tw.Flush()
	}
	if r.Report != "" {
		fmt.Fprintf(w, "report:          %s\n", r.Report)
	}
	if r.CleanedUp {
		fmt.Fprintf(w, "cleaned up:      namespace %s deleted\n", r.Namespace)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error:           %s\n", r.Error)
	}
}
