package guard

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// WriteResult prints r for people: what was guarded, the verdict and why,
// the analysis counts, the rollback and its timings.
func WriteResult(w io.Writer, r *Result) {
	w = termsafe.Writer(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	kind, name := r.Kind, r.Name
	if kind == "" {
		kind, name = "Deployment", r.Deployment
	}
	row(kind.Lower(), "%s/%s", r.Namespace, name)
	row("revision", "%d (%s)", r.Revision, strings.Join(r.Images, ", "))
	row("verdict", "%s", r.Verdict)
	if r.Reason != "" {
		row("reason", "%s", r.Reason)
	}
	if r.Analysis != "" || r.Rounds != (RoundCounts{}) {
		a := string(r.Analysis)
		if a == "" {
			a = "-"
		}
		row("analysis", "%s (rounds: %d passed, %d failed, %d inconclusive; bake %s)", a, r.Rounds.Passed, r.Rounds.Failed, r.Rounds.Inconclusive, r.Bake)
	}
	row("rollout", "%s", r.Rollout)
	if r.Release != "" {
		row("helm release", "%s", r.Release)
	}
	if h := r.Helm; h != nil {
		row("rolled back", "through Helm: %s", helmtarget.Detail(h))
	}
	if u := r.Undo; u != nil {
		switch {
		case u.ToRevision != 0 && u.NewRevision != 0:
			row("rolled back", "revision %d -> %d (now revision %d), %s", u.FromRevision, u.ToRevision, u.NewRevision, u.Verdict)
		default:
			row("rollback", "%s %s", u.Verdict, u.Reason)
		}
	}
	if r.Detection > 0 {
		row("detection", "%s", r.Detection)
	}
	if r.Recovery > 0 {
		row("recovery", "%s", r.Recovery)
	}
	if r.Incident != "" {
		row("incident", "%s (rollback incident show %s)", r.Incident, r.Incident)
	}
	for _, n := range r.Notifications {
		if n.Err != "" {
			row("notification", "%s %s: failed after %d attempts: %s", n.Channel, n.Kind, n.Attempts, n.Err)
		} else {
			row("notification", "%s %s: sent", n.Channel, n.Kind)
		}
	}
	for _, wn := range r.Warnings {
		row("warning", "%s", wn)
	}
	tw.Flush()
}
