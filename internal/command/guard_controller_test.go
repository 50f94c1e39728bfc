package command

import (
	"context"
	"strings"
	"testing"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/internal/iostreams"
)

// Bad input to `guard --controller` is refused (exit 2) before any cluster access.
func TestGuardControllerRefusals(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"a deployment name", []string{"web"}, "takes no workload"},
		{"an unknown kind", []string{"--kinds", "deployment,cronjob"}, `--kinds: unknown workload kind "cronjob"`},
		{"a per-run flag", []string{"--bake", "1m"}, "[--bake] do not apply to guard --controller"},
		{"renew deadline not below the lease duration", []string{"--renew-deadline", "20s"}, "need --retry-period (2s) < --renew-deadline (20s) < --lease-duration (15s)"},
		{"no concurrency", []string{"--max-concurrent", "0"}, "--max-concurrent 0: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, _, errOut := iostreams.Test()
			args := append([]string{"guard", "--controller", "--kubeconfig", "/nonexistent", "--health-addr", ""}, tt.args...)
			code := Execute(context.Background(), io, args)
			if code != exitcode.Refused || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("rollback %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, errOut, tt.wantErr)
			}
		})
	}
}
