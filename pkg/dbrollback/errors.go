package dbrollback

import (
	"fmt"

	"github.com/vibestack/rollback/pkg/outcome"
)

// refuse marks err as a refusal: nothing was changed (exit code 2).
func refuse(err error) error { return outcome.AsRefused(err) }

// refusef formats a refusal.
func refusef(format string, args ...any) error { return refuse(fmt.Errorf(format, args...)) }
