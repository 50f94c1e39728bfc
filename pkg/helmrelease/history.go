package helmrelease

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rel "helm.sh/helm/v4/pkg/release/v1"
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

	rel *rel.Release
}

// History lists the revisions of a release.
type History struct {
	Config
}

// HistoryResult is the history of a release.
type HistoryResult struct {
	Release   string     `json:"release"`
	Namespace string     `json:"namespace"`
	Current   int        `json:"current"`
	LastGood  int        `json:"lastGood"`
	Revisions []Revision `json:"revisions"`
}

// Run reads the release's history through Helm's storage and rollback's marks.
func (h History) Run(ctx context.Context, release string) (*HistoryResult, error) {
	cfg, err := h.action()
	if err != nil {
		return nil, err
	}
	revs, err := h.revisions(ctx, cfg, release)
	if err != nil {
		return nil, err
	}
	res := &HistoryResult{Release: release, Namespace: h.Namespace, Revisions: revs}
	for _, r := range revs {
		if r.Current {
			res.Current = r.Revision
		}
		if r.LastGood {
			res.LastGood = r.Revision
		}
	}
	return res, nil
}

// revisions reads the history and judges every revision.
func (c *Config) revisions(ctx context.Context, cfg *action.Configuration, release string) ([]Revision, error) {
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
	out := make([]Revision, len(rels))
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

// judge turns a release record and its mark into a Revision.
func judge(r *rel.Release, mk Mark) Revision {
	rv := Revision{Revision: r.Version, Status: string(status(r)), rel: r}
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
	return rv
}
