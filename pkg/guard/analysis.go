package guard

import (
	"fmt"

	"github.com/vibestack/rollback/pkg/promquery"
)

// Defaults of the analysis, the same as Argo Rollouts' AnalysisRun.
const (
	// DefaultFailureLimit tolerates no failed round: the first one rolls back
	// (Argo Rollouts' failureLimit default 0).
	DefaultFailureLimit = 0
	// DefaultConsecutiveErrorLimit tolerates 4 inconclusive rounds in a row;
	// the 5th ends the analysis as inconclusive (Argo Rollouts'
	// consecutiveErrorLimit default 4).
	DefaultConsecutiveErrorLimit = 4
	// DefaultOnInconclusive rolls back a release whose analysis is
	// inconclusive: a release nobody could observe is not known to be good.
	DefaultOnInconclusive = OnInconclusiveRollback
)

// What an inconclusive analysis does (Guard.OnInconclusive).
const (
	// OnInconclusiveRollback rolls the release back, like a failed analysis.
	OnInconclusiveRollback = "rollback"
	// OnInconclusivePass accepts the release and stamps it known-good.
	OnInconclusivePass = "pass"
	// OnInconclusiveFail keeps the release but ends with a non-zero exit
	// code, without stamping it known-good.
	OnInconclusiveFail = "fail"
)

// ValidOnInconclusive reports whether s is rollback, pass or fail.
func ValidOnInconclusive(s string) bool {
	return s == OnInconclusiveRollback || s == OnInconclusivePass || s == OnInconclusiveFail
}

// Analysis counts the outcomes of analysis rounds and decides when the
// analysis is over. The rules, in order, after every round:
//
//  1. fail when failed rounds > FailureLimit (at once, even mid-bake);
//  2. inconclusive when inconclusive rounds in a row > ConsecutiveErrorLimit
//     (at once, even mid-bake);
//  3. once the bake time is up, pass when the latest round passed; a bake
//     never ends on a failed or inconclusive round: rounds go on until one
//     passes or rule 1 or 2 ends the analysis.
//
// Inconclusive rounds are counted separately from failures, never as passes,
// and a passing round resets only the count of inconclusive rounds in a row.
type Analysis struct {
	FailureLimit          int
	ConsecutiveErrorLimit int
	// Passed, Failed and Inconclusive count the rounds of each outcome.
	Passed, Failed, Inconclusive int
	// InARow counts the inconclusive rounds since the last conclusive one.
	InARow int
	// Last is the outcome of the latest round.
	Last promquery.Outcome
}

// Add records one round's outcome and returns the analysis's verdict when
// it is over: "" while it goes on.
func (a *Analysis) Add(o promquery.Outcome, bakeOver bool) promquery.Outcome {
	a.Last = o
	switch o {
	case promquery.Pass:
		a.Passed++
		a.InARow = 0
	case promquery.Fail:
		a.Failed++
		a.InARow = 0
	default:
		a.Inconclusive++
		a.InARow++
	}
	switch {
	case a.Failed > a.FailureLimit:
		return promquery.Fail
	case a.InARow > a.ConsecutiveErrorLimit:
		return promquery.Inconclusive
	case bakeOver && o == promquery.Pass:
		return promquery.Pass
	}
	return ""
}

// String summarizes the counts.
func (a *Analysis) String() string {
	return fmt.Sprintf("%d passed, %d failed (limit %d), %d inconclusive (%d in a row, limit %d)",
		a.Passed, a.Failed, a.FailureLimit, a.Inconclusive, a.InARow, a.ConsecutiveErrorLimit)
}

// RoundOutcome combines the samples of one round: fail if any failed,
// inconclusive if none failed and any was inconclusive, else pass.
func RoundOutcome(samples []promquery.Sample) promquery.Outcome {
	out := promquery.Pass
	for _, s := range samples {
		switch s.Outcome {
		case promquery.Fail:
			return promquery.Fail
		case promquery.Pass:
		default:
			out = promquery.Inconclusive
		}
	}
	return out
}
