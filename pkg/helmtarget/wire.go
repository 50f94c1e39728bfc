package helmtarget

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// The operations of a Request.
const (
	OpPlan       = "plan"
	OpUndo       = "undo"
	OpMarkGood   = "mark-good"
	OpMarkFailed = "mark-failed"
)

// AgentArgs are the arguments of the rollback-helm command that serves one
// Request on its stdin.
var AgentArgs = []string{"helm", "agent"}

// Request is one operation for the rollback-helm program.
type Request struct {
	// Op is plan, undo, mark-good or mark-failed.
	Op  string `json:"op"`
	Ref Ref    `json:"ref"`
	// Options are the operation's settings.
	Options Options `json:"options"`
	// Revision and Reason are mark-failed's.
	Revision int    `json:"revision,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Flags are the cluster flags (kubectl's --kubeconfig, --context,
	// --token, --as, ...). They travel on stdin, never on the command
	// line, where every user of the machine can read a token.
	Flags []string `json:"flags,omitempty"`
}

// Message is one JSON line of the rollback-helm program's answer: a
// progress event, a journal entry, or the end.
type Message struct {
	Event   *progress.Event `json:"event,omitempty"`
	Journal *journal.Entry  `json:"journal,omitempty"`
	Done    *Done           `json:"done,omitempty"`
}

// Done ends an answer: the operation's result and its error with the
// error's outcome kind.
type Done struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Kind is the outcome kind of Error: error, refused, unhealthy, timeout.
	Kind string `json:"kind,omitempty"`
}

// Err returns the error Done carries, with its outcome kind; nil when none.
func (d *Done) Err() error {
	if d.Error == "" {
		return nil
	}
	return outcome.As(parseKind(d.Kind), errors.New(d.Error))
}

func parseKind(s string) outcome.Kind {
	for _, k := range []outcome.Kind{outcome.Refused, outcome.Unhealthy, outcome.TimedOut} {
		if k.String() == s {
			return k
		}
	}
	return outcome.Failed
}

// Answer writes the Messages of one answer as JSON lines; it is safe for
// concurrent use (verifications report from several goroutines). The
// rollback-helm program answers with it.
type Answer struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

// NewAnswer returns an Answer writing to w.
func NewAnswer(w io.Writer) *Answer { return &Answer{enc: json.NewEncoder(w)} }

func (a *Answer) write(m Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = a.enc.Encode(m)
	}
	return a.err
}

// Observe sends a progress event.
func (a *Answer) Observe(e progress.Event) { _ = a.write(Message{Event: &e}) }

// Append sends a journal entry; the caller journals it.
func (a *Answer) Append(_ context.Context, e journal.Entry) (journal.Entry, error) {
	return e, a.write(Message{Journal: &e})
}

// Finish sends the result and the error that end the answer.
func (a *Answer) Finish(result any, err error) error {
	d := &Done{}
	if result != nil {
		raw, merr := json.Marshal(result)
		if merr != nil {
			return fmt.Errorf("encode result: %w", merr)
		}
		d.Result = raw
	}
	if err != nil {
		d.Error, d.Kind = err.Error(), outcome.KindOf(err).String()
	}
	return a.write(Message{Done: d})
}

// maxLine bounds one line of an answer (a plan with a large values diff).
const maxLine = 16 << 20

// readAnswer reads an answer from r, passing events to obs and journal
// entries to journalEntry, until its Done, which it returns.
func readAnswer(r io.Reader, obs progress.Observer, journalEntry func(journal.Entry)) (*Done, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("read the answer of %s: %w", Program, err)
		}
		switch {
		case m.Event != nil:
			progress.Emit(obs, typed(*m.Event))
		case m.Journal != nil:
			journalEntry(*m.Journal)
		case m.Done != nil:
			return m.Done, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", Program, err)
	}
	return nil, fmt.Errorf("%s ended without an answer", Program)
}

// typed gives a Plan event its typed plan back.
func typed(e progress.Event) progress.Event {
	if e.Kind != progress.Plan || e.Data == nil {
		return e
	}
	raw, err := json.Marshal(e.Data)
	if err != nil {
		return e
	}
	var p Plan
	if json.Unmarshal(raw, &p) == nil {
		e.Data = &p
	}
	return e
}
