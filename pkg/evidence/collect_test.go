package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/redact"
)

// crashRelease is revision 2 crash-looping in one pod and unable to start
// in the other (a missing ConfigMap), revision 1 healthy in two.
func crashRelease() *cluster {
	c := newCluster("example/web:crash")
	rel := c.rss[1].CreationTimestamp.Time
	c.pod("web-h2-a", 2, false, crashing(3, rel.Add(10*time.Second)))
	c.pod("web-h2-b", 2, false, configError(`configmap "web-config-v2" not found`))
	c.pod("web-h1-a", 1, true, running(t0))
	c.pod("web-h1-b", 1, true, running(t0))
	c.pod("web-h1-c", 1, true, running(t0))
	c.logs["web-h2-a/app"] = lines(
		stamp(rel.Add(8*time.Second), `level=info msg="starting" version=crash`),
		stamp(rel.Add(9*time.Second), `level=error msg="cannot start" password=hunter2 token s3cr3t-token`),
		stamp(rel.Add(9*time.Second), `panic: sandbox mode crash`),
		stamp(rel.Add(9*time.Second), `goroutine 1 [running]:`))
	c.logs["web-h1-a/app"] = lines(stamp(t0, `level=info msg="ready to serve requests"`))
	c.logs["web-h1-b/app"] = lines(stamp(t0, `level=info msg="ready to serve requests"`))
	c.event("web-h2", "ReplicaSet", "Normal", "SuccessfulCreate", "Created pod: web-h2-a", rel)
	c.event("web-h2-a", "Pod", "Warning", "BackOff", "Back-off restarting failed container app", rel.Add(12*time.Second))
	c.event("other-x", "Pod", "Warning", "BackOff", "not ours", rel)
	c.event("web", "Deployment", "Normal", "ScalingReplicaSet", "Scaled up replica set web-h2 to 1", rel)
	return c
}

func collect(t *testing.T, c *cluster, lim Limits, srcs ...Source) *Result {
	t.Helper()
	if len(srcs) == 0 {
		srcs = []Source{Workload{Clients: c.clients(), Namespace: "shop", Name: "web"}}
	}
	return (&Collect{Limits: lim, Sources: srcs, Redactor: redact.New("s3cr3t-token"), Incident: "inc-20261126-010000-0001"}).Run(context.Background())
}

func fileNames(m Manifest) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Name)
	}
	return out
}

