//go:build e2e

package sandbox_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestFailureModesEveryKind checks that the failure modes, by image tag and
// by SANDBOX_MODE, hit the pods of Deployments, StatefulSets and DaemonSets
// alike.
func TestFailureModesEveryKind(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	missingConfig := []corev1.EnvVar{{Name: "SANDBOX_MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "no-such-config"}, Key: "mode"}}}}
	modes := []struct {
		name  string
		image string
		env   []corev1.EnvVar
		want  func(*corev1.Pod) error
	}{
		{"crash", "example/app:crash-v2", nil, crashLoop("Error", 1, 1)},
		{"pull", "example/app:pull-error", nil, waiting("ImagePullBackOff")},
		{"config", "example/app:v1", missingConfig, waiting("CreateContainerConfigError")},
		{"oom", "example/app:v1", []corev1.EnvVar{{Name: "SANDBOX_MODE", Value: "oom"}}, crashLoop("OOMKilled", 137, 1)},
		{"h500", "example/app:v1", []corev1.EnvVar{{Name: "SANDBOX_MODE", Value: "http500"}}, running(true)},
	}
	kinds := []struct {
		name   string
		create func(name string, spec corev1.PodSpec) error
	}{
		{"deploy", func(name string, spec corev1.PodSpec) error {
			d := deployment(ns, name, "", 1)
			d.Spec.Template.Spec = spec
			_, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
			return err
		}},
		{"sts", func(name string, spec corev1.PodSpec) error {
			s := statefulSet(ns, name, "", 1, appsv1.OrderedReadyPodManagement)
			spec.Containers[0].VolumeMounts = s.Spec.Template.Spec.Containers[0].VolumeMounts
			s.Spec.Template.Spec = spec
			_, err := sb.Clientset.AppsV1().StatefulSets(ns).Create(ctx, s, metav1.CreateOptions{})
			return err
		}},
		{"ds", func(name string, spec corev1.PodSpec) error {
			d := daemonSet(ns, name, "")
			d.Spec.Template.Spec = spec
			_, err := sb.Clientset.AppsV1().DaemonSets(ns).Create(ctx, d, metav1.CreateOptions{})
			return err
		}},
	}
	for _, k := range kinds {
		for _, m := range modes {
			name := k.name + "-" + m.name
			spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: m.image, Env: m.env}}}
			if err := k.create(name, spec); err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			if m.name == "h500" {
				svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
					Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
				if _, err := sb.Clientset.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, k := range kinds {
		for _, m := range modes {
			name := k.name + "-" + m.name
			t.Run(name, func(t *testing.T) {
				eventually(t, 60*time.Second, name+" pods in mode "+m.name, func(ctx context.Context) (bool, error) {
					pods, err := listPods(ctx, ns, name)
					if err != nil || len(pods) == 0 {
						return false, err
					}
					for _, p := range pods {
						if err := m.want(&p); err != nil {
							return false, fmt.Errorf("pod %s: %w", p.Name, err)
						}
					}
					return true, nil
				})
				if m.name == "h500" {
					waitAnswers(t, endpointURL(t, ns, name), http.StatusInternalServerError, "sandbox mode http500")
				}
			})
		}
	}
}
