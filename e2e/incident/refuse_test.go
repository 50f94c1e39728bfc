package incident_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
)

// TestRunRefusals: bad input and a NO-GO preflight change nothing and exit 2.
func TestRunRefusals(t *testing.T) {
	ns := sb.Namespace(t)
	goodApp(t, ns)
	badRelease(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, steps: []string{"app", "config"}})
	journalDir := filepath.Join(dir, "incidents")
	before := deployment(t, ns).ResourceVersion

	cases := []struct {
		name       string
		kubeconfig string
		args       []string
		want       string
	}{
		{"no tty without --yes", sb.Kubeconfig, []string{"run", "-f", rb}, "--yes"},
		{"unknown step", sb.Kubeconfig, []string{"run", "-f", rb, "--yes", "--steps", "app,cache"}, `unknown step "cache"`},
		{"db step without database", sb.Kubeconfig, []string{"run", "-f", rb, "--yes", "--steps", "db"}, "no database section"},
		{"missing runbook", sb.Kubeconfig, []string{"run", "-f", filepath.Join(dir, "nope.yaml"), "--yes"}, "nope.yaml"},
		{"restricted user: forbidden", sb.RestrictedKubeconfig, []string{"run", "-f", rb, "--yes"}, "rollback preflight"},
		{"resume unknown incident", sb.Kubeconfig, []string{"run", "-f", rb, "--yes", "--resume", "inc-20260101-000000-dead"}, "no journal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			io, _, out, errOut := iostreams.Test()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append(c.args, "--journal-dir", journalDir, "--kubeconfig", c.kubeconfig)
			code := command.Execute(ctx, io, args)
			t.Logf("exit %d\n%s\n%s", code, out, errOut)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(out.String()+errOut.String(), c.want) {
				t.Errorf("output lacks %q", c.want)
			}
			if rv := deployment(t, ns).ResourceVersion; rv != before {
				// The controllers may update status; compare the template instead.
				if img := deployment(t, ns).Spec.Template.Spec.Containers[0].Image; img != "registry.example/vibestack-app:crash" {
					t.Errorf("the deployment changed: image %s", img)
				}
			}
		})
	}
}
