package helmtarget

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/pkg/rollout"
)

// TestWriteUndoResult: the human result names every workload of the
// release with its kind, and the pod a stuck StatefulSet had replaced.
func TestWriteUndoResult(t *testing.T) {
	plan := &Plan{Release: "stack", Namespace: "shop", From: Revision{Revision: 2}, To: Revision{Revision: 1, Chart: "stack-1.0.0"},
		Workloads: []string{"deployment/web", "statefulset/db", "daemonset/agent"}, Deployments: []string{"web"}}
	web := &rollout.StatusResult{Kind: rollout.KindDeployment, Name: "web", Deployment: "web", Verdict: VerdictHealthy}
	agent := &rollout.StatusResult{Kind: rollout.KindDaemonSet, Name: "agent", Verdict: VerdictHealthy}
	for _, tt := range []struct {
		name string
		res  *UndoResult
	}{
		{"healthy", &UndoResult{Release: "stack", Namespace: "shop", Verdict: VerdictHealthy, Plan: plan, NewRevision: 3, Marked: MarkGood,
			Durations: rollout.Duration(4 * time.Second), Workloads: []*rollout.StatusResult{web,
				{Kind: rollout.KindStatefulSet, Name: "db", Verdict: VerdictHealthy, Replaced: []rollout.PodReplacement{{Pod: "db-2", Why: rollout.ReplacedStuck}}},
				agent}}},
		{"unhealthy", &UndoResult{Release: "stack", Namespace: "shop", Verdict: VerdictUnhealthy, Plan: plan, NewRevision: 3, Marked: MarkFailed,
			Durations: rollout.Duration(4 * time.Second), Workloads: []*rollout.StatusResult{web,
				{Kind: rollout.KindStatefulSet, Name: "db", Verdict: VerdictUnhealthy, Reason: "pod db-0 container app: CrashLoopBackOff"},
				agent}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteUndoResult(&b, tt.res)
			golden.Assert(t, filepath.Join("testdata", "undo-"+tt.name+".txt"), b.Bytes())
		})
	}
}

// TestUndoResultReason names the first workload that is not healthy by its kind.
func TestUndoResultReason(t *testing.T) {
	for _, tt := range []struct {
		kind rollout.Kind
		want string
	}{
		{rollout.KindStatefulSet, "statefulset db: crash"},
		{rollout.KindDaemonSet, "daemonset db: crash"},
		{"", "deployment db: crash"},
	} {
		r := &UndoResult{Workloads: []*rollout.StatusResult{{Kind: tt.kind, Name: "db", Verdict: VerdictUnhealthy, Reason: "crash"}}}
		if got := r.Reason(); got != tt.want {
			t.Errorf("kind %q: reason %q, want %q", tt.kind, got, tt.want)
		}
	}
}
