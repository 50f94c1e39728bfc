package outcome

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKindOf(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("no"))
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Failed},
		{"refused", AsRefused(errors.New("paused")), Refused},
		{"wrapped refused", fmt.Errorf("undo web: %w", AsRefused(errors.New("paused"))), Refused},
		{"outermost wins", AsUnhealthy(fmt.Errorf("guard: %w", AsRefused(errors.New("no target")))), Unhealthy},
		{"unhealthy", AsUnhealthy(errors.New("crash")), Unhealthy},
		{"timeout", AsTimeout(errors.New("slow")), TimedOut},
		{"forbidden", fmt.Errorf("patch: %w", forbidden), Refused},
		{"deadline", fmt.Errorf("watch: %w", context.DeadlineExceeded), TimedOut},
		{"cancelled", context.Canceled, Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestIs(t *testing.T) {
	err := fmt.Errorf("undo: %w", AsRefused(errors.New("paused")))
	if !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnhealthy) {
		t.Errorf("errors.Is on a refusal: refused=%v unhealthy=%v", errors.Is(err, ErrRefused), errors.Is(err, ErrUnhealthy))
	}
	if As(OK, err) != err || As(Refused, nil) != nil {
		t.Error("As(OK, err) must return err and As(kind, nil) nil")
	}
}

func TestWorst(t *testing.T) {
	if got := Worst(Failed, TimedOut, Refused); got != TimedOut {
		t.Errorf("Worst = %s, want timeout", got)
	}
	if got := Worst(); got != OK {
		t.Errorf("Worst() = %s, want ok", got)
	}
}
