package configs

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func testPodSpec() *corev1.PodSpec {
	return &corev1.PodSpec{
		InitContainers: []corev1.Container{{
			Name:    "migrate",
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db-credentials"}}}},
		}},
		Containers: []corev1.Container{{
			Name: "app",
			Env: []corev1.EnvVar{
				{Name: "LITERAL", Value: "x"},
				{Name: "SANDBOX_MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}, Key: "SANDBOX_MODE"}}},
				{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api-token"}, Key: "token"}}},
				{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}}}},
			{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-cert"}}},
			{Name: "bundle", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "ca-bundle"}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "api-token"}}},
			}}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
}

func TestReferences(t *testing.T) {
	got := References(testPodSpec())
	want := []Ref{
		{Kind: KindConfigMap, Name: "app-config-v2", Places: []string{"container app envFrom", "container app env SANDBOX_MODE", "volume config"}},
		{Kind: KindConfigMap, Name: "ca-bundle", Places: []string{"projected volume bundle"}},
		{Kind: KindSecret, Name: "api-token", Places: []string{"container app env TOKEN", "projected volume bundle"}},
		{Kind: KindSecret, Name: "db-credentials", Places: []string{"initContainer migrate envFrom"}},
		{Kind: KindSecret, Name: "tls-cert", Places: []string{"volume tls"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("References:\n got %+v\nwant %+v", got, want)
	}
}

func TestReferencesEmpty(t *testing.T) {
	if got := References(&corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}); len(got) != 0 {
		t.Errorf("References of a spec without configuration = %v, want none", got)
	}
}

func TestSwitchReferences(t *testing.T) {
	tests := []struct {
		name     string
		kind     Kind
		from, to string
		places   int
	}{
		{"configmap in env, envFrom and volume", KindConfigMap, "app-config-v2", "app-config-v1", 3},
		{"secret in env and projected volume", KindSecret, "api-token", "api-token-v1", 2},
		{"kind must match", KindSecret, "app-config-v2", "app-config-v1", 0},
		{"absent name", KindConfigMap, "nope", "other", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testPodSpec()
			places := SwitchReferences(spec, tt.kind, tt.from, tt.to)
			if len(places) != tt.places {
				t.Fatalf("switched %d places (%v), want %d", len(places), places, tt.places)
			}
			for _, r := range References(spec) {
				if r.Kind == tt.kind && r.Name == tt.from {
					t.Errorf("reference to %s left after the switch: %v", tt.from, r.Places)
				}
			}
		})
	}
}
