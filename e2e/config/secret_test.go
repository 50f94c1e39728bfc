//go:build e2e

package config_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// The secret values of this test: none may appear in any output.
const (
	goodToken = "tok-GOOD-7f3a9c1e55d2"
	badToken  = "tok-BAD-0b8e6d4c22a1"
)

func TestSecretRestoreNeverShowsValues(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	ctx := ctxT(t)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "api-credentials", Namespace: ns},
		Data:       map[string][]byte{"SANDBOX_MODE": []byte("ok"), "API_TOKEN": []byte(goodToken)},
	}
	_, err := cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
	must(t, err)
	env := []corev1.EnvVar{{Name: "API_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "api-credentials"}, Key: "API_TOKEN"}}}}
	envFrom := []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api-credentials"}}}}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, app(ns, env, envFrom, nil), metav1.CreateOptions{})
	must(t, err)
	waitAvailable(t, cs, ns, "web")

	var outputs []result
	outputs = append(outputs, rollback(t, ns, "config", "snapshot", "web"))
	// A bad secret rotation: a new token and a mode that crashes the app.
	sec, err = cs.CoreV1().Secrets(ns).Get(ctx, "api-credentials", metav1.GetOptions{})
	must(t, err)
	sec.Data["API_TOKEN"], sec.Data["SANDBOX_MODE"] = []byte(badToken), []byte("crash")
	_, err = cs.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	must(t, err)
	_, err = rollout.Restart(ctx, cs.AppsV1().Deployments(ns), "web", time.Now())
	must(t, err)
	waitPodFailing(t, cs, ns, "CrashLoopBackOff")

	outputs = append(outputs,
		rollback(t, ns, "config", "history", "web"),
		rollback(t, ns, "-o", "json", "config", "history", "web"),
		rollback(t, ns, "config", "undo", "web", "--config", "secret/api-credentials", "--dry-run"),
		rollback(t, ns, "-o", "json", "config", "undo", "web", "--config", "api-credentials", "--dry-run"),
		// Refused (no --yes, no terminal), after printing the plan.
		rollback(t, ns, "config", "undo", "web", "--config", "api-credentials"),
		// Refused by a conflict-free but wrong request: a snapshot that does not exist.
		rollback(t, ns, "config", "undo", "web", "--config", "api-credentials", "--to", "nope"),
	)
	undo := rollback(t, ns, "-o", "json", "config", "undo", "web", "--config", "api-credentials", "--yes", "--settle", "1s", "--timeout", "60s")
	outputs = append(outputs, undo, rollback(t, ns, "config", "history", "web"))
	if undo.Code != 0 {
		t.Fatalf("secret undo: exit %d, want 0", undo.Code)
	}
	got, err := cs.CoreV1().Secrets(ns).Get(ctx, "api-credentials", metav1.GetOptions{})
	must(t, err)
	if string(got.Data["API_TOKEN"]) != goodToken || string(got.Data["SANDBOX_MODE"]) != "ok" || len(got.Data) != 2 {
		t.Errorf("secret not restored (keys %d)", len(got.Data))
	}
	// Snapshots of Secrets are Secrets, never ConfigMaps.
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "rollback.vibestack.dev/snapshot=true"})
	must(t, err)
	if len(cms.Items) != 0 {
		t.Errorf("%d ConfigMap snapshots of a Secret", len(cms.Items))
	}
	waitAvailable(t, cs, ns, "web")

	forbidden := []string{goodToken, badToken,
		base64.StdEncoding.EncodeToString([]byte(goodToken)), base64.StdEncoding.EncodeToString([]byte(badToken))}
	for i, o := range outputs {
		for _, v := range forbidden {
			if strings.Contains(o.All(), v) {
				t.Errorf("output %d (exit %d) contains a secret value", i, o.Code)
			}
		}
	}
}
