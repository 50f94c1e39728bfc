package clusterlock

import (
	"time"

	"k8s.io/utils/clock"
)

// SkewedClock is a clock that runs Offset ahead (or behind, when negative)
// of Clock: the drills and tests of the lock run a taker whose clock is
// wrong, as a badly synchronised machine's is.
type SkewedClock struct {
	clock.WithTicker
	Offset time.Duration
}

// Now returns the skewed time.
func (c SkewedClock) Now() time.Time { return c.WithTicker.Now().Add(c.Offset) }

// Since returns the time elapsed since t on the skewed clock.
func (c SkewedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
