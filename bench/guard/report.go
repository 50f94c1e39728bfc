package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
)

const sectionTitle = "## Automated rollback (guard)"

// writeReport appends (or replaces) the guard section of o.out.
func writeReport(o options, res map[string][]sample, started time.Time, total time.Duration) error {
	var b strings.Builder
	kver := "unknown"
	if out, err := exec.Command(o.kubectl, "version", "--client").Output(); err == nil {
		kver = strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "Client Version: ")
	}
	fmt.Fprintf(&b, "%s\n\n", sectionTitle)
	fmt.Fprintf(&b, "Measured by `make bench-guard` (`go run ./bench/guard -runs %d`) on %s: a fresh sandbox control plane, a real\n", o.runs, started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Prometheus 2.42 (scrape and file_sd refresh every 1 s) scraping the sandbox Service endpoint, 20 req/s of load per\n")
	fmt.Fprintf(&b, "application, %d CPUs (%s, shared with other work), %s, kubectl %s. Total run time %s.\n", runtime.NumCPU(), runtime.GOARCH, goVersion(), kver, total.Round(time.Second))
	fmt.Fprintf(&b, "Each run: a 2-replica Deployment (progressDeadlineSeconds 600) at a good v1 stamped known-good, then a bad\n")
	fmt.Fprintf(&b, "release; T0 is the write of the bad release. Detection = T0 to the bad verdict; recovery = bad verdict to the\n")
	fmt.Fprintf(&b, "good revision rolled out again. Runs alternate guard / readiness-only; medians, every sample in seconds.\n\n")
	b.WriteString("| case | guard: detection | guard: recovery | readiness-only: detection | readiness-only: recovery |\n|---|---|---|---|---|\n")
	for _, c := range []string{"http500", "crash"} {
		g, r := res[c+"/guard"], res[c+"/readiness"]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", caseName(c), medDetect(g), medRecover(g), medDetect(r), medRecover(r))
	}
	b.WriteString("\nGuard command (per run, right after the release, as a CI step):\n\n")
	b.WriteString("```\nrollback guard web -n NS --bake 30s --interval 2s --settle 0s --timeout 2m \\\n  --prom-url http://127.0.0.1:PORT \\\n")
	fmt.Fprintf(&b, "  --prom-query '%s' --max 0.05 -o json\n```\n\n", errorRate)
	b.WriteString("Readiness-only (what `helm upgrade --wait` / `--rollback-on-failure` look at): `kubectl rollout status deployment/web`\n")
	fmt.Fprintf(&b, "capped at %.0f s; when it reports a failure, `kubectl rollout undo` + `kubectl rollout status` (the recovery).\n\n", capWait.Seconds())
	b.WriteString("Samples (seconds):\n\n")
	for _, k := range []string{"http500/guard", "http500/readiness", "crash/guard", "crash/readiness"} {
		var ds, rs []string
		for _, s := range res[k] {
			ds = append(ds, strings.TrimSuffix(s.detectString(), " s"))
			rs = append(rs, strings.TrimSuffix(s.recoverString(), " s"))
		}
		fmt.Fprintf(&b, "- %s detection: %s; recovery: %s\n", k, strings.Join(ds, ", "), strings.Join(rs, ", "))
	}
	b.WriteString(`
Notes: readiness-only never detects the http500 release at all: its pods are Ready, ` + "`kubectl rollout status`" + ` exits 0,
and the release stays, answering 500 to every request. For the crash loop, kubectl waits for the 600 s progress
deadline (Helm waits for its --timeout), so every readiness-only run hits the 120 s cap; those runs go concurrently on
their own Deployments. guard fails fast on CrashLoopBackOff with the watch code of ` + "`rollback app status`" + `, and
detects the http500 release on the first analysis round whose 10 s error-rate window shows the 5xx (failure limit 0,
interval 2 s). Recovery uses --settle 0s; the default --settle 10s adds 10 s of restart watching to the recovery.
`)
	return mdsection.Replace(o.out, sectionTitle, b.String())
}

func caseName(c string) string {
	if c == "crash" {
		return "crash-looping release (`:crash-v2`)"
	}
	return "release answering 500 (`:http500-v2`)"
}

func medDetect(ss []sample) string {
	if len(ss) == 0 {
		return "-"
	}
	var ds []time.Duration
	capped, never := 0, 0
	for _, s := range ss {
		switch {
		case s.capped:
			capped++
		case !s.detected:
			never++
		default:
			ds = append(ds, s.detection)
		}
	}
	switch {
	case never == len(ss):
		return "**never** (rollout status exits 0)"
	case capped == len(ss):
		return fmt.Sprintf(">= %.0f s (cap; progress deadline 600 s)", capWait.Seconds())
	case capped+never > 0:
		return fmt.Sprintf("%.2f s (%d of %d runs not detected)", benchcmd.Median(ds).Seconds(), capped+never, len(ss))
	}
	return fmt.Sprintf("%.2f s", benchcmd.Median(ds).Seconds())
}

func medRecover(ss []sample) string {
	var ds []time.Duration
	for _, s := range ss {
		if s.recovered {
			ds = append(ds, s.recovery)
		}
	}
	if len(ds) == 0 && len(ss) > 0 && ss[0].capped {
		return "none within the cap (the rollback starts after the deadline)"
	}
	if len(ds) == 0 {
		return "none: the bad release stays"
	}
	return fmt.Sprintf("%.2f s", benchcmd.Median(ds).Seconds())
}
