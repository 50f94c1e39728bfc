package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/rollout"
)

// stampBy is the known-good-by value of guard's stamps.
const stampBy = "guard"

// stampGood stamps the ReplicaSet with pod-template-hash hash known-good by guard.
func stampGood(ctx context.Context, c rollout.Clients, rs, hash string, now time.Time) error {
	return patchAnnotations(ctx, c, rs, map[string]any{
		rollout.AnnotationKnownGoodAt:   now.UTC().Format(time.RFC3339Nano),
		rollout.AnnotationKnownGoodHash: hash,
		rollout.AnnotationKnownGoodBy:   stampBy,
		rollout.AnnotationFailedAt:      nil,
		rollout.AnnotationFailedHash:    nil,
		rollout.AnnotationFailedReason:  nil,
	})
}

// stampFailed records that the guarded revision failed its analysis, and
// removes a known-good stamp it may carry, so that no later undo picks it.
func stampFailed(ctx context.Context, c rollout.Clients, rs, hash, reason string, now time.Time) error {
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return patchAnnotations(ctx, c, rs, map[string]any{
		rollout.AnnotationFailedAt:      now.UTC().Format(time.RFC3339Nano),
		rollout.AnnotationFailedHash:    hash,
		rollout.AnnotationFailedReason:  reason,
		rollout.AnnotationKnownGoodAt:   nil,
		rollout.AnnotationKnownGoodHash: nil,
		rollout.AnnotationKnownGoodBy:   nil,
	})
}

func patchAnnotations(ctx context.Context, c rollout.Clients, rs string, annotations map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return fmt.Errorf("stamp replicaset %s: %w", rs, err)
	}
	if _, err := c.ReplicaSets.Patch(ctx, rs, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: rollout.FieldManager}); err != nil {
		return fmt.Errorf("stamp replicaset %s: %w", rs, err)
	}
	return nil
}
