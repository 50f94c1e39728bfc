package evidence

import (
	"fmt"
	"time"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Defaults of Limits: the collection costs a rollback at most DefaultBudget.
const (
	DefaultBudget      = 3 * time.Second
	DefaultMaxSize     = 8 << 20
	DefaultLogLines    = 300
	DefaultLogBytes    = 256 << 10
	DefaultPods        = 10
	DefaultHealthyPods = 2
)

// Limits bound one collection in time and size.
type Limits struct {
	// Budget is the longest a collection may take, writing the bundle
	// included; zero or less collects nothing (--evidence-budget 0).
	Budget time.Duration `json:"budget"`
	// MaxSize bounds the bundle's files before compression, in bytes.
	MaxSize int64 `json:"maxSize"`
	// LogLines is how many of the last lines of each container log are kept.
	LogLines int64 `json:"logLines"`
	// LogBytes bounds each container log, in bytes.
	LogBytes int64 `json:"logBytes"`
	// Pods is how many pods of the revision being rolled back get their
	// logs read, per workload (failing ones first); 0 means all of them.
	Pods int `json:"pods"`
	// HealthyPods is how many Ready pods of other revisions get their logs
	// read, for comparison.
	HealthyPods int `json:"healthyPods"`
}

// DefaultLimits returns the limits used when none are given.
func DefaultLimits() Limits {
	return Limits{Budget: DefaultBudget, MaxSize: DefaultMaxSize, LogLines: DefaultLogLines, LogBytes: DefaultLogBytes,
		Pods: DefaultPods, HealthyPods: DefaultHealthyPods}
}

// Enabled reports whether evidence is collected at all.
func (l Limits) Enabled() bool { return l.Budget > 0 }

// Validate refuses limits that cannot work (exit code 2).
func (l Limits) Validate() error {
	switch {
	case l.Budget < 0:
		return outcome.AsRefused(fmt.Errorf("--evidence-budget must not be negative, got %s (0 collects no evidence)", l.Budget))
	case l.Budget > 5*time.Minute:
		return outcome.AsRefused(fmt.Errorf("--evidence-budget %s delays the rollback too long: at most 5m", l.Budget))
	case l.Budget > 0 && l.MaxSize < 64<<10:
		return outcome.AsRefused(fmt.Errorf("--evidence-max-size must be at least 64KiB, got %d bytes", l.MaxSize))
	case l.LogLines < 1:
		return outcome.AsRefused(fmt.Errorf("--evidence-log-lines must be at least 1, got %d", l.LogLines))
	case l.LogBytes < 1:
		return outcome.AsRefused(fmt.Errorf("the log size limit must be at least 1 byte, got %d", l.LogBytes))
	case l.Pods < 0:
		return outcome.AsRefused(fmt.Errorf("--evidence-pods must not be negative, got %d (0 reads every pod)", l.Pods))
	case l.HealthyPods < 0:
		return outcome.AsRefused(fmt.Errorf("the healthy pod sample must not be negative, got %d", l.HealthyPods))
	}
	return nil
}

// withDefaults fills zero sizes with the defaults (a zero Budget stays:
// it turns collection off).
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSize == 0 {
		l.MaxSize = d.MaxSize
	}
	if l.LogLines == 0 {
		l.LogLines = d.LogLines
	}
	if l.LogBytes == 0 {
		l.LogBytes = d.LogBytes
	}
	return l
}

// reserve is the part of the budget kept for writing the bundle and
// journaling it: a tenth, at most 250ms.
func (l Limits) reserve() time.Duration {
	return min(l.Budget/10, 250*time.Millisecond)
}
