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
