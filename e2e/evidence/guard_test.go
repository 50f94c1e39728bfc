//go:build e2e

package evidence_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/e2e/promenv"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/rollout"
)

// errorRate is guard's query: the ratio of 5xx responses of the namespace.
const errorRate = `(sum(rate(http_requests_total{namespace="{{.namespace}}",code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{namespace="{{.namespace}}"}[5s]))`

// TestHTTP500GuardKeepsEvidence: a release whose pods are Ready but answer
// 500, under `rollback guard` with a real Prometheus and a health check.
// Guard rolls it back; the evidence holds the 500s each pod logged (as
// kubectl logs printed them), the pods' status, the analysis rounds and the
// Prometheus query and check results that failed; the report shows the
// failed checks.
func TestHTTP500GuardKeepsEvidence(t *testing.T) {
	ctx := ctxT(t)
	ns := sb.Namespace(t)
	journals := filepath.Join(t.TempDir(), "incidents")
	deployment(t, ns, "web", "example/web:v1", 2)
	url := sb.Service(t, ns, "web")
	load, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go promenv.Load(load, url+"/checkout", 4)
	prom := promenv.Start(ctx, t, func() []promenv.Target {
		return []promenv.Target{{Addr: promenv.HostOf(url), Labels: map[string]string{"namespace": ns, "service": "web"}}}
	})
	must(t, prom.WaitData(ctx, fmt.Sprintf(`sum(rate(http_requests_total{namespace=%q}[5s])) > 0`, ns), 60*time.Second))

	setImage(t, ns, "web", "example/web:http500-v2")
	pods, hash := revisionPods(t, ns, "web", 2, "2 pods of revision 2 ready", func(p corev1.Pod) bool { return rollout.PodReady(&p) })
	ref := watchLogs(t, ns, pods)
	r := rollback(t, "guard", "web", "-n", ns, "--journal-dir", journals, "--check-url", url+"/healthz",
		"--prom-url", prom.URL, "--prom-query", errorRate, "--max", "0.05",
		"--bake", "20s", "--interval", "1s", "--settle", "1s", "--timeout", "2m", "-o", "json")
	if r.Code != 3 {
		t.Fatalf("guard: exit %d, want 3 (rolled back)", r.Code)
	}
	var res guard.Result
	must(t, json.Unmarshal([]byte(r.Stdout), &res))
	if res.Verdict != guard.VerdictRolledBack || res.Incident == "" {
		t.Fatalf("guard verdict %s incident %q, want rolled-back with an incident", res.Verdict, res.Incident)
	}
	waitGone(t, ns, "web", hash)
	k := keptEvidence(t, journals, res.Incident)
	wdir := workloadDir(ns, "web")
	t.Logf("http500 release of 2 pods under guard: %d files, %d bytes, collected in %s", len(k.manifest.Files), k.manifest.Size(), k.manifest.Duration())

	ref.check(t, k, wdir, `status=500 err="internal server error (sandbox mode http500)"`)
	statuses := podStatuses(t, k, wdir)
	for _, p := range pods {
		if s := statuses[p]; s.Role != evidence.RoleBad || !s.Ready || s.Revision != 2 {
			t.Errorf("pod %s: %+v; want a Ready pod of revision 2, being rolled back", p, s)
		}
	}
	var analysis evidence.Analysis
	must(t, json.Unmarshal([]byte(k.file(t, "guard/analysis.json")), &analysis))
	if analysis.Verdict != "fail" || len(analysis.Rounds) == 0 {
		t.Errorf("analysis: verdict %q, %d rounds; want fail with its rounds", analysis.Verdict, len(analysis.Rounds))
	}
	failed := k.file(t, "guard/failed-checks.json")
	if !strings.Contains(failed, "query1") && !strings.Contains(failed, "/healthz") {
		t.Errorf("failed-checks.json names neither the query nor the health check:\n%s", failed)
	}
	checkShown(t, journals, k, "Guard analysis", "Verdict fail", "sandbox mode http500")
}
