package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// maxErrorLines is how many error lines per container the summary keeps;
// maxErrorLineLen how long each may be.
const (
	maxErrorLines   = 3
	maxErrorLineLen = 240
)

// logTask is one container log to read.
type logTask struct {
	// rank orders the reads: 0 failing pods of the rolled-back revision,
	// 1 its pods not ready, 2 its other pods, 3 the healthy sample.
	rank           int
	pods           corev1client.PodInterface
	pod, container string
	previous       bool
	// optional drops the task without a word when the log does not exist
	// (the previous run of a container that has not restarted yet).
	optional bool
	file     string
	// sameAs names the current run's file: when both hold the same run
	// (the kubelet serves a backing-off container's last run both ways)
	// it is kept once (Bundle.dropSameRun).
	sameAs string
	// done receives the log as kept (redacted).
	done func(text string)
}

func (t logTask) what() string {
	s := fmt.Sprintf("logs of pod %s container %s", t.pod, t.container)
	if t.previous {
		s += " (previous run)"
	}
	return s
}

// readLog reads one container log through the API server (pods/log, with
// timestamps), the last LogLines lines and at most LogBytes.
func (col *collector) readLog(ctx context.Context, t logTask) {
	if ctx.Err() != nil {
		col.bundle.skip(t.what(), StoppedByBudget+": not read before the deadline")
		return
	}
	lines, limit := col.lim.LogLines, col.lim.LogBytes
	opts := &corev1.PodLogOptions{Container: t.container, Previous: t.previous, TailLines: &lines, LimitBytes: &limit, Timestamps: true}
	rc, err := t.pods.GetLogs(t.pod, opts).Stream(ctx)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			col.bundle.skip(t.what(), StoppedByBudget+": cut while reading")
		case deadlineWait(err):
			col.bundle.skip(t.what(), StoppedByBudget+": not read before the deadline (the client's request rate limit)")
		case (apierrors.IsBadRequest(err) || apierrors.IsNotFound(err)) && t.optional:
		case apierrors.IsBadRequest(err) || apierrors.IsNotFound(err):
			col.bundle.skip(t.what(), "unavailable: "+col.red.String(oneLine(err.Error())))
		default:
			col.fail(t.what(), err)
		}
		return
	}
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	rc.Close()
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			col.bundle.skip(t.what(), StoppedByBudget+": cut while reading")
		} else {
			col.fail(t.what(), err)
		}
		return
	}
	text := col.red.String(string(data))
	if !col.bundle.add(t.file, []byte(text), true) {
		return
	}
	if t.done != nil {
		t.done(text)
	}
}

// deadlineWait reports whether err is the client's rate limiter refusing to
// wait past the context's deadline (client-go's request throttling): the
// budget, not a failed read.
func deadlineWait(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "would exceed context deadline")
}

// errorLine finds lines that report an error.
var errorLine = regexp.MustCompile(`(?i)(level=(error|fatal|panic|crit)|"level":"(error|fatal|panic)"|\bpanic:|\bfatal\b|\berror\b|\bexception\b|traceback|\bstatus=5\d\d\b)`)

// logLine is one line of a log with its time (zero when it has none).
type logLine struct {
	Time time.Time
	Text string
}

// firstErrors returns the first n error lines of a log read with
// timestamps, each without its timestamp and at most maxErrorLineLen long.
func firstErrors(log string, n int) []logLine {
	var out []logLine
	for _, line := range strings.Split(log, "\n") {
		if len(out) == n {
			break
		}
		t, text := splitTimestamp(strings.TrimRight(line, "\r"))
		if text == "" || !errorLine.MatchString(text) {
			continue
		}
		if len(text) > maxErrorLineLen {
			text = text[:maxErrorLineLen] + "..."
		}
		out = append(out, logLine{Time: t, Text: text})
	}
	return out
}

// splitTimestamp splits the RFC 3339 timestamp the API server puts before
// each line (timestamps=true) from the line.
func splitTimestamp(line string) (time.Time, string) {
	ts, rest, ok := strings.Cut(line, " ")
	if !ok {
		return time.Time{}, line
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, line
	}
	return t, rest
}
