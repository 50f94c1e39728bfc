//go:build e2e

package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod is a bare pod with one container.
func pod(ns, name, image string, env []corev1.EnvVar, envFrom []corev1.EnvFromSource) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: image, Env: env, EnvFrom: envFrom,
		}}},
	}
}

// waitPod polls the pod until check returns nil.
func waitPod(t *testing.T, ns, name string, timeout time.Duration, check func(*corev1.Pod) error) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	var last error
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var err error
		p, err = sb.Clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			if last = check(p); last == nil {
				return p
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod %s/%s: %v after %s; status: %+v", ns, name, last, timeout, p.Status)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func containerStatus(p *corev1.Pod) (corev1.ContainerStatus, error) {
	if len(p.Status.ContainerStatuses) != 1 {
		return corev1.ContainerStatus{}, fmt.Errorf("%d container statuses", len(p.Status.ContainerStatuses))
	}
	return p.Status.ContainerStatuses[0], nil
}

func waiting(reason string) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		cs, err := containerStatus(p)
		if err != nil {
			return err
		}
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != reason {
			return fmt.Errorf("state %+v, want waiting %s", cs.State, reason)
		}
		return nil
	}
}

func crashLoop(reason string, exitCode int32, minRestarts int32) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		if err := waiting("CrashLoopBackOff")(p); err != nil {
			return err
		}
		cs, _ := containerStatus(p)
		if cs.RestartCount < minRestarts {
			return fmt.Errorf("restartCount %d, want >= %d", cs.RestartCount, minRestarts)
		}
		term := cs.LastTerminationState.Terminated
		if term == nil || term.Reason != reason || term.ExitCode != exitCode {
			return fmt.Errorf("lastState.terminated %+v, want reason %s exit code %d", term, reason, exitCode)
		}
		if cs.Ready || p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("ready %v phase %s, want not ready and Running", cs.Ready, p.Status.Phase)
		}
		return nil
	}
}

func running(ready bool) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		cs, err := containerStatus(p)
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || cs.State.Running == nil || cs.Ready != ready {
			return fmt.Errorf("phase %s, state %+v, ready %v; want Running, ready %v", p.Status.Phase, cs.State, cs.Ready, ready)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && (c.Status == corev1.ConditionTrue) != ready {
				return fmt.Errorf("condition Ready %s, want %v", c.Status, ready)
			}
		}
		return nil
	}
}

func TestFailureModes(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "bad-config"},
		Data:       map[string]string{"mode": "crash", "SANDBOX_MODE": "unready"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Clientset.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bad-secret"},
		StringData: map[string]string{"SANDBOX_MODE": "oom"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cmKey := func(name, key string) []corev1.EnvVar {
		return []corev1.EnvVar{{Name: "SANDBOX_MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}}
	}
	tests := []struct {
		name    string
		image   string
		env     []corev1.EnvVar
		envFrom []corev1.EnvFromSource
		want    func(*corev1.Pod) error
		timeout time.Duration
	}{
		{name: "good", image: "example/app:v1", want: running(true)},
		{name: "crash", image: "example/app:crash-v2", want: crashLoop("Error", 1, 2), timeout: 15 * time.Second},
		{name: "oom", image: "example/app:oom", want: crashLoop("OOMKilled", 137, 1)},
		{name: "pull-error", image: "example/app:pull-error", want: waiting("ImagePullBackOff")},
		{name: "unready", image: "example/app:unready", want: running(false)},
		{name: "http500-is-ready", image: "example/app:http500", want: running(true)},
		{name: "mode-env-literal", image: "example/app:v1", env: []corev1.EnvVar{{Name: "SANDBOX_MODE", Value: "pull-error"}}, want: waiting("ImagePullBackOff")},
		{name: "mode-from-configmap", image: "example/app:v1", env: cmKey("bad-config", "mode"), want: crashLoop("Error", 1, 1)},
		{name: "mode-envfrom-configmap", image: "example/app:v1", envFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bad-config"}}}}, want: running(false)},
		{name: "mode-envfrom-secret", image: "example/app:v1", envFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bad-secret"}}}}, want: crashLoop("OOMKilled", 137, 1)},
		{name: "missing-configmap", image: "example/app:v1", env: cmKey("no-such-config", "mode"), want: waiting("CreateContainerConfigError")},
		{name: "missing-key", image: "example/app:v1", env: cmKey("bad-config", "no-such-key"), want: waiting("CreateContainerConfigError")},
		{name: "missing-envfrom-secret", image: "example/app:v1", envFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "no-such-secret"}}}}, want: waiting("CreateContainerConfigError")},
	}
	for _, tt := range tests {
		if _, err := sb.Clientset.CoreV1().Pods(ns).Create(ctx, pod(ns, tt.name, tt.image, tt.env, tt.envFrom), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", tt.name, err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			waitPod(t, ns, tt.name, timeout, tt.want)
		})
	}
	t.Run("crash-restarts-rise", func(t *testing.T) {
		p := waitPod(t, ns, "crash", 10*time.Second, crashLoop("Error", 1, 1))
		first := p.Status.ContainerStatuses[0].RestartCount
		waitPod(t, ns, "crash", 15*time.Second, crashLoop("Error", 1, first+1))
	})
	t.Run("unready-stays-unready", func(t *testing.T) {
		time.Sleep(time.Second)
		waitPod(t, ns, "unready", time.Second, running(false))
	})
	t.Run("missing-configmap-then-created", func(t *testing.T) {
		if _, err := sb.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "no-such-config"},
			Data:       map[string]string{"mode": "ok"},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPod(t, ns, "missing-configmap", 10*time.Second, running(true))
	})
}

func TestSlowMode(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	created := time.Now()
	if _, err := sb.Clientset.CoreV1().Pods(ns).Create(ctx, pod(ns, "slow", "example/app:slow-2s", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := waitPod(t, ns, "slow", 10*time.Second, func(p *corev1.Pod) error {
		if err := running(false)(p); err != nil && running(true)(p) != nil {
			return err
		}
		return nil
	})
	if seen := time.Since(created); p.Status.ContainerStatuses[0].Ready && seen < 2*time.Second {
		t.Fatalf("slow-2s pod Ready %s after creation", seen)
	}
	waitPod(t, ns, "slow", 10*time.Second, running(true))
	if d := time.Since(created); d < 2*time.Second {
		t.Errorf("slow-2s pod ready after %s, want >= 2s", d)
	}
}
