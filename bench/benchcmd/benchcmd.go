// Package benchcmd holds what the benchmark programs under bench/ share:
// their main (signals, the error and the exit code), running a command and
// reading its exit code, environment defaults, medians and waiting for a
// condition.
package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Main runs run with the program's arguments until it returns or the
// program is interrupted; an error is printed after name and exits 1.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Run runs bin with args and returns its exit code; a non-zero exit is an
// error that carries the command line and its combined output.
func Run(ctx context.Context, bin string, args ...string) (int, error) {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// EnvOr returns the environment variable key, or def when it is empty.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Median returns the median of xs (the mean of the two middle ones of an
// even count), 0 when xs is empty.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// WaitFor polls cond every 100 ms for up to timeout.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	return Poll(ctx, timeout, 100*time.Millisecond, what, cond)
}

// Poll checks cond every interval for up to timeout; the interval bounds
// how finely a benchmark times the moment cond became true.
func Poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
	return nil
}
