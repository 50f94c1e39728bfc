// Package drill rehearses a rollback in a non-production namespace: it
// deploys a copy of the application at its last known good version, ships a
// deliberately bad release, runs the runbook's rollback steps on the copy,
// verifies recovery, measures the time to detect and the time to recover,
// compares them with earlier drills kept in the journal, and cleans up.
package drill

import (
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/incident"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// LabelDrill marks a namespace a drill created; its value is the application.
const LabelDrill = "rollback.vibestack.dev/drill"

// Drill is one rehearsal.
type Drill struct {
	// Runbook is the application's runbook; its first cluster is the source.
	Runbook *runbook.Runbook
	// RunbookPath is its path, recorded in the journal.
	RunbookPath string
	// Client reaches the runbook's first cluster; the drill namespace is created there.
	Client kubernetes.Interface
	// Context is that cluster's kubeconfig context, for the journal.
	Context string
	// Namespace is the drill namespace; it must not be a namespace of the runbook.
	Namespace string
	// BadImage is the bad release's image for the first container of the
	// first Deployment; default: the good image's repository with tag "crash".
	BadImage string
	// BadConfig, when set, is the bad release instead: KEY=VALUE written into
	// the first ConfigMap of the runbook, then a restart.
	BadConfig map[string]string
	// Keep leaves the drill namespace in place.
	Keep bool
	// JournalDir holds the journals (journal.DefaultDir() when empty).
	JournalDir string
	// Actor is who runs the drill.
	Actor string
	// Verification says how every rollout is watched and verified.
	Verification rollout.Verification
	// Process is this process's nonce for the cluster locks (clusterlock.NewProcessID when empty).
	Process string
	// Clock is injected for tests.
	Clock clock.WithTicker
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// AfterRecord, when set, is called after every journal entry is on disk (fault injection).
	AfterRecord func(journal.Entry)
}

// Timing is the outcome of one drill, as kept in the journal.
type Timing struct {
	// Incident is the drill's incident id.
	Incident string `json:"incident"`
	// Time is when the drill ran.
	Time time.Time `json:"time"`
	// Detect is the time from the bad release to the failure being reported.
	Detect rollout.Duration `json:"detect"`
	// Recover is the time from the failure being reported to the rollback verified healthy.
	Recover rollout.Duration `json:"recover"`
	// Verdict is passed or failed.
	Verdict string `json:"verdict"`
}

// Result is what a drill did and measured.
type Result struct {
	Timing
	// App is the application.
	App string `json:"app"`
	// Namespace is the drill namespace.
	Namespace string `json:"namespace"`
	// BadRelease describes what was shipped.
	BadRelease string `json:"badRelease"`
	// Detected is the failure the watch reported.
	Detected string `json:"detected,omitempty"`
	// Run is the rollback's result.
	Run *incident.Result `json:"run,omitempty"`
	// Previous are the earlier drills of the app, newest first.
	Previous []Timing `json:"previous,omitempty"`
	// Report is the Markdown report.
	Report string `json:"report,omitempty"`
	// CleanedUp is true when the drill namespace was deleted.
	CleanedUp bool `json:"cleanedUp"`
	// Error is why the drill failed.
	Error string `json:"error,omitempty"`
}

// Verdicts of a drill.
const (
	VerdictPassed = "passed"
	VerdictFailed = "failed"
)

// ctxTimeout bounds the cleanup after the drill's context may be gone.
const cleanupTimeout = 30 * time.Second
