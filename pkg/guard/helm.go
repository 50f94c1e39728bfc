package guard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Rollback is what a guard's rollback did: the undo of the workload, or,
// for a workload a Helm release manages, the undo of the release.
type Rollback struct {
	// Undo is the workload's undo (rollout.Undo).
	Undo *rollout.UndoResult `json:"undo,omitempty"`
	// Release names the Helm release the workload was rolled back through.
	Release string `json:"release,omitempty"`
	// Helm is the release's undo (Helm's rollback, verified and marked).
	Helm *helmtarget.UndoResult `json:"helm,omitempty"`
	// Verified is the verification of a release whose rollback landed
	// before (a controller that took over): nothing rolled back twice.
	Verified *helmtarget.MarkGoodResult `json:"verified,omitempty"`
	// URLs says why a check URL failed after the release's rollback.
	URLs string `json:"urls,omitempty"`
}

// Verdict is how the rollback ended.
func (r *Rollback) Verdict() outcome.Verdict {
	switch {
	case r == nil:
		return rollout.VerdictError
	case r.Undo != nil:
		return r.Undo.Verdict
	case r.Helm == nil:
		return rollout.VerdictError
	case r.URLs != "":
		return rollout.VerdictUnhealthy
	case r.Helm.Verdict == helmtarget.VerdictSkipped && r.Verified != nil:
		if r.Verified.Marked == helmtarget.MarkGood {
			return rollout.VerdictHealthy
		}
		return rollout.VerdictUnhealthy
	}
	return r.Helm.Verdict
}

// Reason says why a rollback did not end healthy.
func (r *Rollback) Reason() string {
	switch {
	case r == nil:
		return ""
	case r.Undo != nil:
		return r.Undo.Reason
	case r.URLs != "":
		return r.URLs
	case r.Helm != nil && r.Helm.Plan != nil && r.Helm.Verdict == helmtarget.VerdictSkipped && r.Verified == nil:
		return r.Helm.Plan.Reason
	case r.Helm != nil:
		return r.Helm.Reason()
	}
	return ""
}

// Moved returns the revisions a rollback went from and to and the new
// one ("" when nothing was rolled back), for messages: "revision 3 to
// revision 1 (now 4)", "revision 3 to revision 1 of Helm release web (now 4)".
func (r *Rollback) Moved() string {
	switch {
	case r == nil:
		return ""
	case r.Undo != nil && r.Undo.ToRevision != 0:
		return fmt.Sprintf("revision %d to revision %d (now %d)", r.Undo.FromRevision, r.Undo.ToRevision, r.Undo.NewRevision)
	case r.Helm != nil && r.Helm.Plan != nil && r.Helm.NewRevision != 0:
		p := r.Helm.Plan
		return fmt.Sprintf("revision %d to revision %d of Helm release %s (now %d)", p.From.Revision, p.To.Revision, r.Release, r.Helm.NewRevision)
	case r.Verified != nil:
		return fmt.Sprintf("a bad revision to revision %d of Helm release %s (rolled back before, verified now)", r.Verified.Revision, r.Release)
	}
	return ""
}

// helmOwner returns the Helm release that manages workload w (any kind),
// nil when none does or Releases is nil (the workload's own undo refuses a
// Helm-managed workload then, as `rollback app undo` does).
func (g *Guard) helmOwner(ctx context.Context, w rollout.Workload) (*ownership.Owner, error) {
	if g.Releases == nil {
		return nil, nil
	}
	info, err := rollout.GetWorkload(ctx, g.Clients, w.String())
	if err != nil {
		return nil, err
	}
	return ownership.HelmReleaseOf(string(info.Kind), info.Object), nil
}

// releaseRef names the release o in the guard's cluster.
func (g *Guard) releaseRef(o *ownership.Owner) helmtarget.Ref {
	return helmtarget.Ref{Context: g.Context, Namespace: o.Namespace, Name: o.Name}
}

// releaseOptions are the settings of guard's operations on a release: the
// verification without its check URLs (guard checks them itself, with its
// own HTTP client), marks by "guard".
func (g *Guard) releaseOptions() helmtarget.Options {
	v := g.Verification
	if v.Timeout <= 0 {
		v.Timeout = 5 * time.Minute
	}
	v.CheckURLs = nil
	return helmtarget.Options{Verification: v, MaxHistory: helmtarget.DefaultMaxHistory, By: stampBy}
}

// releaseLock is the lock of release o, the one `rollback run` and
// `rollback helm undo` take.
func (g *Guard) releaseLock(o *ownership.Owner) []lifecycle.LockTarget {
	leases := g.Leases
	if g.ReleaseLeases != nil {
		leases = g.ReleaseLeases(o.Namespace)
	}
	if leases == nil {
		return nil
	}
	return []lifecycle.LockTarget{lifecycle.Workload(leases, o.Namespace, "helmrelease", o.Name)}
}

