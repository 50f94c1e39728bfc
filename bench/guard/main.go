// Command guard benchmarks `rollback guard` against helm-style
// readiness-only waiting (`kubectl rollout status`, the default progress
// deadline of 600 s) on a real sandbox control plane with a real Prometheus,
// for an http500 release and a crash-looping release, and writes the section
// "Automated rollback (guard)" of docs/benchmarks.md.
//
//	go run ./bench/guard [-runs 3] [-out docs/benchmarks.md]
//
// Each run deploys a good v1 (stamped known-good) in a fresh namespace,
// starts 20 req/s of load, ships the bad release and times from the write
// of the bad release (T0) to the bad verdict (detection) and from there to
// the good revision running again (recovery).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/e2e/promenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/rollout"
)

// capWait caps the readiness-only wait (kubectl would wait for the 600 s
// progress deadline).
const capWait = 120 * time.Second

// errorRate is the analysis query of the guard runs.
const errorRate = `(sum(rate(http_requests_total{namespace="{{.namespace}}",code=~"5.."}[10s])) or vector(0)) / sum(rate(http_requests_total{namespace="{{.namespace}}"}[10s]))`

type options struct {
	runs     int
	out      string
	rollback string
	kubectl  string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/guard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench/guard", flag.ContinueOnError)
	o := options{}
	fs.IntVar(&o.runs, "runs", 3, "alternating runs per case and method")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose \"Automated rollback (guard)\" section is appended or replaced")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.rollback = benchcmd.EnvOr("ROLLBACK_BIN", "bin/rollback")
	o.kubectl = benchcmd.EnvOr("KUBECTL", "kubectl")
	if _, err := os.Stat(o.rollback); err != nil {
		return fmt.Errorf("%s: %w (run make build)", o.rollback, err)
	}
	started := time.Now()
	logf("starting the sandbox")
	sb, err := sandboxenv.Start(ctx)
	if err != nil {
		return err
	}
	defer sb.Stop()
	b := &bench{o: o, sb: sb}
	if b.journalDir, err = os.MkdirTemp("", "bench-guard-journal-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.journalDir)
	dir, err := os.MkdirTemp("", "bench-guard-prom-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("starting prometheus")
	prom, err := promenv.StartServer(ctx, dir, b.targetList)
	if err != nil {
		return err
	}
	defer prom.Stop()
	b.prom = prom

	res := map[string][]sample{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	add := func(key string, s sample) {
		mu.Lock()
		defer mu.Unlock()
		res[key] = append(res[key], s)
	}
	for i := 0; i < o.runs; i++ {
		// The readiness-only crash runs wait for the cap (120 s): they run
		// concurrently, each on its own Deployment, while the rest alternates.
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := b.readiness(ctx, "crash", fmt.Sprintf("r%d", i))
			if err != nil {
				logf("readiness crash run %d: %v", i, err)
				return
			}
			add("crash/readiness", s)
		}(i)
	}
	for i := 0; i < o.runs; i++ {
		for _, c := range []string{"http500", "crash"} {
			methods := []string{"guard", "readiness"}
			if c == "crash" {
				methods = []string{"guard"}
			}
			if i%2 == 1 {
				for l, r := 0, len(methods)-1; l < r; l, r = l+1, r-1 {
					methods[l], methods[r] = methods[r], methods[l]
				}
			}
			for _, m := range methods {
				var s sample
				var err error
				if m == "guard" {
					s, err = b.guard(ctx, c, fmt.Sprintf("g%d", i))
				} else {
					s, err = b.readiness(ctx, c, fmt.Sprintf("r%d", i))
				}
				if err != nil {
					return fmt.Errorf("%s %s run %d: %w", c, m, i, err)
				}
				logf("%s %s run %d: detection %s, recovery %s", c, m, i, s.detectString(), s.recoverString())
				add(c+"/"+m, s)
			}
		}
	}
	wg.Wait()
	return writeReport(o, res, started, time.Since(started))
}

// sample is one timed run.
type sample struct {
	detected  bool
	capped    bool
	detection time.Duration
	recovered bool
	recovery  time.Duration
	note      string
}

func (s sample) detectString() string {
	switch {
	case s.capped:
		return fmt.Sprintf(">= %.0f s (cap)", capWait.Seconds())
	case !s.detected:
		return "never (" + s.note + ")"
	}
	return fmt.Sprintf("%.2f s", s.detection.Seconds())
}

func (s sample) recoverString() string {
	if !s.recovered {
		return "-"
	}
	return fmt.Sprintf("%.2f s", s.recovery.Seconds())
}

type bench struct {
	o          options
	sb         *sandboxenv.Sandbox
	prom       *promenv.Server
	journalDir string

	mu      sync.Mutex
	targets []promenv.Target
}

func (b *bench) targetList() []promenv.Target {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]promenv.Target(nil), b.targets...)
}

