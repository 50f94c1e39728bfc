// Package journaltest writes incident journals for the tests of the
// packages that read and close them.
package journaltest

import (
	"context"
	"testing"
	"time"

	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/journal"
)

// LeftOpen writes in dir, mirrored through configMaps (application web),
// the journal of incident id as `rollback app undo` killed after
// step.started leaves it, written by ana@laptop at the time at: the
// incident opened, its lock on deployment web in namespace shop journaled
// (unless noLock) and its step started. A closed result other than ""
// adds an incident.closed entry with that result.
func LeftOpen(t testing.TB, configMaps corev1client.ConfigMapInterface, dir, id string, at time.Time, noLock bool, closed string) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(journal.Options{Dir: dir, Incident: id, Clock: clocktesting.NewFakeClock(at), Actor: "ana@laptop",
		Mirror: &journal.ConfigMapMirror{ConfigMaps: configMaps, App: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	es := []journal.Entry{{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "web", "trigger": "rollback app undo"}}}
	if !noLock {
		es = append(es, journal.Entry{Action: journal.ActionLockAcquired, Target: "lease/rollback-deployment-web", Result: journal.ResultOK, Inputs: map[string]any{"namespace": "shop"}})
	}
	es = append(es, journal.Entry{Step: "app", Action: journal.ActionStepStarted, Target: "deployment/web"})
	if closed != "" {
		es = append(es, journal.Entry{Action: journal.ActionIncidentClosed, Result: closed})
	}
	for _, e := range es {
		if _, err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}
