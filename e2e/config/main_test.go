//go:build e2e

// Package config_test runs `rollback config` end to end against the sandbox
// Kubernetes control plane (e2e/sandboxenv): one sandbox per package, one
// namespace per test.
package config_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

// result is one in-process run of the rollback CLI.
type result = clitest.Result

// rollback runs the CLI in-process against namespace ns as the admin user.
func rollback(t *testing.T, ns string, args ...string) result {
	t.Helper()
	return rollbackAs(t, sb.Kubeconfig, ns, args...)
}

// rollbackAs runs the CLI in-process with the given kubeconfig.
func rollbackAs(t *testing.T, kubeconfig, ns string, args ...string) result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: kubeconfig, Timeout: 2 * time.Minute}, append(args, "-n", ns)...)
}

func ctxT(t *testing.T) context.Context { return clitest.Context(t, 90*time.Second) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// app builds the Deployment "web" with 2 replicas of a good image and the
// given container configuration and volumes.
func app(ns string, env []corev1.EnvVar, envFrom []corev1.EnvFromSource, volumes []corev1.Volume) *appsv1.Deployment {
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	var mounts []corev1.VolumeMount
	for _, v := range volumes {
		mounts = append(mounts, corev1.VolumeMount{Name: v.Name, MountPath: "/etc/" + v.Name})
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.example/vibestack-app:1.0",
						Env: env, EnvFrom: envFrom, VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

func envFromConfigMap(name string) []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
}

// waitAvailable waits until the Deployment's current template is fully
// rolled out and available.
func waitAvailable(t *testing.T, cs kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	ctx := ctxT(t)
	var d *appsv1.Deployment
	for {
		var err error
		d, err = cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		must(t, err)
		s := d.Status
		if s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas &&
			s.AvailableReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s/%s not available: %+v", ns, name, s)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitPodFailing waits until a pod of the Deployment fails with reason
// (e.g. CrashLoopBackOff) and returns its name.
func waitPodFailing(t *testing.T, cs kubernetes.Interface, ns, reason string) string {
	t.Helper()
	ctx := ctxT(t)
	for {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		must(t, err)
		for _, p := range pods.Items {
			for _, c := range p.Status.ContainerStatuses {
				if c.State.Waiting != nil && c.State.Waiting.Reason == reason {
					return p.Name
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no pod of web in %s reached %s", ns, reason)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resourceVersions returns the resourceVersion of every Deployment,
// ReplicaSet, ConfigMap and Secret in ns, to prove a refusal changed nothing.
func resourceVersions(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	ctx := ctxT(t)
	out := map[string]string{}
	ds, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range ds.Items {
		out["deployment/"+o.Name] = o.ResourceVersion
	}
	rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range rss.Items {
		out["replicaset/"+o.Name] = o.ResourceVersion + " gen " + fmt.Sprint(o.Generation)
	}
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range cms.Items {
		out["configmap/"+o.Name] = o.ResourceVersion
	}
	ss, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	must(t, err)
	for _, o := range ss.Items {
		out["secret/"+o.Name] = o.ResourceVersion
	}
	return out
}

// currentPods returns the pods of the Deployment's newest ReplicaSet that are not terminating.
func currentPods(t *testing.T, cs kubernetes.Interface, ns string, d *appsv1.Deployment) []corev1.Pod {
	t.Helper()
	ctx := ctxT(t)
	rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	must(t, err)
	rev := d.Annotations["deployment.kubernetes.io/revision"]
	hash := ""
	for _, rs := range rss.Items {
		if rs.Annotations["deployment.kubernetes.io/revision"] == rev {
			hash = rs.Labels["pod-template-hash"]
		}
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web,pod-template-hash=" + hash})
	must(t, err)
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}