// app deploys web v1 in a fresh namespace, stamps it known-good, starts
// load and (withProm) waits until Prometheus has its traffic.
func (b *bench) app(ctx context.Context, tag string, withProm bool) (string, context.CancelFunc, error) {
	cs := b.sb.Clientset
	nsObj, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-guard-" + tag + "-"}}, metav1.CreateOptions{})
	if err != nil {
		return "", nil, err
	}
	ns := nsObj.Name
	replicas, deadline := int32(2), int32(600)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, ProgressDeadlineSeconds: &deadline,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/web:v1"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return "", nil, err
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{}); err != nil {
		return "", nil, err
	}
	clients := rollout.NewClients(cs, ns)
	if err := until(ctx, time.Minute, func() error { return rollout.MarkGood(ctx, clients, "web", time.Now()) }); err != nil {
		return "", nil, fmt.Errorf("v1 of %s: %w", ns, err)
	}
	url, err := b.sb.Endpoint(ctx, ns, "web")
	if err != nil {
		return "", nil, err
	}
	loadCtx, stop := context.WithCancel(ctx)
	go promenv.Load(loadCtx, url+"/", 20)
	if withProm {
		b.mu.Lock()
		b.targets = append(b.targets, promenv.Target{Addr: promenv.HostOf(url), Labels: map[string]string{"namespace": ns}})
		b.mu.Unlock()
		if err := b.prom.WaitData(ctx, fmt.Sprintf(`sum(rate(http_requests_total{namespace=%q}[10s])) > 0`, ns), time.Minute); err != nil {
			stop()
			return "", nil, err
		}
	}
	return ns, stop, nil
}

func badImage(c string) string {
	if c == "crash" {
		return "example/web:crash-v2"
	}
	return "example/web:http500-v2"
}

func (b *bench) release(ctx context.Context, ns, image string) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	_, err := b.sb.Clientset.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// guard ships the bad release and runs `rollback guard` right after it,
// as a CI step would.
func (b *bench) guard(ctx context.Context, c, tag string) (sample, error) {
	ns, stop, err := b.app(ctx, tag, c == "http500")
	if err != nil {
		return sample{}, err
	}
	defer stop()
	t0 := time.Now()
	if err := b.release(ctx, ns, badImage(c)); err != nil {
		return sample{}, err
	}
	cmd := exec.CommandContext(ctx, b.o.rollback, "guard", "web", "-n", ns, "--kubeconfig", b.sb.Kubeconfig,
		"--bake", "30s", "--interval", "2s", "--settle", "0s", "--timeout", "2m",
		"--prom-url", b.prom.URL, "--prom-query", errorRate, "--max", "0.05", "-o", "json")
	cmd.Env = append(os.Environ(), "ROLLBACK_JOURNAL_DIR="+b.journalDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	procStart := time.Now()
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return sample{}, err
	}
	var r guard.Result
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		return sample{}, fmt.Errorf("decode guard output: %v\nstderr:\n%s", jerr, stderr.String())
	}
	if r.Verdict != guard.VerdictRolledBack {
		return sample{}, fmt.Errorf("guard verdict %s (%s), want rolled-back\nstderr:\n%s", r.Verdict, r.Reason, stderr.String())
	}
	offset := procStart.Sub(t0)
	return sample{detected: true, detection: offset + time.Duration(r.Detection), recovered: true, recovery: time.Duration(r.Recovery)}, nil
}

// readiness ships the bad release and waits like `helm upgrade --wait`
// (readiness only): `kubectl rollout status`, capped; when it reports the
// failure, `kubectl rollout undo` and wait again, as `helm --atomic` would.
func (b *bench) readiness(ctx context.Context, c, tag string) (sample, error) {
	ns, stop, err := b.app(ctx, tag, false)
	if err != nil {
		return sample{}, err
	}
	defer stop()
	t0 := time.Now()
	if err := b.release(ctx, ns, badImage(c)); err != nil {
		return sample{}, err
	}
	kctx, cancel := context.WithTimeout(ctx, capWait)
	defer cancel()
	status := exec.CommandContext(kctx, b.o.kubectl, "--kubeconfig", b.sb.Kubeconfig, "-n", ns, "rollout", "status", "deployment/web")
	err = status.Run()
	elapsed := time.Since(t0)
	switch {
	case kctx.Err() != nil:
		return sample{capped: true, detection: elapsed}, nil
	case err == nil:
		return sample{note: fmt.Sprintf("rollout status exit 0 after %.2f s: readiness passes", elapsed.Seconds())}, nil
	}
	detected := time.Now()
	undo := exec.CommandContext(ctx, b.o.kubectl, "--kubeconfig", b.sb.Kubeconfig, "-n", ns, "rollout", "undo", "deployment/web")
	if out, err := undo.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("kubectl rollout undo: %v: %s", err, out)
	}
	wait := exec.CommandContext(ctx, b.o.kubectl, "--kubeconfig", b.sb.Kubeconfig, "-n", ns, "rollout", "status", "deployment/web", "--timeout=2m")
	if out, err := wait.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("kubectl rollout status after undo: %v: %s", err, out)
	}
	return sample{detected: true, detection: elapsed, recovered: true, recovery: time.Since(detected)}, nil
}

func until(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/guard: "+format+"\n", args...)
}

func goVersion() string { return runtime.Version() }
