package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/redact"
)

// MarkGood stamps the current revision of workload (kubectl's resource
// syntax) known-good (see the package documentation). It refuses (exit
// code 2) when the rollout of that revision is not complete: not every
// desired replica updated, ready and available, or old replicas still running.
func MarkGood(ctx context.Context, clients Clients, workload string, now time.Time) error {
	o, err := getWorkload(ctx, clients, workload)
	if err != nil {
		return err
	}
	w := o.workload()
	srcs, err := revisionSources(ctx, clients, o)
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if o.d == nil {
		if pods, err = listPods(ctx, clients, o); err != nil {
			return err
		}
	}
	revs := revisions(o, srcs, pods)
	cur := current(revs)
	if cur == nil {
		return outcome.AsRefused(fmt.Errorf("%s has no revision for its template yet: wait for the rollout (`rollback app status %s`) and try again", w.Describe(), w))
	}
	var p Progress
	if o.d != nil {
		p = EvaluateRollout(o.d, nil, nil)
		p.Complete = p.Observed && p.Updated >= p.Desired && p.OldReplicas == 0 && p.Available >= p.Desired && o.d.Status.ReadyReplicas >= p.Desired
	} else {
		p, _ = evaluateSet(o, cur.src, pods)
	}
	if !p.Complete {
		return outcome.AsRefused(fmt.Errorf("revision %d of %s is not fully rolled out (%s): run `rollback app status %s` to watch and verify it, which stamps it when healthy", cur.Number, w.Describe(), p, w))
	}
	return StampGood(ctx, clients, cur.Ref(), "mark-good", now)
}

// The known-good stamp protocol, the one every path uses (app undo and
// status, config undo, rollback run, guard, the controller, drills): the
// object holding a revision (a Deployment's ReplicaSet, a StatefulSet's or
// DaemonSet's ControllerRevision) carries the time, hash and author of the
// last verdict of each kind. StampGood records a verified revision and
// clears a failure stamp; StampFailed records a failure and keeps the
// known-good stamp for the history. The newest verdict decides: a revision
// that failed after it was known-good is not a rollback target (see
// revisionOf).

// StampGood stamps the revision ref known-good by by (undo, status, guard,
// mark-good, ...) and clears its failure stamp.
func StampGood(ctx context.Context, c Clients, ref RevisionRef, by string, now time.Time) error {
	return patchAnnotations(ctx, c, ref, map[string]any{
		AnnotationKnownGoodAt:   now.UTC().Format(time.RFC3339Nano),
		AnnotationKnownGoodHash: ref.Hash,
		AnnotationKnownGoodBy:   by,
		AnnotationFailedAt:      nil,
		AnnotationFailedHash:    nil,
		AnnotationFailedReason:  nil,
	})
}

// StampFailed records that the revision ref failed (reason, at most 200
// bytes). A known-good stamp stays for the history; the newer failure
// outranks it.
func StampFailed(ctx context.Context, c Clients, ref RevisionRef, reason string, now time.Time) error {
	reason = redact.String(reason)
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return patchAnnotations(ctx, c, ref, map[string]any{
		AnnotationFailedAt:     now.UTC().Format(time.RFC3339Nano),
		AnnotationFailedHash:   ref.Hash,
		AnnotationFailedReason: reason,
	})
}

// patchAnnotations merge-patches the annotations of the object holding ref.
func patchAnnotations(ctx context.Context, c Clients, ref RevisionRef, annotations map[string]any) error {
	what := "replicaset"
	if ref.Kind != KindDeployment && ref.Kind != "" {
		what = "controllerrevision"
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return fmt.Errorf("stamp %s %s: %w", what, ref.Object, err)
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	if what == "replicaset" {
		_, err = c.ReplicaSets.Patch(ctx, ref.Object, types.MergePatchType, patch, opts)
	} else {
		_, err = c.ControllerRevisions.Patch(ctx, ref.Object, types.MergePatchType, patch, opts)
	}
	if err != nil {
		return fmt.Errorf("stamp %s %s: %w", what, ref.Object, err)
	}
	return nil
}

// getError wraps a failed get, turning "not found" into a refusal.
func getError(err error, kind, name string) error {
	if apierrors.IsNotFound(err) {
		// The API error stays in the chain (apierrors.IsNotFound sees it)
		// but not in the message.
		return outcome.AsRefused(&notFound{msg: fmt.Sprintf("%s %s not found: check the name and the namespace (-n)", kind, name), err: err})
	}
	return fmt.Errorf("get %s %s: %w", kind, name, err)
}

// notFound says a workload does not exist, in the words of getError.
type notFound struct {
	msg string
	err error
}

func (e *notFound) Error() string { return e.msg }
func (e *notFound) Unwrap() error { return e.err }
