package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/redact"
)

// Defaults of a Dispatcher.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultAttempts = 3
	DefaultBackoff  = 500 * time.Millisecond
)

// Dispatcher sends events to its channels in the background, with a timeout
// per attempt and retries with doubling backoff. Send never blocks; events
// to one channel are delivered in the order they were sent. The zero value
// with Channels set is ready to use.
type Dispatcher struct {
	// Channels receive every event (a channel may decline kinds it does not want).
	Channels []Channel
	// Timeout bounds one attempt (default 5s).
	Timeout time.Duration
	// Attempts is how many times delivery is tried (default 3).
	Attempts int
	// Backoff is the delay before the first retry, doubled each time (default 500ms).
	Backoff time.Duration
	// Clock times backoff and Results; clock.RealClock{} when nil.
	Clock clock.Clock
	// OnResult is called once per (event, channel) when delivered or given
	// up, possibly from another goroutine.
	OnResult func(Result)
	// Redactor removes secrets from every event before it is sent (its
	// summary, reason, fields, ...), besides the channels' own URLs and
	// keys and the credentials pkg/redact recognises; nil knows none.
	Redactor *redact.Redactor

	once    sync.Once
	mu      sync.Mutex
	queues  []*queue
	pending sync.WaitGroup
	results []Result
	red     *redact.Redactor
}

// secretHolder is implemented by channels whose URL or key is secret.
type secretHolder interface{ secrets() []string }

// queue holds one channel's undelivered events.
type queue struct {
	ch      Channel
	events  []Event
	running bool
}

// wanter is implemented by channels that skip some kinds of events.
type wanter interface{ Wants(kind string) bool }

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Timeout <= 0 {
			d.Timeout = DefaultTimeout
		}
		if d.Attempts <= 0 {
			d.Attempts = DefaultAttempts
		}
		if d.Backoff <= 0 {
			d.Backoff = DefaultBackoff
		}
		if d.Clock == nil {
			d.Clock = clock.RealClock{}
		}
		d.red = redact.New(d.Redactor.Secrets()...)
		for _, ch := range d.Channels {
			if s, ok := ch.(secretHolder); ok {
				d.red.Add(s.secrets()...)
			}
			d.queues = append(d.queues, &queue{ch: ch})
		}
	})
}

// Send queues ev for every channel and returns at once.
func (d *Dispatcher) Send(ev Event) {
	d.init()
	ev = redactEvent(d.red, ev)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range d.queues {
		if w, ok := q.ch.(wanter); ok && !w.Wants(ev.Kind) {
			continue
		}
		q.events = append(q.events, ev)
		d.pending.Add(1)
		if !q.running {
			q.running = true
			go d.drain(q)
		}
	}
}

// drain delivers q's events in order until it is empty.
func (d *Dispatcher) drain(q *queue) {
	for {
		d.mu.Lock()
		if len(q.events) == 0 {
			q.running = false
			d.mu.Unlock()
			return
		}
		ev := q.events[0]
		q.events = q.events[1:]
		d.mu.Unlock()

		r := d.deliver(q.ch, ev)
		d.mu.Lock()
		d.results = append(d.results, r)
		d.mu.Unlock()
		if d.OnResult != nil {
			d.OnResult(r)
		}
		d.pending.Done()
	}
}

// deliver tries to send ev to ch up to Attempts times.
func (d *Dispatcher) deliver(ch Channel, ev Event) Result {
	r := Result{Channel: ch.Name(), Kind: ev.Kind}
	wait := d.Backoff
	for r.Attempts = 1; ; r.Attempts++ {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		err := ch.Send(ctx, ev)
		cancel()
		if err == nil {
			r.Err = ""
			break
		}
		r.Err = d.red.String(err.Error())
		var de *deliveryError
		if r.Attempts >= d.Attempts || (errors.As(err, &de) && de.permanent) {
			break
		}
		<-d.Clock.After(wait)
		wait *= 2
	}
	r.Time = d.Clock.Now().UTC()
	return r
}

// Wait waits until every queued event is delivered or given up, or ctx
// ends, and returns the results so far (deliveries still running when ctx
// ends go on in the background).
func (d *Dispatcher) Wait(ctx context.Context) []Result {
	d.init()
	done := make(chan struct{})
	go func() {
		d.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return d.Results()
}

// Results returns the results so far, in the order deliveries finished.
func (d *Dispatcher) Results() []Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Result(nil), d.results...)
}

// redactEvent returns ev with every text redacted.
func redactEvent(r *redact.Redactor, ev Event) Event {
	ev.Summary, ev.Reason, ev.Actor = r.String(ev.Summary), r.String(ev.Reason), r.String(ev.Actor)
	ev.ReportURL, ev.Step, ev.App = r.String(ev.ReportURL), r.String(ev.Step), r.String(ev.App)
	fields := make([]Field, len(ev.Fields))
	for i, f := range ev.Fields {
		fields[i] = Field{Name: r.String(f.Name), Value: r.String(f.Value)}
	}
	ev.Fields = fields
	if ev.Escalation != nil {
		ev.Escalation = r.Value(ev.Escalation).([]string)
	}
	return ev
}
