//go:build e2e

package evidence_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestControllerKeepsEvidence: the guard controller rolls back a
// crash-looping release of an opted-in Deployment, and keeps the evidence
// in its journal directory first: the bad pods' status and the crashed
// runs of those that crashed before it acted.
func TestControllerKeepsEvidence(t *testing.T) {
	ns := sb.Namespace(t)
	journals := filepath.Join(t.TempDir(), "ctl")
	deployment(t, ns, "web", "example/web:v1", 2)
	_, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctxT(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "guard-config"},
		Data: map[string]string{"bake": "5s", "interval": "1s", "settle": "1s", "timeout": "2m"}}, metav1.CreateOptions{})
	must(t, err)
	d := sb.Deployment(t, ns, "web")
	d.Annotations["rollback.vibestack.dev/guard"] = "enabled"
	d.Annotations["rollback.vibestack.dev/guard-config"] = "guard-config"
	_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctxT(t), d, metav1.UpdateOptions{})
	must(t, err)
	ctl := clitest.Start(t, clitest.Binary(t), nil, "guard", "--controller", "--kubeconfig", sb.Kubeconfig, "-n", ns,
		"--identity", "evidence-ctl", "--health-addr", "127.0.0.1:0", "--journal-dir", journals,
		"--lease-namespace", ns, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms")
	t.Cleanup(func() { ctl.Stop(15 * time.Second) })
	clitest.WaitFor(t, 60*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "became the leader") })

	setImage(t, ns, "web", "example/web:crash-v2")
	clitest.WaitFor(t, 3*time.Minute, "the controller's rollback", func() bool {
		return strings.Contains(sb.Deployment(t, ns, "web").Annotations["rollback.vibestack.dev/guard-state"], `"phase":"rolled-back"`)
	})
	var bundles []string
	clitest.WaitFor(t, time.Minute, "the controller's incident closed", func() bool {
		l, _ := journal.List(journals)
		bundles = bundlesOf(t, journals)
		return len(l) == 1 && l[0].Status != "open" && len(bundles) == 1
	})
	a, err := evidence.ReadFile(bundles[0])
	must(t, err)
	wdir := workloadDir(ns, "web")
	t.Logf("controller: %d files, %d bytes, collected in %s", len(a.Manifest.Files), a.Manifest.Size(), a.Manifest.Duration())
	var pods []evidence.PodStatus
	bad, crashed := 0, 0
	must(t, json.Unmarshal(a.Files[wdir+"/pods.json"], &pods))
	for _, p := range pods {
		if p.Role != evidence.RoleBad {
			continue
		}
		bad++
		logs := string(a.Files[wdir+"/logs/"+p.Pod+"/app.log"]) + string(a.Files[wdir+"/logs/"+p.Pod+"/app.previous.log"])
		if strings.Contains(logs, "panic: sandbox mode crash: app cannot start (image example/web:crash-v2)") {
			crashed++
		}
	}
	if bad == 0 || crashed == 0 {
		t.Errorf("the controller's evidence has %d pods of the bad revision, %d with the crash in their logs: %+v", bad, crashed, a.Manifest)
	}
}