// rollBackRelease rolls workload w back through its Helm release o
// (Helm's rollback to the release's last known good revision, every
// workload of it verified, the new revision marked), under the
// workload's and the release's locks, journaled in in as the app step of
// target helmrelease/NAME. A release whose rollback landed before (the
// current revision renders the good revision's manifest) is only verified
// and marked.
func (g *Guard) rollBackRelease(ctx context.Context, in *lifecycle.Incident, w rollout.Workload, o *ownership.Owner, before map[string]any) (*Rollback, error) {
	ref := g.releaseRef(o)
	target := ref.Target()
	ctx, obs, err := g.lockAndStart(ctx, in, target, before, true, append(g.workloadLock(w), g.releaseLock(o)...)...)
	if err != nil {
		return nil, err
	}
	res := &Rollback{Release: o.Name}
	opts := g.releaseOptions()
	var rec helmtarget.Recorder
	if in != nil {
		rec = helmtarget.RecorderFunc(func(ctx context.Context, e journal.Entry) (journal.Entry, error) {
			e.Step, e.Target = "app", target
			return in.Append(ctx, e)
		})
	}
	res.Helm, err = g.Releases.Undo(ctx, ref, opts, obs, rec)
	if err == nil && res.Helm != nil && res.Helm.Verdict == helmtarget.VerdictSkipped {
		progress.Emit(obs, progress.Event{Time: g.clock().Now(), Kind: progress.Verifying, Source: "guard", Target: target})
		res.Verified, err = g.Releases.MarkGood(ctx, ref, opts, obs)
	}
	if err == nil && res.Verdict() == rollout.VerdictHealthy && len(g.Verification.CheckURLs) > 0 {
		if bad := g.checkURLsOnce(ctx); bad != "" {
			res.URLs = bad
			revision := 0
			if res.Helm != nil {
				revision = res.Helm.NewRevision
			}
			if _, merr := g.Releases.MarkFailed(ctx, ref, revision, bad, opts); merr != nil {
				progress.Emit(g.Observer, progress.Event{Time: g.clock().Now(), Kind: progress.Warning, Source: "guard", Target: target, Message: "warning: " + merr.Error()})
			}
			err = outcome.AsUnhealthy(fmt.Errorf("release %s was rolled back, but %s", o.Name, bad))
		}
	}
	e := journal.Entry{Step: "app", Action: journal.ActionStepCompleted, Target: target, Before: before, Result: journal.ResultOK}
	after := map[string]any{"verdict": res.Verdict(), "workload": w.String()}
	if w.Kind == rollout.KindDeployment {
		after["deployment"] = w.Name
	}
	if h := res.Helm; h != nil && h.Plan != nil {
		after["restoredRevision"], after["chart"] = h.Plan.To.Revision, h.Plan.To.Chart
		if h.NewRevision != 0 {
			after["revision"], after["marked"] = h.NewRevision, h.Marked
		}
	}
	if v := res.Verified; v != nil {
		after["revision"], after["marked"] = v.Revision, v.Marked
	}
	e.After = after
	if err != nil || res.Verdict() != rollout.VerdictHealthy {
		e.Action, e.Result = journal.ActionStepFailed, journal.ResultFailed
		e.Error = res.Reason()
		if err != nil {
			e.Error = err.Error()
		}
	}
	if in != nil {
		in.Log(ctx, e)
	}
	return res, err
}

// checkURLsOnce asks every check URL once, after a release's rollback; it
// returns why one failed, "" when all answered 2xx.
func (g *Guard) checkURLsOnce(ctx context.Context) string {
	hc := g.httpClient()
	var bad []string
	for _, u := range g.Verification.CheckURLs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			var resp *http.Response
			if resp, err = hc.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("check %s: %s", redact.URL(u), redact.String(err.Error())))
		}
	}
	return strings.Join(bad, "; ")
}

// markRelease marks the current revision of the guarded workload's Helm
// release good (it passed its bake: every workload of the release is
// verified first) or failed (it went bad), as `rollback helm` marks it; a
// failure is a warning, never a change of verdict.
func (r *run) markRelease(ctx context.Context, good bool, reason string) {
	g := r.g
	o := r.helm(ctx)
	if o == nil {
		return
	}
	ref, opts := g.releaseRef(o), g.releaseOptions()
	var err error
	if good {
		opts.Verification.Settle = 0 // the bake watched it
		var mg *helmtarget.MarkGoodResult
		if mg, err = g.Releases.MarkGood(ctx, ref, opts, g.Observer); mg != nil {
			r.printf("%s: revision %d of Helm release %s marked %s", r.name, mg.Revision, o.Name, mg.Marked)
		}
	} else {
		var m *helmtarget.MarkResult
		if m, err = g.Releases.MarkFailed(ctx, ref, 0, reason, opts); m != nil {
			r.printf("%s: revision %d of Helm release %s marked failed", r.name, m.Revision, o.Name)
		}
	}
	if err != nil {
		w := fmt.Sprintf("mark Helm release %s: %v", o.Name, err)
		r.res.Warnings = append(r.res.Warnings, w)
		r.emit(progress.Warning, "warning: "+w, nil)
	}
}

// helm returns the Helm release of the guarded workload (read once), nil
// when none manages it or Releases is nil.
func (r *run) helm(ctx context.Context) *ownership.Owner {
	if !r.helmRead {
		r.helmRead = true
		o, err := r.g.helmOwner(ctx, r.w)
		if err != nil {
			r.res.Warnings = append(r.res.Warnings, err.Error())
		}
		r.release = o
		if o != nil {
			r.res.Release = o.Name
		}
	}
	return r.release
}
