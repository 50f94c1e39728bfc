package rollout

import (
	"fmt"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Target is the revision an undo goes to and why it was chosen.
type Target struct {
	Revision *Revision
	// Reason says in one line why this revision was chosen.
	Reason string
	// Fallback is true when no known-good stamp existed and the previous
	// revision was chosen instead.
	Fallback bool
}

// ChooseTarget picks the undo target among revs (oldest first) for
// workload w whose current revision is cur (nil when no revision matches
// its template yet): toRevision when it is not 0, else the newest
// known-good revision, else the revision before the current one. It
// refuses (exit code 2) when the wanted revision does not exist and when a
// target chosen without toRevision never became healthy.
func ChooseTarget(w Workload, revs []Revision, cur *Revision, toRevision int64) (Target, error) {
	what, arg := w.Describe(), w.Arg()
	holder := "ReplicaSet"
	if w.Kind != KindDeployment {
		holder = "ControllerRevision"
	}
	curNum := int64(0)
	if cur != nil {
		curNum = cur.Number
	} else if len(revs) > 0 {
		curNum = revs[len(revs)-1].Number + 1
	}
	if toRevision != 0 {
		if toRevision < 0 {
			return Target{}, outcome.AsRefused(fmt.Errorf("--to-revision must be positive, got %d", toRevision))
		}
		t := find(revs, toRevision)
		if t == nil {
			if toRevision < curNum {
				return Target{}, outcome.AsRefused(fmt.Errorf("revision %d of %s no longer exists: revisionHistoryLimit pruned its %s; revisions that exist: %s (see `rollback app history %s`)",
					toRevision, what, holder, numbers(revs), arg))
			}
			return Target{}, outcome.AsRefused(fmt.Errorf("revision %d of %s does not exist; revisions that exist: %s", toRevision, what, numbers(revs)))
		}
		return Target{Revision: t, Reason: fmt.Sprintf("revision %d as asked with --to-revision", toRevision)}, nil
	}
	if g := lastGood(revs); g != nil {
		return Target{Revision: g, Reason: fmt.Sprintf("last known good revision %d (stamped %s by %s)",
			g.Number, g.KnownGoodAt.UTC().Format("2006-01-02T15:04:05Z"), orUnknown(g.KnownGoodBy))}, nil
	}
	var prev *Revision
	for i := range revs {
		if revs[i].Number < curNum {
			prev = &revs[i]
		}
	}
	if prev == nil {
		return Target{}, outcome.AsRefused(fmt.Errorf("%s has no earlier revision to roll back to; revisions that exist: %s", what, numbers(revs)))
	}
	if prev.Health == HealthFailed {
		return Target{}, outcome.AsRefused(fmt.Errorf("no revision of %s is known good, and the previous revision %d never became healthy (%s at %s): pick a revision with `rollback app history %s` and pass --to-revision N to insist",
			what, prev.Number, prev.FailedReason, prev.FailedAt.UTC().Format("2006-01-02T15:04:05Z"), arg))
	}
	return Target{Revision: prev, Fallback: true,
		Reason: fmt.Sprintf("no revision is stamped known-good: falling back to the previous revision %d, which rollback has never verified", prev.Number)}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
