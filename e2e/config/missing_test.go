//go:build e2e

package config_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/configs"
)

// TestUndoFromMissingVersion: a release points the Deployment at
// app-config-v3, which was never created (CreateContainerConfigError);
// undo switches back to v2, the newest version that exists.
func TestUndoFromMissingVersion(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	ctx := ctxT(t)
	for _, c := range []*corev1.ConfigMap{
		configMap(ns, "app-config-v1", map[string]string{"SANDBOX_MODE": "ok", "LOG_LEVEL": "info"}),
		configMap(ns, "app-config-v2", map[string]string{"SANDBOX_MODE": "ok", "LOG_LEVEL": "warn"}),
	} {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, c, metav1.CreateOptions{})
		must(t, err)
	}
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, app(ns, nil, envFromConfigMap("app-config-v2"), nil), metav1.CreateOptions{})
	must(t, err)
	d := waitAvailable(t, cs, ns, "web")
	d.Spec.Template.Spec.Containers[0].EnvFrom = envFromConfigMap("app-config-v3")
	_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	must(t, err)
	waitPodFailing(t, cs, ns, "CreateContainerConfigError")

	h := rollback(t, ns, "config", "history", "web")
	if h.Code != 0 || !strings.Contains(h.Stdout, "missing:") || !strings.Contains(h.Stdout, "app-config-v2") {
		t.Errorf("history: exit %d, want the missing object and the versions that exist", h.Code)
	}
	r := rollback(t, ns, "config", "undo", "web", "--config", "app-config", "--yes", "--settle", "1s", "--timeout", "60s")
	if r.Code != 0 || !strings.Contains(r.Stderr, "does not exist") {
		t.Fatalf("undo: exit %d, want 0 after saying v3 does not exist", r.Code)
	}
	d = waitAvailable(t, cs, ns, "web")
	if got := d.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name; got != "app-config-v2" {
		t.Errorf("envFrom after undo = %s, want app-config-v2", got)
	}
	snaps, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: configs.LabelSnapshot + "=true"})
	must(t, err)
	if len(snaps.Items) != 0 {
		t.Errorf("%d snapshots of a missing object", len(snaps.Items))
	}
}
