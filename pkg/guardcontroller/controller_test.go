package guardcontroller

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/rollout"
)

// fixture returns a Deployment "web" at revision 2 (hash h2, ReplicaSet
// created now) with annotations, and its ReplicaSets (v1 stamped known-good).
func fixture(ann map[string]string, stampCurrent bool) (*appsv1.Deployment, []*appsv1.ReplicaSet) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web", Generation: 2, Annotations: ann},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template("app:v2"),
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2},
	}
	rs := func(hash, image, rev string, good bool, created time.Time) *appsv1.ReplicaSet {
		t := template(image)
		t.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		a := map[string]string{"deployment.kubernetes.io/revision": rev}
		if good {
			a[rollout.AnnotationKnownGoodAt] = created.Format(time.RFC3339Nano)
			a[rollout.AnnotationKnownGoodHash] = hash
		}
		yes := true
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "shop", Annotations: a, CreationTimestamp: metav1.NewTime(created),
				Labels:          map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "uid-web", Controller: &yes}}},
			Spec: appsv1.ReplicaSetSpec{Template: t},
		}
	}
	now := time.Now()
	return d, []*appsv1.ReplicaSet{rs("h1", "app:v1", "1", true, now.Add(-time.Hour)), rs("h2", "app:v2", "2", stampCurrent, now)}
}

