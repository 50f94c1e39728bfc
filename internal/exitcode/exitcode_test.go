package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCode(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("no"))
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Error},
		{"refused", AsRefused(errors.New("paused")), Refused},
		{"wrapped refused", fmt.Errorf("undo web: %w", AsRefused(errors.New("paused"))), Refused},
		{"unhealthy", AsUnhealthy(errors.New("crash")), Unhealthy},
		{"timeout", AsTimeout(errors.New("slow")), Timeout},
		{"forbidden", fmt.Errorf("patch: %w", forbidden), Refused},
		{"deadline", fmt.Errorf("watch: %w", context.DeadlineExceeded), Timeout},
		{"cancelled", context.Canceled, Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