func TestCollectCrashLoop(t *testing.T) {
	c := crashRelease()
	res := collect(t, c, DefaultLimits())
	m := res.Bundle.Manifest()
	dir := "workloads/shop/deployment-web/"
	have := strings.Join(fileNames(m), " ")
	for _, want := range []string{"workload.json", "revisions.json", "pods.json", "diff.txt", "events.txt", "logs/web-h2-a/app.log", "logs/web-h1-a/app.log", "logs/web-h1-b/app.log"} {
		if !strings.Contains(have, dir+want) {
			t.Errorf("bundle lacks %s: %s", want, have)
		}
	}
	for _, not := range []string{"web-h2-b/app.log", "web-h1-c", "previous"} {
		if strings.Contains(have, not) {
			t.Errorf("bundle has %s: %s", not, have)
		}
	}
	if m.StoppedBy != "" || len(m.Errors) != 0 {
		t.Errorf("stopped by %q, errors %v", m.StoppedBy, m.Errors)
	}
	if !hasSkip(m, "logs of pod web-h2-b container app", "never started: CreateContainerConfigError") {
		t.Errorf("skipped %+v: want the container that never started", m.Skipped)
	}
	all := allText(res.Bundle)
	for _, secret := range []string{"hunter2", "s3cr3t-token", "SECRET_VALUE", "last-applied"} {
		if strings.Contains(all, secret) {
			t.Errorf("the bundle holds %q", secret)
		}
	}
	for _, want := range []string{`msg="cannot start"`, "BackOff", "image: example/web:crash -> example/web:v1", `env MODE: "example/web:crash" -> "example/web:v1"`, `"role": "rolled-back revision"`, `"role": "healthy sample"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the bundle lacks %q", want)
		}
	}
	if ev, _ := res.Bundle.File(dir + "events.txt"); strings.Contains(string(ev), "not ours") {
		t.Errorf("events of other objects: %s", ev)
	}

	if len(res.Summary.Workloads) != 1 {
		t.Fatalf("summary %+v", res.Summary)
	}
	ws := res.Summary.Workloads[0]
	if ws.Revision != 2 || ws.Target != 1 || ws.Pods != 2 || ws.Failing != 2 || ws.Warnings != 1 {
		t.Errorf("summary %+v", ws)
	}
	if ws.FirstFailure == nil || ws.FirstFailureAfter.String() != "2s" || !strings.Contains(ws.FirstFailureWhat, "web-h2-b container app could not start") {
		t.Errorf("first failure %v %s %q, want the pod that could not start, 2s after the release", ws.FirstFailure, ws.FirstFailureAfter, ws.FirstFailureWhat)
	}
	if len(ws.Containers) != 2 {
		t.Fatalf("containers %+v", ws.Containers)
	}
	crash, cfg := ws.Containers[0], ws.Containers[1]
	if crash.Pod != "web-h2-a" || crash.Reason != "CrashLoopBackOff" || crash.ExitCode == nil || *crash.ExitCode != 1 || crash.ExitReason != "Error" || crash.Restarts != 3 {
		t.Errorf("crashing container %+v", crash)
	}
	if len(crash.FirstErrors) != 2 || !strings.HasPrefix(crash.FirstErrors[0], `level=error msg="cannot start"`) || crash.FirstErrors[1] != "panic: sandbox mode crash" {
		t.Errorf("first errors %q", crash.FirstErrors)
	}
	if cfg.Reason != "CreateContainerConfigError" || cfg.Message != `configmap "web-config-v2" not found` {
		t.Errorf("config error container %+v", cfg)
	}
	if len(ws.Changes) == 0 || ws.Changes[0].From != "example/web:v1" || ws.Changes[0].To != "example/web:crash" {
		t.Errorf("changes %+v", ws.Changes)
	}

	// Written, read back and checked.
	p := filepath.Join(t.TempDir(), "b.evidence.tar.gz")
	n, err := res.Bundle.WriteFile(p)
	if err != nil || n == 0 {
		t.Fatalf("write: %d, %v", n, err)
	}
	a, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Files) != len(m.Files) || a.Manifest.Incident != "inc-20261126-010000-0001" {
		t.Errorf("read back %d files of %d, manifest %+v", len(a.Files), len(m.Files), a.Manifest)
	}
}

func hasSkip(m Manifest, what, why string) bool {
	for _, s := range m.Skipped {
		if strings.Contains(s.What, what) && strings.Contains(s.Why, why) {
			return true
		}
	}
	return false
}

func allText(b *Bundle) string {
	var sb strings.Builder
	for _, f := range b.Manifest().Files {
		d, _ := b.File(f.Name)
		sb.Write(d)
	}
	return sb.String()
}

// TestCollectStopsAtTheBudget: 200 failing pods whose logs take an hour
// each cannot be read within 1s; the collection stops at the budget and the
// manifest lists every log it did not read (or, on a machine too slow to
// describe the pods in time, the source it left behind).
func TestCollectStopsAtTheBudget(t *testing.T) {
	c := newCluster("example/web:crash")
	rel := c.rss[1].CreationTimestamp.Time
	for i := range 200 {
		name := "web-h2-" + pad(i)
		c.pod(name, 2, false, crashing(2, rel.Add(10*time.Second)))
		c.logs[name+"/app"] = lines(stamp(rel, "panic: crash"))
	}
	c.delay = time.Hour
	lim := DefaultLimits()
	lim.Budget, lim.Pods = time.Second, 0
	res := collect(t, c, lim)
	m := res.Bundle.Manifest()
	logs, budget := 0, 0
	for _, f := range m.Files {
		if strings.Contains(f.Name, "/logs/") {
			logs++
		}
	}
	for _, s := range m.Skipped {
		if strings.HasPrefix(s.Why, StoppedByBudget) {
			budget++
		}
	}
	t.Logf("%d logs read, %d left out by the budget, collected in %s (deadline %s after the start)", logs, budget, m.Duration(), m.Deadline.Sub(m.Started))
	if m.StoppedBy != StoppedByBudget {
		t.Errorf("stopped by %q, want budget", m.StoppedBy)
	}
	if d := m.Deadline.Sub(m.Started); d != 900*time.Millisecond {
		t.Errorf("deadline %s after the start, want 900ms (the budget less a tenth for writing)", d)
	}
	if _, ok := res.Bundle.File("workloads/shop/deployment-web/pods.json"); !ok {
		if !hasSkip(m, "the rest of deployment shop/web", StoppedByBudget) {
			t.Errorf("no pods' status and no record of the source cut: %+v", m.Skipped)
		}
		return
	}
	// Each backing-off container has two runs to read: the current and,
	// when the kubelet has restarted it since, the previous one.
	if logs != 0 || budget != 400 {
		t.Errorf("%d logs read + %d left out by the budget, want all 400 left out (2 runs of 200 pods)", logs, budget)
	}
}

func pad(i int) string {
	return string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + string(rune('0'+i/676))
}

func TestCollectStopsAtTheSizeLimit(t *testing.T) {
	c := newCluster("example/web:crash")
	big := strings.Repeat("level=info msg=filler\n", 1500) // ~33 KB
	for i := range 5 {
		name := "web-h2-" + pad(i)
		c.pod(name, 2, false, crashing(1, t0))
		c.logs[name+"/app"] = big
	}
	lim := DefaultLimits()
	lim.Budget, lim.MaxSize = 5*time.Minute, 64<<10 // the size limit, not the budget, stops it
	m := collect(t, c, lim).Bundle.Manifest()
	if m.StoppedBy != StoppedBySize || m.Size() > lim.MaxSize {
		t.Errorf("stopped by %q with %d bytes, want size and at most %d", m.StoppedBy, m.Size(), lim.MaxSize)
	}
	truncated := false
	for _, f := range m.Files {
		truncated = truncated || f.Truncated
	}
	if !truncated || !hasSkip(m, "(beginning)", StoppedBySize) || !hasSkip(m, "/logs/", StoppedBySize) {
		t.Errorf("files %+v skipped %+v: want one log cut and the rest left out", m.Files, m.Skipped)
	}
}

func TestCollectPodsLimitAndNoDeployment(t *testing.T) {
	c := crashRelease()
	lim := DefaultLimits()
	lim.Pods, lim.HealthyPods = 1, 0
	res := collect(t, c, lim, Workload{Clients: c.clients(), Namespace: "shop", Name: "web"}, Workload{Clients: c.clients(), Namespace: "shop", Name: "nope"})
	m := res.Bundle.Manifest()
	if !hasSkip(m, "logs of 1 more pods of deployment shop/web revision 2", "limit: --evidence-pods 1") {
		t.Errorf("skipped %+v", m.Skipped)
	}
	if len(m.Errors) != 1 || !strings.Contains(m.Errors[0].Source, "deployment shop/nope") || !strings.Contains(m.Errors[0].Error, "not found") {
		t.Errorf("errors %+v", m.Errors)
	}
	if len(res.Summary.Workloads) != 2 || res.Summary.Workloads[1].Error == "" {
		t.Errorf("summary %+v", res.Summary.Workloads)
	}
}

func TestCollectAnalysis(t *testing.T) {
	a := Analysis{Verdict: promquery.Fail, Reason: "analysis failed: url http://x/healthz?token=abc: HTTP 500", Rounds: [][]promquery.Sample{
		{{Check: "pods", Value: 3, Outcome: promquery.Pass}, {Check: "url http://x/healthz?token=abc", Outcome: promquery.Fail, Detail: "HTTP 500"}},
	}}
	res := (&Collect{Limits: DefaultLimits(), Sources: []Source{a}}).Run(context.Background())
	f, ok := res.Bundle.File("guard/failed-checks.json")
	if !ok || !strings.Contains(string(f), "HTTP 500") || strings.Contains(string(f), "token=abc") {
		t.Errorf("failed checks %s", f)
	}
	var rounds Analysis
	d, _ := res.Bundle.File("guard/analysis.json")
	if err := json.Unmarshal(d, &rounds); err != nil || len(rounds.Rounds) != 1 {
		t.Errorf("analysis.json: %v %s", err, d)
	}
	s := res.Summary.Analysis
	if s == nil || s.Rounds != 1 || len(s.Failed) != 1 || s.Failed[0].Detail != "HTTP 500" {
		t.Errorf("summary %+v", s)
	}
}

func TestCollectOff(t *testing.T) {
	if (Limits{}).Enabled() || !DefaultLimits().Enabled() {
		t.Error("a zero budget must turn collection off, the default on")
	}
}

func TestSelectionCollectsTheUnhealthyOnly(t *testing.T) {
	c := crashRelease()
	healthy := c.d.DeepCopy()
	healthy.Name, healthy.UID = "api", "api-uid"
	healthy.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}
	if err := c.cs.Tracker().Add(healthy); err != nil {
		t.Fatal(err)
	}
	res := collect(t, c, DefaultLimits(), Selection{Clientset: c.cs, Namespace: "shop", Selector: "app=web"})
	if len(res.Summary.Workloads) != 1 || res.Summary.Workloads[0].Workload != "deployment/web" {
		t.Errorf("summary %+v: want web only", res.Summary.Workloads)
	}
}

// stuck is a source that ignores its context (CPU-bound work, a client
// that does not honour cancellation) until release is closed, then adds a
// file; done is closed when it returned.
type stuck struct{ release, done chan struct{} }

func (stuck) Describe() string { return "a stuck source" }

func (s stuck) start(_ context.Context, col *collector) (part, []logTask) {
	defer close(s.done)
	<-s.release
	col.addText("late.txt", "added after the deadline", false)
	col.fail("a stuck source", fmt.Errorf("too late"))
	return nil, nil
}

// TestCollectLeavesASlowSourceBehind: a source still busy at the deadline
// does not hold the collection (and so the rollback) past its budget: Run
// returns, the manifest says what was cut, and what the source adds later
// is not in the bundle.
func TestCollectLeavesASlowSourceBehind(t *testing.T) {
	s := stuck{release: make(chan struct{}), done: make(chan struct{})}
	lim := DefaultLimits()
	lim.Budget = 200 * time.Millisecond
	returned := make(chan *Result)
	go func() { returned <- (&Collect{Limits: lim, Sources: []Source{s}}).Run(context.Background()) }()
	var res *Result
	select {
	case res = <-returned:
	case <-time.After(time.Minute):
		t.Fatal("Run waited for a source that ignores its context")
	}
	close(s.release)
	<-s.done
	m := res.Bundle.Manifest()
	if m.StoppedBy != StoppedByBudget || len(m.Skipped) != 1 || m.Skipped[0].What != "the rest of a stuck source" || !strings.HasPrefix(m.Skipped[0].Why, StoppedByBudget) {
		t.Errorf("manifest %+v; want the source cut by the budget", m)
	}
	if _, ok := res.Bundle.File("late.txt"); ok || len(m.Files) != 0 || len(m.Errors) != 0 {
		t.Errorf("what the source added after the deadline is in the bundle: %+v", m)
	}
}

// TestCollectPreviousOfATerminatedContainer: the container had just exited
// when its status was read; the kubelet restarted it before its log was
// read, so the run with the crash is the previous one by then. Both runs
// are kept; a container that has not restarted yet has no previous run,
// and that is not reported as missing.
func TestCollectPreviousOfATerminatedContainer(t *testing.T) {
	c := newCluster("example/web:crash")
	rel := c.rss[1].CreationTimestamp.Time
	exited := corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}
	c.pod("web-h2-a", 2, false, exited) // restarted since: its crash is the previous run
	c.pod("web-h2-b", 2, false, exited) // not restarted yet: no previous run
	c.logs["web-h2-a/app"] = lines(stamp(rel.Add(9*time.Second), `level=info msg="starting" attempt=1`))
	c.logs["web-h2-a/app/previous"] = lines(stamp(rel.Add(8*time.Second), `panic: sandbox mode crash`))
	c.logs["web-h2-b/app"] = lines(stamp(rel.Add(8*time.Second), `panic: sandbox mode crash`))
	res := collect(t, c, DefaultLimits())
	m := res.Bundle.Manifest()
	dir := "workloads/shop/deployment-web/logs/"
	for _, f := range []string{"web-h2-a/app.log", "web-h2-a/app.previous.log", "web-h2-b/app.log"} {
		if data, ok := res.Bundle.File(dir + f); !ok || len(data) == 0 {
			t.Errorf("bundle lacks %s: %v", f, fileNames(m))
		}
	}
	if data, _ := res.Bundle.File(dir + "web-h2-a/app.previous.log"); !strings.Contains(string(data), "panic") {
		t.Errorf("the previous run of web-h2-a lacks its crash: %q", data)
	}
	for _, s := range m.Skipped {
		if strings.Contains(s.What, "previous run") {
			t.Errorf("a previous run that does not exist yet is reported: %+v", s)
		}
	}
}

// TestCollectPreviousOfABackingOffContainer: the container was backing off
// after a crash when its status was read. When the kubelet restarted it
// before its log was read, the crash is in the previous run and both runs
// are kept; while it still backs off the kubelet serves the crashed run as
// both the current and the previous log, and it is kept once; a current
// log read while the run went on, which crashed since, is the beginning of
// the previous run and is kept as that run only.
func TestCollectPreviousOfABackingOffContainer(t *testing.T) {
	crash := `panic: sandbox mode crash`
	for _, tc := range []struct {
		name              string
		current, previous string
		wantPrevious      bool
	}{
		{"restarted since", `level=info msg="starting" attempt=2`, crash, true},
		{"still backing off", "", crash, false},
		{"read while running, crashed since", "partial", crash, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster("example/web:crash")
			rel := c.rss[1].CreationTimestamp.Time
			c.pod("web-h2-a", 2, false, crashing(1, rel.Add(8*time.Second)))
			c.logs["web-h2-a/app"] = lines(stamp(rel.Add(9*time.Second), tc.current))
			switch tc.current {
			case "": // the kubelet serves the crashed run
				c.logs["web-h2-a/app"] = lines(stamp(rel.Add(8*time.Second), tc.previous))
			case "partial": // the crashed run's beginning, read before it crashed
				c.logs["web-h2-a/app"] = stamp(rel.Add(8*time.Second), "panic")
			}
			c.logs["web-h2-a/app/previous"] = lines(stamp(rel.Add(8*time.Second), tc.previous))
			res := collect(t, c, DefaultLimits())
			m := res.Bundle.Manifest()
			dir := "workloads/shop/deployment-web/logs/web-h2-a/"
			kept := ""
			for _, f := range []string{"app.log", "app.previous.log"} {
				data, _ := res.Bundle.File(dir + f)
				kept += string(data)
			}
			if !strings.Contains(kept, crash) {
				t.Errorf("the crashed run is not kept: %v", fileNames(m))
			}
			_, prev := res.Bundle.File(dir + "app.previous.log")
			_, cur := res.Bundle.File(dir + "app.log")
			if prev != tc.wantPrevious {
				t.Errorf("app.previous.log kept: %v, want %v (%v)", prev, tc.wantPrevious, fileNames(m))
			}
			if wantCur := tc.current != "partial"; cur != wantCur {
				t.Errorf("app.log kept: %v, want %v (%v)", cur, wantCur, fileNames(m))
			}
			var size int64
			for _, f := range m.Files {
				data, _ := res.Bundle.File(f.Name)
				size += int64(len(data))
			}
			if size != m.Size() {
				t.Errorf("manifest size %d, files %d", m.Size(), size)
			}
			if len(res.Summary.Workloads) != 1 || len(res.Summary.Workloads[0].Containers) != 1 {
				t.Fatalf("summary %+v; want one failing container", res.Summary)
			}
			if errs := res.Summary.Workloads[0].Containers[0].FirstErrors; len(errs) != 1 {
				t.Errorf("first errors %q; want the crash line once", errs)
			}
		})
	}
}
