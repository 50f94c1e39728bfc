package guardcontroller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/rollout"
)

// State is the persisted progress of the guard of one revision of a
// workload (annotation AnnotationState on the Deployment, StatefulSet or
// DaemonSet).
type State struct {
	// Hash identifies the guarded revision: a Deployment's
	// pod-template-hash, a StatefulSet's or DaemonSet's
	// controller-revision hash.
	Hash string `json:"hash"`
	// Revision is its revision number.
	Revision int64 `json:"revision"`
	// Phase is watching, baking, passed, rolling-back, rolled-back or failed.
	Phase string `json:"phase"`
	// BakeStarted is when the rollout completed and the bake began.
	BakeStarted *time.Time `json:"bakeStarted,omitempty"`
	// By is the identity of the controller replica that wrote the state.
	By string `json:"by"`
	// Reason says why the release was judged bad or why the guard failed.
	Reason string `json:"reason,omitempty"`
	// Incident is the id of the incident journal of the rollback.
	Incident string `json:"incident,omitempty"`
	// RollbackTo is the hash (as Hash) of the revision the rollback put
	// back; written in the same patch as the rollback.
	RollbackTo string `json:"rollbackTo,omitempty"`
	// Release is the Helm release the rollback goes through (written with
	// phase rolling-back, before Helm's rollback, which cannot carry the
	// state in its own write): a controller that takes over asks the
	// release whether the rollback landed.
	Release string `json:"release,omitempty"`
	// Updated is when the state was written.
	Updated time.Time `json:"updated"`
}

// Final reports whether the phase is a verdict: passed, rolled-back or failed.
func (s *State) Final() bool {
	switch s.Phase {
	case PhasePassed, PhaseRolledBack, PhaseFailed:
		return true
	}
	return false
}

// ErrStateChanged is returned by WriteState when the state on the workload
// is not the one that was read: somebody else wrote it first.
var ErrStateChanged = errors.New("guard state changed since it was read")

// ReadState returns the state of a guarded workload (a Deployment,
// StatefulSet or DaemonSet), nil when it has none. A state that does not
// parse is an error; the caller reports it and starts afresh.
func ReadState(obj metav1.Object) (*State, error) {
	raw, ok := obj.GetAnnotations()[AnnotationState]
	if !ok || raw == "" {
		return nil, nil
	}
	var s State
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("annotation %s of %s/%s is not valid JSON: %w", AnnotationState, obj.GetNamespace(), obj.GetName(), err)
	}
	return &s, nil
}

// WriteState replaces the state of the workload read (its annotations are
// the precondition) with s by a JSON patch whose first operation tests the
// read value, so a concurrent writer makes it fail with ErrStateChanged
// instead of being overwritten. It returns the updated workload.
func WriteState(ctx context.Context, c rollout.Clients, read *rollout.WorkloadInfo, s State) (*rollout.WorkloadInfo, error) {
	what := read.Kind.Lower() + " " + read.Namespace + "/" + read.Name
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("write guard state of %s: %w", what, err)
	}
	patch, err := json.Marshal(stateOps(read.Annotations, string(raw)))
	if err != nil {
		return nil, fmt.Errorf("write guard state of %s: %w", what, err)
	}
	out, err := rollout.PatchWorkloadAs(ctx, c, read.Workload, types.JSONPatchType, patch, FieldManager)
	if err == nil {
		return out, nil
	}
	if apierrors.IsConflict(err) || apierrors.IsInvalid(err) || changedSince(ctx, c, read) {
		// A failed test op is a 422 from the API server; whatever the
		// error, a state that differs from the one read means another writer.
		return nil, fmt.Errorf("write guard state of %s: %w (%v)", what, ErrStateChanged, err)
	}
	return nil, fmt.Errorf("write guard state of %s: %w", what, err)
}

// changedSince reports whether the guard state (or, when there was none,
// the annotations) of the workload differ from read.
func changedSince(ctx context.Context, c rollout.Clients, read *rollout.WorkloadInfo) bool {
	cur, err := rollout.GetWorkload(ctx, c, read.Workload.String())
	if err != nil {
		return false
	}
	old, had := read.Annotations[AnnotationState]
	now, has := cur.Annotations[AnnotationState]
	return had != has || old != now
}

// stateOps returns the JSON patch operations that set the state annotation
// to raw, preceded by the test of what was read: the old state when there
// was one, else the whole annotation map (nobody added a state meanwhile).
func stateOps(read map[string]string, raw string) []map[string]any {
	path := "/metadata/annotations/" + escapePointer(AnnotationState)
	if old, ok := read[AnnotationState]; ok {
		return []map[string]any{
			{"op": "test", "path": path, "value": old},
			{"op": "replace", "path": path, "value": raw},
		}
	}
	if read == nil {
		return []map[string]any{
			{"op": "test", "path": "/metadata/annotations", "value": nil},
			{"op": "add", "path": "/metadata/annotations", "value": map[string]string{AnnotationState: raw}},
		}
	}
	return []map[string]any{
		{"op": "test", "path": "/metadata/annotations", "value": read},
		{"op": "add", "path": path, "value": raw},
	}
}

// escapePointer escapes a map key for a JSON pointer (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// FieldManager is the field manager of the controller's writes.
const FieldManager = rollout.FieldManager + "-guard-controller"
