package rollout

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

func TestStatusRun(t *testing.T) {
	// The fake clientset cannot stream a watch list's initial events.
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	crash := waiting("CrashLoopBackOff", "back-off 10s restarting failed container")
	tests := []struct {
		name    string
		pods    []corev1.ContainerStatus
		ready   bool
		verdict Verdict
		code    outcome.Kind
		stamp   string
	}{
		{name: "healthy", pods: []corev1.ContainerStatus{running, running, running}, ready: true, verdict: VerdictHealthy, code: outcome.OK, stamp: AnnotationKnownGoodAt},
		{name: "crash loop fails fast", pods: []corev1.ContainerStatus{running, running, crash}, verdict: VerdictUnhealthy, code: outcome.Unhealthy, stamp: AnnotationFailedAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment("app:v2")
			rs := replicaSet(d, 2, "app:v2", "")
			objs := []runtime.Object{d, &rs}
			for i, cs := range tt.pods {
				objs = append(objs, pod(&rs, "web-"+string(rune('a'+i)), tt.ready, cs))
			}
			cs := fake.NewClientset(objs...)
			var rec progress.Recorder
			s := Status{Clients: NewClients(cs, "shop"), Observer: &rec, Verification: Verification{Timeout: 10 * time.Second}}
			res, err := s.Run(context.Background(), "web")
			if res.Verdict != tt.verdict || outcome.KindOf(err) != tt.code {
				t.Fatalf("verdict %s, err %v; events:\n%v", res.Verdict, err, rec.Events())
			}
			kinds := map[progress.Kind]int{}
			for _, e := range rec.Events() {
				kinds[e.Kind]++
				if e.Target != "deployment/web" || e.Source != "rollout" {
					t.Errorf("event %+v: want source rollout, target deployment/web", e)
				}
			}
			if (tt.verdict == VerdictHealthy && kinds[progress.Update] == 0) || kinds[progress.Verdict] != 1 {
				t.Errorf("events by kind %v: want updates while it rolls out and exactly one verdict", kinds)
			}
			got, err := cs.AppsV1().ReplicaSets("shop").Get(context.Background(), rs.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got.Annotations[tt.stamp]; !ok {
				t.Errorf("replicaset lacks %s: %v", tt.stamp, got.Annotations)
			}
			if tt.verdict == VerdictUnhealthy && (res.Failure == nil || res.Failure.Pod != "web-c") {
				t.Errorf("failure %v, want pod web-c", res.Failure)
			}
		})
	}
}

// TestStatusNoSettleJudgesAtOnce: without a settle window a complete
// rollout is judged when it is seen complete, not at a later tick: on a
// clock that never moves, the verdict still comes.
func TestStatusNoSettleJudgesAtOnce(t *testing.T) {
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	d := deployment("app:v2")
	rs := replicaSet(d, 2, "app:v2", "")
	objs := []runtime.Object{d, &rs}
	for i := range 3 {
		objs = append(objs, pod(&rs, "web-"+string(rune('a'+i)), true, running))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC))
	s := Status{Clients: NewClients(fake.NewClientset(objs...), "shop"), Verification: Verification{Timeout: time.Minute, Clock: clk}}
	res, err := s.Run(ctx, "web")
	if err != nil || res.Verdict != VerdictHealthy {
		t.Fatalf("verdict %s, err %v; want healthy without the clock moving", res.Verdict, err)
	}
	if res.Durations.Settle != 0 {
		t.Errorf("settle %s, want 0", res.Durations.Settle)
	}
}
