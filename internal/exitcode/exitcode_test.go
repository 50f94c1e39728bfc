package exitcode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

// TestOfKind: each kind of outcome (pkg/outcome tells them apart) has its
// documented exit code.
func TestOfKind(t *testing.T) {
	for kind, want := range map[outcome.Kind]int{
		outcome.OK: OK, outcome.Failed: Error, outcome.Refused: Refused, outcome.Unhealthy: Unhealthy, outcome.TimedOut: Timeout,
	} {
		if got := OfKind(kind); got != want {
			t.Errorf("OfKind(%s) = %d, want %d", kind, got, want)
		}
	}
	if got := Code(fmt.Errorf("undo web: %w", AsRefused(errors.New("paused")))); got != Refused {
		t.Errorf("Code of a wrapped refusal = %d, want %d", got, Refused)
	}
}
