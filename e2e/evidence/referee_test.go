//go:build e2e

package evidence_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// referee polls `kubectl logs --timestamps` (current and --previous run) of
// the bad pods while they live, and keeps every run it saw: what the pods
// logged, as kubectl tells it, to hold the evidence against after the pods
// are gone. A run is named by its first line (the container's "starting"
// line, timestamped, with its attempt number).
type referee struct {
	ns   string
	pods []string

	mu    sync.Mutex
	runs  map[string]map[string][]string // pod -> first line -> the longest run seen
	reads map[string]int                 // pod -> logs kubectl printed
	fails map[string]string              // pod -> kubectl's last error

	cancel context.CancelFunc
	done   chan struct{}
}

// watchLogs starts polling the logs of container "app" of pods in ns.
func watchLogs(t *testing.T, ns string, pods []string) *referee {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &referee{ns: ns, pods: pods, runs: map[string]map[string][]string{}, reads: map[string]int{}, fails: map[string]string{},
		cancel: cancel, done: make(chan struct{})}
	go r.loop(ctx)
	t.Cleanup(r.stop)
	// The first round, so that every pod's log is seen before the rollback.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if r.seenAll() {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kubectl logs never printed the logs of every pod of %v: %v", pods, r.fails)
	return r
}

func (r *referee) seenAll() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pods {
		if r.reads[p] == 0 {
			return false
		}
	}
	return true
}

func (r *referee) loop(ctx context.Context) {
	defer close(r.done)
	for ctx.Err() == nil {
		for _, pod := range r.pods {
			for _, prev := range []string{"--previous=false", "--previous=true"} {
				out, err := sb.KubectlContext(ctx, "logs", "-n", r.ns, pod, "-c", "app", "--timestamps", prev)
				r.record(pod, out, err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *referee) record(pod, out string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.fails[pod] = strings.TrimSpace(out)
		return
	}
	lines := splitLines(out)
	if len(lines) == 0 {
		return
	}
	r.reads[pod]++
	if r.runs[pod] == nil {
		r.runs[pod] = map[string][]string{}
	}
	if len(lines) > len(r.runs[pod][lines[0]]) {
		r.runs[pod][lines[0]] = lines
	}
}

// stop ends the polling.
func (r *referee) stop() {
	r.cancel()
	<-r.done
}

// failure is kubectl's last error for pod ("" when none).
func (r *referee) failure(pod string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fails[pod]
}

// check holds each bad pod's logs in the bundle against kubectl: every run
// of the bundle that kubectl saw must agree line for line with it (the
// shorter one a prefix of the longer: kubectl may have read a run before or
// after the collection did), and at least one run of each pod must be one
// kubectl saw. want must appear in each pod's kept logs.
func (r *referee) check(t *testing.T, k *kept, wdir string, want string) {
	t.Helper()
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pod := range r.pods {
		matched, kept := 0, ""
		for _, f := range []string{"app.log", "app.previous.log"} {
			text, ok := k.files[wdir+"/logs/"+pod+"/"+f]
			if !ok {
				continue
			}
			kept += text
			lines := splitLines(text)
			if len(lines) == 0 {
				continue
			}
			seen, ok := r.runs[pod][lines[0]]
			if !ok {
				t.Logf("pod %s: the run of %s (%s) was not seen by kubectl", pod, f, lines[0])
				continue
			}
			matched++
			for i := range min(len(lines), len(seen)) {
				if lines[i] != seen[i] {
					t.Errorf("pod %s %s line %d:\n kept    %q\n kubectl %q", pod, f, i+1, lines[i], seen[i])
					break
				}
			}
		}
		if matched == 0 && !laterRuns(kept, r.runs[pod]) {
			t.Errorf("pod %s: no run in the evidence is one kubectl logs printed (kubectl saw %d runs, the evidence has %v)", pod, len(r.runs[pod]), k.names())
		}
		if !strings.Contains(kept, want) {
			t.Errorf("pod %s: the kept logs do not hold %q:\n%s", pod, want, kept)
		}
	}
}

// laterRuns reports whether every run in kept started after the last run
// kubectl saw: the container restarted between kubectl's last poll and the
// collection, and the kubelet keeps only the last ended run, so the runs
// kubectl saw are gone from the API while the pod still lives.
func laterRuns(kept string, seen map[string][]string) bool {
	var last time.Time
	for first := range seen {
		if ts, ok := lineTime(first); ok && ts.After(last) {
			last = ts
		}
	}
	any := false
	for _, line := range splitLines(kept) {
		if !strings.Contains(line, `msg="starting"`) {
			continue
		}
		ts, ok := lineTime(line)
		if !ok || !ts.After(last) {
			return false
		}
		any = true
	}
	return any && !last.IsZero()
}

// lineTime is the timestamp kubectl logs --timestamps puts first on a line.
func lineTime(line string) (time.Time, bool) {
	stamp, _, ok := strings.Cut(line, " ")
	if !ok {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	return ts, err == nil
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
