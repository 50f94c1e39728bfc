package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestContainerLogQuery(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newContainerLog()
	l.write(t0, false, "one", "two")
	l.write(t0.Add(2*time.Second), true, "three")
	l.write(t0.Add(4*time.Second), false, "four")
	all := logQuery{tailLines: -1, stdout: true, stderr: true}
	tests := []struct {
		name string
		q    func(q logQuery) logQuery
		want string
	}{
		{"all", func(q logQuery) logQuery { return q }, "one\ntwo\nthree\nfour\n"},
		{"tail", func(q logQuery) logQuery { q.tailLines = 2; return q }, "three\nfour\n"},
		{"tail 0", func(q logQuery) logQuery { q.tailLines = 0; return q }, ""},
		{"since", func(q logQuery) logQuery { q.since = t0.Add(time.Second); return q }, "three\nfour\n"},
		{"tail then since", func(q logQuery) logQuery { q.tailLines = 3; q.since = t0.Add(3 * time.Second); return q }, "four\n"},
		{"limit bytes", func(q logQuery) logQuery { q.limitBytes = 6; return q }, "one\ntw"},
		{"stderr only", func(q logQuery) logQuery { q.stdout = false; return q }, "three\n"},
		{"stdout only", func(q logQuery) logQuery { q.stderr = false; return q }, "one\ntwo\nfour\n"},
		{"timestamps", func(q logQuery) logQuery { q.timestamps = true; q.tailLines = 1; return q }, "2026-01-01T00:00:04Z four\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := l.copyTo(context.Background(), &b, func() {}, tt.q(all)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestContainerLogKeepsLastLines(t *testing.T) {
	l := newContainerLog()
	for i := range maxLogLines + 10 {
		l.write(time.Unix(int64(i), 0), false, "line")
	}
	lines, next, _, _ := l.from(0)
	if len(lines) != maxLogLines || next != maxLogLines+10 {
		t.Errorf("kept %d lines, next %d; want %d, %d", len(lines), next, maxLogLines, maxLogLines+10)
	}
}

// lockedBuilder lets the test read what a follower wrote so far.
type lockedBuilder struct {
	ch chan string
}

func (b *lockedBuilder) Write(p []byte) (int, error) {
	b.ch <- string(p)
	return len(p), nil
}

func TestContainerLogFollowEndsWithTheRun(t *testing.T) {
	l := newContainerLog()
	l.write(time.Now(), false, "first")
	out := &lockedBuilder{ch: make(chan string, 10)}
	done := make(chan error)
	go func() {
		done <- l.copyTo(context.Background(), out, func() {}, logQuery{follow: true, tailLines: -1, stdout: true, stderr: true})
	}()
	if got := <-out.ch; got != "first\n" {
		t.Fatalf("first batch %q", got)
	}
	l.write(time.Now(), true, "panic")
	if got := <-out.ch; got != "panic\n" {
		t.Fatalf("second batch %q", got)
	}
	l.close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestContainerLogFollowStopsWithContext(t *testing.T) {
	l := newContainerLog()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		var b strings.Builder
		done <- l.copyTo(ctx, &b, func() {}, logQuery{follow: true, tailLines: -1, stdout: true, stderr: true})
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
