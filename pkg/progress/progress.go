// Package progress is how rollback's libraries report what they are doing
// while they run: typed events that the caller renders. The CLI renders
// them as one updating line on a terminal, plain lines otherwise, or JSON
// lines (--progress json); the controller logs them as structured JSON.
// Libraries never print.
package progress

import (
	"sync"
	"time"
)

// Kind says what an event reports.
type Kind string

// The kinds of events.
const (
	// Info is a line worth showing: a phase started or ended.
	Info Kind = "info"
	// Warning is a problem that does not change the outcome.
	Warning Kind = "warning"
	// Update is the live state of something that takes a while (a rollout
	// being watched). A newer Update of the same Target replaces it: a
	// terminal shows it as one updating line.
	Update Kind = "update"
	// Plan is what a write is about to do; Data holds the plan.
	Plan Kind = "plan"
	// Written says that a change landed (an undo's PATCH, restored data, a
	// restart, reverted migrations).
	Written Kind = "written"
	// Verifying says that the verification of a change starts.
	Verifying Kind = "verifying"
	// Verdict ends a watch or a step; Data holds the result.
	Verdict Kind = "verdict"
)

// Event is one thing a running operation reports.
type Event struct {
	// Time is when it happened (the emitter's clock; the renderer fills it in when zero).
	Time time.Time `json:"time"`
	// Kind says what the event reports.
	Kind Kind `json:"kind"`
	// Source is the capability that reports it: rollout, configs, db,
	// guard, incident, drill, lock.
	Source string `json:"source"`
	// Target is what it is about: deployment/web, configmap/app-config, database, ...
	Target string `json:"target,omitempty"`
	// Message is one line for people, without a newline.
	Message string `json:"message"`
	// Elapsed is how long the reported operation has run (Update events).
	Elapsed time.Duration `json:"elapsed,omitempty"`
	// Data is the typed payload of Plan and Verdict events (a plan or a
	// result of the emitting package); it encodes as JSON.
	Data any `json:"data,omitempty"`
}

// Observer receives events. Implementations must be safe for concurrent
// use: bulk operations report from several goroutines.
type Observer interface {
	Observe(Event)
}

// Func adapts a function to an Observer.
type Func func(Event)

// Observe calls f(e).
func (f Func) Observe(e Event) { f(e) }

// Emit sends e to o; a nil o discards it.
func Emit(o Observer, e Event) {
	if o != nil {
		o.Observe(e)
	}
}

// Tee returns an Observer that sends every event to each non-nil observer in order.
func Tee(observers ...Observer) Observer {
	var keep []Observer
	for _, o := range observers {
		if o != nil {
			keep = append(keep, o)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return Func(func(e Event) {
		for _, o := range keep {
			o.Observe(e)
		}
	})
}

// Recorder keeps every event it observes; tests and callers that want the
// events after the fact use it.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Observe records e.
func (r *Recorder) Observe(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
