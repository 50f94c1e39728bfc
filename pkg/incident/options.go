package incident

import (
	"context"
	"net/http"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// Cluster is one cluster of the runbook with a client for it.
type Cluster struct {
	// Context is the kubeconfig context.
	Context string
	// Namespace is the application's namespace there.
	Namespace string
	// Client reaches the cluster.
	Client kubernetes.Interface
}

// DBTarget says how far back the database step goes. The zero value means one
// migration back.
type DBTarget struct {
	// Steps reverts this many migrations (default 1).
	Steps int `json:"steps,omitempty"`
	// To reverts down to this version when HasTo is set.
	To    int64 `json:"to,omitempty"`
	HasTo bool  `json:"hasTo,omitempty"`
}

// Run is one incident run: a new rollback, or the resumption of one.
type Run struct {
	// Runbook is the application's parsed rollback.yaml.
	Runbook *runbook.Runbook
	// RunbookPath is its path; relative paths in it are relative to its directory.
	RunbookPath string
	// Clusters are the runbook's clusters, in its order, with clients.
	Clusters []Cluster
	// Steps overrides the runbook's step order (subset of app, config, db).
	Steps []string
	// Reason says why (--reason); it goes into notifications and the report.
	Reason string
	// Actor is who runs it (user@host).
	Actor string
	// Resume continues the incident with this id from its journal.
	Resume string
	// ID, when set, is the id of a new incident (drills choose it to journal
	// their own entries first); journal.NewID otherwise.
	ID string
	// DryRun plans every step and changes nothing: no journal, no lock, no notification.
	DryRun bool
	// Confirm is asked before each step; nil means yes to all (--yes).
	Confirm func(step, question string) (bool, error)
	// AcceptNoGo goes ahead although preflight says NO-GO (recorded).
	AcceptNoGo bool
	// Force rolls back workloads whose owner (an operator, Argo CD, Flux, a Helm release) would revert the undo.
	Force bool
	// ReplacePods replaces, one at a time, the pods an OnDelete strategy of
	// a StatefulSet or DaemonSet keeps at other revisions (rollout.Undo).
	ReplacePods bool
	// NoReplaceStuck leaves the crash-looping pod an OrderedReady
	// StatefulSet waits for in place (rollout.Undo).
	NoReplaceStuck bool
	// AcceptDataLoss allows database downs that destroy data.
	AcceptDataLoss bool
	// DB says how far back the database step goes.
	DB DBTarget
	// DatabaseURL is the database's URL, resolved from the runbook by the caller.
	DatabaseURL string
	// JournalDir holds the journals and reports (journal.DefaultDir() when empty).
	JournalDir string
	// Channels are the notification channels; Secrets are values to redact everywhere.
	Channels []notify.Channel
	Secrets  []string
	// Prometheus evaluates the runbook's queries; nil when it has none.
	Prometheus *promquery.Client
	// Preflight runs the checklist; nil skips it (recorded as skipped).
	Preflight func(ctx context.Context, steps []string) (Checklist, error)
	// Verification says how every rollout is watched and verified.
	Verification rollout.Verification
	// Releases rolls the runbook's Helm releases back (Helm's library, in
	// the rollback-helm program); nil refuses a runbook that lists some.
	Releases helmtarget.Releases
	// HealthTimeout is how long the after-rollback health checks may take to pass.
	HealthTimeout time.Duration
	// LockDuration is the cluster lock's lease duration (clusterlock.DefaultDuration when zero).
	LockDuration time.Duration
	// Process is this process's nonce for the cluster locks (clusterlock.NewProcessID when empty).
	Process string
	// HTTPClient makes health-check requests.
	HTTPClient *http.Client
	// Clock is injected for tests.
	Clock clock.WithTicker
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// AfterStep, when set, runs after each step is journaled (tests stop the process there).
	AfterStep func(step string)
	// AfterRecord, when set, is called after every journal entry is on disk
	// (fault injection: the resume tests kill the process there).
	AfterRecord func(journal.Entry)
	// Incident, when set, is an incident the caller opened (a drill, which
	// journals its own entries first); Run uses it instead of opening one.
	Incident *lifecycle.Incident
	// Evidence bounds the evidence collected before the first step writes
	// (evidence.DefaultLimits() when nil; a zero Budget collects none).
	Evidence *evidence.Limits
	// BeforeClose, when set, runs after the last step and health check,
	// before the incident is closed and its report written.
	BeforeClose func(ctx context.Context, in *lifecycle.Incident, res *Result)
}

// Checklist is what the incident needs from a preflight report.
type Checklist struct {
	// Go is the verdict.
	Go bool
	// Problems are the failed or unknown checks, one line each.
	Problems []string
	// Report is the full report, journaled as is.
	Report any
}
