package helmrelease

import (
	"context"
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/rollout"
)

// MarkGoodResult is the outcome of MarkGood.
type MarkGoodResult struct {
	Release   string                  `json:"release"`
	Namespace string                  `json:"namespace"`
	Revision  int                     `json:"revision"`
	Marked    string                  `json:"marked"`
	Workloads []*rollout.StatusResult `json:"workloads"`
}

// MarkGood verifies the current revision of a release (every Deployment
// with rollout.Status) and marks it good, or failed when a workload is not
// healthy; a CI pipeline runs it after `helm upgrade`. It refuses a
// revision Helm did not record as deployed.
func (u *Undo) MarkGood(ctx context.Context, release string) (*MarkGoodResult, error) {
	cfg, err := u.action()
	if err != nil {
		return nil, err
	}
	revs, err := u.revisions(ctx, cfg, release)
	if err != nil {
		return nil, err
	}
	cur := revs[len(revs)-1]
	res := &MarkGoodResult{Release: release, Namespace: u.Namespace, Revision: cur.Revision}
	if cur.Status != "deployed" {
		return res, outcome.AsRefused(fmt.Errorf("revision %d of release %s is %s, not deployed: only a deployed revision can be marked good", cur.Revision, release, cur.Status))
	}
	objs, err := parseManifest(cur.rel.Manifest, u.Namespace)
	if err != nil {
		return res, err
	}
	res.Workloads = u.verify(ctx, deployments(objs))
	mk := Mark{Verdict: MarkGood, At: u.clock().Now(), By: "mark-good", Hash: manifestHash(cur.rel.Manifest)}
	var bad []string
	var worst error
	for _, w := range res.Workloads {
		if err := w.Err(); err != nil {
			bad, worst = append(bad, w.Deployment+": "+w.Reason), err
		}
	}
	if worst != nil {
		mk.Verdict, mk.Reason = MarkFailed, strings.Join(bad, "; ")
	}
	m := u.marks()
	m.release = release
	if err := m.write(ctx, cur.Revision, mk); err != nil {
		return res, err
	}
	res.Marked = mk.Verdict
	if worst != nil {
		return res, outcome.As(outcome.KindOf(worst), fmt.Errorf("revision %d of release %s is not healthy, marked failed: %w", cur.Revision, release, worst))
	}
	return res, nil
}
