//go:build e2e

package evidence_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestMissingConfigMapRunKeepsEvidence: a release whose pods reference a
// ConfigMap that does not exist, rolled back by `rollback run`. The
// containers never start, so there is no log: kubectl logs says the
// container is waiting to start, and the evidence records the same (left
// out: never started), with each pod's status (CreateContainerConfigError,
// the missing ConfigMap named) and the Events; the report names the reason.
func TestMissingConfigMapRunKeepsEvidence(t *testing.T) {
	ns := sb.Namespace(t)
	dir := t.TempDir()
	journals := filepath.Join(dir, "incidents")
	deployment(t, ns, "web", "example/web:v1", 2)
	release(t, ns, "web", `{"template":{"spec":{"containers":[{"name":"app","image":"example/web:v2",
		"envFrom":[{"configMapRef":{"name":"web-config-v2"}}]}]}}}`)
	waiting := func(p corev1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerConfigError"
	}
	pods, hash := revisionPods(t, ns, "web", 2, "2 pods of revision 2 in CreateContainerConfigError", waiting)
	for _, p := range pods {
		out, err := sb.KubectlContext(ctxT(t), "logs", "-n", ns, p, "-c", "app")
		if err == nil || !strings.Contains(out, "is waiting to start") {
			t.Errorf("kubectl logs %s: %v\n%s; want the container waiting to start", p, err, out)
		}
	}
	before := eventsNow(t, ns)
	rb := filepath.Join(dir, "rollback.yaml")
	must(t, os.WriteFile(rb, []byte(fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: web
clusters:
  - context: sandbox
    namespace: %s
deployments: [web]
steps: [app]
`, ns)), 0o644))
	r := rollback(t, "run", "-f", rb, "--yes", "--settle", "1s", "--journal-dir", journals, "--reason", "v2 needs web-config-v2")
	if r.Code != 0 {
		t.Fatalf("rollback run: exit %d", r.Code)
	}
	waitGone(t, ns, "web", hash)
	id := onlyIncident(t, journals)
	k := keptEvidence(t, journals, id)
	wdir := workloadDir(ns, "web")
	t.Logf("missing-ConfigMap release of 2 pods by rollback run: %d files, %d bytes, collected in %s", len(k.manifest.Files), k.manifest.Size(), k.manifest.Duration())

	statuses := podStatuses(t, k, wdir)
	for _, p := range pods {
		if _, ok := k.files[wdir+"/logs/"+p+"/app.log"]; ok {
			t.Errorf("pod %s has a log in the evidence, but its container never started", p)
		}
		if sk := k.skipped("logs of pod " + p + " container app"); len(sk) != 1 || !strings.Contains(sk[0].Why, "never started: CreateContainerConfigError") {
			t.Errorf("pod %s: left out %+v; want its log recorded as never started", p, sk)
		}
		s := statuses[p]
		if len(s.Containers) != 1 || s.Containers[0].Reason != "CreateContainerConfigError" || !strings.Contains(s.Containers[0].Message, "web-config-v2") {
			t.Errorf("pod %s: %+v; want container app waiting in CreateContainerConfigError naming web-config-v2", p, s)
		}
	}
	checkEvents(t, k, wdir, before, hash)
	checkShown(t, journals, k, "CreateContainerConfigError", "web-config-v2", "2 of 2 pods of the revision failing")
}
