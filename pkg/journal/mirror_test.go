package journal

import (
	"context"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

func TestConfigMapMirrorTwoWriters(t *testing.T) {
	cms := fake.NewClientset().CoreV1().ConfigMaps("shop")
	ctx := context.Background()
	a := open(t, t.TempDir(), Options{Actor: "ana", Mirror: &ConfigMapMirror{ConfigMaps: cms, App: "shop"}})
	b := open(t, t.TempDir(), Options{Actor: "bo", Mirror: &ConfigMapMirror{ConfigMaps: cms, App: "shop"}})
	steps := []struct {
		j      *Journal
		action Action
		seq    int
	}{
		{a, ActionIncidentOpened, 1}, {a, "step.started", 2}, {b, "flag.disabled", 3}, {a, "step.completed", 4}, {b, ActionIncidentClosed, 5},
	}
	// Each writer numbers its own entries; the mirror, where both meet,
	// numbers an entry after the other writer's when its number is taken.
	for _, s := range steps {
		if _, err := s.j.Append(ctx, Entry{Action: s.action, Inputs: map[string]any{"app": "shop"}}); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		s.j.Flush(ctx)
	}
	if errs := append(a.MirrorErrors(), b.MirrorErrors()...); len(errs) > 0 {
		t.Fatalf("mirror errors: %v", errs)
	}
	got, err := ReadMirror(ctx, cms, a.ID())
	if err != nil || len(got) != 5 {
		t.Fatalf("ReadMirror = %d entries, %v", len(got), err)
	}
	for i, s := range steps {
		if got[i].Action != s.action || got[i].Seq != s.seq {
			t.Errorf("mirror[%d] = %s #%d, want %s #%d", i, got[i].Action, got[i].Seq, s.action, s.seq)
		}
	}
	sums, err := ListMirror(ctx, cms)
	if err != nil || len(sums) != 1 || sums[0].App != "shop" || sums[0].Status != "closed" || sums[0].Entries != 5 {
		t.Errorf("ListMirror = %+v, %v", sums, err)
	}
}
