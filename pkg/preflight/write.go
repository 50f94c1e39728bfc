package preflight

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ANSI colors of the symbols.
const (
	green   = "\x1b[32m"
	yellow  = "\x1b[33m"
	red     = "\x1b[31m"
	magenta = "\x1b[35m"
	bold    = "\x1b[1m"
	reset   = "\x1b[0m"
)

func (s Status) color() string {
	switch s {
	case OK:
		return green
	case Warn:
		return yellow
	case Fail:
		return red
	}
	return magenta
}

// Write prints the report for people: one line per check (symbol, group,
// cluster, check, detail), the fixes of the problems (✗ and ?) and of the
// warnings that have one, then GO, or NO-GO with the number of problems and
// the escalation contacts. color adds ANSI colors to the symbols and verdict.
func Write(w io.Writer, r *Report, color bool) {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + reset
	}
	multi := clusters(r.Checks) > 1
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		name := c.Name
		if multi && c.Cluster != "" {
			name = c.Cluster + "/" + c.Name
		}
		// tabwriter counts bytes: pad the symbol outside of it.
		fmt.Fprintf(tw, "%s\t%s\t%s\n", paint(c.Status.color(), c.Status.Symbol())+" "+c.Group, name, c.Detail)
	}
	tw.Flush()
	var fixes []string
	for _, c := range r.Checks {
		if c.Fix != "" && c.Status != OK {
			name := c.Name
			if multi && c.Cluster != "" {
				name = c.Cluster + "/" + c.Name
			}
			fixes = append(fixes, fmt.Sprintf("  %s %s %s: %s", paint(c.Status.color(), c.Status.Symbol()), c.Group, name, c.Fix))
		}
	}
	if len(fixes) > 0 {
		fmt.Fprintf(w, "\nto do:\n%s\n", strings.Join(fixes, "\n"))
	}
	fmt.Fprintln(w)
	if r.Go {
		fmt.Fprintln(w, paint(bold+green, "GO"))
		return
	}
	fmt.Fprintln(w, paint(bold+red, fmt.Sprintf("NO-GO (%d %s)", r.Problems, plural(r.Problems, "problem", "problems"))))
	if len(r.Escalation) == 0 {
		fmt.Fprintln(w, "escalation: none in the runbook: add escalation contacts to rollback.yaml")
		return
	}
	fmt.Fprintln(w, "escalation:")
	for _, e := range r.Escalation {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// clusters counts the distinct clusters of checks.
func clusters(checks []Check) int {
	seen := map[string]bool{}
	for _, c := range checks {
		if c.Cluster != "" {
			seen[c.Cluster] = true
		}
	}
	return len(seen)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
