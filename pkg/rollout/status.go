package rollout

import (
	"context"
	"fmt"
	"strconv"
	"time"

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
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Deployment is the name again for a Deployment (the key scripts
	// written before StatefulSets and DaemonSets read).
	Deployment string `json:"deployment,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Revision   int64  `json:"revision"`
	// ReplicaSet (Deployment) or ControllerRevision (StatefulSet,
	// DaemonSet) holds the watched revision.
	ReplicaSet         string      `json:"replicaSet,omitempty"`
	ControllerRevision string      `json:"controllerRevision,omitempty"`
	Images             []string    `json:"images"`
	Verdict            Verdict     `json:"verdict"`
	Reason             string      `json:"reason,omitempty"`
	Failure            *PodFailure `json:"failure,omitempty"`
	Progress           Progress    `json:"progress"`
	Checks             []URLCheck  `json:"checks,omitempty"`
	MarkedGood         bool        `json:"markedGood"`
	// HeldGood is true when the revision is healthy but Status.HoldKnownGood kept it unstamped.
	HeldGood bool `json:"heldGood,omitempty"`
	// Replaced are the pods an undo deleted so that their controller
	// recreates them at the revision (a stuck StatefulSet, OnDelete).
	Replaced []PodReplacement `json:"replacedPods,omitempty"`
	// Notes say what the update strategy left behind at the verdict.
	Notes     []string        `json:"notes,omitempty"`
	Warnings  []string        `json:"warnings,omitempty"`
	Durations StatusDurations `json:"durations"`
	// RevisionRef names the object holding the watched revision (zero
	// until the watch found it): guard stamps it after its bake.
	RevisionRef RevisionRef `json:"-"`
}

// newStatusResult is the result of watching w, before any verdict.
func newStatusResult(w Workload) *StatusResult {
	if w.Kind == "" {
		w.Kind = KindDeployment
	}
	return &StatusResult{Kind: w.Kind, Name: w.Name, Deployment: deploymentName(w), Namespace: w.Namespace}
}

// setRevision records the watched revision src of a workload of kind k.
func (r *StatusResult) setRevision(k Kind, src *revisionSource) {
	r.RevisionRef = src.ref(k)
	r.Images = src.images()
	r.Revision = src.number()
	if src.rs != nil {
		r.ReplicaSet = src.rs.Name
	} else {
		r.ControllerRevision = src.cr.Name
	}
}

// Workload names the watched workload.
func (r *StatusResult) Workload() Workload {
	return Workload{Kind: r.kind(), Namespace: r.Namespace, Name: r.label0()}
}

func (r *StatusResult) kind() Kind {
	if r.Kind == "" {
		return KindDeployment
	}
	return r.Kind
}

func (r *StatusResult) label0() string {
	if r.Name == "" {
		return r.Deployment
	}
	return r.Name
}

// label is the workload as progress lines name it: the bare name of a
// Deployment, KIND/NAME otherwise.
func (r *StatusResult) label() string { return r.Workload().Arg() }

// Err returns the error matching the verdict: nil when healthy, wrapped
// with outcome.AsUnhealthy or outcome.AsTimeout otherwise.
func (r *StatusResult) Err() error {
	what := r.Workload().Describe()
	switch r.Verdict {
	case VerdictHealthy:
		return nil
	case VerdictTimeout:
		return outcome.AsTimeout(fmt.Errorf("%s revision %d: %s", what, r.Revision, r.Reason))
	case VerdictError:
		return fmt.Errorf("%s: %s", what, r.Reason)
	}
	return outcome.AsUnhealthy(fmt.Errorf("%s revision %d is unhealthy: %s", what, r.Revision, r.Reason))
}

// Status watches the ongoing rollout of a workload and verifies it.
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

// Run watches the rollout of workload (kubectl's resource syntax: web,
// deployment/web, sts/db, ds/agent) with watches (no polling) until it is
// complete, fails fast on a pod of the new revision that cannot become
// healthy, verifies it (every pod Ready, restart counts stable over the
// settle window, every check URL 2xx) and stamps the revision known-good on
// success or failed otherwise. The error is wrapped with outcome.AsUnhealthy
// or outcome.AsTimeout when the verdict is not healthy.
func (s *Status) Run(ctx context.Context, workload string) (*StatusResult, error) {
	o, err := getWorkload(ctx, s.Clients, workload)
	if err != nil {
		return nil, err
	}
	res := s.watchOne(ctx, o, s.monitor("status"))
	return res, res.Err()
}

// watchOne watches and verifies the rollout of o with m; the error of the
// verdict is res.Err().
func (s *Status) watchOne(ctx context.Context, o object, m *monitor) *StatusResult {
	w := o.workload()
	k := key(w.Kind, w.Name)
	ws := m.watch(ctx, singleScope(o))
	defer ws.stop()
	// The watch's first list may be older than the read of o (the API
	// server's watch cache), e.g. right after a write by another program
	// (Helm's rollback): judge the workload from o's generation on.
	res := m.follow(ctx, ws, []Workload{k}, map[Workload]int64{k: o.meta().Generation})[k]
	res.Namespace = w.Namespace
	return res
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
