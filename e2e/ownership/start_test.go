//go:build e2e

package ownership_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/internal/exitcode"
)

// TestTargetCannotStart: revision 1 references something that no longer
// exists; the undo is refused (exit 2, nothing changed) naming it, and the
// config snapshot that holds it when one exists.
func TestTargetCannotStart(t *testing.T) {
	optional := false
	tests := []struct {
		name string
		// setup creates what revision 1 needs, v1 references it, and
		// remove takes it away before the undo.
		setup  func(t *testing.T, ns string)
		v1     func(*corev1.PodSpec)
		remove func(t *testing.T, ns string)
		// snapshot takes a config snapshot of revision 1.
		snapshot bool
		want     []string
	}{
		{name: "configmap", setup: func(t *testing.T, ns string) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}, Data: map[string]string{"LOG_LEVEL": "info"}}
			if _, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx(t), cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, remove: func(t *testing.T, ns string) {
			if err := sb.Clientset.CoreV1().ConfigMaps(ns).Delete(ctx(t), "settings", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, v1: func(s *corev1.PodSpec) {
			s.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}
		}, want: []string{"configmap settings (used by container app envFrom)"}},
		{name: "secret key, with a snapshot", setup: func(t *testing.T, ns string) {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns}, Data: map[string][]byte{"API_KEY": []byte("v1-key-value")}}
			if _, err := sb.Clientset.CoreV1().Secrets(ns).Create(ctx(t), sec, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, v1: func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "API_KEY", Optional: &optional}}}}
		}, snapshot: true, remove: func(t *testing.T, ns string) {
			sec, _ := sb.Clientset.CoreV1().Secrets(ns).Get(ctx(t), "api", metav1.GetOptions{})
			sec.Data = map[string][]byte{"OTHER": []byte("x")}
			if _, err := sb.Clientset.CoreV1().Secrets(ns).Update(ctx(t), sec, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"secret api key API_KEY (used by container app env API_KEY); snapshot api.snap-", "`rollback config undo web -n"}},
		// The claim is deleted while revision 1's pod still uses it: PVC
		// protection keeps it, terminating, and no new pod can use it.
		{name: "pvc being deleted", setup: func(t *testing.T, ns string) {
			pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: ns},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
			if _, err := sb.Clientset.CoreV1().PersistentVolumeClaims(ns).Create(ctx(t), pvc, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, remove: func(t *testing.T, ns string) {
			if err := sb.Clientset.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, v1: func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
		}, want: []string{"persistentvolumeclaim data (being deleted) (used by volume data)"}},
		{name: "service account", v1: func(s *corev1.PodSpec) { s.ServiceAccountName = "web-sa" },
			want: []string{"serviceaccount web-sa (used by serviceAccountName)"}},
		{name: "image pull secret", v1: func(s *corev1.PodSpec) {
			s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
		}, want: []string{"secret registry (used by imagePullSecrets)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := sb.Namespace(t)
			if tt.setup != nil {
				tt.setup(t, ns)
			}
			twoRevisions(t, ns, nil, tt.v1, func() {
				if !tt.snapshot {
					return
				}
				if code, _, _ := run(t, "config", "snapshot", "web", "-n", ns); code != 0 {
					t.Fatalf("config snapshot exit %d", code)
				}
			})
			if tt.remove != nil {
				tt.remove(t, ns)
			}
			before := generation(t, ns)
			code, out, errOut := run(t, "app", "undo", "web", "-n", ns, "--yes", "--to-revision", "1")
			if code != exitcode.Refused {
				t.Fatalf("exit %d, want 2", code)
			}
			for _, w := range append(tt.want, "revision 1 of deployment web cannot start") {
				if !strings.Contains(errOut, w) {
					t.Errorf("refusal lacks %q", w)
				}
			}
			if strings.Contains(out+errOut, "v1-key-value") {
				t.Error("the refusal shows a secret value")
			}
			if generation(t, ns) != before {
				t.Error("the refusal changed the deployment")
			}
		})
	}
}
