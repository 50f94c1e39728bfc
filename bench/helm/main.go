// Command helm benchmarks the recovery of a crash-looping Helm release:
// `rollback app status` (detection) + `rollback helm undo` against
// `helm upgrade --wait` (detection: Helm waits for its --timeout) +
// `helm rollback --wait`, on a real sandbox control plane, alternating the
// two in the same run, and writes the section "Helm release rollback" of
// docs/benchmarks.md.
//
//	go run ./bench/helm [-runs 3] [-helm-timeout 60s] [-out docs/benchmarks.md]
//
// Each run installs the chart e2e/helmenv/testdata/web at a good v1 in a fresh
// namespace (helm install --wait, then rollback helm mark-good), and times
// from the start of the crash-looping upgrade (T0) to the failure being
// known (detection) and from there to v1 running again (recovery).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/sandboxenv"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
)

const sectionTitle = "## Helm release rollback"

type options struct {
	runs        int
	helmTimeout time.Duration
	out         string
	rollback    string
	helm        string
	chart       string
}

// sample is one run of one method.
type sample struct {
	detect, recover time.Duration
}

func main() { benchcmd.Main("bench/helm", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench/helm", flag.ContinueOnError)
	o := options{}
	fs.IntVar(&o.runs, "runs", 3, "alternating runs per method")
	fs.DurationVar(&o.helmTimeout, "helm-timeout", 60*time.Second, "helm upgrade --timeout (Helm's default is 5m)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose \""+strings.TrimPrefix(sectionTitle, "## ")+"\" section is appended or replaced")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.rollback = benchcmd.EnvOr("ROLLBACK_BIN", "bin/rollback")
	o.helm = benchcmd.EnvOr("HELM_BIN", "bin/helm")
	o.chart = "e2e/helmenv/testdata/web"
	for _, p := range []string{o.rollback, o.helm, o.chart} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run make build and make deps)", p, err)
		}
	}
	started := time.Now()
	sb, err := sandboxenv.Start(ctx)
	if err != nil {
		return err
	}
	defer sb.Stop()
	res := map[string][]sample{}
	for i := 0; i < o.runs; i++ {
		order := []string{"helm", "rollback"}
		if i%2 == 1 {
			order = []string{"rollback", "helm"}
		}
		for _, m := range order {
			s, err := o.once(ctx, sb, m, i)
			if err != nil {
				return fmt.Errorf("run %d %s: %w", i+1, m, err)
			}
			fmt.Fprintf(os.Stderr, "run %d %s: detection %s, recovery %s\n", i+1, m, s.detect.Round(time.Millisecond), s.recover.Round(time.Millisecond))
			res[m] = append(res[m], s)
		}
	}
	return writeReport(o, res, started, time.Since(started))
}

// once runs one method on a fresh release.
func (o options) once(ctx context.Context, sb *sandboxenv.Sandbox, method string, i int) (sample, error) {
	ns := fmt.Sprintf("bench-helm-%s-%d-%d", method, i, time.Now().UnixNano()%100000)
	if _, err := sb.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return sample{}, err
	}
	defer sb.Clientset.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns, metav1.DeleteOptions{})
	kc := []string{"-n", ns, "--kubeconfig", sb.Kubeconfig}
	if _, err := benchcmd.Run(ctx, o.helm, append([]string{"install", "web", o.chart, "--set", "image=vibestack/app:v1", "--wait", "--timeout", "2m"}, kc...)...); err != nil {
		return sample{}, err
	}
	if _, err := benchcmd.Run(ctx, o.rollback, append([]string{"helm", "mark-good", "web", "--settle", "0s"}, kc...)...); err != nil {
		return sample{}, err
	}
	var s sample
	t0 := time.Now()
	switch method {
	case "helm":
		// Helm learns of the crash loop when its --wait gives up.
		if _, err := benchcmd.Run(ctx, o.helm, append([]string{"upgrade", "web", o.chart, "--set", "image=vibestack/app:crash", "--wait", "--timeout", o.helmTimeout.String()}, kc...)...); err == nil {
			return s, errors.New("helm upgrade --wait of a crash-looping release succeeded")
		}
		s.detect = time.Since(t0)
		if _, err := benchcmd.Run(ctx, o.helm, append([]string{"rollback", "web", "--wait", "--timeout", "2m"}, kc...)...); err != nil {
			return s, err
		}
	default:
		if _, err := benchcmd.Run(ctx, o.helm, append([]string{"upgrade", "web", o.chart, "--set", "image=vibestack/app:crash"}, kc...)...); err != nil {
			return s, err
		}
		// rollback app status fails fast (exit 3) on the crash loop.
		if code, err := benchcmd.Run(ctx, o.rollback, append([]string{"app", "status", "web", "--settle", "0s"}, kc...)...); code != 3 {
			return s, fmt.Errorf("rollback app status of a crash loop: exit %d (%v), want 3", code, err)
		}
		s.detect = time.Since(t0)
		if _, err := benchcmd.Run(ctx, o.rollback, append([]string{"helm", "undo", "web", "--yes", "--settle", "0s"}, kc...)...); err != nil {
			return s, err
		}
	}
	s.recover = time.Since(t0) - s.detect
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		return s, err
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "vibestack/app:v1" || d.Status.ReadyReplicas != *d.Spec.Replicas {
		return s, fmt.Errorf("after recovery: image %s, %d/%d ready", img, d.Status.ReadyReplicas, *d.Spec.Replicas)
	}
	return s, nil
}