func stateJSON(s State) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// runController runs a Controller over the objects with a fake guard until
// done returns true or 5 s pass; it returns the guards called and the log.
func newFake(t *testing.T, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *fake.Clientset {
	t.Helper()
	t.Setenv("KUBE_FEATURE_WatchListClient", "false") // informers on the fake clientset
	return fake.NewSimpleClientset(d, rss[0], rss[1])
}

func runController(t *testing.T, cs *fake.Clientset, fakeGuard func(*guard.Guard) *guard.Result, done func(*fake.Clientset, int) bool) (*fake.Clientset, []*guard.Guard, string) {
	t.Helper()
	return runControllerWith(t, &Controller{Client: cs, Identity: "new-leader"}, cs, fakeGuard, done)
}

// runControllerWith is runController with the Controller c (its Logger and
// RunGuard are set here).
func runControllerWith(t *testing.T, c *Controller, cs *fake.Clientset, fakeGuard func(*guard.Guard) *guard.Result, done func(*fake.Clientset, int) bool) (*fake.Clientset, []*guard.Guard, string) {
	t.Helper()
	var mu sync.Mutex
	var calls []*guard.Guard
	var log bytes.Buffer
	c.Logger = slog.New(slog.NewJSONHandler(&syncWriter{w: &log, mu: &mu}, nil))
	c.RunGuard = func(ctx context.Context, g *guard.Guard, name string) (*guard.Result, error) {
		mu.Lock()
		calls = append(calls, g)
		mu.Unlock()
		return fakeGuard(g), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		if done(cs, n) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return cs, calls, log.String()
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func currentState(t *testing.T, cs *fake.Clientset) *State {
	t.Helper()
	d, err := cs.AppsV1().Deployments("shop").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ReadState(d)
	return s
}

func reasons(t *testing.T, cs *fake.Clientset) string {
	t.Helper()
	evs, err := cs.CoreV1().Events("shop").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		out = append(out, e.Reason)
	}
	return strings.Join(out, ",")
}

func passed(*guard.Guard) *guard.Result { return &guard.Result{Verdict: guard.VerdictPassed} }

// A new leader finds a bake left by the old one: it resumes it at the
// persisted bakeStarted and records the verdict.
func TestControllerResumesBake(t *testing.T) {
	started := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	d, rss := fixture(map[string]string{AnnotationGuard: "enabled", AnnotationBake: "1m", AnnotationInterval: "5s",
		AnnotationState: stateJSON(State{Hash: "h2", Revision: 2, Phase: PhaseBaking, BakeStarted: &started, By: "old-leader"})}, false)
	cs, calls, log := runController(t, newFake(t, d, rss), passed, func(cs *fake.Clientset, n int) bool {
		s := currentState(t, cs)
		return n > 0 && s != nil && s.Phase == PhasePassed
	})
	if len(calls) != 1 {
		t.Fatalf("%d guard runs, want 1\n%s", len(calls), log)
	}
	g := calls[0]
	if !g.BakeStarted.Equal(started) || g.Bake != time.Minute || g.Interval != 5*time.Second || g.Actor != "new-leader" {
		t.Errorf("guard bakeStarted %v bake %s interval %s actor %s: want the persisted bake start and the annotations' settings", g.BakeStarted, g.Bake, g.Interval, g.Actor)
	}
	if s := currentState(t, cs); s.Phase != PhasePassed || s.By != "new-leader" || !s.BakeStarted.Equal(started) {
		t.Errorf("state %+v", s)
	}
	if r := reasons(t, cs); !strings.Contains(r, ReasonGuardResumed) || !strings.Contains(r, ReasonGuardPassed) {
		t.Errorf("events %s", r)
	}
}

// A verdict for the current revision, or a known-good revision, means
// nothing to do; bad settings mean a Warning Event, never a guard or a crash.
func TestControllerNothingToDo(t *testing.T) {
	tests := []struct {
		name  string
		ann   map[string]string
		stamp bool
		event string
	}{
		{"passed", map[string]string{AnnotationGuard: "enabled", AnnotationState: stateJSON(State{Hash: "h2", Revision: 2, Phase: PhasePassed})}, false, ""},
		{"rolled-back", map[string]string{AnnotationGuard: "enabled", AnnotationState: stateJSON(State{Hash: "h2", Revision: 2, Phase: PhaseRolledBack})}, false, ""},
		{"known-good", map[string]string{AnnotationGuard: "enabled"}, true, ""},
		{"not opted in", map[string]string{AnnotationGuard: "disabled"}, false, ""},
		{"bad settings", map[string]string{AnnotationGuard: "enabled", AnnotationBake: "forever"}, false, ReasonInvalidSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rss := fixture(tt.ann, tt.stamp)
			deadline := time.Now().Add(500 * time.Millisecond)
			cs, calls, log := runController(t, newFake(t, d, rss), passed, func(_ *fake.Clientset, n int) bool { return n > 0 || time.Now().After(deadline) })
			if len(calls) != 0 {
				t.Errorf("guard ran %d times\n%s", len(calls), log)
			}
			if r := reasons(t, cs); r != tt.event {
				t.Errorf("events %q, want %q\n%s", r, tt.event, log)
			}
		})
	}
}

// A new rollout: phase watching is persisted before the guard runs; the
// guard's bake start and the rolled-back verdict are persisted.
func TestControllerNewRollout(t *testing.T) {
	d, rss := fixture(map[string]string{AnnotationGuard: "enabled"}, false)
	cs := newFake(t, d, rss)
	bake := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var atStart, afterBake *State
	cs, calls, log := runController(t, cs, func(g *guard.Guard) *guard.Result {
		atStart = currentState(t, cs)
		g.OnPhase(guard.PhaseBaking, bake)
		afterBake = currentState(t, cs)
		return &guard.Result{Verdict: guard.VerdictRolledBack, Reason: "crash loop"}
	}, func(cs *fake.Clientset, n int) bool {
		s := currentState(t, cs)
		return n > 0 && s != nil && s.Phase == PhaseRolledBack
	})
	if len(calls) != 1 {
		t.Fatalf("%d guard runs\n%s", len(calls), log)
	}
	if atStart == nil || atStart.Phase != PhaseWatching || atStart.Hash != "h2" || atStart.Revision != 2 || atStart.By != "new-leader" {
		t.Errorf("state when the guard started: %+v, want watching h2/2 by new-leader", atStart)
	}
	if afterBake == nil || afterBake.Phase != PhaseBaking || !afterBake.BakeStarted.Equal(bake) {
		t.Errorf("state after OnPhase(baking): %+v", afterBake)
	}
	s := currentState(t, cs)
	if s.Phase != PhaseRolledBack || s.Reason != "crash loop" || s.BakeStarted == nil {
		t.Errorf("final state %+v\n%s", s, log)
	}
	if r := reasons(t, cs); !strings.Contains(r, ReasonGuardStarted) || !strings.Contains(r, ReasonBakeStarted) || !strings.Contains(r, ReasonRolledBack) {
		t.Errorf("events %s", r)
	}
}

// setFixture returns an opted-in StatefulSet or DaemonSet "web" at
// revision 2 (v2, hash h2) whose controller observed it, and its
// ControllerRevisions (revision 1 stamped known-good).
func setFixture(t *testing.T, k rollout.Kind) []runtime.Object {
	t.Helper()
	yes := true
	meta := metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web", Generation: 2, Annotations: map[string]string{AnnotationGuard: "enabled"}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	cr := func(hash, image string, n int64, good bool, created time.Time) *appsv1.ControllerRevision {
		data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": template(image)}})
		if err != nil {
			t.Fatal(err)
		}
		a := map[string]string{}
		if good {
			a[rollout.AnnotationKnownGoodAt] = created.Format(time.RFC3339Nano)
			a[rollout.AnnotationKnownGoodHash] = hash
		}
		return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "shop", Annotations: a, CreationTimestamp: metav1.NewTime(created),
			Labels:          map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: string(k), Name: "web", UID: "uid-web", Controller: &yes}}},
			Revision: n, Data: runtime.RawExtension{Raw: data}}
	}
	now := time.Now()
	objs := []runtime.Object{cr("h1", "app:v1", 1, true, now.Add(-time.Hour)), cr("h2", "app:v2", 2, false, now)}
	if k == rollout.KindStatefulSet {
		return append(objs, &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: sel, Template: template("app:v2")},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, UpdateRevision: "web-h2"}})
	}
	return append(objs, &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: template("app:v2")},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 2}})
}

