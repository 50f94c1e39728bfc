//go:build e2e

package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/configs"
)

// versionedApp creates app-config-v1 (good) and app-config-v2 (SANDBOX_MODE=crash)
// and the Deployment web referencing v2 in env, envFrom and a volume.
func versionedApp(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	for _, c := range []*corev1.ConfigMap{
		configMap(ns, "app-config-v1", map[string]string{"SANDBOX_MODE": "ok", "LOG_LEVEL": "info"}),
		configMap(ns, "app-config-v2", map[string]string{"SANDBOX_MODE": "crash", "LOG_LEVEL": "debug"}),
	} {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, c, metav1.CreateOptions{})
		must(t, err)
	}
	env := []corev1.EnvVar{{Name: "SANDBOX_MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}, Key: "SANDBOX_MODE"}}}}
	vols := []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}}}}}
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, app(ns, env, envFromConfigMap("app-config-v2"), vols), metav1.CreateOptions{})
	must(t, err)
	waitPodFailing(t, cs, ns, "CrashLoopBackOff")
}

func TestVersionedUndo(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	versionedApp(t, ns)

	h := rollback(t, ns, "config", "history", "web")
	if h.Code != 0 || !strings.Contains(h.Stdout, "version v2 of app-config") || !strings.Contains(h.Stdout, "app-config-v1") {
		t.Fatalf("history: exit %d, want both versions listed", h.Code)
	}

	dry := rollback(t, ns, "config", "undo", "web", "--config", "app-config", "--dry-run")
	if dry.Code != 0 || !strings.Contains(dry.Stdout, `~ SANDBOX_MODE: "crash" -> "ok"`) || !strings.Contains(dry.Stdout, "versioned") {
		t.Fatalf("dry run: exit %d, want the strategy and a value diff", dry.Code)
	}

	r := rollback(t, ns, "-o", "json", "config", "undo", "web", "--config", "app-config", "--yes", "--settle", "1s", "--timeout", "60s")
	if r.Code != 0 {
		t.Fatalf("undo: exit %d, want 0", r.Code)
	}
	var res struct {
		Strategy        configs.Strategy
		To, Verdict     string
		TemplateChanges []string
	}
	must(t, json.Unmarshal([]byte(r.Stdout), &res))
	if res.Strategy != configs.StrategyVersioned || res.To != "app-config-v1" || res.Verdict != "rolled-back" || len(res.TemplateChanges) != 3 {
		t.Errorf("result: strategy %s to %s verdict %s template changes %v", res.Strategy, res.To, res.Verdict, res.TemplateChanges)
	}

	d := waitAvailable(t, cs, ns, "web")
	if rev := d.Annotations["deployment.kubernetes.io/revision"]; rev != "2" {
		t.Errorf("deployment revision %s, want a new revision 2", rev)
	}
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	if got := c.Env[0].ValueFrom.ConfigMapKeyRef.Name; got != "app-config-v1" {
		t.Errorf("env reference = %s", got)
	}
	if got := c.EnvFrom[0].ConfigMapRef.Name; got != "app-config-v1" {
		t.Errorf("envFrom reference = %s", got)
	}
	if got := spec.Volumes[0].ConfigMap.Name; got != "app-config-v1" {
		t.Errorf("volume reference = %s", got)
	}
	pods := currentPods(t, cs, ns, d)
	if len(pods) != 2 {
		t.Fatalf("%d current pods, want 2", len(pods))
	}
	for _, p := range pods {
		for _, ref := range configs.References(&p.Spec) {
			if ref.Name != "app-config-v1" {
				t.Errorf("pod %s references %s", p.Name, ref)
			}
		}
	}
	// The bad version is kept: nothing was deleted, and a snapshot of it exists.
	snaps, err := cs.CoreV1().ConfigMaps(ns).List(ctxT(t), metav1.ListOptions{LabelSelector: configs.LabelSnapshotOf + "=app-config-v2"})
	must(t, err)
	if len(snaps.Items) != 1 {
		t.Errorf("%d snapshots of app-config-v2, want 1", len(snaps.Items))
	}

	// Undoing again to v1 is a no-op.
	again := rollback(t, ns, "config", "undo", "web", "--config", "app-config", "--to", "v1", "--yes")
	if again.Code != 0 || !strings.Contains(again.Stdout, "skipped") {
		t.Errorf("second undo to v1: exit %d, want 0 and skipped", again.Code)
	}
}
