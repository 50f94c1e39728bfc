package guardcontroller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/ownership"
)

// helmOnly stands for the rollback-helm program: the fake guard below
// does the release's rollback itself, so no method is called.
type helmOnly struct{ helmtarget.Releases }

// A rollback through the Helm release cannot carry the state in Helm's
// write; the controller records what it put back (the current revision,
// an older one) when it ends, so that it never guards its own rollback
// as a new rollout, also when the rollback's verification failed.
func TestControllerRecordsWhatHelmPutBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict string
		phase   string
	}{
		{"rolled back", guard.VerdictRolledBack, PhaseRolledBack},
		{"rollback not healthy", guard.VerdictFailed, PhaseFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, rss := fixture(map[string]string{AnnotationGuard: "enabled", ownership.AnnotationHelmReleaseName: "web"}, false)
			cs := newFake(t, d, rss)
			c := &Controller{Client: cs, Identity: "leader", Releases: helmOnly{}}
			cs, calls, log := runControllerWith(t, c, cs, func(g *guard.Guard) *guard.Result {
				g.OnPhase(guard.PhaseRollingBack, time.Now())
				// Helm's rollback: the v1 template again, which the
				// Deployment's old ReplicaSet holds.
				cur, err := cs.AppsV1().Deployments("shop").Get(context.Background(), "web", metav1.GetOptions{})
				if err != nil {
					t.Error(err)
					return nil
				}
				cur.Spec.Template = rss[0].Spec.Template
				delete(cur.Spec.Template.Labels, "pod-template-hash")
				if _, err := cs.AppsV1().Deployments("shop").Update(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
					t.Error(err)
				}
				return &guard.Result{Verdict: tc.verdict, Reason: "crash loop"}
			}, func(cs *fake.Clientset, n int) bool {
				s := currentState(t, cs)
				return n > 0 && s != nil && s.Phase == tc.phase
			})
			if len(calls) != 1 {
				t.Fatalf("%d guard runs\n%s", len(calls), log)
			}
			s := currentState(t, cs)
			if s.Phase != tc.phase || s.Release != "web" || s.Hash != "h2" || s.RollbackTo != "h1" {
				t.Errorf("final state %+v, want %s of h2 through release web, rollbackTo h1\n%s", s, tc.phase, log)
			}
		})
	}
}
