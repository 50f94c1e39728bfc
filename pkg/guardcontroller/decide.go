package guardcontroller

import "time"

// Actions the controller takes for a workload.
const (
	// ActNothing: the current revision has a verdict, or its guard is running.
	ActNothing = "nothing"
	// ActWait: the workload's controller has not recorded the current revision yet.
	ActWait = "wait"
	// ActStop: the workload opted out; stop its running guard.
	ActStop = "stop"
	// ActGuard: a new rollout; write phase watching and guard it.
	ActGuard = "guard"
	// ActResume: a guard was interrupted while watching or baking; guard it again from the persisted state.
	ActResume = "resume"
	// ActRollback: phase rolling-back but the rollback write never landed; roll back (the first time).
	ActRollback = "rollback"
	// ActVerify: phase rolling-back and the rollback landed; only verify the rolled-back revision.
	ActVerify = "verify"
)

// Current is the current revision of a workload.
type Current struct {
	// Hash identifies it: a Deployment's pod-template-hash, a StatefulSet's
	// or DaemonSet's controller-revision hash.
	Hash string
	// Revision is its revision number.
	Revision int64
	// KnownGood is true when its ReplicaSet or ControllerRevision carries
	// a known-good stamp newer than any failed one.
	KnownGood bool
	// Created is when its ReplicaSet or ControllerRevision was created.
	Created time.Time
}

// Running is the guard this replica runs for a workload.
type Running struct {
	Hash     string
	Revision int64
	// Started is when the guard started.
	Started time.Time
}

// Observation is what the controller knows about one workload.
type Observation struct {
	// Enabled is true when the workload opts in.
	Enabled bool
	// Current is nil until the workload's controller has observed its
	// generation and recorded the revision of its template (a ReplicaSet,
	// a ControllerRevision).
	Current *Current
	// State is the persisted state; nil when there is none (or it did not parse).
	State *State
	// Running is the guard running in this replica, nil when none.
	Running *Running
}

// Decision is what to do with a workload.
type Decision struct {
	Action string
	// Cancel is true when the running guard is cancelled first (a newer rollout supersedes it).
	Cancel bool
	// Reason says why, for the log and Events.
	Reason string
}

// Decide is the guard state machine: from an observation, what to do. It
// is pure so that every restart case is tested without a cluster.
func Decide(o Observation) Decision {
	if !o.Enabled {
		if o.Running != nil {
			return Decision{Action: ActStop, Cancel: true, Reason: "the opt-in annotation " + AnnotationGuard + " was removed or is not \"enabled\""}
		}
		return Decision{Action: ActNothing, Reason: "not opted in"}
	}
	cur := o.Current
	if cur == nil {
		return Decision{Action: ActWait, Reason: "waiting for the workload's controller to record the new revision"}
	}
	cancel := false
	if r := o.Running; r != nil {
		if r.Hash == cur.Hash && r.Revision == cur.Revision {
			return Decision{Action: ActNothing, Reason: "guard running"}
		}
		if cur.KnownGood || !cur.Created.After(r.Started) {
			// Back to an older template: the running guard's own rollback
			// (or a manual one). The running guard carries on and decides.
			return Decision{Action: ActNothing, Reason: "the deployment went back to an older revision while its guard runs"}
		}
		cancel = true
	}
	d := decideFromState(o)
	d.Cancel = cancel
	if cancel && d.Action == ActNothing {
		d.Action = ActStop
	}
	return d
}

// decideFromState decides when no guard of this replica runs for the current revision.
func decideFromState(o Observation) Decision {
	cur, s := o.Current, o.State
	if s != nil && s.Hash == cur.Hash && s.Revision == cur.Revision {
		switch s.Phase {
		case PhasePassed, PhaseRolledBack, PhaseFailed:
			return Decision{Action: ActNothing, Reason: "revision already judged: " + s.Phase}
		case PhaseWatching, PhaseBaking:
			return Decision{Action: ActResume, Reason: "resuming the interrupted guard (phase " + s.Phase + ")"}
		case PhaseRollingBack:
			return Decision{Action: ActRollback, Reason: "the release was judged bad but the rollback write never landed"}
		}
	}
	if s != nil && s.Phase == PhaseRollingBack && s.Release != "" && s.Hash != cur.Hash && !cur.Created.After(s.Updated) {
		// Helm's rollback may have landed (the workload runs an older
		// revision again) without the state saying so: rolling back
		// through the release again only verifies a landed one.
		return Decision{Action: ActRollback, Reason: "the rollback through Helm release " + s.Release + " was not finished: the release says whether it landed (then it is only verified)"}
	}
	if s != nil && s.RollbackTo != "" && s.RollbackTo == cur.Hash && s.Hash != cur.Hash {
		// The workload runs what the guard's rollback put back.
		if s.Phase == PhaseRollingBack {
			return Decision{Action: ActVerify, Reason: "the rollback landed but was not verified: verifying it, not rolling back again"}
		}
		return Decision{Action: ActNothing, Reason: "the current revision is what the guard's rollback put back (" + s.Phase + ")"}
	}
	if cur.KnownGood {
		return Decision{Action: ActNothing, Reason: "the current revision is stamped known-good"}
	}
	return Decision{Action: ActGuard, Reason: "new rollout"}
}
