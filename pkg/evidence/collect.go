package evidence

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/redact"
)

// logWorkers is how many container logs are read at once.
const logWorkers = 4

// Source is one thing evidence is collected from: a workload (Workload), the
// database (Database), guard's analysis (Analysis).
type Source interface {
	// Describe names the source in the manifest and in messages.
	Describe() string
	// start reads the source and adds its files; it returns the part that
	// fills the summary and the container logs to read next.
	start(ctx context.Context, c *collector) (part, []logTask)
}

// part is what a source learned, for the summary.
type part interface {
	summarize(s *Summary)
}

// Collect is one collection of evidence.
type Collect struct {
	// Limits bound it in time and size.
	Limits Limits
	// Sources are what to collect from.
	Sources []Source
	// Redactor removes secrets from every file (nil: the credentials
	// pkg/redact recognises only).
	Redactor *redact.Redactor
	// Clock stamps the manifest (clock.RealClock{} when nil).
	Clock clock.Clock
	// Incident names the incident in the manifest.
	Incident string
}

// Result is what a collection gathered.
type Result struct {
	// Bundle holds the files and the manifest.
	Bundle *Bundle
	// Summary is what the report's root cause analysis shows.
	Summary Summary
}

// collector is the state of one Run.
type collector struct {
	lim    Limits
	bundle *Bundle
	red    *redact.Redactor
	clk    clock.Clock
}

// Run collects from every source until done or until the budget (less a
// reserve for writing the bundle) runs out; it never fails: what it could
// not read is in the manifest's Errors, what it left out in Skipped.
func (c *Collect) Run(ctx context.Context) *Result {
	clk := c.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	lim := c.Limits.withDefaults()
	col := &collector{lim: lim, bundle: newBundle(lim.MaxSize), red: c.Redactor, clk: clk}
	start := clk.Now()
	budget := lim.Budget - lim.reserve()
	m := &col.bundle.manifest
	m.Incident, m.Started, m.Deadline, m.Limits = c.Incident, start, start.Add(budget), lim
	for _, s := range c.Sources {
		m.Sources = append(m.Sources, s.Describe())
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	// Each source reads on its own; one still reading (or redacting) at the
	// deadline is left behind: what it adds later is dropped (the bundle is
	// sealed) and the manifest says it was cut.
	var mu sync.Mutex
	parts := make([]part, len(c.Sources))
	tasks := make([][]logTask, len(c.Sources))
	finished := make([]bool, len(c.Sources))
	var wg sync.WaitGroup
	for i, s := range c.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, ts := s.start(cctx, col)
			mu.Lock()
			parts[i], tasks[i], finished[i] = p, ts, true
			mu.Unlock()
		}()
	}
	waitUntil(cctx, &wg)
	var done []part
	var all []logTask
	mu.Lock()
	for i, s := range c.Sources {
		if !finished[i] {
			col.bundle.skip("the rest of "+s.Describe(), StoppedByBudget+": still reading at the deadline")
			continue
		}
		if parts[i] != nil {
			done = append(done, parts[i])
		}
		all = append(all, tasks[i]...)
	}
	mu.Unlock()
	late := col.readLogs(cctx, all)
	for _, t := range all {
		if t.sameAs != "" {
			col.bundle.dropSameRun(t.file, t.sameAs)
		}
	}
	if cctx.Err() != nil && ctx.Err() == nil {
		col.bundle.stoppedBy(StoppedByBudget)
	}
	col.bundle.seal(late)
	res := &Result{Bundle: col.bundle}
	for _, p := range done {
		p.summarize(&res.Summary)
	}
	col.bundle.mu.Lock()
	m.Finished = clk.Now()
	col.bundle.mu.Unlock()
	return res
}

// readLogs reads the tasks' logs, most important first, logWorkers at a
// time, until ctx ends; what is left is recorded as cut by the budget. The
// reads still going on at the deadline are left behind and returned, for
// the caller to seal the bundle against what they add later.
func (col *collector) readLogs(ctx context.Context, tasks []logTask) (late []logTask) {
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].rank < tasks[j].rank })
	next := make(chan logTask)
	var mu sync.Mutex
	reading := map[string]logTask{}
	var wg sync.WaitGroup
	for range min(logWorkers, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				mu.Lock()
				reading[t.file] = t
				mu.Unlock()
				col.readLog(ctx, t)
				mu.Lock()
				delete(reading, t.file)
				mu.Unlock()
			}
		}()
	}
	i := 0
feed:
	for ; i < len(tasks); i++ {
		if col.bundle.full() {
			break
		}
		select {
		case next <- tasks[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	why := StoppedByBudget + ": not read before the deadline"
	if col.bundle.full() {
		why = StoppedBySize + ": the size limit was reached"
	}
	for j := i; j < len(tasks); j++ {
		col.bundle.skip(tasks[j].what(), why)
	}
	if waitUntil(ctx, &wg) {
		return nil
	}
	mu.Lock()
	for _, t := range reading {
		late = append(late, t)
	}
	mu.Unlock()
	sort.Slice(late, func(i, j int) bool { return late[i].file < late[j].file })
	return late
}

// waitUntil waits for wg or for ctx to end, and reports whether wg was done.
func waitUntil(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// addJSON adds v as indented JSON, redacted.
func (col *collector) addJSON(name string, v any) {
	b, err := marshalIndent(v)
	if err != nil {
		col.bundle.fail(name, err)
		return
	}
	col.addText(name, string(b), false)
}

// addText adds text, redacted; keepTail keeps its end when it is too big.
func (col *collector) addText(name, text string, keepTail bool) bool {
	return col.bundle.add(name, []byte(col.red.String(text)), keepTail)
}

// fail records a failed read of source.
func (col *collector) fail(source string, err error) {
	col.bundle.fail(source, fmt.Errorf("%s", col.red.String(err.Error())))
}

// now returns the collector's clock's time.
func (col *collector) now() time.Time { return col.clk.Now() }
