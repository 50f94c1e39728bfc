//go:build e2e

// Package ownership_test checks, against the sandbox, that rollback app
// undo refuses (exit 2, nothing changed) a Deployment whose owner would
// revert the rollback or keeps its own history, honours what does not, and
// refuses a target whose pods could not start.
package ownership_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, 2*time.Minute) }

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 2 * time.Minute}, args...).Split()
}

var (
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	appGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	webGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "webapps"}
)

// installCRD installs a namespaced CRD (schema open) and waits until it is served.
func installCRD(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, kind string) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": gvr.Resource + "." + gvr.Group},
		"spec": map[string]any{
			"group": gvr.Group, "scope": "Namespaced",
			"names": map[string]any{"plural": gvr.Resource, "singular": strings.ToLower(kind), "kind": kind},
			"versions": []any{map[string]any{"name": gvr.Version, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	if _, err := dyn.Resource(crdGVR).Create(ctx(t), crd, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("create crd %s: %v", gvr.Resource, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := dyn.Resource(gvr).Namespace("default").List(ctx(t), metav1.ListOptions{}); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("crd %s never served", gvr.Resource)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func createObject(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	u, err := dyn.Resource(gvr).Namespace(ns).Create(ctx(t), &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", gvr.Resource, err)
	}
	return u
}

// twoRevisions creates Deployment web at v1 and ships crash as revision 2.
// afterV1, when set, runs once revision 1 is rolled out.
func twoRevisions(t *testing.T, ns string, mutate func(d *appsv1.Deployment), mutateV1 func(*corev1.PodSpec), afterV1 func()) {
	t.Helper()
	replicas := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{"app": "web"}, Annotations: map[string]string{}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "vibestack/app:v1"}}}}},
	}
	if mutate != nil {
		mutate(d)
	}
	if mutateV1 != nil {
		mutateV1(&d.Spec.Template.Spec)
	}
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sb.WaitRolledOut(t, ns, "web")
	if afterV1 != nil {
		afterV1()
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec = corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "vibestack/app:crash"}}}
		_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		rss, _ := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=web"})
		if rss != nil && len(rss.Items) >= 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("revision 2 never appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func generation(t *testing.T, ns string) int64 {
	t.Helper()
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Generation
}
