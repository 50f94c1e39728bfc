package configs

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Verifier watches a Deployment's rollout and verifies it; *rollout.Status
// is the implementation, so a configuration rollback is watched and
// verified exactly like an application rollback.
type Verifier interface {
	Run(ctx context.Context, deployment string) (*rollout.StatusResult, error)
}

// Undo rolls back one ConfigMap or Secret a Deployment uses.
type Undo struct {
	Deployments appsv1client.DeploymentInterface
	Store       Store
	// Verify watches and verifies the rollout after the change.
	Verify Verifier
	Clock  clock.PassiveClock
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// DataOnly restores the data of an unversioned object and stops there:
	// no restart and no verification, because the caller rolls the pods out
	// itself (rollback run's app step, whose template undo recreates them
	// with the restored data: one rollout for both steps). The verdict is
	// "restored". A versioned object is refused: its switch is a rollout.
	DataOnly bool
	// Continue resumes an undo that was interrupted after a write: after
	// ContinueRestored the data (or the template switch) already landed and
	// only the restart (unversioned objects) and the verification are left;
	// after ContinueRestarted only the verification is. A plan that finds
	// the contents already restored is then not a reason to skip.
	Continue Phase

	// Config names the object: NAME, KIND/NAME, or a versioned base name.
	Config string
	// To is the target: a version tag or name, or a snapshot name; empty
	// means the previous version, or the newest snapshot that differs.
	To string
	// Manifest, when not nil, holds the contents to restore (--from-file);
	// ManifestName names it in messages.
	Manifest     []byte
	ManifestName string
	DryRun       bool
	// Keep is how many snapshots per object to keep (0: DefaultKeep).
	Keep int
	// Confirm, when set, is asked before anything changes; false cancels.
	Confirm func(*Plan) (bool, error)
	// BeforeWrite, when set, runs after the snapshot and just before the
	// write (tests use it to change the object concurrently).
	BeforeWrite func(ctx context.Context, p *Plan) error
}

// Phase names how far an interrupted undo got (see Undo.Continue and the
// Data of its Written events).
type Phase string

// String returns the phase's name.
func (p Phase) String() string { return string(p) }

// The phases an undo reports in its Written events.
const (
	// ContinueRestored: the data was restored or the template switched.
	ContinueRestored Phase = "restored"
	// ContinueRestarted: the Deployment was restarted after the restore.
	ContinueRestarted Phase = "restarted"
)

// UndoResult reports what an undo did.
type UndoResult struct {
	*Plan
	// Verdict is "dry-run", "skipped", "cancelled", "rolled-back",
	// "unhealthy" or "timeout".
	Verdict  string                `json:"verdict"`
	Snapshot *SnapshotResult       `json:"snapshot,omitempty"`
	Method   string                `json:"method,omitempty"`
	Status   *rollout.StatusResult `json:"status,omitempty"`
	// Duration is the time the whole undo took (seconds in JSON).
	Duration rollout.Duration `json:"duration"`
}

// Run plans the rollback of u.Config for the named Deployment and, unless
// DryRun or nothing is to do, snapshots the current contents, writes the
// change with a resourceVersion precondition, rolls the Deployment out
// (template switch or restart) and verifies it with Verify.
func (u *Undo) Run(ctx context.Context, deployment string) (*UndoResult, error) {
	start := u.Clock.Now()
	p, err := u.plan(ctx, deployment)
	if err != nil {
		return nil, err
	}
	res := &UndoResult{Plan: p}
	defer func() { res.Duration = rollout.Duration(u.Clock.Since(start)) }()
	if u.DataOnly && p.Strategy == StrategyVersioned {
		return nil, outcome.AsRefused(fmt.Errorf("restore %s: a versioned object is switched in the pod template, which rolls the pods; restore it with a rollout", p.current.Ref()))
	}
	if u.Continue != "" && !u.DryRun {
		if u.DataOnly {
			res.Verdict = "restored"
			return res, nil
		}
		return u.continueAfterWrite(ctx, deployment, res)
	}
	switch {
	case p.Skipped != "":
		res.Verdict = "skipped"
		return res, nil
	case u.DryRun:
		res.Verdict = "dry-run"
		return res, nil
	}
	if u.Confirm != nil {
		ok, err := u.Confirm(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, outcome.AsRefused(errors.New("cancelled; nothing was changed"))
		}
	}
	if p.Missing {
		u.emit(progress.Info, p, fmt.Sprintf("%s does not exist: nothing to snapshot", p.current.Ref()), nil)
	} else {
		snap, err := Snapshotter{Store: u.Store, Clock: u.Clock, Keep: u.Keep}.Take(ctx, p.current, "before config undo to "+p.To)
		if err != nil {
			return nil, fmt.Errorf("%w; nothing was changed", err)
		}
		res.Snapshot = snap
		u.emit(progress.Info, p, fmt.Sprintf("snapshot %s of %s (resourceVersion %s)", snap.Snapshot, p.current.Ref(), p.current.ResourceVersion), nil)
	}
	if u.BeforeWrite != nil {
		if err := u.BeforeWrite(ctx, p); err != nil {
			return nil, err
		}
	}
	if p.Strategy == StrategyVersioned {
		if err := u.switchTemplate(ctx, p); err != nil {
			return nil, err
		}
		res.Method = "template update"
		u.emit(progress.Written, p, "", ContinueRestored)
	} else {
		_, method, err := u.Store.Restore(ctx, p.current, p.target)
		if err != nil {
			return nil, err
		}
		res.Method = method
		how := "server-side apply"
		if method == "update" {
			how = "update (keys removed)"
		}
		u.emit(progress.Written, p, fmt.Sprintf("restored %s from %s (%s, field manager %s)", p.current.Ref(), p.To, how, FieldManager), ContinueRestored)
		if u.DataOnly {
			res.Verdict = "restored"
			return res, nil
		}
		if err := u.restart(ctx, deployment, p); err != nil {
			return res, err
		}
	}
	return u.verify(ctx, deployment, res)
}

