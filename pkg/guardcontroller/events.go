package guardcontroller

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Component is the source component of the controller's Events.
const Component = "rollback-guard-controller"

// Event reasons the controller records on the workloads it guards.
const (
	ReasonGuardStarted    = "GuardStarted"
	ReasonGuardResumed    = "GuardResumed"
	ReasonBakeStarted     = "BakeStarted"
	ReasonGuardPassed     = "GuardPassed"
	ReasonRolledBack      = "GuardRolledBack"
	ReasonGuardFailed     = "GuardFailed"
	ReasonGuardCancelled  = "GuardCancelled"
	ReasonVerifying       = "GuardVerifyingRollback"
	ReasonRollingBack     = "GuardRollingBack"
	ReasonInvalidSettings = "InvalidGuardSettings"
	ReasonInvalidState    = "InvalidGuardState"
)

// recorder writes Events on guarded workloads and structured log records.
type recorder struct {
	cs       kubernetes.Interface
	clock    clock.Clock
	identity string
	log      *slog.Logger
	seq      atomic.Uint64
}

// logf writes one log record.
func (r *recorder) logf(format string, args ...any) {
	r.log.Info(redact.String(fmt.Sprintf(format, args...)))
}

// observer returns the progress observer of the work on the workload of
// key (kind/namespace/name): every event becomes one structured log record.
func (r *recorder) observer(key string) progress.Observer {
	return progress.Func(func(e progress.Event) {
		if e.Message == "" {
			return
		}
		level := slog.LevelInfo
		switch e.Kind {
		case progress.Warning:
			level = slog.LevelWarn
		case progress.Update:
			level = slog.LevelDebug
		}
		r.log.Log(context.Background(), level, redact.String(e.Message), "workload", key, "kind", string(e.Kind), "source", e.Source, "target", e.Target)
	})
}

// event records an Event on the workload (type Normal or Warning) and logs
// it. A failed Event write is logged, never fatal.
func (r *recorder) event(ctx context.Context, w *rollout.WorkloadInfo, typ, reason, format string, args ...any) {
	msg := redact.String(fmt.Sprintf(format, args...))
	r.log.Info(msg, "workload", keyOf(w.Workload), "event", reason, "type", typ)
	now := metav1.NewTime(r.clock.Now())
	ev := &corev1.Event{
		// Named like client-go's recorder does: unique per object and time.
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x.%d", w.Name, now.UnixNano(), r.seq.Add(1)), Namespace: w.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: string(w.Kind), APIVersion: "apps/v1", Namespace: w.Namespace, Name: w.Name,
			UID: w.UID, ResourceVersion: w.Object.GetResourceVersion(),
		},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: Component, Host: r.identity},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "rollback.vibestack.dev/guard-controller", ReportingInstance: r.identity,
	}
	if _, err := r.cs.CoreV1().Events(w.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		r.logf("%s: record event %s: %v", keyOf(w.Workload), reason, err)
	}
}
