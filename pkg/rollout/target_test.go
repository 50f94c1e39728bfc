package rollout

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/vibestack/rollback/pkg/outcome"
)

func TestChooseTarget(t *testing.T) {
	type rev struct {
		image, stamp string
	}
	tests := []struct {
		name       string
		revs       []rev // revision i+1; the last one is current
		toRevision int64
		want       int64
		fallback   bool
		refused    string
	}{
		{name: "v1 good, v2 good, v3 crash: newest known-good", revs: []rev{{"app:v1", "good"}, {"app:v2", "good"}, {"app:crash", ""}}, want: 2},
		{name: "v1 stamped, v2 crash, v3 crash: v1 not v2", revs: []rev{{"app:v1", "good"}, {"app:crash-2", ""}, {"app:crash", ""}}, want: 1},
		{name: "no stamp: previous revision", revs: []rev{{"app:v1", ""}, {"app:v2", ""}, {"app:crash", ""}}, want: 2, fallback: true},
		{name: "copied stamp does not count", revs: []rev{{"app:v1", ""}, {"app:v2", "copied"}, {"app:crash", ""}}, want: 2, fallback: true},
		{name: "failed stamp beats nothing: refuse", revs: []rev{{"app:v1", ""}, {"app:crash-2", "failed"}, {"app:crash", ""}}, refused: "never became healthy"},
		{name: "to-revision insists on a failed one", revs: []rev{{"app:v1", ""}, {"app:crash-2", "failed"}, {"app:crash", ""}}, toRevision: 2, want: 2},
		{name: "to-revision pruned", revs: []rev{{"app:v1", ""}, {"app:v2", ""}, {"app:crash", ""}}, toRevision: 9, refused: "does not exist"},
		{name: "only one revision", revs: []rev{{"app:v1", ""}}, refused: "no earlier revision"},
		{name: "current is the last good: itself", revs: []rev{{"app:v1", "good"}, {"app:v2", "good"}}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment(tt.revs[len(tt.revs)-1].image)
			var rss []appsv1.ReplicaSet
			for i, r := range tt.revs {
				rss = append(rss, replicaSet(d, i+1, r.image, r.stamp))
			}
			revs := deploymentRevisions(d, rss)
			got, err := ChooseTarget(web, revs, current(revs), tt.toRevision)
			if tt.refused != "" {
				if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want refusal containing %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision.Number != tt.want || got.Fallback != tt.fallback {
				t.Errorf("target = %d (fallback %t), want %d (fallback %t): %s", got.Revision.Number, got.Fallback, tt.want, tt.fallback, got.Reason)
			}
		})
	}
}

func TestChooseTargetPruned(t *testing.T) {
	d := deployment("app:crash")
	rss := []appsv1.ReplicaSet{replicaSet(d, 4, "app:v4", ""), replicaSet(d, 5, "app:crash", "")}
	revs := deploymentRevisions(d, rss)
	_, err := ChooseTarget(web, revs, current(revs), 2)
	if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "pruned") || !strings.Contains(err.Error(), "4, 5") {
		t.Fatalf("err = %v, want a pruned refusal listing 4, 5", err)
	}
}
