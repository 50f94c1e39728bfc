package command

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	goldenfile "github.com/vibestack/rollback/internal/golden"
)

// TestCommandsOnFakeClientsets runs commands end to end through cobra, the
// Factory and the libraries against fake clientsets and compares what they
// print with golden files (go test -update rewrites them).
func TestCommandsOnFakeClientsets(t *testing.T) {
	tests := []struct {
		name   string
		objs   []runtime.Object
		args   []string
		code   int
		stderr string // a part stderr must contain
	}{
		{name: "app-history", objs: webRevisions(), args: []string{"app", "history", "web"}},
		{name: "app-history-json", objs: webRevisions(), args: []string{"app", "history", "web", "-o", "json"}},
		{name: "app-undo-dry-run", objs: webRevisions(), args: []string{"app", "undo", "web", "--dry-run"}, stderr: "Undo deployment web in namespace shop"},
		{name: "app-undo-no-terminal", objs: webRevisions(), args: []string{"app", "undo", "web"}, code: 2, stderr: "re-run with --yes"},
		{name: "app-undo-missing", args: []string{"app", "undo", "nope", "--yes"}, code: 2, stderr: "deployment nope not found"},
		{name: "lock-status-free", args: []string{"lock", "status", "web"}},
		{name: "lock-status-held", objs: []runtime.Object{heldLease("rollback-deployment-web")}, args: []string{"lock", "status", "deployment/web"}},
		{name: "lock-break-no-terminal", objs: []runtime.Object{heldLease("rollback-web")}, args: []string{"lock", "break", "web"}, code: 2, stderr: "run again with --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runFake(t, tt.objs, tt.args...)
			if code != tt.code {
				t.Fatalf("rollback %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.stderr)
			}
			goldenfile.Assert(t, filepath.Join("testdata", "commands", tt.name+".golden"), []byte(out))
		})
	}
}
