//go:build e2e

package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/rollout"
)

var goodSettings = map[string]string{"SANDBOX_MODE": "ok", "LOG_LEVEL": "info", "settings.json": "{\"retries\": 3,\n \"name\": \"vibestack\"}\n"}

// settingsApp creates the unversioned ConfigMap "settings" (good data, plus
// a binary key) and the Deployment web using it through envFrom and a
// volume, and waits until it is available.
func settingsApp(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	c := configMap(ns, "settings", goodSettings)
	c.BinaryData = map[string][]byte{"logo.bin": {0x89, 0x50, 0x00, 0xff}}
	_, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, c, metav1.CreateOptions{})
	must(t, err)
	vols := []corev1.Volume{{Name: "settings", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}}
	_, err = sb.Clientset.AppsV1().Deployments(ns).Create(ctx, app(ns, nil, envFromConfigMap("settings"), vols), metav1.CreateOptions{})
	must(t, err)
	waitAvailable(t, sb.Clientset, ns, "web")
}

// breakSettings ships a bad configuration the way people do: edit the
// ConfigMap (SANDBOX_MODE=crash, a changed and an added key), then restart.
func breakSettings(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	c, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	must(t, err)
	c.Data["SANDBOX_MODE"] = "crash"
	c.Data["LOG_LEVEL"] = "debug"
	c.Data["FEATURE_X"] = "on"
	_, err = sb.Clientset.CoreV1().ConfigMaps(ns).Update(ctx, c, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	must(t, err)
	_, err = rollout.Restart(ctx, sb.Clientset.AppsV1().Deployments(ns), "web", time.Now())
	must(t, err)
	waitPodFailing(t, sb.Clientset, ns, "CrashLoopBackOff")
}

func replicaSetNames(t *testing.T, ns string) map[string]bool {
	rss, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctxT(t), metav1.ListOptions{})
	must(t, err)
	out := map[string]bool{}
	for _, rs := range rss.Items {
		out[rs.Name] = true
	}
	return out
}

func TestUnversionedSnapshotUndo(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	settingsApp(t, ns)
	before, err := cs.CoreV1().ConfigMaps(ns).Get(ctxT(t), "settings", metav1.GetOptions{})
	must(t, err)

	snap := rollback(t, ns, "config", "snapshot", "web")
	if snap.Code != 0 || !strings.Contains(snap.Stdout, "settings.snap-") {
		t.Fatalf("snapshot: exit %d", snap.Code)
	}
	breakSettings(t, ns)
	rsBefore := replicaSetNames(t, ns)

	dry := rollback(t, ns, "config", "undo", "web", "--config", "settings", "--dry-run")
	for _, want := range []string{`~ SANDBOX_MODE: "crash" -> "ok"`, `- FEATURE_X: "on"`, "restore from snapshot settings.snap-"} {
		if !strings.Contains(dry.Stdout, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}

	r := rollback(t, ns, "config", "undo", "web", "--config", "settings", "--yes", "--settle", "1s", "--timeout", "60s")
	if r.Code != 0 || !strings.Contains(r.Stdout, "rolled-back") {
		t.Fatalf("undo: exit %d, want 0 and rolled-back", r.Code)
	}
	after, err := cs.CoreV1().ConfigMaps(ns).Get(ctxT(t), "settings", metav1.GetOptions{})
	must(t, err)
	if !reflect.DeepEqual(after.Data, before.Data) || !reflect.DeepEqual(after.BinaryData, before.BinaryData) {
		t.Errorf("data not restored byte for byte:\n got %q %v\nwant %q %v", after.Data, after.BinaryData, before.Data, before.BinaryData)
	}
	d := waitAvailable(t, cs, ns, "web")
	var newRS []string
	for name := range replicaSetNames(t, ns) {
		if !rsBefore[name] {
			newRS = append(newRS, name)
		}
	}
	if len(newRS) != 1 {
		t.Errorf("new ReplicaSets after the undo: %v, want exactly one (the restart)", newRS)
	}
	if d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Error("pod template has no restartedAt annotation")
	}
	// The bad contents were snapshotted before the restore, so this undo can be undone.
	h := rollback(t, ns, "-o", "json", "config", "history", "web")
	if h.Code != 0 || strings.Count(h.Stdout, "before config undo") != 1 {
		t.Errorf("history: exit %d, want one snapshot taken before the undo", h.Code)
	}
}

func TestFromFileRestore(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	settingsApp(t, ns)
	breakSettings(t, ns)

	// The good manifest as kept in Git; the bad change only changed values.
	c, err := cs.CoreV1().ConfigMaps(ns).Get(ctxT(t), "settings", metav1.GetOptions{})
	must(t, err)
	file := filepath.Join(t.TempDir(), "previous.yaml")
	must(t, os.WriteFile(file, []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  SANDBOX_MODE: ok
  LOG_LEVEL: info
  FEATURE_X: "off"
  settings.json: |
    {"retries": 3,
     "name": "vibestack"}
binaryData:
  logo.bin: iVAA/w==
`), 0o644))

	r := rollback(t, ns, "config", "undo", "web", "--config", "settings", "--from-file", file, "--yes", "--settle", "1s", "--timeout", "60s")
	if r.Code != 0 || !strings.Contains(r.Stderr, "server-side apply") {
		t.Fatalf("undo --from-file: exit %d, want 0 with a server-side apply", r.Code)
	}
	after, err := cs.CoreV1().ConfigMaps(ns).Get(ctxT(t), "settings", metav1.GetOptions{})
	must(t, err)
	if after.Data["SANDBOX_MODE"] != "ok" || after.Data["FEATURE_X"] != "off" || after.Data["settings.json"] != goodSettings["settings.json"] {
		t.Errorf("data after restore: %q", after.Data)
	}
	applied := false
	for _, mf := range after.ManagedFields {
		if mf.Manager == configs.FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply {
			applied = true
		}
	}
	if !applied {
		t.Errorf("no managedFields entry for manager %q with operation Apply: %+v", configs.FieldManager, after.ManagedFields)
	}
	if c.ResourceVersion == after.ResourceVersion {
		t.Error("resourceVersion unchanged after the restore")
	}
	waitAvailable(t, cs, ns, "web")
}
