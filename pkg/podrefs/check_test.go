package podrefs

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestCheck(t *testing.T) {
	now := metav1.Now()
	optional := true
	tmpl := func(mut func(*corev1.PodSpec)) *corev1.PodTemplateSpec {
		t := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:v1"}}}}
		mut(&t.Spec)
		return t
	}
	pvc := func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	}
	tests := []struct {
		name    string
		objects []runtime.Object
		tmpl    *corev1.PodTemplateSpec
		want    []string
	}{
		{name: "pvc exists", objects: []runtime.Object{&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop"}}},
			tmpl: tmpl(pvc)},
		{name: "pvc missing", tmpl: tmpl(pvc), want: []string{"persistentvolumeclaim data"}},
		{name: "pvc being deleted", objects: []runtime.Object{&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop",
			DeletionTimestamp: &now, Finalizers: []string{"kubernetes.io/pvc-protection"}}}},
			tmpl: tmpl(pvc), want: []string{"persistentvolumeclaim data (being deleted)"}},
		{name: "configmap key missing", objects: []runtime.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "shop"}, Data: map[string]string{"A": "1"}}},
			tmpl: tmpl(func(s *corev1.PodSpec) {
				s.Containers[0].Env = []corev1.EnvVar{{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "B"}}}}
			}), want: []string{"configmap settings key B"}},
		{name: "optional secret missing", tmpl: tmpl(func(s *corev1.PodSpec) {
			s.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Optional: &optional}}}
		})},
		{name: "service account missing", tmpl: tmpl(func(s *corev1.PodSpec) { s.ServiceAccountName = "web-sa" }), want: []string{"serviceaccount web-sa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(tt.objects...)
			c := &Checker{Namespace: "shop", ConfigMaps: cs.CoreV1().ConfigMaps("shop"), Secrets: cs.CoreV1().Secrets("shop"),
				PVCs: cs.CoreV1().PersistentVolumeClaims("shop"), ServiceAccounts: cs.CoreV1().ServiceAccounts("shop")}
			res := c.Check(context.Background(), tt.tmpl)
			var got []string
			for _, m := range res.Missing {
				got = append(got, m.String())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("missing %q, want %q", got, tt.want)
			}
			if len(res.Unchecked) > 0 {
				t.Errorf("unchecked %v", res.Unchecked)
			}
			err := res.Refusal("revision 1 of deployment web", "shop", "rollback config undo web -n shop")
			if (err != nil) != (len(tt.want) > 0) {
				t.Errorf("refusal %v with %d missing", err, len(tt.want))
			}
		})
	}
}
