package helmtarget

import (
	"context"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// DefaultMaxHistory is how many revisions Helm keeps after a rollback, as
// `helm rollback --history-max` defaults.
const DefaultMaxHistory = 10

// Ref names a Helm release in a cluster.
type Ref struct {
	// Context is the kubeconfig context; empty is the one the cluster
	// flags select (or the pod's own service account in a cluster).
	Context string `json:"context,omitempty"`
	// Namespace is the release's namespace.
	Namespace string `json:"namespace"`
	// Name is the release's name.
	Name string `json:"name"`
}

// Target is the journal and progress target of a release: helmrelease/NAME.
func (r Ref) Target() string { return "helmrelease/" + r.Name }

// Options are the settings of an operation on a release.
type Options struct {
	// ToRevision is the target of an undo; 0 is the last known good revision.
	ToRevision int `json:"toRevision,omitempty"`
	// RecoverPending marks a pending-* current revision failed first.
	RecoverPending bool `json:"recoverPending,omitempty"`
	// Force goes ahead although Argo CD, Flux or an operator manages a
	// workload of the release.
	Force bool `json:"force,omitempty"`
	// Verification is how every workload of the release is watched and
	// verified (its HTTP client and clock stay in the caller's process).
	Verification rollout.Verification `json:"verification"`
	// MaxHistory is Helm's --history-max for the rollback (0: unlimited).
	MaxHistory int `json:"maxHistory,omitempty"`
	// By names who marks a revision good or failed: undo, mark-good, run, guard.
	By string `json:"by,omitempty"`
}

// Recorder journals what an operation did besides its own step (a pending
// revision marked failed); a *journal.Journal or a lifecycle incident.
type Recorder interface {
	Append(ctx context.Context, e journal.Entry) (journal.Entry, error)
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(ctx context.Context, e journal.Entry) (journal.Entry, error)

// Append calls f.
func (f RecorderFunc) Append(ctx context.Context, e journal.Entry) (journal.Entry, error) {
	return f(ctx, e)
}

// Releases operates on Helm releases through Helm's own library. Every
// error carries its outcome kind (refused, unhealthy, timeout).
type Releases interface {
	// Plan plans an undo and changes nothing: the result's Plan says what
	// an Undo with the same options would do (Verdict skipped when the
	// release already runs its target); obs gets the plan as an event.
	Plan(ctx context.Context, ref Ref, o Options, obs progress.Observer) (*UndoResult, error)
	// Undo rolls the release back through Helm's rollback, replaces the pod a
	// StatefulSet of it is stuck on, verifies every workload of it
	// (Deployments, StatefulSets, DaemonSets) and marks the new revision, reporting to obs (a
	// Written event once Helm's rollback landed, a Verifying event before
	// the verification) and journaling a pending recovery through rec.
	Undo(ctx context.Context, ref Ref, o Options, obs progress.Observer, rec Recorder) (*UndoResult, error)
	// MarkGood verifies every workload of the current revision and marks
	// it good, or failed when one is not healthy.
	MarkGood(ctx context.Context, ref Ref, o Options, obs progress.Observer) (*MarkGoodResult, error)
	// MarkFailed marks revision (0: the current one) failed, so that no
	// undo picks it and history says why.
	MarkFailed(ctx context.Context, ref Ref, revision int, reason string, o Options) (*MarkResult, error)
}
