//go:build e2e

package sandbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/sandbox"
)

func createStatefulSet(t *testing.T, sts *appsv1.StatefulSet) {
	t.Helper()
	ctx := testContext(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: sts.Namespace, Name: sts.Spec.ServiceName},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: sts.Spec.Selector.MatchLabels,
			Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := sb.Clientset.CoreV1().Services(sts.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Clientset.AppsV1().StatefulSets(sts.Namespace).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestStatefulSetOrderedReady checks that the real controller creates the
// pods of an OrderedReady set one at a time, each after the one before is
// Ready, that every pod's claim from volumeClaimTemplates is Bound to a
// provisioned volume, and that no pod lands on the tainted node.
func TestStatefulSetOrderedReady(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	createStatefulSet(t, statefulSet(ns, "db", "example/db:v1", 3, appsv1.OrderedReadyPodManagement))
	out := kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	if !strings.Contains(out, "partitioned roll out complete: 3 new pods have been updated") {
		t.Errorf("rollout status: %s", out)
	}
	ctx := testContext(t)
	pods, err := listPods(ctx, ns, "db")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	var volumes []string
	for i, p := range pods {
		if want := fmt.Sprintf("db-%d", i); p.Name != want {
			t.Errorf("pod %d is %s, want %s", i, p.Name, want)
		}
		if p.Spec.NodeName == "" || p.Spec.NodeName == sandbox.TaintedNodeName {
			t.Errorf("pod %s on node %q", p.Name, p.Spec.NodeName)
		}
		pvc, err := sb.Clientset.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-"+p.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim of %s: %v", p.Name, err)
		}
		if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" || *pvc.Spec.StorageClassName != sandbox.StorageClassName {
			t.Errorf("claim %s: phase %s, volume %q, class %v", pvc.Name, pvc.Status.Phase, pvc.Spec.VolumeName, pvc.Spec.StorageClassName)
		}
		pv, err := sb.Clientset.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("volume of %s: %v", pvc.Name, err)
		}
		if pv.Status.Phase != corev1.VolumeBound || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.Name != pvc.Name ||
			pv.Annotations["pv.kubernetes.io/provisioned-by"] != sandbox.Provisioner {
			t.Errorf("volume %s: phase %s, claim %+v, annotations %v", pv.Name, pv.Status.Phase, pv.Spec.ClaimRef, pv.Annotations)
		}
		volumes = append(volumes, pv.Name)
		if i == 0 {
			continue
		}
		// Timestamps are stored in whole seconds: "not before" is what holds.
		readyAt := readySince(pods[i-1])
		if readyAt == nil || p.CreationTimestamp.Before(readyAt) {
			t.Errorf("%s created at %s, before %s was Ready (%v)", p.Name, p.CreationTimestamp, pods[i-1].Name, readyAt)
		}
	}

	// Volumes go with their claims.
	if err := sb.Clientset.AppsV1().StatefulSets(ns).Delete(ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Clientset.CoreV1().PersistentVolumeClaims(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range volumes {
		eventually(t, 60*time.Second, "volume "+name+" deleted", func(ctx context.Context) (bool, error) {
			_, err := sb.Clientset.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
	}
}

func readySince(p corev1.Pod) *metav1.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// TestStatefulSetPodManagement checks both policies on pods that never
// become Ready: Parallel creates every pod at once, OrderedReady stops at
// the first.
func TestStatefulSetPodManagement(t *testing.T) {
	ns := namespace(t)
	createStatefulSet(t, statefulSet(ns, "ordered", "example/db:unready", 3, appsv1.OrderedReadyPodManagement))
	createStatefulSet(t, statefulSet(ns, "parallel", "example/db:unready", 3, appsv1.ParallelPodManagement))
	eventually(t, 60*time.Second, "3 parallel pods running", func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, ns, "parallel")
		if err != nil || len(pods) != 3 {
			return false, err
		}
		for _, p := range pods {
			if running(false)(&p) != nil {
				return false, nil
			}
		}
		return true, nil
	})
	eventually(t, 60*time.Second, "ordered-0 running", func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, ns, "ordered")
		return err == nil && len(pods) > 0 && running(false)(&pods[0]) == nil, err
	})
	ctx := testContext(t)
	sts, err := sb.Clientset.AppsV1().StatefulSets(ns).Get(ctx, "ordered", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := listPods(ctx, ns, "ordered")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[0].Name != "ordered-0" || sts.Status.ReadyReplicas != 0 {
		names := []string{}
		for _, p := range pods {
			names = append(names, p.Name)
		}
		t.Errorf("OrderedReady set with an unready first pod has pods %v (ready %d), want only ordered-0", names, sts.Status.ReadyReplicas)
	}
}

