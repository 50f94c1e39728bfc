// Command kinds benchmarks the rollback of StatefulSets and DaemonSets
// against kubectl on a real sandbox control plane (the statefulset and
// daemonset controllers), alternating the two in the same run, and writes
// the section "StatefulSet and DaemonSet rollback" of docs/benchmarks.md.
//
//	go run ./bench/kinds [-runs 3] [-kubectl-timeout 60s] [-out docs/benchmarks.md]
//
// Undo: a 3-replica OrderedReady StatefulSet at a known-good v1 ships a
// crash-looping v2; once its pod db-2 crash-loops (T0), A is the seed
// runbook's kubectl sequence (rollout history, rollout undo, rollout status,
// which stays stuck until its --timeout (kubernetes/kubernetes#67250), the
// manual `kubectl delete pod db-2`, rollout status again), B is `rollback
// app undo sts/db --yes`; each ends when the set is at v1, every pod Ready.
//
// Detection: a DaemonSet (3 nodes) at v1 ships a crash-looping v2 (T0); A
// is `kubectl rollout status --timeout`, B `rollback app status`; each ends
// when the command exits with the failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

const sectionTitle = "## StatefulSet and DaemonSet rollback"

type options struct {
	runs           int
	kubectlTimeout time.Duration
	out            string
	rollback       string
	kubectl        string
}

// results are the durations of each method of each part, in run order.
type results map[string][]time.Duration

func main() { benchcmd.Main("bench/kinds", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench/kinds", flag.ContinueOnError)
	o := options{}
	fs.IntVar(&o.runs, "runs", 3, "alternating runs per method and part")
	fs.DurationVar(&o.kubectlTimeout, "kubectl-timeout", 60*time.Second, "kubectl rollout status --timeout (the seed runbook's --watch has none)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose \""+strings.TrimPrefix(sectionTitle, "## ")+"\" section is appended or replaced")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.rollback = benchcmd.EnvOr("ROLLBACK_BIN", "bin/rollback")
	o.kubectl = benchcmd.EnvOr("KUBECTL", "/usr/bin/kubectl")
	for _, p := range []string{o.rollback, o.kubectl} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run make build; kubectl must be installed)", p, err)
		}
	}
	started := time.Now()
	sb, err := sandboxenv.Start(ctx)
	if err != nil {
		return err
	}
	defer sb.Stop()
	res := results{}
	for i := 0; i < o.runs; i++ {
		order := []string{"kubectl", "rollback"}
		if i%2 == 1 {
			order = []string{"rollback", "kubectl"}
		}
		for _, m := range order {
			d, err := guarded(func() (time.Duration, error) { return o.undo(ctx, sb, m, i) })
			if err != nil {
				return fmt.Errorf("run %d undo %s: %w", i+1, m, err)
			}
			fmt.Fprintf(os.Stderr, "run %d statefulset undo %s: %s\n", i+1, m, d.Round(time.Millisecond))
			res["undo-"+m] = append(res["undo-"+m], d)
		}
		for _, m := range order {
			d, err := guarded(func() (time.Duration, error) { return o.detect(ctx, sb, m, i) })
			if err != nil {
				return fmt.Errorf("run %d detect %s: %w", i+1, m, err)
			}
			fmt.Fprintf(os.Stderr, "run %d daemonset detection %s: %s\n", i+1, m, d.Round(time.Millisecond))
			res["detect-"+m] = append(res["detect-"+m], d)
		}
	}
	return writeReport(o, res, started, time.Since(started))
}

// namespace creates a fresh namespace for one run and returns it with its
// cleanup.
func namespace(ctx context.Context, sb *sandboxenv.Sandbox, part, method string, i int) (string, func(), error) {
	ns := fmt.Sprintf("bench-%s-%s-%d-%d", part, method, i, time.Now().UnixNano()%100000)
	if _, err := sb.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return "", nil, err
	}
	return ns, func() {
		_ = sb.Clientset.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns, metav1.DeleteOptions{})
	}, nil
}

