package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
)

// preflight runs the checklist and refuses on NO-GO unless AcceptNoGo.
func (s *session) preflight(ctx context.Context) error {
	r := s.r
	if r.Preflight == nil {
		s.log(ctx, journal.Entry{Step: "preflight", Action: "preflight.completed", Result: journal.ResultSkipped})
		return nil
	}
	s.progress("preflight: checking")
	cl, err := r.Preflight(ctx, s.steps)
	if err != nil {
		s.log(ctx, journal.Entry{Step: "preflight", Action: "preflight.completed", Result: journal.ResultFailed, Error: err.Error()})
		return fmt.Errorf("preflight: %w", err)
	}
	result := journal.ResultOK
	if !cl.Go {
		result = journal.ResultFailed
	}
	s.log(ctx, journal.Entry{Step: "preflight", Action: "preflight.completed", Result: result, After: cl.Report,
		Inputs: map[string]any{"phase": "before", "go": cl.Go, "problems": cl.Problems}})
	if cl.Go {
		s.progress("preflight: GO")
		return nil
	}
	if r.AcceptNoGo {
		s.progress("preflight: NO-GO (%d problems), going ahead because of --accept-no-go:\n  %s", len(cl.Problems), strings.Join(cl.Problems, "\n  "))
		return nil
	}
	s.res.Verdict = VerdictRefused
	return outcome.AsRefused(fmt.Errorf("preflight: NO-GO, nothing was changed:\n  %s\nfix these, or run again with --accept-no-go to go ahead anyway: %w",
		strings.Join(cl.Problems, "\n  "), errNoGo))
}

// errNoGo marks a preflight refusal.
var errNoGo = errors.New("preflight NO-GO")
