//go:build e2e

package config_test

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRefusalsChangeNothing runs every refusal against one namespace and
// compares the resourceVersion of every object before and after each.
func TestRefusalsChangeNothing(t *testing.T) {
	ns := sb.Namespace(t)
	cs := sb.Clientset
	ctx := ctxT(t)
	versionedApp(t, ns)

	immutable := true
	frozen := configMap(ns, "frozen", map[string]string{"SANDBOX_MODE": "ok", "REGION": "eu"})
	frozen.Immutable = &immutable
	_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, frozen, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "unrelated", map[string]string{"a": "b"}), metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: ns},
		Data:       map[string][]byte{"password": []byte("pw-REFUSAL-secret")},
	}, metav1.CreateOptions{})
	must(t, err)
	// A second Deployment "api" uses the immutable ConfigMap and the Secret.
	api := app(ns, []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "db-password"}, Key: "password"}}}}, envFromConfigMap("frozen"), nil)
	api.Name = "api"
	api.Spec.Selector.MatchLabels = map[string]string{"app": "api"}
	api.Spec.Template.Labels = map[string]string{"app": "api"}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, api, metav1.CreateOptions{})
	must(t, err)
	waitAvailable(t, cs, ns, "api")
	// One snapshot of each so that "no snapshot" is not the reason for a refusal.
	if r := rollback(t, ns, "config", "snapshot", "api"); r.Code != 0 {
		t.Fatalf("snapshot api: exit %d", r.Code)
	}

	tests := []struct {
		name       string
		kubeconfig string
		args       []string
		want       []string
	}{
		{"immutable object, unversioned restore", "", []string{"undo", "api", "--config", "frozen", "--yes"},
			[]string{"configmap " + ns + "/frozen is immutable", "nothing was changed"}},
		{"missing target version", "", []string{"undo", "web", "--config", "app-config", "--to", "v7", "--yes"},
			[]string{"no v7 exists", "v1 = app-config-v1, v2 = app-config-v2 (current)"}},
		{"deployment does not reference the object", "", []string{"undo", "web", "--config", "unrelated", "--yes"},
			[]string{"does not reference unrelated", "It references: configmap/app-config-v2"}},
		{"secret the user may not read", sb.RestrictedKubeconfig, []string{"undo", "api", "--config", "db-password", "--yes"},
			[]string{"you may not read it (forbidden)", "nothing was changed"}},
		{"snapshot as a user who may not read secrets", sb.RestrictedKubeconfig, []string{"snapshot", "api"},
			[]string{"forbidden"}},
		{"no terminal and no --yes", "", []string{"undo", "web", "--config", "app-config"},
			[]string{"no terminal to confirm on", "--yes"}},
		{"--to with --from-file", "", []string{"undo", "web", "--config", "app-config", "--to", "v1", "--from-file", "x.yaml"},
			[]string{"exclude each other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := resourceVersions(t, cs, ns)
			kc := tt.kubeconfig
			if kc == "" {
				kc = sb.Kubeconfig
			}
			r := rollbackAs(t, kc, ns, append([]string{"config"}, tt.args...)...)
			if r.Code != 2 {
				t.Errorf("exit %d, want 2 (refused)", r.Code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if strings.Contains(r.All(), "pw-REFUSAL-secret") {
				t.Error("output contains the secret value")
			}
			if after := resourceVersions(t, cs, ns); !reflect.DeepEqual(before, after) {
				t.Errorf("the cluster changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestHistoryAsViewer shows that a user who may not read Secrets still gets
// the history, with the Secret marked forbidden.
func TestHistoryAsViewer(t *testing.T) {
	ns := sb.Namespace(t)
	ctx := ctxT(t)
	cs := sb.Clientset
	_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: ns},
		Data:       map[string][]byte{"password": []byte("pw-VIEWER-secret")},
	}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "settings", map[string]string{"SANDBOX_MODE": "ok"}), metav1.CreateOptions{})
	must(t, err)
	d := app(ns, []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "db-password"}, Key: "password"}}}}, envFromConfigMap("settings"), nil)
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	must(t, err)

	r := rollbackAs(t, sb.RestrictedKubeconfig, ns, "config", "history", "web")
	if r.Code != 0 {
		t.Fatalf("history as viewer: exit %d, want 0", r.Code)
	}
	for _, want := range []string{"secret/db-password", "forbidden: you may not read it", "configmap/settings", "SANDBOX_MODE (2 bytes"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Contains(r.All(), "pw-VIEWER-secret") {
		t.Error("output contains the secret value")
	}
}
