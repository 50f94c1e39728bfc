//go:build e2e

// Package app_test runs the application rollback end to end against a real
// sandbox control plane: the rollback CLI in-process and the rollout library.
package app_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/rollout"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, 2*time.Minute) }

// run runs the rollback CLI in-process (as the admin unless args name a
// kubeconfig) and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 2 * time.Minute}, args...).Split()
}

// newDeployment creates Deployment name (3 replicas, label app=name) at image.
func newDeployment(t *testing.T, ns, name, image string, mutate ...func(*appsv1.Deployment)) *appsv1.Deployment {
	t.Helper()
	replicas := int32(3)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	d, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
	waitRevision(t, ns, name, 1)
	return d
}

// setImage ships image as a new revision and waits for its ReplicaSet.
func setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	var rev string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		rev = d.Annotations["deployment.kubernetes.io/revision"]
		d.Spec.Template.Spec.Containers[0].Image = image
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations["kubernetes.io/change-cause"] = "deploy " + image
		_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set image %s: %v", image, err)
	}
	var n int
	fmt.Sscan(rev, &n)
	waitRevision(t, ns, name, n+1)
}

// waitRevision waits until the controller has observed the deployment at revision n.
func waitRevision(t *testing.T, ns, name string, n int) {
	t.Helper()
	want := fmt.Sprint(n)
	eventually(t, fmt.Sprintf("deployment %s at revision %d", name, n), func() bool {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), name, metav1.GetOptions{})
		return err == nil && d.Annotations["deployment.kubernetes.io/revision"] == want && d.Status.ObservedGeneration >= d.Generation
	})
}

func newService(t *testing.T, ns, name string) string { return sb.Service(t, ns, name) }

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	return sb.Deployment(t, ns, name)
}

func waitRolledOut(t *testing.T, ns, name string) { sb.WaitRolledOut(t, ns, name) }

// markGood waits for the rollout and stamps the current revision, as CI would.
func markGood(t *testing.T, ns, name string) {
	t.Helper()
	waitRolledOut(t, ns, name)
	if err := rollout.MarkGood(ctx(t), rollout.NewClients(sb.Clientset, ns), name, time.Now()); err != nil {
		t.Fatalf("mark-good %s: %v", name, err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	clitest.WaitFor(t, 60*time.Second, what, cond)
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

// pause pauses Deployment name.
func pause(t *testing.T, ns, name string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Paused = true
		_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("pause %s: %v", name, err)
	}
}
