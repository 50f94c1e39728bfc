package rollout

import (
	"fmt"
	"io"
	"sync"

	"github.com/vibestack/rollback/pkg/termsafe"
)

// progressPrinter writes human progress: on a terminal a single updating
// line, otherwise plain lines. It is safe for concurrent use.
type progressPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	pending bool // an updating line is on screen
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	if w == nil {
		w = io.Discard
	}
	return &progressPrinter{w: w, tty: tty}
}

// update replaces the updating line (terminal only).
func (p *progressPrinter) update(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s", termsafe.String(s))
	p.pending = true
}

// line prints a plain progress line unless quiet.
func (p *progressPrinter) line(_ string, s string, quiet bool) {
	if quiet {
		return
	}
	p.done(s)
}

// done prints a line that stays.
func (p *progressPrinter) done(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		fmt.Fprint(p.w, "\r\033[K")
		p.pending = false
	}
	fmt.Fprintln(p.w, termsafe.Text(s))
}

// printf prints a formatted line that stays.
func (p *progressPrinter) printf(format string, args ...any) { p.done(fmt.Sprintf(format, args...)) }
