package command

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// Progress renderings (--progress).
const (
	progressAuto = "auto" // a terminal: one updating line; else plain lines
	progressText = "text" // plain lines
	progressJSON = "json" // one JSON object per event
	progressNone = "none" // nothing
)

// renderer shows a library's progress events on stderr: on a terminal an
// Update event replaces the previous one (one updating line with the time
// elapsed), elsewhere each changed Update is a line; --progress json writes
// every event as one JSON line. It is safe for concurrent use.
type renderer struct {
	mu      sync.Mutex
	w       io.Writer
	mode    string
	tty     bool
	now     func() time.Time
	pending bool              // an updating line is on screen
	last    map[string]string // the last Update message printed per target
}

// newRenderer returns the renderer of mode for w.
func newRenderer(w io.Writer, mode string, tty bool, now func() time.Time) *renderer {
	if mode == progressAuto && !tty {
		mode = progressText
	}
	return &renderer{w: w, mode: mode, tty: tty && mode == progressAuto, now: now, last: map[string]string{}}
}

// Observe renders one event.
func (r *renderer) Observe(e progress.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	switch r.mode {
	case progressNone:
		return
	case progressJSON:
		b, err := json.Marshal(e)
		if err != nil {
			b, _ = json.Marshal(progress.Event{Time: e.Time, Kind: e.Kind, Source: e.Source, Target: e.Target, Message: e.Message})
		}
		fmt.Fprintf(r.w, "%s\n", b)
		return
	}
	// Messages quote the cluster (pod messages, Events): no control
	// character of theirs reaches the terminal.
	e.Message = termsafe.Text(e.Message)
	if e.Kind == progress.Update {
		if r.tty {
			fmt.Fprintf(r.w, "\r\033[K%s (%s)", termsafe.String(e.Message), rollout.Duration(e.Elapsed))
			r.pending = true
			return
		}
		if r.last[e.Target] == e.Message {
			return
		}
		r.last[e.Target] = e.Message
		fmt.Fprintln(r.w, e.Message)
		return
	}
	if e.Message == "" && e.Kind != progress.Plan {
		return
	}
	if r.pending {
		fmt.Fprint(r.w, "\r\033[K")
		r.pending = false
	}
	if p, ok := e.Data.(*rollout.Plan); ok && e.Kind == progress.Plan {
		rollout.WritePlan(r.w, p)
		return
	}
	fmt.Fprintln(r.w, e.Message)
}

// observer returns the progress observer of a command: the renderer of the
// --progress flag on stderr.
func (f *Factory) observer() progress.Observer {
	f.renderOnce.Do(func() {
		f.render = newRenderer(f.IO.ErrOut, f.Progress, f.IO.ErrTTY, f.Clock.Now)
	})
	return f.render
}
