//go:build e2e

package incident_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
)

// TestRunRefusals: bad input and a NO-GO preflight change nothing and exit 2.
func TestRunRefusals(t *testing.T) {
	ns, dir, rb, journalDir := badReleaseIncident(t)
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
			args := append(c.args, "--journal-dir", journalDir, "--kubeconfig", c.kubeconfig)
			r := clitest.Run(t, clitest.Options{Timeout: 2 * time.Minute}, args...)
			if r.Code != 2 {
				t.Errorf("exit %d, want 2", r.Code)
			}
			if !strings.Contains(r.Stdout+r.Stderr, c.want) {
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
