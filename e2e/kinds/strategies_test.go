//go:build e2e

package kinds_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/exitcode"
)

// deletionReferee watches the pods of selector and checks, each time one
// starts terminating or disappears, what one-at-a-time replacement
// promises: no other pod is terminating or missing (want pods live) and
// every other pod at the target revision hash is Ready. It returns the
// names deleted, in order; stop ends the watch.
type deletionReferee struct {
	mu      sync.Mutex
	deleted []string
	errs    []string
	stop    func()
}

func watchDeletions(t *testing.T, ns, selector string, want int, targetHash func() string) *deletionReferee {
	t.Helper()
	w, err := sb.Clientset.CoreV1().Pods(ns).Watch(ctx(t), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	r := &deletionReferee{stop: w.Stop}
	pods := map[string]*corev1.Pod{}
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			key := string(p.UID)
			if (ev.Type == watch.Deleted || p.DeletionTimestamp != nil) && !seen[key] {
				seen[key] = true
				r.check(p, pods, want, targetHash())
			}
			if ev.Type == watch.Deleted {
				delete(pods, key)
			} else {
				pods[key] = p
			}
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return r
}

func (r *deletionReferee) check(gone *corev1.Pod, pods map[string]*corev1.Pod, want int, hash string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleted = append(r.deleted, gone.Name)
	live := 0
	for _, p := range pods {
		if p.UID == gone.UID {
			continue
		}
		if p.DeletionTimestamp != nil {
			r.errs = append(r.errs, "pod "+gone.Name+" deleted while "+p.Name+" was terminating")
			continue
		}
		live++
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash && !ready(p) {
			r.errs = append(r.errs, "pod "+gone.Name+" deleted while "+p.Name+" of the target revision was not Ready")
		}
	}
	if live < want-1 {
		r.errs = append(r.errs, "pod "+gone.Name+" deleted while the pod deleted before it had not come back")
	}
}

func (r *deletionReferee) result() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.deleted...), append([]string(nil), r.errs...)
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestOnDeleteReplacePods: with the OnDelete strategy an undo is refused
// without --replace-pods (it says which pods stay behind and changes
// nothing); with it, rollback replaces the pods of other revisions one at
// a time, each after the one before is back and Ready (a watch on the pods
// is the referee), for a StatefulSet and a DaemonSet.
func TestOnDeleteReplacePods(t *testing.T) {
	tests := []struct {
		kind   string
		create func(t *testing.T, ns string)
		ship   func(t *testing.T, ns, image string)
		// updateRevision is the controller's current target hash.
		updateRevision func(t *testing.T, ns string) string
	}{
		{kind: "sts", create: func(t *testing.T, ns string) {
			statefulSet(t, ns, "od", "vibestack/db:v1", sandboxenv.StatefulSetOptions{OnDelete: true})
		}, ship: func(t *testing.T, ns, image string) { sb.SetStatefulSetImage(t, ns, "od", image) },
			updateRevision: func(t *testing.T, ns string) string {
				s := sb.StatefulSet(t, ns, "od")
				return s.Status.UpdateRevision
			}},
		{kind: "ds", create: func(t *testing.T, ns string) {
			daemonSet(t, ns, "od", "vibestack/agent:v1", sandboxenv.DaemonSetOptions{OnDelete: true})
		}, ship: func(t *testing.T, ns, image string) { sb.SetDaemonSetImage(t, ns, "od", image) },
			updateRevision: func(t *testing.T, ns string) string { return templateHash(t, ns, "ds/od") }},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			ns := sb.Namespace(t)
			tt.create(t, ns)
			markGood(t, ns, tt.kind+"/od")
			tt.ship(t, ns, "vibestack/db:crash-v2")
			waitRevision(t, ns, tt.kind+"/od", 2)
			// Two pods replaced by hand at the bad revision, one after the
			// other (the highest ordinals first: an OrderedReady controller
			// recreates a pod only after the ones below it are Ready).
			for i := 1; i <= 2; i++ {
				var names []string
				for n, p := range podsAt(t, ns, "app=od") {
					if image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/db:crash-v2" {
						names = append(names, n)
					}
				}
				sort.Strings(names)
				victim := names[len(names)-1]
				if err := sb.Clientset.CoreV1().Pods(ns).Delete(ctx(t), victim, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				eventually(t, fmt.Sprintf("%d pods crash-looping at v2", i), func() bool {
					var bad int
					for _, p := range podsAt(t, ns, "app=od") {
						if image(corev1.PodTemplateSpec{Spec: p.Spec}) == "vibestack/db:crash-v2" && failing(p) {
							bad++
						}
					}
					return bad == i && len(podsAt(t, ns, "app=od")) == 3
				})
			}
			gen := generation(t, ns, tt.kind+"/od")

			code, out, errOut := run(t, "app", "undo", tt.kind+"/od", "-n", ns, "--yes", "--journal-dir", t.TempDir())
			if code != exitcode.Refused || !strings.Contains(errOut, "OnDelete update strategy") || !strings.Contains(errOut, "--replace-pods") {
				t.Fatalf("undo without --replace-pods: exit %d\n%s\n%s", code, out, errOut)
			}
			if g := generation(t, ns, tt.kind+"/od"); g != gen {
				t.Fatalf("the refused undo changed the %s: generation %d -> %d", tt.kind, gen, g)
			}

			ref := watchDeletions(t, ns, "app=od", 3, func() string { return tt.updateRevision(t, ns) })
			code, out, errOut = run(t, "app", "undo", tt.kind+"/od", "-n", ns, "--yes", "--replace-pods", "--settle", "1s", "--journal-dir", t.TempDir())
			ref.stop()
			if code != exitcode.OK || strings.Count(out, "(OnDelete, --replace-pods)") != 2 {
				t.Fatalf("undo --replace-pods: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			deleted, errs := ref.result()
			if len(deleted) != 2 || len(errs) > 0 {
				t.Errorf("deletions %v, violations:\n%s\nstderr:\n%s", deleted, strings.Join(errs, "\n"), errOut)
			}
			// The referee: every pod at the controller's update revision, Ready.
			want := tt.updateRevision(t, ns)
			for n, p := range podsAt(t, ns, "app=od") {
				if p.Labels[appsv1.ControllerRevisionHashLabelKey] != want || !ready(&p) || image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/db:v1" && image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/agent:v1" {
					t.Errorf("pod %s after the undo: revision %s (want %s), ready %v", n, p.Labels[appsv1.ControllerRevisionHashLabelKey], want, ready(&p))
				}
			}
			// kubectl refuses to watch OnDelete: rollback is the only status.
			if out, err := sb.KubectlErr(t, "-n", ns, "rollout", "status", tt.kind+"/od", "--timeout=5s"); err == nil || !strings.Contains(out, "only available for RollingUpdate") {
				t.Errorf("kubectl rollout status of OnDelete: %v\n%s", err, out)
			}
		})
	}
}

