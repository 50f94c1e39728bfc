package guardcontroller

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/redact"
)

// Component is the source component of the controller's Events.
const Component = "rollback-guard-controller"

// Event reasons the controller records on Deployments.
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

// recorder writes Events on Deployments and structured log records.
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

// observer returns the progress observer of the work on Deployment key
// (namespace/name): every event becomes one structured log record.
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
		r.log.Log(context.Background(), level, redact.String(e.Message), "deployment", key, "kind", string(e.Kind), "source", e.Source, "target", e.Target)
	})
}

// event records an Event on d (type Normal or Warning) and logs it. A failed
// Event write is logged, never fatal.
func (r *recorder) event(ctx context.Context, d *appsv1.Deployment, typ, reason, format string, args ...any) {
	msg := redact.String(fmt.Sprintf(format, args...))
	r.log.Info(msg, "deployment", d.Namespace+"/"+d.Name, "event", reason, "type", typ)
	now := metav1.NewTime(r.clock.Now())
	ev := &corev1.Event{
		// Named like client-go's recorder does: unique per Deployment and time.
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x.%d", d.Name, now.UnixNano(), r.seq.Add(1)), Namespace: d.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Deployment", APIVersion: "apps/v1", Namespace: d.Namespace, Name: d.Name,
			UID: d.UID, ResourceVersion: d.ResourceVersion,
		},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: Component, Host: r.identity},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "rollback.vibestack.dev/guard-controller", ReportingInstance: r.identity,
	}
	if _, err := r.cs.CoreV1().Events(d.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		r.logf("%s/%s: record event %s: %v", d.Namespace, d.Name, reason, err)
	}
}
