package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// kubeconfigClient returns a client for $KUBECONFIG.
func kubeconfigClient() (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		return nil, fmt.Errorf("load $KUBECONFIG: %w", err)
	}
	return kubernetes.NewForConfig(cfg)
}

// demoDeploy creates or updates Deployment name (3 replicas) at image, with
// a Service of the same name, as a CI pipeline's deploy step would.
func demoDeploy(ctx context.Context, ns, name, image, cause string) error {
	cs, err := kubeconfigClient()
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	d := deploymentSpec(ns, name, image, 3)
	d.Annotations = map[string]string{"kubernetes.io/change-cause": cause}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		err = setImage(ctx, cs, ns, name, image, cause)
	}
	if err != nil {
		return fmt.Errorf("deploy %s: %w", name, err)
	}
	fmt.Printf("deployment %s/%s: image %s (%s)\n", ns, name, image, cause)
	return nil
}

// demoURL waits until the sandbox serves Service ns/name and prints its URL.
func demoURL(ctx context.Context, ns, name string) error {
	path := filepath.Join(filepath.Dir(os.Getenv("KUBECONFIG")), "endpoints.json")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var urls map[string]string
		if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &urls) == nil && urls[ns+"/"+name] != "" {
			fmt.Println(urls[ns+"/"+name])
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("no endpoint for service %s/%s in %s", ns, name, path)
}

func deploymentSpec(ns, name, image string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}},
			},
		},
	}
}

// setImage ships image as a new revision of Deployment name.
func setImage(ctx context.Context, cs kubernetes.Interface, ns, name, image, cause string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations["kubernetes.io/change-cause"] = cause
		_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
}
