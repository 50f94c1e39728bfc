// Package exitcode maps every error the rollback commands return to the
// documented process exit code. It is the one place where that mapping lives.
package exitcode

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// CodedError carries the exit code for an error. Create one with Refusedf,
// AsRefused, AsUnhealthy or AsTimeout.
type CodedError struct {
	Code int
	Err  error
}

// Error returns the wrapped error's message.
func (e *CodedError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *CodedError) Unwrap() error { return e.Err }

// AsRefused marks err as a refusal (exit code 2): nothing was changed.
func AsRefused(err error) error { return wrap(Refused, err) }

// AsUnhealthy marks err as "applied but unhealthy" (exit code 3).
func AsUnhealthy(err error) error { return wrap(Unhealthy, err) }

// AsTimeout marks err as a timeout (exit code 4).
func AsTimeout(err error) error { return wrap(Timeout, err) }

func wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &CodedError{Code: code, Err: err}
}

// Code returns the exit code for err: the code carried by a CodedError in its
// chain, Refused for Kubernetes "forbidden" and "unauthorized" answers,
// Timeout for an expired context deadline, and Error for everything else.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var coded *CodedError
	if errors.As(err, &coded) {
		return coded.Code
	}
	switch {
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return Refused
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Refused
	}
	return Error
}
