package guardcontroller

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/rollout"
)

// TestWriteStateTestOp: on every kind, a writer that read an older state
// loses instead of overwriting the newer one.
func TestWriteStateTestOp(t *testing.T) {
	ann := func() map[string]string { return map[string]string{AnnotationGuard: "enabled"} }
	for _, obj := range []runtime.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: ann()}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: ann()}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: ann()}},
	} {
		info, _ := rollout.InfoOf(obj)
		t.Run(string(info.Kind), func(t *testing.T) {
			ctx := context.Background()
			cl := rollout.NewClients(fake.NewSimpleClientset(obj), "shop")
			now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

			// First writer: no state yet.
			read, err := rollout.GetWorkload(ctx, cl, info.Workload.String())
			if err != nil {
				t.Fatal(err)
			}
			w1, err := WriteState(ctx, cl, read, State{Hash: "h2", Revision: 2, Phase: PhaseWatching, By: "a", Updated: now})
			if err != nil {
				t.Fatal(err)
			}
			// A second writer that read before the first wrote loses, it does not overwrite.
			if _, err := WriteState(ctx, cl, read, State{Hash: "h2", Revision: 2, Phase: PhaseWatching, By: "b", Updated: now}); !errors.Is(err, ErrStateChanged) {
				t.Fatalf("stale first write: %v, want ErrStateChanged", err)
			}
			// The first writer moves on from what it wrote.
			bake := now.Add(time.Second)
			w2, err := WriteState(ctx, cl, w1, State{Hash: "h2", Revision: 2, Phase: PhaseBaking, BakeStarted: &bake, By: "a", Updated: bake})
			if err != nil {
				t.Fatal(err)
			}
			// A write based on the older state fails.
			if _, err := WriteState(ctx, cl, w1, State{Hash: "h2", Revision: 2, Phase: PhasePassed, By: "b", Updated: bake}); !errors.Is(err, ErrStateChanged) {
				t.Fatalf("stale replace: %v, want ErrStateChanged", err)
			}
			s, err := ReadState(w2.Object)
			if err != nil || s == nil || s.Phase != PhaseBaking || s.By != "a" || !s.BakeStarted.Equal(bake) {
				t.Fatalf("state %+v (%v), want baking by a", s, err)
			}
			if w2.Annotations[AnnotationGuard] != "enabled" {
				t.Errorf("the opt-in annotation was lost")
			}
		})
	}
}

func TestReadStateInvalid(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: map[string]string{AnnotationState: "{"}}}
	if _, err := ReadState(d); err == nil {
		t.Fatal("no error for invalid JSON")
	}
	if s, err := ReadState(&appsv1.Deployment{}); s != nil || err != nil {
		t.Fatalf("no annotation: %v %v, want nil nil", s, err)
	}
}
