package clitest

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/vibestack/rollback/pkg/progress"
)

// ProgressLog is a progress.Observer that keeps every event's message as a
// line, for tests that drive a library directly and check what it reported.
type ProgressLog struct {
	mu sync.Mutex
	b  strings.Builder
}

// Observe appends e's message.
func (p *ProgressLog) Observe(e progress.Event) {
	if e.Message == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.WriteString(e.Message + "\n")
}

// String returns the messages so far, one per line.
func (p *ProgressLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

// ProgressTo returns an Observer that writes each event's message as a line to w.
func ProgressTo(w io.Writer) progress.Observer {
	var mu sync.Mutex
	return progress.Func(func(e progress.Event) {
		if e.Message == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, e.Message)
	})
}
