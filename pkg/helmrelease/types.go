package helmrelease

import "github.com/vibestack/rollback/pkg/helmtarget"

// The plans and results of this package are helmtarget's, so that
// packages without Helm's library in their process read them too.
type (
	// Revision is one revision of a release.
	Revision = helmtarget.Revision
	// HistoryResult is the history of a release.
	HistoryResult = helmtarget.HistoryResult
	// Pending describes a release whose last Helm operation never finished.
	Pending = helmtarget.Pending
	// Plan is what an undo of a release will do.
	Plan = helmtarget.Plan
	// ValueChange is one user-supplied value that differs between two revisions.
	ValueChange = helmtarget.ValueChange
	// ObjectChange is one rendered object that differs between two revisions.
	ObjectChange = helmtarget.ObjectChange
	// UndoResult is the outcome of an undo of a release.
	UndoResult = helmtarget.UndoResult
	// MarkGoodResult is the outcome of MarkGood.
	MarkGoodResult = helmtarget.MarkGoodResult
	// MarkResult is the outcome of MarkFailed.
	MarkResult = helmtarget.MarkResult
	// Recorder journals the actions of an undo (a *journal.Journal).
	Recorder = helmtarget.Recorder
)

// Health of a revision, verdicts of a mark and of an undo: helmtarget's.
const (
	HealthGood       = helmtarget.HealthGood
	HealthFailed     = helmtarget.HealthFailed
	HealthPending    = helmtarget.HealthPending
	HealthUnverified = helmtarget.HealthUnverified

	MarkGood   = helmtarget.MarkGood
	MarkFailed = helmtarget.MarkFailed

	VerdictHealthy   = helmtarget.VerdictHealthy
	VerdictUnhealthy = helmtarget.VerdictUnhealthy
	VerdictSkipped   = helmtarget.VerdictSkipped
	VerdictDryRun    = helmtarget.VerdictDryRun
	VerdictRefused   = helmtarget.VerdictRefused
	VerdictError     = helmtarget.VerdictError
)
