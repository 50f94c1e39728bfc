package sandbox

import (
	"bufio"
	"context"
	"io"
	"sync"
	"time"
)

// maxLogLines is how many lines a simulated container's log keeps; older
// lines are dropped, as a kubelet rotates container logs.
const maxLogLines = 1000

// logLine is one line a simulated container wrote.
type logLine struct {
	at     time.Time
	stderr bool
	text   string
}

// containerLog is the log of one run of one container (one container ID).
// It is closed when that run ends; a follower then stops.
type containerLog struct {
	mu      sync.Mutex
	lines   []logLine
	first   int // index, counted from the first line ever written, of lines[0]
	closed  bool
	changed chan struct{} // closed and replaced on every write and on close
}

func newContainerLog() *containerLog {
	return &containerLog{changed: make(chan struct{})}
}

// write appends lines written at the same instant.
func (l *containerLog) write(at time.Time, stderr bool, lines ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	for _, text := range lines {
		l.lines = append(l.lines, logLine{at: at, stderr: stderr, text: text})
	}
	if drop := len(l.lines) - maxLogLines; drop > 0 {
		l.lines = append(l.lines[:0:0], l.lines[drop:]...)
		l.first += drop
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// close marks the run as ended.
func (l *containerLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.changed)
	}
}

// from returns the lines from index i (counted from the first line ever
// written) on, the index after them, whether the run has ended, and a
// channel closed at the next change.
func (l *containerLog) from(i int) ([]logLine, int, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i = max(i, l.first)
	out := append([]logLine(nil), l.lines[i-l.first:]...)
	return out, l.first + len(l.lines), l.closed, l.changed
}

// logQuery is what the kubelet's containerLogs endpoint was asked for.
type logQuery struct {
	follow     bool
	timestamps bool
	tailLines  int       // < 0: all
	since      time.Time // zero: from the start
	limitBytes int64     // <= 0: no limit
	stdout     bool
	stderr     bool
}

// copyTo writes the lines q selects to w, calling flush after each batch.
// Like the kubelet, it takes the last tailLines lines first and then drops
// those older than since. With follow it waits for more lines until the run
// ends or ctx is done.
func (l *containerLog) copyTo(ctx context.Context, w io.Writer, flush func(), q logQuery) error {
	bw := bufio.NewWriter(w)
	written := int64(0)
	lines, next, closed, changed := l.from(0)
	if q.tailLines >= 0 && len(lines) > q.tailLines {
		lines = lines[len(lines)-q.tailLines:]
	}
	for {
		for _, line := range lines {
			if line.at.Before(q.since) || (line.stderr && !q.stderr) || (!line.stderr && !q.stdout) {
				continue
			}
			text := line.text + "\n"
			if q.timestamps {
				text = line.at.UTC().Format(time.RFC3339Nano) + " " + text
			}
			if q.limitBytes > 0 && written+int64(len(text)) > q.limitBytes {
				text = text[:q.limitBytes-written]
				_, _ = bw.WriteString(text)
				err := bw.Flush()
				flush()
				return err
			}
			written += int64(len(text))
			if _, err := bw.WriteString(text); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		flush()
		if !q.follow || closed {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		lines, next, closed, changed = l.from(next)
	}
}
