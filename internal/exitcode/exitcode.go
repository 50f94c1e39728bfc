// Package exitcode maps every error the rollback commands return to the
// documented process exit code. It is the one place where that mapping
// lives: libraries return errors of an outcome.Kind (pkg/outcome), and only
// the command layer turns them into exit codes here.
package exitcode

import (
	"github.com/vibestack/rollback/pkg/outcome"
)

// The documented exit codes of the rollback binary (see README "Exit codes").
const (
	// OK means the command succeeded or had nothing to do (skipped).
	OK = 0
	// Error means an unexpected failure: the API or a database answered with an error.
	Error = 1
	// Refused means nothing was changed: bad input, a safety check said no,
	// the user cancelled, or the identity lacks a permission.
	Refused = 2
	// Unhealthy means the change was applied but verification failed.
	Unhealthy = 3
	// Timeout means the change was applied but did not finish within --timeout.
	Timeout = 4
)

// AsRefused marks err as a refusal (exit code 2): nothing was changed.
func AsRefused(err error) error { return outcome.AsRefused(err) }

// AsUnhealthy marks err as "applied but unhealthy" (exit code 3).
func AsUnhealthy(err error) error { return outcome.AsUnhealthy(err) }

// AsTimeout marks err as a timeout (exit code 4).
func AsTimeout(err error) error { return outcome.AsTimeout(err) }

// Code returns the exit code for err, from its outcome.Kind.
func Code(err error) int { return OfKind(outcome.KindOf(err)) }

// OfKind returns the exit code of an outcome kind.
func OfKind(k outcome.Kind) int {
	switch k {
	case outcome.OK:
		return OK
	case outcome.Refused:
		return Refused
	case outcome.Unhealthy:
		return Unhealthy
	case outcome.TimedOut:
		return Timeout
	}
	return Error
}
