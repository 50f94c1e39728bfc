package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
)

// report collects the samples of a run and writes its section.
type report struct {
	opts    options
	started time.Time
	total   time.Duration
	dbs     []*database
	// results[size][arm]
	results map[string]map[string][]sample
}

var armTitle = map[string]string{
	armManual:   "A: by hand (seed runbook + pg_dump)",
	armRollback: "B: `rollback run --yes` (defaults)",
	armNoSettle: "C: `rollback run --yes --settle 0s`",
	armBefore:   "B0: `rollback run --yes` (defaults), before",
}

func (r *report) markdown() string {
	var b strings.Builder
	o := r.opts
	args := fmt.Sprintf("-runs %d -large-users %d", o.runs, o.largeUsers)
	if !o.noSettle {
		args += " -settle0=false"
	}
	if len(o.sizes) != 2 {
		args += " -sizes " + strings.Join(o.sizes, ",")
	}
	if o.before != "" {
		args += " -before BIN"
	}
	var loads []float64
	for _, byArm := range r.results {
		for _, ss := range byArm {
			for _, s := range ss {
				loads = append(loads, s.load)
			}
		}
	}
	fmt.Fprintf(&b, "%s\n\n", sectionTitle)
	fmt.Fprintf(&b, "Measured by `make bench-incident BENCH_ARGS='%s'` on %s: a fresh sandbox control plane (simulated pods Ready after 200 ms), %s, %s, %s (%s/%s, shared with other work), %s. "+
		"Load average (1 min) when the arms started: %s. Total run time %s.\n\n",
		args, r.started.UTC().Format("2006-01-02 15:04 UTC"), toolVersion("pg_dump", "--version"), "kubectl "+toolVersion("kubectl", "version", "--client"),
		machine(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadText(loads), r.total.Round(time.Second))
	b.WriteString("The demo incident of `scripts/demo.sh` in a fresh namespace per run: vibestack-app 1.4.0 (3 replicas, ConfigMap vibestack-config v1 by `envFrom`, schema at migration 2) stamped known-good, then release 1.5.0: " +
		"ConfigMap v2 (`kubectl apply`), migration 3 (`CREATE INDEX orders_user`), a crash-looping image; timing starts once `rollback app status` has reported the crash. " +
		"Arms alternate (the first one rotates); every run is checked afterwards: image 1.4.0 on 3 Ready pods that all run configuration v1 (started after the recovery began, or before v2 was applied and never restarted), no other pod, ConfigMap data v1, the Service answering 200, schema at version 2 without the index. " +
		"(B's undo brings back the 1.4.0 ReplicaSet, whose pods never ran v2: it replaces only the crashing pod; A's `rollout restart` replaces all three.)\n\n")
	b.WriteString("- A, the seed runbook by hand, in sequence: `kubectl rollout undo deployment/vibestack-app` + `kubectl rollout status`; `kubectl apply -f configmap-v1.yaml` (the previous manifest) + `kubectl rollout restart` + `kubectl rollout status`; " +
		"`pg_dump -Fc -f backup.dump`; golang-migrate's CLI `migrate -path db/migrations -database URL down 1` (v4.20.1, `go install -tags postgres`). No reading of output, no typing: the commands' own time.\n")
	b.WriteString("- B, `rollback run --yes --reason ...` with the runbook of the demo and the default safety settings: cluster lock, webhook notifications (a local receiver), preflight, one rollout for app and config watched through a 10 s settle window, " +
		"the verified backup (`pg_dump -Fc -Z0`, an uncompressed archive streamed at once into the file, sha256 and a full `pg_restore -f /dev/null` read-back, the file re-hashed from disk; taken from the start of the incident, beside the app step, and its sha256 checked again before the db step uses it), the schema version checked against it, `migrate down` under the tool's lock, the runbook's HTTP health check, journal and report.\n")
	if o.noSettle {
		b.WriteString("- C, B with `--settle 0s`: not a default, shown to separate the fixed settle window from the rest of B's time.\n")
	}
	if o.before != "" {
		fmt.Fprintf(&b, "- B0, B with another build of rollback (BIN: %s), in the same run.\n", o.beforeLabel)
	}
	b.WriteString("\n")
	arms := o.arms()
	fmt.Fprintf(&b, "| database |")
	for _, a := range arms {
		fmt.Fprintf(&b, " %s |", armTitle[a])
	}
	for _, a := range arms[1:] {
		fmt.Fprintf(&b, " ratio %s/A |", armLetter(a))
	}
	fmt.Fprintf(&b, " goal B/A <= 0.5 |\n|---|")
	for range arms {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for _, db := range r.dbs {
		res := r.results[db.size]
		a, bb := medianOf(res[armManual], total), medianOf(res[armRollback], total)
		fmt.Fprintf(&b, "| %s |", db.describe(res))
		for _, arm := range arms {
			fmt.Fprintf(&b, " %.2f s |", medianOf(res[arm], total).Seconds())
		}
		for _, arm := range arms[1:] {
			lo, hi := pairedRatios(res[arm], res[armManual])
			fmt.Fprintf(&b, " %.2f (%.2f-%.2f) |", medianOf(res[arm], total).Seconds()/a.Seconds(), lo, hi)
		}
		goal := "(no goal at this size)"
		if db.size == "large" {
			goal = "met"
			if bb.Seconds() > 0.5*a.Seconds() {
				goal = "**not met**"
			} else if idle := idleManual(res); bb.Seconds() > 0.5*idle.Seconds() {
				goal = fmt.Sprintf("met under this load; **not** on an idle machine (about %.2f: see Reading)", bb.Seconds()/idle.Seconds())
			}
		}
		fmt.Fprintf(&b, " %s |\n", goal)
	}
	b.WriteString("\nRatios: of the medians, and in parentheses the lowest and highest ratio of the two arms' runs in the same round.\n")
	b.WriteString("\nPhases (medians, seconds). A: each group of commands. B and C: from the journal's timestamps (start = process start to `incident.opened`; lock+preflight = the lock, the first notification and the checklist; " +
		"app+config = the app step with the merged config step, rollout and settle window; db = waiting for the early backup if still running, the version check and `migrate down`; health = the runbook's HTTP check; close = journal, report and notifications to the exit). " +
		"dump: A's `pg_dump -Fc`, B's and C's verified backup (its own duration; it runs beside the app step), with the file's size.\n\n")
	for _, db := range r.dbs {
		for _, arm := range arms {
			ss := r.results[db.size][arm]
			if len(ss) == 0 {
				continue
			}
			var parts []string
			for k, p := range ss[0].phases {
				parts = append(parts, fmt.Sprintf("%s %.2f", p.name, medianOf(ss, func(s sample) time.Duration { return s.phases[k].d }).Seconds()))
			}
			dump := medianOf(ss, func(s sample) time.Duration { return s.backup })
			size := medianInt(ss, func(s sample) int64 { return s.backupBytes })
			line := fmt.Sprintf("- %s, %s: %s; dump %.2f s, %s", db.size, armTitle[arm], strings.Join(parts, ", "), dump.Seconds(), megabytes(size))
			if cpu := medianOf(ss, func(s sample) time.Duration { return s.dumpCPU }); cpu > 0 {
				line += fmt.Sprintf(" (pg_dump's own CPU time %.2f s)", cpu.Seconds())
			}
			if plain := medianOf(ss, func(s sample) time.Duration { return s.plain }); plain > 0 {
				line += fmt.Sprintf(" (a plain-text `pg_dump -Fp` of the same database after the run: %.2f s)", plain.Seconds())
			}
			b.WriteString(line + "\n")
		}
	}
	r.reading(&b)
	b.WriteString("\nSamples (seconds, with the 1-minute load average at the arm's start):\n\n")
	for _, db := range r.dbs {
		for _, arm := range arms {
			var parts []string
			for _, s := range r.results[db.size][arm] {
				parts = append(parts, fmt.Sprintf("%.2f (%.1f)", s.total.Seconds(), s.load))
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", db.size, armLetter(arm), strings.Join(parts, ", "))
		}
	}
	return b.String()
}

// reading explains B's time from its phases, for each size.
func (r *report) reading(b *strings.Builder) {
	b.WriteString("\nReading:\n\n")
	for _, db := range r.dbs {
		res := r.results[db.size]
		ss := res[armRollback]
		if len(ss) == 0 {
			continue
		}
		a, bt := medianOf(res[armManual], total), medianOf(ss, total)
		appCfg := medianOf(ss, func(s sample) time.Duration { return phaseNamed(s, "app+config") })
		rest := bt - appCfg
		late := 0
		for _, s := range ss {
			if s.backupLate {
				late++
			}
		}
		fmt.Fprintf(b, "- %s: B's app+config phase, one rollout and its 10 s settle window, took %.2f s of B's %.2f s; the rest (start, lock, preflight, db, health, close) %.2f s. "+
			"The verified backup (%.2f s) ran beside it and was still running when the db step began in %d of %d runs. ",
			db.size, appCfg.Seconds(), bt.Seconds(), rest.Seconds(), medianOf(ss, func(s sample) time.Duration { return s.backup }).Seconds(), late, len(ss))
		if c := res[armNoSettle]; len(c) > 0 {
			fmt.Fprintf(b, "Without the settle window (C) the same incident took %.2f s (C/A %.2f). ", medianOf(c, total).Seconds(), medianOf(c, total).Seconds()/a.Seconds())
		}
		if b0 := res[armBefore]; len(b0) > 0 {
			fmt.Fprintf(b, "B0 (the other build) took %.2f s, its backup %.2f s. ", medianOf(b0, total).Seconds(), medianOf(b0, func(s sample) time.Duration { return s.backup }).Seconds())
		}
		if db.size == "large" {
			dump := medianOf(res[armManual], func(s sample) time.Duration { return s.backup })
			cpu := medianOf(res[armManual], func(s sample) time.Duration { return s.dumpCPU })
			idle := idleManual(res)
			fmt.Fprintf(b, "B/A <= 0.5 needs A >= 2 x %.2f = %.2f s; A took %.2f s, %.2f s of it in `pg_dump -Fc`, which used %.2f s of CPU in its own process (its compression), so the load stretched A's dump. "+
				"An A whose pg_dump ran at its CPU time (an idle machine) would take about %.2f s: B/A would be about %.2f with B as measured here, and at least %.2f even if B were nothing but its app+config phase (%.2f s: the rollout and the default 10 s settle window, which do not shrink on an idle machine).",
				bt.Seconds(), 2*bt.Seconds(), a.Seconds(), dump.Seconds(), cpu.Seconds(),
				idle.Seconds(), bt.Seconds()/idle.Seconds(), appCfg.Seconds()/idle.Seconds(), appCfg.Seconds())
		}
		b.WriteString("\n")
	}
}

// idleManual estimates A on an idle machine: A's median with its
// pg_dump taking its own CPU time instead of its wall time.
func idleManual(res map[string][]sample) time.Duration {
	ss := res[armManual]
	return medianOf(ss, total) - medianOf(ss, func(s sample) time.Duration { return s.backup }) + medianOf(ss, func(s sample) time.Duration { return s.dumpCPU })
}

// pairedRatios are the lowest and highest ratio of an arm's run to A's
// run of the same round.
func pairedRatios(arm, manual []sample) (lo, hi float64) {
	for i := range min(len(arm), len(manual)) {
		r := arm[i].total.Seconds() / manual[i].total.Seconds()
		if i == 0 || r < lo {
			lo = r
		}
		if i == 0 || r > hi {
			hi = r
		}
	}
	return lo, hi
}

func phaseNamed(s sample, name string) time.Duration {
	for _, p := range s.phases {
		if p.name == name {
			return p.d
		}
	}
	return 0
}

func (r *report) write(text string) error {
	return mdsection.Replace(r.opts.out, sectionTitle, text)
}

// describe names the database with its size at the bad release.
func (db *database) describe(res map[string][]sample) string {
	dump := medianInt(res[armManual], func(s sample) int64 { return s.backupBytes })
	if db.size == "small" {
		return fmt.Sprintf("small: the demo's %d rows, %.1f MB on disk", db.rows, float64(db.bytes)/1e6)
	}
	return fmt.Sprintf("large: %.1f M rows, %.0f MB on disk (`pg_dump -Fc` %.0f MB)", float64(db.rows)/1e6, float64(db.bytes)/1e6, float64(dump)/1e6)
}

// armLetter is the arm's letter (A, B, C, B0).
func armLetter(arm string) string { return strings.SplitN(armTitle[arm], ":", 2)[0] }

// megabytes formats n bytes in MB (kB below 1 MB).
func megabytes(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func total(s sample) time.Duration { return s.total }

func medianOf(ss []sample, f func(sample) time.Duration) time.Duration {
	var ds []time.Duration
	for _, s := range ss {
		ds = append(ds, f(s))
	}
	return benchcmd.Median(ds)
}

func medianInt(ss []sample, f func(sample) int64) int64 {
	return int64(medianOf(ss, func(s sample) time.Duration { return time.Duration(f(s)) }))
}

func loadText(loads []float64) string {
	if len(loads) == 0 {
		return "n/a"
	}
	s := slices.Clone(loads)
	sort.Float64s(s)
	return fmt.Sprintf("min %.2f, median %.2f, max %.2f", s[0], s[len(s)/2], s[len(s)-1])
}

func toolVersion(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return bin + " (version unknown)"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimPrefix(line, "Client Version: ")
}

// machine names the CPUs and the memory (from /proc, when readable).
func machine() string {
	text := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				text += " " + strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			text += fmt.Sprintf(", %d GiB", (kb+1<<19)>>20)
		}
	}
	return text
}
