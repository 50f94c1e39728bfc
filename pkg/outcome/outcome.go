// Package outcome is the public vocabulary of how a rollback operation ended:
// the kinds of failure every library of rollback returns (refused, unhealthy,
// timed out, error), so that a program importing pkg/rollout, pkg/incident or
// any other package can tell them apart with KindOf, errors.As or errors.Is.
//
// The CLI maps a Kind to its documented exit code in one place
// (internal/exitcode); libraries never know exit codes.
package outcome

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Kind says how an operation ended. The order is the order of severity used
// by Worst: a timeout outranks unhealthy, which outranks a refusal, which
// outranks an unexpected error.
type Kind int

// The kinds of outcome.
const (
	// OK means the operation succeeded or had nothing to do (skipped).
	OK Kind = iota
	// Failed is an unexpected failure: the API or a database answered with an error.
	Failed
	// Refused means nothing was changed: bad input, a safety check said no,
	// the user cancelled, or the identity lacks a permission.
	Refused
	// Unhealthy means the change was applied but verification failed.
	Unhealthy
	// TimedOut means the change was applied but did not finish in time.
	TimedOut
)

// String returns the kind's name: ok, error, refused, unhealthy or timeout.
func (k Kind) String() string {
	switch k {
	case OK:
		return "ok"
	case Refused:
		return "refused"
	case Unhealthy:
		return "unhealthy"
	case TimedOut:
		return "timeout"
	}
	return "error"
}

// Error is an error of a known Kind. Create one with AsRefused, AsUnhealthy
// or AsTimeout; read it with KindOf.
type Error struct {
	Kind Kind
	Err  error
}

// Error returns the wrapped error's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRefused) (and the other sentinels) match an
// Error of that kind.
func (e *Error) Is(target error) bool {
	s, ok := target.(sentinel)
	return ok && Kind(s) == e.Kind
}

// sentinel is the type of the Err* values matched by Error.Is.
type sentinel Kind

func (s sentinel) Error() string { return Kind(s).String() }

// Sentinels for errors.Is: errors.Is(err, outcome.ErrRefused) is true for
// any error that AsRefused wrapped.
var (
	ErrRefused   error = sentinel(Refused)
	ErrUnhealthy error = sentinel(Unhealthy)
	ErrTimedOut  error = sentinel(TimedOut)
)

// AsRefused marks err as a refusal: nothing was changed.
func AsRefused(err error) error { return As(Refused, err) }

// AsUnhealthy marks err as "applied but unhealthy".
func AsUnhealthy(err error) error { return As(Unhealthy, err) }

// AsTimeout marks err as "applied but not finished in time".
func AsTimeout(err error) error { return As(TimedOut, err) }

// As marks err with kind; nil stays nil and OK returns err unchanged.
func As(kind Kind, err error) error {
	if err == nil || kind == OK {
		return err
	}
	return &Error{Kind: kind, Err: err}
}

// KindOf returns the kind of err: the Kind of the outermost Error in its
// chain, Refused for Kubernetes "forbidden" and "unauthorized" answers and
// for a cancelled context (an interrupt), TimedOut for an expired context
// deadline, and Failed for everything else. nil is OK.
func KindOf(err error) Kind {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	switch {
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return Refused
	case errors.Is(err, context.DeadlineExceeded):
		return TimedOut
	case errors.Is(err, context.Canceled):
		return Refused
	}
	return Failed
}

// Worst returns the most severe of kinds (OK when there is none).
func Worst(kinds ...Kind) Kind {
	w := OK
	for _, k := range kinds {
		if k > w {
			w = k
		}
	}
	return w
}

// Verdict is how one watched, verified or rolled-back workload ended.
type Verdict string

// The verdicts of a watch, an undo and a bulk undo.
const (
	// VerdictHealthy: rolled out and verified.
	VerdictHealthy Verdict = "healthy"
	// VerdictUnhealthy: verification failed (crash loop, pull error, ...).
	VerdictUnhealthy Verdict = "unhealthy"
	// VerdictTimeout: not verified within the timeout.
	VerdictTimeout Verdict = "timeout"
	// VerdictSkipped: nothing to do (already at the target).
	VerdictSkipped Verdict = "skipped"
	// VerdictDryRun: only planned.
	VerdictDryRun Verdict = "dry-run"
	// VerdictRefused: refused, nothing changed.
	VerdictRefused Verdict = "refused"
	// VerdictCancelled: interrupted, or cancelled at a prompt.
	VerdictCancelled Verdict = "cancelled"
	// VerdictError: an unexpected error.
	VerdictError Verdict = "error"
)

// Kind returns the kind of outcome a verdict is.
func (v Verdict) Kind() Kind {
	switch v {
	case VerdictHealthy, VerdictSkipped, VerdictDryRun:
		return OK
	case VerdictRefused, VerdictCancelled:
		return Refused
	case VerdictUnhealthy:
		return Unhealthy
	case VerdictTimeout:
		return TimedOut
	}
	return Failed
}
