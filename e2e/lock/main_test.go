//go:build e2e

// Package lock_test runs the cluster lock (pkg/clusterlock) against the real
// sandbox Kubernetes control plane (e2e/sandboxenv).
package lock_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/clusterlock"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

// lockAs returns the lock of app "web" in ns for holder and incident.
func lockAs(ns, holder, incident string, d time.Duration) *clusterlock.Lock {
	return &clusterlock.Lock{
		Leases: sb.Clientset.CoordinationV1().Leases(ns), Clock: clock.RealClock{},
		Name: "web", Holder: holder, Process: processOf(holder), Incident: incident, Duration: d,
	}
}

// processOf is the process nonce tests give holder: "alice@laptop" -> "p-alice".
func processOf(holder string) string {
	name, _, _ := strings.Cut(holder, "@")
	return "p-" + name
}
