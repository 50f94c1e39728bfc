//go:build e2e

package sandboxenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/e2e/sandboxenv"
)

func TestStatefulSetFixtures(t *testing.T) {
	ns := sb.Namespace(t)
	sb.CreateStatefulSet(t, ns, "db", "example/db:v1", sandboxenv.StatefulSetOptions{})
	sb.WaitStatefulSetRolledOut(t, ns, "db")
	sb.SetStatefulSetImage(t, ns, "db", "example/db:v2")
	sb.WaitStatefulSetRolledOut(t, ns, "db")
	pods := sb.Pods(t, ns, "app=db")
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != "example/db:v2" {
			t.Errorf("pod %s runs %s, want example/db:v2", p.Name, img)
		}
		if len(p.Spec.Volumes) == 0 || p.Spec.Volumes[0].PersistentVolumeClaim == nil {
			t.Errorf("pod %s has no claim from the volumeClaimTemplate", p.Name)
		}
	}

	sb.CreateStatefulSet(t, ns, "part", "example/db:v1", sandboxenv.StatefulSetOptions{Parallel: true, Partition: 2, NoVolumes: true})
	sb.WaitStatefulSetRolledOut(t, ns, "part")
	sb.SetStatefulSetImage(t, ns, "part", "example/db:v2")
	sb.WaitStatefulSetRolledOut(t, ns, "part")
	got := map[string]string{}
	for _, p := range sb.Pods(t, ns, "app=part") {
		got[p.Name] = p.Spec.Containers[0].Image
	}
	if got["part-0"] != "example/db:v1" || got["part-1"] != "example/db:v1" || got["part-2"] != "example/db:v2" {
		t.Errorf("partition 2: images %v", got)
	}

	sb.CreateStatefulSet(t, ns, "od", "example/db:v1", sandboxenv.StatefulSetOptions{Replicas: 1, OnDelete: true})
	sb.WaitStatefulSetRolledOut(t, ns, "od")
	if s := sb.StatefulSet(t, ns, "od"); s.Spec.UpdateStrategy.Type != "OnDelete" {
		t.Errorf("update strategy %s", s.Spec.UpdateStrategy.Type)
	}
}

func TestDaemonSetFixtures(t *testing.T) {
	ns := sb.Namespace(t)
	sb.CreateDaemonSet(t, ns, "agent", "example/agent:v1", sandboxenv.DaemonSetOptions{})
	sb.CreateDaemonSet(t, ns, "all", "example/agent:v1", sandboxenv.DaemonSetOptions{TolerateTaint: true})
	sb.WaitDaemonSetRolledOut(t, ns, "agent")
	sb.WaitDaemonSetRolledOut(t, ns, "all")
	for name, want := range map[string]int{"agent": 3, "all": 4} {
		pods := sb.Pods(t, ns, "app="+name)
		tainted := false
		for _, p := range pods {
			tainted = tainted || p.Spec.NodeName == sandboxenv.TaintedNode
		}
		if len(pods) != want || tainted != (name == "all") {
			t.Errorf("%s: %d pods (want %d), one on %s: %v", name, len(pods), want, sandboxenv.TaintedNode, tainted)
		}
	}
	sb.SetDaemonSetImage(t, ns, "agent", "example/agent:v2")
	sb.WaitDaemonSetRolledOut(t, ns, "agent")
	if ds := sb.DaemonSet(t, ns, "agent"); ds.Status.UpdatedNumberScheduled != 3 || ds.Annotations["kubernetes.io/change-cause"] != "deploy example/agent:v2" {
		t.Errorf("after set image: updated %d, change-cause %q", ds.Status.UpdatedNumberScheduled, ds.Annotations["kubernetes.io/change-cause"])
	}
}

func TestPodLogs(t *testing.T) {
	ns := sb.Namespace(t)
	sb.CreateStatefulSet(t, ns, "web", "example/web:v1", sandboxenv.StatefulSetOptions{Replicas: 1, NoVolumes: true})
	sb.CreateStatefulSet(t, ns, "crash", "example/web:crash-v2", sandboxenv.StatefulSetOptions{Replicas: 1, NoVolumes: true})
	sb.CreateStatefulSet(t, ns, "pull", "example/web:pull-error", sandboxenv.StatefulSetOptions{Replicas: 1, NoVolumes: true})
	sb.WaitStatefulSetRolledOut(t, ns, "web")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := sb.PodLogs(ctx, ns, "web-0", nil)
	if err != nil || !strings.Contains(out, `msg="ready to serve requests"`) {
		t.Errorf("logs of web-0: %v\n%s", err, out)
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	wait("crash-0 to restart", func() bool {
		pods := sb.Pods(t, ns, "app=crash")
		return len(pods) == 1 && len(pods[0].Status.ContainerStatuses) == 1 && pods[0].Status.ContainerStatuses[0].RestartCount > 0
	})
	out, err = sb.PodLogs(ctx, ns, "crash-0", &corev1.PodLogOptions{Container: "app", Previous: true})
	if err != nil || !strings.Contains(out, "panic: sandbox mode crash") {
		t.Errorf("previous logs of crash-0: %v\n%s", err, out)
	}
	wait("pull-0 to be in back-off", func() bool {
		pods := sb.Pods(t, ns, "app=pull")
		return len(pods) == 1 && len(pods[0].Status.ContainerStatuses) == 1 && pods[0].Status.ContainerStatuses[0].State.Waiting != nil
	})
	if _, err := sb.PodLogs(ctx, ns, "pull-0", nil); err == nil || !strings.Contains(err.Error(), "is waiting to start") {
		t.Errorf("logs of a container that never started: %v", err)
	}
}
