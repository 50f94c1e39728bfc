package helmrelease

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rel "helm.sh/helm/v4/pkg/release/v1"
)

// History lists the revisions of a release.
type History struct {
	Config
}

// revision is a Revision with the release record it was judged from.
type revision struct {
	Revision
	rel *rel.Release
}

// Run reads the release's history through Helm's storage and rollback's marks.
func (h History) Run(ctx context.Context, release string) (*HistoryResult, error) {
	revs, err := h.readRevisions(ctx, release)
	if err != nil {
		return nil, err
	}
	res := &HistoryResult{Release: release, Namespace: h.Namespace}
	for _, r := range revs {
		res.Revisions = append(res.Revisions, r.Revision)
		if r.Current {
			res.Current = r.Revision.Revision
		}
		if r.LastGood {
			res.LastGood = r.Revision.Revision
		}
	}
	return res, nil
}

// readRevisions judges every revision of release through a new Helm
// configuration.
func (c *Config) readRevisions(ctx context.Context, release string) ([]revision, error) {
	cfg, err := c.action()
	if err != nil {
		return nil, err
	}
	return c.revisions(ctx, cfg, release)
}

// revisions reads the history and judges every revision.
func (c *Config) revisions(ctx context.Context, cfg *action.Configuration, release string) ([]revision, error) {
	rels, err := history(cfg, release, c.Namespace)
	if err != nil {
		return nil, err
	}
	m := c.marks()
	m.release = release
	mk, err := m.read(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]revision, len(rels))
	lastGood := -1
	for i, r := range rels {
		out[i] = judge(r, mk[r.Version])
		if out[i].Health == HealthGood {
			lastGood = i
		}
	}
	if len(out) > 0 {
		out[len(out)-1].Current = true
	}
	if lastGood >= 0 {
		out[lastGood].LastGood = true
	}
	return out, nil
}

// judge turns a release record and its mark into a revision.
func judge(r *rel.Release, mk Mark) revision {
	rv := Revision{Revision: r.Version, Status: string(status(r))}
	if r.Chart != nil && r.Chart.Metadata != nil {
		rv.Chart = r.Chart.Metadata.Name + "-" + r.Chart.Metadata.Version
		rv.AppVersion = r.Chart.Metadata.AppVersion
	}
	if r.Info != nil {
		rv.Description, rv.Updated = r.Info.Description, r.Info.LastDeployed
	}
	valid := mk.Verdict != "" && mk.Hash == manifestHash(r.Manifest)
	switch {
	case isPending(r):
		rv.Health, rv.HealthDetail = HealthPending, fmt.Sprintf("helm %s since %s", rv.Status, rv.Updated.UTC().Format(time.RFC3339))
	case valid && mk.Verdict == MarkFailed:
		rv.Health, rv.HealthDetail = HealthFailed, fmt.Sprintf("%s %s: %s", mk.By, mk.At.UTC().Format(time.RFC3339), mk.Reason)
	case status(r) == "failed":
		rv.Health, rv.HealthDetail = HealthFailed, "helm: "+rv.Description
	case valid && mk.Verdict == MarkGood:
		rv.Health, rv.HealthDetail = HealthGood, fmt.Sprintf("%s %s", mk.By, mk.At.UTC().Format(time.RFC3339))
	default:
		rv.Health = HealthUnverified
		if mk.Verdict != "" {
			rv.HealthDetail = "a mark exists, but for another manifest (the release was reinstalled)"
		}
	}
	return revision{Revision: rv, rel: r}
}
