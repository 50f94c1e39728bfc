package incident

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

func TestThroughRelease(t *testing.T) {
	c := Cluster{Context: "prod", Namespace: "shop"}
	owner := func(name, ns string) *ownership.Owner {
		return ownership.HelmReleaseOf("Deployment", deploymentWithRelease(name, ns))
	}
	rb := &runbook.Runbook{HelmReleases: []runbook.HelmRelease{{Name: "web"}, {Name: "api", Namespace: "backend"}}}
	s := &session{r: &Run{Runbook: rb, Clusters: []Cluster{c}}}
	for _, tt := range []struct {
		name, release, ns string
		force             bool
		through, err      string
	}{
		{"listed", "web", "shop", false, "helmrelease/web", ""},
		{"listed in another namespace", "api", "backend", false, "helmrelease/api", ""},
		{"same name, other namespace", "web", "other", false, "", "list the release in the runbook's helmReleases (- name: web, namespace: other)"},
		{"not listed", "cart", "shop", false, "", "deployment web belongs to Helm release cart"},
		{"not listed, forced", "cart", "shop", true, "", ""},
		{"statefulset, not listed", "cart", "shop", false, "", "statefulset web belongs to Helm release cart"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.r.Force = tt.force
			w := rollout.Workload{Kind: rollout.KindDeployment, Name: "web"}
			if strings.HasPrefix(tt.name, "statefulset") {
				w.Kind = rollout.KindStatefulSet
			}
			through, err := s.throughRelease(c, w, owner(tt.release, tt.ns))
			if through != tt.through {
				t.Errorf("through %q, want %q", through, tt.through)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || outcome.KindOf(err) != outcome.Refused):
				t.Errorf("error %v, want a refusal containing %q", err, tt.err)
			}
		})
	}
}

func TestOwnPendingRollback(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	started := journal.Entry{Step: "app", Target: "helmrelease/web", Action: journal.ActionStepStarted, Time: t0}
	written := journal.Entry{Step: "app", Target: "helmrelease/web", Action: journal.ActionStepWritten, Time: t0.Add(time.Second)}
	pending := func(status string, since time.Time) *helmtarget.UndoResult {
		return &helmtarget.UndoResult{Plan: &helmtarget.Plan{Pending: &helmtarget.Pending{Revision: 4, Status: status, Since: since}}}
	}
	for _, tt := range []struct {
		name  string
		prior []journal.Entry
		r     *helmtarget.UndoResult
		want  bool
	}{
		{"our rollback was killed inside Helm", []journal.Entry{started}, pending("pending-rollback", t0.Add(time.Second)), true},
		{"no rollback of ours started", nil, pending("pending-rollback", t0), false},
		{"pending before our start", []journal.Entry{started}, pending("pending-rollback", t0.Add(-time.Minute)), false},
		{"someone's upgrade", []journal.Entry{started}, pending("pending-upgrade", t0.Add(time.Second)), false},
		{"our rollback landed", []journal.Entry{started, written}, pending("pending-rollback", t0.Add(time.Second)), false},
		{"not pending", []journal.Entry{started}, &helmtarget.UndoResult{Plan: &helmtarget.Plan{}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &session{prior: tt.prior}
			if got := s.ownPendingRollback("helmrelease/web", tt.r); got != tt.want {
				t.Errorf("ownPendingRollback = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHelmReleasesNeedReleases(t *testing.T) {
	rb := &runbook.Runbook{HelmReleases: []runbook.HelmRelease{{Name: "web"}}}
	if _, err := (&Run{Runbook: rb, Steps: []string{"app"}}).stepOrder(); outcome.KindOf(err) != outcome.Refused {
		t.Errorf("a runbook with Helm releases and no Releases: %v, want a refusal", err)
	}
	if _, err := (&Run{Runbook: rb, Steps: []string{"config"}}).stepOrder(); err != nil {
		t.Errorf("the config step alone needs no Releases: %v", err)
	}
}

func deploymentWithRelease(name, ns string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop",
		Labels:      map[string]string{ownership.LabelManagedBy: "Helm"},
		Annotations: map[string]string{ownership.AnnotationHelmReleaseName: name, ownership.AnnotationHelmReleaseNamespace: ns}}}
}