// undo times one recovery of the stuck StatefulSet.
func (o options) undo(ctx context.Context, sb *sandboxenv.Sandbox, method string, i int) (time.Duration, error) {
	ns, cleanup, err := namespace(ctx, sb, "sts", method, i)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	kc := []string{"-n", ns, "--kubeconfig", sb.Kubeconfig}
	t := benchT{}
	sb.CreateStatefulSet(t, ns, "db", "vibestack/db:v1", sandboxenv.StatefulSetOptions{})
	sb.WaitStatefulSetRolledOut(t, ns, "db")
	if _, err := benchcmd.Run(ctx, o.rollback, append([]string{"app", "mark-good", "sts/db"}, kc...)...); err != nil {
		return 0, err
	}
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:crash-v2")
	if err := benchcmd.WaitFor(ctx, 2*time.Minute, "db-2 crash-looping at v2", func() bool {
		p, err := sb.Clientset.CoreV1().Pods(ns).Get(ctx, "db-2", metav1.GetOptions{})
		return err == nil && p.Spec.Containers[0].Image == "vibestack/db:crash-v2" && crashLooping(p)
	}); err != nil {
		return 0, err
	}
	t0 := time.Now()
	switch method {
	case "kubectl":
		for _, args := range [][]string{{"rollout", "history", "sts/db"}, {"rollout", "undo", "sts/db"}} {
			if _, err := benchcmd.Run(ctx, o.kubectl, append(args, kc...)...); err != nil {
				return 0, err
			}
		}
		// Stuck: the controller waits for db-2, which crash-loops at v2.
		if _, err := benchcmd.Run(ctx, o.kubectl, append([]string{"rollout", "status", "sts/db", "--timeout", o.kubectlTimeout.String()}, kc...)...); err == nil {
			return 0, errors.New("kubectl rollout status of the stuck statefulset succeeded: it was not stuck")
		}
		if _, err := benchcmd.Run(ctx, o.kubectl, append([]string{"delete", "pod", "db-2"}, kc...)...); err != nil {
			return 0, err
		}
		if _, err := benchcmd.Run(ctx, o.kubectl, append([]string{"rollout", "status", "sts/db", "--timeout", "2m"}, kc...)...); err != nil {
			return 0, err
		}
	default:
		if _, err := benchcmd.Run(ctx, o.rollback, append([]string{"app", "undo", "sts/db", "--yes", "--settle", "0s", "--journal-dir", filepath.Join(os.TempDir(), "bench-kinds-journal")}, kc...)...); err != nil {
			return 0, err
		}
	}
	d := time.Since(t0)
	s := sb.StatefulSet(t, ns, "db")
	if img := s.Spec.Template.Spec.Containers[0].Image; img != "vibestack/db:v1" || s.Status.ReadyReplicas != 3 || s.Status.UpdatedReplicas != 3 {
		return 0, fmt.Errorf("after recovery: image %s, %d ready, %d updated", img, s.Status.ReadyReplicas, s.Status.UpdatedReplicas)
	}
	return d, nil
}

// detect times one detection of the broken DaemonSet rollout.
func (o options) detect(ctx context.Context, sb *sandboxenv.Sandbox, method string, i int) (time.Duration, error) {
	ns, cleanup, err := namespace(ctx, sb, "ds", method, i)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	kc := []string{"-n", ns, "--kubeconfig", sb.Kubeconfig}
	t := benchT{}
	sb.CreateDaemonSet(t, ns, "agent", "vibestack/agent:v1", sandboxenv.DaemonSetOptions{})
	sb.WaitDaemonSetRolledOut(t, ns, "agent")
	t0 := time.Now()
	sb.SetDaemonSetImage(t, ns, "agent", "vibestack/agent:crash-v2")
	switch method {
	case "kubectl":
		if _, err := benchcmd.Run(ctx, o.kubectl, append([]string{"rollout", "status", "ds/agent", "--timeout", o.kubectlTimeout.String()}, kc...)...); err == nil {
			return 0, errors.New("kubectl rollout status of a crash-looping daemonset succeeded")
		}
	default:
		if code, err := benchcmd.Run(ctx, o.rollback, append([]string{"app", "status", "ds/agent", "--settle", "0s"}, kc...)...); code != 3 {
			return 0, fmt.Errorf("rollback app status of a crash loop: exit %d (%v), want 3", code, err)
		}
	}
	return time.Since(t0), nil
}