// A new rollout of an opted-in StatefulSet or DaemonSet is guarded like a
// Deployment's: the state on the workload itself, the guard run on
// KIND/NAME, the verdict persisted and the Events recorded on the workload.
func TestControllerGuardsStatefulSetsAndDaemonSets(t *testing.T) {
	for _, k := range []rollout.Kind{rollout.KindStatefulSet, rollout.KindDaemonSet} {
		t.Run(string(k), func(t *testing.T) {
			t.Setenv("KUBE_FEATURE_WatchListClient", "false")
			cs := fake.NewSimpleClientset(setFixture(t, k)...)
			cl := rollout.NewClients(cs, "shop")
			w := rollout.Workload{Kind: k, Name: "web"}
			state := func() *State {
				info, err := rollout.GetWorkload(context.Background(), cl, w.String())
				if err != nil {
					t.Fatal(err)
				}
				s, _ := ReadState(info.Object)
				return s
			}
			var mu sync.Mutex
			var names []string
			var atStart *State
			c := &Controller{Client: cs, Identity: "leader", Logger: slog.New(slog.DiscardHandler),
				RunGuard: func(ctx context.Context, g *guard.Guard, name string) (*guard.Result, error) {
					s := state()
					mu.Lock()
					names, atStart = append(names, name), s
					mu.Unlock()
					return &guard.Result{Verdict: guard.VerdictPassed}, nil
				}}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- c.Run(ctx) }()
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if s := state(); s != nil && s.Phase == PhasePassed {
					break
				}
			}
			cancel()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(names) != 1 || names[0] != w.String() {
				t.Fatalf("guard runs %v, want one of %s", names, w)
			}
			if atStart == nil || atStart.Phase != PhaseWatching || atStart.Hash != "h2" || atStart.Revision != 2 {
				t.Errorf("state when the guard started: %+v, want watching h2/2", atStart)
			}
			if s := state(); s == nil || s.Phase != PhasePassed || s.Hash != "h2" {
				t.Errorf("final state %+v, want passed h2", s)
			}
			evs, err := cs.CoreV1().Events("shop").List(context.Background(), metav1.ListOptions{})
			if err != nil || len(evs.Items) == 0 {
				t.Fatalf("events %v %v", evs, err)
			}
			for _, e := range evs.Items {
				if e.InvolvedObject.Kind != string(k) || e.InvolvedObject.Name != "web" {
					t.Errorf("event %s on %s %s, want on the %s", e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, k)
				}
			}
		})
	}
}

// TestKeys: the queue key of a workload reads back; anything else is not one.
func TestKeys(t *testing.T) {
	for _, w := range []rollout.Workload{{Kind: rollout.KindDeployment, Namespace: "shop", Name: "web"}, {Kind: rollout.KindStatefulSet, Namespace: "db", Name: "pg"}, {Kind: rollout.KindDaemonSet, Namespace: "n", Name: "a"}} {
		if got, ok := splitKey(keyOf(w)); !ok || got != w {
			t.Errorf("splitKey(keyOf(%+v)) = %+v %v", w, got, ok)
		}
	}
	for _, bad := range []string{"", "shop/web", "pod/shop/web", "deployment//web", "deployment/shop/"} {
		if _, ok := splitKey(bad); ok {
			t.Errorf("splitKey(%q) accepted", bad)
		}
	}
}