func writeReport(o options, res map[string][]sample, started time.Time, total time.Duration) error {
	med := func(m string, f func(sample) time.Duration) time.Duration {
		var ds []time.Duration
		for _, s := range res[m] {
			ds = append(ds, f(s))
		}
		return benchcmd.Median(ds)
	}
	det := func(s sample) time.Duration { return s.detect }
	rec := func(s sample) time.Duration { return s.recover }
	tot := func(s sample) time.Duration { return s.detect + s.recover }
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", sectionTitle)
	fmt.Fprintf(&b, "Measured by `make bench-helm` (`go run ./bench/helm -runs %d -helm-timeout %s`) on %s: a fresh sandbox control plane, 2 CPUs (%s/%s, shared with other work), %s. Total run time %s.\n",
		o.runs, o.helmTimeout, started.UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.Version(), total.Round(time.Second))
	fmt.Fprintf(&b, "A crash-looping upgrade of the chart `e2e/helmenv/testdata/web` (2 replicas, `image=vibestack/app:crash`) from a good v1; runs alternate; medians.\n\n")
	fmt.Fprintf(&b, "| | A: `helm upgrade --wait --timeout %s`, then `helm rollback --wait` | B: `helm upgrade`, `rollback app status`, then `rollback helm undo --yes --settle 0s` | ratio B/A |\n|---|---|---|---|\n", o.helmTimeout)
	for _, row := range []struct {
		name string
		f    func(sample) time.Duration
	}{{"detection (T0 -> failure known)", det}, {"recovery (failure known -> v1 running, Helm history updated)", rec}, {"total", tot}} {
		a, bb := med("helm", row.f), med("rollback", row.f)
		fmt.Fprintf(&b, "| %s | %.2f s | %.2f s | %.2f |\n", row.name, a.Seconds(), bb.Seconds(), bb.Seconds()/a.Seconds())
	}
	fmt.Fprintf(&b, "\nSamples (detection + recovery, seconds):\n\n")
	for _, m := range []string{"helm", "rollback"} {
		var parts []string
		for _, s := range res[m] {
			parts = append(parts, fmt.Sprintf("%.2f+%.2f", s.detect.Seconds(), s.recover.Seconds()))
		}
		fmt.Fprintf(&b, "- %s: %s\n", map[string]string{"helm": "A helm", "rollback": "B rollback"}[m], strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\nHelm's detection is its --timeout by construction (`--wait` only gives up then; with the default 5m it is 5 minutes); rollback's detection is the fast-fail watch of `rollback app status` (first CrashLoopBackOff of the new revision). Helm's rollback here goes to N-1, which happens to be the good v1; `rollback helm undo` goes to the last revision it verified, whatever N-1 is, and verifies the result.\n")
	return mdsection.Replace(o.out, sectionTitle, b.String())
}