// crashLooping reports whether a container of p is in CrashLoopBackOff or
// restarted after an error.
func crashLooping(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
			return true
		}
		if cs.RestartCount > 0 && !cs.Ready {
			return true
		}
	}
	return false
}

func writeReport(o options, res results, started time.Time, total time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", sectionTitle)
	fmt.Fprintf(&b, "Measured by `make bench-kinds` (`go run ./bench/kinds -runs %d -kubectl-timeout %s`) on %s: a fresh sandbox control plane (real statefulset and daemonset controllers), kubectl 1.32, 2 CPUs (%s/%s, shared with other work), %s. Total run time %s. Runs alternate A and B; medians.\n\n",
		o.runs, o.kubectlTimeout, started.UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.Version(), total.Round(time.Second))
	fmt.Fprintf(&b, "| | A: kubectl | B: rollback | ratio B/A |\n|---|---|---|---|\n")
	rows := []struct{ name, part, a, bb string }{
		{"StatefulSet undo (3 replicas, OrderedReady, db-2 crash-looping at v2 -> v1 rolled out, every pod Ready)", "undo",
			fmt.Sprintf("`rollout history`, `rollout undo`, `rollout status --timeout %s` (stuck), `delete pod db-2`, `rollout status`", o.kubectlTimeout),
			"`rollback app undo sts/db --yes --settle 0s`"},
		{"DaemonSet detection (3 nodes, crash-looping v2 shipped -> the command exits with the failure)", "detect",
			fmt.Sprintf("`rollout status --timeout %s`", o.kubectlTimeout), "`rollback app status ds/agent --settle 0s` (exit 3)"},
	}
	for _, r := range rows {
		a, bb := benchcmd.Median(res[r.part+"-kubectl"]), benchcmd.Median(res[r.part+"-rollback"])
		fmt.Fprintf(&b, "| %s | %s: %.2f s | %s: %.2f s | %.3f |\n", r.name, r.a, a.Seconds(), r.bb, bb.Seconds(), bb.Seconds()/a.Seconds())
	}
	fmt.Fprintf(&b, "\nWithout its wait for the --timeout, A's undo takes %.2f s: what costs the time is knowing that the set is stuck and which pod to delete, not the commands.\n",
		(benchcmd.Median(res["undo-kubectl"]) - o.kubectlTimeout).Seconds())
	fmt.Fprintf(&b, "\nSamples (seconds):\n\n")
	for _, k := range []string{"undo-kubectl", "undo-rollback", "detect-kubectl", "detect-rollback"} {
		var parts []string
		for _, d := range res[k] {
			parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
		}
		fmt.Fprintf(&b, "- %s: %s\n", k, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\nkubectl's numbers are its --timeout by construction: `rollout status` of the stuck StatefulSet never succeeds (the controller waits for the crash-looping pod forever, kubernetes/kubernetes#67250), and of a crash-looping DaemonSet it only gives up at the timeout (the seed runbook's `--watch` has none, so an operator waits until they notice). rollback's undo deletes the one stuck pod itself (UID precondition, recorded in the journal), and its status fails on the first CrashLoopBackOff of the new revision.\n")
	return mdsection.Replace(o.out, sectionTitle, b.String())
}

// benchT is the testing.TB the sandbox's fixtures need outside a test: a
// fatal failure panics with fixtureFailure, which guarded turns into an
// error.
type benchT struct {
	testing.TB
}

type fixtureFailure struct{ msg string }

func (benchT) Helper()                             {}
func (benchT) Logf(string, ...any)                 {}
func (benchT) Fatalf(format string, args ...any)   { panic(fixtureFailure{fmt.Sprintf(format, args...)}) }
func (t benchT) Errorf(format string, args ...any) { t.Fatalf(format, args...) }
func (t benchT) Fatal(args ...any)                 { t.Fatalf("%s", fmt.Sprint(args...)) }
func (benchT) Cleanup(func())                      {}
func (benchT) Name() string                        { return "bench-kinds" }

// guarded runs f, returning a fixture's fatal failure as an error.
func guarded(f func() (time.Duration, error)) (d time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			ff, ok := r.(fixtureFailure)
			if !ok {
				panic(r)
			}
			err = errors.New(ff.msg)
		}
	}()
	return f()
}
