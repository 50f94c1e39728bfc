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
		{name: "app-history-sts", objs: setRevisions("StatefulSet", false, false), args: []string{"app", "history", "sts/db"}},
		{name: "app-history-sts-stuck", objs: setRevisions("StatefulSet", true, false), args: []string{"app", "history", "statefulset/db"}},
		{name: "app-history-ds-json", objs: setRevisions("DaemonSet", false, false), args: []string{"app", "history", "ds/agent", "-o", "json"}},
		{name: "app-undo-sts-dry-run", objs: setRevisions("StatefulSet", false, false), args: []string{"app", "undo", "statefulset/db", "--dry-run"}, stderr: "Undo statefulset db in namespace shop"},
		{name: "app-undo-sts-stuck-dry-run", objs: setRevisions("StatefulSet", true, false), args: []string{"app", "undo", "sts/db", "--dry-run"}, stderr: "stuck pod to replace (kubernetes/kubernetes#67250): db-2"},
		{name: "app-undo-ds-dry-run", objs: setRevisions("DaemonSet", false, false), args: []string{"app", "undo", "daemonset/agent", "--dry-run"}, stderr: "Undo daemonset agent in namespace shop"},
		{name: "app-undo-sts-on-delete-refused", objs: setRevisions("StatefulSet", false, true), args: []string{"app", "undo", "sts/db", "--yes"}, code: 2,
			stderr: "re-run with --replace-pods to replace them one at a time"},
		{name: "app-undo-sts-on-delete-dry-run", objs: setRevisions("StatefulSet", false, true), args: []string{"app", "undo", "sts/db", "--replace-pods", "--dry-run"},
			stderr: "pods to replace, one at a time (OnDelete): db-2\n"},
		{name: "app-undo-unknown-kind", args: []string{"app", "undo", "cronjob/nightly", "--yes"}, code: 2, stderr: `unknown workload kind "cronjob"`},
		{name: "app-undo-kind-without-selector", args: []string{"app", "undo", "db", "--kind", "sts"}, code: 2, stderr: "--kind narrows -l SELECTOR"},
		{name: "app-undo-missing-sts", args: []string{"app", "undo", "sts/nope", "--yes"}, code: 2, stderr: "statefulset nope not found"},
		{name: "app-undo-bulk-kinds-dry-run", objs: append(append(labelled(webRevisions()), setRevisions("StatefulSet", false, false)...), setRevisions("DaemonSet", false, false)...),
			args: []string{"app", "undo", "-l", "tier=shop", "--dry-run"}, stderr: "shop/statefulset/db: revision 3 (shop/db:crash) -> revision 1 (shop/db:v1)"},
		{name: "app-undo-bulk-kind-ds-dry-run", objs: append(labelled(webRevisions()), setRevisions("DaemonSet", false, false)...),
			args: []string{"app", "undo", "-l", "tier=shop", "--kind", "ds", "--dry-run"}},
		{name: "app-undo-bulk-bad-kind", args: []string{"app", "undo", "-l", "tier=shop", "--kind", "pods"}, code: 2, stderr: `--kind: unknown workload kind "pods"`},
		{name: "app-resume-sts", objs: setRevisions("StatefulSet", false, false), args: []string{"app", "resume", "sts/db"}, code: 2, stderr: "statefulset db cannot be paused"},
		{name: "app-mark-good-sts-incomplete", objs: setRevisions("StatefulSet", false, false), args: []string{"app", "mark-good", "sts/db"}, code: 2, stderr: "revision 3 of statefulset db is not fully rolled out"},
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