// TestPartition: a partitioned StatefulSet rolls back from the partition
// up; rollback says which pods the partition leaves at another revision,
// and kubectl rollout status agrees the partitioned rollout is complete.
func TestPartition(t *testing.T) {
	ns := sb.Namespace(t)
	statefulSet(t, ns, "db", "vibestack/db:v1", sandboxenv.StatefulSetOptions{NoVolumes: true})
	markGood(t, ns, "sts/db")
	patchSTS(t, ns, "db", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}`)
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:v2")
	eventually(t, "db-2 Ready at v2", func() bool {
		p := getPod(t, ns, "db-2")
		return p != nil && image(corev1.PodTemplateSpec{Spec: p.Spec}) == "vibestack/db:v2" && ready(p)
	})
	markGood(t, ns, "sts/db")
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/db:crash-v3")
	eventually(t, "db-2 crash-looping at v3", func() bool {
		p := getPod(t, ns, "db-2")
		return p != nil && image(corev1.PodTemplateSpec{Spec: p.Spec}) == "vibestack/db:crash-v3" && failing(*p)
	})
	before := podsAt(t, ns, "app=db")

	code, out, errOut := run(t, "app", "status", "sts/db", "-n", ns, "--settle", "1s")
	if code != exitcode.Unhealthy || !strings.Contains(out, "partition 2: pods db-") || !strings.Contains(out, "below the partition stay at another revision") {
		t.Errorf("status of the partitioned crash: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "app", "undo", "sts/db", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", t.TempDir())
	if code != exitcode.OK || !strings.Contains(out, "to revision 2 (vibestack/db:v2)") || !strings.Contains(out+errOut, "below the partition stay at another revision") {
		t.Fatalf("undo of the partitioned set: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	kout := sb.Kubectl(t, "-n", ns, "rollout", "status", "sts/db", "--timeout=60s")
	if !strings.Contains(kout, "partitioned roll out complete") {
		t.Errorf("kubectl rollout status: %s", kout)
	}
	after := podsAt(t, ns, "app=db")
	for _, n := range []string{"db-0", "db-1"} {
		if after[n].UID != before[n].UID || image(corev1.PodTemplateSpec{Spec: after[n].Spec}) != "vibestack/db:v1" {
			t.Errorf("%s below the partition was touched", n)
		}
	}
	if image(corev1.PodTemplateSpec{Spec: after["db-2"].Spec}) != "vibestack/db:v2" {
		t.Errorf("db-2 is not at v2 after the undo")
	}
}

// TestDaemonSetRollingUpdate: a crash-looping DaemonSet release is
// detected at once (kubectl rollout status only times out) and rolled back
// under the set's maxUnavailable/maxSurge; the node that cannot run the pod
// (tainted), or that the set's node affinity leaves out, is neither waited
// for nor given a pod.
func TestDaemonSetRollingUpdate(t *testing.T) {
	tests := []struct {
		name                     string
		maxUnavailable, maxSurge *intstr.IntOrString
		// nodes, when set, are the only nodes the set's affinity allows.
		nodes []string
	}{
		{name: "max-unavailable-1"},
		{name: "max-surge-1", maxUnavailable: ptr(intstr.FromInt32(0)), maxSurge: ptr(intstr.FromInt32(1))},
		{name: "node-affinity", nodes: []string{"sandbox-node-1", "sandbox-node-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := sb.Namespace(t)
			opts := sandboxenv.DaemonSetOptions{MaxUnavailable: tt.maxUnavailable, MaxSurge: tt.maxSurge}
			want := int32(3)
			if len(tt.nodes) > 0 {
				want = int32(len(tt.nodes))
				opts.Mutate = func(d *appsv1.DaemonSet) {
					d.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
						NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: tt.nodes}}}}}}}
				}
			}
			counts := fmt.Sprintf("%d/%d", want, want)
			daemonSet(t, ns, "agent", "vibestack/agent:v1", opts)
			markGood(t, ns, "ds/agent")
			sb.SetDaemonSetImage(t, ns, "agent", "vibestack/agent:crash-v2")
			code, out, errOut := run(t, "app", "status", "ds/agent", "-n", ns, "--settle", "1s", "--timeout", "2m")
			if code != exitcode.Unhealthy || !strings.Contains(out, "CrashLoopBackOff") {
				t.Fatalf("status of the crash: exit %d\n%s\n%s", code, out, errOut)
			}
			if out, err := sb.KubectlErr(t, "-n", ns, "rollout", "status", "ds/agent", "--timeout=3s"); err == nil {
				t.Errorf("kubectl rollout status of the crash succeeded:\n%s", out)
			}
			code, out, errOut = run(t, "app", "undo", "ds/agent", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", t.TempDir())
			if code != exitcode.OK || !strings.Contains(out, "healthy: rolled back from revision 2") || !strings.Contains(out, counts) && !strings.Contains(errOut, counts+" ready") {
				t.Fatalf("undo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			sb.Kubectl(t, "-n", ns, "rollout", "status", "ds/agent", "--timeout=60s")
			ds := sb.DaemonSet(t, ns, "agent")
			if ds.Status.DesiredNumberScheduled != want || ds.Status.UpdatedNumberScheduled != want {
				t.Errorf("daemonset status %+v: want %d desired and updated (the nodes it cannot run on skipped)", ds.Status, want)
			}
			pods := podsAt(t, ns, "app=agent")
			if len(pods) != int(want) {
				t.Errorf("%d pods, want %d", len(pods), want)
			}
			for _, p := range pods {
				if p.Spec.NodeName == sandboxenv.TaintedNode {
					t.Errorf("pod %s on the tainted node", p.Name)
				}
				if len(tt.nodes) > 0 && !slices.Contains(tt.nodes, p.Spec.NodeName) {
					t.Errorf("pod %s on node %s, which the affinity leaves out", p.Name, p.Spec.NodeName)
				}
				if image(corev1.PodTemplateSpec{Spec: p.Spec}) != "vibestack/agent:v1" {
					t.Errorf("pod %s runs %s", p.Name, image(corev1.PodTemplateSpec{Spec: p.Spec}))
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
