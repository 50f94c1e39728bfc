package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/rollout"
)

type options struct {
	runs, p3Runs, p3Deployments, p6Deployments int
	out, only                                  string
	rollback, kubectl, script                  string
}

// env is a running benchmark: the sandbox and the results so far.
type env struct {
	o   options
	sb  *sandboxenv.Sandbox
	cs  kubernetes.Interface
	rep report
}

func benchmark(ctx context.Context, o options) error {
	start := time.Now()
	logf("starting a sandbox")
	sb, err := sandboxenv.Start(ctx)
	if err != nil {
		return err
	}
	defer sb.Stop()
	e := &env{o: o, sb: sb, cs: sb.Clientset}
	e.rep.started = start
	parts := []struct {
		name string
		run  func(context.Context) error
	}{{"p1", e.p1}, {"p2", e.p2}, {"p3", e.p3}, {"p6", e.p6}}
	for _, p := range parts {
		if o.only != "" && !strings.Contains(o.only, p.name) {
			continue
		}
		if err := p.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	e.rep.took = time.Since(start)
	return e.rep.write(o)
}

func logf(format string, args ...any) {
	fmt.Printf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// result of one timed process.
type result struct {
	took   time.Duration
	code   int
	maxRSS int64         // KiB, the kernel's high-water mark
	cpu    time.Duration // user + system
	// Peaks of RssAnon (heap, stacks) and RssFile (pages of the executable)
	// sampled from /proc every 10 ms; only for timedSampled.
	peakAnon, peakFile int64 // KiB
	out                string
}

// controlPlaneCPU is the CPU time the sandbox process has used so far, or 0
// when it cannot be read (then the report leaves the CPU columns out).
func (e *env) controlPlaneCPU() time.Duration {
	d, err := e.sb.CPUTime()
	if err != nil {
		logf("control-plane cpu: %v", err)
	}
	return d
}

// timed runs a process with the sandbox's admin kubeconfig.
func (e *env) timed(ctx context.Context, name string, args ...string) result {
	return e.run(ctx, false, name, args...)
}

// timedSampled is timed, also sampling the process's RssAnon and RssFile.
func (e *env) timedSampled(ctx context.Context, name string, args ...string) result {
	return e.run(ctx, true, name, args...)
}

func (e *env) run(ctx context.Context, sample bool, name string, args ...string) result {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cmd.Environ(), "KUBECONFIG="+e.sb.Kubeconfig)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	var r result
	err := cmd.Start()
	if err == nil {
		done := make(chan struct{})
		var sampled sync.WaitGroup
		if sample {
			sampled.Add(1)
			go func() {
				defer sampled.Done()
				samplePeaks(cmd.Process.Pid, done, &r.peakAnon, &r.peakFile)
			}()
		}
		err = cmd.Wait()
		close(done)
		sampled.Wait()
	}
	r.took, r.out = time.Since(start), out.String()
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss
		}
	} else if err != nil {
		r.code = -1
	}
	return r
}

// samplePeaks records the largest RssAnon and RssFile of pid until done.
func samplePeaks(pid int, done <-chan struct{}, anon, file *int64) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				var kb int64
				switch {
				case strings.HasPrefix(line, "RssAnon:"):
					fmt.Sscan(strings.TrimPrefix(line, "RssAnon:"), &kb)
					*anon = max(*anon, kb)
				case strings.HasPrefix(line, "RssFile:"):
					fmt.Sscan(strings.TrimPrefix(line, "RssFile:"), &kb)
					*file = max(*file, kb)
				}
			}
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// namespace creates a fresh namespace.
func (e *env) namespace(ctx context.Context, prefix string) (string, error) {
	ns, err := e.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create namespace: %w", err)
	}
	return ns.Name, nil
}

func (e *env) deleteNamespace(ns string) {
	_ = e.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
}

func (e *env) get(ctx context.Context, ns, name string) *appsv1.Deployment {
	d, err := e.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return d
}

// waitRevision waits until the controller observed revision rev.
func (e *env) waitRevision(ctx context.Context, ns, name string, rev int) error {
	want := fmt.Sprint(rev)
	return benchcmd.Poll(ctx, 2*time.Minute, 50*time.Millisecond, fmt.Sprintf("%s/%s revision %d", ns, name, rev), func() bool {
		d := e.get(ctx, ns, name)
		return d != nil && d.Annotations["deployment.kubernetes.io/revision"] == want && d.Status.ObservedGeneration >= d.Generation
	})
}

// waitRolledOut waits until every replica of the current revision is ready.
func (e *env) waitRolledOut(ctx context.Context, ns, name string) error {
	return benchcmd.Poll(ctx, 2*time.Minute, 50*time.Millisecond, ns+"/"+name+" rolled out", func() bool {
		d := e.get(ctx, ns, name)
		if d == nil || d.Status.ObservedGeneration < d.Generation {
			return false
		}
		r := *d.Spec.Replicas
		return d.Status.UpdatedReplicas == r && d.Status.ReadyReplicas == r && d.Status.AvailableReplicas == r && d.Status.Replicas == r
	})
}

// ship ships image as revision rev; good revisions are waited for and stamped.
func (e *env) ship(ctx context.Context, ns, name, image string, rev int, good bool) error {
	if rev == 1 {
		d := deploymentSpec(ns, name, image, 3)
		if _, err := e.cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	} else if err := setImage(ctx, e.cs, ns, name, image, "release "+image); err != nil {
		return err
	}
	if err := e.waitRevision(ctx, ns, name, rev); err != nil {
		return err
	}
	if !good {
		return nil
	}
	if err := e.waitRolledOut(ctx, ns, name); err != nil {
		return err
	}
	return rollout.MarkGood(ctx, rollout.NewClients(e.cs, ns), name, time.Now())
}

// countingConfig returns a copy of cfg whose requests are counted in n.
func countingConfig(cfg *rest.Config, n *atomic.Int64) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 100, 200
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return rt.RoundTrip(r)
		})
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// parallel runs f for 0..n-1 with at most limit at once and returns the first error.
func parallel(n, limit int, f func(i int) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
