package drill

import (
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

func TestBadImageFor(t *testing.T) {
	cases := map[string]string{
		"registry.example/app:v1":        "registry.example/app:crash",
		"registry.example:5000/app:1.4":  "registry.example:5000/app:crash",
		"registry.example:5000/app":      "registry.example:5000/app:crash",
		"app@sha256:abcd":                "app:crash",
		"ghcr.io/org/app:1.2.3@sha256:0": "ghcr.io/org/app:crash",
	}
	for in, want := range cases {
		if got := badImageFor(in); got != want {
			t.Errorf("badImageFor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComparison(t *testing.T) {
	s := rollout.Duration(time.Second)
	cases := []struct {
		name string
		prev []Timing
		want string
	}{
		{"first", nil, "first passed drill of app"},
		{"failed ones do not count", []Timing{{Verdict: VerdictFailed, Detect: s}}, "first passed drill"},
		{"median of two", []Timing{{Verdict: VerdictPassed, Detect: 2 * s, Recover: 10 * s}, {Verdict: VerdictPassed, Detect: 4 * s, Recover: 20 * s}},
			"median of 2 earlier passed drills 3s), recover 5s (median 15s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := comparison(&Result{App: "app", Timing: Timing{Detect: s, Recover: 5 * s}, Previous: c.prev})
			if !strings.Contains(got, c.want) {
				t.Errorf("comparison = %q, want it to contain %q", got, c.want)
			}
		})
	}
}

func TestValidateRefusesProductionNamespaces(t *testing.T) {
	rb := &runbook.Runbook{App: "app", Clusters: []runbook.Cluster{{Context: "prod", Namespace: "shop"}, {Context: "dr", Namespace: "shop-dr"}}, Deployments: []string{"web"}}
	for ns, ok := range map[string]bool{"": false, "shop": false, "shop-dr": false, "shop-drill": true} {
		err := (&Drill{Runbook: rb, Namespace: ns}).validate()
		if (err == nil) != ok {
			t.Errorf("validate(%q) = %v, want ok=%v", ns, err, ok)
		}
	}
}

func TestValidateRefusesRunbookWithoutDeployments(t *testing.T) {
	rb := &runbook.Runbook{App: "app", Clusters: []runbook.Cluster{{Context: "prod", Namespace: "shop"}}, HelmReleases: []runbook.HelmRelease{{Name: "web"}}}
	if err := (&Drill{Runbook: rb, Namespace: "shop-drill"}).validate(); err == nil || !strings.Contains(err.Error(), "lists no deployments, statefulSets or daemonSets") {
		t.Errorf("validate of a runbook with Helm releases only = %v, want a refusal", err)
	}
}

func TestStepsLeaveOutTheDatabase(t *testing.T) {
	rb := &runbook.Runbook{App: "app", Clusters: []runbook.Cluster{{Context: "c", Namespace: "shop"}}, Deployments: []string{"web"},
		Database: &runbook.Database{URLFromEnv: "X", MigrationsDir: "m"}, Notifications: runbook.Notifications{Webhook: &runbook.Webhook{URLFromEnv: "W"}}}
	r := (&Drill{Runbook: rb, Namespace: "shop-drill", Context: "c"}).incidentRun(nil)
	if strings.Join(r.Steps, ",") != "app,config" {
		t.Errorf("steps = %v, want app,config", r.Steps)
	}
	if r.Runbook.Database != nil || r.Runbook.Notifications.Webhook != nil || r.Runbook.Clusters[0].Namespace != "shop-drill" {
		t.Errorf("drill runbook still has the database, notifications or the production namespace: %+v", r.Runbook)
	}
	if rb.Clusters[0].Namespace != "shop" || rb.Database == nil {
		t.Error("the drill changed the original runbook")
	}
}
