package report

// drill renders the timings of a rollback drill (rollback drill): what was
// shipped, what was detected, the time to detect and to recover, and the
// comparison with earlier drills. Incidents that are not drills have no such
// section.
func (r *writer) drill() {
	started, ok := r.find("drill.started")
	if !ok {
		return
	}
	r.p("## Drill\n")
	r.p("| | |\n|---|---|")
	r.p("| Drill namespace | %s |", cell(orDash(started.Target)))
	r.p("| Bad release | %s |", cell(orDash(render(started.Inputs["badRelease"]))))
	if d, ok := r.find("drill.detected"); ok {
		r.p("| Detected | %s |", cell(orDash(render(d.Inputs["failure"]))))
	}
	if c, ok := r.findLast("drill.completed"); ok {
		r.p("| Verdict | %s |", cell(orDash(render(c.Inputs["verdict"]))))
		r.p("| Time to detect | %s |", cell(orDash(render(c.Inputs["detect"]))))
		r.p("| Time to recover | %s |", cell(orDash(render(c.Inputs["recover"]))))
		r.p("| Compared with earlier drills | %s |", cell(orDash(render(c.Inputs["previous"]))))
		if c.Error != "" {
			r.p("| Error | %s |", cell(c.Error))
		}
	}
	r.p("")
}
