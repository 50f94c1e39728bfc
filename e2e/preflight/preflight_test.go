//go:build e2e

package preflight_test

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/vibestack/rollback/pkg/preflight"
	"github.com/vibestack/rollback/pkg/runbook"
)

const noGo = "preflight: NO-GO: "

// TestGo: the admin of the sandbox, a crashing v2 and a known-good v1: GO
// (exit 0) with the current and target revisions and their difference; the
// crashing pods are a warning, not NO-GO.
func TestGo(t *testing.T) {
	a := newApp(t)
	rb := a.runbook()
	rb.HealthChecks.HTTP = []runbook.HTTPCheck{{URL: a.service(t) + "/healthz", ExpectStatus: 200}}
	path := write(t, rb)

	code, out, errOut := run(t, "preflight", "-f", path)
	if code != 0 {
		t.Fatalf("exit code %d, want 0 (GO)", code)
	}
	rev := line(t, out, "✓ revisions")
	for _, want := range []string{"current 2 (" + a.v2 + ")", "target 1 (" + a.v1 + "): last known good revision 1", "app image: " + a.v2 + " -> " + a.v1} {
		if !strings.Contains(rev, want) {
			t.Errorf("revisions line %q lacks %q", rev, want)
		}
	}
	line(t, out, "✓ access         deployments.apps")
	line(t, out, "✓ access         leases.coordination.k8s.io")
	line(t, out, "✓ owners")
	line(t, out, "✓ monitoring     http ")
	if !strings.HasSuffix(out, "\nGO\n") {
		t.Errorf("stdout does not end with GO:\n%s", out)
	}
	if strings.Contains(out, "secrets") {
		t.Error("secrets checked although the runbook lists none")
	}
	if !strings.Contains(errOut, "preflight: web, 1 cluster, 1 deployment") {
		t.Errorf("no progress on stderr: %q", errOut)
	}

	code, out, _ = run(t, "preflight", "-f", path, "-o", "json")
	if code != 0 {
		t.Fatalf("-o json: exit code %d, want 0", code)
	}
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if !rep.Go || rep.Problems != 0 || rep.App != "web" {
		t.Errorf("report go=%t problems=%d app=%q", rep.Go, rep.Problems, rep.App)
	}
	found := false
	for _, c := range rep.Checks {
		if c.Group == preflight.GroupRevisions && c.Cluster == "sandbox" && c.Name == "web" && c.Status == preflight.OK {
			found = true
		}
	}
	if !found {
		t.Errorf("no ok revisions check in %+v", rep.Checks)
	}
}

// TestAlreadyAtTarget: after the rollback the app step has nothing to do: a warning.
func TestAlreadyAtTarget(t *testing.T) {
	a := newApp(t)
	path := write(t, a.runbook())
	if code, _, _ := run(t, "app", "undo", a.name, "-n", a.ns, "--yes", "--timeout", "60s", "--settle", "1s"); code != 0 {
		t.Fatalf("app undo: exit code %d", code)
	}
	code, out, _ := run(t, "preflight", "-f", path)
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if l := line(t, out, "! revisions"); !strings.Contains(l, "is already the target") {
		t.Errorf("revisions line %q", l)
	}
}

// TestNoGoRestrictedUser: the view-only user may not patch Deployments:
// NO-GO (exit 2) naming verb, resource, namespace and user.
func TestNoGoRestrictedUser(t *testing.T) {
	a := newApp(t)
	path := write(t, a.runbook())
	code, out, errOut := run(t, "preflight", "-f", path, "--kubeconfig", sb.RestrictedKubeconfig)
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (NO-GO)", code)
	}
	l := line(t, out, "✗ access         deployments.apps")
	want := "user sandbox-viewer may not patch, update deployments.apps in namespace " + a.ns
	if !strings.Contains(l, want) {
		t.Errorf("access line %q lacks %q", l, want)
	}
	line(t, out, "✗ access         leases.coordination.k8s.io")
	if !strings.Contains(out, "--verb=patch,update --resource=deployments.apps -n "+a.ns) {
		t.Errorf("no grant command in the fixes:\n%s", out)
	}
	if !strings.Contains(out, "NO-GO (") || !strings.Contains(out, "primary: Ana Primary (+1 555 0100)") || !strings.Contains(out, "engineering lead: Lee Lead (@lee)") {
		t.Errorf("no NO-GO with the escalation contacts:\n%s", out)
	}
	if !strings.Contains(errOut, noGo) || !strings.Contains(errOut, "fix them or call Ana Primary (+1 555 0100)") {
		t.Errorf("stderr %q", errOut)
	}
	// The viewer may read: the revisions are still reported.
	line(t, out, "✓ revisions")
}

// TestNoGoPrometheusUnreachable: monitoring that cannot answer is unknown,
// never ok: NO-GO.
func TestNoGoPrometheusUnreachable(t *testing.T) {
	a := newApp(t)
	rb := a.runbook()
	maxV := 0.05
	rb.HealthChecks.Prometheus = &runbook.PrometheusChecks{URL: "http://" + closedAddr(t), Queries: []runbook.PrometheusQuery{
		{Name: "error-rate", Query: `sum(rate(http_requests_total{code=~"5.."}[5m]))`, Max: &maxV}}}
	path := write(t, rb)
	code, out, errOut := run(t, "preflight", "-f", path)
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (NO-GO)", code)
	}
	line(t, out, "? monitoring     prometheus error-rate")
	if !strings.Contains(out, "cannot verify the rollback without monitoring") {
		t.Errorf("no monitoring fix:\n%s", out)
	}
	if !strings.Contains(errOut, noGo+"1 problem;") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestNoGoGitOps: a Deployment applied by Argo CD: NO-GO with how to suspend the sync.
func TestNoGoGitOps(t *testing.T) {
	a := newApp(t, func(d *appsv1.Deployment) { d.Labels["argocd.argoproj.io/instance"] = "shop-web" })
	code, out, errOut := run(t, "preflight", "-f", write(t, a.runbook()))
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (NO-GO)", code)
	}
	if l := line(t, out, "✗ owners"); !strings.Contains(l, "Argo CD Application shop-web") {
		t.Errorf("owners line %q", l)
	}
	if !strings.Contains(out, "argocd app set shop-web --sync-policy none") {
		t.Errorf("no suspend command:\n%s", out)
	}
	if !strings.Contains(errOut, noGo+"1 problem;") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestMissingContext: a runbook context that the kubeconfig lacks is named
// with the contexts present.
func TestMissingContext(t *testing.T) {
	a := newApp(t)
	rb := a.runbook()
	rb.Clusters = append(rb.Clusters, runbook.Cluster{Context: "dr-site", Namespace: a.ns})
	code, out, _ := run(t, "preflight", "-f", write(t, rb))
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if l := line(t, out, "✗ access         dr-site/kubeconfig"); !strings.Contains(l, `context "dr-site" not found`) || !strings.Contains(l, "[sandbox]") {
		t.Errorf("line %q", l)
	}
}