// TestStuckStatefulSet reproduces kubernetes/kubernetes#67250 on the real
// statefulset controller, with kubectl as referee: with OrderedReady and
// RollingUpdate, a bad revision's pod that crash-loops is not replaced by
// `kubectl rollout undo`; the set waits for it forever. Deleting that pod
// lets the controller recreate it at the restored revision.
func TestStuckStatefulSet(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	createStatefulSet(t, statefulSet(ns, "db", "example/db:v1", 3, appsv1.OrderedReadyPodManagement))
	kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	kubectl(t, "-n", ns, "set", "image", "statefulset/db", "app=example/db:crash-v2")

	// The controller replaces the highest ordinal first: db-2 crash-loops.
	bad := waitPod(t, ns, "db-2", 60*time.Second, func(p *corev1.Pod) error {
		if img := p.Spec.Containers[0].Image; img != "example/db:crash-v2" {
			return fmt.Errorf("image %s", img)
		}
		return crashLoop("Error", 1, 1)(p)
	})
	badRevision := bad.Labels[appsv1.ControllerRevisionHashLabelKey]

	kubectl(t, "-n", ns, "rollout", "undo", "statefulset/db")
	ctx := testContext(t)
	var sts *appsv1.StatefulSet
	eventually(t, 60*time.Second, "the controller observes the undo", func(ctx context.Context) (bool, error) {
		var err error
		sts, err = sb.Clientset.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
		return err == nil && sts.Status.ObservedGeneration >= sts.Generation && sts.Status.UpdateRevision != badRevision, err
	})
	if img := sts.Spec.Template.Spec.Containers[0].Image; img != "example/db:v1" {
		t.Fatalf("image after undo %s, want example/db:v1", img)
	}
	// Let db-2 crash twice more after the undo: the controller has had every
	// chance to replace it and has not.
	restarts := bad.Status.ContainerStatuses[0].RestartCount
	for range 2 {
		p := waitPod(t, ns, "db-2", 60*time.Second, crashLoop("Error", 1, restarts+1))
		restarts = p.Status.ContainerStatuses[0].RestartCount
	}
	stuck := waitPod(t, ns, "db-2", 10*time.Second, func(*corev1.Pod) error { return nil })
	if stuck.UID != bad.UID || stuck.Labels[appsv1.ControllerRevisionHashLabelKey] != badRevision {
		t.Fatalf("db-2 was replaced after the undo (uid %s -> %s): the set is not stuck", bad.UID, stuck.UID)
	}
	out := kubectlFails(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=3s")
	if !strings.Contains(out, "Waiting for 1 pods to be ready") {
		t.Errorf("rollout status of the stuck set: %s", out)
	}
	t.Logf("stuck after undo: db-2 uid %s still at revision %s with %d restarts; kubectl rollout status: %s",
		stuck.UID, badRevision, restarts, strings.TrimSpace(out))

	// The manual fix: delete the bad pod.
	kubectl(t, "-n", ns, "delete", "pod", "db-2", "--wait=false")
	eventually(t, 120*time.Second, "db-2 replaced", func(ctx context.Context) (bool, error) {
		p, err := sb.Clientset.CoreV1().Pods(ns).Get(ctx, "db-2", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if p.UID == bad.UID {
			return false, fmt.Errorf("still the bad pod: deletion %v, status %+v", p.DeletionTimestamp, p.Status)
		}
		return true, nil
	})
	kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	pods, err := listPods(ctx, ns, "db")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != "example/db:v1" || readySince(p) == nil {
			t.Errorf("pod %s: image %s, ready %v after the bad pod was deleted", p.Name, img, readySince(p) != nil)
		}
		if p.UID == bad.UID {
			t.Errorf("pod %s is still the bad one", p.Name)
		}
	}
}

// TestKubectlRolloutStatefulSet checks kubectl's own rollout history, undo
// and status on a StatefulSet, with a partition, and that status refuses
// the OnDelete strategy.
func TestKubectlRolloutStatefulSet(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	createStatefulSet(t, statefulSet(ns, "db", "example/db:v1", 3, appsv1.ParallelPodManagement))
	kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	kubectl(t, "-n", ns, "set", "image", "statefulset/db", "app=example/db:v2")
	kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	history := kubectl(t, "-n", ns, "rollout", "history", "statefulset/db")
	for _, rev := range []string{"1", "2"} {
		if !strings.Contains(history, "\n"+rev+" ") {
			t.Errorf("history lacks revision %s:\n%s", rev, history)
		}
	}
	rev1 := kubectl(t, "-n", ns, "rollout", "history", "statefulset/db", "--revision=1")
	if !strings.Contains(rev1, "example/db:v1") {
		t.Errorf("revision 1 does not show image v1:\n%s", rev1)
	}
	kubectl(t, "-n", ns, "rollout", "undo", "statefulset/db", "--to-revision=1")
	kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	assertImages(t, ns, "db", map[string]string{"db-0": "example/db:v1", "db-1": "example/db:v1", "db-2": "example/db:v1"})
	history = kubectl(t, "-n", ns, "rollout", "history", "statefulset/db")
	if !strings.Contains(history, "\n3 ") || strings.Contains(history, "\n1 ") {
		t.Errorf("after undo to revision 1, want revisions 2 and 3:\n%s", history)
	}

	// A partition leaves the ordinals below it at the old revision.
	kubectl(t, "-n", ns, "patch", "statefulset/db", "-p", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}`)
	kubectl(t, "-n", ns, "set", "image", "statefulset/db", "app=example/db:v3")
	out := kubectl(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=120s")
	if !strings.Contains(out, "partitioned roll out complete: 1 new pods have been updated") {
		t.Errorf("rollout status with partition 2: %s", out)
	}
	assertImages(t, ns, "db", map[string]string{"db-0": "example/db:v1", "db-1": "example/db:v1", "db-2": "example/db:v3"})

	kubectl(t, "-n", ns, "patch", "statefulset/db", "--type=merge", "-p", `{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}`)
	out = kubectlFails(t, "-n", ns, "rollout", "status", "statefulset/db", "--timeout=10s")
	if !strings.Contains(out, "rollout status is only available for RollingUpdate strategy type") {
		t.Errorf("rollout status on OnDelete: %s", out)
	}
}

// assertImages waits until the named pods of app=name run the given images
// and are Ready.
func assertImages(t *testing.T, ns, name string, want map[string]string) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("pods of %s at %v", name, want), func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, ns, name)
		if err != nil {
			return false, err
		}
		got := map[string]string{}
		for _, p := range pods {
			if p.DeletionTimestamp == nil && readySince(p) != nil {
				got[p.Name] = p.Spec.Containers[0].Image
			}
		}
		if len(got) != len(want) {
			return false, nil
		}
		for pod, image := range want {
			if got[pod] != image {
				return false, fmt.Errorf("%s runs %s", pod, got[pod])
			}
		}
		return true, nil
	})
}
