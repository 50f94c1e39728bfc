package helmtarget

import (
	"fmt"
	"time"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Health of a revision, as rollback judges it.
const (
	// HealthGood: rollback verified the revision healthy (a mark).
	HealthGood = "good"
	// HealthFailed: rollback saw it fail, or Helm recorded it failed.
	HealthFailed = "failed"
	// HealthPending: Helm's operation on it never finished.
	HealthPending = "pending"
	// HealthUnverified: nobody verified it.
	HealthUnverified = "unverified"
)

// Verdicts of a mark.
const (
	MarkGood   = "good"
	MarkFailed = "failed"
)

// Verdicts of an undo, beyond rollout's.
const (
	VerdictHealthy   = rollout.VerdictHealthy
	VerdictUnhealthy = rollout.VerdictUnhealthy
	VerdictSkipped   = rollout.VerdictSkipped
	VerdictDryRun    = rollout.VerdictDryRun
	VerdictRefused   = rollout.VerdictRefused
	VerdictError     = rollout.VerdictError
)

// Revision is one revision of a release.
type Revision struct {
	Revision    int       `json:"revision"`
	Status      string    `json:"status"`
	Chart       string    `json:"chart"`
	AppVersion  string    `json:"appVersion"`
	Description string    `json:"description"`
	Updated     time.Time `json:"updated"`
	// Health is rollback's verdict: good, failed, pending or unverified.
	Health string `json:"health"`
	// HealthDetail says where the verdict comes from.
	HealthDetail string `json:"healthDetail,omitempty"`
	// Current is the newest revision; LastGood the newest verified one.
	Current  bool `json:"current,omitempty"`
	LastGood bool `json:"lastGood,omitempty"`
}

// HistoryResult is the history of a release.
type HistoryResult struct {
	Release   string     `json:"release"`
	Namespace string     `json:"namespace"`
	Current   int        `json:"current"`
	LastGood  int        `json:"lastGood"`
	Revisions []Revision `json:"revisions"`
}

// Pending describes a release whose last Helm operation never finished.
type Pending struct {
	Revision    int       `json:"revision"`
	Status      string    `json:"status"`
	Since       time.Time `json:"since"`
	Description string    `json:"description"`
	// Writer names who wrote the record (the field managers of its Secret),
	// when the storage tells.
	Writer string `json:"writer,omitempty"`
}

// String says who left what pending since when.
func (p Pending) String() string {
	s := fmt.Sprintf("revision %d is %s since %s (%q)", p.Revision, p.Status, p.Since.UTC().Format(time.RFC3339), p.Description)
	if p.Writer != "" {
		s += ", written by " + p.Writer
	}
	return s
}

// Plan is what an undo of a release will do, computed from one read.
type Plan struct {
	Release   string   `json:"release"`
	Namespace string   `json:"namespace"`
	From      Revision `json:"from"`
	To        Revision `json:"to"`
	Reason    string   `json:"reason"`
	// Skip is true when the release already is at the target.
	Skip bool `json:"skip"`
	// Pending is set when the current revision is pending-*.
	Pending *Pending `json:"pending,omitempty"`
	// Values are the user-supplied values that change (secrets redacted).
	Values []ValueChange `json:"values,omitempty"`
	// Objects are the rendered objects that change.
	Objects []ObjectChange `json:"objects,omitempty"`
	// Workloads are the Deployments, StatefulSets and DaemonSets of the
	// target revision in KIND/NAME form (deployment/web, statefulset/db),
	// verified after the rollback.
	Workloads []string `json:"workloads,omitempty"`
	// Deployments are the names of the Deployments among Workloads (the
	// key scripts written before StatefulSets and DaemonSets read).
	Deployments []string `json:"deployments,omitempty"`
	// Ownership is the ownership check of every workload of the release,
	// without the release itself.
	Ownership []ownership.Verdict `json:"ownership,omitempty"`
	// Missing is what the target's workloads need that neither the
	// namespace nor the target's own manifest has.
	Missing  []podrefs.Missing `json:"missing,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	// FieldManager is the field manager Helm's rollback applies as: the
	// one that applied the release's workloads (helm for the CLI,
	// helm-controller for Flux), so that server-side apply does not
	// conflict with it.
	FieldManager string `json:"fieldManager"`
}

// ValueChange is one user-supplied value that differs between two
// revisions; secret-looking values are shown redacted.
type ValueChange struct {
	Path     string `json:"path"`
	From     string `json:"from"`
	To       string `json:"to"`
	Redacted bool   `json:"redacted,omitempty"`
}

// ObjectChange is one rendered object that differs between two revisions.
type ObjectChange struct {
	// Object is "Kind/name".
	Object string `json:"object"`
	// Change is added, removed or changed.
	Change string `json:"change"`
	// Template lists the pod template changes of a workload.
	Template []rollout.Change `json:"template,omitempty"`
}

// UndoResult is the outcome of an undo of a release.
type UndoResult struct {
	Release   string          `json:"release"`
	Namespace string          `json:"namespace"`
	Verdict   outcome.Verdict `json:"verdict"`
	Plan      *Plan           `json:"plan,omitempty"`
	// RecoveredPending is the pending revision marked failed first.
	RecoveredPending *Pending `json:"recoveredPending,omitempty"`
	// NewRevision is the revision Helm's rollback wrote.
	NewRevision int `json:"newRevision,omitempty"`
	// Workloads are the verifications of the release's workloads
	// (Deployments, StatefulSets, DaemonSets), each with its kind.
	Workloads []*rollout.StatusResult `json:"workloads,omitempty"`
	// Marked says how the new revision was marked (good or failed).
	Marked    string           `json:"marked,omitempty"`
	Error     string           `json:"error,omitempty"`
	Durations rollout.Duration `json:"duration"`
}

// Reason says in one line why a release is not healthy after an undo: the
// first workload that is not, else the error.
func (r *UndoResult) Reason() string {
	for _, w := range r.Workloads {
		if w.Verdict != VerdictHealthy && w.Reason != "" {
			return w.Workload().Describe() + ": " + w.Reason
		}
	}
	return r.Error
}

// MarkGoodResult is the outcome of MarkGood.
type MarkGoodResult struct {
	Release   string                  `json:"release"`
	Namespace string                  `json:"namespace"`
	Revision  int                     `json:"revision"`
	Marked    string                  `json:"marked"`
	Workloads []*rollout.StatusResult `json:"workloads"`
}

// MarkResult is the outcome of MarkFailed.
type MarkResult struct {
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	Revision  int    `json:"revision"`
	Marked    string `json:"marked"`
}