// restart rolls the Deployment's pods so that they pick up restored data.
func (u *Undo) restart(ctx context.Context, deployment string, p *Plan) error {
	if _, err := rollout.Restart(ctx, u.Deployments, deployment, u.Clock.Now()); err != nil {
		return fmt.Errorf("restart deployment %s/%s after restoring %s: %w; the data is restored, run `rollback app restart %s` so that the pods pick it up",
			p.Namespace, deployment, p.current.Ref(), err, deployment)
	}
	u.emit(progress.Written, p, fmt.Sprintf("restarted deployment %s so that its pods pick up the restored data", deployment), ContinueRestarted)
	return nil
}

// continueAfterWrite finishes an undo interrupted after its write: the
// restart an unversioned object still needs, then the verification. Both
// run whatever the plan says, since the plan sees the contents restored.
func (u *Undo) continueAfterWrite(ctx context.Context, deployment string, res *UndoResult) (*UndoResult, error) {
	p := res.Plan
	res.Method = "continued after " + string(u.Continue)
	if u.Continue == ContinueRestored && p.Strategy != StrategyVersioned {
		if err := u.restart(ctx, deployment, p); err != nil {
			return res, err
		}
	}
	return u.verify(ctx, deployment, res)
}

// verify watches and verifies the rollout of the change.
func (u *Undo) verify(ctx context.Context, deployment string, res *UndoResult) (*UndoResult, error) {
	u.emit(progress.Verifying, res.Plan, "", nil)
	status, err := u.Verify.Run(ctx, deployment)
	res.Status = status
	switch code := outcome.KindOf(err); {
	case err == nil:
		res.Verdict = "rolled-back"
	case code == outcome.TimedOut:
		res.Verdict = "timeout"
	default:
		res.Verdict = "unhealthy"
	}
	return res, err
}

// switchTemplate points the Deployment's template at the target version,
// conditioned on the resourceVersion the plan read.
func (u *Undo) switchTemplate(ctx context.Context, p *Plan) error {
	d := p.deployment.DeepCopy()
	places := SwitchReferences(&d.Spec.Template.Spec, p.Kind, p.Name, p.To)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations["kubernetes.io/change-cause"] = fmt.Sprintf("rollback config undo: %s %s -> %s", p.Kind.lower(), p.Name, p.To)
	if _, err := u.Deployments.Update(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		if apierrors.IsConflict(err) {
			return outcome.AsRefused(fmt.Errorf("switch deployment %s/%s to %s: the deployment was changed by someone else after it was read at resourceVersion %s; nothing was overwritten: look at the change, then run the command again",
				p.Namespace, p.Deployment, p.To, d.ResourceVersion))
		}
		return fmt.Errorf("switch deployment %s/%s to %s: %w", p.Namespace, p.Deployment, p.To, err)
	}
	noun := "places"
	if len(places) == 1 {
		noun = "place"
	}
	u.emit(progress.Info, p, fmt.Sprintf("switched deployment %s from %s to %s in %d %s (%s)", p.Deployment, p.Name, p.To, len(places), noun, joinPlaces(places)), nil)
	return nil
}

func joinPlaces(places []string) string {
	out := ""
	for i, p := range places {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

// emit sends one event about the object of p.
func (u *Undo) emit(kind progress.Kind, p *Plan, msg string, data any) {
	progress.Emit(u.Observer, progress.Event{Time: u.Clock.Now(), Kind: kind, Source: "configs", Target: p.current.Ref(), Message: msg, Data: data})
}
