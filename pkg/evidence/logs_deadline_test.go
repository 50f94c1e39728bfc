package evidence

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestDeadlineWait: the client's rate limiter refusing to wait past the
// budget's deadline is the budget cutting the read, not a failed read.
func TestDeadlineWait(t *testing.T) {
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	lim.Allow() // the one token is spent: the next waits an hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	throttled := lim.Wait(ctx)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"rate limiter", fmt.Errorf("client rate limiter Wait returned an error: %w", throttled), true},
		{"deadline", fmt.Errorf("get logs: %w", context.DeadlineExceeded), true},
		{"bad request", errors.New(`container "app" in pod "web-1" is waiting to start`), false},
	} {
		if got := deadlineWait(tc.err); got != tc.want {
			t.Errorf("%s: deadlineWait(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestSkipByLimitStops: a part left out by a limit marks the collection as
// cut by that limit, even when the collection itself ended before its
// deadline (the rate limiter refuses early); other reasons do not.
func TestSkipByLimitStops(t *testing.T) {
	for _, tc := range []struct {
		why, want string
	}{
		{StoppedByBudget + ": not read before the deadline (the client's request rate limit)", StoppedByBudget},
		{StoppedBySize + ": the size limit was reached", StoppedBySize},
		{"unavailable: container is waiting to start", ""},
	} {
		b := newBundle(1 << 20)
		b.skip("logs of pod web-1 container app", tc.why)
		if got := b.manifest.StoppedBy; got != tc.want {
			t.Errorf("skip(%q): stopped by %q, want %q", tc.why, got, tc.want)
		}
	}
}
