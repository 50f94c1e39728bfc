package rollout

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestDiffTemplates(t *testing.T) {
	from := template("repo/app:v3")
	c := &from.Spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "MODE", Value: "crash"},
		{Name: "DB_PASSWORD", Value: "hunter2"},
		{Name: "FEATURE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "flags-v3"}, Key: "feature"}}},
		{Name: "API_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api-v3"}, Key: "token"}}},
	}
	c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v3"}}}}
	c.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}}
	from.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "files-v3"}}}},
		{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-v3"}}},
	}
	from.Spec.Containers = append(from.Spec.Containers, corev1.Container{Name: "sidecar", Image: "repo/proxy:1"})

	to := template("repo/app:v2")
	c = &to.Spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "DB_PASSWORD", Value: "correct-horse"},
		{Name: "FEATURE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "flags-v2"}, Key: "feature"}}},
		{Name: "API_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api-v2"}, Key: "token"}}},
	}
	c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config-v2"}}}}
	c.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}, Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
	to.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "files-v2"}}}}}}},
		{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls-v3"}}},
	}

	d := DiffTemplates(&from, &to)
	var buf bytes.Buffer
	d.Write(&buf, "  ")
	if bytes.Contains(buf.Bytes(), []byte("hunter2")) || bytes.Contains(buf.Bytes(), []byte("correct-horse")) {
		t.Fatalf("diff shows a secret value:\n%s", buf.String())
	}
	golden(t, "diff.golden", buf.String())

	var empty bytes.Buffer
	DiffTemplates(&from, &from).Write(&empty, "")
	golden(t, "diff-empty.golden", empty.String())
}
