package helmrelease

import (
	"context"
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
)

// MarkGood verifies the current revision of a release (every Deployment,
// StatefulSet and DaemonSet with rollout.Status) and marks it good, or failed when a workload is not
// healthy; a CI pipeline runs it after `helm upgrade`. It refuses a
// revision Helm did not record as deployed.
func (u *Undo) MarkGood(ctx context.Context, release string) (*MarkGoodResult, error) {
	revs, err := u.readRevisions(ctx, release)
	if err != nil {
		return nil, err
	}
	cur := revs[len(revs)-1]
	res := &MarkGoodResult{Release: release, Namespace: u.Namespace, Revision: cur.Revision.Revision}
	if cur.Status != "deployed" {
		return res, outcome.AsRefused(fmt.Errorf("revision %d of release %s is %s, not deployed: only a deployed revision can be marked good", cur.Revision.Revision, release, cur.Status))
	}
	objs, err := parseManifest(cur.rel.Manifest, u.Namespace)
	if err != nil {
		return res, err
	}
	res.Workloads = u.verify(ctx, workloads(objs), false)
	mk := Mark{Verdict: MarkGood, At: u.clock().Now(), By: u.by("mark-good"), Hash: manifestHash(cur.rel.Manifest)}
	var bad []string
	var worst error
	for _, w := range res.Workloads {
		if err := w.Err(); err != nil {
			bad, worst = append(bad, w.Workload().String()+": "+w.Reason), err
		}
	}
	if worst != nil {
		mk.Verdict, mk.Reason = MarkFailed, strings.Join(bad, "; ")
	}
	m := u.marks()
	m.release = release
	if err := m.write(ctx, cur.Revision.Revision, mk); err != nil {
		return res, err
	}
	res.Marked = mk.Verdict
	if worst != nil {
		return res, outcome.As(outcome.KindOf(worst), fmt.Errorf("revision %d of release %s is not healthy, marked failed: %w", cur.Revision.Revision, release, worst))
	}
	return res, nil
}

// MarkFailed marks revision (0: the current one) of a release failed with
// reason, so that no undo picks it and history says why: guard does it to
// a release it judged bad, before rolling it back.
func (u *Undo) MarkFailed(ctx context.Context, release string, revision int, reason string) (*MarkResult, error) {
	revs, err := u.readRevisions(ctx, release)
	if err != nil {
		return nil, err
	}
	r := revs[len(revs)-1]
	if revision != 0 {
		found := false
		for _, x := range revs {
			if x.Revision.Revision == revision {
				r, found = x, true
			}
		}
		if !found {
			return nil, outcome.AsRefused(fmt.Errorf("release %s has no revision %d; revisions that exist: %s", release, revision, revisionList(revs)))
		}
	}
	m := u.marks()
	m.release = release
	mk := Mark{Verdict: MarkFailed, At: u.clock().Now(), By: u.by("mark-failed"), Hash: manifestHash(r.rel.Manifest), Reason: reason}
	if err := m.write(ctx, r.Revision.Revision, mk); err != nil {
		return nil, err
	}
	return &MarkResult{Release: release, Namespace: u.Namespace, Revision: r.Revision.Revision, Marked: MarkFailed}, nil
}
