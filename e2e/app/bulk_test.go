//go:build e2e

package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/rollout"
)

// A bulk undo of 20 Deployments in 4 namespaces, plus one paused
// Deployment whose refusal does not stop the others and shows in the exit code.
func TestBulkUndo(t *testing.T) {
	var namespaces []string
	for i := 0; i < 4; i++ {
		namespaces = append(namespaces, sb.Namespace(t))
	}
	tier := namespaces[0] // unique per run
	sel := "tier=" + tier
	label := func(d *appsv1.Deployment) { d.Labels["tier"] = tier }
	for _, ns := range namespaces {
		for j := 0; j < 5; j++ {
			newDeployment(t, ns, fmt.Sprintf("svc-%d", j), "vibestack/app:v1", label)
		}
	}
	for _, ns := range namespaces {
		for j := 0; j < 5; j++ {
			markGood(t, ns, fmt.Sprintf("svc-%d", j))
			setImage(t, ns, fmt.Sprintf("svc-%d", j), "vibestack/app:crash")
		}
	}
	newDeployment(t, namespaces[0], "paused", "vibestack/app:v1", label)
	markGood(t, namespaces[0], "paused")
	setImage(t, namespaces[0], "paused", "vibestack/app:crash")
	pause(t, namespaces[0], "paused")

	code, out, _ := run(t, "app", "undo", "-l", sel, "-A", "--yes", "--settle", "1s", "-o", "json")
	if code != exitcode.Refused {
		t.Errorf("exit %d, want %d (one refusal)", code, exitcode.Refused)
	}
	var res rollout.BulkResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v", err)
	}
	if len(res.Results) != 21 || res.Counts[rollout.VerdictHealthy] != 20 || res.Counts[rollout.VerdictRefused] != 1 {
		t.Errorf("counts %v of %d results, want 20 healthy and 1 refused", res.Counts, len(res.Results))
	}
	for _, ns := range namespaces {
		for j := 0; j < 5; j++ {
			if got := image(getDeployment(t, ns, fmt.Sprintf("svc-%d", j))); got != "vibestack/app:v1" {
				t.Errorf("%s/svc-%d runs %s", ns, j, got)
			}
		}
	}
	// The human table: one row per Deployment and a summary line.
	code, out, _ = run(t, "app", "undo", "-l", sel, "-n", namespaces[1], "--yes")
	if code != exitcode.OK || !strings.Contains(out, "5 deployments: 5 skipped") {
		t.Errorf("second bulk undo in one namespace: exit %d, want 5 skipped", code)
	}
}
