package clitest

import (
	"testing"
	"time"
)

// PollInterval is how often WaitFor checks its condition.
const PollInterval = 100 * time.Millisecond

// WaitFor checks cond every PollInterval until it holds, and fails the test
// when timeout passes first.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}
