package report

import (
	"bufio"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
)

// writer renders the report's sections.
type writer struct {
	w       *bufio.Writer
	entries []journal.Entry
}

func (r *writer) p(format string, args ...any) { fmt.Fprintf(r.w, format+"\n", args...) }

func (r *writer) all() {
	r.summary()
	r.drill()
	r.timeline()
	r.changes()
	r.health()
	r.notifications()
	r.flags()
	r.escalation()
	r.rca()
}

func (r *writer) find(action journal.Action) (journal.Entry, bool) {
	for _, e := range r.entries {
		if e.Action == action {
			return e, true
		}
	}
	return journal.Entry{}, false
}

func (r *writer) findLast(action journal.Action) (journal.Entry, bool) {
	for i := len(r.entries) - 1; i >= 0; i-- {
		if r.entries[i].Action == action {
			return r.entries[i], true
		}
	}
	return journal.Entry{}, false
}

func (r *writer) summary() {
	first := r.entries[0]
	opened, hasOpened := r.find(journal.ActionIncidentOpened)
	if !hasOpened {
		opened = first
	}
	closed, isClosed := r.findLast(journal.ActionIncidentClosed)
	app := str(opened.Inputs["app"])
	title := "# Incident report: " + first.Incident
	if app != "" {
		title += " (" + app + ")"
	}
	r.p("%s\n", title)
	r.p("## Summary\n")
	r.p("| | |\n|---|---|")
	row := func(k, v string) {
		if v != "" {
			r.p("| %s | %s |", k, cell(v))
		}
	}
	row("Incident", first.Incident)
	row("Application", app)
	row("Opened by", opened.Actor)
	row("Reason", str(opened.Inputs["reason"]))
	row("Opened", fmtTime(opened.Time))
	outcome := "still open"
	if isClosed {
		row("Closed", fmtTime(closed.Time))
		row("Duration", closed.Time.Sub(opened.Time).Round(time.Second).String())
		outcome = orDash(closed.Result)
		if s := str(closed.Inputs["summary"]); s != "" {
			outcome += ": " + s
		}
		if closed.Error != "" {
			outcome += " (" + closed.Error + ")"
		}
	} else {
		last := r.entries[len(r.entries)-1]
		row("Last entry", fmtTime(last.Time)+" ("+string(last.Action)+")")
	}
	row("Outcome", outcome)
	row("Steps", str(opened.Inputs["steps"]))
	if dry, ok := opened.Inputs["dryRun"].(bool); ok && dry {
		row("Dry run", "yes: nothing was changed")
	}
	row("Runbook", str(opened.Inputs["runbook"]))
	if resumed := r.count("incident.resumed"); resumed > 0 {
		row("Resumed", fmt.Sprintf("%d time(s)", resumed))
	}
	var actors []string
	for _, e := range r.entries {
		if e.Actor != "" && !slices.Contains(actors, e.Actor) {
			actors = append(actors, e.Actor)
		}
	}
	if len(actors) > 1 {
		row("People involved", strings.Join(actors, ", "))
	}
	r.p("")
}

func (r *writer) count(action journal.Action) int {
	n := 0
	for _, e := range r.entries {
		if e.Action == action {
			n++
		}
	}
	return n
}

func (r *writer) timeline() {
	r.p("## Timeline\n")
	r.p("| # | Time (UTC) | Actor | Step | Action | Target | Result |")
	r.p("|---|---|---|---|---|---|---|")
	for _, e := range r.entries {
		res := e.Result
		if e.Error != "" {
			res = strings.TrimSpace(res + ": " + e.Error)
		}
		target := e.Target
		if ch := str(e.Inputs["channel"]); target == "" && ch != "" {
			target = strings.TrimSpace(ch + " " + str(e.Inputs["kind"]))
		}
		r.p("| %d | %s | %s | %s | %s | %s | %s |", e.Seq, e.Time.UTC().Format("15:04:05"), cell(orDash(e.Actor)),
			cell(orDash(e.Step)), cell(string(e.Action)), cell(orDash(target)), cell(orDash(res)))
	}
	r.p("")
}

// changeKeys are shown first, in this order, in "What changed".
var changeKeys = []string{"revision", "images", "configs", "config", "version", "versions", "database", "migration", "backup"}

func (r *writer) changes() {
	r.p("## What changed\n")
	n := 0
	for _, e := range r.entries {
		switch e.Action {
		case "step.completed", "step.failed", "step.skipped":
		default:
			continue
		}
		if e.Target == "" && e.Before == nil && e.After == nil && e.Error == "" {
			continue // the step as a whole; its targets have their own entries
		}
		n++
		head := "### " + orDash(e.Step)
		if e.Target != "" {
			head += ": " + e.Target
		}
		r.p("%s (%s)\n", head, strings.TrimPrefix(string(e.Action), "step."))
		if d, _ := e.Inputs["detail"].(string); d != "" {
			r.p("%s\n", cell(d))
		}
		before, after := asMap(e.Before), asMap(e.After)
		keys := mergedKeys(before, after)
		if len(keys) > 0 {
			r.p("| | Before | After |\n|---|---|---|")
			for _, k := range keys {
				r.p("| %s | %s | %s |", cell(k), cell(orDash(render(before[k]))), cell(orDash(render(after[k]))))
			}
		} else if e.Before != nil || e.After != nil {
			r.p("- before: %s\n- after: %s", render(e.Before), render(e.After))
		}
		if e.Error != "" {
			r.p("\nError: %s", e.Error)
		}
		r.p("")
	}
	if n == 0 {
		r.p("No step completed, failed or was skipped.\n")
	}
}

func mergedKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	var first, rest []string
	for _, k := range changeKeys {
		if set[k] {
			first = append(first, k)
			delete(set, k)
		}
	}
	for k := range set {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	return append(first, rest...)
}

func (r *writer) health() {
	r.p("## Health before and after\n")
	n := 0
	for _, e := range r.entries {
		var head string
		switch e.Action {
		case "preflight.completed":
			head = "### Preflight"
		case "health.checked":
			phase := str(e.Inputs["phase"])
			head = "### Health " + orDash(phase) + " the rollback"
		default:
			continue
		}
		n++
		r.p("%s (%s, %s)\n", head, fmtTime(e.Time), orDash(e.Result))
		if e.Error != "" {
			r.p("Error: %s\n", e.Error)
		}
		if e.After != nil {
			writeValue(r.w, e.After)
			r.p("")
		}
	}
	if n == 0 {
		r.p("No preflight or health check was recorded.\n")
	}
}

func (r *writer) notifications() {
	r.p("## Notifications\n")
	var rows []journal.Entry
	for _, e := range r.entries {
		if e.Action == "notify.sent" || e.Action == "notify.failed" {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		r.p("No notification was recorded.\n")
		return
	}
	r.p("| Time (UTC) | Channel | Event | Attempts | Result |\n|---|---|---|---|---|")
	for _, e := range rows {
		res := "sent"
		if e.Action == "notify.failed" {
			res = "FAILED"
			if e.Error != "" {
				res += ": " + e.Error
			}
		}
		r.p("| %s | %s | %s | %s | %s |", e.Time.UTC().Format("15:04:05"), cell(orDash(str(e.Inputs["channel"]))),
			cell(orDash(str(e.Inputs["kind"]))), cell(orDash(str(e.Inputs["attempts"]))), cell(res))
	}
	r.p("")
}

func (r *writer) flags() {
	r.p("## Feature flags\n")
	var rows []journal.Entry
	for _, e := range r.entries {
		if flagChange(e) != "" {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		r.p("No feature flag was changed.\n")
		return
	}
	r.p("| Time (UTC) | Flag | Action | Before | After | By |\n|---|---|---|---|---|---|")
	for _, e := range rows {
		action := flagChange(e)
		if e.Result == journal.ResultSkipped {
			action += " (skipped: already set)"
		}
		r.p("| %s | %s | %s | %s | %s | %s |", e.Time.UTC().Format("15:04:05"), cell(orDash(strings.TrimPrefix(e.Target, "flag/"))), cell(action),
			cell(flagValue(e.Before)), cell(flagValue(e.After)), cell(orDash(e.Actor)))
	}
	r.p("")
}

// flagChange returns "disabled" or "enabled" for an entry that ended a
// feature flag change (the flag step's end, or a flag.* entry of journals
// written before flag changes were steps), "" for any other entry.
func flagChange(e journal.Entry) string {
	if strings.HasPrefix(string(e.Action), "flag.") {
		return strings.TrimPrefix(string(e.Action), "flag.")
	}
	if e.Step == "flag" && (e.Action == journal.ActionStepCompleted || e.Action == journal.ActionStepSkipped) {
		return str(e.Inputs["change"])
	}
	return ""
}

// flagValue shows a flag's value recorded as a string or as {"value": ...}.
func flagValue(v any) string {
	if m := asMap(v); m != nil {
		if x, ok := m["value"]; ok {
			return render(x)
		}
	}
	return orDash(render(v))
}

func (r *writer) escalation() {
	r.p("## Escalation contacts\n")
	opened, _ := r.find(journal.ActionIncidentOpened)
	var contacts []string
	switch v := opened.Inputs["escalation"].(type) {
	case []any:
		for _, c := range v {
			contacts = append(contacts, render(c))
		}
	case string:
		contacts = append(contacts, v)
	}
	if len(contacts) == 0 {
		r.p("None configured: add them under escalation in rollback.yaml.\n")
		return
	}
	for _, c := range contacts {
		r.p("- %s", c)
	}
	r.p("")
}

func (r *writer) rca() {
	r.p("## Root cause analysis\n")
	r.p("To be filled in by the people involved, once the immediate crisis is over.")
	for _, q := range RCAQuestions {
		r.p("\n### %s\n\n\n", q)
	}
}
