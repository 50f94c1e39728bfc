package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/redact"
)

// MarkGood stamps the current revision of Deployment name known-good (see the
// package documentation). It refuses (exit code 2) when the rollout of that
// revision is not complete: not every desired replica updated, ready and
// available, or old replicas still running.
func MarkGood(ctx context.Context, clients Clients, name string, now time.Time) error {
	d, err := clients.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return getError(err, "deployment", name)
	}
	rss, err := clients.ReplicaSets.List(ctx, metav1.ListOptions{LabelSelector: selectorString(d)})
	if err != nil {
		return fmt.Errorf("list replicasets of deployment %s: %w", name, err)
	}
	revs := revisions(d, rss.Items)
	cur := current(revs)
	if cur == nil {
		return outcome.AsRefused(fmt.Errorf("deployment %s has no ReplicaSet for its template yet: wait for the rollout (`rollback app status %s`) and try again", name, name))
	}
	p := EvaluateRollout(d, nil, nil)
	if !p.Observed || p.Updated < p.Desired || p.OldReplicas > 0 || p.Available < p.Desired || d.Status.ReadyReplicas < p.Desired {
		return outcome.AsRefused(fmt.Errorf("revision %d of deployment %s is not fully rolled out (%s): run `rollback app status %s` to watch and verify it, which stamps it when healthy", cur.Number, name, p, name))
	}
	return StampGood(ctx, clients.ReplicaSets, cur.rs, "mark-good", now)
}

// The known-good stamp protocol, the one every path uses (app undo and
// status, config undo, rollback run, guard, the controller, drills): a
// revision's ReplicaSet carries the time, pod-template-hash and author of
// the last verdict of each kind. StampGood records a verified revision and
// clears a failure stamp; StampFailed records a failure and keeps the
// known-good stamp for the history. The newest verdict decides: a revision
// that failed after it was known-good is not a rollback target (see
// revisionOf).

// StampGood stamps rs known-good by by (undo, status, guard, mark-good, ...)
// and clears its failure stamp.
func StampGood(ctx context.Context, replicaSets ReplicaSetPatcher, rs *appsv1.ReplicaSet, by string, now time.Time) error {
	return patchAnnotations(ctx, replicaSets, rs.Name, map[string]any{
		AnnotationKnownGoodAt:   now.UTC().Format(time.RFC3339Nano),
		AnnotationKnownGoodHash: rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey],
		AnnotationKnownGoodBy:   by,
		AnnotationFailedAt:      nil,
		AnnotationFailedHash:    nil,
		AnnotationFailedReason:  nil,
	})
}

// StampFailed records that rs failed (reason, at most 200 bytes). A
// known-good stamp stays for the history; the newer failure outranks it.
func StampFailed(ctx context.Context, replicaSets ReplicaSetPatcher, rs *appsv1.ReplicaSet, reason string, now time.Time) error {
	reason = redact.String(reason)
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return patchAnnotations(ctx, replicaSets, rs.Name, map[string]any{
		AnnotationFailedAt:     now.UTC().Format(time.RFC3339Nano),
		AnnotationFailedHash:   rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey],
		AnnotationFailedReason: reason,
	})
}

// ReplicaSetPatcher is the part of a ReplicaSet client the stamps use.
type ReplicaSetPatcher interface {
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.ReplicaSet, error)
}

func patchAnnotations(ctx context.Context, replicaSets ReplicaSetPatcher, rs string, annotations map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return fmt.Errorf("stamp replicaset %s: %w", rs, err)
	}
	if _, err := replicaSets.Patch(ctx, rs, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("stamp replicaset %s: %w", rs, err)
	}
	return nil
}

// selectorString returns d's pod selector as a label selector string.
func selectorString(d *appsv1.Deployment) string {
	if d.Spec.Selector == nil {
		return ""
	}
	s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return ""
	}
	return s.String()
}

// getError wraps a failed get, turning "not found" into a refusal.
func getError(err error, kind, name string) error {
	if apierrors.IsNotFound(err) {
		return outcome.AsRefused(fmt.Errorf("%s %s not found: check the name and the namespace (-n)", kind, name))
	}
	return fmt.Errorf("get %s %s: %w", kind, name, err)
}
