package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
)

var createOpts = metav1.CreateOptions{}

// report collects the samples of every part.
type report struct {
	mu                                   sync.Mutex
	started                              time.Time
	took                                 time.Duration
	p1Kubectl, p1Rollback0, p1Rollback10 []time.Duration
	p2Kubectl, p2Rollback                []time.Duration
	p3Rollback, p3Loop                   []time.Duration
	p3RollbackCPU, p3LoopCPU             []cpuSample
	p5RSS                                []int64
	p5Baseline                           int64
	p5Anon, p5File                       int64 // KiB, peaks sampled from /proc
	p3Requests                           int64
	p3Counted                            int
	p6                                   *scaleRun
}

// cpuSample is the CPU time one P3 arm cost: the tool's processes and the
// sandbox control plane (one process: etcd, apiserver, controllers, pods).
type cpuSample struct{ tool, controlPlane time.Duration }

func medianCPU(c []cpuSample) (tool, controlPlane time.Duration) {
	var t, cp []time.Duration
	for _, x := range c {
		t, cp = append(t, x.tool), append(cp, x.controlPlane)
	}
	return benchcmd.Median(t), benchcmd.Median(cp)
}

const sectionTitle = "## Application rollback"

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func samples(d []time.Duration) string {
	var s []string
	for _, x := range d {
		s = append(s, fmt.Sprintf("%.2f", x.Seconds()))
	}
	return strings.Join(s, ", ")
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a.Seconds()/b.Seconds())
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// markdown renders the section.
func (r *report) markdown(o options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("%s", sectionTitle)
	w("")
	only, others := "", ""
	if o.only != "" {
		only = " -only " + o.only
		others = " The lines of the other parts are kept from the run before."
	}
	w("Measured by `make bench` (`go run ./bench/app%s -runs %d -p3-runs %d`) on %s: a fresh sandbox control plane (real etcd, kube-apiserver,", only, o.runs, o.p3Runs, r.started.UTC().Format("2006-01-02 15:04 UTC"))
	w("kube-controller-manager, simulated pods Ready after 200 ms), %d CPUs (%s, shared with other work), %s, kubectl %s. Total run time %s.", runtime.NumCPU(), runtime.GOARCH, runtime.Version(), kubectlVersion(o.kubectl), r.took.Round(time.Second))
	w("Runs alternate A/B; medians, with every sample in seconds.%s", others)
	w("")
	w("| | A | B | median A | median B | ratio B/A | goal |")
	w("|---|---|---|---|---|---|---|")
	if len(r.p1Kubectl) > 0 {
		k, r0, r10 := benchcmd.Median(r.p1Kubectl), benchcmd.Median(r.p1Rollback0), benchcmd.Median(r.p1Rollback10)
		w("| P1 undo of a 3-replica Deployment (v3 crash -> v2) | kubectl rollout history + undo --to-revision + status | `rollback app undo --yes --settle 0s` | %s | %s | %s | <= 0.5: %s |", secs(k), secs(r0), ratio(r0, k), met(r0.Seconds() <= 0.5*k.Seconds()))
		w("| P1, with the default 10 s settle window | same | `rollback app undo --yes` | %s | %s | %s | (verifies 10 s longer by design) |", secs(k), secs(r10), ratio(r10, k))
	}
	if len(r.p2Rollback) > 0 {
		k, rb := benchcmd.Median(r.p2Kubectl), benchcmd.Median(r.p2Rollback)
		kc := secs(k)
		if k >= kubectlCap {
			kc = ">= " + secs(kubectlCap) + " (cap)"
		}
		w("| P2 crash loop starts -> failure reported (progressDeadlineSeconds 600) | `kubectl rollout status` | `rollback app status` | %s | %s | %s | B < 15 s: %s |", kc, secs(rb), ratio(rb, k), met(rb < 15*time.Second))
	}
	if len(r.p3Rollback) > 0 {
		l, rb := benchcmd.Median(r.p3Loop), benchcmd.Median(r.p3Rollback)
		w("| P3 undo of %d Deployments in 10 namespaces | sequential loop of `scripts/rollback_k8s.sh` | `rollback app undo -l ... -A --yes` | %s | %s | %s | <= 0.1: %s |", o.p3Deployments, secs(l), secs(rb), ratio(rb, l), met(rb.Seconds() <= 0.1*l.Seconds()))
	}
	w("")
	if r.p3Counted > 0 {
		per := float64(r.p3Requests) / float64(r.p3Counted)
		w("- P3 API requests: %d for %d Deployments = **%.2f per Deployment** (goal <= 5: %s), counted with a wrapping RoundTripper in an in-process run of the same `BulkUndo` code (lists, watches, patches and known-good stamps).", r.p3Requests, r.p3Counted, per, met(per <= 5))
	}
	if len(r.p3RollbackCPU) > 0 && len(r.p3LoopCPU) > 0 {
		bt, bcp := medianCPU(r.p3RollbackCPU)
		lt, lcp := medianCPU(r.p3LoopCPU)
		l := benchcmd.Median(r.p3Loop)
		n := float64(runtime.NumCPU())
		floor := (bt + bcp).Seconds() / n
		w("- P3 CPU (medians): the bulk undo cost %.2f CPU-s in the sandbox control plane (etcd, apiserver, controllers and pod simulator share one process) and %.2f CPU-s in `rollback`; the loop cost %.2f and %.2f. On %d CPUs the bulk run's CPU alone takes at least %.2f s of wall time, so on this machine the ratio cannot go below %.2f / %.2f = **%.2f** (control plane alone: %.2f) however the tool is written; with the control plane on its own cores it would be bound by the %.2f CPU-s of the tool and the controllers' latency instead.",
			bcp.Seconds(), bt.Seconds(), lcp.Seconds(), lt.Seconds(), runtime.NumCPU(), floor, floor, l.Seconds(), floor/l.Seconds(), bcp.Seconds()/n/l.Seconds(), bt.Seconds())
	}
	if len(r.p5RSS) > 0 {
		var peak int64
		for _, x := range r.p5RSS {
			peak = max(peak, x)
		}
		w("- P5 peak RSS of `rollback` during P3: **%.1f MiB** (max of %d runs; goal <= 80 MB: %s), from the kernel's rusage maxrss. Sampled from /proc every 10 ms, the peaks were RssAnon %.1f MiB (heap, stacks) and RssFile %.1f MiB (pages of the executable mapped from the page cache). For scale: `rollback --version` alone peaks at %.1f MiB.", float64(peak)/1024, len(r.p5RSS), met(float64(peak)*1024 <= 80e6), float64(r.p5Anon)/1024, float64(r.p5File)/1024, float64(r.p5Baseline)/1024)
	}
	if s := r.p6; s != nil {
		n := float64(s.deployments)
		toolMS := s.tool.Seconds() * 1000 / n
		rssMB := float64(s.maxRSS) * 1024 / 1e6
		per := float64(s.requests) / float64(max(s.counted, 1))
		w("- P6, scale: one `rollback app undo -l ... -A --yes --settle 0s` of **%d Deployments in 50 namespaces** (1 replica each) took %s. The tool's CPU: %.2f CPU-s = **%.2f ms per Deployment** (goal <= 5: %s); its peak RSS **%.1f MB** (goal <= 120 MB: %s; RssAnon %.1f MiB, RssFile %.1f MiB); API requests **%.2f per Deployment** (%d for %d, counted in-process as for P3; goal <= 2.5: %s). The control plane spent %.2f CPU-s (%.2f ms per Deployment): on %d CPUs the floor of the wall time is %.1f s.",
			s.deployments, secs(s.took), s.tool.Seconds(), toolMS, met(toolMS <= 5), rssMB, met(rssMB <= 120), float64(s.anon)/1024, float64(s.file)/1024,
			per, s.requests, s.counted, met(per <= 2.5), s.controlPlane.Seconds(), s.controlPlane.Seconds()*1000/n, runtime.NumCPU(), (s.tool+s.controlPlane).Seconds()/float64(runtime.NumCPU()))
	}
	w("")
	w("Samples (seconds):")
	w("")
	for _, s := range []struct {
		name string
		d    []time.Duration
	}{
		{"P1 kubectl sequence", r.p1Kubectl}, {"P1 rollback --settle 0s", r.p1Rollback0}, {"P1 rollback (settle 10s)", r.p1Rollback10},
		{"P2 kubectl rollout status", r.p2Kubectl}, {"P2 rollback app status", r.p2Rollback},
		{"P3 rollback_k8s.sh loop", r.p3Loop}, {"P3 rollback undo -l", r.p3Rollback},
	} {
		if len(s.d) > 0 {
			w("- %s: %s", s.name, samples(s.d))
		}
	}
	w("")
	w("Notes: P1 times only the commands; a human also reads the history table and picks a revision, which")
	w("`rollback` does from its known-good stamps. In P2 every kubectl run hits the 120 s cap (kubectl waits for the")
	w("600 s progress deadline), so the kubectl runs go concurrently on their own Deployments. P3 uses --settle 0s on both")
	w("sides (the loop would otherwise spend 10 s per Deployment in the settle window); the same %d Deployments are broken", o.p3Deployments)
	w("again (a new crash-looping revision) before every run.")
	return b.String()
}

func kubectlVersion(bin string) string {
	out, err := exec.Command(bin, "version", "--client", "-o", "yaml").Output()
	if err != nil {
		return "(not found)"
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "gitVersion:") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "gitVersion:"))
		}
	}
	return "?"
}

// write replaces (or appends) the section in o.out. A run of some parts
// (-only) keeps the other parts' lines from the section already there.
func (r *report) write(o options) error {
	section := r.markdown(o)
	if o.only != "" {
		old, err := mdsection.Get(o.out, sectionTitle)
		if err != nil {
			return err
		}
		section = keepOtherParts(old, section, o.only)
	}
	fmt.Println(section)
	return mdsection.Replace(o.out, sectionTitle, section)
}
