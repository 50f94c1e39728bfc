package rollout

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// Verdict is the typed verdict of a status, an undo and a bulk undo.
type Verdict = outcome.Verdict

// Verdicts of a status, an undo and a bulk undo (see pkg/outcome).
const (
	VerdictHealthy   = outcome.VerdictHealthy
	VerdictUnhealthy = outcome.VerdictUnhealthy
	VerdictTimeout   = outcome.VerdictTimeout
	VerdictSkipped   = outcome.VerdictSkipped
	VerdictDryRun    = outcome.VerdictDryRun
	VerdictRefused   = outcome.VerdictRefused
	VerdictCancelled = outcome.VerdictCancelled
	VerdictError     = outcome.VerdictError
)

// Duration is a time.Duration that JSON encodes as seconds.
type Duration time.Duration

// MarshalJSON encodes d as a number of seconds with millisecond precision.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(d).Seconds(), 'f', 3, 64)), nil
}

// String prints d rounded to 1 ms below a second and to 100 ms above.
func (d Duration) String() string {
	if time.Duration(d) < time.Second {
		return time.Duration(d).Round(time.Millisecond).String()
	}
	return time.Duration(d).Round(100 * time.Millisecond).String()
}

// StatusDurations are the durations of the phases of a watch and verification.
type StatusDurations struct {
	// Rollout runs from the start of the watch to every replica of the revision ready.
	Rollout Duration `json:"rollout"`
	// Settle is the time spent watching restart counts after the rollout.
	Settle Duration `json:"settle"`
	// Checks is the time spent on the --check-url requests.
	Checks Duration `json:"checks"`
	// Total runs from the start of the watch to the verdict.
	Total Duration `json:"total"`
}

// URLCheck is the answer of one health URL.
type URLCheck struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	OK     bool   `json:"ok"`
}

// StatusResult is the outcome of watching and verifying one rollout.
type StatusResult struct {
	Deployment string      `json:"deployment"`
	Namespace  string      `json:"namespace,omitempty"`
	Revision   int64       `json:"revision"`
	ReplicaSet string      `json:"replicaSet,omitempty"`
	Images     []string    `json:"images"`
	Verdict    Verdict     `json:"verdict"`
	Reason     string      `json:"reason,omitempty"`
	Failure    *PodFailure `json:"failure,omitempty"`
	Progress   Progress    `json:"progress"`
	Checks     []URLCheck  `json:"checks,omitempty"`
	MarkedGood bool        `json:"markedGood"`
	// HeldGood is true when the revision is healthy but Status.HoldKnownGood kept it unstamped.
	HeldGood  bool            `json:"heldGood,omitempty"`
	Warnings  []string        `json:"warnings,omitempty"`
	Durations StatusDurations `json:"durations"`
}

// Err returns the error matching the verdict: nil when healthy, wrapped
// with outcome.AsUnhealthy or outcome.AsTimeout otherwise.
func (r *StatusResult) Err() error {
	switch r.Verdict {
	case VerdictHealthy:
		return nil
	case VerdictTimeout:
		return outcome.AsTimeout(fmt.Errorf("deployment %s revision %d: %s", r.Deployment, r.Revision, r.Reason))
	case VerdictError:
		return fmt.Errorf("deployment %s: %s", r.Deployment, r.Reason)
	}
	return outcome.AsUnhealthy(fmt.Errorf("deployment %s revision %d is unhealthy: %s", r.Deployment, r.Revision, r.Reason))
}

// Status watches the ongoing rollout of a Deployment and verifies it.
type Status struct {
	Clients Clients
	// Verification says how the rollout is watched and verified.
	Verification Verification
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// HoldKnownGood leaves a healthy revision unstamped: the caller stamps it
	// later (guard, after its bake). Failed revisions are stamped as usual.
	HoldKnownGood bool
}

// Run watches the rollout of deployment with a watch (no polling) until it
// is complete, fails fast on a pod of the new revision that cannot become
// healthy, verifies it (every pod Ready, restart counts stable over the
// settle window, every check URL 2xx) and stamps the revision known-good on
// success or failed otherwise. The error is wrapped with outcome.AsUnhealthy
// or outcome.AsTimeout when the verdict is not healthy.
func (s *Status) Run(ctx context.Context, deployment string) (*StatusResult, error) {
	d, err := s.Clients.Deployments.Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return nil, getError(err, "deployment", deployment)
	}
	m := s.monitor("status")
	w := m.watch(ctx, watchScope{
		deployFields: fields.OneTermEqualSelector("metadata.name", deployment).String(),
		podLabels:    selectorString(d),
	})
	defer w.stop()
	// The watch's first list may be older than the Get (the API server's
	// watch cache), e.g. right after a write by another program (Helm's
	// rollback): judge the Deployment from the Get's generation on.
	res := m.follow(ctx, w, []string{deployment}, map[string]int64{deployment: d.Generation})[deployment]
	res.Namespace = d.Namespace
	return res, res.Err()
}

// monitor returns the watch engine configured like s.
func (s *Status) monitor(by string) *monitor {
	v := s.Verification
	return &monitor{
		clients: s.Clients, clock: v.clock(), obs: s.Observer,
		timeout: v.Timeout, settle: v.Settle, urls: v.CheckURLs, http: v.httpClient(), stampBy: by, holdGood: s.HoldKnownGood,
	}
}

// UnmarshalJSON decodes a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("duration %s: %w", b, err)
	}
	*d = Duration(s * float64(time.Second))
	return nil
}
